/*
 * test_active_expire.c - the active expire cycle at scale: keys with a TTL
 * vanish without ever being read (DBSIZE drops to the keys without one,
 * INFO expired_keys counts them), the share of expired-but-present keys
 * stays low (DBSIZE against the logically live count), and a million keys
 * expiring in the same millisecond do not stall the server (the longest gap
 * between PING replies across the expiry moment stays bounded), nor do
 * 300,000 sharing one hash slot (a hash tag: one table to sweep).
 *
 * Keys with a TTL are never read (DBSIZE and INFO do not expire keys
 * lazily), so only the active cycle can remove them. Under sanitizers
 * (SLOTCACHE_TIMEOUT_SCALE > 1) the big tests use 300,000 and 100,000 keys
 * and every bound is scaled.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server_proc.h"

#define BATCH 1000
#define PROBES 4

static sc_server srv;

TestSuite(active_expire, .fini = sc_server_cleanup, .timeout = 240);

/* Wall-clock unix time in ms (sc_now_ms is monotonic). */
static long long unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool sanitizer_run(void) { return sc_scaled_ms(1000) > 1000; }

/* Pipelined, in batches of BATCH, for i in [from, to):
 *   ttl_ms > 0: SET prefix:i v PX ttl_ms
 *   ttl_ms == 0: SET prefix:i v
 *   ttl_ms < 0: SET prefix:i v EX 3600 */
static void set_many(redisContext *c, const char *prefix, int from, int to, int ttl_ms)
{
    for (int i = from; i < to; i += BATCH) {
        int end = i + BATCH < to ? i + BATCH : to;
        for (int j = i; j < end; j++) {
            if (ttl_ms > 0) redisAppendCommand(c, "SET %s:%d v PX %d", prefix, j, ttl_ms);
            else if (ttl_ms == 0) redisAppendCommand(c, "SET %s:%d v", prefix, j);
            else redisAppendCommand(c, "SET %s:%d v EX 3600", prefix, j);
        }
        for (int j = i; j < end; j++) {
            redisReply *r = NULL;
            cr_assert(redisGetReply(c, (void **)&r) == REDIS_OK, "pipeline broke: %s", c->errstr);
            cr_assert(r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0, "SET %s:%d: %s", prefix, j,
                      r->str ? r->str : "?");
            freeReplyObject(r);
        }
    }
}

static long long expired_keys(redisContext *c)
{
    long long v = sc_info_ll_or_fail(c, "stats", "expired_keys");
    cr_assert(v >= 0, "INFO stats has no expired_keys");
    return v;
}

static bool dbsize_is(redisContext *c, long long want) { return sc_cmd_ll_or_fail(c, "DBSIZE") == want; }

/* ---- (a) keys vanish without being read ---------------------------------- */

Test(active_expire, ttl_keys_vanish_unread)
{
    sc_server_start_or_fail(&srv, NULL);
    redisContext *c = sc_connect_or_fail(&srv);
    long long before = expired_keys(c);
    /* Interleaved so both kinds share every slot. */
    for (int i = 0; i < 20000; i += 2000) {
        set_many(c, "short", i, i + 2000, 200);
        set_many(c, "keep", i, i + 2000, 0);
    }
    long long t0 = sc_now_ms();
    cr_assert(SC_WAIT_FOR(dbsize_is(c, 20000), 10000), "DBSIZE still %lld 10 s after 20,000 keys with PX 200",
              sc_cmd_ll_or_fail(c, "DBSIZE"));
    cr_log_info("20,000 keys with PX 200 gone %lld ms after the last SET", sc_now_ms() - t0);
    long long expired = expired_keys(c) - before;
    cr_assert(expired >= 20000, "expired_keys grew by %lld, want >= 20000", expired);
    cr_assert_eq(sc_exists_range_or_fail(c, "keep", 0, 20000, BATCH, NULL), 20000, "a key without TTL disappeared");
    cr_assert_eq(sc_exists_range_or_fail(c, "short", 0, 20000, BATCH, NULL), 0);
    redisReply *r = sc_cmd_or_fail(c, "INFO keyspace");
    cr_assert(strstr(r->str, "db0:keys=20000,expires=0,") != NULL, "INFO keyspace: %s", r->str);
    freeReplyObject(r);
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

/* ---- (b) the stale share stays low ---------------------------------------- */

#define STALE_SHORT 100000
#define STALE_KEEP 100000
#define STALE_LONG 50000

Test(active_expire, stale_fraction_stays_low)
{
    sc_server_start_or_fail(&srv, NULL);
    redisContext *c = sc_connect_or_fail(&srv);
    /* Keys that will expire, keys without a TTL and keys with a long TTL
     * (which the cycle samples too, diluting what it finds expired). */
    for (int i = 0; i < STALE_SHORT; i += 10000) {
        set_many(c, "short", i, i + 10000, 300);
        set_many(c, "keep", i, i + 10000, 0);
        set_many(c, "long", i / 2, i / 2 + 5000, -1);
    }
    long long loaded = sc_now_ms();
    const long long live = STALE_KEEP + STALE_LONG;
    /* Every short key's deadline has passed 300 ms after the last SET; two
     * seconds later at most 10% of the keys may be expired leftovers. */
    sc_sleep_ms(300 + sc_scaled_ms(2000));
    long long dbsize = sc_cmd_ll_or_fail(c, "DBSIZE");
    double stale = dbsize > 0 ? (double)(dbsize - live) / (double)dbsize : 0;
    cr_log_info("stale: DBSIZE %lld, live %lld: %.2f%% stale %lld ms after the load", dbsize, live, 100 * stale,
                sc_now_ms() - loaded);
    cr_assert(dbsize >= live, "DBSIZE %lld < %lld live keys", dbsize, live);
    cr_assert(stale < 0.10, "%.1f%% of DBSIZE %lld are expired keys 2 s after their deadline", 100 * stale, dbsize);
    /* Nothing live went. */
    cr_assert_eq(sc_exists_range_or_fail(c, "keep", 0, STALE_KEEP, BATCH, NULL), STALE_KEEP);
    cr_assert_eq(sc_exists_range_or_fail(c, "long", 0, STALE_LONG, BATCH, NULL), STALE_LONG);
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

/* ---- (c) a million keys expiring at once do not stall the server ---------- */

/* n keys named prefix:i expire in the same millisecond while a client
 * PINGs; returns after asserting the longest reply gap. */
static void mass_expiry(int n, const char *prefix)
{
    const int max_gap_ms = sc_scaled_ms(250);
    sc_server_start_or_fail(&srv, NULL);
    redisContext *c = sc_connect_or_fail(&srv);
    long long t0 = sc_now_ms();
    set_many(c, prefix, 0, n, 0);
    long long load_ms = sc_now_ms() - t0;
    /* The same deadline for every key, far enough ahead that the
     * PEXPIREAT pass (about as long as the SET pass) ends before it. */
    long long ahead = load_ms * 3 / 2 + 1000;
    long long deadline = sc_now_ms() + ahead, deadline_unix = unix_ms() + ahead;
    for (int i = 0; i < n; i += BATCH) {
        int end = i + BATCH < n ? i + BATCH : n;
        for (int j = i; j < end; j++) redisAppendCommand(c, "PEXPIREAT %s:%d %lld", prefix, j, deadline_unix);
        for (int j = i; j < end; j++) {
            redisReply *r = NULL;
            cr_assert(redisGetReply(c, (void **)&r) == REDIS_OK, "pipeline broke: %s", c->errstr);
            cr_assert(r->type == REDIS_REPLY_INTEGER && r->integer == 1, "PEXPIREAT %s:%d", prefix, j);
            freeReplyObject(r);
        }
    }
    long long armed = sc_now_ms();
    cr_assert(armed < deadline, "PEXPIREAT pass ended %lld ms after the deadline", armed - deadline);
    cr_assert_eq(sc_cmd_ll_or_fail(c, "DBSIZE"), n);

    /* Probe from a second before the deadline (or now) to 2 s after: PING
     * on PROBES connections (so every worker thread serves one) and, on the
     * first, EXISTS of a key next to the expiring ones (same hash slot when
     * they share a hash tag). A reply that takes longer than the probe
     * timeout fails the test as a stall. */
    if (deadline - 1000 > sc_now_ms()) sc_sleep_ms((int)(deadline - 1000 - sc_now_ms()));
    const int stall_ms = sc_scaled_ms(5000);
    struct timeval ptv = { stall_ms / 1000, (stall_ms % 1000) * 1000 };
    redisContext *probe[PROBES];
    for (int i = 0; i < PROBES; i++) {
        probe[i] = sc_connect_or_fail(&srv);
        redisSetTimeout(probe[i], ptv);
    }
    long long start = sc_now_ms(), last = start, worst = 0, worst_at = 0, replies = 0;
    long long zero_at = -1;
    while (last < deadline + 2000) {
        for (int i = 0; i <= PROBES; i++) {
            redisContext *pc = probe[i < PROBES ? i : 0];
            redisReply *r = i < PROBES ? redisCommand(pc, "PING") : redisCommand(pc, "EXISTS %s:probe", prefix);
            cr_assert(r != NULL, "%s: no reply within %d ms (%lld ms after the deadline): the server stalls",
                      i < PROBES ? "PING" : "EXISTS", stall_ms, sc_now_ms() - deadline);
            cr_assert(r->type == (i < PROBES ? REDIS_REPLY_STATUS : REDIS_REPLY_INTEGER));
            freeReplyObject(r);
            long long now = sc_now_ms();
            if (now - last > worst) {
                worst = now - last;
                worst_at = now - deadline;
            }
            last = now;
            replies++;
        }
        if (zero_at < 0 && replies % 500 == 0 && last > deadline && sc_cmd_ll_or_fail(c, "DBSIZE") == 0)
            zero_at = sc_now_ms();
    }
    for (int i = 0; i < PROBES; i++) redisFree(probe[i]);
    cr_assert(SC_WAIT_FOR(dbsize_is(c, 0), 30000), "DBSIZE still %lld 30 s after %d keys expired",
              sc_cmd_ll_or_fail(c, "DBSIZE"), n);
    if (zero_at < 0) zero_at = sc_now_ms();
    cr_log_info("%d keys %s:* expiring at once: loaded in %lld ms; %lld probe replies over %lld ms, max reply gap %lld ms "
                "(at deadline %+lld ms); DBSIZE 0 after %lld ms",
                n, prefix, load_ms, replies, last - start, worst, worst_at, zero_at - deadline);
    cr_assert(expired_keys(c) >= n, "expired_keys %lld < %d", expired_keys(c), n);
    cr_assert(worst < max_gap_ms, "probe reply gap of %lld ms (at deadline %+lld ms), bound %d ms", worst, worst_at,
              max_gap_ms);
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

Test(active_expire, mass_expiry_does_not_stall)
{
    mass_expiry(sanitizer_run() ? 300000 : 1000000, "k");
}

/* All keys in one hash slot (a hash tag): one table to sweep. */
Test(active_expire, mass_expiry_in_one_hash_slot_does_not_stall)
{
    mass_expiry(sanitizer_run() ? 100000 : 300000, "{tag}k");
}
