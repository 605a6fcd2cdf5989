/*
 * persist.c - RDB persistence as a server feature (see persist.h).
 *
 * Threads: SAVE, FLUSHALL's save and DEBUG RELOAD run on the worker that
 * got the command; BGSAVE (from the command or a save point) on one
 * pthread at a time, reaped by worker 0's cron or at shutdown; the startup
 * load and the shutdown save on the main thread. Everything in `ps` is
 * guarded by ps_lock; the flags read on the request path (loading, MISCONF)
 * are atomics.
 */
#include "persist.h"

#include "config.h"
#include "db.h"
#include "log.h"
#include "mem.h"
#include "multi.h"
#include "rdb_file.h"
#include "snapshot.h"
#include "stats.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define BGSAVE_RETRY_DELAY_S 5 /* Redis's CONFIG_BGSAVE_RETRY_DELAY */
#define MAX_SAVE_POINTS 32

static pthread_mutex_t ps_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    long long lastsave_s;       /* last successful save (LASTSAVE) */
    long long last_try_s;       /* last BGSAVE attempt */
    bool last_bgsave_ok;
    long long last_bgsave_time_s;
    long long saves;
    uint64_t dirty_base;        /* dirty at the start of the last successful save */
    bool bg_running, bg_done, bg_scheduled;
    long long bg_start_ms;
    uint64_t bg_dirty_at_start;
    pthread_t bg_thread;
    rdb_writer *bg_writer;
    unsigned long long load_loaded, load_expired;
} ps = {.last_bgsave_ok = true, .last_bgsave_time_s = -1};

static _Atomic bool loading = true; /* until the startup load is over (no window of an empty keyspace) */
static _Atomic bool misconf;    /* last BGSAVE failed (MISCONF when save points + stop-writes) */
static _Atomic int shutdown_mode;

static long long now_s(void) { return mstime() / 1000; }
static uint64_t dirty_now(void) { return stats_get(STAT_DIRTY); }

static void filenames(char *final, size_t flen, char *tmp, size_t tlen) {
    if (cfg_get_string("dbfilename", final, flen) == 0) snprintf(final, flen, "dump.rdb");
    snprintf(tmp, tlen, "temp-%d.rdb", (int)getpid());
}

static bool save_points_set(void) {
    long long pairs[MAX_SAVE_POINTS * 2];
    return cfg_save_points(pairs, MAX_SAVE_POINTS * 2) > 0;
}

bool persist_loading(void) { return atomic_load_explicit(&loading, memory_order_relaxed); }

bool persist_writes_refused(void) {
    return atomic_load_explicit(&misconf, memory_order_relaxed) && cfg_get(stop_writes_on_bgsave_error) &&
           save_points_set();
}

/* ---- saving ---- */

static void record_success(uint64_t dirty_at_start, bool background, long long elapsed_s) {
    pthread_mutex_lock(&ps_lock);
    ps.lastsave_s = now_s();
    ps.dirty_base = dirty_at_start;
    ps.saves++;
    if (background) ps.last_bgsave_time_s = elapsed_s;
    ps.last_bgsave_ok = true; /* as Redis: a good SAVE clears a failed BGSAVE too */
    pthread_mutex_unlock(&ps_lock);
    atomic_store_explicit(&misconf, false, memory_order_relaxed);
}

/* A synchronous save on the calling thread (no BGSAVE may be running). */
static bool save_now(char *err, size_t errlen) {
    char final[1024], tmp[64];
    filenames(final, sizeof final, tmp, sizeof tmp);
    uint64_t dirty = dirty_now();
    rdb_writer *w = rdb_writer_start(tmp, err, errlen);
    if (!w) return false;
    if (!rdb_writer_finish(w, final, err, errlen)) return false;
    log_notice("DB saved on disk");
    record_success(dirty, false, 0);
    return true;
}

/* Wait for a running BGSAVE thread and reap it (false if none ran). */
static void reap_bgsave(bool wait) {
    pthread_mutex_lock(&ps_lock);
    bool joinable = ps.bg_running && (ps.bg_done || wait);
    pthread_t th = ps.bg_thread;
    pthread_mutex_unlock(&ps_lock);
    if (!joinable) return;
    pthread_join(th, NULL);
    pthread_mutex_lock(&ps_lock);
    ps.bg_running = false;
    ps.bg_done = false;
    pthread_mutex_unlock(&ps_lock);
}

static void *bgsave_main(void *arg) {
    (void)arg;
    mem_thread_register();
    stats_thread_register();
    pthread_mutex_lock(&ps_lock);
    rdb_writer *w = ps.bg_writer;
    uint64_t dirty = ps.bg_dirty_at_start;
    long long start = ps.bg_start_ms;
    pthread_mutex_unlock(&ps_lock);
    char final[1024], tmp[64], err[512] = "";
    filenames(final, sizeof final, tmp, sizeof tmp);
    bool ok = rdb_writer_finish(w, final, err, sizeof err);
    long long elapsed = (mstime() - start) / 1000;
    snapshot_stats st = snapshot_last_stats();
    log_notice("Snapshot: %lu slots copied by writers before their change, %lu by the walker, at most %zu bytes "
               "waiting",
               st.preimages, st.walked, st.queued_bytes_peak);
    if (ok) {
        log_notice("Background saving terminated with success");
        record_success(dirty, true, elapsed);
    } else {
        log_warning("%s", err);
        log_warning("Background saving error");
        pthread_mutex_lock(&ps_lock);
        ps.last_bgsave_ok = false;
        ps.last_bgsave_time_s = elapsed;
        pthread_mutex_unlock(&ps_lock);
        atomic_store_explicit(&misconf, true, memory_order_relaxed);
    }
    pthread_mutex_lock(&ps_lock);
    ps.bg_writer = NULL;
    ps.bg_done = true;
    pthread_mutex_unlock(&ps_lock);
    return NULL;
}

/* Start a BGSAVE; false with err when one runs or it cannot start. */
static bool bgsave_start(char *err, size_t errlen) {
    reap_bgsave(false);
    pthread_mutex_lock(&ps_lock);
    bool busy = ps.bg_running;
    if (!busy) ps.bg_running = true; /* claim it */
    ps.last_try_s = now_s();
    pthread_mutex_unlock(&ps_lock);
    if (busy) {
        snprintf(err, errlen, "Background save already in progress");
        return false;
    }
    char final[1024], tmp[64];
    filenames(final, sizeof final, tmp, sizeof tmp);
    uint64_t dirty = dirty_now();
    long long start = mstime();
    rdb_writer *w = rdb_writer_start(tmp, err, errlen);
    if (w) {
        pthread_mutex_lock(&ps_lock);
        ps.bg_writer = w;
        ps.bg_dirty_at_start = dirty;
        ps.bg_start_ms = start;
        ps.bg_done = false;
        ps.bg_scheduled = false;
        pthread_mutex_unlock(&ps_lock);
        if (pthread_create(&ps.bg_thread, NULL, bgsave_main, NULL) == 0) {
            log_notice("Background saving started");
            return true;
        }
        /* No thread: write it here rather than leave the snapshot open. */
        bgsave_main(NULL);
        pthread_mutex_lock(&ps_lock);
        ps.bg_running = false;
        ps.bg_done = false;
        pthread_mutex_unlock(&ps_lock);
        return true;
    }
    log_warning("Can't save in background: %s", err);
    pthread_mutex_lock(&ps_lock);
    ps.bg_running = false;
    ps.last_bgsave_ok = false;
    pthread_mutex_unlock(&ps_lock);
    atomic_store_explicit(&misconf, true, memory_order_relaxed);
    return false;
}

static bool bgsave_running(void) {
    pthread_mutex_lock(&ps_lock);
    bool r = ps.bg_running;
    pthread_mutex_unlock(&ps_lock);
    return r;
}

void persist_save_command(client *c) {
    if (bgsave_running()) {
        add_reply_error(c, "ERR Background save already in progress");
        return;
    }
    char err[512];
    if (save_now(err, sizeof err)) {
        add_reply_ok(c);
    } else {
        log_warning("%s", err);
        add_reply_error(c, "ERR");
    }
}

void persist_bgsave_command(client *c) {
    bool schedule = false;
    if (c->argc > 1) {
        if (c->argc == 2 && arg_eq(&c->argv[1], "schedule")) {
            schedule = true;
        } else {
            add_reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    if (bgsave_running()) {
        add_reply_error(c, "ERR Background save already in progress");
        return;
    }
    if (multi_in_exec()) {
        /* Redis does not fork inside a transaction: the cron starts it. */
        pthread_mutex_lock(&ps_lock);
        ps.bg_scheduled = true;
        pthread_mutex_unlock(&ps_lock);
        add_reply_status(c, "Background saving scheduled");
        return;
    }
    (void)schedule; /* nothing else (AOF rewrite) ever runs beside a BGSAVE */
    char err[512];
    if (bgsave_start(err, sizeof err))
        add_reply_status(c, "Background saving started");
    else
        add_reply_error(c, "ERR");
}

void persist_lastsave_command(client *c) {
    pthread_mutex_lock(&ps_lock);
    long long t = ps.lastsave_s;
    pthread_mutex_unlock(&ps_lock);
    add_reply_integer(c, t);
}

void persist_after_flushall(void) {
    if (!save_points_set()) return;
    if (bgsave_running()) {
        /* Never wait for it here: inside EXEC this thread may hold slots
         * its walker needs. The cron saves again once it is done, so the
         * emptied dataset lands after the older snapshot. */
        pthread_mutex_lock(&ps_lock);
        ps.bg_scheduled = true;
        pthread_mutex_unlock(&ps_lock);
        return;
    }
    char err[512];
    if (!save_now(err, sizeof err)) log_warning("%s", err);
}

void persist_cron(void) {
    reap_bgsave(false);
    if (bgsave_running()) return;
    long long now = now_s();
    pthread_mutex_lock(&ps_lock);
    bool scheduled = ps.bg_scheduled;
    long long lastsave = ps.lastsave_s, last_try = ps.last_try_s;
    bool last_ok = ps.last_bgsave_ok;
    uint64_t dirty = dirty_now() - ps.dirty_base;
    pthread_mutex_unlock(&ps_lock);
    bool start = scheduled;
    long long pairs[MAX_SAVE_POINTS * 2];
    int n = cfg_save_points(pairs, MAX_SAVE_POINTS * 2);
    for (int i = 0; i < n && !start; i++) {
        long long secs = pairs[2 * i], changes = pairs[2 * i + 1];
        if (dirty >= (uint64_t)changes && now - lastsave > secs &&
            (now - last_try > BGSAVE_RETRY_DELAY_S || last_ok)) {
            log_notice("%lld changes in %lld seconds. Saving...", changes, secs);
            start = true;
        }
    }
    if (start) {
        char err[512];
        bgsave_start(err, sizeof err);
    }
}

/* ---- loading ---- */

bool persist_load_at_startup(void) {
    char path[1024], tmp[64];
    filenames(path, sizeof path, tmp, sizeof tmp);
    atomic_store_explicit(&loading, true, memory_order_relaxed);
    long long start = mstime();
    rdb_load_result res;
    int rc = rdb_load_file(path, &res);
    atomic_store_explicit(&loading, false, memory_order_relaxed);
    if (rc < 0) {
        log_warning("Fatal error loading the DB %s: %s. Exiting.", path, res.err);
        return false;
    }
    pthread_mutex_lock(&ps_lock);
    ps.lastsave_s = now_s();
    ps.dirty_base = dirty_now();
    ps.load_loaded = res.keys_loaded;
    ps.load_expired = res.keys_expired;
    pthread_mutex_unlock(&ps_lock);
    if (rc > 0) {
        log_notice("Done loading RDB, keys loaded: %llu, keys expired: %llu.", res.keys_loaded, res.keys_expired);
        log_notice("DB loaded from disk: %.3f seconds", (double)(mstime() - start) / 1000.0);
    }
    return true;
}

void persist_debug_reload(client *c) {
    if (bgsave_running()) { /* not waited for: see persist_after_flushall */
        add_reply_error(c, "ERR Background save already in progress");
        return;
    }
    char err[512];
    if (!save_now(err, sizeof err)) {
        log_warning("%s", err);
        add_reply_error(c, "ERR Error trying to save the DB");
        return;
    }
    db_flush(-1, false);
    char path[1024], tmp[64];
    filenames(path, sizeof path, tmp, sizeof tmp);
    rdb_load_result res;
    if (rdb_load_file(path, &res) <= 0) {
        log_warning("Error trying to load the RDB dump: %s", res.err);
        add_reply_error(c, "ERR Error trying to load the RDB dump, check server logs.");
        return;
    }
    log_notice("DB reloaded by DEBUG RELOAD");
    add_reply_ok(c);
}

/* ---- shutdown ---- */

void persist_set_shutdown_mode(enum persist_shutdown_mode mode) {
    atomic_store_explicit(&shutdown_mode, (int)mode, memory_order_relaxed);
}

bool persist_shutdown(void) {
    reap_bgsave(true);
    int mode = atomic_load_explicit(&shutdown_mode, memory_order_relaxed);
    if (mode == PERSIST_SHUTDOWN_NOSAVE || (mode == PERSIST_SHUTDOWN_DEFAULT && !save_points_set())) return true;
    log_notice("Saving the final RDB snapshot before exiting.");
    char err[512];
    if (!save_now(err, sizeof err)) {
        log_warning("%s", err);
        log_warning("Error trying to save the DB, can't exit.");
        return false;
    }
    return true;
}

/* ---- INFO ---- */

persist_status persist_get_status(void) {
    persist_status s;
    memset(&s, 0, sizeof s);
    uint64_t dirty = dirty_now();
    pthread_mutex_lock(&ps_lock);
    s.loading = persist_loading();
    s.bgsave_in_progress = ps.bg_running;
    s.last_bgsave_ok = ps.last_bgsave_ok;
    s.changes_since_last_save = dirty - ps.dirty_base;
    s.last_save_time = ps.lastsave_s;
    s.last_bgsave_time_sec = ps.last_bgsave_time_s;
    s.current_bgsave_time_sec = ps.bg_running ? (mstime() - ps.bg_start_ms) / 1000 : -1;
    s.saves = ps.saves;
    s.last_load_keys_loaded = ps.load_loaded;
    s.last_load_keys_expired = ps.load_expired;
    pthread_mutex_unlock(&ps_lock);
    return s;
}
