/*
 * multi.h - MULTI / EXEC / DISCARD and the queue of a transaction. EXEC
 * locks the slots of every queued command's keys and of every watched key
 * (ascending, as any command), checks WATCH, then runs the queue, so a
 * transaction is atomic against every other worker.
 */
#ifndef MULTI_H
#define MULTI_H

#include "client.h"
#include "commands.h"

#include <stdbool.h>

/* Queue cmd with c's current argv (copied) and its keys (argv[keyidx[i]]
 * in slots[i], as dispatch computed them; copied) and reply +QUEUED, or
 * reply the queueing error and mark the transaction to abort. */
void multi_queue_command(client *c, const command *cmd, const int *keyidx, const unsigned *slots, int nkeys);
/* An error while queueing (unknown command, arity, auth): EXEC will answer
 * EXECABORT. */
void multi_flag_error(client *c);
/* cmd is EXEC and c's queue holds a write, a script that may write or a
 * command that may replicate (the transaction waits out a write pause, as
 * one). */
bool multi_exec_may_write(const client *c, const command *cmd);
/* True while this thread runs the queue of an EXEC. */
bool multi_in_exec(void);
/* Drop c's transaction state (DISCARD, RESET, disconnect). */
void multi_discard(client *c);

#endif
