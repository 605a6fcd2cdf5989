/*
 * listpack.c - packed element sequences (see listpack.h).
 */
#include "listpack.h"

#include "mem.h"

#include <string.h>

struct listpack {
    uint32_t bytes;  /* total used bytes including the header */
    uint32_t count;
    unsigned char data[];
};

static size_t varint_len(size_t v) {
    size_t n = 1;
    while (v >= 128) {
        v >>= 7;
        n++;
    }
    return n;
}

static unsigned char *varint_put(unsigned char *p, size_t v) {
    while (v >= 128) {
        *p++ = (unsigned char)(v | 128);
        v >>= 7;
    }
    *p++ = (unsigned char)v;
    return p;
}

static const unsigned char *varint_get(const unsigned char *p, size_t *v) {
    size_t r = 0;
    unsigned shift = 0;
    while (*p & 128) {
        r |= (size_t)(*p++ & 127) << shift;
        shift += 7;
    }
    r |= (size_t)*p++ << shift;
    *v = r;
    return p;
}

static unsigned char *base(const listpack *l) { return (unsigned char *)l; }

listpack *lp_new(void) {
    listpack *l = mem_alloc(LP_HEADER);
    l->bytes = LP_HEADER;
    l->count = 0;
    return l;
}

void lp_free(listpack *l) { mem_free(l); }

listpack *lp_dup(const listpack *l) {
    listpack *n = mem_alloc(l->bytes);
    memcpy(n, l, l->bytes);
    return n;
}

uint32_t lp_count(const listpack *l) { return l->count; }
size_t lp_bytes(const listpack *l) { return l->bytes; }
size_t lp_end(const listpack *l) { return l->bytes; }

size_t lp_get(const listpack *l, size_t off, const char **p, size_t *len) {
    const unsigned char *q = varint_get(base(l) + off, len);
    *p = (const char *)q;
    return (size_t)(q - base(l)) + *len;
}

static size_t elem_end(const listpack *l, size_t off) {
    const char *p;
    size_t len;
    return lp_get(l, off, &p, &len);
}

size_t lp_seek(const listpack *l, long index) {
    if (index < 0) index += (long)l->count;
    if (index < 0 || index >= (long)l->count) return lp_end(l);
    size_t off = LP_HEADER;
    for (long i = 0; i < index; i++) off = elem_end(l, off);
    return off;
}

static listpack *resize(listpack *l, size_t bytes) {
    if (bytes > UINT32_MAX) return l; /* callers keep listpacks small */
    return mem_realloc(l, bytes);
}

listpack *lp_insert(listpack *l, size_t off, const char *p, size_t len) {
    size_t add = varint_len(len) + len;
    size_t old = l->bytes;
    l = resize(l, old + add);
    unsigned char *b = base(l);
    memmove(b + off + add, b + off, old - off);
    unsigned char *q = varint_put(b + off, len);
    if (len) memcpy(q, p, len);
    l->bytes = (uint32_t)(old + add);
    l->count++;
    return l;
}

listpack *lp_append(listpack *l, const char *p, size_t len) { return lp_insert(l, lp_end(l), p, len); }

listpack *lp_append_many(listpack *l, const char *const *p, const size_t *len, size_t n) {
    size_t add = 0;
    for (size_t i = 0; i < n; i++) add += varint_len(len[i]) + len[i];
    size_t old = l->bytes;
    l = resize(l, old + add);
    unsigned char *q = base(l) + old;
    for (size_t i = 0; i < n; i++) {
        q = varint_put(q, len[i]);
        if (len[i]) memcpy(q, p[i], len[i]);
        q += len[i];
    }
    l->bytes = (uint32_t)(old + add);
    l->count += (uint32_t)n;
    return l;
}

listpack *lp_delete(listpack *l, size_t off, uint32_t n) {
    size_t end = off;
    uint32_t removed = 0;
    while (removed < n && end < l->bytes) {
        end = elem_end(l, end);
        removed++;
    }
    unsigned char *b = base(l);
    memmove(b + off, b + end, l->bytes - end);
    l->bytes -= (uint32_t)(end - off);
    l->count -= removed;
    return resize(l, l->bytes);
}

listpack *lp_replace(listpack *l, size_t off, const char *p, size_t len) {
    size_t end = elem_end(l, off);
    size_t oldsz = end - off, newsz = varint_len(len) + len;
    if (newsz == oldsz) { /* in place: nothing moves */
        unsigned char *q = varint_put(base(l) + off, len);
        if (len) memcpy(q, p, len);
        return l;
    }
    size_t total = l->bytes;
    if (newsz > oldsz) l = resize(l, total + newsz - oldsz);
    unsigned char *b = base(l);
    memmove(b + off + newsz, b + end, total - end);
    unsigned char *q = varint_put(b + off, len);
    if (len) memcpy(q, p, len);
    l->bytes = (uint32_t)(total + newsz - oldsz);
    if (newsz < oldsz) l = resize(l, l->bytes);
    return l;
}

size_t lp_find(const listpack *l, size_t from, const char *p, size_t len, unsigned skip) {
    size_t off = from;
    while (off < l->bytes) {
        const char *e;
        size_t elen;
        size_t next = lp_get(l, off, &e, &elen);
        if (elen == len && memcmp(e, p, len) == 0) return off;
        off = next;
        for (unsigned k = 0; k < skip && off < l->bytes; k++) off = elem_end(l, off);
    }
    return lp_end(l);
}
