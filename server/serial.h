/*
 * serial.h - a growable byte buffer, the output of the RDB writers
 * (rdb_codec.h, rdb_packed.h) and of DUMP.
 */
#ifndef SERIAL_H
#define SERIAL_H

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

#endif
