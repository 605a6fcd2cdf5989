/*
 * serial.h - growable buffers (serial.c), one growth rule for both:
 * - serial_buf, bytes: the output of the RDB writers (rdb_codec.h,
 *   rdb_packed.h) and of DUMP;
 * - sbuf, a NUL-terminated string built piece by piece: INFO, the config
 *   file and CONFIG values, CLUSTER NODES lines and nodes.conf.
 * Their memory is mem_alloc'd (counted in used_memory); the owner frees it.
 */
#ifndef SERIAL_H
#define SERIAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    unsigned char *buf;  /* mem_alloc'd */
    size_t len, cap;
} serial_buf;

void serial_init(serial_buf *b);
void serial_free(serial_buf *b);
void serial_put_u8(serial_buf *b, uint8_t v);
void serial_put_raw(serial_buf *b, const void *p, size_t len);

/* {0} is empty; p is NULL until something is added, then always
 * NUL-terminated (p[len] == '\0'). */
typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

void sbuf_add(sbuf *b, const void *p, size_t len);
void sbuf_adds(sbuf *b, const char *s);
void sbuf_addc(sbuf *b, char c);
void sbuf_addf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sbuf_vaddf(sbuf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* The string (never NULL), handed over to the caller (mem_free it); b is
 * left empty. */
char *sbuf_take(sbuf *b);
const char *sbuf_str(const sbuf *b); /* never NULL */
void sbuf_free(sbuf *b);

#endif
