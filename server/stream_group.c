/*
 * stream_group.c - consumer groups of a stream: the groups, their pending
 * entries lists and consumers (see stream_group.h for the layout and the
 * ownership rules).
 *
 * Design choices a reader must know:
 * - Groups and consumers are few and read in name order: sorted arrays of
 *   pointers. A PEL is mostly appended to (deliveries have growing IDs)
 *   and removed from at the front (acknowledged in order), but may be
 *   acknowledged anywhere: sorted chunks of at most 128 entries
 *   (stream_gvec) make the first two O(1) and the rest a binary search
 *   plus one chunk's move (a flat sorted array moved half a million-entry
 *   PEL per random XACK: 1,000 acks/s where Redis does 18,000), and keep
 *   an entry at 40 bytes in the group plus 16 in its consumer, where Redis
 *   spends two radix-tree keys and a separate NACK allocation.
 * - A consumer's PEL holds IDs, not pointers: the group's array may move,
 *   and the ID finds the entry in O(log n).
 */
#include "stream_group.h"

#include "mem.h"

#include <stddef.h>
#include <string.h>

/* ---------------------------------------------------------------- sorted chunked arrays */

/* A stream_gvec is a sorted sequence of elements (each starting with its
 * stream_id key) in chunks of at most GV_CHUNK, the chunk headers in an
 * array sorted by first key with free room at its front (removing the first
 * chunk is start++). Insert and remove by ID move at most one chunk's
 * elements; an append to the last chunk and a removal of the first element
 * are O(1). Index access goes through a cursor (chunk, index of its first
 * element) that any change resets: sequential access is O(1) per step, a
 * seek O(chunks between the cursor and the target). */
#define GV_CHUNK 128
#define GV_HEADS_MIN 4

static inline size_t gv_len(const stream_gvec *v) { return v->count; }
static inline const stream_id *gv_key(const stream_gchunk *c, size_t esize, size_t i) {
    return (const stream_id *)(const void *)(c->buf + i * esize);
}

static void gv_reset_cursor(stream_gvec *v) {
    v->cur = v->start;
    v->cur_base = 0;
}

/* The chunk that holds id or would: the last whose first key <= id (the
 * first chunk when none). v must have a chunk. */
static size_t gv_chunk_for(const stream_gvec *v, size_t esize, const stream_id *id) {
    size_t lo = v->start, hi = v->end; /* answer in [start, end) */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (stream_id_cmp(gv_key(&v->chunks[mid], esize, 0), id) <= 0)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* First position in chunk c whose key >= id. */
static uint32_t gv_pos(const stream_gchunk *c, size_t esize, const stream_id *id) {
    uint32_t lo = 0, hi = c->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (stream_id_cmp(gv_key(c, esize, mid), id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void *gv_find(const stream_gvec *v, size_t esize, const stream_id *id) {
    if (!v->count) return NULL;
    const stream_gchunk *c = &v->chunks[gv_chunk_for(v, esize, id)];
    uint32_t p = gv_pos(c, esize, id);
    return p < c->n && stream_id_cmp(gv_key(c, esize, p), id) == 0 ? c->buf + p * esize : NULL;
}

/* Move the cursor to chunk k (absolute); returns the index of its first element. */
static size_t gv_base(stream_gvec *v, size_t k) {
    if (v->cur < v->start || v->cur >= v->end) gv_reset_cursor(v);
    while (v->cur > k) v->cur_base -= v->chunks[--v->cur].n;
    while (v->cur < k) v->cur_base += v->chunks[v->cur++].n;
    return v->cur_base;
}

static size_t gv_seek(stream_gvec *v, size_t esize, const stream_id *id) {
    if (!v->count) return 0;
    size_t k = gv_chunk_for(v, esize, id);
    return gv_base(v, k) + gv_pos(&v->chunks[k], esize, id);
}

static void *gv_at(stream_gvec *v, size_t esize, size_t i) {
    if (v->cur < v->start || v->cur >= v->end) gv_reset_cursor(v);
    while (i < v->cur_base) v->cur_base -= v->chunks[--v->cur].n;
    while (i >= v->cur_base + v->chunks[v->cur].n) v->cur_base += v->chunks[v->cur++].n;
    return v->chunks[v->cur].buf + (i - v->cur_base) * esize;
}

/* Room for a chunk header at absolute index *k (in [start, end]); the
 * header array may move, *k then says where the new header is. */
static stream_gchunk *gv_head_insert(stream_gvec *v, size_t *kp) {
    size_t k = *kp;
    if (v->end == v->cap) {
        size_t n = v->end - v->start;
        if (v->start >= v->cap / 2 && v->start > 0) {
            memmove(v->chunks, v->chunks + v->start, n * sizeof *v->chunks);
        } else {
            size_t cap = n < GV_HEADS_MIN ? GV_HEADS_MIN : n * 2;
            stream_gchunk *h = mem_alloc(cap * sizeof *h);
            if (n) memcpy(h, v->chunks + v->start, n * sizeof *h);
            mem_free(v->chunks);
            v->chunks = h;
            v->cap = cap;
        }
        k -= v->start;
        v->start = 0;
        v->end = n;
    }
    memmove(v->chunks + k + 1, v->chunks + k, (v->end - k) * sizeof *v->chunks);
    v->end++;
    memset(&v->chunks[k], 0, sizeof v->chunks[k]);
    *kp = k;
    return &v->chunks[k];
}

static void gv_head_remove(stream_gvec *v, size_t k) {
    mem_free(v->chunks[k].buf);
    if (k == v->start) {
        v->start++;
    } else {
        memmove(v->chunks + k, v->chunks + k + 1, (v->end - k - 1) * sizeof *v->chunks);
        v->end--;
    }
    if (v->start == v->end) {
        mem_free(v->chunks);
        memset(v, 0, sizeof *v);
    }
}

static void gv_chunk_reserve(stream_gchunk *c, size_t esize, uint32_t want) {
    if (want <= c->cap) return;
    uint32_t cap = c->cap ? c->cap : 4;
    while (cap < want) cap *= 2;
    if (cap > GV_CHUNK) cap = GV_CHUNK;
    c->buf = mem_realloc(c->buf, cap * esize);
    c->cap = cap;
}

/* A slot for a new element with key id (not present) at its sorted place. */
static void *gv_insert_slot(stream_gvec *v, size_t esize, const stream_id *id) {
    v->count++;
    if (v->start == v->end) {
        size_t k0 = v->start;
        stream_gchunk *c = gv_head_insert(v, &k0);
        gv_chunk_reserve(c, esize, 1);
        c->n = 1;
        return c->buf;
    }
    size_t k = gv_chunk_for(v, esize, id);
    stream_gchunk *c = &v->chunks[k];
    uint32_t p = gv_pos(c, esize, id);
    if (c->n == GV_CHUNK) {
        size_t next = k + 1;
        if (p == GV_CHUNK && next == v->end) {
            /* an append past a full last chunk: a new chunk */
            c = gv_head_insert(v, &next);
            gv_chunk_reserve(c, esize, 1);
            c->n = 1;
            return c->buf;
        }
        /* split: the upper half moves to a new chunk after this one */
        stream_gchunk *hi = gv_head_insert(v, &next);
        c = &v->chunks[next - 1]; /* the header array may have moved */
        uint32_t half = GV_CHUNK / 2;
        gv_chunk_reserve(hi, esize, GV_CHUNK - half);
        memcpy(hi->buf, c->buf + half * esize, (GV_CHUNK - half) * esize);
        hi->n = GV_CHUNK - half;
        c->n = half;
        if (p > half) {
            c = hi;
            p -= half;
        }
    }
    gv_chunk_reserve(c, esize, c->n + 1);
    memmove(c->buf + (p + 1) * esize, c->buf + p * esize, (c->n - p) * esize);
    c->n++;
    return c->buf + p * esize;
}

static void *gv_insert(stream_gvec *v, size_t esize, const stream_id *id) {
    void *slot = gv_insert_slot(v, esize, id);
    gv_reset_cursor(v); /* after the header array settled (it may have moved) */
    return slot;
}

/* Remove the element with key id; false if absent. */
static bool gv_remove(stream_gvec *v, size_t esize, const stream_id *id) {
    if (!v->count) return false;
    size_t k = gv_chunk_for(v, esize, id);
    stream_gchunk *c = &v->chunks[k];
    uint32_t p = gv_pos(c, esize, id);
    if (p == c->n || stream_id_cmp(gv_key(c, esize, p), id) != 0) return false;
    /* the cursor follows (XAUTOCLAIM removes entries as it walks): a chunk
     * before it lost an element, or it is on the chunk that goes away */
    bool cursor_ok = v->cur >= v->start && v->cur < v->end;
    if (cursor_ok && k < v->cur) v->cur_base--;
    v->count--;
    memmove(c->buf + p * esize, c->buf + (p + 1) * esize, (c->n - p - 1) * esize);
    c->n--;
    if (c->n == 0) {
        bool shifted = k != v->start; /* gv_head_remove moves the later headers down */
        if (cursor_ok && v->cur == k) cursor_ok = false;
        gv_head_remove(v, k);
        if (!v->count) return true;
        if (!cursor_ok)
            gv_reset_cursor(v);
        else if (shifted && v->cur > k)
            v->cur--;
    } else if (c->cap > 8 && c->n <= c->cap / 4) {
        c->cap /= 2;
        c->buf = mem_realloc(c->buf, c->cap * esize);
    }
    return true;
}

static void gv_free(stream_gvec *v) {
    for (size_t k = v->start; k < v->end; k++) mem_free(v->chunks[k].buf);
    mem_free(v->chunks);
    memset(v, 0, sizeof *v);
}

static void gv_copy(stream_gvec *dst, const stream_gvec *src, size_t esize) {
    memset(dst, 0, sizeof *dst);
    size_t n = src->end - src->start;
    if (!n) return;
    dst->chunks = mem_alloc(n * sizeof *dst->chunks);
    dst->end = dst->cap = n;
    dst->count = src->count;
    for (size_t k = 0; k < n; k++) {
        const stream_gchunk *c = &src->chunks[src->start + k];
        dst->chunks[k] = (stream_gchunk){mem_alloc(c->n * esize), c->n, c->n};
        memcpy(dst->chunks[k].buf, c->buf, c->n * esize);
    }
}

static size_t gv_mem(const stream_gvec *v) {
    if (!v->chunks) return 0;
    size_t m = mem_usable(v->chunks);
    for (size_t k = v->start; k < v->end; k++) m += mem_usable(v->chunks[k].buf);
    return m;
}

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
    gv_free(&sc->pel);
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
        /* one pass over the group's PEL keeps the others' entries */
        stream_gvec kept = {0};
        for (size_t k = cg->pel.start; k < cg->pel.end; k++) {
            const stream_gchunk *c = &cg->pel.chunks[k];
            for (uint32_t i = 0; i < c->n; i++) {
                const stream_nack *e = (const stream_nack *)(const void *)(c->buf + i * NACK_SIZE);
                if (e->consumer != sc) memcpy(gv_insert(&kept, NACK_SIZE, &e->id), e, NACK_SIZE);
            }
        }
        gv_free(&cg->pel);
        cg->pel = kept;
    } else {
        for (size_t i = 0; i < pending; i++) gv_remove(&cg->pel, NACK_SIZE, stream_consumer_pel_at(sc, i));
    }
    bool found;
    size_t i = CONSUMER_SEEK(cg, sc->name, sc->name_len, &found);
    if (found) ptr_remove((void **)cg->consumers, &cg->nconsumers, i);
    consumer_free(sc);
    return pending;
}

size_t stream_consumer_pel_seek(const stream_consumer *sc, const stream_id *id) {
    return gv_seek((stream_gvec *)&sc->pel, ID_SIZE, id);
}

const stream_id *stream_consumer_pel_at(const stream_consumer *sc, size_t i) {
    return gv_at((stream_gvec *)&sc->pel, ID_SIZE, i);
}

static void consumer_pel_add(stream_consumer *sc, const stream_id *id) {
    memcpy(gv_insert(&sc->pel, ID_SIZE, id), id, ID_SIZE);
}

static void consumer_pel_remove(stream_consumer *sc, const stream_id *id) { gv_remove(&sc->pel, ID_SIZE, id); }

/* ---------------------------------------------------------------- PEL */

/* The const accessors move the index cursor (stream_group.h): a cache,
 * written under the key's slot lock like everything else of the value. */
size_t stream_cg_pel_seek(const stream_cg *cg, const stream_id *id) {
    return gv_seek((stream_gvec *)&cg->pel, NACK_SIZE, id);
}

stream_nack *stream_cg_pel_at(const stream_cg *cg, size_t i) { return gv_at((stream_gvec *)&cg->pel, NACK_SIZE, i); }

stream_nack *stream_cg_pel_find(const stream_cg *cg, const stream_id *id) {
    return gv_find(&cg->pel, NACK_SIZE, id);
}

stream_nack *stream_cg_pel_add(stream_cg *cg, const stream_id *id, int64_t delivery_time, uint64_t delivery_count,
                               stream_consumer *consumer) {
    if (gv_find(&cg->pel, NACK_SIZE, id)) return NULL;
    stream_nack *e = gv_insert(&cg->pel, NACK_SIZE, id);
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
    stream_nack *e = gv_find(&cg->pel, NACK_SIZE, id);
    if (!e) return false;
    if (e->consumer) consumer_pel_remove(e->consumer, id);
    gv_remove(&cg->pel, NACK_SIZE, id);
    return true;
}

/* ---------------------------------------------------------------- groups */

static void cg_free(stream_cg *cg) {
    for (size_t i = 0; i < cg->nconsumers; i++) consumer_free(cg->consumers[i]);
    mem_free(cg->consumers);
    gv_free(&cg->pel);
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
    gv_copy(&cg->pel, &src->pel, NACK_SIZE);
    cg->consumers = src->nconsumers ? mem_alloc(sizeof(void *) * src->nconsumers) : NULL;
    cg->consumers_cap = src->nconsumers;
    for (size_t i = 0; i < src->nconsumers; i++) {
        const stream_consumer *o = src->consumers[i];
        stream_consumer *sc = mem_alloc(sizeof *sc + o->name_len);
        memcpy(sc, o, sizeof *sc + o->name_len);
        gv_copy(&sc->pel, &o->pel, ID_SIZE);
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
        m += mem_usable(cg) + gv_mem(&cg->pel) + (cg->consumers ? mem_usable(cg->consumers) : 0);
        for (size_t j = 0; j < cg->nconsumers; j++) m += mem_usable(cg->consumers[j]) + gv_mem(&cg->consumers[j]->pel);
    }
    return m;
}
