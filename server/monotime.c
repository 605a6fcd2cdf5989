/*
 * monotime.c - monotonic microseconds (see monotime.h). The TSC is used
 * only when /proc/cpuinfo reports both constant_tsc and nonstop_tsc; ticks
 * become microseconds by a 32.32 fixed-point multiply (a double division
 * cost as much as the rdtsc itself on the request path).
 */
#include "monotime.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

static bool use_tsc;
static uint64_t us_per_tick_fp32; /* microseconds per TSC tick << 32 */

#define WALL_RESYNC_US 1000 /* how long a thread trusts its wall/monotonic pair */
static _Thread_local uint64_t wall_base_mono_us;
static _Thread_local long long wall_base_us;
static _Thread_local bool wall_base_set;

static uint64_t clock_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void monotime_init(void) {
#if defined(__x86_64__)
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[4096];
    bool constant = false, nonstop = false;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) != 0) continue;
        constant = strstr(line, " constant_tsc") != NULL;
        nonstop = strstr(line, " nonstop_tsc") != NULL;
        break;
    }
    fclose(f);
    if (!constant || !nonstop) return;
    uint64_t t0 = clock_us(), c0 = __rdtsc();
    struct timespec nap = {0, 20 * 1000 * 1000};
    nanosleep(&nap, NULL);
    uint64_t t1 = clock_us(), c1 = __rdtsc();
    if (t1 <= t0 || c1 <= c0) return;
    double tsc_per_us = (double)(c1 - c0) / (double)(t1 - t0);
    if (tsc_per_us <= 1.0) return;
    us_per_tick_fp32 = (uint64_t)(4294967296.0 / tsc_per_us);
    use_tsc = true;
#endif
}

uint64_t monotime_us(void) {
#if defined(__x86_64__)
    if (use_tsc) return (uint64_t)(((unsigned __int128)__rdtsc() * us_per_tick_fp32) >> 32);
#endif
    return clock_us();
}

static long long realtime_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

long long monotime_wall_ms(uint64_t mono_us) {
    if (!use_tsc) return realtime_us() / 1000;
    if (!wall_base_set || mono_us - wall_base_mono_us >= WALL_RESYNC_US) {
        wall_base_us = realtime_us();
        wall_base_mono_us = monotime_us();
        wall_base_set = true;
        return wall_base_us / 1000;
    }
    return (wall_base_us + (long long)(mono_us - wall_base_mono_us)) / 1000;
}

const char *monotime_source(void) { return use_tsc ? "X86 TSC" : "POSIX clock_gettime"; }
