/*
 * xxh3.c - XXH3-64 with seed 0 and the default 192-byte secret, written from
 * the published algorithm (xxHash 0.8 by Yann Collet, BSD-2): a separate
 * path per input length (0, 1-3, 4-8, 9-16, 17-128, 129-240 bytes) and the
 * striped accumulator loop beyond 240 bytes.
 *
 * Design choices: scalar code only (no SIMD: digests are computed for one
 * value at a time, under a slot lock, and the scalar loop hashes several
 * GB/s); all reads are little-endian byte loads, so the result does not
 * depend on the host's byte order or alignment.
 */
#include "xxh3.h"

#include <string.h>

#define P32_1 0x9E3779B1U
#define P32_2 0x85EBCA77U
#define P32_3 0xC2B2AE3DU
#define P64_1 0x9E3779B185EBCA87ULL
#define P64_2 0xC2B2AE3D27D4EB4FULL
#define P64_3 0x165667B19E3779F9ULL
#define P64_4 0x85EBCA77C2B2AE63ULL
#define P64_5 0x27D4EB2F165667C5ULL
#define PMX_1 0x165667919E3779F9ULL
#define PMX_2 0x9FB21C651E98DF25ULL

#define STRIPE_LEN 64
#define SECRET_CONSUME_RATE 8
#define SECRET_SIZE 192
#define SECRET_SIZE_MIN 136
#define MIDSIZE_MAX 240
#define MIDSIZE_STARTOFFSET 3
#define MIDSIZE_LASTOFFSET 17
#define SECRET_LASTACC_START 7
#define SECRET_MERGEACCS_START 11

/* The default secret (kSecret). */
static const uint8_t xxh3_secret[SECRET_SIZE] = {
    0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c,
    0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f,
    0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21,
    0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c,
    0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb, 0x88, 0xd0, 0x65, 0x8b, 0x1b, 0x53, 0x2e, 0xa3,
    0x71, 0x64, 0x48, 0x97, 0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac, 0xd8,
    0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7, 0xc7, 0x0b, 0x4f, 0x1d,
    0x8a, 0x51, 0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31, 0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64,
    0xea, 0xc5, 0xac, 0x83, 0x34, 0xd3, 0xeb, 0xc3, 0xc5, 0x81, 0xa0, 0xff, 0xfa, 0x13, 0x63, 0xeb,
    0x17, 0x0d, 0xdd, 0x51, 0xb7, 0xf0, 0xda, 0x49, 0xd3, 0x16, 0x55, 0x26, 0x29, 0xd4, 0x68, 0x9e,
    0x2b, 0x16, 0xbe, 0x58, 0x7d, 0x47, 0xa1, 0xfc, 0x8f, 0xf8, 0xb8, 0xd1, 0x7a, 0xd0, 0x31, 0xce,
    0x45, 0xcb, 0x3a, 0x8f, 0x95, 0x16, 0x04, 0x28, 0xaf, 0xd7, 0xfb, 0xca, 0xbb, 0x4b, 0x40, 0x7e,
};

/* ------------------------------------------------------------ primitives */

static inline uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | ((uint64_t)rd32(p + 4) << 32); }

static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static inline uint64_t swap64(uint64_t x) {
    x = ((x & 0x00000000FFFFFFFFULL) << 32) | (x >> 32);
    x = ((x & 0x0000FFFF0000FFFFULL) << 16) | ((x >> 16) & 0x0000FFFF0000FFFFULL);
    x = ((x & 0x00FF00FF00FF00FFULL) << 8) | ((x >> 8) & 0x00FF00FF00FF00FFULL);
    return x;
}

/* 64x64 -> 128-bit product, folded: low half XOR high half. */
static inline uint64_t mul128_fold64(uint64_t a, uint64_t b) {
#if defined(__SIZEOF_INT128__)
    __extension__ unsigned __int128 p = (unsigned __int128)a * b;
    return (uint64_t)p ^ (uint64_t)(p >> 64);
#else
    uint64_t lo_lo = (a & 0xFFFFFFFFULL) * (b & 0xFFFFFFFFULL);
    uint64_t hi_lo = (a >> 32) * (b & 0xFFFFFFFFULL);
    uint64_t lo_hi = (a & 0xFFFFFFFFULL) * (b >> 32);
    uint64_t hi_hi = (a >> 32) * (b >> 32);
    uint64_t cross = (lo_lo >> 32) + (hi_lo & 0xFFFFFFFFULL) + lo_hi;
    uint64_t hi = (hi_lo >> 32) + (cross >> 32) + hi_hi;
    uint64_t lo = (cross << 32) | (lo_lo & 0xFFFFFFFFULL);
    return lo ^ hi;
#endif
}

/* XXH64's final mix. */
static inline uint64_t xxh64_avalanche(uint64_t h) {
    h ^= h >> 33;
    h *= P64_2;
    h ^= h >> 29;
    h *= P64_3;
    h ^= h >> 32;
    return h;
}

static inline uint64_t xxh3_avalanche(uint64_t h) {
    h ^= h >> 37;
    h *= PMX_1;
    h ^= h >> 32;
    return h;
}

/* The stronger mix used for 4-8 byte inputs. */
static inline uint64_t xxh3_rrmxmx(uint64_t h, uint64_t len) {
    h ^= rotl64(h, 49) ^ rotl64(h, 24);
    h *= PMX_2;
    h ^= (h >> 35) + len;
    h *= PMX_2;
    h ^= h >> 28;
    return h;
}

static inline uint64_t mix16(const uint8_t *in, const uint8_t *sec) {
    return mul128_fold64(rd64(in) ^ rd64(sec), rd64(in + 8) ^ rd64(sec + 8));
}

/* ------------------------------------------------------------ short inputs */

static uint64_t len_0(void) { return xxh64_avalanche(rd64(xxh3_secret + 56) ^ rd64(xxh3_secret + 64)); }

static uint64_t len_1to3(const uint8_t *in, size_t len) {
    uint32_t c1 = in[0], c2 = in[len >> 1], c3 = in[len - 1];
    uint32_t combined = (c1 << 16) | (c2 << 24) | c3 | ((uint32_t)len << 8);
    uint64_t bitflip = (uint64_t)(rd32(xxh3_secret) ^ rd32(xxh3_secret + 4));
    return xxh64_avalanche((uint64_t)combined ^ bitflip);
}

static uint64_t len_4to8(const uint8_t *in, size_t len) {
    uint32_t lo = rd32(in + len - 4), hi = rd32(in);
    uint64_t bitflip = rd64(xxh3_secret + 8) ^ rd64(xxh3_secret + 16);
    uint64_t v = ((uint64_t)hi << 32) + lo;
    return xxh3_rrmxmx(v ^ bitflip, len);
}

static uint64_t len_9to16(const uint8_t *in, size_t len) {
    uint64_t bitflip1 = rd64(xxh3_secret + 24) ^ rd64(xxh3_secret + 32);
    uint64_t bitflip2 = rd64(xxh3_secret + 40) ^ rd64(xxh3_secret + 48);
    uint64_t lo = rd64(in) ^ bitflip1;
    uint64_t hi = rd64(in + len - 8) ^ bitflip2;
    uint64_t acc = (uint64_t)len + swap64(lo) + hi + mul128_fold64(lo, hi);
    return xxh3_avalanche(acc);
}

static uint64_t len_17to128(const uint8_t *in, size_t len) {
    const uint8_t *s = xxh3_secret;
    uint64_t acc = (uint64_t)len * P64_1;
    if (len > 32) {
        if (len > 64) {
            if (len > 96) {
                acc += mix16(in + 48, s + 96);
                acc += mix16(in + len - 64, s + 112);
            }
            acc += mix16(in + 32, s + 64);
            acc += mix16(in + len - 48, s + 80);
        }
        acc += mix16(in + 16, s + 32);
        acc += mix16(in + len - 32, s + 48);
    }
    acc += mix16(in, s);
    acc += mix16(in + len - 16, s + 16);
    return xxh3_avalanche(acc);
}

static uint64_t len_129to240(const uint8_t *in, size_t len) {
    const uint8_t *s = xxh3_secret;
    uint64_t acc = (uint64_t)len * P64_1;
    size_t rounds = len / 16;
    for (size_t i = 0; i < 8; i++) acc += mix16(in + 16 * i, s + 16 * i);
    acc = xxh3_avalanche(acc);
    for (size_t i = 8; i < rounds; i++) acc += mix16(in + 16 * i, s + 16 * (i - 8) + MIDSIZE_STARTOFFSET);
    acc += mix16(in + len - 16, s + SECRET_SIZE_MIN - MIDSIZE_LASTOFFSET);
    return xxh3_avalanche(acc);
}

/* ------------------------------------------------------------ long inputs */

static inline void accumulate_512(uint64_t acc[8], const uint8_t *in, const uint8_t *sec) {
    for (int i = 0; i < 8; i++) {
        uint64_t v = rd64(in + 8 * i);
        uint64_t k = v ^ rd64(sec + 8 * i);
        acc[i ^ 1] += v;
        acc[i] += (k & 0xFFFFFFFFULL) * (k >> 32);
    }
}

static inline void scramble(uint64_t acc[8], const uint8_t *sec) {
    for (int i = 0; i < 8; i++) {
        uint64_t a = acc[i];
        a ^= a >> 47;
        a ^= rd64(sec + 8 * i);
        a *= P32_1;
        acc[i] = a;
    }
}

static uint64_t len_long(const uint8_t *in, size_t len) {
    const uint8_t *s = xxh3_secret;
    uint64_t acc[8] = {P32_3, P64_1, P64_2, P64_3, P64_4, P32_2, P64_5, P32_1};
    const size_t stripes_per_block = (SECRET_SIZE - STRIPE_LEN) / SECRET_CONSUME_RATE;
    const size_t block_len = STRIPE_LEN * stripes_per_block;
    size_t nblocks = (len - 1) / block_len;

    for (size_t b = 0; b < nblocks; b++) {
        const uint8_t *blk = in + b * block_len;
        for (size_t n = 0; n < stripes_per_block; n++)
            accumulate_512(acc, blk + n * STRIPE_LEN, s + n * SECRET_CONSUME_RATE);
        scramble(acc, s + SECRET_SIZE - STRIPE_LEN);
    }
    /* The last partial block, then the last stripe (which may overlap). */
    size_t nstripes = ((len - 1) - block_len * nblocks) / STRIPE_LEN;
    const uint8_t *blk = in + nblocks * block_len;
    for (size_t n = 0; n < nstripes; n++) accumulate_512(acc, blk + n * STRIPE_LEN, s + n * SECRET_CONSUME_RATE);
    accumulate_512(acc, in + len - STRIPE_LEN, s + SECRET_SIZE - STRIPE_LEN - SECRET_LASTACC_START);

    /* Merge the 8 lanes. */
    uint64_t h = (uint64_t)len * P64_1;
    const uint8_t *ms = s + SECRET_MERGEACCS_START;
    for (int i = 0; i < 4; i++)
        h += mul128_fold64(acc[2 * i] ^ rd64(ms + 16 * i), acc[2 * i + 1] ^ rd64(ms + 16 * i + 8));
    return xxh3_avalanche(h);
}

/* ------------------------------------------------------------ API */

uint64_t xxh3_64(const void *data, size_t len) {
    const uint8_t *in = data;
    if (len == 0) return len_0();
    if (len <= 3) return len_1to3(in, len);
    if (len <= 8) return len_4to8(in, len);
    if (len <= 16) return len_9to16(in, len);
    if (len <= 128) return len_17to128(in, len);
    if (len <= MIDSIZE_MAX) return len_129to240(in, len);
    return len_long(in, len);
}

void xxh3_64_hex(const void *data, size_t len, char out[XXH3_HEX_LEN + 1]) {
    static const char hex[] = "0123456789abcdef";
    uint64_t h = xxh3_64(data, len);
    for (int i = XXH3_HEX_LEN - 1; i >= 0; i--) {
        out[i] = hex[h & 0xf];
        h >>= 4;
    }
    out[XXH3_HEX_LEN] = '\0';
}

bool xxh3_parse_hex(const char *s, size_t len, uint64_t *out) {
    if (len != XXH3_HEX_LEN) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        unsigned d;
        if (ch >= '0' && ch <= '9')
            d = (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            d = (unsigned)(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F')
            d = (unsigned)(ch - 'A' + 10);
        else
            return false;
        v = (v << 4) | d;
    }
    *out = v;
    return true;
}
