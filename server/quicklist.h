/*
 * quicklist.h - the list value: a doubly linked list of listpack nodes
 * (listpack.h), as Redis's quicklist. Push and pop at both ends are O(1)
 * (plus the node-local listpack work), indexing is O(n) over nodes.
 *
 * Node size is bounded by the list's fill, taken from list-max-listpack-size
 * when the list is created: -1..-5 = at most 4/8/16/32/64 KB of listpack per
 * node; a positive fill = at most that many elements per node, and never
 * more than 8 KB (except a single element larger than that, which gets a
 * node of its own). Indexes follow Redis: 0 is the head, -1 the tail.
 * Not thread-safe: the owning key's slot lock protects a quicklist.
 */
#ifndef QUICKLIST_H
#define QUICKLIST_H

#include "listpack.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { QL_HEAD = 0, QL_TAIL = 1 };             /* ends, for push/pop */
enum { QL_FORWARD = 0, QL_BACKWARD = 1 };      /* iteration direction */

#define QL_FILL_MIN (-5)
#define QL_FILL_MAX 32767
#define QL_SIZE_SAFETY_LIMIT 8192

typedef struct ql_node {
    struct ql_node *prev, *next;
    listpack *lp;
} ql_node;

typedef struct quicklist {
    ql_node *head, *tail;
    size_t count;   /* elements */
    size_t nodes;
    int fill;
    /* Offsets of the tail node's elements, built on the first tail read of
     * a long node and kept through tail pushes and pops (NULL: none). */
    uint16_t *toffs;
    uint32_t tn, tcap;
} quicklist;

/* fill is clamped to [QL_FILL_MIN, QL_FILL_MAX]. */
quicklist *ql_new(int fill);
void ql_free(quicklist *ql);
quicklist *ql_dup(const quicklist *ql);
static inline size_t ql_count(const quicklist *ql) { return ql->count; }
/* Bytes allocated for the list (struct, nodes, listpacks). */
size_t ql_mem(const quicklist *ql);

void ql_push(quicklist *ql, int where, const char *p, size_t len);
/* The element at an end (pointer into the node, valid until the next
 * change); false when the list is empty. */
bool ql_peek(quicklist *ql, int where, const char **p, size_t *len);
/* Remove the element at an end (no-op on an empty list). */
void ql_pop(quicklist *ql, int where);

/* Element number idx (negative from the tail); false when out of range. */
bool ql_index(quicklist *ql, long long idx, const char **p, size_t *len);
/* Overwrite element number idx; false when out of range. */
bool ql_replace(quicklist *ql, long long idx, const char *p, size_t len);
/* Delete up to n elements starting at index start (negative from the
 * tail); returns how many were deleted. */
size_t ql_del_range(quicklist *ql, long long start, size_t n);

/* Iterator: returns elements one by one from a start index in a direction;
 * the element last returned may be deleted (iteration continues with the
 * one after it) or used as the pivot of an insertion (which ends the
 * iteration). Any other change of the list invalidates the iterator. */
typedef struct {
    quicklist *ql;
    int dir;
    ql_node *node;    /* node of the next element, NULL at the end */
    long nidx;        /* its index in that node */
    size_t noff;      /* its offset (forward only) */
    ql_node *cur;     /* element last returned */
    long cidx;
    size_t coff;
    size_t *offs;     /* backward: offsets of node's elements */
    size_t offs_cap;
} ql_iter;

void ql_iter_init(ql_iter *it, quicklist *ql, int dir, long long start);
bool ql_iter_next(ql_iter *it, const char **p, size_t *len);
void ql_iter_delete(ql_iter *it);
/* Insert before or after the element last returned; ends the iteration. */
void ql_iter_insert(ql_iter *it, bool after, const char *p, size_t len);
void ql_iter_release(ql_iter *it);

#endif
