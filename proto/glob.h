/*
 * glob.h - Redis's glob-style pattern matching (stringmatchlen): '*', '?',
 * '[...]' with ranges and '^' negation, '\' escapes; optional case folding.
 * Used by KEYS, SCAN MATCH, CONFIG GET, PSUBSCRIBE.
 */
#ifndef GLOB_H
#define GLOB_H

#include <stdbool.h>
#include <stddef.h>

bool glob_match(const char *pattern, size_t plen, const char *str, size_t slen, bool nocase);

#endif
