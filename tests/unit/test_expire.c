/*
 * test_expire.c - unit tests for server/expire.c, the active expire cycle:
 * it removes every expired key within a bounded number of ticks, leaves keys
 * without a TTL and keys with a future TTL alone, counts expired_keys, and
 * adapts: a tick stops early when few sampled keys are stale and keeps going
 * while many are. In-process with one fake worker (nworkers = 1, id 0);
 * Criterion forks per test, so every test starts from fresh globals.
 */
#include "config.h"
#include "crc16.h"
#include "db.h"
#include "entry.h"
#include "expire.h"
#include "ktable.h"
#include "slotlock.h"
#include "stats.h"
#include "worker.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static worker w;

static void setup(void) {
    config_init_defaults();
    key_hash_seed(0x9e3779b97f4a7c15ULL);
    nworkers = 1;
    memset(&w, 0, sizeof w);
    w.id = 0;
    db_init(16);
}

static void teardown(void) {
    db_flush(-1, false);
    db_shutdown();
}

static void add_keys(const char *prefix, int n, long long expire) {
    char key[48];
    for (int i = 0; i < n; i++) {
        int len = snprintf(key, sizeof key, "%s:%d", prefix, i);
        dbkey k;
        dbkey_init(&k, 0, key, (size_t)len);
        slot_lock(k.slot);
        db_add(&k, entry_new_string(key, (size_t)len, "v", 1, expire, false));
        slot_unlock(k.slot);
    }
}

static bool key_exists(const char *key) {
    dbkey k;
    dbkey_init(&k, 0, key, strlen(key));
    slot_lock(k.slot);
    /* Look the table up directly: db_lookup would expire lazily. */
    ktable *t = db_table(0, k.slot, false);
    bool found = t && ktable_find(t, key, strlen(key), k.hash) >= 0;
    slot_unlock(k.slot);
    return found;
}

Test(expire_cycle, removes_all_expired_keys_in_bounded_ticks, .init = setup, .fini = teardown) {
    long long now = mstime();
    add_keys("dead", 10000, now - 1000);
    add_keys("keep", 10000, -1);
    cr_assert_eq(db_size(0), 20000);
    cr_assert_eq(db_expires(0), 10000);
    uint64_t expired0 = stats_get(STAT_EXPIRED_KEYS);

    int calls = 0;
    while (db_expires(0) > 0 && calls < 50) {
        expire_cycle(&w, mstime());
        calls++;
    }
    cr_assert_eq(db_expires(0), 0, "expired keys left after %d cycles: %llu", calls,
                 (unsigned long long)db_expires(0));
    cr_assert_eq(db_size(0), 10000);
    cr_assert_eq(stats_get(STAT_EXPIRED_KEYS) - expired0, 10000);
    cr_assert(!key_exists("dead:0"));
    cr_assert(!key_exists("dead:9999"));
    cr_assert(key_exists("keep:0"));
    cr_assert(key_exists("keep:9999"));
    /* Nothing left to do: another tick removes nothing. */
    expire_cycle(&w, mstime());
    cr_assert_eq(db_size(0), 10000);
    cr_assert_eq(stats_get(STAT_EXPIRED_KEYS) - expired0, 10000);
}

Test(expire_cycle, future_ttls_are_kept, .init = setup, .fini = teardown) {
    long long now = mstime();
    add_keys("live", 2000, now + 3600000);
    add_keys("dead", 2000, now - 1);
    for (int i = 0; i < 50 && db_size(0) > 2000; i++) expire_cycle(&w, mstime());
    cr_assert_eq(db_size(0), 2000);
    cr_assert_eq(db_expires(0), 2000, "keys with a future TTL must survive with their TTL");
    cr_assert(key_exists("live:0"));
    cr_assert(key_exists("live:1999"));
}

Test(expire_cycle, expire_time_equal_to_now_is_not_expired, .init = setup, .fini = teardown) {
    long long now = mstime();
    add_keys("edge", 100, now);
    expire_cycle(&w, now);
    cr_assert_eq(db_size(0), 100, "a key whose expire == now is still alive (as Redis)");
    expire_cycle(&w, now + 1);
    expire_cycle(&w, now + 1);
    cr_assert(db_size(0) < 100, "one ms later they expire");
    for (int i = 0; i < 50 && db_size(0) > 0; i++) expire_cycle(&w, now + 1);
    cr_assert_eq(db_size(0), 0);
}

Test(expire_cycle, stops_early_when_few_keys_are_stale, .init = setup, .fini = teardown) {
    long long now = mstime();
    add_keys("live", 10000, now + 3600000);
    add_keys("dead", 100, now - 1000);
    uint64_t sampled0 = stats_get(STAT_EXPIRED_STALE_SAMPLED);
    expire_cycle(&w, mstime());
    uint64_t sampled = stats_get(STAT_EXPIRED_STALE_SAMPLED) - sampled0;
    cr_assert(sampled > 0, "the cycle must sample something");
    cr_assert(sampled < 2000, "a tick sampled %llu keys with ~1%% stale: it must stop early",
              (unsigned long long)sampled);
    cr_assert(db_size(0) >= 10000);
}

Test(expire_cycle, keeps_going_when_many_keys_are_stale, .init = setup, .fini = teardown) {
    long long now = mstime();
    add_keys("dead", 10000, now - 1000);
    uint64_t expired0 = stats_get(STAT_EXPIRED_KEYS);
    expire_cycle(&w, mstime());
    uint64_t expired = stats_get(STAT_EXPIRED_KEYS) - expired0;
    cr_assert(expired > 1000, "one tick with 100%% stale keys expired only %llu", (unsigned long long)expired);
    cr_assert_eq(db_size(0), 10000 - expired);
    cr_assert_eq(stats_get(STAT_EXPIRED_STALE_FOUND) >= expired, true);
}

Test(expire_cycle, worker_only_sweeps_its_own_slots, .init = setup, .fini = teardown) {
    /* Two workers: worker 0 owns even slots only. */
    nworkers = 2;
    long long now = mstime();
    add_keys("dead", 4000, now - 1000);
    for (int i = 0; i < 50; i++) expire_cycle(&w, mstime());
    /* Every key left must be in an odd slot, and every odd-slot key left. */
    char key[48];
    int odd_total = 0, left = 0;
    for (int i = 0; i < 4000; i++) {
        snprintf(key, sizeof key, "dead:%d", i);
        bool odd = key_hash_slot(key, strlen(key)) % 2 == 1;
        bool exists = key_exists(key);
        if (odd) odd_total++;
        if (exists) left++;
        cr_assert(odd == exists, "key %s (slot parity %d) exists=%d", key, odd, exists);
    }
    cr_assert_eq(left, odd_total);
    cr_assert(odd_total > 1000 && odd_total < 3000);
}
