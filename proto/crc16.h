/*
 * crc16.h - CRC16/XMODEM as Redis Cluster uses it, and the key -> hash slot
 * function (with {hash tag} rules) used in every mode.
 */
#ifndef CRC16_H
#define CRC16_H

#include <stddef.h>
#include <stdint.h>

#define CLUSTER_SLOTS 16384

uint16_t crc16(const char *buf, size_t len);
/* The same CRC one byte at a time (the reference the unit tests compare
 * crc16's slicing-by-8 against). */
uint16_t crc16_bytewise(const char *buf, size_t len);

/* Redis Cluster's keyHashSlot: if the key contains '{' followed later by '}'
 * with at least one byte between them, only the bytes between the first '{'
 * and the first '}' after it are hashed. Returns 0..16383. */
unsigned key_hash_slot(const char *key, size_t len);

#endif
