/*
 * persist.c - RDB persistence as a server feature (see persist.h).
 *
 * Threads and state. Everything in `ps` is guarded by ps_lock (a leaf:
 * never held around a slot lock or a wait other than its own condition
 * variable). One save at a time: `saving` is claimed before any file is
 * opened, by SAVE, FLUSHALL's save, DEBUG RELOAD and the final save on the
 * calling thread, or by BGSAVE, which hands the started snapshot to the
 * save thread (created on the first BGSAVE, registered once for memory and
 * statistics, stopped at shutdown) and returns. Nothing that may hold slot
 * locks (a command inside EXEC) ever waits for a BGSAVE: its walker may
 * need those locks. The flags read on the request path (loading, MISCONF,
 * writes paused) are atomics.
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
#include <time.h>
#include <unistd.h>

#define BGSAVE_RETRY_DELAY_S 5 /* Redis's CONFIG_BGSAVE_RETRY_DELAY */
#define MAX_SAVE_POINTS 32

enum save_result { SAVE_OK, SAVE_BUSY, SAVE_FAILED };

static pthread_mutex_t ps_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ps_cond = PTHREAD_COND_INITIALIZER; /* a BGSAVE ended / a job / exit */
static struct {
    long long lastsave_s;       /* last successful save (LASTSAVE) */
    long long last_try_s;       /* last BGSAVE attempt */
    bool last_bgsave_ok;
    long long last_bgsave_time_s;
    long long saves;            /* save attempts (INFO rdb_saves) */
    uint64_t dirty_base;        /* dirty at the start of the last successful save */
    bool saving;                /* a save owns the snapshot (claim) */
    bool bg_running;            /* the save thread has a job */
    bool bg_aborted;            /* ...which was aborted on purpose (FLUSHALL, shutdown) */
    bool bg_scheduled;          /* BGSAVE inside EXEC, or FLUSHALL's save deferred */
    long long bg_start_ms;
    uint64_t bg_dirty_at_start;
    rdb_writer *bg_job;
    bool thread_started, thread_exit;
    pthread_t thread;
    unsigned long long load_loaded, load_expired;
} ps = {.last_bgsave_ok = true, .last_bgsave_time_s = -1};

static _Atomic bool loading;        /* from persist_begin_loading to the end of the startup load */
static _Atomic bool misconf;        /* last BGSAVE failed (MISCONF when save points + stop-writes) */
static _Atomic bool paused;         /* the final save runs: writes refused */

static long long now_s(void) { return mstime() / 1000; }
static uint64_t dirty_now(void) { return stats_get(STAT_DIRTY); }

static void db_filename(char *out, size_t len) {
    if (cfg_get_string("dbfilename", out, len) == 0) snprintf(out, len, "dump.rdb");
}

/* A temp name per save, as Redis names its child's file by pid. */
static void temp_filename(char *out, size_t len) {
    static _Atomic unsigned seq;
    snprintf(out, len, "temp-%d-%u.rdb", (int)getpid(), atomic_fetch_add_explicit(&seq, 1, memory_order_relaxed));
}

static bool save_points_set(void) {
    long long pairs[MAX_SAVE_POINTS * 2];
    return cfg_save_points(pairs, MAX_SAVE_POINTS * 2) > 0;
}

bool persist_loading(void) { return atomic_load_explicit(&loading, memory_order_relaxed); }
bool persist_writes_paused(void) { return atomic_load_explicit(&paused, memory_order_relaxed); }

bool persist_writes_refused(void) {
    return atomic_load_explicit(&misconf, memory_order_relaxed) && cfg_get(stop_writes_on_bgsave_error) &&
           save_points_set();
}

/* ---- the one-save claim ---- */

static bool claim(void) {
    pthread_mutex_lock(&ps_lock);
    bool ok = !ps.saving;
    if (ok) {
        ps.saving = true;
        ps.saves++;
    }
    pthread_mutex_unlock(&ps_lock);
    return ok;
}

static void release(void) {
    pthread_mutex_lock(&ps_lock);
    ps.saving = false;
    pthread_cond_broadcast(&ps_cond);
    pthread_mutex_unlock(&ps_lock);
}

/* Replication's full sync (cluster/repl_master.c) shares the one-save
 * claim, so a BGSAVE and a sync never collide: it waits while a save runs
 * (on its own thread, which holds no slot lock). Not counted in rdb_saves. */
void persist_claim_for_sync(void) {
    pthread_mutex_lock(&ps_lock);
    while (ps.saving) pthread_cond_wait(&ps_cond, &ps_lock);
    ps.saving = true;
    pthread_mutex_unlock(&ps_lock);
}

void persist_release_for_sync(void) { release(); }

static bool bgsave_running(void) {
    pthread_mutex_lock(&ps_lock);
    bool r = ps.bg_running;
    pthread_mutex_unlock(&ps_lock);
    return r;
}

/* Wait until no BGSAVE runs. Never from a thread that may hold slot locks. */
static void wait_bgsave(void) {
    pthread_mutex_lock(&ps_lock);
    while (ps.bg_running) pthread_cond_wait(&ps_cond, &ps_lock);
    pthread_mutex_unlock(&ps_lock);
}

/* Make a running BGSAVE stop early; it ends as "aborted", not as a failure. */
static void abort_bgsave(void) {
    pthread_mutex_lock(&ps_lock);
    if (ps.bg_running) {
        ps.bg_aborted = true;
        snapshot_abort();
        log_notice("Background saving aborted");
    }
    pthread_mutex_unlock(&ps_lock);
}

/* A save that started at dirty count `dirty_at_start` succeeded (ps_lock
 * held). As Redis, a good SAVE clears a failed BGSAVE too. */
static void do_record_success(uint64_t dirty_at_start) {
    ps.lastsave_s = now_s();
    ps.dirty_base = dirty_at_start;
    ps.last_bgsave_ok = true;
    atomic_store_explicit(&misconf, false, memory_order_relaxed);
}

static void record_success(uint64_t dirty_at_start) {
    pthread_mutex_lock(&ps_lock);
    do_record_success(dirty_at_start);
    pthread_mutex_unlock(&ps_lock);
}

/* A synchronous save on the calling thread. */
static enum save_result save_now(void) {
    if (!claim()) return SAVE_BUSY;
    char final[1024], tmp[64], err[512] = "";
    db_filename(final, sizeof final);
    temp_filename(tmp, sizeof tmp);
    uint64_t dirty = dirty_now();
    rdb_writer *w = rdb_writer_start(tmp, err, sizeof err);
    bool ok = w && rdb_writer_finish(w, final, err, sizeof err);
    if (ok) {
        log_notice("DB saved on disk");
        record_success(dirty);
    } else {
        log_warning("%s", err);
    }
    release();
    return ok ? SAVE_OK : SAVE_FAILED;
}

/* ---- BGSAVE and the save thread ---- */

static void *save_thread_main(void *arg) {
    (void)arg;
    mem_thread_register();
    stats_thread_register();
    pthread_mutex_lock(&ps_lock);
    for (;;) {
        while (!ps.bg_job && !ps.thread_exit) pthread_cond_wait(&ps_cond, &ps_lock);
        if (!ps.bg_job) break;
        rdb_writer *w = ps.bg_job;
        uint64_t dirty = ps.bg_dirty_at_start;
        long long start = ps.bg_start_ms;
        pthread_mutex_unlock(&ps_lock);

        char final[1024], err[512] = "";
        db_filename(final, sizeof final);
        bool ok = rdb_writer_finish(w, final, err, sizeof err);
        long long elapsed = (mstime() - start) / 1000;
        snapshot_stats st = snapshot_last_stats();
        log_notice("Snapshot: %lu slots copied by writers before their change, %lu by the walker, at most %zu "
                   "bytes waiting",
                   st.preimages, st.walked, st.queued_bytes_peak);

        pthread_mutex_lock(&ps_lock);
        bool aborted = ps.bg_aborted;
        if (ok) {
            log_notice("Background saving terminated with success");
            do_record_success(dirty);
        } else if (aborted) {
            log_notice("Background saving terminated by an abort (FLUSHALL or shutdown)");
        } else {
            log_warning("%s", err);
            log_warning("Background saving error");
            ps.last_bgsave_ok = false;
            atomic_store_explicit(&misconf, true, memory_order_relaxed);
        }
        ps.last_bgsave_time_s = elapsed;
        ps.bg_job = NULL;
        ps.bg_running = false;
        ps.bg_aborted = false;
        ps.saving = false;
        pthread_cond_broadcast(&ps_cond);
    }
    pthread_mutex_unlock(&ps_lock);
    return NULL;
}

/* Start a BGSAVE: SAVE_BUSY when a save runs, SAVE_FAILED when the file
 * cannot be created (counts as a failed BGSAVE, as Redis's fork failure). */
static enum save_result bgsave_start(void) {
    if (!claim()) return SAVE_BUSY;
    char tmp[64], err[512] = "";
    temp_filename(tmp, sizeof tmp);
    uint64_t dirty = dirty_now();
    long long start = mstime();
    rdb_writer *w = rdb_writer_start(tmp, err, sizeof err);
    pthread_mutex_lock(&ps_lock);
    ps.last_try_s = now_s();
    if (!w) {
        ps.saving = false;
        ps.last_bgsave_ok = false;
        pthread_mutex_unlock(&ps_lock);
        atomic_store_explicit(&misconf, true, memory_order_relaxed);
        log_warning("Can't save in background: %s", err);
        return SAVE_FAILED;
    }
    if (!ps.thread_started) {
        if (pthread_create(&ps.thread, NULL, save_thread_main, NULL) != 0) {
            pthread_mutex_unlock(&ps_lock);
            /* No thread: write it here rather than leave the snapshot open. */
            char final[1024];
            db_filename(final, sizeof final);
            bool ok = rdb_writer_finish(w, final, err, sizeof err);
            if (ok) record_success(dirty);
            else log_warning("%s", err);
            release();
            return ok ? SAVE_OK : SAVE_FAILED;
        }
        ps.thread_started = true;
    }
    ps.bg_job = w;
    ps.bg_dirty_at_start = dirty;
    ps.bg_start_ms = start;
    ps.bg_running = true;
    ps.bg_scheduled = false;
    pthread_cond_broadcast(&ps_cond);
    pthread_mutex_unlock(&ps_lock);
    log_notice("Background saving started");
    return SAVE_OK;
}

/* ---- commands ---- */

void persist_save_command(client *c) {
    if (bgsave_running()) {
        add_reply_error(c, "ERR Background save already in progress");
        return;
    }
    switch (save_now()) {
    case SAVE_OK: add_reply_ok(c); break;
    case SAVE_BUSY: add_reply_error(c, "ERR Background save already in progress"); break;
    case SAVE_FAILED: add_reply_error(c, "ERR"); break;
    }
}

void persist_bgsave_command(client *c) {
    if (c->argc > 1 && !(c->argc == 2 && arg_eq(&c->argv[1], "schedule"))) {
        add_reply_error(c, ERR_SYNTAX);
        return;
    }
    if (bgsave_running()) {
        add_reply_error(c, "ERR Background save already in progress");
        return;
    }
    /* Redis does not fork inside a transaction: the cron starts it. SCHEDULE
     * needs nothing more (no AOF rewrite ever runs beside a BGSAVE). */
    if (multi_in_exec()) {
        pthread_mutex_lock(&ps_lock);
        ps.bg_scheduled = true;
        pthread_mutex_unlock(&ps_lock);
        add_reply_status(c, "Background saving scheduled");
        return;
    }
    switch (bgsave_start()) {
    case SAVE_OK: add_reply_status(c, "Background saving started"); break;
    case SAVE_BUSY: add_reply_error(c, "ERR Background save already in progress"); break;
    case SAVE_FAILED: add_reply_error(c, "ERR"); break;
    }
}

void persist_lastsave_command(client *c) {
    pthread_mutex_lock(&ps_lock);
    long long t = ps.lastsave_s;
    pthread_mutex_unlock(&ps_lock);
    add_reply_integer(c, t);
}

void persist_before_flushall(void) { abort_bgsave(); }

void persist_after_flushall(void) {
    if (!save_points_set()) return;
    if (multi_in_exec() && bgsave_running()) {
        pthread_mutex_lock(&ps_lock);
        ps.bg_scheduled = true; /* the cron saves once the aborted BGSAVE is gone */
        pthread_mutex_unlock(&ps_lock);
        return;
    }
    if (!multi_in_exec()) wait_bgsave();
    if (save_now() == SAVE_BUSY) {
        pthread_mutex_lock(&ps_lock);
        ps.bg_scheduled = true;
        pthread_mutex_unlock(&ps_lock);
    }
}

void persist_cron(void) {
    if (persist_loading()) return;
    long long now = now_s();
    pthread_mutex_lock(&ps_lock);
    bool busy = ps.saving;
    bool scheduled = ps.bg_scheduled;
    long long lastsave = ps.lastsave_s, last_try = ps.last_try_s;
    bool last_ok = ps.last_bgsave_ok;
    uint64_t dirty = dirty_now() - ps.dirty_base;
    pthread_mutex_unlock(&ps_lock);
    if (busy) return;
    bool retry_ok = now - last_try > BGSAVE_RETRY_DELAY_S || last_ok;
    bool start = scheduled && retry_ok;
    long long pairs[MAX_SAVE_POINTS * 2];
    int n = cfg_save_points(pairs, MAX_SAVE_POINTS * 2);
    for (int i = 0; i < n && !start; i++) {
        long long secs = pairs[2 * i], changes = pairs[2 * i + 1];
        if (dirty >= (uint64_t)changes && now - lastsave > secs && retry_ok) {
            log_notice("%lld changes in %lld seconds. Saving...", changes, secs);
            start = true;
        }
    }
    if (start) bgsave_start();
}

/* ---- loading ---- */

void persist_begin_loading(void) { atomic_store_explicit(&loading, true, memory_order_release); }

void persist_set_loading(bool on) { atomic_store_explicit(&loading, on, memory_order_release); }

static pthread_mutex_t hold_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_cond = PTHREAD_COND_INITIALIZER;
static bool hold;

void persist_hold_clients(bool on) {
    pthread_mutex_lock(&hold_lock);
    hold = on;
    if (!on) pthread_cond_broadcast(&hold_cond);
    pthread_mutex_unlock(&hold_lock);
}

/* The bound only matters if a load never ends: a held client then gets
 * -LOADING, as with a large RDB. */
#define HOLD_MAX_WAIT_S 10

bool persist_loading_after_hold(void) {
    if (!persist_loading()) return false;
    pthread_mutex_lock(&hold_lock);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += HOLD_MAX_WAIT_S;
    while (hold && pthread_cond_timedwait(&hold_cond, &hold_lock, &deadline) == 0) {
    }
    pthread_mutex_unlock(&hold_lock);
    return persist_loading();
}

bool persist_load_at_startup(void) {
    char path[1024];
    db_filename(path, sizeof path);
    pthread_mutex_lock(&ps_lock);
    ps.lastsave_s = now_s(); /* LASTSAVE before any save: the start, as Redis */
    pthread_mutex_unlock(&ps_lock);
    long long start = mstime();
    rdb_load_result res;
    int rc = rdb_load_file(path, false, &res);
    if (rc < 0) {
        log_warning("Fatal error loading the DB %s: %s. Exiting.", path, res.err);
        return false;
    }
    pthread_mutex_lock(&ps_lock);
    ps.lastsave_s = now_s();
    ps.dirty_base = dirty_now(); /* loaded keys are not changes */
    ps.load_loaded = res.keys_loaded;
    ps.load_expired = res.keys_expired;
    pthread_mutex_unlock(&ps_lock);
    atomic_store_explicit(&loading, false, memory_order_release);
    if (rc > 0) {
        log_notice("Done loading RDB, keys loaded: %llu, keys expired: %llu.", res.keys_loaded, res.keys_expired);
        log_notice("DB loaded from disk: %.3f seconds", (double)(mstime() - start) / 1000.0);
    }
    return true;
}

void persist_debug_reload(client *c) {
    if (persist_loading()) {
        add_reply_error(c, "ERR Redis is loading the dataset in memory");
        return;
    }
    if (bgsave_running()) {
        if (multi_in_exec()) { /* must not wait: see the header comment */
            add_reply_error(c, "ERR Background save already in progress");
            return;
        }
        wait_bgsave();
    }
    /* Other workers keep serving meanwhile (Redis blocks everything): a
     * key written between the flush and the load keeps its newer value. */
    enum save_result r = save_now();
    if (r != SAVE_OK) {
        add_reply_error(c, r == SAVE_BUSY ? "ERR Background save already in progress" : "ERR");
        return;
    }
    db_flush(-1, false);
    char path[1024];
    db_filename(path, sizeof path);
    rdb_load_result res;
    int rc = rdb_load_file(path, true, &res);
    if (rc <= 0) {
        log_warning("Error trying to load the RDB dump: %s", res.err);
        add_reply_error(c, "ERR Error trying to load the RDB dump");
        return;
    }
    pthread_mutex_lock(&ps_lock);
    ps.dirty_base = dirty_now();
    ps.load_loaded = res.keys_loaded;
    ps.load_expired = res.keys_expired;
    pthread_mutex_unlock(&ps_lock);
    log_notice("DB reloaded by DEBUG RELOAD");
    add_reply_ok(c);
}

/* ---- shutdown ---- */

bool persist_prepare_shutdown(bool save, bool nosave) {
    abort_bgsave();
    wait_bgsave();
    if (persist_loading() || nosave || (!save && !save_points_set())) return true;
    log_notice("Saving the final RDB snapshot before exiting.");
    atomic_store_explicit(&paused, true, memory_order_relaxed);
    if (save_now() == SAVE_OK) return true; /* writes stay refused until the exit */
    atomic_store_explicit(&paused, false, memory_order_relaxed);
    log_warning("Error trying to save the DB, can't exit.");
    return false;
}

void persist_shutdown(void) {
    abort_bgsave();
    wait_bgsave();
    pthread_mutex_lock(&ps_lock);
    ps.thread_exit = true;
    pthread_cond_broadcast(&ps_cond);
    bool started = ps.thread_started;
    ps.thread_started = false;
    pthread_mutex_unlock(&ps_lock);
    if (started) pthread_join(ps.thread, NULL);
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
