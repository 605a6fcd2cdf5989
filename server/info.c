/*
 * info.c - the INFO text (see info.h).
 *
 * Layout is Redis 7.0's byte for byte: "# Section\r\n", "field:value\r\n",
 * one "\r\n" before every section but the first, sections always in Redis's
 * order whatever the order of the arguments. Fields that describe machinery
 * slotcache does not have (persistence, Lua, active defrag, replicas...) are
 * present with the values an idle Redis without that feature reports, so
 * parsers find every field they expect.
 *
 * Everything is read without stopping the workers: counters are summed
 * per-thread blocks (stats.h, mem.h), so INFO is a consistent-enough snapshot,
 * not an atomic one.
 */
#include "info.h"

#include "cluster_api.h"

#include "blocking.h"
#include "clients.h"
#include "cmdstats.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "lazyfree.h"
#include "mem.h"
#include "persist.h"
#include "process.h"
#include "script.h"
#include "serial.h"
#include "pubsub.h"
#include "stats.h"

#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static void human(char *out, size_t len, size_t n) { config_bytes_human(out, len, (unsigned long long)n); }

/* ---------------------------------------------------------------- process facts */

static size_t startup_bytes;
static pthread_once_t facts_once = PTHREAD_ONCE_INIT;
static char os_name[256];

static void facts_init(void) {
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(os_name, sizeof os_name, "%s %s %s", u.sysname, u.release, u.machine);
    else
        snprintf(os_name, sizeof os_name, "unknown");
}

void info_init(void) {
    pthread_once(&facts_once, facts_init);
    startup_bytes = mem_used();
}

/* A stable 16-hex-digit build id derived from the version (Redis hashes its
 * build environment; we have nothing better that is reproducible). */
static unsigned long long build_id(void) {
    unsigned long long h = 1469598103934665603ULL;
    for (const char *s = SLOTCACHE_VERSION "/" REDIS_COMPAT_VERSION; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* ---------------------------------------------------------------- memory */

static size_t clients_memory(void) {
    size_t sum = 0;
    clients_lock();
    for (client *c = clients_first(); c; c = c->next) {
        sum += atomic_load_explicit(&c->shared_qbuf, memory_order_relaxed);
        sum += atomic_load_explicit(&c->shared_omem, memory_order_relaxed);
    }
    clients_unlock();
    return sum;
}

void info_memory_get(info_memory *m) {
    memset(m, 0, sizeof *m);
    m->used = mem_used();
    m->peak = mem_peak();
    if (m->peak < m->used) m->peak = m->used;
    m->startup = startup_bytes;
    m->rss = mem_rss();
    m->clients_normal = clients_memory();
    m->overhead = m->startup + m->clients_normal;
    m->dataset = m->used > m->overhead ? m->used - m->overhead : 0;
    struct mallinfo2 mi = mallinfo2();
    m->alloc_allocated = mi.uordblks + mi.hblkhd;
    m->alloc_active = mi.arena + mi.hblkhd;
    m->alloc_resident = m->rss;
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    m->total_system = pages > 0 && psize > 0 ? (size_t)pages * (size_t)psize : 0;
    m->peak_perc = m->peak ? (double)m->used * 100.0 / (double)m->peak : 0;
    size_t net = m->used > m->startup ? m->used - m->startup : 0;
    m->dataset_perc = net ? (double)m->dataset * 100.0 / (double)net : 0;
}

static double ratio(size_t a, size_t b) { return b ? (double)a / (double)b : 0; }
static long long diff(size_t a, size_t b) { return (long long)a - (long long)b; }

/* ---------------------------------------------------------------- sections */

static void section_server(sbuf *b) {
    long long now_us = ustime();
    long long uptime = (now_us / 1000 - process_start_ms()) / 1000;
    char cfgpath[4096];
    const char *cf = config_file_path();
    snprintf(cfgpath, sizeof cfgpath, "%s", cf ? cf : "");
#if defined(__GNUC__)
    int gv[3] = {__GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__};
#else
    int gv[3] = {0, 0, 0};
#endif
    sbuf_addf(b,
              "# Server\r\n"
              "redis_version:%s\r\n"
              "slotcache_version:%s\r\n"
              "redis_git_sha1:00000000\r\n"
              "redis_git_dirty:0\r\n"
              "redis_build_id:%016llx\r\n"
              "redis_mode:%s\r\n"
              "os:%s\r\n"
              "arch_bits:%d\r\n"
              "monotonic_clock:POSIX clock_gettime\r\n"
              "multiplexing_api:epoll\r\n"
              "atomicvar_api:c11-builtin\r\n"
              "gcc_version:%d.%d.%d\r\n"
              "process_id:%ld\r\n"
              "process_supervised:no\r\n"
              "run_id:%s\r\n"
              "tcp_port:%d\r\n"
              "server_time_usec:%lld\r\n"
              "uptime_in_seconds:%lld\r\n"
              "uptime_in_days:%lld\r\n"
              "hz:%lld\r\n"
              "configured_hz:%lld\r\n"
              "lru_clock:%u\r\n"
              "executable:%s\r\n"
              "config_file:%s\r\n"
              "io_threads_active:0\r\n",
              REDIS_COMPAT_VERSION, SLOTCACHE_VERSION, build_id(),
              cfg_get(cluster_enabled) ? "cluster" : "standalone", os_name, (int)(sizeof(void *) * 8), gv[0], gv[1],
              gv[2], (long)getpid(), process_run_id(), process_tcp_port(), now_us, uptime, uptime / 86400,
              cfg_get(hz), cfg_get(hz), (unsigned)lru_clock(), process_executable(), cfgpath);
}

static void section_clients(sbuf *b) {
    size_t max_q = 0, max_o = 0;
    clients_buffer_peaks(&max_q, &max_o);
    sbuf_addf(b,
              "# Clients\r\n"
              "connected_clients:%ld\r\n"
              "cluster_connections:0\r\n"
              "maxclients:%lld\r\n"
              "client_recent_max_input_buffer:%zu\r\n"
              "client_recent_max_output_buffer:%zu\r\n"
              "blocked_clients:%ld\r\n"
              "tracking_clients:0\r\n"
              "clients_in_timeout_table:%ld\r\n",
              clients_connected(), cfg_get(maxclients), max_q, max_o, blocking_total_blocked(),
              blocking_total_blocked());
}

static void section_memory(sbuf *b) {
    size_t repl_total_mem, repl_backlog_mem;
    repl_memory(&repl_total_mem, &repl_backlog_mem);
    info_memory m;
    info_memory_get(&m);
    char used_h[32], rss_h[32], peak_h[32], sys_h[32], maxmem_h[32], zero_h[32];
    human(used_h, sizeof used_h, m.used);
    human(rss_h, sizeof rss_h, m.rss);
    human(peak_h, sizeof peak_h, m.peak);
    human(sys_h, sizeof sys_h, m.total_system);
    long long maxmem = cfg_get(maxmemory);
    human(maxmem_h, sizeof maxmem_h, (size_t)maxmem);
    human(zero_h, sizeof zero_h, 0);
    sbuf_addf(b,
              "# Memory\r\n"
              "used_memory:%zu\r\n"
              "used_memory_human:%s\r\n"
              "used_memory_rss:%zu\r\n"
              "used_memory_rss_human:%s\r\n"
              "used_memory_peak:%zu\r\n"
              "used_memory_peak_human:%s\r\n"
              "used_memory_peak_perc:%.2f%%\r\n"
              "used_memory_overhead:%zu\r\n"
              "used_memory_startup:%zu\r\n"
              "used_memory_dataset:%zu\r\n"
              "used_memory_dataset_perc:%.2f%%\r\n"
              "allocator_allocated:%zu\r\n"
              "allocator_active:%zu\r\n"
              "allocator_resident:%zu\r\n"
              "total_system_memory:%zu\r\n"
              "total_system_memory_human:%s\r\n",
              m.used, used_h, m.rss, rss_h, m.peak, peak_h, m.peak_perc, m.overhead, m.startup, m.dataset,
              m.dataset_perc, m.alloc_allocated, m.alloc_active, m.alloc_resident, m.total_system, sys_h);
    /* No Lua and no functions: only the recognised lock scripts that were
     * loaded count as cached scripts. */
    sbuf_addf(b,
              "used_memory_lua:0\r\n"
              "used_memory_vm_eval:0\r\n"
              "used_memory_lua_human:%s\r\n"
              "used_memory_scripts_eval:0\r\n"
              "number_of_cached_scripts:%d\r\n"
              "number_of_functions:0\r\n"
              "number_of_libraries:0\r\n"
              "used_memory_vm_functions:0\r\n"
              "used_memory_vm_total:0\r\n"
              "used_memory_vm_total_human:%s\r\n"
              "used_memory_functions:0\r\n"
              "used_memory_scripts:0\r\n"
              "used_memory_scripts_human:%s\r\n",
              zero_h, script_cached_count(), zero_h, zero_h);
    sbuf_addf(b,
              "maxmemory:%lld\r\n"
              "maxmemory_human:%s\r\n"
              "maxmemory_policy:%s\r\n"
              "allocator_frag_ratio:%.2f\r\n"
              "allocator_frag_bytes:%lld\r\n"
              "allocator_rss_ratio:%.2f\r\n"
              "allocator_rss_bytes:%lld\r\n"
              "rss_overhead_ratio:%.2f\r\n"
              "rss_overhead_bytes:%lld\r\n"
              "mem_fragmentation_ratio:%.2f\r\n"
              "mem_fragmentation_bytes:%lld\r\n"
              "mem_not_counted_for_evict:0\r\n"
              "mem_replication_backlog:%zu\r\n"
              "mem_total_replication_buffers:%zu\r\n"
              "mem_clients_slaves:0\r\n"
              "mem_clients_normal:%zu\r\n"
              "mem_cluster_links:0\r\n"
              "mem_aof_buffer:0\r\n"
              "mem_allocator:libc\r\n"
              "active_defrag_running:0\r\n"
              "lazyfree_pending_objects:%llu\r\n"
              "lazyfreed_objects:%llu\r\n",
              maxmem, maxmem_h, config_policy_name((int)cfg_get(maxmemory_policy)),
              ratio(m.alloc_active, m.alloc_allocated), diff(m.alloc_active, m.alloc_allocated),
              ratio(m.alloc_resident, m.alloc_active), diff(m.alloc_resident, m.alloc_active),
              ratio(m.rss, m.alloc_resident), diff(m.rss, m.alloc_resident), ratio(m.rss, m.used),
              diff(m.rss, m.used), repl_backlog_mem, repl_total_mem, m.clients_normal,
              (unsigned long long)lazyfree_pending(),
              (unsigned long long)lazyfree_done());
}

static void section_persistence(sbuf *b) {
    persist_status p = persist_get_status();
    sbuf_addf(b,
              "# Persistence\r\n"
              "loading:%d\r\n"
              "async_loading:0\r\n"
              "current_cow_peak:0\r\n"
              "current_cow_size:0\r\n"
              "current_cow_size_age:0\r\n"
              "current_fork_perc:0.00\r\n"
              "current_save_keys_processed:0\r\n"
              "current_save_keys_total:0\r\n"
              "rdb_changes_since_last_save:%llu\r\n"
              "rdb_bgsave_in_progress:%d\r\n"
              "rdb_last_save_time:%lld\r\n"
              "rdb_last_bgsave_status:%s\r\n"
              "rdb_last_bgsave_time_sec:%lld\r\n"
              "rdb_current_bgsave_time_sec:%lld\r\n"
              "rdb_saves:%lld\r\n"
              "rdb_last_cow_size:0\r\n"
              "rdb_last_load_keys_expired:%llu\r\n"
              "rdb_last_load_keys_loaded:%llu\r\n"
              "aof_enabled:0\r\n"
              "aof_rewrite_in_progress:0\r\n"
              "aof_rewrite_scheduled:0\r\n"
              "aof_last_rewrite_time_sec:-1\r\n"
              "aof_current_rewrite_time_sec:-1\r\n"
              "aof_last_bgrewrite_status:ok\r\n"
              "aof_rewrites:0\r\n"
              "aof_rewrites_consecutive_failures:0\r\n"
              "aof_last_write_status:ok\r\n"
              "aof_last_cow_size:0\r\n"
              "module_fork_in_progress:0\r\n"
              "module_fork_last_cow_size:0\r\n",
              p.loading,
              (unsigned long long)p.changes_since_last_save, p.bgsave_in_progress, p.last_save_time,
              p.last_bgsave_ok ? "ok" : "err", p.last_bgsave_time_sec, p.current_bgsave_time_sec, p.saves,
              p.last_load_keys_expired, p.last_load_keys_loaded);
}

static unsigned long long st(enum stat_id id) { return (unsigned long long)stats_get(id); }

static void section_stats(sbuf *b) {
    unsigned long long sampled = st(STAT_EXPIRED_STALE_SAMPLED), found = st(STAT_EXPIRED_STALE_FOUND);
    double stale_perc = sampled ? (double)found * 100.0 / (double)sampled : 0;
    long long sync_full, sync_pok, sync_perr;
    repl_sync_stats(&sync_full, &sync_pok, &sync_perr);
    sbuf_addf(b,
              "# Stats\r\n"
              "total_connections_received:%llu\r\n"
              "total_commands_processed:%llu\r\n"
              "instantaneous_ops_per_sec:%lld\r\n"
              "total_net_input_bytes:%llu\r\n"
              "total_net_output_bytes:%llu\r\n"
              "total_net_repl_input_bytes:0\r\n"
              "total_net_repl_output_bytes:0\r\n"
              "instantaneous_input_kbps:%.2f\r\n"
              "instantaneous_output_kbps:%.2f\r\n"
              "instantaneous_input_repl_kbps:0.00\r\n"
              "instantaneous_output_repl_kbps:0.00\r\n"
              "rejected_connections:%llu\r\n"
              "sync_full:%lld\r\n"
              "sync_partial_ok:%lld\r\n"
              "sync_partial_err:%lld\r\n"
              "expired_keys:%llu\r\n"
              "expired_stale_perc:%.2f\r\n"
              "expired_time_cap_reached_count:%llu\r\n"
              "expire_cycle_cpu_milliseconds:0\r\n"
              "evicted_keys:%llu\r\n"
              "evicted_clients:%llu\r\n"
              "total_eviction_exceeded_time:0\r\n"
              "current_eviction_exceeded_time:0\r\n"
              "keyspace_hits:%llu\r\n"
              "keyspace_misses:%llu\r\n",
              st(STAT_CONNECTIONS), st(STAT_COMMANDS), (long long)(stats_instantaneous(STAT_COMMANDS) + 0.5),
              st(STAT_NET_INPUT), st(STAT_NET_OUTPUT), stats_instantaneous(STAT_NET_INPUT) / 1024,
              stats_instantaneous(STAT_NET_OUTPUT) / 1024, st(STAT_REJECTED_CONNECTIONS), sync_full, sync_pok,
              sync_perr, st(STAT_EXPIRED_KEYS),
              stale_perc, st(STAT_EXPIRED_TIME_CAP), st(STAT_EVICTED_KEYS), st(STAT_EVICTED_CLIENTS),
              st(STAT_KEYSPACE_HITS), st(STAT_KEYSPACE_MISSES));
    sbuf_addf(b,
              "pubsub_channels:%ld\r\n"
              "pubsub_patterns:%ld\r\n"
              "pubsubshard_channels:%ld\r\n"
              "latest_fork_usec:0\r\n"
              "total_forks:0\r\n"
              "migrate_cached_sockets:0\r\n"
              "slave_expires_tracked_keys:0\r\n"
              "active_defrag_hits:0\r\n"
              "active_defrag_misses:0\r\n"
              "active_defrag_key_hits:0\r\n"
              "active_defrag_key_misses:0\r\n"
              "total_active_defrag_time:0\r\n"
              "current_active_defrag_time:0\r\n"
              "tracking_total_keys:0\r\n"
              "tracking_total_items:0\r\n"
              "tracking_total_prefixes:0\r\n"
              "unexpected_error_replies:0\r\n"
              "total_error_replies:%llu\r\n"
              "dump_payload_sanitizations:0\r\n"
              "total_reads_processed:%llu\r\n"
              "total_writes_processed:%llu\r\n"
              "io_threaded_reads_processed:0\r\n"
              "io_threaded_writes_processed:0\r\n"
              "reply_buffer_shrinks:0\r\n"
              "reply_buffer_expands:0\r\n",
              pubsub_total_channels(), pubsub_total_patterns(), pubsub_total_shard_channels(),
              st(STAT_ERROR_REPLIES), st(STAT_IO_READS), st(STAT_IO_WRITES));
}

/* repl_info's callback: append to the INFO buffer. */
__attribute__((format(printf, 2, 3))) static void repl_out(void *ctx, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sbuf_vaddf(ctx, fmt, ap);
    va_end(ap);
}

static void section_replication(sbuf *b) {
    sbuf_adds(b, "# Replication\r\n");
    repl_info(repl_out, b);
}

static double tv_sec(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec / 1e6; }

static void section_cpu(sbuf *b) {
    struct rusage children, self_thread;
    memset(&children, 0, sizeof children);
    memset(&self_thread, 0, sizeof self_thread);
    getrusage(RUSAGE_CHILDREN, &children);
    /* Redis's "main thread" is the thread serving this client: here, the
     * worker running INFO. */
    getrusage(RUSAGE_THREAD, &self_thread);
    sbuf_addf(b,
              "# CPU\r\n"
              "used_cpu_sys:%.6f\r\n"
              "used_cpu_user:%.6f\r\n"
              "used_cpu_sys_children:%.6f\r\n"
              "used_cpu_user_children:%.6f\r\n"
              "used_cpu_sys_main_thread:%.6f\r\n"
              "used_cpu_user_main_thread:%.6f\r\n",
              process_cpu_sys(), process_cpu_user(), tv_sec(children.ru_stime), tv_sec(children.ru_utime),
              tv_sec(self_thread.ru_stime), tv_sec(self_thread.ru_utime));
}

static void section_modules(sbuf *b) { sbuf_adds(b, "# Modules\r\n"); }

static void cmdstat_line(sbuf *b, const command *cmd) {
    unsigned long long calls = cmdstats_get(cmd, CMDSTAT_CALLS);
    unsigned long long usec = cmdstats_get(cmd, CMDSTAT_USEC);
    unsigned long long rejected = cmdstats_get(cmd, CMDSTAT_REJECTED);
    unsigned long long failed = cmdstats_get(cmd, CMDSTAT_FAILED);
    if (!calls && !rejected && !failed) return;
    sbuf_addf(b, "cmdstat_%s:calls=%llu,usec=%llu,usec_per_call=%.2f,rejected_calls=%llu,failed_calls=%llu\r\n",
              cmd->fullname ? cmd->fullname : cmd->name, calls, usec,
              calls ? (double)usec / (double)calls : 0.0, rejected, failed);
}

static void section_commandstats(sbuf *b) {
    sbuf_adds(b, "# Commandstats\r\n");
    int n = command_count();
    for (int i = 0; i < n; i++) {
        const command *cmd = command_at(i);
        if (cmd->subcommands) {
            for (const command *sub = cmd->subcommands; sub->name; sub++) cmdstat_line(b, sub);
        } else {
            cmdstat_line(b, cmd);
        }
    }
}

static void errorstat_line(const char *code, uint64_t count, void *arg) {
    sbuf_addf((sbuf *)arg, "errorstat_%s:count=%llu\r\n", code, (unsigned long long)count);
}

static void section_errorstats(sbuf *b) {
    sbuf_adds(b, "# Errorstats\r\n");
    errorstats_each(errorstat_line, b);
}

/* Per-command latency percentiles are not tracked: the section is empty. */
static void section_latencystats(sbuf *b) { sbuf_adds(b, "# Latencystats\r\n"); }

static void section_cluster(sbuf *b) {
    sbuf_addf(b, "# Cluster\r\ncluster_enabled:%d\r\n", cfg_get(cluster_enabled) ? 1 : 0);
}

static void section_keyspace(sbuf *b) {
    sbuf_adds(b, "# Keyspace\r\n");
    int n = db_count();
    for (int db = 0; db < n; db++) {
        uint64_t keys = db_size(db);
        if (!keys) continue;
        /* avg_ttl is not tracked (Redis estimates it from the expire cycle's
         * samples); 0 is what Redis reports when it has no estimate. */
        sbuf_addf(b, "db%d:keys=%llu,expires=%llu,avg_ttl=0\r\n", db, (unsigned long long)keys,
                  (unsigned long long)db_expires(db));
    }
}

/* ---------------------------------------------------------------- generation */

enum { SEC_DEFAULT = 1, SEC_ALL = 2 };

static const struct {
    const char *name;
    void (*fn)(sbuf *b);
    int in; /* SEC_DEFAULT and/or SEC_ALL */
} sections[] = {
    {"server", section_server, SEC_DEFAULT | SEC_ALL},
    {"clients", section_clients, SEC_DEFAULT | SEC_ALL},
    {"memory", section_memory, SEC_DEFAULT | SEC_ALL},
    {"persistence", section_persistence, SEC_DEFAULT | SEC_ALL},
    {"stats", section_stats, SEC_DEFAULT | SEC_ALL},
    {"replication", section_replication, SEC_DEFAULT | SEC_ALL},
    {"cpu", section_cpu, SEC_DEFAULT | SEC_ALL},
    {"modules", section_modules, SEC_DEFAULT | SEC_ALL},
    {"commandstats", section_commandstats, SEC_ALL},
    {"errorstats", section_errorstats, SEC_DEFAULT | SEC_ALL},
    {"latencystats", section_latencystats, SEC_ALL},
    {"cluster", section_cluster, SEC_DEFAULT | SEC_ALL},
    {"keyspace", section_keyspace, SEC_DEFAULT | SEC_ALL},
};
#define NSECTIONS (sizeof sections / sizeof sections[0])

static bool arg_is(const arg_t *a, const char *s) {
    size_t n = strlen(s);
    return a->len == n && strncasecmp(a->ptr, s, n) == 0;
}

char *info_generate(const arg_t *args, int nargs, size_t *len) {
    pthread_once(&facts_once, facts_init);
    bool want[NSECTIONS] = {false};
    if (nargs == 0) {
        for (size_t i = 0; i < NSECTIONS; i++) want[i] = sections[i].in & SEC_DEFAULT;
    }
    for (int a = 0; a < nargs; a++) {
        int group = arg_is(&args[a], "default")                                           ? SEC_DEFAULT
                    : arg_is(&args[a], "all") || arg_is(&args[a], "everything") ? SEC_ALL
                                                                                         : 0;
        for (size_t i = 0; i < NSECTIONS; i++)
            if (group ? (sections[i].in & group) != 0 : arg_is(&args[a], sections[i].name)) want[i] = true;
    }
    sbuf b = {0};
    bool first = true;
    for (size_t i = 0; i < NSECTIONS; i++) {
        if (!want[i]) continue;
        if (!first) sbuf_adds(&b, "\r\n");
        first = false;
        sections[i].fn(&b);
    }
    *len = b.len;
    return sbuf_take(&b);
}
