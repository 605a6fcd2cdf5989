/*
 * test_locks.c - the native lock commands of issue 5 through hiredis:
 * DELIFEQ (Valkey 9), DELEX and DIGEST (Redis 8.4), SET's IFEQ / IFNE /
 * IFDEQ / IFDNE conditions (Redis 8.4 / Valkey 8.1), CAS and CAD (Tair).
 * Every command against a missing key, a wrong type, a mismatch and a match,
 * with the TTL kept or cleared as the reference servers document; their
 * keyspace events and WATCH invalidation (the write epilogue); the lock
 * recipe (acquire, extend, release); a contention test (8 clients on
 * --threads 4 around a non-atomic GET/SET counter, released with DELIFEQ,
 * DELEX IFEQ and CAD in turn: the final count must be exact); and lock
 * expiry (a holder that outlives its PX cannot release or extend).
 *
 * None of these commands exists in Redis 7.0, so every test is skipped when
 * the harness runs redis-server (SLOTCACHE_SERVER=/usr/bin/redis-server).
 * Expected digests were computed with the xxHash library (python3-xxhash,
 * xxh3_64_hexdigest). Client threads never call Criterion assertions: they
 * record the first failure and the main thread asserts after joining.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server_proc.h"
#include "thread_fail.h"

static sc_server srv;
static const char *const threaded[] = { "--threads", "4", NULL };

TestSuite(locks, .fini = sc_server_cleanup, .timeout = 300);

#define SKIP_ON_REDIS()                                                                              \
    do {                                                                                             \
        if (sc_server_binary_is_redis())                                                             \
            cr_skip_test("DELIFEQ/DELEX/DIGEST/CAS/CAD and SET IF* are not in redis-server 7.0"); \
    } while (0)

#define WRONGTYPE "-WRONGTYPE Operation against a key holding the wrong kind of value"
#define SYNTAX "-ERR syntax error"
#define BAD_DIGEST "-ERR must be exactly 16 hexadecimal characters"

/* ---- helpers ----------------------------------------------------------- */

/* Typed text of a reply: ":1", "+OK", "$value", "(nil)", "-ERR ...". */
static void reply_text(const redisReply *r, char *out, size_t n)
{
    switch (r->type) {
    case REDIS_REPLY_STATUS: snprintf(out, n, "+%.*s", (int)r->len, r->str); break;
    case REDIS_REPLY_ERROR: snprintf(out, n, "-%.*s", (int)r->len, r->str); break;
    case REDIS_REPLY_STRING: snprintf(out, n, "$%.*s", (int)r->len, r->str); break;
    case REDIS_REPLY_INTEGER: snprintf(out, n, ":%lld", r->integer); break;
    case REDIS_REPLY_NIL: snprintf(out, n, "(nil)"); break;
    default: snprintf(out, n, "*%zu", r->elements);
    }
}

/* Run a space-separated command ("" is an empty argument); its typed reply
 * text must be `want`. */
static void expect(redisContext *c, const char *line, const char *want)
{
    redisReply *r = sc_cmd_line_or_fail(c, line);
    char got[1024];
    reply_text(r, got, sizeof got);
    freeReplyObject(r);
    cr_assert_str_eq(got, want, "\"%s\": got \"%s\", want \"%s\"", line, got, want);
}

/* PTTL must be in (lo, hi]. */
static void expect_pttl(redisContext *c, const char *key, long long lo, long long hi)
{
    long long t = sc_cmd_ll_or_fail(c, "PTTL %s", key);
    cr_assert(t > lo && t <= hi, "PTTL %s = %lld, want in (%lld, %lld]", key, t, lo, hi);
}

static redisContext *start(void)
{
    sc_server_start_or_fail(&srv, NULL);
    return sc_connect_or_fail(&srv);
}

static void stop(redisContext *c)
{
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

/* ---- DIGEST ------------------------------------------------------------ */

Test(locks, digest)
{
    SKIP_ON_REDIS();
    redisContext *c = start();
    expect(c, "DIGEST nokey", "(nil)");
    expect(c, "SADD s m", ":1");
    expect(c, "DIGEST s", WRONGTYPE);
    expect(c, "SET k \"\"", "+OK");
    expect(c, "DIGEST k", "$2d06800538d394c2");
    expect(c, "SET k Hello", "+OK");
    redisReply *r = sc_cmd_or_fail(c, "APPEND k %s", " world"); /* raw encoding */
    freeReplyObject(r);
    r = sc_cmd_or_fail(c, "SET h %s", "Hello world");           /* embstr */
    freeReplyObject(r);
    expect(c, "DIGEST h", "$b6acb9d84a38ff74");
    expect(c, "DIGEST k", "$b6acb9d84a38ff74");
    expect(c, "SET n 12345", "+OK");            /* int encoding: digest of the text */
    expect(c, "OBJECT ENCODING n", "$int");
    expect(c, "DIGEST n", "$f34099ede96b5581");
    expect(c, "SET neg -1", "+OK");
    expect(c, "DIGEST neg", "$bc25a7b612cba21f");
    /* Leading zeros are kept (redis/redis#14496's example value). */
    expect(c, "SET z v8lf0c11xh8ymlqztfd3eeq16kfn4sspw7fqmnuuq3k3t75em5wdizgcdw7uc26nnf961u2jkfzkjytls2kwlj7626sd",
           "+OK");
    expect(c, "DIGEST z", "$00006c38adf31777");
    /* Binary and long values. */
    r = sc_cmd_or_fail(c, "SET bin %b", "a\0b\r\nc", (size_t)6);
    freeReplyObject(r);
    expect(c, "DIGEST bin", "$62f51b3982b954eb");
    char big[1001];
    memset(big, 'x', 1000);
    big[1000] = '\0';
    r = sc_cmd_or_fail(c, "SET big %s", big);
    freeReplyObject(r);
    expect(c, "DIGEST big", "$c0a4877b962cba82");
    /* Read-only: the TTL stays. */
    expect(c, "SET t v PX 100000", "+OK");
    expect(c, "DIGEST t", "$f7042be43fb80714");
    expect_pttl(c, "t", 90000, 100000);
    expect(c, "DIGEST", "-ERR wrong number of arguments for 'digest' command");
    expect(c, "DIGEST a b", "-ERR wrong number of arguments for 'digest' command");
    stop(c);
}

/* ---- DELIFEQ ----------------------------------------------------------- */

Test(locks, delifeq)
{
    SKIP_ON_REDIS();
    redisContext *c = start();
    expect(c, "DELIFEQ lock tok", ":0");
    expect(c, "EXISTS lock", ":0");
    expect(c, "SET lock tok PX 100000", "+OK");
    expect(c, "DELIFEQ lock other", ":0");
    expect(c, "DELIFEQ lock TOK", ":0");          /* case-sensitive */
    expect(c, "DELIFEQ lock tok2", ":0");
    expect(c, "DELIFEQ lock to", ":0");
    expect(c, "GET lock", "$tok");
    expect_pttl(c, "lock", 90000, 100000);       /* a mismatch leaves the TTL */
    expect(c, "DELIFEQ lock tok", ":1");
    expect(c, "EXISTS lock", ":0");
    expect(c, "DELIFEQ lock tok", ":0");
    /* int-encoded and empty values compare as their text. */
    expect(c, "SET n 100", "+OK");
    expect(c, "DELIFEQ n 0100", ":0");
    expect(c, "DELIFEQ n 100", ":1");
    expect(c, "SET e \"\"", "+OK");
    expect(c, "DELIFEQ e x", ":0");
    expect(c, "DELIFEQ e \"\"", ":1");
    redisReply *r = sc_cmd_or_fail(c, "SET bin %b", "a\0b", (size_t)3);
    freeReplyObject(r);
    cr_assert_eq(sc_cmd_ll_or_fail(c, "DELIFEQ bin %b", "a\0c", (size_t)3), 0);
    cr_assert_eq(sc_cmd_ll_or_fail(c, "DELIFEQ bin %b", "a", (size_t)1), 0);
    cr_assert_eq(sc_cmd_ll_or_fail(c, "DELIFEQ bin %b", "a\0b", (size_t)3), 1);
    /* Wrong types are an error and are left alone. */
    expect(c, "SADD s tok", ":1");
    expect(c, "DELIFEQ s tok", WRONGTYPE);
    expect(c, "HSET h f v", ":1");
    expect(c, "DELIFEQ h v", WRONGTYPE);
    expect(c, "RPUSH l v", ":1");
    expect(c, "DELIFEQ l v", WRONGTYPE);
    expect(c, "ZADD z 1 v", ":1");
    expect(c, "DELIFEQ z v", WRONGTYPE);
    expect(c, "EXISTS s h l z", ":4");
    expect(c, "DELIFEQ lock", "-ERR wrong number of arguments for 'delifeq' command");
    expect(c, "DELIFEQ lock a b", "-ERR wrong number of arguments for 'delifeq' command");
    expect(c, "delifeq lock a", ":0");
    stop(c);
}

/* ---- DELEX ------------------------------------------------------------- */

Test(locks, delex)
{
    SKIP_ON_REDIS();
    redisContext *c = start();
    /* No condition: DEL of one key of any type. */
    expect(c, "DELEX k", ":0");
    expect(c, "SET k v", "+OK");
    expect(c, "DELEX k", ":1");
    expect(c, "SADD s m", ":1");
    expect(c, "DELEX s", ":1");
    expect(c, "EXISTS s", ":0");

    /* Missing key: 0 for every condition. */
    expect(c, "DELEX k IFEQ v", ":0");
    expect(c, "DELEX k IFNE v", ":0");
    expect(c, "DELEX k IFDEQ f7042be43fb80714", ":0");
    expect(c, "DELEX k IFDNE f7042be43fb80714", ":0");

    /* IFEQ / IFNE. */
    expect(c, "SET k v PX 100000", "+OK");
    expect(c, "DELEX k IFEQ w", ":0");
    expect(c, "DELEX k IFNE v", ":0");
    expect_pttl(c, "k", 90000, 100000);
    expect(c, "DELEX k IFEQ v", ":1");
    expect(c, "EXISTS k", ":0");
    expect(c, "SET k v", "+OK");
    expect(c, "DELEX k ifne w", ":1");
    expect(c, "EXISTS k", ":0");

    /* IFDEQ / IFDNE: digest of "v" is f7042be43fb80714, any case. */
    expect(c, "SET k v", "+OK");
    expect(c, "DELEX k IFDEQ aceee8f5de193e29", ":0");   /* digest of "w" */
    expect(c, "DELEX k IFDNE f7042be43fb80714", ":0");
    expect(c, "DELEX k IFDEQ F7042BE43FB80714", ":1");
    expect(c, "SET k v", "+OK");
    expect(c, "DELEX k IFDNE aceee8f5de193e29", ":1");
    expect(c, "SET k v", "+OK");
    expect(c, "DELEX k IfDeQ f7042Be43fB80714", ":1");
    /* Leading zeros must be sent. */
    expect(c, "SET z v8lf0c11xh8ymlqztfd3eeq16kfn4sspw7fqmnuuq3k3t75em5wdizgcdw7uc26nnf961u2jkfzkjytls2kwlj7626sd",
           "+OK");
    expect(c, "DELEX z IFDEQ 6c38adf31777", BAD_DIGEST);
    expect(c, "DELEX z IFDEQ 00006c38adf31777", ":1");
    /* A digest of the wrong length is an error when there is a value. */
    expect(c, "SET k v", "+OK");
    expect(c, "DELEX k IFDEQ f7042be43fb8071", BAD_DIGEST);
    expect(c, "DELEX k IFDNE f7042be43fb807140", BAD_DIGEST);
    expect(c, "DELEX k IFDEQ \"\"", BAD_DIGEST);
    expect(c, "DELEX k IFDEQ zzzzzzzzzzzzzzzz", ":0");   /* 16 chars: simply no match */
    expect(c, "GET k", "$v");

    /* int-encoded values. */
    expect(c, "SET n 42", "+OK");
    expect(c, "DELEX n IFEQ 42.0", ":0");
    expect(c, "DELEX n IFEQ 42", ":1");

    /* Wrong type with a condition. */
    expect(c, "SADD s m", ":1");
    expect(c, "DELEX s IFEQ m", WRONGTYPE);
    expect(c, "DELEX s IFNE m", WRONGTYPE);
    expect(c, "DELEX s IFDEQ f7042be43fb80714", WRONGTYPE);
    expect(c, "DELEX s IFDNE f7042be43fb80714", WRONGTYPE);
    expect(c, "EXISTS s", ":1");

    /* Syntax: one condition at most, always with its argument, checked even
     * when the key is missing. */
    expect(c, "DELEX k IFEQ", SYNTAX);
    expect(c, "DELEX nokey IFEQ", SYNTAX);
    expect(c, "DELEX k IFEQ v IFNE w", SYNTAX);
    expect(c, "DELEX k IFEQ v extra", SYNTAX);
    expect(c, "DELEX k FOO v", SYNTAX);
    expect(c, "DELEX k NX", SYNTAX);
    expect(c, "DELEX", "-ERR wrong number of arguments for 'delex' command");
    expect(c, "GET k", "$v");
    stop(c);
}

/* ---- SET IFEQ / IFNE / IFDEQ / IFDNE ----------------------------------- */

Test(locks, set_conditions)
{
    SKIP_ON_REDIS();
    redisContext *c = start();
    /* IFEQ / IFDEQ never create a missing key; IFNE / IFDNE do. */
    expect(c, "SET k v IFEQ v", "(nil)");
    expect(c, "SET k v IFDEQ f7042be43fb80714", "(nil)");
    expect(c, "EXISTS k", ":0");
    expect(c, "SET k v IFNE x", "+OK");
    expect(c, "GET k", "$v");
    expect(c, "DEL k", ":1");
    expect(c, "SET k v IFDNE aceee8f5de193e29", "+OK");
    expect(c, "GET k", "$v");

    /* Mismatch: nil, value untouched; match: OK. */
    expect(c, "SET k w IFEQ x", "(nil)");
    expect(c, "SET k w IFNE v", "(nil)");
    expect(c, "SET k w IFDEQ aceee8f5de193e29", "(nil)");
    expect(c, "SET k w IFDNE f7042be43fb80714", "(nil)");
    expect(c, "GET k", "$v");
    expect(c, "SET k w IFEQ v", "+OK");
    expect(c, "SET k x IFNE v", "+OK");
    expect(c, "SET k y IFDEQ 3A7B6A6F7E7F0B1A", "(nil)");
    expect(c, "DIGEST k", "$eaf06c6480b2cd11");
    expect(c, "SET k y IFDEQ EAF06C6480B2CD11", "+OK");
    expect(c, "SET k z IFDNE eaf06c6480b2cd11", "+OK");
    expect(c, "GET k", "$z");

    /* With GET: the old value (or nil) whatever the outcome. */
    expect(c, "SET k a IFEQ nope GET", "$z");
    expect(c, "GET k", "$z");
    expect(c, "SET k a IFEQ z GET", "$z");
    expect(c, "GET k", "$a");
    expect(c, "SET k b GET IFNE a", "$a");
    expect(c, "GET k", "$a");
    expect(c, "SET missing v IFEQ v GET", "(nil)");
    expect(c, "EXISTS missing", ":0");
    expect(c, "SET missing v IFNE v GET", "(nil)");
    expect(c, "GET missing", "$v");

    /* Digests: any case, 16 characters when there is a value to compare;
     * a missing key is decided before the digest is looked at (Redis 8.4). */
    expect(c, "SET k v", "+OK");
    expect(c, "SET k w IFDEQ f7042be43fb8071", BAD_DIGEST);
    expect(c, "SET k w IFDNE f7042be43fb8071 GET", BAD_DIGEST);
    expect(c, "GET k", "$v");
    expect(c, "SET nokey1 w IFDEQ abc", "(nil)");
    expect(c, "SET nokey2 w IFDNE abc", "+OK");
    expect(c, "EXISTS nokey1 nokey2", ":1");

    /* int-encoded current values compare as text. */
    expect(c, "SET n 7", "+OK");
    expect(c, "SET n 8 IFEQ 07", "(nil)");
    expect(c, "SET n 8 IFEQ 7", "+OK");
    expect(c, "INCR n", ":9");

    /* Wrong type: error, with or without GET, key untouched. */
    expect(c, "SADD s m", ":1");
    expect(c, "SET s v IFEQ m", WRONGTYPE);
    expect(c, "SET s v IFNE m", WRONGTYPE);
    expect(c, "SET s v IFDEQ f7042be43fb80714", WRONGTYPE);
    expect(c, "SET s v IFDNE f7042be43fb80714", WRONGTYPE);
    expect(c, "SET s v IFNE m GET", WRONGTYPE);
    expect(c, "TYPE s", "+set");
    expect(c, "SET s v", "+OK");                /* plain SET still overwrites */
    expect(c, "TYPE s", "+string");

    /* Syntax: one condition, never with NX/XX, always with its argument. */
    expect(c, "SET k v NX IFEQ v", SYNTAX);
    expect(c, "SET k v IFEQ v NX", SYNTAX);
    expect(c, "SET k v XX IFNE v", SYNTAX);
    expect(c, "SET k v IFDEQ f7042be43fb80714 XX", SYNTAX);
    expect(c, "SET k v IFEQ v IFEQ v", SYNTAX);
    expect(c, "SET k v IFEQ v IFNE w", SYNTAX);
    expect(c, "SET k v IFEQ", SYNTAX);
    expect(c, "SET k v GET IFNE", SYNTAX);
    expect(c, "SET k v IFEQ v KEEPTTL PX 10", SYNTAX);
    expect(c, "GET k", "$v");

    /* Existing SET forms are unchanged. */
    expect(c, "SET k v2 NX", "(nil)");
    expect(c, "SET k v2 XX GET", "$v");
    expect(c, "SET k v3 NX GET", "$v2");
    expect(c, "SET new v NX GET", "(nil)");
    expect(c, "GET new", "$v");
    stop(c);
}

Test(locks, set_conditions_ttl)
{
    SKIP_ON_REDIS();
    redisContext *c = start();
    /* A met condition without an expire option clears the TTL (as SET). */
    expect(c, "SET k v PX 100000", "+OK");
    expect(c, "SET k w IFEQ v", "+OK");
    cr_assert_eq(sc_cmd_ll_or_fail(c, "PTTL k"), -1);
    /* KEEPTTL keeps it. */
    expect(c, "SET k v PX 100000", "+OK");
    expect(c, "SET k w IFEQ v KEEPTTL", "+OK");
    expect_pttl(c, "k", 90000, 100000);
    /* EX / PX / EXAT / PXAT set a new one. */
    expect(c, "SET k x IFEQ w PX 50000", "+OK");
    expect_pttl(c, "k", 40000, 50000);
    expect(c, "SET k y IFNE w EX 30", "+OK");
    expect_pttl(c, "k", 20000, 30000);
    expect(c, "SET k z IFDEQ 272b57e6d7c0a9e5 PXAT 99999999999999", "+OK");
    cr_assert_eq(sc_cmd_ll_or_fail(c, "PEXPIRETIME k"), 99999999999999LL);
    expect(c, "SET k a IFDNE 00000000000000ff EXAT 9999999999", "+OK");
    cr_assert_eq(sc_cmd_ll_or_fail(c, "EXPIRETIME k"), 9999999999LL);
    /* A failed condition changes nothing, TTL included. */
    expect(c, "SET k v PX 100000", "+OK");
    expect(c, "SET k w IFEQ nope PX 5", "(nil)");
    expect(c, "SET k w IFNE v EX 1", "(nil)");
    expect(c, "SET k w IFEQ nope KEEPTTL GET", "$v");
    expect_pttl(c, "k", 90000, 100000);
    /* IFNE / IFDNE creating a missing key take the expire. */
    expect(c, "SET n v IFNE x PX 70000", "+OK");
    expect_pttl(c, "n", 60000, 70000);
    expect(c, "SET m v IFDNE 0000000000000000 KEEPTTL", "+OK");
    cr_assert_eq(sc_cmd_ll_or_fail(c, "PTTL m"), -1);
    /* Invalid expire times are errors, checked before anything else. */
    expect(c, "SET k w IFEQ v PX 0", "-ERR invalid expire time in 'set' command");
    expect(c, "SET k w IFEQ v EX -1", "-ERR invalid expire time in 'set' command");
    expect(c, "GET k", "$v");
    stop(c);
}

/* ---- CAS / CAD (Tair) ------------------------------------------------- */

Test(locks, cas)
{
    SKIP_ON_REDIS();
    redisContext *c = start();
    expect(c, "CAS k old new", ":-1");
    expect(c, "EXISTS k", ":0");                /* never creates */
    expect(c, "SET k old PX 100000", "+OK");
    expect(c, "CAS k nope new", ":0");
    expect(c, "GET k", "$old");
    expect_pttl(c, "k", 90000, 100000);          /* mismatch: TTL kept */
    expect(c, "CAS k old new", ":1");
    expect(c, "GET k", "$new");
    cr_assert_eq(sc_cmd_ll_or_fail(c, "PTTL k"), -1); /* no option: TTL removed (Tair) */
    expect(c, "CAS k new a PX 50000", ":1");
    expect_pttl(c, "k", 40000, 50000);
    expect(c, "CAS k a b EX 30", ":1");
    expect_pttl(c, "k", 20000, 30000);
    expect(c, "CAS k b c EXAT 9999999999", ":1");
    cr_assert_eq(sc_cmd_ll_or_fail(c, "EXPIRETIME k"), 9999999999LL);
    expect(c, "CAS k c d pxat 99999999999999", ":1");
    cr_assert_eq(sc_cmd_ll_or_fail(c, "PEXPIRETIME k"), 99999999999999LL);
    expect(c, "GET k", "$d");
    /* Time 0 or a past absolute time: swapped and expired at once. */
    expect(c, "CAS k d e PX 0", ":1");
    expect(c, "EXISTS k", ":0");
    expect(c, "SET k v", "+OK");
    expect(c, "CAS k v w PXAT 1", ":1");
    expect(c, "EXISTS k", ":0");
    /* int-encoded values; the new value is stored like SET would. */
    expect(c, "SET n 10", "+OK");
    expect(c, "CAS n 10 11", ":1");
    expect(c, "OBJECT ENCODING n", "$int");
    expect(c, "INCR n", ":12");
    /* Errors. */
    expect(c, "SET k v", "+OK");
    expect(c, "CAS k v w PX -1", "-ERR invalid expire time in 'cas' command");
    expect(c, "CAS k v w EX 9223372036854775807", "-ERR invalid expire time in 'cas' command");
    expect(c, "CAS k v w PX abc", "-ERR value is not an integer or out of range");
    expect(c, "CAS k v w PX", SYNTAX);
    expect(c, "CAS k v w KEEPTTL", SYNTAX);
    expect(c, "CAS k v w PX 10 EX 10", SYNTAX);
    expect(c, "CAS k v w NX 10", SYNTAX);
    expect(c, "CAS k v", "-ERR wrong number of arguments for 'cas' command");
    expect(c, "GET k", "$v");
    expect(c, "SADD s m", ":1");
    expect(c, "CAS s m x", WRONGTYPE);
    expect(c, "TYPE s", "+set");
    stop(c);
}

Test(locks, cad)
{
    SKIP_ON_REDIS();
    redisContext *c = start();
    expect(c, "CAD k v", ":-1");
    expect(c, "SET k v PX 100000", "+OK");
    expect(c, "CAD k w", ":0");
    expect(c, "GET k", "$v");
    expect_pttl(c, "k", 90000, 100000);
    expect(c, "CAD k v", ":1");
    expect(c, "EXISTS k", ":0");
    expect(c, "CAD k v", ":-1");
    expect(c, "SET n 5", "+OK");
    expect(c, "CAD n 5", ":1");
    expect(c, "SADD s m", ":1");
    expect(c, "CAD s m", WRONGTYPE);
    expect(c, "EXISTS s", ":1");
    expect(c, "CAD k", "-ERR wrong number of arguments for 'cad' command");
    stop(c);
}

Test(locks, command_table)
{
    SKIP_ON_REDIS();
    redisContext *c = start();
    const char *names[] = { "delifeq", "delex", "digest", "cas", "cad" };
    const long long arity[] = { 3, -2, 2, -4, 3 };
    for (int i = 0; i < 5; i++) {
        redisReply *r = sc_cmd_or_fail(c, "COMMAND INFO %s", names[i]);
        cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 1, "COMMAND INFO %s", names[i]);
        redisReply *e = r->element[0];
        cr_assert(e->type == REDIS_REPLY_ARRAY && e->elements >= 6, "COMMAND INFO %s: no entry", names[i]);
        cr_assert_str_eq(e->element[0]->str, names[i]);
        cr_assert_eq(e->element[1]->integer, arity[i], "%s arity", names[i]);
        cr_assert_eq(e->element[3]->integer, 1, "%s first key", names[i]);
        cr_assert_eq(e->element[4]->integer, 1, "%s last key", names[i]);
        freeReplyObject(r);
        redisReply *k = sc_cmd_or_fail(c, "COMMAND GETKEYS %s mykey a b", names[i]);
        if (arity[i] == 2) {
            freeReplyObject(k);
            k = sc_cmd_or_fail(c, "COMMAND GETKEYS %s mykey", names[i]);
        } else if (arity[i] == 3) {
            freeReplyObject(k);
            k = sc_cmd_or_fail(c, "COMMAND GETKEYS %s mykey a", names[i]);
        }
        cr_assert(k->type == REDIS_REPLY_ARRAY && k->elements == 1 && strcmp(k->element[0]->str, "mykey") == 0,
                  "COMMAND GETKEYS %s", names[i]);
        freeReplyObject(k);
    }
    stop(c);
}

/* ---- the write epilogue: keyspace events and WATCH --------------------- */

/* The next messages on the subscriber are the keyevent events listed in
 * `events` ("set:k del:k ..."), in order. */
static void expect_events(redisContext *sub, const char *events, const char *what)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", events);
    char *save = NULL;
    for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *colon = strchr(tok, ':');
        *colon = '\0';
        char chan[128];
        snprintf(chan, sizeof chan, "__keyevent@0__:%s", tok);
        void *rv = NULL;
        cr_assert(redisGetReply(sub, &rv) == REDIS_OK && rv, "%s: no event %s %s", what, chan, colon + 1);
        redisReply *r = rv;
        cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 4 && sc_reply_is(r->element[0], "pmessage"),
                  "%s: not a pmessage", what);
        cr_assert(sc_reply_is(r->element[2], chan) && sc_reply_is(r->element[3], colon + 1),
                  "%s: got %.*s %.*s, want %s %s", what, (int)r->element[2]->len, r->element[2]->str,
                  (int)r->element[3]->len, r->element[3]->str, chan, colon + 1);
        freeReplyObject(r);
    }
}

Test(locks, keyspace_events)
{
    SKIP_ON_REDIS();
    redisContext *c = start();
    expect(c, "CONFIG SET notify-keyspace-events E$gs", "+OK");
    redisContext *sub = sc_connect_or_fail(&srv);
    redisReply *r = sc_cmd_or_fail(sub, "PSUBSCRIBE __keyevent@0__:*");
    freeReplyObject(r);

    /* Each step ends with SET mark: any stray event would come before it. */
    struct {
        const char *cmds[3];
        const char *events;
    } steps[] = {
        { { "SET l t", "DELIFEQ l x", "DELIFEQ l t" }, "set:l del:l" },
        { { "SET l t", "DELEX l IFNE t", "DELEX l IFEQ t" }, "set:l del:l" },
        { { "SADD s m", "DELEX s", NULL }, "sadd:s del:s" },
        { { "SET l t", "DELEX l IFDEQ 76033e85f0acf92d", NULL }, "set:l del:l" },
        { { "SET l t", "CAD l x", "CAD l t" }, "set:l del:l" },
        { { "CAD l t", "CAS l t u", "DELIFEQ l t" }, "" },
        { { "SET l t", "CAS l x u", "CAS l t u" }, "set:l set:l" },
        { { "CAS l u v PX 100000", "DIGEST l", NULL }, "set:l expire:l" },
        { { "CAS l v w PX 0", NULL, NULL }, "set:l del:l" },
        { { "SET l t IFEQ x", "SET l t IFNE x", "SET l t IFEQ t PX 100000" }, "set:l set:l expire:l" },
        { { "SET l u IFDEQ 76033e85f0acf92d KEEPTTL", "SET l v IFDNE 0000000000000000 GET", NULL },
          "set:l set:l" },
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        for (int j = 0; j < 3 && steps[i].cmds[j]; j++) {
            r = sc_cmd_or_fail(c, steps[i].cmds[j]);
            cr_assert(r->type != REDIS_REPLY_ERROR, "%s: %s", steps[i].cmds[j], r->str);
            freeReplyObject(r);
        }
        expect(c, "SET mark x", "+OK");
        char what[64];
        snprintf(what, sizeof what, "step %zu (%s)", i, steps[i].cmds[0]);
        char want[256];
        snprintf(want, sizeof want, "%s%sset:mark", steps[i].events, steps[i].events[0] ? " " : "");
        expect_events(sub, want, what);
    }
    redisFree(sub);
    stop(c);
}

/* WATCH key on `a`; run `cmd` on `b`; EXEC on `a` must abort iff `dirty`. */
static void watch_case(redisContext *a, redisContext *b, const char *setup, const char *cmd, bool dirty)
{
    redisReply *r = sc_cmd_or_fail(b, setup);
    freeReplyObject(r);
    expect(a, "WATCH l", "+OK");
    r = sc_cmd_or_fail(b, cmd);
    cr_assert(r->type != REDIS_REPLY_ERROR, "%s: %s", cmd, r->str);
    freeReplyObject(r);
    expect(a, "MULTI", "+OK");
    expect(a, "PING", "+QUEUED");
    r = sc_cmd_or_fail(a, "EXEC");
    if (dirty)
        cr_assert(r->type == REDIS_REPLY_NIL, "%s did not invalidate WATCH", cmd);
    else
        cr_assert(r->type == REDIS_REPLY_ARRAY, "%s (a no-op) invalidated WATCH", cmd);
    freeReplyObject(r);
}

Test(locks, watch_invalidation)
{
    SKIP_ON_REDIS();
    redisContext *a = start();
    redisContext *b = sc_connect_or_fail(&srv);
    watch_case(a, b, "SET l t", "DELIFEQ l t", true);
    watch_case(a, b, "SET l t", "DELIFEQ l x", false);
    watch_case(a, b, "SET l t", "DELEX l IFEQ t", true);
    watch_case(a, b, "SET l t", "DELEX l IFEQ x", false);
    watch_case(a, b, "SET l t", "CAD l t", true);
    watch_case(a, b, "SET l t", "CAD l x", false);
    watch_case(a, b, "SET l t", "CAS l t u", true);
    watch_case(a, b, "SET l t", "CAS l x u", false);
    watch_case(a, b, "SET l t", "SET l t IFEQ t PX 10000", true);
    watch_case(a, b, "SET l t", "SET l u IFEQ x", false);
    watch_case(a, b, "SET l t", "DIGEST l", false);
    /* Inside MULTI the commands queue and run like any other. */
    expect(a, "SET l t", "+OK");
    expect(a, "MULTI", "+OK");
    expect(a, "DELIFEQ l t", "+QUEUED");
    expect(a, "SET l u NX PX 1000", "+QUEUED");
    expect(a, "CAS l u v", "+QUEUED");
    expect(a, "DIGEST l", "+QUEUED");
    expect(a, "CAD l v", "+QUEUED");
    redisReply *r = sc_cmd_or_fail(a, "EXEC");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 5);
    cr_assert(r->element[0]->type == REDIS_REPLY_INTEGER && r->element[0]->integer == 1);
    cr_assert(sc_reply_is(r->element[1], "OK"));
    cr_assert(r->element[2]->type == REDIS_REPLY_INTEGER && r->element[2]->integer == 1);
    cr_assert(sc_reply_is(r->element[3], "f7042be43fb80714"));
    cr_assert(r->element[4]->type == REDIS_REPLY_INTEGER && r->element[4]->integer == 1);
    freeReplyObject(r);
    redisFree(b);
    stop(a);
}

/* ---- the lock recipe ---------------------------------------------------- */

Test(locks, recipe_acquire_extend_release)
{
    SKIP_ON_REDIS();
    redisContext *c = start();
    expect(c, "SET lock tokA NX PX 30000", "+OK");
    expect(c, "SET lock tokB NX PX 30000", "(nil)");        /* taken */
    /* Extend (Redis 8.4 / Valkey 8.1 spelling): only the owner can. */
    expect(c, "SET lock tokB IFEQ tokB PX 60000", "(nil)");
    expect_pttl(c, "lock", 20000, 30000);
    expect(c, "SET lock tokA IFEQ tokA PX 60000", "+OK");
    expect_pttl(c, "lock", 50000, 60000);
    /* Extend, Tair spelling: 1 / 0 / -1. */
    expect(c, "CAS lock tokB tokB PX 90000", ":0");
    expect(c, "CAS lock tokA tokA PX 90000", ":1");
    expect_pttl(c, "lock", 80000, 90000);
    expect(c, "GET lock", "$tokA");
    /* Release: a foreign token cannot. */
    expect(c, "DELIFEQ lock tokB", ":0");
    expect(c, "DELEX lock IFEQ tokB", ":0");
    expect(c, "CAD lock tokB", ":0");
    expect(c, "DELIFEQ lock tokA", ":1");
    expect(c, "CAS lock tokA tokA PX 90000", ":-1");        /* gone */
    expect(c, "SET lock tokA IFEQ tokA PX 60000", "(nil)"); /* and not re-created */
    expect(c, "EXISTS lock", ":0");
    /* Reacquire and release with the other spellings. */
    expect(c, "SET lock tokB NX PX 30000", "+OK");
    expect(c, "DELEX lock IFEQ tokB", ":1");
    expect(c, "SET lock tokC NX PX 30000", "+OK");
    expect(c, "CAD lock tokC", ":1");
    expect(c, "SET lock tokD NX PX 30000", "+OK");
    expect(c, "DELEX lock IFDEQ 3a7b45e5fd8a1e4b", ":0");
    redisReply *r = sc_cmd_or_fail(c, "DIGEST lock");
    cr_assert_eq(r->type, REDIS_REPLY_STRING);
    cr_assert_eq(sc_cmd_ll_or_fail(c, "DELEX lock IFDEQ %s", r->str), 1);
    freeReplyObject(r);
    stop(c);
}

Test(locks, lock_expiry)
{
    SKIP_ON_REDIS();
    redisContext *a = start();
    redisContext *b = sc_connect_or_fail(&srv);
    /* Holder A outlives its PX; B takes the lock; none of A's releases or
     * extends may touch B's lock. */
    expect(a, "SET lock tokA NX PX 100", "+OK");
    expect(b, "SET lock tokB NX PX 100000", "(nil)");
    cr_assert(SC_WAIT_FOR(sc_cmd_ll_or_fail(b, "EXISTS lock") == 0, 5000), "lock with PX 100 still there after 5 s");
    expect(b, "SET lock tokB NX PX 100000", "+OK");
    expect(a, "DELIFEQ lock tokA", ":0");
    expect(a, "DELEX lock IFEQ tokA", ":0");
    expect(a, "DELEX lock IFDEQ 3a7b45e5fd8a1e4b", ":0");
    expect(a, "CAD lock tokA", ":0");
    expect(a, "SET lock tokA IFEQ tokA PX 100000", "(nil)");
    expect(a, "CAS lock tokA tokA PX 100000", ":0");
    expect(b, "GET lock", "$tokB");
    expect_pttl(b, "lock", 90000, 100000);
    expect(b, "DELIFEQ lock tokB", ":1");
    /* Expired and not retaken: releases answer 0 (-1 for CAD/CAS). */
    expect(a, "SET lock tokA NX PX 50", "+OK");
    cr_assert(SC_WAIT_FOR(sc_cmd_ll_or_fail(b, "EXISTS lock") == 0, 5000), "lock with PX 50 still there after 5 s");
    expect(a, "DELIFEQ lock tokA", ":0");
    expect(a, "DELEX lock IFEQ tokA", ":0");
    expect(a, "CAD lock tokA", ":-1");
    expect(a, "CAS lock tokA tokA PX 1000", ":-1");
    expect(a, "SET lock tokA IFEQ tokA PX 1000", "(nil)");
    expect(a, "EXISTS lock", ":0");
    /* An expired lock is also gone for the lookup that notices it first:
     * the release itself (no EXISTS in between). */
    expect(a, "SET lock tokA NX PX 30", "+OK");
    sc_sleep_ms(120);
    expect(a, "DELIFEQ lock tokA", ":0");
    redisFree(b);
    stop(a);
}

/* ---- contention ---------------------------------------------------------- */

#define CLIENTS 8
#define ROUNDS 500

enum release_kind { REL_DELIFEQ, REL_DELEX, REL_CAD };

static enum release_kind release_kind;
static atomic_long acquire_misses;

/* One client: ROUNDS times take the lock, read-modify-write the counter
 * non-atomically (GET, then SET of the value + 1), release. */
static void *lock_client(void *arg)
{
    int id = (int)(intptr_t)arg;
    redisContext *c = sc_thread_connect(&srv, 30000);
    if (!c) return NULL;
    for (int i = 0; i < ROUNDS && sc_thread_failures() == 0; i++) {
        char token[64];
        snprintf(token, sizeof token, "client-%d-round-%d", id, i);
        /* Acquire. */
        for (long spins = 0;; spins++) {
            redisReply *r = redisCommand(c, "SET lock %s NX PX 5000", token);
            if (!r) {
                sc_thread_fail("client %d: SET NX: %s", id, c->errstr);
                goto out;
            }
            bool got = r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0;
            bool busy = r->type == REDIS_REPLY_NIL;
            freeReplyObject(r);
            if (got) break;
            if (!busy) {
                sc_thread_fail("client %d: SET NX: unexpected reply", id);
                goto out;
            }
            atomic_fetch_add_explicit(&acquire_misses, 1, memory_order_relaxed);
            if (sc_thread_failures()) goto out;
            if (spins % 8 == 7) usleep(100);
        }
        /* Critical section. */
        redisReply *r = redisCommand(c, "GET counter");
        if (!r || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL)) {
            sc_thread_fail("client %d: GET counter: %s", id, r ? "bad reply" : c->errstr);
            if (r) freeReplyObject(r);
            goto out;
        }
        long long v = r->type == REDIS_REPLY_STRING ? atoll(r->str) : 0;
        freeReplyObject(r);
        r = redisCommand(c, "SET counter %lld", v + 1);
        if (!r || r->type != REDIS_REPLY_STATUS) {
            sc_thread_fail("client %d: SET counter: %s", id, r ? "bad reply" : c->errstr);
            if (r) freeReplyObject(r);
            goto out;
        }
        freeReplyObject(r);
        /* Release: must succeed, we hold the lock. */
        switch (release_kind) {
        case REL_DELIFEQ: r = redisCommand(c, "DELIFEQ lock %s", token); break;
        case REL_DELEX: r = redisCommand(c, "DELEX lock IFEQ %s", token); break;
        case REL_CAD: r = redisCommand(c, "CAD lock %s", token); break;
        }
        if (!r || r->type != REDIS_REPLY_INTEGER || r->integer != 1) {
            sc_thread_fail("client %d round %d: release returned %s%lld", id, i, r ? "" : c->errstr,
                           r && r->type == REDIS_REPLY_INTEGER ? r->integer : -99);
            if (r) freeReplyObject(r);
            goto out;
        }
        freeReplyObject(r);
    }
out:
    redisFree(c);
    return NULL;
}

static void contention(enum release_kind kind)
{
    SKIP_ON_REDIS();
    release_kind = kind;
    sc_thread_fail_reset();
    atomic_store(&acquire_misses, 0);
    sc_server_start_or_fail(&srv, threaded);
    pthread_t th[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, lock_client, (void *)(intptr_t)i), 0);
    for (int i = 0; i < CLIENTS; i++) pthread_join(th[i], NULL);
    sc_no_thread_failures_or_fail();
    redisContext *c = sc_connect_or_fail(&srv);
    char want[32];
    snprintf(want, sizeof want, "$%d", CLIENTS * ROUNDS);
    expect(c, "GET counter", want);
    expect(c, "EXISTS lock", ":0");
    cr_log_info("contention: %ld failed acquire attempts", (long)atomic_load(&acquire_misses));
    stop(c);
}

Test(locks, contention_delifeq) { contention(REL_DELIFEQ); }
Test(locks, contention_delex_ifeq) { contention(REL_DELEX); }
Test(locks, contention_cad) { contention(REL_CAD); }
