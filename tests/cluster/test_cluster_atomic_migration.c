/*
 * test_cluster_atomic_migration.c - atomic slot migration
 * (CLUSTER MIGRATESLOTS, cluster/slot_migration.c) across real processes
 * on loopback (tests/support/cluster_proc.h), in every build variant (the
 * job's thread and the slot pause run under TSan here):
 *
 * - under writes: 2 masters, node 2 the replica of node 0; node 1 moves
 *   8192-12287 to node 0 while a writer INCRs a counter and SETs new keys
 *   in slot 12182 ("{foo}"), following MOVED as a cluster client does.
 *   The writer never sees ASK or TRYAGAIN nor any other error; the counter
 *   on node 0 equals the INCRs acknowledged, every acknowledged SET and
 *   every key copied is there, node 0's replica gets them by replication,
 *   node 1 keeps none, every node agrees that node 0 owns the range, and
 *   both ends list the job as successful;
 * - the checks of MIGRATESLOTS (Redis-style errors, nothing started);
 * - the target's rollback: an import link (CLUSTER SYNCSLOTS ESTABLISH,
 *   as the source's job sends it) that closes before FINISH leaves no key
 *   on the target and its job failed; a target that refuses the writes
 *   (-NOREPLICAS) fails the job, and the source keeps the slots and keys.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster_steps.h"

#define NODE_TIMEOUT_MS 1000
#define FOO_SLOT 12182 /* "{foo}" */
#define PRELOAD 3000

TestSuite(cluster_atomic_migration, .fini = sc_cluster_cleanup, .timeout = 180);

static sc_cluster c;

/* ---- helpers ----------------------------------------------------------- */

static long long count_in_slot(int i, int slot) { return steps_keys_in_slot(&c, i, slot); }

/* The `field` of the last job GETSLOTMIGRATIONS lists on node i, into
 * out ("" when there is none). */
static void last_job_field(int i, const char *field, char *out, size_t n)
{
    out[0] = '\0';
    redisReply *r = sc_cluster_cmd(&c, i, "CLUSTER GETSLOTMIGRATIONS");
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements > 0) {
        redisReply *j = r->element[r->elements - 1];
        for (size_t k = 0; k + 1 < j->elements; k += 2)
            if (!strcmp(j->element[k]->str, field)) {
                redisReply *v = j->element[k + 1];
                if (v->type == REDIS_REPLY_INTEGER) snprintf(out, n, "%lld", v->integer);
                else snprintf(out, n, "%s", v->str ? v->str : "");
            }
    }
    if (r) freeReplyObject(r);
}

static bool job_finished(sc_cluster *cl, void *arg)
{
    (void)cl;
    char st[64];
    last_job_field(*(int *)arg, "state", st, sizeof st);
    return !strcmp(st, "success") || !strcmp(st, "failed") || !strcmp(st, "cancelled");
}

/* The writer: INCR {foo}:ctr and SET {foo}:w<n>, alternately, on the
 * slot's master as it learns it from MOVED. */
typedef struct {
    int port[2]; /* node 1 (the source), node 0 */
    atomic_bool stop, failed;
    _Atomic long long incr_acked, sets_acked, moved, after_moved;
    char bad[256]; /* the first reply that was neither a result nor MOVED
                      (read after the join) */
} writer;

static void *writer_main(void *arg)
{
    writer *w = arg;
    redisContext *x[2] = {redisConnect("127.0.0.1", w->port[0]), redisConnect("127.0.0.1", w->port[1])};
    int at = 0;
    for (long long n = 0; !atomic_load(&w->stop) && n < 10000000 && !w->bad[0]; n++) {
        if (!x[at] || x[at]->err) {
            snprintf(w->bad, sizeof w->bad, "connection to port %d lost", w->port[at]);
            break;
        }
        if (n > 0 && n % 1000 == 0) usleep(1000); /* a steady load, not a flood */
        bool incr = n % 2 == 0;
        redisReply *r = incr ? redisCommand(x[at], "INCR {foo}:ctr") : redisCommand(x[at], "SET {foo}:w%lld v%lld", n, n);
        if (!r) continue; /* the loop's check above reports it */
        if (r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "MOVED ", 6)) {
            w->moved++;
            int port = atoi(strrchr(r->str, ':') + 1);
            at = port == w->port[1] ? 1 : 0;
        } else if (r->type == REDIS_REPLY_ERROR) {
            snprintf(w->bad, sizeof w->bad, "%s", r->str);
        } else {
            if (incr) w->incr_acked++;
            else w->sets_acked++;
            if (w->moved) w->after_moved++;
        }
        freeReplyObject(r);
    }
    for (int i = 0; i < 2; i++)
        if (x[i]) redisFree(x[i]);
    atomic_store(&w->failed, w->bad[0] != '\0');
    return NULL;
}

/* Every node's CLUSTER NODES shows node 0's line with the moved range. */
static bool all_see_range(sc_cluster *cl, void *arg)
{
    const char *id0 = arg;
    for (int i = 0; i < cl->n; i++) {
        redisReply *r = sc_cluster_cmd(cl, i, "CLUSTER NODES");
        bool ok = false;
        const char *p = r && r->str ? strstr(r->str, id0) : NULL;
        while (p && p != r->str && p[-1] != '\n') p = strstr(p + 1, id0); /* its own line */
        if (p) {
            const char *eol = strchr(p, '\n');
            const char *range = strstr(p, " 0-8191 8192-12287");
            if (!range) range = strstr(p, " 0-12287");
            ok = range && (!eol || range < eol);
        }
        if (r) freeReplyObject(r);
        if (!ok) return false;
    }
    return true;
}

/* ---- tests ------------------------------------------------------------- */

/* 2 masters (0, 1), node 2 the replica of node 0 (the target). */
Test(cluster_atomic_migration, moves_slots_under_writes)
{
    steps_form(&c, 3, 2, NULL, NODE_TIMEOUT_MS);
    redisContext *n1 = sc_cluster_ctx_or_fail(&c, 1);
    for (int j = 0; j < PRELOAD; j++) redisAppendCommand(n1, "SET {foo}:p%d %d", j, j);
    for (int j = 0; j < PRELOAD; j++) {
        redisReply *r = NULL;
        cr_assert_eq(redisGetReply(n1, (void **)&r), REDIS_OK, "preload: %s", n1->errstr);
        cr_assert(r->type == REDIS_REPLY_STATUS, "preload: %s", r->str ? r->str : "?");
        freeReplyObject(r);
    }
    sc_cmd_expect_or_fail(n1, "OK", "SET {foo}:ttl x PX 600000");
    char id0[41];
    sc_cluster_myid_or_fail(&c, 0, id0);

    writer w = {.port = {sc_cluster_port(&c, 1), sc_cluster_port(&c, 0)}};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, writer_main, &w), 0);
    cr_assert(SC_WAIT_FOR(w.incr_acked > 100 || atomic_load(&w.failed), 10000), "the writer made no progress");

    redisReply *r = sc_cluster_cmd_or_fail(&c, 1, "CLUSTER MIGRATESLOTS SLOTSRANGE 8192 12287 NODE %s", id0);
    cr_assert(sc_reply_is(r, "OK"), "MIGRATESLOTS: %s", r->str ? r->str : "?");
    freeReplyObject(r);
    int src = 1;
    cr_assert(sc_cluster_wait_for(&c, job_finished, &src, 60000), "the job did not finish");
    char st[64], msg[256], keys[32];
    last_job_field(1, "state", st, sizeof st);
    last_job_field(1, "message", msg, sizeof msg);
    last_job_field(1, "keys", keys, sizeof keys);
    cr_assert_str_eq(st, "success", "the job ended %s: %s", st, msg);
    cr_assert(atoll(keys) >= PRELOAD + 1, "the copy held %s keys", keys);

    /* The writer goes on against node 0 for a while, then stops. */
    long long mark = w.after_moved;
    bool more = SC_WAIT_FOR(w.after_moved > mark + 200 || atomic_load(&w.failed), 10000);
    atomic_store(&w.stop, true);
    pthread_join(th, NULL);
    cr_assert_str_eq(w.bad, "", "a client saw an error other than MOVED: %s", w.bad);
    cr_assert(more && w.moved > 0, "the writer never followed MOVED to node 0");

    /* Node 0 has everything; node 1 nothing. */
    redisContext *n0 = sc_cluster_ctx_or_fail(&c, 0);
    redisReply *ctr = sc_cmd_or_fail(n0, "GET {foo}:ctr");
    cr_assert(ctr->type == REDIS_REPLY_STRING, "no counter on node 0");
    cr_assert_eq(atoll(ctr->str), w.incr_acked, "the counter is %s after %lld INCRs", ctr->str,
                 (long long)w.incr_acked);
    freeReplyObject(ctr);
    long long want = PRELOAD + 1 + w.sets_acked + 1; /* the counter too */
    cr_assert_eq(count_in_slot(0, FOO_SLOT), want, "node 0 has %lld keys in slot %d, not %lld",
                 count_in_slot(0, FOO_SLOT), FOO_SLOT, want);
    long long pttl = sc_cmd_ll_or_fail(n0, "PTTL {foo}:ttl");
    cr_assert(pttl > 500000 && pttl <= 600000, "the TTL came over as %lld ms", pttl);
    cr_assert(SC_WAIT_FOR(count_in_slot(1, FOO_SLOT) == 0, 10000), "node 1 kept %lld keys",
              count_in_slot(1, FOO_SLOT));
    cr_assert(SC_WAIT_FOR(count_in_slot(2, FOO_SLOT) == want, 10000),
              "node 0's replica has %lld keys in the slot, not %lld", count_in_slot(2, FOO_SLOT), want);
    if (!sc_cluster_wait_for(&c, all_see_range, id0, 20000)) {
        sc_cluster_log_views(&c);
        cr_assert_fail("not every node sees node 0 owning 8192-12287");
    }
    last_job_field(0, "state", st, sizeof st);
    cr_assert_str_eq(st, "success", "the target lists its import as %s", st);
    last_job_field(0, "operation", st, sizeof st);
    cr_assert_str_eq(st, "IMPORT");
    sc_cluster_stop_or_fail(&c);
}

/* The checks; the rollback of an import whose link closes before FINISH. */
Test(cluster_atomic_migration, checks_and_rollback)
{
    steps_form(&c, 2, 2, NULL, NODE_TIMEOUT_MS);
    char id0[41], id1[41];
    sc_cluster_myid_or_fail(&c, 0, id0);
    sc_cluster_myid_or_fail(&c, 1, id1);
    static const struct {
        const char *args, *err;
    } bad[] = {
        {"SLOTSRANGE 0 10 NODE", "ERR syntax error"},
        {"SLOTSRANGE 9000 9001 NODE %s", "ERR I'm not the owner of hash slot 9000"},
        {"SLOTSRANGE 10 5 NODE %s", "ERR start slot number 10 is greater than end slot number 5"},
        {"SLOTSRANGE 0 16384 NODE %s", "ERR Invalid or out of range slot"},
        {"SLOTSRANGE 0 10 5 20 NODE %s", "ERR Slot 5 specified multiple times"},
        {"SLOTSRANGE 0 10 NOPE %s", "ERR syntax error"},
        {"SLOTSRANGE 0 10 NODE 0000000000000000000000000000000000000000", "ERR Unknown node 0000000000000000000000000000000000000000"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char fmt[256];
        snprintf(fmt, sizeof fmt, "CLUSTER MIGRATESLOTS %s", bad[k].args);
        redisReply *r = sc_cluster_cmd_or_fail(&c, 0, fmt, id1);
        cr_assert(r->type == REDIS_REPLY_ERROR && !strcmp(r->str, bad[k].err), "%s: got %s, want %s", fmt,
                  r->str ? r->str : "?", bad[k].err);
        freeReplyObject(r);
    }
    redisReply *r = sc_cluster_cmd_or_fail(&c, 0, "CLUSTER MIGRATESLOTS SLOTSRANGE 0 1 NODE %s", id0);
    cr_assert(r->type == REDIS_REPLY_ERROR && !strcmp(r->str, "ERR Can't migrate slots to myself"), "%s", r->str);
    freeReplyObject(r);
    r = sc_cluster_cmd_or_fail(&c, 0, "CLUSTER GETSLOTMIGRATIONS");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 0, "a refused MIGRATESLOTS left a job");
    freeReplyObject(r);
    sc_cmd_expect_or_fail(sc_cluster_ctx_or_fail(&c, 0), "OK", "CLUSTER CANCELSLOTMIGRATIONS");

    /* An import link of node 1's slot 12182 on node 0: a key restored, the
     * link closed before FINISH, the key gone. */
    redisContext *n1 = sc_cluster_ctx_or_fail(&c, 1);
    sc_cmd_expect_or_fail(n1, "OK", "SET {foo}:a 1");
    redisReply *dump = sc_cmd_or_fail(n1, "DUMP {foo}:a");
    cr_assert_eq(dump->type, REDIS_REPLY_STRING);
    redisContext *link = sc_connect_or_fail(&c.node[0]);
    sc_cmd_expect_or_fail(link, "OK", "CLUSTER SYNCSLOTS ESTABLISH %s job1 12000 12200", id1);
    r = redisCommand(link, "RESTORE {foo}:a 0 %b REPLACE", dump->str, dump->len);
    cr_assert(r && sc_reply_is(r, "OK"), "RESTORE on the import link: %s", r && r->str ? r->str : "?");
    freeReplyObject(r);
    freeReplyObject(dump);
    cr_assert_eq(count_in_slot(0, FOO_SLOT), 1, "the import link's key is not there");
    /* Another client is still redirected to the owner. */
    r = sc_cluster_cmd_or_fail(&c, 0, "GET {foo}:a");
    cr_assert(r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "MOVED 12182 ", 12), "GET: %s", r->str);
    freeReplyObject(r);
    /* A second import of these slots is refused while the first runs. */
    redisContext *link2 = sc_connect_or_fail(&c.node[0]);
    r = redisCommand(link2, "CLUSTER SYNCSLOTS ESTABLISH %s job2 12182 12182", id1);
    cr_assert(r && r->type == REDIS_REPLY_ERROR && !strcmp(r->str, "ERR Slot 12182 is already being migrated"),
              "a second import: %s", r && r->str ? r->str : "?");
    freeReplyObject(r);
    redisFree(link2);
    redisFree(link);
    cr_assert(SC_WAIT_FOR(count_in_slot(0, FOO_SLOT) == 0, 10000), "the failed import left %lld keys",
              count_in_slot(0, FOO_SLOT));
    char st[64];
    cr_assert(SC_WAIT_FOR((last_job_field(0, "state", st, sizeof st), !strcmp(st, "failed")), 10000),
              "the import job is %s, not failed", st);
    cr_assert_eq(count_in_slot(1, FOO_SLOT), 1, "the source lost its key");

    /* A target that refuses the writes (min-replicas-to-write with no
     * replica): the job fails with its error, nothing moves, nothing is
     * left on the target. */
    freeReplyObject(sc_cluster_cmd_or_fail(&c, 0, "CONFIG SET min-replicas-to-write 1"));
    r = sc_cluster_cmd_or_fail(&c, 1, "CLUSTER MIGRATESLOTS SLOTSRANGE 12000 12200 NODE %s", id0);
    cr_assert(sc_reply_is(r, "OK"), "MIGRATESLOTS: %s", r->str ? r->str : "?");
    freeReplyObject(r);
    int src = 1;
    cr_assert(sc_cluster_wait_for(&c, job_finished, &src, 30000), "the job did not finish");
    char msg[256];
    last_job_field(1, "state", st, sizeof st);
    last_job_field(1, "message", msg, sizeof msg);
    cr_assert(!strcmp(st, "failed") && strstr(msg, "NOREPLICAS"), "the job ended %s: %s", st, msg);
    cr_assert_eq(count_in_slot(1, FOO_SLOT), 1, "the source lost its key");
    cr_assert(SC_WAIT_FOR(count_in_slot(0, FOO_SLOT) == 0, 10000), "the refused import left keys");
    r = sc_cluster_cmd_or_fail(&c, 1, "GET {foo}:a");
    cr_assert(r->type == REDIS_REPLY_STRING && !strcmp(r->str, "1"), "the source no longer serves its key");
    freeReplyObject(r);
    sc_cluster_stop_or_fail(&c);
}
