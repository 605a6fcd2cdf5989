/*
 * test_failover.c - replicas taking over from their masters across real
 * processes on loopback (tests/support/cluster_proc.h), as Redis 7.0 does
 * it (cluster/failover.c, server/writepause.c):
 *
 * - kill -9 a master under a writer whose every write is SET then WAIT 1:
 *   its replica wins the election and serves the slots (INFO role:master,
 *   every live node's CLUSTER NODES), the old master is flagged fail, every
 *   write WAIT acknowledged is on the new master with its value; the time
 *   from the kill to the first SET the new master accepts is logged; the old
 *   master restarted from its nodes.conf rejoins as a replica of the new one
 *   and syncs;
 * - the coordinated CLUSTER FAILOVER under a writer of INCRs that follows
 *   -MOVED and retries -TRYAGAIN: the roles swap everywhere and the counter
 *   on the new master is exactly the number of INCRs answered (nothing lost
 *   while the master's writes were paused, nothing applied twice), every
 *   INCR answering the count so far; each INCR is followed by a lock taken
 *   through redlock's SET NX PX script (run natively), and every lock
 *   answered +OK is on the new master (scripts are paused too);
 * - the error replies of CLUSTER FAILOVER byte for byte as Redis 7.0.15
 *   sends them; a replica with cluster-replica-no-failover whose master was
 *   killed: plain FAILOVER refused once the master is flagged fail, FORCE
 *   promotes it; the old master restarted, FORCE on it while its master
 *   runs and TAKEOVER back swap the roles everywhere, the winner's
 *   configEpoch above every earlier one;
 * - FORCE again soon after a won election (the winner demoted by TAKEOVER,
 *   the new master killed) runs a new election instead of counting the
 *   votes of the last one (redis-server 7.0.15 fails this too; Valkey
 *   resets the election once won since valkey#782);
 * - replica migration: a master whose only replica dies gets one of the
 *   replicas of the master that has two (after Redis's 5 s delay).
 *
 * Node timeout 1 s (scaled by SLOTCACHE_TIMEOUT_SCALE); every wait is a
 * bounded poll. Nodes: masters 0..m-1 with the slots split as redis-cli
 * does, replicas after them.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cluster_proc.h"
#include "thread_fail.h"

#define NODE_TIMEOUT_MS 1000

TestSuite(failover, .fini = sc_cluster_cleanup, .timeout = 240);

static sc_cluster c;
static char ids[SC_CLUSTER_MAX][41];

/* A timing worth keeping: in the test's log and on stderr (run-tests
 * keeps both). */
#define note(...)                                                                                                     \
    do {                                                                                                              \
        cr_log_info(__VA_ARGS__);                                                                                     \
        fprintf(stderr, "failover: " __VA_ARGS__);                                                                    \
        fputc('\n', stderr);                                                                                          \
    } while (0)

/* ---- helpers ----------------------------------------------------------- */

static void load_ids(void)
{
    for (int i = 0; i < c.n; i++) sc_cluster_myid_or_fail(&c, i, ids[i]);
}

/* Node `id`'s line in node i's CLUSTER NODES. */
typedef struct {
    char flags[128];
    char master[48];
    long long epoch;
    char slots[512]; /* the slot fields, space-separated ("" for none) */
} node_view;

static bool view_of(int i, const char *id, node_view *v)
{
    char *all = sc_cluster_text(&c, i, "CLUSTER NODES");
    bool found = false;
    for (char *save = NULL, *line = all ? strtok_r(all, "\n", &save) : NULL; line && !found;
         line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, id, 40) != 0 || line[40] != ' ') continue;
        int off = 0;
        memset(v, 0, sizeof *v);
        if (sscanf(line, "%*s %*s %127s %47s %*s %*s %lld %*s%n", v->flags, v->master, &v->epoch, &off) < 3) break;
        const char *s = line + off;
        while (*s == ' ') s++;
        snprintf(v->slots, sizeof v->slots, "%s", s);
        size_t len = strlen(v->slots);
        while (len > 0 && (v->slots[len - 1] == '\r' || v->slots[len - 1] == ' ')) v->slots[--len] = '\0';
        found = true;
    }
    free(all);
    return found;
}

/* `flag` is one of the comma-separated flags. */
static bool flag_has(const char *flags, const char *flag)
{
    size_t n = strlen(flag);
    for (const char *p = flags;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !strncmp(p, flag, n)) return true;
        if (!e) return false;
        p = e + 1;
    }
}

/* Node i's INFO `section` holds `field` (e.g. "role:master\r\n"). */
static bool info_has(int i, const char *section, const char *field)
{
    char *info = sc_cluster_text(&c, i, "INFO %s", section);
    bool ok = info && strstr(info, field);
    free(info);
    return ok;
}

static long long reply_ll(redisReply *r)
{
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    if (r) freeReplyObject(r);
    return v;
}

/* The node (index) whose port serves `slot` as master in node 0's
 * CLUSTER SLOTS; -1 when none. */
static int slot_owner(int slot)
{
    redisReply *r = sc_cluster_cmd_or_fail(&c, 0, "CLUSTER SLOTS");
    int owner = -1;
    for (size_t e = 0; r->type == REDIS_REPLY_ARRAY && e < r->elements; e++) {
        redisReply *en = r->element[e];
        if (en->element[0]->integer > slot || slot > en->element[1]->integer) continue;
        for (int i = 0; i < c.n; i++)
            if (en->element[2]->element[1]->integer == sc_cluster_port(&c, i)) owner = i;
    }
    freeReplyObject(r);
    return owner;
}

static int keyslot(const char *key)
{
    long long s = reply_ll(sc_cluster_cmd_or_fail(&c, 0, "CLUSTER KEYSLOT %s", key));
    cr_assert(s >= 0, "CLUSTER KEYSLOT %s", key);
    return (int)s;
}

/* A hash tag ("t<k>") whose slot node i serves, into tag[16]. */
static void tag_served_by(int i, char tag[16])
{
    for (int k = 0; k < 1000; k++) {
        char key[32];
        snprintf(tag, 16, "t%d", k);
        snprintf(key, sizeof key, "{%s}", tag);
        if (slot_owner(keyslot(key)) == i) return;
    }
    cr_assert_fail("no tag in 1000 hashes to a slot of node %d", i);
}

/* Every node runs with these: a full sync starts at once (no 5 s wait for
 * more replicas), and `extra` (may be NULL) after them. */
static const char *const *node_args(const char *extra, const char *value)
{
    static const char *args[8];
    int n = 0;
    args[n++] = "--repl-diskless-sync-delay";
    args[n++] = "0";
    if (extra) {
        args[n++] = extra;
        args[n++] = value;
    }
    args[n] = NULL;
    return args;
}

/* Node r lists itself as a replica of node m and its link is up (its
 * flags may carry "nofailover" too, unlike what steps_replica_ready
 * accepts). */
static bool replica_ready(int r, int m)
{
    node_view v;
    return view_of(r, ids[r], &v) && flag_has(v.flags, "myself") && flag_has(v.flags, "slave") &&
           !strcmp(v.master, ids[m]) && info_has(r, "replication", "master_link_status:up\r\n");
}

/* Every running node lists node r (r >= masters) as a replica of node
 * master_of[r - masters]. */
static bool replicas_known(int masters, const int *master_of)
{
    for (int i = 0; i < c.n; i++) {
        if (!sc_cluster_node_running(&c, i)) continue;
        for (int r = masters; r < c.n; r++) {
            node_view v;
            if (!view_of(i, ids[r], &v) || !flag_has(v.flags, "slave") || strcmp(v.master, ids[master_of[r - masters]]))
                return false;
        }
    }
    return true;
}

/* Start n nodes (node_args plus extra / value), give the first `masters`
 * the slots, MEET, then make every node r >= masters a replica of node
 * master_of[r - masters] (all at once, then each link up), and wait for
 * agreement. steps_form with a chosen master per replica. */
static void form(int n, int masters, const int *master_of, const char *extra, const char *value)
{
    sc_cluster_opts o = {.node_timeout_ms = NODE_TIMEOUT_MS, .extra_args = node_args(extra, value)};
    sc_cluster_start_or_fail(&c, n, &o);
    sc_cluster_addslots_split_or_fail(&c, masters);
    sc_cluster_meet_or_fail(&c);
    sc_cluster_wait_converged_or_fail(&c, 20000);
    load_ids();
    for (int r = masters; r < n; r++) {
        redisReply *rep = sc_cluster_cmd_or_fail(&c, r, "CLUSTER REPLICATE %s", ids[master_of[r - masters]]);
        cr_assert(sc_reply_is(rep, "OK"), "node %d: CLUSTER REPLICATE: %s", r, rep->str ? rep->str : "?");
        freeReplyObject(rep);
    }
    for (int r = masters; r < n; r++) {
        if (!SC_WAIT_FOR(replica_ready(r, master_of[r - masters]), 20000)) {
            sc_cluster_log_views(&c);
            cr_assert_fail("node %d did not become a replica of node %d", r, master_of[r - masters]);
        }
    }
    /* Every node knows every replica's master: a master drops a manual
     * failover request (MFSTART) from a node it does not know as its
     * replica, and flags a master orphaned only once it knew it had one. */
    if (!SC_WAIT_FOR(replicas_known(masters, master_of), 20000)) {
        sc_cluster_log_views(&c);
        cr_assert_fail("not every node knows every replica's master");
    }
    sc_cluster_wait_converged_or_fail(&c, 20000);
}

/* What must hold on every running node. */
typedef struct {
    int master;        /* a master (not failing) serving exactly `slots` */
    const char *slots;
    int replica;       /* -1, or a replica of `master`, syncing from it */
    int failed;        /* -1, or a node everybody flags fail */
} roles;

static bool roles_hold(sc_cluster *cl, void *arg)
{
    const roles *w = arg;
    for (int i = 0; i < cl->n; i++) {
        if (!sc_cluster_node_running(cl, i)) continue;
        node_view v;
        if (!view_of(i, ids[w->master], &v) || !flag_has(v.flags, "master") || flag_has(v.flags, "fail") ||
            flag_has(v.flags, "fail?") || strcmp(v.slots, w->slots) != 0)
            return false;
        if (w->replica >= 0 && (!view_of(i, ids[w->replica], &v) || !flag_has(v.flags, "slave") ||
                                strcmp(v.master, ids[w->master]) != 0 || v.slots[0]))
            return false;
        if (w->failed >= 0 && (!view_of(i, ids[w->failed], &v) || !flag_has(v.flags, "fail"))) return false;
    }
    if (!info_has(w->master, "replication", "role:master\r\n")) return false;
    if (w->replica >= 0) {
        char port[64];
        snprintf(port, sizeof port, "master_port:%d\r\n", sc_cluster_port(cl, w->master));
        if (!info_has(w->replica, "replication", "role:slave\r\n") || !info_has(w->replica, "replication", port) ||
            !info_has(w->replica, "replication", "master_link_status:up\r\n"))
            return false;
    }
    return true;
}

static void wait_roles_or_fail(const roles *w, int ms, const char *what)
{
    if (sc_cluster_wait_for(&c, roles_hold, (void *)w, ms)) return;
    sc_cluster_log_views(&c);
    cr_assert_fail("%s: within %d ms, not every node shows node %d as master of %s%s%s", what, sc_scaled_ms(ms),
                   w->master, w->slots, w->replica >= 0 ? " with its replica synced" : "",
                   w->failed >= 0 ? " and the failed node flagged fail" : "");
}

/* Node i's own slots (from its CLUSTER NODES line), into out[512]. */
static void own_slots(int i, char *out)
{
    node_view v;
    cr_assert(view_of(i, ids[i], &v), "node %d does not list itself", i);
    cr_assert(v.slots[0], "node %d serves no slot", i);
    memcpy(out, v.slots, sizeof v.slots);
}

static long long epoch_of(int i, const char *id)
{
    node_view v;
    cr_assert(view_of(i, id, &v), "node %d does not list %.40s", i, id);
    return v.epoch;
}

/* One command on a fresh raw connection to node i; its reply must be
 * exactly `expect` (bytes, CRLF included). */
static void expect_raw(int i, const char *line, const char *expect)
{
    int fd = sc_raw_connect_or_fail(sc_cluster_port(&c, i));
    sc_raw_send_line_or_fail(fd, line);
    cr_assert(sc_raw_expect(fd, expect, 5000), "node %d: %s: not %s", i, line, expect);
    close(fd);
}

/* ---- writer: SET then WAIT 1 ------------------------------------------- */

#define SET_WRITES_MAX 100000

typedef struct {
    redisContext *ctx;
    const char *tag;
    atomic_int acked;      /* writes WAIT confirmed on >= 1 replica */
    atomic_int sent;       /* writes sent (the last may be in flight) */
    atomic_bool killed;    /* the master is being killed: EOF expected */
    bool ok[SET_WRITES_MAX]; /* read by the main thread after the join */
} set_writer;

static set_writer sw;

static void *set_writer_run(void *arg)
{
    set_writer *w = arg;
    for (int i = 0; i < SET_WRITES_MAX; i++) {
        redisAppendCommand(w->ctx, "SET {%s}k%d v%d", w->tag, i, i);
        redisAppendCommand(w->ctx, "WAIT 1 1000");
        atomic_store_explicit(&w->sent, i + 1, memory_order_relaxed);
        redisReply *set = NULL, *wait = NULL;
        if (redisGetReply(w->ctx, (void **)&set) != REDIS_OK || redisGetReply(w->ctx, (void **)&wait) != REDIS_OK) {
            if (!atomic_load_explicit(&w->killed, memory_order_acquire))
                sc_thread_fail("write %d: the connection broke before the kill: %s", i, w->ctx->errstr);
            if (set) freeReplyObject(set);
            break;
        }
        if (!sc_reply_is(set, "OK")) {
            sc_thread_fail("write %d: SET answered %s", i, set->str ? set->str : "(not a string)");
        } else if (wait->type != REDIS_REPLY_INTEGER) {
            sc_thread_fail("write %d: WAIT answered %s", i, wait->str ? wait->str : "(not an integer)");
        } else if (wait->integer >= 1) {
            w->ok[i] = true;
            atomic_fetch_add_explicit(&w->acked, 1, memory_order_relaxed);
        }
        freeReplyObject(set);
        freeReplyObject(wait);
        if (sc_thread_failures()) break;
    }
    return NULL;
}

/* A SET on node i is accepted (no MOVED, no CLUSTERDOWN). */
static bool set_accepted(int i, const char *key)
{
    redisReply *r = sc_cluster_cmd(&c, i, "SET %s x", key);
    bool ok = sc_reply_is(r, "OK");
    if (r) freeReplyObject(r);
    return ok;
}

/* DBSIZE of nodes a and b agree. */
typedef struct {
    int a, b;
} pair;

static bool dbsize_equal(sc_cluster *cl, void *arg)
{
    const pair *p = arg;
    long long x = reply_ll(sc_cluster_cmd(cl, p->a, "DBSIZE")), y = reply_ll(sc_cluster_cmd(cl, p->b, "DBSIZE"));
    return x >= 0 && x == y;
}

/* ---- writer: INCR following MOVED, retrying TRYAGAIN ------------------- */

typedef struct {
    char key[32];
    int port;              /* where the next INCR goes */
    int new_master_port;   /* INCRs answered there count in on_new */
    atomic_bool stop;
    atomic_llong acked;    /* INCRs answered with an integer */
    atomic_llong on_new;   /* of which on new_master_port */
    atomic_llong tryagain, moved;
    atomic_llong locks;    /* lock scripts answered +OK ({tag}lock0, lock1, ...) */
} incr_writer;

static incr_writer iw;

/* What a master answers a write while it hands over (server/writepause.h). */
#define WRITES_PAUSED "TRYAGAIN Writes are paused while this master hands over to its replica"

static redisContext *connect_port(int port)
{
    int ms = sc_scaled_ms(5000);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    redisContext *x = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (!x || x->err) {
        sc_thread_fail("connect to %d: %s", port, x ? x->errstr : "oom");
        if (x) redisFree(x);
        return NULL;
    }
    redisSetTimeout(x, tv);
    return x;
}

/* redlock's acquire script, which slotcache recognises and runs natively:
 * a script write the hand-over must hold back too. */
#define LOCK_SCRIPT "return redis.call(\"set\", KEYS[1], ARGV[1], \"NX\", \"PX\", ARGV[2])"

/* One write, until it is answered: INCR of w->key (an integer), or with
 * lock_n >= 0 the lock script on {tag}lock<lock_n> (+OK). Follows -MOVED,
 * sleeps a little on -TRYAGAIN, for at most 20 s (scaled). False (a
 * failure recorded) otherwise: a broken connection leaves the write's fate
 * unknown. */
static bool write_once(incr_writer *w, redisContext **x, long long lock_n, long long *value)
{
    long long deadline = sc_now_ms() + sc_scaled_ms(20000);
    char lock_key[64];
    snprintf(lock_key, sizeof lock_key, "%.*slock%lld", (int)(strchr(w->key, '}') - w->key + 1), w->key, lock_n);
    for (;;) {
        if (!*x && !(*x = connect_port(w->port))) return false;
        redisReply *r = lock_n < 0 ? redisCommand(*x, "INCR %s", w->key)
                                   : redisCommand(*x, "EVAL %s 1 %s tok 600000", LOCK_SCRIPT, lock_key);
        if (!r) {
            sc_thread_fail("write on %d: the connection broke (%s): the write may or may not have run", w->port,
                           (*x)->errstr);
            return false;
        }
        if (lock_n < 0 && r->type == REDIS_REPLY_INTEGER) {
            *value = r->integer;
            freeReplyObject(r);
            return true;
        }
        if (lock_n >= 0 && r->type == REDIS_REPLY_STATUS && !strcmp(r->str, "OK")) {
            freeReplyObject(r);
            return true;
        }
        int port = 0;
        if (r->type == REDIS_REPLY_ERROR && sscanf(r->str, "MOVED %*d %*[^:]:%d", &port) == 1) {
            atomic_fetch_add_explicit(&w->moved, 1, memory_order_relaxed);
            redisFree(*x);
            *x = NULL;
            w->port = port;
        } else if (r->type == REDIS_REPLY_ERROR && !strcmp(r->str, WRITES_PAUSED)) {
            atomic_fetch_add_explicit(&w->tryagain, 1, memory_order_relaxed);
            sc_sleep_ms(2);
        } else {
            sc_thread_fail("write on %d: %s", w->port, r->str ? r->str : "(not the expected reply)");
            freeReplyObject(r);
            return false;
        }
        freeReplyObject(r);
        if (sc_now_ms() > deadline) {
            sc_thread_fail("write on %d: no answer but MOVED / TRYAGAIN for 20 s", w->port);
            return false;
        }
    }
}

static void *incr_writer_run(void *arg)
{
    incr_writer *w = arg;
    redisContext *x = NULL;
    while (!atomic_load_explicit(&w->stop, memory_order_acquire)) {
        long long value;
        /* Every INCR is followed by a lock taken through the script. */
        if (!write_once(w, &x, -1, &value)) break;
        if (!write_once(w, &x, atomic_load(&w->acked), &value)) break;
        atomic_fetch_add_explicit(&w->locks, 1, memory_order_relaxed);
        long long n = atomic_fetch_add_explicit(&w->acked, 1, memory_order_relaxed) + 1;
        if (w->port == w->new_master_port) atomic_fetch_add_explicit(&w->on_new, 1, memory_order_relaxed);
        if (value != n) {
            sc_thread_fail("INCR number %lld answered %lld on %d: a write %s", n, value, w->port,
                           value < n ? "was lost" : "ran twice");
            break;
        }
    }
    if (x) redisFree(x);
    return NULL;
}

/* ---- tests ------------------------------------------------------------- */

/* Masters 0, 1, 2; node 3 + k replicates node k. The victim serves {t}. */
Test(failover, kill9_master_replica_takes_over)
{
    form(6, 3, (const int[]){0, 1, 2}, NULL, NULL);
    int victim = slot_owner(keyslot("{t}")), rep = victim + 3;
    cr_assert(victim >= 0 && victim < 3, "{t} served by node %d", victim);
    char slots[512];
    own_slots(victim, slots);

    /* The writer, until some hundreds of writes are acknowledged. */
    sc_thread_fail_reset();
    memset(&sw, 0, sizeof sw);
    sw.ctx = sc_connect_or_fail(&c.node[victim]);
    sw.tag = "t";
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, set_writer_run, &sw), 0);
    bool enough = SC_WAIT_FOR(atomic_load(&sw.acked) >= 300 || sc_thread_failures(), 30000);
    atomic_store_explicit(&sw.killed, true, memory_order_release);
    if (!enough || sc_thread_failures()) {
        shutdown(sw.ctx->fd, SHUT_RDWR);
        pthread_join(th, NULL);
        redisFree(sw.ctx);
        sc_no_thread_failures_or_fail();
        cr_assert_fail("only %d writes acknowledged by WAIT in 30 s", atomic_load(&sw.acked));
    }

    /* kill -9 while the writer runs; time the first SET the replica takes. */
    sc_cluster_kill9(&c, victim);
    long long t_kill = sc_now_ms();
    pthread_join(th, NULL);
    redisFree(sw.ctx);
    sc_no_thread_failures_or_fail();
    int sent = atomic_load(&sw.sent), acked = atomic_load(&sw.acked);
    bool took = SC_WAIT_FOR(set_accepted(rep, "{t}probe"), 30000);
    long long t_first = sc_now_ms() - t_kill;
    if (!took) sc_cluster_log_views(&c);
    cr_assert(took, "node %d (the replica) took no SET within %d ms of the kill", rep, sc_scaled_ms(30000));
    note("kill -9 of the master to the first SET on its replica: %lld ms (node timeout %d ms)", t_first,
         c.node_timeout_ms);

    roles after = {.master = rep, .slots = slots, .replica = -1, .failed = victim};
    wait_roles_or_fail(&after, 20000, "after the kill");
    sc_cluster_wait_converged_or_fail(&c, 20000);

    /* Every acknowledged write is there with its value. */
    redisContext *x = sc_cluster_ctx_or_fail(&c, rep);
    int missing = 0, wrong = 0, unacked_kept = 0, first_bad = -1;
    for (int from = 0; from < sent; from += 1000) {
        int to = from + 1000 < sent ? from + 1000 : sent;
        for (int i = from; i < to; i++) redisAppendCommand(x, "GET {t}k%d", i);
        for (int i = from; i < to; i++) {
            redisReply *r = NULL;
            cr_assert_eq(redisGetReply(x, (void **)&r), REDIS_OK, "GET on node %d: %s", rep, x->errstr);
            char want[32];
            snprintf(want, sizeof want, "v%d", i);
            bool there = r->type == REDIS_REPLY_STRING;
            if (sw.ok[i] && (!there || strcmp(r->str, want) != 0)) {
                if (first_bad < 0) first_bad = i;
                if (there) wrong++;
                else missing++;
            } else if (!sw.ok[i] && there) {
                unacked_kept++;
            }
            freeReplyObject(r);
        }
    }
    note("%d writes sent, %d acknowledged by WAIT, %d unacknowledged ones kept too", sent, acked, unacked_kept);
    cr_assert(missing == 0 && wrong == 0, "acknowledged writes lost: %d missing, %d with another value (first {t}k%d)",
              missing, wrong, first_bad);

    /* The old master, restarted from its nodes.conf, follows the new one. */
    sc_cluster_restart_node_or_fail(&c, victim);
    roles back = {.master = rep, .slots = slots, .replica = victim, .failed = -1};
    wait_roles_or_fail(&back, 30000, "the old master restarted");
    sc_cluster_wait_converged_or_fail(&c, 20000);
    pair p = {victim, rep};
    cr_assert(sc_cluster_wait_for(&c, dbsize_equal, &p, 20000),
              "the old master did not sync the dataset: %lld keys, %lld on the new master",
              reply_ll(sc_cluster_cmd(&c, victim, "DBSIZE")), reply_ll(sc_cluster_cmd(&c, rep, "DBSIZE")));
    sc_cluster_stop_or_fail(&c);
}

/* Masters 0, 1, 2; node 3 + k replicates node k. M = 0, R = 3. */
Test(failover, manual_failover_under_load_loses_nothing)
{
    form(6, 3, (const int[]){0, 1, 2}, NULL, NULL);
    const int m = 0, r = 3;
    char slots[512], tag[16];
    own_slots(m, slots);
    tag_served_by(m, tag);

    sc_thread_fail_reset();
    memset(&iw, 0, sizeof iw);
    snprintf(iw.key, sizeof iw.key, "{%s}counter", tag);
    iw.port = sc_cluster_port(&c, m);
    iw.new_master_port = sc_cluster_port(&c, r);
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, incr_writer_run, &iw), 0);
    bool running = SC_WAIT_FOR(atomic_load(&iw.acked) >= 200 || sc_thread_failures(), 20000);

    redisReply *ok = running && !sc_thread_failures() ? sc_cluster_cmd(&c, r, "CLUSTER FAILOVER") : NULL;
    bool asked = sc_reply_is(ok, "OK");
    if (ok) freeReplyObject(ok);
    long long t0 = sc_now_ms(), acked_before = atomic_load(&iw.acked);
    roles swapped = {.master = r, .slots = slots, .replica = m, .failed = -1};
    bool done = asked && sc_cluster_wait_for(&c, roles_hold, &swapped, 30000);
    long long took = sc_now_ms() - t0;
    /* A little more load on the new master. */
    bool more = done && SC_WAIT_FOR(atomic_load(&iw.on_new) >= 200 || sc_thread_failures(), 15000);
    atomic_store_explicit(&iw.stop, true, memory_order_release);
    pthread_join(th, NULL);
    sc_no_thread_failures_or_fail();
    cr_assert(running, "the writer got %lld INCRs answered in 20 s", (long long)atomic_load(&iw.acked));
    cr_assert(asked, "CLUSTER FAILOVER on node %d was refused", r);
    if (!done) sc_cluster_log_views(&c);
    cr_assert(done, "the roles did not swap everywhere within %d ms of CLUSTER FAILOVER", sc_scaled_ms(30000));
    cr_assert(more, "the writer got %lld INCRs answered by the new master", (long long)atomic_load(&iw.on_new));

    long long acked = atomic_load(&iw.acked);
    note("manual failover: roles swapped everywhere %lld ms after CLUSTER FAILOVER; %lld INCRs answered "
         "(%lld before it, %lld by the new master), %lld TRYAGAIN, %lld MOVED",
         took, acked, acked_before, (long long)atomic_load(&iw.on_new), (long long)atomic_load(&iw.tryagain),
         (long long)atomic_load(&iw.moved));
    char *v = sc_cluster_text(&c, r, "GET %s", iw.key);
    cr_assert(v, "GET %s on the new master", iw.key);
    cr_assert_eq(atoll(v), acked, "the counter is %s on the new master, %lld INCRs were answered", v, acked);
    free(v);
    cr_assert(atomic_load(&iw.on_new) >= 1, "no INCR answered by the new master");
    /* Every lock the script took is on the new master. */
    long long locks = atomic_load(&iw.locks), lost_locks = 0;
    for (long long i = 0; i < locks; i++) {
        char *g = sc_cluster_text(&c, r, "GET {%s}lock%lld", tag, i);
        if (!g || strcmp(g, "tok") != 0) lost_locks++;
        free(g);
    }
    cr_assert_eq(lost_locks, 0, "%lld of %lld locks taken through the script are not on the new master", lost_locks,
                 locks);

    /* The old master, a replica now, has the same count. */
    freeReplyObject(sc_cluster_cmd_or_fail(&c, m, "READONLY"));
    char want[32];
    snprintf(want, sizeof want, "%lld", acked);
    bool same = SC_WAIT_FOR(({
                                char *g = sc_cluster_text(&c, m, "GET %s", iw.key);
                                bool eq = g && !strcmp(g, want);
                                free(g);
                                eq;
                            }),
                            10000);
    cr_assert(same, "the old master (now a replica) does not reach the counter %lld", acked);
    sc_cluster_stop_or_fail(&c);
}

/* Masters 0, 1, 2 and node 3 replicating node 0, every node with
 * cluster-replica-no-failover yes, so nothing fails over unasked. */
static void form_no_failover(char slots[512])
{
    form(4, 3, (const int[]){0}, "--cluster-replica-no-failover", "yes");
    own_slots(0, slots);
    roles start = {.master = 0, .slots = slots, .replica = 3, .failed = -1};
    wait_roles_or_fail(&start, 20000, "forming");
}

/* Every node but `dead` flags node `dead` fail. */
static bool flagged_fail_by_all(int dead)
{
    for (int i = 0; i < c.n; i++) {
        node_view v;
        if (i != dead && sc_cluster_node_running(&c, i) && (!view_of(i, ids[dead], &v) || !flag_has(v.flags, "fail")))
            return false;
    }
    return true;
}

/* A FAILOVER variant sent to node `to` swaps the roles of `to` and
 * `from` everywhere; the winner's configEpoch ends above every epoch the
 * nodes showed before. */
static void swap_roles_or_fail(int to, int from, const char *variant, const char *slots)
{
    long long before = 0;
    for (int i = 0; i < c.n; i++) {
        long long e = epoch_of(to, ids[i]);
        if (e > before) before = e;
    }
    char line[64];
    snprintf(line, sizeof line, "CLUSTER FAILOVER %s", variant);
    expect_raw(to, line, "+OK\r\n");
    long long t0 = sc_now_ms();
    roles swapped = {.master = to, .slots = slots, .replica = from, .failed = -1};
    wait_roles_or_fail(&swapped, 30000, line);
    note("%s: roles swapped everywhere in %lld ms", line, sc_now_ms() - t0);
    sc_cluster_wait_converged_or_fail(&c, 20000);
    for (int i = 0; i < c.n; i++) {
        long long e = epoch_of(i, ids[to]);
        cr_assert_gt(e, before, "%s: node %d shows the new master's configEpoch %lld, not above %lld", line, i, e,
                     before);
    }
}

Test(failover, failover_force_and_takeover)
{
    char slots[512];
    form_no_failover(slots);

    /* The errors, byte for byte as Redis 7.0.15 (the syntax is checked
     * before the role; the subcommand is quoted as sent). */
    expect_raw(0, "CLUSTER FAILOVER", "-ERR You should send CLUSTER FAILOVER to a replica\r\n");
    expect_raw(0, "CLUSTER FAILOVER FORCE", "-ERR You should send CLUSTER FAILOVER to a replica\r\n");
    expect_raw(0, "CLUSTER FAILOVER TAKEOVER", "-ERR You should send CLUSTER FAILOVER to a replica\r\n");
    expect_raw(0, "CLUSTER FAILOVER bogus", "-ERR syntax error\r\n");
    expect_raw(3, "CLUSTER FAILOVER bogus", "-ERR syntax error\r\n");
    expect_raw(3, "CLUSTER failover a b",
               "-ERR unknown subcommand or wrong number of arguments for 'failover'. Try CLUSTER HELP.\r\n");
    expect_raw(3, "CLUSTER FAILOVER a b",
               "-ERR unknown subcommand or wrong number of arguments for 'FAILOVER'. Try CLUSTER HELP.\r\n");

    /* The master killed, its replica barred from failing over by itself:
     * plain FAILOVER is refused once the master is flagged fail, FORCE
     * promotes. */
    sc_cluster_kill9(&c, 0);
    bool flagged = SC_WAIT_FOR(flagged_fail_by_all(0), 20000);
    if (!flagged) sc_cluster_log_views(&c);
    cr_assert(flagged, "the killed master is not flagged fail everywhere");
    expect_raw(3, "CLUSTER FAILOVER", "-ERR Master is down or failed, please use CLUSTER FAILOVER FORCE\r\n");
    node_view v3;
    cr_assert(view_of(3, ids[3], &v3) && flag_has(v3.flags, "slave"),
              "node 3 (cluster-replica-no-failover) failed over by itself: %s", v3.flags);
    expect_raw(3, "CLUSTER FAILOVER FORCE", "+OK\r\n");
    long long t0 = sc_now_ms();
    roles promoted = {.master = 3, .slots = slots, .replica = -1, .failed = 0};
    wait_roles_or_fail(&promoted, 30000, "CLUSTER FAILOVER FORCE with the master down");
    note("CLUSTER FAILOVER FORCE with the master down: promoted everywhere in %lld ms", sc_now_ms() - t0);
    sc_cluster_wait_converged_or_fail(&c, 20000);

    /* The old master comes back as a replica; FORCE on it while its master
     * runs, then TAKEOVER back: the roles swap, the epoch grows. */
    sc_cluster_restart_node_or_fail(&c, 0);
    roles back = {.master = 3, .slots = slots, .replica = 0, .failed = -1};
    wait_roles_or_fail(&back, 30000, "the old master restarted");
    swap_roles_or_fail(0, 3, "FORCE", slots);
    swap_roles_or_fail(3, 0, "TAKEOVER", slots);
    sc_cluster_stop_or_fail(&c);
}

/* A replica that won an election, was demoted (TAKEOVER) and is asked to
 * fail over again soon after (its master killed, FORCE at once) must not
 * count the votes of its last election: it takes the slots only with a
 * configEpoch above the dead master's, after a new election. That one may
 * be refused (a master votes about the same master's replicas once per
 * 2 x node timeout), so FORCE is sent again after each manual failover
 * timeout (5 s) while node 3 is still a replica. */
Test(failover, force_soon_after_a_won_election)
{
    char slots[512];
    form_no_failover(slots);
    swap_roles_or_fail(3, 0, "FORCE", slots);
    swap_roles_or_fail(0, 3, "TAKEOVER", slots);
    long long dead_epoch = epoch_of(1, ids[0]);
    sc_cluster_kill9(&c, 0);
    long long t0 = sc_now_ms(), deadline = t0 + sc_scaled_ms(30000), next_force = t0;
    roles promoted = {.master = 3, .slots = slots, .replica = -1, .failed = 0};
    int forces = 0;
    while (!roles_hold(&c, &promoted)) {
        node_view v;
        cr_assert(view_of(3, ids[3], &v), "node 3 does not list itself");
        if (flag_has(v.flags, "master") && v.epoch <= dead_epoch) {
            sc_cluster_log_views(&c);
            cr_assert_fail("node 3 took the slots with configEpoch %lld, not above the dead master's %lld, "
                           "%lld ms after FORCE number %d: it counted the votes of its previous election "
                           "(see its log: \"Failover election won\" with no \"Starting a failover election\")",
                           v.epoch, dead_epoch, sc_now_ms() - t0, forces);
        }
        if (flag_has(v.flags, "slave") && sc_now_ms() >= next_force) {
            expect_raw(3, "CLUSTER FAILOVER FORCE", "+OK\r\n");
            forces++;
            next_force = sc_now_ms() + sc_scaled_ms(6000);
        }
        if (sc_now_ms() > deadline) {
            sc_cluster_log_views(&c);
            cr_assert_fail("node 3 not promoted everywhere within %d ms (%d FORCE)", sc_scaled_ms(30000), forces);
        }
        sc_sleep_ms(20);
    }
    note("FORCE soon after a won election: promoted everywhere in %lld ms (%d FORCE)", sc_now_ms() - t0, forces);
    long long e = epoch_of(3, ids[3]);
    cr_assert_gt(e, dead_epoch, "the new master's configEpoch %lld is not above the dead master's %lld", e, dead_epoch);
    sc_cluster_wait_converged_or_fail(&c, 20000);
    sc_cluster_stop_or_fail(&c);
}

/* Which of A's replicas went over to C. */
typedef struct {
    const char *c_slots;
    int moved; /* 3 or 6, once seen */
} migration;

static bool migrated(sc_cluster *cl, void *arg)
{
    migration *m = arg;
    for (int k = 3; k <= 6; k += 3) {
        roles w = {.master = 2, .slots = m->c_slots, .replica = k, .failed = 5};
        if (roles_hold(cl, &w)) {
            m->moved = k;
            return true;
        }
    }
    return false;
}

/* Masters A = 0, B = 1, C = 2; A has replicas 3 and 6, B 4, C 5. */
Test(failover, orphaned_master_gets_a_replica)
{
    form(7, 3, (const int[]){0, 1, 2, 0}, NULL, NULL);
    char a_slots[512], c_slots[512];
    own_slots(0, a_slots);
    own_slots(2, c_slots);

    sc_cluster_kill9(&c, 5);
    long long t0 = sc_now_ms();
    bool flagged = SC_WAIT_FOR(flagged_fail_by_all(5), 20000);
    if (!flagged) sc_cluster_log_views(&c);
    cr_assert(flagged, "the killed replica is not flagged fail everywhere");
    note("replica migration: the killed replica flagged fail everywhere %lld ms after the kill", sc_now_ms() - t0);
    migration m = {.c_slots = c_slots, .moved = -1};
    if (!sc_cluster_wait_for(&c, migrated, &m, 30000)) {
        sc_cluster_log_views(&c);
        cr_assert_fail("no replica of node 0 migrated to the orphaned node 2 within %d ms", sc_scaled_ms(30000));
    }
    note("replica migration: node %d follows the orphaned master %lld ms after its replica's kill", m.moved,
         sc_now_ms() - t0);
    /* Only one goes: A keeps the other. */
    roles kept = {.master = 0, .slots = a_slots, .replica = m.moved == 3 ? 6 : 3, .failed = 5};
    wait_roles_or_fail(&kept, 5000, "the other replica of node 0");
    sc_cluster_stop_or_fail(&c);
}
