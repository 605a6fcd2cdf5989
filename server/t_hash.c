/*
 * t_hash.c - the hash type: its API (create, convert, lookup, set, delete,
 * increment, iterate, sample, scan) and the hash commands (HSET,
 * HSETNX, HMSET, HGET, HMGET, HGETALL, HKEYS, HVALS, HDEL, HLEN, HEXISTS,
 * HSTRLEN, HINCRBY, HINCRBYFLOAT, HRANDFIELD, HSCAN), with Redis 7.0 replies.
 *
 * Design choices a reader must know:
 * - Two encodings as Redis: a listpack of field/value pairs in insertion
 *   order while the hash has at most hash-max-listpack-entries fields and no
 *   field or value longer than hash-max-listpack-value, then a dict with the
 *   value bytes inline in each element. The conversion happens at the same
 *   points as Redis (before writing a long string, after passing the entry
 *   count) and is one-way.
 * - The entry's value pointer is a tagged pointer (see t_hash.h): bit 0 set
 *   means dict. That saves a wrapper allocation per hash key and lets the
 *   entry_type_ops hooks, which get no encoding, tell the two apart.
 * - Commands work on a local `hash *` and store it back into the entry in
 *   one place (hash_store_back), which also runs the write epilogue.
 */
#include "t_hash.h"

#include "client.h"
#include "command_modules.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "dict.h"
#include "entry.h"
#include "glob.h"
#include "listpack.h"
#include "mem.h"
#include "notify.h"
#include "propagate.h"
#include "numparse.h"
#include "types.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Redis's LISTPACK_MAX_SAFETY_SIZE: a listpack never grows past 1 GB. */
#define HASH_LP_SAFETY_SIZE (1u << 30)

/* ================================================================ type API */

static inline bool is_dict(const hash *h) { return ((uintptr_t)h & 1) != 0; }
static inline dict *as_dict(const hash *h) { return (dict *)((uintptr_t)h & ~(uintptr_t)1); }
static inline listpack *as_lp(const hash *h) { return (listpack *)h; }
static inline hash *from_dict(dict *d) { return (hash *)((uintptr_t)d | 1); }
static inline hash *from_lp(listpack *l) { return (hash *)l; }

/* The thresholds are read per write command: CONFIG SET takes effect on
 * the next command, as in Redis. */
void hash_limits_from_config(hash_limits *lim) {
    lim->max_entries = cfg_get(hash_max_listpack_entries);
    lim->max_value = cfg_get(hash_max_listpack_value);
}

hash *hash_new(void) { return from_lp(lp_new()); }

void hash_free(hash *h) {
    if (!h) return;
    if (is_dict(h))
        dict_free(as_dict(h));
    else
        lp_free(as_lp(h));
}

hash *hash_dup(const hash *h) {
    if (!is_dict(h)) return from_lp(lp_dup(as_lp(h)));
    const dict *d = as_dict(h);
    dict *n = dict_new();
    dict_iter it;
    dict_iter_init(&it);
    for (dict_entry *e = dict_iter_next(d, &it); e; e = dict_iter_next(d, &it))
        dict_add(n, dict_key(e), e->klen, dict_val(e), e->vlen);
    return from_dict(n);
}

unsigned hash_encoding(const hash *h) { return is_dict(h) ? ENC_HASHTABLE : ENC_LISTPACK; }

uint64_t hash_len(const hash *h) { return is_dict(h) ? dict_size(as_dict(h)) : lp_count(as_lp(h)) / 2; }

size_t hash_mem(const hash *h) { return is_dict(h) ? dict_mem(as_dict(h)) : mem_usable(as_lp(h)); }

/* Offset of the value of field f in a listpack, or lp_end() if absent. */
static size_t lp_value_of(const listpack *l, const char *f, size_t flen) {
    size_t off = lp_find(l, lp_first(l), f, flen, 1);
    if (off == lp_end(l)) return off;
    const char *p;
    size_t len;
    return lp_get(l, off, &p, &len);
}

bool hash_get(const hash *h, const char *f, size_t flen, const char **v, size_t *vlen) {
    if (is_dict(h)) {
        const dict_entry *e = dict_find(as_dict(h), f, flen);
        if (!e) return false;
        *v = dict_val(e);
        *vlen = e->vlen;
        return true;
    }
    const listpack *l = as_lp(h);
    size_t off = lp_value_of(l, f, flen);
    if (off == lp_end(l)) return false;
    lp_get(l, off, v, vlen);
    return true;
}

bool hash_exists(const hash *h, const char *f, size_t flen) {
    const char *v;
    size_t vlen;
    return hash_get(h, f, flen, &v, &vlen);
}

void hash_convert(hash **h) {
    if (is_dict(*h)) return;
    listpack *l = as_lp(*h);
    dict *d = dict_new();
    size_t off = lp_first(l), end = lp_end(l);
    while (off < end) {
        const char *f, *v;
        size_t flen, vlen;
        off = lp_get(l, off, &f, &flen);
        off = lp_get(l, off, &v, &vlen);
        dict_add(d, f, flen, v, vlen);
    }
    lp_free(l);
    *h = from_dict(d);
}

bool hash_set(hash **h, const char *f, size_t flen, const char *v, size_t vlen, const hash_limits *lim) {
    if (!is_dict(*h)) {
        size_t mx = (size_t)(lim->max_value < 0 ? 0 : lim->max_value);
        if (flen > mx || vlen > mx || lp_bytes(as_lp(*h)) + flen + vlen + 20 > HASH_LP_SAFETY_SIZE)
            hash_convert(h);
    }
    if (is_dict(*h)) return dict_set(as_dict(*h), f, flen, v, vlen);

    listpack *l = as_lp(*h);
    size_t off = lp_value_of(l, f, flen);
    bool added = off == lp_end(l);
    if (added) {
        l = lp_append(l, f, flen);
        l = lp_append(l, v, vlen);
    } else {
        l = lp_replace(l, off, v, vlen);
    }
    *h = from_lp(l);
    if (added && (long long)hash_len(*h) > lim->max_entries) hash_convert(h);
    return added;
}

bool hash_delete(hash **h, const char *f, size_t flen) {
    if (is_dict(*h)) return dict_delete(as_dict(*h), f, flen);
    listpack *l = as_lp(*h);
    size_t off = lp_find(l, lp_first(l), f, flen, 1);
    if (off == lp_end(l)) return false;
    *h = from_lp(lp_delete(l, off, 2));
    return true;
}

int hash_incrby(hash **h, const char *f, size_t flen, long long incr, long long *out, const hash_limits *lim) {
    const char *v;
    size_t vlen;
    long long cur = 0;
    if (hash_get(*h, f, flen, &v, &vlen) && !parse_ll(v, vlen, &cur)) return HASH_ERR_NOT_INT;
    if ((incr < 0 && cur < 0 && incr < LLONG_MIN - cur) || (incr > 0 && cur > 0 && incr > LLONG_MAX - cur))
        return HASH_ERR_OVERFLOW;
    cur += incr;
    char buf[32];
    size_t n = format_ll(buf, sizeof buf, cur);
    hash_set(h, f, flen, buf, n, lim);
    *out = cur;
    return HASH_OK;
}

int hash_incrbyfloat(hash **h, const char *f, size_t flen, long double incr, char *buf, size_t *len,
                     const hash_limits *lim) {
    const char *v;
    size_t vlen;
    long double cur = 0;
    if (hash_get(*h, f, flen, &v, &vlen) && !parse_ld(v, vlen, &cur)) return HASH_ERR_NOT_FLOAT;
    cur += incr;
    if (isnan(cur) || isinf(cur)) return HASH_ERR_NAN;
    size_t n = format_ld_human(buf, HASH_LD_BUF, cur);
    if (!n) return HASH_ERR_NAN; /* cannot happen for a finite value */
    hash_set(h, f, flen, buf, n, lim);
    *len = n;
    return HASH_OK;
}

void hash_iter_init(hash_iter *it, const hash *h) {
    it->h = h;
    it->off = is_dict(h) ? 0 : lp_first(as_lp(h));
    dict_iter_init(&it->di);
}

bool hash_iter_next(hash_iter *it, const char **f, size_t *flen, const char **v, size_t *vlen) {
    if (is_dict(it->h)) {
        const dict_entry *e = dict_iter_next(as_dict(it->h), &it->di);
        if (!e) return false;
        *f = dict_key(e);
        *flen = e->klen;
        *v = dict_val(e);
        *vlen = e->vlen;
        return true;
    }
    const listpack *l = as_lp(it->h);
    if (it->off >= lp_end(l)) return false;
    it->off = lp_get(l, it->off, f, flen);
    it->off = lp_get(l, it->off, v, vlen);
    return true;
}

/* Field offsets of a listpack hash (caller frees), for random access. */
static size_t *lp_field_offsets(const listpack *l, uint64_t n) {
    size_t *offs = mem_alloc(n * sizeof *offs);
    size_t off = lp_first(l);
    for (uint64_t i = 0; i < n; i++) {
        const char *p;
        size_t len;
        offs[i] = off;
        off = lp_get(l, off, &p, &len);
        off = lp_get(l, off, &p, &len);
    }
    return offs;
}

static bool visit_lp_pair(const listpack *l, size_t off, hash_visit_fn *fn, void *arg) {
    const char *f, *v;
    size_t flen, vlen;
    off = lp_get(l, off, &f, &flen);
    lp_get(l, off, &v, &vlen);
    return fn(f, flen, v, vlen, arg);
}

static bool visit_dict_entry(const dict_entry *e, hash_visit_fn *fn, void *arg) {
    return fn(dict_key(e), e->klen, dict_val(e), e->vlen, arg);
}

/* count < len distinct fields of a dict hash. */
static void dict_random_distinct(const dict *d, uint64_t count, uint64_t (*rnd)(void), hash_visit_fn *fn,
                                 void *arg) {
    uint64_t size = dict_size(d);
    if (count * 3 > size) {
        /* Many of them: a partial shuffle of all the elements. */
        const dict_entry **all = mem_alloc(size * sizeof *all);
        dict_iter it;
        dict_iter_init(&it);
        uint64_t n = 0;
        for (const dict_entry *e = dict_iter_next(d, &it); e; e = dict_iter_next(d, &it)) all[n++] = e;
        for (uint64_t i = 0; i < count; i++) {
            uint64_t j = i + rnd() % (size - i);
            const dict_entry *t = all[i];
            all[i] = all[j];
            all[j] = t;
            if (!visit_dict_entry(all[i], fn, arg)) break;
        }
        mem_free(all);
        return;
    }
    /* Few of them: random picks, remembering those already returned. */
    dict *seen = dict_new();
    uint64_t added = 0;
    while (added < count) {
        const dict_entry *e = dict_random(d, rnd());
        if (dict_find(seen, dict_key(e), e->klen)) continue;
        dict_add(seen, dict_key(e), e->klen, NULL, 0);
        added++;
        if (!visit_dict_entry(e, fn, arg)) break;
    }
    dict_free(seen);
}

void hash_random_fields(const hash *h, uint64_t count, bool distinct, uint64_t (*rnd)(void), hash_visit_fn *fn,
                        void *arg) {
    uint64_t size = hash_len(h);
    if (!size || !count) return;
    if (distinct && count >= size) {
        hash_iter it;
        hash_iter_init(&it, h);
        const char *f, *v;
        size_t flen, vlen;
        while (hash_iter_next(&it, &f, &flen, &v, &vlen))
            if (!fn(f, flen, v, vlen, arg)) return;
        return;
    }
    if (is_dict(h)) {
        const dict *d = as_dict(h);
        if (distinct) {
            dict_random_distinct(d, count, rnd, fn, arg);
            return;
        }
        while (count--)
            if (!visit_dict_entry(dict_random(d, rnd()), fn, arg)) return;
        return;
    }
    const listpack *l = as_lp(h);
    if (distinct) {
        /* Selection sampling: each pair is taken with probability
         * needed / remaining, so the result keeps the listpack order. */
        size_t off = lp_first(l);
        uint64_t needed = count;
        for (uint64_t remaining = size; needed && remaining; remaining--) {
            if (rnd() % remaining < needed) {
                if (!visit_lp_pair(l, off, fn, arg)) return;
                needed--;
            }
            const char *p;
            size_t len;
            off = lp_get(l, off, &p, &len);
            off = lp_get(l, off, &p, &len);
        }
        return;
    }
    size_t *offs = lp_field_offsets(l, size);
    while (count--)
        if (!visit_lp_pair(l, offs[rnd() % size], fn, arg)) break;
    mem_free(offs);
}

typedef struct {
    hash_visit_fn *fn;
    void *arg;
} scan_ctx;

static void scan_dict_cb(const dict_entry *e, void *arg) {
    scan_ctx *s = arg;
    visit_dict_entry(e, s->fn, s->arg);
}

uint64_t hash_scan(const hash *h, uint64_t cursor, hash_visit_fn *fn, void *arg) {
    if (is_dict(h)) {
        scan_ctx s = {fn, arg};
        return dict_scan(as_dict(h), cursor, scan_dict_cb, &s);
    }
    const listpack *l = as_lp(h);
    for (size_t off = lp_first(l), end = lp_end(l); off < end;) {
        const char *f, *v;
        size_t flen, vlen;
        off = lp_get(l, off, &f, &flen);
        off = lp_get(l, off, &v, &vlen);
        if (!fn(f, flen, v, vlen, arg)) break;
    }
    return 0;
}

/* ---------------------------------------------------- entry type hooks */

static void ops_free(void *ptr) { hash_free(ptr); }
static void *ops_dup(const void *ptr) { return hash_dup(ptr); }
static size_t ops_mem(const void *ptr) { return hash_mem(ptr); }
static size_t ops_length(const void *ptr) { return hash_len(ptr); }
static const entry_type_ops hash_ops = {
    .free_value = ops_free,
    .dup_value = ops_dup,
    .value_mem = ops_mem,
    .length = ops_length,
};

void t_hash_init(void) { entry_register_type(OBJ_HASH, &hash_ops); }

/* ================================================================ commands */

/* Look up argv[1] for reading. Returns false after replying WRONGTYPE;
 * *h is NULL when the key does not exist. */
static bool hash_read_or_reply(client *c, const hash **h) {
    dbkey k;
    dbkey_init(&k, c->db, c->argv[1].ptr, c->argv[1].len);
    long pos;
    entry *e = db_lookup(&k, LOOKUP_READ, &pos);
    *h = NULL;
    if (!e) return true;
    if (reply_wrong_type(c, e, OBJ_HASH)) return false;
    *h = entry_ptr(e);
    return true;
}

/* A write in progress on the hash at argv[1]. */
typedef struct {
    dbkey k;
    entry *e; /* NULL: the key is new and h not yet in the keyspace */
    hash *h;
    hash_limits lim;
} hash_write;

/* Open argv[1] for writing; create an empty hash (not yet added to the
 * keyspace) when absent and `create`. Returns false after replying
 * WRONGTYPE, or when the key is absent and !create (nothing replied). */
static bool hash_open_write(client *c, hash_write *w, bool create) {
    dbkey_init(&w->k, c->db, c->argv[1].ptr, c->argv[1].len);
    w->e = db_lookup(&w->k, LOOKUP_WRITE, NULL);
    if (reply_wrong_type(c, w->e, OBJ_HASH)) return false;
    if (w->e) {
        w->h = entry_ptr(w->e);
    } else {
        if (!create) return false;
        w->h = hash_new();
    }
    /* The thresholds matter only while the hash is a listpack. */
    if (!is_dict(w->h))
        hash_limits_from_config(&w->lim);
    else
        w->lim = (hash_limits){LLONG_MAX, LLONG_MAX};
    return true;
}

/* Store w->h back into the keyspace and state the change to the write
 * funnel: a new key is added, an emptied one is deleted ("del" event after
 * the command's own). `changed` false: nothing happened (a new empty hash
 * is just freed). */
static void hash_store_back(client *c, hash_write *w, bool changed, const char *event) {
    if (!w->e) {
        if (!changed || hash_len(w->h) == 0) {
            hash_free(w->h);
            return;
        }
        entry *e = entry_new_ptr(w->k.key, w->k.len, OBJ_HASH, hash_encoding(w->h), w->h, -1);
        db_add(&w->k, e);
        db_changed(&w->k, NOTIFY_HASH, event);
        return;
    }
    entry_set_ptr(w->e, w->h);
    entry_set_encoding(w->e, hash_encoding(w->h));
    if (changed) db_changed_removed(&w->k, NOTIFY_HASH, event, hash_len(w->h) == 0);
}

/* HSET key field value [field value ...] / HMSET (reply OK). */
static void hset_generic(client *c, bool hmset) {
    if (c->argc % 2 == 1) {
        add_reply_errorf(c, "ERR wrong number of arguments for '%s' command", hmset ? "hmset" : "hset");
        return;
    }
    hash_write w;
    if (!hash_open_write(c, &w, true)) return;
    long long created = 0;
    for (int i = 2; i < c->argc; i += 2)
        created += hash_set(&w.h, c->argv[i].ptr, c->argv[i].len, c->argv[i + 1].ptr, c->argv[i + 1].len, &w.lim);
    hash_store_back(c, &w, true, "hset");
    if (hmset)
        add_reply_ok(c);
    else
        add_reply_integer(c, created);
}

static void hset_command(client *c) { hset_generic(c, false); }
static void hmset_command(client *c) { hset_generic(c, true); }

static void hsetnx_command(client *c) {
    hash_write w;
    if (!hash_open_write(c, &w, true)) return;
    if (hash_exists(w.h, c->argv[2].ptr, c->argv[2].len)) {
        hash_store_back(c, &w, false, NULL);
        add_reply_integer(c, 0);
        return;
    }
    hash_set(&w.h, c->argv[2].ptr, c->argv[2].len, c->argv[3].ptr, c->argv[3].len, &w.lim);
    hash_store_back(c, &w, true, "hset");
    add_reply_integer(c, 1);
}

static void hget_command(client *c) {
    const hash *h;
    if (!hash_read_or_reply(c, &h)) return;
    const char *v;
    size_t vlen;
    if (h && hash_get(h, c->argv[2].ptr, c->argv[2].len, &v, &vlen))
        add_reply_bulk(c, v, vlen);
    else
        add_reply_null(c);
}

static void hmget_command(client *c) {
    const hash *h;
    if (!hash_read_or_reply(c, &h)) return;
    add_reply_array(c, c->argc - 2);
    for (int i = 2; i < c->argc; i++) {
        const char *v;
        size_t vlen;
        if (h && hash_get(h, c->argv[i].ptr, c->argv[i].len, &v, &vlen))
            add_reply_bulk(c, v, vlen);
        else
            add_reply_null(c);
    }
}

enum { HASH_FIELDS = 1, HASH_VALUES = 2 };

/* HGETALL (map), HKEYS, HVALS. */
static void hgetall_generic(client *c, int what) {
    const hash *h;
    if (!hash_read_or_reply(c, &h)) return;
    uint64_t n = h ? hash_len(h) : 0;
    if (what == (HASH_FIELDS | HASH_VALUES))
        add_reply_map(c, (long long)n);
    else
        add_reply_array(c, (long long)n);
    if (!h) return;
    hash_iter it;
    hash_iter_init(&it, h);
    const char *f, *v;
    size_t flen, vlen;
    while (hash_iter_next(&it, &f, &flen, &v, &vlen)) {
        if (what & HASH_FIELDS) add_reply_bulk(c, f, flen);
        if (what & HASH_VALUES) add_reply_bulk(c, v, vlen);
    }
}

static void hgetall_command(client *c) { hgetall_generic(c, HASH_FIELDS | HASH_VALUES); }
static void hkeys_command(client *c) { hgetall_generic(c, HASH_FIELDS); }
static void hvals_command(client *c) { hgetall_generic(c, HASH_VALUES); }

static void hdel_command(client *c) {
    hash_write w;
    if (!hash_open_write(c, &w, false)) {
        if (!w.e) add_reply_integer(c, 0); /* absent key (WRONGTYPE already replied) */
        return;
    }
    long long deleted = 0;
    for (int i = 2; i < c->argc && hash_len(w.h) > 0; i++)
        deleted += hash_delete(&w.h, c->argv[i].ptr, c->argv[i].len);
    hash_store_back(c, &w, deleted > 0, "hdel");
    add_reply_integer(c, deleted);
}

static void hlen_command(client *c) {
    const hash *h;
    if (!hash_read_or_reply(c, &h)) return;
    add_reply_integer(c, h ? (long long)hash_len(h) : 0);
}

static void hexists_command(client *c) {
    const hash *h;
    if (!hash_read_or_reply(c, &h)) return;
    add_reply_integer(c, h && hash_exists(h, c->argv[2].ptr, c->argv[2].len));
}

static void hstrlen_command(client *c) {
    const hash *h;
    if (!hash_read_or_reply(c, &h)) return;
    const char *v;
    size_t vlen;
    bool found = h && hash_get(h, c->argv[2].ptr, c->argv[2].len, &v, &vlen);
    add_reply_integer(c, found ? (long long)vlen : 0);
}

static void hincrby_command(client *c) {
    long long incr, result;
    if (!arg_ll_or_reply(c, &c->argv[3], &incr, NULL)) return;
    hash_write w;
    if (!hash_open_write(c, &w, true)) return;
    int rc = hash_incrby(&w.h, c->argv[2].ptr, c->argv[2].len, incr, &result, &w.lim);
    hash_store_back(c, &w, rc == HASH_OK, "hincrby");
    if (rc == HASH_ERR_NOT_INT)
        add_reply_error(c, "ERR hash value is not an integer");
    else if (rc == HASH_ERR_OVERFLOW)
        add_reply_error(c, ERR_OVERFLOW);
    else
        add_reply_integer(c, result);
}

static void hincrbyfloat_command(client *c) {
    long double incr;
    if (!arg_ld_or_reply(c, &c->argv[3], &incr, NULL)) return;
    if (isnan(incr) || isinf(incr)) {
        add_reply_error(c, "ERR value is NaN or Infinity");
        return;
    }
    hash_write w;
    if (!hash_open_write(c, &w, true)) return;
    char *buf = mem_alloc(HASH_LD_BUF);
    size_t len = 0;
    int rc = hash_incrbyfloat(&w.h, c->argv[2].ptr, c->argv[2].len, incr, buf, &len, &w.lim);
    hash_store_back(c, &w, rc == HASH_OK, "hincrbyfloat");
    if (rc == HASH_OK) { /* as HSET key field <result>, as Redis 7.0 */
        propagate_rewrite_begin(4);
        propagate_arg_str("HSET");
        propagate_arg(c->argv[1].ptr, c->argv[1].len);
        propagate_arg(c->argv[2].ptr, c->argv[2].len);
        propagate_arg(buf, len);
    }
    if (rc == HASH_ERR_NOT_FLOAT)
        add_reply_error(c, "ERR hash value is not a float");
    else if (rc == HASH_ERR_NAN)
        add_reply_error(c, "ERR increment would produce NaN or Infinity");
    else
        add_reply_bulk(c, buf, len);
    mem_free(buf);
}

/* ---------------------------------------------------------- HRANDFIELD */

typedef struct {
    client *c;
    bool withvalues;
} randfield_ctx;

static bool randfield_reply_pair(const char *f, size_t flen, const char *v, size_t vlen, void *arg) {
    randfield_ctx *r = arg;
    if (r->withvalues && r->c->resp > 2) add_reply_array(r->c, 2);
    add_reply_bulk(r->c, f, flen);
    if (r->withvalues) add_reply_bulk(r->c, v, vlen);
    return !(r->c->flags & CF_CLOSE_ASAP);
}

static uint64_t randfield_rnd(void) { return db_random(); }

/* HRANDFIELD key [count [WITHVALUES]] */
static void hrandfield_command(client *c) {
    long long count = 0;
    bool withvalues = false;
    if (c->argc >= 3) {
        if (!arg_ll_or_reply(c, &c->argv[2], &count, NULL)) return;
        if (count < -LLONG_MAX) {
            add_reply_error(c, "ERR value is out of range, value must between -9223372036854775807 and "
                               "9223372036854775807");
            return;
        }
        if (c->argc > 4 || (c->argc == 4 && !arg_eq(&c->argv[3], "withvalues"))) {
            add_reply_error(c, ERR_SYNTAX);
            return;
        }
        if (c->argc == 4) {
            withvalues = true;
            if (count < -LLONG_MAX / 2 || count > LLONG_MAX / 2) {
                add_reply_error(c, "ERR value is out of range");
                return;
            }
        }
    }
    const hash *h;
    if (c->argc == 2) {
        if (!hash_read_or_reply(c, &h)) return;
        if (!h) {
            add_reply_null(c);
            return;
        }
        randfield_ctx r = {c, false};
        hash_random_fields(h, 1, false, randfield_rnd, randfield_reply_pair, &r);
        return;
    }
    if (!hash_read_or_reply(c, &h)) return;
    if (!h || count == 0) {
        add_reply_array(c, 0);
        return;
    }
    bool distinct = count > 0;
    uint64_t n = distinct ? (uint64_t)count : (uint64_t)(-count);
    uint64_t size = hash_len(h);
    uint64_t replies = distinct && n > size ? size : n;
    add_reply_array(c, (long long)(withvalues && c->resp == 2 ? replies * 2 : replies));
    randfield_ctx r = {c, withvalues};
    hash_random_fields(h, n, distinct, randfield_rnd, randfield_reply_pair, &r);
}

/* --------------------------------------------------------------- HSCAN */


typedef struct {
    const char *f, *v;
    size_t flen, vlen;
} hscan_pair;

typedef struct {
    hscan_pair *pairs;
    size_t n, cap;
    uint64_t visited; /* fields and values seen, as Redis counts for COUNT */
    const char *pat;
    size_t patlen;
} hscan_ctx;

static bool hscan_collect(const char *f, size_t flen, const char *v, size_t vlen, void *arg) {
    hscan_ctx *s = arg;
    s->visited += 2;
    if (s->pat && !glob_match(s->pat, s->patlen, f, flen, false)) return true;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->pairs = mem_realloc(s->pairs, s->cap * sizeof *s->pairs);
    }
    s->pairs[s->n++] = (hscan_pair){f, v, flen, vlen};
    return true;
}

/* HSCAN key cursor [MATCH pattern] [COUNT count] */
static void hscan_command(client *c) {
    uint64_t cursor;
    if (!parse_scan_cursor(c->argv[2].ptr, c->argv[2].len, &cursor)) {
        add_reply_error(c, "ERR invalid cursor");
        return;
    }
    const hash *h;
    if (!hash_read_or_reply(c, &h)) return;
    if (!h) {
        add_reply_array(c, 2);
        add_reply_bulk(c, "0", 1);
        add_reply_array(c, 0);
        return;
    }
    long long count = 10;
    hscan_ctx s = {0};
    for (int i = 3; i < c->argc; i += 2) {
        bool has_value = i + 1 < c->argc;
        if (has_value && arg_eq(&c->argv[i], "count")) {
            if (!arg_ll_or_reply(c, &c->argv[i + 1], &count, NULL)) return;
            if (count < 1) {
                add_reply_error(c, ERR_SYNTAX);
                return;
            }
        } else if (has_value && arg_eq(&c->argv[i], "match")) {
            const arg_t *p = &c->argv[i + 1];
            bool all = p->len == 1 && p->ptr[0] == '*';
            s.pat = all ? NULL : p->ptr;
            s.patlen = all ? 0 : p->len;
        } else {
            add_reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    /* A listpack is returned whole; a hashtable bucket by bucket until
     * COUNT elements (fields and values) or 10 * COUNT buckets. */
    long long maxiter = count * 10;
    do {
        cursor = hash_scan(h, cursor, hscan_collect, &s);
    } while (cursor && maxiter-- && s.visited < (uint64_t)count);

    char buf[32];
    add_reply_array(c, 2);
    add_reply_bulk(c, buf, (size_t)snprintf(buf, sizeof buf, "%llu", (unsigned long long)cursor));
    add_reply_array(c, (long long)s.n * 2);
    for (size_t i = 0; i < s.n; i++) {
        add_reply_bulk(c, s.pairs[i].f, s.pairs[i].flen);
        add_reply_bulk(c, s.pairs[i].v, s.pairs[i].vlen);
    }
    mem_free(s.pairs);
}

/* ------------------------------------------------------- command table */

#define HASH_KEY1 .first_key = 1, .last_key = 1, .key_step = 1
#define W_FAST (CMD_WRITE | CMD_DENYOOM | CMD_FAST)
#define R_FAST (CMD_READONLY | CMD_FAST)

command hash_commands[] = {
    {.name = "hset", .arity = -4, .flags = W_FAST, HASH_KEY1, .proc = hset_command, .group = "hash",
     .since = "2.0.0", .summary = "Set the string value of a hash field",
     .complexity = "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is "
                   "called with multiple field/value pairs.",
     .acl_categories = "write hash fast"},
    {.name = "hsetnx", .arity = 4, .flags = W_FAST, HASH_KEY1, .proc = hsetnx_command, .group = "hash",
     .since = "2.0.0", .summary = "Set the value of a hash field, only if the field does not exist",
     .complexity = "O(1)", .acl_categories = "write hash fast"},
    {.name = "hmset", .arity = -4, .flags = W_FAST, HASH_KEY1, .proc = hmset_command, .group = "hash",
     .since = "2.0.0", .summary = "Set multiple hash fields to multiple values",
     .complexity = "O(N) where N is the number of fields being set.", .acl_categories = "write hash fast"},
    {.name = "hget", .arity = 3, .flags = R_FAST, HASH_KEY1, .proc = hget_command, .group = "hash",
     .since = "2.0.0", .summary = "Get the value of a hash field", .complexity = "O(1)",
     .acl_categories = "read hash fast"},
    {.name = "hmget", .arity = -3, .flags = R_FAST, HASH_KEY1, .proc = hmget_command, .group = "hash",
     .since = "2.0.0", .summary = "Get the values of all the given hash fields",
     .complexity = "O(N) where N is the number of fields being requested.", .acl_categories = "read hash fast"},
    {.name = "hgetall", .arity = 2, .flags = CMD_READONLY, HASH_KEY1, .proc = hgetall_command, .group = "hash",
     .since = "2.0.0", .summary = "Get all the fields and values in a hash",
     .complexity = "O(N) where N is the size of the hash.", .acl_categories = "read hash slow"},
    {.name = "hkeys", .arity = 2, .flags = CMD_READONLY, HASH_KEY1, .proc = hkeys_command, .group = "hash",
     .since = "2.0.0", .summary = "Get all the fields in a hash", .complexity = "O(N) where N is the size of the hash.",
     .acl_categories = "read hash slow"},
    {.name = "hvals", .arity = 2, .flags = CMD_READONLY, HASH_KEY1, .proc = hvals_command, .group = "hash",
     .since = "2.0.0", .summary = "Get all the values in a hash", .complexity = "O(N) where N is the size of the hash.",
     .acl_categories = "read hash slow"},
    {.name = "hdel", .arity = -3, .flags = CMD_WRITE | CMD_FAST, HASH_KEY1, .proc = hdel_command, .group = "hash",
     .since = "2.0.0", .summary = "Delete one or more hash fields",
     .complexity = "O(N) where N is the number of fields to be removed.", .acl_categories = "write hash fast"},
    {.name = "hlen", .arity = 2, .flags = R_FAST, HASH_KEY1, .proc = hlen_command, .group = "hash",
     .since = "2.0.0", .summary = "Get the number of fields in a hash", .complexity = "O(1)",
     .acl_categories = "read hash fast"},
    {.name = "hexists", .arity = 3, .flags = R_FAST, HASH_KEY1, .proc = hexists_command, .group = "hash",
     .since = "2.0.0", .summary = "Determine if a hash field exists", .complexity = "O(1)",
     .acl_categories = "read hash fast"},
    {.name = "hstrlen", .arity = 3, .flags = R_FAST, HASH_KEY1, .proc = hstrlen_command, .group = "hash",
     .since = "3.2.0", .summary = "Get the length of the value of a hash field", .complexity = "O(1)",
     .acl_categories = "read hash fast"},
    {.name = "hincrby", .arity = 4, .flags = W_FAST, HASH_KEY1, .proc = hincrby_command, .group = "hash",
     .since = "2.0.0", .summary = "Increment the integer value of a hash field by the given number",
     .complexity = "O(1)", .acl_categories = "write hash fast"},
    {.name = "hincrbyfloat", .arity = 4, .flags = W_FAST, HASH_KEY1, .proc = hincrbyfloat_command, .group = "hash",
     .since = "2.6.0", .summary = "Increment the float value of a hash field by the given amount",
     .complexity = "O(1)", .acl_categories = "write hash fast"},
    {.name = "hrandfield", .arity = -2, .flags = CMD_READONLY, HASH_KEY1, .proc = hrandfield_command,
     .group = "hash", .since = "6.2.0", .summary = "Get one or multiple random fields from a hash",
     .complexity = "O(N) where N is the number of fields returned", .acl_categories = "read hash slow"},
    {.name = "hscan", .arity = -3, .flags = CMD_READONLY, HASH_KEY1, .proc = hscan_command, .group = "hash",
     .since = "2.8.0", .summary = "Incrementally iterate hash fields and associated values",
     .complexity = "O(1) for every call. O(N) for a complete iteration, including enough command calls for the "
                   "cursor to return back to 0. N is the number of elements inside the collection..",
     .acl_categories = "read hash slow"},
    {0},
};
