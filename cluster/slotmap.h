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

typedef struct slotmap {
    uint64_t version;
    bool ok;                 /* cluster_state:ok */
    int myself;              /* index into nodes[] */
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
