/*
 * process.h - facts about the running server process shared by INFO,
 * HELLO and the log: version, run id, start time, executable and config
 * paths, listening port; and the random hex ids the process makes.
 */
#ifndef PROCESS_H
#define PROCESS_H

#include <stddef.h>

#define SLOTCACHE_VERSION "0.1.0"
/* The Redis version we are compatible with, reported as redis_version so
 * that clients' feature checks pass. */
#define REDIS_COMPAT_VERSION "7.0.15"

const char *process_run_id(void);       /* 40 hex chars */
/* n random lowercase hex characters, no NUL (Redis's getRandomHexChars):
 * the run id, replication ids, cluster node names. Any thread. */
void process_random_hex(char *out, size_t n);
long long process_start_ms(void);
const char *process_executable(void);   /* absolute path */
void process_init(const char *argv0);
int process_tcp_port(void);
double process_cpu_sys(void);          /* seconds, whole process */
double process_cpu_user(void);
/* SHUTDOWN from any thread: calls the handler main installed (which wakes
 * the main loop). Without a handler (unit tests) it does nothing. */
void process_set_shutdown_handler(void (*fn)(void));

#endif
