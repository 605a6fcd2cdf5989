/*
 * test_prefetch.c - the pipelined-batch prefetcher: which commands its
 * scanner takes into a batch, how many bytes it reports covered, and that
 * the slot and hash it hands to dispatch are exactly the ones computed
 * from the key (hash tags included), matched by argument address.
 */
#include "crc16.h"
#include "db.h"
#include "ktable.h"
#include "prefetch.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static void setup(void) {
    db_init(16);
    (void)db_table(0, 0, true); /* database 0 has tables: prefetching runs */
}
static void teardown(void) {
    prefetch_reset();
    db_shutdown();
}

TestSuite(prefetch, .init = setup, .fini = teardown);

static void assert_taken(const char *buf, const char *key) {
    const char *at = strstr(buf, key);
    cr_assert_not_null(at);
    size_t len = strlen(key);
    unsigned slot;
    uint64_t hash;
    cr_assert(prefetch_take(at, len, &slot, &hash), "key %s should be in the batch", key);
    cr_assert_eq(slot, key_hash_slot(key, len));
    cr_assert_eq(hash, key_hash(key, len));
}

Test(prefetch, batch_of_complete_commands) {
    const char *buf = "*2\r\n$3\r\nGET\r\n$4\r\nk:aa\r\n"
                      "*3\r\n$3\r\nSET\r\n$9\r\n{user1}:x\r\n$1\r\nv\r\n"
                      "*1\r\n$4\r\nPING\r\n"
                      "*2\r\n$3\r\nGET\r\n$4\r\nk:bb\r\n";
    size_t covered = prefetch_commands(0, buf, strlen(buf));
    cr_assert_eq(covered, strlen(buf));
    assert_taken(buf, "k:aa");
    assert_taken(buf, "{user1}:x");
    assert_taken(buf, "k:bb");
}

Test(prefetch, matches_by_address_not_content) {
    const char *buf = "*2\r\n$3\r\nGET\r\n$4\r\nk:aa\r\n*2\r\n$3\r\nGET\r\n$4\r\nk:bb\r\n";
    prefetch_commands(0, buf, strlen(buf));
    const char copy[] = "k:aa";
    unsigned slot;
    uint64_t hash;
    cr_assert_not(prefetch_take(copy, 4, &slot, &hash), "another buffer with the same bytes is not the batch's");
    cr_assert_not(prefetch_take(strstr(buf, "k:aa"), 3, &slot, &hash), "the length must match too");
}

Test(prefetch, taken_in_order_and_once) {
    const char *buf = "*2\r\n$3\r\nGET\r\n$4\r\nk:aa\r\n*2\r\n$3\r\nGET\r\n$4\r\nk:bb\r\n";
    prefetch_commands(0, buf, strlen(buf));
    unsigned slot;
    uint64_t hash;
    const char *b = strstr(buf, "k:bb"), *a = strstr(buf, "k:aa");
    cr_assert(prefetch_take(b, 4, &slot, &hash));
    cr_assert_not(prefetch_take(a, 4, &slot, &hash), "keys before the last one taken are done");
    prefetch_reset();
    cr_assert_not(prefetch_take(b, 4, &slot, &hash), "reset forgets the batch");
}

Test(prefetch, stops_at_incomplete_command) {
    const char *buf = "*2\r\n$3\r\nGET\r\n$4\r\nk:aa\r\n*2\r\n$3\r\nGET\r\n$4\r\nk:b";
    size_t first = strlen("*2\r\n$3\r\nGET\r\n$4\r\nk:aa\r\n");
    cr_assert_eq(prefetch_commands(0, buf, strlen(buf)), first);
    /* a bulk whose length runs past the buffer */
    const char *big = "*2\r\n$3\r\nGET\r\n$999\r\nabc\r\n";
    cr_assert_eq(prefetch_commands(0, big, strlen(big)), 0);
}

Test(prefetch, stops_at_inline_and_malformed_input) {
    const char *inl = "GET k:aa\r\n*2\r\n$3\r\nGET\r\n$4\r\nk:bb\r\n";
    cr_assert_eq(prefetch_commands(0, inl, strlen(inl)), 0, "inline commands are the parser's");
    const char *bad[] = {"*abc\r\n", "*2\r\n$3\r\nGETX\r\n", "*-1\r\n", "*2\r\n$-1\r\n", "*1\r\n$3\r\nGET\n\n", "*1\r\n$3\r\nGET"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_eq(prefetch_commands(0, bad[i], strlen(bad[i])), 0, "input %zu", i);
}

Test(prefetch, batch_is_bounded) {
    char buf[4096];
    size_t n = 0, one = 0;
    for (int i = 0; i < 40; i++) {
        int w = snprintf(buf + n, sizeof buf - n, "*2\r\n$3\r\nGET\r\n$4\r\nk:%02d\r\n", i);
        if (i == 0) one = (size_t)w;
        n += (size_t)w;
    }
    size_t covered = prefetch_commands(0, buf, n);
    cr_assert_gt(covered, 0);
    cr_assert_lt(covered, n, "a batch holds a bounded number of keys");
    cr_assert_eq(covered % one, 0, "a batch ends on a command boundary");
}

Test(prefetch, database_without_tables) {
    const char *buf = "*2\r\n$3\r\nGET\r\n$4\r\nk:aa\r\n*2\r\n$3\r\nGET\r\n$4\r\nk:bb\r\n";
    cr_assert_eq(prefetch_commands(5, buf, strlen(buf)), strlen(buf));
    assert_taken(buf, "k:aa"); /* hashes are still handed over */
}
