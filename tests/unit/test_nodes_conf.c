/*
 * test_nodes_conf.c - unit tests for cluster/nodes_conf.c (the CLUSTER
 * NODES line generator and the nodes.conf parser) and the parts of
 * cluster/cluster_state.c they lean on (node table, slots, replicas,
 * failure reports, epochs, blacklist), and the slot map published from
 * that state (concurrent readers; routing's per-thread fast path,
 * route_fast, against route_decide). Line formats are Redis 7.0.15's
 * (CLUSTER-WIRE 1.2); the captured lines below come from a real
 * redis-server cluster. Criterion forks per test: every test starts from
 * fresh globals.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../cluster/cluster_state.h"
#include "../../cluster/route.h"
#include "../../server/config.h"

#define ID_A "5258e7ab81ea300d7b7936e1277edf172eab2c58"
#define ID_B "a0f9bad7c1a0d2b8e6c1e4f7b2b9c7d3e5f60718"
#define ID_C "65e245da0a4f1d7c2f8b9e3d6c5a4b3f2e1d0c9b"
#define ID_R "8734987192a6727de05595e27159b6abd1b004de"

static void setup(void) {
    config_init_defaults();
    cluster = cluster_state_new();
    cluster_lock();
}

static void teardown(void) {
    cluster_unlock();
    cluster_state_free(cluster);
    cluster = NULL;
}

TestSuite(nodes_conf, .init = setup, .fini = teardown);

static int parse(const char *text, char *err) {
    return cluster_config_parse(text, strlen(text), err, 256);
}

static void parse_ok(const char *text) {
    char err[256] = "";
    int r = parse(text, err);
    cr_assert_eq(r, 0, "parse failed: %s", err);
}

static char *config_text(void) {
    sbuf b = {0};
    cluster_config_text(&b);
    char *s = strdup(b.p ? b.p : "");
    sbuf_free(&b);
    return s;
}

/* A 3-master, 1-replica file whose masters come before the replica, so
 * the generator prints the lines back in the same order. */
static const char *const three_masters =
    ID_A " 127.0.0.1:45001@55001 myself,master - 0 1796566016000 1 connected 0-5460\n" ID_B
    " 127.0.0.1:45002@55002 master - 0 1796566016618 2 connected 5461-10922\n" ID_C
    " 127.0.0.1:45003@55003 master - 0 1796566016618 3 connected 10923-16383\n" ID_R
    " 127.0.0.1:45004@55004 slave " ID_A " 0 1796566016316 1 connected\n"
    "vars currentEpoch 6 lastVoteEpoch 0\n";

Test(nodes_conf, round_trip_of_a_healthy_cluster) {
    parse_ok(three_masters);
    cr_assert_eq(cluster->nnodes, 4);
    cr_assert(!memcmp(cluster->myself->name, ID_A, 40));
    cr_assert_eq(cluster->current_epoch, 6);
    cr_assert_eq(cluster->myself->numslots, 5461);
    cluster_node *r = cluster_lookup_node(ID_R, 40);
    cr_assert(r && r->slaveof == cluster->myself);
    cr_assert_eq(cluster->myself->numslaves, 1);
    cr_assert_eq(r->config_epoch, 0, "a replica's own epoch is not read from its line");
    /* ping/pong are stored as "now" when non-zero, so print the times as
     * the file had them only after zeroing them. */
    for (int i = 0; i < cluster->nnodes; i++) cluster->nodes[i]->ping_sent = cluster->nodes[i]->pong_received = 0;
    char *text = config_text();
    cr_assert_str_eq(text, ID_A " 127.0.0.1:45001@55001 myself,master - 0 0 1 connected 0-5460\n" ID_B
                           " 127.0.0.1:45002@55002 master - 0 0 2 disconnected 5461-10922\n" ID_C
                           " 127.0.0.1:45003@55003 master - 0 0 3 disconnected 10923-16383\n" ID_R
                           " 127.0.0.1:45004@55004 slave " ID_A " 0 0 1 disconnected\n"
                           "vars currentEpoch 6 lastVoteEpoch 0\n");
    free(text);
}

Test(nodes_conf, captured_fresh_node_line) {
    parse_ok("eb6fd14343cc90acafcb584d671a25c25edab869 :45100@55100 myself,master - 0 0 0 connected\n");
    sbuf b = {0};
    cluster_node_description(&b, cluster->myself);
    cr_assert_str_eq(b.p, "eb6fd14343cc90acafcb584d671a25c25edab869 :45100@55100 myself,master - 0 0 0 connected");
    sbuf_free(&b);
}

Test(nodes_conf, open_slot_markers_only_on_myself_in_slot_order) {
    parse_ok(ID_A " 127.0.0.1:45001@55001 myself,master - 0 0 1 connected 0-5460 [3300->-" ID_B "] [10-<-" ID_C
                  "]\n" ID_B " 127.0.0.1:45002@55002 master - 0 0 2 connected 5461-10922\n" ID_C
                  " 127.0.0.1:45003@55003 master - 0 0 3 connected\n");
    cr_assert_eq(cluster->migrating_slots_to[3300], cluster_lookup_node(ID_B, 40));
    cr_assert_eq(cluster->importing_slots_from[10], cluster_lookup_node(ID_C, 40));
    sbuf b = {0};
    cluster_node_description(&b, cluster->myself);
    cr_assert_str_eq(b.p, ID_A " 127.0.0.1:45001@55001 myself,master - 0 0 1 connected 0-5460 [10-<-" ID_C
                             "] [3300->-" ID_B "]");
    sbuf_free(&b);
    b = (sbuf){0};
    cluster_node_description(&b, cluster_lookup_node(ID_B, 40));
    cr_assert_str_eq(b.p, ID_B " 127.0.0.1:45002@55002 master - 0 0 2 disconnected 5461-10922");
    sbuf_free(&b);
}

Test(nodes_conf, slot_runs_hostname_and_old_address_form) {
    parse_ok(ID_A " 10.0.0.1:7000@17000,node-a.example myself,master - 0 0 4 connected 0-5 7 9-10 16383\n" ID_B
                  " 10.0.0.2:7001 master - 0 0 2 connected 6\n");
    cluster_node *a = cluster->myself, *b2 = cluster_lookup_node(ID_B, 40);
    cr_assert_str_eq(a->hostname, "node-a.example");
    cr_assert_eq(b2->cport, 17001, "no @cport: port + 10000");
    cr_assert_eq(a->numslots, 10);
    sbuf b = {0};
    cluster_nodes_description(&b, 0);
    cr_assert_str_eq(b.p, ID_A " 10.0.0.1:7000@17000,node-a.example myself,master - 0 0 4 connected 0-5 7 9-10 16383\n" ID_B
                             " 10.0.0.2:7001@17001 master - 0 0 2 disconnected 6\n");
    sbuf_free(&b);
}

Test(nodes_conf, flags_in_redis_order_and_noflags) {
    parse_ok(ID_A " :1@2 myself,master - 0 0 0 connected\n" ID_B " 1.2.3.4:5@6 nofailover,noaddr,handshake,fail,fail?,slave " ID_A
                  " 0 0 0 connected\n" ID_C " 1.2.3.4:7@8 noflags - 0 0 0 connected\n");
    cluster_node *b2 = cluster_lookup_node(ID_B, 40), *c = cluster_lookup_node(ID_C, 40);
    cr_assert_eq(b2->flags, CLUSTER_NODE_SLAVE | CLUSTER_NODE_PFAIL | CLUSTER_NODE_FAIL | CLUSTER_NODE_HANDSHAKE |
                                CLUSTER_NODE_NOADDR | CLUSTER_NODE_NOFAILOVER);
    b2->flags |= CLUSTER_NODE_MEET | CLUSTER_NODE_MIGRATE_TO; /* never printed */
    sbuf b = {0};
    cluster_node_description(&b, b2);
    cr_assert_str_eq(b.p, ID_B " 1.2.3.4:5@6 slave,fail?,fail,handshake,noaddr,nofailover " ID_A " 0 0 0 disconnected");
    sbuf_free(&b);
    b = (sbuf){0};
    cluster_node_description(&b, c);
    cr_assert_str_eq(b.p, ID_C " 1.2.3.4:7@8 noflags - 0 0 0 disconnected");
    sbuf_free(&b);
    /* nodes.conf leaves handshake nodes out */
    char *text = config_text();
    cr_assert_null(strstr(text, ID_B));
    free(text);
}

Test(nodes_conf, link_and_times_in_the_line) {
    parse_ok(ID_A " 127.0.0.1:1@2 myself,master - 0 0 0 connected\n" ID_B " 127.0.0.1:3@4 master - 0 0 7 connected\n");
    cluster_node *b2 = cluster_lookup_node(ID_B, 40);
    b2->ping_sent = 1796566016000LL;
    b2->pong_received = 1796566016618LL;
    b2->link = (struct bus_link *)b2; /* any non-NULL pointer: "connected" */
    sbuf b = {0};
    cluster_node_description(&b, b2);
    cr_assert_str_eq(b.p, ID_B " 127.0.0.1:3@4 master - 1796566016000 1796566016618 7 connected");
    sbuf_free(&b);
    b2->link = NULL;
}

Test(nodes_conf, vars_and_blank_lines) {
    parse_ok("\n" ID_A " :1@2 myself,master - 0 0 9 connected\n\n   \nvars lastVoteEpoch 3 currentEpoch 2 someday 5\n");
    cr_assert_eq(cluster->current_epoch, 9, "raised to the largest configEpoch");
    cr_assert_eq(cluster->last_vote_epoch, 3);
    char err[256];
    cr_assert_eq(parse("", err), 1, "an empty file is no configuration");
}

Test(nodes_conf, corrupt_files_are_refused_whole) {
    static const struct {
        const char *text, *why;
    } bad[] = {
        {"vars currentEpoch 1 lastVoteEpoch 0\n", "no node flagged myself"},
        {"abc :1@2 myself,master - 0 0 0 connected\n", "bad node id"},
        {ID_A " :1@2 myself,master - 0 0 0\n", "at least 8"},
        {ID_A " :1@2 myself,master - 0 0 0 connected 16384\n", "bad slot"},
        {ID_A " :1@2 myself,master - 0 0 0 connected 5-x\n", "bad slot range"},
        {ID_A " :1@2 myself,sometimes - 0 0 0 connected\n", "unknown flag"},
        {ID_A " :1@2 myself,master - 0 0 0 connected\n" ID_B " :3@4 myself,master - 0 0 0 connected\n", "two nodes"},
        {ID_A " :1@2 myself,master - 0 0 0 connected [12-x-" ID_B "]\n", "bad open slot"},
        {ID_A " :1@2 myself,master - 0 0 0 connected [12->-abc]\n", "bad open slot"},
        {ID_A " :1@2 myself,master - 0 0 0 connected\nvars currentEpoch\n", "odd number"},
        {ID_A " 1.2.3.4 myself,master - 0 0 0 connected\n", "no port"},
        {ID_A " :70000@2 myself,master - 0 0 0 connected\n", "bad port"},
        {ID_A " :1@2 myself,master xyz 0 0 0 connected\n", "bad master id"},
        {ID_A " :1@2 myself,master - 0 0 e connected\n", "bad config epoch"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cluster_state_free(cluster);
        cluster = cluster_state_new();
        char err[256] = "";
        cr_assert_eq(parse(bad[i].text, err), -1, "case %zu should fail", i);
        cr_assert(strstr(err, bad[i].why), "case %zu: '%s' lacks '%s'", i, err, bad[i].why);
    }
    char withnul[] = ID_A " :1@2 myself,master - 0 0 0 connected\n\0junk\n";
    char err[256] = "";
    cr_assert_eq(cluster_config_parse(withnul, sizeof withnul - 1, err, sizeof err), -1);
    cr_assert(strstr(err, "NUL"));
}

Test(nodes_conf, node_table_add_rename_del) {
    cluster_node *me = cluster_node_create(NULL, CLUSTER_NODE_MYSELF | CLUSTER_NODE_MASTER);
    cluster->myself = me;
    cluster_node_add(me);
    cr_assert(cluster_verify_node_id(me->name, 40), "random names are 40 [0-9a-f]");
    cluster_node *others[40];
    for (int i = 0; i < 40; i++) {
        others[i] = cluster_node_create(NULL, CLUSTER_NODE_MASTER);
        cluster_node_add(others[i]);
    }
    for (int i = 0; i < 40; i++) cr_assert_eq(cluster_lookup_node(others[i]->name, 40), others[i]);
    cr_assert_null(cluster_lookup_node(ID_A, 40));
    cr_assert_null(cluster_lookup_node(ID_A, 39));
    cluster_node_rename(others[3], ID_A);
    cr_assert_eq(cluster_lookup_node(ID_A, 40), others[3]);
    /* deleting a node frees its slots and the reports it made */
    cr_assert(cluster_add_slot(others[3], 100));
    cr_assert(!cluster_add_slot(me, 100), "a slot has one owner");
    cr_assert(cluster_node_add_failure_report(others[5], others[3]));
    cr_assert(!cluster_node_add_failure_report(others[5], others[3]), "refreshed, not added");
    cr_assert_eq(cluster_node_failure_reports_count(others[5]), 1);
    cluster_node_add_replica(others[3], others[6]);
    others[6]->slaveof = others[3];
    others[6]->flags = CLUSTER_NODE_SLAVE;
    cluster_node_del(others[3]);
    cr_assert_null(cluster_lookup_node(ID_A, 40));
    cr_assert_null(cluster->slots[100]);
    cr_assert_eq(cluster_node_failure_reports_count(others[5]), 0);
    cr_assert_null(others[6]->slaveof);
    cr_assert_eq(cluster->nnodes, 40);
    for (int i = 0; i < 40; i++)
        if (i != 3) cr_assert_eq(cluster_lookup_node(others[i]->name, 40), others[i]);
    cr_assert(!cluster_blacklist_exists(others[7]->name));
    cluster_blacklist_add(others[7]);
    cr_assert(cluster_blacklist_exists(others[7]->name));
}

Test(nodes_conf, epochs_and_collisions) {
    parse_ok(ID_B " :1@2 myself,master - 0 0 0 connected\n" ID_C " :3@4 master - 0 0 5 connected\n");
    cr_assert_eq(cluster->current_epoch, 5);
    cr_assert(cluster_bump_epoch_without_consensus());
    cr_assert_eq(cluster->myself->config_epoch, 6);
    cr_assert(!cluster_bump_epoch_without_consensus(), "already the largest");
    cr_assert(cluster->todo & CLUSTER_TODO_FSYNC_CONFIG);
    /* Collision: only the node with the smaller name moves (ID_B < ID_C
     * is false: 'a' > '6'), so myself (ID_B) keeps 6 against ID_C. */
    cluster_node *c = cluster_lookup_node(ID_C, 40);
    c->config_epoch = 6;
    cluster_handle_config_epoch_collision(c);
    cr_assert_eq(cluster->myself->config_epoch, 6);
}

Test(nodes_conf, state_needs_full_coverage_and_a_majority) {
    parse_ok(ID_A " :1@2 myself,master - 0 0 1 connected 0-8191\n" ID_B " :3@4 master - 0 0 2 connected 8192-16383\n");
    cluster->state_first_call_time = 1; /* past the writable delay */
    cluster_update_state();
    cr_assert_eq(cluster->state, CLUSTER_OK);
    cr_assert_eq(cluster->size, 2);
    cluster_lookup_node(ID_B, 40)->flags |= CLUSTER_NODE_PFAIL;
    cluster_update_state();
    cr_assert_eq(cluster->state, CLUSTER_FAIL, "1 of 2 masters reachable is not a majority");
    cluster_lookup_node(ID_B, 40)->flags &= ~CLUSTER_NODE_PFAIL;
    cluster_del_slot(16383);
    cluster->among_minority_time = 0;
    cluster_update_state();
    cr_assert_eq(cluster->state, CLUSTER_FAIL, "an unassigned slot");
}

/* ---- the published slot map (cluster/slotmap.c) ---- */

#include <pthread.h>
#include <stdatomic.h>

static _Atomic bool readers_stop;
static _Atomic long maps_seen;

/* Readers check that every map they get is whole: all slots owned by the
 * node its version names, versions never going back. Under ASan a map
 * freed while read would be reported. */
static void *map_reader(void *arg) {
    uint64_t last = 0;
    while (!atomic_load(&readers_stop)) {
        const slotmap *m = slotmap_read_begin();
        cr_assert_not_null(m);
        cr_assert_geq(m->version, last);
        last = m->version;
        uint16_t owner = m->owner[0];
        for (int s = 0; s < CLUSTER_SLOTS; s += 97) cr_assert_eq(m->owner[s], owner);
        cr_assert_eq(m->owner[CLUSTER_SLOTS - 1], owner);
        cr_assert_eq(m->nnodes, 4);
        cr_assert(!memcmp(m->nodes[owner].id, cluster->nodes[owner]->name, 40));
        slotmap_read_end();
        atomic_fetch_add(&maps_seen, 1);
    }
    return arg;
}

Test(nodes_conf, slot_map_publication_under_concurrent_readers) {
    cr_assert_null(slotmap_read_begin(), "no map before the first publication");
    cr_assert_eq(slotmap_version(), 0);
    parse_ok(ID_A " 10.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-16383\n" ID_B
                  " 10.0.0.2:7001@17001 master - 0 0 2 connected\n" ID_C " 10.0.0.3:7002@17002 master - 0 0 3 connected\n" ID_R
                  " 10.0.0.4:7003@17003 slave " ID_A " 0 0 1 connected\n");
    slotmap_publish();
    const slotmap *m = slotmap_read_begin();
    cr_assert_eq(m->version, 1);
    cr_assert(!memcmp(m->nodes[m->myself].id, ID_A, 40));
    cr_assert_str_eq(m->nodes[m->myself].endpoint, "10.0.0.1");
    int r = -1;
    for (int i = 0; i < m->nnodes; i++)
        if (!memcmp(m->nodes[i].id, ID_R, 40)) r = i;
    cr_assert_eq(m->nodes[r].master, m->myself);
    cr_assert(!m->nodes[r].is_master);
    cr_assert_eq(m->migrating_to[5], SLOTMAP_NONE);
    slotmap_read_end();

    pthread_t t[3];
    for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, map_reader, NULL);
    cluster_node *masters[3] = {cluster_lookup_node(ID_A, 40), cluster_lookup_node(ID_B, 40),
                                cluster_lookup_node(ID_C, 40)};
    for (int round = 0; round < 300; round++) {
        cluster_node *to = masters[round % 3];
        for (int s = 0; s < CLUSTER_SLOTS; s++) {
            cluster_del_slot(s);
            cluster_add_slot(to, s);
        }
        slotmap_publish();
    }
    atomic_store(&readers_stop, true);
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
    cr_assert_eq(slotmap_version(), 301);
    cr_assert_gt(atomic_load(&maps_seen), 0);
    slotmap_free();
    cr_assert_null(slotmap_read_begin());
}

/* Routing's fast path (route_fast, a per-thread copy of the map's facts)
 * says "served here" exactly for the slots myself owns with nothing moving
 * while the state is ok, never where route_decide would redirect whatever
 * the client's flags, and follows each publication. */
static bool decide_serves_always(const slotmap *m, unsigned slot) {
    route_query q = {0};
    q.keys.n = 1;
    q.keys.slots = &slot;
    arg_t key = {.ptr = "k", .len = 1};
    q.keys.argv = &key;
    for (int flags = 0; flags < 16; flags++) {
        q.asking = flags & 1;
        q.readonly = flags & 2;
        q.write = q.cmd_write = flags & 4;
        q.shard = flags & 8;
        route_answer a;
        if (route_decide(m, &q, NULL, NULL, &a) != ROUTE_SERVE) return false;
    }
    return true;
}

Test(nodes_conf, route_fast_matches_the_map) {
    parse_ok(ID_A " 10.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-8000 [100->-" ID_B "] [9000-<-" ID_C
                  "]\n" ID_B " 10.0.0.2:7001@17001 master - 0 0 2 connected 8001-16383\n" ID_C
                  " 10.0.0.3:7002@17002 master - 0 0 3 connected\n");
    route_ticket t;
    unsigned s0 = 0;
    cluster->state = CLUSTER_FAIL;
    slotmap_publish();
    cr_assert(!route_fast(&s0, 1, &t), "served fast while the cluster is down");
    cluster->state = CLUSTER_OK;
    slotmap_publish();
    cr_assert(route_fast(&s0, 1, &t)); /* refreshes the copy: not inside a section */
    const slotmap *m = slotmap_read_begin();
    int fast = 0;
    for (unsigned s = 0; s < CLUSTER_SLOTS; s++) {
        bool f = route_fast(&s, 1, &t);
        bool want = s <= 8000 && s != 100;
        cr_assert_eq(f, want, "slot %u: route_fast %d", s, f);
        if (f) {
            cr_assert(decide_serves_always(m, s), "slot %u fast but route_decide redirects", s);
            cr_assert(t.routed && !t.lookup && t.version == m->version);
            fast++;
        }
    }
    slotmap_read_end();
    cr_assert_eq(fast, 8000);
    /* Several keys: one slot only. */
    unsigned same[3] = {7, 7, 7}, mixed[3] = {7, 7, 8};
    cr_assert(route_fast(same, 3, &t));
    cr_assert(!route_fast(mixed, 3, &t));
    /* A publication is seen at once by this thread's copy, and phase 2
     * notices the version moved. */
    route_ticket before;
    cr_assert(route_fast(&s0, 1, &before));
    cr_assert(route_settled(&before));
    cluster_del_slot(0);
    cluster_add_slot(cluster_lookup_node(ID_B, 40), 0);
    slotmap_publish();
    cr_assert(!route_settled(&before), "phase 2 missed the new map");
    cr_assert(!route_fast(&s0, 1, &t), "slot 0 moved to B but is still served fast");
    unsigned s1 = 1;
    cr_assert(route_fast(&s1, 1, &t));
    slotmap_free();
}
