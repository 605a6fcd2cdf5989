/*
 * blocking.h - clients blocked on keys (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH,
 * BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP, XREAD BLOCK; XREADGROUP BLOCK uses
 * the same calls, see "Streams" below).
 *
 * A blocking command first tries to serve itself like its non-blocking form;
 * if none of its keys has data it calls blocking_block_on_args() (a stream
 * command: blocking_block_stream()) and replies nothing. The client's
 * command is kept and re-run whole, through dispatch (which locks its keys'
 * slots again), on the client's own worker, when a key it waits on is
 * signalled by blocking_key_ready() (any worker, under the key's slot lock),
 * or answered with a null array when its deadline passes. A re-run that
 * finds nothing to serve calls the same block function again: the client
 * then stays blocked where it was (same queue position, same deadline).
 * During a re-run blocking_client_is_blocked(c) is true.
 *
 * Lists and sorted sets: waiters of a key are served in arrival order; only
 * the first waiter for the key's type is woken; after it is served, the
 * next one is.
 *
 * Streams: blocking_key_ready(k, OBJ_STREAM) wakes every XREAD waiter of
 * k at once (Redis serves all the readers the new data can serve), each
 * re-run on its own worker, and the first XREADGROUP waiter, which passes
 * the turn to the next when its re-run is over (blocking_block_stream). db.c signals a stream key on
 * XADD and XGROUP DESTROY (db_changed with the events "xadd" and
 * "xgroup-destroy"), on a stream placed under the key (db_add, db_replace:
 * XADD creating it, RENAME, COPY, MOVE, RESTORE), on a stream leaving the
 * key (db_replace by another value, db_unlink_at: DEL, UNLINK, RENAME's
 * source, MOVE...), on expiry and eviction (db_remove_by_server), on SWAPDB
 * and FLUSHDB / FLUSHALL (blocking_db_emptied). How a
 * stream command blocks and is re-run (XREAD in t_stream.c is the model):
 *   1. Parse; resolve each ID. If some stream has data, reply and return.
 *   2. Otherwise, with BLOCK: blocking_block_stream(c, first_key, nkeys,
 *      ids, deadline) where `ids` are the IDs to save in place of
 *      argv[first_key + nkeys ...] (XREAD: `$` resolved to the stream's
 *      last ID, 0-0 for a missing key, so the re-run does not resolve it
 *      again), or NULL to save argv as it is (XREADGROUP: `>`). Inside
 *      MULTI it answers the null array at once. Without BLOCK reply null.
 *   3. On a re-run (blocking_client_is_blocked(c)), with the saved argv
 *      (same parse: `$` is gone): a key of another type is treated as
 *      missing, never WRONGTYPE (Redis 7.0 keeps an XREAD blocked when its
 *      key is overwritten). Walk the keys for which blocking_key_woken_at()
 *      is non-zero in the order of their stamps (the first signalled
 *      first) and serve only ONE of them, as Redis replies with the
 *      signalled key alone: the first whose stream can serve (XREAD: its
 *      last_id is above the saved ID), as a one-element array (RESP3 map)
 *      with COUNT entries, 1000 when no COUNT was given (Redis's
 *      XREAD_BLOCKED_DEFAULT_COUNT). If none can, call
 *      blocking_block_stream() again (its deadline and ids are ignored on
 *      a re-run: the client stays where it was). Any reply, an error
 *      included, unblocks the client.
 *   XREADGROUP GROUP g c ... `>` (the lead wires it; Redis 7.0.15's
 *   xreadCommand and serveClientsBlockedOnStreamKey):
 *   - step 1 serves a stream whose last valid ID is above the group's
 *     last_id; an ID other than `>` always serves (history) and never
 *     blocks; otherwise blocking_block_stream(c, first, nkeys, NULL,
 *     deadline) (deadline from blocking_parse_timeout_ms_or_reply).
 *   - on a re-run, skip the first call's checks that answer "NOGROUP No
 *     such key ..." for a missing key or group; instead, walking the woken
 *     keys in stamp order, the first of them that is missing or not a
 *     stream answers "-UNBLOCKED the stream key no longer exists"; a
 *     stream without the group answers "-NOGROUP the consumer group this
 *     client was blocked on no longer exists"; a stream whose last_id is
 *     above the group's last_id is served (one-element reply, consumer
 *     created, PEL and propagation as in step 1); a woken key that can do
 *     none of these is passed over; none at all: block again.
 */
#ifndef BLOCKING_H
#define BLOCKING_H

#include "client.h"
#include "db.h"

#include <stdbool.h>

/* What a blocking command answers when it cannot block (inside MULTI).
 * When a real block times out, Redis 7.0 always answers a null array. */
enum blocking_timeout_reply {
    BLOCK_TIMEOUT_NULL_ARRAY = 0, /* *-1 / _ : BLPOP, BRPOP, BLMPOP, BZPOP*, BZMPOP */
    BLOCK_TIMEOUT_NULL = 1,       /* $-1 / _ : BLMOVE, BRPOPLPUSH inside MULTI */
};

/* Parse a blocking timeout (seconds, may be fractional) into an absolute
 * deadline in unix ms (0 = block forever); replies Redis's error and returns
 * false on bad input ("ERR timeout is not a float or out of range",
 * "ERR timeout is negative"). */
bool blocking_parse_timeout_or_reply(client *c, const arg_t *arg, long long *deadline_ms);
/* The same for a timeout in integer milliseconds (XREAD / XREADGROUP
 * BLOCK): "ERR timeout is not an integer or out of range", "ERR timeout is
 * negative"; 0 and a deadline past LLONG_MAX (Redis's wraps) block forever. */
bool blocking_parse_timeout_ms_or_reply(client *c, const arg_t *arg, long long *deadline_ms);

/* Block c on the keys c->argv[first .. first+nkeys-1] in its database,
 * waiting for a value of `type` (OBJ_LIST or OBJ_ZSET) under any of them
 * (the slots of all of them are locked by the caller, as the command's key
 * spec made dispatch lock them). Inside MULTI/EXEC it answers the timeout
 * reply at once instead, as Redis does. */
void blocking_block_on_args(client *c, int first, int nkeys, unsigned type, long long deadline_ms,
                            enum blocking_timeout_reply timeout_reply);
/* Block c on the streams c->argv[first .. first+nkeys-1] (their IDs follow
 * them: argv[first+nkeys ...]), as blocking_block_on_args with OBJ_STREAM
 * and the null array. `ids` (nkeys arguments) are saved in place of the
 * IDs for the re-run; the caller keeps ownership (they are copied): an
 * XREAD reader, woken with every other XREAD reader of the key. `ids` NULL
 * saves argv's own IDs and makes the reader serial (XREADGROUP): the
 * serial readers of a key are woken one at a time in the order they
 * blocked, each passing the turn on when its re-run is over, so that the
 * first consumer to block gets the new entries, as in Redis. On a re-run
 * `ids` is ignored: the saved IDs stay. */
void blocking_block_stream(client *c, int first, int nkeys, const arg_t *ids, long long deadline_ms);
/* During a re-run of c: the wake order stamp of its key `key` (in c's
 * database) if that key was signalled since c last blocked, else 0 (also
 * when c is not blocked). Smaller is earlier. Call under key's slot lock. */
uint64_t blocking_key_woken_at(const client *c, const arg_t *key);

/* A value of `type` is now under k (pushed, stored, renamed, moved, copied,
 * restored; for a stream also: its last ID moved, its group was destroyed,
 * it left k): wake its first waiter that waits for that type (a stream:
 * all of them). Call under k's
 * slot lock, in the write's epilogue (after the data is visible). Cheap when
 * nobody waits. The woken client re-runs its command, which serves it only
 * if the key still holds that type with data when the re-run takes the
 * lock (the end of the command or transaction that signalled it); a re-run
 * passes over keys of another type instead of answering WRONGTYPE. */
void blocking_key_ready(const dbkey *k, unsigned type);
/* SWAPDB a b has just swapped the databases' keys (caller holds every slot
 * lock): each key waited on in a or b that now holds a value wakes its
 * first waiter for that type (Redis's scanDatabaseForReadyKeys). */
void blocking_dbs_swapped(int a, int b);

/* FLUSHDB / FLUSHALL emptied database db (-1: all; caller holds every slot
 * lock): wake every stream reader there, so that XREADGROUP readers answer
 * -UNBLOCKED (Redis's scanDatabaseForDeletedStreams); XREAD readers stay
 * blocked on their re-run. */
void blocking_db_emptied(int db);

/* Worker-side plumbing (conn.c / dispatch.c / worker.c). */
/* True while c is blocked: a command it runs is then a re-run after a
 * wake-up (handlers pass over keys of another type instead of WRONGTYPE). */
bool blocking_client_is_blocked(const client *c);
void blocking_client_closed(client *c);   /* unblock silently (disconnect) */
void blocking_send_wakeups(void);         /* post queued wake-ups (after unlock) */
/* A wake-up that came while writes were paused marked c postponed: re-run
 * its command now (writepause.c, on c's worker, when the pause ended). */
void blocking_resume(client *c);
long blocking_total_blocked(void);        /* INFO blocked_clients */
/* The worker's cron (cluster mode): unblock with -MOVED / -CLUSTERDOWN the
 * clients of this worker blocked on a slot that is no longer served here,
 * when the slot map changed; at most a bounded batch per call. */
void blocking_cron(void);

#endif
