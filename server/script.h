/*
 * script.h - EVAL without Lua: the run state a recognised lock script gets
 * and the emulation of the few redis.call()s those scripts make.
 *
 * slotcache has no Lua interpreter. EVAL/EVALSHA (script.c) look the
 * script up by the SHA1 of its exact bytes in the table of recognised lock
 * scripts (lock_scripts.c) and run its native implementation
 * (lock_scripts_impl.c) with the slot locks of all KEYS held by dispatch, so
 * the run is atomic like a Lua script.
 *
 * Each script_call_* below behaves as redis.call(<command>, ...) does inside
 * a Redis 7.0 script: same checks in the same order (a nil argument, a write
 * from EVAL_RO, OOM before the first write), same effects on the keyspace
 * (lazy expiry, hit/miss stats, keyspace events, WATCH invalidation through
 * the db_* calls), and on failure the same error reply, suffixed as Redis
 * does: "<error> script: <sha1>, on @user_script:<line>." `line` is the line
 * of the script where that redis.call() stands. A call that fails has
 * replied (the script aborts there: writes done before it stay, as in
 * Redis) and returns false; the implementation must then return at once.
 * A NULL key or value argument stands for Lua nil (a KEYS[i] or ARGV[i]
 * beyond what the client sent).
 */
#ifndef SCRIPT_H
#define SCRIPT_H

#include "client.h"

#include <stdbool.h>
#include <stddef.h>

/* Number of recognised scripts currently "cached" (loaded by SCRIPT LOAD or
 * EVAL since the last SCRIPT FLUSH): INFO memory's number_of_cached_scripts. */
int script_cached_count(void);

typedef struct script_run {
    client *c;
    const char *sha;           /* 40 lower-case hex digits, NUL-terminated */
    const arg_t *keys;         /* KEYS[1..nkeys] */
    int nkeys;
    const arg_t *args;         /* ARGV[1..nargs] */
    int nargs;
    bool read_only;            /* EVAL_RO / EVALSHA_RO: any write command fails */
    bool wrote;                /* a write command ran (no OOM check after it) */
    bool upper_calls;          /* the body spells commands in upper case
                                  ("DEL"): its effects propagate so */
} script_run;

/* KEYS[i] / ARGV[i], 1-based as in Lua; NULL (nil) when out of range. */
const arg_t *script_key(const script_run *r, int i);
const arg_t *script_arg(const script_run *r, int i);

/* The result of `redis.call('get', key)` compared with a Lua value. */
enum script_get_result {
    SCRIPT_GET_NIL,   /* key missing: Lua false */
    SCRIPT_GET_EQUAL, /* the value's bytes equal `want` */
    SCRIPT_GET_OTHER, /* a value that differs from `want` (or want is nil) */
};

/* redis.call('get', key) compared with `want` (NULL: nil, never equal). */
bool script_call_get_compare(script_run *r, int line, const arg_t *key, const arg_t *want,
                             enum script_get_result *res);
/* redis.call('exists', key): *n = 0 or 1. */
bool script_call_exists(script_run *r, int line, const arg_t *key, long long *n);
/* redis.call('pttl', key): *ms = the TTL, -1 no TTL, -2 missing. */
bool script_call_pttl(script_run *r, int line, const arg_t *key, long long *ms);
/* redis.call('del', key): *n = keys deleted. With `protected_call` it is
 * redis.pcall: an error is returned to the script instead of raised, so
 * nothing is replied, *n is -1 and the call returns true. */
bool script_call_del(script_run *r, int line, const arg_t *key, bool protected_call, long long *n);
/* redis.call('pexpire', key, ms): *n = 1 when the key exists (a time
 * already passed deletes it), 0 when missing. `ms` is the argument's bytes
 * (NULL: nil). */
bool script_call_pexpire(script_run *r, int line, const arg_t *key, const arg_t *ms, long long *n);
/* redis.call('set', key, value, 'PX', ms [, 'NX']): *done is true when the
 * value was stored (the command's +OK status), false when NX found the key
 * (nil, Lua false). */
bool script_call_set_px(script_run *r, int line, const arg_t *key, const arg_t *value, const arg_t *ms, bool nx,
                        bool *done);

/* A Lua runtime error at `line` (not from a redis.call): replies
 * "ERR user_script:<line>: <msg> script: <sha1>, on @user_script:<line>." */
void script_reply_lua_error(script_run *r, int line, const char *msg);

/* Lua 5.1's string -> number coercion (what `ARGV[2] + n` does): strtod
 * of the bytes up to the first NUL, hexadecimal "0x..." accepted, leading
 * and trailing white space allowed. False when Lua would raise "attempt to
 * perform arithmetic". */
bool script_lua_tonumber(const arg_t *a, double *out);
/* A Lua number passed to redis.call, as Redis 7.0 converts it: "%.17g"
 * ("16", "1.5", "0.10000000000000001", "1e+21"). Writes a NUL-terminated
 * string into buf (>= 32 bytes) and returns its length. */
size_t script_lua_number_string(double v, char *buf, size_t buflen);

#endif
