/*
 * test_pipeline.c - pipelines that the server's batch prefetcher
 * (server/prefetch.c) scans ahead of: SELECT in the middle of a batch (the
 * hints then point at the wrong database), commands whose first argument
 * is not a key, inline commands between multibulk ones, hash-tagged and
 * multi-key commands, and the same script cut into small pieces so that
 * batches end on partial commands. Every reply is compared byte for byte
 * with the expected RESP. Run on one worker and, with several connections
 * at once, on four.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server_proc.h"

static sc_server srv;

TestSuite(pipeline, .fini = sc_server_cleanup, .timeout = 120);

typedef struct {
    sc_buf req;  /* every command, in order */
    sc_buf want; /* every reply, in order */
} script;

static void cmd(script *s, const char *want, int argc, const char *const *argv) {
    sc_resp_command(&s->req, argc, argv, NULL);
    sc_buf_append(&s->want, want, strlen(want));
}

static void bulk(sc_buf *b, const char *v) { sc_buf_printf(b, "$%zu\r\n%s\r\n", strlen(v), v); }

/* The script for one connection; its keys carry `prefix` so that
 * connections running at once never share a key. */
static void build_script(script *s, const char *prefix) {
    enum { KEYS = 40 };
    char key[KEYS][64], v0[KEYS][64], v1[KEYS][64];
    for (int i = 0; i < KEYS; i++) {
        /* half plain keys, half hash-tagged ones that share slots */
        if (i % 2)
            snprintf(key[i], sizeof key[i], "%s:key:%d", prefix, i);
        else
            snprintf(key[i], sizeof key[i], "{%s:user%d}:name", prefix, i % 6);
        if (i % 2 == 0 && i >= 6) snprintf(key[i], sizeof key[i], "{%s:user%d}:mail%d", prefix, i % 6, i);
        snprintf(v0[i], sizeof v0[i], "db0-value-%d", i);
        snprintf(v1[i], sizeof v1[i], "db1-value-%d", i);
    }
    for (int i = 0; i < KEYS; i++) cmd(s, "+OK\r\n", 3, (const char *const[]){"SET", key[i], v0[i]});
    cmd(s, "$5\r\nhello\r\n", 2, (const char *const[]){"ECHO", "hello"});
    cmd(s, "+OK\r\n", 2, (const char *const[]){"SELECT", "1"});
    for (int i = 0; i < KEYS; i++) cmd(s, "$-1\r\n", 2, (const char *const[]){"GET", key[i]});
    for (int i = 0; i < KEYS; i++) cmd(s, "+OK\r\n", 3, (const char *const[]){"SET", key[i], v1[i]});
    /* an inline command between multibulk ones */
    sc_buf_printf(&s->req, "GET %s\r\n", key[3]);
    bulk(&s->want, v1[3]);
    cmd(s, "+OK\r\n", 2, (const char *const[]){"SELECT", "0"});
    for (int i = 0; i < KEYS; i++) {
        cmd(s, "", 2, (const char *const[]){"GET", key[i]});
        bulk(&s->want, v0[i]);
    }
    cmd(s, "*3\r\n", 4, (const char *const[]){"MGET", key[1], "nosuchkey", key[2]});
    bulk(&s->want, v0[1]);
    sc_buf_append(&s->want, "$-1\r\n", 5);
    bulk(&s->want, v0[2]);
    cmd(s, "-ERR value is not an integer or out of range\r\n", 2, (const char *const[]){"INCR", key[1]});
    for (int i = 0; i < KEYS; i++) cmd(s, ":1\r\n", 2, (const char *const[]){"DEL", key[i]});
    cmd(s, ":0\r\n", 3, (const char *const[]){"EXISTS", key[0], key[1]});
    cmd(s, "+OK\r\n", 2, (const char *const[]){"SELECT", "1"});
    cmd(s, ":2\r\n", 3, (const char *const[]){"EXISTS", key[0], key[1]});
    for (int i = 0; i < KEYS; i++) cmd(s, ":1\r\n", 2, (const char *const[]){"UNLINK", key[i]});
    cmd(s, "+OK\r\n", 2, (const char *const[]){"SELECT", "0"});
}

static void script_free(script *s) {
    sc_buf_free(&s->req);
    sc_buf_free(&s->want);
}

/* Send the script (whole when chunk_max is 0, else in pieces of
 * 1..chunk_max bytes), read every reply and compare; false with a
 * description of the first difference in `why`. */
static bool run_script(int port, const script *s, size_t chunk_max, unsigned seed, char *why, size_t whylen) {
    int fd = sc_raw_connect(port);
    if (fd < 0) {
        snprintf(why, whylen, "connect failed");
        return false;
    }
    sc_buf got = {0};
    bool ok;
    if (chunk_max == 0) {
        ok = sc_raw_pump(fd, s->req.data, s->req.len, &got, s->want.len, sc_scaled_ms(30000));
    } else {
        ok = true;
        for (size_t off = 0; ok && off < s->req.len;) {
            seed = seed * 1103515245u + 12345u;
            size_t n = 1 + (seed >> 16) % chunk_max;
            if (n > s->req.len - off) n = s->req.len - off;
            ok = sc_raw_send(fd, s->req.data + off, n, sc_scaled_ms(10000));
            off += n;
        }
        if (ok) {
            char *buf = malloc(s->want.len + 1);
            size_t n = buf ? sc_raw_recv_exact(fd, buf, s->want.len, sc_scaled_ms(30000)) : 0;
            if (buf) sc_buf_append(&got, buf, n);
            free(buf);
            ok = n == s->want.len;
        }
    }
    close(fd);
    if (!ok || got.len != s->want.len || memcmp(got.data, s->want.data, s->want.len) != 0) {
        size_t i = 0;
        while (i < got.len && i < s->want.len && got.data[i] == s->want.data[i]) i++;
        snprintf(why, whylen, "replies differ at byte %zu of %zu (got %zu bytes): got \"%.40s\" want \"%.40s\"", i,
                 s->want.len, got.len, got.data ? got.data + (i < got.len ? i : got.len) : "",
                 s->want.data + (i < s->want.len ? i : s->want.len));
        sc_buf_free(&got);
        return false;
    }
    sc_buf_free(&got);
    return true;
}

Test(pipeline, select_inline_and_tags_in_one_write) {
    sc_server_start_or_fail(&srv, (const char *const[]){"--threads", "1", NULL});
    script s = {0};
    build_script(&s, "one");
    char why[256];
    for (int round = 0; round < 3; round++) cr_assert(run_script(srv.port, &s, 0, 0, why, sizeof why), "round %d: %s", round, why);
    script_free(&s);
    sc_server_stop_or_fail(&srv);
}

Test(pipeline, script_cut_into_small_pieces) {
    sc_server_start_or_fail(&srv, (const char *const[]){"--threads", "1", NULL});
    script s = {0};
    build_script(&s, "cut");
    char why[256];
    const size_t chunk_max[] = {1, 7, 64, 300};
    for (size_t i = 0; i < sizeof chunk_max / sizeof *chunk_max; i++)
        cr_assert(run_script(srv.port, &s, chunk_max[i], (unsigned)i + 1, why, sizeof why), "pieces of up to %zu bytes: %s",
                  chunk_max[i], why);
    script_free(&s);
    sc_server_stop_or_fail(&srv);
}

enum { CONNS = 6, ROUNDS = 20 };
static _Atomic int failures;
static char failure[CONNS][256];

static void *connection_main(void *arg) {
    int id = (int)(intptr_t)arg;
    char prefix[16];
    snprintf(prefix, sizeof prefix, "c%d", id);
    script s = {0};
    build_script(&s, prefix);
    for (int r = 0; r < ROUNDS; r++) {
        if (!run_script(srv.port, &s, r % 2 ? 0 : 97, (unsigned)(id * 100 + r), failure[id], sizeof failure[id])) {
            atomic_fetch_add(&failures, 1);
            break;
        }
    }
    script_free(&s);
    return NULL;
}

Test(pipeline, concurrent_connections_on_four_workers) {
    sc_server_start_or_fail(&srv, (const char *const[]){"--threads", "4", NULL});
    pthread_t th[CONNS];
    for (int i = 0; i < CONNS; i++) cr_assert_eq(pthread_create(&th[i], NULL, connection_main, (void *)(intptr_t)i), 0);
    for (int i = 0; i < CONNS; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < CONNS; i++) cr_assert_eq(failure[i][0], '\0', "connection %d: %s", i, failure[i]);
    cr_assert_eq(atomic_load(&failures), 0);
    redisContext *c = sc_connect_or_fail(&srv);
    sc_cmd_expect_or_fail(c, "0", "DBSIZE");
    sc_cmd_expect_or_fail(c, "OK", "SELECT 1");
    sc_cmd_expect_or_fail(c, "0", "DBSIZE");
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}
