/*
 * repl_master.c - the master side of replication, wire-compatible with
 * Redis 7.0: SYNC, PSYNC, REPLCONF, WAIT, the full sync, the streaming of
 * the replication stream to each replica, PINGs, timeouts, and the figures
 * INFO and ROLE show.
 *
 * Who owns what:
 * - A replica is an ordinary client of the worker that accepted it. Its
 *   `repl_peer` (c->repl) is touched by that worker only. That worker alone
 *   writes to the socket: client_flush calls our `out_fill` hook, which tops
 *   the client's output up from the full sync's queue (at most FILL_TARGET
 *   bytes ahead of the socket), and once that output is written, writes
 *   the stream to the socket straight from the stream buffer's blocks
 *   (repl_cursor_peek), one write in flight at a time, so a slow replica
 *   costs stream blocks, not copies.
 * - A worker that fed the stream wakes the replicas' workers once per loop
 *   iteration (propagate_wake from worker.c's hook, as Redis's beforeSleep
 *   writes to replicas): its own replicas are flushed at once, the other
 *   workers get one inbox post each (deduplicated by a per-worker flag);
 *   they then flush their replicas and re-check their WAITing clients.
 * - The registry (`reg_lock`, a leaf mutex) holds one record per replica
 *   for INFO, ROLE, WAIT, min-replicas and the cron: address, state, ACK
 *   offset and time (atomics). Records are added and removed by the owner.
 * - Full sync runs on the sync thread (its own long-lived thread, never a
 *   worker). It waits repl-diskless-sync-delay for more replicas to share
 *   the snapshot, takes persistence's one-save claim (so a BGSAVE and a sync
 *   never overlap; it waits for a running BGSAVE), starts a no-fork snapshot
 *   whose at_start hook (all slot locks held) activates every attached
 *   replica's cursor at master_repl_offset + 1 and reads that offset, then
 *   streams the RDB into each replica's transfer queue (`xfer`, under
 *   `sync_lock`). The queue is bounded (XFER_MAX): the sync thread waits on
 *   `sync_cond` until the worker has taken chunks. The worker moves chunks
 *   into the client's output, so the socket has one writer. Capa eof
 *   replicas get `$EOF:<40 chars>` + RDB + the same 40 chars; the others get
 *   `$<len>` + RDB, for which the RDB is buffered whole in memory first.
 *   After the RDB, the stream starts at the replica's first REPLCONF ACK
 *   (Redis 7.0 does the same for diskless syncs: a replica reading an EOF
 *   payload must not get stream bytes in the same read).
 *
 * Lock order: sync_lock, then buf_lock (repl_buffer.c); reg_lock is a leaf.
 * No slot lock is ever taken here, except by the snapshot.
 */
#include "repl.h"
#include "repl_failover.h"
#include "repl_replica.h"

#include "clients.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "mem.h"
#include "multi.h"
#include "numparse.h"
#include "persist.h"
#include "process.h"
#include "rdb_file.h"
#include "serial.h"
#include "stats.h"
#include "worker.h"
#include "writepause.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define FILL_TARGET (512 * 1024)    /* RDB output kept ahead of a replica's socket */
#define STREAM_WRITE_MAX (512 * 1024) /* stream bytes in one write to a replica */
#define STREAM_SPANS 40             /* spans of one write (the buffer's blocks are 16 KB) */
#define XFER_MAX (4 * 1024 * 1024)  /* RDB bytes queued per replica before the sync thread waits */
#define EOF_MARK_LEN 40

enum { RS_WAIT_BGSAVE = 1, RS_SEND_BULK, RS_ONLINE };

/* ---- shared records (registry) ---- */

typedef struct replica_rec {
    struct replica_rec *prev, *next; /* reg_lock */
    worker *w;
    uint64_t client_id;
    char ip[64];
    int port;                        /* REPLCONF listening-port */
    _Atomic int state;
    _Atomic long long ack_off;
    _Atomic long long ack_ms;        /* last ACK (or the sync's start) */
    _Atomic bool streaming;          /* the stream flows (timeouts apply) */
    _Atomic bool pre_psync;          /* came with SYNC: never ACKs, never timed out (as Redis) */
} replica_rec;

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static replica_rec *reg_head;        /* reg_lock */
static int reg_count;                /* reg_lock */
static _Atomic long long n_full, n_partial_ok, n_partial_err;

/* ---- full sync transfers (sync_lock) ---- */

typedef struct chunk {
    struct chunk *next;
    size_t len;
    char data[];
} chunk;

typedef struct xfer {
    struct xfer *next;               /* pending list, then the job (sync thread) */
    worker *w;
    uint64_t client_id;
    bool eof_capa, pre_psync;        /* set at creation */
    repl_cursor *cur;                /* the replica's cursor until it takes it over */
    chunk *head, *tail;              /* sync_lock */
    size_t queued;                   /* sync_lock */
    bool done, failed, gone;         /* sync_lock */
    int refs;                        /* sync_lock: the worker's and the sync thread's */
} xfer;

static pthread_mutex_t sync_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sync_cond;     /* a request, room in a queue, exit */
static xfer *pending;                /* sync_lock: waiting for the next snapshot */
static long long pending_since_ms;   /* sync_lock */
static bool sync_exit, sync_started; /* sync_lock */
static pthread_t sync_thread;

/* ---- per-client state (owner worker only) ---- */

typedef struct waiter {
    struct waiter *prev, *next;      /* the worker's waiters */
    client *c;
    long long target;                /* stream offset to be acknowledged */
    long long numreplicas;
    uv_timer_t *timer;               /* NULL: no timeout; freed in its close callback */
} waiter;

typedef struct repl_peer {
    /* REPLCONF */
    int listening_port;
    char announced_ip[46];
    bool capa_eof, capa_psync2;
    /* After SYNC / PSYNC. */
    bool is_replica;
    replica_rec *rec;
    xfer *x;                         /* a full sync not yet relayed whole */
    repl_cursor *cur;                /* the stream, once the RDB is through */
    bool stream_on_ack;              /* start the stream at the next ACK */
    struct stream_write *sw;         /* the stream's write to the socket (kept between writes) */
    struct repl_peer *prev, *next;   /* the worker's replicas */
    client *c;
    waiter *wait;                    /* WAIT in progress */
} repl_peer;

static struct wstate {
    repl_peer *replicas;             /* owner only */
    waiter *waiters;                 /* owner only */
    _Atomic int nreplicas;           /* read by any thread (wake) */
    _Atomic int nwaiters;
    _Atomic bool wake_pending;
} wst[WORKER_MAX];

static long long now_ms(void) { return mstime(); }

/* ---- waking workers ---- */

static void on_wake(worker *w, void *arg);

static void wake_worker(int i) {
    if (!atomic_exchange_explicit(&wst[i].wake_pending, true, memory_order_acq_rel))
        worker_post(&workers[i], on_wake, NULL);
}

static void flush_replicas(worker *w);

/* The replicas on the calling worker are flushed at once (no post to our
 * own inbox); the other workers' get one post each. */
void repl_master_wake(void) {
    repl_buffer_balance();
    for (int i = 0; i < nworkers; i++) {
        if (atomic_load_explicit(&wst[i].nreplicas, memory_order_relaxed) == 0) continue;
        if (&workers[i] == current_worker)
            flush_replicas(current_worker);
        else
            wake_worker(i);
    }
}

static void wake_waiters(void) {
    for (int i = 0; i < nworkers; i++)
        if (atomic_load_explicit(&wst[i].nwaiters, memory_order_relaxed) > 0) wake_worker(i);
}

static void close_by_id(worker *w, void *arg) {
    client *c = worker_client_by_id(w, (uint64_t)(uintptr_t)arg);
    if (c) client_close(c);
}

static void post_close(worker *w, uint64_t id) { worker_post(w, close_by_id, (void *)(uintptr_t)id); }

/* ---- transfers ---- */

/* sync_lock held. */
static void do_xfer_unref(xfer *x) {
    if (--x->refs > 0) return;
    while (x->head) {
        chunk *k = x->head;
        x->head = k->next;
        mem_free(k);
    }
    repl_cursor_free(x->cur);
    mem_free(x);
}

/* Sync thread: queue bytes for x's worker (sync_lock held). */
static void do_xfer_push(xfer *x, const void *p, size_t len) {
    if (x->gone || x->failed || !len) return;
    chunk *k = mem_alloc(sizeof *k + len);
    k->next = NULL;
    k->len = len;
    memcpy(k->data, p, len);
    if (x->tail)
        x->tail->next = k;
    else
        x->head = k;
    x->tail = k;
    x->queued += len;
}

/* Wake x's worker (sync_lock held). A replica's close marks its transfer
 * gone under sync_lock, so once a worker has closed its clients (shutdown)
 * the sync thread never posts to it again. */
static void do_wake_xfer(xfer *x) {
    if (!x->gone) wake_worker(x->w->id);
}

/* ---- the replica's output (owner worker) ---- */

static void set_state(repl_peer *p, int s) { atomic_store_explicit(&p->rec->state, s, memory_order_relaxed); }

/* Move queued RDB bytes into the output. When the transfer is through, the
 * replica goes online and takes the cursor over. */
static void pump_xfer(client *c, repl_peer *p) {
    xfer *x = p->x;
    size_t have = client_output_bytes(c);
    pthread_mutex_lock(&sync_lock);
    chunk *got = NULL, **tailp = &got;
    while (x->head && have < FILL_TARGET) {
        chunk *k = x->head;
        x->head = k->next;
        if (!x->head) x->tail = NULL;
        x->queued -= k->len;
        have += k->len;
        k->next = NULL;
        *tailp = k;
        tailp = &k->next;
    }
    bool failed = x->failed, finished = x->done && !x->head;
    /* Redis 7.0 waits for the replica's first ACK only after a diskless
     * (EOF-marked) transfer; a `$<len>` transfer (SYNC, or a replica
     * without capa eof) streams at once: such replicas may never ACK. */
    bool wait_ack = x->eof_capa && !x->pre_psync;
    if (got) pthread_cond_broadcast(&sync_cond);
    if (finished) {
        p->cur = x->cur;
        x->cur = NULL;
        p->x = NULL;
        do_xfer_unref(x);
    }
    pthread_mutex_unlock(&sync_lock);
    while (got) {
        chunk *k = got;
        got = k->next;
        add_reply_raw(c, k->data, k->len);
        mem_free(k);
    }
    if (failed) {
        post_close(c->worker, c->id);
    } else if (finished) {
        log_notice("Synchronization with replica %s succeeded", c->addr);
        set_state(p, RS_ONLINE);
        if (wait_ack)
            p->stream_on_ack = true;
        else
            atomic_store_explicit(&p->rec->streaming, true, memory_order_relaxed);
    }
}

/* The stream goes from the buffer's blocks to the socket without a copy:
 * one write at a time per replica, of the spans repl_cursor_peek gives;
 * its completion moves the cursor on and writes the next. A replica
 * closed meanwhile leaves its write behind (p NULL): the close cancels it,
 * and the callback lets the spans go and frees it. */
typedef struct stream_write {
    uv_write_t req;
    repl_peer *p;                    /* NULL: the replica is gone */
    bool busy;                       /* a write is in flight */
    unsigned gen;                    /* its peek's generation (repl_cursor_release) */
    size_t len;
    uv_buf_t bufs[STREAM_SPANS];
} stream_write;

static void on_stream_written(uv_write_t *req, int status) {
    stream_write *sw = req->data;
    repl_peer *p = sw->p;
    sw->busy = false;
    if (!p) {
        repl_cursor_release(NULL, 0, sw->gen);
        mem_free(sw);
        return;
    }
    client *c = p->c;
    if (status < 0) {
        repl_cursor_release(p->cur, 0, sw->gen);
        client_close(c);
        return;
    }
    stat_inc(STAT_IO_WRITES);
    stat_add(STAT_NET_OUTPUT, sw->len);
    repl_cursor_release(p->cur, sw->len, sw->gen);
    client_flush(c); /* the next write, if the stream went on */
}

static void stream_write_next(client *c, repl_peer *p) {
    if (!p->sw) {
        p->sw = mem_calloc(1, sizeof *p->sw);
        p->sw->p = p;
        p->sw->req.data = p->sw;
    }
    stream_write *sw = p->sw;
    if (sw->busy) return; /* its completion comes back here */
    repl_span spans[STREAM_SPANS];
    int n = repl_cursor_peek(p->cur, STREAM_WRITE_MAX, spans, STREAM_SPANS, &sw->gen);
    if (n == 0) return;
    sw->len = 0;
    for (int i = 0; i < n; i++) {
        sw->bufs[i] = uv_buf_init((char *)spans[i].p, (unsigned)spans[i].len);
        sw->len += spans[i].len;
    }
    sw->busy = true;
    if (uv_write(&sw->req, (uv_stream_t *)&c->tcp, sw->bufs, (unsigned)n, on_stream_written) != 0) {
        sw->busy = false;
        repl_cursor_release(p->cur, 0, sw->gen);
        client_close(c);
    }
}

/* client_flush's hook: more RDB, then more stream. The stream's bytes
 * follow whatever the client's output holds (the RDB's end, +CONTINUE),
 * so they start once it is written (the write's completion calls
 * client_flush again). */
static void replica_fill(client *c) {
    repl_peer *p = c->repl;
    if (!p || !p->is_replica) return;
    if (p->x) pump_xfer(c, p);
    if (!p->x && p->cur && !p->stream_on_ack && client_output_bytes(c) == 0) stream_write_next(c, p);
}

/* The stream grew past what this replica may hold back. */
static bool over_limit(repl_peer *p) {
    long long hard = cfg_get(obuf_hard[CLIENT_CLASS_REPLICA]);
    if (hard <= 0) return false;
    repl_cursor *cur = p->cur;
    if (!cur && p->x) {
        pthread_mutex_lock(&sync_lock);
        cur = p->x->cur;
        long long lag = cur ? repl_cursor_lag(cur) : 0;
        pthread_mutex_unlock(&sync_lock);
        return lag > hard;
    }
    return cur && repl_cursor_lag(cur) > hard;
}

/* ---- WAIT ---- */

static int count_acked(long long offset) {
    int n = 0;
    pthread_mutex_lock(&reg_lock);
    for (replica_rec *r = reg_head; r; r = r->next)
        if (atomic_load_explicit(&r->state, memory_order_relaxed) == RS_ONLINE &&
            atomic_load_explicit(&r->ack_off, memory_order_relaxed) >= offset)
            n++;
    pthread_mutex_unlock(&reg_lock);
    return n;
}

static void on_timer_closed(uv_handle_t *h) { mem_free(h); }

/* Detach c's waiter (owner thread). */
static void waiter_remove(client *c) {
    repl_peer *p = c->repl;
    waiter *wt = p ? p->wait : NULL;
    if (!wt) return;
    struct wstate *ws = &wst[c->worker->id];
    if (wt->prev)
        wt->prev->next = wt->next;
    else
        ws->waiters = wt->next;
    if (wt->next) wt->next->prev = wt->prev;
    atomic_fetch_sub_explicit(&ws->nwaiters, 1, memory_order_relaxed);
    if (wt->timer) {
        uv_timer_stop(wt->timer);
        uv_close((uv_handle_t *)wt->timer, on_timer_closed);
    }
    mem_free(wt);
    p->wait = NULL;
}

/* Answer a WAIT with the count and let the client go on. */
static void waiter_finish(client *c, int count) {
    waiter_remove(c);
    c->suspended = false;
    add_reply_integer(c, count);
    client_resume(c); /* pipelined commands after WAIT, then the flush */
}

static void on_wait_timeout(uv_timer_t *t) {
    client *c = t->data;
    waiter *wt = c->repl->wait;
    waiter_finish(c, count_acked(wt->target));
}

static void check_waiters(worker *w) {
    struct wstate *ws = &wst[w->id];
    /* Collect first: resuming a client may run another WAIT. */
    client *ready[64];
    int counts[64], n = 0;
    for (waiter *wt = ws->waiters; wt && n < 64; wt = wt->next) {
        int k = count_acked(wt->target);
        if (k >= wt->numreplicas) {
            counts[n] = k;
            ready[n++] = wt->c;
        }
    }
    for (int i = 0; i < n; i++) waiter_finish(ready[i], counts[i]);
}

/* ---- per-client bookkeeping ---- */

static void peer_closed(client *c);

static repl_peer *peer_of(client *c) {
    if (!c->repl) {
        c->repl = mem_calloc(1, sizeof(repl_peer));
        c->repl->c = c;
        c->on_close = peer_closed;
    }
    return c->repl;
}

static void peer_closed(client *c) {
    repl_peer *p = c->repl;
    if (!p) return;
    waiter_remove(c);
    if (p->is_replica) {
        struct wstate *ws = &wst[c->worker->id];
        if (p->prev)
            p->prev->next = p->next;
        else
            ws->replicas = p->next;
        if (p->next) p->next->prev = p->prev;
        atomic_fetch_sub_explicit(&ws->nreplicas, 1, memory_order_relaxed);
        pthread_mutex_lock(&reg_lock);
        replica_rec *r = p->rec;
        if (r->prev)
            r->prev->next = r->next;
        else
            reg_head = r->next;
        if (r->next) r->next->prev = r->prev;
        reg_count--;
        pthread_mutex_unlock(&reg_lock);
        log_notice("Connection with replica %s lost.", c->addr);
        mem_free(r);
        if (p->x) {
            pthread_mutex_lock(&sync_lock);
            p->x->gone = true;
            pthread_cond_broadcast(&sync_cond);
            do_xfer_unref(p->x);
            pthread_mutex_unlock(&sync_lock);
        }
        repl_cursor_free(p->cur);
        if (p->sw) {
            if (p->sw->busy)
                p->sw->p = NULL; /* cancelled by the close: its callback frees it */
            else
                mem_free(p->sw);
        }
    }
    mem_free(p);
    c->repl = NULL;
    c->out_fill = NULL;
}

/* The IP INFO and ROLE show: the announced one, else the peer's. */
static void peer_ip(const client *c, const repl_peer *p, char *out, size_t n) {
    if (p->announced_ip[0]) {
        snprintf(out, n, "%s", p->announced_ip);
        return;
    }
    snprintf(out, n, "%s", c->addr);
    char *colon = strrchr(out, ':');
    if (colon) *colon = '\0';
}

/* c becomes a replica in `state` (its output is ours from now on). */
static void make_replica(client *c, repl_peer *p, int state) {
    replica_rec *r = mem_calloc(1, sizeof *r);
    r->w = c->worker;
    r->client_id = c->id;
    peer_ip(c, p, r->ip, sizeof r->ip);
    r->port = p->listening_port;
    atomic_store_explicit(&r->state, state, memory_order_relaxed);
    atomic_store_explicit(&r->ack_ms, now_ms(), memory_order_relaxed);
    p->rec = r;
    p->is_replica = true;
    struct wstate *ws = &wst[c->worker->id];
    p->prev = NULL;
    p->next = ws->replicas;
    if (ws->replicas) ws->replicas->prev = p;
    ws->replicas = p;
    atomic_fetch_add_explicit(&ws->nreplicas, 1, memory_order_relaxed);
    pthread_mutex_lock(&reg_lock);
    r->next = reg_head;
    if (reg_head) reg_head->prev = r;
    reg_head = r;
    reg_count++;
    pthread_mutex_unlock(&reg_lock);
    c->out_fill = replica_fill;
    c->flags |= CF_NO_EVICT;
    atomic_store_explicit(&c->shared_kind, CLIENT_KIND_REPLICA, memory_order_relaxed); /* CLIENT LIST/KILL */
}

/* Top up every replica of w (its owner thread) from the stream; close
 * those whose unsent stream is over the limit. */
static void flush_replicas(worker *w) {
    repl_peer *p = wst[w->id].replicas;
    while (p) {
        repl_peer *next = p->next;
        client *c = p->c;
        if (over_limit(p)) {
            log_warning("Client id=%llu addr=%s scheduled to be closed ASAP for overcoming of output buffer "
                        "limits.",
                        (unsigned long long)c->id, c->addr);
            client_close(c);
        } else {
            client_flush(c);
        }
        p = next;
    }
}

/* The inbox message of wake_worker: flush every replica, check WAITs. */
static void on_wake(worker *w, void *arg) {
    (void)arg;
    struct wstate *ws = &wst[w->id];
    atomic_store_explicit(&ws->wake_pending, false, memory_order_release);
    flush_replicas(w);
    if (ws->waiters) check_waiters(w);
}

/* ---- the sync thread ---- */

typedef struct job {
    xfer *list;
    long long offset;
    int stream_db;                   /* the stream's database at offset (-1: a SELECT comes first) */
    serial_buf whole;                /* the RDB for $<len> replicas */
    bool need_whole;
} job;

static void job_at_start(void *ctx) {
    job *j = ctx;
    bool first = true;
    for (xfer *x = j->list; x; x = x->next) {
        if (first) {
            j->offset = repl_cursor_start_at_end(x->cur, &j->stream_db);
            first = false;
        } else {
            repl_cursor_start(x->cur, j->offset + 1);
        }
    }
}

/* Push to every live transfer; wait while one is full. False when nobody
 * is left to send to. */
static bool job_out(void *ctx, const void *p, size_t len) {
    job *j = ctx;
    if (j->need_whole) serial_put_raw(&j->whole, p, len);
    pthread_mutex_lock(&sync_lock);
    bool anyone = false;
    for (;;) {
        bool full = false;
        anyone = false;
        for (xfer *x = j->list; x; x = x->next) {
            if (x->gone || x->failed) continue;
            if (!x->pre_psync && x->eof_capa && x->queued > XFER_MAX) full = true;
            anyone = true;
        }
        if (!full || !anyone || sync_exit) break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&sync_cond, &sync_lock, &ts);
    }
    bool ok = anyone && !sync_exit;
    for (xfer *x = j->list; x; x = x->next)
        if (x->eof_capa && !x->pre_psync) {
            do_xfer_push(x, p, len);
            if (ok) do_wake_xfer(x);
        }
    pthread_mutex_unlock(&sync_lock);
    return ok;
}

static void wake_job(job *j) {
    pthread_mutex_lock(&sync_lock);
    for (xfer *x = j->list; x; x = x->next) do_wake_xfer(x);
    pthread_mutex_unlock(&sync_lock);
}

static void run_job(job *j) {
    char mark[EOF_MARK_LEN + 1];
    process_random_hex(mark, EOF_MARK_LEN);
    mark[EOF_MARK_LEN] = '\0';
    for (xfer *x = j->list; x; x = x->next)
        if (!x->eof_capa || x->pre_psync) j->need_whole = true;
    serial_init(&j->whole);

    persist_claim_for_sync();
    char err[256] = "";
    rdb_writer *wr = rdb_writer_start_stream(job_out, job_at_start, j, err, sizeof err);
    if (!wr) {
        persist_release_for_sync();
        log_warning("Can't start the snapshot for replication: %s", err);
        pthread_mutex_lock(&sync_lock);
        for (xfer *x = j->list; x; x = x->next) x->failed = true;
        pthread_mutex_unlock(&sync_lock);
        wake_job(j);
        serial_free(&j->whole);
        return;
    }
    /* Known once the snapshot started (job_at_start): a replica serving
     * this sync forwards its master's stream, which goes on in that db. */
    rdb_writer_set_repl_stream_db(wr, j->stream_db);
    repl_ids ids = repl_get_ids();
    log_notice("Starting BGSAVE for SYNC with target: replicas sockets (no fork, offset %lld)", j->offset);
    pthread_mutex_lock(&sync_lock);
    for (xfer *x = j->list; x; x = x->next) {
        char line[128];
        int n = 0;
        if (!x->pre_psync) n = snprintf(line, sizeof line, "+FULLRESYNC %s %lld\r\n", ids.replid, j->offset);
        if (x->eof_capa && !x->pre_psync) n += snprintf(line + n, sizeof line - (size_t)n, "$EOF:%s\r\n", mark);
        do_xfer_push(x, line, (size_t)n);
    }
    pthread_mutex_unlock(&sync_lock);
    wake_job(j);

    bool ok = rdb_writer_finish_stream(wr);
    persist_release_for_sync();

    pthread_mutex_lock(&sync_lock);
    for (xfer *x = j->list; x; x = x->next) {
        if (!ok) {
            x->failed = true;
            continue;
        }
        if (x->eof_capa && !x->pre_psync) {
            do_xfer_push(x, mark, EOF_MARK_LEN);
        } else {
            char hdr[32];
            int n = snprintf(hdr, sizeof hdr, "$%zu\r\n", j->whole.len);
            do_xfer_push(x, hdr, (size_t)n);
            do_xfer_push(x, j->whole.buf, j->whole.len);
        }
        x->done = true;
    }
    pthread_mutex_unlock(&sync_lock);
    serial_free(&j->whole);
    if (ok)
        log_notice("Streamed RDB transfer with replicas completed");
    else
        log_warning("Replication snapshot failed or no replica left to send it to");
    wake_job(j);
}

static void *sync_main(void *arg) {
    (void)arg;
    mem_thread_register();
    stats_thread_register();
    pthread_mutex_lock(&sync_lock);
    for (;;) {
        while (!sync_exit && !pending) pthread_cond_wait(&sync_cond, &sync_lock);
        if (sync_exit) break;
        long long deadline = pending_since_ms + cfg_get(repl_diskless_sync_delay) * 1000;
        while (!sync_exit && now_ms() < deadline) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            long long left = deadline - now_ms();
            if (left > 100) left = 100;
            ts.tv_nsec += left * 1000000L;
            ts.tv_sec += ts.tv_nsec / 1000000000L;
            ts.tv_nsec %= 1000000000L;
            pthread_cond_timedwait(&sync_cond, &sync_lock, &ts);
        }
        if (sync_exit) break;
        job j;
        memset(&j, 0, sizeof j);
        j.list = pending;
        pending = NULL;
        /* Drop the ones that left while waiting. */
        for (xfer **pp = &j.list; *pp;) {
            xfer *x = *pp;
            if (x->gone) {
                *pp = x->next;
                do_xfer_unref(x);
            } else {
                pp = &x->next;
            }
        }
        pthread_mutex_unlock(&sync_lock);
        if (j.list) run_job(&j);
        pthread_mutex_lock(&sync_lock);
        while (j.list) {
            xfer *x = j.list;
            j.list = x->next;
            do_xfer_unref(x);
        }
    }
    while (pending) {
        xfer *x = pending;
        pending = x->next;
        x->failed = true;
        do_xfer_unref(x);
    }
    pthread_mutex_unlock(&sync_lock);
    return NULL;
}

/* ---- commands ---- */

static bool arg_is(const arg_t *a, const char *s) {
    size_t n = strlen(s);
    return a->len == n && strncasecmp(a->ptr, s, n) == 0;
}

/* PSYNC replid offset: +CONTINUE and the backlog from offset, or false
 * (then a full sync follows), as Redis's masterTryPartialResynchronization. */
static bool try_partial(client *c, repl_peer *p) {
    long long off;
    if (!parse_ll(c->argv[2].ptr, c->argv[2].len, &off)) {
        add_reply_error(c, ERR_NOT_INT);
        return false;
    }
    repl_ids ids = repl_get_ids();
    const arg_t *id = &c->argv[1];
    bool is_cur = arg_is(id, ids.replid);
    if (!is_cur && (!arg_is(id, ids.replid2) || off > ids.second_offset)) {
        if (id->len != 1 || id->ptr[0] != '?') {
            if (!arg_is(id, ids.replid2))
                log_notice("Partial resynchronization not accepted: Replication ID mismatch (Replica asked for "
                           "'%.*s', my replication IDs are '%s' and '%s')",
                           (int)(id->len > 64 ? 64 : id->len), id->ptr, ids.replid, ids.replid2);
            else
                log_notice("Partial resynchronization not accepted: Requested offset for second ID was %lld, "
                           "but I can reply up to %lld",
                           off, ids.second_offset);
        } else {
            log_notice("Full resync requested by replica %s", c->addr);
        }
        return false;
    }
    if (!ids.backlog_active || off < ids.backlog_first || off > ids.backlog_first + ids.backlog_histlen) {
        log_notice("Unable to partial resync with replica %s for lack of backlog (Replica request was: %lld).",
                   c->addr, off);
        return false;
    }
    repl_cursor *cur = repl_cursor_new();
    if (!repl_cursor_start(cur, off)) {
        repl_cursor_free(cur);
        return false;
    }
    make_replica(c, p, RS_ONLINE);
    p->cur = cur;
    if (repl_cursor_dead(cur)) { /* the backlog was freed (repl-backlog-ttl) before we registered */
        post_close(c->worker, c->id);
        return true;
    }
    atomic_store_explicit(&p->rec->streaming, true, memory_order_relaxed);
    char line[64];
    int n = p->capa_psync2 ? snprintf(line, sizeof line, "+CONTINUE %s\r\n", ids.replid)
                           : snprintf(line, sizeof line, "+CONTINUE\r\n");
    add_reply_raw(c, line, (size_t)n);
    atomic_fetch_add_explicit(&n_partial_ok, 1, memory_order_relaxed);
    log_notice("Partial resynchronization request from %s accepted. Sending %lld bytes of backlog starting from "
               "offset %lld.",
               c->addr, ids.offset + 1 - off, off);
    return true;
}

/* PSYNC replid offset FAILOVER: our master hands over to us (its FAILOVER
 * command). We become a master first when the replid is our history, so
 * that the PSYNC then continues it (replid2); false after an error reply. */
static bool take_over_from_master(client *c) {
    log_warning("Failover request received for replid %.*s.", (int)(c->argv[1].len > 64 ? 64 : c->argv[1].len),
                c->argv[1].ptr);
    if (!repl_is_replica()) {
        add_reply_error(c, "ERR PSYNC FAILOVER can't be sent to a master.");
        return false;
    }
    if (!arg_is(&c->argv[1], repl_get_ids().replid)) {
        add_reply_error(c, "ERR PSYNC FAILOVER replid must match my replid.");
        return false;
    }
    repl_replica_promote();
    log_notice("MASTER MODE enabled (failover request from 'id=%llu addr=%s')", (unsigned long long)c->id, c->addr);
    return true;
}

void repl_sync_command(client *c) {
    if (c->repl && c->repl->is_replica) return; /* already a replica: ignored, as Redis */
    if (c->argc > 3 && arg_is(&c->argv[0], "psync") && arg_is(&c->argv[3], "failover")) {
        repl_failover_role_lock(); /* not between another role change's check and act */
        bool ok = take_over_from_master(c);
        repl_failover_role_unlock();
        if (!ok) return;
    }
    if (repl_failover_state() != FO_NONE) {
        add_reply_error(c, "NOMASTERLINK Can't SYNC while failing over");
        return;
    }
    /* A replica serves its own replicas only while its link is up: a
     * stale or half-loaded dataset must not spread (Redis's check). */
    if (repl_is_replica() && repl_replica_link_state() != RL_CONNECTED) {
        add_reply_error(c, "NOMASTERLINK Can't SYNC while not connected with my master");
        return;
    }
    if (client_output_bytes(c) > 0) {
        add_reply_error(c, "ERR SYNC and PSYNC are invalid with pending output");
        return;
    }
    repl_peer *p = peer_of(c);
    bool psync = arg_is(&c->argv[0], "psync");
    log_notice("Replica %s asks for synchronization", c->addr);
    if (psync) {
        if (try_partial(c, p)) return;
        if (c->argv[1].len == 0 || c->argv[1].ptr[0] != '?')
            atomic_fetch_add_explicit(&n_partial_err, 1, memory_order_relaxed);
    }
    atomic_fetch_add_explicit(&n_full, 1, memory_order_relaxed);
    repl_ids ids = repl_get_ids();
    if (!ids.backlog_active) {
        repl_new_history();
        repl_backlog_create();
        log_notice("Replication backlog created, my new replication IDs are '%s' and '%s'", repl_get_ids().replid,
                   ids.replid2);
    }
    xfer *x = mem_calloc(1, sizeof *x);
    x->w = c->worker;
    x->client_id = c->id;
    x->eof_capa = p->capa_eof;
    x->pre_psync = !psync;
    x->cur = repl_cursor_new();
    x->refs = 2;
    make_replica(c, p, RS_WAIT_BGSAVE);
    repl_backlog_create(); /* again, now that we are registered: repl-backlog-ttl may have freed it meanwhile */
    atomic_store_explicit(&p->rec->pre_psync, x->pre_psync, memory_order_relaxed);
    p->x = x;
    pthread_mutex_lock(&sync_lock);
    if (!pending) pending_since_ms = now_ms();
    x->next = pending;
    pending = x;
    pthread_cond_broadcast(&sync_cond);
    pthread_mutex_unlock(&sync_lock);
}

void repl_replconf_command(client *c) {
    if (c->argc % 2 == 0) {
        add_reply_error(c, ERR_SYNTAX);
        return;
    }
    repl_peer *p = peer_of(c);
    for (int j = 1; j < c->argc; j += 2) {
        const arg_t *opt = &c->argv[j], *val = &c->argv[j + 1];
        if (arg_is(opt, "listening-port")) {
            long long port;
            if (!arg_ll_or_reply(c, val, &port, NULL)) return;
            p->listening_port = (int)port;
        } else if (arg_is(opt, "ip-address")) {
            if (val->len >= sizeof p->announced_ip) {
                add_reply_errorf(c, "ERR REPLCONF ip-address provided by replica instance is too long: %zu bytes",
                                 val->len);
                return;
            }
            memcpy(p->announced_ip, val->ptr, val->len);
            p->announced_ip[val->len] = '\0';
        } else if (arg_is(opt, "capa")) {
            if (arg_is(val, "eof"))
                p->capa_eof = true;
            else if (arg_is(val, "psync2"))
                p->capa_psync2 = true;
            /* Unknown capabilities are ignored, as Redis. */
        } else if (arg_is(opt, "ack")) {
            /* From a replica only; never answered. */
            if (!p->is_replica) return;
            long long off;
            if (!parse_ll(val->ptr, val->len, &off)) return;
            replica_rec *r = p->rec;
            if (off > atomic_load_explicit(&r->ack_off, memory_order_relaxed))
                atomic_store_explicit(&r->ack_off, off, memory_order_relaxed);
            atomic_store_explicit(&r->ack_ms, now_ms(), memory_order_relaxed);
            if (p->stream_on_ack && p->cur) {
                p->stream_on_ack = false;
                atomic_store_explicit(&r->streaming, true, memory_order_relaxed);
            }
            wake_waiters();
            return;
        } else if (arg_is(opt, "getack")) {
            repl_replica_getack(c);
            return;
        } else if (arg_is(opt, "rdb-only")) {
            long long v;
            if (!arg_ll_or_reply(c, val, &v, NULL)) return;
            if (v != 0 && v != 1) {
                add_reply_error(c, ERR_SYNTAX);
                return;
            }
        } else {
            add_reply_errorf(c, "ERR Unrecognized REPLCONF option: %.*s", (int)(opt->len > 128 ? 128 : opt->len),
                             opt->ptr);
            return;
        }
    }
    add_reply_ok(c);
}

void repl_wait_command(client *c) {
    long long numreplicas, timeout;
    if (repl_is_replica()) {
        add_reply_error(c, "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 "
                           "if a replica is configured to be writable (which is not the default) writes to "
                           "replicas are just local and are not propagated.");
        return;
    }
    if (!arg_ll_or_reply(c, &c->argv[1], &numreplicas, NULL)) return;
    if (!arg_ll_or_reply(c, &c->argv[2], &timeout, "ERR timeout is not an integer or out of range")) return;
    if (timeout < 0) {
        add_reply_error(c, "ERR timeout is negative");
        return;
    }
    /* The client's last write (Redis's c->woff); 0 when it wrote nothing
     * since the stream began: every online replica counts. */
    long long target = c->woff;
    int acked = count_acked(target);
    if (acked >= numreplicas || multi_in_exec()) { /* inside EXEC: never block (as Redis) */
        add_reply_integer(c, acked);
        return;
    }
    repl_peer *p = peer_of(c);
    waiter *wt = mem_calloc(1, sizeof *wt);
    wt->c = c;
    wt->target = target;
    wt->numreplicas = numreplicas;
    struct wstate *ws = &wst[c->worker->id];
    wt->next = ws->waiters;
    if (ws->waiters) ws->waiters->prev = wt;
    ws->waiters = wt;
    atomic_fetch_add_explicit(&ws->nwaiters, 1, memory_order_relaxed);
    p->wait = wt;
    if (timeout > 0) {
        wt->timer = mem_alloc(sizeof(uv_timer_t));
        uv_timer_init(&c->worker->loop, wt->timer);
        wt->timer->data = c;
        uv_timer_start(wt->timer, on_wait_timeout, (uint64_t)timeout, 0);
    }
    c->suspended = true;
    /* Ask for ACKs now (through the stream, as Redis 7.0), unless writes
     * are paused for a manual failover (the stream must not move; the
     * replicas' own ACKs, every second, answer the WAIT then). */
    static const char getack[] = "*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n";
    if (!writepause_active()) repl_feed_raw(getack, sizeof getack - 1);
}


/* ---- figures ---- */

int repl_good_replicas(void) {
    long long now = now_ms(), max_lag = cfg_get(min_replicas_max_lag);
    int n = 0;
    pthread_mutex_lock(&reg_lock);
    for (replica_rec *r = reg_head; r; r = r->next)
        if (atomic_load_explicit(&r->state, memory_order_relaxed) == RS_ONLINE &&
            (now - atomic_load_explicit(&r->ack_ms, memory_order_relaxed)) / 1000 <= max_lag)
            n++;
    pthread_mutex_unlock(&reg_lock);
    return n;
}

int repl_master_replica_count(void) {
    pthread_mutex_lock(&reg_lock);
    int n = reg_count;
    pthread_mutex_unlock(&reg_lock);
    return n;
}

/* The replica at host:port, as Redis's findReplica: its IP (announced, else
 * the peer's) and its listening port. */
static replica_rec *find_locked(const char *host, int port) {
    for (replica_rec *r = reg_head; r; r = r->next)
        if (r->port == port && !strcasecmp(r->ip, host)) return r;
    return NULL;
}

int repl_master_replica_online(const char *host, int port, long long *ack_off) {
    pthread_mutex_lock(&reg_lock);
    replica_rec *r = find_locked(host, port);
    int st = !r ? -1 : atomic_load_explicit(&r->state, memory_order_relaxed) == RS_ONLINE ? 1 : 0;
    if (r && ack_off) *ack_off = atomic_load_explicit(&r->ack_off, memory_order_relaxed);
    pthread_mutex_unlock(&reg_lock);
    return st;
}

bool repl_master_replica_caught_up(long long offset, char *host, size_t hostlen, int *port) {
    bool found = false;
    pthread_mutex_lock(&reg_lock);
    for (replica_rec *r = reg_head; r && !found; r = r->next) {
        if (atomic_load_explicit(&r->state, memory_order_relaxed) != RS_ONLINE ||
            atomic_load_explicit(&r->ack_off, memory_order_relaxed) != offset)
            continue;
        snprintf(host, hostlen, "%s", r->ip);
        *port = r->port;
        found = true;
    }
    pthread_mutex_unlock(&reg_lock);
    return found;
}

static const char *state_name(int s) {
    switch (s) {
    case RS_WAIT_BGSAVE: return "wait_bgsave";
    case RS_SEND_BULK: return "send_bulk";
    case RS_ONLINE: return "online";
    default: return "none";
    }
}

void repl_master_info(repl_info_out *out, void *ctx) {
    /* Copy under the lock, print after (the callback may allocate). */
    typedef struct {
        char ip[64];
        int port, state;
        long long off, lag;
    } line;
    long long now_s = now_ms() / 1000;
    pthread_mutex_lock(&reg_lock);
    int n = reg_count, i = 0;
    line *ls = mem_alloc(sizeof(line) * (size_t)(n ? n : 1));
    for (replica_rec *r = reg_head; r && i < n; r = r->next, i++) {
        memcpy(ls[i].ip, r->ip, sizeof ls[i].ip);
        ls[i].port = r->port;
        ls[i].state = atomic_load_explicit(&r->state, memory_order_relaxed);
        ls[i].off = atomic_load_explicit(&r->ack_off, memory_order_relaxed);
        ls[i].lag = now_s - atomic_load_explicit(&r->ack_ms, memory_order_relaxed) / 1000;
    }
    pthread_mutex_unlock(&reg_lock);
    out(ctx, "connected_slaves:%d\r\n", n);
    if (cfg_get(min_replicas_to_write) && cfg_get(min_replicas_max_lag))
        out(ctx, "min_slaves_good_slaves:%d\r\n", repl_good_replicas());
    /* The registry is newest first; Redis lists its replicas oldest first. */
    for (int k = 0; k < n; k++) {
        line *l = &ls[n - 1 - k];
        out(ctx, "slave%d:ip=%s,port=%d,state=%s,offset=%lld,lag=%lld\r\n", k, l->ip, l->port, state_name(l->state),
            l->off, l->lag);
    }
    mem_free(ls);
}

void repl_master_role_replicas(client *c) {
    typedef struct {
        char ip[64];
        int port;
        long long off;
    } row;
    pthread_mutex_lock(&reg_lock);
    int n = 0, cap = reg_count;
    row *rows = mem_alloc(sizeof(row) * (size_t)(cap ? cap : 1));
    for (replica_rec *r = reg_head; r && n < cap; r = r->next) {
        if (atomic_load_explicit(&r->state, memory_order_relaxed) != RS_ONLINE) continue;
        memcpy(rows[n].ip, r->ip, sizeof rows[n].ip);
        rows[n].port = r->port;
        rows[n].off = atomic_load_explicit(&r->ack_off, memory_order_relaxed);
        n++;
    }
    pthread_mutex_unlock(&reg_lock);
    add_reply_array(c, n);
    for (int k = n - 1; k >= 0; k--) {
        char num[32];
        add_reply_array(c, 3);
        add_reply_bulk_cstr(c, rows[k].ip);
        snprintf(num, sizeof num, "%d", rows[k].port);
        add_reply_bulk_cstr(c, num);
        snprintf(num, sizeof num, "%lld", rows[k].off);
        add_reply_bulk_cstr(c, num);
    }
    mem_free(rows);
}

void repl_master_sync_counts(long long *full, long long *partial_ok, long long *partial_err) {
    *full = atomic_load_explicit(&n_full, memory_order_relaxed);
    *partial_ok = atomic_load_explicit(&n_partial_ok, memory_order_relaxed);
    *partial_err = atomic_load_explicit(&n_partial_err, memory_order_relaxed);
}

void repl_drop_replicas(void) {
    pthread_mutex_lock(&reg_lock);
    for (replica_rec *r = reg_head; r; r = r->next) post_close(r->w, r->client_id);
    pthread_mutex_unlock(&reg_lock);
}

/* ---- lifecycle ---- */

void repl_master_init(void) {
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_cond_init(&sync_cond, &ca);
    pthread_condattr_destroy(&ca);
    propagate_set_feed(repl_feed_units, repl_master_wake);
    pthread_mutex_lock(&sync_lock);
    if (!sync_started && pthread_create(&sync_thread, NULL, sync_main, NULL) == 0) sync_started = true;
    pthread_mutex_unlock(&sync_lock);
}

void repl_master_shutdown(void) {
    pthread_mutex_lock(&sync_lock);
    sync_exit = true;
    pthread_cond_broadcast(&sync_cond);
    bool started = sync_started;
    sync_started = false;
    pthread_mutex_unlock(&sync_lock);
    if (started) pthread_join(sync_thread, NULL);
}

/* repl-backlog-ttl: a master without replicas for that long frees its
 * backlog (Redis's replicationCron); a replica keeps it (its history may
 * be continued by replicas after a promotion). Worker 0's cron. */
static void backlog_ttl_check(int nreplicas, long long now) {
    static long long no_replicas_since;
    long long ttl = cfg_get(repl_backlog_ttl);
    if (nreplicas > 0 || repl_is_replica()) {
        no_replicas_since = 0;
        return;
    }
    if (!no_replicas_since) no_replicas_since = now;
    if (ttl > 0 && repl_get_ids().backlog_active && now - no_replicas_since > ttl * 1000) {
        /* Under reg_lock, re-checked: a replica registering meanwhile
         * (make_replica) either comes before (nothing is freed) or after
         * (its SYNC re-creates the backlog, its PSYNC finds its cursor
         * dead and reconnects). reg_lock before buf_lock. */
        pthread_mutex_lock(&reg_lock);
        bool none = reg_count == 0 && !repl_cursors_active(); /* a slot migration's cursor (slot_migration.c) */
        if (none) repl_backlog_free();
        pthread_mutex_unlock(&reg_lock);
        if (none) log_notice("Replication backlog freed after %lld seconds without connected replicas.", ttl);
    }
}

void repl_master_cron(void) {
    static long long last_ping_ms;
    long long now = now_ms();
    repl_buffer_cron();
    pthread_mutex_lock(&reg_lock);
    int n = reg_count;
    long long timeout_ms = cfg_get(repl_timeout) * 1000;
    for (replica_rec *r = reg_head; r; r = r->next) {
        if (!atomic_load_explicit(&r->streaming, memory_order_relaxed) ||
            atomic_load_explicit(&r->pre_psync, memory_order_relaxed))
            continue;
        if (now - atomic_load_explicit(&r->ack_ms, memory_order_relaxed) > timeout_ms) {
            log_warning("Disconnecting timedout replica (streaming sync): %s:%d", r->ip, r->port);
            atomic_store_explicit(&r->streaming, false, memory_order_relaxed); /* once */
            post_close(r->w, r->client_id);
        }
    }
    pthread_mutex_unlock(&reg_lock);
    backlog_ttl_check(n, now);
    if (last_ping_ms == 0) last_ping_ms = now; /* the first period starts now */
    /* Only a top-level master pings: a replica forwards its master's stream
     * (its PINGs included) byte for byte, and a PING of its own would put
     * its replicas' offsets ahead of its master's (Redis's
     * replicationFeedSlaves returns at once when masterhost is set). */
    if (repl_is_replica()) n = 0;
    /* Nor while writes are paused for a manual failover: the offset the
     * master handed its replica must stay the last one (Redis 7.0 skips
     * the ping then too). */
    if (n > 0 && writepause_active()) last_ping_ms = now;
    if (n > 0 && now - last_ping_ms >= cfg_get(repl_ping_replica_period) * 1000) {
        static const char ping[] = "*1\r\n$4\r\nping\r\n"; /* Redis's shared.ping */
        repl_feed_raw(ping, sizeof ping - 1);
        last_ping_ms = now;
    } else if (n == 0) {
        last_ping_ms = now;
    }
}
