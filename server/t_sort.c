/*
 * t_sort.c - SORT and SORT_RO over lists, sets and sorted sets: BY
 * (nosort, `*` patterns, `*->field` hash lookups), LIMIT, GET (`#` and
 * patterns, repeated), ASC|DESC, ALPHA, STORE.
 *
 * Design choices a reader must know:
 * - Behaviour follows Redis 7.0's sort.c: the same option parsing, LIMIT
 *   clamping, "dontsort" fast paths (a constant BY keeps a list's or sorted
 *   set's order and applies LIMIT as a range; a set is sorted ALPHA anyway
 *   when STORE is given, so the stored result is deterministic), scores
 *   from strtod with its error, ties broken by the element's bytes, and
 *   glibc's qsort over the elements in the same order as Redis's, so equal
 *   inputs sort equally. ALPHA without STORE compares as strcoll() in the C
 *   locale (strcmp, up to the first NUL); with STORE it compares bytes.
 * - Elements and BY values are copied into one arena before sorting;
 *   GET values are read at output time and copied straight into the reply
 *   or the stored list (built with the list type's list_store).
 * - BY and GET patterns read keys outside the command's key spec. A SORT
 *   that needs them (standalone mode: cluster mode refuses them, as Redis
 *   7.0 does) trades its slot locks for all of them (slots_widen_to_all)
 *   and runs at one point in time, feeding its replication stream before
 *   it lets the other slots go. SORT and SORT_RO are CMD_ALL_SLOTS so that
 *   a transaction holding one already holds every lock.
 * - STORE writes a list through the write funnel ("sortstore", or "del"
 *   for an empty result over an existing key) and is propagated verbatim.
 */
#include "client.h"
#include "command_modules.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "entry.h"
#include "crc16.h"
#include "mem.h"
#include "notify.h"
#include "persist.h"
#include "propagate.h"
#include "quicklist.h"
#include "slotlock.h"
#include "t_hash.h"
#include "t_list.h"
#include "t_set.h"
#include "t_sort.h"
#include "t_zset.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ key finder */

int sort_store_arg(const arg_t *argv, int argc) {
    /* Redis's sortGetKeys: skip the arguments of LIMIT, GET and BY; the
     * last STORE with an argument after it names the destination. */
    int store = 0;
    for (int i = 2; i < argc; i++) {
        if (arg_eq(&argv[i], "limit"))
            i += 2;
        else if (arg_eq(&argv[i], "get") || arg_eq(&argv[i], "by"))
            i += 1;
        else if (arg_eq(&argv[i], "store") && i + 1 < argc)
            store = i + 1;
    }
    return store;
}

static int sort_keys(const arg_t *argv, int argc, int *keyidx, int max) {
    int n = 0;
    if (max > n) keyidx[n++] = 1;
    int store = sort_store_arg(argv, argc);
    if (store && max > n) keyidx[n++] = store;
    return n;
}

/* SORT_RO: the key alone (Redis gives it its own finder too, so COMMAND
 * shows it movablekeys). */
static int sort_ro_keys(const arg_t *argv, int argc, int *keyidx, int max) {
    (void)argv;
    (void)argc;
    if (max < 1) return 0;
    keyidx[0] = 1;
    return 1;
}

/* ------------------------------------------------------------ patterns */

typedef struct {
    char *p;
    size_t len, cap;
} sort_buf;

static size_t buf_put(sort_buf *b, const char *p, size_t len) {
    if (b->len + len + 1 > b->cap) {
        b->cap = (b->len + len + 1) * 2;
        b->p = mem_realloc(b->p, b->cap);
    }
    size_t off = b->len;
    if (len) memcpy(b->p + off, p, len);
    b->p[off + len] = '\0'; /* NUL-terminated for strtod and strcmp */
    b->len += len + 1;
    return off;
}

/* The value a BY or GET pattern names for element sub (Redis's
 * lookupKeyByPattern): `#` is the element itself; otherwise the first `*`
 * is replaced by the element, and a `->field` after it reads that hash
 * field. False when there is no value (no `*`, a missing key or field, a
 * key of another type). *v points into the db or into vbuf, valid until the
 * next lookup or change. */
static bool sort_pattern_value(int db, const arg_t *pat, const char *sub, size_t sublen, sort_buf *scratch,
                               char vbuf[32], const char **v, size_t *vlen) {
    if (pat->len == 1 && pat->ptr[0] == '#') {
        *v = sub;
        *vlen = sublen;
        return true;
    }
    const char *star = memchr(pat->ptr, '*', pat->len);
    if (!star) return false;
    size_t prefix = (size_t)(star - pat->ptr), rest = pat->len - prefix - 1;
    const char *field = NULL;
    size_t flen = 0;
    for (const char *f = star + 1; f + 2 < pat->ptr + pat->len; f++) {
        if (f[0] == '-' && f[1] == '>') {
            field = f + 2;
            flen = (size_t)(pat->ptr + pat->len - field);
            rest = (size_t)(f - star - 1);
            break;
        }
    }
    scratch->len = 0;
    size_t off = buf_put(scratch, pat->ptr, prefix);
    scratch->len--; /* drop the NUL: keep appending */
    buf_put(scratch, sub, sublen);
    scratch->len--;
    buf_put(scratch, star + 1, rest);
    dbkey k;
    dbkey_init(&k, db, scratch->p + off, prefix + sublen + rest);
    entry *e = db_lookup(&k, LOOKUP_READ, NULL);
    if (!e) return false;
    if (field) {
        if (entry_type(e) != OBJ_HASH) return false;
        return hash_get(entry_ptr(e), field, flen, v, vlen);
    }
    if (entry_type(e) != OBJ_STRING) return false;
    *v = entry_string_value(e, vbuf, vlen);
    return true;
}

/* ------------------------------------------------------------ sorting */

typedef struct {
    size_t off, len;    /* the element, in the arena */
    double score;       /* numeric sort */
    long cmp_off;       /* ALPHA BY value in the arena, -1: none */
    size_t cmp_len;
} sort_item;

static _Thread_local struct {
    const char *arena;
    bool alpha, by, store, desc;
} sort_cmp;

static int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen) {
    size_t n = alen < blen ? alen : blen;
    int r = n ? memcmp(a, b, n) : 0;
    if (r) return r;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

static int sort_compare(const void *x, const void *y) {
    const sort_item *a = x, *b = y;
    const char *ar = sort_cmp.arena;
    int cmp;
    if (!sort_cmp.alpha) {
        if (a->score > b->score)
            cmp = 1;
        else if (a->score < b->score)
            cmp = -1;
        else
            cmp = bytes_cmp(ar + a->off, a->len, ar + b->off, b->len);
    } else if (sort_cmp.by) {
        if (a->cmp_off < 0 || b->cmp_off < 0)
            cmp = a->cmp_off < 0 && b->cmp_off < 0 ? 0 : a->cmp_off < 0 ? -1 : 1;
        else if (sort_cmp.store)
            cmp = bytes_cmp(ar + a->cmp_off, a->cmp_len, ar + b->cmp_off, b->cmp_len);
        else
            cmp = strcmp(ar + a->cmp_off, ar + b->cmp_off);
    } else if (sort_cmp.store) {
        cmp = bytes_cmp(ar + a->off, a->len, ar + b->off, b->len);
    } else {
        cmp = strcmp(ar + a->off, ar + b->off);
    }
    return sort_cmp.desc ? -cmp : cmp;
}

/* ------------------------------------------------------------ the command */

typedef struct {
    sort_buf arena, scratch;
    sort_item *items;
    long n, cap;
} sort_vec;

static void vec_add(sort_vec *v, const char *p, size_t len) {
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 16;
        v->items = mem_realloc(v->items, (size_t)v->cap * sizeof *v->items);
    }
    size_t off = buf_put(&v->arena, p, len);
    v->items[v->n++] = (sort_item){.off = off, .len = len, .cmp_off = -1};
}

static void vec_add_zset(const char *m, size_t len, double score, void *arg) {
    (void)score;
    vec_add(arg, m, len);
}

typedef struct {
    const arg_t *by;   /* NULL: none, or a constant one (dontsort) */
    const arg_t **get; /* GET patterns */
    int nget;
    bool desc, alpha, dontsort, patterns;
    int store;         /* argv index of the destination, 0: none */
    long long limit_start, limit_count;
} sort_opts;

/* Redis's option parser; false after replying an error. */
static bool sort_parse_or_reply(client *c, bool readonly, sort_opts *o) {
    bool cluster = cfg_get(cluster_enabled) != 0;
    for (int j = 2; j < c->argc; j++) {
        int left = c->argc - j - 1;
        const arg_t *a = &c->argv[j];
        if (arg_eq(a, "asc")) {
            o->desc = false;
        } else if (arg_eq(a, "desc")) {
            o->desc = true;
        } else if (arg_eq(a, "alpha")) {
            o->alpha = true;
        } else if (arg_eq(a, "limit") && left >= 2) {
            if (!arg_ll_or_reply(c, &c->argv[j + 1], &o->limit_start, NULL) ||
                !arg_ll_or_reply(c, &c->argv[j + 2], &o->limit_count, NULL))
                return false;
            j += 2;
        } else if (!readonly && arg_eq(a, "store") && left >= 1) {
            o->store = j + 1;
            j++;
        } else if (arg_eq(a, "by") && left >= 1) {
            o->by = &c->argv[j + 1];
            /* A BY without '*' is constant: nothing to sort or look up. */
            if (!memchr(o->by->ptr, '*', o->by->len)) {
                o->dontsort = true; /* and stays so, as in Redis, whatever BY follows */
            } else {
                o->patterns = true;
                if (cluster) {
                    add_reply_error(c, "ERR BY option of SORT denied in Cluster mode.");
                    return false;
                }
            }
            j++;
        } else if (arg_eq(a, "get") && left >= 1) {
            if (cluster) {
                add_reply_error(c, "ERR GET option of SORT denied in Cluster mode.");
                return false;
            }
            o->get[o->nget++] = &c->argv[j + 1];
            j++;
        } else {
            add_reply_error(c, ERR_SYNTAX);
            return false;
        }
    }
    for (int i = 0; i < o->nget; i++)
        if (!(o->get[i]->len == 1 && o->get[i]->ptr[0] == '#')) o->patterns = true;
    return true;
}

/* Load the elements of e into v (all of them, or only [start, end] of a
 * list or sorted set in its own order when dontsort). */
static void sort_load(entry *e, const sort_opts *o, sort_vec *v, long *start, long *end) {
    unsigned type = entry_type(e);
    if (type == OBJ_LIST) {
        quicklist *ql = entry_ptr(e);
        long len = (long)ql_count(ql);
        ql_iter it;
        const char *p;
        size_t plen;
        if (o->dontsort) {
            if (*end >= *start) {
                ql_iter_init(&it, ql, o->desc ? QL_BACKWARD : QL_FORWARD, o->desc ? len - *start - 1 : *start);
                long want = *end - *start + 1;
                while (v->n < want && ql_iter_next(&it, &p, &plen)) vec_add(v, p, plen);
                ql_iter_release(&it);
                *end -= *start;
                *start = 0;
            }
            return;
        }
        ql_iter_init(&it, ql, QL_FORWARD, 0);
        while (ql_iter_next(&it, &p, &plen)) vec_add(v, p, plen);
        ql_iter_release(&it);
    } else if (type == OBJ_SET) {
        set_iter it;
        set_elem m;
        set_iter_init(&it, entry_ptr(e));
        while (set_iter_next(&it, &m)) vec_add(v, m.p, m.len);
    } else {
        zset *z = entry_ptr(e);
        if (o->dontsort) {
            long len = (long)zset_len(z);
            if (*end >= *start) {
                if (o->desc)
                    zset_visit(z, len - 1 - *end, len - 1 - *start, true, vec_add_zset, v);
                else
                    zset_visit(z, *start, *end, false, vec_add_zset, v);
            }
            *end -= *start;
            *start = 0;
            return;
        }
        zset_iter it;
        const char *m;
        size_t mlen;
        double score;
        zset_iter_init(&it, z);
        while (zset_iter_next(&it, &m, &mlen, &score)) vec_add(v, m, mlen);
    }
}

/* Scores or ALPHA BY values for every element; false when one cannot be
 * read as a double (Redis's int_conversion_error). */
static bool sort_weights(int db, const sort_opts *o, sort_vec *v) {
    bool ok = true;
    char vbuf[32];
    for (long j = 0; j < v->n; j++) {
        sort_item *it = &v->items[j];
        const char *val;
        size_t vlen;
        if (o->by) {
            /* The BY pattern has a '*' (else dontsort): val never points
             * into the arena, which may move below. */
            bool found = sort_pattern_value(db, o->by, v->arena.p + it->off, it->len, &v->scratch, vbuf, &val, &vlen);
            if (found && o->alpha) {
                it->cmp_off = (long)buf_put(&v->arena, val, vlen);
                it->cmp_len = vlen;
            } else if (found) {
                size_t off = buf_put(&v->scratch, val, vlen);
                char *end;
                errno = 0;
                it->score = strtod(v->scratch.p + off, &end);
                if (*end != '\0' || errno == ERANGE || isnan(it->score)) ok = false;
            }
            continue;
        }
        if (o->alpha) continue;
        char *end;
        errno = 0;
        it->score = strtod(v->arena.p + it->off, &end);
        if (*end != '\0' || errno == ERANGE || isnan(it->score)) ok = false;
    }
    return ok;
}

/* Emit items [start, end] with their GET values to the client or to ql. */
static void sort_output(client *c, const sort_opts *o, sort_vec *v, long start, long end, quicklist *ql) {
    char vbuf[32];
    for (long j = start; j <= end; j++) {
        const char *el = v->arena.p + v->items[j].off;
        size_t elen = v->items[j].len;
        if (!o->nget) {
            if (ql)
                ql_push(ql, QL_TAIL, el, elen);
            else
                add_reply_bulk(c, el, elen);
        }
        for (int g = 0; g < o->nget; g++) {
            const char *val;
            size_t vlen;
            bool found = sort_pattern_value(c->db, o->get[g], el, elen, &v->scratch, vbuf, &val, &vlen);
            if (ql)
                ql_push(ql, QL_TAIL, found ? val : "", found ? vlen : 0);
            else if (found)
                add_reply_bulk(c, val, vlen);
            else
                add_reply_null(c);
        }
    }
}

/* Returns whether the keyspace changed (STORE). */
static bool sort_run(client *c, sort_opts *o) {
    dbkey k;
    dbkey_init(&k, c->db, c->argv[1].ptr, c->argv[1].len);
    entry *e = db_lookup(&k, LOOKUP_READ, NULL);
    if (e && entry_type(e) != OBJ_LIST && entry_type(e) != OBJ_SET && entry_type(e) != OBJ_ZSET) {
        add_reply_error(c, ERR_WRONGTYPE);
        return false;
    }
    unsigned type = e ? entry_type(e) : OBJ_LIST;
    /* A set has no order of its own: sorted when the result is stored. */
    if (o->dontsort && type == OBJ_SET && o->store) {
        o->dontsort = false;
        o->alpha = true;
        o->by = NULL;
    }
    long len = e ? (long)entry_type_ops_of(type)->length(entry_ptr(e)) : 0;
    long long ls = o->limit_start < 0 ? 0 : o->limit_start, lc = o->limit_count < -1 ? -1 : o->limit_count;
    long start = ls > len ? len : (long)ls;
    long count = lc > len ? len : (long)lc;
    long end = count < 0 ? len - 1 : start + count - 1;
    if (start >= len) {
        start = len - 1;
        end = len - 2;
    }
    if (end >= len) end = len - 1;

    sort_vec v = {0};
    if (e) sort_load(e, o, &v, &start, &end);
    bool ok = true;
    if (!o->dontsort) {
        ok = sort_weights(c->db, o, &v);
        sort_cmp.arena = v.arena.p;
        sort_cmp.alpha = o->alpha;
        sort_cmp.by = o->by != NULL;
        sort_cmp.store = o->store != 0;
        sort_cmp.desc = o->desc;
        if (ok && v.n > 1) qsort(v.items, (size_t)v.n, sizeof *v.items, sort_compare);
    }
    long outlen = (o->nget ? o->nget : 1) * (end - start + 1);
    bool wrote = false;
    if (!ok) {
        add_reply_error(c, "ERR One or more scores can't be converted into double");
    } else if (!o->store) {
        add_reply_array(c, outlen);
        sort_output(c, o, &v, start, end, NULL);
    } else {
        dbkey dst;
        dbkey_init(&dst, c->db, c->argv[o->store].ptr, c->argv[o->store].len);
        if (outlen) {
            quicklist *ql = ql_new(list_fill_from_config());
            sort_output(c, o, &v, start, end, ql);
            list_store(&dst, ql, "sortstore");
            wrote = true;
        } else if (db_delete(&dst)) {
            db_changed(&dst, NOTIFY_GENERIC, "del");
            wrote = true;
        }
        add_reply_integer(c, outlen);
    }
    mem_free(v.items);
    mem_free(v.arena.p);
    mem_free(v.scratch.p);
    return wrote;
}

static void sort_generic(client *c, bool readonly) {
    const arg_t *stack_get[16];
    sort_opts o = {.limit_count = -1, .get = stack_get};
    if (c->argc > 16 + 2) o.get = mem_alloc((size_t)c->argc * sizeof *o.get);
    if (!sort_parse_or_reply(c, readonly, &o)) goto done;
    /* The slots dispatch locked: the key's, and the destination the key
     * finder named. A destination of another slot (an argument list the
     * finder reads otherwise than the parser) also needs every lock. */
    int finder_store = readonly ? 0 : sort_store_arg(c->argv, c->argc);
    if (!o.patterns && finder_store == o.store) {
        sort_run(c, &o);
        goto done;
    }
    unsigned held[2];
    int nheld = 0;
    held[nheld++] = key_hash_slot(c->argv[1].ptr, c->argv[1].len);
    if (finder_store) held[nheld++] = key_hash_slot(c->argv[finder_store].ptr, c->argv[finder_store].len);
    if (!slots_widen_to_all(held, nheld)) { /* inside EXEC: it holds every lock */
        sort_run(c, &o);
        goto done;
    }
    /* Dispatch refused writes during the final save under the key's lock,
     * which the widening let go: a snapshot may have taken its point since,
     * so a STORE asks again now that every lock is held. */
    if (o.store && persist_writes_paused()) {
        add_reply_error(c, ERR_SHUTTING_DOWN);
        slots_narrow_to(held, nheld);
        goto done;
    }
    /* Fed to the stream before the other slots are let go (a lookup's
     * deletion of an expired key is fed at once: SORT is CMD_ALL_SLOTS). */
    if (sort_run(c, &o) && !(c->flags & CF_MASTER)) {
        propagate_also_argv(c->db, c->argc, c->argv);
        propagate_prevent();
        long long woff = propagate_flush(false);
        if (woff > 0) c->woff = woff;
    }
    slots_narrow_to(held, nheld);
done:
    if (o.get != stack_get) mem_free(o.get);
}

static void sort_command(client *c) { sort_generic(c, false); }
static void sort_ro_command(client *c) { sort_generic(c, true); }

/* ------------------------------------------------------------ table */

command sort_commands[] = {
    {.name = "sort", .arity = -2, .flags = CMD_WRITE | CMD_DENYOOM | CMD_ALL_SLOTS, .first_key = 1, .last_key = 1,
     .key_step = 1, .keys_fn = sort_keys,
     .proc = sort_command, .group = "generic", .since = "1.0.0",
     .summary = "Sort the elements in a list, set or sorted set",
     .complexity = "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of "
                   "returned elements. When the elements are not sorted, complexity is O(N).",
     .acl_categories = "write set sortedset list slow dangerous"},
    {.name = "sort_ro", .arity = -2, .flags = CMD_READONLY | CMD_ALL_SLOTS, .first_key = 1, .last_key = 1,
     .key_step = 1, .keys_fn = sort_ro_keys, .proc = sort_ro_command, .group = "generic", .since = "7.0.0",
     .summary = "Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
     .complexity = "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of "
                   "returned elements. When the elements are not sorted, complexity is O(N).",
     .acl_categories = "read set sortedset list slow dangerous"},
    {.name = NULL},
};
