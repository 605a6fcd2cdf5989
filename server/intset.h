/*
 * intset.h - a sorted array of distinct 64-bit integers stored at the
 * narrowest width (2, 4 or 8 bytes) that holds all of them: the small
 * encoding of sets whose members are all integers (OBJECT ENCODING
 * "intset", as in Redis 7.0).
 *
 * One allocation: an 8-byte header then len * width bytes. Adding a value
 * that needs a wider width rewrites every element at the new width (an
 * upgrade); widths never shrink. Functions that change the size may move
 * the block, so they return the (possibly new) pointer. Lookups are binary
 * searches; additions and removals move the tail (O(n)).
 * Not thread-safe: the owning key's slot lock protects it.
 */
#ifndef INTSET_H
#define INTSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct intset {
    uint32_t width;  /* bytes per element: 2, 4 or 8 */
    uint32_t len;    /* number of elements */
    unsigned char data[];
} intset;

intset *intset_new(void);
/* Empty, with elements `width` bytes wide (2, 4 or 8): for rebuilding a
 * stored intset at the width it was stored with. */
intset *intset_new_width(uint32_t width);
void intset_free(intset *is);
intset *intset_dup(const intset *is);

static inline uint32_t intset_len(const intset *is) { return is->len; }
/* Header plus elements (the bytes a serialised copy would take). */
static inline size_t intset_blob_len(const intset *is) { return sizeof(intset) + (size_t)is->len * is->width; }

/* Element i (0 <= i < len), in ascending order. */
int64_t intset_get(const intset *is, uint32_t i);
bool intset_contains(const intset *is, int64_t v);
/* Insert v; *added tells whether it was absent. Returns the set. */
intset *intset_add(intset *is, int64_t v, bool *added);
/* Remove v; *removed tells whether it was present. Returns the set. */
intset *intset_remove(intset *is, int64_t v, bool *removed);
/* A random element (rnd: a random number from the caller); is must not be
 * empty. */
int64_t intset_random(const intset *is, uint64_t rnd);
/* Bytes used by the allocation. */
size_t intset_mem(const intset *is);
/* Structural check (for tests): a valid width and strictly ascending
 * elements. */
bool intset_check(const intset *is);

#endif
