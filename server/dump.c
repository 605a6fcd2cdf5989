/*
 * dump.c - DUMP and RESTORE.
 *
 * Payload (slotcache's own, versioned and checksummed like Redis's):
 *   u8  value type (enum obj_type)
 *   ... the value: strings as one length-prefixed byte string; other types
 *       in the format of their entry_type_ops dump/load
 *   u16 payload format version, little endian (DUMP_VERSION)
 *   u64 CRC-64/Jones of everything before it, little endian
 * RESTORE verifies version and checksum first ("ERR DUMP payload version or
 * checksum are wrong"), then parses with bounds checks everywhere ("ERR Bad
 * data format"); a payload is never trusted. Not byte-compatible with
 * Redis's RDB-based payloads: DUMP/RESTORE (and MIGRATE) work between
 * slotcache servers.
 */
#include "client.h"
#include "command_modules.h"
#include "crc64.h"
#include "dump.h"
#include "db.h"
#include "entry.h"
#include "evict.h"
#include "mem.h"
#include "notify.h"
#include "numparse.h"
#include "serial.h"

#include <string.h>

#define DUMP_VERSION 1
#define DUMP_TRAILER 10

/* Serialise entry e's value into out (type byte, value, trailer). */
void dump_value(const entry *e, serial_buf *out) {
    unsigned type = entry_type(e);
    serial_put_u8(out, (uint8_t)type);
    if (type == OBJ_STRING) {
        char buf[32];
        size_t len;
        const char *v = entry_string_value(e, buf, &len);
        serial_put_bytes(out, v, len);
    } else {
        const entry_type_ops *ops = entry_type_ops_of(type);
        ops->dump(entry_ptr(e), entry_encoding(e), out);
    }
    unsigned char ver[2] = {DUMP_VERSION & 0xff, DUMP_VERSION >> 8};
    serial_put_raw(out, ver, 2);
    uint64_t crc = crc64(0, out->buf, out->len);
    unsigned char le[8];
    for (int i = 0; i < 8; i++) le[i] = (unsigned char)(crc >> (8 * i));
    serial_put_raw(out, le, 8);
}

static bool payload_ok(const unsigned char *p, size_t len) {
    if (len < 1 + DUMP_TRAILER) return false;
    unsigned ver = (unsigned)p[len - 10] | ((unsigned)p[len - 9] << 8);
    if (ver > DUMP_VERSION || ver == 0) return false;
    uint64_t crc = 0;
    for (int i = 0; i < 8; i++) crc |= (uint64_t)p[len - 8 + i] << (8 * i);
    return crc64(0, p, len - 8) == crc;
}

/* Build an entry for key from a verified payload; NULL when malformed. */
entry *dump_load_entry(const char *key, size_t klen, const unsigned char *p, size_t len, long long expire) {
    serial_reader r;
    serial_reader_init(&r, p, len - DUMP_TRAILER);
    uint8_t type;
    if (!serial_get_u8(&r, &type)) return NULL;
    if (type == OBJ_STRING) {
        const char *v;
        size_t vlen;
        if (!serial_get_bytes(&r, &v, &vlen) || !serial_at_end(&r)) return NULL;
        return entry_new_string(key, klen, v, vlen, expire, vlen > EMBSTR_SIZE_LIMIT);
    }
    const entry_type_ops *ops = entry_type_ops_of(type);
    if (type > 15 || !ops->load) return NULL;
    unsigned enc = 0;
    void *val = ops->load((const char *)r.p, (size_t)(r.end - r.p), &enc);
    if (!val) return NULL;
    return entry_new_ptr(key, klen, type, enc, val, expire);
}

static void dump_command(client *c) {
    dbkey k;
    dbkey_init(&k, c->db, c->argv[1].ptr, c->argv[1].len);
    entry *e = db_lookup(&k, LOOKUP_READ, NULL);
    if (!e) {
        add_reply_null(c);
        return;
    }
    serial_buf out;
    serial_init(&out);
    dump_value(e, &out);
    add_reply_bulk(c, out.buf, out.len);
    serial_free(&out);
}

static void restore_command(client *c) {
    bool replace = false, absttl = false;
    long long idle = -1, freq = -1, ttl;
    for (int j = 4; j < c->argc; j++) {
        int additional = c->argc - j - 1;
        if (arg_eq(&c->argv[j], "replace")) {
            replace = true;
        } else if (arg_eq(&c->argv[j], "absttl")) {
            absttl = true;
        } else if (arg_eq(&c->argv[j], "idletime") && additional >= 1 && freq == -1) {
            if (!arg_ll_or_reply(c, &c->argv[j + 1], &idle, NULL)) return;
            if (idle < 0) {
                add_reply_error(c, "ERR Invalid IDLETIME value, must be >= 0");
                return;
            }
            j++;
        } else if (arg_eq(&c->argv[j], "freq") && additional >= 1 && idle == -1) {
            if (!arg_ll_or_reply(c, &c->argv[j + 1], &freq, NULL)) return;
            if (freq < 0 || freq > 255) {
                add_reply_error(c, "ERR Invalid FREQ value, must be >= 0 and <= 255");
                return;
            }
            j++;
        } else {
            add_reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    dbkey k;
    dbkey_init(&k, c->db, c->argv[1].ptr, c->argv[1].len);
    long pos;
    entry *old = db_lookup(&k, LOOKUP_WRITE, &pos);
    if (!replace && old) {
        add_reply_error(c, "BUSYKEY Target key name already exists.");
        return;
    }
    if (!arg_ll_or_reply(c, &c->argv[2], &ttl, NULL)) return;
    if (ttl < 0) {
        add_reply_error(c, "ERR Invalid TTL value, must be >= 0");
        return;
    }
    const unsigned char *p = (const unsigned char *)c->argv[3].ptr;
    size_t len = c->argv[3].len;
    if (!payload_ok(p, len)) {
        add_reply_error(c, "ERR DUMP payload version or checksum are wrong");
        return;
    }
    if (ttl && !absttl) ttl += db_now_ms();
    entry *e = dump_load_entry(k.key, k.len, p, len, ttl ? ttl : -1);
    if (!e) {
        add_reply_error(c, "ERR Bad data format");
        return;
    }
    bool deleted = false;
    if (replace && old) {
        db_delete_at(&k, pos);
        deleted = true;
    }
    if (ttl && ttl <= db_now_ms()) { /* already expired: nothing to add */
        entry_free(e);
        if (deleted) notify_keyspace_event(NOTIFY_GENERIC, "del", &k);
        add_reply_ok(c);
        return;
    }
    db_add(&k, e);
    /* As Redis's objectSetLRUOrLFU: FREQ counts under an LFU policy,
     * IDLETIME under the others. */
    if (freq >= 0 && evict_policy_is_lfu()) {
        evict_set_lfu(e, (unsigned)freq);
    } else if (idle >= 0 && !evict_policy_is_lfu()) {
        uint32_t now = lru_clock();
        uint32_t secs = (uint32_t)(idle > 0xffffff ? 0xffffff : idle);
        entry_set_lru(e, (now - secs) & 0xffffff);
    }
    notify_keyspace_event(NOTIFY_GENERIC, "restore", &k);
    add_reply_ok(c);
}

command dump_commands[] = {
    {.name = "dump", .arity = 2, .flags = CMD_READONLY, .first_key = 1, .last_key = 1, .key_step = 1,
     .proc = dump_command, .group = "generic", .since = "2.6.0",
     .summary = "Return a serialized version of the value stored at the specified key.",
     .complexity = "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis "
                   "objects composing the value and M their average size. For small string values the time "
                   "complexity is thus O(1)+O(1*M) where M is small, so simply O(1).",
     .acl_categories = "keyspace read slow"},
    {.name = "restore", .arity = -4, .flags = CMD_WRITE | CMD_DENYOOM, .first_key = 1, .last_key = 1, .key_step = 1,
     .proc = restore_command, .group = "generic", .since = "2.6.0",
     .summary = "Create a key using the provided serialized value, previously obtained using DUMP.",
     .complexity = "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is "
                   "the number of Redis objects composing the value and M their average size. For small string "
                   "values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for "
                   "sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is "
                   "O(log(N)).",
     .acl_categories = "keyspace write slow dangerous"},
    {0},
};
