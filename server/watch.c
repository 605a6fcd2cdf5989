/*
 * watch.c - WATCH bookkeeping (see watch.h).
 *
 * Each slot has a list of (db, key, client) watch records, guarded by that
 * slot's lock; a global atomic count lets writes skip the lookup entirely
 * when nobody watches anything. A client keeps its own list of records so
 * UNWATCH/EXEC/disconnect can remove them (locking one slot at a time).
 *
 * As Redis 7.0, a key that exists but is logically expired when watched is
 * recorded as expired-when-watched: its deletion (lazy or active expiry, a
 * flush) is no change, and EXEC aborts when a key that was live when
 * watched has logically expired since, deleted or not (Redis's
 * isWatchedKeyExpired: the abort must not wait for the expiry cycle).
 */
#include "watch.h"

#include "crc16.h"
#include "mem.h"
#include "slotlock.h"

#include <stdatomic.h>
#include <string.h>

typedef struct watched_key {
    struct watched_key *slot_next;   /* in the slot's list */
    struct watched_key **slot_prev;  /* link pointing at us */
    struct watched_key *client_next; /* in the client's list */
    client *c;
    int db;
    unsigned slot;
    bool expired;                    /* existed, logically expired, when watched */
    size_t len;
    char key[];
} watched_key;

static watched_key *slot_watchers[CLUSTER_SLOTS];
static _Atomic long total_watches;

/* The entry of w's key in its table (expired or not), or NULL; caller holds
 * w's slot lock. */
static entry *watched_entry(const watched_key *w) { return db_find_raw(w->db, w->slot, w->key, w->len); }

void watch_key(client *c, const dbkey *k) {
    for (watched_key *w = c->watched; w; w = w->client_next)
        if (w->db == k->db && w->len == k->len && memcmp(w->key, k->key, k->len) == 0) return;
    watched_key *w = mem_alloc(sizeof *w + k->len);
    w->c = c;
    w->db = k->db;
    w->slot = k->slot;
    w->len = k->len;
    memcpy(w->key, k->key, k->len);
    entry *e = watched_entry(w);
    w->expired = e && db_is_expired(e, db_now_ms());
    w->slot_next = slot_watchers[k->slot];
    if (w->slot_next) w->slot_next->slot_prev = &w->slot_next;
    w->slot_prev = &slot_watchers[k->slot];
    slot_watchers[k->slot] = w;
    w->client_next = c->watched;
    c->watched = w;
    atomic_fetch_add_explicit(&total_watches, 1, memory_order_relaxed);
}

void watch_unwatch_all(client *c) {
    watched_key *w = c->watched;
    c->watched = NULL;
    while (w) {
        watched_key *next = w->client_next;
        slot_lock(w->slot);
        *w->slot_prev = w->slot_next;
        if (w->slot_next) w->slot_next->slot_prev = w->slot_prev;
        slot_unlock(w->slot);
        mem_free(w);
        atomic_fetch_sub_explicit(&total_watches, 1, memory_order_relaxed);
        w = next;
    }
    atomic_store_explicit(&c->watch_dirty, false, memory_order_relaxed);
}

void watch_collect_slots(client *c, unsigned **slots, int *n, int *cap) {
    for (watched_key *w = c->watched; w; w = w->client_next) {
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 8;
            *slots = mem_realloc(*slots, (size_t)*cap * sizeof(unsigned));
        }
        (*slots)[(*n)++] = w->slot;
    }
}

bool watch_any_expired(client *c) {
    long long now = db_now_ms();
    for (watched_key *w = c->watched; w; w = w->client_next) {
        if (w->expired) continue; /* already expired when watched */
        entry *e = watched_entry(w);
        if (e && db_is_expired(e, now)) return true;
    }
    return false;
}

void watch_touch_key(const dbkey *k) {
    if (atomic_load_explicit(&total_watches, memory_order_relaxed) == 0) return;
    for (watched_key *w = slot_watchers[k->slot]; w; w = w->slot_next) {
        if (w->db != k->db || w->len != k->len || memcmp(w->key, k->key, k->len) != 0) continue;
        if (w->expired) {
            /* A key expired when watched is now deleted: logically no
             * change (Redis 7.0's touchWatchedKey). Deleted keys are not
             * flagged as expired. */
            if (!watched_entry(w)) {
                w->expired = false;
                continue;
            }
        }
        atomic_store_explicit(&w->c->watch_dirty, true, memory_order_relaxed);
    }
}

void watch_touch_db(int db) {
    if (atomic_load_explicit(&total_watches, memory_order_relaxed) == 0) return;
    for (unsigned s = 0; s < CLUSTER_SLOTS; s++) {
        slot_lock(s);
        for (watched_key *w = slot_watchers[s]; w; w = w->slot_next) {
            if (db >= 0 && w->db != db) continue;
            /* as Redis: only keys that exist (even if logically expired);
             * one already expired when watched is no change, its flag is
             * cleared (Redis 7.0's touchAllWatchedKeysInDb) */
            if (!watched_entry(w)) continue;
            if (w->expired)
                w->expired = false;
            else
                atomic_store_explicit(&w->c->watch_dirty, true, memory_order_relaxed);
        }
        slot_unlock(s);
    }
}

/* One watcher of database `emptied` whose keys are replaced by those of
 * `with` (Redis 7.0's touchAllWatchedKeysInDb for one watched key). */
static void touch_swapped(watched_key *w, int with, long long now) {
    entry *here = watched_entry(w);
    entry *there = db_find_raw(with, w->slot, w->key, w->len);
    if (!here && !there) return;
    if (w->expired) {
        if (!there) { /* an expired key now deleted: no logical change */
            w->expired = false;
            return;
        }
        if (db_is_expired(there, now)) return; /* expired it stays */
    } else if (!here && db_is_expired(there, now)) { /* nothing replaced by an expired key */
        w->expired = true;
        return;
    }
    atomic_store_explicit(&w->c->watch_dirty, true, memory_order_relaxed);
}

void watch_touch_swap(int a, int b) {
    if (atomic_load_explicit(&total_watches, memory_order_relaxed) == 0) return;
    long long now = db_now_ms();
    for (unsigned s = 0; s < CLUSTER_SLOTS; s++)
        for (watched_key *w = slot_watchers[s]; w; w = w->slot_next) {
            if (w->db == a)
                touch_swapped(w, b, now);
            else if (w->db == b)
                touch_swapped(w, a, now);
        }
}
