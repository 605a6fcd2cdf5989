/*
 * rdb_codec.c - Redis's RDB value encoding, version 10 (see rdb_codec.h):
 * lengths, strings (integer and LZF encodings), and the values of every
 * type slotcache has, written as redis-server 7.0.15 writes them and read
 * in every form Redis 7.0 can load. Byte formats follow Redis's rdb.c and
 * rdb.h; the packed blobs inside values live in rdb_packed.c, a stream's
 * consumer groups in rdb_stream_group.c.
 *
 * Design choices a reader must know:
 * - Writing: each type is written in the RDB type Redis 7.0 picks for the
 *   same encoding, and packed blobs are built element by element in
 *   Redis's layout (slotcache's in-memory listpack is not Redis's), so a
 *   value written here is byte-identical to redis-server's DUMP whenever
 *   Redis's own bytes are deterministic. Lists are one exception by
 *   construction: Redis's node boundaries depend on the list's history, so
 *   lists are written split as Redis splits a list built by RPUSH alone.
 * - Reading: nothing from the input is trusted. Lengths and counts are
 *   checked against the bytes left before anything is allocated, packed
 *   blobs are validated whole before use, duplicates (set members, hash
 *   fields, zset members) and NaN scores are rejected, and a value is
 *   rebuilt through the type's own API, which gives it the encoding
 *   slotcache would choose under the current configuration, converting on
 *   load where Redis converts (more entries than the listpack/intset
 *   limits; for RDB_TYPE_HASH and zipmaps also long fields and values).
 *   On any error the partly built value is freed.
 */
#include "rdb_codec.h"

#include "config.h"
#include "mem.h"
#include "numparse.h"
#include "quicklist.h"
#include "rdb_packed.h"
#include "rdb_stream_group.h"
#include "stream.h"
#include "t_hash.h"
#include "t_list.h"
#include "t_set.h"
#include "t_zset.h"

#include <limits.h>
#include <lzf.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Redis's quicklist packed_threshold: an element this large gets a node of
 * its own, stored plain. */
#define RDB_QL_PLAIN_MIN ((size_t)1 << 30)
/* The most an LZF stream can expand: a 3-byte back reference yields at most
 * 264 bytes. A longer claimed length is corrupt, refused before allocating. */
#define LZF_MAX_RATIO 88

/* ================================================================ input */

void rdb_in_init(rdb_in *in, const void *p, size_t len) {
    in->start = in->p = p;
    in->end = in->p + len;
    in->err[0] = '\0';
    in->empty_value = false;
}

bool rdb_fail(rdb_in *in, const char *fmt, ...) {
    if (in->err[0]) return false;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(in->err, sizeof in->err, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof in->err)
        snprintf(in->err + n, sizeof in->err - (size_t)n, ", offset %zu", (size_t)(in->p - in->start));
    return false;
}

static size_t left(const rdb_in *in) { return (size_t)(in->end - in->p); }

bool rdb_get_u8(rdb_in *in, uint8_t *v) {
    if (in->p >= in->end) return rdb_fail(in, "unexpected end of data");
    *v = *in->p++;
    return true;
}

bool rdb_get_raw(rdb_in *in, const unsigned char **p, size_t n) {
    if (left(in) < n) return rdb_fail(in, "unexpected end of data (%zu bytes wanted, %zu left)", n, left(in));
    *p = in->p;
    in->p += n;
    return true;
}

static uint64_t be(const unsigned char *p, unsigned n) {
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}

static uint64_t le(const unsigned char *p, unsigned n) {
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

bool rdb_get_u64le(rdb_in *in, uint64_t *v) {
    const unsigned char *q = NULL;
    if (!rdb_get_raw(in, &q, 8)) return false;
    *v = le(q, 8);
    return true;
}

bool rdb_get_len(rdb_in *in, uint64_t *len, bool *is_encoded) {
    uint8_t b = 0;
    const unsigned char *q = NULL;
    if (is_encoded) *is_encoded = false;
    if (!rdb_get_u8(in, &b)) return false;
    switch (b >> 6) {
    case 0: *len = b & 0x3f; return true;
    case 1:
        if (!rdb_get_raw(in, &q, 1)) return false;
        *len = (uint64_t)(b & 0x3f) << 8 | q[0];
        return true;
    case 3:
        if (!is_encoded) return rdb_fail(in, "encoded value where a length was expected");
        *is_encoded = true;
        *len = b & 0x3f;
        return true;
    }
    if (b == 0x80 || b == 0x81) {
        unsigned n = b == 0x80 ? 4 : 8;
        if (!rdb_get_raw(in, &q, n)) return false;
        *len = be(q, n);
        return true;
    }
    return rdb_fail(in, "Unknown length encoding %u", b);
}

/* A string read in place when possible: p points into the input, into
 * ibuf (integer encodings) or into heap (LZF, freed by str_release). */
typedef struct {
    const char *p;
    size_t len;
    char *heap;
    char ibuf[24];
} rstr;

static void str_release(rstr *s) {
    mem_free(s->heap);
    s->heap = NULL;
}

static bool get_lzf(rdb_in *in, rstr *s) {
    uint64_t clen, ulen;
    if (!rdb_get_len(in, &clen, NULL) || !rdb_get_len(in, &ulen, NULL)) return false;
    if (clen == 0 || ulen == 0 || clen > UINT_MAX || ulen > UINT_MAX || ulen > clen * LZF_MAX_RATIO)
        return rdb_fail(in, "Invalid LZF lengths (%llu compressed, %llu uncompressed)", (unsigned long long)clen,
                        (unsigned long long)ulen);
    if (clen > left(in)) return rdb_fail(in, "LZF string past the end of the data");
    char *buf = mem_alloc((size_t)ulen + 1);
    if (lzf_decompress(in->p, (unsigned)clen, buf, (unsigned)ulen) != ulen) {
        mem_free(buf);
        return rdb_fail(in, "Invalid LZF compressed string");
    }
    in->p += clen;
    s->heap = buf;
    s->p = buf;
    s->len = (size_t)ulen;
    return true;
}

static bool get_str(rdb_in *in, rstr *s) {
    uint64_t len = 0;
    bool enc = false;
    const unsigned char *q = NULL;
    s->heap = NULL;
    if (!rdb_get_len(in, &len, &enc)) return false;
    if (enc) {
        static const unsigned width[] = {1, 2, 4};
        if (len == RDB_ENC_LZF) return get_lzf(in, s);
        if (len > RDB_ENC_INT32) return rdb_fail(in, "Unknown RDB string encoding type %llu", (unsigned long long)len);
        unsigned w = width[len];
        if (!rdb_get_raw(in, &q, w)) return false;
        uint64_t u = le(q, w);
        if ((u >> (8 * w - 1)) & 1) u |= ~(uint64_t)0 << (8 * w);
        s->len = format_ll(s->ibuf, sizeof s->ibuf, (long long)u);
        s->p = s->ibuf;
        return true;
    }
    if (!rdb_get_raw(in, &q, len)) return false;
    s->p = (const char *)q;
    s->len = (size_t)len;
    return true;
}

bool rdb_get_string(rdb_in *in, char **out, size_t *len) {
    rstr s;
    if (!get_str(in, &s)) return false;
    char *r = s.heap;
    if (!r) {
        r = mem_alloc(s.len + 1);
        if (s.len) memcpy(r, s.p, s.len);
    }
    r[s.len] = '\0';
    *out = r;
    *len = s.len;
    return true;
}

/* ================================================================ output */

void rdb_put_u64le(serial_buf *b, uint64_t v) {
    unsigned char d[8];
    for (int i = 0; i < 8; i++) d[i] = (unsigned char)(v >> (8 * i));
    serial_put_raw(b, d, 8);
}

void rdb_put_len(serial_buf *b, uint64_t len) {
    unsigned char h[9];
    if (len < 1u << 6) {
        h[0] = (unsigned char)len;
        serial_put_raw(b, h, 1);
    } else if (len < 1u << 14) {
        h[0] = (unsigned char)(0x40 | (len >> 8));
        h[1] = (unsigned char)len;
        serial_put_raw(b, h, 2);
    } else {
        unsigned n = len <= UINT32_MAX ? 4 : 8;
        h[0] = n == 4 ? 0x80 : 0x81;
        for (unsigned i = 0; i < n; i++) h[1 + i] = (unsigned char)(len >> (8 * (n - 1 - i)));
        serial_put_raw(b, h, 1 + n);
    }
}

/* Redis's rdbEncodeInteger: false when v needs more than 32 bits. */
static bool put_int_encoded(serial_buf *b, long long v) {
    unsigned char h[5];
    unsigned n;
    if (v >= INT8_MIN && v <= INT8_MAX)
        n = 1, h[0] = 0xc0 | RDB_ENC_INT8;
    else if (v >= INT16_MIN && v <= INT16_MAX)
        n = 2, h[0] = 0xc0 | RDB_ENC_INT16;
    else if (v >= INT32_MIN && v <= INT32_MAX)
        n = 4, h[0] = 0xc0 | RDB_ENC_INT32;
    else
        return false;
    for (unsigned i = 0; i < n; i++) h[1 + i] = (unsigned char)((uint64_t)v >> (8 * i));
    serial_put_raw(b, h, 1 + n);
    return true;
}

/* Redis's rdbSaveLzfStringObject: only when it saves at least 4 bytes. */
static bool put_lzf(serial_buf *b, const char *p, size_t len) {
    if (len <= 4 || len > UINT_MAX) return false;
    size_t outlen = len - 4;
    unsigned char *out = mem_alloc(outlen + 1);
    unsigned clen = lzf_compress(p, (unsigned)len, out, (unsigned)outlen);
    if (clen) {
        serial_put_u8(b, 0xc0 | RDB_ENC_LZF);
        rdb_put_len(b, clen);
        rdb_put_len(b, len);
        serial_put_raw(b, out, clen);
    }
    mem_free(out);
    return clen != 0;
}

void rdb_put_string(serial_buf *b, const char *p, size_t len, bool compress) {
    long long v;
    if (len <= 11 && parse_ll(p, len, &v) && put_int_encoded(b, v)) return;
    if (compress && len > 20 && put_lzf(b, p, len)) return;
    rdb_put_len(b, len);
    serial_put_raw(b, p, len);
}

/* A packed blob under construction, written as one RDB string. */
static void put_blob(serial_buf *b, rpk_lp *lp, bool compress) {
    size_t n;
    const unsigned char *blob = rpk_lp_finish(lp, &n);
    rdb_put_string(b, (const char *)blob, n, compress);
}

/* ---- strings */

static void put_string_value(serial_buf *b, const entry *e, bool compress) {
    if (entry_is_int(e)) {
        /* Redis's rdbSaveLongLongAsStringObject: never compressed. */
        long long v = entry_int(e);
        if (put_int_encoded(b, v)) return;
        char buf[32];
        size_t n = format_ll(buf, sizeof buf, v);
        rdb_put_len(b, n);
        serial_put_raw(b, buf, n);
        return;
    }
    size_t len;
    const char *p = entry_str(e, &len);
    rdb_put_string(b, p, len, compress);
}

/* ---- lists */

/* Redis's _quicklistNodeAllowInsert for a node of `bytes` listpack bytes
 * and `count` elements receiving an element of len bytes. */
static bool ql_node_allows(size_t bytes, size_t count, size_t len, int fill) {
    static const size_t levels[] = {4096, 8192, 16384, 32768, 65536};
    size_t new_sz = bytes + len + 8; /* Redis's SIZE_ESTIMATE_OVERHEAD */
    if (fill < 0) return (size_t)(-fill - 1) < 5 && new_sz <= levels[-fill - 1];
    return new_sz <= QL_SIZE_SAFETY_LIMIT && count < (size_t)fill;
}

/* Walk the list's elements grouped into the nodes Redis would build by
 * pushing them at the tail one by one; with b set, write each node, else
 * only count them. Returns the number of nodes. */
static size_t put_list_nodes(serial_buf *b, const quicklist *ql, bool compress) {
    rpk_lp lp;
    if (b) rpk_lp_init(&lp);
    size_t nodes = 0, bytes = 0, count = 0; /* the open node (count 0: none) */
    for (const ql_node *n = ql->head; n; n = n->next) {
        for (size_t off = lp_first(n->lp), end = lp_end(n->lp); off < end;) {
            const char *p;
            size_t len;
            off = lp_get(n->lp, off, &p, &len);
            bool plain = len >= RDB_QL_PLAIN_MIN;
            if (count && (plain || !ql_node_allows(bytes, count, len, ql->fill))) {
                if (b) {
                    rdb_put_len(b, RDB_QL_PACKED);
                    put_blob(b, &lp, compress);
                }
                nodes++;
                count = 0;
            }
            if (plain) {
                if (b) {
                    rdb_put_len(b, RDB_QL_PLAIN);
                    rdb_put_string(b, p, len, compress);
                }
                nodes++;
                continue;
            }
            if (!count) {
                if (b) rpk_lp_start(&lp);
                bytes = 7; /* an empty listpack: header and terminator */
            }
            if (b) rpk_lp_add(&lp, p, len);
            bytes += rpk_lp_entry_bytes(p, len);
            count++;
        }
    }
    if (count) {
        if (b) {
            rdb_put_len(b, RDB_QL_PACKED);
            put_blob(b, &lp, compress);
        }
        nodes++;
    }
    if (b) rpk_lp_free(&lp);
    return nodes;
}

static void put_list_value(serial_buf *b, const entry *e, bool compress) {
    const quicklist *ql = entry_ptr(e);
    rdb_put_len(b, put_list_nodes(NULL, ql, compress));
    put_list_nodes(b, ql, compress);
}

/* ---- sets */

static void put_set_value(serial_buf *b, const entry *e, bool compress) {
    const set_value *s = entry_ptr(e);
    if (s->enc == ENC_INTSET) {
        serial_buf blob;
        serial_init(&blob);
        rpk_intset_blob(&blob, s->u.is);
        rdb_put_string(b, (const char *)blob.buf, blob.len, compress);
        serial_free(&blob);
        return;
    }
    rdb_put_len(b, set_size(s));
    set_iter it;
    set_elem el;
    set_iter_init(&it, s);
    while (set_iter_next(&it, &el)) rdb_put_string(b, el.p, el.len, compress);
}

/* ---- sorted sets */

/* Redis's double2ll: the score as an exact integer when it is one. */
static bool score_as_ll(double d, long long *out) {
    if (d < (double)(-LLONG_MAX / 2) || d > (double)(LLONG_MAX / 2)) return false;
    long long ll = (long long)d;
    if ((double)ll != d) return false;
    *out = ll;
    return true;
}

/* A score as Redis's zzlInsertAt stores it in a listpack. */
static void lp_add_score(rpk_lp *lp, double s) {
    long long ll;
    if (score_as_ll(s, &ll)) {
        rpk_lp_add_int(lp, ll);
        return;
    }
    char buf[64]; /* Redis's d2string: "inf", "-inf" or "%.17g" */
    rpk_lp_add(lp, buf, format_double(buf, sizeof buf, s));
}

typedef struct {
    serial_buf *b;
    bool compress;
} zput_ctx;

static void put_zset_member(const char *m, size_t len, double score, void *arg) {
    zput_ctx *c = arg;
    rdb_put_string(c->b, m, len, c->compress);
    uint64_t u;
    memcpy(&u, &score, 8);
    rdb_put_u64le(c->b, u);
}

static void put_zset_value(serial_buf *b, const entry *e, bool compress) {
    const zset *z = entry_ptr(e);
    unsigned long n = zset_len(z);
    if (z->enc == ENC_LISTPACK) {
        rpk_lp lp;
        rpk_lp_init(&lp);
        zset_iter it;
        const char *m;
        size_t len;
        double s;
        zset_iter_init(&it, z);
        while (zset_iter_next(&it, &m, &len, &s)) {
            rpk_lp_add(&lp, m, len);
            lp_add_score(&lp, s);
        }
        put_blob(b, &lp, compress);
        rpk_lp_free(&lp);
        return;
    }
    /* Highest first, as Redis writes it (each load then inserts at the
     * head of the skiplist). */
    rdb_put_len(b, n);
    zput_ctx c = {b, compress};
    if (n) zset_visit(z, 0, (long)n - 1, true, put_zset_member, &c);
}

/* ---- hashes */

static void put_hash_value(serial_buf *b, const entry *e, bool compress) {
    const hash *h = entry_ptr(e);
    hash_iter it;
    const char *f, *v;
    size_t flen, vlen;
    hash_iter_init(&it, h);
    if (hash_encoding(h) == ENC_LISTPACK) {
        rpk_lp lp;
        rpk_lp_init(&lp);
        while (hash_iter_next(&it, &f, &flen, &v, &vlen)) {
            rpk_lp_add(&lp, f, flen);
            rpk_lp_add(&lp, v, vlen);
        }
        put_blob(b, &lp, compress);
        rpk_lp_free(&lp);
        return;
    }
    rdb_put_len(b, hash_len(h));
    while (hash_iter_next(&it, &f, &flen, &v, &vlen)) {
        rdb_put_string(b, f, flen, compress);
        rdb_put_string(b, v, vlen, compress);
    }
}

/* ---- streams */

void rdb_put_stream_id(serial_buf *b, const stream_id *id) {
    rdb_put_len(b, id->ms);
    rdb_put_len(b, id->seq);
}

/* RDB_TYPE_STREAM_LISTPACKS_2: each node as its rax key and a Redis
 * listpack of the same elements, then the metadata and the consumer
 * groups (rdb_stream_group.c). */
static void put_stream_value(serial_buf *b, const entry *e, bool compress) {
    const stream *s = entry_ptr(e);
    uint32_t n = stream_node_count(s);
    rdb_put_len(b, n);
    rpk_lp lp;
    rpk_lp_init(&lp);
    for (uint32_t i = 0; i < n; i++) {
        const stream_node *node = stream_node_at(s, i);
        unsigned char k[16];
        stream_id_to_key(&node->master, k);
        rdb_put_string(b, (const char *)k, 16, false);
        rpk_lp_start(&lp);
        for (size_t off = lp_first(node->lp), end = lp_end(node->lp); off < end;) {
            const char *p;
            size_t len;
            off = lp_get(node->lp, off, &p, &len);
            rpk_lp_add(&lp, p, len);
        }
        put_blob(b, &lp, compress);
    }
    rpk_lp_free(&lp);
    rdb_put_len(b, s->length);
    rdb_put_stream_id(b, &s->last_id);
    rdb_put_stream_id(b, &s->first_id);
    rdb_put_stream_id(b, &s->max_deleted_entry_id);
    rdb_put_len(b, s->entries_added);
    rdb_put_stream_groups(b, s, compress);
}

uint8_t rdb_type_of(const entry *e) {
    switch (entry_type(e)) {
    case OBJ_LIST: return RDB_TYPE_LIST_QUICKLIST_2;
    case OBJ_SET: return ((const set_value *)entry_ptr(e))->enc == ENC_INTSET ? RDB_TYPE_SET_INTSET : RDB_TYPE_SET;
    case OBJ_ZSET: return ((const zset *)entry_ptr(e))->enc == ENC_LISTPACK ? RDB_TYPE_ZSET_LISTPACK : RDB_TYPE_ZSET_2;
    case OBJ_HASH:
        return hash_encoding((const hash *)entry_ptr(e)) == ENC_LISTPACK ? RDB_TYPE_HASH_LISTPACK : RDB_TYPE_HASH;
    case OBJ_STREAM: return RDB_TYPE_STREAM_LISTPACKS_2;
    default: return RDB_TYPE_STRING;
    }
}

void rdb_put_value(serial_buf *b, const entry *e, bool compress) {
    serial_put_u8(b, rdb_type_of(e));
    rdb_put_object(b, e, compress);
}

void rdb_put_object(serial_buf *b, const entry *e, bool compress) {
    switch (entry_type(e)) {
    case OBJ_STRING: put_string_value(b, e, compress); break;
    case OBJ_LIST: put_list_value(b, e, compress); break;
    case OBJ_SET: put_set_value(b, e, compress); break;
    case OBJ_ZSET: put_zset_value(b, e, compress); break;
    case OBJ_HASH: put_hash_value(b, e, compress); break;
    case OBJ_STREAM: put_stream_value(b, e, compress); break;
    default: break; /* no other type is ever stored */
    }
}

/* ================================================================ values in */

bool rdb_is_value_type(int type) { return (type >= 0 && type <= 7) || (type >= 9 && type <= 19); }

static void *empty(rdb_in *in) {
    in->empty_value = true;
    rdb_fail(in, "empty value");
    return NULL;
}

/* The item count of a collection. False (error recorded) when unreadable,
 * 0 (an empty value), or more than the bytes left could hold with at least
 * `min` bytes per item: nothing is allocated for a lying header. */
static bool get_count(rdb_in *in, uint64_t *n, size_t min, const char *what) {
    if (!rdb_get_len(in, n, NULL)) return false;
    if (*n == 0) return empty(in);
    if (*n > left(in) / min) return rdb_fail(in, "%s count %llu larger than the data", what, (unsigned long long)*n);
    return true;
}

/* Read a packed blob (one RDB string) and open an iterator on it; the
 * blob stays in s until str_release. `what` names it in errors. */
static bool get_packed(rdb_in *in, rstr *s, int kind, rpk_iter *it, const char *what) {
    if (!get_str(in, s)) return false;
    char why[100];
    if (rpk_open(it, kind, (const unsigned char *)s->p, s->len, why, sizeof why)) return true;
    str_release(s);
    return rdb_fail(in, "%s integrity check failed: %s", what, why);
}

/* ---- lists */

static bool push_packed(quicklist *ql, rpk_iter *it) {
    rpk_elem el;
    while (rpk_next(it, &el)) ql_push(ql, QL_TAIL, el.p, el.len);
    return true;
}

static quicklist *get_list_plain(rdb_in *in) {
    uint64_t n;
    if (!get_count(in, &n, 1, "list")) return NULL;
    quicklist *ql = ql_new(list_fill_from_config());
    for (uint64_t i = 0; i < n; i++) {
        rstr s;
        if (!get_str(in, &s)) {
            ql_free(ql);
            return NULL;
        }
        ql_push(ql, QL_TAIL, s.p, s.len);
        str_release(&s);
    }
    return ql;
}

static quicklist *get_list_ziplist(rdb_in *in) {
    rstr s;
    rpk_iter it;
    if (!get_packed(in, &s, RPK_ZIPLIST, &it, "List ziplist")) return NULL;
    quicklist *ql = NULL;
    if (it.count) {
        ql = ql_new(list_fill_from_config());
        push_packed(ql, &it);
    }
    str_release(&s);
    return ql ? ql : empty(in);
}

static quicklist *get_list_quicklist(rdb_in *in, int type) {
    uint64_t nodes;
    if (!get_count(in, &nodes, type == RDB_TYPE_LIST_QUICKLIST_2 ? 2 : 1, "node")) return NULL;
    quicklist *ql = ql_new(list_fill_from_config());
    for (uint64_t i = 0; i < nodes; i++) {
        uint64_t container = RDB_QL_PACKED;
        if (type == RDB_TYPE_LIST_QUICKLIST_2) {
            if (!rdb_get_len(in, &container, NULL)) goto bad;
            if (container != RDB_QL_PACKED && container != RDB_QL_PLAIN) {
                rdb_fail(in, "Quicklist integrity check failed: node container %llu", (unsigned long long)container);
                goto bad;
            }
        }
        rstr s;
        if (container == RDB_QL_PLAIN) {
            if (!get_str(in, &s)) goto bad;
            if (s.len == 0) {
                str_release(&s);
                rdb_fail(in, "empty quicklist node");
                goto bad;
            }
            ql_push(ql, QL_TAIL, s.p, s.len);
            str_release(&s);
            continue;
        }
        rpk_iter it;
        bool lp = type == RDB_TYPE_LIST_QUICKLIST_2;
        if (!get_packed(in, &s, lp ? RPK_LISTPACK : RPK_ZIPLIST, &it, lp ? "Listpack" : "Ziplist")) goto bad;
        push_packed(ql, &it); /* an empty node is skipped, as Redis does */
        str_release(&s);
    }
    if (ql_count(ql) == 0) {
        ql_free(ql);
        return empty(in);
    }
    return ql;
bad:
    ql_free(ql);
    return NULL;
}

/* ---- sets */

static set_value *get_set_plain(rdb_in *in) {
    uint64_t n;
    if (!get_count(in, &n, 1, "set")) return NULL;
    size_t max = set_max_intset();
    /* As Redis: too many members for an intset starts as a hashtable,
     * otherwise an intset that converts at the first non-integer. */
    set_value *s = n > max ? set_new_ht() : set_new();
    for (uint64_t i = 0; i < n; i++) {
        rstr m;
        if (!get_str(in, &m)) goto bad;
        bool added = set_add(s, m.p, m.len, max);
        str_release(&m);
        if (!added) {
            rdb_fail(in, "Duplicate set members detected");
            goto bad;
        }
    }
    return s;
bad:
    set_free(s);
    return NULL;
}

static set_value *get_set_intset(rdb_in *in) {
    rstr s;
    rpk_iter it;
    if (!get_packed(in, &s, RPK_INTSET, &it, "Intset")) return NULL;
    size_t max = set_max_intset();
    set_value *set;
    rpk_elem el;
    if (it.count > max) {
        set = set_new_ht();
        while (rpk_next(&it, &el)) set_add(set, el.p, el.len, max);
    } else {
        /* Keep the blob's width, as Redis keeps the blob. */
        intset *is = intset_new_width(it.width);
        bool added;
        while (rpk_next(&it, &el)) is = intset_add(is, el.v, &added);
        set = set_new_from_intset(is);
    }
    str_release(&s);
    return set;
}

/* ---- sorted sets */

/* Add a loaded member; false (error recorded) on NaN or a duplicate. */
static bool zset_load_member(rdb_in *in, zset *z, const char *m, size_t len, double score) {
    if (isnan(score)) return rdb_fail(in, "Zset with NAN score detected");
    int out;
    double ns;
    zset_add(z, score, m, len, ZADD_IN_NX, &out, &ns, NULL);
    if (!(out & ZADD_OUT_ADDED)) return rdb_fail(in, "Duplicate zset fields detected");
    return true;
}

/* Redis's rdbLoadDoubleValue (RDB_TYPE_ZSET): a length byte, 253 NaN,
 * 254 +inf, 255 -inf, else that many bytes of text. */
static bool get_text_double(rdb_in *in, double *v) {
    uint8_t n = 0;
    const unsigned char *q = NULL;
    if (!rdb_get_u8(in, &n)) return false;
    if (n >= 253) {
        *v = n == 253 ? NAN : n == 254 ? INFINITY : -INFINITY;
        return true;
    }
    if (!rdb_get_raw(in, &q, n)) return false;
    if (!parse_double((const char *)q, n, v)) return rdb_fail(in, "invalid score");
    return true;
}

static zset *get_zset_plain(rdb_in *in, int type) {
    uint64_t n;
    if (!get_count(in, &n, type == RDB_TYPE_ZSET_2 ? 9 : 2, "zset")) return NULL;
    zset *z = zset_new_skiplist();
    for (uint64_t i = 0; i < n; i++) {
        rstr m;
        double score = 0;
        if (!get_str(in, &m)) goto bad;
        bool ok;
        if (type == RDB_TYPE_ZSET_2) {
            uint64_t u = 0;
            ok = rdb_get_u64le(in, &u);
            memcpy(&score, &u, 8);
        } else {
            ok = get_text_double(in, &score);
        }
        ok = ok && zset_load_member(in, z, m.p, m.len, score);
        str_release(&m);
        if (!ok) goto bad;
    }
    zset_limits lim;
    zset_limits_from_config(&lim);
    zset_fit_encoding(z, &lim);
    return z;
bad:
    zset_free(z);
    return NULL;
}

static zset *get_zset_packed(rdb_in *in, int type) {
    rstr s;
    rpk_iter it;
    bool lp = type == RDB_TYPE_ZSET_LISTPACK;
    if (!get_packed(in, &s, lp ? RPK_LISTPACK : RPK_ZIPLIST, &it, lp ? "Zset listpack" : "Zset ziplist")) return NULL;
    zset *z = NULL;
    if (it.count % 2) {
        rdb_fail(in, "Zset %s integrity check failed: odd number of elements", lp ? "listpack" : "ziplist");
        goto done;
    }
    if (it.count == 0) {
        empty(in);
        goto done;
    }
    z = zset_new_skiplist();
    rpk_elem m, sc;
    while (rpk_next(&it, &m) && rpk_next(&it, &sc)) {
        double score = (double)sc.v;
        if (!sc.is_int && !parse_double(sc.p, sc.len, &score)) {
            rdb_fail(in, "Zset %s with an invalid score", lp ? "listpack" : "ziplist");
            goto bad;
        }
        if (!zset_load_member(in, z, m.p, m.len, score)) goto bad;
    }
    /* As Redis: a packed set stays packed unless it has too many members
     * (member lengths are not checked). */
    zset_limits lim;
    zset_limits_from_config(&lim);
    if (zset_len(z) <= lim.max_entries) zset_convert(z, ENC_LISTPACK);
    goto done;
bad:
    zset_free(z);
    z = NULL;
done:
    str_release(&s);
    return z;
}

/* ---- hashes */

static hash *get_hash_plain(rdb_in *in) {
    uint64_t n;
    if (!get_count(in, &n, 2, "hash")) return NULL;
    hash_limits lim;
    hash_limits_from_config(&lim);
    hash *h = hash_new();
    if ((long long)n > lim.max_entries) hash_convert(&h);
    for (uint64_t i = 0; i < n; i++) {
        rstr f, v;
        if (!get_str(in, &f)) goto bad;
        if (!get_str(in, &v)) {
            str_release(&f);
            goto bad;
        }
        bool added = hash_set(&h, f.p, f.len, v.p, v.len, &lim);
        str_release(&f);
        str_release(&v);
        if (!added) {
            rdb_fail(in, "Duplicate hash fields detected");
            goto bad;
        }
    }
    return h;
bad:
    hash_free(h);
    return NULL;
}

static hash *get_hash_packed(rdb_in *in, int type) {
    static const struct {
        int kind;
        const char *name;
    } kinds[] = {
        [RDB_TYPE_HASH_ZIPMAP] = {RPK_ZIPMAP, "Zipmap"},
        [RDB_TYPE_HASH_ZIPLIST] = {RPK_ZIPLIST, "Hash ziplist"},
        [RDB_TYPE_HASH_LISTPACK] = {RPK_LISTPACK, "Hash listpack"},
    };
    rstr s;
    rpk_iter it;
    if (!get_packed(in, &s, kinds[type].kind, &it, kinds[type].name)) return NULL;
    hash *h = NULL;
    if (it.count % 2) {
        rdb_fail(in, "%s integrity check failed: odd number of elements", kinds[type].name);
        goto done;
    }
    if (it.count == 0) {
        empty(in);
        goto done;
    }
    /* As Redis: too many fields makes a hashtable; long fields or values
     * do too for a zipmap, but a ziplist or listpack stays packed. */
    hash_limits lim, build = {LLONG_MAX, LLONG_MAX};
    hash_limits_from_config(&lim);
    if (type == RDB_TYPE_HASH_ZIPMAP) build.max_value = lim.max_value;
    h = hash_new();
    if ((long long)(it.count / 2) > lim.max_entries) hash_convert(&h);
    rpk_elem f, v;
    while (rpk_next(&it, &f) && rpk_next(&it, &v)) {
        if (!hash_set(&h, f.p, f.len, v.p, v.len, &build)) {
            rdb_fail(in, "Duplicate hash fields detected");
            hash_free(h);
            h = NULL;
            break;
        }
    }
done:
    str_release(&s);
    return h;
}

/* ---- streams */

bool rdb_get_stream_id(rdb_in *in, stream_id *id) {
    return rdb_get_len(in, &id->ms, NULL) && rdb_get_len(in, &id->seq, NULL);
}

/* RDB_TYPE_STREAM_LISTPACKS (15) and _2 (19). Every node is validated as
 * a whole before it joins the stream (stream_load_node), and the metadata
 * against the nodes; then the consumer groups (rdb_stream_group.c). On any
 * error the stream is freed with whatever groups it got. */
static stream *get_stream(rdb_in *in, int type) {
    uint64_t nodes;
    if (!rdb_get_len(in, &nodes, NULL)) return NULL;
    if (nodes > left(in) / 2) {
        rdb_fail(in, "Stream listpacks count %llu larger than the data", (unsigned long long)nodes);
        return NULL;
    }
    stream *s = stream_new();
    stream_id last_live = {0, 0};
    for (uint64_t i = 0; i < nodes; i++) {
        rstr key, blob;
        if (!get_str(in, &key)) goto bad;
        if (key.len != 16) {
            str_release(&key);
            rdb_fail(in, "Stream node key entry is not the size of a stream ID");
            goto bad;
        }
        stream_id master;
        stream_id_from_key((const unsigned char *)key.p, &master);
        str_release(&key);
        rpk_iter it;
        if (!get_packed(in, &blob, RPK_LISTPACK, &it, "Stream listpack")) goto bad;
        if (it.count == 0) {
            str_release(&blob);
            rdb_fail(in, "Empty listpack inside stream");
            goto bad;
        }
        /* the elements into one arena, then into the node at once */
        serial_buf arena;
        serial_init(&arena);
        size_t *lens = mem_alloc(sizeof(size_t) * it.count);
        const char **ptrs = mem_alloc(sizeof(char *) * it.count);
        size_t ne = 0;
        rpk_elem el;
        while (rpk_next(&it, &el)) {
            serial_put_raw(&arena, el.p, el.len);
            lens[ne++] = el.len;
        }
        for (size_t j = 0, off = 0; j < ne; off += lens[j++]) ptrs[j] = arena.buf ? (const char *)arena.buf + off : "";
        listpack *lp = lp_append_many(lp_new(), ptrs, lens, ne);
        serial_free(&arena);
        mem_free(lens);
        mem_free(ptrs);
        uint32_t rbytes = (uint32_t)blob.len;
        str_release(&blob);
        const char *why;
        if (!stream_load_node(s, &master, lp, rbytes, &last_live, &why)) {
            lp_free(lp);
            rdb_fail(in, "Stream listpack integrity check failed: %s", why);
            goto bad;
        }
    }
    uint64_t length;
    stream_id last;
    if (!rdb_get_len(in, &length, NULL) || !rdb_get_stream_id(in, &s->last_id)) goto bad;
    if (length != s->length) {
        rdb_fail(in, "Stream length inconsistent with its entries");
        goto bad;
    }
    /* The last live entry, as XSETID checks: XSETID may set the last ID
     * below a deleted entry's (Redis's streamLastValidID), and such a
     * stream must load back. */
    if (stream_last_live(s, &last) && stream_id_cmp(&last, &s->last_id) > 0) {
        rdb_fail(in, "Stream last ID smaller than its last entry");
        goto bad;
    }
    if (type == RDB_TYPE_STREAM_LISTPACKS_2) {
        if (!rdb_get_stream_id(in, &s->first_id) || !rdb_get_stream_id(in, &s->max_deleted_entry_id) ||
            !rdb_get_len(in, &s->entries_added, NULL))
            goto bad;
    } else {
        s->entries_added = s->length;
        if (!stream_first_live(s, &s->first_id)) s->first_id = (stream_id){0, 0};
    }
    if (!rdb_get_stream_groups(in, s, type)) goto bad;
    return s;
bad:
    stream_free(s);
    return NULL;
}

/* ---- dispatch */

static const char *unsupported_type_name(int type) {
    switch (type) {
    case RDB_TYPE_MODULE:
    case RDB_TYPE_MODULE_2: return "module";
    case RDB_OPCODE_FUNCTION:
    case RDB_OPCODE_FUNCTION2: return "function";
    default: return NULL;
    }
}

entry *rdb_get_value(rdb_in *in, int type, const char *key, size_t klen, long long expire) {
    in->empty_value = false;
    void *v = NULL;
    unsigned otype, enc = 0;
    switch (type) {
    case RDB_TYPE_STRING: {
        rstr s;
        if (!get_str(in, &s)) return NULL;
        entry *e = entry_new_string(key, klen, s.p, s.len, expire, s.len > EMBSTR_SIZE_LIMIT);
        str_release(&s);
        return e;
    }
    case RDB_TYPE_LIST:
    case RDB_TYPE_LIST_ZIPLIST:
    case RDB_TYPE_LIST_QUICKLIST:
    case RDB_TYPE_LIST_QUICKLIST_2:
        otype = OBJ_LIST;
        enc = ENC_QUICKLIST;
        v = type == RDB_TYPE_LIST          ? get_list_plain(in)
            : type == RDB_TYPE_LIST_ZIPLIST ? get_list_ziplist(in)
                                            : get_list_quicklist(in, type);
        break;
    case RDB_TYPE_SET:
    case RDB_TYPE_SET_INTSET: {
        set_value *s = type == RDB_TYPE_SET ? get_set_plain(in) : get_set_intset(in);
        otype = OBJ_SET;
        if (s) enc = s->enc;
        v = s;
        break;
    }
    case RDB_TYPE_ZSET:
    case RDB_TYPE_ZSET_2:
    case RDB_TYPE_ZSET_ZIPLIST:
    case RDB_TYPE_ZSET_LISTPACK: {
        bool plain = type == RDB_TYPE_ZSET || type == RDB_TYPE_ZSET_2;
        zset *z = plain ? get_zset_plain(in, type) : get_zset_packed(in, type);
        otype = OBJ_ZSET;
        if (z) enc = z->enc;
        v = z;
        break;
    }
    case RDB_TYPE_HASH:
    case RDB_TYPE_HASH_ZIPMAP:
    case RDB_TYPE_HASH_ZIPLIST:
    case RDB_TYPE_HASH_LISTPACK: {
        hash *h = type == RDB_TYPE_HASH ? get_hash_plain(in) : get_hash_packed(in, type);
        otype = OBJ_HASH;
        if (h) enc = hash_encoding(h);
        v = h;
        break;
    }
    case RDB_TYPE_STREAM_LISTPACKS:
    case RDB_TYPE_STREAM_LISTPACKS_2:
        otype = OBJ_STREAM;
        enc = ENC_STREAM;
        v = get_stream(in, type);
        break;
    default: {
        const char *name = unsupported_type_name(type);
        if (name)
            rdb_fail(in, "RDB type %d (%s) is not supported by slotcache", type, name);
        else
            rdb_fail(in, "Unknown RDB value type %d", type);
        return NULL;
    }
    }
    if (!v) return NULL;
    return entry_new_ptr(key, klen, otype, enc, v, expire);
}
