/*
 * writepause.c - writes paused for a while (Redis's pauseClients with
 * CLIENT_PAUSE_WRITE, as a master does during a coordinated CLUSTER
 * FAILOVER), and the point after which no write that began before the
 * pause can still be running.
 *
 * Dispatch and EXEC test writepause_active() under the command's slot
 * locks, where they test persist_writes_paused: a write that passed the
 * test before the pause is still running on some worker, so the pauser
 * learns the replication offset is final only once every worker has gone
 * past the command it was running (writepause_drain: a job posted to each
 * worker's inbox, which a worker runs between commands).
 *
 * Any thread may pause, unpause and drain; the counts are atomics. A
 * command that may write or replicate, read from a client's socket while
 * writes are paused, waits, as Redis's postponed clients do: dispatch
 * marks the client postponed and leaves the command unconsumed in its
 * input, which stops there; a blocked client woken meanwhile is marked too
 * (blocking.c) instead of re-running its command. The end of the last
 * pause posts a job to every worker that resumes its postponed clients
 * (their commands then run, or are redirected or refused as the server now
 * is: a master that handed over is a replica). No wakeup is lost: a client
 * is postponed on its worker after seeing a pause, and the end that
 * follows posts its job to that worker afterwards. A write that cannot
 * wait (not read from a socket) is refused with -TRYAGAIN. While paused,
 * nothing is evicted and an expired key read is hidden, not deleted
 * (db.c), so the replication offset stays final.
 *
 * A pause of some slots' writes (an atomic slot migration's hand-over,
 * cluster/slot_migration.c) sets their bits in `paused_slots` and counts
 * in `slot_pauses`: dispatch postpones a write only when it has a key in
 * a paused slot or no key at all (writepause_holds); everything else above
 * (eviction, expiry, blocked clients' re-runs) stops as for a whole pause,
 * which writepause_active reports for both. The end of any pause resumes
 * the postponed clients; those another pause still holds wait again.
 */
#include "writepause.h"

#include "blocking.h"
#include "client.h"
#include "mem.h"
#include "worker.h"

#include <stdatomic.h>

static _Atomic int pauses;      /* of every write */
static _Atomic int slot_pauses; /* of some slots' writes */
static _Atomic uint64_t paused_slots[16384 / 64];

void writepause_begin(void) { atomic_fetch_add_explicit(&pauses, 1, memory_order_seq_cst); }

/* On each worker after a pause ended: run its postponed clients' input
 * again; one that another pause still holds is postponed again (a slot
 * pause's writers do not wait for an unrelated one's end). */
static void resume_postponed(worker *w, void *arg) {
    (void)arg;
    if (atomic_load(&pauses) > 0) return; /* every write still waits: its end comes here again */
    client *c = w->clients;
    while (c) {
        client *next = c->wnext;
        if (c->postponed && c->bstate && writepause_active()) {
            /* a woken blocked client's re-run waits for the last pause
             * (its re-run cannot be postponed again: it would be refused) */
        } else if (c->postponed) {
            c->postponed = false;
            if (c->bstate)
                blocking_resume(c); /* woken while paused: its re-run waited */
            else
                client_resume(c);
        }
        c = next;
    }
}

/* After a pause ended: every worker resumes its postponed clients. */
static void resume_all(void) {
    if (workers)
        for (int i = 0; i < nworkers; i++) worker_post(&workers[i], resume_postponed, NULL);
}

void writepause_end(void) {
    int was = atomic_fetch_sub_explicit(&pauses, 1, memory_order_seq_cst);
    if (was <= 0) {
        atomic_fetch_add_explicit(&pauses, 1, memory_order_seq_cst); /* unbalanced: stay at 0 */
        return;
    }
    if (was == 1) resume_all();
}


void writepause_slots_begin(const uint64_t *bitmap) {
    for (int i = 0; i < 16384 / 64; i++)
        if (bitmap[i]) atomic_fetch_or_explicit(&paused_slots[i], bitmap[i], memory_order_seq_cst);
    atomic_fetch_add_explicit(&slot_pauses, 1, memory_order_seq_cst);
}

void writepause_slots_end(const uint64_t *bitmap) {
    for (int i = 0; i < 16384 / 64; i++)
        if (bitmap[i]) atomic_fetch_and_explicit(&paused_slots[i], ~bitmap[i], memory_order_seq_cst);
    atomic_fetch_sub_explicit(&slot_pauses, 1, memory_order_seq_cst);
    resume_all();
}

/* (seq_cst loads, plain loads on x86: a pause begun before a postponed
 * client's check is seen by the resumption its end posts.) */
bool writepause_holds(const unsigned *slots, int n) {
    if (atomic_load(&pauses) > 0) return true;
    if (atomic_load(&slot_pauses) == 0) return false;
    if (n == 0) return true;
    for (int i = 0; i < n; i++)
        if (atomic_load(&paused_slots[slots[i] / 64]) >> (slots[i] % 64) & 1) return true;
    return false;
}

void writepause_postpone(client *c) { c->postponed = true; }

bool writepause_active(void) { return atomic_load(&pauses) > 0 || atomic_load(&slot_pauses) > 0; }

typedef struct drain {
    _Atomic int left;
    void (*done)(void *);
    void *arg;
} drain;

static void drained_on_worker(worker *w, void *arg) {
    (void)w;
    drain *d = arg;
    if (atomic_fetch_sub_explicit(&d->left, 1, memory_order_acq_rel) != 1) return;
    d->done(d->arg);
    mem_free(d);
}

void writepause_drain(void (*done)(void *), void *arg) {
    int nw = workers ? nworkers : 0;
    if (nw == 0) {
        done(arg);
        return;
    }
    drain *d = mem_alloc(sizeof *d);
    atomic_init(&d->left, nw);
    d->done = done;
    d->arg = arg;
    for (int i = 0; i < nw; i++) worker_post(&workers[i], drained_on_worker, d);
}
