/*
 * latency.h - the latency monitor (LATENCY LATEST / HISTORY / RESET /
 * DOCTOR / HELP): events slower than latency-monitor-threshold ms are kept
 * per event name as one sample per second (the max of that second), the
 * last 160 seconds, as Redis does. Guarded by one mutex (only slow events
 * enter).
 */
#ifndef LATENCY_H
#define LATENCY_H

/* Record `ms` for `event` if the monitor is on and ms >= the threshold. */
void latency_add_sample_if_needed(const char *event, long long ms);
void latency_free(void);

#endif
