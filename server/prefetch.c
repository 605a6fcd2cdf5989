/*
 * prefetch.c - batch prefetching of keys for pipelined commands (see
 * prefetch.h).
 *
 * The scanner accepts only the plain multibulk form `*N\r\n$L\r\n...` with
 * every argument complete in the buffer; anything else ends the batch and is
 * left to the real parser. Table reads happen under the slot lock taken with
 * a trylock: a slot another worker holds is simply not prefetched.
 */
#include "prefetch.h"

#include "crc16.h"
#include "db.h"
#include "ktable.h"
#include "slotlock.h"

#define BATCH 16
#define MAX_KEY_LEN 512 /* longer first arguments are not worth hashing early */
#define MAX_ARGS 64     /* commands with more arguments end the batch */

typedef struct {
    const char *key;
    size_t len;
    unsigned slot;
    uint64_t hash;
} batch_key;

static _Thread_local batch_key batch[BATCH];
static _Thread_local int batch_n;
static _Thread_local int batch_next;

/* Parse "<digits>\r\n" at buf[*pos..len) after a type byte; -1 if absent. */
static long long scan_len(const char *buf, size_t len, size_t *pos) {
    size_t p = *pos;
    long long v = 0;
    size_t start = p;
    while (p < len && buf[p] >= '0' && buf[p] <= '9' && p - start < 10) v = v * 10 + (buf[p++] - '0');
    if (p == start || p + 1 >= len || buf[p] != '\r' || buf[p + 1] != '\n') return -1;
    *pos = p + 2;
    return v;
}

/* One complete command at buf[*pos..); its first argument after the name
 * goes to *key (NULL if it has none). False if the command is incomplete or
 * not a plain multibulk. */
static bool scan_command(const char *buf, size_t len, size_t *pos, const char **key, size_t *klen) {
    size_t p = *pos;
    if (p >= len || buf[p] != '*') return false;
    p++;
    long long argc = scan_len(buf, len, &p);
    if (argc < 1 || argc > MAX_ARGS) return false;
    *key = NULL;
    for (long long i = 0; i < argc; i++) {
        if (p >= len || buf[p] != '$') return false;
        p++;
        long long n = scan_len(buf, len, &p);
        if (n < 0 || (size_t)n + 2 > len - p) return false;
        if (buf[p + n] != '\r' || buf[p + n + 1] != '\n') return false;
        if (i == 1) {
            *key = buf + p;
            *klen = (size_t)n;
        }
        p += (size_t)n + 2;
    }
    *pos = p;
    return true;
}

size_t prefetch_commands(int db, const char *buf, size_t len) {
    batch_n = batch_next = 0;
    size_t pos = 0;
    while (batch_n < BATCH) {
        const char *key;
        size_t klen = 0;
        if (!scan_command(buf, len, &pos, &key, &klen)) break;
        if (!key || klen > MAX_KEY_LEN) continue;
        batch_key *b = &batch[batch_n++];
        b->key = key;
        b->len = klen;
        b->slot = key_hash_slot(key, klen);
        b->hash = key_hash(key, klen);
    }
    ktable *tables = batch_n ? db_tables(db) : NULL;
    if (!tables) return pos;
    for (int i = 0; i < batch_n; i++) {
        __builtin_prefetch(&tables[batch[i].slot]);
        __builtin_prefetch(&slot_locks[batch[i].slot], 1);
    }
    /* A lone command gains only the first round, which overlaps with its
     * parsing and dispatch; the later rounds would wait on each miss. */
    if (batch_n < 2) return pos;
    for (int i = 0; i < batch_n; i++) {
        if (!slot_trylock(batch[i].slot)) continue;
        ktable_prefetch_bucket(&tables[batch[i].slot], batch[i].hash);
        slot_unlock(batch[i].slot);
    }
    for (int i = 0; i < batch_n; i++) {
        if (!slot_trylock(batch[i].slot)) continue;
        ktable_prefetch_entry(&tables[batch[i].slot], batch[i].hash);
        slot_unlock(batch[i].slot);
    }
    return pos;
}

bool prefetch_take(const char *key, size_t len, unsigned *slot, uint64_t *hash) {
    for (int i = batch_next; i < batch_n; i++) {
        if (batch[i].key != key || batch[i].len != len) continue;
        *slot = batch[i].slot;
        *hash = batch[i].hash;
        batch_next = i + 1;
        return true;
    }
    return false;
}

void prefetch_reset(void) { batch_n = batch_next = 0; }
