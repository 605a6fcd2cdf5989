/*
 * repl_replica.c - the replica side of replication: REPLICAOF, the link to
 * the master (Redis 7.0's handshake, PSYNC, the RDB transfer and load) and
 * the command stream applied through the normal dispatch path.
 *
 * Threads. Everything the link does runs on worker 0's loop: the
 * handshake socket (a uv_tcp_t of its own), the temp file, the load of the
 * RDB (other workers keep answering, with -LOADING), and then the master
 * client itself (CF_MASTER, created on worker 0 by client_adopt_fd, so its
 * commands run like any client's and only worker 0 touches it). REPLICAOF
 * runs on any worker: it changes the shared part (address, role, the
 * generation number) under rs_lock and posts to worker 0, which tears the
 * old link down; the cron on worker 0 also notices a new generation. INFO
 * and ROLE on any worker read the shared part: the address under rs_lock,
 * the rest from atomics. Fields of `L` belong to worker 0 (asserted).
 *
 * Nothing half-loaded: the RDB is written to a temp file in `dir` first;
 * only a complete transfer empties the keyspace and loads it, and a load
 * that fails empties it again and retries (the replica serves -LOADING
 * meanwhile, then an empty dataset, never a partial one).
 *
 * Offsets follow Redis: the offset advances by the exact bytes of each
 * command processed from the master (PING, SELECT, REPLCONF GETACK too; a
 * MULTI ... EXEC counts when EXEC ran), and those bytes are forwarded
 * unchanged with repl_feed_raw so our own replicas see the same stream.
 */
#include "repl_replica.h"

#include "repl_failover.h"

#include "blocking.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "mem.h"
#include "notify.h"
#include "persist.h"
#include "rdb_file.h"
#include "worker.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define HS_LINE_MAX (64 * 1024)    /* a handshake line longer than this is garbage */
#define READ_CHUNK (64 * 1024)
#define RETRY_MS 1000              /* between connection attempts (Redis's cron second) */
#define ACK_PERIOD_MS 1000
#define EOF_MARK_LEN 40

/* ---- shared state ---- */

/* Lock order: rs_lock is a leaf (never held around anything else). */
static pthread_mutex_t rs_lock = PTHREAD_MUTEX_INITIALIZER;
static char m_host[256];           /* rs_lock */
static int m_port;                 /* rs_lock */
static char cached_replid[REPL_ID_LEN + 1]; /* rs_lock: the history PSYNC asks for */
static bool has_cached;            /* rs_lock */

static _Atomic bool is_replica;
static _Atomic unsigned generation;      /* bumped by every change of master */
static _Atomic int link_state;           /* enum repl_link_state */
static _Atomic long long reploff = 1;    /* applied (slave_repl_offset) */
static _Atomic long long read_reploff = 1;
static _Atomic long long down_since_ms;  /* 0: never up */
static _Atomic long long transfer_size = -1, transfer_read, transfer_lastio_ms;
static _Atomic long long master_lastio_ms;
static _Atomic bool master_present;
/* Settings, refreshed by the cron (read on the request path). */
static _Atomic bool set_read_only = true, set_serve_stale = true, set_announced = true;
static _Atomic long long set_priority = 100, set_timeout_s = 60;

/* ---- worker 0's link state ---- */

typedef struct {
    uv_tcp_t tcp;
    uv_connect_t creq;
    bool closing;
} hs_conn;

typedef struct {
    uv_getaddrinfo_t req;
    unsigned gen;
} gai_req;

static struct {
    unsigned gen;              /* the generation this link serves */
    gai_req *gai;              /* resolution in flight */
    hs_conn *hs;               /* handshake / transfer socket */
    char *buf;                 /* input not yet used */
    size_t len, pos, cap;
    bool sent_ip;
    bool header_done;          /* TRANSFER: the $ line was read */
    bool eofmark;
    char mark[EOF_MARK_LEN];
    char tail[EOF_MARK_LEN];   /* last bytes received (EOF mode) */
    long long want, got;
    int tmpfd;
    char tmpname[96];
    char full_replid[REPL_ID_LEN + 1];
    long long full_offset;
    client *master;
    char *multi;               /* a MULTI's bytes until its EXEC */
    size_t multi_len, multi_cap;
    long long next_attempt_ms;
    long long last_ack_ms;
    long long hs_lastio_ms;
} L = {.tmpfd = -1};

static void assert_owner(void) { assert(current_worker == NULL || current_worker == &workers[0]); }

static const char *state_name(int st) {
    static const char *names[] = {"none", "connect", "connecting", "receive_pong", "receive_auth", "receive_port",
                                  "receive_ip", "receive_capa", "receive_psync", "sync", "connected"};
    return st >= 0 && st <= RL_CONNECTED ? names[st] : "?";
}

static void set_state(int st) { atomic_store_explicit(&link_state, st, memory_order_relaxed); }
static int get_state(void) { return atomic_load_explicit(&link_state, memory_order_relaxed); }

int repl_replica_link_state(void) { return get_state(); }
bool repl_replica_read_only(void) { return atomic_load_explicit(&set_read_only, memory_order_relaxed); }
bool repl_replica_serve_stale(void) { return atomic_load_explicit(&set_serve_stale, memory_order_relaxed); }
bool repl_is_replica(void) { return atomic_load_explicit(&is_replica, memory_order_relaxed); }

static bool cfg_bool(const char *name, bool def) {
    char v[16];
    if (cfg_get_string(name, v, sizeof v) == 0) return def;
    return !strcasecmp(v, "yes");
}

static long long cfg_ll(const char *name, long long def) {
    char v[32];
    if (cfg_get_string(name, v, sizeof v) == 0) return def;
    return strtoll(v, NULL, 10);
}

static void refresh_settings(void) {
    atomic_store_explicit(&set_read_only, cfg_bool("replica-read-only", true), memory_order_relaxed);
    atomic_store_explicit(&set_serve_stale, cfg_bool("replica-serve-stale-data", true), memory_order_relaxed);
    atomic_store_explicit(&set_announced, cfg_bool("replica-announced", true), memory_order_relaxed);
    atomic_store_explicit(&set_priority, cfg_ll("replica-priority", 100), memory_order_relaxed);
    atomic_store_explicit(&set_timeout_s, cfg_ll("repl-timeout", 60), memory_order_relaxed);
}

/* ---- tearing down ---- */

static void hs_on_close(uv_handle_t *h) { mem_free(h->data); }

static void close_tmpfile(bool remove) {
    if (L.tmpfd >= 0) close(L.tmpfd);
    L.tmpfd = -1;
    if (remove && L.tmpname[0]) unlink(L.tmpname);
    L.tmpname[0] = '\0';
}

/* Stop any handshake or transfer in progress (not the master client). */
static void cancel_handshake(void) {
    if (L.gai) {
        uv_cancel((uv_req_t *)&L.gai->req); /* its callback frees it */
        L.gai = NULL;
    }
    if (L.hs) {
        L.hs->closing = true;
        uv_read_stop((uv_stream_t *)&L.hs->tcp);
        uv_close((uv_handle_t *)&L.hs->tcp, hs_on_close);
        L.hs = NULL;
    }
    close_tmpfile(true);
    L.len = L.pos = 0;
    L.header_done = false;
    atomic_store_explicit(&transfer_size, -1, memory_order_relaxed);
    atomic_store_explicit(&transfer_read, 0, memory_order_relaxed);
}

/* The attempt failed: drop it and try again after RETRY_MS. */
static void link_fail(void) {
    cancel_handshake();
    if (repl_failover_in_progress()) repl_failover_psync_reply(false); /* FAILOVER aborts */
    if (repl_is_replica()) {
        set_state(RL_CONNECT);
        L.next_attempt_ms = mstime() + RETRY_MS;
    } else {
        set_state(RL_NONE);
    }
}

/* ---- the handshake ---- */

static void hs_send(const char *s) {
    if (!L.hs) return;
    size_t len = strlen(s);
    uv_buf_t b = uv_buf_init((char *)s, (unsigned)len);
    int w = uv_try_write((uv_stream_t *)&L.hs->tcp, &b, 1);
    if (w != (int)len) { /* a few short commands on a fresh socket: all or nothing */
        log_warning("Error writing to MASTER during the handshake: %s", w < 0 ? uv_strerror(w) : "short write");
        link_fail();
    }
}

/* Encode words as a RESP command into out (caller sized). */
static void resp_cmd(char *out, size_t outlen, int argc, const char *const *argv) {
    size_t n = (size_t)snprintf(out, outlen, "*%d\r\n", argc);
    for (int i = 0; i < argc && n < outlen; i++)
        n += (size_t)snprintf(out + n, outlen - n, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
}

/* The next complete line of input (without \r\n), NUL-terminated in place;
 * NULL when none is complete yet. */
static char *take_line(void) {
    char *start = L.buf + L.pos;
    char *nl = memchr(start, '\n', L.len - L.pos);
    if (!nl) return NULL;
    *nl = '\0';
    if (nl > start && nl[-1] == '\r') nl[-1] = '\0';
    L.pos = (size_t)(nl + 1 - L.buf);
    return start;
}

static void send_after_pong(void) {
    char cmd[1024], user[256], pass[512], ip[256], portbuf[16];
    cfg_get_string("masterauth", pass, sizeof pass);
    cfg_get_string("masteruser", user, sizeof user);
    if (pass[0]) {
        if (user[0])
            resp_cmd(cmd, sizeof cmd, 3, (const char *[]){"AUTH", user, pass});
        else
            resp_cmd(cmd, sizeof cmd, 2, (const char *[]){"AUTH", pass});
        hs_send(cmd);
        if (!L.hs) return;
    }
    long long port = cfg_ll("replica-announce-port", 0);
    if (port == 0) port = cfg_get(port);
    snprintf(portbuf, sizeof portbuf, "%lld", port);
    resp_cmd(cmd, sizeof cmd, 3, (const char *[]){"REPLCONF", "listening-port", portbuf});
    hs_send(cmd);
    if (!L.hs) return;
    cfg_get_string("replica-announce-ip", ip, sizeof ip);
    L.sent_ip = ip[0] != '\0';
    if (L.sent_ip) {
        resp_cmd(cmd, sizeof cmd, 3, (const char *[]){"REPLCONF", "ip-address", ip});
        hs_send(cmd);
        if (!L.hs) return;
    }
    resp_cmd(cmd, sizeof cmd, 5, (const char *[]){"REPLCONF", "capa", "eof", "capa", "psync2"});
    hs_send(cmd);
    if (!L.hs) return;
    set_state(pass[0] ? RL_RECEIVE_AUTH : RL_RECEIVE_PORT);
}

static void send_psync(void) {
    char replid[REPL_ID_LEN + 1] = "?", off[32] = "-1", cmd[256];
    pthread_mutex_lock(&rs_lock);
    if (has_cached) {
        memcpy(replid, cached_replid, sizeof replid);
        snprintf(off, sizeof off, "%lld", atomic_load_explicit(&reploff, memory_order_relaxed) + 1);
    }
    pthread_mutex_unlock(&rs_lock);
    if (replid[0] != '?')
        log_notice("Trying a partial resynchronization (request %s:%s).", replid, off);
    else
        log_notice("Partial resynchronization not possible (no cached master)");
    /* A master handing over (FAILOVER) asks its target to become the
     * master in the same PSYNC. */
    if (repl_failover_in_progress())
        resp_cmd(cmd, sizeof cmd, 4, (const char *[]){"PSYNC", replid, off, "FAILOVER"});
    else
        resp_cmd(cmd, sizeof cmd, 3, (const char *[]){"PSYNC", replid, off});
    hs_send(cmd);
    if (L.hs) set_state(RL_RECEIVE_PSYNC);
}

static bool valid_replid(const char *p, size_t n) {
    if (n < REPL_ID_LEN) return false;
    for (size_t i = 0; i < REPL_ID_LEN; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')))
            return false;
    return true;
}

static void adopt_master_client(const char *pending, size_t n, int db);

/* +CONTINUE [replid]: the master goes on from our offset. */
static void partial_resync(const char *rest) {
    while (*rest == ' ') rest++;
    size_t n = strlen(rest);
    pthread_mutex_lock(&rs_lock);
    bool new_id = n > 0 && valid_replid(rest, n) && strncmp(rest, cached_replid, REPL_ID_LEN) != 0;
    if (new_id) {
        memcpy(cached_replid, rest, REPL_ID_LEN);
        cached_replid[REPL_ID_LEN] = '\0';
    }
    pthread_mutex_unlock(&rs_lock);
    log_notice("Successful partial resynchronization with master.");
    if (new_id) {
        char id[REPL_ID_LEN + 1];
        memcpy(id, rest, REPL_ID_LEN);
        id[REPL_ID_LEN] = '\0';
        repl_switch_replid(id);
        repl_drop_replicas(); /* they must learn the new history */
        log_notice("Master replication ID changed to %s", id);
    }
    repl_backlog_create();
    log_notice("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
    /* The stream goes on in the database our last applied byte left the
     * master client in (Redis resurrects its cached master client, db
     * included): without this a stream that continues in db N without a
     * SELECT would be applied in db 0. */
    adopt_master_client(L.buf + L.pos, L.len - L.pos, repl_master_stream_db());
}

static bool start_transfer_file(void) {
    snprintf(L.tmpname, sizeof L.tmpname, "temp-%lld.%d.rdb", mstime(), (int)getpid());
    L.tmpfd = open(L.tmpname, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (L.tmpfd < 0) {
        log_warning("Opening the temp file needed for MASTER <-> REPLICA synchronization: %s", strerror(errno));
        L.tmpname[0] = '\0';
        return false;
    }
    return true;
}

/* The role changed since this link's attempt began (REPLICAOF, FAILOVER
 * ABORT on another worker; worker 0 has yet to apply it): its PSYNC reply
 * must not be acted on. Under the role lock. */
static bool link_stale(void) {
    return !repl_is_replica() || atomic_load_explicit(&generation, memory_order_acquire) != L.gen;
}

/* Takes the role lock for acting on a PSYNC reply; false (the lock let go
 * and the attempt dropped) when the link is stale. */
static bool lock_fresh_link(void) {
    repl_failover_role_lock();
    if (!link_stale()) return true;
    repl_failover_role_unlock();
    link_fail();
    return false;
}

/* One handshake reply line; false when the attempt was dropped. */
static bool hs_line(char *line) {
    int st = get_state();
    switch (st) {
    case RL_RECEIVE_PONG:
        if (line[0] == '-' && strncmp(line, "-NOAUTH", 7) != 0 && strncmp(line, "-NOPERM", 7) != 0 &&
            strncmp(line, "-ERR operation not permitted", 28) != 0) {
            log_warning("Error reply to PING from master: '%.200s'", line);
            link_fail();
            return false;
        }
        log_notice("Master replied to PING, replication can continue...");
        send_after_pong();
        return L.hs != NULL;
    case RL_RECEIVE_AUTH:
        if (line[0] == '-') {
            log_warning("Unable to AUTH to MASTER: %.200s", line);
            link_fail();
            return false;
        }
        set_state(RL_RECEIVE_PORT);
        return true;
    case RL_RECEIVE_PORT:
        if (line[0] == '-') log_notice("(Non critical) Master does not understand REPLCONF listening-port: %.200s", line);
        set_state(L.sent_ip ? RL_RECEIVE_IP : RL_RECEIVE_CAPA);
        return true;
    case RL_RECEIVE_IP:
        if (line[0] == '-') log_notice("(Non critical) Master does not understand REPLCONF ip-address: %.200s", line);
        set_state(RL_RECEIVE_CAPA);
        return true;
    case RL_RECEIVE_CAPA:
        if (line[0] == '-') log_notice("(Non critical) Master does not understand REPLCONF capa: %.200s", line);
        send_psync();
        return L.hs != NULL;
    case RL_RECEIVE_PSYNC:
        if (line[0] == '\0') return true; /* keep-alive newline before the reply */
        if (!strncmp(line, "+FULLRESYNC ", 12)) {
            const char *p = line + 12;
            char *end = NULL;
            if (!valid_replid(p, strlen(p)) || p[REPL_ID_LEN] != ' ') goto garbage;
            errno = 0;
            long long off = strtoll(p + REPL_ID_LEN + 1, &end, 10);
            if (errno || *end != '\0' || off < 0) goto garbage;
            if (!lock_fresh_link()) return false;
            memcpy(L.full_replid, p, REPL_ID_LEN);
            L.full_replid[REPL_ID_LEN] = '\0';
            L.full_offset = off;
            /* The cached history is no longer ours to continue: a failed
             * load empties the keyspace, and the next attempt must not
             * +CONTINUE onto it (Redis's replicationDiscardCachedMaster). */
            pthread_mutex_lock(&rs_lock);
            has_cached = false;
            pthread_mutex_unlock(&rs_lock);
            log_notice("Full resync from master: %s:%lld", L.full_replid, off);
            set_state(RL_TRANSFER);
            L.header_done = false;
            atomic_store_explicit(&transfer_read, 0, memory_order_relaxed);
            atomic_store_explicit(&transfer_size, -1, memory_order_relaxed);
            atomic_store_explicit(&transfer_lastio_ms, mstime(), memory_order_relaxed);
            repl_failover_psync_reply(true);
            repl_failover_role_unlock();
            return true;
        }
        if (!strncmp(line, "+CONTINUE", 9) && (line[9] == '\0' || line[9] == ' ')) {
            if (!lock_fresh_link()) return false;
            partial_resync(line + 9);
            repl_failover_psync_reply(true);
            repl_failover_role_unlock();
            return false; /* the handshake is over either way */
        }
        if (!strncmp(line, "-NOMASTERLINK", 13) || !strncmp(line, "-LOADING", 8)) {
            log_notice("Master is currently unable to PSYNC but should be in the future: %.200s", line);
            link_fail();
            return false;
        }
        if (line[0] == '-') {
            log_warning("Unexpected reply to PSYNC from master: %.200s", line);
            link_fail();
            return false;
        }
        goto garbage;
    default:
        break;
    }
garbage:
    log_warning("Bad protocol from MASTER during the handshake: '%.100s'", line);
    link_fail();
    return false;
}

/* The $ line of the transfer; false when the attempt was dropped. */
static bool transfer_header(char *line) {
    if (line[0] == '\0') return true; /* the master's keep-alive newlines */
    if (line[0] == '-') {
        log_warning("MASTER aborted replication with an error: %.200s", line);
        link_fail();
        return false;
    }
    if (line[0] != '$') {
        log_warning("Bad protocol from MASTER, the first byte is not '$' (we received '%.100s'), are you sure the "
                    "host and port are right?",
                    line);
        link_fail();
        return false;
    }
    if (!strncmp(line, "$EOF:", 5)) {
        if (strlen(line + 5) != EOF_MARK_LEN) {
            log_warning("Bad EOF mark from MASTER: '%.100s'", line);
            link_fail();
            return false;
        }
        L.eofmark = true;
        memcpy(L.mark, line + 5, EOF_MARK_LEN);
        L.want = -1;
        log_notice("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk");
    } else {
        char *end = NULL;
        errno = 0;
        long long n = strtoll(line + 1, &end, 10);
        if (errno || *end != '\0' || n <= 0) {
            log_warning("Bad bulk length from MASTER: '%.100s'", line);
            link_fail();
            return false;
        }
        L.eofmark = false;
        L.want = n;
        atomic_store_explicit(&transfer_size, n, memory_order_relaxed);
        log_notice("MASTER <-> REPLICA sync: receiving %lld bytes from master to disk", n);
    }
    L.got = 0;
    if (!start_transfer_file()) {
        link_fail();
        return false;
    }
    L.header_done = true;
    return true;
}

static bool write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* The history a later PSYNC asks to continue: replid and applied offset. */
static void remember_history(const char *replid, long long offset) {
    pthread_mutex_lock(&rs_lock);
    memcpy(cached_replid, replid, sizeof cached_replid);
    has_cached = true;
    pthread_mutex_unlock(&rs_lock);
    atomic_store_explicit(&reploff, offset, memory_order_relaxed);
    atomic_store_explicit(&read_reploff, offset, memory_order_relaxed);
}

static void load_transferred(const char *rest, size_t restlen);

/* RDB bytes: to the temp file. Returns false when the transfer ended (or
 * failed) and the caller must stop using the input buffer. */
static bool transfer_bytes(void) {
    size_t avail = L.len - L.pos;
    if (avail == 0) return false;
    const char *p = L.buf + L.pos;
    size_t take = avail;
    if (!L.eofmark && (long long)take > L.want - L.got) take = (size_t)(L.want - L.got);
    if (!write_all(L.tmpfd, p, take)) {
        log_warning("Write error or short write writing to the DB dump file needed for MASTER <-> REPLICA "
                    "synchronization: %s",
                    strerror(errno));
        link_fail();
        return false;
    }
    L.got += (long long)take;
    L.pos += take;
    atomic_store_explicit(&transfer_read, L.got, memory_order_relaxed);
    bool done;
    if (L.eofmark) {
        /* Keep the last EOF_MARK_LEN bytes received. */
        if (take >= EOF_MARK_LEN) {
            memcpy(L.tail, p + take - EOF_MARK_LEN, EOF_MARK_LEN);
        } else {
            memmove(L.tail, L.tail + take, EOF_MARK_LEN - take);
            memcpy(L.tail + EOF_MARK_LEN - take, p, take);
        }
        done = L.got >= EOF_MARK_LEN && memcmp(L.tail, L.mark, EOF_MARK_LEN) == 0;
        if (done && ftruncate(L.tmpfd, (off_t)(L.got - EOF_MARK_LEN)) < 0) {
            log_warning("Error truncating the RDB file received from the master for SYNC: %s", strerror(errno));
            link_fail();
            return false;
        }
    } else {
        done = L.got == L.want;
    }
    if (!done) return L.pos < L.len;
    load_transferred(L.buf + L.pos, L.len - L.pos);
    return false;
}

/* Run the input through the state machine. */
static void hs_process(void) {
    while (L.hs) {
        int st = get_state();
        if (st == RL_TRANSFER && L.header_done) {
            if (!transfer_bytes()) break;
            continue;
        }
        char *line = take_line();
        if (!line) {
            if (L.len - L.pos > HS_LINE_MAX) {
                log_warning("Bad protocol from MASTER: a line longer than %d bytes", HS_LINE_MAX);
                link_fail();
            }
            break;
        }
        bool go = st == RL_TRANSFER ? transfer_header(line) : hs_line(line);
        if (!go) break;
    }
    if (!L.hs) return;
    /* Compact: keep only the unused part. */
    if (L.pos == L.len) {
        L.pos = L.len = 0;
    } else if (L.pos > 0) {
        memmove(L.buf, L.buf + L.pos, L.len - L.pos);
        L.len -= L.pos;
        L.pos = 0;
    }
}

static void hs_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    (void)h;
    (void)suggested;
    if (L.cap - L.len < READ_CHUNK) {
        L.cap = L.len + READ_CHUNK;
        L.buf = mem_realloc(L.buf, L.cap);
    }
    *buf = uv_buf_init(L.buf + L.len, (unsigned)(L.cap - L.len));
}

static void hs_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
    (void)buf;
    hs_conn *hc = s->data;
    assert_owner();
    if (hc->closing || hc != L.hs) return;
    if (nread < 0) {
        log_warning("I/O error reading from MASTER during the %s: %s",
                    get_state() == RL_TRANSFER ? "transfer" : "handshake", uv_strerror((int)nread));
        link_fail();
        return;
    }
    if (nread == 0) return;
    L.len += (size_t)nread;
    long long now = mstime();
    L.hs_lastio_ms = now;
    atomic_store_explicit(&transfer_lastio_ms, now, memory_order_relaxed);
    hs_process();
}

/* A consistent copy of the master's address (any thread). */
static void master_addr(char host[256], int *port) {
    pthread_mutex_lock(&rs_lock);
    memcpy(host, m_host, 256);
    *port = m_port;
    pthread_mutex_unlock(&rs_lock);
}

static void hs_on_connect(uv_connect_t *req, int status) {
    hs_conn *hc = req->data;
    assert_owner();
    if (hc->closing || hc != L.hs) return;
    if (status < 0) {
        char host[256];
        int port;
        master_addr(host, &port);
        log_warning("Error condition on socket for SYNC: %s (%s:%d)", uv_strerror(status), host, port);
        link_fail();
        return;
    }
    log_notice("Non blocking connect for SYNC fired the event.");
    L.hs_lastio_ms = mstime();
    uv_tcp_nodelay(&hc->tcp, 1);
    set_state(RL_RECEIVE_PONG);
    uv_read_start((uv_stream_t *)&hc->tcp, hs_on_alloc, hs_on_read);
    hs_send("PING\r\n");
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
    gai_req *g = (gai_req *)req;
    assert_owner();
    bool current = L.gai == g && g->gen == L.gen;
    if (current) L.gai = NULL;
    if (!current || status < 0 || !res) {
        if (current) {
            log_warning("Unable to resolve the MASTER's address: %s", uv_strerror(status));
            link_fail();
        }
        if (res) uv_freeaddrinfo(res);
        mem_free(g);
        return;
    }
    mem_free(g);
    hs_conn *hc = mem_calloc(1, sizeof *hc);
    uv_tcp_init(&workers[0].loop, &hc->tcp);
    hc->tcp.data = hc;
    hc->creq.data = hc;
    L.hs = hc;
    int rc = uv_tcp_connect(&hc->creq, &hc->tcp, res->ai_addr, hs_on_connect);
    uv_freeaddrinfo(res);
    if (rc < 0) {
        log_warning("Unable to connect to MASTER: %s", uv_strerror(rc));
        link_fail();
    }
}

static void start_connect(void) {
    char host[256], port[16];
    int p;
    master_addr(host, &p);
    snprintf(port, sizeof port, "%d", p);
    log_notice("Connecting to MASTER %s:%s", host, port);
    log_notice("MASTER <-> REPLICA sync started");
    L.len = L.pos = 0;
    L.header_done = false;
    L.hs_lastio_ms = mstime();
    gai_req *g = mem_calloc(1, sizeof *g);
    g->gen = L.gen;
    L.gai = g;
    set_state(RL_CONNECTING);
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = uv_getaddrinfo(&workers[0].loop, &g->req, on_resolved, host, port, &hints);
    if (rc < 0) {
        L.gai = NULL;
        mem_free(g);
        log_warning("Unable to connect to MASTER: %s", uv_strerror(rc));
        link_fail();
    }
}

/* ---- the full sync's load ---- */

static void load_transferred(const char *rest, size_t restlen) {
    char *pending = NULL;
    if (restlen) { /* a master that streams right after the RDB */
        pending = mem_alloc(restlen);
        memcpy(pending, rest, restlen);
    }
    close(L.tmpfd);
    L.tmpfd = -1;
    log_notice("MASTER <-> REPLICA sync: Flushing old data");
    /* A small RDB: the other workers' clients wait for the load instead of
     * getting -LOADING, as Redis's do (persist.h). */
    struct stat st;
    bool hold = stat(L.tmpname, &st) == 0 && st.st_size <= PERSIST_HOLD_MAX_BYTES;
    if (hold) persist_hold_clients(true);
    persist_set_loading(true);
    persist_before_flushall(); /* a running BGSAVE is aborted */
    db_flush(-1, false);
    log_notice("MASTER <-> REPLICA sync: Loading DB in memory");
    long long start = mstime();
    rdb_load_result res;
    int rc = rdb_load_file(L.tmpname, false, &res);
    if (rc <= 0) {
        log_warning("Failed trying to load the MASTER synchronization DB from disk: %s",
                    rc == 0 ? "the file vanished" : res.err);
        db_flush(-1, false); /* never serve a partial dataset */
        persist_set_loading(false);
        if (hold) persist_hold_clients(false);
        notify_flush();
        blocking_send_wakeups();
        mem_free(pending);
        link_fail();
        return;
    }
    char final[1024];
    if (cfg_get_string("dbfilename", final, sizeof final) == 0) snprintf(final, sizeof final, "dump.rdb");
    if (rename(L.tmpname, final) < 0) {
        log_warning("Failed trying to rename the temp DB into %s in MASTER <-> REPLICA synchronization: %s", final,
                    strerror(errno));
        unlink(L.tmpname);
    }
    L.tmpname[0] = '\0';
    persist_set_loading(false);
    if (hold) persist_hold_clients(false);
    notify_flush();
    blocking_send_wakeups();
    log_notice("MASTER <-> REPLICA sync: Finished with success (%llu keys, %.3f seconds)", res.keys_loaded,
               (double)(mstime() - start) / 1000.0);

    repl_drop_replicas(); /* our replicas must resync with the new dataset */
    repl_adopt_master(L.full_replid, L.full_offset, res.repl_stream_db);
    repl_backlog_create();
    remember_history(L.full_replid, L.full_offset);
    /* The master client starts in the database the stream continues in:
     * a master that is itself a replica forwards its master's stream and
     * sends no SELECT first, it tells it with the RDB's repl-stream-db (as
     * Redis's replicationCreateMasterClient(conn, rsi.repl_stream_db)). */
    adopt_master_client(pending, restlen, res.repl_stream_db < 0 ? 0 : res.repl_stream_db);
    mem_free(pending);
}

/* ---- the master client ---- */

static void send_ack(client *c) {
    char num[32], cmd[96];
    snprintf(num, sizeof num, "%lld", atomic_load_explicit(&reploff, memory_order_relaxed));
    resp_cmd(cmd, sizeof cmd, 3, (const char *[]){"REPLCONF", "ACK", num});
    client_write_direct(c, cmd, strlen(cmd));
}

/* The handshake socket becomes the master client (pending: stream bytes
 * already read; db: the database the stream continues in). */
static void adopt_master_client(const char *pending, size_t n, int db) {
    hs_conn *hc = L.hs;
    uv_os_fd_t fd = -1;
    if (!hc || uv_fileno((uv_handle_t *)&hc->tcp, &fd) != 0) {
        link_fail();
        return;
    }
    int dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    L.hs = NULL;
    hc->closing = true;
    uv_read_stop((uv_stream_t *)&hc->tcp);
    uv_close((uv_handle_t *)&hc->tcp, hs_on_close);
    L.len = L.pos = 0;
    if (dupfd < 0) {
        log_warning("Unable to take over the master link: %s", strerror(errno));
        link_fail();
        return;
    }
    set_state(RL_CONNECTED);
    atomic_store_explicit(&master_present, true, memory_order_relaxed);
    atomic_store_explicit(&master_lastio_ms, mstime(), memory_order_relaxed);
    L.multi_len = 0;
    L.master = NULL;
    log_notice("MASTER <-> REPLICA sync: Master link established");
    /* The copy of the data to pass before the command stream: the ACK first
     * (a diskless master starts streaming on it), then the pending bytes. */
    client *c = client_adopt_fd(&workers[0], dupfd, NULL, 0, CF_MASTER);
    if (!c) {
        link_fail();
        return;
    }
    if (db > 0 && db < db_count()) {
        c->db = db;
        atomic_store_explicit(&c->shared_db, db, memory_order_relaxed);
    }
    L.master = c;
    L.last_ack_ms = mstime();
    send_ack(c);
    if (n > 0 && !(c->flags & CF_CLOSING)) {
        repl_master_read(c, n);
        /* Feed the bytes through the client's own input path. */
        c->qbuf = mem_alloc(n + 16 * 1024);
        c->qcap = n + 16 * 1024;
        memcpy(c->qbuf, pending, n);
        c->qlen = n;
        client_resume(c);
    }
}

static bool is_link(client *c) {
    assert_owner();
    if (c->flags & CF_CLOSING) return false;
    if (!L.master) L.master = c;
    return L.master == c;
}

void repl_master_read(client *c, size_t n) {
    if (!is_link(c)) return;
    atomic_fetch_add_explicit(&read_reploff, (long long)n, memory_order_relaxed);
    atomic_store_explicit(&master_lastio_ms, mstime(), memory_order_relaxed);
}

void repl_master_check(client *c) {
    if (is_link(c) && atomic_load_explicit(&generation, memory_order_relaxed) != L.gen) /* REPLICAOF changed it */
        client_close(c);
}

/* Runs under the command's slot locks when it changed the keyspace: no
 * closing here. A command applied after a REPLICAOF NO ONE on another
 * worker is still forwarded: it is in the dataset, so it must be in the
 * stream the promoted server's replicas continue from. */
void repl_master_applied(client *c, const char *p, size_t len) {
    if (!is_link(c)) return;
    if (c->mstate) { /* inside MULTI: the offset moves when EXEC ran */
        if (L.multi_cap - L.multi_len < len) {
            L.multi_cap = (L.multi_len + len) * 2;
            L.multi = mem_realloc(L.multi, L.multi_cap);
        }
        memcpy(L.multi + L.multi_len, p, len);
        L.multi_len += len;
        return;
    }
    if (L.multi_len) {
        if (L.multi_cap - L.multi_len < len) {
            L.multi_cap = L.multi_len + len;
            L.multi = mem_realloc(L.multi, L.multi_cap);
        }
        memcpy(L.multi + L.multi_len, p, len);
        L.multi_len += len;
        p = L.multi;
        len = L.multi_len;
        L.multi_len = 0;
    }
    repl_feed_from_master(p, len, c->db);
    atomic_fetch_add_explicit(&reploff, (long long)len, memory_order_relaxed);
}

void repl_master_closed(client *c) {
    assert_owner();
    if (L.master && L.master != c) return;
    L.master = NULL;
    L.multi_len = 0;
    atomic_store_explicit(&master_present, false, memory_order_relaxed);
    atomic_store_explicit(&down_since_ms, mstime(), memory_order_relaxed);
    if (repl_is_replica() && get_state() == RL_CONNECTED) {
        log_notice("Connection with master lost.");
        log_notice("* Caching the disconnected master state.");
        set_state(RL_CONNECT);
        L.next_attempt_ms = mstime(); /* the next cron tick */
    }
}

void repl_replica_getack(client *c) {
    /* Only our master asks (on its worker); anyone else is ignored. */
    if (!(c->flags & CF_MASTER) || !is_link(c)) return;
    send_ack(c);
}

/* ---- changing masters ---- */

/* On worker 0: make the link match the current generation. */
static void apply_generation(void) {
    assert_owner();
    unsigned gen = atomic_load_explicit(&generation, memory_order_acquire);
    if (gen == L.gen) return;
    L.gen = gen;
    cancel_handshake();
    if (L.master) {
        client *m = L.master;
        set_state(RL_NONE); /* not a lost link: no reconnect from the close hook */
        client_close(m);
        L.master = NULL;
    }
    L.multi_len = 0;
    if (repl_is_replica()) {
        set_state(RL_CONNECT);
        L.next_attempt_ms = 0;
        if (!persist_loading()) start_connect();
    } else {
        set_state(RL_NONE);
    }
}

static void on_generation_post(worker *w, void *arg) {
    (void)w;
    (void)arg;
    apply_generation();
}

static void post_generation(void) {
    if (!workers || nworkers == 0) return; /* startup: the cron picks it up */
    if (current_worker == &workers[0])
        apply_generation();
    else
        worker_post(&workers[0], on_generation_post, NULL);
}

/* REPLICAOF NO ONE's work: true when this server was a replica. */
static bool unset_master(void) {
    pthread_mutex_lock(&rs_lock);
    bool was = atomic_load_explicit(&is_replica, memory_order_relaxed);
    if (was) {
        m_host[0] = '\0';
        m_port = 0;
        has_cached = false;
        atomic_store_explicit(&is_replica, false, memory_order_relaxed);
        repl_update_feeding();
        atomic_fetch_add_explicit(&generation, 1, memory_order_release);
    }
    pthread_mutex_unlock(&rs_lock);
    if (was) {
        repl_shift_replid();
        repl_forget_stream_db();
        atomic_store_explicit(&down_since_ms, 0, memory_order_relaxed);
        post_generation();
    }
    return was;
}

/* REPLICAOF host port's work (host shorter than m_host): false when this
 * server already follows host:port (nothing changed). */
static bool set_master(const char *host, int port) {
    pthread_mutex_lock(&rs_lock);
    bool was_replica = atomic_load_explicit(&is_replica, memory_order_relaxed);
    if (was_replica && !strcasecmp(m_host, host) && m_port == port) {
        pthread_mutex_unlock(&rs_lock);
        return false;
    }
    snprintf(m_host, sizeof m_host, "%s", host);
    m_port = port;
    pthread_mutex_unlock(&rs_lock);
    if (!was_replica) { /* PSYNC with our own history: a master that knows it may continue */
        repl_ids ids = repl_get_ids();
        remember_history(ids.replid, ids.offset);
    }
    repl_drop_replicas(); /* they follow a history that is about to change */
    atomic_store_explicit(&is_replica, true, memory_order_relaxed);
    repl_update_feeding();
    set_state(RL_CONNECT);
    atomic_fetch_add_explicit(&generation, 1, memory_order_release);
    post_generation();
    return true;
}

bool repl_replica_promote(void) { return unset_master(); }

void repl_replica_failover_to(const char *host, int port) {
    if (set_master(host, port)) log_notice("Connecting to MASTER %s:%d (FAILOVER)", host, port);
}

void repl_replica_set_master(const char *host, int port) {
    if (!host) {
        if (unset_master()) log_notice("MASTER MODE enabled (cluster configuration)");
        return;
    }
    if (set_master(host, port)) log_notice("Connecting to MASTER %s:%d (cluster configuration)", host, port);
}

long long repl_replica_silence_ms(void)
{
    long long now = mstime();
    if (get_state() == RL_CONNECTED) return now - atomic_load_explicit(&master_lastio_ms, memory_order_relaxed);
    long long down = atomic_load_explicit(&down_since_ms, memory_order_relaxed);
    return down ? now - down : LLONG_MAX / 2;
}

long long repl_replica_applied_offset(void) { return atomic_load_explicit(&reploff, memory_order_relaxed); }

static void replicaof_locked(client *c);

void repl_replicaof_command(client *c) {
    if (cfg_get(cluster_enabled)) {
        add_reply_error(c, "ERR REPLICAOF not allowed in cluster mode.");
        return;
    }
    repl_failover_role_lock(); /* no FAILOVER begins between the check and the change */
    replicaof_locked(c);
    repl_failover_role_unlock();
}

static void replicaof_locked(client *c) {
    if (repl_failover_state() != FO_NONE) {
        add_reply_error(c, "ERR REPLICAOF not allowed while failing over.");
        return;
    }
    if (arg_eq(&c->argv[1], "no") && arg_eq(&c->argv[2], "one")) {
        if (unset_master())
            log_notice("MASTER MODE enabled (user request from 'id=%llu addr=%s')", (unsigned long long)c->id,
                       c->addr);
        add_reply_ok(c);
        return;
    }
    long long port;
    if (!arg_ll_or_reply(c, &c->argv[2], &port, "ERR Invalid master port")) return;
    if (port < 0 || port > 65535) {
        add_reply_error(c, "ERR Invalid master port");
        return;
    }
    if (c->argv[1].len >= sizeof m_host) {
        add_reply_error(c, "ERR Invalid master host");
        return;
    }
    char host[sizeof m_host];
    memcpy(host, c->argv[1].ptr, c->argv[1].len);
    host[c->argv[1].len] = '\0';
    if (!set_master(host, (int)port)) {
        log_notice("REPLICAOF would result into synchronization with the master we are already connected with. No "
                   "operation performed.");
        add_reply_raw(c, "+OK Already connected to specified master\r\n", 43);
        return;
    }
    log_notice("REPLICAOF %s:%lld enabled (user request from 'id=%llu addr=%s')", host, port,
               (unsigned long long)c->id, c->addr);
    add_reply_ok(c);
}

/* ---- cron, startup, shutdown ---- */

void repl_replica_cron(void) {
    assert_owner();
    refresh_settings();
    apply_generation();
    long long now = mstime();
    long long timeout_ms = atomic_load_explicit(&set_timeout_s, memory_order_relaxed) * 1000;
    int st = get_state();
    if (st == RL_CONNECT) {
        if (!persist_loading() && now >= L.next_attempt_ms) start_connect();
    } else if (st >= RL_CONNECTING && st <= RL_TRANSFER) {
        if (now - L.hs_lastio_ms > timeout_ms) {
            log_warning(st == RL_TRANSFER ? "Timeout receiving bulk data from MASTER... If the problem persists try "
                                            "to set the 'repl-timeout' parameter in redis.conf to a larger value."
                                          : "Timeout connecting to the MASTER...");
            link_fail();
        }
    } else if (st == RL_CONNECTED && L.master) {
        long long last = atomic_load_explicit(&L.master->last_interaction_ms, memory_order_relaxed);
        if (now - last > timeout_ms) {
            log_warning("MASTER timeout: no data nor PING received...");
            client_close(L.master);
        } else if (now - L.last_ack_ms >= ACK_PERIOD_MS) {
            L.last_ack_ms = now;
            send_ack(L.master);
        }
    }
}

void repl_replica_init(void) {
    refresh_settings();
    char v[300];
    if (cfg_get_string("replicaof", v, sizeof v) == 0) return;
    char host[256];
    int port;
    if (sscanf(v, "%255s %d", host, &port) != 2 || port < 0 || port > 65535) {
        log_warning("Ignoring the replicaof directive: '%s' is not 'host port'", v);
        return;
    }
    pthread_mutex_lock(&rs_lock);
    memcpy(m_host, host, sizeof m_host);
    m_port = port;
    has_cached = false;
    pthread_mutex_unlock(&rs_lock);
    atomic_store_explicit(&is_replica, true, memory_order_relaxed);
    repl_update_feeding();
    atomic_fetch_add_explicit(&generation, 1, memory_order_release);
    set_state(RL_CONNECT);
}

void repl_worker_stop(void) {
    assert_owner();
    cancel_handshake();
    L.master = NULL; /* closed with the worker's other clients */
}

void repl_replica_shutdown(void) {
    close_tmpfile(true);
    mem_free(L.buf);
    L.buf = NULL;
    L.len = L.pos = L.cap = 0;
    mem_free(L.multi);
    L.multi = NULL;
    L.multi_len = L.multi_cap = 0;
}

/* ---- INFO and ROLE ---- */

bool repl_replica_role(client *c) {
    if (!repl_is_replica()) return false;
    char host[256];
    int port;
    master_addr(host, &port);
    int st = get_state();
    const char *s = st >= RL_RECEIVE_PONG && st <= RL_RECEIVE_PSYNC ? "handshake"
                    : st == RL_CONNECT                          ? "connect"
                    : st == RL_CONNECTING                       ? "connecting"
                    : st == RL_TRANSFER                         ? "sync"
                    : st == RL_CONNECTED                        ? "connected"
                                                                : "none";
    add_reply_array(c, 5);
    add_reply_bulk_cstr(c, "slave");
    add_reply_bulk_cstr(c, host);
    add_reply_integer(c, port);
    add_reply_bulk_cstr(c, s);
    add_reply_integer(c, atomic_load_explicit(&master_present, memory_order_relaxed)
                             ? atomic_load_explicit(&reploff, memory_order_relaxed)
                             : -1);
    return true;
}

bool repl_replica_info(repl_info_out *out, void *ctx) {
    if (!repl_is_replica()) return false;
    char host[256];
    int port;
    bool cached;
    pthread_mutex_lock(&rs_lock);
    memcpy(host, m_host, sizeof host);
    port = m_port;
    cached = has_cached;
    pthread_mutex_unlock(&rs_lock);
    long long now = mstime();
    int st = get_state();
    bool present = atomic_load_explicit(&master_present, memory_order_relaxed);
    long long off = 1, roff = 1;
    if (present || cached) {
        off = atomic_load_explicit(&reploff, memory_order_relaxed);
        roff = atomic_load_explicit(&read_reploff, memory_order_relaxed);
    }
    out(ctx,
        "role:slave\r\n"
        "master_host:%s\r\n"
        "master_port:%d\r\n"
        "master_link_status:%s\r\n"
        "master_last_io_seconds_ago:%d\r\n"
        "master_sync_in_progress:%d\r\n"
        "slave_read_repl_offset:%lld\r\n"
        "slave_repl_offset:%lld\r\n",
        host, port, st == RL_CONNECTED ? "up" : "down",
        present ? (int)((now - atomic_load_explicit(&master_lastio_ms, memory_order_relaxed)) / 1000) : -1,
        st == RL_TRANSFER, roff, off);
    if (st == RL_TRANSFER) {
        long long size = atomic_load_explicit(&transfer_size, memory_order_relaxed);
        long long rd = atomic_load_explicit(&transfer_read, memory_order_relaxed);
        if (size < 0) size = 0;
        out(ctx,
            "master_sync_total_bytes:%lld\r\n"
            "master_sync_read_bytes:%lld\r\n"
            "master_sync_left_bytes:%lld\r\n"
            "master_sync_perc:%.2f\r\n"
            "master_sync_last_io_seconds_ago:%d\r\n",
            size, rd, size - rd, size ? (double)rd / (double)size * 100 : 0.0,
            (int)((now - atomic_load_explicit(&transfer_lastio_ms, memory_order_relaxed)) / 1000));
    }
    if (st != RL_CONNECTED) {
        long long down = atomic_load_explicit(&down_since_ms, memory_order_relaxed);
        out(ctx, "master_link_down_since_seconds:%lld\r\n", down ? (now - down) / 1000 : -1LL);
    }
    out(ctx,
        "slave_priority:%lld\r\n"
        "slave_read_only:%d\r\n"
        "replica_announced:%d\r\n",
        atomic_load_explicit(&set_priority, memory_order_relaxed), repl_replica_read_only() ? 1 : 0,
        atomic_load_explicit(&set_announced, memory_order_relaxed) ? 1 : 0);
    (void)state_name;
    return true;
}
