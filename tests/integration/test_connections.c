/*
 * test_connections.c - connection scale and misbehaving clients: 10,000
 * idle connections (then a new one still works and INFO counts them all),
 * clients that request large replies and close without reading them, and a
 * client that stops reading while others must still be served promptly.
 *
 * Servers run with --threads 4 (a no-op spelling for Redis: io-threads) so
 * connections spread over several workers.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server_proc.h"

#define IDLE 10000

static sc_server srv;

TestSuite(connections, .fini = sc_server_cleanup, .timeout = 300);

static bool clients_at_least(redisContext *c, long long n)
{
    return sc_info_ll_or_fail(c, "clients", "connected_clients") >= n;
}

static bool clients_at_most(redisContext *c, long long n)
{
    return sc_info_ll_or_fail(c, "clients", "connected_clients") <= n;
}

Test(connections, ten_thousand_idle_connections)
{
    long lim = sc_raise_nofile(IDLE + 2000);
    cr_assert(lim >= IDLE + 200, "RLIMIT_NOFILE only %ld; need %d", lim, IDLE + 200);
    sc_server_start_or_fail(&srv, (const char *const[]){ "--threads", "4", "--maxclients", "11000", NULL });
    redisContext *admin = sc_connect_or_fail(&srv);

    int *fds = malloc(sizeof(int) * IDLE);
    cr_assert(fds);
    /* Connect in batches and let the server catch up, so the accept queue
     * never overflows (a dropped SYN costs a 1 s retransmit). */
    for (int i = 0; i < IDLE; i++) {
        fds[i] = sc_raw_connect(srv.port);
        cr_assert(fds[i] >= 0, "connection %d failed: %s", i, strerror(errno));
        if ((i + 1) % 1000 == 0)
            cr_assert(SC_WAIT_FOR(clients_at_least(admin, i + 1 + 1), 20000),
                      "server did not accept %d connections", i + 1);
    }

    /* A new connection is served. */
    int fd = sc_raw_connect_or_fail(srv.port);
    cr_assert(sc_raw_send_str(fd, "PING\r\n"));
    cr_assert(sc_raw_expect(fd, "+PONG\r\n", 10000));
    close(fd);
    long long n = sc_info_ll_or_fail(admin, "clients", "connected_clients");
    cr_assert(n >= IDLE, "connected_clients %lld < %d", n, IDLE);
    cr_log_info("connected_clients with %d idle connections: %lld", IDLE, n);

    /* Some of the idle ones still answer. */
    for (int i = 0; i < IDLE; i += 997) {
        cr_assert(sc_raw_send_str(fds[i], "PING\r\n"));
        cr_assert(sc_raw_expect(fds[i], "+PONG\r\n", 10000), "idle connection %d dead", i);
    }

    for (int i = 0; i < IDLE; i++) close(fds[i]);
    free(fds);
    cr_assert(SC_WAIT_FOR(clients_at_most(admin, 1), 30000), "connected_clients still %lld after closing all",
              sc_info_ll_or_fail(admin, "clients", "connected_clients"));
    sc_cmd_expect_or_fail(admin, "PONG", "PING");
    redisFree(admin);
    sc_server_stop_or_fail(&srv);
}

static void set_value(redisContext *c, const char *key, size_t size)
{
    char *v = malloc(size);
    cr_assert(v);
    for (size_t i = 0; i < size; i++) v[i] = (char)('a' + i % 26);
    redisReply *r = sc_cmd_or_fail(c, "SET %s %b", key, v, size);
    cr_assert(r->type == REDIS_REPLY_STATUS, "SET %s of %zu bytes failed: %s", key, size, r->str);
    freeReplyObject(r);
    free(v);
}

static void close_abortively(int fd)
{
    struct linger lg = { 1, 0 };   /* RST instead of FIN */
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

Test(connections, large_replies_then_close_without_reading)
{
    sc_server_start_or_fail(&srv, (const char *const[]){ "--threads", "4", NULL });
    redisContext *admin = sc_connect_or_fail(&srv);
    set_value(admin, "big", (size_t)10 << 20);
    for (int k = 0; k < 10; k++) {
        char key[16];
        snprintf(key, sizeof key, "v%d", k);
        set_value(admin, key, 100 * 1024);
    }
    long long base_mem = sc_info_ll_or_fail(admin, "memory", "used_memory");

    for (int round = 0; round < 6; round++) {
        int fd = sc_raw_connect_or_fail(srv.port);
        sc_buf req = { 0 };
        if (round % 2 == 0) {
            for (int i = 0; i < 3; i++) sc_buf_append(&req, "GET big\r\n", 9);
        } else {
            for (int i = 0; i < 1000; i++) sc_buf_printf(&req, "GET v%d\r\n", i % 10);
        }
        cr_assert(sc_raw_send(fd, req.data, req.len, 10000));
        sc_buf_free(&req);
        /* Let the server start producing the replies, then go away. */
        char first[1];
        cr_assert_eq(sc_raw_recv_exact(fd, first, 1, 10000), 1u, "no reply started");
        if (round < 3) close(fd);
        else close_abortively(fd);
    }

    /* Healthy: PING answers, and the dropped clients and their output
     * buffers go away. */
    sc_cmd_expect_or_fail(admin, "PONG", "PING");
    cr_assert(SC_WAIT_FOR(clients_at_most(admin, 1), 20000), "dead clients still connected");
    cr_assert(SC_WAIT_FOR(sc_info_ll_or_fail(admin, "memory", "used_memory") < base_mem + (32 << 20), 20000),
              "used_memory %lld stays well above %lld after the clients left",
              sc_info_ll_or_fail(admin, "memory", "used_memory"), base_mem);
    redisReply *r = sc_cmd_or_fail(admin, "STRLEN big");
    cr_assert_eq(r->integer, 10 << 20);
    freeReplyObject(r);
    redisFree(admin);
    cr_assert(sc_server_alive(&srv));
    sc_server_stop_or_fail(&srv);
}

Test(connections, slow_reader_does_not_block_others)
{
    sc_server_start_or_fail(&srv, (const char *const[]){ "--threads", "4", NULL });
    redisContext *admin = sc_connect_or_fail(&srv);
    for (int k = 0; k < 10; k++) {
        char key[16];
        snprintf(key, sizeof key, "v%d", k);
        set_value(admin, key, 100 * 1024);
    }
    /* Several stuck readers, so at least one shares a worker with the
     * clients checked below whatever the connection spreading does. */
    int stuck[8];
    sc_buf req = { 0 };
    for (int i = 0; i < 500; i++) sc_buf_printf(&req, "GET v%d\r\n", i % 10);
    for (int s = 0; s < 8; s++) {
        stuck[s] = sc_raw_connect_or_fail(srv.port);
        cr_assert(sc_raw_send(stuck[s], req.data, req.len, 10000));
    }
    sc_buf_free(&req);

    /* Fresh clients get prompt answers while 8 x 50 MB sit unread. */
    for (int i = 0; i < 20; i++) {
        int fd = sc_raw_connect_or_fail(srv.port);
        long long t0 = sc_now_ms();
        cr_assert(sc_raw_send_str(fd, "PING\r\nGET v1\r\n"));
        /* Bounds scaled: under TSan (8x) on a loaded 2-core machine the
         * stuck readers' 400 MB of replies take the CPU as well. */
        cr_assert(sc_raw_expect(fd, "+PONG\r\n", sc_scaled_ms(2000)), "PING stalled behind a slow reader");
        char hdr[10];
        cr_assert_eq(sc_raw_recv_exact(fd, hdr, 10, sc_scaled_ms(2000)), 10u);
        cr_assert(memcmp(hdr, "$102400\r\n", 9) == 0);
        cr_assert(sc_now_ms() - t0 < sc_scaled_ms(2000));
        close(fd);
    }
    for (int s = 0; s < 8; s++) close(stuck[s]);
    cr_assert(SC_WAIT_FOR(clients_at_most(admin, 1), 20000), "stuck clients still connected after close");
    redisFree(admin);
    sc_server_stop_or_fail(&srv);
}
