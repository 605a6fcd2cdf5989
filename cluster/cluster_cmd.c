/*
 * cluster_cmd.c - the CLUSTER container command (cluster_commands[],
 * cluster_api.h): INFO, NODES, SHARDS, SLOTS, MYID, KEYSLOT,
 * COUNTKEYSINSLOT, GETKEYSINSLOT, ADDSLOTS(RANGE), DELSLOTS(RANGE),
 * FLUSHSLOTS, MEET, FORGET, REPLICATE, REPLICAS, SLAVES, SET-CONFIG-EPOCH,
 * BUMPEPOCH, COUNT-FAILURE-REPORTS, RESET, SAVECONFIG, LINKS, SETSLOT, HELP, with
 * Redis 7.0.15's replies and error texts (clusterCommand).
 *
 * Each handler that reads or changes the cluster state runs between
 * cluster_lock() and cluster_unlock() and calls cluster_apply_todo() before
 * it replies (a new epoch is on disk, the slot map published, before the
 * client hears of it). The keyspace subcommands (COUNTKEYSINSLOT,
 * GETKEYSINSLOT) take a slot lock and never the cluster lock (lock order,
 * cluster_state.h). FAILOVER is checked here and carried out by the bus
 * (failover.c). SETSLOT changes the open-slot markers and owners by hand
 * (redis-cli's reshard, rebalance and fix). MYSHARDID is Redis 7.2's (7.0.15 answers "unknown
 * subcommand"; issue 12 asks for it): the shard's id is its master's node
 * id, which every node of the shard knows without a gossip extension (7.2
 * gossips a random id that survives a failover; this one follows the
 * master). CLUSTER HELP stays 7.0.15's. A standalone server answers every subcommand that
 * passes the table's arity with "ERR This instance has cluster support
 * disabled", as Redis does.
 */
#include "cluster_api.h"
#include "cluster_state.h"

#include "bus.h"
#include "bus_msg.h"
#include "crc16.h"
#include "db.h"
#include "ktable.h"
#include "log.h"
#include "mem.h"
#include "numparse.h"
#include "slot_migration.h"
#include "slotlock.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define ERR_DISABLED "ERR This instance has cluster support disabled"

/* ---- helpers ---- */

bool cluster_disabled_or_reply(client *c) {
    if (cluster) return false;
    add_reply_error(c, ERR_DISABLED);
    return true;
}

static void reply_arity(client *c) {
    char fullname[64];
    snprintf(fullname, sizeof fullname, "cluster|%.*s", (int)c->argv[1].len, c->argv[1].ptr);
    const command *cmd = command_lookup_fullname(fullname, strlen(fullname));
    if (cmd) reply_wrong_arity(c, cmd);
}

/* getSlotOrReply: -1 after replying. */
int cluster_slot_or_reply(client *c, const arg_t *a) {
    long long slot;
    if (!parse_ll(a->ptr, a->len, &slot) || slot < 0 || slot >= CLUSTER_SLOTS) {
        add_reply_error(c, "ERR Invalid or out of range slot");
        return -1;
    }
    return (int)slot;
}

static cluster_node *node_or_reply(client *c, const arg_t *a) {
    cluster_node *n = cluster_lookup_node(a->ptr, a->len);
    if (!n) add_reply_errorf(c, "ERR Unknown node %.*s", (int)a->len, a->ptr);
    return n;
}

static bool is_slave(const cluster_node *n) { return (n->flags & CLUSTER_NODE_SLAVE) != 0; }

/* Start of a handler that uses the state: the lock, and myself's address,
 * ports, hostname and NOFAILOVER flag as the configuration says now (a
 * CONFIG SET cluster-announce-* shows in the next reply, as in Redis). */
static void enter(void) {
    cluster_lock();
    cluster_update_myself_from_config();
}

/* End of a locked handler: pending work, then the lock goes. */
static void finish(void) {
    cluster_apply_todo();
    cluster_unlock();
}

/* The end of a handler that changed the state: save it and evaluate it
 * again (before the reply, in finish), let the bus tell the peers, +OK. */
static void changed_reply_ok(client *c) {
    cluster_todo(CLUSTER_TODO_UPDATE_STATE | CLUSTER_TODO_SAVE_CONFIG);
    finish();
    bus_wake();
    add_reply_ok(c);
}

/* The end of a handler that refuses: err, unless it is "" (replied). */
static void refuse(client *c, const char *err) {
    cluster_unlock();
    if (err[0]) add_reply_error(c, err);
}

/* A run of slots with one owner. */
typedef struct {
    int start, end;
    const cluster_node *owner;
} slot_run;

/* The owner table as maximal runs of assigned slots: *n of them, in a
 * mem_alloc'd array the caller frees. */
static slot_run *slot_runs(int *n) {
    slot_run *runs = mem_alloc(CLUSTER_SLOTS * sizeof *runs);
    int start = 0;
    *n = 0;
    for (int j = 1; j <= CLUSTER_SLOTS; j++) {
        if (j < CLUSTER_SLOTS && cluster->slots[j] == cluster->slots[start]) continue;
        if (cluster->slots[start]) runs[(*n)++] = (slot_run){start, j - 1, cluster->slots[start]};
        start = j;
    }
    return runs;
}

/* ---- transactions ---- */

void cluster_tx_begin(void) {
    if (cluster) cluster_lock();
}

void cluster_tx_end(void) {
    if (cluster) cluster_unlock();
}

/* ---- INFO, NODES, MYID, HELP ---- */

static void cluster_info_command(client *c) {
    if (cluster_disabled_or_reply(c)) return;
    enter();
    cluster_apply_todo();
    int assigned = 0, ok = 0, pfail = 0, fail = 0;
    for (int j = 0; j < CLUSTER_SLOTS; j++) {
        const cluster_node *n = cluster->slots[j];
        if (!n) continue;
        assigned++;
        if (n->flags & CLUSTER_NODE_FAIL) fail++;
        else if (n->flags & CLUSTER_NODE_PFAIL) pfail++;
        else ok++;
    }
    const cluster_node *me = cluster->myself;
    uint64_t my_epoch = is_slave(me) && me->slaveof ? me->slaveof->config_epoch : me->config_epoch;
    sbuf b = {0};
    sbuf_addf(&b,
              "cluster_state:%s\r\ncluster_slots_assigned:%d\r\ncluster_slots_ok:%d\r\n"
              "cluster_slots_pfail:%d\r\ncluster_slots_fail:%d\r\ncluster_known_nodes:%d\r\n"
              "cluster_size:%d\r\ncluster_current_epoch:%llu\r\ncluster_my_epoch:%llu\r\n",
              cluster->state == CLUSTER_OK ? "ok" : "fail", assigned, ok, pfail, fail, cluster->nnodes, cluster->size,
              (unsigned long long)cluster->current_epoch, (unsigned long long)my_epoch);
    const char *dir[2] = {"sent", "received"};
    const long long *counts[2] = {cluster->stats_bus_messages_sent, cluster->stats_bus_messages_received};
    for (int d = 0; d < 2; d++) {
        long long total = 0;
        for (int t = 0; t < CLUSTER_MSG_TYPE_COUNT; t++) {
            if (!counts[d][t]) continue;
            total += counts[d][t];
            sbuf_addf(&b, "cluster_stats_messages_%s_%s:%lld\r\n", bus_msg_type_name((uint16_t)t), dir[d],
                      counts[d][t]);
        }
        sbuf_addf(&b, "cluster_stats_messages_%s:%lld\r\n", dir[d], total);
    }
    sbuf_addf(&b, "total_cluster_links_buffer_limit_exceeded:%llu\r\n",
              cluster->stat_cluster_links_buffer_limit_exceeded);
    cluster_unlock();
    add_reply_verbatim(c, b.p, b.len, "txt");
    sbuf_free(&b);
}

static void cluster_nodes_command(client *c) {
    if (cluster_disabled_or_reply(c)) return;
    enter();
    cluster_apply_todo();
    sbuf b = {0};
    cluster_nodes_description(&b, 0);
    cluster_unlock();
    add_reply_verbatim(c, b.p ? b.p : "", b.len, "txt");
    sbuf_free(&b);
}

static void cluster_myid_command(client *c) {
    if (cluster_disabled_or_reply(c)) return;
    enter();
    char name[CLUSTER_NAMELEN];
    memcpy(name, cluster->myself->name, CLUSTER_NAMELEN);
    finish();
    add_reply_bulk(c, name, CLUSTER_NAMELEN);
}

/* CLUSTER FAILOVER [FORCE|TAKEOVER]: checked and started here, carried
 * out by the bus thread (failover.c), which the todo flags wake. */
static void cluster_failover_command(client *c) {
    if (cluster_disabled_or_reply(c)) return;
    if (c->argc > 3) {
        add_reply_subcommand_syntax_error(c, "CLUSTER");
        return;
    }
    bool force = false, takeover = false;
    if (c->argc == 3) {
        if (arg_eq(&c->argv[2], "force")) {
            force = true;
        } else if (arg_eq(&c->argv[2], "takeover")) {
            takeover = force = true;
        } else {
            add_reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    enter();
    const cluster_node *me = cluster->myself;
    if (me->flags & CLUSTER_NODE_MASTER) {
        refuse(c, "ERR You should send CLUSTER FAILOVER to a replica");
        return;
    }
    if (!me->slaveof) {
        refuse(c, "ERR I'm a replica but my master is unknown to me");
        return;
    }
    if (!force && ((me->slaveof->flags & CLUSTER_NODE_FAIL) || !me->slaveof->link)) {
        refuse(c, "ERR Master is down or failed, please use CLUSTER FAILOVER FORCE");
        return;
    }
    cluster_reset_manual_failover();
    cluster->mf_end = mstime() + CLUSTER_MF_TIMEOUT;
    if (takeover) {
        log_warning("Taking over the master (user request).");
        cluster_todo(CLUSTER_TODO_TAKEOVER);
    } else if (force) {
        log_warning("Forced failover user request accepted.");
        cluster->mf_can_start = 1;
        cluster_todo(CLUSTER_TODO_HANDLE_FAILOVER);
    } else {
        log_warning("Manual failover user request accepted.");
        cluster_todo(CLUSTER_TODO_MFSTART);
    }
    finish();
    bus_wake();
    add_reply_ok(c);
}

static void cluster_myshardid_command(client *c) {
    if (cluster_disabled_or_reply(c)) return;
    enter();
    const cluster_node *me = cluster->myself;
    const cluster_node *master = (me->flags & CLUSTER_NODE_SLAVE) && me->slaveof ? me->slaveof : me;
    char name[CLUSTER_NAMELEN];
    memcpy(name, master->name, CLUSTER_NAMELEN);
    finish();
    add_reply_bulk(c, name, CLUSTER_NAMELEN);
}

static const char *const help_lines[] = {
    "ADDSLOTS <slot> [<slot> ...]",
    "    Assign slots to current node.",
    "ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
    "    Assign slots which are between <start-slot> and <end-slot> to current node.",
    "BUMPEPOCH",
    "    Advance the cluster config epoch.",
    "COUNT-FAILURE-REPORTS <node-id>",
    "    Return number of failure reports for <node-id>.",
    "COUNTKEYSINSLOT <slot>",
    "    Return the number of keys in <slot>.",
    "DELSLOTS <slot> [<slot> ...]",
    "    Delete slots information from current node.",
    "DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
    "    Delete slots information which are between <start-slot> and <end-slot> from current node.",
    "FAILOVER [FORCE|TAKEOVER]",
    "    Promote current replica node to being a master.",
    "FORGET <node-id>",
    "    Remove a node from the cluster.",
    "GETKEYSINSLOT <slot> <count>",
    "    Return key names stored by current node in a slot.",
    "FLUSHSLOTS",
    "    Delete current node own slots information.",
    "INFO",
    "    Return information about the cluster.",
    "KEYSLOT <key>",
    "    Return the hash slot for <key>.",
    "MEET <ip> <port> [<bus-port>]",
    "    Connect nodes into a working cluster.",
    "MYID",
    "    Return the node id.",
    "NODES",
    "    Return cluster configuration seen by node. Output format:",
    "    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
    "REPLICATE <node-id>",
    "    Configure current node as replica to <node-id>.",
    "RESET [HARD|SOFT]",
    "    Reset current node (default: soft).",
    "SET-CONFIG-EPOCH <epoch>",
    "    Set config epoch of current node.",
    "SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)",
    "    Set slot state.",
    "REPLICAS <node-id>",
    "    Return <node-id> replicas.",
    "SAVECONFIG",
    "    Force saving cluster configuration on disk.",
    "SLOTS",
    "    Return information about slots range mappings. Each range is made of:",
    "    start, end, master and replicas IP addresses, ports and ids",
    "SHARDS",
    "    Return information about slot range mappings and the nodes associated with them.",
    "LINKS",
    "    Return information about all network links between this node and its peers.",
    "    Output format is an array where each array element is a map containing attributes of a link",
    NULL,
};

static void cluster_help_command(client *c) {
    if (cluster_disabled_or_reply(c)) return;
    add_reply_help(c, "CLUSTER", help_lines);
}

/* ---- SLOTS, SHARDS ---- */

/* isReplicaAvailable */
static bool replica_available(const cluster_node *n) {
    if (n->flags & CLUSTER_NODE_FAIL) return false;
    long long off = (n->flags & CLUSTER_NODE_MYSELF) ? cluster_my_repl_offset() : n->repl_offset;
    return off != 0;
}

/* addNodeToNodeReply */
static void reply_slots_node(client *c, const cluster_node *n, int type) {
    add_reply_array(c, 4);
    if (type == CLUSTER_ENDPOINT_UNKNOWN) add_reply_null(c);
    else add_reply_bulk_cstr(c, cluster_preferred_endpoint(n, type));
    add_reply_integer(c, n->port);
    add_reply_bulk(c, n->name, CLUSTER_NAMELEN);
    bool with_ip = type != CLUSTER_ENDPOINT_IP;
    bool with_host = type != CLUSTER_ENDPOINT_HOSTNAME && n->hostname[0];
    add_reply_map(c, with_ip + with_host);
    if (with_ip) {
        add_reply_bulk_cstr(c, "ip");
        add_reply_bulk_cstr(c, n->ip);
    }
    if (with_host) {
        add_reply_bulk_cstr(c, "hostname");
        add_reply_bulk_cstr(c, n->hostname);
    }
}

static void cluster_slots_command(client *c) {
    if (cluster_disabled_or_reply(c)) return;
    enter();
    cluster_apply_todo();
    int type = cluster_endpoint_type(), nruns;
    slot_run *runs = slot_runs(&nruns);
    add_reply_array(c, nruns);
    for (int r = 0; r < nruns; r++) {
        const cluster_node *m = runs[r].owner;
        int avail = 0;
        for (int i = 0; i < m->numslaves; i++) avail += replica_available(m->slaves[i]);
        add_reply_array(c, 3 + avail);
        add_reply_integer(c, runs[r].start);
        add_reply_integer(c, runs[r].end);
        reply_slots_node(c, m, type);
        for (int i = 0; i < m->numslaves; i++)
            if (replica_available(m->slaves[i])) reply_slots_node(c, m->slaves[i], type);
    }
    mem_free(runs);
    cluster_unlock();
}

/* addNodeDetailsToShardReply (no TLS: "port" is the node's port). */
static void reply_shard_node(client *c, const cluster_node *n, int type) {
    long long offset;
    if (n->flags & CLUSTER_NODE_MYSELF) offset = cluster_my_repl_offset();
    else offset = n->repl_offset;
    add_reply_map(c, 6 + (n->port != 0) + (n->hostname[0] != '\0'));
    add_reply_bulk_cstr(c, "id");
    add_reply_bulk(c, n->name, CLUSTER_NAMELEN);
    if (n->port) {
        add_reply_bulk_cstr(c, "port");
        add_reply_integer(c, n->port);
    }
    add_reply_bulk_cstr(c, "ip");
    add_reply_bulk_cstr(c, n->ip);
    add_reply_bulk_cstr(c, "endpoint");
    add_reply_bulk_cstr(c, cluster_preferred_endpoint(n, type));
    if (n->hostname[0]) {
        add_reply_bulk_cstr(c, "hostname");
        add_reply_bulk_cstr(c, n->hostname);
    }
    add_reply_bulk_cstr(c, "role");
    add_reply_bulk_cstr(c, is_slave(n) ? "replica" : "master");
    add_reply_bulk_cstr(c, "replication-offset");
    add_reply_integer(c, offset);
    add_reply_bulk_cstr(c, "health");
    add_reply_bulk_cstr(c, (n->flags & CLUSTER_NODE_FAIL) ? "fail"
                           : is_slave(n) && offset == 0   ? "loading"
                                                          : "online");
}

static void cluster_shards_command(client *c) {
    if (cluster_disabled_or_reply(c)) return;
    enter();
    cluster_apply_todo();
    int type = cluster_endpoint_type(), nruns;
    slot_run *runs = slot_runs(&nruns);
    int masters = 0;
    for (int i = 0; i < cluster->nnodes; i++) masters += (cluster->nodes[i]->flags & CLUSTER_NODE_MASTER) != 0;
    add_reply_array(c, masters);
    for (int i = 0; i < cluster->nnodes; i++) {
        const cluster_node *m = cluster->nodes[i];
        if (!(m->flags & CLUSTER_NODE_MASTER)) continue;
        add_reply_map(c, 2);
        add_reply_bulk_cstr(c, "slots");
        int mine = 0;
        for (int r = 0; r < nruns; r++) mine += runs[r].owner == m;
        add_reply_array(c, 2LL * mine);
        for (int r = 0; r < nruns; r++) {
            if (runs[r].owner != m) continue;
            add_reply_integer(c, runs[r].start);
            add_reply_integer(c, runs[r].end);
        }
        add_reply_bulk_cstr(c, "nodes");
        add_reply_array(c, 1 + m->numslaves);
        reply_shard_node(c, m, type);
        for (int s = 0; s < m->numslaves; s++) reply_shard_node(c, m->slaves[s], type);
    }
    mem_free(runs);
    cluster_unlock();
}

/* ---- KEYSLOT, COUNTKEYSINSLOT, GETKEYSINSLOT (the keyspace: no cluster lock) ---- */

static void cluster_keyslot_command(client *c) {
    if (cluster_disabled_or_reply(c)) return;
    add_reply_integer(c, key_hash_slot(c->argv[2].ptr, c->argv[2].len));
}

static void cluster_countkeysinslot_command(client *c) {
    if (cluster_disabled_or_reply(c)) return;
    long long slot;
    if (!arg_ll_or_reply(c, &c->argv[2], &slot, NULL)) return;
    if (slot < 0 || slot >= CLUSTER_SLOTS) {
        add_reply_error(c, "ERR Invalid slot");
        return;
    }
    long long count = 0;
    ktable *t = db_table(0, (unsigned)slot, false);
    if (t) {
        slot_lock((unsigned)slot);
        count = ktable_count(t);
        slot_unlock((unsigned)slot);
    }
    add_reply_integer(c, count);
}

static void cluster_getkeysinslot_command(client *c) {
    if (cluster_disabled_or_reply(c)) return;
    long long slot, maxkeys;
    if (!arg_ll_or_reply(c, &c->argv[2], &slot, NULL)) return;
    if (!arg_ll_or_reply(c, &c->argv[3], &maxkeys, NULL)) return;
    if (slot < 0 || slot >= CLUSTER_SLOTS || maxkeys < 0) {
        add_reply_error(c, "ERR Invalid slot or number of keys");
        return;
    }
    /* Keys of the table in bucket order, logically expired ones included,
     * as Redis walks its slot's key list; the walk stops at maxkeys (redis-cli asks for 10 at a time of a slot that may hold
     * millions). Copied under the slot lock, replied after. */
    sbuf keys = {0}; /* each key as a 4-byte length then its bytes */
    int got = 0;
    ktable *t = db_table(0, (unsigned)slot, false);
    if (t && maxkeys > 0) {
        slot_lock((unsigned)slot);
        uint32_t count = ktable_count(t);
        int want = maxkeys < (long long)count ? (int)maxkeys : (int)count;
        entry **found = mem_alloc((size_t)(want > 0 ? want : 1) * sizeof *found);
        /* From a random bucket: a reshard empties the table from where
         * each walk starts, and a fixed start would walk the emptied part
         * again every time. */
        got = ktable_sample(t, db_random(), false, found, want);
        for (int i = 0; i < got; i++) {
            size_t len;
            const char *k = entry_key(found[i], &len);
            uint32_t l32 = (uint32_t)len;
            sbuf_add(&keys, &l32, sizeof l32);
            sbuf_add(&keys, k, len);
        }
        slot_unlock((unsigned)slot);
        mem_free(found);
    }
    add_reply_array(c, got);
    for (size_t off = 0; off < keys.len;) {
        uint32_t l32;
        memcpy(&l32, keys.p + off, sizeof l32);
        add_reply_bulk(c, keys.p + off + sizeof l32, l32);
        off += sizeof l32 + l32;
    }
    sbuf_free(&keys);
}

/* ---- slot assignment ---- */

/* checkSlotAssignmentsOrReply over [start, end]; seen[] counts each slot. */
static bool check_slots_or_reply(client *c, unsigned char *seen, bool del, int start, int end) {
    for (int slot = start; slot <= end; slot++) {
        if (del && !cluster->slots[slot]) {
            add_reply_errorf(c, "ERR Slot %d is already unassigned", slot);
            return false;
        }
        if (!del && cluster->slots[slot]) {
            add_reply_errorf(c, "ERR Slot %d is already busy", slot);
            return false;
        }
        if (seen[slot]++ == 1) {
            add_reply_errorf(c, "ERR Slot %d specified multiple times", slot);
            return false;
        }
    }
    return true;
}

/* clusterUpdateSlots, then the todo and +OK. */
static void update_slots_and_reply(client *c, const unsigned char *seen, bool del) {
    for (int j = 0; j < CLUSTER_SLOTS; j++) {
        if (!seen[j]) continue;
        cluster->importing_slots_from[j] = NULL; /* now the real owner */
        bool done = del ? cluster_del_slot(j) : cluster_add_slot(cluster->myself, j);
        (void)done;
    }
    changed_reply_ok(c);
}

/* ADDSLOTS / DELSLOTS <slot> ... and, with `ranges`, ADDSLOTSRANGE /
 * DELSLOTSRANGE <start> <end> ... (Redis checks every argument before it
 * changes anything; the plain forms parse all slots first). */
static void assign_slots_command(client *c, bool del, bool ranges) {
    if (cluster_disabled_or_reply(c)) return;
    if (ranges && c->argc % 2 == 1) {
        reply_arity(c);
        return;
    }
    for (int j = 2; !ranges && j < c->argc; j++)
        if (cluster_slot_or_reply(c, &c->argv[j]) < 0) return;
    unsigned char *seen = mem_calloc(CLUSTER_SLOTS, 1);
    enter();
    bool ok = true;
    for (int j = 2; ok && j < c->argc; j += ranges ? 2 : 1) {
        int start = cluster_slot_or_reply(c, &c->argv[j]);
        int end = !ranges ? start : start < 0 ? -1 : cluster_slot_or_reply(c, &c->argv[j + 1]);
        ok = start >= 0 && end >= 0;
        if (ok && start > end) {
            add_reply_errorf(c, "ERR start slot number %d is greater than end slot number %d", start, end);
            ok = false;
        }
        ok = ok && check_slots_or_reply(c, seen, del, start, end);
    }
    if (ok) update_slots_and_reply(c, seen, del);
    else cluster_unlock();
    mem_free(seen);
}

static void cluster_addslots_command(client *c) { assign_slots_command(c, false, false); }
static void cluster_delslots_command(client *c) { assign_slots_command(c, true, false); }
static void cluster_addslotsrange_command(client *c) { assign_slots_command(c, false, true); }
static void cluster_delslotsrange_command(client *c) { assign_slots_command(c, true, true); }

static void cluster_flushslots_command(client *c) {
    if (cluster_disabled_or_reply(c)) return;
    if (db_size(0) != 0) {
        add_reply_error(c, "ERR DB must be empty to perform CLUSTER FLUSHSLOTS.");
        return;
    }
    enter();
    cluster_del_node_slots(cluster->myself);
    changed_reply_ok(c);
}

/* ---- SETSLOT: the open-slot markers and a slot's owner, by hand ---- */

/* The keys myself holds in `slot` (countKeysInSlot). The caller holds the
 * slot's lock, or reads a counter that may move (inside EXEC). */
static long long keys_in_slot(int slot) {
    ktable *t = db_table(0, (unsigned)slot, false);
    return t ? (long long)ktable_count(t) : 0;
}

/* The master a SETSLOT action names: NULL after replying. */
static cluster_node *setslot_master_or_reply(client *c, const arg_t *a, const char *unknown_fmt) {
    cluster_node *n = cluster_lookup_node(a->ptr, a->len);
    if (!n) {
        add_reply_errorf(c, unknown_fmt, (int)a->len, a->ptr);
        return NULL;
    }
    if (is_slave(n)) {
        add_reply_error(c, "ERR Target node is not a master");
        return NULL;
    }
    return n;
}

/* SETSLOT <slot> NODE <id> (the checks are done): the slot goes to n; a
 * master left with no slot follows n, and closing an import here takes a
 * new epoch and tells every node at once. */
static void setslot_node(int slot, cluster_node *n) {
    cluster_node *me = cluster->myself;
    if (keys_in_slot(slot) == 0 && cluster->migrating_slots_to[slot]) cluster->migrating_slots_to[slot] = NULL;
    bool was_mine = cluster->slots[slot] == me;
    cluster_del_slot(slot);
    cluster_add_slot(n, slot);
    if (was_mine && n != me && me->numslots == 0 && cluster_cfg_bool("cluster-allow-replica-migration")) {
        log_warning("Configuration change detected. Reconfiguring myself as a replica of %.40s", n->name);
        cluster_set_my_master(n);
        cluster_todo(CLUSTER_TODO_SAVE_CONFIG | CLUSTER_TODO_UPDATE_STATE | CLUSTER_TODO_FSYNC_CONFIG);
    }
    if (n == me && cluster->importing_slots_from[slot]) {
        /* A slot migrated by hand: a new epoch of our own, so the new owner
         * wins everywhere (a collision is resolved by the epoch rule). */
        if (cluster_bump_epoch_without_consensus())
            log_warning("configEpoch updated after importing slot %d", slot);
        cluster->importing_slots_from[slot] = NULL;
        cluster_todo(CLUSTER_TODO_PONG_ALL);
    }
}

/* CLUSTER SETSLOT <slot> MIGRATING <id> | IMPORTING <id> | STABLE |
 * NODE <id>, with Redis 7.0.15's checks in its order. The slot's lock is
 * held across the key count and the change (slot locks come before the
 * cluster lock), so no write lands between them; inside EXEC, which holds
 * every slot lock when it queues a CLUSTER command (CMD_CLUSTER_STATE), it
 * is already held. As in Redis, nodes.conf holds a change of myself's
 * slots or markers (written, fsynced when an epoch was taken) before the
 * reply. */
static void cluster_setslot_command(client *c) {
    if (cluster_disabled_or_reply(c)) return;
    long long parsed;
    bool slot_ok = parse_ll(c->argv[2].ptr, c->argv[2].len, &parsed) && parsed >= 0 && parsed < CLUSTER_SLOTS;
    int slot = slot_ok ? (int)parsed : -1;
    bool locked = slot_ok && !slots_held_by_exec;
    if (locked) slot_lock((unsigned)slot);
    enter();
    cluster_node *me = cluster->myself, *n = NULL;
    const arg_t *action = &c->argv[3];
    bool ok = false, others_only = false;
    if (is_slave(me)) {
        add_reply_error(c, "ERR Please use SETSLOT only with masters.");
    } else if (!slot_ok) {
        add_reply_error(c, "ERR Invalid or out of range slot");
    } else if (arg_eq(action, "migrating") && c->argc == 5) {
        if (cluster->slots[slot] != me)
            add_reply_errorf(c, "ERR I'm not the owner of hash slot %u", (unsigned)slot);
        else if ((n = setslot_master_or_reply(c, &c->argv[4], "ERR I don't know about node %.*s")))
            cluster->migrating_slots_to[slot] = n, ok = true;
    } else if (arg_eq(action, "importing") && c->argc == 5) {
        if (cluster->slots[slot] == me)
            add_reply_errorf(c, "ERR I'm already the owner of hash slot %u", (unsigned)slot);
        else if ((n = setslot_master_or_reply(c, &c->argv[4], "ERR I don't know about node %.*s")))
            cluster->importing_slots_from[slot] = n, ok = true;
    } else if (arg_eq(action, "stable") && c->argc == 4) {
        cluster->importing_slots_from[slot] = NULL;
        cluster->migrating_slots_to[slot] = NULL;
        ok = true;
    } else if (arg_eq(action, "node") && c->argc == 5) {
        if ((n = setslot_master_or_reply(c, &c->argv[4], "ERR Unknown node %.*s"))) {
            if (cluster->slots[slot] == me && n != me && keys_in_slot(slot) != 0)
                add_reply_errorf(c,
                                 "ERR Can't assign hashslot %d to a different node while I still hold keys for "
                                 "this hash slot.",
                                 slot);
            else {
                /* Another node's slot going to another node: nothing of
                 * myself changes, and the new owner's claim (its epoch)
                 * corrects a restart that missed it. redis-cli sends that
                 * to every other master for every slot it moves. */
                others_only = cluster->slots[slot] != me && n != me && !cluster->migrating_slots_to[slot] &&
                              !cluster->importing_slots_from[slot];
                setslot_node(slot, n), ok = true;
            }
        }
    } else {
        add_reply_error(c, "ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP");
    }
    if (ok) {
        /* nodes.conf holds a change of myself's slots or markers before the
         * reply, as in Redis; one of other nodes only is left to the bus
         * thread's next before-sleep (a reshard's third masters: the file
         * write cost them 0.5-1 ms per slot). */
        bool later = others_only && !(cluster->todo & CLUSTER_TODO_FSYNC_CONFIG);
        cluster_todo(CLUSTER_TODO_PUBLISH | CLUSTER_TODO_UPDATE_STATE | (later ? 0 : CLUSTER_TODO_SAVE_CONFIG));
        cluster_apply_todo();
        if (later) cluster_todo(CLUSTER_TODO_SAVE_CONFIG);
        cluster_unlock();
        bus_wake();
        add_reply_ok(c);
    } else {
        cluster_unlock();
    }
    if (locked) slot_unlock((unsigned)slot);
}

/* ---- epochs ---- */

static void cluster_bumpepoch_command(client *c) {
    if (cluster_disabled_or_reply(c)) return;
    enter();
    bool bumped = cluster_bump_epoch_without_consensus();
    unsigned long long epoch = (unsigned long long)cluster->myself->config_epoch;
    finish();
    char status[64];
    snprintf(status, sizeof status, "%s %llu", bumped ? "BUMPED" : "STILL", epoch);
    add_reply_status(c, status);
}

static void cluster_set_config_epoch_command(client *c) {
    if (cluster_disabled_or_reply(c)) return;
    long long epoch;
    if (!arg_ll_or_reply(c, &c->argv[2], &epoch, NULL)) return;
    if (epoch < 0) {
        add_reply_errorf(c, "ERR Invalid config epoch specified: %lld", epoch);
        return;
    }
    enter();
    if (cluster->nnodes > 1) {
        refuse(c, "ERR The user can assign a config epoch only when the node does not know any other node.");
        return;
    }
    if (cluster->myself->config_epoch != 0) {
        refuse(c, "ERR Node config epoch is already non-zero");
        return;
    }
    cluster->myself->config_epoch = (uint64_t)epoch;
    log_warning("configEpoch set to %llu via CLUSTER SET-CONFIG-EPOCH", (unsigned long long)epoch);
    if (cluster->current_epoch < (uint64_t)epoch) cluster->current_epoch = (uint64_t)epoch;
    changed_reply_ok(c);
}

/* ---- nodes: MEET, FORGET, REPLICATE, REPLICAS, COUNT-FAILURE-REPORTS ---- */

/* clusterStartHandshake: false with *invalid set for a bad address; false
 * without it when a handshake with that address is already going on. */
static bool start_handshake(const char *ip, int port, int cport, bool *invalid) {
    unsigned char addr[sizeof(struct in6_addr)];
    char norm[CLUSTER_IPLEN] = {0};
    *invalid = true;
    if (inet_pton(AF_INET, ip, addr) == 1) inet_ntop(AF_INET, addr, norm, sizeof norm);
    else if (inet_pton(AF_INET6, ip, addr) == 1) inet_ntop(AF_INET6, addr, norm, sizeof norm);
    else return false;
    if (port <= 0 || port > 65535 || cport <= 0 || cport > 65535) return false;
    *invalid = false;
    for (int i = 0; i < cluster->nnodes; i++) {
        const cluster_node *n = cluster->nodes[i];
        if ((n->flags & CLUSTER_NODE_HANDSHAKE) && !strcasecmp(n->ip, norm) && n->port == port && n->cport == cport)
            return false;
    }
    cluster_node *n = cluster_node_create(NULL, CLUSTER_NODE_HANDSHAKE | CLUSTER_NODE_MEET);
    memcpy(n->ip, norm, sizeof n->ip);
    n->port = port;
    n->cport = cport;
    cluster_node_add(n);
    return true;
}

static void cluster_meet_command(client *c) {
    if (cluster_disabled_or_reply(c)) return;
    if (c->argc != 4 && c->argc != 5) {
        add_reply_subcommand_syntax_error(c, "CLUSTER");
        return;
    }
    long long port, cport;
    if (!parse_ll(c->argv[3].ptr, c->argv[3].len, &port)) {
        add_reply_errorf(c, "ERR Invalid TCP base port specified: %.*s", (int)c->argv[3].len, c->argv[3].ptr);
        return;
    }
    if (c->argc == 5) {
        if (!parse_ll(c->argv[4].ptr, c->argv[4].len, &cport)) {
            add_reply_errorf(c, "ERR Invalid TCP bus port specified: %.*s", (int)c->argv[4].len, c->argv[4].ptr);
            return;
        }
    } else {
        cport = port + CLUSTER_PORT_INCR;
    }
    char ip[CLUSTER_IPLEN * 2];
    snprintf(ip, sizeof ip, "%.*s", (int)(c->argv[2].len < sizeof ip - 1 ? c->argv[2].len : sizeof ip - 1),
             c->argv[2].ptr);
    bool invalid = strlen(ip) != c->argv[2].len; /* a NUL or an overlong address */
    enter();
    bool started = !invalid && start_handshake(ip, (int)port, (int)cport, &invalid);
    finish();
    if (invalid) {
        add_reply_errorf(c, "ERR Invalid node address specified: %.*s:%.*s", (int)c->argv[2].len, c->argv[2].ptr,
                         (int)c->argv[3].len, c->argv[3].ptr);
        return;
    }
    if (started) bus_wake_connect();
    add_reply_ok(c);
}

static void cluster_forget_command(client *c) {
    if (cluster_disabled_or_reply(c)) return;
    enter();
    cluster_node *n = node_or_reply(c, &c->argv[2]);
    const char *err = NULL;
    if (n == cluster->myself) err = "ERR I tried hard but I can't forget myself...";
    else if (n && is_slave(cluster->myself) && cluster->myself->slaveof == n) err = "ERR Can't forget my master!";
    if (!n || err) {
        refuse(c, err ? err : "");
        return;
    }
    cluster_blacklist_add(n);
    cluster_node_del(n);
    changed_reply_ok(c);
}

static void cluster_replicate_command(client *c) {
    if (cluster_disabled_or_reply(c)) return;
    enter();
    cluster_node *n = node_or_reply(c, &c->argv[2]), *me = cluster->myself;
    const char *err = NULL;
    if (!n) err = "";
    else if (n == me) err = "ERR Can't replicate myself";
    else if (is_slave(n)) err = "ERR I can only replicate a master, not a replica.";
    else if ((me->flags & CLUSTER_NODE_MASTER) && (me->numslots != 0 || db_size(0) != 0))
        err = "ERR To set a master the node must be empty and without assigned slots.";
    if (err) {
        refuse(c, err);
        return;
    }
    cluster_set_my_master(n);
    changed_reply_ok(c);
}

/* REPLICAS / SLAVES <node-id> */
static void cluster_replicas_command(client *c) {
    if (cluster_disabled_or_reply(c)) return;
    enter();
    cluster_node *n = node_or_reply(c, &c->argv[2]);
    if (!n || is_slave(n)) {
        refuse(c, n ? "ERR The specified node is not a master" : "");
        return;
    }
    add_reply_array(c, n->numslaves);
    for (int j = 0; j < n->numslaves; j++) {
        sbuf line = {0};
        cluster_node_description(&line, n->slaves[j]);
        add_reply_bulk(c, line.p, line.len);
        sbuf_free(&line);
    }
    finish();
}

static void cluster_count_failure_reports_command(client *c) {
    if (cluster_disabled_or_reply(c)) return;
    enter();
    cluster_node *n = node_or_reply(c, &c->argv[2]);
    if (n) add_reply_integer(c, cluster_node_failure_reports_count(n));
    finish();
}

/* ---- RESET, SAVECONFIG, LINKS ---- */

static void cluster_reset_command(client *c) {
    if (cluster_disabled_or_reply(c)) return;
    if (c->argc > 3) {
        add_reply_subcommand_syntax_error(c, "CLUSTER");
        return;
    }
    bool hard = false;
    if (c->argc == 3) {
        if (arg_eq(&c->argv[2], "hard")) hard = true;
        else if (!arg_eq(&c->argv[2], "soft")) {
            add_reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    enter();
    if ((cluster->myself->flags & CLUSTER_NODE_MASTER) && db_size(c->db) != 0) {
        refuse(c, "ERR CLUSTER RESET can't be called with master nodes containing keys");
        return;
    }
    bool flush = cluster_reset(hard);
    finish();
    if (flush) db_flush(-1, false); /* a replica's dataset goes (Redis's emptyData) */
    bus_wake();
    add_reply_ok(c);
}

static void cluster_saveconfig_command(client *c) {
    if (cluster_disabled_or_reply(c)) return;
    enter();
    int r = cluster_save_config(true);
    char err[256] = "";
    if (r < 0) snprintf(err, sizeof err, "ERR error saving the cluster node config: %s", strerror(errno));
    finish();
    if (r < 0) add_reply_error(c, err);
    else add_reply_ok(c);
}

static void cluster_links_command(client *c) {
    if (cluster_disabled_or_reply(c)) return;
    enter();
    const cluster_bus_hooks *h = cluster_get_bus_hooks();
    if (h->links_reply) h->links_reply(c);
    else add_reply_array(c, 0);
    finish();
}

/* ---- the table (CLUSTER-WIRE 1.7) ---- */

#define ADMIN_FLAGS (CMD_NO_ASYNC_LOADING | CMD_ADMIN | CMD_STALE)
#define SUB(n, ar, fl, fn, ver, sum, cx, acl)                                                                  \
    {.name = n, .arity = ar, .flags = (fl) | CMD_CLUSTER_STATE, .proc = fn, .group = "cluster", .since = ver, .summary = sum,      \
     .complexity = cx, .acl_categories = acl}

static command cluster_subcommands[] = {
    SUB("addslots", -3, ADMIN_FLAGS, cluster_addslots_command, "3.0.0", "Assign new hash slots to receiving node",
        "O(N) where N is the total number of hash slot arguments", "admin slow dangerous"),
    SUB("addslotsrange", -4, ADMIN_FLAGS, cluster_addslotsrange_command, "7.0.0",
        "Assign new hash slots to receiving node", "O(N) where N is the total number of the slots between the start slot and end slot arguments.",
        "admin slow dangerous"),
    SUB("bumpepoch", 2, ADMIN_FLAGS, cluster_bumpepoch_command, "3.0.0", "Advance the cluster config epoch", "O(1)",
        "admin slow dangerous"),
    SUB("cancelslotmigrations", 2, ADMIN_FLAGS, cluster_cancelslotmigrations_command, "9.0.0",
        "Cancel all current ongoing slot migration operations.", "O(N), where N is the number of active slot import and export jobs.",
        "admin slow dangerous"),
    SUB("count-failure-reports", 3, CMD_ADMIN | CMD_STALE, cluster_count_failure_reports_command, "3.0.0",
        "Return the number of failure reports active for a given node", "O(N) where N is the number of failure reports",
        "admin slow dangerous"),
    SUB("countkeysinslot", 3, CMD_STALE, cluster_countkeysinslot_command, "3.0.0",
        "Return the number of local keys in the specified hash slot", "O(1)", "slow"),
    SUB("delslots", -3, ADMIN_FLAGS, cluster_delslots_command, "3.0.0", "Set hash slots as unbound in receiving node",
        "O(N) where N is the total number of hash slot arguments", "admin slow dangerous"),
    SUB("delslotsrange", -4, ADMIN_FLAGS, cluster_delslotsrange_command, "7.0.0",
        "Set hash slots as unbound in receiving node",
        "O(N) where N is the total number of the slots between the start slot and end slot arguments.",
        "admin slow dangerous"),
    SUB("flushslots", 2, ADMIN_FLAGS, cluster_flushslots_command, "3.0.0", "Delete a node's own slots information",
        "O(1)", "admin slow dangerous"),
    SUB("failover", -2, ADMIN_FLAGS, cluster_failover_command, "3.0.0",
        "Forces a replica to perform a manual failover of its master.", "O(1)", "admin slow dangerous"),
    SUB("forget", 3, ADMIN_FLAGS, cluster_forget_command, "3.0.0", "Remove a node from the nodes table", "O(1)",
        "admin slow dangerous"),
    SUB("getkeysinslot", 4, CMD_STALE, cluster_getkeysinslot_command, "3.0.0",
        "Return local key names in the specified hash slot", "O(log(N)) where N is the number of requested keys",
        "slow"),
    SUB("getslotmigrations", 2, CMD_ADMIN | CMD_STALE, cluster_getslotmigrations_command, "9.0.0",
        "Get the status of ongoing and recently finished slot import and export operations.",
        "O(N), where N is the number of active slot import and export jobs.", "admin slow dangerous"),
    SUB("help", 2, CMD_LOADING | CMD_STALE, cluster_help_command, "5.0.0", "Show helpful text about the different subcommands",
        "O(1)", "slow"),
    SUB("info", 2, CMD_STALE, cluster_info_command, "3.0.0", "Provides info about Redis Cluster node state", "O(1)",
        "slow"),
    SUB("keyslot", 3, CMD_STALE, cluster_keyslot_command, "3.0.0", "Returns the hash slot of the specified key",
        "O(N) where N is the number of bytes in the key", "slow"),
    SUB("links", 2, CMD_STALE, cluster_links_command, "7.0.0",
        "Returns a list of all TCP links to and from peer nodes in cluster", "O(N) where N is the total number of Cluster nodes",
        "slow"),
    SUB("meet", -4, ADMIN_FLAGS, cluster_meet_command, "3.0.0", "Force a node cluster to handshake with another node",
        "O(1)", "admin slow dangerous"),
    SUB("migrateslots", -6, ADMIN_FLAGS, cluster_migrateslots_command, "9.0.0",
        "Migrate the given slots from this node to the specified nodes.",
        "O(N) where N is the total number of the slots between all start slot and end slot arguments.",
        "admin slow dangerous"),
    SUB("myid", 2, CMD_STALE, cluster_myid_command, "3.0.0", "Return the node id", "O(1)", "slow"),
    SUB("myshardid", 2, CMD_STALE, cluster_myshardid_command, "7.2.0", "Returns the shard ID of a node.", "O(1)",
        "slow"),
    SUB("nodes", 2, CMD_STALE, cluster_nodes_command, "3.0.0", "Get Cluster config for the node",
        "O(N) where N is the total number of Cluster nodes", "slow"),
    SUB("replicas", 3, CMD_ADMIN | CMD_STALE, cluster_replicas_command, "5.0.0",
        "List replica nodes of the specified master node", "O(1)", "admin slow dangerous"),
    SUB("replicate", 3, ADMIN_FLAGS, cluster_replicate_command, "3.0.0",
        "Reconfigure a node as a replica of the specified master node", "O(1)", "admin slow dangerous"),
    SUB("reset", -2, CMD_ADMIN | CMD_STALE | CMD_NOSCRIPT, cluster_reset_command, "3.0.0", "Reset a Redis Cluster node",
        "O(N) where N is the number of known nodes. The command may execute a FLUSHALL as a side effect.",
        "admin slow dangerous"),
    SUB("saveconfig", 2, ADMIN_FLAGS, cluster_saveconfig_command, "3.0.0",
        "Forces the node to save cluster state on disk", "O(1)", "admin slow dangerous"),
    SUB("set-config-epoch", 3, ADMIN_FLAGS, cluster_set_config_epoch_command, "3.0.0",
        "Set the configuration epoch in a new node", "O(1)", "admin slow dangerous"),
    SUB("setslot", -4, ADMIN_FLAGS, cluster_setslot_command, "3.0.0", "Bind a hash slot to a specific node", "O(1)",
        "admin slow dangerous"),
    SUB("shards", 2, CMD_STALE, cluster_shards_command, "7.0.0", "Get array of cluster slots to node mappings",
        "O(N) where N is the total number of cluster nodes", "slow"),
    SUB("syncslots", -3, ADMIN_FLAGS | CMD_NO_MULTI | CMD_NOSCRIPT, cluster_syncslots_command, "9.0.0",
        "Internal command to allow navigation of the atomic slot migration state machine.",
        "Depends on subcommand.", "admin slow dangerous"),
    SUB("slaves", 3, CMD_ADMIN | CMD_STALE, cluster_replicas_command, "3.0.0",
        "List replica nodes of the specified master node", "O(1)", "admin slow dangerous"),
    SUB("slots", 2, CMD_STALE, cluster_slots_command, "3.0.0", "Get array of Cluster slot to node mappings",
        "O(N) where N is the total number of Cluster nodes", "slow"),
    {0},
};

command cluster_commands[] = {
    {.name = "cluster", .arity = -2, .flags = 0, .group = "cluster", .since = "3.0.0",
     .summary = "A container for cluster commands", .complexity = "Depends on subcommand.",
     .acl_categories = "slow", .subcommands = cluster_subcommands},
    {0},
};
