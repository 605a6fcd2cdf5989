/*
 * test_pubsub.c - publish/subscribe against a multi-threaded server
 * (--threads 4): every subscriber (on many connections, hence several
 * workers) receives every message of each publisher in publish order;
 * pattern subscriptions; (un)subscribe counts and disconnect cleanup; the
 * RESP2 subscriber-mode restrictions; RESP3 push frames over a raw socket;
 * keyspace notifications; a subscriber that never reads is disconnected by
 * client-output-buffer-limit pubsub while a reading one gets everything.
 *
 * Helper threads never call Criterion assertions: they record the first
 * failure and the test's main thread asserts after joining.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server_proc.h"
#include "thread_fail.h"

static sc_server srv;
static const char *const threaded[] = { "--threads", "4", NULL };

TestSuite(pubsub, .fini = sc_server_cleanup, .timeout = 300);

/* ---- reply checks ------------------------------------------------------ */

/* Next reply from a subscriber connection (fails the test on error). */
static redisReply *next_reply(redisContext *c)
{
    void *r = NULL;
    cr_assert(redisGetReply(c, &r) == REDIS_OK && r, "read failed: %s", c->errstr);
    return r;
}

/* Expect [kind, name, count] (name NULL: a nil name). */
static void expect_confirm(redisContext *c, const char *kind, const char *name, long long count)
{
    redisReply *r = next_reply(c);
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "%s: not an array (type %d, %s)", kind, r->type,
                 r->type == REDIS_REPLY_ERROR ? r->str : "");
    cr_assert_eq(r->elements, 3);
    cr_assert(sc_reply_is(r->element[0], kind), "kind is %s, want %s", r->element[0]->str, kind);
    if (name)
        cr_assert(sc_reply_is(r->element[1], name), "name is %s, want %s", r->element[1]->str, name);
    else
        cr_assert_eq(r->element[1]->type, REDIS_REPLY_NIL, "name is not nil");
    cr_assert_eq(r->element[2]->type, REDIS_REPLY_INTEGER);
    cr_assert_eq(r->element[2]->integer, count, "%s %s: count %lld, want %lld", kind, name ? name : "(nil)",
                 r->element[2]->integer, count);
    freeReplyObject(r);
}

/* Expect [message, channel, payload] or [pmessage, pattern, channel, payload]
 * (or, with kind "smessage", [smessage, channel, payload]). */
static void expect_kind_message(redisContext *c, const char *kind, const char *pattern, const char *channel,
                                const char *payload)
{
    redisReply *r = next_reply(c);
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "not an array (type %d, %s)", r->type,
                 r->type == REDIS_REPLY_ERROR ? r->str : "");
    size_t i = 0;
    if (pattern) {
        cr_assert_eq(r->elements, 4);
        cr_assert(sc_reply_is(r->element[i++], "pmessage"), "want pmessage, got %s", r->element[0]->str);
        cr_assert(sc_reply_is(r->element[i++], pattern), "pattern %s, want %s", r->element[1]->str, pattern);
    } else {
        cr_assert_eq(r->elements, 3);
        cr_assert(sc_reply_is(r->element[i++], kind), "want %s, got %s", kind, r->element[0]->str);
    }
    cr_assert(sc_reply_is(r->element[i], channel), "channel %s, want %s", r->element[i]->str, channel);
    i++;
    cr_assert(sc_reply_is(r->element[i], payload), "payload %s, want %s", r->element[i]->str, payload);
    freeReplyObject(r);
}

static void expect_message(redisContext *c, const char *pattern, const char *channel, const char *payload)
{
    expect_kind_message(c, "message", pattern, channel, payload);
}

static long long cmd_int(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    cr_assert(r, "command failed: %s", c->errstr);
    cr_assert_eq(r->type, REDIS_REPLY_INTEGER, "not an integer reply (type %d, %s)", r->type,
                 r->type == REDIS_REPLY_ERROR ? r->str : "");
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

/* PUBSUB NUMSUB ch: the count (no assertions; -1 on error). */
static long long numsub(redisContext *c, const char *ch)
{
    redisReply *r = redisCommand(c, "PUBSUB NUMSUB %s", ch);
    long long v = -1;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[1]->type == REDIS_REPLY_INTEGER)
        v = r->element[1]->integer;
    if (r) freeReplyObject(r);
    return v;
}

/* ---- ordered delivery across workers ----------------------------------- */

#define SUBSCRIBERS 8
#define PUBLISHERS 2
#define MESSAGES 10000 /* per publisher */

typedef struct {
    int id;
    long long receivers_seen_bad;
} publisher_arg;

static void *publisher_main(void *p)
{
    publisher_arg *a = p;
    redisContext *c = sc_thread_connect(&srv, 60000);
    if (!c) return NULL;
    for (int base = 0; base < MESSAGES; base += 1000) {
        for (int i = base; i < base + 1000; i++) redisAppendCommand(c, "PUBLISH ordered %d:%d", a->id, i);
        for (int i = base; i < base + 1000; i++) {
            void *rv = NULL;
            if (redisGetReply(c, &rv) != REDIS_OK || !rv) {
                sc_thread_fail("publisher %d: read: %s", a->id, c->errstr);
                redisFree(c);
                return NULL;
            }
            redisReply *r = rv;
            if (r->type != REDIS_REPLY_INTEGER || r->integer != SUBSCRIBERS) {
                a->receivers_seen_bad++;
                sc_thread_fail("publisher %d: PUBLISH %d returned type %d value %lld, want %d", a->id, i, r->type,
                               r->integer, SUBSCRIBERS);
            }
            freeReplyObject(r);
        }
    }
    redisFree(c);
    return NULL;
}

typedef struct {
    redisContext *c;
    int index;
} subscriber_arg;

/* Read PUBLISHERS * MESSAGES messages; each publisher's in sequence. */
static void *subscriber_main(void *p)
{
    subscriber_arg *a = p;
    int next[PUBLISHERS] = { 0 };
    for (int n = 0; n < PUBLISHERS * MESSAGES; n++) {
        void *rv = NULL;
        if (redisGetReply(a->c, &rv) != REDIS_OK || !rv) {
            sc_thread_fail("subscriber %d: read after %d messages: %s", a->index, n, a->c->errstr);
            return NULL;
        }
        redisReply *r = rv;
        int pub = -1, seq = -1;
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 || !sc_reply_is(r->element[0], "message") ||
            !sc_reply_is(r->element[1], "ordered") || sscanf(r->element[2]->str, "%d:%d", &pub, &seq) != 2 || pub < 0 ||
            pub >= PUBLISHERS) {
            sc_thread_fail("subscriber %d: unexpected reply #%d", a->index, n);
            freeReplyObject(r);
            return NULL;
        }
        freeReplyObject(r);
        if (seq != next[pub]) {
            sc_thread_fail("subscriber %d: publisher %d message %d arrived when %d was expected", a->index, pub, seq,
                           next[pub]);
            return NULL;
        }
        next[pub]++;
    }
    return NULL;
}

Test(pubsub, every_subscriber_gets_every_message_in_order)
{
    sc_server_start_or_fail(&srv, threaded);
    redisContext *subs[SUBSCRIBERS];
    for (int i = 0; i < SUBSCRIBERS; i++) {
        subs[i] = sc_connect_or_fail(&srv);
        redisReply *r = sc_cmd_or_fail(subs[i], "SUBSCRIBE ordered");
        cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
        cr_assert_eq(r->element[2]->integer, 1);
        freeReplyObject(r);
    }
    redisContext *c = sc_connect_or_fail(&srv);
    cr_assert_eq(numsub(c, "ordered"), SUBSCRIBERS);
    cr_assert_eq(sc_info_ll_or_fail(c, "stats", "pubsub_channels"), 1);

    pthread_t sub_threads[SUBSCRIBERS], pub_threads[PUBLISHERS];
    subscriber_arg sargs[SUBSCRIBERS];
    publisher_arg pargs[PUBLISHERS];
    for (int i = 0; i < SUBSCRIBERS; i++) {
        sargs[i] = (subscriber_arg){ subs[i], i };
        pthread_create(&sub_threads[i], NULL, subscriber_main, &sargs[i]);
    }
    for (int i = 0; i < PUBLISHERS; i++) {
        pargs[i] = (publisher_arg){ i, 0 };
        pthread_create(&pub_threads[i], NULL, publisher_main, &pargs[i]);
    }
    for (int i = 0; i < PUBLISHERS; i++) pthread_join(pub_threads[i], NULL);
    for (int i = 0; i < SUBSCRIBERS; i++) pthread_join(sub_threads[i], NULL);
    sc_no_thread_failures_or_fail();

    /* Subscribers stay in subscriber mode and answer PING. */
    for (int i = 0; i < SUBSCRIBERS; i++) {
        redisReply *r = sc_cmd_or_fail(subs[i], "PING");
        cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
        cr_assert(sc_reply_is(r->element[0], "pong"));
        freeReplyObject(r);
        redisFree(subs[i]);
    }
    /* Closing the connections drops their subscriptions. */
    cr_assert(SC_WAIT_FOR(numsub(c, "ordered") == 0, 5000), "NUMSUB stays %lld", numsub(c, "ordered"));
    cr_assert(SC_WAIT_FOR(sc_info_ll_or_fail(c, "stats", "pubsub_channels") == 0, 5000));
    cr_assert_eq(cmd_int(c, "PUBLISH ordered late"), 0);
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

/* ---- patterns ---------------------------------------------------------- */

Test(pubsub, pattern_subscriptions)
{
    sc_server_start_or_fail(&srv, threaded);
    redisContext *a = sc_connect_or_fail(&srv), *b = sc_connect_or_fail(&srv), *p = sc_connect_or_fail(&srv);

    redisAppendCommand(a, "PSUBSCRIBE news.*");
    expect_confirm(a, "psubscribe", "news.*", 1);
    redisAppendCommand(b, "SUBSCRIBE news.sport");
    expect_confirm(b, "subscribe", "news.sport", 1);
    redisAppendCommand(b, "PSUBSCRIBE news.* n?ws.[st]port");
    expect_confirm(b, "psubscribe", "news.*", 2);
    expect_confirm(b, "psubscribe", "n?ws.[st]port", 3);

    cr_assert_eq(cmd_int(p, "PUBSUB NUMPAT"), 2);
    cr_assert_eq(numsub(p, "news.sport"), 1);
    cr_assert_eq(numsub(p, "news.*"), 0); /* NUMSUB ignores patterns */
    cr_assert_eq(sc_info_ll_or_fail(p, "stats", "pubsub_patterns"), 2);

    /* a: one pattern; b: the channel and two patterns. */
    cr_assert_eq(cmd_int(p, "PUBLISH news.sport goal"), 4);
    cr_assert_eq(cmd_int(p, "PUBLISH news.tech chip"), 2);
    cr_assert_eq(cmd_int(p, "PUBLISH other x"), 0);
    cr_assert_eq(cmd_int(p, "PUBLISH NEWS.sport case"), 0); /* patterns are case-sensitive */

    expect_message(a, "news.*", "news.sport", "goal");
    expect_message(a, "news.*", "news.tech", "chip");

    /* The channel message first; the pattern messages in an order Redis
     * does not define. */
    expect_message(b, NULL, "news.sport", "goal");
    bool seen_star = false, seen_class = false;
    for (int i = 0; i < 2; i++) {
        redisReply *r = next_reply(b);
        cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
        cr_assert_eq(r->elements, 4);
        cr_assert(sc_reply_is(r->element[0], "pmessage"));
        cr_assert(sc_reply_is(r->element[2], "news.sport"));
        cr_assert(sc_reply_is(r->element[3], "goal"));
        if (sc_reply_is(r->element[1], "news.*")) seen_star = true;
        if (sc_reply_is(r->element[1], "n?ws.[st]port")) seen_class = true;
        freeReplyObject(r);
    }
    cr_assert(seen_star && seen_class);
    expect_message(b, "news.*", "news.tech", "chip");

    /* Dropping one subscriber of a shared pattern keeps the pattern. */
    redisAppendCommand(a, "PUNSUBSCRIBE news.*");
    expect_confirm(a, "punsubscribe", "news.*", 0);
    cr_assert_eq(cmd_int(p, "PUBSUB NUMPAT"), 2);
    cr_assert_eq(cmd_int(p, "PUBLISH news.tech again"), 1);
    expect_message(b, "news.*", "news.tech", "again");
    redisAppendCommand(b, "PUNSUBSCRIBE");
    expect_confirm(b, "punsubscribe", "news.*", 2);
    expect_confirm(b, "punsubscribe", "n?ws.[st]port", 1);
    cr_assert_eq(cmd_int(p, "PUBSUB NUMPAT"), 0);
    cr_assert_eq(cmd_int(p, "PUBLISH news.sport last"), 1);
    expect_message(b, NULL, "news.sport", "last");

    redisFree(a);
    redisFree(b);
    redisFree(p);
    sc_server_stop_or_fail(&srv);
}


/* ---- (un)subscribe counts ---------------------------------------------- */

/* Two confirmations whose names come in an order Redis does not define. */
static void expect_confirm_pair(redisContext *c, const char *kind, const char *n1, const char *n2, long long first)
{
    bool seen1 = false, seen2 = false;
    for (int i = 0; i < 2; i++) {
        redisReply *r = next_reply(c);
        cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
        cr_assert_eq(r->elements, 3);
        cr_assert(sc_reply_is(r->element[0], kind));
        if (sc_reply_is(r->element[1], n1)) seen1 = true;
        if (sc_reply_is(r->element[1], n2)) seen2 = true;
        cr_assert_eq(r->element[2]->integer, first - i);
        freeReplyObject(r);
    }
    cr_assert(seen1 && seen2, "%s: want %s and %s", kind, n1, n2);
}

Test(pubsub, subscribe_and_unsubscribe_counts)
{
    sc_server_start_or_fail(&srv, threaded);
    redisContext *s = sc_connect_or_fail(&srv), *c = sc_connect_or_fail(&srv);

    redisAppendCommand(s, "SUBSCRIBE a b c a");
    expect_confirm(s, "subscribe", "a", 1);
    expect_confirm(s, "subscribe", "b", 2);
    expect_confirm(s, "subscribe", "c", 3);
    expect_confirm(s, "subscribe", "a", 3);
    redisAppendCommand(s, "PSUBSCRIBE x*");
    expect_confirm(s, "psubscribe", "x*", 4);
    /* Shard channels have their own count. */
    redisAppendCommand(s, "SSUBSCRIBE s1 s2");
    expect_confirm(s, "ssubscribe", "s1", 1);
    expect_confirm(s, "ssubscribe", "s2", 2);
    cr_assert_eq(sc_info_ll_or_fail(c, "stats", "pubsub_channels"), 3);
    cr_assert_eq(sc_info_ll_or_fail(c, "stats", "pubsub_patterns"), 1);
    cr_assert_eq(sc_info_ll_or_fail(c, "stats", "pubsubshard_channels"), 2);
    cr_assert_eq(cmd_int(c, "SPUBLISH s1 hello"), 1);
    cr_assert_eq(cmd_int(c, "SPUBLISH a nobody"), 0); /* shard and plain channels are apart */
    cr_assert_eq(cmd_int(c, "PUBLISH s1 nobody"), 0);
    expect_kind_message(s, "smessage", NULL, "s1", "hello");

    redisAppendCommand(s, "UNSUBSCRIBE b nosuch");
    expect_confirm(s, "unsubscribe", "b", 3);
    expect_confirm(s, "unsubscribe", "nosuch", 3);
    redisAppendCommand(s, "UNSUBSCRIBE");
    expect_confirm_pair(s, "unsubscribe", "a", "c", 2);
    redisAppendCommand(s, "UNSUBSCRIBE");
    expect_confirm(s, "unsubscribe", NULL, 1); /* the pattern still counts */
    redisAppendCommand(s, "PUNSUBSCRIBE");
    expect_confirm(s, "punsubscribe", "x*", 0);
    redisAppendCommand(s, "PUNSUBSCRIBE");
    expect_confirm(s, "punsubscribe", NULL, 0);
    /* Still in subscriber mode through the shard channels. */
    redisReply *r = sc_cmd_or_fail(s, "GET x");
    cr_assert_eq(r->type, REDIS_REPLY_ERROR);
    freeReplyObject(r);
    redisAppendCommand(s, "SUNSUBSCRIBE");
    expect_confirm_pair(s, "sunsubscribe", "s1", "s2", 1);
    redisAppendCommand(s, "SUNSUBSCRIBE");
    expect_confirm(s, "sunsubscribe", NULL, 0);
    r = sc_cmd_or_fail(s, "GET x");
    cr_assert_eq(r->type, REDIS_REPLY_NIL);
    freeReplyObject(r);
    cr_assert_eq(sc_info_ll_or_fail(c, "stats", "pubsub_channels"), 0);
    cr_assert_eq(sc_info_ll_or_fail(c, "stats", "pubsub_patterns"), 0);
    cr_assert_eq(sc_info_ll_or_fail(c, "stats", "pubsubshard_channels"), 0);

    /* A disconnecting subscriber leaves nothing behind. */
    redisAppendCommand(s, "SUBSCRIBE d e");
    expect_confirm(s, "subscribe", "d", 1);
    expect_confirm(s, "subscribe", "e", 2);
    redisAppendCommand(s, "PSUBSCRIBE d*");
    expect_confirm(s, "psubscribe", "d*", 3);
    redisAppendCommand(s, "SSUBSCRIBE d");
    expect_confirm(s, "ssubscribe", "d", 1);
    cr_assert_eq(cmd_int(c, "PUBLISH d x"), 2);
    redisFree(s);
    cr_assert(SC_WAIT_FOR(numsub(c, "d") == 0, 5000));
    cr_assert_eq(cmd_int(c, "PUBSUB NUMPAT"), 0);
    cr_assert_eq(cmd_int(c, "PUBLISH d x"), 0);
    cr_assert_eq(cmd_int(c, "SPUBLISH d x"), 0);
    cr_assert_eq(sc_info_ll_or_fail(c, "stats", "pubsub_channels"), 0);
    cr_assert_eq(sc_info_ll_or_fail(c, "stats", "pubsubshard_channels"), 0);
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

/* ---- RESP2 subscriber mode --------------------------------------------- */

Test(pubsub, resp2_subscriber_mode_restrictions)
{
    sc_server_start_or_fail(&srv, threaded);
    redisContext *s = sc_connect_or_fail(&srv);
    redisAppendCommand(s, "SUBSCRIBE ch");
    expect_confirm(s, "subscribe", "ch", 1);

    static const char *const denied[][2] = {
        { "GET x", "get" },
        { "PUBLISH ch x", "publish" },
        { "PUBSUB NUMSUB ch", "pubsub|numsub" },
        { "CLIENT ID", "client|id" },
        { "SELECT 1", "select" },
    };
    for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++) {
        redisReply *r = sc_cmd_or_fail(s, denied[i][0]);
        char want[256];
        snprintf(want, sizeof want,
                 "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed "
                 "in this context",
                 denied[i][1]);
        cr_assert_eq(r->type, REDIS_REPLY_ERROR, "%s was not refused", denied[i][0]);
        cr_assert_str_eq(r->str, want);
        freeReplyObject(r);
    }
    /* PING answers [pong, arg-or-empty]. */
    redisReply *r = sc_cmd_or_fail(s, "PING");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 2);
    cr_assert(sc_reply_is(r->element[0], "pong"));
    cr_assert(sc_reply_is(r->element[1], ""));
    freeReplyObject(r);
    r = sc_cmd_or_fail(s, "PING hi");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 2 && sc_reply_is(r->element[1], "hi"));
    freeReplyObject(r);
    /* Subscribing more is allowed. */
    redisAppendCommand(s, "PSUBSCRIBE p*");
    expect_confirm(s, "psubscribe", "p*", 2);

    /* RESET leaves the mode silently and drops the subscriptions. */
    sc_cmd_expect_or_fail(s, "RESET", "RESET");
    sc_cmd_expect_or_fail(s, "PONG", "PING");
    r = sc_cmd_or_fail(s, "GET x");
    cr_assert_eq(r->type, REDIS_REPLY_NIL);
    freeReplyObject(r);
    cr_assert_eq(numsub(s, "ch"), 0);
    cr_assert_eq(cmd_int(s, "PUBSUB NUMPAT"), 0);

    /* After UNSUBSCRIBE every command works again. */
    redisAppendCommand(s, "SUBSCRIBE ch");
    expect_confirm(s, "subscribe", "ch", 1);
    redisAppendCommand(s, "UNSUBSCRIBE ch");
    expect_confirm(s, "unsubscribe", "ch", 0);
    sc_cmd_expect_or_fail(s, "OK", "SET x 1");
    sc_cmd_expect_or_fail(s, "1", "GET x");
    redisFree(s);
    sc_server_stop_or_fail(&srv);
}

/* ---- RESP3 push frames ------------------------------------------------- */

static void raw_expect(int fd, const char *line, const char *reply)
{
    if (line) sc_raw_send_line_or_fail(fd, line);
    cr_assert(sc_raw_expect(fd, reply, 5000), "after %s", line ? line : "(waiting)");
}

Test(pubsub, resp3_push_messages)
{
    sc_server_start_or_fail(&srv, threaded);
    int fd = sc_raw_connect_or_fail(srv.port);
    sc_reader rd;
    sc_reader_init(&rd, fd);
    sc_raw_send_line_or_fail(fd, "HELLO 3");
    char *hello = NULL;
    size_t hlen = 0;
    cr_assert(sc_reader_next(&rd, &hello, &hlen, 5000));
    cr_assert_eq(hello[0], '%');
    free(hello);
    cr_assert_eq(rd.pos, rd.in.len, "unexpected bytes after HELLO");

    raw_expect(fd, "SUBSCRIBE ch other", ">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
                                         ">3\r\n$9\r\nsubscribe\r\n$5\r\nother\r\n:2\r\n");
    raw_expect(fd, "PSUBSCRIBE c*", ">3\r\n$10\r\npsubscribe\r\n$2\r\nc*\r\n:3\r\n");
    raw_expect(fd, "SSUBSCRIBE sh", ">3\r\n$10\r\nssubscribe\r\n$2\r\nsh\r\n:1\r\n");
    /* Every command stays allowed in RESP3. */
    raw_expect(fd, "PING", "+PONG\r\n");
    raw_expect(fd, "GET nokey", "_\r\n");
    raw_expect(fd, "PUBSUB NUMSUB ch", "*2\r\n$2\r\nch\r\n:1\r\n");

    /* Messages from another connection (maybe another worker). */
    redisContext *p = sc_connect_or_fail(&srv);
    cr_assert_eq(cmd_int(p, "PUBLISH ch hello"), 2);
    raw_expect(fd, NULL, ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n"
                         ">4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$5\r\nhello\r\n");
    cr_assert_eq(cmd_int(p, "SPUBLISH sh bye"), 1);
    raw_expect(fd, NULL, ">3\r\n$8\r\nsmessage\r\n$2\r\nsh\r\n$3\r\nbye\r\n");
    /* Publishing to ourselves: the message comes before PUBLISH's reply. */
    raw_expect(fd, "PUBLISH other self", ">3\r\n$7\r\nmessage\r\n$5\r\nother\r\n$4\r\nself\r\n:1\r\n");
    raw_expect(fd, "SPUBLISH sh me", ">3\r\n$8\r\nsmessage\r\n$2\r\nsh\r\n$2\r\nme\r\n:1\r\n");
    /* A nil name is RESP3 null. */
    raw_expect(fd, "UNSUBSCRIBE ch other", ">3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:2\r\n"
                                           ">3\r\n$11\r\nunsubscribe\r\n$5\r\nother\r\n:1\r\n");
    raw_expect(fd, "UNSUBSCRIBE", ">3\r\n$11\r\nunsubscribe\r\n_\r\n:1\r\n");
    raw_expect(fd, "PUNSUBSCRIBE", ">3\r\n$12\r\npunsubscribe\r\n$2\r\nc*\r\n:0\r\n");
    raw_expect(fd, "SUNSUBSCRIBE", ">3\r\n$12\r\nsunsubscribe\r\n$2\r\nsh\r\n:0\r\n");
    cr_assert_eq(cmd_int(p, "PUBLISH ch nobody"), 0);
    cr_assert(sc_raw_quiet(fd, 200), "data after the last unsubscribe");
    sc_reader_free(&rd);
    close(fd);
    redisFree(p);
    sc_server_stop_or_fail(&srv);
}

/* ---- keyspace notifications -------------------------------------------- */

Test(pubsub, keyspace_notifications)
{
    sc_server_start_or_fail(&srv, threaded);
    redisContext *s = sc_connect_or_fail(&srv), *e = sc_connect_or_fail(&srv), *c = sc_connect_or_fail(&srv);
    redisAppendCommand(s, "PSUBSCRIBE __key*__:*");
    expect_confirm(s, "psubscribe", "__key*__:*", 1);
    redisAppendCommand(e, "SUBSCRIBE __keyevent@0__:del");
    expect_confirm(e, "subscribe", "__keyevent@0__:del", 1);

    /* Off by default: nothing is published. */
    sc_cmd_expect_or_fail(c, "OK", "SET quiet 1");
    sc_cmd_expect_or_fail(c, "1", "DEL quiet");
    sc_cmd_expect_or_fail(c, "OK", "CONFIG SET notify-keyspace-events KEA");
    sc_cmd_expect_or_fail(c, "OK", "SET foo bar");
    sc_cmd_expect_or_fail(c, "1", "EXPIRE foo 100");
    sc_cmd_expect_or_fail(c, "1", "DEL foo");
    sc_cmd_expect_or_fail(c, "0", "DEL foo");        /* nothing deleted: no event */
    sc_cmd_expect_or_fail(c, "OK", "SET k v PX 50");
    sc_sleep_ms(150);
    redisReply *r = sc_cmd_or_fail(c, "GET k");      /* expired (lazily, or already by the cycle) */
    cr_assert_eq(r->type, REDIS_REPLY_NIL);
    freeReplyObject(r);
    sc_cmd_expect_or_fail(c, "OK", "SELECT 1");
    sc_cmd_expect_or_fail(c, "OK", "SET inone 1");

    static const char *const events[][2] = {
        { "__keyspace@0__:foo", "set" },    { "__keyevent@0__:set", "foo" },
        { "__keyspace@0__:foo", "expire" }, { "__keyevent@0__:expire", "foo" },
        { "__keyspace@0__:foo", "del" },    { "__keyevent@0__:del", "foo" },
        { "__keyspace@0__:k", "set" },      { "__keyevent@0__:set", "k" },
        { "__keyspace@0__:k", "expire" },   { "__keyevent@0__:expire", "k" },
        { "__keyspace@0__:k", "expired" },  { "__keyevent@0__:expired", "k" },
        { "__keyspace@1__:inone", "set" },  { "__keyevent@1__:set", "inone" },
    };
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++)
        expect_message(s, "__key*__:*", events[i][0], events[i][1]);
    expect_message(e, NULL, "__keyevent@0__:del", "foo");

    /* Turned off again: the next message is our marker. */
    sc_cmd_expect_or_fail(c, "OK", "CONFIG SET notify-keyspace-events %s", "");
    sc_cmd_expect_or_fail(c, "OK", "SET after 1");
    cr_assert_eq(cmd_int(c, "PUBLISH __keyspace@0__:marker done"), 1);
    expect_message(s, "__key*__:*", "__keyspace@0__:marker", "done");
    redisFree(s);
    redisFree(e);
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

/* ---- output limit ------------------------------------------------------ */

#define BIG_MESSAGES 400
#define BIG_SIZE (64 * 1024)

#define BIG_AHEAD 8 /* messages the publisher may run ahead of the fast reader */

typedef struct {
    redisContext *c;
    atomic_int received;
} reader_arg;

static void *fast_reader_main(void *p)
{
    reader_arg *a = p;
    for (int i = 0; i < BIG_MESSAGES; i++) {
        void *rv = NULL;
        if (redisGetReply(a->c, &rv) != REDIS_OK || !rv) {
            sc_thread_fail("fast subscriber: read after %d messages: %s", i, a->c->errstr);
            return NULL;
        }
        redisReply *r = rv;
        int seq = -1;
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 || r->element[2]->len != BIG_SIZE ||
            sscanf(r->element[2]->str, "%d:", &seq) != 1 || seq != i) {
            sc_thread_fail("fast subscriber: message %d is wrong (seq %d)", i, seq);
            freeReplyObject(r);
            return NULL;
        }
        freeReplyObject(r);
        atomic_fetch_add(&a->received, 1);
    }
    return NULL;
}

Test(pubsub, slow_subscriber_is_disconnected_by_pubsub_output_limit)
{
    sc_server_start_or_fail(&srv, threaded);
    redisContext *c = sc_connect_or_fail(&srv);
    sc_cmd_expect_or_fail(c, "OK", "CONFIG SET client-output-buffer-limit %s", "pubsub 2mb 0 0");

    /* The slow one subscribes and then never reads. */
    int slow = sc_raw_connect_or_fail(srv.port);
    raw_expect(slow, "SUBSCRIBE big", "*3\r\n$9\r\nsubscribe\r\n$3\r\nbig\r\n:1\r\n");

    redisContext *fast = sc_connect_or_fail(&srv);
    redisAppendCommand(fast, "SUBSCRIBE big");
    expect_confirm(fast, "subscribe", "big", 1);
    cr_assert_eq(numsub(c, "big"), 2);

    reader_arg ra = { .c = fast };
    atomic_init(&ra.received, 0);
    pthread_t reader;
    pthread_create(&reader, NULL, fast_reader_main, &ra);
    char *payload = malloc(BIG_SIZE);
    memset(payload, 'x', BIG_SIZE);
    for (int i = 0; i < BIG_MESSAGES; i++) {
        /* Pace on the reading subscriber only (it stays well under the
         * limit however the threads are scheduled); the other never reads. */
        if (!SC_WAIT_FOR(atomic_load(&ra.received) >= i - BIG_AHEAD || sc_thread_failures() > 0, 20000)) {
            sc_thread_fail("fast subscriber stuck at %d of %d messages", atomic_load(&ra.received), i);
            break;
        }
        if (sc_thread_failures() > 0) break;
        int n = snprintf(payload, 32, "%d:", i);
        payload[n] = 'x';
        redisReply *r = redisCommand(c, "PUBLISH big %b", payload, (size_t)BIG_SIZE);
        if (!r || r->type != REDIS_REPLY_INTEGER || r->integer < 1) {
            sc_thread_fail("PUBLISH %d failed", i);
            if (r) freeReplyObject(r);
            break;
        }
        freeReplyObject(r);
    }
    free(payload);
    pthread_join(reader, NULL);
    sc_no_thread_failures_or_fail();
    cr_assert_eq(atomic_load(&ra.received), BIG_MESSAGES);

    /* Only the slow subscriber was dropped. */
    cr_assert(SC_WAIT_FOR(numsub(c, "big") == 1, 10000), "NUMSUB big is %lld", numsub(c, "big"));
    cr_assert(sc_raw_wait_closed(slow, 10000), "slow subscriber still connected");
    close(slow);
    redisReply *r = sc_cmd_or_fail(fast, "PING");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 2 && sc_reply_is(r->element[0], "pong"));
    freeReplyObject(r);
    cr_assert_eq(cmd_int(c, "PUBLISH big end"), 1);
    redisFree(fast);
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}
