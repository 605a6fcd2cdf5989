/*
 * bus_link.c - the cluster bus's links (Redis's clusterLink): one outbound
 * link to every known node (node->link), the inbound links peers open to
 * us (node->inbound_link once a packet names the peer), message framing,
 * queued output, closing, and CLUSTER LINKS.
 *
 * - Framing as clusterReadHandler: the 8-byte prefix ("RCmb", totlen) is
 *   checked first (a bad one closes the link), then exactly totlen bytes
 *   are gathered (in a buffer that grows as they arrive) and handed to
 *   gossip_process under cluster_lock. A totlen above BUS_MSG_MAX_LEN also
 *   closes the link (Redis has no cap).
 * - Output is appended to the link's buffer and handed to libuv only by
 *   bus_links_flush, after cluster_apply_todo (see bus_int.h). Buffer
 *   sizes change under cluster_lock only, as CLUSTER LINKS reads them.
 * - A link's memory is freed only in its close callback, so code that
 *   closed a link (even the one it is reading from) may still look at
 *   link->closing afterwards.
 */
#include "bus_int.h"

#include "db.h"
#include "log.h"
#include "mem.h"
#include "client.h"
#include "reply.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#define RCVBUF_INIT (16 * 1024) /* a PING/PONG of up to ~135 gossip entries */

static bus_link *links; /* every link, bus thread only */

static void list_add(bus_link *l)
{
    l->prev = NULL;
    l->next = links;
    if (links) links->prev = l;
    links = l;
}

static void list_del(bus_link *l)
{
    if (l->prev) l->prev->next = l->next;
    else links = l->next;
    if (l->next) l->next->prev = l->prev;
}

static bus_link *link_new(cluster_node *node)
{
    bus_link *l = mem_calloc(1, sizeof *l);
    l->ctime = mstime();
    l->node = node;
    l->inbound = node == NULL;
    if (node) node->link = l;
    uv_tcp_init(&bus.loop, &l->tcp);
    l->tcp.data = l;
    list_add(l);
    return l;
}

static void on_closed(uv_handle_t *h)
{
    bus_link *l = h->data;
    list_del(l);
    mem_free(l->rcvbuf);
    mem_free(l->out);
    mem_free(l);
}

/* Detach l from its node (lock held). */
static void unbind_node(bus_link *l)
{
    cluster_node *n = l->node;
    if (!n) return;
    if (n->link == l) n->link = NULL;
    else if (n->inbound_link == l) n->inbound_link = NULL;
    l->node = NULL;
}

void bus_link_close(bus_link *l)
{
    if (l->closing) return;
    cluster_assert_locked();
    unbind_node(l);
    l->closing = true;
    uv_close((uv_handle_t *)&l->tcp, on_closed);
}

void bus_link_detach_node(cluster_node *n)
{
    cluster_assert_locked();
    bus_link *ls[2] = {n->link, n->inbound_link};
    for (int i = 0; i < 2; i++) {
        if (!ls[i]) continue;
        ls[i]->node = NULL;
        ls[i]->close_pending = true;
    }
    n->link = n->inbound_link = NULL;
}

void bus_links_reap(void)
{
    cluster_assert_locked();
    for (bus_link *l = links; l; l = l->next)
        if (l->close_pending && !l->closing) bus_link_close(l);
}

void bus_links_close_all(void)
{
    for (bus_link *l = links; l; l = l->next) bus_link_close(l);
}

void bus_link_set_inbound_node(bus_link *l, cluster_node *n)
{
    /* A peer that reconnected before we saw its old link go: the old one
     * is the more likely stale, and the one-to-one relation must hold. */
    if (n->inbound_link) bus_link_close(n->inbound_link);
    n->inbound_link = l;
    l->node = n;
}

/* ---- addresses ---- */

/* The address of ss as text, and its port. */
static bool addr_text(const struct sockaddr_storage *ss, char ip[BUS_IPLEN], int *port)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        if (port) *port = ntohs(a->sin_port);
        return inet_ntop(AF_INET, &a->sin_addr, ip, BUS_IPLEN) != NULL;
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        if (port) *port = ntohs(a->sin6_port);
        return inet_ntop(AF_INET6, &a->sin6_addr, ip, BUS_IPLEN) != NULL;
    }
    return false;
}

static bool peer_address(bus_link *l, char ip[BUS_IPLEN], int *port)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    memset(ip, 0, BUS_IPLEN);
    return uv_tcp_getpeername(&l->tcp, (struct sockaddr *)&ss, &len) == 0 && addr_text(&ss, ip, port);
}

bool bus_link_sockname(bus_link *l, char ip[BUS_IPLEN])
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    memset(ip, 0, BUS_IPLEN);
    return uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&ss, &len) == 0 && addr_text(&ss, ip, NULL);
}

bool bus_link_peername(bus_link *l, char ip[BUS_IPLEN]) { return peer_address(l, ip, NULL); }

/* ---- output ---- */

typedef struct link_write {
    uv_write_t req;
    bus_link *link;
    char *data;
    size_t len;
} link_write;

static void on_written(uv_write_t *req, int status)
{
    link_write *w = (link_write *)req;
    bus_link *l = w->link;
    cluster_lock(); /* CLUSTER LINKS reads the counts */
    l->inflight -= w->len;
    if (status < 0 && status != UV_ECANCELED && !l->closing) {
        log_debug("I/O error writing to node link: %s", uv_strerror(status));
        bus_link_close(l);
    }
    cluster_unlock();
    mem_free(w->data);
    mem_free(w);
}

void bus_link_send(bus_link *l, const void *msg, size_t len)
{
    if (!l || l->closing || l->close_pending) return;
    if (l->out_len + len > l->out_cap) {
        size_t cap = l->out_cap ? l->out_cap : 4096;
        while (cap < l->out_len + len) cap *= 2;
        l->out = mem_realloc(l->out, cap);
        l->out_cap = cap;
    }
    memcpy(l->out + l->out_len, msg, len);
    l->out_len += len;
    uint16_t type = be16(((const bus_msg_hdr *)msg)->type);
    if (type < CLUSTER_MSG_TYPE_COUNT) cluster->stats_bus_messages_sent[type]++;
}

size_t bus_link_pending(const bus_link *l) { return l->out_len + l->inflight; }

void bus_links_flush(void)
{
    cluster_assert_locked();
    for (bus_link *l = links; l; l = l->next) {
        if (!l->connected || l->closing || l->out_len == 0) continue;
        link_write *w = mem_alloc(sizeof *w);
        w->link = l;
        w->data = l->out;
        w->len = l->out_len;
        l->out = NULL;
        l->out_len = l->out_cap = 0;
        l->inflight += w->len;
        uv_buf_t b = uv_buf_init(w->data, (unsigned)w->len);
        int rc = uv_write(&w->req, (uv_stream_t *)&l->tcp, &b, 1, on_written);
        if (rc < 0) {
            l->inflight -= w->len;
            mem_free(w->data);
            mem_free(w);
            bus_link_close(l);
        }
    }
}

/* ---- input ---- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    static char chunk[65536]; /* bus thread only; copied out at once */
    (void)h;
    (void)suggested;
    *buf = uv_buf_init(chunk, sizeof chunk);
}

/* Feed bytes read from l; returns false when l must not be read further
 * (closed by a bad prefix or by what a packet did). Lock held. */
static bool feed(bus_link *l, const uint8_t *p, size_t n)
{
    while (n > 0) {
        if (l->closing || l->close_pending) return false;
        if (!l->rcvbuf) {
            size_t take = 8 - l->head_len < n ? 8 - l->head_len : n;
            memcpy(l->head + l->head_len, p, take);
            l->head_len += take;
            p += take;
            n -= take;
            if (l->head_len < 8) return true;
            uint32_t totlen;
            if (bus_msg_check_prefix(l->head, &totlen) != BUS_MSG_ACCEPT || totlen > BUS_MSG_MAX_LEN) {
                log_warning("Bad message length or signature received from Cluster bus.");
                bus_link_close(l);
                return false;
            }
            /* The buffer grows with what arrives: an announced length
             * alone does not make us allocate it. */
            l->rcv_cap = totlen < RCVBUF_INIT ? totlen : RCVBUF_INIT;
            l->rcvbuf = mem_alloc(l->rcv_cap);
            memcpy(l->rcvbuf, l->head, 8);
            l->rcv_len = 8;
            l->rcv_need = totlen;
        }
        size_t take = l->rcv_need - l->rcv_len < n ? l->rcv_need - l->rcv_len : n;
        if (l->rcv_len + take > l->rcv_cap) {
            size_t cap = l->rcv_cap * 2;
            if (cap < l->rcv_len + take) cap = l->rcv_len + take;
            if (cap > l->rcv_need) cap = l->rcv_need;
            l->rcvbuf = mem_realloc(l->rcvbuf, cap);
            l->rcv_cap = cap;
        }
        memcpy(l->rcvbuf + l->rcv_len, p, take);
        l->rcv_len += take;
        p += take;
        n -= take;
        if (l->rcv_len < l->rcv_need) return true;
        uint8_t *msg = l->rcvbuf;
        size_t len = l->rcv_len;
        l->rcvbuf = NULL;
        l->head_len = l->rcv_len = l->rcv_need = l->rcv_cap = 0;
        bool alive = gossip_process(l, msg, len);
        mem_free(msg);
        if (!alive) return false;
    }
    return !(l->closing || l->close_pending);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    bus_link *l = s->data;
    if (nread == 0 || l->closing) return;
    cluster_lock();
    if (nread < 0) {
        log_debug("I/O error reading from node link: %s", nread == UV_EOF ? "connection closed" : uv_strerror((int)nread));
        bus_link_close(l);
    } else if (!feed(l, (const uint8_t *)buf->base, (size_t)nread) && !l->closing) {
        bus_link_close(l);
    }
    cluster_unlock();
    gossip_deliver_publishes();
}

/* ---- connecting and accepting ---- */

static void on_connect(uv_connect_t *req, int status)
{
    bus_link *l = req->data;
    if (l->closing) return;
    cluster_lock();
    cluster_node *n = l->node;
    if (status < 0 || !n || l->close_pending) {
        if (n && status < 0)
            log_verbose("Connection with Node %.40s at %s:%d failed: %s", n->name, n->ip, n->cport, uv_strerror(status));
        /* Failure detection needs a reference: the attempt counts as the
         * ping it would have carried (Redis does so when connect fails at
         * once, which on loopback is the common case; libuv reports even
         * that failure here). */
        if (n && status < 0 && n->ping_sent == 0) n->ping_sent = l->ctime;
        bus_link_close(l);
        cluster_unlock();
        return;
    }
    l->connected = true;
    uv_tcp_nodelay(&l->tcp, 1);
    uv_read_start((uv_stream_t *)&l->tcp, on_alloc, on_read);
    /* A PING (or MEET) at once, so failure detection has a reference; keep
     * the time of a ping that was outstanding when the old link went. */
    long long old_ping_sent = n->ping_sent;
    bus_send_ping(l, (n->flags & CLUSTER_NODE_MEET) ? CLUSTER_MSG_MEET : CLUSTER_MSG_PING);
    if (old_ping_sent) n->ping_sent = old_ping_sent;
    n->flags &= ~CLUSTER_NODE_MEET;
    log_debug("Connecting with Node %.40s at %s:%d", n->name, n->ip, n->cport);
    cluster_unlock();
}

bool bus_link_connect(cluster_node *n)
{
    cluster_assert_locked();
    bus_link *l = link_new(n);
    union {
        struct sockaddr_in v4;
        struct sockaddr_in6 v6;
    } addr;
    int rc = strchr(n->ip, ':') ? uv_ip6_addr(n->ip, n->cport, &addr.v6) : uv_ip4_addr(n->ip, n->cport, &addr.v4);
    if (rc == 0) {
        l->connect_req.data = l;
        rc = uv_tcp_connect(&l->connect_req, &l->tcp, (const struct sockaddr *)&addr, on_connect);
    }
    if (rc < 0) {
        log_debug("Unable to connect to Cluster Node [%s]:%d -> %s", n->ip, n->cport, uv_strerror(rc));
        bus_link_close(l);
        return false;
    }
    return true;
}

void bus_link_accept(uv_stream_t *listener)
{
    bus_link *l = link_new(NULL);
    if (uv_accept(listener, (uv_stream_t *)&l->tcp) != 0) {
        cluster_lock();
        bus_link_close(l);
        cluster_unlock();
        return;
    }
    l->connected = true;
    uv_tcp_nodelay(&l->tcp, 1);
    unsigned keepalive = (unsigned)(bus.node_timeout / 1000 * 2);
    uv_tcp_keepalive(&l->tcp, 1, keepalive ? keepalive : 1);
    char ip[BUS_IPLEN];
    int port = 0;
    peer_address(l, ip, &port);
    log_verbose("Accepting cluster node connection from %s:%d", ip, port);
    uv_read_start((uv_stream_t *)&l->tcp, on_alloc, on_read);
}

/* ---- CLUSTER LINKS ---- */

static void link_reply(struct client *c, const bus_link *l)
{
    add_reply_map(c, 6);
    add_reply_bulk_cstr(c, "direction");
    add_reply_bulk_cstr(c, l->inbound ? "from" : "to");
    add_reply_bulk_cstr(c, "node");
    add_reply_bulk(c, l->node->name, CLUSTER_NAMELEN);
    add_reply_bulk_cstr(c, "create-time");
    add_reply_integer(c, l->ctime);
    /* Redis shows "r" for a read handler and "w" while output is waiting. */
    add_reply_bulk_cstr(c, "events");
    add_reply_bulk_cstr(c, l->connected ? (bus_link_pending(l) ? "rw" : "r") : "");
    add_reply_bulk_cstr(c, "send-buffer-allocated");
    add_reply_integer(c, (long long)(l->out_cap + l->inflight));
    add_reply_bulk_cstr(c, "send-buffer-used");
    add_reply_integer(c, (long long)bus_link_pending(l));
}

void bus_links_reply(struct client *c)
{
    cluster_assert_locked();
    int n = 0;
    for (int i = 0; i < cluster->nnodes; i++) n += (cluster->nodes[i]->link != NULL) + (cluster->nodes[i]->inbound_link != NULL);
    add_reply_array(c, n);
    for (int i = 0; i < cluster->nnodes; i++) {
        const cluster_node *node = cluster->nodes[i];
        if (node->link) link_reply(c, node->link);
        if (node->inbound_link) link_reply(c, node->inbound_link);
    }
}
