/*
 * serial.c - byte buffer and checked reader (see serial.h).
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

void serial_put_varint(serial_buf *b, uint64_t v) {
    reserve(b, 10);
    while (v >= 128) {
        b->buf[b->len++] = (unsigned char)(v | 128);
        v >>= 7;
    }
    b->buf[b->len++] = (unsigned char)v;
}

void serial_put_raw(serial_buf *b, const void *p, size_t len) {
    reserve(b, len);
    if (len) memcpy(b->buf + b->len, p, len);
    b->len += len;
}

void serial_put_bytes(serial_buf *b, const void *p, size_t len) {
    serial_put_varint(b, len);
    serial_put_raw(b, p, len);
}

void serial_put_double(serial_buf *b, double v) {
    uint64_t u;
    memcpy(&u, &v, 8);
    unsigned char le[8];
    for (int i = 0; i < 8; i++) le[i] = (unsigned char)(u >> (8 * i));
    serial_put_raw(b, le, 8);
}

void serial_reader_init(serial_reader *r, const void *p, size_t len) {
    r->p = p;
    r->end = r->p + len;
}

bool serial_get_u8(serial_reader *r, uint8_t *v) {
    if (r->p >= r->end) return false;
    *v = *r->p++;
    return true;
}

bool serial_get_varint(serial_reader *r, uint64_t *v) {
    uint64_t out = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) return false;
        unsigned char c = *r->p++;
        out |= (uint64_t)(c & 127) << shift;
        if (!(c & 128)) {
            *v = out;
            return true;
        }
    }
    return false;
}

bool serial_get_bytes(serial_reader *r, const char **p, size_t *len) {
    uint64_t n;
    if (!serial_get_varint(r, &n) || n > (uint64_t)(r->end - r->p)) return false;
    *p = (const char *)r->p;
    *len = (size_t)n;
    r->p += n;
    return true;
}

bool serial_get_double(serial_reader *r, double *v) {
    if (r->end - r->p < 8) return false;
    uint64_t u = 0;
    for (int i = 0; i < 8; i++) u |= (uint64_t)r->p[i] << (8 * i);
    memcpy(v, &u, 8);
    r->p += 8;
    return true;
}
