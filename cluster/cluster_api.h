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
/* Startup (main, after the config and the dataset are loaded, before the
 * workers accept clients): in cluster mode, load or create nodes.conf,
 * publish the first slot map and start the bus thread. Exits the process
 * with a logged reason when nodes.conf cannot be used. No-op standalone. */
void cluster_init(void);
/* After the dataset was loaded at startup (main): Redis's
 * verifyClusterConfigWithData. Keys in a slot myself neither owns nor
 * imports make myself take the slot (unassigned) or mark it importing
 * (owned elsewhere; saved at once); keys in a database other than 0 stop
 * the server. No-op standalone. */
void cluster_check_loaded_data(void);
/* Shutdown (main, after the workers stopped): stop the bus thread, save
 * nodes.conf. No-op standalone. */
void cluster_shutdown(void);

#endif
