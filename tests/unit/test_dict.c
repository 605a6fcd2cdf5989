/*
 * test_dict.c - the chained dict of the large encodings (server/dict.c):
 * add/set/delete/find against a model through growth and shrinking (which
 * also keeps the per-bucket chain lengths and the group bound in step), and
 * dict_random's uniformity: chi-square over per-element counts for a
 * well-filled table, a table thinned by deletes (bound left high), a tiny
 * table and a lone element in a sparse one. Random numbers come from a
 * fixed-seed generator, so every run draws the same picks.
 */
#include "dict.h"
#include "rng.h"

#include "../support/stat_check.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state;
static uint64_t rnd(void) { return rng_next(&rng_state); }

static size_t key_of(char *buf, size_t n, int i) { return (size_t)snprintf(buf, n, "key:%d", i); }

static int index_of(const dict_entry *e) {
    cr_assert_not_null(e);
    cr_assert(e->klen > 4 && memcmp(dict_key(e), "key:", 4) == 0);
    int v = 0;
    for (uint32_t i = 4; i < e->klen; i++) v = v * 10 + (dict_key(e)[i] - '0');
    return v;
}

/* Chi-square of `draws` dict_random picks over the n keys key:base.. that
 * the dict holds (each must be one of them). */
static double random_chisq(const dict *d, int base, int n, int draws) {
    unsigned *counts = calloc((size_t)n, sizeof *counts);
    for (int i = 0; i < draws; i++) {
        int k = index_of(dict_random(d, rnd())) - base;
        cr_assert(k >= 0 && k < n, "dict_random returned key:%d, not in the dict", k + base);
        counts[k]++;
    }
    double x = stat_chisq(counts, (size_t)n);
    free(counts);
    return x;
}

Test(dict, operations_match_a_model_through_resizes) {
    enum { KEYS = 3000 };
    rng_state = 1;
    dict *d = dict_new();
    bool *in = calloc(KEYS, sizeof *in);
    size_t count = 0;
    char key[32];
    /* Grow to ~3000, shrink to a few, grow again: every resize path. */
    for (int phase = 0; phase < 3; phase++) {
        int ops = phase == 1 ? 40000 : 20000;
        for (int i = 0; i < ops; i++) {
            int k = (int)rng_below(rnd(), KEYS);
            size_t kl = key_of(key, sizeof key, k);
            bool add = phase == 1 ? rng_below(rnd(), 10) == 0 : rng_below(rnd(), 10) < 8;
            if (add) {
                char val[8];
                int vl = snprintf(val, sizeof val, "%d", (int)rng_below(rnd(), 1000));
                cr_assert_eq(dict_set(d, key, kl, val, (size_t)vl), !in[k]);
                if (!in[k]) count++;
                in[k] = true;
            } else {
                cr_assert_eq(dict_delete(d, key, kl), in[k]);
                if (in[k]) count--;
                in[k] = false;
            }
        }
        cr_assert_eq(dict_size(d), count);
        for (int k = 0; k < KEYS; k++) {
            size_t kl = key_of(key, sizeof key, k);
            cr_assert_eq(dict_find(d, key, kl) != NULL, in[k], "key:%d", k);
        }
        size_t seen = 0;
        dict_iter it;
        dict_iter_init(&it);
        for (dict_entry *e; (e = dict_iter_next(d, &it));) {
            cr_assert(in[index_of(e)]);
            seen++;
        }
        cr_assert_eq(seen, count);
        for (int i = 0; i < 200 && count; i++) cr_assert(in[index_of(dict_random(d, rnd()))]);
    }
    free(in);
    dict_free(d);
}

Test(dict, random_is_uniform) {
    rng_state = 2;
    dict *d = dict_new();
    char key[32];
    for (int i = 0; i < 1000; i++) dict_add(d, key, key_of(key, sizeof key, i), NULL, 0);
    double x = random_chisq(d, 0, 1000, 20000);
    cr_assert(x < stat_chisq_bound(999), "chi-square %.1f over 1000 keys (bound %.1f)", x, stat_chisq_bound(999));
    dict_free(d);
}

Test(dict, random_is_uniform_after_deletes) {
    /* 6000 keys then 5000 deleted: the table has shrunk once (load ~1/4)
     * and its group bound is the one of the full table. */
    rng_state = 3;
    dict *d = dict_new();
    char key[32];
    for (int i = 0; i < 6000; i++) dict_add(d, key, key_of(key, sizeof key, i), NULL, 0);
    for (int i = 0; i < 5000; i++) cr_assert(dict_delete(d, key, key_of(key, sizeof key, i)));
    double x = random_chisq(d, 5000, 1000, 20000);
    cr_assert(x < stat_chisq_bound(999), "chi-square %.1f over 1000 keys (bound %.1f)", x, stat_chisq_bound(999));
    dict_free(d);
}

Test(dict, random_in_tiny_and_sparse_tables) {
    rng_state = 4;
    dict *d = dict_new();
    cr_assert_null(dict_random(d, rnd()), "empty dict");
    char key[32];
    for (int i = 0; i < 3; i++) dict_add(d, key, key_of(key, sizeof key, i), NULL, 0);
    double x = random_chisq(d, 0, 3, 30000);
    cr_assert(x < stat_chisq_bound(2), "chi-square %.1f over 3 keys (bound %.1f)", x, stat_chisq_bound(2));
    /* 64 buckets never shrink: one survivor among them is always found. */
    for (int i = 3; i < 64; i++) dict_add(d, key, key_of(key, sizeof key, i), NULL, 0);
    for (int i = 0; i < 63; i++) dict_delete(d, key, key_of(key, sizeof key, i));
    for (int i = 0; i < 1000; i++) cr_assert_eq(index_of(dict_random(d, rnd())), 63);
    dict_free(d);
}
