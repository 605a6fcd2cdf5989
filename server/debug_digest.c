/*
 * debug_digest.c - owns DEBUG DIGEST and DEBUG DIGEST-VALUE: the SHA-1
 * signatures of Redis 7.0's debug.c, equal byte for byte to redis-server's
 * for the same data, whatever the encodings and hash seeds on either side.
 *
 * Design notes:
 * - Two ways of adding data to a 20-byte digest, as Redis: `xor` (XOR in
 *   SHA1(data): order does not matter) for unordered things (keys, set
 *   members, hash fields, sorted-set members) and `mix` (digest =
 *   SHA1(digest XOR SHA1(data))) where order matters (list elements, the
 *   parts of one element; a key's or a pair's mixed digest is then added
 *   to its container by `xor`). Every element is digested in its string
 *   form, integers in decimal as Redis's decoded objects, sorted-set scores
 *   as "%.17g", so no encoding, table order or hash seed shows through.
 * - Both commands read the key tables directly, as Redis's dictFind and
 *   dict iterator: a key past its expire time that is not deleted yet
 *   counts, and nothing is expired by them. A TTL adds "!!expire!!" to the
 *   value's digest, not the time itself (Redis 7.0).
 * - DEBUG is CMD_ALL_SLOTS: DIGEST locks one slot at a time and digests its
 *   keys under that lock, so it is not a point-in-time picture while other
 *   clients write (Redis's, single-threaded, is). DIGEST-VALUE locks each
 *   key's slot while reading it.
 * - A stream is digested entry by entry as Redis 7.0 does: "ms.seq", then
 *   each field and value, all mixed in order (consumer groups are not part
 *   of Redis's digest).
 */
#include "debug_digest.h"

#include "db.h"
#include "entry.h"
#include "ktable.h"
#include "quicklist.h"
#include "sha1.h"
#include "stream.h"
#include "slotlock.h"
#include "t_hash.h"
#include "t_set.h"
#include "t_zset.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef uint8_t digest[SHA1_DIGEST_LEN];

/* ---------------------------------------------------------------- primitives */

/* d ^= SHA1(p): Redis's xorDigest. */
static void digest_xor(digest d, const void *p, size_t len) {
    digest h;
    sha1(p, len, h);
    for (int i = 0; i < SHA1_DIGEST_LEN; i++) d[i] ^= h[i];
}

/* d = SHA1(d ^ SHA1(p)): Redis's mixDigest. */
static void digest_mix(digest d, const void *p, size_t len) {
    digest h;
    digest_xor(d, p, len);
    sha1(d, SHA1_DIGEST_LEN, h);
    memcpy(d, h, SHA1_DIGEST_LEN);
}

/* One element made of parts (a hash field and its value, a member and its
 * score): mixed into a fresh digest, whose own SHA-1 is XORed into d. */
static void digest_xor_pair(digest d, const char *a, size_t alen, const char *b, size_t blen) {
    digest e = {0};
    digest_mix(e, a, alen);
    digest_mix(e, b, blen);
    digest_xor(d, e, SHA1_DIGEST_LEN);
}

static void digest_reply(client *c, const digest d) {
    char hex[SHA1_HEX_LEN + 1];
    sha1_to_hex(d, hex);
    add_reply_status(c, hex);
}

/* ---------------------------------------------------------------- values */

static void digest_list(digest d, quicklist *ql) {
    ql_iter it;
    const char *p;
    size_t len;
    ql_iter_init(&it, ql, QL_FORWARD, 0);
    while (ql_iter_next(&it, &p, &len)) digest_mix(d, p, len);
    ql_iter_release(&it);
}

static void digest_set(digest d, const set_value *s) {
    set_iter it;
    set_elem m;
    set_iter_init(&it, s);
    while (set_iter_next(&it, &m)) digest_xor(d, m.p, m.len);
}

static void digest_zset(digest d, const zset *z) {
    zset_iter it;
    const char *m;
    size_t len;
    double score;
    char buf[128];
    zset_iter_init(&it, z);
    while (zset_iter_next(&it, &m, &len, &score)) {
        int n = snprintf(buf, sizeof buf, "%.17g", score);
        digest_xor_pair(d, m, len, buf, (size_t)n);
    }
}

static void digest_hash(digest d, const hash *h) {
    hash_iter it;
    const char *f, *v;
    size_t flen, vlen;
    hash_iter_init(&it, h);
    while (hash_iter_next(&it, &f, &flen, &v, &vlen)) digest_xor_pair(d, f, flen, v, vlen);
}

static void digest_stream(digest d, const stream *s) {
    stream_iter it;
    stream_id id;
    int64_t nf;
    stream_iter_start(&it, s, NULL, NULL, false);
    while (stream_iter_next(&it, &id, &nf)) {
        char buf[48];
        size_t n = stream_id_format(&id, buf);
        buf[strcspn(buf, "-")] = '.';
        digest_mix(d, buf, n);
        while (nf--) {
            const char *f, *v;
            size_t flen, vlen;
            stream_iter_field(&it, &f, &flen, &v, &vlen);
            digest_mix(d, f, flen);
            digest_mix(d, v, vlen);
        }
    }
    stream_iter_stop(&it);
}

/* Redis's xorObjectDigest: the type, the value, the presence of a TTL. */
static void digest_value(digest d, entry *e) {
    uint32_t type = htonl(entry_type(e));
    digest_mix(d, &type, sizeof type);
    switch (entry_type(e)) {
    case OBJ_STRING: {
        char buf[32];
        size_t len;
        const char *s = entry_string_value(e, buf, &len);
        digest_mix(d, s, len);
        break;
    }
    case OBJ_LIST: digest_list(d, entry_ptr(e)); break;
    case OBJ_SET: digest_set(d, entry_ptr(e)); break;
    case OBJ_ZSET: digest_zset(d, entry_ptr(e)); break;
    case OBJ_HASH: digest_hash(d, entry_ptr(e)); break;
    case OBJ_STREAM: digest_stream(d, entry_ptr(e)); break;
    default: break;
    }
    if (entry_has_expire(e)) digest_xor(d, "!!expire!!", 10);
}

/* ---------------------------------------------------------------- commands */

typedef struct {
    digest sum;      /* XOR of the SHA-1s of the key digests of one database */
    uint64_t keys;
} db_digest;

static void digest_key_visit(entry *e, void *arg) {
    db_digest *acc = arg;
    digest k = {0};
    size_t klen;
    const char *key = entry_key(e, &klen);
    digest_mix(k, key, klen);
    digest_value(k, e);
    digest_xor(acc->sum, k, SHA1_DIGEST_LEN);
    acc->keys++;
}

/* Redis's computeDatasetDigest: per non-empty database, its number mixed
 * into the result, then the SHA-1 of every key digest XORed in. */
void debug_digest_command(client *c) {
    digest final = {0};
    for (int db = 0; db < db_count(); db++) {
        ktable *tables = db_tables(db);
        if (!tables) continue;
        db_digest acc = {{0}, 0};
        for (unsigned s = 0; s < 16384; s++) {
            if (ktable_count(&tables[s]) == 0) continue;
            slot_lock(s);
            ktable_scan_range(&tables[s], 0, 1ULL << 32, digest_key_visit, &acc);
            slot_unlock(s);
        }
        if (!acc.keys) continue;
        uint32_t id = htonl((uint32_t)db);
        digest_mix(final, &id, sizeof id);
        for (int i = 0; i < SHA1_DIGEST_LEN; i++) final[i] ^= acc.sum[i];
    }
    digest_reply(c, final);
}

void debug_digest_value_command(client *c) {
    add_reply_array(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        digest d = {0};
        dbkey k;
        dbkey_init(&k, c->db, c->argv[j].ptr, c->argv[j].len);
        slot_lock(k.slot);
        ktable *t = db_table(c->db, k.slot, false);
        long pos = t ? ktable_find(t, k.key, k.len, k.hash) : -1;
        if (pos >= 0) digest_value(d, ktable_at(t, pos));
        slot_unlock(k.slot);
        digest_reply(c, d);
    }
}
