/*
 * test_resp_write.c - unit tests for proto/resp_write.c (RESP2/RESP3 reply
 * encoding into a chunked reply_buf) and proto/proto_alloc.c (allocator
 * hooks). Expected bytes are what redis-server 7.0 sends.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <limits.h>
#include <signal.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../proto/proto_alloc.h"
#include "../../proto/resp_write.h"

static reply_buf rb;

static void setup(void)
{
    reply_buf_init(&rb);
}

static void teardown(void)
{
    reply_buf_free(&rb);
}

/* Concatenate every chunk; checks the bookkeeping on the way. */
static char *flatten(const reply_buf *b, size_t *len)
{
    size_t total = 0;
    int n = 0;
    const reply_chunk *last = NULL;
    for (const reply_chunk *c = b->head; c; c = c->next) {
        cr_assert_leq(c->used, c->cap);
        total += c->used;
        n++;
        last = c;
    }
    cr_assert_eq(total, b->bytes);
    cr_assert_eq(n, b->nchunks);
    cr_assert_eq(last, b->tail);
    char *out = malloc(total + 1);
    size_t off = 0;
    for (const reply_chunk *c = b->head; c; c = c->next) {
        memcpy(out + off, c->data, c->used);
        off += c->used;
    }
    out[total] = '\0';
    *len = total;
    return out;
}

/* Assert the buffer holds exactly `exp` (explicit length: may hold NULs),
 * then empty it for the next check. */
static void expect_bytes(const char *exp, size_t explen)
{
    size_t len;
    char *got = flatten(&rb, &len);
    cr_assert_eq(len, explen, "length %zu != %zu, got \"%s\"", len, explen, got);
    cr_assert(memcmp(got, exp, explen) == 0, "got \"%s\", expected \"%s\"", got, exp);
    free(got);
    reply_buf_free(&rb);
}
#define EXPECT(lit) expect_bytes(lit, sizeof(lit) - 1)

TestSuite(resp_write, .init = setup, .fini = teardown);

Test(resp_write, simple_strings)
{
    reply_simple(&rb, "PONG", 4);
    EXPECT("+PONG\r\n");
    reply_status(&rb, "QUEUED");
    EXPECT("+QUEUED\r\n");
    reply_ok(&rb);
    EXPECT("+OK\r\n");
    reply_simple(&rb, "", 0);
    EXPECT("+\r\n");
}

Test(resp_write, errors)
{
    reply_error(&rb, "ERR syntax error", 16);
    EXPECT("-ERR syntax error\r\n");
    reply_error(&rb, "WRONGTYPE Operation against a key", 33);
    EXPECT("-WRONGTYPE Operation against a key\r\n");
    /* CR and LF inside the message become spaces. */
    reply_error(&rb, "ERR a\r\nb\nc\rd", 12);
    EXPECT("-ERR a  b c d\r\n");
    /* A message that already carries the '-' is not doubled. */
    reply_error(&rb, "-ERR x", 6);
    EXPECT("-ERR x\r\n");
    /* Only `len` bytes are used. */
    reply_error(&rb, "ERR abcdef", 5);
    EXPECT("-ERR a\r\n");
}

Test(resp_write, errorf)
{
    reply_errorf(&rb, "ERR unknown command '%s', with args beginning with: %s", "foo", "");
    EXPECT("-ERR unknown command 'foo', with args beginning with: \r\n");
    /* Trailing/leading CRLF trimmed, inner ones become spaces. */
    reply_errorf(&rb, "\r\nERR %s %d\r\n", "bad\r\nvalue", 7);
    EXPECT("-ERR bad  value 7\r\n");

    /* Longer than any stack buffer. */
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    reply_errorf(&rb, "ERR %s!", big);
    size_t len;
    char *got = flatten(&rb, &len);
    cr_assert_eq(len, 1 + 4 + 2999 + 1 + 2);
    cr_assert(memcmp(got, "-ERR xxx", 8) == 0);
    cr_assert(memcmp(got + len - 4, "x!\r\n", 4) == 0);
    free(got);
}

Test(resp_write, integers)
{
    reply_integer(&rb, 0);
    EXPECT(":0\r\n");
    reply_integer(&rb, -1);
    EXPECT(":-1\r\n");
    reply_integer(&rb, LLONG_MAX);
    EXPECT(":9223372036854775807\r\n");
    reply_integer(&rb, LLONG_MIN);
    EXPECT(":-9223372036854775808\r\n");
}

Test(resp_write, bulks)
{
    reply_bulk(&rb, "hello", 5);
    EXPECT("$5\r\nhello\r\n");
    reply_bulk(&rb, "", 0);
    EXPECT("$0\r\n\r\n");
    reply_bulk(&rb, "a\r\n\0b", 5);
    EXPECT("$5\r\na\r\n\0b\r\n");
    reply_bulk_cstr(&rb, "bar");
    EXPECT("$3\r\nbar\r\n");
    reply_bulk_ll(&rb, -12);
    EXPECT("$3\r\n-12\r\n");
    reply_bulk_ll(&rb, LLONG_MIN);
    EXPECT("$20\r\n-9223372036854775808\r\n");
}

Test(resp_write, nulls)
{
    reply_null(&rb, 2);
    EXPECT("$-1\r\n");
    reply_null(&rb, 3);
    EXPECT("_\r\n");
    reply_null_array(&rb, 2);
    EXPECT("*-1\r\n");
    reply_null_array(&rb, 3);
    EXPECT("_\r\n");
}

Test(resp_write, aggregates)
{
    reply_array(&rb, 3);
    EXPECT("*3\r\n");
    reply_array(&rb, 0);
    EXPECT("*0\r\n");
    reply_map(&rb, 2, 2);
    EXPECT("*4\r\n");
    reply_map(&rb, 3, 2);
    EXPECT("%2\r\n");
    reply_set(&rb, 2, 5);
    EXPECT("*5\r\n");
    reply_set(&rb, 3, 5);
    EXPECT("~5\r\n");
    reply_push(&rb, 2, 3);
    EXPECT("*3\r\n");
    reply_push(&rb, 3, 3);
    EXPECT(">3\r\n");
}

Test(resp_write, doubles_resp3)
{
    reply_double(&rb, 3, 1.5);
    EXPECT(",1.5\r\n");
    reply_double(&rb, 3, 3.0);
    EXPECT(",3\r\n");
    reply_double(&rb, 3, 0.1);
    EXPECT(",0.10000000000000001\r\n");
    reply_double(&rb, 3, INFINITY);
    EXPECT(",inf\r\n");
    reply_double(&rb, 3, -INFINITY);
    EXPECT(",-inf\r\n");
    reply_double(&rb, 3, NAN);
    EXPECT(",nan\r\n");
    reply_double(&rb, 3, 4.9406564584124654e-324);
    EXPECT(",4.9406564584124654e-324\r\n");
}

Test(resp_write, doubles_resp2)
{
    reply_double(&rb, 2, 1.5);
    EXPECT("$3\r\n1.5\r\n");
    reply_double(&rb, 2, 0.1);
    EXPECT("$19\r\n0.10000000000000001\r\n");
    reply_double(&rb, 2, INFINITY);
    EXPECT("$3\r\ninf\r\n");
    reply_double(&rb, 2, -INFINITY);
    EXPECT("$4\r\n-inf\r\n");
}

Test(resp_write, booleans)
{
    reply_bool(&rb, 3, true);
    EXPECT("#t\r\n");
    reply_bool(&rb, 3, false);
    EXPECT("#f\r\n");
    reply_bool(&rb, 2, true);
    EXPECT(":1\r\n");
    reply_bool(&rb, 2, false);
    EXPECT(":0\r\n");
}

Test(resp_write, verbatim)
{
    reply_verbatim(&rb, 3, "hello", 5, "txt");
    EXPECT("=9\r\ntxt:hello\r\n");
    reply_verbatim(&rb, 3, "# x", 3, "mkd");
    EXPECT("=7\r\nmkd:# x\r\n");
    reply_verbatim(&rb, 2, "hello", 5, "txt");
    EXPECT("$5\r\nhello\r\n");
}

Test(resp_write, pipeline_of_replies)
{
    reply_array(&rb, 2);
    reply_bulk_cstr(&rb, "a");
    reply_integer(&rb, 7);
    reply_ok(&rb);
    EXPECT("*2\r\n$1\r\na\r\n:7\r\n+OK\r\n");
}

Test(resp_write, chunking_small_writes)
{
    /* 10000 replies of ":<i>\r\n" span several chunks, byte stream intact. */
    size_t explen = 0;
    char *exp = malloc(10000 * 8);
    for (int i = 0; i < 10000; i++) {
        reply_integer(&rb, i);
        explen += (size_t)sprintf(exp + explen, ":%d\r\n", i);
    }
    cr_assert_gt(rb.nchunks, 1);
    cr_assert_eq(rb.bytes, explen);
    for (reply_chunk *c = rb.head; c; c = c->next) {
        cr_assert_eq(c->cap, REPLY_CHUNK_SIZE);
        if (c->next)
            cr_assert_eq(c->used, c->cap, "non-final chunk not full");
    }
    expect_bytes(exp, explen);
    free(exp);
}

Test(resp_write, big_payload_gets_own_chunk)
{
    size_t n = 3 * REPLY_CHUNK_SIZE + 17;
    char *big = malloc(n);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)(i * 31);
    reply_ok(&rb);
    reply_bulk(&rb, big, n);
    reply_ok(&rb);

    bool found = false;
    for (reply_chunk *c = rb.head; c; c = c->next)
        if (c->cap == n && c->used == n && memcmp(c->data, big, n) == 0)
            found = true;
    cr_assert(found, "no chunk sized exactly to the payload");

    size_t len;
    char *got = flatten(&rb, &len);
    char hdr[32];
    int hl = sprintf(hdr, "+OK\r\n$%zu\r\n", n);
    cr_assert_eq(len, (size_t)hl + n + 2 + 5);
    cr_assert(memcmp(got, hdr, (size_t)hl) == 0);
    cr_assert(memcmp(got + hl, big, n) == 0);
    cr_assert(memcmp(got + hl + n, "\r\n+OK\r\n", 7) == 0);
    free(got);
    free(big);
}

Test(resp_write, exactly_chunk_size_raw)
{
    /* A payload of exactly REPLY_CHUNK_SIZE is not "large": it is packed. */
    char *p = malloc(REPLY_CHUNK_SIZE);
    memset(p, 'z', REPLY_CHUNK_SIZE);
    reply_raw(&rb, "ab", 2);
    reply_raw(&rb, p, REPLY_CHUNK_SIZE);
    cr_assert_eq(rb.nchunks, 2);
    cr_assert_eq(rb.head->used, REPLY_CHUNK_SIZE);
    cr_assert_eq(rb.tail->used, 2);
    cr_assert_eq(rb.bytes, REPLY_CHUNK_SIZE + 2);
    free(p);
}

Test(resp_write, pop_front)
{
    cr_assert_null(reply_buf_pop_front(&rb));
    char *p = malloc(REPLY_CHUNK_SIZE);
    memset(p, 'q', REPLY_CHUNK_SIZE);
    reply_raw(&rb, p, REPLY_CHUNK_SIZE);
    reply_raw(&rb, "tail", 4);
    cr_assert_eq(rb.nchunks, 2);

    reply_chunk *c = reply_buf_pop_front(&rb);
    cr_assert_not_null(c);
    cr_assert_eq(c->used, REPLY_CHUNK_SIZE);
    cr_assert_null(c->next);
    cr_assert_eq(rb.nchunks, 1);
    cr_assert_eq(rb.bytes, 4);
    proto_free(c);

    c = reply_buf_pop_front(&rb);
    cr_assert_eq(c->used, 4);
    cr_assert(memcmp(c->data, "tail", 4) == 0);
    proto_free(c);
    cr_assert_null(rb.head);
    cr_assert_null(rb.tail);
    cr_assert_eq(rb.bytes, 0);
    cr_assert_eq(rb.nchunks, 0);

    /* Usable again after being emptied. */
    reply_ok(&rb);
    EXPECT("+OK\r\n");
    free(p);
}

/* ---- allocator hooks --------------------------------------------------- */

static long live_allocs;
static long total_allocs;

static void *counting_realloc(void *ptr, size_t size)
{
    if (ptr == NULL) {
        live_allocs++;
        total_allocs++;
    }
    return realloc(ptr, size);
}

static void counting_free(void *ptr)
{
    if (ptr)
        live_allocs--;
    free(ptr);
}

Test(proto_alloc, hooks_see_every_allocation)
{
    proto_set_allocator(counting_realloc, counting_free);
    live_allocs = total_allocs = 0;

    reply_buf b;
    reply_buf_init(&b);
    for (int i = 0; i < 5000; i++)
        reply_bulk(&b, "value", 5);
    char *big = calloc(1, 100000);
    reply_bulk(&b, big, 100000);
    reply_errorf(&b, "ERR %s", big + 1); /* empty string arg */
    free(big);
    reply_chunk *c = reply_buf_pop_front(&b);
    proto_free(c);
    cr_assert_gt(total_allocs, 2);
    cr_assert_eq(live_allocs, b.nchunks);
    reply_buf_free(&b);
    cr_assert_eq(live_allocs, 0);

    proto_set_allocator(realloc, free);
}

Test(proto_alloc, realloc_semantics)
{
    char *p = proto_realloc(NULL, 10);
    cr_assert_not_null(p);
    memset(p, 'a', 10);
    p = proto_realloc(p, 100000);
    cr_assert_eq(p[9], 'a');
    cr_assert_null(proto_realloc(p, 0)); /* frees */
    proto_free(NULL);
}

static void *failing_realloc(void *ptr, size_t size)
{
    (void)ptr;
    (void)size;
    return NULL;
}

Test(proto_alloc, aborts_on_oom, .signal = SIGABRT)
{
    proto_set_allocator(failing_realloc, free);
    (void)proto_realloc(NULL, 16);
}
