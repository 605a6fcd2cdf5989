/*
 * test_sort_threads.c - SORT with BY and GET patterns on a multi-threaded
 * server (--threads 4): the pattern keys live in other slots than the
 * sorted key, so such a SORT takes every slot lock (t_sort.c); here it
 * must see each writer's MSET whole (every GET value of one generation)
 * while writers on other workers rewrite the weights, inside and outside
 * MULTI, and SORT ... STORE must leave a list that is one generation too.
 * The replies themselves are compared with redis-server in
 * tests/cases/sort.txt; this file is about atomicity and liveness.
 *
 * Client threads record failures (thread_fail.h); the main thread asserts.
 * Every loop is bounded.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_proc.h"
#include "thread_fail.h"

static sc_server srv;

TestSuite(sort_threads, .fini = sc_server_cleanup, .timeout = 120);

enum { NKEYS = 200, WRITERS = 2, SORTERS = 2, ROUNDS = 300 };

static atomic_bool writers_done;

/* MSET w_1 G001 ... w_200 G200: the weights of generation G, in key order. */
static void mset_generation(redisContext *c, int gen, const char *who) {
    static _Thread_local char words[2 * NKEYS][24];
    const char *argv[1 + 2 * NKEYS] = {"MSET"};
    for (int k = 1; k <= NKEYS; k++) {
        snprintf(words[2 * k - 2], sizeof words[0], "w_%d", k);
        snprintf(words[2 * k - 1], sizeof words[0], "%d%03d", gen, k);
        argv[2 * k - 1] = words[2 * k - 2];
        argv[2 * k] = words[2 * k - 1];
    }
    redisReply *r = redisCommandArgv(c, 1 + 2 * NKEYS, argv, NULL);
    if (!r || r->type != REDIS_REPLY_STATUS) sc_thread_fail("%s: MSET failed", who);
    freeReplyObject(r);
}

static void *writer_main(void *arg) {
    int id = (int)(intptr_t)arg;
    redisContext *c = sc_thread_connect(&srv, 10000);
    if (!c) {
        sc_thread_fail("writer %d: connect failed", id);
        return NULL;
    }
    for (int g = 1; g <= ROUNDS && !sc_thread_failures(); g++) {
        mset_generation(c, id * 100000 + g, "writer");
    }
    redisFree(c);
    return NULL;
}

/* Every value of one reply (or stored list) from the same generation, in
 * key order (the weights sort the keys 1..8). */
static void check_generation(const redisReply *r, const char *what) {
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 * NKEYS) {
        sc_thread_fail("%s: unexpected reply shape", what);
        return;
    }
    long long gen = -1;
    for (size_t i = 0; i < r->elements; i += 2) {
        const redisReply *el = r->element[i], *w = r->element[i + 1];
        if (el->type != REDIS_REPLY_STRING || atoi(el->str) != (int)(i / 2 + 1)) {
            sc_thread_fail("%s: element %zu is not key %zu: order broken", what, i / 2, i / 2 + 1);
            return;
        }
        if (w->type != REDIS_REPLY_STRING || !w->len) {
            sc_thread_fail("%s: weight %zu missing", what, i / 2 + 1);
            return;
        }
        long long v = atoll(w->str);
        if (gen < 0) gen = v / 1000;
        if (v / 1000 != gen || v % 1000 != (long long)(i / 2 + 1)) {
            sc_thread_fail("%s: weights of two generations in one SORT (%lld then %s)", what, gen, w->str);
            return;
        }
    }
}

static void *sorter_main(void *arg) {
    int id = (int)(intptr_t)arg;
    redisContext *c = sc_thread_connect(&srv, 10000);
    if (!c) {
        sc_thread_fail("sorter %d: connect failed", id);
        return NULL;
    }
    char dst[32];
    snprintf(dst, sizeof dst, "dst%d", id);
    for (int i = 0; i < 20 * ROUNDS && !atomic_load(&writers_done) && !sc_thread_failures(); i++) {
        redisReply *r;
        switch (i % 3) {
        case 0:
            r = redisCommand(c, "SORT l BY w_* GET # GET w_*");
            check_generation(r, "SORT");
            break;
        case 1:
            r = redisCommand(c, "SORT l BY w_* GET # GET w_* STORE %s", dst);
            if (!r || r->type != REDIS_REPLY_INTEGER || r->integer != 2 * NKEYS)
                sc_thread_fail("sorter %d: SORT STORE answered badly", id);
            freeReplyObject(r);
            r = redisCommand(c, "LRANGE %s 0 -1", dst);
            check_generation(r, "SORT STORE");
            break;
        default:
            freeReplyObject(redisCommand(c, "MULTI"));
            freeReplyObject(redisCommand(c, "SORT_RO l BY w_* GET # GET w_*"));
            r = redisCommand(c, "EXEC");
            if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 1)
                sc_thread_fail("sorter %d: EXEC answered badly", id);
            else
                check_generation(r->element[0], "SORT_RO in MULTI");
            break;
        }
        freeReplyObject(r);
    }
    redisFree(c);
    return NULL;
}

Test(sort_threads, patterns_see_one_point_in_time) {
    sc_server_start_or_fail(&srv, (const char *const[]){"--threads", "4", NULL});
    redisContext *c = sc_connect_or_fail(&srv);
    for (int k = 0; k < NKEYS; k++) freeReplyObject(sc_cmd_or_fail(c, "RPUSH l %d", k * 7 % NKEYS + 1));
    mset_generation(c, 0, "setup");
    sc_thread_fail_reset();
    atomic_store(&writers_done, false);
    pthread_t w[WRITERS], s[SORTERS];
    for (int i = 0; i < SORTERS; i++) cr_assert_eq(pthread_create(&s[i], NULL, sorter_main, (void *)(intptr_t)i), 0);
    for (int i = 0; i < WRITERS; i++)
        cr_assert_eq(pthread_create(&w[i], NULL, writer_main, (void *)(intptr_t)(i + 1)), 0);
    for (int i = 0; i < WRITERS; i++) pthread_join(w[i], NULL);
    atomic_store(&writers_done, true);
    for (int i = 0; i < SORTERS; i++) pthread_join(s[i], NULL);
    sc_no_thread_failures_or_fail();

    /* After the storm: the last generation, whole. */
    redisReply *r = sc_cmd_or_fail(c, "SORT l BY w_* GET # GET w_*");
    check_generation(r, "final SORT");
    freeReplyObject(r);
    sc_no_thread_failures_or_fail();
    sc_cmd_expect_or_fail(c, "PONG", "PING");
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}
