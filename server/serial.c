/*
 * serial.c - growable byte buffer (see serial.h). Doubles its capacity as
 * it fills; the bytes are mem_alloc'd, so they count in used_memory.
 */
#include "serial.h"

#include "mem.h"

#include <string.h>

void serial_init(serial_buf *b) {
    b->buf = NULL;
    b->len = b->cap = 0;
}

void serial_free(serial_buf *b) {
    mem_free(b->buf);
    serial_init(b);
}

static void reserve(serial_buf *b, size_t n) {
    if (b->len + n <= b->cap) return;
    size_t cap = b->cap ? b->cap * 2 : 64;
    while (cap < b->len + n) cap *= 2;
    b->buf = mem_realloc(b->buf, cap);
    b->cap = cap;
}

void serial_put_u8(serial_buf *b, uint8_t v) {
    reserve(b, 1);
    b->buf[b->len++] = v;
}

void serial_put_raw(serial_buf *b, const void *p, size_t len) {
    reserve(b, len);
    if (len) memcpy(b->buf + b->len, p, len);
    b->len += len;
}
