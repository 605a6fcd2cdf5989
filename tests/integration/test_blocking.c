/*
 * test_blocking.c - blocking list and sorted-set pops against a
 * multi-threaded server (--threads 4): BLPOP/BRPOP/BLMPOP, BRPOPLPUSH/BLMOVE
 * and BZPOPMIN/BZPOPMAX/BZMPOP woken by writes from other connections (which
 * usually sit on other workers), timeouts (Redis 7.0's exact bytes), FIFO
 * service of waiters, wake-up only after EXEC of a pushing transaction, a
 * disconnected waiter stealing nothing, INFO blocked_clients, pipelined
 * commands queued behind a blocked command, and many producers/consumers
 * delivering every element exactly once; sub-millisecond timeouts, waiters
 * served only by a value of the type they wait for, and values moved into
 * place (RENAME, COPY, MOVE, RESTORE).
 *
 * A waiter is a connection whose blocking command was sent (not read);
 * "blocked" is established by polling INFO clients blocked_clients from a
 * control connection before anything else happens. Client threads never
 * call Criterion assertions: they record the first failure and the main
 * thread asserts after joining. Every wait is bounded.
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
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

TestSuite(blocking, .fini = sc_server_cleanup, .timeout = 300);

/* ---- helpers ----------------------------------------------------------- */

/* Append a command and write it out without reading any reply. */
static void send_cmd(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = redisvAppendCommand(c, fmt, ap);
    va_end(ap);
    cr_assert_eq(rc, REDIS_OK, "append %s: %s", fmt, c->errstr);
    int done = 0;
    while (!done) cr_assert_eq(redisBufferWrite(c, &done), REDIS_OK, "write %s: %s", fmt, c->errstr);
}

/* Read the next reply (bounded by the context's timeout). */
static redisReply *next_reply(redisContext *c, const char *what)
{
    redisReply *r = NULL;
    cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK, "%s: no reply: %s", what, c->errstr);
    return r;
}

static void desc(const redisReply *r, sc_buf *b)
{
    if (!r) {
        sc_buf_printf(b, "(none)");
        return;
    }
    switch (r->type) {
    case REDIS_REPLY_NIL: sc_buf_printf(b, "(nil)"); break;
    case REDIS_REPLY_INTEGER: sc_buf_printf(b, "%lld", r->integer); break;
    case REDIS_REPLY_ERROR: sc_buf_printf(b, "(error %s)", r->str); break;
    case REDIS_REPLY_STATUS: sc_buf_printf(b, "+%s", r->str); break;
    case REDIS_REPLY_STRING: sc_buf_printf(b, "\"%s\"", r->str); break;
    case REDIS_REPLY_ARRAY:
        sc_buf_printf(b, "[");
        for (size_t i = 0; i < r->elements; i++) {
            if (i) sc_buf_printf(b, ", ");
            desc(r->element[i], b);
        }
        sc_buf_printf(b, "]");
        break;
    default: sc_buf_printf(b, "(type %d)", r->type);
    }
}

/* The reply, rendered as text, must equal `want` (see desc()); freed. */
static void expect_desc(redisReply *r, const char *want, const char *what)
{
    sc_buf b = { 0 };
    desc(r, &b);
    cr_assert_str_eq(b.data, want, "%s: got %s, want %s", what, b.data, want);
    sc_buf_free(&b);
    freeReplyObject(r);
}

/* Next reply on c rendered must equal want. */
static void reply_is(redisContext *c, const char *want, const char *what)
{
    expect_desc(next_reply(c, what), want, what);
}

/* Command on c whose rendered reply must equal want. */
static void cmd_is(redisContext *c, const char *want, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    cr_assert(r != NULL, "%s: connection broke: %s", fmt, c->errstr);
    expect_desc(r, want, fmt);
}

static long long blocked_clients(redisContext *ctl)
{
    return sc_info_ll_or_fail(ctl, "clients", "blocked_clients");
}

static void wait_blocked(redisContext *ctl, long long n, const char *what)
{
    bool ok = SC_WAIT_FOR(blocked_clients(ctl) == n, 5000);
    cr_assert(ok, "%s: blocked_clients is %lld, want %lld", what, blocked_clients(ctl), n);
}

/* Send a blocking command on c and wait until blocked_clients reaches n. */
static void block_on(redisContext *c, redisContext *ctl, long long n, const char *cmd)
{
    send_cmd(c, cmd);
    wait_blocked(ctl, n, cmd);
}

/* No byte arrives on c within ms (the reply is still pending). */
static void still_waiting(redisContext *c, int ms, const char *what)
{
    cr_assert(sc_raw_quiet(c->fd, ms), "%s: a reply arrived too early", what);
}

/* ---- wake-ups ---------------------------------------------------------- */

Test(blocking, blpop_woken_by_push_from_other_connection)
{
    sc_server_start_or_fail(&srv, threaded);
    redisContext *ctl = sc_connect_or_fail(&srv);
    cr_assert_eq(blocked_clients(ctl), 0);
    /* Several rounds with fresh connections, so waiter and pusher land on
     * different workers in some of them whatever the assignment policy. */
    for (int round = 0; round < 8; round++) {
        redisContext *w = sc_connect_or_fail(&srv);
        redisContext *p = sc_connect_or_fail(&srv);
        char cmd[64], want[128], what[64];
        snprintf(what, sizeof what, "round %d", round);
        snprintf(cmd, sizeof cmd, "%s list:%d 0", round % 2 ? "BRPOP" : "BLPOP", round);
        block_on(w, ctl, 1, cmd);
        still_waiting(w, 20, what);
        if (round % 2)
            cmd_is(p, "1", "RPUSH list:%d v%d", round, round);
        else
            cmd_is(p, "1", "LPUSH list:%d v%d", round, round);
        snprintf(want, sizeof want, "[\"list:%d\", \"v%d\"]", round, round);
        reply_is(w, want, what);
        cmd_is(p, "0", "LLEN list:%d", round);
        cmd_is(p, "0", "EXISTS list:%d", round);
        wait_blocked(ctl, 0, what);
        /* The connection is usable again afterwards. */
        cmd_is(w, "+PONG", "PING");
        redisFree(w);
        redisFree(p);
    }

    /* Data already there: no blocking at all. */
    cmd_is(ctl, "3", "RPUSH ready a b c");
    cmd_is(ctl, "[\"ready\", \"a\"]", "BLPOP ready 0");
    cmd_is(ctl, "[\"ready\", \"c\"]", "BRPOP ready 0");
    cmd_is(ctl, "[\"ready\", \"b\"]", "BLPOP ready 1");
    cmd_is(ctl, "0", "EXISTS ready");

    /* Wrong type: immediate WRONGTYPE; a waiter whose key becomes a string
     * keeps waiting and is served once the key is a list again. */
    cmd_is(ctl, "+OK", "SET str x");
    cmd_is(ctl, "(error WRONGTYPE Operation against a key holding the wrong kind of value)", "BLPOP str 0");
    redisContext *w = sc_connect_or_fail(&srv);
    block_on(w, ctl, 1, "BLPOP str2 0");
    cmd_is(ctl, "+OK", "SET str2 x");
    still_waiting(w, 100, "key became a string");
    cmd_is(ctl, "1", "DEL str2");
    cmd_is(ctl, "1", "RPUSH str2 q");
    reply_is(w, "[\"str2\", \"q\"]", "key became a list again");
    redisFree(w);

    redisFree(ctl);
    sc_server_stop_or_fail(&srv);
}

Test(blocking, timeouts)
{
    sc_server_start_or_fail(&srv, threaded);
    int fd = sc_raw_connect_or_fail(srv.port);
    static const struct {
        const char *cmd, *reply;
    } cases[] = {
        /* Redis 7.0 answers every blocking list/zset timeout with a null
         * array in RESP2, BLMOVE and BRPOPLPUSH included. */
        { "BLPOP k 0.1", "*-1\r\n" },
        { "BRPOP k other 0.1", "*-1\r\n" },
        { "BRPOPLPUSH k d 0.1", "*-1\r\n" },
        { "BLMOVE k d LEFT RIGHT 0.1", "*-1\r\n" },
        { "BLMPOP 0.1 2 k other LEFT", "*-1\r\n" },
        { "BZPOPMIN k 0.1", "*-1\r\n" },
        { "BZPOPMAX k 0.1", "*-1\r\n" },
        { "BZMPOP 0.1 1 k MIN", "*-1\r\n" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long long t0 = sc_now_ms();
        sc_raw_send_line_or_fail(fd, cases[i].cmd);
        cr_assert(sc_raw_expect(fd, cases[i].reply, 5000), "%s: wrong timeout reply", cases[i].cmd);
        long long elapsed = sc_now_ms() - t0;
        cr_assert(elapsed >= 90, "%s: answered after %lld ms, want >= 90", cases[i].cmd, elapsed);
        cr_assert(elapsed < sc_scaled_ms(2000), "%s: answered after %lld ms", cases[i].cmd, elapsed);
    }

    /* RESP3: null. */
    sc_raw_send_line_or_fail(fd, "HELLO 3");
    sc_reader rd;
    sc_reader_init(&rd, fd);
    char *out = NULL;
    size_t len = 0;
    cr_assert(sc_reader_next(&rd, &out, &len, 5000), "HELLO 3: no reply");
    free(out);
    cr_assert_eq(rd.pos, rd.in.len, "extra bytes after HELLO");
    sc_reader_free(&rd);
    static const char *const resp3[] = { "BLPOP k 0.1", "BLMOVE k d LEFT RIGHT 0.1", "BZPOPMIN k 0.1" };
    for (size_t i = 0; i < sizeof resp3 / sizeof resp3[0]; i++) {
        long long t0 = sc_now_ms();
        sc_raw_send_line_or_fail(fd, resp3[i]);
        cr_assert(sc_raw_expect(fd, "_\r\n", 5000), "RESP3 %s: wrong timeout reply", resp3[i]);
        cr_assert(sc_now_ms() - t0 >= 90, "RESP3 %s: answered too early", resp3[i]);
    }
    close(fd);

    /* Bad timeouts, and the client is not left blocked. */
    redisContext *c = sc_connect_or_fail(&srv);
    cmd_is(c, "(error ERR timeout is negative)", "BLPOP k -1");
    cmd_is(c, "(error ERR timeout is not a float or out of range)", "BLPOP k abc");
    cmd_is(c, "(error ERR timeout is negative)", "BZPOPMIN k -0.5");
    cmd_is(c, "(error ERR timeout is not a float or out of range)", "BLMOVE k d LEFT RIGHT x");
    cr_assert_eq(blocked_clients(c), 0);

    /* A longer timeout really waits: nothing after 300 ms, nil by ~500. */
    long long t0 = sc_now_ms();
    send_cmd(c, "BLPOP k 0.5");
    still_waiting(c, 300, "BLPOP k 0.5");
    reply_is(c, "(nil)", "BLPOP k 0.5");
    cr_assert(sc_now_ms() - t0 >= 450, "BLPOP k 0.5 answered after %lld ms", sc_now_ms() - t0);
    cr_assert_eq(blocked_clients(c), 0);
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

Test(blocking, waiters_served_in_arrival_order)
{
    sc_server_start_or_fail(&srv, threaded);
    redisContext *ctl = sc_connect_or_fail(&srv);
    redisContext *w[3];
    for (int i = 0; i < 3; i++) {
        w[i] = sc_connect_or_fail(&srv);
        block_on(w[i], ctl, i + 1, "BLPOP k 0");
    }
    cmd_is(ctl, "3", "RPUSH k a b c");
    reply_is(w[0], "[\"k\", \"a\"]", "first waiter");
    reply_is(w[1], "[\"k\", \"b\"]", "second waiter");
    reply_is(w[2], "[\"k\", \"c\"]", "third waiter");
    cmd_is(ctl, "0", "EXISTS k");
    wait_blocked(ctl, 0, "all served");

    /* One element at a time: only the oldest waiter is served. */
    for (int i = 0; i < 3; i++) block_on(w[i], ctl, i + 1, "BRPOP k2 0");
    cmd_is(ctl, "1", "LPUSH k2 x");
    reply_is(w[0], "[\"k2\", \"x\"]", "oldest waiter");
    still_waiting(w[1], 50, "second waiter after one element");
    still_waiting(w[2], 10, "third waiter after one element");
    wait_blocked(ctl, 2, "two left");
    cmd_is(ctl, "1", "LPUSH k2 y");
    reply_is(w[1], "[\"k2\", \"y\"]", "second waiter");
    still_waiting(w[2], 50, "third waiter after two elements");
    cmd_is(ctl, "1", "LPUSH k2 z");
    reply_is(w[2], "[\"k2\", \"z\"]", "third waiter");

    /* A served waiter that blocks again goes to the back of the queue. */
    block_on(w[0], ctl, 1, "BLPOP k3 0");
    block_on(w[1], ctl, 2, "BLPOP k3 0");
    cmd_is(ctl, "1", "RPUSH k3 1");
    reply_is(w[0], "[\"k3\", \"1\"]", "w0 first");
    block_on(w[0], ctl, 2, "BLPOP k3 0");
    cmd_is(ctl, "2", "RPUSH k3 2 3");
    reply_is(w[1], "[\"k3\", \"2\"]", "w1 before w0's second block");
    reply_is(w[0], "[\"k3\", \"3\"]", "w0 after w1");

    for (int i = 0; i < 3; i++) redisFree(w[i]);
    redisFree(ctl);
    sc_server_stop_or_fail(&srv);
}

Test(blocking, brpoplpush_and_blmove_woken)
{
    sc_server_start_or_fail(&srv, threaded);
    redisContext *ctl = sc_connect_or_fail(&srv);
    redisContext *a = sc_connect_or_fail(&srv);
    redisContext *b = sc_connect_or_fail(&srv);

    block_on(a, ctl, 1, "BRPOPLPUSH src dst 0");
    cmd_is(ctl, "1", "RPUSH src x");
    reply_is(a, "\"x\"", "BRPOPLPUSH");
    cmd_is(ctl, "[\"x\"]", "LRANGE dst 0 -1");
    cmd_is(ctl, "0", "EXISTS src");

    block_on(a, ctl, 1, "BLMOVE src2 dst2 RIGHT LEFT 0");
    cmd_is(ctl, "+OK", "SET {unrelated} x");
    cmd_is(ctl, "2", "RPUSH src2 p q");
    reply_is(a, "\"q\"", "BLMOVE RIGHT LEFT");
    cmd_is(ctl, "[\"p\"]", "LRANGE src2 0 -1");
    cmd_is(ctl, "[\"q\"]", "LRANGE dst2 0 -1");

    /* The element BLMOVE pushes to its destination wakes that key's waiter. */
    block_on(a, ctl, 1, "BLMOVE s3 d3 LEFT RIGHT 0");
    block_on(b, ctl, 2, "BLPOP d3 0");
    cmd_is(ctl, "1", "RPUSH s3 y");
    reply_is(a, "\"y\"", "BLMOVE in a chain");
    reply_is(b, "[\"d3\", \"y\"]", "BLPOP on BLMOVE's destination");
    cmd_is(ctl, "0", "EXISTS s3 d3");
    wait_blocked(ctl, 0, "chain served");

    /* Source and destination the same key. */
    block_on(a, ctl, 1, "BLMOVE rot rot LEFT RIGHT 0");
    cmd_is(ctl, "1", "RPUSH rot r");
    reply_is(a, "\"r\"", "BLMOVE rot rot");
    cmd_is(ctl, "[\"r\"]", "LRANGE rot 0 -1");

    /* Destination of the wrong type: the pop is not done. */
    cmd_is(ctl, "+OK", "SET strdst x");
    cmd_is(ctl, "1", "RPUSH s4 e");
    cmd_is(ctl, "(error WRONGTYPE Operation against a key holding the wrong kind of value)",
           "BLMOVE s4 strdst LEFT LEFT 0");
    cmd_is(ctl, "[\"e\"]", "LRANGE s4 0 -1");

    redisFree(a);
    redisFree(b);
    redisFree(ctl);
    sc_server_stop_or_fail(&srv);
}

Test(blocking, push_inside_multi_wakes_after_exec)
{
    sc_server_start_or_fail(&srv, threaded);
    redisContext *ctl = sc_connect_or_fail(&srv);
    redisContext *w = sc_connect_or_fail(&srv);
    redisContext *p = sc_connect_or_fail(&srv);

    block_on(w, ctl, 1, "BLPOP k 0");
    cmd_is(p, "+OK", "MULTI");
    cmd_is(p, "+QUEUED", "LPUSH k v");
    still_waiting(w, 100, "after a queued LPUSH");
    cmd_is(p, "+QUEUED", "LPUSH k w");
    cmd_is(p, "+QUEUED", "SET other 1");
    still_waiting(w, 50, "before EXEC");
    cmd_is(p, "[1, 2, +OK]", "EXEC");
    /* Served after the whole transaction: it pops the head pushed last. */
    reply_is(w, "[\"k\", \"w\"]", "waiter after EXEC");
    cmd_is(ctl, "[\"v\"]", "LRANGE k 0 -1");

    /* Pushed and deleted in one transaction: the waiter keeps waiting. */
    block_on(w, ctl, 1, "BLPOP k2 0");
    cmd_is(p, "+OK", "MULTI");
    cmd_is(p, "+QUEUED", "RPUSH k2 a");
    cmd_is(p, "+QUEUED", "DEL k2");
    cmd_is(p, "[1, 1]", "EXEC");
    still_waiting(w, 100, "push then DEL in one EXEC");
    cr_assert_eq(blocked_clients(ctl), 1);
    cmd_is(p, "1", "RPUSH k2 z");
    reply_is(w, "[\"k2\", \"z\"]", "waiter after a later push");

    /* Several keys pushed in one transaction wake each key's waiter. */
    redisContext *w2 = sc_connect_or_fail(&srv);
    block_on(w, ctl, 1, "BLPOP m1 0");
    block_on(w2, ctl, 2, "BRPOP m2 0");
    cmd_is(p, "+OK", "MULTI");
    cmd_is(p, "+QUEUED", "RPUSH m1 a b");
    cmd_is(p, "+QUEUED", "RPUSH m2 c d");
    cmd_is(p, "[2, 2]", "EXEC");
    reply_is(w, "[\"m1\", \"a\"]", "m1 waiter");
    reply_is(w2, "[\"m2\", \"d\"]", "m2 waiter");
    cmd_is(ctl, "[\"b\"]", "LRANGE m1 0 -1");
    cmd_is(ctl, "[\"c\"]", "LRANGE m2 0 -1");

    /* Inside MULTI a blocking command does not block. */
    cmd_is(p, "+OK", "MULTI");
    cmd_is(p, "+QUEUED", "BLPOP nothing 0");
    cmd_is(p, "+QUEUED", "BZPOPMIN nothing 0");
    cmd_is(p, "+QUEUED", "LPUSH m1 x");
    cmd_is(p, "[(nil), (nil), 2]", "EXEC");
    int fd = sc_raw_connect_or_fail(srv.port);
    sc_raw_send_line_or_fail(fd, "MULTI");
    sc_raw_send_line_or_fail(fd, "BLMOVE nothing d LEFT LEFT 0");
    sc_raw_send_line_or_fail(fd, "BRPOPLPUSH nothing d 0");
    sc_raw_send_line_or_fail(fd, "BLPOP nothing 0");
    sc_raw_send_line_or_fail(fd, "EXEC");
    cr_assert(sc_raw_expect(fd, "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n$-1\r\n$-1\r\n*-1\r\n", 5000),
              "blocking commands inside MULTI (raw bytes)");
    close(fd);

    redisFree(w2);
    redisFree(w);
    redisFree(p);
    redisFree(ctl);
    sc_server_stop_or_fail(&srv);
}

Test(blocking, multiple_keys)
{
    sc_server_start_or_fail(&srv, threaded);
    redisContext *ctl = sc_connect_or_fail(&srv);
    redisContext *w = sc_connect_or_fail(&srv);

    /* Non-empty keys: the first one in argument order. */
    cmd_is(ctl, "1", "RPUSH k2 x");
    cmd_is(ctl, "1", "RPUSH k3 y");
    cmd_is(ctl, "[\"k2\", \"x\"]", "BLPOP k1 k2 k3 0");
    cmd_is(ctl, "[\"k3\", \"y\"]", "BRPOP k1 k2 k3 0");

    /* Blocked on three keys (three slots), woken by the last. */
    block_on(w, ctl, 1, "BLPOP k1 k2 k3 0");
    cmd_is(ctl, "1", "RPUSH k3 z");
    reply_is(w, "[\"k3\", \"z\"]", "BLPOP k1 k2 k3 woken by k3");
    wait_blocked(ctl, 0, "served");
    /* ...and no longer registered on k1/k2: a push there stays. */
    cmd_is(ctl, "1", "RPUSH k1 stays");
    cmd_is(ctl, "[\"stays\"]", "LRANGE k1 0 -1");
    cmd_is(ctl, "1", "DEL k1");

    /* A hash tag keeps all keys in one slot. */
    block_on(w, ctl, 1, "BRPOP {t}a {t}b 0");
    cmd_is(ctl, "2", "RPUSH {t}b 1 2");
    reply_is(w, "[\"{t}b\", \"2\"]", "BRPOP on a hash tag");

    /* BLMPOP. */
    cmd_is(ctl, "2", "RPUSH m2 x y");
    cmd_is(ctl, "[\"m2\", [\"x\", \"y\"]]", "BLMPOP 0 2 m1 m2 LEFT COUNT 5");
    block_on(w, ctl, 1, "BLMPOP 0 3 m1 m2 m3 RIGHT COUNT 2");
    cmd_is(ctl, "3", "RPUSH m3 a b c");
    reply_is(w, "[\"m3\", [\"c\", \"b\"]]", "BLMPOP woken");
    cmd_is(ctl, "[\"a\"]", "LRANGE m3 0 -1");

    redisFree(w);
    redisFree(ctl);
    sc_server_stop_or_fail(&srv);
}

Test(blocking, disconnected_waiter_does_not_steal)
{
    sc_server_start_or_fail(&srv, threaded);
    redisContext *ctl = sc_connect_or_fail(&srv);

    redisContext *gone = sc_connect_or_fail(&srv);
    block_on(gone, ctl, 1, "BLPOP k 0");
    redisFree(gone);
    wait_blocked(ctl, 0, "after the waiter disconnected");
    cmd_is(ctl, "1", "LPUSH k v");
    redisContext *o = sc_connect_or_fail(&srv);
    cmd_is(o, "\"v\"", "LPOP k");

    /* The first of two waiters leaves: the second gets the element. */
    gone = sc_connect_or_fail(&srv);
    block_on(gone, ctl, 1, "BLPOP k 0");
    block_on(o, ctl, 2, "BLPOP k 0");
    redisFree(gone);
    wait_blocked(ctl, 1, "after the first waiter disconnected");
    cmd_is(ctl, "1", "RPUSH k a");
    reply_is(o, "[\"k\", \"a\"]", "remaining waiter");
    cmd_is(ctl, "0", "EXISTS k");

    /* Many waiters leave across several keys (and a BLMOVE and a BZPOPMIN);
     * nothing pushed afterwards disappears. */
    redisContext *many[12];
    for (int i = 0; i < 12; i++) {
        many[i] = sc_connect_or_fail(&srv);
        char cmd[64];
        if (i % 4 == 3) snprintf(cmd, sizeof cmd, "BLMOVE q%d dst LEFT LEFT 0", i % 3);
        else if (i % 4 == 2) snprintf(cmd, sizeof cmd, "BZPOPMIN z%d 0", i % 3);
        else snprintf(cmd, sizeof cmd, "BLPOP q%d q%d 0", i % 3, (i + 1) % 3);
        block_on(many[i], ctl, i + 1, cmd);
    }
    for (int i = 0; i < 12; i++) redisFree(many[i]);
    wait_blocked(ctl, 0, "after 12 waiters disconnected");
    for (int i = 0; i < 3; i++) {
        cmd_is(ctl, "2", "RPUSH q%d a b", i);
        cmd_is(ctl, "1", "ZADD z%d 1 m", i);
    }
    for (int i = 0; i < 3; i++) {
        cmd_is(o, "2", "LLEN q%d", i);
        cmd_is(o, "1", "ZCARD z%d", i);
    }
    cmd_is(o, "0", "EXISTS dst");

    redisFree(o);
    redisFree(ctl);
    sc_server_stop_or_fail(&srv);
}

Test(blocking, bzpop_woken_by_zadd)
{
    sc_server_start_or_fail(&srv, threaded);
    redisContext *ctl = sc_connect_or_fail(&srv);
    redisContext *w = sc_connect_or_fail(&srv);

    block_on(w, ctl, 1, "BZPOPMIN z 0");
    cmd_is(ctl, "2", "ZADD z 2 b 1 a");
    reply_is(w, "[\"z\", \"a\", \"1\"]", "BZPOPMIN");
    cmd_is(ctl, "[\"b\", \"2\"]", "ZRANGE z 0 -1 WITHSCORES");

    block_on(w, ctl, 1, "BZPOPMAX z2 z3 0");
    cmd_is(ctl, "3", "ZADD z3 1 a 3.5 c 2 b");
    reply_is(w, "[\"z3\", \"c\", \"3.5\"]", "BZPOPMAX");
    cmd_is(ctl, "2", "ZCARD z3");

    block_on(w, ctl, 1, "BZMPOP 0 2 z4 z5 MIN COUNT 2");
    cmd_is(ctl, "3", "ZADD z5 1 x 2 y 3 z");
    reply_is(w, "[\"z5\", [[\"x\", \"1\"], [\"y\", \"2\"]]]", "BZMPOP");
    cmd_is(ctl, "[\"z\"]", "ZRANGE z5 0 -1");

    /* ZINCRBY creating the key wakes too. */
    block_on(w, ctl, 1, "BZPOPMIN z6 0");
    cmd_is(ctl, "\"5\"", "ZINCRBY z6 5 m");
    reply_is(w, "[\"z6\", \"m\", \"5\"]", "BZPOPMIN after ZINCRBY");

    /* RESP3 answers the score as a double (raw socket: hiredis 0.14 has no
     * RESP3). */
    int fd = sc_raw_connect_or_fail(srv.port);
    sc_raw_send_line_or_fail(fd, "HELLO 3");
    sc_reader rd;
    sc_reader_init(&rd, fd);
    char *out = NULL;
    size_t len = 0;
    cr_assert(sc_reader_next(&rd, &out, &len, 5000), "HELLO 3: no reply");
    free(out);
    cr_assert_eq(rd.pos, rd.in.len, "extra bytes after HELLO");
    sc_reader_free(&rd);
    sc_raw_send_line_or_fail(fd, "BZPOPMIN z7 0");
    wait_blocked(ctl, 1, "RESP3 BZPOPMIN");
    cmd_is(ctl, "1", "ZADD z7 1.5 m");
    cr_assert(sc_raw_expect(fd, "*3\r\n$2\r\nz7\r\n$1\r\nm\r\n,1.5\r\n", 5000), "RESP3 BZPOPMIN reply");
    close(fd);

    redisFree(w);
    redisFree(ctl);
    sc_server_stop_or_fail(&srv);
}

Test(blocking, info_blocked_clients)
{
    sc_server_start_or_fail(&srv, threaded);
    redisContext *ctl = sc_connect_or_fail(&srv);
    cr_assert_eq(blocked_clients(ctl), 0);
    redisContext *w[5];
    /* The last one times out: long enough for the count of 5 to be seen
     * even on a slow (sanitizer) build. */
    char timed[64];
    snprintf(timed, sizeof timed, "BLPOP l4 %.3f", sc_scaled_ms(1000) / 1000.0);
    const char *const cmds[] = {
        "BLPOP l1 0", "BRPOP l2 0", "BLMOVE l3 d LEFT LEFT 0", "BZPOPMIN z1 0", timed,
    };
    for (int i = 0; i < 5; i++) {
        w[i] = sc_connect_or_fail(&srv);
        block_on(w[i], ctl, i + 1, cmds[i]);
    }
    cr_assert_eq(blocked_clients(ctl), 5);

    /* The timeout releases one. */
    reply_is(w[4], "(nil)", "BLPOP l4 (timeout)");
    wait_blocked(ctl, 4, "after a timeout");
    /* Served. */
    cmd_is(ctl, "1", "RPUSH l1 x");
    reply_is(w[0], "[\"l1\", \"x\"]", "l1 waiter");
    wait_blocked(ctl, 3, "after a wake-up");
    /* Disconnected. */
    redisFree(w[1]);
    w[1] = NULL;
    wait_blocked(ctl, 2, "after a disconnect");
    /* A write to an unrelated key changes nothing. */
    cmd_is(ctl, "1", "RPUSH unrelated x");
    cr_assert_eq(blocked_clients(ctl), 2);
    cmd_is(ctl, "1", "RPUSH l3 y");
    reply_is(w[2], "\"y\"", "BLMOVE waiter");
    cmd_is(ctl, "1", "ZADD z1 1 m");
    reply_is(w[3], "[\"z1\", \"m\", \"1\"]", "BZPOPMIN waiter");
    wait_blocked(ctl, 0, "all released");
    for (int i = 0; i < 5; i++)
        if (w[i]) redisFree(w[i]);
    redisFree(ctl);
    sc_server_stop_or_fail(&srv);
}

Test(blocking, pipelined_commands_wait_behind_blocked_command)
{
    sc_server_start_or_fail(&srv, threaded);
    redisContext *ctl = sc_connect_or_fail(&srv);
    redisContext *w = sc_connect_or_fail(&srv);

    /* BLPOP k 0 / SET marker done / GET marker in one write. */
    cr_assert_eq(redisAppendCommand(w, "BLPOP k 0"), REDIS_OK);
    cr_assert_eq(redisAppendCommand(w, "SET marker done"), REDIS_OK);
    cr_assert_eq(redisAppendCommand(w, "INCR counter"), REDIS_OK);
    send_cmd(w, "GET marker");
    wait_blocked(ctl, 1, "pipelined BLPOP");
    sc_sleep_ms(100);
    cmd_is(ctl, "(nil)", "GET marker");
    cmd_is(ctl, "(nil)", "GET counter");
    still_waiting(w, 10, "pipeline behind BLPOP");
    cmd_is(ctl, "1", "LPUSH k v");
    reply_is(w, "[\"k\", \"v\"]", "BLPOP");
    reply_is(w, "+OK", "SET after BLPOP");
    reply_is(w, "1", "INCR after BLPOP");
    reply_is(w, "\"done\"", "GET after BLPOP");
    cmd_is(ctl, "\"done\"", "GET marker");

    /* Behind a timed-out BLPOP. */
    cr_assert_eq(redisAppendCommand(w, "BLPOP nothing 0.1"), REDIS_OK);
    cr_assert_eq(redisAppendCommand(w, "INCR counter"), REDIS_OK);
    send_cmd(w, "PING");
    reply_is(w, "(nil)", "BLPOP timeout");
    reply_is(w, "2", "INCR after timeout");
    reply_is(w, "+PONG", "PING after timeout");

    /* Two blocking commands in one pipeline, each served in turn. */
    cr_assert_eq(redisAppendCommand(w, "BLPOP p1 0"), REDIS_OK);
    send_cmd(w, "BLPOP p2 0");
    wait_blocked(ctl, 1, "first of two pipelined BLPOPs");
    cmd_is(ctl, "1", "RPUSH p2 second");   /* nobody waits on p2 yet */
    cmd_is(ctl, "1", "RPUSH p1 first");
    reply_is(w, "[\"p1\", \"first\"]", "first pipelined BLPOP");
    reply_is(w, "[\"p2\", \"second\"]", "second pipelined BLPOP");
    wait_blocked(ctl, 0, "pipeline done");

    redisFree(w);
    redisFree(ctl);
    sc_server_stop_or_fail(&srv);
}

/* ---- issue 9: short timeouts, waited types, keys moved into place ------ */

/* Any timeout > 0 times out, however small (Redis rounds it up to 1 ms);
 * the waiter leaves nothing behind. */
Test(blocking, sub_millisecond_timeouts)
{
    sc_server_start_or_fail(&srv, threaded);
    redisContext *ctl = sc_connect_or_fail(&srv);
    int fd = sc_raw_connect_or_fail(srv.port);
    static const char *const cmds[] = {
        "BLPOP nolist %s",           "BRPOP nolist other %s",     "BLMPOP %s 1 nolist LEFT",
        "BRPOPLPUSH nolist d %s",    "BLMOVE nolist d LEFT RIGHT %s",
        "BZPOPMIN noz %s",           "BZPOPMAX noz %s",           "BZMPOP %s 1 noz MIN",
    };
    static const char *const timeouts[] = { "0.001", "0.0001", "0.0009", "1e-9" };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        for (size_t t = 0; t < sizeof timeouts / sizeof timeouts[0]; t++) {
            char line[96];
            snprintf(line, sizeof line, cmds[i], timeouts[t]);
            long long t0 = sc_now_ms();
            sc_raw_send_line_or_fail(fd, line);
            cr_assert(sc_raw_expect(fd, "*-1\r\n", sc_scaled_ms(2000)), "%s: no null-array timeout reply", line);
            cr_assert(sc_now_ms() - t0 < sc_scaled_ms(1000), "%s: answered after %lld ms", line,
                      sc_now_ms() - t0);
        }
    }
    cr_assert_eq(blocked_clients(ctl), 0);

    /* A timed-out waiter leaves no registration behind: the next waiter on
     * the same key gets the element, and the timed-out connection works. */
    redisContext *a = sc_connect_or_fail(&srv);
    redisContext *b = sc_connect_or_fail(&srv);
    cmd_is(a, "(nil)", "BLPOP blist1 0.001");
    block_on(b, ctl, 1, "BRPOP blist1 1");
    cmd_is(ctl, "1", "RPUSH blist1 foo");
    reply_is(b, "[\"blist1\", \"foo\"]", "BRPOP after a timed-out BLPOP on the same key");
    cmd_is(a, "+PONG", "PING");
    cmd_is(ctl, "0", "EXISTS blist1");
    wait_blocked(ctl, 0, "after the serve");
    close(fd);
    redisFree(a);
    redisFree(b);
    redisFree(ctl);
    sc_server_stop_or_fail(&srv);
}

/* A waiter is served only when, after the command or transaction that
 * signalled its key, the key holds a value of the type it waits for. */
Test(blocking, served_only_by_the_waited_type)
{
    sc_server_start_or_fail(&srv, threaded);
    redisContext *ctl = sc_connect_or_fail(&srv);
    redisContext *w = sc_connect_or_fail(&srv);
    redisContext *p = sc_connect_or_fail(&srv);

    /* The sequence: at EXEC's end `list` is a string. */
    block_on(w, ctl, 1, "BLPOP list 0");
    cmd_is(p, "+OK", "MULTI");
    cmd_is(p, "+QUEUED", "LPUSH list a");
    cmd_is(p, "+QUEUED", "DEL list");
    cmd_is(p, "+QUEUED", "SET list foo");
    cmd_is(p, "[1, 1, +OK]", "EXEC");
    still_waiting(w, 100, "BLPOP: key is a string after EXEC");
    cmd_is(p, "1", "DEL list");
    cmd_is(p, "1", "LPUSH list b");
    reply_is(w, "[\"list\", \"b\"]", "BLPOP once the key is a list again");

    /* The same for BLMPOP, BLMOVE (source) and the sorted-set family. */
    static const struct {
        const char *block, *push, *want;
    } fam[] = {
        { "BLMPOP 0 1 k LEFT", "RPUSH k x", "[\"k\", [\"x\"]]" },
        { "BLMOVE k dst LEFT LEFT 0", "RPUSH k x", "\"x\"" },
        { "BRPOPLPUSH k dst 0", "RPUSH k x", "\"x\"" },
        { "BZPOPMIN k 0", "ZADD k 1 x", "[\"k\", \"x\", \"1\"]" },
        { "BZMPOP 0 1 k MAX", "ZADD k 1 x", "[\"k\", [[\"x\", \"1\"]]]" },
    };
    for (size_t i = 0; i < sizeof fam / sizeof fam[0]; i++) {
        cmd_is(ctl, "+OK", "FLUSHALL");
        block_on(w, ctl, 1, fam[i].block);
        cmd_is(p, "+OK", "MULTI");
        cmd_is(p, "+QUEUED", fam[i].push);
        cmd_is(p, "+QUEUED", "DEL k");
        cmd_is(p, "+QUEUED", "SET k foo");
        cmd_is(p, "[1, 1, +OK]", "EXEC");
        still_waiting(w, 100, fam[i].block);
        cmd_is(p, "1", "DEL k");
        cmd_is(p, "1", fam[i].push);
        reply_is(w, fam[i].want, fam[i].block);
        wait_blocked(ctl, 0, fam[i].block);
    }

    /* Two waiters of different types on one key: the one whose type the
     * key now holds is served, even behind the other. */
    cmd_is(ctl, "+OK", "FLUSHALL");
    redisContext *w2 = sc_connect_or_fail(&srv);
    block_on(w, ctl, 1, "BLPOP mixed 0");
    block_on(w2, ctl, 2, "BZPOPMIN mixed 0");
    cmd_is(p, "1", "ZADD mixed 7 m");
    reply_is(w2, "[\"mixed\", \"m\", \"7\"]", "BZPOPMIN behind a BLPOP waiter");
    still_waiting(w, 100, "BLPOP while the key was a sorted set");
    cmd_is(p, "1", "RPUSH mixed l");
    reply_is(w, "[\"mixed\", \"l\"]", "BLPOP once the key is a list");

    /* Two keys: the first became a string, the second got data. */
    block_on(w, ctl, 1, "BLPOP k1 k2 0");
    cmd_is(p, "+OK", "MULTI");
    cmd_is(p, "+QUEUED", "LPUSH k1 a");
    cmd_is(p, "+QUEUED", "DEL k1");
    cmd_is(p, "+QUEUED", "SET k1 s");
    cmd_is(p, "+QUEUED", "RPUSH k2 b");
    cmd_is(p, "[1, 1, +OK, 1]", "EXEC");
    reply_is(w, "[\"k2\", \"b\"]", "BLPOP k1 k2 with k1 a string");

    /* BLMOVE whose destination became another type: WRONGTYPE, as Redis
     * answers it when it serves the waiter. */
    block_on(w, ctl, 1, "BLMOVE src dst2 LEFT LEFT 0");
    cmd_is(p, "+OK", "SET dst2 x");
    cmd_is(p, "1", "RPUSH src v");
    reply_is(w, "(error WRONGTYPE Operation against a key holding the wrong kind of value)", "BLMOVE to a string");
    cmd_is(ctl, "[\"v\"]", "LRANGE src 0 -1");

    redisFree(w2);
    redisFree(w);
    redisFree(p);
    redisFree(ctl);
    sc_server_stop_or_fail(&srv);
}

/* A value moved under a waited key (RENAME, COPY, MOVE, RESTORE) serves
 * the waiter with that value's content, also inside a transaction. */
Test(blocking, key_moved_into_place)
{
    sc_server_start_or_fail(&srv, threaded);
    redisContext *ctl = sc_connect_or_fail(&srv);
    redisContext *w = sc_connect_or_fail(&srv);
    redisContext *p = sc_connect_or_fail(&srv);
    redisContext *db1 = sc_connect_or_fail(&srv);
    cmd_is(db1, "+OK", "SELECT 1");

    static const char *const pops[] = { "BLPOP foo{t} 0", "BLMPOP 0 1 foo{t} LEFT" };
    static const char *const got[] = { "[\"foo{t}\", \"hij\"]", "[\"foo{t}\", [\"hij\"]]" };
    for (int i = 0; i < 2; i++) {
        /* RENAME */
        block_on(w, ctl, 1, pops[i]);
        cmd_is(p, "3", "LPUSH bob{t} abc def hij");
        cmd_is(p, "+OK", "RENAME bob{t} foo{t}");
        reply_is(w, got[i], "after RENAME");
        cmd_is(p, "[\"def\", \"abc\"]", "LRANGE foo{t} 0 -1");
        cmd_is(p, "1", "DEL foo{t}");
        /* COPY */
        block_on(w, ctl, 1, pops[i]);
        cmd_is(p, "3", "LPUSH bob{t} abc def hij");
        cmd_is(p, "1", "COPY bob{t} foo{t}");
        reply_is(w, got[i], "after COPY");
        /* RESTORE */
        cmd_is(p, "2", "DEL foo{t} bob{t}");
        cmd_is(p, "3", "LPUSH bob{t} abc def hij");
        redisReply *d = sc_cmd_or_fail(p, "DUMP bob{t}");
        cr_assert_eq(d->type, REDIS_REPLY_STRING, "DUMP");
        block_on(w, ctl, 1, pops[i]);
        cmd_is(p, "+OK", "RESTORE foo{t} 0 %b", d->str, d->len);
        freeReplyObject(d);
        reply_is(w, got[i], "after RESTORE");
        /* MOVE from database 1 */
        cmd_is(p, "2", "DEL foo{t} bob{t}");
        block_on(w, ctl, 1, pops[i]);
        cmd_is(db1, "3", "LPUSH foo{t} abc def hij");
        cmd_is(db1, "1", "MOVE foo{t} 0");
        reply_is(w, got[i], "after MOVE");
        cmd_is(p, "1", "DEL foo{t}");
        /* Inside MULTI: the renamed value replaces a pushed one. */
        block_on(w, ctl, 1, pops[i]);
        cmd_is(p, "3", "LPUSH bob{t} abc def hij");
        cmd_is(p, "+OK", "MULTI");
        cmd_is(p, "+QUEUED", "LPUSH foo{t} zzz");
        cmd_is(p, "+QUEUED", "RENAME bob{t} foo{t}");
        cmd_is(p, "[1, +OK]", "EXEC");
        reply_is(w, got[i], "after RENAME inside MULTI");
        cmd_is(p, "1", "DEL foo{t}");
    }

    /* A sorted set renamed onto a list waiter's key does not serve it. */
    block_on(w, ctl, 1, "BLPOP foo{t} 0");
    cmd_is(p, "1", "ZADD zs{t} 1 m");
    cmd_is(p, "+OK", "RENAME zs{t} foo{t}");
    still_waiting(w, 100, "sorted set renamed onto a BLPOP key");
    redisContext *zw = sc_connect_or_fail(&srv);
    cmd_is(zw, "[\"foo{t}\", \"m\", \"1\"]", "BZPOPMIN foo{t} 0");
    cmd_is(p, "1", "RPUSH bar{t} l");
    cmd_is(p, "+OK", "RENAME bar{t} foo{t}");
    reply_is(w, "[\"foo{t}\", \"l\"]", "list renamed into place");

    redisFree(zw);
    redisFree(db1);
    redisFree(w);
    redisFree(p);
    redisFree(ctl);
    sc_server_stop_or_fail(&srv);
}

/* ---- producers and consumers ------------------------------------------- */

#define PRODUCERS 4
#define CONSUMERS 8
#define PER_PRODUCER 300
#define TOTAL (PRODUCERS * PER_PRODUCER)

static atomic_int delivered;
static atomic_int seen[TOTAL];
static long long pc_deadline;

static void *producer(void *arg)
{
    int id = (int)(intptr_t)arg;
    redisContext *c = sc_thread_connect(&srv, 30000);
    if (!c) return NULL;
    for (int i = 0; i < PER_PRODUCER && sc_thread_failures() == 0; i++) {
        int v = id * PER_PRODUCER + i;
        redisReply *r = redisCommand(c, "RPUSH %s %d", v % 2 ? "q1" : "q2", v);
        if (!r || r->type != REDIS_REPLY_INTEGER) {
            sc_thread_fail("producer %d: RPUSH: %s", id, r ? (r->str ? r->str : "bad type") : c->errstr);
            if (r) freeReplyObject(r);
            break;
        }
        freeReplyObject(r);
        if (i % 50 == 0) usleep(1000);   /* let consumers block now and then */
    }
    redisFree(c);
    return NULL;
}

static void *consumer(void *arg)
{
    int id = (int)(intptr_t)arg;
    redisContext *c = sc_thread_connect(&srv, 30000);
    if (!c) return NULL;
    while (atomic_load(&delivered) < TOTAL && sc_thread_failures() == 0) {
        if (sc_now_ms() > pc_deadline) {
            sc_thread_fail("consumer %d: only %d of %d delivered before the deadline", id, atomic_load(&delivered),
                           TOTAL);
            break;
        }
        redisReply *r = redisCommand(c, id % 2 ? "BLPOP q1 q2 0.2" : "BRPOP q2 q1 0.2");
        if (!r) {
            sc_thread_fail("consumer %d: %s", id, c->errstr);
            break;
        }
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[1]->type == REDIS_REPLY_STRING) {
            int v = atoi(r->element[1]->str);
            const char *want = v % 2 ? "q1" : "q2";
            if (v < 0 || v >= TOTAL)
                sc_thread_fail("consumer %d: popped %s", id, r->element[1]->str);
            else if (strcmp(r->element[0]->str, want) != 0)
                sc_thread_fail("consumer %d: %d popped from %s", id, v, r->element[0]->str);
            else if (atomic_fetch_add(&seen[v], 1) != 0)
                sc_thread_fail("consumer %d: %d delivered twice", id, v);
            atomic_fetch_add(&delivered, 1);
        } else if (r->type != REDIS_REPLY_NIL) {
            sc_thread_fail("consumer %d: reply type %d", id, r->type);
        }
        freeReplyObject(r);
    }
    redisFree(c);
    return NULL;
}

Test(blocking, producers_consumers_exactly_once)
{
    sc_server_start_or_fail(&srv, threaded);
    sc_thread_fail_reset();
    atomic_store(&delivered, 0);
    for (int i = 0; i < TOTAL; i++) atomic_store(&seen[i], 0);
    pc_deadline = sc_now_ms() + sc_scaled_ms(60000);
    pthread_t th[PRODUCERS + CONSUMERS];
    for (int i = 0; i < CONSUMERS; i++)
        cr_assert(pthread_create(&th[i], NULL, consumer, (void *)(intptr_t)i) == 0);
    for (int i = 0; i < PRODUCERS; i++)
        cr_assert(pthread_create(&th[CONSUMERS + i], NULL, producer, (void *)(intptr_t)i) == 0);
    for (int i = 0; i < PRODUCERS + CONSUMERS; i++) pthread_join(th[i], NULL);
    sc_no_thread_failures_or_fail();
    cr_assert_eq(atomic_load(&delivered), TOTAL);
    for (int i = 0; i < TOTAL; i++) cr_assert_eq(atomic_load(&seen[i]), 1, "value %d seen %d times", i, atomic_load(&seen[i]));

    redisContext *c = sc_connect_or_fail(&srv);
    cmd_is(c, "0", "EXISTS q1 q2");
    wait_blocked(c, 0, "consumers gone");
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}
