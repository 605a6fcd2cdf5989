/*
 * intset.c - sorted integer arrays with width upgrades (see intset.h).
 *
 * Elements are read and written with memcpy at the set's width, so the
 * array needs no alignment. An upgrade happens only when the new value is
 * out of range for the current width, which means it is smaller or larger
 * than every element: it goes to the front or the back without a search.
 */
#include "intset.h"

#include "mem.h"

#include <string.h>

static uint32_t width_for(int64_t v) {
    if (v >= INT16_MIN && v <= INT16_MAX) return 2;
    if (v >= INT32_MIN && v <= INT32_MAX) return 4;
    return 8;
}

static int64_t get_w(const unsigned char *data, uint32_t width, uint32_t i) {
    const unsigned char *p = data + (size_t)i * width;
    if (width == 2) {
        int16_t v;
        memcpy(&v, p, 2);
        return v;
    }
    if (width == 4) {
        int32_t v;
        memcpy(&v, p, 4);
        return v;
    }
    int64_t v;
    memcpy(&v, p, 8);
    return v;
}

static void set_w(unsigned char *data, uint32_t width, uint32_t i, int64_t v) {
    unsigned char *p = data + (size_t)i * width;
    if (width == 2) {
        int16_t x = (int16_t)v;
        memcpy(p, &x, 2);
    } else if (width == 4) {
        int32_t x = (int32_t)v;
        memcpy(p, &x, 4);
    } else {
        memcpy(p, &v, 8);
    }
}

static intset *resize(intset *is, uint32_t len, uint32_t width) {
    return mem_realloc(is, sizeof(intset) + (size_t)len * width);
}

intset *intset_new(void) {
    intset *is = mem_alloc(sizeof(intset));
    is->width = 2;
    is->len = 0;
    return is;
}

intset *intset_new_width(uint32_t width) {
    intset *is = intset_new();
    is->width = width == 4 || width == 8 ? width : 2;
    return is;
}

void intset_free(intset *is) { mem_free(is); }

intset *intset_dup(const intset *is) {
    intset *n = mem_alloc(intset_blob_len(is));
    memcpy(n, is, intset_blob_len(is));
    return n;
}

int64_t intset_get(const intset *is, uint32_t i) { return get_w(is->data, is->width, i); }

/* Binary search: true if found (at *pos), else *pos is where v would go. */
static bool search(const intset *is, int64_t v, uint32_t *pos) {
    uint32_t lo = 0, hi = is->len;
    if (is->len) {
        /* Fast paths for appends and prepends (sorted input). */
        if (v > intset_get(is, is->len - 1)) {
            *pos = is->len;
            return false;
        }
        if (v < intset_get(is, 0)) {
            *pos = 0;
            return false;
        }
    }
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int64_t m = intset_get(is, mid);
        if (m == v) {
            *pos = mid;
            return true;
        }
        if (m < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    *pos = lo;
    return false;
}

bool intset_contains(const intset *is, int64_t v) {
    uint32_t pos;
    return width_for(v) <= is->width && search(is, v, &pos);
}

/* Rewrite every element at a wider width and add v at one end. */
static intset *upgrade_add(intset *is, int64_t v, uint32_t width) {
    uint32_t old = is->width, len = is->len;
    bool front = v < 0; /* out of range below every element, else above */
    is = resize(is, len + 1, width);
    /* Back to front so no element is overwritten before it is read. */
    for (uint32_t i = len; i-- > 0;) set_w(is->data, width, i + (front ? 1 : 0), get_w(is->data, old, i));
    set_w(is->data, width, front ? 0 : len, v);
    is->width = width;
    is->len = len + 1;
    return is;
}

intset *intset_add(intset *is, int64_t v, bool *added) {
    uint32_t width = width_for(v);
    if (width > is->width) {
        *added = true;
        return upgrade_add(is, v, width);
    }
    uint32_t pos;
    if (search(is, v, &pos)) {
        *added = false;
        return is;
    }
    is = resize(is, is->len + 1, is->width);
    if (pos < is->len)
        memmove(is->data + (size_t)(pos + 1) * is->width, is->data + (size_t)pos * is->width,
                (size_t)(is->len - pos) * is->width);
    set_w(is->data, is->width, pos, v);
    is->len++;
    *added = true;
    return is;
}

intset *intset_remove(intset *is, int64_t v, bool *removed) {
    uint32_t pos;
    if (width_for(v) > is->width || !search(is, v, &pos)) {
        *removed = false;
        return is;
    }
    if (pos + 1 < is->len)
        memmove(is->data + (size_t)pos * is->width, is->data + (size_t)(pos + 1) * is->width,
                (size_t)(is->len - pos - 1) * is->width);
    is->len--;
    *removed = true;
    return resize(is, is->len, is->width);
}

int64_t intset_random(const intset *is, uint64_t rnd) { return intset_get(is, (uint32_t)(rnd % is->len)); }

size_t intset_mem(const intset *is) { return mem_usable(is); }

bool intset_check(const intset *is) {
    if (is->width != 2 && is->width != 4 && is->width != 8) return false;
    for (uint32_t i = 1; i < is->len; i++)
        if (intset_get(is, i - 1) >= intset_get(is, i)) return false;
    return true;
}
