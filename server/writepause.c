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
 * paused write is refused with -TRYAGAIN (Redis makes it wait instead):
 * cluster clients retry TRYAGAIN, and nothing is acknowledged that the
 * new master will not have.
 */
#include "writepause.h"

#include "mem.h"
#include "worker.h"

#include <stdatomic.h>

static _Atomic int pauses;

void writepause_begin(void) { atomic_fetch_add_explicit(&pauses, 1, memory_order_seq_cst); }

void writepause_end(void) {
    int was = atomic_fetch_sub_explicit(&pauses, 1, memory_order_seq_cst);
    if (was <= 0) atomic_fetch_add_explicit(&pauses, 1, memory_order_seq_cst); /* unbalanced: stay at 0 */
}

bool writepause_active(void) { return atomic_load_explicit(&pauses, memory_order_relaxed) > 0; }

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
