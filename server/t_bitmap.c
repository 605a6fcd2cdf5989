/*
 * t_bitmap.c - the bitmap commands on string values: SETBIT, GETBIT,
 * BITCOUNT, BITPOS, BITOP, BITFIELD and BITFIELD_RO.
 *
 * Design choices a reader must know:
 * - Bit 0 is the most significant bit of the first byte (Redis's order).
 *   A bitmap is a plain string value, stored inline in its keyspace entry
 *   (entry.h). A write that does not grow the string changes its bytes in
 *   place (an int-encoded value first becomes a raw string, an embstr is
 *   relabelled raw: OBJECT ENCODING then says "raw" as in Redis); growth
 *   reallocates the entry (db_grow_string: a large value is remapped, not
 *   copied) and a new bitmap is calloc'ed (no page touched until written).
 * - Like Redis's lookupStringForBitCommand, a write creates or grows the
 *   string before it knows whether anything changes: a SETBIT of a bit
 *   already set or a BITFIELD whose writes all fail under OVERFLOW FAIL
 *   leaves the padding (and the raw encoding) but states no change, so it
 *   raises no event and is not propagated, exactly as Redis 7.0.
 * - Counting, searching and BITOP go a 64-bit word at a time (memcpy loads,
 *   so any alignment is fine); BITFIELD reads and writes a field through a
 *   72-bit window of the 9 bytes that can hold it.
 * - Every change goes through the write funnel: "setbit" for SETBIT and
 *   BITFIELD writes, "set" for BITOP's destination ("del" when an empty
 *   result deletes it), all propagated verbatim.
 */
#include "client.h"
#include "command_modules.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "entry.h"
#include "mem.h"
#include "notify.h"
#include "numparse.h"
#include "stats.h"
#include "t_string.h"

#include <stdint.h>
#include <string.h>

#define ERR_BIT_OFFSET "ERR bit offset is not an integer or out of range"
#define ERR_BITFIELD_TYPE                                                                                          \
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."

/* ------------------------------------------------------------ bit helpers */

static uint64_t load64(const uint8_t *p) {
    uint64_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

/* Set bits in p[0..n), 32 bytes per step. Compiled twice on x86-64: for
 * the POPCNT instruction (one per word) and, for CPUs without it, for the
 * baseline, where __builtin_popcountll is a few shifts and masks. */
#define BIT_POPCOUNT_BODY                                                                                          \
    long long count = 0;                                                                                           \
    size_t i = 0;                                                                                                  \
    for (; i + 32 <= n; i += 32)                                                                                   \
        count += __builtin_popcountll(load64(p + i)) + __builtin_popcountll(load64(p + i + 8)) +                   \
                 __builtin_popcountll(load64(p + i + 16)) + __builtin_popcountll(load64(p + i + 24));              \
    for (; i + 8 <= n; i += 8) count += __builtin_popcountll(load64(p + i));                                       \
    for (; i < n; i++) count += __builtin_popcount(p[i]);                                                          \
    return count;

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("popcnt"))) static long long bit_popcount_hw(const uint8_t *p, size_t n) { BIT_POPCOUNT_BODY }
static long long bit_popcount_sw(const uint8_t *p, size_t n) { BIT_POPCOUNT_BODY }
static long long bit_popcount(const uint8_t *p, size_t n) {
    return __builtin_cpu_supports("popcnt") ? bit_popcount_hw(p, n) : bit_popcount_sw(p, n);
}
#else
static long long bit_popcount(const uint8_t *p, size_t n) { BIT_POPCOUNT_BODY }
#endif

/* Set bits among bits [from, to] of p (to < 8 * length of p). */
static long long bit_count_range(const uint8_t *p, uint64_t from, uint64_t to) {
    uint64_t b0 = from >> 3, b1 = to >> 3;
    long long count = bit_popcount(p + b0, (size_t)(b1 - b0 + 1));
    uint8_t before = (uint8_t)(0xff00 >> (from & 7)); /* bits of byte b0 ahead of `from` */
    uint8_t after = (uint8_t)(0xff >> ((to & 7) + 1)); /* bits of byte b1 past `to` */
    count -= __builtin_popcount(p[b0] & before) + __builtin_popcount(p[b1] & after);
    return count;
}

/* Position of the first bit equal to `bit` in whole bytes p[0..n), or -1. */
static long long bit_find_bytes(const uint8_t *p, size_t n, int bit) {
    uint64_t skip = bit ? 0 : UINT64_MAX;
    size_t i = 0;
    while (i + 8 <= n && load64(p + i) == skip) i += 8;
    for (; i < n; i++) {
        unsigned b = bit ? p[i] : (uint8_t)~p[i];
        if (b) return (long long)i * 8 + __builtin_clz(b) - (int)(8 * sizeof(unsigned) - 8);
    }
    return -1;
}

static bool bit_at(const uint8_t *p, uint64_t pos) { return (p[pos >> 3] >> (7 - (pos & 7))) & 1; }

/* Position of the first bit equal to `bit` among bits [from, to] of p, or -1. */
static long long bit_find_range(const uint8_t *p, uint64_t from, uint64_t to, int bit) {
    uint64_t pos = from;
    for (; pos <= to && (pos & 7); pos++) /* up to a byte boundary */
        if (bit_at(p, pos) == bit) return (long long)pos;
    if (pos > to) return -1;
    uint64_t whole = (to + 1 - pos) / 8;
    if (whole) {
        long long r = bit_find_bytes(p + (pos >> 3), (size_t)whole, bit);
        if (r >= 0) return (long long)pos + r;
        pos += whole * 8;
    }
    for (; pos <= to; pos++) /* the last partial byte */
        if (bit_at(p, pos) == bit) return (long long)pos;
    return -1;
}

/* Redis's getBitOffsetFromArgument: a bit offset, with BITFIELD's "#N"
 * form (N fields of `bits` bits) when `hash`. Below proto-max-bulk-len
 * bytes unless the command comes from our master. */
static bool bit_offset_or_reply(client *c, const arg_t *a, bool hash, int bits, uint64_t *out) {
    size_t skip = hash && bits > 0 && a->len > 0 && a->ptr[0] == '#';
    long long off;
    if (!parse_ll(a->ptr + skip, a->len - skip, &off)) goto err;
    if (skip) off = (long long)((uint64_t)off * (uint64_t)bits); /* wraps as Redis's multiplication does */
    if (off < 0 || (!(c->flags & CF_MASTER) && (off >> 3) >= cfg_get(proto_max_bulk_len))) goto err;
    *out = (uint64_t)off;
    return true;
err:
    add_reply_error(c, ERR_BIT_OFFSET);
    return false;
}

/* Redis's lookupStringForBitCommand: the string at argv[1], created or
 * zero-padded to at least `need` bytes and raw-encoded, its bytes writable
 * in place until the next keyspace change. *grown says whether it was
 * created or grew. NULL after a WRONGTYPE reply. */
static uint8_t *bit_writable(client *c, dbkey *k, size_t need, bool *grown, size_t *len) {
    long pos;
    dbkey_init(k, c->db, c->argv[1].ptr, c->argv[1].len);
    entry *e = db_lookup(k, LOOKUP_WRITE, &pos);
    if (reply_wrong_type(c, e, OBJ_STRING)) return NULL;
    *grown = false;
    if (!e) {
        e = entry_new_zero_string(k->key, k->len, need);
        db_add(k, e);
        *grown = true;
    } else {
        char buf[32];
        size_t olen;
        const char *ov = entry_string_value(e, buf, &olen);
        *grown = olen < need;
        if (entry_encoding(e) == ENC_INT) {
            e = str_build_raw(k, ov, olen, need, "", 0, entry_expire(e));
            db_replace(k, pos, e);
        } else if (olen < need) {
            e = db_grow_string(k, pos, need);
        } else if (entry_encoding(e) == ENC_EMBSTR) {
            entry_set_encoding(e, ENC_RAW); /* same layout: only the label changes */
        }
    }
    return (uint8_t *)entry_str(e, len); /* the entry is ours: its bytes may change */
}

/* The string at argv[1] for reading: its bytes in *p, *len (buf holds an
 * int's digits). Returns false after a reply: WRONGTYPE, or *absent as an
 * integer when the key is missing; with absent NULL a missing key reads as
 * an empty string. */
static bool bit_read_or_reply(client *c, const long long *absent, char buf[32], const uint8_t **p, size_t *len) {
    dbkey k;
    dbkey_init(&k, c->db, c->argv[1].ptr, c->argv[1].len);
    entry *e = db_lookup(&k, LOOKUP_READ, NULL);
    *p = NULL;
    *len = 0;
    if (!e && absent) add_reply_integer(c, *absent);
    if (!e) return !absent;
    if (reply_wrong_type(c, e, OBJ_STRING)) return false;
    *p = (const uint8_t *)entry_string_value(e, buf, len);
    return true;
}

/* The index of a among the names (case-insensitive, NULL-terminated), or -1. */
static int bit_keyword(const arg_t *a, const char *const *names) {
    for (int i = 0; names[i]; i++)
        if (arg_eq(a, names[i])) return i;
    return -1;
}

/* BITCOUNT / BITPOS's BYTE|BIT argument. */
static bool bit_unit_or_reply(client *c, const arg_t *a, bool *isbit) {
    int k = bit_keyword(a, (const char *const[]){"byte", "bit", NULL});
    if (k < 0) add_reply_error(c, ERR_SYNTAX);
    *isbit = k == 1;
    return k >= 0;
}

/* Clamp [*start, *end] (negative counts from the end) to a string of
 * `total` units, Redis's way. Returns false for an empty range. */
static bool bit_clamp(long long total, long long *start, long long *end) {
    if (*start < 0) *start += total;
    if (*end < 0) *end += total;
    if (*start < 0) *start = 0;
    if (*end < 0) *end = 0;
    if (*end >= total) *end = total - 1;
    return *start <= *end;
}

/* ------------------------------------------------------------ SETBIT, GETBIT */

static void setbit_command(client *c) {
    uint64_t off;
    long long on;
    if (!bit_offset_or_reply(c, &c->argv[2], false, 0, &off)) return;
    if (!arg_ll_or_reply(c, &c->argv[3], &on, "ERR bit is not an integer or out of range")) return;
    if (on & ~1LL) {
        add_reply_error(c, "ERR bit is not an integer or out of range");
        return;
    }
    dbkey k;
    bool grown;
    size_t len;
    uint8_t *p = bit_writable(c, &k, (size_t)(off >> 3) + 1, &grown, &len);
    if (!p) return;
    uint8_t *byte = &p[off >> 3];
    unsigned shift = 7 - (unsigned)(off & 7);
    int old = (*byte >> shift) & 1;
    if (grown || old != on) {
        *byte = (uint8_t)((*byte & ~(1u << shift)) | ((unsigned)on << shift));
        db_changed(&k, NOTIFY_STRING, "setbit");
    }
    add_reply_integer(c, old);
}

static void getbit_command(client *c) {
    uint64_t off;
    if (!bit_offset_or_reply(c, &c->argv[2], false, 0, &off)) return;
    char buf[32];
    const uint8_t *p;
    size_t len;
    if (!bit_read_or_reply(c, &(long long){0}, buf, &p, &len)) return;
    add_reply_integer(c, (off >> 3) < len ? (p[off >> 3] >> (7 - (off & 7))) & 1 : 0);
}

/* ------------------------------------------------------------ BITCOUNT, BITPOS */

/* BITCOUNT key [start end [BYTE|BIT]]. As Redis, a missing key answers 0
 * before the arguments are looked at. */
static void bitcount_command(client *c) {
    char buf[32];
    const uint8_t *p;
    size_t len;
    if (!bit_read_or_reply(c, &(long long){0}, buf, &p, &len)) return;
    if (c->argc == 2) {
        add_reply_integer(c, bit_popcount(p, len));
        return;
    }
    if (c->argc != 4 && c->argc != 5) {
        add_reply_error(c, ERR_SYNTAX);
        return;
    }
    long long start, end;
    bool isbit = false;
    if (!arg_ll_or_reply(c, &c->argv[2], &start, NULL) || !arg_ll_or_reply(c, &c->argv[3], &end, NULL)) return;
    if (start < 0 && end < 0 && start > end) {
        add_reply_integer(c, 0);
        return;
    }
    if (c->argc == 5 && !bit_unit_or_reply(c, &c->argv[4], &isbit)) return;
    long long total = isbit ? (long long)len * 8 : (long long)len;
    if (!bit_clamp(total, &start, &end)) {
        add_reply_integer(c, 0);
        return;
    }
    if (!isbit) {
        start *= 8;
        end = end * 8 + 7;
    }
    add_reply_integer(c, bit_count_range(p, (uint64_t)start, (uint64_t)end));
}

/* BITPOS key bit [start [end [BYTE|BIT]]]. Without an end, the string is
 * seen as followed by zeros (a clear bit is always found); with one, -1
 * means none in the range. */
static void bitpos_command(client *c) {
    long long bit;
    if (!arg_ll_or_reply(c, &c->argv[2], &bit, NULL)) return;
    if (bit != 0 && bit != 1) {
        add_reply_error(c, "ERR The bit argument must be 1 or 0.");
        return;
    }
    char buf[32];
    const uint8_t *p;
    size_t len;
    if (!bit_read_or_reply(c, &(long long){bit ? -1 : 0}, buf, &p, &len)) return;
    long long start = 0, end = (long long)len - 1;
    bool isbit = false, end_given = c->argc >= 5;
    if (c->argc > 6) {
        add_reply_error(c, ERR_SYNTAX);
        return;
    }
    if (c->argc >= 4) {
        if (!arg_ll_or_reply(c, &c->argv[3], &start, NULL)) return;
        if (c->argc == 6 && !bit_unit_or_reply(c, &c->argv[5], &isbit)) return;
        if (end_given && !arg_ll_or_reply(c, &c->argv[4], &end, NULL)) return;
        long long total = isbit ? (long long)len * 8 : (long long)len;
        if (!end_given) end = total - 1;
        if (!bit_clamp(total, &start, &end)) {
            add_reply_integer(c, -1);
            return;
        }
    } else if (start > end) { /* an empty string */
        add_reply_integer(c, -1);
        return;
    }
    if (!isbit) {
        start *= 8;
        end = end * 8 + 7;
    }
    long long pos = bit_find_range(p, (uint64_t)start, (uint64_t)end, (int)bit);
    if (pos < 0 && bit == 0 && !end_given) pos = end + 1; /* the zero padding right after the string */
    add_reply_integer(c, pos);
}

/* ------------------------------------------------------------ BITOP */

enum { BITOP_AND, BITOP_OR, BITOP_XOR, BITOP_NOT };

/* res[0..n) op= src[0..n), a word at a time. */
static void bitop_combine(uint8_t *res, const uint8_t *src, size_t n, int op) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t a = load64(res + i), b = load64(src + i);
        a = op == BITOP_AND ? a & b : op == BITOP_OR ? a | b : a ^ b;
        memcpy(res + i, &a, sizeof a);
    }
    for (; i < n; i++) res[i] = op == BITOP_AND ? res[i] & src[i] : op == BITOP_OR ? res[i] | src[i] : res[i] ^ src[i];
}

/* BITOP AND|OR|XOR|NOT destkey key [key ...]: missing sources are empty
 * strings, shorter ones are zero-padded; the result (raw, no TTL) replaces
 * destkey, or an empty result deletes it. Replies the result's length. */
static void bitop_command(client *c) {
    int op = bit_keyword(&c->argv[1], (const char *const[]){"and", "or", "xor", "not", NULL}); /* BITOP_* order */
    if (op < 0) {
        add_reply_error(c, ERR_SYNTAX);
        return;
    }
    if (op == BITOP_NOT && c->argc != 4) {
        add_reply_error(c, "ERR BITOP NOT must be called with a single source key.");
        return;
    }
    int n = c->argc - 3;
    typedef struct {
        const uint8_t *p;
        size_t len;
        char digits[24]; /* an int-encoded source's string form */
    } bitop_src;
    bitop_src *src = mem_alloc(sizeof *src * (size_t)n);
    size_t maxlen = 0;
    for (int j = 0; j < n; j++) {
        dbkey k;
        dbkey_init(&k, c->db, c->argv[j + 3].ptr, c->argv[j + 3].len);
        entry *e = db_lookup(&k, LOOKUP_READ, NULL);
        src[j].p = NULL;
        src[j].len = 0;
        if (!e) continue;
        if (reply_wrong_type(c, e, OBJ_STRING)) {
            mem_free(src);
            return;
        }
        src[j].p = (const uint8_t *)entry_string_value(e, src[j].digits, &src[j].len);
        if (src[j].len > maxlen) maxlen = src[j].len;
    }
    /* The slot locks of every key are held: the sources stay put while the
     * result is built, even when destkey is one of them. */
    dbkey dk;
    dbkey_init(&dk, c->db, c->argv[2].ptr, c->argv[2].len);
    if (maxlen) {
        char *res;
        entry *e = entry_new_raw_string(dk.key, dk.len, maxlen, -1, &res);
        uint8_t *r = (uint8_t *)res;
        memset(r, 0, maxlen);
        if (src[0].len) memcpy(r, src[0].p, src[0].len);
        if (op == BITOP_NOT) {
            for (size_t i = 0; i < maxlen; i++) r[i] = (uint8_t)~r[i];
        } else {
            for (int j = 1; j < n; j++) {
                bitop_combine(r, src[j].p, src[j].len, op);
                if (op == BITOP_AND) memset(r + src[j].len, 0, maxlen - src[j].len);
            }
        }
        mem_free(src);
        db_set(&dk, e);
        db_changed(&dk, NOTIFY_STRING, "set");
    } else {
        mem_free(src);
        if (db_delete(&dk)) db_changed(&dk, NOTIFY_GENERIC, "del");
    }
    add_reply_integer(c, (long long)maxlen);
}

/* ------------------------------------------------------------ BITFIELD */

enum { BF_GET, BF_SET, BF_INCRBY };
enum { BF_WRAP, BF_SAT, BF_FAIL };

typedef struct {
    uint64_t offset;
    int64_t value; /* SET's value or INCRBY's increment */
    int opcode, overflow, bits;
    bool sign;
} bf_op;

/* The 72-bit window of the 9 bytes from byte `byte` of p (len bytes; zeros
 * past the end), the first byte most significant. */
static unsigned __int128 bf_window(const uint8_t *p, size_t len, uint64_t byte) {
    unsigned __int128 w = 0;
    for (int i = 0; i < 9; i++) w = (w << 8) | (byte + (uint64_t)i < len ? p[byte + (uint64_t)i] : 0);
    return w;
}

/* The `bits`-bit field at bit `off` of p, unsigned. */
static uint64_t bf_get(const uint8_t *p, size_t len, uint64_t off, int bits) {
    unsigned lsb = 72 - (unsigned)(off & 7) - (unsigned)bits;
    uint64_t mask = bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
    return (uint64_t)(bf_window(p, len, off >> 3) >> lsb) & mask;
}

/* The same, sign-extended from the field's top bit. */
static int64_t bf_get_signed(const uint8_t *p, size_t len, uint64_t off, int bits) {
    uint64_t v = bf_get(p, len, off, bits);
    if (bits < 64 && (v >> (bits - 1)) & 1) v |= UINT64_MAX << bits;
    return (int64_t)v;
}

/* Store the low `bits` bits of v at bit `off` (the field lies within len). */
static void bf_set(uint8_t *p, size_t len, uint64_t off, int bits, uint64_t v) {
    uint64_t byte = off >> 3;
    unsigned lsb = 72 - (unsigned)(off & 7) - (unsigned)bits;
    unsigned __int128 mask = (((unsigned __int128)1 << bits) - 1) << lsb;
    unsigned __int128 w = bf_window(p, len, byte);
    w = (w & ~mask) | (((unsigned __int128)v << lsb) & mask);
    unsigned nbytes = ((unsigned)(off & 7) + (unsigned)bits + 7) / 8;
    for (unsigned i = 0; i < nbytes; i++) p[byte + i] = (uint8_t)(w >> (8 * (8 - i)));
}

/* Overflow of an unsigned `bits`-bit field holding `v` plus `incr` (SET
 * checks its value with incr 0): 1 above, -1 below the range, 0 if it
 * fits; *limit is the value to store under WRAP or SAT. Redis's
 * conditions, including how they read a SET value that is negative (as a
 * huge unsigned: too big). */
static int bf_overflow_unsigned(uint64_t v, int64_t incr, int bits, int ow, uint64_t *limit) {
    uint64_t max = bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
    int64_t maxincr = (int64_t)(max - v), minincr = (int64_t)(0 - v);
    int dir = 0;
    if (v > max || (incr > 0 && incr > maxincr))
        dir = 1;
    else if (incr < 0 && incr < minincr)
        dir = -1;
    if (dir && ow == BF_WRAP) *limit = (v + (uint64_t)incr) & max;
    if (dir && ow == BF_SAT) *limit = dir > 0 ? max : 0;
    return dir;
}

/* The same for a signed field; the increment bounds are computed with
 * wrap-around as in Redis, which decides how out-of-range SET values
 * saturate. */
static int bf_overflow_signed(int64_t v, int64_t incr, int bits, int ow, int64_t *limit) {
    int64_t max = bits == 64 ? INT64_MAX : (int64_t)(((uint64_t)1 << (bits - 1)) - 1);
    int64_t min = -max - 1;
    int64_t maxincr = (int64_t)((uint64_t)max - (uint64_t)v), minincr = (int64_t)((uint64_t)min - (uint64_t)v);
    int dir = 0;
    if (v > max || (bits != 64 && incr > maxincr) || (v >= 0 && incr > 0 && incr > maxincr))
        dir = 1;
    else if (v < min || (bits != 64 && incr < minincr) || (v < 0 && incr < 0 && incr < minincr))
        dir = -1;
    if (dir && ow == BF_WRAP) {
        uint64_t r = (uint64_t)v + (uint64_t)incr;
        if (bits < 64) r = (r >> (bits - 1)) & 1 ? r | (UINT64_MAX << bits) : r & ~(UINT64_MAX << bits);
        *limit = (int64_t)r;
    }
    if (dir && ow == BF_SAT) *limit = dir > 0 ? max : min;
    return dir;
}

/* Redis's getBitfieldTypeFromArgument: i1..i64 or u1..u63 (the digits end
 * at a NUL byte, as Redis reads them as a C string). */
static bool bf_type_or_reply(client *c, const arg_t *a, bool *sign, int *bits) {
    long long n;
    if (a->len < 1 || (a->ptr[0] != 'i' && a->ptr[0] != 'u') ||
        !parse_ll(a->ptr + 1, strnlen(a->ptr + 1, a->len - 1), &n) || n < 1 || n > (a->ptr[0] == 'i' ? 64 : 63)) {
        add_reply_error(c, ERR_BITFIELD_TYPE);
        return false;
    }
    *sign = a->ptr[0] == 'i';
    *bits = (int)n;
    return true;
}

/* Parse the subcommands into ops (room for argc / 3 + 1). Returns the
 * number of ops, -1 after an error reply; *writes counts SET/INCRBY and
 * *highest is the last bit they touch. */
static int bf_parse(client *c, bf_op *ops, int *writes, uint64_t *highest) {
    int n = 0, overflow = BF_WRAP;
    *writes = 0;
    *highest = 0;
    for (int j = 2; j < c->argc; j++) {
        int rem = c->argc - j - 1;
        const arg_t *a = &c->argv[j];
        bf_op *op = &ops[n];
        if (arg_eq(a, "get") && rem >= 2) {
            op->opcode = BF_GET;
        } else if (arg_eq(a, "set") && rem >= 3) {
            op->opcode = BF_SET;
        } else if (arg_eq(a, "incrby") && rem >= 3) {
            op->opcode = BF_INCRBY;
        } else if (arg_eq(a, "overflow") && rem >= 1) {
            overflow = bit_keyword(&c->argv[++j], (const char *const[]){"wrap", "sat", "fail", NULL}); /* BF_* */
            if (overflow < 0) {
                add_reply_error(c, "ERR Invalid OVERFLOW type specified");
                return -1;
            }
            continue;
        } else {
            add_reply_error(c, ERR_SYNTAX);
            return -1;
        }
        if (!bf_type_or_reply(c, &c->argv[j + 1], &op->sign, &op->bits)) return -1;
        if (!bit_offset_or_reply(c, &c->argv[j + 2], true, op->bits, &op->offset)) return -1;
        op->value = 0;
        op->overflow = overflow;
        if (op->opcode != BF_GET) {
            long long v;
            if (!arg_ll_or_reply(c, &c->argv[j + 3], &v, NULL)) return -1;
            op->value = v;
            (*writes)++;
            if (op->offset + (uint64_t)op->bits - 1 > *highest) *highest = op->offset + (uint64_t)op->bits - 1;
        }
        n++;
        j += op->opcode == BF_GET ? 2 : 3;
    }
    return n;
}

/* Run one SET or INCRBY on p (len bytes, long enough) and reply its value
 * (SET: the old one, INCRBY: the new one) or null when OVERFLOW FAIL stops
 * it. Returns 1 if the field changed, 0 if it was written unchanged, -1 if
 * OVERFLOW FAIL stopped the write. */
static int bf_write(client *c, const bf_op *op, uint8_t *p, size_t len) {
    bool incr = op->opcode == BF_INCRBY;
    uint64_t oldbits = bf_get(p, len, op->offset, op->bits), newbits;
    long long reply;
    int dir;
    if (op->sign) {
        int64_t old = bf_get_signed(p, len, op->offset, op->bits), limit = 0, v;
        if (incr) {
            dir = bf_overflow_signed(old, op->value, op->bits, op->overflow, &limit);
            v = dir ? limit : (int64_t)((uint64_t)old + (uint64_t)op->value);
            reply = v;
        } else {
            dir = bf_overflow_signed(op->value, 0, op->bits, op->overflow, &limit);
            v = dir ? limit : op->value;
            reply = old;
        }
        newbits = (uint64_t)v;
    } else {
        uint64_t limit = 0;
        if (incr) {
            dir = bf_overflow_unsigned(oldbits, op->value, op->bits, op->overflow, &limit);
            newbits = dir ? limit : oldbits + (uint64_t)op->value;
            reply = (long long)newbits;
        } else {
            dir = bf_overflow_unsigned((uint64_t)op->value, 0, op->bits, op->overflow, &limit);
            newbits = dir ? limit : (uint64_t)op->value;
            reply = (long long)oldbits;
        }
    }
    if (dir && op->overflow == BF_FAIL) {
        add_reply_null(c);
        return -1;
    }
    add_reply_integer(c, reply);
    bf_set(p, len, op->offset, op->bits, newbits);
    uint64_t mask = op->bits == 64 ? UINT64_MAX : ((uint64_t)1 << op->bits) - 1;
    return (newbits & mask) != oldbits;
}

static void bf_reply_get(client *c, const bf_op *op, const uint8_t *p, size_t len) {
    if (op->sign)
        add_reply_integer(c, bf_get_signed(p, len, op->offset, op->bits));
    else
        add_reply_integer(c, (long long)bf_get(p, len, op->offset, op->bits));
}

/* BITFIELD / BITFIELD_RO (readonly: GET only). The subcommands are all
 * parsed first; then the string is read, or, with a write among them,
 * created or padded up to the farthest bit written, and the ops run in
 * order. One "setbit" event if any write changed a field (or the string
 * was created or grew and a write ran). */
static void bitfield_generic(client *c, bool readonly) {
    bf_op *ops = mem_alloc(sizeof *ops * (size_t)(c->argc / 3 + 1));
    int writes;
    uint64_t highest;
    int n = bf_parse(c, ops, &writes, &highest);
    if (n < 0) goto done;

    const uint8_t *rp = NULL;
    uint8_t *wp = NULL;
    size_t len = 0;
    char buf[32];
    dbkey k;
    bool grown = false;
    if (!writes) {
        if (!bit_read_or_reply(c, NULL, buf, &rp, &len)) goto done;
    } else {
        if (readonly) {
            add_reply_error(c, "ERR BITFIELD_RO only supports the GET subcommand");
            goto done;
        }
        if (!(wp = bit_writable(c, &k, (size_t)(highest >> 3) + 1, &grown, &len))) goto done;
        rp = wp;
    }

    add_reply_array(c, n);
    int changes = 0;
    for (int j = 0; j < n; j++) {
        if (ops[j].opcode == BF_GET) {
            bf_reply_get(c, &ops[j], rp, len);
        } else {
            int r = bf_write(c, &ops[j], wp, len);
            if (r > 0 || (r == 0 && grown)) changes++;
        }
    }
    if (changes) {
        db_changed(&k, NOTIFY_STRING, "setbit");
        if (changes > 1) stat_add(STAT_DIRTY, (uint64_t)changes - 1); /* Redis: dirty += changes */
    }
done:
    mem_free(ops);
}

static void bitfield_command(client *c) { bitfield_generic(c, false); }
static void bitfield_ro_command(client *c) { bitfield_generic(c, true); }

/* ------------------------------------------------------------ table */

command bitmap_commands[] = {
    {.name = "setbit", .arity = 4, .flags = CMD_WRITE | CMD_DENYOOM, .first_key = 1, .last_key = 1, .key_step = 1,
     .proc = setbit_command, .group = "bitmap", .since = "2.2.0",
     .summary = "Sets or clears the bit at offset in the string value stored at key", .complexity = "O(1)",
     .acl_categories = "write bitmap slow"},
    {.name = "getbit", .arity = 3, .flags = CMD_READONLY | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .proc = getbit_command, .group = "bitmap", .since = "2.2.0",
     .summary = "Returns the bit value at offset in the string value stored at key", .complexity = "O(1)",
     .acl_categories = "read bitmap fast"},
    {.name = "bitcount", .arity = -2, .flags = CMD_READONLY, .first_key = 1, .last_key = 1, .key_step = 1,
     .proc = bitcount_command, .group = "bitmap", .since = "2.6.0", .summary = "Count set bits in a string",
     .complexity = "O(N)", .acl_categories = "read bitmap slow"},
    {.name = "bitpos", .arity = -3, .flags = CMD_READONLY, .first_key = 1, .last_key = 1, .key_step = 1,
     .proc = bitpos_command, .group = "bitmap", .since = "2.8.7", .summary = "Find first bit set or clear in a string",
     .complexity = "O(N)", .acl_categories = "read bitmap slow"},
    {.name = "bitop", .arity = -4, .flags = CMD_WRITE | CMD_DENYOOM, .first_key = 2, .last_key = -1, .key_step = 1,
     .proc = bitop_command, .group = "bitmap", .since = "2.6.0",
     .summary = "Perform bitwise operations between strings", .complexity = "O(N)",
     .acl_categories = "write bitmap slow"},
    {.name = "bitfield", .arity = -2, .flags = CMD_WRITE | CMD_DENYOOM, .first_key = 1, .last_key = 1,
     .key_step = 1, .proc = bitfield_command, .group = "bitmap", .since = "3.2.0",
     .summary = "Perform arbitrary bitfield integer operations on strings",
     .complexity = "O(1) for each subcommand specified", .acl_categories = "write bitmap slow"},
    {.name = "bitfield_ro", .arity = -2, .flags = CMD_READONLY | CMD_FAST, .first_key = 1, .last_key = 1,
     .key_step = 1, .proc = bitfield_ro_command, .group = "bitmap", .since = "6.0.0",
     .summary = "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
     .complexity = "O(1) for each subcommand specified", .acl_categories = "read bitmap fast"},
    {0},
};
