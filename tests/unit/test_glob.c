/*
 * test_glob.c - unit tests for proto/glob.c (Redis stringmatchlen rules).
 * The quirky cases were checked against redis-server 7.0 (KEYS for the
 * case-sensitive rules, CONFIG GET for nocase).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "../../proto/glob.h"

static bool m(const char *pat, const char *str)
{
    return glob_match(pat, strlen(pat), str, strlen(str), false);
}

static bool mi(const char *pat, const char *str)
{
    return glob_match(pat, strlen(pat), str, strlen(str), true);
}

Test(glob, literals)
{
    cr_assert(m("hello", "hello"));
    cr_assert_not(m("hello", "hell"));
    cr_assert_not(m("hell", "hello"));
    cr_assert_not(m("hello", "Hello"));
    cr_assert(m("", ""));
    cr_assert_not(m("", "a"));
    cr_assert_not(m("a", ""));
}

Test(glob, star)
{
    cr_assert(m("*", "anything"));
    cr_assert(m("h*llo", "hllo"));
    cr_assert(m("h*llo", "heeeello"));
    cr_assert(m("*.txt", "file.txt"));
    cr_assert_not(m("*.txt", "file.txt2"));
    cr_assert(m("a*b*c", "aXbYc"));
    cr_assert(m("a*b*c", "abc"));
    cr_assert_not(m("a*b*c", "aXbY"));
    cr_assert(m("a*", "a"));
    cr_assert(m("a**", "a"));
    cr_assert(m("a**b", "ab"));
    cr_assert(m("*a", "aaaa"));
    cr_assert(m("*ab*cd", "xxabyyabcd"));
    cr_assert_not(m("*ab*cd", "xxabyyabc"));
    /* Redis never matches anything against an empty string, even '*'. */
    cr_assert_not(m("*", ""));
    cr_assert_not(m("**", ""));
}

Test(glob, question_mark)
{
    cr_assert(m("h?llo", "hello"));
    cr_assert(m("h?llo", "hallo"));
    cr_assert_not(m("h?llo", "hllo"));
    cr_assert(m("???", "abc"));
    cr_assert_not(m("???", "ab"));
    cr_assert(m("*?", "a"));
    cr_assert_not(m("?*", ""));
}

Test(glob, classes)
{
    cr_assert(m("h[ae]llo", "hello"));
    cr_assert(m("h[ae]llo", "hallo"));
    cr_assert_not(m("h[ae]llo", "hillo"));
    cr_assert(m("h[^e]llo", "hallo"));
    cr_assert_not(m("h[^e]llo", "hello"));
    cr_assert(m("h[a-b]llo", "hbllo"));
    cr_assert_not(m("h[a-b]llo", "hcllo"));
    cr_assert(m("[0-9][0-9]", "42"));
    /* Reversed ranges are swapped. */
    cr_assert(m("[b-a]", "a"));
    cr_assert(m("[b-a]", "b"));
    cr_assert_not(m("[b-a]", "c"));
    /* '!' is not a negation. */
    cr_assert(m("[!a]", "a"));
    cr_assert(m("[!a]", "!"));
    cr_assert_not(m("[!a]", "b"));
}

Test(glob, class_quirks)
{
    /* "[a-]" is the range 'a'..']' (swapped to ']'..'a'). */
    cr_assert(m("[a-]", "_"));
    cr_assert(m("[a-]", "]"));
    cr_assert(m("[a-]", "a"));
    cr_assert_not(m("[a-]", "b"));
    cr_assert_not(m("[a-]", "-"));
    /* Unterminated class: runs to the end of the pattern. */
    cr_assert(m("[abc", "c"));
    cr_assert_not(m("[abc", "d"));
    cr_assert_not(m("[", "["));
    cr_assert(m("[^", "x"));
    /* "[]" and "[]]" can never match: the first ']' closes the class. */
    cr_assert_not(m("[]", "]"));
    cr_assert_not(m("[]]", "]"));
    /* Escapes inside a class. */
    cr_assert(m("[\\]]", "]"));
    cr_assert(m("[\\-]", "-"));
    cr_assert(m("[\\", "\\"));
}

Test(glob, escapes)
{
    cr_assert(m("\\*", "*"));
    cr_assert_not(m("\\*", "a"));
    cr_assert(m("\\?", "?"));
    cr_assert_not(m("\\?", "x"));
    cr_assert(m("a\\[b", "a[b"));
    /* A trailing backslash is a literal backslash. */
    cr_assert(m("\\", "\\"));
    cr_assert(m("a\\", "a\\"));
    cr_assert_not(m("a\\", "a"));
}

Test(glob, nocase)
{
    cr_assert(mi("HELLO", "hello"));
    cr_assert_not(m("HELLO", "hello"));
    cr_assert(mi("h?LLo", "HeLlO"));
    cr_assert(mi("[A-Z]x", "qX"));
    cr_assert(mi("[l-n]axmemory", "MAXMEMORY"));
    cr_assert(mi("[M]axmemory", "maxmemory"));
    /* An escaped byte inside a class is compared exactly, even nocase. */
    cr_assert_not(mi("[\\M]axmemory", "maxmemory"));
    cr_assert(mi("[^a]", "B"));
    cr_assert_not(mi("[^a]", "A"));
}

Test(glob, binary)
{
    cr_assert(glob_match("a\0*", 3, "a\0bc", 4, false));
    cr_assert_not(glob_match("a\0*", 3, "a\1bc", 4, false));
    cr_assert(glob_match("?", 1, "\0", 1, false));
    cr_assert(glob_match("[\xe0-\xef]", 5, "\xe9", 1, false));
    cr_assert_not(glob_match("[\xe0-\xef]", 5, "\xf0", 1, false));
    /* The pattern length decides, not a NUL terminator. */
    cr_assert(glob_match("abXYZ", 2, "ab", 2, false));
}

Test(glob, many_stars_is_fast, .timeout = 5)
{
    static char s[100000];
    memset(s, 'a', sizeof s);
    const char *pat = "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
    cr_assert_not(glob_match(pat, strlen(pat), s, sizeof s, false));
    s[sizeof s - 1] = 'b';
    cr_assert(glob_match(pat, strlen(pat), s, sizeof s, false));

    /* A long pattern made of many stars must not recurse or blow up. */
    static char p2[200001];
    for (size_t i = 0; i < 100000; i++) {
        p2[2 * i] = '*';
        p2[2 * i + 1] = 'a';
    }
    p2[200000] = 'c';
    cr_assert_not(glob_match(p2, sizeof p2, s, sizeof s, false));
}
