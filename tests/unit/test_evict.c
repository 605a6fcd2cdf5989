/*
 * test_evict.c - unit tests for server/evict.c: the LFU counter (initial
 * value, logarithmic increment, decay by lfu-decay-time), the LRU clock and
 * idle time, and candidate selection by evict_until_under() over a real
 * keyspace (db.c) for allkeys-lru, allkeys-lfu, volatile-ttl, the volatile
 * policies' "keys without a TTL are never evicted" rule and noeviction, and
 * the random policies' uniformity: keys sharing one hash slot go as often
 * as keys alone in theirs (hypergeometric z-test).
 * In-process, single thread: Criterion forks per test, so every test starts
 * from fresh globals; the time is pinned with db_set_now_ms() where exact
 * minute/second arithmetic is asserted.
 */
#include "config.h"
#include "db.h"
#include "entry.h"
#include "evict.h"
#include "ktable.h"
#include "mem.h"
#include "slotlock.h"
#include "stats.h"

#include "../support/stat_check.h"

#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* A fixed "now": a whole minute plus 30 s, far from any boundary. */
#define NOW_MS (1700000000000LL - (1700000000000LL % 60000) + 30000)

static void set_policy(long long p) { atomic_store(&cfg.maxmemory_policy, p); }

static void setup_lfu(long long log_factor, long long decay_time) {
    config_init_defaults();
    set_policy(MAXMEMORY_ALLKEYS_LFU);
    atomic_store(&cfg.lfu_log_factor, log_factor);
    atomic_store(&cfg.lfu_decay_time, decay_time);
}

static uint32_t now_minutes(void) { return (uint32_t)((db_now_ms() / 60000) & 0xffff); }

/* An LFU field `ago` minutes in the past with the given counter. */
static uint32_t lfu_field(uint32_t ago, unsigned counter) {
    return (((now_minutes() - ago) & 0xffff) << 8) | (counter & 255);
}

static entry *new_entry(void) { return entry_new_string("k", 1, "v", 1, -1, false); }

/* ------------------------------------------------------------ LFU */

Test(evict_lfu, initial_counter_is_lfu_init_val) {
    setup_lfu(10, 1);
    db_set_now_ms(NOW_MS);
    cr_assert(evict_policy_is_lfu());
    cr_assert(!evict_policy_is_lru());
    entry *e = new_entry();
    entry_set_lru(e, evict_initial_field());
    cr_assert_eq(evict_lfu_counter(e), LFU_INIT_VAL);
    cr_assert_eq(entry_lru(e) >> 8, now_minutes(), "the field carries the current minutes");
    entry_free(e);
}

Test(evict_lfu, counter_grows_logarithmically) {
    setup_lfu(10, 1);
    db_set_now_ms(NOW_MS);
    entry *e = new_entry();
    entry_set_lru(e, evict_initial_field());
    for (int i = 0; i < 100; i++) evict_touch(e);
    unsigned c100 = evict_lfu_counter(e);
    for (int i = 100; i < 1000; i++) evict_touch(e);
    unsigned c1k = evict_lfu_counter(e);
    /* Redis's table for lfu-log-factor 10: 100 hits ~10, 1K ~18, 100K ~142. */
    cr_assert(c100 > LFU_INIT_VAL && c100 < 30, "after 100 touches: %u", c100);
    cr_assert(c1k > LFU_INIT_VAL && c1k < 255, "after 1000 touches: %u", c1k);
    cr_assert(c1k >= c100, "1000 touches (%u) < 100 touches (%u)", c1k, c100);
    cr_assert(c1k < 60, "counter must grow logarithmically, got %u after 1000 touches", c1k);
    for (int i = 1000; i < 100000; i++) evict_touch(e);
    unsigned c100k = evict_lfu_counter(e);
    cr_assert(c100k > c1k, "100K touches (%u) must exceed 1K touches (%u)", c100k, c1k);
    cr_assert(c100k < 255, "100K touches must not saturate with factor 10: %u", c100k);
    /* The minutes are refreshed by every touch. */
    cr_assert_eq(entry_lru(e) >> 8, now_minutes());
    entry_free(e);
}

Test(evict_lfu, log_factor_zero_increments_every_touch_and_saturates) {
    setup_lfu(0, 1);
    db_set_now_ms(NOW_MS);
    entry *e = new_entry();
    entry_set_lru(e, evict_initial_field());
    for (int i = 0; i < 10; i++) evict_touch(e);
    cr_assert_eq(evict_lfu_counter(e), LFU_INIT_VAL + 10);
    for (int i = 0; i < 300; i++) evict_touch(e);
    cr_assert_eq(evict_lfu_counter(e), 255, "the counter saturates at 255");
    entry_free(e);
}

Test(evict_lfu, decay_by_elapsed_minutes) {
    setup_lfu(10, 1);
    db_set_now_ms(NOW_MS);
    entry *e = new_entry();

    entry_set_lru(e, lfu_field(0, 20));
    cr_assert_eq(evict_lfu_counter(e), 20, "no time elapsed: no decay");
    entry_set_lru(e, lfu_field(3, 20));
    cr_assert_eq(evict_lfu_counter(e), 17, "3 minutes, decay 1: -3");
    entry_set_lru(e, lfu_field(19, 20));
    cr_assert_eq(evict_lfu_counter(e), 1);
    entry_set_lru(e, lfu_field(20, 20));
    cr_assert_eq(evict_lfu_counter(e), 0);
    entry_set_lru(e, lfu_field(500, 20));
    cr_assert_eq(evict_lfu_counter(e), 0, "never below 0");

    atomic_store(&cfg.lfu_decay_time, 2);
    entry_set_lru(e, lfu_field(5, 20));
    cr_assert_eq(evict_lfu_counter(e), 18, "5 minutes, decay 2: -2 (whole periods)");
    entry_set_lru(e, lfu_field(1, 20));
    cr_assert_eq(evict_lfu_counter(e), 20, "1 minute < one decay period");

    atomic_store(&cfg.lfu_decay_time, 0);
    entry_set_lru(e, lfu_field(500, 20));
    cr_assert_eq(evict_lfu_counter(e), 20, "lfu-decay-time 0: no decay");
    entry_free(e);
}

Test(evict_lfu, touch_applies_decay_then_stamps_now) {
    setup_lfu(10, 1);
    db_set_now_ms(NOW_MS);
    entry *e = new_entry();
    entry_set_lru(e, lfu_field(10, 40));
    evict_touch(e);
    unsigned c = evict_lfu_counter(e);
    cr_assert(c == 30 || c == 31, "decayed 40 - 10 then maybe +1, got %u", c);
    cr_assert_eq(entry_lru(e) >> 8, now_minutes(), "touch stores the current minutes");
    /* A second read must not decay again (minutes were refreshed). */
    cr_assert_eq(evict_lfu_counter(e), c);
    entry_free(e);
}

/* ------------------------------------------------------------ LRU */

Test(evict_lru, touch_sets_clock_and_idle_time) {
    config_init_defaults();
    set_policy(MAXMEMORY_ALLKEYS_LRU);
    db_set_now_ms(NOW_MS);
    cr_assert(evict_policy_is_lru());
    cr_assert(!evict_policy_is_lfu());
    entry *e = new_entry();
    cr_assert_eq(evict_initial_field(), lru_clock());
    cr_assert_eq(lru_clock(), (uint32_t)((NOW_MS / 1000) & 0xffffff));

    entry_set_lru(e, (lru_clock() - 100) & 0xffffff);
    cr_assert_eq(entry_idle_ms(e), 100000ULL);
    entry_set_lru(e, (lru_clock() - 3600) & 0xffffff);
    cr_assert_eq(entry_idle_ms(e), 3600000ULL);

    evict_touch(e);
    cr_assert_eq(entry_lru(e), lru_clock(), "touch stores the LRU clock");
    cr_assert_eq(entry_idle_ms(e), 0ULL);

    /* Time moves on: idle grows. */
    db_set_now_ms(NOW_MS + 5000);
    cr_assert_eq(entry_idle_ms(e), 5000ULL);
    entry_free(e);
}

Test(evict_lru, stamp_from_after_the_snapshot_is_not_a_wrap) {
    config_init_defaults();
    set_policy(MAXMEMORY_ALLKEYS_LRU);
    db_set_now_ms(NOW_MS);
    entry *e = new_entry();
    /* another worker touched it 2 s after this thread's time snapshot */
    entry_set_lru(e, (lru_clock() + 2) & 0xffffff);
    cr_assert_eq(entry_idle_ms(e), 0ULL, "a stamp just ahead of the snapshot is idle 0, not ~194 days");
    /* across the 24-bit wrap, a real wrap still counts */
    db_set_now_ms(5000); /* clock 5 */
    entry_set_lru(e, 0xffffff - 10);
    cr_assert_eq(entry_idle_ms(e), 15000ULL);
    entry_free(e);
}

Test(evict_lfu, stamp_from_after_the_snapshot_does_not_decay) {
    setup_lfu(10, 1);
    db_set_now_ms(NOW_MS);
    entry *e = new_entry();
    entry_set_lru(e, (((now_minutes() + 1) & 0xffff) << 8) | 20); /* touched a minute after the snapshot */
    cr_assert_eq(evict_lfu_counter(e), 20, "no decay for a stamp just ahead of the snapshot");
    entry_free(e);
}

Test(evict_lru, noeviction_policy_uses_lru_clock_too) {
    config_init_defaults();
    set_policy(MAXMEMORY_NOEVICTION);
    db_set_now_ms(NOW_MS);
    entry *e = new_entry();
    entry_set_lru(e, 1);
    evict_touch(e);
    cr_assert_eq(entry_lru(e), lru_clock(), "non-LFU policies keep the LRU clock (OBJECT IDLETIME)");
    entry_free(e);
}

/* ------------------------------------------------------------ candidate selection */

static void db_setup(void) {
    config_init_defaults();
    key_hash_seed(0x1234567890abcdefULL);
    db_init(16);
    (void)db_table(0, 0, true); /* allocate db 0's slot array before measuring */
}

static void db_teardown(void) {
    atomic_store(&cfg.maxmemory, 0);
    db_flush(-1, false);
    db_shutdown();
}

static entry *add_key(const char *key, long long expire) {
    dbkey k;
    size_t klen = strlen(key);
    dbkey_init(&k, 0, key, klen);
    slot_lock(k.slot);
    entry *e = entry_new_string(key, klen, "value-value-value-value", 23, expire, false);
    db_add(&k, e);
    slot_unlock(k.slot);
    return e;
}

static bool key_exists(const char *key) {
    dbkey k;
    dbkey_init(&k, 0, key, strlen(key));
    slot_lock(k.slot);
    long pos;
    entry *e = db_lookup(&k, LOOKUP_WRITE | LOOKUP_NOTOUCH | LOOKUP_NOSTATS, &pos);
    slot_unlock(k.slot);
    return e != NULL;
}

/* 2000 keys, alternately a:i and b:i, with the given LRU clocks and
 * "looked up again" marks. Returns the memory used before they were added. */
static size_t add_ab_keys(uint32_t lru_a, bool reused_a, uint32_t lru_b, bool reused_b) {
    size_t before = mem_used();
    char key[32];
    for (int i = 0; i < 2000; i++) {
        bool a = i % 2 == 0;
        snprintf(key, sizeof key, "%s:%d", a ? "a" : "b", i);
        entry *e = add_key(key, -1);
        cr_assert(!entry_was_reused(e), "a new key is on probation");
        entry_set_lru(e, (a ? lru_a : lru_b) & 0xffffff);
        if (a ? reused_a : reused_b) entry_mark_reused(e);
    }
    return before;
}

/* Evict about 500 keys' worth of the 2000 added since `before`; returns how
 * many a: keys went, and the number evicted in *evicted. */
static long evict_share_of_a(size_t before, long *evicted) {
    size_t per_key = (mem_used() - before) / 2000;
    long long limit = (long long)(mem_used() - 500 * per_key);
    atomic_store(&cfg.maxmemory, limit);
    long n = evict_until_under(-1);
    char key[32];
    long a_gone = 0;
    for (int i = 0; i < 2000; i += 2) {
        snprintf(key, sizeof key, "a:%d", i);
        if (!key_exists(key)) a_gone++;
    }
    cr_assert(n >= 300 && n <= 1000, "evicted %ld keys for ~500 keys' memory", n);
    *evicted = n;
    return a_gone;
}

Test(evict_select, allkeys_lru_prefers_idle_keys) {
    db_setup();
    set_policy(MAXMEMORY_ALLKEYS_LRU);
    uint32_t clock = lru_clock();
    size_t before = add_ab_keys(clock - 3600, false, clock, false); /* a: idle an hour */
    cr_assert_eq(db_size(0), 2000);
    uint64_t ev0 = stats_get(STAT_EVICTED_KEYS);
    long n, a_gone = evict_share_of_a(before, &n);
    cr_assert((long long)mem_used() <= atomic_load(&cfg.maxmemory), "used %zu > maxmemory", mem_used());
    cr_assert_eq(stats_get(STAT_EVICTED_KEYS) - ev0, (uint64_t)n);
    cr_assert_eq(db_size(0), 2000 - (uint64_t)n);
    cr_assert(a_gone * 100 >= n * 80, "only %ld of %ld evicted keys were idle ones", a_gone, n);
    db_teardown();
}

Test(evict_select, lru_keys_never_looked_up_again_go_first) {
    db_setup();
    set_policy(MAXMEMORY_ALLKEYS_LRU);
    uint32_t clock = lru_clock();
    size_t before = add_ab_keys(clock, false, clock, true); /* same idle time; b: were looked up again */
    long n, a_gone = evict_share_of_a(before, &n);
    cr_assert(a_gone * 100 >= n * 95, "only %ld of %ld evicted keys were never looked up again", a_gone, n);
    db_teardown();
}

Test(evict_select, lru_probation_ages_out_stale_reused_keys) {
    db_setup();
    set_policy(MAXMEMORY_ALLKEYS_LRU);
    uint32_t clock = lru_clock();
    size_t before = add_ab_keys(clock - 3600, true, clock, false); /* a: reused but idle an hour */
    long n, a_gone = evict_share_of_a(before, &n);
    cr_assert(a_gone * 100 >= n * 80, "only %ld of %ld evicted keys were the stale reused ones", a_gone, n);
    db_teardown();
}

Test(evict_select, no_eviction_while_exec_holds_slots) {
    db_setup();
    set_policy(MAXMEMORY_ALLKEYS_LRU);
    uint32_t clock = lru_clock();
    add_ab_keys(clock, false, clock, false);
    atomic_store(&cfg.maxmemory, 1);
    static const uint64_t held[16384 / 64] = {1}; /* as if EXEC held slot 0 */
    slots_held_by_exec = held;
    cr_assert_eq(evict_until_under(-1), 0, "inside EXEC, eviction waits (no locks out of order)");
    slots_held_by_exec = NULL;
    cr_assert_eq(db_size(0), 2000);
    cr_assert_eq(evict_until_under(10), 10, "after EXEC it evicts");
    db_teardown();
}

Test(evict_select, lookups_mark_keys_reused) {
    db_setup();
    set_policy(MAXMEMORY_ALLKEYS_LRU);
    entry *e = add_key("k", -1);
    cr_assert(!entry_was_reused(e), "a new key is on probation");
    dbkey k;
    dbkey_init(&k, 0, "k", 1);
    slot_lock(k.slot);
    cr_assert(db_lookup(&k, LOOKUP_READ | LOOKUP_NOTOUCH, NULL) == e);
    cr_assert(!entry_was_reused(e), "NOTOUCH lookups (OBJECT, TYPE...) do not count");
    cr_assert(db_lookup(&k, LOOKUP_WRITE, NULL) == e);
    cr_assert(entry_was_reused(e), "a write lookup (INCR, SET over it) counts");
    cr_assert(db_store_string(&k, 0, "other", 5, -1, false) == e, "rewritten in place");
    cr_assert(entry_was_reused(e), "an in-place rewrite keeps the mark");
    slot_unlock(k.slot);
    db_teardown();
}

Test(evict_select, allkeys_lfu_prefers_rarely_used_keys) {
    db_setup();
    set_policy(MAXMEMORY_ALLKEYS_LFU);
    atomic_store(&cfg.lfu_decay_time, 1);
    db_set_now_ms(NOW_MS);
    size_t before = mem_used();
    char key[32];
    for (int i = 0; i < 2000; i++) {
        bool hot = i % 2 == 0;
        snprintf(key, sizeof key, "%s:%d", hot ? "hot" : "cold", i);
        entry *e = add_key(key, -1);
        entry_set_lru(e, lfu_field(0, hot ? 100 : 2));
    }
    size_t per_key = (mem_used() - before) / 2000;
    long long limit = (long long)(mem_used() - 500 * per_key);
    atomic_store(&cfg.maxmemory, limit);

    long n = evict_until_under(-1);
    cr_assert((long long)mem_used() <= limit);
    long cold_gone = 0;
    for (int i = 1; i < 2000; i += 2) {
        snprintf(key, sizeof key, "cold:%d", i);
        if (!key_exists(key)) cold_gone++;
    }
    cr_assert(n > 0);
    cr_assert(cold_gone * 100 >= n * 80, "only %ld of %ld evicted keys were cold", cold_gone, n);
    db_teardown();
}

Test(evict_select, volatile_ttl_evicts_nearest_expiry_first) {
    db_setup();
    set_policy(MAXMEMORY_VOLATILE_TTL);
    long long now = mstime();
    size_t before = mem_used();
    char key[32];
    /* 1000 keys expiring in 1..1000 hours, 1000 persistent ones. */
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "ttl:%d", i);
        add_key(key, now + (long long)(i + 1) * 3600000);
        snprintf(key, sizeof key, "keep:%d", i);
        add_key(key, -1);
    }
    cr_assert_eq(db_expires(0), 1000);
    size_t per_key = (mem_used() - before) / 2000;
    long long limit = (long long)(mem_used() - 300 * per_key);
    atomic_store(&cfg.maxmemory, limit);

    long n = evict_until_under(-1);
    cr_assert((long long)mem_used() <= limit);
    cr_assert(n > 0);
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "keep:%d", i);
        cr_assert(key_exists(key), "persistent key %s evicted under volatile-ttl", key);
    }
    long near_gone = 0, gone = 0;
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "ttl:%d", i);
        if (!key_exists(key)) {
            gone++;
            if (i < 500) near_gone++;
        }
    }
    cr_assert_eq(gone, n);
    cr_assert(near_gone * 100 >= n * 80, "only %ld of %ld evicted keys were in the nearest half", near_gone, n);
    db_teardown();
}

Test(evict_select, volatile_policies_never_evict_persistent_keys) {
    static const long long policies[] = {MAXMEMORY_VOLATILE_LRU, MAXMEMORY_VOLATILE_LFU, MAXMEMORY_VOLATILE_RANDOM,
                                         MAXMEMORY_VOLATILE_TTL};
    db_setup();
    long long now = mstime();
    char key[32];
    for (size_t p = 0; p < sizeof policies / sizeof policies[0]; p++) {
        set_policy(policies[p]);
        atomic_store(&cfg.maxmemory, 0);
        size_t before = mem_used();
        for (int i = 0; i < 500; i++) {
            snprintf(key, sizeof key, "keep:%d", i);
            add_key(key, -1);
        }
        for (int i = 0; i < 100; i++) {
            snprintf(key, sizeof key, "vol:%d", i);
            add_key(key, now + 3600000 + i);
        }
        size_t per_key = (mem_used() - before) / 600;
        long long limit = (long long)(mem_used() - 300 * per_key);
        atomic_store(&cfg.maxmemory, limit);

        long n = evict_until_under(-1);
        cr_assert_eq(n, 100, "policy %lld: evicted %ld, want all 100 volatile keys", policies[p], n);
        cr_assert_eq(db_expires(0), 0);
        cr_assert_eq(db_size(0), 500);
        cr_assert((long long)mem_used() > limit, "memory must still be over the limit");
        cr_assert_eq(evict_until_under(-1), 0, "policy %lld: nothing evictable left", policies[p]);
        cr_assert_eq(db_size(0), 500);
        db_flush(-1, false);
    }
    db_teardown();
}

Test(evict_select, noeviction_evicts_nothing) {
    db_setup();
    set_policy(MAXMEMORY_NOEVICTION);
    char key[32];
    for (int i = 0; i < 500; i++) {
        snprintf(key, sizeof key, "k:%d", i);
        add_key(key, i % 2 ? mstime() + 3600000 : -1);
    }
    atomic_store(&cfg.maxmemory, (long long)mem_used() / 2);
    cr_assert_eq(evict_until_under(-1), 0);
    cr_assert_eq(db_size(0), 500);
    db_teardown();
}

Test(evict_select, max_keys_bounds_the_work_and_zero_limit_disables) {
    db_setup();
    set_policy(MAXMEMORY_ALLKEYS_RANDOM);
    char key[32];
    for (int i = 0; i < 500; i++) {
        snprintf(key, sizeof key, "k:%d", i);
        add_key(key, -1);
    }
    atomic_store(&cfg.maxmemory, 0);
    cr_assert_eq(evict_until_under(-1), 0, "maxmemory 0: no limit");
    atomic_store(&cfg.maxmemory, 1); /* far below what is used */
    cr_assert_eq(evict_until_under(10), 10);
    cr_assert_eq(db_size(0), 490);
    cr_assert_eq(evict_until_under(-1), 490, "allkeys-random empties the db when it must");
    cr_assert_eq(db_size(0), 0);
    db_teardown();
}

/* 500 keys in one slot ({a}:i) and 500 spread by hash (b:i), all with a
 * TTL when `ttl`, plus `persistent` spread keys without one (p:i); evict
 * about 500 keys' worth. Every a/b key must be equally likely to go. */
static void check_random_policy_uniform(long long policy, bool ttl, int persistent) {
    db_setup();
    set_policy(policy);
    long long exp = ttl ? mstime() + 3600000 : -1;
    char key[32];
    for (int i = 0; i < persistent; i++) snprintf(key, sizeof key, "p:%d", i), add_key(key, -1);
    size_t before = mem_used();
    for (int i = 0; i < 500; i++) snprintf(key, sizeof key, "{a}:%d", i), add_key(key, exp);
    for (int i = 0; i < 500; i++) snprintf(key, sizeof key, "b:%d", i), add_key(key, exp);
    size_t per_key = (mem_used() - before) / 1000;
    atomic_store(&cfg.maxmemory, (long long)(mem_used() - 500 * per_key));
    long n = evict_until_under(-1);
    int a_gone = 0, b_gone = 0, p_gone = 0;
    for (int i = 0; i < 500; i++) {
        snprintf(key, sizeof key, "{a}:%d", i);
        a_gone += !key_exists(key);
        snprintf(key, sizeof key, "b:%d", i);
        b_gone += !key_exists(key);
    }
    for (int i = 0; i < persistent; i++) snprintf(key, sizeof key, "p:%d", i), p_gone += !key_exists(key);
    cr_assert_eq(p_gone, 0, "keys without a TTL evicted");
    cr_assert_eq(a_gone + b_gone, n);
    cr_assert(n >= 300 && n <= 700, "evicted %ld keys for ~500 keys' memory", n);
    double z = stat_z_hypergeom(1000, 500, (double)n, a_gone);
    cr_assert(z > -6 && z < 6, "of %ld evicted, %d shared one slot (half of the keys), z = %.1f", n, a_gone, z);
    db_teardown();
}

Test(evict_select, allkeys_random_is_uniform_across_slot_sizes) {
    check_random_policy_uniform(MAXMEMORY_ALLKEYS_RANDOM, false, 0);
}

Test(evict_select, volatile_random_is_uniform_across_slot_sizes) {
    check_random_policy_uniform(MAXMEMORY_VOLATILE_RANDOM, true, 500);
}
