/*
 * test_cluster_pubsub.c - pub/sub across a cluster of real processes on
 * loopback (tests/support/cluster_proc.h), as Redis 7.0 does it:
 *
 * - PUBLISH reaches the subscribers (channel and pattern) of every node,
 *   masters and replicas, over the bus; its reply counts the publishing
 *   node's receivers only; in cluster mode it does not enter the
 *   replication stream (a replica's subscriber gets one copy, the master's
 *   offset does not grow); inside MULTI/EXEC too;
 * - SPUBLISH reaches the shard: the master's and its replica's shard
 *   subscribers (SSUBSCRIBE on a replica needs no READONLY), from the
 *   master or from the replica, and no node of another shard; SSUBSCRIBE /
 *   SPUBLISH of a channel whose slot another shard serves get -MOVED;
 * - a slot that leaves a shard unsubscribes that slot's shard channels on
 *   the shard's master and replica with a "sunsubscribe" push, leaving the
 *   other shard channels alone;
 * - mixed with a redis-server 7.0 node: PUBLISH both ways, and the
 *   sunsubscribe push is byte for byte redis-server's when each loses a
 *   slot to the other.
 *
 * Channels and their slots: "bar" 5061, "b" 3300, "lost" 675, "kept" 284
 * (the first master of two or three), "foo" 12182 (the last one).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster_steps.h"

#define NODE_TIMEOUT_MS 1000

TestSuite(cluster_pubsub, .fini = sc_cluster_cleanup, .timeout = 120);

static sc_cluster c;

/* ---- helpers ----------------------------------------------------------- */

static void form(int n, int masters, const char *const *bins) { steps_form(&c, n, masters, bins, NODE_TIMEOUT_MS); }
static void take_slot(int taker, int slot) { steps_take_slot(&c, taker, slot); }
static long long cluster_info_ll(int i, const char *field) { return steps_cluster_info_ll(&c, i, field); }

/* A subscriber connection to node i that sent `cmd` (one name) and got its
 * confirmation. */
static redisContext *subscriber(int i, const char *cmd, const char *name)
{
    redisContext *s = sc_connect_or_fail(&c.node[i]);
    redisReply *r = redisCommand(s, "%s %s", cmd, name);
    cr_assert(r && r->type == REDIS_REPLY_ARRAY && r->elements == 3, "node %d: %s %s", i, cmd, name);
    freeReplyObject(r);
    return s;
}

/* The next push on s is [kind, (pattern,) channel, message]. */
static void expect_push(redisContext *s, const char *kind, const char *pattern, const char *channel,
                        const char *msg, const char *who)
{
    redisReply *r = NULL;
    cr_assert_eq(redisGetReply(s, (void **)&r), REDIS_OK, "%s: no %s (%s)", who, kind, s->errstr);
    size_t n = pattern ? 4 : 3;
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == n, "%s: not a %s push", who, kind);
    cr_assert_str_eq(r->element[0]->str, kind, "%s", who);
    size_t k = 1;
    if (pattern) cr_assert_str_eq(r->element[k++]->str, pattern, "%s", who);
    cr_assert_str_eq(r->element[k++]->str, channel, "%s", who);
    cr_assert_str_eq(r->element[k]->str, msg, "%s", who);
    freeReplyObject(r);
}

/* Nothing else is queued on the subscriber s: the reply to a PING comes
 * first (["pong", ""] in subscriber mode). */
static void expect_nothing_more(redisContext *s, const char *who)
{
    redisReply *r = redisCommand(s, "PING");
    cr_assert(r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && !strcmp(r->element[0]->str, "pong"),
              "%s: a message arrived where none was due", who);
    freeReplyObject(r);
}

/* An unsubscribe push [word, channel, count] on s. */
static void expect_unsub(redisContext *s, const char *word, const char *channel, long long count, const char *who)
{
    redisReply *r = NULL;
    cr_assert_eq(redisGetReply(s, (void **)&r), REDIS_OK, "%s: no %s push (%s)", who, word, s->errstr);
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 3, "%s: not a %s push", who, word);
    cr_assert_str_eq(r->element[0]->str, word, "%s", who);
    cr_assert_str_eq(r->element[1]->str, channel, "%s", who);
    cr_assert_eq(r->element[2]->integer, count, "%s: count", who);
    freeReplyObject(r);
}

static long long info_ll(int i, const char *section, const char *field)
{
    return sc_info_ll_or_fail(sc_cluster_ctx_or_fail(&c, i), section, field);
}

static void expect_moved(int i, const char *fmt, const char *arg)
{
    redisReply *r = sc_cluster_cmd_or_fail(&c, i, fmt, arg);
    cr_assert(r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "MOVED ", 6), "node %d: %s %s: %s", i, fmt, arg,
              r->str ? r->str : "(not an error)");
    freeReplyObject(r);
}

/* ---- tests ------------------------------------------------------------- */

/* 2 masters (0, 1) with a replica each (2 of 0, 3 of 1). */
Test(cluster_pubsub, publish_reaches_every_node_not_the_stream)
{
    form(4, 2, NULL);
    redisContext *sub[4], *sub1b, *psub;
    for (int i = 0; i < 4; i++) sub[i] = subscriber(i, "SUBSCRIBE", "news");
    sub1b = subscriber(1, "SUBSCRIBE", "news");
    psub = subscriber(3, "PSUBSCRIBE", "ne*");

    long long off0 = info_ll(1, "replication", "master_repl_offset");
    long long sent0 = cluster_info_ll(1, "cluster_stats_messages_publish_sent");
    /* The reply counts node 1's own receivers: two of six. */
    cr_assert_eq(sc_cmd_ll_or_fail(sc_cluster_ctx_or_fail(&c, 1), "PUBLISH news hello"), 2);
    for (int i = 0; i < 4; i++) {
        char who[32];
        snprintf(who, sizeof who, "node %d's subscriber", i);
        expect_push(sub[i], "message", NULL, "news", "hello", who);
    }
    expect_push(sub1b, "message", NULL, "news", "hello", "node 1's second subscriber");
    expect_push(psub, "pmessage", "ne*", "news", "hello", "node 3's pattern subscriber");
    /* Node 1's replica (node 3) heard it once, from the bus: not again
     * from the replication stream. */
    expect_nothing_more(sub[3], "node 3's subscriber");
    expect_nothing_more(psub, "node 3's pattern subscriber");
    cr_assert_eq(cluster_info_ll(1, "cluster_stats_messages_publish_sent") - sent0, 3, "one PUBLISH per other node");
    long long off1 = info_ll(1, "replication", "master_repl_offset");
    /* (a replica ping, 14 bytes, may fall in between; a PUBLISH is 40) */
    cr_assert(off1 - off0 < 30, "PUBLISH entered the replication stream: offset %lld -> %lld", off0, off1);

    /* Inside MULTI/EXEC the bus hand-over waits for the locks, and happens. */
    redisContext *m = sc_cluster_ctx_or_fail(&c, 0);
    sc_cmd_expect_or_fail(m, "OK", "MULTI");
    sc_cmd_expect_or_fail(m, "QUEUED", "PUBLISH news one");
    sc_cmd_expect_or_fail(m, "QUEUED", "SET {bar}k v");
    sc_cmd_expect_or_fail(m, "QUEUED", "PUBLISH news two");
    redisReply *r = sc_cmd_or_fail(m, "EXEC");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 3 && r->element[0]->integer == 1);
    freeReplyObject(r);
    for (int i = 0; i < 4; i++) {
        expect_push(sub[i], "message", NULL, "news", "one", "EXEC's first PUBLISH");
        expect_push(sub[i], "message", NULL, "news", "two", "EXEC's second PUBLISH");
    }
    /* The replica of node 0 got SET from the stream, and PUBLISH only once. */
    expect_nothing_more(sub[2], "node 2's subscriber after EXEC");

    for (int i = 0; i < 4; i++) redisFree(sub[i]);
    redisFree(sub1b);
    redisFree(psub);
    sc_cluster_stop_or_fail(&c);
}

Test(cluster_pubsub, spublish_reaches_the_shard_only)
{
    form(4, 2, NULL);
    /* "bar" is in node 0's slots: node 0 and its replica node 2 serve it;
     * the replica takes SSUBSCRIBE without READONLY (Redis 7.0). */
    redisContext *m0 = subscriber(0, "SSUBSCRIBE", "bar");
    redisContext *r0 = subscriber(2, "SSUBSCRIBE", "bar");
    expect_moved(1, "SSUBSCRIBE %s", "bar");
    expect_moved(3, "SSUBSCRIBE %s", "bar");
    expect_moved(1, "SPUBLISH %s x", "bar");
    expect_moved(3, "SPUBLISH %s x", "bar");

    long long off0 = info_ll(0, "replication", "master_repl_offset");
    cr_assert_eq(sc_cmd_ll_or_fail(sc_cluster_ctx_or_fail(&c, 0), "SPUBLISH bar from-master"), 1);
    expect_push(m0, "smessage", NULL, "bar", "from-master", "node 0");
    expect_push(r0, "smessage", NULL, "bar", "from-master", "node 2 (replica)");
    /* From the replica to its master. */
    cr_assert_eq(sc_cmd_ll_or_fail(sc_cluster_ctx_or_fail(&c, 2), "SPUBLISH bar from-replica"), 1);
    expect_push(m0, "smessage", NULL, "bar", "from-replica", "node 0");
    expect_push(r0, "smessage", NULL, "bar", "from-replica", "node 2 (replica)");
    /* Inside MULTI/EXEC (the shard channel's slot lock is held meanwhile). */
    redisContext *m = sc_cluster_ctx_or_fail(&c, 0);
    sc_cmd_expect_or_fail(m, "OK", "MULTI");
    sc_cmd_expect_or_fail(m, "QUEUED", "SPUBLISH bar in-exec");
    redisReply *r = sc_cmd_or_fail(m, "EXEC");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->integer == 1);
    freeReplyObject(r);
    expect_push(m0, "smessage", NULL, "bar", "in-exec", "node 0");
    expect_push(r0, "smessage", NULL, "bar", "in-exec", "node 2 (replica)");
    expect_nothing_more(r0, "node 2: SPUBLISH is not in the stream");
    long long off1 = info_ll(0, "replication", "master_repl_offset");
    cr_assert(off1 - off0 < 30, "SPUBLISH entered the replication stream: offset %lld -> %lld", off0, off1);

    /* Only the shard heard of it: node 0 sent 2 (to node 2) + 1, node 2
     * sent 1 (to node 0); the other shard got none. */
    cr_assert_eq(cluster_info_ll(0, "cluster_stats_messages_publishshard_sent"), 2);
    cr_assert_eq(cluster_info_ll(2, "cluster_stats_messages_publishshard_sent"), 1);
    cr_assert_eq(cluster_info_ll(2, "cluster_stats_messages_publishshard_received"), 2);
    cr_assert_eq(cluster_info_ll(0, "cluster_stats_messages_publishshard_received"), 1);
    for (int i = 1; i < 4; i += 2)
        cr_assert_eq(cluster_info_ll(i, "cluster_stats_messages_publishshard_received"), 0, "node %d", i);
    cr_assert_eq(cluster_info_ll(1, "cluster_stats_messages_publish_received"), 0, "SPUBLISH sent as PUBLISH");

    redisFree(m0);
    redisFree(r0);
    sc_cluster_stop_or_fail(&c);
}

/* 2 masters, node 2 the replica of node 0. */
Test(cluster_pubsub, shard_channels_of_a_slot_that_leaves_are_unsubscribed)
{
    form(3, 2, NULL);
    /* Node 0: "lost" (slot 675) and "kept" (284) on one connection (two
     * commands: they are in different slots), "lost" alone on another;
     * node 2 (replica): "lost". */
    redisContext *both = subscriber(0, "SSUBSCRIBE", "lost");
    redisReply *r = redisCommand(both, "SSUBSCRIBE kept");
    cr_assert(r && r->type == REDIS_REPLY_ARRAY && r->elements == 3 && r->element[2]->integer == 2);
    freeReplyObject(r);
    redisContext *alone = subscriber(0, "SSUBSCRIBE", "lost");
    redisContext *rep = subscriber(2, "SSUBSCRIBE", "lost");
    /* A plain channel of the same name stays. */
    redisContext *plain = subscriber(0, "SUBSCRIBE", "lost");

    take_slot(1, 675);
    expect_unsub(both, "sunsubscribe", "lost", 1, "node 0, two shard channels");
    expect_unsub(alone, "sunsubscribe", "lost", 0, "node 0, one shard channel");
    expect_unsub(rep, "sunsubscribe", "lost", 0, "node 2 (replica)");
    expect_nothing_more(plain, "node 0's plain subscriber");

    redisReply *sc = sc_cluster_cmd_or_fail(&c, 0, "PUBSUB SHARDCHANNELS");
    cr_assert(sc->type == REDIS_REPLY_ARRAY && sc->elements == 1 && !strcmp(sc->element[0]->str, "kept"));
    freeReplyObject(sc);
    sc = sc_cluster_cmd_or_fail(&c, 2, "PUBSUB SHARDCHANNELS");
    cr_assert(sc->type == REDIS_REPLY_ARRAY && sc->elements == 0);
    freeReplyObject(sc);
    /* The channel left is still served; the one that moved is redirected. */
    cr_assert_eq(sc_cmd_ll_or_fail(sc_cluster_ctx_or_fail(&c, 0), "SPUBLISH kept k"), 1);
    expect_push(both, "smessage", NULL, "kept", "k", "node 0, kept");
    expect_moved(0, "SSUBSCRIBE %s", "lost");
    /* The plain channel "lost" still works everywhere. */
    cr_assert_eq(sc_cmd_ll_or_fail(sc_cluster_ctx_or_fail(&c, 1), "PUBLISH lost p"), 0);
    expect_push(plain, "message", NULL, "lost", "p", "node 0's plain subscriber");

    redisFree(both);
    redisFree(alone);
    redisFree(rep);
    redisFree(plain);
    sc_cluster_stop_or_fail(&c);
}

/* The raw bytes a RESP2 connection receives within the bound: exactly
 * strlen(want) bytes compared. */
static void raw_expect_or_fail(int fd, const char *want, const char *who)
{
    cr_assert(sc_raw_expect(fd, want, 5000), "%s: not the expected bytes %s", who, want);
}

/* 2 slotcache masters (0, 1) and a redis-server master (2). */
Test(cluster_pubsub, mixed_with_redis_server)
{
    const char *redis = sc_cluster_redis_or_skip();
    const char *bin = sc_server_binary();
    form(3, 3, (const char *[]){bin, bin, redis});

    /* PUBLISH both ways, patterns included. */
    redisContext *on_redis = subscriber(2, "SUBSCRIBE", "news");
    redisContext *p_redis = subscriber(2, "PSUBSCRIBE", "n*");
    redisContext *on_sc = subscriber(1, "SUBSCRIBE", "news");
    cr_assert_eq(sc_cmd_ll_or_fail(sc_cluster_ctx_or_fail(&c, 0), "PUBLISH news from-slotcache"), 0);
    expect_push(on_redis, "message", NULL, "news", "from-slotcache", "redis-server's subscriber");
    expect_push(p_redis, "pmessage", "n*", "news", "from-slotcache", "redis-server's pattern subscriber");
    expect_push(on_sc, "message", NULL, "news", "from-slotcache", "slotcache's subscriber");
    cr_assert_eq(sc_cmd_ll_or_fail(sc_cluster_ctx_or_fail(&c, 2), "PUBLISH news from-redis"), 2);
    expect_push(on_redis, "message", NULL, "news", "from-redis", "redis-server's subscriber");
    expect_push(p_redis, "pmessage", "n*", "news", "from-redis", "redis-server's pattern subscriber");
    expect_push(on_sc, "message", NULL, "news", "from-redis", "slotcache's subscriber");

    /* Each loses a slot to the other: the same sunsubscribe bytes. "lost"
     * (675) is slotcache node 0's, "foo" (12182) redis-server's. */
    int fd_sc = sc_raw_connect_or_fail(sc_cluster_port(&c, 0));
    int fd_redis = sc_raw_connect_or_fail(sc_cluster_port(&c, 2));
    sc_raw_send_line_or_fail(fd_sc, "SSUBSCRIBE lost");
    raw_expect_or_fail(fd_sc, "*3\r\n$10\r\nssubscribe\r\n$4\r\nlost\r\n:1\r\n", "slotcache SSUBSCRIBE");
    sc_raw_send_line_or_fail(fd_sc, "SSUBSCRIBE kept");
    raw_expect_or_fail(fd_sc, "*3\r\n$10\r\nssubscribe\r\n$4\r\nkept\r\n:2\r\n", "slotcache SSUBSCRIBE");
    sc_raw_send_line_or_fail(fd_redis, "SSUBSCRIBE foo");
    raw_expect_or_fail(fd_redis, "*3\r\n$10\r\nssubscribe\r\n$3\r\nfoo\r\n:1\r\n", "redis-server SSUBSCRIBE");
    take_slot(2, 675);
    raw_expect_or_fail(fd_sc, "*3\r\n$12\r\nsunsubscribe\r\n$4\r\nlost\r\n:1\r\n", "slotcache losing slot 675");
    take_slot(0, 12182);
    raw_expect_or_fail(fd_redis, "*3\r\n$12\r\nsunsubscribe\r\n$3\r\nfoo\r\n:0\r\n", "redis-server losing slot 12182");
    cr_assert(sc_raw_quiet(fd_sc, 200), "slotcache sent more");
    close(fd_sc);
    close(fd_redis);

    redisFree(on_redis);
    redisFree(p_redis);
    redisFree(on_sc);
    sc_cluster_stop_or_fail(&c);
}
