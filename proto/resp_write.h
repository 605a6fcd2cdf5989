/*
 * resp_write.h - reply encoding for RESP2 and RESP3 into a chunked buffer.
 *
 * A reply_buf is a singly linked list of chunks that replies are appended to;
 * the connection layer hands whole chunks to the socket and frees them once
 * written (reply_buf_pop_front). Every encoder takes the connection's
 * protocol version (2 or 3) where RESP3 differs from RESP2: maps become flat
 * arrays, sets become arrays, nulls become $-1 / *-1, doubles become bulk
 * strings, booleans become integers, push messages become arrays.
 * No I/O happens here.
 */
#ifndef RESP_WRITE_H
#define RESP_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REPLY_CHUNK_SIZE (16 * 1024)

typedef struct reply_chunk {
    struct reply_chunk *next;
    size_t used;   /* bytes of data[] filled */
    size_t sent;   /* bytes of data[] already written to the socket (owned by
                      the connection layer) */
    size_t cap;    /* capacity of data[] */
    char data[];
} reply_chunk;

typedef struct {
    reply_chunk *head;
    reply_chunk *tail;
    size_t bytes;      /* total used bytes over all chunks (not minus sent) */
    int nchunks;
} reply_buf;

void reply_buf_init(reply_buf *b);
void reply_buf_free(reply_buf *b);
/* Unlink and return the first chunk (caller frees it with proto_free). */
reply_chunk *reply_buf_pop_front(reply_buf *b);

/* Raw bytes, no framing. Large payloads (> REPLY_CHUNK_SIZE) get a chunk of
 * their own sized to fit. */
void reply_raw(reply_buf *b, const void *data, size_t len);

/* Typed replies. `proto` is 2 or 3. */
void reply_simple(reply_buf *b, const char *s, size_t len);     /* +s\r\n */
void reply_status(reply_buf *b, const char *s);                 /* +s\r\n (NUL-terminated) */
void reply_ok(reply_buf *b);                                    /* +OK\r\n */
/* -msg\r\n: msg must already begin with an error code ("ERR ...",
 * "WRONGTYPE ..."); CR/LF inside msg are replaced by spaces as Redis does. */
void reply_error(reply_buf *b, const char *msg, size_t len);
void reply_errorf(reply_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void reply_integer(reply_buf *b, long long v);                  /* :v\r\n */
void reply_bulk(reply_buf *b, const void *data, size_t len);    /* $len\r\n...\r\n */
void reply_bulk_cstr(reply_buf *b, const char *s);
void reply_bulk_ll(reply_buf *b, long long v);                  /* integer as bulk */
void reply_null(reply_buf *b, int proto);                       /* $-1 / _ */
void reply_null_array(reply_buf *b, int proto);                 /* *-1 / _ */
void reply_array(reply_buf *b, long long n);                    /* *n */
void reply_map(reply_buf *b, int proto, long long npairs);      /* %n / *2n */
void reply_set(reply_buf *b, int proto, long long n);           /* ~n / *n */
void reply_push(reply_buf *b, int proto, long long n);          /* >n / *n */
void reply_double(reply_buf *b, int proto, double v);           /* ,v / $bulk */
void reply_bool(reply_buf *b, int proto, bool v);               /* #t / :1 */
/* Verbatim string (RESP3 "=len\r\ntxt:...") or plain bulk in RESP2. `fmt`
 * is the 3-letter format ("txt"). */
void reply_verbatim(reply_buf *b, int proto, const char *data, size_t len, const char *fmt);

#endif
