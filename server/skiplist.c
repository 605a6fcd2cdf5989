/*
 * skiplist.c - the sorted set's skiplist with rank spans, and the score /
 * lex range predicates (see skiplist.h for the ownership rule: nodes point
 * at member bytes they do not own).
 */
#include "skiplist.h"

#include "mem.h"

#include <string.h>

/* ------------------------------------------------------------ ranges */

int zsl_cmp_ele(const char *a, size_t alen, const char *b, size_t blen) {
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c) return c;
    return alen < blen ? -1 : (alen > blen ? 1 : 0);
}

bool zrange_score_gte_min(double v, const zrange_score *r) { return r->minex ? v > r->min : v >= r->min; }
bool zrange_score_lte_max(double v, const zrange_score *r) { return r->maxex ? v < r->max : v <= r->max; }

bool zrange_score_valid(const zrange_score *r) {
    return !(r->min > r->max || (r->min == r->max && (r->minex || r->maxex)));
}

/* Compare a value with a bound: <0, 0, >0 (infinite bounds never equal). */
static int lex_cmp_bound(const char *p, size_t len, const zlex_bound *b) {
    if (b->kind == ZLEX_NEG_INF) return 1;
    if (b->kind == ZLEX_POS_INF) return -1;
    return zsl_cmp_ele(p, len, b->p, b->len);
}

bool zrange_lex_gte_min(const char *p, size_t len, const zrange_lex *r) {
    int c = lex_cmp_bound(p, len, &r->min);
    return r->min.ex ? c > 0 : c >= 0;
}

bool zrange_lex_lte_max(const char *p, size_t len, const zrange_lex *r) {
    int c = lex_cmp_bound(p, len, &r->max);
    return r->max.ex ? c < 0 : c <= 0;
}

/* Order of two bounds as Redis's sdscmplex: equal infinities compare 0. */
static int lex_cmp_bounds(const zlex_bound *a, const zlex_bound *b) {
    if (a->kind != ZLEX_STR && a->kind == b->kind) return 0;
    if (a->kind == ZLEX_NEG_INF || b->kind == ZLEX_POS_INF) return -1;
    if (a->kind == ZLEX_POS_INF || b->kind == ZLEX_NEG_INF) return 1;
    return zsl_cmp_ele(a->p, a->len, b->p, b->len);
}

bool zrange_lex_valid(const zrange_lex *r) {
    int c = lex_cmp_bounds(&r->min, &r->max);
    return !(c > 0 || (c == 0 && (r->min.ex || r->max.ex)));
}

/* ------------------------------------------------------------ nodes */

static _Thread_local uint64_t zsl_rng = 0x9e3779b97f4a7c15ULL;

static int random_level(void) {
    int level = 1;
    for (;;) {
        uint64_t x = zsl_rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        zsl_rng = x;
        /* Two bits per coin: continue with probability 1/4. Up to 32 draws
         * from one 64-bit number. */
        for (int i = 0; i < 32; i++) {
            if ((x & 3) != 0 || level >= ZSL_MAXLEVEL) return level;
            level++;
            x >>= 2;
        }
    }
}

static zsl_node *node_new(int height, double score, const char *ele) {
    zsl_node *n = mem_alloc(sizeof(zsl_node) + (size_t)height * sizeof(struct zsl_link));
    n->ele = ele;
    n->score = score;
    n->backward = NULL;
    return n;
}

zsl *zsl_new(zsl_len_fn *len_of) {
    zsl *l = mem_alloc(sizeof *l);
    l->len_of = len_of;
    l->header = node_new(ZSL_MAXLEVEL, 0, NULL);
    for (int i = 0; i < ZSL_MAXLEVEL; i++) {
        l->header->level[i].forward = NULL;
        l->header->level[i].span = 0;
    }
    l->tail = NULL;
    l->length = 0;
    l->level = 1;
    return l;
}

void zsl_free(zsl *l) {
    if (!l) return;
    zsl_node *n = l->header->level[0].forward;
    while (n) {
        zsl_node *next = n->level[0].forward;
        mem_free(n);
        n = next;
    }
    mem_free(l->header);
    mem_free(l);
}

static inline size_t node_len(const zsl *l, const zsl_node *x) { return l->len_of(x->ele); }

/* Compare node x's member with (ele, len). */
static inline int node_cmp_ele(const zsl *l, const zsl_node *x, const char *ele, size_t len) {
    return zsl_cmp_ele(x->ele, node_len(l, x), ele, len);
}

/* True when node x sorts before (score, ele). */
static inline bool node_before(const zsl *l, const zsl_node *x, double score, const char *ele, size_t len) {
    return x->score < score || (x->score == score && node_cmp_ele(l, x, ele, len) < 0);
}

/* Link node x (its score and ele set, `height` levels) at its place. */
static void link_node(zsl *l, zsl_node *x, int height, size_t len) {
    zsl_node *update[ZSL_MAXLEVEL];
    unsigned long rank[ZSL_MAXLEVEL];
    zsl_node *p = l->header;
    for (int i = l->level - 1; i >= 0; i--) {
        rank[i] = i == l->level - 1 ? 0 : rank[i + 1];
        while (p->level[i].forward && node_before(l, p->level[i].forward, x->score, x->ele, len)) {
            rank[i] += p->level[i].span;
            p = p->level[i].forward;
        }
        update[i] = p;
    }
    if (height > l->level) {
        for (int i = l->level; i < height; i++) {
            rank[i] = 0;
            update[i] = l->header;
            update[i]->level[i].span = l->length;
        }
        l->level = height;
    }
    for (int i = 0; i < height; i++) {
        x->level[i].forward = update[i]->level[i].forward;
        update[i]->level[i].forward = x;
        /* update[i] is at rank rank[i]; the new node at rank[0] + 1. */
        x->level[i].span = update[i]->level[i].span - (rank[0] - rank[i]);
        update[i]->level[i].span = (rank[0] - rank[i]) + 1;
    }
    for (int i = height; i < l->level; i++) update[i]->level[i].span++;
    x->backward = update[0] == l->header ? NULL : update[0];
    if (x->level[0].forward)
        x->level[0].forward->backward = x;
    else
        l->tail = x;
    l->length++;
}

zsl_node *zsl_insert(zsl *l, double score, const char *ele, size_t len) {
    int height = random_level();
    zsl_node *x = node_new(height, score, ele);
    link_node(l, x, height, len);
    return x;
}

/* Unlink x given its predecessors at every level; returns its height (the
 * levels it was linked at). */
static int unlink_node(zsl *l, zsl_node *x, zsl_node **update) {
    int height = 0;
    for (int i = 0; i < l->level; i++) {
        if (update[i]->level[i].forward == x) {
            update[i]->level[i].span += x->level[i].span - 1;
            update[i]->level[i].forward = x->level[i].forward;
            height = i + 1;
        } else {
            update[i]->level[i].span -= 1;
        }
    }
    if (x->level[0].forward)
        x->level[0].forward->backward = x->backward;
    else
        l->tail = x->backward;
    while (l->level > 1 && l->header->level[l->level - 1].forward == NULL) l->level--;
    l->length--;
    return height;
}

/* Fill update[] with the last node before (score, ele) at each level;
 * returns the candidate node (may not match). */
static zsl_node *find_update(const zsl *l, double score, const char *ele, size_t len, zsl_node **update) {
    zsl_node *x = l->header;
    for (int i = l->level - 1; i >= 0; i--) {
        while (x->level[i].forward && node_before(l, x->level[i].forward, score, ele, len)) x = x->level[i].forward;
        update[i] = x;
    }
    return x->level[0].forward;
}

static bool node_is(const zsl *l, const zsl_node *x, double score, const char *ele, size_t len) {
    return x && x->score == score && node_cmp_ele(l, x, ele, len) == 0;
}

bool zsl_delete(zsl *l, double score, const char *ele, size_t len) {
    zsl_node *update[ZSL_MAXLEVEL];
    zsl_node *x = find_update(l, score, ele, len, update);
    if (!node_is(l, x, score, ele, len)) return false;
    unlink_node(l, x, update);
    mem_free(x);
    return true;
}

zsl_node *zsl_update_score(zsl *l, double curscore, const char *ele, size_t len, double newscore) {
    zsl_node *update[ZSL_MAXLEVEL];
    zsl_node *x = find_update(l, curscore, ele, len, update);
    if (!node_is(l, x, curscore, ele, len)) return NULL;
    /* Still between its neighbours: change the score in place. */
    if ((x->backward == NULL || x->backward->score < newscore ||
         (x->backward->score == newscore && node_cmp_ele(l, x->backward, ele, len) < 0)) &&
        (x->level[0].forward == NULL || x->level[0].forward->score > newscore ||
         (x->level[0].forward->score == newscore && node_cmp_ele(l, x->level[0].forward, ele, len) > 0))) {
        x->score = newscore;
        return x;
    }
    /* Move the node itself: same height (drawn at random when it was
     * created, so the level distribution is unchanged), no free and no
     * allocation, and it stays where the allocator put it. */
    int height = unlink_node(l, x, update);
    x->score = newscore;
    link_node(l, x, height, len);
    return x;
}

unsigned long zsl_rank(const zsl *l, double score, const char *ele, size_t len) {
    unsigned long rank = 0;
    const zsl_node *x = l->header;
    for (int i = l->level - 1; i >= 0; i--) {
        while (x->level[i].forward &&
               (x->level[i].forward->score < score ||
                (x->level[i].forward->score == score &&
                 node_cmp_ele(l, x->level[i].forward, ele, len) <= 0))) {
            rank += x->level[i].span;
            x = x->level[i].forward;
        }
        if (x != l->header && x->score == score && node_cmp_ele(l, x, ele, len) == 0) return rank;
    }
    return 0;
}

zsl_node *zsl_at_rank(const zsl *l, unsigned long rank) {
    if (rank == 0 || rank > l->length) return NULL;
    unsigned long traversed = 0;
    zsl_node *x = l->header;
    for (int i = l->level - 1; i >= 0; i--) {
        while (x->level[i].forward && traversed + x->level[i].span <= rank) {
            traversed += x->level[i].span;
            x = x->level[i].forward;
        }
        if (traversed == rank) return x;
    }
    return NULL;
}

/* ------------------------------------------------------------ range search */

/* Generic "first node satisfying gte(min)" descent, then check lte(max). */
typedef bool node_pred(const zsl *l, const zsl_node *n, const void *r);

static bool p_score_gte(const zsl *l, const zsl_node *n, const void *r) {
    (void)l;
    return zrange_score_gte_min(n->score, r);
}
static bool p_score_lte(const zsl *l, const zsl_node *n, const void *r) {
    (void)l;
    return zrange_score_lte_max(n->score, r);
}
static bool p_lex_gte(const zsl *l, const zsl_node *n, const void *r) {
    return zrange_lex_gte_min(n->ele, node_len(l, n), r);
}
static bool p_lex_lte(const zsl *l, const zsl_node *n, const void *r) {
    return zrange_lex_lte_max(n->ele, node_len(l, n), r);
}

static zsl_node *first_where(const zsl *l, node_pred *gte, node_pred *lte, const void *r, unsigned long *rank) {
    const zsl_node *x = l->header;
    unsigned long traversed = 0;
    /* Redis's zslIsIn*Range: the tail reaches min and the head max. */
    if (!l->tail || !gte(l, l->tail, r) || !lte(l, l->header->level[0].forward, r)) return NULL;
    for (int i = l->level - 1; i >= 0; i--) {
        while (x->level[i].forward && !gte(l, x->level[i].forward, r)) {
            traversed += x->level[i].span;
            x = x->level[i].forward;
        }
    }
    zsl_node *n = x->level[0].forward;
    if (!n || !lte(l, n, r)) return NULL;
    if (rank) *rank = traversed + 1;
    return n;
}

static zsl_node *last_where(const zsl *l, node_pred *gte, node_pred *lte, const void *r, unsigned long *rank) {
    zsl_node *x = l->header;
    unsigned long traversed = 0;
    zsl_node *first = l->header->level[0].forward;
    if (!first || !lte(l, first, r) || !gte(l, l->tail, r)) return NULL;
    for (int i = l->level - 1; i >= 0; i--) {
        while (x->level[i].forward && lte(l, x->level[i].forward, r)) {
            traversed += x->level[i].span;
            x = x->level[i].forward;
        }
    }
    if (x == l->header || !gte(l, x, r)) return NULL;
    if (rank) *rank = traversed;
    return x;
}

zsl_node *zsl_first_in_score(const zsl *l, const zrange_score *r, unsigned long *rank) {
    if (!zrange_score_valid(r)) return NULL;
    return first_where(l, p_score_gte, p_score_lte, r, rank);
}

zsl_node *zsl_last_in_score(const zsl *l, const zrange_score *r, unsigned long *rank) {
    if (!zrange_score_valid(r)) return NULL;
    return last_where(l, p_score_gte, p_score_lte, r, rank);
}

zsl_node *zsl_first_in_lex(const zsl *l, const zrange_lex *r, unsigned long *rank) {
    if (!zrange_lex_valid(r)) return NULL;
    return first_where(l, p_lex_gte, p_lex_lte, r, rank);
}

zsl_node *zsl_last_in_lex(const zsl *l, const zrange_lex *r, unsigned long *rank) {
    if (!zrange_lex_valid(r)) return NULL;
    return last_where(l, p_lex_gte, p_lex_lte, r, rank);
}

unsigned long zsl_delete_rank_range(zsl *l, unsigned long start, unsigned long end, zsl_del_fn *cb, void *arg) {
    if (start == 0) start = 1;
    if (end > l->length) end = l->length;
    if (start > end) return 0;
    zsl_node *update[ZSL_MAXLEVEL];
    unsigned long traversed = 0;
    zsl_node *x = l->header;
    for (int i = l->level - 1; i >= 0; i--) {
        while (x->level[i].forward && traversed + x->level[i].span < start) {
            traversed += x->level[i].span;
            x = x->level[i].forward;
        }
        update[i] = x;
    }
    traversed++;
    x = x->level[0].forward;
    unsigned long removed = 0;
    while (x && traversed <= end) {
        zsl_node *next = x->level[0].forward;
        unlink_node(l, x, update);
        if (cb) cb(x, arg);
        mem_free(x);
        removed++;
        traversed++;
        x = next;
    }
    return removed;
}

size_t zsl_mem(const zsl *l) {
    size_t n = mem_usable(l) + mem_usable(l->header);
    for (const zsl_node *x = l->header->level[0].forward; x; x = x->level[0].forward) n += mem_usable(x);
    return n;
}

bool zsl_check(const zsl *l) {
    /* Level 0: order, backward links, length. */
    unsigned long count = 0;
    const zsl_node *prev = NULL;
    for (const zsl_node *x = l->header->level[0].forward; x; x = x->level[0].forward) {
        if (x->backward != prev) return false;
        if (prev && !node_before(l, prev, x->score, x->ele, node_len(l, x))) return false;
        if (x->level[0].span != (x->level[0].forward ? 1u : 0u) && x->level[0].forward) return false;
        prev = x;
        count++;
    }
    if (count != l->length || l->tail != prev) return false;
    /* Every level: spans equal the rank distance. */
    for (int i = 0; i < l->level; i++) {
        unsigned long rank = 0;
        const zsl_node *x = l->header;
        while (x->level[i].forward) {
            const zsl_node *target = x->level[i].forward;
            unsigned long r = 0;
            for (const zsl_node *y = l->header->level[0].forward; y; y = y->level[0].forward) {
                r++;
                if (y == target) break;
            }
            if (r - rank != x->level[i].span) return false;
            rank = r;
            x = target;
        }
    }
    return true;
}
