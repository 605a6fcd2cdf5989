/*
 * crc64.c - CRC-64/Jones, table-driven, byte at a time (see crc64.h). The
 * table is built once, on first use, under pthread_once.
 */
#include "crc64.h"

#include <pthread.h>

#define POLY_REFLECTED 0x95ac9329ac4bc9b5ULL /* 0xad93d23594c935a9 bit-reversed */

static uint64_t table[256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void build_table(void) {
    for (unsigned i = 0; i < 256; i++) {
        uint64_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ POLY_REFLECTED : c >> 1;
        table[i] = c;
    }
}

uint64_t crc64(uint64_t crc, const void *buf, size_t len) {
    pthread_once(&table_once, build_table);
    const unsigned char *p = buf;
    for (size_t i = 0; i < len; i++) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return crc;
}
