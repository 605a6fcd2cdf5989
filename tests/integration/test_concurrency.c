/*
 * test_concurrency.c - many clients against a multi-threaded server
 * (--threads 4): atomic INCR on one shared key (every returned value unique,
 * total exact), per-client keys, and multi-key atomicity (MSET of two keys
 * never observed half-done by MGET, across slots and within one hash tag).
 *
 * Client threads never call Criterion assertions (they are not allowed off
 * the test's main thread): they record the first failure and the main thread
 * asserts after joining.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server_proc.h"
#include "thread_fail.h"

#define CLIENTS 16
#define INCRS 2000

static sc_server srv;
static const char *const threaded[] = { "--threads", "4", NULL };

TestSuite(concurrency, .fini = sc_server_cleanup, .timeout = 300);

/* ---- INCR -------------------------------------------------------------- */

static atomic_uchar *seen;   /* seen[v] counts how often INCR shared returned v */

static void *incr_client(void *arg)
{
    int id = (int)(intptr_t)arg;
    redisContext *c = sc_thread_connect(&srv, 30000);
    if (!c) return NULL;
    for (int i = 0; i < INCRS && sc_thread_failures() == 0; i++) {
        redisReply *r = redisCommand(c, "INCR shared");
        if (!r || r->type != REDIS_REPLY_INTEGER) {
            sc_thread_fail("client %d: INCR shared: %s", id, r ? (r->str ? r->str : "bad type") : c->errstr);
            if (r) freeReplyObject(r);
            break;
        }
        if (r->integer < 1 || r->integer > CLIENTS * INCRS)
            sc_thread_fail("client %d: INCR shared returned %lld", id, r->integer);
        else
            atomic_fetch_add(&seen[r->integer], 1);
        freeReplyObject(r);

        r = redisCommand(c, "INCR own:%d", id);
        if (!r || r->type != REDIS_REPLY_INTEGER || r->integer != i + 1) {
            sc_thread_fail("client %d: INCR own:%d returned %lld, want %d", id, id,
                           r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1, i + 1);
            if (r) freeReplyObject(r);
            break;
        }
        freeReplyObject(r);
    }
    redisFree(c);
    return NULL;
}

Test(concurrency, incr_shared_and_own_keys)
{
    sc_server_start_or_fail(&srv, threaded);
    seen = calloc(CLIENTS * INCRS + 1, sizeof *seen);
    cr_assert(seen);
    pthread_t th[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        cr_assert(pthread_create(&th[i], NULL, incr_client, (void *)(intptr_t)i) == 0);
    for (int i = 0; i < CLIENTS; i++) pthread_join(th[i], NULL);
    sc_no_thread_failures_or_fail();

    for (int v = 1; v <= CLIENTS * INCRS; v++)
        cr_assert_eq(atomic_load(&seen[v]), 1, "INCR shared returned %d %d times", v, atomic_load(&seen[v]));
    free(seen);

    redisContext *c = sc_connect_or_fail(&srv);
    char want[32];
    snprintf(want, sizeof want, "%d", CLIENTS * INCRS);
    sc_cmd_expect_or_fail(c, want, "GET shared");
    snprintf(want, sizeof want, "%d", INCRS);
    for (int i = 0; i < CLIENTS; i++) sc_cmd_expect_or_fail(c, want, "GET own:%d", i);
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

/* ---- MSET / MGET ------------------------------------------------------- */

#define WRITERS 8
#define READERS 8
#define WRITES 2000

static atomic_int writers_left;
static atomic_long reads_done;

typedef struct {
    int id;
    const char *k1, *k2;
} pair_arg;

static void *mset_writer(void *p)
{
    pair_arg *a = p;
    redisContext *c = sc_thread_connect(&srv, 30000);
    if (c) {
        for (int i = 0; i < WRITES && sc_thread_failures() == 0; i++) {
            char v[64];
            snprintf(v, sizeof v, "w%d-%d", a->id, i);
            redisReply *r = redisCommand(c, "MSET %s %s %s %s", a->k1, v, a->k2, v);
            if (!r || r->type != REDIS_REPLY_STATUS) {
                sc_thread_fail("writer %d: MSET: %s", a->id, r ? (r->str ? r->str : "bad type") : c->errstr);
                if (r) freeReplyObject(r);
                break;
            }
            freeReplyObject(r);
        }
        redisFree(c);
    }
    atomic_fetch_sub(&writers_left, 1);
    return NULL;
}

static void *mget_reader(void *p)
{
    pair_arg *a = p;
    redisContext *c = sc_thread_connect(&srv, 30000);
    if (!c) return NULL;
    /* Read until the writers finish (bounded as well). */
    for (long n = 0; n < 1000000 && sc_thread_failures() == 0; n++) {
        bool last = atomic_load(&writers_left) == 0;
        redisReply *r = redisCommand(c, "MGET %s %s", a->k1, a->k2);
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            sc_thread_fail("reader %d: MGET: %s", a->id, r ? "bad reply" : c->errstr);
            if (r) freeReplyObject(r);
            break;
        }
        redisReply *x = r->element[0], *y = r->element[1];
        bool same = x->type == y->type &&
                    (x->type == REDIS_REPLY_NIL ||
                     (x->type == REDIS_REPLY_STRING && x->len == y->len && memcmp(x->str, y->str, x->len) == 0));
        if (!same)
            sc_thread_fail("reader %d: MGET %s %s saw \"%s\" and \"%s\"", a->id, a->k1, a->k2,
                           x->type == REDIS_REPLY_STRING ? x->str : "(nil)",
                           y->type == REDIS_REPLY_STRING ? y->str : "(nil)");
        freeReplyObject(r);
        atomic_fetch_add(&reads_done, 1);
        if (last) break;
    }
    redisFree(c);
    return NULL;
}

static void mset_mget_pairs(const char *k1, const char *k2)
{
    sc_server_start_or_fail(&srv, threaded);
    pthread_t th[WRITERS + READERS];
    pair_arg args[WRITERS + READERS];
    atomic_store(&writers_left, WRITERS);
    atomic_store(&reads_done, 0);
    for (int i = 0; i < WRITERS + READERS; i++) {
        args[i] = (pair_arg){ .id = i, .k1 = k1, .k2 = k2 };
        cr_assert(pthread_create(&th[i], NULL, i < WRITERS ? mset_writer : mget_reader, &args[i]) == 0);
    }
    for (int i = 0; i < WRITERS + READERS; i++) pthread_join(th[i], NULL);
    sc_no_thread_failures_or_fail();
    cr_assert(atomic_load(&reads_done) >= READERS, "readers did not run");

    /* Final state: both keys hold the last value some writer wrote. */
    redisContext *c = sc_connect_or_fail(&srv);
    redisReply *r = sc_cmd_or_fail(c, "MGET %s %s", k1, k2);
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 2);
    cr_assert_eq(r->element[0]->type, REDIS_REPLY_STRING);
    cr_assert_str_eq(r->element[0]->str, r->element[1]->str);
    cr_assert(strstr(r->element[0]->str, "-1999") != NULL, "final value %s is not a last write",
              r->element[0]->str);
    freeReplyObject(r);
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

Test(concurrency, mset_mget_across_slots)
{
    mset_mget_pairs("k1", "k2");   /* different hash slots */
}

Test(concurrency, mset_mget_same_hash_tag)
{
    mset_mget_pairs("{pair}a", "{pair}b");
}

/* ---- many keys, many clients ------------------------------------------- */

static void *incrby_client(void *arg)
{
    int id = (int)(intptr_t)arg;
    redisContext *c = sc_thread_connect(&srv, 30000);
    if (!c) return NULL;
    /* Pipelined INCRBY over 500 keys shared by all clients. */
    for (int round = 0; round < 4 && sc_thread_failures() == 0; round++) {
        for (int k = 0; k < 500; k++) redisAppendCommand(c, "INCRBY key:%d %d", (k + id * 31) % 500, id + 1);
        for (int k = 0; k < 500; k++) {
            redisReply *r = NULL;
            if (redisGetReply(c, (void **)&r) != REDIS_OK || r->type != REDIS_REPLY_INTEGER) {
                sc_thread_fail("client %d: INCRBY: %s", id, r ? "bad reply" : c->errstr);
                if (r) freeReplyObject(r);
                redisFree(c);
                return NULL;
            }
            freeReplyObject(r);
        }
    }
    redisFree(c);
    return NULL;
}

Test(concurrency, pipelined_incrby_many_keys)
{
    sc_server_start_or_fail(&srv, threaded);
    pthread_t th[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        cr_assert(pthread_create(&th[i], NULL, incrby_client, (void *)(intptr_t)i) == 0);
    for (int i = 0; i < CLIENTS; i++) pthread_join(th[i], NULL);
    sc_no_thread_failures_or_fail();

    /* Each key got 4 increments of (id+1) from every client: 4 * sum(1..16). */
    long long want = 4LL * CLIENTS * (CLIENTS + 1) / 2;
    redisContext *c = sc_connect_or_fail(&srv);
    for (int k = 0; k < 500; k++) redisAppendCommand(c, "GET key:%d", k);
    for (int k = 0; k < 500; k++) {
        redisReply *r = NULL;
        cr_assert(redisGetReply(c, (void **)&r) == REDIS_OK);
        cr_assert_eq(r->type, REDIS_REPLY_STRING);
        cr_assert_eq(atoll(r->str), want, "key:%d = %s, want %lld", k, r->str, want);
        freeReplyObject(r);
    }
    sc_cmd_expect_or_fail(c, "500", "DBSIZE");
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}
