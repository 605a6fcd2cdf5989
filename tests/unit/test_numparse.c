/*
 * test_numparse.c - unit tests for proto/numparse.c: Redis's string2ll,
 * string2ld, getDoubleFromObject rules and its number formatting
 * (INCRBYFLOAT's ld2string LD_STR_HUMAN, addReplyDouble's "%.17g").
 * Expected outputs were checked against redis-server 7.0.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../proto/numparse.h"

static bool ll(const char *s, long long *v)
{
    return parse_ll(s, strlen(s), v);
}

static bool ld(const char *s, long double *v)
{
    return parse_ld(s, strlen(s), v);
}

static bool dbl(const char *s, double *v)
{
    return parse_double(s, strlen(s), v);
}

/* ---- parse_ll ---------------------------------------------------------- */

Test(parse_ll, accepts)
{
    long long v = 12345;
    cr_assert(ll("0", &v));
    cr_assert_eq(v, 0);
    cr_assert(ll("1", &v));
    cr_assert_eq(v, 1);
    cr_assert(ll("-1", &v));
    cr_assert_eq(v, -1);
    cr_assert(ll("99", &v));
    cr_assert_eq(v, 99);
    cr_assert(ll("-99", &v));
    cr_assert_eq(v, -99);
    cr_assert(ll("9223372036854775807", &v));
    cr_assert_eq(v, LLONG_MAX);
    cr_assert(ll("-9223372036854775808", &v));
    cr_assert_eq(v, LLONG_MIN);
    cr_assert(ll("1000000", NULL)); /* out may be NULL */
}

Test(parse_ll, rejects)
{
    long long v = 777;
    const char *bad[] = {
        "",   "-",   "+1", " 1", "1 ", "01", "-0", "00", "-01", "1a", "a1", "0x10", "1.0", "1e3",
        "9223372036854775808",  /* LLONG_MAX + 1 */
        "-9223372036854775809", /* LLONG_MIN - 1 */
        "18446744073709551615", /* ULLONG_MAX */
        "18446744073709551616", /* > ULLONG_MAX */
        "99999999999999999999", /* 20 digits, overflows unsigned */
        "100000000000000000000", /* 21 chars: too long */
        "--1", "1-", "\t1", "1\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_not(ll(bad[i], &v), "accepted \"%s\"", bad[i]);
    cr_assert_eq(v, 777, "output written on failure");
}

Test(parse_ll, length_is_respected)
{
    long long v;
    /* Only the given bytes count: "12" out of "123", NUL inside rejected. */
    cr_assert(parse_ll("123", 2, &v));
    cr_assert_eq(v, 12);
    cr_assert_not(parse_ll("1\0", 2, &v));
    cr_assert_not(parse_ll("5", 0, &v));
}

/* ---- parse_ld ---------------------------------------------------------- */

Test(parse_ld, accepts)
{
    long double v;
    cr_assert(ld("1e3", &v));
    cr_assert_eq(v, 1000.0L);
    cr_assert(ld("10.5", &v));
    cr_assert_eq(v, 10.5L);
    cr_assert(ld("-0.25", &v));
    cr_assert_eq(v, -0.25L);
    cr_assert(ld("0x10", &v)); /* strtold accepts hex (INCRBYFLOAT does) */
    cr_assert_eq(v, 16.0L);
    cr_assert(ld("inf", &v));
    cr_assert(isinf(v) && v > 0);
    cr_assert(ld("-inf", &v));
    cr_assert(isinf(v) && v < 0);
    cr_assert(ld("+1.5", &v));
    cr_assert_eq(v, 1.5L);
}

Test(parse_ld, rejects)
{
    long double v;
    const char *bad[] = {"", " 1", "1 ", "\t1", "1\n", "nan", "-nan", "NaN", "abc",
                         "1e5000", "-1e5000", "1e-5000", "1.0.0", "--1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_not(ld(bad[i], &v), "accepted \"%s\"", bad[i]);
    cr_assert_not(parse_ld("1\0", 2, &v));
}

Test(parse_ld, length_limit)
{
    /* MAX_LONG_DOUBLE_CHARS is 5*1024: at most 5119 bytes are accepted. */
    static char s[5121];
    long double v;
    memset(s, '0', sizeof s);
    s[5118] = '7';
    cr_assert(parse_ld(s, 5119, &v));
    cr_assert_eq(v, 7.0L);
    s[5118] = '0';
    s[5119] = '7';
    cr_assert_not(parse_ld(s, 5120, &v));
}

/* ---- parse_double ------------------------------------------------------ */

Test(parse_double, accepts)
{
    double v;
    cr_assert(dbl("1e3", &v));
    cr_assert_eq(v, 1000.0);
    cr_assert(dbl("1.5", &v));
    cr_assert_eq(v, 1.5);
    cr_assert(dbl("+1.5", &v));
    cr_assert_eq(v, 1.5);
    cr_assert(dbl("-3", &v));
    cr_assert_eq(v, -3.0);
    cr_assert(dbl("0x10", &v));
    cr_assert_eq(v, 16.0);
    cr_assert(dbl("inf", &v));
    cr_assert(isinf(v) && v > 0);
    cr_assert(dbl("+inf", &v));
    cr_assert(isinf(v) && v > 0);
    cr_assert(dbl("-inf", &v));
    cr_assert(isinf(v) && v < 0);
    cr_assert(dbl("Infinity", &v));
    cr_assert(isinf(v));
    cr_assert(dbl("4.9e-324", &v)); /* denormal: accepted (ZADD does) */
    cr_assert_gt(v, 0.0);
    cr_assert(dbl("01", &v)); /* leading zeros are fine for doubles */
    cr_assert_eq(v, 1.0);
}

Test(parse_double, rejects)
{
    double v = 42.0;
    const char *bad[] = {"", " 1", "1 ", "\t1", "1\n", "nan", "NAN", "-nan", "x",
                         "1e400", "-1e400", /* overflow (ERANGE) */
                         "1e-400",          /* underflow to zero (ERANGE) */
                         "1,5", "1.5.", "--1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_not(dbl(bad[i], &v), "accepted \"%s\"", bad[i]);
    cr_assert_not(parse_double("1\0", 2, &v));
    cr_assert_eq(v, 42.0, "output written on failure");
}

Test(parse_double, long_input)
{
    /* Longer than any internal stack buffer. */
    char s[301];
    double v;
    s[0] = '1';
    memset(s + 1, '0', 299);
    s[300] = '\0';
    cr_assert(parse_double(s, 300, &v));
    cr_assert_eq(v, 1e299);
    s[299] = 'x';
    cr_assert_not(parse_double(s, 300, &v));
}

/* ---- format_ll --------------------------------------------------------- */

Test(format_ll, values)
{
    char buf[32];
    cr_assert_eq(format_ll(buf, sizeof buf, 0), 1);
    cr_assert_str_eq(buf, "0");
    cr_assert_eq(format_ll(buf, sizeof buf, -42), 3);
    cr_assert_str_eq(buf, "-42");
    cr_assert_eq(format_ll(buf, 21, LLONG_MIN), 20);
    cr_assert_str_eq(buf, "-9223372036854775808");
    cr_assert_eq(format_ll(buf, 21, LLONG_MAX), 19);
    cr_assert_str_eq(buf, "9223372036854775807");
}

Test(format_ll, round_trip)
{
    char buf[32];
    long long vals[] = {0, 1, -1, 9, 10, -10, 123456789, LLONG_MAX, LLONG_MIN, LLONG_MIN + 1};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        long long back;
        size_t l = format_ll(buf, sizeof buf, vals[i]);
        cr_assert(parse_ll(buf, l, &back));
        cr_assert_eq(back, vals[i]);
    }
}

Test(format_ll, truncates_to_buffer)
{
    char buf[4];
    cr_assert_eq(format_ll(buf, sizeof buf, 123456), 3);
    cr_assert_str_eq(buf, "123");
}

/* ---- format_ld_human (INCRBYFLOAT) ------------------------------------- */

static const char *human(long double v)
{
    static char buf[5 * 1024];
    size_t l = format_ld_human(buf, sizeof buf, v);
    cr_assert_eq(l, strlen(buf));
    return buf;
}

Test(format_ld_human, values)
{
    cr_assert_str_eq(human(3.0L), "3");
    cr_assert_str_eq(human(0.0L), "0");
    cr_assert_str_eq(human(-0.0L), "0");
    cr_assert_str_eq(human(1.5L), "1.5");
    cr_assert_str_eq(human(-2.5L), "-2.5");
    cr_assert_str_eq(human(100.0L), "100");
    cr_assert_str_eq(human(-100.0L), "-100");
    /* Too small for 17 decimals: becomes "0" (and "-0" becomes "0"). */
    cr_assert_str_eq(human(1e-18L), "0");
    cr_assert_str_eq(human(-1e-18L), "0");
}

Test(format_ld_human, incrbyfloat_results)
{
    long double a, b;
    /* SET x 10.5; INCRBYFLOAT x 0.1 -> "10.6" */
    cr_assert(ld("10.5", &a));
    cr_assert(ld("0.1", &b));
    cr_assert_str_eq(human(a + b), "10.6");
    /* SET y 0; INCRBYFLOAT y 5.0e3 -> "5000" */
    cr_assert(ld("0", &a));
    cr_assert(ld("5.0e3", &b));
    cr_assert_str_eq(human(a + b), "5000");
    /* INCRBYFLOAT y -5000 -> "0" */
    cr_assert(ld("-5000", &b));
    cr_assert_str_eq(human(a + 5000.0L + b), "0");
    /* 0x10 + 1 */
    cr_assert(ld("0x10", &a));
    cr_assert_str_eq(human(a + 1), "17");
}

Test(format_ld_human, inf_nan_and_room)
{
    char buf[64];
    cr_assert_eq(format_ld_human(buf, sizeof buf, (long double)INFINITY), 0);
    cr_assert_eq(format_ld_human(buf, sizeof buf, -(long double)INFINITY), 0);
    cr_assert_eq(format_ld_human(buf, sizeof buf, (long double)NAN), 0);
    /* "3.00000000000000000" needs 20 bytes before trimming. */
    cr_assert_eq(format_ld_human(buf, 19, 3.0L), 0);
    cr_assert_eq(format_ld_human(buf, 20, 3.0L), 1);
    cr_assert_str_eq(buf, "3");
    /* INCRBYFLOAT x 1e4000: 4000 digits, fits Redis's 5K buffer; these are
     * the bytes redis-server 7.0 replied with. */
    long double big;
    cr_assert(ld("1e4000", &big));
    const char *s = human(big + 1);
    cr_assert_eq(strlen(s), 4000);
    cr_assert(strncmp(s, "9999999999999999999965463873099623784932492583506957", 52) == 0);
    cr_assert_eq(format_ld_human(buf, sizeof buf, big), 0);
}

/* ---- format_double (replies) ------------------------------------------- */

static const char *fd(double v)
{
    static char buf[64];
    size_t l = format_double(buf, sizeof buf, v);
    cr_assert_eq(l, strlen(buf));
    return buf;
}

Test(format_double, values)
{
    cr_assert_str_eq(fd(3.0), "3");
    cr_assert_str_eq(fd(1.5), "1.5");
    cr_assert_str_eq(fd(0.1), "0.10000000000000001");
    cr_assert_str_eq(fd(-0.0), "-0");
    cr_assert_str_eq(fd(1e300), "1.0000000000000001e+300");
    cr_assert_str_eq(fd(4.9406564584124654e-324), "4.9406564584124654e-324");
    cr_assert_str_eq(fd(123456789012345678.0), "1.2345678901234568e+17");
    cr_assert_str_eq(fd(INFINITY), "inf");
    cr_assert_str_eq(fd(-INFINITY), "-inf");
    cr_assert_str_eq(fd(NAN), "nan");
    cr_assert_str_eq(fd(-NAN), "nan");
}

Test(format_double, round_trips_through_parse_double)
{
    double vals[] = {0.1, 1.0 / 3.0, -2.5e-300, 1.7976931348623157e308, 5e-324, 42.0};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        char buf[64];
        double back;
        size_t l = format_double(buf, sizeof buf, vals[i]);
        cr_assert(parse_double(buf, l, &back), "%s", buf);
        cr_assert_eq(back, vals[i], "%s", buf);
    }
}

static bool cursor(const char *s, size_t len, uint64_t *v) { return parse_scan_cursor(s, len, v); }

Test(numparse, scan_cursor_as_redis_strtoul) {
    uint64_t v = 99;
    cr_assert(cursor("", 0, &v) && v == 0, "empty is cursor 0");
    cr_assert(cursor("0", 1, &v) && v == 0);
    cr_assert(cursor("123", 3, &v) && v == 123);
    cr_assert(cursor("+5", 2, &v) && v == 5);
    cr_assert(cursor("-1", 2, &v) && v == UINT64_MAX, "'-' negates modulo 2^64");
    cr_assert(cursor("18446744073709551615", 20, &v) && v == UINT64_MAX);
    cr_assert_not(cursor("18446744073709551616", 20, &v), "overflow");
    cr_assert(cursor("12\0zz", 5, &v) && v == 12, "a NUL byte ends the string");
    cr_assert_not(cursor(" 1", 2, &v), "leading space");
    cr_assert_not(cursor("1 ", 2, &v), "trailing bytes");
    cr_assert_not(cursor("abc", 3, &v));
    cr_assert_not(cursor("-", 1, &v));
    char zeros[80];
    memset(zeros, '0', sizeof zeros);
    zeros[79] = '7';
    cr_assert(cursor(zeros, sizeof zeros, &v) && v == 7, "leading zeros of any length");
}
