/*
 * t_zset_ops.c - the sorted set commands that pop, combine, sample and
 * scan: ZPOPMIN/ZPOPMAX, BZPOPMIN/BZPOPMAX, ZMPOP/BZMPOP, ZUNION/ZINTER/
 * ZDIFF and their STORE forms, ZINTERCARD, ZRANDMEMBER, ZSCAN, and the
 * key-spec functions of the numkeys commands.
 *
 * Design choices a reader must know:
 * - Blocking pops first try to serve like their non-blocking form; with
 *   nothing to pop they call blocking_block_on_args(), which re-runs the very same
 *   handler when a key gets data, so every handler here is written to be
 *   re-run (it parses and checks everything again).
 * - Set operations accumulate straight into the result's dict (member ->
 *   score), then thread the skiplist through it; inputs are ordered by
 *   cardinality (stably) as Redis does, which fixes the order in which
 *   floating-point scores are aggregated.
 */
#include "blocking.h"
#include "client.h"
#include "commands.h"
#include "db.h"
#include "entry.h"
#include "glob.h"
#include "mem.h"
#include "notify.h"
#include "propagate.h"
#include "numparse.h"
#include "t_set.h"
#include "t_zset.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ key specs */

/* numkeys at argv[nk], keys after it; an invalid numkeys gives no keys
 * (the command then replies the error itself). */
static int numkeys_keys(const arg_t *argv, int argc, int nk, int *keyidx, int max, int n) {
    long long numkeys;
    if (nk >= argc || !parse_ll(argv[nk].ptr, argv[nk].len, &numkeys) || numkeys < 1) return n;
    if (numkeys > argc - nk - 1) numkeys = argc - nk - 1;
    for (long long i = 0; i < numkeys && n < max; i++) keyidx[n++] = nk + 1 + (int)i;
    return n;
}

int zset_keys_numkeys1(const arg_t *argv, int argc, int *keyidx, int max) {
    return numkeys_keys(argv, argc, 1, keyidx, max, 0);
}

int zset_keys_store(const arg_t *argv, int argc, int *keyidx, int max) {
    if (max < 1 || argc < 2) return 0;
    keyidx[0] = 1;
    return numkeys_keys(argv, argc, 2, keyidx, max, 1);
}

int zset_keys_bzmpop(const arg_t *argv, int argc, int *keyidx, int max) {
    return numkeys_keys(argv, argc, 2, keyidx, max, 0);
}

/* ------------------------------------------------------------ pops */

typedef struct {
    client *c;
    bool nested;
} pop_emit;

static void pop_reply(const char *m, size_t len, double score, void *arg) {
    pop_emit *pe = arg;
    if (pe->nested) add_reply_array(pe->c, 2);
    add_reply_bulk(pe->c, m, len);
    add_reply_double(pe->c, score);
}

/* Redis's genericZpopCommand over argv keys first..first+nkeys-1: pop from
 * the first existing key. count -1 = single pop. */
static void zpop_generic(client *c, int first, int nkeys, bool max, bool emitkey, long count, bool nested,
                         bool nil_when_empty) {
    dbkey k;
    entry *e = NULL;
    for (int i = 0; i < nkeys && !e; i++) {
        bool err;
        e = zset_lookup(c, first + i, &k, LOOKUP_WRITE, NULL, &err);
        if (err) return;
    }
    if (!e) {
        if (nil_when_empty)
            add_reply_null_array(c);
        else
            add_reply_array(c, 0);
        return;
    }
    if (count == 0) {
        add_reply_array(c, 0);
        return;
    }
    bool single = count == -1;
    if (count == -1) count = 1;
    zset *z = entry_ptr(e);
    long llen = (long)zset_len(z);
    long n = count > llen ? llen : count;
    if (emitkey) { /* ZMPOP, BZPOPMIN/MAX, BZMPOP: as ZPOPMIN/MAX key [n] */
        propagate_rewrite_begin(single ? 2 : 3);
        propagate_arg_str(max ? "ZPOPMAX" : "ZPOPMIN");
        propagate_arg(k.key, k.len);
        if (!single) propagate_arg_ll(n);
    }
    if (!nested && !emitkey) {
        add_reply_array(c, n * 2);
    } else if (nested && !emitkey) {
        add_reply_array(c, n);
    } else if (!nested && emitkey) {
        add_reply_array(c, n * 2 + 1);
        add_reply_bulk(c, k.key, k.len);
    } else {
        add_reply_array(c, 2);
        add_reply_bulk(c, k.key, k.len);
        add_reply_array(c, n);
    }
    long lo = max ? llen - n : 0, hi = max ? llen - 1 : n - 1;
    pop_emit pe = {c, nested};
    zset_visit(z, lo, hi, max, pop_reply, &pe);
    zset_delete_ranks(z, lo, hi);
    zset_removed(&k, e, max ? "zpopmax" : "zpopmin");
}

static void zpop_command(client *c, bool max) {
    if (c->argc > 3) {
        add_reply_error(c, ERR_SYNTAX);
        return;
    }
    long long count = -1;
    if (c->argc == 3) {
        if (!parse_ll(c->argv[2].ptr, c->argv[2].len, &count) || count < 0) {
            add_reply_error(c, "ERR value is out of range, must be positive");
            return;
        }
    }
    zpop_generic(c, 1, 1, max, false, (long)count, c->resp > 2 && count != -1, false);
}

void zpopmin_command(client *c) { zpop_command(c, false); }
void zpopmax_command(client *c) { zpop_command(c, true); }

/* Redis's blockingGenericZpopCommand: keys are argv first..first+nkeys-1. */
static void bzpop_generic(client *c, int first, int nkeys, bool max, int timeout_idx, long count, bool nested,
                          bool nil_when_empty) {
    long long deadline;
    if (!blocking_parse_timeout_or_reply(c, &c->argv[timeout_idx], &deadline)) return;
    /* A re-run after a wake-up serves from a sorted set and, like Redis
     * serving the key that became ready, passes over keys that meanwhile
     * hold another type. */
    bool rerun = blocking_client_is_blocked(c);
    for (int i = 0; i < nkeys; i++) {
        dbkey k;
        dbkey_init(&k, c->db, c->argv[first + i].ptr, c->argv[first + i].len);
        entry *e = db_lookup(&k, LOOKUP_WRITE, NULL);
        if (e && entry_type(e) != OBJ_ZSET) {
            if (rerun) continue;
            add_reply_error(c, ERR_WRONGTYPE);
            return;
        }
        if (!e || zset_len(entry_ptr(e)) == 0) continue;
        zpop_generic(c, first + i, 1, max, true, count, nested, nil_when_empty);
        return;
    }
    blocking_block_on_args(c, first, nkeys, OBJ_ZSET, deadline, BLOCK_TIMEOUT_NULL_ARRAY);
}

void bzpopmin_command(client *c) { bzpop_generic(c, 1, c->argc - 2, false, c->argc - 1, -1, false, false); }
void bzpopmax_command(client *c) { bzpop_generic(c, 1, c->argc - 2, true, c->argc - 1, -1, false, false); }

/* Parse a long in [min, max]; any failure replies msg. */
static bool range_long_or_reply(client *c, const arg_t *a, long long min, long long max, long long *out,
                                const char *msg) {
    if (!parse_ll(a->ptr, a->len, out) || *out < min || *out > max) {
        add_reply_error(c, msg);
        return false;
    }
    return true;
}

/* Redis's zmpopGenericCommand: numkeys at argv[nk]. */
static void zmpop_generic(client *c, int nk, bool block) {
    long long numkeys, count = -1;
    if (!range_long_or_reply(c, &c->argv[nk], 1, LONG_MAX, &numkeys, "ERR numkeys should be greater than 0")) return;
    long long where_idx = nk + numkeys + 1;
    if (where_idx >= c->argc) {
        add_reply_error(c, ERR_SYNTAX);
        return;
    }
    bool max;
    if (arg_eq(&c->argv[where_idx], "min")) {
        max = false;
    } else if (arg_eq(&c->argv[where_idx], "max")) {
        max = true;
    } else {
        add_reply_error(c, ERR_SYNTAX);
        return;
    }
    for (int j = (int)where_idx + 1; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        if (count == -1 && arg_eq(&c->argv[j], "count") && more) {
            j++;
            if (!range_long_or_reply(c, &c->argv[j], 1, LONG_MAX, &count, "ERR count should be greater than 0"))
                return;
        } else {
            add_reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    if (count == -1) count = 1;
    if (block)
        bzpop_generic(c, nk + 1, (int)numkeys, max, 1, (long)count, true, true);
    else
        zpop_generic(c, nk + 1, (int)numkeys, max, true, (long)count, true, true);
}

void zmpop_command(client *c) { zmpop_generic(c, 1, false); }
void bzmpop_command(client *c) { zmpop_generic(c, 2, true); }

/* ------------------------------------------------------------ set operations */

enum setop { OP_UNION, OP_INTER, OP_DIFF };
enum aggr { AGGR_SUM, AGGR_MIN, AGGR_MAX };

/* One input: a sorted set, a plain set (scores 1) or a missing key. */
typedef struct {
    const zset *z;
    const set_value *set;
    unsigned long len;
    double weight;
    int order; /* argument position: the stable tie-break of the sort */
} zsrc;

static int src_cmp_len(const void *a, const void *b) {
    const zsrc *x = a, *y = b;
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    return x->order - y->order;
}

static bool src_find(const zsrc *s, const char *m, size_t len, double *score) {
    if (s->set) {
        *score = 1.0;
        return set_contains(s->set, m, len);
    }
    return s->z && zset_score(s->z, m, len, score);
}

typedef struct {
    const zsrc *s;
    zset_iter zi;
    set_iter si;
} src_iter;

static void src_iter_init(src_iter *it, const zsrc *s) {
    it->s = s;
    if (s->set)
        set_iter_init(&it->si, s->set);
    else
        zset_iter_init(&it->zi, s->z);
}

static bool src_iter_next(src_iter *it, const char **m, size_t *len, double *score) {
    if (!it->s->set) return zset_iter_next(&it->zi, m, len, score);
    set_elem el;
    if (!set_iter_next(&it->si, &el)) return false;
    *m = el.p;
    *len = el.len;
    *score = 1.0;
    return true;
}

static void aggregate(double *target, double val, enum aggr a) {
    if (a == AGGR_SUM) {
        *target = *target + val;
        if (isnan(*target)) *target = 0.0; /* +inf + -inf */
    } else if (a == AGGR_MIN) {
        *target = val < *target ? val : *target;
    } else {
        *target = val > *target ? val : *target;
    }
}

/* Add a member known to be absent from dst's dict (the skiplist is threaded
 * later by finish_result). */
static dict_entry *acc_add(zset *dst, const char *m, size_t len, double score) {
    dict_entry *de = dict_add(dst->d, m, len, NULL, 0);
    de->u.score = score;
    return de;
}

static void finish_result(zset *dst) {
    dict_iter it;
    dict_entry *de;
    dict_iter_init(&it);
    while ((de = dict_iter_next(dst->d, &it))) zsl_insert(dst->sl, de->u.score, dict_key(de), de->klen);
}

/* Redis's zunionInterDiffGenericCommand. dst_arg 0: reply the result;
 * nk: index of numkeys. */
static void setop_generic(client *c, int dst_arg, int nk, enum setop op, bool card_only, const char *name) {
    long long setnum;
    if (!arg_ll_or_reply(c, &c->argv[nk], &setnum, NULL)) return;
    if (setnum < 1) {
        add_reply_errorf(c, "ERR at least 1 input key is needed for '%s' command", name);
        return;
    }
    if (setnum > c->argc - (nk + 1)) {
        add_reply_error(c, ERR_SYNTAX);
        return;
    }
    zsrc *src = mem_calloc((size_t)setnum, sizeof(zsrc));
    int j = nk + 1;
    for (long long i = 0; i < setnum; i++, j++) {
        dbkey k;
        dbkey_init(&k, c->db, c->argv[j].ptr, c->argv[j].len);
        entry *e = db_lookup(&k, LOOKUP_READ, NULL);
        if (e && entry_type(e) != OBJ_ZSET && entry_type(e) != OBJ_SET) {
            mem_free(src);
            add_reply_error(c, ERR_WRONGTYPE);
            return;
        }
        if (e && entry_type(e) == OBJ_SET) {
            src[i].set = entry_ptr(e);
            src[i].len = set_size(src[i].set);
        } else if (e) {
            src[i].z = entry_ptr(e);
            src[i].len = zset_len(src[i].z);
        }
        src[i].weight = 1.0;
        src[i].order = (int)i;
    }
    enum aggr aggr = AGGR_SUM;
    bool withscores = false;
    long long limit = 0;
    int remaining = c->argc - j;
    while (remaining) {
        const arg_t *a = &c->argv[j];
        if (op != OP_DIFF && !card_only && remaining >= setnum + 1 && arg_eq(a, "weights")) {
            j++;
            remaining--;
            for (long long i = 0; i < setnum; i++, j++, remaining--) {
                if (!arg_double_or_reply(c, &c->argv[j], &src[i].weight, "ERR weight value is not a float")) {
                    mem_free(src);
                    return;
                }
            }
        } else if (op != OP_DIFF && !card_only && remaining >= 2 && arg_eq(a, "aggregate")) {
            j++;
            remaining--;
            if (arg_eq(&c->argv[j], "sum")) {
                aggr = AGGR_SUM;
            } else if (arg_eq(&c->argv[j], "min")) {
                aggr = AGGR_MIN;
            } else if (arg_eq(&c->argv[j], "max")) {
                aggr = AGGR_MAX;
            } else {
                mem_free(src);
                add_reply_error(c, ERR_SYNTAX);
                return;
            }
            j++;
            remaining--;
        } else if (remaining >= 1 && !dst_arg && !card_only && arg_eq(a, "withscores")) {
            j++;
            remaining--;
            withscores = true;
        } else if (card_only && remaining >= 2 && arg_eq(a, "limit")) {
            j++;
            remaining--;
            if (!parse_ll(c->argv[j].ptr, c->argv[j].len, &limit) || limit < 0) {
                mem_free(src);
                add_reply_error(c, "ERR LIMIT can't be negative");
                return;
            }
            j++;
            remaining--;
        } else {
            mem_free(src);
            add_reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    if (op != OP_DIFF) qsort(src, (size_t)setnum, sizeof(zsrc), src_cmp_len);

    zset *dst = zset_new_skiplist();
    unsigned long long cardinality = 0;
    const char *m;
    size_t len;
    double s;
    src_iter it;
    if (op == OP_INTER) {
        if (src[0].len > 0) {
            src_iter_init(&it, &src[0]);
            while (src_iter_next(&it, &m, &len, &s)) {
                double score = src[0].weight * s, value;
                if (isnan(score)) score = 0;
                long long i;
                for (i = 1; i < setnum; i++) {
                    if (!src_find(&src[i], m, len, &value)) break;
                    value *= src[i].weight;
                    aggregate(&score, value, aggr);
                }
                if (i < setnum) continue;
                if (card_only) {
                    cardinality++;
                    if (limit && cardinality >= (unsigned long long)limit) break;
                } else {
                    acc_add(dst, m, len, score);
                }
            }
        }
    } else if (op == OP_UNION) {
        for (long long i = 0; i < setnum; i++) {
            if (src[i].len == 0) continue;
            src_iter_init(&it, &src[i]);
            while (src_iter_next(&it, &m, &len, &s)) {
                double score = src[i].weight * s;
                if (isnan(score)) score = 0;
                dict_entry *de = dict_find(dst->d, m, len);
                if (!de)
                    acc_add(dst, m, len, score);
                else
                    aggregate(&de->u.score, score, aggr);
            }
        }
    } else if (src[0].len > 0) {
        src_iter_init(&it, &src[0]);
        while (src_iter_next(&it, &m, &len, &s)) {
            double value;
            long long i;
            for (i = 1; i < setnum; i++)
                if (src_find(&src[i], m, len, &value)) break;
            if (i == setnum) acc_add(dst, m, len, s);
        }
    }
    mem_free(src);
    finish_result(dst);

    if (dst_arg) {
        zset_store(c, dst_arg, dst, op == OP_UNION ? "zunionstore" : op == OP_INTER ? "zinterstore" : "zdiffstore");
        return;
    }
    if (card_only) {
        add_reply_integer(c, (long long)cardinality);
    } else {
        zset_reply_array_len(c, (long)zset_len(dst), withscores);
        for (zsl_node *x = zsl_first(dst->sl); x; x = zsl_next(x))
            zset_reply_elem(c, x->ele, dict_key_len(x->ele), x->score, withscores);
    }
    zset_free(dst);
}

void zunion_command(client *c) { setop_generic(c, 0, 1, OP_UNION, false, "zunion"); }
void zinter_command(client *c) { setop_generic(c, 0, 1, OP_INTER, false, "zinter"); }
void zdiff_command(client *c) { setop_generic(c, 0, 1, OP_DIFF, false, "zdiff"); }
void zunionstore_command(client *c) { setop_generic(c, 1, 2, OP_UNION, false, "zunionstore"); }
void zinterstore_command(client *c) { setop_generic(c, 1, 2, OP_INTER, false, "zinterstore"); }
void zdiffstore_command(client *c) { setop_generic(c, 1, 2, OP_DIFF, false, "zdiffstore"); }
void zintercard_command(client *c) { setop_generic(c, 0, 1, OP_INTER, true, "zintercard"); }

/* ------------------------------------------------------------ ZRANDMEMBER */

static void rand_elem(const zset *z, unsigned long size, const char **m, size_t *len, double *s) {
    zset_at(z, (long)(db_random() % size), m, len, s);
}

static int cmp_long(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

/* count distinct random ranks out of size (count < size), into out[];
 * sorted ascending when `sorted`. */
static void rand_unique_ranks(unsigned long size, unsigned long count, long *out, bool sorted) {
    if (count * 3 > size) {
        /* Partial Fisher-Yates over all ranks. */
        long *all = mem_alloc(size * sizeof(long));
        for (unsigned long i = 0; i < size; i++) all[i] = (long)i;
        for (unsigned long i = 0; i < count; i++) {
            unsigned long j = i + db_random() % (size - i);
            long t = all[i];
            all[i] = all[j];
            all[j] = t;
        }
        memcpy(out, all, count * sizeof(long));
        mem_free(all);
    } else {
        /* Rejection sampling with an open-addressing set of ranks. */
        unsigned long cap = 16;
        while (cap < count * 2) cap *= 2;
        long *seen = mem_alloc(cap * sizeof(long));
        for (unsigned long i = 0; i < cap; i++) seen[i] = -1;
        unsigned long n = 0;
        while (n < count) {
            long r = (long)(db_random() % size);
            unsigned long h = ((unsigned long)r * 0x9e3779b97f4a7c15ULL) & (cap - 1);
            while (seen[h] != -1 && seen[h] != r) h = (h + 1) & (cap - 1);
            if (seen[h] == r) continue;
            seen[h] = r;
            out[n++] = r;
        }
        mem_free(seen);
    }
    if (sorted) qsort(out, count, sizeof(long), cmp_long);
}

static void zrandmember_with_count(client *c) {
    long long l;
    if (!arg_ll_or_reply(c, &c->argv[2], &l, NULL)) return;
    if (l == LLONG_MIN) {
        add_reply_error(c, "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
        return;
    }
    bool withscores = false;
    if (c->argc > 4 || (c->argc == 4 && !arg_eq(&c->argv[3], "withscores"))) {
        add_reply_error(c, ERR_SYNTAX);
        return;
    } else if (c->argc == 4) {
        withscores = true;
        if (l < -LLONG_MAX / 2 || l > LLONG_MAX / 2) {
            add_reply_error(c, "ERR value is out of range");
            return;
        }
    }
    dbkey k;
    bool err;
    entry *e = zset_lookup(c, 1, &k, LOOKUP_READ, NULL, &err);
    if (err) return;
    if (!e) {
        add_reply_array(c, 0);
        return;
    }
    const zset *z = entry_ptr(e);
    bool uniq = l >= 0;
    unsigned long count = uniq ? (unsigned long)l : (unsigned long)-l;
    if (count == 0) {
        add_reply_array(c, 0);
        return;
    }
    unsigned long size = zset_len(z);
    const char *m;
    size_t len;
    double s;
    if (!uniq || count == 1) {
        zset_reply_array_len(c, (long)count, withscores);
        for (unsigned long i = 0; i < count; i++) {
            rand_elem(z, size, &m, &len, &s);
            zset_reply_elem(c, m, len, s, withscores);
        }
        return;
    }
    if (count >= size) {
        /* The whole set, walked from the tail as Redis's iterator does. */
        zset_reply_array_len(c, (long)size, withscores);
        for (long r = (long)size - 1; r >= 0; r--) {
            zset_at(z, r, &m, &len, &s);
            zset_reply_elem(c, m, len, s, withscores);
        }
        return;
    }
    long *ranks = mem_alloc(count * sizeof(long));
    /* Listpack sets answer in their own order, skiplist ones at random. */
    rand_unique_ranks(size, count, ranks, z->enc == ENC_LISTPACK);
    zset_reply_array_len(c, (long)count, withscores);
    for (unsigned long i = 0; i < count; i++) {
        zset_at(z, ranks[i], &m, &len, &s);
        zset_reply_elem(c, m, len, s, withscores);
    }
    mem_free(ranks);
}

void zrandmember_command(client *c) {
    if (c->argc >= 3) {
        zrandmember_with_count(c);
        return;
    }
    dbkey k;
    bool err;
    entry *e = zset_lookup(c, 1, &k, LOOKUP_READ, NULL, &err);
    if (err) return;
    if (!e) {
        add_reply_null(c);
        return;
    }
    const zset *z = entry_ptr(e);
    const char *m;
    size_t len;
    double s;
    rand_elem(z, zset_len(z), &m, &len, &s);
    add_reply_bulk(c, m, len);
}

/* ------------------------------------------------------------ ZSCAN */

typedef struct {
    const char **m;
    size_t *len;
    double *score;
    size_t n, cap;
} scan_list;

static void scan_push(scan_list *l, const char *m, size_t len, double score) {
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->m = mem_realloc(l->m, l->cap * sizeof(char *));
        l->len = mem_realloc(l->len, l->cap * sizeof(size_t));
        l->score = mem_realloc(l->score, l->cap * sizeof(double));
    }
    l->m[l->n] = m;
    l->len[l->n] = len;
    l->score[l->n] = score;
    l->n++;
}

static void scan_cb(const dict_entry *de, void *arg) { scan_push(arg, dict_key(de), de->klen, de->u.score); }

void zscan_command(client *c) {
    uint64_t cursor;
    if (!parse_scan_cursor(c->argv[2].ptr, c->argv[2].len, &cursor)) {
        add_reply_error(c, "ERR invalid cursor");
        return;
    }
    dbkey k;
    bool err;
    entry *e = zset_lookup(c, 1, &k, LOOKUP_READ, NULL, &err);
    if (err) return;
    if (!e) {
        add_reply_array(c, 2);
        add_reply_bulk(c, "0", 1);
        add_reply_array(c, 0);
        return;
    }
    long long count = 10;
    const char *pat = NULL;
    size_t patlen = 0;
    for (int i = 3; i < c->argc;) {
        int left = c->argc - i;
        if (arg_eq(&c->argv[i], "count") && left >= 2) {
            if (!arg_ll_or_reply(c, &c->argv[i + 1], &count, NULL)) return;
            if (count < 1) {
                add_reply_error(c, ERR_SYNTAX);
                return;
            }
            i += 2;
        } else if (arg_eq(&c->argv[i], "match") && left >= 2) {
            pat = c->argv[i + 1].ptr;
            patlen = c->argv[i + 1].len;
            if (patlen == 1 && pat[0] == '*') pat = NULL;
            i += 2;
        } else {
            add_reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    const zset *z = entry_ptr(e);
    scan_list l = {0};
    if (z->enc == ENC_LISTPACK) {
        zset_iter it;
        const char *m;
        size_t len;
        double s;
        zset_iter_init(&it, z);
        while (zset_iter_next(&it, &m, &len, &s)) scan_push(&l, m, len, s);
        cursor = 0;
    } else {
        long long maxiter = count * 10;
        do {
            cursor = dict_scan(z->d, cursor, scan_cb, &l);
        } while (cursor && maxiter-- && (long long)l.n < count);
    }
    size_t keep = 0;
    for (size_t i = 0; i < l.n; i++) {
        if (pat && !glob_match(pat, patlen, l.m[i], l.len[i], false)) continue;
        l.m[keep] = l.m[i];
        l.len[keep] = l.len[i];
        l.score[keep] = l.score[i];
        keep++;
    }
    char cbuf[24];
    size_t clen = (size_t)snprintf(cbuf, sizeof cbuf, "%llu", (unsigned long long)cursor);
    add_reply_array(c, 2);
    add_reply_bulk(c, cbuf, clen);
    add_reply_array(c, (long long)keep * 2);
    for (size_t i = 0; i < keep; i++) {
        char sbuf[64];
        size_t slen = format_double(sbuf, sizeof sbuf, l.score[i]);
        add_reply_bulk(c, l.m[i], l.len[i]);
        add_reply_bulk(c, sbuf, slen);
    }
    mem_free(l.m);
    mem_free(l.len);
    mem_free(l.score);
}
