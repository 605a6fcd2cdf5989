/*
 * test_ktable.c - the per-(db, slot) hash table: insert/find/remove at
 * scale with backward-shift deletion, hash-range scans that return every
 * stable key exactly once across resizes, ktable_random's uniformity
 * (chi-square; in a full table, a thinned one and over the volatile
 * entries only) and the global bound of table counts.
 */
#include "entry.h"
#include "ktable.h"
#include "rng.h"

#include "../support/stat_check.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static entry *mk(const char *key) { return entry_new_string(key, strlen(key), "v", 1, -1, false); }

static long find(ktable *t, const char *key) { return ktable_find(t, key, strlen(key), key_hash(key, strlen(key))); }

Test(ktable, insert_find_remove_many) {
    ktable t;
    ktable_init(&t);
    char key[32];
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "key:%d", i);
        ktable_insert(&t, mk(key), key_hash(key, strlen(key)));
    }
    cr_assert_eq(ktable_count(&t), (uint32_t)n);
    cr_assert_lt((double)n / t.size, 0.93, "load factor stays under the limit");
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "key:%d", i);
        long pos = find(&t, key);
        cr_assert_geq(pos, 0, "key %s must be found", key);
        size_t klen;
        const char *k = entry_key(ktable_at(&t, pos), &klen);
        cr_assert_eq(klen, strlen(key));
        cr_assert_eq(memcmp(k, key, klen), 0);
    }
    cr_assert_eq(find(&t, "missing"), -1);
    /* remove every odd key; even keys must stay reachable after the shifts */
    for (int i = 1; i < n; i += 2) {
        snprintf(key, sizeof key, "key:%d", i);
        long pos = find(&t, key);
        cr_assert_geq(pos, 0);
        entry *e = ktable_at(&t, pos);
        ktable_remove_at(&t, pos);
        entry_free(e);
    }
    cr_assert_eq(ktable_count(&t), (uint32_t)(n / 2));
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "key:%d", i);
        if (i % 2)
            cr_assert_eq(find(&t, key), -1, "%s was deleted", key);
        else
            cr_assert_geq(find(&t, key), 0, "%s must survive", key);
    }
    ktable_clear(&t);
    cr_assert_eq(ktable_count(&t), 0);
    cr_assert_null(t.buckets);
}

Test(ktable, keeps_size_until_empty) {
    ktable t;
    ktable_init(&t);
    char key[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        ktable_insert(&t, mk(key), key_hash(key, strlen(key)));
    }
    uint32_t big = t.size;
    for (int i = 0; i < 4990; i++) {
        snprintf(key, sizeof key, "k%d", i);
        long pos = find(&t, key);
        cr_assert_geq(pos, 0);
        entry *e = ktable_at(&t, pos);
        ktable_remove_at(&t, pos);
        entry_free(e);
    }
    cr_assert_eq(t.size, big, "a partly emptied table keeps its size (%u -> %u)", big, t.size);
    for (int i = 4990; i < 5000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        cr_assert_geq(find(&t, key), 0);
        entry *e = ktable_at(&t, find(&t, key));
        ktable_remove_at(&t, find(&t, key));
        entry_free(e);
    }
    cr_assert_null(t.buckets, "an emptied table frees its buckets");
    cr_assert_eq(t.size, 0);
    ktable_clear(&t);
}

typedef struct {
    int *seen;
} scan_ctx;

static void mark(entry *e, void *arg) {
    scan_ctx *s = arg;
    size_t len;
    const char *k = entry_key(e, &len);
    char buf[32];
    memcpy(buf, k, len);
    buf[len] = '\0';
    s->seen[atoi(buf + 1)]++;
}

/* Scan in small hash-range steps while the table grows and shrinks between
 * steps: keys present for the whole scan are returned exactly once. */
Test(ktable, scan_ranges_survive_resizes) {
    ktable t;
    ktable_init(&t);
    char key[32];
    const int stable = 3000;
    for (int i = 0; i < stable; i++) {
        snprintf(key, sizeof key, "s%d", i);
        ktable_insert(&t, mk(key), key_hash(key, strlen(key)));
    }
    int *seen = calloc(100000, sizeof(int));
    scan_ctx ctx = {seen};
    uint64_t pos = 0;
    int step = 0, extra = 0;
    while (pos < (1ULL << 32)) {
        uint64_t b = (pos * t.size) >> 32;
        uint64_t next = ktable_hashpos_of_bucket(&t, b + 7);
        if (next <= pos) next = pos + 1;
        ktable_scan_range(&t, pos, next, mark, &ctx);
        pos = next;
        /* churn: add keys (growing) on even steps, remove them on odd ones */
        if (step++ % 2 == 0 && extra < 20000) {
            for (int j = 0; j < 50; j++, extra++) {
                snprintf(key, sizeof key, "x%d", 50000 + extra);
                ktable_insert(&t, mk(key), key_hash(key, strlen(key)));
            }
        }
    }
    for (int i = 0; i < stable; i++) cr_assert_eq(seen[i], 1, "stable key s%d seen %d times", i, seen[i]);
    free(seen);
    ktable_clear(&t);
}

Test(ktable, random_returns_member) {
    ktable t;
    ktable_init(&t);
    cr_assert_null(ktable_random(&t, 12345, false));
    ktable_insert(&t, mk("only"), key_hash("only", 4));
    cr_assert_null(ktable_random(&t, 12345, true), "no entry with an expire time");
    for (uint64_t r = 0; r < 100; r++) {
        entry *e = ktable_random(&t, r * 7919, false);
        cr_assert_not_null(e);
        size_t len;
        cr_assert_eq(memcmp(entry_key(e, &len), "only", 4), 0);
    }
    ktable_clear(&t);
}

/* Table of keys r:0 .. r:n-1; every `vol_every`-th has an expire time. */
static void fill_numbered(ktable *t, int from, int to, int vol_every) {
    char key[32];
    for (int i = from; i < to; i++) {
        snprintf(key, sizeof key, "r:%d", i);
        long long expire = vol_every && i % vol_every == 0 ? 1000000 + i : -1;
        ktable_insert(t, entry_new_string(key, strlen(key), "v", 1, expire, false), key_hash(key, strlen(key)));
    }
}

static int number_of(const entry *e) {
    size_t len;
    const char *k = entry_key(e, &len);
    cr_assert(len > 2 && memcmp(k, "r:", 2) == 0);
    int v = 0;
    for (size_t i = 2; i < len; i++) v = v * 10 + (k[i] - '0');
    return v;
}

/* Chi-square of `draws` ktable_random picks over the keys r:base.. r:base+n-1
 * (with_expire: over those with an expire time, numbered i / vol_every). */
static double random_chisq(const ktable *t, int base, int n, bool with_expire, int vol_every, int draws) {
    static uint64_t st = 12345;
    unsigned *counts = calloc((size_t)n, sizeof *counts);
    for (int i = 0; i < draws; i++) {
        entry *e = ktable_random(t, rng_next(&st), with_expire);
        cr_assert_not_null(e);
        int k = number_of(e) - base;
        if (with_expire) {
            cr_assert(entry_has_expire(e) && k % vol_every == 0);
            k /= vol_every;
        }
        cr_assert(k >= 0 && k < n, "picked r:%d", number_of(e));
        counts[k]++;
    }
    double x = stat_chisq(counts, (size_t)n);
    free(counts);
    return x;
}

Test(ktable, random_is_uniform) {
    ktable t;
    ktable_init(&t);
    fill_numbered(&t, 0, 1000, 0);
    double x = random_chisq(&t, 0, 1000, false, 0, 20000);
    cr_assert(x < stat_chisq_bound(999), "chi-square %.1f (bound %.1f)", x, stat_chisq_bound(999));
    ktable_clear(&t);
}

Test(ktable, random_is_uniform_in_a_thinned_table) {
    /* Tables shrink only when emptied: 1000 keys left in a table sized for
     * 5000 (load ~0.2, so many picks take the exact walk). */
    ktable t;
    ktable_init(&t);
    fill_numbered(&t, 0, 5000, 0);
    char key[32];
    for (int i = 0; i < 4000; i++) {
        snprintf(key, sizeof key, "r:%d", i);
        long pos = find(&t, key);
        entry *e = ktable_at(&t, pos);
        ktable_remove_at(&t, pos);
        entry_free(e);
    }
    double x = random_chisq(&t, 4000, 1000, false, 0, 20000);
    cr_assert(x < stat_chisq_bound(999), "chi-square %.1f (bound %.1f)", x, stat_chisq_bound(999));
    ktable_clear(&t);
}

Test(ktable, random_with_expire_is_uniform_over_volatile_entries) {
    ktable t;
    ktable_init(&t);
    fill_numbered(&t, 0, 2000, 10); /* 200 volatile among 2000 */
    cr_assert_eq(ktable_expires(&t), 200);
    double x = random_chisq(&t, 0, 200, true, 10, 4000);
    cr_assert(x < stat_chisq_bound(199), "chi-square %.1f (bound %.1f)", x, stat_chisq_bound(199));
    ktable_clear(&t);
}

Test(ktable, count_bound_covers_every_table) {
    ktable a, b;
    ktable_init(&a);
    ktable_init(&b);
    fill_numbered(&a, 0, 300, 3);
    cr_assert_gt(ktable_count_bound(false), 300);
    cr_assert_gt(ktable_count_bound(true), 100);
    ktable_count_bound_reset(false, 0);
    ktable_count_bound_reset(true, 0);
    cr_assert_eq(ktable_count_bound(false), 1, "reset: nothing counted yet");
    fill_numbered(&b, 1000, 1017, 0); /* reaches 16: raises to 32 */
    cr_assert_eq(ktable_count_bound(false), 32);
    ktable_count_bound_note(false, ktable_count(&a));
    cr_assert_eq(ktable_count_bound(false), 512, "300 -> the power of two above");
    ktable_add_expires(&b, 1);
    cr_assert_eq(ktable_count_bound(true), 2);
    ktable_clear(&a);
    ktable_clear(&b);
}

Test(entry, layout_roundtrip) {
    entry *e = entry_new_string("key", 3, "hello", 5, 1234567890123LL, false);
    size_t len;
    cr_assert_eq(entry_type(e), OBJ_STRING);
    cr_assert_eq(entry_encoding(e), ENC_EMBSTR);
    cr_assert_eq(entry_expire(e), 1234567890123LL);
    cr_assert_eq(memcmp(entry_key(e, &len), "key", 3), 0);
    cr_assert_eq(len, 3);
    const char *v = entry_str(e, &len);
    cr_assert_eq(len, 5);
    cr_assert_eq(memcmp(v, "hello", 5), 0);
    entry *n = entry_with_expire(e, -1);
    cr_assert_not(entry_has_expire(n));
    cr_assert_eq(memcmp(entry_str(n, &len), "hello", 5), 0);
    entry_free(e);
    entry_free(n);
    entry *i = entry_new_string("k", 1, "12345", 5, -1, false);
    cr_assert_eq(entry_encoding(i), ENC_INT);
    cr_assert_eq(entry_int(i), 12345);
    entry_free(i);
    char big[100];
    memset(big, 'x', sizeof big);
    entry *r = entry_new_string("k", 1, big, sizeof big, -1, false);
    cr_assert_eq(entry_encoding(r), ENC_RAW);
    entry_free(r);
}

Test(entry, compact_size) {
    /* 10-byte key, 100-byte value: header 5 + 1 + 10 + 1 + 100 = 117 bytes */
    char val[100];
    memset(val, 'v', sizeof val);
    entry *e = entry_new_string("key:123456", 10, val, sizeof val, -1, false);
    cr_assert_leq(entry_mem_usage(e), 128, "entry uses %zu bytes", entry_mem_usage(e));
    entry_free(e);
}

typedef struct {
    char (*keys)[32];
    int n;
} collect_ctx;

static void collect(entry *e, void *arg) {
    collect_ctx *c = arg;
    size_t len;
    const char *k = entry_key(e, &len);
    memcpy(c->keys[c->n], k, len);
    c->keys[c->n][len] = '\0';
    c->n++;
}

static uint32_t longest_run(const ktable *t) {
    uint32_t best = 0, run = 0;
    for (uint32_t i = 0; i < 2 * t->size; i++) {
        if (t->buckets[i % t->size]) {
            if (++run > best) best = run;
            if (run >= t->size) break;
        } else {
            run = 0;
        }
    }
    return best;
}

/* Deleting most keys in hash order (what SCAN + DEL or a batch of keys
 * expiring together does) must not pile the survivors into one long probe
 * run (it made each later delete walk the run: quadratic). */
Test(ktable, hash_ordered_deletes_keep_runs_short) {
    ktable t;
    ktable_init(&t);
    const int n = 50000;
    char key[32];
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "k%d", i);
        ktable_insert(&t, mk(key), key_hash(key, strlen(key)));
    }
    collect_ctx c = {calloc((size_t)n, 32), 0};
    ktable_scan_range(&t, 0, 1ULL << 32, collect, &c); /* hash order */
    cr_assert_eq(c.n, n);
    for (int i = 0; i < n * 95 / 100; i++) {
        long pos = find(&t, c.keys[i]);
        cr_assert_geq(pos, 0);
        entry *e = ktable_at(&t, pos);
        ktable_remove_at(&t, pos);
        entry_free(e);
    }
    uint32_t run = longest_run(&t);
    cr_assert_lt(run, 200, "longest probe run %u after hash-ordered deletes", run);
    for (int i = n * 95 / 100; i < n; i++) cr_assert_geq(find(&t, c.keys[i]), 0);
    free(c.keys);
    ktable_clear(&t);
}

Test(ktable, sample_neighbours_and_volatile_filter) {
    ktable t;
    ktable_init(&t);
    entry *out[8];
    cr_assert_eq(ktable_sample(&t, 1, false, out, 8), 0, "empty table");
    char key[32];
    const int n = 50;
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "s:%d", i);
        long long expire = i % 10 == 0 ? 1000000 + i : -1; /* 5 volatile keys */
        ktable_insert(&t, entry_new_string(key, strlen(key), "v", 1, expire, false), key_hash(key, strlen(key)));
    }
    for (uint64_t r = 0; r < 200; r++) {
        int got = ktable_sample(&t, r * 2654435761u, false, out, 8);
        cr_assert_eq(got, 8, "a table of %d keys yields a full sample", n);
        for (int i = 0; i < got; i++)
            for (int j = i + 1; j < got; j++) cr_assert_neq(out[i], out[j], "no entry twice in one sample");
        got = ktable_sample(&t, r * 2654435761u, true, out, 8);
        cr_assert_eq(got, 5, "every volatile key, wherever the start bucket is");
        for (int i = 0; i < got; i++) cr_assert(entry_has_expire(out[i]));
    }
    cr_assert_eq(ktable_sample(&t, 7, false, out, 0), 0);
    ktable_clear(&t);
}

/* Inserting keys in hash order (a slot imported key by key from a source
 * that walks its table in hash order: GETKEYSINSLOT + MIGRATE, SCAN +
 * MIGRATE) puts every key so far in the low part of the hash space while
 * the table is sized for the count so far: without a remedy they pile into
 * one run as long as the table, and each insert walks it (quadratic). The
 * table must keep probe runs short however the keys arrive. */
Test(ktable, hash_ordered_inserts_keep_runs_short) {
    ktable src, t;
    ktable_init(&src);
    ktable_init(&t);
    const int n = 200000;
    char key[32];
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "k%d", i);
        ktable_insert(&src, mk(key), key_hash(key, strlen(key)));
    }
    collect_ctx c = {calloc((size_t)n, 32), 0};
    ktable_scan_range(&src, 0, 1ULL << 32, collect, &c); /* hash order */
    cr_assert_eq(c.n, n);
    /* Control: in random order the table grew by load alone. */
    cr_assert_leq((double)src.size, n / 0.92 * 1.25 + 16, "size %u for %d keys in random order", src.size, n);
    ktable_clear(&src);
    uint32_t worst = 0;
    for (int i = 0; i < n; i++) {
        ktable_insert(&t, mk(c.keys[i]), key_hash(c.keys[i], strlen(c.keys[i])));
        if (i % 5000 == 4999) {
            uint32_t run = longest_run(&t);
            if (run > worst) worst = run;
        }
    }
    cr_log_info("hash-ordered inserts: longest run %u, %u buckets for %d keys", worst, t.size, n);
    cr_assert_lt(worst, 2000, "longest probe run %u while inserting in hash order", worst);
    for (int i = 0; i < n; i++) cr_assert_geq(find(&t, c.keys[i]), 0);
    /* A table no bigger than twice what random order gives. */
    cr_assert_lt((double)t.size, 2.0 * n / 0.92 * 1.25, "size %u for %d keys", t.size, n);
    free(c.keys);
    ktable_clear(&t);
}

/* The long-run rule must not fire on keys in random order: a big table at
 * the highest load has runs over 1024 buckets now and then, and a table
 * that doubled for that would keep the room (it shrinks only by emptying). */
Test(ktable, random_inserts_grow_by_load_only) {
    ktable t;
    ktable_init(&t);
    const int n = 1500000;
    char key[32];
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "r%d", i);
        ktable_insert(&t, mk(key), key_hash(key, strlen(key)));
    }
    cr_assert_leq((double)t.size, n / 0.92 * 1.25 + 16, "size %u for %d keys in random order", t.size, n);
    ktable_clear(&t);
}
