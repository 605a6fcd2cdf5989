/*
 * repl_failover.h - the standalone FAILOVER command (repl_failover.c) and
 * what the rest of replication asks of it. Not for server/.
 */
#ifndef REPL_FAILOVER_H
#define REPL_FAILOVER_H

#include "client.h"

#include <stdbool.h>

/* Redis 7.0's failover_state (INFO master_failover_state). */
enum repl_failover_state { FO_NONE = 0, FO_WAIT_FOR_SYNC, FO_IN_PROGRESS };

/* FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms] (any worker). */
void repl_failover_command(client *c);
/* Worker 0's cron, every tick: a synced target, the timeout, an abort. */
void repl_failover_cron(void);
/* Any thread. */
int repl_failover_state(void);
const char *repl_failover_state_name(void);
/* The handshake with the target sends PSYNC ... FAILOVER. */
bool repl_failover_in_progress(void);
/* Held around a decision and the change of role it leads to (the cron's
 * hand-over, ABORT, REPLICAOF, a PSYNC FAILOVER received, the handling of
 * a PSYNC reply): no other of them comes in between. Outermost lock. */
void repl_failover_role_lock(void);
void repl_failover_role_unlock(void);
/* The target answered the PSYNC FAILOVER (+CONTINUE or +FULLRESYNC:
 * accepted; an error, or the link failed before a reply: not). Worker 0;
 * takes fo_lock only. */
void repl_failover_psync_reply(bool accepted);

#endif
