/*
 * test_stream_rdb.c - streams in DUMP/RESTORE payloads and RDB files,
 * against the real redis-server 7.0.15 (skipped when it is missing).
 *
 * Both servers build the same streams with the same commands (explicit IDs,
 * so the bytes are deterministic): many nodes, tombstones, trims that leave
 * partly deleted nodes, node cuts by stream-node-max-bytes, XSETID
 * metadata, an emptied stream, integers and binary values, a TTL. Then:
 * - DUMP bytes are equal on both servers (RDB_TYPE_STREAM_LISTPACKS_2);
 * - each server's payloads RESTORE on the other, with equal XRANGE,
 *   XINFO STREAM FULL and DEBUG DIGEST-VALUE;
 * - a SAVE here passes redis-check-rdb and loads in redis-server, and
 *   redis-server's SAVE loads here, with the same streams;
 * - corrupt stream payloads (valid checksum, broken structure) are refused
 *   whole and leave the server answering.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server_proc.h"

static sc_server ref, sut;

TestSuite(stream_rdb, .fini = sc_server_cleanup, .timeout = 300);

static const char *const redis_args[] = {"--enable-debug-command", "yes", NULL};

static void start_both(redisContext **rc, redisContext **sc) {
    const char *redis = sc_reference_redis_binary();
    if (!redis || sc_server_binary_is_redis()) cr_skip_test("needs /usr/bin/redis-server as the reference");
    sc_server_start_bin_or_fail(&ref, redis, redis_args);
    sc_server_start_or_fail(&sut, NULL);
    *rc = sc_connect_or_fail(&ref);
    *sc = sc_connect_or_fail(&sut);
}

static void ok(redisContext *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    cr_assert(r, "%s: connection broke", fmt);
    cr_assert(r->type != REDIS_REPLY_ERROR, "%s: %s", fmt, r->str);
    freeReplyObject(r);
}

static const char *const keys[] = {"s:many", "s:tomb", "s:trim", "s:bytes", "s:setid", "s:empty", "s:mixed", "s:ttl"};
#define NKEYS (sizeof keys / sizeof *keys)

static void build(redisContext *c) {
    redisAppendCommand(c, "CONFIG SET stream-node-max-entries 100");
    for (int i = 1; i <= 1000; i++) redisAppendCommand(c, "XADD s:many %d-%d f1 v%d f2 %d f3 x", i, i % 3, i, i * 7);
    for (int i = 1; i <= 300; i++) redisAppendCommand(c, "XADD s:tomb %d-0 a %d b %d", i, i, i * 2);
    for (int i = 1; i <= 300; i += 3) redisAppendCommand(c, "XDEL s:tomb %d-0", i);
    for (int i = 1; i <= 450; i++) redisAppendCommand(c, "XADD s:trim %d-0 k v%d", i, i);
    redisAppendCommand(c, "XTRIM s:trim MINID 150");
    redisAppendCommand(c, "XTRIM s:trim MAXLEN ~ 250");
    redisAppendCommand(c, "XDEL s:trim 449-0");
    for (int i = 1; i <= 40; i++) {
        char v[1000];
        snprintf(v, sizeof v, "%0*d", 100 + i * 20, i);
        redisAppendCommand(c, "XADD s:bytes %d-0 field %s other %d", i, v, i);
    }
    redisAppendCommand(c, "XADD s:setid 5-5 a 1");
    redisAppendCommand(c, "XSETID s:setid 90-0 ENTRIESADDED 42 MAXDELETEDID 7-0");
    redisAppendCommand(c, "XADD s:empty 1-0 a 1");
    redisAppendCommand(c, "XADD s:empty 2-0 a 1");
    redisAppendCommand(c, "XDEL s:empty 1-0 2-0");
    redisAppendCommand(c, "XADD s:mixed 1-0 a 1 b 2");
    redisAppendCommand(c, "XADD s:mixed 2-0 b 1 a 2");
    redisAppendCommand(c, "XADD s:mixed 3-0 a %b", "\x00\xff\x01", (size_t)3);
    redisAppendCommand(c, "XADD s:mixed 4-0 9223372036854775807 -9223372036854775808 -1 0 \"\" x");
    redisAppendCommand(c, "XADD s:mixed 18446744073709551615-18446744073709551615 z z");
    redisAppendCommand(c, "XADD s:ttl 1-0 a 1");
    redisAppendCommand(c, "PEXPIRE s:ttl 500000");
    int n = 1 + 1000 + 300 + 100 + 450 + 3 + 40 + 2 + 3 + 5 + 2;
    for (int i = 0; i < n; i++) {
        redisReply *r;
        cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK, "pipeline broke");
        cr_assert(r->type != REDIS_REPLY_ERROR, "build step %d: %s", i, r->str);
        freeReplyObject(r);
    }
}

/* A reply tree as text, for comparisons. */
static void text_of(const redisReply *r, sc_buf *b) {
    switch (r->type) {
    case REDIS_REPLY_ARRAY:
        sc_buf_printf(b, "[%zu:", r->elements);
        for (size_t i = 0; i < r->elements; i++) text_of(r->element[i], b);
        sc_buf_printf(b, "]");
        break;
    case REDIS_REPLY_INTEGER: sc_buf_printf(b, "(%lld)", r->integer); break;
    case REDIS_REPLY_NIL: sc_buf_printf(b, "(nil)"); break;
    default:
        sc_buf_printf(b, "%d/%zu:", r->type, r->len);
        sc_buf_append(b, r->str, r->len);
    }
}

static void describe(redisContext *c, const char *key, sc_buf *b) {
    const char *cmds[] = {"TYPE %s", "OBJECT ENCODING %s", "XRANGE %s - +", "XINFO STREAM %s FULL COUNT 0",
                          "XINFO STREAM %s", "DEBUG DIGEST-VALUE %s"};
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        redisReply *r = sc_cmd_or_fail(c, cmds[i], key);
        text_of(r, b);
        freeReplyObject(r);
    }
    long long ttl = sc_cmd_ll_or_fail(c, "PTTL %s", key);
    sc_buf_printf(b, "ttl:%s", ttl > 0 ? "yes" : ttl == -1 ? "none" : "gone");
}

static void expect_same_streams(redisContext *a, const char *prefix_a, redisContext *b, const char *prefix_b,
                                const char *what) {
    for (size_t i = 0; i < NKEYS; i++) {
        char ka[100], kb[100];
        snprintf(ka, sizeof ka, "%s%s", prefix_a, keys[i]);
        snprintf(kb, sizeof kb, "%s%s", prefix_b, keys[i]);
        sc_buf x = {0}, y = {0};
        describe(a, ka, &x);
        describe(b, kb, &y);
        cr_expect(x.len == y.len && memcmp(x.data, y.data, x.len) == 0, "%s: %s differs:\n%.*s\nvs\n%.*s", what,
                  keys[i], (int)(x.len > 600 ? 600 : x.len), x.data, (int)(y.len > 600 ? 600 : y.len), y.data);
        sc_buf_free(&x);
        sc_buf_free(&y);
    }
}

static redisReply *dump_of(redisContext *c, const char *key) {
    redisReply *r = sc_cmd_or_fail(c, "DUMP %s", key);
    cr_assert_eq(r->type, REDIS_REPLY_STRING, "DUMP %s: type %d", key, r->type);
    return r;
}

Test(stream_rdb, same_dump_bytes_and_restore_both_ways) {
    redisContext *rc, *sc;
    start_both(&rc, &sc);
    build(rc);
    build(sc);
    expect_same_streams(rc, "", sc, "", "built by the same commands");
    for (size_t i = 0; i < NKEYS; i++) {
        redisReply *a = dump_of(rc, keys[i]), *b = dump_of(sc, keys[i]);
        cr_expect(a->len == b->len && memcmp(a->str, b->str, a->len) == 0, "DUMP %s: %zu vs %zu bytes differ",
                  keys[i], a->len, b->len);
        /* each side's payload on the other side */
        redisReply *r = sc_cmd_or_fail(sc, "RESTORE from-redis:%s 0 %b", keys[i], a->str, a->len);
        cr_expect(sc_reply_is(r, "OK"), "RESTORE of redis-server's %s here: %s", keys[i], r->str ? r->str : "?");
        freeReplyObject(r);
        r = sc_cmd_or_fail(rc, "RESTORE from-sc:%s 0 %b", keys[i], b->str, b->len);
        cr_expect(sc_reply_is(r, "OK"), "RESTORE of slotcache's %s in redis-server: %s", keys[i], r->str ? r->str : "?");
        freeReplyObject(r);
        freeReplyObject(a);
        freeReplyObject(b);
    }
    /* the TTL is not in the payload: give both copies the same */
    ok(rc, "PEXPIRE from-sc:s:ttl 500000");
    ok(sc, "PEXPIRE from-redis:s:ttl 500000");
    expect_same_streams(rc, "", sc, "from-redis:", "redis-server's payloads restored here");
    expect_same_streams(rc, "from-sc:", sc, "", "slotcache's payloads restored in redis-server");
    /* appending after a restore continues the same node layout */
    ok(rc, "XADD from-sc:s:many 2000-0 f1 a f2 b f3 c");
    ok(sc, "XADD from-redis:s:many 2000-0 f1 a f2 b f3 c");
    redisReply *a = dump_of(rc, "from-sc:s:many"), *b = dump_of(sc, "from-redis:s:many");
    cr_expect(a->len == b->len && memcmp(a->str, b->str, a->len) == 0, "DUMP after XADD on restored copies differs");
    freeReplyObject(a);
    freeReplyObject(b);
    redisFree(rc);
    redisFree(sc);
    sc_server_stop_or_fail(&sut);
    sc_server_stop_or_fail(&ref);
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    cr_assert(f, "open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    cr_assert_eq(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

static void write_file(const char *path, const char *p, size_t len) {
    FILE *f = fopen(path, "wb");
    cr_assert(f, "open %s", path);
    cr_assert_eq(fwrite(p, 1, len, f), len);
    fclose(f);
}

/* Copy from's dump.rdb into a fresh directory (out) for the next server. */
static void take_file(const sc_server *from, char *out, size_t n) {
    snprintf(out, n, "/tmp/slotcache-tests/stream-rdb-%d-XXXXXX", (int)getpid());
    cr_assert(mkdtemp(out), "mkdtemp");
    char a[400], b[400];
    snprintf(a, sizeof a, "%s/dump.rdb", from->dir);
    snprintf(b, sizeof b, "%s/dump.rdb", out);
    size_t len;
    char *p = read_file(a, &len);
    write_file(b, p, len);
    free(p);
}

static void drop_dir(const char *dir) {
    char p[400];
    snprintf(p, sizeof p, "%s/dump.rdb", dir);
    unlink(p);
    rmdir(dir);
}

Test(stream_rdb, rdb_files_cross_both_ways) {
    redisContext *rc, *sc;
    start_both(&rc, &sc);
    build(sc);
    sc_cmd_expect_or_fail(sc, "OK", "SAVE");
    char path[400];
    snprintf(path, sizeof path, "%s/dump.rdb", sut.dir);
    const char *check[] = {"redis-check-rdb", path, NULL};
    sc_buf out = {0};
    int code = sc_run(check, NULL, 0, &out, 30000);
    cr_assert(code == 0 && out.data && strstr(out.data, "RDB looks OK!"), "redis-check-rdb on slotcache's file:\n%s",
              out.data ? out.data : "");
    sc_buf_free(&out);
    /* redis-server loads slotcache's file */
    char d1[200], d2[200];
    take_file(&sut, d1, sizeof d1);
    redisFree(rc);
    sc_server_stop_or_fail(&ref);
    const char *args1[] = {"--enable-debug-command", "yes", "--dir", d1, NULL};
    sc_server_start_bin_or_fail(&ref, sc_reference_redis_binary(), args1);
    rc = sc_connect_or_fail(&ref);
    expect_same_streams(sc, "", rc, "", "slotcache's dump.rdb loaded by redis-server");
    /* and slotcache loads redis-server's file (written by it now) */
    ok(rc, "XADD s:many 5000-0 after reload");
    sc_cmd_expect_or_fail(rc, "OK", "SAVE");
    redisFree(sc);
    sc_server_stop_or_fail(&sut);
    snprintf(path, sizeof path, "%s", d1);
    sc_server sd = {0};
    memcpy(sd.dir, d1, strlen(d1) + 1);
    take_file(&sd, d2, sizeof d2);
    const char *args2[] = {"--dir", d2, NULL};
    sc_server_start_or_fail(&sut, args2);
    sc = sc_connect_or_fail(&sut);
    expect_same_streams(rc, "", sc, "", "redis-server's dump.rdb loaded by slotcache");
    redisFree(rc);
    redisFree(sc);
    sc_server_stop_or_fail(&sut);
    sc_server_stop_or_fail(&ref);
    drop_dir(d1);
    drop_dir(d2);
}

/* ---- corrupt payloads ---------------------------------------------------- */

typedef struct {
    unsigned char p[4096];
    size_t n;
} payload;

static void put(payload *b, const void *p, size_t n) {
    cr_assert(b->n + n < sizeof b->p);
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void put_len(payload *b, uint64_t v) {
    unsigned char x[9];
    if (v < 64) {
        x[0] = (unsigned char)v;
        put(b, x, 1);
    } else if (v < 16384) {
        x[0] = (unsigned char)(0x40 | (v >> 8));
        x[1] = (unsigned char)v;
        put(b, x, 2);
    } else {
        x[0] = 0x81;
        for (int i = 0; i < 8; i++) x[1 + i] = (unsigned char)(v >> (56 - 8 * i));
        put(b, x, 9);
    }
}

/* A Redis listpack of small elements: strings as 6-bit strings, ints
 * 0..127 as 7-bit uints (what lpAppend writes for them). */
static void put_listpack(payload *b, const char *const *els, int n) {
    unsigned char lp[2048];
    size_t len = 6;
    for (int i = 0; i < n; i++) {
        const char *s = els[i];
        char *end;
        long v = strtol(s, &end, 10);
        if (*s && !*end && v >= 0 && v < 128 && (s[0] != '0' || !s[1])) {
            lp[len++] = (unsigned char)v;
            lp[len++] = 1;
        } else {
            size_t sl = strlen(s);
            lp[len++] = (unsigned char)(0x80 | sl);
            memcpy(lp + len, s, sl);
            len += sl;
            lp[len++] = (unsigned char)(sl + 1);
        }
    }
    lp[len++] = 0xff;
    for (int i = 0; i < 4; i++) lp[i] = (unsigned char)(len >> (8 * i));
    lp[4] = (unsigned char)n;
    lp[5] = (unsigned char)(n >> 8);
    put_len(b, len);
    put(b, lp, len);
}

/* DUMP's trailer: RDB version 10, then CRC-64/Jones of everything before. */
static void put_trailer(payload *b) {
    unsigned char v[2] = {10, 0};
    put(b, v, 2);
    uint64_t crc = 0;
    for (size_t i = 0; i < b->n; i++) {
        crc ^= b->p[i];
        for (int k = 0; k < 8; k++) crc = (crc & 1) ? (crc >> 1) ^ 0x95ac9329ac4bc9b5ULL : crc >> 1;
    }
    unsigned char c8[8];
    for (int i = 0; i < 8; i++) c8[i] = (unsigned char)(crc >> (8 * i));
    put(b, c8, 8);
}

/* A type-19 stream payload with one node of the given elements. */
static void stream_payload(payload *b, uint64_t master_ms, const char *const *els, int n, uint64_t length,
                           uint64_t last_ms, uint64_t groups) {
    b->n = 0;
    unsigned char t = 19;
    put(b, &t, 1);
    put_len(b, 1);
    unsigned char key[16] = {0};
    for (int i = 0; i < 8; i++) key[i] = (unsigned char)(master_ms >> (56 - 8 * i));
    put_len(b, 16);
    put(b, key, 16);
    put_listpack(b, els, n);
    put_len(b, length);
    put_len(b, last_ms), put_len(b, 0);        /* last id */
    put_len(b, master_ms), put_len(b, 0);      /* first id */
    put_len(b, 0), put_len(b, 0);              /* max deleted */
    put_len(b, length);                        /* entries added */
    put_len(b, groups);
    if (groups) {
        put_len(b, 1);
        put(b, "g", 1);
        put_len(b, 0), put_len(b, 0), put_len(b, 0); /* last id, entries read */
        put_len(b, 0);                               /* PEL */
        put_len(b, 0);                               /* consumers */
    }
    put_trailer(b);
}

static redisReply *restore(redisContext *c, const payload *b) {
    redisReply *r = redisCommand(c, "RESTORE k 0 %b REPLACE", b->p, b->n);
    cr_assert(r, "connection broke on RESTORE");
    return r;
}

Test(stream_rdb, corrupt_payloads_are_refused_whole) {
    redisContext *rc, *sc;
    start_both(&rc, &sc);
    ok(rc, "CONFIG SET sanitize-dump-payload yes");
    payload b;
    /* a good one first: both servers take it, same contents */
    const char *good[] = {"2", "0", "1", "f", "0", "2", "0", "0", "v1", "4", "2", "0", "1", "v2", "4"};
    stream_payload(&b, 10, good, 15, 2, 11, 0);
    redisReply *r1 = restore(rc, &b), *r2 = restore(sc, &b);
    cr_assert(sc_reply_is(r1, "OK") && sc_reply_is(r2, "OK"), "good payload: redis %s, slotcache %s", r1->str,
              r2->str);
    freeReplyObject(r1);
    freeReplyObject(r2);
    sc_buf x = {0}, y = {0};
    describe(rc, "k", &x);
    describe(sc, "k", &y);
    cr_assert(x.len == y.len && memcmp(x.data, y.data, x.len) == 0, "good payload loads differently");
    sc_buf_free(&x);
    sc_buf_free(&y);
    ok(sc, "DEL k");

    struct {
        const char *what;
        const char *els[20];
        int n;
        uint64_t length, last_ms, groups;
    } bad[] = {
        {"count does not match the entries", {"3", "0", "1", "f", "0", "2", "0", "0", "v1", "4"}, 10, 3, 10, 0},
        {"lp-count wrong", {"1", "0", "1", "f", "0", "2", "0", "0", "v1", "5"}, 10, 1, 10, 0},
        {"master entry not terminated", {"1", "0", "1", "f", "7", "2", "0", "0", "v1", "4"}, 10, 1, 10, 0},
        {"IDs out of order", {"2", "0", "1", "f", "0", "2", "1", "0", "v1", "4", "2", "0", "0", "v2", "4"}, 15, 2, 11,
         0},
        {"duplicate IDs", {"2", "0", "1", "f", "0", "2", "0", "0", "v1", "4", "2", "0", "0", "v2", "4"}, 15, 2, 11, 0},
        {"truncated entry", {"1", "0", "1", "f", "0", "2", "0", "0"}, 8, 1, 10, 0},
        {"trailing element", {"1", "0", "1", "f", "0", "2", "0", "0", "v1", "4", "x"}, 11, 1, 10, 0},
        {"flags not a number", {"1", "0", "1", "f", "0", "x", "0", "0", "v1", "4"}, 10, 1, 10, 0},
        {"bad flags", {"1", "0", "1", "f", "0", "9", "0", "0", "v1", "4"}, 10, 1, 10, 0},
        {"huge field count", {"1", "0", "1", "f", "0", "0", "0", "0", "100", "4"}, 10, 1, 10, 0},
        {"no entries at all", {"0", "0", "1", "f", "0"}, 5, 0, 10, 0},
        {"stream length wrong", {"1", "0", "1", "f", "0", "2", "0", "0", "v1", "4"}, 10, 7, 10, 0},
        {"last ID below the last entry", {"1", "0", "1", "f", "0", "2", "0", "0", "v1", "4"}, 10, 1, 9, 0},
        {"consumer groups (not supported yet)", {"1", "0", "1", "f", "0", "2", "0", "0", "v1", "4"}, 10, 1, 10, 1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        stream_payload(&b, 10, bad[i].els, bad[i].n, bad[i].length, bad[i].last_ms, bad[i].groups);
        redisReply *r = restore(sc, &b);
        cr_expect(r->type == REDIS_REPLY_ERROR && strstr(r->str, "Bad data format"), "%s: slotcache answered %s",
                  bad[i].what, r->str ? r->str : "?");
        freeReplyObject(r);
        cr_expect_eq(sc_cmd_ll_or_fail(sc, "EXISTS k"), 0, "%s: half-loaded", bad[i].what);
    }
    /* byte flips with a fixed checksum all over a real payload: refused or
     * loaded whole, never a crash */
    build(sc);
    redisReply *d = dump_of(sc, "s:mixed");
    size_t body = d->len - 10;
    unsigned seed = 7;
    for (int round = 0; round < 400; round++) {
        b.n = 0;
        put(&b, d->str, body);
        seed = seed * 1103515245u + 12345u;
        size_t at = (seed >> 8) % body;
        b.p[at] ^= (unsigned char)(1u << ((seed >> 4) % 8));
        put_trailer(&b);
        redisReply *r = restore(sc, &b);
        if (r->type != REDIS_REPLY_ERROR) {
            freeReplyObject(sc_cmd_or_fail(sc, "XRANGE k - +"));
            freeReplyObject(sc_cmd_or_fail(sc, "XREVRANGE k + -"));
            freeReplyObject(sc_cmd_or_fail(sc, "XINFO STREAM k FULL"));
        }
        freeReplyObject(r);
    }
    freeReplyObject(d);
    sc_cmd_expect_or_fail(sc, "PONG", "PING");
    redisFree(rc);
    redisFree(sc);
    sc_server_stop_or_fail(&sut);
    sc_server_stop_or_fail(&ref);
}
