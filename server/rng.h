/*
 * rng.h - the server's one pseudo-random number generator and its bounded
 * draw, shared by the samplers (dict_random, ktable_random, the keyspace's
 * weighted slot pick) and db_random().
 *
 * - The generator is splitmix64: a counter stepped by the golden ratio and
 *   mixed, so every output depends on all state bits (unlike xorshift,
 *   whose consecutive outputs are linearly related) and a sampler can
 *   expand one random seed from its caller into as many draws as its
 *   rejection loop needs.
 * - rng_below(x, n) maps a 64-bit random x onto [0, n) by multiply-shift
 *   (Lemire): no division, bias at most n / 2^64.
 * Not thread-safe by itself: each caller owns its state.
 */
#ifndef RNG_H
#define RNG_H

#include <stdint.h>

static inline uint64_t rng_next(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t rng_below(uint64_t x, uint64_t n) { return (uint64_t)(((__uint128_t)x * n) >> 64); }

#endif
