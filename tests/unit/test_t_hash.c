/*
 * test_t_hash.c - the hash type API (server/t_hash.h): both encodings,
 * conversion at the entry-count and value-length thresholds (one-way),
 * increments, iteration order, sampling (uniform, by chi-square, in both
 * encodings, with and without repeats), scanning, duplication,
 * and a property test of random HSET/HDEL/HINCRBY against a simple model
 * across the listpack -> hashtable conversion.
 */
#include "entry.h"
#include "t_hash.h"

#include "../support/stat_check.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static const hash_limits small_limits = {.max_entries = 8, .max_value = 16};
static const hash_limits default_limits = {.max_entries = 512, .max_value = 64};

static uint64_t rng_state = 88172645463325252ULL;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static bool set(hash **h, const char *f, const char *v, const hash_limits *lim) {
    return hash_set(h, f, strlen(f), v, strlen(v), lim);
}

static void assert_value(const hash *h, const char *f, const char *want) {
    const char *v;
    size_t vlen;
    bool found = hash_get(h, f, strlen(f), &v, &vlen);
    if (!want) {
        cr_assert(!found, "field %s must be absent", f);
        return;
    }
    cr_assert(found, "field %s must be present", f);
    cr_assert_eq(vlen, strlen(want), "field %s: length %zu, want %zu", f, vlen, strlen(want));
    cr_assert_eq(memcmp(v, want, vlen), 0, "field %s: wrong value", f);
}

Test(t_hash, set_get_delete_listpack) {
    hash *h = hash_new();
    cr_assert_eq(hash_encoding(h), ENC_LISTPACK);
    cr_assert_eq(hash_len(h), 0);
    cr_assert(set(&h, "a", "1", &default_limits));
    cr_assert(set(&h, "b", "2", &default_limits));
    cr_assert(set(&h, "", "", &default_limits));
    cr_assert_not(set(&h, "a", "longer value", &default_limits), "update is not an insert");
    cr_assert_eq(hash_len(h), 3);
    assert_value(h, "a", "longer value");
    assert_value(h, "b", "2");
    assert_value(h, "", "");
    assert_value(h, "c", NULL);
    cr_assert(hash_exists(h, "b", 1));
    cr_assert_not(hash_exists(h, "bb", 2));

    /* Updates keep the insertion order. */
    hash_iter it;
    hash_iter_init(&it, h);
    const char *f, *v;
    size_t flen, vlen;
    const char *order[] = {"a", "b", ""};
    for (int i = 0; i < 3; i++) {
        cr_assert(hash_iter_next(&it, &f, &flen, &v, &vlen));
        cr_assert_eq(flen, strlen(order[i]));
        cr_assert_eq(memcmp(f, order[i], flen), 0);
    }
    cr_assert_not(hash_iter_next(&it, &f, &flen, &v, &vlen));

    cr_assert(hash_delete(&h, "b", 1));
    cr_assert_not(hash_delete(&h, "b", 1));
    cr_assert_eq(hash_len(h), 2);
    assert_value(h, "a", "longer value");
    assert_value(h, "", "");
    cr_assert_eq(hash_encoding(h), ENC_LISTPACK);
    hash_free(h);
}

Test(t_hash, converts_after_max_entries_and_never_back) {
    hash *h = hash_new();
    char f[16], v[16];
    for (int i = 0; i < 8; i++) {
        snprintf(f, sizeof f, "f%d", i);
        snprintf(v, sizeof v, "v%d", i);
        set(&h, f, v, &small_limits);
    }
    cr_assert_eq(hash_encoding(h), ENC_LISTPACK, "8 entries with max 8 stays a listpack");
    set(&h, "f0", "updated", &small_limits);
    cr_assert_eq(hash_encoding(h), ENC_LISTPACK, "an update adds no entry");
    set(&h, "f8", "v8", &small_limits);
    cr_assert_eq(hash_encoding(h), ENC_HASHTABLE, "the 9th entry converts");
    cr_assert_eq(hash_len(h), 9);
    assert_value(h, "f0", "updated");
    for (int i = 1; i <= 8; i++) {
        snprintf(f, sizeof f, "f%d", i);
        snprintf(v, sizeof v, "v%d", i);
        assert_value(h, f, v);
    }
    for (int i = 0; i < 8; i++) {
        snprintf(f, sizeof f, "f%d", i);
        cr_assert(hash_delete(&h, f, strlen(f)));
    }
    cr_assert_eq(hash_len(h), 1);
    cr_assert_eq(hash_encoding(h), ENC_HASHTABLE, "never converts back");
    hash_free(h);
}

Test(t_hash, converts_on_long_field_or_value) {
    char v16[17], v17[18];
    memset(v16, 'x', 16);
    v16[16] = 0;
    memset(v17, 'y', 17);
    v17[17] = 0;

    hash *h = hash_new();
    set(&h, "a", v16, &small_limits);
    set(&h, v16, "b", &small_limits);
    cr_assert_eq(hash_encoding(h), ENC_LISTPACK, "exactly max_value bytes fit");
    set(&h, "a", v17, &small_limits);
    cr_assert_eq(hash_encoding(h), ENC_HASHTABLE, "a longer value converts, even as an update");
    assert_value(h, "a", v17);
    assert_value(h, v16, "b");
    hash_free(h);

    h = hash_new();
    set(&h, "a", "1", &small_limits);
    set(&h, v17, "1", &small_limits);
    cr_assert_eq(hash_encoding(h), ENC_HASHTABLE, "a longer field converts");
    hash_free(h);

    /* max_entries 0: the first insert converts. */
    const hash_limits zero = {.max_entries = 0, .max_value = 64};
    h = hash_new();
    set(&h, "a", "1", &zero);
    cr_assert_eq(hash_encoding(h), ENC_HASHTABLE);
    hash_free(h);
}

Test(t_hash, incrby) {
    hash *h = hash_new();
    long long out;
    cr_assert_eq(hash_incrby(&h, "n", 1, 5, &out, &default_limits), HASH_OK);
    cr_assert_eq(out, 5);
    cr_assert_eq(hash_incrby(&h, "n", 1, -7, &out, &default_limits), HASH_OK);
    cr_assert_eq(out, -2);
    assert_value(h, "n", "-2");

    set(&h, "s", "abc", &default_limits);
    set(&h, "z", "01", &default_limits);
    set(&h, "max", "9223372036854775807", &default_limits);
    set(&h, "min", "-9223372036854775808", &default_limits);
    cr_assert_eq(hash_incrby(&h, "s", 1, 1, &out, &default_limits), HASH_ERR_NOT_INT);
    cr_assert_eq(hash_incrby(&h, "z", 1, 1, &out, &default_limits), HASH_ERR_NOT_INT);
    cr_assert_eq(hash_incrby(&h, "max", 3, 1, &out, &default_limits), HASH_ERR_OVERFLOW);
    cr_assert_eq(hash_incrby(&h, "min", 3, -1, &out, &default_limits), HASH_ERR_OVERFLOW);
    cr_assert_eq(hash_incrby(&h, "max", 3, -1, &out, &default_limits), HASH_OK);
    cr_assert_eq(out, 9223372036854775806LL);
    assert_value(h, "s", "abc");
    assert_value(h, "min", "-9223372036854775808");

    char buf[HASH_LD_BUF];
    size_t len;
    cr_assert_eq(hash_incrbyfloat(&h, "f", 1, 10.5L, buf, &len, &default_limits), HASH_OK);
    cr_assert_eq(hash_incrbyfloat(&h, "f", 1, 0.1L, buf, &len, &default_limits), HASH_OK);
    cr_assert_eq(len, 4);
    cr_assert_eq(memcmp(buf, "10.6", 4), 0);
    assert_value(h, "f", "10.6");
    cr_assert_eq(hash_incrbyfloat(&h, "n", 1, 2.0L, buf, &len, &default_limits), HASH_OK);
    assert_value(h, "n", "0");
    cr_assert_eq(hash_incrbyfloat(&h, "s", 1, 1.0L, buf, &len, &default_limits), HASH_ERR_NOT_FLOAT);
    set(&h, "huge", "1e4932", &default_limits);
    cr_assert_eq(hash_incrbyfloat(&h, "huge", 4, 1e4932L, buf, &len, &default_limits), HASH_ERR_NAN);
    assert_value(h, "huge", "1e4932");

    /* An increment whose result is longer than max_value converts. */
    hash *g = hash_new();
    cr_assert_eq(hash_incrbyfloat(&g, "x", 1, 1e30L, buf, &len, &small_limits), HASH_OK);
    cr_assert_eq(hash_encoding(g), ENC_HASHTABLE);
    hash_free(g);
    hash_free(h);
}

/* Collect visited fields into a 0/1 table indexed by the number in "f<n>". */
typedef struct {
    int seen[2048];
    int calls;
    int dups;
} collect;

static bool collect_fn(const char *f, size_t flen, const char *v, size_t vlen, void *arg) {
    collect *c = arg;
    char buf[32];
    cr_assert_lt(flen, sizeof buf);
    memcpy(buf, f, flen);
    buf[flen] = 0;
    int n = atoi(buf + 1);
    cr_assert(n >= 0 && n < 2048);
    char want[32];
    snprintf(want, sizeof want, "v%d", n);
    cr_assert_eq(vlen, strlen(want));
    cr_assert_eq(memcmp(v, want, vlen), 0, "value must belong to its field");
    if (c->seen[n]) c->dups++;
    c->seen[n]++;
    c->calls++;
    return true;
}

static hash *make_hash(int n, const hash_limits *lim) {
    hash *h = hash_new();
    char f[16], v[16];
    for (int i = 0; i < n; i++) {
        snprintf(f, sizeof f, "f%d", i);
        snprintf(v, sizeof v, "v%d", i);
        set(&h, f, v, lim);
    }
    return h;
}

static void check_sampling(hash *h, int size) {
    const uint64_t counts[] = {1, 2, 3, (uint64_t)size / 4, (uint64_t)size / 3 + 1, (uint64_t)size - 1,
                               (uint64_t)size, (uint64_t)size + 5};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        uint64_t count = counts[i];
        if (!count) continue;
        collect c = {0};
        hash_random_fields(h, count, true, rnd, collect_fn, &c);
        cr_assert_eq((uint64_t)c.calls, count < (uint64_t)size ? count : (uint64_t)size, "distinct count %llu",
                     (unsigned long long)count);
        cr_assert_eq(c.dups, 0, "distinct sampling repeated a field (count %llu)", (unsigned long long)count);

        collect r = {0};
        hash_random_fields(h, count * 3, false, rnd, collect_fn, &r);
        cr_assert_eq((uint64_t)r.calls, count * 3);
    }
    /* Repeated draws reach every field. */
    collect all = {0};
    hash_random_fields(h, (uint64_t)size * 40, false, rnd, collect_fn, &all);
    for (int i = 0; i < size; i++) cr_assert(all.seen[i] > 0, "field f%d never drawn", i);
}

Test(t_hash, random_fields_both_encodings) {
    hash *lp = make_hash(40, &default_limits);
    cr_assert_eq(hash_encoding(lp), ENC_LISTPACK);
    check_sampling(lp, 40);

    /* Distinct listpack samples keep the listpack order. */
    int last = -1;
    for (int round = 0; round < 20; round++) {
        collect c = {0};
        hash_random_fields(lp, 10, true, rnd, collect_fn, &c);
        last = -1;
        for (int i = 0; i < 40; i++)
            if (c.seen[i]) {
                cr_assert_gt(i, last);
                last = i;
            }
    }
    hash_free(lp);

    hash *ht = make_hash(600, &default_limits);
    cr_assert_eq(hash_encoding(ht), ENC_HASHTABLE);
    check_sampling(ht, 600);
    hash_free(ht);

    hash *empty = hash_new();
    collect c = {0};
    hash_random_fields(empty, 5, false, rnd, collect_fn, &c);
    cr_assert_eq(c.calls, 0);
    hash_free(empty);
}

/* Chi-square of the fields drawn by `calls` hash_random_fields calls of
 * `count` fields each over a hash of `size` fields. */
static double sampling_chisq(const hash *h, int size, int calls, uint64_t count, bool distinct) {
    collect *c = calloc(1, sizeof *c);
    for (int i = 0; i < calls; i++) hash_random_fields(h, count, distinct, rnd, collect_fn, c);
    cr_assert_eq((uint64_t)c->calls, (uint64_t)calls * count);
    unsigned counts[2048];
    for (int i = 0; i < size; i++) counts[i] = (unsigned)c->seen[i];
    free(c);
    return stat_chisq(counts, (size_t)size);
}

Test(t_hash, random_fields_are_uniform_both_encodings) {
    static const hash_limits lp_limits = {.max_entries = 128, .max_value = 64};
    struct {
        int size;
        const hash_limits *lim;
        int enc;
    } cases[] = {{1000, &default_limits, ENC_HASHTABLE}, {100, &lp_limits, ENC_LISTPACK}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hash *h = make_hash(cases[i].size, cases[i].lim);
        cr_assert_eq(hash_encoding(h), cases[i].enc);
        int size = cases[i].size, draws = size * 20;
        double bound = stat_chisq_bound((size_t)size - 1);
        double x = sampling_chisq(h, size, 1, (uint64_t)draws, false);
        cr_assert(x < bound, "%d fields, repeats allowed: chi-square %.1f (bound %.1f)", size, x, bound);
        x = sampling_chisq(h, size, draws / 10, 10, true);
        cr_assert(x < bound, "%d fields, 10 distinct per call: chi-square %.1f (bound %.1f)", size, x, bound);
        hash_free(h);
    }
}

Test(t_hash, scan_listpack_and_hashtable) {
    hash *lp = make_hash(20, &default_limits);
    collect c = {0};
    cr_assert_eq(hash_scan(lp, 0, collect_fn, &c), 0, "a listpack scan ends at once");
    cr_assert_eq(c.calls, 20);
    hash_free(lp);

    /* A full scan of a hashtable returns every field present throughout,
     * even when the table grows between calls. */
    hash *ht = make_hash(700, &default_limits);
    collect s = {0};
    uint64_t cursor = 0;
    int steps = 0;
    char f[16], v[16];
    do {
        cursor = hash_scan(ht, cursor, collect_fn, &s);
        if (steps++ == 50)
            for (int i = 700; i < 2000; i++) {
                snprintf(f, sizeof f, "f%d", i);
                snprintf(v, sizeof v, "v%d", i);
                set(&ht, f, v, &default_limits);
            }
    } while (cursor);
    for (int i = 0; i < 700; i++) cr_assert(s.seen[i] > 0, "f%d missed by the scan", i);
    hash_free(ht);
}

static void assert_same(const hash *a, const hash *b) {
    cr_assert_eq(hash_len(a), hash_len(b));
    hash_iter it;
    hash_iter_init(&it, a);
    const char *f, *v, *w;
    size_t flen, vlen, wlen;
    while (hash_iter_next(&it, &f, &flen, &v, &vlen)) {
        cr_assert(hash_get(b, f, flen, &w, &wlen));
        cr_assert_eq(vlen, wlen);
        cr_assert_eq(memcmp(v, w, vlen), 0);
    }
}

Test(t_hash, dup) {
    hash *lp = make_hash(10, &default_limits);
    hash *ht = make_hash(600, &default_limits);
    hash *d = hash_dup(ht);
    cr_assert_eq(hash_encoding(d), ENC_HASHTABLE);
    assert_same(ht, d);
    set(&d, "f0", "changed", &default_limits);
    assert_value(ht, "f0", "v0");
    cr_assert_gt(hash_mem(d), 600 * 16);
    hash_free(d);
    d = hash_dup(lp);
    cr_assert_eq(hash_encoding(d), ENC_LISTPACK);
    assert_same(lp, d);
    hash_free(d);
    hash_free(lp);
    hash_free(ht);
}

/* ---------------------------------------------------------- property test */

#define MODEL_FIELDS 48

typedef struct {
    char field[MODEL_FIELDS][40];
    char value[MODEL_FIELDS][40];
    bool present[MODEL_FIELDS];
    int count;
    bool converted; /* Redis's rule: a long string written, or count > max */
} model;

static void model_write(model *m, int i, const char *v, const hash_limits *lim) {
    if (strlen(m->field[i]) > (size_t)lim->max_value || strlen(v) > (size_t)lim->max_value) m->converted = true;
    if (!m->present[i]) {
        m->present[i] = true;
        m->count++;
        if (m->count > lim->max_entries) m->converted = true;
    }
    snprintf(m->value[i], sizeof m->value[i], "%s", v);
}

static void model_check(const model *m, const hash *h) {
    cr_assert_eq(hash_len(h), (uint64_t)m->count);
    cr_assert_eq(hash_encoding(h), m->converted ? ENC_HASHTABLE : ENC_LISTPACK);
    for (int i = 0; i < MODEL_FIELDS; i++) assert_value(h, m->field[i], m->present[i] ? m->value[i] : NULL);
    int n = 0;
    hash_iter it;
    hash_iter_init(&it, h);
    const char *f, *v;
    size_t flen, vlen;
    while (hash_iter_next(&it, &f, &flen, &v, &vlen)) n++;
    cr_assert_eq(n, m->count);
}

Test(t_hash, property_random_ops_match_model) {
    int converted_runs = 0, incr_ok = 0, incr_err = 0;
    for (int run = 0; run < 40; run++) {
        /* Even runs: small thresholds, converting along the way; odd runs:
         * thresholds above anything the run writes (stays a listpack). */
        hash_limits lim = {.max_entries = 4 + (long long)(rnd() % 24), .max_value = 6 + (long long)(rnd() % 12)};
        if (run % 2) lim = (hash_limits){.max_entries = MODEL_FIELDS, .max_value = 40};
        model m = {0};
        for (int i = 0; i < MODEL_FIELDS; i++) {
            /* Mostly short fields, a few longer than any max_value here. */
            if (i % 16 == 15)
                snprintf(m.field[i], sizeof m.field[i], "a-rather-long-field-name-%d", i);
            else
                snprintf(m.field[i], sizeof m.field[i], "f%d", i);
        }
        hash *h = hash_new();
        for (int op = 0; op < 400; op++) {
            /* Fields drawn from a window that widens, so the hash grows
             * past max_entries in most runs. */
            int window = 4 + op / 8 < MODEL_FIELDS ? 4 + op / 8 : MODEL_FIELDS;
            int i = (int)(rnd() % (uint64_t)window);
            const char *f = m.field[i];
            switch (rnd() % 4) {
            case 0:
            case 1: {
                /* Letters, or digits (some not canonical: "007", "-0"). */
                static const char digits[] = "-0123456789";
                bool numeric = rnd() % 2;
                char v[40];
                int len = (int)(rnd() % (numeric ? 5 : 20));
                for (int k = 0; k < len; k++)
                    v[k] = numeric ? digits[(k ? 1 : 0) + rnd() % (k ? 10 : 11)] : (char)('a' + rnd() % 26);
                v[len] = 0;
                bool added = hash_set(&h, f, strlen(f), v, (size_t)len, &lim);
                cr_assert_eq(added, !m.present[i]);
                model_write(&m, i, v, &lim);
                break;
            }
            case 2: {
                bool removed = hash_delete(&h, f, strlen(f));
                cr_assert_eq(removed, m.present[i]);
                if (m.present[i]) {
                    m.present[i] = false;
                    m.count--;
                }
                break;
            }
            case 3: {
                long long incr = (long long)(rnd() % 2001) - 1000, out;
                int rc = hash_incrby(&h, f, strlen(f), incr, &out, &lim);
                /* Canonical decimal (Redis's string2ll): prints back the same. */
                long long cur = m.present[i] ? strtoll(m.value[i], NULL, 10) : 0;
                char canon[40];
                snprintf(canon, sizeof canon, "%lld", cur);
                bool is_int = !m.present[i] || strcmp(canon, m.value[i]) == 0;
                if (!is_int) {
                    cr_assert_eq(rc, HASH_ERR_NOT_INT, "field %s value '%s'", f, m.value[i]);
                    incr_err++;
                    break;
                }
                incr_ok++;
                cr_assert_eq(rc, HASH_OK, "field %s value '%s'", f, m.value[i]);
                cr_assert_eq(out, cur + incr);
                char v[40];
                snprintf(v, sizeof v, "%lld", cur + incr);
                model_write(&m, i, v, &lim);
                break;
            }
            }
            model_check(&m, h);
        }
        converted_runs += m.converted;
        hash_free(h);
    }
    /* The runs must exercise both encodings and both increment outcomes. */
    cr_assert(converted_runs > 0 && converted_runs < 40, "%d of 40 runs converted", converted_runs);
    cr_assert(incr_ok > 0 && incr_err > 0);
}
