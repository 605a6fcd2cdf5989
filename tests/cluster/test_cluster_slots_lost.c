/*
 * test_cluster_slots_lost.c - what a node does with the keys of a slot it
 * loses to a newer configuration, and which replicas CLUSTER SLOTS and
 * SHARDS list, across real processes on loopback
 * (tests/support/cluster_proc.h):
 *
 * - dirty slots (Redis's delKeysInSlot): a master that loses a slot to a
 *   higher configEpoch while still serving others deletes that slot's keys
 *   (of every type, with a TTL or not) and no other; its
 *   replica loses them too (DEL in the replication stream), a WATCH on one
 *   of them aborts the transaction, every deletion counts as a change
 *   (rdb_changes_since_last_save), and no keyspace event is raised (Redis
 *   raises none there);
 * - a replica is listed in CLUSTER SLOTS (and healthy "online" in CLUSTER
 *   SHARDS) once its replication offset is known: after a write, both
 *   nodes list it, and the offsets CLUSTER SHARDS shows are the ones the
 *   bus headers carry: the master's master_repl_offset and the replica's
 *   processed offset;
 * - mixed with a redis-server 7.0 node: redis-server taking a slot from
 *   slotcache makes slotcache delete its keys, and the reverse makes
 *   redis-server delete its own (the reference).
 *
 * Keys: "{lost}:n" in slot 675 and "{kept}:n" in slot 284, both in the
 * first master's range; "{foo}:n" in slot 12182 (the last master's).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_steps.h"

#define NODE_TIMEOUT_MS 1000
#define LOST_SLOT 675
#define KEPT_SLOT 284
#define FOO_SLOT 12182

TestSuite(cluster_slots_lost, .fini = sc_cluster_cleanup, .timeout = 120);

static sc_cluster c;

/* ---- helpers ----------------------------------------------------------- */

static long long count_in_slot(int i, int slot) { return steps_keys_in_slot(&c, i, slot); }

static bool slot_count_is(int i, int slot, long long want) { return count_in_slot(i, slot) == want; }

/* `n` keys "{tag}:j" of several types on node i, one of them with a TTL. */
static void fill(int i, const char *tag, int n)
{
    redisContext *x = sc_cluster_ctx_or_fail(&c, i);
    for (int j = 0; j < n; j++) {
        if (j % 4 == 0) redisAppendCommand(x, "SET {%s}:%d v%d", tag, j, j);
        else if (j % 4 == 1) redisAppendCommand(x, "HSET {%s}:%d f %d", tag, j, j);
        else if (j % 4 == 2) redisAppendCommand(x, "RPUSH {%s}:%d a b c", tag, j);
        else redisAppendCommand(x, "SADD {%s}:%d m%d", tag, j, j);
    }
    redisAppendCommand(x, "EXPIRE {%s}:0 100000", tag);
    for (int j = 0; j <= n; j++) {
        redisReply *r = NULL;
        cr_assert_eq(redisGetReply(x, (void **)&r), REDIS_OK, "node %d: fill: %s", i, x->errstr);
        cr_assert(r->type != REDIS_REPLY_ERROR, "node %d: fill: %s", i, r->str);
        freeReplyObject(r);
    }
}

static void wait_slot_count_or_fail(int i, int slot, long long want, const char *what)
{
    bool ok = SC_WAIT_FOR(slot_count_is(i, slot, want), 10000);
    cr_assert(ok, "%s: node %d has %lld keys in slot %d, not %lld", what, i, count_in_slot(i, slot), slot, want);
}

/* ---- tests ------------------------------------------------------------- */

/* 2 masters (0, 1), node 2 the replica of node 0. */
Test(cluster_slots_lost, dirty_slot_keys_deleted_and_replicated)
{
    steps_form(&c, 3, 2, NULL, NODE_TIMEOUT_MS);
    fill(0, "lost", 200);
    fill(0, "kept", 50);
    wait_slot_count_or_fail(2, LOST_SLOT, 200, "replication");
    wait_slot_count_or_fail(2, KEPT_SLOT, 50, "replication");

    /* A WATCH on a key of the slot; keyspace events on, watched. */
    redisContext *w = sc_connect_or_fail(&c.node[0]);
    sc_cmd_expect_or_fail(w, "OK", "WATCH {lost}:7");
    freeReplyObject(sc_cluster_cmd_or_fail(&c, 0, "CONFIG SET notify-keyspace-events KEA"));
    redisContext *ev = sc_connect_or_fail(&c.node[0]);
    redisReply *r = redisCommand(ev, "PSUBSCRIBE __key*__:*");
    cr_assert(r && r->type == REDIS_REPLY_ARRAY);
    freeReplyObject(r);
    redisContext *n0 = sc_cluster_ctx_or_fail(&c, 0);
    long long changes0 = sc_info_ll_or_fail(n0, "persistence", "rdb_changes_since_last_save");
    long long size0 = sc_cmd_ll_or_fail(n0, "DBSIZE");

    /* Node 1 takes the slot with a newer epoch; node 0 keeps its others. */
    steps_take_slot(&c, 1, LOST_SLOT);
    wait_slot_count_or_fail(0, LOST_SLOT, 0, "the master that lost the slot");
    wait_slot_count_or_fail(2, LOST_SLOT, 0, "its replica (DEL in the stream)");
    cr_assert_eq(count_in_slot(0, KEPT_SLOT), 50, "a slot node 0 still serves lost keys");
    cr_assert_eq(count_in_slot(2, KEPT_SLOT), 50, "a slot node 0 still serves lost keys on the replica");
    cr_assert_eq(sc_cmd_ll_or_fail(n0, "DBSIZE"), size0 - 200);
    cr_assert_eq(count_in_slot(1, LOST_SLOT), 0, "the keys moved nowhere");
    long long changes = sc_info_ll_or_fail(n0, "persistence", "rdb_changes_since_last_save") - changes0;
    cr_assert(changes >= 200, "the deletions counted %lld changes", changes);

    /* The WATCH saw the deletion (the queued command is in a slot node 0
     * still serves). */
    sc_cmd_expect_or_fail(w, "OK", "MULTI");
    sc_cmd_expect_or_fail(w, "QUEUED", "SET {kept}:x 1");
    r = sc_cmd_or_fail(w, "EXEC");
    cr_assert_eq(r->type, REDIS_REPLY_NIL, "EXEC ran although a watched key was deleted");
    freeReplyObject(r);
    /* No keyspace event: the first thing the subscriber reads answers PING. */
    r = redisCommand(ev, "PING");
    cr_assert(r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && !strcmp(r->element[0]->str, "pong"),
              "the deletion raised a keyspace event");
    freeReplyObject(r);
    /* The slot routes to its new owner now. */
    r = sc_cmd_or_fail(n0, "GET {lost}:4");
    cr_assert(r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "MOVED 675 ", 10), "GET: %s", r->str ? r->str : "");
    freeReplyObject(r);

    redisFree(w);
    redisFree(ev);
    sc_cluster_stop_or_fail(&c);
}

/* The node entries (arrays) of the one slot range of node i's CLUSTER
 * SLOTS: 1 (the master) or 2 (the replica listed too); -1 otherwise. */
static int slots_nodes(sc_cluster *cl, int i, char replica_id[41])
{
    redisReply *r = sc_cluster_cmd(cl, i, "CLUSTER SLOTS");
    int n = -1;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->elements >= 3) {
        n = (int)r->element[0]->elements - 2;
        if (n == 2) snprintf(replica_id, 41, "%s", r->element[0]->element[3]->element[2]->str);
    }
    if (r) freeReplyObject(r);
    return n;
}

/* A field of the `k`-th node map of the one shard in node i's CLUSTER
 * SHARDS (RESP2: a flat array of names and values). */
static redisReply *shard_node_field(redisReply *shards, size_t k, const char *name)
{
    redisReply *sh = shards->element[0];
    for (size_t f = 0; f + 1 < sh->elements; f += 2) {
        if (strcmp(sh->element[f]->str, "nodes")) continue;
        redisReply *nodes = sh->element[f + 1];
        if (k >= nodes->elements) return NULL;
        redisReply *nd = nodes->element[k];
        for (size_t g = 0; g + 1 < nd->elements; g += 2)
            if (!strcmp(nd->element[g]->str, name)) return nd->element[g + 1];
    }
    return NULL;
}

typedef struct {
    char replica_id[41];
    long long master_off, replica_off;
} offsets;

/* Both nodes list the replica in CLUSTER SLOTS, and CLUSTER SHARDS on the
 * master shows the replica "online" at the offset the replica itself
 * reports (slave_repl_offset), and itself at master_repl_offset. */
static bool replica_listed(sc_cluster *cl, void *arg)
{
    offsets *o = arg;
    char id0[41] = "", id1[41] = "";
    if (slots_nodes(cl, 0, id0) != 2 || slots_nodes(cl, 1, id1) != 2) return false;
    if (strcmp(id0, o->replica_id) || strcmp(id1, o->replica_id)) return false;
    redisContext *m = sc_cluster_ctx_or_fail(cl, 0), *rp = sc_cluster_ctx_or_fail(cl, 1);
    long long moff = sc_info_ll_or_fail(m, "replication", "master_repl_offset");
    long long roff = sc_info_ll_or_fail(rp, "replication", "slave_repl_offset");
    redisReply *sh = sc_cluster_cmd(cl, 0, "CLUSTER SHARDS");
    bool ok = sh && sh->type == REDIS_REPLY_ARRAY && sh->elements == 1;
    redisReply *mo = ok ? shard_node_field(sh, 0, "replication-offset") : NULL;
    redisReply *ro = ok ? shard_node_field(sh, 1, "replication-offset") : NULL;
    redisReply *health = ok ? shard_node_field(sh, 1, "health") : NULL;
    ok = mo && ro && health && mo->integer == moff && ro->integer == roff && roff > 0 &&
         !strcmp(health->str, "online");
    if (ok) {
        o->master_off = moff;
        o->replica_off = roff;
    }
    if (sh) freeReplyObject(sh);
    return ok;
}

/* 1 master (0) + 1 replica (1). */
Test(cluster_slots_lost, replica_listed_once_its_offset_is_known)
{
    steps_form(&c, 2, 1, NULL, NODE_TIMEOUT_MS);
    offsets o;
    sc_cluster_myid_or_fail(&c, 1, o.replica_id);
    sc_cmd_expect_or_fail(sc_cluster_ctx_or_fail(&c, 0), "OK", "SET k v");
    if (!sc_cluster_wait_for(&c, replica_listed, &o, 10000)) {
        sc_cluster_log_views(&c);
        cr_assert_fail("the replica is not listed with its offset after a write");
    }
    cr_log_info("listed: master offset %lld, replica offset %lld", o.master_off, o.replica_off);
    /* The replica's own view: itself at its processed offset. */
    redisReply *sh = sc_cluster_cmd_or_fail(&c, 1, "CLUSTER SHARDS");
    redisReply *self = shard_node_field(sh, 1, "replication-offset");
    long long roff = sc_info_ll_or_fail(sc_cluster_ctx_or_fail(&c, 1), "replication", "slave_repl_offset");
    cr_assert(self && self->integer > 0 && self->integer <= roff, "the replica shows itself at %lld (INFO %lld)",
              self ? self->integer : -1, roff);
    freeReplyObject(sh);
    sc_cluster_stop_or_fail(&c);
}

/* Slotcache nodes 0, 1 and a redis-server node 2, all masters. */
Test(cluster_slots_lost, mixed_with_redis_server)
{
    const char *redis = sc_cluster_redis_or_skip();
    const char *bin = sc_server_binary();
    steps_form(&c, 3, 3, (const char *[]){bin, bin, redis}, NODE_TIMEOUT_MS);
    fill(0, "lost", 40);
    fill(0, "kept", 10);
    fill(2, "foo", 30);

    /* redis-server takes slot 675 from slotcache node 0. */
    steps_take_slot(&c, 2, LOST_SLOT);
    wait_slot_count_or_fail(0, LOST_SLOT, 0, "slotcache losing a slot to redis-server");
    cr_assert_eq(count_in_slot(0, KEPT_SLOT), 10);
    /* slotcache node 0 takes slot 12182 from redis-server: the reference. */
    steps_take_slot(&c, 0, FOO_SLOT);
    wait_slot_count_or_fail(2, FOO_SLOT, 0, "redis-server losing a slot to slotcache");
    cr_assert_eq(count_in_slot(0, FOO_SLOT), 0);
    sc_cluster_stop_or_fail(&c);
}
