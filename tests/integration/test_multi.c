/*
 * test_multi.c - MULTI/EXEC/DISCARD/WATCH against a multi-threaded server
 * (--threads 4): reply shapes and Redis's exact error texts, EXECABORT after
 * a queueing error, WATCH invalidated by another connection (connections land
 * on different workers), by the key's expiry (checked by EXEC itself, not
 * left to the expiry cycle; a key already expired when watched is no
 * change, as Redis 7.0), by FLUSHALL/FLUSHDB and by SWAPDB (which also wakes
 * a client blocked on a key the swap brought), an
 * optimistic-locking counter under contention (no lost update), and EXEC
 * atomicity under load (readers' MULTI GET a GET b EXEC never sees a != b
 * while writers run MULTI INCR a INCR b EXEC).
 *
 * Client threads never call Criterion assertions (they are not allowed off
 * the test's main thread): they record the first failure and the main thread
 * asserts after joining. Every loop is bounded.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server_proc.h"
#include "thread_fail.h"

static sc_server srv;
static const char *const threaded[] = { "--threads", "4", NULL };

TestSuite(multi, .fini = sc_server_cleanup, .timeout = 300);

/* ---- helpers for the main thread --------------------------------------- */

/* Short printable description of a reply, for messages. */
static const char *reply_desc(const redisReply *r, char *buf, size_t n)
{
    if (!r) return "(no reply)";
    switch (r->type) {
    case REDIS_REPLY_NIL: return "(nil)";
    case REDIS_REPLY_INTEGER: snprintf(buf, n, "(integer) %lld", r->integer); return buf;
    case REDIS_REPLY_ARRAY: snprintf(buf, n, "(array of %zu)", r->elements); return buf;
    case REDIS_REPLY_ERROR: snprintf(buf, n, "(error) %s", r->str); return buf;
    case REDIS_REPLY_STATUS: snprintf(buf, n, "(status) %s", r->str); return buf;
    case REDIS_REPLY_STRING: snprintf(buf, n, "\"%s\"", r->str); return buf;
    default: snprintf(buf, n, "(type %d)", r->type); return buf;
    }
}

static bool is_status(const redisReply *r, const char *s)
{
    return r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, s) == 0;
}

static bool is_bulk(const redisReply *r, const char *s)
{
    return r && r->type == REDIS_REPLY_STRING && strcmp(r->str, s) == 0;
}

static bool is_int(const redisReply *r, long long v)
{
    return r && r->type == REDIS_REPLY_INTEGER && r->integer == v;
}

/* EXEC must answer a null array (the transaction was aborted by WATCH). */
static void exec_expect_nil(redisContext *c, const char *what)
{
    char d[256];
    redisReply *r = sc_cmd_or_fail(c, "EXEC");
    cr_assert_eq(r->type, REDIS_REPLY_NIL, "%s: EXEC answered %s, want (nil)", what, reply_desc(r, d, sizeof d));
    freeReplyObject(r);
}

/* EXEC of a transaction holding one PING must answer [PONG]. */
static void exec_expect_pong(redisContext *c, const char *what)
{
    char d[256];
    redisReply *r = sc_cmd_or_fail(c, "EXEC");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 1 && is_status(r->element[0], "PONG"),
              "%s: EXEC answered %s, want [PONG]", what, reply_desc(r, d, sizeof d));
    freeReplyObject(r);
}

/* SET key with a short TTL and WATCH it while it is still live; returns the
 * TTL used. A slow build (TSan) can take longer than the TTL between SET and
 * WATCH; a key already expired at WATCH time does not abort EXEC (Redis 7.0
 * records it as expired-when-watched), so confirm through `o` (PTTL does not
 * touch the key) and retry with a longer TTL, a bounded number of times. */
static int set_and_watch_live(redisContext *c, redisContext *o, const char *key)
{
    for (int ttl = sc_scaled_ms(50); ttl <= sc_scaled_ms(50) * 64; ttl *= 4) {
        sc_cmd_expect_or_fail(c, "OK", "SET %s v PX %d", key, ttl);
        sc_cmd_expect_or_fail(c, "OK", "WATCH %s", key);
        redisReply *r = sc_cmd_or_fail(o, "PTTL %s", key);
        bool live = r->type == REDIS_REPLY_INTEGER && r->integer > 0;
        freeReplyObject(r);
        if (live)
            return ttl;
        sc_cmd_expect_or_fail(c, "OK", "UNWATCH");
    }
    cr_assert_fail("could not WATCH %s before its TTL ran out", key);
    return 0;
}

/* WATCH key, then MULTI / PING (queued). */
static void watch_then_multi_ping(redisContext *c, const char *key)
{
    sc_cmd_expect_or_fail(c, "OK", "WATCH %s", key);
    sc_cmd_expect_or_fail(c, "OK", "MULTI");
    sc_cmd_expect_or_fail(c, "QUEUED", "PING");
}

/* ---- reply shapes and errors ------------------------------------------- */

Test(multi, basic_replies)
{
    sc_server_start_or_fail(&srv, threaded);
    redisContext *c = sc_connect_or_fail(&srv);
    char d[256];

    sc_cmd_expect_or_fail(c, "ERR EXEC without MULTI", "EXEC");
    sc_cmd_expect_or_fail(c, "ERR DISCARD without MULTI", "DISCARD");

    sc_cmd_expect_or_fail(c, "OK", "MULTI");
    sc_cmd_expect_or_fail(c, "ERR MULTI calls can not be nested", "MULTI");
    sc_cmd_expect_or_fail(c, "ERR WATCH inside MULTI is not allowed", "WATCH a");
    sc_cmd_expect_or_fail(c, "QUEUED", "SET a 1");
    sc_cmd_expect_or_fail(c, "QUEUED", "INCR a");
    sc_cmd_expect_or_fail(c, "QUEUED", "GET a");
    sc_cmd_expect_or_fail(c, "QUEUED", "SET b x");
    sc_cmd_expect_or_fail(c, "QUEUED", "INCR b");   /* fails at run time only */
    sc_cmd_expect_or_fail(c, "QUEUED", "GET b");
    redisReply *r = sc_cmd_or_fail(c, "EXEC");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "EXEC answered %s", reply_desc(r, d, sizeof d));
    cr_assert_eq(r->elements, 6);
    cr_assert(is_status(r->element[0], "OK"), "[0] %s", reply_desc(r->element[0], d, sizeof d));
    cr_assert(is_int(r->element[1], 2), "[1] %s", reply_desc(r->element[1], d, sizeof d));
    cr_assert(is_bulk(r->element[2], "2"), "[2] %s", reply_desc(r->element[2], d, sizeof d));
    cr_assert(is_status(r->element[3], "OK"), "[3] %s", reply_desc(r->element[3], d, sizeof d));
    cr_assert(r->element[4]->type == REDIS_REPLY_ERROR &&
                  strcmp(r->element[4]->str, "ERR value is not an integer or out of range") == 0,
              "[4] %s", reply_desc(r->element[4], d, sizeof d));
    cr_assert(is_bulk(r->element[5], "x"), "[5] %s", reply_desc(r->element[5], d, sizeof d));
    freeReplyObject(r);
    sc_cmd_expect_or_fail(c, "ERR EXEC without MULTI", "EXEC");

    /* Empty transaction. */
    sc_cmd_expect_or_fail(c, "OK", "MULTI");
    r = sc_cmd_or_fail(c, "EXEC");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 0, "empty EXEC answered %s", reply_desc(r, d, sizeof d));
    freeReplyObject(r);

    /* DISCARD drops the queue and leaves MULTI. */
    sc_cmd_expect_or_fail(c, "OK", "MULTI");
    sc_cmd_expect_or_fail(c, "QUEUED", "SET a 5");
    sc_cmd_expect_or_fail(c, "OK", "DISCARD");
    sc_cmd_expect_or_fail(c, "2", "GET a");
    sc_cmd_expect_or_fail(c, "ERR DISCARD without MULTI", "DISCARD");

    /* Another connection sees nothing of a queued transaction until EXEC. */
    redisContext *o = sc_connect_or_fail(&srv);
    sc_cmd_expect_or_fail(c, "OK", "MULTI");
    sc_cmd_expect_or_fail(c, "QUEUED", "SET a 100");
    sc_cmd_expect_or_fail(c, "QUEUED", "SET fresh 1");
    sc_cmd_expect_or_fail(o, "2", "GET a");
    r = sc_cmd_or_fail(o, "GET fresh");
    cr_assert_eq(r->type, REDIS_REPLY_NIL, "queued SET visible before EXEC: %s", reply_desc(r, d, sizeof d));
    freeReplyObject(r);
    r = sc_cmd_or_fail(c, "EXEC");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 2 && is_status(r->element[0], "OK") &&
                  is_status(r->element[1], "OK"),
              "EXEC answered %s", reply_desc(r, d, sizeof d));
    freeReplyObject(r);
    sc_cmd_expect_or_fail(o, "100", "GET a");
    sc_cmd_expect_or_fail(o, "1", "GET fresh");

    /* A transaction spanning many slots (and a hash tag) in one EXEC. */
    sc_cmd_expect_or_fail(c, "OK", "MULTI");
    for (int i = 0; i < 50; i++) sc_cmd_expect_or_fail(c, "QUEUED", "SET many:%d %d", i, i);
    sc_cmd_expect_or_fail(c, "QUEUED", "MSET {t}x 1 {t}y 2");
    sc_cmd_expect_or_fail(c, "QUEUED", "MGET {t}x {t}y many:7");
    r = sc_cmd_or_fail(c, "EXEC");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 52, "EXEC answered %s", reply_desc(r, d, sizeof d));
    redisReply *m = r->element[51];
    cr_assert(m->type == REDIS_REPLY_ARRAY && m->elements == 3 && is_bulk(m->element[0], "1") &&
                  is_bulk(m->element[1], "2") && is_bulk(m->element[2], "7"),
              "MGET inside EXEC answered %s", reply_desc(m, d, sizeof d));
    freeReplyObject(r);
    sc_cmd_expect_or_fail(o, "49", "GET many:49");

    redisFree(o);
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

Test(multi, execabort_after_queueing_error)
{
    sc_server_start_or_fail(&srv, threaded);
    redisContext *c = sc_connect_or_fail(&srv);
    char d[256];

    /* Unknown command. */
    sc_cmd_expect_or_fail(c, "OK", "MULTI");
    sc_cmd_expect_or_fail(c, "QUEUED", "SET z 1");
    sc_cmd_expect_or_fail(c, "ERR unknown command 'FOO', with args beginning with: 'bar' ", "FOO bar");
    sc_cmd_expect_or_fail(c, "QUEUED", "SET z2 1");
    sc_cmd_expect_or_fail(c, "EXECABORT Transaction discarded because of previous errors.", "EXEC");
    sc_cmd_expect_or_fail(c, "ERR EXEC without MULTI", "EXEC");
    redisReply *r = sc_cmd_or_fail(c, "EXISTS z z2");
    cr_assert(is_int(r, 0), "aborted transaction ran: EXISTS z z2 = %s", reply_desc(r, d, sizeof d));
    freeReplyObject(r);

    /* Wrong arity. */
    sc_cmd_expect_or_fail(c, "OK", "MULTI");
    sc_cmd_expect_or_fail(c, "QUEUED", "SET z 1");
    sc_cmd_expect_or_fail(c, "ERR wrong number of arguments for 'set' command", "SET x");
    sc_cmd_expect_or_fail(c, "EXECABORT Transaction discarded because of previous errors.", "EXEC");
    r = sc_cmd_or_fail(c, "EXISTS z");
    cr_assert(is_int(r, 0), "aborted transaction ran: EXISTS z = %s", reply_desc(r, d, sizeof d));
    freeReplyObject(r);

    /* After EXECABORT the connection works normally, and DISCARD after a
     * queueing error just discards. */
    sc_cmd_expect_or_fail(c, "OK", "MULTI");
    sc_cmd_expect_or_fail(c, "ERR wrong number of arguments for 'get' command", "GET");
    sc_cmd_expect_or_fail(c, "OK", "DISCARD");
    sc_cmd_expect_or_fail(c, "OK", "MULTI");
    sc_cmd_expect_or_fail(c, "QUEUED", "SET z ok");
    r = sc_cmd_or_fail(c, "EXEC");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 1 && is_status(r->element[0], "OK"),
              "EXEC answered %s", reply_desc(r, d, sizeof d));
    freeReplyObject(r);
    sc_cmd_expect_or_fail(c, "ok", "GET z");

    /* EXECABORT also drops the WATCHed keys. */
    redisContext *o = sc_connect_or_fail(&srv);
    sc_cmd_expect_or_fail(c, "OK", "WATCH z");
    sc_cmd_expect_or_fail(c, "OK", "MULTI");
    sc_cmd_expect_or_fail(c, "ERR unknown command 'NOPE', with args beginning with: ", "NOPE");
    sc_cmd_expect_or_fail(c, "EXECABORT Transaction discarded because of previous errors.", "EXEC");
    sc_cmd_expect_or_fail(o, "OK", "SET z changed");
    watch_then_multi_ping(c, "other");
    exec_expect_pong(c, "EXEC after EXECABORT with an old WATCH");

    redisFree(o);
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

/* ---- WATCH ------------------------------------------------------------- */

#define WATCHERS 8

Test(multi, watch_raced_from_other_connections)
{
    sc_server_start_or_fail(&srv, threaded);
    redisContext *w[WATCHERS];
    for (int i = 0; i < WATCHERS; i++) w[i] = sc_connect_or_fail(&srv);
    char d[256];
    sc_cmd_expect_or_fail(w[0], "OK", "SET k init");

    /* Raced: each watcher WATCHes k and reads it, another connection (the
     * next watcher's, likely on another worker) writes k, then the watcher's
     * MULTI / SET k / EXEC must abort. Twice round, so every connection is
     * both a watcher and a writer. */
    for (int round = 0; round < 2 * WATCHERS; round++) {
        int i = round % WATCHERS;
        redisContext *me = w[i], *other = w[(i + 1 + round / WATCHERS) % WATCHERS];
        char mine[32], theirs[32];
        snprintf(mine, sizeof mine, "mine-%d", round);
        snprintf(theirs, sizeof theirs, "theirs-%d", round);
        sc_cmd_expect_or_fail(me, "OK", "WATCH k");
        redisReply *r = sc_cmd_or_fail(me, "GET k");
        cr_assert_eq(r->type, REDIS_REPLY_STRING);
        freeReplyObject(r);
        sc_cmd_expect_or_fail(other, "OK", "SET k %s", theirs);
        sc_cmd_expect_or_fail(me, "OK", "MULTI");
        sc_cmd_expect_or_fail(me, "QUEUED", "SET k %s", mine);
        char what[64];
        snprintf(what, sizeof what, "round %d (watcher %d)", round, i);
        exec_expect_nil(me, what);
        sc_cmd_expect_or_fail(me, theirs, "GET k");
    }

    /* Not raced: the same sequence commits. */
    for (int i = 0; i < WATCHERS; i++) {
        char mine[32];
        snprintf(mine, sizeof mine, "commit-%d", i);
        sc_cmd_expect_or_fail(w[i], "OK", "WATCH k");
        redisReply *r = sc_cmd_or_fail(w[i], "GET k");
        freeReplyObject(r);
        sc_cmd_expect_or_fail(w[(i + 1) % WATCHERS], "OK", "SET unrelated:%d x", i);
        sc_cmd_expect_or_fail(w[i], "OK", "MULTI");
        sc_cmd_expect_or_fail(w[i], "QUEUED", "SET k %s", mine);
        r = sc_cmd_or_fail(w[i], "EXEC");
        cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 1 && is_status(r->element[0], "OK"),
                  "unraced EXEC of watcher %d answered %s", i, reply_desc(r, d, sizeof d));
        freeReplyObject(r);
        sc_cmd_expect_or_fail(w[(i + 3) % WATCHERS], mine, "GET k");
    }

    /* Other invalidations: DEL by another connection, a missing key created
     * by another connection, the watcher's own write before MULTI, several
     * watched keys where only one changes. */
    sc_cmd_expect_or_fail(w[1], "OK", "WATCH k");
    sc_cmd_expect_or_fail(w[2], "1", "DEL k");
    sc_cmd_expect_or_fail(w[1], "OK", "MULTI");
    sc_cmd_expect_or_fail(w[1], "QUEUED", "SET k x");
    exec_expect_nil(w[1], "WATCH then DEL by another connection");

    watch_then_multi_ping(w[3], "k");   /* k does not exist now */
    sc_cmd_expect_or_fail(w[4], "OK", "SET k created");
    exec_expect_nil(w[3], "WATCH of a missing key then SET by another connection");

    sc_cmd_expect_or_fail(w[5], "OK", "WATCH k");
    sc_cmd_expect_or_fail(w[5], "OK", "SET k own");
    sc_cmd_expect_or_fail(w[5], "OK", "MULTI");
    sc_cmd_expect_or_fail(w[5], "QUEUED", "PING");
    exec_expect_nil(w[5], "WATCH then own SET");

    sc_cmd_expect_or_fail(w[6], "OK", "WATCH a1 a2 a3 {x}b1");
    sc_cmd_expect_or_fail(w[6], "OK", "WATCH {x}b2");
    sc_cmd_expect_or_fail(w[7], "OK", "SET {x}b2 v");
    sc_cmd_expect_or_fail(w[6], "OK", "MULTI");
    sc_cmd_expect_or_fail(w[6], "QUEUED", "PING");
    exec_expect_nil(w[6], "second WATCH call's key changed");

    /* DEL of a missing watched key is no change; UNWATCH and DISCARD forget
     * the watched keys; the WATCH ends with EXEC either way. */
    watch_then_multi_ping(w[0], "missing");
    sc_cmd_expect_or_fail(w[1], "0", "DEL missing");
    exec_expect_pong(w[0], "DEL of a missing watched key");

    sc_cmd_expect_or_fail(w[0], "OK", "WATCH k");
    sc_cmd_expect_or_fail(w[0], "OK", "UNWATCH");
    sc_cmd_expect_or_fail(w[1], "OK", "SET k after-unwatch");
    sc_cmd_expect_or_fail(w[0], "OK", "MULTI");
    sc_cmd_expect_or_fail(w[0], "QUEUED", "PING");
    exec_expect_pong(w[0], "UNWATCH");

    sc_cmd_expect_or_fail(w[0], "OK", "WATCH k");
    sc_cmd_expect_or_fail(w[0], "OK", "MULTI");
    sc_cmd_expect_or_fail(w[0], "OK", "DISCARD");
    sc_cmd_expect_or_fail(w[1], "OK", "SET k after-discard");
    sc_cmd_expect_or_fail(w[0], "OK", "MULTI");
    sc_cmd_expect_or_fail(w[0], "QUEUED", "PING");
    exec_expect_pong(w[0], "DISCARD");

    watch_then_multi_ping(w[2], "k");
    sc_cmd_expect_or_fail(w[3], "OK", "SET k v1");
    exec_expect_nil(w[2], "raced");
    sc_cmd_expect_or_fail(w[3], "OK", "SET k v2");
    sc_cmd_expect_or_fail(w[2], "OK", "MULTI");
    sc_cmd_expect_or_fail(w[2], "QUEUED", "PING");
    exec_expect_pong(w[2], "EXEC after an aborted EXEC (no WATCH left)");

    /* A disconnecting watcher leaves no trace. */
    sc_cmd_expect_or_fail(w[4], "OK", "WATCH k gone1 gone2");
    redisFree(w[4]);
    w[4] = sc_connect_or_fail(&srv);
    sc_cmd_expect_or_fail(w[4], "OK", "SET k after-disconnect");
    sc_cmd_expect_or_fail(w[4], "PONG", "PING");

    for (int i = 0; i < WATCHERS; i++) redisFree(w[i]);
    sc_server_stop_or_fail(&srv);
}

/* Keys of the current database (DBSIZE neither expires nor touches keys). */
static long long dbsize(redisContext *o)
{
    return sc_cmd_ll_or_fail(o, "DBSIZE");
}

/* Sleep until a key SET with PX ttl before this call has logically expired.
 * Nothing can poll for that: every command that reads the key (PTTL, GET,
 * EXISTS...) deletes it when expired, which is the very write the callers
 * want to keep out. The expiry time is the server's clock at SET plus ttl,
 * and the SET was answered before this call: ttl plus a margin is enough
 * whatever the load. */
static void sleep_past_ttl(int ttl)
{
    sc_sleep_ms(ttl + 20);
}

/* Store key with a 1 ms TTL, wait until it has expired, then WATCH it
 * (Redis 7.0 records it as expired-when-watched); active expiry must be off,
 * so the expired key is still stored, which `o` confirms. */
static void watch_expired_key(redisContext *c, redisContext *o, const char *key)
{
    sc_cmd_expect_or_fail(c, "OK", "SET %s v PX 1", key);
    sleep_past_ttl(1);
    sc_cmd_expect_or_fail(c, "OK", "WATCH %s", key);
    cr_assert_eq(dbsize(o), 1, "the expired %s was deleted before WATCH (active expiry off)", key);
}

Test(multi, watched_key_expires)
{
    sc_server_start_or_fail(&srv, (const char *[]){ "--threads", "4", "--enable-debug-command", "yes", NULL });
    redisContext *c = sc_connect_or_fail(&srv);
    redisContext *o = sc_connect_or_fail(&srv);

    /* Active expiry off: whether EXEC aborts must not depend on an expiry
     * cycle having deleted the key in time (Redis 7.0's EXEC checks the
     * watched keys' TTLs itself, isWatchedKeyExpired). */
    sc_cmd_expect_or_fail(c, "OK", "DEBUG SET-ACTIVE-EXPIRE 0");

    /* Nobody touches the key: its expiry alone aborts EXEC, though the key
     * is still stored. */
    int ttl = set_and_watch_live(c, o, "k");
    sleep_past_ttl(ttl);
    cr_assert_eq(dbsize(o), 1, "expired key deleted with active expiry off");
    sc_cmd_expect_or_fail(c, "OK", "MULTI");
    sc_cmd_expect_or_fail(c, "QUEUED", "SET k x");
    exec_expect_nil(c, "watched key expired (untouched, not yet deleted)");
    redisReply *r = sc_cmd_or_fail(c, "EXISTS k");
    cr_assert(is_int(r, 0), "the aborted SET ran");
    freeReplyObject(r);

    /* Another connection reads the expired key (lazy expiry) first. */
    ttl = set_and_watch_live(c, o, "k");
    sleep_past_ttl(ttl);
    r = sc_cmd_or_fail(o, "GET k");
    cr_assert_eq(r->type, REDIS_REPLY_NIL);
    freeReplyObject(r);
    sc_cmd_expect_or_fail(c, "OK", "MULTI");
    sc_cmd_expect_or_fail(c, "QUEUED", "SET k x");
    exec_expect_nil(c, "watched key expired (read lazily by another connection)");

    /* A key already expired when watched: neither its staying expired nor
     * its deletion is a change (Redis 7.0); a new value is. */
    watch_expired_key(c, o, "k");
    sc_cmd_expect_or_fail(c, "OK", "MULTI");
    sc_cmd_expect_or_fail(c, "QUEUED", "PING");
    exec_expect_pong(c, "key expired when watched, still stored");

    watch_expired_key(c, o, "k");
    r = sc_cmd_or_fail(o, "GET k");
    cr_assert_eq(r->type, REDIS_REPLY_NIL);
    freeReplyObject(r);
    sc_cmd_expect_or_fail(c, "OK", "MULTI");
    sc_cmd_expect_or_fail(c, "QUEUED", "PING");
    exec_expect_pong(c, "key expired when watched, then deleted lazily");

    watch_expired_key(c, o, "k");
    sc_cmd_expect_or_fail(o, "OK", "FLUSHALL");
    sc_cmd_expect_or_fail(c, "OK", "MULTI");
    sc_cmd_expect_or_fail(c, "QUEUED", "PING");
    exec_expect_pong(c, "key expired when watched, then flushed");

    watch_expired_key(c, o, "k");
    sc_cmd_expect_or_fail(o, "OK", "SET k new");
    sc_cmd_expect_or_fail(c, "OK", "MULTI");
    sc_cmd_expect_or_fail(c, "QUEUED", "PING");
    exec_expect_nil(c, "key expired when watched, then set again");
    sc_cmd_expect_or_fail(c, "1", "DEL k");

    /* With the active expiry cycle on, it deletes the key (polled, bounded). */
    bool gone = false;
    watch_expired_key(c, o, "k");
    sc_cmd_expect_or_fail(o, "OK", "DEBUG SET-ACTIVE-EXPIRE 1");
    gone = SC_WAIT_FOR(dbsize(o) == 0, 5000);
    cr_assert(gone, "expired key not actively expired within 5 s");
    sc_cmd_expect_or_fail(c, "OK", "MULTI");
    sc_cmd_expect_or_fail(c, "QUEUED", "PING");
    exec_expect_pong(c, "key expired when watched, then actively expired");

    set_and_watch_live(c, o, "k");
    gone = SC_WAIT_FOR(dbsize(o) == 0, 5000);
    cr_assert(gone, "key with a short TTL not actively expired within 5 s");
    sc_cmd_expect_or_fail(c, "OK", "MULTI");
    sc_cmd_expect_or_fail(c, "QUEUED", "SET k x");
    exec_expect_nil(c, "watched key expired (active expiry)");

    /* A key with a TTL that does not expire before EXEC commits. */
    sc_cmd_expect_or_fail(c, "OK", "SET k v PX 100000");
    watch_then_multi_ping(c, "k");
    exec_expect_pong(c, "watched key with a long TTL");

    redisFree(o);
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

Test(multi, flush_invalidates_watch)
{
    sc_server_start_or_fail(&srv, threaded);
    redisContext *c = sc_connect_or_fail(&srv);
    redisContext *o = sc_connect_or_fail(&srv);

    sc_cmd_expect_or_fail(c, "OK", "SET k v");
    watch_then_multi_ping(c, "k");
    sc_cmd_expect_or_fail(o, "OK", "FLUSHALL");
    exec_expect_nil(c, "FLUSHALL by another connection, watched key existed");

    sc_cmd_expect_or_fail(c, "OK", "SET k v");
    sc_cmd_expect_or_fail(c, "OK", "WATCH k");
    sc_cmd_expect_or_fail(c, "OK", "FLUSHALL");
    sc_cmd_expect_or_fail(c, "OK", "MULTI");
    sc_cmd_expect_or_fail(c, "QUEUED", "PING");
    exec_expect_nil(c, "own FLUSHALL, watched key existed");

    sc_cmd_expect_or_fail(c, "OK", "SET k v");
    watch_then_multi_ping(c, "k");
    sc_cmd_expect_or_fail(o, "OK", "FLUSHDB");
    exec_expect_nil(c, "FLUSHDB by another connection, watched key existed");

    /* Many watched keys spread over slots, one of them existing. */
    sc_cmd_expect_or_fail(c, "OK", "SET w7 v");
    sc_cmd_expect_or_fail(c, "OK", "WATCH w0 w1 w2 w3 w4 w5 w6 w7 w8 w9");
    sc_cmd_expect_or_fail(c, "OK", "MULTI");
    sc_cmd_expect_or_fail(c, "QUEUED", "PING");
    sc_cmd_expect_or_fail(o, "OK", "FLUSHALL ASYNC");
    exec_expect_nil(c, "FLUSHALL ASYNC, one of ten watched keys existed");

    /* As in Redis 7.0: a flush does not touch a watched key that did not
     * exist. */
    watch_then_multi_ping(c, "nokey");
    sc_cmd_expect_or_fail(o, "OK", "FLUSHALL");
    exec_expect_pong(c, "FLUSHALL, watched key missing");

    /* FLUSHDB of another database leaves the watch alone. */
    sc_cmd_expect_or_fail(c, "OK", "SET k v");
    watch_then_multi_ping(c, "k");
    sc_cmd_expect_or_fail(o, "OK", "SELECT 1");
    sc_cmd_expect_or_fail(o, "OK", "SET k other-db");
    sc_cmd_expect_or_fail(o, "OK", "FLUSHDB");
    exec_expect_pong(c, "FLUSHDB of another database");

    redisFree(o);
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

/* ---- optimistic locking under contention ------------------------------- */

#define CAS_CLIENTS 8
#define CAS_INCRS 100

static atomic_long cas_aborts;

/* Increment "cas" CAS_INCRS times with WATCH / GET / MULTI / SET / EXEC,
 * retrying aborted transactions. */
static void *cas_client(void *arg)
{
    int id = (int)(intptr_t)arg;
    redisContext *c = sc_thread_connect(&srv, 30000);
    if (!c) return NULL;
    for (int done = 0, tries = 0; done < CAS_INCRS && sc_thread_failures() == 0; tries++) {
        if (tries > 200000) {
            sc_thread_fail("client %d: no progress after %d tries", id, tries);
            break;
        }
        redisAppendCommand(c, "WATCH cas");
        redisAppendCommand(c, "GET cas");
        redisReply *w = NULL, *g = NULL;
        if (redisGetReply(c, (void **)&w) != REDIS_OK || redisGetReply(c, (void **)&g) != REDIS_OK) {
            sc_thread_fail("client %d: WATCH/GET: %s", id, c->errstr);
            if (w) freeReplyObject(w);
            break;
        }
        long long v = g->type == REDIS_REPLY_STRING ? atoll(g->str) : 0;
        bool ok = is_status(w, "OK") && (g->type == REDIS_REPLY_STRING || g->type == REDIS_REPLY_NIL);
        freeReplyObject(w);
        freeReplyObject(g);
        if (!ok) {
            sc_thread_fail("client %d: bad WATCH/GET reply", id);
            break;
        }
        redisAppendCommand(c, "MULTI");
        redisAppendCommand(c, "SET cas %lld", v + 1);
        redisAppendCommand(c, "EXEC");
        redisReply *rs[3] = { NULL, NULL, NULL };
        bool io = true;
        for (int i = 0; i < 3; i++)
            if (redisGetReply(c, (void **)&rs[i]) != REDIS_OK) io = false;
        if (!io) {
            sc_thread_fail("client %d: MULTI/SET/EXEC: %s", id, c->errstr);
        } else if (!is_status(rs[0], "OK") || !is_status(rs[1], "QUEUED")) {
            sc_thread_fail("client %d: MULTI/SET not OK/QUEUED", id);
        } else if (rs[2]->type == REDIS_REPLY_NIL) {
            atomic_fetch_add(&cas_aborts, 1);
        } else if (rs[2]->type == REDIS_REPLY_ARRAY && rs[2]->elements == 1 && is_status(rs[2]->element[0], "OK")) {
            done++;
        } else {
            sc_thread_fail("client %d: EXEC answered type %d", id, rs[2]->type);
        }
        for (int i = 0; i < 3; i++)
            if (rs[i]) freeReplyObject(rs[i]);
        if (!io) break;
    }
    redisFree(c);
    return NULL;
}

/* SWAPDB, by Redis 7.0's touchAllWatchedKeysInDb: a watcher is dirtied when
 * its key exists in its database or in the one swapped in; a missing key
 * replaced by a logically expired one is no change. A client blocked on a
 * key of a swapped database is served when the swap brings the key. */
Test(multi, swapdb_watch_and_blocked_clients)
{
    sc_server_start_or_fail(&srv, (const char *[]){ "--threads", "4", "--enable-debug-command", "yes", NULL });
    redisContext *c = sc_connect_or_fail(&srv);
    redisContext *o = sc_connect_or_fail(&srv);
    sc_cmd_expect_or_fail(o, "OK", "DEBUG SET-ACTIVE-EXPIRE 0");

    sc_cmd_expect_or_fail(c, "OK", "SET k v");
    watch_then_multi_ping(c, "k");
    sc_cmd_expect_or_fail(o, "OK", "SWAPDB 0 1");
    exec_expect_nil(c, "SWAPDB, watched key in its own database");
    cr_assert_eq(sc_cmd_ll_or_fail(c, "EXISTS k"), 0, "k still in db 0 after SWAPDB 0 1");

    watch_then_multi_ping(c, "k"); /* k is in db 1 now */
    sc_cmd_expect_or_fail(o, "OK", "SWAPDB 1 0");
    exec_expect_nil(c, "SWAPDB, watched key only in the other database");
    sc_cmd_expect_or_fail(c, "v", "GET k");

    watch_then_multi_ping(c, "nokey");
    sc_cmd_expect_or_fail(o, "OK", "SWAPDB 0 1");
    exec_expect_pong(c, "SWAPDB, watched key in neither database");

    sc_cmd_expect_or_fail(c, "OK", "SELECT 2");
    watch_then_multi_ping(c, "k");
    sc_cmd_expect_or_fail(o, "OK", "SWAPDB 0 1");
    exec_expect_pong(c, "SWAPDB of two other databases");
    sc_cmd_expect_or_fail(c, "OK", "SELECT 0");

    /* A missing key replaced by an expired one (active expiry is off, so
     * it stays in its table until looked up). */
    sc_cmd_expect_or_fail(o, "OK", "FLUSHALL");
    watch_then_multi_ping(c, "k");
    sc_cmd_expect_or_fail(o, "OK", "SELECT 1");
    sc_cmd_expect_or_fail(o, "OK", "SET k v PX 1");
    sc_sleep_ms(20); /* past its 1 ms TTL: nothing to poll without touching the key */
    sc_cmd_expect_or_fail(o, "OK", "SWAPDB 0 1");
    exec_expect_pong(c, "SWAPDB brought an expired key where the watched one was missing");

    /* Inside MULTI, and the same database twice. */
    sc_cmd_expect_or_fail(o, "OK", "FLUSHALL");
    sc_cmd_expect_or_fail(o, "OK", "SET m x"); /* o is in db 1 */
    sc_cmd_expect_or_fail(c, "OK", "MULTI");
    sc_cmd_expect_or_fail(c, "QUEUED", "SWAPDB 0 1");
    sc_cmd_expect_or_fail(c, "QUEUED", "GET m");
    sc_cmd_expect_or_fail(c, "QUEUED", "SWAPDB 3 3");
    redisReply *r = sc_cmd_or_fail(c, "EXEC");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 3 && is_status(r->element[0], "OK") &&
                  is_bulk(r->element[1], "x") && is_status(r->element[2], "OK"),
              "MULTI SWAPDB 0 1, GET m, SWAPDB 3 3: EXEC answered otherwise");
    freeReplyObject(r);
    cr_assert_eq(sc_cmd_ll_or_fail(o, "DBSIZE"), 0);

    /* A client blocked on a list of db 0 (on another worker than o, probably)
     * is served by the swap that brings the list from db 1; one blocked on a
     * list key the swap fills with a string is not. */
    redisContext *b = sc_connect_or_fail(&srv);
    redisContext *b2 = sc_connect_or_fail(&srv);
    sc_cmd_expect_or_fail(b2, "OK", "SELECT 1");
    cr_assert(redisAppendCommand(b, "BLPOP list 10") == REDIS_OK);
    cr_assert(redisAppendCommand(b2, "BLPOP m 1") == REDIS_OK);
    int wb;
    do cr_assert(redisBufferWrite(b, &wb) == REDIS_OK); while (!wb);
    do cr_assert(redisBufferWrite(b2, &wb) == REDIS_OK); while (!wb);
    cr_assert(SC_WAIT_FOR(sc_info_ll_or_fail(c, "clients", "blocked_clients") == 2, 5000));
    sc_cmd_expect_or_fail(o, "1", "RPUSH list x");
    sc_cmd_expect_or_fail(o, "OK", "SWAPDB 0 1");
    redisReply *got = NULL;
    cr_assert(redisGetReply(b, (void **)&got) == REDIS_OK, "BLPOP: %s", b->errstr);
    cr_assert(got->type == REDIS_REPLY_ARRAY && got->elements == 2 && is_bulk(got->element[0], "list") &&
                  is_bulk(got->element[1], "x"),
              "BLPOP list answered otherwise after SWAPDB brought the list");
    freeReplyObject(got);
    /* The swap brought m to db 1 as a string: b2 times out after its second. */
    cr_assert(redisGetReply(b2, (void **)&got) == REDIS_OK, "BLPOP m: %s", b2->errstr);
    cr_assert_eq(got->type, REDIS_REPLY_NIL, "BLPOP m in db 1 served after SWAPDB moved m away");
    freeReplyObject(got);
    redisFree(b);
    redisFree(b2);
    redisFree(o);
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

Test(multi, watch_cas_counter_no_lost_update)
{
    sc_server_start_or_fail(&srv, threaded);
    sc_thread_fail_reset();
    atomic_store(&cas_aborts, 0);
    pthread_t th[CAS_CLIENTS];
    for (int i = 0; i < CAS_CLIENTS; i++)
        cr_assert(pthread_create(&th[i], NULL, cas_client, (void *)(intptr_t)i) == 0);
    for (int i = 0; i < CAS_CLIENTS; i++) pthread_join(th[i], NULL);
    sc_no_thread_failures_or_fail();

    redisContext *c = sc_connect_or_fail(&srv);
    char want[32];
    snprintf(want, sizeof want, "%d", CAS_CLIENTS * CAS_INCRS);
    sc_cmd_expect_or_fail(c, want, "GET cas");
    cr_log_info("watch_cas_counter: %ld aborted transactions", atomic_load(&cas_aborts));
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

/* ---- EXEC atomicity under load ----------------------------------------- */

#define TX_WRITERS 8
#define TX_READERS 4
#define TX_PER_WRITER 250

static atomic_int tx_writers_left;
static atomic_long tx_reads;

/* Read all len replies of a pipelined MULTI ... EXEC; returns EXEC's reply
 * (the others freed) or NULL after recording a failure. */
static redisReply *read_tx(redisContext *c, int queued, const char *who)
{
    redisReply *r = NULL;
    if (redisGetReply(c, (void **)&r) != REDIS_OK || !is_status(r, "OK")) {
        sc_thread_fail("%s: MULTI: %s", who, r ? (r->str ? r->str : "bad reply") : c->errstr);
        if (r) freeReplyObject(r);
        return NULL;
    }
    freeReplyObject(r);
    for (int i = 0; i < queued; i++) {
        r = NULL;
        if (redisGetReply(c, (void **)&r) != REDIS_OK || !is_status(r, "QUEUED")) {
            sc_thread_fail("%s: queued command %d: %s", who, i, r ? (r->str ? r->str : "bad reply") : c->errstr);
            if (r) freeReplyObject(r);
            return NULL;
        }
        freeReplyObject(r);
    }
    r = NULL;
    if (redisGetReply(c, (void **)&r) != REDIS_OK || r->type != REDIS_REPLY_ARRAY || (int)r->elements != queued) {
        sc_thread_fail("%s: EXEC: %s", who, r ? "bad reply" : c->errstr);
        if (r) freeReplyObject(r);
        return NULL;
    }
    return r;
}

static void *tx_writer(void *arg)
{
    int id = (int)(intptr_t)arg;
    char who[32];
    snprintf(who, sizeof who, "writer %d", id);
    redisContext *c = sc_thread_connect(&srv, 30000);
    if (c) {
        for (int i = 0; i < TX_PER_WRITER && sc_thread_failures() == 0; i++) {
            redisAppendCommand(c, "MULTI");
            redisAppendCommand(c, "INCR a");
            redisAppendCommand(c, "INCR b");
            redisAppendCommand(c, "EXEC");
            redisReply *r = read_tx(c, 2, who);
            if (!r) break;
            redisReply *x = r->element[0], *y = r->element[1];
            if (x->type != REDIS_REPLY_INTEGER || y->type != REDIS_REPLY_INTEGER || x->integer != y->integer)
                sc_thread_fail("%s: EXEC [INCR a, INCR b] answered [%lld, %lld] (types %d, %d)", who,
                               x->type == REDIS_REPLY_INTEGER ? x->integer : -1,
                               y->type == REDIS_REPLY_INTEGER ? y->integer : -1, x->type, y->type);
            freeReplyObject(r);
        }
        redisFree(c);
    }
    atomic_fetch_sub(&tx_writers_left, 1);
    return NULL;
}

static void *tx_reader(void *arg)
{
    int id = (int)(intptr_t)arg;
    char who[32];
    snprintf(who, sizeof who, "reader %d", id);
    redisContext *c = sc_thread_connect(&srv, 30000);
    if (!c) return NULL;
    long long last_a = 0;
    for (long n = 0; n < 1000000 && sc_thread_failures() == 0; n++) {
        bool last = atomic_load(&tx_writers_left) == 0;
        redisAppendCommand(c, "MULTI");
        redisAppendCommand(c, "GET a");
        redisAppendCommand(c, "GET b");
        redisAppendCommand(c, "EXEC");
        redisReply *r = read_tx(c, 2, who);
        if (!r) break;
        redisReply *x = r->element[0], *y = r->element[1];
        bool same = x->type == y->type &&
                    (x->type == REDIS_REPLY_NIL ||
                     (x->type == REDIS_REPLY_STRING && strcmp(x->str, y->str) == 0));
        if (!same) {
            sc_thread_fail("%s: EXEC [GET a, GET b] answered [%s, %s]", who,
                           x->type == REDIS_REPLY_STRING ? x->str : "(nil)",
                           y->type == REDIS_REPLY_STRING ? y->str : "(nil)");
        } else if (x->type == REDIS_REPLY_STRING) {
            long long v = atoll(x->str);
            if (v < last_a) sc_thread_fail("%s: a went backwards: %lld after %lld", who, v, last_a);
            last_a = v;
        }
        freeReplyObject(r);
        atomic_fetch_add(&tx_reads, 1);
        if (last) break;
    }
    redisFree(c);
    return NULL;
}

Test(multi, exec_atomic_under_load)
{
    sc_server_start_or_fail(&srv, threaded);
    sc_thread_fail_reset();
    atomic_store(&tx_writers_left, TX_WRITERS);
    atomic_store(&tx_reads, 0);
    pthread_t th[TX_WRITERS + TX_READERS];
    for (int i = 0; i < TX_WRITERS + TX_READERS; i++)
        cr_assert(pthread_create(&th[i], NULL, i < TX_WRITERS ? tx_writer : tx_reader, (void *)(intptr_t)i) == 0);
    for (int i = 0; i < TX_WRITERS + TX_READERS; i++) pthread_join(th[i], NULL);
    sc_no_thread_failures_or_fail();
    cr_assert(atomic_load(&tx_reads) >= TX_READERS, "readers did not run");

    redisContext *c = sc_connect_or_fail(&srv);
    char want[32];
    snprintf(want, sizeof want, "%d", TX_WRITERS * TX_PER_WRITER);
    sc_cmd_expect_or_fail(c, want, "GET a");
    sc_cmd_expect_or_fail(c, want, "GET b");
    cr_log_info("exec_atomic_under_load: %ld reader transactions", atomic_load(&tx_reads));
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

/* ---- keyspace walkers inside EXEC --------------------------------------- */

/* KEYS, SCAN, RANDOMKEY, FLUSHDB, MEMORY STATS and UNWATCH lock slots beyond
 * the transaction's keys; inside EXEC (which holds the keys' slots) they
 * once waited forever on a lock their own thread held. Other connections
 * run multi-key commands across slots meanwhile, so a broken lock order
 * would deadlock them too. */
#define WALK_ROUNDS 150
static atomic_int walkers_done;

static void *mset_across_slots(void *arg)
{
    int id = (int)(intptr_t)arg;
    redisContext *c = sc_thread_connect(&srv, 30000);
    if (!c) return NULL;
    for (long n = 0; atomic_load(&walkers_done) == 0 && sc_thread_failures() == 0 && n < 1000000; n++) {
        redisReply *r = redisCommand(c, "MSET a%d 1 b%d 2 c%d 3 d%d 4", id, id, id, id);
        if (!r || r->type != REDIS_REPLY_STATUS) sc_thread_fail("MSET client %d: %s", id, r ? "bad reply" : c->errstr);
        if (r) freeReplyObject(r);
        if (!r) break;
    }
    redisFree(c);
    return NULL;
}

Test(multi, keyspace_walkers_inside_exec)
{
    sc_server_start_or_fail(&srv, threaded);
    sc_thread_fail_reset();
    atomic_store(&walkers_done, 0);
    pthread_t th[3];
    for (int i = 0; i < 3; i++) cr_assert(pthread_create(&th[i], NULL, mset_across_slots, (void *)(intptr_t)i) == 0);

    redisContext *c = sc_connect_or_fail(&srv);
    char buf[256];
    for (int round = 0; round < WALK_ROUNDS && sc_thread_failures() == 0; round++) {
        sc_cmd_expect_or_fail(c, "OK", "SELECT 3"); /* the MSET clients write database 0 */
        sc_cmd_expect_or_fail(c, "OK", "SET k%d v", round);
        sc_cmd_expect_or_fail(c, "OK", "WATCH k%d", round);
        sc_cmd_expect_or_fail(c, "OK", "MULTI");
        const char *queued[] = { "SET k%d v2", "KEYS k*", "SCAN 0 COUNT 1000", "RANDOMKEY", "MEMORY STATS",
                                 "UNWATCH", "FLUSHDB", "DBSIZE" };
        for (size_t i = 0; i < sizeof queued / sizeof *queued; i++)
            sc_cmd_expect_or_fail(c, "QUEUED", queued[i], round);
        redisReply *r = redisCommand(c, "EXEC");
        cr_assert(r != NULL, "round %d: EXEC: %s", round, c->errstr);
        cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "round %d: EXEC answered %s", round, reply_desc(r, buf, sizeof buf));
        cr_assert_eq(r->elements, 8);
        cr_assert(is_status(r->element[0], "OK"));
        cr_assert_eq(r->element[1]->type, REDIS_REPLY_ARRAY);
        cr_assert_eq(r->element[1]->elements, 1, "KEYS sees the one key of database 3");
        char key[32];
        snprintf(key, sizeof key, "k%d", round);
        cr_assert(is_bulk(r->element[1]->element[0], key), "KEYS");
        cr_assert_eq(r->element[2]->type, REDIS_REPLY_ARRAY);
        cr_assert(is_bulk(r->element[2]->element[0], "0"), "SCAN ends in one call");
        cr_assert_eq(r->element[2]->element[1]->elements, 1, "SCAN sees the one key");
        cr_assert(is_bulk(r->element[3], key), "RANDOMKEY answered %s", reply_desc(r->element[3], buf, sizeof buf));
        cr_assert_eq(r->element[4]->type, REDIS_REPLY_ARRAY, "MEMORY STATS");
        cr_assert(is_status(r->element[5], "OK"));
        cr_assert(is_status(r->element[6], "OK"));
        cr_assert(is_int(r->element[7], 0), "DBSIZE after FLUSHDB inside the transaction");
        freeReplyObject(r);
        sc_cmd_expect_or_fail(c, "OK", "SELECT 0");
    }
    atomic_store(&walkers_done, 1);
    for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
    sc_no_thread_failures_or_fail();
    sc_cmd_expect_or_fail(c, "1", "GET a0");
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

/* ---- CONFIG SET maxmemory inside EXEC ----------------------------------- */

/* CONFIG SET maxmemory evicts at once, which locks slots; inside EXEC the
 * transaction holds its own slots, so that eviction once took other slots
 * out of order and deadlocked against a multi-key command holding slot 0
 * and waiting for slot 16383 ({t10790} hashes to slot 0, {t11021} to
 * 16383). Now eviction waits for the end of the transaction. */
#define CONFIG_TX_ROUNDS 100
static atomic_int config_tx_done;

static void *exists_both_ends(void *arg)
{
    (void)arg;
    redisContext *c = sc_thread_connect(&srv, 30000);
    if (!c) return NULL;
    for (long n = 0; atomic_load(&config_tx_done) == 0 && sc_thread_failures() == 0 && n < 10000000; n++) {
        redisReply *r = redisCommand(c, n % 2 ? "EXISTS {t10790}y {t11021}x" : "SET {t10790}y v");
        if (!r || r->type == REDIS_REPLY_ERROR) sc_thread_fail("client: %s", r ? r->str : c->errstr);
        if (r) freeReplyObject(r);
        if (!r) break;
    }
    redisFree(c);
    return NULL;
}

Test(multi, config_set_maxmemory_inside_exec)
{
    sc_server_start_or_fail(&srv, (const char *[]){ "--threads", "4", "--maxmemory-policy", "allkeys-random", NULL });
    sc_thread_fail_reset();
    atomic_store(&config_tx_done, 0);
    pthread_t th[3];
    for (int i = 0; i < 3; i++) cr_assert(pthread_create(&th[i], NULL, exists_both_ends, NULL) == 0);
    redisContext *c = sc_connect_or_fail(&srv);
    char buf[256];
    for (int round = 0; round < CONFIG_TX_ROUNDS && sc_thread_failures() == 0; round++) {
        sc_cmd_expect_or_fail(c, "OK", "MULTI");
        sc_cmd_expect_or_fail(c, "QUEUED", "SET {t11021}x v");
        sc_cmd_expect_or_fail(c, "QUEUED", "CONFIG SET maxmemory 1");
        sc_cmd_expect_or_fail(c, "QUEUED", "CONFIG SET maxmemory 0");
        redisReply *r = redisCommand(c, "EXEC");
        cr_assert(r != NULL, "round %d: EXEC: %s", round, c->errstr);
        cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 3 && is_status(r->element[0], "OK") &&
                      is_status(r->element[1], "OK") && is_status(r->element[2], "OK"),
                  "round %d: EXEC answered %s", round, reply_desc(r, buf, sizeof buf));
        freeReplyObject(r);
    }
    atomic_store(&config_tx_done, 1);
    for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
    sc_no_thread_failures_or_fail();
    sc_cmd_expect_or_fail(c, "PONG", "PING");
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

/* The bitmap writes invalidate WATCH when they change the value (SETBIT,
 * BITFIELD, BITOP's destination, also deleted by an empty result) and,
 * as in Redis 7.0, not when they leave it as it was. */
Test(multi, bitmap_writes_and_watch)
{
    sc_server_start_or_fail(&srv, (const char *[]){ "--threads", "2", NULL });
    redisContext *c = sc_connect_or_fail(&srv), *o = sc_connect_or_fail(&srv);
    sc_cmd_expect_or_fail(o, "0", "SETBIT b 7 1");
    sc_cmd_expect_or_fail(o, "OK", "SET src abc");
    const struct {
        const char *key, *write;
        bool aborts;
    } cases[] = {
        { "b", "SETBIT b 6 1", true },
        { "b", "SETBIT b 6 1", false },
        { "b", "SETBIT b 1000 0", true },
        { "b", "BITFIELD b SET u8 0 7", true },
        { "b", "BITFIELD b SET u8 0 7 GET u8 0", false },
        { "b", "BITFIELD b OVERFLOW FAIL INCRBY u8 0 255", false },
        { "d", "BITOP OR d src", true },
        { "d", "BITOP AND d nokey", true },
        { "d", "BITOP AND d nokey", false },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        watch_then_multi_ping(c, cases[i].key);
        redisReply *r = sc_cmd_line_or_fail(o, cases[i].write);
        cr_assert(r->type != REDIS_REPLY_ERROR, "%s: %s", cases[i].write, r->str);
        freeReplyObject(r);
        if (cases[i].aborts)
            exec_expect_nil(c, cases[i].write);
        else
            exec_expect_pong(c, cases[i].write);
    }
    redisFree(c);
    redisFree(o);
    sc_server_stop_or_fail(&srv);
}
