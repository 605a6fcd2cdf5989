/*
 * test_expiry.c - key expiry: lazy (a read after the deadline misses), active
 * (keys vanish from DBSIZE without ever being read), INFO's expired_keys, and
 * that keys without a TTL or with a long one survive the active cycle.
 * Every wait is a bounded poll.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server_proc.h"

static sc_server srv;

TestSuite(expiry, .fini = sc_server_cleanup, .timeout = 120);

static bool key_gone(redisContext *c, const char *key)
{
    redisReply *r = sc_cmd_or_fail(c, "GET %s", key);
    bool gone = r->type == REDIS_REPLY_NIL;
    freeReplyObject(r);
    return gone;
}

/* Pipelined SET key:i v PX ms (or no TTL when ms == 0) for i in [from, to). */
static void set_many(redisContext *c, const char *prefix, int from, int to, int ms)
{
    for (int i = from; i < to; i++) {
        if (ms) redisAppendCommand(c, "SET %s:%d v PX %d", prefix, i, ms);
        else redisAppendCommand(c, "SET %s:%d v", prefix, i);
    }
    for (int i = from; i < to; i++) {
        redisReply *r = NULL;
        cr_assert(redisGetReply(c, (void **)&r) == REDIS_OK, "pipeline broke: %s", c->errstr);
        cr_assert(r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0);
        freeReplyObject(r);
    }
}

Test(expiry, set_px_key_disappears)
{
    sc_server_start_or_fail(&srv, NULL);
    redisContext *c = sc_connect_or_fail(&srv);
    long long t0 = sc_now_ms();
    sc_cmd_expect_or_fail(c, "OK", "SET k v PX 100");
    long long pttl = sc_cmd_ll_or_fail(c, "PTTL k");
    if (sc_now_ms() - t0 < 90)   /* skip when a slow (sanitizer) build took too long */
        cr_assert(pttl > 0 && pttl <= 100, "PTTL %lld not in (0, 100]", pttl);
    cr_assert(SC_WAIT_FOR(key_gone(c, "k"), 2000), "key with PX 100 still there after 2 s");
    cr_assert_eq(sc_cmd_ll_or_fail(c, "EXISTS k"), 0);
    cr_assert_eq(sc_cmd_ll_or_fail(c, "PTTL k"), -2);

    /* A deadline in the past deletes at once. */
    sc_cmd_expect_or_fail(c, "OK", "SET p v");
    cr_assert_eq(sc_cmd_ll_or_fail(c, "PEXPIREAT p 1"), 1);
    cr_assert_eq(sc_cmd_ll_or_fail(c, "EXISTS p"), 0);

    /* SET without options clears the TTL; PERSIST too. */
    sc_cmd_expect_or_fail(c, "OK", "SET a v PX 100000");
    sc_cmd_expect_or_fail(c, "OK", "SET a w");
    cr_assert_eq(sc_cmd_ll_or_fail(c, "PTTL a"), -1);
    sc_cmd_expect_or_fail(c, "OK", "SET b v PX 100000");
    cr_assert_eq(sc_cmd_ll_or_fail(c, "PERSIST b"), 1);
    cr_assert_eq(sc_cmd_ll_or_fail(c, "PTTL b"), -1);
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

static bool dbsize_is(redisContext *c, long long want)
{
    return sc_cmd_ll_or_fail(c, "DBSIZE") == want;
}

Test(expiry, active_expiry_without_reads)
{
    sc_server_start_or_fail(&srv, NULL);
    redisContext *c = sc_connect_or_fail(&srv);
    long long before = sc_info_ll_or_fail(c, "stats", "expired_keys");
    cr_assert(before >= 0, "INFO stats has no expired_keys");

    long long t0 = sc_now_ms();
    set_many(c, "short", 0, 1000, 100);
    long long n = sc_cmd_ll_or_fail(c, "DBSIZE");
    cr_assert(n >= 0 && n <= 1000, "DBSIZE %lld right after the SETs", n);
    if (sc_now_ms() - t0 < 90) cr_assert(n > 0, "keys gone before their TTL");
    /* No key is read: only the active cycle can remove them. */
    cr_assert(SC_WAIT_FOR(dbsize_is(c, 0), 5000), "DBSIZE still %lld after 5 s", sc_cmd_ll_or_fail(c, "DBSIZE"));
    long long after = sc_info_ll_or_fail(c, "stats", "expired_keys");
    cr_assert(after - before >= 1000, "expired_keys grew by %lld, want >= 1000", after - before);
    cr_assert_eq(sc_info_ll_or_fail(c, "keyspace", "db0"), -1, "INFO keyspace still lists db0");
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

Test(expiry, active_expiry_spares_other_keys)
{
    sc_server_start_or_fail(&srv, NULL);
    redisContext *c = sc_connect_or_fail(&srv);
    set_many(c, "short", 0, 2000, 100);
    set_many(c, "long", 0, 300, 100000);
    set_many(c, "forever", 0, 200, 0);
    sc_cmd_expect_or_fail(c, "OK", "SELECT 3");
    set_many(c, "db3short", 0, 500, 100);
    set_many(c, "db3keep", 0, 50, 0);
    cr_assert(SC_WAIT_FOR(dbsize_is(c, 50), 5000), "db3 DBSIZE still %lld after 5 s", sc_cmd_ll_or_fail(c, "DBSIZE"));
    sc_cmd_expect_or_fail(c, "OK", "SELECT 0");
    cr_assert(SC_WAIT_FOR(dbsize_is(c, 500), 5000), "db0 DBSIZE still %lld after 5 s", sc_cmd_ll_or_fail(c, "DBSIZE"));
    cr_assert_eq(sc_cmd_ll_or_fail(c, "EXISTS long:0 long:299 forever:0 forever:199"), 4);
    long long ttl = sc_cmd_ll_or_fail(c, "PTTL long:7");
    cr_assert(ttl > 90000 && ttl <= 100000, "PTTL long:7 is %lld", ttl);
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

Test(expiry, lazy_expiry_counts_and_misses)
{
    sc_server_start_or_fail(&srv, NULL);
    redisContext *c = sc_connect_or_fail(&srv);
    long long misses0 = sc_info_ll_or_fail(c, "stats", "keyspace_misses");
    sc_cmd_expect_or_fail(c, "OK", "SET k v PX 300");
    sc_cmd_expect_or_fail(c, "v", "GET k");
    cr_assert(SC_WAIT_FOR(key_gone(c, "k"), 2000));
    long long misses1 = sc_info_ll_or_fail(c, "stats", "keyspace_misses");
    cr_assert(misses1 > misses0, "a GET of an expired key is not a miss (%lld -> %lld)", misses0, misses1);
    cr_assert(SC_WAIT_FOR(sc_info_ll_or_fail(c, "stats", "expired_keys") >= 1, 2000));
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}
