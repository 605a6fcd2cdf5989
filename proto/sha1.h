/*
 * sha1.h - SHA-1 (FIPS 180-4) for naming scripts the way Redis does: the
 * 40 lower-case hex digits of the SHA-1 of a script's exact bytes (what
 * SCRIPT LOAD returns and EVALSHA takes), and for DEBUG DIGEST's signatures
 * (server/debug_digest.c). Not for anything security-related.
 */
#ifndef SHA1_H
#define SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_DIGEST_LEN 20
#define SHA1_HEX_LEN 40

/* Incremental interface: init, update any number of times, final. */
typedef struct {
    uint32_t h[5];
    uint64_t total;      /* bytes fed so far */
    uint8_t block[64];   /* pending partial block */
    size_t fill;         /* bytes in block */
} sha1_ctx;

void sha1_init(sha1_ctx *ctx);
void sha1_update(sha1_ctx *ctx, const void *data, size_t len);
/* Writes the 20-byte digest; ctx must be re-initialised before reuse. */
void sha1_final(sha1_ctx *ctx, uint8_t out[SHA1_DIGEST_LEN]);

/* One-shot digest. */
void sha1(const void *data, size_t len, uint8_t out[SHA1_DIGEST_LEN]);
/* A digest as 40 lower-case hex digits plus a NUL. */
void sha1_to_hex(const uint8_t d[SHA1_DIGEST_LEN], char out[SHA1_HEX_LEN + 1]);
/* One-shot digest as 40 lower-case hex digits plus a NUL. */
void sha1_hex(const void *data, size_t len, char out[SHA1_HEX_LEN + 1]);

#endif
