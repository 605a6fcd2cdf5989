/*
 * db.h - the keyspace: databases x 16384 slots, one ktable per (db, slot).
 *
 * Every function that takes a dbkey requires the caller to hold the key's
 * slot lock (dispatch.c takes it from the command table's key spec). Lazy
 * expiry happens here: a lookup that finds an expired key deletes it and
 * counts it in expired_keys. Whole-keyspace walks (FLUSHDB, DBSIZE, KEYS,
 * SCAN, RANDOMKEY, the active expire cycle) lock one slot at a time.
 *
 * The write funnel is here too: the storage primitives change tables only,
 * and every change a command makes is stated once through db_changed,
 * which runs the whole epilogue (WATCH, dirty, the stream's change mark,
 * the keyspace event, blocked clients).
 */
#ifndef DB_H
#define DB_H

#include "entry.h"
#include "ktable.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DB_MAX 16 * 1024 /* upper bound for `databases` */

typedef struct {
    int db;
    unsigned slot;
    const char *key;
    size_t len;
    uint64_t hash;
} dbkey;

void dbkey_init(dbkey *k, int db, const char *key, size_t len);
/* Dispatch remembers the slots (and, when known, the key hashes) it has for
 * the current command's key arguments so dbkey_init need not hash them
 * again (matched by pointer and length). */
void db_remember_key(int i, const char *key, size_t len, unsigned slot, const uint64_t *hash);
void db_forget_key_slots(void);

/* Startup/shutdown. `ndb` from the `databases` setting. */
void db_init(int ndb);
void db_shutdown(void);
int db_count(void);

/* Time as seen by the command being run: set by dispatch once per command
 * (like Redis's command time snapshot) so a command sees one consistent now. */
long long db_now_ms(void);
void db_set_now_ms(long long now);
bool db_now_is_set(void);
long long mstime(void);    /* wall clock, unix ms */
long long ustime(void);
uint32_t lru_clock(void); /* 24-bit seconds clock as Redis's LRU_CLOCK */

/* The table of (db, slot); created on first use when create is true. */
ktable *db_table(int db, unsigned slot, bool create);
/* All 16384 tables of a database as one array (indexed by slot), or NULL if
 * nothing was ever written to it. Tables are never freed while the server
 * runs, so the pointer stays valid; each table still needs its slot lock. */
ktable *db_tables(int db);

enum { LOOKUP_READ = 0, LOOKUP_WRITE = 1, LOOKUP_NOTOUCH = 2, LOOKUP_NOSTATS = 4 };

/* The entry stored for key in (db, slot), logically expired or not, with
 * no side effect (no expiry, no statistics, no LRU touch), or NULL. */
entry *db_find_raw(int db, unsigned slot, const char *key, size_t len);

/* Find a live key. Deletes it if expired. With LOOKUP_READ it counts a
 * keyspace hit or miss and refreshes the LRU clock (unless NOTOUCH).
 * *pos receives the bucket index (valid until the table changes). */
entry *db_lookup(const dbkey *k, int flags, long *pos);
/* The commands now running on this thread come from this replica's master
 * (dispatch sets it around them): lookups do not expire keys for them. */
void db_set_from_master(bool on);

/* ---- Storage primitives ----
 * They change the table and nothing else of the write's epilogue: no WATCH,
 * no dirty, no stream, no event but db_add's "new" (Redis's dbAdd), and
 * db_add / db_replace wake the clients blocked on k when the value placed
 * is a list or a sorted set. A command states each change it made with
 * db_changed (below). Loaders (RDB, DEBUG POPULATE) call db_add alone. */

/* Insert e for a key known to be absent (e's key must equal k). */
void db_add(const dbkey *k, entry *e);
/* Replace the entry at pos with e (same key); frees the old entry. */
void db_replace(const dbkey *k, long pos, entry *e);
/* Store a string value for k (pos from db_lookup, -1 if absent), reusing
 * the old entry's memory when it fits. Returns the stored entry. */
entry *db_store_string(const dbkey *k, long pos, const char *val, size_t vlen, long long expire, bool force_raw);
/* Grow the string (raw or embstr) at pos to vlen bytes, zero-padded, in
 * its own allocation (realloc: a large value is not copied); it is raw
 * afterwards. Returns the entry, which may have moved. SETBIT / BITFIELD. */
entry *db_grow_string(const dbkey *k, long pos, size_t vlen);
/* Add or overwrite (frees the old entry). */
void db_set(const dbkey *k, entry *e);
/* Remove the entry at pos and free it. */
void db_delete_at(const dbkey *k, long pos);
/* Remove the entry at pos without freeing it; returns it. */
entry *db_unlink_at(const dbkey *k, long pos);
/* Delete a key if present; returns true if it was deleted (live). */
bool db_delete(const dbkey *k);

/* ---- The write funnel ----
 * A change a command made to key k, stated once with its Redis 7.0
 * keyspace event (`type` a NOTIFY_* class of notify.h, `event` its name):
 * invalidates WATCHes on k, counts dirty (STAT_DIRTY, for save points),
 * marks the running command as a change (so it propagates, propagate.h),
 * queues the event (published after the slot locks are released, when the
 * class is enabled: otherwise one relaxed load) and, for a list or sorted
 * set event, wakes a client blocked on k for that type. A command raising
 * several events states each, in Redis's order (SETEX: "set", "expire";
 * RENAME: "rename_from", "rename_to"); each counts one change. This is the
 * only way to count a change or raise an event for one, so neither happens
 * without the other. Call after the change; caller holds k's slot lock.
 * A change Redis raises no event for (PFCOUNT refreshing an HLL's cached
 * cardinality) passes type 0 and event NULL. */
void db_changed(const dbkey *k, int type, const char *event);
/* db_changed but for WATCH: a change Redis 7.0 makes without
 * signalModifiedKey, so that a transaction watching the key still runs
 * (the consumer-group commands but XGROUP CREATE MKSTREAM making the
 * stream, XSETID). */
void db_changed_unwatched(const dbkey *k, int type, const char *event);
/* Elements were removed from the container under k (LPOP, SREM, HDEL,
 * ZREM, ...): db_changed(k, type, event), then, when the container is now
 * empty, the key's deletion and its "del" event (Redis's order). */
void db_changed_removed(const dbkey *k, int type, const char *event, bool emptied);
/* Redis's one event for a key left unchanged (LTRIM keeping the whole
 * list): the event and WATCH, no dirty, nothing propagated. */
void db_unchanged_event(const dbkey *k, int type, const char *event);
/* A key removed by the server itself, expired (lazily or by the active
 * cycle) or evicted: WATCH, event, statistic and the stream's DEL/UNLINK in
 * one place. Caller holds the slot lock and frees the returned entry. */
entry *db_remove_by_server(const dbkey *k, long pos, bool evicted);

/* Expire helpers (absolute unix ms; -1 = none). */
bool db_is_expired(const entry *e, long long now);
/* Set/remove the expire of the entry at pos; rebuilds the entry if its
 * layout changes. A storage primitive: the command states the change. */
void db_set_expire_at(const dbkey *k, long pos, long long when);

/* Count of keys / keys with expire in a database (no lock; approximate
 * while writers run, exact when quiet). */
uint64_t db_size(int db);
uint64_t db_expires(int db);
/* Remove all keys of db (-1 = all databases); returns keys removed. With
 * async the emptied tables are freed by the lazy-free thread. */
uint64_t db_flush(int db, bool async);
/* The same, for a caller that holds every slot lock (FLUSHALL): the emptied
 * tables come back in *out, to be freed with db_flushed_free once the locks
 * are released (no large free under a slot lock). */
typedef struct db_flushed db_flushed;
uint64_t db_flush_detach(int db, db_flushed **out);
void db_flushed_free(db_flushed *list, bool async);
/* SWAPDB: databases a and b exchange their keys, slot by slot, as Redis's
 * dbSwapDatabases: WATCHes of either database are touched first (Redis
 * 7.0's rules for existing and expired keys), then the tables swapped,
 * then clients blocked on a key of either database that now holds a value
 * are woken. WATCH and blocking records stay with their database number.
 * Caller holds every slot lock (slots_lock_all). */
void db_swap(int a, int b);

/* Delete every key of one slot of db, logically expired ones included
 * (Redis's delKeysInSlot: a slot this master lost to a newer configuration
 * while it still held keys there). Per key: WATCH touched, dirty counted
 * and DEL fed to the replication stream under the slot lock (as Redis 7.2;
 * 7.0.15 deleted without either, leaving its replicas with the keys); no
 * keyspace event (Redis raises none: only modules hear "del"). Takes the
 * slot lock itself: call on a worker, outside any command, with no slot
 * lock held. Returns the number of keys deleted. */
uint64_t db_delete_slot(int db, unsigned slot);
/* The same when still(slot), asked under the slot's lock, says so: a
 * deletion decided earlier that something may have made moot since. The
 * values are freed here, or with `lazy` on the lazy-free thread (as
 * db_delete_slot does). */
uint64_t db_delete_slot_if(int db, unsigned slot, bool (*still)(unsigned slot), bool lazy);

/* Walk every live entry of one slot of db under its lock. */
typedef void db_visit_fn(entry *e, void *arg);
void db_visit_slot(int db, unsigned slot, db_visit_fn *fn, void *arg);
/* The same for a caller that holds the slot's lock. */
void db_visit_slot_locked(int db, unsigned slot, db_visit_fn *fn, void *arg);

/* A (db, slot) drawn with probability proportional to its number of keys
 * (expires: of keys with an expire time) among the slots of database db, or
 * of every database when db < 0; false when there are none. Followed by
 * ktable_random under the slot lock it makes every key equally likely.
 * Takes no lock (reads the counters), so the caller must expect the slot
 * to have changed. Cost: expected bound / mean counter reads (about 2 for a
 * keyspace spread by hash), at most 64, then an exact walk over the
 * scope's counters (2 x 16384 per database). See db.c. */
bool db_random_slot(int db, bool expires, int *db_out, unsigned *slot_out);
/* A random live key of db, every key equally likely, copied with mem_alloc
 * (caller frees); NULL if the database is empty. */
char *db_random_key(int db, size_t *len);
/* Thread-local fast random numbers (splitmix64, rng.h). */
uint64_t db_random(void);

/* LRU helpers for OBJECT IDLETIME. */
unsigned long long entry_idle_ms(const entry *e);

#endif
