/*
 * expire.h - the active expire cycle: each worker, on its cron timer, walks
 * its share of the slots (slot % nworkers == worker id) of every database
 * and deletes keys whose time has passed, within a time budget per tick.
 */
#ifndef EXPIRE_H
#define EXPIRE_H

#include <stdatomic.h>
#include <stdbool.h>

struct worker;

void expire_cycle(struct worker *w, long long now_ms);

/* The active cycle runs (DEBUG SET-ACTIVE-EXPIRE 0 turns it off). */
extern _Atomic bool expire_active_enabled;

#endif
