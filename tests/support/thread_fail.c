/*
 * thread_fail.c - failure recorder and connect helper for client threads
 * (see thread_fail.h).
 */
#include "thread_fail.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/time.h>

static pthread_mutex_t fail_mu = PTHREAD_MUTEX_INITIALIZER;
static char fail_msg[512];      /* first failure; guarded by fail_mu */
static atomic_int fail_count;

void sc_thread_fail(const char *fmt, ...)
{
    pthread_mutex_lock(&fail_mu);
    if (atomic_fetch_add(&fail_count, 1) == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(fail_msg, sizeof fail_msg, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&fail_mu);
}

int sc_thread_failures(void)
{
    return atomic_load(&fail_count);
}

void sc_thread_fail_reset(void)
{
    pthread_mutex_lock(&fail_mu);
    atomic_store(&fail_count, 0);
    fail_msg[0] = '\0';
    pthread_mutex_unlock(&fail_mu);
}

void sc_no_thread_failures_or_fail(void)
{
    char first[sizeof fail_msg];
    pthread_mutex_lock(&fail_mu);
    int n = atomic_load(&fail_count);
    snprintf(first, sizeof first, "%s", fail_msg);
    pthread_mutex_unlock(&fail_mu);
    cr_assert_eq(n, 0, "%d failure(s), first: %s", n, first);
}

redisContext *sc_thread_connect(const sc_server *s, int timeout_ms)
{
    int ms = sc_scaled_ms(timeout_ms);
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    redisContext *c = redisConnectWithTimeout("127.0.0.1", s->port, tv);
    if (!c || c->err) {
        sc_thread_fail("connect: %s", c ? c->errstr : "oom");
        if (c) redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    return c;
}
