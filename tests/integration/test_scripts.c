/*
 * test_scripts.c - EVAL / EVALSHA / EVAL_RO / EVALSHA_RO / SCRIPT with the
 * recognised lock scripts (server/lock_scripts.c), each sent with the exact
 * body its library ships (tests/support/lock_script_bodies.h):
 * - every script's semantics on missing, matching and mismatching keys (and
 *   a key of another type), with the exact reply type: integers, the +OK
 *   status of SET, nil for Lua false (RESP2 and RESP3 bytes checked raw),
 *   and Redis's script errors ("... script: <sha1>, on @user_script:N.");
 * - the script cache as Redis shows it: EVALSHA answers NOSCRIPT until the
 *   script was loaded (SCRIPT LOAD or EVAL), SCRIPT EXISTS, SCRIPT FLUSH;
 * - numkeys errors, EVAL_RO refusing writes, SCRIPT subcommands, EVAL in
 *   MULTI, WATCH invalidation, keyspace events of the writes;
 * - a lock taken and released through the scripts by 8 clients on a
 *   4-worker server around a non-atomic GET/SET counter: the count is exact.
 *
 * Every expectation was validated against redis-server 7.0.15 (Lua runs the
 * same bodies there: SLOTCACHE_SERVER=/usr/bin/redis-server), except the
 * answer to an unknown script, which Redis compiles and runs.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lock_script_bodies.h"
#include "server_proc.h"
#include "thread_fail.h"

static sc_server srv;

TestSuite(scripts, .fini = sc_server_cleanup, .timeout = 300);

#define MAX_ARGS 32

/* ---- helpers ----------------------------------------------------------- */

/* Run a NULL-terminated argument list (binary-safe: script bodies hold
 * newlines and quotes). */
static redisReply *run_v(redisContext *c, const char *const *args) {
    const char *argv[MAX_ARGS];
    size_t lens[MAX_ARGS];
    int argc = 0;
    while (args[argc]) {
        cr_assert_lt(argc, MAX_ARGS);
        argv[argc] = args[argc];
        lens[argc] = strlen(args[argc]);
        argc++;
    }
    redisReply *r = redisCommandArgv(c, argc, argv, lens);
    cr_assert_not_null(r, "%s: connection broke: %s", argv[0], c->errstr);
    return r;
}

#define CMD(c, ...) run_v((c), (const char *[]){__VA_ARGS__, NULL})
/* EVAL <body of script id> numkeys keys... args... */
#define EV(c, id, ...) run_v((c), (const char *[]){"EVAL", test_lock_scripts[id].body, __VA_ARGS__, NULL})
#define EV_RO(c, id, ...) run_v((c), (const char *[]){"EVAL_RO", test_lock_scripts[id].body, __VA_ARGS__, NULL})
#define SHA(id) (test_lock_scripts[id].sha1)

static void reply_describe(const redisReply *r, char *out, size_t n) {
    switch (r->type) {
    case REDIS_REPLY_STATUS: snprintf(out, n, "status \"%.*s\"", (int)r->len, r->str); break;
    case REDIS_REPLY_ERROR: snprintf(out, n, "error \"%.*s\"", (int)r->len, r->str); break;
    case REDIS_REPLY_STRING: snprintf(out, n, "bulk \"%.*s\"", (int)r->len, r->str); break;
    case REDIS_REPLY_INTEGER: snprintf(out, n, "integer %lld", r->integer); break;
    case REDIS_REPLY_NIL: snprintf(out, n, "nil"); break;
    default: snprintf(out, n, "type %d (%zu elements)", r->type, r->elements); break;
    }
}

static void expect_int(redisReply *r, long long want, const char *what) {
    char d[512];
    reply_describe(r, d, sizeof d);
    cr_assert(r->type == REDIS_REPLY_INTEGER && r->integer == want, "%s: got %s, want integer %lld", what, d, want);
    freeReplyObject(r);
}

static void expect_nil(redisReply *r, const char *what) {
    char d[512];
    reply_describe(r, d, sizeof d);
    cr_assert(r->type == REDIS_REPLY_NIL, "%s: got %s, want nil", what, d);
    freeReplyObject(r);
}

static void expect_status(redisReply *r, const char *want, const char *what) {
    char d[512];
    reply_describe(r, d, sizeof d);
    cr_assert(r->type == REDIS_REPLY_STATUS && strcmp(r->str, want) == 0, "%s: got %s, want status %s", what, d,
              want);
    freeReplyObject(r);
}

static void expect_bulk(redisReply *r, const char *want, const char *what) {
    char d[512];
    reply_describe(r, d, sizeof d);
    cr_assert(r->type == REDIS_REPLY_STRING && r->len == strlen(want) && memcmp(r->str, want, r->len) == 0,
              "%s: got %s, want bulk \"%s\"", what, d, want);
    freeReplyObject(r);
}

static void expect_error(redisReply *r, const char *want, const char *what) {
    char d[1024];
    reply_describe(r, d, sizeof d);
    cr_assert(r->type == REDIS_REPLY_ERROR && strcmp(r->str, want) == 0, "%s: got %s, want error \"%s\"", what, d,
              want);
    freeReplyObject(r);
}

/* The error a failing redis.call() raises in Redis 7.0. */
static void expect_script_error(redisReply *r, const char *msg, int id, int line, const char *what) {
    char want[512];
    snprintf(want, sizeof want, "%s script: %s, on @user_script:%d.", msg, SHA(id), line);
    expect_error(r, want, what);
}

static long long cmd_ll(redisContext *c, const char *const *args) {
    redisReply *r = run_v(c, args);
    cr_assert_eq(r->type, REDIS_REPLY_INTEGER, "%s: not an integer reply", args[0]);
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}
#define LL(c, ...) cmd_ll((c), (const char *[]){__VA_ARGS__, NULL})

static void expect_value(redisContext *c, const char *key, const char *want, const char *what) {
    redisReply *r = CMD(c, "GET", key);
    if (want)
        expect_bulk(r, want, what);
    else
        expect_nil(r, what);
}

/* PTTL of key within [lo, hi]. */
static void expect_pttl(redisContext *c, const char *key, long long lo, long long hi, const char *what) {
    long long t = LL(c, "PTTL", key);
    cr_assert(t >= lo && t <= hi, "%s: PTTL %s = %lld, want %lld..%lld", what, key, t, lo, hi);
}

static void reset(redisContext *c) { expect_status(CMD(c, "FLUSHALL"), "OK", "FLUSHALL"); }

#define WRONGTYPE "WRONGTYPE Operation against a key holding the wrong kind of value"
#define NIL_ARG "ERR Lua redis lib command arguments must be strings or integers"
#define NOT_INT "ERR value is not an integer or out of range"
#define NOSCRIPT "NOSCRIPT No matching script. Please use EVAL."

static redisContext *start(void) {
    sc_server_start_or_fail(&srv, NULL);
    return sc_connect_or_fail(&srv);
}

static void finish(redisContext *c) {
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

/* ---- redis-py Lock ----------------------------------------------------- */

Test(scripts, redispy_release) {
    redisContext *c = start();
    const int id = TLS_PY_RELEASE;
    expect_int(EV(c, id, "1", "lk", "tok"), 0, "missing");
    expect_status(CMD(c, "SET", "lk", "other", "PX", "100000"), "OK", "SET");
    expect_int(EV(c, id, "1", "lk", "tok"), 0, "mismatch");
    expect_value(c, "lk", "other", "mismatch keeps the key");
    expect_status(CMD(c, "SET", "lk", "tok", "PX", "100000"), "OK", "SET");
    expect_int(EV(c, id, "1", "lk", "tok"), 1, "match");
    expect_int(CMD(c, "EXISTS", "lk"), 0, "match deletes");
    /* ARGV[1] absent: nil never equals the token. */
    expect_status(CMD(c, "SET", "lk", "tok"), "OK", "SET");
    expect_int(EV(c, id, "1", "lk"), 0, "no ARGV");
    /* An integer-encoded value compares by its text. */
    expect_status(CMD(c, "SET", "lk", "12345"), "OK", "SET");
    expect_int(EV(c, id, "1", "lk", "12345"), 1, "int token");
    expect_int(EV(c, id, "1", "lk", "12345"), 0, "int token gone");
    /* Errors raised by redis.call('get'). */
    expect_int(CMD(c, "HSET", "h", "f", "v"), 1, "HSET");
    expect_script_error(EV(c, id, "1", "h", "tok"), WRONGTYPE, id, 2, "wrong type");
    expect_script_error(EV(c, id, "0"), NIL_ARG, id, 2, "no KEYS[1]");
    finish(c);
}

Test(scripts, redispy_extend) {
    redisContext *c = start();
    const int id = TLS_PY_EXTEND;
    expect_int(EV(c, id, "1", "lk", "tok", "5000", "0"), 0, "missing");
    expect_status(CMD(c, "SET", "lk", "tok", "PX", "100000"), "OK", "SET");
    expect_int(EV(c, id, "1", "lk", "bad", "5000", "0"), 0, "mismatch");
    expect_pttl(c, "lk", 90000, 100000, "mismatch leaves the TTL");
    /* ARGV[3] == "0": add to the remaining TTL. */
    expect_int(EV(c, id, "1", "lk", "tok", "50000", "0"), 1, "add");
    expect_pttl(c, "lk", 140000, 150000, "add");
    /* Otherwise replace it. */
    expect_int(EV(c, id, "1", "lk", "tok", "5000", "1"), 1, "replace");
    expect_pttl(c, "lk", 4000, 5000, "replace");
    expect_int(EV(c, id, "1", "lk", "tok", "7000"), 1, "replace without ARGV[3]");
    expect_pttl(c, "lk", 6000, 7000, "replace without ARGV[3]");
    /* Lua's number coercion in the add form: " 12 ", hex, exponent. */
    expect_int(EV(c, id, "1", "lk", "tok", "1e3", "0"), 1, "add 1e3");
    expect_pttl(c, "lk", 7000, 8000, "add 1e3");
    expect_int(EV(c, id, "1", "lk", "tok", "0x400", "0"), 1, "add 0x400");
    expect_pttl(c, "lk", 8000, 9024, "add 0x400");
    /* A sum at or below zero deletes the key, and still returns 1. */
    expect_int(EV(c, id, "1", "lk", "tok", "-100000", "0"), 1, "negative sum");
    expect_int(CMD(c, "EXISTS", "lk"), 0, "negative sum deletes");
    /* No TTL: 0, and the key keeps no TTL. */
    expect_status(CMD(c, "SET", "lk", "tok"), "OK", "SET");
    expect_int(EV(c, id, "1", "lk", "tok", "5000", "0"), 0, "no TTL");
    expect_int(CMD(c, "PTTL", "lk"), -1, "no TTL kept");
    /* Errors: Lua arithmetic on a non-number, PEXPIRE of a non-integer. */
    expect_status(CMD(c, "SET", "lk", "tok", "PX", "100000"), "OK", "SET");
    expect_error(EV(c, id, "1", "lk", "tok", "abc", "0"),
                 "ERR user_script:16: attempt to perform arithmetic on field '?' (a string value) script: "
                 "a4e8783852e6b949f9ef3a97212805108459a890, on @user_script:16.",
                 "arithmetic on a string");
    expect_script_error(EV(c, id, "1", "lk", "tok", "1.5", "0"), NOT_INT, id, 18, "fractional sum");
    expect_script_error(EV(c, id, "1", "lk", "tok", "abc", "1"), NOT_INT, id, 18, "replace with a non-integer");
    expect_script_error(EV(c, id, "1", "lk", "tok"), NIL_ARG, id, 18, "no ARGV[2]");
    expect_pttl(c, "lk", 90000, 100000, "errors change nothing");
    finish(c);
}

Test(scripts, redispy_reacquire) {
    redisContext *c = start();
    const int id = TLS_PY_REACQUIRE;
    expect_int(EV(c, id, "1", "lk", "tok", "5000"), 0, "missing");
    expect_int(CMD(c, "EXISTS", "lk"), 0, "missing stays missing");
    expect_status(CMD(c, "SET", "lk", "tok", "PX", "100000"), "OK", "SET");
    expect_int(EV(c, id, "1", "lk", "bad", "5000"), 0, "mismatch");
    expect_pttl(c, "lk", 90000, 100000, "mismatch");
    expect_int(EV(c, id, "1", "lk", "tok", "5000"), 1, "match");
    expect_pttl(c, "lk", 4000, 5000, "match");
    expect_script_error(EV(c, id, "1", "lk", "tok", "abc"), NOT_INT, id, 6, "bad TTL");
    finish(c);
}

/* ---- go-redsync ---------------------------------------------------------- */

Test(scripts, redsync_delete) {
    redisContext *c = start();
    const int id = TLS_RS_DELETE;
    expect_int(EV(c, id, "1", "lk", "tok"), -1, "missing");
    expect_status(CMD(c, "SET", "lk", "other"), "OK", "SET");
    expect_int(EV(c, id, "1", "lk", "tok"), 0, "mismatch");
    expect_value(c, "lk", "other", "mismatch keeps the key");
    expect_status(CMD(c, "SET", "lk", "tok"), "OK", "SET");
    expect_int(EV(c, id, "1", "lk", "tok"), 1, "match");
    expect_int(CMD(c, "EXISTS", "lk"), 0, "match deletes");
    expect_int(EV(c, id, "1", "lk"), -1, "missing, no ARGV");
    expect_int(CMD(c, "SADD", "s", "m"), 1, "SADD");
    expect_script_error(EV(c, id, "1", "s", "tok"), WRONGTYPE, id, 2, "wrong type");
    finish(c);
}

Test(scripts, redsync_delete_old) {
    redisContext *c = start();
    const int id = TLS_RS_OLDDELETE;
    expect_int(EV(c, id, "1", "lk", "tok"), 0, "missing");
    expect_status(CMD(c, "SET", "lk", "other"), "OK", "SET");
    expect_int(EV(c, id, "1", "lk", "tok"), 0, "mismatch");
    expect_status(CMD(c, "SET", "lk", "tok"), "OK", "SET");
    expect_int(EV(c, id, "1", "lk", "tok"), 1, "match");
    expect_int(CMD(c, "EXISTS", "lk"), 0, "match deletes");
    finish(c);
}

Test(scripts, redsync_touch) {
    redisContext *c = start();
    const int id = TLS_RS_TOUCH;
    expect_int(EV(c, id, "1", "lk", "tok", "5000"), 0, "missing");
    expect_status(CMD(c, "SET", "lk", "other", "PX", "100000"), "OK", "SET");
    expect_int(EV(c, id, "1", "lk", "tok", "5000"), 0, "mismatch");
    expect_pttl(c, "lk", 90000, 100000, "mismatch");
    expect_status(CMD(c, "SET", "lk", "tok", "PX", "100000"), "OK", "SET");
    expect_int(EV(c, id, "1", "lk", "tok", "5000"), 1, "match");
    expect_pttl(c, "lk", 4000, 5000, "match");
    expect_script_error(EV(c, id, "1", "lk", "tok", "x"), NOT_INT, id, 3, "bad TTL");
    expect_script_error(EV(c, id, "1", "lk", "tok"), NIL_ARG, id, 3, "no TTL");
    finish(c);
}

Test(scripts, redsync_touch_with_setnx) {
    redisContext *c = start();
    const int id = TLS_RS_TOUCHNX;
    /* Missing: SET NX PX creates it. */
    expect_int(EV(c, id, "1", "lk", "tok", "5000"), 1, "missing");
    expect_value(c, "lk", "tok", "missing: created");
    expect_pttl(c, "lk", 4000, 5000, "missing: created with the TTL");
    /* Match: PEXPIRE. */
    expect_int(EV(c, id, "1", "lk", "tok", "60000"), 1, "match");
    expect_pttl(c, "lk", 50000, 60000, "match");
    /* Another holder: SET NX fails, 0, nothing changes. */
    expect_int(EV(c, id, "1", "lk", "bad", "5000"), 0, "mismatch");
    expect_value(c, "lk", "tok", "mismatch keeps the value");
    expect_pttl(c, "lk", 50000, 60000, "mismatch keeps the TTL");
    reset(c);
    expect_script_error(EV(c, id, "1", "lk", "tok", "0"), "ERR invalid expire time in 'set' command", id, 4,
                        "PX 0");
    expect_script_error(EV(c, id, "1", "lk", "tok", "x"), NOT_INT, id, 4, "PX x");
    expect_int(CMD(c, "EXISTS", "lk"), 0, "errors create nothing");
    finish(c);
}

/* ---- node-redlock multi-key scripts (4.2.0 and 5.0.0-beta.2) -------------- */

static void check_redlock_acquire(int id) {
    redisContext *c = start();
    expect_int(EV(c, id, "2", "{r}a", "{r}b", "tok", "100000"), 2, "both free");
    expect_value(c, "{r}a", "tok", "a set");
    expect_value(c, "{r}b", "tok", "b set");
    expect_pttl(c, "{r}a", 90000, 100000, "a TTL");
    expect_pttl(c, "{r}b", 90000, 100000, "b TTL");
    expect_int(EV(c, id, "2", "{r}a", "{r}b", "other", "100000"), 0, "taken");
    expect_value(c, "{r}a", "tok", "taken: unchanged");
    /* One of the keys exists (any type): nothing is set. */
    expect_int(CMD(c, "DEL", "{r}a", "{r}b"), 2, "DEL");
    expect_int(CMD(c, "RPUSH", "{r}b", "x"), 1, "RPUSH");
    expect_int(EV(c, id, "2", "{r}a", "{r}b", "tok", "100000"), 0, "one exists");
    expect_int(CMD(c, "EXISTS", "{r}a"), 0, "one exists: the other not created");
    /* Single key, repeated key, no key. */
    expect_int(EV(c, id, "1", "{r}c", "tok", "100000"), 1, "one key");
    expect_int(EV(c, id, "2", "{r}d", "{r}d", "tok", "100000"), 2, "repeated key counts twice");
    expect_int(EV(c, id, "0", "tok", "100000"), 0, "no key");
    /* Errors of SET (raised at the first SET, nothing written). */
    expect_script_error(EV(c, id, "2", "{r}e", "{r}f", "tok", "x"), NOT_INT, id, 11, "PX x");
    expect_script_error(EV(c, id, "1", "{r}e", "tok", "-1"), "ERR invalid expire time in 'set' command", id, 11,
                        "PX -1");
    expect_script_error(EV(c, id, "1", "{r}e"), NIL_ARG, id, 11, "no ARGV");
    expect_int(CMD(c, "EXISTS", "{r}e", "{r}f"), 0, "errors create nothing");
    finish(c);
}

static void check_redlock_extend(int id) {
    redisContext *c = start();
    expect_int(EV(c, id, "2", "{r}a", "{r}b", "tok", "100000"), 0, "missing");
    expect_int(CMD(c, "EXISTS", "{r}a", "{r}b"), 0, "missing: nothing created");
    expect_status(CMD(c, "SET", "{r}a", "tok", "PX", "5000"), "OK", "SET");
    expect_status(CMD(c, "SET", "{r}b", "tok", "PX", "5000"), "OK", "SET");
    expect_int(EV(c, id, "2", "{r}a", "{r}b", "tok", "100000"), 2, "both held");
    expect_pttl(c, "{r}a", 90000, 100000, "a extended");
    expect_pttl(c, "{r}b", 90000, 100000, "b extended");
    expect_status(CMD(c, "SET", "{r}b", "other", "PX", "5000"), "OK", "SET");
    expect_int(EV(c, id, "2", "{r}a", "{r}b", "tok", "200000"), 0, "one lost");
    expect_pttl(c, "{r}a", 90000, 100000, "one lost: a unchanged");
    expect_value(c, "{r}b", "other", "one lost: b unchanged");
    expect_int(CMD(c, "HSET", "{r}h", "f", "v"), 1, "HSET");
    expect_script_error(EV(c, id, "2", "{r}a", "{r}h", "tok", "1000"), WRONGTYPE, id, 4, "wrong type");
    expect_script_error(EV(c, id, "1", "{r}a", "tok", "x"), NOT_INT, id, 11, "PX x");
    finish(c);
}

static void check_redlock_release(int id) {
    redisContext *c = start();
    expect_int(EV(c, id, "2", "{r}a", "{r}b", "tok"), 0, "missing");
    expect_status(CMD(c, "SET", "{r}a", "tok"), "OK", "SET");
    expect_status(CMD(c, "SET", "{r}b", "tok"), "OK", "SET");
    expect_int(EV(c, id, "2", "{r}a", "{r}b", "tok"), 2, "both held");
    expect_int(CMD(c, "EXISTS", "{r}a", "{r}b"), 0, "both deleted");
    expect_status(CMD(c, "SET", "{r}a", "tok"), "OK", "SET");
    expect_status(CMD(c, "SET", "{r}b", "other"), "OK", "SET");
    expect_int(EV(c, id, "2", "{r}a", "{r}b", "tok"), 1, "one held");
    expect_int(CMD(c, "EXISTS", "{r}a"), 0, "held one deleted");
    expect_value(c, "{r}b", "other", "other one kept");
    /* Repeated key: the second GET finds nothing. */
    expect_status(CMD(c, "SET", "{r}a", "tok"), "OK", "SET");
    expect_int(EV(c, id, "3", "{r}a", "{r}a", "{r}a", "tok"), 1, "repeated key");
    /* An error after a deletion: the deletion stays (no rollback). */
    expect_status(CMD(c, "SET", "{r}a", "tok"), "OK", "SET");
    expect_int(CMD(c, "SADD", "{r}s", "m"), 1, "SADD");
    expect_script_error(EV(c, id, "2", "{r}a", "{r}s", "tok"), WRONGTYPE, id, 5, "wrong type");
    expect_int(CMD(c, "EXISTS", "{r}a"), 0, "deleted before the error");
    finish(c);
}

Test(scripts, redlock4_lock) { check_redlock_acquire(TLS_RL4_LOCK); }
Test(scripts, redlock4_extend) { check_redlock_extend(TLS_RL4_EXTEND); }
Test(scripts, redlock4_unlock) { check_redlock_release(TLS_RL4_UNLOCK); }
Test(scripts, redlock5_acquire) { check_redlock_acquire(TLS_RL5_ACQUIRE); }
Test(scripts, redlock5_extend) { check_redlock_extend(TLS_RL5_EXTEND); }
Test(scripts, redlock5_release) { check_redlock_release(TLS_RL5_RELEASE); }

/* ---- node-redlock 3.x one-liners and the redis.io unlock -------------------- */

Test(scripts, redlock3_lock) {
    redisContext *c = start();
    const int id = TLS_RL3_LOCK;
    expect_status(EV(c, id, "1", "lk", "tok", "100000"), "OK", "free: SET's status");
    expect_value(c, "lk", "tok", "set");
    expect_pttl(c, "lk", 90000, 100000, "TTL");
    expect_nil(EV(c, id, "1", "lk", "other", "100000"), "taken: nil");
    expect_value(c, "lk", "tok", "taken: unchanged");
    expect_int(CMD(c, "HSET", "h", "f", "v"), 1, "HSET");
    expect_nil(EV(c, id, "1", "h", "tok", "100000"), "key of another type exists: nil");
    expect_script_error(EV(c, id, "1", "n", "tok", "-5"), "ERR invalid expire time in 'set' command", id, 1,
                        "PX -5");
    expect_script_error(EV(c, id, "1", "n"), NIL_ARG, id, 1, "no ARGV");
    finish(c);
}

static void check_unlock(int id, int get_line) {
    redisContext *c = start();
    expect_int(EV(c, id, "1", "lk", "tok"), 0, "missing");
    expect_status(CMD(c, "SET", "lk", "other"), "OK", "SET");
    expect_int(EV(c, id, "1", "lk", "tok"), 0, "mismatch");
    expect_value(c, "lk", "other", "mismatch keeps the key");
    expect_status(CMD(c, "SET", "lk", "tok"), "OK", "SET");
    expect_int(EV(c, id, "1", "lk", "tok"), 1, "match: DEL's reply");
    expect_int(CMD(c, "EXISTS", "lk"), 0, "match deletes");
    expect_int(CMD(c, "LPUSH", "l", "x"), 1, "LPUSH");
    expect_script_error(EV(c, id, "1", "l", "tok"), WRONGTYPE, id, get_line, "wrong type");
    finish(c);
}

Test(scripts, redlock3_unlock) { check_unlock(TLS_RL3_UNLOCK, 1); }
Test(scripts, redisio_unlock) { check_unlock(TLS_REDISIO_UNLOCK, 1); }

Test(scripts, redlock3_extend) {
    redisContext *c = start();
    const int id = TLS_RL3_EXTEND;
    expect_int(EV(c, id, "1", "lk", "tok", "5000"), 0, "missing");
    expect_status(CMD(c, "SET", "lk", "other", "PX", "100000"), "OK", "SET");
    expect_int(EV(c, id, "1", "lk", "tok", "5000"), 0, "mismatch");
    expect_pttl(c, "lk", 90000, 100000, "mismatch");
    expect_status(CMD(c, "SET", "lk", "tok"), "OK", "SET");
    expect_int(EV(c, id, "1", "lk", "tok", "5000"), 1, "match: PEXPIRE's reply");
    expect_pttl(c, "lk", 4000, 5000, "match");
    expect_int(EV(c, id, "1", "lk", "tok", "0"), 1, "PEXPIRE 0 deletes, replies 1");
    expect_int(CMD(c, "EXISTS", "lk"), 0, "deleted");
    finish(c);
}

/* ---- reply bytes in RESP2 and RESP3 -------------------------------------- */

static void raw_eval(int fd, sc_reader *rd, int id, const char *key, const char *token, const char *ttl,
                     const char *want) {
    const char *argv[] = {"EVAL", test_lock_scripts[id].body, "1", key, token, ttl};
    int argc = ttl ? 6 : 5;
    size_t lens[6];
    for (int i = 0; i < argc; i++) lens[i] = strlen(argv[i]);
    sc_buf b = {0};
    sc_resp_command(&b, argc, argv, lens);
    cr_assert(sc_raw_send(fd, b.data, b.len, sc_scaled_ms(5000)));
    sc_buf_free(&b);
    char *got = NULL;
    size_t len = 0;
    cr_assert(sc_reader_next(rd, &got, &len, sc_scaled_ms(5000)), "no reply to EVAL %s", test_lock_scripts[id].id);
    cr_assert(len == strlen(want) && memcmp(got, want, len) == 0, "EVAL %s: got %.*s, want %s",
              test_lock_scripts[id].id, (int)len, got, want);
    free(got);
}

Test(scripts, reply_bytes_resp2_and_resp3) {
    sc_server_start_or_fail(&srv, NULL);
    int fd = sc_raw_connect_or_fail(srv.port);
    sc_reader rd;
    sc_reader_init(&rd, fd);
    for (int proto = 2; proto <= 3; proto++) {
        const char *nil = proto == 2 ? "$-1\r\n" : "_\r\n";
        char k[16];
        snprintf(k, sizeof k, "k%d", proto);
        raw_eval(fd, &rd, TLS_RL3_LOCK, k, "tok", "100000", "+OK\r\n");
        raw_eval(fd, &rd, TLS_RL3_LOCK, k, "tok", "100000", nil);
        raw_eval(fd, &rd, TLS_RS_DELETE, k, "bad", NULL, ":0\r\n");
        raw_eval(fd, &rd, TLS_RS_DELETE, k, "tok", NULL, ":1\r\n");
        raw_eval(fd, &rd, TLS_RS_DELETE, k, "tok", NULL, ":-1\r\n");
        raw_eval(fd, &rd, TLS_RL5_ACQUIRE, k, "tok", "100000", ":1\r\n");
        if (proto == 2) {
            cr_assert(sc_raw_send_str(fd, "HELLO 3\r\n"));
            char *got = NULL;
            size_t len = 0;
            cr_assert(sc_reader_next(&rd, &got, &len, sc_scaled_ms(5000)), "no reply to HELLO 3");
            free(got);
        }
    }
    sc_reader_free(&rd);
    close(fd);
    sc_server_stop_or_fail(&srv);
}

/* ---- the script cache ------------------------------------------------------- */

static void upper(char *s) {
    for (; *s; s++)
        if (*s >= 'a' && *s <= 'z') *s -= 32;
}

Test(scripts, evalsha_load_exists_flush) {
    redisContext *c = start();
    const int id = TLS_PY_RELEASE;
    char up[64];
    snprintf(up, sizeof up, "%s", SHA(id));
    upper(up);
    /* A fresh server knows no script. */
    expect_error(CMD(c, "EVALSHA", SHA(id), "1", "lk", "tok"), NOSCRIPT, "EVALSHA before LOAD");
    redisReply *r = CMD(c, "SCRIPT", "EXISTS", SHA(id), SHA(TLS_RS_DELETE), "nonsense");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 3);
    for (size_t i = 0; i < 3; i++) cr_assert_eq(r->element[i]->integer, 0);
    freeReplyObject(r);
    /* SCRIPT LOAD answers the SHA1; EVALSHA then runs it (any case). */
    expect_bulk(CMD(c, "SCRIPT", "LOAD", test_lock_scripts[id].body), SHA(id), "SCRIPT LOAD");
    r = CMD(c, "SCRIPT", "EXISTS", SHA(id), up, SHA(TLS_RS_DELETE));
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 3);
    cr_assert(r->element[0]->integer == 1 && r->element[1]->integer == 1 && r->element[2]->integer == 0,
              "SCRIPT EXISTS after LOAD");
    freeReplyObject(r);
    expect_status(CMD(c, "SET", "lk", "tok"), "OK", "SET");
    expect_int(CMD(c, "EVALSHA", SHA(id), "1", "lk", "bad"), 0, "EVALSHA mismatch");
    expect_int(CMD(c, "EVALSHA", up, "1", "lk", "tok"), 1, "EVALSHA upper-case");
    expect_int(CMD(c, "EVALSHA_RO", SHA(id), "1", "lk", "tok"), 0, "EVALSHA_RO");
    /* Errors before the lookup: numkeys first, then NOSCRIPT. */
    expect_error(CMD(c, "EVALSHA", SHA(TLS_RS_DELETE), "-1"), "ERR Number of keys can't be negative", "numkeys");
    expect_error(CMD(c, "EVALSHA", "abc", "0"), NOSCRIPT, "short sha");
    expect_error(CMD(c, "EVALSHA", "0000000000000000000000000000000000000000", "0"), NOSCRIPT, "unknown sha");
    char longer[64];
    snprintf(longer, sizeof longer, "%sab", SHA(id));
    expect_error(CMD(c, "EVALSHA", longer, "0"), NOSCRIPT, "longer sha");
    /* FLUSH forgets; EVAL loads again. */
    expect_status(CMD(c, "SCRIPT", "FLUSH"), "OK", "SCRIPT FLUSH");
    expect_error(CMD(c, "EVALSHA", SHA(id), "1", "lk", "tok"), NOSCRIPT, "EVALSHA after FLUSH");
    expect_int(EV(c, TLS_RS_DELETE, "1", "lk", "tok"), -1, "EVAL");
    r = CMD(c, "SCRIPT", "EXISTS", SHA(TLS_RS_DELETE), SHA(id));
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 2);
    cr_assert(r->element[0]->integer == 1 && r->element[1]->integer == 0, "SCRIPT EXISTS after EVAL");
    freeReplyObject(r);
    expect_int(CMD(c, "EVALSHA", SHA(TLS_RS_DELETE), "1", "lk", "tok"), -1, "EVALSHA after EVAL");
    expect_status(CMD(c, "SCRIPT", "FLUSH", "ASYNC"), "OK", "SCRIPT FLUSH ASYNC");
    expect_status(CMD(c, "SCRIPT", "FLUSH", "sync"), "OK", "SCRIPT FLUSH sync");
    expect_error(CMD(c, "EVALSHA", SHA(TLS_RS_DELETE), "1", "lk", "tok"), NOSCRIPT, "after FLUSH ASYNC");
    /* The cache is the server's, not the connection's. */
    expect_bulk(CMD(c, "SCRIPT", "LOAD", test_lock_scripts[TLS_RL5_RELEASE].body), SHA(TLS_RL5_RELEASE), "LOAD");
    redisContext *c2 = sc_connect_or_fail(&srv);
    expect_int(CMD(c2, "EVALSHA", SHA(TLS_RL5_RELEASE), "1", "lk", "tok"), 0, "EVALSHA on another connection");
    redisFree(c2);
    /* Every recognised body loads under its own SHA1. */
    for (int i = 0; i < TLS_COUNT; i++)
        expect_bulk(CMD(c, "SCRIPT", "LOAD", test_lock_scripts[i].body), SHA(i), test_lock_scripts[i].id);
    finish(c);
}

Test(scripts, unknown_scripts) {
    redisContext *c = start();
    bool redis = srv.is_redis;
    /* EVALSHA of an unknown hash: NOSCRIPT, exactly as Redis. */
    expect_error(CMD(c, "EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"), NOSCRIPT, "unknown sha");
    /* Any other body: Redis runs it; slotcache names the native commands. */
    const char *bodies[3];
    char modified[2048];
    snprintf(modified, sizeof modified, "%s ", test_lock_scripts[TLS_PY_RELEASE].body);
    bodies[0] = "return 1";
    bodies[1] = modified; /* one trailing space more: another script */
    bodies[2] = "return redis.call('get', KEYS[1])";
    for (int i = 0; i < 3; i++) {
        redisReply *r = CMD(c, "EVAL", bodies[i], "1", "lk", "tok");
        if (redis) {
            cr_assert_neq(r->type, REDIS_REPLY_ERROR, "redis-server runs any script");
        } else {
            cr_assert_eq(r->type, REDIS_REPLY_ERROR, "EVAL of an unknown script must fail");
            cr_assert(strncmp(r->str, "ERR slotcache does not support Lua scripting", 44) == 0, "error: %s", r->str);
            cr_assert(strstr(r->str, "DELIFEQ") && strstr(r->str, "SET key value NX PX") && !strchr(r->str, '\n'),
                      "the error names the native commands on one line: %s", r->str);
        }
        freeReplyObject(r);
        r = CMD(c, "SCRIPT", "LOAD", bodies[i]);
        if (redis) {
            cr_assert_eq(r->type, REDIS_REPLY_STRING);
        } else {
            cr_assert_eq(r->type, REDIS_REPLY_ERROR, "SCRIPT LOAD of an unknown script must fail");
            cr_assert(strncmp(r->str, "ERR slotcache does not support Lua scripting", 44) == 0, "error: %s", r->str);
        }
        freeReplyObject(r);
    }
    if (!redis) {
        /* Nothing was loaded by the refusals. */
        redisReply *r = CMD(c, "SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
        cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->integer == 0);
        freeReplyObject(r);
    }
    finish(c);
}

Test(scripts, numkeys_errors) {
    redisContext *c = start();
    const char *body = test_lock_scripts[TLS_PY_RELEASE].body;
    const char *cmds[] = {"EVAL", "EVAL_RO", "EVALSHA", "EVALSHA_RO"};
    for (int i = 0; i < 4; i++) {
        const char *first = i < 2 ? body : SHA(TLS_PY_RELEASE);
        expect_error(CMD(c, cmds[i], first, "2", "a"), "ERR Number of keys can't be greater than number of args",
                     cmds[i]);
        expect_error(CMD(c, cmds[i], first, "-1"), "ERR Number of keys can't be negative", cmds[i]);
        expect_error(CMD(c, cmds[i], first, "-1", "a", "b"), "ERR Number of keys can't be negative", cmds[i]);
        expect_error(CMD(c, cmds[i], first, "x"), NOT_INT, cmds[i]);
        expect_error(CMD(c, cmds[i], first, "1.0", "a"), NOT_INT, cmds[i]);
        expect_error(CMD(c, cmds[i], first, " 1", "a"), NOT_INT, cmds[i]);
        char arity[128];
        snprintf(arity, sizeof arity, "ERR wrong number of arguments for '%s' command", i == 0 ? "eval"
                 : i == 1 ? "eval_ro" : i == 2 ? "evalsha" : "evalsha_ro");
        expect_error(CMD(c, cmds[i], first), arity, cmds[i]);
    }
    finish(c);
}

Test(scripts, eval_ro_refuses_writes) {
    redisContext *c = start();
    expect_status(CMD(c, "SET", "lk", "tok", "PX", "100000"), "OK", "SET");
    expect_int(EV_RO(c, TLS_PY_RELEASE, "1", "lk", "bad"), 0, "read-only path works");
    const char *ro = "ERR Write commands are not allowed from read-only scripts.";
    expect_script_error(EV_RO(c, TLS_PY_RELEASE, "1", "lk", "tok"), ro, TLS_PY_RELEASE, 6, "DEL refused");
    expect_script_error(EV_RO(c, TLS_RL3_LOCK, "1", "lk", "tok", "100"), ro, TLS_RL3_LOCK, 1,
                        "SET NX refused even when the key exists");
    expect_script_error(EV_RO(c, TLS_RS_TOUCHNX, "1", "lk", "tok", "x"), ro, TLS_RS_TOUCHNX, 3,
                        "refused before the argument is parsed");
    expect_script_error(EV_RO(c, TLS_RL5_ACQUIRE, "1", "new", "tok", "100"), ro, TLS_RL5_ACQUIRE, 11, "acquire");
    expect_int(EV_RO(c, TLS_RL5_ACQUIRE, "1", "lk", "tok", "100"), 0, "acquire of a held key writes nothing");
    /* redis.pcall('del') returns the error to the script, which counts on. */
    expect_int(EV_RO(c, TLS_RL5_RELEASE, "2", "lk", "lk", "tok"), 2, "release under EVAL_RO");
    expect_value(c, "lk", "tok", "nothing was deleted");
    expect_pttl(c, "lk", 90000, 100000, "nothing was changed");
    finish(c);
}

/* ---- SCRIPT subcommands ----------------------------------------------------- */

Test(scripts, script_subcommands) {
    redisContext *c = start();
    redisReply *r = CMD(c, "SCRIPT", "HELP");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements > 10);
    cr_assert_str_eq(r->element[0]->str, "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    bool has_help = false;
    for (size_t i = 0; i < r->elements; i++) has_help |= strcmp(r->element[i]->str, "HELP") == 0;
    cr_assert(has_help);
    if (!srv.is_redis) {
        /* slotcache lists the recognised scripts. */
        for (int i = 0; i < TLS_COUNT; i++) {
            bool listed = false;
            for (size_t j = 0; j < r->elements; j++) listed |= strstr(r->element[j]->str, SHA(i)) != NULL;
            cr_assert(listed, "SCRIPT HELP does not list %s", SHA(i));
        }
    }
    freeReplyObject(r);
    expect_error(CMD(c, "SCRIPT", "KILL"), "NOTBUSY No scripts in execution right now.", "SCRIPT KILL");
    expect_status(CMD(c, "SCRIPT", "DEBUG", "no"), "OK", "SCRIPT DEBUG NO");
    expect_error(CMD(c, "SCRIPT", "DEBUG", "maybe"), "ERR Use SCRIPT DEBUG YES/SYNC/NO", "SCRIPT DEBUG maybe");
    expect_error(CMD(c, "SCRIPT", "FLUSH", "now"), "ERR SCRIPT FLUSH only support SYNC|ASYNC option", "FLUSH now");
    expect_error(CMD(c, "SCRIPT", "FLUSH", "sync", "sync"), "ERR SCRIPT FLUSH only support SYNC|ASYNC option",
                 "FLUSH sync sync");
    expect_error(CMD(c, "SCRIPT", "EXISTS"), "ERR wrong number of arguments for 'script|exists' command", "EXISTS");
    expect_error(CMD(c, "SCRIPT", "LOAD"), "ERR wrong number of arguments for 'script|load' command", "LOAD");
    expect_error(CMD(c, "SCRIPT", "foo"), "ERR unknown subcommand 'foo'. Try SCRIPT HELP.", "foo");
    expect_error(CMD(c, "SCRIPT"), "ERR wrong number of arguments for 'script' command", "SCRIPT");
    expect_error(CMD(c, "EVAL", "return 1"), "ERR wrong number of arguments for 'eval' command", "EVAL arity");
    expect_error(CMD(c, "EVALSHA_RO", "x"), "ERR wrong number of arguments for 'evalsha_ro' command", "arity");
    finish(c);
}

/* ---- transactions, WATCH, keyspace events ------------------------------------ */

Test(scripts, multi_and_watch) {
    redisContext *c = start();
    redisContext *c2 = sc_connect_or_fail(&srv);
    expect_status(CMD(c, "MULTI"), "OK", "MULTI");
    expect_status(EV(c, TLS_RL3_LOCK, "1", "lk", "tok", "100000"), "QUEUED", "queued lock");
    expect_status(EV(c, TLS_RL3_LOCK, "1", "lk", "tok", "100000"), "QUEUED", "queued lock");
    expect_status(EV(c, TLS_REDISIO_UNLOCK, "1", "lk", "tok"), "QUEUED", "queued unlock");
    redisReply *r = CMD(c, "EXEC");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 3, "EXEC");
    cr_assert(r->element[0]->type == REDIS_REPLY_STATUS && strcmp(r->element[0]->str, "OK") == 0);
    cr_assert(r->element[1]->type == REDIS_REPLY_NIL);
    cr_assert(r->element[2]->type == REDIS_REPLY_INTEGER && r->element[2]->integer == 1);
    freeReplyObject(r);
    /* A release by a script on another connection invalidates a WATCH. */
    expect_status(CMD(c, "SET", "lk", "tok"), "OK", "SET");
    expect_status(CMD(c, "WATCH", "lk"), "OK", "WATCH");
    expect_int(EV(c2, TLS_PY_RELEASE, "1", "lk", "tok"), 1, "release elsewhere");
    expect_status(CMD(c, "MULTI"), "OK", "MULTI");
    expect_status(CMD(c, "SET", "lk", "mine"), "QUEUED", "SET queued");
    r = CMD(c, "EXEC");
    cr_assert(r->type == REDIS_REPLY_NIL, "EXEC after the watched key was released must abort");
    freeReplyObject(r);
    /* A script that changes nothing leaves the WATCH alone. */
    expect_status(CMD(c, "SET", "lk", "tok"), "OK", "SET");
    expect_status(CMD(c, "WATCH", "lk"), "OK", "WATCH");
    expect_int(EV(c2, TLS_PY_RELEASE, "1", "lk", "bad"), 0, "failed release elsewhere");
    expect_status(CMD(c, "MULTI"), "OK", "MULTI");
    expect_status(CMD(c, "SET", "lk", "mine"), "QUEUED", "SET queued");
    r = CMD(c, "EXEC");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 1, "EXEC must run");
    freeReplyObject(r);
    redisFree(c2);
    finish(c);
}

static void expect_event(redisContext *s, const char *event, const char *key, const char *what) {
    void *rv = NULL;
    cr_assert(redisGetReply(s, &rv) == REDIS_OK && rv, "%s: no event %s %s", what, event, key);
    redisReply *r = rv;
    char chan[128];
    snprintf(chan, sizeof chan, "__keyevent@0__:%s", event);
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 4, "%s: not a pmessage", what);
    cr_assert(strcmp(r->element[2]->str, chan) == 0 && strcmp(r->element[3]->str, key) == 0,
              "%s: got %s %s, want %s %s", what, r->element[2]->str, r->element[3]->str, chan, key);
    freeReplyObject(r);
}

Test(scripts, keyspace_events) {
    redisContext *c = start();
    expect_status(CMD(c, "CONFIG", "SET", "notify-keyspace-events", "E$g"), "OK", "CONFIG SET");
    redisContext *s = sc_connect_or_fail(&srv);
    redisReply *r = CMD(s, "PSUBSCRIBE", "__keyevent@0__:*");
    freeReplyObject(r);
    expect_int(EV(c, TLS_RL5_ACQUIRE, "2", "{x}a", "{x}b", "tok", "100000"), 2, "acquire");
    expect_int(EV(c, TLS_PY_EXTEND, "1", "{x}a", "tok", "1000", "0"), 1, "extend");
    expect_int(EV(c, TLS_PY_RELEASE, "1", "{x}a", "bad"), 0, "failed release");
    expect_int(EV(c, TLS_RL5_RELEASE, "2", "{x}a", "{x}b", "tok"), 2, "release");
    expect_int(EV(c, TLS_RS_TOUCHNX, "1", "{x}c", "tok", "100000"), 1, "touch creates");
    expect_int(EV(c, TLS_RS_TOUCHNX, "1", "{x}c", "tok", "0"), 1, "touch with 0 deletes");
    expect_int(CMD(c, "PUBLISH", "__keyevent@0__:marker", "end"), 1, "marker");
    expect_event(s, "set", "{x}a", "acquire a");
    expect_event(s, "expire", "{x}a", "acquire a");
    expect_event(s, "set", "{x}b", "acquire b");
    expect_event(s, "expire", "{x}b", "acquire b");
    expect_event(s, "expire", "{x}a", "extend");
    expect_event(s, "del", "{x}a", "release a");
    expect_event(s, "del", "{x}b", "release b");
    expect_event(s, "set", "{x}c", "touch creates");
    expect_event(s, "expire", "{x}c", "touch creates");
    expect_event(s, "del", "{x}c", "touch with 0");
    expect_event(s, "marker", "end", "nothing else");
    redisFree(s);
    finish(c);
}

/* ---- OOM: the first SET of a script under noeviction ----------------------- */

Test(scripts, oom_refuses_the_first_write_only) {
    redisContext *c = start();
    expect_status(CMD(c, "SET", "lk", "tok"), "OK", "SET");
    expect_status(CMD(c, "CONFIG", "SET", "maxmemory", "1"), "OK", "maxmemory 1");
    const char *oom = "OOM command not allowed when used memory > 'maxmemory'.";
    expect_script_error(EV(c, TLS_RL5_ACQUIRE, "1", "new", "tok", "1000"), oom, TLS_RL5_ACQUIRE, 11, "acquire");
    expect_script_error(EV(c, TLS_RS_TOUCHNX, "1", "new", "tok", "1000"), oom, TLS_RS_TOUCHNX, 4, "touch");
    /* Deleting is allowed: a lock can still be released. */
    expect_int(EV(c, TLS_PY_RELEASE, "1", "lk", "tok"), 1, "release");
    expect_status(CMD(c, "CONFIG", "SET", "maxmemory", "0"), "OK", "maxmemory 0");
    finish(c);
}

/* ---- contention: a lock around a non-atomic counter ------------------------ */

#define LOCKERS 8
#define ROUNDS 100

static void *locker(void *arg) {
    long me = (long)arg;
    char token[32];
    snprintf(token, sizeof token, "t%ld", me);
    redisContext *c = sc_thread_connect(&srv, 60000);
    if (!c) return NULL;
    const char *lockb = test_lock_scripts[TLS_RL3_LOCK].body;
    const char *unlockb = test_lock_scripts[TLS_REDISIO_UNLOCK].body;
    for (int i = 0; i < ROUNDS; i++) {
        /* Acquire: retry until SET NX PX succeeds (+OK). */
        long long deadline = sc_now_ms() + sc_scaled_ms(60000);
        for (;;) {
            const char *a[] = {"EVAL", lockb, "1", "lock", token, "30000"};
            redisReply *r = redisCommandArgv(c, 6, a, NULL);
            if (!r) goto broken;
            bool got = r->type == REDIS_REPLY_STATUS;
            freeReplyObject(r);
            if (got) break;
            if (sc_now_ms() > deadline) goto broken;
            sc_sleep_ms(1);
        }
        redisReply *r = redisCommand(c, "GET counter");
        if (!r) goto broken;
        long long v = r->type == REDIS_REPLY_STRING ? atoll(r->str) : 0;
        freeReplyObject(r);
        r = redisCommand(c, "SET counter %lld", v + 1);
        if (!r) goto broken;
        freeReplyObject(r);
        const char *u[] = {"EVAL", unlockb, "1", "lock", token};
        r = redisCommandArgv(c, 5, u, NULL);
        if (!r) goto broken;
        bool released = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
        freeReplyObject(r);
        if (!released) sc_thread_fail("client %ld: unlock did not return 1", me);
    }
    redisFree(c);
    return NULL;
broken:
    sc_thread_fail("client %ld: connection broke or lock never acquired", me);
    redisFree(c);
    return NULL;
}

Test(scripts, lock_contention_threads) {
    sc_server_start_or_fail(&srv, (const char *[]){"--threads", "4", NULL});
    pthread_t th[LOCKERS];
    for (long i = 0; i < LOCKERS; i++) cr_assert_eq(pthread_create(&th[i], NULL, locker, (void *)i), 0);
    for (int i = 0; i < LOCKERS; i++) pthread_join(th[i], NULL);
    sc_no_thread_failures_or_fail();
    redisContext *c = sc_connect_or_fail(&srv);
    char want[32];
    snprintf(want, sizeof want, "%d", LOCKERS * ROUNDS);
    expect_value(c, "counter", want, "every increment counted once");
    expect_int(CMD(c, "EXISTS", "lock"), 0, "lock released");
    finish(c);
}
