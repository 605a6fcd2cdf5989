/*
 * slotmap.h - the published view of slot ownership that workers route by.
 *
 * The cluster's state (cluster_state.h: nodes, epochs, slots) belongs to
 * the bus thread and to CLUSTER commands under cluster_lock(). Workers never
 * read it: before they take slot locks they read one immutable slotmap,
 * published whole by whoever changed the state (slotmap_publish, with
 * cluster_lock held) and read without locks inside an epoch section
 * (ck_epoch). An old map is freed once no reader can still hold it.
 *
 * A map carries what routing needs (Redis 7.0's getNodeByQuery): each
 * slot's owner, migrating and importing peers, whether the cluster state
 * is ok, which node is myself and whose replica myself is, and each node's
 * preferred endpoint for -MOVED / -ASK. `version` grows by one per
 * publication: dispatch's second phase (after taking slot locks) re-reads
 * it to see that nothing moved meanwhile.
 */
#ifndef SLOTMAP_H
#define SLOTMAP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define CLUSTER_SLOTS 16384
#define CLUSTER_NAMELEN 40
#define SLOTMAP_NONE 0xFFFFu

typedef struct slotmap_node {
    char id[CLUSTER_NAMELEN];
    /* What -MOVED / -ASK print before ":port": the ip, the hostname (or
     * "?"), or "" for unknown-endpoint (Redis 7.0.15's getPreferredEndpoint
     * returns "" there: "-MOVED 3999 :6381"), by
     * cluster-preferred-endpoint-type. NUL-terminated. */
    char endpoint[256];
    int port;       /* the client port it announces */
    int master;     /* index of its master in nodes[], -1 for a master */
    bool is_master;
} slotmap_node;

/* One bit per slot. */
#define SLOTMAP_WORDS (CLUSTER_SLOTS / 64)

typedef struct slotmap {
    uint64_t version;
    bool ok;                 /* cluster_state:ok */
    int myself;              /* index into nodes[] */
    /* Slots myself owns with no migration or import open: a command whose
     * keys all fall in one of them is served here whatever the client's
     * flags (route_decide answers SERVE), which routing's fast path tests
     * with one bit. */
    uint64_t stable_mine[SLOTMAP_WORDS];
    uint16_t owner[CLUSTER_SLOTS];          /* index into nodes[] or SLOTMAP_NONE */
    uint16_t migrating_to[CLUSTER_SLOTS];   /* SLOTMAP_NONE unless myself migrates the slot */
    uint16_t importing_from[CLUSTER_SLOTS]; /* SLOTMAP_NONE unless myself imports the slot */
    int nnodes;
    slotmap_node nodes[];
} slotmap;

/* Any thread: the current map, valid until slotmap_read_end() on the same
 * thread. Never NULL once cluster_init() ran in cluster mode; NULL in a
 * standalone server. Not nestable; keep the section short (no blocking). */
const slotmap *slotmap_read_begin(void);
void slotmap_read_end(void);
/* The current map's version without entering a section (0: no map). */
uint64_t slotmap_version(void);

/* A thread's own copy of the current map's fast-path facts, refreshed when
 * the version moved (a 2 KiB copy inside one read section, once per
 * publication per thread): routing's common case then costs one atomic
 * load, one compare and one bit test, and enters no epoch section. */
typedef struct slotmap_local {
    uint64_t version; /* of the map it was copied from; 0: none yet */
    bool ok;
    uint64_t stable_mine[SLOTMAP_WORDS];
} slotmap_local;

/* The calling thread's copy (slotmap_tl) is current when its version is
 * slotmap_current_version's; slotmap_local_refresh copies the current map.
 * A version seen is at most the current map's (the publisher swaps the
 * pointer, then stores the version), so a copy is never older than the
 * version that prompted it. Both start at 0 with ok false: no map yet. */
extern _Thread_local slotmap_local slotmap_tl;
extern _Atomic uint64_t slotmap_current_version;
void slotmap_local_refresh(void);

/* With cluster_lock() held: build a map from the cluster state, publish it
 * and free the previous one once no reader holds it (waits for readers'
 * sections to end: microseconds). */
void slotmap_publish(void);
/* Shutdown (cluster_shutdown, after the workers and the bus stopped): free
 * the current map; slotmap_read_begin answers NULL afterwards. */
void slotmap_free(void);
/* With cluster_lock() held: the current map's endpoints were chosen by
 * another cluster-preferred-endpoint-type than the one set now (CONFIG
 * SET), so it must be published again (the bus checks once per tick). */
bool slotmap_endpoints_stale(void);

#endif
