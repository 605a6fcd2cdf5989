/*
 * t_list.c - the list type: its keyspace hooks (free, dup, memory, length)
 * and the list commands (LPUSH ... LMPOP and the blocking BLPOP,
 * BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP).
 *
 * Design choices a reader must know:
 * - Every list is a quicklist (quicklist.c) and reports "quicklist", as in
 *   Redis 7.0. Its node size comes from list-max-listpack-size when the
 *   list is created. The entry holds the quicklist pointer, which never
 *   moves, so changes are made in place and end with the write funnel
 *   (db_changed with the list event: WATCH, dirty, stream, event and the
 *   wake-up of blocked clients); a list that becomes empty is deleted.
 * - Blocking commands serve themselves like their non-blocking form and
 *   otherwise call blocking_block_on_args(); blocking.c re-runs the whole command
 *   when a key gets data, so every handler is written to be re-run from
 *   scratch (the saved deadline survives the re-run).
 */
#include "blocking.h"
#include "client.h"
#include "command_modules.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "entry.h"
#include "mem.h"
#include "multi.h"
#include "notify.h"
#include "propagate.h"
#include "numparse.h"
#include "quicklist.h"
#include "t_list.h"
#include "types.h"

#include <limits.h>
#include <string.h>

#define LIST_STACK_ELEM 256

/* ------------------------------------------------------------ type API */

/* list-max-listpack-size as configured now (Redis's default -2: 8 KB). */
int list_fill_from_config(void) {
    long long v = cfg_get(list_max_listpack_size);
    if (v < QL_FILL_MIN) v = QL_FILL_MIN;
    if (v > QL_FILL_MAX) v = QL_FILL_MAX;
    return (int)v;
}

static void list_free_value(void *ptr) { ql_free(ptr); }
static void *list_dup_value(const void *ptr) { return ql_dup(ptr); }
static size_t list_value_mem(const void *ptr) { return ql_mem(ptr); }
static size_t list_length(const void *ptr) { return ql_count(ptr); }

static const entry_type_ops list_ops = {
    .free_value = list_free_value,
    .dup_value = list_dup_value,
    .value_mem = list_value_mem,
    .length = list_length,
};

void t_list_init(void) { entry_register_type(OBJ_LIST, &list_ops); }

/* ------------------------------------------------------------ helpers */

static entry *list_lookup(client *c, int i, dbkey *k, int flags) {
    dbkey_init(k, c->db, c->argv[i].ptr, c->argv[i].len);
    return db_lookup(k, flags, NULL);
}

static quicklist *list_of(const entry *e) { return entry_ptr(e); }

/* Create an empty list under k (absent) and return it. */
static quicklist *list_create(const dbkey *k) {
    quicklist *ql = ql_new(list_fill_from_config());
    db_add(k, entry_new_ptr(k->key, k->len, OBJ_LIST, ENC_QUICKLIST, ql, -1));
    return ql;
}

void list_store(const dbkey *k, quicklist *ql, const char *event) {
    db_set(k, entry_new_ptr(k->key, k->len, OBJ_LIST, ENC_QUICKLIST, ql, -1));
    db_changed(k, NOTIFY_LIST, event);
}

/* Epilogue of a write that added elements (event "lpush", "rpush",
 * "linsert"); the funnel wakes the key's blocked clients. */
static void list_pushed(const dbkey *k, const char *event) { db_changed(k, NOTIFY_LIST, event); }

/* Epilogue of a write that removed elements: the event, then the key's
 * deletion when the list became empty. */
static void list_removed(const dbkey *k, quicklist *ql, const char *event) {
    db_changed_removed(k, NOTIFY_LIST, event, ql_count(ql) == 0);
}

/* "left" / "right" (Redis's getListPositionFromObjectOrReply). */
static bool list_position_or_reply(client *c, const arg_t *a, int *where) {
    if (arg_eq(a, "left"))
        *where = QL_HEAD;
    else if (arg_eq(a, "right"))
        *where = QL_TAIL;
    else {
        add_reply_error(c, ERR_SYNTAX);
        return false;
    }
    return true;
}

/* An integer in [min, max]; on failure replies msg (or Redis's default
 * messages when msg is NULL). */
static bool list_range_ll_or_reply(client *c, const arg_t *a, long long min, long long max, long long *out,
                                   const char *msg) {
    long long v;
    if (!parse_ll(a->ptr, a->len, &v)) {
        add_reply_error(c, msg ? msg : ERR_NOT_INT);
        return false;
    }
    if (v < min || v > max) {
        if (msg)
            add_reply_error(c, msg);
        else
            add_reply_errorf(c, "ERR value is out of range, must be between %lld and %lld", min, max);
        return false;
    }
    *out = v;
    return true;
}

/* Reply n elements from an end, in pop order, and remove them. */
static void list_pop_range_reply(client *c, quicklist *ql, int where, size_t n) {
    add_reply_array(c, (long long)n);
    ql_iter it;
    ql_iter_init(&it, ql, where == QL_HEAD ? QL_FORWARD : QL_BACKWARD, where == QL_HEAD ? 0 : -1);
    const char *p;
    size_t len;
    for (size_t i = 0; i < n && ql_iter_next(&it, &p, &len); i++) add_reply_bulk(c, p, len);
    ql_iter_release(&it);
    ql_del_range(ql, where == QL_HEAD ? 0 : -(long long)n, n);
}

static const char *list_pop_event(int where) { return where == QL_HEAD ? "lpop" : "rpop"; }
static const char *list_push_event(int where) { return where == QL_HEAD ? "lpush" : "rpush"; }

/* ------------------------------------------------------------ push */

static void list_push_generic(client *c, int where, bool xx) {
    dbkey k;
    entry *e = list_lookup(c, 1, &k, LOOKUP_WRITE);
    if (reply_wrong_type(c, e, OBJ_LIST)) return;
    quicklist *ql;
    if (!e) {
        if (xx) {
            add_reply_integer(c, 0);
            return;
        }
        ql = list_create(&k);
    } else {
        ql = list_of(e);
    }
    for (int j = 2; j < c->argc; j++) ql_push(ql, where, c->argv[j].ptr, c->argv[j].len);
    add_reply_integer(c, (long long)ql_count(ql));
    list_pushed(&k, list_push_event(where));
}

static void lpush_command(client *c) { list_push_generic(c, QL_HEAD, false); }
static void rpush_command(client *c) { list_push_generic(c, QL_TAIL, false); }
static void lpushx_command(client *c) { list_push_generic(c, QL_HEAD, true); }
static void rpushx_command(client *c) { list_push_generic(c, QL_TAIL, true); }

static void linsert_command(client *c) {
    bool after;
    if (arg_eq(&c->argv[2], "after"))
        after = true;
    else if (arg_eq(&c->argv[2], "before"))
        after = false;
    else {
        add_reply_error(c, ERR_SYNTAX);
        return;
    }
    dbkey k;
    entry *e = list_lookup(c, 1, &k, LOOKUP_WRITE);
    if (!e) {
        add_reply_integer(c, 0);
        return;
    }
    if (reply_wrong_type(c, e, OBJ_LIST)) return;
    quicklist *ql = list_of(e);
    const arg_t *pivot = &c->argv[3], *val = &c->argv[4];
    ql_iter it;
    ql_iter_init(&it, ql, QL_FORWARD, 0);
    const char *p;
    size_t len;
    bool found = false;
    while (ql_iter_next(&it, &p, &len)) {
        if (len == pivot->len && memcmp(p, pivot->ptr, len) == 0) {
            ql_iter_insert(&it, after, val->ptr, val->len);
            found = true;
            break;
        }
    }
    ql_iter_release(&it);
    if (!found) {
        add_reply_integer(c, -1);
        return;
    }
    list_pushed(&k, "linsert");
    add_reply_integer(c, (long long)ql_count(ql));
}

/* ------------------------------------------------------------ read */

static void llen_command(client *c) {
    dbkey k;
    entry *e = list_lookup(c, 1, &k, LOOKUP_READ);
    if (reply_wrong_type(c, e, OBJ_LIST)) return;
    add_reply_integer(c, e ? (long long)ql_count(list_of(e)) : 0);
}

static void lindex_command(client *c) {
    dbkey k;
    entry *e = list_lookup(c, 1, &k, LOOKUP_READ);
    if (!e) {
        add_reply_null(c);
        return;
    }
    if (reply_wrong_type(c, e, OBJ_LIST)) return;
    long long idx;
    if (!arg_ll_or_reply(c, &c->argv[2], &idx, NULL)) return;
    const char *p;
    size_t len;
    if (ql_index(list_of(e), idx, &p, &len))
        add_reply_bulk(c, p, len);
    else
        add_reply_null(c);
}

static void lrange_command(client *c) {
    long long start, end;
    if (!arg_ll_or_reply(c, &c->argv[2], &start, NULL) || !arg_ll_or_reply(c, &c->argv[3], &end, NULL)) return;
    dbkey k;
    entry *e = list_lookup(c, 1, &k, LOOKUP_READ);
    if (!e) {
        add_reply_array(c, 0);
        return;
    }
    if (reply_wrong_type(c, e, OBJ_LIST)) return;
    quicklist *ql = list_of(e);
    long long llen = (long long)ql_count(ql);
    if (start < 0) start = llen + start;
    if (end < 0) end = llen + end;
    if (start < 0) start = 0;
    if (start > end || start >= llen) {
        add_reply_array(c, 0);
        return;
    }
    if (end >= llen) end = llen - 1;
    long long n = end - start + 1;
    add_reply_array(c, n);
    ql_iter it;
    ql_iter_init(&it, ql, QL_FORWARD, start);
    const char *p;
    size_t len;
    for (long long i = 0; i < n && ql_iter_next(&it, &p, &len); i++) add_reply_bulk(c, p, len);
    ql_iter_release(&it);
}

static void lpos_command(client *c) {
    long long rank = 1, count = -1, maxlen = 0;
    const arg_t *ele = &c->argv[2];
    for (int j = 3; j < c->argc; j++) {
        const arg_t *opt = &c->argv[j];
        bool more = j + 1 < c->argc;
        if (more && arg_eq(opt, "rank")) {
            j++;
            if (!arg_ll_or_reply(c, &c->argv[j], &rank, NULL)) return;
            if (rank == 0) {
                add_reply_error(c, "ERR RANK can't be zero: use 1 to start from the first match, 2 from the "
                                   "second ... or use negative to start from the end of the list");
                return;
            }
        } else if (more && arg_eq(opt, "count")) {
            j++;
            if (!list_range_ll_or_reply(c, &c->argv[j], 0, LLONG_MAX, &count, "ERR COUNT can't be negative"))
                return;
        } else if (more && arg_eq(opt, "maxlen")) {
            j++;
            if (!list_range_ll_or_reply(c, &c->argv[j], 0, LLONG_MAX, &maxlen, "ERR MAXLEN can't be negative"))
                return;
        } else {
            add_reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    int dir = QL_FORWARD;
    if (rank < 0) {
        dir = QL_BACKWARD;
        /* Redis 7.0 negates LONG_MIN to itself: every match then counts and
         * the COUNT limit never triggers (it overflows). Same here. */
        if (rank == LLONG_MIN) {
            rank = 1;
            if (count > 0) count = 0;
        } else {
            rank = -rank;
        }
    }
    dbkey k;
    entry *e = list_lookup(c, 1, &k, LOOKUP_READ);
    if (!e) {
        if (count != -1)
            add_reply_array(c, 0);
        else
            add_reply_null(c);
        return;
    }
    if (reply_wrong_type(c, e, OBJ_LIST)) return;
    quicklist *ql = list_of(e);
    long long llen = (long long)ql_count(ql);
    long long *hits = NULL;
    size_t nhits = 0, cap = 0;
    long long matches = 0, matchindex = -1, index = 0;
    ql_iter it;
    ql_iter_init(&it, ql, dir, dir == QL_FORWARD ? 0 : -1);
    const char *p;
    size_t len;
    while ((maxlen == 0 || index < maxlen) && ql_iter_next(&it, &p, &len)) {
        if (len == ele->len && memcmp(p, ele->ptr, len) == 0) {
            matches++;
            matchindex = dir == QL_FORWARD ? index : llen - index - 1;
            if (matches >= rank) {
                if (count == -1) break;
                if (nhits == cap) {
                    cap = cap ? cap * 2 : 16;
                    hits = mem_realloc(hits, cap * sizeof *hits);
                }
                hits[nhits++] = matchindex;
                if (count && matches - rank + 1 >= count) break;
            }
        }
        index++;
        matchindex = -1;
    }
    ql_iter_release(&it);
    if (count != -1) {
        add_reply_array(c, (long long)nhits);
        for (size_t i = 0; i < nhits; i++) add_reply_integer(c, hits[i]);
    } else if (matchindex != -1) {
        add_reply_integer(c, matchindex);
    } else {
        add_reply_null(c);
    }
    mem_free(hits);
}

/* ------------------------------------------------------------ modify */

static void lset_command(client *c) {
    dbkey k;
    entry *e = list_lookup(c, 1, &k, LOOKUP_WRITE);
    if (!e) {
        add_reply_error(c, ERR_NO_SUCH_KEY);
        return;
    }
    if (reply_wrong_type(c, e, OBJ_LIST)) return;
    long long idx;
    if (!arg_ll_or_reply(c, &c->argv[2], &idx, NULL)) return;
    if (!ql_replace(list_of(e), idx, c->argv[3].ptr, c->argv[3].len)) {
        add_reply_error(c, "ERR index out of range");
        return;
    }
    add_reply_ok(c);
    db_changed(&k, NOTIFY_LIST, "lset");
}

static void ltrim_command(client *c) {
    long long start, end;
    if (!arg_ll_or_reply(c, &c->argv[2], &start, NULL) || !arg_ll_or_reply(c, &c->argv[3], &end, NULL)) return;
    dbkey k;
    entry *e = list_lookup(c, 1, &k, LOOKUP_WRITE);
    if (!e) {
        add_reply_ok(c);
        return;
    }
    if (reply_wrong_type(c, e, OBJ_LIST)) return;
    quicklist *ql = list_of(e);
    long long llen = (long long)ql_count(ql), ltrim, rtrim;
    if (start < 0) start = llen + start;
    if (end < 0) end = llen + end;
    if (start < 0) start = 0;
    if (start > end || start >= llen) {
        ltrim = llen;
        rtrim = 0;
    } else {
        if (end >= llen) end = llen - 1;
        ltrim = start;
        rtrim = llen - end - 1;
    }
    if (ltrim + rtrim == 0) {
        /* Redis signals and notifies but counts no change: nothing
         * propagates. */
        db_unchanged_event(&k, NOTIFY_LIST, "ltrim");
        add_reply_ok(c);
        return;
    }
    ql_del_range(ql, 0, (size_t)ltrim);
    ql_del_range(ql, -rtrim, (size_t)rtrim);
    list_removed(&k, ql, "ltrim");
    add_reply_ok(c);
}

static void lrem_command(client *c) {
    long long toremove;
    if (!arg_ll_or_reply(c, &c->argv[2], &toremove, NULL)) return;
    dbkey k;
    entry *e = list_lookup(c, 1, &k, LOOKUP_WRITE);
    if (!e) {
        add_reply_integer(c, 0);
        return;
    }
    if (reply_wrong_type(c, e, OBJ_LIST)) return;
    quicklist *ql = list_of(e);
    const arg_t *ele = &c->argv[3];
    bool backward = toremove < 0;
    unsigned long long limit = backward ? (unsigned long long)0 - (unsigned long long)toremove
                                        : (unsigned long long)toremove;
    long long removed = 0;
    ql_iter it;
    ql_iter_init(&it, ql, backward ? QL_BACKWARD : QL_FORWARD, backward ? -1 : 0);
    const char *p;
    size_t len;
    while (ql_iter_next(&it, &p, &len)) {
        if (len == ele->len && memcmp(p, ele->ptr, len) == 0) {
            ql_iter_delete(&it);
            removed++;
            if (limit && (unsigned long long)removed == limit) break;
        }
    }
    ql_iter_release(&it);
    if (removed) list_removed(&k, ql, "lrem");
    add_reply_integer(c, removed);
}

/* ------------------------------------------------------------ pop */

static void list_pop_generic(client *c, int where) {
    if (c->argc > 3) {
        add_reply_errorf(c, "ERR wrong number of arguments for '%s' command", where == QL_HEAD ? "lpop" : "rpop");
        return;
    }
    long long count = 0;
    bool hascount = c->argc == 3;
    if (hascount && !list_range_ll_or_reply(c, &c->argv[2], 0, LLONG_MAX, &count,
                                            "ERR value is out of range, must be positive"))
        return;
    dbkey k;
    entry *e = list_lookup(c, 1, &k, LOOKUP_WRITE);
    if (!e) {
        if (hascount)
            add_reply_null_array(c);
        else
            add_reply_null(c);
        return;
    }
    if (reply_wrong_type(c, e, OBJ_LIST)) return;
    quicklist *ql = list_of(e);
    if (hascount && count == 0) {
        add_reply_array(c, 0);
        return;
    }
    if (!hascount) {
        const char *p;
        size_t len;
        ql_peek(ql, where, &p, &len);
        add_reply_bulk(c, p, len);
        ql_pop(ql, where);
    } else {
        size_t n = (unsigned long long)count < ql_count(ql) ? (size_t)count : ql_count(ql);
        list_pop_range_reply(c, ql, where, n);
    }
    list_removed(&k, ql, list_pop_event(where));
}

static void lpop_command(client *c) { list_pop_generic(c, QL_HEAD); }
static void rpop_command(client *c) { list_pop_generic(c, QL_TAIL); }

/* LMOVE core: argv[1] = source, argv[2] = destination. */
static void list_move_generic(client *c, int from, int to) {
    dbkey ks, kd;
    entry *src = list_lookup(c, 1, &ks, LOOKUP_WRITE);
    if (!src) {
        add_reply_null(c);
        return;
    }
    if (reply_wrong_type(c, src, OBJ_LIST)) return;
    entry *dst = list_lookup(c, 2, &kd, LOOKUP_WRITE);
    if (reply_wrong_type(c, dst, OBJ_LIST)) return;
    quicklist *sql = list_of(src);
    const char *p;
    size_t len;
    ql_peek(sql, from, &p, &len);
    char stack[LIST_STACK_ELEM];
    char *val = len <= sizeof stack ? stack : mem_alloc(len);
    memcpy(val, p, len);
    ql_pop(sql, from);
    quicklist *dql = dst ? list_of(dst) : list_create(&kd);
    ql_push(dql, to, val, len);
    list_pushed(&kd, list_push_event(to));
    add_reply_bulk(c, val, len);
    if (val != stack) mem_free(val);
    list_removed(&ks, sql, list_pop_event(from));
}

static void lmove_command(client *c) {
    int from, to;
    if (!list_position_or_reply(c, &c->argv[3], &from) || !list_position_or_reply(c, &c->argv[4], &to)) return;
    list_move_generic(c, from, to);
}

static void rpoplpush_command(client *c) { list_move_generic(c, QL_TAIL, QL_HEAD); }

/* LMPOP / BLMPOP arguments: numkeys at argv[numidx], keys, LEFT|RIGHT,
 * [COUNT n]. Replies and returns false on error. */
static bool list_mpop_parse(client *c, int numidx, long long *numkeys, int *where, long long *count) {
    if (!list_range_ll_or_reply(c, &c->argv[numidx], 1, LLONG_MAX, numkeys, "ERR numkeys should be greater than 0"))
        return false;
    if (*numkeys >= c->argc - numidx - 1) {
        add_reply_error(c, ERR_SYNTAX);
        return false;
    }
    int where_idx = numidx + (int)*numkeys + 1;
    if (!list_position_or_reply(c, &c->argv[where_idx], where)) return false;
    *count = -1;
    for (int j = where_idx + 1; j < c->argc; j++) {
        bool more = j + 1 < c->argc;
        if (*count == -1 && more && arg_eq(&c->argv[j], "count")) {
            j++;
            if (!list_range_ll_or_reply(c, &c->argv[j], 1, LLONG_MAX, count, "ERR count should be greater than 0"))
                return false;
        } else {
            add_reply_error(c, ERR_SYNTAX);
            return false;
        }
    }
    if (*count == -1) *count = 1;
    return true;
}

/* Serve the first non-empty list among argv[first .. first+nkeys-1]:
 * count < 0 replies [key, element] (BLPOP), else [key, [elements...]]
 * (LMPOP). Returns true when it replied (served or WRONGTYPE). A blocked
 * client's re-run passes over a key that meanwhile holds another type, as
 * Redis serves a waiter only from a key holding the type it waits for. */
static bool list_serve_first(client *c, int first, int nkeys, int where, long long count) {
    bool rerun = blocking_client_is_blocked(c);
    for (int j = first; j < first + nkeys; j++) {
        dbkey k;
        entry *e = list_lookup(c, j, &k, LOOKUP_WRITE);
        if (!e || (rerun && entry_type(e) != OBJ_LIST)) continue;
        if (reply_wrong_type(c, e, OBJ_LIST)) return true;
        quicklist *ql = list_of(e);
        if (ql_count(ql) == 0) continue;
        add_reply_array(c, 2);
        add_reply_bulk(c, k.key, k.len);
        /* Propagated as [LR]POP key (BLPOP, BRPOP) or [LR]POP key n
         * (LMPOP, BLMPOP; n what was popped), as Redis 7.0 rewrites them. */
        propagate_rewrite_begin(count < 0 ? 2 : 3);
        propagate_arg_str(where == QL_HEAD ? "LPOP" : "RPOP");
        propagate_arg(k.key, k.len);
        if (count < 0) {
            const char *p;
            size_t len;
            ql_peek(ql, where, &p, &len);
            add_reply_bulk(c, p, len);
            ql_pop(ql, where);
        } else {
            size_t n = (unsigned long long)count < ql_count(ql) ? (size_t)count : ql_count(ql);
            propagate_arg_ll((long long)n);
            list_pop_range_reply(c, ql, where, n);
        }
        list_removed(&k, ql, list_pop_event(where));
        return true;
    }
    return false;
}

static void lmpop_command(client *c) {
    long long numkeys, count;
    int where;
    if (!list_mpop_parse(c, 1, &numkeys, &where, &count)) return;
    if (!list_serve_first(c, 2, (int)numkeys, where, count)) add_reply_null_array(c);
}

/* ------------------------------------------------------------ blocking */

static void list_blocking_pop(client *c, int where) {
    long long deadline;
    if (!blocking_parse_timeout_or_reply(c, &c->argv[c->argc - 1], &deadline)) return;
    int nkeys = c->argc - 2;
    if (list_serve_first(c, 1, nkeys, where, -1)) return;
    blocking_block_on_args(c, 1, nkeys, OBJ_LIST, deadline, BLOCK_TIMEOUT_NULL_ARRAY);
}

static void blpop_command(client *c) { list_blocking_pop(c, QL_HEAD); }
static void brpop_command(client *c) { list_blocking_pop(c, QL_TAIL); }

static void blmpop_command(client *c) {
    long long numkeys, count, deadline;
    int where;
    if (!list_mpop_parse(c, 2, &numkeys, &where, &count)) return;
    if (!blocking_parse_timeout_or_reply(c, &c->argv[1], &deadline)) return;
    if (list_serve_first(c, 3, (int)numkeys, where, count)) return;
    blocking_block_on_args(c, 3, (int)numkeys, OBJ_LIST, deadline, BLOCK_TIMEOUT_NULL_ARRAY);
}

static void list_blocking_move(client *c, int from, int to, const arg_t *timeout) {
    long long deadline;
    if (!blocking_parse_timeout_or_reply(c, timeout, &deadline)) return;
    dbkey k;
    entry *e = list_lookup(c, 1, &k, LOOKUP_WRITE);
    if (e && entry_type(e) != OBJ_LIST && blocking_client_is_blocked(c)) e = NULL; /* re-run: not a list yet */
    if (reply_wrong_type(c, e, OBJ_LIST)) return;
    if (e) {
        /* Propagated as LMOVE / RPOPLPUSH; a served waiter's directions
         * in lower case, as Redis's serveClientBlockedOnList spells them. */
        bool rerun = blocking_client_is_blocked(c);
        if (c->argc == 6) {
            propagate_rewrite_begin(5);
            propagate_arg_str("LMOVE");
            propagate_arg(c->argv[1].ptr, c->argv[1].len);
            propagate_arg(c->argv[2].ptr, c->argv[2].len);
            if (rerun) {
                propagate_arg_str(from == QL_HEAD ? "left" : "right");
                propagate_arg_str(to == QL_HEAD ? "left" : "right");
            } else {
                propagate_arg(c->argv[3].ptr, c->argv[3].len);
                propagate_arg(c->argv[4].ptr, c->argv[4].len);
            }
        } else {
            propagate_rewrite_begin(3);
            propagate_arg_str("RPOPLPUSH");
            propagate_arg(c->argv[1].ptr, c->argv[1].len);
            propagate_arg(c->argv[2].ptr, c->argv[2].len);
        }
        list_move_generic(c, from, to);
        return;
    }
    /* Redis 7.0 answers a null bulk inside MULTI but a null array when the
     * wait times out. */
    if (multi_in_exec()) {
        add_reply_null(c);
        return;
    }
    blocking_block_on_args(c, 1, 1, OBJ_LIST, deadline, BLOCK_TIMEOUT_NULL_ARRAY);
}

static void blmove_command(client *c) {
    int from, to;
    if (!list_position_or_reply(c, &c->argv[3], &from) || !list_position_or_reply(c, &c->argv[4], &to)) return;
    list_blocking_move(c, from, to, &c->argv[5]);
}

static void brpoplpush_command(client *c) { list_blocking_move(c, QL_TAIL, QL_HEAD, &c->argv[3]); }

/* ------------------------------------------------------------ key specs */

/* Keys of LMPOP / BLMPOP: numkeys at argv[numidx], keys after it; none when
 * numkeys is not valid (the command then replies an error). */
static int list_mpop_keys(const arg_t *argv, int argc, int numidx, int *keyidx, int max) {
    long long n;
    if (numidx >= argc || !parse_ll(argv[numidx].ptr, argv[numidx].len, &n)) return 0;
    if (n < 1 || n > argc - numidx - 1) return 0;
    int cnt = 0;
    for (long long i = 0; i < n && cnt < max; i++) keyidx[cnt++] = numidx + 1 + (int)i;
    return cnt;
}

static int lmpop_keys(const arg_t *argv, int argc, int *keyidx, int max) {
    return list_mpop_keys(argv, argc, 1, keyidx, max);
}

static int blmpop_keys(const arg_t *argv, int argc, int *keyidx, int max) {
    return list_mpop_keys(argv, argc, 2, keyidx, max);
}

/* ------------------------------------------------------------ table */

#define PUSH_COMPLEXITY \
    "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."
#define BPOP_COMPLEXITY "O(N) where N is the number of provided keys."
#define MPOP_COMPLEXITY "O(N+M) where N is the number of provided keys and M is the number of elements returned."

command list_commands[] = {
    {.name = "lpush", .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .first_key = 1, .last_key = 1,
     .key_step = 1, .proc = lpush_command, .group = "list", .since = "1.0.0",
     .summary = "Prepend one or multiple elements to a list", .complexity = PUSH_COMPLEXITY,
     .acl_categories = "write list fast"},
    {.name = "rpush", .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .first_key = 1, .last_key = 1,
     .key_step = 1, .proc = rpush_command, .group = "list", .since = "1.0.0",
     .summary = "Append one or multiple elements to a list", .complexity = PUSH_COMPLEXITY,
     .acl_categories = "write list fast"},
    {.name = "lpushx", .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .first_key = 1, .last_key = 1,
     .key_step = 1, .proc = lpushx_command, .group = "list", .since = "2.2.0",
     .summary = "Prepend an element to a list, only if the list exists", .complexity = PUSH_COMPLEXITY,
     .acl_categories = "write list fast"},
    {.name = "rpushx", .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .first_key = 1, .last_key = 1,
     .key_step = 1, .proc = rpushx_command, .group = "list", .since = "2.2.0",
     .summary = "Append an element to a list, only if the list exists", .complexity = PUSH_COMPLEXITY,
     .acl_categories = "write list fast"},
    {.name = "lpop", .arity = -2, .flags = CMD_WRITE | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .proc = lpop_command, .group = "list", .since = "1.0.0", .summary = "Remove and get the first elements in a list",
     .complexity = "O(N) where N is the number of elements returned", .acl_categories = "write list fast"},
    {.name = "rpop", .arity = -2, .flags = CMD_WRITE | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .proc = rpop_command, .group = "list", .since = "1.0.0", .summary = "Remove and get the last elements in a list",
     .complexity = "O(N) where N is the number of elements returned", .acl_categories = "write list fast"},
    {.name = "llen", .arity = 2, .flags = CMD_READONLY | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .proc = llen_command, .group = "list", .since = "1.0.0", .summary = "Get the length of a list",
     .complexity = "O(1)", .acl_categories = "read list fast"},
    {.name = "lrange", .arity = 4, .flags = CMD_READONLY, .first_key = 1, .last_key = 1, .key_step = 1,
     .proc = lrange_command, .group = "list", .since = "1.0.0", .summary = "Get a range of elements from a list",
     .complexity = "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end "
                   "(HEAD or TAIL) for large lists; and N is the number of elements in the specified range.",
     .acl_categories = "read list slow"},
    {.name = "lindex", .arity = 3, .flags = CMD_READONLY, .first_key = 1, .last_key = 1, .key_step = 1,
     .proc = lindex_command, .group = "list", .since = "1.0.0", .summary = "Get an element from a list by its index",
     .complexity = "O(N) where N is the number of elements to traverse to get to the element at index. This "
                   "makes asking for the first or the last element of the list O(1).",
     .acl_categories = "read list slow"},
    {.name = "lset", .arity = 4, .flags = CMD_WRITE | CMD_DENYOOM, .first_key = 1, .last_key = 1, .key_step = 1,
     .proc = lset_command, .group = "list", .since = "1.0.0",
     .summary = "Set the value of an element in a list by its index",
     .complexity = "O(N) where N is the length of the list. Setting either the first or the last element of the "
                   "list is O(1).",
     .acl_categories = "write list slow"},
    {.name = "linsert", .arity = 5, .flags = CMD_WRITE | CMD_DENYOOM, .first_key = 1, .last_key = 1, .key_step = 1,
     .proc = linsert_command, .group = "list", .since = "2.2.0",
     .summary = "Insert an element before or after another element in a list",
     .complexity = "O(N) where N is the number of elements to traverse before seeing the value pivot. This means "
                   "that inserting somewhere on the left end on the list (head) can be considered O(1) and "
                   "inserting somewhere on the right end (tail) is O(N).",
     .acl_categories = "write list slow"},
    {.name = "lrem", .arity = 4, .flags = CMD_WRITE, .first_key = 1, .last_key = 1, .key_step = 1,
     .proc = lrem_command, .group = "list", .since = "1.0.0", .summary = "Remove elements from a list",
     .complexity = "O(N+M) where N is the length of the list and M is the number of elements removed.",
     .acl_categories = "write list slow"},
    {.name = "ltrim", .arity = 4, .flags = CMD_WRITE, .first_key = 1, .last_key = 1, .key_step = 1,
     .proc = ltrim_command, .group = "list", .since = "1.0.0", .summary = "Trim a list to the specified range",
     .complexity = "O(N) where N is the number of elements to be removed by the operation.",
     .acl_categories = "write list slow"},
    {.name = "lpos", .arity = -3, .flags = CMD_READONLY, .first_key = 1, .last_key = 1, .key_step = 1,
     .proc = lpos_command, .group = "list", .since = "6.0.6",
     .summary = "Return the index of matching elements on a list",
     .complexity = "O(N) where N is the number of elements in the list, for the average case. When searching for "
                   "elements near the head or the tail of the list, or when the MAXLEN option is provided, the "
                   "command may run in constant time.",
     .acl_categories = "read list slow"},
    {.name = "lmove", .arity = 5, .flags = CMD_WRITE | CMD_DENYOOM, .first_key = 1, .last_key = 2, .key_step = 1,
     .proc = lmove_command, .group = "list", .since = "6.2.0",
     .summary = "Pop an element from a list, push it to another list and return it", .complexity = "O(1)",
     .acl_categories = "write list slow"},
    {.name = "rpoplpush", .arity = 3, .flags = CMD_WRITE | CMD_DENYOOM, .first_key = 1, .last_key = 2,
     .key_step = 1, .proc = rpoplpush_command, .group = "list", .since = "1.2.0",
     .summary = "Remove the last element in a list, prepend it to another list and return it",
     .complexity = "O(1)", .acl_categories = "write list slow"},
    {.name = "lmpop", .arity = -4, .flags = CMD_WRITE, .keys_fn = lmpop_keys, .proc = lmpop_command,
     .group = "list", .since = "7.0.0", .summary = "Pop elements from a list", .complexity = MPOP_COMPLEXITY,
     .acl_categories = "write list slow"},
    {.name = "blpop", .arity = -3, .flags = CMD_WRITE | CMD_NOSCRIPT | CMD_BLOCKING, .first_key = 1,
     .last_key = -2, .key_step = 1, .proc = blpop_command, .group = "list", .since = "2.0.0",
     .summary = "Remove and get the first element in a list, or block until one is available",
     .complexity = BPOP_COMPLEXITY, .acl_categories = "write list slow blocking"},
    {.name = "brpop", .arity = -3, .flags = CMD_WRITE | CMD_NOSCRIPT | CMD_BLOCKING, .first_key = 1,
     .last_key = -2, .key_step = 1, .proc = brpop_command, .group = "list", .since = "2.0.0",
     .summary = "Remove and get the last element in a list, or block until one is available",
     .complexity = BPOP_COMPLEXITY, .acl_categories = "write list slow blocking"},
    {.name = "blmove", .arity = 6, .flags = CMD_WRITE | CMD_DENYOOM | CMD_NOSCRIPT | CMD_BLOCKING, .first_key = 1,
     .last_key = 2, .key_step = 1, .proc = blmove_command, .group = "list", .since = "6.2.0",
     .summary = "Pop an element from a list, push it to another list and return it; or block until one is "
                "available",
     .complexity = "O(1)", .acl_categories = "write list slow blocking"},
    {.name = "brpoplpush", .arity = 4, .flags = CMD_WRITE | CMD_DENYOOM | CMD_NOSCRIPT | CMD_BLOCKING,
     .first_key = 1, .last_key = 2, .key_step = 1, .proc = brpoplpush_command, .group = "list", .since = "2.2.0",
     .summary = "Pop an element from a list, push it to another list and return it; or block until one is "
                "available",
     .complexity = "O(1)", .acl_categories = "write list slow blocking"},
    {.name = "blmpop", .arity = -5, .flags = CMD_WRITE | CMD_BLOCKING, .keys_fn = blmpop_keys,
     .proc = blmpop_command, .group = "list", .since = "7.0.0",
     .summary = "Pop elements from a list, or block until one is available", .complexity = MPOP_COMPLEXITY,
     .acl_categories = "write list slow blocking"},
    {0},
};
