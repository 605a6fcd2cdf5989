/*
 * rdb_file.c - dump.rdb files in Redis 7.0's RDB format (see rdb_file.h).
 *
 * Writing. The header and aux fields (redis-ver, redis-bits, ctime,
 * used-mem, aof-base) come first, then SELECTDB + RESIZEDB of every
 * non-empty database as size hints, then the keyspace slot by slot as the
 * no-fork snapshot (snapshot.c) hands the slots over: each slot's bytes
 * start with SELECTDB for every database they hold keys of, since a slot
 * may be serialized early (a pre-image) and its keys of several databases
 * travel together. Redis's loader and redis-check-rdb take SELECTDB
 * anywhere, so the file needs no database-major order. Then EOF and the
 * CRC-64 of everything before (zeros with rdbchecksum no). Output is
 * buffered (64 KB) and handed to a byte sink: for a file, a temp file that
 * is fsynced and renamed over the target, so a crash mid-save leaves the old
 * file intact; for replication (rdb_writer_start_stream), the caller's
 * function, which carries the bytes to replicas.
 *
 * Loading. The file is mapped read-only and parsed with the bounds-checked
 * reader of rdb_codec.c; the checksum is verified before anything is
 * inserted. Keys already expired are skipped (counted as expired), as a
 * Redis master does. A type slotcache does not have (stream, module,
 * function), a duplicate key or a malformed value stops the load with an
 * error naming the key, the type and the file offset.
 */
#include "rdb_file.h"

#include "config.h"
#include "crc64.h"
#include "db.h"
#include "entry.h"
#include "evict.h"
#include "ktable.h"
#include "log.h"
#include "mem.h"
#include "process.h"
#include "rdb_codec.h"
#include "serial.h"
#include "slotlock.h"
#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define OUTBUF_SIZE (64 * 1024)

struct rdb_writer {
    snapshot_sink sink;      /* first: the snapshot calls back with it */
    rdb_out_fn *out_fn;      /* where the buffered bytes go */
    void *out_ctx;
    rdb_at_start_fn *at_start;
    int fd;                  /* file saves: the temp file (-1 for streams) */
    char tmp_path[1024];
    uint64_t crc;
    bool checksum, compress, save_lru, save_lfu;
    int ndb;
    int repl_stream_db;      /* aux written before EOF when >= 0 */
    unsigned char *out;      /* OUTBUF_SIZE */
    size_t outlen;
    int write_errno;
};

static void u64_to_le(uint64_t v, unsigned char le[8]) {
    for (int i = 0; i < 8; i++) le[i] = (unsigned char)(v >> (8 * i));
}
static uint64_t le_to_u64(const unsigned char *le) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)le[i] << (8 * i);
    return v;
}

static void put_aux(serial_buf *b, const char *key, const char *val) {
    serial_put_u8(b, RDB_OPCODE_AUX);
    rdb_put_string(b, key, strlen(key), false);
    rdb_put_string(b, val, strlen(val), false);
}

static void put_aux_ll(serial_buf *b, const char *key, long long v) {
    char num[32];
    snprintf(num, sizeof num, "%lld", v);
    put_aux(b, key, num);
}

/* ---- the sink: buffered, checksummed file output ---- */

/* The file sink: write(2) everything to w->fd. */
static bool file_out(void *ctx, const void *p, size_t len) {
    rdb_writer *w = ctx;
    const char *src = p;
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(w->fd, src + off, len - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            w->write_errno = n < 0 ? errno : EIO;
            return false;
        }
        off += (size_t)n;
    }
    return true;
}

static bool flush_out(rdb_writer *w) {
    if (w->outlen && !w->out_fn(w->out_ctx, w->out, w->outlen)) {
        if (!w->write_errno) w->write_errno = EIO;
        return false;
    }
    w->outlen = 0;
    return true;
}

static void sink_at_start(snapshot_sink *s) {
    rdb_writer *w = (rdb_writer *)s;
    if (w->at_start) w->at_start(w->out_ctx);
}

static bool sink_write(snapshot_sink *s, const void *p, size_t len) {
    rdb_writer *w = (rdb_writer *)s;
    if (w->checksum) w->crc = crc64(w->crc, p, len);
    const unsigned char *src = p;
    while (len) {
        if (w->outlen == OUTBUF_SIZE && !flush_out(w)) return false;
        size_t n = OUTBUF_SIZE - w->outlen;
        if (n > len) n = len;
        memcpy(w->out + w->outlen, src, n);
        w->outlen += n;
        src += n;
        len -= n;
    }
    return true;
}

typedef struct {
    rdb_writer *w;
    serial_buf *out;
} slot_ctx;

/* One key: [EXPIRETIME_MS] [IDLE | FREQ] type key value, as Redis's
 * rdbSaveKeyValuePair. */
static void put_entry(entry *e, void *arg) {
    slot_ctx *x = arg;
    if (entry_has_expire(e)) {
        serial_put_u8(x->out, RDB_OPCODE_EXPIRETIME_MS);
        rdb_put_u64le(x->out, (uint64_t)entry_expire(e));
    }
    if (x->w->save_lru) {
        serial_put_u8(x->out, RDB_OPCODE_IDLE);
        rdb_put_len(x->out, entry_idle_ms(e) / 1000);
    } else if (x->w->save_lfu) {
        serial_put_u8(x->out, RDB_OPCODE_FREQ);
        serial_put_u8(x->out, (uint8_t)evict_lfu_counter(e));
    }
    size_t klen;
    const char *key = entry_key(e, &klen);
    serial_put_u8(x->out, rdb_type_of(e));
    rdb_put_string(x->out, key, klen, x->w->compress);
    rdb_put_object(x->out, e, x->w->compress);
}

static void sink_serialize_slot(snapshot_sink *s, unsigned slot, serial_buf *out) {
    rdb_writer *w = (rdb_writer *)s;
    slot_ctx x = {w, out};
    for (int d = 0; d < w->ndb; d++) {
        ktable *tables = db_tables(d);
        if (!tables || ktable_count(&tables[slot]) == 0) continue;
        serial_put_u8(out, RDB_OPCODE_SELECTDB);
        rdb_put_len(out, (uint64_t)d);
        ktable_scan_range(&tables[slot], 0, 1ULL << 32, put_entry, &x);
    }
}

static rdb_writer *writer_new(void) {
    rdb_writer *w = mem_calloc(1, sizeof *w);
    w->sink.serialize_slot = sink_serialize_slot;
    w->sink.write = sink_write;
    w->sink.at_start = sink_at_start;
    w->fd = -1;
    w->repl_stream_db = -1;
    return w;
}

/* Header, aux fields and size hints, then the snapshot's start. Frees w
 * (closing and removing a temp file) and returns false on failure. */
static bool writer_begin(rdb_writer *w, char *err, size_t errlen) {
    w->out = mem_alloc(OUTBUF_SIZE);
    w->checksum = cfg_get(rdbchecksum) != 0;
    w->compress = cfg_get(rdbcompression) != 0;
    w->save_lfu = evict_policy_is_lfu();
    w->save_lru = !w->save_lfu && evict_policy_is_lru();
    w->ndb = db_count();

    serial_buf h;
    serial_init(&h);
    char magic[16];
    snprintf(magic, sizeof magic, "REDIS%04d", RDB_VERSION);
    serial_put_raw(&h, magic, 9);
    put_aux(&h, "redis-ver", REDIS_COMPAT_VERSION);
    put_aux_ll(&h, "redis-bits", 64);
    put_aux_ll(&h, "ctime", (long long)(mstime() / 1000));
    put_aux_ll(&h, "used-mem", (long long)mem_used());
    put_aux_ll(&h, "aof-base", 0);
    for (int d = 0; d < w->ndb; d++) {
        uint64_t n = db_size(d);
        if (!n) continue;
        serial_put_u8(&h, RDB_OPCODE_SELECTDB);
        rdb_put_len(&h, (uint64_t)d);
        serial_put_u8(&h, RDB_OPCODE_RESIZEDB);
        rdb_put_len(&h, n);
        rdb_put_len(&h, db_expires(d));
    }
    bool ok = sink_write(&w->sink, h.buf, h.len);
    serial_free(&h);
    if (!ok || !snapshot_start(&w->sink)) {
        snprintf(err, errlen, ok ? "Background save already in progress" : "Write error saving DB on disk: %s",
                 strerror(w->write_errno));
        if (w->fd >= 0) {
            close(w->fd);
            unlink(w->tmp_path);
        }
        mem_free(w->out);
        mem_free(w);
        return false;
    }
    return true;
}

rdb_writer *rdb_writer_start(const char *tmp_path, char *err, size_t errlen) {
    rdb_writer *w = writer_new();
    w->out_fn = file_out;
    w->out_ctx = w;
    snprintf(w->tmp_path, sizeof w->tmp_path, "%s", tmp_path);
    w->fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        char cwd[512];
        snprintf(err, errlen, "Failed opening the temp RDB file %s (in server root dir %s) for saving: %s", tmp_path,
                 getcwd(cwd, sizeof cwd) ? cwd : "unknown", strerror(errno));
        mem_free(w);
        return NULL;
    }
    return writer_begin(w, err, errlen) ? w : NULL;
}

rdb_writer *rdb_writer_start_stream(rdb_out_fn *out, rdb_at_start_fn *at_start, void *ctx, char *err,
                                    size_t errlen) {
    rdb_writer *w = writer_new();
    w->out_fn = out;
    w->out_ctx = ctx;
    w->at_start = at_start;
    return writer_begin(w, err, errlen) ? w : NULL;
}

void rdb_writer_set_repl_stream_db(rdb_writer *w, int db) { w->repl_stream_db = db; }

/* The snapshot, [aux repl-stream-db,] EOF and the checksum, all flushed to
 * the sink. */
static bool writer_run(rdb_writer *w) {
    bool ok = snapshot_run();
    if (ok && w->repl_stream_db >= 0) {
        serial_buf a;
        serial_init(&a);
        put_aux_ll(&a, "repl-stream-db", w->repl_stream_db);
        ok = sink_write(&w->sink, a.buf, a.len);
        serial_free(&a);
    }
    unsigned char eof = RDB_OPCODE_EOF;
    if (ok) ok = sink_write(&w->sink, &eof, 1);
    if (ok) {
        unsigned char le[8];
        u64_to_le(w->checksum ? w->crc : 0, le);
        w->checksum = false; /* the checksum itself is not summed */
        ok = sink_write(&w->sink, le, 8) && flush_out(w);
    }
    return ok;
}

bool rdb_writer_finish_stream(rdb_writer *w) {
    bool ok = writer_run(w);
    mem_free(w->out);
    mem_free(w);
    return ok;
}

/* fsync the directory holding path, so the rename itself is durable. */
static void fsync_dir_of(const char *path) {
    char dir[1024];
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    int fd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    if (fsync(fd) < 0) log_warning("Could not sync the directory of %s: %s", path, strerror(errno));
    close(fd);
}

bool rdb_writer_finish(rdb_writer *w, const char *final_path, char *err, size_t errlen) {
    bool ok = writer_run(w);
    if (ok && fsync(w->fd) < 0) {
        w->write_errno = errno;
        ok = false;
    }
    if (close(w->fd) < 0 && ok) {
        w->write_errno = errno;
        ok = false;
    }
    if (!ok) {
        snprintf(err, errlen, "Write error saving DB on disk: %s", strerror(w->write_errno ? w->write_errno : EIO));
    } else if (rename(w->tmp_path, final_path) < 0) {
        char cwd[512];
        snprintf(err, errlen, "Error moving temp DB file %s on the final destination %s (in server root dir %s): %s",
                 w->tmp_path, final_path, getcwd(cwd, sizeof cwd) ? cwd : "unknown", strerror(errno));
        ok = false;
    } else {
        fsync_dir_of(final_path);
    }
    if (!ok) unlink(w->tmp_path);
    mem_free(w->out);
    mem_free(w);
    return ok;
}

/* ---- loading ---- */

static bool get_u32le(rdb_in *in, uint32_t *v) {
    if (in->end - in->p < 4) return false;
    *v = (uint32_t)in->p[0] | (uint32_t)in->p[1] << 8 | (uint32_t)in->p[2] << 16 | (uint32_t)in->p[3] << 24;
    in->p += 4;
    return true;
}

static int fail(rdb_load_result *res, const rdb_in *in, size_t at, const char *what) {
    snprintf(res->err, sizeof res->err, "%.400s at offset %zu%s%.200s", what, at, in->err[0] ? ": " : "", in->err);
    return -1;
}

/* Log an aux field the way Redis does for the ones it reports. */
static void note_aux(const char *k, size_t klen, const char *v, size_t vlen) {
    if (klen == 9 && !memcmp(k, "redis-ver", 9)) {
        log_notice("Loading RDB produced by version %.*s", (int)vlen, v);
    } else if (klen == 5 && !memcmp(k, "ctime", 5)) {
        long long ctime = 0;
        for (size_t i = 0; i < vlen && i < 18 && v[i] >= '0' && v[i] <= '9'; i++) ctime = ctime * 10 + (v[i] - '0');
        long long age = mstime() / 1000 - ctime;
        log_notice("RDB age %lld seconds", age < 0 ? 0 : age);
    } else if (klen == 8 && !memcmp(k, "used-mem", 8)) {
        long long mem = 0;
        for (size_t i = 0; i < vlen && i < 18 && v[i] >= '0' && v[i] <= '9'; i++) mem = mem * 10 + (v[i] - '0');
        log_notice("RDB memory usage when created %.2f Mb", (double)mem / (1024 * 1024));
    }
}

/* rdb_load_file over the mapped bytes. */
static int load_bytes(const unsigned char *p, size_t len, bool keep_existing, rdb_load_result *res) {
    memset(res, 0, sizeof *res);
    res->repl_stream_db = -1;
    rdb_in in;
    rdb_in_init(&in, p, len);
    if (len < 9 || memcmp(p, "REDIS", 5) != 0) return fail(res, &in, 0, "Wrong signature trying to load DB from file");
    int ver = 0;
    for (int i = 5; i < 9; i++) {
        if (p[i] < '0' || p[i] > '9') return fail(res, &in, 0, "Wrong signature trying to load DB from file");
        ver = ver * 10 + (p[i] - '0');
    }
    if (ver < 1 || ver > RDB_VERSION) {
        char msg[64];
        snprintf(msg, sizeof msg, "Can't handle RDB format version %d", ver);
        return fail(res, &in, 5, msg);
    }
    res->rdb_version = ver;
    in.p += 9;

    /* Verify the checksum before inserting anything (a file without one,
     * version < 5 or written with rdbchecksum no, has none or zeros): the
     * last 8 bytes, over everything before them. */
    if (ver >= 5 && cfg_get(rdbchecksum) && len >= 9 + 1 + 8) {
        uint64_t want = le_to_u64(p + len - 8);
        if (want != 0 && crc64(0, p, len - 8) != want) return fail(res, &in, len - 8, "Wrong RDB checksum");
    }
    int ndb = db_count();
    int dbid = 0;
    long long expire = -1, idle = -1, freq = -1; /* expire: valid when has_expire */
    bool has_expire = false;
    long long now = mstime();
    for (;;) {
        size_t at = (size_t)(in.p - in.start);
        uint8_t type;
        if (!rdb_get_u8(&in, &type)) return fail(res, &in, at, "Unexpected EOF reading RDB file");
        switch (type) {
        case RDB_OPCODE_EXPIRETIME_MS: {
            uint64_t ms;
            if (!rdb_get_u64le(&in, &ms)) return fail(res, &in, at, "Unexpected EOF reading RDB file");
            expire = (long long)ms;
            has_expire = true;
            continue;
        }
        case RDB_OPCODE_EXPIRETIME: {
            uint32_t s;
            if (!get_u32le(&in, &s)) return fail(res, &in, at, "Unexpected EOF reading RDB file");
            expire = (long long)s * 1000;
            has_expire = true;
            continue;
        }
        case RDB_OPCODE_IDLE: {
            uint64_t v;
            if (!rdb_get_len(&in, &v, NULL)) return fail(res, &in, at, "Bad IDLE value");
            idle = (long long)(v > 0xffffff ? 0xffffff : v);
            continue;
        }
        case RDB_OPCODE_FREQ: {
            uint8_t v;
            if (!rdb_get_u8(&in, &v)) return fail(res, &in, at, "Unexpected EOF reading RDB file");
            freq = v;
            continue;
        }
        case RDB_OPCODE_SELECTDB: {
            uint64_t v;
            if (!rdb_get_len(&in, &v, NULL)) return fail(res, &in, at, "Bad SELECTDB value");
            if (v >= (uint64_t)ndb) {
                char msg[160];
                snprintf(msg, sizeof msg,
                         "Data file was created with a Redis server configured to handle more than %d databases",
                         ndb);
                return fail(res, &in, at, msg);
            }
            dbid = (int)v;
            continue;
        }
        case RDB_OPCODE_RESIZEDB: {
            uint64_t a, b;
            if (!rdb_get_len(&in, &a, NULL) || !rdb_get_len(&in, &b, NULL))
                return fail(res, &in, at, "Bad RESIZEDB value");
            continue;
        }
        case RDB_OPCODE_AUX: {
            char *k = NULL, *v = NULL;
            size_t klen, vlen;
            if (!rdb_get_string(&in, &k, &klen) || !rdb_get_string(&in, &v, &vlen)) {
                mem_free(k);
                return fail(res, &in, at, "Bad aux field");
            }
            note_aux(k, klen, v, vlen);
            if (klen == 14 && !memcmp(k, "repl-stream-db", 14)) {
                long long db = 0;
                for (size_t i = 0; i < vlen && i < 9 && v[i] >= '0' && v[i] <= '9'; i++) db = db * 10 + (v[i] - '0');
                res->repl_stream_db = (int)db;
            }
            mem_free(k);
            mem_free(v);
            continue;
        }
        case RDB_OPCODE_MODULE_AUX:
            return fail(res, &in, at, "The RDB file contains module AUX data (modules are not supported by slotcache)");
        case RDB_OPCODE_FUNCTION:
        case RDB_OPCODE_FUNCTION2:
            return fail(res, &in, at, "The RDB file contains functions (not supported by slotcache)");
        case RDB_OPCODE_EOF: {
            size_t body = (size_t)(in.p - in.start);
            if (ver >= 5) {
                uint64_t want;
                if (!rdb_get_u64le(&in, &want)) return fail(res, &in, body, "Unexpected EOF reading the RDB checksum");
                if (want != 0 && cfg_get(rdbchecksum) && (size_t)(in.p - in.start) != len)
                    return fail(res, &in, body, "Wrong RDB checksum"); /* verified above over the last 8 bytes */
            }
            return 1;
        }
        default:
            break;
        }
        /* A key-value pair. */
        char *key = NULL;
        size_t klen;
        if (!rdb_get_string(&in, &key, &klen)) return fail(res, &in, at, "Bad key");
        if (!rdb_is_value_type(type)) {
            char msg[400];
            snprintf(msg, sizeof msg, "Key '%.*s' has a value of unknown type %d", (int)(klen > 128 ? 128 : klen), key,
                     type);
            mem_free(key);
            return fail(res, &in, at, msg);
        }
        in.empty_value = false;
        /* A key that has any expire time before now (negative ones too) is
         * dropped below; the entry never holds a negative time. */
        if (has_expire && expire < 0) expire = 0;
        entry *e = rdb_get_value(&in, type, key, klen, has_expire ? expire : -1);
        if (!e && in.empty_value) { /* well formed but empty: Redis skips it too */
            mem_free(key);
            expire = idle = freq = -1;
            has_expire = false;
            continue;
        }
        if (!e) {
            char msg[300];
            snprintf(msg, sizeof msg, "Bad value of type %d for key '%.*s'", type, (int)(klen > 128 ? 128 : klen),
                     key);
            mem_free(key);
            return fail(res, &in, at, msg);
        }
        if (has_expire && expire < now) {
            entry_free(e);
            res->keys_expired++;
        } else {
            dbkey k;
            dbkey_init(&k, dbid, key, klen);
            slot_lock(k.slot);
            bool dup = db_lookup(&k, LOOKUP_WRITE | LOOKUP_NOSTATS | LOOKUP_NOTOUCH, NULL) != NULL;
            if (!dup) {
                db_add(&k, e);
                evict_set_idle_or_freq(e, idle, freq);
            }
            slot_unlock(k.slot);
            if (dup && keep_existing) {
                entry_free(e);
                mem_free(key);
                expire = idle = freq = -1;
                has_expire = false;
                continue;
            }
            if (dup) {
                entry_free(e);
                char msg[300];
                snprintf(msg, sizeof msg, "Duplicated key '%.*s' in DB %d", (int)(klen > 128 ? 128 : klen), key,
                         dbid);
                mem_free(key);
                return fail(res, &in, at, msg);
            }
            res->keys_loaded++;
        }
        mem_free(key);
        expire = idle = freq = -1;
        has_expire = false;
    }
}

int rdb_load_file(const char *path, bool keep_existing, rdb_load_result *res) {
    memset(res, 0, sizeof *res);
    res->repl_stream_db = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return 0;
        snprintf(res->err, sizeof res->err, "Fatal error loading the DB: %s. Exiting.", strerror(errno));
        return -1;
    }
    struct stat sb;
    if (fstat(fd, &sb) < 0) {
        snprintf(res->err, sizeof res->err, "Fatal error loading the DB: %s. Exiting.", strerror(errno));
        close(fd);
        return -1;
    }
    size_t len = (size_t)sb.st_size;
    if (len == 0) {
        close(fd);
        snprintf(res->err, sizeof res->err, "Short read or OOM loading DB. Unrecoverable error, aborting now.");
        return -1;
    }
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        snprintf(res->err, sizeof res->err, "Fatal error loading the DB: %s. Exiting.", strerror(errno));
        return -1;
    }
    madvise(map, len, MADV_SEQUENTIAL);
    int rc = load_bytes(map, len, keep_existing, res);
    munmap(map, len);
    return rc;
}
