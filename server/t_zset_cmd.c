/*
 * t_zset_cmd.c - the sorted set commands that add, remove, score, count
 * and range (ZADD, ZINCRBY, ZREM, ZSCORE, ZMSCORE, ZCARD, ZCOUNT,
 * ZLEXCOUNT, the ZRANGE family and ZRANGESTORE, ZRANK, ZREVRANK,
 * ZREMRANGEBY*), the helpers the command files share, and the command
 * table (zset_commands). Pops, set operations, ZRANDMEMBER and ZSCAN are
 * in t_zset_ops.c.
 *
 * Design choices a reader must know:
 * - Every range command reduces its arguments (ranks, score or lex range,
 *   LIMIT, REV) to a forward rank interval [lo, hi] plus a direction, then
 *   visits it; argument checks run in Redis's order so the first error
 *   reported is the one Redis reports.
 * - A set is changed in place; the entry's encoding byte is refreshed and
 *   the change stated to the write funnel (db_changed: WATCH, dirty,
 *   stream, notification, blocking wake-up) by the command after it.
 */
#include "client.h"
#include "command_modules.h"
#include "commands.h"
#include "db.h"
#include "entry.h"
#include "mem.h"
#include "notify.h"
#include "numparse.h"
#include "t_zset.h"

#include <math.h>
#include <string.h>

#define ERR_MINMAX_FLOAT "ERR min or max is not a float"
#define ERR_MINMAX_LEX "ERR min or max not valid string range item"

/* ------------------------------------------------------------ shared helpers */

entry *zset_lookup(client *c, int i, dbkey *k, int flags, long *pos, bool *err) {
    dbkey_init(k, c->db, c->argv[i].ptr, c->argv[i].len);
    entry *e = db_lookup(k, flags, pos);
    *err = reply_wrong_type(c, e, OBJ_ZSET);
    return *err ? NULL : e;
}

void zset_sync_encoding(entry *e) {
    zset *z = entry_ptr(e);
    if (entry_encoding(e) != z->enc) entry_set_encoding(e, z->enc);
}

void zset_removed(const dbkey *k, entry *e, const char *event) {
    bool emptied = zset_len(entry_ptr(e)) == 0;
    if (!emptied) zset_sync_encoding(e);
    db_changed_removed(k, NOTIFY_ZSET, event, emptied);
}

void zset_store(client *c, int dst_arg, zset *z, const char *event) {
    dbkey k;
    dbkey_init(&k, c->db, c->argv[dst_arg].ptr, c->argv[dst_arg].len);
    unsigned long n = zset_len(z);
    if (n == 0) {
        zset_free(z);
        add_reply_integer(c, 0);
        if (db_delete(&k)) db_changed(&k, NOTIFY_GENERIC, "del");
        return;
    }
    zset_limits lim;
    zset_limits_from_config(&lim);
    zset_fit_encoding(z, &lim);
    db_set(&k, entry_new_ptr(k.key, k.len, OBJ_ZSET, z->enc, z, -1));
    add_reply_integer(c, (long long)n);
    db_changed(&k, NOTIFY_ZSET, event);
}

zset *zset_for_adding(const dbkey *k, entry **e, zset_limits *lim) {
    if (!*e) {
        *e = entry_new_ptr(k->key, k->len, OBJ_ZSET, ENC_LISTPACK, zset_new(), -1);
        db_add(k, *e);
    }
    zset *z = entry_ptr(*e);
    /* Skiplist sets never convert back: only a listpack needs the limits
     * (reading them takes the config lock). */
    *lim = (zset_limits){0};
    if (z->enc == ENC_LISTPACK) zset_limits_from_config(lim);
    return z;
}

void zset_reply_array_len(client *c, long n, bool withscores) {
    add_reply_array(c, withscores && c->resp == 2 ? 2 * n : n);
}

void zset_reply_elem(client *c, const char *m, size_t len, double score, bool withscores) {
    if (withscores && c->resp > 2) add_reply_array(c, 2);
    add_reply_bulk(c, m, len);
    if (withscores) add_reply_double(c, score);
}

/* ------------------------------------------------------------ ZADD / ZINCRBY */

static void zadd_generic(client *c, int flags) {
    int scoreidx = 2;
    bool ch = false;
    while (scoreidx < c->argc) {
        const arg_t *a = &c->argv[scoreidx];
        if (arg_eq(a, "nx"))
            flags |= ZADD_IN_NX;
        else if (arg_eq(a, "xx"))
            flags |= ZADD_IN_XX;
        else if (arg_eq(a, "ch"))
            ch = true;
        else if (arg_eq(a, "incr"))
            flags |= ZADD_IN_INCR;
        else if (arg_eq(a, "gt"))
            flags |= ZADD_IN_GT;
        else if (arg_eq(a, "lt"))
            flags |= ZADD_IN_LT;
        else
            break;
        scoreidx++;
    }
    bool incr = flags & ZADD_IN_INCR, nx = flags & ZADD_IN_NX, xx = flags & ZADD_IN_XX;
    bool gt = flags & ZADD_IN_GT, lt = flags & ZADD_IN_LT;
    int elements = c->argc - scoreidx;
    if (elements % 2 || !elements) {
        add_reply_error(c, ERR_SYNTAX);
        return;
    }
    elements /= 2;
    if (nx && xx) {
        add_reply_error(c, "ERR XX and NX options at the same time are not compatible");
        return;
    }
    if ((gt && nx) || (lt && nx) || (gt && lt)) {
        add_reply_error(c, "ERR GT, LT, and/or NX options at the same time are not compatible");
        return;
    }
    if (incr && elements > 1) {
        add_reply_error(c, "ERR INCR option supports a single increment-element pair");
        return;
    }
    double stack_scores[16];
    double *scores = elements <= 16 ? stack_scores : mem_alloc((size_t)elements * sizeof(double));
    for (int j = 0; j < elements; j++)
        if (!arg_double_or_reply(c, &c->argv[scoreidx + 2 * j], &scores[j], NULL)) goto cleanup;

    dbkey k;
    bool err;
    entry *e = zset_lookup(c, 1, &k, LOOKUP_WRITE, NULL, &err);
    if (err) goto cleanup;
    long added = 0, updated = 0, processed = 0;
    double score = 0;
    if (!e && xx) goto reply; /* no key + XX: nothing to do */
    zset_limits lim;
    zset *z = zset_for_adding(&k, &e, &lim);
    for (int j = 0; j < elements; j++) {
        const arg_t *m = &c->argv[scoreidx + 2 * j + 1];
        int out;
        double newscore = 0;
        score = scores[j];
        if (!zset_add(z, score, m->ptr, m->len, flags, &out, &newscore, z->enc == ENC_LISTPACK ? &lim : NULL)) {
            add_reply_error(c, "ERR resulting score is not a number (NaN)");
            zset_sync_encoding(e);
            goto epilogue;
        }
        if (out & ZADD_OUT_ADDED) added++;
        if (out & ZADD_OUT_UPDATED) updated++;
        if (!(out & ZADD_OUT_NOP)) processed++;
        score = newscore;
    }
    zset_sync_encoding(e);
reply:
    if (incr) {
        if (processed)
            add_reply_double(c, score);
        else
            add_reply_null(c);
    } else {
        add_reply_integer(c, ch ? added + updated : added);
    }
epilogue:
    if (added || updated) db_changed(&k, NOTIFY_ZSET, incr ? "zincr" : "zadd");
cleanup:
    if (scores != stack_scores) mem_free(scores);
}

static void zadd_command(client *c) { zadd_generic(c, 0); }
static void zincrby_command(client *c) { zadd_generic(c, ZADD_IN_INCR); }

/* ------------------------------------------------------------ ZREM / ZSCORE / ZCARD */

static void zrem_command(client *c) {
    dbkey k;
    bool err;
    entry *e = zset_lookup(c, 1, &k, LOOKUP_WRITE, NULL, &err);
    if (err) return;
    if (!e) {
        add_reply_integer(c, 0);
        return;
    }
    zset *z = entry_ptr(e);
    long deleted = 0;
    for (int j = 2; j < c->argc; j++) {
        if (zset_del(z, c->argv[j].ptr, c->argv[j].len)) deleted++;
        if (zset_len(z) == 0) break;
    }
    if (deleted) zset_removed(&k, e, "zrem");
    add_reply_integer(c, deleted);
}

static void zscore_command(client *c) {
    dbkey k;
    bool err;
    entry *e = zset_lookup(c, 1, &k, LOOKUP_READ, NULL, &err);
    if (err) return;
    double s;
    if (!e || !zset_score(entry_ptr(e), c->argv[2].ptr, c->argv[2].len, &s))
        add_reply_null(c);
    else
        add_reply_double(c, s);
}

static void zmscore_command(client *c) {
    dbkey k;
    bool err;
    entry *e = zset_lookup(c, 1, &k, LOOKUP_READ, NULL, &err);
    if (err) return;
    add_reply_array(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        double s;
        if (!e || !zset_score(entry_ptr(e), c->argv[j].ptr, c->argv[j].len, &s))
            add_reply_null(c);
        else
            add_reply_double(c, s);
    }
}

static void zcard_command(client *c) {
    dbkey k;
    bool err;
    entry *e = zset_lookup(c, 1, &k, LOOKUP_READ, NULL, &err);
    if (err) return;
    add_reply_integer(c, e ? (long long)zset_len(entry_ptr(e)) : 0);
}

static void zcount_command(client *c) {
    zrange_score r;
    if (!zset_parse_score_range(c->argv[2].ptr, c->argv[2].len, c->argv[3].ptr, c->argv[3].len, &r)) {
        add_reply_error(c, ERR_MINMAX_FLOAT);
        return;
    }
    dbkey k;
    bool err;
    entry *e = zset_lookup(c, 1, &k, LOOKUP_READ, NULL, &err);
    if (err) return;
    long lo, hi;
    add_reply_integer(c, e && zset_score_interval(entry_ptr(e), &r, &lo, &hi) ? hi - lo + 1 : 0);
}

static void zlexcount_command(client *c) {
    zrange_lex r;
    if (!zset_parse_lex_range(c->argv[2].ptr, c->argv[2].len, c->argv[3].ptr, c->argv[3].len, &r)) {
        add_reply_error(c, ERR_MINMAX_LEX);
        return;
    }
    dbkey k;
    bool err;
    entry *e = zset_lookup(c, 1, &k, LOOKUP_READ, NULL, &err);
    if (err) return;
    long long count = 0;
    zset *z = zset_of(e);
    if (z && z->enc == ENC_SKIPLIST) {
        /* Redis's rank arithmetic between the first and last in range. */
        unsigned long first, last, len = zsl_length(z->sl);
        if (zsl_first_in_lex(z->sl, &r, &first)) {
            count = (long long)(len - (first - 1));
            if (zsl_last_in_lex(z->sl, &r, &last)) count -= (long long)(len - last);
        }
    } else if (z) {
        long lo, hi;
        if (zset_lex_interval(z, &r, &lo, &hi)) count = hi - lo + 1;
    }
    add_reply_integer(c, count);
}

static void zrank_generic(client *c, bool rev) {
    dbkey k;
    bool err;
    entry *e = zset_lookup(c, 1, &k, LOOKUP_READ, NULL, &err);
    if (err) return;
    long rank = e ? zset_rank(entry_ptr(e), c->argv[2].ptr, c->argv[2].len, rev) : -1;
    if (rank < 0)
        add_reply_null(c);
    else
        add_reply_integer(c, rank);
}

static void zrank_command(client *c) { zrank_generic(c, false); }
static void zrevrank_command(client *c) { zrank_generic(c, true); }

/* ------------------------------------------------------------ ZRANGE family */

enum zr_type { ZR_AUTO, ZR_RANK, ZR_SCORE, ZR_LEX };
enum zr_dir { ZR_DIR_AUTO, ZR_FORWARD, ZR_REVERSE };

static bool arg_long(client *c, const arg_t *a, long *out) {
    long long v;
    if (!arg_ll_or_reply(c, a, &v, NULL)) return false;
    *out = (long)v;
    return true;
}

typedef struct {
    client *c;
    bool withscores;
    zset *dst;          /* store: the set being built */
    zset_limits lim;
} zr_emit;

static void emit_client(const char *m, size_t len, double score, void *arg) {
    zr_emit *em = arg;
    zset_reply_elem(em->c, m, len, score, em->withscores);
}

static void emit_store(const char *m, size_t len, double score, void *arg) {
    zr_emit *em = arg;
    int out;
    zset_add(em->dst, score, m, len, 0, &out, NULL, &em->lim);
}

/* Emit forward ranks lo..hi (lo > hi: nothing) to the client or the
 * destination. */
static void zrange_emit(zr_emit *em, const zset *z, long lo, long hi, bool rev, bool by_rank) {
    long n = lo <= hi ? hi - lo + 1 : 0;
    if (em->dst) {
        /* Redis sizes the destination from a rank range's length up front
         * (which decides whether a -0 score survives as -0). */
        if (by_rank && (unsigned long long)n > em->lim.max_entries) zset_convert(em->dst, ENC_SKIPLIST);
        if (n) zset_visit(z, lo, hi, rev, emit_store, em);
        return;
    }
    zset_reply_array_len(em->c, n, em->withscores);
    if (n) zset_visit(z, lo, hi, rev, emit_client, em);
}

/* Apply LIMIT offset/count to the interval [lo, hi] walked in direction
 * rev (Redis skips `offset` members, a negative offset skips them all; a
 * negative count means all). */
static void apply_limit(long *lo, long *hi, bool rev, long offset, long limit) {
    long n = *hi - *lo + 1;
    if (offset < 0 || offset >= n || limit == 0) {
        *lo = 1;
        *hi = 0;
        return;
    }
    long take = n - offset;
    if (limit > 0 && limit < take) take = limit;
    if (!rev) {
        *lo += offset;
        *hi = *lo + take - 1;
    } else {
        *hi -= offset;
        *lo = *hi - take + 1;
    }
}

/* Redis's zrangeGenericCommand: argv[argc_start] is the source key. */
static void zrange_generic(client *c, int argc_start, bool store, enum zr_type type, enum zr_dir dir) {
    int minidx = argc_start + 1, maxidx = argc_start + 2;
    long opt_offset = 0, opt_limit = -1;
    bool withscores = false;
    for (int j = argc_start + 3; j < c->argc; j++) {
        int left = c->argc - j - 1;
        const arg_t *a = &c->argv[j];
        if (!store && arg_eq(a, "withscores")) {
            withscores = true;
        } else if (arg_eq(a, "limit") && left >= 2) {
            if (!arg_long(c, &c->argv[j + 1], &opt_offset) || !arg_long(c, &c->argv[j + 2], &opt_limit)) return;
            j += 2;
        } else if (dir == ZR_DIR_AUTO && arg_eq(a, "rev")) {
            dir = ZR_REVERSE;
        } else if (type == ZR_AUTO && arg_eq(a, "bylex")) {
            type = ZR_LEX;
        } else if (type == ZR_AUTO && arg_eq(a, "byscore")) {
            type = ZR_SCORE;
        } else {
            add_reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    if (dir == ZR_DIR_AUTO) dir = ZR_FORWARD;
    if (type == ZR_AUTO) type = ZR_RANK;
    if (opt_limit != -1 && type == ZR_RANK) {
        add_reply_error(c, "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
        return;
    }
    if (withscores && type == ZR_LEX) {
        add_reply_error(c, "ERR syntax error, WITHSCORES not supported in combination with BYLEX");
        return;
    }
    bool rev = dir == ZR_REVERSE;
    if (rev && type != ZR_RANK) {
        int t = minidx;
        minidx = maxidx;
        maxidx = t;
    }
    long start = 0, end = 0;
    zrange_score sr;
    zrange_lex lr;
    const arg_t *amin = &c->argv[minidx], *amax = &c->argv[maxidx];
    if (type == ZR_RANK) {
        if (!arg_long(c, amin, &start) || !arg_long(c, amax, &end)) return;
    } else if (type == ZR_SCORE) {
        if (!zset_parse_score_range(amin->ptr, amin->len, amax->ptr, amax->len, &sr)) {
            add_reply_error(c, ERR_MINMAX_FLOAT);
            return;
        }
    } else if (!zset_parse_lex_range(amin->ptr, amin->len, amax->ptr, amax->len, &lr)) {
        add_reply_error(c, ERR_MINMAX_LEX);
        return;
    }

    dbkey k;
    bool err;
    entry *e = zset_lookup(c, argc_start, &k, LOOKUP_READ, NULL, &err);
    if (err) return;
    zr_emit em = {.c = c, .withscores = withscores};
    if (store) {
        em.dst = zset_new();
        zset_limits_from_config(&em.lim);
    }
    if (e) {
        zset *z = entry_ptr(e);
        long llen = (long)zset_len(z);
        long lo = 1, hi = 0;
        if (type == ZR_RANK) {
            if (start < 0) start += llen;
            if (end < 0) end += llen;
            if (start < 0) start = 0;
            if (!(start > end || start >= llen)) {
                if (end >= llen) end = llen - 1;
                lo = rev ? llen - 1 - end : start;
                hi = rev ? llen - 1 - start : end;
            }
        } else if (type == ZR_SCORE) {
            if (zset_score_interval(z, &sr, &lo, &hi))
                apply_limit(&lo, &hi, rev, opt_offset, opt_limit);
            else
                lo = 1, hi = 0;
        } else {
            /* Lex: Redis's walk (first in range, skip offset, then while in
             * range), which differs from an interval when scores differ. */
            long first;
            if (opt_offset >= 0 && zset_lex_first(z, &lr, rev, &first)) {
                long s = rev ? first - opt_offset : first + opt_offset;
                long n = zset_lex_run(z, &lr, s, rev, opt_limit < 0 ? -1 : opt_limit);
                if (n > 0) {
                    lo = rev ? s - n + 1 : s;
                    hi = rev ? s : s + n - 1;
                }
            }
        }
        zrange_emit(&em, z, lo, hi, rev, type == ZR_RANK);
    } else if (!store) {
        add_reply_array(c, 0);
    }
    if (store) zset_store(c, 1, em.dst, "zrangestore");
}

static void zrange_command(client *c) { zrange_generic(c, 1, false, ZR_AUTO, ZR_DIR_AUTO); }
static void zrangestore_command(client *c) { zrange_generic(c, 2, true, ZR_AUTO, ZR_DIR_AUTO); }
static void zrevrange_command(client *c) { zrange_generic(c, 1, false, ZR_RANK, ZR_REVERSE); }
static void zrangebyscore_command(client *c) { zrange_generic(c, 1, false, ZR_SCORE, ZR_FORWARD); }
static void zrevrangebyscore_command(client *c) { zrange_generic(c, 1, false, ZR_SCORE, ZR_REVERSE); }
static void zrangebylex_command(client *c) { zrange_generic(c, 1, false, ZR_LEX, ZR_FORWARD); }
static void zrevrangebylex_command(client *c) { zrange_generic(c, 1, false, ZR_LEX, ZR_REVERSE); }

/* ------------------------------------------------------------ ZREMRANGEBY* */

static void zremrange_generic(client *c, enum zr_type type) {
    long start = 0, end = 0;
    zrange_score sr;
    zrange_lex lr;
    const arg_t *a = &c->argv[2], *b = &c->argv[3];
    if (type == ZR_RANK) {
        if (!arg_long(c, a, &start) || !arg_long(c, b, &end)) return;
    } else if (type == ZR_SCORE) {
        if (!zset_parse_score_range(a->ptr, a->len, b->ptr, b->len, &sr)) {
            add_reply_error(c, ERR_MINMAX_FLOAT);
            return;
        }
    } else if (!zset_parse_lex_range(a->ptr, a->len, b->ptr, b->len, &lr)) {
        add_reply_error(c, ERR_MINMAX_LEX);
        return;
    }
    dbkey k;
    bool err;
    entry *e = zset_lookup(c, 1, &k, LOOKUP_WRITE, NULL, &err);
    if (err) return;
    if (!e) {
        add_reply_integer(c, 0);
        return;
    }
    zset *z = entry_ptr(e);
    long lo, hi;
    if (type == ZR_RANK) {
        long llen = (long)zset_len(z);
        if (start < 0) start += llen;
        if (end < 0) end += llen;
        if (start < 0) start = 0;
        if (start > end || start >= llen) {
            add_reply_integer(c, 0);
            return;
        }
        if (end >= llen) end = llen - 1;
        lo = start;
        hi = end;
    } else if (!(type == ZR_SCORE ? zset_score_interval(z, &sr, &lo, &hi) : zset_lex_interval(z, &lr, &lo, &hi))) {
        add_reply_integer(c, 0);
        return;
    }
    unsigned long deleted = zset_delete_ranks(z, lo, hi);
    if (deleted) {
        const char *event = type == ZR_RANK ? "zremrangebyrank" : type == ZR_SCORE ? "zremrangebyscore" : "zremrangebylex";
        zset_removed(&k, e, event);
    }
    add_reply_integer(c, (long long)deleted);
}

static void zremrangebyrank_command(client *c) { zremrange_generic(c, ZR_RANK); }
static void zremrangebyscore_command(client *c) { zremrange_generic(c, ZR_SCORE); }
static void zremrangebylex_command(client *c) { zremrange_generic(c, ZR_LEX); }

/* ------------------------------------------------------------ table */

#define ZKEY1 .first_key = 1, .last_key = 1, .key_step = 1
#define ZGROUP .group = "sorted-set"

command zset_commands[] = {
    {.name = "zadd", .arity = -4, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, ZKEY1, .proc = zadd_command, ZGROUP,
     .since = "1.2.0",
     .summary = "Add one or more members to a sorted set, or update its score if it already exists",
     .complexity = "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
     .acl_categories = "write sortedset fast"},
    {.name = "zincrby", .arity = 4, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, ZKEY1, .proc = zincrby_command,
     ZGROUP, .since = "1.2.0", .summary = "Increment the score of a member in a sorted set",
     .complexity = "O(log(N)) where N is the number of elements in the sorted set.",
     .acl_categories = "write sortedset fast"},
    {.name = "zrem", .arity = -3, .flags = CMD_WRITE | CMD_FAST, ZKEY1, .proc = zrem_command, ZGROUP,
     .since = "1.2.0", .summary = "Remove one or more members from a sorted set",
     .complexity = "O(M*log(N)) with N being the number of elements in the sorted set and M the number of "
                   "elements to be removed.",
     .acl_categories = "write sortedset fast"},
    {.name = "zscore", .arity = 3, .flags = CMD_READONLY | CMD_FAST, ZKEY1, .proc = zscore_command, ZGROUP,
     .since = "1.2.0", .summary = "Get the score associated with the given member in a sorted set",
     .complexity = "O(1)", .acl_categories = "read sortedset fast"},
    {.name = "zmscore", .arity = -3, .flags = CMD_READONLY | CMD_FAST, ZKEY1, .proc = zmscore_command, ZGROUP,
     .since = "6.2.0", .summary = "Get the score associated with the given members in a sorted set",
     .complexity = "O(N) where N is the number of members being requested.",
     .acl_categories = "read sortedset fast"},
    {.name = "zcard", .arity = 2, .flags = CMD_READONLY | CMD_FAST, ZKEY1, .proc = zcard_command, ZGROUP,
     .since = "1.2.0", .summary = "Get the number of members in a sorted set", .complexity = "O(1)",
     .acl_categories = "read sortedset fast"},
    {.name = "zcount", .arity = 4, .flags = CMD_READONLY | CMD_FAST, ZKEY1, .proc = zcount_command, ZGROUP,
     .since = "2.0.0", .summary = "Count the members in a sorted set with scores within the given values",
     .complexity = "O(log(N)) with N being the number of elements in the sorted set.",
     .acl_categories = "read sortedset fast"},
    {.name = "zlexcount", .arity = 4, .flags = CMD_READONLY | CMD_FAST, ZKEY1, .proc = zlexcount_command, ZGROUP,
     .since = "2.8.9",
     .summary = "Count the number of members in a sorted set between a given lexicographical range",
     .complexity = "O(log(N)) with N being the number of elements in the sorted set.",
     .acl_categories = "read sortedset fast"},
    {.name = "zrange", .arity = -4, .flags = CMD_READONLY, ZKEY1, .proc = zrange_command, ZGROUP, .since = "1.2.0",
     .summary = "Return a range of members in a sorted set",
     .complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
                   "elements returned.",
     .acl_categories = "read sortedset slow"},
    {.name = "zrangestore", .arity = -5, .flags = CMD_WRITE | CMD_DENYOOM, .first_key = 1, .last_key = 2,
     .key_step = 1, .proc = zrangestore_command, ZGROUP, .since = "6.2.0",
     .summary = "Store a range of members from sorted set into another key",
     .complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
                   "elements stored into the destination key.",
     .acl_categories = "write sortedset slow"},
    {.name = "zrevrange", .arity = -4, .flags = CMD_READONLY, ZKEY1, .proc = zrevrange_command, ZGROUP,
     .since = "1.2.0",
     .summary = "Return a range of members in a sorted set, by index, with scores ordered from high to low",
     .complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
                   "elements returned.",
     .acl_categories = "read sortedset slow"},
    {.name = "zrangebyscore", .arity = -4, .flags = CMD_READONLY, ZKEY1, .proc = zrangebyscore_command, ZGROUP,
     .since = "1.0.5", .summary = "Return a range of members in a sorted set, by score",
     .complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
                   "elements being returned. If M is constant (e.g. always asking for the first 10 elements "
                   "with LIMIT), you can consider it O(log(N)).",
     .acl_categories = "read sortedset slow"},
    {.name = "zrevrangebyscore", .arity = -4, .flags = CMD_READONLY, ZKEY1, .proc = zrevrangebyscore_command,
     ZGROUP, .since = "2.2.0",
     .summary = "Return a range of members in a sorted set, by score, with scores ordered from high to low",
     .complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
                   "elements being returned. If M is constant (e.g. always asking for the first 10 elements "
                   "with LIMIT), you can consider it O(log(N)).",
     .acl_categories = "read sortedset slow"},
    {.name = "zrangebylex", .arity = -4, .flags = CMD_READONLY, ZKEY1, .proc = zrangebylex_command, ZGROUP,
     .since = "2.8.9", .summary = "Return a range of members in a sorted set, by lexicographical range",
     .complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
                   "elements being returned. If M is constant (e.g. always asking for the first 10 elements "
                   "with LIMIT), you can consider it O(log(N)).",
     .acl_categories = "read sortedset slow"},
    {.name = "zrevrangebylex", .arity = -4, .flags = CMD_READONLY, ZKEY1, .proc = zrevrangebylex_command, ZGROUP,
     .since = "2.8.9",
     .summary = "Return a range of members in a sorted set, by lexicographical range, ordered from higher to "
                "lower strings.",
     .complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
                   "elements being returned. If M is constant (e.g. always asking for the first 10 elements "
                   "with LIMIT), you can consider it O(log(N)).",
     .acl_categories = "read sortedset slow"},
    {.name = "zrank", .arity = 3, .flags = CMD_READONLY | CMD_FAST, ZKEY1, .proc = zrank_command, ZGROUP,
     .since = "2.0.0", .summary = "Determine the index of a member in a sorted set", .complexity = "O(log(N))",
     .acl_categories = "read sortedset fast"},
    {.name = "zrevrank", .arity = 3, .flags = CMD_READONLY | CMD_FAST, ZKEY1, .proc = zrevrank_command, ZGROUP,
     .since = "2.0.0",
     .summary = "Determine the index of a member in a sorted set, with scores ordered from high to low",
     .complexity = "O(log(N))", .acl_categories = "read sortedset fast"},
    {.name = "zremrangebyrank", .arity = 4, .flags = CMD_WRITE, ZKEY1, .proc = zremrangebyrank_command, ZGROUP,
     .since = "2.0.0", .summary = "Remove all members in a sorted set within the given indexes",
     .complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
                   "elements removed by the operation.",
     .acl_categories = "write sortedset slow"},
    {.name = "zremrangebyscore", .arity = 4, .flags = CMD_WRITE, ZKEY1, .proc = zremrangebyscore_command, ZGROUP,
     .since = "1.2.0", .summary = "Remove all members in a sorted set within the given scores",
     .complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
                   "elements removed by the operation.",
     .acl_categories = "write sortedset slow"},
    {.name = "zremrangebylex", .arity = 4, .flags = CMD_WRITE, ZKEY1, .proc = zremrangebylex_command, ZGROUP,
     .since = "2.8.9",
     .summary = "Remove all members in a sorted set between the given lexicographical range",
     .complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
                   "elements removed by the operation.",
     .acl_categories = "write sortedset slow"},
    {.name = "zpopmin", .arity = -2, .flags = CMD_WRITE | CMD_FAST, ZKEY1, .proc = zpopmin_command, ZGROUP,
     .since = "5.0.0", .summary = "Remove and return members with the lowest scores in a sorted set",
     .complexity = "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number "
                   "of elements popped.",
     .acl_categories = "write sortedset fast"},
    {.name = "zpopmax", .arity = -2, .flags = CMD_WRITE | CMD_FAST, ZKEY1, .proc = zpopmax_command, ZGROUP,
     .since = "5.0.0", .summary = "Remove and return members with the highest scores in a sorted set",
     .complexity = "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number "
                   "of elements popped.",
     .acl_categories = "write sortedset fast"},
    {.name = "bzpopmin", .arity = -3, .flags = CMD_WRITE | CMD_NOSCRIPT | CMD_BLOCKING | CMD_FAST, .first_key = 1,
     .last_key = -2, .key_step = 1, .proc = bzpopmin_command, ZGROUP, .since = "5.0.0",
     .summary = "Remove and return the member with the lowest score from one or more sorted sets, or block "
                "until one is available",
     .complexity = "O(log(N)) with N being the number of elements in the sorted set.",
     .acl_categories = "write sortedset fast blocking"},
    {.name = "bzpopmax", .arity = -3, .flags = CMD_WRITE | CMD_NOSCRIPT | CMD_BLOCKING | CMD_FAST, .first_key = 1,
     .last_key = -2, .key_step = 1, .proc = bzpopmax_command, ZGROUP, .since = "5.0.0",
     .summary = "Remove and return the member with the highest score from one or more sorted sets, or block "
                "until one is available",
     .complexity = "O(log(N)) with N being the number of elements in the sorted set.",
     .acl_categories = "write sortedset fast blocking"},
    {.name = "zmpop", .arity = -4, .flags = CMD_WRITE, .keys_fn = zset_keys_numkeys1, .proc = zmpop_command,
     ZGROUP, .since = "7.0.0", .summary = "Remove and return members with scores in a sorted set",
     .complexity = "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements "
                   "in the sorted set, and M being the number of elements popped.",
     .acl_categories = "write sortedset slow"},
    {.name = "bzmpop", .arity = -5, .flags = CMD_WRITE | CMD_BLOCKING, .keys_fn = zset_keys_bzmpop,
     .proc = bzmpop_command, ZGROUP, .since = "7.0.0",
     .summary = "Remove and return members with scores in a sorted set or block until one is available",
     .complexity = "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements "
                   "in the sorted set, and M being the number of elements popped.",
     .acl_categories = "write sortedset slow blocking"},
    {.name = "zunion", .arity = -3, .flags = CMD_READONLY, .keys_fn = zset_keys_numkeys1, .proc = zunion_command,
     ZGROUP, .since = "6.2.0", .summary = "Add multiple sorted sets",
     .complexity = "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being "
                   "the number of elements in the resulting sorted set.",
     .acl_categories = "read sortedset slow"},
    {.name = "zinter", .arity = -3, .flags = CMD_READONLY, .keys_fn = zset_keys_numkeys1, .proc = zinter_command,
     ZGROUP, .since = "6.2.0", .summary = "Intersect multiple sorted sets",
     .complexity = "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the "
                   "number of input sorted sets and M being the number of elements in the resulting sorted set.",
     .acl_categories = "read sortedset slow"},
    {.name = "zdiff", .arity = -3, .flags = CMD_READONLY, .keys_fn = zset_keys_numkeys1, .proc = zdiff_command,
     ZGROUP, .since = "6.2.0", .summary = "Subtract multiple sorted sets",
     .complexity = "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N "
                   "is the size of the first set, and K is the size of the result set.",
     .acl_categories = "read sortedset slow"},
    {.name = "zunionstore", .arity = -4, .flags = CMD_WRITE | CMD_DENYOOM, .first_key = 1, .last_key = 1,
     .key_step = 1, .keys_fn = zset_keys_store, .proc = zunionstore_command, ZGROUP, .since = "2.0.0",
     .summary = "Add multiple sorted sets and store the resulting sorted set in a new key",
     .complexity = "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being "
                   "the number of elements in the resulting sorted set.",
     .acl_categories = "write sortedset slow"},
    {.name = "zinterstore", .arity = -4, .flags = CMD_WRITE | CMD_DENYOOM, .first_key = 1, .last_key = 1,
     .key_step = 1, .keys_fn = zset_keys_store, .proc = zinterstore_command, ZGROUP, .since = "2.0.0",
     .summary = "Intersect multiple sorted sets and store the resulting sorted set in a new key",
     .complexity = "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the "
                   "number of input sorted sets and M being the number of elements in the resulting sorted set.",
     .acl_categories = "write sortedset slow"},
    {.name = "zdiffstore", .arity = -4, .flags = CMD_WRITE | CMD_DENYOOM, .first_key = 1, .last_key = 1,
     .key_step = 1, .keys_fn = zset_keys_store, .proc = zdiffstore_command, ZGROUP, .since = "6.2.0",
     .summary = "Subtract multiple sorted sets and store the resulting sorted set in a new key",
     .complexity = "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N "
                   "is the size of the first set, and K is the size of the result set.",
     .acl_categories = "write sortedset slow"},
    {.name = "zintercard", .arity = -3, .flags = CMD_READONLY, .keys_fn = zset_keys_numkeys1,
     .proc = zintercard_command, ZGROUP, .since = "7.0.0",
     .summary = "Intersect multiple sorted sets and return the cardinality of the result",
     .complexity = "O(N*K) worst case with N being the smallest input sorted set, K being the number of input "
                   "sorted sets.",
     .acl_categories = "read sortedset slow"},
    {.name = "zrandmember", .arity = -2, .flags = CMD_READONLY, ZKEY1, .proc = zrandmember_command, ZGROUP,
     .since = "6.2.0", .summary = "Get one or multiple random elements from a sorted set",
     .complexity = "O(N) where N is the number of elements returned", .acl_categories = "read sortedset slow"},
    {.name = "zscan", .arity = -3, .flags = CMD_READONLY, ZKEY1, .proc = zscan_command, ZGROUP, .since = "2.8.0",
     .summary = "Incrementally iterate sorted sets elements and associated scores",
     .complexity = "O(1) for every call. O(N) for a complete iteration, including enough command calls for the "
                   "cursor to return back to 0. N is the number of elements inside the collection..",
     .acl_categories = "read sortedset slow"},
    {0},
};
