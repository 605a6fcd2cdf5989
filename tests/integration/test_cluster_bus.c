/*
 * test_cluster_bus.c - the cluster bus across real processes on loopback:
 *
 * - three slotcache nodes with their own slot ranges MEET and converge:
 *   every node reports cluster_state:ok, knows 3 nodes, and all print the
 *   same CLUSTER NODES signature (redis-cli's id:slots) and CLUSTER SLOTS;
 *   the convergence time is logged;
 * - kill -9 one master: the others flag it fail? then fail (node timeout
 *   1 s) and turn cluster_state:fail; restarted from its nodes.conf it
 *   rejoins under the same id and FAIL clears;
 * - a mixed cluster: a real redis-server 7.0 node joins two slotcache
 *   nodes by CLUSTER MEET, slots split across all three; all agree on
 *   CLUSTER NODES and CLUSTER SLOTS, their config epochs part (collision
 *   rule), a slot taken with a bumped epoch moves on every node both ways
 *   (slotcache from redis-server and back), a PUBLISH on the redis-server reaches
 *   a subscriber on slotcache, hostnames travel both ways in the ping
 *   extension, a killed slotcache node is marked fail by redis-server and
 *   slotcache together (each needs the other's failure report) and
 *   rejoins, and redis-server logs no complaint about our messages.
 *
 * - a MEET nobody answers leaves a handshake node for the handshake
 *   timeout, as on redis-server.
 *
 * Until tests/support/cluster_proc.h lands, nodes are plain sc_servers
 * with --cluster-port set to a free port below the ephemeral range (the
 * harness picks client ports inside it, where port + 10000 may not exist),
 * and every MEET names that port.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server_proc.h"

#define NODE_TIMEOUT_MS 1000
#define MAX_NODES 3

typedef struct node {
    sc_server s;
    int cport;
    char cport_s[16];
    char timeout_s[16];
    const char *bin;
    redisContext *c;
} node;

static node nodes[MAX_NODES];

TestSuite(cluster_bus, .fini = sc_server_cleanup, .timeout = 180);

/* ---- helpers ----------------------------------------------------------- */

/* A bus port below the ephemeral range (32768+), free on 127.0.0.1 now. */
static int pick_bus_port(void)
{
    static pid_t seeded; /* per process: Criterion forks one per test */
    if (seeded != getpid()) {
        seeded = getpid();
        srandom((unsigned)(getpid() ^ sc_now_ms()));
    }
    for (int tries = 0; tries < 200; tries++) {
        int port = 20000 + (int)(random() % 12000);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int rc = bind(fd, (struct sockaddr *)&a, sizeof a);
        close(fd);
        if (rc == 0) return port;
    }
    cr_assert_fail("no free bus port");
    return -1;
}

static const char *const *node_args(node *n)
{
    static const char *args[MAX_NODES][16];
    const char **a = args[n - nodes];
    int k = 0;
    a[k++] = "--cluster-enabled";
    a[k++] = "yes";
    a[k++] = "--cluster-port";
    a[k++] = n->cport_s;
    a[k++] = "--cluster-node-timeout";
    a[k++] = n->timeout_s;
    if (!strstr(n->bin, "redis-server")) {
        a[k++] = "--threads";
        a[k++] = "2";
    }
    a[k] = NULL;
    return a;
}

static void node_start(node *n, const char *bin)
{
    n->bin = bin;
    n->cport = pick_bus_port();
    snprintf(n->cport_s, sizeof n->cport_s, "%d", n->cport);
    snprintf(n->timeout_s, sizeof n->timeout_s, "%d", sc_scaled_ms(NODE_TIMEOUT_MS));
    sc_server_start_bin_or_fail(&n->s, bin, node_args(n));
    n->c = sc_connect_or_fail(&n->s);
}

static void node_stop(node *n)
{
    if (n->c) redisFree(n->c);
    n->c = NULL;
    sc_server_stop_or_fail(&n->s);
}

/* A command's text reply (bulk, status or verbatim), malloc'd; NULL when
 * the node does not answer. */
static char *text(node *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(n->c, fmt, ap);
    va_end(ap);
    if (!r) return NULL;
    char *s = (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_ERROR)
                  ? strdup(r->str)
                  : NULL;
    freeReplyObject(r);
    return s;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* redis-cli's config signature: "id:slot,slot..." for every node with
 * slots, sorted, joined with "|"; NULL when no node has slots. */
static char *signature(node *n)
{
    char *nodes_txt = text(n, "CLUSTER NODES");
    if (!nodes_txt) return NULL;
    char *entries[64];
    int ne = 0;
    char *save = NULL;
    for (char *line = strtok_r(nodes_txt, "\n", &save); line && ne < 64; line = strtok_r(NULL, "\n", &save)) {
        char *tok[300];
        int nt = 0;
        char *s2 = NULL;
        for (char *t = strtok_r(line, " ", &s2); t && nt < 300; t = strtok_r(NULL, " ", &s2)) tok[nt++] = t;
        if (nt <= 8) continue;
        char *slots[300];
        int ns = 0;
        for (int i = 8; i < nt; i++)
            if (tok[i][0] != '[') slots[ns++] = tok[i];
        if (!ns) continue;
        qsort(slots, (size_t)ns, sizeof *slots, cmp_str);
        size_t len = 42;
        for (int i = 0; i < ns; i++) len += strlen(slots[i]) + 1;
        char *e = malloc(len);
        int off = snprintf(e, len, "%.40s:", tok[0]);
        for (int i = 0; i < ns; i++) off += snprintf(e + off, len - (size_t)off, "%s%s", i ? "," : "", slots[i]);
        entries[ne++] = e;
    }
    free(nodes_txt);
    if (!ne) return NULL;
    qsort(entries, (size_t)ne, sizeof *entries, cmp_str);
    size_t len = 1;
    for (int i = 0; i < ne; i++) len += strlen(entries[i]) + 1;
    char *sig = malloc(len);
    sig[0] = '\0';
    for (int i = 0; i < ne; i++) {
        if (i) strcat(sig, "|");
        strcat(sig, entries[i]);
        free(entries[i]);
    }
    return sig;
}

/* CLUSTER SLOTS as "start-end:id@ip:port[,replica...]" lines in slot
 * order; NULL on error. */
static char *slots_text(node *n)
{
    redisReply *r = redisCommand(n->c, "CLUSTER SLOTS");
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        if (r) freeReplyObject(r);
        return NULL;
    }
    char *lines[64];
    size_t nl = 0;
    for (size_t i = 0; i < r->elements && nl < 64; i++) {
        redisReply *e = r->element[i];
        char buf[1024];
        int off = snprintf(buf, sizeof buf, "%05lld-%05lld", e->element[0]->integer, e->element[1]->integer);
        for (size_t k = 2; k < e->elements; k++) {
            redisReply *nd = e->element[k];
            off += snprintf(buf + off, sizeof buf - (size_t)off, "%s%s@%s:%lld", k == 2 ? ":" : ",",
                            nd->element[2]->str, nd->element[0]->str ? nd->element[0]->str : "",
                            nd->element[1]->integer);
        }
        lines[nl++] = strdup(buf);
    }
    freeReplyObject(r);
    qsort(lines, nl, sizeof *lines, cmp_str);
    size_t len = 1;
    for (size_t i = 0; i < nl; i++) len += strlen(lines[i]) + 1;
    char *out = malloc(len);
    out[0] = '\0';
    for (size_t i = 0; i < nl; i++) {
        strcat(out, lines[i]);
        strcat(out, "\n");
        free(lines[i]);
    }
    return out;
}

static bool info_has(node *n, const char *field)
{
    char *info = text(n, "CLUSTER INFO");
    bool ok = info && strstr(info, field);
    free(info);
    return ok;
}

/* Every node of nodes[0..k): state ok, k known nodes, no handshake, the
 * same signature and CLUSTER SLOTS, covering all 16384 slots. */
static bool converged(int k)
{
    char known[64];
    snprintf(known, sizeof known, "cluster_known_nodes:%d\r\n", k);
    char *sig0 = NULL, *slots0 = NULL;
    bool ok = true;
    for (int i = 0; i < k && ok; i++) {
        ok = info_has(&nodes[i], "cluster_state:ok\r\n") && info_has(&nodes[i], known) &&
             info_has(&nodes[i], "cluster_slots_ok:16384\r\n");
        char *all = ok ? text(&nodes[i], "CLUSTER NODES") : NULL;
        if (ok) ok = all && !strstr(all, "handshake") && !strstr(all, "fail");
        free(all);
        if (!ok) break;
        char *sig = signature(&nodes[i]);
        char *sl = slots_text(&nodes[i]);
        ok = sig && sl && (i == 0 || (!strcmp(sig, sig0) && !strcmp(sl, slots0)));
        if (i == 0) {
            sig0 = sig;
            slots0 = sl;
        } else {
            free(sig);
            free(sl);
        }
    }
    free(sig0);
    free(slots0);
    return ok;
}

static void log_views(int k)
{
    for (int i = 0; i < k; i++) {
        char *all = text(&nodes[i], "CLUSTER NODES");
        char *info = text(&nodes[i], "CLUSTER INFO");
        cr_log_error("node %d (port %d):\n%s\n%.120s", i, nodes[i].s.port, all ? all : "(no answer)",
                     info ? info : "");
        free(all);
        free(info);
    }
}

static void addslots(node *n, int from, int to)
{
    char *r = text(n, "CLUSTER ADDSLOTSRANGE %d %d", from, to);
    cr_assert(r && !strcmp(r, "OK"), "ADDSLOTSRANGE %d %d: %s", from, to, r ? r : "(none)");
    free(r);
}

static void meet(node *from, node *to)
{
    char *r = text(from, "CLUSTER MEET 127.0.0.1 %d %d", to->s.port, to->cport);
    cr_assert(r && !strcmp(r, "OK"), "MEET: %s", r ? r : "(none)");
    free(r);
}

/* The flags field of the CLUSTER NODES line of node `id` on n ("" when
 * absent). */
static void flags_of(node *n, const char *id, char *out, size_t outlen)
{
    out[0] = '\0';
    char *all = text(n, "CLUSTER NODES");
    if (!all) return;
    for (char *p = all; p && *p;) {
        char *nl = strchr(p, '\n');
        if (!strncmp(p, id, 40)) {
            char f[128];
            if (sscanf(p, "%*s %*s %127s", f) == 1) snprintf(out, outlen, "%s", f);
            break;
        }
        p = nl ? nl + 1 : NULL;
    }
    free(all);
}

static void myid(node *n, char out[41])
{
    char *id = text(n, "CLUSTER MYID");
    cr_assert(id && strlen(id) == 40);
    memcpy(out, id, 41);
    free(id);
}

/* The config epochs node n prints for the k masters are all different
 * (the collision rule has run). */
static bool epochs_distinct(node *n, int k)
{
    char *all = text(n, "CLUSTER NODES");
    if (!all) return false;
    long long ep[MAX_NODES];
    int ne = 0;
    for (char *p = all; p && *p && ne < MAX_NODES;) {
        if (sscanf(p, "%*s %*s %*s %*s %*s %*s %lld", &ep[ne]) == 1) ne++;
        p = strchr(p, '\n');
        if (p) p++;
    }
    free(all);
    if (ne != k) return false;
    for (int i = 0; i < ne; i++)
        for (int j = i + 1; j < ne; j++)
            if (ep[i] == ep[j]) return false;
    return true;
}

/* On node `taker`: take `slot` from its owner without consensus, as an
 * operator would (DELSLOTS, ADDSLOTS, BUMPEPOCH); the others must rebind it
 * by configEpoch (clusterUpdateSlotsConfigWith) and agree again. */
static void take_slot(node *taker, int slot, int k)
{
    free(text(taker, "CLUSTER DELSLOTS %d", slot));
    char *r = text(taker, "CLUSTER ADDSLOTS %d", slot);
    cr_assert(r && !strcmp(r, "OK"), "ADDSLOTS %d: %s", slot, r ? r : "(none)");
    free(r);
    /* STILL when the taker's epoch is already the unique largest. */
    r = text(taker, "CLUSTER BUMPEPOCH");
    cr_assert(r && (!strncmp(r, "BUMPED ", 7) || !strncmp(r, "STILL ", 6)), "BUMPEPOCH: %s", r ? r : "(none)");
    free(r);
    char id[41];
    char *mid = text(taker, "CLUSTER MYID");
    snprintf(id, sizeof id, "%s", mid ? mid : "");
    free(mid);
    bool moved = SC_WAIT_FOR(({
                                 bool all = converged(k);
                                 for (int i = 0; i < k && all; i++) {
                                     redisReply *sl = redisCommand(nodes[i].c, "CLUSTER SLOTS");
                                     bool found = false;
                                     for (size_t e = 0; sl && e < sl->elements; e++) {
                                         redisReply *en = sl->element[e];
                                         if (en->element[0]->integer <= slot && slot <= en->element[1]->integer)
                                             found = !strcmp(en->element[2]->element[2]->str, id);
                                     }
                                     if (sl) freeReplyObject(sl);
                                     all = found;
                                 }
                                 all;
                             }),
                             10000);
    if (!moved) log_views(k);
    cr_assert(moved, "slot %d did not move to %s on every node", slot, id);
}

/* Start k nodes (bins[i]), split the slots in k ranges, MEET everyone
 * with node 0; returns the ms from the MEETs to convergence. */
static long long form_cluster(int k, const char *const *bins)
{
    for (int i = 0; i < k; i++) node_start(&nodes[i], bins[i]);
    int per = 16384 / k;
    for (int i = 0; i < k; i++) addslots(&nodes[i], i * per, i == k - 1 ? 16383 : (i + 1) * per - 1);
    long long t0 = sc_now_ms();
    for (int i = 1; i < k; i++) meet(&nodes[i], &nodes[0]);
    if (!SC_WAIT_FOR(converged(k), 20000)) {
        log_views(k);
        cr_assert_fail("the cluster did not converge");
    }
    return sc_now_ms() - t0;
}

/* ---- tests ------------------------------------------------------------- */

Test(cluster_bus, three_nodes_converge_fail_and_rejoin)
{
    const char *bin = sc_server_binary();
    long long ms = form_cluster(3, (const char *[]){bin, bin, bin});
    cr_log_info("3 slotcache nodes: MEET to converged (state ok, same NODES signature and SLOTS) in %lld ms", ms);
    fprintf(stderr, "cluster_bus: 3 slotcache nodes converged %lld ms after MEET\n", ms);

    /* Every node sees the others as connected masters. */
    char id2[41];
    myid(&nodes[2], id2);
    char f[128];
    flags_of(&nodes[0], id2, f, sizeof f);
    cr_assert_str_eq(f, "master");

    /* kill -9 node 2: fail? then fail on both survivors. */
    redisFree(nodes[2].c);
    nodes[2].c = NULL;
    sc_server_kill9(&nodes[2].s);
    long long tk = sc_now_ms();
    bool seen_pfail = false;
    bool failed = SC_WAIT_FOR(({
                                  char f0[128], f1[128];
                                  flags_of(&nodes[0], id2, f0, sizeof f0);
                                  flags_of(&nodes[1], id2, f1, sizeof f1);
                                  if (strstr(f0, "fail?") || strstr(f1, "fail?")) seen_pfail = true;
                                  !strcmp(f0, "master,fail") && !strcmp(f1, "master,fail");
                              }),
                              10000);
    if (!failed) log_views(2);
    cr_assert(failed, "the killed master was not marked fail by both survivors");
    cr_assert(seen_pfail, "fail? (PFAIL) was never seen before fail");
    long long tf = sc_now_ms() - tk;
    cr_log_info("killed master marked fail %lld ms after kill -9 (node timeout %d ms)", tf, NODE_TIMEOUT_MS);
    cr_assert(SC_WAIT_FOR(info_has(&nodes[0], "cluster_state:fail\r\n") && info_has(&nodes[1], "cluster_state:fail\r\n"),
                          5000),
              "cluster_state stays ok with a third of the slots on a failed master");

    /* Restart from nodes.conf: same id, FAIL clears, converged again. */
    sc_server_restart_or_fail(&nodes[2].s, node_args(&nodes[2]));
    nodes[2].c = sc_connect_or_fail(&nodes[2].s);
    char again[41];
    myid(&nodes[2], again);
    cr_assert_str_eq(again, id2, "the restarted node took a new id");
    if (!SC_WAIT_FOR(converged(3), 20000)) {
        log_views(3);
        cr_assert_fail("the restarted node did not rejoin");
    }
    flags_of(&nodes[0], id2, f, sizeof f);
    cr_assert_str_eq(f, "master");

    for (int i = 0; i < 3; i++) node_stop(&nodes[i]);
}

Test(cluster_bus, mixed_with_redis_server)
{
    const char *redis = sc_reference_redis_binary();
    if (!redis) cr_skip_test("no redis-server");
    const char *bin = sc_server_binary();
    /* nodes[2] is the redis-server: it MEETs slotcache node 0. */
    long long ms = form_cluster(3, (const char *[]){bin, bin, redis});
    cr_log_info("2 slotcache + 1 redis-server: MEET to converged in %lld ms", ms);
    fprintf(stderr, "cluster_bus: mixed cluster converged %lld ms after MEET\n", ms);

    /* Ids match each node's own idea of itself. */
    for (int i = 0; i < 3; i++) {
        char id[41], f[128];
        myid(&nodes[i], id);
        for (int j = 0; j < 3; j++) {
            flags_of(&nodes[j], id, f, sizeof f);
            cr_assert_str_eq(f, i == j ? "myself,master" : "master", "node %d's flags for node %d", j, i);
        }
    }

    /* Equal epochs at creation: the collision rule spreads them apart,
     * on both implementations alike. */
    for (int i = 0; i < 3; i++)
        cr_assert(SC_WAIT_FOR(epochs_distinct(&nodes[i], 3), 10000), "node %d still sees equal config epochs", i);

    /* Slot ownership by configEpoch, both ways: redis-server takes slot 0
     * from slotcache node 0, slotcache node 1 takes slot 16383 from it. */
    take_slot(&nodes[2], 0, 3);
    take_slot(&nodes[1], 16383, 3);

    /* PUBLISH on redis-server reaches a subscriber on slotcache node 1. */
    redisContext *sub = sc_connect_or_fail(&nodes[1].s);
    redisReply *r = redisCommand(sub, "SUBSCRIBE news");
    cr_assert(r && r->type == REDIS_REPLY_ARRAY);
    freeReplyObject(r);
    char *n = text(&nodes[2], "PUBLISH news hello");
    free(n);
    r = NULL;
    cr_assert_eq(redisGetReply(sub, (void **)&r), REDIS_OK, "no message from the bus");
    cr_assert(r && r->type == REDIS_REPLY_ARRAY && r->elements == 3);
    cr_assert_str_eq(r->element[0]->str, "message");
    cr_assert_str_eq(r->element[1]->str, "news");
    cr_assert_str_eq(r->element[2]->str, "hello");
    freeReplyObject(r);
    redisFree(sub);
    cr_assert(info_has(&nodes[1], "cluster_stats_messages_publish_received:1\r\n"));

    /* Hostnames travel in the ping extension both ways. */
    free(text(&nodes[2], "CONFIG SET cluster-announce-hostname redis-host"));
    free(text(&nodes[0], "CONFIG SET cluster-announce-hostname slotcache-host"));
    char addr0[64], addr2[64];
    snprintf(addr0, sizeof addr0, ":%d@%d,slotcache-host ", nodes[0].s.port, nodes[0].cport);
    snprintf(addr2, sizeof addr2, ":%d@%d,redis-host ", nodes[2].s.port, nodes[2].cport);
    bool both = SC_WAIT_FOR(({
                                char *a = text(&nodes[1], "CLUSTER NODES");
                                char *b = text(&nodes[2], "CLUSTER NODES");
                                bool ok = a && b && strstr(a, addr2) && strstr(a, addr0) && strstr(b, addr0);
                                free(a);
                                free(b);
                                ok;
                            }),
                            5000);
    if (!both) log_views(3);
    cr_assert(both, "announced hostnames did not reach the other nodes");

    /* Failure detection across implementations: kill -9 slotcache node 0;
     * redis-server needs node 1's failure report (a PFAIL entry in our
     * gossip) for its quorum, and node 1 needs redis-server's. */
    char id0[41];
    myid(&nodes[0], id0);
    redisFree(nodes[0].c);
    nodes[0].c = NULL;
    sc_server_kill9(&nodes[0].s);
    bool failed = SC_WAIT_FOR(({
                                  char f1[128], f2[128];
                                  flags_of(&nodes[1], id0, f1, sizeof f1);
                                  flags_of(&nodes[2], id0, f2, sizeof f2);
                                  !strcmp(f1, "master,fail") && !strcmp(f2, "master,fail");
                              }),
                              10000);
    if (!failed) log_views(3);
    cr_assert(failed, "redis-server and slotcache did not agree that the killed node failed");
    sc_server_restart_or_fail(&nodes[0].s, node_args(&nodes[0]));
    nodes[0].c = sc_connect_or_fail(&nodes[0].s);
    if (!SC_WAIT_FOR(converged(3), 20000)) {
        log_views(3);
        cr_assert_fail("the restarted node did not rejoin the mixed cluster");
    }

    /* redis-server found nothing to complain about in what we sent. */
    size_t len = 0;
    FILE *f = fopen(nodes[2].s.log_path, "r");
    cr_assert(f);
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        len++;
        cr_assert(!strstr(line, "unknown extension") && !strstr(line, "invalid") && !strstr(line, "Bad message"),
                  "redis-server: %s", line);
    }
    fclose(f);
    cr_assert(len > 0);

    for (int i = 0; i < 3; i++) node_stop(&nodes[i]);
}

/* A MEET to an address where nobody answers leaves a handshake node that
 * goes away after the handshake timeout (max(node timeout, 1 s)), on
 * slotcache as on redis-server. */
static void handshake_times_out(const char *bin)
{
    node *n = &nodes[0];
    node_start(n, bin);
    int dead = pick_bus_port(); /* nothing listens there */
    char *r = text(n, "CLUSTER MEET 127.0.0.1 %d %d", dead, dead);
    cr_assert(r && !strcmp(r, "OK"), "MEET: %s", r ? r : "(none)");
    free(r);
    char addr[64];
    snprintf(addr, sizeof addr, " 127.0.0.1:%d@%d handshake ", dead, dead);
    char *all = text(n, "CLUSTER NODES");
    cr_assert(all && strstr(all, addr), "no handshake node: %s", all ? all : "");
    free(all);
    cr_assert(info_has(n, "cluster_known_nodes:2\r\n"));
    long long t0 = sc_now_ms();
    cr_assert(SC_WAIT_FOR(info_has(n, "cluster_known_nodes:1\r\n"), 5000), "the handshake node stayed");
    long long took = sc_now_ms() - t0;
    cr_assert(took >= 900, "the handshake node went after %lld ms, before the 1 s timeout", took);
    node_stop(n);
}

Test(cluster_bus, handshake_times_out) { handshake_times_out(sc_server_binary()); }

Test(cluster_bus, handshake_times_out_redis)
{
    const char *redis = sc_reference_redis_binary();
    if (!redis) cr_skip_test("no redis-server");
    handshake_times_out(redis);
}
