/*
 * test_cluster_route.c - routing in cluster mode on one node, side by side
 * with a real redis-server 7.0 cluster node given the same slots: every
 * reply is compared byte for byte with Redis's, and with the bytes Redis
 * 7.0.15 answers (written here, so the suite still checks slotcache when no
 * redis-server is installed).
 *
 * One node cannot know another without the bus, so MOVED / ASK and their
 * byte format, migrating and importing slots are tested on hand-built maps
 * in tests/unit/test_route.c. Here:
 * - a node without slots: CLUSTERDOWN Hash slot not served, keyless
 *   commands served, SELECT / MOVE / SWAPDB / COPY, ASKING / READONLY /
 *   READWRITE, HELLO's mode and INFO's redis_mode;
 * - half the slots with cluster-require-full-coverage yes (cluster_state
 *   fail): CLUSTERDOWN The cluster is down, the unassigned and CROSSSLOT
 *   answers that come first, cluster-allow-reads-when-down, shard pub/sub
 *   and cluster-allow-pubsubshard-when-down;
 * - all the slots: CROSSSLOT (MSET, MGET, DEL, WATCH, SUNSUBSCRIBE, BITOP), hash
 *   tags, MULTI with a redirect at queue time (EXECABORT) and a CROSSSLOT
 *   across queued commands at EXEC (discarded, nothing run), ASKING kept
 *   across MULTI, COPY / MOVE in cluster mode, INFO errorstats;
 * - a client blocked (BLPOP, XREAD BLOCK) on a slot that becomes unassigned gets
 *   CLUSTERDOWN Hash slot not served, and The cluster is down when the
 *   cluster state turns to fail;
 * - a standalone server answers ASKING / READONLY / READWRITE with
 *   "ERR This instance has cluster support disabled";
 * - SORT's BY and GET patterns refused as Redis 7.0.15 refuses them, SORT
 *   ... STORE and LCS routed by their keys (CROSSSLOT).
 */
#include "server_proc.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IO_MS 10000

typedef struct peer {
    const char *what;
    sc_server srv;
    int fd;
    sc_reader rd;
} peer;

static peer sc, ref;
static bool have_ref;

static void fini(void) { sc_server_cleanup(); }

TestSuite(cluster_route, .fini = fini, .timeout = 120);

/* ---- servers and connections ---- */

static void peer_connect(peer *p) {
    p->fd = sc_raw_connect_or_fail(p->srv.port);
    sc_reader_init(&p->rd, p->fd);
}

static void peer_close(peer *p) {
    sc_reader_free(&p->rd);
    close(p->fd);
}

static void peer_start(peer *p, const char *bin, bool cluster) {
    char cport[16];
    snprintf(cport, sizeof cport, "%d", sc_free_port_or_fail());
    /* slotcache with two workers: a blocked client and the command that
     * moves its slot may then run on different workers. */
    const char *args[] = {"--threads", "2", "--cluster-enabled", "yes", "--cluster-port", cport, NULL};
    if (!cluster) args[2] = NULL;
    if (bin)
        sc_server_start_bin_or_fail(&p->srv, bin, args + 2); /* Redis's I/O threads would only spin */
    else
        sc_server_start_or_fail(&p->srv, args);
    peer_connect(p);
}

/* slotcache, and redis-server when there is one, both in cluster mode or
 * both standalone. */
static void start(bool cluster) {
    sc.what = "slotcache";
    ref.what = "redis-server";
    peer_start(&sc, NULL, cluster);
    const char *bin = sc_reference_redis_binary();
    have_ref = bin != NULL;
    if (have_ref) peer_start(&ref, bin, cluster);
}

static void stop(void) {
    peer_close(&sc);
    sc_server_stop_or_fail(&sc.srv);
    if (have_ref) {
        peer_close(&ref);
        sc_server_stop_or_fail(&ref.srv);
    }
}

/* Printable RESP for messages (static buffers). */
static const char *show(const char *p) {
    static char out[2][1024];
    static int which;
    char *o = out[which ^= 1];
    size_t k = 0;
    for (; *p && k < sizeof out[0] - 8; p++) {
        if (*p == '\r') {
            o[k++] = '\\';
            o[k++] = 'r';
        } else if (*p == '\n') {
            o[k++] = '\\';
            o[k++] = 'n';
        } else {
            o[k++] = *p;
        }
    }
    o[k] = '\0';
    return out[which];
}

/* The raw reply of a line of words on a connection (caller frees). */
static char *call_fd(peer *p, int fd, sc_reader *rd, const char *line) {
    sc_raw_send_line_or_fail(fd, line);
    char *r;
    cr_assert(sc_reader_next(rd, &r, NULL, IO_MS), "%s: no reply to %s", p->what, line);
    return r;
}

static char *call(peer *p, const char *line) { return call_fd(p, p->fd, &p->rd, line); }

/* The line on both servers: slotcache's reply must be `expect` (when not
 * NULL) and equal to redis-server's. */
static void both(const char *line, const char *expect) {
    char *a = call(&sc, line);
    if (expect) cr_assert_str_eq(a, expect, "%s: slotcache answered %s, want %s", line, show(a), show(expect));
    if (have_ref) {
        char *b = call(&ref, line);
        cr_assert_str_eq(a, b, "%s:\n  slotcache    %s\n  redis-server %s", line, show(a), show(b));
        free(b);
    }
    free(a);
}

/* The same line on both, where the reply holds `part` (replies that carry
 * per-server values such as a client id). */
static void both_contain(const char *line, const char *part) {
    peer *ps[2] = {&sc, &ref};
    for (int i = 0; i < (have_ref ? 2 : 1); i++) {
        char *r = call(ps[i], line);
        cr_assert(strstr(r, part), "%s: %s answered %s, without %s", line, ps[i]->what, show(r), show(part));
        free(r);
    }
}

static bool state_is(peer *p, const char *want) {
    char *r = call(p, "CLUSTER INFO");
    bool ok = strstr(r, want) != NULL;
    free(r);
    return ok;
}

/* Poll both nodes (bounded) until CLUSTER INFO says `state`. */
static void wait_state(const char *state) {
    char want[64];
    snprintf(want, sizeof want, "cluster_state:%s\r\n", state);
    cr_assert(SC_WAIT_FOR(state_is(&sc, want), 10000), "slotcache never reached cluster_state:%s", state);
    if (have_ref)
        cr_assert(SC_WAIT_FOR(state_is(&ref, want), 10000), "redis-server never reached cluster_state:%s", state);
}

/* One errorstat line of INFO errorstats ("" when absent; static buffer). */
static const char *errorstat(peer *p, const char *code) {
    static char out[128];
    char *r = call(p, "INFO errorstats");
    char key[64];
    snprintf(key, sizeof key, "errorstat_%s:", code);
    const char *at = strstr(r, key);
    size_t n = at ? strcspn(at, "\r") : 0;
    snprintf(out, sizeof out, "%.*s", (int)n, at ? at : "");
    free(r);
    return out;
}

/* Keys and their slots (redis-server's CLUSTER KEYSLOT): a 15495, b 3300,
 * {a}x and {a}y 15495. */
#define UNBOUND "-CLUSTERDOWN Hash slot not served\r\n"
#define DOWN "-CLUSTERDOWN The cluster is down\r\n"
#define DOWN_RO "-CLUSTERDOWN The cluster is down and only accepts read commands\r\n"
#define CROSSSLOT "-CROSSSLOT Keys in request don't hash to the same slot\r\n"

/* ---- tests ---- */

Test(cluster_route, node_without_slots) {
    start(true);
    both("GET a", UNBOUND);
    both("SET a 1", UNBOUND);
    both("MSET a 1 b 2", UNBOUND);
    both("MOVE a 1", UNBOUND); /* routing comes before the command's own check */
    both("COPY a b DB 1", UNBOUND);
    /* Commands without keys are served. */
    both("PING", "+PONG\r\n");
    both("DBSIZE", ":0\r\n");
    /* Database 0 only. */
    both("SELECT 0", "+OK\r\n");
    both("SELECT 1", "-ERR SELECT is not allowed in cluster mode\r\n");
    both("SELECT -1", "-ERR SELECT is not allowed in cluster mode\r\n");
    both("SELECT 16", "-ERR SELECT is not allowed in cluster mode\r\n");
    both("SELECT abc", "-ERR value is not an integer or out of range\r\n");
    both("SELECT 3000000000", "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n");
    both("SWAPDB 0 1", "-ERR SWAPDB is not allowed in cluster mode\r\n");
    both("SWAPDB a b", "-ERR SWAPDB is not allowed in cluster mode\r\n");
    /* The cluster commands of a client. */
    both("ASKING", "+OK\r\n");
    both("READONLY", "+OK\r\n");
    both("READWRITE", "+OK\r\n");
    both("MULTI", "+OK\r\n");
    both("ASKING", "+QUEUED\r\n");
    both("READONLY", "+QUEUED\r\n");
    both("EXEC", "*2\r\n+OK\r\n+OK\r\n");
    both("RESET", "+RESET\r\n");
    /* The mode, in HELLO and INFO. */
    both_contain("HELLO 3", "$4\r\nmode\r\n$7\r\ncluster\r\n");
    both_contain("HELLO 2", "$4\r\nmode\r\n$7\r\ncluster\r\n");
    both_contain("INFO server", "\r\nredis_mode:cluster\r\n");
    both_contain("INFO cluster", "# Cluster\r\ncluster_enabled:1\r\n");
    stop();
}

Test(cluster_route, cluster_down_and_its_settings) {
    start(true);
    both("CLUSTER ADDSLOTSRANGE 0 8191", "+OK\r\n");
    /* Half the slots with cluster-require-full-coverage yes: fail. Let the
     * nodes settle (Redis updates its state from its cron). */
    sc_sleep_ms(300);
    wait_state("fail");
    both("GET b", DOWN);
    both("SET b 1", DOWN);
    both("GET a", UNBOUND);                          /* unassigned first */
    both("MGET b a", CROSSSLOT);                     /* CROSSSLOT first */
    both("SPUBLISH b x", ":0\r\n");                  /* shard pub/sub: allowed by default */
    both("PING", "+PONG\r\n");
    both("CONFIG SET cluster-allow-reads-when-down yes", "+OK\r\n");
    both("GET b", "$-1\r\n");
    both("EXISTS b b", ":0\r\n");
    both("SET b 1", DOWN_RO);
    both("GET a", UNBOUND);
    both("MULTI", "+OK\r\n");
    both("GET b", "+QUEUED\r\n");
    both("SET b 1", DOWN_RO);
    both("EXEC", "-EXECABORT Transaction discarded because of previous errors.\r\n");
    both("CONFIG SET cluster-allow-pubsubshard-when-down no", "+OK\r\n");
    both("SPUBLISH b x", DOWN);
    both("CONFIG SET cluster-allow-reads-when-down no", "+OK\r\n");
    both("GET b", DOWN);
    /* Covering every slot brings the state back to ok. */
    both("CLUSTER ADDSLOTSRANGE 8192 16383", "+OK\r\n");
    wait_state("ok");
    both("GET b", "$-1\r\n");
    both("SPUBLISH b x", ":0\r\n");
    stop();
}

Test(cluster_route, all_slots_crossslot_and_transactions) {
    start(true);
    both("CLUSTER ADDSLOTSRANGE 0 16383", "+OK\r\n");
    wait_state("ok");
    both("SET a 1", "+OK\r\n");
    both("MSET a 1 b 2", CROSSSLOT);
    both("MGET a b", CROSSSLOT);
    both("DEL a b", CROSSSLOT);
    both("EXISTS a a", ":2\r\n"); /* one key twice: one slot */
    both("MSET {a}x 1 {a}y 2", "+OK\r\n");
    both("MGET {a}x {a}y", "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
    both("MGET {a}x {a}y a", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n1\r\n"); /* "a" is in {a}'s slot */
    both("WATCH a b", CROSSSLOT);
    both("SUNSUBSCRIBE a b", CROSSSLOT);
    both("COPY a {a}c DB 1", "-ERR Copying to another database is not allowed in cluster mode\r\n");
    both("COPY a {a}c DB 0", ":1\r\n");
    both("COPY a {a}d", ":1\r\n");
    both("COPY a b", CROSSSLOT);
    both("BITOP AND {a}d a b", CROSSSLOT); /* destination and sources: one slot */
    both("BITOP OR b a", CROSSSLOT);
    both("BITOP OR {a}e a {a}x", ":1\r\n");
    both("MOVE a 1", "-ERR MOVE is not allowed in cluster mode\r\n");
    both("SELECT 0", "+OK\r\n");

    /* A redirect while queueing: the command answers it and EXEC aborts. */
    both("MULTI", "+OK\r\n");
    both("SET a 2", "+QUEUED\r\n");
    both("MGET a b", CROSSSLOT);
    both("EXEC", "-EXECABORT Transaction discarded because of previous errors.\r\n");
    both("GET a", "$1\r\n1\r\n");
    /* Keys of different slots across queued commands: EXEC answers
     * CROSSSLOT and the transaction is discarded, nothing run. */
    both("MULTI", "+OK\r\n");
    both("SET a 2", "+QUEUED\r\n");
    both("SET b 2", "+QUEUED\r\n");
    both("EXEC", CROSSSLOT);
    both("EXEC", "-ERR EXEC without MULTI\r\n");
    both("GET a", "$1\r\n1\r\n");
    both("GET b", "$-1\r\n");
    /* One slot across the queue runs. */
    both("MULTI", "+OK\r\n");
    both("SET {a}x 3", "+QUEUED\r\n");
    both("GET a", "+QUEUED\r\n");
    both("EXEC", "*2\r\n+OK\r\n$1\r\n1\r\n");
    /* WATCH then a cross-slot EXEC: discarded (and unwatched). */
    both("WATCH a", "+OK\r\n");
    both("MULTI", "+OK\r\n");
    both("GET a", "+QUEUED\r\n");
    both("GET b", "+QUEUED\r\n");
    both("EXEC", CROSSSLOT);
    /* ASKING lasts across MULTI until EXEC, and one command otherwise: with
     * no slot being imported its effect cannot show here, but the replies
     * and what runs must be the same. */
    both("ASKING", "+OK\r\n");
    both("MULTI", "+OK\r\n");
    both("GET a", "+QUEUED\r\n");
    both("EXEC", "*1\r\n$1\r\n1\r\n");
    both("ASKING", "+OK\r\n");
    both("GET a", "$1\r\n1\r\n");
    both("GET a", "$1\r\n1\r\n");
    /* Redirects are counted as errors. */
    if (have_ref) {
        char want[128];
        snprintf(want, sizeof want, "%s", errorstat(&ref, "CROSSSLOT"));
        cr_assert_str_eq(errorstat(&sc, "CROSSSLOT"), want);
        cr_assert_str_neq(want, "");
    }
    stop();
}

/* A connection blocked in `blocking` (BLPOP, XREAD BLOCK...) gets `expect`
 * when `line` runs on the other connection. */
static void blocked_gets(const char *blocking, const char *line, const char *expect) {
    peer *ps[2] = {&sc, &ref};
    int fds[2];
    sc_reader rds[2];
    for (int i = 0; i < (have_ref ? 2 : 1); i++) {
        fds[i] = sc_raw_connect_or_fail(ps[i]->srv.port);
        sc_reader_init(&rds[i], fds[i]);
        sc_raw_send_line_or_fail(fds[i], blocking);
        /* Blocked: nothing comes back while the node serves others. */
        cr_assert(SC_WAIT_FOR(({
                                  char *r = call(ps[i], "INFO clients");
                                  bool b = strstr(r, "\r\nblocked_clients:1\r\n") != NULL;
                                  free(r);
                                  b;
                              }),
                              5000),
                  "%s: %s never blocked", ps[i]->what, blocking);
    }
    both(line, "+OK\r\n");
    for (int i = 0; i < (have_ref ? 2 : 1); i++) {
        char *r;
        /* Redis redirects blocked clients from clientsCron: about 1 s. */
        cr_assert(sc_reader_next(&rds[i], &r, NULL, 5000), "%s: the blocked client got no reply", ps[i]->what);
        cr_assert_str_eq(r, expect, "%s: the blocked client got %s, want %s", ps[i]->what, show(r), show(expect));
        free(r);
        char *again = call_fd(ps[i], fds[i], &rds[i], "PING");
        cr_assert_str_eq(again, "+PONG\r\n", "%s: the client is not free after the redirect", ps[i]->what);
        free(again);
        sc_reader_free(&rds[i]);
        close(fds[i]);
    }
}

Test(cluster_route, blocked_clients_on_slots_that_go_away) {
    start(true);
    both("CLUSTER ADDSLOTSRANGE 0 16383", "+OK\r\n");
    wait_state("ok");
    /* A slot is given up and the cluster goes down (full coverage is
     * required): even a client blocked on a slot still ours. */
    blocked_gets("BLPOP a 0", "CLUSTER DELSLOTS 3300", DOWN);
    wait_state("fail");
    /* Without full coverage the cluster stays ok: a client blocked on the
     * slot given up learns it is not served. */
    both("CONFIG SET cluster-require-full-coverage no", "+OK\r\n");
    wait_state("ok");
    both("CLUSTER ADDSLOTS 3300", "+OK\r\n");
    blocked_gets("BLPOP b 0", "CLUSTER DELSLOTS 3300", UNBOUND);
    /* A stream reader (key "{b}s": slot 3300) is redirected the same way. */
    both("CLUSTER ADDSLOTS 3300", "+OK\r\n");
    blocked_gets("XREAD BLOCK 0 STREAMS {b}s $", "CLUSTER DELSLOTS 3300", UNBOUND);
    both("GET b", UNBOUND);
    both("GET a", "$-1\r\n");
    stop();
}

Test(cluster_route, standalone_refuses_cluster_commands) {
    start(false);
    const char *off = "-ERR This instance has cluster support disabled\r\n";
    both("ASKING", off);
    both("READONLY", off);
    both("READWRITE", off);
    both("MULTI", "+OK\r\n");
    both("READONLY", "+QUEUED\r\n");
    both("EXEC", "*1\r\n-ERR This instance has cluster support disabled\r\n");
    /* No routing: keys of any slots together. */
    both("MSET a 1 b 2", "+OK\r\n");
    both("SELECT 1", "+OK\r\n");
    both("SELECT 3000000000", "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n");
    both_contain("HELLO 3", "$4\r\nmode\r\n$10\r\nstandalone\r\n");
    both_contain("INFO server", "\r\nredis_mode:standalone\r\n");
    stop();
}

/* The geo STORE forms lock and route their destination too: a destination
 * in another slot than the source answers CROSSSLOT; in the same slot (hash
 * tags) they run. */
Test(cluster_route, geo_store_forms_crossslot) {
    start(true);
    both("CLUSTER ADDSLOTSRANGE 0 16383", "+OK\r\n");
    wait_state("ok");
    both("GEOADD {g}src 13.361389 38.115556 Palermo 15.087269 37.502669 Catania", ":2\r\n");
    both("GEORADIUS {g}src 15 37 200 km STORE b", CROSSSLOT);
    both("GEORADIUS {g}src 15 37 200 km STOREDIST b", CROSSSLOT);
    both("GEORADIUSBYMEMBER {g}src Palermo 200 km STORE b", CROSSSLOT);
    both("GEOSEARCHSTORE b {g}src FROMLONLAT 15 37 BYRADIUS 200 km", CROSSSLOT);
    both("GEORADIUS {g}src 15 37 200 km STORE {g}dst", ":2\r\n");
    both("GEORADIUSBYMEMBER {g}src Palermo 100 km STOREDIST {g}dst", ":1\r\n");
    both("GEOSEARCHSTORE {g}dst {g}src FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST", ":2\r\n");
    both("ZRANGE {g}dst 0 -1 WITHSCORES", NULL);
    both("GEORADIUS_RO {g}src 15 37 200 km ASC", "*2\r\n$7\r\nCatania\r\n$7\r\nPalermo\r\n");
    stop();
}

/* SORT in cluster mode: Redis 7.0.15 refuses a BY pattern (one with `*`)
 * and every GET, whatever slot the pattern's keys would hash to; the key
 * finder's STORE destination is routed (CROSSSLOT); LCS's two keys too. */
#define SORT_BY_DENIED "-ERR BY option of SORT denied in Cluster mode.\r\n"
#define SORT_GET_DENIED "-ERR GET option of SORT denied in Cluster mode.\r\n"

Test(cluster_route, sort_patterns_and_lcs) {
    start(true);
    both("CLUSTER ADDSLOTSRANGE 0 16383", "+OK\r\n");
    wait_state("ok");
    both("RPUSH {a}l 3 1 2", ":3\r\n");
    both("SET {a}w_1 9", "+OK\r\n");
    both("SORT {a}l", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n");
    both("SORT {a}l BY nosort DESC LIMIT 0 2", "*2\r\n$1\r\n2\r\n$1\r\n1\r\n");
    both("SORT {a}l BY w_*", SORT_BY_DENIED);
    both("SORT {a}l BY {a}w_*", SORT_BY_DENIED);
    both("SORT_RO {a}l BY {a}w_*->f", SORT_BY_DENIED);
    both("SORT {a}l GET #", SORT_GET_DENIED);
    both("SORT_RO {a}l GET {a}w_*", SORT_GET_DENIED);
    both("SORT {a}l BY nosort GET {a}w_*", SORT_GET_DENIED);
    both("SORT {a}l STORE b", CROSSSLOT);
    both("SORT {a}l BY w_* STORE b", CROSSSLOT);
    both("SORT {a}l DESC STORE {a}d", ":3\r\n");
    both("LRANGE {a}d 0 -1", "*3\r\n$1\r\n3\r\n$1\r\n2\r\n$1\r\n1\r\n");
    both("SORT {a}l STORE {a}d STORE b", CROSSSLOT);
    both("SORT {a}l STORE b STORE {a}d", ":3\r\n");
    both("MSET {a}s1 ohmytext {a}s2 mynewtext", "+OK\r\n");
    both("LCS {a}s1 {a}s2", "$6\r\nmytext\r\n");
    both("LCS {a}s1 b", CROSSSLOT);
    both("COMMAND GETKEYS SORT {a}l BY w_* STORE b", "*2\r\n$4\r\n{a}l\r\n$1\r\nb\r\n");
    stop();
}
