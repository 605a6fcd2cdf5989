/*
 * lock_scripts_impl.c - the native implementations of the recognised lock
 * scripts (table in lock_scripts.c), one function per script body.
 *
 * Each function is a line-by-line transcription of its Lua script: every
 * redis.call() becomes the script_call_* of script.h with the line number
 * it has in the body (Redis names that line in the errors a call raises),
 * Lua comparisons keep their exact sense (GET's false never equals a nil
 * ARGV), and the return value is replied as Redis converts it (a Lua number
 * is an integer reply, SET's status stays +OK, false is a nil reply). The
 * slot locks of all KEYS are held by dispatch for the whole run.
 */
#include "lock_scripts.h"

#include "client.h"
#include "script.h"


/* ------------------------------------------------------------ shared shapes */

/* `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del',
 * KEYS[1]) else return 0 end` (go-redsync's old delete, node-redlock 3's
 * unlock, the redis.io unlock). */
static void lock_del_if_equal(script_run *r, int get_line, int del_line) {
    enum script_get_result g;
    if (!script_call_get_compare(r, get_line, script_key(r, 1), script_arg(r, 1), &g)) return;
    if (g != SCRIPT_GET_EQUAL) {
        add_reply_integer(r->c, 0);
        return;
    }
    long long n;
    if (!script_call_del(r, del_line, script_key(r, 1), false, &n)) return;
    add_reply_integer(r->c, n);
}

/* `if redis.call('get', KEYS[1]) == ARGV[1] then return
 * redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`. */
static void lock_pexpire_if_equal(script_run *r, int get_line, int pexpire_line) {
    enum script_get_result g;
    if (!script_call_get_compare(r, get_line, script_key(r, 1), script_arg(r, 1), &g)) return;
    if (g != SCRIPT_GET_EQUAL) {
        add_reply_integer(r->c, 0);
        return;
    }
    long long n;
    if (!script_call_pexpire(r, pexpire_line, script_key(r, 1), script_arg(r, 2), &n)) return;
    add_reply_integer(r->c, n);
}

/* node-redlock's multi-key acquire: 0 if any of KEYS exists, else SET each
 * to ARGV[1] PX ARGV[2] and return #KEYS. */
static void lock_redlock_acquire(script_run *r, int exists_line, int set_line) {
    for (int i = 1; i <= r->nkeys; i++) {
        long long n;
        if (!script_call_exists(r, exists_line, script_key(r, i), &n)) return;
        if (n == 1) {
            add_reply_integer(r->c, 0);
            return;
        }
    }
    for (int i = 1; i <= r->nkeys; i++) {
        bool done;
        if (!script_call_set_px(r, set_line, script_key(r, i), script_arg(r, 1), script_arg(r, 2), false, &done))
            return;
    }
    add_reply_integer(r->c, r->nkeys);
}

/* node-redlock's multi-key extend: 0 if any key's GET ~= ARGV[1], else SET
 * each to ARGV[1] PX ARGV[2] and return #KEYS. */
static void lock_redlock_extend(script_run *r, int get_line, int set_line) {
    for (int i = 1; i <= r->nkeys; i++) {
        enum script_get_result g;
        if (!script_call_get_compare(r, get_line, script_key(r, i), script_arg(r, 1), &g)) return;
        if (g != SCRIPT_GET_EQUAL) {
            add_reply_integer(r->c, 0);
            return;
        }
    }
    for (int i = 1; i <= r->nkeys; i++) {
        bool done;
        if (!script_call_set_px(r, set_line, script_key(r, i), script_arg(r, 1), script_arg(r, 2), false, &done))
            return;
    }
    add_reply_integer(r->c, r->nkeys);
}

/* node-redlock's multi-key release: for each key whose GET == ARGV[1],
 * redis.pcall('del') (an error is ignored) and count it. */
static void lock_redlock_release(script_run *r, int get_line, int del_line) {
    long long count = 0;
    for (int i = 1; i <= r->nkeys; i++) {
        enum script_get_result g;
        if (!script_call_get_compare(r, get_line, script_key(r, i), script_arg(r, 1), &g)) return;
        if (g == SCRIPT_GET_EQUAL) {
            long long n;
            script_call_del(r, del_line, script_key(r, i), true, &n);
            count++;
        }
    }
    add_reply_integer(r->c, count);
}

/* ------------------------------------------------------------ redis-py Lock */

/* `if not token or token ~= ARGV[1] then return 0 end` at line 2. */
static bool lock_redispy_token_ok(script_run *r, bool *ok) {
    enum script_get_result g;
    if (!script_call_get_compare(r, 2, script_key(r, 1), script_arg(r, 1), &g)) return false;
    *ok = g == SCRIPT_GET_EQUAL;
    if (!*ok) add_reply_integer(r->c, 0);
    return true;
}

void lock_redispy_release(script_run *r) {
    bool ok;
    if (!lock_redispy_token_ok(r, &ok) || !ok) return;
    long long n;
    if (!script_call_del(r, 6, script_key(r, 1), false, &n)) return;
    add_reply_integer(r->c, 1);
}

void lock_redispy_extend(script_run *r) {
    bool ok;
    if (!lock_redispy_token_ok(r, &ok) || !ok) return;
    long long expiration;
    if (!script_call_pttl(r, 6, script_key(r, 1), &expiration)) return;
    if (expiration < 0) {
        add_reply_integer(r->c, 0);
        return;
    }
    /* local newttl = ARGV[2]; if ARGV[3] == "0" then newttl = ARGV[2] + expiration end */
    const arg_t *newttl = script_arg(r, 2);
    const arg_t *mode = script_arg(r, 3);
    char buf[64];
    arg_t sum;
    if (mode && mode->len == 1 && mode->ptr[0] == '0') {
        double v;
        if (!newttl) {
            script_reply_lua_error(r, 16, "attempt to perform arithmetic on field '?' (a nil value)");
            return;
        }
        if (!script_lua_tonumber(newttl, &v)) {
            script_reply_lua_error(r, 16, "attempt to perform arithmetic on field '?' (a string value)");
            return;
        }
        sum.len = script_lua_number_string(v + (double)expiration, buf, sizeof buf);
        sum.ptr = buf;
        newttl = &sum;
    }
    long long n;
    if (!script_call_pexpire(r, 18, script_key(r, 1), newttl, &n)) return;
    add_reply_integer(r->c, 1);
}

void lock_redispy_reacquire(script_run *r) {
    bool ok;
    if (!lock_redispy_token_ok(r, &ok) || !ok) return;
    long long n;
    if (!script_call_pexpire(r, 6, script_key(r, 1), script_arg(r, 2), &n)) return;
    add_reply_integer(r->c, 1);
}

/* ------------------------------------------------------------ go-redsync */

void lock_redsync_delete(script_run *r) {
    enum script_get_result g;
    if (!script_call_get_compare(r, 2, script_key(r, 1), script_arg(r, 1), &g)) return;
    if (g == SCRIPT_GET_EQUAL) {
        long long n;
        if (!script_call_del(r, 4, script_key(r, 1), false, &n)) return;
        add_reply_integer(r->c, n);
    } else {
        add_reply_integer(r->c, g == SCRIPT_GET_NIL ? -1 : 0);
    }
}

void lock_redsync_touch(script_run *r) { lock_pexpire_if_equal(r, 2, 3); }

void lock_redsync_touch_setnx(script_run *r) {
    enum script_get_result g;
    if (!script_call_get_compare(r, 2, script_key(r, 1), script_arg(r, 1), &g)) return;
    long long n;
    if (g == SCRIPT_GET_EQUAL) {
        if (!script_call_pexpire(r, 3, script_key(r, 1), script_arg(r, 2), &n)) return;
        add_reply_integer(r->c, n);
        return;
    }
    bool done;
    if (!script_call_set_px(r, 4, script_key(r, 1), script_arg(r, 1), script_arg(r, 2), true, &done)) return;
    add_reply_integer(r->c, done ? 1 : 0);
}

void lock_redsync_delete_old(script_run *r) { lock_del_if_equal(r, 2, 3); }

/* ------------------------------------------------------------ node-redlock */

void lock_redlock4_lock(script_run *r) { lock_redlock_acquire(r, 4, 11); }
void lock_redlock4_unlock(script_run *r) { lock_redlock_release(r, 5, 6); }
void lock_redlock4_extend(script_run *r) { lock_redlock_extend(r, 4, 11); }
void lock_redlock5_acquire(script_run *r) { lock_redlock_acquire(r, 4, 11); }
void lock_redlock5_extend(script_run *r) { lock_redlock_extend(r, 4, 11); }
void lock_redlock5_release(script_run *r) { lock_redlock_release(r, 5, 6); }

/* `return redis.call("set", KEYS[1], ARGV[1], "NX", "PX", ARGV[2])`: the
 * status +OK, or nil when the key exists. */
void lock_redlock3_lock(script_run *r) {
    bool done;
    if (!script_call_set_px(r, 1, script_key(r, 1), script_arg(r, 1), script_arg(r, 2), true, &done)) return;
    if (done)
        add_reply_status(r->c, "OK");
    else
        add_reply_null(r->c);
}

void lock_redlock3_unlock(script_run *r) { lock_del_if_equal(r, 1, 1); }
void lock_redlock3_extend(script_run *r) { lock_pexpire_if_equal(r, 1, 1); }

/* ------------------------------------------------------------ redis.io */

void lock_redisio_unlock(script_run *r) { lock_del_if_equal(r, 1, 2); }
