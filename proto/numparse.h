/*
 * numparse.h - Redis's exact number parsing and formatting rules.
 *
 * Parsing is strict like Redis's string2ll / string2ld: no leading spaces or
 * '+', no leading zeros ("01" is not an integer, "0" and "-0"? see below), no
 * trailing garbage, overflow rejected. Formatting matches what Redis prints
 * (INCRBYFLOAT results, RESP3 doubles, scores).
 */
#ifndef NUMPARSE_H
#define NUMPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Redis string2ll: decimal, optional leading '-', no '+', no spaces, no
 * leading zeros except "0" itself, range of long long, len 1..20 (and
 * "-0" is rejected). */
bool parse_ll(const char *s, size_t len, long long *out);

/* Redis string2ld: strtold on the whole string; rejects empty input, leading
 * whitespace, trailing bytes, NaN, and len > 5 * 1024 (MAX_LONG_DOUBLE_CHARS). */
bool parse_ld(const char *s, size_t len, long double *out);

/* Redis string2d / getDoubleFromObject rules: strtod on the whole string,
 * no leading space, no trailing bytes, NaN rejected, "inf"/"-inf"/"+inf" and
 * their spellings accepted as strtod accepts them. */
bool parse_double(const char *s, size_t len, double *out);

/* A SCAN-family cursor as Redis parses it (strtoul over the C string): no
 * leading space, an optional sign ('-' negates modulo 2^64), decimal digits
 * and nothing after them; an empty string is cursor 0; overflow is an
 * error; a NUL byte ends the string. */
bool parse_scan_cursor(const char *s, size_t len, uint64_t *out);

/* long long -> decimal. Returns the length written (buf gets a NUL); buf must
 * hold at least 21 bytes. */
size_t format_ll(char *buf, size_t buflen, long long v);

/* Redis ld2string(..., LD_STR_HUMAN): "%.17Lf" then trailing zeros and a
 * trailing '.' removed; "-0" printed as "0"; returns 0 if value is NaN/inf
 * or does not fit. Used for INCRBYFLOAT replies and stored values. */
size_t format_ld_human(char *buf, size_t buflen, long double v);

/* Redis's double formatting for replies (addReplyDouble / RESP3 ','): "inf",
 * "-inf", "nan" and otherwise "%.17g". Returns the length written. */
size_t format_double(char *buf, size_t buflen, double v);

#endif
