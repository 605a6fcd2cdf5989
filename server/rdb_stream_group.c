/*
 * rdb_stream_group.c - a stream's consumer groups in Redis 7.0's RDB
 * encoding (see rdb_stream_group.h), the layout of Redis's rdbSaveObject
 * and rdbLoadObject for streams:
 *
 *   group count, then per group: name (string) | last_id (ms, seq lengths)
 *   | entries_read (a length; -1 as 2^64-1; absent in type 15) | PEL count
 *   | per entry: ID (16 bytes, big endian) | delivery time (8 bytes LE, ms)
 *   | delivery count (length) | consumer count | per consumer: name |
 *   seen time (8 bytes LE) | PEL count | its IDs (16 bytes each)
 *
 * Design choices a reader must know:
 * - Writing follows stream_group.h's order, which is Redis's (names in rax
 *   byte order, PELs by ID), so the bytes equal redis-server's DUMP.
 * - Reading checks what Redis 7.0.15 checks with deep sanitization,
 *   whatever sanitize-dump-payload says (as rdb_codec.c does for every
 *   type): duplicate group or consumer names, duplicate group PEL IDs, a
 *   consumer's ID missing from the group PEL or listed twice, a group PEL
 *   entry no consumer owns. One check is stricter than Redis: an ID listed
 *   by two consumers is refused (Redis accepts it and leaves the first
 *   consumer pointing at an entry the second one owns, which Redis never
 *   writes). Counts are checked against the bytes left before anything is
 *   allocated.
 * - PELs may arrive in any order (Redis accepts that too); each is read
 *   into a scratch array, sorted when it is not sorted already, and then
 *   added in ID order, so loading stays O(n log n) where inserting in
 *   arrival order into the sorted arrays could be quadratic.
 */
#include "rdb_stream_group.h"

#include "mem.h"
#include "stream_group.h"

#include <stdlib.h>
#include <string.h>

/* Fewest bytes each item can take, for counts against the bytes left. */
#define PEL_ENTRY_MIN (16 + 8 + 1) /* ID, delivery time, delivery count */
#define CONSUMER_MIN (1 + 8 + 1)   /* name, seen time, PEL count */
#define GROUP_MIN (1 + 2 + 1 + 1)  /* name, last_id, PEL count, consumer count */

/* ================================================================ out */

static void put_raw_id(serial_buf *b, const stream_id *id) {
    unsigned char k[16];
    stream_id_to_key(id, k);
    serial_put_raw(b, k, 16);
}

static void put_consumer(serial_buf *b, const stream_consumer *sc, bool compress) {
    rdb_put_string(b, sc->name, sc->name_len, compress);
    rdb_put_u64le(b, (uint64_t)sc->seen_time);
    size_t n = stream_consumer_pel_count(sc);
    rdb_put_len(b, n);
    for (size_t i = 0; i < n; i++) put_raw_id(b, stream_consumer_pel_at(sc, i));
}

void rdb_put_stream_groups(serial_buf *b, const stream *s, bool compress) {
    size_t ng = stream_cg_count(s);
    rdb_put_len(b, ng);
    for (size_t i = 0; i < ng; i++) {
        const stream_cg *cg = stream_cg_at(s, i);
        rdb_put_string(b, cg->name, cg->name_len, compress);
        rdb_put_stream_id(b, &cg->last_id);
        rdb_put_len(b, (uint64_t)cg->entries_read);
        size_t np = stream_cg_pel_count(cg);
        rdb_put_len(b, np);
        for (size_t j = 0; j < np; j++) {
            const stream_nack *nack = stream_cg_pel_at(cg, j);
            put_raw_id(b, &nack->id);
            rdb_put_u64le(b, (uint64_t)nack->delivery_time);
            rdb_put_len(b, nack->delivery_count);
        }
        size_t nc = stream_cg_consumer_count(cg);
        rdb_put_len(b, nc);
        for (size_t j = 0; j < nc; j++) put_consumer(b, stream_cg_consumer_at(cg, j), compress);
    }
}

/* ================================================================ in */

static size_t left(const rdb_in *in) { return (size_t)(in->end - in->p); }

/* A count of items of at least min bytes each; false when it cannot fit. */
static bool get_bounded_count(rdb_in *in, uint64_t *n, size_t min, const char *what) {
    if (!rdb_get_len(in, n, NULL)) return false;
    if (*n > left(in) / min) return rdb_fail(in, "%s count %llu larger than the data", what, (unsigned long long)*n);
    return true;
}

static bool get_raw_id(rdb_in *in, stream_id *id) {
    const unsigned char *k = NULL;
    if (!rdb_get_raw(in, &k, 16)) return false;
    stream_id_from_key(k, id);
    return true;
}

/* qsort on records that start with their stream_id (stream_nack, stream_id). */
static int cmp_leading_id(const void *a, const void *b) { return stream_id_cmp(a, b); }

/* Sort n records of size bytes by their leading ID unless already sorted;
 * false when two have the same ID. */
static bool sort_unique_ids(void *v, size_t n, size_t size) {
    char *p = v;
    bool sorted = true;
    for (size_t i = 1; i < n && sorted; i++) sorted = cmp_leading_id(p + (i - 1) * size, p + i * size) < 0;
    if (sorted) return true;
    qsort(v, n, size, cmp_leading_id);
    for (size_t i = 1; i < n; i++)
        if (cmp_leading_id(p + (i - 1) * size, p + i * size) == 0) return false;
    return true;
}

/* The group's PEL, every entry without an owner yet (the consumers that
 * follow claim them). */
static bool get_group_pel(rdb_in *in, stream_cg *cg) {
    uint64_t n;
    if (!get_bounded_count(in, &n, PEL_ENTRY_MIN, "Stream PEL")) return false;
    stream_nack *v = mem_alloc(sizeof *v * (n ? n : 1));
    bool ok = true;
    for (uint64_t i = 0; i < n && ok; i++) {
        uint64_t t = 0;
        ok = get_raw_id(in, &v[i].id) && rdb_get_u64le(in, &t) && rdb_get_len(in, &v[i].delivery_count, NULL);
        v[i].delivery_time = (int64_t)t;
        v[i].consumer = NULL;
    }
    if (ok && !sort_unique_ids(v, n, sizeof *v))
        ok = rdb_fail(in, "Duplicated global PEL entry loading stream consumer group");
    for (uint64_t i = 0; i < n && ok; i++)
        stream_cg_pel_add(cg, &v[i].id, v[i].delivery_time, v[i].delivery_count, NULL);
    mem_free(v);
    return ok;
}

/* One consumer and the IDs it owns, each of them an unowned entry of the
 * group's PEL. */
static bool get_consumer(rdb_in *in, stream_cg *cg) {
    char *name = NULL;
    size_t len;
    if (!rdb_get_string(in, &name, &len)) return false;
    stream_consumer *sc = stream_cg_consumer_create(cg, name, len, 0);
    mem_free(name);
    if (!sc) return rdb_fail(in, "Duplicate stream consumer detected");
    uint64_t seen, n;
    if (!rdb_get_u64le(in, &seen)) return false;
    sc->seen_time = (int64_t)seen;
    if (!get_bounded_count(in, &n, 16, "Stream consumer PEL")) return false;
    stream_id *v = mem_alloc(sizeof *v * (n ? n : 1));
    bool ok = true;
    for (uint64_t i = 0; i < n && ok; i++) ok = get_raw_id(in, &v[i]);
    if (ok && !sort_unique_ids(v, n, sizeof *v))
        ok = rdb_fail(in, "Duplicated consumer PEL entry loading a stream consumer group");
    for (uint64_t i = 0; i < n && ok; i++) {
        if (!stream_cg_pel_find(cg, &v[i]))
            ok = rdb_fail(in, "Consumer entry not found in group global PEL");
        else if (!stream_cg_pel_assign(cg, sc, &v[i]))
            ok = rdb_fail(in, "Stream PEL entry owned by two consumers");
    }
    mem_free(v);
    return ok;
}

static bool get_group(rdb_in *in, stream *s, int type) {
    char *name = NULL;
    size_t len;
    stream_id last;
    if (!rdb_get_string(in, &name, &len)) return false;
    if (!rdb_get_stream_id(in, &last)) {
        mem_free(name);
        return false;
    }
    long long entries_read;
    if (type == RDB_TYPE_STREAM_LISTPACKS_2) {
        uint64_t u;
        if (!rdb_get_len(in, &u, NULL)) {
            mem_free(name);
            return false;
        }
        entries_read = (long long)u;
    } else {
        entries_read = stream_estimate_distance(s, &last);
    }
    stream_cg *cg = stream_cg_create(s, name, len, &last, entries_read);
    if (!cg) rdb_fail(in, "Duplicated consumer group name %.*s", (int)(len > 64 ? 64 : len), name);
    mem_free(name);
    if (!cg || !get_group_pel(in, cg)) return false;
    uint64_t nc;
    if (!get_bounded_count(in, &nc, CONSUMER_MIN, "Stream consumers")) return false;
    for (uint64_t i = 0; i < nc; i++)
        if (!get_consumer(in, cg)) return false;
    for (size_t i = 0, n = stream_cg_pel_count(cg); i < n; i++)
        if (!stream_cg_pel_at(cg, i)->consumer) return rdb_fail(in, "Stream CG PEL entry without consumer");
    return true;
}

bool rdb_get_stream_groups(rdb_in *in, stream *s, int type) {
    uint64_t n;
    if (!get_bounded_count(in, &n, GROUP_MIN, "Stream cgroup")) return false;
    for (uint64_t i = 0; i < n; i++)
        if (!get_group(in, s, type)) return false;
    return true;
}
