/*
 * process.c - process-wide facts (see process.h), set once at startup
 * before any worker starts and read-only afterwards.
 */
#include "process.h"

#include "config.h"
#include "worker.h"

#include <limits.h>
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

void process_init(const char *argv0) {
    unsigned char rnd[20];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        for (size_t i = 0; i < sizeof rnd; i++) rnd[i] = (unsigned char)(rand() ^ (int)time(NULL));
    }
    for (size_t i = 0; i < sizeof rnd; i++) snprintf(run_id + 2 * i, 3, "%02x", rnd[i]);
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
