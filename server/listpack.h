/*
 * listpack.h - a packed sequence of byte-string elements in one allocation:
 * the compact encoding of small hashes (field, value, field, value...),
 * small sorted sets (member, score-as-text...) and list nodes, as Redis's
 * listpack. OBJECT ENCODING reports "listpack" for the types using it.
 *
 * Layout: 8-byte header (total bytes, element count), then per element a
 * LEB128 length and the bytes. Elements are addressed by byte offset
 * (offsets stay valid until the next modification); functions that modify
 * may move the block and return its new address.
 * Not thread-safe: the owning key's slot lock protects it.
 */
#ifndef LISTPACK_H
#define LISTPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct listpack listpack;

#define LP_HEADER 8

listpack *lp_new(void);
void lp_free(listpack *l);
listpack *lp_dup(const listpack *l);
uint32_t lp_count(const listpack *l);
size_t lp_bytes(const listpack *l);  /* allocation payload size */

/* Offsets: lp_first() is the first element (== lp_end() when empty);
 * lp_get() reads the element at off and returns the next element's
 * offset; lp_end() is the offset past the last element. */
static inline size_t lp_first(const listpack *l) { (void)l; return LP_HEADER; }
size_t lp_end(const listpack *l);
size_t lp_get(const listpack *l, size_t off, const char **p, size_t *len);
/* Offset of element number index (negative counts from the end: -1 last);
 * lp_end() when out of range. O(n). */
size_t lp_seek(const listpack *l, long index);

/* Insert before the element at off (off == lp_end(): append). */
listpack *lp_insert(listpack *l, size_t off, const char *p, size_t len);
listpack *lp_append(listpack *l, const char *p, size_t len);
/* Append n elements with one reallocation. */
listpack *lp_append_many(listpack *l, const char *const *p, const size_t *len, size_t n);
/* Replace the element at off. */
listpack *lp_replace(listpack *l, size_t off, const char *p, size_t len);
/* Delete n elements starting at off (fewer if the end comes first). */
listpack *lp_delete(listpack *l, size_t off, uint32_t n);

/* First element equal to (p, len) at or after `from`, looking only at every
 * (skip+1)-th element (skip 1 searches the fields of field/value pairs);
 * returns its offset or lp_end(). */
size_t lp_find(const listpack *l, size_t from, const char *p, size_t len, unsigned skip);

#endif
