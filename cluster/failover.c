/*
 * failover.c - replicas taking over from their master, as Redis 7.0.15
 * does it (cluster.c): the election a replica of a FAILed master runs
 * (clusterHandleSlaveFailover: a delay by rank, currentEpoch + 1, a vote
 * request to every master, a majority of the masters that serve slots),
 * the vote a master gives (clusterSendFailoverAuthIfNeeded: one per epoch,
 * none for the same master's replicas within 2 x node timeout, none when
 * the claimed slots have a newer owner), the take-over itself
 * (clusterFailoverReplaceYourMaster), CLUSTER FAILOVER's FORCE and
 * TAKEOVER forms, and replica migration to orphaned masters
 * (clusterHandleSlaveMigration).
 *
 * Everything here runs on the bus thread with cluster_lock held: from the
 * cron (failover_cron), before the loop sleeps (failover_before_sleep) and
 * from gossip.c for the messages. A CLUSTER FAILOVER on a worker only sets
 * the state and a todo flag, and wakes the bus.
 *
 * The coordinated CLUSTER FAILOVER (no FORCE) pauses the master's writes
 * (server/writepause.h) until the replica has all of them.
 */
#include "bus_int.h"

#include "bus.h"

#include "db.h"
#include "log.h"
#include "repl_replica.h"
#include "rng.h"
#include "writepause.h"

#include <stdatomic.h>
#include <stdint.h>

#include <string.h>
#include <time.h>

/* Redis's CLUSTER_CANT_FAILOVER_* (why the last attempt stalled). */
enum {
    CANT_FAILOVER_NONE = 0,
    CANT_FAILOVER_DATA_AGE,
    CANT_FAILOVER_WAITING_DELAY,
    CANT_FAILOVER_EXPIRED,
    CANT_FAILOVER_WAITING_VOTES,
};
#define CANT_FAILOVER_RELOG_PERIOD 10       /* seconds */
#define SLAVE_MIGRATION_DELAY 5000          /* ms an orphan waits for its own */
#define FAILOVER_FIXED_DELAY 100            /* ms; Redis 500 */
#define FAILOVER_RANDOM_DELAY 100           /* ms; Redis 500 */

static bool is_master(const cluster_node *n) { return n->flags & CLUSTER_NODE_MASTER; }
static bool is_slave(const cluster_node *n) { return n->flags & CLUSTER_NODE_SLAVE; }
static bool failed(const cluster_node *n) { return n->flags & CLUSTER_NODE_FAIL; }
static bool timed_out(const cluster_node *n) { return n->flags & CLUSTER_NODE_PFAIL; }

/* ---- votes (a master's side) ---- */

void failover_auth_requested(cluster_node *node, const bus_msg_view *v)
{
    cluster_node *me = cluster->myself;
    cluster_node *master = node->slaveof;
    bool force_ack = (v->mflags0 & BUS_MFLAG0_FORCEACK) != 0;

    /* Only masters serving slots vote: they make the cluster's size. */
    if (is_slave(me) || me->numslots == 0) return;
    if (v->current_epoch < cluster->current_epoch) {
        log_warning("Failover auth denied to %.40s: reqEpoch (%llu) < curEpoch(%llu)", node->name,
                    (unsigned long long)v->current_epoch, (unsigned long long)cluster->current_epoch);
        return;
    }
    if (cluster->last_vote_epoch == cluster->current_epoch) {
        log_warning("Failover auth denied to %.40s: already voted for epoch %llu", node->name,
                    (unsigned long long)cluster->current_epoch);
        return;
    }
    if (is_master(node) || !master || (!failed(master) && !force_ack)) {
        if (is_master(node))
            log_warning("Failover auth denied to %.40s: it is a master node", node->name);
        else if (!master)
            log_warning("Failover auth denied to %.40s: I don't know its master", node->name);
        else
            log_warning("Failover auth denied to %.40s: its master is up", node->name);
        return;
    }
    long long now = mstime();
    if (now - master->voted_time < bus.node_timeout * 2) {
        log_warning("Failover auth denied to %.40s: can't vote about this master before %lld milliseconds",
                    node->name, bus.node_timeout * 2 - (now - master->voted_time));
        return;
    }
    /* The claimed slots must not have an owner with a newer configEpoch. */
    for (int j = 0; j < CLUSTER_SLOTS; j++) {
        if (!bus_slot_test(v->hdr->myslots, j)) continue;
        if (cluster_slot_unclaimed(j) || cluster->slots[j]->config_epoch <= v->config_epoch) continue;
        log_warning("Failover auth denied to %.40s: slot %d epoch (%llu) > reqEpoch (%llu)", node->name, j,
                    (unsigned long long)cluster->slots[j]->config_epoch, (unsigned long long)v->config_epoch);
        return;
    }
    cluster->last_vote_epoch = cluster->current_epoch;
    master->voted_time = now;
    cluster_todo(CLUSTER_TODO_SAVE_CONFIG | CLUSTER_TODO_FSYNC_CONFIG);
    bus_send_auth_ack(node->link);
    log_warning("Failover auth granted to %.40s for epoch %llu", node->name,
                (unsigned long long)cluster->current_epoch);
}

void failover_auth_acked(cluster_node *sender, const bus_msg_view *v)
{
    /* A vote counts from a master serving slots, for this election. */
    if (is_master(sender) && sender->numslots > 0 && v->current_epoch >= cluster->failover_auth_epoch) {
        cluster->failover_auth_count++;
        cluster_todo(CLUSTER_TODO_HANDLE_FAILOVER);
    }
}

/* ---- the election (a replica's side) ---- */

/* clusterGetSlaveRank: replicas of my master with a larger offset. */
static int my_rank(void)
{
    cluster_node *master = cluster->myself->slaveof;
    if (!master) return 0;
    long long mine = repl_replica_applied_offset();
    int rank = 0;
    for (int j = 0; j < master->numslaves; j++) {
        const cluster_node *r = master->slaves[j];
        if (r != cluster->myself && !(r->flags & CLUSTER_NODE_NOFAILOVER) && r->repl_offset > mine) rank++;
    }
    return rank;
}

static void log_cant_failover(int reason)
{
    static time_t lastlog_time;
    long long nolog_fail_time = bus.node_timeout + 5000;
    if (reason == cluster->cant_failover_reason && time(NULL) - lastlog_time < CANT_FAILOVER_RELOG_PERIOD) return;
    cluster->cant_failover_reason = reason;
    const cluster_node *master = cluster->myself->slaveof;
    if (master && failed(master) && mstime() - master->fail_time < nolog_fail_time) return;
    const char *msg;
    switch (reason) {
    case CANT_FAILOVER_DATA_AGE:
        msg = "Disconnected from master for longer than allowed. Please check the "
              "'cluster-replica-validity-factor' configuration option.";
        break;
    case CANT_FAILOVER_WAITING_DELAY: msg = "Waiting the delay before I can start a new failover."; break;
    case CANT_FAILOVER_EXPIRED: msg = "Failover attempt expired."; break;
    case CANT_FAILOVER_WAITING_VOTES: msg = "Waiting for votes, but majority still not reached."; break;
    default: msg = "Unknown reason code."; break;
    }
    lastlog_time = time(NULL);
    log_warning("Currently unable to failover: %s", msg);
}

/* clusterFailoverReplaceYourMaster: myself, with its new configEpoch
 * already set, becomes the master of its master's slots and tells
 * everyone. */
static void replace_my_master(void)
{
    cluster_node *me = cluster->myself, *old = me->slaveof;
    if (is_master(me) || !old) return;
    cluster_set_node_as_master(me);
    repl_replica_set_master(NULL, 0);
    for (int j = 0; j < CLUSTER_SLOTS; j++) {
        if (!cluster_node_get_slot_bit(old, j)) continue;
        cluster_del_slot(j);
        cluster_add_slot(me, j);
    }
    cluster_update_state();
    cluster_save_config_or_die(true);
    bus_broadcast_pong(BUS_BROADCAST_ALL);
    cluster_reset_manual_failover();
    /* The election is over: a later one (myself demoted, then asked to
     * take over again within the auth timeout) must start afresh, not
     * count these votes again under an old epoch. Redis 7.0.15 does not
     * reset it (Valkey does, PR #782). */
    cluster->failover_auth_time = 0;
    cluster->failover_auth_sent = 0;
    cluster->failover_auth_count = 0;
    cluster_todo(CLUSTER_TODO_PUBLISH);
}

static void handle_replica_failover(void)
{
    cluster_node *me = cluster->myself;
    long long now = mstime();
    /* A manual failover past its time is over here too before anything
     * counts (the cron may not have seen it yet): its master stops its
     * pause at its own deadline, after ours, and takes writes again. */
    if (cluster->mf_end && cluster->mf_end < now) {
        log_warning("Manual failover timed out.");
        cluster_reset_manual_failover();
    }
    long long auth_age = now - cluster->failover_auth_time;
    int needed_quorum = cluster->size / 2 + 1;
    bool manual = cluster->mf_end != 0 && cluster->mf_can_start;
    long long auth_timeout = bus.node_timeout * 2;
    if (auth_timeout < 2000) auth_timeout = 2000;
    long long auth_retry_time = auth_timeout * 2;

    if (is_master(me) || !me->slaveof || (!failed(me->slaveof) && !manual) ||
        (cluster_cfg_bool("cluster-replica-no-failover") && !manual) || me->slaveof->numslots == 0) {
        cluster->cant_failover_reason = CANT_FAILOVER_NONE;
        return;
    }

    /* How stale our data may be: the time the master took to be flagged
     * FAIL does not count. */
    long long data_age = repl_replica_silence_ms();
    if (data_age > bus.node_timeout) data_age -= bus.node_timeout;
    long long factor = cluster_cfg_ll("cluster-replica-validity-factor");
    if (factor && data_age > cluster_cfg_ll("repl-ping-replica-period") * 1000 + bus.node_timeout * factor) {
        if (!manual) {
            log_cant_failover(CANT_FAILOVER_DATA_AGE);
            return;
        }
    }

    if (auth_age > auth_retry_time) {
        /* A new attempt: a fixed delay for the FAIL to spread (masters
         * vote only for a replica of a master they flag FAIL), a random
         * part so that replicas do not start together, a second per rank.
         * Redis waits 500 + 0-499 ms; FAIL is one broadcast that every
         * master gets within a network round trip, so slotcache waits
         * FAILOVER_FIXED_DELAY + 0-FAILOVER_RANDOM_DELAY. Votes decide
         * who wins (one per master and epoch): only the time changes. */
        cluster->failover_auth_time =
            now + FAILOVER_FIXED_DELAY + (long long)rng_below(bus_random(), FAILOVER_RANDOM_DELAY);
        cluster->failover_auth_count = 0;
        cluster->failover_auth_sent = 0;
        cluster->failover_auth_rank = my_rank();
        cluster->failover_auth_time += cluster->failover_auth_rank * 1000LL;
        if (cluster->mf_end) {
            cluster->failover_auth_time = now;
            cluster->failover_auth_rank = 0;
            cluster_todo(CLUSTER_TODO_HANDLE_FAILOVER);
        }
        log_warning("Start of election delayed for %lld milliseconds (rank #%d, offset %lld).",
                    cluster->failover_auth_time - now, cluster->failover_auth_rank, repl_replica_applied_offset());
        /* Our offset to the other replicas, which rank themselves by it. */
        bus_broadcast_pong(BUS_BROADCAST_LOCAL_SLAVES);
        return;
    }

    if (cluster->failover_auth_sent == 0 && cluster->mf_end == 0) {
        int newrank = my_rank();
        if (newrank > cluster->failover_auth_rank) {
            long long added = (newrank - cluster->failover_auth_rank) * 1000LL;
            cluster->failover_auth_time += added;
            cluster->failover_auth_rank = newrank;
            log_warning("Replica rank updated to #%d, added %lld milliseconds of delay.", newrank, added);
        }
    }

    if (now < cluster->failover_auth_time) {
        log_cant_failover(CANT_FAILOVER_WAITING_DELAY);
        return;
    }
    if (auth_age > auth_timeout) {
        log_cant_failover(CANT_FAILOVER_EXPIRED);
        return;
    }

    if (cluster->failover_auth_sent == 0) {
        cluster->current_epoch++;
        cluster->failover_auth_epoch = cluster->current_epoch;
        log_warning("Starting a failover election for epoch %llu.", (unsigned long long)cluster->current_epoch);
        bus_send_auth_request(cluster->mf_end != 0);
        cluster->failover_auth_sent = 1;
        cluster_todo(CLUSTER_TODO_SAVE_CONFIG | CLUSTER_TODO_UPDATE_STATE | CLUSTER_TODO_FSYNC_CONFIG);
        return;
    }

    if (cluster->failover_auth_count >= needed_quorum) {
        log_warning("Failover election won: I'm the new master.");
        if (me->config_epoch < cluster->failover_auth_epoch) {
            me->config_epoch = cluster->failover_auth_epoch;
            log_warning("configEpoch set to %llu after successful failover", (unsigned long long)me->config_epoch);
        }
        replace_my_master();
    } else {
        log_cant_failover(CANT_FAILOVER_WAITING_VOTES);
    }
}

/* ---- the coordinated manual failover ----
 *
 * The replica sends MFSTART; its master pauses writes, waits until no
 * write is in flight on any worker (writepause_drain), then flags its
 * PINGs PAUSED with its final offset, pinging the replica every tick. The
 * replica starts the election (votes forced: FORCEACK) once it has
 * applied exactly that offset, so every write the master acknowledged is
 * on the new master. The pause ends when the master learns it lost its
 * slots, or after CLUSTER_MF_TIMEOUT. */

/* Which pause the last finished drain belongs to (any thread writes it). */
static _Atomic unsigned drained_gen;
static unsigned pause_gen; /* lock */

static void pause_drained(void *arg)
{
    atomic_store_explicit(&drained_gen, (unsigned)(uintptr_t)arg, memory_order_release);
    bus_wake();
}

void failover_mfstart_received(cluster_node *sender)
{
    cluster_node *me = cluster->myself;
    if (!sender || sender->slaveof != me) return;
    /* Paused before the reset ends a pause already running, so writes
     * never run in between (a replica may hold that pause's offset). */
    writepause_begin();
    cluster_reset_manual_failover();
    cluster->mf_end = mstime() + CLUSTER_MF_TIMEOUT;
    cluster->mf_slave = sender;
    cluster->mf_pausing = true;
    writepause_drain(pause_drained, (void *)(uintptr_t)++pause_gen);
    log_warning("Manual failover requested by replica %.40s.", sender->name);
}

/* Master: the drain of the current pause finished: the offset is final. */
static void master_check_drained(void)
{
    if (!cluster->mf_pausing || cluster->mf_paused) return;
    if (atomic_load_explicit(&drained_gen, memory_order_acquire) != pause_gen) return;
    cluster->mf_paused = true;
    if (cluster->mf_slave && cluster->mf_slave->link) bus_send_ping(cluster->mf_slave->link, CLUSTER_MSG_PING);
}

void failover_master_offset_seen(cluster_node *sender, const bus_msg_view *v)
{
    cluster_node *me = cluster->myself;
    if (cluster->mf_end && is_slave(me) && me->slaveof == sender && (v->mflags0 & BUS_MFLAG0_PAUSED) &&
        cluster->mf_master_offset == -1) {
        cluster->mf_master_offset = sender->repl_offset;
        cluster_todo(CLUSTER_TODO_HANDLE_MANUALFAILOVER);
        log_warning("Received replication offset for paused master manual failover: %lld",
                    cluster->mf_master_offset);
    }
}

/* clusterHandleManualFailover (replica). */
static void handle_manual_failover(void)
{
    if (cluster->mf_end == 0 || cluster->mf_can_start || cluster->mf_master_offset == -1) return;
    /* Redis waits for equality. Here the paused master may still stream
     * the DEL of a key that expired meanwhile (its expiry is not paused),
     * which puts the replica past the offset: every write the master
     * acknowledged is below it either way. */
    if (repl_replica_applied_offset() >= cluster->mf_master_offset) {
        cluster->mf_can_start = 1;
        log_warning("All master replication stream processed, manual failover can start.");
        cluster_todo(CLUSTER_TODO_HANDLE_FAILOVER);
        return;
    }
    cluster_todo(CLUSTER_TODO_HANDLE_MANUALFAILOVER);
}

/* ---- replica migration ---- */

static void handle_replica_migration(int max_slaves)
{
    cluster_node *me = cluster->myself, *mymaster = me->slaveof, *target = NULL, *candidate = me;
    if (cluster->state != CLUSTER_OK || !mymaster) return;
    int okslaves = 0;
    for (int j = 0; j < mymaster->numslaves; j++)
        if (!failed(mymaster->slaves[j]) && !timed_out(mymaster->slaves[j])) okslaves++;
    if (okslaves <= cluster_cfg_ll("cluster-migration-barrier")) return;

    long long now = mstime();
    for (int i = 0; i < cluster->nnodes; i++) {
        cluster_node *n = cluster->nodes[i];
        int ok = 0;
        bool orphaned = !is_slave(n) && !failed(n) && (n->flags & CLUSTER_NODE_MIGRATE_TO);
        if (is_master(n)) ok = cluster_count_non_failing_replicas(n);
        if (ok > 0) orphaned = false;
        if (orphaned) {
            if (!target && n->numslots > 0) target = n;
            if (!n->orphaned_time) n->orphaned_time = now;
        } else {
            n->orphaned_time = 0;
        }
        /* The candidate: the smallest id among the replicas of the masters
         * with the most working replicas. */
        if (ok == max_slaves)
            for (int j = 0; j < n->numslaves; j++)
                if (memcmp(n->slaves[j]->name, candidate->name, CLUSTER_NAMELEN) < 0) candidate = n->slaves[j];
    }
    if (target && candidate == me && now - target->orphaned_time > SLAVE_MIGRATION_DELAY) {
        log_warning("Migrating to orphaned master %.40s", target->name);
        cluster_set_my_master(target);
        cluster_todo(CLUSTER_TODO_SAVE_CONFIG | CLUSTER_TODO_UPDATE_STATE | CLUSTER_TODO_FSYNC_CONFIG);
    }
}

/* ---- the cron and beforeSleep ---- */

void failover_cron(void)
{
    cluster_node *me = cluster->myself;
    /* Masters without working replicas (useful to a replica only). */
    int orphaned_masters = 0, max_slaves = 0, this_slaves = 0;
    for (int i = 0; i < cluster->nnodes && is_slave(me); i++) {
        const cluster_node *n = cluster->nodes[i];
        if (n->flags & (CLUSTER_NODE_MYSELF | CLUSTER_NODE_NOADDR | CLUSTER_NODE_HANDSHAKE)) continue;
        if (!is_master(n) || failed(n)) continue;
        int ok = cluster_count_non_failing_replicas(n);
        if (ok == 0 && n->numslots > 0 && (n->flags & CLUSTER_NODE_MIGRATE_TO)) orphaned_masters++;
        if (ok > max_slaves) max_slaves = ok;
        if (me->slaveof == n) this_slaves = ok;
    }

    /* A manual failover not done in time is abandoned. */
    if (cluster->mf_end && cluster->mf_end < mstime()) {
        log_warning("Manual failover timed out.");
        cluster_reset_manual_failover();
    }
    /* A paused master pings its replica every tick with its offset. */
    master_check_drained();
    if (cluster->mf_end && is_master(me) && cluster->mf_paused && cluster->mf_slave && cluster->mf_slave->link)
        bus_send_ping(cluster->mf_slave->link, CLUSTER_MSG_PING);
    if (is_slave(me)) {
        handle_manual_failover();
        handle_replica_failover();
        if (orphaned_masters && max_slaves >= 2 && this_slaves == max_slaves &&
            cluster_cfg_bool("cluster-allow-replica-migration"))
            handle_replica_migration(max_slaves);
    }
}

void failover_before_sleep(void)
{
    master_check_drained();
    int flags = cluster_take_todo(CLUSTER_TODO_HANDLE_FAILOVER | CLUSTER_TODO_HANDLE_MANUALFAILOVER |
                                  CLUSTER_TODO_TAKEOVER | CLUSTER_TODO_MFSTART);
    if (flags & CLUSTER_TODO_MFSTART) {
        /* CLUSTER FAILOVER (coordinated): ask the master to pause. */
        cluster_node *master = cluster->myself->slaveof;
        if (is_slave(cluster->myself) && master) bus_send_mfstart(master->link);
    }
    if (flags & CLUSTER_TODO_TAKEOVER) {
        /* CLUSTER FAILOVER TAKEOVER: no election, a new configEpoch of our
         * own (the epoch collision rule sorts out a tie). */
        if (is_slave(cluster->myself) && cluster->myself->slaveof) {
            cluster_bump_epoch_without_consensus();
            log_warning("Taking over the master (user request).");
            replace_my_master();
        }
        return;
    }
    if (flags & CLUSTER_TODO_HANDLE_MANUALFAILOVER) {
        if (is_slave(cluster->myself)) {
            handle_manual_failover();
            handle_replica_failover();
        }
    } else if (flags & CLUSTER_TODO_HANDLE_FAILOVER) {
        handle_replica_failover();
    }
}
