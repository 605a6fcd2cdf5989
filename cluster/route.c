/*
 * route.c - routing in cluster mode: which node serves a command's keys
 * (Redis 7.0's getNodeByQuery and clusterRedirectClient), the redirect a
 * blocked client gets when its slot goes away, and the ASKING, READONLY and
 * READWRITE commands.
 *
 * The decision (route_decide, route_decide_blocked, route_error_text) is a
 * pure function of one slot map and a query (route.h). The glue reads the
 * map the bus publishes (slotmap.h) in two phases: before the command's
 * slot locks, lock-free, which settles everything but ASK / TRYAGAIN; those
 * need to know which keys exist here, so when the slot is migrating or
 * importing the decision is taken with the slots locked for a moment, and
 * taken again under the command's own locks (also when the map's version
 * changed between the two), so the keys it found are the keys the command
 * sees. ASKING lasts one command: the flag is dropped lazily at the start
 * of the command after the one that used it, unless inside MULTI (Redis
 * clears it after each command outside MULTI, and after EXEC).
 */
#include "route.h"

#include "cluster_api.h"
#include "cluster_state.h"
#include "cmdstats.h"
#include "config.h"
#include "crc16.h"
#include "db.h"
#include "ktable.h"
#include "mem.h"
#include "multi.h"
#include "slotlock.h"
#include "slotmap.h"
#include "stats.h"

#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- decision */

static const arg_t *key_at(const route_keys *k, int i) { return &k->argv[k->idx ? k->idx[i] : i]; }

int route_decide(const slotmap *m, const route_query *q, route_exists_fn *exists, void *ctx, route_answer *a) {
    const route_keys *k = &q->keys;
    a->slot = 0;
    a->node = -1;
    /* No key at all: served here whatever the map says. */
    if (k->n == 0) return a->code = ROUTE_SERVE;

    /* The first key fixes the slot and its owner; another key in another
     * slot is CROSSSLOT, another key in the same slot makes the request one
     * of several keys. */
    const arg_t *first = key_at(k, 0);
    unsigned slot = k->slots[0];
    unsigned owner = m->owner[slot];
    if (owner == SLOTMAP_NONE) return a->code = ROUTE_UNBOUND;
    bool migrating = (int)owner == m->myself && m->migrating_to[slot] != SLOTMAP_NONE;
    bool importing = !migrating && m->importing_from[slot] != SLOTMAP_NONE;
    bool multiple_keys = false;
    for (int i = 1; i < k->n; i++) {
        const arg_t *key = key_at(k, i);
        if (key->len == first->len && memcmp(key->ptr, first->ptr, key->len) == 0) continue;
        if (k->slots[i] != slot) return a->code = ROUTE_CROSSSLOT;
        multiple_keys = true;
    }

    /* The cluster is down: shard pub/sub by its own setting; otherwise
     * nothing, or reads only. Redis tests the command's own flags here, so
     * EXEC (not a write itself) passes. */
    if (!m->ok) {
        if (q->shard) {
            if (!q->allow_shard_down) return a->code = ROUTE_DOWN;
        } else if (!q->allow_reads_down) {
            return a->code = ROUTE_DOWN;
        } else if (q->cmd_write) {
            return a->code = ROUTE_DOWN_RO;
        }
    }
    a->slot = slot;

    if ((migrating || importing) && q->migrate) return a->code = ROUTE_SERVE;

    /* Which keys exist here matters while the slot moves: migrating (a
     * missing key is asked for at the target), or importing with ASKING and
     * several keys (some missing: TRYAGAIN). Shard channels are never
     * looked up: the source serves them until the slot is handed over. */
    int missing = 0, existing = 0;
    bool asking = importing && q->asking;
    if (!q->shard && (migrating || (asking && multiple_keys))) {
        if (!exists) return a->code = ROUTE_LOOKUP;
        for (int i = 0; i < k->n; i++) {
            const arg_t *key = key_at(k, i);
            if (exists(ctx, key->ptr, key->len, k->slots[i]))
                existing++;
            else
                missing++;
        }
    }
    if (migrating && missing) {
        if (existing) return a->code = ROUTE_TRYAGAIN;
        a->node = m->migrating_to[slot];
        return a->code = ROUTE_ASK;
    }
    if (asking) return a->code = (multiple_keys && missing) ? ROUTE_TRYAGAIN : ROUTE_SERVE;

    /* A read from a READONLY client (or shard pub/sub) of a slot our master
     * serves is served by this replica. */
    const slotmap_node *me = &m->nodes[m->myself];
    if ((q->readonly || q->shard) && !q->write && !me->is_master && me->master == (int)owner)
        return a->code = ROUTE_SERVE;

    if ((int)owner != m->myself) {
        a->node = (int)owner;
        return a->code = ROUTE_MOVED;
    }
    return a->code = ROUTE_SERVE;
}

int route_decide_blocked(const slotmap *m, unsigned slot, bool readonly, bool write, route_answer *a) {
    a->slot = slot;
    a->node = -1;
    if (!m->ok) return a->code = ROUTE_DOWN;
    unsigned owner = m->owner[slot];
    const slotmap_node *me = &m->nodes[m->myself];
    if (owner != SLOTMAP_NONE && readonly && !write && !me->is_master && me->master == (int)owner)
        return a->code = ROUTE_SERVE;
    if ((int)owner == m->myself || m->importing_from[slot] != SLOTMAP_NONE) return a->code = ROUTE_SERVE;
    if (owner == SLOTMAP_NONE) return a->code = ROUTE_UNBOUND;
    a->node = (int)owner;
    return a->code = ROUTE_MOVED;
}

void route_error_text(const slotmap *m, const route_answer *a, char *buf, size_t len) {
    const char *text = NULL;
    switch (a->code) {
    case ROUTE_CROSSSLOT: text = "CROSSSLOT Keys in request don't hash to the same slot"; break;
    case ROUTE_TRYAGAIN: text = "TRYAGAIN Multiple keys request during rehashing of slot"; break;
    case ROUTE_DOWN: text = "CLUSTERDOWN The cluster is down"; break;
    case ROUTE_DOWN_RO: text = "CLUSTERDOWN The cluster is down and only accepts read commands"; break;
    case ROUTE_UNBOUND: text = "CLUSTERDOWN Hash slot not served"; break;
    case ROUTE_MOVED:
    case ROUTE_ASK: {
        const slotmap_node *n = &m->nodes[a->node];
        snprintf(buf, len, "%s %u %s:%d", a->code == ROUTE_ASK ? "ASK" : "MOVED", a->slot, n->endpoint, n->port);
        return;
    }
    default: text = ""; break;
    }
    snprintf(buf, len, "%s", text);
}

/* -------------------------------------------------------------------- glue */

static void fill_query(route_query *q, const client *c, const command *cmd, const route_keys *keys, bool writes) {
    memset(q, 0, sizeof *q);
    q->keys = *keys;
    q->asking = (c->flags & CF_ASKING) != 0 || (cmd->flags & CMD_ASKING);
    q->migrate = (cmd->flags & CMD_OPEN_SLOT) != 0;
    q->readonly = (c->flags & CF_READONLY) != 0;
    q->write = writes;
    q->cmd_write = (cmd->flags & CMD_WRITE) != 0;
    /* The commands of the pub/sub group that take keys are the shard ones. */
    q->shard = (cmd->flags & CMD_PUBSUB) != 0;
}

bool route_key_exists(void *ctx, const char *key, size_t len, unsigned slot) {
    (void)ctx;
    ktable *t = db_table(0, slot, false);
    if (!t) return false;
    dbkey k;
    dbkey_init(&k, 0, key, len);
    long pos = ktable_find(t, key, len, k.hash);
    return pos >= 0 && !db_is_expired(ktable_at(t, pos), db_now_ms());
}

/* Decide against the current map; `locked`: the keys' slots are held, so
 * keys may be looked up. The error text goes to err. */
static int decide_now(const route_query *q0, bool locked, char *err, size_t errlen, uint64_t *version) {
    route_query q = *q0;
    route_answer a;
    const slotmap *m;
    for (bool cfg_read = false;; cfg_read = true) {
        m = slotmap_read_begin();
        if (!m) { /* no map (shutting down): serve as a single node would */
            slotmap_read_end();
            *version = 0;
            return ROUTE_SERVE;
        }
        if (m->ok || cfg_read) break;
        /* The cluster is down: the two settings decide. They are read
         * outside the section (the config mutex is a lock: a read section
         * never waits for one), then the current map decides. */
        slotmap_read_end();
        q.allow_reads_down = cluster_cfg_bool("cluster-allow-reads-when-down");
        q.allow_shard_down = cluster_cfg_bool("cluster-allow-pubsubshard-when-down");
    }
    int code = route_decide(m, &q, locked ? route_key_exists : NULL, NULL, &a);
    if (code >= ROUTE_MOVED) route_error_text(m, &a, err, errlen);
    *version = m->version;
    slotmap_read_end();
    return code;
}

static void reject(client *c, const command *cmd, const char *err) {
    stat_inc(STAT_REJECTED_CALLS);
    cmdstats_add(cmd, CMDSTAT_REJECTED, 1);
    add_reply_error(c, err);
}

void route_command_begin(client *c) {
    if (!(c->flags & CF_ASKING)) return;
    if ((c->flags & CF_ASKING_SPENT) && !c->mstate)
        c->flags &= ~(CF_ASKING | CF_ASKING_SPENT);
    else
        c->flags |= CF_ASKING_SPENT;
}

/* The common case without a read section: every key in one slot that
 * myself owns with nothing moving, the cluster ok. route_decide would
 * answer SERVE whatever the client's flags (ASKING, READONLY) and the
 * command (shard pub/sub included). */
static inline bool fast_serves(const unsigned *slots, int n, route_ticket *t) {
    const slotmap_local *l = &slotmap_tl;
    unsigned slot = slots[0];
    if (!l->ok || !(l->stable_mine[slot / 64] >> (slot % 64) & 1)) return false;
    for (int i = 1; i < n; i++)
        if (slots[i] != slot) return false;
    t->routed = true;
    t->lookup = false;
    t->version = l->version;
    return true;
}

static bool __attribute__((noinline)) fast_after_refresh(const unsigned *slots, int n, route_ticket *t) {
    slotmap_local_refresh();
    return fast_serves(slots, n, t);
}

bool route_fast(const unsigned *slots, int n, route_ticket *t) {
    uint64_t v = atomic_load_explicit(&slotmap_current_version, memory_order_acquire);
    if (__builtin_expect(v != slotmap_tl.version, 0)) return fast_after_refresh(slots, n, t);
    return fast_serves(slots, n, t);
}

bool route_check_or_reply(client *c, const command *cmd, const route_keys *keys, bool writes, route_ticket *t) {
    t->routed = true;
    t->lookup = false;
    route_query q;
    fill_query(&q, c, cmd, keys, writes);
    char err[ROUTE_ERR_MAX];
    int code = decide_now(&q, false, err, sizeof err, &t->version);
    if (code == ROUTE_LOOKUP) {
        /* A migrating or importing slot: look the keys up now, with their
         * slots locked for a moment, so the answer comes in Redis's order
         * (before OOM, MULTI queueing...); phase 2 does it again under the
         * command's own locks. */
        unsigned stack[32];
        unsigned *slots = keys->n <= 32 ? stack : mem_alloc((size_t)keys->n * sizeof *slots);
        memcpy(slots, keys->slots, (size_t)keys->n * sizeof *slots);
        int n = slots_lock_many(slots, keys->n);
        code = decide_now(&q, true, err, sizeof err, &t->version);
        slots_unlock_many(slots, n);
        if (slots != stack) mem_free(slots);
        t->lookup = true;
    }
    if (code == ROUTE_SERVE) return true;
    reject(c, cmd, err);
    return false;
}

bool route_recheck_or_reply(client *c, const command *cmd, const route_keys *keys, bool writes,
                            const route_ticket *t) {
    if (route_settled(t)) return true;
    /* Dispatch passes no slots here (the lock sorted them): compute them. */
    route_keys k = *keys;
    unsigned stack[32], *slots = NULL;
    if (!k.slots) {
        slots = k.n <= 32 ? stack : mem_alloc((size_t)k.n * sizeof *slots);
        for (int i = 0; i < k.n; i++) {
            const arg_t *key = key_at(&k, i);
            slots[i] = key_hash_slot(key->ptr, key->len);
        }
        k.slots = slots;
    }
    route_query q;
    fill_query(&q, c, cmd, &k, writes);
    char err[ROUTE_ERR_MAX];
    uint64_t version;
    int code = decide_now(&q, true, err, sizeof err, &version);
    if (slots && slots != stack) mem_free(slots);
    if (code == ROUTE_SERVE) return true;
    reject(c, cmd, err);
    return false;
}

uint64_t route_map_version(void) { return slotmap_version(); }

bool route_settled(const route_ticket *t) {
    return !t->routed ||
           (!t->lookup && atomic_load_explicit(&slotmap_current_version, memory_order_acquire) == t->version);
}

bool route_blocked_error(const client *c, unsigned slot, char *buf, size_t len) {
    const command *cmd = atomic_load_explicit(&c->last_cmd, memory_order_relaxed);
    bool write = cmd && (cmd->flags & CMD_WRITE);
    route_answer a;
    const slotmap *m = slotmap_read_begin();
    int code = m ? route_decide_blocked(m, slot, (c->flags & CF_READONLY) != 0, write, &a) : ROUTE_SERVE;
    if (code != ROUTE_SERVE) route_error_text(m, &a, buf, len);
    slotmap_read_end();
    return code != ROUTE_SERVE;
}

bool route_slot_in_my_shard(unsigned slot) {
    const slotmap *m = slotmap_read_begin();
    bool mine = true;
    if (m) {
        unsigned owner = m->owner[slot];
        const slotmap_node *me = &m->nodes[m->myself];
        mine = owner != SLOTMAP_NONE && ((int)owner == m->myself || (!me->is_master && me->master == (int)owner));
    }
    slotmap_read_end();
    return mine;
}

bool route_db0_only_or_reply(client *c, const char *what) {
    if (!cfg_get(cluster_enabled)) return false;
    add_reply_errorf(c, "ERR %s is not allowed in cluster mode", what);
    return true;
}

/* ---------------------------------------------------------------- commands */

#define ERR_CLUSTER_DISABLED "ERR This instance has cluster support disabled"

static bool cluster_enabled_or_reply(client *c) {
    if (cfg_get(cluster_enabled)) return true;
    add_reply_error(c, ERR_CLUSTER_DISABLED);
    return false;
}

static void asking_command(client *c) {
    if (!cluster_enabled_or_reply(c)) return;
    c->flags |= CF_ASKING;
    /* Run inside EXEC it ends with the transaction, as Redis clears it
     * after EXEC; otherwise it is for the next command. */
    if (multi_in_exec())
        c->flags |= CF_ASKING_SPENT;
    else
        c->flags &= ~CF_ASKING_SPENT;
    add_reply_ok(c);
}

static void readonly_command(client *c) {
    if (!cluster_enabled_or_reply(c)) return;
    c->flags |= CF_READONLY;
    add_reply_ok(c);
}

static void readwrite_command(client *c) {
    if (!cluster_enabled_or_reply(c)) return;
    c->flags &= ~CF_READONLY;
    add_reply_ok(c);
}

command route_commands[] = {
    {.name = "asking", .arity = 1, .flags = CMD_FAST, .proc = asking_command, .group = "cluster", .since = "3.0.0",
     .summary = "Sent by cluster clients after an -ASK redirect", .complexity = "O(1)",
     .acl_categories = "fast connection"},
    {.name = "readonly", .arity = 1, .flags = CMD_LOADING | CMD_STALE | CMD_FAST, .proc = readonly_command,
     .group = "cluster", .since = "3.0.0", .summary = "Enables read queries for a connection to a cluster replica node",
     .complexity = "O(1)", .acl_categories = "fast connection"},
    {.name = "readwrite", .arity = 1, .flags = CMD_LOADING | CMD_STALE | CMD_FAST, .proc = readwrite_command,
     .group = "cluster", .since = "3.0.0",
     .summary = "Disables read queries for a connection to a cluster replica node", .complexity = "O(1)",
     .acl_categories = "fast connection"},
    {0},
};
