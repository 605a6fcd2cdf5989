/*
 * slot_migration.h - atomic slot migration (slot_migration.c): the
 * CLUSTER subcommands of Valkey 9's MIGRATESLOTS family, registered in
 * cluster_cmd.c's table, and the two argument checks cluster_cmd.c shares
 * with them.
 */
#ifndef SLOT_MIGRATION_H
#define SLOT_MIGRATION_H

#include "client.h"

#include <stdbool.h>

void cluster_migrateslots_command(client *c);
void cluster_getslotmigrations_command(client *c);
void cluster_cancelslotmigrations_command(client *c);
/* The target side, sent by the source's job (internal). */
void cluster_syncslots_command(client *c);

/* Shutdown (cluster_stop_bus, before the workers stop): cancel the export
 * jobs and wait (bounded) for their threads, which post to workers. */
void slot_migration_stop(void);

/* (cluster_cmd.c) A standalone server's answer to every CLUSTER
 * subcommand: true after replying it. */
bool cluster_disabled_or_reply(client *c);
/* (cluster_cmd.c) A slot number argument (Redis's getSlotOrReply): -1
 * after replying. */
int cluster_slot_or_reply(client *c, const arg_t *a);

#endif
