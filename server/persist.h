/*
 * persist.h - RDB persistence as a server feature: SAVE, BGSAVE, LASTSAVE,
 * the `save` points, loading dump.rdb at startup, saving at shutdown and
 * after FLUSHALL, DEBUG RELOAD, the MISCONF write refusal
 * (stop-writes-on-bgsave-error) and the INFO persistence figures.
 *
 * A save of either kind is one no-fork snapshot (snapshot.c) written by
 * rdb_file.c: SAVE writes it on the calling worker while the other workers
 * go on serving; BGSAVE writes it on a thread of its own. The state below
 * is guarded by one mutex; `dirty` is the sum of the per-thread STAT_DIRTY
 * counters (db_key_modified counts every change).
 */
#ifndef PERSIST_H
#define PERSIST_H

#include "client.h"

#include <stdbool.h>
#include <stdint.h>

/* Startup: load `dir`/`dbfilename` if it exists, logging as Redis does.
 * Returns false (after logging why) when the file is bad: the server must
 * not start with a partial dataset. */
bool persist_load_at_startup(void);

/* Commands (handlers referenced by cmd_server.c's table). */
void persist_save_command(client *c);
void persist_bgsave_command(client *c);
void persist_lastsave_command(client *c);
/* DEBUG RELOAD: save, empty the keyspace, load the file back. Replies. */
void persist_debug_reload(client *c);

/* FLUSHALL: with save points set, save the (now empty) dataset at once. */
void persist_after_flushall(void);

/* Worker 0's cron: start a BGSAVE when a save point is reached or one was
 * scheduled, and reap a finished BGSAVE thread. */
void persist_cron(void);

/* Shutdown: `mode` from SHUTDOWN (SAVE / NOSAVE / default). After the
 * workers stopped: wait for a running BGSAVE, then save if asked or if save
 * points are set. Returns false when the save failed. */
enum persist_shutdown_mode { PERSIST_SHUTDOWN_DEFAULT = 0, PERSIST_SHUTDOWN_SAVE, PERSIST_SHUTDOWN_NOSAVE };
void persist_set_shutdown_mode(enum persist_shutdown_mode mode);
bool persist_shutdown(void);

/* -MISCONF applies: the last BGSAVE failed, save points are set and
 * stop-writes-on-bgsave-error is yes. Cheap (one relaxed load). */
bool persist_writes_refused(void);
#define ERR_MISCONF                                                                                                  \
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands "   \
    "that may modify the data set are disabled, because this instance is configured to report errors during "     \
    "writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for "      \
    "details about the RDB error."

/* -LOADING while the startup load runs. */
bool persist_loading(void);

/* INFO persistence. */
typedef struct {
    bool loading, bgsave_in_progress, last_bgsave_ok;
    uint64_t changes_since_last_save;
    long long last_save_time, last_bgsave_time_sec, current_bgsave_time_sec, saves;
    unsigned long long last_load_keys_loaded, last_load_keys_expired;
    unsigned long long current_save_keys_processed, current_save_keys_total;
} persist_status;
persist_status persist_get_status(void);

#endif
