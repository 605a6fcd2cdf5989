/*
 * cluster_proc.h - multi-node test harness for cluster tests: start N server
 * processes with cluster mode on (slotcache by default, or redis-server,
 * chosen per node) in parallel, talk to node i, wait for the cluster to agree,
 * kill / stop / restart single nodes from their nodes.conf, stop them all.
 *
 * Built on server_proc.h: every node is an sc_server, so its life-cycle rules
 * hold here too (fresh directory under /tmp/slotcache-tests, kept when a node
 * did not exit cleanly; children die with the test process; bounds scaled by
 * SLOTCACHE_TIMEOUT_SCALE). Use sc_cluster_cleanup as the suite's .fini and
 * call sc_cluster_stop_or_fail at the end of the test body.
 *
 * Ports: node i listens on port P and its cluster bus on P + 10000 (the
 * default of both servers), and the harness picks P so that both are free,
 * from [10000, 22000): the bus ports stay under Linux's default ephemeral
 * range (32768-60999), so the nodes' own outgoing connections can never hold
 * a port a later node needs. A node that loses a port race is restarted on
 * another pair.
 */
#ifndef CLUSTER_PROC_H
#define CLUSTER_PROC_H

#include <stdbool.h>

#include <hiredis/hiredis.h>

#include "server_proc.h"

#define SC_CLUSTER_MAX 16
#define SC_CLUSTER_SLOTS 16384
#define SC_CLUSTER_BUS_OFFSET 10000
/* cluster-node-timeout when sc_cluster_opts leaves it 0 (before scaling). */
#define SC_CLUSTER_NODE_TIMEOUT_MS 2000

/* The reference redis-server (sc_reference_redis_binary) for a test that
 * needs one: without it the test is skipped, except under CI=true, where it
 * fails (a skipped comparison would pass unnoticed). */
const char *sc_cluster_redis_or_skip(void);

typedef struct sc_cluster_opts {
    /* Binary of node i: NULL (or a NULL entry) means sc_server_binary(),
     * i.e. slotcache; sc_reference_redis_binary() for a real redis-server. */
    const char *bin[SC_CLUSTER_MAX];
    /* cluster-node-timeout in ms (0: the default above), scaled by
     * SLOTCACHE_TIMEOUT_SCALE when a node is slotcache (a sanitized server
     * is slower to answer pings). */
    int node_timeout_ms;
    /* More arguments for every node (NULL-terminated; copied). */
    const char *const *extra_args;
    /* Node i starts with a config file as its first argument, as a user's
     * redis.conf: node.conf in its directory, empty at the first start, so
     * CONFIG REWRITE works there (a node without one answers it with "ERR
     * The server is running without a config file"). The harness runs such
     * a node through a wrapper script in its directory that execs the
     * binary with the file first (same pid, same arguments after it). */
    bool config_file[SC_CLUSTER_MAX];
} sc_cluster_opts;

typedef struct sc_cluster {
    int n;
    sc_server node[SC_CLUSTER_MAX];
    redisContext *ctx[SC_CLUSTER_MAX];   /* cached by sc_cluster_ctx_or_fail */
    int node_timeout_ms;                 /* as passed to the nodes (scaled) */
    /* The arguments every node gets after server_proc's base ones, kept for
     * restarts: pointers into argbuf, NULL-terminated. */
    const char *args[64];
    char argbuf[2048];
    /* Nodes started with a config file (opts.config_file): the binary the
     * wrapper execs. */
    bool config_file[SC_CLUSTER_MAX];
    char real_bin[SC_CLUSTER_MAX][256];
} sc_cluster;

/* Start n nodes (1..SC_CLUSTER_MAX) in parallel, each with --cluster-enabled
 * yes, --cluster-config-file nodes.conf, --cluster-node-timeout T, in its own
 * directory; wait (bounded) until every one answers PING. opts may be NULL.
 * Fails the test, with the logs, when a node cannot be started. */
void sc_cluster_start_or_fail(sc_cluster *c, int n, const sc_cluster_opts *opts);

/* Client port of node i. */
int sc_cluster_port(const sc_cluster *c, int i);

/* A connection to node i, kept in c->ctx[i] and reused; reconnects when the
 * last one broke. Fails the test if node i cannot be reached. Do not free. */
redisContext *sc_cluster_ctx_or_fail(sc_cluster *c, int i);
/* Run a command on node i over that connection (redisCommand format); fails
 * the test when the connection breaks. Free with freeReplyObject. */
redisReply *sc_cluster_cmd_or_fail(sc_cluster *c, int i, const char *fmt, ...);
/* The same, but returns NULL instead of failing when node i cannot be
 * reached or the connection breaks (for predicates polled while nodes come
 * and go). */
redisReply *sc_cluster_cmd(sc_cluster *c, int i, const char *fmt, ...);

/* Poll pred(c, arg) until it is true or ms (scaled) elapse; its last value.
 * The pause between polls grows to 100 ms. */
typedef bool (*sc_cluster_pred)(sc_cluster *c, void *arg);
bool sc_cluster_wait_for(sc_cluster *c, sc_cluster_pred pred, void *arg, int ms);

/* redis-cli's config signature (clusterManagerGetConfigSignature) of a
 * CLUSTER NODES text: for every line with slots, "id:" then its slot tokens
 * ("5", "0-5460"; not the "[...]" open-slot markers) sorted as strings and
 * joined with ","; those entries sorted as strings and joined with "|".
 * Returns a malloc'd string (free it), or NULL when no line has slots. */
char *sc_cluster_nodes_signature(const char *cluster_nodes);
/* That signature of node i's CLUSTER NODES; NULL when no line has slots or
 * the node cannot be asked. Free it. */
char *sc_cluster_signature(sc_cluster *c, int i);
/* Every running node answers, and all report the same non-empty signature. */
bool sc_cluster_signatures_agree(sc_cluster *c);

/* Node i answers CLUSTER INFO with cluster_state:ok. */
bool sc_cluster_state_ok(sc_cluster *c, int i);
/* Predicate (arg unused): every running node says cluster_state:ok, and all
 * agree on the signature. */
bool sc_cluster_converged(sc_cluster *c, void *arg);
/* Wait (ms, scaled) for sc_cluster_converged; else log every node's CLUSTER
 * INFO state and CLUSTER NODES, and fail the test. */
void sc_cluster_wait_converged_or_fail(sc_cluster *c, int ms);
/* Log CLUSTER NODES and cluster_state of every running node (cr_log_error). */
void sc_cluster_log_views(sc_cluster *c);

/* The text of a reply to a command on node i (bulk, status or error), malloc'd; NULL when the node cannot be asked or the reply is of
 * another type. */
char *sc_cluster_text(sc_cluster *c, int i, const char *fmt, ...);
/* Node `id`'s line in node i's CLUSTER NODES: its flags ("myself,master",
 * "slave", ...) and master ("-" or an id) fields, each cut to n bytes.
 * False when node i cannot be asked or does not list id. */
bool sc_cluster_node_line(sc_cluster *c, int i, const char *id, char *flags, char *master, size_t n);

/* Node i's 40-character id (CLUSTER MYID) into out[41]. */
void sc_cluster_myid_or_fail(sc_cluster *c, int i, char out[41]);
/* CLUSTER ADDSLOTSRANGE on nodes 0..masters-1, splitting the 16384 slots
 * into consecutive ranges as redis-cli --cluster create does (0-5460,
 * 5461-10922, 10923-16383 for three). */
void sc_cluster_addslots_split_or_fail(sc_cluster *c, int masters);
/* CLUSTER MEET 127.0.0.1 <port of node 0> on every other node. */
void sc_cluster_meet_or_fail(sc_cluster *c);

/* SIGKILL node i now (no exit check); its port and directory (nodes.conf)
 * stay for sc_cluster_restart_node_or_fail. */
void sc_cluster_kill9(sc_cluster *c, int i);
/* SIGTERM node i and check it exited cleanly; its directory stays. */
void sc_cluster_stop_node_or_fail(sc_cluster *c, int i);
/* Start a killed or stopped node i again: same binary, port, directory and
 * arguments, so it reloads its nodes.conf; waits until it answers PING. */
void sc_cluster_restart_node_or_fail(sc_cluster *c, int i);
/* Node i's process is running. */
bool sc_cluster_node_running(const sc_cluster *c, int i);

/* Stop every running node (in parallel), check each exited cleanly, close
 * the connections and remove every node's directory (kept for a node that
 * did not exit cleanly). Call it at the end of the test body. */
void sc_cluster_stop_or_fail(sc_cluster *c);

/* For .fini: close the connections of clusters not stopped and SIGKILL their
 * nodes (sc_server_cleanup). Never asserts. */
void sc_cluster_cleanup(void);

#endif
