/*
 * migrate.h - MIGRATE (migrate.c): the source side of moving keys to
 * another server, and its per-worker cache of connections to targets.
 */
#ifndef MIGRATE_H
#define MIGRATE_H

#include "client.h"

/* Each worker's cron: close the cached connections unused for 10 s. */
void migrate_cron(void);
/* A worker that stops: close its cached connections. */
void migrate_thread_cleanup(void);
/* MIGRATE's keys (Redis's migrateGetKeys): dispatch's keys_fn, and COMMAND
 * GETKEYS's finder. */
int migrate_keys(const arg_t *argv, int argc, int *keyidx, int max);

#endif
