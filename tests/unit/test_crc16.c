/*
 * test_crc16.c - unit tests for proto/crc16.c: CRC16/XMODEM and Redis
 * Cluster key -> hash slot mapping with {hash tag} rules. Expected slots were
 * taken from redis-server 7.0 CLUSTER KEYSLOT.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "../../proto/crc16.h"

static unsigned slot(const char *k)
{
    return key_hash_slot(k, strlen(k));
}

Test(crc16, check_value)
{
    cr_assert_eq(crc16("123456789", 9), 0x31C3);
}

Test(crc16, empty_and_single_bytes)
{
    cr_assert_eq(crc16("", 0), 0);
    /* One byte: the table entry for that byte (XMODEM, init 0). */
    cr_assert_eq(crc16("\x01", 1), 0x1021);
    cr_assert_eq(crc16("A", 1), 0x58E5);
}

Test(crc16, binary_safe)
{
    /* NUL bytes count; the length, not strlen, decides. */
    cr_assert_neq(crc16("a\0b", 3), crc16("a", 1));
    cr_assert_eq(crc16("a\0b", 3), crc16("a\0b", 3));
}

Test(key_hash_slot, known_slots)
{
    cr_assert_eq(slot("foo"), 12182);
    cr_assert_eq(slot("bar"), 5061);
    cr_assert_eq(slot("hello"), 866);
    cr_assert_eq(slot("123456789"), 12739);
    cr_assert_eq(slot(""), 0);
}

Test(key_hash_slot, hash_tags)
{
    cr_assert_eq(slot("{user1000}.following"), slot("{user1000}.followers"));
    cr_assert_eq(slot("{user1000}.following"), slot("user1000"));
    cr_assert_eq(slot("{user1000}.following"), 3443);
    /* Only the first '{' and the first '}' after it count. */
    cr_assert_eq(slot("foo{bar}{zap}"), slot("bar"));
    cr_assert_eq(slot("foo{{bar}}zap"), slot("{bar"));
    cr_assert_eq(slot("foo{{bar}}zap"), 4015);
}

Test(key_hash_slot, tags_that_hash_whole_key)
{
    /* Empty tag: the whole key is hashed (not the later "{bar}"). */
    cr_assert_eq(slot("foo{}{bar}"), crc16("foo{}{bar}", 10) & 0x3FFF);
    cr_assert_eq(slot("foo{}{bar}"), 8363);
    cr_assert_neq(slot("foo{}{bar}"), slot("bar"));
    cr_assert_eq(slot("{}"), 15257);
    /* '{' without a later '}', or '}' before '{'. */
    cr_assert_eq(slot("a{b"), 13340);
    cr_assert_eq(slot("a{b"), crc16("a{b", 3) & 0x3FFF);
    cr_assert_eq(slot("}{a}"), slot("a"));
    cr_assert_eq(slot("}{a}"), 15495);
}

Test(key_hash_slot, binary_keys_and_range)
{
    /* A tag may contain NUL bytes. */
    cr_assert_eq(key_hash_slot("x{a\0b}y", 7), crc16("a\0b", 3) & 0x3FFF);
    for (unsigned i = 0; i < 5000; i++) {
        char k[16];
        size_t l = (size_t)snprintf(k, sizeof k, "key:%u", i * 2654435761u);
        cr_assert_lt(key_hash_slot(k, l), CLUSTER_SLOTS);
    }
}

Test(crc16, sliced_matches_bytewise_at_every_length_and_alignment)
{
    unsigned char buf[80];
    unsigned x = 12345;
    for (size_t i = 0; i < sizeof buf; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (unsigned char)(x >> 16);
    }
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len + off <= sizeof buf; len++)
            cr_assert_eq(crc16((const char *)buf + off, len), crc16_bytewise((const char *)buf + off, len),
                         "offset %zu length %zu", off, len);
}
