/*
 * bus_send.c - messages the bus sends (clusterBuildMessageHdr,
 * clusterSendPing and its gossip section, broadcasts, FAIL, UPDATE,
 * PUBLISH / PUBLISHSHARD), built with bus_msg.h from the cluster state.
 * and the failover messages (FAILOVER_AUTH_REQUEST / ACK, MFSTART).
 * Every function runs on the bus thread with cluster_lock held; messages
 * are queued on links (bus_link_send) and leave after cluster_apply_todo.
 *
 * The gossip section follows Redis 7.0: max(3, N/10) random nodes (no
 * HANDSHAKE / NOADDR, no slot-less node without a link, none twice), then
 * every PFAIL node on top (as Redis; CLUSTER-WIRE.md 2.2), but never more
 * entries in all than the header's u16 count holds.
 */
#include "bus_int.h"

#include "db.h"
#include "mem.h"
#include "rng.h"

#include <string.h>

/* The header's view of myself (clusterBuildMessageHdr). */
static void fill_self(bus_msg_self *s)
{
    const cluster_node *me = cluster->myself;
    const cluster_node *master = (me->flags & CLUSTER_NODE_SLAVE) && me->slaveof ? me->slaveof : me;
    memset(s, 0, sizeof *s);
    memcpy(s->name, me->name, CLUSTER_NAMELEN);
    s->flags = (uint16_t)me->flags;
    s->current_epoch = cluster->current_epoch;
    s->config_epoch = master->config_epoch;
    s->offset = (uint64_t)cluster_my_repl_offset();
    s->slots = master->slots;
    if (me->slaveof) {
        s->has_master = true;
        memcpy(s->slaveof, me->slaveof->name, CLUSTER_NAMELEN);
    }
    memcpy(s->myip, bus.announce_ip, BUS_IPLEN);
    s->port = (uint16_t)me->port;
    s->pport = (uint16_t)me->pport;
    s->cport = (uint16_t)me->cport;
    s->state = (uint8_t)cluster->state;
    /* Redis flags PAUSED as soon as clients are paused; here writes in
     * flight must drain first (failover.c), then the offset is final. */
    s->paused = (me->flags & CLUSTER_NODE_MASTER) && cluster->mf_end && cluster->mf_paused;
    s->hostname = me->hostname;
}

static void gossip_entry(bus_msg_gossip *g, const cluster_node *n)
{
    bus_msg_node_info ni = {.name = n->name, .ping_sent_ms = n->ping_sent, .pong_received_ms = n->pong_received,
                            .ip = n->ip, .port = (uint16_t)n->port, .cport = (uint16_t)n->cport,
                            .pport = (uint16_t)n->pport, .flags = (uint16_t)n->flags};
    bus_msg_gossip_set(g, &ni);
}

void bus_send_ping(bus_link *l, int type)
{
    if (!l) return;
    uint64_t round = ++bus.pings_sent;
    int freshnodes = cluster->nnodes - 2;
    int wanted = cluster->nnodes / 10;
    if (wanted < 3) wanted = 3;
    if (wanted > freshnodes) wanted = freshnodes;
    if (wanted < 0) wanted = 0;
    int pfail_wanted = (int)cluster->stats_pfail_nodes;
    /* The header counts entries in a u16: PFAIL nodes beyond it wait. */
    if (pfail_wanted > UINT16_MAX - wanted) pfail_wanted = UINT16_MAX - wanted;

    cluster_node **pick = mem_alloc((size_t)(wanted + pfail_wanted + 1) * sizeof *pick);
    int count = 0;
    if (!l->inbound && type == CLUSTER_MSG_PING) l->node->ping_sent = mstime();

    int maxiterations = wanted * 3;
    while (freshnodes > 0 && count < wanted && maxiterations--) {
        cluster_node *n = cluster->nodes[rng_below(bus_random(), (uint64_t)cluster->nnodes)];
        if (n == cluster->myself) continue;
        if (n->flags & CLUSTER_NODE_PFAIL) continue; /* added below */
        if ((n->flags & (CLUSTER_NODE_HANDSHAKE | CLUSTER_NODE_NOADDR)) || (n->link == NULL && n->numslots == 0)) {
            freshnodes--; /* not quite right, but saves work (as Redis) */
            continue;
        }
        if (n->last_in_ping_gossip == round) continue;
        n->last_in_ping_gossip = round;
        pick[count++] = n;
        freshnodes--;
    }
    for (int i = 0; i < cluster->nnodes && pfail_wanted > 0; i++) {
        cluster_node *n = cluster->nodes[i];
        if (n->flags & (CLUSTER_NODE_HANDSHAKE | CLUSTER_NODE_NOADDR)) continue;
        if (!(n->flags & CLUSTER_NODE_PFAIL)) continue;
        pick[count++] = n;
        pfail_wanted--;
    }

    bus_msg_self self;
    fill_self(&self);
    size_t len = bus_msg_ping_len((uint16_t)count, self.hostname);
    void *buf = mem_alloc(len);
    bus_msg_ping(buf, &self, (uint16_t)type, (uint16_t)count);
    for (int i = 0; i < count; i++) gossip_entry(bus_msg_gossip_at(buf, (unsigned)i), pick[i]);
    bus_link_send(l, buf, len);
    mem_free(buf);
    mem_free(pick);
}

void bus_broadcast_pong(int target)
{
    const cluster_node *me = cluster->myself;
    for (int i = 0; i < cluster->nnodes; i++) {
        cluster_node *n = cluster->nodes[i];
        if (!n->link || n == me || (n->flags & CLUSTER_NODE_HANDSHAKE)) continue;
        if (target == BUS_BROADCAST_LOCAL_SLAVES) {
            bool local = (n->flags & CLUSTER_NODE_SLAVE) && n->slaveof &&
                         (n->slaveof == me || n->slaveof == me->slaveof);
            if (!local) continue;
        }
        bus_send_ping(n->link, CLUSTER_MSG_PONG);
    }
}

/* clusterBroadcastMessage: every node but myself and handshake nodes. */
static void broadcast(const void *buf, size_t len)
{
    for (int i = 0; i < cluster->nnodes; i++) {
        cluster_node *n = cluster->nodes[i];
        if (n->flags & (CLUSTER_NODE_MYSELF | CLUSTER_NODE_HANDSHAKE)) continue;
        bus_link_send(n->link, buf, len);
    }
}

void bus_send_fail(const char *nodename)
{
    _Alignas(8) uint8_t buf[BUS_FAIL_LEN];
    bus_msg_self self;
    fill_self(&self);
    broadcast(buf, bus_msg_fail_build(buf, &self, nodename));
}

void bus_send_update(bus_link *l, const cluster_node *n)
{
    if (!l) return;
    uint8_t slots[BUS_SLOT_BYTES];
    /* Slots the owner stopped claiming are not advertised. */
    for (size_t i = 0; i < sizeof slots; i++) slots[i] = n->slots[i] & (uint8_t)~cluster->owner_not_claiming_slot[i];
    void *buf = mem_alloc(BUS_UPDATE_LEN);
    bus_msg_self self;
    fill_self(&self);
    bus_link_send(l, buf, bus_msg_update_build(buf, &self, n->name, n->config_epoch, slots));
    mem_free(buf);
}

void bus_send_auth_request(bool force_ack)
{
    _Alignas(8) uint8_t buf[BUS_HDR_LEN];
    bus_msg_self self;
    fill_self(&self);
    size_t len = bus_msg_bare_build(buf, &self, CLUSTER_MSG_FAILOVER_AUTH_REQUEST);
    /* A manual failover asks masters to vote although the master works. */
    if (force_ack) ((bus_msg_hdr *)buf)->mflags[0] |= BUS_MFLAG0_FORCEACK;
    broadcast(buf, len);
}

static void send_bare(bus_link *l, uint16_t type)
{
    if (!l) return;
    _Alignas(8) uint8_t buf[BUS_HDR_LEN];
    bus_msg_self self;
    fill_self(&self);
    bus_link_send(l, buf, bus_msg_bare_build(buf, &self, type));
}

void bus_send_auth_ack(bus_link *l) { send_bare(l, CLUSTER_MSG_FAILOVER_AUTH_ACK); }

void bus_send_mfstart(bus_link *l) { send_bare(l, CLUSTER_MSG_MFSTART); }

void bus_send_publish(const char *ch, size_t clen, const char *msg, size_t mlen, bool sharded)
{
    size_t len = bus_msg_publish_len(clen, mlen);
    void *buf = mem_alloc(len);
    bus_msg_self self;
    fill_self(&self);
    bus_msg_publish_build(buf, &self, sharded ? CLUSTER_MSG_PUBLISHSHARD : CLUSTER_MSG_PUBLISH, ch, clen, msg, mlen);
    if (!sharded) {
        broadcast(buf, len);
    } else {
        /* clusterGetNodesServingMySlots: my master (or me) and its replicas. */
        const cluster_node *me = cluster->myself;
        const cluster_node *master = (me->flags & CLUSTER_NODE_SLAVE) && me->slaveof ? me->slaveof : me;
        if (!(master->flags & (CLUSTER_NODE_MYSELF | CLUSTER_NODE_HANDSHAKE))) bus_link_send(master->link, buf, len);
        for (int i = 0; i < master->numslaves; i++) {
            const cluster_node *r = master->slaves[i];
            if (!(r->flags & (CLUSTER_NODE_MYSELF | CLUSTER_NODE_HANDSHAKE))) bus_link_send(r->link, buf, len);
        }
    }
    mem_free(buf);
}
