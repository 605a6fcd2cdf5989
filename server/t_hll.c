/*
 * t_hll.c - HyperLogLog: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST, over
 * string values in Redis 7.0's exact representation.
 *
 * Design choices a reader must know:
 * - The value is a plain string (inline in the keyspace entry) holding
 *   Redis's format byte for byte: a 16-byte header ("HYLL", encoding 0
 *   dense / 1 sparse, 3 unused bytes, the cached cardinality as 8 bytes
 *   little endian whose top bit marks it invalid), then either 16384 6-bit
 *   registers packed LSB first (12288 bytes) or sparse opcodes (ZERO
 *   00xxxxxx, XZERO 01xxxxxx yyyyyyyy, VAL 1vvvvvxx). Every update follows
 *   Redis's algorithm step by step (the split of a run, the merge of at most
 *   five opcodes after it, promotion to dense when a value exceeds 32 or the
 *   string would pass hll-sparse-max-bytes), so GET returns the bytes
 *   redis-server holds after the same commands, and values copied from it
 *   (GET/SET, DUMP/RESTORE, RDB) are HLLs here.
 * - A dense value is changed in place (its size never changes; the lookup
 *   for write has kept the snapshot's pre-image). A sparse value is worked
 *   on in a private buffer and stored once at the end (db_store_string
 *   reuses the entry when it fits): an error in the middle of PFADD leaves
 *   the key untouched (Redis keeps the registers set before the error).
 * - Corrupt values answer INVALIDOBJ as Redis does, with the same walks of
 *   the sparse runs, but every index is 64-bit and checked before a write:
 *   Redis 7.0's int run counter can wrap on a huge crafted value and write
 *   out of bounds; here nothing is read or written outside the value.
 *   A truncated XZERO at the very end reads its missing byte as 0 (Redis
 *   reads the string's terminator) except in PFADD, which refuses it.
 * - Writes go through the funnel: PFADD and PFMERGE raise "pfadd" ($), a
 *   PFCOUNT that refreshes the cached cardinality and a PFDEBUG that
 *   converts to dense count a change with no event (Redis: dirty++, so the
 *   command is propagated verbatim).
 */
#include "client.h"
#include "command_modules.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "entry.h"
#include "mem.h"
#include "notify.h"
#include "snapshot.h"
#include "stats.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HLL_P 14
#define HLL_Q (64 - HLL_P)
#define HLL_REGISTERS (1 << HLL_P)
#define HLL_BITS 6
#define HLL_REGISTER_MAX ((1 << HLL_BITS) - 1)
#define HLL_HDR_SIZE 16
#define HLL_DENSE_BYTES ((HLL_REGISTERS * HLL_BITS + 7) / 8)
#define HLL_DENSE_SIZE (HLL_HDR_SIZE + HLL_DENSE_BYTES)
#define HLL_DENSE 0
#define HLL_SPARSE 1
#define HLL_ENC_OFF 4  /* encoding byte */
#define HLL_CARD_OFF 8 /* cached cardinality, 8 bytes little endian */
#define HLL_SPARSE_VAL_MAX_VALUE 32
#define HLL_SPARSE_VAL_MAX_LEN 4
#define HLL_SPARSE_ZERO_MAX_LEN 64
#define HLL_SPARSE_XZERO_MAX_LEN 16384
#define HLL_ALPHA_INF 0.721347520444481703680 /* 0.5 / ln(2) */
#define HLL_SEED 0xadc83b19ULL

#define ERR_HLL_INVALID "INVALIDOBJ Corrupted HLL object detected"
#define ERR_HLL_WRONGTYPE "WRONGTYPE Key is not a valid HyperLogLog string value."

/* ------------------------------------------------------------ opcodes */

static inline bool op_is_zero(const uint8_t *p) { return (*p & 0xc0) == 0; }
static inline bool op_is_xzero(const uint8_t *p) { return (*p & 0xc0) == 0x40; }
static inline bool op_is_val(const uint8_t *p) { return (*p & 0x80) != 0; }
static inline long op_zero_len(const uint8_t *p) { return (*p & 0x3f) + 1; }
static inline int op_val_value(const uint8_t *p) { return ((*p >> 2) & 0x1f) + 1; }
static inline long op_val_len(const uint8_t *p) { return (*p & 0x3) + 1; }
/* XZERO's run; its second byte read as 0 past `end` (Redis reads the
 * string's terminator there). */
static inline long op_xzero_len(const uint8_t *p, const uint8_t *end) {
    return (((long)(*p & 0x3f) << 8) | (p + 1 < end ? p[1] : 0)) + 1;
}
static inline void op_val_set(uint8_t *p, int val, long len) {
    *p = (uint8_t)(((val - 1) << 2 | (len - 1)) | 0x80);
}
static inline void op_zero_set(uint8_t *p, long len) { *p = (uint8_t)(len - 1); }
static inline void op_xzero_set(uint8_t *p, long len) {
    p[0] = (uint8_t)(((len - 1) >> 8) | 0x40);
    p[1] = (uint8_t)((len - 1) & 0xff);
}
/* A run of len zeros as Redis writes it: ZERO up to 64, XZERO beyond;
 * returns the byte after it. */
static inline uint8_t *op_zeros_set(uint8_t *p, long len) {
    if (len > HLL_SPARSE_ZERO_MAX_LEN) {
        op_xzero_set(p, len);
        return p + 2;
    }
    op_zero_set(p, len);
    return p + 1;
}

/* ------------------------------------------------------------ hashing */

/* MurmurHash2, 64-bit version, read little endian (Redis's endian-neutral
 * variant, with its seed: the register of an element is part of the
 * format). */
static uint64_t murmur64a(const void *key, int len, unsigned seed) {
    const uint64_t m = 0xc6a4a7935bd1e995ULL;
    const int r = 47;
    uint64_t h = seed ^ ((uint64_t)(int64_t)len * m);
    const uint8_t *data = key;
    const uint8_t *end = data + (len - (len & 7));
    while (data != end) {
        uint64_t k = 0;
        for (int i = 7; i >= 0; i--) k = (k << 8) | data[i];
        k *= m;
        k ^= k >> r;
        k *= m;
        h ^= k;
        h *= m;
        data += 8;
    }
    switch (len & 7) {
    case 7: h ^= (uint64_t)data[6] << 48; /* fall through */
    case 6: h ^= (uint64_t)data[5] << 40; /* fall through */
    case 5: h ^= (uint64_t)data[4] << 32; /* fall through */
    case 4: h ^= (uint64_t)data[3] << 24; /* fall through */
    case 3: h ^= (uint64_t)data[2] << 16; /* fall through */
    case 2: h ^= (uint64_t)data[1] << 8;  /* fall through */
    case 1:
        h ^= (uint64_t)data[0];
        h *= m;
    }
    h ^= h >> r;
    h *= m;
    h ^= h >> r;
    return h;
}

/* The register an element goes to and the length of its 0..01 pattern
 * (1..Q+1). */
static uint8_t hll_pattern(const void *ele, size_t len, long *reg) {
    uint64_t hash = murmur64a(ele, (int)len, HLL_SEED);
    *reg = (long)(hash & (HLL_REGISTERS - 1));
    hash >>= HLL_P;
    hash |= (uint64_t)1 << HLL_Q;
    return (uint8_t)(__builtin_ctzll(hash) + 1);
}

/* ------------------------------------------------------------ dense registers */

/* Register i of the packed array r (12288 bytes, no byte read past it). */
static inline unsigned dense_get(const uint8_t *r, long i) {
    unsigned long byte = (unsigned long)i * HLL_BITS / 8, fb = (unsigned long)i * HLL_BITS & 7;
    unsigned v = r[byte] >> fb;
    if (fb > 8 - HLL_BITS) v |= (unsigned)r[byte + 1] << (8 - fb);
    return v & HLL_REGISTER_MAX;
}

static inline void dense_put(uint8_t *r, long i, unsigned v) {
    unsigned long byte = (unsigned long)i * HLL_BITS / 8, fb = (unsigned long)i * HLL_BITS & 7;
    r[byte] = (uint8_t)((r[byte] & ~(HLL_REGISTER_MAX << fb)) | (v << fb));
    if (fb > 8 - HLL_BITS)
        r[byte + 1] = (uint8_t)((r[byte + 1] & ~(HLL_REGISTER_MAX >> (8 - fb))) | (v >> (8 - fb)));
}

/* Raise register i to count; 1 if it changed. */
static inline int dense_set(uint8_t *r, long i, uint8_t count) {
    if (count <= dense_get(r, i)) return 0;
    dense_put(r, i, count);
    return 1;
}

static void dense_histogram(const uint8_t *r, long *h) {
    for (int j = 0; j < HLL_REGISTERS / 4; j++, r += 3) { /* 4 registers in 3 bytes */
        h[r[0] & 63]++;
        h[(r[0] >> 6 | r[1] << 2) & 63]++;
        h[(r[1] >> 4 | r[2] << 4) & 63]++;
        h[(r[2] >> 2) & 63]++;
    }
}

/* ------------------------------------------------------------ value checks */

static inline uint8_t hll_encoding(const uint8_t *v) { return v[HLL_ENC_OFF]; }
static inline void hll_invalidate(uint8_t *v) { v[HLL_CARD_OFF + 7] |= 0x80; }
static inline bool hll_cache_valid(const uint8_t *v) { return (v[HLL_CARD_OFF + 7] & 0x80) == 0; }

/* Redis's isHLLObjectOrReply: the value of e (a live key) as HLL bytes,
 * or NULL after the WRONGTYPE reply. With `unshare` (the commands that
 * may change it), an "embstr" value becomes "raw", as Redis's
 * dbUnshareStringValue makes it. */
static uint8_t *hll_value_or_reply(client *c, entry *e, size_t *len, bool unshare) {
    if (reply_wrong_type(c, e, OBJ_STRING)) return NULL;
    if (entry_encoding(e) == ENC_INT) goto invalid;
    const uint8_t *v = (const uint8_t *)entry_str(e, len);
    if (*len < HLL_HDR_SIZE || memcmp(v, "HYLL", 4) != 0 || hll_encoding(v) > HLL_SPARSE) goto invalid;
    if (hll_encoding(v) == HLL_DENSE && *len != HLL_DENSE_SIZE) goto invalid;
    if (unshare && entry_encoding(e) == ENC_EMBSTR) entry_set_encoding(e, ENC_RAW);
    return (uint8_t *)v;
invalid:
    add_reply_error(c, ERR_HLL_WRONGTYPE);
    return NULL;
}

/* ------------------------------------------------------------ sparse walks */

/* The register walk of hllSparseToDense and hllMerge: each VAL run is
 * given to fn(arg, first, run, value); valid when the runs cover exactly
 * 16384 registers. A VAL that would pass the last register makes the value
 * corrupt (Redis 7.0.15 as patched for CVE-2025-32023, the reference: the
 * original ignored what followed it). */
typedef void sparse_val_fn(void *arg, long first, long run, int value);

static bool sparse_walk(const uint8_t *p, const uint8_t *end, sparse_val_fn *fn, void *arg) {
    long idx = 0;
    while (p < end) {
        if (op_is_zero(p)) {
            idx += op_zero_len(p);
            p++;
        } else if (op_is_xzero(p)) {
            idx += op_xzero_len(p, end);
            p += 2;
        } else {
            long run = op_val_len(p);
            if (idx + run > HLL_REGISTERS) return false;
            fn(arg, idx, run, op_val_value(p));
            idx += run;
            p++;
        }
    }
    return idx == HLL_REGISTERS;
}

static void walk_to_dense(void *arg, long first, long run, int value) {
    for (long i = first; i < first + run; i++) dense_put(arg, i, (unsigned)value);
}

static void walk_to_max(void *arg, long first, long run, int value) {
    uint8_t *max = arg;
    for (long i = first; i < first + run; i++)
        if (value > max[i]) max[i] = (uint8_t)value;
}

/* The histogram of a sparse value (Redis's hllSparseRegHisto): every run
 * counts, invalid unless they cover exactly 16384 registers. */
static bool sparse_histogram(const uint8_t *p, const uint8_t *end, long *h) {
    long idx = 0;
    while (p < end) {
        long run;
        if (op_is_zero(p)) {
            run = op_zero_len(p);
            h[0] += run;
            p++;
        } else if (op_is_xzero(p)) {
            run = op_xzero_len(p, end);
            h[0] += run;
            p += 2;
        } else {
            run = op_val_len(p);
            h[op_val_value(p)] += run;
            p++;
        }
        idx += run;
    }
    return idx == HLL_REGISTERS;
}

/* Merge value v (validated header) into max[16384]; false when corrupt. */
static bool hll_merge_into(uint8_t *max, const uint8_t *v, size_t len) {
    if (hll_encoding(v) == HLL_DENSE) {
        const uint8_t *r = v + HLL_HDR_SIZE;
        for (int j = 0; j < HLL_REGISTERS / 4; j++, r += 3, max += 4) { /* 4 registers in 3 bytes */
            uint8_t x[4] = {(uint8_t)(r[0] & 63), (uint8_t)((r[0] >> 6 | r[1] << 2) & 63),
                            (uint8_t)((r[1] >> 4 | r[2] << 4) & 63), (uint8_t)(r[2] >> 2)};
            for (int k = 0; k < 4; k++)
                if (x[k] > max[k]) max[k] = x[k];
        }
        return true;
    }
    return sparse_walk(v + HLL_HDR_SIZE, v + len, walk_to_max, max);
}

/* ------------------------------------------------------------ estimator */

/* sigma and tau of Otmar Ertl, "New cardinality estimation algorithms for
 * HyperLogLog sketches" (arXiv:1702.01284), the estimator of Redis 7.0. */
static double hll_sigma(double x) {
    if (x == 1.) return INFINITY;
    double zp, y = 1, z = x;
    do {
        x *= x;
        zp = z;
        z += x * y;
        y += y;
    } while (zp != z);
    return z;
}

static double hll_tau(double x) {
    if (x == 0. || x == 1.) return 0.;
    double zp, y = 1.0, z = 1 - x;
    do {
        x = sqrt(x);
        zp = z;
        y *= 0.5;
        z -= pow(1 - x, 2) * y;
    } while (zp != z);
    return z / 3;
}

static uint64_t hll_estimate(const long *h) {
    double m = HLL_REGISTERS;
    double z = m * hll_tau((m - (double)h[HLL_Q + 1]) / m);
    for (int j = HLL_Q; j >= 1; --j) {
        z += (double)h[j];
        z *= 0.5;
    }
    z += m * hll_sigma((double)h[0] / m);
    return (uint64_t)llroundl(HLL_ALPHA_INF * m * m / z);
}

/* The cardinality of a validated value; false when a sparse one is corrupt. */
static bool hll_count(const uint8_t *v, size_t len, uint64_t *card) {
    long h[64] = {0};
    if (hll_encoding(v) == HLL_DENSE)
        dense_histogram(v + HLL_HDR_SIZE, h);
    else if (!sparse_histogram(v + HLL_HDR_SIZE, v + len, h))
        return false;
    *card = hll_estimate(h);
    return true;
}

static uint64_t raw_count(const uint8_t *max) {
    long h[64] = {0};
    for (int i = 0; i < HLL_REGISTERS; i++) h[max[i]]++;
    return hll_estimate(h);
}

/* ------------------------------------------------------------ working buffer */

/* A value being changed: Redis's sds, with room for the 3 bytes a split
 * may add. Owned by the command that made it. */
typedef struct {
    uint8_t *p;
    size_t len, cap;
} hll_buf;

static void buf_reserve(hll_buf *b, size_t need) {
    if (need <= b->cap) return;
    size_t cap = need < 64 ? 64 : need * 2;
    b->p = mem_realloc(b->p, cap);
    b->cap = cap;
}

static void buf_init_copy(hll_buf *b, const uint8_t *v, size_t len) {
    b->p = NULL;
    b->cap = 0;
    buf_reserve(b, len + 4);
    memcpy(b->p, v, len);
    b->len = len;
}

/* An empty HLL: sparse, one XZERO of 16384 registers (Redis's
 * createHLLObject). */
static void buf_init_empty(hll_buf *b) {
    uint8_t v[HLL_HDR_SIZE + 2] = {'H', 'Y', 'L', 'L', HLL_SPARSE};
    op_xzero_set(v + HLL_HDR_SIZE, HLL_SPARSE_XZERO_MAX_LEN);
    buf_init_copy(b, v, sizeof v);
}

/* Sparse to dense (Redis's hllSparseToDense): the header is kept (cached
 * cardinality and unused bytes included). False, b unchanged, when the
 * sparse runs are corrupt. */
static bool buf_to_dense(hll_buf *b) {
    if (hll_encoding(b->p) == HLL_DENSE) return true;
    uint8_t *d = mem_calloc(1, HLL_DENSE_SIZE + 4);
    memcpy(d, b->p, HLL_HDR_SIZE);
    d[HLL_ENC_OFF] = HLL_DENSE;
    if (!sparse_walk(b->p + HLL_HDR_SIZE, b->p + b->len, walk_to_dense, d + HLL_HDR_SIZE)) {
        mem_free(d);
        return false;
    }
    mem_free(b->p);
    b->p = d;
    b->len = HLL_DENSE_SIZE;
    b->cap = HLL_DENSE_SIZE + 4;
    return true;
}

/* Raise register `index` of a sparse value to `count` (Redis's
 * hllSparseSet, same steps, same bytes). 1 when it changed, 0 when not,
 * -1 when the value is corrupt. May promote b to dense. */
static int sparse_set(hll_buf *b, long index, uint8_t count, size_t max_bytes) {
    if (count > HLL_SPARSE_VAL_MAX_VALUE) goto promote;
    buf_reserve(b, b->len + 4);

    /* Step 1: the opcode covering index. */
    uint8_t *sparse = b->p + HLL_HDR_SIZE, *p = sparse, *end = b->p + b->len, *prev = NULL;
    long first = 0, span = 0;
    while (p < end) {
        long oplen = 1;
        if (op_is_zero(p)) {
            span = op_zero_len(p);
        } else if (op_is_val(p)) {
            span = op_val_len(p);
        } else {
            span = op_xzero_len(p, end);
            oplen = 2;
        }
        if (index <= first + span - 1) break;
        prev = p;
        p += oplen;
        first += span;
    }
    if (span == 0 || p >= end) return -1;
    bool is_xzero = op_is_xzero(p), is_zero = op_is_zero(p);
    if (is_xzero && p + 1 >= end) return -1; /* truncated: Redis would write past the value */
    uint8_t *next = is_xzero ? p + 2 : p + 1;
    if (next >= end) next = NULL;
    long runlen = is_zero ? op_zero_len(p) : is_xzero ? op_xzero_len(p, end) : op_val_len(p);

    /* Step 2: the cases done in place. */
    if (!is_zero && !is_xzero) {
        if (op_val_value(p) >= count) return 0;
        if (runlen == 1) {
            op_val_set(p, count, 1);
            goto updated;
        }
    }
    if (is_zero && runlen == 1) {
        op_val_set(p, count, 1);
        goto updated;
    }

    /* The general case: split the run into up to 3 opcodes (5 bytes). */
    uint8_t seq[5], *n = seq;
    long last = first + span - 1;
    if (is_zero || is_xzero) {
        if (index != first) n = op_zeros_set(n, index - first);
        op_val_set(n++, count, 1);
        if (index != last) n = op_zeros_set(n, last - index);
    } else {
        int cur = op_val_value(p);
        if (index != first) op_val_set(n++, cur, index - first);
        op_val_set(n++, count, 1);
        if (index != last) op_val_set(n++, cur, last - index);
    }

    /* Step 3: put the new sequence in place of the old opcode. */
    long seqlen = n - seq, delta = seqlen - (is_xzero ? 2 : 1);
    if (delta > 0 && b->len + (size_t)delta > max_bytes) goto promote;
    if (delta && next) memmove(next + delta, next, (size_t)(end - next));
    b->len = (size_t)((long)b->len + delta);
    memcpy(p, seq, (size_t)seqlen);
    end += delta;

updated:
    /* Step 4: merge equal adjacent VALs, scanning 5 opcodes from prev. */
    p = prev ? prev : sparse;
    int scanlen = 5;
    while (p < end && scanlen--) {
        if (op_is_xzero(p)) {
            p += 2;
            continue;
        } else if (op_is_zero(p)) {
            p++;
            continue;
        }
        if (p + 1 < end && op_is_val(p + 1)) {
            int v1 = op_val_value(p), v2 = op_val_value(p + 1);
            long l = op_val_len(p) + op_val_len(p + 1);
            if (v1 == v2 && l <= HLL_SPARSE_VAL_MAX_LEN) {
                op_val_set(p + 1, v1, l);
                memmove(p, p + 1, (size_t)(end - p - 1));
                b->len--;
                end--;
                continue;
            }
        }
        p++;
    }
    hll_invalidate(b->p);
    return 1;

promote:
    if (!buf_to_dense(b)) return -1;
    return dense_set(b->p + HLL_HDR_SIZE, index, count);
}

/* Raise a register of a value in b, whatever its encoding. */
static int buf_set(hll_buf *b, long index, uint8_t count, size_t max_bytes) {
    if (hll_encoding(b->p) == HLL_DENSE) return dense_set(b->p + HLL_HDR_SIZE, index, count);
    return sparse_set(b, index, count, max_bytes);
}

static size_t sparse_max_bytes(void) { return (size_t)cfg_get(hll_sparse_max_bytes); }

/* Store b as the value of k (pos from the lookup, -1: absent), keeping
 * `expire`; frees b's memory. Returns the stored entry. */
static entry *buf_store(const dbkey *k, long pos, hll_buf *b, long long expire) {
    entry *e = db_store_string(k, pos, (const char *)b->p, b->len, expire, true);
    mem_free(b->p);
    b->p = NULL;
    return e;
}

static entry *hll_lookup(client *c, int i, dbkey *k, int flags, long *pos) {
    dbkey_init(k, c->db, c->argv[i].ptr, c->argv[i].len);
    return db_lookup(k, flags, pos);
}

/* ------------------------------------------------------------ commands */

/* max[i] = the largest register i of the keys argv[1..] (missing keys
 * count as empty; read lookups, values left as they are); *any_dense, when
 * given, tells whether one of them was dense. False after the error reply. */
static bool hll_union_or_reply(client *c, uint8_t *max, bool *any_dense) {
    for (int j = 1; j < c->argc; j++) {
        dbkey k;
        entry *e = hll_lookup(c, j, &k, LOOKUP_READ, NULL);
        if (!e) continue;
        size_t len;
        const uint8_t *v = hll_value_or_reply(c, e, &len, false);
        if (!v) return false;
        if (any_dense && hll_encoding(v) == HLL_DENSE) *any_dense = true;
        if (!hll_merge_into(max, v, len)) {
            add_reply_error(c, ERR_HLL_INVALID);
            return false;
        }
    }
    return true;
}

static void pfadd_command(client *c) {
    dbkey k;
    long pos;
    entry *e = hll_lookup(c, 1, &k, LOOKUP_WRITE, &pos);
    hll_buf b = {0};
    uint8_t *dense = NULL; /* an existing dense value, changed in place */
    int updated = 0;
    if (!e) {
        buf_init_empty(&b);
        updated = 1;
    } else {
        size_t len;
        uint8_t *v = hll_value_or_reply(c, e, &len, true);
        if (!v) return;
        if (hll_encoding(v) == HLL_DENSE)
            dense = v;
        else
            buf_init_copy(&b, v, len);
    }
    size_t max_bytes = sparse_max_bytes();
    for (int j = 2; j < c->argc; j++) {
        long reg;
        uint8_t count = hll_pattern(c->argv[j].ptr, c->argv[j].len, &reg);
        int r = dense ? dense_set(dense + HLL_HDR_SIZE, reg, count) : buf_set(&b, reg, count, max_bytes);
        if (r < 0) {
            mem_free(b.p);
            add_reply_error(c, ERR_HLL_INVALID);
            return;
        }
        /* A sparse value promoted on the way continues as dense in b. */
        updated += r;
    }
    if (updated) {
        if (dense) {
            hll_invalidate(dense);
        } else {
            hll_invalidate(b.p);
            buf_store(&k, pos, &b, e ? entry_expire(e) : -1);
        }
        db_changed(&k, NOTIFY_STRING, "pfadd");
        if (updated > 1) stat_add(STAT_DIRTY, (uint64_t)updated - 1); /* Redis: dirty += updated */
    }
    mem_free(b.p);
    add_reply_integer(c, updated ? 1 : 0);
}

static void pfcount_command(client *c) {
    if (c->argc > 2) { /* the cardinality of the union */
        uint8_t max[HLL_REGISTERS] = {0};
        if (hll_union_or_reply(c, max, NULL)) add_reply_integer(c, (long long)raw_count(max));
        return;
    }
    dbkey k;
    entry *e = hll_lookup(c, 1, &k, LOOKUP_READ, NULL);
    if (!e) {
        add_reply_integer(c, 0);
        return;
    }
    size_t len;
    uint8_t *v = hll_value_or_reply(c, e, &len, true);
    if (!v) return;
    uint64_t card = 0;
    if (hll_cache_valid(v)) {
        for (int i = 7; i >= 0; i--) card = (card << 8) | v[HLL_CARD_OFF + i];
    } else {
        if (!hll_count(v, len, &card)) {
            add_reply_error(c, ERR_HLL_INVALID);
            return;
        }
        /* The cache is part of the value: a change (WATCH, dirty, PFCOUNT
         * propagated as Redis does) with no keyspace event. */
        snapshot_before_write(k.slot);
        for (int i = 0; i < 8; i++) v[HLL_CARD_OFF + i] = (uint8_t)(card >> (8 * i));
        db_changed(&k, 0, NULL);
    }
    add_reply_integer(c, (long long)card);
}

static void pfmerge_command(client *c) {
    uint8_t max[HLL_REGISTERS] = {0};
    bool use_dense = false;
    if (!hll_union_or_reply(c, max, &use_dense)) return;
    dbkey k;
    long pos;
    entry *e = hll_lookup(c, 1, &k, LOOKUP_WRITE, &pos);
    hll_buf b;
    if (!e) {
        buf_init_empty(&b);
    } else { /* validated as a source above */
        size_t len;
        const uint8_t *v = (const uint8_t *)entry_str(e, &len);
        buf_init_copy(&b, v, len);
    }
    if (use_dense && !buf_to_dense(&b)) {
        mem_free(b.p);
        add_reply_error(c, ERR_HLL_INVALID);
        return;
    }
    size_t max_bytes = sparse_max_bytes();
    for (long j = 0; j < HLL_REGISTERS; j++)
        if (max[j]) buf_set(&b, j, max[j], max_bytes);
    hll_invalidate(b.p);
    buf_store(&k, pos, &b, e ? entry_expire(e) : -1);
    /* Redis raises "pfadd" for PFMERGE too (a mass add). */
    db_changed(&k, NOTIFY_STRING, "pfadd");
    add_reply_ok(c);
}

/* PFDEBUG's conversion of a sparse value to dense (GETREG, TODENSE): a
 * change propagated with the command, no event (Redis: dirty++). Returns
 * the dense value, or NULL after the INVALIDOBJ reply. */
static const uint8_t *pfdebug_todense(client *c, const dbkey *k, long pos, entry *e, const uint8_t *v,
                                      size_t len, bool *converted) {
    *converted = false;
    if (hll_encoding(v) == HLL_DENSE) return v;
    hll_buf b;
    buf_init_copy(&b, v, len);
    if (!buf_to_dense(&b)) {
        mem_free(b.p);
        add_reply_error(c, ERR_HLL_INVALID);
        return NULL;
    }
    entry *ne = buf_store(k, pos, &b, entry_expire(e));
    db_changed(k, 0, NULL);
    *converted = true;
    return (const uint8_t *)entry_str(ne, &len);
}

/* Append the text of one sparse opcode to a growing buffer. */
static void decode_append(char **out, size_t *len, size_t *cap, const char *fmt, int a, long b) {
    if (*len + 32 > *cap) {
        *cap = (*cap + 32) * 2;
        *out = mem_realloc(*out, *cap);
    }
    *len += (size_t)(a < 0 ? snprintf(*out + *len, 32, fmt, b) : snprintf(*out + *len, 32, fmt, a, b));
}

static void pfdebug_decode(client *c, const uint8_t *v, size_t vlen) {
    if (hll_encoding(v) != HLL_SPARSE) {
        add_reply_error(c, "ERR HLL encoding is not sparse");
        return;
    }
    char *out = NULL;
    size_t len = 0, cap = 0;
    const uint8_t *p = v + HLL_HDR_SIZE, *end = v + vlen;
    while (p < end) {
        if (op_is_zero(p)) {
            decode_append(&out, &len, &cap, "z:%ld ", -1, op_zero_len(p));
            p++;
        } else if (op_is_xzero(p)) {
            decode_append(&out, &len, &cap, "Z:%ld ", -1, op_xzero_len(p, end));
            p += 2;
        } else {
            decode_append(&out, &len, &cap, "v:%d,%ld ", op_val_value(p), op_val_len(p));
            p++;
        }
    }
    while (len && out[len - 1] == ' ') len--;
    add_reply_bulk(c, out ? out : "", len);
    mem_free(out);
}

static void pfdebug_command(client *c) {
    const arg_t *sub = &c->argv[1];
    dbkey k;
    long pos;
    entry *e = hll_lookup(c, 2, &k, LOOKUP_WRITE, &pos);
    if (!e) {
        add_reply_error(c, "ERR The specified key does not exist");
        return;
    }
    size_t len;
    const uint8_t *v = hll_value_or_reply(c, e, &len, true);
    if (!v) return;
    bool converted;
    if (arg_eq(sub, "getreg")) {
        if (!(v = pfdebug_todense(c, &k, pos, e, v, len, &converted))) return;
        add_reply_array(c, HLL_REGISTERS);
        for (long j = 0; j < HLL_REGISTERS; j++) add_reply_integer(c, dense_get(v + HLL_HDR_SIZE, j));
    } else if (arg_eq(sub, "decode")) {
        pfdebug_decode(c, v, len);
    } else if (arg_eq(sub, "encoding")) {
        add_reply_status(c, hll_encoding(v) == HLL_DENSE ? "dense" : "sparse");
    } else if (arg_eq(sub, "todense")) {
        if (!pfdebug_todense(c, &k, pos, e, v, len, &converted)) return;
        add_reply_integer(c, converted ? 1 : 0);
    } else {
        add_reply_errorf(c, "ERR Unknown PFDEBUG subcommand '%.*s'", (int)(sub->len > 900 ? 900 : sub->len),
                         sub->ptr);
    }
}

/* PFSELFTEST (Redis's): the register accessors keep 16384 random values,
 * then 10 million elements go into a dense and a sparse HLL side by side,
 * whose estimates must agree and stay within 6 standard errors. */
static void pfselftest_command(client *c) {
    uint8_t *dense = mem_calloc(1, HLL_DENSE_SIZE + 4), *r = dense + HLL_HDR_SIZE;
    uint8_t bytes[HLL_REGISTERS];
    hll_buf s = {0};
    memcpy(dense, "HYLL", 4);
    for (int j = 0; j < 1000; j++) {
        for (long i = 0; i < HLL_REGISTERS; i++) {
            bytes[i] = (uint8_t)(db_random() & HLL_REGISTER_MAX);
            dense_put(r, i, bytes[i]);
        }
        for (long i = 0; i < HLL_REGISTERS; i++) {
            unsigned val = dense_get(r, i);
            if (val != bytes[i]) {
                add_reply_errorf(c, "TESTFAILED Register %ld should be %d but is %u", i, bytes[i], val);
                goto cleanup;
            }
        }
    }
    memset(r, 0, HLL_DENSE_BYTES);
    buf_init_empty(&s);
    double relerr = 1.04 / sqrt(HLL_REGISTERS);
    long long checkpoint = 1;
    uint64_t seed = db_random();
    size_t max_bytes = sparse_max_bytes();
    for (long long j = 1; j <= 10000000; j++) {
        uint64_t ele = (uint64_t)j ^ seed;
        long reg;
        uint8_t count = hll_pattern(&ele, sizeof ele, &reg);
        dense_set(r, reg, count);
        buf_set(&s, reg, count, max_bytes);
        if (j != checkpoint) continue;
        if ((size_t)j < max_bytes / 2 && hll_encoding(s.p) != HLL_SPARSE) {
            add_reply_error(c, "TESTFAILED sparse encoding not used");
            goto cleanup;
        }
        uint64_t cd = 0, cs = 0;
        hll_count(dense, HLL_DENSE_SIZE, &cd);
        hll_count(s.p, s.len, &cs);
        if (cd != cs) {
            add_reply_error(c, "TESTFAILED dense/sparse disagree");
            goto cleanup;
        }
        long long abserr = llabs(checkpoint - (long long)cd);
        long long maxerr = j == 10 ? 1 : (long long)ceil(relerr * 6 * (double)checkpoint);
        if (abserr > maxerr) {
            add_reply_errorf(c, "TESTFAILED Too big error. card:%llu abserr:%llu", (unsigned long long)checkpoint,
                             (unsigned long long)abserr);
            goto cleanup;
        }
        checkpoint *= 10;
    }
    add_reply_ok(c);
cleanup:
    mem_free(dense);
    mem_free(s.p);
}

/* ------------------------------------------------------------ table */

command hll_commands[] = {
    {.name = "pfadd", .arity = -2, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .first_key = 1, .last_key = 1,
     .key_step = 1, .proc = pfadd_command, .group = "hyperloglog", .since = "2.8.9",
     .summary = "Adds the specified elements to the specified HyperLogLog.",
     .complexity = "O(1) to add every element.", .acl_categories = "write hyperloglog fast"},
    {.name = "pfcount", .arity = -2, .flags = CMD_READONLY | CMD_MAY_REPLICATE, .first_key = 1, .last_key = -1,
     .key_step = 1, .proc = pfcount_command, .group = "hyperloglog", .since = "2.8.9",
     .summary = "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).",
     .complexity = "O(1) with a very small average constant time when called with a single key. O(N) with N "
                   "being the number of keys, and much bigger constant times, when called with multiple keys.",
     .acl_categories = "read hyperloglog slow"},
    {.name = "pfmerge", .arity = -2, .flags = CMD_WRITE | CMD_DENYOOM, .first_key = 1, .last_key = -1,
     .key_step = 1, .proc = pfmerge_command, .group = "hyperloglog", .since = "2.8.9",
     .summary = "Merge N different HyperLogLogs into a single one.",
     .complexity = "O(N) to merge N HyperLogLogs, but with high constant times.",
     .acl_categories = "write hyperloglog slow"},
    {.name = "pfdebug", .arity = 3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_ADMIN, .first_key = 2, .last_key = 2,
     .key_step = 1, .proc = pfdebug_command, .group = "hyperloglog", .since = "2.8.9",
     .summary = "Internal commands for debugging HyperLogLog values", .complexity = "N/A",
     .acl_categories = "write hyperloglog admin slow dangerous"},
    {.name = "pfselftest", .arity = 1, .flags = CMD_ADMIN, .proc = pfselftest_command, .group = "hyperloglog",
     .since = "2.8.9", .summary = "An internal command for testing HyperLogLog values", .complexity = "N/A",
     .acl_categories = "hyperloglog admin slow dangerous"},
    {0},
};
