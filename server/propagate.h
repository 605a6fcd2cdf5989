/*
 * propagate.h - the replication stream side of the write funnel.
 *
 * Every change to the keyspace reaches the stream through here, in the form
 * Redis 7.0 propagates it (SET EX -> SET PXAT, EXPIRE -> PEXPIREAT, SPOP ->
 * SREM, expiry and eviction -> DEL/UNLINK, ...). The model is Redis's
 * call(): while a command runs, the funnel collects "ops" for the worker
 * running it:
 * - a deletion the server makes on its own (lazy expiry during a lookup)
 *   adds DEL/UNLINK at once (Redis's alsoPropagate);
 * - a handler that propagates something else than its argv adds its
 *   effects itself (propagate_also_*) and calls propagate_prevent(), or
 *   gives its rewritten form (propagate_rewrite_*);
 * - when the command is done, if it changed the keyspace (the write
 *   funnel, db.h's db_changed, counted a change) or forced propagation,
 *   its argv (or its rewrite) is added last, in the database the client
 *   is in after the command.
 * Nested calls (EXEC running its queue, a blocked command re-run) add to
 * the same list. propagate_flush() then hands the list to the feed as one
 * unit, wrapped in MULTI ... EXEC when it holds more than one op (Redis
 * 7.0's propagatePendingCommands), and must be called while the slot locks
 * of the keys written are still held: the stream's order is then the order
 * in which the slots were written. Deletions made outside any command
 * (active expiry, eviction) are fed at once, under their slot lock.
 *
 * The feed is installed by cluster/ (the replication buffer); server/ knows
 * only this interface. With no feed, or the feed off (no backlog yet), the
 * funnel records nothing and costs a few thread-local loads per command.
 *
 * Thread ownership: the op list is per thread (_Thread_local); only the
 * worker running a command (or the active expiry / eviction on that
 * worker) touches it.
 */
#ifndef PROPAGATE_H
#define PROPAGATE_H

#include "client.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct command;

/* One RESP-encoded command of the stream and the database it runs in. */
typedef struct {
    int db;
    const char *resp;
    size_t len;
} repl_cmd;

/* Append cmds[0..n) to the stream as one unit (nothing of another unit
 * between them), inserting SELECT where the database changes, and return
 * the stream's offset after it (0 when nothing was appended). Called from
 * any worker, with the slot locks of the unit's keys held: it must not
 * take a slot lock, block or make a syscall. */
typedef long long repl_feed_fn(const repl_cmd *cmds, int n);
/* Tell the readers of the stream that it grew: called by the thread that
 * fed, once its slot locks are released (it may post to other loops and
 * write to its own replicas' sockets). */
typedef void repl_wake_fn(void);

/* Install the feed (cluster/, once at startup, before the workers start). */
void propagate_set_feed(repl_feed_fn *feed, repl_wake_fn *wake);
/* Wake the stream's readers if this thread fed since the last call. Call
 * with no slot lock held: a worker calls it once per loop iteration
 * (worker.c, before it waits for I/O: one wake however many commands the
 * iteration ran, as Redis's beforeSleep); the active expiry cycle and
 * eviction also call it after their sweeps. */
void propagate_wake(void);
/* The stream grew on this worker outside the funnel (a PING, a GETACK, a
 * replica forwarding its master's bytes, possibly under slot locks): the
 * next propagate_wake, at the latest the worker's end of iteration, wakes
 * the readers. Worker threads only. */
void propagate_note_fed(void);
/* The funnel feeds the stream: a replication backlog exists and this
 * server is not a replica (a replica's stream is its master's, forwarded
 * verbatim; its own deletions and writes never enter it). Set by cluster/. */
extern _Atomic bool propagate_on;
static inline bool propagate_enabled(void) {
    return atomic_load_explicit(&propagate_on, memory_order_relaxed);
}

/* ---- around a command (dispatch.c) ---- */

typedef struct {
    unsigned long long changes; /* the thread's change count at the start */
    int rewrite;                /* the enclosing call's rewrite (nesting) */
    bool prevent, force, arbitrary;
} propagate_mark;

/* Before c runs cmd (saves the enclosing call's state in m). */
void propagate_call_begin(propagate_mark *m, const struct command *cmd);
/* After c ran cmd: add its argv (or rewrite) if it changed anything. */
void propagate_call_end(client *c, const struct command *cmd, const propagate_mark *m);
/* Hand the collected ops to the feed as one unit (see above). `arbitrary`:
 * the command touches arbitrary keys (KEYS, SCAN, ...): no MULTI/EXEC
 * wrapping, as Redis's CMD_TOUCHES_ARBITRARY_KEYS. Returns the stream's
 * offset after the unit, 0 when nothing was fed (WAIT's target: the
 * client's last write, Redis's c->woff). */
long long propagate_flush(bool arbitrary);
/* Drop what was collected (the command's effects are not the stream's:
 * the master link on a replica, whose bytes are forwarded verbatim). */
void propagate_discard(void);

/* Count one change of the running command (db_changed calls it). */
void propagate_count_change(void);

/* ---- inside a handler ---- */

/* The command's argv is not propagated (it added its effects itself, or
 * they must not reach the stream). */
void propagate_prevent(void);
/* Propagate the command's argv even if it changed nothing (FLUSHALL). */
void propagate_force(void);
/* The command propagates as this command instead of its argv (added when
 * the command is done, if it changed anything). Begin, then exactly argc
 * arguments. */
void propagate_rewrite_begin(int argc);
/* An op added now, in database db (Redis's alsoPropagate). Begin, then
 * exactly argc arguments. */
void propagate_also_begin(int db, int argc);
void propagate_arg(const char *p, size_t len);
void propagate_arg_str(const char *s);
void propagate_arg_ll(long long v);
/* Shorthands for whole commands of string arguments. */
void propagate_also_argv(int db, int argc, const arg_t *argv);
void propagate_rewrite_argv(int argc, const arg_t *argv);
/* The command propagates as `<name> argv[1]` (GETDEL -> DEL key). */
void propagate_rewrite_key(client *c, const char *name);

/* A key the server deleted on its own: lazy or active expiry, eviction.
 * DEL, or UNLINK when `lazy` (lazyfree-lazy-expire / -eviction). Inside a
 * command it joins the command's unit; outside one (or in a command that
 * touches arbitrary keys) it is fed at once. Caller holds the slot lock. */
void propagate_deletion(int db, const char *key, size_t len, bool lazy);

/* Free this thread's buffers (a worker that stops). */
void propagate_thread_cleanup(void);

/* Between these, the thread deletes keys under slot locks it takes and
 * releases itself (eviction): each deletion is fed at once, under its own
 * lock, rather than joining the running command's unit. Nestable. */
void propagate_own_locks_begin(void);
void propagate_own_locks_end(void);

/* The ops collected so far on this thread (tests). */
int propagate_pending(void);

#endif
