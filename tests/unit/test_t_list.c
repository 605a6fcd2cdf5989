/*
 * test_t_list.c - the list value (server/quicklist.c): push, pop, index,
 * insert, delete and range across node boundaries at several fills, node
 * invariants after every change, a property test of random operations
 * against a plain array model. (RDB/DUMP encoding:
 * tests/unit/test_rdb_codec.c.)
 */
#include "quicklist.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ helpers */

static const size_t levels[] = {4096, 8192, 16384, 32768, 65536};

/* Structural invariants: links, counts, no empty node, node bounds. */
static void check_invariants(const quicklist *ql) {
    size_t count = 0, nodes = 0;
    const ql_node *prev = NULL;
    for (const ql_node *n = ql->head; n; n = n->next) {
        cr_assert_eq(n->prev, prev, "prev link");
        uint32_t c = lp_count(n->lp);
        cr_assert_gt(c, 0, "no empty node");
        if (c > 1) {
            if (ql->fill < 0) {
                cr_assert_leq(lp_bytes(n->lp), levels[-ql->fill - 1], "node within its size level");
            } else {
                cr_assert_leq(lp_bytes(n->lp), QL_SIZE_SAFETY_LIMIT, "node within the safety limit");
                cr_assert_leq(c, (uint32_t)ql->fill, "node within its count");
            }
        }
        count += c;
        nodes++;
        prev = n;
    }
    cr_assert_eq(ql->tail, prev, "tail");
    if (ql->toffs) { /* the tail offset cache matches the tail node */
        cr_assert_not_null(ql->tail);
        cr_assert_eq(ql->tn, lp_count(ql->tail->lp), "tail cache length");
        size_t off = lp_first(ql->tail->lp);
        for (uint32_t i = 0; i < ql->tn; i++) {
            cr_assert_eq(ql->toffs[i], off, "tail cache offset %u", i);
            const char *p;
            size_t len;
            off = lp_get(ql->tail->lp, off, &p, &len);
        }
    }
    cr_assert_eq(count, ql->count, "element count");
    cr_assert_eq(nodes, ql->nodes, "node count");
}

/* Model: an array of malloc'd strings. */
typedef struct {
    char **v;
    size_t *len;
    size_t n, cap;
} model;

static void m_insert(model *m, size_t at, const char *p, size_t len) {
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 64;
        m->v = realloc(m->v, m->cap * sizeof *m->v);
        m->len = realloc(m->len, m->cap * sizeof *m->len);
    }
    memmove(m->v + at + 1, m->v + at, (m->n - at) * sizeof *m->v);
    memmove(m->len + at + 1, m->len + at, (m->n - at) * sizeof *m->len);
    m->v[at] = malloc(len + 1);
    memcpy(m->v[at], p, len);
    m->v[at][len] = '\0';
    m->len[at] = len;
    m->n++;
}

static void m_delete(model *m, size_t at) {
    free(m->v[at]);
    memmove(m->v + at, m->v + at + 1, (m->n - at - 1) * sizeof *m->v);
    memmove(m->len + at, m->len + at + 1, (m->n - at - 1) * sizeof *m->len);
    m->n--;
}

static void m_free(model *m) {
    for (size_t i = 0; i < m->n; i++) free(m->v[i]);
    free(m->v);
    free(m->len);
}

static void check_equal(const quicklist *ql, const model *m) {
    check_invariants(ql);
    cr_assert_eq(ql_count(ql), m->n);
    ql_iter it;
    ql_iter_init(&it, (quicklist *)ql, QL_FORWARD, 0);
    const char *p;
    size_t len, i = 0;
    while (ql_iter_next(&it, &p, &len)) {
        cr_assert_lt(i, m->n);
        cr_assert_eq(len, m->len[i], "length of element %zu", i);
        cr_assert(memcmp(p, m->v[i], len) == 0, "element %zu", i);
        i++;
    }
    ql_iter_release(&it);
    cr_assert_eq(i, m->n);
    /* and backwards */
    ql_iter_init(&it, (quicklist *)ql, QL_BACKWARD, -1);
    while (ql_iter_next(&it, &p, &len)) {
        cr_assert_gt(i, 0);
        i--;
        cr_assert_eq(len, m->len[i]);
        cr_assert(memcmp(p, m->v[i], len) == 0);
    }
    ql_iter_release(&it);
    cr_assert_eq(i, 0);
}

static void push_str(quicklist *ql, int where, const char *s) { ql_push(ql, where, s, strlen(s)); }

static void expect_index(quicklist *ql, long long idx, const char *want) {
    const char *p;
    size_t len;
    if (!want) {
        cr_assert_not(ql_index(ql, idx, &p, &len), "index %lld out of range", idx);
        return;
    }
    cr_assert(ql_index(ql, idx, &p, &len), "index %lld present", idx);
    cr_assert_eq(len, strlen(want));
    cr_assert(memcmp(p, want, len) == 0, "index %lld: want %s got %.*s", idx, want, (int)len, p);
}

/* ------------------------------------------------------------ tests */

Test(quicklist, push_pop_both_ends_across_nodes) {
    quicklist *ql = ql_new(3);
    char buf[32];
    for (int i = 0; i < 10; i++) {
        snprintf(buf, sizeof buf, "t%d", i);
        push_str(ql, QL_TAIL, buf);
        snprintf(buf, sizeof buf, "h%d", i);
        push_str(ql, QL_HEAD, buf);
        check_invariants(ql);
    }
    cr_assert_eq(ql_count(ql), 20);
    cr_assert_geq(ql->nodes, 7, "fill 3 spreads 20 elements over >= 7 nodes");
    expect_index(ql, 0, "h9");
    expect_index(ql, 9, "h0");
    expect_index(ql, 10, "t0");
    expect_index(ql, -1, "t9");
    expect_index(ql, -20, "h9");
    expect_index(ql, 20, NULL);
    expect_index(ql, -21, NULL);
    const char *p;
    size_t len;
    for (int i = 9; i >= 0; i--) {
        snprintf(buf, sizeof buf, "h%d", i);
        cr_assert(ql_peek(ql, QL_HEAD, &p, &len));
        cr_assert(len == strlen(buf) && memcmp(p, buf, len) == 0);
        ql_pop(ql, QL_HEAD);
        snprintf(buf, sizeof buf, "t%d", i);
        cr_assert(ql_peek(ql, QL_TAIL, &p, &len));
        cr_assert(len == strlen(buf) && memcmp(p, buf, len) == 0);
        ql_pop(ql, QL_TAIL);
        check_invariants(ql);
    }
    cr_assert_eq(ql_count(ql), 0);
    cr_assert_null(ql->head);
    cr_assert_not(ql_peek(ql, QL_HEAD, &p, &len));
    ql_pop(ql, QL_TAIL); /* no-op */
    ql_free(ql);
}

Test(quicklist, size_bounded_nodes) {
    quicklist *ql = ql_new(-2);
    char big[1000];
    memset(big, 'x', sizeof big);
    for (int i = 0; i < 100; i++) ql_push(ql, QL_TAIL, big, sizeof big);
    check_invariants(ql);
    cr_assert_geq(ql->nodes, 13, "8 KB nodes hold at most 8 elements of 1 KB");
    /* an element bigger than a node's limit gets a node of its own */
    char *huge = malloc(20000);
    memset(huge, 'y', 20000);
    ql_push(ql, QL_HEAD, huge, 20000);
    ql_push(ql, QL_HEAD, "small", 5);
    check_invariants(ql);
    expect_index(ql, 0, "small");
    const char *p;
    size_t len;
    cr_assert(ql_index(ql, 1, &p, &len));
    cr_assert_eq(len, 20000);
    free(huge);
    ql_free(ql);
}

Test(quicklist, fill_clamped_and_zero) {
    quicklist *ql = ql_new(-100);
    cr_assert_eq(ql->fill, QL_FILL_MIN);
    ql_free(ql);
    ql = ql_new(1 << 20);
    cr_assert_eq(ql->fill, QL_FILL_MAX);
    ql_free(ql);
    ql = ql_new(0); /* one element per node */
    for (int i = 0; i < 5; i++) push_str(ql, QL_TAIL, "e");
    cr_assert_eq(ql->nodes, 5);
    check_invariants(ql);
    ql_free(ql);
}

Test(quicklist, insert_splits_and_neighbours) {
    for (int fill = 1; fill <= 4; fill++) {
        quicklist *ql = ql_new(fill);
        model m = {0};
        char buf[32];
        for (int i = 0; i < 12; i++) {
            snprintf(buf, sizeof buf, "%d", i);
            push_str(ql, QL_TAIL, buf);
            m_insert(&m, m.n, buf, strlen(buf));
        }
        /* insert before and after every position, one at a time */
        for (size_t pos = 0; pos < 30 && pos < m.n; pos += 2) {
            for (int after = 0; after <= 1; after++) {
                ql_iter it;
                ql_iter_init(&it, ql, after ? QL_BACKWARD : QL_FORWARD, (long long)pos);
                const char *p;
                size_t len;
                cr_assert(ql_iter_next(&it, &p, &len));
                snprintf(buf, sizeof buf, "n%zu%c", pos, after ? 'a' : 'b');
                ql_iter_insert(&it, after, buf, strlen(buf));
                ql_iter_release(&it);
                m_insert(&m, pos + (size_t)after, buf, strlen(buf));
                check_equal(ql, &m);
            }
        }
        ql_free(ql);
        m_free(&m);
    }
}

Test(quicklist, del_range_across_nodes) {
    quicklist *ql = ql_new(4);
    model m = {0};
    char buf[32];
    for (int i = 0; i < 40; i++) {
        snprintf(buf, sizeof buf, "v%d", i);
        push_str(ql, QL_TAIL, buf);
        m_insert(&m, m.n, buf, strlen(buf));
    }
    cr_assert_eq(ql_del_range(ql, 3, 10), 10);
    for (int i = 0; i < 10; i++) m_delete(&m, 3);
    check_equal(ql, &m);
    cr_assert_eq(ql_del_range(ql, -5, 100), 5);
    for (int i = 0; i < 5; i++) m_delete(&m, m.n - 1);
    check_equal(ql, &m);
    cr_assert_eq(ql_del_range(ql, 100, 1), 0);
    cr_assert_eq(ql_del_range(ql, -100, 1), 0);
    cr_assert_eq(ql_del_range(ql, 0, 0), 0);
    cr_assert_eq(ql_del_range(ql, 4, 4), 4); /* exactly one whole node if aligned */
    for (int i = 0; i < 4; i++) m_delete(&m, 4);
    check_equal(ql, &m);
    size_t left = m.n;
    cr_assert_eq(ql_del_range(ql, 0, left), left);
    cr_assert_eq(ql_count(ql), 0);
    cr_assert_null(ql->head);
    cr_assert_null(ql->tail);
    ql_free(ql);
    m_free(&m);
}

Test(quicklist, replace_grows_past_node_limit) {
    quicklist *ql = ql_new(-1); /* 4 KB nodes */
    model m = {0};
    char small[100];
    memset(small, 's', sizeof small);
    for (int i = 0; i < 120; i++) {
        ql_push(ql, QL_TAIL, small, sizeof small);
        m_insert(&m, m.n, small, sizeof small);
    }
    char big[3000];
    memset(big, 'B', sizeof big);
    long long targets[] = {0, 5, 39, 40, 41, -1, 60, -60};
    for (size_t t = 0; t < sizeof targets / sizeof *targets; t++) {
        big[0] = (char)('a' + t);
        cr_assert(ql_replace(ql, targets[t], big, sizeof big));
        size_t at = targets[t] < 0 ? (size_t)((long long)m.n + targets[t]) : (size_t)targets[t];
        m_delete(&m, at);
        m_insert(&m, at, big, sizeof big);
        check_equal(ql, &m);
    }
    cr_assert_not(ql_replace(ql, 1000, "x", 1));
    cr_assert_not(ql_replace(ql, -1000, "x", 1));
    ql_free(ql);
    m_free(&m);
}

Test(quicklist, iterator_delete_both_directions) {
    for (int dir = 0; dir <= 1; dir++) {
        quicklist *ql = ql_new(3);
        model m = {0};
        for (int i = 0; i < 30; i++) {
            const char *s = i % 3 == 0 ? "x" : "y";
            push_str(ql, QL_TAIL, s);
            m_insert(&m, m.n, s, 1);
        }
        ql_iter it;
        ql_iter_init(&it, ql, dir, dir == QL_FORWARD ? 0 : -1);
        const char *p;
        size_t len;
        while (ql_iter_next(&it, &p, &len))
            if (len == 1 && p[0] == 'y') ql_iter_delete(&it);
        ql_iter_release(&it);
        for (size_t i = m.n; i-- > 0;)
            if (m.v[i][0] == 'y') m_delete(&m, i);
        check_equal(ql, &m);
        cr_assert_eq(ql_count(ql), 10);
        /* delete everything */
        ql_iter_init(&it, ql, dir, dir == QL_FORWARD ? 0 : -1);
        while (ql_iter_next(&it, &p, &len)) ql_iter_delete(&it);
        ql_iter_release(&it);
        cr_assert_eq(ql_count(ql), 0);
        cr_assert_null(ql->head);
        ql_free(ql);
        m_free(&m);
    }
}

Test(quicklist, range_iteration_from_index) {
    quicklist *ql = ql_new(2);
    char buf[16];
    for (int i = 0; i < 9; i++) {
        snprintf(buf, sizeof buf, "%d", i);
        push_str(ql, QL_TAIL, buf);
    }
    ql_iter it;
    const char *p;
    size_t len;
    ql_iter_init(&it, ql, QL_FORWARD, 3);
    for (int i = 3; i < 9; i++) {
        cr_assert(ql_iter_next(&it, &p, &len));
        cr_assert_eq(p[0], '0' + i);
    }
    cr_assert_not(ql_iter_next(&it, &p, &len));
    ql_iter_release(&it);
    ql_iter_init(&it, ql, QL_BACKWARD, -4);
    for (int i = 5; i >= 0; i--) {
        cr_assert(ql_iter_next(&it, &p, &len));
        cr_assert_eq(p[0], '0' + i);
    }
    cr_assert_not(ql_iter_next(&it, &p, &len));
    ql_iter_release(&it);
    ql_iter_init(&it, ql, QL_FORWARD, 9); /* out of range: empty */
    cr_assert_not(ql_iter_next(&it, &p, &len));
    ql_iter_release(&it);
    quicklist *d = ql_dup(ql);
    check_invariants(d);
    cr_assert_eq(ql_count(d), 9);
    expect_index(d, 4, "4");
    cr_assert_gt(ql_mem(d), 0);
    ql_free(d);
    ql_free(ql);
}

/* Long runs at the tail keep the tail node's offset cache exact. */
Test(quicklist, tail_cache_push_pop) {
    quicklist *ql = ql_new(-2);
    model m = {0};
    char buf[32];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 3000; i++) {
            int n = snprintf(buf, sizeof buf, "%d-%d", round, i);
            ql_push(ql, QL_TAIL, buf, (size_t)n);
            m_insert(&m, m.n, buf, (size_t)n);
            if (i % 7 == 0) { /* read the tail: builds the cache */
                const char *p;
                size_t len;
                cr_assert(ql_peek(ql, QL_TAIL, &p, &len));
                cr_assert(len == (size_t)n && memcmp(p, buf, len) == 0);
            }
            if (i % 500 == 0) check_invariants(ql);
        }
        check_equal(ql, &m);
        cr_assert_not_null(ql->toffs, "tail reads built the cache");
        for (int i = 0; i < 2500; i++) {
            const char *p;
            size_t len;
            cr_assert(ql_peek(ql, QL_TAIL, &p, &len));
            cr_assert(len == m.len[m.n - 1] && memcmp(p, m.v[m.n - 1], len) == 0);
            ql_pop(ql, QL_TAIL);
            m_delete(&m, m.n - 1);
            if (i % 3 == 0) {
                expect_index(ql, -1, m.v[m.n - 1]);
                cr_assert_eq(ql_del_range(ql, -2, 2), 2);
                m_delete(&m, m.n - 1);
                m_delete(&m, m.n - 1);
                i += 2;
            }
            if (i % 250 == 0) check_invariants(ql);
        }
        check_equal(ql, &m);
        /* a head insert into a single node and a mid-node change drop it */
        ql_push(ql, QL_HEAD, "h", 1);
        m_insert(&m, 0, "h", 1);
        cr_assert(ql_replace(ql, -3, "r", 1));
        m_delete(&m, m.n - 3);
        m_insert(&m, m.n - 2, "r", 1);
        check_equal(ql, &m);
    }
    ql_free(ql);
    m_free(&m);
}

/* Random operations against the model, at several fills and element
 * sizes (some elements larger than a node's limit). */
Test(quicklist, property_random_ops_vs_model) {
    const int fills[] = {1, 2, 3, 5, 16, 0, -1, -2, -5};
    srand(12345);
    for (size_t f = 0; f < sizeof fills / sizeof *fills; f++) {
        quicklist *ql = ql_new(fills[f]);
        model m = {0};
        char buf[6000];
        for (int step = 0; step < 3000; step++) {
            int op = rand() % 10;
            size_t len = (size_t)(rand() % 8 == 0 ? rand() % 5000 : rand() % 40);
            for (size_t i = 0; i < len; i++) buf[i] = (char)('a' + rand() % 4);
            if (len) buf[0] = (char)('a' + step % 26);
            if (op <= 1) { /* push */
                int where = rand() % 2;
                ql_push(ql, where, buf, len);
                m_insert(&m, where == QL_HEAD ? 0 : m.n, buf, len);
            } else if (op == 2 && m.n) { /* pop */
                int where = rand() % 2;
                const char *p;
                size_t plen;
                cr_assert(ql_peek(ql, where, &p, &plen));
                size_t at = where == QL_HEAD ? 0 : m.n - 1;
                cr_assert(plen == m.len[at] && memcmp(p, m.v[at], plen) == 0);
                ql_pop(ql, where);
                m_delete(&m, at);
            } else if (op == 3 && m.n) { /* insert at a pivot */
                size_t at = (size_t)rand() % m.n;
                int after = rand() % 2;
                ql_iter it;
                ql_iter_init(&it, ql, rand() % 2, (long long)at);
                const char *p;
                size_t plen;
                cr_assert(ql_iter_next(&it, &p, &plen));
                ql_iter_insert(&it, after, buf, len);
                ql_iter_release(&it);
                m_insert(&m, at + (size_t)after, buf, len);
            } else if (op == 4 && m.n) { /* replace */
                long long idx = (long long)((size_t)rand() % m.n);
                if (rand() % 2) idx -= (long long)m.n;
                cr_assert(ql_replace(ql, idx, buf, len));
                size_t at = idx < 0 ? (size_t)((long long)m.n + idx) : (size_t)idx;
                m_delete(&m, at);
                m_insert(&m, at, buf, len);
            } else if (op == 5 && m.n) { /* delete a range */
                size_t at = (size_t)rand() % m.n, n = (size_t)rand() % 8;
                size_t want = n < m.n - at ? n : m.n - at;
                cr_assert_eq(ql_del_range(ql, (long long)at, n), want);
                for (size_t i = 0; i < want; i++) m_delete(&m, at);
            } else if (op == 6 && m.n) { /* index */
                size_t at = (size_t)rand() % m.n;
                const char *p;
                size_t plen;
                cr_assert(ql_index(ql, (long long)at - (rand() % 2 ? (long long)m.n : 0), &p, &plen));
                cr_assert(plen == m.len[at] && memcmp(p, m.v[at], plen) == 0);
            } else if (op == 7 && m.n) { /* remove matching elements, LREM-like */
                char c = (char)('a' + rand() % 26);
                int dir = rand() % 2;
                size_t limit = (size_t)(rand() % 3);
                ql_iter it;
                ql_iter_init(&it, ql, dir, dir == QL_FORWARD ? 0 : -1);
                const char *p;
                size_t plen, removed = 0;
                while (ql_iter_next(&it, &p, &plen)) {
                    if (plen && p[0] == c) {
                        ql_iter_delete(&it);
                        removed++;
                        if (limit && removed == limit) break;
                    }
                }
                ql_iter_release(&it);
                size_t mremoved = 0;
                if (dir == QL_FORWARD) {
                    for (size_t i = 0; i < m.n && !(limit && mremoved == limit);) {
                        if (m.len[i] && m.v[i][0] == c) {
                            m_delete(&m, i);
                            mremoved++;
                        } else {
                            i++;
                        }
                    }
                } else {
                    for (size_t i = m.n; i-- > 0 && !(limit && mremoved == limit);) {
                        if (m.len[i] && m.v[i][0] == c) {
                            m_delete(&m, i);
                            mremoved++;
                        }
                    }
                }
                cr_assert_eq(removed, mremoved);
            }
            if (step % 50 == 0)
                check_equal(ql, &m);
            else
                check_invariants(ql);
        }
        check_equal(ql, &m);
        quicklist *d = ql_dup(ql);
        check_equal(d, &m);
        ql_free(d);
        ql_free(ql);
        m_free(&m);
    }
}
