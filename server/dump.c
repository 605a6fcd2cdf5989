/*
 * dump.c - DUMP and RESTORE, with Redis 7.0's payload:
 *   u8  RDB value type, then the value in RDB encoding (rdb_codec.c)
 *   u16 RDB version (10), little endian
 *   u64 CRC-64/Jones of everything before it, little endian
 * so payloads cross between slotcache and redis-server both ways. RESTORE
 * verifies version (newer than 10 refused) and checksum first ("ERR DUMP
 * payload version or checksum are wrong"), then loads the value with every
 * check Redis's deep sanitization makes ("ERR Bad data format"); a payload
 * is never trusted, and nothing is written unless it loads whole.
 */
#include "client.h"
#include "command_modules.h"
#include "config.h"
#include "crc64.h"
#include "dump.h"
#include "db.h"
#include "entry.h"
#include "evict.h"
#include "mem.h"
#include "cluster_api.h"
#include "notify.h"
#include "propagate.h"
#include "numparse.h"
#include "rdb_codec.h"
#include "serial.h"

#include <stdio.h>
#include <string.h>

#define DUMP_TRAILER 10 /* 2-byte RDB version + 8-byte CRC-64, little endian */

void dump_payload(const entry *e, serial_buf *out) {
    /* As Redis, rdbcompression applies to DUMP payloads too. */
    rdb_put_value(out, e, cfg_get(rdbcompression) != 0);
    unsigned char trailer[DUMP_TRAILER] = {RDB_VERSION & 0xff, RDB_VERSION >> 8};
    serial_put_raw(out, trailer, 2);
    uint64_t crc = crc64(0, out->buf, out->len);
    for (int i = 0; i < 8; i++) trailer[2 + i] = (unsigned char)(crc >> (8 * i));
    serial_put_raw(out, trailer + 2, 8);
}

bool dump_payload_ok(const unsigned char *p, size_t len) {
    if (len < DUMP_TRAILER) return false;
    const unsigned char *t = p + len - DUMP_TRAILER;
    unsigned ver = (unsigned)t[0] | (unsigned)t[1] << 8;
    if (ver > RDB_VERSION) return false;
    uint64_t crc = 0;
    for (int i = 0; i < 8; i++) crc |= (uint64_t)t[2 + i] << (8 * i);
    return crc64(0, p, len - 8) == crc;
}

entry *dump_payload_entry(const char *key, size_t klen, const unsigned char *p, size_t len, long long expire,
                          char *err, size_t errlen) {
    /* As Redis reads it: the value may run into the trailer (Redis's reader
     * is bounded by the whole payload), and bytes after it are ignored. */
    rdb_in in;
    rdb_in_init(&in, p, len);
    uint8_t type;
    entry *e = NULL;
    /* rdb_get_value refuses a byte that is not a value type it loads. */
    if (rdb_get_u8(&in, &type)) e = rdb_get_value(&in, type, key, klen, expire);
    if (!e) snprintf(err, errlen, "%s", in.err);
    return e;
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
    dump_payload(e, &out);
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
    if (!dump_payload_ok(p, len)) {
        add_reply_error(c, "ERR DUMP payload version or checksum are wrong");
        return;
    }
    if (ttl && !absttl) ttl += db_now_ms();
    char why[200]; /* not logged: no I/O under the slot lock */
    entry *e = dump_payload_entry(k.key, k.len, p, len, ttl ? ttl : -1, why, sizeof why);
    if (!e) {
        add_reply_error(c, "ERR Bad data format");
        return;
    }
    bool deleted = false;
    if (replace && old) {
        db_delete_at(&k, pos);
        deleted = true;
    }
    if (ttl && ttl <= db_now_ms() && !repl_is_replica()) { /* already expired: nothing to add (a replica adds it:
                                                               its master's DEL follows) */
        entry_free(e);
        if (deleted) {
            db_changed(&k, NOTIFY_GENERIC, "del");
            propagate_rewrite_key(c, "DEL");
        }
        add_reply_ok(c);
        return;
    }
    if (ttl && !absttl) { /* the TTL propagates as an absolute time */
        propagate_rewrite_begin(c->argc + 1);
        for (int j = 0; j < c->argc; j++) {
            if (j == 2)
                propagate_arg_ll(ttl);
            else
                propagate_arg(c->argv[j].ptr, c->argv[j].len);
        }
        propagate_arg_str("ABSTTL");
    }
    db_add(&k, e);
    evict_set_idle_or_freq(e, idle, freq);
    db_changed(&k, NOTIFY_GENERIC, "restore");
    add_reply_ok(c);
}

#define RESTORE_COMPLEXITY                                                                                     \
    "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number "    \
    "of Redis objects composing the value and M their average size. For small string values the time complexity "    \
    "is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is "          \
    "O(N*M*log(N)) because inserting values into sorted sets is O(log(N))."

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
     .complexity = RESTORE_COMPLEXITY,
     .acl_categories = "keyspace write slow dangerous"},
    /* MIGRATE's target side: RESTORE served in an importing slot without a
     * separate ASKING (the flag routes it as if ASKING was sent). */
    {.name = "restore-asking", .arity = -4, .flags = CMD_WRITE | CMD_DENYOOM | CMD_ASKING, .first_key = 1,
     .last_key = 1, .key_step = 1, .proc = restore_command, .group = "server", .since = "3.0.0",
     .summary = "An internal command for migrating keys in a cluster",
     .complexity = RESTORE_COMPLEXITY,
     .acl_categories = "keyspace write slow dangerous"},
    {0},
};
