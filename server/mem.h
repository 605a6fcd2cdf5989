/*
 * mem.h - the one allocation wrapper. Every allocation of the server (and of
 * libuv, through uv_replace_allocator, and proto/, through proto_alloc.h)
 * goes through here so that used_memory is true.
 *
 * Bytes are counted as the allocator's usable size, per thread: a thread that
 * called mem_thread_register() owns a private counter (plain relaxed
 * load+store, no lock prefix on the hot path); other threads share one
 * atomic counter. mem_used() sums all counters (a block freed by another
 * thread than the one that allocated it makes single counters go negative;
 * the sum stays exact).
 */
#ifndef MEM_H
#define MEM_H

#include <stddef.h>

void *mem_alloc(size_t size);              /* aborts on out-of-memory */
void *mem_try_alloc(size_t size);          /* NULL on out-of-memory (LCS's transient table) */
void *mem_calloc(size_t n, size_t size);
void *mem_realloc(void *ptr, size_t size);
void mem_free(void *ptr);
char *mem_strndup(const char *s, size_t len);
char *mem_strdup(const char *s);
size_t mem_usable(const void *ptr);

/* Give the calling thread its own counter (workers, lazy-free thread). */
void mem_thread_register(void);
/* Sum of all counters: bytes currently allocated through this wrapper. */
size_t mem_used(void);
/* Highest mem_used() seen by mem_note_peak(). */
size_t mem_peak(void);
void mem_note_peak(void);
/* Resident set size of the process, from /proc/self/statm. */
size_t mem_rss(void);
/* Route libuv and proto/ allocations through this wrapper. */
void mem_install_hooks(void);

#endif
