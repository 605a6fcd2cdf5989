/*
 * test_db.c - the keyspace's random picks (server/db.c): db_random_key
 * (RANDOMKEY) gives every key the same chance whatever the sizes of the
 * slots holding them (chi-square over keys, hash-tagged slots of 50 to 500
 * keys beside keys alone in theirs, in a sparse keyspace where the exact
 * walk answers and in a dense one where rejection does), db_random_slot
 * weights slots across databases and by keys with a TTL, and a count bound
 * left high by a deleted big slot is lowered by the next exact walk.
 * In-process, single thread; Criterion forks per test, so each starts from
 * fresh globals.
 */
#include "config.h"
#include "crc16.h"
#include "db.h"
#include "entry.h"
#include "ktable.h"
#include "mem.h"
#include "slotlock.h"

#include "../support/stat_check.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void setup(void) {
    config_init_defaults();
    key_hash_seed(0x1234567890abcdefULL);
    db_init(16);
}

static void teardown(void) {
    db_flush(-1, false);
    db_shutdown();
}

TestSuite(db_random, .init = setup, .fini = teardown);

static void add_key(int db, const char *key, long long expire) {
    dbkey k;
    dbkey_init(&k, db, key, strlen(key));
    slot_lock(k.slot);
    db_add(&k, entry_new_string(key, strlen(key), "v", 1, expire, false));
    slot_unlock(k.slot);
}

static void del_key(int db, const char *key) {
    dbkey k;
    dbkey_init(&k, db, key, strlen(key));
    slot_lock(k.slot);
    cr_assert(db_delete(&k));
    slot_unlock(k.slot);
}

/* Keys are "<group>:<n>" with group "{a}" / "{b}" (one slot each) or "k"
 * (spread by hash); index maps them to 0.. in the order added. */
typedef struct {
    int na, nb, nk;
} layout;

static void add_layout(const layout *l) {
    char key[32];
    for (int i = 0; i < l->na; i++) snprintf(key, sizeof key, "{a}:%d", i), add_key(0, key, -1);
    for (int i = 0; i < l->nb; i++) snprintf(key, sizeof key, "{b}:%d", i), add_key(0, key, -1);
    for (int i = 0; i < l->nk; i++) snprintf(key, sizeof key, "k:%d", i), add_key(0, key, -1);
}

static int index_of(const layout *l, const char *key, size_t len) {
    char buf[32];
    cr_assert_lt(len, sizeof buf);
    memcpy(buf, key, len);
    buf[len] = 0;
    const char *colon = strchr(buf, ':');
    cr_assert_not_null(colon, "key %s", buf);
    int n = atoi(colon + 1);
    if (strncmp(buf, "{a}:", 4) == 0) return n;
    if (strncmp(buf, "{b}:", 4) == 0) return l->na + n;
    return l->na + l->nb + n;
}

/* Chi-square of `draws` RANDOMKEY picks over every key of the layout;
 * *share_a gets the share of picks in {a}. */
static double randomkey_chisq(const layout *l, int draws, double *share_a) {
    int n = l->na + l->nb + l->nk;
    unsigned *counts = calloc((size_t)n, sizeof *counts);
    long in_a = 0;
    for (int i = 0; i < draws; i++) {
        size_t len;
        char *k = db_random_key(0, &len);
        cr_assert_not_null(k);
        int idx = index_of(l, k, len);
        cr_assert(idx >= 0 && idx < n);
        counts[idx]++;
        in_a += idx < l->na;
        mem_free(k);
    }
    double x = stat_chisq(counts, (size_t)n);
    free(counts);
    *share_a = (double)in_a / draws;
    return x;
}

Test(db_random, randomkey_is_uniform_across_uneven_slots) {
    /* The case: 50 keys sharing a slot and 50 alone in theirs.
     * Few keys in 16384 slots: rejection rarely hits, the walk answers. */
    layout l = {.na = 50, .nk = 50};
    add_layout(&l);
    double share, x = randomkey_chisq(&l, 20000, &share);
    cr_assert(x < stat_chisq_bound(99), "chi-square %.1f (bound %.1f), {a} share %.3f", x, stat_chisq_bound(99),
              share);
    /* Two big slots and many small ones. */
    db_flush(0, false);
    layout m = {.na = 500, .nb = 50, .nk = 450};
    add_layout(&m);
    x = randomkey_chisq(&m, 20000, &share);
    cr_assert(x < stat_chisq_bound(999), "chi-square %.1f (bound %.1f), {a} share %.3f", x, stat_chisq_bound(999),
              share);
}

Test(db_random, randomkey_is_uniform_in_a_dense_keyspace) {
    /* 20000 keys spread by hash (about 1.2 per slot, at most 5) and 10 in
     * {a}: the bound is 16, so rejection answers most picks. */
    layout l = {.na = 10, .nk = 20000};
    add_layout(&l);
    cr_assert_leq(ktable_count_bound(false), 16);
    double share, x = randomkey_chisq(&l, 200000, &share);
    cr_assert(x < stat_chisq_bound(20009), "chi-square %.1f (bound %.1f)", x, stat_chisq_bound(20009));
    /* The 10 keys of {a} as a group: binomial, 100 expected of 200000. */
    double p = 10.0 / 20010, z = (share * 200000 - 200000 * p) / stat_sqrt(200000 * p * (1 - p));
    cr_assert(z > -6 && z < 6, "{a} drawn %.0f times of 200000, z = %.1f", share * 200000, z);
}

Test(db_random, slot_weights_span_databases_and_ttls) {
    char key[32];
    /* db 0: 300 keys spread, 100 of them with a TTL; db 3: 100 keys in one
     * slot, all with a TTL. */
    for (int i = 0; i < 300; i++) snprintf(key, sizeof key, "k:%d", i), add_key(0, key, i < 100 ? mstime() + 3600000 : -1);
    for (int i = 0; i < 100; i++) snprintf(key, sizeof key, "{x}:%d", i), add_key(3, key, mstime() + 3600000);
    const int draws = 20000;
    int in3 = 0, in3_vol = 0;
    for (int i = 0; i < draws; i++) {
        int d;
        unsigned s;
        cr_assert(db_random_slot(-1, false, &d, &s));
        cr_assert(d == 0 || d == 3);
        in3 += d == 3;
        cr_assert(db_random_slot(-1, true, &d, &s));
        cr_assert_gt(ktable_expires(db_table(d, s, false)), 0);
        in3_vol += d == 3;
    }
    /* Binomial: db 3 holds 1/4 of all keys and 1/2 of the volatile ones. */
    double z = (in3 - draws * 0.25) / stat_sqrt(draws * 0.25 * 0.75);
    cr_assert(z > -6 && z < 6, "db 3 drawn %d times of %d (1/4 expected), z = %.1f", in3, draws, z);
    z = (in3_vol - draws * 0.5) / stat_sqrt(draws * 0.25);
    cr_assert(z > -6 && z < 6, "db 3 drawn %d times of %d for TTL keys (1/2 expected), z = %.1f", in3_vol, draws, z);
    int d;
    unsigned s;
    cr_assert_not(db_random_slot(5, false, &d, &s), "a database never written has no slot");
    cr_assert(db_random_slot(3, false, &d, &s) && d == 3 && s == key_hash_slot("{x}", 3));
}

Test(db_random, bound_left_by_a_deleted_big_slot_is_lowered) {
    char key[32];
    for (int i = 0; i < 3000; i++) snprintf(key, sizeof key, "{big}:%d", i), add_key(0, key, -1);
    cr_assert_geq(ktable_count_bound(false), 4096);
    for (int i = 0; i < 3000; i++) snprintf(key, sizeof key, "{big}:%d", i), del_key(0, key);
    layout l = {.nk = 100};
    add_layout(&l);
    double share, x = randomkey_chisq(&l, 10000, &share);
    cr_assert(x < stat_chisq_bound(99), "chi-square %.1f (bound %.1f)", x, stat_chisq_bound(99));
    uint32_t max = 0;
    for (unsigned s = 0; s < CLUSTER_SLOTS; s++) {
        ktable *t = db_table(0, s, false);
        if (ktable_count(t) > max) max = ktable_count(t);
    }
    cr_assert_gt(ktable_count_bound(false), max, "the bound still covers every slot");
    cr_assert_leq(ktable_count_bound(false), 2 * (uint64_t)max, "the bound came down to the largest slot");
    /* Empty again: no key. */
    db_flush(0, false);
    size_t len;
    cr_assert_null(db_random_key(0, &len));
    cr_assert_null(db_random_key(7, &len), "a database never written");
}
