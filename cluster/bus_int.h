/*
 * bus_int.h - what the bus's files share (bus.c: the thread, its loop and
 * the cron; bus_link.c: links and their I/O; bus_send.c: messages out;
 * gossip.c: messages in). Nothing outside these files includes it.
 *
 * Threads and locks: everything here runs on the bus thread, except the
 * node_freed hook (bus_link_detach_node, any thread with cluster_lock
 * held) and bus_publish's queue (bus.c). A link's libuv handle, buffers
 * and list membership are the bus thread's alone; the link <-> node
 * association (link->node, node->link, node->inbound_link) is state and
 * changes only under cluster_lock. Functions marked "lock held" require
 * cluster_lock.
 *
 * Writes never leave the process from inside a callback: sends append to
 * the link's output buffer, and the loop's prepare handle (Redis's
 * beforeSleep) runs cluster_apply_todo() -- state update, nodes.conf save
 * -- before it hands the buffers to the sockets.
 */
#ifndef BUS_INT_H
#define BUS_INT_H

#include "bus_msg.h"
#include "cluster_state.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* bus_msg.h spells the wire's constants on its own (it is libc only);
 * they must be the state's. */
#define SAME(a, b) ((int)(a) == (int)(b))
static_assert(SAME(BUS_PING, CLUSTER_MSG_PING) && SAME(BUS_PONG, CLUSTER_MSG_PONG) && SAME(BUS_MEET, CLUSTER_MSG_MEET) &&
                  SAME(BUS_FAIL, CLUSTER_MSG_FAIL) && SAME(BUS_PUBLISH, CLUSTER_MSG_PUBLISH) &&
                  SAME(BUS_FAILOVER_AUTH_REQUEST, CLUSTER_MSG_FAILOVER_AUTH_REQUEST) &&
                  SAME(BUS_FAILOVER_AUTH_ACK, CLUSTER_MSG_FAILOVER_AUTH_ACK) && SAME(BUS_UPDATE, CLUSTER_MSG_UPDATE) &&
                  SAME(BUS_MFSTART, CLUSTER_MSG_MFSTART) && SAME(BUS_MODULE, CLUSTER_MSG_MODULE) &&
                  SAME(BUS_PUBLISHSHARD, CLUSTER_MSG_PUBLISHSHARD) && SAME(BUS_TYPE_COUNT, CLUSTER_MSG_TYPE_COUNT),
              "message types");
static_assert(SAME(BUS_NODE_MASTER, CLUSTER_NODE_MASTER) && SAME(BUS_NODE_SLAVE, CLUSTER_NODE_SLAVE) &&
                  SAME(BUS_NODE_PFAIL, CLUSTER_NODE_PFAIL) && SAME(BUS_NODE_FAIL, CLUSTER_NODE_FAIL) &&
                  SAME(BUS_NODE_MYSELF, CLUSTER_NODE_MYSELF) && SAME(BUS_NODE_HANDSHAKE, CLUSTER_NODE_HANDSHAKE) &&
                  SAME(BUS_NODE_NOADDR, CLUSTER_NODE_NOADDR) && SAME(BUS_NODE_MEET, CLUSTER_NODE_MEET) &&
                  SAME(BUS_NODE_MIGRATE_TO, CLUSTER_NODE_MIGRATE_TO) && SAME(BUS_NODE_NOFAILOVER, CLUSTER_NODE_NOFAILOVER),
              "node flags");
static_assert(SAME(BUS_IPLEN, CLUSTER_IPLEN), "ip length");
#undef SAME

typedef struct bus_link {
    uv_tcp_t tcp;
    uv_connect_t connect_req;
    cluster_node *node;        /* lock: the node, or NULL (inbound, not yet known) */
    bool inbound;
    bool connected;            /* the socket is up: output may be written */
    bool closing;              /* uv_close called; freed in its callback */
    bool close_pending;        /* lock: detached by node_freed; the bus closes it */
    long long ctime;           /* creation, unix ms */
    /* input: the 8-byte prefix, then a buffer of the announced length */
    uint8_t head[8];
    size_t head_len;
    uint8_t *rcvbuf;           /* mem_alloc'd, grows up to totlen (rcv_need) */
    size_t rcv_len, rcv_need, rcv_cap;
    /* output not yet handed to the socket, and what is in flight */
    char *out;
    size_t out_len, out_cap;
    size_t inflight;
    struct bus_link *prev, *next; /* every link of the bus */
} bus_link;

/* ---- the bus (bus.c) ---- */

typedef struct bus_globals {
    uv_loop_t loop;
    uint64_t rng;               /* random picks (gossip, cron) */
    long long node_timeout;     /* cluster-node-timeout, read each cron tick */
    char announce_ip[BUS_IPLEN]; /* cluster-announce-ip, "" when unset */
    long long sendbuf_limit;    /* cluster-link-sendbuf-limit */
    uint64_t pings_sent;        /* gossip rounds (last_in_ping_gossip) */
} bus_globals;
extern bus_globals bus;

uint64_t bus_random(void);

/* ---- links (bus_link.c) ---- */

/* Open the outbound link to n (lock held): n->link is set at once, as
 * Redis's createClusterLink; false when the connect failed at once (the
 * link is gone again). On connect the link sends MEET (n flagged MEET,
 * the flag is then cleared) or PING. */
bool bus_link_connect(cluster_node *n);
/* Take an accepted connection from a listener. */
void bus_link_accept(uv_stream_t *listener);
/* Close a link (lock held; bus thread): detached from its node at once,
 * its memory freed later in the close callback, so a caller may still
 * look at link->closing after this. */
void bus_link_close(bus_link *l);
/* node_freed hook (any thread, lock held): detach n's links; the bus
 * closes them before it sleeps. */
void bus_link_detach_node(cluster_node *n);
/* Attach an inbound link to its node once a packet named it
 * (setClusterNodeToInboundClusterLink), lock held. */
void bus_link_set_inbound_node(bus_link *l, cluster_node *n);
/* Queue a message on a link (counted as sent by its type). NULL link:
 * nothing, not counted (as Redis). */
void bus_link_send(bus_link *l, const void *msg, size_t len);
/* Bytes queued or in flight on a link. */
size_t bus_link_pending(const bus_link *l);
/* Lock held: close links detached by bus_link_detach_node. */
void bus_links_reap(void);
/* Lock held: hand every link's queued output to its socket. */
void bus_links_flush(void);
/* Close every link (bus_stop). */
void bus_links_close_all(void);
/* The link's local / peer address as text (getsockname / getpeername). */
bool bus_link_sockname(bus_link *l, char ip[BUS_IPLEN]);
bool bus_link_peername(bus_link *l, char ip[BUS_IPLEN]);
/* CLUSTER LINKS (cluster_bus_hooks.links_reply). */
void bus_links_reply(struct client *c);

/* ---- messages out (bus_send.c; lock held) ---- */

/* PING / PONG / MEET with a gossip section (clusterSendPing). */
void bus_send_ping(bus_link *l, int type);
/* PONG to every linked node (CLUSTER_BROADCAST_ALL) or to the replicas of
 * myself's shard (clusterBroadcastPong). */
enum { BUS_BROADCAST_ALL = 0, BUS_BROADCAST_LOCAL_SLAVES = 1 };
void bus_broadcast_pong(int target);
/* FAIL about a node to everyone (clusterSendFail). */
void bus_send_fail(const char *nodename);
/* UPDATE about n on l (clusterSendUpdate). */
void bus_send_update(bus_link *l, const cluster_node *n);
/* FAILOVER_AUTH_REQUEST to every node (clusterRequestFailoverAuth; FORCEACK
 * for a manual failover), FAILOVER_AUTH_ACK (clusterSendFailoverAuth) and
 * MFSTART (clusterSendMFStart) on a link. */
void bus_send_auth_request(bool force_ack);
void bus_send_auth_ack(bus_link *l);
void bus_send_mfstart(bus_link *l);
/* PUBLISH to every node, or PUBLISHSHARD to myself's shard. */
void bus_send_publish(const char *ch, size_t clen, const char *msg, size_t mlen, bool sharded);

/* ---- failover (failover.c; lock held) ---- */

/* FAILOVER_AUTH_REQUEST from `node` (clusterSendFailoverAuthIfNeeded) and
 * FAILOVER_AUTH_ACK from `sender` (a vote for myself's election). */
void failover_auth_requested(cluster_node *node, const bus_msg_view *v);
void failover_auth_acked(cluster_node *sender, const bus_msg_view *v);
/* MFSTART from a replica of myself (the master's side of a coordinated
 * CLUSTER FAILOVER), and the PAUSED flag of myself's master (the
 * replica's side). */
void failover_mfstart_received(cluster_node *sender);
void failover_master_offset_seen(cluster_node *sender, const bus_msg_view *v);
/* Every cron tick: manual failover timeout, the election, replica
 * migration (clusterCron's part). */
void failover_cron(void);
/* Before the loop sleeps: CLUSTER_TODO_HANDLE_FAILOVER,
 * _HANDLE_MANUALFAILOVER and _TAKEOVER. */
void failover_before_sleep(void);

/* ---- messages in (gossip.c; lock held) ---- */

/* Process one whole message read from l (clusterProcessPacket, after the
 * reader's prefix check). Returns false when l was closed meanwhile: the
 * caller then reads nothing more from it. */
bool gossip_process(bus_link *l, const uint8_t *buf, size_t len);
/* markNodeAsFailingIfNeeded / clearNodeFailureIfNeeded. */
void gossip_mark_failing_if_needed(cluster_node *n);
void gossip_clear_failure_if_needed(cluster_node *n);
/* PUBLISH / PUBLISHSHARD messages received while the lock was held are
 * delivered to local subscribers by this, called without the lock. */
void gossip_deliver_publishes(void);
/* Lock held: queue the shard channels of the slots cluster_del_slot took
 * from myself's shard for gossip_deliver_publishes to drop. */
void gossip_collect_shard_slots_lost(void);

#endif
