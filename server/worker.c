/*
 * worker.c - worker threads (see worker.h).
 *
 * Listening sockets are created by the main thread before any worker runs,
 * so a bind error stops startup with Redis's message. With more than one
 * worker every socket sets SO_REUSEPORT; an exclusive probe bind first makes
 * sure no other process (even another slotcache) already owns the port.
 */
#include "worker.h"
#include "writepause.h"

#include "blocking.h"
#include "client.h"
#include "cluster_api.h"
#include "cmdstats.h"
#include "config.h"
#include "db.h"
#include "evict.h"
#include "expire.h"
#include "log.h"
#include "mem.h"
#include "migrate.h"
#include "persist.h"
#include "propagate.h"
#include "stats.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

worker *workers;
int nworkers;
_Thread_local worker *current_worker;

void conn_worker_free(void);

static void on_connection(uv_stream_t *listener, int status) {
    if (status < 0) return;
    client_accept(listener->data, listener);
}

/* One socket bound to addr:port. `reuseport` for multi-worker sharing.
 * Returns fd or -errno. */
static int bind_socket(const char *addr, int port, int backlog, bool reuseport) {
    const char *host = addr;
    int family = AF_UNSPEC;
    if (strcmp(addr, "*") == 0 || strcmp(addr, "0.0.0.0") == 0) {
        host = "0.0.0.0";
        family = AF_INET;
    } else if (strcmp(addr, "::*") == 0 || strcmp(addr, "::") == 0) {
        host = "::";
        family = AF_INET6;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0) {
        hints.ai_flags = AI_PASSIVE;
        rc = getaddrinfo(host, portstr, &hints, &res);
        if (rc != 0) return -EINVAL;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        int e = errno;
        freeaddrinfo(res);
        return -e;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuseport) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (res->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, backlog) < 0) {
        int e = errno;
        close(fd);
        freeaddrinfo(res);
        return -e;
    }
    freeaddrinfo(res);
    return fd;
}

static void cron_tick(uv_timer_t *t) {
    worker *w = t->data;
    long long now = mstime();
    w->cron_runs++;
    expire_cycle(w, now);
    blocking_cron(); /* cluster mode: blocked clients whose slot moved away */
    migrate_cron();
    /* Over maxmemory with no writes to trigger eviction (e.g. after the
     * limit was lowered): each worker evicts a bounded batch per tick. */
    if (cfg_get(maxmemory) > 0 && (long long)mem_used() > cfg_get(maxmemory)) {
        /* ...unless a writer made room since the last tick: the overshoot of
         * its last write is its own to evict, with its warm pool. */
        unsigned long runs = evict_command_runs();
        if (runs == w->evict_runs_seen && !writepause_active()) evict_until_under(1000);
        w->evict_runs_seen = runs;
    }
    blocking_send_wakeups(); /* a stream expired or evicted above wakes its XREADGROUP readers */
    if (w->id == 0) {
        stats_sample_track(now);
        mem_note_peak();
        persist_cron();
        repl_cron();
    }
    long long timeout = cfg_get(timeout);
    if (timeout > 0) {
        client *c = w->clients;
        while (c) {
            client *next = c->wnext;
            long long last = atomic_load_explicit(&c->last_interaction_ms, memory_order_relaxed);
            /* Blocked, WAITing or postponed clients wait on the server,
             * not idle (Redis exempts blocked clients too). */
            bool waiting = c->bstate || c->suspended || c->postponed;
            if (!(c->flags & CF_MASTER) && !waiting && now - last > timeout * 1000) client_close(c);
            c = next;
        }
    }
    long long hz = cfg_get(hz);
    uint64_t period = (uint64_t)(1000 / (hz > 0 ? hz : 10));
    if (uv_timer_get_repeat(t) != period) uv_timer_set_repeat(t, period);
}

/* The end of every loop iteration, before the loop waits for I/O (Redis's
 * beforeSleep): the replicas learn once that the stream grew, however many
 * commands this iteration fed. */
static void before_poll(uv_prepare_t *h) {
    (void)h;
    propagate_wake();
}

static void *worker_main(void *arg) {
    worker *w = arg;
    current_worker = w;
    mem_thread_register();
    stats_thread_register();
    cmdstats_thread_register();
    uv_run(&w->loop, UV_RUN_DEFAULT);
    conn_worker_free();
    evict_thread_cleanup();
    propagate_thread_cleanup();
    migrate_thread_cleanup();
    return NULL;
}

int workers_start(int n) {
    nworkers = n;
    workers = mem_calloc((size_t)n, sizeof(worker));
    int port = (int)cfg_get(port);
    int backlog = (int)cfg_get(tcp_backlog);
    int fds[WORKER_MAX][LISTEN_MAX];
    int nfds = 0;
    for (int b = 0; b < cfg_bind_count(); b++) {
        const char *addr = cfg_bind_addr(b);
        bool optional = addr[0] == '-';
        if (optional) addr++;
        /* exclusive probe: fails if anyone else holds the port */
        int probe = bind_socket(addr, port, backlog, false);
        if (probe < 0) {
            if (optional && (probe == -EADDRNOTAVAIL || probe == -EAFNOSUPPORT || probe == -EPROTONOSUPPORT))
                continue;
            log_warning("Warning: Could not create server TCP listening socket %s:%d: bind: %s", addr, port,
                        strerror(-probe));
            for (int i = 0; i < nfds; i++)
                for (int k = 0; k < n; k++) close(fds[k][i]);
            return -1;
        }
        if (n == 1) {
            fds[0][nfds++] = probe;
            continue;
        }
        close(probe);
        for (int k = 0; k < n; k++) {
            int fd = bind_socket(addr, port, backlog, true);
            if (fd < 0) {
                log_warning("Warning: Could not create server TCP listening socket %s:%d: bind: %s", addr, port,
                            strerror(-fd));
                for (int j = 0; j < k; j++) close(fds[j][nfds]);
                for (int i = 0; i < nfds; i++)
                    for (int j = 0; j < n; j++) close(fds[j][i]);
                return -1;
            }
            fds[k][nfds] = fd;
        }
        nfds++;
        if (nfds == LISTEN_MAX) break;
    }
    if (nfds == 0) {
        log_warning("Failed listening on port %d (tcp), aborting.", port);
        return -1;
    }
    for (int k = 0; k < n; k++) {
        worker *w = &workers[k];
        w->id = k;
        uv_loop_init(&w->loop);
        inbox_init(&w->box, &w->loop, w);
        uv_timer_init(&w->loop, &w->cron);
        w->cron.data = w;
        long long hz = cfg_get(hz);
        uint64_t period = (uint64_t)(1000 / (hz > 0 ? hz : 10));
        uv_timer_start(&w->cron, cron_tick, period, period);
        uv_prepare_init(&w->loop, &w->before_poll);
        uv_prepare_start(&w->before_poll, before_poll);
        uv_timer_init(&w->loop, &w->later);
        w->later.data = w;
        for (int i = 0; i < nfds; i++) {
            uv_tcp_init(&w->loop, &w->listeners[i]);
            w->listeners[i].data = w;
            uv_tcp_open(&w->listeners[i], fds[k][i]);
            int rc = uv_listen((uv_stream_t *)&w->listeners[i], backlog, on_connection);
            if (rc != 0) log_warning("listen failed: %s", uv_strerror(rc));
        }
        w->nlisteners = nfds;
    }
    for (int k = 0; k < n; k++) pthread_create(&workers[k].thread, NULL, worker_main, &workers[k]);
    return 0;
}

void worker_post(worker *w, inbox_fn *fn, void *arg) { inbox_post(&w->box, fn, arg); }

typedef struct later_job {
    struct later_job *next;
    inbox_fn *fn;
    void *arg;
} later_job;

/* The jobs posted so far; those they post run at the next tick. */
static void run_later(worker *w) {
    later_job *list = w->later_head;
    w->later_head = w->later_tail = NULL;
    while (list) {
        later_job *next = list->next;
        list->fn(w, list->arg);
        mem_free(list);
        list = next;
    }
}

/* Every millisecond while jobs wait: the loop serves its sockets in
 * between, and the other threads and processes get the CPU for as long
 * as a step takes (a 0 ms timer started in a timer's callback would run
 * again in the same pass, an idle handle would spin). */
static void later_tick(uv_timer_t *t) {
    worker *w = t->data;
    run_later(w);
    if (w->later_head && !w->stopping) uv_timer_start(&w->later, later_tick, 1, 0);
}

void worker_post_later(worker *w, inbox_fn *fn, void *arg) {
    later_job *j = mem_alloc(sizeof *j);
    *j = (later_job){NULL, fn, arg};
    if (w->later_tail)
        w->later_tail->next = j;
    else
        w->later_head = j;
    w->later_tail = j;
    if (!w->stopping && !uv_is_active((uv_handle_t *)&w->later)) uv_timer_start(&w->later, later_tick, 1, 0);
}

client *worker_client_by_id(worker *w, uint64_t id) {
    for (client *c = w->idmap[id % WORKER_IDMAP_SIZE]; c; c = c->idnext)
        if (c->id == id) return c;
    return NULL;
}

void worker_idmap_add(worker *w, client *c) {
    client **head = &w->idmap[c->id % WORKER_IDMAP_SIZE];
    c->idnext = *head;
    *head = c;
}

void worker_idmap_remove(worker *w, client *c) {
    for (client **link = &w->idmap[c->id % WORKER_IDMAP_SIZE]; *link; link = &(*link)->idnext) {
        if (*link == c) {
            *link = c->idnext;
            c->idnext = NULL;
            return;
        }
    }
}

static void stop_on_worker(worker *w, void *arg) {
    (void)arg;
    w->stopping = true;
    if (w->id == 0) repl_worker_stop();
    while (w->clients) client_close(w->clients);
    for (int i = 0; i < w->nlisteners; i++) uv_close((uv_handle_t *)&w->listeners[i], NULL);
    uv_close((uv_handle_t *)&w->cron, NULL);
    uv_close((uv_handle_t *)&w->before_poll, NULL);
    while (w->later_head) run_later(w); /* a job that posts its next step runs to its end */
    uv_close((uv_handle_t *)&w->later, NULL);
    uv_close((uv_handle_t *)&w->box.wake, NULL);
}

void workers_stop(void) {
    for (int k = 0; k < nworkers; k++) worker_post(&workers[k], stop_on_worker, NULL);
    for (int k = 0; k < nworkers; k++) {
        pthread_join(workers[k].thread, NULL);
        inbox_close(&workers[k].box);
        uv_loop_close(&workers[k].loop);
    }
    mem_free(workers);
    workers = NULL;
    nworkers = 0;
}
