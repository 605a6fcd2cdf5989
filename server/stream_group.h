/*
 * stream_group.h - a stream's consumer groups (the value's `groups`
 * field): groups by name, each with its pending entries list (PEL) and
 * its consumers. The commands are t_stream_group.c; the RDB loader and
 * writer read and build groups through this API only.
 *
 * Layout:
 * - groups: a sorted array of group pointers, in byte order of the name
 *   (memcmp, a shorter prefix first: the order of Redis's rax, which XINFO
 *   GROUPS and the RDB list them in).
 * - a group's PEL: stream_nack {id, delivery_time, delivery_count,
 *   consumer*} ordered by ID, in sorted chunks of at most 128 entries
 *   under a sorted array of chunk headers (stream_gvec): an insert or a
 *   removal by ID is a binary search and moves at most one chunk's
 *   entries; appending (XREADGROUP >) and acknowledging the oldest entry
 *   (XACK in order) are O(1). Index access (stream_cg_pel_at) is O(1)
 *   in order, through a cursor kept in the group.
 * - consumers: a sorted array of consumer pointers by name (same order as
 *   groups); a consumer's PEL holds the IDs it owns (chunked the same
 *   way), each of them an entry of the group's PEL whose consumer points
 *   back at it. An
 *   entry without an owner exists only while a loader builds a group.
 *
 * Ownership and lifetime: the stream owns its groups, a group its PEL and
 * consumers. A stream_nack pointer is valid until that group's PEL next
 * changes (an insert or removal may move a chunk); group and consumer
 * pointers until that group / consumer is destroyed. The index accessors
 * take const pointers but move the cursor: like every other access, they
 * need the key's slot lock.
 *
 * Not thread-safe: the key's slot lock protects the stream and its groups.
 */
#ifndef STREAM_GROUP_H
#define STREAM_GROUP_H

#include "stream.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* entries_read when it is unknown (Redis's SCG_INVALID_ENTRIES_READ). */
#define STREAM_CG_INVALID_ENTRIES_READ (-1LL)

typedef struct stream_consumer stream_consumer;

/* One pending entry (Redis's streamNACK plus its key). */
typedef struct {
    stream_id id;
    int64_t delivery_time;     /* ms, unix time of the last delivery */
    uint64_t delivery_count;
    stream_consumer *consumer; /* owner; NULL only while a loader builds the group */
} stream_nack;

/* A sorted sequence of elements (each starting with its stream_id key) in
 * chunks of at most 128, with an index cursor. Internal to stream_group.c,
 * here for the structs' sake. */
typedef struct {
    char *buf;
    uint32_t n, cap;
} stream_gchunk;

typedef struct {
    stream_gchunk *chunks;
    size_t start, end, cap; /* live chunk headers are [start, end) of cap */
    size_t count;           /* elements */
    size_t cur, cur_base;   /* index cursor: a chunk and the index of its first element */
} stream_gvec;

struct stream_consumer {
    int64_t seen_time; /* ms, unix time of the last command naming it */
    stream_gvec pel;   /* stream_id, ascending */
    size_t name_len;
    char name[];
};

typedef struct stream_cg {
    stream_id last_id;     /* last delivered ID */
    long long entries_read; /* STREAM_CG_INVALID_ENTRIES_READ when unknown */
    stream_gvec pel;       /* stream_nack, ascending by ID */
    stream_consumer **consumers;
    size_t nconsumers, consumers_cap;
    size_t name_len;
    char name[];
} stream_cg;

/* The set of a stream's groups (stream.groups; NULL when it never had one). */
typedef struct stream_groups {
    stream_cg **v;
    size_t n, cap;
} stream_groups;

/* ---------------------------------------------------------------- groups */

size_t stream_cg_count(const stream *s);
/* The i-th group in name order, i < stream_cg_count(s). */
stream_cg *stream_cg_at(const stream *s, size_t i);
stream_cg *stream_cg_find(const stream *s, const char *name, size_t len);
/* A new group; NULL when one of that name exists (Redis's streamCreateCG). */
stream_cg *stream_cg_create(stream *s, const char *name, size_t len, const stream_id *last_id,
                            long long entries_read);
/* Destroy the named group with its PEL and consumers; false if absent. */
bool stream_cg_destroy(stream *s, const char *name, size_t len);

/* ---------------------------------------------------------------- PEL */

static inline size_t stream_cg_pel_count(const stream_cg *cg) { return cg->pel.count; }
/* The i-th pending entry in ID order, i < stream_cg_pel_count(cg): O(1)
 * when i is next to the previous index asked (iterating in order), else
 * O(chunks in between). */
stream_nack *stream_cg_pel_at(const stream_cg *cg, size_t i);
/* Index of the first pending entry with ID >= id (the count when none). */
size_t stream_cg_pel_seek(const stream_cg *cg, const stream_id *id);
stream_nack *stream_cg_pel_find(const stream_cg *cg, const stream_id *id);
/* Add a pending entry owned by consumer (NULL: no owner yet, loader only);
 * NULL when the ID is pending already. */
stream_nack *stream_cg_pel_add(stream_cg *cg, const stream_id *id, int64_t delivery_time, uint64_t delivery_count,
                               stream_consumer *consumer);
/* Loader: give the unowned pending entry id to consumer; false when the ID
 * is not pending or has an owner already. */
bool stream_cg_pel_assign(stream_cg *cg, stream_consumer *consumer, const stream_id *id);
/* Hand the pending entry (owned) to consumer (same owner: no change). */
void stream_cg_pel_move(stream_cg *cg, stream_nack *nack, stream_consumer *consumer);
/* Remove a pending entry from the group and its owner; false if absent. */
bool stream_cg_pel_delete(stream_cg *cg, const stream_id *id);

/* ---------------------------------------------------------------- consumers */

static inline size_t stream_cg_consumer_count(const stream_cg *cg) { return cg->nconsumers; }
/* The i-th consumer in name order, i < stream_cg_consumer_count(cg). */
static inline stream_consumer *stream_cg_consumer_at(const stream_cg *cg, size_t i) { return cg->consumers[i]; }
stream_consumer *stream_cg_consumer_find(const stream_cg *cg, const char *name, size_t len);
/* A new consumer; NULL when one of that name exists. */
stream_consumer *stream_cg_consumer_create(stream_cg *cg, const char *name, size_t len, int64_t seen_time);
/* Delete a consumer and its pending entries from the group's PEL (Redis's
 * streamDelConsumer); returns how many were pending. */
size_t stream_cg_consumer_delete(stream_cg *cg, stream_consumer *consumer);

static inline size_t stream_consumer_pel_count(const stream_consumer *sc) { return sc->pel.count; }
/* The consumer's i-th pending ID in ID order (cost as stream_cg_pel_at). */
const stream_id *stream_consumer_pel_at(const stream_consumer *sc, size_t i);
/* Index of the consumer's first pending ID >= id. */
size_t stream_consumer_pel_seek(const stream_consumer *sc, const stream_id *id);

/* ---------------------------------------------------------------- read counters and lag */

/* Redis's streamRangeHasTombstones: a deleted entry may lie in [start, end]
 * (NULL: open), judged from max_deleted_entry_id. */
bool stream_range_has_tombstones(const stream *s, const stream_id *start, const stream_id *end);
/* Redis's streamEstimateDistanceFromFirstEverEntry: the read counter of id,
 * or STREAM_CG_INVALID_ENTRIES_READ when it cannot be known. */
long long stream_estimate_distance(const stream *s, const stream_id *id);
/* Redis's streamReplyWithCGLag's value: false when the lag is unknown. */
bool stream_cg_lag(const stream *s, const stream_cg *cg, long long *lag);
/* A group delivered id (> its last_id): last_id and entries_read follow
 * (Redis's streamReplyWithRange bookkeeping). */
void stream_cg_delivered(const stream *s, stream_cg *cg, const stream_id *id);

/* ---------------------------------------------------------------- value hooks (stream.c) */

void stream_groups_free(stream_groups *g);
stream_groups *stream_groups_dup(const stream_groups *g);
size_t stream_groups_mem(const stream_groups *g);

#endif
