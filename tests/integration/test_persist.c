/*
 * test_persist.c - dump.rdb persistence against the real binary: SAVE and
 * restart, BGSAVE point-in-time under a concurrent write load on four
 * workers (a writer's sequence and MULTI/EXEC pairs must appear as one cut),
 * files crossing both ways with the reference redis-server 7.0 (every type
 * and encoding, TTLs, 16 databases; redis-check-rdb on slotcache's file),
 * save points, SHUTDOWN SAVE/NOSAVE and SIGTERM, FLUSHALL, DEBUG RELOAD,
 * MISCONF after a failed BGSAVE, INFO persistence, and bad files (flipped
 * bytes, truncations, types slotcache lacks) refused at startup with nothing
 * served.
 *
 * Each server runs with --dir pointing at a directory the test made (the
 * harness's own working directory holds only the log), so files can be
 * moved between servers. Every wait is bounded.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "server_proc.h"
#include "thread_fail.h"

static sc_server a, b;

TestSuite(persist, .fini = sc_server_cleanup, .timeout = 600);

/* ---- helpers ----------------------------------------------------------- */

static void make_dir(char *out, size_t n)
{
    mkdir("/tmp/slotcache-tests", 0777);
    snprintf(out, n, "/tmp/slotcache-tests/persist-%d-XXXXXX", (int)getpid());
    cr_assert(mkdtemp(out) != NULL, "mkdtemp: %s", strerror(errno));
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char p[600];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (rmdir(p) != 0) unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

/* Start `bin` (NULL: slotcache) with --dir dir and extra args. */
static void start_in(sc_server *s, const char *bin, const char *dir, const char *const *extra)
{
    const char *argv[32];
    int n = 0;
    argv[n++] = "--dir";
    argv[n++] = dir;
    for (int i = 0; extra && extra[i] && n < 30; i++) argv[n++] = extra[i];
    argv[n] = NULL;
    sc_server_start_bin_or_fail(s, bin ? bin : sc_server_binary(), argv);
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[got] = '\0'; /* logs are searched with strstr */
    *len = got;
    return buf;
}

static void write_all(const char *path, const void *p, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert(f != NULL, "open %s: %s", path, strerror(errno));
    cr_assert_eq(fwrite(p, 1, len, f), len);
    fclose(f);
}

/* Turn the stream stored under key (a short name) in dir's dump.rdb into a
 * module value (type byte 19 -> RDB_TYPE_MODULE_2, which slotcache refuses)
 * and zero the file's checksum (a zero checksum is not checked). */
static void stream_to_module_value(const char *dir, const char *key)
{
    char path[512];
    snprintf(path, sizeof path, "%s/dump.rdb", dir);
    size_t len, klen = strlen(key);
    char *p = read_all(path, &len);
    cr_assert(p && len > klen + 10 && klen < 64);
    char pat[65];
    pat[0] = (char)klen;
    memcpy(pat + 1, key, klen);
    char *at = memmem(p, len, pat, klen + 1);
    cr_assert(at && at > p && at[-1] == 19, "no stream %s in %s", key, path);
    at[-1] = 7;
    memset(p + len - 8, 0, 8);
    write_all(path, p, len);
    free(p);
}

static void copy_file(const char *from, const char *to)
{
    size_t len;
    char *p = read_all(from, &len);
    cr_assert(p != NULL, "read %s: %s", from, strerror(errno));
    write_all(to, p, len);
    free(p);
}

static void cmd_ok(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    cr_assert(r != NULL, "%s: connection broke: %s", fmt, c->errstr);
    cr_assert(r->type != REDIS_REPLY_ERROR, "%s: %s", fmt, r->str);
    freeReplyObject(r);
}

/* A bulk reply holding an integer (GET of a counter). */
static long long get_ll(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    cr_assert(r != NULL && r->type == REDIS_REPLY_STRING, "%s: not a bulk reply", fmt);
    long long v = strtoll(r->str, NULL, 10);
    freeReplyObject(r);
    return v;
}

static long long info_ll(redisContext *c, const char *name)
{
    return sc_info_ll_or_fail(c, "persistence", name);
}

/* Fill a server with every type and encoding, TTLs, several databases. */
static void populate(redisContext *c)
{
    long long far = (long long)time(NULL) * 1000 + 3600 * 1000;
    for (int db = 0; db < 16; db += 5) {
        cmd_ok(c, "SELECT %d", db);
        cmd_ok(c, "SET str:%d hello", db);
        cmd_ok(c, "SET int:%d 12345", db);
        cmd_ok(c, "SET neg:%d -9223372036854775808", db);
        cmd_ok(c, "SET big:%d %s", db,
               "a compressible string a compressible string a compressible string a compressible string");
        cmd_ok(c, "SET bin:%d %b", db, "\x00\x01\xff\r\n", (size_t)5);
        cmd_ok(c, "SET ttl:%d v PXAT %lld", db, far + db);
        cmd_ok(c, "RPUSH list:%d a b c 1 2 -3", db);
        for (int i = 0; i < 300; i++) cmd_ok(c, "RPUSH biglist:%d item-%d", db, i);
        cmd_ok(c, "SADD iset:%d 1 2 3 -4 100000", db);
        cmd_ok(c, "SADD sset:%d x y z", db);
        for (int i = 0; i < 200; i++) cmd_ok(c, "SADD bigset:%d m%d", db, i);
        cmd_ok(c, "ZADD zs:%d 1 a 2.5 b -inf c inf d", db);
        for (int i = 0; i < 200; i++) cmd_ok(c, "ZADD bigz:%d %d.5 m%d", db, i, i);
        cmd_ok(c, "HSET h:%d f1 v1 f2 2 f3 %b", db, "\x00", (size_t)1);
        for (int i = 0; i < 200; i++) cmd_ok(c, "HSET bigh:%d f%d v%d", db, i, i);
        cmd_ok(c, "PEXPIREAT bigh:%d %lld", db, far + 7);
    }
    cmd_ok(c, "SELECT 0");
}

/* Escaped bytes of one bulk. */
static void put_bytes(sc_buf *out, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch < 32 || ch > 126 || ch == '\\') sc_buf_printf(out, "\\x%02x", ch);
        else sc_buf_printf(out, "%c", ch);
    }
}

static int cmp_elem(const void *x, const void *y)
{
    const redisReply *a = *(redisReply *const *)x, *b = *(redisReply *const *)y;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->str, b->str, n);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* Array elements as text; `group` elements form one unit (2: hash pairs),
 * units sorted when `sorted` (sets, hashes: their order is an encoding's). */
static void put_array(sc_buf *out, redisReply *v, int group, bool sorted)
{
    cr_assert_eq(v->type, REDIS_REPLY_ARRAY);
    size_t units = v->elements / (size_t)group;
    sc_buf *parts = calloc(units ? units : 1, sizeof *parts);
    for (size_t u = 0; u < units; u++)
        for (int g = 0; g < group; g++) {
            redisReply *e = v->element[u * (size_t)group + (size_t)g];
            put_bytes(&parts[u], e->str, e->len);
            sc_buf_printf(&parts[u], g + 1 < group ? "=" : "");
        }
    redisReply *keys = calloc(units ? units : 1, sizeof *keys);
    redisReply **ptrs = calloc(units ? units : 1, sizeof *ptrs);
    for (size_t u = 0; u < units; u++) {
        keys[u].str = parts[u].data ? parts[u].data : (char *)"";
        keys[u].len = parts[u].len;
        ptrs[u] = &keys[u];
    }
    if (sorted) qsort(ptrs, units, sizeof *ptrs, cmp_elem);
    sc_buf_printf(out, "[");
    for (size_t u = 0; u < units; u++) sc_buf_printf(out, "%s%.*s", u ? "," : "", (int)ptrs[u]->len, ptrs[u]->str);
    sc_buf_printf(out, "]");
    for (size_t u = 0; u < units; u++) sc_buf_free(&parts[u]);
    free(parts);
    free(keys);
    free(ptrs);
}

/* A canonical text of every key's type, value and TTL presence across the
 * databases populate() uses. */
static void describe_key(redisContext *c, const char *key, sc_buf *out)
{
    redisReply *t = sc_cmd_or_fail(c, "TYPE %s", key);
    sc_buf_printf(out, "%s %s ", key, t->str);
    const char *type = t->str;
    if (!strcmp(type, "string")) {
        redisReply *v = sc_cmd_or_fail(c, "GET %s", key);
        put_bytes(out, v->str, v->len);
        freeReplyObject(v);
    } else {
        const char *cmd = !strcmp(type, "list")   ? "LRANGE %s 0 -1"
                          : !strcmp(type, "set")  ? "SMEMBERS %s"
                          : !strcmp(type, "zset") ? "ZRANGE %s 0 -1 WITHSCORES"
                                                  : "HGETALL %s";
        redisReply *v = sc_cmd_or_fail(c, cmd, key);
        put_array(out, v, !strcmp(type, "zset") || !strcmp(type, "hash") ? 2 : 1,
                  !strcmp(type, "set") || !strcmp(type, "hash"));
        freeReplyObject(v);
    }
    freeReplyObject(t);
    long long pttl = sc_cmd_ll_or_fail(c, "PTTL %s", key);
    sc_buf_printf(out, " ttl=%s\n", pttl < 0 ? "none" : pttl > 3000 * 1000 ? "set" : "short");
}

static void describe_all(redisContext *c, sc_buf *out)
{
    for (int db = 0; db < 16; db++) {
        cmd_ok(c, "SELECT %d", db);
        redisReply *k = sc_cmd_or_fail(c, "KEYS *");
        cr_assert_eq(k->type, REDIS_REPLY_ARRAY);
        /* sorted for a stable text */
        for (size_t i = 0; i < k->elements; i++)
            for (size_t j = i + 1; j < k->elements; j++)
                if (strcmp(k->element[i]->str, k->element[j]->str) > 0) {
                    redisReply *x = k->element[i];
                    k->element[i] = k->element[j];
                    k->element[j] = x;
                }
        sc_buf_printf(out, "db%d keys=%zu\n", db, k->elements);
        for (size_t i = 0; i < k->elements; i++) describe_key(c, k->element[i]->str, out);
        freeReplyObject(k);
    }
    cmd_ok(c, "SELECT 0");
}

/* Encoding text of a few keys (OBJECT ENCODING), db 0. */
static void describe_encodings(redisContext *c, sc_buf *out)
{
    static const char *const keys[] = { "str:0", "int:0", "big:0", "list:0", "biglist:0", "iset:0", "sset:0",
                                        "bigset:0", "zs:0", "bigz:0", "h:0", "bigh:0" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        redisReply *r = sc_cmd_or_fail(c, "OBJECT ENCODING %s", keys[i]);
        sc_buf_printf(out, "%s=%s ", keys[i], r->type == REDIS_REPLY_STRING ? r->str : "?");
        freeReplyObject(r);
    }
}

static void expect_same(const sc_buf *x, const sc_buf *y, const char *what)
{
    if (x->len != y->len || memcmp(x->data, y->data, x->len) != 0) {
        size_t i = 0;
        while (i < x->len && i < y->len && x->data[i] == y->data[i]) i++;
        size_t from = i > 200 ? i - 200 : 0;
        cr_assert_fail("%s: contents differ at byte %zu:\n  first : ...%.400s\n  second: ...%.400s", what, i,
                       x->data + from, y->data + from);
    }
}

/* ---- SAVE, restart, INFO, LASTSAVE ------------------------------------- */

Test(persist, save_and_restart_keeps_everything)
{
    char dir[256];
    make_dir(dir, sizeof dir);
    start_in(&a, NULL, dir, (const char *[]){ "--threads", "4", NULL });
    redisContext *c = sc_connect_or_fail(&a);
    populate(c);
    cr_assert_eq(info_ll(c, "rdb_saves"), 0);
    cr_assert_gt(info_ll(c, "rdb_changes_since_last_save"), 0);
    long long before = sc_cmd_ll_or_fail(c, "LASTSAVE");
    long long nkeys = 0;
    for (int db = 0; db < 16; db++) {
        cmd_ok(c, "SELECT %d", db);
        nkeys += sc_cmd_ll_or_fail(c, "DBSIZE");
    }
    cmd_ok(c, "SELECT 0");
    sc_buf want = { 0 }, got = { 0 }, enc1 = { 0 }, enc2 = { 0 };
    describe_all(c, &want);
    describe_encodings(c, &enc1);
    sc_cmd_expect_or_fail(c, "OK", "SAVE");
    cr_assert_eq(info_ll(c, "rdb_saves"), 1);
    cr_assert_eq(info_ll(c, "rdb_changes_since_last_save"), 0);
    cr_assert_geq(sc_cmd_ll_or_fail(c, "LASTSAVE"), before);
    redisFree(c);
    sc_server_stop_or_fail(&a);

    start_in(&a, NULL, dir, NULL);
    c = sc_connect_or_fail(&a);
    describe_all(c, &got);
    describe_encodings(c, &enc2);
    expect_same(&want, &got, "after SAVE and restart");
    expect_same(&enc1, &enc2, "encodings after restart");
    cr_assert_eq(info_ll(c, "rdb_last_load_keys_loaded"), nkeys);
    /* DEBUG RELOAD keeps the same content. */
    sc_cmd_expect_or_fail(c, "OK", "DEBUG RELOAD");
    sc_buf again = { 0 };
    describe_all(c, &again);
    expect_same(&want, &again, "after DEBUG RELOAD");
    redisFree(c);
    sc_server_stop_or_fail(&a);
    sc_buf_free(&want);
    sc_buf_free(&got);
    sc_buf_free(&again);
    sc_buf_free(&enc1);
    sc_buf_free(&enc2);
    remove_tree(dir);
}

/* Keys that expired while the server was down are not loaded. */
Test(persist, expired_keys_are_not_loaded)
{
    char dir[256];
    make_dir(dir, sizeof dir);
    start_in(&a, NULL, dir, NULL);
    redisContext *c = sc_connect_or_fail(&a);
    int ttl_ms = sc_scaled_ms(1500); /* long enough to be saved on a loaded machine */
    long long set_at = sc_now_ms();
    cmd_ok(c, "SET short v PX %d", ttl_ms);
    cmd_ok(c, "SET long v EX 3600");
    sc_cmd_expect_or_fail(c, "OK", "SAVE");
    cr_assert_lt(sc_now_ms() - set_at, ttl_ms, "SAVE came after the key expired: machine too slow");
    redisFree(c);
    sc_server_stop_or_fail(&a);
    while (sc_now_ms() - set_at <= ttl_ms + 50) sc_sleep_ms(20);
    start_in(&a, NULL, dir, NULL);
    c = sc_connect_or_fail(&a);
    cr_assert_eq(sc_cmd_ll_or_fail(c, "EXISTS short long"), 1);
    cr_assert_eq(info_ll(c, "rdb_last_load_keys_expired"), 1);
    cr_assert_eq(info_ll(c, "rdb_last_load_keys_loaded"), 1);
    long long ttl = sc_cmd_ll_or_fail(c, "TTL long");
    cr_assert(ttl > 3500 && ttl <= 3600, "TTL after reload: %lld", ttl);
    redisFree(c);
    sc_server_stop_or_fail(&a);
    remove_tree(dir);
}

/* ---- point in time ----------------------------------------------------- */

#define PIT_KEYS 2000
#define PIT_WRITERS 3

typedef struct {
    const sc_server *srv;
    int id;
    atomic_bool *stop;
    _Atomic long long rounds;
} pit_writer;

/* Writer `id` sets w<id>:<k> = <round> for k = 0..PIT_KEYS-1, round after
 * round, and every 100 keys a MULTI/EXEC that increments pair:<id>:a and
 * pair:<id>:b together. */
static void *pit_write(void *arg)
{
    pit_writer *w = arg;
    redisContext *c = sc_thread_connect(w->srv, 5000);
    if (!c) return NULL;
    for (long long round = 1; !atomic_load(w->stop) && round < 1000000; round++) {
        for (int k = 0; k < PIT_KEYS; k++) {
            redisReply *r = redisCommand(c, "SET w%d:%d %lld", w->id, k, round);
            if (!r || r->type == REDIS_REPLY_ERROR) {
                sc_thread_fail("SET failed: %s", r ? r->str : c->errstr);
                if (r) freeReplyObject(r);
                redisFree(c);
                return NULL;
            }
            freeReplyObject(r);
            if (k % 100 == 0) {
                redisAppendCommand(c, "MULTI");
                redisAppendCommand(c, "INCR pair:%d:a", w->id);
                redisAppendCommand(c, "INCR pair:%d:b", w->id);
                redisAppendCommand(c, "EXEC");
                for (int i = 0; i < 4; i++) {
                    if (redisGetReply(c, (void **)&r) != REDIS_OK) {
                        sc_thread_fail("EXEC: %s", c->errstr);
                        redisFree(c);
                        return NULL;
                    }
                    freeReplyObject(r);
                }
            }
        }
        w->rounds = round;
    }
    redisFree(c);
    return NULL;
}

Test(persist, bgsave_is_point_in_time_under_writes)
{
    char dir[256], dir2[256];
    make_dir(dir, sizeof dir);
    make_dir(dir2, sizeof dir2);
    start_in(&a, NULL, dir, (const char *[]){ "--threads", "4", NULL });
    redisContext *c = sc_connect_or_fail(&a);
    /* A bulk of other keys so the walk takes a while. */
    cmd_ok(c, "DEBUG POPULATE 200000 filler 64");
    sc_thread_fail_reset();
    atomic_bool stop = false;
    pit_writer w[PIT_WRITERS];
    pthread_t th[PIT_WRITERS];
    for (int i = 0; i < PIT_WRITERS; i++) {
        w[i] = (pit_writer){ &a, i, &stop, 0 };
        cr_assert_eq(pthread_create(&th[i], NULL, pit_write, &w[i]), 0);
    }
    /* Let every writer finish a first round, then save mid-stream. */
    bool ok = SC_WAIT_FOR(w[0].rounds >= 1 && w[1].rounds >= 1 && w[2].rounds >= 1, 60000);
    cr_assert(ok, "writers did not complete a round");
    sc_cmd_expect_or_fail(c, "Background saving started", "BGSAVE");
    ok = SC_WAIT_FOR(info_ll(c, "rdb_bgsave_in_progress") == 0, 60000);
    cr_assert(ok, "BGSAVE did not finish");
    cr_assert_eq(info_ll(c, "rdb_saves"), 1);
    atomic_store(&stop, true);
    /* The writes really overlapped the save: writers copied slots. */
    size_t loglen;
    char *log = read_all(a.log_path, &loglen);
    const char *line = log ? strstr(log, "Snapshot: ") : NULL;
    cr_assert(line, "no snapshot figures in the log");
    cr_assert_gt(atol(line + strlen("Snapshot: ")), 0, "no slot was copied by a writer: %.200s", line);
    free(log);
    for (int i = 0; i < PIT_WRITERS; i++) pthread_join(th[i], NULL);
    sc_no_thread_failures_or_fail();
    redisFree(c);

    /* Load the file in a second server and check each writer's cut. */
    char from[512], to[512];
    snprintf(from, sizeof from, "%s/dump.rdb", dir);
    snprintf(to, sizeof to, "%s/dump.rdb", dir2);
    copy_file(from, to);
    start_in(&b, NULL, dir2, NULL);
    redisContext *d = sc_connect_or_fail(&b);
    cr_assert_eq(sc_cmd_ll_or_fail(d, "DBSIZE"), 200000 + PIT_WRITERS * (PIT_KEYS + 2));
    for (int i = 0; i < PIT_WRITERS; i++) {
        /* A cut of writer i's sequence: keys 0..p-1 at round r, p.. at r-1. */
        long long first = -1;
        int drops = 0;
        long long prev = -1;
        for (int k = 0; k < PIT_KEYS; k++) {
            long long v = get_ll(d, "GET w%d:%d", i, k);
            if (k == 0) first = v;
            if (k > 0 && v != prev) {
                drops++;
                cr_assert_eq(v, prev - 1, "writer %d key %d: %lld after %lld: not one cut", i, k, v, prev);
            }
            prev = v;
        }
        cr_assert(drops <= 1, "writer %d: %d steps, not one cut", i, drops);
        cr_assert_geq(first, 1);
        long long pa = get_ll(d, "GET pair:%d:a", i);
        long long pb = get_ll(d, "GET pair:%d:b", i);
        cr_assert_eq(pa, pb, "writer %d: a transaction was cut in half (%lld vs %lld)", i, pa, pb);
    }
    redisFree(d);
    sc_server_stop_or_fail(&b);
    sc_server_stop_or_fail(&a);
    remove_tree(dir);
    remove_tree(dir2);
}

/* ---- interop with redis-server ----------------------------------------- */

Test(persist, files_cross_both_ways_with_redis_server)
{
    const char *redis = sc_reference_redis_binary();
    if (!redis || sc_server_binary_is_redis()) cr_skip_test("needs /usr/bin/redis-server as the reference");
    char rdir[256], sdir[256];
    make_dir(rdir, sizeof rdir);
    make_dir(sdir, sizeof sdir);

    /* redis-server writes, slotcache loads. */
    start_in(&a, redis, rdir, NULL);
    redisContext *rc = sc_connect_or_fail(&a);
    populate(rc);
    sc_buf want = { 0 }, enc_r = { 0 };
    describe_all(rc, &want);
    describe_encodings(rc, &enc_r);
    sc_cmd_expect_or_fail(rc, "OK", "SAVE");
    char from[512], to[512];
    snprintf(from, sizeof from, "%s/dump.rdb", rdir);
    snprintf(to, sizeof to, "%s/dump.rdb", sdir);
    copy_file(from, to);
    start_in(&b, NULL, sdir, NULL);
    redisContext *sc = sc_connect_or_fail(&b);
    sc_buf got = { 0 }, enc_s = { 0 };
    describe_all(sc, &got);
    describe_encodings(sc, &enc_s);
    expect_same(&want, &got, "redis-server's dump.rdb loaded by slotcache");
    expect_same(&enc_r, &enc_s, "encodings of redis-server's file in slotcache");

    /* slotcache writes, redis-check-rdb accepts, redis-server loads. */
    cmd_ok(sc, "SET added-by slotcache");
    sc_buf_free(&want);
    memset(&want, 0, sizeof want);
    describe_all(sc, &want);
    sc_cmd_expect_or_fail(sc, "OK", "SAVE");
    redisFree(rc);
    redisFree(sc);
    sc_server_stop_or_fail(&a);
    sc_server_stop_or_fail(&b);

    snprintf(from, sizeof from, "%s/dump.rdb", sdir);
    snprintf(to, sizeof to, "%s/dump.rdb", rdir);
    copy_file(from, to);
    const char *check[] = { "redis-check-rdb", from, NULL };
    sc_buf out = { 0 };
    int rcode = sc_run(check, NULL, 0, &out, 30000);
    cr_assert_eq(rcode, 0, "redis-check-rdb on slotcache's file: exit %d\n%s", rcode, out.data ? out.data : "");
    cr_assert(out.data && strstr(out.data, "RDB looks OK!"), "redis-check-rdb:\n%s", out.data ? out.data : "");
    sc_buf_free(&out);
    start_in(&a, redis, rdir, NULL);
    rc = sc_connect_or_fail(&a);
    sc_buf_free(&got);
    memset(&got, 0, sizeof got);
    describe_all(rc, &got);
    expect_same(&want, &got, "slotcache's dump.rdb loaded by redis-server");
    redisFree(rc);
    sc_server_stop_or_fail(&a);
    sc_buf_free(&want);
    sc_buf_free(&got);
    sc_buf_free(&enc_r);
    sc_buf_free(&enc_s);
    remove_tree(rdir);
    remove_tree(sdir);
}

/* ---- bad files --------------------------------------------------------- */

/* Start slotcache on dir and expect it to refuse: exit non-zero without
 * ever answering, its log naming `why` (may be NULL). */
static void expect_refused_with(const char *dir, const char *save, const char *why, const char *what)
{
    char logp[512];
    snprintf(logp, sizeof logp, "%s/refused.log", dir);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        execl(sc_server_binary(), sc_server_binary(), "--port", "0", "--dir", dir, "--save", save, "--hz", "100",
              NULL);
        _exit(127);
    }
    int status = 0;
    long long deadline = sc_now_ms() + sc_scaled_ms(30000);
    bool done = false;
    while (sc_now_ms() < deadline && !(done = waitpid(pid, &status, WNOHANG) == pid)) sc_sleep_ms(5);
    /* A machine that stalled past the deadline: look once more before
     * calling it a hang. */
    if (!done) {
        sc_sleep_ms(100);
        done = waitpid(pid, &status, WNOHANG) == pid;
    }
    if (!done) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        cr_assert_fail("%s: the server did not exit", what);
    }
    size_t len = 0;
    char *log = read_all(logp, &len);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) != 0, "%s: status 0x%x, log:\n%s", what, status,
              log ? log : "");
    cr_assert(log && !strstr(log, "AddressSanitizer") && !strstr(log, "runtime error"), "%s: sanitizer:\n%s",
              what, log ? log : "");
    if (why) cr_assert(strstr(log, why) != NULL, "%s: log does not say '%s':\n%s", what, why, log);
    free(log);
}

static void expect_refused(const char *dir, const char *why, const char *what)
{
    expect_refused_with(dir, "", why, what);
}

Test(persist, bad_files_are_refused)
{
    if (sc_server_binary_is_redis()) cr_skip_test("slotcache's startup errors");
    char dir[256];
    make_dir(dir, sizeof dir);
    start_in(&a, NULL, dir, NULL);
    redisContext *c = sc_connect_or_fail(&a);
    populate(c);
    sc_cmd_expect_or_fail(c, "OK", "SAVE");
    redisFree(c);
    sc_server_stop_or_fail(&a);
    char path[512];
    snprintf(path, sizeof path, "%s/dump.rdb", dir);
    size_t len;
    char *good = read_all(path, &len);
    cr_assert(good && len > 100);

    /* Flipped bytes: the checksum catches them. */
    unsigned seed = 12345;
    for (int i = 0; i < 6; i++) {
        char *bad = malloc(len);
        memcpy(bad, good, len);
        seed = seed * 1103515245 + 12345;
        size_t at = 9 + (seed >> 8) % (len - 9);
        bad[at] ^= (char)(1 + (seed & 0x7f));
        write_all(path, bad, len);
        free(bad);
        expect_refused(dir, NULL, "flipped byte");
    }
    /* Truncations, with and without the checksum check. */
    size_t cuts[] = { 5, 9, 20, len / 3, len / 2, len - 9, len - 1 };
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        write_all(path, good, cuts[i]);
        expect_refused(dir, NULL, "truncated file");
    }
    /* Not an RDB file at all. */
    write_all(path, "hello world, not redis", 22);
    expect_refused(dir, "Wrong signature", "garbage file");
    free(good);
    remove_tree(dir);
}

Test(persist, unsupported_type_names_key_and_type)
{
    const char *redis = sc_reference_redis_binary();
    if (!redis || sc_server_binary_is_redis()) cr_skip_test("needs /usr/bin/redis-server as the reference");
    char dir[256];
    make_dir(dir, sizeof dir);
    start_in(&a, redis, dir, NULL);
    redisContext *c = sc_connect_or_fail(&a);
    cmd_ok(c, "SET plain v");
    cmd_ok(c, "XADD mystream 1-1 f v");
    sc_cmd_expect_or_fail(c, "OK", "SAVE");
    redisFree(c);
    sc_server_stop_or_fail(&a);
    stream_to_module_value(dir, "mystream");
    expect_refused(dir, "mystream", "a module value in the file");
    char logp[512];
    snprintf(logp, sizeof logp, "%s/refused.log", dir);
    size_t len;
    char *log = read_all(logp, &len);
    cr_assert(log && strstr(log, "type 7") && strstr(log, "module") && strstr(log, "offset"), "log: %s",
              log ? log : "");
    free(log);
    remove_tree(dir);
}

/* ---- save points, shutdown, FLUSHALL, MISCONF --------------------------- */

Test(persist, save_points_and_shutdown)
{
    char dir[256];
    make_dir(dir, sizeof dir);
    char path[512];
    snprintf(path, sizeof path, "%s/dump.rdb", dir);

    /* save 1 1: a change is saved within about a second. */
    start_in(&a, NULL, dir, (const char *[]){ "--save", "1 1", NULL });
    redisContext *c = sc_connect_or_fail(&a);
    cmd_ok(c, "SET k1 v1");
    bool ok = SC_WAIT_FOR(info_ll(c, "rdb_saves") >= 1 && info_ll(c, "rdb_changes_since_last_save") == 0, 10000);
    cr_assert(ok, "save point 1 1 did not save");
    cr_assert(access(path, F_OK) == 0);
    /* SIGTERM with save points saves the last writes. */
    cmd_ok(c, "SET k2 v2");
    redisFree(c);
    sc_server_stop_or_fail(&a);
    start_in(&a, NULL, dir, NULL);
    c = sc_connect_or_fail(&a);
    cr_assert_eq(sc_cmd_ll_or_fail(c, "EXISTS k1 k2"), 2, "SIGTERM did not save");
    /* save "" (the harness default here): SIGTERM does not save, SHUTDOWN
     * SAVE does, SHUTDOWN NOSAVE does not. */
    cmd_ok(c, "SET k3 v3");
    redisFree(c);
    sc_server_stop_or_fail(&a);
    start_in(&a, NULL, dir, NULL);
    c = sc_connect_or_fail(&a);
    cr_assert_eq(sc_cmd_ll_or_fail(c, "EXISTS k3"), 0, "SIGTERM saved without save points");
    cmd_ok(c, "SET k4 v4");
    redisReply *r = redisCommand(c, "SHUTDOWN SAVE");
    if (r) freeReplyObject(r);
    redisFree(c);
    int st = -1;
    cr_assert(sc_server_wait_exit(&a, 10000, &st), "SHUTDOWN SAVE did not stop the server");
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "SHUTDOWN SAVE: status 0x%x", st);
    start_in(&a, NULL, dir, NULL);
    c = sc_connect_or_fail(&a);
    cr_assert_eq(sc_cmd_ll_or_fail(c, "EXISTS k4"), 1, "SHUTDOWN SAVE did not save");
    cmd_ok(c, "SET k5 v5");
    r = redisCommand(c, "SHUTDOWN NOSAVE");
    if (r) freeReplyObject(r);
    redisFree(c);
    cr_assert(sc_server_wait_exit(&a, 10000, &st), "SHUTDOWN NOSAVE did not stop the server");
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "SHUTDOWN NOSAVE: status 0x%x", st);

    /* FLUSHALL with save points writes the empty dataset at once. */
    start_in(&a, NULL, dir, (const char *[]){ "--save", "3600 1", NULL });
    c = sc_connect_or_fail(&a);
    cr_assert_eq(sc_cmd_ll_or_fail(c, "EXISTS k4 k5"), 1, "SHUTDOWN NOSAVE saved");
    long long saves = info_ll(c, "rdb_saves");
    sc_cmd_expect_or_fail(c, "OK", "FLUSHALL");
    cr_assert_eq(info_ll(c, "rdb_saves"), saves + 1, "FLUSHALL did not save");
    redisFree(c);
    sc_server_stop_or_fail(&a);
    start_in(&a, NULL, dir, NULL);
    c = sc_connect_or_fail(&a);
    cr_assert_eq(sc_cmd_ll_or_fail(c, "DBSIZE"), 0, "FLUSHALL's save was not empty");
    redisFree(c);
    sc_server_stop_or_fail(&a);
    remove_tree(dir);
}

/* slotcache with a save point and one key, whose dump.rdb is a directory,
 * so every save fails at its rename (path gets that directory). */
static redisContext *start_with_dump_blocked(const char *dir, char *path, size_t n)
{
    start_in(&a, NULL, dir, (const char *[]){ "--save", "3600 1", NULL });
    redisContext *c = sc_connect_or_fail(&a);
    cmd_ok(c, "SET k v");
    snprintf(path, n, "%s/dump.rdb", dir);
    cr_assert_eq(mkdir(path, 0755), 0);
    return c;
}

Test(persist, failed_bgsave_gives_misconf)
{
    char dir[256];
    make_dir(dir, sizeof dir);
    char path[512];
    redisContext *c = start_with_dump_blocked(dir, path, sizeof path);
    sc_cmd_expect_or_fail(c, "Background saving started", "BGSAVE");
    bool ok = SC_WAIT_FOR(info_ll(c, "rdb_bgsave_in_progress") == 0, 10000);
    cr_assert(ok);
    redisReply *r = sc_cmd_or_fail(c, "INFO persistence");
    cr_assert(strstr(r->str, "rdb_last_bgsave_status:err"), "%s", r->str);
    freeReplyObject(r);
    r = sc_cmd_or_fail(c, "SET k2 v");
    cr_assert_eq(r->type, REDIS_REPLY_ERROR);
    cr_assert(strncmp(r->str, "MISCONF Redis is configured to save RDB snapshots,", 50) == 0, "%s", r->str);
    freeReplyObject(r);
    sc_cmd_expect_or_fail(c, "v", "GET k"); /* reads still work */
    cmd_ok(c, "CONFIG SET stop-writes-on-bgsave-error no");
    cmd_ok(c, "SET k3 v");
    cmd_ok(c, "CONFIG SET stop-writes-on-bgsave-error yes");
    /* A good save clears it. */
    cr_assert_eq(rmdir(path), 0);
    sc_cmd_expect_or_fail(c, "OK", "SAVE");
    cmd_ok(c, "SET k4 v");
    redisFree(c);
    sc_server_stop_or_fail(&a);
    remove_tree(dir);
}

/* kill -9 in the middle of a BGSAVE keeps the previous file whole. */
Test(persist, kill_during_bgsave_keeps_old_file)
{
    char dir[256];
    make_dir(dir, sizeof dir);
    start_in(&a, NULL, dir, NULL);
    redisContext *c = sc_connect_or_fail(&a);
    cmd_ok(c, "SET marker old");
    sc_cmd_expect_or_fail(c, "OK", "SAVE");
    char path[512];
    snprintf(path, sizeof path, "%s/dump.rdb", dir);
    size_t oldlen;
    char *old = read_all(path, &oldlen);
    cmd_ok(c, "DEBUG POPULATE 1000000 k 100");
    sc_cmd_expect_or_fail(c, "Background saving started", "BGSAVE");
    kill(a.pid, SIGKILL);
    waitpid(a.pid, NULL, 0);
    a.pid = 0;
    redisFree(c);
    size_t newlen;
    char *now = read_all(path, &newlen);
    /* Either the old file, or (if the save won the race) a complete new one. */
    if (newlen == oldlen && memcmp(old, now, oldlen) == 0) {
        start_in(&a, NULL, dir, NULL);
        c = sc_connect_or_fail(&a);
        sc_cmd_expect_or_fail(c, "old", "GET marker");
        cr_assert_eq(sc_cmd_ll_or_fail(c, "DBSIZE"), 1);
    } else {
        start_in(&a, NULL, dir, NULL);
        c = sc_connect_or_fail(&a);
        cr_assert_eq(sc_cmd_ll_or_fail(c, "DBSIZE"), 1000001);
    }
    redisFree(c);
    sc_server_stop_or_fail(&a);
    free(old);
    free(now);
    remove_tree(dir);
}

/* LRU idle time and LFU counters travel in the file (IDLE / FREQ), to a
 * restarted slotcache and to redis-server. */
Test(persist, lru_and_lfu_metadata_survive)
{
    const char *redis = sc_reference_redis_binary();
    static const char *const policies[] = { "allkeys-lru", "allkeys-lfu" };
    for (int p = 0; p < 2; p++) {
        char dir[256];
        make_dir(dir, sizeof dir);
        start_in(&a, NULL, dir, (const char *[]){ "--maxmemory-policy", policies[p], NULL });
        redisContext *c = sc_connect_or_fail(&a);
        cmd_ok(c, "SET k v");
        redisReply *d = sc_cmd_or_fail(c, "DUMP k");
        if (p == 0)
            cmd_ok(c, "RESTORE old 0 %b IDLETIME 5000", d->str, d->len);
        else
            cmd_ok(c, "RESTORE hot 0 %b FREQ 200", d->str, d->len);
        freeReplyObject(d);
        sc_cmd_expect_or_fail(c, "OK", "SAVE");
        redisFree(c);
        sc_server_stop_or_fail(&a);
        for (int peer = 0; peer < 2; peer++) {
            if (peer == 1 && (!redis || sc_server_binary_is_redis())) continue;
            start_in(&a, peer ? redis : NULL, dir, (const char *[]){ "--maxmemory-policy", policies[p], NULL });
            c = sc_connect_or_fail(&a);
            const char *who = peer ? "redis-server" : "slotcache";
            if (p == 0) {
                long long idle = sc_cmd_ll_or_fail(c, "OBJECT IDLETIME old");
                cr_assert(idle >= 5000 && idle < 5100, "%s: OBJECT IDLETIME after load: %lld", who, idle);
            } else {
                long long freq = sc_cmd_ll_or_fail(c, "OBJECT FREQ hot");
                cr_assert(freq >= 199 && freq <= 200, "%s: OBJECT FREQ after load: %lld", who, freq);
            }
            redisFree(c);
            sc_server_stop_or_fail(&a);
        }
        remove_tree(dir);
    }
}

/* A save point never fires while the startup load runs: a file the server
 * refuses half-way (a module value after 200k keys) stays byte for byte. */
Test(persist, no_save_during_load_and_bad_file_kept)
{
    const char *redis = sc_reference_redis_binary();
    if (!redis || sc_server_binary_is_redis()) cr_skip_test("needs /usr/bin/redis-server as the reference");
    char dir[256];
    make_dir(dir, sizeof dir);
    start_in(&a, redis, dir, (const char *[]){ "--enable-debug-command", "yes", NULL });
    redisContext *c = sc_connect_or_fail(&a);
    cmd_ok(c, "DEBUG POPULATE 200000 k 50");
    cmd_ok(c, "SELECT 9");
    cmd_ok(c, "XADD zstream 1-1 f v");
    sc_cmd_expect_or_fail(c, "OK", "SAVE");
    redisFree(c);
    sc_server_stop_or_fail(&a);
    char path[512];
    snprintf(path, sizeof path, "%s/dump.rdb", dir);
    size_t len0, len1, len_orig;
    char *orig = read_all(path, &len_orig);
    stream_to_module_value(dir, "zstream");
    char *before = read_all(path, &len0);
    /* slotcache with a save point that any change would trigger. */
    expect_refused_with(dir, "1 1", "zstream", "a module value after 200k keys");
    char *after = read_all(path, &len1);
    cr_assert(after && len0 == len1 && memcmp(before, after, len0) == 0, "dump.rdb changed during a refused load");
    char logp[512];
    snprintf(logp, sizeof logp, "%s/refused.log", dir);
    size_t ll;
    char *log = read_all(logp, &ll);
    cr_assert(log && !strstr(log, "Saving...") && !strstr(log, "Background saving started"),
              "a save ran during the load:\n%s", log ? log : "");
    free(log);
    free(before);
    free(after);

    /* A good file under the same save point: loaded keys are not changes,
     * so nothing is saved after the load either. */
    write_all(path, orig, len_orig);
    free(orig);
    start_in(&a, redis, dir, NULL);
    c = sc_connect_or_fail(&a);
    cmd_ok(c, "SELECT 9");
    cmd_ok(c, "DEL zstream");
    sc_cmd_expect_or_fail(c, "OK", "SAVE");
    redisFree(c);
    sc_server_stop_or_fail(&a);
    start_in(&a, NULL, dir, (const char *[]){ "--save", "1 1", "--hz", "100", NULL });
    c = sc_connect_or_fail(&a);
    cr_assert_eq(sc_cmd_ll_or_fail(c, "DBSIZE"), 200000);
    cr_assert_eq(info_ll(c, "rdb_changes_since_last_save"), 0);
    sc_sleep_ms(1200);
    cr_assert_eq(info_ll(c, "rdb_saves"), 0, "a save point fired for the loaded keys");
    redisFree(c);
    sc_server_stop_or_fail(&a);
    remove_tree(dir);
}

typedef struct {
    const sc_server *srv;
    const char *cmd;
    int rounds;
} hammer_arg;

static void *hammer(void *arg)
{
    hammer_arg *h = arg;
    redisContext *c = sc_thread_connect(h->srv, 30000);
    if (!c) return NULL;
    for (int i = 0; i < h->rounds; i++) {
        redisReply *r = redisCommand(c, h->cmd);
        if (!r) {
            sc_thread_fail("%s: connection broke: %s", h->cmd, c->errstr);
            break;
        }
        /* "already in progress" is a fine answer; nothing else may fail. */
        if (r->type == REDIS_REPLY_ERROR && !strstr(r->str, "already in progress"))
            sc_thread_fail("%s: %s", h->cmd, r->str);
        freeReplyObject(r);
        r = redisCommand(c, "SET h%d %d", i, i);
        if (!r || r->type == REDIS_REPLY_ERROR) sc_thread_fail("SET after %s: %s", h->cmd, r ? r->str : c->errstr);
        if (r) freeReplyObject(r);
    }
    redisFree(c);
    return NULL;
}

/* SAVE, BGSAVE, FLUSHALL (with save points) and DEBUG RELOAD racing on
 * several workers: every answer is a success or "already in progress",
 * nothing hangs, no save fails. */
Test(persist, concurrent_saves_flushes_and_reloads)
{
    char dir[256];
    make_dir(dir, sizeof dir);
    start_in(&a, NULL, dir, (const char *[]){ "--threads", "3", "--save", "3600 1000000", NULL });
    redisContext *c = sc_connect_or_fail(&a);
    cmd_ok(c, "DEBUG POPULATE 50000 k 30");
    sc_thread_fail_reset();
    hammer_arg args[] = { { &a, "BGSAVE", 40 }, { &a, "SAVE", 20 }, { &a, "FLUSHALL", 20 }, { &a, "DEBUG RELOAD", 10 } };
    pthread_t th[4];
    for (int i = 0; i < 4; i++) cr_assert_eq(pthread_create(&th[i], NULL, hammer, &args[i]), 0);
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    sc_no_thread_failures_or_fail();
    bool ok = SC_WAIT_FOR(info_ll(c, "rdb_bgsave_in_progress") == 0, 30000);
    cr_assert(ok, "a BGSAVE never ended");
    redisReply *r = sc_cmd_or_fail(c, "INFO persistence");
    cr_assert(strstr(r->str, "rdb_last_bgsave_status:ok"), "%s", r->str);
    freeReplyObject(r);
    cmd_ok(c, "SET after all");
    DIR *d = opendir(dir);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) cr_assert(strncmp(de->d_name, "temp-", 5) != 0, "left behind: %s", de->d_name);
    closedir(d);
    redisFree(c);
    sc_server_stop_or_fail(&a);
    remove_tree(dir);
}

/* FLUSHALL inside MULTI/EXEC while a BGSAVE walks: EXEC holds every slot
 * lock; nothing may wait for the BGSAVE then. */
Test(persist, flushall_in_exec_during_bgsave)
{
    char dir[256];
    make_dir(dir, sizeof dir);
    start_in(&a, NULL, dir, (const char *[]){ "--threads", "2", "--save", "3600 1", NULL });
    redisContext *c = sc_connect_or_fail(&a);
    cmd_ok(c, "DEBUG POPULATE 1000000 k 50");
    sc_cmd_expect_or_fail(c, "Background saving started", "BGSAVE");
    cmd_ok(c, "MULTI");
    cmd_ok(c, "FLUSHALL");
    redisReply *r = sc_cmd_or_fail(c, "EXEC");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    freeReplyObject(r);
    sc_cmd_expect_or_fail(c, "PONG", "PING");
    bool ok = SC_WAIT_FOR(info_ll(c, "rdb_bgsave_in_progress") == 0 && info_ll(c, "rdb_changes_since_last_save") == 0,
                          30000);
    cr_assert(ok, "the save after FLUSHALL did not happen");
    redisFree(c);
    sc_server_stop_or_fail(&a);
    /* What is on disk is the emptied dataset. */
    start_in(&a, NULL, dir, NULL);
    c = sc_connect_or_fail(&a);
    cr_assert_eq(sc_cmd_ll_or_fail(c, "DBSIZE"), 0);
    redisFree(c);
    sc_server_stop_or_fail(&a);
    remove_tree(dir);
}

/* A final save that fails keeps the server running (SHUTDOWN answers
 * Redis's error; SIGTERM is ignored), with every write still there. */
Test(persist, failed_shutdown_save_keeps_running)
{
    char dir[256];
    make_dir(dir, sizeof dir);
    char path[512];
    redisContext *c = start_with_dump_blocked(dir, path, sizeof path);
    redisReply *r = sc_cmd_or_fail(c, "SHUTDOWN");
    cr_assert(r->type == REDIS_REPLY_ERROR && !strcmp(r->str, "ERR Errors trying to SHUTDOWN. Check logs."), "%s",
              r->str);
    freeReplyObject(r);
    cmd_ok(c, "SET k2 v2");
    kill(a.pid, SIGTERM);
    sc_sleep_ms(300);
    cr_assert(sc_server_alive(&a), "SIGTERM with a failing save stopped the server");
    sc_cmd_expect_or_fail(c, "v2", "GET k2");
    cr_assert_eq(rmdir(path), 0);
    r = redisCommand(c, "SHUTDOWN");
    if (r) freeReplyObject(r);
    redisFree(c);
    int st = -1;
    cr_assert(sc_server_wait_exit(&a, 10000, &st), "SHUTDOWN did not stop the server");
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x", st);
    start_in(&a, NULL, dir, NULL);
    c = sc_connect_or_fail(&a);
    cr_assert_eq(sc_cmd_ll_or_fail(c, "EXISTS k k2"), 2);
    redisFree(c);
    sc_server_stop_or_fail(&a);
    remove_tree(dir);
}

/* The changes a command counts (rdb_changes_since_last_save, which the save
 * points read) as redis-server counts them: BITFIELD and PFADD add one per
 * register or field written (Redis's dirty += changes), the others one. */
Test(persist, change_counts_as_redis)
{
    const char *redis = sc_reference_redis_binary();
    if (!redis || sc_server_binary_is_redis()) cr_skip_test("needs /usr/bin/redis-server as the reference");
    sc_server_start_or_fail(&a, NULL);
    sc_server_start_bin_or_fail(&b, redis, NULL);
    redisContext *c[2] = {sc_connect_or_fail(&a), sc_connect_or_fail(&b)};
    static const char *const steps[] = { /* at most SC_LINE_MAX_WORDS words each */
        "BITFIELD f SET u8 0 1 SET u8 8 1 INCRBY u8 0 0",  /* created: every write counts */
        "BITFIELD f SET u8 0 1 SET u8 8 2 INCRBY u8 16 1", /* grown: every write counts */
        "BITFIELD f SET u8 0 1 SET u8 8 3 SET u8 16 2",    /* two fields changed */
        "BITFIELD f OVERFLOW FAIL INCRBY u8 0 300 SET u8 0 1", /* nothing changed */
        "BITFIELD f SET u4 0 15 SET u4 4 15 GET u8 0",
        "SETBIT f 1000 1",
        "PFADD h a b c d e",
        "PFADD h a b c d e f",
        "PFMERGE h2 h",
        "BITOP OR d f h",
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        long long delta[2];
        for (int s = 0; s < 2; s++) {
            long long before = info_ll(c[s], "rdb_changes_since_last_save");
            redisReply *r = sc_cmd_line_or_fail(c[s], steps[i]);
            cr_assert(r->type == REDIS_REPLY_ARRAY || r->type == REDIS_REPLY_INTEGER || r->type == REDIS_REPLY_STATUS,
                      "%s: %s", steps[i], r->str ? r->str : "");
            freeReplyObject(r);
            delta[s] = info_ll(c[s], "rdb_changes_since_last_save") - before;
        }
        cr_assert_eq(delta[0], delta[1], "%s: slotcache counted %lld changes, redis-server %lld", steps[i], delta[0],
                     delta[1]);
    }
    redisFree(c[0]);
    redisFree(c[1]);
    sc_server_stop_or_fail(&b);
    sc_server_stop_or_fail(&a);
}
