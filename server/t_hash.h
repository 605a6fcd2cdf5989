/*
 * t_hash.h - the hash type API (t_hash.c): an encoding-agnostic map of
 * byte-string fields to byte-string values, stored as a listpack (field,
 * value, field, value...) while small and as a dict with inline values once
 * it outgrows hash-max-listpack-entries / hash-max-listpack-value. A hash
 * never converts back, as in Redis.
 *
 * A `hash *` is what the keyspace entry's pointer holds: a listpack pointer,
 * or a dict pointer with its low bit set (so free/dup/mem work without the
 * entry's encoding byte). Functions that modify take `hash **` because a
 * listpack may move and a conversion swaps the representation; the caller
 * stores the new pointer back (entry_set_ptr + entry_set_encoding).
 * Pointers returned by lookups and iterators are valid until the next change.
 */
#ifndef T_HASH_H
#define T_HASH_H

#include "dict.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hash hash;

/* Conversion thresholds (hash-max-listpack-entries, hash-max-listpack-value). */
typedef struct {
    long long max_entries;
    long long max_value;
} hash_limits;

/* The thresholds currently configured. */
void hash_limits_from_config(hash_limits *lim);

hash *hash_new(void); /* empty, listpack-encoded */
void hash_free(hash *h);
hash *hash_dup(const hash *h);
unsigned hash_encoding(const hash *h); /* ENC_LISTPACK or ENC_HASHTABLE */
uint64_t hash_len(const hash *h);
size_t hash_mem(const hash *h);

bool hash_get(const hash *h, const char *f, size_t flen, const char **v, size_t *vlen);
bool hash_exists(const hash *h, const char *f, size_t flen);

/* Convert a listpack hash to a hashtable (no-op for a hashtable). */
void hash_convert(hash **h);
/* Set field f to v; returns true when the field is new. A listpack hash
 * converts first when f or v is longer than lim->max_value (or the listpack
 * would pass its 1 GB safety size), and after the insert when it holds more
 * than lim->max_entries fields. */
bool hash_set(hash **h, const char *f, size_t flen, const char *v, size_t vlen, const hash_limits *lim);
/* Remove field f; returns true if it existed. */
bool hash_delete(hash **h, const char *f, size_t flen);

/* HINCRBY / HINCRBYFLOAT on one field (absent field = 0). On success the
 * new value is stored and returned (for the float form as the text stored,
 * written to buf of HASH_LD_BUF bytes). */
enum { HASH_OK = 0, HASH_ERR_NOT_INT, HASH_ERR_OVERFLOW, HASH_ERR_NOT_FLOAT, HASH_ERR_NAN };
#define HASH_LD_BUF (5 * 1024) /* Redis's MAX_LONG_DOUBLE_CHARS */
int hash_incrby(hash **h, const char *f, size_t flen, long long incr, long long *out, const hash_limits *lim);
int hash_incrbyfloat(hash **h, const char *f, size_t flen, long double incr, char *buf, size_t *len,
                     const hash_limits *lim);

/* Iteration in storage order (insertion order for listpacks). */
typedef struct {
    const hash *h;
    size_t off;  /* listpack offset */
    dict_iter di;
} hash_iter;
void hash_iter_init(hash_iter *it, const hash *h);
bool hash_iter_next(hash_iter *it, const char **f, size_t *flen, const char **v, size_t *vlen);

/* Visitor for sampling and scanning; return false to stop early. */
typedef bool hash_visit_fn(const char *f, size_t flen, const char *v, size_t vlen, void *arg);

/* HRANDFIELD sampling. distinct: min(count, len) different fields (the whole
 * hash in storage order when count >= len); otherwise count fields drawn
 * independently (repeats allowed). rnd supplies random numbers. */
void hash_random_fields(const hash *h, uint64_t count, bool distinct, uint64_t (*rnd)(void), hash_visit_fn *fn,
                        void *arg);

/* One HSCAN step: a listpack visits everything and returns 0; a hashtable
 * visits one bucket of the reverse-binary cursor and returns the next. */
uint64_t hash_scan(const hash *h, uint64_t cursor, hash_visit_fn *fn, void *arg);

#endif
