/*
 * dict.c - string-keyed chained hash table (see dict.h).
 */
#include "dict.h"

#include "ktable.h"
#include "mem.h"

#include <string.h>

dict *dict_new(void) { return mem_calloc(1, sizeof(dict)); }

void dict_free(dict *d) {
    if (!d) return;
    if (d->buckets) {
        for (uint64_t i = 0; i <= d->mask; i++) {
            dict_entry *e = d->buckets[i];
            while (e) {
                dict_entry *n = e->next;
                mem_free(e);
                e = n;
            }
        }
        mem_free(d->buckets);
    }
    mem_free(d);
}

uint64_t dict_hash(const char *key, size_t len) { return key_hash(key, len); }

static void rehash(dict *d, uint64_t newsize) {
    dict_entry **nb = mem_calloc(newsize, sizeof(dict_entry *));
    uint64_t nmask = newsize - 1;
    if (d->buckets) {
        for (uint64_t i = 0; i <= d->mask; i++) {
            dict_entry *e = d->buckets[i];
            while (e) {
                dict_entry *n = e->next;
                uint64_t h = dict_hash(e->data, e->klen) & nmask;
                e->next = nb[h];
                nb[h] = e;
                e = n;
            }
        }
        mem_free(d->buckets);
    }
    d->buckets = nb;
    d->mask = nmask;
}

dict_entry *dict_find(const dict *d, const char *key, size_t klen) {
    if (!d->buckets) return NULL;
    for (dict_entry *e = d->buckets[dict_hash(key, klen) & d->mask]; e; e = e->next)
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
        rehash(d, 4);
    else if (d->count + 1 > d->mask + 1)
        rehash(d, (d->mask + 1) * 2);
    dict_entry *e = new_entry(key, klen, val, vlen);
    uint64_t h = dict_hash(key, klen) & d->mask;
    e->next = d->buckets[h];
    d->buckets[h] = e;
    d->count++;
    return e;
}

bool dict_set(dict *d, const char *key, size_t klen, const char *val, size_t vlen) {
    if (d->buckets) {
        dict_entry **link = &d->buckets[dict_hash(key, klen) & d->mask];
        for (dict_entry *e = *link; e; link = &e->next, e = e->next) {
            if (e->klen != klen || memcmp(e->data, key, klen) != 0) continue;
            if (e->vlen == vlen) {
                if (vlen) memcpy(e->data + klen, val, vlen);
                return false;
            }
            dict_entry *n = new_entry(key, klen, val, vlen);
            n->u = e->u;
            n->next = e->next;
            *link = n;
            mem_free(e);
            return false;
        }
    }
    dict_add(d, key, klen, val, vlen);
    return true;
}

bool dict_delete(dict *d, const char *key, size_t klen) {
    if (!d->buckets) return false;
    dict_entry **link = &d->buckets[dict_hash(key, klen) & d->mask];
    for (dict_entry *e = *link; e; link = &e->next, e = e->next) {
        if (e->klen != klen || memcmp(e->data, key, klen) != 0) continue;
        *link = e->next;
        mem_free(e);
        d->count--;
        if (d->count == 0) {
            mem_free(d->buckets);
            d->buckets = NULL;
            d->mask = 0;
        } else if (d->mask + 1 > 64 && d->count < (d->mask + 1) / 8) {
            rehash(d, (d->mask + 1) / 2);
        }
        return true;
    }
    return false;
}

dict_entry *dict_random(const dict *d, uint64_t rnd1, uint64_t rnd2) {
    if (!d->count) return NULL;
    dict_entry *e = NULL;
    /* A few uniformly random buckets (a well-filled table answers at once);
     * then the first non-empty bucket after a random one, which always ends. */
    uint64_t x = rnd1 | 1;
    for (int tries = 0; tries < 16 && !e; tries++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        e = d->buckets[x & d->mask];
    }
    for (uint64_t i = 0; !e && i <= d->mask; i++) e = d->buckets[(rnd1 + i) & d->mask];
    uint64_t len = 0;
    for (dict_entry *y = e; y; y = y->next) len++;
    for (uint64_t k = rnd2 % len; k > 0; k--) e = e->next;
    return e;
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
    while (it->bucket <= d->mask) {
        dict_entry *e = d->buckets[it->bucket++];
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
    uint64_t m = d->mask;
    for (dict_entry *e = d->buckets[v & m]; e; e = e->next) fn(e, arg);
    /* Redis's reverse-binary increment over the masked bits. */
    v |= ~m;
    v = rev64(v);
    v++;
    v = rev64(v);
    return v;
}

size_t dict_mem(const dict *d) {
    size_t n = mem_usable(d) + mem_usable(d->buckets);
    if (d->buckets)
        for (uint64_t i = 0; i <= d->mask; i++)
            for (dict_entry *e = d->buckets[i]; e; e = e->next) n += mem_usable(e);
    return n;
}
