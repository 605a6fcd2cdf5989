/*
 * repl.h - replication inside cluster/: the state the master side
 * (repl_buffer.c, repl_master.c) and the replica side (repl_replica.c,
 * repl_cmd.c) share. server/ does not include this header (it sees
 * cluster_api.h and propagate.h only).
 *
 * Offsets and ids follow Redis 7.0 (PSYNC2): master_repl_offset counts
 * every byte ever appended to the stream; the backlog holds the last
 * repl-backlog-size bytes of it; replid2/second_repl_offset remember the
 * previous history so that the replicas of a promoted replica can resync
 * partially.
 */
#ifndef REPL_H
#define REPL_H

#include "client.h"
#include "cluster_api.h"

#include <stdbool.h>
#include <stddef.h>

#define REPL_ID_LEN 40

/* ---- identity, offsets and the shared stream buffer (repl_buffer.c) ---- */

/* A consistent copy of the ids and offsets. replid2 is 40 '0' and
 * second_offset -1 when there is no previous history. */
typedef struct {
    char replid[REPL_ID_LEN + 1];
    char replid2[REPL_ID_LEN + 1];
    long long offset;        /* master_repl_offset */
    long long second_offset; /* second_repl_offset */
    bool backlog_active;
    long long backlog_first; /* repl_backlog_first_byte_offset */
    long long backlog_histlen;
    long long backlog_size;
} repl_ids;
repl_ids repl_get_ids(void);

/* Append bytes verbatim to the stream: a replica forwarding what it
 * applied from its master (every byte, PINGs included, so that offsets
 * stay equal down a chain). Any thread; takes the buffer lock. */
void repl_feed_raw(const char *p, size_t len);
/* Make sure a backlog exists (it is created on the first replica, or when
 * this server syncs from a master) and the funnel feeds it. */
void repl_backlog_create(void);
/* After a full sync from a master: take its replid and offset; the backlog
 * restarts empty at offset+1; replid2 is cleared. */
void repl_adopt_master(const char *replid, long long offset);
/* Promotion (REPLICAOF NO ONE) and switching masters: replid2 = replid,
 * second_repl_offset = offset + 1, a fresh random replid. */
void repl_shift_replid(void);
/* The next unit fed by the funnel starts with SELECT (after a master's
 * stream, whose SELECT state is not ours, stops feeding the backlog). */
void repl_forget_stream_db(void);
/* A partial resync (+CONTINUE <new replid>) with a master whose history
 * has a new id: replid2 = our replid, second_repl_offset = offset + 1,
 * replid = new_replid; the backlog and offset are kept (Redis 7.0's
 * slaveTryPartialResynchronization). Added by the replica side. */
void repl_switch_replid(const char *new_replid);

/* ---- the master side: our replicas (repl_master.c) ---- */

/* Lifecycle hooks repl_cmd.c's repl_init / repl_cron / repl_shutdown call
 * (same threads and moments as those): the master side's replid, feed,
 * pings, backlog TTL... Added by the replica side. */
void repl_master_init(void);
void repl_master_cron(void);
void repl_master_shutdown(void);

/* Disconnect every replica of this server (it became a replica of someone
 * else: they must resync with the new history). */
void repl_drop_replicas(void);
/* Replicas whose last ACK is at most min-replicas-max-lag seconds old. */
int repl_good_replicas(void);
/* Append INFO replication's master-side lines: connected_slaves and
 * slaveN:ip=...,port=...,state=...,offset=...,lag=... */
void repl_master_info(repl_info_out *out, void *ctx);
/* ROLE's third element on a master: [[ip, port, offset], ...]. */
void repl_master_role_replicas(client *c);
/* INFO stats sync_full / sync_partial_ok / sync_partial_err (atomics). */
void repl_master_sync_counts(long long *full, long long *partial_ok, long long *partial_err);

/* ---- the replica side: our master (repl_replica.c) ---- */

/* REPLCONF GETACK from our master: answer REPLCONF ACK <offset>. */
void repl_replica_getack(client *c);

/* ---- command handlers the master side owns (repl_cmd.c's table) ---- */

void repl_sync_command(client *c);
void repl_psync_command(client *c);
void repl_replconf_command(client *c);
void repl_wait_command(client *c);

#endif
