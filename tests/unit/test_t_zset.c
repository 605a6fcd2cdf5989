/*
 * test_t_zset.c - the sorted set structures: the skiplist (insert, delete,
 * score update, ranks, rank ranges, range searches, spans checked after
 * every change), range-argument parsing with every score and lex bound
 * form, lex ranges on both encodings, listpack -> skiplist conversion at
 * the entry and member-length thresholds, and property tests of random
 * operations against a sorted array model. (RDB/DUMP encoding:
 * tests/unit/test_rdb_codec.c.)
 */
#include "config.h"
#include "entry.h"
#include "skiplist.h"
#include "t_zset.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void setup(void) { config_init_defaults(); }

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* ------------------------------------------------------------ model */

typedef struct {
    char m[32];
    size_t len;
    double s;
} melem;

typedef struct {
    melem *v;
    int n, cap;
} model;

static int melem_cmp(const void *a, const void *b) {
    const melem *x = a, *y = b;
    if (x->s != y->s) return x->s < y->s ? -1 : 1;
    return zsl_cmp_ele(x->m, x->len, y->m, y->len);
}

static int model_find(const model *md, const char *m, size_t len) {
    for (int i = 0; i < md->n; i++)
        if (md->v[i].len == len && memcmp(md->v[i].m, m, len) == 0) return i;
    return -1;
}

static void model_sort(model *md) { qsort(md->v, (size_t)md->n, sizeof(melem), melem_cmp); }

static void model_put(model *md, const char *m, size_t len, double s) {
    int i = model_find(md, m, len);
    if (i < 0) {
        if (md->n == md->cap) {
            md->cap = md->cap ? md->cap * 2 : 64;
            md->v = realloc(md->v, (size_t)md->cap * sizeof(melem));
        }
        i = md->n++;
        memcpy(md->v[i].m, m, len);
        md->v[i].len = len;
    }
    md->v[i].s = s;
    model_sort(md);
}

static void model_del_at(model *md, int i) {
    memmove(&md->v[i], &md->v[i + 1], (size_t)(md->n - i - 1) * sizeof(melem));
    md->n--;
}

/* Redis's zsetAdd on the model; returns the out flags, -1 for NaN. */
static int model_add(model *md, double score, const char *m, size_t len, int in, double *newscore) {
    int i = model_find(md, m, len);
    if (i >= 0) {
        double cur = md->v[i].s;
        if (in & ZADD_IN_NX) return ZADD_OUT_NOP;
        if (in & ZADD_IN_INCR) {
            score += cur;
            if (isnan(score)) return -1;
        }
        if (((in & ZADD_IN_LT) && score >= cur) || ((in & ZADD_IN_GT) && score <= cur)) return ZADD_OUT_NOP;
        *newscore = score;
        if (score != cur) {
            model_put(md, m, len, score);
            return ZADD_OUT_UPDATED;
        }
        return 0;
    }
    if (in & ZADD_IN_XX) return ZADD_OUT_NOP;
    model_put(md, m, len, score);
    *newscore = score;
    return ZADD_OUT_ADDED;
}

/* The whole set equals the model, in order, and its structure is sound. */
static void assert_same(const zset *z, const model *md) {
    cr_assert(zset_check(z), "structure check");
    cr_assert_eq(zset_len(z), (unsigned long)md->n);
    zset_iter it;
    const char *m;
    size_t len;
    double s;
    int i = 0;
    zset_iter_init(&it, z);
    while (zset_iter_next(&it, &m, &len, &s)) {
        cr_assert_lt(i, md->n);
        cr_assert_eq(len, md->v[i].len, "member %d length", i);
        cr_assert_eq(memcmp(m, md->v[i].m, len), 0, "member %d", i);
        /* listpack stores -0 as 0: compare values, not bits */
        cr_assert(s == md->v[i].s, "score of member %d", i);
        i++;
    }
    cr_assert_eq(i, md->n);
}

/* ------------------------------------------------------------ skiplist */

typedef struct {
    char m[12]; /* first: a node's member pointer is the slot's address */
    size_t len;
    double s;
    bool in;
} slot;

/* The skiplist asks the owner of a member for its length (zsl_len_fn). */
static size_t slot_len(const char *m) { return ((const slot *)(const void *)m)->len; }

static int slot_cmp(const void *a, const void *b) {
    const slot *x = *(slot *const *)a, *y = *(slot *const *)b;
    if (x->s != y->s) return x->s < y->s ? -1 : 1;
    return zsl_cmp_ele(x->m, x->len, y->m, y->len);
}

/* Sorted pointers to the members present. */
static int sorted_present(slot *pool, int n, slot **out) {
    int k = 0;
    for (int i = 0; i < n; i++)
        if (pool[i].in) out[k++] = &pool[i];
    qsort(out, (size_t)k, sizeof(slot *), slot_cmp);
    return k;
}

Test(skiplist, insert_delete_rank_range_vs_model) {
    enum { N = 600 };
    static slot pool[N];
    static slot *order[N];
    for (int i = 0; i < N; i++) {
        pool[i].len = (size_t)snprintf(pool[i].m, sizeof pool[i].m, "m%03d-%d", (int)(rnd() % 1000), i);
        pool[i].s = (double)(rnd() % 50); /* many ties: order by member */
        pool[i].in = false;
    }
    zsl *l = zsl_new(slot_len);
    for (int round = 0; round < 4000; round++) {
        slot *p = &pool[rnd() % N];
        uint64_t op = rnd() % 10;
        if (!p->in) {
            zsl_node *x = zsl_insert(l, p->s, p->m, p->len);
            cr_assert_eq(x->ele, p->m);
            p->in = true;
        } else if (op < 4) {
            cr_assert(zsl_delete(l, p->s, p->m, p->len));
            cr_assert(!zsl_delete(l, p->s, p->m, p->len), "second delete finds nothing");
            p->in = false;
        } else if (op < 7) {
            double ns = (double)(rnd() % 50);
            zsl_node *x = zsl_update_score(l, p->s, p->m, p->len, ns);
            cr_assert(x && x->score == ns);
            p->s = ns;
        }
        if (round % 97 == 0) cr_assert(zsl_check(l), "spans and links at round %d", round);
    }
    cr_assert(zsl_check(l));
    int k = sorted_present(pool, N, order);
    cr_assert_eq(zsl_length(l), (unsigned long)k);
    /* ranks both ways */
    for (int i = 0; i < k; i++) {
        cr_assert_eq(zsl_rank(l, order[i]->s, order[i]->m, order[i]->len), (unsigned long)i + 1);
        zsl_node *x = zsl_at_rank(l, (unsigned long)i + 1);
        cr_assert(x && x->ele == order[i]->m);
    }
    cr_assert_null(zsl_at_rank(l, 0));
    cr_assert_null(zsl_at_rank(l, (unsigned long)k + 1));
    cr_assert_eq(zsl_rank(l, 1e9, "x", 1), 0);
    /* score ranges against the model, all inclusive/exclusive forms */
    for (int t = 0; t < 300; t++) {
        zrange_score r = {.min = (double)(rnd() % 55) - 2, .max = (double)(rnd() % 55) - 2,
                          .minex = rnd() & 1, .maxex = rnd() & 1};
        int first = -1, last = -1;
        for (int i = 0; i < k; i++)
            if (zrange_score_gte_min(order[i]->s, &r) && zrange_score_lte_max(order[i]->s, &r)) {
                if (first < 0) first = i;
                last = i;
            }
        unsigned long fr = 0, lr = 0;
        zsl_node *f = zsl_first_in_score(l, &r, &fr), *la = zsl_last_in_score(l, &r, &lr);
        if (first < 0) {
            cr_assert_null(f);
            cr_assert_null(la);
        } else {
            cr_assert(f && f->ele == order[first]->m && fr == (unsigned long)first + 1);
            cr_assert(la && la->ele == order[last]->m && lr == (unsigned long)last + 1);
        }
    }
    /* rank-range deletion */
    unsigned long before = zsl_length(l);
    unsigned long removed = zsl_delete_rank_range(l, 10, 19, NULL, NULL);
    cr_assert_eq(removed, 10);
    cr_assert_eq(zsl_length(l), before - 10);
    cr_assert(zsl_check(l));
    for (int i = 9; i < 19; i++) order[i]->in = false;
    k = sorted_present(pool, N, order);
    for (int i = 0; i < k; i++) cr_assert_eq(zsl_at_rank(l, (unsigned long)i + 1)->ele, order[i]->m);
    cr_assert_eq(zsl_delete_rank_range(l, 1, zsl_length(l) + 100, NULL, NULL), (unsigned long)k);
    cr_assert_eq(zsl_length(l), 0);
    cr_assert_null(zsl_first(l));
    cr_assert_null(zsl_last(l));
    cr_assert(zsl_check(l));
    zsl_free(l);
}

static size_t cstr_len(const char *m) { return strlen(m); }

Test(skiplist, backward_links_and_tail) {
    const char *m[] = {"a", "b", "c", "d", "e"};
    zsl *l = zsl_new(cstr_len);
    for (int i = 4; i >= 0; i--) zsl_insert(l, i, m[i], 1);
    int i = 4;
    for (zsl_node *x = zsl_last(l); x; x = x->backward, i--) cr_assert_eq(x->ele, m[i]);
    cr_assert_eq(i, -1);
    zsl_update_score(l, 0, "a", 1, 10); /* moves to the tail */
    cr_assert_eq(zsl_last(l)->ele, m[0]);
    cr_assert_eq(zsl_first(l)->ele, m[1]);
    zsl_update_score(l, 2, "c", 1, 2.5); /* stays: updated in place */
    cr_assert_eq(zsl_rank(l, 2.5, "c", 1), 2);
    cr_assert(zsl_check(l));
    zsl_free(l);
}

/* ------------------------------------------------------------ parsing */

static bool score_range(const char *a, const char *b, zrange_score *r) {
    return zset_parse_score_range(a, strlen(a), b, strlen(b), r);
}

Test(zset_parse, score_bounds) {
    zrange_score r;
    cr_assert(score_range("1", "(2.5", &r));
    cr_assert(r.min == 1 && !r.minex && r.max == 2.5 && r.maxex);
    cr_assert(score_range("-inf", "+inf", &r));
    cr_assert(isinf(r.min) && r.min < 0 && isinf(r.max) && r.max > 0);
    cr_assert(score_range("(-inf", "(inf", &r));
    cr_assert(r.minex && r.maxex);
    /* strtod's view, as in Redis: empty is 0, leading spaces and hex ok */
    cr_assert(score_range("", "(", &r));
    cr_assert(r.min == 0 && r.max == 0 && r.maxex);
    cr_assert(score_range(" 1", "0x10", &r));
    cr_assert(r.min == 1 && r.max == 16);
    cr_assert_not(score_range("nan", "1", &r));
    cr_assert_not(score_range("1", "(nan", &r));
    cr_assert_not(score_range("1x", "2", &r));
    cr_assert_not(score_range("1", "2 ", &r));
    cr_assert_not(score_range("[1", "2", &r));
    cr_assert(zset_parse_score_range("1\0junk", 6, "2", 1, &r), "stops at NUL like the C string");
}

static bool lex_range(const char *a, const char *b, zrange_lex *r) {
    return zset_parse_lex_range(a, strlen(a), b, strlen(b), r);
}

Test(zset_parse, lex_bounds) {
    zrange_lex r;
    cr_assert(lex_range("[a", "(b", &r));
    cr_assert(r.min.kind == ZLEX_STR && !r.min.ex && r.min.len == 1 && r.min.p[0] == 'a');
    cr_assert(r.max.kind == ZLEX_STR && r.max.ex && r.max.p[0] == 'b');
    cr_assert(lex_range("-", "+", &r));
    cr_assert(r.min.kind == ZLEX_NEG_INF && r.max.kind == ZLEX_POS_INF);
    cr_assert(lex_range("[", "(", &r));
    cr_assert(r.min.len == 0 && r.max.len == 0);
    cr_assert_not(lex_range("a", "+", &r));
    cr_assert_not(lex_range("", "+", &r));
    cr_assert_not(lex_range("-a", "+", &r));
    cr_assert_not(lex_range("-", "+b", &r));
    cr_assert_not(lex_range("{a", "+", &r));
    cr_assert(zset_parse_lex_range("+\0x", 3, "-", 1, &r), "'+' followed by NUL is '+' in Redis");
}

/* ------------------------------------------------------------ lex ranges */

static const char *lex_members[] = {"", "a", "aa", "ab", "b", "c", "d", "e", "f", "g", "zz"};
#define NLEX (sizeof lex_members / sizeof lex_members[0])

static const char *lex_bounds[] = {"-", "+", "[", "(", "[a", "(a", "[aa", "(aa", "[ab", "(ab", "[b", "(b",
                                   "[c", "(c", "[d", "(d", "[g", "(g", "[zz", "(zz", "[zzz", "(0", "[0"};
#define NBOUNDS (sizeof lex_bounds / sizeof lex_bounds[0])

/* Independent model of a bound check. */
static int model_cmp_bound(const char *m, const char *bound) {
    if (bound[0] == '-') return 1;
    if (bound[0] == '+') return -1;
    return zsl_cmp_ele(m, strlen(m), bound + 1, strlen(bound + 1));
}

static bool model_in_lex(const char *m, const char *min, const char *max) {
    int a = model_cmp_bound(m, min), b = model_cmp_bound(m, max);
    bool minex = min[0] != '[', maxex = max[0] != '[';
    return (minex ? a > 0 : a >= 0) && (maxex ? b < 0 : b <= 0);
}

static void check_lex_all_bounds(zset *z) {
    for (size_t i = 0; i < NBOUNDS; i++)
        for (size_t j = 0; j < NBOUNDS; j++) {
            zrange_lex r;
            cr_assert(lex_range(lex_bounds[i], lex_bounds[j], &r));
            int first = -1, last = -1;
            for (size_t k = 0; k < NLEX; k++)
                if (model_in_lex(lex_members[k], lex_bounds[i], lex_bounds[j])) {
                    if (first < 0) first = (int)k;
                    last = (int)k;
                }
            long lo, hi;
            bool any = zset_lex_interval(z, &r, &lo, &hi);
            if (first < 0) {
                cr_assert_not(any, "%s %s must be empty", lex_bounds[i], lex_bounds[j]);
            } else {
                cr_assert(any, "%s %s must match", lex_bounds[i], lex_bounds[j]);
                cr_assert_eq(lo, first, "%s %s first", lex_bounds[i], lex_bounds[j]);
                cr_assert_eq(hi, last, "%s %s last", lex_bounds[i], lex_bounds[j]);
            }
        }
}

Test(zset_lex, every_bound_form_both_encodings, .init = setup) {
    zset *z = zset_new();
    for (size_t k = 0; k < NLEX; k++) {
        int out;
        cr_assert(zset_add(z, 0, lex_members[k], strlen(lex_members[k]), 0, &out, NULL, NULL));
    }
    cr_assert_eq(z->enc, ENC_LISTPACK);
    check_lex_all_bounds(z);
    zset_convert(z, ENC_SKIPLIST);
    cr_assert(zset_check(z));
    check_lex_all_bounds(z);
    /* degenerate ranges */
    zrange_lex r;
    long lo, hi;
    cr_assert(lex_range("+", "-", &r));
    cr_assert_not(zset_lex_interval(z, &r, &lo, &hi));
    cr_assert(lex_range("-", "-", &r));
    cr_assert_not(zset_lex_interval(z, &r, &lo, &hi));
    cr_assert(lex_range("[c", "[c", &r));
    cr_assert(zset_lex_interval(z, &r, &lo, &hi) && lo == hi);
    cr_assert(lex_range("(c", "[c", &r));
    cr_assert_not(zset_lex_interval(z, &r, &lo, &hi));
    zset_free(z);
}

/* ------------------------------------------------------------ conversion */

Test(zset_convert, entry_and_value_thresholds, .init = setup) {
    zset_limits lim = {.max_entries = 4, .max_value = 5};
    zset *z = zset_new();
    int out;
    char m[16];
    for (int i = 0; i < 4; i++) {
        snprintf(m, sizeof m, "m%d", i);
        cr_assert(zset_add(z, i, m, strlen(m), 0, &out, NULL, &lim));
        cr_assert_eq(z->enc, ENC_LISTPACK, "at %d entries", i + 1);
    }
    /* updating an existing member never converts */
    cr_assert(zset_add(z, 10, "m0", 2, 0, &out, NULL, &lim));
    cr_assert_eq(out, ZADD_OUT_UPDATED);
    cr_assert_eq(z->enc, ENC_LISTPACK);
    cr_assert(zset_add(z, 5, "m4", 2, 0, &out, NULL, &lim));
    cr_assert_eq(z->enc, ENC_SKIPLIST, "the 5th entry converts");
    cr_assert(zset_check(z));
    /* removals never convert back */
    zset_del(z, "m4", 2);
    zset_del(z, "m3", 2);
    cr_assert_eq(z->enc, ENC_SKIPLIST);
    zset_free(z);

    z = zset_new();
    cr_assert(zset_add(z, 1, "abcde", 5, 0, &out, NULL, &lim));
    cr_assert_eq(z->enc, ENC_LISTPACK, "a member of exactly max_value bytes fits");
    cr_assert(zset_add(z, 1, "abcdef", 6, 0, &out, NULL, &lim));
    cr_assert_eq(z->enc, ENC_SKIPLIST, "a longer member converts");
    cr_assert(zset_check(z));
    /* a built set fits back into a listpack only when both limits allow */
    zset_fit_encoding(z, &lim);
    cr_assert_eq(z->enc, ENC_SKIPLIST);
    zset_del(z, "abcdef", 6);
    zset_fit_encoding(z, &lim);
    cr_assert_eq(z->enc, ENC_LISTPACK);
    cr_assert(zset_check(z));
    zset_free(z);

    /* max_entries 0: nothing fits a listpack */
    zset_limits zero = {.max_entries = 0, .max_value = 64};
    z = zset_new();
    cr_assert(zset_add(z, 1, "a", 1, 0, &out, NULL, &zero));
    cr_assert_eq(z->enc, ENC_SKIPLIST);
    zset_free(z);
}

Test(zset_convert, negative_zero_in_listpack, .init = setup) {
    zset *z = zset_new_skiplist();
    int out;
    double s;
    zset_add(z, -0.0, "a", 1, 0, &out, NULL, NULL);
    cr_assert(zset_score(z, "a", 1, &s) && signbit(s), "the skiplist keeps -0");
    zset_convert(z, ENC_LISTPACK);
    cr_assert(zset_score(z, "a", 1, &s) && s == 0 && !signbit(s), "a listpack stores 0 as Redis does");
    zset_free(z);
}

/* ------------------------------------------------------------ property test */

static void property_run(const zset_limits *lim, int rounds, int keyspace) {
    model md = {0};
    zset *z = zset_new();
    char m[32];
    for (int round = 0; round < rounds; round++) {
        size_t len = (size_t)snprintf(m, sizeof m, "k%d", (int)(rnd() % (uint64_t)keyspace));
        if (rnd() % 7 == 0) len = (size_t)snprintf(m, sizeof m, "long-member-%d", (int)(rnd() % 5));
        uint64_t op = rnd() % 100;
        if (op < 55) {
            static const int flagsets[] = {0, ZADD_IN_NX, ZADD_IN_XX, ZADD_IN_GT, ZADD_IN_LT, ZADD_IN_INCR,
                                           ZADD_IN_INCR | ZADD_IN_XX, ZADD_IN_GT | ZADD_IN_XX, ZADD_IN_INCR | ZADD_IN_LT};
            int in = flagsets[rnd() % (sizeof flagsets / sizeof flagsets[0])];
            double score = (double)((int)(rnd() % 21) - 10) / 2;
            if (rnd() % 50 == 0) score = rnd() & 1 ? INFINITY : -INFINITY;
            double ns_model = 0, ns = 0;
            int want = model_add(&md, score, m, len, in, &ns_model);
            int out;
            bool ok = zset_add(z, score, m, len, in, &out, &ns, lim);
            if (want < 0) {
                cr_assert_not(ok);
                cr_assert_eq(out, ZADD_OUT_NAN);
            } else {
                cr_assert(ok);
                cr_assert_eq(out, want, "flags for %.*s (in %d)", (int)len, m, in);
                if (!(out & ZADD_OUT_NOP)) cr_assert(ns == ns_model);
            }
        } else if (op < 75) {
            int i = model_find(&md, m, len);
            cr_assert_eq(zset_del(z, m, len), i >= 0);
            if (i >= 0) model_del_at(&md, i);
        } else if (op < 80 && md.n) {
            /* delete a random rank interval */
            long lo = (long)(rnd() % (uint64_t)md.n), hi = lo + (long)(rnd() % 4);
            if (hi >= md.n) hi = md.n - 1;
            cr_assert_eq(zset_delete_ranks(z, lo, hi), (unsigned long)(hi - lo + 1));
            for (long i = hi; i >= lo; i--) model_del_at(&md, (int)i);
        } else {
            /* read-only checks */
            int i = model_find(&md, m, len);
            double s;
            cr_assert_eq(zset_score(z, m, len, &s), i >= 0);
            if (i >= 0) {
                cr_assert(s == md.v[i].s);
                cr_assert_eq(zset_rank(z, m, len, false), i);
                cr_assert_eq(zset_rank(z, m, len, true), md.n - 1 - i);
            } else {
                cr_assert_eq(zset_rank(z, m, len, false), -1);
            }
            zrange_score r = {.min = (double)((int)(rnd() % 25) - 12) / 2,
                              .max = (double)((int)(rnd() % 25) - 12) / 2,
                              .minex = rnd() & 1, .maxex = rnd() & 1};
            int first = -1, last = -1;
            for (int k = 0; k < md.n; k++)
                if (zrange_score_gte_min(md.v[k].s, &r) && zrange_score_lte_max(md.v[k].s, &r)) {
                    if (first < 0) first = k;
                    last = k;
                }
            long lo, hi;
            bool any = zset_score_interval(z, &r, &lo, &hi);
            cr_assert_eq(any, first >= 0);
            if (any) cr_assert(lo == first && hi == last);
        }
        if (round % 50 == 0) assert_same(z, &md);
        if (lim->max_entries && (unsigned long)md.n > lim->max_entries) cr_assert_eq(z->enc, ENC_SKIPLIST);
    }
    assert_same(z, &md);
    zset_free(z);
    free(md.v);
}

Test(zset_property, random_ops_vs_sorted_array, .init = setup) {
    zset_limits small = {.max_entries = 16, .max_value = 8};
    zset_limits big = {.max_entries = 128, .max_value = 64};
    for (int run = 0; run < 6; run++) property_run(&small, 3000, 40);
    property_run(&big, 6000, 300);
}

typedef struct {
    const char **m;
    double *s;
    int n;
} visited;

static void visit_cb(const char *m, size_t len, double score, void *arg) {
    visited *v = arg;
    v->m[v->n] = m;
    v->s[v->n] = score;
    v->n++;
}

Test(zset_property, visit_both_directions_both_encodings, .init = setup) {
    zset *z = zset_new();
    char names[60][16];
    int out;
    for (int i = 0; i < 60; i++) {
        snprintf(names[i], sizeof names[i], "e%02d", i);
        zset_add(z, (double)(i / 3), names[i], strlen(names[i]), 0, &out, NULL, NULL);
    }
    const char *m[60];
    double s[60];
    for (int enc = 0; enc < 2; enc++) {
        for (int t = 0; t < 200; t++) {
            long lo = (long)(rnd() % 60), hi = (long)(rnd() % 60);
            if (lo > hi) {
                long x = lo;
                lo = hi;
                hi = x;
            }
            bool rev = rnd() & 1;
            visited v = {m, s, 0};
            zset_visit(z, lo, hi, rev, visit_cb, &v);
            cr_assert_eq(v.n, hi - lo + 1);
            for (int k = 0; k < v.n; k++) {
                long want = rev ? hi - k : lo + k;
                cr_assert_eq(memcmp(m[k], names[want], 3), 0, "rank %ld", want);
                cr_assert(s[k] == (double)(want / 3));
            }
        }
        zset_convert(z, ENC_SKIPLIST);
    }
    zset_free(z);
}

Test(zset_dup, deep_copy_both_encodings, .init = setup) {
    zset *z = zset_new();
    int out;
    zset_add(z, 1, "a", 1, 0, &out, NULL, NULL);
    zset_add(z, 2, "b", 1, 0, &out, NULL, NULL);
    for (int enc = 0; enc < 2; enc++) {
        zset *d = zset_dup(z);
        cr_assert(zset_check(d));
        cr_assert_eq(d->enc, z->enc);
        zset_add(d, 3, "c", 1, 0, &out, NULL, NULL);
        cr_assert_eq(zset_len(z), 2);
        cr_assert_eq(zset_len(d), 3);
        cr_assert_gt(zset_mem(d), 0);
        zset_free(d);
        zset_convert(z, ENC_SKIPLIST);
    }
    zset_free(z);
}
