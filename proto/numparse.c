/*
 * numparse.c - owns Redis's exact number parsing (string2ll, string2ld,
 * string2d / getDoubleFromObject) and number formatting (ll2string,
 * ld2string LD_STR_HUMAN, addReplyDouble's "%.17g") rules.
 */
#include "numparse.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto_alloc.h"

#define LONG_STR_SIZE 21                 /* Redis: bytes for a long long + NUL */
#define MAX_LONG_DOUBLE_CHARS (5 * 1024) /* Redis: buffer size for long doubles */

bool parse_ll(const char *s, size_t slen, long long *out)
{
    const char *p = s;
    size_t plen = 0;
    bool negative = false;
    unsigned long long v;

    /* Empty or too long for a long long. */
    if (slen == 0 || slen >= LONG_STR_SIZE)
        return false;

    /* Special case: first and only digit is 0. */
    if (slen == 1 && p[0] == '0') {
        if (out)
            *out = 0;
        return true;
    }

    if (p[0] == '-') {
        negative = true;
        p++;
        plen++;
        if (plen == slen) /* only a '-' */
            return false;
    }

    /* First digit must be 1-9 (so "01" and "-0" are rejected). */
    if (p[0] >= '1' && p[0] <= '9') {
        v = (unsigned long long)(p[0] - '0');
        p++;
        plen++;
    } else {
        return false;
    }

    while (plen < slen && p[0] >= '0' && p[0] <= '9') {
        if (v > (ULLONG_MAX / 10))
            return false;
        v *= 10;
        if (v > (ULLONG_MAX - (unsigned long long)(p[0] - '0')))
            return false;
        v += (unsigned long long)(p[0] - '0');
        p++;
        plen++;
    }

    /* Trailing garbage. */
    if (plen < slen)
        return false;

    if (negative) {
        if (v > ((unsigned long long)(-(LLONG_MIN + 1)) + 1))
            return false;
        if (out)
            *out = (v == ((unsigned long long)LLONG_MAX) + 1) ? LLONG_MIN : -(long long)v;
    } else {
        if (v > (unsigned long long)LLONG_MAX)
            return false;
        if (out)
            *out = (long long)v;
    }
    return true;
}

bool parse_ld(const char *s, size_t slen, long double *out)
{
    char buf[MAX_LONG_DOUBLE_CHARS];
    long double value;
    char *eptr;

    if (slen == 0 || slen >= sizeof(buf))
        return false;
    memcpy(buf, s, slen);
    buf[slen] = '\0';

    errno = 0;
    value = strtold(buf, &eptr);
    if (isspace((unsigned char)buf[0]) || eptr[0] != '\0' || (size_t)(eptr - buf) != slen ||
        (errno == ERANGE && (isinf(value) || fpclassify(value) == FP_ZERO)) || errno == EINVAL ||
        isnan(value))
        return false;

    if (out)
        *out = value;
    return true;
}

bool parse_double(const char *s, size_t slen, double *out)
{
    char stackbuf[128];
    char *buf = stackbuf;
    char *eptr;
    double value;
    bool ok;

    if (slen == 0)
        return false;
    if (slen >= sizeof(stackbuf))
        buf = proto_realloc(NULL, slen + 1);
    memcpy(buf, s, slen);
    buf[slen] = '\0';

    errno = 0;
    value = strtod(buf, &eptr);
    ok = !(isspace((unsigned char)buf[0]) || (size_t)(eptr - buf) != slen ||
           (errno == ERANGE && (isinf(value) || fpclassify(value) == FP_ZERO)) || isnan(value));

    if (buf != stackbuf)
        proto_free(buf);
    if (ok && out)
        *out = value;
    return ok;
}

size_t format_ll(char *buf, size_t buflen, long long value)
{
    char tmp[32], *p;
    unsigned long long v;
    size_t l;

    if (buflen == 0)
        return 0;
    v = (value < 0) ? (unsigned long long)0 - (unsigned long long)value : (unsigned long long)value;
    p = tmp + sizeof(tmp);
    do {
        *--p = (char)('0' + (v % 10));
        v /= 10;
    } while (v);
    if (value < 0)
        *--p = '-';
    l = (size_t)(tmp + sizeof(tmp) - p);
    if (l + 1 > buflen) /* truncate like Redis's ll2string */
        l = buflen - 1;
    memcpy(buf, p, l);
    buf[l] = '\0';
    return l;
}

size_t format_ld_human(char *buf, size_t buflen, long double value)
{
    int n;
    size_t l;

    if (buflen == 0)
        return 0;
    if (isnan(value) || isinf(value)) {
        buf[0] = '\0';
        return 0;
    }
    /* 17 digits after the point: with 128-bit (x87 80-bit) long doubles this
     * prints most short decimals exactly as the user typed them. */
    n = snprintf(buf, buflen, "%.17Lf", value);
    if (n < 0 || (size_t)n + 1 > buflen) {
        buf[0] = '\0';
        return 0;
    }
    l = (size_t)n;
    /* Remove trailing zeros after the '.', then a trailing '.'. */
    if (memchr(buf, '.', l) != NULL) {
        while (l > 0 && buf[l - 1] == '0')
            l--;
        if (l > 0 && buf[l - 1] == '.')
            l--;
    }
    if (l == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        l = 1;
    }
    buf[l] = '\0';
    return l;
}

static size_t copy_str(char *buf, size_t buflen, const char *s)
{
    size_t l = strlen(s);
    if (buflen == 0)
        return 0;
    if (l + 1 > buflen)
        l = buflen - 1;
    memcpy(buf, s, l);
    buf[l] = '\0';
    return l;
}

size_t format_double(char *buf, size_t buflen, double v)
{
    int n;

    if (isinf(v))
        return copy_str(buf, buflen, v > 0 ? "inf" : "-inf");
    if (isnan(v))
        return copy_str(buf, buflen, "nan");
    if (buflen == 0)
        return 0;
    n = snprintf(buf, buflen, "%.17g", v);
    if (n < 0) {
        buf[0] = '\0';
        return 0;
    }
    return (size_t)n + 1 > buflen ? buflen - 1 : (size_t)n;
}

bool parse_scan_cursor(const char *s, size_t len, uint64_t *out) {
    const char *p = s, *end = s + len;
    for (const char *q = p; q < end; q++)
        if (*q == '\0') {
            end = q;
            break;
        }
    if (p == end) {
        *out = 0;
        return true;
    }
    if (*p == ' ' || (*p >= '\t' && *p <= '\r')) return false;
    bool neg = false;
    if (*p == '+' || *p == '-') neg = *p++ == '-';
    if (p == end) return false;
    uint64_t v = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9') return false;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = neg ? (uint64_t)0 - v : v;
    return true;
}
