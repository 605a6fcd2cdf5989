/*
 * test_repl_stream.c - the replication stream, command by command, against
 * redis-server 7.0's (docs/propagation-rules.md is the written form).
 *
 * Each Criterion test (one per command family) starts the server under test
 * (sc_server_binary(): slotcache, or $SLOTCACHE_SERVER) and the reference
 * redis-server side by side, attaches to each as a replica over a raw socket
 * (tests/support/repl_link.h: PSYNC ? -1, else SYNC), and runs a table of
 * cases on both. A case is: an implicit FLUSHALL, its setup lines, a marker
 * (whatever the stream carried up to then is discarded), its steps, then a
 * marker again: the commands the stream carried between the two markers are
 * the case's result, compared argument by argument with redis-server's.
 *
 * The marker is "SET __marker__ <n>" from a connection in db 0, read back
 * from the stream; a "SELECT 0" just before it is the marker's own and is
 * dropped, and so are the master's periodic PINGs (and REPLCONF GETACK).
 * The only normalisation: two arguments that are both absolute Unix times in
 * milliseconds (PXAT / PEXPIREAT / RESTORE ABSTTL values computed by the
 * server) are equal within RS_TS_TOLERANCE_MS, and so are stream IDs
 * "<ms>-<seq>" whose ms are such times and whose seq are equal (XADD *);
 * and, in the cases flagged
 * F_ANY_MEMBER, the members of SREM (SPOP picks them at random).
 *
 * Two more tests: offsets_match_info_replication (master_repl_offset is
 * +FULLRESYNC's offset plus the stream bytes read, master_replid its id) and
 * reference_stream_is_what_the_rules_say (a few streams checked literally
 * on redis-server alone, so a comparator blind to everything cannot pass).
 *
 * Until slotcache serves replicas, its side refuses PSYNC and SYNC and every
 * test FAILS saying so: the suite is the acceptance test of that work.
 * Self-check of the comparator: SLOTCACHE_SERVER=/usr/bin/redis-server runs
 * redis-server on both sides, and then every case must match.
 *
 * Case language (one string of ';'-separated steps, words split on spaces):
 *   ""            an empty argument
 *   @now+N        Unix time in seconds N seconds from now (one value per
 *   @nowms+N      case, the same on both sides); in milliseconds
 *   @big:N        N bytes of 'y'
 *   @seq:P:N      N arguments P0 .. P<N-1>
 *   @dump:KEY     DUMP KEY on the reference server (db 0), same bytes to both
 *   @lock:ID      body of a lock script (tests/support/lock_script_bodies.h)
 *   @sha:ID       its SHA1
 * and whole steps:
 *   &CMD ...      CMD on a new connection (in the case connection's db),
 *                 not read: waits until INFO blocked_clients counts it
 *   !CMD ...      CMD on a second connection of the case (db 0)
 *   @sleep:MS     wait for a TTL to run out (nothing to poll)
 *   @wait_ops:N   read the stream until it carried N commands (SELECT not
 *                 counted) since the case began, bounded: active expiry
 *   @maxmemory:-N CONFIG SET maxmemory to this server's used_memory - N
 * Flags: F_LAZY (a key must expire lazily: when the server under test does
 * not take DEBUG SET-ACTIVE-EXPIRE 0, its side is retried a few times, as its
 * active expiry may win the race), F_UNORDERED (compare as multisets),
 * F_ANY_MEMBER (see above).
 *
 * SC_REPL_STREAM_VERBOSE=1 logs the stream of every case that matched.
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "lock_script_bodies.h"
#include "repl_link.h"
#include "server_proc.h"

TestSuite(repl_stream, .fini = sc_server_cleanup, .timeout = 120);

#define RS_TS_TOLERANCE_MS 2000
#define RS_MARKER_TIMEOUT_MS 5000
#define RS_SYNC_TIMEOUT_MS 10000
#define RS_LAZY_ATTEMPTS 6

enum {
    F_LAZY = 1 << 0,
    F_UNORDERED = 1 << 1,
    F_ANY_MEMBER = 1 << 2,
};

typedef struct {
    const char *name;
    const char *setup;
    const char *steps;
    unsigned flags;
} rs_case;

/* ---- the two servers ----------------------------------------------------- */

typedef struct side {
    const char *label;
    sc_server srv;
    redisContext *marker;     /* db 0: markers, INFO, DUMP */
    repl_link link;
    long long marker_seq;
    bool active_expire_off;   /* took DEBUG SET-ACTIVE-EXPIRE 0 */
} side;

typedef struct env {
    side ref, sut;
    int cases, mismatches;
} env;

static const char *const server_args[] = {
    "--repl-ping-replica-period", "3600", "--repl-diskless-sync-delay", "0",
    "--enable-debug-command", "yes", NULL,
};

static bool drain(side *s, repl_ops *out, char *err, size_t errlen);

static void side_attach(side *s)
{
    char err[512];
    bool refused = false;
    if (!repl_link_open(&s->link, s->srv.port, RS_SYNC_TIMEOUT_MS, err, sizeof err, &refused)) {
        if (refused)
            cr_assert_fail("%s (%s) does not serve replicas: %s.\n"
                           "test_repl_stream compares the replication stream with redis-server's; "
                           "it is expected to fail until SYNC/PSYNC is implemented.",
                           s->label, s->srv.bin, err);
        cr_assert_fail("%s (%s): attaching as a replica failed: %s", s->label, s->srv.bin, err);
    }
    s->marker = sc_connect_or_fail(&s->srv);
    redisReply *r = sc_cmd_or_fail(s->marker, "DEBUG SET-ACTIVE-EXPIRE 0");
    s->active_expire_off = r->type == REDIS_REPLY_STATUS;
    freeReplyObject(r);
    /* The stream is live once a marker comes through. Until then the sync
     * may not be over on the master's side (Redis's diskless child exits
     * after the replica read the RDB, and a FLUSHALL before that kills it
     * and drops the replica). */
    repl_ops junk = { 0 };
    bool ok = drain(s, &junk, err, sizeof err);
    repl_ops_clear(&junk);
    cr_assert(ok, "%s: attached as a replica, but %s", s->label, err);
}

static void env_start(env *e)
{
    memset(e, 0, sizeof *e);
    const char *redis = sc_reference_redis_binary();
    if (!redis) cr_skip_test("redis-server not installed: nothing to compare with");
    e->ref.label = "redis-server";
    e->sut.label = sc_server_binary_is_redis() ? "server under test (redis-server)" : "slotcache";
    sc_server_start_bin_or_fail(&e->ref.srv, redis, server_args);
    if (sc_server_binary_is_redis()) {
        sc_server_start_or_fail(&e->sut.srv, server_args);
    } else { /* two workers: the stream's order across threads is part of what is compared */
        static const char *const threads[] = {"--threads", "2"};
        const char *args[16];
        int n = 0;
        for (int i = 0; server_args[i] && n < 13; i++) args[n++] = server_args[i];
        args[n++] = threads[0];
        args[n++] = threads[1];
        args[n] = NULL;
        sc_server_start_or_fail(&e->sut.srv, args);
    }
    side_attach(&e->ref);
    cr_assert(e->ref.active_expire_off, "redis-server refused DEBUG SET-ACTIVE-EXPIRE 0");
    side_attach(&e->sut);
}

static void env_stop(env *e)
{
    side *sides[] = { &e->ref, &e->sut };
    for (int i = 0; i < 2; i++) {
        if (sides[i]->marker) redisFree(sides[i]->marker);
        sides[i]->marker = NULL;
        repl_link_close(&sides[i]->link);
    }
    sc_server_stop_or_fail(&e->sut.srv);
    sc_server_stop_or_fail(&e->ref.srv);
}

/* ---- reading the stream -------------------------------------------------- */

static bool op_ignored(const repl_op *op)
{
    return repl_op_is(op, "ping") || repl_op_is(op, "replconf");
}

static bool op_is_select(const repl_op *op, const char *db)
{
    return op->argc == 2 && repl_op_is(op, "select") && strcmp(op->argv[1], db) == 0;
}

/* Commands counted by @wait_ops. */
static int counted_ops(const repl_ops *ops)
{
    int n = 0;
    for (int i = 0; i < ops->n; i++)
        if (!repl_op_is(&ops->v[i], "select")) n++;
    return n;
}

/* Read one command into out unless ignored; false on timeout/EOF. */
static bool read_op(side *s, repl_ops *out, int timeout_ms)
{
    repl_op op;
    if (!repl_link_next(&s->link, &op, timeout_ms)) return false;
    if (op_ignored(&op)) repl_op_free(&op);
    else repl_ops_push(out, &op);
    return true;
}

/* Write the marker and append to out what the stream carries before it.
 * False (with err) when the marker does not come back. */
static bool drain(side *s, repl_ops *out, char *err, size_t errlen)
{
    char val[32];
    snprintf(val, sizeof val, "%lld", ++s->marker_seq);
    redisReply *r = sc_cmd_or_fail(s->marker, "SET __marker__ %s", val);
    bool ok = r->type == REDIS_REPLY_STATUS;
    if (!ok) snprintf(err, errlen, "marker SET refused: %s", r->str ? r->str : "?");
    freeReplyObject(r);
    if (!ok) return false;
    long long deadline = sc_now_ms() + sc_scaled_ms(RS_MARKER_TIMEOUT_MS);
    for (;;) {
        repl_op op;
        int left = (int)(deadline - sc_now_ms());
        if (left <= 0 || !repl_link_next(&s->link, &op, left > 0 ? left : 1)) {
            snprintf(err, errlen, "the marker SET __marker__ %s did not come through the stream (%s)", val,
                     s->link.err[0] ? s->link.err : "timeout");
            return false;
        }
        if (op.argc == 3 && repl_op_is(&op, "set") && strcmp(op.argv[1], "__marker__") == 0 &&
            strcmp(op.argv[2], val) == 0) {
            repl_op_free(&op);
            break;
        }
        if (op_ignored(&op)) repl_op_free(&op);
        else repl_ops_push(out, &op);
    }
    if (out->n > 0 && op_is_select(&out->v[out->n - 1], "0")) repl_ops_pop(out);
    return true;
}

/* ---- running a case ------------------------------------------------------ */

/* Values of @now / @nowms / @dump tokens, fixed on first use in a case so
 * both sides get the same bytes. */
typedef struct {
    char *tok[16];
    char *val[16];
    size_t len[16];
    int n;
} tok_cache;

static void tok_cache_free(tok_cache *t)
{
    for (int i = 0; i < t->n; i++) {
        free(t->tok[i]);
        free(t->val[i]);
    }
    t->n = 0;
}

typedef struct {
    const char **argv;
    size_t *len;
    char **owned;      /* strings to free */
    int argc, cap, nowned;
} argvec;

static void av_push(argvec *a, const char *s, size_t n, bool owned)
{
    if (a->argc == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 16;
        a->argv = realloc(a->argv, sizeof *a->argv * (size_t)a->cap);
        a->len = realloc(a->len, sizeof *a->len * (size_t)a->cap);
        a->owned = realloc(a->owned, sizeof *a->owned * (size_t)a->cap);
        cr_assert(a->argv && a->len && a->owned);
    }
    a->argv[a->argc] = s;
    a->len[a->argc++] = n;
    if (owned) a->owned[a->nowned++] = (char *)s;
}

static void av_free(argvec *a)
{
    for (int i = 0; i < a->nowned; i++) free(a->owned[i]);
    free(a->argv);
    free(a->len);
    free(a->owned);
    memset(a, 0, sizeof *a);
}

static const test_lock_script *lock_script(const char *id)
{
    for (int i = 0; i < TLS_COUNT; i++)
        if (strcmp(test_lock_scripts[i].id, id) == 0) return &test_lock_scripts[i];
    cr_assert_fail("no lock script '%s' in lock_script_bodies.h", id);
    return NULL;
}

typedef struct {
    env *e;
    tok_cache *cache;
} case_ctx;

/* Wall-clock milliseconds (sc_now_ms is monotonic). */
static long long unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Expand one word into a (possibly several arguments). */
static void expand_word(case_ctx *cx, const char *w, argvec *a)
{
    if (strcmp(w, "\"\"") == 0) {
        av_push(a, "", 0, false);
        return;
    }
    if (w[0] != '@') {
        av_push(a, strdup(w), strlen(w), true);
        return;
    }
    if (strncmp(w, "@big:", 5) == 0) {
        size_t n = strtoul(w + 5, NULL, 10);
        char *v = malloc(n + 1);
        memset(v, 'y', n);
        v[n] = '\0';
        av_push(a, v, n, true);
        return;
    }
    if (strncmp(w, "@seq:", 5) == 0) {
        const char *p = w + 5, *colon = strchr(p, ':');
        cr_assert(colon, "bad token %s", w);
        int n = atoi(colon + 1);
        for (int i = 0; i < n; i++) {
            char *v = NULL;
            cr_assert(asprintf(&v, "%.*s%d", (int)(colon - p), p, i) > 0);
            av_push(a, v, strlen(v), true);
        }
        return;
    }
    if (strncmp(w, "@lock:", 6) == 0) {
        const char *b = lock_script(w + 6)->body;
        av_push(a, b, strlen(b), false);
        return;
    }
    if (strncmp(w, "@sha:", 5) == 0) {
        const char *b = lock_script(w + 5)->sha1;
        av_push(a, b, strlen(b), false);
        return;
    }
    /* Cached per case. */
    tok_cache *t = cx->cache;
    for (int i = 0; i < t->n; i++) {
        if (strcmp(t->tok[i], w) == 0) {
            av_push(a, t->val[i], t->len[i], false);
            return;
        }
    }
    cr_assert(t->n < 16, "too many tokens in a case");
    char *v = NULL;
    size_t n = 0;
    if (strncmp(w, "@nowms+", 7) == 0) {
        cr_assert(asprintf(&v, "%lld", unix_ms() + atoll(w + 7)) > 0);
        n = strlen(v);
    } else if (strncmp(w, "@now+", 5) == 0) {
        cr_assert(asprintf(&v, "%lld", unix_ms() / 1000 + atoll(w + 5)) > 0);
        n = strlen(v);
    } else if (strncmp(w, "@dump:", 6) == 0) {
        redisReply *r = sc_cmd_or_fail(cx->e->ref.marker, "DUMP %s", w + 6);
        cr_assert(r->type == REDIS_REPLY_STRING, "%s: redis-server has no key %s in db 0", w, w + 6);
        n = r->len;
        v = malloc(n + 1);
        memcpy(v, r->str, n);
        v[n] = '\0';
        freeReplyObject(r);
    } else {
        cr_assert_fail("unknown token %s", w);
    }
    t->tok[t->n] = strdup(w);
    t->val[t->n] = v;
    t->len[t->n++] = n;
    av_push(a, v, n, false);
}

static void expand_line(case_ctx *cx, const char *line, argvec *a)
{
    char *copy = strdup(line), *save = NULL;
    for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) expand_word(cx, w, a);
    free(copy);
}

/* Send a command without reading its reply. */
static void send_only(redisContext *c, argvec *a)
{
    cr_assert_eq(redisAppendCommandArgv(c, a->argc, a->argv, a->len), REDIS_OK);
    int done = 0;
    while (!done) cr_assert_eq(redisBufferWrite(c, &done), REDIS_OK, "write: %s", c->errstr);
}

static bool fd_readable(int fd, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll(&p, 1, sc_scaled_ms(ms)) > 0;
}

typedef struct {
    redisContext *main, *other;
    redisContext *blocked[8];
    int nblocked;
    int db;            /* of main */
} case_conns;

/* Run one step; false with err on a harness-level failure. */
static bool run_step(case_ctx *cx, side *s, case_conns *cc, const char *step, repl_ops *out, char *err,
                     size_t errlen)
{
    while (*step == ' ') step++;
    if (!*step) return true;
    if (strncmp(step, "@sleep:", 7) == 0) {
        sc_sleep_ms(atoi(step + 7));
        return true;
    }
    if (strncmp(step, "@wait_ops:", 10) == 0) {
        int want = atoi(step + 10);
        long long deadline = sc_now_ms() + sc_scaled_ms(3000);
        while (counted_ops(out) < want && sc_now_ms() < deadline) read_op(s, out, 100);
        return true;   /* fewer is a mismatch, reported by the comparison */
    }
    if (strncmp(step, "@maxmemory:-", 12) == 0) {
        long long used = sc_info_ll_or_fail(cc->main, "memory", "used_memory");
        long long mm = used - atoll(step + 12);
        cr_assert(mm > 0, "used_memory %lld too small for %s", used, step);
        redisReply *r = sc_cmd_or_fail(cc->main, "CONFIG SET maxmemory %lld", mm);
        freeReplyObject(r);
        return true;
    }
    argvec a = { 0 };
    if (step[0] == '&') {
        expand_line(cx, step + 1, &a);
        cr_assert(cc->nblocked < 8, "too many blocked clients in a case");
        redisContext *c = sc_connect_or_fail(&s->srv);
        if (cc->db != 0) freeReplyObject(sc_cmd_or_fail(c, "SELECT %d", cc->db));
        send_only(c, &a);
        cc->blocked[cc->nblocked++] = c;
        av_free(&a);
        int want = cc->nblocked;
        if (!SC_WAIT_FOR(sc_info_ll_or_fail(s->marker, "clients", "blocked_clients") >= want, 5000)) {
            snprintf(err, errlen, "%s: '%s' did not block", s->label, step + 1);
            return false;
        }
        return true;
    }
    redisContext *c = cc->main;
    if (step[0] == '!') {
        if (!cc->other) cc->other = sc_connect_or_fail(&s->srv);
        c = cc->other;
        step++;
    }
    expand_line(cx, step, &a);
    redisReply *r = redisCommandArgv(c, a.argc, a.argv, a.len);
    cr_assert(r != NULL, "%s: connection broke on '%s': %s", s->label, step, c->errstr);
    if (c == cc->main && a.argc == 2 && strcasecmp(a.argv[0], "select") == 0 && r->type == REDIS_REPLY_STATUS)
        cc->db = atoi(a.argv[1]);
    if (r->type == REDIS_REPLY_ERROR && getenv("SC_REPL_STREAM_VERBOSE"))
        cr_log_info("%s: '%.60s' -> %s", s->label, step, r->str);
    freeReplyObject(r);
    av_free(&a);
    return true;
}

static bool run_steps(case_ctx *cx, side *s, case_conns *cc, const char *steps, repl_ops *out, char *err,
                      size_t errlen)
{
    char *copy = strdup(steps), *save = NULL;
    bool ok = true;
    for (char *st = strtok_r(copy, ";", &save); st && ok; st = strtok_r(NULL, ";", &save))
        ok = run_step(cx, s, cc, st, out, err, errlen);
    free(copy);
    return ok;
}

/* Run a case on one side; out gets the commands of its steps. */
static bool run_case(case_ctx *cx, side *s, const rs_case *k, repl_ops *out, char *err, size_t errlen)
{
    case_conns cc = { 0 };
    cc.main = sc_connect_or_fail(&s->srv);
    repl_ops junk = { 0 };
    freeReplyObject(sc_cmd_or_fail(cc.main, "FLUSHALL"));
    bool ok = run_steps(cx, s, &cc, k->setup, &junk, err, errlen) && drain(s, &junk, err, errlen);
    repl_ops_clear(&junk);
    if (ok) ok = run_steps(cx, s, &cc, k->steps, out, err, errlen);
    /* Blocked clients that were served have been answered before their
     * server goes on: wait (bounded) for each answer before the marker. */
    for (int i = 0; i < cc.nblocked; i++) {
        if (fd_readable(cc.blocked[i]->fd, 1000)) {
            redisReply *r = NULL;
            if (redisGetReply(cc.blocked[i], (void **)&r) == REDIS_OK) freeReplyObject(r);
        }
    }
    if (ok) ok = drain(s, out, err, errlen);
    for (int i = 0; i < cc.nblocked; i++) redisFree(cc.blocked[i]);
    if (cc.other) redisFree(cc.other);
    redisFree(cc.main);
    return ok;
}

/* ---- comparing ----------------------------------------------------------- */

static bool is_ms_time(const char *s, size_t n, long long *v)
{
    if (n < 13 || n > 15) return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    *v = atoll(s);
    return *v >= 1000000000000LL;
}

/* A stream ID "<ms time>-<seq>": its ms part in *v, its "-<seq>" in *seq. */
static bool is_time_stream_id(const char *s, size_t n, long long *v, const char **seq, size_t *seqlen)
{
    const char *dash = memchr(s, '-', n);
    if (!dash || !is_ms_time(s, (size_t)(dash - s), v)) return false;
    *seq = dash;
    *seqlen = n - (size_t)(dash - s);
    return true;
}

static bool arg_eq(const repl_op *a, const repl_op *b, int i, unsigned flags)
{
    if (a->len[i] == b->len[i] && memcmp(a->argv[i], b->argv[i], a->len[i]) == 0) return true;
    long long x, y;
    if (is_ms_time(a->argv[i], a->len[i], &x) && is_ms_time(b->argv[i], b->len[i], &y))
        return llabs(x - y) <= RS_TS_TOLERANCE_MS;
    const char *sa, *sb;
    size_t la, lb;
    if (is_time_stream_id(a->argv[i], a->len[i], &x, &sa, &la) &&
        is_time_stream_id(b->argv[i], b->len[i], &y, &sb, &lb)) {
        /* Same ms: the sequence must match. A different ms (the servers
         * ran a transaction's XADD * in different milliseconds) may give
         * a different sequence: redis-server's second XADD in the same ms
         * is -1 where ours, a ms later, is -0. */
        if (llabs(x - y) > RS_TS_TOLERANCE_MS) return false;
        return x != y || (la == lb && memcmp(sa, sb, la) == 0);
    }
    if ((flags & F_ANY_MEMBER) && i >= 2 && repl_op_is(a, "srem") && repl_op_is(b, "srem")) return true;
    return false;
}

static bool op_eq(const repl_op *a, const repl_op *b, unsigned flags)
{
    if (a->argc != b->argc) return false;
    for (int i = 0; i < a->argc; i++)
        if (!arg_eq(a, b, i, flags)) return false;
    return true;
}

static int op_cmp_sort(const void *x, const void *y)
{
    const repl_op *a = x, *b = y;
    for (int i = 0; i < a->argc && i < b->argc; i++) {
        size_t n = a->len[i] < b->len[i] ? a->len[i] : b->len[i];
        int c = memcmp(a->argv[i], b->argv[i], n);
        if (c) return c;
        if (a->len[i] != b->len[i]) return a->len[i] < b->len[i] ? -1 : 1;
    }
    return a->argc - b->argc;
}

/* Index of the first differing op, or -1 when the lists match. */
static int ops_diff(repl_ops *a, repl_ops *b, unsigned flags)
{
    if (flags & F_UNORDERED) {
        if (a->n) qsort(a->v, (size_t)a->n, sizeof *a->v, op_cmp_sort);
        if (b->n) qsort(b->v, (size_t)b->n, sizeof *b->v, op_cmp_sort);
    }
    int n = a->n < b->n ? a->n : b->n;
    for (int i = 0; i < n; i++)
        if (!op_eq(&a->v[i], &b->v[i], flags)) return i;
    return a->n == b->n ? -1 : n;
}

static void run_table(env *e, const char *family, const rs_case *cases, size_t n)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        const rs_case *k = &cases[i];
        tok_cache cache = { 0 };
        case_ctx cx = { e, &cache };
        repl_ops want = { 0 }, got = { 0 };
        char err[512] = "";
        if (!run_case(&cx, &e->ref, k, &want, err, sizeof err))
            cr_assert_fail("%s: case '%s' on redis-server: %s", family, k->name, err);
        int attempts = (k->flags & F_LAZY) && !e->sut.active_expire_off ? RS_LAZY_ATTEMPTS : 1;
        int diff = -1;
        sc_buf want_text = { 0 }, got_text = { 0 };
        repl_ops_format(&want, "    ", &want_text);   /* before ops_diff sorts */
        for (int a = 0; a < attempts; a++) {
            repl_ops_clear(&got);
            if (!run_case(&cx, &e->sut, k, &got, err, sizeof err))
                cr_assert_fail("%s: case '%s' on %s: %s", family, k->name, e->sut.label, err);
            sc_buf_free(&got_text);
            repl_ops_format(&got, "    ", &got_text);
            if ((diff = ops_diff(&want, &got, k->flags)) < 0) break;
        }
        e->cases++;
        if (diff < 0 && getenv("SC_REPL_STREAM_VERBOSE"))
            cr_log_info("%s: '%s' (%s)\n%s", family, k->name, k->steps, want_text.data);
        if (diff >= 0) {
            bad++;
            cr_log_error("%s: case '%s' differs at command %d%s\n  setup: %s\n  steps: %s\n  %s:\n%s  %s:\n%s", family,
                         k->name, diff + 1, (k->flags & F_UNORDERED) ? " (in sorted order)" : "",
                         k->setup[0] ? k->setup : "-", k->steps, e->ref.label, want_text.data, e->sut.label,
                         got_text.data);
        }
        sc_buf_free(&want_text);
        sc_buf_free(&got_text);
        repl_ops_clear(&want);
        repl_ops_clear(&got);
        tok_cache_free(&cache);
    }
    e->mismatches += bad;
    cr_expect_eq(bad, 0, "%s: %d of %zu cases propagate differently from redis-server (listed above)", family, bad,
                 n);
}

/* Static: sc_server_cleanup (the suite's .fini) still reaches the servers
 * of a test that failed half-way. */
static env E;

#define RUN_FAMILY(family, table)                                                                            \
    do {                                                                                                    \
        env_start(&E);                                                                                      \
        run_table(&E, family, table, sizeof table / sizeof table[0]);                                      \
        env_stop(&E);                                                                                       \
    } while (0)

/* ---- the cases ----------------------------------------------------------- */

static const rs_case strings[] = {
    {"SET", "", "SET k v", 0},
    {"set (lower case kept)", "", "set k v", 0},
    {"SET XX existing", "SET k old", "SET k v XX", 0},
    {"SET NX that sets", "", "SET k v NX", 0},
    {"SET NX on existing key", "SET k old", "SET k v NX", 0},
    {"SET XX on missing key", "", "SET k v XX", 0},
    {"SET KEEPTTL", "SET k old EX 100", "SET k v KEEPTTL", 0},
    {"SET GET", "SET k old", "SET k v GET", 0},
    {"SET XX KEEPTTL GET", "SET k old EX 100", "SET k v XX KEEPTTL GET", 0},
    {"SET EX", "", "SET k v EX 100", 0},
    {"SET PX", "", "SET k v PX 100000", 0},
    {"SET EXAT", "", "SET k v EXAT @now+100", 0},
    {"SET PXAT", "", "SET k v PXAT @nowms+100000", 0},
    {"SET EX GET", "SET k old", "SET k v EX 100 GET", 0},
    {"SET PXAT XX GET", "SET k old", "SET k v PXAT @nowms+100000 XX GET", 0},
    {"SET ex nx (lower case) that sets", "", "SET k v ex 100 nx", 0},
    {"SET NX EX on existing key", "SET k old", "SET k v NX EX 100", 0},
    {"SET EX XX on missing key", "", "SET k v EX 100 XX", 0},
    {"SET EX 0 (error)", "", "SET k v EX 0", 0},
    {"SET EX -5 (error)", "", "SET k v EX -5", 0},
    {"SET PXAT 1 (past)", "", "SET k v PXAT 1", 0},
    {"SET EXAT 1 (past)", "", "SET k v EXAT 1", 0},
    {"SET GET on a list (WRONGTYPE)", "LPUSH l a", "SET l x GET", 0},
    {"SETNX", "", "SETNX k v", 0},
    {"SETNX on existing key", "SET k v", "SETNX k x", 0},
    {"SETEX", "", "SETEX k 100 v", 0},
    {"SETEX 0 (error)", "", "SETEX k 0 v", 0},
    {"PSETEX", "", "PSETEX k 100000 v", 0},
    {"GETSET", "SET k v", "GETSET k v2", 0},
    {"GETSET missing key", "", "GETSET k v2", 0},
    {"GETSET key with TTL", "SET k v EX 100", "GETSET k v3", 0},
    {"MSET", "", "MSET a 1 b 2", 0},
    {"MSETNX", "", "MSETNX c 1 d 2", 0},
    {"MSETNX with an existing key", "SET c 1", "MSETNX c 1 e 2", 0},
    {"APPEND", "SET a 1", "APPEND a xyz", 0},
    {"APPEND to missing key", "", "APPEND new xyz", 0},
    {"APPEND empty to existing key", "SET a 1", "APPEND a \"\"", 0},
    {"APPEND empty to missing key", "", "APPEND new \"\"", 0},
    {"SETRANGE", "SET a 1234", "SETRANGE a 1 QQ", 0},
    {"SETRANGE empty on existing key", "SET a 1234", "SETRANGE a 1 \"\"", 0},
    {"SETRANGE empty on missing key", "", "SETRANGE nokey 1 \"\"", 0},
    {"SETRANGE on missing key", "", "SETRANGE nokey 3 x", 0},
    {"INCR DECR INCRBY DECRBY", "", "INCR n;DECR n;INCRBY n 5;DECRBY n 3", 0},
    {"INCRBY on a non-integer (error)", "SET a x", "INCRBY a 5", 0},
    {"INCRBYFLOAT", "", "INCRBYFLOAT f 1.5;INCRBYFLOAT f 0.1;INCRBYFLOAT f 1e2;INCRBYFLOAT f 3.0e3", 0},
    {"INCRBYFLOAT 0", "SET g 10", "INCRBYFLOAT g 0", 0},
    {"INCRBYFLOAT on key with TTL", "SET g 10 PX 100000", "INCRBYFLOAT g 2.5", 0},
    {"INCRBYFLOAT on a non-float (error)", "SET g abc", "INCRBYFLOAT g 1", 0},
    {"GETEX without option", "SET k v", "GETEX k", 0},
    {"GETEX EX PX EXAT PXAT", "SET k v",
     "GETEX k EX 100;GETEX k PX 100000;GETEX k EXAT @now+100;GETEX k PXAT @nowms+100000", 0},
    {"GETEX PERSIST", "SET k v EX 100", "GETEX k PERSIST", 0},
    {"GETEX PERSIST without TTL", "SET k v", "GETEX k PERSIST", 0},
    {"GETEX EXAT 1 (past)", "SET k v", "GETEX k EXAT 1", 0},
    {"GETEX PXAT 1 (past)", "SET k v", "GETEX k PXAT 1", 0},
    {"GETEX missing key", "", "GETEX k EX 100", 0},
    {"GETEX EX 0 (error)", "SET k v", "GETEX k EX 0", 0},
    {"GETEX syntax error", "SET k v", "GETEX k EX 100 PERSIST", 0},
    {"GETDEL", "SET k v", "GETDEL k", 0},
    {"GETDEL missing key", "", "GETDEL k", 0},
    {"GETDEL on a list (WRONGTYPE)", "LPUSH l a", "GETDEL l", 0},
    {"GET, STRLEN, GETRANGE (reads)", "SET k v", "GET k;STRLEN k;GETRANGE k 0 1", 0},
};

static const rs_case expires[] = {
    {"EXPIRE", "SET k v", "EXPIRE k 100", 0},
    {"EXPIRE NX that sets", "SET k v", "EXPIRE k 100 NX", 0},
    {"EXPIRE NX on key with TTL", "SET k v EX 50", "EXPIRE k 100 NX", 0},
    {"EXPIRE XX", "SET k v EX 50", "EXPIRE k 200 XX", 0},
    {"EXPIRE XX without TTL", "SET k v", "EXPIRE k 200 XX", 0},
    {"EXPIRE GT larger", "SET k v EX 50", "EXPIRE k 300 GT", 0},
    {"EXPIRE GT smaller", "SET k v EX 500", "EXPIRE k 300 GT", 0},
    {"EXPIRE GT without TTL", "SET k v", "EXPIRE k 300 GT", 0},
    {"EXPIRE lt (lower case) smaller", "SET k v EX 500", "EXPIRE k 50 lt", 0},
    {"EXPIRE LT without TTL", "SET k v", "EXPIRE k 100 LT", 0},
    {"EXPIRE missing key", "", "EXPIRE k 100", 0},
    {"EXPIRE 0", "SET k v", "EXPIRE k 0", 0},
    {"EXPIRE -5", "SET k v", "EXPIRE k -5", 0},
    {"EXPIRE -5 NX", "SET k v", "EXPIRE k -5 NX", 0},
    {"EXPIRE not an integer (error)", "SET k v", "EXPIRE k abc", 0},
    {"EXPIRE NX XX (error)", "SET k v", "EXPIRE k 100 NX XX", 0},
    {"EXPIRE overflow (error)", "SET k v", "EXPIRE k 9223372036854775", 0},
    {"PEXPIRE", "SET k v", "PEXPIRE k 100000", 0},
    {"PEXPIRE XX", "SET k v EX 50", "PEXPIRE k 200000 XX", 0},
    {"PEXPIRE 0", "SET k v", "PEXPIRE k 0", 0},
    {"PEXPIRE huge (error)", "SET k v", "PEXPIRE k 9223372036854775000", 0},
    {"EXPIREAT", "SET k v", "EXPIREAT k @now+100", 0},
    {"EXPIREAT GT", "SET k v EX 50", "EXPIREAT k @now+200 GT", 0},
    {"EXPIREAT 1 (past)", "SET k v", "EXPIREAT k 1", 0},
    {"EXPIREAT past on missing key", "", "EXPIREAT k 1", 0},
    {"PEXPIREAT", "SET k v", "PEXPIREAT k @nowms+100000", 0},
    {"PEXPIREAT XX", "SET k v EX 50", "PEXPIREAT k @nowms+300000 XX", 0},
    {"PEXPIREAT NX on key with TTL", "SET k v EX 50", "PEXPIREAT k @nowms+300000 NX", 0},
    {"PEXPIREAT 1 (past)", "SET k v", "PEXPIREAT k 1", 0},
    {"PERSIST", "SET k v EX 100", "PERSIST k", 0},
    {"PERSIST without TTL", "SET k v", "PERSIST k", 0},
    {"PERSIST missing key", "", "PERSIST k", 0},
    {"TTL PTTL EXPIRETIME (reads)", "SET k v EX 100", "TTL k;PTTL k;EXPIRETIME k;PEXPIRETIME k", 0},
    {"DEL with a missing key", "MSET a 1 b 2", "DEL a b c", 0},
    {"DEL missing key", "", "DEL a", 0},
    {"UNLINK with a missing key", "MSET a 1 b 2", "UNLINK a zz b", 0},
    {"UNLINK missing key", "", "UNLINK a", 0},
    {"DEL with lazyfree-lazy-user-del yes", "SET d v;CONFIG SET lazyfree-lazy-user-del yes",
     "DEL d;CONFIG SET lazyfree-lazy-user-del no", 0},
};

static const rs_case lists[] = {
    {"LPUSH", "", "LPUSH l a b", 0},
    {"RPUSH", "LPUSH l a", "RPUSH l c", 0},
    {"LPUSHX", "LPUSH l a", "LPUSHX l x", 0},
    {"LPUSHX missing key", "", "LPUSHX l x", 0},
    {"RPUSHX", "LPUSH l a", "RPUSHX l y", 0},
    {"LINSERT", "RPUSH l a b", "LINSERT l BEFORE a z", 0},
    {"LINSERT pivot missing", "RPUSH l a b", "LINSERT l BEFORE nope z", 0},
    {"LSET", "RPUSH l a b", "LSET l 0 q", 0},
    {"LSET out of range (error)", "RPUSH l a b", "LSET l 100 q", 0},
    {"LREM", "RPUSH l a b a", "LREM l 1 a", 0},
    {"LREM nothing", "RPUSH l a b", "LREM l 0 zz", 0},
    {"LTRIM", "RPUSH l a b c", "LTRIM l 1 -1", 0},
    {"LTRIM no change", "RPUSH l a b c", "LTRIM l 0 -1", 0},
    {"LTRIM to empty", "RPUSH l a b c", "LTRIM l 5 2", 0},
    {"LPOP RPOP", "RPUSH l a b c d e", "LPOP l;RPOP l", 0},
    {"LPOP with count", "RPUSH l a b c d e", "LPOP l 2", 0},
    {"LPOP count 0", "RPUSH l a b", "LPOP l 0", 0},
    {"RPOP count > length", "RPUSH l a", "RPOP l 5", 0},
    {"LPOP missing key", "", "LPOP l;LPOP l 2", 0},
    {"RPOPLPUSH", "RPUSH src a b c", "RPOPLPUSH src dst", 0},
    {"LMOVE", "RPUSH src a b c", "LMOVE src dst LEFT RIGHT", 0},
    {"LMOVE rotate same key", "RPUSH src a b c", "LMOVE src src LEFT RIGHT", 0},
    {"LMOVE missing source", "", "LMOVE src dst LEFT RIGHT", 0},
    {"LMPOP", "RPUSH l1 a b c", "LMPOP 2 nol l1 LEFT", 0},
    {"LMPOP COUNT > length", "RPUSH l1 a b", "LMPOP 1 l1 RIGHT COUNT 5", 0},
    {"LMPOP missing keys", "", "LMPOP 2 l1 l2 RIGHT", 0},
    {"BLPOP served at once", "RPUSH bl a b", "BLPOP nol bl 0", 0},
    {"BRPOP served at once", "RPUSH bl a b", "BRPOP bl 0", 0},
    {"BLMOVE served at once", "RPUSH bl a b", "BLMOVE bl dst RIGHT LEFT 0", 0},
    {"BRPOPLPUSH served at once", "RPUSH bl a b", "BRPOPLPUSH bl dst 0", 0},
    {"BLMPOP served at once", "RPUSH bl a b c", "BLMPOP 0 1 bl LEFT COUNT 2", 0},
    {"BLPOP last element", "RPUSH one x", "BLPOP one 0", 0},
    {"BLPOP timeout", "", "BLPOP bl 0.01", 0},
    {"blocked BLPOP woken by RPUSH", "", "&BLPOP bk 0;RPUSH bk a b", 0},
    {"blocked BRPOP woken by LPUSH", "", "&BRPOP bk 0;LPUSH bk a", 0},
    {"blocked BLMOVE woken by RPUSH", "", "&BLMOVE bk d LEFT RIGHT 0;RPUSH bk a", 0},
    {"blocked BRPOPLPUSH woken by RPUSH", "", "&BRPOPLPUSH bk d 0;RPUSH bk a b", 0},
    {"blocked BLMPOP COUNT 3 woken by RPUSH of 2", "", "&BLMPOP 0 1 bk LEFT COUNT 3;RPUSH bk a b", 0},
    {"two blocked BLPOP woken by one RPUSH", "", "&BLPOP bk 0;&BLPOP bk 0;RPUSH bk a b c", 0},
    {"blocked BLPOP woken by MULTI/EXEC", "", "&BLPOP bk 0;MULTI;RPUSH bk a;SET x 1;EXEC", 0},
    {"blocked BLMOVE chained to a blocked BLPOP", "", "&BLMOVE bk bk2 LEFT RIGHT 0;&BLPOP bk2 0;RPUSH bk a", 0},
    {"blocked BLPOP in db 5", "SELECT 5", "&BLPOP q 0;RPUSH q a", 0},
    {"MULTI BLPOP on empty list EXEC", "", "MULTI;BLPOP nol 0;EXEC", 0},
    {"MULTI BLPOP with data EXEC", "RPUSH l x", "MULTI;BLPOP l 0;EXEC", 0},
    {"LRANGE LLEN LINDEX LPOS (reads)", "RPUSH l a b", "LRANGE l 0 -1;LLEN l;LINDEX l 0;LPOS l a", 0},
};

static const rs_case sets[] = {
    {"SADD", "", "SADD s a b c", 0},
    {"SADD existing member", "SADD s a", "SADD s a", 0},
    {"SADD partly existing", "SADD s a", "SADD s a d", 0},
    {"SREM", "SADD s a d", "SREM s d zz", 0},
    {"SREM missing member", "SADD s a", "SREM s zz", 0},
    {"SMOVE", "SADD s a b", "SMOVE s s2 a", 0},
    {"SMOVE missing member", "SADD s a b", "SMOVE s s2 zz", 0},
    {"SMOVE same key", "SADD s a b", "SMOVE s s a", 0},
    {"SPOP", "SADD s a b c", "SPOP s", F_ANY_MEMBER},
    {"SPOP 1", "SADD s a b c", "SPOP s 1", F_ANY_MEMBER},
    {"SPOP 2 of 5", "SADD s a b c d e", "SPOP s 2", F_ANY_MEMBER},
    {"SPOP count 0", "SADD s a b c", "SPOP s 0", 0},
    {"SPOP count > cardinality", "SADD s a b", "SPOP s 10", 0},
    {"SPOP count = cardinality", "SADD s a b c", "SPOP s 3", 0},
    {"SPOP missing key", "", "SPOP s;SPOP s 3", 0},
    {"SPOP last member", "SADD s a", "SPOP s", 0},
    {"SPOP 300 of 2000 (hashtable)", "SADD big @seq:m:2000", "SPOP big 300", F_ANY_MEMBER},
    {"SPOP 1500 of 2000 (hashtable)", "SADD big @seq:m:2000", "SPOP big 1500", F_ANY_MEMBER},
    {"SPOP 1500 of 2000 (intset)", "SADD big @seq::2000", "SPOP big 1500", F_ANY_MEMBER},
    {"SPOP 2000 of 2000", "SADD big @seq:m:2000", "SPOP big 2000", 0},
    {"MULTI SPOP 2 EXEC", "SADD s a b c d", "MULTI;SPOP s 2;EXEC", F_ANY_MEMBER},
    {"MULTI SPOP > cardinality EXEC", "SADD s a b", "MULTI;SPOP s 5;EXEC", 0},
    {"SRANDMEMBER SMEMBERS SISMEMBER (reads)", "SADD s a b", "SRANDMEMBER s 2;SMEMBERS s;SISMEMBER s a", 0},
    {"SINTERSTORE", "SADD x1 a b", "SINTERSTORE dst x1 x1", 0},
    {"SINTERSTORE empty, destination missing", "SADD x1 a b;SADD x2 c", "SINTERSTORE dst x1 x2", 0},
    {"SINTERSTORE empty, destination exists", "SADD x1 a b;SADD x2 c;SET dst v", "SINTERSTORE dst x1 x2", 0},
    {"SUNIONSTORE", "SADD x1 a b;SADD x2 c", "SUNIONSTORE dst x1 x2", 0},
    {"SUNIONSTORE of missing keys", "", "SUNIONSTORE dst nokey", 0},
    {"SDIFFSTORE", "SADD x1 a b;SADD x2 a", "SDIFFSTORE dst x1 x2", 0},
    {"SDIFFSTORE empty, destination exists", "SADD x1 a b;SADD dst z", "SDIFFSTORE dst x1 x1", 0},
    {"SDIFFSTORE empty, destination missing", "SADD x1 a b", "SDIFFSTORE dst x1 x1", 0},
};

static const rs_case hashes[] = {
    {"HSET", "", "HSET h f v", 0},
    {"HSET same value", "HSET h f v", "HSET h f v", 0},
    {"HSET several fields", "HSET h f v", "HSET h f v g w", 0},
    {"HMSET", "HSET h f v", "HMSET h f v2", 0},
    {"HSETNX", "HSET h f v", "HSETNX h n x", 0},
    {"HSETNX existing field", "HSET h f v", "HSETNX h f x", 0},
    {"HDEL", "HSET h f v n x", "HDEL h n zz", 0},
    {"HDEL missing field", "HSET h f v", "HDEL h zz", 0},
    {"HDEL last field", "HSET h a 1", "HDEL h a", 0},
    {"HINCRBY", "", "HINCRBY h i 5", 0},
    {"HINCRBYFLOAT", "", "HINCRBYFLOAT h fl 1.5;HINCRBYFLOAT h fl 1e2", 0},
    {"HINCRBYFLOAT on a non-float (error)", "HSET h f v", "HINCRBYFLOAT h f 1", 0},
    {"HGET HGETALL HRANDFIELD (reads)", "HSET h f v", "HGET h f;HGETALL h;HRANDFIELD h", 0},
};

static const rs_case zsets[] = {
    {"ZADD", "", "ZADD z 1 a 2 b", 0},
    {"ZADD same score", "ZADD z 1 a", "ZADD z 1 a", 0},
    {"ZADD score changed", "ZADD z 1 a", "ZADD z 5 a", 0},
    {"ZADD NX existing", "ZADD z 1 a", "ZADD z NX 9 a", 0},
    {"ZADD XX CH", "ZADD z 1 a", "ZADD z XX CH 9 a", 0},
    {"ZADD INCR", "ZADD z 1 a", "ZADD z INCR 1 a", 0},
    {"ZADD GT smaller", "ZADD z 5 a", "ZADD z GT 1 a", 0},
    {"ZADD INCR 0", "ZADD z 5 a", "ZADD z INCR 0 a", 0},
    {"ZADD XX INCR missing member", "ZADD z 5 a", "ZADD z XX INCR 1 nomember", 0},
    {"ZINCRBY", "ZADD z 2 b", "ZINCRBY z 2 b", 0},
    {"ZINCRBY 0", "ZADD z 2 b", "ZINCRBY z 0 b", 0},
    {"ZREM", "ZADD z 1 a 2 b", "ZREM z b zz", 0},
    {"ZREM missing member", "ZADD z 1 a", "ZREM z zz", 0},
    {"ZPOPMIN ZPOPMAX", "ZADD z 1 a 2 b 3 c 4 d 5 e", "ZPOPMIN z;ZPOPMAX z 2", 0},
    {"ZPOPMIN count 0", "ZADD z 1 a", "ZPOPMIN z 0", 0},
    {"ZPOPMIN count > cardinality", "ZADD z 1 a 2 b", "ZPOPMIN z 10", 0},
    {"ZPOPMIN missing key", "", "ZPOPMIN z", 0},
    {"ZMPOP", "ZADD z 1 a 2 b 3 c", "ZMPOP 1 z MIN", 0},
    {"ZMPOP COUNT > cardinality", "ZADD z 1 a 2 b", "ZMPOP 2 noz z MAX COUNT 10", 0},
    {"ZMPOP missing key", "", "ZMPOP 1 z MAX", 0},
    {"ZREMRANGEBYSCORE", "ZADD z 1 a 2 b", "ZREMRANGEBYSCORE z 1 1", 0},
    {"ZREMRANGEBYSCORE nothing", "ZADD z 1 a 2 b", "ZREMRANGEBYSCORE z 10 20", 0},
    {"ZREMRANGEBYRANK", "ZADD z 1 a 2 b", "ZREMRANGEBYRANK z 0 0", 0},
    {"ZREMRANGEBYLEX", "ZADD z 0 a 0 b", "ZREMRANGEBYLEX z - +", 0},
    {"BZPOPMIN served at once", "ZADD z 1 a 2 b", "BZPOPMIN z 0", 0},
    {"BZPOPMAX served at once", "ZADD z 1 a 2 b", "BZPOPMAX z 0", 0},
    {"BZMPOP served at once", "ZADD z 1 a 2 b", "BZMPOP 0 1 z MIN", 0},
    {"BZMPOP COUNT served at once", "ZADD z 1 a 2 b 3 c", "BZMPOP 0 1 z MAX COUNT 2", 0},
    {"blocked BZPOPMIN woken by ZADD", "", "&BZPOPMIN zk 0;ZADD zk 1 a 2 b", 0},
    {"blocked BZPOPMAX woken by ZADD", "", "&BZPOPMAX zk 0;ZADD zk 1 a", 0},
    {"blocked BZMPOP COUNT 5 woken by ZADD of 2", "", "&BZMPOP 0 1 zk MIN COUNT 5;ZADD zk 1 a 2 b", 0},
    {"ZUNIONSTORE", "ZADD z 1 a 2 b;ZADD z2 1 a", "ZUNIONSTORE zd 2 z z2", 0},
    {"ZINTERSTORE", "ZADD z 1 a 2 b;ZADD z2 1 a", "ZINTERSTORE zd 2 z z2", 0},
    {"ZINTERSTORE empty, destination exists", "ZADD z 1 a;ZADD zd 1 x", "ZINTERSTORE zd 2 z noz", 0},
    {"ZINTERSTORE empty, destination missing", "ZADD z 1 a", "ZINTERSTORE zd 2 z noz", 0},
    {"ZDIFFSTORE", "ZADD z 1 a 2 b;ZADD z2 1 a", "ZDIFFSTORE zd 2 z z2", 0},
    {"ZRANGESTORE", "ZADD z 1 a 2 b", "ZRANGESTORE zd z 0 1", 0},
    {"ZRANGESTORE empty, destination exists", "ZADD z 1 a;ZADD zd 1 x", "ZRANGESTORE zd z 10 11", 0},
    {"ZRANGESTORE empty, destination missing", "ZADD z 1 a", "ZRANGESTORE zd z 10 11", 0},
    {"ZRANGE ZSCORE ZRANDMEMBER (reads)", "ZADD z 1 a", "ZRANGE z 0 -1;ZSCORE z a;ZRANDMEMBER z", 0},
};

static const rs_case keys[] = {
    {"RENAME", "SET k v", "RENAME k k2", 0},
    {"RENAME same key", "SET k v", "RENAME k k", 0},
    {"RENAME missing key (error)", "", "RENAME nokey x", 0},
    {"RENAMENX", "SET k v", "RENAMENX k k3", 0},
    {"RENAMENX target exists", "SET k v;SET k2 v", "RENAMENX k k2", 0},
    {"COPY", "SET k v", "COPY k k4", 0},
    {"COPY target exists", "SET k v;SET k4 v", "COPY k k4", 0},
    {"COPY REPLACE", "SET k v;SET k4 v", "COPY k k4 REPLACE", 0},
    {"COPY DB", "SET k v", "COPY k k5 DB 3", 0},
    {"COPY missing key", "", "COPY nokey k6", 0},
    {"MOVE", "SET k v", "MOVE k 4", 0},
    {"MOVE target exists", "SET k v;SELECT 3;SET k y;SELECT 0", "MOVE k 3", 0},
    {"MOVE missing key", "", "MOVE nokey 3", 0},
    {"RESTORE", "SET src hello", "RESTORE r1 0 @dump:src", 0},
    {"RESTORE existing key (BUSYKEY)", "SET src hello;SET r1 x", "RESTORE r1 0 @dump:src", 0},
    {"RESTORE TTL REPLACE", "SET src hello;SET r1 x", "RESTORE r1 50000 @dump:src REPLACE", 0},
    {"RESTORE ABSTTL", "SET src hello", "RESTORE r2 @nowms+60000 @dump:src ABSTTL", 0},
    {"RESTORE ABSTTL in the past", "SET src hello", "RESTORE r3 1 @dump:src ABSTTL", 0},
    {"RESTORE ABSTTL in the past REPLACE over a key", "SET src hello;SET r4 x",
     "RESTORE r4 1 @dump:src ABSTTL REPLACE", 0},
    {"RESTORE IDLETIME", "SET src hello", "RESTORE r5 0 @dump:src IDLETIME 100", 0},
    {"RESTORE FREQ", "SET src hello", "RESTORE r6 0 @dump:src FREQ 10", 0},
    {"RESTORE bad payload (error)", "", "RESTORE r7 0 garbage", 0},
    {"EXISTS TYPE DUMP TOUCH (reads)", "SET k v", "EXISTS k;TYPE k;DUMP k;TOUCH k", 0},
    {"SWAPDB", "SET k v", "SWAPDB 0 1;SELECT 1;SET k2 v;SWAPDB 1 2", 0},
    {"SWAPDB same db, out of range (error)", "", "SWAPDB 3 3;SWAPDB 0 99;SWAPDB x 1", 0},
    {"SWAPDB inside MULTI", "SET k v", "MULTI;SWAPDB 0 5;SET k w;EXEC", 0},
};

static const rs_case transactions[] = {
    {"MULTI SET EXEC", "", "MULTI;SET a 1;EXEC", 0},
    {"MULTI SET SET EXEC", "", "MULTI;SET a 1;SET b 2;EXEC", 0},
    {"MULTI GET EXEC", "SET a 1", "MULTI;GET a;EXEC", 0},
    {"MULTI EXEC empty", "", "MULTI;EXEC", 0},
    {"MULTI SADD SADD(no-op) EXEC", "", "MULTI;SADD s x;SADD s x;EXEC", 0},
    {"MULTI no-op writes only", "SET a 1", "MULTI;GET a;DEL nokey;EXEC", 0},
    {"MULTI SET SELECT 3 SET SELECT 0 EXEC", "", "MULTI;SET a 1;SELECT 3;SET b 2;SELECT 0;EXEC", 0},
    {"MULTI SELECT 3 SET EXEC then SET", "", "MULTI;SELECT 3;SET b 2;EXEC;SET z 1", 0},
    {"MULTI in db 3", "SELECT 3", "MULTI;SET a 1;SET b 2;EXEC", 0},
    {"MULTI with a runtime error", "", "MULTI;SET a 1;LPUSH a x;SET b 2;EXEC", 0},
    {"MULTI with an unknown command (EXECABORT)", "", "MULTI;SET a 1;NOSUCHCMD;EXEC", 0},
    {"MULTI with an arity error (EXECABORT)", "", "MULTI;SET a;EXEC", 0},
    {"MULTI DISCARD", "", "MULTI;SET a 1;DISCARD", 0},
    {"MULTI with rewritten commands", "", "MULTI;SET a 1 EX 100;INCRBYFLOAT f 1.5;EXEC", 0},
    {"WATCH aborted EXEC", "", "WATCH w;!SET w 1;MULTI;SET a 1;EXEC", 0},
    {"MULTI PUBLISH EXEC", "", "MULTI;PUBLISH ch m;EXEC", 0},
    {"MULTI FLUSHALL EXEC", "SET a 1", "MULTI;FLUSHALL;EXEC", 0},
};

static const rs_case scripts[] = {
    {"py_release owner", "SET lk tok", "EVAL @lock:py_release 1 lk tok", 0},
    {"py_release missing key", "", "EVAL @lock:py_release 1 lk tok", 0},
    {"py_release other owner", "SET lk other", "EVAL @lock:py_release 1 lk tok", 0},
    {"py_extend add", "SET lk tok PX 100000", "EVAL @lock:py_extend 1 lk tok 5000 0", 0},
    {"py_extend replace", "SET lk tok PX 100000", "EVAL @lock:py_extend 1 lk tok 5000 1", 0},
    {"py_extend without TTL", "SET lk tok", "EVAL @lock:py_extend 1 lk tok 5000 1", 0},
    {"py_reacquire owner", "SET lk tok", "EVAL @lock:py_reacquire 1 lk tok 7000", 0},
    {"py_reacquire other owner", "SET lk tok", "EVAL @lock:py_reacquire 1 lk bad 7000", 0},
    {"rs_delete owner", "SET lk tok", "EVAL @lock:rs_delete 1 lk tok", 0},
    {"rs_delete missing key", "", "EVAL @lock:rs_delete 1 lk tok", 0},
    {"rs_touch owner", "SET lk tok", "EVAL @lock:rs_touch 1 lk tok 8000", 0},
    {"rs_touchnx owner", "SET lk tok", "EVAL @lock:rs_touchnx 1 lk tok 8000", 0},
    {"rs_touchnx missing key", "", "EVAL @lock:rs_touchnx 1 lk tok 8000", 0},
    {"rs_touchnx other owner", "SET lk other", "EVAL @lock:rs_touchnx 1 lk tok 8000", 0},
    {"rs_olddelete owner", "SET lk tok", "EVAL @lock:rs_olddelete 1 lk tok", 0},
    {"rl4_lock two free keys", "", "EVAL @lock:rl4_lock 2 a1 a2 tok 9000", 0},
    {"rl4_lock held", "SET a2 x", "EVAL @lock:rl4_lock 2 a1 a2 tok 9000", 0},
    {"rl4_lock one key", "", "EVAL @lock:rl4_lock 1 b1 tok 9000", 0},
    {"rl4_extend two keys", "SET a1 tok;SET a2 tok", "EVAL @lock:rl4_extend 2 a1 a2 tok 9500", 0},
    {"rl4_extend other owner", "SET a1 tok;SET a2 tok", "EVAL @lock:rl4_extend 2 a1 a2 bad 9500", 0},
    {"rl4_unlock two keys", "SET a1 tok;SET a2 tok", "EVAL @lock:rl4_unlock 2 a1 a2 tok", 0},
    {"rl4_unlock missing keys", "", "EVAL @lock:rl4_unlock 2 a1 a2 tok", 0},
    {"rl4_unlock one of two", "SET a1 tok;SET a2 x", "EVAL @lock:rl4_unlock 2 a1 a2 tok", 0},
    {"rl5_acquire two keys", "", "EVAL @lock:rl5_acquire 2 a1 a2 tok 9000", 0},
    {"rl5_extend two keys", "SET a1 tok;SET a2 tok", "EVAL @lock:rl5_extend 2 a1 a2 tok 9500", 0},
    {"rl5_release two keys", "SET a1 tok;SET a2 tok", "EVAL @lock:rl5_release 2 a1 a2 tok", 0},
    {"rl3_lock free", "", "EVAL @lock:rl3_lock 1 c1 tok 9000", 0},
    {"rl3_lock held", "SET c1 x", "EVAL @lock:rl3_lock 1 c1 tok 9000", 0},
    {"rl3_extend owner", "SET c1 tok", "EVAL @lock:rl3_extend 1 c1 tok 9900", 0},
    {"rl3_unlock owner", "SET c1 tok", "EVAL @lock:rl3_unlock 1 c1 tok", 0},
    {"redisio_unlock owner", "SET c1 tok", "EVAL @lock:redisio_unlock 1 c1 tok", 0},
    {"redisio_unlock missing key", "", "EVAL @lock:redisio_unlock 1 c1 tok", 0},
    {"SCRIPT LOAD then EVALSHA", "", "SCRIPT LOAD @lock:rl3_lock;EVALSHA @sha:rl3_lock 1 c2 tok 9000", 0},
    {"EVALSHA_RO, EVAL_RO (reads)", "SET c1 tok;SCRIPT LOAD @lock:rl3_unlock",
     "EVAL_RO @lock:rl3_unlock 1 c1 x;EVALSHA_RO @sha:rl3_unlock 1 c1 x", 0},
    {"script in db 4", "SELECT 4", "EVAL @lock:rl4_lock 2 d1 d2 tok 9000", 0},
    {"MULTI EVAL SET EXEC", "", "MULTI;EVAL @lock:rl3_lock 1 m1 tok 9000;SET m2 x;EXEC", 0},
    {"MULTI EVAL(two keys) EXEC", "", "MULTI;EVAL @lock:rl4_lock 2 m3 m4 tok 9000;EXEC", 0},
    {"py_release on an expired key", "SET ek tok PX 2;@sleep:5", "EVAL @lock:py_release 1 ek tok", F_LAZY},
    {"rs_touchnx on an expired key", "SET ek tok PX 2;@sleep:5", "EVAL @lock:rs_touchnx 1 ek tok 8000", F_LAZY},
};

#define EXPIRED(key) "SET " key " v PX 2;@sleep:5"

static const rs_case expiry[] = {
    {"GET of an expired key", EXPIRED("e"), "GET e", F_LAZY},
    {"EXISTS of an expired key", EXPIRED("e"), "EXISTS e", F_LAZY},
    {"TTL of an expired key", EXPIRED("e"), "TTL e", F_LAZY},
    {"DEL of an expired key", EXPIRED("e"), "DEL e", F_LAZY},
    {"EXPIRE of an expired key", EXPIRED("e"), "EXPIRE e 100", F_LAZY},
    {"SET over an expired key", EXPIRED("e"), "SET e new", F_LAZY},
    {"SETNX over an expired key", EXPIRED("e"), "SETNX e x", F_LAZY},
    {"RPUSH to an expired list", "RPUSH el a b;PEXPIRE el 2;@sleep:5", "RPUSH el c", F_LAZY},
    {"MGET of two expired keys", EXPIRED("e1") ";" EXPIRED("e2"), "MGET e1 e2", F_LAZY},
    {"MSET over two expired keys", EXPIRED("e1") ";" EXPIRED("e2"), "MSET e1 x e2 y", F_LAZY},
    {"RENAME onto an expired key", "SET src x;" EXPIRED("e"), "RENAME src e", F_LAZY},
    {"MULTI GET(expired) SET EXEC", EXPIRED("e"), "MULTI;GET e;SET q 1;EXEC", F_LAZY},
    {"MULTI SET GET(expired) EXEC", EXPIRED("e"), "MULTI;SET q 1;GET e;EXEC", F_LAZY},
    {"MULTI GET(expired) EXEC", EXPIRED("e"), "MULTI;GET e;EXEC", F_LAZY},
    {"MULTI SET over expired EXEC", EXPIRED("e"), "MULTI;SET e 1;EXEC", F_LAZY},
    {"expired key in db 5", "SELECT 5;" EXPIRED("e5"), "GET e5", F_LAZY},
    {"expired key in db 0 untouched by a GET in db 3", EXPIRED("e"), "SELECT 3;GET e", F_LAZY},
    {"lazyfree-lazy-expire yes: GET", "CONFIG SET lazyfree-lazy-expire yes;" EXPIRED("e"),
     "GET e;CONFIG SET lazyfree-lazy-expire no", F_LAZY},
    {"lazyfree-lazy-expire yes: SET over expired", "CONFIG SET lazyfree-lazy-expire yes;" EXPIRED("e"),
     "SET e x;CONFIG SET lazyfree-lazy-expire no", F_LAZY},
    {"active expiry", "SET ae v PX 30", "DEBUG SET-ACTIVE-EXPIRE 1;@wait_ops:1;DEBUG SET-ACTIVE-EXPIRE 0", 0},
    {"active expiry of 5 keys in db 5",
     "SELECT 5;SET ax0 v PX 30;SET ax1 v PX 30;SET ax2 v PX 30;SET ax3 v PX 30;SET ax4 v PX 30",
     "DEBUG SET-ACTIVE-EXPIRE 1;@wait_ops:5;DEBUG SET-ACTIVE-EXPIRE 0", F_UNORDERED},
    {"active expiry, lazyfree-lazy-expire yes", "CONFIG SET lazyfree-lazy-expire yes;SET ae v PX 30",
     "DEBUG SET-ACTIVE-EXPIRE 1;@wait_ops:1;DEBUG SET-ACTIVE-EXPIRE 0;CONFIG SET lazyfree-lazy-expire no", 0},
    {"eviction (volatile-ttl)", "SET victim @big:200000 PX 1000000;SET keep 1",
     "CONFIG SET maxmemory-policy volatile-ttl;@maxmemory:-100000;SET k v;CONFIG SET maxmemory 0;"
     "CONFIG SET maxmemory-policy noeviction",
     0},
    {"eviction, lazyfree-lazy-eviction yes", "SET victim @big:200000 PX 1000000;SET keep 1",
     "CONFIG SET lazyfree-lazy-eviction yes;CONFIG SET maxmemory-policy volatile-ttl;@maxmemory:-100000;SET k v;"
     "CONFIG SET maxmemory 0;CONFIG SET maxmemory-policy noeviction;CONFIG SET lazyfree-lazy-eviction no",
     0},
};

static const rs_case select_flush[] = {
    {"SELECT 2 then SET", "", "SELECT 2;SET a 1", 0},
    {"two SETs in db 2", "", "SELECT 2;SET a 1;SET b 1", 0},
    {"SELECT alone", "", "SELECT 2", 0},
    {"SELECT, read, SELECT, write", "", "SELECT 3;GET a;SELECT 2;SET c 1", 0},
    {"writes in db 0, 1, 0", "", "SET a 1;SELECT 1;SET a 1;SELECT 0;SET b 1", 0},
    {"FLUSHDB in db 2", "SELECT 2;SET a 1", "FLUSHDB", 0},
    {"FLUSHDB of an empty db", "SELECT 2", "FLUSHDB", 0},
    {"FLUSHDB ASYNC", "SELECT 2;SET a 1", "FLUSHDB ASYNC", 0},
    {"FLUSHDB SYNC", "SELECT 2;SET a 1", "FLUSHDB SYNC", 0},
    {"FLUSHALL", "SET a 1", "FLUSHALL", 0},
    {"FLUSHALL ASYNC", "SET a 1", "FLUSHALL ASYNC", 0},
    {"FLUSHALL SYNC", "", "FLUSHALL SYNC", 0},
    {"FLUSHALL from db 7", "SELECT 7", "FLUSHALL", 0},
    {"FLUSHALL with lazyfree-lazy-user-flush yes", "CONFIG SET lazyfree-lazy-user-flush yes",
     "FLUSHALL;CONFIG SET lazyfree-lazy-user-flush no", 0},
    {"PUBLISH", "", "PUBLISH ch msg", 0},
    {"SPUBLISH", "", "SPUBLISH ch msg", 0},
    {"PUBLISH from db 1", "SELECT 1", "PUBLISH ch msg", 0},
    {"CONFIG SET, PING, ECHO, DBSIZE, INFO (not propagated)", "",
     "CONFIG SET maxmemory-samples 5;PING;ECHO x;DBSIZE;INFO keyspace", 0},
};

static const rs_case hll[] = {
    {"PFADD creating the key", "", "PFADD h a b c", 0},
    {"PFADD of no element creating the key", "", "PFADD h", 0},
    {"PFADD that changes nothing", "PFADD h a", "PFADD h a", 0},
    {"PFADD promoting to dense", "CONFIG SET hll-sparse-max-bytes 40;PFADD h a",
     "PFADD h b c d e f g h i j k l m n o p q r s t u v w x y z;CONFIG SET hll-sparse-max-bytes 3000", 0},
    {"PFADD on a list (WRONGTYPE)", "LPUSH l a", "PFADD l a", 0},
    {"PFADD on a string that is not an HLL", "SET s HYLL", "PFADD s a", 0},
    {"PFCOUNT refreshing the cached cardinality", "PFADD h a b", "PFCOUNT h", 0},
    {"PFCOUNT with a valid cache", "PFADD h a b;PFCOUNT h", "PFCOUNT h", 0},
    {"PFCOUNT of a missing key", "", "PFCOUNT nokey", 0},
    {"PFCOUNT of several keys", "PFADD h a;PFADD {h}g b", "PFCOUNT h {h}g", 0},
    {"PFMERGE", "PFADD h a;PFADD {h}g b", "PFMERGE {h}d h {h}g", 0},
    {"PFMERGE into an existing key", "PFADD h a;PFADD {h}g b", "PFMERGE h {h}g", 0},
    {"PFMERGE of missing keys", "", "PFMERGE d {d}x {d}y", 0},
    {"PFDEBUG TODENSE", "PFADD h a", "PFDEBUG TODENSE h", 0},
    {"PFDEBUG TODENSE of a dense value", "PFADD h a;PFDEBUG TODENSE h", "PFDEBUG TODENSE h", 0},
    {"PFDEBUG GETREG of a sparse value", "PFADD h a", "PFDEBUG GETREG h", 0},
    {"PFDEBUG ENCODING, DECODE", "PFADD h a", "PFDEBUG ENCODING h;PFDEBUG DECODE h", 0},
    {"PFADD and PFCOUNT in MULTI", "", "MULTI;PFADD h a;PFCOUNT h;PFCOUNT h;EXEC", 0},
};

static const rs_case bitmaps[] = {
    {"SETBIT on missing key", "", "SETBIT b 7 1", 0},
    {"SETBIT 0 on missing key (creates it)", "", "SETBIT b 100 0", 0},
    {"SETBIT that changes a bit", "SETBIT b 7 1", "SETBIT b 6 1", 0},
    {"SETBIT of an unchanged bit (not propagated)", "SETBIT b 7 1", "SETBIT b 7 1;SETBIT b 3 0", 0},
    {"SETBIT that grows the string with 0", "SETBIT b 7 1", "SETBIT b 1000 0", 0},
    {"SETBIT on an int value (raw, unchanged)", "SET n 123", "SETBIT n 0 0", 0},
    {"SETBIT errors", "LPUSH l a", "SETBIT b -1 1;SETBIT b 1 2;SETBIT l 1 1", 0},
    {"GETBIT BITCOUNT BITPOS (reads)", "SETBIT b 7 1", "GETBIT b 7;BITCOUNT b;BITPOS b 1;BITFIELD_RO b GET u8 0", 0},
    {"BITOP", "SET a foo;SET b bar", "BITOP AND d a b;BITOP OR d a b nokey;BITOP XOR d a;BITOP NOT d b", 0},
    {"BITOP with an empty result deletes destkey", "SET d x", "BITOP AND d nokey nokey2", 0},
    {"BITOP with an empty result and no destkey", "", "BITOP OR d nokey", 0},
    {"BITOP over a key with TTL", "SET d x EX 100;SET a foo", "BITOP OR d a", 0},
    {"BITOP errors", "LPUSH l a", "BITOP NOT d a b;BITOP FOO d a;BITOP AND d l", 0},
    {"BITFIELD SET INCRBY", "", "BITFIELD b SET u8 0 200 INCRBY i5 #3 7 GET u4 0", 0},
    {"BITFIELD with only GETs (not propagated)", "SETBIT b 7 1", "BITFIELD b GET u8 0 GET i4 #1", 0},
    {"BITFIELD writing the same values (not propagated)", "BITFIELD b SET u8 0 200", "BITFIELD b SET u8 0 200 INCRBY u8 0 0",
     0},
    {"BITFIELD OVERFLOW FAIL that fails (not propagated)", "BITFIELD b SET u8 0 250",
     "BITFIELD b OVERFLOW FAIL INCRBY u8 0 10", 0},
    {"BITFIELD OVERFLOW FAIL failing on a missing key", "", "BITFIELD b OVERFLOW FAIL SET u2 0 10", 0},
    {"BITFIELD OVERFLOW SAT WRAP", "BITFIELD b SET u8 0 250",
     "BITFIELD b OVERFLOW SAT INCRBY u8 0 10 OVERFLOW WRAP INCRBY u8 0 10", 0},
    {"BITFIELD_RO and BITFIELD errors", "SET b x", "BITFIELD_RO b SET u8 0 1;BITFIELD b SET u64 0 1", 0},
};

static const rs_case geo[] = {
    {"GEOADD (propagates as ZADD)", "", "GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania", 0},
    {"GEOADD CH NX, options kept", "GEOADD g 1 1 a", "geoadd g ch NX 2 2 a 3 3 b", 0},
    {"GEOADD XX CH update", "GEOADD g 1 1 a", "GEOADD g XX CH 2 2 a 3 3 b", 0},
    {"GEOADD unchanged", "GEOADD g 1 1 a", "GEOADD g 1 1 a", 0},
    {"GEOADD XX on missing key", "", "GEOADD g XX 1 1 a", 0},
    {"GEOADD invalid pair", "", "GEOADD g 1 1 a 181 0 b", 0},
    {"GEORADIUS STORE", "GEOADD g 1 1 a 2 2 b", "GEORADIUS g 1 1 500 km STORE d", 0},
    {"GEORADIUS STOREDIST COUNT", "GEOADD g 1 1 a 2 2 b", "GEORADIUS g 1 1 500 km STOREDIST d COUNT 1", 0},
    {"GEORADIUSBYMEMBER STORE", "GEOADD g 1 1 a 2 2 b", "GEORADIUSBYMEMBER g a 500 km STORE d", 0},
    {"GEORADIUS STORE empty, destination exists", "GEOADD g 1 1 a;SET d x", "GEORADIUS g 50 50 1 km STORE d", 0},
    {"GEORADIUS STORE empty, destination missing", "GEOADD g 1 1 a", "GEORADIUS g 50 50 1 km STORE d", 0},
    {"GEORADIUS STORE missing source, destination exists", "SET d x", "GEORADIUS nog 1 1 1 km STORE d", 0},
    {"GEOSEARCHSTORE", "GEOADD g 1 1 a 2 2 b", "GEOSEARCHSTORE d g FROMLONLAT 1 1 BYBOX 400 400 km", 0},
    {"GEOSEARCHSTORE STOREDIST", "GEOADD g 1 1 a 2 2 b", "GEOSEARCHSTORE d g FROMMEMBER a BYRADIUS 1000 km STOREDIST", 0},
    {"GEOSEARCHSTORE empty, destination exists", "GEOADD g 1 1 a;SET d x",
     "GEOSEARCHSTORE d g FROMLONLAT 50 50 BYRADIUS 1 km", 0},
    {"GEOSEARCHSTORE error", "GEOADD g 1 1 a", "GEOSEARCHSTORE d g FROMLONLAT 1 1 BYRADIUS 1 km WITHDIST", 0},
    {"GEOADD in MULTI with GEOSEARCHSTORE", "",
     "MULTI;GEOADD g 1 1 a;GEOSEARCHSTORE d g FROMLONLAT 1 1 BYRADIUS 10 km;EXEC", 0},
    {"reads (GEOPOS GEODIST GEOHASH GEOSEARCH GEORADIUS_RO)", "GEOADD g 1 1 a 2 2 b",
     "GEOPOS g a;GEODIST g a b;GEOHASH g a;GEOSEARCH g FROMMEMBER a BYRADIUS 1 km;GEORADIUS_RO g 1 1 1 km", 0},
};

static const rs_case sorts[] = {
    {"SORT STORE (list)", "RPUSH l 3 1 2", "SORT l STORE dst", 0},
    {"SORT DESC LIMIT STORE", "RPUSH l 3 1 2 5 4", "SORT l DESC LIMIT 1 2 STORE dst", 0},
    {"SORT STORE over a set (sorted ALPHA)", "SADD s c a b 10", "SORT s BY nosort STORE dst", 0},
    {"SORT ALPHA STORE over a sorted set", "ZADD z 1 b 2 a", "SORT z ALPHA STORE dst", 0},
    {"SORT BY pattern GET STORE", "RPUSH l 1 2 3;MSET w_1 3 w_2 2 w_3 1;HSET h_1 f x",
     "SORT l BY w_* GET # GET h_*->f STORE dst", 0},
    {"SORT STORE over an existing key with a TTL", "RPUSH l 1;SET dst v EX 100", "SORT l STORE dst", 0},
    {"SORT STORE empty result, destination exists", "SET dst v", "SORT nokey STORE dst", 0},
    {"SORT STORE empty result, destination missing", "", "SORT nokey STORE dst", 0},
    {"SORT STORE score error (not propagated)", "RPUSH l 1 x;SET dst v", "SORT l STORE dst", 0},
    {"SORT, SORT_RO without STORE (not propagated)", "RPUSH l 2 1", "SORT l;SORT_RO l BY w_* GET #", 0},
    {"SORT STORE onto its own key", "RPUSH l 2 1 3", "SORT l STORE l", 0},
    {"SORT STORE in db 3", "SELECT 3;RPUSH l 2 1", "SORT l BY w_* STORE dst", 0},
    {"MULTI SORT BY pattern STORE EXEC", "RPUSH l 1 2;MSET w_1 2 w_2 1",
     "MULTI;SORT l BY w_* STORE dst;SET x 1;EXEC", 0},
};

static const rs_case streams[] = {
    {"XADD explicit ID", "", "XADD s 1-1 a 1 b 2", 0},
    {"XADD * (the generated ID)", "", "XADD s * a 1", 0},
    {"xadd * lower case", "", "xadd s * a 1", 0},
    {"XADD ms-* (the generated seq)", "XADD s 5-3 a 1", "XADD s 5-* a 1;XADD s 6-* b 2", 0},
    {"XADD error (ID too small)", "XADD s 5-0 a 1", "XADD s 4-0 a 1", 0},
    {"XADD NOMKSTREAM on a missing key", "", "XADD s NOMKSTREAM * a 1", 0},
    {"XADD MAXLEN exact", "XADD s 1-0 a 1;XADD s 2-0 a 1", "XADD s MAXLEN 1 3-0 a 1", 0},
    {"XADD MAXLEN ~ (nothing trimmed, still rewritten)", "XADD s 1-0 a 1", "XADD s MAXLEN ~ 1 2-0 a 1", 0},
    {"XADD MAXLEN ~ trimming whole nodes", "CONFIG SET stream-node-max-entries 2",
     "XADD s 1-0 a 1;XADD s 2-0 a 1;XADD s 3-0 a 1;XADD s 4-0 a 1;XADD s 5-0 a 1;XADD s MAXLEN ~ 2 * a 1;"
     "CONFIG SET stream-node-max-entries 100", 0},
    {"XADD MINID ~ LIMIT", "CONFIG SET stream-node-max-entries 2",
     "XADD s 1-0 a 1;XADD s 2-0 a 1;XADD s 3-0 a 1;XADD s 4-0 a 1;XADD s 5-0 a 1;XADD s MINID ~ 5 LIMIT 2 6-0 a 1;"
     "CONFIG SET stream-node-max-entries 100", 0},
    {"XADD MINID = *", "XADD s 1-0 a 1;XADD s 2-0 a 1", "XADD s MINID = 2 * a 1", 0},
    {"XTRIM MAXLEN exact", "XADD s 1-0 a 1;XADD s 2-0 a 1", "XTRIM s MAXLEN 1", 0},
    {"XTRIM MAXLEN ~", "CONFIG SET stream-node-max-entries 2",
     "XADD s 1-0 a 1;XADD s 2-0 a 1;XADD s 3-0 a 1;XADD s 4-0 a 1;XADD s 5-0 a 1;XTRIM s MAXLEN ~ 2;"
     "CONFIG SET stream-node-max-entries 100", 0},
    {"XTRIM MINID ~ with a tombstone first", "CONFIG SET stream-node-max-entries 2",
     "XADD s 1-0 a 1;XADD s 2-0 a 1;XADD s 3-0 a 1;XADD s 4-0 a 1;XADD s 5-0 a 1;XDEL s 3-0;XTRIM s MINID ~ 4;"
     "CONFIG SET stream-node-max-entries 100", 0},
    {"XTRIM MAXLEN ~ that trims nothing (not propagated)", "XADD s 1-0 a 1", "XTRIM s MAXLEN ~ 0", 0},
    {"XTRIM on a missing key", "", "XTRIM s MAXLEN 0", 0},
    {"XDEL", "XADD s 1-0 a 1;XADD s 2-0 a 1", "XDEL s 1-0 5-0", 0},
    {"XDEL of nothing", "XADD s 1-0 a 1", "XDEL s 5-0", 0},
    {"XSETID ENTRIESADDED MAXDELETEDID", "XADD s 1-0 a 1", "XSETID s 5-0 ENTRIESADDED 3 MAXDELETEDID 2-0", 0},
    {"XSETID error", "XADD s 5-0 a 1", "XSETID s 1-0", 0},
    {"XREAD, XRANGE, XLEN (not propagated)", "XADD s 1-0 a 1", "XREAD STREAMS s 0;XRANGE s - +;XLEN s", 0},
    {"XADD in MULTI", "", "MULTI;XADD s * a 1;XADD s MAXLEN ~ 0 * b 2;EXEC", 0},
    {"RESTORE of a stream", "XADD src 1-0 a 1;XADD src 2-0 b 2", "RESTORE r 0 @dump:src", 0},
};

static const rs_case stream_groups[] = {
    {"XGROUP CREATE, MKSTREAM, ENTRIESREAD", "XADD s 1-0 a 1",
     "XGROUP CREATE s g $;XGROUP CREATE s g2 0 ENTRIESREAD 1;XGROUP CREATE n g $ MKSTREAM;XGROUP CREATE s g 0", 0},
    {"XGROUP SETID, CREATECONSUMER, DELCONSUMER, DESTROY", "XADD s 1-0 a 1;XGROUP CREATE s g 0",
     "XGROUP SETID s g $ ENTRIESREAD 1;XGROUP CREATECONSUMER s g c;XGROUP CREATECONSUMER s g c;"
     "XGROUP DELCONSUMER s g c;XGROUP DELCONSUMER s g c;XGROUP DESTROY s g;XGROUP DESTROY s g", 0},
    {"XREADGROUP > (an XCLAIM per entry)", "XADD s 1-0 a 1;XADD s 2-0 b 2;XGROUP CREATE s g 0",
     "XREADGROUP GROUP g c STREAMS s >;XREADGROUP GROUP g c STREAMS s >", 0},
    {"XREADGROUP COUNT, a second consumer", "XADD s 1-0 a 1;XADD s 2-0 b 2;XADD s 3-0 c 3;XGROUP CREATE s g 0",
     "XREADGROUP GROUP g c COUNT 1 STREAMS s >;XREADGROUP GROUP g d STREAMS s >", 0},
    {"XREADGROUP NOACK (CREATECONSUMER, SETID)", "XADD s 1-0 a 1;XADD s 2-0 b 2;XGROUP CREATE s g 0",
     "XREADGROUP GROUP g c NOACK STREAMS s >;XADD s 3-0 c 3;XREADGROUP GROUP g c NOACK STREAMS s >", 0},
    {"XREADGROUP history (not propagated)", "XADD s 1-0 a 1;XGROUP CREATE s g 0;XREADGROUP GROUP g c STREAMS s >",
     "XREADGROUP GROUP g c STREAMS s 0;XREADGROUP GROUP g d STREAMS s 0", 0},
    {"XREADGROUP two streams, re-delivery after SETID",
     "XADD s 1-0 a 1;XADD t 1-0 b 1;XGROUP CREATE s g 0;XGROUP CREATE t g 0",
     "XREADGROUP GROUP g c STREAMS s t > >;XGROUP SETID s g 0;XREADGROUP GROUP g d STREAMS s >", 0},
    {"XACK", "XADD s 1-0 a 1;XADD s 2-0 b 2;XGROUP CREATE s g 0;XREADGROUP GROUP g c STREAMS s >",
     "XACK s g 1-0 9-0;XACK s g 1-0;XACK s nog 2-0", 0},
    {"XCLAIM TIME RETRYCOUNT, the ID as written",
     "XADD s 1-0 a 1;XADD s 2-0 b 2;XGROUP CREATE s g 0;XREADGROUP GROUP g c STREAMS s >",
     "XCLAIM s g d 0 1 TIME @nowms+0 RETRYCOUNT 5;XCLAIM s g d 0 2-0 IDLE 5000 JUSTID", 0},
    {"XCLAIM of an entry deleted from the stream", "XADD s 1-0 a 1;XADD s 2-0 b 2;XGROUP CREATE s g 0;"
     "XREADGROUP GROUP g c STREAMS s >;XDEL s 1-0", "XCLAIM s g d 0 1-0 2-0 JUSTID", 0},
    {"XCLAIM FORCE LASTID, LASTID alone (SETID)", "XADD s 1-0 a 1;XADD s 2-0 b 2;XGROUP CREATE s g $",
     "XCLAIM s g d 0 1-0 FORCE JUSTID LASTID 1-0;XCLAIM s g d 0 9-0 LASTID 5-0;XCLAIM s g d 3600000 1-0", 0},
    {"XAUTOCLAIM (deleted entries too)",
     "XADD s 1-0 a 1;XADD s 2-0 b 2;XADD s 3-0 c 3;XGROUP CREATE s g 0;XREADGROUP GROUP g c STREAMS s >;XDEL s 2-0",
     "XAUTOCLAIM s g d 0 0 COUNT 2;XAUTOCLAIM s g d 0 0 JUSTID;XAUTOCLAIM s g d 3600000 0", 0},
    {"XREADGROUP and XACK in MULTI", "XADD s 1-0 a 1;XGROUP CREATE s g 0",
     "MULTI;XREADGROUP GROUP g c STREAMS s >;XACK s g 1-0;EXEC", 0},
};

/* ---- tests ---------------------------------------------------------------- */

Test(repl_stream, strings) { RUN_FAMILY("strings", strings); }
Test(repl_stream, expire) { RUN_FAMILY("expire", expires); }
Test(repl_stream, lists_and_blocking) { RUN_FAMILY("lists", lists); }
Test(repl_stream, sets_and_spop) { RUN_FAMILY("sets", sets); }
Test(repl_stream, hashes) { RUN_FAMILY("hashes", hashes); }
Test(repl_stream, zsets) { RUN_FAMILY("zsets", zsets); }
Test(repl_stream, keys_rename_copy_move_restore) { RUN_FAMILY("keys", keys); }
Test(repl_stream, transactions) { RUN_FAMILY("transactions", transactions); }
Test(repl_stream, lock_scripts) { RUN_FAMILY("scripts", scripts); }
Test(repl_stream, expiry_and_eviction) { RUN_FAMILY("expiry", expiry); }
Test(repl_stream, select_and_flush) { RUN_FAMILY("select", select_flush); }
Test(repl_stream, bitmaps) { RUN_FAMILY("bitmaps", bitmaps); }
Test(repl_stream, hyperloglog) { RUN_FAMILY("hll", hll); }
Test(repl_stream, geo) { RUN_FAMILY("geo", geo); }
Test(repl_stream, sort_store) { RUN_FAMILY("sort", sorts); }
Test(repl_stream, streams) { RUN_FAMILY("streams", streams); }
Test(repl_stream, stream_groups) { RUN_FAMILY("stream_groups", stream_groups); }

/* Offsets: after +FULLRESYNC <id> <off>, each byte of the stream (SELECT,
 * MULTI/EXEC, PING included) advances master_repl_offset by one, so once a
 * marker came through, INFO replication's master_repl_offset is <off> plus
 * the bytes read since the RDB; and master_replid is <id>. */
static void check_offsets(side *s)
{
    if (!s->link.psync) {
        cr_log_warn("%s: attached with SYNC, no offset to check", s->label);
        return;
    }
    repl_ops junk = { 0 };
    char err[512];
    redisContext *c = sc_connect_or_fail(&s->srv);
    const char *writes[] = { "SET a 1", "SELECT 3", "SET b 2", "MULTI", "SET c 3", "SET d 4", "EXEC", "DEL nokey" };
    for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) freeReplyObject(sc_cmd_line_or_fail(c, writes[i]));
    redisFree(c);
    cr_assert(drain(s, &junk, err, sizeof err), "%s: %s", s->label, err);
    repl_ops_clear(&junk);
    long long off = sc_info_ll_or_fail(s->marker, "replication", "master_repl_offset");
    cr_expect_eq(off, s->link.offset + s->link.stream_bytes,
                 "%s: master_repl_offset %lld, expected +FULLRESYNC's %lld + %lld stream bytes read", s->label, off,
                 s->link.offset, s->link.stream_bytes);
    redisReply *r = sc_cmd_or_fail(s->marker, "INFO replication");
    char want[128];
    snprintf(want, sizeof want, "master_replid:%s\r\n", s->link.replid);
    cr_expect(r->type == REDIS_REPLY_STRING && strstr(r->str, want), "%s: INFO replication lacks %s", s->label,
              s->link.replid);
    freeReplyObject(r);
}

Test(repl_stream, offsets_match_info_replication)
{
    env_start(&E);
    check_offsets(&E.ref);
    check_offsets(&E.sut);
    env_stop(&E);
}

/* The comparator itself: what the stream must show for a few cases, checked
 * on redis-server alone (so a comparator that sees nothing cannot pass). */
Test(repl_stream, reference_stream_is_what_the_rules_say)
{
    const char *redis = sc_reference_redis_binary();
    if (!redis) cr_skip_test("redis-server not installed");
    memset(&E, 0, sizeof E);
    E.ref.label = "redis-server";
    sc_server_start_bin_or_fail(&E.ref.srv, redis, server_args);
    side_attach(&E.ref);
    struct {
        rs_case k;
        const char *want;
    } checks[] = {
        {{"", "", "SET k v EX 100", 0}, "[SET k v PXAT "},
        {{"", "", "MULTI;SET a 1;SET b 2;EXEC", 0}, "[MULTI]\n[SET a 1]\n[SET b 2]\n[EXEC]\n"},
        {{"", "SADD s a b c", "SPOP s 2", 0}, "[MULTI]\n[SREM s "},
        {{"", "", "SELECT 2;SET a 1", 0}, "[SELECT 2]\n[SET a 1]\n"},
        {{"", "", "DEL nokey", 0}, ""},
    };
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        tok_cache cache = { 0 };
        case_ctx cx = { &E, &cache };
        repl_ops got = { 0 };
        char err[512] = "";
        cr_assert(run_case(&cx, &E.ref, &checks[i].k, &got, err, sizeof err), "%s", err);
        sc_buf b = { 0 };
        for (int j = 0; j < got.n; j++) {
            repl_op_format(&got.v[j], &b);
            sc_buf_append(&b, "\n", 1);
        }
        const char *text = b.data ? b.data : "";
        cr_expect(strncmp(text, checks[i].want, strlen(checks[i].want)) == 0 &&
                      (checks[i].want[0] || !text[0]),
                  "'%s': stream\n%s\nexpected to start with\n%s", checks[i].k.steps, text, checks[i].want);
        sc_buf_free(&b);
        repl_ops_clear(&got);
        tok_cache_free(&cache);
    }
    redisFree(E.ref.marker);
    E.ref.marker = NULL;
    repl_link_close(&E.ref.link);
    sc_server_stop_or_fail(&E.ref.srv);
}

