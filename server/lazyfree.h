/*
 * lazyfree.h - freeing large values off the workers: a background thread
 * takes entries whose value is big (more than LAZYFREE_THRESHOLD elements,
 * or a string over 64 KB) and whole emptied tables (FLUSHALL ASYNC), so a
 * worker's latency does not spike while it frees millions of allocations.
 */
#ifndef LAZYFREE_H
#define LAZYFREE_H

#include "entry.h"
#include "ktable.h"

#include <stdint.h>

#define LAZYFREE_THRESHOLD 64

void lazyfree_start(void);
/* Drain the queue and join the thread (shutdown). */
void lazyfree_stop(void);
/* Free e now if it is small, else hand it to the lazy-free thread (a
 * mutex and a condition signal: fine under a slot lock). */
void lazyfree_entry(entry *e);
/* Hand over a whole table (its entries and bucket array); t is emptied. */
void lazyfree_table(ktable *t);
uint64_t lazyfree_pending(void);
uint64_t lazyfree_done(void);

#endif
