/*
 * multi.c - transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH (see
 * multi.h and watch.h).
 *
 * Queued commands keep a private copy of their arguments (the query buffer
 * they came from is reused) and the key positions and slots dispatch
 * computed for them. EXEC gathers the slots of all queued keys and all
 * watched keys, locks them in ascending order, checks the watch flag (set
 * by writers on any worker under those same locks), runs the queue and
 * unlocks: no other worker can observe or interleave with a transaction.
 * In cluster mode EXEC first routes all the queued keys together, as
 * Redis does before running EXEC: a redirect discards the transaction.
 */
#include "multi.h"

#include "blocking.h"
#include "cluster_api.h"
#include "command_modules.h"
#include "config.h"
#include "crc16.h"
#include "db.h"
#include "dispatch.h"
#include "mem.h"
#include "persist.h"
#include "propagate.h"
#include "slotlock.h"
#include "watch.h"

#include <string.h>

typedef struct {
    const command *cmd;
    arg_t *argv;      /* argc arguments, then keyidx and slots: one block */
    int argc;
    int nkeys;
    int *keyidx;      /* the key arguments' positions in argv */
    unsigned *slots;  /* slots[i]: the slot of argv[keyidx[i]] */
    char *buf;
} queued_cmd;

typedef struct multi_state {
    queued_cmd *q;
    int n, cap;
    bool error;
} multi_state;

static _Thread_local bool in_exec;

bool multi_in_exec(void) { return in_exec; }

void multi_flag_error(client *c) {
    if (c->mstate) c->mstate->error = true;
}

void multi_discard(client *c) {
    multi_state *m = c->mstate;
    if (!m) return;
    for (int i = 0; i < m->n; i++) {
        mem_free(m->q[i].argv);
        mem_free(m->q[i].buf);
    }
    mem_free(m->q);
    mem_free(m);
    c->mstate = NULL;
}

void multi_queue_command(client *c, const command *cmd, const int *keyidx, const unsigned *slots, int nkeys) {
    multi_state *m = c->mstate;
    if (cmd->flags & CMD_NO_MULTI) {
        add_reply_error(c, "ERR Command not allowed inside a transaction");
        m->error = true;
        return;
    }
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 8;
        m->q = mem_realloc(m->q, (size_t)m->cap * sizeof *m->q);
    }
    size_t total = 0;
    for (int i = 0; i < c->argc; i++) total += c->argv[i].len;
    queued_cmd *qc = &m->q[m->n++];
    qc->cmd = cmd;
    qc->argc = c->argc;
    qc->nkeys = nkeys;
    qc->argv = mem_alloc((size_t)c->argc * sizeof(arg_t) + (size_t)nkeys * (sizeof(int) + sizeof(unsigned)));
    qc->keyidx = (int *)(qc->argv + c->argc);
    qc->slots = (unsigned *)(qc->keyidx + nkeys);
    memcpy(qc->keyidx, keyidx, (size_t)nkeys * sizeof(int));
    memcpy(qc->slots, slots, (size_t)nkeys * sizeof(unsigned));
    qc->buf = mem_alloc(total ? total : 1);
    size_t off = 0;
    for (int i = 0; i < c->argc; i++) {
        memcpy(qc->buf + off, c->argv[i].ptr, c->argv[i].len);
        qc->argv[i].ptr = qc->buf + off;
        qc->argv[i].len = c->argv[i].len;
        off += c->argv[i].len;
    }
    add_reply_status(c, "QUEUED");
}

static void multi_command(client *c) {
    if (c->mstate) {
        add_reply_error(c, "ERR MULTI calls can not be nested");
        return;
    }
    c->mstate = mem_calloc(1, sizeof(multi_state));
    add_reply_ok(c);
}

static void discard_command(client *c) {
    if (!c->mstate) {
        add_reply_error(c, "ERR DISCARD without MULTI");
        return;
    }
    multi_discard(c);
    watch_unwatch_all(c);
    add_reply_ok(c);
}

/* Every queued command's keys in one list for routing: key i is keys[i],
 * in slots[i] (mem_alloc'd, the caller frees both). */
static route_keys queued_keys(const multi_state *m) {
    int n = 0;
    for (int i = 0; i < m->n; i++) n += m->q[i].nkeys;
    arg_t *keys = mem_alloc((size_t)(n ? n : 1) * sizeof *keys);
    unsigned *slots = mem_alloc((size_t)(n ? n : 1) * sizeof *slots);
    n = 0;
    for (int i = 0; i < m->n; i++) {
        const queued_cmd *qc = &m->q[i];
        for (int j = 0; j < qc->nkeys; j++, n++) {
            keys[n] = qc->argv[qc->keyidx[j]];
            slots[n] = qc->slots[j];
        }
    }
    return (route_keys){.argv = keys, .idx = NULL, .slots = slots, .n = n};
}

static void free_route_keys(route_keys *k) {
    mem_free((void *)k->argv);
    mem_free((void *)k->slots);
    *k = (route_keys){0};
}

/* The transaction ends without running (a redirect, WATCH, shutdown). */
static void exec_abort(client *c, route_keys *rk, unsigned *slots, int nslots) {
    if (slots) {
        slots_unlock_many(slots, nslots);
        mem_free(slots);
    }
    if (rk->argv) free_route_keys(rk);
    multi_discard(c);
    watch_unwatch_all(c);
}

static void exec_command(client *c);

bool multi_exec_may_write(const client *c, const command *cmd) {
    if (cmd->proc != exec_command || !c->mstate) return false;
    for (int i = 0; i < c->mstate->n; i++)
        if (c->mstate->q[i].cmd->flags & (CMD_WRITE | CMD_SCRIPT_WRITES | CMD_MAY_REPLICATE)) return true;
    return false;
}

static void exec_command(client *c) {
    multi_state *m = c->mstate;
    if (!m) {
        add_reply_error(c, "ERR EXEC without MULTI");
        return;
    }
    bool writes = false, may_write = false; /* may_write: a script among them too (pauses) */
    for (int i = 0; i < m->n; i++) {
        writes |= (m->q[i].cmd->flags & CMD_WRITE) != 0;
        may_write |= (m->q[i].cmd->flags & (CMD_WRITE | CMD_SCRIPT_WRITES)) != 0;
    }
    /* Cluster mode: all the queued keys are routed as one request, before
     * EXECABORT (Redis's processCommand does it before calling EXEC). */
    const command *exec = atomic_load_explicit(&c->last_cmd, memory_order_relaxed);
    route_keys rk = {0};
    route_ticket rt = {0};
    if (cfg_get(cluster_enabled) && !(c->flags & CF_MASTER)) {
        rk = queued_keys(m);
        if (rk.n > 0 && !client_route_allowed(c, rk.slots, rk.n) && !route_fast(rk.slots, rk.n, &rt) &&
            !route_check_or_reply(c, exec, &rk, writes, &rt)) {
            exec_abort(c, &rk, NULL, 0);
            return;
        }
    }
    if (m->error) {
        add_reply_error(c, "EXECABORT Transaction discarded because of previous errors.");
        exec_abort(c, &rk, NULL, 0);
        return;
    }
    /* Lock every slot the transaction or its watches touch: all of them
     * when a command walks the keyspace (KEYS, FLUSHDB, ...), since taking
     * further locks while holding some would break the ascending lock
     * order. */
    unsigned *slots = NULL;
    int nslots = 0, cap = 0;
    bool all_slots = false, cluster_tx = false;
    for (int i = 0; i < m->n; i++) {
        all_slots |= (m->q[i].cmd->flags & CMD_ALL_SLOTS) != 0;
        cluster_tx |= (m->q[i].cmd->flags & CMD_CLUSTER_STATE) != 0;
    }
    all_slots |= cluster_tx; /* slot locks come before the cluster lock */
    if (all_slots) {
        slots = mem_alloc(CLUSTER_SLOTS * sizeof *slots);
        for (unsigned s = 0; s < CLUSTER_SLOTS; s++) slot_lock(slots[s] = s);
        nslots = CLUSTER_SLOTS;
    } else {
        for (int i = 0; i < m->n; i++) nslots += m->q[i].nkeys;
        cap = nslots ? nslots : 1;
        slots = mem_alloc((size_t)cap * sizeof *slots);
        nslots = 0;
        for (int i = 0; i < m->n; i++) {
            memcpy(slots + nslots, m->q[i].slots, (size_t)m->q[i].nkeys * sizeof *slots);
            nslots += m->q[i].nkeys;
        }
        watch_collect_slots(c, &slots, &nslots, &cap);
        nslots = slots_lock_many(slots, nslots);
    }
    if (rt.routed && !route_recheck_or_reply(c, exec, &rk, writes, &rt)) {
        exec_abort(c, &rk, slots, nslots);
        return;
    }
    if (rk.argv) free_route_keys(&rk);

    /* Aborted by a write to a watched key, or by a watched key's expiry
     * even if no lookup or expiry cycle has deleted it yet (Redis 7.0). */
    if (atomic_load_explicit(&c->watch_dirty, memory_order_relaxed) || watch_any_expired(c)) {
        add_reply_null_array(c);
        exec_abort(c, &rk, slots, nslots);
        return;
    }
    if (may_write && persist_writes_paused()) { /* under the locks, as dispatch checks it */
        add_reply_error(c, ERR_SHUTTING_DOWN);
        exec_abort(c, &rk, slots, nslots);
        return;
    }
    c->mstate = NULL; /* commands below run as plain commands */
    in_exec = true;
    static _Thread_local uint64_t held[CLUSTER_SLOTS / 64];
    memset(held, 0, sizeof held);
    for (int i = 0; i < nslots; i++) held[slots[i] >> 6] |= 1ULL << (slots[i] & 63);
    slots_held_by_exec = held; /* commands inside may lock these again (no-op) */
    add_reply_array(c, m->n);
    arg_t *saved_argv = c->argv;
    int saved_argc = c->argc;
    if (cluster_tx) cluster_tx_begin();
    for (int i = 0; i < m->n; i++) {
        c->argv = m->q[i].argv;
        c->argc = m->q[i].argc;
        dispatch_snapshot_before_write(m->q[i].cmd, c->argv, c->argc);
        dispatch_call(c, m->q[i].cmd);
    }
    if (cluster_tx) cluster_tx_end();
    c->argv = saved_argv;
    c->argc = saved_argc;
    in_exec = false;
    slots_held_by_exec = NULL;
    /* The transaction's writes reach the stream as one unit (MULTI ...
     * EXEC when more than one), before the slots are released. */
    if (c->flags & CF_MASTER) {
        propagate_discard();
        dispatch_master_applied(c); /* EXEC's bytes: with MULTI and the queue, under EXEC's locks */
    } else {
        long long woff = propagate_flush(false);
        if (woff > 0) c->woff = woff;
    }
    slots_unlock_many(slots, nslots);
    mem_free(slots);
    c->mstate = m;
    multi_discard(c);
    watch_unwatch_all(c);
}

static void watch_command(client *c) {
    if (c->mstate) {
        add_reply_error(c, "ERR WATCH inside MULTI is not allowed");
        return;
    }
    for (int i = 1; i < c->argc; i++) {
        dbkey k;
        dbkey_init(&k, c->db, c->argv[i].ptr, c->argv[i].len);
        watch_key(c, &k);
    }
    add_reply_ok(c);
}

static void unwatch_command(client *c) {
    watch_unwatch_all(c);
    add_reply_ok(c);
}

command multi_commands[] = {
    {.name = "multi", .arity = 1, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_ALLOW_BUSY |
                                           CMD_TX_CONTROL,
     .proc = multi_command, .group = "transactions", .since = "1.2.0",
     .summary = "Mark the start of a transaction block", .complexity = "O(1)", .acl_categories = "fast transaction"},
    {.name = "exec", .arity = 1, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_SKIP_SLOWLOG | CMD_TX_CONTROL,
     .proc = exec_command, .group = "transactions", .since = "1.2.0",
     .summary = "Execute all commands issued after MULTI",
     .complexity = "Depends on commands in the transaction", .acl_categories = "slow transaction"},
    {.name = "discard", .arity = 1, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_ALLOW_BUSY |
                                             CMD_TX_CONTROL,
     .proc = discard_command, .group = "transactions", .since = "2.0.0",
     .summary = "Discard all commands issued after MULTI",
     .complexity = "O(N), when N is the number of queued commands",
     .acl_categories = "fast transaction"},
    {.name = "watch", .arity = -2, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_ALLOW_BUSY |
                                            CMD_TX_CONTROL,
     .first_key = 1, .last_key = -1, .key_step = 1, .proc = watch_command, .group = "transactions",
     .since = "2.2.0", .summary = "Watch the given keys to determine execution of the MULTI/EXEC block",
     .complexity = "O(1) for every key.", .acl_categories = "fast transaction"},
    {.name = "unwatch", .arity = 1, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_ALLOW_BUSY,
     .proc = unwatch_command, .group = "transactions", .since = "2.2.0",
     .summary = "Forget about all watched keys", .complexity = "O(1)",
     .acl_categories = "fast transaction"},
    {0},
};
