/*
 * cmd_server.c - server introspection and administration commands: INFO,
 * TIME, LASTSAVE, SHUTDOWN, DEBUG, MEMORY, SLOWLOG (handlers in slowlog.c),
 * and SAVE / BGSAVE / BGREWRITEAOF, which refuse because slotcache keeps no
 * data on disk.
 *
 * Design notes:
 * - DEBUG SLEEP blocks only the worker thread that runs it; clients of the
 *   other workers are still served (Redis, single-threaded, stops entirely).
 * - DEBUG POPULATE creates keys that are not in its argv, so it locks each
 *   key's slot itself, one at a time, like the other whole-keyspace walkers;
 *   so do DEBUG DIGEST and DIGEST-VALUE (debug_digest.c).
 */
#include "clients.h"
#include "command_modules.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "debug_digest.h"
#include "info.h"
#include "log.h"
#include "mem.h"
#include "numparse.h"
#include "expire.h"
#include "persist.h"
#include "propagate.h"
#include "process.h"
#include "slotlock.h"
#include "slowlog.h"
#include "watch.h"
#include "worker.h"

#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* SLOWLOG subcommand handlers live with the slow log (slowlog.c). */

#define ERR_NO_AOF "ERR the append-only file is not supported by slotcache yet"

/* ---------------------------------------------------------------- helpers */

/* Text replies: verbatim "txt" in RESP3, bulk in RESP2. */
static void reply_text(client *c, const char *s, size_t len) { add_reply_verbatim(c, s, len, "txt"); }

/* ---------------------------------------------------------------- INFO, TIME, LASTSAVE */

static void info_command(client *c) {
    size_t len;
    char *text = info_generate(c->argv + 1, c->argc - 1, &len);
    reply_text(c, text, len);
    mem_free(text);
}

static void time_command(client *c) {
    long long us = ustime();
    char buf[32];
    add_reply_array(c, 2);
    size_t n = format_ll(buf, sizeof buf, us / 1000000);
    add_reply_bulk(c, buf, n);
    n = format_ll(buf, sizeof buf, us % 1000000);
    add_reply_bulk(c, buf, n);
}


/* ---------------------------------------------------------------- SHUTDOWN, SAVE */

static void shutdown_command(client *c) {
    bool nosave = false, save = false, now = false, force = false, abort_req = false;
    for (int i = 1; i < c->argc; i++) {
        if (arg_eq(&c->argv[i], "nosave")) nosave = true;
        else if (arg_eq(&c->argv[i], "save")) save = true;
        else if (arg_eq(&c->argv[i], "now")) now = true;
        else if (arg_eq(&c->argv[i], "force")) force = true;
        else if (arg_eq(&c->argv[i], "abort")) abort_req = true;
        else {
            add_reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    if ((abort_req && (nosave || save || now || force)) || (nosave && save)) {
        add_reply_error(c, ERR_SYNTAX);
        return;
    }
    if (abort_req) {
        /* A shutdown is never pending: it starts at once (no replicas to
         * wait for). */
        add_reply_error(c, "ERR No shutdown in progress.");
        return;
    }
    if (!persist_prepare_shutdown(save, nosave) && !force) {
        add_reply_error(c, "ERR Errors trying to SHUTDOWN. Check logs.");
        return;
    }
    /* Like Redis, no reply: the connection ends with the server. Stop
     * reading this client's pipeline now. */
    server_request_shutdown();
    client_close_after_reply(c);
}

static void bgrewriteaof_command(client *c) { add_reply_error(c, ERR_NO_AOF); }

/* ---------------------------------------------------------------- DEBUG */

static void debug_help(client *c) {
    static const char *const help[] = {
        "DIGEST",
        "    Output a hex signature representing the current DB content.",
        "DIGEST-VALUE <key> [<key> ...]",
        "    Output a hex signature of the values of all the specified keys.",
        "ERROR <string>",
        "    Return a Redis protocol error with <string> as message. Useful for clients",
        "    unit tests to simulate Redis errors.",
        "LOG <message>",
        "    Write <message> to the server log.",
        "POPULATE <count> [<prefix>] [<size>]",
        "    Create <count> string keys named key:<num>. If <prefix> is specified then",
        "    it is used instead of the 'key' prefix. These are not propagated to",
        "    replicas. Cluster slots are not respected so keys not belonging to the",
        "    current node can be created in cluster mode.",
        "RELOAD",
        "    Save the RDB on disk and reload it back to memory.",
        "PROTOCOL <type>",
        "    Reply with a test value of the specified type. <type> can be: string,",
        "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
        "    true, false.",
        "SET-ACTIVE-EXPIRE <0|1>",
        "    Setting it to 0 disables expiring keys in background when they are not",
        "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
        "    default.",
        "SLEEP <seconds>",
        "    Stop the server for <seconds>. Decimals allowed.",
        NULL,
    };
    add_reply_help(c, "DEBUG", help);
}

static void debug_sleep(client *c) {
    /* Redis reads the argument with strtod and no error check: "x" is 0. */
    char buf[64];
    size_t n = c->argv[2].len < sizeof buf - 1 ? c->argv[2].len : sizeof buf - 1;
    memcpy(buf, c->argv[2].ptr, n);
    buf[n] = '\0';
    double secs = strtod(buf, NULL);
    if (isfinite(secs) && secs > 0) {
        if (secs > 1e9) secs = 1e9;
        long long us = (long long)(secs * 1e6);
        struct timespec ts = {.tv_sec = (time_t)(us / 1000000), .tv_nsec = (long)(us % 1000000) * 1000};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
    }
    add_reply_ok(c);
}

static void debug_error(client *c) {
    char *msg = mem_strndup(c->argv[2].ptr, c->argv[2].len);
    add_reply_error(c, msg);
    mem_free(msg);
}

static void debug_log(client *c) {
    log_warning("DEBUG LOG: %.*s", (int)c->argv[2].len, c->argv[2].ptr);
    add_reply_ok(c);
}

static bool positive_or_reply(client *c, const arg_t *a, long long *out) {
    if (!parse_ll(a->ptr, a->len, out) || *out < 0) {
        add_reply_error(c, "ERR value is out of range, must be positive");
        return false;
    }
    return true;
}

static void debug_populate(client *c) {
    long long count, size = 0;
    if (!positive_or_reply(c, &c->argv[2], &count)) return;
    if (c->argc == 5 && !positive_or_reply(c, &c->argv[4], &size)) return;
    if (size > cfg_get(proto_max_bulk_len)) {
        add_reply_error(c, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        return;
    }
    const char *prefix = "key";
    size_t plen = 3;
    if (c->argc >= 4) {
        prefix = c->argv[3].ptr;
        plen = c->argv[3].len;
    }
    char *key = mem_alloc(plen + 32);
    memcpy(key, prefix, plen);
    char *val = size ? mem_calloc(1, (size_t)size) : NULL;
    char small[32];
    for (long long i = 0; i < count; i++) {
        size_t klen = plen + (size_t)snprintf(key + plen, 32, ":%lld", i);
        int vn = snprintf(small, sizeof small, "value:%lld", i);
        const char *v = small;
        size_t vlen = (size_t)vn;
        if (size) {
            /* "value:<n>" cut or zero-padded to the requested size. */
            size_t copy = (size_t)size < vlen ? (size_t)size : vlen;
            memcpy(val, small, copy);
            memset(val + copy, 0, (size_t)size - copy);
            v = val;
            vlen = (size_t)size;
        }
        dbkey k;
        dbkey_init(&k, c->db, key, klen);
        entry *e = entry_new_string(key, klen, v, vlen, -1, false);
        long pos;
        slot_lock(k.slot);
        bool exists = db_lookup(&k, LOOKUP_WRITE | LOOKUP_NOSTATS, &pos) != NULL;
        if (!exists) {
            db_add(&k, e);
            watch_touch_key(&k); /* as Redis's signalModifiedKey; no event, no dirty */
        }
        slot_unlock(k.slot);
        if (exists) entry_free(e);
    }
    mem_free(val);
    mem_free(key);
    add_reply_ok(c);
}

/* RESP3 types client.h has no add_reply_ helper for are written with the
 * resp_write.h encoders straight into the client's reply buffer. */
static void debug_reply_bool(client *c, bool v) { reply_bool(&c->out, c->resp, v); }

static void debug_protocol(client *c) {
    const arg_t *t = &c->argv[2];
    if (arg_eq(t, "string")) {
        add_reply_bulk_cstr(c, "Hello World");
    } else if (arg_eq(t, "integer")) {
        add_reply_integer(c, 12345);
    } else if (arg_eq(t, "double")) {
        add_reply_double(c, 3.141);
    } else if (arg_eq(t, "bignum")) {
        static const char big[] = "1234567999999999999999999999999999999";
        if (c->resp >= 3) {
            add_reply_raw(c, "(", 1);
            add_reply_raw(c, big, sizeof big - 1);
            add_reply_raw(c, "\r\n", 2);
        } else {
            add_reply_bulk_cstr(c, big);
        }
    } else if (arg_eq(t, "null")) {
        add_reply_null(c);
    } else if (arg_eq(t, "array")) {
        add_reply_array(c, 3);
        for (int j = 0; j < 3; j++) add_reply_integer(c, j);
    } else if (arg_eq(t, "set")) {
        add_reply_set(c, 3);
        for (int j = 0; j < 3; j++) add_reply_integer(c, j);
    } else if (arg_eq(t, "map")) {
        add_reply_map(c, 3);
        for (int j = 0; j < 3; j++) {
            add_reply_integer(c, j);
            debug_reply_bool(c, j == 1);
        }
    } else if (arg_eq(t, "attrib")) {
        if (c->resp >= 3) {
            add_reply_raw(c, "|1\r\n", 4);
            add_reply_bulk_cstr(c, "key-popularity");
            add_reply_array(c, 2);
            add_reply_bulk_cstr(c, "key:123");
            add_reply_integer(c, 90);
        }
        add_reply_bulk_cstr(c, "Some real reply following the attribute");
    } else if (arg_eq(t, "push")) {
        if (c->resp < 3) {
            add_reply_error(c, "ERR RESP2 is not supported by this command");
            return;
        }
        reply_push(&c->out, c->resp, 2);
        add_reply_bulk_cstr(c, "server-cpu-usage");
        add_reply_integer(c, 42);
        add_reply_bulk_cstr(c, "Some real reply following the push reply");
    } else if (arg_eq(t, "verbatim")) {
        static const char text[] = "This is a verbatim\nstring";
        add_reply_verbatim(c, text, sizeof text - 1, "txt");
    } else if (arg_eq(t, "true")) {
        debug_reply_bool(c, true);
    } else if (arg_eq(t, "false")) {
        debug_reply_bool(c, false);
    } else {
        add_reply_error(c, "ERR Wrong protocol type name. Please use one of the following: "
                           "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false");
    }
}

/* DEBUG SET-ACTIVE-EXPIRE 0|1: the active expiry cycle off or on (tests
 * that need lazy expiry alone, as Redis's). */
static void debug_set_active_expire(client *c) {
    long long v;
    if (!arg_ll_or_reply(c, &c->argv[2], &v, NULL)) return;
    atomic_store_explicit(&expire_active_enabled, v != 0, memory_order_relaxed);
    add_reply_ok(c);
}

static void debug_command(client *c) {
    const arg_t *sub = &c->argv[1];
    /* DEBUG never enters the replication stream (Redis 7.0 does not
     * propagate DEBUG POPULATE / RELOAD; a replica may refuse DEBUG). */
    propagate_prevent();
    if (c->argc == 2 && arg_eq(sub, "help")) debug_help(c);
    else if (c->argc == 3 && arg_eq(sub, "sleep")) debug_sleep(c);
    else if (c->argc == 2 && arg_eq(sub, "digest")) debug_digest_command(c);
    else if (arg_eq(sub, "digest-value")) debug_digest_value_command(c);
    else if (c->argc == 3 && arg_eq(sub, "error")) debug_error(c);
    else if (c->argc == 3 && arg_eq(sub, "log")) debug_log(c);
    else if (c->argc >= 3 && c->argc <= 5 && arg_eq(sub, "populate")) debug_populate(c);
    else if (c->argc == 3 && arg_eq(sub, "protocol")) debug_protocol(c);
    else if (c->argc == 2 && arg_eq(sub, "reload")) persist_debug_reload(c);
    else if (c->argc == 3 && arg_eq(sub, "set-active-expire")) debug_set_active_expire(c);
    else add_reply_subcommand_syntax_error(c, "DEBUG");
}

/* ---------------------------------------------------------------- MEMORY */

static void memory_help_command(client *c) {
    static const char *const help[] = {
        "DOCTOR",
        "    Return memory problems reports.",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS",
        "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
        NULL,
    };
    add_reply_help(c, "MEMORY", help);
}

/* The key's entry (key, value and inline string) plus its share of the
 * slot table's bucket array. Aggregate values are measured whole: SAMPLES
 * is validated but not needed. */
static void memory_usage_command(client *c) {
    for (int j = 3; j < c->argc; j++) {
        if (arg_eq(&c->argv[j], "samples") && j + 1 < c->argc) {
            long long samples;
            if (!arg_ll_or_reply(c, &c->argv[j + 1], &samples, NULL)) return;
            if (samples < 0) {
                add_reply_error(c, ERR_SYNTAX);
                return;
            }
            j++;
        } else {
            add_reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    dbkey k;
    dbkey_init(&k, c->db, c->argv[2].ptr, c->argv[2].len);
    long pos;
    entry *e = db_lookup(&k, LOOKUP_READ | LOOKUP_NOTOUCH | LOOKUP_NOSTATS, &pos);
    if (!e) {
        add_reply_null(c);
        return;
    }
    size_t bytes = entry_mem_usage(e);
    ktable *t = db_table(c->db, k.slot, false);
    uint32_t n = t ? ktable_count(t) : 0;
    if (n) bytes += (ktable_mem(t) + n - 1) / n;
    add_reply_integer(c, (long long)bytes);
}

/* Bucket arrays of one database, slot by slot under each slot's lock. */
static size_t db_tables_mem(int db) {
    size_t sum = 0;
    for (unsigned s = 0; s < 16384; s++) {
        ktable *t = db_table(db, s, false);
        if (!t || ktable_count(t) == 0) continue;
        slot_lock(s);
        sum += ktable_mem(t);
        slot_unlock(s);
    }
    return sum;
}

static void map_ll(client *c, const char *k, long long v) {
    add_reply_bulk_cstr(c, k);
    add_reply_integer(c, v);
}

static void map_double(client *c, const char *k, double v) {
    add_reply_bulk_cstr(c, k);
    add_reply_double(c, v);
}

static double div0(double a, double b) { return b != 0 ? a / b : 0; }

static void memory_stats_command(client *c) {
    info_memory m;
    info_memory_get(&m);
    int ndb = db_count();
    long long used_dbs = 0;
    uint64_t keys = 0;
    size_t tables = 0;
    uint64_t *dbkeys = mem_calloc((size_t)ndb, sizeof *dbkeys);
    size_t *dbmem = mem_calloc((size_t)ndb, sizeof *dbmem);
    for (int db = 0; db < ndb; db++) {
        dbkeys[db] = db_size(db);
        if (!dbkeys[db]) continue;
        keys += dbkeys[db];
        used_dbs++;
        dbmem[db] = db_tables_mem(db);
        tables += dbmem[db];
    }
    size_t overhead = m.overhead + tables;
    size_t dataset = m.used > overhead ? m.used - overhead : 0;
    size_t net = m.used > m.startup ? m.used - m.startup : 0;

    add_reply_map(c, 27 + used_dbs);
    map_ll(c, "peak.allocated", (long long)m.peak);
    map_ll(c, "total.allocated", (long long)m.used);
    map_ll(c, "startup.allocated", (long long)m.startup);
    map_ll(c, "replication.backlog", 0);
    map_ll(c, "clients.slaves", 0);
    map_ll(c, "clients.normal", (long long)m.clients_normal);
    map_ll(c, "cluster.links", 0);
    map_ll(c, "aof.buffer", 0);
    map_ll(c, "lua.caches", 0);
    map_ll(c, "functions.caches", 0);
    for (int db = 0; db < ndb; db++) {
        if (!dbkeys[db]) continue;
        char name[32];
        snprintf(name, sizeof name, "db.%d", db);
        add_reply_bulk_cstr(c, name);
        add_reply_map(c, 3);
        map_ll(c, "overhead.hashtable.main", (long long)dbmem[db]);
        map_ll(c, "overhead.hashtable.expires", 0);
        map_ll(c, "overhead.hashtable.slot-to-keys", 0);
    }
    mem_free(dbkeys);
    mem_free(dbmem);
    map_ll(c, "overhead.total", (long long)overhead);
    map_ll(c, "keys.count", (long long)keys);
    map_ll(c, "keys.bytes-per-key", keys ? (long long)(net / keys) : 0);
    map_ll(c, "dataset.bytes", (long long)dataset);
    map_double(c, "dataset.percentage", div0((double)dataset * 100.0, (double)net));
    map_double(c, "peak.percentage", m.peak_perc);
    map_ll(c, "allocator.allocated", (long long)m.alloc_allocated);
    map_ll(c, "allocator.active", (long long)m.alloc_active);
    map_ll(c, "allocator.resident", (long long)m.alloc_resident);
    map_double(c, "allocator-fragmentation.ratio", div0((double)m.alloc_active, (double)m.alloc_allocated));
    map_ll(c, "allocator-fragmentation.bytes", (long long)m.alloc_active - (long long)m.alloc_allocated);
    map_double(c, "allocator-rss.ratio", div0((double)m.alloc_resident, (double)m.alloc_active));
    map_ll(c, "allocator-rss.bytes", (long long)m.alloc_resident - (long long)m.alloc_active);
    map_double(c, "rss-overhead.ratio", div0((double)m.rss, (double)m.alloc_resident));
    map_ll(c, "rss-overhead.bytes", (long long)m.rss - (long long)m.alloc_resident);
    map_double(c, "fragmentation", div0((double)m.rss, (double)m.used));
    map_ll(c, "fragmentation.bytes", (long long)m.rss - (long long)m.used);
}

static void memory_doctor_command(client *c) {
    info_memory m;
    info_memory_get(&m);
    char text[2048];
    size_t n = 0;
    if (m.used < 5 * 1024 * 1024) {
        n = (size_t)snprintf(text, sizeof text, "%s",
                             "Hi Sam, this instance is empty or is using very little memory, my issues detector "
                             "can't be used in these conditions. Please, leave for your mission on Earth and fill "
                             "it with some data. The new Sam and I will be back to our programming as soon as I "
                             "finished rebooting.");
        reply_text(c, text, n);
        return;
    }
    bool peak = m.peak > m.used + m.used / 2;
    bool frag = m.rss > m.used + m.used * 2 / 5 && m.rss - m.used > 10 * 1024 * 1024;
    long nclients = clients_connected();
    bool big_clients = nclients > 0 && m.clients_normal / (size_t)nclients > 200 * 1024;
    if (!peak && !frag && !big_clients) {
        n = (size_t)snprintf(text, sizeof text, "%s",
                             "Hi Sam, I can't find any memory issue in your instance. I can only account for what "
                             "occurs on this base.");
        reply_text(c, text, n);
        return;
    }
    n = (size_t)snprintf(text, sizeof text, "Sam, I detected a few issues in this slotcache instance memory "
                                            "implants:\n\n");
    if (peak && n < sizeof text)
        n += (size_t)snprintf(text + n, sizeof text - n,
                              " * Peak memory: the instance once used more than 150%% of the memory it uses now "
                              "(peak %zu bytes, now %zu). The allocator may not return freed memory to the system "
                              "at once; MEMORY PURGE asks it to.\n\n",
                              m.peak, m.used);
    if (frag && n < sizeof text)
        n += (size_t)snprintf(text + n, sizeof text - n,
                              " * High fragmentation: the resident set is %.2f times the memory allocated. Freed "
                              "blocks of many sizes leave holes; MEMORY PURGE may return some pages.\n\n",
                              div0((double)m.rss, (double)m.used));
    if (big_clients && n < sizeof text)
        n += (size_t)snprintf(text + n, sizeof text - n,
                              " * Big client buffers: clients use %zu bytes of query and output buffers on "
                              "average. Look for slow readers or very large pipelines (CLIENT LIST, omem and "
                              "qbuf).\n\n",
                              m.clients_normal / (size_t)nclients);
    if (n < sizeof text)
        n += (size_t)snprintf(text + n, sizeof text - n, "I'm here to keep you safe, Sam. I want to help you.\n");
    if (n >= sizeof text) n = sizeof text - 1;
    reply_text(c, text, n);
}

/* glibc's malloc_info XML report. */
static void memory_malloc_stats_command(client *c) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f) {
        malloc_info(0, f);
        fclose(f);
    }
    if (!buf) {
        static const char none[] = "Stats not supported for the current allocator";
        reply_text(c, none, sizeof none - 1);
        return;
    }
    reply_text(c, buf, len);
    free(buf); /* allocated by stdio, not through mem.h */
}

static void memory_purge_command(client *c) {
    malloc_trim(0);
    add_reply_ok(c);
}

/* ---------------------------------------------------------------- table */

static command memory_subcommands[] = {
    {.name = "doctor", .arity = 2, .proc = memory_doctor_command, .group = "server", .since = "4.0.0",
     .summary = "Outputs memory problems report", .complexity = "O(1)", .acl_categories = "slow"},
    {.name = "help", .arity = 2, .flags = CMD_LOADING | CMD_STALE, .proc = memory_help_command, .group = "server",
     .since = "4.0.0", .summary = "Show helpful text about the different subcommands", .complexity = "O(1)",
     .acl_categories = "slow"},
    {.name = "malloc-stats", .arity = 2, .proc = memory_malloc_stats_command, .group = "server", .since = "4.0.0",
     .summary = "Show allocator internal stats",
     .complexity = "Depends on how much memory is allocated, could be slow", .acl_categories = "slow"},
    {.name = "purge", .arity = 2, .proc = memory_purge_command, .group = "server", .since = "4.0.0",
     .summary = "Ask the allocator to release memory",
     .complexity = "Depends on how much memory is allocated, could be slow", .acl_categories = "slow"},
    {.name = "stats", .arity = 2, .flags = CMD_ALL_SLOTS, .proc = memory_stats_command, .group = "server", .since = "4.0.0",
     .summary = "Show memory usage details", .complexity = "O(1)", .acl_categories = "slow"},
    {.name = "usage", .arity = -3, .flags = CMD_READONLY, .first_key = 2, .last_key = 2, .key_step = 1,
     .proc = memory_usage_command, .group = "server", .since = "4.0.0",
     .summary = "Estimate the memory usage of a key", .complexity = "O(N) where N is the number of samples.",
     .acl_categories = "read slow"},
    {0},
};

static command slowlog_subcommands[] = {
    {.name = "get", .arity = -2, .flags = CMD_ADMIN | CMD_LOADING | CMD_STALE, .proc = slowlog_get_command,
     .group = "server", .since = "2.2.12", .summary = "Get the slow log's entries",
     .complexity = "O(N) where N is the number of entries returned", .acl_categories = "admin slow dangerous"},
    {.name = "len", .arity = 2, .flags = CMD_ADMIN | CMD_LOADING | CMD_STALE, .proc = slowlog_len_command,
     .group = "server", .since = "2.2.12", .summary = "Get the slow log's length", .complexity = "O(1)",
     .acl_categories = "admin slow dangerous"},
    {.name = "reset", .arity = 2, .flags = CMD_ADMIN | CMD_LOADING | CMD_STALE, .proc = slowlog_reset_command,
     .group = "server", .since = "2.2.12", .summary = "Clear all entries from the slow log",
     .complexity = "O(N) where N is the number of entries in the slowlog", .acl_categories = "admin slow dangerous"},
    {.name = "help", .arity = 2, .flags = CMD_LOADING | CMD_STALE, .proc = slowlog_help_command, .group = "server",
     .since = "6.2.0", .summary = "Show helpful text about the different subcommands", .complexity = "O(1)",
     .acl_categories = "slow"},
    {0},
};

command server_commands[] = {
    {.name = "info", .arity = -1, .flags = CMD_LOADING | CMD_STALE, .proc = info_command, .group = "server",
     .since = "1.0.0", .summary = "Get information and statistics about the server", .complexity = "O(1)",
     .acl_categories = "slow dangerous"},
    {.name = "time", .arity = 1, .flags = CMD_LOADING | CMD_STALE | CMD_FAST, .proc = time_command,
     .group = "server", .since = "2.6.0", .summary = "Return the current server time", .complexity = "O(1)",
     .acl_categories = "fast"},
    {.name = "lastsave", .arity = 1, .flags = CMD_LOADING | CMD_STALE | CMD_FAST, .proc = persist_lastsave_command,
     .group = "server", .since = "1.0.0", .summary = "Get the UNIX time stamp of the last successful save to disk",
     .complexity = "O(1)", .acl_categories = "admin fast dangerous"},
    {.name = "shutdown", .arity = -1,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_NO_MULTI | CMD_ALLOW_BUSY,
     .proc = shutdown_command, .group = "server", .since = "1.0.0",
     .summary = "Synchronously save the dataset to disk and then shut down the server",
     .complexity = "O(N) when saving, where N is the total number of keys in all databases when saving data, "
                   "otherwise O(1)",
     .acl_categories = "admin slow dangerous"},
    {.name = "debug", .arity = -2, .flags = CMD_ALL_SLOTS | CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE,
     .proc = debug_command, .group = "server", .since = "1.0.0", .summary = "A container for debugging commands",
     .complexity = "Depends on subcommand.", .acl_categories = "admin slow dangerous"},
    {.name = "memory", .arity = -2, .group = "server", .since = "4.0.0",
     .summary = "A container for memory diagnostics commands", .complexity = "Depends on subcommand.",
     .acl_categories = "slow", .subcommands = memory_subcommands},
    {.name = "slowlog", .arity = -2, .group = "server", .since = "2.2.12",
     .summary = "A container for slow log commands", .complexity = "Depends on subcommand.",
     .acl_categories = "slow", .subcommands = slowlog_subcommands},
    {.name = "save", .arity = 1, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_ASYNC_LOADING | CMD_NO_MULTI,
     .proc = persist_save_command, .group = "server", .since = "1.0.0",
     .summary = "Synchronously save the dataset to disk",
     .complexity = "O(N) where N is the total number of keys in all databases",
     .acl_categories = "admin slow dangerous"},
    {.name = "bgsave", .arity = -1, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_ASYNC_LOADING,
     .proc = persist_bgsave_command, .group = "server", .since = "1.0.0",
     .summary = "Asynchronously save the dataset to disk", .complexity = "O(1)",
     .acl_categories = "admin slow dangerous"},
    {.name = "bgrewriteaof", .arity = 1, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_ASYNC_LOADING,
     .proc = bgrewriteaof_command,
     .group = "server", .since = "1.0.0", .summary = "Asynchronously rewrite the append-only file",
     .complexity = "O(1)", .acl_categories = "admin slow dangerous"},
    {0},
};
