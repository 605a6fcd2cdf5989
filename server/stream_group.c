/*
 * stream_group.c - consumer groups of a stream: the groups, their pending
 * entries lists and consumers (see stream_group.h for the layout and the
 * ownership rules).
 *
 * Design choices a reader must know:
 * - Every collection is a sorted array: groups and consumers are few and
 *   read in name order; a PEL is mostly appended to (deliveries have
 *   growing IDs) and removed from at the front (acknowledged in order), so
 *   a sorted array with a gap at both ends (stream_gvec) makes both O(1)
 *   and keeps an entry at 40 bytes in the group plus 16 in its consumer,
 *   where Redis spends two radix-tree keys and a separate NACK allocation.
 * - A consumer's PEL holds IDs, not pointers: the group's array may move,
 *   and the ID finds the entry in O(log n).
 */
#include "stream_group.h"

#include "mem.h"

#include <stddef.h>
#include <string.h>

/* ---------------------------------------------------------------- sorted arrays */

#define GVEC_MIN 8

static inline char *gvec_elem(const stream_gvec *v, size_t esize, size_t i) { return v->buf + (v->start + i) * esize; }
static inline size_t gvec_len(const stream_gvec *v) { return v->end - v->start; }

/* Index of the first element whose leading stream_id is >= id. */
static size_t gvec_seek(const stream_gvec *v, size_t esize, const stream_id *id) {
    size_t lo = 0, hi = gvec_len(v);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (stream_id_cmp((const stream_id *)(const void *)gvec_elem(v, esize, mid), id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void *gvec_find(const stream_gvec *v, size_t esize, const stream_id *id) {
    size_t i = gvec_seek(v, esize, id);
    if (i == gvec_len(v)) return NULL;
    char *e = gvec_elem(v, esize, i);
    return stream_id_cmp((const stream_id *)(const void *)e, id) == 0 ? e : NULL;
}

/* Re-lay n live elements into a buffer of cap, from its start. */
static void gvec_relayout(stream_gvec *v, size_t esize, size_t cap) {
    size_t n = gvec_len(v);
    char *buf = mem_alloc(cap * esize);
    if (n) memcpy(buf, gvec_elem(v, esize, 0), n * esize);
    mem_free(v->buf);
    v->buf = buf;
    v->start = 0;
    v->end = n;
    v->cap = cap;
}

/* Room for one more element at i (0..n): returns where to write it. Moves
 * the shorter side where there is room on that side. */
static char *gvec_insert_at(stream_gvec *v, size_t esize, size_t i) {
    size_t n = gvec_len(v);
    bool front_room = v->start > 0, back_room = v->end < v->cap;
    if (!front_room && !back_room) {
        gvec_relayout(v, esize, n < GVEC_MIN ? GVEC_MIN : n * 2);
        back_room = true;
    }
    bool use_front = front_room && (!back_room || i < n / 2);
    if (use_front) {
        memmove(v->buf + (v->start - 1) * esize, gvec_elem(v, esize, 0), i * esize);
        v->start--;
    } else {
        memmove(gvec_elem(v, esize, i + 1), gvec_elem(v, esize, i), (n - i) * esize);
        v->end++;
    }
    return gvec_elem(v, esize, i);
}

/* Before an append at the back with no room there: regain the front gap
 * when it is at least half the buffer (amortized O(1)), else grow. */
static void gvec_reserve_back(stream_gvec *v, size_t esize) {
    if (v->end < v->cap) return;
    size_t n = gvec_len(v);
    if (v->start >= v->cap / 2 && v->start > 0) {
        memmove(v->buf, gvec_elem(v, esize, 0), n * esize);
        v->start = 0;
        v->end = n;
    } else {
        gvec_relayout(v, esize, n < GVEC_MIN ? GVEC_MIN : n * 2);
    }
}

static char *gvec_insert(stream_gvec *v, size_t esize, size_t i) {
    if (i == gvec_len(v)) gvec_reserve_back(v, esize);
    return gvec_insert_at(v, esize, i);
}

static void gvec_remove(stream_gvec *v, size_t esize, size_t i) {
    size_t n = gvec_len(v);
    if (i < n / 2) {
        memmove(gvec_elem(v, esize, 1), gvec_elem(v, esize, 0), i * esize);
        v->start++;
    } else {
        memmove(gvec_elem(v, esize, i), gvec_elem(v, esize, i + 1), (n - i - 1) * esize);
        v->end--;
    }
    n--;
    if (n == 0) {
        mem_free(v->buf);
        memset(v, 0, sizeof *v);
    } else if (v->cap > 4 * GVEC_MIN && n < v->cap / 8) {
        gvec_relayout(v, esize, n * 2);
    }
}

static void gvec_free(stream_gvec *v) {
    mem_free(v->buf);
    memset(v, 0, sizeof *v);
}

static void gvec_copy(stream_gvec *dst, const stream_gvec *src, size_t esize) {
    memset(dst, 0, sizeof *dst);
    size_t n = gvec_len(src);
    if (!n) return;
    dst->buf = mem_alloc(n * esize);
    memcpy(dst->buf, gvec_elem(src, esize, 0), n * esize);
    dst->end = dst->cap = n;
}

static size_t gvec_mem(const stream_gvec *v) { return v->buf ? mem_usable(v->buf) : 0; }

#define NACK_SIZE sizeof(stream_nack)
#define ID_SIZE sizeof(stream_id)

/* ---------------------------------------------------------------- names */

/* Byte order, a shorter prefix first (Redis's rax order). */
static int name_cmp(const char *a, size_t alen, const char *b, size_t blen) {
    int r = memcmp(a, b, alen < blen ? alen : blen);
    if (r) return r;
    return alen < blen ? -1 : alen > blen;
}

/* Index of name in a sorted array of named structs (groups or consumers,
 * whose name_len field is at name_off): *found tells whether it is there,
 * else the index is where it goes. */
static size_t named_seek(void *const *arr, size_t n, size_t name_off, const char *name, size_t len, bool *found) {
    size_t lo = 0, hi = n;
    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *base = (const char *)arr[mid] + name_off;
        size_t mlen;
        memcpy(&mlen, base, sizeof mlen);
        int r = name_cmp(base + sizeof(size_t), mlen, name, len);
        if (r == 0) {
            *found = true;
            return mid;
        }
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

#define CONSUMER_SEEK(cg, name, len, found)                                                                           \
    named_seek((void *const *)(cg)->consumers, (cg)->nconsumers, offsetof(stream_consumer, name_len), name, len, found)
#define GROUP_SEEK(g, name, len, found)                                                                               \
    named_seek((void *const *)(g)->v, (g)->n, offsetof(stream_cg, name_len), name, len, found)
_Static_assert(offsetof(stream_consumer, name) == offsetof(stream_consumer, name_len) + sizeof(size_t), "name");
_Static_assert(offsetof(stream_cg, name) == offsetof(stream_cg, name_len) + sizeof(size_t), "name");

/* Make room at i in an array of pointers (n used of *cap). */
static void ptr_insert(void ***arr, size_t *n, size_t *cap, size_t i, void *p) {
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        *arr = mem_realloc(*arr, sizeof(void *) * *cap);
    }
    memmove(*arr + i + 1, *arr + i, sizeof(void *) * (*n - i));
    (*arr)[i] = p;
    (*n)++;
}

static void ptr_remove(void **arr, size_t *n, size_t i) {
    memmove(arr + i, arr + i + 1, sizeof(void *) * (*n - i - 1));
    (*n)--;
}

/* ---------------------------------------------------------------- consumers */

static void consumer_free(stream_consumer *sc) {
    gvec_free(&sc->pel);
    mem_free(sc);
}

stream_consumer *stream_cg_consumer_find(const stream_cg *cg, const char *name, size_t len) {
    bool found;
    size_t i = CONSUMER_SEEK(cg, name, len, &found);
    return found ? cg->consumers[i] : NULL;
}

stream_consumer *stream_cg_consumer_create(stream_cg *cg, const char *name, size_t len, int64_t seen_time) {
    bool found;
    size_t i = CONSUMER_SEEK(cg, name, len, &found);
    if (found) return NULL;
    stream_consumer *sc = mem_calloc(1, sizeof *sc + len);
    memcpy(sc->name, name, len);
    sc->name_len = len;
    sc->seen_time = seen_time;
    ptr_insert((void ***)&cg->consumers, &cg->nconsumers, &cg->consumers_cap, i, sc);
    return sc;
}

size_t stream_cg_consumer_delete(stream_cg *cg, stream_consumer *sc) {
    size_t pending = stream_consumer_pel_count(sc);
    if (pending > 16) {
        /* one compacting pass over the group's PEL */
        size_t n = stream_cg_pel_count(cg), w = 0;
        for (size_t r = 0; r < n; r++) {
            stream_nack *e = stream_cg_pel_at(cg, r);
            if (e->consumer != sc) *stream_cg_pel_at(cg, w++) = *e;
        }
        cg->pel.end = cg->pel.start + w;
        if (w == 0) gvec_free(&cg->pel);
    } else {
        for (size_t i = 0; i < pending; i++) {
            size_t at = gvec_seek(&cg->pel, NACK_SIZE, stream_consumer_pel_at(sc, i));
            gvec_remove(&cg->pel, NACK_SIZE, at);
        }
    }
    bool found;
    size_t i = CONSUMER_SEEK(cg, sc->name, sc->name_len, &found);
    if (found) ptr_remove((void **)cg->consumers, &cg->nconsumers, i);
    consumer_free(sc);
    return pending;
}

size_t stream_consumer_pel_seek(const stream_consumer *sc, const stream_id *id) {
    return gvec_seek(&sc->pel, ID_SIZE, id);
}

static void consumer_pel_add(stream_consumer *sc, const stream_id *id) {
    size_t i = gvec_seek(&sc->pel, ID_SIZE, id);
    memcpy(gvec_insert(&sc->pel, ID_SIZE, i), id, ID_SIZE);
}

static void consumer_pel_remove(stream_consumer *sc, const stream_id *id) {
    size_t i = gvec_seek(&sc->pel, ID_SIZE, id);
    if (i < gvec_len(&sc->pel) && stream_id_cmp(stream_consumer_pel_at(sc, i), id) == 0)
        gvec_remove(&sc->pel, ID_SIZE, i);
}

/* ---------------------------------------------------------------- PEL */

size_t stream_cg_pel_seek(const stream_cg *cg, const stream_id *id) { return gvec_seek(&cg->pel, NACK_SIZE, id); }

stream_nack *stream_cg_pel_find(const stream_cg *cg, const stream_id *id) {
    return gvec_find(&cg->pel, NACK_SIZE, id);
}

stream_nack *stream_cg_pel_add(stream_cg *cg, const stream_id *id, int64_t delivery_time, uint64_t delivery_count,
                               stream_consumer *consumer) {
    size_t i = gvec_seek(&cg->pel, NACK_SIZE, id);
    if (i < stream_cg_pel_count(cg) && stream_id_cmp(&stream_cg_pel_at(cg, i)->id, id) == 0) return NULL;
    stream_nack *e = (stream_nack *)(void *)gvec_insert(&cg->pel, NACK_SIZE, i);
    *e = (stream_nack){*id, delivery_time, delivery_count, consumer};
    if (consumer) consumer_pel_add(consumer, id);
    return e;
}

bool stream_cg_pel_assign(stream_cg *cg, stream_consumer *consumer, const stream_id *id) {
    stream_nack *e = stream_cg_pel_find(cg, id);
    if (!e || e->consumer) return false;
    e->consumer = consumer;
    consumer_pel_add(consumer, id);
    return true;
}

void stream_cg_pel_move(stream_cg *cg, stream_nack *nack, stream_consumer *consumer) {
    (void)cg;
    if (nack->consumer == consumer) return;
    if (nack->consumer) consumer_pel_remove(nack->consumer, &nack->id);
    nack->consumer = consumer;
    consumer_pel_add(consumer, &nack->id);
}

bool stream_cg_pel_delete(stream_cg *cg, const stream_id *id) {
    size_t i = gvec_seek(&cg->pel, NACK_SIZE, id);
    if (i == stream_cg_pel_count(cg)) return false;
    stream_nack *e = stream_cg_pel_at(cg, i);
    if (stream_id_cmp(&e->id, id) != 0) return false;
    if (e->consumer) consumer_pel_remove(e->consumer, id);
    gvec_remove(&cg->pel, NACK_SIZE, i);
    return true;
}

/* ---------------------------------------------------------------- groups */

static void cg_free(stream_cg *cg) {
    for (size_t i = 0; i < cg->nconsumers; i++) consumer_free(cg->consumers[i]);
    mem_free(cg->consumers);
    gvec_free(&cg->pel);
    mem_free(cg);
}

size_t stream_cg_count(const stream *s) { return s->groups ? s->groups->n : 0; }

stream_cg *stream_cg_at(const stream *s, size_t i) { return s->groups->v[i]; }

stream_cg *stream_cg_find(const stream *s, const char *name, size_t len) {
    if (!s->groups) return NULL;
    bool found;
    size_t i = GROUP_SEEK(s->groups, name, len, &found);
    return found ? s->groups->v[i] : NULL;
}

stream_cg *stream_cg_create(stream *s, const char *name, size_t len, const stream_id *last_id,
                            long long entries_read) {
    if (!s->groups) s->groups = mem_calloc(1, sizeof *s->groups);
    stream_groups *g = s->groups;
    bool found;
    size_t i = GROUP_SEEK(g, name, len, &found);
    if (found) return NULL;
    stream_cg *cg = mem_calloc(1, sizeof *cg + len);
    memcpy(cg->name, name, len);
    cg->name_len = len;
    cg->last_id = *last_id;
    cg->entries_read = entries_read;
    ptr_insert((void ***)&g->v, &g->n, &g->cap, i, cg);
    return cg;
}

bool stream_cg_destroy(stream *s, const char *name, size_t len) {
    if (!s->groups) return false;
    bool found;
    size_t i = GROUP_SEEK(s->groups, name, len, &found);
    if (!found) return false;
    cg_free(s->groups->v[i]);
    ptr_remove((void **)s->groups->v, &s->groups->n, i);
    return true;
}

/* ---------------------------------------------------------------- read counters and lag */

static bool id_is_zero(const stream_id *id) { return id->ms == 0 && id->seq == 0; }

bool stream_range_has_tombstones(const stream *s, const stream_id *start, const stream_id *end) {
    if (!s->length || id_is_zero(&s->max_deleted_entry_id)) return false;
    if (stream_id_cmp(&s->first_id, &s->max_deleted_entry_id) > 0) return false;
    stream_id lo = start ? *start : (stream_id){0, 0};
    stream_id hi = end ? *end : (stream_id){UINT64_MAX, UINT64_MAX};
    return stream_id_cmp(&lo, &s->max_deleted_entry_id) <= 0 && stream_id_cmp(&s->max_deleted_entry_id, &hi) <= 0;
}

long long stream_estimate_distance(const stream *s, const stream_id *id) {
    if (!s->entries_added) return 0;
    if (!s->length && stream_id_cmp(id, &s->last_id) < 1) return (long long)s->entries_added;
    int cmp_last = stream_id_cmp(id, &s->last_id);
    if (cmp_last == 0) return (long long)s->entries_added;
    if (cmp_last > 0) return STREAM_CG_INVALID_ENTRIES_READ;
    int cmp_first = stream_id_cmp(id, &s->first_id);
    if (id_is_zero(&s->max_deleted_entry_id) || stream_id_cmp(&s->max_deleted_entry_id, &s->first_id) < 0) {
        if (cmp_first < 0) return (long long)(s->entries_added - s->length);
        if (cmp_first == 0) return (long long)(s->entries_added - s->length + 1);
    }
    return STREAM_CG_INVALID_ENTRIES_READ;
}

bool stream_cg_lag(const stream *s, const stream_cg *cg, long long *lag) {
    if (!s->entries_added) {
        *lag = 0;
        return true;
    }
    if (cg->entries_read != STREAM_CG_INVALID_ENTRIES_READ && !stream_range_has_tombstones(s, &cg->last_id, NULL)) {
        *lag = (long long)(s->entries_added - (uint64_t)cg->entries_read); /* wraps as Redis's does */
        return true;
    }
    long long read = stream_estimate_distance(s, &cg->last_id);
    if (read == STREAM_CG_INVALID_ENTRIES_READ) return false;
    *lag = (long long)(s->entries_added - (uint64_t)read);
    return true;
}

void stream_cg_delivered(const stream *s, stream_cg *cg, const stream_id *id) {
    if (cg->entries_read != STREAM_CG_INVALID_ENTRIES_READ && !stream_range_has_tombstones(s, id, NULL))
        cg->entries_read = (long long)((uint64_t)cg->entries_read + 1); /* ENTRIESREAD 2^63-1 wraps, as in Redis */
    else if (s->entries_added)
        cg->entries_read = stream_estimate_distance(s, id);
    cg->last_id = *id;
}

/* ---------------------------------------------------------------- value hooks */

void stream_groups_free(stream_groups *g) {
    if (!g) return;
    for (size_t i = 0; i < g->n; i++) cg_free(g->v[i]);
    mem_free(g->v);
    mem_free(g);
}

static stream_cg *cg_dup(const stream_cg *src) {
    stream_cg *cg = mem_alloc(sizeof *cg + src->name_len);
    memcpy(cg, src, sizeof *cg + src->name_len);
    gvec_copy(&cg->pel, &src->pel, NACK_SIZE);
    cg->consumers = src->nconsumers ? mem_alloc(sizeof(void *) * src->nconsumers) : NULL;
    cg->consumers_cap = src->nconsumers;
    for (size_t i = 0; i < src->nconsumers; i++) {
        const stream_consumer *o = src->consumers[i];
        stream_consumer *sc = mem_alloc(sizeof *sc + o->name_len);
        memcpy(sc, o, sizeof *sc + o->name_len);
        gvec_copy(&sc->pel, &o->pel, ID_SIZE);
        cg->consumers[i] = sc;
        for (size_t j = 0; j < stream_consumer_pel_count(sc); j++)
            stream_cg_pel_find(cg, stream_consumer_pel_at(sc, j))->consumer = sc;
    }
    return cg;
}

stream_groups *stream_groups_dup(const stream_groups *g) {
    if (!g) return NULL;
    stream_groups *n = mem_calloc(1, sizeof *n);
    if (g->n) {
        n->v = mem_alloc(sizeof(void *) * g->n);
        n->n = n->cap = g->n;
        for (size_t i = 0; i < g->n; i++) n->v[i] = cg_dup(g->v[i]);
    }
    return n;
}

size_t stream_groups_mem(const stream_groups *g) {
    if (!g) return 0;
    size_t m = mem_usable(g) + (g->v ? mem_usable(g->v) : 0);
    for (size_t i = 0; i < g->n; i++) {
        const stream_cg *cg = g->v[i];
        m += mem_usable(cg) + gvec_mem(&cg->pel) + (cg->consumers ? mem_usable(cg->consumers) : 0);
        for (size_t j = 0; j < cg->nconsumers; j++) m += mem_usable(cg->consumers[j]) + gvec_mem(&cg->consumers[j]->pel);
    }
    return m;
}
