/*
 * cluster_proc.c - multi-node test harness (see cluster_proc.h): parallel
 * start of cluster-enabled nodes on free port pairs, per-node connections and
 * commands, bounded waits on cluster-wide predicates, redis-cli's config
 * signature, and single-node kill / stop / restart.
 *
 * Design choices a reader must know:
 * - Every node is spawned before any is waited for (sc_server_spawn_or_fail,
 *   then sc_server_poll_started round-robin), so N nodes start in about the
 *   time of one.
 * - A node that dies because a port was taken (another test took it between
 *   the harness's probe and the node's bind) is started again on a new pair in
 *   a wiped directory, so it does not reload a nodes.conf written for the old
 *   ports.
 * - Connections are cached per node and dropped whenever the node is killed,
 *   stopped or a command on it fails, so predicates can poll through restarts.
 */
#include "cluster_proc.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/logging.h>

#define PORT_LO 10000
#define PORT_HI 22000
#define START_TIMEOUT_MS 20000
#define START_ATTEMPTS 8
#define CONNECT_TIMEOUT_MS 5000

/* Clusters started and not yet stopped, for sc_cluster_cleanup. */
static sc_cluster *live[8];

static void track_cluster(sc_cluster *c, bool on)
{
    for (size_t i = 0; i < sizeof live / sizeof live[0]; i++) {
        if (on && !live[i]) { live[i] = c; return; }
        if (!on && live[i] == c) { live[i] = NULL; return; }
    }
}

const char *sc_cluster_redis_or_skip(void)
{
    const char *redis = sc_reference_redis_binary();
    if (redis) return redis;
    const char *ci = getenv("CI");
    cr_assert(!ci || strcmp(ci, "true") != 0, "CI=true and no redis-server (sh scripts/deps.sh installs it)");
    cr_skip_test("redis-server not installed");
    return NULL;
}

/* ---- ports ------------------------------------------------------------- */

/* p or its bus port collides with a port or bus port of another node of c. */
static bool clashes(const sc_cluster *c, int self, int p)
{
    for (int j = 0; j < c->n; j++) {
        int q = c->node[j].port;
        if (j == self || q <= 0) continue;
        if (p == q || p == q + SC_CLUSTER_BUS_OFFSET || p + SC_CLUSTER_BUS_OFFSET == q) return true;
    }
    return false;
}

/* A port P in [PORT_LO, PORT_HI) with P and P + 10000 free; fails the test
 * when none is found. */
static int pick_port_pair(const sc_cluster *c, int self)
{
    static unsigned seed;
    if (seed == 0) seed = ((unsigned)getpid() * 2654435761u) ^ (unsigned)sc_now_ms();
    for (int tries = 0; tries < 1000; tries++) {
        int p = PORT_LO + (int)(rand_r(&seed) % (PORT_HI - PORT_LO));
        if (clashes(c, self, p)) continue;
        if (sc_port_free(p) && sc_port_free(p + SC_CLUSTER_BUS_OFFSET)) return p;
    }
    cr_assert_fail("no free port pair P, P+%d in [%d, %d)", SC_CLUSTER_BUS_OFFSET, PORT_LO, PORT_HI);
    return -1;
}

/* ---- start ------------------------------------------------------------- */

/* Append one argument to c->args (copied into c->argbuf). */
static void add_arg(sc_cluster *c, size_t *used, int *argc, const char *a)
{
    size_t len = strlen(a) + 1;
    cr_assert(*argc < (int)(sizeof c->args / sizeof c->args[0]) - 1 && *used + len <= sizeof c->argbuf,
              "too many node arguments");
    memcpy(c->argbuf + *used, a, len);
    c->args[(*argc)++] = c->argbuf + *used;
    c->args[*argc] = NULL;
    *used += len;
}

static void build_args(sc_cluster *c, int n, const sc_cluster_opts *o)
{
    size_t used = 0;
    int argc = 0;
    char timeout[16];
    c->node_timeout_ms = o && o->node_timeout_ms > 0 ? o->node_timeout_ms : SC_CLUSTER_NODE_TIMEOUT_MS;
    /* A sanitized slotcache answers pings late; redis-server does not. */
    bool any_slotcache = false;
    for (int i = 0; i < n; i++) any_slotcache |= !c->node[i].is_redis;
    if (any_slotcache) c->node_timeout_ms = sc_scaled_ms(c->node_timeout_ms);
    snprintf(timeout, sizeof timeout, "%d", c->node_timeout_ms);
    const char *base[] = { "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                           "--cluster-node-timeout", timeout };
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++) add_arg(c, &used, &argc, base[i]);
    for (int i = 0; o && o->extra_args && o->extra_args[i]; i++) add_arg(c, &used, &argc, o->extra_args[i]);
}

/* Node i with a config file: an empty node.conf in its directory and
 * with-conf.sh there, which execs the real binary with that file first;
 * the wrapper becomes the binary the harness runs. */
static void write_config_wrapper(sc_cluster *c, int i)
{
    sc_server *s = &c->node[i];
    char conf[sizeof s->dir + 16], wrapper[sizeof s->dir + 16];
    snprintf(conf, sizeof conf, "%s/node.conf", s->dir);
    snprintf(wrapper, sizeof wrapper, "%s/with-conf.sh", s->dir);
    cr_assert(!strchr(conf, '\'') && !strchr(c->real_bin[i], '\''), "a quote in %s or %s", conf, c->real_bin[i]);
    FILE *f = fopen(conf, "w");
    cr_assert(f != NULL, "create %s: %s", conf, strerror(errno));
    fclose(f);
    f = fopen(wrapper, "w");
    cr_assert(f != NULL, "create %s: %s", wrapper, strerror(errno));
    fprintf(f, "#!/bin/sh\nexec '%s' '%s' \"$@\"\n", c->real_bin[i], conf);
    fclose(f);
    cr_assert(chmod(wrapper, 0755) == 0, "chmod %s: %s", wrapper, strerror(errno));
    snprintf(s->bin, sizeof s->bin, "%s", wrapper);
}

/* Spawn node i on a fresh port pair, in its directory emptied of whatever an
 * earlier attempt left (a nodes.conf naming the old ports). */
static void spawn_node(sc_cluster *c, int i, bool wipe)
{
    sc_server *s = &c->node[i];
    if (wipe) {
        sc_server_remove_dir(s);
        cr_assert(mkdir(s->dir, 0777) == 0, "mkdir %s: %s", s->dir, strerror(errno));
    }
    if (c->config_file[i]) write_config_wrapper(c, i);
    s->port = 0;
    sc_server_spawn_or_fail(s, pick_port_pair(c, i), c->args, false);
}

/* After a node answered PING: a bus port it listens on is its alone. (Today's
 * slotcache has no bus listener yet; then there is nothing to check.) */
static bool bus_port_ok(const sc_server *s)
{
    int bus = s->port + SC_CLUSTER_BUS_OFFSET;
    return !sc_port_listened(bus) || sc_port_owned_by(s->pid, bus);
}

void sc_cluster_start_or_fail(sc_cluster *c, int n, const sc_cluster_opts *opts)
{
    cr_assert(n >= 1 && n <= SC_CLUSTER_MAX, "cluster of %d nodes (1..%d)", n, SC_CLUSTER_MAX);
    memset(c, 0, sizeof *c);
    for (int i = 0; i < n; i++) {
        const char *bin = opts && opts->bin[i] ? opts->bin[i] : sc_server_binary();
        sc_server_prepare_or_fail(&c->node[i], bin, opts ? opts->extra_args : NULL);
        if (opts && opts->config_file[i]) {
            c->config_file[i] = true;
            size_t len = strlen(c->node[i].bin);
            cr_assert(len < sizeof c->real_bin[i], "binary path too long: %s", c->node[i].bin);
            memcpy(c->real_bin[i], c->node[i].bin, len + 1);
        }
    }
    build_args(c, n, opts);
    c->n = n;
    track_cluster(c, true);
    for (int i = 0; i < n; i++) spawn_node(c, i, false);

    bool up[SC_CLUSTER_MAX] = { false };
    int attempts[SC_CLUSTER_MAX] = { 0 };
    int pending = n;
    long long deadline = sc_now_ms() + sc_scaled_ms(START_TIMEOUT_MS);
    while (pending > 0) {
        for (int i = 0; i < n; i++) {
            if (up[i]) continue;
            sc_server *s = &c->node[i];
            sc_start_state st = sc_server_poll_started(s);
            if (st == SC_START_UP && !bus_port_ok(s)) {
                sc_server_abandon(s);
                st = SC_START_FOREIGN;
            }
            if (st == SC_START_UP) {
                up[i] = true;
                pending--;
                continue;
            }
            if (st == SC_START_PENDING) continue;
            bool collision = st == SC_START_FOREIGN || sc_server_log_says_in_use(s);
            if (!collision || ++attempts[i] >= START_ATTEMPTS) {
                sc_server_dump_log(s, 8192);
                cr_assert_fail("cluster node %d (%s) did not start on port %d: %s", i, s->bin, s->port,
                               collision ? "port collisions on every attempt" : "it exited");
            }
            spawn_node(c, i, true);
        }
        if (pending == 0) break;
        if (sc_now_ms() > deadline) {
            for (int i = 0; i < n; i++) {
                if (up[i]) continue;
                cr_log_error("cluster node %d (%s, port %d) does not answer PING", i, c->node[i].bin,
                             c->node[i].port);
                sc_server_dump_log(&c->node[i], 4096);
            }
            cr_assert_fail("%d of %d cluster nodes did not start within %d ms", pending, n,
                           sc_scaled_ms(START_TIMEOUT_MS));
        }
        sc_sleep_ms(10);
    }
}

int sc_cluster_port(const sc_cluster *c, int i)
{
    return c->node[i].port;
}

bool sc_cluster_node_running(const sc_cluster *c, int i)
{
    return c->node[i].pid > 0;
}

/* ---- connections and commands ------------------------------------------ */

static void drop_ctx(sc_cluster *c, int i)
{
    if (c->ctx[i]) redisFree(c->ctx[i]);
    c->ctx[i] = NULL;
}

/* Connect (and AUTH when the node has a password); NULL on failure. */
static redisContext *try_connect(const sc_server *s)
{
    int ms = sc_scaled_ms(CONNECT_TIMEOUT_MS);
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    redisContext *ctx = redisConnectWithTimeout("127.0.0.1", s->port, tv);
    if (!ctx || ctx->err) {
        if (ctx) redisFree(ctx);
        return NULL;
    }
    redisSetTimeout(ctx, tv);
    if (s->password[0]) {
        redisReply *r = redisCommand(ctx, "AUTH %s", s->password);
        bool ok = r && r->type == REDIS_REPLY_STATUS;
        if (r) freeReplyObject(r);
        if (!ok) {
            redisFree(ctx);
            return NULL;
        }
    }
    return ctx;
}

static redisContext *ctx_of(sc_cluster *c, int i)
{
    if (c->ctx[i] && c->ctx[i]->err) drop_ctx(c, i);
    if (!c->ctx[i] && c->node[i].pid > 0) c->ctx[i] = try_connect(&c->node[i]);
    return c->ctx[i];
}

redisContext *sc_cluster_ctx_or_fail(sc_cluster *c, int i)
{
    cr_assert(i >= 0 && i < c->n, "no cluster node %d", i);
    redisContext *ctx = ctx_of(c, i);
    cr_assert(ctx != NULL, "cannot connect to cluster node %d (port %d%s)", i, c->node[i].port,
              c->node[i].pid > 0 ? "" : ", not running");
    return ctx;
}

static redisReply *vcmd(sc_cluster *c, int i, const char *fmt, va_list ap)
{
    redisContext *ctx = ctx_of(c, i);
    if (!ctx) return NULL;
    redisReply *r = redisvCommand(ctx, fmt, ap);
    if (!r) drop_ctx(c, i);
    return r;
}

redisReply *sc_cluster_cmd(sc_cluster *c, int i, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = vcmd(c, i, fmt, ap);
    va_end(ap);
    return r;
}

redisReply *sc_cluster_cmd_or_fail(sc_cluster *c, int i, const char *fmt, ...)
{
    sc_cluster_ctx_or_fail(c, i);
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = vcmd(c, i, fmt, ap);
    va_end(ap);
    cr_assert(r != NULL, "node %d (port %d): \"%s\": connection broke", i, c->node[i].port, fmt);
    return r;
}

bool sc_cluster_wait_for(sc_cluster *c, sc_cluster_pred pred, void *arg, int ms)
{
    long long deadline = sc_now_ms() + sc_scaled_ms(ms);
    int pause = 5;
    for (;;) {
        if (pred(c, arg)) return true;
        if (sc_now_ms() >= deadline) return false;
        sc_sleep_ms(pause);
        if (pause < 100) pause *= 2;
    }
}

char *sc_cluster_text(sc_cluster *c, int i, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = vcmd(c, i, fmt, ap);
    va_end(ap);
    if (!r) return NULL;
    char *s = NULL;
    if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_ERROR)
        s = strdup(r->str);
    freeReplyObject(r);
    return s;
}

bool sc_cluster_node_line(sc_cluster *c, int i, const char *id, char *flags, char *master, size_t n)
{
    char *all = sc_cluster_text(c, i, "CLUSTER NODES");
    bool found = false;
    for (char *p = all; p && *p && !found;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = '\0';
        char name[64], f[128], m[64];
        if (sscanf(p, "%63s %*s %127s %63s", name, f, m) == 3 && !strcmp(name, id)) {
            snprintf(flags, n, "%s", f);
            snprintf(master, n, "%s", m);
            found = true;
        }
        p = nl ? nl + 1 : NULL;
    }
    free(all);
    return found;
}

/* ---- views: signature, state ------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Signature entry "id:slot,slot..." of one CLUSTER NODES line (modified in
 * place), or NULL when the line has no slots. */
static char *line_signature(char *line)
{
    char *tok[SC_CLUSTER_SLOTS + 16];
    int nt = 0;
    for (char *save = NULL, *t = strtok_r(line, " ", &save); t && nt < (int)(sizeof tok / sizeof tok[0]);
         t = strtok_r(NULL, " ", &save))
        tok[nt++] = t;
    /* id addr flags master ping pong epoch link, then the slots */
    int ns = 0;
    for (int k = 8; k < nt; k++)
        if (tok[k][0] != '[') tok[8 + ns++] = tok[k];
    if (ns == 0) return NULL;
    qsort(tok + 8, (size_t)ns, sizeof tok[0], cmp_str);
    sc_buf b = { 0 };
    sc_buf_printf(&b, "%s:", tok[0]);
    for (int k = 0; k < ns; k++) sc_buf_printf(&b, "%s%s", k ? "," : "", tok[8 + k]);
    return b.data;
}

char *sc_cluster_nodes_signature(const char *cluster_nodes)
{
    char *text = strdup(cluster_nodes);
    cr_assert(text != NULL);
    char *entries[SC_CLUSTER_MAX * 64];
    int ne = 0;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line && ne < (int)(sizeof entries / sizeof entries[0]);
         line = strtok_r(NULL, "\n", &save)) {
        size_t len = strlen(line);
        if (len > 0 && line[len - 1] == '\r') line[len - 1] = '\0';
        char *e = line_signature(line);
        if (e) entries[ne++] = e;
    }
    free(text);
    if (ne == 0) return NULL;
    qsort(entries, (size_t)ne, sizeof entries[0], cmp_str);
    sc_buf b = { 0 };
    for (int k = 0; k < ne; k++) {
        sc_buf_printf(&b, "%s%s", k ? "|" : "", entries[k]);
        free(entries[k]);
    }
    return b.data;
}

char *sc_cluster_signature(sc_cluster *c, int i)
{
    redisReply *r = sc_cluster_cmd(c, i, "CLUSTER NODES");
    char *sig = NULL;
    if (r && r->type == REDIS_REPLY_STRING) sig = sc_cluster_nodes_signature(r->str);
    if (r) freeReplyObject(r);
    return sig;
}

bool sc_cluster_signatures_agree(sc_cluster *c)
{
    char *first = NULL;
    bool agree = true;
    for (int i = 0; i < c->n && agree; i++) {
        if (!sc_cluster_node_running(c, i)) continue;
        char *sig = sc_cluster_signature(c, i);
        if (!sig) agree = false;
        else if (!first) first = sig, sig = NULL;
        else agree = strcmp(first, sig) == 0;
        free(sig);
    }
    free(first);
    return agree;
}

bool sc_cluster_state_ok(sc_cluster *c, int i)
{
    redisReply *r = sc_cluster_cmd(c, i, "CLUSTER INFO");
    bool ok = r && r->type == REDIS_REPLY_STRING && strstr(r->str, "cluster_state:ok\r\n") != NULL;
    if (r) freeReplyObject(r);
    return ok;
}

bool sc_cluster_converged(sc_cluster *c, void *arg)
{
    (void)arg;
    for (int i = 0; i < c->n; i++)
        if (sc_cluster_node_running(c, i) && !sc_cluster_state_ok(c, i)) return false;
    return sc_cluster_signatures_agree(c);
}

void sc_cluster_log_views(sc_cluster *c)
{
    for (int i = 0; i < c->n; i++) {
        if (!sc_cluster_node_running(c, i)) {
            cr_log_error("node %d (port %d): not running", i, c->node[i].port);
            continue;
        }
        redisReply *info = sc_cluster_cmd(c, i, "CLUSTER INFO");
        redisReply *nodes = sc_cluster_cmd(c, i, "CLUSTER NODES");
        char state[64] = "?";
        const char *p = info && info->type == REDIS_REPLY_STRING ? strstr(info->str, "cluster_state:") : NULL;
        if (p) sscanf(p, "cluster_state:%63s", state);
        cr_log_error("node %d (port %d, %s): cluster_state %s; CLUSTER NODES:\n%s", i, c->node[i].port,
                     c->node[i].is_redis ? "redis-server" : "slotcache", state,
                     nodes && nodes->str ? nodes->str : "(no answer)");
        if (info) freeReplyObject(info);
        if (nodes) freeReplyObject(nodes);
    }
}

void sc_cluster_wait_converged_or_fail(sc_cluster *c, int ms)
{
    if (sc_cluster_wait_for(c, sc_cluster_converged, NULL, ms)) return;
    sc_cluster_log_views(c);
    cr_assert_fail("the cluster did not converge (every node cluster_state:ok, one signature) within %d ms",
                   sc_scaled_ms(ms));
}

/* ---- setup commands ---------------------------------------------------- */

void sc_cluster_myid_or_fail(sc_cluster *c, int i, char out[41])
{
    redisReply *r = sc_cluster_cmd_or_fail(c, i, "CLUSTER MYID");
    cr_assert(r->type == REDIS_REPLY_STRING && r->len == 40, "node %d: CLUSTER MYID: unexpected reply (type %d)", i,
              r->type);
    memcpy(out, r->str, 40);
    out[40] = '\0';
    freeReplyObject(r);
}

void sc_cluster_addslots_split_or_fail(sc_cluster *c, int masters)
{
    cr_assert(masters >= 1 && masters <= c->n, "%d masters of %d nodes", masters, c->n);
    /* redis-cli's allocation: ranges of 16384/masters slots, rounded. */
    double per = (double)SC_CLUSTER_SLOTS / masters, cursor = 0;
    int first = 0;
    for (int i = 0; i < masters; i++) {
        int last = (int)(cursor + per - 1 + 0.5);
        if (last > SC_CLUSTER_SLOTS - 1 || i == masters - 1) last = SC_CLUSTER_SLOTS - 1;
        if (last < first) last = first;
        redisReply *r = sc_cluster_cmd_or_fail(c, i, "CLUSTER ADDSLOTSRANGE %d %d", first, last);
        cr_assert(sc_reply_is(r, "OK"), "node %d: CLUSTER ADDSLOTSRANGE %d %d: %s", i, first, last,
                  r->str ? r->str : "(not a string)");
        freeReplyObject(r);
        first = last + 1;
        cursor += per;
    }
}

void sc_cluster_meet_or_fail(sc_cluster *c)
{
    for (int i = 1; i < c->n; i++) {
        redisReply *r = sc_cluster_cmd_or_fail(c, i, "CLUSTER MEET 127.0.0.1 %d", c->node[0].port);
        cr_assert(sc_reply_is(r, "OK"), "node %d: CLUSTER MEET: %s", i, r->str ? r->str : "(not a string)");
        freeReplyObject(r);
    }
}

/* ---- single nodes and the end ------------------------------------------ */

void sc_cluster_kill9(sc_cluster *c, int i)
{
    drop_ctx(c, i);
    sc_server_kill9(&c->node[i]);
}

void sc_cluster_stop_node_or_fail(sc_cluster *c, int i)
{
    drop_ctx(c, i);
    sc_server *s = &c->node[i];
    sc_server_stop_many_or_fail(&s, 1, true);
}

void sc_cluster_restart_node_or_fail(sc_cluster *c, int i)
{
    drop_ctx(c, i);
    sc_server_restart_or_fail(&c->node[i], c->args);
}

void sc_cluster_stop_or_fail(sc_cluster *c)
{
    sc_server *nodes[SC_CLUSTER_MAX];
    for (int i = 0; i < c->n; i++) {
        drop_ctx(c, i);
        nodes[i] = &c->node[i];
    }
    track_cluster(c, false);
    sc_server_stop_many_or_fail(nodes, c->n, false);
    /* Nodes killed or stopped earlier and never restarted. */
    for (int i = 0; i < c->n; i++) sc_server_remove_dir(&c->node[i]);
}

void sc_cluster_cleanup(void)
{
    for (size_t k = 0; k < sizeof live / sizeof live[0]; k++) {
        sc_cluster *c = live[k];
        if (!c) continue;
        live[k] = NULL;
        for (int i = 0; i < c->n; i++) drop_ctx(c, i);
    }
    sc_server_cleanup();
}
