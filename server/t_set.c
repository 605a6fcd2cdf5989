/*
 * t_set.c - the set type (OBJ_SET): its encoding-agnostic API (t_set.h),
 * the type hooks (free/dup/mem/length) and the SET commands (SADD, SREM,
 * SMEMBERS, SISMEMBER, SMISMEMBER, SCARD, SPOP, SRANDMEMBER, SMOVE, SINTER,
 * SUNION, SDIFF and their STORE forms, SINTERCARD, SSCAN).
 *
 * Design choices a reader must know:
 * - Encodings are Redis 7.0's: an intset while every member is a canonical
 *   integer and there are at most set-max-intset-entries of them, else a
 *   dict of members; never back. Results that Redis builds by adding into a
 *   fresh intset (SUNION/SDIFF replies, every *STORE result, the set left
 *   behind by a large SPOP count) are built the same way here, so their
 *   encoding and, for intsets, their reply order (ascending) match Redis.
 * - The entry points at a set_value header that never moves; a command that
 *   changes the set re-syncs the entry's encoding nibble from it.
 * - Keys emptied by a command are deleted by key (db_delete), not by a
 *   remembered bucket position: another lookup in the same slot (lazy
 *   expiry) may have moved it.
 */
#include "t_set.h"

#include "client.h"
#include "command_modules.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "entry.h"
#include "glob.h"
#include "mem.h"
#include "notify.h"
#include "propagate.h"
#include "numparse.h"
#include "types.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ============================================================ type API */

set_value *set_new_from_intset(intset *is) {
    set_value *s = mem_alloc(sizeof *s);
    s->enc = ENC_INTSET;
    s->u.is = is;
    return s;
}

set_value *set_new(void) { return set_new_from_intset(intset_new()); }

set_value *set_new_ht(void) {
    set_value *s = mem_alloc(sizeof *s);
    s->enc = ENC_HASHTABLE;
    s->u.d = dict_new();
    return s;
}

void set_free(set_value *s) {
    if (!s) return;
    if (s->enc == ENC_INTSET)
        intset_free(s->u.is);
    else
        dict_free(s->u.d);
    mem_free(s);
}

set_value *set_dup(const set_value *s) {
    set_value *n = mem_alloc(sizeof *n);
    n->enc = s->enc;
    if (s->enc == ENC_INTSET) {
        n->u.is = intset_dup(s->u.is);
    } else {
        n->u.d = dict_new();
        dict_iter it;
        dict_iter_init(&it);
        for (dict_entry *de; (de = dict_iter_next(s->u.d, &it));) dict_add(n->u.d, dict_key(de), de->klen, NULL, 0);
    }
    return n;
}

size_t set_size(const set_value *s) {
    return s->enc == ENC_INTSET ? intset_len(s->u.is) : (size_t)dict_size(s->u.d);
}

size_t set_mem(const set_value *s) {
    return mem_usable(s) + (s->enc == ENC_INTSET ? intset_mem(s->u.is) : dict_mem(s->u.d));
}

/* Redis's isSdsRepresentableAsLongLong: the strict string2ll rules. */
static bool member_int(const char *m, size_t len, int64_t *v) {
    long long x;
    if (!parse_ll(m, len, &x)) return false;
    *v = x;
    return true;
}

void set_convert_to_ht(set_value *s) {
    if (s->enc == ENC_HASHTABLE) return;
    dict *d = dict_new();
    char buf[SET_ELEM_BUF];
    intset *is = s->u.is;
    for (uint32_t i = 0; i < intset_len(is); i++) {
        size_t n = format_ll(buf, sizeof buf, intset_get(is, i));
        dict_add(d, buf, n, NULL, 0);
    }
    intset_free(is);
    s->u.d = d;
    s->enc = ENC_HASHTABLE;
}

static bool add_int(set_value *s, int64_t v, size_t max_intset) {
    bool added;
    s->u.is = intset_add(s->u.is, v, &added);
    if (added && intset_len(s->u.is) > max_intset) set_convert_to_ht(s);
    return added;
}

bool set_add(set_value *s, const char *m, size_t len, size_t max_intset) {
    if (s->enc == ENC_INTSET) {
        int64_t v;
        if (member_int(m, len, &v)) return add_int(s, v, max_intset);
        set_convert_to_ht(s);
    }
    if (dict_find(s->u.d, m, len)) return false;
    dict_add(s->u.d, m, len, NULL, 0);
    return true;
}

bool set_add_elem(set_value *s, const set_elem *e, size_t max_intset) {
    if (e->is_int && s->enc == ENC_INTSET) return add_int(s, e->v, max_intset);
    return set_add(s, e->p, e->len, max_intset);
}

static bool remove_int(set_value *s, int64_t v) {
    bool removed;
    s->u.is = intset_remove(s->u.is, v, &removed);
    return removed;
}

bool set_remove(set_value *s, const char *m, size_t len) {
    if (s->enc == ENC_INTSET) {
        int64_t v;
        return member_int(m, len, &v) && remove_int(s, v);
    }
    return dict_delete(s->u.d, m, len);
}

bool set_remove_elem(set_value *s, const set_elem *e) {
    if (e->is_int && s->enc == ENC_INTSET) return remove_int(s, e->v);
    return set_remove(s, e->p, e->len);
}

bool set_contains(const set_value *s, const char *m, size_t len) {
    if (s->enc == ENC_INTSET) {
        int64_t v;
        return member_int(m, len, &v) && intset_contains(s->u.is, v);
    }
    return dict_find(s->u.d, m, len) != NULL;
}

bool set_contains_elem(const set_value *s, const set_elem *e) {
    if (e->is_int && s->enc == ENC_INTSET) return intset_contains(s->u.is, e->v);
    return set_contains(s, e->p, e->len);
}

static void elem_from_int(set_elem *out, int64_t v, char *buf) {
    out->is_int = true;
    out->v = v;
    out->len = format_ll(buf, SET_ELEM_BUF, v);
    out->p = buf;
}

static void elem_from_dict(set_elem *out, const dict_entry *de) {
    out->is_int = false;
    out->v = 0;
    out->p = dict_key(de);
    out->len = de->klen;
}

void set_iter_init(set_iter *it, const set_value *s) {
    it->s = s;
    it->i = 0;
    dict_iter_init(&it->di);
}

bool set_iter_next(set_iter *it, set_elem *out) {
    const set_value *s = it->s;
    if (s->enc == ENC_INTSET) {
        if (it->i >= intset_len(s->u.is)) return false;
        elem_from_int(out, intset_get(s->u.is, it->i++), it->buf);
        return true;
    }
    dict_entry *de = dict_iter_next(s->u.d, &it->di);
    if (!de) return false;
    elem_from_dict(out, de);
    return true;
}

void set_random(const set_value *s, set_elem *out, char buf[SET_ELEM_BUF]) {
    if (s->enc == ENC_INTSET) {
        elem_from_int(out, intset_random(s->u.is, db_random()), buf);
        return;
    }
    elem_from_dict(out, dict_random(s->u.d, db_random()));
}

size_t set_max_intset(void) {
    long long v = cfg_get(set_max_intset_entries);
    if (v < 0) v = 0;
    if ((unsigned long long)v > SET_MAX_INTSET_CAP) v = SET_MAX_INTSET_CAP;
    return (size_t)v;
}

/* ------------------------------------------------------- type hooks */

static void set_ops_free(void *p) { set_free(p); }
static void *set_ops_dup(const void *p) { return set_dup(p); }
static size_t set_ops_mem(const void *p) { return set_mem(p); }
static size_t set_ops_length(const void *p) { return set_size(p); }

static const entry_type_ops set_type_ops = {
    .free_value = set_ops_free,
    .dup_value = set_ops_dup,
    .value_mem = set_ops_mem,
    .length = set_ops_length,
};

void t_set_init(void) { entry_register_type(OBJ_SET, &set_type_ops); }

/* ============================================================ commands */

#define ERR_POSITIVE "ERR value is out of range, must be positive"
/* SPOP: when the part left behind is this many times smaller than the part
 * popped, the leftover is rebuilt as a new set (Redis's strategy, which
 * decides the encoding the key ends up with). */
#define SPOP_MOVE_STRATEGY_MUL 5
/* SRANDMEMBER: a count above size / 3 samples by shuffling all members. */
#define SRANDMEMBER_SUB_STRATEGY_MUL 3

static set_value *sv(const entry *e) { return entry_ptr(e); }

static entry *set_lookup(client *c, const arg_t *key, dbkey *k, int flags) {
    dbkey_init(k, c->db, key->ptr, key->len);
    return db_lookup(k, flags, NULL);
}

static void reply_elem(client *c, const set_elem *e) { add_reply_bulk(c, e->p, e->len); }

/* SPOP's effect on the stream: SREM key member, one op per member. */
static void propagate_srem(client *c, const set_elem *e) {
    propagate_also_begin(c->db, 3);
    propagate_arg_str("SREM");
    propagate_arg(c->argv[1].ptr, c->argv[1].len);
    propagate_arg(e->p, e->len);
}

/* Reply every member as a set (RESP3 '~'), in iteration order. */
static void reply_members(client *c, const set_value *s) {
    add_reply_set(c, (long long)set_size(s));
    set_iter it;
    set_elem e;
    set_iter_init(&it, s);
    while (set_iter_next(&it, &e)) reply_elem(c, &e);
}

/* A new set entry for k, stored over whatever k holds (no TTL: setKey). */
static void set_store(const dbkey *k, set_value *s) {
    db_set(k, entry_new_ptr(k->key, k->len, OBJ_SET, s->enc, s, -1));
}

/* After an in-place change of e (key k): sync the encoding, state the
 * change (`event`) to the write funnel. */
static void set_changed(const dbkey *k, entry *e, const char *event) {
    entry_set_encoding(e, sv(e)->enc);
    db_changed(k, NOTIFY_SET, event);
}

/* After members were removed from e in place: the event, then the key's
 * deletion when the set became empty. */
static void set_removed(const dbkey *k, entry *e, const char *event) {
    bool emptied = set_size(sv(e)) == 0;
    if (!emptied) entry_set_encoding(e, sv(e)->enc);
    db_changed_removed(k, NOTIFY_SET, event, emptied);
}

/* Members collected for a reply: hashtable members point into their dict
 * (stable while nothing changes), intset members are kept as numbers. */
typedef struct {
    set_elem *v;
    size_t n, cap;
} elem_vec;

static void vec_push(elem_vec *vec, const set_elem *e) {
    if (vec->n == vec->cap) {
        vec->cap = vec->cap ? vec->cap * 2 : 16;
        vec->v = mem_realloc(vec->v, vec->cap * sizeof(set_elem));
    }
    set_elem *d = &vec->v[vec->n++];
    *d = *e;
    if (e->is_int) d->p = NULL; /* the text lived in an iterator buffer */
}

static void reply_vec_elem(client *c, const set_elem *e) {
    if (e->is_int) {
        char buf[SET_ELEM_BUF];
        size_t n = format_ll(buf, sizeof buf, e->v);
        add_reply_bulk(c, buf, n);
    } else {
        add_reply_bulk(c, e->p, e->len);
    }
}

/* ------------------------------------------------------ SADD / SREM */

static void sadd_command(client *c) {
    dbkey k;
    entry *e = set_lookup(c, &c->argv[1], &k, LOOKUP_WRITE);
    if (reply_wrong_type(c, e, OBJ_SET)) return;
    set_value *s = e ? sv(e) : set_new();
    size_t max = s->enc == ENC_INTSET ? set_max_intset() : 0;
    long long added = 0;
    for (int j = 2; j < c->argc; j++) added += set_add(s, c->argv[j].ptr, c->argv[j].len, max);
    if (!e) {
        db_add(&k, entry_new_ptr(k.key, k.len, OBJ_SET, s->enc, s, -1));
        db_changed(&k, NOTIFY_SET, "sadd");
    } else if (added) {
        set_changed(&k, e, "sadd");
    }
    add_reply_integer(c, added);
}

static void srem_command(client *c) {
    dbkey k;
    entry *e = set_lookup(c, &c->argv[1], &k, LOOKUP_WRITE);
    if (!e) {
        add_reply_integer(c, 0);
        return;
    }
    if (reply_wrong_type(c, e, OBJ_SET)) return;
    set_value *s = sv(e);
    long long deleted = 0;
    for (int j = 2; j < c->argc; j++) {
        if (!set_remove(s, c->argv[j].ptr, c->argv[j].len)) continue;
        deleted++;
        if (set_size(s) == 0) break;
    }
    if (deleted) set_removed(&k, e, "srem");
    add_reply_integer(c, deleted);
}

/* ------------------------------------------------ membership / size */

static void smembers_command(client *c) {
    dbkey k;
    entry *e = set_lookup(c, &c->argv[1], &k, LOOKUP_READ);
    if (!e) {
        add_reply_set(c, 0);
        return;
    }
    if (reply_wrong_type(c, e, OBJ_SET)) return;
    reply_members(c, sv(e));
}

static void sismember_command(client *c) {
    dbkey k;
    entry *e = set_lookup(c, &c->argv[1], &k, LOOKUP_READ);
    if (!e) {
        add_reply_integer(c, 0);
        return;
    }
    if (reply_wrong_type(c, e, OBJ_SET)) return;
    add_reply_integer(c, set_contains(sv(e), c->argv[2].ptr, c->argv[2].len));
}

static void smismember_command(client *c) {
    dbkey k;
    entry *e = set_lookup(c, &c->argv[1], &k, LOOKUP_READ);
    if (reply_wrong_type(c, e, OBJ_SET)) return;
    add_reply_array(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++)
        add_reply_integer(c, e ? set_contains(sv(e), c->argv[j].ptr, c->argv[j].len) : 0);
}

static void scard_command(client *c) {
    dbkey k;
    entry *e = set_lookup(c, &c->argv[1], &k, LOOKUP_READ);
    if (!e) {
        add_reply_integer(c, 0);
        return;
    }
    if (reply_wrong_type(c, e, OBJ_SET)) return;
    add_reply_integer(c, (long long)set_size(sv(e)));
}

/* ---------------------------------------------------------------- SMOVE */

static void smove_command(client *c) {
    dbkey sk, dk;
    entry *se = set_lookup(c, &c->argv[1], &sk, LOOKUP_WRITE);
    entry *de = set_lookup(c, &c->argv[2], &dk, LOOKUP_WRITE);
    const arg_t *m = &c->argv[3];
    if (!se) {
        add_reply_integer(c, 0);
        return;
    }
    if (reply_wrong_type(c, se, OBJ_SET) || reply_wrong_type(c, de, OBJ_SET)) return;
    set_value *src = sv(se);
    if (se == de) {
        add_reply_integer(c, set_contains(src, m->ptr, m->len));
        return;
    }
    if (!set_remove(src, m->ptr, m->len)) {
        add_reply_integer(c, 0);
        return;
    }
    set_removed(&sk, se, "srem");
    if (!de) {
        set_value *dst = set_new();
        set_add(dst, m->ptr, m->len, set_max_intset());
        db_add(&dk, entry_new_ptr(dk.key, dk.len, OBJ_SET, dst->enc, dst, -1));
        db_changed(&dk, NOTIFY_SET, "sadd");
    } else {
        set_value *dst = sv(de);
        if (set_add(dst, m->ptr, m->len, dst->enc == ENC_INTSET ? set_max_intset() : 0))
            set_changed(&dk, de, "sadd");
    }
    add_reply_integer(c, 1);
}

/* ------------------------------------------------ SINTER and friends */

/* Look up n keys as sets (read lookups even for the STORE forms: Redis
 * 7.0 counts their keyspace hits and misses). Missing keys give NULL.
 * Replies WRONGTYPE and returns false on a key of another type. */
static bool lookup_sets(client *c, const arg_t *keys, int n, set_value **sets, int *missing) {
    *missing = 0;
    for (int j = 0; j < n; j++) {
        dbkey k;
        entry *e = set_lookup(c, &keys[j], &k, LOOKUP_READ);
        if (!e) {
            sets[j] = NULL;
            (*missing)++;
            continue;
        }
        if (reply_wrong_type(c, e, OBJ_SET)) return false;
        sets[j] = sv(e);
    }
    return true;
}

/* Store the result of a *STORE command: a non-empty set replaces dst, an
 * empty one deletes it. Takes ownership of res (may be NULL = empty). */
static void store_result(client *c, const arg_t *dst, set_value *res, const char *event) {
    dbkey dk;
    dbkey_init(&dk, c->db, dst->ptr, dst->len);
    size_t n = res ? set_size(res) : 0;
    if (n) {
        set_store(&dk, res);
        add_reply_integer(c, (long long)n);
        db_changed(&dk, NOTIFY_SET, event);
        return;
    }
    set_free(res);
    add_reply_integer(c, 0);
    if (db_delete(&dk)) db_changed(&dk, NOTIFY_GENERIC, "del");
}

typedef struct {
    set_value *s;
    size_t size;
    int idx;
} sized_set;

/* Ascending size; equal sizes keep their argument order (a stable sort,
 * like the qsort Redis gets from glibc), which decides the reply order. */
static int cmp_sized(const void *a, const void *b) {
    const sized_set *x = a, *y = b;
    if (x->size != y->size) return x->size < y->size ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

enum { INTER_REPLY, INTER_STORE, INTER_CARD };

/* SINTER / SINTERSTORE (dst) / SINTERCARD (limit; 0 = none). */
static void sinter_generic(client *c, const arg_t *keys, int n, const arg_t *dst, int mode, long long limit) {
    set_value **sets = mem_alloc((size_t)n * sizeof *sets);
    int missing;
    if (!lookup_sets(c, keys, n, sets, &missing)) {
        mem_free(sets);
        return;
    }
    if (missing) {
        mem_free(sets);
        if (mode == INTER_STORE)
            store_result(c, dst, NULL, "sinterstore");
        else if (mode == INTER_CARD)
            add_reply_integer(c, 0);
        else
            add_reply_set(c, 0);
        return;
    }
    sized_set *ord = mem_alloc((size_t)n * sizeof *ord);
    for (int j = 0; j < n; j++) ord[j] = (sized_set){sets[j], set_size(sets[j]), j};
    qsort(ord, (size_t)n, sizeof *ord, cmp_sized);

    set_value *res = mode == INTER_STORE ? set_new() : NULL;
    size_t max = mode == INTER_STORE ? set_max_intset() : 0;
    elem_vec vec = {0};
    long long card = 0;
    set_iter it;
    set_elem e;
    set_iter_init(&it, ord[0].s);
    while (set_iter_next(&it, &e)) {
        int j;
        for (j = 1; j < n; j++) {
            if (ord[j].s == ord[0].s) continue;
            if (!set_contains_elem(ord[j].s, &e)) break;
        }
        if (j < n) continue;
        card++;
        if (mode == INTER_CARD) {
            if (limit && card >= limit) break;
        } else if (mode == INTER_STORE) {
            set_add_elem(res, &e, max);
        } else {
            vec_push(&vec, &e);
        }
    }
    mem_free(ord);
    mem_free(sets);

    if (mode == INTER_CARD) {
        add_reply_integer(c, card);
    } else if (mode == INTER_STORE) {
        store_result(c, dst, res, "sinterstore");
    } else {
        add_reply_set(c, (long long)vec.n);
        for (size_t i = 0; i < vec.n; i++) reply_vec_elem(c, &vec.v[i]);
    }
    mem_free(vec.v);
}

enum { SETOP_UNION, SETOP_DIFF };

/* The union or difference of sets[0..n-1] (NULL = empty), built by adding
 * into a fresh intset as Redis does. */
static set_value *union_diff(set_value **sets, int n, int op, size_t max) {
    set_value *res = set_new();
    set_iter it;
    set_elem e;
    if (op == SETOP_UNION) {
        for (int j = 0; j < n; j++) {
            if (!sets[j]) continue;
            set_iter_init(&it, sets[j]);
            while (set_iter_next(&it, &e)) set_add_elem(res, &e, max);
        }
        return res;
    }
    if (!sets[0]) return res;
    for (int j = 1; j < n; j++)
        if (sets[j] == sets[0]) return res; /* A - A - ... is empty */
    /* Redis's choice: (1) test each member of the first set against the
     * others, or (2) copy the first set and remove the others' members.
     * The choice shows in the result's encoding (a member removed later
     * may already have turned the copy into a hashtable). */
    long long one = 0, two = 0;
    for (int j = 0; j < n; j++) {
        if (!sets[j]) continue;
        one += (long long)set_size(sets[0]);
        two += (long long)set_size(sets[j]);
    }
    one /= 2;
    if (one <= two) {
        set_iter_init(&it, sets[0]);
        while (set_iter_next(&it, &e)) {
            int j;
            for (j = 1; j < n; j++)
                if (sets[j] && set_contains_elem(sets[j], &e)) break;
            if (j == n) set_add_elem(res, &e, max);
        }
        return res;
    }
    for (int j = 0; j < n; j++) {
        if (!sets[j]) continue;
        set_iter_init(&it, sets[j]);
        while (set_iter_next(&it, &e)) {
            if (j == 0)
                set_add_elem(res, &e, max);
            else
                set_remove_elem(res, &e);
        }
        if (set_size(res) == 0) break;
    }
    return res;
}

static void sunion_diff_generic(client *c, const arg_t *keys, int n, const arg_t *dst, int op) {
    set_value **sets = mem_alloc((size_t)n * sizeof *sets);
    int missing;
    if (!lookup_sets(c, keys, n, sets, &missing)) {
        mem_free(sets);
        return;
    }
    set_value *res = union_diff(sets, n, op, set_max_intset());
    mem_free(sets);
    if (dst) {
        store_result(c, dst, res, op == SETOP_UNION ? "sunionstore" : "sdiffstore");
        return;
    }
    reply_members(c, res);
    set_free(res);
}

static void sinter_command(client *c) { sinter_generic(c, c->argv + 1, c->argc - 1, NULL, INTER_REPLY, 0); }
static void sinterstore_command(client *c) {
    sinter_generic(c, c->argv + 2, c->argc - 2, &c->argv[1], INTER_STORE, 0);
}
static void sunion_command(client *c) { sunion_diff_generic(c, c->argv + 1, c->argc - 1, NULL, SETOP_UNION); }
static void sunionstore_command(client *c) {
    sunion_diff_generic(c, c->argv + 2, c->argc - 2, &c->argv[1], SETOP_UNION);
}
static void sdiff_command(client *c) { sunion_diff_generic(c, c->argv + 1, c->argc - 1, NULL, SETOP_DIFF); }
static void sdiffstore_command(client *c) {
    sunion_diff_generic(c, c->argv + 2, c->argc - 2, &c->argv[1], SETOP_DIFF);
}

/* SINTERCARD numkeys key [key ...] [LIMIT limit] */
static void sintercard_command(client *c) {
    const char *numkeys_err = "ERR numkeys should be greater than 0";
    long long numkeys, limit = 0;
    if (!arg_ll_or_reply(c, &c->argv[1], &numkeys, numkeys_err)) return;
    if (numkeys < 1) {
        add_reply_error(c, numkeys_err);
        return;
    }
    if (numkeys > c->argc - 2) {
        add_reply_error(c, "ERR Number of keys can't be greater than number of args");
        return;
    }
    for (int j = 2 + (int)numkeys; j < c->argc; j++) {
        if (arg_eq(&c->argv[j], "limit") && j + 1 < c->argc) {
            j++;
            const char *neg = "ERR LIMIT can't be negative";
            if (!arg_ll_or_reply(c, &c->argv[j], &limit, neg)) return;
            if (limit < 0) {
                add_reply_error(c, neg);
                return;
            }
        } else {
            add_reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    sinter_generic(c, c->argv + 2, (int)numkeys, NULL, INTER_CARD, limit);
}

/* Keys of SINTERCARD: argv[2 .. 2+numkeys-1]; none when numkeys is bad (the
 * command then only replies an error). */
static int sintercard_keys(const arg_t *argv, int argc, int *keyidx, int max) {
    long long n;
    if (argc < 3 || !parse_ll(argv[1].ptr, argv[1].len, &n) || n < 1 || n > argc - 2) return 0;
    int cnt = 0;
    for (long long i = 0; i < n && cnt < max; i++) keyidx[cnt++] = 2 + (int)i;
    return cnt;
}

/* ---------------------------------------------------------------- SPOP */

/* SPOP key count */
static void spop_count(client *c) {
    long long count;
    if (!arg_ll_or_reply(c, &c->argv[2], &count, ERR_POSITIVE)) return;
    if (count < 0) {
        add_reply_error(c, ERR_POSITIVE);
        return;
    }
    dbkey k;
    entry *e = set_lookup(c, &c->argv[1], &k, LOOKUP_WRITE);
    if (!e) {
        add_reply_set(c, 0);
        return;
    }
    if (reply_wrong_type(c, e, OBJ_SET)) return;
    if (count == 0) {
        add_reply_set(c, 0);
        return;
    }
    set_value *s = sv(e);
    size_t size = set_size(s);

    if ((unsigned long long)count >= size) {
        /* The whole set, as SUNION of it would reply (an intset copy of an
         * all-integer hashtable comes out sorted), then the key goes. Redis
         * runs SUNION's code here, whose read lookup counts a keyspace hit. */
        db_lookup(&k, LOOKUP_READ | LOOKUP_NOTOUCH, NULL);
        size_t max = set_max_intset();
        if (s->enc == ENC_INTSET || size > max) {
            reply_members(c, s);
        } else {
            set_value *copy = union_diff(&s, 1, SETOP_UNION, max);
            reply_members(c, copy);
            set_free(copy);
        }
        db_changed_removed(&k, NOTIFY_SET, "spop", true);
        propagate_rewrite_key(c, "DEL");
        return;
    }

    /* Redis 7.0 propagates one SREM per popped member (wrapped in
     * MULTI/EXEC with more than one), never SPOP itself. */
    propagate_prevent();
    size_t remaining = size - (size_t)count;
    add_reply_set(c, count);
    set_elem el;
    char buf[SET_ELEM_BUF];
    if (remaining * SPOP_MOVE_STRATEGY_MUL > (size_t)count) {
        /* Few to pop: pop them one by one. */
        for (long long i = 0; i < count; i++) {
            set_random(s, &el, buf);
            reply_elem(c, &el);
            propagate_srem(c, &el);
            set_remove_elem(s, &el);
        }
        set_changed(&k, e, "spop");
        return;
    }
    /* Most of the set goes: move the few that stay into a new set (whose
     * encoding is chosen afresh, like Redis), reply the rest. */
    size_t max = set_max_intset();
    set_value *keep = set_new();
    while (remaining--) {
        set_random(s, &el, buf);
        set_add_elem(keep, &el, max);
        set_remove_elem(s, &el);
    }
    set_iter it;
    set_iter_init(&it, s);
    while (set_iter_next(&it, &el)) {
        reply_elem(c, &el);
        propagate_srem(c, &el);
    }
    entry_set_ptr(e, keep);
    set_free(s);
    set_changed(&k, e, "spop");
}

static void spop_command(client *c) {
    if (c->argc == 3) {
        spop_count(c);
        return;
    }
    if (c->argc > 3) {
        add_reply_error(c, ERR_SYNTAX);
        return;
    }
    dbkey k;
    entry *e = set_lookup(c, &c->argv[1], &k, LOOKUP_WRITE);
    if (!e) {
        add_reply_null(c);
        return;
    }
    if (reply_wrong_type(c, e, OBJ_SET)) return;
    set_value *s = sv(e);
    set_elem el;
    char buf[SET_ELEM_BUF];
    set_random(s, &el, buf);
    reply_elem(c, &el);
    propagate_rewrite_begin(3); /* as SREM key member */
    propagate_arg_str("SREM");
    propagate_arg(c->argv[1].ptr, c->argv[1].len);
    propagate_arg(el.p, el.len);
    set_remove_elem(s, &el);
    set_removed(&k, e, "spop");
}

/* --------------------------------------------------------- SRANDMEMBER */

/* count distinct random members of s (1 < count < size), any order. */
static void reply_distinct_random(client *c, const set_value *s, size_t count, size_t size) {
    set_elem el;
    char buf[SET_ELEM_BUF];
    if (count * SRANDMEMBER_SUB_STRATEGY_MUL > size) {
        /* Near the whole set: shuffle the first `count` places of a list of
         * every member. */
        set_elem *all = mem_alloc(size * sizeof *all);
        set_iter it;
        size_t n = 0;
        set_iter_init(&it, s);
        while (n < size && set_iter_next(&it, &el)) {
            all[n] = el;
            if (el.is_int) all[n].p = NULL;
            n++;
        }
        for (size_t i = 0; i < count; i++) {
            size_t j = i + (size_t)(db_random() % (n - i));
            set_elem t = all[i];
            all[i] = all[j];
            all[j] = t;
        }
        for (size_t i = 0; i < count; i++) reply_vec_elem(c, &all[i]);
        mem_free(all);
        return;
    }
    /* Few of many: draw until `count` distinct ones were seen. */
    dict *seen = dict_new();
    while (dict_size(seen) < count) {
        set_random(s, &el, buf);
        if (!dict_find(seen, el.p, el.len)) dict_add(seen, el.p, el.len, NULL, 0);
    }
    dict_iter di;
    dict_iter_init(&di);
    for (dict_entry *de; (de = dict_iter_next(seen, &di));) add_reply_bulk(c, dict_key(de), de->klen);
    dict_free(seen);
}

/* SRANDMEMBER key count */
static void srandmember_count(client *c) {
    long long l;
    if (!arg_ll_or_reply(c, &c->argv[2], &l, NULL)) return;
    if (l == LLONG_MIN) {
        add_reply_errorf(c, "ERR value is out of range, value must between %lld and %lld", -LLONG_MAX, LLONG_MAX);
        return;
    }
    bool uniq = l >= 0;
    unsigned long long count = (unsigned long long)(uniq ? l : -l);
    dbkey k;
    entry *e = set_lookup(c, &c->argv[1], &k, LOOKUP_READ);
    if (!e) {
        add_reply_array(c, 0);
        return;
    }
    if (reply_wrong_type(c, e, OBJ_SET)) return;
    if (count == 0) {
        add_reply_array(c, 0);
        return;
    }
    const set_value *s = sv(e);
    size_t size = set_size(s);
    set_elem el;
    char buf[SET_ELEM_BUF];
    if (!uniq || count == 1) {
        /* Independent draws, repeats allowed. */
        add_reply_array(c, (long long)count);
        for (unsigned long long i = 0; i < count; i++) {
            set_random(s, &el, buf);
            reply_elem(c, &el);
        }
        return;
    }
    if (count >= size) {
        add_reply_array(c, (long long)size);
        set_iter it;
        set_iter_init(&it, s);
        while (set_iter_next(&it, &el)) reply_elem(c, &el);
        return;
    }
    add_reply_array(c, (long long)count);
    reply_distinct_random(c, s, (size_t)count, size);
}

static void srandmember_command(client *c) {
    if (c->argc == 3) {
        srandmember_count(c);
        return;
    }
    if (c->argc > 3) {
        add_reply_error(c, ERR_SYNTAX);
        return;
    }
    dbkey k;
    entry *e = set_lookup(c, &c->argv[1], &k, LOOKUP_READ);
    if (!e) {
        add_reply_null(c);
        return;
    }
    if (reply_wrong_type(c, e, OBJ_SET)) return;
    set_elem el;
    char buf[SET_ELEM_BUF];
    set_random(sv(e), &el, buf);
    reply_elem(c, &el);
}

/* ---------------------------------------------------------------- SSCAN */


static void scan_collect(const dict_entry *de, void *arg) {
    set_elem e;
    elem_from_dict(&e, de);
    vec_push(arg, &e);
}

static void sscan_command(client *c) {
    uint64_t cursor;
    if (!parse_scan_cursor(c->argv[2].ptr, c->argv[2].len, &cursor)) {
        add_reply_error(c, "ERR invalid cursor");
        return;
    }
    dbkey k;
    entry *e = set_lookup(c, &c->argv[1], &k, LOOKUP_READ);
    if (!e) {
        add_reply_array(c, 2);
        add_reply_bulk(c, "0", 1);
        add_reply_array(c, 0);
        return;
    }
    if (reply_wrong_type(c, e, OBJ_SET)) return;
    long long count = 10;
    const arg_t *pat = NULL;
    for (int i = 3; i < c->argc; i += 2) {
        bool has_value = i + 1 < c->argc;
        if (arg_eq(&c->argv[i], "count") && has_value) {
            if (!arg_ll_or_reply(c, &c->argv[i + 1], &count, NULL)) return;
            if (count < 1) {
                add_reply_error(c, ERR_SYNTAX);
                return;
            }
        } else if (arg_eq(&c->argv[i], "match") && has_value) {
            pat = &c->argv[i + 1];
        } else {
            add_reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    if (pat && pat->len == 1 && pat->ptr[0] == '*') pat = NULL;

    const set_value *s = sv(e);
    elem_vec vec = {0};
    if (s->enc == ENC_INTSET) {
        /* Small encoding: everything at once, cursor 0. */
        set_iter it;
        set_elem el;
        set_iter_init(&it, s);
        while (set_iter_next(&it, &el)) vec_push(&vec, &el);
        cursor = 0;
    } else {
        unsigned long long maxit = (unsigned long long)count > ULLONG_MAX / 10 ? ULLONG_MAX
                                                                              : (unsigned long long)count * 10;
        do {
            cursor = dict_scan(s->u.d, cursor, scan_collect, &vec);
        } while (cursor && maxit-- && vec.n < (unsigned long long)count);
    }

    size_t kept = 0;
    char buf[SET_ELEM_BUF];
    for (size_t i = 0; i < vec.n; i++) {
        set_elem *x = &vec.v[i];
        const char *p = x->p;
        size_t len = x->len;
        if (x->is_int) {
            len = format_ll(buf, sizeof buf, x->v);
            p = buf;
        }
        if (pat && !glob_match(pat->ptr, pat->len, p, len, false)) continue;
        vec.v[kept++] = *x;
    }
    char cbuf[24];
    int clen = snprintf(cbuf, sizeof cbuf, "%llu", (unsigned long long)cursor);
    add_reply_array(c, 2);
    add_reply_bulk(c, cbuf, (size_t)clen);
    add_reply_array(c, (long long)kept);
    for (size_t i = 0; i < kept; i++) reply_vec_elem(c, &vec.v[i]);
    mem_free(vec.v);
}

/* ============================================================ table */

command set_commands[] = {
    {.name = "sadd", .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .first_key = 1, .last_key = 1,
     .key_step = 1, .proc = sadd_command, .group = "set", .since = "1.0.0",
     .summary = "Add one or more members to a set",
     .complexity = "O(1) for each element added, so O(N) to add N elements when the command is called with "
                   "multiple arguments.",
     .acl_categories = "write set fast"},
    {.name = "srem", .arity = -3, .flags = CMD_WRITE | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .proc = srem_command, .group = "set", .since = "1.0.0", .summary = "Remove one or more members from a set",
     .complexity = "O(N) where N is the number of members to be removed.", .acl_categories = "write set fast"},
    {.name = "smembers", .arity = 2, .flags = CMD_READONLY, .first_key = 1, .last_key = 1, .key_step = 1,
     .proc = smembers_command, .group = "set", .since = "1.0.0", .summary = "Get all the members in a set",
     .complexity = "O(N) where N is the set cardinality.", .acl_categories = "read set slow"},
    {.name = "sismember", .arity = 3, .flags = CMD_READONLY | CMD_FAST, .first_key = 1, .last_key = 1,
     .key_step = 1, .proc = sismember_command, .group = "set", .since = "1.0.0",
     .summary = "Determine if a given value is a member of a set", .complexity = "O(1)",
     .acl_categories = "read set fast"},
    {.name = "smismember", .arity = -3, .flags = CMD_READONLY | CMD_FAST, .first_key = 1, .last_key = 1,
     .key_step = 1, .proc = smismember_command, .group = "set", .since = "6.2.0",
     .summary = "Returns the membership associated with the given elements for a set",
     .complexity = "O(N) where N is the number of elements being checked for membership",
     .acl_categories = "read set fast"},
    {.name = "scard", .arity = 2, .flags = CMD_READONLY | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .proc = scard_command, .group = "set", .since = "1.0.0", .summary = "Get the number of members in a set",
     .complexity = "O(1)", .acl_categories = "read set fast"},
    {.name = "spop", .arity = -2, .flags = CMD_WRITE | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .proc = spop_command, .group = "set", .since = "1.0.0",
     .summary = "Remove and return one or multiple random members from a set",
     .complexity = "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.",
     .acl_categories = "write set fast"},
    {.name = "srandmember", .arity = -2, .flags = CMD_READONLY, .first_key = 1, .last_key = 1, .key_step = 1,
     .proc = srandmember_command, .group = "set", .since = "1.0.0",
     .summary = "Get one or multiple random members from a set",
     .complexity = "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed "
                   "count.",
     .acl_categories = "read set slow"},
    {.name = "smove", .arity = 4, .flags = CMD_WRITE | CMD_FAST, .first_key = 1, .last_key = 2, .key_step = 1,
     .proc = smove_command, .group = "set", .since = "1.0.0", .summary = "Move a member from one set to another",
     .complexity = "O(1)", .acl_categories = "write set fast"},
    {.name = "sinter", .arity = -2, .flags = CMD_READONLY, .first_key = 1, .last_key = -1, .key_step = 1,
     .proc = sinter_command, .group = "set", .since = "1.0.0", .summary = "Intersect multiple sets",
     .complexity = "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
     .acl_categories = "read set slow"},
    {.name = "sintercard", .arity = -3, .flags = CMD_READONLY, .keys_fn = sintercard_keys,
     .proc = sintercard_command, .group = "set", .since = "7.0.0",
     .summary = "Intersect multiple sets and return the cardinality of the result",
     .complexity = "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
     .acl_categories = "read set slow"},
    {.name = "sinterstore", .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM, .first_key = 1, .last_key = -1,
     .key_step = 1, .proc = sinterstore_command, .group = "set", .since = "1.0.0",
     .summary = "Intersect multiple sets and store the resulting set in a key",
     .complexity = "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
     .acl_categories = "write set slow"},
    {.name = "sunion", .arity = -2, .flags = CMD_READONLY, .first_key = 1, .last_key = -1, .key_step = 1,
     .proc = sunion_command, .group = "set", .since = "1.0.0", .summary = "Add multiple sets",
     .complexity = "O(N) where N is the total number of elements in all given sets.",
     .acl_categories = "read set slow"},
    {.name = "sunionstore", .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM, .first_key = 1, .last_key = -1,
     .key_step = 1, .proc = sunionstore_command, .group = "set", .since = "1.0.0",
     .summary = "Add multiple sets and store the resulting set in a key",
     .complexity = "O(N) where N is the total number of elements in all given sets.",
     .acl_categories = "write set slow"},
    {.name = "sdiff", .arity = -2, .flags = CMD_READONLY, .first_key = 1, .last_key = -1, .key_step = 1,
     .proc = sdiff_command, .group = "set", .since = "1.0.0", .summary = "Subtract multiple sets",
     .complexity = "O(N) where N is the total number of elements in all given sets.",
     .acl_categories = "read set slow"},
    {.name = "sdiffstore", .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM, .first_key = 1, .last_key = -1,
     .key_step = 1, .proc = sdiffstore_command, .group = "set", .since = "1.0.0",
     .summary = "Subtract multiple sets and store the resulting set in a key",
     .complexity = "O(N) where N is the total number of elements in all given sets.",
     .acl_categories = "write set slow"},
    {.name = "sscan", .arity = -3, .flags = CMD_READONLY, .first_key = 1, .last_key = 1, .key_step = 1,
     .proc = sscan_command, .group = "set", .since = "2.8.0", .summary = "Incrementally iterate Set elements",
     .complexity = "O(1) for every call. O(N) for a complete iteration, including enough command calls for the "
                   "cursor to return back to 0. N is the number of elements inside the collection..",
     .acl_categories = "read set slow"},
    {0},
};
