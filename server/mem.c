/*
 * mem.c - counting allocation wrapper (see mem.h).
 *
 * Design: counters are per thread and padded to a cache line so workers never
 * share a hot counter; a thread writes only its own counter, readers (INFO,
 * the maxmemory check) sum them with relaxed loads.
 */
#include "mem.h"
#include "proto_alloc.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#define MEM_MAX_THREADS 64

typedef struct {
    _Alignas(64) _Atomic int64_t used;
} mem_counter;

static mem_counter counters[MEM_MAX_THREADS]; /* [0] shared by unregistered threads */
static _Atomic int registered_threads = 1;
static _Atomic size_t peak_bytes;
static _Thread_local mem_counter *my_counter; /* NULL: shared counter */

void mem_thread_register(void) {
    int idx = atomic_fetch_add_explicit(&registered_threads, 1, memory_order_relaxed);
    if (idx < MEM_MAX_THREADS) my_counter = &counters[idx];
}

static inline void count_bytes(int64_t delta) {
    if (my_counter) {
        int64_t v = atomic_load_explicit(&my_counter->used, memory_order_relaxed);
        atomic_store_explicit(&my_counter->used, v + delta, memory_order_relaxed);
    } else {
        atomic_fetch_add_explicit(&counters[0].used, delta, memory_order_relaxed);
    }
}

static void oom(size_t size) {
    fprintf(stderr, "slotcache: out of memory allocating %zu bytes\n", size);
    abort();
}

void *mem_alloc(size_t size) {
    void *p = malloc(size ? size : 1);
    if (!p) oom(size);
    count_bytes((int64_t)malloc_usable_size(p));
    return p;
}

void *mem_try_alloc(size_t size) {
    void *p = malloc(size ? size : 1);
    if (p) count_bytes((int64_t)malloc_usable_size(p));
    return p;
}

void *mem_calloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) oom(n * size);
    count_bytes((int64_t)malloc_usable_size(p));
    return p;
}

void *mem_realloc(void *ptr, size_t size) {
    if (!ptr) return mem_alloc(size);
    if (size == 0) {
        mem_free(ptr);
        return NULL;
    }
    size_t old = malloc_usable_size(ptr);
    void *p = realloc(ptr, size);
    if (!p) oom(size);
    count_bytes((int64_t)malloc_usable_size(p) - (int64_t)old);
    return p;
}

void mem_free(void *ptr) {
    if (!ptr) return;
    count_bytes(-(int64_t)malloc_usable_size(ptr));
    free(ptr);
}

char *mem_strndup(const char *s, size_t len) {
    char *p = mem_alloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *mem_strdup(const char *s) { return mem_strndup(s, strlen(s)); }

size_t mem_usable(const void *ptr) { return ptr ? malloc_usable_size((void *)ptr) : 0; }

size_t mem_used(void) {
    int64_t sum = 0;
    int n = atomic_load_explicit(&registered_threads, memory_order_relaxed);
    if (n > MEM_MAX_THREADS) n = MEM_MAX_THREADS;
    for (int i = 0; i < n; i++) sum += atomic_load_explicit(&counters[i].used, memory_order_relaxed);
    return sum > 0 ? (size_t)sum : 0;
}

void mem_note_peak(void) {
    size_t used = mem_used();
    size_t peak = atomic_load_explicit(&peak_bytes, memory_order_relaxed);
    while (used > peak &&
           !atomic_compare_exchange_weak_explicit(&peak_bytes, &peak, used, memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
}

size_t mem_peak(void) {
    mem_note_peak();
    return atomic_load_explicit(&peak_bytes, memory_order_relaxed);
}

size_t mem_rss(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0;
    unsigned long size = 0, resident = 0;
    int ok = fscanf(f, "%lu %lu", &size, &resident);
    fclose(f);
    if (ok != 2) return 0;
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

static void *uv_calloc_hook(size_t n, size_t size) { return mem_calloc(n, size); }

void mem_install_hooks(void) {
    uv_replace_allocator(mem_alloc, mem_realloc, uv_calloc_hook, mem_free);
    proto_set_allocator(mem_realloc, mem_free);
}
