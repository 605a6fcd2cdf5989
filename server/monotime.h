/*
 * monotime.h - a cheap monotonic microsecond clock for measuring command
 * durations (slowlog, latency monitor, commandstats), as Redis's
 * monotonic clock: on x86-64 with an invariant TSC it reads the TSC
 * (calibrated once at startup against CLOCK_MONOTONIC), elsewhere it falls
 * back to clock_gettime(CLOCK_MONOTONIC). Not for wall-clock time.
 */
#ifndef MONOTIME_H
#define MONOTIME_H

#include <stdint.h>

/* Calibrate; call once at startup before the workers start. */
void monotime_init(void);
uint64_t monotime_us(void);
/* "X86 TSC" or "POSIX clock_gettime", for the log. */
const char *monotime_source(void);

#endif
