/*
 * test_cluster_node.c - a single slotcache node in cluster mode
 * (--cluster-enabled yes), side by side with a real redis-server 7.0 node
 * started the same way: the CLUSTER subcommands' reply bytes (RESP2 and
 * RESP3) and error texts compared after the node id and ports are masked,
 * the writable delay, MULTI/EXEC with CLUSTER commands, nodes.conf across
 * a kill -9 and restart, a corrupt nodes.conf and a second process on the
 * same file refused, and a standalone server's "cluster support disabled".
 *
 * Both nodes get an explicit --cluster-port (a free port), since the
 * harness's ports may be above 55535. Comparisons are skipped (the rest
 * still runs) when there is no redis-server 7.0. Every server started here
 * is stopped here.
 */
#include "server_proc.h"
#include "thread_fail.h"

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define IO_MS 10000

TestSuite(cluster_node, .fini = sc_server_cleanup, .timeout = 120);

/* ---- nodes ---------------------------------------------------------- */

typedef struct node {
    const char *what;
    sc_server srv;
    int cport;
    char id[41];
    int fd;
    sc_reader rd;
} node;

static char *call(node *n, const char *line, size_t *len);

static void node_connect(node *n, int resp) {
    n->fd = sc_raw_connect_or_fail(n->srv.port);
    sc_reader_init(&n->rd, n->fd);
    if (resp == 3) free(call(n, "HELLO 3", NULL));
}

static void node_disconnect(node *n) {
    sc_reader_free(&n->rd);
    close(n->fd);
    n->fd = -1;
}

/* Start a cluster node (bin NULL: slotcache) and read its id. */
static void node_start(node *n, const char *what, const char *bin) {
    memset(n, 0, sizeof *n);
    n->what = what;
    n->cport = sc_free_port_or_fail();
    char cport[16];
    snprintf(cport, sizeof cport, "%d", n->cport);
    const char *args[] = {"--cluster-enabled", "yes", "--cluster-port", cport, NULL};
    /* two workers: the threaded (TSan) run covers the state's lock */
    const char *sc_args[] = {"--cluster-enabled", "yes", "--cluster-port", cport, "--threads", "2", NULL};
    if (bin) sc_server_start_bin_or_fail(&n->srv, bin, args);
    else sc_server_start_or_fail(&n->srv, sc_args);
    node_connect(n, 2);
    char *r = call(n, "CLUSTER MYID", NULL);
    cr_assert(!strncmp(r, "$40\r\n", 5), "%s: CLUSTER MYID answered %s", what, r);
    memcpy(n->id, r + 5, 40);
    n->id[40] = '\0';
    free(r);
}

static void node_stop(node *n) {
    if (n->fd > 0) node_disconnect(n);
    sc_server_stop_or_fail(&n->srv);
}

/* Raw reply bytes of a line of words (caller frees). */
static char *call(node *n, const char *line, size_t *len) {
    sc_raw_send_line_or_fail(n->fd, line);
    char *r;
    cr_assert(sc_reader_next(&n->rd, &r, len, IO_MS), "%s: no reply to %s", n->what, line);
    return r;
}

/* Raw reply bytes of an argument vector. */
static char *call_argv(node *n, int argc, const char *const *argv) {
    sc_buf b = {0};
    sc_resp_command(&b, argc, argv, NULL);
    cr_assert(sc_raw_send(n->fd, b.data, b.len, IO_MS));
    sc_buf_free(&b);
    char *r;
    cr_assert(sc_reader_next(&n->rd, &r, NULL, IO_MS), "%s: no reply", n->what);
    return r;
}

/* Reply of a line as text: the raw bytes with `expect` compared. */
static void expect(node *n, const char *line, const char *want) {
    char *r = call(n, line, NULL);
    cr_assert_str_eq(r, want, "%s: %s", n->what, line);
    free(r);
}

static char *replace_all(char *s, const char *from, const char *to) {
    size_t fl = strlen(from), tl = strlen(to);
    sc_buf out = {0};
    for (char *p = s, *q; *p; p = q + fl) {
        q = strstr(p, from);
        if (!q) {
            sc_buf_append(&out, p, strlen(p));
            break;
        }
        /* ports are replaced only as whole numbers */
        bool digits = from[0] >= '0' && from[0] <= '9';
        if (digits && ((q > s && q[-1] >= '0' && q[-1] <= '9') || (q[fl] >= '0' && q[fl] <= '9'))) {
            sc_buf_append(&out, p, (size_t)(q - p) + 1);
            q = q + 1 - fl;
            continue;
        }
        sc_buf_append(&out, p, (size_t)(q - p));
        sc_buf_append(&out, to, tl);
    }
    free(s);
    char *r = out.data ? out.data : strdup("");
    return r;
}

/* Reply bytes with n's id and ports masked and bulk / verbatim lengths
 * dropped (the masks change them), so two nodes' replies compare. */
static char *masked(node *n, char *r) {
    char port[16], cport[16];
    snprintf(port, sizeof port, "%d", n->srv.port);
    snprintf(cport, sizeof cport, "%d", n->cport);
    r = replace_all(r, n->id, "<ID>");
    r = replace_all(r, cport, "<CPORT>");
    r = replace_all(r, port, "<PORT>");
    sc_buf out = {0};
    for (char *p = r; *p; p++) {
        bool line_start = p == r || (p - r >= 2 && p[-2] == '\r' && p[-1] == '\n');
        sc_buf_append(&out, p, 1);
        if (line_start && (*p == '$' || *p == '=')) {
            while (p[1] >= '0' && p[1] <= '9') p++;
        }
    }
    free(r);
    return out.data ? out.data : strdup("");
}

/* The same line on both nodes gives the same masked reply. */
static void same(node *a, node *b, const char *line) {
    char *ra = masked(a, call(a, line, NULL)), *rb = masked(b, call(b, line, NULL));
    cr_expect_str_eq(ra, rb, "%s\n  %s: %s\n  %s: %s", line, a->what, ra, b->what, rb);
    if (getenv("SHOW")) cr_log_info("%s => %s", line, ra);
    free(ra);
    free(rb);
}

static node sc, ref;

/* Start slotcache and, when there is one, redis-server 7.0. */
static bool start_pair(void) {
    node_start(&sc, "slotcache", NULL);
    const char *bin = sc_reference_redis_binary();
    if (!bin || sc_server_binary_is_redis()) return false;
    node_start(&ref, "redis-server", bin);
    char *r = call(&ref, "INFO server", NULL);
    bool v70 = strstr(r, "redis_version:7.0.") != NULL;
    free(r);
    if (!v70) node_stop(&ref);
    return v70;
}

static void stop_pair(bool with_ref) {
    node_stop(&sc);
    if (with_ref) node_stop(&ref);
}

/* Both nodes' connections again, in RESP3. */
static void reconnect_resp3(void) {
    node_disconnect(&sc);
    node_disconnect(&ref);
    node_connect(&sc, 3);
    node_connect(&ref, 3);
}

/* cluster_state:ok within `ms`. */
static bool state_ok(node *n, int ms) {
    return SC_WAIT_FOR(({
                           char *r = call(n, "CLUSTER INFO", NULL);
                           bool ok = strstr(r, "cluster_state:ok\r\n") != NULL;
                           free(r);
                           ok;
                       }),
                       ms);
}

/* ---- a fresh node ----------------------------------------------------- */

Test(cluster_node, fresh_node_nodes_line_and_info) {
    bool pair = start_pair();
    char *r = call(&sc, "CLUSTER NODES", NULL);
    char line[256];
    snprintf(line, sizeof line, "%s :%d@%d myself,master - 0 0 0 connected\n", sc.id, sc.srv.port, sc.cport);
    cr_assert(strstr(r, line) && r[0] == '$', "CLUSTER NODES: %s", r);
    free(r);
    r = call(&sc, "CLUSTER INFO", NULL);
    cr_assert(strstr(r, "cluster_state:fail\r\ncluster_slots_assigned:0\r\n"), "%s", r);
    cr_assert(strstr(r, "cluster_known_nodes:1\r\n"), "%s", r);
    cr_assert(strstr(r, "cluster_stats_messages_sent:0\r\ncluster_stats_messages_received:0\r\n"
                        "total_cluster_links_buffer_limit_exceeded:0\r\n\r\n"),
              "%s", r);
    free(r);
    if (pair) {
        /* cluster_size is 1 until the first state evaluation after the
         * writable delay, then 0: wait until both show 0. */
        cr_assert(SC_WAIT_FOR(({
                                  char *a = call(&sc, "CLUSTER INFO", NULL), *b = call(&ref, "CLUSTER INFO", NULL);
                                  bool z = strstr(a, "cluster_size:0") && strstr(b, "cluster_size:0");
                                  free(a);
                                  free(b);
                                  z;
                              }),
                              5000));
        const char *lines[] = {"CLUSTER INFO", "CLUSTER NODES", "CLUSTER SLOTS", "CLUSTER SHARDS", "CLUSTER MYID",
                               "CLUSTER LINKS", "CLUSTER HELP", "CLUSTER REPLICAS <ID>"};
        for (int resp = 2; resp <= 3; resp++) {
            if (resp == 3) reconnect_resp3();
            for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
                if (strstr(lines[i], "<ID>")) {
                    char a[128], b[128];
                    snprintf(a, sizeof a, "CLUSTER REPLICAS %s", sc.id);
                    snprintf(b, sizeof b, "CLUSTER REPLICAS %s", ref.id);
                    char *ra = masked(&sc, call(&sc, a, NULL)), *rb = masked(&ref, call(&ref, b, NULL));
                    cr_expect_str_eq(ra, rb);
                    free(ra);
                    free(rb);
                    continue;
                }
                same(&sc, &ref, lines[i]);
            }
        }
    }
    stop_pair(pair);
}

/* ---- slots -------------------------------------------------------------- */

/* CLUSTER ADDSLOTS 0 ... 16383 in one command, as redis-cli sends it. */
static char *addslots_all(node *n) {
    static char nums[16384][12];
    static const char *argv[16386];
    argv[0] = "CLUSTER";
    argv[1] = "ADDSLOTS";
    for (int i = 0; i < 16384; i++) {
        snprintf(nums[i], sizeof nums[i], "%d", i);
        argv[i + 2] = nums[i];
    }
    return call_argv(n, 16386, argv);
}

Test(cluster_node, addslots_all_then_ok_after_the_writable_delay) {
    node_start(&sc, "slotcache", NULL);
    long long t0 = sc_now_ms();
    char *r = addslots_all(&sc);
    cr_assert_str_eq(r, "+OK\r\n");
    free(r);
    /* A master turns ok no sooner than 2 s after its first state
     * evaluation, and soon after that. */
    cr_assert(state_ok(&sc, 6000), "cluster_state never became ok");
    long long took = sc_now_ms() - t0;
    cr_log_info("cluster_state:ok %lld ms after ADDSLOTS", took);
    r = call(&sc, "CLUSTER INFO", NULL);
    cr_assert(strstr(r, "cluster_slots_assigned:16384\r\ncluster_slots_ok:16384\r\n"), "%s", r);
    cr_assert(strstr(r, "cluster_size:1\r\n"), "%s", r);
    free(r);
    char want[128];
    snprintf(want, sizeof want, "myself,master - 0 0 0 connected 0-16383\n");
    r = call(&sc, "CLUSTER NODES", NULL);
    cr_assert(strstr(r, want), "%s", r);
    free(r);
    node_stop(&sc);
}

Test(cluster_node, slots_shards_and_errors_match_redis) {
    bool pair = start_pair();
    if (!pair) {
        node_stop(&sc);
        cr_skip_test("no redis-server 7.0 to compare with");
    }
    const char *lines[] = {
        /* slot arguments */
        "CLUSTER ADDSLOTSRANGE 0 5000 5001 5000",
        "CLUSTER ADDSLOTSRANGE 0 100 200",
        "CLUSTER DELSLOTSRANGE 0",
        "CLUSTER ADDSLOTS 1 2 2",
        "CLUSTER ADDSLOTS 1 16384",
        "CLUSTER ADDSLOTS -1",
        "CLUSTER ADDSLOTS x",
        "CLUSTER ADDSLOTSRANGE 0 100 50 60",
        "CLUSTER ADDSLOTSRANGE 0 100 200 300 7000 7000",
        "CLUSTER ADDSLOTS 5",
        "CLUSTER ADDSLOTS 16383 400",
        "CLUSTER DELSLOTS 500",
        "CLUSTER DELSLOTSRANGE 90 110",
        "CLUSTER DELSLOTSRANGE 90 100 250 250",
        "CLUSTER COUNTKEYSINSLOT 16384",
        "CLUSTER COUNTKEYSINSLOT -1",
        "CLUSTER COUNTKEYSINSLOT x",
        "CLUSTER GETKEYSINSLOT 1 -1",
        "CLUSTER GETKEYSINSLOT 16384 1",
        "CLUSTER GETKEYSINSLOT x 1",
        "CLUSTER GETKEYSINSLOT 1 x",
        /* epochs */
        "CLUSTER SET-CONFIG-EPOCH -1",
        "CLUSTER SET-CONFIG-EPOCH x",
        "CLUSTER SET-CONFIG-EPOCH 5",
        "CLUSTER SET-CONFIG-EPOCH 6",
        "CLUSTER BUMPEPOCH",
        "CLUSTER BUMPEPOCH",
        /* nodes */
        "CLUSTER MEET 1.2.3 5",
        "CLUSTER MEET 1.2.3.4 x",
        "CLUSTER MEET 1.2.3.4 5 y",
        "CLUSTER MEET 1.2.3.4 5 6 7",
        "CLUSTER MEET 1.2.3.4 0",
        "CLUSTER MEET 1.2.3.4 70000",
        "CLUSTER MEET 1.2.3.4 5 0",
        "CLUSTER FORGET abc",
        "CLUSTER FORGET 0123456789012345678901234567890123456789",
        /* failover, sent to a master */
        "CLUSTER FAILOVER",
        "CLUSTER FAILOVER FORCE",
        "CLUSTER FAILOVER takeover",
        "CLUSTER FAILOVER bogus",
        "CLUSTER FAILOVER force now",
        "CLUSTER FORGET <ID>",
        "CLUSTER REPLICATE <ID>",
        "CLUSTER REPLICATE abc",
        "CLUSTER REPLICAS abc",
        "CLUSTER SLAVES <ID>",
        "CLUSTER COUNT-FAILURE-REPORTS <ID>",
        "CLUSTER COUNT-FAILURE-REPORTS abc",
        /* arity and syntax */
        "CLUSTER",
        "CLUSTER FOO",
        "CLUSTER INFO x",
        "CLUSTER ADDSLOTS",
        "CLUSTER ADDSLOTSRANGE 1",
        "CLUSTER RESET foo",
        "CLUSTER RESET soft x",
        "CLUSTER KEYSLOT",
        "CLUSTER KEYSLOT a{foo}b",
        "CLUSTER KEYSLOT {}foo",
        "CLUSTER KEYSLOT foo{}{bar}",
        "CLUSTER KEYSLOT {user1000}.following",
        /* the result of all that */
        "CLUSTER SLOTS",
        "CLUSTER SHARDS",
        "CLUSTER NODES",
        "CLUSTER INFO",
        "CLUSTER SAVECONFIG",
        "CLUSTER FLUSHSLOTS",
        "CLUSTER SLOTS",
        "CLUSTER SHARDS",
    };
    for (int resp = 2; resp <= 3; resp++) {
        if (resp == 3) {
            reconnect_resp3();
            same(&sc, &ref, "CLUSTER RESET HARD");
            char *r = call(&sc, "CLUSTER MYID", NULL);
            memcpy(sc.id, r + 5, 40);
            free(r);
            r = call(&ref, "CLUSTER MYID", NULL);
            memcpy(ref.id, r + 5, 40);
            free(r);
        }
        for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
            if (strstr(lines[i], "<ID>")) {
                char a[256], b[256];
                const char *at = strstr(lines[i], "<ID>");
                snprintf(a, sizeof a, "%.*s%s", (int)(at - lines[i]), lines[i], sc.id);
                snprintf(b, sizeof b, "%.*s%s", (int)(at - lines[i]), lines[i], ref.id);
                char *ra = masked(&sc, call(&sc, a, NULL)), *rb = masked(&ref, call(&ref, b, NULL));
                cr_expect_str_eq(ra, rb, "%s\n  slotcache: %s\n  redis: %s", lines[i], ra, rb);
                free(ra);
                free(rb);
                continue;
            }
            same(&sc, &ref, lines[i]);
        }
    }
    stop_pair(true);
}

Test(cluster_node, meet_adds_a_handshake_node_and_forget_removes_it) {
    node_start(&sc, "slotcache", NULL);
    expect(&sc, "CLUSTER MEET 127.0.0.1 1", "+OK\r\n");
    expect(&sc, "CLUSTER MEET 127.0.0.1 1", "+OK\r\n"); /* same handshake: not added twice */
    char *r = call(&sc, "CLUSTER NODES", NULL);
    char *other = strstr(r, " 127.0.0.1:1@10001 handshake - ");
    cr_assert(other, "%s", r);
    char id[41];
    memcpy(id, other - 40, 40);
    id[40] = '\0';
    free(r);
    r = call(&sc, "CLUSTER INFO", NULL);
    cr_assert(strstr(r, "cluster_known_nodes:2\r\n"), "%s", r);
    free(r);
    char line[128];
    snprintf(line, sizeof line, "CLUSTER SET-CONFIG-EPOCH 3");
    expect(&sc, line, "-ERR The user can assign a config epoch only when the node does not know any other node.\r\n");
    snprintf(line, sizeof line, "CLUSTER FORGET %s", id);
    expect(&sc, line, "+OK\r\n");
    r = call(&sc, "CLUSTER INFO", NULL);
    cr_assert(strstr(r, "cluster_known_nodes:1\r\n"), "%s", r);
    free(r);
    char unknown[128];
    snprintf(unknown, sizeof unknown, "-ERR Unknown node %s\r\n", id);
    expect(&sc, line, unknown);
    node_stop(&sc);
}

/* ---- keys in slots ------------------------------------------------------ */

Test(cluster_node, countkeysinslot_and_getkeysinslot) {
    node_start(&sc, "slotcache", NULL);
    expect(&sc, "CLUSTER ADDSLOTSRANGE 0 16383", "+OK\r\n");
    cr_assert(state_ok(&sc, 6000), "cluster_state never became ok"); /* CLUSTERDOWN before */
    char *r = call(&sc, "CLUSTER KEYSLOT {user1}", NULL);
    int slot = atoi(r + 1);
    free(r);
    for (int i = 0; i < 25; i++) {
        char line[64];
        snprintf(line, sizeof line, "SET {user1}:%d v", i);
        expect(&sc, line, "+OK\r\n");
    }
    expect(&sc, "SET other v", "+OK\r\n");
    char line[64];
    snprintf(line, sizeof line, "CLUSTER COUNTKEYSINSLOT %d", slot);
    expect(&sc, line, ":25\r\n");
    snprintf(line, sizeof line, "CLUSTER GETKEYSINSLOT %d 10", slot);
    r = call(&sc, line, NULL);
    cr_assert(!strncmp(r, "*10\r\n", 5), "%s", r);
    int found = 0;
    for (char *p = r; (p = strstr(p, "{user1}:")); p++) found++;
    cr_assert_eq(found, 10, "%s", r);
    free(r);
    snprintf(line, sizeof line, "CLUSTER GETKEYSINSLOT %d 100", slot);
    r = call(&sc, line, NULL);
    cr_assert(!strncmp(r, "*25\r\n", 5), "%s", r);
    for (int i = 0; i < 25; i++) {
        char key[32];
        snprintf(key, sizeof key, "{user1}:%d\r\n", i);
        cr_assert(strstr(r, key), "%s missing", key);
    }
    free(r);
    snprintf(line, sizeof line, "CLUSTER GETKEYSINSLOT %d 0", slot);
    expect(&sc, line, "*0\r\n");
    expect(&sc, "CLUSTER COUNTKEYSINSLOT 0", ":0\r\n");
    /* a node with keys refuses FLUSHSLOTS, REPLICATE-as-master and RESET */
    expect(&sc, "CLUSTER FLUSHSLOTS", "-ERR DB must be empty to perform CLUSTER FLUSHSLOTS.\r\n");
    expect(&sc, "CLUSTER RESET", "-ERR CLUSTER RESET can't be called with master nodes containing keys\r\n");
    node_stop(&sc);
}

/* ---- transactions -------------------------------------------------------- */

Test(cluster_node, cluster_commands_inside_multi_exec) {
    bool pair = start_pair();
    node *nodes[2] = {&sc, &ref};
    for (int i = 0; i < (pair ? 2 : 1); i++) {
        node *n = nodes[i];
        expect(n, "CLUSTER ADDSLOTSRANGE 0 16383", "+OK\r\n");
        /* redis-cli --cluster fix's clusterManagerSetSlotOwner */
        expect(n, "MULTI", "+OK\r\n");
        expect(n, "CLUSTER DELSLOTS 5", "+QUEUED\r\n");
        expect(n, "CLUSTER ADDSLOTS 5", "+QUEUED\r\n");
        expect(n, "CLUSTER BUMPEPOCH", "+QUEUED\r\n");
        expect(n, "EXEC", "*3\r\n+OK\r\n+OK\r\n+BUMPED 1\r\n");
        /* the legacy tests' reset */
        expect(n, "MULTI", "+OK\r\n");
        expect(n, "CLUSTER RESET HARD", "+QUEUED\r\n");
        expect(n, "CLUSTER SET-CONFIG-EPOCH 7", "+QUEUED\r\n");
        expect(n, "EXEC", "*2\r\n+OK\r\n+OK\r\n");
        char *r = call(n, "CLUSTER INFO", NULL);
        cr_assert(strstr(r, "cluster_slots_assigned:0\r\n"), "%s: %s", n->what, r);
        cr_assert(strstr(r, "cluster_current_epoch:7\r\ncluster_my_epoch:7\r\n"), "%s: %s", n->what, r);
        free(r);
        r = call(n, "CLUSTER MYID", NULL);
        cr_assert(strncmp(r + 5, n->id, 40), "%s: RESET HARD keeps the id", n->what);
        free(r);
    }
    stop_pair(pair);
}

/* A transaction that queues a CLUSTER command takes every slot lock (and
 * keeps the cluster state locked across its queue): GETKEYSINSLOT /
 * COUNTKEYSINSLOT used to lock their slot inside EXEC out of the ascending
 * order, and a FLUSHALL taking every slot lock on another worker then
 * deadlocked both (the server stopped answering within a second). */
typedef struct {
    const sc_server *srv;
    bool flusher;
} tx_client;

static void *tx_client_main(void *arg) {
    const tx_client *t = arg;
    redisContext *x = sc_thread_connect(t->srv, 5000);
    for (int i = 0; x && i < 400 && !sc_thread_failures(); i++) {
        redisReply *r;
        if (t->flusher) {
            r = redisCommand(x, "FLUSHALL");
        } else {
            redisAppendCommand(x, "MULTI");
            redisAppendCommand(x, "SET a%d 1", i); /* slot 15495 for a0 */
            redisAppendCommand(x, "CLUSTER GETKEYSINSLOT 3300 5");
            redisAppendCommand(x, "CLUSTER COUNTKEYSINSLOT 3300");
            redisAppendCommand(x, "EXEC");
            r = NULL;
            for (int k = 0; k < 5; k++) {
                if (r) freeReplyObject(r);
                r = NULL;
                if (redisGetReply(x, (void **)&r) != REDIS_OK) break;
            }
        }
        if (!r) {
            sc_thread_fail("%s: no reply within 5 s (%s)", t->flusher ? "FLUSHALL" : "EXEC", x->errstr);
            break;
        }
        freeReplyObject(r);
    }
    if (x) redisFree(x);
    return NULL;
}

Test(cluster_node, cluster_keyspace_commands_in_exec_never_deadlock) {
    node_start(&sc, "slotcache", NULL);
    expect(&sc, "CLUSTER ADDSLOTSRANGE 0 16383", "+OK\r\n");
    cr_assert(state_ok(&sc, 6000), "cluster_state never became ok");
    pthread_t th[6];
    tx_client tc[6];
    sc_thread_fail_reset();
    for (int i = 0; i < 6; i++) {
        tc[i] = (tx_client){&sc.srv, i % 2 == 1};
        cr_assert_eq(pthread_create(&th[i], NULL, tx_client_main, &tc[i]), 0);
    }
    for (int i = 0; i < 6; i++) pthread_join(th[i], NULL);
    sc_no_thread_failures_or_fail();
    expect(&sc, "PING", "+PONG\r\n");
    node_stop(&sc);
}

/* ---- nodes.conf --------------------------------------------------------- */

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    sc_buf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) sc_buf_append(&b, chunk, n);
    fclose(f);
    return b.data ? b.data : strdup("");
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
}

/* Run the server binary in dir (it should refuse to start): its exit
 * status, output in *out. */
static int run_in_dir(const char *dir, int port, int cport, sc_buf *out) {
    char p[16], cp[16], d[256];
    snprintf(p, sizeof p, "%d", port);
    snprintf(cp, sizeof cp, "%d", cport);
    snprintf(d, sizeof d, "%s", dir);
    const char *argv[] = {sc_server_binary(), "--port", p, "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                          "--cluster-port", cp, "--dir", d, "--save", "", NULL};
    return sc_run(argv, NULL, 0, out, 10000);
}

Test(cluster_node, restart_keeps_id_epochs_and_slots) {
    node_start(&sc, "slotcache", NULL);
    expect(&sc, "CLUSTER ADDSLOTSRANGE 0 100 200 300 16383 16383", "+OK\r\n");
    expect(&sc, "CLUSTER BUMPEPOCH", "+BUMPED 1\r\n");
    expect(&sc, "CLUSTER BUMPEPOCH", "+STILL 1\r\n");
    char *before = call(&sc, "CLUSTER NODES", NULL);
    node_disconnect(&sc);
    /* kill -9: every change was saved (and fsynced) before its reply */
    sc_server_kill9(&sc.srv);
    char path[512];
    snprintf(path, sizeof path, "%s/nodes.conf", sc.srv.dir);
    char *text = read_file(path);
    cr_assert(text);
    char want[256];
    snprintf(want, sizeof want, "%s :%d@%d myself,master - 0 0 1 connected 0-100 200-300 16383\n"
                                "vars currentEpoch 1 lastVoteEpoch 0\n",
             sc.id, sc.srv.port, sc.cport);
    cr_assert_str_eq(text, want);
    free(text);
    char cport[16];
    snprintf(cport, sizeof cport, "%d", sc.cport);
    const char *args[] = {"--cluster-enabled", "yes", "--cluster-port", cport, NULL};
    sc_server_restart_or_fail(&sc.srv, args);
    node_connect(&sc, 2);
    char *after = call(&sc, "CLUSTER NODES", NULL);
    cr_assert_str_eq(after, before);
    free(before);
    free(after);
    char *r = call(&sc, "CLUSTER INFO", NULL);
    cr_assert(strstr(r, "cluster_slots_assigned:203\r\n"), "%s", r);
    cr_assert(strstr(r, "cluster_current_epoch:1\r\ncluster_my_epoch:1\r\n"), "%s", r);
    free(r);
    node_stop(&sc);
}

Test(cluster_node, keys_in_unowned_slots_at_start_are_taken) {
    /* Keys saved by a standalone server, loaded by a fresh cluster node:
     * it takes the slots they live in (verifyClusterConfigWithData). */
    node_start(&sc, "slotcache", NULL);
    expect(&sc, "CLUSTER ADDSLOTSRANGE 0 16383", "+OK\r\n");
    cr_assert(state_ok(&sc, 6000), "cluster_state never became ok");
    expect(&sc, "SET {a}x 1", "+OK\r\n");
    expect(&sc, "SAVE", "+OK\r\n");
    expect(&sc, "CLUSTER FLUSHSLOTS", "-ERR DB must be empty to perform CLUSTER FLUSHSLOTS.\r\n");
    char *r = call(&sc, "CLUSTER KEYSLOT {a}", NULL);
    int slot = atoi(r + 1);
    free(r);
    node_disconnect(&sc);
    sc_server_kill9(&sc.srv);
    char path[512];
    snprintf(path, sizeof path, "%s/nodes.conf", sc.srv.dir);
    char conf[256];
    snprintf(conf, sizeof conf, "%s :%d@%d myself,master - 0 0 0 connected\nvars currentEpoch 0 lastVoteEpoch 0\n",
             sc.id, sc.srv.port, sc.cport);
    write_file(path, conf);
    char cport[16];
    snprintf(cport, sizeof cport, "%d", sc.cport);
    const char *args[] = {"--cluster-enabled", "yes", "--cluster-port", cport, NULL};
    sc_server_restart_or_fail(&sc.srv, args);
    node_connect(&sc, 2);
    char want[64];
    snprintf(want, sizeof want, " connected %d\n", slot);
    cr_assert(SC_WAIT_FOR(({
                              char *n = call(&sc, "CLUSTER NODES", NULL);
                              bool ok = strstr(n, want) != NULL;
                              free(n);
                              ok;
                          }),
                          5000),
              "slot %d not taken", slot);
    node_stop(&sc);
}

Test(cluster_node, corrupt_nodes_conf_refuses_to_start) {
    node_start(&sc, "slotcache", NULL);
    node_disconnect(&sc);
    sc_server_kill9(&sc.srv);
    char path[512];
    snprintf(path, sizeof path, "%s/nodes.conf", sc.srv.dir);
    static const char *const bad[] = {
        "not-a-node-id :1@2 myself,master - 0 0 0 connected\n",
        "vars currentEpoch 3 lastVoteEpoch 0\n",
        "0123456789012345678901234567890123456789 :1@2 myself,master - 0 0 0 connected 0-16384\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(path, bad[i]);
        sc_buf out = {0};
        int st = run_in_dir(sc.srv.dir, sc_free_port_or_fail(), sc_free_port_or_fail(), &out);
        cr_assert_eq(st, 1, "case %zu: exit %d: %s", i, st, out.data ? out.data : "");
        cr_assert(out.data && strstr(out.data, "Unrecoverable error: corrupted cluster config file \"nodes.conf\""),
                  "case %zu: %s", i, out.data ? out.data : "");
        sc_buf_free(&out);
        /* the file is left as it was */
        char *text = read_file(path);
        cr_assert_str_eq(text, bad[i]);
        free(text);
    }
    /* without the file it starts as a new node */
    unlink(path);
    char cport[16];
    snprintf(cport, sizeof cport, "%d", sc.cport);
    const char *args[] = {"--cluster-enabled", "yes", "--cluster-port", cport, NULL};
    sc_server_restart_or_fail(&sc.srv, args);
    node_stop(&sc);
}

Test(cluster_node, second_process_on_the_same_nodes_conf_refused) {
    node_start(&sc, "slotcache", NULL);
    /* saves move the file to a new inode: the lock must move with it */
    expect(&sc, "CLUSTER ADDSLOTS 1", "+OK\r\n");
    expect(&sc, "CLUSTER SAVECONFIG", "+OK\r\n");
    sc_buf out = {0};
    int st = run_in_dir(sc.srv.dir, sc_free_port_or_fail(), sc_free_port_or_fail(), &out);
    cr_assert_eq(st, 1, "exit %d: %s", st, out.data ? out.data : "");
    cr_assert(out.data && strstr(out.data, "Sorry, the cluster configuration file nodes.conf is already used by a "
                                           "different Redis Cluster node."),
              "%s", out.data ? out.data : "");
    sc_buf_free(&out);
    node_stop(&sc);
}

/* ---- standalone ---------------------------------------------------------- */

Test(cluster_node, standalone_answers_cluster_support_disabled) {
    sc_server_start_or_fail(&sc.srv, NULL);
    sc.what = "slotcache";
    node_connect(&sc, 2);
    const char *disabled = "-ERR This instance has cluster support disabled\r\n";
    expect(&sc, "CLUSTER INFO", disabled);
    expect(&sc, "CLUSTER HELP", disabled);
    expect(&sc, "CLUSTER KEYSLOT foo", disabled);
    expect(&sc, "CLUSTER ADDSLOTS 1", disabled);
    expect(&sc, "CLUSTER MEET 127.0.0.1 1 2 3", disabled);
    expect(&sc, "CLUSTER FOO", "-ERR unknown subcommand 'FOO'. Try CLUSTER HELP.\r\n");
    expect(&sc, "CLUSTER INFO x", "-ERR wrong number of arguments for 'cluster|info' command\r\n");
    expect(&sc, "MULTI", "+OK\r\n");
    expect(&sc, "CLUSTER INFO", "+QUEUED\r\n");
    char want[128];
    snprintf(want, sizeof want, "*1\r\n%s", disabled);
    expect(&sc, "EXEC", want);
    node_disconnect(&sc);
    sc_server_stop_or_fail(&sc.srv);
}

/* ---- REPLICATE: a node replicates a master it knows from nodes.conf ---- */

/* kill -9 n, give it this nodes.conf, start it again. */
static void restart_with_conf(node *n, const char *conf) {
    node_disconnect(n);
    sc_server_kill9(&n->srv);
    char path[512];
    snprintf(path, sizeof path, "%s/nodes.conf", n->srv.dir);
    write_file(path, conf);
    char cport[16];
    snprintf(cport, sizeof cport, "%d", n->cport);
    const char *args[] = {"--cluster-enabled", "yes", "--cluster-port", cport, "--threads", "2", NULL};
    sc_server_restart_or_fail(&n->srv, args);
    node_connect(n, 2);
}

static bool reply_has(node *n, const char *line, const char *want) {
    char *r = call(n, line, NULL);
    bool has = strstr(r, want) != NULL;
    free(r);
    return has;
}

Test(cluster_node, replicate_a_known_master_then_reset) {
    static node a, b;
    node_start(&a, "master", NULL);
    node_start(&b, "replica", NULL);
    expect(&a, "CLUSTER ADDSLOTSRANGE 0 16383", "+OK\r\n");
    cr_assert(state_ok(&a, 6000), "cluster_state never became ok");
    expect(&a, "SET {k}1 v1", "+OK\r\n");
    char conf[512];
    snprintf(conf, sizeof conf,
             "%s :%d@%d myself,master - 0 0 0 connected\n%s 127.0.0.1:%d@%d master - 0 0 0 connected 0-16383\n"
             "vars currentEpoch 0 lastVoteEpoch 0\n",
             b.id, b.srv.port, b.cport, a.id, a.srv.port, a.cport);
    restart_with_conf(&b, conf);
    char line[128];
    snprintf(line, sizeof line, "CLUSTER REPLICATE %s", a.id);
    /* b owns no slot, so a key gets there only without routing */
    expect(&b, "DEBUG POPULATE 1", "+OK\r\n");
    expect(&b, line, "-ERR To set a master the node must be empty and without assigned slots.\r\n");
    expect(&b, "FLUSHALL", "+OK\r\n");
    /* MYSHARDID (Redis 7.2): a master's shard is its own id, a replica's
     * its master's. */
    char shard[64];
    snprintf(shard, sizeof shard, "$40\r\n%s\r\n", b.id);
    expect(&b, "CLUSTER MYSHARDID", shard);
    expect(&b, line, "+OK\r\n");
    snprintf(shard, sizeof shard, "$40\r\n%s\r\n", a.id);
    expect(&b, "CLUSTER MYSHARDID", shard);
    expect(&a, "CLUSTER MYSHARDID", shard);
    expect(&b, "READONLY", "+OK\r\n"); /* reads on a replica, else -MOVED to a */
    cr_assert(SC_WAIT_FOR(reply_has(&b, "GET {k}1", "v1"), 10000), "the replica never synced");
    char want[256];
    snprintf(want, sizeof want, "%s :%d@%d myself,slave %s 0 0 0 connected\n", b.id, b.srv.port, b.cport, a.id);
    cr_assert(reply_has(&b, "CLUSTER NODES", want));
    snprintf(line, sizeof line, "CLUSTER REPLICAS %s", a.id);
    snprintf(want, sizeof want, "*1\r\n$%zu\r\n%s :%d@%d myself,slave %s 0 0 0 connected\r\n",
             strlen(want) - 1, b.id, b.srv.port, b.cport, a.id);
    expect(&b, line, want);
    /* A replica at offset 0 (nothing streamed since the full sync) is
     * hidden from CLUSTER SLOTS (isReplicaAvailable); after a write it is
     * listed after its master. */
    expect(&a, "SET {k}3 v3", "+OK\r\n");
    cr_assert(SC_WAIT_FOR(reply_has(&b, "GET {k}3", "v3"), 10000));
    snprintf(want, sizeof want, "*1\r\n*4\r\n:0\r\n:16383\r\n*4\r\n$9\r\n127.0.0.1\r\n:%d\r\n$40\r\n%s\r\n*0\r\n*4\r\n",
             a.srv.port, a.id);
    cr_assert(reply_has(&b, "CLUSTER SLOTS", want));
    snprintf(line, sizeof line, "CLUSTER FORGET %s", a.id);
    expect(&b, line, "-ERR Can't forget my master!\r\n");
    /* the role survives a restart from nodes.conf */
    node_disconnect(&b);
    sc_server_kill9(&b.srv);
    char cport[16];
    snprintf(cport, sizeof cport, "%d", b.cport);
    const char *args[] = {"--cluster-enabled", "yes", "--cluster-port", cport, NULL};
    sc_server_restart_or_fail(&b.srv, args);
    node_connect(&b, 2);
    expect(&b, "READONLY", "+OK\r\n");
    expect(&a, "SET {k}2 v2", "+OK\r\n");
    cr_assert(SC_WAIT_FOR(reply_has(&b, "GET {k}2", "v2"), 10000), "the restarted replica does not follow");
    /* a replica resets into an empty master that knows nobody */
    expect(&b, "CLUSTER RESET", "+OK\r\n");
    expect(&b, "DBSIZE", ":0\r\n");
    cr_assert(reply_has(&b, "ROLE", "master"));
    cr_assert(reply_has(&b, "CLUSTER INFO", "cluster_known_nodes:1\r\n"));
    snprintf(want, sizeof want, "%s :%d@%d myself,master - 0 0 0 connected\n", b.id, b.srv.port, b.cport);
    cr_assert(reply_has(&b, "CLUSTER NODES", want));
    snprintf(shard, sizeof shard, "$40\r\n%s\r\n", b.id);
    expect(&b, "CLUSTER MYSHARDID", shard);
    node_stop(&b);
    node_stop(&a);
}

/* CLUSTER DELSLOTS and FLUSHSLOTS unsubscribe the shard channels of the
 * slots they delete (Redis's clusterDelSlot -> removeChannelsInSlot), with
 * redis-server's exact push bytes; plain channels of the same name stay. */
static void shard_channels_follow_delslots(node *n) {
    free(addslots_all(n));
    int fd = sc_raw_connect_or_fail(n->srv.port);
    /* "lost" is in slot 675, "kept" in slot 284. */
    sc_raw_send_line_or_fail(fd, "SSUBSCRIBE lost");
    cr_assert(sc_raw_expect(fd, "*3\r\n$10\r\nssubscribe\r\n$4\r\nlost\r\n:1\r\n", IO_MS), "%s", n->what);
    sc_raw_send_line_or_fail(fd, "SSUBSCRIBE kept");
    cr_assert(sc_raw_expect(fd, "*3\r\n$10\r\nssubscribe\r\n$4\r\nkept\r\n:2\r\n", IO_MS), "%s", n->what);
    int plain = sc_raw_connect_or_fail(n->srv.port);
    sc_raw_send_line_or_fail(plain, "SUBSCRIBE lost");
    cr_assert(sc_raw_expect(plain, "*3\r\n$9\r\nsubscribe\r\n$4\r\nlost\r\n:1\r\n", IO_MS), "%s", n->what);

    expect(n, "CLUSTER DELSLOTS 675", "+OK\r\n");
    cr_assert(sc_raw_expect(fd, "*3\r\n$12\r\nsunsubscribe\r\n$4\r\nlost\r\n:1\r\n", IO_MS),
              "%s: no sunsubscribe after DELSLOTS", n->what);
    expect(n, "PUBSUB SHARDCHANNELS", "*1\r\n$4\r\nkept\r\n");
    expect(n, "CLUSTER FLUSHSLOTS", "+OK\r\n");
    cr_assert(sc_raw_expect(fd, "*3\r\n$12\r\nsunsubscribe\r\n$4\r\nkept\r\n:0\r\n", IO_MS),
              "%s: no sunsubscribe after FLUSHSLOTS", n->what);
    expect(n, "PUBSUB SHARDCHANNELS", "*0\r\n");
    cr_assert(sc_raw_quiet(fd, 200), "%s: more than the two pushes", n->what);
    cr_assert(sc_raw_quiet(plain, 200), "%s: the plain subscriber was told something", n->what);
    expect(n, "PUBSUB NUMSUB lost", "*2\r\n$4\r\nlost\r\n:1\r\n");
    close(fd);
    close(plain);
    /* A slot deleted and added back in one pipeline, then subscribed to:
     * the subscription made after ADDSLOTS stays. */
    free(addslots_all(n));
    fd = sc_raw_connect_or_fail(n->srv.port);
    static const char pipeline[] = "CLUSTER DELSLOTS 675\r\nCLUSTER ADDSLOTS 675\r\nSSUBSCRIBE lost\r\n";
    cr_assert(sc_raw_send(fd, pipeline, sizeof pipeline - 1, IO_MS));
    cr_assert(sc_raw_expect(fd, "+OK\r\n+OK\r\n*3\r\n$10\r\nssubscribe\r\n$4\r\nlost\r\n:1\r\n", IO_MS), "%s",
              n->what);
    cr_assert(sc_raw_quiet(fd, 300), "%s: the subscription made after ADDSLOTS was dropped", n->what);
    expect(n, "PUBSUB SHARDCHANNELS", "*1\r\n$4\r\nlost\r\n");
    close(fd);
}

Test(cluster_node, delslots_and_flushslots_drop_shard_channels) {
    bool pair = start_pair();
    shard_channels_follow_delslots(&sc);
    if (pair) shard_channels_follow_delslots(&ref);
    stop_pair(pair);
    if (!pair) cr_log_info("no redis-server 7.0: slotcache checked alone");
}
