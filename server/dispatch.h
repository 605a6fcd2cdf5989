/*
 * dispatch.h - running one parsed command for a client: lookup, arity and
 * auth checks, MULTI queueing, slot locking from the key spec, the handler,
 * statistics and the slow log, then the post-command work that must happen
 * without slot locks (keyspace notifications, waking blocked clients).
 */
#ifndef DISPATCH_H
#define DISPATCH_H

#include "client.h"
#include "commands.h"

/* Run c->argv/c->argc. The reply goes to the client's reply buffer. */
void dispatch_command(client *c);

/* Run an already-resolved command whose slots the caller holds (EXEC):
 * time snapshot, handler, statistics, slow log. */
void dispatch_call(client *c, const command *cmd);

/* Resolve argv to a command (with subcommand), replying Redis's error and
 * returning NULL when it does not exist or has the wrong arity. */
const command *dispatch_resolve_or_reply(client *c);

/* A write command about to run inside EXEC (its slots locked by EXEC):
 * a running snapshot keeps the pre-images of its key slots, which covers
 * values it changes in place (snapshot.h). */
void dispatch_snapshot_before_write(const command *cmd, const arg_t *argv, int argc);

/* The master link (CF_MASTER) ran the command whose bytes conn.c set in
 * c->master_cmd: report it to replication (offset, forwarding to our
 * replicas) once. Called under the command's slot locks (dispatch, EXEC)
 * or after it (conn.c) when dispatch did not. */
void dispatch_master_applied(client *c);

#endif
