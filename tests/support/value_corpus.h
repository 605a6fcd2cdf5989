/*
 * value_corpus.h - the values the differential suites load into slotcache
 * and redis-server alike (test_dump_redis.c, test_debug_digest.c): families
 * of deterministic, binary-safe elements, string edge cases, and the
 * batched commands that build a collection of generated elements (sorted
 * sets get special scores first: inf, -inf, -0, fractions, huge and tiny).
 * No I/O here: the caller sends each command and checks its reply.
 */
#ifndef VALUE_CORPUS_H
#define VALUE_CORPUS_H

#include <stddef.h>

/* Element families. MIXED: integers, words and binary, every ninth empty. */
enum { CORPUS_WORDS, CORPUS_INTS, CORPUS_SMALL, CORPUS_BIG, CORPUS_BIN, CORPUS_MIXED, CORPUS_LONG };
#define CORPUS_ELEM_MAX 16000 /* bytes of the longest element */

/* Element i of family kind written to buf (CORPUS_ELEM_MAX bytes); returns
 * its length. */
size_t corpus_gen(int kind, int i, char *buf);

/* String values: integer edge cases, embstr / raw lengths, binary. */
typedef struct {
    const char *key;
    size_t len; /* 0: strlen */
    const char *val;
} corpus_string;
extern const corpus_string corpus_strings[];
extern const size_t corpus_nstrings;

/* Send one command; the callback checks the reply. */
typedef void corpus_send_fn(int argc, const char **argv, const size_t *lens, void *arg);
/* `cmd key` (RPUSH, LPUSH, SADD: elements; ZADD: score member; HSET: field
 * value) with elements 0..n-1 of family kind, 200 per command. Not
 * reentrant (static buffers). */
void corpus_build(const char *cmd, const char *key, int n, int kind, corpus_send_fn *send, void *arg);

#endif
