/*
 * test_repl_master.c - slotcache as a replication master: a real
 * redis-server 7.0 replica does a full sync of every type (TTLs, big
 * values, several databases) and the two keyspaces are compared key by key;
 * live writes follow; a broken link resyncs partially (sync_partial_ok, no
 * second full sync); a link broken past the backlog resyncs fully; WAIT;
 * and the wire format seen by a raw socket replica (PSYNC / SYNC, EOF and
 * bulk RDB payloads, SELECT in the stream, Redis's errors for bad
 * REPLCONF / PSYNC input).
 *
 * Every wait is bounded; every server started here is stopped here.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "repl_compare.h"
#include "server_proc.h"

/* PTTL difference allowed between master and replica: under 2 s. */
#define TTL_TOLERANCE_MS 1999

static sc_server master, replica;

TestSuite(repl_master, .fini = sc_server_cleanup, .timeout = 300);

/* ---- helpers ----------------------------------------------------------- */

/* The replica has applied everything the master streamed so far. */
static bool in_sync(redisContext *mc, redisContext *rc) {
    long long m = sc_info_ll_or_fail(mc, "replication", "master_repl_offset");
    long long r = sc_info_ll_or_fail(rc, "replication", "master_repl_offset");
    return sc_repl_link_up(rc) && m == r;
}

/* Start the slotcache master: diskless sync at once, no save, then `extra`. */
static void start_master(const char *const *extra) {
    const char *base[] = {"--repl-diskless-sync-delay", "0", "--save", "", "--threads", "2", NULL};
    const char *args[32];
    int n = 0;
    for (int i = 0; base[i]; i++) args[n++] = base[i];
    for (int i = 0; extra && extra[i] && n < 30; i++) args[n++] = extra[i];
    args[n] = NULL;
    sc_server_start_or_fail(&master, args);
}

/* Start a redis-server replica of the master and connect to it; without a
 * redis-server, close mc, stop the master and skip the test. */
static redisContext *replica_or_skip(redisContext *mc) {
    const char *redis = sc_reference_redis_binary();
    if (!redis) {
        redisFree(mc);
        sc_server_stop_or_fail(&master);
        cr_skip_test("no redis-server");
    }
    char port[16];
    snprintf(port, sizeof port, "%d", master.port);
    const char *args[] = {"--replicaof", "127.0.0.1", port, "--save", "", "--repl-diskless-load", "disabled", NULL};
    sc_server_start_bin_or_fail(&replica, redis, args);
    return sc_connect_or_fail(&replica);
}

/* Every type and encoding, with and without TTLs, big values, db 0 and 3. */
static void populate(redisContext *c, const char *tag) {
    char big[100000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    for (int db = 0; db <= 3; db += 3) {
        sc_cmd_expect_or_fail(c, "OK", "SELECT %d", db);
        sc_cmd_expect_or_fail(c, "OK", "SET %s:str plain", tag);
        sc_cmd_expect_or_fail(c, "OK", "SET %s:int 12345", tag);
        sc_cmd_expect_or_fail(c, "OK", "SET %s:big %s", tag, big);
        sc_cmd_expect_or_fail(c, "OK", "SET %s:ttl volatile PX 500000", tag);
        for (int i = 0; i < 1000; i++) {
            freeReplyObject(sc_cmd_or_fail(c, "RPUSH %s:list item-%d", tag, i));
            freeReplyObject(sc_cmd_or_fail(c, "HSET %s:hash f%d v%d", tag, i, i));
            freeReplyObject(sc_cmd_or_fail(c, "SADD %s:set m%d", tag, i));
            freeReplyObject(sc_cmd_or_fail(c, "ZADD %s:zset %d.5 z%d", tag, i, i));
        }
        freeReplyObject(sc_cmd_or_fail(c, "RPUSH %s:slist a b c", tag));
        freeReplyObject(sc_cmd_or_fail(c, "HSET %s:shash a 1 b 2", tag));
        freeReplyObject(sc_cmd_or_fail(c, "SADD %s:iset 1 2 3 100", tag));
        freeReplyObject(sc_cmd_or_fail(c, "ZADD %s:szset 1 a 2 b", tag));
        freeReplyObject(sc_cmd_or_fail(c, "PEXPIRE %s:hash 900000", tag));
        freeReplyObject(sc_cmd_or_fail(c, "PEXPIRE %s:szset 800000", tag));
    }
    sc_cmd_expect_or_fail(c, "OK", "SELECT 0");
}

/* A master (extra arguments `extra`) populated with `tag`'s keys and its
 * redis-server replica, in sync (the test is skipped without redis-server). */
static void start_synced_pair(const char *const *extra, const char *tag, redisContext **mc, redisContext **rc) {
    start_master(extra);
    *mc = sc_connect_or_fail(&master);
    populate(*mc, tag);
    *rc = replica_or_skip(*mc);
    cr_assert(SC_WAIT_FOR(in_sync(*mc, *rc), 20000), "the replica did not catch up");
}

/* ROLE's replica list has `n` entries, the first at `port` (ROLE is the
 * replica side's command: until it is merged in, an unknown command is
 * accepted). */
static void expect_role_replicas(redisContext *mc, size_t n, int port) {
    redisReply *role = sc_cmd_or_fail(mc, "ROLE");
    if (role->type == REDIS_REPLY_ERROR && strstr(role->str, "unknown command")) {
        freeReplyObject(role);
        return;
    }
    cr_assert(role->type == REDIS_REPLY_ARRAY && role->elements == 3, "ROLE");
    cr_expect(sc_reply_is(role->element[0], "master"));
    cr_assert_eq(role->element[2]->elements, n);
    if (n) {
        redisReply *r0 = role->element[2]->element[0];
        char p[16];
        snprintf(p, sizeof p, "%d", port);
        cr_expect(sc_reply_is(r0->element[0], "127.0.0.1") && sc_reply_is(r0->element[1], p));
    }
    freeReplyObject(role);
}

/* Every key of dbs 0..15 of the master is on the replica with the same
 * type, value and TTL (under 2 s apart); returns the number compared. */
static long long compare_keyspaces(redisContext *mc, redisContext *rc) {
    return sc_repl_compare_keyspaces_or_fail(mc, rc, TTL_TOLERANCE_MS);
}

/* ---- a real redis-server replica --------------------------------------- */

Test(repl_master, full_sync_every_type_then_live_writes) {
    redisContext *mc, *rc;
    start_synced_pair(NULL, "pre", &mc, &rc);
    cr_expect_eq(sc_info_ll_or_fail(mc, "stats", "sync_full"), 1);
    cr_expect_gt(compare_keyspaces(mc, rc), 20);

    /* Live writes of every kind, in two databases. */
    populate(mc, "live");
    sc_cmd_expect_or_fail(mc, "1", "DEL pre:str");
    sc_cmd_expect_or_fail(mc, "OK", "SELECT 3");
    sc_cmd_expect_or_fail(mc, "1", "EXPIRE live:str 1000");
    sc_cmd_expect_or_fail(mc, "OK", "SELECT 0");
    cr_assert(SC_WAIT_FOR(in_sync(mc, rc), 20000), "the replica did not follow the live writes");
    cr_expect_gt(compare_keyspaces(mc, rc), 40);

    char v[256];
    sc_repl_info_str(mc, "replication", "slave0", v, sizeof v);
    char want[64];
    snprintf(want, sizeof want, "ip=127.0.0.1,port=%d,state=online,", replica.port);
    cr_expect(!strncmp(v, want, strlen(want)), "INFO slave0: %s", v);
    cr_expect_eq(sc_info_ll_or_fail(mc, "replication", "connected_slaves"), 1);
    expect_role_replicas(mc, 1, replica.port);
    redisFree(rc);
    redisFree(mc);
    sc_server_stop_or_fail(&replica);
    sc_server_stop_or_fail(&master);
}

Test(repl_master, broken_link_resyncs_partially) {
    redisContext *mc, *rc;
    start_synced_pair(NULL, "a", &mc, &rc);
    for (int round = 0; round < 2; round++) {
        long long ok0 = sc_info_ll_or_fail(mc, "stats", "sync_partial_ok");
        /* The replica drops its master link and reconnects with PSYNC. */
        freeReplyObject(sc_cmd_or_fail(rc, "CLIENT KILL TYPE master"));
        for (int i = 0; i < 50; i++) sc_cmd_expect_or_fail(mc, "OK", "SET during:%d:%d v%d", round, i, i);
        cr_assert(SC_WAIT_FOR(sc_info_ll_or_fail(mc, "stats", "sync_partial_ok") == ok0 + 1, 20000),
                  "no partial resync (round %d)", round);
        cr_assert(SC_WAIT_FOR(in_sync(mc, rc), 20000));
    }
    cr_expect_eq(sc_info_ll_or_fail(mc, "stats", "sync_full"), 1, "a second full sync happened");
    cr_expect_eq(sc_info_ll_or_fail(mc, "stats", "sync_partial_err"), 0);
    compare_keyspaces(mc, rc);
    redisFree(rc);
    redisFree(mc);
    sc_server_stop_or_fail(&replica);
    sc_server_stop_or_fail(&master);
}

Test(repl_master, link_broken_past_the_backlog_resyncs_fully) {
    redisContext *mc, *rc;
    start_synced_pair((const char *[]){"--repl-backlog-size", "16kb", NULL}, "a", &mc, &rc);
    /* The replica stops reading; the master keeps its stream until the
     * link is broken (here by the master), then trims to 16 KB; more than
     * the backlog is written before the replica runs again, so its PSYNC
     * cannot be served whenever it reconnects. (Broken by the replica
     * after it resumed, the link came back within the writes now and then
     * under ASan, and the partial resync succeeded.) */
    kill(replica.pid, SIGSTOP);
    char val[4096];
    memset(val, 'v', sizeof val - 1);
    val[sizeof val - 1] = '\0';
    for (int i = 0; i < 100; i++) sc_cmd_expect_or_fail(mc, "OK", "SET far:%d %s", i, val);
    sc_cmd_expect_or_fail(mc, "1", "CLIENT KILL TYPE replica");
    for (int i = 0; i < 40; i++) sc_cmd_expect_or_fail(mc, "OK", "SET farther:%d %s", i, val);
    kill(replica.pid, SIGCONT);
    cr_assert(SC_WAIT_FOR(sc_info_ll_or_fail(mc, "stats", "sync_full") == 2, 20000), "no second full sync");
    cr_assert(SC_WAIT_FOR(in_sync(mc, rc), 20000));
    cr_expect_eq(sc_info_ll_or_fail(mc, "stats", "sync_partial_err"), 1);
    cr_expect(sc_info_ll_or_fail(mc, "replication", "repl_backlog_histlen") < 64 * 1024);
    compare_keyspaces(mc, rc);
    redisFree(rc);
    redisFree(mc);
    sc_server_stop_or_fail(&replica);
    sc_server_stop_or_fail(&master);
}

Test(repl_master, wait_counts_acknowledging_replicas) {
    start_master(NULL);
    redisContext *mc = sc_connect_or_fail(&master);
    cr_expect_eq(sc_cmd_ll_or_fail(mc, "WAIT 0 0"), 0);
    sc_cmd_expect_or_fail(mc, "ERR timeout is negative", "WAIT 1 -1");
    sc_cmd_expect_or_fail(mc, "ERR value is not an integer or out of range", "WAIT x 1");
    sc_cmd_expect_or_fail(mc, "ERR timeout is not an integer or out of range", "WAIT 1 x");
    long long t0 = sc_now_ms();
    cr_expect_eq(sc_cmd_ll_or_fail(mc, "WAIT 1 100"), 0); /* no replica: times out */
    cr_expect_geq(sc_now_ms() - t0, 90);
    redisContext *rc = replica_or_skip(mc);
    cr_assert(SC_WAIT_FOR(sc_repl_link_up(rc), 20000));
    for (int i = 0; i < 5; i++) {
        sc_cmd_expect_or_fail(mc, "OK", "SET w%d v", i);
        cr_expect_eq(sc_cmd_ll_or_fail(mc, "WAIT 1 5000"), 1);
        redisReply *g = sc_cmd_or_fail(rc, "GET w%d", i);
        cr_expect(sc_reply_is(g, "v"), "WAIT answered before the replica had the write");
        freeReplyObject(g);
    }
    sc_cmd_expect_or_fail(mc, "OK", "SET w v");
    t0 = sc_now_ms();
    cr_expect_eq(sc_cmd_ll_or_fail(mc, "WAIT 2 200"), 1);
    long long took = sc_now_ms() - t0;
    cr_expect(took >= 190 && took < sc_scaled_ms(3000), "WAIT 2 200 took %lld ms", took);
    /* A pipelined command after a blocked WAIT runs after it. */
    redisAppendCommand(mc, "WAIT 2 100");
    redisAppendCommand(mc, "PING");
    redisReply *r1 = NULL, *r2 = NULL;
    cr_assert(redisGetReply(mc, (void **)&r1) == REDIS_OK && redisGetReply(mc, (void **)&r2) == REDIS_OK);
    cr_expect(r1->type == REDIS_REPLY_INTEGER && r1->integer == 1);
    cr_expect(sc_reply_is(r2, "PONG"));
    freeReplyObject(r1);
    freeReplyObject(r2);
    redisFree(rc);
    redisFree(mc);
    sc_server_stop_or_fail(&replica);
    sc_server_stop_or_fail(&master);
}

/* A burst of writes much larger than what one refill of a replica's output
 * holds reaches the replica without further writes or ACK-driven refills:
 * the stream keeps flowing on write completions alone (it used to move
 * one refill per second, at the replica's ACK, when a write took it all). */
Test(repl_master, burst_drains_without_more_writes) {
    redisContext *mc, *rc;
    start_synced_pair((const char *[]){"--repl-ping-replica-period", "3600", NULL}, "burst", &mc, &rc);
    char val[1024];
    memset(val, 'v', sizeof val - 1);
    val[sizeof val - 1] = '\0';
    for (int i = 0; i < 8192; i++) redisAppendCommand(mc, "SET burst:%d %s", i, val); /* 8 MB of stream */
    sc_repl_drain_or_fail(mc, 8192);
    long long t0 = sc_now_ms();
    cr_assert(SC_WAIT_FOR(in_sync(mc, rc), 3000), "8 MB of stream not drained within 3 s without further writes");
    cr_log_info("8 MB burst drained %lld ms after the last write", sc_now_ms() - t0);
    redisFree(rc);
    redisFree(mc);
    sc_server_stop_or_fail(&replica);
    sc_server_stop_or_fail(&master);
}

/* repl-backlog-ttl: a master left without replicas for that long frees its
 * backlog and takes a new replid; the next replica syncs fully. */
Test(repl_master, backlog_freed_after_ttl_without_replicas) {
    redisContext *mc, *rc;
    start_synced_pair((const char *[]){"--repl-backlog-ttl", "1", NULL}, "ttl", &mc, &rc);
    char id1[64], id2[64];
    sc_repl_info_str(mc, "replication", "master_replid", id1, sizeof id1);
    cr_assert_eq(sc_info_ll_or_fail(mc, "replication", "repl_backlog_active"), 1);
    sc_cmd_expect_or_fail(mc, "OK", "SET in-backlog 1");
    cr_assert_gt(sc_info_ll_or_fail(mc, "memory", "mem_total_replication_buffers"), 0);
    redisFree(rc);
    sc_server_stop_or_fail(&replica);
    cr_assert(SC_WAIT_FOR(sc_info_ll_or_fail(mc, "replication", "repl_backlog_active") == 0, 10000),
              "the backlog outlived repl-backlog-ttl");
    sc_repl_info_str(mc, "replication", "master_replid", id2, sizeof id2);
    cr_assert(strcmp(id1, id2) != 0, "the replid did not change when the backlog was freed");
    cr_assert_eq(sc_info_ll_or_fail(mc, "memory", "mem_total_replication_buffers"), 0);
    sc_cmd_expect_or_fail(mc, "OK", "SET after-free 1");
    rc = replica_or_skip(mc);
    cr_assert(SC_WAIT_FOR(in_sync(mc, rc), 20000), "a new replica did not sync after the backlog was freed");
    cr_assert_eq(sc_info_ll_or_fail(mc, "stats", "sync_full"), 2);
    compare_keyspaces(mc, rc);
    redisFree(rc);
    redisFree(mc);
    sc_server_stop_or_fail(&replica);
    sc_server_stop_or_fail(&master);
}

/* min-replicas-to-write: writes refused with Redis's error until enough
 * replicas are online and recent; reads always served. */
Test(repl_master, min_replicas_to_write_refuses) {
    start_master((const char *[]){"--min-replicas-to-write", "1", "--min-replicas-max-lag", "10", NULL});
    redisContext *mc = sc_connect_or_fail(&master);
    sc_cmd_expect_or_fail(mc, "NOREPLICAS Not enough good replicas to write.", "SET k v");
    redisReply *r = sc_cmd_or_fail(mc, "GET k");
    cr_assert_eq(r->type, REDIS_REPLY_NIL, "a read is not refused");
    freeReplyObject(r);
    sc_cmd_expect_or_fail(mc, "OK", "MULTI");
    sc_cmd_expect_or_fail(mc, "NOREPLICAS Not enough good replicas to write.", "SET k v");
    sc_cmd_expect_or_fail(mc, "EXECABORT Transaction discarded because of previous errors.", "EXEC");
    redisContext *rc = replica_or_skip(mc);
    cr_assert(SC_WAIT_FOR(in_sync(mc, rc), 20000), "the replica did not catch up");
    cr_assert(SC_WAIT_FOR(({
                  redisReply *x = sc_cmd_or_fail(mc, "SET k v");
                  bool ok = x->type == REDIS_REPLY_STATUS && strcmp(x->str, "OK") == 0;
                  freeReplyObject(x);
                  ok;
              }),
                          5000),
              "writes still refused with an online replica");
    cr_assert_eq(sc_info_ll_or_fail(mc, "replication", "min_slaves_good_slaves"), 1);
    redisFree(rc);
    sc_server_stop_or_fail(&replica);
    redisFree(mc);
    sc_server_stop_or_fail(&master);
}

/* CLIENT LIST / KILL TYPE see replicas (flags=S) on a master and the
 * master link (flags=M) on a replica, and subscribers as pubsub. */
static int count_lines(const char *s) {
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

Test(repl_master, client_types_replica_master_pubsub) {
    start_master(NULL);
    redisContext *mc = sc_connect_or_fail(&master);
    char port[16];
    snprintf(port, sizeof port, "%d", master.port);
    /* A slotcache replica of the slotcache master. */
    sc_server *sub = &replica;
    sc_server_start_or_fail(sub, (const char *[]){"--replicaof", "127.0.0.1", port, "--save", "", NULL});
    redisContext *rc = sc_connect_or_fail(sub);
    cr_assert(SC_WAIT_FOR(in_sync(mc, rc), 20000), "the replica did not catch up");

    redisReply *r = sc_cmd_or_fail(mc, "CLIENT LIST TYPE replica");
    cr_assert_eq(r->type, REDIS_REPLY_STRING);
    cr_assert_eq(count_lines(r->str), 1, "CLIENT LIST TYPE replica: %s", r->str);
    cr_assert(strstr(r->str, " flags=S "), "%s", r->str);
    freeReplyObject(r);
    r = sc_cmd_or_fail(mc, "CLIENT LIST TYPE normal");
    cr_assert(!strstr(r->str, " flags=S "), "a replica listed as normal: %s", r->str);
    freeReplyObject(r);
    r = sc_cmd_or_fail(rc, "CLIENT LIST TYPE master");
    cr_assert_eq(count_lines(r->str), 1, "CLIENT LIST TYPE master: %s", r->str);
    cr_assert(strstr(r->str, " flags=M "), "%s", r->str);
    freeReplyObject(r);

    /* A subscriber is pubsub, not normal. */
    redisContext *s = sc_connect_or_fail(&master);
    freeReplyObject(sc_cmd_or_fail(s, "SUBSCRIBE ch"));
    r = sc_cmd_or_fail(mc, "CLIENT LIST TYPE pubsub");
    cr_assert_eq(count_lines(r->str), 1, "CLIENT LIST TYPE pubsub: %s", r->str);
    freeReplyObject(r);

    /* Killing the master link on the replica: it reconnects (partially). */
    cr_assert_eq(sc_cmd_ll_or_fail(rc, "CLIENT KILL TYPE master"), 1);
    cr_assert(SC_WAIT_FOR(sc_info_ll_or_fail(mc, "stats", "sync_partial_ok") == 1, 10000), "no partial resync");
    /* Killing replicas on the master. */
    cr_assert(SC_WAIT_FOR(sc_cmd_ll_or_fail(mc, "CLIENT KILL TYPE replica") == 1, 10000));
    cr_assert(SC_WAIT_FOR(sc_info_ll_or_fail(mc, "stats", "sync_partial_ok") == 2, 10000), "no partial resync");
    cr_assert_eq(sc_info_ll_or_fail(mc, "stats", "sync_full"), 1);
    redisFree(s);
    redisFree(rc);
    sc_server_stop_or_fail(sub);
    redisFree(mc);
    sc_server_stop_or_fail(&master);
}

/* ---- the wire, seen by a raw socket replica ----------------------------- */

/* Read one "\r\n"-terminated line (without it) into out. */
static bool read_line(int fd, char *out, size_t n) {
    size_t len = 0;
    while (len + 1 < n) {
        if (sc_raw_recv_exact(fd, out + len, 1, sc_scaled_ms(10000)) != 1) return false;
        if (len > 0 && out[len - 1] == '\r' && out[len] == '\n') {
            out[len - 1] = '\0';
            return true;
        }
        len++;
    }
    return false;
}

/* Read until the buffer ends with `tail`; returns all bytes read. */
static bool read_until(int fd, sc_buf *got, const char *tail, size_t tlen) {
    char ch;
    long long deadline = sc_now_ms() + sc_scaled_ms(10000);
    while (sc_now_ms() < deadline) {
        if (sc_raw_recv_exact(fd, &ch, 1, sc_scaled_ms(10000)) != 1) return false;
        sc_buf_append(got, &ch, 1);
        if (got->len >= tlen && !memcmp(got->data + got->len - tlen, tail, tlen)) return true;
    }
    return false;
}

Test(repl_master, wire_psync_eof_payload_and_stream) {
    start_master((const char *[]){"--repl-ping-replica-period", "100", NULL});
    redisContext *mc = sc_connect_or_fail(&master);
    sc_cmd_expect_or_fail(mc, "OK", "SET before 1");
    int fd = sc_raw_connect_or_fail(master.port);
    /* Redis's errors for bad input. */
    sc_raw_send_line_or_fail(fd, "REPLCONF listening-port");
    cr_assert(sc_raw_expect(fd, "-ERR syntax error\r\n", 5000));
    sc_raw_send_line_or_fail(fd, "REPLCONF foo bar");
    cr_assert(sc_raw_expect(fd, "-ERR Unrecognized REPLCONF option: foo\r\n", 5000));
    sc_raw_send_line_or_fail(fd, "REPLCONF listening-port abc");
    cr_assert(sc_raw_expect(fd, "-ERR value is not an integer or out of range\r\n", 5000));
    sc_raw_send_line_or_fail(fd, "REPLCONF ACK 10");
    sc_raw_send_line_or_fail(fd, "REPLCONF listening-port 4444 capa eof capa psync2 capa future");
    cr_assert(sc_raw_expect(fd, "+OK\r\n", 5000)); /* ACK from a non-replica: no reply */

    /* PSYNC with a bad offset: the error, then a full sync, as Redis. */
    sc_raw_send_line_or_fail(fd, "PSYNC someid notanumber");
    cr_assert(sc_raw_expect(fd, "-ERR value is not an integer or out of range\r\n", 5000));
    char line[256];
    cr_assert(read_line(fd, line, sizeof line));
    char replid[41];
    long long off;
    cr_assert(sscanf(line, "+FULLRESYNC %40s %lld", replid, &off) == 2, "got %s", line);
    cr_expect_eq(strlen(replid), 40);
    cr_assert(read_line(fd, line, sizeof line));
    cr_assert(!strncmp(line, "$EOF:", 5) && strlen(line) == 45, "got %s", line);
    char mark[41];
    memcpy(mark, line + 5, 41);
    sc_buf rdb = {0};
    cr_assert(read_until(fd, &rdb, mark, 40), "no EOF mark");
    cr_expect(rdb.len > 40 + 9 && !memcmp(rdb.data, "REDIS0010", 9));
    sc_buf_free(&rdb);
    cr_expect_eq(sc_info_ll_or_fail(mc, "stats", "sync_partial_err"), 1);
    char v[256];
    sc_repl_info_str(mc, "replication", "slave0", v, sizeof v);
    cr_expect(!strncmp(v, "ip=127.0.0.1,port=4444,state=online,offset=0,", 45), "INFO slave0: %s", v);

    /* The stream starts at the first ACK: SELECT, then the write. */
    sc_raw_send_line_or_fail(fd, "REPLCONF ACK 0");
    sc_cmd_expect_or_fail(mc, "OK", "SELECT 5");
    sc_cmd_expect_or_fail(mc, "OK", "SET k v");
    cr_assert(sc_raw_expect(fd, "*2\r\n$6\r\nSELECT\r\n$1\r\n5\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n", 5000));
    long long expect_off = off + 23 + 27;
    cr_expect_eq(sc_info_ll_or_fail(mc, "replication", "master_repl_offset"), expect_off);
    /* WAIT asks for an ACK through the stream. */
    redisAppendCommand(mc, "WAIT 1 0");
    cr_assert(redisBufferWrite(mc, &(int){0}) == REDIS_OK);
    cr_assert(sc_raw_expect(fd, "*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n", 5000));
    char ack[64];
    snprintf(ack, sizeof ack, "REPLCONF ACK %lld", expect_off + 37);
    sc_raw_send_line_or_fail(fd, ack);
    redisReply *w = NULL;
    cr_assert(redisGetReply(mc, (void **)&w) == REDIS_OK);
    cr_expect(w->type == REDIS_REPLY_INTEGER && w->integer == 1);
    freeReplyObject(w);
    expect_role_replicas(mc, 1, 4444);

    /* A new link continuing from where the stream is: +CONTINUE. */
    close(fd);
    cr_assert(SC_WAIT_FOR(sc_info_ll_or_fail(mc, "replication", "connected_slaves") == 0, 5000));
    fd = sc_raw_connect_or_fail(master.port);
    sc_raw_send_line_or_fail(fd, "REPLCONF capa eof capa psync2");
    cr_assert(sc_raw_expect(fd, "+OK\r\n", 5000));
    char psync[128];
    snprintf(psync, sizeof psync, "PSYNC %s %lld", replid, expect_off - 26);
    sc_raw_send_line_or_fail(fd, psync);
    char cont[128];
    snprintf(cont, sizeof cont, "+CONTINUE %s\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n", replid);
    cr_assert(sc_raw_expect(fd, cont, 5000));
    cr_expect_eq(sc_info_ll_or_fail(mc, "stats", "sync_partial_ok"), 1);
    close(fd);
    redisFree(mc);
    sc_server_stop_or_fail(&master);
}

Test(repl_master, wire_sync_gets_a_bulk_payload) {
    start_master(NULL);
    redisContext *mc = sc_connect_or_fail(&master);
    sc_cmd_expect_or_fail(mc, "OK", "SET before 1");
    int fd = sc_raw_connect_or_fail(master.port);
    sc_raw_send_line_or_fail(fd, "SYNC");
    char line[64];
    cr_assert(read_line(fd, line, sizeof line));
    cr_assert(line[0] == '$', "got %s", line);
    long long len = atoll(line + 1);
    cr_assert(len > 9 && len < 1000000);
    char *rdb = malloc((size_t)len);
    cr_assert_eq(sc_raw_recv_exact(fd, rdb, (size_t)len, 10000), (size_t)len);
    cr_expect(!memcmp(rdb, "REDIS0010", 9));
    cr_expect_eq((unsigned char)rdb[len - 9], 0xff); /* EOF opcode, then the CRC */
    free(rdb);
    /* A SYNC replica never ACKs: the stream flows at once all the same (as
     * Redis after a `$<len>` transfer). DEBUG never enters the stream. */
    freeReplyObject(sc_cmd_or_fail(mc, "DEBUG POPULATE 3"));
    sc_cmd_expect_or_fail(mc, "OK", "SET after 2");
    cr_assert(sc_raw_expect(fd, "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$5\r\nafter\r\n$1\r\n2\r\n",
                            5000),
              "no stream after a SYNC transfer (or DEBUG POPULATE propagated)");
    close(fd);
    redisFree(mc);
    sc_server_stop_or_fail(&master);
}

/* WAIT inside MULTI answers at once, in order (Redis never blocks there). */
Test(repl_master, wait_inside_multi_does_not_block) {
    start_master(NULL);
    redisContext *mc = sc_connect_or_fail(&master);
    sc_cmd_expect_or_fail(mc, "OK", "MULTI");
    sc_cmd_expect_or_fail(mc, "QUEUED", "WAIT 1 0");
    sc_cmd_expect_or_fail(mc, "QUEUED", "SET b 2");
    long long t0 = sc_now_ms();
    redisReply *r = sc_cmd_or_fail(mc, "EXEC");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 2, "EXEC: type %d", r->type);
    cr_assert(r->element[0]->type == REDIS_REPLY_INTEGER && r->element[0]->integer == 0, "WAIT's reply first");
    cr_assert(r->element[1]->type == REDIS_REPLY_STATUS && !strcmp(r->element[1]->str, "OK"));
    freeReplyObject(r);
    cr_assert_lt(sc_now_ms() - t0, sc_scaled_ms(1000), "WAIT blocked inside EXEC");
    redisFree(mc);
    sc_server_stop_or_fail(&master);
}
