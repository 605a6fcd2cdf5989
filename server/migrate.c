/*
 * migrate.c - MIGRATE, the source side of moving keys to another server
 * (Redis 7.0's migrateCommand), and its cache of connections to targets.
 *
 *   MIGRATE host port key|"" db timeout [COPY] [REPLACE]
 *           [AUTH password | AUTH2 username password] [KEYS key ...]
 *
 * The keys' values go as DUMP payloads (dump.h: Redis's format, so the
 * target may be a redis-server) in RESTORE commands, RESTORE-ASKING in
 * cluster mode (served by the importing target without ASKING), pipelined
 * after AUTH and SELECT when needed, and one reply is read per command.
 * A key is deleted here only once the target acknowledged it (+OK), and
 * the command propagates as DEL of exactly those keys (COPY: nothing).
 * Replies and error texts are Redis's: +NOKEY when no key exists, -IOERR
 * on a socket error or timeout (after one retry on a fresh connection
 * when nothing was sent yet), "ERR Target instance replied with error:".
 *
 * Like Redis, the command is synchronous: the worker waits for the target
 * (bounded by `timeout`, per connect, write chunk and reply line), and it
 * holds the slot locks of the keys all the while (dispatch took them), so
 * nothing writes to those keys between their serialization and their
 * deletion. Redis blocks the whole server for that time; here only the
 * worker and whoever needs those slots wait. This is the one command that
 * keeps slot locks across syscalls (slotlock.h).
 *
 * Connections are cached per worker thread (Redis's migrate_cached_sockets:
 * 64 at most, a random one dropped for a new one, closed after 10 s
 * unused by migrate_cron), with the database last selected on each.
 *
 * Thread ownership: the cache is _Thread_local; only the worker running
 * MIGRATE (and its cron) touches it.
 */
#include "client.h"
#include "command_modules.h"
#include "config.h"
#include "db.h"
#include "dump.h"
#include "entry.h"
#include "mem.h"
#include "migrate.h"
#include "notify.h"
#include "numparse.h"
#include "propagate.h"
#include "resp_write.h"
#include "serial.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MIGRATE_CACHE_ITEMS 64     /* MIGRATE_SOCKET_CACHE_ITEMS */
#define MIGRATE_CACHE_TTL_MS 10000 /* MIGRATE_SOCKET_CACHE_TTL */
#define MIGRATE_WRITE_CHUNK (64 * 1024)
#define MIGRATE_LINE_MAX 1024

/* One cached connection to host:port. */
typedef struct {
    char *name; /* "host:port", as the client spelled them */
    int fd;
    long long last_dbid; /* -1: SELECT before the next RESTORE */
    long long last_use_ms;
    char rbuf[MIGRATE_LINE_MAX];
    size_t rlen; /* bytes of rbuf not consumed yet */
} migrate_conn;

static _Thread_local migrate_conn *cache[MIGRATE_CACHE_ITEMS];
static _Thread_local int cache_n;

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void conn_drop(int i) {
    close(cache[i]->fd);
    mem_free(cache[i]->name);
    mem_free(cache[i]);
    cache[i] = cache[--cache_n];
}

static int cache_find(const char *name) {
    for (int i = 0; i < cache_n; i++)
        if (!strcmp(cache[i]->name, name)) return i;
    return -1;
}

/* Wait until fd is ready for `events`, at most timeout_ms: false on a
 * timeout (errno ETIMEDOUT) or an error. */
static bool wait_fd(int fd, short events, long long timeout_ms) {
    struct pollfd p = {.fd = fd, .events = events};
    for (;;) {
        int r = poll(&p, 1, (int)timeout_ms);
        if (r > 0) return true;
        if (r == 0) {
            errno = ETIMEDOUT;
            return false;
        }
        if (errno != EINTR) return false;
    }
}

/* A non-blocking TCP socket connecting to host:port, or -1 when no
 * address resolves or no socket could start connecting. As Redis 7.0's
 * connSocketBlockingConnect, it waits for the connection at most
 * timeout_ms but does not check how it ended: a refused or unfinished
 * connection fails at the first write ("IOERR ... writing to target
 * instance", retried once unless it timed out), as there. */
static int connect_timeout(const char *host, const char *port, long long timeout_ms) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(host, port, &hints, &res) != 0) return -1;
    int fd = -1;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
        if (errno == EINPROGRESS) {
            wait_fd(fd, POLLOUT, timeout_ms);
            break;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

/* migrateGetSocket: the cached connection to host:port, or a new one
 * (NULL after replying -IOERR). */
static migrate_conn *conn_get(client *c, const arg_t *host, const arg_t *port, long long timeout_ms) {
    char name[512];
    snprintf(name, sizeof name, "%.*s:%.*s", (int)host->len, host->ptr, (int)port->len, port->ptr);
    int i = cache_find(name);
    if (i >= 0) {
        cache[i]->last_use_ms = now_ms();
        return cache[i];
    }
    if (cache_n == MIGRATE_CACHE_ITEMS) conn_drop((int)(db_random() % MIGRATE_CACHE_ITEMS));
    char h[256], p[32];
    snprintf(h, sizeof h, "%.*s", (int)host->len, host->ptr);
    snprintf(p, sizeof p, "%.*s", (int)port->len, port->ptr);
    snprintf(p, sizeof p, "%d", atoi(p)); /* Redis's atoi: "abc" is port 0 */
    int fd = connect_timeout(h, p, timeout_ms);
    if (fd < 0) {
        add_reply_error(c, "IOERR error or timeout connecting to the client");
        return NULL;
    }
    migrate_conn *mc = mem_calloc(1, sizeof *mc);
    mc->name = mem_strdup(name);
    mc->fd = fd;
    mc->last_dbid = -1;
    mc->last_use_ms = now_ms();
    cache[cache_n++] = mc;
    return mc;
}

static void conn_close(migrate_conn *mc) {
    for (int i = 0; i < cache_n; i++)
        if (cache[i] == mc) {
            conn_drop(i);
            return;
        }
}

/* Write all of buf, each chunk within timeout_ms. */
static bool sync_write(int fd, const char *buf, size_t len, long long timeout_ms) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len < MIGRATE_WRITE_CHUNK ? len : MIGRATE_WRITE_CHUNK);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!wait_fd(fd, POLLOUT, timeout_ms)) return false;
        } else {
            return false;
        }
    }
    return true;
}

/* syncReadLine: one line without its \r\n into out (NUL-terminated,
 * truncated to outlen - 1), within timeout_ms; false on an error, a
 * timeout (errno ETIMEDOUT) or the peer closing. */
static bool read_line(migrate_conn *mc, char *out, size_t outlen, long long timeout_ms) {
    size_t olen = 0;
    for (;;) {
        char *nl = memchr(mc->rbuf, '\n', mc->rlen);
        size_t take = nl ? (size_t)(nl - mc->rbuf) : mc->rlen;
        size_t copy = take < outlen - 1 - olen ? take : outlen - 1 - olen;
        memcpy(out + olen, mc->rbuf, copy);
        olen += copy;
        size_t used = nl ? take + 1 : take;
        memmove(mc->rbuf, mc->rbuf + used, mc->rlen - used);
        mc->rlen -= used;
        if (nl) {
            if (olen > 0 && out[olen - 1] == '\r') olen--;
            out[olen] = '\0';
            return true;
        }
        ssize_t n = read(mc->fd, mc->rbuf + mc->rlen, sizeof mc->rbuf - mc->rlen);
        if (n > 0) {
            mc->rlen += (size_t)n;
        } else if (n == 0) {
            errno = ECONNRESET;
            return false;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (!wait_fd(mc->fd, POLLIN, timeout_ms)) return false;
        } else if (errno != EINTR) {
            return false;
        }
    }
}

/* The request's bytes, one reply_buf chunk after the other. */
static bool write_request(migrate_conn *mc, reply_buf *req, long long timeout_ms) {
    for (reply_chunk *ch = req->head; ch; ch = ch->next)
        if (!sync_write(mc->fd, ch->data, ch->used, timeout_ms)) return false;
    return true;
}

static void bulk_str(reply_buf *b, const char *s) { reply_bulk(b, s, strlen(s)); }

/* The parsed command. */
typedef struct {
    bool copy, replace;
    const arg_t *user, *pass; /* AUTH2 user pass / AUTH pass */
    int first_key, nkeys;
    long long timeout, dbid;
} migrate_args;

/* Options from argv[6]: false after replying. */
static bool parse_args(client *c, migrate_args *a) {
    *a = (migrate_args){.first_key = 3, .nkeys = 1};
    for (int j = 6; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        const arg_t *o = &c->argv[j];
        if (arg_eq(o, "copy")) {
            a->copy = true;
        } else if (arg_eq(o, "replace")) {
            a->replace = true;
        } else if (arg_eq(o, "auth") && more >= 1) {
            a->user = NULL;
            a->pass = &c->argv[++j];
        } else if (arg_eq(o, "auth2") && more >= 2) {
            a->user = &c->argv[++j];
            a->pass = &c->argv[++j];
        } else if (arg_eq(o, "keys")) {
            if (c->argv[3].len != 0) {
                add_reply_error(c, "ERR When using MIGRATE KEYS option, the key argument must be set to the empty "
                                   "string");
                return false;
            }
            a->first_key = j + 1;
            a->nkeys = c->argc - j - 1;
            break;
        } else {
            add_reply_error(c, ERR_SYNTAX);
            return false;
        }
    }
    if (!arg_ll_or_reply(c, &c->argv[5], &a->timeout, NULL) || !arg_ll_or_reply(c, &c->argv[4], &a->dbid, NULL))
        return false;
    if (a->timeout <= 0) a->timeout = 1000;
    return true;
}

/* The RESTORE (or RESTORE-ASKING) of key k into req; false when the key
 * expired since it was looked up (it is skipped, as Redis does). */
static bool add_restore(reply_buf *req, const migrate_args *a, const dbkey *k, serial_buf *payload) {
    entry *e = db_lookup(k, LOOKUP_READ | LOOKUP_NOTOUCH, NULL);
    if (!e) return false;
    long long ttl = 0, at = entry_expire(e);
    if (at != -1) {
        ttl = at - db_now_ms();
        if (ttl < 0) return false;
        if (ttl < 1) ttl = 1;
    }
    payload->len = 0;
    dump_payload(e, payload);
    reply_array(req, a->replace ? 5 : 4);
    bulk_str(req, cfg_get(cluster_enabled) ? "RESTORE-ASKING" : "RESTORE");
    reply_bulk(req, k->key, k->len);
    reply_bulk_ll(req, ttl);
    reply_bulk(req, payload->buf, payload->len);
    if (a->replace) bulk_str(req, "REPLACE");
    return true;
}

static void migrate_command(client *c) {
    migrate_args a;
    if (!parse_args(c, &a)) return;

    /* The keys that exist (expired ones do not): none, +NOKEY. */
    const arg_t **keys = mem_alloc((size_t)a.nkeys * sizeof *keys);
    int n = 0;
    for (int j = 0; j < a.nkeys; j++) {
        dbkey k;
        dbkey_init(&k, c->db, c->argv[a.first_key + j].ptr, c->argv[a.first_key + j].len);
        if (db_lookup(&k, LOOKUP_READ, NULL)) keys[n++] = &c->argv[a.first_key + j];
    }
    if (n == 0) {
        mem_free(keys);
        add_reply_status(c, "NOKEY");
        return;
    }

    bool may_retry = true;
    int deleted_total = 0; /* keys[0..deleted_total): deleted here (the last attempt's; a retry follows none) */
    serial_buf payload;
    serial_init(&payload);
    for (;;) {
        migrate_conn *mc = conn_get(c, &c->argv[1], &c->argv[2], a.timeout);
        if (!mc) break; /* -IOERR replied */

        reply_buf req;
        reply_buf_init(&req);
        if (a.pass) {
            reply_array(&req, a.user ? 3 : 2);
            bulk_str(&req, "AUTH");
            if (a.user) reply_bulk(&req, a.user->ptr, a.user->len);
            reply_bulk(&req, a.pass->ptr, a.pass->len);
        }
        bool select = mc->last_dbid != a.dbid;
        if (select) {
            reply_array(&req, 2);
            bulk_str(&req, "SELECT");
            reply_bulk_ll(&req, a.dbid);
        }
        int sent = 0; /* keys[0..sent) went, in that order */
        for (int j = 0; j < n; j++) {
            dbkey k;
            dbkey_init(&k, c->db, keys[j]->ptr, keys[j]->len);
            if (add_restore(&req, &a, &k, &payload)) keys[sent++] = keys[j];
        }
        n = sent;

        errno = 0;
        bool write_error = !write_request(mc, &req, a.timeout);
        reply_buf_free(&req);
        char auth_line[MIGRATE_LINE_MAX], select_line[MIGRATE_LINE_MAX], line[MIGRATE_LINE_MAX];
        bool socket_error = write_error || (a.pass && !read_line(mc, auth_line, sizeof auth_line, a.timeout)) ||
                            (select && !read_line(mc, select_line, sizeof select_line, a.timeout));
        bool target_error = false;
        int j = 0, deleted = 0;
        if (!socket_error) {
            /* One reply per RESTORE; the keys acknowledged go (no COPY). */
            for (; j < n; j++) {
                if (!read_line(mc, line, sizeof line, a.timeout)) {
                    socket_error = true;
                    break;
                }
                const char *err = a.pass && auth_line[0] == '-'  ? auth_line
                                  : select && select_line[0] == '-' ? select_line
                                  : line[0] == '-'                  ? line
                                                                    : NULL;
                if (err) {
                    if (!target_error) {
                        mc->last_dbid = -1;
                        target_error = true;
                        add_reply_errorf(c, "ERR Target instance replied with error: %s", err + 1);
                    }
                } else if (!a.copy) {
                    dbkey k;
                    dbkey_init(&k, c->db, keys[j]->ptr, keys[j]->len);
                    if (db_delete(&k)) {
                        db_changed(&k, NOTIFY_GENERIC, "del");
                        keys[deleted++] = keys[j];
                    }
                }
            }
        }
        deleted_total = deleted;
        if (!socket_error) {
            if (!target_error) {
                mc->last_dbid = a.dbid;
                add_reply_ok(c);
            }
            break;
        }
        /* A socket error: the connection goes. Retried once on a fresh
         * one when nothing was acknowledged and it was not a timeout (the
         * cached connection was probably closed by the target). */
        bool timed_out = errno == ETIMEDOUT;
        conn_close(mc);
        if (!target_error && j == 0 && deleted == 0 && may_retry && !timed_out) {
            may_retry = false;
            continue;
        }
        if (!target_error)
            add_reply_errorf(c, "IOERR error or timeout %s to target instance", write_error ? "writing" : "reading");
        break;
    }
    /* The keys the target acknowledged propagate as one DEL; nothing else
     * of MIGRATE reaches the stream. */
    if (deleted_total > 0) {
        propagate_rewrite_begin(deleted_total + 1);
        propagate_arg_str("DEL");
        for (int d = 0; d < deleted_total; d++) propagate_arg(keys[d]->ptr, keys[d]->len);
    } else {
        propagate_prevent();
    }
    serial_free(&payload);
    mem_free(keys);
}

void migrate_cron(void) {
    long long now = now_ms();
    for (int i = 0; i < cache_n;)
        if (now - cache[i]->last_use_ms > MIGRATE_CACHE_TTL_MS) conn_drop(i);
        else i++;
}

void migrate_thread_cleanup(void) {
    while (cache_n > 0) conn_drop(0);
}

/* migrateGetKeys: argv[3], or every argument after KEYS (none when KEYS
 * comes with a non-empty key: the command refuses that). AUTH and AUTH2
 * skip their values. */
int migrate_keys(const arg_t *argv, int argc, int *keyidx, int max) {
    int first = 3, num = 1;
    for (int i = 6; i < argc; i++) {
        if (arg_eq(&argv[i], "keys")) {
            if (argv[3].len > 0) {
                num = 0;
            } else {
                first = i + 1;
                num = argc - first;
            }
            break;
        }
        if (arg_eq(&argv[i], "auth")) i += 1;
        else if (arg_eq(&argv[i], "auth2")) i += 2;
    }
    int n = 0;
    for (int i = 0; i < num && n < max; i++) keyidx[n++] = first + i;
    return n;
}

command migrate_commands[] = {
    {.name = "migrate", .arity = -6, .flags = CMD_WRITE | CMD_OPEN_SLOT, .first_key = 3, .last_key = 3, .key_step = 1,
     .keys_fn = migrate_keys,
     .proc = migrate_command, .group = "generic", .since = "2.6.0",
     .summary = "Atomically transfer a key from a Redis instance to another one.",
     .complexity = "This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the target "
                   "instance. See the pages of these commands for time complexity. Also an O(N) data transfer "
                   "between the two instances is performed.",
     .acl_categories = "keyspace write slow dangerous"},
    {0},
};
