/*
 * slowlog.h - the slow log (SLOWLOG GET / LEN / RESET): commands slower than
 * slowlog-log-slower-than microseconds, newest first, at most
 * slowlog-max-len entries. Guarded by one mutex (only slow commands enter).
 */
#ifndef SLOWLOG_H
#define SLOWLOG_H

#include "client.h"

/* Called by dispatch after every command with its duration. */
void slowlog_maybe_add(client *c, long long duration_us);
void slowlog_init(void);
/* SLOWLOG subcommand handlers (table entries live in cmd_server.c). */
void slowlog_get_command(client *c);
void slowlog_len_command(client *c);
void slowlog_reset_command(client *c);
void slowlog_help_command(client *c);
void slowlog_free(void);

#endif
