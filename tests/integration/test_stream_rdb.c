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
 * Consumer groups (built in redis-server, whose clock gives their times):
 * its DUMP payloads RESTOREd here DUMP back to the same bytes, also after a
 * SAVE and restart, in RDB files and full syncs both ways; hand-built
 * payloads of types 19 and 15 load to the same bytes in both servers, and
 * corrupt groups (truncated PEL, a consumer's ID not in the group PEL,
 * duplicates, an unowned or doubly owned entry) get redis-server's exact
 * error.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dump_payload.h"
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

static void stop_both(redisContext *rc, redisContext *sc) {
    redisFree(rc);
    redisFree(sc);
    sc_server_stop_or_fail(&sut);
    sc_server_stop_or_fail(&ref);
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
    stop_both(rc, sc);
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

/* redis-check-rdb accepts the server's dump.rdb. */
static void expect_rdb_check_ok(const sc_server *s) {
    char path[400];
    snprintf(path, sizeof path, "%s/dump.rdb", s->dir);
    const char *check[] = {"redis-check-rdb", path, NULL};
    sc_buf out = {0};
    int code = sc_run(check, NULL, 0, &out, 30000);
    cr_assert(code == 0 && out.data && strstr(out.data, "RDB looks OK!"), "redis-check-rdb on %s:\n%s", path,
              out.data ? out.data : "");
    sc_buf_free(&out);
}

Test(stream_rdb, rdb_files_cross_both_ways) {
    redisContext *rc, *sc;
    start_both(&rc, &sc);
    build(sc);
    sc_cmd_expect_or_fail(sc, "OK", "SAVE");
    expect_rdb_check_ok(&sut);
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
    sc_server sd = {0};
    memcpy(sd.dir, d1, strlen(d1) + 1);
    take_file(&sd, d2, sizeof d2);
    const char *args2[] = {"--dir", d2, NULL};
    sc_server_start_or_fail(&sut, args2);
    sc = sc_connect_or_fail(&sut);
    expect_same_streams(rc, "", sc, "", "redis-server's dump.rdb loaded by slotcache");
    stop_both(rc, sc);
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
    cr_assert(b->n + SC_DUMP_TRAILER < sizeof b->p);
    b->n = sc_dump_seal(b->p, b->n);
}

/* A stream payload of RDB type 19 or 15 with one node of the given
 * elements, up to the consumer groups (not included). */
static void stream_head(payload *b, int type, uint64_t master_ms, const char *const *els, int n, uint64_t length,
                        uint64_t last_ms) {
    b->n = 0;
    unsigned char t = (unsigned char)type;
    put(b, &t, 1);
    put_len(b, 1);
    unsigned char key[16] = {0};
    for (int i = 0; i < 8; i++) key[i] = (unsigned char)(master_ms >> (56 - 8 * i));
    put_len(b, 16);
    put(b, key, 16);
    put_listpack(b, els, n);
    put_len(b, length);
    put_len(b, last_ms), put_len(b, 0);       /* last id */
    if (type == 19) {
        put_len(b, master_ms), put_len(b, 0); /* first id */
        put_len(b, 0), put_len(b, 0);         /* max deleted */
        put_len(b, length);                   /* entries added */
    }
}

/* A type-19 stream payload with one node of the given elements. */
static void stream_payload(payload *b, uint64_t master_ms, const char *const *els, int n, uint64_t length,
                           uint64_t last_ms) {
    stream_head(b, 19, master_ms, els, n, length, last_ms);
    put_len(b, 0); /* consumer groups */
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
    stream_payload(&b, 10, good, 15, 2, 11);
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
        uint64_t length, last_ms;
    } bad[] = {
        {"count does not match the entries", {"3", "0", "1", "f", "0", "2", "0", "0", "v1", "4"}, 10, 3, 10},
        {"lp-count wrong", {"1", "0", "1", "f", "0", "2", "0", "0", "v1", "5"}, 10, 1, 10},
        {"master entry not terminated", {"1", "0", "1", "f", "7", "2", "0", "0", "v1", "4"}, 10, 1, 10},
        {"IDs out of order", {"2", "0", "1", "f", "0", "2", "1", "0", "v1", "4", "2", "0", "0", "v2", "4"}, 15, 2, 11},
        {"duplicate IDs", {"2", "0", "1", "f", "0", "2", "0", "0", "v1", "4", "2", "0", "0", "v2", "4"}, 15, 2, 11},
        {"truncated entry", {"1", "0", "1", "f", "0", "2", "0", "0"}, 8, 1, 10},
        {"trailing element", {"1", "0", "1", "f", "0", "2", "0", "0", "v1", "4", "x"}, 11, 1, 10},
        {"flags not a number", {"1", "0", "1", "f", "0", "x", "0", "0", "v1", "4"}, 10, 1, 10},
        {"bad flags", {"1", "0", "1", "f", "0", "9", "0", "0", "v1", "4"}, 10, 1, 10},
        {"huge field count", {"1", "0", "1", "f", "0", "0", "0", "0", "100", "4"}, 10, 1, 10},
        {"no entries at all", {"0", "0", "1", "f", "0"}, 5, 0, 10},
        {"stream length wrong", {"1", "0", "1", "f", "0", "2", "0", "0", "v1", "4"}, 10, 7, 10},
        {"last ID below the last entry", {"1", "0", "1", "f", "0", "2", "0", "0", "v1", "4"}, 10, 1, 9},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        stream_payload(&b, 10, bad[i].els, bad[i].n, bad[i].length, bad[i].last_ms);
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
    stop_both(rc, sc);
}

/* ---- consumer groups ----------------------------------------------------- */

/* Streams with consumer groups, built in redis-server (delivery and seen
 * times are its clock's, so the payloads come from it): several groups, an
 * integer-encoded and an LZF-compressed name, consumers with and without
 * pending entries, a group without PEL or consumers, entries_read unknown
 * (XGROUP SETID) and set (ENTRIESREAD), claimed entries with large delivery
 * counts, a pending entry that was deleted, a group on an empty stream, and
 * PELs long enough for 2-byte lengths. */
static const char *const gkeys[] = {"g:main", "g:empty", "g:big"};
#define NGKEYS (sizeof gkeys / sizeof *gkeys)
#define LONG_GROUP "a-group-name-long-enough-for-lzf-aaaaaaaaaaaaaaaaaaaaaaaa"
#define LONG_CONSUMER "a-consumer-name-long-enough-for-lzf-bbbbbbbbbbbbbbbbbbbbbbbb"

static void build_groups(redisContext *c) {
    const char *const steps[] = {
        "XGROUP CREATE g:main ga 0",
        "XGROUP CREATE g:main gb $",
        "XGROUP CREATE g:main 12345 0 ENTRIESREAD 3",
        "XGROUP CREATE g:main " LONG_GROUP " 0",
        "XREADGROUP GROUP ga alice COUNT 5 STREAMS g:main >",
        "XREADGROUP GROUP ga bob COUNT 4 STREAMS g:main >",
        "XREADGROUP GROUP ga 42 COUNT 2 STREAMS g:main >",
        "XGROUP CREATECONSUMER g:main ga idle",
        "XACK g:main ga 2-0 7-0",
        "XCLAIM g:main ga bob 0 3-0 RETRYCOUNT 1000",
        "XCLAIM g:main ga carol 0 4-0 TIME 1 RETRYCOUNT 70000",
        "XDEL g:main 8-0",
        "XGROUP SETID g:main 12345 5-0",
        "XREADGROUP GROUP 12345 zed COUNT 3 STREAMS g:main >",
        "XREADGROUP GROUP " LONG_GROUP " " LONG_CONSUMER " COUNT 1 STREAMS g:main >",
        "XGROUP CREATE g:empty g $ MKSTREAM",
        "XGROUP CREATECONSUMER g:empty g c",
        "XGROUP CREATE g:big g 0",
        "XGROUP CREATE g:big h $",
        "XREADGROUP GROUP g c1 COUNT 300 STREAMS g:big >",
        "XREADGROUP GROUP g c2 STREAMS g:big >",
        "XACK g:big g 1-0 5-0 299-0",
    };
    for (int i = 1; i <= 30; i++) redisAppendCommand(c, "XADD g:main %d-0 f v%d", i, i);
    for (int i = 1; i <= 400; i++) redisAppendCommand(c, "XADD g:big %d-0 k %d", i, i);
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) redisAppendCommand(c, steps[i]);
    size_t n = 30 + 400 + sizeof steps / sizeof *steps;
    for (size_t i = 0; i < n; i++) {
        redisReply *r;
        cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK, "pipeline broke");
        cr_assert(r->type != REDIS_REPLY_ERROR, "group step %zu: %s", i, r->str);
        freeReplyObject(r);
    }
}

/* Equal DUMP bytes, and equal contents as the commands show them (XINFO
 * STREAM FULL lists the groups, their PELs with owners, times and counts,
 * and the consumers' seen times; XINFO GROUPS entries-read and lag). */
static void expect_same_dump(redisContext *a, const char *ka, redisContext *b, const char *kb, const char *what) {
    redisReply *x = dump_of(a, ka), *y = dump_of(b, kb);
    cr_expect(x->len == y->len && memcmp(x->str, y->str, x->len) == 0, "%s: DUMP of %s: %zu vs %zu bytes differ",
              what, ka, x->len, y->len);
    freeReplyObject(x);
    freeReplyObject(y);
    sc_buf p = {0}, q = {0};
    describe(a, ka, &p);
    describe(b, kb, &q);
    redisReply *g = sc_cmd_or_fail(a, "XINFO GROUPS %s", ka), *h = sc_cmd_or_fail(b, "XINFO GROUPS %s", kb);
    text_of(g, &p);
    text_of(h, &q);
    freeReplyObject(g);
    freeReplyObject(h);
    cr_expect(p.len == q.len && memcmp(p.data, q.data, p.len) == 0, "%s: %s differs:\n%.*s\nvs\n%.*s", what, ka,
              (int)(p.len > 1500 ? 1500 : p.len), p.data, (int)(q.len > 1500 ? 1500 : q.len), q.data);
    sc_buf_free(&p);
    sc_buf_free(&q);
}

static void restore_ok(redisContext *c, const char *key, const redisReply *payload, const char *what) {
    redisReply *r = sc_cmd_or_fail(c, "RESTORE %s 0 %b REPLACE", key, payload->str, payload->len);
    cr_assert(sc_reply_is(r, "OK"), "%s: RESTORE %s: %s", what, key, r->str ? r->str : "?");
    freeReplyObject(r);
}

/* Every group key DUMPed from `from` and RESTOREd (REPLACE) in `to`. */
static void copy_groups(redisContext *from, redisContext *to, const char *what) {
    for (size_t i = 0; i < NGKEYS; i++) {
        redisReply *a = dump_of(from, gkeys[i]);
        restore_ok(to, gkeys[i], a, what);
        freeReplyObject(a);
    }
}

/* redis-server's payloads RESTOREd here DUMP back to the same bytes; here
 * they stay whole across a SAVE and restart. */
Test(stream_rdb, groups_restore_and_dump_back_byte_identical) {
    redisContext *rc, *sc;
    start_both(&rc, &sc);
    build_groups(rc);
    for (size_t i = 0; i < NGKEYS; i++) {
        redisReply *a = dump_of(rc, gkeys[i]);
        restore_ok(sc, gkeys[i], a, "redis-server's payload");
        freeReplyObject(a);
        expect_same_dump(rc, gkeys[i], sc, gkeys[i], "restored here");
        /* and slotcache's payload in redis-server, under another name */
        char k2[64];
        snprintf(k2, sizeof k2, "back:%s", gkeys[i]);
        redisReply *b = dump_of(sc, gkeys[i]);
        restore_ok(rc, k2, b, "slotcache's payload");
        freeReplyObject(b);
        expect_same_dump(rc, gkeys[i], rc, k2, "slotcache's payload restored in redis-server");
    }
    /* a copy keeps the groups */
    cr_assert_eq(sc_cmd_ll_or_fail(sc, "COPY g:main g:copy"), 1);
    expect_same_dump(sc, "g:main", sc, "g:copy", "COPY");
    sc_cmd_expect_or_fail(sc, "OK", "SAVE");
    redisFree(sc);
    sc_server_kill9(&sut);
    sc_server_restart_or_fail(&sut, NULL);
    sc = sc_connect_or_fail(&sut);
    for (size_t i = 0; i < NGKEYS; i++) expect_same_dump(rc, gkeys[i], sc, gkeys[i], "after SAVE and restart");
    stop_both(rc, sc);
}

/* RDB files with groups cross both ways: slotcache's passes redis-check-rdb
 * and loads in redis-server, redis-server's loads here; DUMP bytes equal. */
Test(stream_rdb, groups_rdb_files_cross_both_ways) {
    redisContext *rc, *sc;
    start_both(&rc, &sc);
    build_groups(rc);
    copy_groups(rc, sc, "redis-server's payload");
    sc_cmd_expect_or_fail(sc, "OK", "SAVE");
    sc_cmd_expect_or_fail(rc, "OK", "SAVE");
    expect_rdb_check_ok(&sut);
    char from_sc[200], from_redis[200];
    take_file(&sut, from_sc, sizeof from_sc);
    take_file(&ref, from_redis, sizeof from_redis);
    /* a second pair of servers on the other's file */
    sc_server ref2 = {0}, sut2 = {0};
    const char *rargs[] = {"--enable-debug-command", "yes", "--dir", from_sc, NULL};
    sc_server_start_bin_or_fail(&ref2, sc_reference_redis_binary(), rargs);
    const char *sargs[] = {"--dir", from_redis, NULL};
    sc_server_start_or_fail(&sut2, sargs);
    redisContext *rc2 = sc_connect_or_fail(&ref2), *sc2 = sc_connect_or_fail(&sut2);
    for (size_t i = 0; i < NGKEYS; i++) {
        expect_same_dump(rc, gkeys[i], rc2, gkeys[i], "slotcache's dump.rdb loaded by redis-server");
        expect_same_dump(rc, gkeys[i], sc2, gkeys[i], "redis-server's dump.rdb loaded by slotcache");
    }
    redisFree(rc2);
    redisFree(sc2);
    redisFree(rc);
    redisFree(sc);
    sc_server_stop_or_fail(&sut2);
    sc_server_stop_or_fail(&ref2);
    sc_server_stop_or_fail(&sut);
    sc_server_stop_or_fail(&ref);
    drop_dir(from_sc);
    drop_dir(from_redis);
}

/* ---- hand-built group payloads: good ones (types 19 and 15) and corrupt ones */

typedef struct {
    const char *name;
    int n;
    uint64_t ids[3]; /* ms of the IDs it owns (seq 0) */
} cons_spec;

typedef struct {
    const char *what;
    int npel;
    uint64_t pel[3]; /* ms of the group PEL's IDs */
    int ncons;
    cons_spec cons[3];
    bool cut_pel;     /* the PEL count says one more than written; the payload ends there */
    bool dup_group;   /* the group "g" twice */
    bool redis_safe;  /* redis-server 7.0.15 refuses it safely (the duplicate-in-one-consumer case frees an
                         entry still in the group PEL there; the ID owned twice it accepts) */
} grp_case;

static bool min_times; /* group_payload: delivery and seen times INT64_MIN (a payload may hold any) */

static void put_raw_id(payload *b, uint64_t ms) {
    unsigned char k[16] = {0};
    for (int i = 0; i < 8; i++) k[i] = (unsigned char)(ms >> (56 - 8 * i));
    put(b, k, 16);
}

static void put_le64(payload *b, uint64_t v) {
    unsigned char d[8];
    for (int i = 0; i < 8; i++) d[i] = (unsigned char)(v >> (8 * i));
    put(b, d, 8);
}

static void put_name(payload *b, const char *s) {
    put_len(b, strlen(s));
    put(b, s, strlen(s));
}

/* An empty group (no PEL, no consumer) of the given last ID ms. */
static void put_empty_group(payload *b, int type, const char *name, uint64_t last_ms, uint64_t entries_read) {
    put_name(b, name);
    put_len(b, last_ms), put_len(b, 0);
    if (type == 19) put_len(b, entries_read);
    put_len(b, 0), put_len(b, 0);
}

/* The stream 10-0, 11-0 (last 11-0) with group "g" as gc describes it
 * (last ID 11-0, entries_read 2), plus, for a good payload, groups
 * "h0".."h3" at 0-0, 10-0, 11-0 and 12-0 without PEL. */
static void group_payload(payload *b, int type, const grp_case *gc) {
    static const char *const els[] = {"2", "0", "1", "f", "0", "2", "0", "0", "v1", "4", "2", "1", "0", "v2", "4"};
    stream_head(b, type, 10, els, 15, 2, 11);
    bool extra = !gc->cut_pel && !gc->dup_group;
    put_len(b, 1 + (gc->dup_group ? 1 : 0) + (extra ? 4 : 0));
    put_name(b, "g");
    put_len(b, 11), put_len(b, 0);
    if (type == 19) put_len(b, 2);
    put_len(b, (uint64_t)gc->npel + (gc->cut_pel ? 1 : 0));
    for (int i = 0; i < gc->npel; i++) {
        put_raw_id(b, gc->pel[i]);
        put_le64(b, min_times ? 1ULL << 63 : 1700000000000ULL + gc->pel[i]); /* delivery time */
        put_len(b, 1 + gc->pel[i] * 100);          /* delivery count */
    }
    if (!gc->cut_pel) {
        put_len(b, (uint64_t)gc->ncons);
        for (int i = 0; i < gc->ncons; i++) {
            put_name(b, gc->cons[i].name);
            put_le64(b, min_times ? 1ULL << 63 : 1700000000000ULL - (uint64_t)i); /* seen time */
            put_len(b, (uint64_t)gc->cons[i].n);
            for (int j = 0; j < gc->cons[i].n; j++) put_raw_id(b, gc->cons[i].ids[j]);
        }
        if (gc->dup_group) put_empty_group(b, type, "g", 0, 0);
        static const uint64_t at[] = {0, 10, 11, 12};
        static const char *const names[] = {"h0", "h1", "h2", "h3"};
        for (int i = 0; extra && i < 4; i++) put_empty_group(b, type, names[i], at[i], i);
    }
    put_trailer(b);
}

static void expect_bad_format(redisContext *c, const payload *b, const char *who, const char *what) {
    redisReply *r = restore(c, b);
    cr_expect(r->type == REDIS_REPLY_ERROR && strcmp(r->str, "ERR Bad data format") == 0, "%s: %s answered %s", what,
              who, r->str ? r->str : "?");
    freeReplyObject(r);
    cr_expect_eq(sc_cmd_ll_or_fail(c, "EXISTS k"), 0, "%s: %s half-loaded it", what, who);
}

Test(stream_rdb, corrupt_group_payloads_are_refused_whole) {
    redisContext *rc, *sc;
    start_both(&rc, &sc);
    ok(rc, "CONFIG SET sanitize-dump-payload yes"); /* Redis checks PEL owners only then; slotcache always */
    payload b;
    /* good: both take it, in both types; the bytes they DUMP back are equal
     * (type 15's groups get the entries_read Redis estimates) */
    const grp_case good = {"good", 2, {10, 11}, 3, {{"alice", 1, {10}}, {"bob", 1, {11}}, {"idle", 0, {0}}},
                           false, false, true};
    for (int type = 19; type >= 15; type -= 4) {
        group_payload(&b, type, &good);
        redisReply *r1 = restore(rc, &b), *r2 = restore(sc, &b);
        cr_assert(sc_reply_is(r1, "OK") && sc_reply_is(r2, "OK"), "good type %d: redis %s, slotcache %s", type,
                  r1->str, r2->str);
        freeReplyObject(r1);
        freeReplyObject(r2);
        expect_same_dump(rc, "k", sc, "k", type == 19 ? "good type 19 payload" : "good type 15 payload");
    }
    ok(rc, "DEL k");
    ok(sc, "DEL k");
    const grp_case bad[] = {
        {"truncated PEL", 1, {10}, 0, {{0}}, true, false, true},
        {"consumer entry missing from the group PEL", 1, {10}, 1, {{"alice", 2, {10, 11}}}, false, false, true},
        {"duplicate group PEL entry", 2, {10, 10}, 1, {{"alice", 1, {10}}}, false, false, true},
        {"PEL entry owned by no consumer", 2, {10, 11}, 1, {{"alice", 1, {10}}}, false, false, true},
        {"duplicate consumer name", 1, {10}, 2, {{"alice", 1, {10}}, {"alice", 0, {0}}}, false, false, true},
        {"duplicate group name", 1, {10}, 1, {{"alice", 1, {10}}}, false, true, true},
        {"duplicate entry in one consumer's PEL", 1, {10}, 1, {{"alice", 2, {10, 10}}}, false, false, false},
        {"PEL entry owned by two consumers", 1, {10}, 2, {{"alice", 1, {10}}, {"bob", 1, {10}}}, false, false, false},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        for (int type = 19; type >= 15; type -= 4) {
            group_payload(&b, type, &bad[i]);
            expect_bad_format(sc, &b, "slotcache", bad[i].what);
            if (bad[i].redis_safe) expect_bad_format(rc, &b, "redis-server", bad[i].what);
        }
    }
    sc_cmd_expect_or_fail(sc, "PONG", "PING");
    sc_cmd_expect_or_fail(rc, "PONG", "PING");
    stop_both(rc, sc);
}

/* XSETID may set the last ID below a deleted entry (Redis checks the last
 * live one): DUMP / RESTORE and the RDB file must carry that stream (the
 * loader refused it, so slotcache could not load its own dump.rdb). */
Test(stream_rdb, last_id_below_a_deleted_entry_loads_back) {
    redisContext *rc, *sc;
    start_both(&rc, &sc);
    redisContext *both[] = {rc, sc};
    for (int i = 0; i < 2; i++) {
        ok(both[i], "XADD k 1-0 f v");
        ok(both[i], "XADD k 2-0 f v");
        ok(both[i], "XDEL k 2-0");
        ok(both[i], "XSETID k 1-5");
        /* and an entry appended after the deleted one with a smaller ID (a
         * node whose IDs are out of order, as Redis leaves it too) */
        ok(both[i], "XADD k 1-6 g w");
        redisReply *d = sc_cmd_or_fail(both[i], "DUMP k");
        cr_assert(d->type == REDIS_REPLY_STRING, "DUMP");
        redisReply *r = sc_cmd_or_fail(both[i], "RESTORE k2 0 %b", d->str, d->len);
        cr_expect(sc_reply_is(r, "OK"), "%s: RESTORE: %s", i ? "slotcache" : "redis-server", r->str ? r->str : "?");
        freeReplyObject(r);
        freeReplyObject(d);
    }
    expect_same_dump(rc, "k2", sc, "k2", "stream with its last ID below a deleted entry");
    stop_both(rc, sc);
}

/* Times of INT64_MIN from a payload: the idle times computed from them wrap
 * (as redis-server's do) instead of overflowing a signed subtraction (the
 * ASan/UBSan build aborted on XPENDING, XCLAIM, XAUTOCLAIM, XINFO CONSUMERS). */
Test(stream_rdb, group_times_at_int64_min) {
    redisContext *rc, *sc;
    start_both(&rc, &sc);
    payload b;
    grp_case gc = {"min times", 2, {10, 11}, 2, {{"alice", 1, {10}}, {"bob", 1, {11}}}, false, false, true};
    min_times = true;
    group_payload(&b, 19, &gc);
    min_times = false;
    redisReply *r1 = restore(rc, &b), *r2 = restore(sc, &b);
    cr_assert(sc_reply_is(r1, "OK") && sc_reply_is(r2, "OK"), "redis %s, slotcache %s", r1->str, r2->str);
    freeReplyObject(r1);
    freeReplyObject(r2);
    static const char *const cmds[] = {
        "XPENDING k g - + 10",
        "XPENDING k g IDLE 5 - + 10",
        "XPENDING k g IDLE 5 - + 10 alice",
        "XCLAIM k g carol 5 10-0 JUSTID",
        "XAUTOCLAIM k g carol 5 0 JUSTID",
    };
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        sc_buf x = {0}, y = {0};
        redisReply *a = sc_cmd_or_fail(rc, cmds[i]), *z = sc_cmd_or_fail(sc, cmds[i]);
        text_of(a, &x);
        text_of(z, &y);
        freeReplyObject(a);
        freeReplyObject(z);
        cr_expect(x.len == y.len && memcmp(x.data, y.data, x.len) == 0, "%s: redis %.*s, slotcache %.*s", cmds[i],
                  (int)x.len, x.data, (int)y.len, y.data);
        sc_buf_free(&x);
        sc_buf_free(&y);
    }
    redisReply *r = sc_cmd_or_fail(sc, "XINFO CONSUMERS k g");
    cr_expect(r->type == REDIS_REPLY_ARRAY && r->elements == 2, "XINFO CONSUMERS: %d", r->type);
    freeReplyObject(r);
    sc_cmd_expect_or_fail(sc, "PONG", "PING");
    stop_both(rc, sc);
}

static bool has_keys(redisContext *c, const char *prefix) {
    for (size_t i = 0; i < NGKEYS; i++) {
        redisReply *r = redisCommand(c, "EXISTS %s%s", prefix, gkeys[i] + 2); /* past "g:" */
        cr_assert(r, "connection broke");
        bool yes = r->type == REDIS_REPLY_INTEGER && r->integer == 1; /* -LOADING meanwhile */
        freeReplyObject(r);
        if (!yes) return false;
    }
    return true;
}

/* A full sync carries the groups both ways: slotcache replicating
 * redis-server, then redis-server replicating slotcache. */
Test(stream_rdb, groups_cross_full_sync_both_ways) {
    redisContext *rc, *sc;
    start_both(&rc, &sc);
    build_groups(rc);
    ok(rc, "CONFIG SET repl-diskless-sync-delay 0");
    ok(sc, "CONFIG SET repl-diskless-sync-delay 0");
    sc_cmd_expect_or_fail(sc, "OK", "REPLICAOF 127.0.0.1 %d", ref.port);
    cr_assert(SC_WAIT_FOR(has_keys(sc, "g:"), 20000), "slotcache's full sync from redis-server did not finish");
    for (size_t i = 0; i < NGKEYS; i++) expect_same_dump(rc, gkeys[i], sc, gkeys[i], "full sync from redis-server");
    sc_cmd_expect_or_fail(sc, "OK", "REPLICAOF NO ONE");
    for (size_t i = 0; i < NGKEYS; i++)
        cr_assert_eq(sc_cmd_ll_or_fail(sc, "COPY %s s%s", gkeys[i], gkeys[i]), 1); /* "sg:..." exist only here */
    sc_cmd_expect_or_fail(rc, "OK", "REPLICAOF 127.0.0.1 %d", sut.port);
    cr_assert(SC_WAIT_FOR(has_keys(rc, "sg:"), 20000), "redis-server's full sync from slotcache did not finish");
    for (size_t i = 0; i < NGKEYS; i++) {
        char k[64];
        snprintf(k, sizeof k, "s%s", gkeys[i]);
        expect_same_dump(sc, k, rc, k, "full sync from slotcache");
    }
    sc_cmd_expect_or_fail(rc, "OK", "REPLICAOF NO ONE");
    stop_both(rc, sc);
}

/* Groups built here by the group commands: redis-server RESTOREs
 * slotcache's payloads and DUMPs them back to the same bytes. */
Test(stream_rdb, groups_built_here_restore_in_redis_byte_identical) {
    redisContext *rc, *sc;
    start_both(&rc, &sc);
    build_groups(sc);
    copy_groups(sc, rc, "slotcache's payload");
    for (size_t i = 0; i < NGKEYS; i++)
        expect_same_dump(sc, gkeys[i], rc, gkeys[i], "slotcache's groups restored in redis-server");
    stop_both(rc, sc);
}
