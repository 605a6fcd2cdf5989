/*
 * t_set.h - the set value (OBJ_SET) and its encoding-agnostic API, used by
 * the SET commands in t_set.c and by tests.
 *
 * A set is an intset (every member a canonical integer, at most
 * set-max-intset-entries of them) or a dict of member strings (keys only),
 * as in Redis 7.0; it moves from intset to hashtable when a non-integer
 * member is added or the intset grows past the limit, and never back.
 * The keyspace entry points at a small set_value header that stays put
 * while the encoding changes underneath it.
 */
#ifndef T_SET_H
#define T_SET_H

#include "dict.h"
#include "intset.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct set_value {
    unsigned enc; /* ENC_INTSET or ENC_HASHTABLE (entry.h) */
    union {
        intset *is;
        dict *d;
    } u;
} set_value;

/* One member. For intset members `p` points into the iterator's (or the
 * caller's) buffer, for hashtable members into the dict: valid until the
 * set changes or the iterator moves on. */
typedef struct {
    const char *p;
    size_t len;
    bool is_int; /* member came from an intset: `v` holds it */
    int64_t v;
} set_elem;

#define SET_ELEM_BUF 24

/* Redis caps the intset limit at 2^30 entries. */
#define SET_MAX_INTSET_CAP (1u << 30)

set_value *set_new(void); /* empty, intset-encoded */
set_value *set_new_ht(void);
/* An intset-encoded set owning `is` (not empty, within the limit). */
set_value *set_new_from_intset(intset *is);
void set_free(set_value *s);
set_value *set_dup(const set_value *s);
size_t set_size(const set_value *s);
size_t set_mem(const set_value *s);

/* max_intset: the set-max-intset-entries limit (see set_max_intset()). */
bool set_add(set_value *s, const char *m, size_t len, size_t max_intset);
bool set_add_elem(set_value *s, const set_elem *e, size_t max_intset);
bool set_remove(set_value *s, const char *m, size_t len);
bool set_remove_elem(set_value *s, const set_elem *e);
bool set_contains(const set_value *s, const char *m, size_t len);
bool set_contains_elem(const set_value *s, const set_elem *e);
void set_convert_to_ht(set_value *s);

/* Iteration (no changes to the set meanwhile). Intsets come in ascending
 * order. */
typedef struct {
    const set_value *s;
    uint32_t i;
    dict_iter di;
    char buf[SET_ELEM_BUF];
} set_iter;
void set_iter_init(set_iter *it, const set_value *s);
bool set_iter_next(set_iter *it, set_elem *out);

/* A random member of a non-empty set; buf holds int members' text. */
void set_random(const set_value *s, set_elem *out, char buf[SET_ELEM_BUF]);

/* The current set-max-intset-entries setting, capped like Redis. */
size_t set_max_intset(void);

#endif
