/*
 * cluster_api.h - all that server/ sees of cluster/: replication, cluster
 * mode's lifecycle and commands, and routing. server/ includes this header
 * and no other header of cluster/; cluster/ may use all of server/.
 */
#ifndef CLUSTER_API_H
#define CLUSTER_API_H

#include "client.h"
#include "commands.h"

#include <stdbool.h>
#include <stdint.h>

/* REPLICAOF SLAVEOF ROLE SYNC PSYNC REPLCONF WAIT (cluster/repl_*.c). */
extern command repl_commands[];

/* Startup (main, before the workers start): replication id, the feed
 * (propagate.h), `replicaof` from the config file. */
void repl_init(void);
/* Worker 0's cron, every 100 ms: pings to replicas, REPLCONF ACK to the
 * master, timeouts, reconnects, backlog TTL, min-replicas bookkeeping. */
void repl_cron(void);
/* Shutdown (main, after the workers stopped). */
void repl_shutdown(void);

/* The error a write command must get here and now, or NULL: -READONLY on a
 * read-only replica (not for the master link itself), -MASTERDOWN when the
 * link is down and replica-serve-stale-data is no (for commands without
 * CMD_STALE), -NOREPLICAS under min-replicas-to-write. */
const char *repl_refusal(const client *c, const command *cmd);

/* This server is a replica (REPLICAOF host port in force): no active
 * expiry, no eviction of its own (replica-ignore-maxmemory), reads hide
 * logically expired keys without deleting them. One relaxed load. */
bool repl_is_replica(void);

/* INFO replication: the section's text appended through the callback. */
typedef void repl_info_out(void *ctx, const char *fmt, ...);
void repl_info(repl_info_out *out, void *ctx);
/* INFO memory: the replication stream buffer (backlog and what replicas
 * have not been sent yet) and the part of it that is the backlog. */
void repl_memory(size_t *total, size_t *backlog);
/* INFO stats: sync_full, sync_partial_ok, sync_partial_err. */
void repl_sync_stats(long long *full, long long *partial_ok, long long *partial_err);

/* The master link (cluster/repl_replica.c), called by conn.c for a client
 * flagged CF_MASTER, on its worker's thread:
 * - repl_master_read: n bytes arrived from the master (slave_read_repl_offset);
 * - repl_master_applied: one command (its exact bytes p[0..len), empty
 *   lines included) has been processed: the replication offset advances and
 *   the bytes are forwarded to our own replicas. A command that changed the
 *   keyspace gets here from dispatch (or EXEC) while its slot locks are
 *   still held, so a sub-replica's snapshot and offset agree; others from
 *   conn.c after they ran;
 * - repl_master_check: after each command: close the link if REPLICAOF
 *   changed the master meanwhile;
 * - repl_master_closed: the link is being closed (before it is freed). */
void repl_master_read(client *c, size_t n);
void repl_master_applied(client *c, const char *p, size_t len);
void repl_master_check(client *c);
void repl_master_closed(client *c);
/* Worker 0 is stopping (worker.c, on worker 0, before its clients are
 * closed): close the master link's own handles so its loop can end. */
void repl_worker_stop(void);

/* ---- cluster mode (cluster-enabled yes) ---- */

/* CLUSTER (cluster/cluster_cmd.c) and ASKING, READONLY, READWRITE
 * (cluster/route.c). In a standalone server they answer "ERR This instance
 * has cluster support disabled". */
extern command cluster_commands[];
extern command route_commands[];
/* Around the queue of a transaction holding a CLUSTER subcommand
 * (CMD_CLUSTER_STATE; multi.c, with every slot lock already held): the
 * cluster state stays locked across the queue, so the bus sees the
 * transaction as one step, as Redis's single thread does (redis-cli's fix
 * sends MULTI, CLUSTER DELSLOTS, ADDSLOTS, BUMPEPOCH, EXEC: a PING landing
 * between them gave the slot back to its old owner, which then deleted
 * the keys). No-ops standalone. */
void cluster_tx_begin(void);
void cluster_tx_end(void);
/* Startup (main, after the config is loaded, before the workers start):
 * in cluster mode, load or create nodes.conf and publish the first slot
 * map. Exits the process with a logged reason when nodes.conf cannot be
 * used. No-op standalone. */
void cluster_init(void);
/* Startup (main, right after workers_start): start the bus thread, which
 * posts to workers (PUBLISH deliveries, keys of lost slots). Exits the
 * process with a logged reason when the bus port cannot be bound. No-op
 * standalone. */
void cluster_start_bus(void);
/* Shutdown (main, before workers_stop): stop the slot migration jobs and
 * the bus thread, so that nothing posts to a stopped worker. No-op
 * standalone. */
void cluster_stop_bus(void);
/* After the dataset was loaded at startup (main): Redis's
 * verifyClusterConfigWithData. Keys in a slot myself neither owns nor
 * imports make myself take the slot (unassigned) or mark it importing
 * (owned elsewhere; saved at once); keys in a database other than 0 stop
 * the server. No-op standalone. */
void cluster_check_loaded_data(void);
/* Shutdown (main, after the workers stopped): stop the bus thread if
 * cluster_stop_bus did not, save nodes.conf, free the state. No-op
 * standalone. */
void cluster_shutdown(void);

/* ---- routing in cluster mode (cluster/route.c) ----
 *
 * Redis 7.0's getNodeByQuery in two phases (DESIGN.md): before the slot
 * locks, lock-free against the published slot map (CROSSSLOT, MOVED,
 * CLUSTERDOWN, and ASK / TRYAGAIN with the slots locked for a moment when
 * the slot is migrating or importing); after the command's slot locks are
 * taken, again if key existence decides or the map changed meanwhile.
 * Called only when cluster-enabled is yes. */

/* The keys a command addresses: key i is argv[idx[i]] (argv[i] when idx is
 * NULL), in slot slots[i]. For EXEC: every queued command's keys. */
typedef struct route_keys {
    const arg_t *argv;
    const int *idx;
    const unsigned *slots;
    int n;
} route_keys;

/* What phase 1 leaves for phase 2. */
typedef struct route_ticket {
    bool routed;      /* phase 1 ran (a command with keys, not our master's) */
    bool lookup;      /* the decision depended on which keys exist here */
    uint64_t version; /* the map it was taken on */
} route_ticket;

/* Every command of a client with CF_ASKING set, first thing after
 * authentication (or its rejection): ASKING's one-shot bookkeeping (the
 * flag lasts one command, or until EXEC inside MULTI). */
void route_command_begin(client *c);
/* Phase 1's common case, no slot lock held: all n slots are one slot that
 * myself serves with nothing migrating or importing, the cluster ok: true
 * and t filled (the command is served here, whatever the client's flags).
 * No lock, no read section: a per-thread copy of the map's facts (copied
 * in a read section when the map moved: never call inside one). False:
 * call route_check_or_reply. n > 0. */
bool route_fast(const unsigned *slots, int n, route_ticket *t);
/* Phase 1, no slot lock held, after route_fast said no: the decision for
 * cmd over keys (`writes`:
 * the command writes; for EXEC, one of the queued commands does). On
 * false the redirect was replied and counted as a rejected call; the
 * caller flags (or, for EXEC, discards) the transaction. */
bool route_check_or_reply(client *c, const command *cmd, const route_keys *keys, bool writes, route_ticket *t);
/* Phase 2, the keys' slot locks held: decides again, looking keys up, when
 * phase 1 needed key existence or the map's version changed since. Cheap
 * otherwise (route_settled). False: the redirect was replied, as above. */
bool route_recheck_or_reply(client *c, const command *cmd, const route_keys *keys, bool writes,
                            const route_ticket *t);
/* Phase 2 has nothing to decide: phase 1 did not route, or its answer did
 * not depend on keys and the map is still the one it read (one load). */
bool route_settled(const route_ticket *t);

/* Blocked clients (blocking.c): the version of the current slot map (0:
 * none), and the error (Redis's clusterRedirectBlockedClientIfNeeded) a
 * client blocked on a key of `slot` must be unblocked with now, written
 * into buf (without the leading '-'); false when it may stay blocked. */
uint64_t route_map_version(void);
bool route_blocked_error(const client *c, unsigned slot, char *buf, size_t len);
#define ROUTE_ERR_MAX 320

/* Myself's shard serves `slot` in the current map: its owner is myself or
 * myself's master (true when there is no map: standalone). Any thread,
 * outside a slot-map read section. */
bool route_slot_in_my_shard(unsigned slot);

/* Cluster mode has database 0 only: when it is on, reply "ERR <what> is
 * not allowed in cluster mode" (SELECT n, MOVE, SWAPDB, "Copying to another
 * database" for COPY ... DB n) and return true. */
bool route_db0_only_or_reply(client *c, const char *what);

/* ---- pub/sub in cluster mode (cluster/bus.c) ---- */

/* Redis's clusterPropagatePublish: hand a PUBLISH (sharded false) to the
 * bus for every other node, or an SPUBLISH (sharded true) for the other
 * nodes of myself's shard (its master and replicas). Any thread; copies the
 * bytes and wakes the bus thread (a syscall: call with no slot lock held).
 * No-op when the bus is not running. The same declaration as bus.h's, which
 * server/ does not include. */
void bus_publish(const char *channel, size_t clen, const char *msg, size_t mlen, bool sharded);

#endif
