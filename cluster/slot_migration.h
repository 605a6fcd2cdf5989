/*
 * slot_migration.h - atomic slot migration (slot_migration.c): the
 * CLUSTER subcommands of Valkey 9's MIGRATESLOTS family, registered in
 * cluster_cmd.c's table.
 */
#ifndef SLOT_MIGRATION_H
#define SLOT_MIGRATION_H

#include <stdbool.h>

struct client;
void cluster_migrateslots_command(struct client *c);
void cluster_getslotmigrations_command(struct client *c);
void cluster_cancelslotmigrations_command(struct client *c);
/* The target side, sent by the source's job (internal). */
void cluster_syncslots_command(struct client *c);

/* A standalone server's answer to every CLUSTER subcommand (cluster_cmd.c):
 * true after replying it. */
bool cluster_disabled_or_reply(struct client *c);

#endif
