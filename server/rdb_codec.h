/*
 * rdb_codec.h - Redis's RDB value encoding (version 10, Redis 7.0): the
 * length and string encodings and every value type slotcache has, written
 * as redis-server 7.0 writes them and read in every form a Redis 7.0 file
 * or DUMP payload may hold (including what older versions wrote). Used by
 * DUMP/RESTORE (dump.c) and by the RDB file layer.
 *
 * Writers append to a serial_buf (serial.h). Readers take an rdb_in, a
 * bounded cursor that never reads past its end; on short or malformed input
 * they return false / NULL with a reason in in->err ("..., offset N" from
 * in->start). The first error is kept; later ones do not overwrite it.
 */
#ifndef RDB_CODEC_H
#define RDB_CODEC_H

#include "entry.h"
#include "serial.h"
#include "stream.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RDB_VERSION 10

/* Value types (the byte before a key, or first byte of a DUMP payload). */
enum {
    RDB_TYPE_STRING = 0,
    RDB_TYPE_LIST = 1,
    RDB_TYPE_SET = 2,
    RDB_TYPE_ZSET = 3,
    RDB_TYPE_HASH = 4,
    RDB_TYPE_ZSET_2 = 5,
    RDB_TYPE_MODULE = 6,
    RDB_TYPE_MODULE_2 = 7,
    RDB_TYPE_HASH_ZIPMAP = 9,
    RDB_TYPE_LIST_ZIPLIST = 10,
    RDB_TYPE_SET_INTSET = 11,
    RDB_TYPE_ZSET_ZIPLIST = 12,
    RDB_TYPE_HASH_ZIPLIST = 13,
    RDB_TYPE_LIST_QUICKLIST = 14,
    RDB_TYPE_STREAM_LISTPACKS = 15,
    RDB_TYPE_HASH_LISTPACK = 16,
    RDB_TYPE_ZSET_LISTPACK = 17,
    RDB_TYPE_LIST_QUICKLIST_2 = 18,
    RDB_TYPE_STREAM_LISTPACKS_2 = 19,
};

/* File opcodes. */
enum {
    RDB_OPCODE_FUNCTION2 = 245,
    RDB_OPCODE_FUNCTION = 246,
    RDB_OPCODE_MODULE_AUX = 247,
    RDB_OPCODE_IDLE = 248,
    RDB_OPCODE_FREQ = 249,
    RDB_OPCODE_AUX = 250,
    RDB_OPCODE_RESIZEDB = 251,
    RDB_OPCODE_EXPIRETIME_MS = 252,
    RDB_OPCODE_EXPIRETIME = 253,
    RDB_OPCODE_SELECTDB = 254,
    RDB_OPCODE_EOF = 255,
};

/* Special string encodings (rdb_get_len with *is_encoded set). */
enum { RDB_ENC_INT8 = 0, RDB_ENC_INT16 = 1, RDB_ENC_INT32 = 2, RDB_ENC_LZF = 3 };

/* Quicklist node containers (RDB_TYPE_LIST_QUICKLIST_2). */
enum { RDB_QL_PLAIN = 1, RDB_QL_PACKED = 2 };

/* A bounded reader over RDB bytes; never reads past end. `start` lets
 * errors name the offset. `empty_value` is set by rdb_get_value when it
 * returned NULL only because the value was well formed but empty (Redis
 * skips such a key when loading a file; RESTORE rejects it). */
typedef struct rdb_in {
    const unsigned char *p, *end, *start;
    char err[200];
    bool empty_value;
} rdb_in;

void rdb_in_init(rdb_in *in, const void *p, size_t len);
/* Record an error (printf format; ", offset N" is appended) unless one is
 * already recorded. Always returns false. */
bool rdb_fail(rdb_in *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- writers ---- */

void rdb_put_len(serial_buf *b, uint64_t len);
/* 8 bytes little endian (Redis's millisecond times, binary doubles). */
void rdb_put_u64le(serial_buf *b, uint64_t v);
/* A stream ID as two lengths (ms, seq), as Redis writes a stream's and a
 * group's IDs. */
void rdb_put_stream_id(serial_buf *b, const stream_id *id);
/* A string as Redis's rdbSaveRawString writes it: an int8/16/32 encoding
 * when it is a canonical integer of at most 11 bytes, LZF when compress and
 * len > 20 and compression saves at least 4 bytes, else length + bytes. */
void rdb_put_string(serial_buf *b, const char *p, size_t len, bool compress);
/* The RDB type byte, then the value, in the encoding Redis 7.0 writes for
 * that object: STRING; LIST_QUICKLIST_2 of listpack nodes (split as Redis
 * splits a list built by RPUSH under the list's fill); SET_INTSET or SET;
 * ZSET_LISTPACK or ZSET_2; HASH_LISTPACK or HASH; STREAM_LISTPACKS_2. */
void rdb_put_value(serial_buf *b, const entry *e, bool compress);
/* The two halves of rdb_put_value, for a file where the key goes between
 * them: the type byte (rdb_type_of), and the value alone. */
uint8_t rdb_type_of(const entry *e);
void rdb_put_object(serial_buf *b, const entry *e, bool compress);

/* ---- readers (false + in->err on short/malformed input) ---- */

bool rdb_get_u8(rdb_in *in, uint8_t *v);
/* n raw bytes; *p points into the input. */
bool rdb_get_raw(rdb_in *in, const unsigned char **p, size_t n);
bool rdb_get_len(rdb_in *in, uint64_t *len, bool *is_encoded);
bool rdb_get_u64le(rdb_in *in, uint64_t *v);
bool rdb_get_stream_id(rdb_in *in, stream_id *id);
/* A mem_alloc'd copy (LZF-decompressed / int-decoded), NUL-terminated
 * after *len bytes; the caller frees it with mem_free. */
bool rdb_get_string(rdb_in *in, char **out, size_t *len);
/* A Redis object type byte (0-7, 9-19: Redis's rdbIsObjectType), as
 * opposed to an opcode. rdb_get_value loads all of them except modules,
 * which it refuses with an error naming the type. */
bool rdb_is_value_type(int type);
/* Read the value of RDB type `type` (type byte already consumed) and build
 * an entry for key with expire (unix ms, -1 none), in the encoding
 * slotcache chooses for its size under the current configuration (as Redis
 * converts on load). NULL with in->err set when malformed (every packed
 * blob, count, duplicate and score is checked, as Redis's deep
 * sanitization does), when empty (also sets in->empty_value), or for a
 * type slotcache does not have (module: err names it). */
entry *rdb_get_value(rdb_in *in, int type, const char *key, size_t klen, long long expire);

#endif
