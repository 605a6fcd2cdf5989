/*
 * gossip.c - what the bus does with a message it received (Redis 7.0.15's
 * clusterProcessPacket and the functions it calls): the sender's epochs
 * and offset, MEET (a new handshake node; myself learns its ip), PONG
 * (handshake completion by rename, PFAIL/FAIL cleared), role and address
 * changes, slot ownership by configEpoch (clusterUpdateSlotsConfigWith),
 * UPDATE messages to stale senders, the configEpoch collision rule, the
 * gossip section (auto-discovery, failure reports, pong times), FAIL,
 * UPDATE, PUBLISH / PUBLISHSHARD and the HOSTNAME extension.
 *
 * Runs on the bus thread with cluster_lock held; every change records its
 * todo items as Redis's clusterDoBeforeSleep does, plus
 * CLUSTER_TODO_PUBLISH when routing could see it. What must not run under
 * the lock waits for gossip_deliver_publishes: PUBLISH deliveries, the
 * shard channels of slots that left myself's shard (removeChannelsInSlot)
 * and, handed to workers, the keys of slots lost to a newer configuration
 * (delKeysInSlot, db_delete_slot). FAILOVER_AUTH_REQUEST / ACK, MFSTART
 * and a master's PAUSED flag go to failover.c. MODULE is ignored (no
 * modules).
 */
#include "bus_int.h"

#include <stdatomic.h>

#include "db.h"
#include "log.h"
#include "mem.h"
#include "monotime.h"
#include "propagate.h"
#include "pubsub.h"
#include "repl_replica.h"
#include "worker.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

static bool is_master(const cluster_node *n) { return n->flags & CLUSTER_NODE_MASTER; }
static bool is_slave(const cluster_node *n) { return n->flags & CLUSTER_NODE_SLAVE; }
static bool in_handshake(const cluster_node *n) { return n->flags & CLUSTER_NODE_HANDSHAKE; }

/* ---- work done after the lock is released ----
 *
 * What processing decides but must not do under cluster_lock, kept in
 * arrival order (bus thread only) and run by gossip_deliver_publishes:
 * PUBLISH / PUBLISHSHARD deliveries, and the shard channels of slots that
 * left myself's shard (Redis's removeChannelsInSlot, from clusterDelSlot).
 * The keys of dirty slots (below) go to workers after them. */

enum { LATER_PUBLISH, LATER_PUBLISHSHARD, LATER_SHARD_SLOTS };
typedef struct later {
    struct later *next;
    int what;
    size_t clen, mlen;    /* PUBLISH*: the channel, then the message, in words */
    uint64_t words[];     /* LATER_SHARD_SLOTS: a bitmap of CLUSTER_SLOTS bits */
} later;
static later *later_head, *later_tail;
/* Slots left myself's shard since the last run (the map is published
 * before anything is dropped). */
static bool slots_left;

static void later_append(later *p)
{
    p->next = NULL;
    if (later_tail) later_tail->next = p;
    else later_head = p;
    later_tail = p;
}

static void queue_publish(const bus_msg_view *v, bool sharded)
{
    later *p = mem_alloc(sizeof *p + v->channel_len + v->message_len);
    p->what = sharded ? LATER_PUBLISHSHARD : LATER_PUBLISH;
    p->clen = v->channel_len;
    p->mlen = v->message_len;
    char *data = (char *)p->words;
    memcpy(data, v->channel, p->clen);
    memcpy(data + p->clen, v->message, p->mlen);
    later_append(p);
}

/* Lock held: the slots cluster_del_slot took from myself's shard (by
 * gossip, or by CLUSTER DELSLOTS / FLUSHSLOTS / RESET on a worker) become a
 * LATER_SHARD_SLOTS entry, in arrival order with the deliveries queued so
 * far: their subscribers are unsubscribed once the lock is released and the
 * map without them is published. */
void gossip_collect_shard_slots_lost(void)
{
    uint64_t lost[CLUSTER_SLOTS / 64];
    if (!cluster_take_shard_slots_lost(lost)) return;
    if (pubsub_total_shard_channels() == 0) return;
    if (!later_tail || later_tail->what != LATER_SHARD_SLOTS) {
        later *p = mem_calloc(1, sizeof *p + CLUSTER_SLOTS / 8);
        p->what = LATER_SHARD_SLOTS;
        later_append(p);
    }
    for (int w = 0; w < CLUSTER_SLOTS / 64; w++) later_tail->words[w] |= lost[w];
    slots_left = true;
}

/* Dirty slots (clusterUpdateSlotsConfigWith): slots myself lost to a newer
 * configuration while still a master of other slots. Their keys are
 * deleted by workers (db_delete_slot): the bus thread never takes a slot
 * lock, and cluster_lock is released before the hand-over (lock order:
 * slot locks before cluster_lock). */
static uint64_t dirty_slots[CLUSTER_SLOTS / 64];
static bool any_dirty;

/* On a worker: Redis's delKeysInSlot for each slot of the list, a
 * millisecond's worth of slots at a time, the worker's clients served in
 * between (a million keys took 0.7 s in one step, and every client of the
 * worker waited). */
typedef struct dirty_batch {
    int n, next;
    uint64_t keys;
    unsigned slot[];
} dirty_batch;

#define DELETE_STEP_US 1000

/* Slots whose deletion is posted and has not run yet: the step deletes a
 * slot only if its bit is still set (taken under the slot lock), and an
 * atomic slot import that starts meanwhile takes the bit and deletes the
 * slot itself first (cluster_delete_slot_now), so a queued step never
 * deletes keys that arrived after it was decided. */
static _Atomic uint64_t deletion_pending[CLUSTER_SLOTS / 64];

static bool take_pending(unsigned slot)
{
    uint64_t bitv = 1ULL << (slot % 64);
    return atomic_fetch_and(&deletion_pending[slot / 64], ~bitv) & bitv;
}

static bool take_pending_always(unsigned slot)
{
    take_pending(slot);
    return true;
}

uint64_t cluster_delete_slot_now(unsigned slot)
{
    propagate_own_locks_begin(); /* inside a command: each DEL fed under the slot lock */
    uint64_t n = db_delete_slot_if(0, slot, take_pending_always, true);
    propagate_own_locks_end();
    return n;
}

static void delete_dirty_on_worker(worker *w, void *arg)
{
    dirty_batch *b = arg;
    uint64_t start = monotime_us();
    while (b->next < b->n) {
        b->keys += db_delete_slot_if(0, b->slot[b->next++], take_pending, false); /* freed within the step */
        if (monotime_us() - start > DELETE_STEP_US) break;
    }
    if (b->next < b->n) {
        worker_post_later(w, delete_dirty_on_worker, b);
        return;
    }
    if (b->keys) log_notice("Deleted %llu keys of %d slots this node lost", (unsigned long long)b->keys, b->n);
    mem_free(b);
}

/* Spread the slots of bits over the workers (slot % workers), clearing
 * them. Without workers (before they start the dataset is not loaded yet;
 * after they stopped nothing matters) there is nothing to delete. */
void cluster_post_slot_deletions(uint64_t *bits)
{
    int nw = workers ? nworkers : 0;
    if (nw > WORKER_MAX) nw = WORKER_MAX;
    dirty_batch *b[WORKER_MAX] = {0};
    for (unsigned j = 0; j < CLUSTER_SLOTS; j++) {
        if (!(bits[j / 64] >> (j % 64) & 1)) continue;
        bits[j / 64] &= ~(1ULL << (j % 64));
        atomic_fetch_or(&deletion_pending[j / 64], 1ULL << (j % 64));
        if (nw == 0) continue;
        int w = (int)(j % (unsigned)nw);
        if (!b[w]) {
            b[w] = mem_alloc(sizeof *b[w] + CLUSTER_SLOTS * sizeof(unsigned));
            b[w]->n = b[w]->next = 0;
            b[w]->keys = 0;
        }
        b[w]->slot[b[w]->n++] = j;
    }
    for (int w = 0; w < nw; w++)
        if (b[w]) worker_post(&workers[w], delete_dirty_on_worker, b[w]);
}

static void post_dirty_slots(void)
{
    any_dirty = false;
    cluster_post_slot_deletions(dirty_slots);
}

void gossip_deliver_publishes(void)
{
    if (!later_head && !any_dirty) return;
    if (slots_left) {
        /* Slots moved: the new map is published before anything is
         * dropped, so an SSUBSCRIBE a worker runs after its drop job gets
         * MOVED (pubsub_remove_shard_slots). This is the run of
         * cluster_apply_todo the loop would make before it sleeps. */
        slots_left = false;
        cluster_lock();
        cluster_apply_todo();
        cluster_unlock();
    }
    later *p = later_head;
    later_head = later_tail = NULL;
    while (p) {
        later *next = p->next;
        const char *data = (const char *)p->words;
        if (p->what == LATER_PUBLISH) pubsub_publish(data, p->clen, data + p->clen, p->mlen);
        else if (p->what == LATER_PUBLISHSHARD) pubsub_publish_shard(data, p->clen, data + p->clen, p->mlen);
        else pubsub_remove_shard_slots(p->words);
        mem_free(p);
        p = next;
    }
    if (any_dirty) post_dirty_slots();
}

/* ---- failure detection ---- */

void gossip_mark_failing_if_needed(cluster_node *n)
{
    int needed_quorum = cluster->size / 2 + 1;
    if (!(n->flags & CLUSTER_NODE_PFAIL)) return; /* we can reach it */
    if (n->flags & CLUSTER_NODE_FAIL) return;     /* already failing */
    int failures = cluster_node_failure_reports_count(n);
    if (is_master(cluster->myself)) failures++; /* myself votes too */
    if (failures < needed_quorum) return;
    log_notice("Marking node %.40s as failing (quorum reached).", n->name);
    n->flags &= ~CLUSTER_NODE_PFAIL;
    n->flags |= CLUSTER_NODE_FAIL;
    n->fail_time = mstime();
    /* Everyone we reach is told, replicas included. */
    bus_send_fail(n->name);
    cluster_todo(CLUSTER_TODO_UPDATE_STATE | CLUSTER_TODO_SAVE_CONFIG);
}

void gossip_clear_failure_if_needed(cluster_node *n)
{
    long long now = mstime();
    if (is_slave(n) || n->numslots == 0) {
        log_notice("Clear FAIL state for node %.40s: %s is reachable again.", n->name,
                   is_slave(n) ? "replica" : "master without slots");
        n->flags &= ~CLUSTER_NODE_FAIL;
        cluster_todo(CLUSTER_TODO_UPDATE_STATE | CLUSTER_TODO_SAVE_CONFIG);
    }
    if (is_master(n) && n->numslots > 0 && now - n->fail_time > bus.node_timeout * CLUSTER_FAIL_UNDO_TIME_MULT) {
        log_notice("Clear FAIL state for node %.40s: is reachable again and nobody is serving its slots after some time.",
                   n->name);
        n->flags &= ~CLUSTER_NODE_FAIL;
        cluster_todo(CLUSTER_TODO_UPDATE_STATE | CLUSTER_TODO_SAVE_CONFIG);
    }
}

/* ---- addresses ---- */

/* A numeric IPv4 or IPv6 address (what a peer says goes to nodes.conf
 * and CLUSTER NODES: nothing else is taken). */
static bool valid_ip(const char *ip)
{
    unsigned char addr[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, ip, addr) == 1 || inet_pton(AF_INET6, ip, addr) == 1;
}

/* A hostname from the HOSTNAME extension: only [A-Za-z0-9.-]. */
static bool valid_hostname(const char *h)
{
    for (; *h; h++)
        if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') || (*h >= '0' && *h <= '9') || *h == '.' ||
              *h == '-'))
            return false;
    return true;
}

/* nodeIp2String: the announced ip when the header has a valid one, else
 * the link's peer address. */
static bool node_ip(char out[BUS_IPLEN], bus_link *l, const char *announced)
{
    if (announced[0]) {
        memcpy(out, announced, BUS_IPLEN);
        out[BUS_IPLEN - 1] = '\0';
        if (valid_ip(out)) return true;
        log_verbose("Ignoring an invalid announced ip from a cluster peer");
    }
    if (!bus_link_peername(l, out)) {
        log_notice("Error converting peer IP to string");
        return false;
    }
    return true;
}

/* nodeUpdateAddressIfNeeded: true when n's address changed. */
static bool update_address(cluster_node *n, bus_link *l, const bus_msg_view *v)
{
    if (l == n->link) return false; /* only a link n opened tells us */
    char ip[BUS_IPLEN] = {0};
    if (!node_ip(ip, l, v->hdr->myip)) return false;
    if (n->port == v->port && n->cport == v->cport && n->pport == v->pport && !strcmp(ip, n->ip)) return false;
    memcpy(n->ip, ip, sizeof n->ip);
    n->port = v->port;
    n->pport = v->pport;
    n->cport = v->cport;
    if (n->link) bus_link_close(n->link);
    n->flags &= ~CLUSTER_NODE_NOADDR;
    log_warning("Address updated for node %.40s, now %s:%d", n->name, n->ip, n->port);
    if (is_slave(cluster->myself) && cluster->myself->slaveof == n) repl_replica_set_master(n->ip, n->port);
    cluster_todo(CLUSTER_TODO_PUBLISH);
    return true;
}

/* ---- the gossip section ---- */

/* Room for one more node learnt from a peer (CLUSTER_MAX_NODES). */
static bool room_for_node(void)
{
    if (cluster->nnodes < CLUSTER_MAX_NODES) return true;
    static long long last_log;
    long long now = mstime();
    if (now - last_log >= 1000) {
        last_log = now;
        log_warning("Refusing a new node: the node table holds %d nodes already", cluster->nnodes);
    }
    return false;
}

static void process_gossip(bus_link *l, const bus_msg_view *v)
{
    cluster_node *sender = l->node ? l->node : cluster_lookup_node(v->hdr->sender, CLUSTER_NAMELEN);
    long long now = mstime();
    for (unsigned i = 0; i < v->count; i++) {
        const bus_msg_gossip *g = &v->gossip[i];
        uint16_t flags = bus_gossip_flags(g);
        char ip[BUS_IPLEN];
        bus_gossip_ip(g, ip);
        bool ip_ok = valid_ip(ip); /* else the entry's address is ignored */
        log_debug("GOSSIP %.40s %s:%d@%d flags %d", g->nodename, ip, bus_gossip_port(g), bus_gossip_cport(g), flags);
        cluster_node *n = cluster_lookup_node(g->nodename, CLUSTER_NAMELEN);
        if (n) {
            /* Failure reports count only from masters. */
            if (sender && is_master(sender) && n != cluster->myself) {
                if (flags & (CLUSTER_NODE_FAIL | CLUSTER_NODE_PFAIL)) {
                    if (cluster_node_add_failure_report(n, sender))
                        log_verbose("Node %.40s reported node %.40s as not reachable.", sender->name, n->name);
                    gossip_mark_failing_if_needed(n);
                } else if (cluster_node_del_failure_report(n, sender)) {
                    log_verbose("Node %.40s reported node %.40s is back online.", sender->name, n->name);
                }
            }
            /* Take a newer pong time from others while we see n up with no
             * ping of ours outstanding and no failure reports. */
            if (!(flags & (CLUSTER_NODE_FAIL | CLUSTER_NODE_PFAIL)) && n->ping_sent == 0 &&
                cluster_node_failure_reports_count(n) == 0) {
                long long pongtime = bus_gossip_pong_ms(g);
                if (pongtime <= now + 500 && pongtime > n->pong_received) n->pong_received = pongtime;
            }
            /* n is unreachable for us but up for the sender at another
             * address: take that address and reconnect. */
            if (ip_ok && (n->flags & (CLUSTER_NODE_FAIL | CLUSTER_NODE_PFAIL)) && !(flags & CLUSTER_NODE_NOADDR) &&
                !(flags & (CLUSTER_NODE_FAIL | CLUSTER_NODE_PFAIL)) &&
                (strcasecmp(n->ip, ip) || n->port != bus_gossip_port(g) || n->cport != bus_gossip_cport(g))) {
                if (n->link) bus_link_close(n->link);
                memcpy(n->ip, ip, sizeof n->ip);
                n->port = bus_gossip_port(g);
                n->pport = bus_gossip_pport(g);
                n->cport = bus_gossip_cport(g);
                n->flags &= ~CLUSTER_NODE_NOADDR;
                cluster_todo(CLUSTER_TODO_PUBLISH);
            }
        } else if (sender && ip_ok && !(flags & CLUSTER_NODE_NOADDR) && !cluster_blacklist_exists(g->nodename) &&
                   cluster_verify_node_id(g->nodename, CLUSTER_NAMELEN) && room_for_node()) {
            /* Auto-discovery: the gossiped id, no handshake (the address
             * may belong to another cluster by now). The cron connects and
             * PINGs. Of the gossiped flags only the role and NOFAILOVER are
             * taken (stricter than Redis): MYSELF would make nodes.conf
             * unloadable, and PFAIL / FAIL / HANDSHAKE / MEET are ours to
             * decide. */
            uint16_t keep = CLUSTER_NODE_MASTER | CLUSTER_NODE_SLAVE | CLUSTER_NODE_NOFAILOVER;
            cluster_node *nn = cluster_node_create(g->nodename, flags & keep);
            memcpy(nn->ip, ip, sizeof nn->ip);
            nn->port = bus_gossip_port(g);
            nn->pport = bus_gossip_pport(g);
            nn->cport = bus_gossip_cport(g);
            cluster_node_add(nn);
        }
    }
}

/* clusterProcessPingExtensions: the HOSTNAME extension, or none (which
 * clears the hostname recorded for the sender). */
static void process_extensions(bus_link *l, const bus_msg_view *v)
{
    cluster_node *sender = l->node ? l->node : cluster_lookup_node(v->hdr->sender, CLUSTER_NAMELEN);
    if (!sender) return;
    for (int i = 0; i < v->unknown_ext; i++) log_warning("Received unknown extension type %d", v->unknown_ext_type);
    if (v->hostname && !valid_hostname(v->hostname)) {
        log_verbose("Ignoring an invalid hostname from node %.40s", sender->name);
        return;
    }
    cluster_node_set_hostname(sender, v->hostname, v->hostname ? strlen(v->hostname) : 0);
}

/* ---- slot ownership ---- */

/* clusterUpdateSlotsConfigWith: rebind the slots `sender` claims under
 * `epoch` where that configuration is newer, and follow the new owner of
 * myself's slots when myself (or its master) lost its last one. */
static void update_slots_config_with(cluster_node *sender, uint64_t epoch, const uint8_t *slots)
{
    cluster_node *me = cluster->myself;
    cluster_node *curmaster = is_master(me) ? me : me->slaveof;
    cluster_node *newmaster = NULL;
    int dirty = 0, sender_slots = 0, migrated_our_slots = 0;
    if (sender == me) {
        log_warning("Discarding UPDATE message about myself.");
        return;
    }
    for (int j = 0; j < CLUSTER_SLOTS; j++) {
        if (bus_slot_test(slots, j)) {
            sender_slots++;
            if (cluster->slots[j] == sender) {
                cluster_bitmap_clear(cluster->owner_not_claiming_slot, j);
                continue;
            }
            /* A slot being imported changes only by hand (SETSLOT). */
            if (cluster->importing_slots_from[j]) continue;
            if (cluster_slot_unclaimed(j) || cluster->slots[j]->config_epoch < epoch) {
                /* Every slot of myself is a candidate (the key counters are
                 * read without the slot lock, and a write may be landing);
                 * db_delete_slot looks under the lock. */
                if (cluster->slots[j] == me && sender != me) {
                    dirty_slots[j / 64] |= 1ULL << (j % 64);
                    atomic_fetch_or(&deletion_pending[j / 64], 1ULL << (j % 64)); /* now, not when posted */
                    ktable *t = db_table(0, (unsigned)j, false);
                    if (t && ktable_count(t)) dirty++;
                }
                if (cluster->slots[j] == curmaster) {
                    newmaster = sender;
                    migrated_our_slots++;
                }
                cluster_del_slot(j);
                cluster_add_slot(sender, j);
                cluster_bitmap_clear(cluster->owner_not_claiming_slot, j);
                cluster_todo(CLUSTER_TODO_SAVE_CONFIG | CLUSTER_TODO_UPDATE_STATE | CLUSTER_TODO_FSYNC_CONFIG);
            }
        } else if (cluster->slots[j] == sender) {
            /* Still bound to it until someone claims it; not spread in
             * UPDATE messages meanwhile. */
            cluster_bitmap_set(cluster->owner_not_claiming_slot, j);
        }
    }
    gossip_collect_shard_slots_lost(); /* the slots cluster_del_slot took */
    if (newmaster && curmaster && curmaster->numslots == 0 &&
        (cluster_cfg_bool("cluster-allow-replica-migration") || sender_slots == migrated_our_slots)) {
        log_warning("Configuration change detected. Reconfiguring myself as a replica of %.40s", sender->name);
        cluster_set_my_master(sender);
        cluster_todo(CLUSTER_TODO_SAVE_CONFIG | CLUSTER_TODO_UPDATE_STATE | CLUSTER_TODO_FSYNC_CONFIG);
    } else if (me->slaveof && me->slaveof->slaveof && me->slaveof->slaveof != me) {
        log_warning("I'm a sub-replica! Reconfiguring myself as a replica of grandmaster %.40s", me->slaveof->slaveof->name);
        cluster_set_my_master(me->slaveof->slaveof);
        cluster_todo(CLUSTER_TODO_SAVE_CONFIG | CLUSTER_TODO_UPDATE_STATE | CLUSTER_TODO_FSYNC_CONFIG);
    } else {
        /* Still a master of other slots (or nothing lost): the keys of the
         * slots lost are deleted (delKeysInSlot), once the lock is
         * released. A node this update demoted keeps them: its new
         * master's full sync replaces the dataset. */
        for (int w = 0; w < CLUSTER_SLOTS / 64; w++) {
            if (!dirty_slots[w]) continue;
            any_dirty = slots_left = true;
            break;
        }
        if (dirty) log_notice("Lost %d slots holding keys to %.40s: deleting their keys", dirty, sender->name);
        return;
    }
    memset(dirty_slots, 0, sizeof dirty_slots); /* demoted: the keys stay */
    any_dirty = false;
}

/* ---- the packet ---- */

/* getNodeFromLinkAndMsg */
static cluster_node *sender_of(bus_link *l, const bus_msg_view *v)
{
    if (l->node && !in_handshake(l->node)) return l->node;
    cluster_node *s = cluster_lookup_node(v->hdr->sender, CLUSTER_NAMELEN);
    if (s && !l->node) bus_link_set_inbound_node(l, s);
    return s;
}

/* Myself learns its address from the local end of a MEET (or any PING
 * while it has none) when cluster-announce-ip is unset. */
static void learn_my_ip(bus_link *l)
{
    char ip[BUS_IPLEN];
    cluster_node *me = cluster->myself;
    if (!bus_link_sockname(l, ip) || !strcmp(ip, me->ip)) return;
    memcpy(me->ip, ip, sizeof me->ip);
    log_warning("IP address for this node updated to %s", me->ip);
    cluster_todo(CLUSTER_TODO_SAVE_CONFIG | CLUSTER_TODO_PUBLISH);
}

/* A MEET from a node we do not know: add it as a handshake node. */
static void add_met_node(bus_link *l, const bus_msg_view *v)
{
    if (!room_for_node()) return;
    cluster_node *n = cluster_node_create(NULL, CLUSTER_NODE_HANDSHAKE);
    if (!node_ip(n->ip, l, v->hdr->myip)) {
        cluster_node_free(n);
        return;
    }
    n->port = v->port;
    n->pport = v->pport;
    n->cport = v->cport;
    cluster_node_add(n);
    cluster_todo(CLUSTER_TODO_SAVE_CONFIG);
}

/* The sender says it is a master, or a replica of hdr->slaveof. */
static void update_role(cluster_node *sender, const bus_msg_view *v)
{
    if (v->is_master_sender) {
        cluster_set_node_as_master(sender);
        return;
    }
    cluster_node *master = cluster_lookup_node(v->hdr->slaveof, CLUSTER_NAMELEN);
    if (master == sender) {
        log_verbose("Node %.40s claims to be its own replica: ignored", sender->name);
        return;
    }
    if (is_master(sender)) {
        /* A master turned into a replica. */
        cluster_del_node_slots(sender);
        gossip_collect_shard_slots_lost();
        sender->flags &= ~(CLUSTER_NODE_MASTER | CLUSTER_NODE_MIGRATE_TO);
        sender->flags |= CLUSTER_NODE_SLAVE;
        cluster_todo(CLUSTER_TODO_SAVE_CONFIG | CLUSTER_TODO_UPDATE_STATE | CLUSTER_TODO_PUBLISH);
    }
    if (master && sender->slaveof != master) {
        if (sender->slaveof) cluster_node_remove_replica(sender->slaveof, sender);
        cluster_node_add_replica(master, sender);
        sender->slaveof = master;
        cluster_todo(CLUSTER_TODO_SAVE_CONFIG | CLUSTER_TODO_PUBLISH);
    }
}

/* PING / PONG / MEET: configuration, gossip and extensions. Returns false
 * when the link was closed. */
static bool process_ping(bus_link *l, cluster_node *sender, const bus_msg_view *v, uint64_t sender_config_epoch)
{
    long long now = mstime();
    if (!l->inbound) {
        cluster_node *ln = l->node;
        if (in_handshake(ln)) {
            if (sender == cluster->myself) {
                /* A MEET of myself's own address (or a forged PONG in
                 * myself's name): myself's address stays as it is. */
                log_verbose("Handshake: the node at that address is myself, forgetting the handshake node.");
                cluster_node_del(ln);
                return false;
            }
            if (sender) {
                /* We know this node already under its real name: take its
                 * address, forget the handshake node (and this link). */
                log_verbose("Handshake: we already know node %.40s, updating the address if needed.", sender->name);
                if (update_address(sender, l, v)) cluster_todo(CLUSTER_TODO_SAVE_CONFIG | CLUSTER_TODO_UPDATE_STATE);
                cluster_node_del(ln);
                return false;
            }
            if (!cluster_verify_node_id(v->hdr->sender, CLUSTER_NAMELEN)) {
                /* Not a node id: nodes.conf must never hold it. */
                log_warning("Handshake: invalid node id in a PONG, forgetting the handshake node");
                cluster_node_del(ln);
                return false;
            }
            cluster_node_rename(ln, v->hdr->sender);
            log_debug("Handshake with node %.40s completed.", ln->name);
            ln->flags &= ~CLUSTER_NODE_HANDSHAKE;
            ln->flags |= v->flags & (CLUSTER_NODE_MASTER | CLUSTER_NODE_SLAVE);
            cluster_todo(CLUSTER_TODO_SAVE_CONFIG);
        } else if (memcmp(ln->name, v->hdr->sender, CLUSTER_NAMELEN) != 0) {
            /* Someone else answers at that address now. */
            log_debug("PONG contains mismatching sender ID. About node %.40s added %d ms ago, having flags %d",
                      ln->name, (int)(now - ln->ctime), ln->flags);
            ln->flags |= CLUSTER_NODE_NOADDR;
            ln->ip[0] = '\0';
            ln->port = ln->pport = ln->cport = 0;
            bus_link_close(l);
            cluster_todo(CLUSTER_TODO_SAVE_CONFIG | CLUSTER_TODO_PUBLISH);
            return false;
        }
    }

    if (sender == cluster->myself) return !l->closing && !l->close_pending;

    /* NOFAILOVER is the sender's to say. */
    if (sender) {
        sender->flags &= ~CLUSTER_NODE_NOFAILOVER;
        sender->flags |= v->flags & CLUSTER_NODE_NOFAILOVER;
    }
    if (sender && v->type == CLUSTER_MSG_PING && !in_handshake(sender) && update_address(sender, l, v))
        cluster_todo(CLUSTER_TODO_SAVE_CONFIG | CLUSTER_TODO_UPDATE_STATE);

    /* Only a PONG on our own link proves the node answers our pings. */
    if (!l->inbound && v->type == CLUSTER_MSG_PONG) {
        cluster_node *ln = l->node;
        ln->pong_received = now;
        ln->ping_sent = 0;
        if (ln->flags & CLUSTER_NODE_PFAIL) {
            ln->flags &= ~CLUSTER_NODE_PFAIL;
            cluster_todo(CLUSTER_TODO_SAVE_CONFIG | CLUSTER_TODO_UPDATE_STATE);
        } else if (ln->flags & CLUSTER_NODE_FAIL) {
            gossip_clear_failure_if_needed(ln);
        }
    }

    if (sender) update_role(sender, v);

    /* Slots: only worth a look when the claim differs from what we hold
     * for the sender (or its master). */
    bool dirty_slots = false;
    if (sender) {
        cluster_node *sender_master = is_master(sender) ? sender : sender->slaveof;
        if (sender_master) dirty_slots = memcmp(sender_master->slots, v->hdr->myslots, BUS_SLOT_BYTES) != 0;
    }
    if (sender && is_master(sender) && dirty_slots)
        update_slots_config_with(sender, sender_config_epoch, v->hdr->myslots);
    /* The sender claims slots whose owner we know has a newer epoch: tell
     * it (one UPDATE per message, as Redis). */
    if (sender && dirty_slots) {
        for (int j = 0; j < CLUSTER_SLOTS; j++) {
            if (!bus_slot_test(v->hdr->myslots, j)) continue;
            if (cluster->slots[j] == sender || cluster_slot_unclaimed(j)) continue;
            if (cluster->slots[j]->config_epoch > sender_config_epoch) {
                log_verbose("Node %.40s has old slots configuration, sending an UPDATE message about %.40s",
                            sender->name, cluster->slots[j]->name);
                bus_send_update(sender->link, cluster->slots[j]);
                break;
            }
        }
    }
    cluster_node *me = cluster->myself;
    if (sender && is_master(me) && is_master(sender) && sender_config_epoch == me->config_epoch)
        cluster_handle_config_epoch_collision(sender);

    if (sender) {
        process_gossip(l, v);
        process_extensions(l, v);
    }
    return !l->closing && !l->close_pending;
}

static void process_fail(cluster_node *sender, const bus_msg_view *v)
{
    if (!sender) {
        log_notice("Ignoring FAIL message from unknown node %.40s about %.40s", v->hdr->sender, v->about);
        return;
    }
    cluster_node *failing = cluster_lookup_node(v->about, CLUSTER_NAMELEN);
    if (!failing || (failing->flags & (CLUSTER_NODE_FAIL | CLUSTER_NODE_MYSELF))) return;
    log_notice("FAIL message received from %.40s about %.40s", v->hdr->sender, v->about);
    failing->flags |= CLUSTER_NODE_FAIL;
    failing->fail_time = mstime();
    failing->flags &= ~CLUSTER_NODE_PFAIL;
    cluster_todo(CLUSTER_TODO_SAVE_CONFIG | CLUSTER_TODO_UPDATE_STATE);
}

static void process_update(cluster_node *sender, const bus_msg_view *v)
{
    if (!sender) return;
    cluster_node *n = cluster_lookup_node(v->about, CLUSTER_NAMELEN);
    if (!n || n->config_epoch >= v->update_epoch) return; /* unknown, or nothing new */
    if (n == cluster->myself) {
        /* Myself's role, epoch and slots are not a peer's to change. */
        log_warning("Discarding UPDATE message about myself.");
        return;
    }
    if (is_slave(n)) cluster_set_node_as_master(n);
    n->config_epoch = v->update_epoch;
    cluster_todo(CLUSTER_TODO_SAVE_CONFIG | CLUSTER_TODO_FSYNC_CONFIG);
    update_slots_config_with(n, v->update_epoch, v->update_slots);
}

bool gossip_process(bus_link *l, const uint8_t *buf, size_t len)
{
    cluster_assert_locked();
    uint16_t type = be16(((const bus_msg_hdr *)buf)->type);
    /* Counted before the checks, as Redis does. */
    if (type < CLUSTER_MSG_TYPE_COUNT) cluster->stats_bus_messages_received[type]++;
    if (bus_msg_validate(buf, len) != BUS_MSG_ACCEPT) {
        /* Redis drops another version silently, a bad length with a log. */
        if (be16(((const bus_msg_hdr *)buf)->ver) == BUS_PROTO_VER)
            log_warning("Received invalid %s packet of length %zu", bus_msg_type_name(type), len);
        return true;
    }
    bus_msg_view v;
    bus_msg_decode(buf, len, &v);
    long long now = mstime();
    cluster_node *sender = sender_of(l, &v);
    if (sender) sender->data_received = now;

    uint64_t sender_config_epoch = 0;
    /* Myself hears itself only after a CLUSTER MEET of its own address:
     * nothing in such a message is news (and a forged one must not change
     * myself's role, slots or epochs). */
    bool from_myself = sender == cluster->myself;
    if (sender && !in_handshake(sender) && !from_myself) {
        if (v.current_epoch > cluster->current_epoch) cluster->current_epoch = v.current_epoch;
        sender_config_epoch = v.config_epoch;
        if (sender_config_epoch > sender->config_epoch) {
            sender->config_epoch = sender_config_epoch;
            cluster_todo(CLUSTER_TODO_SAVE_CONFIG | CLUSTER_TODO_FSYNC_CONFIG);
        }
        sender->repl_offset = (long long)v.offset;
        sender->repl_offset_time = now;
        failover_master_offset_seen(sender, &v);
    }

    bool ping_like = type == CLUSTER_MSG_PING || type == CLUSTER_MSG_PONG || type == CLUSTER_MSG_MEET;
    if (type == CLUSTER_MSG_PING || type == CLUSTER_MSG_MEET) {
        if ((type == CLUSTER_MSG_MEET || cluster->myself->ip[0] == '\0') && bus.announce_ip[0] == '\0') learn_my_ip(l);
        if (!sender && type == CLUSTER_MSG_MEET) {
            add_met_node(l, &v);
            /* Trust a MEET's gossip (known nodes only: there is no sender). */
            process_gossip(l, &v);
        }
        /* Every PING and MEET gets a PONG on the link it came on. */
        bus_send_ping(l, CLUSTER_MSG_PONG);
    }
    if (ping_like) return process_ping(l, sender, &v, sender_config_epoch);

    switch (type) {
    case CLUSTER_MSG_FAIL:
        process_fail(sender, &v);
        break;
    case CLUSTER_MSG_PUBLISH:
    case CLUSTER_MSG_PUBLISHSHARD:
        if (!sender) break;
        if (type == CLUSTER_MSG_PUBLISH ? pubsub_total_channels() + pubsub_total_patterns() > 0
                                        : pubsub_total_shard_channels() > 0)
            queue_publish(&v, type == CLUSTER_MSG_PUBLISHSHARD);
        break;
    case CLUSTER_MSG_UPDATE:
        process_update(sender, &v);
        break;
    case CLUSTER_MSG_FAILOVER_AUTH_REQUEST:
        if (sender) failover_auth_requested(sender, &v);
        break;
    case CLUSTER_MSG_FAILOVER_AUTH_ACK:
        if (sender) failover_auth_acked(sender, &v);
        break;
    case CLUSTER_MSG_MFSTART:
        failover_mfstart_received(sender);
        break;
    case CLUSTER_MSG_MODULE:
        break; /* no modules */
    default:
        log_warning("Received unknown packet type: %d", type);
        break;
    }
    return !l->closing && !l->close_pending;
}
