/*
 * stats.h - server statistics, counted per thread and summed on read
 * (memcached's habit): a registered thread writes only its own block with a
 * relaxed load+store; INFO sums all blocks with relaxed loads. Threads that
 * did not register share one block updated with atomic adds.
 */
#ifndef STATS_H
#define STATS_H

#include <stdatomic.h>
#include <stdint.h>

enum stat_id {
    STAT_COMMANDS = 0,
    STAT_CONNECTIONS,
    STAT_REJECTED_CONNECTIONS,
    STAT_NET_INPUT,
    STAT_NET_OUTPUT,
    STAT_KEYSPACE_HITS,
    STAT_KEYSPACE_MISSES,
    STAT_EXPIRED_KEYS,
    STAT_EXPIRED_STALE_SAMPLED, /* keys sampled by the active cycle */
    STAT_EXPIRED_STALE_FOUND,   /* ...of which expired */
    STAT_EXPIRED_TIME_CAP,
    STAT_EVICTED_KEYS,
    STAT_EVICTED_CLIENTS,
    STAT_ERROR_REPLIES,
    STAT_REJECTED_CALLS,
    STAT_FAILED_CALLS,
    STAT_CLIENT_QBUF_LIMIT_DISCONNECTIONS,
    STAT_CLIENT_OBUF_LIMIT_DISCONNECTIONS,
    STAT_IO_READS,
    STAT_IO_WRITES,
    STAT_DIRTY, /* changes to the keyspace (Redis's server.dirty), for save points */
    STAT_COUNT
};

typedef struct {
    _Alignas(64) _Atomic uint64_t v[STAT_COUNT];
} stats_block;

extern _Thread_local stats_block *my_stats;
/* Error replies sent by this thread (dispatch uses the difference around a
 * command to count failed_calls). */
extern _Thread_local uint64_t tl_error_replies;
extern stats_block stats_shared;

static inline void stat_add(enum stat_id id, uint64_t n) {
    if (my_stats) {
        uint64_t cur = atomic_load_explicit(&my_stats->v[id], memory_order_relaxed);
        atomic_store_explicit(&my_stats->v[id], cur + n, memory_order_relaxed);
    } else {
        atomic_fetch_add_explicit(&stats_shared.v[id], n, memory_order_relaxed);
    }
}
#define stat_inc(id) stat_add((id), 1)

/* Give the calling thread its own block. */
void stats_thread_register(void);
uint64_t stats_get(enum stat_id id);
/* CONFIG RESETSTAT: zero every counter (also errorstats and commandstats). Each block is reset by subtracting
 * a snapshot, so owners keep writing without locks (a write racing the
 * reset may survive it, as in Redis where resets are not atomic either). */
void stats_reset(void);

/* Error reply counts per error code ("ERR", "WRONGTYPE"...) for INFO
 * errorstats; guarded by a mutex (errors are the slow path). */
void errorstats_count(const char *msg);
/* Calls fn for each code with its count. */
void errorstats_each(void (*fn)(const char *code, uint64_t count, void *arg), void *arg);
void errorstats_reset(void);

/* Instantaneous ops/sec and network kbps, sampled by the cron. */
void stats_sample_track(long long now_ms);
double stats_instantaneous(enum stat_id id); /* per second */

#endif
