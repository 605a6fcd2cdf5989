/*
 * test_cluster_bus.c - the cluster bus across real processes on loopback
 * (tests/support/cluster_proc.h):
 *
 * - three slotcache nodes with their own slot ranges MEET and converge:
 *   every node reports cluster_state:ok, knows 3 nodes (none in
 *   handshake), and all print the same CLUSTER NODES signature (redis-cli's
 *   id:slots) and CLUSTER SLOTS; the convergence time is logged;
 * - kill -9 one master: the others flag it fail, no sooner than the node
 *   timeout (1 s), and turn cluster_state:fail; restarted from its nodes.conf it
 *   rejoins under the same id and FAIL clears;
 * - a mixed cluster: a real redis-server 7.0 node joins two slotcache
 *   nodes by CLUSTER MEET, slots split across all three; all agree on
 *   CLUSTER NODES and CLUSTER SLOTS, their config epochs part (collision
 *   rule), a slot taken with a bumped epoch moves on every node, both ways
 *   (slotcache from redis-server and back), a PUBLISH on the redis-server
 *   reaches a subscriber on slotcache, hostnames travel both ways in the
 *   ping extension, a killed slotcache node is marked fail by redis-server
 *   and slotcache together (each needs the other's failure report) and
 *   rejoins, and redis-server logs no complaint about our messages;
 * - a MEET nobody answers leaves a handshake node for the handshake
 *   timeout, as on redis-server.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster_proc.h"

#define NODE_TIMEOUT_MS 1000

TestSuite(cluster_bus, .fini = sc_cluster_cleanup, .timeout = 180);

static sc_cluster c;

/* ---- helpers ----------------------------------------------------------- */

/* A reply's text, malloc'd (sc_cluster_text). */
#define text(i, ...) sc_cluster_text(&c, (i), __VA_ARGS__)

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* CLUSTER SLOTS of node i as sorted "start-end:id@ip:port[,replica...]"
 * lines; NULL on error. */
static char *slots_text(int i)
{
    redisReply *r = sc_cluster_cmd(&c, i, "CLUSTER SLOTS");
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        if (r) freeReplyObject(r);
        return NULL;
    }
    char *lines[64];
    size_t nl = 0;
    for (size_t k = 0; k < r->elements && nl < 64; k++) {
        redisReply *e = r->element[k];
        char buf[1024];
        int off = snprintf(buf, sizeof buf, "%05lld-%05lld", e->element[0]->integer, e->element[1]->integer);
        for (size_t m = 2; m < e->elements; m++) {
            redisReply *nd = e->element[m];
            off += snprintf(buf + off, sizeof buf - (size_t)off, "%s%s@%s:%lld", m == 2 ? ":" : ",",
                            nd->element[2]->str, nd->element[0]->str ? nd->element[0]->str : "",
                            nd->element[1]->integer);
        }
        lines[nl++] = strdup(buf);
    }
    freeReplyObject(r);
    qsort(lines, nl, sizeof *lines, cmp_str);
    size_t len = 1;
    for (size_t k = 0; k < nl; k++) len += strlen(lines[k]) + 1;
    char *out = malloc(len);
    out[0] = '\0';
    for (size_t k = 0; k < nl; k++) {
        strcat(out, lines[k]);
        strcat(out, "\n");
        free(lines[k]);
    }
    return out;
}

static bool info_has(int i, const char *field)
{
    redisReply *r = sc_cluster_cmd(&c, i, "CLUSTER INFO");
    bool ok = r && r->str && strstr(r->str, field);
    if (r) freeReplyObject(r);
    return ok;
}

/* Beyond sc_cluster_converged (state ok, one signature): every node knows
 * all c.n nodes, none in handshake or failing, all 16384 slots ok, and
 * the same CLUSTER SLOTS. */
static bool agreed(sc_cluster *cl, void *arg)
{
    (void)arg;
    if (!sc_cluster_converged(cl, NULL)) return false;
    char known[64];
    snprintf(known, sizeof known, "cluster_known_nodes:%d\r\n", cl->n);
    char *slots0 = NULL;
    bool ok = true;
    for (int i = 0; i < cl->n && ok; i++) {
        ok = info_has(i, known) && info_has(i, "cluster_slots_ok:16384\r\n");
        char *all = ok ? text(i, "CLUSTER NODES") : NULL;
        ok = ok && all && !strstr(all, "handshake") && !strstr(all, "fail");
        free(all);
        char *sl = ok ? slots_text(i) : NULL;
        ok = ok && sl && (i == 0 || !strcmp(sl, slots0));
        if (i == 0) slots0 = sl;
        else free(sl);
    }
    free(slots0);
    return ok;
}

static void wait_agreed_or_fail(const char *what)
{
    if (!sc_cluster_wait_for(&c, agreed, NULL, 20000)) {
        sc_cluster_log_views(&c);
        cr_assert_fail("%s", what);
    }
}

/* The flags field of node `id`'s CLUSTER NODES line on node i ("" when
 * absent or i cannot be asked). */
static void flags_of(int i, const char *id, char *out, size_t outlen)
{
    out[0] = '\0';
    char *all = text(i, "CLUSTER NODES");
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

typedef struct {
    const char *id;
    int a, b;           /* the nodes that must both see it */
    bool seen_pfail;
} fail_watch;

/* Nodes a and b both flag `id` "master,fail" (noting any "fail?"). */
static bool both_flag_fail(sc_cluster *cl, void *arg)
{
    (void)cl;
    fail_watch *w = arg;
    char fa[128], fb[128];
    flags_of(w->a, w->id, fa, sizeof fa);
    flags_of(w->b, w->id, fb, sizeof fb);
    if (strstr(fa, "fail?") || strstr(fb, "fail?")) w->seen_pfail = true;
    return !strcmp(fa, "master,fail") && !strcmp(fb, "master,fail");
}

/* The config epochs node i prints for the c.n masters all differ. */
static bool epochs_distinct(sc_cluster *cl, void *arg)
{
    int i = *(int *)arg;
    char *all = text(i, "CLUSTER NODES");
    if (!all) return false;
    long long ep[SC_CLUSTER_MAX];
    int ne = 0;
    for (char *p = all; p && *p && ne < SC_CLUSTER_MAX;) {
        if (sscanf(p, "%*s %*s %*s %*s %*s %*s %lld", &ep[ne]) == 1) ne++;
        p = strchr(p, '\n');
        if (p) p++;
    }
    free(all);
    if (ne != cl->n) return false;
    for (int a = 0; a < ne; a++)
        for (int b = a + 1; b < ne; b++)
            if (ep[a] == ep[b]) return false;
    return true;
}

typedef struct {
    int slot;
    char id[41];
} slot_owner;

/* Every node agrees, and CLUSTER SLOTS on each gives the slot to id. */
static bool slot_owned_everywhere(sc_cluster *cl, void *arg)
{
    slot_owner *so = arg;
    if (!agreed(cl, NULL)) return false;
    for (int i = 0; i < cl->n; i++) {
        redisReply *sl = sc_cluster_cmd(cl, i, "CLUSTER SLOTS");
        bool found = false;
        for (size_t e = 0; sl && e < sl->elements; e++) {
            redisReply *en = sl->element[e];
            if (en->element[0]->integer <= so->slot && so->slot <= en->element[1]->integer)
                found = !strcmp(en->element[2]->element[2]->str, so->id);
        }
        if (sl) freeReplyObject(sl);
        if (!found) return false;
    }
    return true;
}

/* On node `taker`: take `slot` from its owner without consensus, as an
 * operator would (DELSLOTS, ADDSLOTS, BUMPEPOCH); the others must rebind it
 * by configEpoch (clusterUpdateSlotsConfigWith) and agree again. */
static void take_slot(int taker, int slot)
{
    free(text(taker, "CLUSTER DELSLOTS %d", slot));
    char *r = text(taker, "CLUSTER ADDSLOTS %d", slot);
    cr_assert(r && !strcmp(r, "OK"), "ADDSLOTS %d: %s", slot, r ? r : "(none)");
    free(r);
    /* STILL when the taker's epoch is already the unique largest. */
    r = text(taker, "CLUSTER BUMPEPOCH");
    cr_assert(r && (!strncmp(r, "BUMPED ", 7) || !strncmp(r, "STILL ", 6)), "BUMPEPOCH: %s", r ? r : "(none)");
    free(r);
    slot_owner so = {.slot = slot};
    sc_cluster_myid_or_fail(&c, taker, so.id);
    if (!sc_cluster_wait_for(&c, slot_owned_everywhere, &so, 10000)) {
        sc_cluster_log_views(&c);
        cr_assert_fail("slot %d did not move to node %d on every node", slot, taker);
    }
}

/* Start the nodes (bins), split the slots, MEET; the ms from MEET to
 * agreement. */
static long long form_cluster(int n, const char *const *bins)
{
    sc_cluster_opts o = {.node_timeout_ms = NODE_TIMEOUT_MS};
    for (int i = 0; i < n; i++) o.bin[i] = bins[i];
    sc_cluster_start_or_fail(&c, n, &o);
    sc_cluster_addslots_split_or_fail(&c, n);
    long long t0 = sc_now_ms();
    sc_cluster_meet_or_fail(&c);
    wait_agreed_or_fail("the cluster did not converge");
    return sc_now_ms() - t0;
}

/* ---- tests ------------------------------------------------------------- */

Test(cluster_bus, three_nodes_converge_fail_and_rejoin)
{
    const char *bin = sc_server_binary();
    long long ms = form_cluster(3, (const char *[]){bin, bin, bin});
    cr_log_info("3 slotcache nodes: MEET to converged (state ok, same NODES signature and SLOTS) in %lld ms", ms);
    fprintf(stderr, "cluster_bus: 3 slotcache nodes converged %lld ms after MEET\n", ms);

    char id2[41], f[128];
    sc_cluster_myid_or_fail(&c, 2, id2);
    flags_of(0, id2, f, sizeof f);
    cr_assert_str_eq(f, "master");

    /* kill -9 node 2: fail? then fail on both survivors. */
    sc_cluster_kill9(&c, 2);
    long long tk = sc_now_ms();
    fail_watch w = {.id = id2, .a = 0, .b = 1};
    if (!sc_cluster_wait_for(&c, both_flag_fail, &w, 10000)) {
        sc_cluster_log_views(&c);
        cr_assert_fail("the killed master was not marked fail by both survivors");
    }
    /* Not before the node timeout. (fail? may pass unseen: a node that
     * flags PFAIL reports it to the masters at once, so FAIL follows
     * within milliseconds.) */
    long long took = sc_now_ms() - tk;
    cr_assert_geq(took, NODE_TIMEOUT_MS, "fail %lld ms after kill -9, before the node timeout (%d ms)", took,
                  NODE_TIMEOUT_MS);
    cr_log_info("killed master marked fail %lld ms after kill -9 (node timeout %d ms; fail? seen: %s)", took,
                NODE_TIMEOUT_MS, w.seen_pfail ? "yes" : "no");
    bool down = SC_WAIT_FOR(info_has(0, "cluster_state:fail\r\n") && info_has(1, "cluster_state:fail\r\n"), 5000);
    cr_assert(down, "cluster_state stays ok with a third of the slots on a failed master");

    /* Restart from nodes.conf: same id, FAIL clears, agreement again. */
    sc_cluster_restart_node_or_fail(&c, 2);
    char again[41];
    sc_cluster_myid_or_fail(&c, 2, again);
    cr_assert_str_eq(again, id2, "the restarted node took a new id");
    wait_agreed_or_fail("the restarted node did not rejoin");
    flags_of(0, id2, f, sizeof f);
    cr_assert_str_eq(f, "master");

    sc_cluster_stop_or_fail(&c);
}

Test(cluster_bus, mixed_with_redis_server)
{
    const char *redis = sc_cluster_redis_or_skip();
    const char *bin = sc_server_binary();
    /* Node 2 is the redis-server: it MEETs slotcache node 0. */
    long long ms = form_cluster(3, (const char *[]){bin, bin, redis});
    cr_log_info("2 slotcache + 1 redis-server: MEET to converged in %lld ms", ms);
    fprintf(stderr, "cluster_bus: mixed cluster converged %lld ms after MEET\n", ms);

    /* Every node's view of every node's role. */
    for (int i = 0; i < 3; i++) {
        char id[41], f[128];
        sc_cluster_myid_or_fail(&c, i, id);
        for (int j = 0; j < 3; j++) {
            flags_of(j, id, f, sizeof f);
            cr_assert_str_eq(f, i == j ? "myself,master" : "master", "node %d's flags for node %d", j, i);
        }
    }

    /* Equal epochs at creation: the collision rule spreads them apart, on
     * both implementations alike. */
    for (int i = 0; i < 3; i++)
        cr_assert(sc_cluster_wait_for(&c, epochs_distinct, &i, 10000), "node %d still sees equal config epochs", i);

    /* Slot ownership by configEpoch, both ways: redis-server takes slot 0
     * from slotcache node 0, slotcache node 1 takes slot 16383 from it. */
    take_slot(2, 0);
    take_slot(1, 16383);

    /* PUBLISH on redis-server reaches a subscriber on slotcache node 1. */
    redisContext *sub = sc_connect_or_fail(&c.node[1]);
    redisReply *r = redisCommand(sub, "SUBSCRIBE news");
    cr_assert(r && r->type == REDIS_REPLY_ARRAY);
    freeReplyObject(r);
    freeReplyObject(sc_cluster_cmd_or_fail(&c, 2, "PUBLISH news hello"));
    r = NULL;
    cr_assert_eq(redisGetReply(sub, (void **)&r), REDIS_OK, "no message from the bus");
    cr_assert(r && r->type == REDIS_REPLY_ARRAY && r->elements == 3);
    cr_assert_str_eq(r->element[0]->str, "message");
    cr_assert_str_eq(r->element[1]->str, "news");
    cr_assert_str_eq(r->element[2]->str, "hello");
    freeReplyObject(r);
    redisFree(sub);
    cr_assert(info_has(1, "cluster_stats_messages_publish_received:1\r\n"));

    /* Hostnames travel in the ping extension both ways. */
    freeReplyObject(sc_cluster_cmd_or_fail(&c, 2, "CONFIG SET cluster-announce-hostname redis-host"));
    freeReplyObject(sc_cluster_cmd_or_fail(&c, 0, "CONFIG SET cluster-announce-hostname slotcache-host"));
    char addr0[64], addr2[64];
    snprintf(addr0, sizeof addr0, ":%d@%d,slotcache-host ", sc_cluster_port(&c, 0),
             sc_cluster_port(&c, 0) + SC_CLUSTER_BUS_OFFSET);
    snprintf(addr2, sizeof addr2, ":%d@%d,redis-host ", sc_cluster_port(&c, 2),
             sc_cluster_port(&c, 2) + SC_CLUSTER_BUS_OFFSET);
    bool both = SC_WAIT_FOR(({
                                char *a = text(1, "CLUSTER NODES");
                                char *b = text(2, "CLUSTER NODES");
                                bool ok = a && b && strstr(a, addr2) && strstr(a, addr0) && strstr(b, addr0);
                                free(a);
                                free(b);
                                ok;
                            }),
                            5000);
    if (!both) sc_cluster_log_views(&c);
    cr_assert(both, "announced hostnames did not reach the other nodes");

    /* Failure detection across implementations: kill -9 slotcache node 0;
     * redis-server needs node 1's failure report (a PFAIL entry in our
     * gossip) for its quorum, and node 1 needs redis-server's. */
    char id0[41];
    sc_cluster_myid_or_fail(&c, 0, id0);
    sc_cluster_kill9(&c, 0);
    fail_watch w = {.id = id0, .a = 1, .b = 2};
    if (!sc_cluster_wait_for(&c, both_flag_fail, &w, 10000)) {
        sc_cluster_log_views(&c);
        cr_assert_fail("redis-server and slotcache did not agree that the killed node failed");
    }
    sc_cluster_restart_node_or_fail(&c, 0);
    wait_agreed_or_fail("the restarted node did not rejoin the mixed cluster");

    /* redis-server found nothing to complain about in what we sent. */
    FILE *f = fopen(c.node[2].log_path, "r");
    cr_assert(f);
    char line[1024];
    size_t lines = 0;
    while (fgets(line, sizeof line, f)) {
        lines++;
        cr_assert(!strstr(line, "unknown extension") && !strstr(line, "invalid") && !strstr(line, "Bad message"),
                  "redis-server: %s", line);
    }
    fclose(f);
    cr_assert(lines > 0);

    sc_cluster_stop_or_fail(&c);
}

/* A MEET to an address where nobody answers leaves a handshake node that
 * goes away after the handshake timeout (max(node timeout, 1 s)). */
static void handshake_times_out(const char *bin)
{
    sc_cluster_opts o = {.bin = {bin}, .node_timeout_ms = NODE_TIMEOUT_MS};
    sc_cluster_start_or_fail(&c, 1, &o);
    int dead = 0;
    for (int p = 20000 + (int)(getpid() % 10000); p < 32000 && !dead; p += 7)
        if (sc_port_free(p)) dead = p; /* nothing listens there */
    cr_assert(dead, "no free port");
    char *r = text(0, "CLUSTER MEET 127.0.0.1 %d %d", dead, dead);
    cr_assert(r && !strcmp(r, "OK"), "MEET: %s", r ? r : "(none)");
    free(r);
    char addr[64];
    snprintf(addr, sizeof addr, " 127.0.0.1:%d@%d handshake ", dead, dead);
    char *all = text(0, "CLUSTER NODES");
    cr_assert(all && strstr(all, addr), "no handshake node: %s", all ? all : "");
    free(all);
    cr_assert(info_has(0, "cluster_known_nodes:2\r\n"));
    long long t0 = sc_now_ms();
    cr_assert(SC_WAIT_FOR(info_has(0, "cluster_known_nodes:1\r\n"), 5000), "the handshake node stayed");
    long long took = sc_now_ms() - t0;
    cr_assert(took >= 900, "the handshake node went after %lld ms, before the 1 s timeout", took);
    sc_cluster_stop_or_fail(&c);
}

Test(cluster_bus, handshake_times_out) { handshake_times_out(sc_server_binary()); }
Test(cluster_bus, handshake_times_out_redis) { handshake_times_out(sc_cluster_redis_or_skip()); }
