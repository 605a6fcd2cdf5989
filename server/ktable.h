/*
 * ktable.h - the hash table of one (database, slot): open addressing with
 * linear probing over an array of tagged entry pointers.
 *
 * - The home bucket of a key is fastrange(hash >> 32, size), so the table
 *   size need not be a power of two (it grows by 1.25x at 92% load: ~10
 *   bytes per key on average; it doubles when an insert walks a run of over
 *   1024 buckets, which keys arriving in hash order would build; it shrinks
 *   only by emptying) and bucket order follows hash order.
 * - Each bucket holds the entry pointer with 16 bits of the hash in its top
 *   bits (x86-64 / aarch64 user pointers fit in 48 bits), so a probe only
 *   dereferences entries whose fingerprint matches.
 * - Deletion shifts followers back (no tombstones).
 * - Scanning is by hash range: a cursor is a 32-bit hash position, stable
 *   across resizes and deletions, so SCAN returns every key present for the
 *   whole scan exactly once.
 * - A bucket holds at most one entry, so a random bucket that holds one is
 *   a uniform pick (ktable_random); every table's count stays below one
 *   global power of two (ktable_count_bound), which lets the keyspace pick
 *   a slot in proportion to its count.
 * All functions require the caller to hold the slot's lock.
 */
#ifndef KTABLE_H
#define KTABLE_H

#include "entry.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t *buckets;
    uint32_t size;                 /* number of buckets (0 when empty) */
    _Atomic uint32_t count;        /* entries; read without the lock by DBSIZE */
    _Atomic uint32_t expires;      /* entries with an expire time */
} ktable;

/* 64-bit keyed hash of a key (seed chosen at startup). */
uint64_t key_hash(const char *key, size_t len);
void key_hash_seed(uint64_t seed);

void ktable_init(ktable *t);
/* Free every entry (entry_free) and the bucket array. */
void ktable_clear(ktable *t);
/* Hand the bucket array and count to a new table (for lazy/async flush). */
void ktable_move(ktable *dst, ktable *src);

/* Find a key; returns its bucket index or -1. */
long ktable_find(const ktable *t, const char *key, size_t len, uint64_t hash);
static inline entry *ktable_at(const ktable *t, long pos) {
    return (entry *)(uintptr_t)(t->buckets[pos] & 0x0000ffffffffffffULL);
}
/* Replace the entry at pos with another entry for the same key. */
void ktable_replace_at(ktable *t, long pos, entry *e);
/* Insert an entry whose key is known to be absent. */
void ktable_insert(ktable *t, entry *e, uint64_t hash);
/* Remove the entry at pos (does not free it); may shift followers. */
void ktable_remove_at(ktable *t, long pos);

/* Visit entries whose 32-bit hash position is in [from, to) (to may be
 * 1<<32). Returns the number visited. The callback must not modify the
 * table. */
typedef void ktable_visit_fn(entry *e, void *arg);
size_t ktable_scan_range(const ktable *t, uint64_t from, uint64_t to, ktable_visit_fn *fn, void *arg);
/* Smallest hash position whose home bucket is >= bucket b (for SCAN steps). */
uint64_t ktable_hashpos_of_bucket(const ktable *t, uint64_t b);
/* A random entry (only entries with an expire time when `with_expire`),
 * every one with the same probability; NULL if there is none. `seed` is a
 * random number, expanded into as many draws as needed. A bucket holds at
 * most one entry, so a random bucket that holds a candidate is a uniform
 * pick: up to 16 random buckets (expected size / candidates), then the r-th
 * candidate in bucket order, which is exact too and costs O(size) bucket
 * reads (with_expire: plus a read of every entry passed). */
entry *ktable_random(const ktable *t, uint64_t seed, bool with_expire);
/* Up to `max` entries from consecutive buckets, starting at bucket
 * rnd % size and wrapping (only entries with an expire time when
 * `with_expire`). Consecutive buckets share cache lines, so this is the
 * cheap way to draw several eviction candidates from one table (as Redis's
 * dictGetSomeKeys) for the LRU/LFU/TTL pool. Not uniform: an entry after a
 * run of empty buckets starts more samples; uniform picks use
 * ktable_random. Returns how many were stored in out. */
int ktable_sample(const ktable *t, uint64_t rnd, bool with_expire, entry **out, int max);
/* Upper bound of every table's count (expires: of every table's expires), a
 * power of two: the insert that takes a table to a new power of two raises
 * it, so it holds without a lock and without a shared write per insert
 * (db.c's weighted slot pick rejects against it). Only
 * ktable_count_bound_reset lowers it. */
uint64_t ktable_count_bound(bool expires);
/* Raise the bound above n if it is not already. */
void ktable_count_bound_note(bool expires, uint32_t n);
/* Set the bound just above n: the caller then rechecks every table under
 * its lock (a table that crossed a power of two while the bound was higher
 * did not raise it). */
void ktable_count_bound_reset(bool expires, uint32_t n);
/* Cache hints for a lookup to come (prefetch.c): the first pulls in the
 * key's home bucket, the second the entry that bucket points to if its
 * fingerprint matches. Both read the table, so the slot lock is needed. */
void ktable_prefetch_bucket(const ktable *t, uint64_t hash);
void ktable_prefetch_entry(const ktable *t, uint64_t hash);
/* Bytes used by the bucket array. */
size_t ktable_mem(const ktable *t);

static inline uint32_t ktable_count(const ktable *t) {
    return atomic_load_explicit(&t->count, memory_order_relaxed);
}
static inline uint32_t ktable_expires(const ktable *t) {
    return atomic_load_explicit(&t->expires, memory_order_relaxed);
}
void ktable_add_expires(ktable *t, int delta);

#endif
