/*
 * test_cluster_migrate.c - moving a slot by hand, as redis-cli's reshard
 * does it (CLUSTER SETSLOT IMPORTING / MIGRATING, GETKEYSINSLOT, MIGRATE,
 * SETSLOT NODE), on two real slotcache nodes and, side by side, on two real
 * redis-server 7.0 nodes running the same script: every reply is written
 * into a transcript with the node ids and ports replaced by names, and the
 * two transcripts must be equal line for line. The script covers:
 * - SETSLOT's errors in Redis's order (replica check, slot, action, node);
 * - the open-slot markers of CLUSTER NODES on both sides;
 * - routing while the slot moves: a key still here is served, a missing
 *   (or expired) one is ASKed to the target, a multi-key command with some
 *   keys gone gets TRYAGAIN, the target answers MOVED without ASKING and
 *   serves with it, RESTORE-ASKING needs no ASKING;
 * - MIGRATE of some keys, SETSLOT NODE refused while keys are left, then
 *   the slot closed on both sides: MOVED to the new owner, the values there,
 *   the markers gone, and the new owner's claim reaching the old one by
 *   gossip (its configEpoch was bumped).
 * The slotcache transcript is also checked on its own (ASK, TRYAGAIN, the
 * values moved), so the suite still tests slotcache without redis-server
 * installed (skipped then, except under CI=true, where it fails).
 *
 * Keys: "{b}n" hash to slot 3300.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster_proc.h"

#define NODE_TIMEOUT_MS 2000
#define SLOT 3300

TestSuite(cluster_migrate, .fini = sc_cluster_cleanup, .timeout = 180);

typedef struct {
    sc_cluster *cl;
    char id[2][41];
    char port[2][16];
    char *text; /* the transcript */
    size_t len, cap;
} script;

static void append(script *s, const char *line) {
    size_t n = strlen(line);
    if (s->len + n + 2 > s->cap) {
        s->cap = (s->len + n + 2) * 2;
        s->text = realloc(s->text, s->cap);
        cr_assert(s->text);
    }
    memcpy(s->text + s->len, line, n);
    s->len += n;
    s->text[s->len++] = '\n';
    s->text[s->len] = '\0';
}

/* Replace every occurrence of `from` in buf (in place, room for len) by `to`. */
static void replace_all(char *buf, size_t room, const char *from, const char *to) {
    size_t fl = strlen(from), tl = strlen(to);
    if (!fl) return;
    for (char *p = strstr(buf, from); p; p = strstr(p + tl, from)) {
        size_t rest = strlen(p + fl);
        if ((size_t)(p - buf) + tl + rest + 1 > room) return;
        memmove(p + tl, p + fl, rest + 1);
        memcpy(p, to, tl);
    }
}

/* A reply as one line: status/error/bulk text, integers, nil, arrays in []. */
static void describe(const redisReply *r, char *out, size_t room) {
    size_t n = strlen(out);
    switch (r->type) {
    case REDIS_REPLY_STATUS: snprintf(out + n, room - n, "+%s", r->str); break;
    case REDIS_REPLY_ERROR: snprintf(out + n, room - n, "-%s", r->str); break;
    case REDIS_REPLY_STRING: snprintf(out + n, room - n, "\"%.*s\"", (int)r->len, r->str); break;
    case REDIS_REPLY_INTEGER: snprintf(out + n, room - n, ":%lld", r->integer); break;
    case REDIS_REPLY_NIL: snprintf(out + n, room - n, "(nil)"); break;
    case REDIS_REPLY_ARRAY:
        snprintf(out + n, room - n, "[");
        for (size_t i = 0; i < r->elements; i++) {
            if (i) strncat(out, " ", room - strlen(out) - 1);
            describe(r->element[i], out, room);
        }
        strncat(out, "]", room - strlen(out) - 1);
        break;
    default: snprintf(out + n, room - n, "?%d", r->type); break;
    }
}

static void normalize(script *s, char *line, size_t room) {
    replace_all(line, room, s->id[0], "<A>");
    replace_all(line, room, s->id[1], "<B>");
    replace_all(line, room, s->port[0], "<pA>");
    replace_all(line, room, s->port[1], "<pB>");
}

/* Run argv[0..argc) on node i (A = 0, B = 1) and add "A> label -> reply"
 * to the transcript; returns the normalized reply text (static buffer). */
static const char *run_argv(script *s, int i, const char *label, int argc, const char **argv, const size_t *lens) {
    redisContext *x = sc_cluster_ctx_or_fail(s->cl, i);
    redisReply *r = redisCommandArgv(x, argc, argv, lens);
    cr_assert(r, "node %d: %s: the connection broke", i, label);
    static char line[4096];
    snprintf(line, sizeof line, "%c> %s -> ", i ? 'B' : 'A', label);
    size_t head = strlen(line);
    describe(r, line, sizeof line);
    freeReplyObject(r);
    normalize(s, line, sizeof line);
    append(s, line);
    return line + head;
}

/* The same for a command line: words split on spaces, "" an empty word;
 * <A>, <B>, <pA>, <pB> stand for the nodes' ids and ports. */
static const char *run(script *s, int i, const char *fmt, ...) {
    char cmd[512], real[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    snprintf(real, sizeof real, "%s", cmd);
    replace_all(real, sizeof real, "<A>", s->id[0]);
    replace_all(real, sizeof real, "<B>", s->id[1]);
    replace_all(real, sizeof real, "<pA>", s->port[0]);
    replace_all(real, sizeof real, "<pB>", s->port[1]);
    const char *argv[32];
    size_t lens[32];
    int argc = 0;
    for (char *w = strtok(real, " "); w && argc < 32; w = strtok(NULL, " ")) {
        if (!strcmp(w, "\"\"")) w[0] = '\0';
        argv[argc] = w;
        lens[argc++] = strlen(w);
    }
    return run_argv(s, i, cmd, argc, argv, lens);
}

/* The line of node `id` in a CLUSTER NODES text (the one that starts with
 * it, not a marker that names it). */
static const char *line_of(const char *nodes, const char *id) {
    size_t n = strlen(id);
    for (const char *l = nodes; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (!strncmp(l, id, n)) return l;
    return NULL;
}

/* The open-slot markers and slot ranges of node i's CLUSTER NODES, in
 * node order A, B (normalized), as one transcript line. */
static void nodes_view(script *s, int i) {
    redisReply *r = sc_cluster_cmd_or_fail(s->cl, i, "CLUSTER NODES");
    char line[1024];
    snprintf(line, sizeof line, "%c> CLUSTER NODES slots:", i ? 'B' : 'A');
    for (int who = 0; who < 2; who++) {
        const char *l = line_of(r->str, s->id[who]);
        cr_assert(l, "node %d does not list node %d", i, who);
        /* Fields 9 onwards: slots and markers. */
        const char *p = l;
        for (int f = 0; f < 8 && p; f++) {
            p = strchr(p, ' ');
            if (p) p++;
        }
        const char *end = strchr(l, '\n');
        size_t n = strlen(line);
        snprintf(line + n, sizeof line - n, " %s={%.*s}", who ? "B" : "A", p && p < end ? (int)(end - p) : 0,
                 p && p < end ? p : "");
    }
    freeReplyObject(r);
    normalize(s, line, sizeof line);
    append(s, line);
}

/* Node i lists B as the owner of SLOT (B's claim arrived by gossip). */
static bool b_owns_slot_at(sc_cluster *cl, void *arg) {
    script *s = arg;
    redisReply *r = sc_cluster_cmd(cl, 0, "CLUSTER NODES");
    bool ok = false;
    if (r && r->str) {
        const char *l = line_of(r->str, s->id[1]);
        const char *end = l ? strchr(l, '\n') : NULL;
        char want[16];
        snprintf(want, sizeof want, " %d", SLOT);
        const char *hit = l ? strstr(l, want) : NULL;
        ok = hit && hit < end;
    }
    if (r) freeReplyObject(r);
    return ok;
}

/* The script, on a cluster of two masters: A owns every slot, B none. */
static void run_script(sc_cluster *cl, script *s) {
    memset(s, 0, sizeof *s);
    s->cl = cl;
    for (int i = 0; i < 2; i++) {
        sc_cluster_myid_or_fail(cl, i, s->id[i]);
        snprintf(s->port[i], sizeof s->port[i], "%d", sc_cluster_port(cl, i));
    }

    /* SETSLOT's errors. */
    run(s, 1, "CLUSTER SETSLOT %d MIGRATING <A>", SLOT);
    run(s, 0, "CLUSTER SETSLOT %d IMPORTING <B>", SLOT);
    run(s, 0, "CLUSTER SETSLOT %d MIGRATING 0123456789012345678901234567890123456789", SLOT);
    run(s, 1, "CLUSTER SETSLOT %d IMPORTING 0123456789012345678901234567890123456789", SLOT);
    run(s, 0, "CLUSTER SETSLOT %d NODE 0123456789012345678901234567890123456789", SLOT);
    run(s, 0, "CLUSTER SETSLOT %d FOO <B>", SLOT);
    run(s, 0, "CLUSTER SETSLOT %d MIGRATING", SLOT);
    run(s, 0, "CLUSTER SETSLOT %d STABLE extra", SLOT);
    run(s, 0, "CLUSTER SETSLOT 16384 STABLE");
    run(s, 0, "CLUSTER SETSLOT -1 STABLE");
    run(s, 0, "CLUSTER SETSLOT abc STABLE");
    run(s, 0, "CLUSTER SETSLOT %d", SLOT);

    /* Keys of the slot, one about to expire: active expiry off, so it stays
     * in the table (counted by COUNTKEYSINSLOT) until a lookup meets it, on
     * both servers alike. */
    run(s, 0, "DEBUG SET-ACTIVE-EXPIRE 0");
    run(s, 1, "DEBUG SET-ACTIVE-EXPIRE 0");
    run(s, 0, "SET {b}1 v1");
    run(s, 0, "SET {b}2 v2");
    run(s, 0, "RPUSH {b}3 x y z");
    run(s, 0, "HSET {b}4 f v");
    run(s, 0, "SET {b}5 gone PX 1");
    usleep(3000); /* {b}5's millisecond passes */

    /* Open the slot on both sides. */
    run(s, 1, "CLUSTER SETSLOT %d IMPORTING <A>", SLOT);
    run(s, 0, "CLUSTER SETSLOT %d MIGRATING <B>", SLOT);
    nodes_view(s, 0);
    nodes_view(s, 1);
    run(s, 0, "CLUSTER COUNTKEYSINSLOT %d", SLOT);

    /* Routing while it moves. */
    run(s, 0, "GET {b}1");
    run(s, 0, "GET {b}9");
    run(s, 0, "GET {b}5"); /* expired: missing */
    run(s, 0, "SET {b}9 x");
    run(s, 0, "MGET {b}1 {b}2");
    run(s, 0, "MGET {b}1 {b}9");
    run(s, 0, "EXISTS {b}9");
    run(s, 1, "GET {b}1");
    run(s, 1, "GET {b}9");
    run(s, 1, "ASKING");
    run(s, 1, "GET {b}9");
    run(s, 1, "GET {b}9"); /* ASKING lasted one command */
    run(s, 1, "ASKING");
    run(s, 1, "MGET {b}8 {b}9");
    run(s, 1, "ASKING");
    run(s, 1, "SET {b}9 created-on-target");
    run(s, 0, "GET {b}9"); /* exists on the target now: still ASK here */

    /* RESTORE-ASKING needs no ASKING on the importing side. */
    redisContext *a = sc_cluster_ctx_or_fail(cl, 0);
    redisReply *dump = redisCommand(a, "DUMP {b}2");
    cr_assert(dump && dump->type == REDIS_REPLY_STRING, "DUMP {b}2: type %d", dump ? dump->type : -1);
    const char *rargv[] = {"RESTORE-ASKING", "{b}7", "0", dump->str};
    size_t rlens[] = {14, 4, 1, dump->len};
    run_argv(s, 1, "RESTORE-ASKING {b}7 0 <payload of {b}2>", 4, rargv, rlens);
    const char *pargv[] = {"RESTORE", "{b}6", "0", dump->str};
    size_t plens[] = {7, 4, 1, dump->len};
    run_argv(s, 1, "RESTORE {b}6 0 <payload of {b}2>", 4, pargv, plens);
    freeReplyObject(dump);

    /* Move some keys: the source serves MIGRATE in the open slot. */
    run(s, 0, "CLUSTER GETKEYSINSLOT %d 0", SLOT);
    run(s, 0, "MIGRATE 127.0.0.1 <pB> {b}1 0 5000");
    run(s, 0, "GET {b}1");
    run(s, 1, "ASKING");
    run(s, 1, "GET {b}1");
    run(s, 0, "MIGRATE 127.0.0.1 <pB> {b}1 0 5000");
    run(s, 0, "CLUSTER SETSLOT %d NODE <B>", SLOT);
    run(s, 0, "MIGRATE 127.0.0.1 <pB> \"\" 0 5000 KEYS {b}2 {b}3 {b}4 {b}5");
    run(s, 0, "CLUSTER COUNTKEYSINSLOT %d", SLOT);
    run(s, 0, "CLUSTER GETKEYSINSLOT %d 10", SLOT);
    run(s, 1, "CLUSTER COUNTKEYSINSLOT %d", SLOT);

    /* Close it: target first, then source, as redis-cli does. */
    run(s, 1, "CLUSTER SETSLOT %d NODE <B>", SLOT);
    run(s, 0, "CLUSTER SETSLOT %d NODE <B>", SLOT);
    nodes_view(s, 0);
    nodes_view(s, 1);
    run(s, 0, "GET {b}1");
    run(s, 1, "GET {b}1");
    run(s, 1, "LRANGE {b}3 0 -1");
    run(s, 1, "HGETALL {b}4");
    run(s, 1, "GET {b}7");
    run(s, 1, "EXISTS {b}5");
    run(s, 0, "CLUSTER SETSLOT %d STABLE", SLOT);
    run(s, 0, "CLUSTER SETSLOT %d MIGRATING <B>", SLOT);
    run(s, 0, "CLUSTER SETSLOT %d IMPORTING <B>", SLOT);
    run(s, 0, "CLUSTER SETSLOT %d STABLE", SLOT);
    run(s, 1, "CLUSTER SETSLOT %d IMPORTING <A>", SLOT);
    if (!sc_cluster_wait_for(cl, b_owns_slot_at, s, 20000)) {
        sc_cluster_log_views(cl);
        cr_assert_fail("node A never learned that B owns slot %d", SLOT);
    }
    append(s, "A learned B's claim by gossip");
}

static void start_pair(sc_cluster *cl, const char *bin) {
    static const char *const extra[] = {"--enable-debug-command", "yes", NULL}; /* redis-server's DEBUG */
    sc_cluster_opts o = {.node_timeout_ms = NODE_TIMEOUT_MS, .bin = {bin, bin}, .extra_args = extra};
    sc_cluster_start_or_fail(cl, 2, &o);
    sc_cluster_addslots_split_or_fail(cl, 1);
    sc_cluster_meet_or_fail(cl);
    sc_cluster_wait_converged_or_fail(cl, 20000);
}

static bool has_line(const script *s, const char *line) {
    char want[512];
    snprintf(want, sizeof want, "%s\n", line);
    return strstr(s->text, want) != NULL;
}

static sc_cluster scc, refc;

Test(cluster_migrate, manual_slot_move_matches_redis) {
    script sc, ref;
    start_pair(&scc, NULL);
    run_script(&scc, &sc);
    sc_cluster_stop_or_fail(&scc);

    /* slotcache on its own: the migration's answers. */
    const char *want[] = {
        "B> CLUSTER SETSLOT 3300 MIGRATING <A> -> -ERR I'm not the owner of hash slot 3300",
        "A> CLUSTER SETSLOT 3300 NODE 0123456789012345678901234567890123456789 -> -ERR Unknown node "
        "0123456789012345678901234567890123456789",
        "A> CLUSTER NODES slots: A={0-16383 [3300->-<B>]} B={}",
        "B> CLUSTER NODES slots: A={0-16383} B={[3300-<-<A>]}",
        "A> GET {b}9 -> -ASK 3300 127.0.0.1:<pB>",
        "A> GET {b}5 -> -ASK 3300 127.0.0.1:<pB>",
        "A> MGET {b}1 {b}9 -> -TRYAGAIN Multiple keys request during rehashing of slot",
        "B> GET {b}1 -> -MOVED 3300 127.0.0.1:<pA>",
        "B> MGET {b}8 {b}9 -> -TRYAGAIN Multiple keys request during rehashing of slot",
        "B> RESTORE-ASKING {b}7 0 <payload of {b}2> -> +OK",
        "A> MIGRATE 127.0.0.1 <pB> {b}1 0 5000 -> +OK",
        "A> MIGRATE 127.0.0.1 <pB> {b}1 0 5000 -> +NOKEY",
        "A> CLUSTER SETSLOT 3300 NODE <B> -> -ERR Can't assign hashslot 3300 to a different node while I still "
        "hold keys for this hash slot.",
        "A> CLUSTER COUNTKEYSINSLOT 3300 -> :0",
        "A> GET {b}1 -> -MOVED 3300 127.0.0.1:<pB>",
        "B> GET {b}1 -> \"v1\"",
        "B> LRANGE {b}3 0 -1 -> [\"x\" \"y\" \"z\"]",
        "A> CLUSTER NODES slots: A={0-3299 3301-16383} B={3300}",
    };
    bool all = true;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!has_line(&sc, want[i])) {
            cr_log_error("slotcache's transcript lacks: %s", want[i]);
            all = false;
        }
    cr_assert(all, "slotcache's transcript:\n%s", sc.text);

    const char *redis = sc_cluster_redis_or_skip();
    start_pair(&refc, redis);
    run_script(&refc, &ref);
    sc_cluster_stop_or_fail(&refc);

    /* Line for line against redis-server. */
    const char *p = sc.text, *q = ref.text;
    for (int line = 1; *p || *q; line++) {
        const char *pe = strchr(p, '\n'), *qe = strchr(q, '\n');
        size_t pl = pe ? (size_t)(pe - p) : strlen(p), ql = qe ? (size_t)(qe - q) : strlen(q);
        cr_assert(pl == ql && memcmp(p, q, pl) == 0, "line %d differs:\n  slotcache: %.*s\n  redis:     %.*s", line,
                  (int)pl, p, (int)ql, q);
        p += pl + (pe ? 1 : 0);
        q += ql + (qe ? 1 : 0);
    }
    free(sc.text);
    free(ref.text);
}
