/*
 * thread_fail.h - failures seen by a test's client (worker) threads.
 *
 * Criterion assertions may only run on the test's main thread, so a client
 * thread records what went wrong with sc_thread_fail() and the main thread,
 * after joining every client, calls sc_no_thread_failures_or_fail(). The
 * recorder keeps the number of failures and the message of the first one;
 * clients poll sc_thread_failures() to stop early once anything failed.
 * sc_thread_connect() is the hiredis connect for such threads: it records a
 * failure instead of asserting.
 *
 * The state is per process: Criterion runs each test in its own process, so
 * it starts empty in every test.
 */
#ifndef THREAD_FAIL_H
#define THREAD_FAIL_H

#include <hiredis/hiredis.h>

#include "server_proc.h"

/* Record a failure (thread-safe); only the first message is kept. */
void sc_thread_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Failures recorded so far. */
int sc_thread_failures(void);

/* Forget every recorded failure (before starting the clients). */
void sc_thread_fail_reset(void);

/* Main thread only: fail the test when any failure was recorded, quoting the
 * count and the first message. */
void sc_no_thread_failures_or_fail(void);

/* Connect to s (no AUTH) with connect and I/O timeouts of timeout_ms
 * (scaled). On error records "connect: <reason>" and returns NULL. */
redisContext *sc_thread_connect(const sc_server *s, int timeout_ms);

#endif
