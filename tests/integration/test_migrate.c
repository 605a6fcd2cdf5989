/*
 * test_migrate.c - MIGRATE between slotcache and the real redis-server
 * 7.0.15, in both directions at once (skipped when there is no
 * redis-server).
 *
 * Each test starts redis-server (R) and slotcache (S) and, wherever it can,
 * runs the very same MIGRATE on both, each towards the other: slotcache is
 * the source, redis-server the target, and the other way round. Their
 * replies must be equal to each other and to the text the test expects
 * (redis-server as the source is the reference). Source keys live in db 1
 * and are migrated to db 0 of the other server, so both servers hold keys of
 * the same names and a migration in one direction never collides with the
 * other's (test contexts: xx1 in db 1, the sources; xx0 in db 0, the
 * targets).
 *
 * Values are compared through DUMP-independent views (repl_compare.h:
 * GET, LRANGE, SMEMBERS sorted, ZRANGE WITHSCORES, HGETALL sorted), the TTL
 * within a bound, and the target's OBJECT ENCODING of a migrated key must
 * be the encoding it gives its own copy built by commands.
 *
 * Cases: every type and encoding, with and without TTL, with and without
 * COPY; the KEYS form with missing keys, +NOKEY, the target's db; BUSYKEY
 * and REPLACE (a key the target refuses does not stop the others);
 * AUTH/AUTH2 towards targets with requirepass; argument errors, connect
 * refused, a target that never answers (a socket this process holds), a db
 * the target refuses; the connection cache (one connection for many
 * MIGRATEs, a retry on a fresh one after the target restarted); what a
 * replica of the source sees (DEL of the acknowledged keys, nothing with
 * COPY); COMMAND GETKEYS; multi-megabyte payloads.
 *
 * Redis 7.0.15 behaviours asserted that may surprise: a refused connect
 * is "-IOERR error or timeout writing to target instance" (its blocking
 * connect returns success once the socket polls writable, error or not;
 * "connecting to the client" needs a failing address lookup); a RESTORE
 * pipelined behind a refused SELECT or AUTH still runs on the target (in
 * the connection's current db, or authenticated from an earlier MIGRATE)
 * while the source keeps the key and replies the error.
 *
 * Not tested: the cached connection's 10 s idle close (too slow here).
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "repl_compare.h"
#include "server_proc.h"

static sc_server R, S, S2; /* redis-server, slotcache, slotcache replica of S */

TestSuite(migrate, .fini = sc_server_cleanup, .timeout = 120);

static const char *const sut_args[] = {"--threads", "2", NULL};

typedef struct {
    redisContext *r0, *r1; /* redis-server, db 0 and db 1 */
    redisContext *s0, *s1; /* slotcache */
} pair;

static void connect_pair(pair *p) {
    p->r0 = sc_connect_or_fail(&R);
    p->r1 = sc_connect_or_fail(&R);
    p->s0 = sc_connect_or_fail(&S);
    p->s1 = sc_connect_or_fail(&S);
    sc_cmd_expect_or_fail(p->r1, "OK", "SELECT 1");
    sc_cmd_expect_or_fail(p->s1, "OK", "SELECT 1");
}

static void free_ctx(redisContext **c) {
    if (*c) redisFree(*c);
    *c = NULL;
}

/* redis-server and slotcache (2 threads), both with requirepass `pass`
 * when it is not NULL. */
static void start_pair(pair *p, const char *pass) {
    const char *redis = sc_reference_redis_binary();
    if (!redis) cr_skip_test("redis-server not installed: nothing to compare with");
    const char *ra[3] = {NULL}, *sa[5] = {"--threads", "2", NULL};
    if (pass) {
        ra[0] = sa[2] = "--requirepass";
        ra[1] = sa[3] = pass;
    }
    sc_server_start_bin_or_fail(&R, redis, ra);
    sc_server_start_or_fail(&S, sa);
    connect_pair(p);
}

static void stop_pair(pair *p) {
    free_ctx(&p->r0);
    free_ctx(&p->r1);
    free_ctx(&p->s0);
    free_ctx(&p->s1);
    sc_server_stop_many_or_fail((sc_server *const[]){&S, &R}, 2, false);
}

/* ---- replies as text --------------------------------------------------- */

static void repr_into(const redisReply *r, sc_buf *b) {
    switch (r->type) {
    case REDIS_REPLY_STATUS: sc_buf_printf(b, "+%s", r->str); break;
    case REDIS_REPLY_ERROR: sc_buf_printf(b, "-%s", r->str); break;
    case REDIS_REPLY_STRING:
        sc_buf_append(b, "\"", 1);
        sc_buf_append(b, r->str, r->len);
        sc_buf_append(b, "\"", 1);
        break;
    case REDIS_REPLY_INTEGER: sc_buf_printf(b, ":%lld", r->integer); break;
    case REDIS_REPLY_NIL: sc_buf_printf(b, "(nil)"); break;
    case REDIS_REPLY_ARRAY:
        sc_buf_append(b, "[", 1);
        for (size_t i = 0; i < r->elements; i++) {
            if (i) sc_buf_append(b, ", ", 2);
            repr_into(r->element[i], b);
        }
        sc_buf_append(b, "]", 1);
        break;
    default: sc_buf_printf(b, "(type %d)", r->type);
    }
}

/* The reply to a command line (sc_cmd_line_or_fail's words) as text:
 * "+OK", "-ERR ...", ":1", "\"bulk\"", "[...]". Caller frees. */
static char *line_reply(redisContext *c, const char *line) {
    redisReply *r = sc_cmd_line_or_fail(c, line);
    sc_buf b = {0};
    repr_into(r, &b);
    freeReplyObject(r);
    char *s = strdup(b.data ? b.data : "");
    sc_buf_free(&b);
    return s;
}

/* The same command on slotcache (line_s) and redis-server (line_r): the
 * replies must be equal, and equal to `expect` unless it is NULL. */
static void expect_both(redisContext *sc, const char *line_s, redisContext *rc, const char *line_r,
                        const char *expect) {
    char *a = line_reply(sc, line_s), *b = line_reply(rc, line_r);
    if (expect)
        cr_expect_str_eq(b, expect, "redis-server as the source: %s\n  replied  %s\n  expected %s", line_r, b,
                         expect);
    cr_expect_str_eq(a, b, "slotcache: %s\n  replied           %s\n  redis-server gave %s", line_s, a, b);
    free(a);
    free(b);
}

/* "MIGRATE 127.0.0.1 <the other server's port> <rest>" on both sources
 * (db 1): slotcache to redis-server and redis-server to slotcache. */
static void migrate_both(pair *p, const char *rest, const char *expect) {
    char ls[512], lr[512];
    snprintf(ls, sizeof ls, "MIGRATE 127.0.0.1 %d %s", R.port, rest);
    snprintf(lr, sizeof lr, "MIGRATE 127.0.0.1 %d %s", S.port, rest);
    expect_both(p->s1, ls, p->r1, lr, expect);
}

/* The same line (no port in it) on both sources. */
static void same_both(pair *p, const char *line, const char *expect) { expect_both(p->s1, line, p->r1, line, expect); }

static bool exists(redisContext *c, const char *key) { return sc_cmd_ll_or_fail(c, "EXISTS %s", key) == 1; }

/* Both sources (db 1) and both targets (db 0) have / lack `key`. */
static void expect_exists(pair *p, const char *key, bool on_sources, bool on_targets) {
    cr_expect_eq(exists(p->s1, key), on_sources, "slotcache (source) %s %s", on_sources ? "lost" : "still has", key);
    cr_expect_eq(exists(p->r1, key), on_sources, "redis-server (source) %s %s", on_sources ? "lost" : "still has",
                 key);
    cr_expect_eq(exists(p->r0, key), on_targets, "redis-server (target) %s %s", on_targets ? "lacks" : "has", key);
    cr_expect_eq(exists(p->s0, key), on_targets, "slotcache (target) %s %s", on_targets ? "lacks" : "has", key);
}

/* GET key on both targets (db 0) equals `want`. */
static void expect_target_string(pair *p, const char *key, const char *want) {
    sc_cmd_expect_or_fail(p->r0, want, "GET %s", key);
    sc_cmd_expect_or_fail(p->s0, want, "GET %s", key);
}

static void set_both(redisContext *a, redisContext *b, const char *key, const char *val) {
    sc_cmd_expect_or_fail(a, "OK", "SET %s %s", key, val);
    sc_cmd_expect_or_fail(b, "OK", "SET %s %s", key, val);
}

/* TYPE and value (repl_compare.h's canonical text) of a key. */
typedef struct {
    char type[16];
    char *value;
    char encoding[32];
    long long pttl;
} key_view;

static void view_of(redisContext *c, const char *key, key_view *v) {
    redisReply *r = sc_cmd_or_fail(c, "TYPE %s", key);
    snprintf(v->type, sizeof v->type, "%s", r->str ? r->str : "?");
    freeReplyObject(r);
    v->value = sc_repl_value_of(c, key, v->type);
    r = sc_cmd_or_fail(c, "OBJECT ENCODING %s", key);
    snprintf(v->encoding, sizeof v->encoding, "%s", r->type == REDIS_REPLY_STRING ? r->str : "(none)");
    freeReplyObject(r);
    v->pttl = sc_cmd_ll_or_fail(c, "PTTL %s", key);
}

/* ---- building values --------------------------------------------------- */

typedef struct {
    const char *key;
    const char *cmd; /* SET RPUSH SADD ZADD HSET */
    int n;           /* elements (SET: bytes of the value, 0: "12345") */
    bool ints;       /* integer elements */
} spec;

/* cmd key <n generated elements> in batches. */
static void build(redisContext *c, const spec *s, const char *key) {
    enum { BATCH = 1000 };
    static const char *argv[2 + 2 * BATCH];
    static size_t lens[2 + 2 * BATCH];
    static char bufs[2 * BATCH][40];
    if (!strcmp(s->cmd, "SET")) {
        char *v = malloc((size_t)s->n + 8);
        size_t len = s->n ? (size_t)s->n : 5;
        if (s->n)
            for (int i = 0; i < s->n; i++) v[i] = (char)('a' + (i * 7 + i / 26) % 26);
        else memcpy(v, "12345", 5);
        redisReply *r = sc_cmd_or_fail(c, "SET %s %b", key, v, len);
        cr_assert(sc_reply_is(r, "OK"), "SET %s failed", key);
        freeReplyObject(r);
        free(v);
        return;
    }
    bool pairs = !strcmp(s->cmd, "ZADD") || !strcmp(s->cmd, "HSET");
    for (int i = 0; i < s->n; i += BATCH) {
        int m = s->n - i < BATCH ? s->n - i : BATCH, argc = 2;
        argv[0] = s->cmd;
        argv[1] = key;
        for (int j = 0; j < m; j++) {
            int idx = i + j;
            if (!strcmp(s->cmd, "ZADD")) {
                snprintf(bufs[2 * j], sizeof bufs[0], "%d.25", idx * 3 - 100);
                snprintf(bufs[2 * j + 1], sizeof bufs[0], "member-%d", idx);
            } else if (pairs) {
                snprintf(bufs[2 * j], sizeof bufs[0], "field-%d", idx);
                snprintf(bufs[2 * j + 1], sizeof bufs[0], s->ints ? "%d" : "value-%d", idx * 11);
            } else {
                snprintf(bufs[2 * j], sizeof bufs[0], s->ints ? "%d" : "elem-%d", idx * 7 - 50);
            }
            for (int k = 0; k < (pairs ? 2 : 1); k++) {
                argv[argc] = bufs[2 * j + k];
                lens[argc++] = strlen(bufs[2 * j + k]);
            }
        }
        lens[0] = strlen(argv[0]);
        lens[1] = strlen(argv[1]);
        redisReply *r = redisCommandArgv(c, argc, argv, lens);
        cr_assert(r, "%s %s: %s", s->cmd, key, c->errstr);
        cr_assert(r->type != REDIS_REPLY_ERROR, "%s %s: %s", s->cmd, key, r->str);
        freeReplyObject(r);
    }
}

/* Build the specs on both sources (db 1), a TTL of 100 s on the "...:ttl"
 * twin of each when `ttls`. */
static void build_both(pair *p, const spec *specs, size_t n, bool ttls) {
    char key[96];
    for (size_t i = 0; i < n; i++)
        for (int t = 0; t < (ttls ? 2 : 1); t++) {
            snprintf(key, sizeof key, "%s%s", specs[i].key, t ? ":ttl" : "");
            build(p->s1, &specs[i], key);
            build(p->r1, &specs[i], key);
            if (t) {
                cr_assert_eq(sc_cmd_ll_or_fail(p->s1, "PEXPIRE %s 100000", key), 1);
                cr_assert_eq(sc_cmd_ll_or_fail(p->r1, "PEXPIRE %s 100000", key), 1);
            }
        }
}

/* Migrate `key` both ways (COPY when copy) and check what arrived: type and
 * value of the source's copy, its TTL within a bound, the encoding the
 * target gives its own copy of the same value; the source key gone (kept,
 * unchanged, with COPY). */
static void migrate_and_check(pair *p, const char *key, bool copy, int timeout_ms) {
    key_view before_s, before_r, after_r, after_s;
    view_of(p->s1, key, &before_s);
    view_of(p->r1, key, &before_r);
    cr_assert_str_eq(before_s.type, before_r.type, "%s: built differently", key);
    cr_assert_str_eq(before_s.value, before_r.value, "%s: built differently", key);
    cr_assert_str_neq(before_s.type, "none", "%s: not built", key);

    char rest[160];
    snprintf(rest, sizeof rest, "%s 0 %d%s", key, timeout_ms, copy ? " COPY" : "");
    migrate_both(p, rest, "+OK");

    view_of(p->r0, key, &after_r); /* from slotcache */
    view_of(p->s0, key, &after_s); /* from redis-server */
    const struct {
        const char *who;
        key_view *src, *dst, *native;
    } dirs[] = {{"slotcache -> redis-server", &before_s, &after_r, &before_r},
                {"redis-server -> slotcache", &before_r, &after_s, &before_s}};
    for (int d = 0; d < 2; d++) {
        const key_view *src = dirs[d].src, *dst = dirs[d].dst;
        cr_expect_str_eq(dst->type, src->type, "%s %s: type %s arrived as %s", dirs[d].who, key, src->type,
                         dst->type);
        cr_expect_str_eq(dst->value, src->value, "%s %s: the value changed on the way", dirs[d].who, key);
        cr_expect_str_eq(dst->encoding, dirs[d].native->encoding,
                         "%s %s: loaded as %s, the target encodes its own copy as %s", dirs[d].who, key,
                         dst->encoding, dirs[d].native->encoding);
        if (src->pttl < 0)
            cr_expect_eq(dst->pttl, -1, "%s %s: PTTL %lld arrived, the source had none", dirs[d].who, key, dst->pttl);
        else
            cr_expect(dst->pttl <= src->pttl && dst->pttl >= src->pttl - sc_scaled_ms(3000),
                      "%s %s: PTTL %lld before, %lld after", dirs[d].who, key, src->pttl, dst->pttl);
    }
    if (copy) {
        key_view still_s, still_r;
        view_of(p->s1, key, &still_s);
        view_of(p->r1, key, &still_r);
        cr_expect_str_eq(still_s.value, before_s.value, "slotcache: %s changed by MIGRATE COPY", key);
        cr_expect_str_eq(still_r.value, before_r.value, "redis-server: %s changed by MIGRATE COPY", key);
        free(still_s.value);
        free(still_r.value);
    } else {
        cr_expect(!exists(p->s1, key), "slotcache still has %s after MIGRATE", key);
        cr_expect(!exists(p->r1, key), "redis-server still has %s after MIGRATE", key);
    }
    free(before_s.value);
    free(before_r.value);
    free(after_r.value);
    free(after_s.value);
}

/* ---- 1. every type, with and without TTL, with and without COPY --------- */

static const spec types[] = {
    {"str:int", "SET", 0, false},         {"str:emb", "SET", 20, false},
    {"str:raw", "SET", 300, false},       {"list:small", "RPUSH", 5, false},
    {"list:large", "RPUSH", 2000, false}, {"list:ints", "RPUSH", 300, true},
    {"set:intset", "SADD", 40, true},     {"set:hashtable", "SADD", 40, false},
    {"set:large", "SADD", 1000, true},    {"zset:small", "ZADD", 10, false},
    {"zset:large", "ZADD", 500, false},   {"hash:small", "HSET", 8, false},
    {"hash:ints", "HSET", 20, true},      {"hash:large", "HSET", 1000, false},
};
#define NTYPES (sizeof types / sizeof *types)

Test(migrate, every_type_both_ways) {
    pair p = {0};
    start_pair(&p, NULL);
    build_both(&p, types, NTYPES, true);
    /* Sanity: the corpus covers the encodings it is named after. */
    const char *enc[][2] = {{"str:int", "int"},         {"str:emb", "embstr"},        {"str:raw", "raw"},
                            {"set:intset", "intset"},   {"set:hashtable", "hashtable"}, {"set:large", "hashtable"},
                            {"zset:small", "listpack"}, {"zset:large", "skiplist"},   {"hash:small", "listpack"},
                            {"hash:large", "hashtable"}};
    for (size_t i = 0; i < sizeof enc / sizeof *enc; i++) {
        char cmd[80];
        snprintf(cmd, sizeof cmd, "OBJECT ENCODING %s", enc[i][0]);
        char want[40];
        snprintf(want, sizeof want, "\"%s\"", enc[i][1]);
        same_both(&p, cmd, want);
    }
    char key[96];
    for (size_t i = 0; i < NTYPES; i++)
        for (int t = 0; t < 2; t++) {
            snprintf(key, sizeof key, "%s%s", types[i].key, t ? ":ttl" : "");
            migrate_and_check(&p, key, (i + (size_t)t) % 2 == 1, 5000);
        }
    stop_pair(&p);
}

/* ---- 2. the KEYS form, +NOKEY, the target's db -------------------------- */

Test(migrate, keys_form_nokey_and_db) {
    pair p = {0};
    start_pair(&p, NULL);
    set_both(p.s1, p.r1, "a", "va");
    sc_cmd_ll_or_fail(p.s1, "RPUSH b x y z");
    sc_cmd_ll_or_fail(p.r1, "RPUSH b x y z");
    set_both(p.s1, p.r1, "c", "vc");

    migrate_both(&p, "\"\" 0 5000 KEYS a nope1 b nope2", "+OK");
    expect_exists(&p, "a", false, true);
    expect_exists(&p, "b", false, true);
    expect_exists(&p, "c", true, false);
    expect_target_string(&p, "a", "va");
    cr_expect_eq(sc_cmd_ll_or_fail(p.r0, "LLEN b"), 3);
    cr_expect_eq(sc_cmd_ll_or_fail(p.s0, "LLEN b"), 3);

    migrate_both(&p, "\"\" 0 5000 KEYS nope1 nope2", "+NOKEY");
    migrate_both(&p, "nope 0 5000", "+NOKEY");
    migrate_both(&p, "\"\" 0 5000 KEYS a", "+NOKEY"); /* gone already */
    migrate_both(&p, "\"\" 0 5000 COPY KEYS nope c", "+OK");
    expect_exists(&p, "c", true, true);

    /* Another db of the target, then back to db 0 on the cached
     * connection (its SELECT must be sent again). */
    set_both(p.s1, p.r1, "d", "vd");
    set_both(p.s1, p.r1, "e", "ve");
    migrate_both(&p, "d 5 5000", "+OK");
    migrate_both(&p, "e 0 5000", "+OK");
    expect_exists(&p, "d", false, false);
    expect_target_string(&p, "e", "ve");
    sc_cmd_expect_or_fail(p.r0, "OK", "SELECT 5");
    sc_cmd_expect_or_fail(p.s0, "OK", "SELECT 5");
    expect_target_string(&p, "d", "vd");
    cr_expect(!exists(p.r0, "e") && !exists(p.s0, "e"), "e landed in db 5 too");
    sc_cmd_expect_or_fail(p.r0, "OK", "SELECT 0");
    sc_cmd_expect_or_fail(p.s0, "OK", "SELECT 0");

    /* A key that expired is not migrated. */
    sc_cmd_expect_or_fail(p.s1, "OK", "SET gone v PX 1");
    sc_cmd_expect_or_fail(p.r1, "OK", "SET gone v PX 1");
    cr_assert(SC_WAIT_FOR(sc_cmd_ll_or_fail(p.s1, "PTTL gone") == -2 && sc_cmd_ll_or_fail(p.r1, "PTTL gone") == -2,
                          2000));
    migrate_both(&p, "gone 0 5000", "+NOKEY");
    stop_pair(&p);
}

/* ---- 3. BUSYKEY and REPLACE --------------------------------------------- */

#define DB_ERR "-ERR Target instance replied with error: ERR DB index is out of range"
#define BUSYKEY "-ERR Target instance replied with error: BUSYKEY Target key name already exists."

Test(migrate, busykey_and_replace) {
    pair p = {0};
    start_pair(&p, NULL);
    set_both(p.s1, p.r1, "k", "src");
    set_both(p.s0, p.r0, "k", "dst");
    migrate_both(&p, "k 0 5000", BUSYKEY);
    expect_exists(&p, "k", true, true);
    sc_cmd_expect_or_fail(p.s1, "src", "GET k");
    sc_cmd_expect_or_fail(p.r1, "src", "GET k");
    expect_target_string(&p, "k", "dst");

    migrate_both(&p, "k 0 5000 REPLACE", "+OK");
    expect_exists(&p, "k", false, true);
    expect_target_string(&p, "k", "src");

    /* A key the target refuses does not stop the others: those it
     * acknowledged leave the source, the refused one stays. */
    set_both(p.s1, p.r1, "p1", "one");
    set_both(p.s1, p.r1, "p2", "two");
    set_both(p.s1, p.r1, "p3", "three");
    set_both(p.s0, p.r0, "p2", "old");
    migrate_both(&p, "\"\" 0 5000 KEYS p1 p2 p3", BUSYKEY);
    expect_exists(&p, "p1", false, true);
    expect_exists(&p, "p2", true, true);
    expect_exists(&p, "p3", false, true);
    expect_target_string(&p, "p1", "one");
    expect_target_string(&p, "p2", "old");
    expect_target_string(&p, "p3", "three");

    /* The error did not spoil the cached connection. */
    migrate_both(&p, "\"\" 0 5000 REPLACE KEYS p2", "+OK");
    expect_target_string(&p, "p2", "two");

    set_both(p.s1, p.r1, "q", "new");
    set_both(p.s0, p.r0, "q", "old");
    migrate_both(&p, "q 0 5000 COPY REPLACE", "+OK");
    expect_exists(&p, "q", true, true);
    expect_target_string(&p, "q", "new");
    stop_pair(&p);
}

/* ---- 4. AUTH and AUTH2 --------------------------------------------------- */

#define WRONGPASS                                                                                                      \
    "-ERR Target instance replied with error: WRONGPASS invalid username-password pair or user is disabled."

Test(migrate, auth_and_auth2) {
    pair p = {0};
    start_pair(&p, "pw");
    for (int i = 1; i <= 5; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i);
        set_both(p.s1, p.r1, k, k);
    }
    migrate_both(&p, "k1 0 5000", "-ERR Target instance replied with error: NOAUTH Authentication required.");
    migrate_both(&p, "k1 0 5000 AUTH wrong", WRONGPASS);
    migrate_both(&p, "k1 0 5000 AUTH2 default wrong", WRONGPASS);
    migrate_both(&p, "k1 0 5000 AUTH2 nobody pw", WRONGPASS);
    migrate_both(&p, "k1 0 5000 REPLACE AUTH wrong", WRONGPASS);
    expect_exists(&p, "k1", true, false);

    migrate_both(&p, "k1 0 5000 AUTH pw", "+OK");
    migrate_both(&p, "k2 0 5000 COPY AUTH2 default pw", "+OK");
    migrate_both(&p, "\"\" 0 5000 AUTH2 default pw KEYS k3 nope", "+OK");
    expect_exists(&p, "k1", false, true);
    expect_exists(&p, "k2", true, true);
    expect_exists(&p, "k3", false, true);
    expect_target_string(&p, "k3", "k3");
    /* The cached connection stays authenticated (Redis's behaviour). */
    migrate_both(&p, "k4 0 5000", NULL);
    /* A wrong password on an authenticated connection: the AUTH error is
     * the reply and the source keeps the key, but the connection stayed
     * authenticated, so the RESTORE behind it ran (Redis's behaviour). */
    migrate_both(&p, "k5 0 5000 AUTH wrong", WRONGPASS);
    expect_exists(&p, "k5", true, true);
    stop_pair(&p);
}

/* ---- 5. errors ------------------------------------------------------------ */

/* A listening socket on a free loopback port; *port gets it. */
static int listen_loopback(int *port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    cr_assert(listen(fd, 4) == 0);
    socklen_t len = sizeof a;
    cr_assert(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* MIGRATE k with timeout 200 from `src` to a socket this process accepts
 * and never answers: returns the reply's text, *elapsed the time it took.
 * The target must have received a RESTORE and been closed after the
 * error. */
static char *migrate_to_silent_target(redisContext *src, const char *who, long long *elapsed) {
    int port, lfd = listen_loopback(&port);
    long long t0 = sc_now_ms();
    cr_assert(redisAppendCommand(src, "MIGRATE 127.0.0.1 %d k 0 200", port) == REDIS_OK);
    int done = 0;
    while (!done) cr_assert(redisBufferWrite(src, &done) == REDIS_OK, "%s: %s", who, src->errstr);
    struct pollfd pf = {.fd = lfd, .events = POLLIN};
    cr_assert(poll(&pf, 1, sc_scaled_ms(3000)) == 1, "%s did not connect to the target", who);
    int afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    cr_assert(afd >= 0);
    redisReply *r = NULL;
    cr_assert(redisGetReply(src, (void **)&r) == REDIS_OK, "%s: %s", who, src->errstr);
    *elapsed = sc_now_ms() - t0;
    sc_buf b = {0};
    repr_into(r, &b);
    freeReplyObject(r);
    char *text = strdup(b.data);
    sc_buf_free(&b);

    char got[4096];
    ssize_t n = recv(afd, got, sizeof got - 1, MSG_DONTWAIT);
    cr_expect(n > 0 && memmem(got, (size_t)n, "RESTORE", 7), "%s sent no RESTORE to the target", who);
    cr_expect(sc_raw_wait_closed(afd, 2000), "%s kept the timed-out connection open", who);
    close(afd);
    close(lfd);
    return text;
}

Test(migrate, errors) {
    pair p = {0};
    start_pair(&p, NULL);
    set_both(p.s1, p.r1, "k", "v");
    static const struct {
        const char *rest, *expect;
    } cases[] = {
        {"k 0 5000 KEYS k",
         "-ERR When using MIGRATE KEYS option, the key argument must be set to the empty string"},
        {"k 0 5000 KEYS", "-ERR When using MIGRATE KEYS option, the key argument must be set to the empty string"},
        {"k 0 5000 BOGUS", "-ERR syntax error"},
        {"k 0 5000 COPY REPLACE BOGUS", "-ERR syntax error"},
        {"k 0 5000 AUTH", "-ERR syntax error"},
        {"k 0 5000 AUTH2 user", "-ERR syntax error"},
        {"k 0 5000 BOGUS KEYS k", "-ERR syntax error"},
        {"k 0 abc", "-ERR value is not an integer or out of range"},
        {"k abc 5000", "-ERR value is not an integer or out of range"},
        {"k 0 5000.5", "-ERR value is not an integer or out of range"},
        {"k abc abc", "-ERR value is not an integer or out of range"},
        {"nope 0 abc", "-ERR value is not an integer or out of range"},
        {"k 0", "-ERR wrong number of arguments for 'migrate' command"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) migrate_both(&p, cases[i].rest, cases[i].expect);
    expect_exists(&p, "k", true, false);

    /* A db the target refuses. Redis's quirk: the RESTORE pipelined after
     * the refused SELECT still runs, in the db the connection has (0), so
     * the target has the key while the source keeps it. */
    migrate_both(&p, "k 99 5000", DB_ERR);
    expect_exists(&p, "k", true, true);
    sc_cmd_ll_or_fail(p.r0, "DEL k");
    sc_cmd_ll_or_fail(p.s0, "DEL k");
    migrate_both(&p, "\"\" 99 5000 KEYS nope k", DB_ERR);
    expect_exists(&p, "k", true, true);
    sc_cmd_ll_or_fail(p.r0, "DEL k");
    sc_cmd_ll_or_fail(p.s0, "DEL k");
    /* After the target's error the cached connection selects again. */
    migrate_both(&p, "k 2 5000 COPY", "+OK");
    expect_exists(&p, "k", true, false);
    sc_cmd_expect_or_fail(p.r0, "OK", "SELECT 2");
    sc_cmd_expect_or_fail(p.s0, "OK", "SELECT 2");
    expect_target_string(&p, "k", "v");
    sc_cmd_ll_or_fail(p.r0, "DEL k");
    sc_cmd_ll_or_fail(p.s0, "DEL k");
    sc_cmd_expect_or_fail(p.r0, "OK", "SELECT 0");
    sc_cmd_expect_or_fail(p.s0, "OK", "SELECT 0");

    /* Nothing listens: Redis's connect "succeeds" (its wait for the socket
     * to be writable returns on the error), the write fails, one retry. */
    char line[128];
    snprintf(line, sizeof line, "MIGRATE 127.0.0.1 %d k 0 1000", sc_free_port_or_fail());
    same_both(&p, line, "-IOERR error or timeout writing to target instance");
    /* A port that is no number: Redis connects to atoi()'s 0. */
    same_both(&p, "MIGRATE 127.0.0.1 abc k 0 1000", "-IOERR error or timeout writing to target instance");
    expect_exists(&p, "k", true, false);

    /* A target that accepts and never replies. */
    long long el_s, el_r;
    char *got_s = migrate_to_silent_target(p.s1, "slotcache", &el_s);
    char *got_r = migrate_to_silent_target(p.r1, "redis-server", &el_r);
    cr_expect_str_eq(got_r, "-IOERR error or timeout reading to target instance");
    cr_expect_str_eq(got_s, got_r, "slotcache replied %s, redis-server %s", got_s, got_r);
    cr_expect(el_s >= 180 && el_s <= sc_scaled_ms(1500), "slotcache gave up after %lld ms (timeout 200)", el_s);
    cr_expect(el_r >= 180 && el_r <= sc_scaled_ms(1500), "redis-server gave up after %lld ms (timeout 200)", el_r);
    free(got_s);
    free(got_r);
    cr_expect(exists(p.s1, "k") && exists(p.r1, "k"), "the source lost k after a timeout");
    stop_pair(&p);
}

/* ---- 6. the connection cache ------------------------------------------- */

static long long clients(redisContext *c) { return sc_info_ll_or_fail(c, "clients", "connected_clients"); }

/* n MIGRATEs of fresh keys from src (db 1) to 127.0.0.1:port. */
static void migrate_n(redisContext *src, int port, const char *prefix, int n) {
    for (int i = 0; i < n; i++) {
        sc_cmd_expect_or_fail(src, "OK", "SET %s%d v", prefix, i);
        sc_cmd_expect_or_fail(src, "OK", "MIGRATE 127.0.0.1 %d %s%d 0 5000", port, prefix, i);
    }
}

Test(migrate, connection_cache_and_target_restart) {
    pair p = {0};
    start_pair(&p, NULL);
    long long r_base = clients(p.r0), s_base = clients(p.s0);
    migrate_n(p.s1, R.port, "a", 6);
    migrate_n(p.r1, S.port, "b", 6);
    /* One connection each, however many MIGRATEs. */
    cr_expect(SC_WAIT_FOR(clients(p.r0) == r_base + 1, 2000), "redis-server (target of slotcache): %lld clients, %lld "
                                                               "before 6 MIGRATEs",
              clients(p.r0), r_base);
    cr_expect(SC_WAIT_FOR(clients(p.s0) == s_base + 1, 2000), "slotcache (target of redis-server): %lld clients, %lld "
                                                               "before 6 MIGRATEs",
              clients(p.s0), s_base);
    cr_expect_eq(sc_cmd_ll_or_fail(p.r0, "DBSIZE"), 6);
    cr_expect_eq(sc_cmd_ll_or_fail(p.s0, "DBSIZE"), 6);

    /* redis-server restarts on the same port: slotcache's cached
     * connection to it is dead, its next MIGRATE retries on a fresh one. */
    free_ctx(&p.r0);
    free_ctx(&p.r1);
    sc_server_kill9(&R);
    sc_server_restart_or_fail(&R, NULL);
    p.r0 = sc_connect_or_fail(&R);
    p.r1 = sc_connect_or_fail(&R);
    sc_cmd_expect_or_fail(p.r1, "OK", "SELECT 1");
    r_base = clients(p.r0);
    migrate_n(p.s1, R.port, "c", 1);
    migrate_n(p.s1, R.port, "e", 3); /* and the new connection is cached */
    cr_expect(SC_WAIT_FOR(clients(p.r0) == r_base + 1, 2000), "redis-server: %lld clients after its restart, %lld "
                                                               "before slotcache's MIGRATEs",
              clients(p.r0), r_base);
    cr_expect_eq(sc_cmd_ll_or_fail(p.r0, "DBSIZE"), 4);

    /* The same the other way: slotcache restarts, redis-server retries. */
    free_ctx(&p.s0);
    free_ctx(&p.s1);
    sc_server_kill9(&S);
    sc_server_restart_or_fail(&S, sut_args);
    p.s0 = sc_connect_or_fail(&S);
    p.s1 = sc_connect_or_fail(&S);
    sc_cmd_expect_or_fail(p.s1, "OK", "SELECT 1");
    s_base = clients(p.s0);
    migrate_n(p.r1, S.port, "d", 1);
    migrate_n(p.r1, S.port, "f", 3);
    cr_expect(SC_WAIT_FOR(clients(p.s0) == s_base + 1, 2000), "slotcache: %lld clients after its restart, %lld "
                                                               "before redis-server's MIGRATEs",
              clients(p.s0), s_base);
    cr_expect_eq(sc_cmd_ll_or_fail(p.s0, "DBSIZE"), 4);
    stop_pair(&p);
}

/* ---- 7. what a replica of the source sees -------------------------------- */

Test(migrate, replica_of_source_sees_del) {
    pair p = {0};
    start_pair(&p, NULL);
    sc_cmd_expect_or_fail(p.s0, "OK", "CONFIG SET repl-diskless-sync-delay 0");
    char port[16];
    snprintf(port, sizeof port, "%d", S.port);
    sc_server_start_or_fail(&S2, (const char *[]){"--threads", "2", "--replicaof", "127.0.0.1", port, NULL});
    redisContext *rep = sc_connect_or_fail(&S2);
    cr_assert(SC_WAIT_FOR(sc_repl_link_up(rep), 10000), "the replica did not connect");
    sc_cmd_expect_or_fail(rep, "OK", "SELECT 1");

    for (int i = 1; i <= 5; i++) {
        char k[16];
        snprintf(k, sizeof k, "m%d", i);
        sc_cmd_expect_or_fail(p.s1, "OK", "SET %s v%d", k, i);
    }
    sc_cmd_expect_or_fail(p.r0, "OK", "SET m2 old");
    cr_assert(SC_WAIT_FOR(sc_cmd_ll_or_fail(rep, "EXISTS m1 m2 m3 m4 m5") == 5, 5000));

    /* m2 refused by the target: DEL m1 m3 only. */
    char line[160];
    snprintf(line, sizeof line, "MIGRATE 127.0.0.1 %d \"\" 0 5000 KEYS m1 m2 m3 nope", R.port);
    char *got = line_reply(p.s1, line);
    cr_expect_str_eq(got, BUSYKEY);
    free(got);
    sc_cmd_expect_or_fail(p.s1, "OK", "SET mark1 x");
    cr_assert(SC_WAIT_FOR(exists(rep, "mark1"), 5000));
    cr_expect(!exists(rep, "m1") && !exists(rep, "m3"), "the replica still has m1 or m3");
    cr_expect(exists(rep, "m2"), "the replica lost m2, which the target refused");

    /* COPY: nothing changes on the replica. */
    snprintf(line, sizeof line, "MIGRATE 127.0.0.1 %d m4 0 5000 COPY", R.port);
    got = line_reply(p.s1, line);
    cr_expect_str_eq(got, "+OK");
    free(got);
    sc_cmd_expect_or_fail(p.s1, "OK", "SET mark2 x");
    cr_assert(SC_WAIT_FOR(exists(rep, "mark2"), 5000));
    cr_expect(exists(rep, "m4"), "the replica lost m4 after MIGRATE COPY");

    /* And without COPY it goes. */
    snprintf(line, sizeof line, "MIGRATE 127.0.0.1 %d m4 0 5000 REPLACE", R.port);
    got = line_reply(p.s1, line);
    cr_expect_str_eq(got, "+OK");
    free(got);
    cr_expect(SC_WAIT_FOR(!exists(rep, "m4"), 5000), "the replica kept m4 after MIGRATE");
    cr_expect_eq(sc_cmd_ll_or_fail(rep, "DBSIZE"), sc_cmd_ll_or_fail(p.s1, "DBSIZE"));
    cr_expect(exists(rep, "m5") && exists(rep, "m2"));
    redisFree(rep);
    sc_server_stop_or_fail(&S2);
    stop_pair(&p);
}

/* ---- 8. COMMAND GETKEYS ----------------------------------------------------- */

Test(migrate, command_getkeys) {
    pair p = {0};
    start_pair(&p, NULL);
    static const char *const lines[] = {
        "COMMAND GETKEYS MIGRATE h 6379 k 0 5000",
        "COMMAND GETKEYS MIGRATE h 6379 \"\" 0 5000",
        "COMMAND GETKEYS MIGRATE h 6379 \"\" 0 5000 KEYS a b c",
        "COMMAND GETKEYS MIGRATE h 6379 k 0 5000 COPY REPLACE AUTH pw",
        "COMMAND GETKEYS MIGRATE h 6379 \"\" 0 5000 COPY KEYS a",
        "COMMAND GETKEYS MIGRATE h 6379 \"\" 0 5000 AUTH keys KEYS a",
        "COMMAND GETKEYS MIGRATE h 6379 \"\" 0 5000 AUTH2 keys keys KEYS a b",
        "COMMAND GETKEYS MIGRATE h 6379 k 0 5000 KEYS a b",
        "COMMAND GETKEYS MIGRATE h 6379 \"\" 0 5000 KEYS",
        "COMMAND GETKEYS MIGRATE h 6379 k 0",
        "COMMAND GETKEYSANDFLAGS MIGRATE h 6379 k 0 5000",
        "COMMAND GETKEYSANDFLAGS MIGRATE h 6379 \"\" 0 5000 KEYS a b",
    };
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) same_both(&p, lines[i], NULL);
    stop_pair(&p);
}

/* ---- 9. big payloads ------------------------------------------------------- */

static const spec bigs[] = {
    {"big:str", "SET", 2 * 1024 * 1024, false},
    {"big:set", "SADD", 100000, false},
    {"big:zset", "ZADD", 20000, false},
};

Test(migrate, big_values) {
    pair p = {0};
    start_pair(&p, NULL);
    build_both(&p, bigs, sizeof bigs / sizeof *bigs, false);
    migrate_and_check(&p, "big:str", false, 10000);
    migrate_and_check(&p, "big:set", true, 10000);
    /* Several megabytes in one request: the KEYS form. */
    sc_cmd_ll_or_fail(p.s0, "DEL big:set");
    sc_cmd_ll_or_fail(p.r0, "DEL big:set");
    build(p.s1, &bigs[0], "big:str2");
    build(p.r1, &bigs[0], "big:str2");
    migrate_both(&p, "\"\" 0 10000 KEYS big:set big:zset big:str2", "+OK");
    cr_expect_eq(sc_cmd_ll_or_fail(p.r0, "SCARD big:set"), 100000);
    cr_expect_eq(sc_cmd_ll_or_fail(p.s0, "SCARD big:set"), 100000);
    cr_expect_eq(sc_cmd_ll_or_fail(p.r0, "ZCARD big:zset"), 20000);
    cr_expect_eq(sc_cmd_ll_or_fail(p.s0, "ZCARD big:zset"), 20000);
    cr_expect_eq(sc_cmd_ll_or_fail(p.r0, "STRLEN big:str2"), 2 * 1024 * 1024);
    cr_expect_eq(sc_cmd_ll_or_fail(p.s0, "STRLEN big:str2"), 2 * 1024 * 1024);
    cr_expect_eq(sc_cmd_ll_or_fail(p.s1, "DBSIZE"), 0);
    cr_expect_eq(sc_cmd_ll_or_fail(p.r1, "DBSIZE"), 0);
    char *a = sc_repl_value_of(p.r0, "big:set", "set"), *b = sc_repl_value_of(p.s0, "big:set", "set");
    cr_expect(!strcmp(a, b), "big:set differs between the two targets");
    free(a);
    free(b);
    a = sc_repl_value_of(p.r0, "big:zset", "zset");
    b = sc_repl_value_of(p.s0, "big:zset", "zset");
    cr_expect(!strcmp(a, b), "big:zset differs between the two targets");
    free(a);
    free(b);
    stop_pair(&p);
}
