/*
 * repl_compare.h - helpers shared by the replication suites: INFO fields as
 * text, the replica-side link and offset checks, and a key-by-key comparison
 * of two servers' keyspaces (type, the value read per type, PTTL within a
 * tolerance) over databases 0..15.
 *
 * Every function reports through Criterion assertions (*_or_fail) or
 * returns a plain value, so it may only be called from a test process's main
 * thread, except sc_repl_thread_*, made for load threads.
 */
#ifndef REPL_COMPARE_H
#define REPL_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

#include <hiredis/hiredis.h>

/* The value of INFO field `name` of `section` into out (truncated to n-1
 * bytes); false, with out = "", when the field is absent. */
bool sc_repl_info_str(redisContext *c, const char *section, const char *name, char *out, size_t n);

/* INFO replication's master_link_status is "up". */
bool sc_repl_link_up(redisContext *replica);

/* A key's value as canonical text, read with the command for its TYPE:
 * GET, LRANGE (in order), HGETALL (field=value pairs, sorted), SMEMBERS
 * (sorted), ZRANGE WITHSCORES (in order). Binary safe. Caller frees. */
char *sc_repl_value_of(redisContext *c, const char *key, const char *type);

/* Every key of databases 0..15 of `a` is on `b` with the same type, value
 * and PTTL (both without TTL, or within ttl_tolerance_ms), and DBSIZE is
 * equal in every database. Fails the test at the first difference (listing
 * both key sets when the sizes differ). Leaves both connections in db 0.
 * Returns the number of keys compared. */
long long sc_repl_compare_keyspaces_or_fail(redisContext *a, redisContext *b, long long ttl_tolerance_ms);

/* Read the replies of `n` pipelined commands from c; fails the test when the
 * connection breaks or a reply is an error. */
void sc_repl_drain_or_fail(redisContext *c, int n);

/* The reference redis-server binary, or skip the test when there is none. */
const char *sc_repl_redis_or_skip(void);

/* For a load thread (no Criterion assertion; reports with sc_thread_fail,
 * prefixed with `who`): a connection to 127.0.0.1:port, or NULL. */
redisContext *sc_repl_thread_connect(int port, const char *who);

/* For a load thread: read the replies of `n` pipelined commands; false
 * (after sc_thread_fail) when the connection breaks, the caller then frees
 * c. An error reply is a thread failure too when errors_fail. */
bool sc_repl_thread_drain(redisContext *c, int n, const char *who, bool errors_fail);

#endif
