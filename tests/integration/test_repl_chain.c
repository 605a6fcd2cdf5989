/*
 * test_repl_chain.c - replication with slotcache at both ends of a link, in
 * chains and across a promotion:
 *
 * - slotcache master -> slotcache replica: a full sync of every type with
 *   TTLs in several databases while a write load runs (pipelined mixed
 *   writes, MULTI/EXEC, EXPIRE, SPOP with a count, INCRBYFLOAT, blocking
 *   pops being served), then equal offsets and equal keyspaces;
 * - chains redis -> slotcache -> redis and slotcache -> slotcache ->
 *   slotcache: a replica forwards its master's stream byte for byte, so
 *   master_repl_offset is equal at every level and the keyspaces are equal;
 * - promotion: REPLICAOF NO ONE on replica A (replid2 = the old replid,
 *   second_repl_offset = old offset + 1), then the other replica B moves to
 *   A with a PARTIAL resync through replid2, in three mixes of slotcache
 *   and redis-server;
 * - a replica killed -9 and restarted on its port resyncs fully; a master
 *   killed and restarted empty on its port: the replica follows it (empty,
 *   then the new writes).
 *
 * Every wait is a bounded poll; every server is stopped by the test.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "repl_compare.h"
#include "server_proc.h"
#include "thread_fail.h"

/* PTTL difference allowed between two servers (the same clock; only the
 * time between the two reads, longer under sanitizers). */
#define TTL_TOLERANCE_MS 2000

static sc_server s_top, s_mid, s_bottom;

TestSuite(repl_chain, .fini = sc_server_cleanup, .timeout = 300);

/* ---- replication state ------------------------------------------------- */

static long long info_ll(redisContext *c, const char *name) { return sc_info_ll_or_fail(c, "replication", name); }
/* Integer field `name` of INFO stats. */
static long long stat_ll(redisContext *c, const char *name) { return sc_info_ll_or_fail(c, "stats", name); }

/* Field `name` of INFO replication as text ("" when absent). */
static void info_text(redisContext *c, const char *name, char *out, size_t n)
{
    sc_repl_info_str(c, "replication", name, out, n);
}

/* The replica's link is up and it applied and forwards everything the
 * master streamed: master's master_repl_offset == replica's
 * slave_repl_offset == replica's master_repl_offset. */
static bool synced(redisContext *m, redisContext *r)
{
    if (!sc_repl_link_up(r)) return false;
    long long mo = info_ll(m, "master_repl_offset");
    return mo >= 0 && info_ll(r, "slave_repl_offset") == mo && info_ll(r, "master_repl_offset") == mo;
}

/* Wait `ms` until synced(m, r); else fail with rs's log and the offsets. */
static void wait_synced_or_fail(redisContext *m, redisContext *r, const sc_server *rs, int ms, const char *what)
{
    if (!SC_WAIT_FOR(synced(m, r), ms)) {
        sc_server_dump_log(rs, 8192);
        cr_assert_fail("%s not in sync: link up %d, master's master_repl_offset %lld, replica's slave_repl_offset "
                       "%lld and master_repl_offset %lld",
                       what, sc_repl_link_up(r), info_ll(m, "master_repl_offset"), info_ll(r, "slave_repl_offset"),
                       info_ll(r, "master_repl_offset"));
    }
}

/* a and b have the same (non-empty) master_replid. */
static void expect_same_replid(redisContext *a, redisContext *b, const char *what)
{
    char ia[64], ib[64];
    info_text(a, "master_replid", ia, sizeof ia);
    info_text(b, "master_replid", ib, sizeof ib);
    cr_assert(ia[0] && !strcmp(ia, ib), "%s: master_replid %s vs %s", what, ia, ib);
}

/* ---- data -------------------------------------------------------------- */

/* Every type and encoding (int / raw / big strings, small and large lists,
 * hashes, int and string sets, small and large zsets), about a third with
 * TTLs (EXPIRE, PEXPIRE, SET EX, PEXPIREAT), in databases 0, 1 and 5. */
static void populate(redisContext *c, const char *tag, int per_db)
{
    static const int dbs[] = {0, 1, 5};
    static char big[30000];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    long long far = (long long)time(NULL) * 1000 + 7200000;
    for (size_t d = 0; d < sizeof dbs / sizeof dbs[0]; d++) {
        int db = dbs[d], n = 0;
        redisAppendCommand(c, "SELECT %d", db);
        n++;
        for (int i = 0; i < per_db; i++) {
            redisAppendCommand(c, "SET %s:str:%d value-%d-%d", tag, i, db, i);
            redisAppendCommand(c, "SET %s:int:%d %d", tag, i, i * 7 - 100);
            n += 2;
            if (i % 3 == 0) {
                redisAppendCommand(c, "EXPIRE %s:str:%d %d", tag, i, 1000 + i);
                n++;
            }
            if (i % 5 == 0) {
                redisAppendCommand(c, "SET %s:ex:%d v%d EX %d", tag, i, i, 5000 + i);
                n++;
            }
        }
        for (int i = 0; i < 3; i++) {
            redisAppendCommand(c, "SET %s:big:%d %s%d", tag, i, big, i);
            n++;
        }
        for (int i = 0; i < per_db / 10; i++) {
            int elems = i % 2 ? 6 : 200; /* listpack / intset and large encodings */
            for (int e = 0; e < elems; e++) {
                redisAppendCommand(c, "RPUSH %s:list:%d item-%d", tag, i, e);
                redisAppendCommand(c, "HSET %s:hash:%d f%d v%d", tag, i, e, e * 3);
                redisAppendCommand(c, "SADD %s:iset:%d %d", tag, i, e * 11);
                redisAppendCommand(c, "SADD %s:sset:%d m-%d", tag, i, e);
                redisAppendCommand(c, "ZADD %s:zset:%d %d.25 z-%d", tag, i, e % 17, e);
                n += 5;
            }
            if (i % 3 == 0) {
                redisAppendCommand(c, "PEXPIRE %s:list:%d %d", tag, i, 2000000 + i);
                redisAppendCommand(c, "EXPIRE %s:zset:%d %d", tag, i, 3000 + i);
                redisAppendCommand(c, "PEXPIREAT %s:hash:%d %lld", tag, i, far + i);
                n += 3;
            }
        }
        sc_repl_drain_or_fail(c, n);
    }
    sc_cmd_expect_or_fail(c, "OK", "SELECT 0");
}

/* A few writes of each kind in databases 0, 3 and 7, the last ones in db 7
 * (the connection and the stream stay there). */
static void mixed_writes(redisContext *c, const char *tag)
{
    static const int dbs[] = {0, 3, 7};
    for (size_t d = 0; d < 3; d++) {
        int n = 0;
        redisAppendCommand(c, "SELECT %d", dbs[d]);
        n++;
        for (int i = 0; i < 20; i++) {
            redisAppendCommand(c, "SET %s:s:%d v%d", tag, i, i);
            redisAppendCommand(c, "RPUSH %s:l %d", tag, i);
            redisAppendCommand(c, "HSET %s:h f%d %d", tag, i, i);
            redisAppendCommand(c, "SADD %s:set m%d", tag, i);
            redisAppendCommand(c, "ZADD %s:z %d m%d", tag, i, i);
            redisAppendCommand(c, "INCRBYFLOAT %s:f 1.5", tag);
            n += 6;
        }
        redisAppendCommand(c, "SPOP %s:set 3", tag);
        redisAppendCommand(c, "EXPIRE %s:s:1 9000", tag);
        redisAppendCommand(c, "MULTI");
        redisAppendCommand(c, "INCR %s:tx", tag);
        redisAppendCommand(c, "LPOP %s:l", tag);
        redisAppendCommand(c, "HINCRBYFLOAT %s:h f0 0.5", tag);
        redisAppendCommand(c, "EXEC");
        n += 7;
        sc_repl_drain_or_fail(c, n);
    }
}

/* ---- nodes ------------------------------------------------------------ */

/* Fill args with the settings every node here uses (a diskless full sync
 * starts at once; slotcache runs 2 threads), then `extra`, then
 * "--replicaof 127.0.0.1 <master's port>" (in port) when master is not NULL. */
static void node_args(const char **args, bool redis, const sc_server *master, const char *const *extra, char *port)
{
    int n = 0;
    args[n++] = "--repl-diskless-sync";
    args[n++] = "yes";
    args[n++] = "--repl-diskless-sync-delay";
    args[n++] = "0";
    static const char *const two_threads[] = {"--threads", "2"};
    if (!redis) {
        args[n++] = two_threads[0];
        args[n++] = two_threads[1];
    }
    for (int i = 0; extra && extra[i] && n < 34; i++) args[n++] = extra[i];
    if (master) {
        snprintf(port, 16, "%d", master->port);
        args[n++] = "--replicaof";
        args[n++] = "127.0.0.1";
        args[n++] = port;
    }
    args[n] = NULL;
}

/* Start slotcache (redis == NULL) or redis-server with node_args. */
static void start_node(sc_server *s, const char *redis, const sc_server *master, const char *const *extra)
{
    const char *args[40];
    char port[16];
    node_args(args, redis != NULL, master, extra, port);
    if (redis)
        sc_server_start_bin_or_fail(s, redis, args);
    else
        sc_server_start_or_fail(s, args);
}

/* Restart a killed node on its port and directory with node_args. */
static void restart_node(sc_server *s, const sc_server *master, const char *const *extra)
{
    const char *args[40];
    char port[16];
    node_args(args, s->is_redis, master, extra, port);
    sc_server_restart_or_fail(s, args);
}

/* A slotcache master (populated with `per_db` keys a database) and its
 * slotcache replica, in sync. */
static void start_synced_pair(int per_db, redisContext **m, redisContext **r)
{
    start_node(&s_top, NULL, NULL, NULL);
    *m = sc_connect_or_fail(&s_top);
    populate(*m, "pre", per_db);
    start_node(&s_mid, NULL, &s_top, NULL);
    *r = sc_connect_or_fail(&s_mid);
    wait_synced_or_fail(*m, *r, &s_mid, 30000, "the replica");
}

/* ---- a write load ------------------------------------------------------ */

typedef struct {
    int port;
    _Atomic bool stop;
    _Atomic long batches;
    _Atomic long served; /* blocking pops served (poppers) */
} load_arg;

/* Pipelined batches of mixed writes, alternately in db 0 and db 2: plain
 * writes, EXPIRE, SPOP with a count, INCRBYFLOAT, HINCRBYFLOAT, short-lived
 * keys (the master deletes them and streams DELs), MULTI/EXEC, and pushes
 * that serve the poppers' blocking pops (db 0). */
static void *load_thread(void *p)
{
    load_arg *a = p;
    redisContext *c = sc_repl_thread_connect(a->port, "load");
    if (!c) return NULL;
    for (long b = 0; b < 5000 && !atomic_load(&a->stop) && !sc_thread_failures(); b++) {
        int n = 0;
        int db = b % 2 ? 0 : 2;
        redisAppendCommand(c, "SELECT %d", db);
        n++;
        for (int i = 0; i < 20; i++) {
            long k = b * 20 + i;
            redisAppendCommand(c, "SET load:%ld v%ld", k % 499, k);
            redisAppendCommand(c, "INCRBY counter:%ld %ld", k % 13, k);
            redisAppendCommand(c, "LPUSH loadlist:%ld %ld", k % 7, k);
            redisAppendCommand(c, "HSET loadhash:%ld f%ld %ld", k % 5, k % 101, k);
            redisAppendCommand(c, "ZADD loadz %ld m%ld", k % 1000, k % 333);
            redisAppendCommand(c, "SADD spopset:%ld %ld a%ld b%ld", k % 3, k, k, k % 50);
            redisAppendCommand(c, "EXPIRE load:%ld 5000", k % 499);
            redisAppendCommand(c, "DEL counter:%ld", (k + 5) % 13);
            redisAppendCommand(c, "INCRBYFLOAT float:%ld 0.1", k % 4);
            n += 9;
        }
        redisAppendCommand(c, "SPOP spopset:%ld 4", b % 3);
        redisAppendCommand(c, "SPOP spopset:%ld", (b + 1) % 3);
        redisAppendCommand(c, "HINCRBYFLOAT hfloat f%ld 2.5", b % 3);
        redisAppendCommand(c, "SET short:%ld x PX %ld", b % 20, 20 + b % 100);
        redisAppendCommand(c, "GETEX load:%ld PX 4000000", b % 499);
        n += 5;
        redisAppendCommand(c, "MULTI");
        redisAppendCommand(c, "INCR txcount");
        redisAppendCommand(c, "SET txlast %ld", b);
        redisAppendCommand(c, "SPOP spopset:0 2");
        redisAppendCommand(c, "INCRBYFLOAT txfloat 1.25");
        redisAppendCommand(c, "EXEC");
        n += 6;
        if (db == 0) {
            redisAppendCommand(c, "RPUSH bq:%ld p%ld", b % 2, b);
            redisAppendCommand(c, "ZADD bzq %ld zm%ld", b, b);
            n += 2;
        }
        if (!sc_repl_thread_drain(c, n, "load", true)) {
            redisFree(c);
            return NULL;
        }
        atomic_fetch_add(&a->batches, 1);
    }
    redisFree(c);
    return NULL;
}

/* Blocking pops in db 0 that the load's pushes serve: BLPOP, BLMOVE,
 * BZPOPMIN (each propagated as the non-blocking pop it became). */
static void *popper_thread(void *p)
{
    load_arg *a = p;
    redisContext *c = sc_repl_thread_connect(a->port, "popper");
    if (!c) return NULL;
    for (long i = 0; !atomic_load(&a->stop) && !sc_thread_failures(); i++) {
        redisReply *r;
        switch (i % 3) {
        case 0: r = redisCommand(c, "BLPOP bq:0 bq:1 0.2"); break;
        case 1: r = redisCommand(c, "BLMOVE bq:1 bqdst LEFT RIGHT 0.2"); break;
        default: r = redisCommand(c, "BZPOPMIN bzq 0.2"); break;
        }
        if (!r) {
            sc_thread_fail("popper: %s", c->errstr);
            break;
        }
        if (r->type == REDIS_REPLY_ERROR) sc_thread_fail("popper: error %s", r->str);
        else if (r->type != REDIS_REPLY_NIL) atomic_fetch_add(&a->served, 1);
        freeReplyObject(r);
    }
    redisFree(c);
    return NULL;
}

/* After the load: the short-lived keys' TTLs (< 120 ms) have passed; touch
 * them on the master so it deletes them (and streams the DELs) before the
 * keyspaces are compared. */
static void expire_short_keys(redisContext *m)
{
    sc_sleep_ms(200);
    for (int db = 0; db <= 2; db += 2) {
        sc_cmd_expect_or_fail(m, "OK", "SELECT %d", db);
        for (int i = 0; i < 20; i++) cr_assert_eq(sc_cmd_ll_or_fail(m, "EXISTS short:%d", i), 0);
    }
    sc_cmd_expect_or_fail(m, "OK", "SELECT 0");
}

/* ---- 1. slotcache -> slotcache / redis-server: full sync under load ------ */

/* A slotcache master with a mixed write load running while its replica
 * (slotcache, or redis-server when `redis` is given) does its full sync. */
static void full_sync_under_load(const char *redis)
{
    start_node(&s_top, NULL, NULL, NULL);
    redisContext *m = sc_connect_or_fail(&s_top);
    populate(m, "pre", 400);

    sc_thread_fail_reset();
    load_arg la = {.port = s_top.port};
    pthread_t lt, pt;
    pthread_create(&lt, NULL, load_thread, &la);
    pthread_create(&pt, NULL, popper_thread, &la);
    cr_assert(SC_WAIT_FOR(atomic_load(&la.batches) >= 5 || sc_thread_failures(), 10000));

    /* The replica syncs while the load runs. */
    start_node(&s_mid, redis, &s_top, NULL);
    redisContext *r = sc_connect_or_fail(&s_mid);
    bool up = SC_WAIT_FOR(sc_repl_link_up(r), 30000);
    long at_up = atomic_load(&la.batches);
    SC_WAIT_FOR(atomic_load(&la.batches) >= at_up + 20 || sc_thread_failures(), 10000);
    atomic_store(&la.stop, true);
    pthread_join(lt, NULL);
    pthread_join(pt, NULL);
    sc_no_thread_failures_or_fail();
    if (!up) sc_server_dump_log(&s_mid, 8192);
    cr_assert(up, "the replica's link never came up");
    cr_log_info("load: %ld batches (%ld before the link was up), %ld blocking pops served",
                atomic_load(&la.batches), at_up, atomic_load(&la.served));
    cr_assert_gt(atomic_load(&la.served), 0, "no blocking pop was served");

    expire_short_keys(m);
    wait_synced_or_fail(m, r, &s_mid, 30000, "the replica");
    expect_same_replid(m, r, "replica");
    long long keys = sc_repl_compare_keyspaces_or_fail(m, r, TTL_TOLERANCE_MS);
    cr_assert_gt(keys, 1000);
    cr_assert_eq(stat_ll(m, "sync_full"), 1);
    cr_assert_eq(stat_ll(m, "sync_partial_err"), 0);

    /* Live writes after the sync, then the same checks again. */
    mixed_writes(m, "live");
    wait_synced_or_fail(m, r, &s_mid, 10000, "the replica");
    sc_repl_compare_keyspaces_or_fail(m, r, TTL_TOLERANCE_MS);

    redisFree(r);
    redisFree(m);
    sc_server_stop_or_fail(&s_mid);
    sc_server_stop_or_fail(&s_top);
}

Test(repl_chain, slotcache_to_slotcache_full_sync_under_load) { full_sync_under_load(NULL); }

Test(repl_chain, slotcache_to_redis_full_sync_under_load) { full_sync_under_load(sc_repl_redis_or_skip()); }

/* ---- 2. chains ---------------------------------------------------------- */

static void expect_chain_offsets(redisContext *top, redisContext *mid, redisContext *bottom)
{
    long long t = info_ll(top, "master_repl_offset"), m = info_ll(mid, "master_repl_offset"),
              b = info_ll(bottom, "master_repl_offset");
    cr_assert(t == m && m == b, "master_repl_offset along the chain: %lld, %lld, %lld", t, m, b);
    cr_assert_eq(info_ll(mid, "slave_repl_offset"), t);
    cr_assert_eq(info_ll(bottom, "slave_repl_offset"), t);
}

/* top -> mid (slotcache) -> bottom; top and bottom are redis-server when
 * `redis` is given, slotcache otherwise. Every node pings its replicas
 * every second: the top's PINGs are part of the stream, and a replica must
 * forward them without adding its own. */
static void chain(const char *redis)
{
    const char *ping1[] = {"--repl-ping-replica-period", "1", NULL};
    start_node(&s_top, redis, NULL, ping1);
    redisContext *t = sc_connect_or_fail(&s_top);
    populate(t, "pre", 200);
    start_node(&s_mid, NULL, &s_top, ping1);
    redisContext *m = sc_connect_or_fail(&s_mid);
    wait_synced_or_fail(t, m, &s_mid, 30000, "mid");

    /* The stream's current database is 7 when the bottom syncs, and the
     * writes during and after its sync stay in db 7 (no SELECT in the
     * stream): the bottom must apply them there. */
    mixed_writes(t, "before");
    wait_synced_or_fail(t, m, &s_mid, 10000, "mid");
    start_node(&s_bottom, redis, &s_mid, ping1);
    redisContext *b = sc_connect_or_fail(&s_bottom);
    for (int i = 0; i < 50; i++) sc_cmd_expect_or_fail(t, "OK", "SET during:%d x%d", i, i); /* db 7 */
    wait_synced_or_fail(m, b, &s_bottom, 30000, "bottom");
    wait_synced_or_fail(t, m, &s_mid, 10000, "mid");
    sc_cmd_expect_or_fail(t, "OK", "SET after-sync 1"); /* db 7, no SELECT */
    wait_synced_or_fail(t, m, &s_mid, 10000, "mid");
    wait_synced_or_fail(m, b, &s_bottom, 10000, "bottom");
    expect_chain_offsets(t, m, b);
    expect_same_replid(t, m, "mid");
    expect_same_replid(t, b, "bottom");
    sc_cmd_expect_or_fail(b, "OK", "SELECT 7");
    sc_cmd_expect_or_fail(b, "1", "GET after-sync");
    sc_cmd_expect_or_fail(b, "x49", "GET during:49");
    sc_cmd_expect_or_fail(b, "OK", "SELECT 0");
    sc_repl_compare_keyspaces_or_fail(t, m, TTL_TOLERANCE_MS);
    sc_repl_compare_keyspaces_or_fail(t, b, TTL_TOLERANCE_MS);

    /* The bottom syncs fully again while the top takes a write load of
     * non-idempotent commands (INCRBY, LPUSH, SPOP...): the mid's snapshot
     * and the offset it starts its stream at must agree exactly, or the
     * bottom applies a command twice or never. (REPLICAOF NO ONE then
     * REPLICAOF mid: the bottom's new history is unknown to the mid.) */
    sc_thread_fail_reset();
    load_arg la = {.port = s_top.port};
    pthread_t lt;
    pthread_create(&lt, NULL, load_thread, &la);
    cr_assert(SC_WAIT_FOR(atomic_load(&la.batches) >= 5 || sc_thread_failures(), 10000));
    long long mid_full = stat_ll(m, "sync_full");
    sc_cmd_expect_or_fail(b, "OK", "REPLICAOF NO ONE");
    sc_cmd_expect_or_fail(b, "OK", "REPLICAOF 127.0.0.1 %d", s_mid.port);
    bool up = SC_WAIT_FOR(stat_ll(m, "sync_full") == mid_full + 1 && sc_repl_link_up(b), 30000);
    long at_up = atomic_load(&la.batches);
    SC_WAIT_FOR(atomic_load(&la.batches) >= at_up + 20 || sc_thread_failures(), 10000);
    atomic_store(&la.stop, true);
    pthread_join(lt, NULL);
    sc_no_thread_failures_or_fail();
    cr_assert(up, "the bottom did not resync fully from the mid");
    expire_short_keys(t);
    sc_cmd_expect_or_fail(t, "OK", "SELECT 7"); /* the connection's db, as before */
    wait_synced_or_fail(t, m, &s_mid, 10000, "mid");
    wait_synced_or_fail(m, b, &s_bottom, 10000, "bottom");
    expect_chain_offsets(t, m, b);
    sc_repl_compare_keyspaces_or_fail(t, b, TTL_TOLERANCE_MS);

    /* More writes at the top reach the bottom; a key the top expires is
     * deleted all along the chain. */
    sc_cmd_expect_or_fail(t, "OK", "SELECT 0");
    sc_cmd_expect_or_fail(t, "OK", "SET shortlived v PX 100");
    mixed_writes(t, "after");
    cr_assert(SC_WAIT_FOR(({
                              sc_cmd_expect_or_fail(t, "OK", "SELECT 0");
                              sc_cmd_ll_or_fail(t, "EXISTS shortlived") == 0;
                          }),
                          10000));
    wait_synced_or_fail(t, m, &s_mid, 10000, "mid");
    wait_synced_or_fail(m, b, &s_bottom, 10000, "bottom");
    expect_chain_offsets(t, m, b);
    sc_cmd_expect_or_fail(b, "OK", "SELECT 7");
    cr_assert_eq(sc_cmd_ll_or_fail(b, "LLEN after:l"), 19);
    sc_cmd_expect_or_fail(b, "OK", "SELECT 0");
    cr_assert_eq(sc_cmd_ll_or_fail(b, "EXISTS shortlived"), 0);
    sc_repl_compare_keyspaces_or_fail(t, b, TTL_TOLERANCE_MS);
    sc_repl_compare_keyspaces_or_fail(m, b, TTL_TOLERANCE_MS);

    /* Idle for a few ping periods: only the top's PINGs move the offsets,
     * equally at every level. */
    long long before = info_ll(t, "master_repl_offset");
    cr_assert(SC_WAIT_FOR(info_ll(t, "master_repl_offset") >= before + 3 * 14, 15000), "the top does not ping");
    wait_synced_or_fail(t, m, &s_mid, 10000, "mid");
    wait_synced_or_fail(m, b, &s_bottom, 10000, "bottom");
    expect_chain_offsets(t, m, b);

    redisFree(b);
    redisFree(m);
    redisFree(t);
    sc_server_stop_or_fail(&s_bottom);
    sc_server_stop_or_fail(&s_mid);
    sc_server_stop_or_fail(&s_top);
}

Test(repl_chain, chain_redis_slotcache_redis) { chain(sc_repl_redis_or_skip()); }

Test(repl_chain, chain_slotcache_slotcache_slotcache) { chain(NULL); }

/* A slotcache replica whose link drops while its master's stream is in db
 * 7 resyncs partially and goes on applying the stream in db 7 (the
 * stream sends no SELECT again), twice. */
Test(repl_chain, partial_resync_continues_in_the_streams_db)
{
    start_node(&s_top, NULL, NULL, NULL);
    redisContext *m = sc_connect_or_fail(&s_top);
    start_node(&s_mid, NULL, &s_top, NULL);
    redisContext *r = sc_connect_or_fail(&s_mid);
    mixed_writes(m, "a"); /* ends in db 7 */
    wait_synced_or_fail(m, r, &s_mid, 30000, "the replica");
    for (int round = 0; round < 2; round++) {
        long long ok0 = stat_ll(m, "sync_partial_ok");
        /* The replica drops its master link (by address: slotcache's
         * CLIENT KILL TYPE master/replica matches no client, see the
         * report), and reconnects with PSYNC. */
        cr_assert_eq(sc_cmd_ll_or_fail(r, "CLIENT KILL ADDR 127.0.0.1:%d SKIPME yes", s_top.port), 1);
        for (int i = 0; i < 20; i++) sc_cmd_expect_or_fail(m, "OK", "SET cut:%d:%d v", round, i); /* db 7 */
        cr_assert(SC_WAIT_FOR(stat_ll(m, "sync_partial_ok") == ok0 + 1, 20000), "no partial resync (round %d)", round);
        wait_synced_or_fail(m, r, &s_mid, 10000, "the replica");
        sc_cmd_expect_or_fail(m, "OK", "SET after:%d v", round);
        wait_synced_or_fail(m, r, &s_mid, 10000, "the replica");
        sc_cmd_expect_or_fail(r, "OK", "SELECT 7");
        sc_cmd_expect_or_fail(r, "v", "GET after:%d", round);
        sc_cmd_expect_or_fail(r, "OK", "SELECT 0");
        sc_repl_compare_keyspaces_or_fail(m, r, TTL_TOLERANCE_MS);
        sc_cmd_expect_or_fail(m, "OK", "SELECT 7");
    }
    cr_assert_eq(stat_ll(m, "sync_full"), 1);
    redisFree(r);
    redisFree(m);
    sc_server_stop_or_fail(&s_mid);
    sc_server_stop_or_fail(&s_top);
}

/* ---- 3. promotion with a partial resync through replid2 ----------------- */

/* M with replicas A and B (binaries: NULL = slotcache, else redis-server).
 * M pings its replicas rarely so that no PING reaches B after A left M
 * (B would then be ahead of A's history). */
static void promotion(const char *m_bin, const char *a_bin, const char *b_bin)
{
    const char *quiet[] = {"--repl-ping-replica-period", "3600", NULL};
    start_node(&s_top, m_bin, NULL, quiet);
    redisContext *m = sc_connect_or_fail(&s_top);
    populate(m, "pre", 100);
    start_node(&s_mid, a_bin, &s_top, quiet);
    start_node(&s_bottom, b_bin, &s_top, quiet);
    redisContext *a = sc_connect_or_fail(&s_mid), *b = sc_connect_or_fail(&s_bottom);
    mixed_writes(m, "m"); /* the stream is in db 7 at the promotion */
    wait_synced_or_fail(m, a, &s_mid, 30000, "A");
    wait_synced_or_fail(m, b, &s_bottom, 30000, "B");

    char m_id[64], v[64];
    info_text(m, "master_replid", m_id, sizeof m_id);
    long long off = info_ll(a, "master_repl_offset");
    cr_assert_eq(off, info_ll(m, "master_repl_offset"));

    /* A becomes a master: the old history is its replid2. */
    sc_cmd_expect_or_fail(a, "OK", "REPLICAOF NO ONE");
    info_text(a, "role", v, sizeof v);
    cr_assert_str_eq(v, "master");
    info_text(a, "master_replid2", v, sizeof v);
    cr_assert_str_eq(v, m_id, "A's master_replid2");
    cr_assert_eq(info_ll(a, "second_repl_offset"), off + 1);
    char a_id[64];
    info_text(a, "master_replid", a_id, sizeof a_id);
    cr_assert_str_neq(a_id, m_id);
    cr_assert_eq(stat_ll(a, "sync_full"), 0);
    cr_assert_eq(stat_ll(a, "sync_partial_ok"), 0);

    /* B follows A and continues where it was: a partial resync. */
    sc_cmd_expect_or_fail(b, "OK", "REPLICAOF 127.0.0.1 %d", s_mid.port);
    if (!SC_WAIT_FOR(stat_ll(a, "sync_partial_ok") == 1 || stat_ll(a, "sync_full") > 0, 20000)) {
        sc_server_dump_log(&s_bottom, 8192);
        cr_assert_fail("B did not resync with A");
    }
    if (stat_ll(a, "sync_full") != 0) {
        sc_server_dump_log(&s_mid, 8192);
        sc_server_dump_log(&s_bottom, 8192);
    }
    cr_assert_eq(stat_ll(a, "sync_full"), 0, "B resynced fully from A");
    cr_assert_eq(stat_ll(a, "sync_partial_ok"), 1);
    cr_assert_eq(stat_ll(a, "sync_partial_err"), 0);
    wait_synced_or_fail(a, b, &s_bottom, 10000, "B");
    expect_same_replid(a, b, "B after the move");
    info_text(b, "master_replid2", v, sizeof v);
    cr_assert_str_eq(v, m_id, "B's master_replid2");

    /* Writes on A reach B, in the stream's database (7) first, then others. */
    sc_cmd_expect_or_fail(a, "OK", "SELECT 7");
    sc_cmd_expect_or_fail(a, "OK", "SET on-a 1");
    mixed_writes(a, "a");
    sc_cmd_expect_or_fail(a, "OK", "SET on-a-7 1");
    wait_synced_or_fail(a, b, &s_bottom, 10000, "B");
    sc_cmd_expect_or_fail(b, "OK", "SELECT 7");
    sc_cmd_expect_or_fail(b, "1", "GET on-a");
    sc_cmd_expect_or_fail(b, "1", "GET on-a-7");
    sc_cmd_expect_or_fail(b, "OK", "SELECT 0");
    sc_repl_compare_keyspaces_or_fail(a, b, TTL_TOLERANCE_MS);
    cr_assert_eq(stat_ll(a, "sync_full"), 0);
    /* M lost both replicas and kept its data. */
    cr_assert(SC_WAIT_FOR(info_ll(m, "connected_slaves") == 0, 10000));

    redisFree(a);
    redisFree(b);
    redisFree(m);
    sc_server_stop_or_fail(&s_bottom);
    sc_server_stop_or_fail(&s_mid);
    sc_server_stop_or_fail(&s_top);
}

Test(repl_chain, promotion_slotcache_replicas_partial_resync) { promotion(NULL, NULL, NULL); }

/* A redis-server replica B' of slotcache M moves to the promoted slotcache
 * A: redis-server's PSYNC with M's replid is served through A's replid2. */
Test(repl_chain, promotion_redis_replica_follows_promoted_slotcache)
{
    promotion(NULL, NULL, sc_repl_redis_or_skip());
}

/* slotcache B of a redis-server master moves to the promoted redis-server
 * A: slotcache's PSYNC is accepted by redis-server through its replid2. */
Test(repl_chain, promotion_slotcache_follows_promoted_redis)
{
    const char *redis = sc_repl_redis_or_skip();
    promotion(redis, redis, NULL);
}

/* ---- 4. restarts -------------------------------------------------------- */

Test(repl_chain, replica_killed_and_restarted_resyncs)
{
    redisContext *m, *r;
    start_synced_pair(200, &m, &r);
    redisFree(r);

    sc_server_kill9(&s_mid);
    mixed_writes(m, "while-down");
    cr_assert(SC_WAIT_FOR(info_ll(m, "connected_slaves") == 0, 20000));

    restart_node(&s_mid, &s_top, NULL);
    r = sc_connect_or_fail(&s_mid);
    wait_synced_or_fail(m, r, &s_mid, 30000, "the restarted replica");
    cr_assert_eq(stat_ll(m, "sync_full"), 2, "the restarted replica did not resync fully");
    sc_cmd_expect_or_fail(r, "OK", "SELECT 7");
    sc_cmd_expect_or_fail(r, "v3", "GET while-down:s:3");
    sc_cmd_expect_or_fail(r, "OK", "SELECT 0");
    sc_repl_compare_keyspaces_or_fail(m, r, TTL_TOLERANCE_MS);
    mixed_writes(m, "after");
    wait_synced_or_fail(m, r, &s_mid, 10000, "the restarted replica");
    sc_repl_compare_keyspaces_or_fail(m, r, TTL_TOLERANCE_MS);

    redisFree(r);
    redisFree(m);
    sc_server_stop_or_fail(&s_mid);
    sc_server_stop_or_fail(&s_top);
}

Test(repl_chain, master_restarted_empty_replica_follows)
{
    redisContext *m, *r;
    start_synced_pair(200, &m, &r);
    char old_id[64];
    info_text(m, "master_replid", old_id, sizeof old_id);
    redisFree(m);

    sc_server_kill9(&s_top);
    cr_assert(SC_WAIT_FOR(!sc_repl_link_up(r), 10000), "the replica did not notice its master died");
    cr_assert_gt(sc_cmd_ll_or_fail(r, "DBSIZE"), 0, "the replica keeps its data while the master is away");
    restart_node(&s_top, NULL, (const char *[]){"--save", "", NULL});
    m = sc_connect_or_fail(&s_top);
    /* The new master has a new history: the replica's PSYNC fails, it
     * resyncs fully and ends empty. */
    wait_synced_or_fail(m, r, &s_mid, 30000, "the replica of the restarted master");
    char new_id[64];
    info_text(m, "master_replid", new_id, sizeof new_id);
    cr_assert_str_neq(new_id, old_id);
    expect_same_replid(m, r, "the replica");
    cr_assert_eq(stat_ll(m, "sync_full"), 1);
    cr_assert_eq(stat_ll(m, "sync_partial_err"), 1);
    for (int db = 0; db < 16; db++) {
        sc_cmd_expect_or_fail(r, "OK", "SELECT %d", db);
        cr_assert_eq(sc_cmd_ll_or_fail(r, "DBSIZE"), 0, "db %d of the replica is not empty", db);
    }
    sc_cmd_expect_or_fail(r, "OK", "SELECT 0");
    mixed_writes(m, "new");
    wait_synced_or_fail(m, r, &s_mid, 10000, "the replica");
    cr_assert_gt(sc_repl_compare_keyspaces_or_fail(m, r, TTL_TOLERANCE_MS), 10);

    redisFree(r);
    redisFree(m);
    sc_server_stop_or_fail(&s_mid);
    sc_server_stop_or_fail(&s_top);
}
