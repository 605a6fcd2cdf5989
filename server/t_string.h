/*
 * t_string.h - what the string commands (t_string.c) share with the other
 * modules that build string values: the bitmap commands (t_bitmap.c).
 */
#ifndef T_STRING_H
#define T_STRING_H

#include "db.h"

#include <stddef.h>

/* A raw string entry for k of max(olen, offset + alen) bytes: the old value
 * `ov` (olen bytes), zero padding up to `offset`, then `add` (alen bytes) at
 * `offset`. `expire` is the entry's expire time (-1: none). APPEND,
 * SETRANGE and a bitmap grown by SETBIT / BITFIELD (alen 0). */
entry *str_build_raw(const dbkey *k, const char *ov, size_t olen, size_t offset, const char *add, size_t alen,
                     long long expire);

#endif
