/*
 * expire.c - active expiry (see expire.h).
 *
 * Adaptive like Redis's active-expire cycle: each tick sweeps slots from the
 * worker's cursor in batches of at least `keys_per_loop` keys with a TTL,
 * deleting the expired ones, and keeps going while a batch found more than
 * `acceptable_stale` percent expired, until the tick's time budget (25% of
 * the tick plus 2% per active-expire-effort step) runs out. Slots without
 * keys with a TTL are skipped by reading their counter, without the lock.
 * A big (db, slot) table is swept SWEEP_CHUNK buckets or deletions at a
 * time, its slot lock let go between chunks and the budget checked; a
 * sweep the budget cuts short resumes there at the next tick (the worker
 * keeps the slot, database and position), so 300,000 keys expiring in one
 * hash slot do not hold the worker or the slot for their whole deletion.
 */
#include "expire.h"

#include "cluster_api.h"
#include "config.h"
#include "crc16.h"
#include "db.h"
#include "mem.h"
#include "notify.h"
#include "propagate.h"
#include "slotlock.h"
#include "stats.h"
#include "snapshot.h"
#include "worker.h"
#include "writepause.h"

typedef struct {
    unsigned sampled;
    unsigned expired;
} sweep_result;

#define SWEEP_CHUNK 1024 /* buckets and deletions per hold of a slot lock */

/* Check the entries of one (db, slot) table from *pos on, at most about
 * SWEEP_CHUNK of them; caller holds the slot lock. True when the end of the
 * table was reached (*pos back to 0); false with *pos where the next call
 * resumes (a table that shrank meanwhile is swept again from 0). */
static bool sweep_table(int db, unsigned slot, ktable *t, long long now, sweep_result *r, uint32_t *pos) {
    uint32_t size = t->size;
    uint32_t i = *pos < size ? *pos : 0;
    unsigned work = 0;
    for (; i < t->size; i++) {
        if (work >= SWEEP_CHUNK) {
            *pos = i;
            return false;
        }
        work++;
        for (;;) {
            if (t->size != size) { /* the table shrank: start over */
                size = t->size;
                i = 0;
            }
            if (t->size == 0 || !t->buckets[i]) break;
            entry *e = ktable_at(t, i);
            if (!entry_has_expire(e)) break;
            r->sampled++;
            if (now <= entry_expire(e)) break; /* same rule as db_is_expired */
            size_t klen;
            const char *key = entry_key(e, &klen);
            dbkey k;
            dbkey_init(&k, db, key, klen);
            entry_free(db_remove_by_server(&k, (long)i, false));
            r->expired++;
            work++;
        }
        if (t->size == 0) break;
    }
    *pos = 0;
    return true;
}

_Atomic bool expire_active_enabled = true;

void expire_cycle(worker *w, long long now) {
    if (!atomic_load_explicit(&expire_active_enabled, memory_order_relaxed)) return;
    /* A replica expires nothing itself: its master's DELs do (reads hide
     * logically expired keys meanwhile, db_lookup). */
    if (repl_is_replica()) return;
    /* Nor while writes are paused for a hand-over (Redis pauses expiry
     * then too): the stream stays where the replica was told it ends. */
    if (writepause_active()) return;
    long long effort = cfg_get(active_expire_effort) - 1; /* 0..9 */
    long long hz = cfg_get(hz);
    if (hz <= 0) hz = 10;
    long long budget_us = (25 + 2 * effort) * 1000000 / hz / 100;
    unsigned keys_per_loop = (unsigned)(20 + 5 * effort);
    unsigned acceptable_stale = (unsigned)(10 - effort);
    long long start = ustime();
    /* Only databases that were ever written have tables. */
    ktable *dbs_stack[16];
    int dbids_stack[16];
    bool heap = db_count() > 16;
    ktable **dbs = heap ? mem_alloc((size_t)db_count() * sizeof *dbs) : dbs_stack;
    int *dbids = heap ? mem_alloc((size_t)db_count() * sizeof *dbids) : dbids_stack;
    int ndb = 0;
    for (int d = 0; d < db_count(); d++) {
        ktable *t = db_tables(d);
        if (t) {
            dbids[ndb] = d;
            dbs[ndb++] = t;
        }
    }
    unsigned step = (unsigned)nworkers;
    unsigned slot = w->expire_cursor;
    if (slot % step != (unsigned)w->id) slot = (unsigned)w->id;
    unsigned visited = 0, total_slots = (CLUSTER_SLOTS - (unsigned)w->id + step - 1) / step;

    while (ndb > 0 && visited < total_slots) {
        sweep_result batch = {0, 0};
        while (batch.sampled < keys_per_loop && visited < total_slots) {
            bool out_of_time = false;
            for (int d = 0; d < ndb; d++) {
                if (dbids[d] < w->expire_db) continue; /* swept before a pause */
                ktable *t = &dbs[d][slot];
                if (ktable_expires(t) == 0) {
                    if (dbids[d] == w->expire_db) w->expire_pos = 0; /* nothing left to resume */
                    continue;
                }
                bool whole;
                do { /* the lock is let go between chunks */
                    slot_lock(slot);
                    whole = sweep_table(dbids[d], slot, t, now, &batch, &w->expire_pos);
                    slot_unlock(slot);
                } while (!whole && ustime() - start <= budget_us);
                if (!whole) { /* resume here at the next tick */
                    w->expire_db = dbids[d];
                    out_of_time = true;
                    break;
                }
            }
            if (out_of_time) {
                visited = total_slots;
                break;
            }
            w->expire_db = 0;
            slot += step;
            if (slot >= CLUSTER_SLOTS) slot = (unsigned)w->id;
            visited++;
        }
        stat_add(STAT_EXPIRED_STALE_SAMPLED, batch.sampled);
        stat_add(STAT_EXPIRED_STALE_FOUND, batch.expired);
        if (batch.sampled == 0 || batch.expired * 100 <= batch.sampled * acceptable_stale) break;
        if (ustime() - start > budget_us) {
            stat_inc(STAT_EXPIRED_TIME_CAP);
            break;
        }
    }
    w->expire_cursor = slot;
    if (heap) {
        mem_free(dbs);
        mem_free(dbids);
    }
    propagate_wake();
    notify_flush(); /* expired events, now that no slot lock is held */
}
