/*
 * cmdstats.h - per-command statistics for INFO commandstats (calls, usec,
 * rejected_calls, failed_calls), counted per thread like stats.h and summed
 * on read, so the hot path never writes a cache line shared between workers.
 */
#ifndef CMDSTATS_H
#define CMDSTATS_H

#include "commands.h"

#include <stdint.h>

enum { CMDSTAT_CALLS = 0, CMDSTAT_USEC, CMDSTAT_REJECTED, CMDSTAT_FAILED, CMDSTAT_FIELDS };

/* After commands_init(): size the per-thread arrays. */
void cmdstats_init(void);
/* Give the calling thread its own array (workers). */
void cmdstats_thread_register(void);
void cmdstats_add(const command *cmd, int field, uint64_t n);
/* Sum over threads, minus the last reset. */
uint64_t cmdstats_get(const command *cmd, int field);
void cmdstats_reset(void);
void cmdstats_free(void);

#endif
