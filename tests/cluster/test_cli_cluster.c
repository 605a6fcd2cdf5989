/*
 * test_cli_cluster.c - `redis-cli --cluster` on slotcache nodes, run step by
 * step beside a redis-server 7.0 cluster of the same shape: every step is
 * the same redis-cli command, started at the same time on both clusters
 * (one thread each), and must exit 0 on both with the same verdict lines
 * ([OK], [ERR], [WARNING], set-timeout's per-node lines, the ">>>" steps),
 * ids and addresses masked, in any order (redis-cli walks the nodes in
 * CLUSTER NODES order, which is a hash order on redis-server). The one
 * expected difference is left out: slotcache refuses FUNCTION DUMP (it has
 * no functions), so add-node through it says it skips copying functions
 * (CLUSTER-WIRE.md 1.9).
 *
 * - masters: `create` of 3 masters (the time from its start to every node
 *   reporting cluster_state:ok is logged for both), `check`, `info`, `call`,
 *   `set-timeout` on nodes two of which run with a config file (CONFIG SET
 *   + CONFIG REWRITE succeed there; the third answers "ERR The server is
 *   running without a config file" on both servers); every node then runs
 *   with the new timeout, the rewritten files hold it, and a node restarted
 *   from its rewritten file rejoins under its id.
 * - replicas: `create --cluster-replicas 1` of 6 nodes (timed as well),
 *   keys on every master, `check`, `info`, `call`; `add-node
 *   --cluster-slave` (master chosen by redis-cli) and `add-node
 *   --cluster-slave --cluster-master-id`: each new node is listed as a
 *   replica of that master by every node and syncs its data; `add-node` of
 *   an empty master; CLUSTER FORGET of it on one node keeps it forgotten
 *   there while the others still gossip about it (the 60 s blacklist), a
 *   CLUSTER MEET brings it back; `del-node` of it: forgotten by every node
 *   and for good, the deleted node reset to know only itself; `check`
 *   clean at the end.
 *
 * - mixed: slotcache and redis-server nodes in one cluster made and grown
 *   by redis-cli (see the test).
 * - endpoint_type: CONFIG SET cluster-preferred-endpoint-type hostname /
 *   unknown-endpoint / ip changes the endpoint -MOVED names (and CLUSTER
 *   SLOTS'), as on redis-server (regression: the published slot map kept
 *   the endpoints it was built with until something else changed).
 *
 * Skipped without redis-server (a failure when CI=true).
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_proc.h"

TestSuite(cli_cluster, .fini = sc_cluster_cleanup, .timeout = 240);

#define CLI_TIMEOUT_MS 60000
#define AGREE_MS 20000
#define NKEYS 60

enum { SC, REF, NSIDES };

/* One of the two clusters and its pending redis-cli run. */
typedef struct side {
    const char *name;
    sc_cluster c;
    bool member[SC_CLUSTER_MAX];   /* joined the cluster (and not deleted) */
    char id[SC_CLUSTER_MAX][41];
    pthread_t thread;
    const char *argv[40];
    char argbuf[2048];
    sc_buf out;
    int status;
} side;

static side sides[NSIDES];

/* ---- starting both clusters -------------------------------------------- */

static void start_sides(int n, const bool *config_file)
{
    const char *redis = sc_cluster_redis_or_skip();
    for (int s = 0; s < NSIDES; s++) {
        side *sd = &sides[s];
        memset(sd, 0, sizeof *sd);
        sd->name = s == SC ? "slotcache" : "redis-server";
        sc_cluster_opts o = { .extra_args = (const char *[]){ "--repl-diskless-sync-delay", "0", NULL } };
        for (int i = 0; i < n; i++) {
            o.bin[i] = s == SC ? NULL : redis;
            o.config_file[i] = config_file && config_file[i];
        }
        sc_cluster_start_or_fail(&sd->c, n, &o);
        for (int i = 0; i < n; i++) sc_cluster_myid_or_fail(&sd->c, i, sd->id[i]);
    }
}

static void stop_sides(void)
{
    for (int s = 0; s < NSIDES; s++) {
        sc_buf_free(&sides[s].out);
        sc_cluster_stop_or_fail(&sides[s].c);
    }
}

static int node_of_port(side *sd, int port)
{
    for (int i = 0; i < sd->c.n; i++)
        if (sc_cluster_port(&sd->c, i) == port) return i;
    return -1;
}

/* ---- redis-cli on both sides ------------------------------------------- */

/* argv of `redis-cli --cluster WORDS`: "@N" is node N's address, "#N" its
 * id, other words are taken as they are. */
static void expand(side *sd, const char *words)
{
    size_t used = 0;
    int argc = 0;
    sd->argv[argc++] = "redis-cli";
    sd->argv[argc++] = "--cluster";
    char *copy = strdup(words);
    for (char *save = NULL, *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        char word[128];
        if (w[0] == '@') snprintf(word, sizeof word, "127.0.0.1:%d", sc_cluster_port(&sd->c, atoi(w + 1)));
        else if (w[0] == '#') snprintf(word, sizeof word, "%s", sd->id[atoi(w + 1)]);
        else snprintf(word, sizeof word, "%s", w);
        size_t len = strlen(word) + 1;
        cr_assert(argc < (int)(sizeof sd->argv / sizeof sd->argv[0]) - 1 && used + len <= sizeof sd->argbuf,
                  "redis-cli command too long: %s", words);
        memcpy(sd->argbuf + used, word, len);
        sd->argv[argc++] = sd->argbuf + used;
        used += len;
    }
    sd->argv[argc] = NULL;
    free(copy);
}

static void *cli_thread(void *arg)
{
    side *sd = arg;
    sd->status = sc_run(sd->argv, NULL, 0, &sd->out, CLI_TIMEOUT_MS);
    return NULL;
}

/* Start `redis-cli --cluster WORDS` against both clusters at once. */
static void cli_start(const char *words)
{
    for (int s = 0; s < NSIDES; s++) {
        side *sd = &sides[s];
        expand(sd, words);
        sc_buf_free(&sd->out);
        cr_assert(pthread_create(&sd->thread, NULL, cli_thread, sd) == 0, "pthread_create");
    }
}

/* One line of redis-cli output, colour codes and "\r" dropped, ids and
 * 127.0.0.1:port addresses masked, into out[n]. */
static void mask_line(const char *in, size_t len, char *out, size_t n)
{
    size_t o = 0;
    for (size_t k = 0; k < len && o + 8 < n;) {
        if (in[k] == '\033' && k + 1 < len && in[k + 1] == '[') {
            k += 2;
            while (k < len && !((in[k] >= 'a' && in[k] <= 'z') || (in[k] >= 'A' && in[k] <= 'Z'))) k++;
            k++;
            continue;
        }
        if (len - k > 10 && !strncmp(in + k, "127.0.0.1:", 10) && in[k + 10] >= '0' && in[k + 10] <= '9') {
            o += (size_t)snprintf(out + o, n - o, "<addr>");
            k += 10;
            while (k < len && ((in[k] >= '0' && in[k] <= '9') || in[k] == '@')) k++;
            continue;
        }
        size_t hex = 0;
        while (k + hex < len && in[k + hex] && strchr("0123456789abcdef", in[k + hex])) hex++;
        if (hex == 40) {
            o += (size_t)snprintf(out + o, n - o, "<id>");
            k += hex;
            continue;
        }
        for (size_t e = k + (hex ? hex : 1); k < e && o + 8 < n; k++)
            if (in[k] != '\r') out[o++] = in[k];
    }
    out[o] = '\0';
}

/* A line the comparison keeps: verdicts and steps, but not the FUNCTION
 * step, which differs by design. */
static bool verdict_line(const char *l)
{
    if (strcasestr(l, "function")) return false;
    return strstr(l, "[OK]") || strstr(l, "[ERR]") || strstr(l, "[WARNING]") || !strncmp(l, "ERR ", 4) ||
           !strncmp(l, "*** ", 4) || !strncmp(l, ">>> ", 4) || strstr(l, "selected master");
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The n malloc'd strings sorted, each followed by sep, in one malloc'd
 * string; the strings are freed. */
static char *sorted_join(char **items, int n, const char *sep)
{
    qsort(items, (size_t)n, sizeof items[0], cmp_str);
    sc_buf b = { 0 };
    sc_buf_append(&b, "", 0);
    for (int k = 0; k < n; k++) {
        sc_buf_printf(&b, "%s%s", items[k], sep);
        free(items[k]);
    }
    return b.data;
}

/* The kept lines of an output, masked, sorted, one per line (malloc'd). */
static char *verdicts(const char *out)
{
    char *lines[512];
    int nl = 0;
    for (const char *p = out; p && *p && nl < 512;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char buf[1024];
        mask_line(p, len, buf, sizeof buf);
        if (verdict_line(buf)) lines[nl++] = strdup(buf);
        p = e ? e + 1 : NULL;
    }
    return sorted_join(lines, nl, "\n");
}

/* Wait for both runs: each must exit 0 with the same verdict lines. The
 * verdicts are freed before any assertion fails (a failing cr_assert does
 * not return): the failure message is what the log ends with, not a leak
 * report. */
static void cli_join(const char *step)
{
    for (int s = 0; s < NSIDES; s++) pthread_join(sides[s].thread, NULL);
    char *v[NSIDES];
    for (int s = 0; s < NSIDES; s++) v[s] = verdicts(sides[s].out.data);
    bool same = !strcmp(v[SC], v[REF]);
    bool ok = sides[SC].status == 0 && sides[REF].status == 0 && same;
    char why[8192] = "";
    if (!ok) {
        for (int s = 0; s < NSIDES; s++)
            cr_log_error("%s: %s: redis-cli exit %d, output:\n%s", step, sides[s].name, sides[s].status,
                         sides[s].out.data ? sides[s].out.data : "");
        if (sides[REF].status != 0)
            snprintf(why, sizeof why, "%s: redis-cli against redis-server exited %d", step, sides[REF].status);
        else if (sides[SC].status != 0)
            snprintf(why, sizeof why, "%s: redis-cli against slotcache exited %d", step, sides[SC].status);
        else
            snprintf(why, sizeof why, "%s: the verdicts differ;\nslotcache:\n%sredis-server:\n%s", step, v[SC], v[REF]);
    }
    int lines = 0;
    for (const char *p = v[SC]; (p = strchr(p, '\n')); p++) lines++;
    free(v[SC]);
    free(v[REF]);
    cr_assert(ok, "%s", why);
    fprintf(stderr, "cli_cluster: %s: %d verdict lines equal\n", step, lines);
}

static void cli_both(const char *step, const char *words)
{
    cli_start(words);
    cli_join(step);
}

/* `redis-cli --cluster WORDS` on one cluster: it must exit 0 and print no
 * [ERR] and no [WARNING]. */
static void cli_one(side *sd, const char *step, const char *words)
{
    expand(sd, words);
    sc_buf_free(&sd->out);
    sd->status = sc_run(sd->argv, NULL, 0, &sd->out, CLI_TIMEOUT_MS);
    char *v = verdicts(sd->out.data);
    bool clean = sd->status == 0 && !strstr(v, "[ERR]") && !strstr(v, "[WARNING]");
    char why[8192] = "";
    if (!clean) {
        cr_log_error("%s: %s: redis-cli exit %d, output:\n%s", step, sd->name, sd->status, sd->out.data);
        snprintf(why, sizeof why, "%s: %s: redis-cli exit %d; verdicts:\n%s", step, sd->name, sd->status, v);
    }
    free(v); /* before the assertion, which does not return */
    cr_assert(clean, "%s", why);
}

/* ---- views -------------------------------------------------------------- */

static int members_of(const side *sd)
{
    int n = 0;
    for (int i = 0; i < sd->c.n; i++) n += sd->member[i];
    return n;
}

/* Every member says cluster_state:ok. */
static bool members_ok(sc_cluster *c, void *arg)
{
    side *sd = arg;
    for (int i = 0; i < c->n; i++)
        if (sd->member[i] && !sc_cluster_state_ok(c, i)) return false;
    return true;
}

/* Role of node j as node j itself says: "master" or "slave", and its
 * master's id ("-" for a master). */
static bool own_role(side *sd, int j, char *role, char *master, size_t n)
{
    char flags[128];
    if (!sc_cluster_node_line(&sd->c, j, sd->id[j], flags, master, n)) return false;
    snprintf(role, n, "%s", strstr(flags, "slave") ? "slave" : "master");
    return true;
}

/* The members agree: each is ok, knows exactly the members, each member
 * connected, with no handshake / fail / noaddr flag, in the role that
 * member gives itself; and the slot signatures agree. */
static bool members_agree(sc_cluster *c, void *arg)
{
    side *sd = arg;
    if (!members_ok(c, sd)) return false;
    char role[SC_CLUSTER_MAX][16], master[SC_CLUSTER_MAX][64];
    for (int j = 0; j < c->n; j++)
        if (sd->member[j] && !own_role(sd, j, role[j], master[j], sizeof master[j])) return false;
    char *sig0 = NULL;
    bool ok = true;
    for (int i = 0; i < c->n && ok; i++) {
        if (!sd->member[i]) continue;
        char *all = sc_cluster_text(c, i, "CLUSTER NODES");
        if (!all) return free(sig0), false;
        int listed = 0;
        for (char *p = all; *p && ok;) {
            char *nl = strchr(p, '\n');
            if (nl) *nl = '\0';
            char id[64], flags[128], m[64], link[32];
            if (sscanf(p, "%63s %*s %127s %63s %*s %*s %*s %31s", id, flags, m, link) == 4) {
                int j = -1;
                for (int k = 0; k < c->n; k++)
                    if (sd->member[k] && !strcmp(sd->id[k], id)) j = k;
                ok = j >= 0 && !strstr(flags, "handshake") && !strstr(flags, "fail") && !strstr(flags, "noaddr") &&
                     !strcmp(link, "connected") && !!strstr(flags, "slave") == !strcmp(role[j], "slave") &&
                     !strcmp(m, master[j]);
                listed++;
            }
            p = nl ? nl + 1 : p + strlen(p);
        }
        free(all);
        ok = ok && listed == members_of(sd);
        char *sig = ok ? sc_cluster_signature(c, i) : NULL;
        ok = ok && sig && (!sig0 || !strcmp(sig, sig0));
        if (!sig0) sig0 = sig;
        else free(sig);
    }
    free(sig0);
    return ok;
}

static void wait_side_agrees_or_fail(side *sd, const char *what)
{
    if (sc_cluster_wait_for(&sd->c, members_agree, sd, AGREE_MS)) return;
    sc_cluster_log_views(&sd->c);
    cr_assert_fail("%s: %s: the members do not agree within %d ms", what, sd->name, sc_scaled_ms(AGREE_MS));
}

static void wait_agree_or_fail(const char *what)
{
    for (int s = 0; s < NSIDES; s++) wait_side_agrees_or_fail(&sides[s], what);
}

/* pred(c, arg) holds at every poll for ms: true; false as soon as it does
 * not. (Not scaled: a sanitized node gossips less often, but a longer
 * watch would only cost CI time.) */
static bool holds_for(sc_cluster *c, sc_cluster_pred pred, void *arg, int ms)
{
    long long deadline = sc_now_ms() + ms;
    while (sc_now_ms() < deadline) {
        if (!pred(c, arg)) return false;
        sc_sleep_ms(100);
    }
    return pred(c, arg);
}

typedef struct node_query {
    side *sd;
    int node;      /* the node asked about */
    int master;    /* its master, -1 for a master */
    int except;    /* a member not asked, -1 for none */
} node_query;

/* Every member (but q->except) lists q->node in the role q asks for. */
static bool role_everywhere(sc_cluster *c, void *arg)
{
    node_query *q = arg;
    for (int i = 0; i < c->n; i++) {
        if (!q->sd->member[i] || i == q->except) continue;
        char flags[128], m[64];
        if (!sc_cluster_node_line(c, i, q->sd->id[q->node], flags, m, sizeof m)) return false;
        bool slave = strstr(flags, "slave") != NULL;
        if (q->master < 0 ? slave || strcmp(m, "-") : !slave || strcmp(m, q->sd->id[q->master])) return false;
    }
    return true;
}

/* No member (but q->except) lists q->node; every member answers. */
static bool known_nowhere(sc_cluster *c, void *arg)
{
    node_query *q = arg;
    for (int i = 0; i < c->n; i++) {
        if (!q->sd->member[i] || i == q->except) continue;
        char *all = sc_cluster_text(c, i, "CLUSTER NODES");
        bool listed = !all || strstr(all, q->sd->id[q->node]);
        free(all);
        if (listed) return false;
    }
    return true;
}

/* Node q->node is not listed by node q->except (the one that forgot it). */
static bool forgotten_by_except(sc_cluster *c, void *arg)
{
    node_query *q = arg;
    char *all = sc_cluster_text(c, q->except, "CLUSTER NODES");
    bool forgotten = all && !strstr(all, q->sd->id[q->node]);
    free(all);
    return forgotten;
}

/* ---- data ---------------------------------------------------------------- */

/* SET key:k for every k < n through node 0, following MOVED as redis-cli -c
 * does. */
static void write_keys(side *sd, int n)
{
    for (int k = 0; k < n; k++) {
        int node = 0;
        redisReply *r = NULL;
        for (int hop = 0; hop < 3; hop++) {
            r = sc_cluster_cmd_or_fail(&sd->c, node, "SET key:%d v%d", k, k);
            int port;
            if (r->type != REDIS_REPLY_ERROR || sscanf(r->str, "MOVED %*d %*[^:]:%d", &port) != 1) break;
            node = node_of_port(sd, port);
            cr_assert(node >= 0, "%s: %s: no node on port %d", sd->name, r->str, port);
            freeReplyObject(r);
            r = NULL;
        }
        cr_assert(r && sc_reply_is(r, "OK"), "%s: SET key:%d: %s", sd->name, k, r && r->str ? r->str : "?");
        freeReplyObject(r);
    }
}

typedef struct repl_pair {
    side *sd;
    int replica, master;
} repl_pair;

static long long dbsize(sc_cluster *c, int i)
{
    redisReply *r = sc_cluster_cmd(c, i, "DBSIZE");
    long long n = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    if (r) freeReplyObject(r);
    return n;
}

/* The replica's link to its master is up and it holds as many keys. */
static bool replica_synced(sc_cluster *c, void *arg)
{
    repl_pair *p = arg;
    char *info = sc_cluster_text(c, p->replica, "INFO replication");
    char want[64];
    snprintf(want, sizeof want, "master_port:%d\r\n", sc_cluster_port(c, p->master));
    bool up = info && strstr(info, "master_link_status:up") && strstr(info, want);
    free(info);
    return up && dbsize(c, p->master) == dbsize(c, p->replica) && dbsize(c, p->master) > 0;
}

/* Wait until the replica synced, then every key:k its master holds reads
 * the same on the replica (READONLY). */
static void check_replica_data(side *sd, int replica, int master)
{
    repl_pair p = { sd, replica, master };
    if (!sc_cluster_wait_for(&sd->c, replica_synced, &p, 20000)) {
        char *info = sc_cluster_text(&sd->c, replica, "INFO replication");
        cr_assert_fail("%s: node %d did not sync from node %d (dbsize %lld / %lld): %s", sd->name, replica, master,
                       dbsize(&sd->c, replica), dbsize(&sd->c, master), info ? info : "?");
    }
    redisReply *r = sc_cluster_cmd_or_fail(&sd->c, replica, "READONLY");
    cr_assert(sc_reply_is(r, "OK"), "%s: READONLY on node %d", sd->name, replica);
    freeReplyObject(r);
    int compared = 0;
    for (int k = 0; k < NKEYS; k++) {
        char *want = sc_cluster_text(&sd->c, master, "GET key:%d", k);
        if (!want || !strncmp(want, "MOVED", 5)) {
            free(want);
            continue;
        }
        char *got = sc_cluster_text(&sd->c, replica, "GET key:%d", k);
        cr_assert(got && !strcmp(got, want), "%s: key:%d is '%s' on master %d, '%s' on replica %d", sd->name, k, want,
                  master, got ? got : "(none)", replica);
        free(want);
        free(got);
        compared++;
    }
    cr_assert(compared > 0, "%s: node %d holds none of the keys", sd->name, master);
}

/* ---- steps shared by both tests ----------------------------------------- */

/* `create WORDS`, timed from its start to every member reporting
 * cluster_state:ok (polled while redis-cli runs), on both sides. */
static void create_timed(const char *shape, const char *words)
{
    long long t0 = sc_now_ms(), ok_at[NSIDES] = { 0, 0 };
    long long deadline = t0 + sc_scaled_ms(30000);
    cli_start(words);
    while ((!ok_at[SC] || !ok_at[REF]) && sc_now_ms() < deadline) {
        for (int s = 0; s < NSIDES; s++)
            if (!ok_at[s] && members_ok(&sides[s].c, &sides[s])) ok_at[s] = sc_now_ms();
        sc_sleep_ms(10);
    }
    cli_join(shape);
    for (int s = 0; s < NSIDES; s++) {
        if (!ok_at[s]) sc_cluster_log_views(&sides[s].c);
        cr_assert(ok_at[s], "%s: %s: not every node reached cluster_state:ok", shape, sides[s].name);
    }
    cr_log_info("%s: --cluster create to cluster_state:ok everywhere: slotcache %lld ms, redis-server %lld ms", shape,
                ok_at[SC] - t0, ok_at[REF] - t0);
    fprintf(stderr, "cli_cluster: %s: create to cluster_state:ok on every node: slotcache %lld ms, redis-server %lld ms\n",
            shape, ok_at[SC] - t0, ok_at[REF] - t0);
}

/* `call @0 DBSIZE`: one "addr: N" line per member, the same numbers on
 * both sides (the slots split the same way), summing to total over the
 * masters and replicas. */
static void call_dbsize(long long total)
{
    cli_both("call dbsize", "call @0 DBSIZE");
    long long sums[NSIDES];
    char *nums[NSIDES];
    for (int s = 0; s < NSIDES; s++) {
        char *vals[SC_CLUSTER_MAX];
        int nv = 0;
        sums[s] = 0;
        for (const char *p = sides[s].out.data; p && *p;) {
            int port;
            long long v;
            if (sscanf(p, "127.0.0.1:%d: %lld", &port, &v) == 2 && nv < SC_CLUSTER_MAX) {
                char buf[32];
                snprintf(buf, sizeof buf, "%lld", v);
                vals[nv++] = strdup(buf);
                sums[s] += v;
            }
            p = strchr(p, '\n');
            if (p) p++;
        }
        cr_assert(nv == members_of(&sides[s]), "%s: call DBSIZE answered %d lines for %d nodes:\n%s", sides[s].name, nv,
                  members_of(&sides[s]), sides[s].out.data);
        nums[s] = sorted_join(vals, nv, " ");
    }
    cr_assert(!strcmp(nums[SC], nums[REF]), "call DBSIZE: slotcache %s, redis-server %s", nums[SC], nums[REF]);
    cr_assert(sums[SC] == total, "call DBSIZE: the nodes hold %lld keys in all, not %lld", sums[SC], total);
    free(nums[SC]);
    free(nums[REF]);
}

/* Both clusters of n nodes (config files as in start_sides), nodes
 * 0..members-1 made a cluster by the timed `CREATE` words, NKEYS keys
 * written, then `check @0` and the `INFO` words compared. */
static void create_and_check(int n, const bool *config_file, int members, const char *shape, const char *create,
                             const char *info)
{
    start_sides(n, config_file);
    for (int s = 0; s < NSIDES; s++)
        for (int i = 0; i < members; i++) sides[s].member[i] = true;
    create_timed(shape, create);
    wait_agree_or_fail("after create");
    for (int s = 0; s < NSIDES; s++) write_keys(&sides[s], NKEYS);
    cli_both("check", "check @0");
    cli_both("info", info);
}

/* ---- masters: create without replicas, check, info, call, set-timeout --- */

/* The line "cluster-node-timeout T" in node i's rewritten config file. */
static bool conf_has_timeout(side *sd, int i, int t)
{
    char path[sizeof sd->c.node[i].dir + 16], want[64], line[512];
    snprintf(path, sizeof path, "%s/node.conf", sd->c.node[i].dir);
    snprintf(want, sizeof want, "cluster-node-timeout %d\n", t);
    FILE *f = fopen(path, "r");
    bool found = false;
    while (f && !found && fgets(line, sizeof line, f)) found = !strcmp(line, want);
    if (f) fclose(f);
    return found;
}

Test(cli_cluster, masters)
{
    /* Nodes 0 and 1 start with a config file, node 2 with arguments only. */
    const bool conf[3] = { true, true, false };
    create_and_check(3, conf, 3, "3 masters", "create @0 @1 @2 --cluster-yes", "info @1");
    call_dbsize(NKEYS);

    /* A timeout unlike the harness's, and scaled as the harness's is (a
     * sanitized node answers pings late). */
    int t = sc_scaled_ms(3000);
    char words[64];
    snprintf(words, sizeof words, "set-timeout @0 %d", t);
    cli_both("set-timeout", words);
    char *v = verdicts(sides[SC].out.data);
    cr_assert(strstr(v, ">>> New node timeout set. 2 OK, 1 ERR.\n") &&
                  strstr(v, "ERR setting node-timeout for <addr>: ERR The server is running without a config file\n"),
              "set-timeout: %s", v);
    free(v);
    for (int s = 0; s < NSIDES; s++) {
        for (int i = 0; i < 3; i++) {
            char *got = NULL;
            redisReply *r = sc_cluster_cmd_or_fail(&sides[s].c, i, "CONFIG GET cluster-node-timeout");
            if (r->type == REDIS_REPLY_ARRAY && r->elements == 2) got = strdup(r->element[1]->str);
            freeReplyObject(r);
            cr_assert(got && atoi(got) == t, "%s: node %d: cluster-node-timeout %s, not %d", sides[s].name, i,
                      got ? got : "?", t);
            free(got);
        }
        for (int i = 0; i < 2; i++)
            cr_assert(conf_has_timeout(&sides[s], i, t), "%s: node %d's rewritten config lacks cluster-node-timeout %d",
                      sides[s].name, i, t);
    }
    wait_agree_or_fail("after set-timeout");

    /* Node 0 starts again from its rewritten file (then the harness's
     * arguments) and rejoins under its id. */
    for (int s = 0; s < NSIDES; s++) sc_cluster_stop_node_or_fail(&sides[s].c, 0);
    for (int s = 0; s < NSIDES; s++) sc_cluster_restart_node_or_fail(&sides[s].c, 0);
    for (int s = 0; s < NSIDES; s++) {
        char id[41];
        sc_cluster_myid_or_fail(&sides[s].c, 0, id);
        cr_assert_str_eq(id, sides[s].id[0], "%s: node 0 came back as another node", sides[s].name);
    }
    wait_agree_or_fail("after node 0 restarted from its rewritten config");
    cli_both("check after restart", "check @2");
    stop_sides();
}

/* ---- replicas: create with replicas, add-node, forget, del-node ---------- */

/* The master redis-cli picked for `add-node --cluster-slave`, from its
 * "Automatically selected master 127.0.0.1:P" line. */
static int selected_master(side *sd)
{
    const char *p = sd->out.data ? strstr(sd->out.data, "Automatically selected master 127.0.0.1:") : NULL;
    int port = 0;
    cr_assert(p && sscanf(p, "Automatically selected master 127.0.0.1:%d", &port) == 1,
              "%s: add-node did not say which master it chose:\n%s", sd->name, sd->out.data);
    int m = node_of_port(sd, port);
    cr_assert(m >= 0 && m < 3, "%s: add-node chose node %d (port %d), not a master", sd->name, m, port);
    return m;
}

/* Node `node` joined sd as a replica of `master`: every member lists it
 * so, and it holds its master's data. */
static void check_side_new_replica(side *sd, const char *step, int node, int master)
{
    sd->member[node] = true;
    wait_side_agrees_or_fail(sd, step);
    node_query q = { sd, node, master, -1 };
    cr_assert(sc_cluster_wait_for(&sd->c, role_everywhere, &q, AGREE_MS),
              "%s: %s: not every node lists node %d as a replica of node %d", step, sd->name, node, master);
    check_replica_data(sd, node, master);
}

static void check_new_replica(const char *step, int node, const int master[NSIDES])
{
    for (int s = 0; s < NSIDES; s++) check_side_new_replica(&sides[s], step, node, master[s]);
}

/* After del-node of `node`: no member lists it, it knows only itself, and
 * it stays forgotten. */
static void check_side_deleted(side *sd, int node)
{
    sd->member[node] = false;
    node_query q = { sd, node, -1, -1 };
    cr_assert(known_nowhere(&sd->c, &q), "%s: a node still lists the deleted node", sd->name);
    char *info = sc_cluster_text(&sd->c, node, "CLUSTER INFO");
    cr_assert(info && strstr(info, "cluster_known_nodes:1\r\n"), "%s: the deleted node was not reset: %s", sd->name,
              info ? info : "?");
    free(info);
    cr_assert(holds_for(&sd->c, known_nowhere, &q, 2000), "%s: the deleted node came back", sd->name);
}

Test(cli_cluster, replicas)
{
    /* Nodes 0-5: the cluster; 6, 7: replicas to add; 8: a master to add
     * and delete. */
    create_and_check(9, NULL, 6, "3 masters + 3 replicas",
                     "create @0 @1 @2 @3 @4 @5 --cluster-replicas 1 --cluster-yes", "info @3");
    /* Masters and replicas hold the keys: each key twice once synced. */
    for (int s = 0; s < NSIDES; s++)
        for (int i = 3; i < 6; i++) {
            char own[16], m[64];
            cr_assert(own_role(&sides[s], i, own, m, sizeof m) && !strcmp(own, "slave"), "%s: node %d is no replica",
                      sides[s].name, i);
            int master = -1;
            for (int k = 0; k < 3; k++)
                if (!strcmp(sides[s].id[k], m)) master = k;
            repl_pair p = { &sides[s], i, master };
            cr_assert(master >= 0 && sc_cluster_wait_for(&sides[s].c, replica_synced, &p, 20000),
                      "%s: replica %d did not sync", sides[s].name, i);
        }
    call_dbsize(2 * NKEYS);

    /* A replica of the master redis-cli picks (the one with the fewest
     * replicas, ties in its node order). */
    cli_both("add-node --cluster-slave", "add-node @6 @0 --cluster-slave");
    int m6[NSIDES] = { selected_master(&sides[SC]), selected_master(&sides[REF]) };
    check_new_replica("add-node --cluster-slave", 6, m6);

    /* A replica of a master named by id. */
    cli_both("add-node --cluster-slave --cluster-master-id", "add-node @7 @0 --cluster-slave --cluster-master-id #1");
    const int m7[NSIDES] = { 1, 1 };
    check_new_replica("add-node --cluster-slave --cluster-master-id", 7, m7);

    /* An empty master. */
    cli_both("add-node", "add-node @8 @2");
    for (int s = 0; s < NSIDES; s++) sides[s].member[8] = true;
    wait_agree_or_fail("add-node of a master");
    for (int s = 0; s < NSIDES; s++) {
        node_query q = { &sides[s], 8, -1, -1 };
        cr_assert(role_everywhere(&sides[s].c, &q), "%s: node 8 is not a master everywhere", sides[s].name);
    }

    /* CLUSTER FORGET on node 0 alone: the others still know node 8 and
     * gossip about it, yet node 0 does not take it back (blacklist). */
    for (int s = 0; s < NSIDES; s++) {
        char *r = sc_cluster_text(&sides[s].c, 0, "CLUSTER FORGET %s", sides[s].id[8]);
        cr_assert(r && !strcmp(r, "OK"), "%s: CLUSTER FORGET: %s", sides[s].name, r ? r : "(no reply)");
        free(r);
    }
    for (int s = 0; s < NSIDES; s++) {
        node_query q = { &sides[s], 8, -1, 0 };
        cr_assert(holds_for(&sides[s].c, forgotten_by_except, &q, 3000),
                  "%s: node 0 took node 8 back within 3 s of CLUSTER FORGET", sides[s].name);
        cr_assert(role_everywhere(&sides[s].c, &q), "%s: the other nodes forgot node 8 too", sides[s].name);
    }
    /* CLUSTER MEET is not gossip: it brings the node back at once. */
    for (int s = 0; s < NSIDES; s++) {
        char *r = sc_cluster_text(&sides[s].c, 0, "CLUSTER MEET 127.0.0.1 %d", sc_cluster_port(&sides[s].c, 8));
        cr_assert(r && !strcmp(r, "OK"), "%s: CLUSTER MEET: %s", sides[s].name, r ? r : "(no reply)");
        free(r);
    }
    wait_agree_or_fail("CLUSTER MEET after FORGET");

    /* del-node: every node forgets it, for good; it is reset. */
    cli_both("del-node", "del-node @0 #8");
    for (int s = 0; s < NSIDES; s++) check_side_deleted(&sides[s], 8);
    wait_agree_or_fail("after del-node");
    cli_both("check after del-node", "check @1");
    stop_sides();
}

/* ---- mixed: slotcache and redis-server nodes in one cluster -------------- */

/* Moving a Redis Cluster onto slotcache node by node, and back: redis-cli
 * creates a cluster of two slotcache masters and one redis-server master,
 * adds a slotcache replica to the redis-server master and a redis-server
 * replica to a slotcache master (each syncs its master's data across the
 * two implementations), adds an empty redis-server master through a
 * slotcache node and an empty slotcache master through a redis-server node
 * (redis-cli copies the cluster's functions there: FUNCTION DUMP on
 * redis-server, FUNCTION LIST and FUNCTION RESTORE on slotcache, which
 * must answer as an empty Redis), and deletes the redis-server one again.
 * Every step is clean, every node agrees. */
Test(cli_cluster, mixed)
{
    const char *redis = sc_cluster_redis_or_skip();
    side *sd = &sides[SC];
    memset(sd, 0, sizeof *sd);
    sd->name = "mixed";
    /* 0, 2, 3, 6: slotcache; 1, 4, 5: redis-server */
    sc_cluster_opts o = { .extra_args = (const char *[]){ "--repl-diskless-sync-delay", "0", NULL },
                          .bin = { NULL, redis, NULL, NULL, redis, redis, NULL } };
    sc_cluster_start_or_fail(&sd->c, 7, &o);
    for (int i = 0; i < 7; i++) sc_cluster_myid_or_fail(&sd->c, i, sd->id[i]);
    for (int i = 0; i < 3; i++) sd->member[i] = true;

    cli_one(sd, "create", "create @0 @1 @2 --cluster-yes");
    wait_side_agrees_or_fail(sd, "after create");
    write_keys(sd, NKEYS);
    cli_one(sd, "add-node slotcache replica of redis-server", "add-node @3 @1 --cluster-slave --cluster-master-id #1");
    check_side_new_replica(sd, "slotcache replica of redis-server", 3, 1);
    cli_one(sd, "add-node redis-server replica of slotcache", "add-node @4 @0 --cluster-slave --cluster-master-id #0");
    check_side_new_replica(sd, "redis-server replica of slotcache", 4, 0);
    cli_one(sd, "add-node redis-server master", "add-node @5 @2");
    sd->member[5] = true;
    wait_side_agrees_or_fail(sd, "after add-node of a redis-server master");
    cli_one(sd, "add-node slotcache master through redis-server", "add-node @6 @1");
    cr_assert(!strstr(sd->out.data, "Failed retrieving Functions"),
              "redis-server's functions were not asked for:\n%s", sd->out.data);
    sd->member[6] = true;
    wait_side_agrees_or_fail(sd, "after add-node of a slotcache master");
    cli_one(sd, "check through redis-server", "check @4");
    cli_one(sd, "check through slotcache", "check @3");
    cli_one(sd, "del-node", "del-node @2 #5");
    check_side_deleted(sd, 5);
    wait_side_agrees_or_fail(sd, "after del-node");
    sc_buf_free(&sd->out);
    sc_cluster_stop_or_fail(&sd->c);
}

/* ---- endpoint_type: CONFIG SET cluster-preferred-endpoint-type ----------- */

typedef struct moved_query {
    const char *key;
    char want[128];   /* the -MOVED text node 0 must answer for GET key */
} moved_query;

/* A key node 1 owns: the first key:k whose GET on node 0 answers MOVED. */
static int key_of_node1(side *sd)
{
    char want[32];
    snprintf(want, sizeof want, ":%d", sc_cluster_port(&sd->c, 1));
    for (int k = 0; k < 1000; k++) {
        char *r = sc_cluster_text(&sd->c, 0, "GET key:%d", k);
        bool found = r && !strncmp(r, "MOVED ", 6) && strstr(r, want);
        free(r);
        if (found) return k;
    }
    cr_assert_fail("%s: no key of node 1 found", sd->name);
    return -1;
}

/* Node 0 redirects GET q->key with exactly q->want. */
static bool moved_is(sc_cluster *c, void *arg)
{
    moved_query *q = arg;
    char *r = sc_cluster_text(c, 0, "GET %s", q->key);
    bool same = r && !strcmp(r, q->want);
    free(r);
    return same;
}

/* Node 0 lists the hostnames of nodes 1 and 2 (",hostN" after the address
 * in CLUSTER NODES). */
static bool hostnames_known(sc_cluster *c, void *arg)
{
    (void)arg;
    char *all = sc_cluster_text(c, 0, "CLUSTER NODES");
    bool known = all && strstr(all, ",host1 ") && strstr(all, ",host2 ");
    free(all);
    return known;
}

Test(cli_cluster, endpoint_type)
{
    start_sides(3, NULL);
    for (int s = 0; s < NSIDES; s++) {
        side *sd = &sides[s];
        for (int i = 0; i < 3; i++) {
            sd->member[i] = true;
            char *r = sc_cluster_text(&sd->c, i, "CONFIG SET cluster-announce-hostname host%d", i);
            cr_assert(r && !strcmp(r, "OK"), "%s: CONFIG SET cluster-announce-hostname: %s", sd->name, r ? r : "?");
            free(r);
        }
        sc_cluster_addslots_split_or_fail(&sd->c, 3);
        sc_cluster_meet_or_fail(&sd->c);
    }
    wait_agree_or_fail("after MEET");
    static const char *const types[] = { "hostname", "unknown-endpoint", "ip" };
    for (int s = 0; s < NSIDES; s++) {
        side *sd = &sides[s];
        cr_assert(sc_cluster_wait_for(&sd->c, hostnames_known, NULL, AGREE_MS), "%s: hostnames not gossiped", sd->name);
        int k = key_of_node1(sd), port = sc_cluster_port(&sd->c, 1);
        char key[32];
        snprintf(key, sizeof key, "key:%d", k);
        char *slot = sc_cluster_text(&sd->c, 0, "GET %s", key);
        int hslot = slot ? atoi(slot + 6) : -1;
        free(slot);
        for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
            char *r = sc_cluster_text(&sd->c, 0, "CONFIG SET cluster-preferred-endpoint-type %s", types[t]);
            cr_assert(r && !strcmp(r, "OK"), "%s: CONFIG SET %s: %s", sd->name, types[t], r ? r : "?");
            free(r);
            const char *ep = t == 0 ? "host1" : t == 1 ? "" : "127.0.0.1";
            moved_query q = { key, "" };
            snprintf(q.want, sizeof q.want, "MOVED %d %s:%d", hslot, ep, port);
            /* redis-server answers at once, slotcache within a bus tick. */
            if (!sc_cluster_wait_for(&sd->c, moved_is, &q, 2000)) {
                char *got = sc_cluster_text(&sd->c, 0, "GET %s", key);
                cr_assert_fail("%s: endpoint type %s: GET %s answers '%s', not '%s'", sd->name, types[t], key,
                               got ? got : "?", q.want);
            }
        }
    }
    stop_sides();
}
