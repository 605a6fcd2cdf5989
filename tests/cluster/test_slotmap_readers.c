/*
 * test_slotmap_readers.c - the published slot map swapped under readers:
 * four clients pipeline GETs of keys of every slot range into one slotcache
 * node (three worker threads, so every read routes through the map on
 * another thread than the one publishing) while that node publishes new
 * maps again and again: CLUSTER MEET / CLUSTER FORGET of a spare node run
 * on its workers, CONFIG SET cluster-preferred-endpoint-type flips make its
 * bus thread publish. Every reply must be a value, a nil or a -MOVED to a
 * node of the cluster, and the nodes must stop cleanly: under the TSan
 * build (run-tests.sh's threaded stage) that means no race report, which
 * the freeing of an old map while a reader's section could still hold it
 * raised until slotmap.c told ThreadSanitizer the order ck_epoch gives.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_proc.h"
#include "thread_fail.h"

TestSuite(slotmap_readers, .fini = sc_cluster_cleanup, .timeout = 180);

#define READERS 4
#define PIPELINE 20
#define KEYS 300
#define RUN_MS 4000

static sc_cluster c;
static atomic_bool stop;
static atomic_long replies;

/* Nodes 0-2 (the cluster) say cluster_state:ok. */
static bool three_ok(sc_cluster *cl, void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++)
        if (!sc_cluster_state_ok(cl, i)) return false;
    return true;
}

/* -MOVED <slot> <endpoint>:<port> to a node of the cluster (the endpoint
 * is the ip, or "?" while the type is hostname: no node announces one). */
static bool moved_to_member(const char *err)
{
    int port;
    if (sscanf(err, "MOVED %*d %*[^:]:%d", &port) != 1) return false;
    for (int i = 0; i < 3; i++)
        if (port == sc_cluster_port(&c, i)) return true;
    return false;
}

static void *reader(void *arg)
{
    int id = (int)(long)arg;
    redisContext *ctx = sc_thread_connect(&c.node[0], 10000);
    for (int round = 0; ctx && !atomic_load(&stop) && !sc_thread_failures(); round++) {
        for (int k = 0; k < PIPELINE; k++) redisAppendCommand(ctx, "GET key:%d", (id * 7919 + round * PIPELINE + k) % KEYS);
        for (int k = 0; k < PIPELINE; k++) {
            redisReply *r = NULL;
            if (redisGetReply(ctx, (void **)&r) != REDIS_OK || !r) {
                sc_thread_fail("reader %d: connection broke: %s", id, ctx->errstr);
                redisFree(ctx);
                return NULL;
            }
            bool ok = r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_NIL ||
                      (r->type == REDIS_REPLY_ERROR && moved_to_member(r->str));
            if (!ok) sc_thread_fail("reader %d: unexpected reply (type %d) %s", id, r->type, r->str ? r->str : "");
            freeReplyObject(r);
            atomic_fetch_add(&replies, 1);
        }
    }
    if (ctx) redisFree(ctx);
    return NULL;
}

/* r (a reply from node i) is +OK; freed. */
static void expect_ok(int i, const char *what, redisReply *r)
{
    cr_assert(sc_reply_is(r, "OK"), "node %d: %s: %s", i, what, r->str ? r->str : "(not a string)");
    freeReplyObject(r);
}

Test(slotmap_readers, publications_under_readers)
{
    /* Nodes 0-2 own the slots, node 3 is the spare met and forgotten. */
    sc_cluster_opts o = { .extra_args = (const char *[]){ "--threads", "3", NULL } };
    sc_cluster_start_or_fail(&c, 4, &o);
    sc_cluster_addslots_split_or_fail(&c, 3);
    for (int i = 1; i < 3; i++)
        expect_ok(i, "CLUSTER MEET", sc_cluster_cmd_or_fail(&c, i, "CLUSTER MEET 127.0.0.1 %d", sc_cluster_port(&c, 0)));
    if (!sc_cluster_wait_for(&c, three_ok, NULL, 20000)) {
        sc_cluster_log_views(&c);
        cr_assert_fail("the three nodes did not reach cluster_state:ok");
    }
    char spare[41];
    sc_cluster_myid_or_fail(&c, 3, spare);

    sc_thread_fail_reset();
    atomic_store(&stop, false);
    pthread_t t[READERS];
    for (long i = 0; i < READERS; i++) cr_assert(pthread_create(&t[i], NULL, reader, (void *)i) == 0);

    int publications = 0;
    long long end = sc_now_ms() + RUN_MS;
    while (sc_now_ms() < end && !sc_thread_failures()) {
        expect_ok(0, "CLUSTER MEET", sc_cluster_cmd_or_fail(&c, 0, "CLUSTER MEET 127.0.0.1 %d", sc_cluster_port(&c, 3)));
        expect_ok(0, "CONFIG SET", sc_cluster_cmd_or_fail(&c, 0, "CONFIG SET cluster-preferred-endpoint-type %s",
                                                          publications % 2 ? "ip" : "hostname"));
        sc_sleep_ms(150);
        /* Known by now, or still in handshake under another name. */
        redisReply *r = sc_cluster_cmd_or_fail(&c, 0, "CLUSTER FORGET %s", spare);
        freeReplyObject(r);
        publications += 3;
        sc_sleep_ms(50);
    }
    atomic_store(&stop, true);
    for (int i = 0; i < READERS; i++) pthread_join(t[i], NULL);
    sc_no_thread_failures_or_fail();
    long n = atomic_load(&replies);
    cr_log_info("%ld replies read while node 0 published about %d maps", n, publications);
    cr_assert(n > READERS * PIPELINE, "the readers got only %ld replies", n);
    sc_cluster_stop_or_fail(&c);
}
