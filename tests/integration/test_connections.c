/*
 * test_connections.c - connection scale and misbehaving clients: 10,000
 * idle connections (then a new one still works and INFO counts them all),
 * clients that request large replies and close without reading them, and a
 * client that stops reading while others must still be served promptly,
 * and protected mode (a client from a non-loopback address of this machine).
 *
 * Servers run with --threads 4 (a no-op spelling for Redis: io-threads) so
 * connections spread over several workers.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
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

/* A local IPv4 address that is not loopback ("" when there is none). */
static void non_loopback_ipv4(char *out, size_t len)
{
    out[0] = '\0';
    struct ifaddrs *ifs;
    if (getifaddrs(&ifs) != 0) return;
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP)) continue;
        const struct sockaddr_in *a = (const struct sockaddr_in *)i->ifa_addr;
        if ((ntohl(a->sin_addr.s_addr) >> 24) == 127) continue;
        inet_ntop(AF_INET, &a->sin_addr, out, (socklen_t)len);
        break;
    }
    freeifaddrs(ifs);
}

/* What a client connecting to ip:port reads first (up to 127 bytes). */
static void first_reply(const char *ip, int port, const char *send, char *buf, size_t len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, ip, &a.sin_addr);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0, "connect %s:%d: %s", ip, port, strerror(errno));
    cr_assert(sc_raw_send_str(fd, send));
    size_t got = 0;
    long long deadline = sc_now_ms() + sc_scaled_ms(5000);
    while (got < len - 1 && sc_now_ms() < deadline) {
        ssize_t n = recv(fd, buf + got, len - 1 - got, MSG_DONTWAIT);
        if (n > 0) got += (size_t)n;
        else if (n == 0) break;
        else if (got && strstr(buf, "\r\n")) break;
        else usleep(10000);
        buf[got] = '\0';
    }
    buf[got] = '\0';
    close(fd);
}

/* Redis 7.0's protected mode: without a password, a client that is not on
 * loopback gets -DENIED, whatever `bind` says; protected-mode no or a
 * password lets it in. */
Test(connections, protected_mode_refuses_non_loopback_clients)
{
    char ip[64];
    non_loopback_ipv4(ip, sizeof ip);
    if (!ip[0]) cr_skip_test("no non-loopback IPv4 address on this machine");
    char buf[128];
    sc_server_start_or_fail(&srv, (const char *const[]){ "--bind", "0.0.0.0", NULL });
    first_reply(ip, srv.port, "PING\r\n", buf, sizeof buf);
    cr_assert(!strncmp(buf, "-DENIED Redis is running in protected mode", 42), "from %s: %s", ip, buf);
    first_reply("127.0.0.1", srv.port, "PING\r\n", buf, sizeof buf);
    cr_assert_str_eq(buf, "+PONG\r\n");
    sc_server_stop_or_fail(&srv);

    sc_server_start_or_fail(&srv, (const char *const[]){ "--bind", "0.0.0.0", "--protected-mode", "no", NULL });
    first_reply(ip, srv.port, "PING\r\n", buf, sizeof buf);
    cr_assert_str_eq(buf, "+PONG\r\n", "from %s with protected-mode no", ip);
    sc_server_stop_or_fail(&srv);

    sc_server_start_or_fail(&srv, (const char *const[]){ "--bind", "0.0.0.0", "--requirepass", "pw", NULL });
    first_reply(ip, srv.port, "AUTH pw\r\n", buf, sizeof buf);
    cr_assert_str_eq(buf, "+OK\r\n", "from %s with a password", ip);
    sc_server_stop_or_fail(&srv);
}
