/*
 * quicklist.c - the list value: a doubly linked list of listpack nodes (see
 * quicklist.h).
 *
 * Design choices a reader must know:
 * - A node is only ever as big as the list's fill allows; an insertion into
 *   a full node goes to a neighbour with room, or to a new node, or splits
 *   the node (then the halves are merged with their neighbours when the
 *   result fits), as Redis does. Deleting never leaves an empty node.
 * - Listpacks have no backward links, so walking a node backwards first
 *   collects the offsets of its elements (the iterator keeps that array).
 *   For the tail, the list keeps such an array for its tail node once a
 *   tail read needed it (16-bit offsets: a node of more than one element
 *   is at most 64 KB), updated by tail pushes and pops and dropped by any
 *   other change of the tail node, so RPOP runs stay O(1).
 */
#include "quicklist.h"

#include "mem.h"

#include <string.h>

static const size_t ql_size_levels[] = {4096, 8192, 16384, 32768, 65536};

/* Tail nodes shorter than this are simply scanned. */
#define QL_TAIL_CACHE_MIN 16

/* ------------------------------------------------------------ nodes */

/* Bytes an element takes inside a listpack (LEB128 length + bytes). */
static size_t ql_elem_size(size_t len) {
    size_t n = 1;
    for (size_t v = len; v >= 128; v >>= 7) n++;
    return n + len;
}

static ql_node *ql_node_new(listpack *lp) {
    ql_node *n = mem_alloc(sizeof *n);
    n->prev = n->next = NULL;
    n->lp = lp ? lp : lp_new();
    return n;
}

static inline long ql_node_count(const ql_node *n) { return (long)lp_count(n->lp); }

/* ------------------------------------------------------------ tail offsets */

static void ql_tail_cache_drop(quicklist *ql) {
    if (!ql->toffs) return;
    mem_free(ql->toffs);
    ql->toffs = NULL;
    ql->tn = ql->tcap = 0;
}

/* Build the tail node's offset array if the node is long enough to be
 * worth it; returns whether the cache is valid. */
static bool ql_tail_cache(quicklist *ql) {
    if (ql->toffs) return true;
    ql_node *t = ql->tail;
    if (!t || ql_node_count(t) < QL_TAIL_CACHE_MIN || lp_bytes(t->lp) > UINT16_MAX) return false;
    uint32_t c = lp_count(t->lp);
    ql->tcap = c + c / 4 + 8;
    ql->toffs = mem_alloc(ql->tcap * sizeof *ql->toffs);
    size_t off = lp_first(t->lp);
    for (uint32_t i = 0; i < c; i++) {
        ql->toffs[i] = (uint16_t)off;
        const char *p;
        size_t len;
        off = lp_get(t->lp, off, &p, &len);
    }
    ql->tn = c;
    return true;
}

/* Offset of element nidx of node n (the cache serves the tail node). */
static size_t ql_node_off(quicklist *ql, const ql_node *n, long nidx) {
    if (n == ql->tail && (nidx == ql_node_count(n) - 1 || ql->toffs) && ql_tail_cache(ql))
        return ql->toffs[nidx];
    return lp_seek(n->lp, nidx);
}

/* Link n after `after` (NULL: as the new head). */
static void ql_link_after(quicklist *ql, ql_node *after, ql_node *n) {
    if (!after || after == ql->tail) ql_tail_cache_drop(ql);
    n->prev = after;
    n->next = after ? after->next : ql->head;
    if (n->next)
        n->next->prev = n;
    else
        ql->tail = n;
    if (after)
        after->next = n;
    else
        ql->head = n;
    ql->nodes++;
}

static void ql_link_before(quicklist *ql, ql_node *before, ql_node *n) {
    ql_link_after(ql, before ? before->prev : ql->tail, n);
}

/* Unlink and free n (its elements are not counted any more). */
static void ql_node_remove(quicklist *ql, ql_node *n) {
    if (n == ql->tail) ql_tail_cache_drop(ql);
    if (n->prev)
        n->prev->next = n->next;
    else
        ql->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        ql->tail = n->prev;
    ql->nodes--;
    ql->count -= (size_t)ql_node_count(n);
    lp_free(n->lp);
    mem_free(n);
}

/* May a node holding `bytes` listpack bytes and `count` elements exist? */
static bool ql_fits(const quicklist *ql, size_t bytes, long count) {
    if (ql->fill < 0) return bytes <= ql_size_levels[-ql->fill - 1];
    return bytes <= QL_SIZE_SAFETY_LIMIT && count <= ql->fill;
}

static bool ql_allow_insert(const quicklist *ql, const ql_node *n, size_t len) {
    if (!n) return false;
    return ql_fits(ql, lp_bytes(n->lp) + ql_elem_size(len), ql_node_count(n) + 1);
}

/* Merge b (which follows a) into a when the result fits. */
static void ql_try_merge(quicklist *ql, ql_node *a, ql_node *b) {
    if (!a || !b || a->next != b) return;
    ql_tail_cache_drop(ql);
    size_t bytes = lp_bytes(a->lp) + lp_bytes(b->lp) - LP_HEADER;
    if (!ql_fits(ql, bytes, ql_node_count(a) + ql_node_count(b))) return;
    size_t off = lp_first(b->lp), end = lp_end(b->lp);
    while (off < end) {
        const char *p;
        size_t len;
        off = lp_get(b->lp, off, &p, &len);
        a->lp = lp_append(a->lp, p, len);
    }
    ql->count += (size_t)ql_node_count(b); /* ql_node_remove subtracts them */
    ql_node_remove(ql, b);
}

/* Locate element idx: its node and index within it. */
static ql_node *ql_locate(const quicklist *ql, long long idx, long *nidx) {
    if (idx < 0) idx += (long long)ql->count;
    if (idx < 0 || idx >= (long long)ql->count) return NULL;
    if ((size_t)idx < ql->count / 2) {
        for (ql_node *n = ql->head; n; n = n->next) {
            long c = ql_node_count(n);
            if (idx < c) {
                *nidx = (long)idx;
                return n;
            }
            idx -= c;
        }
    } else {
        long long back = (long long)ql->count - 1 - idx; /* 0 = tail element */
        for (ql_node *n = ql->tail; n; n = n->prev) {
            long c = ql_node_count(n);
            if (back < c) {
                *nidx = c - 1 - (long)back;
                return n;
            }
            back -= c;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------ list API */

quicklist *ql_new(int fill) {
    quicklist *ql = mem_alloc(sizeof *ql);
    if (fill < QL_FILL_MIN) fill = QL_FILL_MIN;
    if (fill > QL_FILL_MAX) fill = QL_FILL_MAX;
    ql->head = ql->tail = NULL;
    ql->count = 0;
    ql->nodes = 0;
    ql->fill = fill;
    ql->toffs = NULL;
    ql->tn = ql->tcap = 0;
    return ql;
}

void ql_free(quicklist *ql) {
    if (!ql) return;
    ql_node *n = ql->head;
    while (n) {
        ql_node *next = n->next;
        lp_free(n->lp);
        mem_free(n);
        n = next;
    }
    mem_free(ql->toffs);
    mem_free(ql);
}

quicklist *ql_dup(const quicklist *ql) {
    quicklist *d = ql_new(ql->fill);
    for (const ql_node *n = ql->head; n; n = n->next) ql_link_after(d, d->tail, ql_node_new(lp_dup(n->lp)));
    d->count = ql->count;
    return d;
}

size_t ql_mem(const quicklist *ql) {
    size_t total = mem_usable(ql) + (ql->toffs ? mem_usable(ql->toffs) : 0);
    for (const ql_node *n = ql->head; n; n = n->next) total += mem_usable(n) + mem_usable(n->lp);
    return total;
}

void ql_push(quicklist *ql, int where, const char *p, size_t len) {
    ql_node *n = where == QL_HEAD ? ql->head : ql->tail;
    if (!ql_allow_insert(ql, n, len)) {
        ql_node *fresh = ql_node_new(NULL);
        if (where == QL_HEAD)
            ql_link_after(ql, NULL, fresh);
        else
            ql_link_after(ql, ql->tail, fresh);
        n = fresh;
    }
    if (where == QL_HEAD) {
        if (n == ql->tail) ql_tail_cache_drop(ql);
        n->lp = lp_insert(n->lp, lp_first(n->lp), p, len);
    } else {
        size_t end = lp_end(n->lp);
        n->lp = lp_append(n->lp, p, len);
        if (ql->toffs) {
            if (end > UINT16_MAX) {
                ql_tail_cache_drop(ql);
            } else {
                if (ql->tn == ql->tcap) {
                    ql->tcap = ql->tcap * 2;
                    ql->toffs = mem_realloc(ql->toffs, ql->tcap * sizeof *ql->toffs);
                }
                ql->toffs[ql->tn++] = (uint16_t)end;
            }
        }
    }
    ql->count++;
}

bool ql_peek(quicklist *ql, int where, const char **p, size_t *len) {
    if (!ql->count) return false;
    const ql_node *n = where == QL_HEAD ? ql->head : ql->tail;
    size_t off = where == QL_HEAD ? lp_first(n->lp) : ql_node_off(ql, n, ql_node_count(n) - 1);
    lp_get(n->lp, off, p, len);
    return true;
}

void ql_pop(quicklist *ql, int where) {
    if (!ql->count) return;
    ql_del_range(ql, where == QL_HEAD ? 0 : -1, 1);
}

bool ql_index(quicklist *ql, long long idx, const char **p, size_t *len) {
    long nidx;
    ql_node *n = ql_locate(ql, idx, &nidx);
    if (!n) return false;
    lp_get(n->lp, ql_node_off(ql, n, nidx), p, len);
    return true;
}

bool ql_replace(quicklist *ql, long long idx, const char *p, size_t len) {
    long nidx;
    ql_node *n = ql_locate(ql, idx, &nidx);
    if (!n) return false;
    ql_tail_cache_drop(ql);
    size_t off = lp_seek(n->lp, nidx);
    const char *old;
    size_t oldlen;
    lp_get(n->lp, off, &old, &oldlen);
    size_t bytes = lp_bytes(n->lp) - ql_elem_size(oldlen) + ql_elem_size(len);
    if (ql_fits(ql, bytes, ql_node_count(n)) || ql_node_count(n) == 1) {
        n->lp = lp_replace(n->lp, off, p, len);
        return true;
    }
    /* The bigger element no longer fits its node: delete it and insert
     * the new one through the insertion path, which finds it room. */
    long long i = idx < 0 ? idx + (long long)ql->count : idx;
    n->lp = lp_delete(n->lp, off, 1);
    ql->count--;
    ql_iter it;
    ql_iter_init(&it, ql, QL_FORWARD, i > 0 ? i - 1 : 0);
    const char *q;
    size_t qlen;
    ql_iter_next(&it, &q, &qlen);
    ql_iter_insert(&it, i > 0, p, len);
    ql_iter_release(&it);
    return true;
}

size_t ql_del_range(quicklist *ql, long long start, size_t n) {
    if (start < 0) start += (long long)ql->count;
    if (start < 0 || start >= (long long)ql->count || n == 0) return 0;
    if (n > ql->count - (size_t)start) n = ql->count - (size_t)start;
    long nidx;
    ql_node *node = ql_locate(ql, start, &nidx);
    size_t left = n;
    while (left && node) {
        ql_node *next = node->next;
        long c = ql_node_count(node);
        size_t here = (size_t)(c - nidx);
        if (here > left) here = left;
        if (nidx == 0 && here == (size_t)c) {
            ql_node_remove(ql, node);
        } else {
            size_t off = ql_node_off(ql, node, nidx);
            node->lp = lp_delete(node->lp, off, (uint32_t)here);
            ql->count -= here;
            if (node == ql->tail && ql->toffs) {
                if ((size_t)nidx + here == (size_t)c)
                    ql->tn = (uint32_t)nidx; /* a suffix went: the rest stay */
                else
                    ql_tail_cache_drop(ql);
            }
        }
        left -= here;
        node = next;
        nidx = 0;
    }
    return n;
}

/* ------------------------------------------------------------ iterator */

static void ql_iter_load_offsets(ql_iter *it) {
    ql_node *n = it->node;
    size_t c = (size_t)ql_node_count(n);
    if (c > it->offs_cap) {
        mem_free(it->offs);
        it->offs_cap = c < 64 ? 64 : c;
        it->offs = mem_alloc(it->offs_cap * sizeof(size_t));
    }
    size_t off = lp_first(n->lp);
    for (size_t i = 0; i < c; i++) {
        it->offs[i] = off;
        const char *p;
        size_t len;
        off = lp_get(n->lp, off, &p, &len);
    }
}

void ql_iter_init(ql_iter *it, quicklist *ql, int dir, long long start) {
    memset(it, 0, sizeof *it);
    it->ql = ql;
    it->dir = dir;
    long nidx = 0;
    it->node = ql_locate(ql, start, &nidx);
    it->nidx = nidx;
    if (!it->node) return;
    if (dir == QL_FORWARD)
        it->noff = ql_node_off(ql, it->node, nidx);
    else
        ql_iter_load_offsets(it);
}

bool ql_iter_next(ql_iter *it, const char **p, size_t *len) {
    ql_node *n = it->node;
    if (!n) return false;
    it->cur = n;
    it->cidx = it->nidx;
    if (it->dir == QL_FORWARD) {
        it->coff = it->noff;
        it->noff = lp_get(n->lp, it->coff, p, len);
        if (++it->nidx >= ql_node_count(n)) {
            it->node = n->next;
            it->nidx = 0;
            it->noff = LP_HEADER;
        }
    } else {
        it->coff = it->offs[it->nidx];
        lp_get(n->lp, it->coff, p, len);
        if (--it->nidx < 0) {
            it->node = n->prev;
            if (it->node) {
                it->nidx = ql_node_count(it->node) - 1;
                ql_iter_load_offsets(it);
            }
        }
    }
    return true;
}

void ql_iter_delete(ql_iter *it) {
    ql_node *n = it->cur;
    if (!n) return;
    it->cur = NULL;
    ql_tail_cache_drop(it->ql);
    if (ql_node_count(n) == 1) {
        ql_node_remove(it->ql, n); /* the iterator has already left it */
        return;
    }
    n->lp = lp_delete(n->lp, it->coff, 1);
    it->ql->count--;
    if (it->dir == QL_FORWARD && it->node == n) {
        it->nidx--;
        it->noff = it->coff;
    }
    /* Backward: the next element precedes the deleted one; its offset is
     * unchanged. */
}

void ql_iter_insert(ql_iter *it, bool after, const char *p, size_t len) {
    quicklist *ql = it->ql;
    ql_node *n = it->cur;
    ql_tail_cache_drop(ql);
    it->node = NULL; /* the iteration ends */
    it->cur = NULL;
    if (!n) return;
    long c = ql_node_count(n);
    size_t at = it->coff; /* offset to insert at */
    if (after) {
        const char *q;
        size_t qlen;
        at = lp_get(n->lp, it->coff, &q, &qlen);
    }
    ql->count++;
    if (ql_allow_insert(ql, n, len)) {
        n->lp = lp_insert(n->lp, at, p, len);
        return;
    }
    bool at_tail = after && it->cidx == c - 1;
    bool at_head = !after && it->cidx == 0;
    if (at_tail && ql_allow_insert(ql, n->next, len)) {
        n->next->lp = lp_insert(n->next->lp, lp_first(n->next->lp), p, len);
        return;
    }
    if (at_head && ql_allow_insert(ql, n->prev, len)) {
        n->prev->lp = lp_append(n->prev->lp, p, len);
        return;
    }
    if (at_tail || at_head) {
        ql_node *fresh = ql_node_new(NULL);
        fresh->lp = lp_append(fresh->lp, p, len);
        if (at_tail)
            ql_link_after(ql, n, fresh);
        else
            ql_link_before(ql, n, fresh);
        return;
    }
    /* Split n at the insertion point: the elements from `at` on move to a
     * new node that follows n. */
    ql_node *second = ql_node_new(NULL);
    size_t off = at, end = lp_end(n->lp);
    uint32_t moved = 0;
    while (off < end) {
        const char *q;
        size_t qlen;
        off = lp_get(n->lp, off, &q, &qlen);
        second->lp = lp_append(second->lp, q, qlen);
        moved++;
    }
    n->lp = lp_delete(n->lp, at, moved);
    ql_link_after(ql, n, second);
    if (ql_allow_insert(ql, n, len)) {
        n->lp = lp_append(n->lp, p, len);
    } else if (ql_allow_insert(ql, second, len)) {
        second->lp = lp_insert(second->lp, lp_first(second->lp), p, len);
    } else {
        ql_node *fresh = ql_node_new(NULL);
        fresh->lp = lp_append(fresh->lp, p, len);
        ql_link_after(ql, n, fresh);
    }
    ql_try_merge(ql, second, second->next);
    ql_try_merge(ql, n->prev, n);
}

void ql_iter_release(ql_iter *it) {
    mem_free(it->offs);
    it->offs = NULL;
    it->offs_cap = 0;
}
