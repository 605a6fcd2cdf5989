/*
 * writepause.h - a pause of every write, or of the writes to some slots
 * (writepause.c): begun and ended by whoever needs the dataset, or part of
 * it, to stop moving (a master handing over to its replica in a
 * coordinated CLUSTER FAILOVER; an atomic slot migration handing its slots
 * over, cluster/slot_migration.c), tested by dispatch before the command's
 * slot locks.
 */
#ifndef WRITEPAUSE_H
#define WRITEPAUSE_H

#include <stdbool.h>
#include <stdint.h>

/* Any thread. Pauses nest: writes run again after as many ends as begins. */
void writepause_begin(void);
void writepause_end(void);
/* Pause the writes to the slots set in bitmap (16384 bits) only, nesting
 * with the other pauses; the bitmaps of pauses running at the same time
 * must not overlap. End with the same bitmap. */
void writepause_slots_begin(const uint64_t *bitmap);
void writepause_slots_end(const uint64_t *bitmap);
/* Some pause is running, of every write or of some slots' (one or two
 * relaxed loads): what must not move while any part of the dataset is
 * handed over stops (eviction, the active expire cycle, the deletion of an
 * expired key read, a woken blocked client's re-run). */
bool writepause_active(void);
/* A write to these slots (n of them; none: a command without keys) must
 * wait now: every write is paused, or a slot pause runs and the command
 * has no key or one in a paused slot. */
bool writepause_holds(const unsigned *slots, int n);
/* done(arg) runs, on some worker's thread, once every worker has finished
 * the command it was running at this call: with a pause begun before it,
 * no write is in flight any more. At once, on the calling thread, when
 * there are no workers. */
void writepause_drain(void (*done)(void *), void *arg);

/* dispatch, on c's worker, for a write read from c's socket while writes
 * are paused: c waits, its command unconsumed, until the last pause ends
 * (a job on every worker then resumes the postponed clients). */
struct client;
void writepause_postpone(struct client *c);

/* The error a paused write that cannot wait gets. */
#define ERR_WRITES_PAUSED "TRYAGAIN Writes are paused while this master hands over to its replica"

#endif
