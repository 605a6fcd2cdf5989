/*
 * bus.c - the cluster bus thread (bus.h): its own libuv loop, the
 * listening sockets on the bus port, the 100 ms cron (Redis 7.0.15's
 * clusterCron), the wake-up other threads use, and PUBLISH hand-over.
 *
 * - The thread takes cluster_lock around each callback's work (a packet,
 *   a cron tick, a wake-up) and never blocks with it held except for the
 *   nodes.conf save that cluster_apply_todo does.
 * - Redis's beforeSleep is a uv_prepare handle: once per loop iteration,
 *   before the loop waits, it runs cluster_apply_todo() (state, nodes.conf,
 *   slot map publication), closes links detached by a worker's CLUSTER
 *   FORGET / RESET, and only then hands the queued output to the sockets.
 * - Workers never wait on the loop: bus_wake is a uv_async_send, and
 *   bus_publish copies the message into a mutex-guarded queue.
 */
#include "bus.h"

#include "bus_int.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "mem.h"
#include "rng.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#define BUS_LISTEN_MAX 16
#define BUS_CRON_MS 100

bus_globals bus;

static pthread_t thread;
static uv_async_t wake;
static uv_timer_t cron_timer;
static uv_prepare_t before_sleep;
static uv_tcp_t listeners[BUS_LISTEN_MAX];
static int nlisteners;
static atomic_bool running;
static atomic_bool stopping;
/* Threads inside bus_wake / bus_publish: bus_stop waits for them to leave
 * before it closes the wake handle. */
static atomic_int senders;
/* A CLUSTER MEET asks the next wake-up to connect (bus_wake_connect). */
static atomic_bool connect_requested;
static uint64_t iteration;

/* PUBLISH / SPUBLISH handed over by workers. */
typedef struct queued_pub {
    struct queued_pub *next;
    bool sharded;
    size_t clen, mlen;
    char data[];
} queued_pub;
static pthread_mutex_t pub_lock = PTHREAD_MUTEX_INITIALIZER;
static queued_pub *pub_head, **pub_tail = &pub_head;

uint64_t bus_random(void) { return rng_next(&bus.rng); }

/* ---- configuration read once per tick ---- */

static void refresh_config(void)
{
    bus.node_timeout = cluster_cfg_ll("cluster-node-timeout");
    bus.sendbuf_limit = cluster_cfg_ll("cluster-link-sendbuf-limit");
    char ip[BUS_IPLEN] = {0};
    cfg_get_string("cluster-announce-ip", ip, sizeof ip);
    memcpy(bus.announce_ip, ip, sizeof ip);
    cluster_update_myself_from_config();
    /* -MOVED / -ASK name nodes by cluster-preferred-endpoint-type, which
     * the map carries: after a CONFIG SET of it the map is built again. */
    if (slotmap_endpoints_stale()) cluster_todo(CLUSTER_TODO_PUBLISH);
}

/* ---- the cron (clusterCron) ---- */

/* Open the outbound link of a node that has none. */
static void connect_if_unlinked(cluster_node *n)
{
    if (n->link || (n->flags & (CLUSTER_NODE_MYSELF | CLUSTER_NODE_NOADDR))) return;
    if (!bus_link_connect(n) && n->ping_sent == 0) {
        /* Failure detection needs a reference: count the attempt as the
         * ping it would have been. */
        n->ping_sent = mstime();
    }
}

/* clusterNodeCronHandleReconnect: PFAIL count, handshake timeout, connect. */
static void cron_reconnect(cluster_node *n, long long handshake_timeout, long long now)
{
    if (n->flags & (CLUSTER_NODE_MYSELF | CLUSTER_NODE_NOADDR)) return;
    if (n->flags & CLUSTER_NODE_PFAIL) cluster->stats_pfail_nodes++;
    if ((n->flags & CLUSTER_NODE_HANDSHAKE) && now - n->ctime > handshake_timeout) {
        cluster_node_del(n);
        return;
    }
    connect_if_unlinked(n);
}

/* Links whose output the peer does not take (cluster-link-sendbuf-limit). */
static void cron_sendbuf_limit(cluster_node *n)
{
    if (bus.sendbuf_limit <= 0) return;
    bus_link *ls[2] = {n->link, n->inbound_link};
    for (int i = 0; i < 2; i++) {
        if (!ls[i] || (long long)bus_link_pending(ls[i]) <= bus.sendbuf_limit) continue;
        log_warning("Freeing cluster link(%s node %.40s, used memory: %zu) due to exceeding send buffer memory limit.",
                    ls[i]->inbound ? "from" : "to", n->name, bus_link_pending(ls[i]));
        bus_link_close(ls[i]);
        cluster->stat_cluster_links_buffer_limit_exceeded++;
    }
}

static void cron(void)
{
    iteration++;
    refresh_config();
    long long now = mstime();
    long long nt = bus.node_timeout;
    long long handshake_timeout = nt < 1000 ? 1000 : nt;

    cluster->stats_pfail_nodes = 0;
    for (int i = cluster->nnodes - 1; i >= 0; i--) {
        if (i >= cluster->nnodes) continue; /* a deletion moved the table */
        cluster_node *n = cluster->nodes[i];
        cron_sendbuf_limit(n);
        cron_reconnect(n, handshake_timeout, now);
    }

    /* Once a second, ping the node with the oldest pong among 5 random
     * ones that have a link and no ping outstanding. */
    if (iteration % 10 == 0 && cluster->nnodes > 0) {
        cluster_node *min_node = NULL;
        for (int j = 0; j < 5; j++) {
            cluster_node *n = cluster->nodes[rng_below(bus_random(), (uint64_t)cluster->nnodes)];
            if (!n->link || n->ping_sent != 0) continue;
            if (n->flags & (CLUSTER_NODE_MYSELF | CLUSTER_NODE_HANDSHAKE)) continue;
            if (!min_node || min_node->pong_received > n->pong_received) min_node = n;
        }
        if (min_node) {
            log_debug("Pinging node %.40s", min_node->name);
            bus_send_ping(min_node->link, CLUSTER_MSG_PING);
        }
    }

    bool update_state = false, new_pfail = false;
    for (int i = 0; i < cluster->nnodes; i++) {
        cluster_node *n = cluster->nodes[i];
        now = mstime();
        if (n->flags & (CLUSTER_NODE_MYSELF | CLUSTER_NODE_NOADDR | CLUSTER_NODE_HANDSHAKE)) continue;
        long long ping_delay = now - n->ping_sent;
        long long data_delay = now - n->data_received;
        /* Connected for long, a ping waiting over timeout/2 and no data
         * at all meanwhile: the link may be the problem; reconnect. */
        if (n->link && now - n->link->ctime > nt && n->ping_sent && ping_delay > nt / 2 && data_delay > nt / 2)
            bus_link_close(n->link);
        /* Every node is pinged at least every timeout/2. */
        if (n->link && n->ping_sent == 0 && now - n->pong_received > nt / 2) {
            bus_send_ping(n->link, CLUSTER_MSG_PING);
            continue;
        }
        if (n->ping_sent == 0) continue;
        /* Any data received counts as liveness. */
        long long node_delay = ping_delay < data_delay ? ping_delay : data_delay;
        if (node_delay > nt && !(n->flags & (CLUSTER_NODE_PFAIL | CLUSTER_NODE_FAIL))) {
            log_debug("*** NODE %.40s possibly failing", n->name);
            n->flags |= CLUSTER_NODE_PFAIL;
            cluster->stats_pfail_nodes++;
            update_state = true;
            new_pfail = true;
        }
    }
    /* Beyond Redis: a node just flagged PFAIL is reported to every master
     * at once (a PING's gossip carries every PFAIL node), instead of with
     * the next ping each master would get within node-timeout / 2, so the
     * majority for FAIL, and the failover after it, comes sooner. Only
     * timing changes: FAIL still needs a majority of masters' reports. */
    if (new_pfail) {
        for (int i = 0; i < cluster->nnodes; i++) {
            cluster_node *n = cluster->nodes[i];
            if (n->flags & (CLUSTER_NODE_MYSELF | CLUSTER_NODE_HANDSHAKE | CLUSTER_NODE_PFAIL | CLUSTER_NODE_FAIL))
                continue;
            if ((n->flags & CLUSTER_NODE_MASTER) && n->numslots > 0 && n->link && n->ping_sent == 0)
                bus_send_ping(n->link, CLUSTER_MSG_PING);
        }
    }

    /* A replica whose replication is off follows its master: cluster_apply_todo
     * does it (cluster_state.c). */
    failover_cron();
    if (update_state) cluster_todo(CLUSTER_TODO_UPDATE_STATE);
}

static void on_cron(uv_timer_t *t)
{
    (void)t;
    cluster_lock();
    cron();
    cluster_unlock();
}

/* ---- beforeSleep ---- */

static void on_before_sleep(uv_prepare_t *p)
{
    (void)p;
    cluster_lock();
    failover_before_sleep();
    if (cluster_take_todo(CLUSTER_TODO_PONG_ALL)) bus_broadcast_pong(BUS_BROADCAST_ALL);
    cluster_apply_todo();
    /* Slots a CLUSTER command deleted (its finish published the map). */
    gossip_collect_shard_slots_lost();
    bus_links_reap();
    bus_links_flush();
    cluster_unlock();
    gossip_deliver_publishes();
}

/* ---- wake-ups: MEET, FORGET, PUBLISH, stop ---- */

static void close_all(void)
{
    cluster_lock();
    bus_links_close_all();
    cluster_unlock();
    for (int i = 0; i < nlisteners; i++) uv_close((uv_handle_t *)&listeners[i], NULL);
    uv_close((uv_handle_t *)&cron_timer, NULL);
    uv_close((uv_handle_t *)&before_sleep, NULL);
    uv_close((uv_handle_t *)&wake, NULL);
}

static void on_wake(uv_async_t *a)
{
    (void)a;
    if (atomic_load_explicit(&stopping, memory_order_acquire)) {
        close_all();
        return;
    }
    pthread_mutex_lock(&pub_lock);
    queued_pub *q = pub_head;
    pub_head = NULL;
    pub_tail = &pub_head;
    pthread_mutex_unlock(&pub_lock);

    bool connect = atomic_exchange(&connect_requested, false);
    cluster_lock();
    /* Connect to nodes a CLUSTER MEET just added, without waiting for the
     * next tick (the rest of the cron is not run early). Only then: a
     * wake-up per PUBLISH must not reconnect to unreachable nodes. */
    if (connect)
        for (int i = 0; i < cluster->nnodes; i++) connect_if_unlinked(cluster->nodes[i]);
    while (q) {
        queued_pub *next = q->next;
        bus_send_publish(q->data, q->clen, q->data + q->clen, q->mlen, q->sharded);
        mem_free(q);
        q = next;
    }
    cluster_unlock();
}

/* Enter / leave a sender's section: false when the bus is not running
 * (not started yet, or stopped). bus_stop clears `running`, then waits for
 * `senders` to drop to zero: a sender that saw it running finishes its
 * uv_async_send before the handle closes. */
static bool sender_enter(void)
{
    atomic_fetch_add(&senders, 1);
    if (atomic_load(&running)) return true;
    atomic_fetch_sub(&senders, 1);
    return false;
}

static void sender_leave(void) { atomic_fetch_sub(&senders, 1); }

void bus_wake(void)
{
    if (!sender_enter()) return;
    uv_async_send(&wake);
    sender_leave();
}

void bus_wake_connect(void)
{
    atomic_store(&connect_requested, true);
    bus_wake();
}

void bus_publish(const char *channel, size_t clen, const char *msg, size_t mlen, bool sharded)
{
    if (!sender_enter()) return;
    queued_pub *q = mem_alloc(sizeof *q + clen + mlen);
    q->next = NULL;
    q->sharded = sharded;
    q->clen = clen;
    q->mlen = mlen;
    memcpy(q->data, channel, clen);
    memcpy(q->data + clen, msg, mlen);
    pthread_mutex_lock(&pub_lock);
    *pub_tail = q;
    pub_tail = &q->next;
    pthread_mutex_unlock(&pub_lock);
    uv_async_send(&wake);
    sender_leave();
}

/* ---- listening ---- */

static void on_connection(uv_stream_t *server, int status)
{
    if (status < 0) {
        log_verbose("Error accepting cluster node: %s", uv_strerror(status));
        return;
    }
    bus_link_accept(server);
}

/* Bind addr:port as the server's own listeners do (IPv6 sockets v6-only). */
static int bind_one(const char *addr, int port)
{
    const char *host = addr;
    int family = AF_UNSPEC;
    if (!strcmp(addr, "*") || !strcmp(addr, "0.0.0.0")) host = "0.0.0.0", family = AF_INET;
    else if (!strcmp(addr, "::*") || !strcmp(addr, "::")) host = "::", family = AF_INET6;
    struct addrinfo hints = {.ai_family = family, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICHOST};
    struct addrinfo *res = NULL;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    if (getaddrinfo(host, portstr, &hints, &res) != 0) {
        hints.ai_flags = AI_PASSIVE;
        if (getaddrinfo(host, portstr, &hints, &res) != 0) return UV_EINVAL;
    }
    uv_tcp_t *t = &listeners[nlisteners];
    uv_tcp_init_ex(&bus.loop, t, (unsigned)res->ai_family);
    int rc = uv_tcp_bind(t, res->ai_addr, res->ai_family == AF_INET6 ? UV_TCP_IPV6ONLY : 0);
    if (rc == 0) rc = uv_listen((uv_stream_t *)t, (int)cfg_get(tcp_backlog), on_connection);
    freeaddrinfo(res);
    if (rc < 0) {
        uv_close((uv_handle_t *)t, NULL);
        return rc;
    }
    nlisteners++;
    return 0;
}

static int listen_all(int port)
{
    for (int b = 0; b < cfg_bind_count() && nlisteners < BUS_LISTEN_MAX; b++) {
        const char *addr = cfg_bind_addr(b);
        bool optional = addr[0] == '-';
        if (optional) addr++;
        int rc = bind_one(addr, port);
        if (rc == 0) continue;
        if (optional && (rc == UV_EADDRNOTAVAIL || rc == UV_EAFNOSUPPORT || rc == UV_EPROTONOSUPPORT)) continue;
        log_warning("Warning: Could not create server TCP listening socket %s:%d: %s", addr, port, uv_strerror(rc));
        return -1;
    }
    if (nlisteners == 0) return -1;
    return 0;
}

/* ---- lifecycle ---- */

static void *bus_main(void *arg)
{
    (void)arg;
    uv_run(&bus.loop, UV_RUN_DEFAULT);
    return NULL;
}

int bus_start(void)
{
    memset(&bus, 0, sizeof bus);
    bus.rng = (uint64_t)ustime() ^ ((uint64_t)getpid() << 32);
    uv_loop_init(&bus.loop);
    int port = cluster_bus_port();
    if (listen_all(port) < 0) {
        log_warning("Failed listening on port %d (cluster), aborting.", port);
        for (int i = 0; i < nlisteners; i++) uv_close((uv_handle_t *)&listeners[i], NULL);
        nlisteners = 0;
        uv_run(&bus.loop, UV_RUN_DEFAULT);
        uv_loop_close(&bus.loop);
        return -1;
    }
    uv_async_init(&bus.loop, &wake, on_wake);
    uv_timer_init(&bus.loop, &cron_timer);
    uv_timer_start(&cron_timer, on_cron, BUS_CRON_MS, BUS_CRON_MS);
    uv_prepare_init(&bus.loop, &before_sleep);
    uv_prepare_start(&before_sleep, on_before_sleep);
    cluster_lock();
    refresh_config();
    cluster_unlock();
    cluster_set_bus_hooks(&(cluster_bus_hooks){.node_freed = bus_link_detach_node, .links_reply = bus_links_reply});
    atomic_store_explicit(&stopping, false, memory_order_relaxed);
    atomic_store_explicit(&running, true, memory_order_release);
    if (pthread_create(&thread, NULL, bus_main, NULL) != 0) {
        log_warning("Can't start the cluster bus thread: %s", strerror(errno));
        atomic_store_explicit(&running, false, memory_order_release);
        return -1;
    }
    return 0;
}

void bus_stop(void)
{
    if (!atomic_load_explicit(&running, memory_order_acquire)) return;
    atomic_store(&running, false); /* no more bus_wake / bus_publish sends */
    while (atomic_load(&senders) > 0) sched_yield();
    atomic_store_explicit(&stopping, true, memory_order_release);
    uv_async_send(&wake);
    pthread_join(thread, NULL);
    cluster_set_bus_hooks(NULL);
    uv_loop_close(&bus.loop);
    nlisteners = 0;
    pthread_mutex_lock(&pub_lock);
    while (pub_head) {
        queued_pub *next = pub_head->next;
        mem_free(pub_head);
        pub_head = next;
    }
    pub_tail = &pub_head;
    pthread_mutex_unlock(&pub_lock);
}
