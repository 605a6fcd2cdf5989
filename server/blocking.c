/*
 * blocking.c - clients blocked on keys (see blocking.h).
 *
 * Waiters live in per-slot FIFO lists guarded by the slot lock, one record
 * per (client, key). blocking_key_ready() marks the first waiter of the key
 * for a list or sorted set, every stream waiter of the key for a stream (as
 * Redis serves all the stream readers a new entry can serve), stamps each
 * marked waiter with a global wake order, and queues a wake-up for its
 * worker on the writer's thread; dispatch posts the queued wake-ups after
 * releasing the slot locks (an inbox post is a syscall). The woken worker
 * re-runs the saved command through dispatch: served -> the client is
 * unblocked and (lists, sorted sets) the next waiter is woken; nothing to
 * serve (another client was faster, or a stream still has nothing after
 * the reader's ID) -> it stays blocked where it is. Only the owning worker
 * touches a client's blocked_state.
 *
 * Cluster mode: each worker keeps its blocked clients in a list, and its
 * cron checks them against the slot map whenever the map's version changed
 * (a bounded batch per tick): a client whose slot moved away or became
 * unserved, or whose cluster went down, is unblocked with -MOVED or
 * -CLUSTERDOWN, as Redis's clientsCron does once a second.
 */
#include "blocking.h"

#include "cluster_api.h"
#include "config.h"
#include "crc16.h"
#include "dispatch.h"
#include "mem.h"
#include "multi.h"
#include "numparse.h"
#include "slotlock.h"
#include "worker.h"
#include "writepause.h"

#include <math.h>
#include <stdatomic.h>
#include <string.h>

typedef struct waiter {
    struct waiter *next, *prev;   /* in the slot's FIFO list */
    uint64_t client_id;
    worker *w;
    _Atomic bool wake_pending;
    uint64_t woken_at;            /* wake order stamp, valid while wake_pending (slot lock) */
    unsigned type;                /* OBJ_LIST, OBJ_ZSET or OBJ_STREAM: the type it waits for */
    bool serial;                  /* a stream waiter served in turn (XREADGROUP): see wake_waiters */
    int db;
    unsigned slot;
    size_t len;
    char key[];
} waiter;

typedef struct blocked_state {
    waiter **waiters;
    int nwaiters;
    long long deadline_ms;
    enum blocking_timeout_reply timeout_reply;
    uv_timer_t *timer;            /* freed in its close callback */
    arg_t *argv;                  /* saved command */
    int argc;
    char *argbuf;
    bool blocked_again;           /* set by blocking_block during a re-run */
    client *c;
    struct blocked_state *lprev, *lnext; /* the worker's list of blocked clients */
} blocked_state;

/* This worker's blocked clients; the first `redirect_pending` have not been
 * checked against the slot map of version `redirect_version` yet. */
static _Thread_local struct {
    blocked_state *head, *tail;
    int n;
} blocked_list;
static _Thread_local uint64_t redirect_version;
static _Thread_local int redirect_pending;

static void list_append(blocked_state *b) {
    b->lnext = NULL;
    b->lprev = blocked_list.tail;
    if (b->lprev)
        b->lprev->lnext = b;
    else
        blocked_list.head = b;
    blocked_list.tail = b;
    blocked_list.n++;
}

static void list_remove(blocked_state *b) {
    if (b->lprev)
        b->lprev->lnext = b->lnext;
    else
        blocked_list.head = b->lnext;
    if (b->lnext)
        b->lnext->lprev = b->lprev;
    else
        blocked_list.tail = b->lprev;
    blocked_list.n--;
}

static struct {
    waiter *head, *tail;
} slot_waiters[CLUSTER_SLOTS];
static _Atomic long total_waiters;
static _Atomic long total_blocked;
static _Atomic uint64_t wake_clock; /* orders the wake-ups of one client's keys */

typedef struct pending_wake {
    struct pending_wake *next;
    worker *w;
    uint64_t client_id;
} pending_wake;
static _Thread_local pending_wake *wakes;

long blocking_total_blocked(void) { return atomic_load_explicit(&total_blocked, memory_order_relaxed); }
bool blocking_client_is_blocked(const client *c) { return c->bstate != NULL; }

bool blocking_parse_timeout_or_reply(client *c, const arg_t *arg, long long *deadline_ms) {
    long double t;
    if (!parse_ld(arg->ptr, arg->len, &t)) {
        add_reply_error(c, "ERR timeout is not a float or out of range");
        return false;
    }
    /* Redis 7.0 computes (long long)ceill(t * 1000): any positive timeout,
     * however small (0.001, 0.0001), is at least 1 ms and so times out; 0
     * alone blocks forever. A value out of the range of long long (inf,
     * 1e400...) comes out as LLONG_MIN on x86, hence "negative"; a tiny
     * negative rounds up to 0 (block forever). */
    long double ms_ld = ceill(t * 1000.0L);
    if (!(ms_ld < 9223372036854775807.0L) || ms_ld <= -9223372036854775808.0L) {
        add_reply_error(c, "ERR timeout is negative");
        return false;
    }
    long long ms = (long long)ms_ld;
    if (ms < 0) {
        add_reply_error(c, "ERR timeout is negative");
        return false;
    }
    long long now = db_now_ms();
    if (ms > 0 && ms > LLONG_MAX - now) {
        add_reply_error(c, "ERR timeout is out of range");
        return false;
    }
    *deadline_ms = ms > 0 ? now + ms : 0;
    return true;
}

bool blocking_parse_timeout_ms_or_reply(client *c, const arg_t *arg, long long *deadline_ms) {
    long long ms;
    if (!arg_ll_or_reply(c, arg, &ms, "ERR timeout is not an integer or out of range")) return false;
    if (ms < 0) {
        add_reply_error(c, "ERR timeout is negative");
        return false;
    }
    /* Redis 7.0 adds the time to the timeout unchecked: past LLONG_MAX the
     * deadline wraps and never fires, so such a client blocks forever. */
    long long now = db_now_ms();
    *deadline_ms = ms == 0 || ms > LLONG_MAX - now ? 0 : now + ms;
    return true;
}

static void reply_timeout(client *c, enum blocking_timeout_reply kind) {
    if (kind == BLOCK_TIMEOUT_NULL)
        add_reply_null(c);
    else
        add_reply_null_array(c);
}

/* Remove one waiter from its slot list (caller holds the slot lock). */
static void unlink_waiter(waiter *x) {
    if (x->prev)
        x->prev->next = x->next;
    else
        slot_waiters[x->slot].head = x->next;
    if (x->next)
        x->next->prev = x->prev;
    else
        slot_waiters[x->slot].tail = x->prev;
    atomic_fetch_sub_explicit(&total_waiters, 1, memory_order_relaxed);
}

static void queue_wake(worker *w, uint64_t id) {
    pending_wake *p = mem_alloc(sizeof *p);
    p->w = w;
    p->client_id = id;
    p->next = wakes;
    wakes = p;
}

/* Wake the waiters of (db, key) in its slot list that wait for a value of
 * `type` (lock held): the first one for a list or sorted set, all of them
 * for a stream. A BLPOP waiter is not woken by a sorted set appearing under
 * its key, nor a BZPOPMIN waiter by a list, as Redis serves only the
 * clients blocked for the type the key holds. */
static void wake_one(waiter *x) {
    bool expected = false;
    if (atomic_compare_exchange_strong_explicit(&x->wake_pending, &expected, true, memory_order_relaxed,
                                                memory_order_relaxed)) {
        x->woken_at = atomic_fetch_add_explicit(&wake_clock, 1, memory_order_relaxed) + 1;
        queue_wake(x->w, x->client_id);
    }
}

static bool same_key(const waiter *x, int db, const char *key, size_t len) {
    return x->db == db && x->len == len && memcmp(x->key, key, len) == 0;
}

/* Stream waiters are all woken at once (every XREAD reader the new entries
 * can serve is served), except the serial ones (XREADGROUP readers): Redis
 * serves a group's readers in the order they blocked, the first taking the
 * new entries, so only the first serial waiter of the key is woken, and
 * each passes the turn to the next one when its re-run is over, served or
 * not (wake_next_serial). */
static void wake_waiters(int db, unsigned slot, const char *key, size_t len, unsigned type) {
    bool serial_woken = false;
    for (waiter *x = slot_waiters[slot].head; x; x = x->next) {
        if (x->type != type || !same_key(x, db, key, len)) continue;
        if (x->serial) {
            if (serial_woken) continue;
            serial_woken = true;
        }
        wake_one(x);
        if (type != OBJ_STREAM) return;
    }
}

/* The serial waiter after x on x's key, in arrival order, gets its turn
 * (slot lock held). */
static void wake_next_serial(const waiter *x) {
    for (waiter *y = x->next; y; y = y->next)
        if (y->serial && same_key(y, x->db, x->key, x->len)) {
            wake_one(y);
            return;
        }
}

void blocking_key_ready(const dbkey *k, unsigned type) {
    if (atomic_load_explicit(&total_waiters, memory_order_relaxed) == 0) return;
    wake_waiters(k->db, k->slot, k->key, k->len, type);
}

void blocking_dbs_swapped(int a, int b) {
    if (atomic_load_explicit(&total_waiters, memory_order_relaxed) == 0) return;
    for (unsigned s = 0; s < CLUSTER_SLOTS; s++)
        for (waiter *x = slot_waiters[s].head; x; x = x->next) {
            if (x->db != a && x->db != b) continue;
            /* A stream reader re-checks its key whatever it holds now (an
             * XREADGROUP reader whose stream went away answers an error). */
            const entry *e = db_find_raw(x->db, s, x->key, x->len);
            if (x->type == OBJ_STREAM)
                wake_waiters(x->db, s, x->key, x->len, OBJ_STREAM);
            else if (e)
                wake_waiters(x->db, s, x->key, x->len, entry_type(e));
        }
}

void blocking_db_emptied(int db) {
    if (atomic_load_explicit(&total_waiters, memory_order_relaxed) == 0) return;
    for (unsigned s = 0; s < CLUSTER_SLOTS; s++)
        for (waiter *x = slot_waiters[s].head; x; x = x->next)
            if (x->type == OBJ_STREAM && (db < 0 || x->db == db)) wake_one(x); /* serial ones too: all answer */
}

static void on_timer_closed(uv_handle_t *h) { mem_free(h); }

/* Remove c's waiters (locking their slots) and free its blocked state.
 * If `pass_on`, wake the next waiter of each key that had a wake-up for us
 * (not for a stream: its wake-up reached every waiter of the key). */
static void unblock(client *c, bool pass_on) {
    blocked_state *b = c->bstate;
    if (!b) return;
    c->bstate = NULL;
    list_remove(b);
    for (int i = 0; i < b->nwaiters; i++) {
        waiter *x = b->waiters[i];
        slot_lock(x->slot);
        if (pass_on && x->serial && atomic_load_explicit(&x->wake_pending, memory_order_relaxed))
            wake_next_serial(x);
        unlink_waiter(x);
        if (pass_on && x->type != OBJ_STREAM && atomic_load_explicit(&x->wake_pending, memory_order_relaxed)) {
            dbkey k;
            dbkey_init(&k, x->db, x->key, x->len);
            const entry *e = db_lookup(&k, LOOKUP_NOSTATS | LOOKUP_NOTOUCH, NULL);
            if (e && entry_type(e) != OBJ_STREAM) wake_waiters(x->db, x->slot, x->key, x->len, entry_type(e));
        }
        slot_unlock(x->slot);
        mem_free(x);
    }
    mem_free(b->waiters);
    if (b->timer) {
        uv_timer_stop(b->timer);
        uv_close((uv_handle_t *)b->timer, on_timer_closed);
    }
    mem_free(b->argv);
    mem_free(b->argbuf);
    mem_free(b);
    atomic_fetch_sub_explicit(&total_blocked, 1, memory_order_relaxed);
    blocking_send_wakeups();
}

static void on_timeout(uv_timer_t *t) {
    client *c = t->data;
    if (!c->bstate) return;
    unblock(c, true);
    /* Redis 7.0 answers every blocking command's timeout with a null array
     * (BLMOVE and BRPOPLPUSH included); only inside MULTI do those two
     * answer a null bulk (blocking_block). */
    reply_timeout(c, BLOCK_TIMEOUT_NULL_ARRAY);
    client_resume(c);
}

/* Block c on keys; `argv` (c->argc arguments) is the command a wake-up
 * re-runs: c->argv, or a copy with some arguments rewritten. */
static void blocking_block(client *c, const arg_t *argv, const dbkey *keys, int nkeys, unsigned type, bool serial,
                           long long deadline_ms, enum blocking_timeout_reply timeout_reply) {
    if (multi_in_exec()) {
        reply_timeout(c, timeout_reply);
        return;
    }
    if (c->bstate) { /* a re-run found nothing: keep waiting where we are (its keys' slots are locked) */
        c->bstate->blocked_again = true;
        for (int i = 0; i < c->bstate->nwaiters; i++) {
            waiter *x = c->bstate->waiters[i];
            if (x->serial && atomic_load_explicit(&x->wake_pending, memory_order_relaxed)) wake_next_serial(x);
            atomic_store_explicit(&x->wake_pending, false, memory_order_relaxed);
        }
        return;
    }
    blocked_state *b = mem_calloc(1, sizeof *b);
    b->deadline_ms = deadline_ms;
    b->timeout_reply = timeout_reply;
    b->waiters = mem_alloc((size_t)nkeys * sizeof(waiter *));
    for (int i = 0; i < nkeys; i++) {
        bool dup = false;
        for (int j = 0; j < b->nwaiters && !dup; j++)
            dup = b->waiters[j]->db == keys[i].db && b->waiters[j]->len == keys[i].len &&
                  memcmp(b->waiters[j]->key, keys[i].key, keys[i].len) == 0;
        if (dup) continue;
        waiter *x = mem_alloc(sizeof *x + keys[i].len);
        x->client_id = c->id;
        x->w = c->worker;
        atomic_store_explicit(&x->wake_pending, false, memory_order_relaxed);
        x->type = type;
        x->serial = serial;
        x->db = keys[i].db;
        x->slot = keys[i].slot;
        x->len = keys[i].len;
        memcpy(x->key, keys[i].key, keys[i].len);
        x->next = NULL;
        x->prev = slot_waiters[x->slot].tail;
        if (x->prev)
            x->prev->next = x;
        else
            slot_waiters[x->slot].head = x;
        slot_waiters[x->slot].tail = x;
        b->waiters[b->nwaiters++] = x;
        atomic_fetch_add_explicit(&total_waiters, 1, memory_order_relaxed);
    }
    size_t total = 0;
    for (int i = 0; i < c->argc; i++) total += argv[i].len;
    b->argc = c->argc;
    b->argv = mem_alloc((size_t)c->argc * sizeof(arg_t));
    b->argbuf = mem_alloc(total ? total : 1);
    size_t off = 0;
    for (int i = 0; i < c->argc; i++) {
        memcpy(b->argbuf + off, argv[i].ptr, argv[i].len);
        b->argv[i].ptr = b->argbuf + off;
        b->argv[i].len = argv[i].len;
        off += argv[i].len;
    }
    b->c = c;
    c->bstate = b;
    list_append(b);
    atomic_fetch_add_explicit(&total_blocked, 1, memory_order_relaxed);
    if (deadline_ms > 0 && c->worker) {
        b->timer = mem_alloc(sizeof(uv_timer_t));
        uv_timer_init(&c->worker->loop, b->timer);
        b->timer->data = c;
        long long delay = deadline_ms - mstime();
        uv_timer_start(b->timer, on_timeout, delay > 0 ? (uint64_t)delay : 0, 0);
    }
}

/* Block on c->argv[first .. first+nkeys-1], saving `argv` as the command. */
static void block_on_args(client *c, const arg_t *argv, int first, int nkeys, unsigned type, bool serial,
                          long long deadline_ms, enum blocking_timeout_reply timeout_reply) {
    dbkey stack[8] = {{0}};
    dbkey *keys = nkeys <= 8 ? stack : mem_alloc((size_t)nkeys * sizeof(dbkey));
    for (int i = 0; i < nkeys; i++) dbkey_init(&keys[i], c->db, c->argv[first + i].ptr, c->argv[first + i].len);
    blocking_block(c, argv, keys, nkeys, type, serial, deadline_ms, timeout_reply);
    if (keys != stack) mem_free(keys);
}

void blocking_block_on_args(client *c, int first, int nkeys, unsigned type, long long deadline_ms,
                            enum blocking_timeout_reply timeout_reply) {
    block_on_args(c, c->argv, first, nkeys, type, false, deadline_ms, timeout_reply);
}

void blocking_block_stream(client *c, int first, int nkeys, const arg_t *ids, long long deadline_ms) {
    if (!ids || c->bstate) { /* nothing to rewrite, or a re-run (whose IDs are the saved ones) */
        block_on_args(c, c->argv, first, nkeys, OBJ_STREAM, !ids, deadline_ms, BLOCK_TIMEOUT_NULL_ARRAY);
        return;
    }
    arg_t stack[32];
    arg_t *argv = c->argc <= 32 ? stack : mem_alloc((size_t)c->argc * sizeof(arg_t));
    memcpy(argv, c->argv, (size_t)c->argc * sizeof(arg_t));
    memcpy(argv + first + nkeys, ids, (size_t)nkeys * sizeof(arg_t));
    block_on_args(c, argv, first, nkeys, OBJ_STREAM, false, deadline_ms, BLOCK_TIMEOUT_NULL_ARRAY);
    if (argv != stack) mem_free(argv);
}

uint64_t blocking_key_woken_at(const client *c, const arg_t *key) {
    const blocked_state *b = c->bstate;
    if (!b) return 0;
    for (int i = 0; i < b->nwaiters; i++) {
        const waiter *x = b->waiters[i];
        if (x->db == c->db && x->len == key->len && memcmp(x->key, key->ptr, key->len) == 0)
            return atomic_load_explicit(&x->wake_pending, memory_order_relaxed) ? x->woken_at : 0;
    }
    return 0;
}

static void retry_client(client *c);

/* Inbox message on the waiter's worker: re-run its command. */
static void retry_blocked(worker *w, void *arg) {
    client *c = worker_client_by_id(w, (uint64_t)(uintptr_t)arg);
    if (!c || !c->bstate || (c->flags & CF_CLOSING)) return;
    /* Writes are paused (a master handing over to its replica): a blocking
     * pop stays blocked, as Redis keeps it, and is retried when the pause
     * ends (writepause.c resumes postponed clients: blocking_resume); once
     * the slot moved away, blocking_cron answers it with the redirect. */
    if (writepause_active()) {
        writepause_postpone(c);
        return;
    }
    retry_client(c);
}

void blocking_resume(client *c) {
    if (c->bstate && !(c->flags & CF_CLOSING)) retry_client(c);
}

static void retry_client(client *c) {
    blocked_state *b = c->bstate;
    b->blocked_again = false;
    client_run_command(c, b->argv, b->argc);
    if (c->bstate && !c->bstate->blocked_again) { /* served */
        /* Wake the next waiter of each key that still has data. The client
         * is unblocked before its reply is sent, so a client that has read
         * its reply never sees itself counted in blocked_clients (as in
         * Redis, where the reply leaves only after the unblock). */
        for (int i = 0; i < b->nwaiters; i++)
            if (!b->waiters[i]->serial) /* a serial one passes its turn on only where it had it */
                atomic_store_explicit(&b->waiters[i]->wake_pending, true, memory_order_relaxed);
        unblock(c, true);
        client_resume(c);
    } else {
        client_flush(c);
    }
}

void blocking_send_wakeups(void) {
    pending_wake *p = wakes;
    wakes = NULL;
    /* the list is LIFO; post in the order the wake-ups were raised */
    pending_wake *rev = NULL;
    while (p) {
        pending_wake *n = p->next;
        p->next = rev;
        rev = p;
        p = n;
    }
    while (rev) {
        pending_wake *n = rev->next;
        worker_post(rev->w, retry_blocked, (void *)(uintptr_t)rev->client_id);
        mem_free(rev);
        rev = n;
    }
}

void blocking_client_closed(client *c) { unblock(c, true); }

#define REDIRECT_BATCH 1000

void blocking_cron(void) {
    if (!blocked_list.head || !cfg_get(cluster_enabled)) return;
    uint64_t v = route_map_version();
    if (v != redirect_version) {
        redirect_version = v;
        redirect_pending = blocked_list.n;
    }
    /* Checked clients that stay blocked go to the tail, so the head holds
     * the unchecked ones (clients that block later were routed on a map at
     * least this new). */
    for (int budget = REDIRECT_BATCH; redirect_pending > 0 && budget > 0 && blocked_list.head; budget--) {
        blocked_state *b = blocked_list.head;
        redirect_pending--;
        char err[ROUTE_ERR_MAX];
        if (b->nwaiters > 0 && route_blocked_error(b->c, b->waiters[0]->slot, err, sizeof err)) {
            client *c = b->c;
            unblock(c, true);
            add_reply_error(c, err);
            client_resume(c);
        } else {
            list_remove(b);
            list_append(b);
        }
    }
}
