/*
 * resp_write.c - owns reply encoding: the chunked reply_buf and every RESP2 /
 * RESP3 encoder (simple strings, errors, integers, bulks, aggregates, nulls,
 * doubles, booleans, verbatim strings) with Redis 7.0's exact bytes.
 */
#include "resp_write.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "numparse.h"
#include "proto_alloc.h"

/* ---- chunk list -------------------------------------------------------- */

void reply_buf_init(reply_buf *b)
{
    b->head = b->tail = NULL;
    b->bytes = 0;
    b->nchunks = 0;
}

void reply_buf_free(reply_buf *b)
{
    reply_chunk *c = b->head;
    while (c) {
        reply_chunk *next = c->next;
        proto_free(c);
        c = next;
    }
    reply_buf_init(b);
}

reply_chunk *reply_buf_pop_front(reply_buf *b)
{
    reply_chunk *c = b->head;
    if (!c)
        return NULL;
    b->head = c->next;
    if (!b->head)
        b->tail = NULL;
    c->next = NULL;
    b->bytes -= c->used;
    b->nchunks--;
    return c;
}

static reply_chunk *chunk_append(reply_buf *b, size_t cap)
{
    reply_chunk *c = proto_realloc(NULL, sizeof(reply_chunk) + cap);
    c->next = NULL;
    c->used = 0;
    c->sent = 0;
    c->cap = cap;
    if (b->tail)
        b->tail->next = c;
    else
        b->head = c;
    b->tail = c;
    b->nchunks++;
    return c;
}

void reply_raw(reply_buf *b, const void *data, size_t len)
{
    const char *p = data;

    if (len == 0)
        return;
    if (len > REPLY_CHUNK_SIZE) {
        /* Big payload: a chunk of its own, sized to fit. */
        reply_chunk *c = chunk_append(b, len);
        memcpy(c->data, p, len);
        c->used = len;
        b->bytes += len;
        return;
    }
    while (len > 0) {
        reply_chunk *c = b->tail;
        if (!c || c->used == c->cap)
            c = chunk_append(b, REPLY_CHUNK_SIZE);
        size_t n = c->cap - c->used;
        if (n > len)
            n = len;
        memcpy(c->data + c->used, p, n);
        c->used += n;
        b->bytes += n;
        p += n;
        len -= n;
    }
}

/* ---- helpers ----------------------------------------------------------- */

#define CRLF "\r\n"

/* "<prefix><v>\r\n" */
static void reply_header(reply_buf *b, char prefix, long long v)
{
    char buf[32];
    size_t l;

    buf[0] = prefix;
    l = 1 + format_ll(buf + 1, sizeof(buf) - 3, v);
    buf[l++] = '\r';
    buf[l++] = '\n';
    reply_raw(b, buf, l);
}

/* ---- typed replies ----------------------------------------------------- */

void reply_simple(reply_buf *b, const char *s, size_t len)
{
    reply_raw(b, "+", 1);
    reply_raw(b, s, len);
    reply_raw(b, CRLF, 2);
}

void reply_status(reply_buf *b, const char *s)
{
    reply_simple(b, s, strlen(s));
}

void reply_ok(reply_buf *b)
{
    reply_raw(b, "+OK" CRLF, 5);
}

void reply_error(reply_buf *b, const char *msg, size_t len)
{
    char tmp[256];
    size_t i = 0;

    /* Tolerate a message that already carries the '-'. */
    if (len > 0 && msg[0] == '-') {
        msg++;
        len--;
    }
    reply_raw(b, "-", 1);
    /* Copy in pieces, turning CR/LF into spaces so the protocol stays valid. */
    while (i < len) {
        size_t n = len - i < sizeof(tmp) ? len - i : sizeof(tmp);
        for (size_t j = 0; j < n; j++) {
            char c = msg[i + j];
            tmp[j] = (c == '\r' || c == '\n') ? ' ' : c;
        }
        reply_raw(b, tmp, n);
        i += n;
    }
    reply_raw(b, CRLF, 2);
}

void reply_errorf(reply_buf *b, const char *fmt, ...)
{
    char stackbuf[512];
    char *s = stackbuf;
    va_list ap;
    int n;
    size_t start = 0, end;

    va_start(ap, fmt);
    n = vsnprintf(stackbuf, sizeof(stackbuf), fmt, ap);
    va_end(ap);
    if (n < 0) {
        n = 0;
        stackbuf[0] = '\0';
    } else if ((size_t)n >= sizeof(stackbuf)) {
        s = proto_realloc(NULL, (size_t)n + 1);
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    /* Like Redis's addReplyErrorFormat: trim CR/LF at both ends, then the
     * remaining ones become spaces (done by reply_error). */
    end = (size_t)n;
    while (start < end && (s[start] == '\r' || s[start] == '\n'))
        start++;
    while (end > start && (s[end - 1] == '\r' || s[end - 1] == '\n'))
        end--;
    reply_error(b, s + start, end - start);
    if (s != stackbuf)
        proto_free(s);
}

void reply_integer(reply_buf *b, long long v)
{
    reply_header(b, ':', v);
}

void reply_bulk(reply_buf *b, const void *data, size_t len)
{
    reply_header(b, '$', (long long)len);
    reply_raw(b, data, len);
    reply_raw(b, CRLF, 2);
}

void reply_bulk_cstr(reply_buf *b, const char *s)
{
    if (s == NULL) {
        reply_null(b, 2);
        return;
    }
    reply_bulk(b, s, strlen(s));
}

void reply_bulk_ll(reply_buf *b, long long v)
{
    char buf[32];
    size_t l = format_ll(buf, sizeof(buf), v);
    reply_bulk(b, buf, l);
}

void reply_null(reply_buf *b, int proto)
{
    if (proto >= 3)
        reply_raw(b, "_" CRLF, 3);
    else
        reply_raw(b, "$-1" CRLF, 5);
}

void reply_null_array(reply_buf *b, int proto)
{
    if (proto >= 3)
        reply_raw(b, "_" CRLF, 3);
    else
        reply_raw(b, "*-1" CRLF, 5);
}

void reply_array(reply_buf *b, long long n)
{
    reply_header(b, '*', n);
}

void reply_map(reply_buf *b, int proto, long long npairs)
{
    if (proto >= 3)
        reply_header(b, '%', npairs);
    else
        reply_header(b, '*', npairs * 2);
}

void reply_set(reply_buf *b, int proto, long long n)
{
    reply_header(b, proto >= 3 ? '~' : '*', n);
}

void reply_push(reply_buf *b, int proto, long long n)
{
    reply_header(b, proto >= 3 ? '>' : '*', n);
}

void reply_double(reply_buf *b, int proto, double v)
{
    char buf[64];
    size_t l;

    if (proto >= 3) {
        buf[0] = ',';
        l = 1 + format_double(buf + 1, sizeof(buf) - 3, v);
        buf[l++] = '\r';
        buf[l++] = '\n';
        reply_raw(b, buf, l);
    } else {
        l = format_double(buf, sizeof(buf), v);
        reply_bulk(b, buf, l);
    }
}

void reply_bool(reply_buf *b, int proto, bool v)
{
    if (proto >= 3)
        reply_raw(b, v ? "#t" CRLF : "#f" CRLF, 4);
    else
        reply_raw(b, v ? ":1" CRLF : ":0" CRLF, 4);
}

void reply_verbatim(reply_buf *b, int proto, const char *data, size_t len, const char *fmt)
{
    char ext[4] = {'t', 'x', 't', ':'};

    if (proto < 3) {
        reply_bulk(b, data, len);
        return;
    }
    /* "=<len+4>\r\n" + 3-letter format + ':' + data + "\r\n" */
    if (fmt && fmt[0] && fmt[1] && fmt[2])
        memcpy(ext, fmt, 3);
    reply_header(b, '=', (long long)len + 4);
    reply_raw(b, ext, 4);
    reply_raw(b, data, len);
    reply_raw(b, CRLF, 2);
}
