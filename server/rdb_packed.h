/*
 * rdb_packed.h - Redis's packed blob formats as they appear inside RDB
 * values (rdb_codec.c): listpack (read and write), intset (read and write),
 * ziplist and zipmap (read only: Redis < 7.0 wrote them, a 7.0 file or
 * payload may still hold them).
 *
 * These are Redis's byte formats, not slotcache's in-memory ones: slotcache's
 * listpack (listpack.h) is its own layout, and its intset (intset.h) is only
 * similar. Nothing here is kept in memory after loading: a blob is validated
 * as a whole (as Redis's deep sanitization does: header, every entry's
 * bounds and encoding, the element count, the terminator), then its
 * elements are handed out one by one to build slotcache's own structures.
 */
#ifndef RDB_PACKED_H
#define RDB_PACKED_H

#include "intset.h"
#include "serial.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rpk_kind { RPK_LISTPACK = 1, RPK_ZIPLIST, RPK_ZIPMAP, RPK_INTSET };

/* One decoded element. Integers are also given as their decimal text, in
 * buf, so `p` may point into the element itself: do not copy an rpk_elem
 * by value. Otherwise `p` points into the blob. */
typedef struct {
    const char *p;
    size_t len;
    bool is_int;
    long long v;
    char buf[24];
} rpk_elem;

/* Iterator over a validated blob. Zipmaps give field, value, field,
 * value...; `count` is the number of elements rpk_next will give. */
typedef struct {
    int kind;
    const unsigned char *blob, *p, *end;
    size_t count, i;
    uint32_t width;  /* intset: bytes per element */
} rpk_iter;

/* Validate the whole blob and position the iterator before its first
 * element. On a malformed blob returns false with a reason in err. */
bool rpk_open(rpk_iter *it, int kind, const unsigned char *blob, size_t size, char *err, size_t errlen);
/* The next element; false after the last one. */
bool rpk_next(rpk_iter *it, rpk_elem *e);

/* A Redis listpack under construction, in the form Redis's lpAppend builds:
 * a string that is a canonical int64 (Redis's string2ll rules) is stored
 * as an integer. Reusable: rpk_lp_start empties it. */
typedef struct {
    serial_buf buf;
    size_t count;
} rpk_lp;

void rpk_lp_init(rpk_lp *lp);
void rpk_lp_free(rpk_lp *lp);
void rpk_lp_start(rpk_lp *lp);
void rpk_lp_add(rpk_lp *lp, const char *p, size_t len);
void rpk_lp_add_int(rpk_lp *lp, long long v);
/* Bytes rpk_lp_add(p, len) would add. */
size_t rpk_lp_entry_bytes(const char *p, size_t len);
/* Total bytes so far, as Redis's lpBytes would report them (header and
 * terminator included). */
static inline size_t rpk_lp_bytes(const rpk_lp *lp) { return lp->buf.len + 1; }
/* Terminate and fill the header; the blob is lp->buf.buf[0..*size). */
const unsigned char *rpk_lp_finish(rpk_lp *lp, size_t *size);

/* Redis's intset blob of `is`, appended to out: u32 encoding (2, 4, 8),
 * u32 length, the elements, all little endian. */
void rpk_intset_blob(serial_buf *out, const intset *is);

#endif
