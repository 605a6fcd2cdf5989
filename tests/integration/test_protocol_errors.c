/*
 * test_protocol_errors.c - malformed requests and query limits over raw
 * sockets. Each malformed input must get Redis's exact "-ERR Protocol error:
 * ..." reply, then the server closes that connection, and other clients are
 * unaffected. Oversized query buffers close the connection without a reply.
 *
 * Servers run with --proto-max-bulk-len 1mb and --client-query-buffer-limit
 * 1mb (the smallest values Redis accepts) so the limits are cheap to reach.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server_proc.h"

static sc_server srv;
static const char *const limits[] = {
    "--proto-max-bulk-len", "1mb", "--client-query-buffer-limit", "1mb", NULL,
};

TestSuite(protocol_errors, .fini = sc_server_cleanup, .timeout = 120);

static void assert_other_client_ok(void)
{
    int fd = sc_raw_connect_or_fail(srv.port);
    cr_assert(sc_raw_send_str(fd, "PING\r\n"));
    cr_assert(sc_raw_expect(fd, "+PONG\r\n", 5000), "another client did not get PONG");
    close(fd);
}

/* Send `input` on a new connection (keeping a second connection open
 * throughout), expect exactly `reply` then the connection closed. */
static void check_protocol_error(const char *input, size_t len, const char *reply)
{
    sc_server_start_or_fail(&srv, limits);
    int bystander = sc_raw_connect_or_fail(srv.port);
    int fd = sc_raw_connect_or_fail(srv.port);
    cr_assert(sc_raw_send(fd, input, len, 5000));
    cr_assert(sc_raw_expect(fd, reply, 5000), "wrong reply to malformed input");
    cr_assert(sc_raw_wait_closed(fd, 5000), "connection not closed after a protocol error");
    close(fd);
    /* A client connected before, and a new one, both still work. */
    cr_assert(sc_raw_send_str(bystander, "PING\r\n"));
    cr_assert(sc_raw_expect(bystander, "+PONG\r\n", 5000));
    close(bystander);
    assert_other_client_ok();
    sc_server_stop_or_fail(&srv);
}

#define CHECK(input, reply) check_protocol_error(input, sizeof(input) - 1, reply)

Test(protocol_errors, invalid_multibulk_length)
{
    CHECK("*abc\r\n", "-ERR Protocol error: invalid multibulk length\r\n");
}

Test(protocol_errors, multibulk_length_over_int_max)
{
    CHECK("*2147483648\r\n", "-ERR Protocol error: invalid multibulk length\r\n");
}

Test(protocol_errors, invalid_bulk_length)
{
    CHECK("*1\r\n$abc\r\n", "-ERR Protocol error: invalid bulk length\r\n");
}

Test(protocol_errors, expected_dollar)
{
    CHECK("*1\r\nfoo\r\n", "-ERR Protocol error: expected '$', got 'f'\r\n");
}

Test(protocol_errors, bulk_over_proto_max_bulk_len)
{
    CHECK("*1\r\n$2000000\r\n", "-ERR Protocol error: invalid bulk length\r\n");
}

Test(protocol_errors, negative_bulk_length)
{
    CHECK("*1\r\n$-1\r\n", "-ERR Protocol error: invalid bulk length\r\n");
}

Test(protocol_errors, unbalanced_quotes_inline)
{
    CHECK("set \"a b\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n");
}

Test(protocol_errors, unbalanced_single_quotes_inline)
{
    CHECK("set 'a b\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n");
}

Test(protocol_errors, commands_before_the_error_are_answered)
{
    CHECK("PING\r\n*1\r\n$4\r\nPING\r\n*1\r\nxyz\r\n",
          "+PONG\r\n+PONG\r\n-ERR Protocol error: expected '$', got 'x'\r\n");
}

Test(protocol_errors, too_big_inline_request)
{
    /* More than 64 KB without a newline. */
    size_t n = 70000;
    char *big = malloc(n);
    cr_assert(big);
    memset(big, 'x', n);
    sc_server_start_or_fail(&srv, limits);
    int fd = sc_raw_connect_or_fail(srv.port);
    sc_raw_send(fd, big, n, 5000);   /* may fail part-way once the server closes */
    cr_assert(sc_raw_expect(fd, "-ERR Protocol error: too big inline request\r\n", 5000));
    cr_assert(sc_raw_wait_closed(fd, 5000));
    close(fd);
    free(big);
    assert_other_client_ok();
    sc_server_stop_or_fail(&srv);
}

Test(protocol_errors, empty_multibulk_is_ignored)
{
    sc_server_start_or_fail(&srv, limits);
    int fd = sc_raw_connect_or_fail(srv.port);
    cr_assert(sc_raw_send_str(fd, "*0\r\n*-1\r\nPING\r\n"));
    cr_assert(sc_raw_expect(fd, "+PONG\r\n", 5000));
    cr_assert(sc_raw_quiet(fd, 200), "unexpected extra reply");
    close(fd);
    sc_server_stop_or_fail(&srv);
}

Test(protocol_errors, bulk_at_exact_limit_is_accepted)
{
    sc_server_start_or_fail(&srv, (const char *const[]){ "--proto-max-bulk-len", "1mb", NULL });
    size_t n = 1024 * 1024;
    sc_buf req = { 0 };
    sc_buf_printf(&req, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%zu\r\n", n);
    char *val = malloc(n);
    cr_assert(val);
    memset(val, 'v', n);
    sc_buf_append(&req, val, n);
    sc_buf_append(&req, "\r\n*2\r\n$6\r\nSTRLEN\r\n$1\r\nk\r\n", 26);
    int fd = sc_raw_connect_or_fail(srv.port);
    cr_assert(sc_raw_send(fd, req.data, req.len, 10000));
    cr_assert(sc_raw_expect(fd, "+OK\r\n:1048576\r\n", 10000));
    close(fd);
    free(val);
    sc_buf_free(&req);
    sc_server_stop_or_fail(&srv);
}

Test(protocol_errors, query_buffer_limit_closes_connection)
{
    sc_server_start_or_fail(&srv, (const char *const[]){ "--client-query-buffer-limit", "1mb", NULL });
    int bystander = sc_raw_connect_or_fail(srv.port);
    int fd = sc_raw_connect_or_fail(srv.port);
    /* One 2 MB bulk (allowed by the default proto-max-bulk-len) sent in pieces. */
    const char *head = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n";
    cr_assert(sc_raw_send_str(fd, head));
    size_t piece = 64 * 1024, sent = 0;
    char *buf = malloc(piece);
    cr_assert(buf);
    memset(buf, 'q', piece);
    while (sent < 2000000) {
        size_t n = 2000000 - sent < piece ? 2000000 - sent : piece;
        if (!sc_raw_send(fd, buf, n, 5000)) break;   /* server closed on us: fine */
        sent += n;
    }
    free(buf);
    /* No reply; the connection is closed. */
    cr_assert(sc_raw_wait_closed(fd, 10000), "connection over the query buffer limit not closed");
    close(fd);
    cr_assert(sc_raw_send_str(bystander, "PING\r\nEXISTS k\r\n"));
    cr_assert(sc_raw_expect(bystander, "+PONG\r\n:0\r\n", 5000));
    close(bystander);
    assert_other_client_ok();
    sc_server_stop_or_fail(&srv);
}
