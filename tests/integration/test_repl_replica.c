/*
 * test_repl_replica.c - slotcache as a REPLICA of a real redis-server 7.0
 * (the migration path): full sync of every type and encoding with TTLs in
 * several databases while the master takes writes, diskless (EOF mark) and
 * disk-based ($len) transfers, the command stream after the sync with equal
 * offsets, reads / -READONLY on the replica, INFO replication and ROLE, a
 * partial resync after the master drops the link, promotion with REPLICAOF
 * NO ONE, a replica killed -9 and restarted, and a fake master sending
 * garbage, truncated and corrupt RDBs (the replica never crashes, never
 * serves a partial dataset, and keeps retrying).
 *
 * Every wait is a bounded poll; every server is stopped by the test.
 */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "repl_compare.h"
#include "server_proc.h"
#include "thread_fail.h"

/* PTTL difference allowed between master and replica: under 2 s. */
#define TTL_TOLERANCE_MS 1999

static sc_server master, replica, replica2;

TestSuite(repl_replica, .fini = sc_server_cleanup, .timeout = 600);

/* ---- helpers ----------------------------------------------------------- */

/* The replica's link is up and it applied everything the master wrote. */
static bool synced(redisContext *m, redisContext *r)
{
    if (!sc_repl_link_up(r)) return false;
    long long mo = sc_info_ll_or_fail(m, "replication", "master_repl_offset");
    long long ro = sc_info_ll_or_fail(r, "replication", "slave_repl_offset");
    return mo > 0 && mo == ro;
}

/* Wait `ms` until synced(m, r); else fail with the replica's log and offsets. */
static void wait_synced_or_fail(redisContext *m, redisContext *r, int ms)
{
    if (!SC_WAIT_FOR(synced(m, r), ms)) {
        sc_server_dump_log(&replica, 8192);
        cr_assert_fail("replica not in sync: master_repl_offset %lld, slave_repl_offset %lld, link up %d",
                       sc_info_ll_or_fail(m, "replication", "master_repl_offset"),
                       sc_info_ll_or_fail(r, "replication", "slave_repl_offset"), sc_repl_link_up(r));
    }
}

/* Data of every type and encoding, with and without TTLs, in databases
 * 0, 1 and 5: about 3,000 keys. */
static void populate(redisContext *m)
{
    static const int dbs[] = {0, 1, 5};
    char big[20000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    for (size_t d = 0; d < sizeof dbs / sizeof dbs[0]; d++) {
        int db = dbs[d];
        int n = 0;
        redisAppendCommand(m, "SELECT %d", db);
        n++;
        for (int i = 0; i < 400; i++) {
            redisAppendCommand(m, "SET str:%d:%d value-%d", db, i, i);
            redisAppendCommand(m, "SET int:%d:%d %d", db, i, i * 7 - 300);
            n += 2;
            if (i % 3 == 0) {
                redisAppendCommand(m, "EXPIRE str:%d:%d %d", db, i, 1000 + i);
                n++;
            }
        }
        for (int i = 0; i < 5; i++) {
            redisAppendCommand(m, "SET big:%d:%d %s%d", db, i, big, i);
            n++;
        }
        for (int i = 0; i < 60; i++) {
            int elems = i % 2 ? 5 : 300; /* listpack and large encodings */
            for (int j = 0; j < elems; j += 50) {
                int k = j + 50 < elems ? j + 50 : elems;
                for (int e = j; e < k; e++) {
                    redisAppendCommand(m, "RPUSH list:%d:%d item-%d", db, i, e);
                    redisAppendCommand(m, "HSET hash:%d:%d f%d v%d", db, i, e, e * 3);
                    redisAppendCommand(m, "SADD iset:%d:%d %d", db, i, e * 11);
                    redisAppendCommand(m, "SADD sset:%d:%d m-%d", db, i, e);
                    redisAppendCommand(m, "ZADD zset:%d:%d %d.5 z-%d", db, i, e % 17, e);
                    n += 5;
                }
            }
            if (i % 4 == 0) {
                redisAppendCommand(m, "PEXPIRE list:%d:%d %d", db, i, 2000000 + i);
                redisAppendCommand(m, "EXPIRE zset:%d:%d %d", db, i, 3000 + i);
                n += 2;
            }
        }
        sc_repl_drain_or_fail(m, n);
    }
    sc_cmd_expect_or_fail(m, "OK", "SELECT 0");
}

/* A write load on the master (own connection) until told to stop. */
typedef struct {
    int port;
    _Atomic bool stop;
    _Atomic long batches;
} load_arg;

static void *load_thread(void *p)
{
    load_arg *a = p;
    redisContext *c = sc_repl_thread_connect(a->port, "load");
    if (!c) return NULL;
    for (long b = 0; b < 2000 && !atomic_load(&a->stop); b++) {
        int n = 0;
        int db = b % 2 ? 0 : 2;
        redisAppendCommand(c, "SELECT %d", db);
        n++;
        for (int i = 0; i < 50; i++) {
            long k = b * 50 + i;
            redisAppendCommand(c, "SET load:%ld v%ld", k % 997, k);
            redisAppendCommand(c, "INCRBY counter:%ld %ld", k % 13, k);
            redisAppendCommand(c, "LPUSH loadlist:%ld %ld", k % 7, k);
            redisAppendCommand(c, "HSET loadhash:%ld f%ld %ld", k % 5, k % 101, k);
            redisAppendCommand(c, "ZADD loadz %ld m%ld", k % 1000, k % 333);
            redisAppendCommand(c, "SADD loadset %ld", k % 777);
            redisAppendCommand(c, "EXPIRE load:%ld 5000", k % 997);
            redisAppendCommand(c, "DEL counter:%ld", (k + 5) % 13);
            n += 8;
        }
        redisAppendCommand(c, "MULTI");
        redisAppendCommand(c, "INCR txcount");
        redisAppendCommand(c, "SET txlast %ld", b);
        redisAppendCommand(c, "EXEC");
        n += 4;
        if (!sc_repl_thread_drain(c, n, "load", false)) {
            redisFree(c);
            return NULL;
        }
        atomic_fetch_add(&a->batches, 1);
    }
    redisFree(c);
    return NULL;
}

/* Every key of databases 0..15: same type, value and TTL (under 2 s
 * apart), and at least one key compared. */
static void compare_keyspaces_or_fail(redisContext *m, redisContext *r)
{
    cr_assert_gt(sc_repl_compare_keyspaces_or_fail(m, r, TTL_TOLERANCE_MS), 0);
}

/* Start the redis-server master with `extra` (skip without redis-server). */
static void start_master(const char *const *extra)
{
    sc_server_start_bin_or_fail(&master, sc_repl_redis_or_skip(), extra);
}

/* Start slotcache (2 threads) on s as a replica of the master. */
static void start_replica_of_master(sc_server *s)
{
    char port[16];
    snprintf(port, sizeof port, "%d", master.port);
    sc_server_start_or_fail(s, (const char *[]){"--threads", "2", "--replicaof", "127.0.0.1", port, NULL});
}

/* Start a replica of the master on s, connect, and wait (30 s) until in sync. */
static redisContext *start_synced_replica(sc_server *s, redisContext *m)
{
    start_replica_of_master(s);
    redisContext *r = sc_connect_or_fail(s);
    wait_synced_or_fail(m, r, 30000);
    return r;
}

/* ---- full sync --------------------------------------------------------- */

static void full_sync_under_load(const char *const *master_args, bool by_command)
{
    start_master(master_args);
    redisContext *m = sc_connect_or_fail(&master);
    populate(m);

    sc_thread_fail_reset();
    load_arg la = {.port = master.port};
    pthread_t t;
    pthread_create(&t, NULL, load_thread, &la);
    /* Let the load run before and during the sync. */
    cr_assert(SC_WAIT_FOR(atomic_load(&la.batches) >= 5 || sc_thread_failures(), 10000));
    redisContext *r;
    if (by_command) {
        sc_server_start_or_fail(&replica, (const char *[]){"--threads", "2", NULL});
        r = sc_connect_or_fail(&replica);
        sc_cmd_expect_or_fail(r, "OK", "REPLICAOF 127.0.0.1 %d", master.port);
        sc_cmd_expect_or_fail(r, "OK Already connected to specified master", "REPLICAOF 127.0.0.1 %d",
                              master.port);
    } else {
        start_replica_of_master(&replica);
        r = sc_connect_or_fail(&replica);
    }
    bool up = SC_WAIT_FOR(sc_repl_link_up(r), 30000);
    long at_up = atomic_load(&la.batches);
    /* Some more load after the sync, then stop. */
    SC_WAIT_FOR(atomic_load(&la.batches) >= at_up + 5 || sc_thread_failures(), 10000);
    atomic_store(&la.stop, true);
    pthread_join(t, NULL);
    sc_no_thread_failures_or_fail();
    if (!up) sc_server_dump_log(&replica, 8192);
    cr_assert(up, "the replica's link never came up");
    cr_log_info("load batches: %ld before the link was up, %ld in all", at_up, atomic_load(&la.batches));

    wait_synced_or_fail(m, r, 30000);
    compare_keyspaces_or_fail(m, r);
    cr_assert_eq(sc_info_ll_or_fail(m, "stats", "sync_full"), 1);

    redisFree(r);
    redisFree(m);
    sc_server_stop_or_fail(&replica);
    sc_server_stop_or_fail(&master);
}

Test(repl_replica, full_sync_diskless_under_load)
{
    full_sync_under_load((const char *[]){"--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0", NULL},
                         false);
}

Test(repl_replica, full_sync_disk_bulk_under_load)
{
    full_sync_under_load((const char *[]){"--repl-diskless-sync", "no", NULL}, true);
}

/* ---- after the sync: stream, reads, READONLY, INFO, ROLE, partial resync,
 * promotion ---------------------------------------------------------------- */

static void expect_info_order(redisContext *r)
{
    static const char *fields[] = {"role",
                                   "master_host",
                                   "master_port",
                                   "master_link_status",
                                   "master_last_io_seconds_ago",
                                   "master_sync_in_progress",
                                   "slave_read_repl_offset",
                                   "slave_repl_offset",
                                   "slave_priority",
                                   "slave_read_only",
                                   "replica_announced",
                                   "connected_slaves",
                                   "master_failover_state",
                                   "master_replid",
                                   "master_replid2",
                                   "master_repl_offset",
                                   "second_repl_offset",
                                   "repl_backlog_active",
                                   "repl_backlog_size",
                                   "repl_backlog_first_byte_offset",
                                   "repl_backlog_histlen",
                                   NULL};
    redisReply *rep = sc_cmd_or_fail(r, "INFO replication");
    const char *p = rep->str;
    cr_assert(!strncmp(p, "# Replication\r\n", 15), "%s", p);
    p += 15;
    for (int i = 0; fields[i]; i++) {
        size_t n = strlen(fields[i]);
        cr_assert(!strncmp(p, fields[i], n) && p[n] == ':', "expected %s at: %.80s", fields[i], p);
        p = strstr(p, "\r\n");
        cr_assert(p);
        p += 2;
    }
    cr_assert_eq(*p, '\0', "unexpected tail: %s", p);
    freeReplyObject(rep);
}

Test(repl_replica, stream_readonly_info_role_partial_resync_promotion)
{
    start_master((const char *[]){"--repl-diskless-sync-delay", "0", NULL});
    redisContext *m = sc_connect_or_fail(&master);
    sc_cmd_expect_or_fail(m, "OK", "SET before sync");
    redisContext *r = start_synced_replica(&replica, m);

    /* Writes after the sync reach the replica, in every database used. */
    sc_cmd_expect_or_fail(m, "OK", "SET after 1");
    sc_cmd_ll_or_fail(m, "RPUSH l a b c");
    sc_cmd_expect_or_fail(m, "OK", "SELECT 3");
    sc_cmd_expect_or_fail(m, "OK", "SET in3 x");
    sc_cmd_expect_or_fail(m, "OK", "SELECT 0");
    sc_cmd_expect_or_fail(m, "OK", "SET shortlived v PX 300");
    wait_synced_or_fail(m, r, 10000);
    sc_cmd_expect_or_fail(r, "1", "GET after");
    sc_cmd_expect_or_fail(r, "sync", "GET before");
    cr_assert_eq(sc_cmd_ll_or_fail(r, "LLEN l"), 3);
    sc_cmd_expect_or_fail(r, "OK", "SELECT 3");
    sc_cmd_expect_or_fail(r, "x", "GET in3");
    sc_cmd_expect_or_fail(r, "OK", "SELECT 0");
    /* The master expires the key (here on access) and sends DEL. */
    cr_assert(SC_WAIT_FOR(sc_cmd_ll_or_fail(m, "EXISTS shortlived") == 0, 10000));
    wait_synced_or_fail(m, r, 10000);
    cr_assert_eq(sc_cmd_ll_or_fail(r, "EXISTS shortlived"), 0);

    /* Writes on the replica are refused. */
    sc_cmd_expect_or_fail(r, "READONLY You can't write against a read only replica.", "SET x y");
    sc_cmd_expect_or_fail(r, "READONLY You can't write against a read only replica.", "DEL after");
    sc_cmd_expect_or_fail(r, "OK", "MULTI");
    sc_cmd_expect_or_fail(r, "READONLY You can't write against a read only replica.", "INCR n");
    sc_cmd_expect_or_fail(r, "EXECABORT Transaction discarded because of previous errors.", "EXEC");

    /* INFO replication and ROLE. */
    expect_info_order(r);
    char v[128];
    cr_assert(sc_repl_info_str(r, "replication", "role", v, sizeof v) && !strcmp(v, "slave"));
    cr_assert(sc_repl_info_str(r, "replication", "master_host", v, sizeof v) && !strcmp(v, "127.0.0.1"));
    cr_assert_eq(sc_info_ll_or_fail(r, "replication", "master_port"), master.port);
    cr_assert_eq(sc_info_ll_or_fail(r, "replication", "master_sync_in_progress"), 0);
    cr_assert_eq(sc_info_ll_or_fail(r, "replication", "slave_read_only"), 1);
    char mid[64], rid[64];
    cr_assert(sc_repl_info_str(m, "replication", "master_replid", mid, sizeof mid));
    cr_assert(sc_repl_info_str(r, "replication", "master_replid", rid, sizeof rid));
    cr_assert_str_eq(rid, mid, "the replica takes its master's replid");
    redisReply *role = sc_cmd_or_fail(r, "ROLE");
    cr_assert_eq(role->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(role->elements, 5);
    cr_assert_str_eq(role->element[0]->str, "slave");
    cr_assert_str_eq(role->element[1]->str, "127.0.0.1");
    cr_assert_eq(role->element[2]->integer, master.port);
    cr_assert_str_eq(role->element[3]->str, "connected");
    cr_assert_eq(role->element[4]->integer, sc_info_ll_or_fail(r, "replication", "slave_repl_offset"));
    freeReplyObject(role);
    /* The master sees us as an online replica with our ACKed offset. */
    cr_assert(SC_WAIT_FOR(sc_repl_info_str(m, "replication", "slave0", v, sizeof v) && strstr(v, "state=online"),
                          10000));

    /* REPLCONF GETACK from the master (WAIT sends one): the replica answers
     * with its offset at once; the ACKs every second show in the master's
     * INFO. */
    sc_cmd_expect_or_fail(m, "OK", "SET acked 1");
    cr_assert_eq(sc_cmd_ll_or_fail(m, "WAIT 1 5000"), 1);
    cr_assert(SC_WAIT_FOR(sc_repl_info_str(m, "replication", "slave0", v, sizeof v) &&
                              strstr(v, "offset=") &&
                              strtoll(strstr(v, "offset=") + 7, NULL, 10) ==
                                  sc_info_ll_or_fail(m, "replication", "master_repl_offset"),
                          10000),
              "master sees %s, its offset %lld", v, sc_info_ll_or_fail(m, "replication", "master_repl_offset"));
    long long full = sc_info_ll_or_fail(m, "stats", "sync_full");
    long long pok = sc_info_ll_or_fail(m, "stats", "sync_partial_ok");
    /* The master drops the link: the replica comes back with a partial
     * resync and gets what it missed. */
    cr_assert_eq(sc_cmd_ll_or_fail(m, "CLIENT KILL TYPE replica"), 1);
    sc_cmd_expect_or_fail(m, "OK", "SET during cut");
    for (int i = 0; i < 100; i++) sc_cmd_ll_or_fail(m, "INCR cutcount");
    cr_assert(SC_WAIT_FOR(sc_info_ll_or_fail(m, "stats", "sync_partial_ok") == pok + 1, 20000), "no partial resync");
    cr_assert_eq(sc_info_ll_or_fail(m, "stats", "sync_full"), full, "the resync was a full one");
    wait_synced_or_fail(m, r, 10000);
    sc_cmd_expect_or_fail(r, "cut", "GET during");
    sc_cmd_expect_or_fail(r, "100", "GET cutcount");
    compare_keyspaces_or_fail(m, r);

    /* Promotion. */
    char old_replid[64];
    cr_assert(sc_repl_info_str(r, "replication", "master_replid", old_replid, sizeof old_replid));
    long long off = sc_info_ll_or_fail(r, "replication", "master_repl_offset");
    sc_cmd_expect_or_fail(r, "OK", "REPLICAOF NO ONE");
    cr_assert(sc_repl_info_str(r, "replication", "role", v, sizeof v) && !strcmp(v, "master"));
    cr_assert(sc_repl_info_str(r, "replication", "master_replid2", v, sizeof v));
    cr_assert_str_eq(v, old_replid);
    cr_assert_eq(sc_info_ll_or_fail(r, "replication", "second_repl_offset"), off + 1);
    cr_assert(sc_repl_info_str(r, "replication", "master_replid", v, sizeof v));
    cr_assert_str_neq(v, old_replid);
    sc_cmd_expect_or_fail(r, "OK", "SET promoted yes");
    sc_cmd_expect_or_fail(r, "yes", "GET promoted");
    sc_cmd_expect_or_fail(r, "cut", "GET during");
    role = sc_cmd_or_fail(r, "ROLE");
    cr_assert_eq(role->elements, 3);
    cr_assert_str_eq(role->element[0]->str, "master");
    freeReplyObject(role);
    /* The old master no longer reaches it. */
    sc_cmd_expect_or_fail(m, "OK", "SET after-promotion 1");
    cr_assert(SC_WAIT_FOR(sc_info_ll_or_fail(m, "replication", "connected_slaves") == 0, 10000));
    cr_assert_eq(sc_cmd_ll_or_fail(r, "EXISTS after-promotion"), 0);

    /* And REPLICAOF again: full resync (our history is new to the master). */
    sc_cmd_expect_or_fail(r, "OK", "REPLICAOF 127.0.0.1 %d", master.port);
    wait_synced_or_fail(m, r, 30000);
    cr_assert_eq(sc_cmd_ll_or_fail(r, "EXISTS promoted"), 0);
    sc_cmd_expect_or_fail(r, "1", "GET after-promotion");

    redisFree(r);
    redisFree(m);
    sc_server_stop_or_fail(&replica);
    sc_server_stop_or_fail(&master);
}

/* ---- kill -9 and restart ---------------------------------------------- */

Test(repl_replica, killed_replica_restarts_and_resyncs)
{
    start_master((const char *[]){"--repl-diskless-sync-delay", "0", NULL});
    redisContext *m = sc_connect_or_fail(&master);
    populate(m);
    redisContext *r = start_synced_replica(&replica, m);
    redisFree(r);

    sc_server_kill9(&replica); /* nothing left to stop */
    sc_cmd_expect_or_fail(m, "OK", "SET while-down 1");
    cr_assert(SC_WAIT_FOR(sc_info_ll_or_fail(m, "replication", "connected_slaves") == 0, 20000));

    r = start_synced_replica(&replica2, m);
    sc_cmd_expect_or_fail(r, "1", "GET while-down");
    compare_keyspaces_or_fail(m, r);
    cr_assert_eq(sc_info_ll_or_fail(m, "stats", "sync_full"), 2);

    redisFree(r);
    redisFree(m);
    sc_server_stop_or_fail(&replica2);
    sc_server_stop_or_fail(&master);
}

/* ---- a master that sends nonsense -------------------------------------- */

#define FAKE_ID "0123456789abcdef0123456789abcdef01234567"

typedef struct {
    int lfd;
    _Atomic int accepted;
    _Atomic bool stop;
} fake_master;

/* Send all bytes (2 s bound) from the fake master. */
static void send_all(int fd, const void *p, size_t n)
{
    sc_raw_send(fd, p, n, 2000);
}

/* The RDB of one string key "key" = "val" in db 0 (checksum 0: unchecked). */
static const char GOOD_RDB[] = "REDIS0010\xfe\x00\x00\x03key\x03val\xff\x00\x00\x00\x00\x00\x00\x00\x00";
#define GOOD_RDB_LEN (sizeof GOOD_RDB - 1)

/* What the fake master answers to PSYNC on its n-th connection. */
static void fake_psync_reply(int fd, int n)
{
    char hdr[256];
    switch (n) {
    case 0: /* not a valid FULLRESYNC */
        send_all(fd, "+FULLRESYNC nonsense 5\r\n", 24);
        break;
    case 1: /* a truncated transfer */
        snprintf(hdr, sizeof hdr, "+FULLRESYNC " FAKE_ID " 0\r\n$%zu\r\n", GOOD_RDB_LEN + 100);
        send_all(fd, hdr, strlen(hdr));
        send_all(fd, GOOD_RDB, GOOD_RDB_LEN);
        break;
    case 2: /* a good RDB, then a stream of garbage */
        snprintf(hdr, sizeof hdr, "+FULLRESYNC " FAKE_ID " 0\r\n\n\n$%zu\r\n", GOOD_RDB_LEN);
        send_all(fd, hdr, strlen(hdr));
        send_all(fd, GOOD_RDB, GOOD_RDB_LEN);
        sc_sleep_ms(300);
        send_all(fd, "*abc\r\n", 6);
        break;
    case 3: { /* a complete but corrupt RDB */
        char body[300];
        memset(body, 'Q', sizeof body);
        memcpy(body, "REDIS0010\xfe\x00\x00\x03key", 15);
        snprintf(hdr, sizeof hdr, "+FULLRESYNC " FAKE_ID " 0\r\n$%zu\r\n", sizeof body);
        send_all(fd, hdr, strlen(hdr));
        send_all(fd, body, sizeof body);
        break;
    }
    case 4: { /* diskless: garbage then the EOF mark */
        static const char mark[] = "abcdefghijabcdefghijabcdefghijabcdefghij";
        snprintf(hdr, sizeof hdr, "+FULLRESYNC " FAKE_ID " 0\r\n$EOF:%s\r\n", mark);
        send_all(fd, hdr, strlen(hdr));
        send_all(fd, "garbage garbage garbage", 23);
        send_all(fd, mark, 40);
        break;
    }
    default:
        send_all(fd, "-ERR go away\r\n", 14);
        break;
    }
}

/* Accept replicas, answer PING / REPLCONF, and PSYNC with fake_psync_reply. */
static void *fake_master_thread(void *p)
{
    fake_master *f = p;
    while (!atomic_load(&f->stop)) {
        struct pollfd pf = {.fd = f->lfd, .events = POLLIN};
        if (poll(&pf, 1, 100) <= 0) continue;
        int fd = accept(f->lfd, NULL, NULL);
        if (fd < 0) continue;
        int n = atomic_load(&f->accepted);
        char buf[4096], line[4096];
        size_t ll = 0;
        bool done = false;
        long long deadline = sc_now_ms() + 5000;
        while (!done && !atomic_load(&f->stop) && sc_now_ms() < deadline) {
            struct pollfd cp = {.fd = fd, .events = POLLIN};
            if (poll(&cp, 1, 100) <= 0) continue;
            ssize_t got = read(fd, buf, sizeof buf);
            if (got <= 0) break;
            for (ssize_t i = 0; i < got && !done; i++) {
                if (buf[i] != '\n') {
                    if (ll < sizeof line - 1) line[ll++] = buf[i];
                    continue;
                }
                if (ll && line[ll - 1] == '\r') ll--;
                line[ll] = '\0';
                ll = 0;
                if (!strcasecmp(line, "PING")) send_all(fd, "+PONG\r\n", 7);
                else if (!strcasecmp(line, "REPLCONF")) send_all(fd, "+OK\r\n", 5);
                else if (!strcasecmp(line, "PSYNC")) {
                    /* its two arguments follow; answer once they are in */
                    fake_psync_reply(fd, n);
                    done = true;
                }
            }
        }
        atomic_fetch_add(&f->accepted, 1);
        sc_sleep_ms(200);
        close(fd);
    }
    return NULL;
}

Test(repl_replica, garbage_from_master_drops_link_never_partial)
{
    fake_master f = {.lfd = socket(AF_INET, SOCK_STREAM, 0)};
    cr_assert(f.lfd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert(bind(f.lfd, (struct sockaddr *)&a, sizeof a) == 0);
    cr_assert(listen(f.lfd, 16) == 0);
    socklen_t al = sizeof a;
    getsockname(f.lfd, (struct sockaddr *)&a, &al);
    pthread_t t;
    pthread_create(&t, NULL, fake_master_thread, &f);

    sc_server_start_or_fail(&replica, (const char *[]){"--threads", "2", NULL});
    redisContext *r = sc_connect_or_fail(&replica);
    sc_cmd_expect_or_fail(r, "OK", "SET old value");
    sc_cmd_expect_or_fail(r, "OK", "REPLICAOF 127.0.0.1 %d", ntohs(a.sin_port));

    /* conn 0 (bad FULLRESYNC) and 1 (truncated): the old data stays. */
    cr_assert(SC_WAIT_FOR(atomic_load(&f.accepted) >= 2, 20000));
    cr_assert(SC_WAIT_FOR(atomic_load(&f.accepted) >= 3, 20000));
    /* conn 2: a good RDB was loaded before the garbage stream dropped the link. */
    cr_assert(SC_WAIT_FOR(atomic_load(&f.accepted) >= 4, 20000));
    /* conn 3 and 4: corrupt RDBs leave the replica empty (never partial). */
    cr_assert(SC_WAIT_FOR(atomic_load(&f.accepted) >= 6, 30000), "the replica stopped retrying");
    redisReply *rep = sc_cmd_or_fail(r, "DBSIZE");
    cr_assert_eq(rep->type, REDIS_REPLY_INTEGER, "DBSIZE: %s", rep->str ? rep->str : "?");
    cr_assert_eq(rep->integer, 0);
    freeReplyObject(rep);
    sc_cmd_expect_or_fail(r, "PONG", "PING");
    char v[32];
    cr_assert(sc_repl_info_str(r, "replication", "master_link_status", v, sizeof v) && !strcmp(v, "down"));
    /* With replica-serve-stale-data no, a down link refuses data commands. */
    sc_cmd_expect_or_fail(r, "OK", "CONFIG SET replica-serve-stale-data no");
    cr_assert(SC_WAIT_FOR(({
                              redisReply *g = sc_cmd_or_fail(r, "GET key");
                              bool down = g->type == REDIS_REPLY_ERROR && !strcmp(g->str,
                                  "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.");
                              freeReplyObject(g);
                              down;
                          }),
                          5000));
    /* As in Redis 7.0, PING has no `stale` flag; INFO and CONFIG do. */
    sc_cmd_expect_or_fail(r, "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
                          "PING");
    cr_assert_eq(sc_info_ll_or_fail(r, "replication", "master_sync_in_progress"), 0);
    sc_cmd_expect_or_fail(r, "OK", "CONFIG SET replica-serve-stale-data yes");
    sc_cmd_expect_or_fail(r, "OK", "REPLICAOF NO ONE");

    atomic_store(&f.stop, true);
    pthread_join(t, NULL);
    close(f.lfd);
    redisFree(r);
    sc_server_stop_or_fail(&replica);
}

/* The replica of a master that needs a password, with masterauth. */
Test(repl_replica, masterauth)
{
    start_master((const char *[]){"--requirepass", "s3cret", "--repl-diskless-sync-delay", "0", NULL});
    redisContext *m = sc_connect_or_fail(&master);
    sc_cmd_expect_or_fail(m, "OK", "SET authed yes");
    char port[16];
    snprintf(port, sizeof port, "%d", master.port);
    sc_server_start_or_fail(&replica, (const char *[]){"--masterauth", "s3cret", "--replicaof", "127.0.0.1", port,
                                                       NULL});
    redisContext *r = sc_connect_or_fail(&replica);
    wait_synced_or_fail(m, r, 30000);
    sc_cmd_expect_or_fail(r, "yes", "GET authed");
    redisFree(r);
    redisFree(m);
    sc_server_stop_or_fail(&replica);
    sc_server_stop_or_fail(&master);
}
