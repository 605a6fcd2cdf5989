/*
 * conn.c - client connections on a worker's loop: accept, read, parse,
 * dispatch, write (socket I/O; the reply API commands call is reply.c).
 *
 * Reading: while a client has no partial command pending, libuv reads into
 * the worker's shared 64 KB buffer and complete commands run straight from
 * it; only the unfinished tail of a read is copied into the client's own
 * query buffer, so 10,000 idle clients hold no query buffer at all. A bulk
 * larger than 32 KB gets an own buffer sized once from the parser's
 * need_bytes.
 *
 * Writing: replies accumulate in the client's reply_buf; after each batch of
 * input, client_flush() tries uv_try_write and hands what is left to one
 * uv_write at a time. Past the output limits the client is disconnected
 * (client-output-buffer-limit) or, for normal clients, reading is paused
 * until the backlog drains, so memory stays bounded.
 *
 * The master link (CF_MASTER, created by client_adopt_fd over a socket
 * cluster/repl_replica.c connected) runs its commands like any client, but
 * its replies are dropped at flush time; the only bytes it sends are the
 * ACKs written through client_write_direct. conn.c tells cluster/ what it
 * read, what it applied (command by command, for the offset) and when the
 * link closes (cluster_api.h).
 */
#include "client.h"

#include "blocking.h"
#include "clients.h"
#include "cluster_api.h"
#include "config.h"
#include "db.h"
#include "dispatch.h"
#include "entry.h"
#include "log.h"
#include "mem.h"
#include "monotime.h"
#include "multi.h"
#include "numparse.h"
#include "prefetch.h"
#include "proto_alloc.h"
#include "pubsub.h"
#include "stats.h"
#include "watch.h"
#include "worker.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define SHARED_READ_BUF (64 * 1024)
#define BIG_BULK 32768
#define PAUSE_READ_BYTES (4 * 1024 * 1024) /* output backlog that pauses reading */

static _Thread_local char *shared_rbuf;

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void on_close(uv_handle_t *h);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);

/* ---------------------------------------------------------------- lifecycle */

static void format_addr(const struct sockaddr_storage *ss, char *out, size_t len) {
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        port = ntohs(a->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
        port = ntohs(a->sin6_port);
    }
    snprintf(out, len, "%s:%d", ip, port);
}

/* Redis's islocalClient: the peer is exactly 127.0.0.1 or ::1. */
static bool is_loopback(const struct sockaddr_storage *ss) {
    if (ss->ss_family == AF_INET)
        return ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) == INADDR_LOOPBACK;
    if (ss->ss_family == AF_INET6) return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
    return false;
}

static const char DENIED_MSG[] =
    "-DENIED Redis is running in protected mode because protected mode is enabled and no password "
    "is set for the default user. In this mode connections are only accepted from the loopback "
    "interface. If you want to connect from external computers to Redis you may adopt one of the "
    "following solutions: 1) Just disable protected mode sending the command 'CONFIG SET "
    "protected-mode no' from the loopback interface by connecting to Redis from the same host the "
    "server is running, however MAKE SURE Redis is not publicly accessible from internet if you do "
    "so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable "
    "the protected mode by editing the Redis configuration file, and setting the protected mode "
    "option to 'no', and then restarting the server. 3) If you started the server manually just "
    "for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication "
    "password for the default user. NOTE: You only need to do one of the above things in order for "
    "the server to start accepting connections from the outside.\r\n";

/* What every client gets once its socket is in c->tcp: identity, times,
 * parser and reply buffer, addresses, TCP options, and its places in the
 * registry and on worker w. The peer address is left in *peer. */
static void client_setup(client *c, worker *w, struct sockaddr_storage *peer) {
    c->worker = w;
    c->resp = 2;
    c->id = clients_next_id();
    long long now = mstime();
    atomic_store_explicit(&c->ctime_ms, now, memory_order_relaxed);
    atomic_store_explicit(&c->last_interaction_ms, now, memory_order_relaxed);
    atomic_store_explicit(&c->shared_resp, 2, memory_order_relaxed);
    resp_parser_init(&c->parser, cfg_get(proto_max_bulk_len));
    reply_buf_init(&c->out);
    uv_os_fd_t fd = -1;
    uv_fileno((uv_handle_t *)&c->tcp, &fd);
    c->fd = fd;
    memset(peer, 0, sizeof *peer);
    int sl = sizeof *peer;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)peer, &sl) == 0) format_addr(peer, c->addr, sizeof c->addr);
    struct sockaddr_storage ls;
    sl = sizeof ls;
    if (uv_tcp_getsockname(&c->tcp, (struct sockaddr *)&ls, &sl) == 0) format_addr(&ls, c->laddr, sizeof c->laddr);
    uv_tcp_nodelay(&c->tcp, 1);
    long long ka = cfg_get(tcp_keepalive);
    if (ka > 0) uv_tcp_keepalive(&c->tcp, 1, (unsigned)ka);
    clients_register(c);
    c->wnext = w->clients;
    if (w->clients) w->clients->wprev = c;
    w->clients = c;
    w->nclients++;
    worker_idmap_add(w, c);
}

void client_accept(worker *w, uv_stream_t *listener) {
    client *c = mem_calloc(1, sizeof *c);
    uv_tcp_init(&w->loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, on_close);
        return;
    }
    c->authenticated = !cfg_requirepass_set();
    struct sockaddr_storage ss;
    client_setup(c, w, &ss);
    stat_inc(STAT_CONNECTIONS);

    if (clients_connected() > cfg_get(maxclients)) {
        stat_inc(STAT_REJECTED_CONNECTIONS);
        reply_raw(&c->out, "-ERR max number of clients reached\r\n", 36);
        client_close_after_reply(c);
        client_flush(c);
        return;
    }
    /* Redis 7.0: whatever `bind` says, a default user without a password
     * takes loopback clients only. */
    if (cfg_get(protected_mode) && !cfg_requirepass_set() && !is_loopback(&ss)) {
        stat_inc(STAT_REJECTED_CONNECTIONS);
        reply_raw(&c->out, DENIED_MSG, sizeof DENIED_MSG - 1);
        client_close_after_reply(c);
        client_flush(c);
        return;
    }
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

client *client_adopt_fd(worker *w, int fd, const char *pending, size_t len, int flags) {
    client *c = mem_calloc(1, sizeof *c);
    uv_tcp_init(&w->loop, &c->tcp);
    c->tcp.data = c;
    if (uv_tcp_open(&c->tcp, fd) != 0) {
        close(fd);
        c->flags |= CF_CLOSING;
        uv_close((uv_handle_t *)&c->tcp, on_close);
        return NULL;
    }
    c->flags = flags;
    if (flags & CF_MASTER) atomic_store_explicit(&c->shared_kind, CLIENT_KIND_MASTER, memory_order_relaxed);
    c->authenticated = true;
    struct sockaddr_storage ss;
    client_setup(c, w, &ss);
    if (len > 0) {
        if (c->flags & CF_MASTER) repl_master_read(c, len);
        c->qbuf = mem_alloc(len + 16 * 1024);
        c->qcap = len + 16 * 1024;
        memcpy(c->qbuf, pending, len);
        c->qlen = len;
        client_resume(c);
        if (c->flags & CF_CLOSING) return NULL;
    }
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    return c;
}

/* ---------------------------------------------------------------- input */

static void qbuf_reserve(client *c, size_t extra) {
    if (c->qpos > 0) { /* compact: drop consumed bytes */
        memmove(c->qbuf, c->qbuf + c->qpos, c->qlen - c->qpos);
        c->qlen -= c->qpos;
        c->qpos = 0;
    }
    if (c->qcap - c->qlen >= extra) return;
    size_t want = c->qlen + extra;
    if (want < c->qcap * 2 && c->parser.need_bytes == 0) want = c->qcap * 2;
    c->qbuf = mem_realloc(c->qbuf, want);
    c->qcap = want;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    client *c = h->data;
    size_t pending = c->qlen - c->qpos;
    if (pending == 0 && !c->qbuf) {
        if (!shared_rbuf) shared_rbuf = mem_alloc(SHARED_READ_BUF);
        c->using_shared_rbuf = true;
        *buf = uv_buf_init(shared_rbuf, SHARED_READ_BUF);
        return;
    }
    c->using_shared_rbuf = false;
    size_t extra = 16 * 1024;
    if (c->parser.need_bytes > pending + extra) extra = c->parser.need_bytes - pending;
    if (c->parser.need_bytes > BIG_BULK && c->parser.need_bytes > pending)
        extra = c->parser.need_bytes - pending; /* exact fit for a big bulk */
    qbuf_reserve(c, extra);
    *buf = uv_buf_init(c->qbuf + c->qlen, (unsigned)(c->qcap - c->qlen));
}

static void ensure_argv(client *c, int argc) {
    if (argc <= c->argv_cap) return;
    int cap = c->argv_cap ? c->argv_cap : 8;
    while (cap < argc) cap *= 2;
    c->argv = mem_realloc(c->argv, (size_t)cap * sizeof(arg_t));
    c->argv_cap = cap;
}

/* Parse and run every complete command in buf[0..len); returns bytes used. */
static size_t process_input(client *c, char *buf, size_t len) {
    size_t pos = 0;
    size_t prefetched = 0; /* commands in buf[pos..prefetched) were prefetched */
    while (pos < len && !c->bstate && !c->suspended && !c->postponed &&
           !(c->flags & (CF_CLOSE_AFTER_REPLY | CF_CLOSE_ASAP | CF_CLOSING))) {
        /* Output backpressure: the rest of a pipeline waits in qbuf until
         * the client has read what it asked for so far, so one client's
         * pipeline of big replies does not hold its worker (client_flush
         * resumes it once the output drained). */
        if (c->out.bytes > PAUSE_READ_BYTES && !c->out_fill && !(c->flags & CF_MASTER)) {
            c->input_held = true;
            break;
        }
        if (pos >= prefetched) prefetched = pos + prefetch_commands(c->db, buf + pos, len - pos);
        c->parser.authenticated = c->authenticated;
        c->parser.max_bulk_len = cfg_get(proto_max_bulk_len);
        size_t consumed = 0;
        resp_parse_result r = resp_parse(&c->parser, buf + pos, len - pos, &consumed);
        if (r == RESP_PARSE_INCOMPLETE) break;
        if (r == RESP_PARSE_ERROR) {
            char msg[256] = "ERR ";
            resp_error_message(&c->parser, msg + 4, sizeof msg - 4);
            add_reply_error(c, msg);
            log_verbose("Protocol error (%s) from client: id=%llu addr=%s", msg + 4,
                        (unsigned long long)c->id, c->addr);
            client_close_after_reply(c);
            break;
        }
        if (r == RESP_PARSE_COMMAND && c->parser.argc > 0) {
            ensure_argv(c, c->parser.argc);
            for (int i = 0; i < c->parser.argc; i++) {
                c->argv[i].ptr = buf + pos + c->parser.argv[i].off;
                c->argv[i].len = c->parser.argv[i].len;
            }
            c->argc = c->parser.argc;
            if (c->flags & CF_MASTER) { /* dispatch reports it applied under its slot locks */
                c->master_cmd = buf + pos;
                c->master_cmd_len = consumed;
            }
            c->from_input = true;
            dispatch_command(c);
            c->from_input = false;
            c->argc = 0;
            if (c->postponed) break; /* not consumed: it runs again when writes resume */
        }
        if ((c->flags & CF_MASTER) && r == RESP_PARSE_COMMAND) {
            /* Not reported by dispatch under slot locks (queued in MULTI,
             * refused, keyless, an empty line): report it now. */
            if (c->master_cmd || c->parser.argc == 0) {
                c->master_cmd = buf + pos;
                c->master_cmd_len = consumed;
                dispatch_master_applied(c);
            }
            repl_master_check(c);
        }
        pos += consumed;
    }
    prefetch_reset(); /* buf is reused after this */
    return pos;
}

static void check_qbuf_limit(client *c) {
    size_t pending = c->qlen - c->qpos;
    atomic_store_explicit(&c->shared_qbuf, pending, memory_order_relaxed);
    if ((long long)pending > cfg_get(client_query_buffer_limit)) {
        log_warning("Closing client that reached max query buffer length: id=%llu addr=%s (qbuf %zu bytes)",
                    (unsigned long long)c->id, c->addr, pending);
        stat_inc(STAT_CLIENT_QBUF_LIMIT_DISCONNECTIONS);
        client_close(c);
    }
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
    client *c = s->data;
    if (nread < 0) {
        client_close(c);
        return;
    }
    if (nread == 0) return;
    stat_inc(STAT_IO_READS);
    stat_add(STAT_NET_INPUT, (uint64_t)nread);
    if (c->flags & CF_MASTER) repl_master_read(c, (size_t)nread);
    atomic_store_explicit(&c->last_interaction_ms, monotime_wall_ms(monotime_us()), memory_order_relaxed);
    if (c->flags & (CF_CLOSING | CF_CLOSE_AFTER_REPLY | CF_CLOSE_ASAP)) return;
    if (c->using_shared_rbuf) {
        c->using_shared_rbuf = false;
        size_t used = process_input(c, buf->base, (size_t)nread);
        if (used < (size_t)nread && !(c->flags & (CF_CLOSING | CF_CLOSE_AFTER_REPLY | CF_CLOSE_ASAP))) {
            size_t rest = (size_t)nread - used;
            size_t cap = rest + 16 * 1024;
            if (c->parser.need_bytes > cap) cap = c->parser.need_bytes;
            c->qbuf = mem_alloc(cap);
            c->qcap = cap;
            memcpy(c->qbuf, buf->base + used, rest);
            c->qlen = rest;
            c->qpos = 0;
        }
    } else {
        c->qlen += (size_t)nread;
        c->qpos += process_input(c, c->qbuf + c->qpos, c->qlen - c->qpos);
        if (c->qpos == c->qlen) { /* all consumed: give the buffer back */
            mem_free(c->qbuf);
            c->qbuf = NULL;
            c->qlen = c->qpos = c->qcap = 0;
        }
    }
    if (!(c->flags & CF_CLOSING)) check_qbuf_limit(c);
    if (!(c->flags & CF_CLOSING)) client_flush(c);
}

void client_run_command(client *c, arg_t *argv, int argc) {
    ensure_argv(c, argc);
    memcpy(c->argv, argv, (size_t)argc * sizeof(arg_t));
    c->argc = argc;
    dispatch_command(c);
    c->argc = 0;
}

void client_resume(client *c) {
    if (c->resuming) return; /* the loop below goes on */
    c->resuming = true;
    do {
        if (c->flags & CF_CLOSING) break;
        c->input_held = false;
        if (c->qbuf && c->qlen > c->qpos) {
            c->qpos += process_input(c, c->qbuf + c->qpos, c->qlen - c->qpos);
            if (c->qpos == c->qlen) {
                mem_free(c->qbuf);
                c->qbuf = NULL;
                c->qlen = c->qpos = c->qcap = 0;
            }
        }
        client_flush(c);
        /* Held at an output backlog that the socket took at once: go on
         * (a loop, not a recursion through client_flush). */
    } while (!(c->flags & CF_CLOSING) && c->input_held && !c->writing && c->out.bytes <= PAUSE_READ_BYTES &&
             !c->bstate && !c->suspended && !c->postponed);
    c->resuming = false;
}

/* ---------------------------------------------------------------- output */

size_t client_output_bytes(const client *c) {
    size_t n = 0;
    for (reply_chunk *k = c->out.head; k; k = k->next) n += k->used - k->sent;
    return n;
}

static void on_write(uv_write_t *req, int status);

/* Drop `n` written bytes from the front of the reply buffer. */
static void consume_output(client *c, size_t n) {
    while (n > 0 && c->out.head) {
        reply_chunk *k = c->out.head;
        size_t avail = k->used - k->sent;
        if (n < avail) {
            k->sent += n;
            return;
        }
        n -= avail;
        k->sent = k->used;
        if (k == c->out.tail) { /* keep the tail chunk for further replies */
            k->used = k->sent = 0;
            c->out.bytes = 0;
            return;
        }
        proto_free(reply_buf_pop_front(&c->out));
    }
}

static int gather(client *c, uv_buf_t **bufs) {
    int n = 0;
    for (reply_chunk *k = c->out.head; k; k = k->next)
        if (k->used > k->sent) n++;
    if (n == 0) return 0;
    if (n > c->write_nbufs) {
        c->write_bufs = mem_realloc(c->write_bufs, (size_t)n * sizeof(uv_buf_t));
        c->write_nbufs = n;
    }
    int i = 0;
    for (reply_chunk *k = c->out.head; k; k = k->next)
        if (k->used > k->sent) c->write_bufs[i++] = uv_buf_init(k->data + k->sent, (unsigned)(k->used - k->sent));
    *bufs = c->write_bufs;
    return n;
}

static bool over_output_limit(client *c, size_t pending) {
    int cls = pubsub_obuf_class(c);
    long long hard = cfg_get(obuf_hard[cls]), soft = cfg_get(obuf_soft[cls]);
    if (hard > 0 && (long long)pending > hard) return true;
    if (soft > 0 && (long long)pending > soft) {
        long long now = mstime();
        if (!c->obuf_soft_since) c->obuf_soft_since = now;
        if (now - c->obuf_soft_since > cfg_get(obuf_soft_seconds[cls]) * 1000) return true;
    } else {
        c->obuf_soft_since = 0;
    }
    return false;
}

/* A CF_MASTER client's replies are never sent (Redis suppresses them). */
static void drop_master_output(client *c) {
    consume_output(c, client_output_bytes(c));
    if (c->flags & (CF_CLOSE_AFTER_REPLY | CF_CLOSE_ASAP)) client_close(c);
}

typedef struct {
    uv_write_t req;
    char data[];
} direct_write;

static void on_direct_write(uv_write_t *req, int status) {
    (void)status; /* an error shows on the read side too */
    mem_free(req->data);
}

void client_write_direct(client *c, const char *p, size_t len) {
    if (c->flags & CF_CLOSING) return;
    uv_buf_t b = uv_buf_init((char *)p, (unsigned)len);
    int w = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (w == UV_EAGAIN) w = 0;
    if (w < 0) {
        client_close(c);
        return;
    }
    stat_add(STAT_NET_OUTPUT, (uint64_t)w);
    if ((size_t)w == len) return;
    direct_write *d = mem_alloc(sizeof *d + len - (size_t)w);
    memcpy(d->data, p + w, len - (size_t)w);
    d->req.data = d;
    b = uv_buf_init(d->data, (unsigned)(len - (size_t)w));
    if (uv_write(&d->req, (uv_stream_t *)&c->tcp, &b, 1, on_direct_write) != 0) {
        mem_free(d);
        client_close(c);
    }
}

void client_flush(client *c) {
    if (c->flags & CF_CLOSING) return;
    if (c->flags & CF_MASTER) {
        drop_master_output(c);
        return;
    }
    if (c->writing) return; /* on_write will call us again */
    if (c->out_fill) c->out_fill(c); /* a replica: more of its RDB / stream */
    uv_buf_t *bufs;
    int n = gather(c, &bufs);
    /* A replica's output is refilled from the stream whenever a write
     * completes: it always goes through uv_write, whose completion calls us
     * again. (uv_try_write may take everything at once, and then nothing
     * would come back to refill it until the replica's next ACK.) */
    if (n > 0 && !c->out_fill) {
        int w = uv_try_write((uv_stream_t *)&c->tcp, bufs, (unsigned)n);
        if (w > 0) {
            stat_inc(STAT_IO_WRITES);
            stat_add(STAT_NET_OUTPUT, (uint64_t)w);
            consume_output(c, (size_t)w);
        } else if (w < 0 && w != UV_EAGAIN) {
            client_close(c);
            return;
        }
        n = gather(c, &bufs);
    }
    size_t pending = client_output_bytes(c);
    atomic_store_explicit(&c->shared_omem, pending, memory_order_relaxed);
    if (n > 0) {
        if (over_output_limit(c, pending)) {
            log_warning("Client id=%llu addr=%s scheduled to be closed ASAP for overcoming of output buffer limits.",
                        (unsigned long long)c->id, c->addr);
            stat_inc(STAT_CLIENT_OBUF_LIMIT_DISCONNECTIONS);
            client_close(c);
            return;
        }
        c->out_inflight = 0;
        for (int i = 0; i < n; i++) c->out_inflight += bufs[i].len;
        c->writing = true;
        c->write_req.data = c;
        if (uv_write(&c->write_req, (uv_stream_t *)&c->tcp, bufs, (unsigned)n, on_write) != 0) {
            c->writing = false;
            client_close(c);
            return;
        }
        /* Backpressure: stop reading from a client that does not read. */
        if (pending > PAUSE_READ_BYTES && !(c->flags & CF_PROTECTED)) {
            c->flags |= CF_PROTECTED;
            uv_read_stop((uv_stream_t *)&c->tcp);
        }
        return;
    }
    if (c->flags & CF_PROTECTED) {
        c->flags &= ~CF_PROTECTED;
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    }
    if (c->flags & (CF_CLOSE_AFTER_REPLY | CF_CLOSE_ASAP)) {
        client_close(c);
        return;
    }
    /* The output drained: the commands held back by process_input run. */
    if (c->input_held && !c->resuming && !c->bstate && !c->suspended && !c->postponed) client_resume(c);
}

static void on_write(uv_write_t *req, int status) {
    client *c = req->data;
    c->writing = false;
    if (c->flags & CF_CLOSING) return;
    if (status < 0) {
        client_close(c);
        return;
    }
    stat_inc(STAT_IO_WRITES);
    stat_add(STAT_NET_OUTPUT, c->out_inflight);
    consume_output(c, c->out_inflight);
    c->out_inflight = 0;
    client_flush(c);
}

void client_close_after_reply(client *c) { c->flags |= CF_CLOSE_AFTER_REPLY; }

void client_close(client *c) {
    if (c->flags & CF_CLOSING) return;
    c->flags |= CF_CLOSING;
    if (c->on_close) c->on_close(c); /* replication's cleanup (replica, WAIT) */
    if (c->flags & CF_MASTER) repl_master_closed(c);
    uv_read_stop((uv_stream_t *)&c->tcp);
    blocking_client_closed(c);
    multi_discard(c);
    watch_unwatch_all(c);
    pubsub_unsubscribe_all(c);
    clients_unregister(c);
    worker *w = c->worker;
    if (w) {
        if (c->wprev)
            c->wprev->wnext = c->wnext;
        else if (w->clients == c)
            w->clients = c->wnext;
        if (c->wnext) c->wnext->wprev = c->wprev;
        c->wprev = c->wnext = NULL;
        w->nclients--;
        worker_idmap_remove(w, c);
    }
    uv_close((uv_handle_t *)&c->tcp, on_close);
}

static void on_close(uv_handle_t *h) {
    client *c = h->data;
    resp_parser_free(&c->parser);
    reply_buf_free(&c->out);
    mem_free(c->qbuf);
    mem_free(c->argv);
    mem_free(c->write_bufs);
    mem_free(c->name);
    mem_free(c);
}

void conn_worker_free(void) {
    mem_free(shared_rbuf);
    shared_rbuf = NULL;
}
