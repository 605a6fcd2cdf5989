/*
 * stream.h - the stream value (OBJ_STREAM): entries in nodes that keep
 * Redis 7.0's stream listpack layout element for element, an array index
 * of the nodes, and the stream's metadata. The commands are t_stream.c.
 *
 * Node layout (Redis's t_stream.c big comment, same elements in the same
 * order; integers are kept as their decimal text in slotcache's listpack,
 * listpack.h, which has no back-lengths and so costs fewer bytes):
 *   master entry: count | deleted | num-fields | field_1 .. field_N | 0
 *   each entry:   flags | ms-diff | seq-diff | [num-fields | field value
 *                 ...] (or just the values when flags has SAMEFIELDS) |
 *                 lp-count
 * where count/deleted are the node's live and tombstoned entries, the IDs
 * are deltas to the node's master ID, and a deleted entry keeps its place
 * with the DELETED flag until its node is freed. rbytes tracks the size
 * the node would have as a Redis listpack, so that stream-node-max-bytes
 * cuts nodes where redis-server cuts them (same node count, same
 * approximate-trim results, same RDB nodes).
 *
 * Index: an array of nodes sorted by master ID; live nodes are
 * [start, end): appending a node is O(1) amortized, removing the first
 * (trimming) is start++, a range starts with a binary search. The array is
 * compacted when start passes half of it.
 *
 * Consumer groups: stream_group.h (groups by name, each with last_id,
 * entries_read, a PEL sorted by ID and consumers by name with their own
 * PELs); stream_free / stream_dup / stream_mem cover them.
 *
 * Not thread-safe: the key's slot lock protects a stream.
 */
#ifndef STREAM_H
#define STREAM_H

#include "listpack.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t ms, seq;
} stream_id;

typedef struct {
    stream_id master; /* the master entry's ID: every entry's ID is a delta to it */
    listpack *lp;
    uint32_t rbytes;  /* lpBytes of the same node as a Redis listpack */
} stream_node;

struct stream_groups; /* stream_group.h */

typedef struct stream {
    stream_node *nodes;
    uint32_t start, end, cap; /* live nodes are nodes[start .. end) */
    uint64_t length;          /* live entries */
    stream_id last_id;        /* last generated (XADD, XSETID) */
    stream_id first_id;       /* first live entry; 0-0 when empty */
    stream_id max_deleted_entry_id;
    uint64_t entries_added;   /* all entries ever added */
    struct stream_groups *groups; /* consumer groups (stream_group.h); NULL when none was ever made */
} stream;

#define STREAM_FLAG_NONE 0
#define STREAM_FLAG_DELETED 1
#define STREAM_FLAG_SAMEFIELDS 2

/* Largest payload of one entry (Redis's STREAM_LISTPACK_MAX_SIZE). */
#define STREAM_LISTPACK_MAX_SIZE (1 << 30)

stream *stream_new(void);
void stream_free(stream *s);
stream *stream_dup(const stream *s);
size_t stream_mem(const stream *s);
static inline uint32_t stream_node_count(const stream *s) { return s->end - s->start; }

int stream_id_cmp(const stream_id *a, const stream_id *b);
/* id+1 / id-1; false on overflow (Redis's streamIncrID/streamDecrID). */
bool stream_id_incr(stream_id *id);
bool stream_id_decr(stream_id *id);
/* "ms-seq" into buf (>= 42 bytes); returns its length. */
size_t stream_id_format(const stream_id *id, char *buf);
/* The 128-bit big-endian form of an ID (Redis's rax keys: a stream node's
 * key and the PEL IDs in RDB), and back. */
void stream_id_to_key(const stream_id *id, unsigned char key[16]);
void stream_id_from_key(const unsigned char key[16], stream_id *id);

/* Append an entry with ID id (the caller checked id > last_id) and
 * nfields field/value pairs given as pointers/lengths (f[2i] field,
 * f[2i+1] value). Updates length, last_id, entries_added, first_id. */
void stream_append(stream *s, const stream_id *id, int64_t nfields, const char *const *p, const size_t *len);

/* Trimming (Redis's streamTrim). */
enum { STREAM_TRIM_NONE = 0, STREAM_TRIM_MAXLEN = 1, STREAM_TRIM_MINID = 2 };
typedef struct {
    int strategy;
    bool approx;
    long long limit; /* 0: no limit */
    long long maxlen;
    stream_id minid;
} stream_trim_args;
int64_t stream_trim(stream *s, const stream_trim_args *a);

/* True if id is a live entry (Redis's streamEntryExists). */
bool stream_entry_exists(const stream *s, const stream_id *id);
/* Delete one entry; true if it existed (live). */
bool stream_delete(stream *s, const stream_id *id);
/* First / last live entry ID; false when the stream has none. */
bool stream_first_live(const stream *s, stream_id *id);
bool stream_last_live(const stream *s, stream_id *id);
/* First entry ID, tombstones included (Redis's streamGetEdgeID(s,1,0)). */
void stream_first_any(const stream *s, stream_id *id);

/* Iterator over live entries in [start, end], forward or reverse. */
typedef struct {
    const stream *s;
    stream_id start, end;
    bool rev;
    uint32_t node;       /* index into s->nodes of the current node */
    bool in_node;
    /* the current node */
    size_t master_fields; /* offset of the master's first field */
    int64_t master_n;
    size_t off;          /* forward: next entry's offset */
    size_t *offs;        /* reverse: entry offsets of the node */
    size_t noffs, offs_cap;
    /* the current entry */
    bool samefields;
    size_t fpos, mpos;   /* next field/value (or value) offset; next master field offset */
} stream_iter;

void stream_iter_start(stream_iter *it, const stream *s, const stream_id *start, const stream_id *end, bool rev);
/* Next live entry: its ID and number of fields; false at the end. */
bool stream_iter_next(stream_iter *it, stream_id *id, int64_t *nfields);
/* The entry's next field and value (call nfields times). */
void stream_iter_field(stream_iter *it, const char **f, size_t *flen, const char **v, size_t *vlen);
void stream_iter_stop(stream_iter *it);

/* Read-only access for the RDB writer: the elements of node i. */
const stream_node *stream_node_at(const stream *s, uint32_t i);

/* Loader: validate a node (Redis's deep stream listpack check, plus node
 * master IDs strictly increasing, each node's first entry at or past its
 * master ID, live entries' IDs strictly increasing across the stream, counts
 * matching the flags) and append it, adding its live entries to
 * s->length. `last_live` carries the last live entry's ID from node to
 * node (read only when s->length > 0). False with a reason, lp left to
 * the caller, on a corrupt node. */
bool stream_load_node(stream *s, const stream_id *master, listpack *lp, uint32_t rbytes, stream_id *last_live,
                      const char **why);
/* The last entry's ID, tombstones included; false when there is none. */
bool stream_last_any(const stream *s, stream_id *id);

#endif
