/*
 * test_t_set.c - the set value: intset operations and width upgrades, the
 * intset -> hashtable conversion at set-max-intset-entries and on a
 * non-integer member, set_random's uniformity in both encodings
 * (chi-square), and property tests of random SADD/SREM against a simple
 * model. (RDB/DUMP encoding: tests/unit/test_rdb_codec.c.)
 */
#include "entry.h"
#include "intset.h"
#include "t_set.h"

#include "../support/stat_check.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool sadd(set_value *s, const char *m, size_t max) { return set_add(s, m, strlen(m), max); }
static bool srem(set_value *s, const char *m) { return set_remove(s, m, strlen(m)); }
static bool shas(const set_value *s, const char *m) { return set_contains(s, m, strlen(m)); }


/* Deterministic pseudo-random numbers for the property tests. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* ------------------------------------------------------------ intset */

Test(intset, add_remove_contains_sorted) {
    intset *is = intset_new();
    bool ok;
    int64_t vals[] = {5, -3, 100, 0, 7, -3, 5};
    int added = 0;
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        is = intset_add(is, vals[i], &ok);
        added += ok;
    }
    cr_assert_eq(added, 5, "duplicates are not added");
    cr_assert_eq(intset_len(is), 5);
    int64_t want[] = {-3, 0, 5, 7, 100};
    for (uint32_t i = 0; i < 5; i++) cr_assert_eq(intset_get(is, i), want[i]);
    cr_assert(intset_contains(is, 7));
    cr_assert_not(intset_contains(is, 8));
    cr_assert_not(intset_contains(is, 1LL << 40), "wider than the set's width: absent");
    is = intset_remove(is, 1LL << 40, &ok);
    cr_assert_not(ok);
    is = intset_remove(is, 6, &ok);
    cr_assert_not(ok);
    is = intset_remove(is, -3, &ok);
    cr_assert(ok);
    is = intset_remove(is, 100, &ok);
    cr_assert(ok);
    cr_assert_eq(intset_len(is), 3);
    cr_assert_eq(intset_get(is, 0), 0);
    cr_assert_eq(intset_get(is, 2), 7);
    cr_assert(intset_check(is));
    for (int i = 0; i < 100; i++) {
        int64_t r = intset_random(is, rnd());
        cr_assert(r == 0 || r == 5 || r == 7);
    }
    intset_free(is);
}

Test(intset, width_upgrades) {
    intset *is = intset_new();
    bool ok;
    is = intset_add(is, 1, &ok);
    is = intset_add(is, INT16_MAX, &ok);
    is = intset_add(is, INT16_MIN, &ok);
    cr_assert_eq(is->width, 2);
    is = intset_add(is, INT16_MAX + 1, &ok); /* above every element */
    cr_assert(ok);
    cr_assert_eq(is->width, 4);
    is = intset_add(is, (int64_t)INT32_MIN - 1, &ok); /* below every element */
    cr_assert(ok);
    cr_assert_eq(is->width, 8);
    is = intset_add(is, INT64_MAX, &ok);
    is = intset_add(is, INT64_MIN, &ok);
    int64_t want[] = {INT64_MIN, (int64_t)INT32_MIN - 1, INT16_MIN, 1, INT16_MAX, INT16_MAX + 1, INT64_MAX};
    cr_assert_eq(intset_len(is), 7);
    for (uint32_t i = 0; i < 7; i++) cr_assert_eq(intset_get(is, i), want[i], "element %u", i);
    cr_assert(intset_check(is));
    /* Widths never shrink. */
    for (uint32_t i = 0; i < 7; i++) is = intset_remove(is, want[i], &ok);
    cr_assert_eq(intset_len(is), 0);
    cr_assert_eq(is->width, 8);
    intset *d = intset_dup(is);
    cr_assert_eq(d->width, 8);
    intset_free(d);
    intset_free(is);
}

/* Random adds/removes across all three widths against a sorted model. */
Test(intset, property_against_model) {
    enum { N = 400 };
    int64_t universe[N];
    bool present[N] = {0};
    for (int i = 0; i < N; i++) {
        int64_t base = (int64_t)(rnd() % 1000) - 500;
        switch (i % 4) {
        case 0: universe[i] = base; break;
        case 1: universe[i] = base * 100000; break;          /* int32 */
        case 2: universe[i] = base * 100000000000LL; break;  /* int64 */
        default: universe[i] = base * 60; break;             /* int16 */
        }
    }
    intset *is = intset_new();
    for (int step = 0; step < 20000; step++) {
        int i = (int)(rnd() % N);
        bool ok;
        /* The universe may hold duplicate values: the model is by value. */
        bool in = false;
        for (int j = 0; j < N; j++)
            if (present[j] && universe[j] == universe[i]) in = true;
        if (rnd() % 3) {
            is = intset_add(is, universe[i], &ok);
            cr_assert_eq(ok, !in);
            for (int j = 0; j < N; j++)
                if (universe[j] == universe[i]) present[j] = true;
        } else {
            is = intset_remove(is, universe[i], &ok);
            cr_assert_eq(ok, in);
            for (int j = 0; j < N; j++)
                if (universe[j] == universe[i]) present[j] = false;
        }
        if (step % 500 == 0) {
            cr_assert(intset_check(is));
            uint32_t count = 0;
            int64_t prev = 0;
            for (int j = 0; j < N; j++) {
                if (!present[j]) continue;
                bool dup = false;
                for (int k = 0; k < j; k++)
                    if (present[k] && universe[k] == universe[j]) dup = true;
                if (!dup) count++;
                cr_assert(intset_contains(is, universe[j]));
            }
            cr_assert_eq(intset_len(is), count);
            for (uint32_t k = 0; k < intset_len(is); k++) {
                cr_assert(k == 0 || intset_get(is, k) > prev);
                prev = intset_get(is, k);
            }
        }
    }
    intset_free(is);
}

/* ------------------------------------------------------------ set_value */

Test(set, starts_intset_and_iterates_ascending) {
    set_value *s = set_new();
    cr_assert_eq(s->enc, ENC_INTSET);
    cr_assert(sadd(s, "10", 512));
    cr_assert(sadd(s, "-2", 512));
    cr_assert(sadd(s, "3", 512));
    cr_assert_not(sadd(s, "3", 512));
    cr_assert_eq(s->enc, ENC_INTSET);
    cr_assert_eq(set_size(s), 3);
    const char *want[] = {"-2", "3", "10"};
    set_iter it;
    set_elem e;
    set_iter_init(&it, s);
    int n = 0;
    while (set_iter_next(&it, &e)) {
        cr_assert(e.is_int);
        cr_assert_eq(e.len, strlen(want[n]));
        cr_assert_eq(memcmp(e.p, want[n], e.len), 0);
        n++;
    }
    cr_assert_eq(n, 3);
    cr_assert(shas(s, "10"));
    cr_assert_not(shas(s, "010"));
    cr_assert_not(shas(s, "x"));
    cr_assert_not(srem(s, "x"));
    cr_assert(srem(s, "10"));
    cr_assert_eq(set_size(s), 2);
    cr_assert_gt(set_mem(s), 0);
    set_free(s);
}

Test(set, non_canonical_integers_are_strings) {
    const char *strs[] = {"01", "-0", " 1", "1 ", "+1", "1.0", "", "9223372036854775808", "-9223372036854775809"};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        set_value *s = set_new();
        cr_assert(sadd(s, strs[i], 512));
        cr_assert_eq(s->enc, ENC_HASHTABLE, "'%s' converts to hashtable", strs[i]);
        cr_assert(shas(s, strs[i]));
        set_free(s);
    }
    set_value *s = set_new();
    cr_assert(sadd(s, "9223372036854775807", 512));
    cr_assert(sadd(s, "-9223372036854775808", 512));
    cr_assert_eq(s->enc, ENC_INTSET);
    set_free(s);
}

Test(set, conversion_at_threshold) {
    const size_t max = 4;
    set_value *s = set_new();
    char buf[32];
    for (int i = 0; i < 4; i++) {
        snprintf(buf, sizeof buf, "%d", i * 7);
        cr_assert(sadd(s, buf, max));
    }
    cr_assert_eq(s->enc, ENC_INTSET, "exactly max entries stay an intset");
    cr_assert_not(sadd(s, "0", max), "a duplicate does not convert");
    cr_assert_eq(s->enc, ENC_INTSET);
    cr_assert(sadd(s, "100", max));
    cr_assert_eq(s->enc, ENC_HASHTABLE, "max + 1 converts");
    cr_assert_eq(set_size(s), 5);
    for (int i = 0; i < 4; i++) {
        snprintf(buf, sizeof buf, "%d", i * 7);
        cr_assert(shas(s, buf), "%s kept across the conversion", buf);
    }
    cr_assert(srem(s, "100"));
    cr_assert(srem(s, "0"));
    cr_assert_eq(s->enc, ENC_HASHTABLE, "never converts back");
    set_free(s);

    s = set_new();
    cr_assert(sadd(s, "1", 0));
    cr_assert_eq(s->enc, ENC_HASHTABLE, "max 0: the first integer converts");
    set_free(s);

    s = set_new();
    sadd(s, "1", 512);
    sadd(s, "2", 512);
    cr_assert(sadd(s, "a", 512));
    cr_assert_eq(s->enc, ENC_HASHTABLE);
    cr_assert(shas(s, "1") && shas(s, "2") && shas(s, "a"));
    /* Elements of an intset added into a hashtable set go in as text. */
    set_elem e = {.p = "2", .len = 1, .is_int = true, .v = 2};
    cr_assert_not(set_add_elem(s, &e, 512));
    cr_assert(set_contains_elem(s, &e));
    cr_assert(set_remove_elem(s, &e));
    cr_assert_not(shas(s, "2"));
    set_free(s);
}

Test(set, dup_is_deep) {
    set_value *a = set_new();
    sadd(a, "1", 512);
    set_value *b = set_dup(a);
    sadd(a, "2", 512);
    cr_assert_eq(set_size(b), 1);
    set_free(a);
    set_free(b);
    a = set_new();
    sadd(a, "x", 512);
    b = set_dup(a);
    sadd(a, "y", 512);
    cr_assert_eq(b->enc, ENC_HASHTABLE);
    cr_assert_eq(set_size(b), 1);
    cr_assert(shas(b, "x"));
    set_free(a);
    set_free(b);
}

Test(set, random_returns_members) {
    set_value *s = set_new();
    sadd(s, "a", 512);
    char buf[SET_ELEM_BUF];
    set_elem e;
    for (int i = 0; i < 50; i++) {
        set_random(s, &e, buf);
        cr_assert(e.len == 1 && e.p[0] == 'a');
    }
    for (int i = 0; i < 200; i++) {
        snprintf(buf, sizeof buf, "m%d", i);
        sadd(s, buf, 512);
    }
    for (int i = 0; i < 200; i++) srem(s, i == 0 ? "a" : (snprintf(buf, sizeof buf, "m%d", i), buf));
    cr_assert_eq(set_size(s), 1, "a sparse table still yields its one member");
    set_random(s, &e, buf);
    cr_assert(e.len == 2 && memcmp(e.p, "m0", 2) == 0);
    set_free(s);
}

/* Chi-square of 20 x size set_random draws over a set of members
 * <prefix><i>, i < size. */
static double random_chisq(const set_value *s, const char *prefix, int size) {
    unsigned *counts = calloc((size_t)size, sizeof *counts);
    size_t plen = strlen(prefix);
    char buf[SET_ELEM_BUF];
    for (int i = 0; i < size * 20; i++) {
        set_elem e;
        set_random(s, &e, buf);
        cr_assert(e.len > plen && e.len < 16 && memcmp(e.p, prefix, plen) == 0);
        char num[16];
        memcpy(num, e.p + plen, e.len - plen);
        num[e.len - plen] = 0;
        int n = atoi(num);
        cr_assert(n >= 0 && n < size);
        counts[n]++;
    }
    double x = stat_chisq(counts, (size_t)size);
    free(counts);
    return x;
}

Test(set, random_is_uniform_both_encodings) {
    set_value *ht = set_new();
    set_value *is = set_new();
    char buf[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(buf, sizeof buf, "m%d", i);
        sadd(ht, buf, 512);
    }
    for (int i = 0; i < 100; i++) {
        snprintf(buf, sizeof buf, "%d", i);
        sadd(is, buf, 512);
    }
    cr_assert_eq(ht->enc, ENC_HASHTABLE);
    cr_assert_eq(is->enc, ENC_INTSET);
    double x = random_chisq(ht, "m", 1000);
    cr_assert(x < stat_chisq_bound(999), "hashtable: chi-square %.1f (bound %.1f)", x, stat_chisq_bound(999));
    x = random_chisq(is, "", 100);
    cr_assert(x < stat_chisq_bound(99), "intset: chi-square %.1f (bound %.1f)", x, stat_chisq_bound(99));
    set_free(ht);
    set_free(is);
}

/* ------------------------------------------------- property: SADD/SREM */

/* Random SADD/SREM batches against a model (a presence array over a fixed
 * universe of members). The encoding must follow Redis's rule: intset until
 * a non-integer member arrives or the size passes the limit, then hashtable
 * for good. Iteration must yield exactly the model's members (ascending for
 * an intset). */
static void run_property(size_t max, bool with_strings, unsigned steps) {
    enum { U = 300 };
    char universe[U][32];
    bool is_int[U];
    for (int i = 0; i < U; i++) {
        if (with_strings && i % 10 == 9) {
            const char *odd[] = {"01", "-0", " 7", "x", "1.5"};
            snprintf(universe[i], sizeof universe[i], "%s%d", odd[(i / 10) % 5], i);
            is_int[i] = false;
        } else {
            /* Values of all three intset widths, drawn until unique. */
            bool dup;
            do {
                long long v = (long long)(rnd() % 2000) - 1000;
                long long scale = i % 3 == 0 ? 1 : i % 3 == 1 ? 100003 : 10000000019LL;
                snprintf(universe[i], sizeof universe[i], "%lld", v * scale);
                dup = false;
                for (int j = 0; j < i; j++)
                    if (strcmp(universe[j], universe[i]) == 0) dup = true;
            } while (dup);
            is_int[i] = true;
        }
    }
    bool present[U] = {0};
    size_t count = 0;
    bool converted = false;
    set_value *s = set_new();
    for (unsigned step = 0; step < steps; step++) {
        int batch = 1 + (int)(rnd() % 8);
        bool add = rnd() % 5 < 3;
        for (int b = 0; b < batch; b++) {
            int i = (int)(rnd() % U);
            if (add) {
                bool r = sadd(s, universe[i], max);
                cr_assert_eq(r, !present[i], "SADD %s", universe[i]);
                if (!present[i]) count++;
                present[i] = true;
                if (!is_int[i] || count > max) converted = true;
            } else {
                bool r = srem(s, universe[i]);
                cr_assert_eq(r, present[i], "SREM %s", universe[i]);
                if (present[i]) count--;
                present[i] = false;
            }
        }
        cr_assert_eq(set_size(s), count);
        cr_assert_eq(s->enc, converted ? ENC_HASHTABLE : ENC_INTSET, "step %u", step);
        if (step % 50) continue;
        bool seen[U] = {0};
        size_t n = 0;
        long long prev = 0;
        set_iter it;
        set_elem e;
        set_iter_init(&it, s);
        while (set_iter_next(&it, &e)) {
            int found = -1;
            for (int i = 0; i < U; i++)
                if (strlen(universe[i]) == e.len && memcmp(universe[i], e.p, e.len) == 0) found = i;
            cr_assert_geq(found, 0, "iterated member is in the universe");
            cr_assert(present[found], "iterated member %s is present", universe[found]);
            cr_assert_not(seen[found], "no member twice");
            seen[found] = true;
            if (e.is_int) {
                cr_assert(n == 0 || e.v > prev, "intset ascending");
                prev = e.v;
            }
            n++;
        }
        cr_assert_eq(n, count);
        for (int i = 0; i < U; i++) cr_assert_eq(shas(s, universe[i]), present[i]);
        if (s->enc == ENC_INTSET) cr_assert(intset_check(s->u.is));
        /* A copy of the current state has the same members. */
        if (count) {
            set_value *r = set_dup(s);
            cr_assert_eq(r->enc, s->enc);
            cr_assert_eq(set_size(r), count);
            set_free(r);
        }
    }
    set_free(s);
}

Test(set, property_ints_under_limit) { run_property(512, false, 2000); }
Test(set, property_ints_small_limit) { run_property(40, false, 2000); }
Test(set, property_mixed_members) { run_property(512, true, 2000); }
