/*
 * dump_payload.h - DUMP payload trailers for tests that build or mutate
 * payloads: Redis's CRC-64/Jones and sealing a payload body (the RDB type
 * byte and value) with the 2-byte RDB version and the checksum, so that a
 * corrupt value reaches the codec instead of failing the checksum.
 */
#ifndef DUMP_PAYLOAD_H
#define DUMP_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

/* Reflected, polynomial 0xad93d23594c935a9, init 0, no final xor (Redis's
 * crc64); bitwise, speed does not matter here. */
uint64_t sc_crc64_jones(uint64_t crc, const void *buf, size_t len);
/* Write RDB version 10 and the CRC of everything before it at p + len
 * (the caller has room for SC_DUMP_TRAILER more bytes); returns the
 * payload's total length. */
#define SC_DUMP_TRAILER 10
size_t sc_dump_seal(unsigned char *p, size_t len);

#endif
