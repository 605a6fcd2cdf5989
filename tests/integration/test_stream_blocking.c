/*
 * test_stream_blocking.c - XREAD BLOCK against a multi-threaded server
 * (--threads 4): readers served by an XADD from another connection (which
 * usually sits on another worker), `$` meaning the last ID at block time (an
 * entry added before the block is not returned, every entry added after it
 * is, even when several come before the re-run), one XADD serving every
 * reader it can while a reader waiting past it stays blocked, a served reader
 * getting only the signalled stream (the first signalled one, also among
 * 20 keys), COUNT and Redis's default of 1000 entries after a block,
 * timeouts (ms, Redis 7.0's bytes, RESP3 null), bad timeouts, a timeout
 * whose deadline overflows, MULTI, a key deleted and re-created, a
 * key overwritten with another type (the reader stays blocked), RENAME and
 * SWAPDB bringing a stream, a reader disconnecting while blocked, INFO
 * blocked_clients throughout, and readers on every worker each getting
 * every entry of two streams that producers on other workers fill (no
 * wake-up lost: a reader that times out fails).
 *
 * Replies are compared byte for byte on raw sockets; the expected bytes are
 * redis-server 7.0.15's (the suite passes with SLOTCACHE_SERVER pointing at
 * it). "Blocked" is established by polling INFO blocked_clients; every wait
 * is bounded. Every entry has the single field f = v.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server_proc.h"
#include "thread_fail.h"

static sc_server srv;
static const char *const threaded[] = {"--threads", "4", NULL};

TestSuite(stream_blocking, .fini = sc_server_cleanup, .timeout = 120);

/* ---- helpers ----------------------------------------------------------- */

static void wait_blocked(redisContext *ctl, long long n, const char *what) {
    bool ok = SC_WAIT_FOR(sc_info_ll_or_fail(ctl, "clients", "blocked_clients") == n, 5000);
    cr_assert(ok, "%s: blocked_clients is %lld, want %lld", what,
              sc_info_ll_or_fail(ctl, "clients", "blocked_clients"), n);
}

/* A new raw connection that sends `line` and is then blocked (the n-th). */
static int block_on(redisContext *ctl, long long n, const char *line) {
    int fd = sc_raw_connect_or_fail(srv.port);
    sc_raw_send_line_or_fail(fd, line);
    wait_blocked(ctl, n, line);
    return fd;
}

/* The next bytes on fd are exactly `want`, and nothing follows them. */
static void reply_is(int fd, const char *want, const char *what) {
    cr_assert(sc_raw_expect(fd, want, 5000), "%s: wrong reply", what);
    sc_raw_send_line_or_fail(fd, "PING");
    cr_assert(sc_raw_expect(fd, "+PONG\r\n", 5000), "%s: more bytes after the reply", what);
}

static void still_waiting(int fd, int ms, const char *what) {
    cr_assert(sc_raw_quiet(fd, ms), "%s: a reply arrived while it should be blocked", what);
}

/* XREAD's reply with one stream `key` holding the entries `ids` (space
 * separated), each f = v: RESP2 array or RESP3 map. Free with sc_buf_free. */
static sc_buf xread_reply(bool resp3, const char *key, const char *ids) {
    sc_buf b = {0};
    int n = 0;
    for (const char *p = ids; *p; p++) n += (p == ids || p[-1] == ' ') && *p != ' ';
    if (resp3)
        sc_buf_printf(&b, "%%1\r\n$%zu\r\n%s\r\n*%d\r\n", strlen(key), key, n);
    else
        sc_buf_printf(&b, "*1\r\n*2\r\n$%zu\r\n%s\r\n*%d\r\n", strlen(key), key, n);
    char copy[512];
    snprintf(copy, sizeof copy, "%s", ids);
    char *save = NULL;
    for (char *id = strtok_r(copy, " ", &save); id; id = strtok_r(NULL, " ", &save))
        sc_buf_printf(&b, "*2\r\n$%zu\r\n%s\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n", strlen(id), id);
    return b;
}

static void served_with(int fd, const char *key, const char *ids, const char *what) {
    sc_buf want = xread_reply(false, key, ids);
    reply_is(fd, want.data, what);
    sc_buf_free(&want);
}

static void xadd(redisContext *ctl, const char *key, const char *id) {
    sc_cmd_expect_or_fail(ctl, id, "XADD %s %s f v", key, id);
}

/* XADD k1 id1, then XADD k2 id2, in one transaction. */
static void xadd_two_in_multi(redisContext *ctl, const char *k1, const char *id1, const char *k2, const char *id2) {
    sc_cmd_expect_or_fail(ctl, "OK", "MULTI");
    sc_cmd_expect_or_fail(ctl, "QUEUED", "XADD %s %s f v", k1, id1);
    sc_cmd_expect_or_fail(ctl, "QUEUED", "XADD %s %s f v", k2, id2);
    redisReply *r = sc_cmd_or_fail(ctl, "EXEC");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 2, "EXEC of two XADDs");
    freeReplyObject(r);
}

/* Switch the raw connection fd to RESP3 (HELLO's reply is read whole). */
static void hello3(int fd) {
    sc_raw_send_line_or_fail(fd, "HELLO 3");
    sc_reader rd;
    sc_reader_init(&rd, fd);
    char *out = NULL;
    cr_assert(sc_reader_next(&rd, &out, NULL, 5000), "HELLO 3: no reply");
    free(out);
    cr_assert_eq(rd.pos, rd.in.len, "extra bytes after HELLO");
    sc_reader_free(&rd);
}

/* ---- tests ------------------------------------------------------------- */

Test(stream_blocking, served_by_xadd_from_another_connection) {
    sc_server_start_or_fail(&srv, threaded);
    redisContext *ctl = sc_connect_or_fail(&srv);
    /* Fresh connections each round, so that reader and writer sit on
     * different workers in some rounds whatever the kernel's choice. */
    for (int round = 0; round < 8; round++) {
        char key[32], what[64];
        snprintf(key, sizeof key, "s:%d", round);
        snprintf(what, sizeof what, "round %d", round);
        redisContext *p = sc_connect_or_fail(&srv);
        xadd(p, key, "1-0"); /* before the block: `$` is past it */
        char line[96];
        snprintf(line, sizeof line, "XREAD BLOCK 0 STREAMS %s $", key);
        int fd = block_on(ctl, 1, line);
        still_waiting(fd, 20, what);
        xadd(p, key, "2-0");
        served_with(fd, key, "2-0", what);
        wait_blocked(ctl, 0, what);
        close(fd);
        redisFree(p);
    }

    /* `$` on a missing key means 0-0. BLOCK 0 waits as long as it takes. */
    int fd = block_on(ctl, 1, "XREAD BLOCK 0 STREAMS fresh $");
    still_waiting(fd, 200, "BLOCK 0 on a missing key");
    xadd(ctl, "fresh", "0-1");
    served_with(fd, "fresh", "0-1", "missing key, then XADD 0-1");

    /* `$` is the last ID at block time, not at the re-run: two entries
     * added by one transaction are both returned. */
    sc_raw_send_line_or_fail(fd, "XREAD BLOCK 0 STREAMS fresh $");
    wait_blocked(ctl, 1, "second block on fresh");
    xadd_two_in_multi(ctl, "fresh", "5-0", "fresh", "6-0");
    served_with(fd, "fresh", "5-0 6-0", "two entries after $");

    /* An explicit ID: the entries after it; COUNT still applies. */
    sc_raw_send_line_or_fail(fd, "XREAD COUNT 1 BLOCK 0 STREAMS fresh 6-0");
    wait_blocked(ctl, 1, "COUNT 1");
    xadd_two_in_multi(ctl, "fresh", "7-0", "fresh", "8-0");
    served_with(fd, "fresh", "7-0", "COUNT 1 after a block");

    /* Data already there: no block at all; a wrong type at the first call
     * is WRONGTYPE. */
    sc_raw_send_line_or_fail(fd, "XREAD BLOCK 0 STREAMS fresh 7-0");
    served_with(fd, "fresh", "8-0", "data already there");
    sc_cmd_expect_or_fail(ctl, "OK", "SET str x");
    sc_raw_send_line_or_fail(fd, "XREAD BLOCK 0 STREAMS str $");
    reply_is(fd, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", "WRONGTYPE");
    cr_assert_eq(sc_info_ll_or_fail(ctl, "clients", "blocked_clients"), 0);
    close(fd);
    redisFree(ctl);
    sc_server_stop_or_fail(&srv);
}

Test(stream_blocking, one_xadd_serves_every_reader_it_can) {
    sc_server_start_or_fail(&srv, threaded);
    redisContext *ctl = sc_connect_or_fail(&srv);
    xadd(ctl, "s", "1-0");
    int fds[4];
    for (int i = 0; i < 3; i++) fds[i] = block_on(ctl, i + 1, "XREAD BLOCK 0 STREAMS s $");
    fds[3] = block_on(ctl, 4, "XREAD BLOCK 0 STREAMS s 100-0");
    xadd(ctl, "s", "5-0");
    for (int i = 0; i < 3; i++) served_with(fds[i], "s", "5-0", "a reader of $");
    wait_blocked(ctl, 1, "the reader past 5-0 stays");
    still_waiting(fds[3], 20, "reader of 100-0");
    xadd(ctl, "s", "101-0");
    served_with(fds[3], "s", "101-0", "reader of 100-0");
    wait_blocked(ctl, 0, "all served");
    for (int i = 0; i < 4; i++) close(fds[i]);
    redisFree(ctl);
    sc_server_stop_or_fail(&srv);
}

Test(stream_blocking, only_the_signalled_stream_is_returned) {
    sc_server_start_or_fail(&srv, threaded);
    redisContext *ctl = sc_connect_or_fail(&srv);
    int fd = block_on(ctl, 1, "XREAD BLOCK 0 STREAMS a b $ $");
    xadd(ctl, "b", "1-0");
    served_with(fd, "b", "1-0", "b signalled");

    /* Both get entries in one transaction, b first: the reply holds b
     * alone (as Redis serves the first key signalled); a still has its
     * entry for the next XREAD. */
    sc_raw_send_line_or_fail(fd, "XREAD BLOCK 0 STREAMS a b 0-0 1-0");
    wait_blocked(ctl, 1, "second block");
    xadd_two_in_multi(ctl, "b", "2-0", "a", "3-0");
    served_with(fd, "b", "2-0", "b signalled first");
    sc_raw_send_line_or_fail(fd, "XREAD STREAMS a 0-0");
    reply_is(fd, "*1\r\n*2\r\n$1\r\na\r\n*1\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n", "a kept");

    /* RESP3: a one-member map. */
    hello3(fd);
    sc_raw_send_line_or_fail(fd, "XREAD BLOCK 0 STREAMS a b $ $");
    wait_blocked(ctl, 1, "RESP3 block");
    xadd(ctl, "a", "4-0");
    sc_buf want = xread_reply(true, "a", "4-0");
    cr_assert(sc_raw_expect(fd, want.data, 5000), "RESP3 reply");
    sc_buf_free(&want);
    close(fd);

    /* Many keys (past every fixed-size buffer on the way): the one written
     * to is returned, with the ID its `$` meant. */
    enum { NKEYS = 20 };
    const char *argv[4 + 2 * NKEYS];
    size_t lens[4 + 2 * NKEYS];
    char names[NKEYS][16];
    int argc = 0;
    argv[argc++] = "XREAD";
    argv[argc++] = "BLOCK";
    argv[argc++] = "0";
    argv[argc++] = "STREAMS";
    for (int i = 0; i < NKEYS; i++) {
        snprintf(names[i], sizeof names[i], "m%d", i);
        argv[argc++] = names[i];
    }
    for (int i = 0; i < NKEYS; i++) argv[argc++] = "$";
    for (int i = 0; i < argc; i++) lens[i] = strlen(argv[i]);
    xadd(ctl, "m17", "1-0");
    sc_buf cmd = {0};
    sc_resp_command(&cmd, argc, argv, lens);
    fd = sc_raw_connect_or_fail(srv.port);
    cr_assert(sc_raw_send(fd, cmd.data, cmd.len, 5000));
    sc_buf_free(&cmd);
    wait_blocked(ctl, 1, "20 keys");
    xadd(ctl, "m17", "2-0");
    served_with(fd, "m17", "2-0", "20 keys");
    close(fd);
    redisFree(ctl);
    sc_server_stop_or_fail(&srv);
}

/* A reader served after a block without COUNT gets at most 1000 entries
 * (Redis's XREAD_BLOCKED_DEFAULT_COUNT); RENAME brings the stream. */
Test(stream_blocking, default_count_after_block_and_rename) {
    sc_server_start_or_fail(&srv, threaded);
    redisContext *ctl = sc_connect_or_fail(&srv);
    int fd = block_on(ctl, 1, "XREAD BLOCK 0 STREAMS big 0-0");
    for (int i = 1; i <= 1001; i++) redisAppendCommand(ctl, "XADD src %d-0 f v", i);
    for (int i = 1; i <= 1001; i++) {
        redisReply *r = NULL;
        cr_assert_eq(redisGetReply(ctl, (void **)&r), REDIS_OK, "XADD %d: %s", i, ctl->errstr);
        cr_assert_eq(r->type, REDIS_REPLY_STRING, "XADD %d", i);
        freeReplyObject(r);
    }
    still_waiting(fd, 20, "another key filled");
    sc_cmd_expect_or_fail(ctl, "OK", "RENAME src big");
    sc_buf want = {0};
    sc_buf_printf(&want, "*1\r\n*2\r\n$3\r\nbig\r\n*1000\r\n");
    for (int i = 1; i <= 1000; i++) {
        char id[16];
        snprintf(id, sizeof id, "%d-0", i);
        sc_buf_printf(&want, "*2\r\n$%zu\r\n%s\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n", strlen(id), id);
    }
    reply_is(fd, want.data, "1000 of 1001 entries");
    sc_buf_free(&want);

    /* SWAPDB brings a stream into the reader's database. */
    sc_raw_send_line_or_fail(fd, "XREAD BLOCK 0 STREAMS sw $");
    wait_blocked(ctl, 1, "block on sw");
    sc_cmd_expect_or_fail(ctl, "OK", "SELECT 1");
    xadd(ctl, "sw", "3-0");
    still_waiting(fd, 20, "XADD in another database");
    sc_cmd_expect_or_fail(ctl, "OK", "SWAPDB 0 1");
    served_with(fd, "sw", "3-0", "SWAPDB");
    close(fd);
    redisFree(ctl);
    sc_server_stop_or_fail(&srv);
}

Test(stream_blocking, timeouts_and_bad_timeouts) {
    sc_server_start_or_fail(&srv, threaded);
    redisContext *ctl = sc_connect_or_fail(&srv);
    int fd = sc_raw_connect_or_fail(srv.port);
    xadd(ctl, "s", "1-0");
    static const int ms[] = {1, 100, 250};
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
        char line[64];
        snprintf(line, sizeof line, "XREAD BLOCK %d STREAMS s nokey $ $", ms[i]);
        long long t0 = sc_now_ms();
        sc_raw_send_line_or_fail(fd, line);
        cr_assert(sc_raw_expect(fd, "*-1\r\n", 5000), "%s: wrong timeout reply", line);
        long long elapsed = sc_now_ms() - t0;
        /* libuv's timers start from the loop's cached time: a ms early */
        cr_assert(elapsed >= ms[i] - 2, "%s: answered after %lld ms", line, elapsed);
        cr_assert(elapsed < ms[i] + sc_scaled_ms(500), "%s: answered after %lld ms", line, elapsed);
    }
    cr_assert_eq(sc_info_ll_or_fail(ctl, "clients", "blocked_clients"), 0);
    /* No BLOCK: the same null at once. */
    sc_raw_send_line_or_fail(fd, "XREAD STREAMS s $");
    cr_assert(sc_raw_expect(fd, "*-1\r\n", 5000));

    static const struct {
        const char *line, *reply;
    } bad[] = {
        {"XREAD BLOCK -1 STREAMS s $", "-ERR timeout is negative\r\n"},
        {"XREAD BLOCK 1.5 STREAMS s $", "-ERR timeout is not an integer or out of range\r\n"},
        {"XREAD BLOCK abc STREAMS s $", "-ERR timeout is not an integer or out of range\r\n"},
        {"XREAD BLOCK 99999999999999999999 STREAMS s $", "-ERR timeout is not an integer or out of range\r\n"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sc_raw_send_line_or_fail(fd, bad[i].line);
        cr_assert(sc_raw_expect(fd, bad[i].reply, 5000), "%s", bad[i].line);
    }
    /* A timeout so large the deadline overflows blocks (Redis's wraps and
     * never fires): served by an XADD. */
    sc_raw_send_line_or_fail(fd, "XREAD BLOCK 9223372036854775807 STREAMS s $");
    wait_blocked(ctl, 1, "huge timeout");
    still_waiting(fd, 20, "huge timeout");
    xadd(ctl, "s", "2-0");
    served_with(fd, "s", "2-0", "huge timeout, then XADD");

    /* RESP3: null. */
    hello3(fd);
    long long t0 = sc_now_ms();
    sc_raw_send_line_or_fail(fd, "XREAD BLOCK 50 STREAMS s $");
    cr_assert(sc_raw_expect(fd, "_\r\n", 5000), "RESP3 timeout");
    cr_assert(sc_now_ms() - t0 >= 48, "RESP3 timeout after %lld ms", sc_now_ms() - t0);
    close(fd);
    redisFree(ctl);
    sc_server_stop_or_fail(&srv);
}

Test(stream_blocking, multi_does_not_block) {
    sc_server_start_or_fail(&srv, threaded);
    redisContext *ctl = sc_connect_or_fail(&srv);
    int fd = sc_raw_connect_or_fail(srv.port);
    sc_raw_send_line_or_fail(fd, "MULTI");
    sc_raw_send_line_or_fail(fd, "XREAD BLOCK 0 STREAMS s $");
    sc_raw_send_line_or_fail(fd, "EXEC");
    reply_is(fd, "+OK\r\n+QUEUED\r\n*1\r\n*-1\r\n", "MULTI");
    cr_assert_eq(sc_info_ll_or_fail(ctl, "clients", "blocked_clients"), 0);
    hello3(fd);
    sc_raw_send_line_or_fail(fd, "MULTI");
    sc_raw_send_line_or_fail(fd, "XREAD BLOCK 0 STREAMS s $");
    sc_raw_send_line_or_fail(fd, "EXEC");
    reply_is(fd, "+OK\r\n+QUEUED\r\n*1\r\n_\r\n", "MULTI in RESP3");
    close(fd);
    redisFree(ctl);
    sc_server_stop_or_fail(&srv);
}

Test(stream_blocking, key_deleted_overwritten_and_reader_gone) {
    sc_server_start_or_fail(&srv, threaded);
    redisContext *ctl = sc_connect_or_fail(&srv);

    /* Deleted and re-created: served only once the new stream's last ID is
     * past the one `$` stood for (5-0), and with the entries after it. */
    xadd(ctl, "d", "5-0");
    int fd = block_on(ctl, 1, "XREAD BLOCK 0 STREAMS d $");
    sc_cmd_expect_or_fail(ctl, "1", "DEL d");
    xadd(ctl, "d", "3-0");
    still_waiting(fd, 50, "re-created below 5-0");
    wait_blocked(ctl, 1, "re-created below 5-0");
    xadd(ctl, "d", "7-0");
    served_with(fd, "d", "7-0", "re-created, then past 5-0");

    /* Overwritten with a string: Redis 7.0 keeps the reader blocked (no
     * error); a stream again under the key serves it. */
    xadd(ctl, "o", "5-0");
    sc_raw_send_line_or_fail(fd, "XREAD BLOCK 0 STREAMS o $");
    wait_blocked(ctl, 1, "block on o");
    sc_cmd_expect_or_fail(ctl, "OK", "SET o x");
    still_waiting(fd, 50, "overwritten with a string");
    wait_blocked(ctl, 1, "overwritten with a string");
    sc_cmd_expect_or_fail(ctl, "1", "DEL o");
    xadd(ctl, "o", "6-0");
    served_with(fd, "o", "6-0", "a stream again");
    close(fd);

    /* A reader that disconnects while blocked leaves nothing behind (ASan
     * checks the server's memory at exit); the others are still served. */
    int gone = block_on(ctl, 1, "XREAD BLOCK 0 STREAMS g $");
    int stays = block_on(ctl, 2, "XREAD BLOCK 0 STREAMS g $");
    int timed = block_on(ctl, 3, "XREAD BLOCK 100000 STREAMS g other $ $");
    close(gone);
    close(timed);
    wait_blocked(ctl, 1, "two readers gone");
    xadd(ctl, "g", "1-0");
    served_with(stays, "g", "1-0", "the reader that stayed");
    wait_blocked(ctl, 0, "all done");
    close(stays);
    redisFree(ctl);
    sc_server_stop_or_fail(&srv);
}

/* ---- XREADGROUP BLOCK ------------------------------------------------- */

#define RG(c) "XREADGROUP GROUP g " c " BLOCK 0 STREAMS s >"

Test(stream_blocking, xreadgroup_consumers_share_new_entries) {
    sc_server_start_or_fail(&srv, threaded);
    redisContext *ctl = sc_connect_or_fail(&srv);
    sc_cmd_expect_or_fail(ctl, "OK", "XGROUP CREATE s g $ MKSTREAM");
    /* One XADD serves the first consumer only: the group's last ID moved
     * past it for the second, which waits for the next entry. */
    int c1 = block_on(ctl, 1, RG("c1"));
    int c2 = block_on(ctl, 2, RG("c2"));
    xadd(ctl, "s", "1-0");
    served_with(c1, "s", "1-0", "first consumer");
    still_waiting(c2, 50, "second consumer after one entry");
    wait_blocked(ctl, 1, "second consumer after one entry");
    xadd(ctl, "s", "2-0");
    served_with(c2, "s", "2-0", "second consumer");
    wait_blocked(ctl, 0, "both served");
    /* Each entry is pending for the consumer that got it. */
    redisReply *r = sc_cmd_or_fail(ctl, "XPENDING s g - + 10");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 2, "XPENDING: two entries");
    cr_assert_str_eq(r->element[0]->element[1]->str, "c1");
    cr_assert_str_eq(r->element[1]->element[1]->str, "c2");
    freeReplyObject(r);

    /* NOACK: served, nothing pending; a timeout answers the null array. */
    sc_raw_send_line_or_fail(c1, "XREADGROUP GROUP g c3 BLOCK 0 NOACK STREAMS s >");
    wait_blocked(ctl, 1, "NOACK reader");
    xadd(ctl, "s", "3-0");
    served_with(c1, "s", "3-0", "NOACK reader");
    r = sc_cmd_or_fail(ctl, "XPENDING s g");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->element[0]->integer == 2, "NOACK added nothing pending");
    freeReplyObject(r);
    sc_raw_send_line_or_fail(c1, "XREADGROUP GROUP g c1 BLOCK 50 STREAMS s >");
    reply_is(c1, "*-1\r\n", "XREADGROUP timeout");
    /* History reads (an ID, not `>`) never block. */
    sc_raw_send_line_or_fail(c1, "XREADGROUP GROUP g c9 BLOCK 0 STREAMS s 0");
    reply_is(c1, "*1\r\n*2\r\n$1\r\ns\r\n*0\r\n", "history read of a consumer without entries");
    close(c1);
    close(c2);
    redisFree(ctl);
    sc_server_stop_or_fail(&srv);
}

Test(stream_blocking, xreadgroup_group_or_key_gone) {
    sc_server_start_or_fail(&srv, threaded);
    redisContext *ctl = sc_connect_or_fail(&srv);
    const char *nogroup = "-NOGROUP the consumer group this client was blocked on no longer exists\r\n";
    const char *unblocked = "-UNBLOCKED the stream key no longer exists\r\n";

    sc_cmd_expect_or_fail(ctl, "OK", "XGROUP CREATE s g $ MKSTREAM");
    int fd = block_on(ctl, 1, RG("c"));
    sc_cmd_expect_or_fail(ctl, "1", "XGROUP DESTROY s g");
    reply_is(fd, nogroup, "group destroyed");

    sc_cmd_expect_or_fail(ctl, "OK", "XGROUP CREATE s g $");
    sc_raw_send_line_or_fail(fd, RG("c"));
    wait_blocked(ctl, 1, "block again");
    sc_cmd_expect_or_fail(ctl, "1", "DEL s");
    reply_is(fd, unblocked, "stream deleted");

    sc_cmd_expect_or_fail(ctl, "OK", "XGROUP CREATE s g $ MKSTREAM");
    sc_raw_send_line_or_fail(fd, RG("c"));
    wait_blocked(ctl, 1, "block before SET");
    sc_cmd_expect_or_fail(ctl, "OK", "SET s x");
    reply_is(fd, unblocked, "stream overwritten");

    /* Expired (by the active cycle: nobody touches the key) or flushed. */
    sc_cmd_expect_or_fail(ctl, "1", "DEL s");
    sc_cmd_expect_or_fail(ctl, "OK", "XGROUP CREATE s g $ MKSTREAM");
    sc_raw_send_line_or_fail(fd, RG("c"));
    wait_blocked(ctl, 1, "block before PEXPIRE");
    sc_cmd_expect_or_fail(ctl, "1", "PEXPIRE s 20");
    reply_is(fd, unblocked, "stream expired");
    sc_cmd_expect_or_fail(ctl, "OK", "XGROUP CREATE s g $ MKSTREAM");
    sc_raw_send_line_or_fail(fd, RG("c"));
    wait_blocked(ctl, 1, "block before FLUSHDB");
    sc_cmd_expect_or_fail(ctl, "OK", "FLUSHDB");
    reply_is(fd, unblocked, "database flushed");
    /* An XREAD reader stays blocked through a FLUSHALL. */
    sc_raw_send_line_or_fail(fd, "XREAD BLOCK 0 STREAMS s $");
    wait_blocked(ctl, 1, "XREAD before FLUSHALL");
    sc_cmd_expect_or_fail(ctl, "OK", "FLUSHALL");
    still_waiting(fd, 50, "XREAD after FLUSHALL");
    xadd(ctl, "s", "1-0");
    served_with(fd, "s", "1-0", "XREAD after FLUSHALL");

    /* Deleted and re-created in one transaction: the new stream has no group. */
    sc_cmd_expect_or_fail(ctl, "1", "DEL s");
    sc_cmd_expect_or_fail(ctl, "OK", "XGROUP CREATE s g $ MKSTREAM");
    sc_raw_send_line_or_fail(fd, RG("c"));
    wait_blocked(ctl, 1, "block before MULTI");
    sc_cmd_expect_or_fail(ctl, "OK", "MULTI");
    sc_cmd_expect_or_fail(ctl, "QUEUED", "DEL s");
    sc_cmd_expect_or_fail(ctl, "QUEUED", "XADD s 1-0 f v");
    redisReply *r = sc_cmd_or_fail(ctl, "EXEC");
    freeReplyObject(r);
    reply_is(fd, nogroup, "re-created without the group");

    /* Two streams: the one signalled is served alone. */
    sc_cmd_expect_or_fail(ctl, "OK", "XGROUP CREATE a g $ MKSTREAM");
    sc_cmd_expect_or_fail(ctl, "OK", "XGROUP CREATE b g $ MKSTREAM");
    sc_raw_send_line_or_fail(fd, "XREADGROUP GROUP g c BLOCK 0 STREAMS a b > >");
    wait_blocked(ctl, 1, "block on a and b");
    xadd(ctl, "b", "4-0");
    served_with(fd, "b", "4-0", "b signalled");
    wait_blocked(ctl, 0, "served");
    close(fd);
    redisFree(ctl);
    sc_server_stop_or_fail(&srv);
}

/* ---- readers and producers -------------------------------------------- */

#define PRODUCERS 2
#define READERS 6
#define PER_PRODUCER 300
#define TOTAL (PRODUCERS * PER_PRODUCER)

static void *producer(void *arg) {
    int id = (int)(intptr_t)arg;
    redisContext *c = sc_thread_connect(&srv, 30000);
    if (!c) return NULL;
    for (int i = 0; i < PER_PRODUCER && sc_thread_failures() == 0; i++) {
        int v = id * PER_PRODUCER + i;
        redisReply *r = redisCommand(c, "XADD %s * f %d", v % 2 ? "hot1" : "hot2", v);
        if (!r || r->type != REDIS_REPLY_STRING) {
            sc_thread_fail("producer %d: XADD: %s", id, r ? (r->str ? r->str : "bad type") : c->errstr);
            if (r) freeReplyObject(r);
            break;
        }
        freeReplyObject(r);
    }
    redisFree(c);
    return NULL;
}

/* Reads both streams from the last IDs it saw until it has every entry,
 * each once; a timeout while entries are missing is a lost wake-up (the
 * producers never pause that long). */
static void *reader(void *arg) {
    int id = (int)(intptr_t)arg;
    redisContext *c = sc_thread_connect(&srv, 30000);
    if (!c) return NULL;
    char last[2][64] = {"0-0", "0-0"};
    static _Thread_local unsigned char seen[TOTAL];
    memset(seen, 0, sizeof seen);
    int got = 0;
    while (got < TOTAL && sc_thread_failures() == 0) {
        redisReply *r = redisCommand(c, "XREAD BLOCK %d STREAMS hot1 hot2 %s %s", sc_scaled_ms(3000), last[0], last[1]);
        if (!r || r->type != REDIS_REPLY_ARRAY) {
            sc_thread_fail("reader %d: %s after %d entries", id, !r ? c->errstr : "timed out (lost wake-up?)", got);
            if (r) freeReplyObject(r);
            break;
        }
        for (size_t k = 0; k < r->elements; k++) {
            const redisReply *st = r->element[k];
            int which = strcmp(st->element[0]->str, "hot1") == 0 ? 0 : 1;
            const redisReply *entries = st->element[1];
            for (size_t e = 0; e < entries->elements; e++) {
                const redisReply *en = entries->element[e];
                int v = atoi(en->element[1]->element[1]->str);
                if (v < 0 || v >= TOTAL || seen[v]++ || (v % 2 ? 0 : 1) != which)
                    sc_thread_fail("reader %d: entry %d from stream %d seen again or misplaced", id, v, which);
                snprintf(last[which], sizeof last[which], "%s", en->element[0]->str);
                got++;
            }
        }
        freeReplyObject(r);
    }
    redisFree(c);
    return NULL;
}

Test(stream_blocking, readers_get_every_entry_from_producers) {
    sc_server_start_or_fail(&srv, threaded);
    sc_thread_fail_reset();
    pthread_t th[READERS + PRODUCERS];
    for (int i = 0; i < READERS; i++) cr_assert(pthread_create(&th[i], NULL, reader, (void *)(intptr_t)i) == 0);
    redisContext *ctl = sc_connect_or_fail(&srv);
    wait_blocked(ctl, READERS, "readers blocked before the producers start");
    for (int i = 0; i < PRODUCERS; i++)
        cr_assert(pthread_create(&th[READERS + i], NULL, producer, (void *)(intptr_t)i) == 0);
    for (int i = 0; i < READERS + PRODUCERS; i++) pthread_join(th[i], NULL);
    sc_no_thread_failures_or_fail();
    wait_blocked(ctl, 0, "readers done");
    sc_cmd_expect_or_fail(ctl, "300", "XLEN hot1");
    redisFree(ctl);
    sc_server_stop_or_fail(&srv);
}
