/*
 * serial.h - a growable byte buffer and a bounds-checked reader, for the
 * DUMP payload format (dump.c) and the data types' value serialisers.
 *
 * Encoding primitives: u8, unsigned LEB128 varints, length-prefixed byte
 * strings (varint length + bytes), IEEE doubles (8 bytes little endian).
 * The reader never reads past its end: every get returns false on a short
 * or malformed input, so a corrupt payload is rejected, never trusted.
 */
#ifndef SERIAL_H
#define SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    unsigned char *buf;  /* mem_alloc'd */
    size_t len, cap;
} serial_buf;

void serial_init(serial_buf *b);
void serial_free(serial_buf *b);
void serial_put_u8(serial_buf *b, uint8_t v);
void serial_put_varint(serial_buf *b, uint64_t v);
void serial_put_bytes(serial_buf *b, const void *p, size_t len); /* varint len + bytes */
void serial_put_raw(serial_buf *b, const void *p, size_t len);   /* bytes only */
void serial_put_double(serial_buf *b, double v);

typedef struct {
    const unsigned char *p, *end;
} serial_reader;

void serial_reader_init(serial_reader *r, const void *p, size_t len);
bool serial_get_u8(serial_reader *r, uint8_t *v);
bool serial_get_varint(serial_reader *r, uint64_t *v);
/* Points *p into the input (no copy). */
bool serial_get_bytes(serial_reader *r, const char **p, size_t *len);
bool serial_get_double(serial_reader *r, double *v);
static inline bool serial_at_end(const serial_reader *r) { return r->p == r->end; }

#endif
