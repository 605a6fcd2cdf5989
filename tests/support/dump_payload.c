/*
 * dump_payload.c - DUMP payload trailers for tests (see dump_payload.h).
 */
#include "dump_payload.h"

uint64_t sc_crc64_jones(uint64_t crc, const void *buf, size_t len) {
    const unsigned char *p = buf;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++) crc = (crc & 1) ? (crc >> 1) ^ 0x95ac9329ac4bc9b5ULL : crc >> 1;
    }
    return crc;
}

size_t sc_dump_seal(unsigned char *p, size_t len) {
    p[len++] = 10;
    p[len++] = 0;
    uint64_t crc = sc_crc64_jones(0, p, len);
    for (int i = 0; i < 8; i++) p[len++] = (unsigned char)(crc >> (8 * i));
    return len;
}
