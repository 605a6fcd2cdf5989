/*
 * db.c - keyspace operations over the per-(db, slot) tables and the write
 * funnel (see db.h).
 *
 * The funnel (db_changed and its siblings, db_remove_by_server) is the only
 * code that raises keyspace events, counts dirty or marks a command's
 * change for the replication stream: storage primitives change tables
 * only, so a command states each change exactly once, with its event.
 *
 * Each database's slot array (16384 ktables) is allocated on first write to
 * that database and published with a release store; readers load it with
 * acquire. Tables are never freed while the server runs, only emptied, so a
 * pointer obtained under a slot lock stays valid.
 */
#include "db.h"

#include "cluster_api.h"
#include "config.h"

#include "blocking.h"
#include "crc16.h"
#include "evict.h"
#include "lazyfree.h"
#include "mem.h"
#include "notify_internal.h"
#include "propagate.h"
#include "rng.h"
#include "slotlock.h"
#include "snapshot.h"
#include "stats.h"
#include "watch.h"
#include "writepause.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

static _Atomic(ktable *) *databases; /* [ndb] -> ktable[CLUSTER_SLOTS] */
static int ndatabases;
/* The databases whose slot arrays exist, in creation order: appended under
 * create_lock, published by the release store of written_count. */
static int *written_dbs;
static _Atomic int written_count;
static atomic_flag bound_resetting = ATOMIC_FLAG_INIT;
static pthread_mutex_t create_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local long long cmd_now_ms;
static _Thread_local uint64_t rng_state;
static _Thread_local bool rng_seeded;

#define REMEMBERED_SLOTS 4
#define LRU_FUTURE_SLACK_S 3600 /* see entry_idle_ms */
static _Thread_local const char *remembered_key[REMEMBERED_SLOTS];
static _Thread_local size_t remembered_len[REMEMBERED_SLOTS];
static _Thread_local unsigned remembered_slot[REMEMBERED_SLOTS];
static _Thread_local uint64_t remembered_hash[REMEMBERED_SLOTS];
static _Thread_local bool remembered_has_hash[REMEMBERED_SLOTS];

void db_remember_key(int i, const char *key, size_t len, unsigned slot, const uint64_t *hash) {
    if (i >= REMEMBERED_SLOTS) return;
    remembered_key[i] = key;
    remembered_len[i] = len;
    remembered_slot[i] = slot;
    remembered_has_hash[i] = hash != NULL;
    if (hash) remembered_hash[i] = *hash;
}

void db_forget_key_slots(void) {
    for (int i = 0; i < REMEMBERED_SLOTS; i++) remembered_key[i] = NULL;
}

void dbkey_init(dbkey *k, int db, const char *key, size_t len) {
    k->db = db;
    k->key = key;
    k->len = len;
    for (int i = 0; i < REMEMBERED_SLOTS; i++) {
        if (remembered_key[i] != key || remembered_len[i] != len) continue;
        k->slot = remembered_slot[i];
        k->hash = remembered_has_hash[i] ? remembered_hash[i] : key_hash(key, len);
        return;
    }
    k->slot = key_hash_slot(key, len);
    k->hash = key_hash(key, len);
}

void db_init(int ndb) {
    ndatabases = ndb;
    databases = mem_calloc((size_t)ndb, sizeof *databases);
    written_dbs = mem_calloc((size_t)ndb, sizeof *written_dbs);
    atomic_store_explicit(&written_count, 0, memory_order_relaxed);
}

void db_shutdown(void) {
    for (int d = 0; d < ndatabases; d++) {
        ktable *t = atomic_load_explicit(&databases[d], memory_order_acquire);
        if (!t) continue;
        for (unsigned s = 0; s < CLUSTER_SLOTS; s++) ktable_clear(&t[s]);
        mem_free(t);
    }
    mem_free(databases);
    databases = NULL;
    mem_free(written_dbs);
    written_dbs = NULL;
}

int db_count(void) { return ndatabases; }

long long mstime(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long ustime(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

long long db_now_ms(void) { return cmd_now_ms ? cmd_now_ms : mstime(); }
void db_set_now_ms(long long now) { cmd_now_ms = now; }
bool db_now_is_set(void) { return cmd_now_ms != 0; }

uint32_t lru_clock(void) { return (uint32_t)((db_now_ms() / 1000) & 0xffffff); }

uint64_t db_random(void) {
    if (!rng_seeded) {
        rng_state = (uint64_t)ustime() ^ (uint64_t)(uintptr_t)&rng_state;
        rng_seeded = true;
    }
    return rng_next(&rng_state);
}

ktable *db_table(int db, unsigned slot, bool create) {
    ktable *t = atomic_load_explicit(&databases[db], memory_order_acquire);
    if (!t) {
        if (!create) return NULL;
        pthread_mutex_lock(&create_lock);
        t = atomic_load_explicit(&databases[db], memory_order_relaxed);
        if (!t) {
            t = mem_calloc(CLUSTER_SLOTS, sizeof(ktable));
            atomic_store_explicit(&databases[db], t, memory_order_release);
            int n = atomic_load_explicit(&written_count, memory_order_relaxed);
            written_dbs[n] = db;
            atomic_store_explicit(&written_count, n + 1, memory_order_release);
        }
        pthread_mutex_unlock(&create_lock);
    }
    return &t[slot];
}

ktable *db_tables(int db) { return atomic_load_explicit(&databases[db], memory_order_acquire); }

entry *db_find_raw(int db, unsigned slot, const char *key, size_t len) {
    ktable *t = db_table(db, slot, false);
    long pos = t ? ktable_find(t, key, len, key_hash(key, len)) : -1;
    return pos >= 0 ? ktable_at(t, pos) : NULL;
}

static void changed(const dbkey *k, int type, const char *event, bool watch) {
    if (watch) watch_touch_key(k);
    stat_inc(STAT_DIRTY);
    propagate_count_change();
    notify_keyspace_event(type, event, k);
    /* The key holds a list (sorted set) again, or nothing: its first
     * waiter for that type re-checks it (nobody waits: one relaxed load).
     * A stream's readers re-check it on the two events Redis signals them
     * for: an entry added, a group destroyed (its XREADGROUP readers answer
     * NOGROUP); not on XDEL, XTRIM, XACK..., which serve nobody. */
    if (type == NOTIFY_LIST)
        blocking_key_ready(k, OBJ_LIST);
    else if (type == NOTIFY_ZSET)
        blocking_key_ready(k, OBJ_ZSET);
    else if (type == NOTIFY_STREAM && (strcmp(event, "xadd") == 0 || strcmp(event, "xgroup-destroy") == 0))
        blocking_key_ready(k, OBJ_STREAM);
}

void db_changed(const dbkey *k, int type, const char *event) { changed(k, type, event, true); }
void db_changed_unwatched(const dbkey *k, int type, const char *event) { changed(k, type, event, false); }

void db_changed_removed(const dbkey *k, int type, const char *event, bool emptied) {
    db_changed(k, type, event);
    if (!emptied) return;
    db_delete(k);
    db_changed(k, NOTIFY_GENERIC, "del");
}

void db_unchanged_event(const dbkey *k, int type, const char *event) {
    watch_touch_key(k);
    notify_keyspace_event(type, event, k);
}

/* The one path of a key the server removes on its own (Redis's
 * deleteExpiredKeyAndPropagate and performEvictions): WATCH, the keyspace
 * event, the statistic and DEL/UNLINK in the replication stream. Not a
 * change of the running command (a GET that meets an expired key does not
 * propagate itself). Caller holds the slot lock; returns the entry, which
 * the caller frees (outside the lock when it can). */
entry *db_remove_by_server(const dbkey *k, long pos, bool evicted) {
    snapshot_before_write(k->slot);
    ktable *t = db_table(k->db, k->slot, false);
    entry *e = ktable_at(t, pos);
    ktable_remove_at(t, pos);
    watch_touch_key(k);
    if (entry_type(e) == OBJ_STREAM) blocking_key_ready(k, OBJ_STREAM); /* see signal_if_blocking_type */
    bool lazy = (evicted ? cfg_get(lazyfree_lazy_eviction) : cfg_get(lazyfree_lazy_expire)) != 0;
    if (evicted) {
        notify_keyspace_event(NOTIFY_EVICTED, "evicted", k);
        stat_inc(STAT_EVICTED_KEYS);
    } else {
        notify_keyspace_event(NOTIFY_EXPIRED, "expired", k);
        stat_inc(STAT_EXPIRED_KEYS);
    }
    propagate_deletion(k->db, k->key, k->len, lazy);
    return e;
}

bool db_is_expired(const entry *e, long long now) {
    long long when = entry_expire(e);
    return when >= 0 && now > when; /* as Redis's keyIsExpired */
}

/* The command running on this thread came from our master (a replica
 * applying its stream). Redis 7.0's expireIfNeeded on a replica: the
 * master's commands see an expired key as present (the master's DEL is on
 * its way); other clients' reads see it missing without deleting it; a
 * write on a writable replica deletes it (locally: a replica's stream is
 * its master's, so nothing is propagated, see propagate.h). */
static _Thread_local bool from_master;
void db_set_from_master(bool on) { from_master = on; }

entry *db_lookup(const dbkey *k, int flags, long *pos) {
    if (flags & LOOKUP_WRITE) snapshot_before_write(k->slot); /* the caller may change what it finds */
    ktable *t = db_table(k->db, k->slot, false);
    long p = t ? ktable_find(t, k->key, k->len, k->hash) : -1;
    entry *e = p >= 0 ? ktable_at(t, p) : NULL;
    if (e && db_is_expired(e, db_now_ms()) && !from_master) {
        /* A replica hides it (its master's DEL removes it); so does a
         * master whose writes are paused (a hand-over: the offset must not
         * move; after the pause the key expires here, or the new master's
         * DEL comes), as Redis 7.0's expireIfNeeded. */
        if ((repl_is_replica() || writepause_active()) && !(flags & LOOKUP_WRITE)) {
            e = NULL;
            p = -1;
        } else {
            lazyfree_entry(db_remove_by_server(k, p, false));
            e = NULL;
            p = -1;
        }
    }
    if (!(flags & (LOOKUP_WRITE | LOOKUP_NOSTATS))) {
        stat_inc(e ? STAT_KEYSPACE_HITS : STAT_KEYSPACE_MISSES);
        if (!e) notify_keyspace_event(NOTIFY_KEY_MISS, "keymiss", k);
    }
    if (e && !(flags & LOOKUP_NOTOUCH)) {
        evict_touch(e);
        entry_mark_reused(e);
    }
    if (pos) *pos = p;
    return e;
}

/* A list, sorted set or stream appearing under a key (RENAME, COPY, MOVE,
 * RESTORE as well as pushes and XADD) may serve clients blocked on it; so
 * may a stream leaving it (Redis's dbGenericDelete / dbOverwrite signal it:
 * XREADGROUP readers then answer an error; XREAD readers stay blocked). */
static void signal_if_blocking_type(const dbkey *k, const entry *e) {
    unsigned t = entry_type(e);
    if (t == OBJ_LIST || t == OBJ_ZSET || t == OBJ_STREAM) blocking_key_ready(k, t);
}

void db_add(const dbkey *k, entry *e) {
    snapshot_before_write(k->slot);
    entry_set_lru(e, evict_initial_field());
    ktable_insert(db_table(k->db, k->slot, true), e, k->hash);
    signal_if_blocking_type(k, e);
    notify_keyspace_event(NOTIFY_NEW, "new", k);
}

void db_replace(const dbkey *k, long pos, entry *e) {
    snapshot_before_write(k->slot);
    ktable *t = db_table(k->db, k->slot, false);
    entry *old = ktable_at(t, pos);
    int delta = (int)entry_has_expire(e) - (int)entry_has_expire(old);
    if (delta) ktable_add_expires(t, delta);
    if (entry_lru(e) == 0) entry_set_lru(e, evict_initial_field());
    ktable_replace_at(t, pos, e);
    if (entry_type(old) == OBJ_STREAM && entry_type(e) != OBJ_STREAM) blocking_key_ready(k, OBJ_STREAM);
    if (old != e) lazyfree_entry(old);
    signal_if_blocking_type(k, e);
}

entry *db_grow_string(const dbkey *k, long pos, size_t vlen) {
    snapshot_before_write(k->slot);
    ktable *t = db_table(k->db, k->slot, false);
    entry *e = entry_grow_raw_string(ktable_at(t, pos), vlen);
    ktable_replace_at(t, pos, e);
    return e;
}

entry *db_store_string(const dbkey *k, long pos, const char *val, size_t vlen, long long expire, bool force_raw) {
    if (pos >= 0) {
        snapshot_before_write(k->slot);
        ktable *t = db_table(k->db, k->slot, false);
        entry *old = ktable_at(t, pos);
        int had = entry_has_expire(old);
        if (entry_rewrite_string(old, k->key, k->len, val, vlen, expire, force_raw)) {
            int delta = (int)entry_has_expire(old) - had;
            if (delta) ktable_add_expires(t, delta);
            entry_set_lru(old, evict_initial_field());
            return old;
        }
        entry *e = entry_new_string(k->key, k->len, val, vlen, expire, force_raw);
        if (entry_was_reused(old)) entry_mark_reused(e); /* as an in-place rewrite keeps it */
        db_replace(k, pos, e);
        return e;
    }
    entry *e = entry_new_string(k->key, k->len, val, vlen, expire, force_raw);
    db_add(k, e);
    return e;
}

void db_set(const dbkey *k, entry *e) {
    long pos;
    if (db_lookup(k, LOOKUP_WRITE, &pos))
        db_replace(k, pos, e);
    else
        db_add(k, e);
}

entry *db_unlink_at(const dbkey *k, long pos) {
    snapshot_before_write(k->slot);
    ktable *t = db_table(k->db, k->slot, false);
    entry *e = ktable_at(t, pos);
    ktable_remove_at(t, pos);
    if (entry_type(e) == OBJ_STREAM) blocking_key_ready(k, OBJ_STREAM); /* see signal_if_blocking_type */
    return e;
}

void db_delete_at(const dbkey *k, long pos) { lazyfree_entry(db_unlink_at(k, pos)); }

bool db_delete(const dbkey *k) {
    long pos;
    if (!db_lookup(k, LOOKUP_WRITE, &pos)) return false;
    db_delete_at(k, pos);
    return true;
}

void db_set_expire_at(const dbkey *k, long pos, long long when) {
    snapshot_before_write(k->slot);
    ktable *t = db_table(k->db, k->slot, false);
    entry *e = ktable_at(t, pos);
    if (when >= 0 && entry_has_expire(e)) {
        entry_store_expire(e, when);
        return;
    }
    if (when < 0 && !entry_has_expire(e)) return;
    entry *n = entry_with_expire(e, when);
    ktable_add_expires(t, when >= 0 ? 1 : -1);
    ktable_replace_at(t, pos, n);
    mem_free(e); /* the value (if any) now belongs to n */
}

static uint64_t sum_db(int db, bool expires) {
    ktable *t = atomic_load_explicit(&databases[db], memory_order_acquire);
    if (!t) return 0;
    uint64_t n = 0;
    for (unsigned s = 0; s < CLUSTER_SLOTS; s++) n += expires ? ktable_expires(&t[s]) : ktable_count(&t[s]);
    return n;
}

uint64_t db_size(int db) { return sum_db(db, false); }
uint64_t db_expires(int db) { return sum_db(db, true); }

/* A table moved out of the keyspace by a flush, waiting to be freed. */
struct db_flushed {
    ktable t;
    struct db_flushed *next;
};

static void free_table(ktable *t, bool async) {
    if (async)
        lazyfree_table(t);
    else
        ktable_clear(t);
}

/* Move every table of db (-1: all) out, each under its slot lock. With
 * `later` the tables are returned for db_flushed_free, else freed at once
 * (outside their slot lock). */
static uint64_t flush_tables(int db, bool async, db_flushed **later) {
    uint64_t removed = 0;
    watch_touch_db(db);
    for (int d = (db < 0 ? 0 : db); d < (db < 0 ? ndatabases : db + 1); d++) {
        ktable *t = atomic_load_explicit(&databases[d], memory_order_acquire);
        if (!t) continue;
        for (unsigned s = 0; s < CLUSTER_SLOTS; s++) {
            if (ktable_count(&t[s]) == 0) continue;
            ktable old;
            slot_lock(s);
            snapshot_before_write(s);
            ktable_move(&old, &t[s]);
            slot_unlock(s);
            removed += ktable_count(&old);
            stat_add(STAT_DIRTY, ktable_count(&old));
            if (later) {
                db_flushed *f = mem_alloc(sizeof *f);
                ktable_move(&f->t, &old);
                f->next = *later;
                *later = f;
            } else {
                free_table(&old, async);
            }
        }
    }
    return removed;
}

uint64_t db_flush(int db, bool async) { return flush_tables(db, async, NULL); }

uint64_t db_flush_detach(int db, db_flushed **out) {
    *out = NULL;
    return flush_tables(db, false, out);
}

void db_flushed_free(db_flushed *list, bool async) {
    while (list) {
        db_flushed *n = list->next;
        free_table(&list->t, async);
        mem_free(list);
        list = n;
    }
}

void db_swap(int a, int b) {
    if (a == b) return;
    watch_touch_swap(a, b);
    ktable *ta = db_table(a, 0, true), *tb = db_table(b, 0, true);
    for (unsigned s = 0; s < CLUSTER_SLOTS; s++) {
        if (ktable_count(&ta[s]) == 0 && ktable_count(&tb[s]) == 0) continue;
        snapshot_before_write(s);
        ktable tmp;
        ktable_move(&tmp, &ta[s]);
        ktable_move(&ta[s], &tb[s]);
        ktable_move(&tb[s], &tmp);
    }
    blocking_dbs_swapped(a, b);
}

/* Redis's delKeysInSlot for one key: WATCH and DEL into the stream (fed at
 * once: this runs outside any command, under the slot lock). */
typedef struct {
    int db;
    unsigned slot;
} slot_delete_ctx;

static void slot_delete_one(entry *e, void *arg) {
    const slot_delete_ctx *d = arg;
    dbkey k = {.db = d->db, .slot = d->slot};
    k.key = entry_key(e, &k.len);
    watch_touch_key(&k);
    propagate_deletion(d->db, k.key, k.len, false);
}

uint64_t db_delete_slot(int db, unsigned slot) { return db_delete_slot_if(db, slot, NULL, true); }

uint64_t db_delete_slot_if(int db, unsigned slot, bool (*still)(unsigned slot), bool lazy) {
    ktable *t = db_table(db, slot, false);
    if (!t) {
        if (still) { /* nothing to delete; still() is asked all the same (it may take a mark) */
            slot_lock(slot);
            still(slot);
            slot_unlock(slot);
        }
        return 0;
    }
    slot_delete_ctx d = {db, slot};
    ktable old;
    slot_lock(slot); /* the count too: a write may be landing */
    if ((still && !still(slot)) || ktable_count(t) == 0) {
        slot_unlock(slot);
        return 0;
    }
    snapshot_before_write(slot);
    ktable_scan_range(t, 0, 1ULL << 32, slot_delete_one, &d);
    ktable_move(&old, t);
    slot_unlock(slot);
    uint64_t removed = ktable_count(&old);
    stat_add(STAT_DIRTY, removed);
    propagate_wake();
    free_table(&old, lazy);
    return removed;
}

typedef struct {
    db_visit_fn *fn;
    void *arg;
    long long now;
} visit_ctx;

static void visit_live(entry *e, void *arg) {
    visit_ctx *v = arg;
    if (!db_is_expired(e, v->now)) v->fn(e, v->arg);
}

void db_visit_slot_locked(int db, unsigned slot, db_visit_fn *fn, void *arg) {
    ktable *t = db_table(db, slot, false);
    if (!t || ktable_count(t) == 0) return;
    visit_ctx v = {fn, arg, db_now_ms()};
    ktable_scan_range(t, 0, 1ULL << 32, visit_live, &v);
}

void db_visit_slot(int db, unsigned slot, db_visit_fn *fn, void *arg) {
    slot_lock(slot);
    db_visit_slot_locked(db, slot, fn, arg);
    slot_unlock(slot);
}

/* ------------------------------------------------------ random picks
 *
 * A uniform random key is a slot drawn with probability proportional to its
 * key count, then a uniform key of that slot (ktable_random). The slot draw
 * is rejection sampling against ktable_count_bound(), a power of two above
 * every table's count that needs no shared write per insert: draw a
 * database of the scope, a slot and j < bound, and accept when j < the
 * slot's count. The chance to accept is mean count / bound, at least half
 * of mean / max; with 1M keys spread by hash (mean 61, max ~100, bound
 * 128) a pick reads about 2 counters. After RANDOM_SLOT_TRIES
 * rejections (a small or skewed keyspace: few keys, or most of them in a
 * few hash-tagged slots) the pick is exact by a walk over the counters of
 * the scope (two passes over 16384 counters per database), which also
 * lowers a bound left high by deleted keys. Counters are read without
 * locks: exact when the keyspace is quiet, approximate while it changes. */

#define RANDOM_SLOT_TRIES 64

static uint32_t slot_weight(const ktable *t, bool expires) { return expires ? ktable_expires(t) : ktable_count(t); }

static uint32_t max_weight(int ndbs, bool expires) {
    uint32_t max = 0;
    for (int i = 0; i < ndbs; i++) {
        const ktable *t = db_tables(written_dbs[i]);
        for (unsigned s = 0; s < CLUSTER_SLOTS; s++) {
            uint32_t w = slot_weight(&t[s], expires);
            if (w > max) max = w;
        }
    }
    return max;
}

/* A bound more than 4x above the largest counter (keys deleted since) makes
 * rejection fail: lower it to just above that counter, then take every
 * slot lock once and raise it again for any table above. An insert that
 * reached a new power of two while the bound was still high did not raise
 * it, and the lock orders it before our visit of its slot (we see its
 * count) or after it (it sees the new bound). One thread at a time; costs
 * a pass over the counters and 16384 uncontended lock round trips, and
 * happens again only after the largest table shrinks 2-4x more. */
static void lower_count_bound(bool expires) {
    int n = atomic_load_explicit(&written_count, memory_order_acquire);
    uint32_t max = max_weight(n, expires);
    if (ktable_count_bound(expires) <= 4 * (uint64_t)max + 4) return;
    if (atomic_flag_test_and_set_explicit(&bound_resetting, memory_order_acquire)) return;
    ktable_count_bound_reset(expires, max);
    for (unsigned s = 0; s < CLUSTER_SLOTS; s++) {
        slot_lock(s);
        for (int i = 0; i < n; i++)
            ktable_count_bound_note(expires, slot_weight(&db_tables(written_dbs[i])[s], expires));
        slot_unlock(s);
    }
    atomic_flag_clear_explicit(&bound_resetting, memory_order_release);
}

/* The exact pick: the slot holding the r-th key of the scope. */
static bool walk_pick(const int *dbs, int ndbs, bool expires, int *db_out, unsigned *slot_out) {
    uint64_t total = 0;
    uint32_t max = 0;
    for (int i = 0; i < ndbs; i++) {
        const ktable *t = db_tables(dbs[i]);
        for (unsigned s = 0; s < CLUSTER_SLOTS; s++) {
            uint32_t w = slot_weight(&t[s], expires);
            total += w;
            if (w > max) max = w;
        }
    }
    if (total == 0) return false;
    if (ktable_count_bound(expires) > 4 * (uint64_t)max + 4) lower_count_bound(expires);
    uint64_t r = rng_below(db_random(), total);
    bool found = false;
    for (int i = 0; i < ndbs; i++) {
        const ktable *t = db_tables(dbs[i]);
        for (unsigned s = 0; s < CLUSTER_SLOTS; s++) {
            uint32_t w = slot_weight(&t[s], expires);
            if (!w) continue;
            *db_out = dbs[i];
            *slot_out = s;
            found = true;
            if (r < w) return true;
            r -= w;
        }
    }
    return found; /* keys went away between the passes: the last non-empty slot */
}

bool db_random_slot(int db, bool expires, int *db_out, unsigned *slot_out) {
    const int *dbs = written_dbs;
    int ndbs = atomic_load_explicit(&written_count, memory_order_acquire);
    if (db >= 0) {
        if (!db_tables(db)) return false;
        dbs = &db;
        ndbs = 1;
    }
    if (ndbs == 0) return false;
    _Static_assert(CLUSTER_SLOTS == 1 << 14, "a draw's top 14 bits are the slot");
    uint64_t st = db_random();
    for (int t = 0; t < RANDOM_SLOT_TRIES; t++) {
        uint64_t bound = ktable_count_bound(expires);
        uint64_t x = rng_next(&st);
        unsigned s = (unsigned)(x >> 50);
        uint64_t j = rng_below(x << 14, bound);
        int d = ndbs == 1 ? dbs[0] : dbs[rng_below(rng_next(&st), (uint64_t)ndbs)];
        /* A counter at or above the bound is an insert racing with us (it
         * raises the bound right after): draw again. */
        uint32_t w = slot_weight(&db_tables(d)[s], expires);
        if (j < w && w < bound) {
            *db_out = d;
            *slot_out = s;
            return true;
        }
    }
    return walk_pick(dbs, ndbs, expires, db_out, slot_out);
}

char *db_random_key(int db, size_t *len) {
    long long now = db_now_ms();
    /* Expired keys (not yet deleted) are skipped, so the pick is uniform
     * over live keys; bounded attempts. */
    for (int attempt = 0; attempt < 1000; attempt++) {
        int d;
        unsigned s;
        if (!db_random_slot(db, false, &d, &s)) return NULL;
        slot_lock(s);
        entry *e = ktable_random(db_table(d, s, false), db_random(), false);
        char *copy = NULL;
        if (e && (!db_is_expired(e, now) || attempt > 100)) {
            const char *k = entry_key(e, len);
            copy = mem_strndup(k, *len);
        }
        slot_unlock(s);
        if (copy) return copy;
    }
    return NULL;
}

unsigned long long entry_idle_ms(const entry *e) {
    uint32_t now = lru_clock(), lru = entry_lru(e);
    /* A stamp a little ahead of `now` is not a wrap of the 24-bit clock:
     * another worker touched the key after this thread took its time
     * snapshot (one eviction run keeps one snapshot). Idle 0, not 194 days. */
    if (((lru - now) & 0xffffff) < LRU_FUTURE_SLACK_S) return 0;
    uint32_t diff = now >= lru ? now - lru : (0xffffff - lru) + now;
    return (unsigned long long)diff * 1000;
}
