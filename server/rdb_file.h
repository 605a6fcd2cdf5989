/*
 * rdb_file.h - whole RDB files (Redis 7.0's format, version 10): writing a
 * point-in-time snapshot of the keyspace to a file, and loading a file into
 * the keyspace at startup. Values are encoded by rdb_codec.c; this layer
 * owns the file structure (header, aux fields, SELECTDB, RESIZEDB,
 * EXPIRETIME_MS, IDLE, FREQ, EOF, CRC64) and the file handling (temp file,
 * fsync, rename).
 */
#ifndef RDB_FILE_H
#define RDB_FILE_H

#include <stdbool.h>
#include <stddef.h>

/* ---- writing ---- */

typedef struct rdb_writer rdb_writer;

/* Open tmp_path, write the header and aux fields and start a snapshot of
 * the keyspace (its point in time is this call). NULL with err filled when
 * the file cannot be created or another snapshot is running. */
rdb_writer *rdb_writer_start(const char *tmp_path, char *err, size_t errlen);

/* Write the whole snapshot, EOF and checksum, fsync, close, and rename the
 * temp file to final_path (the old file stays intact until then). Frees w.
 * On failure the temp file is removed and err says why. Runs on the thread
 * that owns the save (the BGSAVE thread, or SAVE's worker). */
bool rdb_writer_finish(rdb_writer *w, const char *final_path, char *err, size_t errlen);

/* The same RDB written to any byte sink instead of a file (replication's
 * full sync). `out` receives the bytes in order, in pieces of up to 64 KB,
 * on the thread that runs rdb_writer_finish_stream; false from it stops the
 * snapshot. `at_start`, if not NULL, is called once while the snapshot's
 * start holds every slot lock (its point in time; in-memory work only). */
typedef bool rdb_out_fn(void *ctx, const void *p, size_t len);
typedef void rdb_at_start_fn(void *ctx);
rdb_writer *rdb_writer_start_stream(rdb_out_fn *out, rdb_at_start_fn *at_start, void *ctx, char *err,
                                    size_t errlen);
/* Add the aux field repl-stream-db = db (unless db < 0) to the RDB. It is
 * written after the keys, just before EOF: the database is only known at the
 * snapshot's point in time, after the header went out (Redis's loader reads
 * aux fields anywhere). */
void rdb_writer_set_repl_stream_db(rdb_writer *w, int db);
/* Write the whole snapshot, EOF and checksum to the sink; frees w. */
bool rdb_writer_finish_stream(rdb_writer *w);

/* ---- loading ---- */

typedef struct {
    unsigned long long keys_loaded, keys_expired;
    int rdb_version;
    int repl_stream_db;   /* aux repl-stream-db; -1 when absent */
    char err[768];     /* what went wrong and where (offset, key) */
} rdb_load_result;

/* Load path into the keyspace (empty at startup). Returns 1 when loaded,
 * 0 when there is no such file, -1 on a bad file (res->err says what and
 * where; the caller must not go on with the partial keyspace). A key of the
 * file that already exists is an error, or with keep_existing (DEBUG
 * RELOAD, while clients write) is skipped: the newer write wins. */
int rdb_load_file(const char *path, bool keep_existing, rdb_load_result *res);

#endif
