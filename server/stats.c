/*
 * stats.c - per-thread statistics blocks and error counters (see stats.h).
 * Reset uses per-block baselines so that a counter is only ever written by
 * its owning thread.
 */
#include "stats.h"

#include "cmdstats.h"

#include <pthread.h>
#include <string.h>

#define STATS_MAX_THREADS 64
#define ERRSTAT_MAX 128

_Thread_local stats_block *my_stats;
_Thread_local uint64_t tl_error_replies;
stats_block stats_shared;
static stats_block blocks[STATS_MAX_THREADS];
static _Atomic int nblocks;
/* Values at the last reset, subtracted on read. */
static _Atomic uint64_t baseline[STAT_COUNT];

void stats_thread_register(void) {
    int i = atomic_fetch_add_explicit(&nblocks, 1, memory_order_relaxed);
    if (i < STATS_MAX_THREADS) my_stats = &blocks[i];
}

static uint64_t raw_sum(enum stat_id id) {
    uint64_t s = atomic_load_explicit(&stats_shared.v[id], memory_order_relaxed);
    int n = atomic_load_explicit(&nblocks, memory_order_relaxed);
    if (n > STATS_MAX_THREADS) n = STATS_MAX_THREADS;
    for (int i = 0; i < n; i++) s += atomic_load_explicit(&blocks[i].v[id], memory_order_relaxed);
    return s;
}

uint64_t stats_get(enum stat_id id) {
    uint64_t s = raw_sum(id), b = atomic_load_explicit(&baseline[id], memory_order_relaxed);
    return s >= b ? s - b : 0;
}

void stats_reset(void) {
    for (int id = 0; id < STAT_COUNT; id++)
        atomic_store_explicit(&baseline[id], raw_sum((enum stat_id)id), memory_order_relaxed);
    errorstats_reset();
    cmdstats_reset();
}

static pthread_mutex_t err_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char code[48];
    uint64_t count;
} errstats[ERRSTAT_MAX];
static int nerrstats;

void errorstats_count(const char *msg) {
    size_t n = strcspn(msg, " ");
    if (n >= sizeof errstats[0].code) n = sizeof errstats[0].code - 1;
    pthread_mutex_lock(&err_lock);
    int i;
    for (i = 0; i < nerrstats; i++)
        if (strlen(errstats[i].code) == n && memcmp(errstats[i].code, msg, n) == 0) break;
    if (i == nerrstats && nerrstats < ERRSTAT_MAX) {
        memcpy(errstats[i].code, msg, n);
        errstats[i].code[n] = '\0';
        errstats[i].count = 0;
        nerrstats++;
    }
    if (i < nerrstats) errstats[i].count++;
    pthread_mutex_unlock(&err_lock);
}

void errorstats_each(void (*fn)(const char *code, uint64_t count, void *arg), void *arg) {
    pthread_mutex_lock(&err_lock);
    for (int i = 0; i < nerrstats; i++) fn(errstats[i].code, errstats[i].count, arg);
    pthread_mutex_unlock(&err_lock);
}

void errorstats_reset(void) {
    pthread_mutex_lock(&err_lock);
    nerrstats = 0;
    pthread_mutex_unlock(&err_lock);
}

/* Instantaneous metrics: a ring of 16 samples taken every 100 ms, as Redis. */
#define INST_SAMPLES 16
enum { INST_OPS = 0, INST_NET_IN, INST_NET_OUT, INST_COUNT };
static pthread_mutex_t inst_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    long long last_ms;
    uint64_t last_value;
    double samples[INST_SAMPLES];
    int idx;
} inst[INST_COUNT];

static int inst_index(enum stat_id id) {
    switch (id) {
    case STAT_COMMANDS: return INST_OPS;
    case STAT_NET_INPUT: return INST_NET_IN;
    case STAT_NET_OUTPUT: return INST_NET_OUT;
    default: return -1;
    }
}

void stats_sample_track(long long now_ms) {
    static const enum stat_id ids[INST_COUNT] = {STAT_COMMANDS, STAT_NET_INPUT, STAT_NET_OUTPUT};
    pthread_mutex_lock(&inst_lock);
    for (int i = 0; i < INST_COUNT; i++) {
        if (now_ms - inst[i].last_ms < 100) continue;
        uint64_t v = raw_sum(ids[i]);
        if (inst[i].last_ms) {
            double dt = (double)(now_ms - inst[i].last_ms);
            inst[i].samples[inst[i].idx] = (double)(v - inst[i].last_value) * 1000.0 / dt;
            inst[i].idx = (inst[i].idx + 1) % INST_SAMPLES;
        }
        inst[i].last_ms = now_ms;
        inst[i].last_value = v;
    }
    pthread_mutex_unlock(&inst_lock);
}

double stats_instantaneous(enum stat_id id) {
    int i = inst_index(id);
    if (i < 0) return 0;
    double sum = 0;
    pthread_mutex_lock(&inst_lock);
    for (int j = 0; j < INST_SAMPLES; j++) sum += inst[i].samples[j];
    pthread_mutex_unlock(&inst_lock);
    return sum / INST_SAMPLES;
}
