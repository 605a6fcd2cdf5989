/*
 * slotmap.c - publication of the slot map (slotmap.h): an immutable map
 * built from the cluster state under cluster_lock, swapped in through one
 * atomic pointer, read by any thread inside a ck_epoch section.
 *
 * Design: one ck_epoch domain; each thread registers its own record on
 * first use (a thread that exits gives its record back through a
 * pthread key destructor, and ck_epoch_recycle hands it to the next new
 * thread). The publisher swaps the pointer, then ck_epoch_synchronize
 * waits until no reader can still hold the old map, and frees it: readers
 * never wait, the (rare) publisher waits microseconds. Publication happens
 * under cluster_lock, so there is one publisher at a time.
 *
 * ck's fences are inline assembly that ThreadSanitizer cannot see: under
 * TSan the end of a read section releases the epoch domain and the
 * publisher acquires it once ck_epoch_synchronize returned, which is the
 * order ck_epoch guarantees (every section that could hold the old map
 * ended before it is freed).
 */
#include "slotmap.h"

#include "cluster_state.h"
#include "mem.h"

#include <assert.h>
#include <ck_epoch.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

static ck_epoch_t epoch_domain;

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
static void tsan_section_ended(void) { __tsan_release(&epoch_domain); }
static void tsan_readers_gone(void) { __tsan_acquire(&epoch_domain); }
#else
static void tsan_section_ended(void) {}
static void tsan_readers_gone(void) {}
#endif

static pthread_once_t domain_once = PTHREAD_ONCE_INIT;
static pthread_key_t record_key;
static _Thread_local ck_epoch_record_t *tl_record;
static _Thread_local ck_epoch_section_t tl_section;
static _Thread_local bool tl_in_section;

static _Atomic(slotmap *) current;
_Atomic uint64_t slotmap_current_version;
/* The cluster-preferred-endpoint-type the current map was built with, -1
 * for none (cluster_lock). */
static int built_endpoint_type = -1;

static void record_release(void *p) { ck_epoch_unregister(p); }

static void domain_init(void) {
    ck_epoch_init(&epoch_domain);
    pthread_key_create(&record_key, record_release);
}

static ck_epoch_record_t *my_record(void) {
    if (tl_record) return tl_record;
    pthread_once(&domain_once, domain_init);
    ck_epoch_record_t *r = ck_epoch_recycle(&epoch_domain, NULL);
    if (!r) {
        /* Never freed: ck_epoch keeps registered records in its list. */
        r = mem_alloc(sizeof *r);
        ck_epoch_register(&epoch_domain, r, NULL);
    }
    pthread_setspecific(record_key, r);
    tl_record = r;
    return r;
}

const slotmap *slotmap_read_begin(void) {
    if (!atomic_load_explicit(&current, memory_order_relaxed)) return NULL; /* standalone */
    assert(!tl_in_section);
    ck_epoch_begin(my_record(), &tl_section);
    tl_in_section = true;
    return atomic_load_explicit(&current, memory_order_acquire);
}

void slotmap_read_end(void) {
    if (!tl_in_section) return;
    tl_in_section = false;
    tsan_section_ended();
    ck_epoch_end(tl_record, &tl_section);
}

uint64_t slotmap_version(void) { return atomic_load_explicit(&slotmap_current_version, memory_order_acquire); }

_Thread_local slotmap_local slotmap_tl;

void slotmap_local_refresh(void) {
    const slotmap *m = slotmap_read_begin();
    if (m) {
        slotmap_tl.ok = m->ok;
        memcpy(slotmap_tl.stable_mine, m->stable_mine, sizeof slotmap_tl.stable_mine);
        slotmap_tl.version = m->version;
    } else {
        memset(&slotmap_tl, 0, sizeof slotmap_tl);
    }
    slotmap_read_end();
}

static int node_index(const cluster_node *n) {
    if (!n) return -1;
    for (int i = 0; i < cluster->nnodes; i++)
        if (cluster->nodes[i] == n) return i;
    return -1;
}

/* Build the map of the current state (cluster_lock held). Node indexes
 * are positions in cluster->nodes. */
static slotmap *build(uint64_t version) {
    int nn = cluster->nnodes;
    slotmap *m = mem_alloc(sizeof *m + (size_t)nn * sizeof m->nodes[0]);
    m->version = version;
    m->ok = cluster->state == CLUSTER_OK;
    m->myself = node_index(cluster->myself);
    m->nnodes = nn;
    int endpoint_type = cluster_endpoint_type();
    built_endpoint_type = endpoint_type;
    for (int i = 0; i < nn; i++) {
        const cluster_node *n = cluster->nodes[i];
        slotmap_node *o = &m->nodes[i];
        memcpy(o->id, n->name, CLUSTER_NAMELEN);
        const char *ep = cluster_preferred_endpoint(n, endpoint_type);
        size_t len = strlen(ep);
        if (len >= sizeof o->endpoint) len = sizeof o->endpoint - 1;
        memcpy(o->endpoint, ep, len);
        o->endpoint[len] = '\0';
        o->port = n->port;
        o->is_master = (n->flags & CLUSTER_NODE_MASTER) != 0;
        o->master = (n->flags & CLUSTER_NODE_SLAVE) ? node_index(n->slaveof) : -1;
    }
    /* The owner arrays by pointer -> index through a small lookup: a
     * node's index is its position, found once per run of equal owners. */
    const cluster_node *last[3] = {NULL, NULL, NULL};
    int last_idx[3] = {-1, -1, -1};
    cluster_node *const *arrays[3] = {cluster->slots, cluster->migrating_slots_to, cluster->importing_slots_from};
    uint16_t *outs[3] = {m->owner, m->migrating_to, m->importing_from};
    for (int a = 0; a < 3; a++) {
        for (int s = 0; s < CLUSTER_SLOTS; s++) {
            const cluster_node *n = arrays[a][s];
            if (!n) {
                outs[a][s] = SLOTMAP_NONE;
                continue;
            }
            if (n != last[a]) {
                last[a] = n;
                last_idx[a] = node_index(n);
            }
            outs[a][s] = last_idx[a] < 0 ? SLOTMAP_NONE : (uint16_t)last_idx[a];
        }
    }
    memset(m->stable_mine, 0, sizeof m->stable_mine);
    for (int s = 0; s < CLUSTER_SLOTS; s++)
        if (m->myself >= 0 && m->owner[s] == (uint16_t)m->myself && m->migrating_to[s] == SLOTMAP_NONE &&
            m->importing_from[s] == SLOTMAP_NONE)
            m->stable_mine[s / 64] |= (uint64_t)1 << (s % 64);
    return m;
}

void slotmap_publish(void) {
    cluster_assert_locked();
    assert(!tl_in_section); /* synchronize would wait for ourselves */
    uint64_t version = atomic_load_explicit(&slotmap_current_version, memory_order_relaxed) + 1;
    slotmap *m = build(version);
    slotmap *old = atomic_exchange_explicit(&current, m, memory_order_acq_rel);
    atomic_store_explicit(&slotmap_current_version, version, memory_order_release);
    if (old) {
        ck_epoch_synchronize(my_record());
        tsan_readers_gone();
        mem_free(old);
    }
}

bool slotmap_endpoints_stale(void) {
    cluster_assert_locked();
    return atomic_load_explicit(&current, memory_order_relaxed) && built_endpoint_type != cluster_endpoint_type();
}

/* Shutdown (cluster_shutdown, after the workers stopped): free the map. */
void slotmap_free(void) {
    built_endpoint_type = -1;
    slotmap *old = atomic_exchange_explicit(&current, NULL, memory_order_acq_rel);
    if (old) {
        ck_epoch_synchronize(my_record());
        tsan_readers_gone();
        mem_free(old);
    }
}
