/*
 * dict.h - a general string-keyed hash table for the data types' large
 * encodings (hash fields, set members, sorted-set members).
 *
 * Chaining over a power-of-two bucket array; each element is one allocation
 * holding the link, the key bytes, optional inline value bytes (hash values)
 * and an 8-byte payload (a sorted set's score or a pointer). Tables double at
 * load 1 and halve below 1/8 (resizing all at once: a table of N elements
 * costs O(N) on that one operation). Scanning uses Redis's reverse-binary
 * cursor, so HSCAN/SSCAN/ZSCAN return every element present for the whole
 * scan at least once, across resizes.
 * Each bucket word carries its chain's length beside the head pointer, and
 * the table keeps an upper bound of the elements in any group of 8
 * neighbouring buckets: dict_random draws every element with the same
 * probability by rejection over (group, position) pairs (see dict.c).
 * Not thread-safe: the owning key's slot lock protects it.
 */
#ifndef DICT_H
#define DICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dict_entry {
    struct dict_entry *next;
    uint32_t klen;
    uint32_t vlen;               /* inline value bytes after the key (0 if none) */
    union {
        double score;
        void *ptr;
        int64_t i;
    } u;
    char data[];                 /* key bytes, then value bytes */
} dict_entry;

typedef struct {
    uint64_t *buckets;           /* chain head | chain length << 48 (dict.c) */
    uint64_t count;
    uint32_t group_bound;        /* >= elements in any group of buckets */
    uint8_t bits;                /* log2 of the bucket count (buckets != NULL) */
} dict;

static inline const char *dict_key(const dict_entry *e) { return e->data; }
/* The length of a key, given the key bytes of an element (dict_key(e)):
 * how a sorted set's skiplist finds its members' lengths. */
static inline size_t dict_key_len(const char *key) {
    return ((const dict_entry *)(const void *)(key - offsetof(dict_entry, data)))->klen;
}
static inline const char *dict_val(const dict_entry *e) { return e->data + e->klen; }

dict *dict_new(void);
void dict_free(dict *d);
uint64_t dict_hash(const char *key, size_t len);
static inline uint64_t dict_size(const dict *d) { return d->count; }

dict_entry *dict_find(const dict *d, const char *key, size_t klen);
/* Add a key known to be absent, with inline value bytes (val may be NULL
 * with vlen 0). Returns the new element. */
dict_entry *dict_add(dict *d, const char *key, size_t klen, const char *val, size_t vlen);
/* Set the inline value of key (adding the key if absent). Returns true if the
 * key was added, false if it existed and its value was replaced. */
bool dict_set(dict *d, const char *key, size_t klen, const char *val, size_t vlen);
/* Remove a key; returns true if it existed. */
bool dict_delete(dict *d, const char *key, size_t klen);
/* A random element, every element with the same probability, or NULL when
 * empty. seed: a random number from the caller, expanded into as many draws
 * as needed. Cost: expected (max group size / mean group size) reads of 8
 * bucket words (about 2 to 4) plus a walk along one chain; at most
 * 32 times that, then an exact pick by index in O(buckets). */
dict_entry *dict_random(const dict *d, uint64_t seed);

/* Iteration without modification: call with *pos = 0 and e = NULL; returns
 * the next element or NULL at the end. */
typedef struct {
    uint64_t bucket;
    dict_entry *next;
} dict_iter;
void dict_iter_init(dict_iter *it);
dict_entry *dict_iter_next(const dict *d, dict_iter *it);

/* One step of a SCAN: visits every element of one bucket (of the cursor)
 * and returns the next cursor (0 when done). */
typedef void dict_scan_fn(const dict_entry *e, void *arg);
uint64_t dict_scan(const dict *d, uint64_t cursor, dict_scan_fn *fn, void *arg);

/* Bytes used by the table and its elements. */
size_t dict_mem(const dict *d);

#endif
