/*
 * client.h - one client connection: socket, query buffer, parser, reply
 * buffer and per-connection state (db, protocol, auth, name).
 *
 * Ownership: a client belongs to the worker that accepted it for its whole
 * life; only that worker's thread reads or writes it, except the few fields
 * marked "shared" which CLIENT LIST / CLIENT KILL on other workers read
 * (atomics, or guarded by the registry lock in clients.c). A client is freed
 * only in its uv_close callback.
 */
#ifndef CLIENT_H
#define CLIENT_H

#include "resp_parse.h"
#include "resp_write.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct worker;
struct command;

/* One argument of the command being run: points into the query buffer (or
 * into argbuf for inline commands); valid only while the command runs. */
typedef struct {
    const char *ptr;
    size_t len;
} arg_t;

enum client_flag {
    CF_CLOSE_AFTER_REPLY = 1 << 0,
    CF_CLOSE_ASAP = 1 << 1,
    CF_CLOSING = 1 << 2,       /* uv_close called */
    CF_NO_EVICT = 1 << 3,
    CF_PROTECTED = 1 << 4,     /* reading paused: output backlog too large */
    CF_KILLED = 1 << 5,
    CF_MASTER = 1 << 6,        /* the link to our master (cluster/repl_replica.c):
                                  replies are discarded, commands are never
                                  refused as READONLY/LOADING/OOM/MISCONF, no
                                  idle timeout */
    /* Cluster mode (cluster/route.c). */
    CF_ASKING = 1 << 7,        /* ASKING: the next command (or transaction) may
                                  use a slot this node imports */
    CF_ASKING_SPENT = 1 << 8,  /* a command ran since ASKING: the flag ends
                                  before the next one unless inside MULTI */
    CF_READONLY = 1 << 9,      /* READONLY: reads of our master's slots are
                                  served on this replica */
};

/* What CLIENT LIST / KILL TYPE and the `flags=` field call a client
 * (pub/sub is derived from its subscriptions). */
enum client_kind { CLIENT_KIND_NORMAL, CLIENT_KIND_REPLICA, CLIENT_KIND_MASTER };

typedef struct client {
    uv_tcp_t tcp;               /* first member: the handle's data is us */
    struct worker *worker;
    uint64_t id;
    int fd;
    int flags;
    int resp;                   /* 2 or 3 */
    int db;
    bool authenticated;
    char addr[64];              /* peer "ip:port" */
    char laddr[64];             /* local "ip:port" */

    /* Input. */
    char *qbuf;                 /* query buffer (mem_alloc'd, freed when idle) */
    size_t qlen;                /* bytes held */
    size_t qpos;                /* start of the unparsed part */
    size_t qcap;
    resp_parser parser;
    arg_t *argv;
    int argc;
    int argv_cap;

    /* Output. */
    reply_buf out;
    size_t out_inflight;        /* bytes handed to uv_write, not yet confirmed */
    bool writing;               /* a uv_write is in flight */
    uv_write_t write_req;
    uv_buf_t *write_bufs;
    int write_nbufs;
    long long obuf_soft_since;  /* ms when the soft limit was first exceeded */

    /* Shared with other workers (CLIENT LIST / KILL). */
    _Atomic long long ctime_ms;
    _Atomic long long last_interaction_ms;
    _Atomic(const struct command *) last_cmd;
    _Atomic int shared_db;
    _Atomic size_t shared_qbuf;
    _Atomic size_t shared_omem;
    _Atomic int shared_resp;
    _Atomic int shared_kind;    /* enum client_kind: set by replication */
    char *name;                 /* guarded by the registry lock */

    struct client *prev, *next; /* registry list (clients.c, under its lock) */
    struct client *wprev, *wnext; /* the owning worker's list (owner only) */
    struct client *idnext;      /* the owning worker's id map chain */

    /* Pub/sub (pubsub.c; written by the owner thread, atomics so that
     * CLIENT LIST on other workers may read them). */
    _Atomic int sub_channels, sub_patterns, sub_shard;
    /* Transactions and WATCH (multi.c / watch.c). */
    struct multi_state *mstate; /* non-NULL between MULTI and EXEC/DISCARD */
    struct watched_key *watched;
    _Atomic bool watch_dirty;   /* set by writers on any worker (under the
                                   watched key's slot lock) */
    /* Blocking commands (blocking.c). */
    struct blocked_state *bstate; /* non-NULL while blocked */
    bool using_shared_rbuf;     /* the current read landed in the worker's buffer */
    bool input_held;            /* process_input stopped at an output backlog */
    bool resuming;              /* client_resume's loop runs (no re-entry) */
    long long woff;             /* replication stream offset after this
                                   client's last propagated write (WAIT) */
    const char *master_cmd;     /* CF_MASTER: the exact bytes of the command
                                   being run, until reported applied */
    size_t master_cmd_len;

    /* ---- Replication, master side (cluster/repl_master.c; owner thread
     * only). NULL / false for ordinary clients. ---- */
    struct repl_peer *repl;     /* REPLCONF options and, after SYNC/PSYNC, the replica's state */
    /* Called by client_flush before it writes: tops the output up (the
     * replica's RDB and stream), so the stream advances as the socket drains. */
    void (*out_fill)(struct client *c);
    /* Called once by client_close, before the handle is closed. */
    void (*on_close)(struct client *c);
    /* No command runs while set (WAIT); client_resume continues the input. */
    bool suspended;
    /* A write found writes paused (writepause.c) and waits for their end:
     * its bytes stay unconsumed in the input, which stops there until the
     * end of the pause resumes it. Only for a command read from the socket
     * (process_input sets from_input around dispatch). */
    bool postponed;
    bool from_input;
    /* The link of an atomic slot import (cluster/slot_migration.c): the
     * slots (16384 bits) it writes unrouted, before this node owns them;
     * NULL for every other client. Owner thread. */
    const uint64_t *route_allow;
} client;

/* The link of an atomic slot import writes the slots it imports, which
 * this node does not own yet, unrouted: every one of slots[0..n) is in its
 * route_allow (dispatch, and EXEC for its queue). */
static inline bool client_route_allowed(const client *c, const unsigned *slots, int n) {
    if (__builtin_expect(c->route_allow == NULL, 1) || n == 0) return false;
    for (int i = 0; i < n; i++)
        if (!(c->route_allow[slots[i] / 64] >> (slots[i] % 64) & 1)) return false;
    return true;
}

#include "reply.h" /* the reply API every command uses (reply.c) */

/* Close after the pending replies are written. */
void client_close_after_reply(client *c);
/* Close now (pending output dropped). Safe to call more than once. */
void client_close(client *c);

/* Connection lifecycle (conn.c). */
void client_accept(struct worker *w, uv_stream_t *listener);
/* A client over a socket this server connected itself (the link to a
 * master), created on worker w and called on w's thread only. The fd is
 * taken over (closed with the client). `pending` (may be NULL) holds bytes
 * already read from the socket: they are processed as the client's first
 * input before reading starts. `flags` are CF_* flags set from the start
 * (CF_MASTER). The client counts as authenticated. Returns NULL (fd
 * closed) when libuv refuses the fd. */
client *client_adopt_fd(struct worker *w, int fd, const char *pending, size_t len, int flags);
/* Write bytes to the socket now, outside the reply buffer (the ACKs a
 * CF_MASTER client sends while its replies are discarded). Owner thread. */
void client_write_direct(client *c, const char *p, size_t len);
void client_flush(client *c);
/* Run argv as a command of c (a blocked command's re-run); the reply stays
 * buffered until the caller flushes (client_flush or client_resume). */
void client_run_command(client *c, arg_t *argv, int argc);
/* Continue with input that arrived while c was blocked. */
void client_resume(client *c);
size_t client_output_bytes(const client *c);

#endif
