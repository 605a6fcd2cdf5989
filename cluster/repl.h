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
#include "propagate.h"

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
 * stay equal down a chain). A worker thread (the replicas are woken at
 * its end of iteration); takes the buffer lock. */
void repl_feed_raw(const char *p, size_t len);
/* repl_feed_raw for the bytes of commands a replica applied from its
 * master; `db` is the master client's database after them. The stream's
 * database goes with its offset (under the buffer lock), so that a full
 * sync served from this replica can tell its own replica in which
 * database the forwarded stream continues (RDB aux repl-stream-db, as
 * Redis's rdbPopulateSaveInfo takes server.master->db->id). */
void repl_feed_from_master(const char *p, size_t len, int db);
/* The master client's database after the last byte fed with
 * repl_feed_from_master (0 after repl_adopt_master without one, or after
 * repl_forget_stream_db): where a +CONTINUE resumes. */
int repl_master_stream_db(void);
/* Make sure a backlog exists (it is created on the first replica, or when
 * this server syncs from a master) and the funnel feeds it. */
void repl_backlog_create(void);
/* Free the backlog (a master without replicas for repl-backlog-ttl
 * seconds): the funnel stops feeding; a new replid. */
void repl_backlog_free(void);
/* The funnel feeds the stream exactly when a backlog exists and this
 * server is not a replica (a replica's stream is its master's bytes,
 * forwarded with repl_feed_raw). Call after every change of role. */
void repl_update_feeding(void);
/* After a full sync from a master: take its replid and offset; the backlog
 * restarts empty at offset+1; replid2 is cleared. `stream_db` is the
 * database the master's stream continues in (the RDB's repl-stream-db; -1
 * when absent: 0). */
void repl_adopt_master(const char *replid, long long offset, int stream_db);
/* A fresh history: a new random replid, replid2 cleared (the first
 * replica of a master without backlog, as Redis's changeReplicationId +
 * clearReplicationId2). */
void repl_new_history(void);
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

/* A replica's read position in the stream (repl_buffer.c). While active
 * it pins every byte from `pos` on: the backlog trims nothing a cursor still
 * has to send. Created inactive by the replica's worker; activated at a
 * position (full sync: at the snapshot's point, under every slot lock;
 * partial: PSYNC's offset); read and freed by that worker only. */
typedef struct repl_cursor repl_cursor;
repl_cursor *repl_cursor_new(void);
/* Activate at byte `pos` (the next byte to send; offsets are 1-based as
 * Redis's). False when pos is not in the backlog [first, offset + 1]. */
bool repl_cursor_start(repl_cursor *cur, long long pos);
/* Like repl_cursor_start at master_repl_offset + 1, returning that offset.
 * Takes no slot lock: the full sync calls it under every slot lock.
 * *stream_db gets the database in which the stream after that offset
 * continues without a SELECT: a replica's master's (see
 * repl_feed_from_master), or -1 on a master (its next unit starts with a
 * SELECT anyway). */
long long repl_cursor_start_at_end(repl_cursor *cur, int *stream_db);
/* Bytes of the stream, where they are in the buffer. */
typedef struct {
    const char *p;
    size_t len;
} repl_span;
/* Up to `max` bytes from the cursor's position as at most `nspans` spans
 * of the buffer itself (no copy); returns the number of spans, 0 when
 * there is nothing to send. The bytes stay valid, and the cursor where it
 * is, until repl_cursor_release: hand them to the socket as they are. At
 * most one peek per cursor is outstanding. */
int repl_cursor_peek(repl_cursor *cur, size_t max, repl_span *spans, int nspans, unsigned *gen);
/* The bytes of a peek (returning > 0) are written: `sent` of them (all, or
 * 0 when the write failed) move the cursor on. cur NULL: the cursor was
 * freed meanwhile (its replica closed); the peek's bytes are let go.
 * `gen`: what the peek returned (the buffer's generation: a reset while
 * the bytes were out keeps them until every peek of before it is released). */
void repl_cursor_release(repl_cursor *cur, size_t sent, unsigned gen);
/* Bytes appended to the stream that the cursor has not read yet. */
long long repl_cursor_lag(const repl_cursor *cur);
/* The stream buffer was reset under the cursor (a new history, or the
 * backlog freed): it will read nothing more. */
bool repl_cursor_dead(const repl_cursor *cur);
void repl_cursor_free(repl_cursor *cur);
/* Some cursor reads the stream (a replica's, or an atomic slot
 * migration's): repl-backlog-ttl does not free the backlog under it. */
bool repl_cursors_active(void);
/* The feed installed with propagate_set_feed (repl_master_init does it). */
long long repl_feed_units(const repl_cmd *cmds, int n);
/* Top the buffer's spare blocks up: allocates, so call it with no lock
 * held (repl_master_wake does, after the funnel fed). Appends, under the
 * slot locks, then do not allocate; trimming makes blocks spares. */
void repl_buffer_balance(void);
/* Free part of the spares beyond what appends need (repl_master_cron). */
void repl_buffer_cron(void);
/* Memory held by the stream buffer (INFO mem_total_replication_buffers). */
size_t repl_buffer_memory(void);

/* ---- the master side: our replicas (repl_master.c) ---- */

/* Startup (main, before the workers start): the feed and the sync thread.
 * The replica side's repl_init calls it. */
void repl_master_init(void);
/* Worker 0's cron (every tick; it keeps its own pace): PINGs every
 * repl-ping-replica-period, replicas timed out by repl-timeout or over the
 * output limit, a held WAIT re-checked. repl_cron calls it. */
void repl_master_cron(void);
/* After the workers stopped: stop the sync thread. */
void repl_master_shutdown(void);
/* New bytes in the stream: wake the workers serving replicas (one inbox
 * post per worker until it has drained). The calling worker's own
 * replicas are flushed at once, so call it with no lock held (it is the
 * funnel's wake: propagate_wake calls it). */
void repl_master_wake(void);

/* Disconnect every replica of this server (it became a replica of someone
 * else: they must resync with the new history). */
void repl_drop_replicas(void);
/* Replicas whose last ACK is at most min-replicas-max-lag seconds old. */
int repl_good_replicas(void);
/* Append INFO replication's master-side lines: connected_slaves and
 * slaveN:ip=...,port=...,state=...,offset=...,lag=... */
void repl_master_info(repl_info_out *out, void *ctx);
/* Replicas registered (any state; Redis's listLength(server.slaves)). */
int repl_master_replica_count(void);
/* The replica at host:port (its announced or peer IP and its listening
 * port): -1 none, 0 not online yet, 1 online; *ack_off (may be NULL) gets
 * its last ACK offset. */
int repl_master_replica_online(const char *host, int port, long long *ack_off);
/* An online replica whose last ACK is exactly `offset`: its address. */
bool repl_master_replica_caught_up(long long offset, char *host, size_t hostlen, int *port);
/* ROLE's third element on a master: [[ip, port, offset], ...]. */
void repl_master_role_replicas(client *c);
/* INFO stats sync_full / sync_partial_ok / sync_partial_err (atomics). */
void repl_master_sync_counts(long long *full, long long *partial_ok, long long *partial_err);

/* ---- the replica side: our master (repl_replica.c) ---- */

/* REPLCONF GETACK from our master: answer REPLCONF ACK <offset>. */
void repl_replica_getack(client *c);

/* ---- command handlers the master side owns (repl_cmd.c's table) ---- */

void repl_sync_command(client *c);
void repl_replconf_command(client *c);
void repl_wait_command(client *c);

#endif
