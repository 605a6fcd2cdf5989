/*
 * crc64.h - CRC-64/Jones (the checksum Redis puts in DUMP payloads; reflected,
 * poly 0xad93d23594c935a9, init 0). crc64(0, "123456789", 9) ==
 * 0xe9c6d914c4b8d9ca.
 */
#ifndef CRC64_H
#define CRC64_H

#include <stddef.h>
#include <stdint.h>

uint64_t crc64(uint64_t crc, const void *buf, size_t len);

#endif
