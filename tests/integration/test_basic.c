/*
 * test_basic.c - connection-level basics against a real server process:
 * PING/ECHO/SELECT/QUIT, the exact error text of unknown commands and wrong
 * arity, inline commands (quotes, escapes, bare LF), and deep pipelining.
 *
 * Each test starts its own server and ends by stopping it, which checks that
 * it exits cleanly (status 0, no sanitizer report).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server_proc.h"

static sc_server srv;

TestSuite(basic, .fini = sc_server_cleanup, .timeout = 120);

Test(basic, ping_and_echo)
{
    sc_server_start_or_fail(&srv, NULL);
    redisContext *c = sc_connect_or_fail(&srv);
    sc_cmd_expect_or_fail(c, "PONG", "PING");
    sc_cmd_expect_or_fail(c, "hello world", "PING %s", "hello world");
    sc_cmd_expect_or_fail(c, "", "ECHO %s", "");
    sc_cmd_expect_or_fail(c, "a\r\nb", "ECHO %b", "a\r\nb", (size_t)4);
    sc_cmd_expect_or_fail(c, "ERR wrong number of arguments for 'echo' command", "ECHO");
    sc_cmd_expect_or_fail(c, "ERR wrong number of arguments for 'ping' command", "PING a b");
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

Test(basic, select_databases)
{
    sc_server_start_or_fail(&srv, NULL);
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
    sc_server_stop_or_fail(&srv);
}

Test(basic, quit_closes_after_ok)
{
    sc_server_start_or_fail(&srv, NULL);
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
    sc_server_stop_or_fail(&srv);
}

Test(basic, unknown_command_error_text)
{
    sc_server_start_or_fail(&srv, NULL);
    int fd = sc_raw_connect_or_fail(srv.port);
    cr_assert(sc_raw_send_str(fd, "foo bar baz\r\n"));
    cr_assert(sc_raw_expect(fd, "-ERR unknown command 'foo', with args beginning with: 'bar' 'baz' \r\n", 5000));
    cr_assert(sc_raw_send_str(fd, "*1\r\n$6\r\nNOSUCH\r\n"));
    cr_assert(sc_raw_expect(fd, "-ERR unknown command 'NOSUCH', with args beginning with: \r\n", 5000));
    /* The connection stays usable. */
    cr_assert(sc_raw_send_str(fd, "PING\r\n"));
    cr_assert(sc_raw_expect(fd, "+PONG\r\n", 5000));
    close(fd);
    sc_server_stop_or_fail(&srv);
}

Test(basic, wrong_arity_error_text)
{
    sc_server_start_or_fail(&srv, NULL);
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
    sc_server_stop_or_fail(&srv);
}

Test(basic, inline_commands)
{
    sc_server_start_or_fail(&srv, NULL);
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
    sc_server_stop_or_fail(&srv);
}

Test(basic, pipeline_100k_commands)
{
    sc_server_start_or_fail(&srv, NULL);
    enum { N = 100000 };
    sc_buf req = { 0 }, expect = { 0 }, got = { 0 };
    for (int i = 0; i < N; i++) {
        sc_buf_append(&req, "*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n", 27);
        sc_buf_printf(&expect, ":%d\r\n", i + 1);
    }
    int fd = sc_raw_connect_or_fail(srv.port);
    bool ok = sc_raw_pump(fd, req.data, req.len, &got, expect.len, 60000);
    cr_assert(ok, "received %zu of %zu reply bytes", got.len, expect.len);
    cr_assert_eq(got.len, expect.len);
    cr_assert(memcmp(got.data, expect.data, expect.len) == 0, "pipelined replies out of order or wrong");
    close(fd);

    /* Many PINGs (inline) in one write as well. */
    sc_buf_free(&req);
    sc_buf_free(&got);
    for (int i = 0; i < N; i++) sc_buf_append(&req, "PING\r\n", 6);
    fd = sc_raw_connect_or_fail(srv.port);
    ok = sc_raw_pump(fd, req.data, req.len, &got, (size_t)N * 7, 60000);
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
    sc_server_stop_or_fail(&srv);
}
