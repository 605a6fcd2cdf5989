/*
 * ktable.c - per-(db, slot) open-addressing hash table (see ktable.h).
 *
 * Invariant of linear probing: an entry sits at a bucket reachable from its
 * home bucket without crossing an empty bucket. Deletion restores it by
 * shifting back the entries that follow (Knuth's algorithm R).
 */
#include "ktable.h"

#include "mem.h"
#include "rng.h"

#include <string.h>

#define PTR_MASK 0x0000ffffffffffffULL
#define MAX_LOAD_NUM 92
#define MAX_LOAD_DEN 100
/* Occupied buckets an insert may walk past before the table doubles, when
 * that is also over an eighth of the table's keys: at the highest load
 * (92%) a random insert walks about 78 on average, and tables of 250k
 * buckets and more have runs over 1024 now and then; hash-ordered inserts
 * build a run that grows with the count. */
#define KTABLE_LONG_RUN 1024
#define RANDOM_TRIES 16

/* log2 of ktable_count_bound(false) and (true): every table's count (or
 * expires) is below 1 << bound_bits[i]. */
static _Atomic uint8_t bound_bits[2];

/* Smallest b with n < 1 << b. */
static inline unsigned bits_above(uint32_t n) { return n ? 32u - (unsigned)__builtin_clz(n) : 0; }

uint64_t ktable_count_bound(bool expires) {
    return 1ULL << atomic_load_explicit(&bound_bits[expires], memory_order_relaxed);
}

void ktable_count_bound_note(bool expires, uint32_t n) {
    uint8_t want = (uint8_t)bits_above(n);
    uint8_t cur = atomic_load_explicit(&bound_bits[expires], memory_order_relaxed);
    while (cur < want && !atomic_compare_exchange_weak_explicit(&bound_bits[expires], &cur, want, memory_order_relaxed,
                                                                memory_order_relaxed)) {
    }
}

void ktable_count_bound_reset(bool expires, uint32_t n) {
    atomic_store_explicit(&bound_bits[expires], (uint8_t)bits_above(n), memory_order_relaxed);
}

static uint64_t hash_seed = 0x9e3779b97f4a7c15ULL;

void key_hash_seed(uint64_t seed) { hash_seed = seed | 1; }

static inline uint64_t mix(uint64_t a, uint64_t b) {
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

uint64_t key_hash(const char *key, size_t len) {
    const uint8_t *p = (const uint8_t *)key;
    uint64_t h = hash_seed ^ (len * 0xa0761d6478bd642fULL);
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = mix(h ^ w, 0xe7037ed1a0b428dbULL);
        p += 8;
        len -= 8;
    }
    uint64_t w = 0;
    for (size_t i = 0; i < len; i++) w |= (uint64_t)p[i] << (8 * i);
    h = mix(h ^ w, 0x8ebc6af09c88c6e3ULL);
    return mix(h, 0x589965cc75374cc3ULL);
}

static inline uint64_t hashpos(uint64_t hash) { return hash >> 32; }
static inline uint64_t fingerprint(uint64_t hash) { return (hash & 0xffff) << 48; }
static inline uint32_t home_of(const ktable *t, uint64_t hash) {
    return (uint32_t)((hashpos(hash) * t->size) >> 32);
}
static inline uint64_t entry_hash(const entry *e) {
    size_t len;
    const char *k = entry_key(e, &len);
    return key_hash(k, len);
}

void ktable_init(ktable *t) {
    t->buckets = NULL;
    t->size = 0;
    atomic_store_explicit(&t->count, 0, memory_order_relaxed);
    atomic_store_explicit(&t->expires, 0, memory_order_relaxed);
}

void ktable_clear(ktable *t) {
    for (uint32_t i = 0; i < t->size; i++)
        if (t->buckets[i]) entry_free((entry *)(uintptr_t)(t->buckets[i] & PTR_MASK));
    mem_free(t->buckets);
    ktable_init(t);
}

void ktable_move(ktable *dst, ktable *src) {
    dst->buckets = src->buckets;
    dst->size = src->size;
    atomic_store_explicit(&dst->count, ktable_count(src), memory_order_relaxed);
    atomic_store_explicit(&dst->expires, ktable_expires(src), memory_order_relaxed);
    ktable_init(src);
}

/* Bucket counts are 3, 7 or 16k-1, so that a bucket array plus the
 * allocator's 8-byte chunk header is a multiple of 32/64/128 bytes: a freed
 * array then splits exactly into 128-byte entry chunks instead of leaving
 * fragments (measured: -1.5 bytes/key of RSS at 1M keys). */
static uint32_t round_size(uint64_t want) {
    if (want <= 3) return 3;
    if (want <= 7) return 7;
    uint64_t r = ((want + 1 + 15) & ~(uint64_t)15) - 1;
    return r > 0xffffffffULL ? 0xffffffffU : (uint32_t)r;
}

/* Put tagged in the first free bucket from its home; returns how many
 * occupied buckets it walked past. */
static uint32_t place(uint64_t *buckets, uint32_t size, uint64_t tagged, uint64_t hash) {
    uint32_t i = (uint32_t)((hashpos(hash) * size) >> 32), walked = 0;
    while (buckets[i]) {
        i = (i + 1 == size) ? 0 : i + 1;
        walked++;
    }
    buckets[i] = tagged;
    return walked;
}

static void resize(ktable *t, uint32_t newsize) {
    uint64_t *nb = mem_calloc(newsize, sizeof(uint64_t));
    for (uint32_t i = 0; i < t->size; i++) {
        uint64_t b = t->buckets[i];
        if (!b) continue;
        place(nb, newsize, b, entry_hash((entry *)(uintptr_t)(b & PTR_MASK)));
    }
    mem_free(t->buckets);
    t->buckets = nb;
    t->size = newsize;
}

long ktable_find(const ktable *t, const char *key, size_t len, uint64_t hash) {
    if (t->count == 0) return -1;
    uint64_t fp = fingerprint(hash);
    uint32_t i = home_of(t, hash);
    for (uint32_t n = 0; n < t->size; n++) {
        uint64_t b = t->buckets[i];
        if (!b) return -1;
        if ((b & ~PTR_MASK) == fp) {
            size_t klen;
            const char *k = entry_key((entry *)(uintptr_t)(b & PTR_MASK), &klen);
            if (klen == len && memcmp(k, key, len) == 0) return i;
        }
        i = (i + 1 == t->size) ? 0 : i + 1;
    }
    return -1;
}

void ktable_replace_at(ktable *t, long pos, entry *e) {
    t->buckets[pos] = (t->buckets[pos] & ~PTR_MASK) | (uint64_t)(uintptr_t)e;
}

void ktable_insert(ktable *t, entry *e, uint64_t hash) {
    uint32_t count = ktable_count(t);
    if ((uint64_t)(count + 1) * MAX_LOAD_DEN > (uint64_t)t->size * MAX_LOAD_NUM) {
        resize(t, round_size((uint64_t)t->size + t->size / 4 + 1));
    }
    uint32_t walked = place(t->buckets, t->size, fingerprint(hash) | (uint64_t)(uintptr_t)e, hash);
    /* Keys arriving in hash order (a slot imported from a source that walks
     * its table in hash order, an RDB written by one) all sit in the low
     * part of the hash space while the table is sized for the count so far:
     * they pile into one run that every insert walks (quadratic). A run far
     * longer than any load gives at random (and a good part of the count)
     * doubles the table, until it is sized for the range the keys fill. */
    if (walked > KTABLE_LONG_RUN && walked > count / 8) resize(t, round_size((uint64_t)t->size * 2));
    atomic_store_explicit(&t->count, count + 1, memory_order_relaxed);
    if ((count & (count + 1)) == 0) ktable_count_bound_note(false, count + 1); /* a new power of two */
    if (entry_has_expire(e)) ktable_add_expires(t, 1);
}

void ktable_remove_at(ktable *t, long pos) {
    uint32_t i = (uint32_t)pos;
    if (entry_has_expire(ktable_at(t, pos))) ktable_add_expires(t, -1);
    t->buckets[i] = 0;
    uint32_t j = i;
    for (;;) {
        j = (j + 1 == t->size) ? 0 : j + 1;
        uint64_t b = t->buckets[j];
        if (!b) break;
        uint32_t k = home_of(t, entry_hash((entry *)(uintptr_t)(b & PTR_MASK)));
        /* Move b back to i unless its home lies cyclically in (i, j]. */
        bool stays = (i <= j) ? (i < k && k <= j) : (i < k || k <= j);
        if (stays) continue;
        t->buckets[i] = b;
        t->buckets[j] = 0;
        i = j;
    }
    uint32_t count = ktable_count(t) - 1;
    atomic_store_explicit(&t->count, count, memory_order_relaxed);
    /* A table shrinks only by emptying. Shrinking a partly emptied table is
     * unsafe with hash-ordered homes: after deletions in hash order (SCAN +
     * DEL, keys expiring together) the survivors share a narrow hash range,
     * and re-placing them in a smaller table piles them into one long run
     * that makes every later delete walk it (quadratic). */
    if (count == 0) {
        mem_free(t->buckets);
        t->buckets = NULL;
        t->size = 0;
    }
}

void ktable_add_expires(ktable *t, int delta) {
    uint32_t v = ktable_expires(t), nv = v + (uint32_t)delta;
    atomic_store_explicit(&t->expires, nv, memory_order_relaxed);
    if (delta > 0 && bits_above(nv) > bits_above(v)) ktable_count_bound_note(true, nv);
}

uint64_t ktable_hashpos_of_bucket(const ktable *t, uint64_t b) {
    if (t->size == 0) return 1ULL << 32;
    if (b >= t->size) return 1ULL << 32;
    /* smallest h with (h * size) >> 32 >= b  ->  ceil(b * 2^32 / size) */
    return ((b << 32) + t->size - 1) / t->size;
}

size_t ktable_scan_range(const ktable *t, uint64_t from, uint64_t to, ktable_visit_fn *fn, void *arg) {
    if (t->size == 0 || from >= to) return 0;
    uint64_t start = (from * t->size) >> 32;
    uint64_t last_home = ((to - 1) * t->size) >> 32;
    size_t visited = 0;
    for (uint64_t j = start; j < start + t->size; j++) {
        uint32_t i = (uint32_t)(j % t->size);
        uint64_t b = t->buckets[i];
        if (!b) {
            if (j >= last_home) break;
            continue;
        }
        entry *e = (entry *)(uintptr_t)(b & PTR_MASK);
        uint64_t hp = hashpos(entry_hash(e));
        if (hp >= from && hp < to) {
            fn(e, arg);
            visited++;
        }
    }
    return visited;
}

entry *ktable_random(const ktable *t, uint64_t seed, bool with_expire) {
    uint32_t n = with_expire ? ktable_expires(t) : ktable_count(t);
    if (t->size == 0 || n == 0) return NULL;
    uint64_t st = seed;
    for (int i = 0; i < RANDOM_TRIES; i++) {
        uint64_t b = t->buckets[rng_below(rng_next(&st), t->size)];
        entry *e = (entry *)(uintptr_t)(b & PTR_MASK);
        if (b && (!with_expire || entry_has_expire(e))) return e;
    }
    uint64_t r = rng_below(rng_next(&st), n);
    for (uint32_t i = 0; i < t->size; i++) {
        uint64_t b = t->buckets[i];
        entry *e = (entry *)(uintptr_t)(b & PTR_MASK);
        if (b && (!with_expire || entry_has_expire(e)) && r-- == 0) return e;
    }
    return NULL; /* not reached: the counters match the table under its lock */
}

int ktable_sample(const ktable *t, uint64_t rnd, bool with_expire, entry **out, int max) {
    if (t->size == 0 || max <= 0) return 0;
    if (with_expire ? ktable_expires(t) == 0 : ktable_count(t) == 0) return 0;
    uint32_t i = (uint32_t)(rnd % t->size);
    int n = 0;
    for (uint32_t seen = 0; seen < t->size && n < max; seen++) {
        uint64_t b = t->buckets[i];
        if (b) {
            entry *e = (entry *)(uintptr_t)(b & PTR_MASK);
            if (!with_expire || entry_has_expire(e)) out[n++] = e;
        }
        i = (i + 1 == t->size) ? 0 : i + 1;
    }
    return n;
}

void ktable_prefetch_bucket(const ktable *t, uint64_t hash) {
    if (t->size) __builtin_prefetch(&t->buckets[home_of(t, hash)]);
}

void ktable_prefetch_entry(const ktable *t, uint64_t hash) {
    if (!t->size) return;
    uint64_t b = t->buckets[home_of(t, hash)];
    if (!b || (b & ~PTR_MASK) != fingerprint(hash)) return;
    const char *e = (const char *)(uintptr_t)(b & PTR_MASK);
    __builtin_prefetch(e);
    __builtin_prefetch(e + 64); /* a key and a short value span two lines */
}

size_t ktable_mem(const ktable *t) { return mem_usable(t->buckets); }
