/*
 * slotlock.h - one lock per hash slot (16384), shared by every database.
 *
 * A command locks the slots of its keys in ascending order (deduplicated) and
 * unlocks them after running: ascending order is the lock order, so two
 * multi-key commands can never deadlock. No lock is held across a syscall or
 * an allocation of a large block, with one exception: MIGRATE (migrate.c)
 * holds its keys' slots while it waits for the target, bounded by its
 * timeout, as Redis blocks the whole server for it. The lock spins briefly (pause) and then
 * yields the CPU, because workers may outnumber cores and a preempted holder
 * must get to run.
 */
#ifndef SLOTLOCK_H
#define SLOTLOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

extern _Atomic uint32_t slot_locks[16384];

/* While a transaction runs (EXEC), the slots its thread holds for it, as a
 * bitmap (NULL otherwise): slot_lock/slot_unlock of one of them is a no-op,
 * so a command inside EXEC takes its locks just as it would alone. */
extern _Thread_local const uint64_t *slots_held_by_exec;
static inline int slot_held_by_exec(unsigned slot) {
    return slots_held_by_exec && ((slots_held_by_exec[slot >> 6] >> (slot & 63)) & 1);
}

void slot_lock_slow(_Atomic uint32_t *l);

static inline void slot_lock(unsigned slot) {
    if (__builtin_expect(slots_held_by_exec != NULL, 0) && slot_held_by_exec(slot)) return;
    _Atomic uint32_t *l = &slot_locks[slot];
    if (atomic_exchange_explicit(l, 1, memory_order_acquire) == 0) return;
    slot_lock_slow(l);
}

/* Take the lock only if it is free right now (for optional work). */
static inline int slot_trylock(unsigned slot) {
    _Atomic uint32_t *l = &slot_locks[slot];
    return atomic_load_explicit(l, memory_order_relaxed) == 0 &&
           atomic_exchange_explicit(l, 1, memory_order_acquire) == 0;
}
static inline void slot_unlock(unsigned slot) {
    if (__builtin_expect(slots_held_by_exec != NULL, 0) && slot_held_by_exec(slot)) return;
    atomic_store_explicit(&slot_locks[slot], 0, memory_order_release);
}

/* Sort and deduplicate slots[0..n), lock them in ascending order; returns the
 * deduplicated count (the array is rewritten). */
int slots_lock_many(unsigned *slots, int n);
void slots_unlock_many(const unsigned *slots, int n);

/* Take every slot lock in ascending order and mark them held on this thread
 * (slot_lock of any of them is then a no-op, as inside EXEC), for a command
 * that must change the whole keyspace at one point in time (FLUSHALL,
 * FLUSHDB). Returns false, taking nothing, when this thread already holds
 * them all (inside EXEC). Call slots_unlock_all() after a true return. */
bool slots_lock_all(void);
void slots_unlock_all(void);

/* For a command that learns while it runs that it must read keys beyond
 * its key spec (SORT's BY and GET patterns): let go of the slots it holds
 * (held[0..n), locked by dispatch) and take every slot, as slots_lock_all.
 * Returns false, changing nothing, inside EXEC (the command is then
 * CMD_ALL_SLOTS, so its transaction holds every lock). After a true
 * return, slots_narrow_to(held, n) lets go of every slot but held[0..n),
 * which dispatch then releases as usual. */
bool slots_widen_to_all(const unsigned *held, int n);
void slots_narrow_to(const unsigned *held, int n);

#endif
