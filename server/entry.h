/*
 * entry.h - one keyspace entry = one allocation: a small header, the optional
 * expire time, the key bytes and, for strings, the value bytes inline.
 *
 * Layout (byte offsets, no padding; multi-byte fields read with memcpy):
 *   0      type (low 4 bits) | encoding (high 4 bits)
 *   1      flags (ENTRY_F_*: has an expire time; looked up again since created)
 *   2..4   24-bit LRU clock (seconds, as Redis) or LFU (16-bit minutes | 8-bit counter)
 *   [8]    expire time, unix ms, if ENTRY_F_EXPIRE
 *   varint key length, key bytes
 *   value: ENC_INT:          8-byte int64
 *          ENC_EMBSTR / RAW: varint length, bytes (strings are always inline)
 *          other encodings:  8-byte pointer to the type's own structure
 *
 * For a 10-byte key and a 100-byte value the entry is 117 bytes, which the
 * allocator rounds to a 128-byte chunk (Redis 7 spends ~187 bytes/key).
 */
#ifndef ENTRY_H
#define ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum obj_type { OBJ_STRING = 0, OBJ_LIST = 1, OBJ_SET = 2, OBJ_ZSET = 3, OBJ_HASH = 4, OBJ_STREAM = 6 };

/* Encodings with Redis's OBJECT ENCODING names. */
enum obj_encoding {
    ENC_RAW = 0,       /* "raw" */
    ENC_INT = 1,       /* "int" */
    ENC_EMBSTR = 8,    /* "embstr" */
    ENC_HASHTABLE = 2, /* "hashtable" */
    ENC_INTSET = 6,    /* "intset" */
    ENC_SKIPLIST = 7,  /* "skiplist" */
    ENC_QUICKLIST = 9, /* "quicklist" */
    ENC_LISTPACK = 11, /* "listpack" */
    ENC_STREAM = 10,   /* "stream" */
};

#define ENTRY_F_EXPIRE 0x01
#define ENTRY_F_REUSED 0x02 /* looked up again since the key was created */

/* Redis's embstr limit: strings up to 44 bytes report "embstr". */
#define EMBSTR_SIZE_LIMIT 44

typedef struct entry entry; /* opaque bytes; use the accessors */

static inline unsigned entry_type(const entry *e) { return ((const uint8_t *)e)[0] & 0x0f; }
static inline unsigned entry_encoding(const entry *e) { return ((const uint8_t *)e)[0] >> 4; }
static inline void entry_set_encoding(entry *e, unsigned enc) {
    ((uint8_t *)e)[0] = (uint8_t)((((uint8_t *)e)[0] & 0x0f) | (enc << 4));
}
static inline bool entry_has_expire(const entry *e) { return ((const uint8_t *)e)[1] & ENTRY_F_EXPIRE; }
static inline bool entry_was_reused(const entry *e) { return ((const uint8_t *)e)[1] & ENTRY_F_REUSED; }
static inline void entry_mark_reused(entry *e) { ((uint8_t *)e)[1] |= ENTRY_F_REUSED; }
static inline uint32_t entry_lru(const entry *e) {
    const uint8_t *p = (const uint8_t *)e + 2;
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16);
}
static inline void entry_set_lru(entry *e, uint32_t v) {
    uint8_t *p = (uint8_t *)e + 2;
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
}
static inline long long entry_expire(const entry *e) {
    if (!entry_has_expire(e)) return -1;
    long long v;
    memcpy(&v, (const uint8_t *)e + 5, 8);
    return v;
}
/* Only valid when the entry was created with room for an expire. */
static inline void entry_store_expire(entry *e, long long when) { memcpy((uint8_t *)e + 5, &when, 8); }

const char *entry_key(const entry *e, size_t *len);

/* String values. */
bool entry_is_int(const entry *e);
long long entry_int(const entry *e);
/* Inline string bytes (not for ENC_INT). */
const char *entry_str(const entry *e, size_t *len);
/* Write the string form of any string entry into buf (>= 21 bytes) when it is
 * an int, else return the inline bytes. */
const char *entry_string_value(const entry *e, char *buf, size_t *len);

/* Pointer payload for non-string types. */
void *entry_ptr(const entry *e);
void entry_set_ptr(entry *e, void *p);

/*
 * Builders. `expire` < 0 means no expire. The returned entry is allocated with
 * mem_alloc. For strings, entry_new_string chooses ENC_INT when the value is
 * a canonical integer of at most 20 bytes (like Redis's tryObjectEncoding),
 * ENC_EMBSTR up to 44 bytes, ENC_RAW beyond; force_raw stores the bytes with
 * ENC_RAW (APPEND/SETRANGE results, as Redis reports them).
 */
entry *entry_new_string(const char *key, size_t klen, const char *val, size_t vlen, long long expire,
                        bool force_raw);
entry *entry_new_int(const char *key, size_t klen, long long v, long long expire);
/* A raw (ENC_RAW) string entry of vlen bytes that the caller fills through
 * *bytes before anyone reads it: values composed in place (APPEND,
 * SETRANGE, a grown bitmap, BITOP's result) without an intermediate copy. */
entry *entry_new_raw_string(const char *key, size_t klen, size_t vlen, long long expire, char **bytes);
/* A raw string entry of vlen zero bytes, no expire (a new bitmap): calloc'ed,
 * so a large one costs no page faults until written. */
entry *entry_new_zero_string(const char *key, size_t klen, size_t vlen);
/* Rewrite string entry `old` in place as entry_new_string would build it, if
 * the result fits its allocation without wasting much of it (an overwrite
 * by SET of a value of similar size: no malloc/free). Returns false, leaving
 * `old` untouched, when it does not fit or `old` is not a string. */
bool entry_rewrite_string(entry *old, const char *key, size_t klen, const char *val, size_t vlen,
                          long long expire, bool force_raw);
/* Grow string entry e (raw or embstr, not int) to vlen >= its length,
 * zero-padded, by reallocating it: returns the entry's new address (e is
 * no longer valid) and labels it ENC_RAW. Through db_grow_string only. */
entry *entry_grow_raw_string(entry *e, size_t vlen);
entry *entry_new_ptr(const char *key, size_t klen, unsigned type, unsigned enc, void *ptr, long long expire);
/* Copy of e with another expire (or none: -1): used by EXPIRE/PERSIST when
 * the expire field appears or disappears. Frees nothing. */
entry *entry_with_expire(const entry *e, long long expire);
/* Copy of e under another key (RENAME/COPY/MOVE); for pointer types the
 * pointer is shared, the caller decides ownership. */
entry *entry_with_key(const entry *e, const char *key, size_t klen);
/* Free the entry and, for pointer types, its value (through the type's free
 * function registered below). */
void entry_free(entry *e);
/* Bytes used: the entry plus its value structure. */
size_t entry_mem_usage(const entry *e);

/* Type hooks for pointer payloads (filled by data-type modules at startup
 * through entry_register_type, before any worker runs). */
typedef struct {
    void (*free_value)(void *ptr);
    void *(*dup_value)(const void *ptr);
    size_t (*value_mem)(const void *ptr);
    /* Number of elements (for lazy-free decisions and DEBUG). */
    size_t (*length)(const void *ptr);
} entry_type_ops;
const entry_type_ops *entry_type_ops_of(unsigned type);
void entry_register_type(unsigned type, const entry_type_ops *ops);
/* Deep copy (COPY command). */
entry *entry_dup(const entry *e, const char *key, size_t klen);

const char *entry_type_name(unsigned type);
const char *entry_encoding_name(unsigned enc);

#endif
