/*
 * test_crc64.c - CRC-64/Jones check value and incremental use.
 */
#include "crc64.h"

#include <criterion/criterion.h>
#include <string.h>

Test(crc64, check_value) { cr_assert_eq(crc64(0, "123456789", 9), 0xe9c6d914c4b8d9caULL); }

Test(crc64, incremental_equals_whole) {
    const char *s = "hello world, this is a payload";
    size_t n = strlen(s);
    uint64_t whole = crc64(0, s, n);
    uint64_t part = crc64(crc64(0, s, 7), s + 7, n - 7);
    cr_assert_eq(whole, part);
    cr_assert_neq(whole, crc64(0, s, n - 1));
}
