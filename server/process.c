/*
 * process.c - process-wide facts (see process.h), set once at startup
 * before any worker starts and read-only afterwards, and the random hex
 * ids (run id, replication ids, cluster node names), made on any thread.
 */
#include "process.h"

#include "config.h"
#include "rng.h"
#include "worker.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>

static char run_id[41];
static long long start_ms;
static char executable[PATH_MAX];

/* Bytes from getrandom(); should it fail, splitmix64 over the clock and the
 * buffer's address (distinct ids, not secret ones). */
void process_random_hex(char *out, size_t n) {
    static const char digits[] = "0123456789abcdef";
    unsigned char rnd[32];
    while (n > 0) {
        size_t take = n < 2 * sizeof rnd ? n : 2 * sizeof rnd, nbytes = (take + 1) / 2;
        if (getrandom(rnd, nbytes, 0) != (ssize_t)nbytes) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            uint64_t st = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^ (uint64_t)(uintptr_t)out;
            for (size_t i = 0; i < nbytes; i++) rnd[i] = (unsigned char)rng_next(&st);
        }
        for (size_t i = 0; i < take; i++) out[i] = digits[(rnd[i / 2] >> (i % 2 ? 0 : 4)) & 15];
        out += take;
        n -= take;
    }
}

void process_init(const char *argv0) {
    process_random_hex(run_id, 40);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    start_ms = (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
    if (!realpath("/proc/self/exe", executable)) {
        strncpy(executable, argv0, sizeof executable - 1);
    }
}

static void (*shutdown_handler)(void);

void process_set_shutdown_handler(void (*fn)(void)) { shutdown_handler = fn; }

void server_request_shutdown(void) {
    if (shutdown_handler) shutdown_handler();
}

const char *process_run_id(void) { return run_id; }
long long process_start_ms(void) { return start_ms; }
const char *process_executable(void) { return executable; }
int process_tcp_port(void) { return (int)cfg_get(port); }

double process_cpu_sys(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

double process_cpu_user(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
}
