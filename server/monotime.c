/*
 * monotime.c - monotonic microseconds (see monotime.h). The TSC is used
 * only when /proc/cpuinfo reports both constant_tsc and nonstop_tsc.
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
static double tsc_per_us = 1.0;

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
    tsc_per_us = (double)(c1 - c0) / (double)(t1 - t0);
    use_tsc = tsc_per_us > 1.0;
#endif
}

uint64_t monotime_us(void) {
#if defined(__x86_64__)
    if (use_tsc) return (uint64_t)((double)__rdtsc() / tsc_per_us);
#endif
    return clock_us();
}

const char *monotime_source(void) { return use_tsc ? "X86 TSC" : "POSIX clock_gettime"; }
