/*
 * snapshot.c - point-in-time snapshots without fork (see snapshot.h).
 *
 * State: `done[slot]` says whether a slot of the running snapshot has been
 * serialized; it is reset while every slot lock is held (start) and set
 * under the slot's lock, after the slot's bytes are queued (pre-image) or
 * made (walker), with release order, so the walker, reading it with
 * acquire, finds a pre-image already queued. Pre-images wait in a FIFO under
 * a mutex (one entry per slot at most per snapshot, so the mutex is taken at
 * most 16384 times). Starting and ending both take every slot lock, so no
 * worker is ever between reading `snapshot_active` and queueing when the
 * state changes under it.
 */
#include "snapshot.h"

#include "mem.h"
#include "slotlock.h"

#include <pthread.h>
#include <string.h>

#define NSLOTS 16384

typedef struct chunk {
    struct chunk *next;
    serial_buf buf;
} chunk;

_Atomic bool snapshot_active;
static _Atomic bool running;   /* claimed by snapshot_start, released by snapshot_run's end */
static _Atomic bool aborting;  /* snapshot_abort: the walker stops, pre-images are skipped */
static _Atomic uint8_t done[NSLOTS];
static snapshot_sink *cur;     /* written while every slot lock is held (start), read under one */

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static chunk *q_head, *q_tail; /* q_lock */
static size_t q_bytes;         /* q_lock */
static snapshot_stats st;      /* preimages, queued_bytes_peak: q_lock; walked: the walker */
static snapshot_stats last_st; /* q_lock */

static void lock_all(void) {
    for (unsigned s = 0; s < NSLOTS; s++) slot_lock(s);
}
static void unlock_all(void) {
    for (unsigned s = 0; s < NSLOTS; s++) slot_unlock(s);
}

bool snapshot_start(snapshot_sink *sink) {
    bool expected = false;
    if (!atomic_compare_exchange_strong_explicit(&running, &expected, true, memory_order_acq_rel,
                                                 memory_order_relaxed))
        return false;
    lock_all();
    cur = sink;
    atomic_store_explicit(&aborting, false, memory_order_relaxed);
    memset(&st, 0, sizeof st);
    for (unsigned s = 0; s < NSLOTS; s++) atomic_store_explicit(&done[s], 0, memory_order_relaxed);
    atomic_store_explicit(&snapshot_active, true, memory_order_relaxed);
    if (sink->at_start) sink->at_start(sink);
    unlock_all();
    return true;
}

void snapshot_preimage(unsigned slot) {
    if (atomic_load_explicit(&done[slot], memory_order_relaxed)) return;
    if (atomic_load_explicit(&aborting, memory_order_relaxed)) { /* nobody will write it */
        atomic_store_explicit(&done[slot], 1, memory_order_release);
        return;
    }
    chunk *c = mem_alloc(sizeof *c);
    c->next = NULL;
    serial_init(&c->buf);
    cur->serialize_slot(cur, slot, &c->buf);
    pthread_mutex_lock(&q_lock);
    if (q_tail)
        q_tail->next = c;
    else
        q_head = c;
    q_tail = c;
    q_bytes += c->buf.len;
    if (q_bytes > st.queued_bytes_peak) st.queued_bytes_peak = q_bytes;
    st.preimages++;
    pthread_mutex_unlock(&q_lock);
    atomic_store_explicit(&done[slot], 1, memory_order_release);
}

/* Write (or, after a failed write, drop) the queued pre-images. */
static bool drain(bool ok) {
    for (;;) {
        pthread_mutex_lock(&q_lock);
        chunk *c = q_head;
        if (c) {
            q_head = c->next;
            if (!q_head) q_tail = NULL;
            q_bytes -= c->buf.len;
        }
        pthread_mutex_unlock(&q_lock);
        if (!c) return ok;
        if (ok && c->buf.len) ok = cur->write(cur, c->buf.buf, c->buf.len);
        serial_free(&c->buf);
        mem_free(c);
    }
}

void snapshot_abort(void) { atomic_store_explicit(&aborting, true, memory_order_relaxed); }

bool snapshot_run(void) {
    bool ok = true;
    serial_buf b;
    serial_init(&b);
    for (unsigned s = 0; s < NSLOTS && ok; s++) {
        if (atomic_load_explicit(&aborting, memory_order_relaxed)) ok = false;
        ok = drain(ok);
        if (!ok || atomic_load_explicit(&done[s], memory_order_acquire)) continue;
        b.len = 0;
        slot_lock(s);
        bool mine = !atomic_load_explicit(&done[s], memory_order_relaxed);
        if (mine) {
            cur->serialize_slot(cur, s, &b);
            atomic_store_explicit(&done[s], 1, memory_order_release);
        }
        slot_unlock(s);
        if (mine) {
            st.walked++;
            if (b.len) ok = cur->write(cur, b.buf, b.len);
        }
    }
    serial_free(&b);
    /* End: no worker is inside snapshot_preimage once every slot lock has
     * been taken with the flag cleared; then drop or write what is left. */
    lock_all();
    atomic_store_explicit(&snapshot_active, false, memory_order_relaxed);
    unlock_all();
    ok = drain(ok);
    pthread_mutex_lock(&q_lock);
    last_st = st;
    pthread_mutex_unlock(&q_lock);
    cur = NULL;
    atomic_store_explicit(&running, false, memory_order_release);
    return ok;
}

snapshot_stats snapshot_last_stats(void) {
    pthread_mutex_lock(&q_lock);
    snapshot_stats s = last_st;
    pthread_mutex_unlock(&q_lock);
    return s;
}
