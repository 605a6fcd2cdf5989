/*
 * cluster_state.h - cluster mode's state (Redis 7.0's clusterState and
 * clusterNode): the node table, myself, the epochs, slot ownership, the
 * open-slot markers, failure reports, the FORGET blacklist, the bus message
 * counters, cluster_state ok/fail, and nodes.conf (nodes_conf.c).
 *
 * Ownership and locking:
 * - The state's owner is the bus thread (bus.h). Workers touch it only
 *   inside CLUSTER commands (cluster_cmd.c), and only between
 *   cluster_lock() and cluster_unlock(). The bus thread too reads and writes
 *   it only with the lock held (it takes the lock around each packet it
 *   processes and around its cron), so every access is under the lock.
 *   Workers never read the state on the request path: routing reads the
 *   published slot map (slotmap.h) without any lock.
 * - cluster_lock is a mutex, held for short in-memory work. Lock order:
 *   slot locks before cluster_lock. A CLUSTER command inside EXEC takes
 *   cluster_lock while EXEC holds slot locks, so NO slot lock may ever be
 *   taken while cluster_lock is held (COUNTKEYSINSLOT / GETKEYSINSLOT read
 *   the keyspace without it; emptiness checks use the lock-free counters;
 *   CLUSTER RESET empties a replica's dataset after unlocking). The
 *   replication leaf mutexes (repl_replica.c, repl_master.c), the config
 *   mutex and the log are taken under it. Saving nodes.conf (write + fsync
 *   + rename) happens under it: a vote or a new epoch is on disk before
 *   anything leaves the process.
 * - Every function below requires the lock unless it says otherwise
 *   (asserted by cluster_assert_locked()).
 *
 * Publishing: the state changes freely under the lock; what others may
 * observe leaves through ONE function, cluster_apply_todo(), which runs the
 * pending todo items (update the state, save and fsync nodes.conf) and then
 * publishes a new slot map if anything routing reads changed. CLUSTER
 * commands call it before they reply; the bus thread calls it once per loop
 * iteration before writing to its sockets. Mutators declared here record
 * what they changed (cluster_todo); code that writes a node's fields
 * directly (the bus: addresses, flags, slaveof, hostname) must call
 * cluster_todo(CLUSTER_TODO_PUBLISH) itself when routing could see the
 * change (ip, port, hostname, MASTER/SLAVE, slaveof), and the other flags
 * as Redis's code does (clusterDoBeforeSleep).
 *
 * Time: every time field is unix milliseconds (mstime(), db.h), 0 = never.
 */
#ifndef CLUSTER_STATE_H
#define CLUSTER_STATE_H

#include "serial.h"  /* sbuf */
#include "slotmap.h" /* CLUSTER_SLOTS, CLUSTER_NAMELEN */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct client;
struct bus_link; /* the bus's (bus*.c); opaque here */

/* ---- constants (Redis 7.0.15 cluster.h / cluster.c) ---- */

#define CLUSTER_OK 0
#define CLUSTER_FAIL 1
#define CLUSTER_PORT_INCR 10000
#define CLUSTER_IPLEN 46 /* NET_IP_STR_LEN */
#define CLUSTER_HOSTNAME_MAX 255 /* longer announced hostnames are cut here */

#define CLUSTER_FAIL_REPORT_VALIDITY_MULT 2
#define CLUSTER_FAIL_UNDO_TIME_MULT 2
#define CLUSTER_MF_TIMEOUT 5000
#define CLUSTER_MF_PAUSE_MULT 2
#define CLUSTER_SLAVE_MIGRATION_DELAY 5000
#define CLUSTER_BLACKLIST_TTL 60 /* seconds */
#define CLUSTER_WRITABLE_DELAY 2000
#define CLUSTER_MAX_REJOIN_DELAY 5000
#define CLUSTER_MIN_REJOIN_DELAY 500

/* Node flags: Redis's bit values (they travel on the bus). */
enum cluster_node_flag {
    CLUSTER_NODE_MASTER = 1,
    CLUSTER_NODE_SLAVE = 2,
    CLUSTER_NODE_PFAIL = 4,
    CLUSTER_NODE_FAIL = 8,
    CLUSTER_NODE_MYSELF = 16,
    CLUSTER_NODE_HANDSHAKE = 32,
    CLUSTER_NODE_NOADDR = 64,
    CLUSTER_NODE_MEET = 128,
    CLUSTER_NODE_MIGRATE_TO = 256,
    CLUSTER_NODE_NOFAILOVER = 512,
};

/* Bus message types (CLUSTERMSG_TYPE_*), for the per-type counters. */
enum cluster_msg_type {
    CLUSTER_MSG_PING = 0,
    CLUSTER_MSG_PONG = 1,
    CLUSTER_MSG_MEET = 2,
    CLUSTER_MSG_FAIL = 3,
    CLUSTER_MSG_PUBLISH = 4,
    CLUSTER_MSG_FAILOVER_AUTH_REQUEST = 5,
    CLUSTER_MSG_FAILOVER_AUTH_ACK = 6,
    CLUSTER_MSG_UPDATE = 7,
    CLUSTER_MSG_MFSTART = 8,
    CLUSTER_MSG_MODULE = 9,
    CLUSTER_MSG_PUBLISHSHARD = 10,
    CLUSTER_MSG_TYPE_COUNT = 11,
};

/* Todo items (clusterDoBeforeSleep), run by cluster_apply_todo(). The
 * failover bits are set by the bus / failover code and left for it:
 * cluster_apply_todo() does not clear them (cluster_take_todo does). */
enum cluster_todo_flag {
    CLUSTER_TODO_HANDLE_FAILOVER = 1 << 0,
    CLUSTER_TODO_UPDATE_STATE = 1 << 1,
    CLUSTER_TODO_SAVE_CONFIG = 1 << 2,
    CLUSTER_TODO_FSYNC_CONFIG = 1 << 3,
    CLUSTER_TODO_HANDLE_MANUALFAILOVER = 1 << 4,
    CLUSTER_TODO_PUBLISH = 1 << 5, /* slotcache: publish a new slot map */
    CLUSTER_TODO_TAKEOVER = 1 << 6, /* slotcache: CLUSTER FAILOVER TAKEOVER, done by the bus */
    CLUSTER_TODO_MFSTART = 1 << 7,  /* slotcache: CLUSTER FAILOVER, MFSTART sent by the bus */
    CLUSTER_TODO_PONG_ALL = 1 << 8, /* slotcache: a PONG to every node, sent by the bus (SETSLOT NODE
                                       closing an import: clusterBroadcastPong) */
};

/* ---- nodes ---- */

typedef struct cluster_node cluster_node;

typedef struct cluster_fail_report {
    cluster_node *node; /* the master that reported the failure */
    long long time;     /* last time it reported it */
} cluster_fail_report;

struct cluster_node {
    char name[CLUSTER_NAMELEN]; /* 40 hex chars, not NUL-terminated */
    int flags;                  /* enum cluster_node_flag */
    uint64_t config_epoch;      /* last configEpoch seen for it */
    unsigned char slots[CLUSTER_SLOTS / 8]; /* the slots it claims (bitmap) */
    int numslots;
    int numslaves;
    cluster_node **slaves;      /* its replicas (mem_alloc'd array) */
    cluster_node *slaveof;      /* its master; may be NULL for a SLAVE whose
                                   master we do not know */
    long long ctime;            /* creation (handshake timeouts) */
    long long ping_sent;        /* our last PING still unanswered, 0 if none */
    long long pong_received;    /* last PONG on our outbound link */
    long long data_received;    /* last byte of anything from it */
    long long fail_time;        /* when FAIL was set */
    long long voted_time;       /* last vote given for a replica of it */
    long long repl_offset_time; /* when repl_offset was received */
    long long orphaned_time;    /* master without working replicas since */
    long long repl_offset;      /* its replication offset, from its header */
    uint64_t last_in_ping_gossip; /* bus: gossip round it was last sent in */
    char ip[CLUSTER_IPLEN];     /* NUL-terminated; "" until known */
    char hostname[CLUSTER_HOSTNAME_MAX + 1]; /* "" when none announced */
    int port;                   /* client port it announces */
    int pport;                  /* plaintext port in a TLS cluster, else 0 */
    int cport;                  /* bus port */
    struct bus_link *link;      /* our outbound link to it (bus), or NULL */
    struct bus_link *inbound_link; /* the link it opened to us, or NULL */
    cluster_fail_report *fail_reports; /* mem_alloc'd array */
    int nfail_reports, fail_reports_cap;
};

/* ---- the state ---- */

typedef struct cluster_state {
    cluster_node *myself;
    uint64_t current_epoch;
    uint64_t last_vote_epoch;   /* epoch of the last vote granted */
    int state;                  /* CLUSTER_OK / CLUSTER_FAIL */
    int size;                   /* masters serving at least one slot */
    /* Every known node, myself and handshake nodes included, in no
     * particular order (CLUSTER NODES and nodes.conf print this order).
     * cluster_node_add appends; cluster_node_del moves the last node into
     * the freed place, so a loop that deletes must walk backwards. */
    cluster_node **nodes;
    int nnodes;               /* the bus adds no node past CLUSTER_MAX_NODES */
    cluster_node *slots[CLUSTER_SLOTS];                /* owner or NULL */
    cluster_node *migrating_slots_to[CLUSTER_SLOTS];   /* issue 14 fills them */
    cluster_node *importing_slots_from[CLUSTER_SLOTS];
    /* Slots whose owner stopped claiming them in its PINGs (bus). */
    unsigned char owner_not_claiming_slot[CLUSTER_SLOTS / 8];
    /* Slots deleted while myself's shard served them (Redis's
     * removeChannelsInSlot, from clusterDelSlot): their shard channels'
     * subscribers are unsubscribed by the bus once the map without them is
     * published (gossip.c). Set by cluster_del_slot, taken by
     * cluster_take_shard_slots_lost. */
    uint64_t shard_slots_lost[CLUSTER_SLOTS / 64];
    bool any_shard_slots_lost;
    int todo;                   /* enum cluster_todo_flag */
    /* Failover bookkeeping (Redis's names), for the failover code
     * (issue 13); reset by cluster_reset. */
    long long failover_auth_time;
    int failover_auth_count;
    int failover_auth_sent;
    int failover_auth_rank;
    uint64_t failover_auth_epoch;
    int cant_failover_reason;
    long long mf_end;
    cluster_node *mf_slave;
    long long mf_master_offset;
    int mf_can_start;
    /* A master in a manual failover: writes paused (writepause.h) and, once
     * mf_paused, drained: the offset in its PINGs is final and they carry
     * the PAUSED flag. */
    bool mf_pausing, mf_paused;
    /* Statistics (CLUSTER INFO). The bus counts every message it sends and
     * every message it accepts, by type. */
    long long stats_bus_messages_sent[CLUSTER_MSG_TYPE_COUNT];
    long long stats_bus_messages_received[CLUSTER_MSG_TYPE_COUNT];
    long long stats_pfail_nodes;
    unsigned long long stat_cluster_links_buffer_limit_exceeded;
    /* cluster_update_state's clocks (Redis keeps them in statics). */
    long long state_first_call_time;
    long long among_minority_time;
} cluster_state;

/* The state: NULL in a standalone server, set by cluster_init() (before
 * the workers and the bus start) and never changed afterwards. */
extern cluster_state *cluster;

/* ---- the lock ---- */

/* Any thread. Reentrant on one thread (a transaction of CLUSTER commands
 * holds it across its queue: cluster_tx_begin); each lock needs its unlock. */
void cluster_lock(void);
void cluster_unlock(void);
/* assert() that the calling thread holds the lock (assertions are on in
 * every build of slotcache). */
void cluster_assert_locked(void);

/* ---- todo and publication ---- */

/* Record work for cluster_apply_todo (clusterDoBeforeSleep). */
void cluster_todo(int flags);
/* Run the pending items: UPDATE_STATE (cluster_update_state; also run
 * whenever the state is fail, as clusterCron does every tick, which is how
 * a master leaves the writable delay), a replica whose replication is not
 * running starts it towards its master (clusterCron), SAVE_CONFIG
 * (with fsync when FSYNC_CONFIG is set; the process exits with a logged
 * reason when the file cannot be written, as clusterSaveConfigOrDie), then
 * PUBLISH (slotmap_publish). HANDLE_FAILOVER / HANDLE_MANUALFAILOVER are
 * left set for their owner. Called by every CLUSTER command before it
 * replies and by the bus thread once per loop iteration. */
void cluster_apply_todo(void);
/* Clear and return the given todo bits (for the failover code). */
int cluster_take_todo(int flags);

/* ---- node table ---- */

/* A new node, not yet in the table: the given 40-char name, or a random
 * one (name NULL, a handshake or a fresh myself). All times 0 except
 * ctime (now). Free it with cluster_node_del once added, or
 * cluster_node_free if it never was. */
cluster_node *cluster_node_create(const char *name, int flags);
void cluster_node_free(cluster_node *n);
/* Add to the table (the name must be unknown). */
void cluster_node_add(cluster_node *n);
/* Remove from the cluster and free (clusterDelNode): its slots become
 * unassigned, open-slot markers naming it are cleared, failure reports it
 * made are dropped, its replicas lose their master, it leaves its master's
 * replica list, and the bus's node_freed hook detaches its links. */
void cluster_node_del(cluster_node *n);
/* Give a handshake node the real name the PONG carried (clusterRenameNode). */
void cluster_node_rename(cluster_node *n, const char *newname);
/* Nodes the bus learns from peers (MEET, gossip) stop at this many: the
 * slot map keeps node indexes in a u16 with 0xFFFF meaning none, and a
 * PING's gossip count is a u16. */
#define CLUSTER_MAX_NODES 16384
/* 40 characters, each [a-z0-9] (verifyClusterNodeId). Any thread. */
bool cluster_verify_node_id(const char *name, size_t len);
/* The node with this name, or NULL (also for a malformed name). */
cluster_node *cluster_lookup_node(const char *name, size_t len);
/* Set n's announced hostname (NULL or "" clears it); cut at
 * CLUSTER_HOSTNAME_MAX bytes. Records CLUSTER_TODO_PUBLISH on a change. */
void cluster_node_set_hostname(cluster_node *n, const char *s, size_t len);

/* ---- masters and replicas ---- */

/* Add / remove a replica in master's list (also sets / clears the
 * master's MIGRATE_TO flag, as Redis). Return false when nothing changed. */
bool cluster_node_add_replica(cluster_node *master, cluster_node *replica);
bool cluster_node_remove_replica(cluster_node *master, cluster_node *replica);
/* Replicas of n without the FAIL flag. */
int cluster_count_non_failing_replicas(const cluster_node *n);
/* n, believed a replica, acts as a master now (clusterSetNodeAsMaster). */
void cluster_set_node_as_master(cluster_node *n);
/* Make myself a replica of master n (clusterSetMaster): flags, open slots
 * closed when myself was a master, replica lists, and the replication
 * link pointed at n's ip:port (repl_replica.h). Myself must own no slot. */
void cluster_set_my_master(cluster_node *n);
/* resetManualFailover (lock held): no manual failover in progress. */
void cluster_reset_manual_failover(void);

/* ---- slots ---- */

bool cluster_bitmap_test(const unsigned char *bitmap, int pos);
void cluster_bitmap_set(unsigned char *bitmap, int pos);
void cluster_bitmap_clear(unsigned char *bitmap, int pos);
/* n's own bitmap and numslots; return the old bit. */
bool cluster_node_set_slot_bit(cluster_node *n, int slot);
bool cluster_node_clear_slot_bit(cluster_node *n, int slot);
bool cluster_node_get_slot_bit(const cluster_node *n, int slot);
/* Assign an unassigned slot to n (false if it has an owner already). */
bool cluster_add_slot(cluster_node *n, int slot);
/* Unassign a slot (false if it had no owner). */
bool cluster_del_slot(int slot);
/* Lock held: the slots cluster_del_slot took from myself's shard since the
 * last call, into out (CLUSTER_SLOTS bits), cleared here; false if none. */
bool cluster_take_shard_slots_lost(uint64_t *out);
/* Delete the keys of the slots set in bits on the workers (Redis's
 * delKeysInSlot, db_delete_slot), clearing the bits (gossip.c). Any
 * thread, holding no slot lock. */
void cluster_post_slot_deletions(uint64_t *bits);
/* On a worker, no slot lock held (inside a command too): delete the keys
 * of slot now, taking over a posted deletion of it (gossip.c). */
uint64_t cluster_delete_slot_now(unsigned slot);
/* Unassign every slot n owns; returns how many. */
int cluster_del_node_slots(cluster_node *n);
/* Clear every migrating / importing marker (clusterCloseAllSlots). */
void cluster_close_all_slots(void);
/* True when the slot has no owner or its owner no longer claims it. */
bool cluster_slot_unclaimed(int slot);

/* ---- failure reports ---- */

/* sender (a master) says failing is failing: returns true for a new
 * report, false when an existing one was refreshed. */
bool cluster_node_add_failure_report(cluster_node *failing, cluster_node *sender);
/* Drop reports older than node-timeout * CLUSTER_FAIL_REPORT_VALIDITY_MULT. */
void cluster_node_cleanup_failure_reports(cluster_node *n);
/* Remove sender's report about n; true if there was one. */
bool cluster_node_del_failure_report(cluster_node *n, cluster_node *sender);
/* Valid reports about n (cleans first). */
int cluster_node_failure_reports_count(cluster_node *n);

/* ---- epochs ---- */

/* The largest configEpoch of any node, or currentEpoch if larger. */
uint64_t cluster_get_max_epoch(void);
/* clusterBumpConfigEpochWithoutConsensus: when myself's configEpoch is 0
 * or not the largest, currentEpoch + 1 becomes myself's configEpoch and
 * the config is saved with fsync (todo); true then, false otherwise. */
bool cluster_bump_epoch_without_consensus(void);
/* clusterHandleConfigEpochCollision: sender and myself are masters with
 * the same configEpoch; if myself's name is the smaller, myself takes
 * ++currentEpoch and saves + fsyncs at once (exits on failure). */
void cluster_handle_config_epoch_collision(cluster_node *sender);

/* ---- FORGET blacklist (CLUSTER_BLACKLIST_TTL seconds) ---- */

void cluster_blacklist_add(const cluster_node *n);
bool cluster_blacklist_exists(const char *name); /* 40 chars */

/* ---- cluster state ---- */

/* clusterUpdateState: ok unless (require-full-coverage and a slot is
 * unassigned or its owner FAIL) or fewer than size/2+1 masters with slots
 * are reachable (neither PFAIL nor FAIL); a master stays fail for
 * CLUSTER_WRITABLE_DELAY after the first call and for the rejoin delay
 * after it was in a minority. Computes `size`. Records PUBLISH when the
 * state changes. */
void cluster_update_state(void);

/* ---- myself and configuration ---- */

/* Refresh myself from the configuration (clusterUpdateMyselfFlags,
 * AnnouncedPorts, Ip, Hostname): NOFAILOVER from cluster-replica-no-failover,
 * port / pport / cport from port, cluster-port (0: port + 10000),
 * cluster-announce-port and cluster-announce-bus-port, ip from
 * cluster-announce-ip when set (an empty setting leaves an ip learnt from
 * the bus alone unless it was announced before), hostname from
 * cluster-announce-hostname. Called by cluster_init; the bus may call it
 * each cron tick to follow CONFIG SET. */
void cluster_update_myself_from_config(void);
/* A cluster-* setting by name (CONFIG GET's text: "yes" is true, numbers
 * parsed; 0 / false when unknown). Any thread; takes the config mutex, so
 * read them once per cron tick, not per message. */
long long cluster_cfg_ll(const char *name);
bool cluster_cfg_bool(const char *name);
/* The port the bus listens on: cluster-port, or port + 10000. Any thread. */
int cluster_bus_port(void);
/* cluster-preferred-endpoint-type: 0 ip, 1 hostname, 2 unknown-endpoint.
 * Any thread. */
enum { CLUSTER_ENDPOINT_IP = 0, CLUSTER_ENDPOINT_HOSTNAME = 1, CLUSTER_ENDPOINT_UNKNOWN = 2 };
int cluster_endpoint_type(void);
/* What clients are told to connect to (getPreferredEndpoint) for an
 * endpoint type (cluster_endpoint_type()): the ip, the hostname or "?"
 * (hostname), or "" (unknown-endpoint: Redis 7.0.15 prints "" here). */
const char *cluster_preferred_endpoint(const cluster_node *n, int type);
/* The replication offset myself reports: master_repl_offset for a master,
 * the applied offset for a replica (Redis's header `offset`). */
long long cluster_my_repl_offset(void);

/* clusterReset: forget every other node, unassign all slots, close open
 * slots, a replica becomes a master; hard: a new name and epochs 0. Saves
 * with fsync and updates the state (todo). Returns true when myself was a
 * replica: the caller must then empty the dataset (db_flush) AFTER
 * cluster_unlock(), as Redis's emptyData (slot locks are never taken under
 * cluster_lock). */
bool cluster_reset(bool hard);

/* ---- hooks the bus fills (bus*.c, once, before bus_start returns) ---- */

typedef struct cluster_bus_hooks {
    /* n is about to be freed (cluster_node_del, with the lock held, on any
     * thread: a worker running CLUSTER FORGET / RESET, or the bus). Detach
     * n->link and n->inbound_link from n and close them on the bus's own
     * loop; never touch libuv handles from a foreign thread. */
    void (*node_freed)(cluster_node *n);
    /* CLUSTER LINKS's reply (lock held, on the worker of c): an array of
     * maps, one per link (addReplyClusterLinksDescription). Without a hook
     * CLUSTER LINKS answers an empty array. */
    void (*links_reply)(struct client *c);
} cluster_bus_hooks;
/* Install hooks (NULL fields allowed). Any thread, before bus_start returns. */
void cluster_set_bus_hooks(const cluster_bus_hooks *h);
const cluster_bus_hooks *cluster_get_bus_hooks(void);

/* ---- nodes.conf and CLUSTER NODES lines (nodes_conf.c) ---- */

/* One CLUSTER NODES line for n, without the final newline
 * (clusterGenNodeDescription, CLUSTER-WIRE 1.2 byte for byte): slots from
 * the owner table, open-slot markers on myself's line only. */
void cluster_node_description(sbuf *out, const cluster_node *n);
/* Every node not matching `filter` (node flags; 0 = all), one line each,
 * each ending in '\n' (clusterGenNodesDescription). */
void cluster_nodes_description(sbuf *out, int filter);

/* Parse nodes.conf text (a whole file) into the state (which must be
 * empty: cluster_state_new). Returns 0, 1 when the text is empty (no
 * configuration yet), or -1 with a reason in err (corrupt: nothing of it
 * is to be used). */
int cluster_config_parse(const char *text, size_t len, char *err, size_t errlen);
/* nodes.conf's text: the lines of every node but handshake ones, then
 * "vars currentEpoch N lastVoteEpoch N\n". */
void cluster_config_text(sbuf *out);
/* Take the flock on cluster-config-file (creating it empty if missing),
 * kept until the process exits. -1 with Redis's message logged. */
int cluster_config_lock(const char *path);
/* Load cluster-config-file: 0 loaded, 1 no configuration (missing or
 * empty file), exits the process with a logged reason when it is corrupt
 * or unreadable. */
int cluster_config_load(const char *path);
/* Write nodes.conf atomically: <path>.tmp-<pid>-<ms>, fsync (when
 * do_fsync), rename over the file, fsync the directory. 0, or -1 with
 * errno set. Clears SAVE_CONFIG (and FSYNC_CONFIG when do_fsync). */
int cluster_save_config(bool do_fsync);
/* cluster_save_config or exit(1) with "Fatal: can't update cluster config
 * file." (clusterSaveConfigOrDie). */
void cluster_save_config_or_die(bool do_fsync);
/* The configured path (cluster-config-file, relative to dir); any thread. */
const char *cluster_config_path(void);

/* ---- lifecycle helpers (cluster_state.c) ---- */

/* A fresh empty state (no myself), for cluster_init and the unit tests. */
cluster_state *cluster_state_new(void);
/* Free a state and all its nodes (tests; shutdown). */
void cluster_state_free(cluster_state *s);

#endif
