/*
 * log.h - Redis-style log lines ("pid:M 23 Nov 2026 14:22:47.123 * text")
 * to stdout or the configured logfile, filtered by loglevel. Thread-safe:
 * each line is formatted locally and written with one write(2).
 */
#ifndef LOG_H
#define LOG_H

enum { LOG_DEBUG = 0, LOG_VERBOSE, LOG_NOTICE, LOG_WARNING, LOG_NOTHING };

void log_set_level(int level);
int log_get_level(void);
/* NULL or "" = stdout. Opens the file in append mode; returns -1 on error. */
int log_set_file(const char *path);
/* Role letter for the line prefix: 'M' main/workers, 'C' child. */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_verbose(...) log_msg(LOG_VERBOSE, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)

#endif
