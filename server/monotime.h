/*
 * monotime.h - a cheap monotonic microsecond clock for measuring command
 * durations (slowlog, latency monitor, commandstats), as Redis's
 * monotonic clock: on x86-64 with an invariant TSC it reads the TSC
 * (calibrated once at startup against CLOCK_MONOTONIC), elsewhere it falls
 * back to clock_gettime(CLOCK_MONOTONIC). monotime_wall_ms() derives the
 * wall clock from it for the per-command time snapshot.
 */
#ifndef MONOTIME_H
#define MONOTIME_H

#include <stdint.h>

/* Calibrate; call once at startup before the workers start. */
void monotime_init(void);
uint64_t monotime_us(void);
/* Wall-clock unix milliseconds at the monotonic reading `mono_us` (taken
 * just before by the caller): each thread re-reads CLOCK_REALTIME when its
 * last reading is 1 ms old or more, and extrapolates with the monotonic
 * clock in between. For the hot path (the per-command time snapshot); the
 * result is within microseconds of CLOCK_REALTIME. A reading older than the
 * thread's last re-sync (mono_us before it) also re-syncs. */
long long monotime_wall_ms(uint64_t mono_us);
/* "X86 TSC" or "POSIX clock_gettime", for the log. */
const char *monotime_source(void);

#endif
