/*
 * propagate.h - the replication stream side of the write funnel.
 *
 * Every change to the keyspace reaches the stream through here, already in
 * the form Redis 7.0 propagates it (SET EX -> SET PXAT, EXPIRE -> PEXPIREAT,
 * SPOP -> SREM, expiry and eviction -> DEL/UNLINK, ...). While a command
 * runs, its handler records what it changed (propagate_cmd /
 * propagate_argv, or nothing for a verbatim write); when it is done, still
 * under the command's slot locks, the funnel hands the whole unit
 * (one command, or MULTI ... EXEC) to the feed, so the stream's order is the
 * order in which the slots were written.
 *
 * The feed is installed by cluster/ (the replication buffer); server/ knows
 * only this interface. With no feed, or the feed off (no backlog yet), the
 * funnel costs one relaxed load per write.
 */
#ifndef PROPAGATE_H
#define PROPAGATE_H

#include "client.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/* One RESP-encoded command of the stream and the database it runs in. */
typedef struct {
    int db;
    const char *resp;
    size_t len;
} repl_cmd;

/* Append cmds[0..n) to the stream as one unit (nothing of another unit
 * between them), inserting SELECT where the database changes. Called from
 * any worker, with the slot locks of the unit's keys held: it must not take
 * a slot lock, block or make a syscall other than waking a loop. */
typedef void repl_feed_fn(const repl_cmd *cmds, int n);

/* Install the feed (cluster/, once at startup, before the workers start). */
void propagate_set_feed(repl_feed_fn *fn);
/* The feed wants data (a replication backlog exists). Set by cluster/. */
extern _Atomic bool propagate_on;
static inline bool propagate_enabled(void) {
    return atomic_load_explicit(&propagate_on, memory_order_relaxed);
}

#endif
