/*
 * prefetch.h - memory prefetching for a batch of pipelined commands.
 *
 * A lookup of a key costs three dependent cache misses (the slot's table
 * header, the home bucket, the entry); for one command they are paid one
 * after the other. When a read brings several commands, the worker first
 * scans the next few, hashes their first key argument and prefetches those
 * lines in three rounds (all headers, then all buckets, then all entries),
 * so the misses of the batch overlap. The computed slot and hash are kept,
 * keyed by the argument's address in the read buffer, and dispatch takes
 * them instead of hashing the key again.
 *
 * Everything here is a hint: a wrong guess (argv[1] is not a key, the
 * command changes the database) costs a little time, never a wrong answer.
 * State is per worker thread; prefetch_reset() must run before the buffer
 * the batch points into is reused.
 */
#ifndef PREFETCH_H
#define PREFETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Scan the RESP commands at buf[0..len) (complete ones only, at most a
 * batch), prefetch their keys in database `db`, and return the number of
 * bytes covered (0 when there is nothing worth prefetching). */
size_t prefetch_commands(int db, const char *buf, size_t len);

/* If `key` (by address and length) was hashed by the last batch, give its
 * slot and key hash and return true. */
bool prefetch_take(const char *key, size_t len, unsigned *slot, uint64_t *hash);

/* Forget the batch (its buffer is about to be reused). */
void prefetch_reset(void);

#endif
