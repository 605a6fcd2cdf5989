/*
 * persist.h - RDB persistence as a server feature: SAVE, BGSAVE, LASTSAVE,
 * the `save` points, loading dump.rdb at startup, the final save at
 * shutdown, FLUSHALL's save, DEBUG RELOAD, the MISCONF write refusal
 * (stop-writes-on-bgsave-error) and the INFO persistence figures.
 *
 * A save of either kind is one no-fork snapshot (snapshot.c) written by
 * rdb_file.c: SAVE writes it on the calling thread while the other workers
 * go on serving; BGSAVE hands it to one long-lived save thread. One save
 * runs at a time (a claim under the persistence mutex, taken before any
 * file is touched). `dirty` is the sum of the per-thread STAT_DIRTY
 * counters (db_changed counts every change).
 */
#ifndef PERSIST_H
#define PERSIST_H

#include "client.h"

#include <stdbool.h>
#include <stdint.h>

/* Startup, before the workers accept anything: from now until the load
 * ends, commands get -LOADING, no save runs and nothing is evicted (so no
 * client ever sees the keyspace empty or half-loaded). */
void persist_begin_loading(void);
/* Startup: load `dir`/`dbfilename` if it exists, logging as Redis does.
 * Returns false (after logging why) when the file is bad: the server must
 * not start with a partial dataset. Until it returns, commands get
 * -LOADING and no save runs. */
bool persist_load_at_startup(void);

/* Commands (handlers referenced by cmd_server.c's table). */
void persist_save_command(client *c);
void persist_bgsave_command(client *c);
void persist_lastsave_command(client *c);
/* DEBUG RELOAD: save, empty the keyspace, load the file back. Replies. */
void persist_debug_reload(client *c);

/* FLUSHALL: before emptying, a running BGSAVE is aborted (as Redis kills
 * its child); after, with save points set, the emptied dataset is saved at
 * once, or by the cron right after when this thread must not wait (inside
 * EXEC). */
void persist_before_flushall(void);
void persist_after_flushall(void);

/* The one-save claim for replication's full sync (a thread that is not a
 * worker and holds no slot lock): waits until no save runs, then owns the
 * snapshot until persist_release_for_sync. */
void persist_claim_for_sync(void);
void persist_release_for_sync(void);

/* Worker 0's cron: start a BGSAVE when a save point is reached or one was
 * scheduled. */
void persist_cron(void);

/* The final save before the server stops (SHUTDOWN, SIGTERM, SIGINT). With
 * `save` true (SHUTDOWN SAVE) it always saves, with `nosave` never,
 * otherwise when save points are set; nothing is saved while loading.
 * Writes are refused from the moment it starts (checked under the slot
 * locks, so none is acknowledged after the snapshot's point in time); a
 * running BGSAVE is aborted. Returns false when the save failed: writes
 * are then accepted again and the server must keep running (as Redis).
 * Call from a thread holding no slot lock (a worker outside EXEC, main). */
bool persist_prepare_shutdown(bool save, bool nosave);
/* After the workers stopped: stop the save thread. */
void persist_shutdown(void);

/* -MISCONF applies: the last BGSAVE failed, save points are set and
 * stop-writes-on-bgsave-error is yes. Cheap (one relaxed load). */
bool persist_writes_refused(void);
#define ERR_MISCONF                                                                                                  \
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands "   \
    "that may modify the data set are disabled, because this instance is configured to report errors during "     \
    "writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for "      \
    "details about the RDB error."

/* The final save is running: writes are refused (dispatch checks it after
 * taking the command's slot locks). */
bool persist_writes_paused(void);
#define ERR_SHUTTING_DOWN "ERR Server is shutting down: writes are refused during the final save"

/* -LOADING while the startup load runs. */
bool persist_loading(void);
/* A replica loading its master's RDB (cluster/repl_replica.c) raises the
 * same flag: no save starts, nothing is evicted, and other clients get
 * -LOADING (for an RDB over PERSIST_HOLD_MAX_BYTES; a smaller one holds
 * them until it is loaded, below). */
void persist_set_loading(bool on);
/* Redis loads its master's RDB in its one thread and serves no client
 * before it has read loading-process-events-interval-bytes (2 MB): no
 * client ever sees -LOADING while a small RDB loads, its command just
 * waits. The replica holds the other workers' clients for such a load:
 * persist_hold_clients(true) before persist_set_loading(true), false after
 * persist_set_loading(false). */
#define PERSIST_HOLD_MAX_BYTES (2 * 1024 * 1024)
void persist_hold_clients(bool on);
/* In dispatch, for a command -LOADING would refuse: waits while clients
 * are held (bounded, in case the load hangs), then whether the dataset is
 * still loading. Call with no slot lock and no slot map section held. */
bool persist_loading_after_hold(void);

/* INFO persistence. */
typedef struct {
    bool loading, bgsave_in_progress, last_bgsave_ok;
    uint64_t changes_since_last_save;
    long long last_save_time, last_bgsave_time_sec, current_bgsave_time_sec, saves;
    unsigned long long last_load_keys_loaded, last_load_keys_expired;
} persist_status;
persist_status persist_get_status(void);

#endif
