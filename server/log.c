/*
 * log.c - log lines in Redis's format (see log.h). The level and the output
 * fd are atomics so CONFIG SET loglevel/logfile from any worker is safe.
 */
#include "log.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static _Atomic int log_level = LOG_NOTICE;
static _Atomic int log_fd = STDOUT_FILENO;

void log_set_level(int level) { atomic_store_explicit(&log_level, level, memory_order_relaxed); }
int log_get_level(void) { return atomic_load_explicit(&log_level, memory_order_relaxed); }

int log_set_file(const char *path) {
    int fd = STDOUT_FILENO;
    if (path && path[0]) {
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) return -1;
    }
    int old = atomic_exchange_explicit(&log_fd, fd, memory_order_acq_rel);
    if (old != STDOUT_FILENO) close(old);
    return 0;
}

void log_msg(int level, const char *fmt, ...) {
    if (level < log_get_level()) return;
    static const char marks[] = ".-*#";
    char line[1024];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    size_t n = (size_t)snprintf(line, sizeof line, "%d:M ", (int)getpid());
    n += strftime(line + n, sizeof line - n, "%d %b %Y %H:%M:%S.", &tm);
    n += (size_t)snprintf(line + n, sizeof line - n, "%03d %c ", (int)(tv.tv_usec / 1000),
                          marks[level > 3 ? 3 : level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    va_end(ap);
    if (m < 0) m = 0;
    n += (size_t)m;
    if (n > sizeof line - 2) n = sizeof line - 2;
    line[n++] = '\n';
    ssize_t w = write(atomic_load_explicit(&log_fd, memory_order_relaxed), line, n);
    (void)w;
}
