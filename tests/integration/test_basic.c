/*
 * test_basic.c - connection-level basics against a real server process:
 * PING/ECHO/SELECT/QUIT, the exact error text of unknown commands and wrong
 * arity, inline commands (quotes, escapes, bare LF), and deep pipelining.
 *
 * Each test gets its own server (started in init, stopped and checked for a
 * clean exit in fini).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server_proc.h"

static sc_server srv;

static void start(void) { sc_server_start_or_fail(&srv, NULL); }
static void stop(void) { sc_server_stop_or_fail(&srv); }

TestSuite(basic, .init = start, .fini = stop, .timeout = 120);

Test(basic, ping_and_echo)
{
    redisContext *c = sc_connect_or_fail(&srv);
    sc_cmd_expect_or_fail(c, "PONG", "PING");
    sc_cmd_expect_or_fail(c, "hello world", "PING %s", "hello world");
    sc_cmd_expect_or_fail(c, "", "ECHO %s", "");
    sc_cmd_expect_or_fail(c, "a\r\nb", "ECHO %b", "a\r\nb", (size_t)4);
    sc_cmd_expect_or_fail(c, "ERR wrong number of arguments for 'echo' command", "ECHO");
    sc_cmd_expect_or_fail(c, "ERR wrong number of arguments for 'ping' command", "PING a b");
    redisFree(c);
}

Test(basic, select_databases)
{
    redisContext *c = sc_connect_or_fail(&srv);
    sc_cmd_expect_or_fail(c, "OK", "SELECT 1");
    sc_cmd_expect_or_fail(c, "OK", "SET k in-db-1");
    sc_cmd_expect_or_fail(c, "OK", "SELECT 0");
    sc_cmd_expect_or_fail(c, "(nil)", "GET k");
    sc_cmd_expect_or_fail(c, "OK", "SELECT 15");
    sc_cmd_expect_or_fail(c, "(nil)", "GET k");
    sc_cmd_expect_or_fail(c, "ERR DB index is out of range", "SELECT 16");
    sc_cmd_expect_or_fail(c, "ERR DB index is out of range", "SELECT -1");
    sc_cmd_expect_or_fail(c, "ERR value is not an integer or out of range", "SELECT abc");
    sc_cmd_expect_or_fail(c, "OK", "SELECT 1");
    sc_cmd_expect_or_fail(c, "in-db-1", "GET k");
    redisFree(c);

    /* A new connection starts in db 0. */
    c = sc_connect_or_fail(&srv);
    sc_cmd_expect_or_fail(c, "(nil)", "GET k");
    redisFree(c);
}

Test(basic, quit_closes_after_ok)
{
    int fd = sc_raw_connect_or_fail(srv.port);
    cr_assert(sc_raw_send_str(fd, "PING\r\nQUIT\r\nPING\r\n"));
    cr_assert(sc_raw_expect(fd, "+PONG\r\n+OK\r\n", 5000));
    cr_assert(sc_raw_wait_closed(fd, 5000), "connection not closed after QUIT");
    close(fd);

    fd = sc_raw_connect_or_fail(srv.port);
    cr_assert(sc_raw_send_str(fd, "*1\r\n$4\r\nQUIT\r\n"));
    cr_assert(sc_raw_expect(fd, "+OK\r\n", 5000));
    cr_assert(sc_raw_wait_closed(fd, 5000), "connection not closed after QUIT");
    close(fd);
}

Test(basic, unknown_command_error_text)
{
    int fd = sc_raw_connect_or_fail(srv.port);
    cr_assert(sc_raw_send_str(fd, "foo bar baz\r\n"));
    cr_assert(sc_raw_expect(fd, "-ERR unknown command 'foo', with args beginning with: 'bar' 'baz' \r\n", 5000));
    cr_assert(sc_raw_send_str(fd, "*1\r\n$6\r\nNOSUCH\r\n"));
    cr_assert(sc_raw_expect(fd, "-ERR unknown command 'NOSUCH', with args beginning with: \r\n", 5000));
    /* The connection stays usable. */
    cr_assert(sc_raw_send_str(fd, "PING\r\n"));
    cr_assert(sc_raw_expect(fd, "+PONG\r\n", 5000));
    close(fd);
}

Test(basic, wrong_arity_error_text)
{
    int fd = sc_raw_connect_or_fail(srv.port);
    cr_assert(sc_raw_send_str(fd, "GET\r\n"));
    cr_assert(sc_raw_expect(fd, "-ERR wrong number of arguments for 'get' command\r\n", 5000));
    cr_assert(sc_raw_send_str(fd, "*3\r\n$3\r\nset\r\n$1\r\nk\r\n$1\r\nv\r\n"));
    cr_assert(sc_raw_expect(fd, "+OK\r\n", 5000));
    cr_assert(sc_raw_send_str(fd, "*2\r\n$3\r\nSET\r\n$1\r\nk\r\n"));
    cr_assert(sc_raw_expect(fd, "-ERR wrong number of arguments for 'set' command\r\n", 5000));
    cr_assert(sc_raw_send_str(fd, "CONFIG GET\r\n"));
    cr_assert(sc_raw_expect(fd, "-ERR wrong number of arguments for 'config|get' command\r\n", 5000));
    cr_assert(sc_raw_send_str(fd, "PING\r\n"));
    cr_assert(sc_raw_expect(fd, "+PONG\r\n", 5000));
    close(fd);
}

Test(basic, inline_commands)
{
    int fd = sc_raw_connect_or_fail(srv.port);
    /* Empty lines are skipped; a bare LF ends a line too. */
    cr_assert(sc_raw_send_str(fd, "\r\n\r\nPING\n"));
    cr_assert(sc_raw_expect(fd, "+PONG\r\n", 5000));
    /* Double quotes with escapes, single quotes, extra spaces. */
    cr_assert(sc_raw_send_str(fd, "SET   \"a b\"   \"c\\x41d\\n\"\r\n"));
    cr_assert(sc_raw_expect(fd, "+OK\r\n", 5000));
    cr_assert(sc_raw_send_str(fd, "GET 'a b'\r\n"));
    cr_assert(sc_raw_expect(fd, "$4\r\ncAd\n\r\n", 5000));
    cr_assert(sc_raw_send_str(fd, "ECHO 'it\\'s'\r\n"));
    cr_assert(sc_raw_expect(fd, "$4\r\nit's\r\n", 5000));
    cr_assert(sc_raw_send_str(fd, "ECHO \"\"\r\n"));
    cr_assert(sc_raw_expect(fd, "$0\r\n\r\n", 5000));
    /* Inline and multibulk mixed in one write. */
    cr_assert(sc_raw_send_str(fd, "SET x 1\r\n*2\r\n$4\r\nINCR\r\n$1\r\nx\r\nINCR x\r\n"));
    cr_assert(sc_raw_expect(fd, "+OK\r\n:2\r\n:3\r\n", 5000));
    close(fd);
}

/* Send `req` and read `want` replies concurrently (so neither side can
 * stall on a full socket buffer); the received bytes go to *got. */
static bool pump(int fd, const sc_buf *req, size_t want_bytes, sc_buf *got, int timeout_ms)
{
    long long deadline = sc_now_ms() + sc_scaled_ms(timeout_ms);
    size_t sent = 0;
    char buf[65536];
    while (got->len < want_bytes && sc_now_ms() < deadline) {
        if (sent < req->len) {
            ssize_t n = send(fd, req->data + sent, req->len - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n > 0) sent += (size_t)n;
        }
        ssize_t r = recv(fd, buf, sizeof buf, sent < req->len ? MSG_DONTWAIT : 0);
        if (r > 0) sc_buf_append(got, buf, (size_t)r);
        else if (r == 0) return false;
    }
    return got->len >= want_bytes;
}

Test(basic, pipeline_100k_commands)
{
    enum { N = 100000 };
    sc_buf req = { 0 }, expect = { 0 }, got = { 0 };
    for (int i = 0; i < N; i++) {
        sc_buf_append(&req, "*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n", 27);
        sc_buf_printf(&expect, ":%d\r\n", i + 1);
    }
    int fd = sc_raw_connect_or_fail(srv.port);
    struct timeval tv = { 1, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    bool ok = pump(fd, &req, expect.len, &got, 60000);
    cr_assert(ok, "received %zu of %zu reply bytes", got.len, expect.len);
    cr_assert_eq(got.len, expect.len);
    cr_assert(memcmp(got.data, expect.data, expect.len) == 0, "pipelined replies out of order or wrong");
    close(fd);

    /* Many PINGs (inline) in one write as well. */
    sc_buf_free(&req);
    sc_buf_free(&got);
    for (int i = 0; i < N; i++) sc_buf_append(&req, "PING\r\n", 6);
    fd = sc_raw_connect_or_fail(srv.port);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ok = pump(fd, &req, (size_t)N * 7, &got, 60000);
    cr_assert(ok, "received %zu of %d PONG bytes", got.len, N * 7);
    for (size_t i = 0; i < got.len; i += 7)
        cr_assert(memcmp(got.data + i, "+PONG\r\n", 7) == 0, "bad reply at byte %zu", i);
    close(fd);
    sc_buf_free(&req);
    sc_buf_free(&got);
    sc_buf_free(&expect);

    redisContext *c = sc_connect_or_fail(&srv);
    sc_cmd_expect_or_fail(c, "100000", "GET counter");
    redisFree(c);
}
