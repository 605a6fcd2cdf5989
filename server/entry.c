/*
 * entry.c - building and reading keyspace entries (layout in entry.h).
 *
 * Design: entries are immutable in size; a change that needs more or fewer
 * bytes builds a new entry and the keyspace swaps the table pointer. Varints
 * are LEB128 (1 byte below 128, 2 below 16384).
 */
#include "entry.h"

#include "mem.h"
#include "numparse.h"

#include <stdio.h>

#define HDR 5

static entry_type_ops type_ops[16];

void entry_register_type(unsigned type, const entry_type_ops *ops) { type_ops[type & 15] = *ops; }
const entry_type_ops *entry_type_ops_of(unsigned type) { return &type_ops[type & 15]; }

static size_t varint_len(size_t v) {
    size_t n = 1;
    while (v >= 128) {
        v >>= 7;
        n++;
    }
    return n;
}

static uint8_t *varint_put(uint8_t *p, size_t v) {
    while (v >= 128) {
        *p++ = (uint8_t)(v | 128);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

static const uint8_t *varint_get(const uint8_t *p, size_t *v) {
    size_t r = 0;
    unsigned shift = 0;
    while (*p & 128) {
        r |= (size_t)(*p++ & 127) << shift;
        shift += 7;
    }
    r |= (size_t)*p++ << shift;
    *v = r;
    return p;
}

static const uint8_t *key_start(const entry *e) {
    return (const uint8_t *)e + HDR + (entry_has_expire(e) ? 8 : 0);
}

static const uint8_t *value_start(const entry *e) {
    size_t klen;
    const uint8_t *p = varint_get(key_start(e), &klen);
    return p + klen;
}

const char *entry_key(const entry *e, size_t *len) {
    return (const char *)varint_get(key_start(e), len);
}

bool entry_is_int(const entry *e) { return entry_type(e) == OBJ_STRING && entry_encoding(e) == ENC_INT; }

long long entry_int(const entry *e) {
    long long v;
    memcpy(&v, value_start(e), 8);
    return v;
}

const char *entry_str(const entry *e, size_t *len) {
    return (const char *)varint_get(value_start(e), len);
}

const char *entry_string_value(const entry *e, char *buf, size_t *len) {
    if (entry_encoding(e) == ENC_INT) {
        *len = format_ll(buf, 21, entry_int(e));
        return buf;
    }
    return entry_str(e, len);
}

void *entry_ptr(const entry *e) {
    void *p;
    memcpy(&p, value_start(e), sizeof p);
    return p;
}

void entry_set_ptr(entry *e, void *ptr) { memcpy((uint8_t *)value_start(e), &ptr, sizeof ptr); }

/* Allocate and fill header, expire and key; returns the value position.
 * `zero`: the value bytes are zero (calloc: fresh pages are not touched). */
static entry *alloc_entry_z(const char *key, size_t klen, unsigned type, unsigned enc, long long expire,
                            size_t value_bytes, uint8_t **valpos, bool zero) {
    size_t size = HDR + (expire >= 0 ? 8 : 0) + varint_len(klen) + klen + value_bytes;
    uint8_t *p = zero ? mem_calloc(1, size) : mem_alloc(size);
    p[0] = (uint8_t)((type & 0x0f) | (enc << 4));
    p[1] = expire >= 0 ? ENTRY_F_EXPIRE : 0;
    p[2] = p[3] = p[4] = 0;
    uint8_t *q = p + HDR;
    if (expire >= 0) {
        memcpy(q, &expire, 8);
        q += 8;
    }
    q = varint_put(q, klen);
    memcpy(q, key, klen);
    *valpos = q + klen;
    return (entry *)p;
}

static entry *alloc_entry(const char *key, size_t klen, unsigned type, unsigned enc, long long expire,
                          size_t value_bytes, uint8_t **valpos) {
    return alloc_entry_z(key, klen, type, enc, expire, value_bytes, valpos, false);
}

entry *entry_new_int(const char *key, size_t klen, long long v, long long expire) {
    uint8_t *vp;
    entry *e = alloc_entry(key, klen, OBJ_STRING, ENC_INT, expire, 8, &vp);
    memcpy(vp, &v, 8);
    return e;
}

entry *entry_new_string(const char *key, size_t klen, const char *val, size_t vlen, long long expire,
                        bool force_raw) {
    long long iv;
    if (!force_raw && vlen <= 20 && parse_ll(val, vlen, &iv)) return entry_new_int(key, klen, iv, expire);
    unsigned enc = (!force_raw && vlen <= EMBSTR_SIZE_LIMIT) ? ENC_EMBSTR : ENC_RAW;
    uint8_t *vp;
    entry *e = alloc_entry(key, klen, OBJ_STRING, enc, expire, varint_len(vlen) + vlen, &vp);
    vp = varint_put(vp, vlen);
    if (vlen) memcpy(vp, val, vlen);
    return e;
}

entry *entry_new_raw_string(const char *key, size_t klen, size_t vlen, long long expire, char **bytes) {
    uint8_t *vp;
    entry *e = alloc_entry(key, klen, OBJ_STRING, ENC_RAW, expire, varint_len(vlen) + vlen, &vp);
    *bytes = (char *)varint_put(vp, vlen);
    return e;
}

entry *entry_new_zero_string(const char *key, size_t klen, size_t vlen) {
    uint8_t *vp;
    entry *e = alloc_entry_z(key, klen, OBJ_STRING, ENC_RAW, -1, varint_len(vlen) + vlen, &vp, true);
    varint_put(vp, vlen);
    return e;
}

entry *entry_grow_raw_string(entry *e, size_t vlen) {
    size_t voff = (size_t)(value_start(e) - (const uint8_t *)e), olen;
    const uint8_t *bytes = varint_get(value_start(e), &olen);
    size_t vo = (size_t)(bytes - value_start(e)), vn = varint_len(vlen);
    uint8_t *p = mem_realloc(e, voff + vn + vlen); /* large chunks move by remapping pages, not copying */
    if (vn != vo) memmove(p + voff + vn, p + voff + vo, olen);
    varint_put(p + voff, vlen);
    memset(p + voff + vn + olen, 0, vlen - olen);
    p[0] = (uint8_t)(OBJ_STRING | (ENC_RAW << 4));
    return (entry *)p;
}

bool entry_rewrite_string(entry *old, const char *key, size_t klen, const char *val, size_t vlen,
                          long long expire, bool force_raw) {
    if (entry_type(old) != OBJ_STRING) return false;
    long long iv = 0;
    bool as_int = !force_raw && vlen <= 20 && parse_ll(val, vlen, &iv);
    unsigned enc = as_int ? ENC_INT : (!force_raw && vlen <= EMBSTR_SIZE_LIMIT) ? ENC_EMBSTR : ENC_RAW;
    size_t vbytes = as_int ? 8 : varint_len(vlen) + vlen;
    size_t need = HDR + (expire >= 0 ? 8 : 0) + varint_len(klen) + klen + vbytes;
    size_t have = mem_usable(old);
    if (need > have || have - need > 32 + need / 8) return false;
    uint8_t *p = (uint8_t *)old;
    p[0] = (uint8_t)(OBJ_STRING | (enc << 4));
    p[1] = (uint8_t)((expire >= 0 ? ENTRY_F_EXPIRE : 0) | (p[1] & ENTRY_F_REUSED));
    p[2] = p[3] = p[4] = 0;
    uint8_t *q = p + HDR;
    if (expire >= 0) {
        memcpy(q, &expire, 8);
        q += 8;
    }
    q = varint_put(q, klen);
    memmove(q, key, klen);
    q += klen;
    if (as_int) {
        memcpy(q, &iv, 8);
    } else {
        q = varint_put(q, vlen);
        if (vlen) memmove(q, val, vlen);
    }
    return true;
}

entry *entry_new_ptr(const char *key, size_t klen, unsigned type, unsigned enc, void *ptr, long long expire) {
    uint8_t *vp;
    entry *e = alloc_entry(key, klen, type, enc, expire, sizeof ptr, &vp);
    memcpy(vp, &ptr, sizeof ptr);
    return e;
}

/* Bytes from the value start to the end of the entry. */
static size_t value_bytes(const entry *e) {
    const uint8_t *vp = value_start(e);
    if (entry_type(e) != OBJ_STRING) return sizeof(void *);
    if (entry_encoding(e) == ENC_INT) return 8;
    size_t len;
    const uint8_t *d = varint_get(vp, &len);
    return (size_t)(d - vp) + len;
}

static entry *rebuild(const entry *e, const char *key, size_t klen, long long expire) {
    uint8_t *vp;
    size_t vb = value_bytes(e);
    entry *n = alloc_entry(key, klen, entry_type(e), entry_encoding(e), expire, vb, &vp);
    memcpy(vp, value_start(e), vb);
    entry_set_lru(n, entry_lru(e));
    if (entry_was_reused(e)) entry_mark_reused(n);
    return n;
}

entry *entry_with_expire(const entry *e, long long expire) {
    size_t klen;
    const char *k = entry_key(e, &klen);
    return rebuild(e, k, klen, expire);
}

entry *entry_with_key(const entry *e, const char *key, size_t klen) {
    return rebuild(e, key, klen, entry_expire(e));
}

entry *entry_dup(const entry *e, const char *key, size_t klen) {
    entry *n = rebuild(e, key, klen, entry_expire(e));
    if (entry_type(e) != OBJ_STRING) {
        const entry_type_ops *ops = &type_ops[entry_type(e)];
        entry_set_ptr(n, ops->dup_value ? ops->dup_value(entry_ptr(e)) : NULL);
    }
    return n;
}

void entry_free(entry *e) {
    if (!e) return;
    if (entry_type(e) != OBJ_STRING) {
        const entry_type_ops *ops = &type_ops[entry_type(e)];
        if (ops->free_value) ops->free_value(entry_ptr(e));
    }
    mem_free(e);
}

size_t entry_mem_usage(const entry *e) {
    size_t n = mem_usable(e);
    if (entry_type(e) != OBJ_STRING) {
        const entry_type_ops *ops = &type_ops[entry_type(e)];
        if (ops->value_mem) n += ops->value_mem(entry_ptr(e));
    }
    return n;
}

const char *entry_type_name(unsigned type) {
    switch (type) {
    case OBJ_STRING: return "string";
    case OBJ_LIST: return "list";
    case OBJ_SET: return "set";
    case OBJ_ZSET: return "zset";
    case OBJ_HASH: return "hash";
    case OBJ_STREAM: return "stream";
    default: return "unknown";
    }
}

const char *entry_encoding_name(unsigned enc) {
    switch (enc) {
    case ENC_RAW: return "raw";
    case ENC_INT: return "int";
    case ENC_EMBSTR: return "embstr";
    case ENC_HASHTABLE: return "hashtable";
    case ENC_INTSET: return "intset";
    case ENC_SKIPLIST: return "skiplist";
    case ENC_QUICKLIST: return "quicklist";
    case ENC_LISTPACK: return "listpack";
    case ENC_STREAM: return "stream";
    default: return "unknown";
    }
}
