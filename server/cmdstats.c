/*
 * cmdstats.c - per-thread, per-command counters (see cmdstats.h). Every
 * command and subcommand has an index (command->stat_id, set by
 * commands_init); each registered thread owns one array of counters.
 * Threads that did not register add atomically into a shared array.
 */
#include "cmdstats.h"

#include "mem.h"

#include <pthread.h>
#include <stdatomic.h>

#define CMDSTATS_MAX_THREADS 64

typedef _Atomic uint64_t counter;

static counter *arrays[CMDSTATS_MAX_THREADS + 1]; /* [0] shared */
static _Atomic int narrays = 1;
static counter *baseline;
static size_t nslots;
static _Thread_local counter *mine;

void cmdstats_init(void) {
    nslots = (size_t)command_stat_slots() * CMDSTAT_FIELDS;
    arrays[0] = mem_calloc(nslots, sizeof(counter));
    baseline = mem_calloc(nslots, sizeof(counter));
}

void cmdstats_thread_register(void) {
    int i = atomic_fetch_add_explicit(&narrays, 1, memory_order_relaxed);
    if (i > CMDSTATS_MAX_THREADS) return;
    counter *a = mem_calloc(nslots, sizeof(counter));
    /* published before the thread handles any command; readers load the
     * pointer with acquire */
    atomic_store_explicit((_Atomic(counter *) *)&arrays[i], a, memory_order_release);
    mine = a;
}

void cmdstats_add(const command *cmd, int field, uint64_t n) {
    size_t idx = (size_t)cmd->stat_id * CMDSTAT_FIELDS + (size_t)field;
    if (mine) {
        uint64_t v = atomic_load_explicit(&mine[idx], memory_order_relaxed);
        atomic_store_explicit(&mine[idx], v + n, memory_order_relaxed);
    } else if (arrays[0]) {
        atomic_fetch_add_explicit(&arrays[0][idx], n, memory_order_relaxed);
    }
}

static uint64_t raw(size_t idx) {
    uint64_t s = 0;
    int n = atomic_load_explicit(&narrays, memory_order_relaxed);
    if (n > CMDSTATS_MAX_THREADS + 1) n = CMDSTATS_MAX_THREADS + 1;
    for (int i = 0; i < n; i++) {
        counter *a = atomic_load_explicit((_Atomic(counter *) *)&arrays[i], memory_order_acquire);
        if (a) s += atomic_load_explicit(&a[idx], memory_order_relaxed);
    }
    return s;
}

uint64_t cmdstats_get(const command *cmd, int field) {
    if (!baseline) return 0;
    size_t idx = (size_t)cmd->stat_id * CMDSTAT_FIELDS + (size_t)field;
    uint64_t v = raw(idx), b = atomic_load_explicit(&baseline[idx], memory_order_relaxed);
    return v > b ? v - b : 0;
}

void cmdstats_reset(void) {
    if (!baseline) return;
    for (size_t i = 0; i < nslots; i++) atomic_store_explicit(&baseline[i], raw(i), memory_order_relaxed);
}

void cmdstats_free(void) {
    int n = atomic_load_explicit(&narrays, memory_order_relaxed);
    if (n > CMDSTATS_MAX_THREADS + 1) n = CMDSTATS_MAX_THREADS + 1;
    for (int i = 0; i < n; i++) {
        mem_free(arrays[i]);
        arrays[i] = NULL;
    }
    mem_free(baseline);
    baseline = NULL;
}
