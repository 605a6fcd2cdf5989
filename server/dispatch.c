/*
 * dispatch.c - run one command (see dispatch.h).
 *
 * Order of checks follows Redis 7's processCommand: existence, arity, then
 * authentication, then (cluster mode) the redirect, then the RESP2
 * subscriber-mode restriction, OOM, MISCONF, the replication refusals,
 * LOADING, then MULTI queueing. Keys come from the command table's key
 * spec, their slots computed once for routing, MULTI and the locks; the
 * slots are locked in ascending order for the duration of the handler (in
 * cluster mode routing's second phase runs under them). Work that needs a
 * syscall (publishing keyspace events, waking blocked clients on other
 * workers) is queued during the command and done after the unlock.
 */
#include "dispatch.h"

#include "blocking.h"
#include "clients.h"
#include "cluster_api.h"
#include "cmdstats.h"
#include "config.h"
#include "crc16.h"
#include "db.h"
#include "evict.h"
#include "latency.h"
#include "mem.h"
#include "monotime.h"
#include "multi.h"
#include "notify.h"
#include "prefetch.h"
#include "propagate.h"
#include "pubsub.h"
#include "persist.h"
#include "slotlock.h"
#include "snapshot.h"
#include "slowlog.h"
#include "stats.h"
#include "writepause.h"

#include <stdio.h>
#include <string.h>

#define STACK_KEYS 32

/* Redis's rejectCommandFormat: the error text with newlines made spaces. */
static void reply_unknown_command(client *c) {
    char args[256];
    size_t n = 0;
    args[0] = '\0';
    for (int i = 1; i < c->argc && n < 128; i++) {
        int room = 128 - (int)n;
        int w = snprintf(args + n, sizeof args - n, "'%.*s' ",
                         (int)(c->argv[i].len < (size_t)room ? c->argv[i].len : (size_t)room), c->argv[i].ptr);
        if (w < 0) break;
        n += (size_t)w;
        if (n >= sizeof args) n = sizeof args - 1;
    }
    char msg[512];
    snprintf(msg, sizeof msg, "ERR unknown command '%.*s', with args beginning with: %s",
             (int)(c->argv[0].len < 128 ? c->argv[0].len : 128), c->argv[0].ptr, args);
    add_reply_error(c, msg);
}

static void reply_unknown_subcommand(client *c, const command *parent) {
    char upper[64];
    size_t n = strlen(parent->name);
    if (n >= sizeof upper) n = sizeof upper - 1;
    for (size_t i = 0; i < n; i++)
        upper[i] = (char)(parent->name[i] >= 'a' && parent->name[i] <= 'z' ? parent->name[i] - 32 : parent->name[i]);
    upper[n] = '\0';
    char msg[512];
    snprintf(msg, sizeof msg, "ERR unknown subcommand '%.*s'. Try %s HELP.",
             (int)(c->argv[1].len < 128 ? c->argv[1].len : 128), c->argv[1].ptr, upper);
    add_reply_error(c, msg);
}

const command *dispatch_resolve_or_reply(client *c) {
    const command *cmd = command_lookup(c->argv[0].ptr, c->argv[0].len);
    if (!cmd) {
        reply_unknown_command(c);
        return NULL;
    }
    if (cmd->subcommands && c->argc >= 2) {
        const command *sub = command_lookup_sub(cmd, c->argv[1].ptr, c->argv[1].len);
        if (!sub) {
            reply_unknown_subcommand(c, cmd);
            return NULL;
        }
        cmd = sub;
    }
    if ((cmd->arity > 0 && c->argc != cmd->arity) || c->argc < -cmd->arity) {
        stat_inc(STAT_REJECTED_CALLS);
        cmdstats_add(cmd, CMDSTAT_REJECTED, 1);
        reply_wrong_arity(c, cmd);
        return NULL;
    }
    return cmd;
}

/* Indexes of cmd's key arguments (from its key spec) into *idx: `stack`
 * (STACK_KEYS entries) when argc fits, else a heap array the caller frees
 * (*idx != stack). Returns how many. */
static int key_indexes(const command *cmd, const arg_t *argv, int argc, int *stack, int **idx) {
    *idx = stack;
    if (!cmd->first_key && !cmd->keys_fn) return 0;
    if (argc > STACK_KEYS) *idx = mem_alloc((size_t)argc * sizeof(int));
    return command_get_keys(cmd, argv, argc, *idx, argc);
}

void dispatch_snapshot_before_write(const command *cmd, const arg_t *argv, int argc) {
    if (!(cmd->flags & CMD_WRITE) || !atomic_load_explicit(&snapshot_active, memory_order_relaxed)) return;
    int stack_idx[STACK_KEYS], *idx;
    int nk = key_indexes(cmd, argv, argc, stack_idx, &idx);
    for (int i = 0; i < nk; i++) snapshot_before_write(key_hash_slot(argv[idx[i]].ptr, argv[idx[i]].len));
    if (idx != stack_idx) mem_free(idx);
}

void dispatch_call(client *c, const command *cmd) {
    uint64_t errors_before = tl_error_replies;
    uint64_t start = monotime_us();
    db_set_now_ms(monotime_wall_ms(start));
    atomic_store_explicit(&c->last_cmd, cmd, memory_order_relaxed);
    propagate_mark pm;
    propagate_call_begin(&pm, cmd);
    bool master = (c->flags & CF_MASTER) != 0;
    if (master) db_set_from_master(true);
    cmd->proc(c);
    if (master) db_set_from_master(false);
    propagate_call_end(c, cmd, &pm);
    long long duration = (long long)(monotime_us() - start);
    db_set_now_ms(0);
    stat_inc(STAT_COMMANDS);
    cmdstats_add(cmd, CMDSTAT_CALLS, 1);
    cmdstats_add(cmd, CMDSTAT_USEC, (uint64_t)duration);
    if (tl_error_replies != errors_before) {
        stat_inc(STAT_FAILED_CALLS);
        cmdstats_add(cmd, CMDSTAT_FAILED, 1);
    }
    if (!(cmd->flags & CMD_SKIP_SLOWLOG)) slowlog_maybe_add(c, duration);
    latency_add_sample_if_needed((cmd->flags & CMD_FAST) ? "fast-command" : "command", duration / 1000);
}

void dispatch_master_applied(client *c) {
    if (!c->master_cmd) return;
    const char *p = c->master_cmd;
    c->master_cmd = NULL;
    repl_master_applied(c, p, c->master_cmd_len);
}

/* The command's keys: positions into argv and their slots, computed once
 * (prefetch hints taken, db.c told) for routing, MULTI and the slot locks. */
typedef struct {
    int idx_stack[STACK_KEYS], *idx;
    unsigned slots_stack[STACK_KEYS], *slots;
    int n;
} cmd_keys;

static inline __attribute__((always_inline)) void cmd_keys_compute(cmd_keys *k, const command *cmd, const client *c) {
    k->slots = k->slots_stack;
    k->n = key_indexes(cmd, c->argv, c->argc, k->idx_stack, &k->idx);
    if (k->idx != k->idx_stack) k->slots = mem_alloc((size_t)c->argc * sizeof(unsigned));
    for (int i = 0; i < k->n; i++) {
        const arg_t *key = &c->argv[k->idx[i]];
        uint64_t hash;
        if (prefetch_take(key->ptr, key->len, &k->slots[i], &hash)) {
            db_remember_key(i, key->ptr, key->len, k->slots[i], &hash);
        } else {
            k->slots[i] = key_hash_slot(key->ptr, key->len);
            db_remember_key(i, key->ptr, key->len, k->slots[i], NULL);
        }
    }
}

static inline __attribute__((always_inline)) void cmd_keys_release(cmd_keys *k) {
    db_forget_key_slots();
    if (k->idx != k->idx_stack) {
        mem_free(k->idx);
        mem_free(k->slots);
    }
}

/* Everything after authentication, in Redis 7's processCommand order: the
 * cluster redirect, the RESP2 subscriber context, OOM, MISCONF and the
 * replication refusals, LOADING, MULTI queueing; then the slot locks and
 * the handler. `cluster` is a constant in each of the two copies
 * dispatch_command inlines, so a standalone server runs no routing code at
 * all: one branch picks the copy. */
static inline __attribute__((always_inline)) void dispatch_checked(client *c, const command *cmd, const bool cluster) {
    /* Our master's stream is never refused (Redis exempts CLIENT_MASTER
     * from redirects, OOM, MISCONF, READONLY and LOADING). */
    bool from_master = (c->flags & CF_MASTER) != 0;
    cmd_keys k;
    cmd_keys_compute(&k, cmd, c);
    route_ticket rt = {0};
    /* A blocked command re-run once its key is served (c->bstate set) is
     * not routed again, as Redis serves woken clients without a second
     * getNodeByQuery: it was routed when it blocked (ASKING included), and
     * blocking_cron answers the ones whose slot moved away meanwhile. */
    if (cluster && !c->bstate) {
        if (c->flags & CF_ASKING) route_command_begin(c);
        if (k.n && !from_master && !client_route_allowed(c, k.slots, k.n) && !route_fast(k.slots, k.n, &rt)) {
            route_keys rk = {.argv = c->argv, .idx = k.idx, .slots = k.slots, .n = k.n};
            if (!route_check_or_reply(c, cmd, &rk, (cmd->flags & CMD_WRITE) != 0, &rt)) {
                if (c->mstate) multi_flag_error(c);
                goto not_run;
            }
        }
    }
    if (c->resp == 2 && !(cmd->flags & CMD_SUBSCRIBE_OK) && pubsub_client_count(c) > 0) {
        add_reply_errorf(c,
                         "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are "
                         "allowed in this context",
                         cmd->fullname);
        goto not_run;
    }
    /* While writes are paused (below) nothing is evicted: the stream must
     * not move; the write waits, and is checked again when it runs. While
     * only some slots' are, the others' writes run unchecked, as Redis's
     * while its evictions are paused (a victim may be in a paused slot). */
    if ((cmd->flags & CMD_DENYOOM) && !from_master && !writepause_active() && !evict_make_room_or_reply(c)) {
        stat_inc(STAT_REJECTED_CALLS);
        cmdstats_add(cmd, CMDSTAT_REJECTED, 1);
        if (c->mstate) multi_flag_error(c);
        goto not_run;
    }
    const char *refusal = NULL;
    if (from_master)
        refusal = NULL;
    else if ((cmd->flags & CMD_WRITE) && persist_writes_refused())
        refusal = ERR_MISCONF;
    else if ((refusal = repl_refusal(c, cmd)) != NULL)
        ;
    else if (!(cmd->flags & CMD_LOADING) && persist_loading() && persist_loading_after_hold())
        refusal = "LOADING Redis is loading the dataset in memory";
    if (refusal) {
        stat_inc(STAT_REJECTED_CALLS);
        cmdstats_add(cmd, CMDSTAT_REJECTED, 1);
        add_reply_error(c, refusal);
        if (c->mstate) multi_flag_error(c);
        goto not_run;
    }
    /* A master handing over (coordinated CLUSTER FAILOVER, FAILOVER): its
     * offset must stop moving and its last writes reach the replica. A
     * command that may write or replicate waits for the end of the pause,
     * queued in MULTI or not, as Redis's postponed clients (after the same
     * refusals as Redis: then it runs, or is redirected or refused, as the
     * server now is); one that cannot wait (not read from the socket: a
     * blocked command re-run) is refused. */
    if (!from_master && writepause_holds(k.slots, k.n) &&
        ((cmd->flags & (CMD_WRITE | CMD_SCRIPT_WRITES | CMD_MAY_REPLICATE)) || multi_exec_may_write(c, cmd))) {
        if (c->from_input) {
            writepause_postpone(c);
            goto not_run;
        }
        stat_inc(STAT_REJECTED_CALLS);
        cmdstats_add(cmd, CMDSTAT_REJECTED, 1);
        add_reply_error(c, ERR_WRITES_PAUSED);
        if (c->mstate) multi_flag_error(c);
        goto not_run;
    }
    if (c->mstate && !(cmd->flags & CMD_TX_CONTROL)) {
        multi_queue_command(c, cmd, k.idx, k.slots, k.n);
        goto not_run;
    }

    int nlocked = k.n ? slots_lock_many(k.slots, k.n) : 0; /* sorts and dedupes k.slots */
    bool refused = false;
    if (cluster && rt.routed && !route_settled(&rt)) {
        /* Phase 2: the keys' slots were reordered by the lock; routing
         * recomputes them in the rare case it has to decide again. */
        route_keys rk = {.argv = c->argv, .idx = k.idx, .slots = NULL, .n = k.n};
        if (!route_recheck_or_reply(c, cmd, &rk, (cmd->flags & CMD_WRITE) != 0, &rt)) {
            if (c->mstate) multi_flag_error(c);
            refused = true;
        }
    }
    /* Checked under the slot locks: the final save's snapshot takes them
     * all, so no write is acknowledged after its point in time. */
    if (!refused && (cmd->flags & (CMD_WRITE | CMD_SCRIPT_WRITES)) && persist_writes_paused()) {
        stat_inc(STAT_REJECTED_CALLS);
        cmdstats_add(cmd, CMDSTAT_REJECTED, 1);
        add_reply_error(c, ERR_SHUTTING_DOWN);
        refused = true;
    }
    if (!refused) {
        if (cmd->flags & CMD_WRITE) /* a running snapshot keeps these slots' pre-images */
            for (int i = 0; i < nlocked; i++) snapshot_before_write(k.slots[i]);
        dispatch_call(c, cmd);
    }
    /* Its effects reach the stream while its slots are still locked. The
     * master link's commands are not ours to propagate: a replica forwards
     * its master's bytes verbatim (cluster/). */
    if (c->flags & CF_MASTER) {
        propagate_discard();
        if (!c->mstate) dispatch_master_applied(c); /* a MULTI's commands: at EXEC */
    } else {
        long long woff = propagate_flush((cmd->flags & CMD_ALL_SLOTS) != 0);
        if (woff > 0) c->woff = woff;
    }

    if (nlocked) slots_unlock_many(k.slots, nlocked);
    cmd_keys_release(&k);
    /* The replicas are woken once per loop iteration (worker.c), not here. */
    notify_flush();   /* also sends pending pub/sub deliveries */
    blocking_send_wakeups();
    atomic_store_explicit(&c->shared_db, c->db, memory_order_relaxed);
    return;

not_run:
    cmd_keys_release(&k);
}

void dispatch_command(client *c) {
    const command *cmd = dispatch_resolve_or_reply(c);
    if (!cmd) {
        if (c->flags & CF_ASKING) route_command_begin(c); /* a rejected command uses ASKING up too */
        if (c->mstate) multi_flag_error(c);
        return;
    }
    if (!c->authenticated && !(cmd->flags & CMD_NO_AUTH)) {
        if (cfg_requirepass_set()) {
            stat_inc(STAT_REJECTED_CALLS);
            cmdstats_add(cmd, CMDSTAT_REJECTED, 1);
            add_reply_error(c, "NOAUTH Authentication required.");
            if (c->flags & CF_ASKING) route_command_begin(c);
            if (c->mstate) multi_flag_error(c);
            return;
        }
        c->authenticated = true; /* requirepass was cleared at run time */
    }
    if (__builtin_expect(cfg_get(cluster_enabled) != 0, 0))
        dispatch_checked(c, cmd, true);
    else
        dispatch_checked(c, cmd, false);
}
