/*
 * xxh3.h - XXH3-64 (xxHash 0.8's 64-bit XXH3, seed 0, default secret), the
 * hash behind Redis 8.4's DIGEST and the IFDEQ/IFDNE conditions.
 * xxh3_64(NULL, 0) == 0x2d06800538d394c2; "Hello world" -> 0xb6acb9d84a38ff74.
 */
#ifndef XXH3_H
#define XXH3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

uint64_t xxh3_64(const void *data, size_t len);

/* Length of a digest in hex (16) and the hex form of xxh3_64(data): 16
 * lower-case digits with leading zeros, NUL-terminated (out >= 17 bytes). */
#define XXH3_HEX_LEN 16
void xxh3_64_hex(const void *data, size_t len, char out[XXH3_HEX_LEN + 1]);

/* Parse exactly 16 hex digits (either case) into *out; false otherwise. */
bool xxh3_parse_hex(const char *s, size_t len, uint64_t *out);

#endif
