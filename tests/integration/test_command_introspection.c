/*
 * test_command_introspection.c - COMMAND, COMMAND COUNT / LIST / INFO / DOCS
 * / GETKEYS / GETKEYSANDFLAGS of slotcache against the reference
 * redis-server 7.0, byte for byte, on raw sockets (RESP2 and RESP3).
 *
 * Both servers run side by side. Every command and subcommand slotcache
 * lists must be one Redis 7.0 has (except slotcache's own DELIFEQ, DELEX,
 * DIGEST, CAS and CAD, which only get sanity checks, and CLUSTER MYSHARDID,
 * Redis 7.2's, which is left out of the comparison), and its COMMAND INFO
 * and COMMAND DOCS replies must equal Redis's. Redis lists subcommands in
 * hash order and slotcache has only some of them, so the subcommand part
 * of a container is compared entry by entry: each of slotcache's entries
 * must equal one of Redis's. GETKEYS and GETKEYSANDFLAGS run every sample
 * invocation of tests/support/command_samples.h (one for every command that
 * takes keys, plus error and edge cases).
 *
 * Skipped when there is no redis-server 7.0.x ($REDIS_SERVER, else PATH),
 * and when the harness runs redis-server in slotcache's place.
 */
#include "server_proc.h"

#include "command_samples.h"

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define IO_MS 10000
#define MAX_WORDS 32
#define MAX_NAMES 1024

/* Commands slotcache has and Redis 7.0 does not. */
static const char *const slotcache_only[] = {"delifeq", "delex", "digest", "cas", "cad"};

static bool is_slotcache_only(const char *name) {
    for (size_t i = 0; i < sizeof slotcache_only / sizeof slotcache_only[0]; i++)
        if (strcasecmp(name, slotcache_only[i]) == 0) return true;
    return false;
}

/* Subcommands of Redis versions after 7.0 that slotcache has (the issues
 * ask for them): not compared with redis-server 7.0, which lacks them. */
static const char *const after_70[] = {"cluster|myshardid",         "cluster|migrateslots", "cluster|getslotmigrations",
                                       "cluster|cancelslotmigrations", "cluster|syncslots"};

static bool is_after_70(const char *name) {
    for (size_t i = 0; i < sizeof after_70 / sizeof after_70[0]; i++)
        if (strcasecmp(name, after_70[i]) == 0) return true;
    return false;
}

/* ------------------------------------------------------------ connections */

typedef struct peer {
    const char *what; /* "slotcache" / "redis-server" */
    sc_server srv;
    int fd;
    sc_reader rd;
} peer;

static peer sc, ref;

static void peer_connect(peer *p, int resp) {
    p->fd = sc_raw_connect_or_fail(p->srv.port);
    sc_reader_init(&p->rd, p->fd);
    if (resp == 3) {
        sc_raw_send_line_or_fail(p->fd, "HELLO 3");
        char *r;
        cr_assert(sc_reader_next(&p->rd, &r, NULL, IO_MS), "%s: no HELLO reply", p->what);
        cr_assert_eq(r[0], '%', "%s: HELLO 3 answered %s", p->what, r);
        free(r);
    }
}

static void peer_close(peer *p) {
    sc_reader_free(&p->rd);
    close(p->fd);
}

/* Raw reply bytes of argv on p (caller frees). */
static char *call_argv(peer *p, int argc, const char *const *argv, const size_t *lens, size_t *len) {
    sc_buf b = {0};
    sc_resp_command(&b, argc, argv, lens);
    cr_assert(sc_raw_send(p->fd, b.data, b.len, IO_MS), "%s: send failed", p->what);
    sc_buf_free(&b);
    char *r;
    cr_assert(sc_reader_next(&p->rd, &r, len, IO_MS), "%s: no reply to %s %s", p->what, argv[0],
              argc > 1 ? argv[1] : "");
    return r;
}

/* Raw reply of a sample-syntax line (see command_samples.h), after `prefix`
 * words (may be NULL). */
static char *call_line(peer *p, const char *prefix, const char *line, size_t *len) {
    char buf[1024], pbuf[128];
    const char *words[MAX_WORDS];
    size_t lens[MAX_WORDS];
    int n = prefix ? command_sample_split(prefix, pbuf, words, lens, MAX_WORDS) : 0;
    n += command_sample_split(line, buf, words + n, lens + n, MAX_WORDS - n);
    return call_argv(p, n, words, lens, len);
}

/* Start both servers; false (after logging) when there is no usable
 * redis-server 7.0 to compare with. */
static bool start_pair(void) {
    const char *bin = sc_reference_redis_binary();
    if (!bin) return false;
    sc.what = "slotcache";
    ref.what = "redis-server";
    sc_server_start_bin_or_fail(&ref.srv, bin, NULL);
    redisContext *c = sc_connect_or_fail(&ref.srv);
    redisReply *r = sc_cmd_or_fail(c, "INFO server");
    bool v70 = r->type == REDIS_REPLY_STRING && strstr(r->str, "redis_version:7.0.") != NULL;
    freeReplyObject(r);
    redisFree(c);
    if (!v70) {
        sc_server_stop_or_fail(&ref.srv);
        return false;
    }
    sc_server_start_or_fail(&sc.srv, NULL);
    return true;
}

static void stop_pair(void) {
    sc_server_stop_or_fail(&sc.srv);
    sc_server_stop_or_fail(&ref.srv);
}

#define START_OR_SKIP()                                                                                    \
    do {                                                                                                   \
        if (sc_server_binary_is_redis()) cr_skip_test("compares slotcache with redis-server: not run against " \
                                                      "redis-server itself (SLOTCACHE_SERVER)");           \
        if (!start_pair()) cr_skip_test("no redis-server 7.0 to compare with ($REDIS_SERVER or PATH)");    \
    } while (0)

static void fini(void) { sc_server_cleanup(); }

TestSuite(command_introspection, .fini = fini, .timeout = 300);

/* ------------------------------------------------------------ raw RESP */

/* Printable form of RESP bytes for failure messages (static buffer). */
static const char *show(const char *p, size_t n) {
    static char out[2][1600];
    static int which;
    char *o = out[which ^= 1];
    size_t k = 0;
    for (size_t i = 0; i < n && k < sizeof out[0] - 8; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch == '\r') {
            o[k++] = '\\', o[k++] = 'r';
        } else if (ch == '\n') {
            o[k++] = '\\', o[k++] = 'n';
        } else if (ch < 32 || ch > 126) {
            k += (size_t)snprintf(o + k, 8, "\\x%02x", ch);
        } else {
            o[k++] = (char)ch;
        }
    }
    if (k >= sizeof out[0] - 8) memcpy(o + k, "...", 4), k += 3;
    o[k] = '\0';
    return o;
}

/* One RESP frame inside a reply. */
typedef struct frame {
    const char *p;
    size_t n;
} frame;

/* The elements of the aggregate frame f (a map gives key, value, key,
 * value...) into kids (at most max); returns their count, -1 if f is not
 * an aggregate. */
static int children(frame f, frame *kids, int max) {
    if (!strchr("*~%>", f.p[0])) return -1;
    long count = strtol(f.p + 1, NULL, 10);
    if (count < 0) return -1;
    if (f.p[0] == '%') count *= 2;
    const char *q = strstr(f.p, "\r\n") + 2;
    const char *end = f.p + f.n;
    int k = 0;
    for (long i = 0; i < count; i++) {
        long len = sc_resp_frame_len(q, (size_t)(end - q));
        cr_assert_gt(len, 0, "malformed reply %s", show(f.p, f.n));
        cr_assert_lt(k, max, "more than %d elements in %s", max, show(f.p, f.n));
        kids[k++] = (frame){q, (size_t)len};
        q += len;
    }
    return k;
}

static bool frame_eq(frame a, frame b) { return a.n == b.n && memcmp(a.p, b.p, a.n) == 0; }

static bool frame_is_null(frame f) {
    return (f.n == 5 && memcmp(f.p, "$-1\r\n", 5) == 0) || (f.n == 5 && memcmp(f.p, "*-1\r\n", 5) == 0) ||
           (f.n == 3 && memcmp(f.p, "_\r\n", 3) == 0);
}

/* The text of a bulk/status frame, NUL-terminated into buf. */
static const char *frame_text(frame f, char *buf, size_t size) {
    const char *s = strstr(f.p, "\r\n") + 2;
    size_t n = f.p[0] == '$' ? (size_t)strtol(f.p + 1, NULL, 10) : (size_t)(s - 2 - (f.p + 1));
    if (f.p[0] != '$') s = f.p + 1;
    if (n >= size) n = size - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}

/* Each element of `ours` equals some element of `theirs` (pairs for maps,
 * compared as key+value). */
static void expect_entries_within(const char *what, frame ours, frame theirs) {
    static frame a[2 * MAX_NAMES], b[2 * MAX_NAMES];
    int na = children(ours, a, 2 * MAX_NAMES), nb = children(theirs, b, 2 * MAX_NAMES);
    cr_assert(na >= 0 && nb >= 0, "%s: not aggregates: %s / %s", what, show(ours.p, ours.n), show(theirs.p, theirs.n));
    int step = ours.p[0] == '%' ? 2 : 1;
    for (int i = 0; i < na; i += step) {
        /* The entry's name: the map's key (DOCS), or the array's first
         * element (INFO). */
        frame name = a[i];
        if (step == 1 && strchr("*~", a[i].p[0])) {
            const char *q = strstr(a[i].p, "\r\n") + 2;
            name = (frame){q, (size_t)sc_resp_frame_len(q, a[i].n - (size_t)(q - a[i].p))};
        }
        char buf[64];
        if (is_after_70(frame_text(name, buf, sizeof buf))) {
            if (step == 1 && a[i].p[0] == '$') i++; /* a RESP2 map's key: its value too */
            continue;
        }
        bool found = false;
        for (int j = 0; j < nb && !found; j += step)
            found = frame_eq(a[i], b[j]) && (step == 1 || frame_eq(a[i + 1], b[j + 1]));
        cr_assert(found, "%s: slotcache's entry %s is not one of redis-server's", what,
                  show(a[i].p, step == 2 ? a[i].n + a[i + 1].n : a[i].n));
    }
}

/* ------------------------------------------------------------ names */

/* Every command and subcommand slotcache lists (COMMAND LIST), as text. */
static int slotcache_names(char names[][64], int max) {
    size_t len;
    char *r = call_line(&sc, NULL, "COMMAND LIST", &len);
    static frame kids[MAX_NAMES];
    int n = children((frame){r, len}, kids, MAX_NAMES);
    cr_assert(n > 0 && n <= max, "COMMAND LIST: %s", show(r, len));
    for (int i = 0; i < n; i++) frame_text(kids[i], names[i], 64);
    free(r);
    return n;
}

static bool redis_has(const char *name) {
    size_t len;
    char *r = call_line(&ref, "COMMAND INFO", name, &len);
    frame one;
    cr_assert_eq(children((frame){r, len}, &one, 1), 1);
    bool has = !frame_is_null(one);
    free(r);
    return has;
}

/* ------------------------------------------------------------ INFO / DOCS */

/* COMMAND INFO <name> on both servers: fields 1-9 equal, and each
 * subcommand entry of slotcache's equal to one of Redis's. */
static void compare_info(const char *name) {
    size_t la, lb;
    char *a = call_line(&sc, "COMMAND INFO", name, &la), *b = call_line(&ref, "COMMAND INFO", name, &lb);
    frame ea, eb, fa[10], fb[10];
    children((frame){a, la}, &ea, 1);
    children((frame){b, lb}, &eb, 1);
    cr_assert_eq(children(ea, fa, 10), 10, "%s: slotcache's COMMAND INFO: %s", name, show(a, la));
    cr_assert_eq(children(eb, fb, 10), 10, "%s: redis-server's COMMAND INFO: %s", name, show(b, lb));
    static const char *const field[] = {"name", "arity", "flags", "first key", "last key", "step",
                                        "ACL categories", "tips", "key specs"};
    for (int i = 0; i < 9; i++)
        cr_assert(frame_eq(fa[i], fb[i]), "COMMAND INFO %s, %s:\n  slotcache    %s\n  redis-server %s", name,
                  field[i], show(fa[i].p, fa[i].n), show(fb[i].p, fb[i].n));
    if (frame_eq(fa[9], fb[9]) == false) {
        char what[128];
        snprintf(what, sizeof what, "COMMAND INFO %s, subcommands", name);
        cr_assert_eq(fa[9].p[0], fb[9].p[0], "%s: %s vs %s", what, show(fa[9].p, 8), show(fb[9].p, 8));
        expect_entries_within(what, fa[9], fb[9]);
    }
    free(a);
    free(b);
}

/* COMMAND DOCS <name> on both servers: the same fields, equal, except that
 * slotcache's subcommands are each one of Redis's. */
static void compare_docs(const char *name) {
    size_t la, lb;
    char *a = call_line(&sc, "COMMAND DOCS", name, &la), *b = call_line(&ref, "COMMAND DOCS", name, &lb);
    if (la == lb && memcmp(a, b, la) == 0) {
        free(a);
        free(b);
        return;
    }
    frame pa[2], pb[2], fa[24], fb[24];
    cr_assert_eq(children((frame){a, la}, pa, 2), 2, "%s: slotcache's COMMAND DOCS: %s", name, show(a, la));
    cr_assert_eq(children((frame){b, lb}, pb, 2), 2, "%s: redis-server's COMMAND DOCS: %s", name, show(b, lb));
    cr_assert(frame_eq(pa[0], pb[0]), "COMMAND DOCS %s: name %s", name, show(pa[0].p, pa[0].n));
    int na = children(pa[1], fa, 24), nb = children(pb[1], fb, 24);
    cr_assert_eq(na, nb, "COMMAND DOCS %s has %d fields in slotcache, %d in redis-server:\n  %s\n  %s", name, na / 2,
                 nb / 2, show(a, la), show(b, lb));
    for (int i = 0; i < na; i += 2) {
        char key[64];
        frame_text(fa[i], key, sizeof key);
        cr_assert(frame_eq(fa[i], fb[i]), "COMMAND DOCS %s: field %d is %s, redis-server has %s", name, i / 2, key,
                  show(fb[i].p, fb[i].n));
        if (strcmp(key, "subcommands") == 0) {
            char what[128];
            snprintf(what, sizeof what, "COMMAND DOCS %s, subcommands", name);
            expect_entries_within(what, fa[i + 1], fb[i + 1]);
        } else {
            cr_assert(frame_eq(fa[i + 1], fb[i + 1]), "COMMAND DOCS %s, %s:\n  slotcache    %s\n  redis-server %s",
                      name, key, show(fa[i + 1].p, fa[i + 1].n), show(fb[i + 1].p, fb[i + 1].n));
        }
    }
    free(a);
    free(b);
}

/* A slotcache-only command: a sensible INFO (10 fields, its own name) and
 * DOCS (a map with a summary). */
static void check_own_command(const char *name) {
    size_t len;
    char *r = call_line(&sc, "COMMAND INFO", name, &len);
    frame e, f[10];
    children((frame){r, len}, &e, 1);
    cr_assert_eq(children(e, f, 10), 10, "COMMAND INFO %s: %s", name, show(r, len));
    char buf[64];
    cr_assert_str_eq(frame_text(f[0], buf, sizeof buf), name);
    cr_assert_neq(f[8].p[1], '0', "COMMAND INFO %s has no key specs: %s", name, show(r, len));
    free(r);
    r = call_line(&sc, "COMMAND DOCS", name, &len);
    cr_assert(strstr(r, "summary") && strstr(r, "arguments"), "COMMAND DOCS %s: %s", name, show(r, len));
    free(r);
}

static void compare_all_info_and_docs(int resp) {
    static char names[MAX_NAMES][64];
    peer_connect(&sc, resp);
    peer_connect(&ref, resp);
    int n = slotcache_names(names, MAX_NAMES);
    for (int i = 0; i < n; i++) {
        if (!redis_has(names[i]) && is_after_70(names[i])) continue; /* in the parent's entry */
        if (!redis_has(names[i])) {
            cr_assert(is_slotcache_only(names[i]), "slotcache lists %s, which redis-server 7.0 does not have",
                      names[i]);
            check_own_command(names[i]);
            continue;
        }
        compare_info(names[i]);
        compare_docs(names[i]);
    }
    peer_close(&sc);
    peer_close(&ref);
}

Test(command_introspection, info_and_docs_match_redis_resp2) {
    START_OR_SKIP();
    compare_all_info_and_docs(2);
    stop_pair();
}

Test(command_introspection, info_and_docs_match_redis_resp3) {
    START_OR_SKIP();
    compare_all_info_and_docs(3);
    stop_pair();
}

/* ------------------------------------------------------------ COMMAND, COUNT, LIST */

static bool name_in(const char *name, char names[][64], int n) {
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0) return true;
    return false;
}

Test(command_introspection, command_count_and_list) {
    START_OR_SKIP();
    peer_connect(&sc, 2);
    peer_connect(&ref, 2);
    static char names[MAX_NAMES][64];
    int n = slotcache_names(names, MAX_NAMES);

    /* COMMAND and COMMAND INFO without names: every top-level command once,
     * each entry equal to COMMAND INFO <name>; COUNT is their number. */
    size_t lc, li;
    char *all = call_line(&sc, NULL, "COMMAND", &lc), *info = call_line(&sc, NULL, "COMMAND INFO", &li);
    cr_assert(lc == li && memcmp(all, info, lc) == 0, "COMMAND and COMMAND INFO differ");
    static frame entries[MAX_NAMES];
    int top = children((frame){all, lc}, entries, MAX_NAMES);
    for (int i = 0; i < top; i++) {
        frame f[10];
        cr_assert_eq(children(entries[i], f, 10), 10);
        char name[64];
        frame_text(f[0], name, sizeof name);
        cr_assert(!strchr(name, '|') && name_in(name, names, n), "COMMAND lists %s, COMMAND LIST does not", name);
        size_t l1;
        char *one = call_line(&sc, "COMMAND INFO", name, &l1);
        cr_assert(l1 == entries[i].n + 4 && memcmp(one + 4, entries[i].p, entries[i].n) == 0,
                  "COMMAND's entry for %s differs from COMMAND INFO %s", name, name);
        free(one);
    }
    int tops_in_list = 0;
    for (int i = 0; i < n; i++) tops_in_list += strchr(names[i], '|') == NULL;
    cr_assert_eq(top, tops_in_list, "COMMAND has %d entries, COMMAND LIST %d top-level names", top, tops_in_list);
    char want[32];
    snprintf(want, sizeof want, ":%d\r\n", top);
    size_t lcount;
    char *count = call_line(&sc, NULL, "COMMAND COUNT", &lcount);
    cr_assert_str_eq(count, want, "COMMAND COUNT");
    free(count);
    free(all);
    free(info);

    /* COMMAND DOCS without names: one entry per top-level command. */
    char *docs = call_line(&sc, NULL, "COMMAND DOCS", &lc);
    static frame dk[2 * MAX_NAMES];
    cr_assert_eq(children((frame){docs, lc}, dk, 2 * MAX_NAMES), 2 * top, "COMMAND DOCS entries");
    free(docs);

    /* LIST lists every subcommand after its command (as Redis 7.0); the
     * filters select the same names redis-server selects among ours. */
    for (int i = 0; i < n; i++) {
        const char *bar = strchr(names[i], '|');
        if (!bar) continue;
        char parent[64];
        snprintf(parent, sizeof parent, "%.*s", (int)(bar - names[i]), names[i]);
        cr_assert(name_in(parent, names, n), "COMMAND LIST has %s but not %s", names[i], parent);
    }
    static const char *const filters[] = {
        "COMMAND LIST FILTERBY PATTERN client|*", "COMMAND LIST FILTERBY PATTERN *get*",
        "COMMAND LIST FILTERBY ACLCAT dangerous", "COMMAND LIST FILTERBY ACLCAT KEYSPACE",
        "COMMAND LIST FILTERBY ACLCAT nosuchcategory", "COMMAND LIST FILTERBY MODULE nosuchmodule",
    };
    for (size_t f = 0; f < sizeof filters / sizeof filters[0]; f++) {
        size_t la, lb;
        char *a = call_line(&sc, NULL, filters[f], &la), *b = call_line(&ref, NULL, filters[f], &lb);
        static frame ka[MAX_NAMES], kb[MAX_NAMES];
        int na = children((frame){a, la}, ka, MAX_NAMES), nb = children((frame){b, lb}, kb, MAX_NAMES);
        for (int j = 0, all = na; j < all; j++) {
            char name[64];
            na -= is_after_70(frame_text(ka[j], name, sizeof name)); /* redis-server 7.0 has none */
        }
        int expected = 0;
        for (int j = 0; j < nb; j++) {
            char name[64];
            expected += name_in(frame_text(kb[j], name, sizeof name), names, n);
        }
        cr_assert_eq(na, expected, "%s: slotcache lists %d, redis-server %d of slotcache's commands", filters[f], na,
                     expected);
        expect_entries_within(filters[f], (frame){a, la}, (frame){b, lb});
        free(a);
        free(b);
    }
    /* Unknown names, errors and HELP: the same bytes. */
    static const char *const errors[] = {
        "COMMAND LIST FILTERBY", "COMMAND LIST FILTERBY NOPE x", "COMMAND LIST FOO", "COMMAND HELP",
        "COMMAND INFO nosuch get|x config|get|x CONFIG|GET Get", "COMMAND DOCS nosuch get|x CONFIG|get|x",
        "COMMAND NOPE", "COMMAND GETKEYS", "COMMAND GETKEYS get", "COMMAND COUNT x",
    };
    for (size_t e = 0; e < sizeof errors / sizeof errors[0]; e++) {
        size_t la, lb;
        char *a = call_line(&sc, NULL, errors[e], &la), *b = call_line(&ref, NULL, errors[e], &lb);
        cr_assert(la == lb && memcmp(a, b, la) == 0, "%s:\n  slotcache    %s\n  redis-server %s", errors[e],
                  show(a, la), show(b, lb));
        free(a);
        free(b);
    }
    peer_close(&sc);
    peer_close(&ref);
    stop_pair();
}

/* ------------------------------------------------------------ GETKEYS */

static bool sample_is_own(const char *line) {
    char buf[1024];
    const char *w[MAX_WORDS];
    size_t l[MAX_WORDS];
    command_sample_split(line, buf, w, l, MAX_WORDS);
    return is_slotcache_only(w[0]);
}

static void compare_getkeys(const char *line) {
    static const char *const subs[] = {"COMMAND GETKEYS", "COMMAND GETKEYSANDFLAGS"};
    for (int s = 0; s < 2; s++) {
        size_t la, lb;
        char *a = call_line(&sc, subs[s], line, &la);
        if (sample_is_own(line)) { /* Redis has no such command: k1 is the key */
            cr_assert(strstr(a, "$2\r\nk1\r\n") && a[0] == '*', "%s %s: %s", subs[s], line, show(a, la));
        } else {
            char *b = call_line(&ref, subs[s], line, &lb);
            cr_assert(la == lb && memcmp(a, b, la) == 0, "%s %s:\n  slotcache    %s\n  redis-server %s", subs[s],
                      line, show(a, la), show(b, lb));
            free(b);
        }
        free(a);
    }
}

static void compare_all_getkeys(int resp) {
    peer_connect(&sc, resp);
    peer_connect(&ref, resp);
    for (size_t i = 0; i < COMMAND_SAMPLES_COUNT; i++) compare_getkeys(command_samples[i]);
    for (size_t i = 0; i < COMMAND_GETKEYS_EDGE_COUNT; i++) compare_getkeys(command_getkeys_edge_samples[i]);
    peer_close(&sc);
    peer_close(&ref);
}

Test(command_introspection, getkeys_match_redis_resp2) {
    START_OR_SKIP();
    compare_all_getkeys(2);
    stop_pair();
}

Test(command_introspection, getkeys_match_redis_resp3) {
    START_OR_SKIP();
    compare_all_getkeys(3);
    stop_pair();
}

/* The cases the issue names, spelled out. */
Test(command_introspection, getkeys_examples) {
    START_OR_SKIP();
    peer_connect(&sc, 2);
    struct {
        const char *line, *reply;
    } cases[] = {
        {"COMMAND GETKEYS EVAL \"return 1\" 0", "*0\r\n"},
        {"COMMAND GETKEYS EVAL \"return 1\" 2 a b", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
        {"COMMAND GETKEYSANDFLAGS SET a b", "*1\r\n*2\r\n$1\r\na\r\n*2\r\n+OW\r\n+update\r\n"},
        {"COMMAND GETKEYSANDFLAGS ZUNIONSTORE d 2 a b",
         "*3\r\n*2\r\n$1\r\nd\r\n*2\r\n+OW\r\n+update\r\n*2\r\n$1\r\na\r\n*2\r\n+RO\r\n+access\r\n"
         "*2\r\n$1\r\nb\r\n*2\r\n+RO\r\n+access\r\n"},
        {"COMMAND GETKEYS LMPOP 2 a b LEFT", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
        {"COMMAND GETKEYS GET", "-ERR wrong number of arguments for 'command|getkeys' command\r\n"},
        {"COMMAND GETKEYS NOPE a", "-ERR Invalid command specified\r\n"},
        {"COMMAND GETKEYS GET a b", "-ERR Invalid number of arguments specified for command\r\n"},
        {"COMMAND GETKEYS PING a", "-ERR The command has no key arguments\r\n"},
        {"COMMAND GETKEYS ZUNIONSTORE d 0 a", "-ERR Invalid arguments specified for command\r\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len;
        char *r = call_line(&sc, NULL, cases[i].line, &len);
        cr_assert_str_eq(r, cases[i].reply, "%s: %s", cases[i].line, show(r, len));
        free(r);
    }
    peer_close(&sc);
    stop_pair();
}

/* Every command slotcache lists that takes keys (per its own COMMAND INFO:
 * a key spec that is not not_key, or movablekeys) has a sample. */
Test(command_introspection, every_key_command_has_a_sample) {
    START_OR_SKIP();
    peer_connect(&sc, 2);
    static char names[MAX_NAMES][64];
    int n = slotcache_names(names, MAX_NAMES);
    for (int i = 0; i < n; i++) {
        size_t len;
        char *r = call_line(&sc, "COMMAND INFO", names[i], &len);
        /* The access flags RO/RW/OW/RM appear only in key specs that are
         * not not_key. */
        bool takes_keys = strstr(r, "+movablekeys\r\n") || strstr(r, "+RO\r\n") || strstr(r, "+RW\r\n") ||
                          strstr(r, "+OW\r\n") || strstr(r, "+RM\r\n");
        free(r);
        if (!takes_keys) continue;
        char cmd[64], sub[64] = "";
        const char *bar = strchr(names[i], '|');
        snprintf(cmd, sizeof cmd, "%.*s", bar ? (int)(bar - names[i]) : (int)strlen(names[i]), names[i]);
        if (bar) snprintf(sub, sizeof sub, "%s", bar + 1);
        bool found = false;
        for (size_t s = 0; s < COMMAND_SAMPLES_COUNT && !found; s++) {
            char buf[1024];
            const char *w[MAX_WORDS];
            size_t l[MAX_WORDS];
            int argc = command_sample_split(command_samples[s], buf, w, l, MAX_WORDS);
            found = strcasecmp(w[0], cmd) == 0 && (!bar || (argc > 1 && strcasecmp(w[1], sub) == 0));
        }
        cr_assert(found, "%s takes keys but has no sample in tests/support/command_samples.h", names[i]);
    }
    peer_close(&sc);
    stop_pair();
}
