/*
 * test_bus_redis.c - cluster/bus_msg.c against the real thing: a
 * redis-server 7.0 started with --cluster-enabled yes reads messages built
 * by our encoder and answers with messages that our validator and decoder
 * accept, which pins the format byte for byte to the reference.
 *
 * - MEET with a random name: redis-server answers a PONG (sender = its
 *   CLUSTER MYID, flags MASTER|MYSELF = 17, totlen = 2256 + 104 * count,
 *   ver 1) and lists our address as a handshake node; it then connects to
 *   our bus port and PINGs, our PONG completes the handshake (it renames
 *   the node to our id, flags master).
 * - Garbage (bad signature, a length under 2256) closes the link; a wrong
 *   version or a wrong length for a known type is dropped and the link
 *   stays (a PING on it still gets its PONG).
 * - 1500 random, mostly well-framed messages of every type leave a
 *   slotcache node up and answering (redis-server 7.0.15 crashes on them).
 *
 * Each test runs against redis-server and, as slotcache_*, against
 * slotcache's own bus: the same bytes must get the same answers.
 *
 * The test compiles cluster/bus_msg.c in (integration tests link no server
 * code; bus_msg.c is libc only). The bus port is passed as --cluster-port:
 * the harness picks the client port in the ephemeral range, where port +
 * 10000 may not exist.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server_proc.h"

#include "../../cluster/bus_msg.c"

static sc_server redis;

TestSuite(bus_redis, .fini = sc_server_cleanup, .timeout = 120);

/* ---- helpers ----------------------------------------------------------- */

static void random_name(char out[CLUSTER_NAMELEN])
{
    unsigned char r[CLUSTER_NAMELEN / 2];
    cr_assert_eq(getrandom(r, sizeof r, 0), (ssize_t)sizeof r);
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof r; i++) { /* no NUL: out holds exactly 40 characters */
        out[2 * i] = hex[r[i] >> 4];
        out[2 * i + 1] = hex[r[i] & 15];
    }
}

/* A listening socket on 127.0.0.1, port chosen by the kernel. */
static int listen_any(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0, "bind: %s", strerror(errno));
    cr_assert_eq(listen(fd, 8), 0);
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    *port = ntohs(a.sin_port);
    return fd;
}

/* The node under test: the reference redis-server, or slotcache (the
 * same exchanges prove our receiving side answers as Redis does). */
static void start_node_or_skip(bool reference, int *cport)
{
    const char *bin = reference ? sc_reference_redis_binary() : sc_server_binary();
    if (!bin) cr_skip_test("no redis-server");
    static char cport_s[16];
    *cport = sc_free_port_or_fail();
    snprintf(cport_s, sizeof cport_s, "%d", *cport);
    const char *args[] = {"--cluster-enabled", "yes", "--cluster-port", cport_s,
                          "--cluster-node-timeout", "5000", NULL};
    sc_server_start_bin_or_fail(&redis, bin, args);
}

/* Our fake node: a master with no slots. */
static bus_msg_self fake_self(const char *name, int port, int cport)
{
    bus_msg_self s = {0};
    memcpy(s.name, name, CLUSTER_NAMELEN);
    s.flags = BUS_NODE_MASTER | BUS_NODE_MYSELF;
    s.port = (uint16_t)port;
    s.cport = (uint16_t)cport;
    return s;
}

/* Read one whole message (8 bytes, then totlen) into a malloc'd buffer;
 * NULL on EOF or timeout. The prefix must pass bus_msg_check_prefix. */
static uint8_t *read_msg(int fd, size_t *len, int timeout_ms)
{
    uint8_t first[8];
    if (sc_raw_recv_exact(fd, first, 8, timeout_ms) != 8) return NULL;
    uint32_t totlen = 0;
    cr_assert_eq(bus_msg_check_prefix(first, &totlen), BUS_MSG_ACCEPT, "redis-server sent a bad prefix");
    cr_assert(totlen <= BUS_MSG_MAX_LEN);
    uint8_t *buf = malloc(totlen);
    memcpy(buf, first, 8);
    cr_assert_eq(sc_raw_recv_exact(fd, buf + 8, totlen - 8, timeout_ms), totlen - 8, "short message");
    *len = totlen;
    return buf;
}

static void send_msg(int fd, const void *buf, size_t len)
{
    cr_assert(sc_raw_send(fd, buf, len, 5000), "send to the bus failed");
}

static char *cmd_text(redisContext *c, const char *cmd)
{
    redisReply *r = sc_cmd_or_fail(c, cmd);
    cr_assert(r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS, "%s: unexpected reply type %d", cmd, r->type);
    char *s = strdup(r->str);
    freeReplyObject(r);
    return s;
}

/* CLUSTER INFO holds the line `field` ("name:value"). */
static void expect_info(redisContext *c, const char *field)
{
    char *info = cmd_text(c, "CLUSTER INFO");
    char line[128];
    snprintf(line, sizeof line, "%s\r\n", field);
    cr_assert(strstr(info, line), "no %s in CLUSTER INFO:\n%s", field, info);
    free(info);
}

/* The CLUSTER NODES line of node `name` (prefix match), copied; NULL if
 * absent. */
static char *nodes_line(redisContext *c, const char *name, size_t namelen)
{
    char *all = cmd_text(c, "CLUSTER NODES");
    char *line = NULL;
    for (char *p = all; *p;) {
        char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n >= namelen && memcmp(p, name, namelen) == 0) {
            line = strndup(p, n);
            break;
        }
        p += n + (nl ? 1 : 0);
    }
    free(all);
    return line;
}

/* A line of CLUSTER NODES (other than myself's) with address addr. */
static char *nodes_line_by_addr(redisContext *c, const char *addr)
{
    char *all = cmd_text(c, "CLUSTER NODES");
    char *line = NULL;
    for (char *p = all; *p;) {
        char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char *l = strndup(p, n);
        if (strstr(l, addr) && !strstr(l, "myself")) {
            line = l;
            break;
        }
        free(l);
        p += n + (nl ? 1 : 0);
    }
    free(all);
    return line;
}

/* Send a message on fd, read redis-server's answer: a valid PONG. */
static void expect_pong(int fd, const char *redis_id, bus_msg_view *v, uint8_t **keep)
{
    size_t len;
    uint8_t *pong = read_msg(fd, &len, 5000);
    cr_assert_not_null(pong, "no PONG from redis-server");
    cr_assert_eq(bus_msg_validate(pong, len), BUS_MSG_ACCEPT);
    bus_msg_decode(pong, len, v);
    cr_assert_eq(v->type, BUS_PONG, "got a %s", bus_msg_type_name(v->type));
    cr_assert(memcmp(v->hdr->sender, redis_id, CLUSTER_NAMELEN) == 0, "sender %.40s, CLUSTER MYID %.40s",
              v->hdr->sender, redis_id);
    cr_assert_eq(v->flags, BUS_NODE_MASTER | BUS_NODE_MYSELF);
    cr_assert_eq(v->totlen, BUS_HDR_LEN + 104u * v->count);
    cr_assert_eq(be16(v->hdr->ver), 1);
    *keep = pong;
}

/* The node connects to our bus port (lfd) to PING the handshake node we
 * are to it: check that PING, answer with a PONG from self (which gives
 * the node our real name). Returns the accepted socket. */
static int answer_first_ping(int lfd, const char *node_id, const bus_msg_self *self)
{
    struct pollfd p = {.fd = lfd, .events = POLLIN};
    cr_assert_eq(poll(&p, 1, sc_scaled_ms(5000)), 1, "the node did not connect to our bus port");
    int in = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    cr_assert(in >= 0);
    size_t len;
    uint8_t *ping = read_msg(in, &len, 5000);
    cr_assert_not_null(ping);
    cr_assert_eq(bus_msg_validate(ping, len), BUS_MSG_ACCEPT);
    bus_msg_view v;
    bus_msg_decode(ping, len, &v);
    cr_assert_eq(v.type, BUS_PING, "got a %s", bus_msg_type_name(v.type));
    cr_assert(memcmp(v.hdr->sender, node_id, CLUSTER_NAMELEN) == 0);
    cr_assert_eq(v.hdr->myip[0], 0);
    free(ping);
    static _Alignas(8) uint8_t out[4096];
    send_msg(in, out, bus_msg_ping(out, self, BUS_PONG, 0));
    return in;
}

/* ---- tests ------------------------------------------------------------- */

static void meet_pong_and_handshake(bool reference)
{
    int cport;
    start_node_or_skip(reference, &cport);
    redisContext *c = sc_connect_or_fail(&redis);
    char *redis_id = cmd_text(c, "CLUSTER MYID");
    cr_assert_eq(strlen(redis_id), 40);

    int our_cport;
    int lfd = listen_any(&our_cport);
    int our_port = sc_free_port_or_fail();
    char name[CLUSTER_NAMELEN];
    random_name(name);
    bus_msg_self self = fake_self(name, our_port, our_cport);

    /* MEET, as slotcache's bus sends it. */
    int fd = sc_raw_connect_or_fail(cport);
    static _Alignas(8) uint8_t out[8192];
    size_t n = bus_msg_ping(out, &self, BUS_MEET, 0);
    cr_assert_eq(n, 2256);
    send_msg(fd, out, n);

    bus_msg_view v;
    uint8_t *pong;
    expect_pong(fd, redis_id, &v, &pong);
    cr_assert_eq(v.port, redis.port);
    cr_assert_eq(v.cport, cport);
    cr_assert_eq(v.pport, 0);
    cr_assert_eq(v.state, 1, "a fresh node without slots is in state fail");
    cr_assert_eq(v.current_epoch, 0);
    cr_assert_eq(v.config_epoch, 0);
    cr_assert(v.is_master_sender);
    cr_assert_eq(v.extensions, 0);
    cr_assert_eq(v.mflags0, 0);
    cr_assert_null(v.hostname);
    for (size_t i = 0; i < BUS_IPLEN; i++) cr_assert_eq(v.hdr->myip[i], 0, "myip is not zero-filled");
    for (size_t i = 0; i < sizeof v.hdr->notused1; i++) cr_assert_eq(v.hdr->notused1[i], 0);
    free(pong);

    /* It lists us as a handshake node at the socket's address, and learnt
     * its own address from the MEET's local address. */
    char addr[64];
    snprintf(addr, sizeof addr, " 127.0.0.1:%d@%d ", our_port, our_cport);
    char *line = NULL;
    cr_assert(SC_WAIT_FOR((free(line), line = nodes_line_by_addr(c, addr)) != NULL, 3000),
              "redis-server does not list %s", addr);
    cr_assert(strstr(line, " handshake "), "not in handshake: %s", line);
    cr_assert(memcmp(line, name, CLUSTER_NAMELEN) != 0, "a handshake node has a random name");
    free(line);
    line = NULL;
    char *mine = nodes_line(c, redis_id, 40);
    char myaddr[64];
    snprintf(myaddr, sizeof myaddr, " 127.0.0.1:%d@%d myself,master ", redis.port, cport);
    cr_assert(strstr(mine, myaddr), "myself line: %s", mine);
    free(mine);

    /* Its cron connects to our bus port and PINGs the handshake node; our
     * PONG gives it our real name. */
    int in = answer_first_ping(lfd, redis_id, &self);

    cr_assert(SC_WAIT_FOR((free(line), line = nodes_line(c, name, CLUSTER_NAMELEN)) != NULL, 3000),
              "redis-server did not rename the handshake node to our id");
    cr_assert(strstr(line, addr), "%s", line);
    cr_assert(strstr(line, " master - "), "flags: %s", line);
    cr_assert(!strstr(line, "handshake"), "%s", line);
    free(line);

    /* CLUSTER INFO counts what we exchanged. */
    expect_info(c, "cluster_known_nodes:2");
    expect_info(c, "cluster_stats_messages_meet_received:1");

    close(in);
    close(fd);
    close(lfd);
    free(redis_id);
    redisFree(c);
    sc_server_stop_or_fail(&redis);
}

static void garbage_closes_the_link(bool reference)
{
    int cport;
    start_node_or_skip(reference, &cport);

    /* A bad signature. */
    int fd = sc_raw_connect_or_fail(cport);
    send_msg(fd, "RCmB\0\0\x08\xd0", 8);
    cr_assert(sc_raw_wait_closed(fd, 3000), "redis-server kept a link that sent a bad signature");
    close(fd);

    /* A good signature with totlen < 2256: a 16-byte "light" header. */
    char name[CLUSTER_NAMELEN];
    random_name(name);
    bus_msg_self self = fake_self(name, 1, 2);
    static _Alignas(8) uint8_t out[4096];
    bus_msg_ping(out, &self, BUS_PING, 0);
    out[4] = 0, out[5] = 0, out[6] = 0, out[7] = 16;
    fd = sc_raw_connect_or_fail(cport);
    send_msg(fd, out, 16);
    cr_assert(sc_raw_wait_closed(fd, 3000), "redis-server kept a link with totlen 16");
    close(fd);

    /* Our validator agrees on both. */
    cr_assert_eq(bus_msg_validate("RCmB\0\0\x08\xd0", 8), BUS_MSG_CLOSE);
    cr_assert_eq(bus_msg_check_prefix(out, NULL), BUS_MSG_CLOSE);

    redisContext *c = sc_connect_or_fail(&redis);
    sc_cmd_expect_or_fail(c, "PONG", "PING");
    redisFree(c);
    sc_server_stop_or_fail(&redis);
}

static void drops_keep_the_link(bool reference)
{
    int cport;
    start_node_or_skip(reference, &cport);
    redisContext *c = sc_connect_or_fail(&redis);
    char *redis_id = cmd_text(c, "CLUSTER MYID");
    char name[CLUSTER_NAMELEN];
    random_name(name);
    bus_msg_self self = fake_self(name, 1, 2);
    static _Alignas(8) uint8_t out[8192];
    int fd = sc_raw_connect_or_fail(cport);

    /* Version 2: dropped, no answer, link kept. */
    size_t n = bus_msg_ping(out, &self, BUS_PING, 0);
    out[9] = 2;
    cr_assert_eq(bus_msg_validate(out, n), BUS_MSG_DROP);
    send_msg(fd, out, n);
    cr_assert(sc_raw_quiet(fd, 300), "a version-2 PING got an answer or closed the link");

    /* A PING whose count does not match its length: dropped. */
    n = bus_msg_ping(out, &self, BUS_PING, 1);
    out[15] = 2;
    cr_assert_eq(bus_msg_validate(out, n), BUS_MSG_DROP);
    send_msg(fd, out, n);
    cr_assert(sc_raw_quiet(fd, 300), "a PING with a bad count got an answer or closed the link");

    /* A FAIL with one byte too many: dropped. */
    n = bus_msg_fail_build(out, &self, name);
    out[7] = (uint8_t)(out[7] + 1);
    out[n] = 0;
    cr_assert_eq(bus_msg_validate(out, n + 1), BUS_MSG_DROP);
    send_msg(fd, out, n + 1);
    cr_assert(sc_raw_quiet(fd, 300), "a long FAIL closed the link");

    /* A hostname extension with bad padding: dropped. */
    self.hostname = "abc";
    n = bus_msg_ping(out, &self, BUS_PING, 0);
    out[2256 + 3] = 12;
    cr_assert_eq(bus_msg_validate(out, n), BUS_MSG_DROP);
    send_msg(fd, out, n);
    cr_assert(sc_raw_quiet(fd, 300), "a badly padded extension closed the link");

    /* The link still works: a PING (with a good hostname extension) from an
     * unknown sender gets a PONG, and the sender is not added. */
    n = bus_msg_ping(out, &self, BUS_PING, 0);
    cr_assert_eq(bus_msg_validate(out, n), BUS_MSG_ACCEPT);
    send_msg(fd, out, n);
    bus_msg_view v;
    uint8_t *pong;
    expect_pong(fd, redis_id, &v, &pong);
    free(pong);
    expect_info(c, "cluster_known_nodes:1");
    /* Redis counts a message as received before its checks. */
    expect_info(c, "cluster_stats_messages_ping_received:4");
    expect_info(c, "cluster_stats_messages_fail_received:1");

    close(fd);
    free(redis_id);
    redisFree(c);
    sc_server_stop_or_fail(&redis);
}

/* cluster_stats_messages_received of CLUSTER INFO (0 when absent). */
static long long received_total(redisContext *c)
{
    char *info = cmd_text(c, "CLUSTER INFO");
    const char *p = strstr(info, "cluster_stats_messages_received:");
    long long n = p ? atoll(p + strlen("cluster_stats_messages_received:")) : 0;
    free(info);
    return n;
}

static uint32_t fuzz_next(uint64_t *st)
{
    *st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(*st >> 33);
}

/* Random messages, well framed (so the link lives and the bytes reach the
 * packet checks and processing), most from a peer the node knows (a
 * handshake first): every type, random counts, flags, slots, epochs,
 * roles, gossip about a few names (the node's own included), FAIL and
 * UPDATE about them, extension bits, and a few random bytes
 * flipped past the prefix; now and then a bad signature on a link of its
 * own, which must close it. The node must stay up and answer. slotcache
 * only: redis-server 7.0.15 itself crashes on such input
 * (clusterProcessPingExtensions walks a non-zero `extensions` count that
 * EXT_DATA did not make it check), so our encoder never sends one. */
static void survives_random_messages(bool reference)
{
    int cport;
    start_node_or_skip(reference, &cport);
    redisContext *c = sc_connect_or_fail(&redis);
    char *node_id = cmd_text(c, "CLUSTER MYID");
    uint64_t seed = (uint64_t)getpid() * 2654435761u ^ (uint64_t)sc_now_ms();
    const char *env = getenv("SLOTCACHE_BUS_FUZZ_SEED");
    if (env) seed = strtoull(env, NULL, 0);
    cr_log_info("bus fuzz seed %#llx (set SLOTCACHE_BUS_FUZZ_SEED to repeat)", (unsigned long long)seed);
    uint64_t st = seed;
#define RND() fuzz_next(&st)
    static _Alignas(8) uint8_t out[16384];

    /* First a known peer: MEET, then the handshake answered, so most
     * messages below come from a sender the node processes fully. */
    int our_cport;
    int lfd = listen_any(&our_cport);
    char known[CLUSTER_NAMELEN];
    random_name(known);
    bus_msg_self kself = fake_self(known, sc_free_port_or_fail(), our_cport);
    int fd = sc_raw_connect_or_fail(cport);
    send_msg(fd, out, bus_msg_ping(out, &kself, BUS_MEET, 0));
    bus_msg_view v;
    uint8_t *pong;
    expect_pong(fd, node_id, &v, &pong);
    free(pong);
    int in = answer_first_ping(lfd, node_id, &kself);
    char *line = NULL;
    cr_assert(SC_WAIT_FOR((free(line), line = nodes_line(c, known, CLUSTER_NAMELEN)) != NULL, 3000),
              "the handshake with our peer did not complete");
    free(line);
    /* Gossiped names: a small pool, so auto-discovery adds a few nodes. */
    char pool[8][CLUSTER_NAMELEN];
    for (int k = 0; k < 6; k++) random_name(pool[k]);
    memcpy(pool[6], node_id, CLUSTER_NAMELEN);
    memcpy(pool[7], known, CLUSTER_NAMELEN);

    int closes = 0;
    for (int i = 0; i < 1500; i++) {
        char name[CLUSTER_NAMELEN];
        uint32_t who = RND() % 4;
        if (who == 0) memcpy(name, node_id, CLUSTER_NAMELEN);
        else if (who == 1) random_name(name);
        else if (who == 2) memset(name, 0, sizeof name);
        else memcpy(name, known, CLUSTER_NAMELEN);
        int port = (int)(RND() % 65536);
        bus_msg_self self = fake_self(name, port, (int)(RND() % 65536));
        uint8_t slots[BUS_SLOT_BYTES];
        for (size_t k = 0; k < sizeof slots; k++) slots[k] = (uint8_t)RND();
        if (RND() % 2) self.slots = slots;
        self.flags = (uint16_t)RND();
        self.config_epoch = RND() % 4;
        self.current_epoch = RND() % 8;
        if (RND() % 3 == 0) {
            self.has_master = true;
            memcpy(self.slaveof, pool[RND() % 8], CLUSTER_NAMELEN);
        }
        if (RND() % 4 == 0) self.hostname = "fuzz-host";
        uint16_t type = (uint16_t)(RND() % 13);
        if (type == BUS_MEET && RND() % 8) type = BUS_PING; /* few handshake nodes */
        const char *about = pool[RND() % 8];
        size_t n;
        switch (type) {
        case BUS_PING: case BUS_PONG: case BUS_MEET: {
            uint16_t count = (uint16_t)(RND() % 5);
            n = bus_msg_ping(out, &self, type, count);
            for (unsigned g = 0; g < count; g++) {
                bus_msg_node_info ni = {.name = pool[RND() % 8], .ip = "127.0.0.1"};
                ni.port = (uint16_t)RND();
                ni.cport = (uint16_t)RND();
                ni.flags = (uint16_t)(RND() & ~BUS_NODE_MYSELF);
                ni.pong_received_ms = (long long)RND() * 1000;
                bus_msg_gossip_set(bus_msg_gossip_at(out, g), &ni);
            }
            break;
        }
        case BUS_FAIL: n = bus_msg_fail_build(out, &self, about); break;
        case BUS_UPDATE: n = bus_msg_update_build(out, &self, about, RND() % 9, slots); break;
        case BUS_PUBLISH: case BUS_PUBLISHSHARD: n = bus_msg_publish_build(out, &self, type, "ch", 2, "msg", 3); break;
        case BUS_MODULE: n = bus_msg_module_build(out, &self, RND(), 1, "abc", 3); break;
        default: n = bus_msg_bare_build(out, &self, type); break;
        }
        /* Flip a few bytes after the prefix (a wrong totlen would swallow
         * the messages that follow); now and then one of the signature. */
        for (uint32_t k = RND() % 4; k > 0; k--) out[8 + RND() % (n - 8)] = (uint8_t)RND();
        if (RND() % 100 == 0) {
            /* On a link of its own: what we queued behind it would be lost. */
            out[RND() % 4] ^= (uint8_t)(1 + RND() % 255);
            int gfd = sc_raw_connect_or_fail(cport);
            sc_raw_send(gfd, out, n, 2000);
            cr_assert(sc_raw_wait_closed(gfd, 5000), "a bad signature did not close the link");
            close(gfd);
            closes++;
            continue;
        }
        cr_assert(sc_raw_send(fd, out, n, 5000), "the node closed a link that sent well-framed messages");
        char sink[65536]; /* PONGs, and PINGs to our peer: read and dropped */
        while (recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0) {}
        while (recv(in, sink, sizeof sink, MSG_DONTWAIT) > 0) {}
    }
#undef RND
    /* Wait until the node has processed all it received. */
    long long last = -1, now_count;
    while ((now_count = received_total(c)) != last) {
        last = now_count;
        sc_sleep_ms(300);
    }
    close(fd);
    close(in);
    close(lfd);
    cr_log_info("bus fuzz: %d bad signatures, %lld messages processed", closes, last);
    /* Unknown types (11, 12 and flipped type bytes) are not counted. */
    cr_assert(last > 1000, "only %lld messages reached the packet checks", last);
    sc_cmd_expect_or_fail(c, "PONG", "PING");
    char *info = cmd_text(c, "CLUSTER INFO");
    cr_assert(strstr(info, "cluster_state:"), "%s", info);
    free(info);
    free(node_id);
    redisFree(c);
    sc_server_stop_or_fail(&redis);
}

/* ---- what a peer says that must not be taken (slotcache) --------------- */

/* A fake node slotcache knows under its real name: our MEET, its PING to
 * the handshake node answered. *fd is the link we opened (slotcache knows
 * us as the sender there), *in the one it opened, *lfd our listener. */
typedef struct fake_peer {
    int fd, in, lfd;
    char name[CLUSTER_NAMELEN + 1];
    char *id; /* slotcache's CLUSTER MYID */
    bus_msg_self self;
    redisContext *c;
} fake_peer;

static void fake_join(fake_peer *p)
{
    int cport;
    start_node_or_skip(false, &cport);
    p->c = sc_connect_or_fail(&redis);
    p->id = cmd_text(p->c, "CLUSTER MYID");
    int our_cport;
    p->lfd = listen_any(&our_cport);
    memset(p->name, 0, sizeof p->name);
    random_name(p->name);
    p->self = fake_self(p->name, sc_free_port_or_fail(), our_cport);
    p->fd = sc_raw_connect_or_fail(cport);
    static _Alignas(8) uint8_t out[4096];
    send_msg(p->fd, out, bus_msg_ping(out, &p->self, BUS_MEET, 0));
    bus_msg_view v;
    uint8_t *pong;
    expect_pong(p->fd, p->id, &v, &pong);
    free(pong);
    p->in = answer_first_ping(p->lfd, p->id, &p->self);
    char *line = NULL;
    cr_assert(SC_WAIT_FOR((free(line), line = nodes_line(p->c, p->name, CLUSTER_NAMELEN)) != NULL, 3000),
              "the handshake did not complete");
    free(line);
}

static void fake_leave(fake_peer *p)
{
    close(p->in);
    close(p->fd);
    close(p->lfd);
    free(p->id);
    redisFree(p->c);
    sc_server_stop_or_fail(&redis);
}

/* A PING from the fake with one gossip entry (NULL: none). */
static void fake_ping(fake_peer *p, const bus_msg_node_info *gossip)
{
    static _Alignas(8) uint8_t out[8192];
    uint16_t count = gossip ? 1 : 0;
    cr_assert(bus_msg_ping_len(count, p->self.hostname) <= sizeof out);
    size_t n = bus_msg_ping(out, &p->self, BUS_PING, count);
    if (gossip) bus_msg_gossip_set(bus_msg_gossip_at(out, 0), gossip);
    send_msg(p->fd, out, n);
    size_t len;
    free(read_msg(p->fd, &len, 5000)); /* the PONG: processed by then */
}

Test(bus_redis, slotcache_gossip_flags_and_addresses_checked)
{
    fake_peer p;
    fake_join(&p);
    /* A new node gossiped with flags that are not the peer's to give. */
    char x[CLUSTER_NAMELEN + 1] = {0}, y[CLUSTER_NAMELEN + 1] = {0};
    random_name(x);
    random_name(y);
    bus_msg_node_info gx = {.name = x, .ip = "127.0.0.1", .port = 1, .cport = 2,
                            .flags = BUS_NODE_MASTER | BUS_NODE_PFAIL | BUS_NODE_FAIL | BUS_NODE_MYSELF |
                                     BUS_NODE_HANDSHAKE | BUS_NODE_MEET};
    fake_ping(&p, &gx);
    char *line = NULL;
    cr_assert(SC_WAIT_FOR((free(line), line = nodes_line(p.c, x, CLUSTER_NAMELEN)) != NULL, 3000),
              "the gossiped node was not added");
    cr_assert(strstr(line, " master "), "flags: %s", line);
    cr_assert(!strstr(line, "fail") && !strstr(line, "myself") && !strstr(line, "handshake") && !strstr(line, "meet"),
              "flags taken from gossip: %s", line);
    free(line);
    /* An address that is not an ip: the entry is skipped. */
    bus_msg_node_info gy = {.name = y, .ip = "1.2.3.4 x", .port = 1, .cport = 2, .flags = BUS_NODE_MASTER};
    fake_ping(&p, &gy);
    /* A hostname with a space and a newline: ignored. */
    p.self.hostname = "evil host\nfoo";
    fake_ping(&p, NULL);
    p.self.hostname = NULL;
    line = nodes_line(p.c, y, CLUSTER_NAMELEN);
    cr_assert_null(line, "node with a bad ip added: %s", line);
    char *all = cmd_text(p.c, "CLUSTER NODES");
    cr_assert(!strstr(all, "evil"), "%s", all);
    free(all);
    fake_leave(&p);
}

Test(bus_redis, slotcache_sender_claiming_to_replicate_itself_stays_master)
{
    fake_peer p;
    fake_join(&p);
    p.self.flags = BUS_NODE_SLAVE | BUS_NODE_MYSELF;
    p.self.has_master = true;
    memcpy(p.self.slaveof, p.name, CLUSTER_NAMELEN);
    fake_ping(&p, NULL);
    char *line = nodes_line(p.c, p.name, CLUSTER_NAMELEN);
    cr_assert_not_null(line);
    cr_assert(strstr(line, " master - "), "%s", line);
    free(line);
    freeReplyObject(sc_cmd_or_fail(p.c, "CLUSTER SHARDS")); /* walks masters and replicas */
    fake_leave(&p);
}

Test(bus_redis, slotcache_update_about_myself_changes_nothing)
{
    fake_peer p;
    fake_join(&p);
    /* The fake owns slots 0-7 with epoch 5; slotcache replicates it. */
    static uint8_t slots[BUS_SLOT_BYTES];
    slots[0] = 0xff;
    p.self.slots = slots;
    p.self.config_epoch = p.self.current_epoch = 5;
    fake_ping(&p, NULL);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "CLUSTER REPLICATE %.40s", p.name);
    free(cmd_text(p.c, cmd));
    static _Alignas(8) uint8_t out[BUS_UPDATE_LEN];
    send_msg(p.fd, out, bus_msg_update_build(out, &p.self, p.id, 100, slots));
    fake_ping(&p, NULL); /* the UPDATE was processed before this PONG */
    char *mine = nodes_line(p.c, p.id, 40);
    cr_assert(strstr(mine, "myself,slave "), "myself: %s", mine);
    free(mine);
    fake_leave(&p);
}

Test(bus_redis, slotcache_handshake_pong_in_my_name_keeps_my_address)
{
    int cport;
    start_node_or_skip(false, &cport);
    redisContext *c = sc_connect_or_fail(&redis);
    char *id = cmd_text(c, "CLUSTER MYID");
    int our_cport;
    int lfd = listen_any(&our_cport);
    int our_port = sc_free_port_or_fail();
    char cmd[96];
    snprintf(cmd, sizeof cmd, "CLUSTER MEET 127.0.0.1 %d %d", our_port, our_cport);
    free(cmd_text(c, cmd));
    /* Its MEET to the handshake node gets a PONG in its own name, with
     * another address. */
    bus_msg_self forged = fake_self(id, 1, 2);
    memcpy(forged.myip, "6.6.6.6", 8);
    struct pollfd pl = {.fd = lfd, .events = POLLIN};
    cr_assert_eq(poll(&pl, 1, sc_scaled_ms(5000)), 1, "the node did not connect to our bus port");
    int in = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    cr_assert(in >= 0);
    size_t len;
    free(read_msg(in, &len, 5000));
    static _Alignas(8) uint8_t out[4096];
    send_msg(in, out, bus_msg_ping(out, &forged, BUS_PONG, 0));
    char addr[64];
    snprintf(addr, sizeof addr, " 127.0.0.1:%d@%d ", our_port, our_cport);
    char *line = NULL;
    cr_assert(SC_WAIT_FOR((free(line), line = nodes_line_by_addr(c, addr)) == NULL, 3000),
              "the handshake node stayed: %s", line);
    char *mine = nodes_line(c, id, 40);
    cr_assert(!strstr(mine, "6.6.6.6") && strstr(mine, "myself,master"), "myself: %s", mine);
    free(mine);
    close(in);
    close(lfd);
    free(id);
    redisFree(c);
    sc_server_stop_or_fail(&redis);
}

Test(bus_redis, meet_pong_and_handshake) { meet_pong_and_handshake(true); }
Test(bus_redis, garbage_closes_the_link) { garbage_closes_the_link(true); }
Test(bus_redis, drops_keep_the_link) { drops_keep_the_link(true); }
Test(bus_redis, slotcache_meet_pong_and_handshake) { meet_pong_and_handshake(false); }
Test(bus_redis, slotcache_garbage_closes_the_link) { garbage_closes_the_link(false); }
Test(bus_redis, slotcache_drops_keep_the_link) { drops_keep_the_link(false); }
Test(bus_redis, slotcache_survives_random_messages) { survives_random_messages(false); }
