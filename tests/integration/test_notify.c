/*
 * test_notify.c - keyspace notifications of the string, generic-key and
 * expire commands, message by message: a subscriber (PSUBSCRIBE
 * __key*__:*) must receive exactly the events Redis 7.0 publishes for a
 * script of writes run on another connection (--threads 2, so usually on
 * another worker), in order, and nothing else (a marker PUBLISH closes
 * every check). Then the notify-keyspace-events classes: "" publishes
 * nothing, "KEA" has no "new", "Kx" only keyspace "expired", "En" only
 * keyevent "new". Then, family by family (strings, generic keys and
 * expiry, lists, sets, hashes, sorted sets, lock scripts, bitmaps, blocked clients
 * served by another client's write), the write funnel: a command that
 * changes nothing raises no event, and a command with several events
 * raises Redis's sequence, checked side by side with redis-server.
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

#include "lock_script_bodies.h"
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

/* ---- the write funnel, family by family, side by side with Redis -------
 *
 * Each family's table runs on slotcache and, when there is one, on the
 * reference redis-server (sc_reference_redis_binary) at the same time. A
 * pattern subscriber on __keyevent@*__:* (classes "EAn": every class and
 * "new") records each step's events up to a marker; both servers must
 * publish the sequence written in the table, which was taken from Redis
 * 7.0.15 (so a table error shows as a Redis mismatch), and give the same
 * reply. Steps with "" are commands that change nothing: no event at all.
 * "@<id> args": EVAL of the lock script <id> (lock_script_bodies.h);
 * "^src RESTORE ...": RESTORE of src's DUMP. */

#define EV_PATTERN "__keyevent@*__:*"

typedef struct {
    const char *cmd;    /* a leading '~': the reply is random, not compared */
    const char *events; /* "event:key" (db 0) or "event@db:key", "" none */
} ev_step;

typedef struct {
    sc_server *srv;
    redisContext *c, *s; /* commands, subscriber */
    const char *label;
} ev_side;

static sc_server ref;

static void ev_side_open(ev_side *x, sc_server *srv, const char *label)
{
    x->srv = srv;
    x->label = label;
    x->c = sc_connect_or_fail(srv);
    x->s = sc_connect_or_fail(srv);
    redisAppendCommand(x->s, "PSUBSCRIBE " EV_PATTERN);
    void *rv = NULL;
    cr_assert(redisGetReply(x->s, &rv) == REDIS_OK && rv, "%s: PSUBSCRIBE", label);
    freeReplyObject(rv);
    run(x->c, "CONFIG SET notify-keyspace-events EAn", "OK");
}

static void ev_side_close(ev_side *x)
{
    redisFree(x->s);
    redisFree(x->c);
}

/* Start slotcache and, when there is one, redis-server, each with its
 * command and subscriber connections; returns how many sides run. */
static int ev_sides_start(ev_side sides[2])
{
    sc_server_start_or_fail(&srv, threaded);
    ev_side_open(&sides[0], &srv, "slotcache");
    const char *redis = sc_reference_redis_binary();
    if (!redis) return 1;
    sc_server_start_bin_or_fail(&ref, redis, NULL);
    ev_side_open(&sides[1], &ref, "redis-server");
    return 2;
}

static void ev_sides_stop(ev_side *sides, int n)
{
    for (int j = n - 1; j >= 0; j--) {
        ev_side_close(&sides[j]);
        sc_server_stop_or_fail(sides[j].srv);
    }
}

/* Run "@<id> numkeys key... arg...": EVAL of that lock script's body. */
static redisReply *ev_run_script(redisContext *c, const char *line)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", line + 1);
    const char *argv[SC_LINE_MAX_WORDS + 2];
    int argc = 0;
    char *save = NULL;
    char *id = strtok_r(buf, " ", &save);
    const char *body = NULL;
    for (int i = 0; i < TLS_COUNT; i++)
        if (strcmp(test_lock_scripts[i].id, id) == 0) body = test_lock_scripts[i].body;
    cr_assert(body, "no lock script %s", id);
    argv[argc++] = "EVAL";
    argv[argc++] = body;
    for (char *w = strtok_r(NULL, " ", &save); w && argc < SC_LINE_MAX_WORDS + 2; w = strtok_r(NULL, " ", &save))
        argv[argc++] = w;
    redisReply *r = redisCommandArgv(c, argc, argv, NULL);
    cr_assert(r, "%s: connection lost (%s)", line, c->errstr);
    return r;
}

/* Run "^src RESTORE dst ttl [option...]": RESTORE with the DUMP of src
 * as its payload (after ttl). */
static redisReply *ev_run_restore(redisContext *c, const char *line)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", line + 1);
    char *save = NULL;
    char *src = strtok_r(buf, " ", &save);
    redisReply *dump = redisCommand(c, "DUMP %s", src);
    cr_assert(dump && dump->type == REDIS_REPLY_STRING, "%s: no DUMP of %s", line, src);
    const char *argv[SC_LINE_MAX_WORDS + 1];
    size_t lens[SC_LINE_MAX_WORDS + 1];
    int argc = 0;
    for (char *w = strtok_r(NULL, " ", &save); w && argc < SC_LINE_MAX_WORDS; w = strtok_r(NULL, " ", &save)) {
        argv[argc] = w;
        lens[argc++] = strlen(w);
        if (argc == 3) {
            argv[argc] = dump->str;
            lens[argc++] = dump->len;
        }
    }
    redisReply *r = redisCommandArgv(c, argc, argv, lens);
    cr_assert(r, "%s: connection lost (%s)", line, c->errstr);
    freeReplyObject(dump);
    return r;
}

/* Run one step; its reply as text into reply. */
static void ev_run(ev_side *x, const char *line, char *reply, size_t n)
{
    redisReply *r = line[0] == '@'   ? ev_run_script(x->c, line)
                    : line[0] == '^' ? ev_run_restore(x->c, line)
                                     : sc_cmd_line_or_fail(x->c, line);
    sc_reply_text(r, reply, n);
    freeReplyObject(r);
}

/* The events published since the last call, as "event:key" words (db 0)
 * or "event@db:key", up to the marker this publishes. */
static void ev_collect(ev_side *x, char *out, size_t n, const char *what)
{
    run(x->c, "PUBLISH __keyevent@0__:marker done", "1");
    size_t used = 0;
    out[0] = '\0';
    for (;;) {
        void *rv = NULL;
        cr_assert(redisGetReply(x->s, &rv) == REDIS_OK && rv, "%s (%s): no marker (%s)", what, x->label,
                  x->s->errstr);
        redisReply *r = rv;
        cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 4 && sc_reply_is(r->element[0], "pmessage"),
                  "%s (%s): not a pmessage", what, x->label);
        const char *chan = r->element[2]->str;
        int db = -1, off = 0;
        cr_assert(sscanf(chan, "__keyevent@%d__:%n", &db, &off) == 1 && off > 0, "%s (%s): channel %s", what,
                  x->label, chan);
        if (db == 0 && strcmp(chan + off, "marker") == 0 && sc_reply_is(r->element[3], "done")) {
            freeReplyObject(r);
            return;
        }
        int w = db == 0 ? snprintf(out + used, n - used, "%s%s:%.*s", used ? " " : "", chan + off,
                                   (int)r->element[3]->len, r->element[3]->str)
                        : snprintf(out + used, n - used, "%s%s@%d:%.*s", used ? " " : "", chan + off, db,
                                   (int)r->element[3]->len, r->element[3]->str);
        cr_assert(w > 0 && (size_t)w < n - used, "%s (%s): too many events", what, x->label);
        used += (size_t)w;
        freeReplyObject(r);
    }
}

/* Run the table on slotcache and (when there is one) redis-server. */
static void ev_run_family(const ev_step *steps, size_t nsteps)
{
    ev_side sides[2];
    int nsides = ev_sides_start(sides);
    for (size_t i = 0; i < nsteps; i++) {
        bool random_reply = steps[i].cmd[0] == '~';
        const char *cmd = steps[i].cmd + random_reply;
        char reply[2][512], got[2][1024];
        for (int j = 0; j < nsides; j++) {
            ev_run(&sides[j], cmd, reply[j], sizeof reply[j]);
            ev_collect(&sides[j], got[j], sizeof got[j], cmd);
        }
        if (nsides == 2 && !random_reply)
            cr_assert_str_eq(reply[0], reply[1], "\"%s\": slotcache replied \"%s\", redis-server \"%s\"",
                             cmd, reply[0], reply[1]);
        for (int j = nsides - 1; j >= 0; j--)
            cr_assert_str_eq(got[j], steps[i].events, "\"%s\" on %s: events \"%s\", want \"%s\"", cmd,
                             sides[j].label, got[j], steps[i].events);
    }
    ev_sides_stop(sides, nsides);
}

#define RUN_FAMILY(t) ev_run_family(t, sizeof t / sizeof t[0])

Test(notify, string_family)
{
    static const ev_step t[] = {
        { "SET s1 v EX 100", "new:s1 set:s1 expire:s1" },
        { "SET s1 v2 NX", "" },
        { "SET nos v XX", "" },
        { "SET s1 v3 XX GET", "set:s1" },
        { "SETEX s2 100 v", "new:s2 set:s2 expire:s2" },
        { "PSETEX s2 100000 w", "set:s2 expire:s2" },
        { "SETNX s2 x", "" },
        { "MSETNX s2 a s3 b", "" },
        { "MSET s3 a s4 b", "new:s3 set:s3 new:s4 set:s4" },
        { "SETRANGE s3 0 \"\"", "" },
        { "SETRANGE nos 3 \"\"", "" },
        { "APPEND s3 bc", "append:s3" },
        { "INCR s3", "" },
        { "INCRBYFLOAT s3 1", "" },
        { "GETEX s3", "" },
        { "GETEX s3 PERSIST", "" },
        { "GETEX s2 PERSIST", "persist:s2" },
        { "GETEX s2 EX 100", "expire:s2" },
        { "GETEX s2 PXAT 1", "del:s2" },
        { "GETDEL nos", "" },
        { "GETDEL s4", "del:s4" },
        { "GETSET s5 1", "new:s5 set:s5" },
        { "INCRBYFLOAT s5 0.5", "incrbyfloat:s5" },
        { "SET s5 v EXAT 4000000000", "set:s5 expire:s5" },
        { "SET s5 w KEEPTTL", "set:s5" },
        { "APPEND s6 x", "new:s6 append:s6" },
        { "SETRANGE s6 3 y", "setrange:s6" },
        { "INCRBY s7 5", "new:s7 incrby:s7" },
        { "DECRBY s7 5", "incrby:s7" },
        { "LPUSH wt x", "new:wt lpush:wt" },
        { "SET wt v GET", "" },
        { "APPEND wt v", "" },
    };
    RUN_FAMILY(t);
}

Test(notify, generic_family)
{
    static const ev_step t[] = {
        { "DEL nog", "" },
        { "UNLINK nog nog2", "" },
        { "MSET g1 a g2 b", "new:g1 set:g1 new:g2 set:g2" },
        { "DEL g1 nog g2", "del:g1 del:g2" },
        { "MSET g1 a g2 b g3 c", "new:g1 set:g1 new:g2 set:g2 new:g3 set:g3" },
        { "TOUCH g1 nog", "" },
        { "EXPIRE nog 10", "" },
        { "PERSIST g1", "" },
        { "EXPIRE g1 100", "expire:g1" },
        { "EXPIRE g1 200 NX", "" },
        { "EXPIRE g1 50 GT", "" },
        { "EXPIRE g2 50 XX", "" },
        { "EXPIRE g2 50 GT", "" },
        { "PEXPIRE g1 300000 GT", "expire:g1" },
        { "PERSIST g1", "persist:g1" },
        { "EXPIRE g1 -1", "del:g1" },
        { "PEXPIREAT g2 1", "del:g2" },
        { "EXPIREAT nog 1", "" },
        { "RENAME g3 g3", "" },
        { "SET g4 v", "new:g4 set:g4" },
        { "RENAMENX g3 g4", "" },
        { "RENAME g3 g4", "new:g4 rename_from:g3 rename_to:g4" },
        { "RENAME nog g5", "" },
        { "COPY g4 g5", "new:g5 copy_to:g5" },
        { "COPY g4 g5", "" },
        { "COPY g4 g5 REPLACE", "new:g5 copy_to:g5" },
        { "COPY nog g6", "" },
        { "MOVE g5 1", "new@1:g5 move_from:g5 move_to@1:g5" },
        { "MOVE nog 1", "" },
        { "SET g5 v", "new:g5 set:g5" },
        { "MOVE g5 1", "" },
        { "SELECT 1", "" },
        { "DEL g5", "del@1:g5" },
        { "SELECT 0", "" },
        { "RPUSH gl a", "new:gl rpush:gl" },
        { "RENAME gl gl2", "new:gl2 rename_from:gl rename_to:gl2" },
        /* RESTORE (REPLACE: the old key goes without an event) */
        { "^g4 RESTORE r1 0", "new:r1 restore:r1" },
        { "^g4 RESTORE r1 0", "" },
        { "^g4 RESTORE r1 0 REPLACE", "new:r1 restore:r1" },
        { "^g4 RESTORE r1 100000 REPLACE", "new:r1 restore:r1" },
        { "^g4 RESTORE r1 1 REPLACE ABSTTL", "del:r1" },
        { "^g4 RESTORE r2 1 ABSTTL", "" },
    };
    RUN_FAMILY(t);
}

Test(notify, list_family)
{
    static const ev_step t[] = {
        { "LPUSH l1 a b c", "new:l1 lpush:l1" },
        { "RPUSH l1 d", "rpush:l1" },
        { "LPUSHX nol x", "" },
        { "RPUSHX nol x", "" },
        { "LPUSHX l1 z", "lpush:l1" },
        { "LINSERT l1 BEFORE nopivot x", "" },
        { "LINSERT nol BEFORE a x", "" },
        { "LINSERT l1 AFTER a x", "linsert:l1" },
        { "LSET l1 0 q", "lset:l1" },
        { "LSET l1 100 q", "" },
        { "LREM l1 0 nomatch", "" },
        { "LREM nol 0 a", "" },
        { "LREM l1 1 x", "lrem:l1" },
        /* Redis 7.0 raises "ltrim" for a trim that keeps every element */
        { "LTRIM l1 0 -1", "ltrim:l1" },
        { "LTRIM nol 0 1", "" },
        { "LTRIM l1 0 1", "ltrim:l1" },
        { "LPOP nol", "" },
        { "LPOP l1 0", "" },
        { "RPOP l1", "rpop:l1" },
        { "LPOP l1", "lpop:l1 del:l1" },
        { "RPUSH l2 1 2 3", "new:l2 rpush:l2" },
        { "LPOP l2 5", "lpop:l2 del:l2" },
        { "RPUSH l3 1 2 3", "new:l3 rpush:l3" },
        { "LTRIM l3 5 10", "ltrim:l3 del:l3" },
        { "RPUSH l3 1 2 1", "new:l3 rpush:l3" },
        { "LREM l3 0 1", "lrem:l3" },
        { "LREM l3 0 2", "lrem:l3 del:l3" },
        /* LMOVE: the push on the destination, then the pop on the source */
        { "RPUSH src a b", "new:src rpush:src" },
        { "LMOVE nol dst LEFT RIGHT", "" },
        { "LMOVE src dst LEFT RIGHT", "new:dst rpush:dst lpop:src" },
        { "LMOVE src src LEFT RIGHT", "rpush:src lpop:src" },
        { "LMOVE src dst RIGHT LEFT", "lpush:dst rpop:src del:src" },
        { "RPOPLPUSH dst dst2", "new:dst2 lpush:dst2 rpop:dst" },
        { "LMPOP 2 nol dst LEFT", "lpop:dst del:dst" },
        { "LMPOP 1 nol RIGHT", "" },
        /* blocking forms served at once */
        { "BLPOP dst2 0", "lpop:dst2 del:dst2" },
        { "RPUSH b1 x y", "new:b1 rpush:b1" },
        { "BLMOVE b1 b2 LEFT LEFT 0", "new:b2 lpush:b2 lpop:b1" },
        { "BRPOPLPUSH b1 b2 0", "lpush:b2 rpop:b1 del:b1" },
        { "BLMPOP 0 1 b2 RIGHT COUNT 5", "rpop:b2 del:b2" },
    };
    RUN_FAMILY(t);
}

Test(notify, set_family)
{
    static const ev_step t[] = {
        { "SADD st1 a b c", "new:st1 sadd:st1" },
        { "SADD st1 a", "" },
        { "SADD st1 a d", "sadd:st1" },
        { "SREM st1 nomember", "" },
        { "SREM nost a", "" },
        { "SREM st1 a x", "srem:st1" },
        { "SMOVE st1 st2 nomember", "" },
        { "SMOVE nost st2 a", "" },
        { "SMOVE st1 st1 b", "" },
        { "SMOVE st1 st2 b", "srem:st1 new:st2 sadd:st2" },
        { "SADD st3 c", "new:st3 sadd:st3" },
        { "SMOVE st1 st3 c", "srem:st1" },
        { "SMOVE st1 st2 d", "srem:st1 del:st1 sadd:st2" },
        { "SPOP nost", "" },
        { "SPOP st2 0", "" },
        { "SADD sp 1", "new:sp sadd:sp" },
        { "SPOP sp", "spop:sp del:sp" },
        { "SADD sp 1 2 3 4 5", "new:sp sadd:sp" },
        { "~SPOP sp 2", "spop:sp" },
        { "~SPOP sp 10", "spop:sp del:sp" },
        { "SINTERSTORE nodst nost1 nost2", "" },
        { "SADD x1 a b", "new:x1 sadd:x1" },
        { "SADD x2 b c", "new:x2 sadd:x2" },
        { "SINTERSTORE d1 x1 x2", "new:d1 sinterstore:d1" },
        { "SUNIONSTORE d1 x1 x2", "sunionstore:d1" },
        { "SDIFFSTORE d1 x1 x1", "del:d1" },
        { "SINTERSTORE d1 x1 nost", "" },
        { "SINTERSTORE x1 x1 x2", "sinterstore:x1" },
    };
    RUN_FAMILY(t);
}

Test(notify, hash_family)
{
    static const ev_step t[] = {
        { "HSET h1 f1 v1 f2 v2", "new:h1 hset:h1" },
        { "HSET h1 f1 v1", "hset:h1" },
        { "HSETNX h1 f1 x", "" },
        { "HSETNX h1 f3 x", "hset:h1" },
        { "HMSET h1 f4 y", "hset:h1" },
        { "HDEL h1 nofield", "" },
        { "HDEL noh f1", "" },
        { "HDEL h1 f1 nofield", "hdel:h1" },
        { "HINCRBY h1 n 5", "hincrby:h1" },
        { "HINCRBY h1 f2 1", "" },
        { "HINCRBYFLOAT h1 fl 1.5", "hincrbyfloat:h1" },
        { "HINCRBYFLOAT h1 f2 1", "" },
        { "HINCRBY noh2 n 1", "new:noh2 hincrby:noh2" },
        { "HDEL h1 f2 f3 f4 n fl", "hdel:h1 del:h1" },
        { "HSETNX h2 f v", "new:h2 hset:h2" },
        { "HDEL h2 f", "hdel:h2 del:h2" },
    };
    RUN_FAMILY(t);
}

Test(notify, zset_family)
{
    static const ev_step t[] = {
        { "ZADD z1 1 a 2 b", "new:z1 zadd:z1" },
        { "ZADD noz XX 1 a", "" },
        { "ZADD z1 NX 5 a", "" },
        { "ZADD z1 GT 0 a", "" },
        { "ZADD z1 LT 5 a", "" },
        { "ZADD z1 1 a", "" },
        { "ZADD z1 3 a", "zadd:z1" },
        { "ZADD z1 INCR 1 a", "zincr:z1" },
        { "ZINCRBY z1 1 c", "zincr:z1" },
        { "ZADD z1 XX INCR 1 nomember", "" },
        { "ZREM z1 nomember", "" },
        { "ZREM noz a", "" },
        { "ZREM z1 a nomember", "zrem:z1" },
        { "ZREMRANGEBYSCORE z1 100 200", "" },
        { "ZREMRANGEBYRANK noz 0 -1", "" },
        { "ZREMRANGEBYLEX z1 [x [y", "" },
        { "ZADD z2 0 a 0 b 0 c 0 d", "new:z2 zadd:z2" },
        { "ZREMRANGEBYLEX z2 [a [a", "zremrangebylex:z2" },
        { "ZREMRANGEBYRANK z2 0 0", "zremrangebyrank:z2" },
        { "ZREMRANGEBYSCORE z2 -inf +inf", "zremrangebyscore:z2 del:z2" },
        { "ZPOPMIN noz", "" },
        { "ZPOPMIN z1 0", "" },
        { "ZPOPMIN z1", "zpopmin:z1" },
        { "ZPOPMAX z1", "zpopmax:z1 del:z1" },
        { "ZADD z3 1 a 2 b 3 c", "new:z3 zadd:z3" },
        { "ZMPOP 2 noz z3 MIN COUNT 2", "zpopmin:z3" },
        { "BZPOPMAX z3 0", "zpopmax:z3 del:z3" },
        { "ZADD z4 1 a", "new:z4 zadd:z4" },
        { "BZMPOP 0 1 z4 MAX", "zpopmax:z4 del:z4" },
        { "ZADD za 1 a 2 b", "new:za zadd:za" },
        { "ZADD zb 2 b 3 c", "new:zb zadd:zb" },
        { "ZUNIONSTORE zd 2 za zb", "new:zd zunionstore:zd" },
        { "ZINTERSTORE zd 2 za zb", "zinterstore:zd" },
        { "ZDIFFSTORE zd 2 za za", "del:zd" },
        { "ZDIFFSTORE zd 2 za za", "" },
        { "ZRANGESTORE zd za 0 0", "new:zd zrangestore:zd" },
        { "ZRANGESTORE zd za 5 10", "del:zd" },
        { "ZUNIONSTORE zd 1 noz", "" },
    };
    RUN_FAMILY(t);
}

Test(notify, lock_script_family)
{
    static const ev_step t[] = {
        { "@rs_touchnx 1 lk tok 100000", "new:lk set:lk expire:lk" },
        { "@rs_touchnx 1 lk other 100000", "" },
        { "@py_reacquire 1 lk tok 200000", "expire:lk" },
        { "@py_reacquire 1 lk bad 200000", "" },
        { "@rs_touch 1 lk tok -1", "del:lk" },
        { "@py_release 1 lk tok", "" },
        { "@rs_touchnx 1 lk tok 100000", "new:lk set:lk expire:lk" },
        { "@py_release 1 lk tok", "del:lk" },
        { "@rl4_lock 2 {m}a {m}b tok 100000", "new:{m}a set:{m}a expire:{m}a new:{m}b set:{m}b expire:{m}b" },
        { "@rs_delete 1 {m}a tok", "del:{m}a" },
        { "@rs_delete 1 {m}a tok", "" },
    };
    RUN_FAMILY(t);
}

/* A client blocked on a key, served by another client's write: the write's
 * events, then the pop's ("del" when it empties the key), as Redis 7.0. */
typedef struct {
    const char *setup; /* NULL: none */
    const char *block; /* run by a second client, which blocks */
    const char *write;
    const char *events;
} ev_blocked;

static void ev_serve_blocked(ev_side *x, const ev_blocked *t, char *out, size_t n)
{
    char reply[512];
    if (t->setup) {
        ev_run(x, t->setup, reply, sizeof reply);
        ev_collect(x, out, n, t->setup);
    }
    redisContext *b = sc_connect_or_fail(x->srv);
    redisAppendCommand(b, t->block);
    int done = 0;
    while (!done) cr_assert(redisBufferWrite(b, &done) == REDIS_OK, "%s: send", t->block);
    bool blocked = SC_WAIT_FOR(sc_info_ll_or_fail(x->c, "clients", "blocked_clients") == 1, 5000);
    cr_assert(blocked, "%s (%s): never blocked", t->block, x->label);
    ev_run(x, t->write, reply, sizeof reply);
    void *rv = NULL;
    cr_assert(redisGetReply(b, &rv) == REDIS_OK && rv, "%s (%s): not served", t->block, x->label);
    freeReplyObject(rv);
    redisFree(b);
    ev_collect(x, out, n, t->write);
}

Test(notify, served_blocked_clients)
{
    static const ev_blocked t[] = {
        { NULL, "BLPOP bq 0", "LPUSH bq a", "new:bq lpush:bq lpop:bq del:bq" },
        { NULL, "BLMOVE bq bd LEFT RIGHT 0", "RPUSH bq a b", "new:bq rpush:bq new:bd rpush:bd lpop:bq" },
        { NULL, "BLMPOP 0 1 bq2 LEFT COUNT 3", "RPUSH bq2 a b", "new:bq2 rpush:bq2 lpop:bq2 del:bq2" },
        { NULL, "BZPOPMIN bz 0", "ZADD bz 1 a", "new:bz zadd:bz zpopmin:bz del:bz" },
        { "RPUSH tmp a", "BLPOP bq3 0", "RENAME tmp bq3", "new:bq3 rename_from:tmp rename_to:bq3 lpop:bq3 del:bq3" },
    };
    ev_side sides[2];
    int nsides = ev_sides_start(sides);
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        for (int j = nsides - 1; j >= 0; j--) {
            char got[1024];
            ev_serve_blocked(&sides[j], &t[i], got, sizeof got);
            cr_assert_str_eq(got, t[i].events, "\"%s\" served by \"%s\" on %s: events \"%s\", want \"%s\"",
                             t[i].block, t[i].write, sides[j].label, got, t[i].events);
        }
    }
    ev_sides_stop(sides, nsides);
}

Test(notify, hyperloglog_family)
{
    static const ev_step t[] = {
        { "PFADD h a b", "new:h pfadd:h" },
        { "PFADD h a", "" },
        { "PFADD h", "" },
        { "PFADD h2", "new:h2 pfadd:h2" },
        { "PFCOUNT h", "" },
        { "PFCOUNT h h2 nokey", "" },
        { "PFMERGE h3 h h2", "new:h3 pfadd:h3" },
        { "PFMERGE h3", "pfadd:h3" },
        { "PFDEBUG TODENSE h", "" },
        { "PFADD h c", "pfadd:h" },
        { "PFDEBUG GETREG h2", "" },
        { "LPUSH wt x", "new:wt lpush:wt" },
        { "PFADD wt x", "" },
        { "PFMERGE h3 wt", "" },
    };
    RUN_FAMILY(t);
}

Test(notify, bitmap_family)
{
    static const ev_step t[] = {
        { "SETBIT b 7 1", "new:b setbit:b" },
        { "SETBIT b 7 1", "" },
        { "SETBIT b 3 0", "" },
        { "SETBIT b 100 0", "setbit:b" },
        { "SETBIT b2 5 0", "new:b2 setbit:b2" },
        { "SET n 12", "new:n set:n" },
        { "SETBIT n 0 0", "" },
        { "GETBIT b 7", "" },
        { "BITCOUNT b", "" },
        { "BITPOS b 1", "" },
        { "BITOP OR d b n", "new:d set:d" },
        { "BITOP AND d b nokey", "set:d" },
        { "BITOP OR d nokey", "del:d" },
        { "BITOP OR d nokey", "" },
        { "BITOP NOT b2 b2", "set:b2" },
        { "BITFIELD f GET u8 0", "" },
        { "BITFIELD f SET u8 0 1", "new:f setbit:f" },
        { "BITFIELD f SET u8 0 1 INCRBY u8 0 0", "" },
        { "BITFIELD f INCRBY u8 0 1 INCRBY i4 0 1", "setbit:f" },
        { "BITFIELD f OVERFLOW FAIL INCRBY u8 0 300", "" },
        { "BITFIELD f2 OVERFLOW FAIL SET u2 0 10", "new:f2" },
        { "BITFIELD f2 OVERFLOW FAIL SET u2 100 10 SET u2 0 1", "setbit:f2" },
        { "BITFIELD_RO f GET u8 0", "" },
        { "LPUSH wt x", "new:wt lpush:wt" },
        { "SETBIT wt 1 1", "" },
        { "BITOP OR d wt", "" },
        { "BITFIELD wt SET u8 0 1", "" },
    };
    RUN_FAMILY(t);
}
