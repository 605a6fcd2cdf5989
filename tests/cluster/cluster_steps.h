/*
 * cluster_steps.h - steps the cluster suites share on top of
 * tests/support/cluster_proc.h: form a cluster of masters and replicas,
 * take a slot as an operator would, read a CLUSTER INFO counter. Static
 * functions, included by test binaries only (one translation unit each).
 */
#ifndef CLUSTER_STEPS_H
#define CLUSTER_STEPS_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_proc.h"

/* Node `r` lists itself as a replica of `master_id` in CLUSTER NODES and
 * its replication link is up. */
typedef struct {
    int r;
    const char *master_id;
} steps_replica_of;

static inline bool steps_replica_ready(sc_cluster *cl, void *arg)
{
    const steps_replica_of *ro = arg;
    redisReply *n = sc_cluster_cmd(cl, ro->r, "CLUSTER NODES");
    char want[64];
    snprintf(want, sizeof want, "myself,slave %s ", ro->master_id);
    bool ok = n && n->str && strstr(n->str, want);
    if (n) freeReplyObject(n);
    redisReply *i = ok ? sc_cluster_cmd(cl, ro->r, "INFO replication") : NULL;
    ok = ok && i && i->str && strstr(i->str, "master_link_status:up");
    if (i) freeReplyObject(i);
    return ok;
}

/* Start n nodes (bins[i], NULL or bins NULL: slotcache) with the given
 * node timeout, give the first `masters` the slots (redis-cli's split),
 * MEET, wait for agreement, then make node masters + k a replica of node k
 * (CLUSTER REPLICATE, link up) and wait for agreement again. */
static inline void steps_form(sc_cluster *cl, int n, int masters, const char *const *bins, int node_timeout_ms)
{
    sc_cluster_opts o = {.node_timeout_ms = node_timeout_ms};
    for (int i = 0; i < n && bins; i++) o.bin[i] = bins[i];
    sc_cluster_start_or_fail(cl, n, &o);
    sc_cluster_addslots_split_or_fail(cl, masters);
    sc_cluster_meet_or_fail(cl);
    sc_cluster_wait_converged_or_fail(cl, 20000);
    for (int r = masters; r < n; r++) {
        char id[41];
        sc_cluster_myid_or_fail(cl, r - masters, id);
        redisReply *rep = sc_cluster_cmd_or_fail(cl, r, "CLUSTER REPLICATE %s", id);
        cr_assert(sc_reply_is(rep, "OK"), "node %d: CLUSTER REPLICATE: %s", r, rep->str ? rep->str : "?");
        freeReplyObject(rep);
        steps_replica_of ro = {r, id};
        if (!sc_cluster_wait_for(cl, steps_replica_ready, &ro, 20000)) {
            sc_cluster_log_views(cl);
            cr_assert_fail("node %d did not become a replica of node %d", r, r - masters);
        }
    }
    sc_cluster_wait_converged_or_fail(cl, 20000);
}

/* Node `taker` takes `slot` from its owner without consensus (DELSLOTS,
 * ADDSLOTS, BUMPEPOCH), as an operator or a failover winner would; the
 * others follow by configEpoch (clusterUpdateSlotsConfigWith). A message
 * of the owner that lands between DELSLOTS and ADDSLOTS gives the
 * unassigned slot back to it (as in Redis): ADDSLOTS then answers "already
 * busy" and the pair is sent again, pipelined, a bounded number of times. */
static inline void steps_take_slot(sc_cluster *cl, int taker, int slot)
{
    redisContext *x = sc_cluster_ctx_or_fail(cl, taker);
    char last[256] = "";
    bool ok = false;
    for (int attempt = 0; attempt < 50 && !ok; attempt++) {
        redisAppendCommand(x, "CLUSTER DELSLOTS %d", slot);
        redisAppendCommand(x, "CLUSTER ADDSLOTS %d", slot);
        redisReply *d = NULL, *r = NULL;
        cr_assert(redisGetReply(x, (void **)&d) == REDIS_OK && redisGetReply(x, (void **)&r) == REDIS_OK,
                  "node %d: the connection broke: %s", taker, x->errstr);
        ok = sc_reply_is(r, "OK");
        snprintf(last, sizeof last, "%s", r->str ? r->str : "?");
        freeReplyObject(d);
        freeReplyObject(r);
    }
    cr_assert(ok, "ADDSLOTS %d: %s", slot, last);
    redisReply *r;
    r = sc_cluster_cmd_or_fail(cl, taker, "CLUSTER BUMPEPOCH");
    cr_assert(r->str && (!strncmp(r->str, "BUMPED ", 7) || !strncmp(r->str, "STILL ", 6)), "BUMPEPOCH: %s",
              r->str ? r->str : "?");
    freeReplyObject(r);
}

/* Node i's CLUSTER COUNTKEYSINSLOT of slot; -1 when it does not answer. */
static inline long long steps_keys_in_slot(sc_cluster *cl, int i, int slot)
{
    redisReply *r = sc_cluster_cmd(cl, i, "CLUSTER COUNTKEYSINSLOT %d", slot);
    long long n = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    if (r) freeReplyObject(r);
    return n;
}

/* The integer `field` of node i's CLUSTER INFO; 0 when absent (Redis
 * prints a message counter only once it is non-zero). */
static inline long long steps_cluster_info_ll(sc_cluster *cl, int i, const char *field)
{
    redisReply *r = sc_cluster_cmd_or_fail(cl, i, "CLUSTER INFO");
    const char *p = r->str ? strstr(r->str, field) : NULL;
    long long v = p ? atoll(p + strlen(field) + 1) : 0;
    freeReplyObject(r);
    return v;
}

#endif
