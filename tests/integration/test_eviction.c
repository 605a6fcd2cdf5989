/*
 * test_eviction.c - maxmemory and its policies: noeviction refuses writes
 * with Redis's exact OOM error (and refuses a multi-key write whole), the
 * volatile-* policies never touch keys without a TTL, volatile-ttl takes the
 * nearest expiry first, allkeys-lru keeps recently read keys, allkeys-lfu
 * frequently read ones, allkeys-random keeps memory under the limit, lowering
 * maxmemory at run time evicts down to it, 50 concurrent writers on four
 * threads stay within a stated slack, every eviction is counted
 * (evicted_keys) and announced ("evicted" keyspace events), and a lone
 * volatile key is found even in a hash slot crowded with persistent keys.
 *
 * Limits are always set relative to the server's own INFO used_memory, so
 * the same tests hold for slotcache and the reference redis-server whatever
 * their per-key overhead. The LRU clock has a one-second resolution, so the
 * LRU test makes keys differ in idle time by two seconds. Client threads
 * never call Criterion assertions; every test ends with sc_server_stop_or_fail.
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

#define OOM_ERR "OOM command not allowed when used memory > 'maxmemory'."
#define VAL_SIZE 1000
#define BATCH 50
/* INFO's used_memory includes buffers of the INFO call itself (slotcache
 * reserves 4 KB for the reply before it reads the counter): allowance when
 * a reading is compared with the limit. */
#define INFO_SLACK 8192

static sc_server srv;

TestSuite(eviction, .fini = sc_server_cleanup, .timeout = 240);

static char value[VAL_SIZE + 1];

static void init_value(void)
{
    memset(value, 'v', VAL_SIZE);
    value[VAL_SIZE] = '\0';
}

/* ---- helpers ------------------------------------------------------------ */

static long long used_memory(redisContext *c)
{
    long long v = sc_info_ll_or_fail(c, "memory", "used_memory");
    cr_assert(v > 0, "INFO memory has no used_memory");
    return v;
}

static long long evicted_keys(redisContext *c)
{
    long long v = sc_info_ll_or_fail(c, "stats", "evicted_keys");
    cr_assert(v >= 0, "INFO stats has no evicted_keys");
    return v;
}

static void set_maxmemory(redisContext *c, long long bytes)
{
    sc_cmd_expect_or_fail(c, "OK", "CONFIG SET maxmemory %lld", bytes);
    long long got = sc_info_ll_or_fail(c, "memory", "maxmemory");
    cr_assert_eq(got, bytes, "INFO maxmemory %lld after CONFIG SET maxmemory %lld", got, bytes);
}

/* Outcome of a run of SETs. */
typedef struct {
    int ok;
    int oom;
    int first_oom;    /* index of the first refused SET, -1 if none */
} set_result;

/* SET prefix:i <VAL_SIZE bytes> [EX ex] for i in [from, to), pipelined in
 * batches of BATCH. Every reply must be OK or the exact OOM error. With
 * stop_at_oom the SETs go one at a time and the run stops at the first
 * refusal. */
static set_result set_range(redisContext *c, const char *prefix, int from, int to, int ex, bool stop_at_oom)
{
    set_result res = { 0, 0, -1 };
    /* Near the limit, one command at a time: Redis counts a pipelined
     * client's query buffer in used_memory. */
    int batch = stop_at_oom ? 1 : BATCH;
    for (int i = from; i < to; i += batch) {
        int end = i + batch < to ? i + batch : to;
        for (int j = i; j < end; j++) {
            if (ex) redisAppendCommand(c, "SET %s:%d %b EX %d", prefix, j, value, (size_t)VAL_SIZE, ex);
            else redisAppendCommand(c, "SET %s:%d %b", prefix, j, value, (size_t)VAL_SIZE);
        }
        for (int j = i; j < end; j++) {
            redisReply *r = NULL;
            cr_assert(redisGetReply(c, (void **)&r) == REDIS_OK, "pipeline broke: %s", c->errstr);
            if (r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0) {
                res.ok++;
            } else {
                cr_assert(r->type == REDIS_REPLY_ERROR, "SET %s:%d: unexpected reply type %d", prefix, j, r->type);
                cr_assert_str_eq(r->str, OOM_ERR, "SET %s:%d: unexpected error", prefix, j);
                if (res.first_oom < 0) res.first_oom = j;
                res.oom++;
            }
            freeReplyObject(r);
        }
        if (stop_at_oom && res.oom) break;
    }
    return res;
}

/* exists[i - from] = EXISTS prefix:i for i in [from, to), BATCH at a time
 * (EXISTS does not touch the LRU/LFU data). Returns how many exist; exists
 * may be NULL. */
static int exist_range(redisContext *c, const char *prefix, int from, int to, bool *exists)
{
    return sc_exists_range_or_fail(c, prefix, from, to, BATCH, exists);
}

/* Keys with a TTL in db0 (INFO keyspace "db0:keys=N,expires=M,..."). */
static long long db0_expires(redisContext *c)
{
    redisReply *r = sc_cmd_or_fail(c, "INFO keyspace");
    cr_assert_eq(r->type, REDIS_REPLY_STRING);
    long long v = 0;
    const char *p = strstr(r->str, "db0:");
    if (p) {
        const char *e = strstr(p, "expires=");
        cr_assert(e != NULL, "INFO keyspace db0 line without expires=");
        v = strtoll(e + 8, NULL, 10);
    }
    freeReplyObject(r);
    return v;
}

/* GET key must return the VAL_SIZE-byte value (sc_cmd_expect_or_fail
 * compares at most 511 bytes). */
static void expect_value(redisContext *c, const char *key)
{
    redisReply *r = sc_cmd_or_fail(c, "GET %s", key);
    cr_assert_eq(r->type, REDIS_REPLY_STRING, "GET %s: reply type %d", key, r->type);
    cr_assert(r->len == VAL_SIZE && memcmp(r->str, value, VAL_SIZE) == 0, "GET %s: wrong value (%zu bytes)", key,
              r->len);
    freeReplyObject(r);
}

/* Keys written minus keys present must equal evicted_keys when nothing
 * expired or was deleted. Redis evicts before any command while over the
 * limit (and the previous write may have left it a key above), DBSIZE is
 * read on both sides of INFO until it did not change. */
static void expect_evicted_total(redisContext *c, long long written)
{
    long long keys = -1, ev = -1;
    for (int tries = 0; tries < 5; tries++) {
        keys = sc_cmd_ll_or_fail(c, "DBSIZE");
        ev = evicted_keys(c);
        if (keys == sc_cmd_ll_or_fail(c, "DBSIZE")) break;
    }
    cr_assert_eq(written - keys, ev, "%lld keys written, %lld present, but evicted_keys is %lld", written, keys, ev);
}

static void start_with_policy(const char *policy)
{
    init_value();
    sc_server_start_or_fail(&srv, (const char *[]){ "--maxmemory-policy", policy, NULL });
}

/* ---- (a) noeviction ---------------------------------------------------- */

Test(eviction, noeviction_refuses_writes_keeps_reads)
{
    start_with_policy("noeviction");
    redisContext *c = sc_connect_or_fail(&srv);
    set_result r = set_range(c, "base", 0, 500, 0, false);
    cr_assert_eq(r.ok, 500);

    long long limit = used_memory(c) + 64 * 1024;
    set_maxmemory(c, limit);
    /* 1 KB writes: refused once used memory passes the limit, some 64 writes
     * later (allow for per-key overhead and allocator rounding). */
    r = set_range(c, "fill", 0, 2000, 0, true);
    cr_assert(r.oom > 0, "no SET refused after %d 1 KB writes over a limit 64 KB above usage", r.ok);
    cr_assert(r.first_oom >= 10 && r.first_oom <= 200, "first OOM after %d writes (limit 64 KB above usage)",
              r.first_oom);
    cr_assert(used_memory(c) > limit, "OOM although used_memory %lld <= maxmemory %lld", used_memory(c), limit);

    /* Every further write of a new key is refused with the exact error. */
    for (int i = 0; i < 5; i++) sc_cmd_expect_or_fail(c, OOM_ERR, "SET new:%d %s", i, value);
    sc_cmd_expect_or_fail(c, OOM_ERR, "SET new:x y");
    cr_assert_eq(sc_cmd_ll_or_fail(c, "EXISTS new:0 new:1 new:2 new:3 new:4 new:x"), 0, "a refused SET wrote its key");

    /* MSET fails whole: neither new keys nor overwrites of existing ones. */
    sc_cmd_expect_or_fail(c, OOM_ERR, "MSET m1 a m2 b m3 c");
    cr_assert_eq(sc_cmd_ll_or_fail(c, "EXISTS m1 m2 m3"), 0, "a refused MSET wrote some of its keys");
    sc_cmd_expect_or_fail(c, OOM_ERR, "MSET base:1 a base:2 b m4 c");
    expect_value(c, "base:1");
    expect_value(c, "base:2");
    cr_assert_eq(sc_cmd_ll_or_fail(c, "EXISTS m4"), 0);
    /* Other denyoom writes too. */
    sc_cmd_expect_or_fail(c, OOM_ERR, "APPEND base:3 more");
    sc_cmd_expect_or_fail(c, OOM_ERR, "LPUSH list a b c");
    cr_assert_eq(sc_cmd_ll_or_fail(c, "EXISTS list"), 0);

    /* Reads and deletes keep working. */
    for (int i = 0; i < 500; i += 37) {
        char key[32];
        snprintf(key, sizeof key, "base:%d", i);
        expect_value(c, key);
    }
    redisReply *m = sc_cmd_or_fail(c, "MGET base:0 fill:0 nokey");
    cr_assert(m->type == REDIS_REPLY_ARRAY && m->elements == 3);
    cr_assert_eq(m->element[0]->type, REDIS_REPLY_STRING);
    cr_assert_eq(m->element[1]->type, REDIS_REPLY_STRING);
    cr_assert_eq(m->element[2]->type, REDIS_REPLY_NIL);
    freeReplyObject(m);
    long long keys = sc_cmd_ll_or_fail(c, "DBSIZE");
    cr_assert_eq(keys, 500 + r.ok, "DBSIZE %lld, want %d", keys, 500 + r.ok);
    cr_assert_eq(evicted_keys(c), 0, "noeviction evicted keys");

    /* Deleting 300 KB brings usage under the limit: writes succeed again. */
    for (int i = 0; i < 300; i++) cr_assert_eq(sc_cmd_ll_or_fail(c, "DEL base:%d", i), 1, "DEL base:%d", i);
    cr_assert(used_memory(c) <= limit, "used_memory %lld still over %lld after deleting 300 KB", used_memory(c),
              limit);
    sc_cmd_expect_or_fail(c, "OK", "SET new:0 %s", value);
    sc_cmd_expect_or_fail(c, "OK", "MSET m1 a m2 b m3 c");
    cr_assert_eq(sc_cmd_ll_or_fail(c, "EXISTS m1 m2 m3 new:0"), 4);
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

/* ---- (b) volatile-* never evict keys without a TTL ---------------------- */

#define VOL_KEYS 1000

static void volatile_spares_persistent_keys(const char *policy)
{
    start_with_policy(policy);
    redisContext *c = sc_connect_or_fail(&srv);
    /* Half the keys with a TTL, half without, interleaved. */
    for (int i = 0; i < VOL_KEYS; i += 100) {
        cr_assert_eq(set_range(c, "vol", i, i + 100, 3600, false).ok, 100);
        cr_assert_eq(set_range(c, "per", i, i + 100, 0, false).ok, 100);
    }
    set_maxmemory(c, used_memory(c) + 128 * 1024);

    /* More keys with a TTL, past the limit: every write succeeds (there is
     * always a volatile key to evict) and only volatile keys go. */
    set_result r = set_range(c, "new", 0, 1500, 3600, false);
    cr_assert_eq(r.oom, 0, "%s: SET of a volatile key refused (index %d) while volatile keys exist", policy,
                 r.first_oom);
    cr_assert_eq(exist_range(c, "per", 0, VOL_KEYS, NULL), VOL_KEYS, "%s: a key without TTL was evicted", policy);
    long long vol_left = exist_range(c, "vol", 0, VOL_KEYS, NULL) + exist_range(c, "new", 0, 1500, NULL);
    /* The limit left room for about 128 more 1 KB keys. */
    cr_assert(vol_left <= VOL_KEYS + 200, "%s: %lld volatile keys left after writing 1.5 MB past the limit",
              policy, vol_left);
    expect_evicted_total(c, 2 * VOL_KEYS + 1500);

    /* Keys without a TTL: they push out the remaining volatile keys, then
     * writes are refused; the refusal comes only once none is left. */
    r = set_range(c, "more", 0, 6000, 0, true);
    cr_assert(r.oom > 0, "%s: %d writes of keys without TTL never refused", policy, r.ok);
    cr_assert(r.ok >= vol_left / 2, "%s: refused after %d writes with %lld volatile keys to evict", policy, r.ok,
              vol_left);
    long long expires = db0_expires(c);
    cr_assert_eq(expires, 0, "%s: OOM while %lld keys with a TTL remain", policy, expires);
    cr_assert_eq(exist_range(c, "vol", 0, VOL_KEYS, NULL) + exist_range(c, "new", 0, 1500, NULL), 0);
    cr_assert_eq(exist_range(c, "per", 0, VOL_KEYS, NULL), VOL_KEYS, "%s: a key without TTL was evicted", policy);
    cr_assert_eq(exist_range(c, "more", 0, r.ok, NULL), r.ok, "%s: a key without TTL was evicted", policy);
    expect_evicted_total(c, 2 * VOL_KEYS + 1500 + r.ok);

    /* From now on writes are refused (SET, SET EX, MSET: five in a row,
     * allowing some accepted first as Redis's client buffers shrink). */
    int refused_in_row = 0, extra_ok = 0;
    for (int i = 0; i < 100 && refused_in_row < 5; i++) {
        redisReply *x = i % 3 == 0   ? sc_cmd_or_fail(c, "SET last:%d %b", i, value, (size_t)VAL_SIZE)
                        : i % 3 == 1 ? sc_cmd_or_fail(c, "SET last:%d %b EX 100", i, value, (size_t)VAL_SIZE)
                                     : sc_cmd_or_fail(c, "MSET last:%d %b last:%d:b x", i, value, (size_t)VAL_SIZE, i);
        if (x->type == REDIS_REPLY_ERROR) {
            cr_assert_str_eq(x->str, OOM_ERR);
            refused_in_row++;
        } else {
            extra_ok++;
            refused_in_row = 0;
        }
        freeReplyObject(x);
    }
    cr_assert_eq(refused_in_row, 5, "%s: writes still accepted with no volatile key left", policy);
    cr_assert_eq(exist_range(c, "per", 0, VOL_KEYS, NULL), VOL_KEYS, "%s: a key without TTL was evicted", policy);
    cr_log_info("%s: %d writes refused once no volatile key was left (%d accepted in between)", policy, 5,
                extra_ok);
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

Test(eviction, volatile_lru_spares_persistent_keys) { volatile_spares_persistent_keys("volatile-lru"); }
Test(eviction, volatile_lfu_spares_persistent_keys) { volatile_spares_persistent_keys("volatile-lfu"); }
Test(eviction, volatile_random_spares_persistent_keys) { volatile_spares_persistent_keys("volatile-random"); }
Test(eviction, volatile_ttl_spares_persistent_keys) { volatile_spares_persistent_keys("volatile-ttl"); }

/* ---- (c) volatile-ttl: nearest expiry first ------------------------------ */

#define TTL_KEYS 1000

Test(eviction, volatile_ttl_evicts_nearest_expiry_first)
{
    start_with_policy("volatile-ttl");
    redisContext *c = sc_connect_or_fail(&srv);
    /* ttl:i expires in 10000 + 10 i seconds; written in shuffled order so
     * the TTL does not follow insertion order. */
    for (int k = 0; k < TTL_KEYS; k++) {
        int i = (int)((k * 7919L) % TTL_KEYS);
        redisAppendCommand(c, "SET ttl:%d %b EX %d", i, value, (size_t)VAL_SIZE, 10000 + 10 * i);
        if (k % BATCH == BATCH - 1 || k == TTL_KEYS - 1) {
            for (int j = k - k % BATCH; j <= k; j++) {
                redisReply *r = NULL;
                cr_assert(redisGetReply(c, (void **)&r) == REDIS_OK, "pipeline broke: %s", c->errstr);
                cr_assert(r->type == REDIS_REPLY_STATUS, "SET ttl:...: %s", r->str ? r->str : "?");
                freeReplyObject(r);
            }
        }
    }
    set_maxmemory(c, used_memory(c) + 64 * 1024);
    set_result r = set_range(c, "fill", 0, 400, 0, false);
    cr_assert_eq(r.oom, 0, "a write refused while volatile keys remain");

    bool exists[TTL_KEYS];
    int left = exist_range(c, "ttl", 0, TTL_KEYS, exists);
    int evicted = TTL_KEYS - left;
    cr_assert(evicted >= 250 && evicted <= 450, "%d of %d volatile keys evicted after 400 1 KB writes", evicted,
              TTL_KEYS);
    /* Sampled like Redis, so approximately: most of the shortest-lived
     * half of what went is gone (Redis: ~85%), the longest-lived 40% is all
     * there, and 90% of what went is among the 1.5 x evicted shortest. */
    int short_gone = 0, long_kept = 0, gone_low = 0;
    for (int i = 0; i < evicted / 2; i++) short_gone += !exists[i];
    for (int i = TTL_KEYS * 6 / 10; i < TTL_KEYS; i++) long_kept += exists[i];
    for (int i = 0; i < TTL_KEYS; i++)
        if (!exists[i] && i < evicted * 3 / 2) gone_low++;
    cr_log_info("volatile-ttl: %d evicted; %d/%d of the shortest gone; %d/%d of the longest kept; %d of the "
                "evicted among the %d shortest",
                evicted, short_gone, evicted / 2, long_kept, TTL_KEYS * 4 / 10, gone_low, evicted * 3 / 2);
    cr_assert(short_gone >= evicted / 2 * 3 / 4, "only %d of the %d shortest TTLs evicted", short_gone,
              evicted / 2);
    cr_assert_eq(long_kept, TTL_KEYS * 4 / 10, "%d of the %d longest TTLs evicted", TTL_KEYS * 4 / 10 - long_kept,
                 TTL_KEYS * 4 / 10);
    cr_assert(gone_low >= evicted * 9 / 10, "only %d of %d evicted keys among the %d shortest TTLs", gone_low,
              evicted, evicted * 3 / 2);
    cr_assert_eq(exist_range(c, "fill", 0, 400, NULL), 400, "a key without TTL was evicted");
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

/* ---- (d) allkeys-lru keeps recently read keys --------------------------- */

#define LRU_KEYS 2000
#define HOT_EVERY 10   /* key:i is hot when i % HOT_EVERY == 0 */

Test(eviction, allkeys_lru_keeps_recently_read_keys)
{
    start_with_policy("allkeys-lru");
    redisContext *c = sc_connect_or_fail(&srv);
    cr_assert_eq(set_range(c, "key", 0, LRU_KEYS, 0, false).ok, LRU_KEYS);
    /* Two LRU clock ticks (1 s resolution) between the fill and the reads. */
    sc_sleep_ms(2200);
    for (int i = 0; i < LRU_KEYS; i += HOT_EVERY) redisAppendCommand(c, "GET key:%d", i);
    for (int i = 0; i < LRU_KEYS; i += HOT_EVERY) {
        redisReply *r = NULL;
        cr_assert(redisGetReply(c, (void **)&r) == REDIS_OK, "pipeline broke: %s", c->errstr);
        cr_assert_eq(r->type, REDIS_REPLY_STRING);
        freeReplyObject(r);
    }
    /* New keys past a limit set now (Redis evicts before any command while
     * over the limit, reads included): about 1,300 keys must go. */
    set_maxmemory(c, used_memory(c) + 128 * 1024);
    set_result r = set_range(c, "new", 0, 1400, 0, false);
    cr_assert_eq(r.oom, 0, "allkeys-lru refused a write (index %d)", r.first_oom);

    bool exists[LRU_KEYS];
    exist_range(c, "key", 0, LRU_KEYS, exists);
    int hot = 0, hot_kept = 0, cold = 0, cold_kept = 0;
    for (int i = 0; i < LRU_KEYS; i++) {
        if (i % HOT_EVERY == 0) hot++, hot_kept += exists[i];
        else cold++, cold_kept += exists[i];
    }
    int new_kept = exist_range(c, "new", 0, 1400, NULL);
    cr_log_info("allkeys-lru: hot kept %d/%d, cold kept %d/%d, new kept %d/1400, evicted_keys %lld", hot_kept, hot,
                cold_kept, cold, new_kept, evicted_keys(c));
    cr_assert(hot_kept >= hot * 9 / 10, "only %d of %d recently read keys survived", hot_kept, hot);
    cr_assert(cold - cold_kept >= cold / 2, "only %d of %d idle keys evicted", cold - cold_kept, cold);
    cr_assert(evicted_keys(c) >= 1000);
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

/* ---- (d2) allkeys-lru: a scan of keys written once does not flush the
 * keys in use (slotcache's probation: a key never looked up again since it
 * was written looks a minute more idle to eviction) ----------------------- */

#define HOT_KEYS 300
#define SCAN_KEYS 6000

Test(eviction, allkeys_lru_hot_keys_survive_a_write_scan)
{
    if (sc_server_binary_is_redis()) cr_skip_test("slotcache's LRU probation: redis-server flushes the hot keys");
    start_with_policy("allkeys-lru");
    redisContext *c = sc_connect_or_fail(&srv);
    cr_assert_eq(set_range(c, "hot", 0, HOT_KEYS, 0, false).ok, HOT_KEYS);
    for (int i = 0; i < HOT_KEYS; i++) { /* read each hot key once */
        redisReply *r = redisCommand(c, "GET hot:%d", i);
        cr_assert(r && r->type == REDIS_REPLY_STRING && r->len == VAL_SIZE, "GET hot:%d", i);
        freeReplyObject(r);
    }
    /* A counter in use (written again since it was created), room for about
     * 200 more keys, then a scan 30 times that size while the counter keeps
     * being written. */
    sc_cmd_expect_or_fail(c, "1", "INCR counter");
    sc_cmd_expect_or_fail(c, "2", "INCR counter");
    set_maxmemory(c, used_memory(c) + 200 * (VAL_SIZE + 100));
    for (int i = 0; i < SCAN_KEYS; i += 500) {
        set_result r = set_range(c, "scan", i, i + 500, 0, false);
        cr_assert_eq(r.oom, 0, "allkeys-lru refused a write (index %d)", r.first_oom);
        sc_cmd_ll_or_fail(c, "INCR counter");
    }
    int hot_kept = exist_range(c, "hot", 0, HOT_KEYS, NULL);
    int scan_kept = exist_range(c, "scan", 0, SCAN_KEYS, NULL);
    cr_log_info("scan resistance: hot kept %d/%d, scan kept %d/%d, evicted_keys %lld", hot_kept, HOT_KEYS, scan_kept,
                SCAN_KEYS, evicted_keys(c));
    cr_assert(evicted_keys(c) >= SCAN_KEYS - 400, "the scan must have overflowed the memory");
    /* The counter is one more key in use: at the LRU clock's one-second
     * resolution it ties with the hot keys, so it may go as one of them
     * may (then a later INCR made it anew, smaller). */
    redisReply *g = sc_cmd_or_fail(c, "GET counter");
    cr_assert_eq(g->type, REDIS_REPLY_STRING, "GET counter: reply type %d", g->type);
    long long counter = strtoll(g->str, NULL, 10);
    freeReplyObject(g);
    cr_assert(counter >= 1 && counter <= 14, "counter %lld after 14 INCRs", counter);
    int in_use_kept = hot_kept + (counter == 14);
    cr_assert(in_use_kept >= (HOT_KEYS + 1) * 9 / 10, "only %d of %d keys in use (hot keys and the counter) survived "
              "the scan", in_use_kept, HOT_KEYS + 1);
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

/* ---- (e) allkeys-lfu keeps frequently read keys -------------------------- */

Test(eviction, allkeys_lfu_keeps_frequently_read_keys)
{
    start_with_policy("allkeys-lfu");
    redisContext *c = sc_connect_or_fail(&srv);
    cr_assert_eq(set_range(c, "key", 0, LRU_KEYS, 0, false).ok, LRU_KEYS);
    /* 100 reads of every hot key. */
    for (int round = 0; round < 100; round++) {
        for (int i = 0; i < LRU_KEYS; i += HOT_EVERY) redisAppendCommand(c, "GET key:%d", i);
        for (int i = 0; i < LRU_KEYS; i += HOT_EVERY) {
            redisReply *r = NULL;
            cr_assert(redisGetReply(c, (void **)&r) == REDIS_OK, "pipeline broke: %s", c->errstr);
            cr_assert_eq(r->type, REDIS_REPLY_STRING);
            freeReplyObject(r);
        }
    }
    set_maxmemory(c, used_memory(c) + 128 * 1024);
    set_result r = set_range(c, "new", 0, 1400, 0, false);
    cr_assert_eq(r.oom, 0, "allkeys-lfu refused a write (index %d)", r.first_oom);

    /* OBJECT FREQ answers nil for a missing key and does not count as an
     * access. */
    int hot = 0, hot_kept = 0, cold = 0, cold_kept = 0;
    long long hot_min = 256, cold_max = -1;
    for (int i = 0; i < LRU_KEYS; i++) {
        redisReply *f = sc_cmd_or_fail(c, "OBJECT FREQ key:%d", i);
        cr_assert(f->type == REDIS_REPLY_INTEGER || f->type == REDIS_REPLY_NIL, "OBJECT FREQ key:%d: type %d (%s)", i,
                  f->type, f->str ? f->str : "");
        bool kept = f->type == REDIS_REPLY_INTEGER;
        if (i % HOT_EVERY == 0) {
            hot++, hot_kept += kept;
            if (kept && f->integer < hot_min) hot_min = f->integer;
        } else {
            cold++, cold_kept += kept;
            if (kept && f->integer > cold_max) cold_max = f->integer;
        }
        freeReplyObject(f);
    }
    cr_log_info("allkeys-lfu: hot kept %d/%d (min freq %lld), cold kept %d/%d (max freq %lld)", hot_kept, hot,
                hot_min, cold_kept, cold, cold_max);
    cr_assert(hot_kept >= hot * 9 / 10, "only %d of %d frequently read keys survived", hot_kept, hot);
    /* New keys start with the same counter as the cold ones (5), so the
     * ~1,300 evictions are shared between cold and new keys. */
    cr_assert(cold - cold_kept >= cold / 3, "only %d of %d rarely read keys evicted", cold - cold_kept, cold);
    cr_assert(cold_max < 0 || hot_min > cold_max, "OBJECT FREQ: hot keys min %lld, cold keys max %lld", hot_min,
              cold_max);
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

/* ---- (f) allkeys-random --------------------------------------------------- */

Test(eviction, allkeys_random_stays_under_limit)
{
    start_with_policy("allkeys-random");
    redisContext *c = sc_connect_or_fail(&srv);
    cr_assert_eq(set_range(c, "key", 0, 1000, 0, false).ok, 1000);
    long long limit = used_memory(c) + 128 * 1024;
    set_maxmemory(c, limit);
    set_result r = set_range(c, "new", 0, 2000, 0, false);
    cr_assert_eq(r.oom, 0, "allkeys-random refused a write (index %d)", r.first_oom);
    /* Eviction runs before a write, so the last 1 KB write may leave usage
     * above the limit; a tiny write evicts it back under. */
    sc_cmd_expect_or_fail(c, "OK", "SET probe x");
    long long used = used_memory(c);
    cr_assert(used <= limit + INFO_SLACK, "used_memory %lld > maxmemory %lld (+ %d)", used, limit, INFO_SLACK);
    long long ev = evicted_keys(c);
    cr_assert(ev >= 1500, "evicted_keys %lld after writing 2 MB past the limit", ev);
    expect_evicted_total(c, 3001);
    /* Random: both old and new keys were evicted. */
    int old_kept = exist_range(c, "key", 0, 1000, NULL), new_kept = exist_range(c, "new", 0, 2000, NULL);
    cr_assert(old_kept < 1000 && new_kept < 2000, "old kept %d/1000, new kept %d/2000", old_kept, new_kept);
    cr_log_info("allkeys-random: used_memory %lld, maxmemory %lld", used, limit);
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

/* ---- (g) lowering maxmemory at run time ----------------------------------- */

static bool used_at_most(redisContext *c, long long limit) { return used_memory(c) <= limit + INFO_SLACK; }

Test(eviction, config_set_lower_maxmemory_evicts)
{
    start_with_policy("allkeys-lru");
    redisContext *c = sc_connect_or_fail(&srv);
    long long base = used_memory(c);
    cr_assert_eq(set_range(c, "key", 0, 4000, 0, false).ok, 4000);
    long long full = used_memory(c);
    long long ev0 = evicted_keys(c);
    /* Half of what the data takes. */
    long long limit = base + (full - base) / 2;
    sc_cmd_expect_or_fail(c, "OK", "CONFIG SET maxmemory %lld", limit);
    cr_assert(SC_WAIT_FOR(used_at_most(c, limit), 3000), "used_memory %lld still over %lld (+ 8 KB) 3 s after CONFIG SET",
              used_memory(c), limit);
    long long ev = evicted_keys(c) - ev0;
    long long keys = sc_cmd_ll_or_fail(c, "DBSIZE");
    cr_assert(ev >= 1500 && ev <= 2600, "evicted_keys grew by %lld to halve 4000 keys", ev);
    cr_assert_eq(keys, 4000 - ev, "DBSIZE %lld, evicted %lld", keys, ev);

    /* Lower again: a quarter. */
    limit = base + (full - base) / 4;
    sc_cmd_expect_or_fail(c, "OK", "CONFIG SET maxmemory %lld", limit);
    cr_assert(SC_WAIT_FOR(used_at_most(c, limit), 3000), "used_memory %lld still over %lld (+ 8 KB) 3 s after CONFIG SET",
              used_memory(c), limit);
    cr_assert(evicted_keys(c) - ev0 >= 2500);
    /* Raising it (or 0) evicts nothing more (read DBSIZE after the change:
     * until then a worker's cron may still evict the last bytes over). */
    sc_cmd_expect_or_fail(c, "OK", "CONFIG SET maxmemory 0");
    keys = sc_cmd_ll_or_fail(c, "DBSIZE");
    sc_cmd_expect_or_fail(c, "OK", "SET after x");
    cr_assert_eq(sc_cmd_ll_or_fail(c, "DBSIZE"), keys + 1);
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

/* ---- (h) 50 concurrent writers on 4 threads ------------------------------- */

#define WRITERS 50
/* 3000 per writer normally; a tenth under sanitizers (timeout scale > 1),
 * where the server runs ~10x slower. */
static int keys_per_writer(void) { return sc_scaled_ms(1000) > 1000 ? 300 : 3000; }
#define KEYS_PER_WRITER keys_per_writer()
#define SMALL_VAL 100
/* 10 MB for 150k writes; 2 MB for the sanitizer-sized load of 15k. */
static long long load_maxmemory(void) { return sc_scaled_ms(1000) > 1000 ? 2LL * 1024 * 1024 : 10LL * 1024 * 1024; }
#define LOAD_MAXMEMORY load_maxmemory()

static atomic_int writers_left;
static atomic_long writes_ok, writes_oom;

static void *load_writer(void *arg)
{
    int id = (int)(intptr_t)arg;
    char val[SMALL_VAL];
    memset(val, 'a' + id % 26, sizeof val);
    redisContext *c = sc_thread_connect(&srv, 30000);
    if (!c) {
        atomic_fetch_sub(&writers_left, 1);
        return NULL;
    }
    for (int i = 0; i < KEYS_PER_WRITER && sc_thread_failures() == 0; i += 100) {
        for (int j = i; j < i + 100; j++) redisAppendCommand(c, "SET w%d:%d %b", id, j, val, sizeof val);
        for (int j = i; j < i + 100; j++) {
            redisReply *r = NULL;
            if (redisGetReply(c, (void **)&r) != REDIS_OK) {
                sc_thread_fail("writer %d: connection broke: %s", id, c->errstr);
                goto out;
            }
            if (r->type == REDIS_REPLY_STATUS) atomic_fetch_add(&writes_ok, 1);
            else if (r->type == REDIS_REPLY_ERROR && strcmp(r->str, OOM_ERR) == 0) atomic_fetch_add(&writes_oom, 1);
            else sc_thread_fail("writer %d: SET w%d:%d: type %d %s", id, id, j, r->type, r->str ? r->str : "");
            freeReplyObject(r);
        }
    }
out:
    redisFree(c);
    atomic_fetch_sub(&writers_left, 1);
    return NULL;
}

/* VmRSS of pid in bytes, -1 if unreadable. */
static long long vm_rss(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long long kb = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) kb = strtoll(line + 6, NULL, 10);
    fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}

Test(eviction, concurrent_writers_stay_under_maxmemory)
{
    init_value();
    sc_server_start_or_fail(&srv, (const char *[]){ "--threads", "4", "--maxmemory-policy", "allkeys-lru", NULL });
    redisContext *c = sc_connect_or_fail(&srv);
    set_maxmemory(c, LOAD_MAXMEMORY);
    const long long slack = 1024 * 1024 + LOAD_MAXMEMORY / 20;
    /* Sanitizer builds (scaled timeouts) inflate RSS with shadow memory and
     * quarantine: the RSS bound only holds for a release build. */
    bool check_rss = sc_scaled_ms(1000) == 1000;

    atomic_store(&writers_left, WRITERS);
    pthread_t th[WRITERS];
    for (int i = 0; i < WRITERS; i++)
        cr_assert(pthread_create(&th[i], NULL, load_writer, (void *)(intptr_t)i) == 0);
    long long max_used = 0, max_rss = 0;
    int samples = 0;
    long long deadline = sc_now_ms() + sc_scaled_ms(120000);
    while (atomic_load(&writers_left) > 0 && sc_now_ms() < deadline) {
        redisReply *r = redisCommand(c, "INFO memory");
        if (!r) break;   /* asserted after the join */
        if (r->type == REDIS_REPLY_STRING) {
            const char *p = strstr(r->str, "\nused_memory:");
            if (p) {
                long long u = strtoll(p + 13, NULL, 10);
                if (u > max_used) max_used = u;
                samples++;
            }
        }
        freeReplyObject(r);
        long long rss = vm_rss(srv.pid);
        if (rss > max_rss) max_rss = rss;
        sc_sleep_ms(5);
    }
    for (int i = 0; i < WRITERS; i++) pthread_join(th[i], NULL);
    sc_no_thread_failures_or_fail();
    cr_assert_eq(c->err, 0, "INFO sampling connection broke: %s", c->errstr);
    long long used_end = used_memory(c), rss_end = vm_rss(srv.pid);
    if (rss_end > max_rss) max_rss = rss_end;
    long long ok = atomic_load(&writes_ok), oom = atomic_load(&writes_oom);
    long long ev = evicted_keys(c), keys = sc_cmd_ll_or_fail(c, "DBSIZE");
    cr_log_info("50 writers: %lld SETs ok, %lld OOM; %d samples, max used_memory %lld (limit %lld + slack %lld), "
                "end %lld; max VmRSS %lld; evicted %lld, DBSIZE %lld",
                ok, oom, samples, max_used, LOAD_MAXMEMORY, slack, used_end, max_rss, ev, keys);
    cr_assert_eq(ok + oom, (long long)WRITERS * KEYS_PER_WRITER);
    /* allkeys-lru always has something to evict: Redis never refuses. */
    cr_assert_eq(oom, 0, "%lld of %d SETs refused with OOM under allkeys-lru", oom, WRITERS * KEYS_PER_WRITER);
    /* INFO is slow under sanitizers and the load is shorter there. */
    cr_assert(samples >= (check_rss ? 5 : 2), "only %d used_memory samples during the load", samples);
    cr_assert(max_used <= LOAD_MAXMEMORY + slack, "used_memory reached %lld, limit %lld + slack %lld", max_used,
              LOAD_MAXMEMORY, slack);
    cr_assert(used_end <= LOAD_MAXMEMORY + slack);
    cr_assert(ev > 0 && keys + ev == ok, "DBSIZE %lld + evicted %lld != %lld writes of distinct keys", keys, ev, ok);
    if (check_rss)
        cr_assert(max_rss <= LOAD_MAXMEMORY + 64LL * 1024 * 1024, "VmRSS reached %lld with maxmemory %lld", max_rss,
                  LOAD_MAXMEMORY);
    else
        cr_log_info("sanitizer build: VmRSS bound not checked");
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

/* ---- (i) evicted_keys and "evicted" keyspace events ----------------------- */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

Test(eviction, evictions_are_counted_and_notified)
{
    start_with_policy("allkeys-lru");
    redisContext *c = sc_connect_or_fail(&srv);
    sc_cmd_expect_or_fail(c, "OK", "CONFIG SET notify-keyspace-events Ee");
    redisContext *sub = sc_connect_or_fail(&srv);
    redisReply *r = sc_cmd_or_fail(sub, "SUBSCRIBE __keyevent@0__:evicted");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 3);
    freeReplyObject(r);

    cr_assert_eq(set_range(c, "key", 0, 1000, 0, false).ok, 1000);
    set_maxmemory(c, used_memory(c) + 64 * 1024);
    long long ev0 = evicted_keys(c);
    cr_assert_eq(ev0, 0);
    set_result s = set_range(c, "new", 0, 500, 0, false);
    cr_assert_eq(s.oom, 0);
    long long ev = evicted_keys(c) - ev0;
    cr_assert(ev >= 400 && ev <= 600, "evicted_keys %lld after 500 1 KB writes at the limit", ev);
    expect_evicted_total(c, 1500);

    /* One message per evicted key, naming a key that is gone. Redis counts
     * the subscriber's output buffer in used_memory, so reading the events
     * and checking keys may evict a few more: read until the count of
     * events matches evicted_keys and no more arrive. */
    long long got = 0, want = 0;
    char **names = NULL;
    bool quiet = false;
    for (int round = 0; round < 20 && !quiet; round++) {
        want = evicted_keys(c) - ev0;
        cr_assert(got <= want, "%lld evicted events, evicted_keys %lld", got, want);
        names = realloc(names, (size_t)(want + 1) * sizeof *names);
        cr_assert(names);
        if (got == want) { /* one more event may come (a late eviction), or none */
            int ms = sc_scaled_ms(300);
            struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
            redisSetTimeout(sub, tv);
        }
        for (long long n = got == want ? 1 : want - got; n > 0; n--) {
            redisReply *m = NULL;
            if (redisGetReply(sub, (void **)&m) != REDIS_OK) {
                cr_assert(got == want, "got %lld of %lld evicted events: %s", got, want, sub->errstr);
                quiet = true;
                break;
            }
            cr_assert(m->type == REDIS_REPLY_ARRAY && m->elements == 3);
            cr_assert_str_eq(m->element[0]->str, "message");
            cr_assert_str_eq(m->element[1]->str, "__keyevent@0__:evicted");
            names[got++] = strdup(m->element[2]->str);
            freeReplyObject(m);
        }
    }
    cr_assert(quiet, "evicted events kept coming");
    cr_assert_eq(got, want, "%lld evicted events, evicted_keys grew by %lld", got, want);
    cr_assert(got >= ev);
    qsort(names, (size_t)got, sizeof *names, cmp_str);
    for (long long i = 0; i < got; i++) {
        cr_assert(strncmp(names[i], "key:", 4) == 0 || strncmp(names[i], "new:", 4) == 0, "event for key %s",
                  names[i]);
        if (i > 0) cr_assert_str_neq(names[i], names[i - 1], "two evicted events for %s", names[i]);
        cr_assert_eq(sc_cmd_ll_or_fail(c, "EXISTS %s", names[i]), 0, "evicted key %s still exists", names[i]);
    }
    for (long long i = 0; i < got; i++) free(names[i]);
    free(names);
    redisFree(sub);
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

/* ---- a volatile key among many persistent ones in the same slot ----------- */

/* Redis samples volatile-* candidates from the keys that have a TTL, so a
 * single volatile key is found however many keys without a TTL share its
 * hash slot: the write that needs room evicts it instead of failing. */
Test(eviction, volatile_key_in_crowded_slot_is_evicted)
{
    start_with_policy("volatile-lru");
    redisContext *c = sc_connect_or_fail(&srv);
    static char small[101];
    memset(small, 's', 100);
    for (int i = 0; i < 20000; i += 500) {
        for (int j = i; j < i + 500; j++) redisAppendCommand(c, "SET {t}per:%d %s", j, small);
        for (int j = i; j < i + 500; j++) {
            redisReply *r = NULL;
            cr_assert(redisGetReply(c, (void **)&r) == REDIS_OK, "pipeline broke: %s", c->errstr);
            cr_assert_eq(r->type, REDIS_REPLY_STATUS);
            freeReplyObject(r);
        }
    }
    /* 32 KB: freed at once (not handed to a lazy-free thread). */
    size_t big = 32 * 1024;
    char *v = malloc(big);
    cr_assert(v);
    memset(v, 'b', big);
    sc_cmd_expect_or_fail(c, "OK", "SET {t}vol %b EX 3600", v, big);
    free(v);
    cr_assert_eq(db0_expires(c), 1);
    /* 16 KB under current usage: evicting the volatile key makes room. */
    set_maxmemory(c, used_memory(c) - 16 * 1024);
    sc_cmd_expect_or_fail(c, "OK", "SET {t}x y");
    cr_assert_eq(sc_cmd_ll_or_fail(c, "EXISTS {t}vol"), 0);
    cr_assert_eq(evicted_keys(c), 1);
    cr_assert_eq(sc_cmd_ll_or_fail(c, "DBSIZE"), 20001);
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}
