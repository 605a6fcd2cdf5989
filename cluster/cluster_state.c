/*
 * cluster_state.c - cluster mode's state (cluster_state.h): the node table
 * and its name index, slots, replicas, failure reports, epochs, the FORGET
 * blacklist, cluster_state ok/fail, the lock, and the todo items that
 * cluster_apply_todo() runs before anything leaves the process.
 *
 * Design: one mutex guards everything (the bus thread owns the state,
 * workers enter it only inside CLUSTER commands); nodes live in a dense
 * array with an open-addressing index by name beside it, rebuilt on
 * deletion (nodes are deleted rarely: FORGET, RESET, handshake timeouts).
 * The behaviour follows Redis 7.0.15's cluster.c function by function; the
 * function each one mirrors is named in the header.
 */
#include "cluster_state.h"

#include "bus.h"
#include "cluster_api.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "mem.h"
#include "process.h"
#include "repl.h"
#include "repl_replica.h"

#include "ktable.h"
#include "slot_migration.h"
#include "slotlock.h"
#include "writepause.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

cluster_state *cluster;

/* ---- the lock ---- */

static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local char thread_tag; /* its address names the thread */
static _Atomic uintptr_t lock_owner;

/* How many times this thread holds the lock: a transaction of CLUSTER
 * commands holds it across its queue (cluster_tx_begin) while each
 * handler takes and releases it as alone. */
static _Thread_local int lock_depth;

void cluster_lock(void) {
    if (lock_depth++ > 0) return;
    pthread_mutex_lock(&state_lock);
    atomic_store_explicit(&lock_owner, (uintptr_t)&thread_tag, memory_order_relaxed);
}

void cluster_unlock(void) {
    assert(lock_depth > 0);
    if (--lock_depth > 0) return;
    atomic_store_explicit(&lock_owner, 0, memory_order_relaxed);
    pthread_mutex_unlock(&state_lock);
}

void cluster_assert_locked(void) {
    assert(atomic_load_explicit(&lock_owner, memory_order_relaxed) == (uintptr_t)&thread_tag);
}

/* ---- configuration by name (cluster-* settings are few and cold) ---- */

long long cluster_cfg_ll(const char *name) {
    char v[64];
    if (cfg_get_string(name, v, sizeof v) == 0) return 0;
    return strtoll(v, NULL, 10);
}

bool cluster_cfg_bool(const char *name) {
    char v[16];
    if (cfg_get_string(name, v, sizeof v) == 0) return false;
    return !strcasecmp(v, "yes");
}

int cluster_endpoint_type(void) {
    char v[32];
    cfg_get_string("cluster-preferred-endpoint-type", v, sizeof v);
    if (!strcasecmp(v, "hostname")) return CLUSTER_ENDPOINT_HOSTNAME;
    if (!strcasecmp(v, "unknown-endpoint")) return CLUSTER_ENDPOINT_UNKNOWN;
    return CLUSTER_ENDPOINT_IP;
}

int cluster_bus_port(void) {
    long long cport = cluster_cfg_ll("cluster-port");
    return (int)(cport ? cport : cfg_get(port) + CLUSTER_PORT_INCR);
}

/* ---- todo ---- */

void cluster_todo(int flags) {
    cluster_assert_locked();
    cluster->todo |= flags;
}

int cluster_take_todo(int flags) {
    cluster_assert_locked();
    int got = cluster->todo & flags;
    cluster->todo &= ~flags;
    return got;
}

void cluster_apply_todo(void) {
    cluster_assert_locked();
    /* clusterCron re-evaluates a failed state every tick: that is how a
     * master leaves the writable delay. */
    if (cluster->todo & CLUSTER_TODO_UPDATE_STATE || cluster->state == CLUSTER_FAIL) cluster_update_state();
    /* clusterCron: a replica whose replication is not set up (a restart
     * from nodes.conf) follows its master. */
    cluster_node *me = cluster->myself, *master = me ? me->slaveof : NULL;
    if (master && (me->flags & CLUSTER_NODE_SLAVE) && !(master->flags & CLUSTER_NODE_NOADDR) && master->ip[0] &&
        !repl_is_replica())
        repl_replica_set_master(master->ip, master->port);
    if (cluster->todo & CLUSTER_TODO_SAVE_CONFIG) cluster_save_config_or_die(cluster->todo & CLUSTER_TODO_FSYNC_CONFIG);
    if (cluster->todo & CLUSTER_TODO_PUBLISH) {
        cluster->todo &= ~CLUSTER_TODO_PUBLISH;
        slotmap_publish();
    }
}

/* ---- the name index ---- */

static cluster_node **index_slots; /* open addressing, power-of-two size */
static size_t index_cap;

static uint64_t name_hash(const char *name) {
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < CLUSTER_NAMELEN; i++) h = (h ^ (unsigned char)name[i]) * 1099511628211ULL;
    return h;
}

static void index_put(cluster_node *n) {
    size_t i = name_hash(n->name) & (index_cap - 1);
    while (index_slots[i]) i = (i + 1) & (index_cap - 1);
    index_slots[i] = n;
}

static void index_rebuild(size_t want_cap) {
    mem_free(index_slots);
    index_cap = want_cap;
    index_slots = mem_calloc(index_cap, sizeof *index_slots);
    for (int i = 0; i < cluster->nnodes; i++) index_put(cluster->nodes[i]);
}

static size_t index_cap_for(int nnodes) {
    size_t cap = 16;
    while (cap < (size_t)nnodes * 2 + 2) cap *= 2;
    return cap;
}

bool cluster_verify_node_id(const char *name, size_t len) {
    if (len != CLUSTER_NAMELEN) return false;
    for (size_t i = 0; i < len; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9'))) return false;
    return true;
}

cluster_node *cluster_lookup_node(const char *name, size_t len) {
    cluster_assert_locked();
    if (!cluster_verify_node_id(name, len) || !index_cap) return NULL;
    size_t i = name_hash(name) & (index_cap - 1);
    for (cluster_node *n; (n = index_slots[i]) != NULL; i = (i + 1) & (index_cap - 1))
        if (!memcmp(n->name, name, CLUSTER_NAMELEN)) return n;
    return NULL;
}

/* ---- nodes ---- */

cluster_node *cluster_node_create(const char *name, int flags) {
    cluster_node *n = mem_calloc(1, sizeof *n);
    if (name) memcpy(n->name, name, CLUSTER_NAMELEN);
    else process_random_hex(n->name, CLUSTER_NAMELEN);
    n->flags = flags;
    n->ctime = mstime();
    return n;
}

void cluster_node_free(cluster_node *n) {
    if (!n) return;
    mem_free(n->slaves);
    mem_free(n->fail_reports);
    mem_free(n);
}

void cluster_node_add(cluster_node *n) {
    cluster_assert_locked();
    assert(!cluster_lookup_node(n->name, CLUSTER_NAMELEN));
    cluster->nodes = mem_realloc(cluster->nodes, (size_t)(cluster->nnodes + 1) * sizeof *cluster->nodes);
    cluster->nodes[cluster->nnodes++] = n;
    if ((size_t)cluster->nnodes * 2 + 2 > index_cap) index_rebuild(index_cap_for(cluster->nnodes));
    else index_put(n);
    cluster->todo |= CLUSTER_TODO_PUBLISH;
}

void cluster_node_del(cluster_node *del) {
    cluster_assert_locked();
    for (int j = 0; j < CLUSTER_SLOTS; j++) {
        if (cluster->importing_slots_from[j] == del) cluster->importing_slots_from[j] = NULL;
        if (cluster->migrating_slots_to[j] == del) cluster->migrating_slots_to[j] = NULL;
        if (cluster->slots[j] == del) cluster_del_slot(j);
    }
    for (int i = 0; i < cluster->nnodes; i++)
        if (cluster->nodes[i] != del) cluster_node_del_failure_report(cluster->nodes[i], del);
    /* freeClusterNode: replicas lose their master, the master its replica. */
    for (int j = 0; j < del->numslaves; j++) del->slaves[j]->slaveof = NULL;
    if ((del->flags & CLUSTER_NODE_SLAVE) && del->slaveof) cluster_node_remove_replica(del->slaveof, del);
    if (cluster->mf_slave == del) cluster->mf_slave = NULL;
    const cluster_bus_hooks *h = cluster_get_bus_hooks();
    if ((del->link || del->inbound_link) && h->node_freed) h->node_freed(del);
    for (int i = 0; i < cluster->nnodes; i++) {
        if (cluster->nodes[i] != del) continue;
        cluster->nodes[i] = cluster->nodes[--cluster->nnodes];
        break;
    }
    index_rebuild(index_cap_for(cluster->nnodes));
    cluster_node_free(del);
    cluster->todo |= CLUSTER_TODO_PUBLISH;
}

void cluster_node_rename(cluster_node *n, const char *newname) {
    cluster_assert_locked();
    log_debug("Renaming node %.40s into %.40s", n->name, newname);
    memcpy(n->name, newname, CLUSTER_NAMELEN);
    index_rebuild(index_cap_for(cluster->nnodes));
    cluster->todo |= CLUSTER_TODO_PUBLISH;
}

void cluster_node_set_hostname(cluster_node *n, const char *s, size_t len) {
    cluster_assert_locked();
    if (!s) len = 0;
    if (len > CLUSTER_HOSTNAME_MAX) len = CLUSTER_HOSTNAME_MAX;
    if (strlen(n->hostname) == len && (len == 0 || !memcmp(n->hostname, s, len))) return;
    if (len) memcpy(n->hostname, s, len);
    n->hostname[len] = '\0';
    cluster->todo |= CLUSTER_TODO_PUBLISH;
}

/* ---- masters and replicas ---- */

bool cluster_node_remove_replica(cluster_node *master, cluster_node *replica) {
    for (int j = 0; j < master->numslaves; j++) {
        if (master->slaves[j] != replica) continue;
        memmove(master->slaves + j, master->slaves + j + 1, (size_t)(master->numslaves - j - 1) * sizeof *master->slaves);
        if (--master->numslaves == 0) master->flags &= ~CLUSTER_NODE_MIGRATE_TO;
        cluster->todo |= CLUSTER_TODO_PUBLISH;
        return true;
    }
    return false;
}

bool cluster_node_add_replica(cluster_node *master, cluster_node *replica) {
    for (int j = 0; j < master->numslaves; j++)
        if (master->slaves[j] == replica) return false;
    master->slaves = mem_realloc(master->slaves, (size_t)(master->numslaves + 1) * sizeof *master->slaves);
    master->slaves[master->numslaves++] = replica;
    master->flags |= CLUSTER_NODE_MIGRATE_TO;
    cluster->todo |= CLUSTER_TODO_PUBLISH;
    return true;
}

int cluster_count_non_failing_replicas(const cluster_node *n) {
    int ok = 0;
    for (int j = 0; j < n->numslaves; j++)
        if (!(n->slaves[j]->flags & CLUSTER_NODE_FAIL)) ok++;
    return ok;
}

void cluster_set_node_as_master(cluster_node *n) {
    cluster_assert_locked();
    if (n->flags & CLUSTER_NODE_MASTER) return;
    if (n->slaveof) {
        cluster_node_remove_replica(n->slaveof, n);
        if (n != cluster->myself) n->flags |= CLUSTER_NODE_MIGRATE_TO;
    }
    n->flags &= ~CLUSTER_NODE_SLAVE;
    n->flags |= CLUSTER_NODE_MASTER;
    n->slaveof = NULL;
    cluster->todo |= CLUSTER_TODO_SAVE_CONFIG | CLUSTER_TODO_UPDATE_STATE | CLUSTER_TODO_PUBLISH;
}

void cluster_reset_manual_failover(void) {
    /* A master that paused writes for its replica lets them run again,
     * whatever became of the failover. */
    if (cluster->mf_pausing) writepause_end();
    cluster->mf_pausing = cluster->mf_paused = false;
    cluster->mf_end = 0;
    cluster->mf_slave = NULL;
    cluster->mf_master_offset = -1;
    cluster->mf_can_start = 0;
}

void cluster_set_my_master(cluster_node *n) {
    cluster_assert_locked();
    cluster_node *me = cluster->myself;
    assert(n != me);
    assert(me->numslots == 0);
    if (me->flags & CLUSTER_NODE_MASTER) {
        me->flags &= ~(CLUSTER_NODE_MASTER | CLUSTER_NODE_MIGRATE_TO);
        me->flags |= CLUSTER_NODE_SLAVE;
        cluster_close_all_slots();
    } else if (me->slaveof) {
        cluster_node_remove_replica(me->slaveof, me);
    }
    me->slaveof = n;
    cluster_node_add_replica(n, me);
    /* Routing first: a write the new map sends elsewhere gets -MOVED, not
     * the -READONLY it would get once myself replicates. */
    if (cluster->todo & CLUSTER_TODO_PUBLISH) {
        cluster->todo &= ~CLUSTER_TODO_PUBLISH;
        slotmap_publish();
    }
    repl_replica_set_master(n->ip, n->port);
    cluster_reset_manual_failover();
    cluster->todo |= CLUSTER_TODO_PUBLISH;
}

/* ---- slots ---- */

bool cluster_bitmap_test(const unsigned char *bitmap, int pos) { return (bitmap[pos >> 3] >> (pos & 7)) & 1; }
void cluster_bitmap_set(unsigned char *bitmap, int pos) { bitmap[pos >> 3] |= (unsigned char)(1 << (pos & 7)); }
void cluster_bitmap_clear(unsigned char *bitmap, int pos) { bitmap[pos >> 3] &= (unsigned char)~(1 << (pos & 7)); }

/* clusterMastersHaveSlaves */
static bool masters_have_replicas(void) {
    for (int i = 0; i < cluster->nnodes; i++) {
        cluster_node *n = cluster->nodes[i];
        if (!(n->flags & CLUSTER_NODE_SLAVE) && n->numslaves) return true;
    }
    return false;
}

bool cluster_node_set_slot_bit(cluster_node *n, int slot) {
    bool old = cluster_bitmap_test(n->slots, slot);
    cluster_bitmap_set(n->slots, slot);
    if (!old) {
        n->numslots++;
        /* A master getting its first slot becomes a replica-migration
         * target if some master has replicas (Redis's rule). */
        if (n->numslots == 1 && masters_have_replicas()) n->flags |= CLUSTER_NODE_MIGRATE_TO;
    }
    return old;
}

bool cluster_node_clear_slot_bit(cluster_node *n, int slot) {
    bool old = cluster_bitmap_test(n->slots, slot);
    cluster_bitmap_clear(n->slots, slot);
    if (old) n->numslots--;
    return old;
}

bool cluster_node_get_slot_bit(const cluster_node *n, int slot) { return cluster_bitmap_test(n->slots, slot); }

bool cluster_add_slot(cluster_node *n, int slot) {
    cluster_assert_locked();
    if (cluster->slots[slot]) return false;
    cluster_node_set_slot_bit(n, slot);
    cluster->slots[slot] = n;
    cluster_bitmap_clear(cluster->owner_not_claiming_slot, slot);
    cluster->todo |= CLUSTER_TODO_PUBLISH;
    return true;
}

bool cluster_del_slot(int slot) {
    cluster_assert_locked();
    cluster_node *n = cluster->slots[slot];
    if (!n) return false;
    /* The slot's shard channels go when myself's shard served it (n is
     * myself or myself's master): the bus drops them after publishing. */
    const cluster_node *me = cluster->myself;
    if (me && (n == me || ((me->flags & CLUSTER_NODE_SLAVE) && me->slaveof == n))) {
        cluster->shard_slots_lost[slot / 64] |= 1ULL << (slot % 64);
        cluster->any_shard_slots_lost = true;
    }
    bool had = cluster_node_clear_slot_bit(n, slot);
    assert(had);
    (void)had;
    cluster->slots[slot] = NULL;
    cluster_bitmap_clear(cluster->owner_not_claiming_slot, slot);
    cluster->todo |= CLUSTER_TODO_PUBLISH;
    return true;
}

bool cluster_take_shard_slots_lost(uint64_t *out) {
    cluster_assert_locked();
    if (!cluster->any_shard_slots_lost) return false;
    memcpy(out, cluster->shard_slots_lost, sizeof cluster->shard_slots_lost);
    memset(cluster->shard_slots_lost, 0, sizeof cluster->shard_slots_lost);
    cluster->any_shard_slots_lost = false;
    return true;
}

int cluster_del_node_slots(cluster_node *n) {
    int deleted = 0;
    for (int j = 0; j < CLUSTER_SLOTS; j++)
        if (cluster_node_get_slot_bit(n, j) && cluster_del_slot(j)) deleted++;
    return deleted;
}

void cluster_close_all_slots(void) {
    cluster_assert_locked();
    memset(cluster->migrating_slots_to, 0, sizeof cluster->migrating_slots_to);
    memset(cluster->importing_slots_from, 0, sizeof cluster->importing_slots_from);
    cluster->todo |= CLUSTER_TODO_PUBLISH;
}

bool cluster_slot_unclaimed(int slot) {
    return cluster->slots[slot] == NULL || cluster_bitmap_test(cluster->owner_not_claiming_slot, slot);
}

/* ---- failure reports ---- */

bool cluster_node_add_failure_report(cluster_node *failing, cluster_node *sender) {
    long long now = mstime();
    for (int i = 0; i < failing->nfail_reports; i++) {
        if (failing->fail_reports[i].node == sender) {
            failing->fail_reports[i].time = now;
            return false;
        }
    }
    if (failing->nfail_reports == failing->fail_reports_cap) {
        failing->fail_reports_cap = failing->fail_reports_cap ? failing->fail_reports_cap * 2 : 4;
        failing->fail_reports =
            mem_realloc(failing->fail_reports, (size_t)failing->fail_reports_cap * sizeof *failing->fail_reports);
    }
    failing->fail_reports[failing->nfail_reports++] = (cluster_fail_report){sender, now};
    return true;
}

void cluster_node_cleanup_failure_reports(cluster_node *n) {
    long long maxtime = cluster_cfg_ll("cluster-node-timeout") * CLUSTER_FAIL_REPORT_VALIDITY_MULT;
    long long now = mstime();
    int w = 0;
    for (int i = 0; i < n->nfail_reports; i++)
        if (now - n->fail_reports[i].time <= maxtime) n->fail_reports[w++] = n->fail_reports[i];
    n->nfail_reports = w;
}

bool cluster_node_del_failure_report(cluster_node *n, cluster_node *sender) {
    for (int i = 0; i < n->nfail_reports; i++) {
        if (n->fail_reports[i].node != sender) continue;
        memmove(n->fail_reports + i, n->fail_reports + i + 1, (size_t)(n->nfail_reports - i - 1) * sizeof *n->fail_reports);
        n->nfail_reports--;
        cluster_node_cleanup_failure_reports(n);
        return true;
    }
    return false;
}

int cluster_node_failure_reports_count(cluster_node *n) {
    cluster_node_cleanup_failure_reports(n);
    return n->nfail_reports;
}

/* ---- epochs ---- */

uint64_t cluster_get_max_epoch(void) {
    uint64_t max = 0;
    for (int i = 0; i < cluster->nnodes; i++)
        if (cluster->nodes[i]->config_epoch > max) max = cluster->nodes[i]->config_epoch;
    return max > cluster->current_epoch ? max : cluster->current_epoch;
}

bool cluster_bump_epoch_without_consensus(void) {
    cluster_assert_locked();
    uint64_t max = cluster_get_max_epoch();
    cluster_node *me = cluster->myself;
    if (me->config_epoch != 0 && me->config_epoch == max) return false;
    cluster->current_epoch++;
    me->config_epoch = cluster->current_epoch;
    cluster->todo |= CLUSTER_TODO_SAVE_CONFIG | CLUSTER_TODO_FSYNC_CONFIG;
    log_warning("New configEpoch set to %llu", (unsigned long long)me->config_epoch);
    return true;
}

void cluster_handle_config_epoch_collision(cluster_node *sender) {
    cluster_assert_locked();
    cluster_node *me = cluster->myself;
    if (sender->config_epoch != me->config_epoch || !(sender->flags & CLUSTER_NODE_MASTER) ||
        !(me->flags & CLUSTER_NODE_MASTER))
        return;
    if (memcmp(sender->name, me->name, CLUSTER_NAMELEN) <= 0) return;
    cluster->current_epoch++;
    me->config_epoch = cluster->current_epoch;
    cluster_save_config_or_die(true);
    log_verbose("WARNING: configEpoch collision with node %.40s. configEpoch set to %llu", sender->name,
                (unsigned long long)me->config_epoch);
}

/* ---- FORGET blacklist ---- */

typedef struct {
    char name[CLUSTER_NAMELEN];
    long long expire; /* unix seconds */
} blacklist_entry;
static blacklist_entry *blacklist;
static int nblacklist;

static void blacklist_cleanup(void) {
    long long now = (long long)time(NULL);
    int w = 0;
    for (int i = 0; i < nblacklist; i++)
        if (blacklist[i].expire >= now) blacklist[w++] = blacklist[i];
    nblacklist = w;
}

void cluster_blacklist_add(const cluster_node *n) {
    cluster_assert_locked();
    blacklist_cleanup();
    long long expire = (long long)time(NULL) + CLUSTER_BLACKLIST_TTL;
    for (int i = 0; i < nblacklist; i++) {
        if (!memcmp(blacklist[i].name, n->name, CLUSTER_NAMELEN)) {
            blacklist[i].expire = expire;
            return;
        }
    }
    blacklist = mem_realloc(blacklist, (size_t)(nblacklist + 1) * sizeof *blacklist);
    memcpy(blacklist[nblacklist].name, n->name, CLUSTER_NAMELEN);
    blacklist[nblacklist++].expire = expire;
}

bool cluster_blacklist_exists(const char *name) {
    cluster_assert_locked();
    blacklist_cleanup();
    for (int i = 0; i < nblacklist; i++)
        if (!strncasecmp(blacklist[i].name, name, CLUSTER_NAMELEN)) return true;
    return false;
}

/* ---- cluster state ---- */

void cluster_update_state(void) {
    cluster_assert_locked();
    cluster->todo &= ~CLUSTER_TODO_UPDATE_STATE;
    long long now = mstime();
    cluster_node *me = cluster->myself;
    /* A master waits before turning ok after a start, so that the cluster
     * can reconfigure it first. */
    if (cluster->state_first_call_time == 0) cluster->state_first_call_time = now;
    if ((me->flags & CLUSTER_NODE_MASTER) && cluster->state == CLUSTER_FAIL &&
        now - cluster->state_first_call_time < CLUSTER_WRITABLE_DELAY)
        return;

    int new_state = CLUSTER_OK;
    if (cluster_cfg_bool("cluster-require-full-coverage")) {
        for (int j = 0; j < CLUSTER_SLOTS; j++) {
            if (!cluster->slots[j] || (cluster->slots[j]->flags & CLUSTER_NODE_FAIL)) {
                new_state = CLUSTER_FAIL;
                break;
            }
        }
    }
    int reachable = 0;
    cluster->size = 0;
    for (int i = 0; i < cluster->nnodes; i++) {
        cluster_node *n = cluster->nodes[i];
        if ((n->flags & CLUSTER_NODE_MASTER) && n->numslots) {
            cluster->size++;
            if (!(n->flags & (CLUSTER_NODE_FAIL | CLUSTER_NODE_PFAIL))) reachable++;
        }
    }
    if (reachable < cluster->size / 2 + 1) {
        new_state = CLUSTER_FAIL;
        cluster->among_minority_time = now;
    }
    if (new_state == cluster->state) return;
    long long rejoin_delay = cluster_cfg_ll("cluster-node-timeout");
    if (rejoin_delay > CLUSTER_MAX_REJOIN_DELAY) rejoin_delay = CLUSTER_MAX_REJOIN_DELAY;
    if (rejoin_delay < CLUSTER_MIN_REJOIN_DELAY) rejoin_delay = CLUSTER_MIN_REJOIN_DELAY;
    if (new_state == CLUSTER_OK && (me->flags & CLUSTER_NODE_MASTER) && now - cluster->among_minority_time < rejoin_delay)
        return;
    log_warning("Cluster state changed: %s", new_state == CLUSTER_OK ? "ok" : "fail");
    cluster->state = new_state;
    cluster->todo |= CLUSTER_TODO_PUBLISH;
}

/* ---- myself and configuration ---- */

void cluster_update_myself_from_config(void) {
    cluster_assert_locked();
    cluster_node *me = cluster->myself;
    if (!me) return;
    int old_flags = me->flags;
    me->flags &= ~CLUSTER_NODE_NOFAILOVER;
    if (cluster_cfg_bool("cluster-replica-no-failover")) me->flags |= CLUSTER_NODE_NOFAILOVER;
    if (me->flags != old_flags) cluster->todo |= CLUSTER_TODO_SAVE_CONFIG | CLUSTER_TODO_UPDATE_STATE;

    /* deriveAnnouncedPorts (no TLS in slotcache: pport stays 0). */
    int port = (int)cfg_get(port);
    long long announce_port = cluster_cfg_ll("cluster-announce-port");
    long long announce_bus = cluster_cfg_ll("cluster-announce-bus-port");
    int new_port = announce_port ? (int)announce_port : port;
    int new_cport = announce_bus ? (int)announce_bus : cluster_bus_port();
    if (me->port != new_port || me->cport != new_cport || me->pport != 0) cluster->todo |= CLUSTER_TODO_PUBLISH;
    me->port = new_port;
    me->pport = 0;
    me->cport = new_cport;

    /* clusterUpdateMyselfIp: follow cluster-announce-ip when it changes;
     * when it is cleared, forget the announced ip (autodetection). */
    static char prev_ip[CLUSTER_IPLEN];
    static bool prev_set;
    char ip[CLUSTER_IPLEN];
    cfg_get_string("cluster-announce-ip", ip, sizeof ip);
    bool set = ip[0] != '\0';
    if (set != prev_set || (set && strcmp(ip, prev_ip))) {
        if (set) memcpy(me->ip, ip, sizeof me->ip);
        else me->ip[0] = '\0';
        memcpy(prev_ip, ip, sizeof prev_ip);
        prev_set = set;
        cluster->todo |= CLUSTER_TODO_PUBLISH;
    }

    char host[CLUSTER_HOSTNAME_MAX + 1];
    size_t hlen = cfg_get_string("cluster-announce-hostname", host, sizeof host);
    cluster_node_set_hostname(me, host, hlen);
}

const char *cluster_preferred_endpoint(const cluster_node *n, int type) {
    switch (type) {
    case CLUSTER_ENDPOINT_HOSTNAME: return n->hostname[0] ? n->hostname : "?";
    case CLUSTER_ENDPOINT_UNKNOWN: return "";
    default: return n->ip;
    }
}

long long cluster_my_repl_offset(void) {
    if (repl_is_replica()) return repl_replica_applied_offset();
    return repl_get_ids().offset;
}

/* ---- reset ---- */

bool cluster_reset(bool hard) {
    cluster_assert_locked();
    cluster_node *me = cluster->myself;
    bool was_replica = (me->flags & CLUSTER_NODE_SLAVE) != 0;
    if (was_replica) {
        cluster_set_node_as_master(me);
        repl_replica_set_master(NULL, 0);
    }
    cluster_close_all_slots();
    cluster_reset_manual_failover();
    for (int j = 0; j < CLUSTER_SLOTS; j++) cluster_del_slot(j);
    for (int i = cluster->nnodes - 1; i >= 0; i--) {
        if (i >= cluster->nnodes) continue;
        if (cluster->nodes[i] != me) cluster_node_del(cluster->nodes[i]);
    }
    if (hard) {
        cluster->current_epoch = 0;
        cluster->last_vote_epoch = 0;
        me->config_epoch = 0;
        log_warning("configEpoch set to 0 via CLUSTER RESET HARD");
        char name[CLUSTER_NAMELEN];
        process_random_hex(name, CLUSTER_NAMELEN);
        cluster_node_rename(me, name);
        log_notice("Node hard reset, now I'm %.40s", me->name);
    }
    cluster->todo |= CLUSTER_TODO_SAVE_CONFIG | CLUSTER_TODO_UPDATE_STATE | CLUSTER_TODO_FSYNC_CONFIG |
                     CLUSTER_TODO_PUBLISH;
    return was_replica;
}

/* ---- bus hooks ---- */

static cluster_bus_hooks hooks;
static pthread_mutex_t hooks_lock = PTHREAD_MUTEX_INITIALIZER;

void cluster_set_bus_hooks(const cluster_bus_hooks *h) {
    pthread_mutex_lock(&hooks_lock);
    hooks = h ? *h : (cluster_bus_hooks){0};
    pthread_mutex_unlock(&hooks_lock);
}

const cluster_bus_hooks *cluster_get_bus_hooks(void) { return &hooks; }

/* ---- lifecycle ---- */

cluster_state *cluster_state_new(void) {
    cluster_state *s = mem_calloc(1, sizeof *s);
    s->state = CLUSTER_FAIL;
    s->size = 1; /* clusterInit's value, kept during the writable delay */
    s->mf_master_offset = -1;
    return s;
}

static void free_nodes(cluster_state *s) {
    for (int i = 0; i < s->nnodes; i++) cluster_node_free(s->nodes[i]);
    mem_free(s->nodes);
    mem_free(s);
}

/* The state cluster pointed to, with the module's index and blacklist. */
static void cluster_state_free_current(cluster_state *s) {
    if (!s) return;
    free_nodes(s);
    {
        mem_free(index_slots);
        index_slots = NULL;
        index_cap = 0;
        mem_free(blacklist);
        blacklist = NULL;
        nblacklist = 0;
    }
}

void cluster_state_free(cluster_state *s) {
    if (!s) return;
    if (s == cluster) cluster_state_free_current(s);
    else free_nodes(s);
}

/* ---- cluster_api.h: startup and shutdown ---- */

void cluster_init(void) {
    if (!cfg_get(cluster_enabled)) return;
    cluster = cluster_state_new();
    cluster_lock();
    const char *path = cluster_config_path();
    if (cluster_config_lock(path) < 0) exit(1);
    bool fresh = cluster_config_load(path) != 0;
    if (fresh) {
        cluster_node *me = cluster_node_create(NULL, CLUSTER_NODE_MYSELF | CLUSTER_NODE_MASTER);
        cluster->myself = me;
        cluster_node_add(me);
        log_notice("No cluster configuration found, I'm %.40s", me->name);
    }
    long long port = cfg_get(port);
    if (cluster_cfg_ll("cluster-port") == 0 && port > 65535 - CLUSTER_PORT_INCR) {
        log_warning("Redis port number too high. Cluster communication port is 10,000 port numbers higher than "
                    "your Redis port. Your Redis port number must be 55535 or less.");
        exit(1);
    }
    cluster_reset_manual_failover();
    cluster_update_myself_from_config();
    if (fresh) cluster_save_config_or_die(true);
    cluster->todo |= CLUSTER_TODO_PUBLISH;
    cluster_apply_todo();
    cluster_unlock();
}

void cluster_start_bus(void) {
    if (!cluster) return;
    if (bus_start() < 0) exit(1);
}

void cluster_stop_bus(void) {
    if (!cluster) return;
    slot_migration_stop(); /* its jobs post to workers too */
    bus_stop();
}

/* verifyClusterConfigWithData: keys loaded from disk in a slot myself
 * neither owns nor imports make myself take the slot (unassigned) or
 * mark it importing (owned elsewhere). Keys outside db 0 stop the server. */
void cluster_check_loaded_data(void) {
    if (!cluster) return;
    for (int db = 1; db < db_count(); db++) {
        if (db_size(db)) {
            log_warning("You can't have keys in a DB different than DB 0 when in Cluster mode. Exiting.");
            exit(1);
        }
    }
    /* Counts first (slot locks), then the state (cluster lock): never both. */
    unsigned char *has_keys = mem_calloc(CLUSTER_SLOTS, 1);
    ktable *tables = db_tables(0);
    for (int j = 0; tables && j < CLUSTER_SLOTS; j++) {
        slot_lock((unsigned)j);
        has_keys[j] = ktable_count(&tables[j]) != 0;
        slot_unlock((unsigned)j);
    }
    cluster_lock();
    cluster_node *me = cluster->myself;
    if (!(me->flags & CLUSTER_NODE_SLAVE)) {
        int changed = 0;
        for (int j = 0; j < CLUSTER_SLOTS; j++) {
            if (!has_keys[j] || cluster->slots[j] == me || cluster->importing_slots_from[j]) continue;
            changed++;
            if (!cluster->slots[j]) {
                log_warning("I have keys for unassigned slot %d. Taking responsibility for it.", j);
                cluster_add_slot(me, j);
            } else {
                log_warning("I have keys for slot %d, but the slot is assigned to another node. Setting it to "
                            "importing state.",
                            j);
                cluster->importing_slots_from[j] = cluster->slots[j];
            }
        }
        if (changed) {
            cluster_save_config_or_die(true);
            cluster->todo |= CLUSTER_TODO_PUBLISH | CLUSTER_TODO_UPDATE_STATE;
        }
    }
    cluster_apply_todo();
    cluster_unlock();
    mem_free(has_keys);
}

void cluster_shutdown(void) {
    if (!cluster) return;
    bus_stop(); /* no-op after cluster_stop_bus */
    cluster_lock();
    if (cluster_save_config(true) < 0) log_warning("Could not save the cluster config at shutdown: %s", strerror(errno));
    cluster_unlock();
    slotmap_free();
    cluster_state *s = cluster;
    cluster = NULL;
    cluster_state_free_current(s);
}
