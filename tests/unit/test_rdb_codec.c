/*
 * test_rdb_codec.c - the RDB value codec (server/rdb_codec.h) and Redis's
 * packed formats (server/rdb_packed.h):
 * - the length and string encodings, byte for byte (integers, LZF);
 * - golden DUMP bodies produced by redis-server 7.0.15 for small values of
 *   every packed encoding: written identically, and read back;
 * - round trips of every type and encoding through rdb_put_value /
 *   rdb_get_value (contents, encoding, all input consumed);
 * - the encodings only older Redis versions write (RDB_TYPE_LIST, SET,
 *   ZSET with text scores, HASH, zipmap, ziplist lists / hashes / zsets,
 *   quicklist of ziplists, quicklist PLAIN nodes), built by hand from the
 *   format descriptions;
 * - conversion on load under the current configuration, as Redis converts;
 * - rejection of malformed values (duplicates, NaN, empty, bad headers and
 *   counts, unsupported types) with a reason;
 * - every truncation and thousands of random mutations of valid values:
 *   NULL or a sane value, never a crash or a leak (run under ASan);
 * - streams with consumer groups: written, read and written again to the
 *   same bytes, type 15's estimated entries_read, and every truncation and
 *   random mutations of such a value.
 */
#include "config.h"
#include "entry.h"
#include "mem.h"
#include "quicklist.h"
#include "rdb_codec.h"
#include "rdb_packed.h"
#include "serial.h"
#include "stream.h"
#include "stream_group.h"
#include "t_hash.h"
#include "t_set.h"
#include "t_zset.h"
#include "types.h"

#include <criterion/criterion.h>
#include <lzf.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char long_x[301];

static void setup(void) {
    memset(long_x, 'x', 300);
    config_init_defaults();
    t_hash_init();
    t_list_init();
    t_set_init();
    t_zset_init();
    t_stream_init(); /* so that entry_free frees a stream value (ASan's leak check) */
}

TestSuite(rdb, .init = setup);

/* ------------------------------------------------------------ helpers */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rng(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

static void hex_to(serial_buf *b, const char *hex) {
    for (size_t i = 0; hex[i] && hex[i + 1]; i += 2) {
        unsigned v;
        sscanf(hex + i, "%2x", &v);
        serial_put_u8(b, (uint8_t)v);
    }
}

static char *to_hex(const unsigned char *p, size_t n) {
    char *s = malloc(2 * n + 1);
    for (size_t i = 0; i < n; i++) sprintf(s + 2 * i, "%02x", p[i]);
    s[2 * n] = 0;
    return s;
}

/* Read one value (type byte first) from p; NULL with the reason in err. */
static entry *load(const unsigned char *p, size_t n, char *err, bool *all_read) {
    rdb_in in;
    rdb_in_init(&in, p, n);
    uint8_t t;
    entry *e = NULL;
    if (rdb_get_u8(&in, &t)) e = rdb_get_value(&in, t, "k", 1, -1);
    if (err) snprintf(err, 200, "%s", in.err);
    if (all_read) *all_read = in.p == in.end;
    return e;
}

static entry *load_ok(const serial_buf *b) {
    char err[200];
    bool all;
    entry *e = load(b->buf, b->len, err, &all);
    cr_assert_not_null(e, "load failed: %s", err);
    cr_assert(all, "value not read to its end");
    return e;
}

static void load_fails(const serial_buf *b, const char *want_in_err) {
    char err[200];
    entry *e = load(b->buf, b->len, err, NULL);
    char *hex = to_hex(b->buf, b->len < 64 ? b->len : 64);
    cr_assert_null(e, "accepted %s", hex);
    cr_assert(strstr(err, want_in_err), "error \"%s\" does not mention \"%s\" (payload %s)", err, want_in_err, hex);
    free(hex);
}

static serial_buf encode(const entry *e, bool compress) {
    serial_buf b;
    serial_init(&b);
    rdb_put_value(&b, e, compress);
    return b;
}

/* ---- canonical contents: type, then elements (sorted for sets/hashes) */

typedef struct {
    char *p;
    size_t len;
} item;

static int item_cmp(const void *a, const void *b) {
    const item *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->p, y->p, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

typedef struct {
    item *v;
    size_t n, cap;
} items;

static void items_add(items *s, const char *p, size_t len, const char *p2, size_t len2) {
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
    }
    item *it = &s->v[s->n++];
    it->len = len + 1 + len2;
    it->p = malloc(it->len + 1);
    memcpy(it->p, p, len);
    it->p[len] = 0;
    if (len2) memcpy(it->p + len + 1, p2, len2);
}

static void canon(const entry *e, serial_buf *out) {
    char num[64];
    serial_put_u8(out, (uint8_t)entry_type(e));
    items s = {0};
    bool sort = true;
    switch (entry_type(e)) {
    case OBJ_STRING: {
        size_t len;
        const char *v = entry_string_value(e, num, &len);
        serial_put_raw(out, v, len);
        return;
    }
    case OBJ_LIST: {
        const quicklist *ql = entry_ptr(e);
        sort = false;
        for (const ql_node *n = ql->head; n; n = n->next)
            for (size_t off = lp_first(n->lp); off < lp_end(n->lp);) {
                const char *p;
                size_t len;
                off = lp_get(n->lp, off, &p, &len);
                items_add(&s, p, len, NULL, 0);
            }
        break;
    }
    case OBJ_SET: {
        set_iter it;
        set_elem el;
        set_iter_init(&it, entry_ptr(e));
        while (set_iter_next(&it, &el)) items_add(&s, el.p, el.len, NULL, 0);
        break;
    }
    case OBJ_HASH: {
        hash_iter it;
        const char *f, *v;
        size_t fl, vl;
        hash_iter_init(&it, entry_ptr(e));
        while (hash_iter_next(&it, &f, &fl, &v, &vl)) items_add(&s, f, fl, v, vl);
        break;
    }
    case OBJ_ZSET: {
        zset_iter it;
        const char *m;
        size_t len;
        double sc;
        sort = false;
        zset_iter_init(&it, entry_ptr(e));
        while (zset_iter_next(&it, &m, &len, &sc)) {
            int n = snprintf(num, sizeof num, "%.17g", sc);
            items_add(&s, m, len, num, (size_t)n);
        }
        break;
    }
    }
    if (sort && s.n) qsort(s.v, s.n, sizeof *s.v, item_cmp); /* a stream has no items here */
    for (size_t i = 0; i < s.n; i++) {
        char hdr[24];
        int n = snprintf(hdr, sizeof hdr, "%zu:", s.v[i].len);
        serial_put_raw(out, hdr, (size_t)n);
        serial_put_raw(out, s.v[i].p, s.v[i].len);
        free(s.v[i].p);
    }
    free(s.v);
}

static bool same_contents(const entry *a, const entry *b) {
    serial_buf x, y;
    serial_init(&x);
    serial_init(&y);
    canon(a, &x);
    canon(b, &y);
    bool same = x.len == y.len && memcmp(x.buf, y.buf, x.len) == 0;
    serial_free(&x);
    serial_free(&y);
    return same;
}

/* Encode, decode, compare contents and encoding; return the bytes. */
static serial_buf roundtrip(const entry *e, bool compress) {
    serial_buf b = encode(e, compress);
    entry *r = load_ok(&b);
    cr_assert_eq(entry_type(r), entry_type(e));
    cr_assert_eq(entry_encoding(r), entry_encoding(e), "encoding %s came back as %s",
                 entry_encoding_name(entry_encoding(e)), entry_encoding_name(entry_encoding(r)));
    cr_assert(same_contents(e, r), "contents differ after a round trip");
    entry_free(r);
    return b;
}

/* ---- building values through the type APIs */

static entry *str_entry(const char *p, size_t len) { return entry_new_string("k", 1, p, len, -1, false); }

static entry *list_entry(int fill, int n, size_t (*gen)(int i, char *buf)) {
    quicklist *ql = ql_new(fill);
    char buf[9000];
    for (int i = 0; i < n; i++) ql_push(ql, QL_TAIL, buf, gen(i, buf));
    return entry_new_ptr("k", 1, OBJ_LIST, ENC_QUICKLIST, ql, -1);
}

static entry *set_entry(int n, size_t (*gen)(int i, char *buf)) {
    set_value *s = set_new();
    char buf[64];
    for (int i = 0; i < n; i++) set_add(s, buf, gen(i, buf), set_max_intset());
    return entry_new_ptr("k", 1, OBJ_SET, s->enc, s, -1);
}

static entry *hash_entry(int n, size_t vlen) {
    hash_limits lim;
    hash_limits_from_config(&lim);
    hash *h = hash_new();
    char f[32], v[512];
    for (int i = 0; i < n; i++) {
        int fl = snprintf(f, sizeof f, i % 3 ? "field-%d" : "%d", i);
        memset(v, 'a' + i % 26, vlen);
        if (i % 5 == 0 && vlen >= 8) snprintf(v, vlen, "%d", -i * 1000);
        hash_set(&h, f, (size_t)fl, v, i % 5 == 0 && vlen >= 8 ? strlen(v) : vlen, &lim);
    }
    return entry_new_ptr("k", 1, OBJ_HASH, hash_encoding(h), h, -1);
}

static const double special_scores[] = {0, -0.0, 1, -1, 1.5, 0.1, -2.5e-300, 1e20, -1e300, 4611686018427387904.0,
                                        9007199254740993.0, 123456789, INFINITY, -INFINITY};

static entry *zset_entry(int n, size_t mlen) {
    zset_limits lim;
    zset_limits_from_config(&lim);
    zset *z = zset_new();
    char m[256];
    for (int i = 0; i < n; i++) {
        int ml = snprintf(m, sizeof m, "%d", i);
        if (mlen > (size_t)ml) {
            memset(m + ml, 'm', mlen - (size_t)ml);
            ml = (int)mlen;
        }
        double score = i < 14 ? special_scores[i] : (double)(i % 7) / 3 - 1;
        int out;
        zset_add(z, score, m, (size_t)ml, 0, &out, NULL, &lim);
    }
    return entry_new_ptr("k", 1, OBJ_ZSET, z->enc, z, -1);
}

static size_t gen_words(int i, char *buf) { return (size_t)sprintf(buf, "item-%d-%s", i, i % 2 ? "odd" : "even"); }
static size_t gen_ints(int i, char *buf) { return (size_t)sprintf(buf, "%lld", (long long)(i - 50) * 982451653LL); }
static size_t gen_small_ints(int i, char *buf) { return (size_t)sprintf(buf, "%d", i * 3 - 100); }
static size_t gen_mixed(int i, char *buf) {
    if (i % 7 == 0) return 0; /* empty element */
    if (i % 11 == 0) {        /* long element */
        size_t n = 300 + (size_t)i * 13 % 5000;
        for (size_t k = 0; k < n; k++) buf[k] = (char)('a' + (k * 7 + (size_t)i) % 26);
        return n;
    }
    if (i % 3 == 0) return gen_ints(i, buf);
    return gen_words(i, buf);
}

/* ------------------------------------------------------------ primitives */

Test(rdb, lengths_byte_exact) {
    static const struct {
        uint64_t v;
        const char *hex;
    } cases[] = {
        {0, "00"},
        {63, "3f"},
        {64, "4040"},
        {16383, "7fff"},
        {16384, "8000004000"},
        {UINT32_MAX, "80ffffffff"},
        {(uint64_t)UINT32_MAX + 1, "810000000100000000"},
        {UINT64_MAX, "81ffffffffffffffff"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        serial_buf b;
        serial_init(&b);
        rdb_put_len(&b, cases[i].v);
        char *h = to_hex(b.buf, b.len);
        cr_assert_str_eq(h, cases[i].hex, "length %llu", (unsigned long long)cases[i].v);
        free(h);
        rdb_in in;
        rdb_in_init(&in, b.buf, b.len);
        uint64_t v;
        bool enc;
        cr_assert(rdb_get_len(&in, &v, &enc));
        cr_assert_eq(v, cases[i].v);
        cr_assert_not(enc);
        cr_assert_eq(in.p, in.end);
        for (size_t cut = 0; cut < b.len; cut++) {
            rdb_in_init(&in, b.buf, cut);
            cr_assert_not(rdb_get_len(&in, &v, &enc), "length cut at %zu accepted", cut);
            cr_assert(strstr(in.err, "end of data"), "%s", in.err);
        }
        serial_free(&b);
    }
    /* 0x82..0xbf are not length encodings. */
    const unsigned char bad[] = {0x82, 0, 0, 0, 0};
    rdb_in in;
    rdb_in_init(&in, bad, sizeof bad);
    uint64_t v;
    cr_assert_not(rdb_get_len(&in, &v, NULL));
    cr_assert(strstr(in.err, "Unknown length encoding") && strstr(in.err, "offset 1"), "%s", in.err);
}

Test(rdb, strings_byte_exact) {
    static const struct {
        const char *s;
        const char *hex;
    } cases[] = {
        {"", "00"},
        {"0", "c000"},
        {"-1", "c0ff"},
        {"127", "c07f"},
        {"128", "c18000"},
        {"-32768", "c10080"},
        {"12345", "c13930"},
        {"2147483647", "c2ffffff7f"},
        {"-2147483648", "c200000080"},
        {"2147483648", "0a32313437343833363438"}, /* beyond 32 bits: a string */
        {"-0", "022d30"},                          /* not canonical: a string */
        {"007", "03303037"},
        {"+1", "022b31"},
        {"hello", "0568656c6c6f"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        serial_buf b;
        serial_init(&b);
        rdb_put_string(&b, cases[i].s, strlen(cases[i].s), true);
        char *h = to_hex(b.buf, b.len);
        cr_assert_str_eq(h, cases[i].hex, "string \"%s\"", cases[i].s);
        free(h);
        rdb_in in;
        rdb_in_init(&in, b.buf, b.len);
        char *out;
        size_t len;
        cr_assert(rdb_get_string(&in, &out, &len), "%s", in.err);
        cr_assert_eq(len, strlen(cases[i].s));
        cr_assert_str_eq(out, cases[i].s);
        mem_free(out);
        serial_free(&b);
    }
}

Test(rdb, lzf_strings) {
    char big[1000];
    memset(big, 'a', sizeof big);
    serial_buf b;
    serial_init(&b);
    /* Compressed only when asked, longer than 20 bytes and it saves 4. */
    rdb_put_string(&b, big, 20, true);
    cr_assert_eq(b.buf[0], 20);
    b.len = 0;
    rdb_put_string(&b, big, 100, false);
    cr_assert_eq(b.buf[0], 0x40);
    b.len = 0;
    rdb_put_string(&b, big, 100, true);
    char *h = to_hex(b.buf, b.len);
    cr_assert_str_eq(h, "c3094064016161e0570001616" "1", "redis-server's bytes for 'a' x 100");
    free(h);
    b.len = 0;
    char rnd[300];
    for (size_t i = 0; i < sizeof rnd; i++) rnd[i] = (char)rng();
    rdb_put_string(&b, rnd, sizeof rnd, true);
    cr_assert_eq(b.buf[0], 0x41, "incompressible data stored as it is");
    b.len = 0;
    rdb_put_string(&b, big, sizeof big, true);
    rdb_in in;
    rdb_in_init(&in, b.buf, b.len);
    char *out;
    size_t len;
    cr_assert(rdb_get_string(&in, &out, &len));
    cr_assert_eq(len, sizeof big);
    cr_assert_eq(memcmp(out, big, len), 0);
    mem_free(out);

    /* Lying lengths: uncompressed length too large for the data, zero
     * lengths, compressed data past the end, a corrupt stream. */
    static const char *const bad[] = {"c3054064016161", "c300406401", "c3050001616161", "c3094064016161e057",
                                      "c30940ff016161e0570001616161", "c30340640120ff00"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        serial_buf x;
        serial_init(&x);
        hex_to(&x, bad[i]);
        rdb_in_init(&in, x.buf, x.len);
        cr_assert_not(rdb_get_string(&in, &out, &len), "bad LZF %s accepted", bad[i]);
        cr_assert(strstr(in.err, "LZF") || strstr(in.err, "end of data"), "%s: %s", bad[i], in.err);
        serial_free(&x);
    }
    serial_free(&b);
}

/* ------------------------------------------------------------ golden bytes */

/* DUMP bodies (without the 10-byte trailer) of redis-server 7.0.15 for:
 * RPUSH tl a 1; SADD ts 1 2 -3; ZADD tz 1.5 a 2 b; HSET th f v n 7;
 * SET tn 123456789012; SET tlzf <'a' x 100>; SADD tsi 1 1099511627776;
 * ZADD tz2 0.1 a inf b -2 c 1e20 d;
 * RPUSH tl2 "" <'x' x 64> <'y' x 5000> 70000 -70000 1099511627776 -4096. */
static const struct {
    const char *name;
    const char *hex;
    unsigned type, enc;
} golden[] = {
    {"tl", "1201020c0c00000002008161020101ff", OBJ_LIST, ENC_QUICKLIST},
    {"ts", "0b0e0200000003000000fdff01000200", OBJ_SET, ENC_INTSET},
    {"tz", "111414000000040081610283312e35048162020201ff", OBJ_ZSET, ENC_LISTPACK},
    {"th", "1012120000000400816602817602816e020701ff", OBJ_HASH, ENC_LISTPACK},
    {"tn", "000c313233343536373839303132", OBJ_STRING, ENC_INT},
    {"tlzf", "00c3094064016161e05700016161", OBJ_STRING, ENC_RAW},
    {"tsi", "0b18080000000200000001000000000000000000000000010000", OBJ_SET, ENC_INTSET},
    {"tz2",
     "11c32e3713370000000800816302dffe0281610293302e3130e005001431148164028531652b32300681620283696e6604ff",
     OBJ_ZSET, ENC_LISTPACK},
    {"tl2",
     "120102c3406a53f20af213000007008001e04078e036000242f088204b0079e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff"
     "00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ee000d278df270110104f290eefe04f4"
     "0040000701000009d00002ff",
     OBJ_LIST, ENC_QUICKLIST},
};

Test(rdb, golden_redis_bodies_read_and_written_identically) {
    for (size_t i = 0; i < sizeof golden / sizeof *golden; i++) {
        serial_buf b;
        serial_init(&b);
        hex_to(&b, golden[i].hex);
        entry *e = load_ok(&b);
        cr_assert_eq(entry_type(e), golden[i].type, "%s", golden[i].name);
        cr_assert_eq(entry_encoding(e), golden[i].enc, "%s: %s", golden[i].name,
                     entry_encoding_name(entry_encoding(e)));
        serial_buf w = encode(e, true);
        char *h = to_hex(w.buf, w.len);
        cr_assert_str_eq(h, golden[i].hex, "%s written differently", golden[i].name);
        free(h);
        serial_free(&w);
        entry_free(e);
        serial_free(&b);
    }
}

/* ------------------------------------------------------------ round trips */

Test(rdb, roundtrip_strings) {
    static const char *const vals[] = {"", "0", "-1", "123456789012", "9223372036854775807", "-9223372036854775808",
                                       "-0", "007", "hello", "a string of exactly forty-four bytes.......",
                                       "a string of exactly forty-five bytes........"};
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
        entry *e = str_entry(vals[i], strlen(vals[i]));
        serial_buf b = roundtrip(e, true);
        serial_free(&b);
        entry_free(e);
    }
    char bin[5000];
    for (size_t i = 0; i < sizeof bin; i++) bin[i] = (char)(i % 7 == 0 ? 0 : rng());
    for (size_t n = 20; n <= sizeof bin; n = n * 3 + 1)
        for (int c = 0; c < 2; c++) {
            entry *e = str_entry(bin, n);
            serial_buf b = roundtrip(e, c);
            serial_free(&b);
            entry_free(e);
        }
    memset(bin, 'z', sizeof bin);
    entry *e = str_entry(bin, sizeof bin);
    serial_buf b = roundtrip(e, true);
    cr_assert_lt(b.len, 200, "a compressible string is compressed (%zu bytes)", b.len);
    serial_free(&b);
    entry_free(e);
}

Test(rdb, roundtrip_lists_every_fill) {
    static const int fills[] = {-5, -2, -1, 1, 3, 128};
    for (size_t f = 0; f < sizeof fills / sizeof *fills; f++) {
        size_t (*gens[])(int, char *) = {gen_words, gen_ints, gen_small_ints, gen_mixed};
        for (size_t g = 0; g < 4; g++) {
            entry *e = list_entry(fills[f], 1 + (int)g * 400, gens[g]);
            serial_buf b = roundtrip(e, g % 2 == 0);
            serial_free(&b);
            entry_free(e);
        }
    }
}

Test(rdb, list_nodes_split_as_redis_splits) {
    /* 3000 elements of 14-17 bytes under fill -2 (8 KB nodes): redis-server
     * 7.0.15 makes 8 nodes of this (tested against it in
     * tests/integration/test_dump_redis.c); the split depends only on the
     * elements, not on slotcache's own node layout. */
    entry *e = list_entry(-2, 3000, gen_words);
    entry *e1 = list_entry(1, 3000, gen_words); /* one element per node here */
    serial_buf b = encode(e, false);
    serial_buf b1 = encode(e1, false);
    cr_assert_eq(b.buf[0], RDB_TYPE_LIST_QUICKLIST_2);
    cr_assert_eq(b1.buf[0], RDB_TYPE_LIST_QUICKLIST_2);
    rdb_in in;
    rdb_in_init(&in, b.buf + 1, b.len - 1);
    uint64_t nodes;
    cr_assert(rdb_get_len(&in, &nodes, NULL));
    cr_assert(nodes > 3 && nodes < 20, "%llu nodes", (unsigned long long)nodes);
    rdb_in_init(&in, b1.buf + 1, b1.len - 1);
    cr_assert(rdb_get_len(&in, &nodes, NULL));
    cr_assert_eq(nodes, 3000);
    serial_free(&b);
    serial_free(&b1);
    entry_free(e);
    entry_free(e1);
}

/* Round trip e and free it, checking its encoding and the RDB type it is
 * written as. */
static void roundtrip_as(entry *e, unsigned enc, int rdb_type, bool compress) {
    cr_assert_eq(entry_encoding(e), enc, "built as %s", entry_encoding_name(entry_encoding(e)));
    serial_buf b = roundtrip(e, compress);
    cr_assert_eq(b.buf[0], rdb_type);
    serial_free(&b);
    entry_free(e);
}

Test(rdb, roundtrip_sets) {
    roundtrip_as(set_entry(100, gen_small_ints), ENC_INTSET, RDB_TYPE_SET_INTSET, true); /* 16-bit */
    roundtrip_as(set_entry(100, gen_ints), ENC_INTSET, RDB_TYPE_SET_INTSET, true);       /* 64-bit */
    roundtrip_as(set_entry(600, gen_small_ints), ENC_HASHTABLE, RDB_TYPE_SET, true);     /* > 512 */
    roundtrip_as(set_entry(50, gen_words), ENC_HASHTABLE, RDB_TYPE_SET, false);
}

Test(rdb, intset_width_kept) {
    /* An intset of small values stored 64 bits wide stays 64 bits wide. */
    serial_buf b;
    serial_init(&b);
    hex_to(&b, "0b18" "08000000" "02000000" "0100000000000000" "0200000000000000");
    entry *e = load_ok(&b);
    const set_value *s = entry_ptr(e);
    cr_assert_eq(s->u.is->width, 8);
    serial_buf w = encode(e, true);
    cr_assert_eq(w.len, b.len);
    cr_assert_eq(memcmp(w.buf, b.buf, b.len), 0);
    serial_free(&w);
    entry_free(e);
    serial_free(&b);
}

Test(rdb, roundtrip_hashes) {
    roundtrip_as(hash_entry(10, 12), ENC_LISTPACK, RDB_TYPE_HASH_LISTPACK, true);
    roundtrip_as(hash_entry(600, 10), ENC_HASHTABLE, RDB_TYPE_HASH, true);
    roundtrip_as(hash_entry(5, 100), ENC_HASHTABLE, RDB_TYPE_HASH, false); /* long values */
}

Test(rdb, roundtrip_zsets) {
    roundtrip_as(zset_entry(40, 0), ENC_LISTPACK, RDB_TYPE_ZSET_LISTPACK, true);
    roundtrip_as(zset_entry(300, 5), ENC_SKIPLIST, RDB_TYPE_ZSET_2, true);
    roundtrip_as(zset_entry(20, 100), ENC_SKIPLIST, RDB_TYPE_ZSET_2, false); /* long members */
}

Test(rdb, zset_skiplist_written_highest_first) {
    entry *e = zset_entry(200, 0);
    serial_buf b = encode(e, false);
    rdb_in in;
    rdb_in_init(&in, b.buf + 1, b.len - 1);
    uint64_t n;
    cr_assert(rdb_get_len(&in, &n, NULL));
    cr_assert_eq(n, 200);
    double prev = INFINITY;
    for (uint64_t i = 0; i < n; i++) {
        char *m;
        size_t len;
        const unsigned char *q;
        cr_assert(rdb_get_string(&in, &m, &len));
        mem_free(m);
        cr_assert(rdb_get_raw(&in, &q, 8));
        double s;
        memcpy(&s, q, 8);
        cr_assert_leq(s, prev);
        prev = s;
    }
    serial_free(&b);
    entry_free(e);
}

/* ------------------------------------------------------------ old encodings */

/* A ziplist under construction (test-side encoder, from ziplist.c's format
 * description): entries record their previous entry's size. */
typedef struct {
    serial_buf b;
    size_t prev, count, tail;
} zl_builder;

static void zl_start(zl_builder *z) {
    serial_init(&z->b);
    static const unsigned char hdr[10] = {0};
    serial_put_raw(&z->b, hdr, 10);
    z->prev = z->count = 0;
    z->tail = 10;
}

static void zl_prevlen(zl_builder *z) {
    z->tail = z->b.len;
    if (z->prev < 254) {
        serial_put_u8(&z->b, (uint8_t)z->prev);
    } else {
        unsigned char p[5] = {0xfe, (unsigned char)z->prev, (unsigned char)(z->prev >> 8),
                              (unsigned char)(z->prev >> 16), (unsigned char)(z->prev >> 24)};
        serial_put_raw(&z->b, p, 5);
    }
}

static void zl_str(zl_builder *z, const char *s, size_t len) {
    size_t start = z->b.len;
    zl_prevlen(z);
    if (len <= 63) {
        serial_put_u8(&z->b, (uint8_t)len);
    } else if (len <= 16383) {
        unsigned char h[2] = {(unsigned char)(0x40 | (len >> 8)), (unsigned char)len};
        serial_put_raw(&z->b, h, 2);
    } else {
        unsigned char h[5] = {0x80, (unsigned char)(len >> 24), (unsigned char)(len >> 16), (unsigned char)(len >> 8),
                              (unsigned char)len};
        serial_put_raw(&z->b, h, 5);
    }
    serial_put_raw(&z->b, s, len);
    z->prev = z->b.len - start;
    z->count++;
}

/* enc: 0xfe int8, 0xc0 int16, 0xf0 int24, 0xd0 int32, 0xe0 int64, 0xf1 imm */
static void zl_int(zl_builder *z, unsigned char enc, long long v) {
    size_t start = z->b.len;
    zl_prevlen(z);
    unsigned n = enc == 0xfe ? 1 : enc == 0xc0 ? 2 : enc == 0xf0 ? 3 : enc == 0xd0 ? 4 : enc == 0xe0 ? 8 : 0;
    serial_put_u8(&z->b, n ? enc : (unsigned char)(0xf1 + v));
    for (unsigned i = 0; i < n; i++) serial_put_u8(&z->b, (uint8_t)((uint64_t)v >> (8 * i)));
    z->prev = z->b.len - start;
    z->count++;
}

static void zl_finish(zl_builder *z) {
    serial_put_u8(&z->b, 0xff);
    unsigned char *p = z->b.buf;
    uint32_t bytes = (uint32_t)z->b.len, tail = (uint32_t)z->tail;
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(bytes >> (8 * i)), p[4 + i] = (unsigned char)(tail >> (8 * i));
    p[8] = (unsigned char)(z->count < 0xffff ? z->count : 0xffff);
    p[9] = (unsigned char)((z->count < 0xffff ? z->count : 0xffff) >> 8);
}

/* type byte + the blob as one RDB string */
static serial_buf wrap_blob(unsigned type, const serial_buf *blob, bool compress) {
    serial_buf b;
    serial_init(&b);
    serial_put_u8(&b, (uint8_t)type);
    rdb_put_string(&b, (const char *)blob->buf, blob->len, compress);
    return b;
}

static void list_is(const entry *e, const char *const *want, size_t n) {
    cr_assert_eq(entry_type(e), OBJ_LIST);
    const quicklist *ql = entry_ptr(e);
    cr_assert_eq(ql_count(ql), n);
    size_t i = 0;
    for (const ql_node *nd = ql->head; nd; nd = nd->next)
        for (size_t off = lp_first(nd->lp); off < lp_end(nd->lp); i++) {
            const char *p;
            size_t len;
            off = lp_get(nd->lp, off, &p, &len);
            cr_assert(len == strlen(want[i]) && memcmp(p, want[i], len) == 0, "element %zu: \"%.*s\" want \"%.20s\"",
                      i, (int)len, p, want[i]);
        }
}


static void ziplist_of_everything(zl_builder *z) {
    zl_start(z);
    zl_str(z, "a", 1);
    zl_int(z, 0xf1, 12);
    zl_int(z, 0xfe, -100);
    zl_int(z, 0xc0, 1000);
    zl_int(z, 0xf0, -100000);
    zl_int(z, 0xd0, 2000000000);
    zl_int(z, 0xe0, -9000000000000LL);
    zl_str(z, long_x, 300); /* 14-bit length, and a 5-byte prevlen after it */
    zl_str(z, "", 0);
    zl_finish(z);
}

static const char *const everything[] = {"a", "12", "-100", "1000", "-100000", "2000000000", "-9000000000000",
                                         long_x, ""};

Test(rdb, old_list_encodings) {
    zl_builder z;
    ziplist_of_everything(&z);
    /* LIST_ZIPLIST, compressed and not */
    for (int c = 0; c < 2; c++) {
        serial_buf b = wrap_blob(RDB_TYPE_LIST_ZIPLIST, &z.b, c);
        entry *e = load_ok(&b);
        list_is(e, everything, 9);
        entry_free(e);
        serial_free(&b);
    }
    /* LIST_QUICKLIST (v1): two ziplist nodes, an empty one between them */
    zl_builder empty;
    zl_start(&empty);
    zl_finish(&empty);
    serial_buf b;
    serial_init(&b);
    serial_put_u8(&b, RDB_TYPE_LIST_QUICKLIST);
    rdb_put_len(&b, 3);
    rdb_put_string(&b, (const char *)z.b.buf, z.b.len, true);
    rdb_put_string(&b, (const char *)empty.b.buf, empty.b.len, false);
    rdb_put_string(&b, (const char *)z.b.buf, z.b.len, false);
    entry *e = load_ok(&b);
    cr_assert_eq(ql_count((quicklist *)entry_ptr(e)), 18);
    entry_free(e);
    serial_free(&b);
    /* only empty nodes: an empty value */
    serial_init(&b);
    serial_put_u8(&b, RDB_TYPE_LIST_QUICKLIST);
    rdb_put_len(&b, 1);
    rdb_put_string(&b, (const char *)empty.b.buf, empty.b.len, false);
    load_fails(&b, "empty value");
    serial_free(&b);
    /* RDB_TYPE_LIST: plain strings */
    serial_init(&b);
    serial_put_u8(&b, RDB_TYPE_LIST);
    rdb_put_len(&b, 3);
    rdb_put_string(&b, "x", 1, false);
    rdb_put_string(&b, "42", 2, false);
    rdb_put_string(&b, "", 0, false);
    e = load_ok(&b);
    static const char *const three[] = {"x", "42", ""};
    list_is(e, three, 3);
    entry_free(e);
    serial_free(&b);
    /* QUICKLIST_2 with a PLAIN node between packed ones */
    rpk_lp lp;
    rpk_lp_init(&lp);
    rpk_lp_add(&lp, "p", 1);
    size_t n;
    const unsigned char *blob = rpk_lp_finish(&lp, &n);
    serial_init(&b);
    serial_put_u8(&b, RDB_TYPE_LIST_QUICKLIST_2);
    rdb_put_len(&b, 3);
    rdb_put_len(&b, RDB_QL_PACKED);
    rdb_put_string(&b, (const char *)blob, n, false);
    rdb_put_len(&b, RDB_QL_PLAIN);
    rdb_put_string(&b, "plain-element", 13, false);
    rdb_put_len(&b, RDB_QL_PACKED);
    rdb_put_string(&b, (const char *)blob, n, false);
    e = load_ok(&b);
    static const char *const pp[] = {"p", "plain-element", "p"};
    list_is(e, pp, 3);
    entry_free(e);
    serial_free(&b);
    /* a container that is neither */
    serial_init(&b);
    serial_put_u8(&b, RDB_TYPE_LIST_QUICKLIST_2);
    rdb_put_len(&b, 1);
    rdb_put_len(&b, 3);
    rdb_put_string(&b, (const char *)blob, n, false);
    load_fails(&b, "container");
    serial_free(&b);
    rpk_lp_free(&lp);
    serial_free(&z.b);
    serial_free(&empty.b);
}

static const char *hget(const entry *e, const char *f) {
    static char out[512];
    const char *v;
    size_t vlen;
    if (!hash_get(entry_ptr(e), f, strlen(f), &v, &vlen)) return NULL;
    snprintf(out, sizeof out, "%.*s", (int)vlen, v);
    return out;
}

/* The example of zipmap.c: "foo" => "bar", "hello" => "world", here with
 * one free byte after "bar". */
static const unsigned char zipmap_example[] =
    "\x02\x03" "foo" "\x03\x01" "barX" "\x05" "hello" "\x05\x00" "world" "\xff";

/* A zset ziplist: members and scores (text, integers, inf) out of order. */
static void zset_ziplist(zl_builder *z) {
    zl_start(z);
    zl_str(z, "b", 1);
    zl_str(z, "2.5", 3);
    zl_str(z, "a", 1);
    zl_int(z, 0xfe, -3);
    zl_int(z, 0xf1, 7); /* member "7" */
    zl_str(z, "inf", 3);
    zl_finish(z);
}

Test(rdb, zipmap_hashes) {
    serial_buf blob = {0};
    serial_put_raw(&blob, zipmap_example, sizeof zipmap_example - 1);
    serial_buf b = wrap_blob(RDB_TYPE_HASH_ZIPMAP, &blob, false);
    entry *e = load_ok(&b);
    cr_assert_eq(entry_type(e), OBJ_HASH);
    cr_assert_eq(entry_encoding(e), ENC_LISTPACK);
    cr_assert_str_eq(hget(e, "foo"), "bar");
    cr_assert_str_eq(hget(e, "hello"), "world");
    cr_assert_eq(hash_len(entry_ptr(e)), 2);
    entry_free(e);
    serial_free(&b);
    /* Unknown count (254), a value of 300 bytes (5-byte length): too long
     * for a listpack, so a hashtable, as Redis converts zipmaps. */
    blob.len = 0;
    serial_put_raw(&blob, "\xfe\x01k\xfe\x2c\x01\x00\x00\x00", 9);
    char v[300];
    memset(v, 'v', sizeof v);
    serial_put_raw(&blob, v, sizeof v);
    serial_put_u8(&blob, 0xff);
    b = wrap_blob(RDB_TYPE_HASH_ZIPMAP, &blob, true);
    e = load_ok(&b);
    cr_assert_eq(entry_encoding(e), ENC_HASHTABLE);
    cr_assert_eq(strlen(hget(e, "k")), 300);
    entry_free(e);
    serial_free(&b);
    /* Malformed: wrong count, duplicate field, empty, past the end. */
    static const struct {
        const char *bytes;
        size_t len;
        const char *err;
    } bad[] = {
        {"\x03\x01" "a" "\x01\x00" "b" "\xff", 7, "count"},
        {"\x02\x01" "a" "\x01\x00" "b" "\x01" "a" "\x01\x00" "c" "\xff", 12, "Duplicate"},
        {"\x00\xff", 2, "empty zipmap"},
        {"\x01\x01" "a" "\x05\x00" "b" "\xff", 7, "past the end"},
        {"\x01\x01" "a" "\x01\x09" "b" "\xff", 7, "past the end"},
        {"\x01\x01" "a", 3, "terminator"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        blob.len = 0;
        serial_put_raw(&blob, bad[i].bytes, bad[i].len);
        b = wrap_blob(RDB_TYPE_HASH_ZIPMAP, &blob, false);
        load_fails(&b, bad[i].err);
        serial_free(&b);
    }
    serial_free(&blob);
}

Test(rdb, ziplist_hashes_and_zsets) {
    zl_builder z;
    zl_start(&z);
    zl_str(&z, "f1", 2);
    zl_str(&z, "v1", 2);
    zl_int(&z, 0xc0, 500); /* an integer field */
    zl_str(&z, long_x, 200); /* a long value: stays packed, as Redis keeps it */
    zl_finish(&z);
    serial_buf b = wrap_blob(RDB_TYPE_HASH_ZIPLIST, &z.b, false);
    entry *e = load_ok(&b);
    cr_assert_eq(entry_encoding(e), ENC_LISTPACK);
    cr_assert_str_eq(hget(e, "f1"), "v1");
    cr_assert_eq(strlen(hget(e, "500")), 200);
    entry_free(e);
    serial_free(&b);
    serial_free(&z.b);

    zset_ziplist(&z);
    b = wrap_blob(RDB_TYPE_ZSET_ZIPLIST, &z.b, false);
    e = load_ok(&b);
    cr_assert_eq(entry_encoding(e), ENC_LISTPACK);
    zset *zs = entry_ptr(e);
    cr_assert(zset_check(zs));
    double s;
    cr_assert(zset_score(zs, "a", 1, &s) && s == -3);
    cr_assert(zset_score(zs, "b", 1, &s) && s == 2.5);
    cr_assert(zset_score(zs, "7", 1, &s) && isinf(s) && s > 0);
    cr_assert_eq(zset_rank(zs, "a", 1, false), 0);
    entry_free(e);
    serial_free(&b);
    serial_free(&z.b);

    /* bad: odd count, NaN score, duplicate member, text score */
    const char *bad_scores[][2] = {{"nan", "invalid score"}, {"abc", "invalid score"}};
    for (int i = 0; i < 2; i++) {
        zl_start(&z);
        zl_str(&z, "m", 1);
        zl_str(&z, bad_scores[i][0], strlen(bad_scores[i][0]));
        zl_finish(&z);
        b = wrap_blob(RDB_TYPE_ZSET_ZIPLIST, &z.b, false);
        load_fails(&b, bad_scores[i][1]);
        serial_free(&b);
        serial_free(&z.b);
    }
    zl_start(&z);
    zl_str(&z, "m", 1);
    zl_int(&z, 0xf1, 1);
    zl_str(&z, "m", 1);
    zl_int(&z, 0xf1, 2);
    zl_finish(&z);
    b = wrap_blob(RDB_TYPE_ZSET_ZIPLIST, &z.b, false);
    load_fails(&b, "Duplicate");
    serial_free(&b);
    b = wrap_blob(RDB_TYPE_HASH_ZIPLIST, &z.b, false);
    load_fails(&b, "Duplicate");
    serial_free(&b);
    serial_free(&z.b);
    zl_start(&z);
    zl_str(&z, "m", 1);
    zl_finish(&z);
    b = wrap_blob(RDB_TYPE_HASH_ZIPLIST, &z.b, false);
    load_fails(&b, "odd");
    serial_free(&b);
    serial_free(&z.b);
}

Test(rdb, ziplist_integrity) {
    zl_builder z;
    ziplist_of_everything(&z);
    struct {
        size_t at;
        unsigned char v;
        const char *err;
    } flips[] = {
        {0, 0x99, "total bytes"},          /* zlbytes */
        {4, 0xff, "tail"},                 /* zltail far off */
        {4, 0x0c, "tail offset"},          /* zltail not the last entry */
        {8, 0x07, "count"},                /* zllen */
        {10, 0x05, "previous length"},     /* first entry's prevlen */
        {11, 0x7f, "past the end"},        /* "a" claims 16225 bytes */
        {14, 0xff, "invalid"},             /* int encoding 0xff */
    };
    for (size_t i = 0; i < sizeof flips / sizeof *flips; i++) {
        serial_buf m = {0};
        serial_put_raw(&m, z.b.buf, z.b.len);
        m.buf[flips[i].at] = flips[i].v;
        serial_buf b = wrap_blob(RDB_TYPE_LIST_ZIPLIST, &m, false);
        load_fails(&b, flips[i].err);
        serial_free(&b);
        serial_free(&m);
    }
    /* unknown count (0xffff) is fine */
    z.b.buf[8] = z.b.buf[9] = 0xff;
    serial_buf b = wrap_blob(RDB_TYPE_LIST_ZIPLIST, &z.b, false);
    entry *e = load_ok(&b);
    entry_free(e);
    serial_free(&b);
    serial_free(&z.b);
}

Test(rdb, plain_old_types) {
    /* RDB_TYPE_SET of integers only: an intset */
    serial_buf b;
    serial_init(&b);
    serial_put_u8(&b, RDB_TYPE_SET);
    rdb_put_len(&b, 3);
    rdb_put_string(&b, "3", 1, false);
    rdb_put_string(&b, "-70000", 6, false);
    rdb_put_string(&b, "5", 1, false);
    entry *e = load_ok(&b);
    cr_assert_eq(entry_encoding(e), ENC_INTSET);
    entry_free(e);
    serial_free(&b);
    /* RDB_TYPE_ZSET: text scores, with the special inf codes */
    serial_init(&b);
    serial_put_u8(&b, RDB_TYPE_ZSET);
    rdb_put_len(&b, 3);
    rdb_put_string(&b, "a", 1, false);
    serial_put_raw(&b, "\x03" "1.5", 4);
    rdb_put_string(&b, "b", 1, false);
    serial_put_u8(&b, 254);
    rdb_put_string(&b, "c", 1, false);
    serial_put_u8(&b, 255);
    e = load_ok(&b);
    double s;
    cr_assert(zset_score(entry_ptr(e), "a", 1, &s) && s == 1.5);
    cr_assert(zset_score(entry_ptr(e), "b", 1, &s) && s == INFINITY);
    cr_assert(zset_score(entry_ptr(e), "c", 1, &s) && s == -INFINITY);
    cr_assert_eq(entry_encoding(e), ENC_LISTPACK);
    entry_free(e);
    serial_free(&b);
    /* ... and NaN (253) is refused */
    serial_init(&b);
    serial_put_u8(&b, RDB_TYPE_ZSET);
    rdb_put_len(&b, 1);
    rdb_put_string(&b, "a", 1, false);
    serial_put_u8(&b, 253);
    load_fails(&b, "NAN");
    serial_free(&b);
    /* RDB_TYPE_HASH with a duplicate field */
    serial_init(&b);
    serial_put_u8(&b, RDB_TYPE_HASH);
    rdb_put_len(&b, 2);
    for (int i = 0; i < 2; i++) {
        rdb_put_string(&b, "f", 1, false);
        rdb_put_string(&b, "v", 1, false);
    }
    load_fails(&b, "Duplicate hash fields");
    serial_free(&b);
}

/* ------------------------------------------------------------ conversions */

/* Load b: it must come back in encoding enc with like's contents. */
static void load_as(const serial_buf *b, unsigned enc, const entry *like) {
    entry *e = load_ok(b);
    cr_assert_eq(entry_encoding(e), enc, "loaded as %s", entry_encoding_name(entry_encoding(e)));
    cr_assert(same_contents(e, like));
    entry_free(e);
}

Test(rdb, conversion_on_load_follows_config) {
    /* packed values over smaller limits come back converted */
    entry *v[] = {hash_entry(10, 12), set_entry(10, gen_small_ints), zset_entry(10, 0)};
    serial_buf b[3];
    for (int i = 0; i < 3; i++) b[i] = encode(v[i], true);
    atomic_store(&cfg.hash_max_listpack_entries, 4);
    atomic_store(&cfg.set_max_intset_entries, 4);
    atomic_store(&cfg.zset_max_listpack_entries, 4);
    load_as(&b[0], ENC_HASHTABLE, v[0]);
    load_as(&b[1], ENC_HASHTABLE, v[1]);
    load_as(&b[2], ENC_SKIPLIST, v[2]);
    for (int i = 0; i < 3; i++) {
        entry_free(v[i]);
        serial_free(&b[i]);
    }
    /* plain encodings of values that fit larger limits become packed */
    config_init_defaults();
    v[0] = hash_entry(600, 10);
    v[1] = zset_entry(300, 5);
    for (int i = 0; i < 2; i++) b[i] = encode(v[i], true);
    cr_assert_eq(b[0].buf[0], RDB_TYPE_HASH);
    cr_assert_eq(b[1].buf[0], RDB_TYPE_ZSET_2);
    atomic_store(&cfg.hash_max_listpack_entries, 1000);
    atomic_store(&cfg.zset_max_listpack_entries, 1000);
    load_as(&b[0], ENC_LISTPACK, v[0]);
    load_as(&b[1], ENC_LISTPACK, v[1]);
    config_init_defaults();
    for (int i = 0; i < 2; i++) {
        entry_free(v[i]);
        serial_free(&b[i]);
    }
}

/* ------------------------------------------------------------ rejections */

/* A raw PEL ID, 1-0. */
#define ID1 "00000000000000010000000000000000"

Test(rdb, rejections_name_the_problem) {
    static const struct {
        const char *hex;
        const char *err;
        bool empty;
    } cases[] = {
        {"0f00", "end of data", false},
        /* streams with consumer groups: an empty stream (9 zero lengths),
         * one group "g" (last ID 0-0, entries_read 0), then its PEL and
         * consumers */
        {"13" "000000000000000000" "01" "0167" "0000" "00" "00" "01" "0163" "0000000000000000" "01" ID1,
         "not found in group global PEL", false},
        {"13" "000000000000000000" "01" "0167" "0000" "00" "01" ID1 "0000000000000000" "01" "00",
         "without consumer", false},
        {"13" "000000000000000000" "01" "0167" "0000" "00" "02" ID1 "0000000000000000" "01" ID1 "0000000000000000"
         "01" "00", "Duplicated global PEL", false},
        {"13" "000000000000000000" "01" "0167" "0000" "00" "01" ID1 "0000000000000000" "01" "01" "0163"
         "0000000000000000" "02" ID1 ID1, "Duplicated consumer PEL", false},
        {"13" "000000000000000000" "01" "0167" "0000" "00" "01" ID1 "0000000000000000" "01" "02" "0163"
         "0000000000000000" "01" ID1 "0164" "0000000000000000" "01" ID1, "owned by two consumers", false},
        {"13" "000000000000000000" "01" "0167" "0000" "00" "00" "02" "0163" "0000000000000000" "00" "0163"
         "0000000000000000" "00", "Duplicate stream consumer", false},
        {"13" "000000000000000000" "02" "0167" "0000" "00" "00" "00" "0167" "0000" "00" "00" "00",
         "Duplicated consumer group name", false},
        {"13" "000000000000000000" "01" "0167" "0000" "00" "02" ID1 "0000000000000000" "01", "larger than the data",
         false},
        {"13" "000000000000000000" "81ffffffffffffffff", "cgroup count", false},
        {"13" "000000000000000000" "01" "0167" "0000" "00" "4fff", "PEL count", false},
        {"0f" "00000000" "01" "0167" "0000" "00" "01" "0163" "0000000000000000" "01" ID1, /* type 15 */
         "not found in group global PEL", false},
        {"0600", "module", false},
        {"0700", "module", false},
        {"08", "Unknown RDB value type 8", false},
        {"0100", "empty value", true},
        {"0200", "empty value", true},
        {"0400", "empty value", true},
        {"0500", "empty value", true},
        {"1200", "empty value", true},
        {"0e00", "empty value", true},
        {"02020161" "0161", "Duplicate set members", false},
        {"0202c001" "c001", "Duplicate set members", false},
        {"05020161000000000000f03f0161000000000000f03f", "Duplicate zset", false},
        {"05010161" "000000000000f87f" "00", "NAN", false},
        {"0540", "end of data", false},
        {"05bfffffff", "Unknown length encoding", false},
        {"0581ffffffffffffffff", "larger than the data", false},
        {"00c4", "Unknown RDB string encoding type 4", false},
        {"0b0e0200000003000000fdff01000100", "Intset", false},     /* duplicate */
        {"0b0e0300000003000000fdff01000200", "Intset", false},     /* width 3 */
        {"0b0e0200000004000000fdff01000200", "Intset", false},     /* count */
        {"0b0802000000000000000000", "empty intset", false},
        {"10090900000001000001ff", "odd", false},                  /* hash listpack, 1 element */
        {"110a0a0000000100816102ff", "odd", false},                /* zset listpack, 1 element */
        {"100a0a0000000200816102ff", "count does not match", false},
        {"100a0a0000000100816103ff", "back length", false},
        {"100a0b0000000100816102ff", "total bytes", false},
        {"100a0a0000000100816102fe", "terminator", false},
        {"100a0a00000001008f6102ff", "past the end", false},
        {"100a0a0000000100f56102ff", "invalid encoding", false},
        {"1007070000000000ff", "empty value", true},
        {"1201020a0a0000000100816102fe", "Listpack integrity", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        serial_buf b;
        serial_init(&b);
        hex_to(&b, cases[i].hex);
        rdb_in in;
        rdb_in_init(&in, b.buf, b.len);
        uint8_t t;
        cr_assert(rdb_get_u8(&in, &t));
        entry *e = rdb_get_value(&in, t, "k", 1, -1);
        cr_assert_null(e, "case %zu (%s) accepted", i, cases[i].hex);
        cr_assert(strstr(in.err, cases[i].err), "case %zu (%s): \"%s\" lacks \"%s\"", i, cases[i].hex, in.err,
                  cases[i].err);
        cr_assert_eq(in.empty_value, cases[i].empty, "case %zu: empty_value", i);
        serial_free(&b);
    }
}

/* ------------------------------------------------------------ corruption */

/* Load p; if accepted, the value must be usable: contents readable,
 * re-encodable and equal after another round trip. */
static void probe(const unsigned char *p, size_t n) {
    entry *e = load(p, n, NULL, NULL);
    if (!e) return;
    if (entry_type(e) == OBJ_ZSET) cr_assert(zset_check(entry_ptr(e)));
    serial_buf b = encode(e, true);
    entry *r = load_ok(&b);
    cr_assert(same_contents(e, r));
    entry_free(r);
    serial_free(&b);
    entry_free(e);
}

static void corrupt_all(const serial_buf *v, int mutations) {
    /* every strict prefix fails */
    for (size_t cut = 0; cut < v->len; cut++) {
        entry *e = load(v->buf, cut, NULL, NULL);
        cr_assert_null(e, "prefix of %zu/%zu bytes (type %u) accepted", cut, v->len, v->buf[0]);
    }
    unsigned char *m = malloc(v->len + 16);
    for (int it = 0; it < mutations; it++) {
        memcpy(m, v->buf, v->len);
        size_t n = v->len;
        int k = 1 + (int)(rng() % 3);
        for (int j = 0; j < k; j++) {
            size_t at = 1 + rng() % (n > 1 ? n - 1 : 1);
            switch (rng() % 4) {
            case 0: m[at] ^= (unsigned char)(1u << (rng() % 8)); break;
            case 1: m[at] = (unsigned char)rng(); break;
            case 2: {
                static const unsigned char edge[] = {0, 0xff, 0x7f, 0x80, 0xfe, 0x40, 0xc0, 0xc3, 0x01, 0xf0};
                m[at] = edge[rng() % sizeof edge];
                break;
            }
            default:
                if (n > 2) n -= 1 + rng() % (n / 4 + 1);
                break;
            }
        }
        probe(m, n);
    }
    free(m);
}

/* ---- streams with consumer groups (the bytes against redis-server's are
 * in tests/integration/test_stream_rdb.c) */

/* A stream of n entries 1-0 .. n-0 with groups "a" (PEL of every third
 * entry shared by consumers "c1", "c2"; an idle "c3"), "b" (no PEL, no
 * consumer) and "1234567" (an integer-encoded name, entries_read unknown). */
static entry *group_stream_entry(int n) {
    stream *s = stream_new();
    for (int i = 1; i <= n; i++) {
        const char *fv[] = {"f", "value"};
        size_t lens[] = {1, 5};
        stream_append(s, &(stream_id){(uint64_t)i, 0}, 1, fv, lens);
    }
    stream_cg *a = stream_cg_create(s, "a", 1, &(stream_id){(uint64_t)n, 0}, n);
    stream_cg_create(s, "b", 1, &(stream_id){0, 0}, 0);
    stream_cg *g = stream_cg_create(s, "1234567", 7, &(stream_id){3, 0}, STREAM_CG_INVALID_ENTRIES_READ);
    stream_consumer *c1 = stream_cg_consumer_create(a, "c1", 2, 1700000000000LL);
    stream_consumer *c2 = stream_cg_consumer_create(a, "c2", 2, -5);
    stream_cg_consumer_create(a, "c3", 2, 0);
    for (int i = 1; i <= n; i += 3)
        stream_cg_pel_add(a, &(stream_id){(uint64_t)i, 0}, 1700000000000LL + i, (uint64_t)i * 100, i % 2 ? c1 : c2);
    stream_cg_pel_add(g, &(stream_id){2, 0}, 1, 1, stream_cg_consumer_create(g, "x", 1, 7));
    return entry_new_ptr("k", 1, OBJ_STREAM, ENC_STREAM, s, -1);
}

Test(rdb, stream_groups_round_trip) {
    entry *e = group_stream_entry(40);
    for (int compress = 0; compress < 2; compress++) {
        serial_buf b = encode(e, compress);
        entry *r = load_ok(&b);
        serial_buf b2 = encode(r, compress);
        cr_assert(b.len == b2.len && memcmp(b.buf, b2.buf, b.len) == 0, "groups differ after a round trip");
        const stream *s = entry_ptr(r);
        cr_assert_eq(stream_cg_count(s), 3);
        const stream_cg *a = stream_cg_find(s, "a", 1);
        cr_assert(a && stream_cg_pel_count(a) == 14 && stream_cg_consumer_count(a) == 3);
        cr_assert_eq(stream_cg_find(s, "1234567", 7)->entries_read, STREAM_CG_INVALID_ENTRIES_READ);
        for (size_t i = 0; i < stream_cg_pel_count(a); i++) cr_assert_not_null(stream_cg_pel_at(a, i)->consumer);
        entry_free(r);
        serial_free(&b);
        serial_free(&b2);
    }
    entry_free(e);
}

/* Type 15 has no entries_read: each group gets Redis's estimate. */
Test(rdb, stream_type_15_groups_estimate_entries_read) {
    /* 3 entries 1-0..3-0 in one node, last ID 3-0; groups at 0-0, 1-0, 2-0,
     * 3-0 and 9-0 (each with an empty PEL and no consumer) */
    serial_buf b;
    serial_init(&b);
    hex_to(&b, "0f" "01" "1000000000000000010000000000000000");
    static const char *const els[] = {"3", "0", "1", "f", "0", "2", "0", "0", "v", "4", "2", "1", "0", "v", "4",
                                      "2", "2", "0", "v", "4"};
    rpk_lp lp;
    rpk_lp_init(&lp);
    rpk_lp_start(&lp);
    for (size_t i = 0; i < sizeof els / sizeof *els; i++) rpk_lp_add(&lp, els[i], strlen(els[i]));
    size_t n;
    const unsigned char *blob = rpk_lp_finish(&lp, &n);
    rdb_put_string(&b, (const char *)blob, n, false);
    rpk_lp_free(&lp);
    hex_to(&b, "03" "0300" "05");
    static const unsigned at[] = {0, 1, 2, 3, 9};
    for (int i = 0; i < 5; i++) {
        char name[2] = {(char)('a' + i), 0};
        rdb_put_string(&b, name, 1, false);
        rdb_put_stream_id(&b, &(stream_id){at[i], 0});
        hex_to(&b, "0000");
    }
    entry *e = load_ok(&b);
    const stream *s = entry_ptr(e);
    /* nothing deleted: before the first entry 0, the first 1, the last 3,
     * a future ID unknown; 2-0 cannot be told */
    static const long long want[] = {0, 1, STREAM_CG_INVALID_ENTRIES_READ, 3, STREAM_CG_INVALID_ENTRIES_READ};
    for (int i = 0; i < 5; i++) cr_assert_eq(stream_cg_at(s, (size_t)i)->entries_read, want[i], "group %d", i);
    cr_assert_eq(s->entries_added, 3);
    entry_free(e);
    serial_free(&b);
}

Test(rdb, truncation_and_mutation_never_crash, .timeout = 300) {
    serial_buf vals[40];
    int nv = 0;
    entry *es[] = {
        str_entry("hello", 5), str_entry("12345", 5), str_entry("123456789012", 12),
        list_entry(-2, 30, gen_mixed), list_entry(2, 10, gen_small_ints), set_entry(20, gen_small_ints),
        set_entry(10, gen_ints), set_entry(15, gen_words), set_entry(600, gen_small_ints), hash_entry(8, 10),
        hash_entry(3, 100), zset_entry(14, 0), zset_entry(200, 3),
    };
    char big[300];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (char)('a' + i % 3);
    entry *lzf = str_entry(big, sizeof big);
    for (size_t i = 0; i < sizeof es / sizeof *es; i++) {
        vals[nv++] = encode(es[i], i % 2 == 0);
        entry_free(es[i]);
    }
    vals[nv++] = encode(lzf, true);
    entry_free(lzf);
    for (size_t i = 0; i < sizeof golden / sizeof *golden; i++) {
        serial_init(&vals[nv]);
        hex_to(&vals[nv++], golden[i].hex);
    }
    zl_builder z;
    ziplist_of_everything(&z);
    vals[nv++] = wrap_blob(RDB_TYPE_LIST_ZIPLIST, &z.b, false);
    vals[nv++] = wrap_blob(RDB_TYPE_HASH_ZIPLIST, &z.b, false); /* odd: always refused, still exercised */
    serial_free(&z.b);
    zset_ziplist(&z);
    vals[nv++] = wrap_blob(RDB_TYPE_ZSET_ZIPLIST, &z.b, false);
    vals[nv++] = wrap_blob(RDB_TYPE_HASH_ZIPLIST, &z.b, true);
    serial_free(&z.b);
    serial_buf zm = {0};
    serial_put_raw(&zm, zipmap_example, sizeof zipmap_example - 1);
    vals[nv++] = wrap_blob(RDB_TYPE_HASH_ZIPMAP, &zm, false);
    serial_free(&zm);
    entry *gs = group_stream_entry(12);
    vals[nv++] = encode(gs, false);
    entry_free(gs);
    cr_assert_leq(nv, 40);
    for (int i = 0; i < nv; i++) {
        corrupt_all(&vals[i], 3000);
        serial_free(&vals[i]);
    }
}
