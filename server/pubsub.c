/*
 * pubsub.c - publish/subscribe (see pubsub.h): the subscription registry,
 * delivery across workers, and SUBSCRIBE / UNSUBSCRIBE / PSUBSCRIBE /
 * PUNSUBSCRIBE / SSUBSCRIBE / SUNSUBSCRIBE / PUBLISH / SPUBLISH / PUBSUB.
 *
 * Design choices a reader must know:
 * - One registry under one writer-preferring rwlock: for each channel, shard
 *   channel and pattern, its subscribers as client ids grouped by worker; and
 *   for each subscribed client, its own sets (keyed by client id, so the
 *   client struct needs only its three counters). A publish takes the read
 *   lock, snapshots the receivers and hands ONE delivery per worker (the
 *   message and the ids) to that worker's delivery queue; the worker looks
 *   each id up (a client gone meanwhile is skipped) and appends the message.
 *   A queue is FIFO, so one publisher's messages arrive in publish order.
 *   A queue costs one inbox message per batch, not per publish, and the
 *   appended clients are written once per batch (one write per subscriber
 *   per batch instead of per message).
 * - Receivers on the publisher's own worker get the message appended at once
 *   (so, as in Redis, a RESP3 client publishing to itself sees the message
 *   before the reply), after the deliveries other workers queued for this
 *   one (a publish that happened before reaches them before). Under a slot lock (SPUBLISH; PUBLISH inside EXEC)
 *   only memory is touched: the local appends happen, but queueing for other
 *   workers and writing wait in a per-thread list that
 *   pubsub_flush_pending() sends after dispatch has released the locks.
 * - A subscriber's output is bounded by client-output-buffer-limit pubsub,
 *   checked on every delivery (pubsub_check_output_limit).
 */
#include "pubsub.h"

#include "cluster_api.h"
#include "propagate.h"

#include "command_modules.h"
#include "commands.h"
#include "config.h"
#include "crc16.h"
#include "db.h"
#include "dict.h"
#include "glob.h"
#include "log.h"
#include "mem.h"
#include "multi.h"
#include "stats.h"
#include "worker.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

enum { KIND_CHANNEL, KIND_PATTERN, KIND_SHARD, KIND_COUNT };

/* ---------------------------------------------------------------- registry */

typedef struct {
    uint64_t *ids;
    int n, cap;
} id_vec;

/* Subscribers of one channel, shard channel or pattern. */
typedef struct sub_entry {
    long total;          /* clients subscribed (sum of the vectors) */
    int nw;              /* per_worker length */
    id_vec *per_worker;  /* client ids by worker index */
    size_t len;
    char name[];
} sub_entry;

typedef struct {
    dict *map;           /* name -> sub_entry (u.ptr) */
    sub_entry **order;   /* patterns: in creation order, for matching */
    int norder, order_cap;
    _Atomic long count;  /* entries in map (INFO, PUBSUB NUMPAT, fast path) */
} sub_table;

/* One client's own subscriptions: name -> insertion sequence (u.i). */
typedef struct {
    dict *set[KIND_COUNT];
    int64_t seq;
} client_subs;

static pthread_rwlock_t reg_lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
static sub_table tables[KIND_COUNT];
static dict *client_map; /* 8-byte client id -> client_subs (u.ptr) */

static const char *const kind_sub_word[KIND_COUNT] = {"subscribe", "psubscribe", "ssubscribe"};
static const char *const kind_unsub_word[KIND_COUNT] = {"unsubscribe", "punsubscribe", "sunsubscribe"};

static void reg_ensure_init(void) {
    for (int k = 0; k < KIND_COUNT; k++)
        if (!tables[k].map) tables[k].map = dict_new();
    if (!client_map) client_map = dict_new();
}

static sub_entry *table_find(const sub_table *t, const char *name, size_t len) {
    if (!t->map) return NULL;
    dict_entry *e = dict_find(t->map, name, len);
    return e ? e->u.ptr : NULL;
}

static client_subs *client_subs_find(uint64_t id) {
    if (!client_map) return NULL;
    dict_entry *e = dict_find(client_map, (const char *)&id, sizeof id);
    return e ? e->u.ptr : NULL;
}

static void sub_entry_free(sub_entry *e) {
    for (int w = 0; w < e->nw; w++) mem_free(e->per_worker[w].ids);
    mem_free(e->per_worker);
    mem_free(e);
}

/* Add client id (of worker widx) to name's subscribers. Write lock held. */
static void table_add(int kind, const char *name, size_t len, uint64_t id, int widx) {
    sub_table *t = &tables[kind];
    sub_entry *e = table_find(t, name, len);
    if (!e) {
        e = mem_alloc(sizeof *e + len);
        e->total = 0;
        e->nw = nworkers > widx ? nworkers : widx + 1;
        e->per_worker = mem_calloc((size_t)e->nw, sizeof(id_vec));
        e->len = len;
        memcpy(e->name, name, len);
        dict_add(t->map, name, len, NULL, 0)->u.ptr = e;
        if (kind == KIND_PATTERN) {
            if (t->norder == t->order_cap) {
                t->order_cap = t->order_cap ? t->order_cap * 2 : 16;
                t->order = mem_realloc(t->order, (size_t)t->order_cap * sizeof(sub_entry *));
            }
            t->order[t->norder++] = e;
        }
        atomic_fetch_add_explicit(&t->count, 1, memory_order_relaxed);
    }
    if (widx >= e->nw) { /* cannot happen with a fixed worker count; stay safe */
        e->per_worker = mem_realloc(e->per_worker, (size_t)(widx + 1) * sizeof(id_vec));
        memset(e->per_worker + e->nw, 0, (size_t)(widx + 1 - e->nw) * sizeof(id_vec));
        e->nw = widx + 1;
    }
    id_vec *v = &e->per_worker[widx];
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 4;
        v->ids = mem_realloc(v->ids, (size_t)v->cap * sizeof(uint64_t));
    }
    v->ids[v->n++] = id;
    e->total++;
}

/* Remove client id from name's subscribers; drop the entry when empty. */
static void table_remove(int kind, const char *name, size_t len, uint64_t id, int widx) {
    sub_table *t = &tables[kind];
    sub_entry *e = table_find(t, name, len);
    if (!e || widx >= e->nw) return;
    id_vec *v = &e->per_worker[widx];
    for (int i = 0; i < v->n; i++) {
        if (v->ids[i] != id) continue;
        v->ids[i] = v->ids[--v->n];
        e->total--;
        break;
    }
    if (v->n == 0 && v->cap > 4) { /* give back a big vector once drained */
        mem_free(v->ids);
        v->ids = NULL;
        v->cap = 0;
    }
    if (e->total > 0) return;
    if (kind == KIND_PATTERN) {
        for (int i = 0; i < t->norder; i++) {
            if (t->order[i] != e) continue;
            memmove(t->order + i, t->order + i + 1, (size_t)(t->norder - i - 1) * sizeof(sub_entry *));
            t->norder--;
            break;
        }
    }
    dict_delete(t->map, name, len);
    atomic_fetch_sub_explicit(&t->count, 1, memory_order_relaxed);
    sub_entry_free(e);
}

/* Subscribe c to name; false if it already was. Write lock held. */
static bool reg_subscribe(client *c, int kind, const char *name, size_t len) {
    reg_ensure_init();
    client_subs *cs = client_subs_find(c->id);
    if (!cs) {
        cs = mem_calloc(1, sizeof *cs);
        dict_add(client_map, (const char *)&c->id, sizeof c->id, NULL, 0)->u.ptr = cs;
    }
    if (!cs->set[kind]) cs->set[kind] = dict_new();
    if (dict_find(cs->set[kind], name, len)) return false;
    dict_add(cs->set[kind], name, len, NULL, 0)->u.i = cs->seq++;
    table_add(kind, name, len, c->id, c->worker ? c->worker->id : 0);
    return true;
}

static void client_subs_free(uint64_t id, client_subs *cs) {
    for (int k = 0; k < KIND_COUNT; k++) dict_free(cs->set[k]);
    mem_free(cs);
    dict_delete(client_map, (const char *)&id, sizeof id);
}

/* Unsubscribe c from name; false if it was not subscribed. Write lock held. */
static bool reg_unsubscribe(client *c, int kind, const char *name, size_t len) {
    client_subs *cs = client_subs_find(c->id);
    if (!cs || !cs->set[kind] || !dict_find(cs->set[kind], name, len)) return false;
    table_remove(kind, name, len, c->id, c->worker ? c->worker->id : 0);
    dict_delete(cs->set[kind], name, len); /* name may point into the entry: last use */
    bool empty = true;
    for (int k = 0; k < KIND_COUNT; k++)
        if (cs->set[k] && dict_size(cs->set[k]) > 0) empty = false;
    if (empty) client_subs_free(c->id, cs);
    return true;
}

static _Atomic int *kind_counter(client *c, int kind) {
    return kind == KIND_CHANNEL ? &c->sub_channels : kind == KIND_PATTERN ? &c->sub_patterns : &c->sub_shard;
}

/* The count a (un)subscribe confirmation carries: channels + patterns, or
 * shard channels alone. */
static long reply_count(const client *c, int kind) {
    return kind == KIND_SHARD ? c->sub_shard : (long)c->sub_channels + c->sub_patterns;
}

/* ---------------------------------------------------------------- delivery */

/* One published message, shared by the per-worker deliveries. */
typedef struct {
    _Atomic int refs;
    int kind;            /* KIND_CHANNEL or KIND_SHARD */
    size_t clen, mlen;
    const char *chan, *msg;
    int npat;
    struct {
        const char *p;
        size_t len;
    } pat[];             /* matched patterns; then the bytes of all strings */
} pub_body;

/* The receivers of one message on one worker, in delivery order. */
typedef struct pub_delivery {
    struct pub_delivery *next; /* pending list / worker queue link */
    pub_body *body;
    worker *w;
    bool appended;       /* local, under a slot lock: appended; limits and writes are due */
    int n;
    struct {
        uint64_t id;
        int pat;         /* -1: channel subscriber, else index in body->pat */
    } to[];
} pub_delivery;

static _Thread_local pub_delivery *pending_head, *pending_tail;

/* PUBLISH / SPUBLISH bound for the cluster bus while a slot lock is held
 * (handing over wakes the bus thread: a syscall), in publish order. */
typedef struct bus_pending {
    struct bus_pending *next;
    bool sharded;
    size_t clen, mlen;
    char data[];
} bus_pending;
static _Thread_local bus_pending *bus_head, *bus_tail;

static void delivery_free(pub_delivery *d) {
    if (atomic_fetch_sub_explicit(&d->body->refs, 1, memory_order_acq_rel) == 1) mem_free(d->body);
    mem_free(d);
}

static void write_message(client *c, const pub_body *b, int pat) {
    reply_buf *o = &c->out;
    if (pat >= 0) {
        reply_push(o, c->resp, 4);
        reply_bulk(o, "pmessage", 8);
        reply_bulk(o, b->pat[pat].p, b->pat[pat].len);
    } else if (b->kind == KIND_SHARD) {
        reply_push(o, c->resp, 3);
        reply_bulk(o, "smessage", 8);
    } else {
        reply_push(o, c->resp, 3);
        reply_bulk(o, "message", 7);
    }
    reply_bulk(o, b->chan, b->clen);
    reply_bulk(o, b->msg, b->mlen);
}

/* Bytes in c's reply buffer not yet confirmed written. */
static size_t output_pending(const client *c) {
    size_t sent = c->out.head ? c->out.head->sent : 0;
    return c->out.bytes - sent;
}

int pubsub_obuf_class(const client *c) {
    return pubsub_client_count(c) > 0 ? CLIENT_CLASS_PUBSUB : CLIENT_CLASS_NORMAL;
}

bool pubsub_check_output_limit(client *c) {
    if (c->flags & CF_CLOSING) return true;
    int cls = pubsub_obuf_class(c);
    if (cls != CLIENT_CLASS_PUBSUB) return false; /* conn.c enforces the others */
    long long pending = (long long)output_pending(c);
    long long hard = cfg_get(obuf_hard[cls]), soft = cfg_get(obuf_soft[cls]);
    bool over = hard > 0 && pending > hard;
    if (!over && soft > 0 && pending > soft) {
        long long now = mstime();
        if (!c->obuf_soft_since) c->obuf_soft_since = now;
        over = now - c->obuf_soft_since > cfg_get(obuf_soft_seconds[cls]) * 1000;
    } else if (!over) {
        c->obuf_soft_since = 0;
    }
    if (!over) return false;
    log_warning("Client id=%llu addr=%s scheduled to be closed ASAP for overcoming of output buffer limits.",
                (unsigned long long)c->id, c->addr);
    stat_inc(STAT_CLIENT_OBUF_LIMIT_DISCONNECTIONS);
    client_close(c);
    return true;
}

/* Clients of this worker that got messages since the last flush round.
 * Writing each message with its own syscall would cost a write per message
 * per subscriber; instead deliveries only append, and every dirty client is
 * written once at the end of a drain batch or, for deliveries made by a
 * local publish, by one flush message posted to the worker's own inbox.
 * Fixed-size thread-local arrays: nothing to free when the thread ends. */
#define DIRTY_MAX 512
#define DIRTY_HASH 1024 /* power of two, > 2 * DIRTY_MAX */
static _Thread_local uint64_t dirty_ids[DIRTY_MAX];
static _Thread_local uint64_t dirty_hash[DIRTY_HASH]; /* 0 = free (ids start at 1) */
static _Thread_local int ndirty;
static _Thread_local bool flush_posted;
static _Thread_local bool in_drain; /* a drain batch runs (and flushes at its end) */

static void flush_dirty(void) {
    int n = ndirty;
    ndirty = 0;
    memset(dirty_hash, 0, sizeof dirty_hash);
    for (int i = 0; i < n; i++) {
        client *c = worker_client_by_id(current_worker, dirty_ids[i]);
        if (c) client_flush(c);
    }
}

static void flush_dirty_on_worker(worker *w, void *arg) {
    (void)w;
    (void)arg;
    flush_posted = false;
    flush_dirty();
}

static unsigned dirty_slot(uint64_t id) {
    return (unsigned)((id * 0x9E3779B97F4A7C15ull) >> 54) & (DIRTY_HASH - 1);
}

static void mark_dirty(uint64_t id) {
    unsigned h = dirty_slot(id);
    while (dirty_hash[h]) {
        if (dirty_hash[h] == id) return;
        h = (h + 1) & (DIRTY_HASH - 1);
    }
    if (ndirty == DIRTY_MAX) { /* many receivers: write this batch now */
        flush_dirty();
        h = dirty_slot(id);
    }
    dirty_hash[h] = id;
    dirty_ids[ndirty++] = id;
    if (!flush_posted && !in_drain) { /* a drain flushes after its batch */
        flush_posted = true;
        worker_post(current_worker, flush_dirty_on_worker, NULL);
    }
}

#define EAGER_FLUSH_BYTES (64 * 1024)

/* After appending to c: write now if a batch has piled up (so a drain of
 * many messages does not hold them all in memory and trip the output limit
 * of a subscriber that reads fine), enforce the limit, schedule the write. */
static void delivered(client *c) {
    if (!c->writing && output_pending(c) >= EAGER_FLUSH_BYTES) client_flush(c);
    if (!pubsub_check_output_limit(c)) mark_dirty(c->id);
}

/* Append d's messages to its clients (owner thread of d->w). `finish`:
 * also check limits and schedule the writes; without it (a slot lock is
 * held) only memory is touched and pubsub_flush_pending() finishes later.
 * A client that dropped every subscription of the message's kind while it
 * was in flight is skipped: in RESP2 it may have left subscriber mode, and a
 * push there would be read as the reply to its next command. */
static void delivery_append(pub_delivery *d, bool finish) {
    for (int i = 0; i < d->n; i++) {
        client *c = worker_client_by_id(d->w, d->to[i].id);
        if (!c || (c->flags & CF_CLOSING)) continue;
        int pat = d->to[i].pat;
        int have = pat >= 0 ? c->sub_patterns : d->body->kind == KIND_SHARD ? c->sub_shard : c->sub_channels;
        if (have == 0) continue;
        write_message(c, d->body, pat);
        if (finish) delivered(c);
    }
}

/* Deliveries bound for one worker. Producers append under a short mutex
 * and post one inbox message when the queue was idle, not one per publish:
 * under load the inbox sees a message per drain, and a preempted producer
 * makes others wait on a futex rather than spin in the lock-free ring. One
 * queue keeps each producer's messages in order.
 * The worker drains in batches of about DRAIN_BYTES and writes the clients
 * after each batch; an unfinished drain continues from a uv_idle handle, so
 * the loop does I/O between batches (a subscriber that reads keeps its
 * socket moving instead of piling a burst up against its output limit). The
 * handle exists only while a drain is unfinished. `scheduled` stays set
 * from the inbox post until a drain finds the queue empty. */
typedef struct {
    pthread_mutex_t mu;
    pub_delivery *head, *tail;
    bool scheduled;      /* a drain is posted or running */
} __attribute__((aligned(64))) worker_queue;

static worker_queue wqueues[WORKER_MAX] = {[0 ... WORKER_MAX - 1] = {.mu = PTHREAD_MUTEX_INITIALIZER}};

#define DRAIN_BYTES (256 * 1024)

static _Thread_local uv_idle_t *drain_idle; /* this worker's unfinished drain */

/* Deliver one batch from q; true when q was found empty (and is no longer
 * scheduled). */
static bool drain_batch(worker_queue *q) {
    size_t bytes = 0;
    bool empty = false;
    in_drain = true;
    while (bytes < DRAIN_BYTES) {
        pthread_mutex_lock(&q->mu);
        pub_delivery *d = q->head;
        if (d) {
            q->head = d->next;
            if (!q->head) q->tail = NULL;
        } else {
            q->scheduled = false;
        }
        pthread_mutex_unlock(&q->mu);
        if (!d) {
            empty = true;
            break;
        }
        bytes += (d->body->clen + d->body->mlen + 32) * (size_t)d->n;
        delivery_append(d, true);
        delivery_free(d);
    }
    in_drain = false;
    flush_dirty();
    return empty;
}

static void drain_idle_closed(uv_handle_t *h) { mem_free(h); }

static void drain_continue(uv_idle_t *h) {
    if (!drain_batch(&wqueues[current_worker->id])) return;
    uv_idle_stop(h);
    uv_close((uv_handle_t *)h, drain_idle_closed);
    drain_idle = NULL;
}

static void drain_on_worker(worker *w, void *arg) {
    if (drain_idle) return; /* the running drain will get there */
    if (drain_batch(arg)) return;
    drain_idle = mem_alloc(sizeof *drain_idle);
    uv_idle_init(&w->loop, drain_idle);
    uv_idle_start(drain_idle, drain_continue);
}

static void queue_post(pub_delivery *d) {
    worker *w = d->w; /* d is the consumer's once queued (drain_queued_here may free it at once) */
    worker_queue *q = &wqueues[w->id];
    d->next = NULL;
    pthread_mutex_lock(&q->mu);
    if (q->tail)
        q->tail->next = d;
    else
        q->head = d;
    q->tail = d;
    bool post = !q->scheduled;
    q->scheduled = true;
    pthread_mutex_unlock(&q->mu);
    if (post) worker_post(w, drain_on_worker, q);
}

static void pending_push(pub_delivery *d) {
    d->next = NULL;
    if (pending_tail)
        pending_tail->next = d;
    else
        pending_head = d;
    pending_tail = d;
}

/* Cluster mode: the message goes to the other nodes too (every node, or
 * myself's shard), now or, under a slot lock, at pubsub_flush_pending. */
static void to_cluster(int kind, const char *ch, size_t clen, const char *msg, size_t mlen, bool deferred) {
    bool sharded = kind == KIND_SHARD;
    if (!deferred) {
        bus_publish(ch, clen, msg, mlen, sharded);
        return;
    }
    bus_pending *p = mem_alloc(sizeof *p + clen + mlen);
    p->next = NULL;
    p->sharded = sharded;
    p->clen = clen;
    p->mlen = mlen;
    memcpy(p->data, ch, clen);
    memcpy(p->data + clen, msg, mlen);
    if (bus_tail)
        bus_tail->next = p;
    else
        bus_head = p;
    bus_tail = p;
}

static void flush_bus_pending(void) {
    bus_pending *p = bus_head;
    bus_head = bus_tail = NULL;
    while (p) {
        bus_pending *next = p->next;
        bus_publish(p->data, p->clen, p->data + p->clen, p->mlen, p->sharded);
        mem_free(p);
        p = next;
    }
}

void pubsub_flush_pending(void) {
    if (bus_head) flush_bus_pending();
    pub_delivery *d = pending_head;
    pending_head = pending_tail = NULL;
    while (d) {
        pub_delivery *next = d->next;
        if (d->appended) {
            for (int i = 0; i < d->n; i++) {
                client *c = worker_client_by_id(d->w, d->to[i].id);
                if (c && !(c->flags & CF_CLOSING)) delivered(c);
            }
            delivery_free(d);
        } else {
            queue_post(d);
        }
        d = next;
    }
}

/* Before a message to this worker's own subscribers: the deliveries other
 * workers queued here go first. A publish that happened before this one
 * (a keyspace event of a command whose reply the publisher has read) is
 * then delivered before it, as from Redis's single thread. */
static void drain_queued_here(void) {
    worker_queue *q = &wqueues[current_worker->id];
    pthread_mutex_lock(&q->mu);
    pub_delivery *last = q->tail; /* up to here: what was queued before this publish */
    pthread_mutex_unlock(&q->mu);
    if (!last) return;
    in_drain = true; /* the writes are posted below, not made inside the command */
    for (bool done = false; !done;) {
        pthread_mutex_lock(&q->mu);
        pub_delivery *d = q->head;
        if (d) {
            q->head = d->next;
            if (!q->head) q->tail = NULL;
        }
        pthread_mutex_unlock(&q->mu);
        if (!d) break;
        done = d == last; /* (only this thread frees deliveries: no reuse) */
        delivery_append(d, true);
        delivery_free(d);
    }
    in_drain = false;
    if (ndirty && !flush_posted) {
        flush_posted = true;
        worker_post(current_worker, flush_dirty_on_worker, NULL);
    }
}

static void route(pub_delivery *d, bool deferred) {
    if (d->w == current_worker) {
        if (!deferred && !in_drain) drain_queued_here();
        delivery_append(d, !deferred);
        if (deferred) {
            d->appended = true;
            pending_push(d);
        } else {
            delivery_free(d);
        }
    } else if (deferred) {
        pending_push(d);
    } else {
        queue_post(d);
    }
}

#define MATCH_STACK 16

/* Publish to kind's subscribers (and, for channels, pattern subscribers);
 * returns the receiver count. `deferred`: a slot lock is held, so queue
 * everything but the memory-only appends for pubsub_flush_pending(). */
static long publish(int kind, const char *ch, size_t clen, const char *msg, size_t mlen, bool deferred) {
    if (!deferred && (pending_head || bus_head)) pubsub_flush_pending();
    if (atomic_load_explicit(&tables[kind].count, memory_order_relaxed) == 0 &&
        (kind != KIND_CHANNEL || atomic_load_explicit(&tables[KIND_PATTERN].count, memory_order_relaxed) == 0))
        return 0;

    sub_entry *match_stack[MATCH_STACK], **match = match_stack;
    int nmatch = 0, match_cap = MATCH_STACK;
    pub_delivery *ds[WORKER_MAX];
    int nds = 0;
    long total = 0;

    pthread_rwlock_rdlock(&reg_lock);
    sub_entry *ce = table_find(&tables[kind], ch, clen);
    if (ce) total += ce->total;
    if (kind == KIND_CHANNEL) {
        const sub_table *pt = &tables[KIND_PATTERN];
        for (int i = 0; i < pt->norder; i++) {
            sub_entry *p = pt->order[i];
            if (!glob_match(p->name, p->len, ch, clen, false)) continue;
            if (nmatch == match_cap) {
                match_cap *= 2;
                if (match == match_stack) {
                    match = mem_alloc((size_t)match_cap * sizeof(sub_entry *));
                    memcpy(match, match_stack, sizeof match_stack);
                } else {
                    match = mem_realloc(match, (size_t)match_cap * sizeof(sub_entry *));
                }
            }
            match[nmatch++] = p;
            total += p->total;
        }
    }
    if (total > 0 && workers) {
        size_t size = sizeof(pub_body) + (size_t)nmatch * sizeof(((pub_body *)0)->pat[0]) + clen + mlen;
        for (int i = 0; i < nmatch; i++) size += match[i]->len;
        pub_body *b = mem_alloc(size);
        char *p = (char *)&b->pat[nmatch];
        b->kind = kind;
        b->npat = nmatch;
        b->clen = clen;
        b->mlen = mlen;
        memcpy(p, ch, clen);
        b->chan = p;
        p += clen;
        memcpy(p, msg, mlen);
        b->msg = p;
        p += mlen;
        for (int i = 0; i < nmatch; i++) {
            memcpy(p, match[i]->name, match[i]->len);
            b->pat[i].p = p;
            b->pat[i].len = match[i]->len;
            p += match[i]->len;
        }
        int nw = nworkers > 0 ? nworkers : 1;
        for (int w = 0; w < nw && w < WORKER_MAX; w++) {
            int n = ce && w < ce->nw ? ce->per_worker[w].n : 0;
            for (int i = 0; i < nmatch; i++) n += w < match[i]->nw ? match[i]->per_worker[w].n : 0;
            if (n == 0) continue;
            pub_delivery *d = mem_alloc(sizeof *d + (size_t)n * sizeof(d->to[0]));
            d->next = NULL;
            d->body = b;
            d->w = &workers[w];
            d->appended = false;
            d->n = 0;
            if (ce && w < ce->nw)
                for (int j = 0; j < ce->per_worker[w].n; j++) {
                    d->to[d->n].id = ce->per_worker[w].ids[j];
                    d->to[d->n++].pat = -1;
                }
            for (int i = 0; i < nmatch; i++) {
                if (w >= match[i]->nw) continue;
                const id_vec *v = &match[i]->per_worker[w];
                for (int j = 0; j < v->n; j++) {
                    d->to[d->n].id = v->ids[j];
                    d->to[d->n++].pat = i;
                }
            }
            ds[nds++] = d;
        }
        atomic_store_explicit(&b->refs, nds, memory_order_relaxed);
        if (nds == 0) mem_free(b);
    }
    pthread_rwlock_unlock(&reg_lock);
    if (match != match_stack) mem_free(match);
    for (int i = 0; i < nds; i++) route(ds[i], deferred);
    return total;
}

long pubsub_publish(const char *channel, size_t clen, const char *msg, size_t mlen) {
    return publish(KIND_CHANNEL, channel, clen, msg, mlen, false);
}

long pubsub_publish_shard(const char *channel, size_t clen, const char *msg, size_t mlen) {
    return publish(KIND_SHARD, channel, clen, msg, mlen, false);
}

/* ---------------------------------------------------------------- client API */

void pubsub_unsubscribe_all(client *c) {
    if (pubsub_client_count(c) == 0) return;
    pthread_rwlock_wrlock(&reg_lock);
    client_subs *cs = client_subs_find(c->id);
    if (cs) {
        int widx = c->worker ? c->worker->id : 0;
        for (int k = 0; k < KIND_COUNT; k++) {
            if (!cs->set[k]) continue;
            dict_iter it;
            dict_iter_init(&it);
            for (dict_entry *e = dict_iter_next(cs->set[k], &it); e; e = dict_iter_next(cs->set[k], &it))
                table_remove(k, dict_key(e), e->klen, c->id, widx);
        }
        client_subs_free(c->id, cs);
    }
    pthread_rwlock_unlock(&reg_lock);
    c->sub_channels = c->sub_patterns = c->sub_shard = 0;
}

static void reply_confirm(client *c, const char *word, const char *name, size_t len, long count);

/* The shard channels of lost slots, for one worker: each channel's name
 * and the ids of that worker's clients subscribed to it when the list was
 * made (the worker re-checks each one). */
typedef struct shard_drop {
    struct shard_drop *next;
    size_t len;
    int n;
    uint64_t *ids; /* points into the same allocation, after the name */
    char name[];
} shard_drop;

/* On the subscribers' worker: unsubscribe each client still subscribed and
 * tell it with a "sunsubscribe" push (Redis's pubsubShardUnsubscribeAllClients). */
static void shard_drop_on_worker(worker *w, void *arg) {
    shard_drop *list = arg;
    uint64_t *told = NULL;
    int ntold = 0, cap = 0;
    pthread_rwlock_wrlock(&reg_lock);
    for (shard_drop *d = list; d; d = d->next) {
        for (int i = 0; i < d->n; i++) {
            client *c = worker_client_by_id(w, d->ids[i]);
            if (!c || !reg_unsubscribe(c, KIND_SHARD, d->name, d->len)) continue;
            c->sub_shard--;
            reply_confirm(c, kind_unsub_word[KIND_SHARD], d->name, d->len, reply_count(c, KIND_SHARD));
            if (ntold == cap) {
                cap = cap ? cap * 2 : 16;
                told = mem_realloc(told, (size_t)cap * sizeof *told);
            }
            told[ntold++] = c->id;
        }
    }
    pthread_rwlock_unlock(&reg_lock);
    /* Written (or closed, over the output limit) with no registry lock held. */
    for (int i = 0; i < ntold; i++) {
        client *c = worker_client_by_id(w, told[i]);
        if (c && !(c->flags & CF_CLOSING)) delivered(c);
    }
    mem_free(told);
    while (list) {
        shard_drop *next = list->next;
        mem_free(list);
        list = next;
    }
}

/* The lost slots, shared by the jobs posted to every worker. */
typedef struct lost_slots {
    _Atomic int refs;
    uint64_t words[16384 / 64];
} lost_slots;

/* On each worker: its own clients' shard channels in the lost slots that
 * myself's shard still does not serve now. Inbox order settles the race
 * with SSUBSCRIBE: one this worker ran before the job is dropped here; one
 * after it was routed by the map published before the job was posted (a
 * MOVED). A slot served again meanwhile (DELSLOTS then ADDSLOTS) keeps
 * its subscribers. */
static void remove_shard_slots_on_worker(worker *w, void *arg) {
    lost_slots *ls = arg;
    shard_drop *list = NULL;
    int wi = w->id;
    pthread_rwlock_rdlock(&reg_lock);
    const dict *map = tables[KIND_SHARD].map;
    dict_iter it;
    dict_iter_init(&it);
    for (dict_entry *e = map ? dict_iter_next(map, &it) : NULL; e; e = dict_iter_next(map, &it)) {
        const sub_entry *se = e->u.ptr;
        if (wi >= se->nw || se->per_worker[wi].n == 0) continue;
        unsigned slot = key_hash_slot(se->name, se->len);
        if (!((ls->words[slot >> 6] >> (slot & 63)) & 1) || route_slot_in_my_shard(slot)) continue;
        const id_vec *v = &se->per_worker[wi];
        size_t ids_off = (sizeof(shard_drop) + se->len + 7) & ~(size_t)7;
        shard_drop *d = mem_alloc(ids_off + (size_t)v->n * sizeof(uint64_t));
        d->len = se->len;
        d->n = v->n;
        d->ids = (uint64_t *)((char *)d + ids_off);
        memcpy(d->name, se->name, se->len);
        memcpy(d->ids, v->ids, (size_t)v->n * sizeof(uint64_t));
        d->next = list;
        list = d;
    }
    pthread_rwlock_unlock(&reg_lock);
    if (atomic_fetch_sub_explicit(&ls->refs, 1, memory_order_acq_rel) == 1) mem_free(ls);
    if (list) shard_drop_on_worker(w, list);
}

void pubsub_remove_shard_slots(const uint64_t *lost) {
    if (atomic_load_explicit(&tables[KIND_SHARD].count, memory_order_relaxed) == 0 || !workers) return;
    int nw = nworkers < WORKER_MAX ? nworkers : WORKER_MAX;
    lost_slots *ls = mem_alloc(sizeof *ls);
    memcpy(ls->words, lost, sizeof ls->words);
    atomic_init(&ls->refs, nw);
    for (int w = 0; w < nw; w++) worker_post(&workers[w], remove_shard_slots_on_worker, ls);
}

long pubsub_total_channels(void) { return atomic_load_explicit(&tables[KIND_CHANNEL].count, memory_order_relaxed); }
long pubsub_total_patterns(void) { return atomic_load_explicit(&tables[KIND_PATTERN].count, memory_order_relaxed); }
long pubsub_total_shard_channels(void) { return atomic_load_explicit(&tables[KIND_SHARD].count, memory_order_relaxed); }

void pubsub_init(void) {
    pthread_rwlock_wrlock(&reg_lock);
    reg_ensure_init();
    pthread_rwlock_unlock(&reg_lock);
}

void pubsub_shutdown(void) {
    for (int w = 0; w < WORKER_MAX; w++) { /* never drained: workers are gone */
        worker_queue *q = &wqueues[w];
        pthread_mutex_lock(&q->mu);
        pub_delivery *d = q->head;
        q->head = q->tail = NULL;
        q->scheduled = false;
        pthread_mutex_unlock(&q->mu);
        while (d) {
            pub_delivery *next = d->next;
            delivery_free(d);
            d = next;
        }
    }
    pthread_rwlock_wrlock(&reg_lock);
    for (int k = 0; k < KIND_COUNT; k++) {
        sub_table *t = &tables[k];
        if (t->map) {
            dict_iter it;
            dict_iter_init(&it);
            for (dict_entry *e = dict_iter_next(t->map, &it); e; e = dict_iter_next(t->map, &it)) sub_entry_free(e->u.ptr);
            dict_free(t->map);
        }
        mem_free(t->order);
        t->map = NULL;
        t->order = NULL;
        t->norder = t->order_cap = 0;
        atomic_store_explicit(&t->count, 0, memory_order_relaxed);
    }
    if (client_map) {
        dict_iter it;
        dict_iter_init(&it);
        for (dict_entry *e = dict_iter_next(client_map, &it); e; e = dict_iter_next(client_map, &it)) {
            client_subs *cs = e->u.ptr;
            for (int k = 0; k < KIND_COUNT; k++) dict_free(cs->set[k]);
            mem_free(cs);
        }
        dict_free(client_map);
        client_map = NULL;
    }
    pthread_rwlock_unlock(&reg_lock);
}

/* ---------------------------------------------------------------- commands */

/* [subscribe|unsubscribe..., name or nil, count] as a push (array in RESP2). */
static void reply_confirm(client *c, const char *word, const char *name, size_t len, long count) {
    reply_push(&c->out, c->resp, 3);
    reply_bulk_cstr(&c->out, word);
    if (name)
        reply_bulk(&c->out, name, len);
    else
        add_reply_null(c);
    add_reply_integer(c, count);
}

static void subscribe_generic(client *c, int kind) {
    _Atomic int *counter = kind_counter(c, kind);
    pthread_rwlock_wrlock(&reg_lock);
    for (int j = 1; j < c->argc; j++) {
        if (reg_subscribe(c, kind, c->argv[j].ptr, c->argv[j].len)) (*counter)++;
        reply_confirm(c, kind_sub_word[kind], c->argv[j].ptr, c->argv[j].len, reply_count(c, kind));
    }
    pthread_rwlock_unlock(&reg_lock);
}

typedef struct {
    const dict_entry *e;
} sub_ref;

static int cmp_seq(const void *a, const void *b) {
    int64_t x = ((const sub_ref *)a)->e->u.i, y = ((const sub_ref *)b)->e->u.i;
    return x < y ? -1 : x > y;
}

static void unsubscribe_generic(client *c, int kind) {
    _Atomic int *counter = kind_counter(c, kind);
    pthread_rwlock_wrlock(&reg_lock);
    if (c->argc > 1) {
        for (int j = 1; j < c->argc; j++) {
            if (reg_unsubscribe(c, kind, c->argv[j].ptr, c->argv[j].len)) (*counter)--;
            reply_confirm(c, kind_unsub_word[kind], c->argv[j].ptr, c->argv[j].len, reply_count(c, kind));
        }
    } else {
        /* All of this kind, in subscription order; each confirmation is
         * written before its name is freed. */
        client_subs *cs = client_subs_find(c->id);
        size_t n = cs && cs->set[kind] ? dict_size(cs->set[kind]) : 0;
        if (n == 0) {
            reply_confirm(c, kind_unsub_word[kind], NULL, 0, reply_count(c, kind));
        } else {
            sub_ref *refs = mem_alloc(n * sizeof *refs);
            size_t i = 0;
            dict_iter it;
            dict_iter_init(&it);
            for (dict_entry *e = dict_iter_next(cs->set[kind], &it); e && i < n; e = dict_iter_next(cs->set[kind], &it))
                refs[i++].e = e;
            qsort(refs, i, sizeof *refs, cmp_seq);
            for (size_t k = 0; k < i; k++) {
                const dict_entry *e = refs[k].e;
                (*counter)--;
                reply_confirm(c, kind_unsub_word[kind], dict_key(e), e->klen, reply_count(c, kind));
                reg_unsubscribe(c, kind, dict_key(e), e->klen);
            }
            mem_free(refs);
        }
    }
    pthread_rwlock_unlock(&reg_lock);
}

static void subscribe_command(client *c) { subscribe_generic(c, KIND_CHANNEL); }
static void psubscribe_command(client *c) { subscribe_generic(c, KIND_PATTERN); }
static void unsubscribe_command(client *c) { unsubscribe_generic(c, KIND_CHANNEL); }
static void punsubscribe_command(client *c) { unsubscribe_generic(c, KIND_PATTERN); }
static void sunsubscribe_command(client *c) { unsubscribe_generic(c, KIND_SHARD); }

static void ssubscribe_command(client *c) {
    if (multi_in_exec()) { /* Redis: EXEC denies blocking, and SSUBSCRIBE has no MULTI exception */
        add_reply_error(c, "ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client");
        return;
    }
    subscribe_generic(c, KIND_SHARD);
}

/* PUBLISH and SPUBLISH (Redis's pubsubPublishMessageAndPropagateToCluster):
 * the reply counts this node's receivers only. Standalone, the command
 * enters the replication stream so replicas' subscribers get it; in cluster
 * mode it goes over the bus instead (every node, or the shard) and never
 * into the stream, as Redis. */
static void publish_generic(client *c, int kind, bool deferred) {
    const arg_t *ch = &c->argv[1], *msg = &c->argv[2];
    long n = publish(kind, ch->ptr, ch->len, msg->ptr, msg->len, deferred);
    if (cfg_get(cluster_enabled))
        to_cluster(kind, ch->ptr, ch->len, msg->ptr, msg->len, deferred);
    else
        propagate_force();
    add_reply_integer(c, n);
}

/* Inside EXEC the transaction's slot locks are held: defer the sends. */
static void publish_command(client *c) { publish_generic(c, KIND_CHANNEL, multi_in_exec()); }
/* Runs under the shard channel's slot lock. */
static void spublish_command(client *c) { publish_generic(c, KIND_SHARD, true); }

/* PUBSUB CHANNELS / SHARDCHANNELS [pattern]. */
static void channels_generic(client *c, int kind) {
    if (c->argc > 3) {
        add_reply_subcommand_syntax_error(c, "PUBSUB");
        return;
    }
    const char *pat = c->argc == 3 ? c->argv[2].ptr : NULL;
    size_t plen = c->argc == 3 ? c->argv[2].len : 0;
    pthread_rwlock_rdlock(&reg_lock);
    const dict *d = tables[kind].map;
    long n = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) add_reply_array(c, n);
        if (!d) continue;
        dict_iter it;
        dict_iter_init(&it);
        for (dict_entry *e = dict_iter_next(d, &it); e; e = dict_iter_next(d, &it)) {
            if (pat && !glob_match(pat, plen, dict_key(e), e->klen, false)) continue;
            if (pass == 0)
                n++;
            else
                add_reply_bulk(c, dict_key(e), e->klen);
        }
    }
    pthread_rwlock_unlock(&reg_lock);
}

/* PUBSUB NUMSUB / SHARDNUMSUB [name ...]: flat array name, count. */
static void numsub_generic(client *c, int kind) {
    add_reply_array(c, (long long)(c->argc - 2) * 2);
    pthread_rwlock_rdlock(&reg_lock);
    for (int j = 2; j < c->argc; j++) {
        const sub_entry *e = table_find(&tables[kind], c->argv[j].ptr, c->argv[j].len);
        add_reply_bulk(c, c->argv[j].ptr, c->argv[j].len);
        add_reply_integer(c, e ? e->total : 0);
    }
    pthread_rwlock_unlock(&reg_lock);
}

static void pubsub_channels_command(client *c) { channels_generic(c, KIND_CHANNEL); }
static void pubsub_shardchannels_command(client *c) { channels_generic(c, KIND_SHARD); }
static void pubsub_numsub_command(client *c) { numsub_generic(c, KIND_CHANNEL); }
static void pubsub_shardnumsub_command(client *c) { numsub_generic(c, KIND_SHARD); }
static void pubsub_numpat_command(client *c) { add_reply_integer(c, pubsub_total_patterns()); }

static void pubsub_help_command(client *c) {
    static const char *const lines[] = {
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        NULL,
    };
    add_reply_help(c, "PUBSUB", lines);
}

#define SUBSCRIBE_FLAGS (CMD_PUBSUB | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_SUBSCRIBE_OK)
#define PUBSUB_SUB(nm, ar, fl, fn, ver, sum, cx, acl)                                                         \
    {.name = nm, .arity = ar, .flags = fl, .proc = fn, .group = "pubsub", .since = ver, .summary = sum,       \
     .complexity = cx, .acl_categories = acl}

static command pubsub_subcommands[] = {
    PUBSUB_SUB("channels", -2, CMD_PUBSUB | CMD_LOADING | CMD_STALE, pubsub_channels_command, "2.8.0",
               "List active channels",
               "O(N) where N is the number of active channels, and assuming constant time pattern matching "
               "(relatively short channels and patterns)",
               "pubsub slow"),
    PUBSUB_SUB("numpat", 2, CMD_PUBSUB | CMD_LOADING | CMD_STALE, pubsub_numpat_command, "2.8.0",
               "Get the count of unique patterns pattern subscriptions", "O(1)", "pubsub slow"),
    PUBSUB_SUB("numsub", -2, CMD_PUBSUB | CMD_LOADING | CMD_STALE, pubsub_numsub_command, "2.8.0",
               "Get the count of subscribers for channels",
               "O(N) for the NUMSUB subcommand, where N is the number of requested channels", "pubsub slow"),
    PUBSUB_SUB("shardchannels", -2, CMD_PUBSUB | CMD_LOADING | CMD_STALE, pubsub_shardchannels_command, "7.0.0",
               "List active shard channels",
               "O(N) where N is the number of active shard channels, and assuming constant time pattern matching "
               "(relatively short shard channels).",
               "pubsub slow"),
    PUBSUB_SUB("shardnumsub", -2, CMD_PUBSUB | CMD_LOADING | CMD_STALE, pubsub_shardnumsub_command, "7.0.0",
               "Get the count of subscribers for shard channels",
               "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
               "pubsub slow"),
    PUBSUB_SUB("help", 2, CMD_LOADING | CMD_STALE, pubsub_help_command, "6.2.0",
               "Show helpful text about the different subcommands", "O(1)", "slow"),
    {0},
};

command pubsub_commands[] = {
    {.name = "subscribe", .arity = -2, .flags = SUBSCRIBE_FLAGS, .proc = subscribe_command, .group = "pubsub",
     .since = "2.0.0", .summary = "Listen for messages published to the given channels",
     .complexity = "O(N) where N is the number of channels to subscribe to.", .acl_categories = "pubsub slow"},
    {.name = "unsubscribe", .arity = -1, .flags = SUBSCRIBE_FLAGS, .proc = unsubscribe_command, .group = "pubsub",
     .since = "2.0.0", .summary = "Stop listening for messages posted to the given channels",
     .complexity = "O(N) where N is the number of clients already subscribed to a channel.",
     .acl_categories = "pubsub slow"},
    {.name = "psubscribe", .arity = -2, .flags = SUBSCRIBE_FLAGS, .proc = psubscribe_command, .group = "pubsub",
     .since = "2.0.0", .summary = "Listen for messages published to channels matching the given patterns",
     .complexity = "O(N) where N is the number of patterns the client is already subscribed to.",
     .acl_categories = "pubsub slow"},
    {.name = "punsubscribe", .arity = -1, .flags = SUBSCRIBE_FLAGS, .proc = punsubscribe_command,
     .group = "pubsub", .since = "2.0.0",
     .summary = "Stop listening for messages posted to channels matching the given patterns",
     .complexity = "O(N+M) where N is the number of patterns the client is already subscribed and M is the number "
                   "of total patterns subscribed in the system (by any client).",
     .acl_categories = "pubsub slow"},
    {.name = "publish", .arity = 3, .flags = CMD_PUBSUB | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_MAY_REPLICATE,
     .proc = publish_command, .group = "pubsub", .since = "2.0.0", .summary = "Post a message to a channel",
     .complexity = "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total "
                   "number of subscribed patterns (by any client).",
     .acl_categories = "pubsub fast"},
    {.name = "ssubscribe", .arity = -2, .flags = SUBSCRIBE_FLAGS, .first_key = 1, .last_key = -1, .key_step = 1,
     .proc = ssubscribe_command, .group = "pubsub", .since = "7.0.0",
     .summary = "Listen for messages published to the given shard channels",
     .complexity = "O(N) where N is the number of shard channels to subscribe to.", .acl_categories = "pubsub slow"},
    {.name = "sunsubscribe", .arity = -1, .flags = SUBSCRIBE_FLAGS, .first_key = 1, .last_key = -1,
     .key_step = 1, .proc = sunsubscribe_command, .group = "pubsub", .since = "7.0.0",
     .summary = "Stop listening for messages posted to the given shard channels",
     .complexity = "O(N) where N is the number of clients already subscribed to a shard channel.",
     .acl_categories = "pubsub slow"},
    {.name = "spublish", .arity = 3, .flags = CMD_PUBSUB | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_MAY_REPLICATE,
     .first_key = 1,
     .last_key = 1, .key_step = 1, .proc = spublish_command, .group = "pubsub", .since = "7.0.0",
     .summary = "Post a message to a shard channel",
     .complexity = "O(N) where N is the number of clients subscribed to the receiving shard channel.",
     .acl_categories = "pubsub fast"},
    {.name = "pubsub", .arity = -2, .group = "pubsub", .since = "2.8.0", .summary = "A container for Pub/Sub commands",
     .complexity = "Depends on subcommand.", .acl_categories = "slow", .subcommands = pubsub_subcommands},
    {0},
};
