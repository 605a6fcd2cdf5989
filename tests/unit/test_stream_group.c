/*
 * test_stream_group.c - consumer groups of a stream (server/stream_group.c):
 * the PEL's sorted chunks against a model through random inserts, removals,
 * owner moves and consumer deletes (both the per-entry and the compacting
 * path), groups and consumers kept in byte order of their names, the
 * loader's add-then-assign path, and stream_dup's deep copy (consumer
 * pointers remapped to the copy's consumers).
 */
#include "mem.h"
#include "stream.h"
#include "stream_group.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#define MAXID 3000

static uint64_t rng = 88172645463325252ULL;
static uint64_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* model: owner index + 1 per ID (0: not pending) */
static int model[MAXID];

static void check(stream_cg *cg) {
    size_t n = 0;
    for (int i = 0; i < MAXID; i++) n += model[i] != 0;
    cr_assert_eq(stream_cg_pel_count(cg), n);
    size_t k = 0;
    for (int i = 0; i < MAXID; i++) {
        if (!model[i]) continue;
        stream_nack *e = stream_cg_pel_at(cg, k++);
        cr_assert_eq(e->id.ms, (uint64_t)i);
        cr_assert_eq(e->delivery_count, (uint64_t)i * 3);
        stream_consumer *want = stream_cg_consumer_find(cg, model[i] == 1 ? "a" : model[i] == 2 ? "b" : "c", 1);
        cr_assert_eq(e->consumer, want);
    }
    size_t owned = 0;
    for (size_t c = 0; c < stream_cg_consumer_count(cg); c++) {
        stream_consumer *sc = stream_cg_consumer_at(cg, c);
        for (size_t j = 0; j < stream_consumer_pel_count(sc); j++) {
            const stream_id *id = stream_consumer_pel_at(sc, j);
            if (j) cr_assert(stream_id_cmp(stream_consumer_pel_at(sc, j - 1), id) < 0);
            cr_assert_eq(stream_cg_pel_find(cg, id)->consumer, sc);
        }
        owned += stream_consumer_pel_count(sc);
    }
    cr_assert_eq(owned, n);
    /* seeks, then index access from where the seek left the cursor, both directions */
    for (int t = 0; t < 50; t++) {
        int i = (int)(rnd() % MAXID);
        size_t below = 0;
        for (int j = 0; j < i; j++) below += model[j] != 0;
        stream_id id = {(uint64_t)i, 0};
        size_t at = stream_cg_pel_seek(cg, &id);
        cr_assert_eq(at, below, "seek %d: %zu, want %zu", i, at, below);
        if (at < n) cr_assert_geq(stream_cg_pel_at(cg, at)->id.ms, (uint64_t)i);
        if (at > 0) cr_assert_lt(stream_cg_pel_at(cg, at - 1)->id.ms, (uint64_t)i);
        size_t far = (size_t)(rnd() % (n ? n : 1));
        if (n) cr_assert_eq(stream_cg_pel_at(cg, far)->id.ms, stream_cg_pel_at(cg, far)->id.ms);
    }
}

Test(stream_group, pel_against_model) {
    stream *s = stream_new();
    stream_id zero = {0, 0};
    stream_cg *cg = stream_cg_create(s, "g", 1, &zero, 0);
    cr_assert_not_null(cg);
    cr_assert_null(stream_cg_create(s, "g", 1, &zero, 0));
    stream_consumer *cs[3];
    cs[0] = stream_cg_consumer_create(cg, "a", 1, 1);
    cs[1] = stream_cg_consumer_create(cg, "b", 1, 2);
    cs[2] = stream_cg_consumer_create(cg, "c", 1, 3);
    cr_assert_null(stream_cg_consumer_create(cg, "b", 1, 2));
    memset(model, 0, sizeof model);
    for (int round = 0; round < 20000; round++) {
        int i = (int)(rnd() % MAXID), op = (int)(rnd() % 10);
        stream_id id = {(uint64_t)i, 0};
        if (op < 4) {
            int who = (int)(rnd() % 3);
            stream_nack *e = stream_cg_pel_add(cg, &id, 5, (uint64_t)i * 3, cs[who]);
            cr_assert_eq(e == NULL, model[i] != 0);
            if (!model[i]) model[i] = who + 1;
        } else if (op < 7) {
            cr_assert_eq(stream_cg_pel_delete(cg, &id), model[i] != 0);
            model[i] = 0;
        } else if (op < 9) {
            stream_nack *e = stream_cg_pel_find(cg, &id);
            cr_assert_eq(e != NULL, model[i] != 0);
            if (e) {
                int who = (int)(rnd() % 3);
                stream_cg_pel_move(cg, e, cs[who]);
                model[i] = who + 1;
            }
        } else {
            /* in-order acknowledgement of the oldest few */
            for (int j = 0, done = 0; j < MAXID && done < 3; j++) {
                if (!model[j]) continue;
                stream_id fid = {(uint64_t)j, 0};
                cr_assert(stream_cg_pel_delete(cg, &fid));
                model[j] = 0;
                done++;
            }
        }
        if (round % 997 == 0) check(cg);
    }
    check(cg);

    /* the copy is deep and its owners are its own consumers */
    stream *d = stream_dup(s);
    stream_cg *dcg = stream_cg_find(d, "g", 1);
    cr_assert_not_null(dcg);
    cr_assert_neq(dcg, cg);
    check(dcg);
    for (size_t k = 0; k < stream_cg_pel_count(dcg); k++) {
        stream_consumer *o = stream_cg_pel_at(dcg, k)->consumer;
        cr_assert(o != cs[0] && o != cs[1] && o != cs[2]);
    }
    stream *empty = stream_new();
    cr_assert_gt(stream_mem(d), stream_mem(empty) + stream_cg_pel_count(dcg) * sizeof(stream_nack));
    stream_free(empty);
    stream_free(d);

    /* deleting consumers: "c" on the per-entry path or compacting, by size */
    size_t pend_b = stream_consumer_pel_count(cs[1]);
    cr_assert_eq(stream_cg_consumer_delete(cg, cs[1]), pend_b);
    for (int i = 0; i < MAXID; i++)
        if (model[i] == 2) model[i] = 0;
    cr_assert_null(stream_cg_consumer_find(cg, "b", 1));
    check(cg);
    stream_cg_consumer_delete(cg, cs[0]);
    stream_cg_consumer_delete(cg, cs[2]);
    cr_assert_eq(stream_cg_pel_count(cg), 0);
    cr_assert(stream_cg_destroy(s, "g", 1));
    cr_assert_not(stream_cg_destroy(s, "g", 1));
    stream_free(s);
}

Test(stream_group, names_in_byte_order) {
    stream *s = stream_new();
    stream_id zero = {0, 0};
    const char *names[] = {"b", "a", "ab", "", "\xff", "B", "aa"};
    const char *sorted[] = {"", "B", "a", "aa", "ab", "b", "\xff"};
    for (size_t i = 0; i < 7; i++) cr_assert_not_null(stream_cg_create(s, names[i], strlen(names[i]), &zero, -1));
    cr_assert_eq(stream_cg_count(s), 7);
    for (size_t i = 0; i < 7; i++) {
        stream_cg *cg = stream_cg_at(s, i);
        cr_assert_eq(cg->name_len, strlen(sorted[i]));
        cr_assert(memcmp(cg->name, sorted[i], cg->name_len) == 0);
    }
    stream_cg *cg = stream_cg_at(s, 2);
    for (size_t i = 0; i < 7; i++) stream_cg_consumer_create(cg, names[i], strlen(names[i]), 0);
    for (size_t i = 0; i < 7; i++) {
        stream_consumer *sc = stream_cg_consumer_at(cg, i);
        cr_assert_eq(sc->name_len, strlen(sorted[i]));
        cr_assert(memcmp(sc->name, sorted[i], sc->name_len) == 0);
    }
    stream_free(s);
}

Test(stream_group, loader_path) {
    stream *s = stream_new();
    stream_id last = {100, 0};
    stream_cg *cg = stream_cg_create(s, "g", 1, &last, 7);
    for (uint64_t i = 1; i <= 50; i++) cr_assert_not_null(stream_cg_pel_add(cg, &(stream_id){i, 1}, 1000 + i, i, NULL));
    stream_consumer *a = stream_cg_consumer_create(cg, "alice", 5, 42);
    stream_consumer *b = stream_cg_consumer_create(cg, "bob", 3, 43);
    for (uint64_t i = 1; i <= 50; i++) cr_assert(stream_cg_pel_assign(cg, i % 2 ? a : b, &(stream_id){i, 1}));
    cr_assert_not(stream_cg_pel_assign(cg, a, &(stream_id){1, 1}));  /* owned */
    cr_assert_not(stream_cg_pel_assign(cg, a, &(stream_id){99, 1})); /* not pending */
    cr_assert_eq(stream_consumer_pel_count(a), 25);
    cr_assert_eq(stream_consumer_pel_count(b), 25);
    cr_assert_eq(stream_cg_pel_at(cg, 9)->delivery_time, 1010);
    cr_assert_eq(stream_consumer_pel_seek(a, &(stream_id){4, 0}), 2);
    cr_assert_eq(stream_cg_pel_seek(cg, &(stream_id){4, 2}), 4);
    stream_free(s);
}

/* The index cursor follows removals (XAUTOCLAIM deletes entries as it
 * walks by index): after each removal, before, at or after the cursor and
 * whole chunks emptied, index access still matches a model. */
Test(stream_group, cursor_follows_removals) {
    stream *s = stream_new();
    stream_id zero = {0, 0};
    stream_cg *cg = stream_cg_create(s, "g", 1, &zero, 0);
    stream_consumer *sc = stream_cg_consumer_create(cg, "c", 1, 0);
    enum { M = 2000 };
    static bool live[M];
    for (int i = 0; i < M; i++) {
        cr_assert_not_null(stream_cg_pel_add(cg, &(stream_id){(uint64_t)i, 0}, 0, 1, sc));
        live[i] = true;
    }
    size_t n = M;
    for (int round = 0; round < 3000 && n > 0; round++) {
        size_t pos = (size_t)(rnd() % n);
        (void)stream_cg_pel_at(cg, pos); /* the cursor goes there */
        int victim;
        if (round % 3 == 0) { /* right at the cursor, as XAUTOCLAIM does */
            victim = (int)stream_cg_pel_at(cg, pos)->id.ms;
        } else {
            do victim = (int)(rnd() % M);
            while (!live[victim]);
        }
        cr_assert(stream_cg_pel_delete(cg, &(stream_id){(uint64_t)victim, 0}));
        live[victim] = false;
        n--;
        if (!n) break;
        size_t j = (size_t)(rnd() % n), seen = 0;
        int want = -1;
        for (int i = 0; i < M; i++)
            if (live[i] && seen++ == j) {
                want = i;
                break;
            }
        cr_assert_eq(stream_cg_pel_at(cg, j)->id.ms, (uint64_t)want, "round %d: index %zu", round, j);
        cr_assert_eq(stream_consumer_pel_at(sc, j)->ms, (uint64_t)want);
    }
    cr_assert_eq(stream_cg_pel_count(cg), n);
    stream_free(s);
}
