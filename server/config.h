/*
 * config.h - server configuration: the directive table, redis.conf parsing,
 * command-line "--name value" pairs, and the CONFIG command family.
 *
 * Numeric and boolean settings are atomics read with relaxed loads by any
 * thread (cfg_get); CONFIG SET stores them. String settings are guarded by a
 * mutex and copied out by cfg_get_string(). Settings that take effect only at
 * startup (port, bind, threads, databases, daemonize...) are immutable at run
 * time, as documented in README.md.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#define CFG_MAX_BIND 16

enum maxmemory_policy {
    MAXMEMORY_NOEVICTION = 0,
    MAXMEMORY_ALLKEYS_LRU,
    MAXMEMORY_ALLKEYS_LFU,
    MAXMEMORY_ALLKEYS_RANDOM,
    MAXMEMORY_VOLATILE_LRU,
    MAXMEMORY_VOLATILE_LFU,
    MAXMEMORY_VOLATILE_RANDOM,
    MAXMEMORY_VOLATILE_TTL,
};

enum client_class { CLIENT_CLASS_NORMAL = 0, CLIENT_CLASS_REPLICA, CLIENT_CLASS_PUBSUB, CLIENT_CLASS_COUNT };

/* Numeric settings, one atomic each. */
typedef struct {
    _Atomic long long port;
    _Atomic long long tcp_backlog;
    _Atomic long long tcp_keepalive;
    _Atomic long long timeout;            /* idle client timeout, seconds (0 = never) */
    _Atomic long long hz;
    _Atomic long long databases;
    _Atomic long long maxclients;
    _Atomic long long threads;
    _Atomic long long proto_max_bulk_len;
    _Atomic long long client_query_buffer_limit;
    _Atomic long long maxmemory;
    _Atomic long long maxmemory_policy;   /* enum maxmemory_policy */
    _Atomic long long maxmemory_samples;
    _Atomic long long maxmemory_eviction_tenacity;
    _Atomic long long lfu_log_factor;
    _Atomic long long lfu_decay_time;
    _Atomic long long active_expire_effort;
    _Atomic long long slowlog_log_slower_than;
    _Atomic long long slowlog_max_len;
    _Atomic long long protected_mode;     /* bool */
    _Atomic long long daemonize;          /* bool */
    _Atomic long long cluster_enabled;    /* bool; cluster mode arrives later */
    _Atomic long long lazyfree_lazy_user_del; /* bool */
    _Atomic long long lazyfree_lazy_user_flush; /* bool */
    /* bool: expired / evicted keys go to the stream as UNLINK instead of
     * DEL (their values are freed off the slot lock either way) */
    _Atomic long long lazyfree_lazy_expire;
    _Atomic long long lazyfree_lazy_eviction;
    _Atomic long long replica_ignore_maxmemory; /* bool */
    _Atomic long long repl_backlog_ttl;   /* seconds; 0: never freed */
    _Atomic long long latency_monitor_threshold;
    _Atomic long long notify_keyspace_events; /* Redis's NOTIFY_* flag bits (notify.h) */
    /* Persistence (persist.c, rdb_file.c); bools. */
    _Atomic long long rdbcompression;
    _Atomic long long rdbchecksum;
    _Atomic long long stop_writes_on_bgsave_error;
    /* Data-type encoding thresholds. */
    _Atomic long long hash_max_listpack_entries;
    _Atomic long long hash_max_listpack_value;
    _Atomic long long set_max_intset_entries;
    _Atomic long long zset_max_listpack_entries;
    _Atomic long long zset_max_listpack_value;
    _Atomic long long list_max_listpack_size;
    _Atomic long long hll_sparse_max_bytes; /* t_hll.c: sparse HLLs grow up to this, then go dense */
    _Atomic long long stream_node_max_bytes;   /* stream.c: a node's bytes (Redis listpack form) */
    _Atomic long long stream_node_max_entries; /* stream.c: a node's entries, deleted ones included */
    /* client-output-buffer-limit per class: hard bytes, soft bytes, soft seconds */
    _Atomic long long obuf_hard[CLIENT_CLASS_COUNT];
    _Atomic long long obuf_soft[CLIENT_CLASS_COUNT];
    _Atomic long long obuf_soft_seconds[CLIENT_CLASS_COUNT];
    /* Replication, master side (cluster/repl_buffer.c, repl_master.c). */
    _Atomic long long repl_backlog_size;
    _Atomic long long repl_diskless_sync_delay; /* seconds */
    _Atomic long long repl_ping_replica_period; /* seconds */
    _Atomic long long repl_timeout;             /* seconds */
    _Atomic long long min_replicas_to_write;
    _Atomic long long min_replicas_max_lag;     /* seconds */
} server_config;

extern server_config cfg;

#define cfg_get(field) atomic_load_explicit(&cfg.field, memory_order_relaxed)

/* Copy a string setting ("requirepass", "logfile", "pidfile", "dir",
 * "dbfilename", ...) into out (NUL-terminated); returns its length. */
size_t cfg_get_string(const char *name, char *out, size_t outlen);
/* The `save` points as (seconds, changes) pairs into pairs[0..max); returns
 * the number of points (0: `save ""`, snapshotting off). */
int cfg_save_points(long long *pairs, int max);
/* True when requirepass is set (cached atomic, cheap). */
bool cfg_requirepass_set(void);
/* Constant-time compare of a password with requirepass. */
bool cfg_check_password(const char *pw, size_t len);

/* Bind addresses as given (after startup they never change). */
int cfg_bind_count(void);
const char *cfg_bind_addr(int i);   /* may start with '-' (optional address) */

/* Startup: defaults, then an optional config file, then "--name value..."
 * arguments (as redis-server takes them). On error prints a Redis-style
 * message to stderr and returns -1. */
void config_init_defaults(void);
int config_load_args(int argc, char **argv);
const char *config_file_path(void); /* absolute path or NULL */

/* Redis's memory-value parser ("100mb", "1gb", "1024", "2k"...). */
bool config_parse_memory(const char *s, long long *out);

/* Human form used in INFO ("1.50M"). */
void config_bytes_human(char *buf, size_t len, unsigned long long n);

const char *config_policy_name(int policy);

#endif
