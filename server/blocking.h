/*
 * blocking.h - clients blocked on keys (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH,
 * BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP).
 *
 * A blocking command first tries to serve itself like its non-blocking form;
 * if none of its keys has data it calls blocking_block_on_args() and replies
 * nothing. The client's command is kept and re-run, on the client's own
 * worker, when a key it waits on is signalled by blocking_key_ready() (any
 * worker, under the key's slot lock) or answered with the timeout reply when
 * its deadline passes. Waiters of a key are served in arrival order: only
 * the first waiter is woken; after it is served, the next one is.
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

/* Block c on the keys c->argv[first .. first+nkeys-1] in its database,
 * waiting for a value of `type` (OBJ_LIST or OBJ_ZSET) under any of them
 * (the slots of all of them are locked by the caller, as the command's key
 * spec made dispatch lock them). Inside MULTI/EXEC it answers the timeout
 * reply at once instead, as Redis does. */
void blocking_block_on_args(client *c, int first, int nkeys, unsigned type, long long deadline_ms,
                            enum blocking_timeout_reply timeout_reply);

/* A value of `type` is now under k (pushed, stored, renamed, moved, copied,
 * restored): wake its first waiter that waits for that type. Call under k's
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
