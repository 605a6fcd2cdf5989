/*
 * t_zset.c - the sorted set type: both encodings behind one API (create,
 * convert, add/delete/score, ranks, range intervals, visits, iteration),
 * range-argument parsing and the entry hooks.
 * The commands live in t_zset_cmd.c and t_zset_ops.c.
 *
 * Design choices a reader must know:
 * - listpack encoding: (member, score) pairs kept in (score, member) order;
 *   the score element holds the 8 raw bytes of the double (exact, no text
 *   parsing on every comparison). Lookups are linear, as in Redis.
 * - skiplist encoding: a dict member -> score owns the member bytes; the
 *   skiplist's nodes point at those bytes (skiplist.h), so a member is
 *   stored once. Delete from the skiplist before the dict.
 */
#include "t_zset.h"

#include "config.h"
#include "entry.h"
#include "mem.h"
#include "types.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ limits */

void zset_limits_from_config(zset_limits *lim) {
    long long e = cfg_get(zset_max_listpack_entries), v = cfg_get(zset_max_listpack_value);
    lim->max_entries = e > 0 ? (unsigned long long)e : 0;
    lim->max_value = v > 0 ? (unsigned long long)v : 0;
}

/* ------------------------------------------------------------ listpack helpers */

/* Read the pair whose member element is at off; returns the offset after
 * the pair. */
static size_t lp_pair(const listpack *lp, size_t off, const char **m, size_t *len, double *score) {
    const char *sp;
    size_t slen;
    size_t next = lp_get(lp, off, m, len);
    next = lp_get(lp, next, &sp, &slen);
    if (slen == sizeof(double))
        memcpy(score, sp, sizeof(double));
    else
        *score = 0; /* never written by this module */
    return next;
}

/* Offset of the pair holding member m, or lp_end. */
static size_t lp_find_member(const listpack *lp, const char *m, size_t len) {
    return lp_find(lp, lp_first(lp), m, len, 1);
}

/* Insert (score, m) at its place in the order. */
static listpack *lp_insert_sorted(listpack *lp, double score, const char *m, size_t len) {
    if (score == 0) score = 0; /* Redis's listpack stores scores as text: -0 becomes 0 */
    size_t off = lp_first(lp), end = lp_end(lp);
    while (off < end) {
        const char *pm;
        size_t plen;
        double ps;
        size_t next = lp_pair(lp, off, &pm, &plen, &ps);
        if (ps > score || (ps == score && zsl_cmp_ele(pm, plen, m, len) > 0)) break;
        off = next;
    }
    lp = lp_insert(lp, off, m, len);
    const char *p;
    size_t l;
    size_t soff = lp_get(lp, off, &p, &l);
    return lp_insert(lp, soff, (const char *)&score, sizeof(double));
}

static unsigned long lp_pairs(const listpack *lp) { return lp_count(lp) / 2; }

/* ------------------------------------------------------------ create / free */

zset *zset_new(void) {
    zset *z = mem_calloc(1, sizeof *z);
    z->enc = ENC_LISTPACK;
    z->lp = lp_new();
    return z;
}

zset *zset_new_skiplist(void) {
    zset *z = mem_calloc(1, sizeof *z);
    z->enc = ENC_SKIPLIST;
    z->d = dict_new();
    z->sl = zsl_new(dict_key_len);
    return z;
}

void zset_free(zset *z) {
    if (!z) return;
    if (z->lp) lp_free(z->lp);
    if (z->sl) zsl_free(z->sl);
    if (z->d) dict_free(z->d);
    mem_free(z);
}

/* Add a member known to be absent to a skiplist set. */
static void sl_insert_new(zset *z, double score, const char *m, size_t len) {
    dict_entry *de = dict_add(z->d, m, len, NULL, 0);
    de->u.score = score;
    zsl_insert(z->sl, score, dict_key(de), de->klen);
}

zset *zset_dup(const zset *z) {
    if (z->enc == ENC_LISTPACK) {
        zset *n = mem_calloc(1, sizeof *n);
        n->enc = ENC_LISTPACK;
        n->lp = lp_dup(z->lp);
        return n;
    }
    zset *n = zset_new_skiplist();
    /* Insert from the tail: each insert lands at the head (cheap descent). */
    for (zsl_node *x = zsl_last(z->sl); x; x = x->backward)
        sl_insert_new(n, x->score, x->ele, dict_key_len(x->ele));
    return n;
}

size_t zset_mem(const zset *z) {
    size_t n = mem_usable(z);
    if (z->enc == ENC_LISTPACK) return n + mem_usable(z->lp);
    return n + dict_mem(z->d) + zsl_mem(z->sl);
}

unsigned long zset_len(const zset *z) { return z->enc == ENC_LISTPACK ? lp_pairs(z->lp) : zsl_length(z->sl); }

void zset_convert(zset *z, unsigned enc) {
    if (z->enc == enc) return;
    if (enc == ENC_SKIPLIST) {
        listpack *lp = z->lp;
        z->d = dict_new();
        z->sl = zsl_new(dict_key_len);
        z->enc = ENC_SKIPLIST;
        size_t off = lp_first(lp), end = lp_end(lp);
        while (off < end) {
            const char *m;
            size_t len;
            double s;
            off = lp_pair(lp, off, &m, &len, &s);
            sl_insert_new(z, s, m, len);
        }
        lp_free(lp);
        z->lp = NULL;
    } else {
        listpack *lp = lp_new();
        for (zsl_node *x = zsl_first(z->sl); x; x = zsl_next(x)) {
            double s = x->score == 0 ? 0 : x->score; /* -0 becomes 0, as above */
            lp = lp_append(lp, x->ele, dict_key_len(x->ele));
            lp = lp_append(lp, (const char *)&s, sizeof(double));
        }
        zsl_free(z->sl);
        dict_free(z->d);
        z->sl = NULL;
        z->d = NULL;
        z->lp = lp;
        z->enc = ENC_LISTPACK;
    }
}

void zset_fit_encoding(zset *z, const zset_limits *lim) {
    unsigned long n = zset_len(z);
    bool fits = n <= lim->max_entries;
    if (fits) {
        zset_iter it;
        const char *m;
        size_t len;
        double s;
        zset_iter_init(&it, z);
        while (fits && zset_iter_next(&it, &m, &len, &s)) fits = len <= lim->max_value;
    }
    zset_convert(z, fits ? ENC_LISTPACK : ENC_SKIPLIST);
}

/* ------------------------------------------------------------ lookup / update */

bool zset_score(const zset *z, const char *m, size_t len, double *score) {
    if (z->enc == ENC_LISTPACK) {
        size_t off = lp_find_member(z->lp, m, len);
        if (off >= lp_end(z->lp)) return false;
        const char *pm;
        size_t plen;
        lp_pair(z->lp, off, &pm, &plen, score);
        return true;
    }
    dict_entry *de = dict_find(z->d, m, len);
    if (!de) return false;
    *score = de->u.score;
    return true;
}

bool zset_add(zset *z, double score, const char *m, size_t len, int in, int *out, double *newscore,
              const zset_limits *lim) {
    bool incr = in & ZADD_IN_INCR, nx = in & ZADD_IN_NX, xx = in & ZADD_IN_XX;
    bool gt = in & ZADD_IN_GT, lt = in & ZADD_IN_LT;
    *out = 0;
    if (isnan(score)) {
        *out = ZADD_OUT_NAN;
        return false;
    }
    double cur;
    bool exists;
    size_t off = 0;
    dict_entry *de = NULL;
    if (z->enc == ENC_LISTPACK) {
        off = lp_find_member(z->lp, m, len);
        exists = off < lp_end(z->lp);
        if (exists) {
            const char *pm;
            size_t plen;
            lp_pair(z->lp, off, &pm, &plen, &cur);
        }
    } else {
        de = dict_find(z->d, m, len);
        exists = de != NULL;
        if (exists) cur = de->u.score;
    }

    if (exists) {
        if (nx) {
            *out = ZADD_OUT_NOP;
            return true;
        }
        if (incr) {
            score += cur;
            if (isnan(score)) {
                *out = ZADD_OUT_NAN;
                return false;
            }
        }
        if ((lt && score >= cur) || (gt && score <= cur)) {
            *out = ZADD_OUT_NOP;
            return true;
        }
        if (newscore) *newscore = score;
        if (score != cur) {
            if (z->enc == ENC_LISTPACK) {
                z->lp = lp_delete(z->lp, off, 2);
                z->lp = lp_insert_sorted(z->lp, score, m, len);
            } else {
                zsl_update_score(z->sl, cur, dict_key(de), de->klen, score);
                de->u.score = score;
            }
            *out = ZADD_OUT_UPDATED;
        }
        return true;
    }
    if (xx) {
        *out = ZADD_OUT_NOP;
        return true;
    }
    if (z->enc == ENC_LISTPACK && lim &&
        (lp_pairs(z->lp) + 1 > lim->max_entries || len > lim->max_value))
        zset_convert(z, ENC_SKIPLIST);
    if (z->enc == ENC_LISTPACK)
        z->lp = lp_insert_sorted(z->lp, score, m, len);
    else
        sl_insert_new(z, score, m, len);
    *out = ZADD_OUT_ADDED;
    if (newscore) *newscore = score;
    return true;
}

bool zset_del(zset *z, const char *m, size_t len) {
    if (z->enc == ENC_LISTPACK) {
        size_t off = lp_find_member(z->lp, m, len);
        if (off >= lp_end(z->lp)) return false;
        z->lp = lp_delete(z->lp, off, 2);
        return true;
    }
    dict_entry *de = dict_find(z->d, m, len);
    if (!de) return false;
    zsl_delete(z->sl, de->u.score, dict_key(de), de->klen);
    dict_delete(z->d, m, len);
    return true;
}

long zset_rank(const zset *z, const char *m, size_t len, bool rev) {
    unsigned long n = zset_len(z);
    long rank = -1;
    if (z->enc == ENC_LISTPACK) {
        size_t off = lp_first(z->lp), end = lp_end(z->lp);
        for (long i = 0; off < end; i++) {
            const char *pm;
            size_t plen;
            double s;
            off = lp_pair(z->lp, off, &pm, &plen, &s);
            if (plen == len && memcmp(pm, m, len) == 0) {
                rank = i;
                break;
            }
        }
    } else {
        dict_entry *de = dict_find(z->d, m, len);
        if (de) rank = (long)zsl_rank(z->sl, de->u.score, dict_key(de), de->klen) - 1;
    }
    if (rank < 0) return -1;
    return rev ? (long)n - 1 - rank : rank;
}

/* ------------------------------------------------------------ ranges */

typedef bool lp_pred(const char *m, size_t len, double s, const void *r);
static bool lpp_score_gte(const char *m, size_t len, double s, const void *r) { return zrange_score_gte_min(s, r); }
static bool lpp_score_lte(const char *m, size_t len, double s, const void *r) { return zrange_score_lte_max(s, r); }

/* First pair (from the head) satisfying gte, valid only if also lte; last
 * pair (from the tail) satisfying lte, valid only if also gte. */
static bool lp_interval(const listpack *lp, lp_pred *gte, lp_pred *lte, const void *r, long *lo, long *hi) {
    long first = -1, last = -1;
    size_t off = lp_first(lp), end = lp_end(lp);
    for (long i = 0; off < end; i++) {
        const char *m;
        size_t len;
        double s;
        off = lp_pair(lp, off, &m, &len, &s);
        if (first < 0 && gte(m, len, s, r)) {
            if (!lte(m, len, s, r)) return false;
            first = i;
        }
        if (lte(m, len, s, r)) last = i;
    }
    if (first < 0 || last < 0) return false;
    /* `last` must be the last lte element scanning from the tail and be gte. */
    off = lp_seek(lp, 2 * last);
    const char *m;
    size_t len;
    double s;
    lp_pair(lp, off, &m, &len, &s);
    if (!gte(m, len, s, r) || last < first) return false;
    *lo = first;
    *hi = last;
    return true;
}

bool zset_score_interval(const zset *z, const zrange_score *r, long *lo, long *hi) {
    if (!zrange_score_valid(r)) return false;
    if (z->enc == ENC_LISTPACK) return lp_interval(z->lp, lpp_score_gte, lpp_score_lte, r, lo, hi);
    unsigned long a, b;
    if (!zsl_first_in_score(z->sl, r, &a) || !zsl_last_in_score(z->sl, r, &b) || b < a) return false;
    *lo = (long)a - 1;
    *hi = (long)b - 1;
    return true;
}

/* Redis's zzlIsInLexRange / zslIsInLexRange: a valid range whose max is not
 * below the head and whose min is not above the tail. */
static bool lex_maybe_in(const zset *z, const zrange_lex *r) {
    unsigned long n = zset_len(z);
    if (!zrange_lex_valid(r) || n == 0) return false;
    const char *m;
    size_t len;
    double s;
    zset_at(z, (long)n - 1, &m, &len, &s);
    if (!zrange_lex_gte_min(m, len, r)) return false;
    zset_at(z, 0, &m, &len, &s);
    return zrange_lex_lte_max(m, len, r);
}

bool zset_lex_first(const zset *z, const zrange_lex *r, bool rev, long *rank) {
    if (z->enc == ENC_SKIPLIST) {
        unsigned long rk;
        zsl_node *x = rev ? zsl_last_in_lex(z->sl, r, &rk) : zsl_first_in_lex(z->sl, r, &rk);
        if (!x) return false;
        *rank = (long)rk - 1;
        return true;
    }
    if (!lex_maybe_in(z, r)) return false;
    const listpack *lp = z->lp;
    long n = (long)lp_pairs(lp);
    const char *m;
    size_t len;
    double s;
    if (!rev) {
        size_t off = lp_first(lp);
        for (long i = 0; i < n; i++) {
            off = lp_pair(lp, off, &m, &len, &s);
            if (zrange_lex_gte_min(m, len, r)) {
                if (!zrange_lex_lte_max(m, len, r)) return false;
                *rank = i;
                return true;
            }
        }
        return false;
    }
    size_t *offs = mem_alloc((size_t)n * sizeof(size_t));
    size_t off = lp_first(lp);
    for (long i = 0; i < n; i++) {
        offs[i] = off;
        off = lp_pair(lp, off, &m, &len, &s);
    }
    bool found = false;
    for (long i = n - 1; i >= 0; i--) {
        lp_pair(lp, offs[i], &m, &len, &s);
        if (zrange_lex_lte_max(m, len, r)) {
            found = zrange_lex_gte_min(m, len, r);
            *rank = i;
            break;
        }
    }
    mem_free(offs);
    return found;
}

typedef struct {
    const zrange_lex *r;
    bool rev, stop;
    long n, max;
} lex_run_state;

static void lex_run_cb(const char *m, size_t len, double s, void *arg) {
    lex_run_state *st = arg;
    if (st->stop || (st->max >= 0 && st->n >= st->max)) {
        st->stop = true;
        return;
    }
    bool in = st->rev ? zrange_lex_gte_min(m, len, st->r) : zrange_lex_lte_max(m, len, st->r);
    if (in)
        st->n++;
    else
        st->stop = true;
}

long zset_lex_run(const zset *z, const zrange_lex *r, long start, bool rev, long max) {
    long n = (long)zset_len(z);
    if (start < 0 || start >= n || max == 0) return 0;
    lex_run_state st = {r, rev, false, 0, max};
    if (z->enc == ENC_SKIPLIST) {
        /* Walk node by node so a LIMIT stops the walk early. */
        for (zsl_node *x = zsl_at_rank(z->sl, (unsigned long)start + 1); x && !st.stop;
             x = rev ? x->backward : zsl_next(x))
            lex_run_cb(x->ele, dict_key_len(x->ele), x->score, &st);
        return st.n;
    }
    if (rev)
        zset_visit(z, 0, start, true, lex_run_cb, &st);
    else
        zset_visit(z, start, n - 1, false, lex_run_cb, &st);
    return st.n;
}

bool zset_lex_interval(const zset *z, const zrange_lex *r, long *lo, long *hi) {
    long first;
    if (!zset_lex_first(z, r, false, &first)) return false;
    *lo = first;
    *hi = first + zset_lex_run(z, r, first, false, -1) - 1;
    return true;
}

void zset_visit(const zset *z, long lo, long hi, bool rev, zset_visit_fn *fn, void *arg) {
    if (lo > hi) return;
    if (z->enc == ENC_LISTPACK) {
        const listpack *lp = z->lp;
        size_t off = lp_seek(lp, 2 * lo);
        const char *m;
        size_t len;
        double s;
        if (!rev) {
            for (long i = lo; i <= hi; i++) {
                off = lp_pair(lp, off, &m, &len, &s);
                fn(m, len, s, arg);
            }
            return;
        }
        size_t n = (size_t)(hi - lo + 1);
        size_t *offs = mem_alloc(n * sizeof(size_t));
        for (size_t i = 0; i < n; i++) {
            offs[i] = off;
            off = lp_pair(lp, off, &m, &len, &s);
        }
        for (size_t i = n; i-- > 0;) {
            lp_pair(lp, offs[i], &m, &len, &s);
            fn(m, len, s, arg);
        }
        mem_free(offs);
        return;
    }
    if (!rev) {
        zsl_node *x = zsl_at_rank(z->sl, (unsigned long)lo + 1);
        for (long i = lo; i <= hi && x; i++, x = zsl_next(x)) fn(x->ele, dict_key_len(x->ele), x->score, arg);
    } else {
        zsl_node *x = zsl_at_rank(z->sl, (unsigned long)hi + 1);
        for (long i = hi; i >= lo && x; i--, x = x->backward) fn(x->ele, dict_key_len(x->ele), x->score, arg);
    }
}

static void sl_del_cb(zsl_node *n, void *arg) { dict_delete(arg, n->ele, dict_key_len(n->ele)); }

unsigned long zset_delete_ranks(zset *z, long lo, long hi) {
    if (lo > hi) return 0;
    if (z->enc == ENC_LISTPACK) {
        size_t off = lp_seek(z->lp, 2 * lo);
        uint32_t before = lp_count(z->lp);
        z->lp = lp_delete(z->lp, off, (uint32_t)(2 * (hi - lo + 1)));
        return (before - lp_count(z->lp)) / 2;
    }
    return zsl_delete_rank_range(z->sl, (unsigned long)lo + 1, (unsigned long)hi + 1, sl_del_cb, z->d);
}

void zset_iter_init(zset_iter *it, const zset *z) {
    it->z = z;
    it->cur_off = 0;
    it->cur_node = NULL;
    it->off = z->enc == ENC_LISTPACK ? lp_first(z->lp) : 0;
    it->node = z->enc == ENC_LISTPACK ? NULL : zsl_first(z->sl);
}

void zset_iter_init_at(zset_iter *it, const zset *z, long rank) {
    it->z = z;
    it->cur_off = 0;
    it->cur_node = NULL;
    it->off = z->enc == ENC_LISTPACK ? lp_seek(z->lp, 2 * rank) : 0;
    it->node = z->enc == ENC_LISTPACK ? NULL : zsl_at_rank(z->sl, (unsigned long)rank + 1);
}

bool zset_iter_next(zset_iter *it, const char **m, size_t *len, double *score) {
    if (it->z->enc == ENC_LISTPACK) {
        if (it->off >= lp_end(it->z->lp)) return false;
        const char *pm;
        size_t plen;
        it->cur_off = it->off;
        it->off = lp_pair(it->z->lp, it->off, &pm, &plen, score);
        if (m) {
            *m = pm;
            *len = plen;
        }
        return true;
    }
    if (!it->node) return false;
    it->cur_node = it->node;
    if (m) {
        *m = it->node->ele;
        *len = dict_key_len(it->node->ele);
    }
    *score = it->node->score;
    it->node = zsl_next(it->node);
    return true;
}

void zset_iter_member(const zset_iter *it, const char **m, size_t *len) {
    if (it->z->enc == ENC_LISTPACK) {
        lp_get(it->z->lp, it->cur_off, m, len);
        return;
    }
    *m = it->cur_node->ele;
    *len = dict_key_len(it->cur_node->ele);
}

void zset_at(const zset *z, long rank, const char **m, size_t *len, double *score) {
    if (z->enc == ENC_LISTPACK) {
        lp_pair(z->lp, lp_seek(z->lp, 2 * rank), m, len, score);
        return;
    }
    zsl_node *x = zsl_at_rank(z->sl, (unsigned long)rank + 1);
    *m = x->ele;
    *len = dict_key_len(x->ele);
    *score = x->score;
}

/* ------------------------------------------------------------ range parsing */

/* Redis's zslParseRange item: strtod over the bytes up to the first NUL
 * (leading spaces and an empty string are accepted as strtod does), "("
 * makes it exclusive; NaN is rejected. */
static bool parse_score_item(const char *p, size_t len, double *v, bool *ex) {
    char stackbuf[128];
    char *buf = len < sizeof stackbuf ? stackbuf : mem_alloc(len + 1);
    memcpy(buf, p, len);
    buf[len] = '\0';
    char *s = buf, *eptr;
    *ex = false;
    if (s[0] == '(') {
        *ex = true;
        s++;
    }
    *v = strtod(s, &eptr);
    bool ok = eptr[0] == '\0' && !isnan(*v);
    if (buf != stackbuf) mem_free(buf);
    return ok;
}

bool zset_parse_score_range(const char *min, size_t minlen, const char *max, size_t maxlen, zrange_score *r) {
    return parse_score_item(min, minlen, &r->min, &r->minex) && parse_score_item(max, maxlen, &r->max, &r->maxex);
}

static bool parse_lex_item(const char *p, size_t len, zlex_bound *b) {
    if (len == 0) return false;
    switch (p[0]) {
    case '+':
    case '-':
        if (len > 1 && p[1] != '\0') return false;
        b->kind = p[0] == '+' ? ZLEX_POS_INF : ZLEX_NEG_INF;
        b->ex = true;
        b->p = NULL;
        b->len = 0;
        return true;
    case '(':
    case '[':
        b->kind = ZLEX_STR;
        b->ex = p[0] == '(';
        b->p = p + 1;
        b->len = len - 1;
        return true;
    default:
        return false;
    }
}

bool zset_parse_lex_range(const char *min, size_t minlen, const char *max, size_t maxlen, zrange_lex *r) {
    return parse_lex_item(min, minlen, &r->min) && parse_lex_item(max, maxlen, &r->max);
}

bool zset_check(const zset *z) {
    if (z->enc == ENC_LISTPACK) {
        if (!z->lp || z->d || z->sl || lp_count(z->lp) % 2) return false;
        size_t off = lp_first(z->lp), end = lp_end(z->lp);
        const char *pm = NULL;
        size_t plen = 0;
        double ps = 0;
        bool first = true;
        while (off < end) {
            const char *m;
            size_t len;
            double s;
            off = lp_pair(z->lp, off, &m, &len, &s);
            if (isnan(s)) return false;
            if (!first && (ps > s || (ps == s && zsl_cmp_ele(pm, plen, m, len) >= 0))) return false;
            first = false;
            pm = m;
            plen = len;
            ps = s;
        }
        return true;
    }
    if (z->lp || !z->d || !z->sl || !zsl_check(z->sl) || dict_size(z->d) != zsl_length(z->sl)) return false;
    for (zsl_node *x = zsl_first(z->sl); x; x = zsl_next(x)) {
        dict_entry *de = dict_find(z->d, x->ele, dict_key_len(x->ele));
        if (!de || de->u.score != x->score || dict_key(de) != x->ele) return false;
    }
    return true;
}

/* ------------------------------------------------------------ entry hooks */

static void ops_free(void *p) { zset_free(p); }
static void *ops_dup(const void *p) { return zset_dup(p); }
static size_t ops_mem(const void *p) { return zset_mem(p); }
static size_t ops_length(const void *p) { return zset_len(p); }

static const entry_type_ops zset_ops = {
    .free_value = ops_free,
    .dup_value = ops_dup,
    .value_mem = ops_mem,
    .length = ops_length,
};

void t_zset_init(void) { entry_register_type(OBJ_ZSET, &zset_ops); }
