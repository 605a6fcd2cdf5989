/*
 * test_sha1.c - unit tests for proto/sha1.c (FIPS 180 example vectors,
 * block-boundary lengths, incremental updates) and for the table of
 * recognised lock scripts (server/lock_scripts.c): each row's SHA1 is the
 * SHA1 of the script body the library ships (tests/support/
 * lock_script_bodies.h), and every body has its row.
 * Boundary-length digests were computed with Python's hashlib.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../proto/sha1.h"
#include "../../server/lock_scripts.h"
#include "../support/lock_script_bodies.h"

static void expect_hex(const void *data, size_t len, const char *want) {
    char hex[SHA1_HEX_LEN + 1];
    sha1_hex(data, len, hex);
    cr_assert_str_eq(hex, want, "sha1 of %zu bytes", len);
}

Test(sha1, fips_vectors) {
    expect_hex("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    expect_hex("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
    const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    expect_hex(two_blocks, strlen(two_blocks), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    const char *long_msg = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                           "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    expect_hex(long_msg, strlen(long_msg), "a49b2446a02c645bf419f995b67091253a04a259");
}

Test(sha1, million_a) {
    size_t n = 1000000;
    char *buf = malloc(n);
    cr_assert_not_null(buf);
    memset(buf, 'a', n);
    expect_hex(buf, n, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    /* Same through 1000 updates of 1000 bytes. */
    sha1_ctx ctx;
    sha1_init(&ctx);
    for (int i = 0; i < 1000; i++) sha1_update(&ctx, buf, 1000);
    uint8_t d[SHA1_DIGEST_LEN];
    sha1_final(&ctx, d);
    uint8_t want[SHA1_DIGEST_LEN];
    sha1(buf, n, want);
    cr_assert_arr_eq(d, want, SHA1_DIGEST_LEN);
    free(buf);
}

Test(sha1, other_known_digests) {
    const char *fox = "The quick brown fox jumps over the lazy dog";
    expect_hex(fox, strlen(fox), "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12");
    /* What Redis's SCRIPT LOAD answers for "return 1". */
    expect_hex("return 1", 8, "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
}

/* Lengths around the padding boundaries (55/56 bytes: the length fits in
 * the last block or needs one more; 64: exactly one block). */
Test(sha1, padding_boundaries) {
    static const struct {
        size_t n;
        const char *hex;
    } cases[] = {
        {55, "c1c8bbdc22796e28c0e15163d20899b65621d65a"},  {56, "c2db330f6083854c99d4b5bfb6e8f29f201be699"},
        {57, "f08f24908d682555111be7ff6f004e78283d989a"},  {63, "03f09f5b158a7a8cdad920bddc29b81c18a551f5"},
        {64, "0098ba824b5c16427bd7a1122a5a442a25ec644d"},  {65, "11655326c708d70319be2610e8a57d9a5b959d3b"},
        {119, "ee971065aaa017e0632a8ca6c77bb3bf8b1dfc56"}, {120, "f34c1488385346a55709ba056ddd08280dd4c6d6"},
        {127, "89d95fa32ed44a7c610b7ee38517ddf57e0bb975"}, {128, "ad5b3fdbcb526778c2839d2f151ea753995e26a0"},
        {1000, "291e9a6c66994949b57ba5e650361e98fc36b1ba"},
    };
    char buf[1000];
    memset(buf, 'a', sizeof buf);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) expect_hex(buf, cases[i].n, cases[i].hex);
}

/* Every byte value, and every way of splitting the input into two updates,
 * gives the one-shot digest. */
Test(sha1, binary_and_incremental) {
    uint8_t data[1024];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)i;
    expect_hex(data, sizeof data, "5b00669c480d5cffbdfa8bdba99561160f2d1b77");
    uint8_t want[SHA1_DIGEST_LEN];
    sha1(data, 200, want);
    for (size_t split = 0; split <= 200; split++) {
        sha1_ctx ctx;
        sha1_init(&ctx);
        sha1_update(&ctx, data, split);
        sha1_update(&ctx, data + split, 0);
        sha1_update(&ctx, data + split, 200 - split);
        uint8_t d[SHA1_DIGEST_LEN];
        sha1_final(&ctx, d);
        cr_assert_arr_eq(d, want, SHA1_DIGEST_LEN, "split at %zu", split);
    }
    /* Byte by byte. */
    sha1_ctx ctx;
    sha1_init(&ctx);
    for (size_t i = 0; i < 200; i++) sha1_update(&ctx, data + i, 1);
    uint8_t d[SHA1_DIGEST_LEN];
    sha1_final(&ctx, d);
    cr_assert_arr_eq(d, want, SHA1_DIGEST_LEN);
}

/* ------------------------------------------------------------ lock scripts */

Test(lock_scripts, bodies_hash_to_their_expected_sha1) {
    for (int i = 0; i < TLS_COUNT; i++) {
        const test_lock_script *t = &test_lock_scripts[i];
        cr_assert_not_null(t->body, "body %d missing", i);
        expect_hex(t->body, strlen(t->body), t->sha1);
    }
}

Test(lock_scripts, table_rows_match_the_bodies) {
    cr_assert_eq(lock_scripts_count, (size_t)TLS_COUNT, "table has %zu rows, %d bodies known", lock_scripts_count,
                 TLS_COUNT);
    for (size_t i = 0; i < lock_scripts_count; i++) {
        const lock_script *s = &lock_scripts[i];
        cr_assert_eq(strlen(s->sha1), (size_t)SHA1_HEX_LEN);
        for (int j = 0; j < SHA1_HEX_LEN; j++)
            cr_assert(isxdigit((unsigned char)s->sha1[j]) && !isupper((unsigned char)s->sha1[j]),
                      "row %zu: sha1 must be lower-case hex", i);
        cr_assert_not_null(s->run, "row %zu has no implementation", i);
        cr_assert(s->library && *s->library && s->name && *s->name && s->summary && *s->summary);
        /* Exactly one body has this SHA1, and that body hashes to it. */
        int found = -1;
        for (int j = 0; j < TLS_COUNT; j++)
            if (strcmp(test_lock_scripts[j].sha1, s->sha1) == 0) {
                cr_assert_eq(found, -1, "sha1 %s listed twice in the bodies", s->sha1);
                found = j;
            }
        cr_assert_neq(found, -1, "row %zu (%s %s): no known body", i, s->library, s->name);
        char hex[SHA1_HEX_LEN + 1];
        sha1_hex(test_lock_scripts[found].body, strlen(test_lock_scripts[found].body), hex);
        cr_assert_str_eq(hex, s->sha1);
        for (size_t k = 0; k < i; k++) cr_assert_str_neq(lock_scripts[k].sha1, s->sha1, "duplicate row %zu", i);
    }
}
