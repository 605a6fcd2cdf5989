/*
 * slotlock.c - the slot locks (see slotlock.h): test-and-test-and-set with a
 * short pause spin, then sched_yield so a preempted holder can finish.
 */
#include "slotlock.h"

#include <ck_pr.h>
#include <sched.h>
#include <stdlib.h>

_Atomic uint32_t slot_locks[16384];
_Thread_local const uint64_t *slots_held_by_exec;

#define SPIN_BEFORE_YIELD 128

void slot_lock_slow(_Atomic uint32_t *l) {
    unsigned spins = 0;
    for (;;) {
        while (atomic_load_explicit(l, memory_order_relaxed)) {
            if (++spins < SPIN_BEFORE_YIELD)
                ck_pr_stall();
            else
                sched_yield();
        }
        if (atomic_exchange_explicit(l, 1, memory_order_acquire) == 0) return;
    }
}

static int cmp_slot(const void *a, const void *b) {
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return x < y ? -1 : x > y;
}

int slots_lock_many(unsigned *slots, int n) {
    /* insertion sort for the usual handful of keys, qsort beyond */
    if (n > 16) qsort(slots, (size_t)n, sizeof *slots, cmp_slot);
    for (int i = 1; i < n && n <= 16; i++) {
        unsigned v = slots[i];
        int j = i - 1;
        while (j >= 0 && slots[j] > v) {
            slots[j + 1] = slots[j];
            j--;
        }
        slots[j + 1] = v;
    }
    int m = 0;
    for (int i = 0; i < n; i++)
        if (m == 0 || slots[m - 1] != slots[i]) slots[m++] = slots[i];
    for (int i = 0; i < m; i++) slot_lock(slots[i]);
    return m;
}

void slots_unlock_many(const unsigned *slots, int n) {
    for (int i = n - 1; i >= 0; i--) slot_unlock(slots[i]);
}

static const uint64_t all_slots_bitmap[16384 / 64] = {[0 ... 16384 / 64 - 1] = ~0ULL};

bool slots_lock_all(void) {
    if (slots_held_by_exec) return false; /* EXEC with a keyspace-wide command holds them all */
    for (unsigned s = 0; s < 16384; s++) slot_lock(s);
    slots_held_by_exec = all_slots_bitmap;
    return true;
}

void slots_unlock_all(void) {
    slots_held_by_exec = NULL;
    for (unsigned s = 16384; s-- > 0;) slot_unlock(s);
}

bool slots_widen_to_all(const unsigned *held, int n) {
    if (slots_held_by_exec) return false;
    for (int i = 0; i < n; i++)
        if (i == 0 || held[i] != held[0]) slot_unlock(held[i]);
    return slots_lock_all();
}

void slots_narrow_to(const unsigned *held, int n) {
    slots_held_by_exec = NULL;
    for (unsigned s = 16384; s-- > 0;) {
        bool keep = false;
        for (int i = 0; i < n; i++) keep |= held[i] == s;
        if (!keep) slot_unlock(s);
    }
}
