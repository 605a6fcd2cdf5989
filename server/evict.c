/*
 * evict.c - LRU/LFU bookkeeping and maxmemory eviction (see evict.h).
 *
 * Candidate selection follows Redis's sampled approximation with an
 * eviction pool, tuned for a better hit ratio: each refill samples
 * 2 x maxmemory-samples keys, a few neighbours from each of several random
 * non-empty slots (so candidates come from the whole keyspace, not one
 * table), and
 * the pool of the 16 best candidates survives between evictions on each
 * worker. The best candidate (most idle for LRU, least frequent for LFU,
 * nearest expiry for volatile-ttl) is re-checked under its slot lock before
 * it is deleted. Slot locks are taken one at a time, never while the
 * evicting command holds its own.
 * The random policies use no pool: each eviction takes one key drawn
 * uniformly from every key (volatile-random: every key with a TTL) of all
 * databases, by db_random_slot() and ktable_random().
 */
#include "evict.h"

#include "config.h"
#include "crc16.h"
#include "db.h"
#include "lazyfree.h"
#include "cluster_api.h"
#include "mem.h"
#include "monotime.h"
#include "notify.h"
#include "propagate.h"
#include "persist.h"
#include "slotlock.h"
#include "stats.h"

#include <string.h>

#define POOL_SIZE 16
#define SAMPLES_PER_SLOT 4
#define LFU_FUTURE_SLACK_MIN 60 /* see lfu_elapsed */
/* Scan resistance for the LRU policies: how much older a key that was
 * written and never looked up again looks to eviction than one that was
 * (measured: hit ratio 0.731 -> 0.758 at 20mb, and a 400k-key write scan
 * keeps 100% of a re-read hot set instead of 1%; see ARCHITECTURE.md). */
#define PROBATION_MS 60000ULL

typedef struct {
    unsigned long long score; /* higher = better to evict */
    int db;
    unsigned slot;
    size_t klen;
    char *key;                /* mem_alloc'd copy */
    const entry *seen;        /* the entry when sampled: identity for
                                 de-duplication only, never dereferenced */
} pool_entry;

static _Thread_local pool_entry pool[POOL_SIZE];
static _Thread_local int pool_len;

static long long policy(void) { return cfg_get(maxmemory_policy); }

bool evict_policy_is_lfu(void) {
    long long p = policy();
    return p == MAXMEMORY_ALLKEYS_LFU || p == MAXMEMORY_VOLATILE_LFU;
}

bool evict_policy_is_lru(void) {
    long long p = policy();
    return p == MAXMEMORY_ALLKEYS_LRU || p == MAXMEMORY_VOLATILE_LRU;
}

static bool policy_is_volatile(long long p) {
    return p == MAXMEMORY_VOLATILE_LRU || p == MAXMEMORY_VOLATILE_LFU || p == MAXMEMORY_VOLATILE_RANDOM ||
           p == MAXMEMORY_VOLATILE_TTL;
}

/* ------------------------------------------------------------ LRU / LFU */

static unsigned long lfu_minutes(void) { return (unsigned long)((db_now_ms() / 60000) & 65535); }

static unsigned long lfu_elapsed(unsigned long ldt) {
    unsigned long now = lfu_minutes();
    /* A stamp a little ahead is another worker's touch after this thread's
     * time snapshot, not a wrap of the 16-bit minute clock. */
    if (((ldt - now) & 65535) < LFU_FUTURE_SLACK_MIN) return 0;
    return now >= ldt ? now - ldt : 65535 - ldt + now;
}

unsigned evict_lfu_counter(const entry *e) {
    uint32_t f = entry_lru(e);
    unsigned long ldt = f >> 8, counter = f & 255;
    long long decay = cfg_get(lfu_decay_time);
    unsigned long periods = decay > 0 ? lfu_elapsed(ldt) / (unsigned long)decay : 0;
    if (periods) counter = periods > counter ? 0 : counter - periods;
    return (unsigned)counter;
}

static unsigned lfu_log_incr(unsigned counter) {
    if (counter == 255) return 255;
    double r = (double)(db_random() >> 11) / (double)(1ULL << 53);
    double base = (double)counter - LFU_INIT_VAL;
    if (base < 0) base = 0;
    double p = 1.0 / (base * (double)cfg_get(lfu_log_factor) + 1);
    return r < p ? counter + 1 : counter;
}

void evict_set_lfu(entry *e, unsigned counter) {
    entry_set_lru(e, (uint32_t)((lfu_minutes() << 8) | (counter & 255)));
}

void evict_set_idle_or_freq(entry *e, long long idle_s, long long freq) {
    if (freq >= 0 && evict_policy_is_lfu()) {
        evict_set_lfu(e, (unsigned)freq);
    } else if (idle_s >= 0 && !evict_policy_is_lfu()) {
        uint32_t secs = (uint32_t)(idle_s > 0xffffff ? 0xffffff : idle_s);
        entry_set_lru(e, (lru_clock() - secs) & 0xffffff);
    }
}

uint32_t evict_initial_field(void) {
    if (evict_policy_is_lfu()) return (uint32_t)((lfu_minutes() << 8) | LFU_INIT_VAL);
    return lru_clock();
}

void evict_touch(entry *e) {
    if (evict_policy_is_lfu()) {
        unsigned counter = lfu_log_incr(evict_lfu_counter(e));
        entry_set_lru(e, (uint32_t)((lfu_minutes() << 8) | counter));
    } else {
        entry_set_lru(e, lru_clock());
    }
}

/* ------------------------------------------------------------ the pool */

static unsigned long long score_of(const entry *e, long long p) {
    switch (p) {
    case MAXMEMORY_VOLATILE_TTL:
        return ~0ULL - (unsigned long long)entry_expire(e); /* sooner = higher */
    case MAXMEMORY_ALLKEYS_LFU:
    case MAXMEMORY_VOLATILE_LFU:
        return 255 - evict_lfu_counter(e);
    default: /* LRU: a key never looked up again since it was written is on
                probation and looks PROBATION_MS more idle than it is */
        return entry_idle_ms(e) + (entry_was_reused(e) ? 0 : PROBATION_MS);
    }
}

static void pool_clear(void) {
    for (int i = 0; i < pool_len; i++) mem_free(pool[i].key);
    pool_len = 0;
}

/* Insert the entry e of (db, slot) keeping the pool sorted by ascending
 * score; drops the worst candidate when full. A candidate already in the
 * pool is recognised by its entry's address (cheaper than comparing keys;
 * a stale match only skips one candidate, a missed one only costs a
 * failed eviction attempt). Caller holds the slot lock. */
static void pool_insert(unsigned long long score, int db, unsigned slot, const entry *e) {
    if (pool_len == POOL_SIZE && score <= pool[0].score) return;
    for (int i = 0; i < pool_len; i++)
        if (pool[i].seen == e && pool[i].db == db) return;
    size_t klen;
    const char *key = entry_key(e, &klen);
    if (pool_len == POOL_SIZE) {
        if (score <= pool[0].score) return;
        mem_free(pool[0].key);
        memmove(&pool[0], &pool[1], (POOL_SIZE - 1) * sizeof pool[0]);
        pool_len--;
    }
    int i = pool_len;
    while (i > 0 && pool[i - 1].score > score) {
        pool[i] = pool[i - 1];
        i--;
    }
    pool[i].score = score;
    pool[i].db = db;
    pool[i].slot = slot;
    pool[i].klen = klen;
    pool[i].key = mem_strndup(key, klen);
    pool[i].seen = e;
    pool_len++;
}

/* A slot of db with keys (or keys with a TTL), the first after a random
 * one; -1 if none. Cheap but not weighted by the slots' sizes: good enough
 * to gather pool candidates, not for the random policies. */
static int random_slot(ktable *tables, bool volatile_only) {
    unsigned start = (unsigned)(db_random() % CLUSTER_SLOTS);
    for (unsigned n = 0; n < CLUSTER_SLOTS; n++) {
        unsigned s = (start + n) % CLUSTER_SLOTS;
        if (volatile_only ? ktable_expires(&tables[s]) : ktable_count(&tables[s])) return (int)s;
    }
    return -1;
}

/* A random (database, slot) with candidates, without summing counters:
 * databases never written have no tables; random_slot() finds a non-empty
 * slot or reports none. False when no database has a candidate. */
static bool pick_db_slot(bool vol, int *db_out, ktable **tables_out, unsigned *slot_out) {
    int ndb = db_count();
    int start = (int)(db_random() % (uint64_t)ndb);
    for (int k = 0; k < ndb; k++) {
        int d = (start + k) % ndb;
        ktable *tables = db_tables(d);
        if (!tables) continue;
        int slot = random_slot(tables, vol);
        if (slot < 0) continue;
        *db_out = d;
        *tables_out = tables;
        *slot_out = (unsigned)slot;
        return true;
    }
    return false;
}

/* Sample 2 x maxmemory-samples candidates into the pool, up to
 * SAMPLES_PER_SLOT of them from neighbouring buckets of each random slot
 * visited (a slot visit costs cache misses on its table header, lock and
 * buckets; neighbours in a hash-ordered table are as random as any keys).
 * Returns false if nothing is evictable. */
static bool pool_populate(long long p) {
    bool vol = policy_is_volatile(p);
    long long samples = cfg_get(maxmemory_samples);
    if (samples < 1) samples = 1;
    long long want = samples * 2;
    long long found = 0;
    for (long long visit = 0; visit < want && found < want; visit++) {
        int db;
        ktable *tables;
        unsigned slot;
        if (!pick_db_slot(vol, &db, &tables, &slot)) break;
        entry *cand[SAMPLES_PER_SLOT];
        int max = want - found < SAMPLES_PER_SLOT ? (int)(want - found) : SAMPLES_PER_SLOT;
        slot_lock(slot);
        int n = ktable_sample(&tables[slot], db_random(), vol, cand, max);
        for (int i = 0; i < n; i++) __builtin_prefetch(cand[i]); /* overlap their misses */
        for (int i = 0; i < n; i++) pool_insert(score_of(cand[i], p), db, slot, cand[i]);
        slot_unlock(slot);
        found += n;
    }
    return found > 0 || pool_len > 0;
}

/* Delete the key (db, slot, key) if it still qualifies. */
static bool evict_key(int db, unsigned slot, const char *key, size_t klen, bool vol) {
    dbkey k;
    dbkey_init(&k, db, key, klen);
    slot_lock(slot);
    ktable *t = db_table(db, slot, false);
    long pos = t ? ktable_find(t, key, klen, k.hash) : -1;
    bool done = false;
    if (pos >= 0 && (!vol || entry_has_expire(ktable_at(t, pos)))) {
        entry *e = db_remove_by_server(&k, pos, true);
        slot_unlock(slot);
        lazyfree_entry(e); /* outside the lock; big values on the lazy-free thread */
        return true;
    }
    slot_unlock(slot);
    return done;
}

/* Evict one key by policy p; false when there is nothing to evict. */
static bool evict_one(long long p) {
    bool vol = policy_is_volatile(p);
    if (p == MAXMEMORY_ALLKEYS_RANDOM || p == MAXMEMORY_VOLATILE_RANDOM) {
        /* Every key (volatile: every key with a TTL) of every database is
         * equally likely: a slot weighted by its count, then a uniform key
         * of it (db.h). */
        for (int attempt = 0; attempt < 16; attempt++) {
            int db;
            unsigned slot;
            if (!db_random_slot(-1, vol, &db, &slot)) return false;
            slot_lock(slot);
            entry *e = ktable_random(db_table(db, slot, false), db_random(), vol);
            char *key = NULL;
            size_t klen = 0;
            if (e) {
                const char *k = entry_key(e, &klen);
                key = mem_strndup(k, klen);
            }
            slot_unlock(slot);
            if (!key) continue;
            bool ok = evict_key(db, slot, key, klen, vol);
            mem_free(key);
            if (ok) return true;
        }
        return false;
    }
    for (int round = 0; round < 16; round++) {
        if (!pool_populate(p)) return false;
        while (pool_len > 0) {
            pool_entry best = pool[--pool_len];
            bool ok = evict_key(best.db, best.slot, best.key, best.klen, vol);
            mem_free(best.key);
            if (ok) return true;
        }
    }
    return false;
}

void evict_thread_cleanup(void) { pool_clear(); }

/* Scores of another policy are meaningless: start a new pool. */
static void pool_follow_policy(long long p) {
    static _Thread_local long long last_policy = -1;
    if (p != last_policy) {
        pool_clear();
        last_policy = p;
    }
}

/* One time snapshot for a whole eviction run (idle times and LFU decay of
 * many candidates) unless the caller's command already has one. True if
 * this run set it (and must clear it with now_end). */
static bool now_begin(void) {
    if (db_now_is_set()) return false;
    db_set_now_ms(monotime_wall_ms(monotime_us()));
    return true;
}

static void now_end(bool own) {
    if (own) db_set_now_ms(0);
}

/* A replica with replica-ignore-maxmemory (the default) neither evicts
 * nor refuses writes for memory: its master's DELs do it (Redis's
 * performEvictions). */
static bool evict_applies(void) { return !(repl_is_replica() && cfg_get(replica_ignore_maxmemory)); }

long evict_until_under(long max_keys) {
    long long limit = cfg_get(maxmemory);
    if (limit <= 0) return 0;
    /* Inside EXEC (CONFIG SET maxmemory queued in a transaction) this thread
     * holds the transaction's slot locks; taking others now would break the
     * lock order. The cron and the next write evict instead. */
    if (slots_held_by_exec) return 0;
    /* Not while the startup load runs (Redis's isSafeToPerformEvictions):
     * the dataset is whole only once it is loaded. */
    if (persist_loading() || !evict_applies()) return 0;
    long long p = policy();
    pool_follow_policy(p);
    bool own_now = now_begin();
    propagate_own_locks_begin(); /* each victim's DEL is fed under its own lock */
    long n = 0;
    while ((long long)mem_used() > limit && (max_keys < 0 || n < max_keys)) {
        if (p == MAXMEMORY_NOEVICTION || !evict_one(p)) break;
        n++;
    }
    propagate_own_locks_end();
    now_end(own_now);
    propagate_wake();
    notify_flush();
    return n;
}

static _Atomic unsigned long command_evictions;
unsigned long evict_command_runs(void) { return atomic_load_explicit(&command_evictions, memory_order_relaxed); }

bool evict_make_room_or_reply(client *c) {
    long long limit = cfg_get(maxmemory);
    if (limit <= 0 || (long long)mem_used() <= limit || !evict_applies()) return true;
    atomic_fetch_add_explicit(&command_evictions, 1, memory_order_relaxed);
    long long p = policy();
    pool_follow_policy(p);
    bool own_now = now_begin();
    propagate_own_locks_begin(); /* each victim's DEL is fed under its own lock */
    long long start = ustime();
    long long tenacity = cfg_get(maxmemory_eviction_tenacity);
    long long budget_us = tenacity >= 100 ? -1 : 500 + tenacity * tenacity * 50; /* 500us .. ~0.5s */
    long evicted = 0;
    int failures = 0;
    bool got_under = false;
    while (p != MAXMEMORY_NOEVICTION) {
        if ((long long)mem_used() <= limit) { /* others' frees count too */
            got_under = true;
            break;
        }
        if (evict_one(p)) {
            evicted++;
        } else if (++failures > 4) {
            break; /* nothing to evict (retried: another worker may have taken our candidates) */
        }
        if (budget_us >= 0 && (evicted & 15) == 0 && ustime() - start > budget_us) break;
    }
    propagate_own_locks_end();
    now_end(own_now);
    /* No propagate_wake() here: it may flush (and close, past its limit)
     * a replica on this worker in the middle of dispatching a command of
     * that very client; the worker's end-of-iteration hook wakes them. */
    notify_flush();
    /* As Redis's performEvictions: a command is refused only when nothing
     * could be evicted; when the time budget ran out while evicting (other
     * workers writing at the same time), it runs and the next ones go on
     * evicting. */
    if (got_under || evicted > 0 || (long long)mem_used() <= limit) return true;
    /* Values being freed by the lazy-free thread will bring memory down:
     * not a failure (Redis's EVICT_RUNNING while lazy-free jobs are
     * pending). */
    if (lazyfree_pending() > 0) return true;
    add_reply_error(c, "OOM command not allowed when used memory > 'maxmemory'.");
    return false;
}
