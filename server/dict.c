/*
 * dict.c - string-keyed chained hash table (see dict.h).
 *
 * A bucket is one 64-bit word: the chain's head pointer in the low 48 bits
 * (user-space pointers fit) and the chain's length in the top 16. The
 * lengths cost nothing to keep (an add or delete rewrites the bucket word
 * anyway) and make a uniform random pick cheap:
 * - Buckets are grouped by 8 (one cache line). `group_bound` is at least the
 *   number of elements in any group: raised by an add that overfills its
 *   group, recomputed exactly by every resize, left alone by deletes (it
 *   stays an upper bound).
 * - dict_random draws a group g and a position j < group_bound uniformly
 *   and returns the j-th element of g if g has that many, else draws again.
 *   Every element is one (g, j) pair, so each comes out with the same
 *   probability. The chance to accept a draw is count / (groups *
 *   group_bound): the largest group holds 2 to 3 times the average one at
 *   the loads a table keeps (1/8 to 1), so a pick costs a few reads of one
 *   cache line. After 32 times the expected number of draws (never, in
 *   practice) it picks the r-th element in bucket order instead, which is
 *   exact too and costs O(buckets).
 * - A chain longer than 65534 (not seen with a seeded 64-bit hash at load
 *   <= 1) saturates its length: the bound is then marked unknown and
 *   dict_random uses the exact walk until the next resize recounts.
 */
#include "dict.h"

#include "ktable.h"
#include "mem.h"
#include "rng.h"

#include <string.h>

#define PTR_MASK 0x0000ffffffffffffULL
#define LEN_SHIFT 48
#define LEN_MAX 0xffffu
#define GROUP 8
#define BOUND_UNKNOWN UINT32_MAX
#define RANDOM_TRIES_FACTOR 32

static inline dict_entry *head_of(uint64_t b) { return (dict_entry *)(uintptr_t)(b & PTR_MASK); }
static inline uint32_t len_of(uint64_t b) { return (uint32_t)(b >> LEN_SHIFT); }
static inline uint64_t bucket_word(const dict_entry *head, uint32_t len) {
    return (uint64_t)(uintptr_t)head | ((uint64_t)len << LEN_SHIFT);
}
static inline uint64_t nbuckets(const dict *d) { return d->buckets ? 1ULL << d->bits : 0; }
static inline uint64_t mask_of(const dict *d) { return nbuckets(d) - 1; }
static inline uint64_t group_width(uint64_t size) { return size < GROUP ? size : GROUP; }

dict *dict_new(void) { return mem_calloc(1, sizeof(dict)); }

void dict_free(dict *d) {
    if (!d) return;
    for (uint64_t i = 0; i < nbuckets(d); i++) {
        dict_entry *e = head_of(d->buckets[i]);
        while (e) {
            dict_entry *n = e->next;
            mem_free(e);
            e = n;
        }
    }
    mem_free(d->buckets);
    mem_free(d);
}

uint64_t dict_hash(const char *key, size_t len) { return key_hash(key, len); }

/* Link e in front of the chain of bucket word *b. */
static void push(dict *d, uint64_t *b, dict_entry *e) {
    uint32_t len = len_of(*b);
    e->next = head_of(*b);
    if (len < LEN_MAX)
        len++;
    else
        d->group_bound = BOUND_UNKNOWN;
    *b = bucket_word(e, len);
}

static uint32_t group_count(const dict *d, uint64_t g) {
    uint64_t w = group_width(nbuckets(d));
    const uint64_t *b = d->buckets + g * w;
    uint32_t n = 0;
    for (uint64_t i = 0; i < w; i++) n += len_of(b[i]);
    return n;
}

static void rehash(dict *d, unsigned bits) {
    uint64_t newsize = 1ULL << bits;
    uint64_t *nb = mem_calloc(newsize, sizeof(uint64_t));
    uint64_t nmask = newsize - 1;
    uint64_t *old = d->buckets;
    uint64_t oldsize = nbuckets(d);
    d->buckets = nb;
    d->bits = (uint8_t)bits;
    d->group_bound = 0;
    for (uint64_t i = 0; i < oldsize; i++) {
        dict_entry *e = head_of(old[i]);
        while (e) {
            dict_entry *n = e->next;
            push(d, &nb[dict_hash(e->data, e->klen) & nmask], e);
            e = n;
        }
    }
    mem_free(old);
    if (d->group_bound == BOUND_UNKNOWN) return;
    for (uint64_t g = 0; g < newsize / group_width(newsize); g++) {
        uint32_t n = group_count(d, g);
        if (n > d->group_bound) d->group_bound = n;
    }
}

dict_entry *dict_find(const dict *d, const char *key, size_t klen) {
    if (!d->buckets) return NULL;
    for (dict_entry *e = head_of(d->buckets[dict_hash(key, klen) & mask_of(d)]); e; e = e->next)
        if (e->klen == klen && memcmp(e->data, key, klen) == 0) return e;
    return NULL;
}

static dict_entry *new_entry(const char *key, size_t klen, const char *val, size_t vlen) {
    dict_entry *e = mem_alloc(sizeof(dict_entry) + klen + vlen);
    e->next = NULL;
    e->klen = (uint32_t)klen;
    e->vlen = (uint32_t)vlen;
    e->u.i = 0;
    memcpy(e->data, key, klen);
    if (vlen) memcpy(e->data + klen, val, vlen);
    return e;
}

dict_entry *dict_add(dict *d, const char *key, size_t klen, const char *val, size_t vlen) {
    if (!d->buckets)
        rehash(d, 2);
    else if (d->count + 1 > nbuckets(d))
        rehash(d, d->bits + 1u);
    dict_entry *e = new_entry(key, klen, val, vlen);
    uint64_t h = dict_hash(key, klen) & mask_of(d);
    push(d, &d->buckets[h], e);
    d->count++;
    if (d->group_bound != BOUND_UNKNOWN) {
        uint32_t n = group_count(d, h / group_width(nbuckets(d)));
        if (n > d->group_bound) d->group_bound = n;
    }
    return e;
}

bool dict_set(dict *d, const char *key, size_t klen, const char *val, size_t vlen) {
    if (d->buckets) {
        uint64_t *b = &d->buckets[dict_hash(key, klen) & mask_of(d)];
        dict_entry *prev = NULL;
        for (dict_entry *e = head_of(*b); e; prev = e, e = e->next) {
            if (e->klen != klen || memcmp(e->data, key, klen) != 0) continue;
            if (e->vlen == vlen) {
                if (vlen) memcpy(e->data + klen, val, vlen);
                return false;
            }
            dict_entry *n = new_entry(key, klen, val, vlen);
            n->u = e->u;
            n->next = e->next;
            if (prev)
                prev->next = n;
            else
                *b = bucket_word(n, len_of(*b));
            mem_free(e);
            return false;
        }
    }
    dict_add(d, key, klen, val, vlen);
    return true;
}

bool dict_delete(dict *d, const char *key, size_t klen) {
    if (!d->buckets) return false;
    uint64_t *b = &d->buckets[dict_hash(key, klen) & mask_of(d)];
    dict_entry *prev = NULL;
    for (dict_entry *e = head_of(*b); e; prev = e, e = e->next) {
        if (e->klen != klen || memcmp(e->data, key, klen) != 0) continue;
        dict_entry *first = prev ? head_of(*b) : e->next;
        if (prev) prev->next = e->next;
        uint32_t len = len_of(*b); /* >= 1: e was in the chain (unless saturated) */
        *b = bucket_word(first, !first ? 0 : len > 1 ? len - 1 : 1);
        mem_free(e);
        d->count--;
        if (d->count == 0) {
            mem_free(d->buckets);
            d->buckets = NULL;
            d->bits = 0;
            d->group_bound = 0;
        } else if (nbuckets(d) > 64 && d->count < nbuckets(d) / 8) {
            rehash(d, d->bits - 1u);
        }
        return true;
    }
    return false;
}

/* The element at index r (< count) in bucket order: exact, O(buckets). */
static dict_entry *element_at(const dict *d, uint64_t r) {
    if (d->group_bound != BOUND_UNKNOWN) {
        for (uint64_t i = 0;; i++) { /* ends: the lengths add up to count */
            uint32_t len = len_of(d->buckets[i]);
            if (r >= len) {
                r -= len;
                continue;
            }
            dict_entry *e = head_of(d->buckets[i]);
            while (r--) e = e->next;
            return e;
        }
    }
    dict_iter it;
    dict_iter_init(&it);
    dict_entry *e = dict_iter_next(d, &it);
    while (r--) e = dict_iter_next(d, &it);
    return e;
}

dict_entry *dict_random(const dict *d, uint64_t seed) {
    if (!d->count) return NULL;
    uint64_t st = seed;
    if (d->group_bound != BOUND_UNKNOWN) {
        uint64_t w = group_width(nbuckets(d)), groups = nbuckets(d) / w;
        /* Expected draws: groups * group_bound / count. */
        __uint128_t expect = ((__uint128_t)groups * d->group_bound + d->count - 1) / d->count;
        uint64_t tries = expect > (1u << 20) ? (RANDOM_TRIES_FACTOR << 20) : (uint64_t)expect * RANDOM_TRIES_FACTOR;
        for (uint64_t t = 0; t < tries; t++) {
            const uint64_t *b = d->buckets + rng_below(rng_next(&st), groups) * w;
            uint64_t j = rng_below(rng_next(&st), d->group_bound);
            for (uint64_t i = 0; i < w; i++) {
                uint32_t len = len_of(b[i]);
                if (j >= len) {
                    j -= len;
                    continue;
                }
                dict_entry *e = head_of(b[i]);
                while (j--) e = e->next;
                return e;
            }
        }
    }
    return element_at(d, rng_below(rng_next(&st), d->count));
}

void dict_iter_init(dict_iter *it) {
    it->bucket = 0;
    it->next = NULL;
}

dict_entry *dict_iter_next(const dict *d, dict_iter *it) {
    if (!d->buckets) return NULL;
    if (it->next) {
        dict_entry *e = it->next;
        it->next = e->next;
        return e;
    }
    while (it->bucket < nbuckets(d)) {
        dict_entry *e = head_of(d->buckets[it->bucket++]);
        if (e) {
            it->next = e->next;
            return e;
        }
    }
    return NULL;
}

static uint64_t rev64(uint64_t v) {
    v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
    v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
    v = ((v >> 4) & 0x0f0f0f0f0f0f0f0fULL) | ((v & 0x0f0f0f0f0f0f0f0fULL) << 4);
    v = ((v >> 8) & 0x00ff00ff00ff00ffULL) | ((v & 0x00ff00ff00ff00ffULL) << 8);
    v = ((v >> 16) & 0x0000ffff0000ffffULL) | ((v & 0x0000ffff0000ffffULL) << 16);
    return (v >> 32) | (v << 32);
}

uint64_t dict_scan(const dict *d, uint64_t v, dict_scan_fn *fn, void *arg) {
    if (!d->buckets) return 0;
    uint64_t m = mask_of(d);
    for (dict_entry *e = head_of(d->buckets[v & m]); e; e = e->next) fn(e, arg);
    /* Redis's reverse-binary increment over the masked bits. */
    v |= ~m;
    v = rev64(v);
    v++;
    v = rev64(v);
    return v;
}

size_t dict_mem(const dict *d) {
    size_t n = mem_usable(d) + mem_usable(d->buckets);
    for (uint64_t i = 0; i < nbuckets(d); i++)
        for (dict_entry *e = head_of(d->buckets[i]); e; e = e->next) n += mem_usable(e);
    return n;
}
