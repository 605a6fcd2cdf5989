/*
 * repl_link.c - see repl_link.h.
 */
#include "repl_link.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define RDB_EOF_MARK_LEN 40

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) abort();
    return p;
}

/* ---- buffered reading ---------------------------------------------------- */

static size_t avail(const repl_link *l) { return l->in.len - l->pos; }
static const char *cur(const repl_link *l) { return l->in.data ? l->in.data + l->pos : ""; }

static void compact(repl_link *l)
{
    if (l->pos == 0) return;
    memmove(l->in.data, l->in.data + l->pos, l->in.len - l->pos);
    l->in.len -= l->pos;
    l->pos = 0;
    if (l->in.data) l->in.data[l->in.len] = '\0';
}

static bool send_cmd(int fd, int argc, const char *const *argv, int timeout_ms);

static bool send_ack(repl_link *l)
{
    char off[32];
    snprintf(off, sizeof off, "%lld", l->offset < 0 ? 0 : l->offset);
    const char *ack[] = { "REPLCONF", "ACK", off };
    l->last_ack_ms = sc_now_ms();
    return send_cmd(l->fd, 3, ack, 1000);
}

/* Read what the socket has (waiting until the deadline for something).
 * 1: got bytes, 0: timeout, -1: EOF or error. */
static int fill(repl_link *l, long long deadline)
{
    for (;;) {
        long long now = sc_now_ms(), left = deadline - now;
        if (left < 0) left = 0;
        if (l->last_ack_ms && !l->streaming) {
            if (now - l->last_ack_ms >= 20 && !send_ack(l)) return -1;
            if (left > 20) left = 20;
        }
        struct pollfd p = { .fd = l->fd, .events = POLLIN };
        int r = poll(&p, 1, (int)(left > 1000000 ? 1000000 : left));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) {
            if (sc_now_ms() < deadline) continue;
            return 0;
        }
        char buf[65536];
        ssize_t n = recv(l->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            if (l->pos > (1u << 20) && l->pos * 2 > l->in.len) compact(l);
            sc_buf_append(&l->in, buf, (size_t)n);
            if (l->last_ack_ms) l->streaming = true;
            return 1;
        }
        if (n == 0) return -1;
        if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) return -1;
    }
}

/* Read a "\r\n"-terminated line (without it) into out, skipping the bare
 * "\n" keepalives a master sends before it. */
static bool read_line(repl_link *l, char *out, size_t n, long long deadline)
{
    for (;;) {
        while (avail(l) > 0 && cur(l)[0] == '\n') l->pos++;
        const char *p = cur(l);
        const char *e = avail(l) ? memmem(p, avail(l), "\r\n", 2) : NULL;
        if (e) {
            size_t len = (size_t)(e - p);
            snprintf(out, n, "%.*s", (int)len, p);
            l->pos += len + 2;
            return true;
        }
        if (fill(l, deadline) <= 0) return false;
    }
}

static bool send_cmd(int fd, int argc, const char *const *argv, int timeout_ms)
{
    sc_buf b = { 0 };
    sc_resp_command(&b, argc, argv, NULL);
    bool ok = sc_raw_send(fd, b.data, b.len, timeout_ms);
    sc_buf_free(&b);
    return ok;
}

/* Read the RDB payload after its "$..." header line. */
static bool read_rdb(repl_link *l, const char *hdr, long long deadline, char *err, size_t errlen)
{
    if (strncmp(hdr, "$EOF:", 5) == 0) {
        const char *mark = hdr + 5;
        if (strlen(mark) != RDB_EOF_MARK_LEN) {
            snprintf(err, errlen, "bad diskless RDB header '%s'", hdr);
            return false;
        }
        size_t start = l->pos;
        for (;;) {
            const char *p = l->in.data ? l->in.data + start : "";
            size_t n = l->in.len - start;
            const char *e = n >= RDB_EOF_MARK_LEN ? memmem(p, n, mark, RDB_EOF_MARK_LEN) : NULL;
            if (e) {
                l->rdb_bytes = (size_t)(e - p);
                l->pos = start + l->rdb_bytes + RDB_EOF_MARK_LEN;
                return true;
            }
            if (fill(l, deadline) <= 0) {
                snprintf(err, errlen, "diskless RDB: end mark not seen after %zu bytes", n);
                return false;
            }
        }
    }
    char *end = NULL;
    long long len = strtoll(hdr + 1, &end, 10);
    if (hdr[0] != '$' || end == hdr + 1 || *end || len < 0) {
        snprintf(err, errlen, "expected the RDB's '$<len>' or '$EOF:<mark>', got '%s'", hdr);
        return false;
    }
    while (avail(l) < (size_t)len) {
        if (fill(l, deadline) <= 0) {
            snprintf(err, errlen, "RDB: got %zu of %lld bytes", avail(l), len);
            return false;
        }
    }
    l->rdb_bytes = (size_t)len;
    l->pos += (size_t)len;
    return true;
}

static void fail_close(repl_link *l)
{
    if (l->fd >= 0) close(l->fd);
    l->fd = -1;
    sc_buf_free(&l->in);
    l->pos = 0;
}

bool repl_link_open(repl_link *l, int port, int timeout_ms, char *err, size_t errlen, bool *refused)
{
    memset(l, 0, sizeof *l);
    l->fd = -1;
    l->offset = -1;
    *refused = false;
    long long deadline = sc_now_ms() + sc_scaled_ms(timeout_ms);
    char line[512];

    /* PSYNC first; SYNC on a new connection when PSYNC is refused. */
    char psync_err[256] = "";
    for (int attempt = 0; attempt < 2; attempt++) {
        l->fd = sc_raw_connect(port);
        if (l->fd < 0) {
            snprintf(err, errlen, "connect to port %d: %s", port, strerror(errno));
            return false;
        }
        if (attempt == 0) {
            const char *capa[] = { "REPLCONF", "capa", "eof", "capa", "psync2" };
            const char *psync[] = { "PSYNC", "?", "-1" };
            if (!send_cmd(l->fd, 5, capa, timeout_ms) || !read_line(l, line, sizeof line, deadline)) {
                snprintf(err, errlen, "REPLCONF capa: no answer");
                fail_close(l);
                return false;
            }
            if (line[0] == '-') {
                snprintf(psync_err, sizeof psync_err, "REPLCONF capa eof capa psync2 -> %.200s", line);
                fail_close(l);
                continue;
            }
            if (!send_cmd(l->fd, 3, psync, timeout_ms) || !read_line(l, line, sizeof line, deadline)) {
                snprintf(err, errlen, "PSYNC ? -1: no answer");
                fail_close(l);
                return false;
            }
            if (line[0] == '-') {
                snprintf(psync_err, sizeof psync_err, "PSYNC ? -1 -> %.200s", line);
                fail_close(l);
                continue;
            }
            if (strncmp(line, "+FULLRESYNC ", 12) != 0) {
                snprintf(err, errlen, "PSYNC ? -1 answered '%s', expected +FULLRESYNC", line);
                fail_close(l);
                return false;
            }
            char id[64] = "";
            long long off = -1;
            if (sscanf(line + 12, "%63s %lld", id, &off) != 2) {
                snprintf(err, errlen, "bad +FULLRESYNC line '%s'", line);
                fail_close(l);
                return false;
            }
            snprintf(l->replid, sizeof l->replid, "%s", id);
            l->offset = off;
            l->psync = true;
        } else {
            const char *sync[] = { "SYNC" };
            if (!send_cmd(l->fd, 1, sync, timeout_ms)) {
                snprintf(err, errlen, "SYNC: send failed");
                fail_close(l);
                return false;
            }
        }
        if (!read_line(l, line, sizeof line, deadline)) {
            snprintf(err, errlen, "%s: no RDB header", attempt == 0 ? "PSYNC" : "SYNC");
            fail_close(l);
            return false;
        }
        if (line[0] == '-') {
            snprintf(err, errlen, "%s%s%s -> %s", psync_err, psync_err[0] ? "; " : "",
                     attempt == 0 ? "PSYNC" : "SYNC", line);
            *refused = true;
            fail_close(l);
            return false;
        }
        if (!read_rdb(l, line, deadline, err, errlen)) {
            fail_close(l);
            return false;
        }
        if (avail(l) > 0) l->streaming = true;
        if (!send_ack(l)) {
            snprintf(err, errlen, "REPLCONF ACK: send failed");
            fail_close(l);
            return false;
        }
        compact(l);
        return true;
    }
    snprintf(err, errlen, "%s", psync_err);
    *refused = true;
    return false;
}

void repl_link_close(repl_link *l)
{
    fail_close(l);
}

/* ---- commands ------------------------------------------------------------ */

void repl_op_free(repl_op *op)
{
    for (int i = 0; i < op->argc; i++) free(op->argv[i]);
    free(op->argv);
    free(op->len);
    memset(op, 0, sizeof *op);
}

void repl_op_make(repl_op *op, int argc, const char *const *argv, const size_t *len)
{
    op->argc = argc;
    op->argv = xmalloc(sizeof(char *) * (size_t)argc);
    op->len = xmalloc(sizeof(size_t) * (size_t)argc);
    for (int i = 0; i < argc; i++) {
        size_t n = len ? len[i] : strlen(argv[i]);
        op->argv[i] = xmalloc(n + 1);
        memcpy(op->argv[i], argv[i], n);
        op->argv[i][n] = '\0';
        op->len[i] = n;
    }
}

/* Parse "$<n>\r\n<bytes>\r\n" at p; returns bytes used or 0. */
static size_t parse_bulk(const char *p, size_t n, const char **s, size_t *slen)
{
    if (n < 1 || p[0] != '$') return 0;
    const char *e = memmem(p, n, "\r\n", 2);
    if (!e) return 0;
    long long len = strtoll(p + 1, NULL, 10);
    size_t hdr = (size_t)(e - p) + 2;
    if (len < 0 || hdr + (size_t)len + 2 > n) return 0;
    *s = p + hdr;
    *slen = (size_t)len;
    return hdr + (size_t)len + 2;
}

static bool next_fail(repl_link *l, const char *why)
{
    size_t n = avail(l) < 48 ? avail(l) : 48;
    snprintf(l->err, sizeof l->err, "%s", why);
    if (n) {
        size_t o = strlen(l->err);
        snprintf(l->err + o, sizeof l->err - o, "; pending %zu bytes: ", avail(l));
        for (size_t i = 0; i < n && strlen(l->err) + 5 < sizeof l->err; i++) {
            unsigned char ch = (unsigned char)cur(l)[i];
            o = strlen(l->err);
            if (isprint(ch)) snprintf(l->err + o, sizeof l->err - o, "%c", ch);
            else snprintf(l->err + o, sizeof l->err - o, "\\x%02x", ch);
        }
    }
    return false;
}

bool repl_link_next(repl_link *l, repl_op *op, int timeout_ms)
{
    memset(op, 0, sizeof *op);
    l->err[0] = '\0';
    long long deadline = sc_now_ms() + sc_scaled_ms(timeout_ms);
    for (;;) {
        while (avail(l) > 0 && (cur(l)[0] == '\n' || cur(l)[0] == '\r')) {
            l->pos++;
            l->stream_bytes++;
        }
        if (avail(l) > 0) {
            if (cur(l)[0] != '*') return next_fail(l, "not a command");
            long fl = sc_resp_frame_len(cur(l), avail(l));
            if (fl < 0) return next_fail(l, "malformed RESP");
            if (fl > 0) {
                const char *p = cur(l);
                const char *e = memmem(p, (size_t)fl, "\r\n", 2);
                long long argc = strtoll(p + 1, NULL, 10);
                if (!e || argc < 0 || argc > 1000000) return next_fail(l, "bad array header");
                size_t off = (size_t)(e - p) + 2;
                const char **argv = xmalloc(sizeof(char *) * (size_t)(argc ? argc : 1));
                size_t *lens = xmalloc(sizeof(size_t) * (size_t)(argc ? argc : 1));
                for (long long i = 0; i < argc; i++) {
                    size_t used = parse_bulk(p + off, (size_t)fl - off, &argv[i], &lens[i]);
                    if (!used) {
                        free(argv);
                        free(lens);
                        return next_fail(l, "array element is not a bulk string");
                    }
                    off += used;
                }
                repl_op_make(op, (int)argc, argv, lens);
                free(argv);
                free(lens);
                l->pos += (size_t)fl;
                l->stream_bytes += fl;
                if (l->pos == l->in.len) l->pos = l->in.len = 0;
                return true;
            }
        }
        int r = fill(l, deadline);
        if (r == 0) return next_fail(l, "timeout");
        if (r < 0) return next_fail(l, "connection closed");
    }
}

bool repl_op_is(const repl_op *op, const char *name)
{
    return op->argc > 0 && strlen(name) == op->len[0] && strcasecmp(op->argv[0], name) == 0;
}

void repl_op_format(const repl_op *op, sc_buf *out)
{
    sc_buf_append(out, "[", 1);
    for (int i = 0; i < op->argc; i++) {
        if (i) sc_buf_append(out, " ", 1);
        const unsigned char *a = (const unsigned char *)op->argv[i];
        size_t n = op->len[i];
        if (n > 64) {
            sc_buf_printf(out, "<%zu bytes>", n);
            continue;
        }
        if (n == 0) {
            sc_buf_append(out, "\"\"", 2);
            continue;
        }
        for (size_t j = 0; j < n; j++) {
            if (isprint(a[j]) && a[j] != '\\') sc_buf_append(out, &a[j], 1);
            else sc_buf_printf(out, "\\x%02x", a[j]);
        }
    }
    sc_buf_append(out, "]", 1);
}

void repl_ops_push(repl_ops *ops, repl_op *op)
{
    if (ops->n == ops->cap) {
        ops->cap = ops->cap ? ops->cap * 2 : 16;
        ops->v = realloc(ops->v, sizeof *ops->v * (size_t)ops->cap);
        if (!ops->v) abort();
    }
    ops->v[ops->n++] = *op;
    memset(op, 0, sizeof *op);
}

void repl_ops_pop(repl_ops *ops)
{
    if (ops->n > 0) repl_op_free(&ops->v[--ops->n]);
}

void repl_ops_clear(repl_ops *ops)
{
    for (int i = 0; i < ops->n; i++) repl_op_free(&ops->v[i]);
    free(ops->v);
    memset(ops, 0, sizeof *ops);
}

void repl_ops_format(const repl_ops *ops, const char *indent, sc_buf *out)
{
    if (ops->n == 0) sc_buf_printf(out, "%s(nothing)\n", indent);
    for (int i = 0; i < ops->n; i++) {
        sc_buf_printf(out, "%s", indent);
        repl_op_format(&ops->v[i], out);
        sc_buf_append(out, "\n", 1);
    }
}
