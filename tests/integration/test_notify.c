/*
 * test_notify.c - keyspace notifications of the string, generic-key and
 * expire commands, message by message: a subscriber (PSUBSCRIBE
 * __key*__:*) must receive exactly the events Redis 7.0 publishes for a
 * script of writes run on another connection (--threads 2, so usually on
 * another worker), in order, and nothing else (a marker PUBLISH closes
 * every check). Then the notify-keyspace-events classes: "" publishes
 * nothing, "KEA" has no "new", "Kx" only keyspace "expired", "En" only
 * keyevent "new".
 *
 * The expected lists were validated against redis-server 7.0.15
 * (SLOTCACHE_SERVER=/usr/bin/redis-server). Already-expired keys are set and
 * read inside MULTI/EXEC so that the active expire cycle cannot raise their
 * "expired" event at an unpredictable point.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_proc.h"

static sc_server srv;
static const char *const threaded[] = { "--threads", "2", NULL };

TestSuite(notify, .fini = sc_server_cleanup, .timeout = 300);

#define PATTERN "__key*__:*"

/* ---- helpers ----------------------------------------------------------- */

/* Run a space-separated command ("" is an empty argument) and check its
 * reply text when `expect` is not NULL. */
static void run(redisContext *c, const char *line, const char *expect)
{
    redisReply *r = sc_cmd_line_or_fail(c, line);
    char got[512];
    sc_reply_text(r, got, sizeof got);
    freeReplyObject(r);
    if (expect) cr_assert_str_eq(got, expect, "\"%s\": got \"%s\", want \"%s\"", line, got, expect);
}

/* The next pmessage on the subscriber must be (channel, payload). `what`
 * names the step for the failure message. */
static void expect_pmessage(redisContext *s, const char *channel, const char *payload, const char *what)
{
    void *rv = NULL;
    cr_assert(redisGetReply(s, &rv) == REDIS_OK && rv, "%s: no message %s %s (%s)", what, channel, payload,
              s->errstr);
    redisReply *r = rv;
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 4 && sc_reply_is(r->element[0], "pmessage") &&
                  sc_reply_is(r->element[1], PATTERN),
              "%s: not a pmessage of " PATTERN, what);
    cr_assert(sc_reply_is(r->element[2], channel) && sc_reply_is(r->element[3], payload),
              "%s: got \"%.*s\" \"%.*s\", want \"%s\" \"%s\"", what, (int)r->element[2]->len, r->element[2]->str,
              (int)r->element[3]->len, r->element[3]->str, channel, payload);
    freeReplyObject(r);
}

/* Expected events of one step: space-separated "event:key" (database 0)
 * or "event@db:key"; each is published as the keyspace message, then the
 * keyevent message (classes K and E both on). */
static void expect_events(redisContext *s, const char *events, bool keyspace, bool keyevent, const char *what)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", events);
    char *save = NULL;
    for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *colon = strchr(tok, ':');
        cr_assert(colon, "bad expected event %s", tok);
        *colon = '\0';
        const char *key = colon + 1;
        int db = 0;
        char *at = strchr(tok, '@');
        if (at) {
            *at = '\0';
            db = atoi(at + 1);
        }
        char chan[256];
        if (keyspace) {
            snprintf(chan, sizeof chan, "__keyspace@%d__:%s", db, key);
            expect_pmessage(s, chan, tok, what);
        }
        if (keyevent) {
            snprintf(chan, sizeof chan, "__keyevent@%d__:%s", db, tok);
            expect_pmessage(s, chan, key, what);
        }
    }
}

/* Nothing but the marker may arrive next. */
static void expect_only_marker(redisContext *s, redisContext *c, const char *what)
{
    run(c, "PUBLISH __keyspace@0__:marker done", "1");
    expect_pmessage(s, "__keyspace@0__:marker", "done", what);
}

static redisContext *subscriber(void)
{
    redisContext *s = sc_connect_or_fail(&srv);
    redisAppendCommand(s, "PSUBSCRIBE " PATTERN);
    void *rv = NULL;
    cr_assert(redisGetReply(s, &rv) == REDIS_OK && rv);
    redisReply *r = rv;
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 3 && sc_reply_is(r->element[0], "psubscribe"));
    freeReplyObject(r);
    return s;
}

/* ---- every event of the string, generic and expire commands ------------ */

typedef struct {
    const char *cmd;
    const char *reply;  /* NULL: not checked */
    const char *events; /* "" : none */
} step;

static const step script[] = {
    /* SET family */
    { "SET a 1", "OK", "new:a set:a" },
    { "SET a 2", "OK", "set:a" },
    { "SET b 1 EX 100", "OK", "new:b set:b expire:b" },
    { "SET a 3 KEEPTTL", "OK", "set:a" },
    { "SET a 4 NX", "(nil)", "" },
    { "SET a 5 XX GET", "3", "set:a" },
    { "SET nokey 1 XX", "(nil)", "" },
    { "SETNX e 1", "1", "new:e set:e" },
    { "SETNX e 2", "0", "" },
    { "SETEX f 100 v", "OK", "new:f set:f expire:f" },
    { "PSETEX g 100000 v", "OK", "new:g set:g expire:g" },
    { "MSET h 1 i 2", "OK", "new:h set:h new:i set:i" },
    { "MSETNX h 1 j 2", "0", "" },
    { "MSETNX j 1 k 2", "1", "new:j set:j new:k set:k" },
    { "GETSET k 5", "2", "set:k" },
    /* SETRANGE, APPEND */
    { "SETRANGE s 2 XY", "4", "new:s setrange:s" },
    { "SETRANGE s 0 \"\"", "4", "" },
    { "SETRANGE s2 5 \"\"", "0", "" },
    { "APPEND s zz", "6", "append:s" },
    { "APPEND ap x", "1", "new:ap append:ap" },
    /* INCR family */
    { "INCR n", "1", "new:n incrby:n" },
    { "INCR n", "2", "incrby:n" },
    { "DECR n", "1", "incrby:n" },
    { "INCRBY n 10", "11", "incrby:n" },
    { "DECRBY n 3", "8", "incrby:n" },
    { "INCRBYFLOAT n 1.5", "9.5", "incrbyfloat:n" },
    { "INCRBYFLOAT fl 2", "2", "new:fl incrbyfloat:fl" },
    { "INCR s", "ERR value is not an integer or out of range", "" },
    /* GETEX, GETDEL */
    { "GETEX g EX 100", "v", "expire:g" },
    { "GETEX g PERSIST", "v", "persist:g" },
    { "GETEX g PERSIST", "v", "" },
    { "GETEX g", "v", "" },
    { "GETEX g PXAT 1", "v", "del:g" },
    { "GETDEL i", "2", "del:i" },
    { "GETDEL i", "(nil)", "" },
    /* EXPIRE family, PERSIST */
    { "EXPIRE e 100", "1", "expire:e" },
    { "PEXPIRE e 100000", "1", "expire:e" },
    { "EXPIREAT e 4000000000", "1", "expire:e" },
    { "PEXPIREAT e 4000000000000", "1", "expire:e" },
    { "EXPIRE e 100 NX", "0", "" },
    { "PERSIST e", "1", "persist:e" },
    { "PERSIST e", "0", "" },
    { "EXPIRE e -1", "1", "del:e" },
    { "EXPIRE e 10", "0", "" },
    { "SET e2 1", "OK", "new:e2 set:e2" },
    { "PEXPIREAT e2 1", "1", "del:e2" },
    /* DEL, UNLINK */
    { "DEL a nokey b", "2", "del:a del:b" },
    { "UNLINK h nokey", "1", "del:h" },
    /* RENAME: an existing destination is replaced by a new key, no "del" */
    { "RENAME j j2", "OK", "new:j2 rename_from:j rename_to:j2" },
    { "RENAME j2 j2", "OK", "" },
    { "RENAME j2 k", "OK", "new:k rename_from:j2 rename_to:k" },
    { "RENAMENX k ap", "0", "" },
    { "RENAMENX k k3", "1", "new:k3 rename_from:k rename_to:k3" },
    { "LPUSH L x", "1", "new:L lpush:L" },
    { "RENAME L L2", "OK", "new:L2 rename_from:L rename_to:L2" },
    /* COPY, MOVE */
    { "COPY k3 c1", "1", "new:c1 copy_to:c1" },
    { "COPY k3 c1", "0", "" },
    { "COPY k3 c1 REPLACE", "1", "new:c1 copy_to:c1" },
    { "COPY k3 c1 DB 1", "1", "new@1:c1 copy_to@1:c1" },
    { "MOVE c1 2", "1", "new@2:c1 move_from:c1 move_to@2:c1" },
    { "SET c1 y", "OK", "new:c1 set:c1" },
    { "MOVE c1 2", "0", "" },
    { "MOVE nokey 2", "0", "" },
    /* a SET with an EXAT already passed stores the key, the next access
     * expires it */
    { "MULTI", "OK", "" },
    { "SET x 1 EXAT 1", "QUEUED", "" },
    { "GET x", "QUEUED", "" },
    { "EXEC", "(array of 2)", "new:x set:x expire:x expired:x" },
    /* no per-key events */
    { "FLUSHDB", "OK", "" },
    { "FLUSHALL", "OK", "" },
};

Test(notify, every_event_in_order)
{
    sc_server_start_or_fail(&srv, threaded);
    redisContext *s = subscriber(), *c = sc_connect_or_fail(&srv);
    run(c, "CONFIG SET notify-keyspace-events KEAn", "OK");
    for (size_t i = 0; i < sizeof script / sizeof script[0]; i++) {
        run(c, script[i].cmd, script[i].reply);
        expect_events(s, script[i].events, true, true, script[i].cmd);
    }
    expect_only_marker(s, c, "end of script");
    redisFree(s);
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

/* ---- event classes ----------------------------------------------------- */

/* Writes raising set, new, expire, del, expired, incrby, rename_*. */
static void some_writes(redisContext *c)
{
    run(c, "SET q 1", "OK");
    run(c, "INCR q", "2");
    run(c, "EXPIRE q 100", "1");
    run(c, "RENAME q q2", "OK");
    run(c, "DEL q2", "1");
    run(c, "MULTI", "OK");
    run(c, "SET x 1 PXAT 1", "QUEUED");
    run(c, "GET x", "QUEUED");
    run(c, "EXEC", "(array of 2)");
}

Test(notify, event_classes)
{
    sc_server_start_or_fail(&srv, threaded);
    redisContext *s = subscriber(), *c = sc_connect_or_fail(&srv);

    /* Off (the default, and set explicitly): nothing. */
    some_writes(c);
    expect_only_marker(s, c, "default");
    run(c, "CONFIG SET notify-keyspace-events \"\"", "OK");
    some_writes(c);
    expect_only_marker(s, c, "\"\"");

    /* A excludes n (and m). */
    run(c, "CONFIG SET notify-keyspace-events KEA", "OK");
    some_writes(c);
    expect_events(s,
                  "set:q incrby:q expire:q rename_from:q rename_to:q2 del:q2 set:x expire:x expired:x", true,
                  true, "KEA");
    expect_only_marker(s, c, "KEA");

    /* Kx: keyspace channel, expired events only. */
    run(c, "CONFIG SET notify-keyspace-events Kx", "OK");
    some_writes(c);
    expect_events(s, "expired:x", true, false, "Kx");
    expect_only_marker(s, c, "Kx");

    /* En: keyevent channel, new events only. */
    run(c, "CONFIG SET notify-keyspace-events En", "OK");
    some_writes(c);
    expect_events(s, "new:q new:q2 new:x", false, true, "En");
    expect_only_marker(s, c, "En");

    /* A class without K or E publishes nothing. */
    run(c, "CONFIG SET notify-keyspace-events A", "OK");
    some_writes(c);
    expect_only_marker(s, c, "A");

    redisFree(s);
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}
