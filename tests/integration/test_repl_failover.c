/*
 * test_repl_failover.c - the standalone FAILOVER command (Redis 7.0,
 * cluster/repl_failover.c): a master hands over to its replica.
 *
 * - every error of FAILOVER and of PSYNC ... FAILOVER, sent side by side to
 *   a slotcache pair and a redis-server pair (and a cluster-mode node of
 *   each): the same replies;
 * - FAILOVER under a write load, slotcache -> slotcache, slotcache ->
 *   redis-server and redis-server -> slotcache: the roles swap, the old
 *   master continues the new one's history with a partial resync, and the
 *   counter the load INCRs holds exactly the INCRs that were acknowledged
 *   (a paused write waits, then runs or is refused, never half-done);
 * - with the replica stopped (SIGSTOP): FAILOVER waits (waiting-for-sync,
 *   a write waits), ABORT runs the held write, TIMEOUT gives up by itself, and
 *   TO ... FORCE TIMEOUT hands over anyway once the replica runs again.
 *
 * Every wait is a bounded poll; every server is stopped by the test.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "repl_compare.h"
#include "server_proc.h"
#include "thread_fail.h"

TestSuite(repl_failover, .fini = sc_server_cleanup, .timeout = 300);

/* ---- nodes -------------------------------------------------------------- */

/* Start slotcache (redis NULL) or redis-server; a replica of `master` when
 * it is not NULL; `extra` (NULL-terminated, may be NULL) last. */
static void start_node(sc_server *s, const char *redis, const sc_server *master, const char *const *extra)
{
    const char *args[24];
    char port[16];
    int n = 0;
    args[n++] = "--repl-diskless-sync";
    args[n++] = "yes";
    args[n++] = "--repl-diskless-sync-delay";
    args[n++] = "0";
    static const char *const two_threads[] = {"--threads", "2"}; /* run-tests.sh: a TSan suite */
    if (!redis) {
        args[n++] = two_threads[0];
        args[n++] = two_threads[1];
    }
    for (int i = 0; extra && extra[i] && n < 16; i++) args[n++] = extra[i];
    if (master) {
        snprintf(port, sizeof port, "%d", master->port);
        args[n++] = "--replicaof";
        args[n++] = "127.0.0.1";
        args[n++] = port;
    }
    args[n] = NULL;
    if (redis)
        sc_server_start_bin_or_fail(s, redis, args);
    else
        sc_server_start_or_fail(s, args);
}

static void info_text(redisContext *c, const char *name, char *out, size_t n)
{
    sc_repl_info_str(c, "replication", name, out, n);
}

static bool info_is(redisContext *c, const char *name, const char *want)
{
    char v[128];
    info_text(c, name, v, sizeof v);
    return strcmp(v, want) == 0;
}

static long long info_ll(redisContext *c, const char *name) { return sc_info_ll_or_fail(c, "replication", name); }

/* r follows m, its link is up, and m lists it online with every byte
 * acknowledged: FAILOVER can pick it. */
static bool replica_ready(redisContext *m, redisContext *r, int rport)
{
    if (!sc_repl_link_up(r)) return false;
    char line[256], want[64];
    info_text(m, "slave0", line, sizeof line);
    snprintf(want, sizeof want, "port=%d,state=online", rport);
    return strstr(line, want) && info_ll(r, "slave_repl_offset") == info_ll(m, "master_repl_offset");
}

static void wait_ready_or_fail(redisContext *m, redisContext *r, const sc_server *rs)
{
    if (!SC_WAIT_FOR(replica_ready(m, r, rs->port), 20000)) {
        sc_server_dump_log(rs, 4096);
        cr_assert_fail("the replica on port %d never became an online, synced replica", rs->port);
    }
}

/* The reply as text, error or not. */
static void reply_of(redisContext *c, const char *line, char *out, size_t n)
{
    redisReply *r = sc_cmd_line_or_fail(c, line);
    sc_reply_text(r, out, n);
    freeReplyObject(r);
}

/* ---- errors, compared with redis-server --------------------------------- */

/* The lines sent to a master with one replica, then to that replica. */
static const char *const master_lines[] = {
    "FAILOVER FOO",
    "FAILOVER TIMEOUT 0",
    "FAILOVER TIMEOUT -5",
    "FAILOVER TIMEOUT abc",
    "FAILOVER TIMEOUT 10 TIMEOUT 20",
    "FAILOVER TO 127.0.0.1",
    "FAILOVER TO 127.0.0.1 abc",
    "FAILOVER FORCE FORCE",
    "FAILOVER FORCE",
    "FAILOVER FORCE TIMEOUT 100",
    "FAILOVER TO 127.0.0.1 1 FORCE",
    "FAILOVER TO 127.0.0.1 1",
    "FAILOVER TO 10.9.8.7 1 TIMEOUT 100",
    "FAILOVER ABORT",
    "FAILOVER ABORT ABORT",
    "PSYNC 0123456789012345678901234567890123456789 1 FAILOVER",
};
static const char *const replica_lines[] = {
    "FAILOVER",
    "FAILOVER ABORT",
    "FAILOVER TIMEOUT 100",
    "PSYNC 0123456789012345678901234567890123456789 1 FAILOVER",
    "REPLICAOF NO ONE NOW",
};
#define NM (sizeof master_lines / sizeof master_lines[0])
#define NR (sizeof replica_lines / sizeof replica_lines[0])

/* The replies of a master with one replica and of that replica, and of a
 * lone master (FAILOVER without replicas). */
static void error_replies(const char *redis, char out[][256], int *nout)
{
    sc_server m = {0}, r = {0};
    start_node(&m, redis, NULL, NULL);
    redisContext *mc = sc_connect_or_fail(&m);
    int k = 0;
    reply_of(mc, "FAILOVER", out[k++], 256);            /* no replica yet */
    reply_of(mc, "FAILOVER TO 127.0.0.1 1", out[k++], 256);
    start_node(&r, redis, &m, NULL);
    redisContext *rc = sc_connect_or_fail(&r);
    wait_ready_or_fail(mc, rc, &r);
    for (size_t i = 0; i < NM; i++) reply_of(mc, master_lines[i], out[k++], 256);
    for (size_t i = 0; i < NR; i++) reply_of(rc, replica_lines[i], out[k++], 256);
    /* Nothing above started a failover: still master and replica. */
    cr_assert(info_is(mc, "master_failover_state", "no-failover"));
    cr_assert(info_is(rc, "role", "slave") && info_is(mc, "role", "master"));
    redisFree(rc);
    redisFree(mc);
    sc_server *const both[] = {&r, &m};
    sc_server_stop_many_or_fail(both, 2, false);
    /* Cluster mode. */
    sc_server c = {0};
    char bus[16];
    snprintf(bus, sizeof bus, "%d", sc_free_port_or_fail());
    start_node(&c, redis, NULL, (const char *[]){"--cluster-enabled", "yes", "--cluster-port", bus, NULL});
    redisContext *cc = sc_connect_or_fail(&c);
    reply_of(cc, "FAILOVER", out[k++], 256);
    reply_of(cc, "FAILOVER ABORT", out[k++], 256);
    redisFree(cc);
    sc_server_stop_or_fail(&c);
    *nout = k;
}

Test(repl_failover, errors_as_redis)
{
    const char *redis = sc_repl_redis_or_skip();
    static char mine[64][256], ref[64][256];
    int nm = 0, nr = 0;
    error_replies(NULL, mine, &nm);
    error_replies(redis, ref, &nr);
    cr_assert_eq(nm, nr);
    const char *what[64] = {"FAILOVER (no replica)", "FAILOVER TO (no replica)"};
    for (size_t i = 0; i < NM; i++) what[2 + i] = master_lines[i];
    for (size_t i = 0; i < NR; i++) what[2 + NM + i] = replica_lines[i];
    what[2 + NM + NR] = "FAILOVER (cluster mode)";
    what[3 + NM + NR] = "FAILOVER ABORT (cluster mode)";
    int differ = 0;
    for (int i = 0; i < nm; i++)
        if (strcmp(mine[i], ref[i])) {
            cr_log_error("%s: slotcache '%s', redis-server '%s'", what[i], mine[i], ref[i]);
            differ++;
        }
    cr_assert_eq(differ, 0, "%d replies differ from redis-server's", differ);
    /* Not vacuous: the errors are there. */
    cr_assert(strstr(mine[0], "requires connected replicas"), "%s", mine[0]);
    cr_assert(strstr(mine[nm - 2], "cluster mode"), "%s", mine[nm - 2]);
}

/* ---- FAILOVER under a write load ----------------------------------------- */

typedef struct {
    int port;
    atomic_bool stop;
    atomic_long acked;    /* INCRs answered with an integer */
    atomic_long refused;  /* answered with an error (READONLY once handed over) */
} load;

/* INCR fo:counter on the old master, one at a time, until told to stop;
 * reconnects when the master closes the connection (it may, on becoming a
 * replica). */
static void *load_main(void *arg)
{
    load *l = arg;
    redisContext *c = sc_repl_thread_connect(l->port, "load");
    for (int i = 0; c && !atomic_load(&l->stop) && i < 2000000; i++) {
        redisReply *r = redisCommand(c, "INCR fo:counter");
        if (!r) {
            sc_thread_fail("load: the connection broke: %s", c->errstr);
            break;
        }
        if (r->type == REDIS_REPLY_INTEGER)
            atomic_fetch_add(&l->acked, 1);
        else if (r->type == REDIS_REPLY_ERROR)
            atomic_fetch_add(&l->refused, 1);
        else
            sc_thread_fail("load: INCR answered type %d", r->type);
        freeReplyObject(r);
    }
    if (c) redisFree(c);
    return NULL;
}

/* Master `mredis` (NULL: slotcache) hands over to replica `rredis` while a
 * load INCRs on the master. */
static void handover(const char *mredis, const char *rredis, bool name_target)
{
    sc_server m = {0}, r = {0};
    start_node(&m, mredis, NULL, NULL);
    start_node(&r, rredis, &m, NULL);
    redisContext *mc = sc_connect_or_fail(&m), *rc = sc_connect_or_fail(&r);
    wait_ready_or_fail(mc, rc, &r);
    long long full_before = sc_info_ll_or_fail(rc, "stats", "sync_full");

    sc_thread_fail_reset();
    load l = {.port = m.port};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, load_main, &l), 0);
    cr_assert(SC_WAIT_FOR(atomic_load(&l.acked) >= 2000, 20000), "the load never got going");
    if (name_target)
        sc_cmd_expect_or_fail(mc, "OK", "FAILOVER TO 127.0.0.1 %d", r.port);
    else
        sc_cmd_expect_or_fail(mc, "OK", "FAILOVER");
    bool swapped = SC_WAIT_FOR(info_is(mc, "role", "slave") && info_is(rc, "role", "master") &&
                                   info_is(mc, "master_failover_state", "no-failover") && sc_repl_link_up(mc),
                               20000);
    long long refused_at_swap = atomic_load(&l.refused);
    /* Let the load meet the new role (READONLY) before stopping it. */
    SC_WAIT_FOR(atomic_load(&l.refused) > refused_at_swap + 10, 5000);
    atomic_store(&l.stop, true);
    pthread_join(t, NULL);
    if (!swapped) {
        sc_server_dump_log(&m, 4096);
        sc_server_dump_log(&r, 4096);
    }
    cr_assert(swapped, "the roles did not swap");
    sc_no_thread_failures_or_fail();

    /* Every acknowledged INCR, and nothing else, is on the new master. */
    long long acked = atomic_load(&l.acked);
    redisReply *v = sc_cmd_or_fail(rc, "GET fo:counter");
    cr_assert(v->type == REDIS_REPLY_STRING, "no counter on the new master");
    long long have = atoll(v->str);
    freeReplyObject(v);
    cr_assert_eq(have, acked, "the new master holds %lld INCRs, %lld were acknowledged (%ld refused)", have, acked,
                 atomic_load(&l.refused));
    /* The old master continued the new one's history: no full sync. */
    cr_assert_eq(sc_info_ll_or_fail(rc, "stats", "sync_full"), full_before, "the old master resynced fully");
    cr_assert_geq(sc_info_ll_or_fail(rc, "stats", "sync_partial_ok"), 1);
    char id[64];
    info_text(rc, "master_replid2", id, sizeof id);
    cr_assert(strspn(id, "0") != strlen(id), "the new master has no previous history");
    /* The new master takes writes, the old one forwards them. */
    sc_cmd_expect_or_fail(rc, "OK", "SET fo:after yes");
    cr_assert(SC_WAIT_FOR(({
                              redisReply *g = sc_cmd_or_fail(mc, "GET fo:after");
                              bool ok = sc_reply_is(g, "yes");
                              freeReplyObject(g);
                              ok;
                          }),
                          10000),
              "the old master does not replicate the new one");
    redisReply *ro = sc_cmd_or_fail(mc, "SET fo:x 1");
    cr_assert(ro->type == REDIS_REPLY_ERROR && !strncmp(ro->str, "READONLY", 8));
    freeReplyObject(ro);
    cr_log_info("FAILOVER %s -> %s: %lld INCRs acknowledged, %ld refused", mredis ? "redis" : "slotcache",
                rredis ? "redis" : "slotcache", acked, atomic_load(&l.refused));
    redisFree(mc);
    redisFree(rc);
    sc_server *const both[] = {&m, &r};
    sc_server_stop_many_or_fail(both, 2, false);
}

Test(repl_failover, slotcache_to_slotcache_under_load) { handover(NULL, NULL, false); }

Test(repl_failover, slotcache_to_redis_under_load) { handover(NULL, sc_repl_redis_or_skip(), true); }

Test(repl_failover, redis_to_slotcache_under_load) { handover(sc_repl_redis_or_skip(), NULL, true); }

/* ---- a replica that does not catch up ------------------------------------ */

static void expect_error_prefix(redisContext *c, const char *prefix, const char *line)
{
    char out[256];
    reply_of(c, line, out, sizeof out);
    cr_assert(!strncmp(out, prefix, strlen(prefix)), "%s: '%s', expected %s...", line, out, prefix);
}

Test(repl_failover, abort_timeout_and_force)
{
    sc_server m = {0}, r = {0};
    /* The replica is stopped for a while: the master must not drop it
     * (repl-timeout) before the test is done with it, however slow. */
    start_node(&m, NULL, NULL, (const char *[]){"--repl-timeout", "3600", NULL});
    start_node(&r, NULL, &m, NULL);
    redisContext *mc = sc_connect_or_fail(&m), *rc = sc_connect_or_fail(&r);
    wait_ready_or_fail(mc, rc, &r);
    cr_assert_eq(kill(r.pid, SIGSTOP), 0);

    /* ABORT: a write waits while the master waits for its replica (reads
     * go on), then runs once the failover is aborted. */
    sc_cmd_expect_or_fail(mc, "OK", "SET k before");
    sc_cmd_expect_or_fail(mc, "OK", "SET ttlkey v PX 150");
    /* A BLPOP, and a transaction that feeds it and is still running (DEBUG
     * SLEEP) when the pause begins: the pop's wake-up comes while writes are
     * paused and must not be lost (it is served once the pause ends). */
    int pop = sc_raw_connect_or_fail(m.port);
    sc_raw_send_line_or_fail(pop, "BLPOP q 0");
    cr_assert(SC_WAIT_FOR(sc_info_ll_or_fail(mc, "clients", "blocked_clients") == 1, 5000));
    int feed = sc_raw_connect_or_fail(m.port);
    sc_raw_send_line_or_fail(feed, "MULTI");
    sc_raw_send_line_or_fail(feed, "LPUSH q v1");
    sc_raw_send_line_or_fail(feed, "DEBUG SLEEP 0.3");
    cr_assert(sc_raw_expect(feed, "+OK\r\n+QUEUED\r\n+QUEUED\r\n", sc_scaled_ms(5000)));
    int tx = sc_raw_connect_or_fail(m.port); /* a transaction queued before the pause */
    sc_raw_send_line_or_fail(tx, "MULTI");
    sc_raw_send_line_or_fail(tx, "INCR tx");
    cr_assert(sc_raw_expect(tx, "+OK\r\n+QUEUED\r\n", sc_scaled_ms(5000)));
    /* The feeding EXEC goes first: it runs (and sleeps) when the pause
     * begins, or, on a slow machine, it is itself held by the pause; either
     * way its reply is complete once the pause ended (checked below). */
    sc_raw_send_line_or_fail(feed, "EXEC");
    sc_cmd_expect_or_fail(mc, "OK", "FAILOVER TO 127.0.0.1 %d", r.port);
    cr_assert(info_is(mc, "master_failover_state", "waiting-for-sync"));
    int held = sc_raw_connect_or_fail(m.port);
    sc_raw_send_line_or_fail(held, "SET k during");
    sc_raw_send_line_or_fail(tx, "EXEC");
    cr_assert(sc_raw_quiet(held, 300), "a write was answered while writes were paused");
    cr_assert(sc_raw_quiet(tx, 50), "an EXEC with a write was answered while writes were paused");
    redisReply *g = sc_cmd_or_fail(mc, "GET k");
    cr_assert(sc_reply_is(g, "before"), "the paused write ran");
    freeReplyObject(g);
    /* The feeding EXEC: done within its sleep and some if it began before
     * the pause (then nothing else moves the offset), held otherwise. */
    static const char fed[] = "*2\r\n:1\r\n+OK\r\n";
    char got[sizeof fed] = "";
    bool fed_early = sc_raw_recv_exact(feed, got, sizeof fed - 1, sc_scaled_ms(2000)) == sizeof fed - 1;
    cr_assert(!fed_early || !memcmp(got, fed, sizeof fed - 1), "EXEC answered '%s'", got);
    /* An expired key reads as missing but is not deleted while paused:
     * the replication offset does not move (Redis 7.0's expireIfNeeded). */
    long long off = info_ll(mc, "master_repl_offset");
    cr_assert(SC_WAIT_FOR(({
                              redisReply *t = sc_cmd_or_fail(mc, "GET ttlkey");
                              bool gone = t->type == REDIS_REPLY_NIL;
                              freeReplyObject(t);
                              gone;
                          }),
                          5000));
    cr_assert_eq(info_ll(mc, "master_repl_offset"), off, "a read of an expired key moved the offset while paused");
    expect_error_prefix(mc, "ERR FAILOVER already in progress.", "FAILOVER");
    expect_error_prefix(mc, "ERR REPLICAOF not allowed while failing over.", "REPLICAOF 127.0.0.1 1");
    sc_cmd_expect_or_fail(mc, "OK", "FAILOVER ABORT");
    cr_assert(sc_raw_expect(held, "+OK\r\n", sc_scaled_ms(5000)), "the held write did not run after ABORT");
    cr_assert(sc_raw_expect(tx, "*1\r\n:1\r\n", sc_scaled_ms(5000)), "the held EXEC did not run after ABORT");
    if (!fed_early) cr_assert(sc_raw_expect(feed, fed, sc_scaled_ms(5000)), "the held feeding EXEC did not run");
    close(feed);
    cr_assert(sc_raw_expect(pop, "*2\r\n$1\r\nq\r\n$2\r\nv1\r\n", sc_scaled_ms(5000)),
              "the BLPOP woken during the pause was not served after it");
    close(held);
    close(tx);
    close(pop);
    cr_assert(info_is(mc, "master_failover_state", "no-failover") && info_is(mc, "role", "master"));
    g = sc_cmd_or_fail(mc, "GET k");
    cr_assert(sc_reply_is(g, "during"));
    freeReplyObject(g);
    sc_cmd_expect_or_fail(mc, "OK", "SET k after-abort");

    /* TIMEOUT without FORCE gives up by itself. */
    sc_cmd_expect_or_fail(mc, "OK", "FAILOVER TIMEOUT 300");
    cr_assert(SC_WAIT_FOR(info_is(mc, "master_failover_state", "no-failover"), 10000),
              "FAILOVER TIMEOUT 300 never gave up");
    cr_assert(info_is(mc, "role", "master"));
    sc_cmd_expect_or_fail(mc, "OK", "SET k after-timeout");

    /* FORCE: past the timeout the master hands over anyway; the handover
     * completes once the replica runs again. */
    sc_cmd_expect_or_fail(mc, "OK", "FAILOVER TO 127.0.0.1 %d FORCE TIMEOUT 300", r.port);
    bool in_progress = SC_WAIT_FOR(info_is(mc, "master_failover_state", "failover-in-progress"), 10000);
    cr_assert_eq(kill(r.pid, SIGCONT), 0);
    cr_assert(in_progress, "FORCE did not go on past its timeout");
    bool swapped = SC_WAIT_FOR(info_is(mc, "role", "slave") && info_is(rc, "role", "master") &&
                                   info_is(mc, "master_failover_state", "no-failover") && sc_repl_link_up(mc),
                               20000);
    if (!swapped) {
        sc_server_dump_log(&m, 4096);
        sc_server_dump_log(&r, 4096);
    }
    cr_assert(swapped, "FORCE did not hand over");
    /* FORCE may lose what the replica had not applied (all of it when the
     * replica, resumed after a long stop, times its link out before it
     * reads what was buffered); the two agree on what the new master has:
     * nothing, or one of the values written. */
    sc_cmd_expect_or_fail(rc, "OK", "SET fo:mark 1");
    cr_assert(SC_WAIT_FOR(sc_repl_link_up(mc) &&
                              info_ll(mc, "slave_repl_offset") == info_ll(rc, "master_repl_offset"),
                          10000));
    redisReply *v = sc_cmd_or_fail(rc, "GET k"), *w = sc_cmd_or_fail(mc, "GET k");
    char tv[64], tw[64];
    sc_reply_text(v, tv, sizeof tv);
    sc_reply_text(w, tw, sizeof tw);
    cr_assert(!strcmp(tv, tw), "k is '%s' on the new master, '%s' on the old one", tv, tw);
    cr_assert(v->type == REDIS_REPLY_NIL || !strcmp(tv, "before") || !strcmp(tv, "during") ||
                  !strcmp(tv, "after-abort") || !strcmp(tv, "after-timeout"),
              "k is '%s'", tv);
    freeReplyObject(v);
    freeReplyObject(w);
    redisFree(mc);
    redisFree(rc);
    sc_server *const both[] = {&m, &r};
    sc_server_stop_many_or_fail(both, 2, false);
}

/* An idle, synced pair: FAILOVER with a TIMEOUT completes well within it
 * (nothing moves the offset during the pause, so the replica's next ACK
 * matches it). */
Test(repl_failover, idle_pair_within_timeout)
{
    sc_server m = {0}, r = {0};
    start_node(&m, NULL, NULL, NULL);
    start_node(&r, NULL, &m, NULL);
    redisContext *mc = sc_connect_or_fail(&m), *rc = sc_connect_or_fail(&r);
    sc_cmd_expect_or_fail(mc, "OK", "SET k v");
    wait_ready_or_fail(mc, rc, &r);
    for (int i = 0; i < 3; i++) {
        redisContext *from = i % 2 ? rc : mc, *to = i % 2 ? mc : rc;
        sc_cmd_expect_or_fail(from, "OK", "FAILOVER TIMEOUT 5000");
        bool swapped = SC_WAIT_FOR(info_is(from, "role", "slave") && info_is(to, "role", "master") &&
                                       info_is(from, "master_failover_state", "no-failover") && sc_repl_link_up(from),
                                   10000);
        cr_assert(swapped, "round %d: an idle FAILOVER TIMEOUT 5000 did not hand over", i);
        /* The next round starts from a synced pair again. */
        wait_ready_or_fail(to, from, i % 2 ? &r : &m);
    }
    redisReply *v = sc_cmd_or_fail(rc, "GET k");
    cr_assert(sc_reply_is(v, "v"));
    freeReplyObject(v);
    redisFree(mc);
    redisFree(rc);
    sc_server *const both[] = {&m, &r};
    sc_server_stop_many_or_fail(both, 2, false);
}
