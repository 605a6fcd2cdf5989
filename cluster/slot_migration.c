/*
 * slot_migration.c - atomic slot migration, after Valkey 9's
 * CLUSTER MIGRATESLOTS: one command moves slot ranges to another master
 * with a point-in-time copy and the writes that follow it, a pause of
 * those slots' writes only for the hand-over, and the ownership moved by
 * one epoch bump of the target. Clients never see ASK or TRYAGAIN: until
 * the hand-over the source serves the slots as before; after it, MOVED.
 *
 *   CLUSTER MIGRATESLOTS SLOTSRANGE start end [start end ...] NODE id
 *                        [SLOTSRANGE ... NODE id ...]      (the source)
 *   CLUSTER GETSLOTMIGRATIONS                               (either side)
 *   CLUSTER CANCELSLOTMIGRATIONS                            (the source)
 *   CLUSTER SYNCSLOTS ESTABLISH source-id name start end [start end ...]
 *   CLUSTER SYNCSLOTS FINISH name           (sent by the source's job)
 *
 * The source (an export job, one thread of its own, started by
 * MIGRATESLOTS after every block was checked) connects to the target's
 * client port as an ordinary client (AUTH with masteruser/masterauth when
 * set) and sends SYNCSLOTS ESTABLISH: the target records an import job
 * and lets that connection write those slots, which it does not own, as
 * if it did (client.h: route_allow); its writes reach its replicas by
 * normal replication. The job then:
 *
 * 1. Opens a cursor at the end of the replication stream (creating the
 *    backlog if there is none): from here the stream is kept for it.
 * 2. Copies the slots a batch at a time, on a worker (worker_post): for
 *    each slot, under its lock, the stream's end offset O(slot) and a
 *    RESTORE ... REPLACE [ABSTTL] of every live key (DUMP payloads). A
 *    write is fed to the stream under its slots' locks (dispatch), so
 *    every write to the slot is either in the copy (at or before O) or in
 *    the stream after O. Between batches it sends the copy and reads the
 *    stream: a command on a copied slot whose first byte comes after that
 *    slot's O is sent too, verbatim (a MULTI/EXEC as a whole); SELECT,
 *    PING and REPLCONF are skipped; a flush of the whole dataset fails the
 *    job.
 * 3. When every slot is copied and the stream has been read up to its
 *    end, pauses the writes to those slots only (writepause.h: a write to
 *    them waits, as in a coordinated failover), waits until no write that
 *    passed the check is still running (writepause_drain), reads the
 *    stream to its final end and sends SYNCSLOTS FINISH.
 * 4. The target takes the slots (a new epoch without consensus, as when
 *    SETSLOT NODE closes an import; nodes.conf fsynced before the reply; a
 *    PONG to every node) and replies +OK. The source then gives the slots
 *    to the target in its own table, deletes its keys there (on the
 *    workers, DELs to its replicas) and ends the pause: the waiting writes
 *    run and get MOVED.
 *
 * Any error (the target refuses a command, I/O fails or times out after
 * SM_IO_TIMEOUT_MS, CANCELSLOTMIGRATIONS, the source stops being the
 * slots' master, the stream history replaced) fails the job: the pause
 * ends, the connection closes, and the target, seeing its import link
 * close before FINISH, deletes what it imported. When the link fails
 * after FINISH was sent, the outcome is unknown: the slots stay paused
 * until this node's table shows the target as their owner (the target's
 * claim arrived by gossip: success) or SM_FINISH_WAIT_MS passed (failed).
 *
 * Jobs are kept, newest last, for GETSLOTMIGRATIONS: every running one,
 * and the last SM_LOG_MAX finished ones. Not persisted.
 *
 * Threads and locks: `jobs_lock` (a leaf) guards the job list, each job's
 * message and the busy bitmap; a job's state and counters are atomics. An
 * export job's connection, cursor and offsets belong to its thread; its
 * snapshots run on a worker while the thread waits. Import jobs are
 * touched on the worker of their link. The cluster lock is taken with no
 * slot lock held or after them (lock order: slot locks, cluster_lock,
 * jobs_lock).
 */
#include "slot_migration.h"

#include "bus.h"
#include "client.h"
#include "cluster_state.h"
#include "command_keys.h"
#include "commands.h"
#include "config.h"
#include "crc16.h"
#include "db.h"
#include "dump.h"
#include "entry.h"
#include "ktable.h"
#include "log.h"
#include "mem.h"
#include "monotime.h"
#include "numparse.h"
#include "repl.h"
#include "resp_parse.h"
#include "resp_write.h"
#include "serial.h"
#include "slotlock.h"
#include "worker.h"
#include "writepause.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SM_LOG_MAX 20                  /* finished jobs kept */
#define SM_BATCH_BYTES (64 * 1024)     /* copy made per worker visit... */
#define SM_BATCH_US 1000               /* ...or this long: its clients wait */
#define SM_IO_TIMEOUT_MS 10000         /* no progress for this long: failed */
#define SM_FINISH_WAIT_MS 15000        /* an unanswered FINISH: wait for gossip */
#define SM_READ_MAX (1024 * 1024)      /* stream bytes taken per read... */
#define SM_READ_SPANS 80               /* ...in as many blocks (of 16 KB) */
#define SM_LAG_MAX (256LL * 1024 * 1024) /* stream held for the job, at most
                                           (client-output-buffer-limit
                                           replica's default hard limit) */
#define BITMAP_WORDS (CLUSTER_SLOTS / 64)

enum sm_state {
    SM_CONNECTING,
    SM_SNAPSHOTTING,
    SM_STREAMING,
    SM_PAUSING,
    SM_FINISHING,
    SM_SUCCESS,
    SM_FAILED,
    SM_CANCELLED,
};

static const char *const state_names[] = {"connecting", "snapshotting", "streaming", "pausing",
                                          "finishing",  "success",      "failed",    "cancelled"};

typedef struct sm_job {
    struct sm_job *next;
    char name[CLUSTER_NAMELEN + 1];
    bool export;
    uint64_t slots[BITMAP_WORDS];
    char *ranges; /* "0-99 200-299" */
    char source[CLUSTER_NAMELEN + 1], target[CLUSTER_NAMELEN + 1];
    long long create_ms;
    _Atomic long long update_ms;
    _Atomic int state;
    _Atomic long long keys;       /* keys in the copy */
    _Atomic bool cancel;
    _Atomic bool running;         /* its thread (export) or link (import) is alive */
    bool refused;                 /* export: the target answered an error */
    char message[256];            /* jobs_lock */

    /* Export: the thread's. */
    char host[CLUSTER_IPLEN];
    int port;
    int fd;
    char *rbuf;                   /* replies not parsed yet (grows for a long one) */
    size_t rlen, rcap;
    long long sent, acked;        /* commands sent, replies read */
    long long *slot_off;          /* per slot: stream offset of its copy */
    pthread_mutex_t snap_lock;
    pthread_cond_t snap_cond;
    bool snap_done;
} sm_job;

static pthread_mutex_t jobs_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic bool stopping;               /* the server shuts down */
static sm_job *jobs;                        /* oldest first */
static uint64_t busy_slots[BITMAP_WORDS];   /* slots of running jobs */

static bool bit(const uint64_t *b, unsigned s) { return b[s / 64] >> (s % 64) & 1; }
static void set_bit(uint64_t *b, unsigned s) { b[s / 64] |= 1ULL << (s % 64); }

static void set_state(sm_job *j, int st) {
    atomic_store(&j->state, st);
    atomic_store(&j->update_ms, mstime());
}

static void job_free(sm_job *j) {
    mem_free(j->ranges);
    mem_free(j->rbuf);
    mem_free(j->slot_off);
    if (j->export) {
        pthread_mutex_destroy(&j->snap_lock);
        pthread_cond_destroy(&j->snap_cond);
    }
    mem_free(j);
}

/* jobs_lock held: drop the oldest finished jobs beyond SM_LOG_MAX. */
static void trim_log(void) {
    int finished = 0;
    for (sm_job *j = jobs; j; j = j->next)
        if (!atomic_load(&j->running)) finished++;
    for (sm_job **p = &jobs; *p && finished > SM_LOG_MAX;) {
        sm_job *j = *p;
        if (atomic_load(&j->running)) {
            p = &j->next;
            continue;
        }
        *p = j->next;
        job_free(j);
        finished--;
    }
}

/* jobs_lock held. */
static void add_job(sm_job *j) {
    sm_job **p = &jobs;
    while (*p) p = &(*p)->next;
    *p = j;
    trim_log();
}

/* The end of a job: its slots are free for another one. */
static void job_end(sm_job *j, int st, const char *msg) {
    pthread_mutex_lock(&jobs_lock);
    if (msg) snprintf(j->message, sizeof j->message, "%s", msg);
    for (int i = 0; i < BITMAP_WORDS; i++) busy_slots[i] &= ~j->slots[i];
    pthread_mutex_unlock(&jobs_lock);
    set_state(j, st);
    atomic_store(&j->running, false);
    pthread_mutex_lock(&jobs_lock);
    trim_log();
    pthread_mutex_unlock(&jobs_lock);
}

static sm_job *job_new(bool export) {
    sm_job *j = mem_calloc(1, sizeof *j);
    j->export = export;
    j->create_ms = mstime();
    atomic_store(&j->update_ms, j->create_ms);
    atomic_store(&j->running, true);
    j->fd = -1;
    if (export) {
        pthread_mutex_init(&j->snap_lock, NULL);
        pthread_cond_init(&j->snap_cond, NULL);
    }
    return j;
}

/* "a-b c-d" of a slot bitmap. */
static char *ranges_text(const uint64_t *slots) {
    sbuf b = {0};
    for (int s = 0; s < CLUSTER_SLOTS;) {
        if (!bit(slots, (unsigned)s)) {
            s++;
            continue;
        }
        int e = s;
        while (e + 1 < CLUSTER_SLOTS && bit(slots, (unsigned)e + 1)) e++;
        sbuf_addf(&b, "%s%d-%d", b.len ? " " : "", s, e);
        s = e + 1;
    }
    return sbuf_take(&b);
}

/* ------------------------------------------------------------ export I/O */

static long long now_ms(void) { return mstime(); }

/* The length of one complete RESP2 reply at p (n bytes), 0 when it is not
 * complete yet, -1 when it is not RESP; *error_at: the offset of its first
 * error, at any depth (an EXEC's queued command refused), or -1. */
static long long reply_len(const char *p, size_t n, int depth, long long *error_at) {
    if (n < 3 || depth > 8) return depth > 8 ? -1 : 0;
    const char *nl = memchr(p, '\n', n);
    if (!nl) return n > 64 * 1024 ? -1 : 0;
    size_t line = (size_t)(nl - p) + 1;
    if (line < 3 || p[line - 2] != '\r') return -1;
    switch (p[0]) {
    case '-':
        if (*error_at < 0) *error_at = 0;
        return (long long)line;
    case '+':
    case ':':
        return (long long)line;
    case '$':
    case '*': {
        long long v;
        if (!parse_ll(p + 1, line - 3, &v)) return -1;
        if (v < 0) return (long long)line;
        if (p[0] == '$') return (size_t)v + 2 <= n - line ? (long long)(line + (size_t)v + 2) : 0;
        size_t off = line;
        for (long long i = 0; i < v; i++) {
            long long at = -1;
            long long l = reply_len(p + off, n - off, depth + 1, &at);
            if (l <= 0) return l;
            if (at >= 0 && *error_at < 0) *error_at = (long long)off + at;
            off += (size_t)l;
        }
        return (long long)off;
    }
    default:
        return -1;
    }
}

/* Parse the replies in rbuf: false (err set) on an error reply or bytes
 * that are not RESP. */
static bool take_replies(sm_job *j, char *err, size_t errlen) {
    size_t off = 0;
    while (off < j->rlen) {
        long long at = -1;
        long long l = reply_len(j->rbuf + off, j->rlen - off, 0, &at);
        if (l < 0) {
            snprintf(err, errlen, "the target sent a reply that is not RESP");
            return false;
        }
        if (l == 0) break;
        if (at >= 0) {
            const char *e = j->rbuf + off + at + 1, *eol = memchr(e, '\r', j->rlen - off - (size_t)at - 1);
            snprintf(err, errlen, "the target replied: %.*s", eol ? (int)(eol - e) : 0, e);
            j->refused = true;
            return false;
        }
        j->acked++;
        off += (size_t)l;
    }
    if (off > 0) memmove(j->rbuf, j->rbuf + off, j->rlen - off);
    j->rlen -= off;
    return true;
}

/* One poll round: read replies when there are some, wait for room to write
 * when want_out. Returns 1 writable, 0 nothing yet, -1 failed (err set). */
static int io_round_ms(sm_job *j, bool want_out, long long *deadline, int wait_ms, char *err, size_t errlen) {
    if (atomic_load(&j->cancel)) {
        snprintf(err, errlen, "cancelled");
        return -1;
    }
    struct pollfd p = {.fd = j->fd, .events = (short)(POLLIN | (want_out ? POLLOUT : 0))};
    int r = poll(&p, 1, wait_ms);
    if (r < 0 && errno != EINTR) {
        snprintf(err, errlen, "poll: %s", strerror(errno));
        return -1;
    }
    if (r <= 0) {
        if (now_ms() > *deadline) {
            snprintf(err, errlen, "timeout talking to the target %s:%d", j->host, j->port);
            return -1;
        }
        return 0;
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
        if (j->rcap - j->rlen < 16384) { /* a reply longer than the buffer (LPOP of a big element) */
            j->rcap = j->rcap ? j->rcap * 2 : 65536;
            j->rbuf = mem_realloc(j->rbuf, j->rcap);
        }
        ssize_t n = read(j->fd, j->rbuf + j->rlen, j->rcap - j->rlen);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            snprintf(err, errlen, "connection to the target %s:%d lost", j->host, j->port);
            return -1;
        }
        if (n > 0) {
            j->rlen += (size_t)n;
            *deadline = now_ms() + SM_IO_TIMEOUT_MS;
            if (!take_replies(j, err, errlen)) return -1;
        }
    }
    return (p.revents & POLLOUT) ? 1 : 0;
}

static int io_round(sm_job *j, bool want_out, long long *deadline, char *err, size_t errlen) {
    return io_round_ms(j, want_out, deadline, 100, err, errlen);
}

/* Send all of p, reading replies meanwhile (the target is never left
 * unable to write them). */
static bool io_send(sm_job *j, const char *p, size_t len, char *err, size_t errlen) {
    long long deadline = now_ms() + SM_IO_TIMEOUT_MS;
    while (len > 0) {
        int r = io_round(j, true, &deadline, err, errlen);
        if (r < 0) return false;
        if (r == 0) continue;
        ssize_t n = write(j->fd, p, len);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            deadline = now_ms() + SM_IO_TIMEOUT_MS;
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
            snprintf(err, errlen, "connection to the target %s:%d lost", j->host, j->port);
            return false;
        }
    }
    return true;
}

static bool io_send_buf(sm_job *j, reply_buf *b, char *err, size_t errlen) {
    for (reply_chunk *ch = b->head; ch; ch = ch->next)
        if (!io_send(j, ch->data, ch->used, err, errlen)) return false;
    return true;
}

/* Wait for the reply of every command sent. */
static bool io_wait_acked(sm_job *j, char *err, size_t errlen) {
    long long deadline = now_ms() + SM_IO_TIMEOUT_MS;
    while (j->acked < j->sent)
        if (io_round(j, false, &deadline, err, errlen) < 0) return false;
    return true;
}

/* A command of NUL-terminated words. */
static void put_cmd(sm_job *j, reply_buf *b, int argc, const char *const *argv) {
    reply_array(b, argc);
    for (int i = 0; i < argc; i++) reply_bulk_cstr(b, argv[i]);
    j->sent++;
}

static bool connect_target(sm_job *j, long long timeout_ms, char *err, size_t errlen) {
    char port[16];
    snprintf(port, sizeof port, "%d", j->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(j->host, port, &hints, &res) != 0) {
        snprintf(err, errlen, "cannot resolve the target %s:%d", j->host, j->port);
        return false;
    }
    int fd = -1;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) continue;
        struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = timeout_ms % 1000 * 1000};
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "cannot connect to the target %s:%d: %s", j->host, j->port, strerror(errno));
        return false;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    j->fd = fd;
    return true;
}

/* ------------------------------------------------------- export: the copy */

/* The job's thread waits for work it handed to a worker (a copy batch, the
 * drain of a pause): the worker calls worker_done, the thread worker_wait. */
static void worker_done(sm_job *j) {
    pthread_mutex_lock(&j->snap_lock);
    j->snap_done = true;
    pthread_cond_signal(&j->snap_cond);
    pthread_mutex_unlock(&j->snap_lock);
}

static void worker_wait(sm_job *j) {
    pthread_mutex_lock(&j->snap_lock);
    while (!j->snap_done) pthread_cond_wait(&j->snap_cond, &j->snap_lock);
    pthread_mutex_unlock(&j->snap_lock);
}

typedef struct {
    sm_job *j;
    int from, next; /* slots [from, next) were looked at */
    reply_buf out;
    long long keys, cmds;
    serial_buf payload;
} snap_req;

/* One key as RESTORE key ttl payload REPLACE [ABSTTL] (the expiry as an
 * absolute time: exact whenever it is applied). */
static void add_key(entry *e, void *arg) {
    snap_req *r = arg;
    size_t klen;
    const char *key = entry_key(e, &klen);
    long long at = entry_expire(e);
    r->payload.len = 0;
    dump_payload(e, &r->payload);
    reply_array(&r->out, at != -1 ? 6 : 5);
    reply_bulk_cstr(&r->out, "RESTORE");
    reply_bulk(&r->out, key, klen);
    reply_bulk_ll(&r->out, at != -1 ? at : 0);
    reply_bulk(&r->out, r->payload.buf, r->payload.len);
    reply_bulk_cstr(&r->out, "REPLACE");
    if (at != -1) reply_bulk_cstr(&r->out, "ABSTTL");
    r->keys++;
    r->cmds++;
}

/* On a worker: copy the job's slots from r->from on, up to about
 * SM_BATCH_BYTES or SM_BATCH_US (the worker's clients wait meanwhile),
 * each under its lock with the stream offset it is consistent with. */
static void snapshot_on_worker(worker *w, void *arg) {
    (void)w;
    snap_req *r = arg;
    sm_job *j = r->j;
    int s = r->from;
    uint64_t start = monotime_us();
    for (; s < CLUSTER_SLOTS && r->out.bytes < SM_BATCH_BYTES && monotime_us() - start < SM_BATCH_US; s++) {
        if (!bit(j->slots, (unsigned)s)) continue;
        slot_lock((unsigned)s);
        j->slot_off[s] = repl_get_ids().offset;
        db_visit_slot_locked(0, (unsigned)s, add_key, r);
        slot_unlock((unsigned)s);
    }
    r->next = s;
    worker_done(j);
}

/* Copy the next batch (from slot *from on) on a worker and send it;
 * *from moves past it. */
static bool copy_batch(sm_job *j, int *from, char *err, size_t errlen) {
    snap_req r = {.j = j, .from = *from};
    reply_buf_init(&r.out);
    serial_init(&r.payload);
    j->snap_done = false;
    worker_post(&workers[(unsigned)*from % (unsigned)nworkers], snapshot_on_worker, &r);
    worker_wait(j);
    serial_free(&r.payload);
    *from = r.next;
    j->sent += r.cmds;
    atomic_fetch_add(&j->keys, r.keys);
    bool ok = io_send_buf(j, &r.out, err, errlen);
    reply_buf_free(&r.out);
    return ok;
}

/* ----------------------------------------------------- export: the stream */

typedef struct {
    char *buf; /* stream bytes read, not parsed yet */
    size_t len, cap;
    long long pos; /* stream number of buf[0] */
    resp_parser parser;
    reply_buf tx; /* the job's commands of the running MULTI */
    bool in_tx;
    long long tx_pos, tx_cmds;
} sm_stream;

static bool word_is(const char *p, size_t len, const char *w) {
    return strlen(w) == len && strncasecmp(p, w, len) == 0;
}

/* One command of the stream (raw: its bytes, at stream number pos): sent
 * to the target (into out) when it writes a copied slot after its copy. */
static bool stream_command(sm_job *j, sm_stream *st, const char *base, const resp_arg *av, int argc,
                           const char *raw, size_t rawlen, long long pos, reply_buf *out, char *err,
                           size_t errlen) {
    const char *name = base + av[0].off;
    size_t nlen = av[0].len;
    if (word_is(name, nlen, "select") || word_is(name, nlen, "ping") || word_is(name, nlen, "replconf"))
        return true;
    if (word_is(name, nlen, "multi")) {
        reply_buf_free(&st->tx);
        reply_buf_init(&st->tx);
        st->in_tx = true;
        st->tx_pos = pos;
        st->tx_cmds = 0;
        return true;
    }
    if (word_is(name, nlen, "exec")) {
        if (st->in_tx && st->tx_cmds > 0) {
            static const char multi[] = "*1\r\n$5\r\nMULTI\r\n";
            reply_raw(out, multi, sizeof multi - 1);
            for (reply_chunk *ch = st->tx.head; ch; ch = ch->next) reply_raw(out, ch->data, ch->used);
            reply_raw(out, raw, rawlen);
            j->sent += st->tx_cmds + 2;
        }
        st->in_tx = false;
        return true;
    }
    const command *cmd = command_lookup(name, nlen);
    arg_t stack[16], *args = argc <= 16 ? stack : mem_alloc((size_t)argc * sizeof *args);
    for (int i = 0; i < argc; i++) args[i] = (arg_t){.ptr = (char *)base + av[i].off, .len = av[i].len};
    key_ref *refs = NULL;
    int nkeys = cmd ? command_keys_find(cmd, args, argc, &refs) : 0;
    unsigned slot = nkeys ? key_hash_slot(args[refs[0].pos].ptr, args[refs[0].pos].len) : 0;
    mem_free(refs);
    if (args != stack) mem_free(args);
    if (nkeys == 0) {
        if (cmd && !(cmd->flags & CMD_WRITE) && !cmd->subcommands) return true;
        snprintf(err, errlen, "a command on no key or every key (%.*s) in the stream during the migration",
                 (int)(nlen > 64 ? 64 : nlen), name);
        return false;
    }
    if (!bit(j->slots, slot) || (st->in_tx ? st->tx_pos : pos) <= j->slot_off[slot]) return true;
    if (st->in_tx) {
        reply_raw(&st->tx, raw, rawlen);
        st->tx_cmds++;
    } else {
        reply_raw(out, raw, rawlen);
        j->sent++;
    }
    return true;
}

/* Read what the stream holds now (up to `until` when > 0: the whole of
 * it up to that offset, waiting for nothing else) and send the job's
 * commands. */
static bool stream_pump(sm_job *j, repl_cursor *cur, sm_stream *st, char *err, size_t errlen) {
    if (repl_cursor_dead(cur)) {
        snprintf(err, errlen, "the replication stream was reset during the migration");
        return false;
    }
    repl_span spans[SM_READ_SPANS];
    unsigned gen;
    int n = repl_cursor_peek(cur, SM_READ_MAX, spans, SM_READ_SPANS, &gen);
    size_t got = 0;
    for (int i = 0; i < n; i++) {
        if (st->len + spans[i].len > st->cap) {
            st->cap = (st->len + spans[i].len) * 2;
            st->buf = mem_realloc(st->buf, st->cap);
        }
        memcpy(st->buf + st->len, spans[i].p, spans[i].len);
        st->len += spans[i].len;
        got += spans[i].len;
    }
    if (n > 0) repl_cursor_release(cur, got, gen);
    reply_buf out;
    reply_buf_init(&out);
    size_t off = 0;
    bool ok = true;
    while (ok && off < st->len) {
        size_t used = 0;
        resp_parse_result r = resp_parse(&st->parser, st->buf + off, st->len - off, &used);
        if (r == RESP_PARSE_INCOMPLETE) break;
        if (r == RESP_PARSE_ERROR) {
            snprintf(err, errlen, "the replication stream is not RESP");
            ok = false;
            break;
        }
        if (r == RESP_PARSE_COMMAND && st->parser.argc > 0)
            ok = stream_command(j, st, st->buf + off, st->parser.argv, st->parser.argc, st->buf + off, used,
                                st->pos + (long long)off, &out, err, errlen);
        off += used;
    }
    if (off > 0) memmove(st->buf, st->buf + off, st->len - off);
    st->len -= off;
    st->pos += (long long)off;
    if (ok) ok = io_send_buf(j, &out, err, errlen);
    reply_buf_free(&out);
    return ok;
}

/* Read the stream up to offset `end` (every byte up to it parsed). */
static bool stream_until(sm_job *j, repl_cursor *cur, sm_stream *st, long long end, char *err, size_t errlen) {
    long long deadline = now_ms() + SM_IO_TIMEOUT_MS;
    while (st->pos + (long long)st->len <= end) {
        long long before = st->pos + (long long)st->len;
        if (!stream_pump(j, cur, st, err, errlen)) return false;
        if (st->pos + (long long)st->len == before) {
            /* nothing new: replies, and the bytes still being appended */
            if (io_round_ms(j, false, &deadline, 1, err, errlen) < 0) return false;
        } else {
            deadline = now_ms() + SM_IO_TIMEOUT_MS;
        }
    }
    return true;
}

/* ----------------------------------------------------- export: the job */

/* Writes to the job's slots were paused and have drained. */
static void drained(void *arg) { worker_done(arg); }

/* Myself still owns every slot of the job as a master. */
static bool still_owner(sm_job *j) {
    cluster_lock();
    bool ok = !(cluster->myself->flags & CLUSTER_NODE_SLAVE);
    for (unsigned s = 0; ok && s < CLUSTER_SLOTS; s++)
        if (bit(j->slots, s) && cluster->slots[s] != cluster->myself) ok = false;
    cluster_unlock();
    return ok;
}

/* The target owns every slot of the job in myself's table (after its
 * FINISH took them, or its claim arrived by gossip). */
static bool target_owns(sm_job *j) {
    cluster_lock();
    cluster_node *t = cluster_lookup_node(j->target, CLUSTER_NAMELEN);
    bool ok = t != NULL;
    for (unsigned s = 0; ok && s < CLUSTER_SLOTS; s++)
        if (bit(j->slots, s) && cluster->slots[s] != t) ok = false;
    cluster_unlock();
    return ok;
}

/* The target has the slots: myself's table says so at once (its claim,
 * with its new epoch, reaches the others by its PONGs). The slots given
 * away go to gone, for their keys to be deleted. */
static void hand_over(sm_job *j, uint64_t *gone) {
    cluster_lock();
    cluster_node *t = cluster_lookup_node(j->target, CLUSTER_NAMELEN);
    if (t) {
        for (unsigned s = 0; s < CLUSTER_SLOTS; s++) {
            if (!bit(j->slots, s) || cluster->slots[s] != cluster->myself) continue;
            cluster_del_slot((int)s);
            cluster_add_slot(t, (int)s);
            set_bit(gone, s);
        }
        /* Not fsynced: a restart that lost this claims the slots with
         * the old epoch, and the target's newer one wins. */
        cluster_todo(CLUSTER_TODO_PUBLISH | CLUSTER_TODO_UPDATE_STATE | CLUSTER_TODO_SAVE_CONFIG);
        cluster_apply_todo();
    }
    cluster_unlock();
    bus_wake();
}

/* AUTH (masteruser / masterauth, as a replica authenticates to its
 * master) when set, then SYNCSLOTS ESTABLISH with the ranges. */
static void put_auth(sm_job *j, reply_buf *b) {
    char user[256] = "", pass[256] = "";
    cfg_get_string("masteruser", user, sizeof user);
    cfg_get_string("masterauth", pass, sizeof pass);
    if (pass[0] && user[0]) put_cmd(j, b, 3, (const char *const[]){"AUTH", user, pass});
    else if (pass[0]) put_cmd(j, b, 2, (const char *const[]){"AUTH", pass});
}

static void put_hello(sm_job *j, reply_buf *b) {
    put_auth(j, b);
    int nr = 0;
    for (unsigned s = 0; s < CLUSTER_SLOTS; s++)
        if (bit(j->slots, s) && (s == 0 || !bit(j->slots, s - 1))) nr++;
    reply_array(b, 5 + 2 * nr);
    reply_bulk_cstr(b, "CLUSTER");
    reply_bulk_cstr(b, "SYNCSLOTS");
    reply_bulk_cstr(b, "ESTABLISH");
    reply_bulk_cstr(b, j->source);
    reply_bulk_cstr(b, j->name);
    for (unsigned s = 0; s < CLUSTER_SLOTS; s++) {
        if (!bit(j->slots, s) || (s > 0 && bit(j->slots, s - 1))) continue;
        unsigned e = s;
        while (e + 1 < CLUSTER_SLOTS && bit(j->slots, e + 1)) e++;
        reply_bulk_ll(b, s);
        reply_bulk_ll(b, e);
    }
    j->sent++;
}

static bool send_and_wait(sm_job *j, reply_buf *b, char *err, size_t errlen) {
    bool ok = io_send_buf(j, b, err, errlen) && io_wait_acked(j, err, errlen);
    reply_buf_free(b);
    reply_buf_init(b);
    return ok;
}

/* The stream the job has not read stays bounded. */
static bool lag_ok(sm_job *j, repl_cursor *cur, char *err, size_t errlen) {
    (void)j;
    if (repl_cursor_lag(cur) <= SM_LAG_MAX) return true;
    snprintf(err, errlen, "the writes outran the migration: more than %lld MB of stream unread", SM_LAG_MAX >> 20);
    return false;
}

/* How the target's import of this job ended, asked on a new connection
 * (CLUSTER GETSLOTMIGRATIONS): 1 success, -1 failed or cancelled, 0 not
 * known (running, no answer, not listed). */
static int ask_import_state(sm_job *j) {
    sm_job probe = {.fd = -1, .port = j->port};
    snprintf(probe.host, sizeof probe.host, "%s", j->host);
    char err[256];
    if (!connect_target(&probe, 1000, err, sizeof err)) return 0;
    reply_buf req;
    reply_buf_init(&req);
    put_auth(&probe, &req);
    put_cmd(&probe, &req, 2, (const char *const[]){"CLUSTER", "GETSLOTMIGRATIONS"});
    int outcome = 0;
    long long deadline = now_ms() + 1000;
    bool ok = io_send_buf(&probe, &req, err, sizeof err);
    /* The last reply (the list) is kept unparsed: read until it is whole. */
    while (ok && now_ms() < deadline) {
        long long at = -1, l = probe.rlen ? reply_len(probe.rbuf, probe.rlen, 0, &at) : 0;
        if (l > 0 && probe.acked + 1 == probe.sent) { /* AUTH read: then the list */
            char *name = memmem(probe.rbuf, (size_t)l, j->name, strlen(j->name));
            char *st = name ? memmem(name, (size_t)l - (size_t)(name - probe.rbuf), "state\r\n$", 8) : NULL;
            char *v = st ? strstr(st + 8, "\r\n") : NULL;
            if (v && !strncmp(v + 2, "success", 7)) outcome = 1;
            else if (v && (!strncmp(v + 2, "failed", 6) || !strncmp(v + 2, "cancelled", 9))) outcome = -1;
            break;
        }
        struct pollfd p = {.fd = probe.fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0) continue;
        if (probe.rcap - probe.rlen < 16384) {
            probe.rcap = probe.rcap ? probe.rcap * 2 : 65536;
            probe.rbuf = mem_realloc(probe.rbuf, probe.rcap);
        }
        ssize_t n = read(probe.fd, probe.rbuf + probe.rlen, probe.rcap - probe.rlen);
        if (n <= 0) break;
        probe.rlen += (size_t)n;
        if (probe.sent == 2 && probe.acked == 0) { /* the AUTH reply first */
            long long at2 = -1, l2 = reply_len(probe.rbuf, probe.rlen, 0, &at2);
            if (l2 > 0) {
                probe.acked = 1;
                memmove(probe.rbuf, probe.rbuf + l2, probe.rlen - (size_t)l2);
                probe.rlen -= (size_t)l2;
            }
        }
    }
    reply_buf_free(&req);
    close(probe.fd);
    mem_free(probe.rbuf);
    return outcome;
}

/* The export job's thread: the steps of the header comment. */
static void *export_main(void *arg) {
    sm_job *j = arg;
    char err[256] = "";
    repl_cursor *cur = NULL;
    sm_stream st = {0};
    resp_parser_init(&st.parser, 512LL * 1024 * 1024);
    st.parser.authenticated = true;
    reply_buf_init(&st.tx);
    reply_buf req;
    reply_buf_init(&req);
    bool paused = false, finish_sent = false;
    int final = SM_FAILED;
    long long t0 = now_ms();

    if (!connect_target(j, SM_IO_TIMEOUT_MS, err, sizeof err)) goto out;
    put_hello(j, &req);
    if (!send_and_wait(j, &req, err, sizeof err)) goto out;

    /* 1. The stream from here on is kept for this job. (repl-backlog-ttl
     * frees no backlog under an active cursor, but may have freed this one
     * just before the cursor started: then again.) */
    cur = repl_cursor_new();
    for (int tries = 0;; tries++) {
        repl_backlog_create();
        int stream_db;
        st.pos = repl_cursor_start_at_end(cur, &stream_db) + 1;
        if (!repl_cursor_dead(cur)) break;
        if (tries == 3) {
            snprintf(err, sizeof err, "the replication stream could not be kept");
            goto out;
        }
        repl_cursor_free(cur);
        cur = repl_cursor_new();
    }

    /* 2. The copy, slot by slot, and the stream between batches. */
    set_state(j, SM_SNAPSHOTTING);
    for (int from = 0; from < CLUSTER_SLOTS;) {
        if (!copy_batch(j, &from, err, sizeof err)) goto out;
        /* The stream is read down to one read's worth before the next batch. */
        do {
            if (!stream_pump(j, cur, &st, err, sizeof err) || !lag_ok(j, cur, err, sizeof err)) goto out;
        } while (repl_cursor_lag(cur) > SM_READ_MAX);
    }
    /* Until the target has applied all of it and the stream is nearly
     * read: the pause then covers only the last bytes and FINISH. */
    set_state(j, SM_STREAMING);
    for (long long deadline = now_ms() + SM_IO_TIMEOUT_MS;;) {
        long long before = st.pos + (long long)st.len, acked = j->acked;
        if (!stream_pump(j, cur, &st, err, sizeof err) || !lag_ok(j, cur, err, sizeof err)) goto out;
        long long lag = repl_cursor_lag(cur);
        if (j->acked == j->sent && lag < SM_READ_MAX / 4) break;
        /* Wait for replies only when the stream has nothing to read. */
        if (io_round_ms(j, false, &deadline, lag > 0 ? 0 : 100, err, sizeof err) < 0) goto out;
        if (j->acked != acked || st.pos + (long long)st.len != before) deadline = now_ms() + SM_IO_TIMEOUT_MS;
    }

    /* 3. The hand-over: the slots' writes wait, the last ones are sent. */
    if (!still_owner(j)) {
        snprintf(err, sizeof err, "this node is no longer the master of the slots");
        goto out;
    }
    set_state(j, SM_PAUSING);
    long long pause_t0 = now_ms();
    writepause_slots_begin(j->slots);
    paused = true;
    j->snap_done = false;
    writepause_drain(drained, j);
    worker_wait(j);
    /* Every command answered before FINISH: the target runs its pipeline
     * in order, and would take the slots after refusing one of them. */
    if (!stream_until(j, cur, &st, repl_get_ids().offset, err, sizeof err) || !io_wait_acked(j, err, sizeof err))
        goto out;
    if (!still_owner(j)) {
        snprintf(err, sizeof err, "this node is no longer the master of the slots");
        goto out;
    }

    /* 4. The target takes the slots; then this node lets them go. */
    set_state(j, SM_FINISHING);
    put_cmd(j, &req, 4, (const char *const[]){"CLUSTER", "SYNCSLOTS", "FINISH", j->name});
    bool sent = io_send_buf(j, &req, err, sizeof err);
    reply_buf_free(&req);
    reply_buf_init(&req);
    if (!sent) goto out; /* (not a byte of it went when an earlier reply failed the send) */
    finish_sent = true;
    if (!io_wait_acked(j, err, sizeof err)) goto out;
    /* The map without the slots is published: the writes that waited
     * get MOVED. Then the keys go, a step at a time on the workers, after
     * the resumption the pause's end posted. */
    uint64_t gone[BITMAP_WORDS] = {0};
    hand_over(j, gone);
    writepause_slots_end(j->slots);
    paused = false;
    cluster_post_slot_deletions(gone);
    final = SM_SUCCESS;
    log_notice("Slot migration %s of %s to %.40s done: %lld keys in %lld ms, writes paused %lld ms", j->name,
               j->ranges, j->target, atomic_load(&j->keys), now_ms() - t0, now_ms() - pause_t0);

out:
    if (final != SM_SUCCESS && finish_sent && !j->refused) {
        /* FINISH sent, its answer lost: the target may own the slots. They
         * stay paused until its claim shows here or the target, asked on
         * a new connection, says how its import ended; failed after a
         * bound. */
        int outcome = 0;
        for (long long until = now_ms() + SM_FINISH_WAIT_MS; outcome == 0 && now_ms() < until && !atomic_load(&stopping);) {
            outcome = target_owns(j) ? 2 : ask_import_state(j);
            if (outcome == 0) usleep(50 * 1000);
        }
        if (outcome > 0) {
            final = SM_SUCCESS;
            snprintf(err, sizeof err, "FINISH unanswered; the target %s", outcome == 2 ? "claimed the slots" : "says its import succeeded");
            if (outcome == 1) {
                uint64_t gone[BITMAP_WORDS] = {0};
                hand_over(j, gone);
                writepause_slots_end(j->slots);
                paused = false;
                cluster_post_slot_deletions(gone);
            }
        }
    }
    if (paused) writepause_slots_end(j->slots);
    if (cur) repl_cursor_free(cur);
    if (j->fd >= 0) close(j->fd);
    j->fd = -1;
    mem_free(j->rbuf);
    j->rbuf = NULL;
    j->rlen = j->rcap = 0;
    mem_free(st.buf);
    resp_parser_free(&st.parser);
    reply_buf_free(&st.tx);
    reply_buf_free(&req);
    if (final != SM_SUCCESS) {
        if (atomic_load(&j->cancel)) final = SM_CANCELLED;
        log_warning("Slot migration %s of %s to %.40s %s: %s", j->name, j->ranges, j->target,
                    state_names[final], err);
    }
    job_end(j, final, err[0] ? err : NULL);
    return NULL;
}

/* ------------------------------------------------------------- import */

/* The import job whose slots the link writes (jobs_lock taken here). */
static sm_job *link_job(const client *c) {
    if (!c->route_allow) return NULL;
    pthread_mutex_lock(&jobs_lock);
    sm_job *j = jobs;
    while (j && j->slots != c->route_allow) j = j->next;
    pthread_mutex_unlock(&jobs_lock);
    return j;
}

/* On the link's worker, after it closed before FINISH: what it imported
 * goes (the slots this node does not own by now), then the slots are
 * free for another job. */
static void rollback_on_worker(worker *w, void *arg) {
    (void)w;
    sm_job *j = arg;
    uint64_t drop[BITMAP_WORDS] = {0};
    cluster_lock();
    for (unsigned s = 0; s < CLUSTER_SLOTS; s++)
        if (bit(j->slots, s) && cluster->slots[s] != cluster->myself) set_bit(drop, s);
    cluster_unlock();
    uint64_t keys = 0;
    for (unsigned s = 0; s < CLUSTER_SLOTS; s++)
        if (bit(drop, s)) keys += db_delete_slot(0, s);
    log_warning("Slot import %s of %s from %.40s failed: its link closed before the hand-over; %llu keys "
                "deleted",
                j->name, j->ranges, j->source, (unsigned long long)keys);
    job_end(j, SM_FAILED, "the source's link closed before the hand-over");
}

static void import_link_closed(client *c) {
    sm_job *j = link_job(c);
    c->route_allow = NULL;
    c->on_close = NULL;
    if (j) worker_post(c->worker, rollback_on_worker, j);
}

/* start end pairs of argv[from..to) into slots; false after replying. */
static bool ranges_arg(client *c, int from, int to, uint64_t *slots) {
    for (int i = from; i + 1 < to; i += 2) {
        int s = cluster_slot_or_reply(c, &c->argv[i]), e = s < 0 ? -1 : cluster_slot_or_reply(c, &c->argv[i + 1]);
        if (s < 0 || e < 0) return false;
        if (s > e) {
            add_reply_errorf(c, "ERR start slot number %d is greater than end slot number %d", s, e);
            return false;
        }
        for (int k = s; k <= e; k++) {
            if (bit(slots, (unsigned)k)) {
                add_reply_errorf(c, "ERR Slot %d specified multiple times", k);
                return false;
            }
            set_bit(slots, (unsigned)k);
        }
    }
    return true;
}

/* CLUSTER SYNCSLOTS ESTABLISH source-id name start end [start end ...] */
static void syncslots_establish(client *c) {
    if (c->argc < 7 || (c->argc - 5) % 2 != 0 || c->argv[4].len == 0 || c->argv[4].len > CLUSTER_NAMELEN) {
        add_reply_subcommand_syntax_error(c, "CLUSTER");
        return;
    }
    if (c->route_allow || c->on_close) {
        add_reply_error(c, "ERR This connection imports slots already, or is a replica");
        return;
    }
    sm_job *j = job_new(false);
    if (!ranges_arg(c, 5, c->argc, j->slots)) {
        job_free(j);
        return;
    }
    const char *refusal = NULL;
    int bad = -1;
    cluster_lock();
    cluster_node *me = cluster->myself, *src = cluster_lookup_node(c->argv[3].ptr, c->argv[3].len);
    if (me->flags & CLUSTER_NODE_SLAVE) refusal = "ERR Slots are imported by masters only";
    else if (!src || src == me) refusal = "ERR Unknown source node";
    for (unsigned s = 0; !refusal && s < CLUSTER_SLOTS; s++)
        if (bit(j->slots, s) && cluster->slots[s] == me) refusal = "ERR I'm already the owner of hash slot %d", bad = (int)s;
    if (!refusal) memcpy(j->source, src->name, CLUSTER_NAMELEN);
    memcpy(j->target, me->name, CLUSTER_NAMELEN);
    cluster_unlock();
    if (!refusal) {
        pthread_mutex_lock(&jobs_lock);
        for (unsigned s = 0; !refusal && s < CLUSTER_SLOTS; s++)
            if (bit(j->slots, s) && bit(busy_slots, s)) refusal = "ERR Slot %d is already being migrated", bad = (int)s;
        if (!refusal) {
            for (int i = 0; i < BITMAP_WORDS; i++) busy_slots[i] |= j->slots[i];
            snprintf(j->name, sizeof j->name, "%.*s", (int)c->argv[4].len, c->argv[4].ptr);
            j->ranges = ranges_text(j->slots);
            set_state(j, SM_STREAMING);
            add_job(j);
        }
        pthread_mutex_unlock(&jobs_lock);
    }
    if (refusal) {
        if (bad >= 0) add_reply_errorf(c, refusal, bad);
        else add_reply_error(c, refusal);
        job_free(j);
        return;
    }
    /* Keys of these slots here are stale (a crash mid-import, a posted
     * deletion of a slot this node gave away not run yet): they go before
     * the first key arrives. */
    uint64_t stale = 0;
    for (unsigned s = 0; s < CLUSTER_SLOTS; s++)
        if (bit(j->slots, s)) stale += cluster_delete_slot_now(s);
    if (stale) log_notice("Slot import %s: %llu stale keys of its slots deleted first", j->name, (unsigned long long)stale);
    c->route_allow = j->slots;
    c->on_close = import_link_closed;
    log_notice("Slot import %s of %s from %.40s started", j->name, j->ranges, j->source);
    add_reply_ok(c);
}

/* CLUSTER SYNCSLOTS FINISH name: the slots are myself's, with a new epoch
 * (nodes.conf fsynced first), and every node hears it at once. */
static void syncslots_finish(client *c) {
    sm_job *j = link_job(c);
    if (c->argc != 4 || !j || c->argv[3].len != strlen(j->name) || memcmp(c->argv[3].ptr, j->name, c->argv[3].len)) {
        add_reply_error(c, "ERR No such slot import on this connection");
        return;
    }
    cluster_lock();
    cluster_node *me = cluster->myself;
    if (me->flags & CLUSTER_NODE_SLAVE) {
        cluster_unlock();
        add_reply_error(c, "ERR Slots are imported by masters only");
        return;
    }
    long long keys = 0;
    for (unsigned s = 0; s < CLUSTER_SLOTS; s++) {
        if (!bit(j->slots, s)) continue;
        ktable *t = db_table(0, s, false);
        keys += t ? (long long)ktable_count(t) : 0;
        if (cluster->slots[s] == me) continue;
        cluster_del_slot((int)s);
        cluster_add_slot(me, (int)s);
        cluster->importing_slots_from[s] = NULL;
    }
    if (cluster_bump_epoch_without_consensus()) log_warning("configEpoch updated after importing slots %s", j->ranges);
    cluster_todo(CLUSTER_TODO_PUBLISH | CLUSTER_TODO_UPDATE_STATE | CLUSTER_TODO_SAVE_CONFIG |
                 CLUSTER_TODO_FSYNC_CONFIG | CLUSTER_TODO_PONG_ALL);
    cluster_apply_todo();
    cluster_unlock();
    bus_wake();
    c->route_allow = NULL;
    c->on_close = NULL;
    atomic_store(&j->keys, keys);
    log_notice("Slot import %s of %s from %.40s done: %lld keys", j->name, j->ranges, j->source, keys);
    job_end(j, SM_SUCCESS, NULL);
    add_reply_ok(c);
}

void cluster_syncslots_command(client *c) {
    if (cluster_disabled_or_reply(c)) return;
    if (arg_eq(&c->argv[2], "establish")) syncslots_establish(c);
    else if (arg_eq(&c->argv[2], "finish")) syncslots_finish(c);
    else add_reply_subcommand_syntax_error(c, "CLUSTER");
}

/* ------------------------------------------------------------- commands */

/* A random 40-hex-digit job name. */
static void random_name(char out[CLUSTER_NAMELEN + 1]) {
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < CLUSTER_NAMELEN; i++) out[i] = hex[db_random() & 15];
    out[CLUSTER_NAMELEN] = '\0';
}

/* CLUSTER MIGRATESLOTS SLOTSRANGE start end [start end ...] NODE id [...]:
 * every block checked, then one job (thread) per block. */
void cluster_migrateslots_command(client *c) {
    if (cluster_disabled_or_reply(c)) return;
    int maxjobs = c->argc / 5 + 1, njobs = 0;
    sm_job **made = mem_calloc((size_t)maxjobs, sizeof *made);
    uint64_t all[BITMAP_WORDS] = {0};
    bool ok = true;
    for (int i = 2; ok && i < c->argc;) {
        int start = i + 1, end = start;
        while (end + 1 < c->argc && !arg_eq(&c->argv[end], "node")) end += 2;
        if (!arg_eq(&c->argv[i], "slotsrange") || end == start || end + 1 >= c->argc ||
            !arg_eq(&c->argv[end], "node") || njobs == maxjobs) {
            add_reply_error(c, "ERR syntax error");
            ok = false;
            break;
        }
        sm_job *j = made[njobs++] = job_new(true);
        /* A block's pairs; a slot in two blocks is refused as one in two pairs. */
        if (!ranges_arg(c, start, end, j->slots)) {
            ok = false;
            break;
        }
        for (int w = 0; ok && w < BITMAP_WORDS; w++)
            if (all[w] & j->slots[w]) {
                add_reply_errorf(c, "ERR Slot %d specified multiple times", w * 64 + __builtin_ctzll(all[w] & j->slots[w]));
                ok = false;
            } else {
                all[w] |= j->slots[w];
            }
        snprintf(j->target, sizeof j->target, "%.*s", (int)(c->argv[end + 1].len > CLUSTER_NAMELEN ? CLUSTER_NAMELEN : c->argv[end + 1].len), c->argv[end + 1].ptr);
        if (c->argv[end + 1].len != CLUSTER_NAMELEN) j->target[0] = '\0';
        i = end + 2;
    }
    if (ok && njobs == 0) {
        add_reply_error(c, "ERR syntax error");
        ok = false;
    }
    if (ok) {
        cluster_lock();
        cluster_node *me = cluster->myself;
        if (me->flags & CLUSTER_NODE_SLAVE) {
            add_reply_error(c, "ERR Please use MIGRATESLOTS only with masters.");
            ok = false;
        }
        for (int k = 0; ok && k < njobs; k++) {
            sm_job *j = made[k];
            cluster_node *t = j->target[0] ? cluster_lookup_node(j->target, CLUSTER_NAMELEN) : NULL;
            if (!t) {
                add_reply_errorf(c, "ERR Unknown node %s", j->target);
                ok = false;
            } else if (t == me) {
                add_reply_error(c, "ERR Can't migrate slots to myself");
                ok = false;
            } else if (t->flags & CLUSTER_NODE_SLAVE) {
                add_reply_error(c, "ERR Target node is not a master");
                ok = false;
            } else if (!t->ip[0] || t->port <= 0) {
                add_reply_error(c, "ERR Target node has no known address");
                ok = false;
            }
            for (unsigned s = 0; ok && s < CLUSTER_SLOTS; s++) {
                if (!bit(j->slots, s)) continue;
                if (cluster->slots[s] != me) {
                    add_reply_errorf(c, "ERR I'm not the owner of hash slot %u", s);
                    ok = false;
                } else if (cluster->migrating_slots_to[s] || cluster->importing_slots_from[s]) {
                    add_reply_errorf(c, "ERR Slot %u is open (MIGRATING or IMPORTING)", s);
                    ok = false;
                }
            }
            if (ok) {
                memcpy(j->source, me->name, CLUSTER_NAMELEN);
                snprintf(j->host, sizeof j->host, "%s", t->ip);
                j->port = t->port;
            }
        }
        cluster_unlock();
    }
    if (ok) {
        pthread_mutex_lock(&jobs_lock);
        if (atomic_load(&stopping)) {
            add_reply_error(c, "ERR The server is shutting down");
            ok = false;
        }
        for (unsigned s = 0; ok && s < CLUSTER_SLOTS; s++)
            if (bit(all, s) && bit(busy_slots, s)) {
                add_reply_errorf(c, "ERR Slot %u is already being migrated", s);
                ok = false;
            }
        if (ok) {
            for (int w = 0; w < BITMAP_WORDS; w++) busy_slots[w] |= all[w];
            for (int k = 0; k < njobs; k++) {
                sm_job *j = made[k];
                random_name(j->name);
                j->ranges = ranges_text(j->slots);
                j->slot_off = mem_alloc(CLUSTER_SLOTS * sizeof *j->slot_off);
                for (int s = 0; s < CLUSTER_SLOTS; s++) j->slot_off[s] = LLONG_MAX;
                set_state(j, SM_CONNECTING);
                add_job(j);
            }
        }
        pthread_mutex_unlock(&jobs_lock);
    }
    if (!ok) {
        for (int k = 0; k < njobs; k++) job_free(made[k]);
        mem_free(made);
        return;
    }
    for (int k = 0; k < njobs; k++) {
        sm_job *j = made[k];
        log_notice("Slot migration %s of %s to %.40s started", j->name, j->ranges, j->target);
        pthread_t th;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&th, &at, export_main, j) != 0) job_end(j, SM_FAILED, "cannot start a thread");
        pthread_attr_destroy(&at);
    }
    mem_free(made);
    add_reply_ok(c);
}

void cluster_getslotmigrations_command(client *c) {
    if (cluster_disabled_or_reply(c)) return;
    pthread_mutex_lock(&jobs_lock);
    long long n = 0;
    for (sm_job *j = jobs; j; j = j->next) n++;
    add_reply_array(c, n);
    for (sm_job *j = jobs; j; j = j->next) {
        add_reply_map(c, 10);
        add_reply_bulk_cstr(c, "name");
        add_reply_bulk_cstr(c, j->name);
        add_reply_bulk_cstr(c, "operation");
        add_reply_bulk_cstr(c, j->export ? "EXPORT" : "IMPORT");
        add_reply_bulk_cstr(c, "slot_ranges");
        add_reply_bulk_cstr(c, j->ranges ? j->ranges : "");
        add_reply_bulk_cstr(c, "source_node");
        add_reply_bulk_cstr(c, j->source);
        add_reply_bulk_cstr(c, "target_node");
        add_reply_bulk_cstr(c, j->target);
        add_reply_bulk_cstr(c, "create_time");
        add_reply_integer(c, j->create_ms);
        add_reply_bulk_cstr(c, "last_update_time");
        add_reply_integer(c, atomic_load(&j->update_ms));
        add_reply_bulk_cstr(c, "state");
        add_reply_bulk_cstr(c, state_names[atomic_load(&j->state)]);
        add_reply_bulk_cstr(c, "message");
        add_reply_bulk_cstr(c, j->message);
        add_reply_bulk_cstr(c, "keys");
        add_reply_integer(c, atomic_load(&j->keys));
    }
    pthread_mutex_unlock(&jobs_lock);
}

void slot_migration_stop(void) {
    atomic_store(&stopping, true);
    pthread_mutex_lock(&jobs_lock);
    for (sm_job *j = jobs; j; j = j->next)
        if (j->export) atomic_store(&j->cancel, true);
    pthread_mutex_unlock(&jobs_lock);
    /* Their threads end within a poll round (a copy in flight finishes on
     * its worker first); bounded all the same. */
    for (int waited = 0; waited < 10000; waited += 10) {
        bool any = false;
        pthread_mutex_lock(&jobs_lock);
        for (sm_job *j = jobs; j; j = j->next) any |= j->export && atomic_load(&j->running);
        pthread_mutex_unlock(&jobs_lock);
        if (!any) return;
        usleep(10 * 1000);
    }
    log_warning("A slot migration job did not stop within 10 s of the shutdown");
}

void cluster_cancelslotmigrations_command(client *c) {
    if (cluster_disabled_or_reply(c)) return;
    pthread_mutex_lock(&jobs_lock);
    for (sm_job *j = jobs; j; j = j->next)
        if (j->export && atomic_load(&j->running)) atomic_store(&j->cancel, true);
    pthread_mutex_unlock(&jobs_lock);
    add_reply_ok(c);
}
