/*
 * snapshot.h - point-in-time snapshots of the whole keyspace without fork.
 *
 * snapshot_start() marks the point in time: it takes every slot lock (in
 * ascending order, the lock order), marks the snapshot active and every
 * slot "not yet serialized", and unlocks. From then on each slot is
 * serialized exactly once, with its content as of that point, by one of:
 * - the walker (the thread that calls snapshot_run()), slot after slot,
 *   under that slot's lock;
 * - a worker about to change a slot the walker has not reached yet: every
 *   change to the keyspace calls snapshot_before_write(slot) under the
 *   slot lock first (db.c: lookup for write, add, replace, delete, expire,
 *   flush, eviction; expire.c: active expiry; dispatch.c: the key slots of
 *   every write command, alone or inside EXEC, for values changed in
 *   place), which serializes the slot's pre-image first (slot-level
 *   copy-on-write) and queues it for the walker.
 * The walker writes the queued pre-images before it visits the next slot,
 * so the memory a snapshot costs is the pre-images not yet written, not a
 * copy of the dataset. The serialized slots reach the sink in the order
 * they were made; a slot's bytes are self-contained (the RDB sink starts
 * each with SELECTDB), so the order does not matter to a reader.
 *
 * One snapshot runs at a time. The sink's serialize_slot runs on a worker
 * (pre-image) or the walker, always under the slot's lock: it may read the
 * keyspace of that slot and allocate, nothing else. The sink's write runs on
 * the walker only.
 */
#ifndef SNAPSHOT_H
#define SNAPSHOT_H

#include "serial.h"

#include <stdatomic.h>
#include <stdbool.h>

typedef struct snapshot_sink {
    /* Append slot `slot`'s content (every database) to out. Caller holds
     * the slot lock. */
    void (*serialize_slot)(struct snapshot_sink *s, unsigned slot, serial_buf *out);
    /* Write bytes out (walker thread only); false stops the snapshot. */
    bool (*write)(struct snapshot_sink *s, const void *p, size_t len);
    /* Optional (may be NULL): called once by snapshot_start while it holds
     * every slot lock, i.e. exactly at the snapshot's point in time (the
     * replication master reads its stream offset here). In-memory work
     * only: no syscall, no slot lock. */
    void (*at_start)(struct snapshot_sink *s);
} snapshot_sink;

/* Start a snapshot feeding `sink`; false if one is already running. Call
 * from a thread that holds no slot lock other than those of a running EXEC
 * (which slot_lock treats as held). */
bool snapshot_start(snapshot_sink *sink);

/* Walk every slot and write the snapshot to the sink, then end the
 * snapshot. Returns false if a write failed (the snapshot is ended all the
 * same). Runs on the thread that will own the writes (the BGSAVE thread, or
 * the worker running SAVE). */
bool snapshot_run(void);

/* Make the running snapshot (if any) stop: its walker ends at the next
 * slot and snapshot_run returns false; writers stop copying pre-images.
 * Does not wait. (FLUSHALL and shutdown use it as Redis kills its child.) */
void snapshot_abort(void);

/* Slots serialized so far by workers (pre-images) and by the walker, for
 * INFO and tests. */
typedef struct {
    unsigned long preimages, walked;
    size_t queued_bytes_peak; /* the most pre-image bytes waiting at once */
} snapshot_stats;
snapshot_stats snapshot_last_stats(void);

extern _Atomic bool snapshot_active;
void snapshot_preimage(unsigned slot);

/* Before changing anything in `slot` (its lock held). One relaxed load
 * when no snapshot runs: the flag is written while every slot lock is held,
 * so a holder of a slot lock reads it exactly. */
static inline void snapshot_before_write(unsigned slot) {
    if (__builtin_expect(atomic_load_explicit(&snapshot_active, memory_order_relaxed), 0))
        snapshot_preimage(slot);
}

#endif
