/*
 * test_harness_redis.c - proves the multi-node harness (cluster_proc.h)
 * before slotcache nodes can gossip, on real redis-server 7.0 nodes: three
 * started in parallel, slots split with ADDSLOTSRANGE, joined with MEET,
 * converged (cluster_state:ok and one redis-cli signature everywhere); one
 * killed -9, seen failed by the others, restarted from its nodes.conf and
 * rejoined with its identity and slots. Also: the signature function against
 * a captured CLUSTER NODES text, and slotcache nodes (cluster-enabled) going
 * through the harness's start / kill -9 / restart / stop cycle beside a
 * redis-server node.
 *
 * The redis-server case is skipped when there is no redis-server (a failure
 * when CI=true).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster_proc.h"

TestSuite(harness, .fini = sc_cluster_cleanup, .timeout = 180);

/* Node timeout for the redis-server cluster: short, so a killed node is
 * flagged FAIL and cleared again within seconds. */
#define NODE_TIMEOUT_MS 1000

/* ---- signature --------------------------------------------------------- */

Test(harness, signature_matches_redis_cli)
{
    /* A healthy 3+3 cluster's CLUSTER NODES (CLUSTER-WIRE.md 1.2), short ids,
     * with an open-slot marker and a second slot run on one master. */
    const char *nodes =
        "ddd 127.0.0.1:45006@55006 slave ccc 0 1796566016316 3 connected\n"
        "eee 127.0.0.1:45005@55005 slave bbb 0 1796566016015 2 connected\n"
        "aaa 127.0.0.1:45001@55001 myself,master - 0 1796566016000 1 connected 0-5460 "
        "[3300->-bbb]\n"
        "fff 127.0.0.1:45004@55004 slave aaa 0 1796566016316 1 connected\n"
        "ccc 127.0.0.1:45003@55003 master - 0 1796566016618 3 connected 10923-16383 7\n"
        "bbb 127.0.0.1:45002@55002 master - 0 1796566016618 2 connected 5461-10922\n";
    char *sig = sc_cluster_nodes_signature(nodes);
    cr_assert_not_null(sig);
    /* Slot tokens and entries sort as strings, as redis-cli's qsort(strcmp). */
    cr_assert_str_eq(sig, "aaa:0-5460|bbb:5461-10922|ccc:10923-16383,7");
    free(sig);
    cr_assert_null(sc_cluster_nodes_signature("aaa :45100@55100 myself,master - 0 0 0 connected\n"));
    cr_assert_null(sc_cluster_nodes_signature(""));
}

/* ---- redis-server nodes ------------------------------------------------ */

/* Nodes a and b (arg: int[2]) both say cluster_state is not ok. */
static bool both_failed(sc_cluster *c, void *arg)
{
    const int *ab = arg;
    return !sc_cluster_state_ok(c, ab[0]) && !sc_cluster_state_ok(c, ab[1]);
}

/* The signature redis-cli must see: sorted "id:range" entries. */
static void expected_signature(char ids[3][41], char *out, size_t n)
{
    const char *ranges[3] = { "0-5460", "5461-10922", "10923-16383" };
    char *e[3];
    char buf[3][128];
    for (int i = 0; i < 3; i++) {
        snprintf(buf[i], sizeof buf[i], "%s:%s", ids[i], ranges[i]);
        e[i] = buf[i];
    }
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            if (strcmp(e[j], e[i]) < 0) { char *t = e[i]; e[i] = e[j]; e[j] = t; }
    snprintf(out, n, "%s|%s|%s", e[0], e[1], e[2]);
}

Test(harness, redis_nodes_meet_converge_and_a_killed_node_rejoins)
{
    const char *redis = sc_cluster_redis_or_skip();
    static sc_cluster c;
    sc_cluster_opts o = { .bin = { redis, redis, redis }, .node_timeout_ms = NODE_TIMEOUT_MS };
    long long t0 = sc_now_ms();
    sc_cluster_start_or_fail(&c, 3, &o);
    long long t_started = sc_now_ms();
    for (int i = 0; i < 3; i++) {
        cr_assert(c.node[i].is_redis);
        cr_assert_eq(sc_info_ll_or_fail(sc_cluster_ctx_or_fail(&c, i), "cluster", "cluster_enabled"), 1);
        cr_assert_eq(sc_cluster_signature(&c, i), NULL, "a fresh node owns no slots");
    }

    char ids[3][41];
    for (int i = 0; i < 3; i++) sc_cluster_myid_or_fail(&c, i, ids[i]);
    sc_cluster_addslots_split_or_fail(&c, 3);
    sc_cluster_meet_or_fail(&c);
    sc_cluster_wait_converged_or_fail(&c, 20000);
    long long t_converged = sc_now_ms();
    cr_log_info("3 redis-server nodes: started in %lld ms, converged %lld ms after MEET", t_started - t0,
                t_converged - t_started);

    char want[256];
    expected_signature(ids, want, sizeof want);
    for (int i = 0; i < 3; i++) {
        char *sig = sc_cluster_signature(&c, i);
        cr_assert_not_null(sig);
        cr_assert_str_eq(sig, want, "node %d", i);
        free(sig);
    }

    /* kill -9 node 2: the others flag it FAIL, and with its slots uncovered
     * their state goes to fail. */
    int port2 = sc_cluster_port(&c, 2);
    sc_cluster_kill9(&c, 2);
    cr_assert_not(sc_cluster_node_running(&c, 2));
    int others[2] = { 0, 1 };
    if (!sc_cluster_wait_for(&c, both_failed, others, 20000)) {
        sc_cluster_log_views(&c);
        cr_assert_fail("nodes 0 and 1 still report cluster_state:ok with node 2 dead");
    }
    redisReply *r = sc_cluster_cmd_or_fail(&c, 0, "CLUSTER NODES");
    char needle[128];
    snprintf(needle, sizeof needle, "%s 127.0.0.1:%d@%d master,fail ", ids[2], port2, port2 + 10000);
    cr_assert(strstr(r->str, needle) != NULL, "node 0 does not flag node 2 FAIL:\n%s", r->str);
    freeReplyObject(r);

    /* Restart it in its directory: same port, nodes.conf reloaded. */
    sc_cluster_restart_node_or_fail(&c, 2);
    cr_assert_eq(sc_cluster_port(&c, 2), port2);
    char id2[41];
    sc_cluster_myid_or_fail(&c, 2, id2);
    cr_assert_str_eq(id2, ids[2], "the restarted node has a new identity");
    long long t_restart = sc_now_ms();
    sc_cluster_wait_converged_or_fail(&c, 30000);
    cr_log_info("killed node rejoined %lld ms after its restart", sc_now_ms() - t_restart);
    for (int i = 0; i < 3; i++) {
        char *sig = sc_cluster_signature(&c, i);
        cr_assert_not_null(sig);
        cr_assert_str_eq(sig, want, "node %d after the rejoin", i);
        free(sig);
    }

    /* A clean stop of one node keeps its directory too. */
    sc_cluster_stop_node_or_fail(&c, 1);
    sc_cluster_restart_node_or_fail(&c, 1);
    sc_cluster_myid_or_fail(&c, 1, id2);
    cr_assert_str_eq(id2, ids[1]);
    sc_cluster_wait_converged_or_fail(&c, 30000);

    char dir0[sizeof c.node[0].dir];
    snprintf(dir0, sizeof dir0, "%s", c.node[0].dir);
    sc_cluster_stop_or_fail(&c);
    cr_assert(access(dir0, F_OK) != 0, "%s left behind", dir0);
}

/* ---- slotcache nodes --------------------------------------------------- */

Test(harness, slotcache_nodes_start_kill_restart_stop)
{
    /* What works before the bus lands: cluster-enabled slotcache nodes start
     * in parallel (beside a redis-server node when there is one), answer,
     * survive kill -9 + restart in their directory and stop cleanly. */
    const char *redis = sc_reference_redis_binary();
    static sc_cluster c;
    sc_cluster_opts o = { .bin = { NULL, NULL, redis } };
    int n = redis ? 3 : 2;
    sc_cluster_start_or_fail(&c, n, &o);
    for (int i = 0; i < n; i++) {
        redisContext *ctx = sc_cluster_ctx_or_fail(&c, i);
        sc_cmd_expect_or_fail(ctx, "PONG", "PING");
        cr_assert_eq(sc_info_ll_or_fail(ctx, "cluster", "cluster_enabled"), 1, "node %d", i);
        for (int j = 0; j < i; j++) cr_assert_neq(sc_cluster_port(&c, i), sc_cluster_port(&c, j));
    }
    cr_assert_not(c.node[0].is_redis);

    int port1 = sc_cluster_port(&c, 1);
    sc_cluster_kill9(&c, 1);
    sc_cluster_restart_node_or_fail(&c, 1);
    cr_assert_eq(sc_cluster_port(&c, 1), port1);
    sc_cmd_expect_or_fail(sc_cluster_ctx_or_fail(&c, 1), "PONG", "PING");

    sc_cluster_stop_node_or_fail(&c, 0);
    cr_assert_not(sc_cluster_node_running(&c, 0));
    sc_cluster_restart_node_or_fail(&c, 0);
    sc_cmd_expect_or_fail(sc_cluster_ctx_or_fail(&c, 0), "PONG", "PING");

    sc_cluster_stop_or_fail(&c);
}
