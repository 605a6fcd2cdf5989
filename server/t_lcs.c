/*
 * t_lcs.c - LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]:
 * the longest common subsequence of two string values.
 *
 * Design choices a reader must know:
 * - The classic O(n*m) dynamic programme over a table of 32-bit lengths,
 *   as Redis 7.0: the table is refused when it would exceed
 *   proto-max-bulk-len ("transient memory for LCS"), or when it cannot be
 *   allocated, with Redis's errors; strings of 2^32-1 bytes or more are
 *   refused ("String too long for LCS").
 * - The walk back from the table's corner follows Redis's exact state
 *   machine (which direction it takes on equal lengths, when a range is
 *   closed), so that the string and the IDX ranges are byte for byte
 *   Redis's, including a match that does not continue a range being left
 *   out of every range, as Redis 7.0 does.
 * - Missing keys read as empty strings; a key of another type gets Redis's
 *   own error text, not WRONGTYPE. Read-only: nothing goes through the
 *   write funnel.
 */
#include "client.h"
#include "command_modules.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "entry.h"
#include "mem.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint32_t a0, a1, b0, b1, len;
} lcs_range;

/* The string value of argv[i] copied into *out (empty when missing); false
 * when the key holds another type. */
static bool lcs_value(client *c, int i, char **out, size_t *len) {
    dbkey k;
    dbkey_init(&k, c->db, c->argv[i].ptr, c->argv[i].len);
    entry *e = db_lookup(&k, LOOKUP_READ, NULL);
    *out = NULL;
    *len = 0;
    if (!e) return true;
    if (entry_type(e) != OBJ_STRING) return false;
    char buf[32];
    const char *v = entry_string_value(e, buf, len);
    *out = mem_alloc(*len + 1);
    memcpy(*out, v, *len);
    return true;
}

static void lcs_command(client *c) {
    bool getlen = false, getidx = false, withmatchlen = false;
    long long minmatchlen = 0;
    char *a = NULL, *b = NULL;
    size_t alen_sz, blen_sz;
    uint32_t *t = NULL;
    lcs_range *ranges = NULL;
    char *result = NULL;
    /* Both lookups first, as Redis: one type error covers either key. */
    bool ok_a = lcs_value(c, 1, &a, &alen_sz), ok_b = lcs_value(c, 2, &b, &blen_sz);
    if (!ok_a || !ok_b) {
        add_reply_error(c, "ERR The specified keys must contain string values");
        goto done;
    }
    for (int j = 3; j < c->argc; j++) {
        const arg_t *opt = &c->argv[j];
        bool more = j < c->argc - 1;
        if (arg_eq(opt, "idx")) {
            getidx = true;
        } else if (arg_eq(opt, "len")) {
            getlen = true;
        } else if (arg_eq(opt, "withmatchlen")) {
            withmatchlen = true;
        } else if (arg_eq(opt, "minmatchlen") && more) {
            if (!arg_ll_or_reply(c, &c->argv[j + 1], &minmatchlen, NULL)) goto done;
            if (minmatchlen < 0) minmatchlen = 0;
            j++;
        } else {
            add_reply_error(c, ERR_SYNTAX);
            goto done;
        }
    }
    if (getlen && getidx) {
        add_reply_error(c, "ERR If you want both the length and indexes, please just use IDX.");
        goto done;
    }
    if (alen_sz >= UINT32_MAX - 1 || blen_sz >= UINT32_MAX - 1) {
        add_reply_error(c, "ERR String too long for LCS");
        goto done;
    }
    uint32_t alen = (uint32_t)alen_sz, blen = (uint32_t)blen_sz;
    unsigned long long cells = (unsigned long long)(alen + 1) * (blen + 1);
    unsigned long long bytes = cells * sizeof(uint32_t);
    if (cells > ULLONG_MAX / sizeof(uint32_t) || bytes > (unsigned long long)cfg_get(proto_max_bulk_len)) {
        add_reply_error(c, "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
        goto done;
    }
    t = mem_try_alloc((size_t)bytes);
    if (!t) {
        add_reply_error(c, "ERR Insufficient memory, failed allocating transient memory for LCS");
        goto done;
    }
#define LCS(i, j) t[(size_t)(j) + (size_t)(i) * (blen + 1)]
    for (uint32_t j = 0; j <= blen; j++) LCS(0, j) = 0;
    for (uint32_t i = 1; i <= alen; i++) {
        LCS(i, 0) = 0;
        uint32_t *row = &LCS(i, 0), *up = &LCS(i - 1, 0);
        char ai = a[i - 1];
        for (uint32_t j = 1; j <= blen; j++) {
            if (ai == b[j - 1])
                row[j] = up[j - 1] + 1;
            else
                row[j] = up[j] > row[j - 1] ? up[j] : row[j - 1];
        }
    }

    uint32_t total = LCS(alen, blen), idx = total;
    bool compute = getidx || !getlen;
    if (compute) result = mem_alloc(total + 1);
    size_t nranges = 0, cap = 0;
    uint32_t as = alen, ae = 0, bs = 0, be = 0; /* as == alen: no range open */
    uint32_t i = alen, j = blen;
    while (compute && i > 0 && j > 0) {
        bool emit = false;
        if (a[i - 1] == b[j - 1]) {
            result[idx - 1] = a[i - 1];
            if (as == alen) {
                as = ae = i - 1;
                bs = be = j - 1;
            } else if (as == i && bs == j) {
                as--;
                bs--;
            } else {
                emit = true;
            }
            if (as == 0 || bs == 0) emit = true;
            idx--;
            i--;
            j--;
        } else {
            if (LCS(i - 1, j) > LCS(i, j - 1))
                i--;
            else
                j--;
            if (as != alen) emit = true;
        }
        uint32_t mlen = ae - as + 1;
        if (emit) {
            if (getidx && (minmatchlen == 0 || mlen >= minmatchlen)) {
                if (nranges == cap) {
                    cap = cap ? cap * 2 : 16;
                    ranges = mem_realloc(ranges, cap * sizeof *ranges);
                }
                ranges[nranges++] = (lcs_range){as, ae, bs, be, mlen};
            }
            as = alen;
        }
    }
#undef LCS

    if (getidx) {
        add_reply_map(c, 2);
        add_reply_bulk_cstr(c, "matches");
        add_reply_array(c, (long long)nranges);
        for (size_t r = 0; r < nranges; r++) {
            add_reply_array(c, withmatchlen ? 3 : 2);
            add_reply_array(c, 2);
            add_reply_integer(c, ranges[r].a0);
            add_reply_integer(c, ranges[r].a1);
            add_reply_array(c, 2);
            add_reply_integer(c, ranges[r].b0);
            add_reply_integer(c, ranges[r].b1);
            if (withmatchlen) add_reply_integer(c, ranges[r].len);
        }
        add_reply_bulk_cstr(c, "len");
        add_reply_integer(c, total);
    } else if (getlen) {
        add_reply_integer(c, total);
    } else {
        add_reply_bulk(c, result, total);
    }
done:
    mem_free(t);
    mem_free(ranges);
    mem_free(result);
    mem_free(a);
    mem_free(b);
}

command lcs_commands[] = {
    {.name = "lcs", .arity = -3, .flags = CMD_READONLY, .first_key = 1, .last_key = 2, .key_step = 1,
     .proc = lcs_command, .group = "string", .since = "7.0.0", .summary = "Find longest common substring",
     .complexity = "O(N*M) where N and M are the lengths of s1 and s2, respectively",
     .acl_categories = "read string slow"},
    {.name = NULL},
};
