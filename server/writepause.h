/*
 * writepause.h - a pause of every write (writepause.c): begun and ended by
 * whoever needs the dataset to stop moving (a master handing over to its
 * replica in a coordinated CLUSTER FAILOVER), tested by dispatch and EXEC
 * under the command's slot locks.
 */
#ifndef WRITEPAUSE_H
#define WRITEPAUSE_H

#include <stdbool.h>

/* Any thread. Pauses nest: writes run again after as many ends as begins. */
void writepause_begin(void);
void writepause_end(void);
/* Writes are paused now (one relaxed load). */
bool writepause_active(void);
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
