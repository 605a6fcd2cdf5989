/*
 * glob.c - owns glob_match(), a byte-for-byte reimplementation of Redis 7.0's
 * stringmatchlen() (KEYS, SCAN MATCH, CONFIG GET, PSUBSCRIBE patterns).
 *
 * Redis recurses once per '*' and, since 7.0, stops early once the pattern
 * after a '*' has failed at every later string position (skipLongerMatches).
 * With that rule only the most recent '*' ever needs to be retried, so this
 * version is iterative with a single backtrack point: same answers, bounded
 * O(plen * slen) time and no recursion depth to overflow the stack.
 */
#include "glob.h"

/* C-locale tolower on a (possibly negative, i.e. signed-char) value, as
 * Redis's tolower((int)c) behaves with the default locale. */
static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* Match the single non-'*' token at pattern[pi] against byte ch. Every such
 * token consumes exactly one string byte. *next gets the index just past the
 * token; the pattern bytes consumed do not depend on ch. */
static bool token_match(const char *pattern, size_t plen, size_t pi, char ch, bool nocase,
                        size_t *next)
{
    /* Redis compares plain (signed on x86-64) chars; keep that for ranges. */
    int c = (signed char)ch;

    switch (pattern[pi]) {
    case '?':
        *next = pi + 1;
        return true;

    case '[': {
        size_t i = pi + 1;
        bool not = false, match = false;

        if (i < plen && pattern[i] == '^') {
            not = true;
            i++;
        }
        for (;;) {
            size_t rem = plen - i;
            if (rem == 0) {
                /* Unterminated class: it ends at the last pattern byte. */
                i--;
                break;
            } else if (pattern[i] == '\\' && rem >= 2) {
                i++;
                if (pattern[i] == ch)
                    match = true;
            } else if (pattern[i] == ']') {
                break;
            } else if (rem >= 3 && pattern[i + 1] == '-') {
                int start = (signed char)pattern[i];
                int end = (signed char)pattern[i + 2];
                int cc = c;
                if (start > end) {
                    int t = start;
                    start = end;
                    end = t;
                }
                if (nocase) {
                    start = lower(start);
                    end = lower(end);
                    cc = lower(cc);
                }
                i += 2;
                if (cc >= start && cc <= end)
                    match = true;
            } else {
                if (!nocase) {
                    if (pattern[i] == ch)
                        match = true;
                } else {
                    if (lower((signed char)pattern[i]) == lower(c))
                        match = true;
                }
            }
            i++;
        }
        *next = i + 1;
        if (not)
            match = !match;
        return match;
    }

    case '\\':
        if (plen - pi >= 2)
            pi++;
        /* fall through */
    default:
        *next = pi + 1;
        if (!nocase)
            return pattern[pi] == ch;
        return lower((signed char)pattern[pi]) == lower(c);
    }
}

bool glob_match(const char *pattern, size_t plen, const char *str, size_t slen, bool nocase)
{
    size_t p = 0, s = 0, next;
    size_t star_p = 0, star_s = 0; /* pattern index after the last '*', and
                                      the string index its tail was tried at */
    bool have_star = false;

    /* Redis never enters its loop for an empty string: "" matches only "". */
    if (slen == 0)
        return plen == 0;

    for (;;) {
        /* Invariant: s < slen. */
        if (p == plen)
            goto backtrack; /* pattern used up, string left over */

        if (pattern[p] == '*') {
            while (p + 1 < plen && pattern[p + 1] == '*')
                p++;
            if (p + 1 == plen)
                return true; /* trailing '*' matches the rest */
            have_star = true;
            star_p = p + 1;
            star_s = s;
            p = star_p;
            continue;
        }

        if (!token_match(pattern, plen, p, str[s], nocase, &next))
            goto backtrack;
        p = next;
        s++;
        if (s == slen) {
            while (p < plen && pattern[p] == '*')
                p++;
            if (p == plen)
                return true;
            goto backtrack;
        }
        continue;

    backtrack:
        /* Retry the tail after the last '*' one byte further on; an earlier
         * '*' never needs retrying (Redis's skipLongerMatches). The tail is
         * only ever tried against non-empty remainders, as in Redis. */
        if (!have_star)
            return false;
        star_s++;
        if (star_s >= slen)
            return false;
        p = star_p;
        s = star_s;
    }
}
