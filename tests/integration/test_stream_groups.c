/*
 * test_stream_groups.c - what the differential case file
 * (tests/cases/stream-groups.txt) cannot compare byte for byte: the clock
 * in consumer-group replies (idle times, delivery and seen times, the IDLE
 * filters), the dirty count, the keyspace events and the WATCH
 * invalidation of every group command side by side with redis-server 7.0,
 * XREADGROUP BLOCK's answers without a wake-up (a timeout, a null array inside MULTI, data there at once; the
 * wake-ups are test_stream_blocking.c's), and MEMORY USAGE counting a PEL.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server_proc.h"

static sc_server srv, ref;

TestSuite(stream_groups, .fini = sc_server_cleanup, .timeout = 120);

/* Wall-clock ms (the servers' times are unix ms). */
static long long wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long reply_ll(const redisReply *r) {
    cr_assert(r && r->type == REDIS_REPLY_INTEGER, "an integer reply");
    return r->integer;
}

/* The value after `name` in a flat map reply (RESP2 array of pairs). */
static const redisReply *field(const redisReply *map, const char *name) {
    cr_assert(map->type == REDIS_REPLY_ARRAY);
    for (size_t i = 0; i + 1 < map->elements; i += 2)
        if (sc_reply_is(map->element[i], name)) return map->element[i + 1];
    cr_assert_fail("no field %s", name);
    return NULL;
}

Test(stream_groups, clock_in_replies) {
    sc_server_start_or_fail(&srv, NULL);
    redisContext *c = sc_connect_or_fail(&srv);
    freeReplyObject(sc_cmd_or_fail(c, "XADD s 1-1 f v1"));
    freeReplyObject(sc_cmd_or_fail(c, "XADD s 2-1 f v2"));
    freeReplyObject(sc_cmd_or_fail(c, "XADD s 3-1 f v3"));
    sc_cmd_expect_or_fail(c, "OK", "XGROUP CREATE s g 0");
    long long t0 = wall_ms();
    freeReplyObject(sc_cmd_or_fail(c, "XREADGROUP GROUP g alice STREAMS s >"));
    long long t1 = wall_ms();
    /* 1-1 idle 10 s (IDLE), 2-1 delivered at a fixed time (TIME), 3-1 just now */
    freeReplyObject(sc_cmd_or_fail(c, "XCLAIM s g bob 0 1-1 IDLE 10000 JUSTID"));
    freeReplyObject(sc_cmd_or_fail(c, "XCLAIM s g bob 0 2-1 TIME 123456 JUSTID"));
    long long t2 = wall_ms();
    int slack = sc_scaled_ms(2000);

    redisReply *r = sc_cmd_or_fail(c, "XPENDING s g - + 10");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 3);
    long long idle1 = reply_ll(r->element[0]->element[2]), idle2 = reply_ll(r->element[1]->element[2]);
    long long idle3 = reply_ll(r->element[2]->element[2]);
    cr_expect(idle1 >= 10000 && idle1 <= 10000 + slack, "IDLE 10000 reads back as %lld", idle1);
    cr_expect(idle2 >= t2 - 123456 - slack && idle2 <= wall_ms() - 123456, "TIME 123456: idle %lld", idle2);
    cr_expect(idle3 >= 0 && idle3 <= wall_ms() - t0, "a fresh delivery: idle %lld", idle3);
    cr_expect_eq(reply_ll(r->element[2]->element[3]), 1, "delivery count");
    freeReplyObject(r);

    /* the IDLE filter: only the two old ones, then only the oldest by count */
    r = sc_cmd_or_fail(c, "XPENDING s g IDLE 5000 - + 10");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 2, "IDLE 5000 keeps the two old entries");
    cr_expect(sc_reply_is(r->element[0]->element[0], "1-1") && sc_reply_is(r->element[1]->element[0], "2-1"));
    freeReplyObject(r);
    r = sc_cmd_or_fail(c, "XPENDING s g IDLE 5000 - + 1 bob");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 1 && sc_reply_is(r->element[0]->element[0], "1-1"));
    freeReplyObject(r);

    /* XINFO STREAM FULL: absolute delivery and seen times */
    r = sc_cmd_or_fail(c, "XINFO STREAM s FULL");
    const redisReply *groups = field(r, "groups");
    cr_assert_eq(groups->elements, 1);
    const redisReply *pending = field(groups->element[0], "pending");
    cr_assert_eq(pending->elements, 3);
    long long d1 = reply_ll(pending->element[0]->element[2]), d2 = reply_ll(pending->element[1]->element[2]);
    long long d3 = reply_ll(pending->element[2]->element[2]);
    cr_expect(d1 >= t1 - 10000 - slack && d1 <= t2 - 10000 + slack, "IDLE 10000 as a time: %lld", d1);
    cr_expect_eq(d2, 123456, "TIME 123456 kept as is");
    cr_expect(d3 >= t0 && d3 <= t1, "delivered during XREADGROUP: %lld in [%lld, %lld]", d3, t0, t1);
    const redisReply *consumers = field(groups->element[0], "consumers");
    cr_assert_eq(consumers->elements, 2);
    for (size_t i = 0; i < 2; i++) {
        long long seen = reply_ll(field(consumers->element[i], "seen-time"));
        cr_expect(seen >= t0 && seen <= t2, "seen-time %lld in [%lld, %lld]", seen, t0, t2);
    }
    freeReplyObject(r);

    /* XINFO CONSUMERS: idle since the consumer was last named */
    r = sc_cmd_or_fail(c, "XINFO CONSUMERS s g");
    cr_assert_eq(r->elements, 2);
    for (size_t i = 0; i < 2; i++) {
        long long idle = reply_ll(field(r->element[i], "idle"));
        cr_expect(idle >= 0 && idle <= wall_ms() - t0, "consumer idle %lld", idle);
    }
    freeReplyObject(r);

    /* XCLAIM and XAUTOCLAIM honour min-idle-time */
    r = sc_cmd_or_fail(c, "XCLAIM s g carol 5000 1-1 2-1 3-1 JUSTID");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 2, "min-idle 5000 claims the two old ones");
    freeReplyObject(r);
    r = sc_cmd_or_fail(c, "XAUTOCLAIM s g dave 5000 0 JUSTID");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 3 && r->element[1]->elements == 0,
              "XAUTOCLAIM: nothing idle 5 s any more");
    freeReplyObject(r);
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

/* ---- dirty counts and keyspace events, side by side with redis-server ---- */

static const char *const script[] = {
    "XGROUP CREATE s g $ MKSTREAM", "XGROUP CREATE s g $", "XADD s 1-1 f 1", "XADD s 2-1 f 2", "XADD s 3-1 f 3",
    "XGROUP CREATE s g2 0", "XGROUP CREATECONSUMER s g c1", "XGROUP CREATECONSUMER s g c1",
    "XREADGROUP GROUP g c2 COUNT 2 STREAMS s >", "XREADGROUP GROUP g c2 STREAMS s 0",
    "XREADGROUP GROUP g c3 NOACK STREAMS s >", "XREADGROUP GROUP g c3 STREAMS s >", "XACK s g 1-1 2-1 9-9",
    "XACK s g 1-1", "XGROUP SETID s g 0", "XREADGROUP GROUP g2 c1 STREAMS s >", "XCLAIM s g2 c4 0 1-1 2-1 JUSTID",
    "XCLAIM s g2 c4 0 1-1 LASTID 9-0", "XCLAIM s g2 c4 0 LASTID 10-0", "XDEL s 2-1",
    "XAUTOCLAIM s g2 c5 0 0 COUNT 10", "XAUTOCLAIM s g2 c5 3600000 0", "XGROUP DELCONSUMER s g2 c5",
    "XGROUP DELCONSUMER s g2 nobody", "XGROUP DESTROY s g2", "XGROUP DESTROY s g2", "XPENDING s g",
    "XINFO GROUPS s",
};

typedef struct {
    redisContext *c, *sub;
    long long dirty[sizeof script / sizeof *script];
    char events[2048];
} side;

static long long changes(redisContext *c) { return sc_info_ll_or_fail(c, "persistence", "rdb_changes_since_last_save"); }

static void run_side(sc_server *s, side *x) {
    x->c = sc_connect_or_fail(s);
    x->sub = sc_connect_or_fail(s);
    sc_cmd_expect_or_fail(x->c, "OK", "CONFIG SET notify-keyspace-events KEA");
    redisReply *r = sc_cmd_or_fail(x->sub, "PSUBSCRIBE __keyevent@*__:* marker");
    freeReplyObject(r);
    cr_assert_eq(redisGetReply(x->sub, (void **)&r), REDIS_OK); /* the second pattern's confirmation */
    freeReplyObject(r);
    for (size_t i = 0; i < sizeof script / sizeof *script; i++) {
        long long before = changes(x->c);
        freeReplyObject(sc_cmd_line_or_fail(x->c, script[i]));
        x->dirty[i] = changes(x->c) - before;
    }
    freeReplyObject(sc_cmd_or_fail(x->c, "PUBLISH marker done"));
    x->events[0] = '\0';
    for (;;) {
        void *rv = NULL;
        cr_assert(redisGetReply(x->sub, &rv) == REDIS_OK && rv, "the marker must arrive");
        redisReply *m = rv;
        bool done = m->elements == 4 && sc_reply_is(m->element[2], "marker");
        if (!done) {
            const char *ev = strstr(m->element[2]->str, "__:");
            strncat(x->events, ev ? ev + 3 : m->element[2]->str, sizeof x->events - strlen(x->events) - 2);
            strncat(x->events, " ", sizeof x->events - strlen(x->events) - 1);
        }
        freeReplyObject(m);
        if (done) break;
    }
    redisFree(x->c);
    redisFree(x->sub);
}

Test(stream_groups, dirty_and_events_as_redis) {
    const char *redis = sc_reference_redis_binary();
    if (!redis) cr_skip_test("redis-server not installed");
    sc_server_start_or_fail(&srv, (const char *const[]){"--threads", "2", NULL});
    sc_server_start_bin_or_fail(&ref, redis, NULL);
    static side a, b;
    run_side(&srv, &a);
    run_side(&ref, &b);
    for (size_t i = 0; i < sizeof script / sizeof *script; i++)
        cr_expect_eq(a.dirty[i], b.dirty[i], "\"%s\": dirty +%lld, redis-server +%lld", script[i], a.dirty[i],
                     b.dirty[i]);
    cr_expect_str_eq(a.events, b.events, "keyspace events\n  slotcache: %s\n  redis:     %s", a.events, b.events);
    cr_expect_neq(strstr(b.events, "xgroup-createconsumer"), NULL, "the script raised group events");
    sc_server_stop_or_fail(&srv);
    sc_server_stop_or_fail(&ref);
}

/* ---- WATCH, side by side with redis-server ---- */

/* Whether a transaction watching s still runs after another client's `cmd`
 * (setup: a stream s with entries 1-1, 2-1, a group g read by alice). */
static bool watch_survives(sc_server *sv, const char *cmd) {
    redisContext *a = sc_connect_or_fail(sv), *b = sc_connect_or_fail(sv);
    freeReplyObject(sc_cmd_or_fail(a, "FLUSHALL"));
    freeReplyObject(sc_cmd_or_fail(a, "XADD s 1-1 f v"));
    freeReplyObject(sc_cmd_or_fail(a, "XADD s 2-1 f v"));
    freeReplyObject(sc_cmd_or_fail(a, "XGROUP CREATE s g 0"));
    freeReplyObject(sc_cmd_or_fail(a, "XREADGROUP GROUP g alice COUNT 1 STREAMS s >"));
    sc_cmd_expect_or_fail(a, "OK", "WATCH s");
    char copy[128], *argv[16], *save = NULL;
    int argc = 0;
    snprintf(copy, sizeof copy, "%s", cmd);
    for (char *t = strtok_r(copy, " ", &save); t && argc < 16; t = strtok_r(NULL, " ", &save)) argv[argc++] = t;
    redisReply *r = redisCommandArgv(b, argc, (const char **)argv, NULL);
    cr_assert(r && r->type != REDIS_REPLY_ERROR, "\"%s\": %s", cmd, r ? r->str : "no reply");
    freeReplyObject(r);
    sc_cmd_expect_or_fail(a, "OK", "MULTI");
    sc_cmd_expect_or_fail(a, "QUEUED", "PING");
    r = sc_cmd_or_fail(a, "EXEC");
    bool ran = r->type == REDIS_REPLY_ARRAY;
    freeReplyObject(r);
    redisFree(a);
    redisFree(b);
    return ran;
}

Test(stream_groups, watch_as_redis) {
    const char *redis = sc_reference_redis_binary();
    if (!redis) cr_skip_test("redis-server not installed");
    sc_server_start_or_fail(&srv, NULL);
    sc_server_start_bin_or_fail(&ref, redis, NULL);
    static const char *const cmds[] = {
        "XREADGROUP GROUP g bob STREAMS s >", "XACK s g 1-1", "XCLAIM s g bob 0 1-1",
        "XAUTOCLAIM s g bob 0 0", "XGROUP SETID s g 0", "XGROUP CREATECONSUMER s g carol",
        "XGROUP DELCONSUMER s g alice", "XGROUP DESTROY s g", "XGROUP CREATE s g2 0",
        "XGROUP CREATE t g $ MKSTREAM", "XGROUP CREATE s g3 $ MKSTREAM", "XSETID s 9-9", "XADD s 5-1 f v",
        "XDEL s 1-1", "XTRIM s MAXLEN 0",
    };
    int survived = 0;
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        bool mine = watch_survives(&srv, cmds[i]), theirs = watch_survives(&ref, cmds[i]);
        cr_expect_eq(mine, theirs, "\"%s\": the watching transaction %s here, %s on redis-server", cmds[i],
                     mine ? "ran" : "aborted", theirs ? "ran" : "aborted");
        survived += theirs;
    }
    cr_expect(survived > 0 && survived < (int)(sizeof cmds / sizeof *cmds), "both outcomes are exercised");
    sc_server_stop_or_fail(&srv);
    sc_server_stop_or_fail(&ref);
}

/* ---- XREADGROUP BLOCK without a wake-up, and MEMORY USAGE ---- */

Test(stream_groups, block_and_memory) {
    sc_server_start_or_fail(&srv, NULL);
    redisContext *c = sc_connect_or_fail(&srv);
    sc_cmd_expect_or_fail(c, "OK", "XGROUP CREATE s g $ MKSTREAM");
    redisReply *r = sc_cmd_or_fail(c, "XREADGROUP GROUP g c BLOCK 10 STREAMS s >");
    cr_expect(r->type == REDIS_REPLY_NIL, "a block that times out answers the null array");
    freeReplyObject(r);
    sc_cmd_expect_or_fail(c, "OK", "MULTI");
    sc_cmd_expect_or_fail(c, "QUEUED", "XREADGROUP GROUP g c BLOCK 0 STREAMS s >");
    r = sc_cmd_or_fail(c, "EXEC");
    cr_expect(r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->type == REDIS_REPLY_NIL,
              "inside MULTI a block answers a null array");
    freeReplyObject(r);
    /* data there: BLOCK serves at once */
    freeReplyObject(sc_cmd_or_fail(c, "XADD s 1-1 f v"));
    r = sc_cmd_or_fail(c, "XREADGROUP GROUP g c BLOCK 0 STREAMS s >");
    cr_expect(r->type == REDIS_REPLY_ARRAY && r->elements == 1, "BLOCK with data is served");
    freeReplyObject(r);

    /* MEMORY USAGE and used_memory count a PEL of 5000 entries */
    for (int i = 2; i <= 5001; i++) redisAppendCommand(c, "XADD s %d-1 f v", i);
    for (int i = 2; i <= 5001; i++) {
        cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
        freeReplyObject(r);
    }
    long long mem0 = sc_cmd_ll_or_fail(c, "MEMORY USAGE s");
    long long used0 = sc_info_ll_or_fail(c, "memory", "used_memory");
    freeReplyObject(sc_cmd_or_fail(c, "XREADGROUP GROUP g c STREAMS s >"));
    long long mem1 = sc_cmd_ll_or_fail(c, "MEMORY USAGE s");
    long long used1 = sc_info_ll_or_fail(c, "memory", "used_memory");
    cr_expect(mem1 - mem0 >= 5000 * 56 && mem1 - mem0 <= 5000 * 120, "MEMORY USAGE +%lld for 5000 pending",
              mem1 - mem0);
    cr_expect(used1 - used0 >= 5000 * 56, "used_memory +%lld for 5000 pending", used1 - used0);
    cr_expect_eq(sc_cmd_ll_or_fail(c, "XGROUP DESTROY s g"), 1);
    long long mem2 = sc_cmd_ll_or_fail(c, "MEMORY USAGE s");
    cr_expect(mem2 <= mem0 + 256, "the group's memory given back: %lld (was %lld)", mem2, mem0);
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}
