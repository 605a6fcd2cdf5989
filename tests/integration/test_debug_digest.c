/*
 * test_debug_digest.c - DEBUG DIGEST and DEBUG DIGEST-VALUE against the real
 * redis-server 7.0.15, side by side (skipped when there is no redis-server).
 *
 * Both servers get the same data through the same commands: strings (int,
 * embstr, raw, binary, integer edge cases), lists (one node and many, built
 * by RPUSH and LPUSH), sets (intsets of each width, at and past
 * set-max-intset-entries, string sets), sorted sets (listpack and skiplist,
 * scores 1.5, -0, inf, -inf, 1e300, tiny and huge), hashes (listpack and
 * hashtable), TTLs set with PEXPIREAT at a fixed far-future time, in several
 * databases. Then DIGEST and every key's DIGEST-VALUE must be equal on both,
 * DIGEST must follow a change of one value, a missing key and an empty
 * dataset must give 40 zeros, and the same contents in other encodings must
 * give the same value digest.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_proc.h"
#include "value_corpus.h"

static sc_server ref, sut;
static redisContext *rc, *sc;

TestSuite(debug_digest, .fini = sc_server_cleanup, .timeout = 300);

#define ZEROS "0000000000000000000000000000000000000000"
#define FAR_FUTURE_MS "4102444800000" /* 2100-01-01, the same on both sides */

static void start_both(void) {
    const char *redis = sc_reference_redis_binary();
    if (!redis) cr_skip_test("redis-server not installed: nothing to compare with");
    static const char *const args[] = {"--enable-debug-command", "yes", NULL};
    sc_server_start_bin_or_fail(&ref, redis, args);
    sc_server_start_or_fail(&sut, args);
    rc = sc_connect_or_fail(&ref);
    sc = sc_connect_or_fail(&sut);
}

static void stop_both(void) {
    redisFree(rc);
    redisFree(sc);
    sc_server_stop_or_fail(&sut);
    sc_server_stop_or_fail(&ref);
}

/* ---- sending the same command to both ---------------------------------- */

static void expect_no_error(redisContext *c, redisReply *r, const char *what) {
    cr_assert(r, "%s: connection broke: %s", what, c->errstr);
    cr_assert(r->type != REDIS_REPLY_ERROR, "%s: %s", what, r->str);
    freeReplyObject(r);
}

static void both_argv(int argc, const char **argv, const size_t *lens) {
    expect_no_error(rc, redisCommandArgv(rc, argc, argv, lens), argv[0]);
    expect_no_error(sc, redisCommandArgv(sc, argc, argv, lens), argv[0]);
}

static void both(const char *fmt, ...) {
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    expect_no_error(rc, redisvCommand(rc, fmt, ap), fmt);
    expect_no_error(sc, redisvCommand(sc, fmt, ap2), fmt);
    va_end(ap2);
    va_end(ap);
}

/* ---- the data ---------------------------------------------------------- */

typedef struct {
    const char *key;
    const char *cmd; /* RPUSH LPUSH SADD ZADD HSET */
    int n, kind;
} spec;

static const spec collections[] = {
    {"l:small", "RPUSH", 12, CORPUS_MIXED},     {"l:words", "RPUSH", 3000, CORPUS_WORDS},
    {"l:ints", "RPUSH", 700, CORPUS_INTS},      {"l:lpush", "LPUSH", 2500, CORPUS_WORDS},
    {"l:bin", "RPUSH", 300, CORPUS_BIN},        {"s:int16", "SADD", 40, CORPUS_SMALL},
    {"s:int64", "SADD", 60, CORPUS_INTS},       {"s:at-limit", "SADD", 512, CORPUS_SMALL},
    {"s:past-limit", "SADD", 513, CORPUS_SMALL}, {"s:words", "SADD", 30, CORPUS_WORDS},
    {"s:large", "SADD", 2000, CORPUS_MIXED},    {"s:bin", "SADD", 13, CORPUS_BIN},
    {"z:small", "ZADD", 14, CORPUS_WORDS},      {"z:ints", "ZADD", 60, CORPUS_SMALL},
    {"z:at-limit", "ZADD", 128, CORPUS_WORDS},  {"z:past-limit", "ZADD", 129, CORPUS_WORDS},
    {"z:long-member", "ZADD", 5, CORPUS_LONG},  {"z:large", "ZADD", 1500, CORPUS_MIXED},
    {"h:small", "HSET", 10, CORPUS_WORDS},      {"h:ints", "HSET", 50, CORPUS_INTS},
    {"h:at-limit", "HSET", 128, CORPUS_WORDS},  {"h:past-limit", "HSET", 129, CORPUS_WORDS},
    {"h:long-value", "HSET", 4, CORPUS_LONG},   {"h:large", "HSET", 1000, CORPUS_MIXED},
};

static void send_both(int argc, const char **argv, const size_t *lens, void *arg) { both_argv(argc, argv, lens); }

/* Every kind of value in database db; keys carry the prefix so databases
 * differ. */
static void build_db(int db, const char *prefix) {
    both("SELECT %d", db);
    for (size_t i = 0; i < corpus_nstrings; i++) {
        const corpus_string *cs = &corpus_strings[i];
        both("SET %s%s %b", prefix, cs->key, cs->val, cs->len ? cs->len : strlen(cs->val));
    }
    static char big[10000];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (char)((i * 2654435761u) >> 13);
    both("SET %sstr:big %b", prefix, big, sizeof big);
    both("SET %sstr:appended 1", prefix);
    both("APPEND %sstr:appended 2", prefix); /* a raw "12", digested as "12" like an int */
    char key[64];
    for (size_t i = 0; i < sizeof collections / sizeof *collections; i++) {
        const spec *sp = &collections[i];
        snprintf(key, sizeof key, "%s%s", prefix, sp->key);
        corpus_build(sp->cmd, key, sp->n, sp->kind, send_both, NULL);
    }
    /* 1.5, -0, inf, 1e300 ... on a listpack and on a skiplist */
    both("ZADD %sz:specials 1.5 a -0 b inf c 1e300 d -inf e 1e-300 f -1.5 g", prefix);
    both("ZADD %sz:specials-sl 1.5 a -0 b inf c 1e300 d -inf e 1e-300 f -1.5 g 0 %0100d", prefix, 0);
    both("PEXPIREAT %sl:small " FAR_FUTURE_MS, prefix);
    both("PEXPIREAT %sz:large " FAR_FUTURE_MS, prefix);
    both("PEXPIREAT %sstr:neg " FAR_FUTURE_MS, prefix);
    both("PEXPIREAT %sh:past-limit " FAR_FUTURE_MS, prefix);
    both("PEXPIREAT %ss:int16 " FAR_FUTURE_MS, prefix);
    both("PEXPIREAT %sstr:big " FAR_FUTURE_MS, prefix);
}

static void build_all(void) {
    build_db(0, "");
    build_db(3, "");         /* the same keys in another database */
    build_db(15, "db15:");
    both("SELECT 0");
}

/* ---- digests ----------------------------------------------------------- */

/* DEBUG DIGEST's 40 hex digits, a status reply as Redis's. */
static void digest_of(redisContext *c, char out[41]) {
    redisReply *r = sc_cmd_or_fail(c, "DEBUG DIGEST");
    cr_assert_eq(r->type, REDIS_REPLY_STATUS, "DEBUG DIGEST: reply type %d (%s)", r->type,
                 r->type == REDIS_REPLY_ERROR ? r->str : "");
    cr_assert_eq(r->len, 40, "DEBUG DIGEST: %s", r->str);
    memcpy(out, r->str, 41);
    freeReplyObject(r);
}

static void expect_same_digest(const char *when) {
    char a[41], b[41];
    digest_of(rc, a);
    digest_of(sc, b);
    cr_assert_str_eq(b, a, "DEBUG DIGEST %s: slotcache %s, redis-server %s", when, b, a);
}

/* DIGEST-VALUE of one key on one server. */
static void value_digest_of(redisContext *c, const char *key, size_t klen, char out[41]) {
    redisReply *r = sc_cmd_or_fail(c, "DEBUG DIGEST-VALUE %b", key, klen);
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "DIGEST-VALUE %.*s: reply type %d", (int)klen, key, r->type);
    cr_assert_eq(r->elements, 1);
    cr_assert_eq(r->element[0]->type, REDIS_REPLY_STATUS);
    cr_assert_eq(r->element[0]->len, 40);
    memcpy(out, r->element[0]->str, 41);
    freeReplyObject(r);
}

/* Every key of the selected database (KEYS on the reference): its
 * DIGEST-VALUE equal on both, never all zeros; then all of them in one
 * DIGEST-VALUE call, element by element. */
static void expect_same_value_digests(void) {
    redisReply *keys = sc_cmd_or_fail(rc, "KEYS *");
    cr_assert_eq(keys->type, REDIS_REPLY_ARRAY);
    cr_assert_gt(keys->elements, 0);
    for (size_t i = 0; i < keys->elements; i++) {
        const redisReply *k = keys->element[i];
        char a[41], b[41];
        value_digest_of(rc, k->str, k->len, a);
        value_digest_of(sc, k->str, k->len, b);
        cr_assert_str_eq(b, a, "DIGEST-VALUE %s: slotcache %s, redis-server %s", k->str, b, a);
        cr_assert_str_neq(a, ZEROS, "DIGEST-VALUE %s", k->str);
    }
    size_t n = keys->elements + 3;
    const char **argv = calloc(n, sizeof *argv);
    size_t *lens = calloc(n, sizeof *lens);
    argv[0] = "DEBUG", lens[0] = 5;
    argv[1] = "DIGEST-VALUE", lens[1] = 12;
    for (size_t i = 0; i < keys->elements; i++) {
        argv[i + 2] = keys->element[i]->str;
        lens[i + 2] = keys->element[i]->len;
    }
    argv[n - 1] = "no-such-key", lens[n - 1] = 11;
    redisReply *ra = redisCommandArgv(rc, (int)n, argv, lens);
    redisReply *rb = redisCommandArgv(sc, (int)n, argv, lens);
    cr_assert(ra && rb);
    cr_assert_eq(rb->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(rb->elements, ra->elements);
    for (size_t i = 0; i < ra->elements; i++)
        cr_assert_str_eq(rb->element[i]->str, ra->element[i]->str, "DIGEST-VALUE element %zu", i);
    cr_assert_str_eq(rb->element[ra->elements - 1]->str, ZEROS);
    freeReplyObject(ra);
    freeReplyObject(rb);
    free(argv);
    free(lens);
    freeReplyObject(keys);
}

/* ---- tests ------------------------------------------------------------- */

Test(debug_digest, empty_dataset_and_missing_keys) {
    start_both();
    char d[41];
    digest_of(sc, d);
    cr_assert_str_eq(d, ZEROS);
    expect_same_digest("of an empty dataset");
    value_digest_of(sc, "missing", 7, d);
    cr_assert_str_eq(d, ZEROS);
    /* No key at all: an empty array, as Redis. */
    redisReply *r = sc_cmd_or_fail(sc, "DEBUG DIGEST-VALUE");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 0);
    freeReplyObject(r);
    /* A dataset emptied again is all zeros again. */
    both("SET k v");
    both("DEL k");
    digest_of(sc, d);
    cr_assert_str_eq(d, ZEROS);
    /* Wrong arity of DIGEST: Redis's subcommand error on both. */
    r = sc_cmd_or_fail(sc, "DEBUG DIGEST extra");
    cr_assert_eq(r->type, REDIS_REPLY_ERROR);
    freeReplyObject(r);
    stop_both();
}

Test(debug_digest, every_type_and_encoding_equals_redis) {
    start_both();
    build_all();
    expect_same_digest("of the whole corpus");
    static const int dbs[] = {0, 3, 15};
    for (size_t i = 0; i < sizeof dbs / sizeof *dbs; i++) {
        both("SELECT %d", dbs[i]);
        expect_same_value_digests();
    }
    both("SELECT 0");

    /* One change anywhere changes the digest, the same way on both. */
    char before[41], after[41];
    digest_of(sc, before);
    both("LSET l:words 1234 changed");
    digest_of(sc, after);
    cr_assert_str_neq(after, before);
    expect_same_digest("after LSET");
    both("ZADD z:small 2.5 item-0-even");
    expect_same_digest("after ZADD of a new score");
    both("HSET h:large newfield newvalue");
    expect_same_digest("after HSET");
    both("PERSIST str:neg"); /* the TTL is part of the digest */
    digest_of(sc, before);
    cr_assert_str_neq(before, after);
    expect_same_digest("after PERSIST");
    both("SELECT 15");
    both("SADD db15:s:int64 -0"); /* a string member: the set becomes a hashtable */
    expect_same_digest("after SADD to another database");
    both("SELECT 0");

    /* The same keys moved to another database give another digest. */
    both("FLUSHALL");
    both("SET a 1");
    digest_of(sc, before);
    both("MOVE a 7");
    digest_of(sc, after);
    cr_assert_str_neq(after, before);
    expect_same_digest("after MOVE");

    /* Inside a transaction, as on Redis. */
    redisReply *r = sc_cmd_or_fail(sc, "MULTI");
    freeReplyObject(r);
    freeReplyObject(sc_cmd_or_fail(sc, "DEBUG DIGEST"));
    r = sc_cmd_or_fail(sc, "EXEC");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 1);
    cr_assert_str_eq(r->element[0]->str, after);
    freeReplyObject(r);
    stop_both();
}

/* Values equal in contents but not in encoding have one DIGEST-VALUE. */
static void expect_same_value(const char *a, const char *b) {
    char da[41], db[41], ra[41];
    value_digest_of(sc, a, strlen(a), da);
    value_digest_of(sc, b, strlen(b), db);
    value_digest_of(rc, a, strlen(a), ra);
    cr_assert_str_eq(da, db, "DIGEST-VALUE %s vs %s", a, b);
    cr_assert_str_eq(da, ra, "DIGEST-VALUE %s: slotcache %s, redis-server %s", a, da, ra);
}

static void expect_encoding(const char *key, const char *enc) {
    redisReply *r = sc_cmd_or_fail(sc, "OBJECT ENCODING %s", key);
    cr_assert(sc_reply_is(r, enc), "OBJECT ENCODING %s: %s, expected %s", key, r->str, enc);
    freeReplyObject(r);
}

Test(debug_digest, independent_of_encoding) {
    start_both();
    /* int vs raw string */
    both("SET s:int 12345");
    both("SET s:raw 123");
    both("APPEND s:raw 45");
    expect_encoding("s:int", "int");
    expect_encoding("s:raw", "raw");
    expect_same_value("s:int", "s:raw");
    /* intset vs hashtable */
    both("SADD set:is 3 1 2 -7 100000 -5000000000");
    both("SADD set:ht 3 1 2 -7 100000 -5000000000 x");
    both("SREM set:ht x");
    expect_encoding("set:is", "intset");
    expect_encoding("set:ht", "hashtable");
    expect_same_value("set:is", "set:ht");
    /* listpack vs skiplist sorted set */
    both("ZADD z:lp 1.5 a -0 b inf c 1e300 d -inf e 0.1 f 7 100");
    both("ZADD z:sl 1.5 a -0 b inf c 1e300 d -inf e 0.1 f 7 100 0 %0100d", 0);
    both("ZREM z:sl %0100d", 0);
    expect_encoding("z:lp", "listpack");
    expect_encoding("z:sl", "skiplist");
    expect_same_value("z:lp", "z:sl");
    /* listpack vs hashtable hash */
    both("HSET h:lp f1 v1 f2 22 f3 -3");
    both("HSET h:ht f1 v1 f2 22 f3 -3 long %0100d", 0);
    both("HDEL h:ht long");
    expect_encoding("h:lp", "listpack");
    expect_encoding("h:ht", "hashtable");
    expect_same_value("h:lp", "h:ht");
    /* a TTL is digested as its presence, not its time (Redis 7.0) */
    both("SET t:a v PXAT " FAR_FUTURE_MS);
    both("SET t:b v PXAT 4102444900000");
    expect_same_value("t:a", "t:b");
    char with[41], without[41];
    both("SET t:c v");
    value_digest_of(sc, "t:c", 3, without);
    value_digest_of(sc, "t:a", 3, with);
    cr_assert_str_neq(with, without);
    expect_same_digest("of the encodings corpus");
    stop_both();
}

/* A key past its expire time that nobody deleted yet is still digested,
 * as Redis's DIGEST and DIGEST-VALUE read the dict directly. */
Test(debug_digest, expired_keys_not_yet_deleted) {
    start_both();
    both("DEBUG SET-ACTIVE-EXPIRE 0");
    both("SET gone v PX 1");
    both("SET stays v");
    sc_sleep_ms(20);
    char a[41], b[41];
    value_digest_of(rc, "gone", 4, a);
    value_digest_of(sc, "gone", 4, b);
    cr_assert_str_neq(a, ZEROS, "redis-server digests an expired key it has not deleted");
    cr_assert_str_eq(b, a);
    expect_same_digest("with an expired key not yet deleted");
    /* A lookup deletes it; then both forget it. */
    freeReplyObject(sc_cmd_or_fail(rc, "GET gone"));
    freeReplyObject(sc_cmd_or_fail(sc, "GET gone"));
    value_digest_of(sc, "gone", 4, b);
    cr_assert_str_eq(b, ZEROS);
    expect_same_digest("after the expired key was deleted");
    stop_both();
}
