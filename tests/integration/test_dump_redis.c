/*
 * test_dump_redis.c - DUMP/RESTORE payloads between slotcache and the real
 * redis-server 7.0.15, side by side (skipped when /usr/bin/redis-server is
 * missing).
 *
 * Both servers get the same corpus, built by the same commands: every type
 * and encoding small and large (strings int/embstr/raw, long compressible
 * and incompressible, binary, integer edge cases; lists of one and many
 * quicklist nodes, big elements, integers; intsets of each width, at and
 * past set-max-intset-entries, string sets; listpack and skiplist sorted
 * sets with inf/-inf/-0/fractional/huge scores, at and past the limits;
 * listpack and hashtable hashes, long values), some keys with TTLs. Then:
 * - DUMP bytes are equal on both servers wherever Redis's own are
 *   deterministic (everything but hashtable-encoded hashes and sets, and a
 *   list built by LPUSH, whose node split depends on its history);
 * - every payload of each server RESTOREs on the other, and the copy has
 *   the source's type, OBJECT ENCODING, contents and TTL; a deterministic
 *   copy DUMPs to the very same bytes again;
 * - a payload loads into the encoding the target's configuration chooses,
 *   the same on both (conversion on load);
 * - both servers give the same answer to the same bad payloads.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server_proc.h"
#include "value_corpus.h"


static sc_server ref, sut;

TestSuite(dump_redis, .fini = sc_server_cleanup, .timeout = 300);

static void start_both(redisContext **rc, redisContext **sc) {
    const char *redis = sc_reference_redis_binary();
    if (!redis) cr_skip_test("redis-server not installed: nothing to compare with");
    sc_server_start_bin_or_fail(&ref, redis, NULL);
    sc_server_start_or_fail(&sut, NULL);
    *rc = sc_connect_or_fail(&ref);
    *sc = sc_connect_or_fail(&sut);
}

static void stop_both(redisContext *rc, redisContext *sc) {
    redisFree(rc);
    redisFree(sc);
    sc_server_stop_or_fail(&sut);
    sc_server_stop_or_fail(&ref);
}

/* ---- corpus ------------------------------------------------------------ */

typedef struct {
    const char *key;
    const char *cmd; /* RPUSH LPUSH SADD ZADD HSET */
    int n, kind;
    bool deterministic;
} spec;

static const spec corpus[] = {
    {"l:small", "RPUSH", 12, CORPUS_MIXED, true},
    {"l:words", "RPUSH", 3000, CORPUS_WORDS, true},
    {"l:ints", "RPUSH", 2000, CORPUS_INTS, true},
    {"l:big", "RPUSH", 12, CORPUS_BIG, true},
    {"l:bin", "RPUSH", 300, CORPUS_BIN, true},
    {"l:lpush", "LPUSH", 2500, CORPUS_WORDS, false},
    {"s:int16", "SADD", 40, CORPUS_SMALL, true},
    {"s:int64", "SADD", 60, CORPUS_INTS, true},
    {"s:at-limit", "SADD", 512, CORPUS_SMALL, true},
    {"s:past-limit", "SADD", 513, CORPUS_SMALL, false},
    {"s:words", "SADD", 30, CORPUS_WORDS, false},
    {"s:bin", "SADD", 13, CORPUS_BIN, false},
    {"z:small", "ZADD", 15, CORPUS_WORDS, true},
    {"z:ints", "ZADD", 60, CORPUS_SMALL, true},
    {"z:at-limit", "ZADD", 128, CORPUS_WORDS, true},
    {"z:past-limit", "ZADD", 129, CORPUS_WORDS, true},
    {"z:long-member", "ZADD", 5, CORPUS_LONG, true},
    {"z:large", "ZADD", 1500, CORPUS_MIXED, true},
    {"h:small", "HSET", 10, CORPUS_WORDS, true},
    {"h:ints", "HSET", 50, CORPUS_INTS, true},
    {"h:at-limit", "HSET", 128, CORPUS_WORDS, true},
    {"h:past-limit", "HSET", 129, CORPUS_WORDS, false},
    {"h:long-value", "HSET", 4, CORPUS_LONG, false},
    {"h:bin", "HSET", 12, CORPUS_BIN, true},
};

static void expect_ok_reply(redisContext *c, redisReply *r, const char *what) {
    cr_assert(r, "%s: connection broke: %s", what, c->errstr);
    cr_assert(r->type != REDIS_REPLY_ERROR, "%s: %s", what, r->str);
    freeReplyObject(r);
}

static void send_one(int argc, const char **argv, const size_t *lens, void *arg) {
    redisContext *c = arg;
    expect_ok_reply(c, redisCommandArgv(c, argc, argv, lens), argv[1]);
}

static void build(redisContext *c, const spec *s) { corpus_build(s->cmd, s->key, s->n, s->kind, send_one, c); }

static void build_corpus(redisContext *c) {
    for (size_t i = 0; i < corpus_nstrings; i++) {
        const corpus_string *cs = &corpus_strings[i];
        size_t len = cs->len ? cs->len : strlen(cs->val);
        expect_ok_reply(c, redisCommand(c, "SET %s %b", cs->key, cs->val, len), cs->key);
    }
    static char big[20000];
    memset(big, 'z', 10000);
    expect_ok_reply(c, redisCommand(c, "SET str:lzf %b", big, (size_t)10000), "str:lzf");
    for (size_t i = 0; i < sizeof big; i++) big[i] = (char)((i * 2654435761u) >> 13);
    expect_ok_reply(c, redisCommand(c, "SET str:random %b", big, sizeof big), "str:random");
    for (size_t i = 0; i < sizeof corpus / sizeof *corpus; i++) build(c, &corpus[i]);
    /* TTLs on a few of them */
    expect_ok_reply(c, redisCommand(c, "PEXPIRE l:small 500000"), "pexpire");
    expect_ok_reply(c, redisCommand(c, "PEXPIRE z:small 400000"), "pexpire");
    expect_ok_reply(c, redisCommand(c, "PEXPIRE str:neg 300000"), "pexpire");
    expect_ok_reply(c, redisCommand(c, "PEXPIRE h:past-limit 200000"), "pexpire");
}

/* Every key of the corpus (from the reference), sorted; caller frees. */
static redisReply *corpus_keys(redisContext *c) {
    redisReply *r = sc_cmd_or_fail(c, "KEYS *");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    return r;
}

static bool deterministic(const char *key) {
    for (size_t i = 0; i < sizeof corpus / sizeof *corpus; i++)
        if (strcmp(corpus[i].key, key) == 0) return corpus[i].deterministic;
    return true; /* strings */
}

/* ---- canonical contents ------------------------------------------------ */

typedef struct {
    const char *p;
    size_t len;
} item;

static int item_cmp(const void *a, const void *b) {
    const item *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->p, y->p, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* TYPE, OBJECT ENCODING and the value as length-prefixed items (sets and
 * hashes sorted, hash fields paired with their values). */
static void canon(redisContext *c, const char *key, sc_buf *out) {
    redisReply *t = sc_cmd_or_fail(c, "TYPE %s", key);
    redisReply *e = sc_cmd_or_fail(c, "OBJECT ENCODING %s", key);
    sc_buf_printf(out, "%s/%s:", t->str, e->type == REDIS_REPLY_STRING ? e->str : "?");
    const char *cmd = strcmp(t->str, "string") == 0 ? "GET %s"
                      : strcmp(t->str, "list") == 0 ? "LRANGE %s 0 -1"
                      : strcmp(t->str, "set") == 0  ? "SMEMBERS %s"
                      : strcmp(t->str, "zset") == 0 ? "ZRANGE %s 0 -1 WITHSCORES"
                                                    : "HGETALL %s";
    bool sort = strcmp(t->str, "set") == 0 || strcmp(t->str, "hash") == 0;
    bool pairs = strcmp(t->str, "hash") == 0;
    freeReplyObject(t);
    freeReplyObject(e);
    redisReply *r = sc_cmd_or_fail(c, cmd, key);
    if (r->type == REDIS_REPLY_STRING) {
        sc_buf_printf(out, "%zu:", r->len);
        sc_buf_append(out, r->str, r->len);
        freeReplyObject(r);
        return;
    }
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "%s: reply type %d", key, r->type);
    size_t step = pairs ? 2 : 1, n = r->elements / step;
    item *it = calloc(n ? n : 1, sizeof *it);
    sc_buf joined = {0};
    size_t *offs = calloc(n ? n : 1, sizeof *offs);
    for (size_t i = 0; i < n; i++) {
        offs[i] = joined.len;
        for (size_t k = 0; k < step; k++) {
            redisReply *el = r->element[i * step + k];
            sc_buf_printf(&joined, "%zu:", el->len);
            sc_buf_append(&joined, el->str, el->len);
        }
    }
    for (size_t i = 0; i < n; i++)
        it[i] = (item){joined.data + offs[i], (i + 1 < n ? offs[i + 1] : joined.len) - offs[i]};
    if (sort) qsort(it, n, sizeof *it, item_cmp);
    for (size_t i = 0; i < n; i++) sc_buf_append(out, it[i].p, it[i].len);
    free(it);
    free(offs);
    sc_buf_free(&joined);
    freeReplyObject(r);
}

static void assert_same_value(redisContext *a, const char *ka, redisContext *b, const char *kb, const char *what) {
    sc_buf x = {0}, y = {0};
    canon(a, ka, &x);
    canon(b, kb, &y);
    bool same = x.len == y.len && memcmp(x.data, y.data, x.len) == 0;
    if (!same) {
        size_t i = 0;
        while (i < x.len && i < y.len && x.data[i] == y.data[i]) i++;
        cr_assert_fail("%s: %s and %s differ at byte %zu of %zu/%zu: \"%.60s\" vs \"%.60s\"", what, ka, kb, i, x.len,
                       y.len, x.data + (i > 20 ? i - 20 : 0), y.data + (i > 20 ? i - 20 : 0));
    }
    sc_buf_free(&x);
    sc_buf_free(&y);
}

static redisReply *dump_of(redisContext *c, const char *key) {
    redisReply *r = sc_cmd_or_fail(c, "DUMP %s", key);
    cr_assert_eq(r->type, REDIS_REPLY_STRING, "DUMP %s: reply type %d", key, r->type);
    return r;
}

static void hex_prefix(char *out, size_t n, const char *p, size_t len) {
    size_t k = 0;
    for (size_t i = 0; i < len && k + 3 < n; i++) k += (size_t)snprintf(out + k, n - k, "%02x", (unsigned char)p[i]);
}

static void assert_same_bytes(const redisReply *a, const redisReply *b, const char *what, const char *key) {
    if (a->len == b->len && memcmp(a->str, b->str, a->len) == 0) return;
    size_t i = 0;
    while (i < a->len && i < b->len && a->str[i] == b->str[i]) i++;
    char ha[130] = "", hb[130] = "";
    size_t from = i > 8 ? i - 8 : 0;
    hex_prefix(ha, sizeof ha, a->str + from, a->len - from);
    hex_prefix(hb, sizeof hb, b->str + from, b->len - from);
    cr_assert_fail("%s %s: payloads differ at byte %zu (%zu vs %zu bytes): ...%s vs ...%s", what, key, i, a->len,
                   b->len, ha, hb);
}

/* RESTORE src's payload of key on dst as newkey with key's remaining TTL;
 * returns the payload. */
static redisReply *move(redisContext *src, redisContext *dst, const char *key, const char *newkey) {
    redisReply *p = dump_of(src, key);
    long long pttl = sc_cmd_ll_or_fail(src, "PTTL %s", key);
    redisReply *r = redisCommand(dst, "RESTORE %s %lld %b REPLACE", newkey, pttl > 0 ? pttl : 0, p->str, p->len);
    cr_assert(r, "RESTORE %s: connection broke", newkey);
    cr_assert(r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0, "RESTORE %s (payload of %s): %s", newkey,
              key, r->str ? r->str : "?");
    freeReplyObject(r);
    long long got = sc_cmd_ll_or_fail(dst, "PTTL %s", newkey);
    if (pttl < 0)
        cr_assert_eq(got, -1, "%s: no TTL at the source, PTTL %lld after RESTORE", newkey, got);
    else
        cr_assert(got > 0 && got <= pttl && got > pttl - sc_scaled_ms(5000), "%s: PTTL %lld after RESTORE of %lld",
                  newkey, got, pttl);
    return p;
}

/* ---- tests ------------------------------------------------------------- */

Test(dump_redis, same_bytes_for_the_same_value) {
    redisContext *rc, *sc;
    start_both(&rc, &sc);
    build_corpus(rc);
    build_corpus(sc);
    redisReply *keys = corpus_keys(rc);
    cr_assert_eq(sc_cmd_ll_or_fail(sc, "DBSIZE"), (long long)keys->elements);
    int compared = 0;
    for (size_t i = 0; i < keys->elements; i++) {
        const char *k = keys->element[i]->str;
        assert_same_value(rc, k, sc, k, "built by the same commands");
        if (!deterministic(k)) continue;
        redisReply *a = dump_of(rc, k), *b = dump_of(sc, k);
        assert_same_bytes(a, b, "DUMP", k);
        freeReplyObject(a);
        freeReplyObject(b);
        compared++;
    }
    cr_log_info("%d of %zu payloads compared byte for byte", compared, keys->elements);
    cr_assert_gt(compared, 25);
    freeReplyObject(keys);
    stop_both(rc, sc);
}

static void cross(redisContext *from, redisContext *to, const char *dir) {
    redisReply *keys = corpus_keys(from);
    for (size_t i = 0; i < keys->elements; i++) {
        const char *k = keys->element[i]->str;
        char nk[200];
        snprintf(nk, sizeof nk, "copy:%s", k);
        redisReply *p = move(from, to, k, nk);
        assert_same_value(from, k, to, nk, dir);
        if (deterministic(k)) {
            /* the copy writes the very same payload back */
            redisReply *again = dump_of(to, nk);
            assert_same_bytes(p, again, dir, k);
            freeReplyObject(again);
        }
        freeReplyObject(p);
    }
    freeReplyObject(keys);
}

Test(dump_redis, redis_payloads_restore_in_slotcache) {
    redisContext *rc, *sc;
    start_both(&rc, &sc);
    build_corpus(rc);
    cross(rc, sc, "redis-server -> slotcache");
    stop_both(rc, sc);
}

Test(dump_redis, slotcache_payloads_restore_in_redis) {
    redisContext *rc, *sc;
    start_both(&rc, &sc);
    build_corpus(sc);
    cross(sc, rc, "slotcache -> redis-server");
    stop_both(rc, sc);
}

Test(dump_redis, conversion_on_load_matches_redis) {
    redisContext *rc, *sc;
    start_both(&rc, &sc);
    build_corpus(rc);
    /* Smaller limits on both targets: packed payloads convert where Redis
     * converts them (entry counts; a long value in a listpack does not). */
    static const char *const small[][2] = {{"hash-max-listpack-entries", "4"}, {"set-max-intset-entries", "4"},
                                           {"zset-max-listpack-entries", "4"}, {"hash-max-listpack-value", "8"},
                                           {"zset-max-listpack-value", "8"}};
    static const char *const large[][2] = {{"hash-max-listpack-entries", "1000"}, {"set-max-intset-entries", "1000"},
                                           {"zset-max-listpack-entries", "2000"}, {"hash-max-listpack-value", "100"},
                                           {"zset-max-listpack-value", "100"}};
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 5; i++) {
            const char *const *kv = round ? large[i] : small[i];
            sc_cmd_expect_or_fail(rc, "OK", "CONFIG SET %s %s", kv[0], kv[1]);
            sc_cmd_expect_or_fail(sc, "OK", "CONFIG SET %s %s", kv[0], kv[1]);
        }
        redisReply *keys = corpus_keys(rc);
        for (size_t i = 0; i < keys->elements; i++) {
            const char *k = keys->element[i]->str;
            if (strncmp(k, "copy:", 5) == 0) continue;
            char nk[200];
            snprintf(nk, sizeof nk, "copy:%s", k);
            freeReplyObject(move(rc, sc, k, nk));
            freeReplyObject(move(rc, rc, k, nk));
            assert_same_value(rc, nk, sc, nk, round ? "loaded under larger limits" : "loaded under smaller limits");
        }
        freeReplyObject(keys);
    }
    stop_both(rc, sc);
}

/* Both servers answer a payload the same way. */
static void same_answer(redisContext *rc, redisContext *sc, const char *hex_body, bool fix_trailer,
                        const char *want) {
    unsigned char p[300];
    size_t n = 0;
    for (size_t i = 0; hex_body[i] && hex_body[i + 1] && n < sizeof p - 10; i += 2) {
        unsigned v;
        sscanf(hex_body + i, "%2x", &v);
        p[n++] = (unsigned char)v;
    }
    if (fix_trailer) {
        /* version 10, then CRC-64/Jones of everything before */
        p[n++] = 10;
        p[n++] = 0;
        uint64_t crc = 0;
        for (size_t i = 0; i < n; i++) {
            crc ^= p[i];
            for (int b = 0; b < 8; b++) crc = (crc & 1) ? (crc >> 1) ^ 0x95ac9329ac4bc9b5ULL : crc >> 1;
        }
        for (int b = 0; b < 8; b++) p[n++] = (unsigned char)(crc >> (8 * b));
    }
    redisContext *cs[2] = {rc, sc};
    for (int s = 0; s < 2; s++) {
        redisReply *r = redisCommand(cs[s], "RESTORE bad 0 %b REPLACE", p, n);
        cr_assert(r, "connection broke");
        cr_assert_str_eq(r->str, want, "%s on payload %s: %s", s ? "slotcache" : "redis-server", hex_body, r->str);
        freeReplyObject(r);
    }
}

Test(dump_redis, same_errors_for_bad_payloads) {
    redisContext *rc, *sc;
    start_both(&rc, &sc);
    const char *wrong = "ERR DUMP payload version or checksum are wrong", *bad = "ERR Bad data format";
    same_answer(rc, sc, "000568656c6c6f" "0a00" "0000000000000000", false, wrong); /* checksum */
    same_answer(rc, sc, "000568656c6c6f" "0b00" "0000000000000000", false, wrong); /* version 11 */
    same_answer(rc, sc, "0a00", false, wrong);                                     /* too short */
    same_answer(rc, sc, "000568656c6c6f", true, "OK");
    same_answer(rc, sc, "000568656c6c", true, "OK");   /* runs into the trailer: Redis reads it */
    same_answer(rc, sc, "00ff", true, bad);            /* string past the end */
    same_answer(rc, sc, "08", true, bad);              /* not a value type */
    same_answer(rc, sc, "1200", true, bad);            /* empty list */
    same_answer(rc, sc, "0200", true, bad);            /* empty set */
    same_answer(rc, sc, "0f00", true, bad);            /* a stream */
    same_answer(rc, sc, "02020161" "0161", true, bad); /* duplicate set member */
    same_answer(rc, sc, "05010161" "000000000000f87f", true, bad); /* NaN score */
    same_answer(rc, sc, "00c4", true, bad);            /* unknown string encoding */
    cr_assert_eq(sc_cmd_ll_or_fail(sc, "EXISTS bad"), 1, "the one good payload");
    stop_both(rc, sc);
}

/* HyperLogLogs (t_hll.c) are strings in Redis's own format: a sparse and a
 * dense one built on redis-server RESTORE here with the same PFCOUNT and
 * bytes, stay identical when both servers add the same elements, and the
 * payloads of both servers are the same bytes and load on redis-server. */
static void build_hll(redisContext *c) {
    for (int i = 0; i < 150; i++) freeReplyObject(sc_cmd_or_fail(c, "PFADD hll:sparse s%d", i));
    enum { N = 5000 };
    static char words[N][16];
    const char *argv[N + 2] = {"PFADD", "hll:dense"};
    for (int i = 0; i < N; i++) {
        snprintf(words[i], sizeof words[i], "d%d", i);
        argv[i + 2] = words[i];
    }
    redisReply *r = redisCommandArgv(c, N + 2, argv, NULL);
    cr_assert(r && r->type == REDIS_REPLY_INTEGER, "PFADD of %d elements", N);
    freeReplyObject(r);
    freeReplyObject(sc_cmd_or_fail(c, "PFCOUNT hll:dense")); /* a valid cached cardinality */
    freeReplyObject(sc_cmd_or_fail(c, "PFADD hll:ttl a b c"));
    freeReplyObject(sc_cmd_or_fail(c, "PEXPIRE hll:ttl 100000"));
}

static void assert_same_string(redisContext *a, const char *ka, redisContext *b, const char *kb, const char *what) {
    redisReply *x = sc_cmd_or_fail(a, "GET %s", ka), *y = sc_cmd_or_fail(b, "GET %s", kb);
    cr_assert_eq(x->type, REDIS_REPLY_STRING, "%s: GET %s", what, ka);
    assert_same_bytes(x, y, what, kb);
    freeReplyObject(x);
    freeReplyObject(y);
}

Test(dump_redis, hyperloglog_payloads_both_ways) {
    redisContext *rc, *sc;
    start_both(&rc, &sc);
    build_hll(rc);
    build_hll(sc);
    static const char *const keys[] = {"hll:sparse", "hll:dense", "hll:ttl"};
    for (size_t i = 0; i < 3; i++) {
        const char *k = keys[i];
        redisReply *a = dump_of(rc, k), *b = dump_of(sc, k);
        assert_same_bytes(a, b, "DUMP of the same PFADDs", k);
        freeReplyObject(a);
        freeReplyObject(b);
        char nk[64];
        snprintf(nk, sizeof nk, "from-redis:%s", k);
        freeReplyObject(move(rc, sc, k, nk));
        long long want = sc_cmd_ll_or_fail(rc, "PFCOUNT %s", k);
        cr_assert_gt(want, 0, "%s", k);
        cr_assert_eq(sc_cmd_ll_or_fail(sc, "PFCOUNT %s", nk), want, "PFCOUNT of %s restored from redis-server", k);
        assert_same_string(rc, k, sc, nk, "after PFCOUNT");
        for (int j = 0; j < 40; j++) {
            freeReplyObject(sc_cmd_or_fail(rc, "PFADD %s more%d", k, j));
            freeReplyObject(sc_cmd_or_fail(sc, "PFADD %s more%d", nk, j));
        }
        assert_same_string(rc, k, sc, nk, "after more PFADDs");
        snprintf(nk, sizeof nk, "from-slotcache:%s", k);
        freeReplyObject(move(sc, rc, k, nk));
        cr_assert_eq(sc_cmd_ll_or_fail(rc, "PFCOUNT %s", nk), sc_cmd_ll_or_fail(sc, "PFCOUNT %s", k),
                     "PFCOUNT of %s restored in redis-server", k);
    }
    redisReply *e = sc_cmd_or_fail(sc, "PFDEBUG ENCODING from-redis:hll:dense");
    cr_assert(e->type == REDIS_REPLY_STATUS && strcmp(e->str, "dense") == 0, "%s", e->str);
    freeReplyObject(e);
    stop_both(rc, sc);
}
