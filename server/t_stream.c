/*
 * t_stream.c - the stream commands but for consumer groups: XADD, XLEN,
 * XRANGE, XREVRANGE, XDEL, XTRIM, XSETID, XREAD (blocking too) and XINFO
 * (its group parts are t_stream_group.c's, through t_stream.h); the
 * OBJ_STREAM type hooks. The value itself is stream.c.
 *
 * Design choices a reader must know:
 * - Replies, errors and edge cases are Redis 7.0.15's t_stream.c: IDs are
 *   parsed by its rules (string2ull, so " 5" and "+5" are valid numbers,
 *   `ms-*` only where XADD allows it, 127 bytes at most), incomplete IDs
 *   take seq 0 as a start and UINT64_MAX as an end.
 * - Writes go through the write funnel with Redis's events ("xadd",
 *   "xtrim", "xdel", "xsetid"); XADD propagates with the generated ID in
 *   place of `*` / `ms-*`, and approximate trimming (XADD or XTRIM with
 *   `~`) propagates as `= <what is left>`: MAXLEN = the length after
 *   trimming, MINID = the first entry's ID, tombstones included (Redis's
 *   streamRewriteApproxSpecifier / streamRewriteTrimArgument).
 * - XREAD BLOCK blocks through blocking.c (see blocking.h, "Streams"): `$`
 *   is saved as the last ID it meant at block time, and a re-run after a
 *   wake-up serves only the first signalled stream, as Redis does.
 * - XINFO STREAM's radix-tree-keys is the node count (Redis's listpacks),
 *   and radix-tree-nodes the node count of the radix tree Redis would build
 *   over the nodes' 128-bit big-endian master IDs (see rax_nodes).
 */
#include "blocking.h"
#include "client.h"
#include "command_modules.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "entry.h"
#include "mem.h"
#include "multi.h"
#include "notify.h"
#include "numparse.h"
#include "propagate.h"
#include "stream.h"
#include "stream_group.h"
#include "t_stream.h"
#include "types.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ERR_INVALID_ID STREAM_ERR_INVALID_ID
#define STREAM_ID_STATIC 8

/* ---------------------------------------------------------------- type hooks */

static void ops_free(void *ptr) { stream_free(ptr); }
static void *ops_dup(const void *ptr) { return stream_dup(ptr); }
static size_t ops_mem(const void *ptr) { return stream_mem(ptr); }
/* Redis's lazy-free effort for a stream: its listpack count. */
static size_t ops_length(const void *ptr) { return stream_node_count(ptr); }
static const entry_type_ops stream_ops = {
    .free_value = ops_free,
    .dup_value = ops_dup,
    .value_mem = ops_mem,
    .length = ops_length,
};

void t_stream_init(void) { entry_register_type(OBJ_STREAM, &stream_ops); }

/* ---------------------------------------------------------------- IDs */

/* Redis's string2ull: string2ll, else strtoull on the whole string. */
static bool parse_ull_redis(const char *s, uint64_t *v) {
    long long ll;
    size_t len = strlen(s);
    if (parse_ll(s, len, &ll)) {
        if (ll < 0) return false;
        *v = (uint64_t)ll;
        return true;
    }
    errno = 0;
    char *end = NULL;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno == EINVAL || errno == ERANGE || !(*s != '\0' && *end == '\0')) return false;
    *v = x;
    return true;
}

/* Redis's streamGenericParseIDOrReply. seq_given NULL: `ms-*` is invalid. */
static bool parse_id(client *c, const char *p, size_t len, stream_id *id, uint64_t missing_seq, bool strict,
                     bool *seq_given) {
    char buf[128];
    if (len > sizeof buf - 1) goto invalid;
    memcpy(buf, p, len);
    buf[len] = '\0';
    if (strict && (buf[0] == '-' || buf[0] == '+') && buf[1] == '\0') goto invalid;
    if (seq_given) *seq_given = true;
    if (buf[0] == '-' && buf[1] == '\0') {
        *id = (stream_id){0, 0};
        return true;
    }
    if (buf[0] == '+' && buf[1] == '\0') {
        *id = (stream_id){UINT64_MAX, UINT64_MAX};
        return true;
    }
    uint64_t ms, seq;
    char *dot = strchr(buf, '-');
    if (dot) *dot = '\0';
    if (!parse_ull_redis(buf, &ms)) goto invalid;
    if (dot) {
        if (seq_given && dot[1] == '*' && dot[2] == '\0') {
            seq = 0;
            *seq_given = false;
        } else if (!parse_ull_redis(dot + 1, &seq)) {
            goto invalid;
        }
    } else {
        seq = missing_seq;
    }
    id->ms = ms;
    id->seq = seq;
    return true;
invalid:
    if (c) add_reply_error(c, ERR_INVALID_ID);
    return false;
}

static bool parse_id_arg(client *c, const arg_t *a, stream_id *id, uint64_t missing_seq, bool strict) {
    return parse_id(c, a->ptr, a->len, id, missing_seq, strict, NULL);
}

/* A range bound, "(" for exclusive (Redis's streamParseIntervalIDOrReply). */
static bool parse_interval(client *c, const arg_t *a, stream_id *id, bool *exclude, uint64_t missing_seq) {
    *exclude = a->len > 1 && a->ptr[0] == '(';
    if (*exclude) return parse_id(c, a->ptr + 1, a->len - 1, id, missing_seq, true, NULL);
    return parse_id(c, a->ptr, a->len, id, missing_seq, false, NULL);
}

static void reply_id(client *c, const stream_id *id) {
    char buf[48];
    size_t n = stream_id_format(id, buf);
    add_reply_bulk(c, buf, n);
}

/* ---------------------------------------------------------------- lookup */

/* argv[i] as a stream for reading: false after WRONGTYPE; *s NULL when absent. */
static bool stream_read(client *c, int i, const stream **s) {
    dbkey k;
    dbkey_init(&k, c->db, c->argv[i].ptr, c->argv[i].len);
    entry *e = db_lookup(&k, LOOKUP_READ, NULL);
    *s = NULL;
    if (!e) return true;
    if (reply_wrong_type(c, e, OBJ_STREAM)) return false;
    *s = entry_ptr(e);
    return true;
}

/* argv[1] for writing: false after WRONGTYPE; *s NULL when absent. */
static bool stream_write(client *c, dbkey *k, stream **s) {
    dbkey_init(k, c->db, c->argv[1].ptr, c->argv[1].len);
    entry *e = db_lookup(k, LOOKUP_WRITE, NULL);
    *s = NULL;
    if (!e) return true;
    if (reply_wrong_type(c, e, OBJ_STREAM)) return false;
    *s = entry_ptr(e);
    return true;
}

/* argv[1] for writing when it exists: false after replying WRONGTYPE, or 0
 * when absent (XDEL, XTRIM). */
static bool stream_write_or_zero(client *c, dbkey *k, stream **s) {
    if (!stream_write(c, k, s)) return false;
    if (*s) return true;
    add_reply_integer(c, 0);
    return false;
}

/* ---------------------------------------------------------------- replies */

static void reply_entry(client *c, stream_iter *it, const stream_id *id, int64_t nf) {
    add_reply_array(c, 2);
    reply_id(c, id);
    add_reply_array(c, nf * 2);
    while (nf--) {
        const char *f, *v;
        size_t flen, vlen;
        stream_iter_field(it, &f, &flen, &v, &vlen);
        add_reply_bulk(c, f, flen);
        add_reply_bulk(c, v, vlen);
    }
}

/* An entry found by a first pass, replied by the second. */
typedef struct {
    stream_id id;
    int64_t nf;
    uint32_t node;
    bool samefields;
    size_t fpos, mpos;
} found_entry;

/* Entries in [start, end] (count 0: all) as an array; returns how many.
 * One pass finds them (the array's length comes first), the reply then
 * reads their fields from the positions found; fn, if given, is called
 * after each entry's reply (XREADGROUP's group bookkeeping). */
static size_t reply_range_fn(client *c, const stream *s, const stream_id *start, const stream_id *end, size_t count,
                             bool rev, t_stream_entry_fn *fn, void *arg) {
    stream_iter it;
    stream_id id;
    int64_t nf;
    found_entry local[32], *found = local;
    size_t n = 0, cap = 32;
    stream_iter_start(&it, s, start, end, rev);
    while ((!count || n < count) && stream_iter_next(&it, &id, &nf)) {
        if (n == cap) {
            cap *= 2;
            if (found == local) {
                found = mem_alloc(sizeof *found * cap);
                memcpy(found, local, sizeof local);
            } else {
                found = mem_realloc(found, sizeof *found * cap);
            }
        }
        found[n++] = (found_entry){id, nf, it.node, it.samefields, it.fpos, it.mpos};
    }
    add_reply_array(c, (long long)n);
    for (size_t i = 0; i < n; i++) {
        it.node = found[i].node;
        it.samefields = found[i].samefields;
        it.fpos = found[i].fpos;
        it.mpos = found[i].mpos;
        reply_entry(c, &it, &found[i].id, found[i].nf);
        if (fn) fn(&found[i].id, arg);
    }
    stream_iter_stop(&it);
    if (found != local) mem_free(found);
    return n;
}

static size_t reply_range(client *c, const stream *s, const stream_id *start, const stream_id *end, size_t count,
                          bool rev) {
    return reply_range_fn(c, s, start, end, count, rev, NULL, NULL);
}

/* The first (or last) entry alone, or a null (XINFO STREAM). */
static void reply_edge_entry(client *c, const stream *s, bool last) {
    stream_iter it;
    stream_id id;
    int64_t nf;
    stream_iter_start(&it, s, NULL, NULL, last);
    if (stream_iter_next(&it, &id, &nf))
        reply_entry(c, &it, &id, nf);
    else
        add_reply_null(c);
    stream_iter_stop(&it);
}

/* ---------------------------------------------------------------- XADD / XTRIM */

typedef struct {
    stream_id id;
    bool id_given, seq_given, no_mkstream;
    stream_trim_args trim;
    int trim_arg_idx; /* the MAXLEN count / MINID id argument */
} add_trim_args;

/* Redis's streamParseAddOrTrimArgsOrReply: the ID's index (XADD) or -1
 * after replying. */
static int parse_add_trim(client *c, add_trim_args *a, bool xadd) {
    memset(a, 0, sizeof *a);
    int i = 2;
    bool limit_given = false;
    for (; i < c->argc; i++) {
        int moreargs = c->argc - 1 - i;
        const arg_t *opt = &c->argv[i];
        if (xadd && opt->len == 1 && opt->ptr[0] == '*') {
            break;
        } else if ((arg_eq(opt, "maxlen") || arg_eq(opt, "minid")) && moreargs) {
            bool maxlen = arg_eq(opt, "maxlen");
            if (a->trim.strategy != STREAM_TRIM_NONE) {
                add_reply_error(c, "ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
                return -1;
            }
            /* MAXLEN|MINID [~|=] <threshold> */
            a->trim.approx = false;
            const arg_t *next = &c->argv[i + 1];
            if (moreargs >= 2 && next->len == 1 && (next->ptr[0] == '~' || next->ptr[0] == '=')) {
                a->trim.approx = next->ptr[0] == '~';
                i++;
            }
            if (maxlen) {
                if (!arg_ll_or_reply(c, &c->argv[i + 1], &a->trim.maxlen, NULL)) return -1;
                if (a->trim.maxlen < 0) {
                    add_reply_error(c, "ERR The MAXLEN argument must be >= 0.");
                    return -1;
                }
            } else if (!parse_id_arg(c, &c->argv[i + 1], &a->trim.minid, 0, true)) {
                return -1;
            }
            i++;
            a->trim.strategy = maxlen ? STREAM_TRIM_MAXLEN : STREAM_TRIM_MINID;
            a->trim_arg_idx = i;
        } else if (arg_eq(opt, "limit") && moreargs) {
            if (!arg_ll_or_reply(c, &c->argv[i + 1], &a->trim.limit, NULL)) return -1;
            if (a->trim.limit < 0) {
                add_reply_error(c, "ERR The LIMIT argument must be >= 0.");
                return -1;
            }
            limit_given = true;
            i++;
        } else if (xadd && arg_eq(opt, "nomkstream")) {
            a->no_mkstream = true;
        } else if (xadd) {
            if (!parse_id(c, opt->ptr, opt->len, &a->id, 0, true, &a->seq_given)) return -1;
            a->id_given = true;
            break;
        } else {
            add_reply_error(c, ERR_SYNTAX);
            return -1;
        }
    }
    if (a->trim.limit && a->trim.strategy == STREAM_TRIM_NONE) {
        add_reply_error(c, "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
        return -1;
    }
    if (!xadd && a->trim.strategy == STREAM_TRIM_NONE) {
        add_reply_error(c, "ERR syntax error, XTRIM must be called with a trimming strategy");
        return -1;
    }
    if (c->flags & CF_MASTER) {
        a->trim.limit = 0; /* the master rewrote the argument: trim as told */
    } else if (limit_given) {
        if (!a->trim.approx) {
            add_reply_error(c, "ERR syntax error, LIMIT cannot be used without the special ~ option");
            return -1;
        }
    } else if (a->trim.approx) {
        long long maxe = cfg_get(stream_node_max_entries);
        a->trim.limit = maxe > 10000 ? 1000000 : 100 * maxe; /* at most 100 nodes */
        if (a->trim.limit <= 0) a->trim.limit = 10000;
        if (a->trim.limit > 1000000) a->trim.limit = 1000000;
    } else {
        a->trim.limit = 0;
    }
    return i;
}

/* The propagated form after an approximate trim: `=` and what is left. */
typedef struct {
    arg_t *argv;
    arg_t local[16];
    char trimbuf[48];
    char idbuf[48];
    bool rewritten;
} rewrite;

static void rewrite_init(client *c, rewrite *r) {
    r->argv = c->argc <= 16 ? r->local : mem_alloc(sizeof(arg_t) * (size_t)c->argc);
    memcpy(r->argv, c->argv, sizeof(arg_t) * (size_t)c->argc);
    r->rewritten = false;
}

static void rewrite_trim(rewrite *r, const stream *s, const add_trim_args *a) {
    r->argv[a->trim_arg_idx - 1] = (arg_t){"=", 1};
    size_t n;
    if (a->trim.strategy == STREAM_TRIM_MAXLEN) {
        n = format_ll(r->trimbuf, sizeof r->trimbuf, (long long)s->length);
    } else {
        stream_id first;
        stream_first_any(s, &first);
        n = stream_id_format(&first, r->trimbuf);
    }
    r->argv[a->trim_arg_idx] = (arg_t){r->trimbuf, n};
    r->rewritten = true;
}

static void rewrite_done(client *c, rewrite *r) {
    if (r->rewritten) propagate_rewrite_argv(c->argc, r->argv);
    if (r->argv != r->local) mem_free(r->argv);
}

static void xadd_command(client *c) {
    add_trim_args a;
    int idpos = parse_add_trim(c, &a, true);
    if (idpos < 0) return;
    int field_pos = idpos + 1;
    if (c->argc - field_pos < 2 || (c->argc - field_pos) % 2 == 1) {
        add_reply_error(c, "ERR wrong number of arguments for 'xadd' command");
        return;
    }
    if (a.id_given && a.seq_given && a.id.ms == 0 && a.id.seq == 0) {
        add_reply_error(c, "ERR The ID specified in XADD must be greater than 0-0");
        return;
    }
    dbkey k;
    stream *s;
    if (!stream_write(c, &k, &s)) return;
    bool created = false;
    if (!s) {
        if (a.no_mkstream) {
            add_reply_null(c);
            return;
        }
        s = stream_new();
        created = true;
    }
    if (s->last_id.ms == UINT64_MAX && s->last_id.seq == UINT64_MAX) {
        add_reply_error(c, "ERR The stream has exhausted the last possible ID, unable to add more items");
        return;
    }
    /* the new ID (Redis's streamAppendItem) */
    stream_id id;
    bool ok = true;
    if (a.id_given) {
        if (a.seq_given) {
            id = a.id;
        } else if (s->last_id.ms == a.id.ms) {
            if (s->last_id.seq == UINT64_MAX) {
                /* Redis fails here without setting errno: its other message */
                if (created) stream_free(s);
                add_reply_error(c, "ERR Elements are too large to be stored");
                return;
            }
            id = s->last_id;
            id.seq++;
        } else {
            id = a.id;
        }
    } else {
        uint64_t ms = (uint64_t)db_now_ms();
        if (ms > s->last_id.ms) {
            id = (stream_id){ms, 0};
        } else {
            id = s->last_id;
            ok = stream_id_incr(&id);
        }
    }
    if (!ok || stream_id_cmp(&id, &s->last_id) <= 0) {
        if (created) stream_free(s);
        add_reply_error(c, "ERR The ID specified in XADD is equal or smaller than the target stream top item");
        return;
    }
    int64_t nf = (c->argc - field_pos) / 2;
    size_t total = 0;
    for (int i = field_pos; i < c->argc; i++) total += c->argv[i].len;
    if (total > STREAM_LISTPACK_MAX_SIZE) {
        if (created) stream_free(s);
        add_reply_error(c, "ERR Elements are too large to be stored");
        return;
    }
    const char *ptrs[32];
    size_t lens[32];
    const char **p = ptrs;
    size_t *l = lens;
    if (nf * 2 > 32) {
        p = mem_alloc(sizeof(char *) * (size_t)nf * 2);
        l = mem_alloc(sizeof(size_t) * (size_t)nf * 2);
    }
    for (int64_t i = 0; i < nf * 2; i++) {
        p[i] = c->argv[field_pos + i].ptr;
        l[i] = c->argv[field_pos + i].len;
    }
    stream_append(s, &id, nf, p, l);
    if (p != ptrs) {
        mem_free(p);
        mem_free(l);
    }
    if (created) db_add(&k, entry_new_ptr(k.key, k.len, OBJ_STREAM, ENC_STREAM, s, -1));
    char idbuf[48];
    size_t idlen = stream_id_format(&id, idbuf);
    add_reply_bulk(c, idbuf, idlen);
    db_changed(&k, NOTIFY_STREAM, "xadd");

    rewrite r;
    rewrite_init(c, &r);
    if (a.trim.strategy != STREAM_TRIM_NONE) {
        if (stream_trim(s, &a.trim)) db_changed(&k, NOTIFY_STREAM, "xtrim");
        if (a.trim.approx) rewrite_trim(&r, s, &a);
    }
    if (!a.id_given || !a.seq_given) {
        memcpy(r.idbuf, idbuf, idlen);
        r.argv[idpos] = (arg_t){r.idbuf, idlen};
        r.rewritten = true;
    }
    rewrite_done(c, &r);
}

static void xtrim_command(client *c) {
    add_trim_args a;
    if (parse_add_trim(c, &a, false) < 0) return;
    dbkey k;
    stream *s;
    if (!stream_write_or_zero(c, &k, &s)) return;
    int64_t deleted = stream_trim(s, &a.trim);
    if (deleted) {
        db_changed(&k, NOTIFY_STREAM, "xtrim");
        if (a.trim.approx) {
            rewrite r;
            rewrite_init(c, &r);
            rewrite_trim(&r, s, &a);
            rewrite_done(c, &r);
        }
    }
    add_reply_integer(c, deleted);
}

/* ---------------------------------------------------------------- reads */

static void xlen_command(client *c) {
    const stream *s;
    if (!stream_read(c, 1, &s)) return;
    add_reply_integer(c, s ? (long long)s->length : 0);
}

static void xrange_generic(client *c, bool rev) {
    const arg_t *startarg = rev ? &c->argv[3] : &c->argv[2];
    const arg_t *endarg = rev ? &c->argv[2] : &c->argv[3];
    stream_id start, end;
    bool startex, endex;
    long long count = -1;
    if (!parse_interval(c, startarg, &start, &startex, 0)) return;
    if (startex && !stream_id_incr(&start)) {
        add_reply_error(c, "ERR invalid start ID for the interval");
        return;
    }
    if (!parse_interval(c, endarg, &end, &endex, UINT64_MAX)) return;
    if (endex && !stream_id_decr(&end)) {
        add_reply_error(c, "ERR invalid end ID for the interval");
        return;
    }
    for (int j = 4; j < c->argc; j++) {
        if (arg_eq(&c->argv[j], "COUNT") && c->argc - j - 1 >= 1) {
            if (!arg_ll_or_reply(c, &c->argv[j + 1], &count, NULL)) return;
            if (count < 0) count = 0;
            j++;
        } else {
            add_reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    const stream *s;
    if (!stream_read(c, 1, &s)) return;
    if (!s) {
        add_reply_array(c, 0);
        return;
    }
    if (count == 0) {
        add_reply_null_array(c);
        return;
    }
    reply_range(c, s, &start, &end, count == -1 ? 0 : (size_t)count, rev);
}

static void xrange_command(client *c) { xrange_generic(c, false); }
static void xrevrange_command(client *c) { xrange_generic(c, true); }

static bool arg_is_dollar(const arg_t *a) { return a->len == 1 && a->ptr[0] == '$'; }

/* The stream under key, or NULL when it is missing or holds another type (a
 * re-run after a wake-up: Redis keeps a blocked XREAD waiting then). */
static const stream *xread_stream_or_null(client *c, const arg_t *key) {
    dbkey k;
    dbkey_init(&k, c->db, key->ptr, key->len);
    entry *e = db_lookup(&k, LOOKUP_READ | LOOKUP_NOSTATS | LOOKUP_NOTOUCH, NULL);
    return e && entry_type(e) == OBJ_STREAM ? entry_ptr(e) : NULL;
}

/* One stream of XREAD's reply: [key, entries after `after`] (RESP3: a map
 * member). */
static void xread_reply_stream(client *c, const arg_t *key, const stream *s, const stream_id *after, long long count) {
    stream_id start = *after;
    stream_id_incr(&start);
    if (c->resp == 2) add_reply_array(c, 2);
    add_reply_bulk(c, key->ptr, key->len);
    reply_range(c, s, &start, NULL, (size_t)count, false);
}

/* A re-run after a wake-up serves one stream, as Redis replies with the
 * signalled key alone: the first signalled of the woken keys whose last ID
 * is above the reader's (Redis's serveClientsBlockedOnStreamKey compares
 * last_id, not the last live entry); none: stay blocked. */
static void xread_serve_woken(client *c, int streams_arg, int nstreams, const stream_id *ids, long long count) {
    int best = -1;
    uint64_t best_at = 0;
    const stream *best_s = NULL;
    for (int i = 0; i < nstreams; i++) {
        uint64_t at = blocking_key_woken_at(c, &c->argv[streams_arg + i]);
        if (!at || (best >= 0 && at >= best_at)) continue;
        const stream *s = xread_stream_or_null(c, &c->argv[streams_arg + i]);
        if (!s || stream_id_cmp(&s->last_id, &ids[i]) <= 0) continue;
        best = i;
        best_at = at;
        best_s = s;
    }
    if (best < 0) {
        blocking_block_stream(c, streams_arg, nstreams, NULL, 0);
        return;
    }
    if (c->resp == 2)
        add_reply_array(c, 1);
    else
        add_reply_map(c, 1);
    xread_reply_stream(c, &c->argv[streams_arg + best], best_s, &ids[best],
                       count ? count : XREAD_BLOCKED_DEFAULT_COUNT);
}

/* Block on the streams, saving `$` as the ID it resolved to (ids[i]) so
 * the re-run compares with the last ID at block time. */
static void xread_block(client *c, int streams_arg, int nstreams, const stream_id *ids, long long deadline) {
    arg_t sargs[STREAM_ID_STATIC];
    char stext[STREAM_ID_STATIC][48];
    bool big = nstreams > STREAM_ID_STATIC;
    arg_t *args = big ? mem_alloc(sizeof(arg_t) * (size_t)nstreams) : sargs;
    char(*text)[48] = big ? mem_alloc(sizeof(*text) * (size_t)nstreams) : stext;
    for (int i = 0; i < nstreams; i++) {
        const arg_t *a = &c->argv[streams_arg + nstreams + i];
        args[i] = arg_is_dollar(a) ? (arg_t){text[i], stream_id_format(&ids[i], text[i])} : *a;
    }
    blocking_block_stream(c, streams_arg, nstreams, args, deadline);
    if (big) {
        mem_free(args);
        mem_free(text);
    }
}

bool t_stream_parse_read_args(client *c, bool xreadgroup, t_stream_read_args *a) {
    *a = (t_stream_read_args){.deadline = -1};
    for (int i = 1; i < c->argc; i++) {
        int moreargs = c->argc - i - 1;
        const arg_t *o = &c->argv[i];
        if (arg_eq(o, "BLOCK") && moreargs) {
            i++;
            if (!blocking_parse_timeout_ms_or_reply(c, &c->argv[i], &a->deadline)) return false;
        } else if (arg_eq(o, "COUNT") && moreargs) {
            i++;
            if (!arg_ll_or_reply(c, &c->argv[i], &a->count, NULL)) return false;
            if (a->count < 0) a->count = 0;
        } else if (arg_eq(o, "STREAMS") && moreargs) {
            a->streams_arg = i + 1;
            a->nstreams = c->argc - a->streams_arg;
            if (a->nstreams % 2 != 0) {
                add_reply_error(c, "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be "
                                   "specified.");
                return false;
            }
            a->nstreams /= 2;
            break;
        } else if (arg_eq(o, "GROUP") && moreargs >= 2) {
            if (!xreadgroup) {
                add_reply_error(c, "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
                return false;
            }
            a->group = &c->argv[i + 1];
            a->consumer = &c->argv[i + 2];
            i += 2;
        } else if (arg_eq(o, "NOACK")) {
            if (!xreadgroup) {
                add_reply_error(c, "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
                return false;
            }
            a->noack = true;
        } else {
            add_reply_error(c, ERR_SYNTAX);
            return false;
        }
    }
    if (a->streams_arg == 0) {
        add_reply_error(c, ERR_SYNTAX);
        return false;
    }
    return true;
}

/* XREAD [COUNT n] [BLOCK ms] STREAMS key... id... (blocking: see blocking.h,
 * "Streams") */
static void xread_command(client *c) {
    t_stream_read_args a;
    if (!t_stream_parse_read_args(c, false, &a)) return;
    long long deadline = a.deadline, count = a.count; /* deadline -1: no BLOCK */
    int streams_arg = a.streams_arg, nstreams = a.nstreams;
    bool rerun = blocking_client_is_blocked(c);
    stream_id sids[STREAM_ID_STATIC];
    stream_id *ids = nstreams > STREAM_ID_STATIC ? mem_alloc(sizeof(stream_id) * (size_t)nstreams) : sids;
    for (int i = 0; i < nstreams; i++) {
        const arg_t *idarg = &c->argv[streams_arg + nstreams + i];
        const stream *s;
        if (rerun)
            s = xread_stream_or_null(c, &c->argv[streams_arg + i]);
        else if (!stream_read(c, streams_arg + i, &s))
            goto done;
        if (arg_is_dollar(idarg)) {
            ids[i] = s ? s->last_id : (stream_id){0, 0};
        } else if (idarg->len == 1 && idarg->ptr[0] == '>') {
            add_reply_error(c, "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> "
                               "<consumer> option.");
            goto done;
        } else if (!parse_id_arg(c, idarg, &ids[i], 0, true)) {
            goto done;
        }
    }
    if (rerun) {
        xread_serve_woken(c, streams_arg, nstreams, ids, count);
        goto done;
    }
    /* which streams have entries past their ID */
    int served = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            if (!served) break;
            if (c->resp == 2)
                add_reply_array(c, served);
            else
                add_reply_map(c, served);
        }
        for (int i = 0; i < nstreams; i++) {
            const stream *s = xread_stream_or_null(c, &c->argv[streams_arg + i]);
            stream_id maxid;
            if (!s || !s->length || !stream_last_live(s, &maxid) || stream_id_cmp(&maxid, &ids[i]) <= 0) continue;
            if (pass == 0)
                served++;
            else
                xread_reply_stream(c, &c->argv[streams_arg + i], s, &ids[i], count);
        }
    }
    if (served) goto done;
    if (deadline == -1)
        add_reply_null_array(c); /* no BLOCK: as a timeout */
    else
        xread_block(c, streams_arg, nstreams, ids, deadline);
done:
    if (ids != sids) mem_free(ids);
}

/* Redis's xreadGetKeys: the keys after STREAMS. */
static int xread_keys(const arg_t *argv, int argc, int *keyidx, int max) {
    int streams_pos = -1;
    for (int i = 1; i < argc; i++) {
        if (arg_eq(&argv[i], "block") || arg_eq(&argv[i], "count")) {
            i++;
        } else if (arg_eq(&argv[i], "group")) {
            i += 2;
        } else if (arg_eq(&argv[i], "noack")) {
            continue;
        } else if (arg_eq(&argv[i], "streams")) {
            streams_pos = i;
            break;
        } else {
            break;
        }
    }
    int num = argc - streams_pos - 1;
    if (streams_pos == -1 || num == 0 || num % 2 != 0) return 0;
    num /= 2;
    int n = 0;
    for (int i = streams_pos + 1; i < streams_pos + 1 + num && n < max; i++) keyidx[n++] = i;
    return n;
}

/* ---------------------------------------------------------------- XDEL / XSETID */

static void xdel_command(client *c) {
    dbkey k;
    stream *s;
    if (!stream_write_or_zero(c, &k, &s)) return;
    int n = c->argc - 2;
    stream_id sids[STREAM_ID_STATIC];
    stream_id *ids = n > STREAM_ID_STATIC ? mem_alloc(sizeof(stream_id) * (size_t)n) : sids;
    long long deleted = 0;
    bool first_entry = false;
    for (int j = 0; j < n; j++)
        if (!parse_id_arg(c, &c->argv[j + 2], &ids[j], 0, true)) goto done;
    for (int j = 0; j < n; j++) {
        if (!stream_delete(s, &ids[j])) continue;
        if (stream_id_cmp(&ids[j], &s->first_id) == 0) first_entry = true;
        if (stream_id_cmp(&ids[j], &s->max_deleted_entry_id) > 0) s->max_deleted_entry_id = ids[j];
        deleted++;
    }
    if (deleted) {
        if (s->length == 0)
            s->first_id = (stream_id){0, 0};
        else if (first_entry)
            stream_first_live(s, &s->first_id);
        db_changed(&k, NOTIFY_STREAM, "xdel");
    }
    add_reply_integer(c, deleted);
done:
    if (ids != sids) mem_free(ids);
}

static void xsetid_command(client *c) {
    stream_id id, max_xdel = {0, 0};
    long long entries_added = -1;
    if (!parse_id_arg(c, &c->argv[2], &id, 0, true)) return;
    for (int i = 3; i < c->argc;) {
        int moreargs = c->argc - 1 - i;
        if (arg_eq(&c->argv[i], "ENTRIESADDED") && moreargs) {
            if (!arg_ll_or_reply(c, &c->argv[i + 1], &entries_added, NULL)) return;
            if (entries_added < 0) {
                add_reply_error(c, "ERR entries_added must be positive");
                return;
            }
            i += 2;
        } else if (arg_eq(&c->argv[i], "MAXDELETEDID") && moreargs) {
            if (!parse_id_arg(c, &c->argv[i + 1], &max_xdel, 0, true)) return;
            if (stream_id_cmp(&id, &max_xdel) < 0) {
                add_reply_error(c, "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
                return;
            }
            i += 2;
        } else {
            add_reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    dbkey k;
    stream *s;
    if (!stream_write(c, &k, &s)) return;
    if (!s) {
        add_reply_error(c, ERR_NO_SUCH_KEY);
        return;
    }
    if (s->length > 0) {
        stream_id maxid;
        stream_last_live(s, &maxid);
        if (stream_id_cmp(&id, &maxid) < 0) {
            add_reply_error(c, "ERR The ID specified in XSETID is smaller than the target stream top item");
            return;
        }
        if (entries_added != -1 && s->length > (uint64_t)entries_added) {
            add_reply_error(c, "ERR The entries_added specified in XSETID is smaller than the target stream length");
            return;
        }
    }
    s->last_id = id;
    if (entries_added != -1) s->entries_added = (uint64_t)entries_added;
    if (max_xdel.ms || max_xdel.seq) s->max_deleted_entry_id = max_xdel;
    add_reply_ok(c);
    db_changed_unwatched(&k, NOTIFY_STREAM, "xsetid"); /* Redis 7.0's XSETID signals no WATCH */
}

/* ---------------------------------------------------------------- XINFO */

/* Nodes of a radix tree over n sorted 16-byte keys at depth d, as Redis's
 * rax builds it: a node where keys branch, one where a run of single-child
 * bytes starts (a compressed node), one per key's end. */
static uint64_t rax_nodes(const unsigned char (*keys)[16], size_t lo, size_t hi, int d, bool start) {
    if (d == 16) return 1;
    size_t i = lo;
    unsigned groups = 0;
    while (i < hi) {
        size_t j = i;
        while (j < hi && keys[j][d] == keys[i][d]) j++;
        groups++;
        i = j;
    }
    if (groups == 1) return (start ? 1 : 0) + rax_nodes(keys, lo, hi, d + 1, false);
    uint64_t n = 1;
    for (i = lo; i < hi;) {
        size_t j = i;
        while (j < hi && keys[j][d] == keys[i][d]) j++;
        n += rax_nodes(keys, i, j, d + 1, true);
        i = j;
    }
    return n;
}

static uint64_t stream_rax_nodes(const stream *s) {
    uint32_t n = stream_node_count(s);
    if (n == 0) return 1;
    unsigned char(*keys)[16] = mem_alloc(16 * (size_t)n);
    for (uint32_t i = 0; i < n; i++) {
        const stream_node *node = stream_node_at(s, i);
        for (int b = 0; b < 8; b++) {
            keys[i][b] = (unsigned char)(node->master.ms >> (56 - 8 * b));
            keys[i][8 + b] = (unsigned char)(node->master.seq >> (56 - 8 * b));
        }
    }
    uint64_t r = rax_nodes((const unsigned char(*)[16])keys, 0, n, 0, true);
    mem_free(keys);
    return r;
}

/* XINFO's key, argv[2]: NULL after replying (no such key, WRONGTYPE). As
 * Redis's xinfoCommand, looked up before any option is parsed. */
static const stream *xinfo_lookup(client *c) {
    dbkey k;
    dbkey_init(&k, c->db, c->argv[2].ptr, c->argv[2].len);
    entry *e = db_lookup(&k, LOOKUP_READ, NULL);
    if (!e) {
        add_reply_error(c, ERR_NO_SUCH_KEY);
        return NULL;
    }
    if (reply_wrong_type(c, e, OBJ_STREAM)) return NULL;
    return entry_ptr(e);
}

static void xinfo_stream_command(client *c) {
    const stream *s = xinfo_lookup(c);
    if (!s) return;
    bool full = false;
    long long count = 10;
    int optc = c->argc - 3;
    if (optc != 0) {
        if ((optc != 1 && optc != 3) || !arg_eq(&c->argv[3], "full")) {
            add_reply_subcommand_syntax_error(c, "XINFO");
            return;
        }
        full = true;
        if (optc == 3) {
            if (!arg_eq(&c->argv[4], "count")) {
                add_reply_subcommand_syntax_error(c, "XINFO");
                return;
            }
            if (!arg_ll_or_reply(c, &c->argv[5], &count, NULL)) return;
            if (count < 0) count = 10;
        }
    }
    add_reply_map(c, full ? 9 : 10);
    add_reply_bulk_cstr(c, "length");
    add_reply_integer(c, (long long)s->length);
    add_reply_bulk_cstr(c, "radix-tree-keys");
    add_reply_integer(c, stream_node_count(s));
    add_reply_bulk_cstr(c, "radix-tree-nodes");
    add_reply_integer(c, (long long)stream_rax_nodes(s));
    add_reply_bulk_cstr(c, "last-generated-id");
    reply_id(c, &s->last_id);
    add_reply_bulk_cstr(c, "max-deleted-entry-id");
    reply_id(c, &s->max_deleted_entry_id);
    add_reply_bulk_cstr(c, "entries-added");
    add_reply_integer(c, (long long)s->entries_added);
    add_reply_bulk_cstr(c, "recorded-first-entry-id");
    reply_id(c, &s->first_id);
    if (!full) {
        add_reply_bulk_cstr(c, "groups");
        add_reply_integer(c, (long long)stream_cg_count(s));
        add_reply_bulk_cstr(c, "first-entry");
        reply_edge_entry(c, s, false);
        add_reply_bulk_cstr(c, "last-entry");
        reply_edge_entry(c, s, true);
    } else {
        add_reply_bulk_cstr(c, "entries");
        reply_range(c, s, NULL, NULL, (size_t)count, false);
        add_reply_bulk_cstr(c, "groups");
        t_stream_group_reply_full(c, s, count);
    }
}

static void xinfo_groups_command(client *c) {
    const stream *s = xinfo_lookup(c);
    if (s) t_stream_group_reply_groups(c, s);
}

static void xinfo_consumers_command(client *c) {
    const stream *s = xinfo_lookup(c);
    if (s) t_stream_group_reply_consumers(c, s, &c->argv[2], &c->argv[3]);
}

static const char *const xinfo_help_lines[] = {
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
    NULL,
};

static void xinfo_help_command(client *c) { add_reply_help(c, "XINFO", xinfo_help_lines); }

/* ---------------------------------------------------------------- shared (t_stream.h) */

bool t_stream_parse_id_or_reply(client *c, const arg_t *a, stream_id *id, uint64_t missing_seq, bool strict) {
    return parse_id(c, a->ptr, a->len, id, missing_seq, strict, NULL);
}

bool t_stream_parse_interval_or_reply(client *c, const arg_t *a, stream_id *id, bool *exclude,
                                      uint64_t missing_seq) {
    return parse_interval(c, a, id, exclude, missing_seq);
}

void t_stream_reply_id(client *c, const stream_id *id) { reply_id(c, id); }

size_t t_stream_reply_range(client *c, const stream *s, const stream_id *start, const stream_id *end, size_t count,
                            t_stream_entry_fn *fn, void *arg) {
    return reply_range_fn(c, s, start, end, count, false, fn, arg);
}

bool t_stream_reply_entry(client *c, const stream *s, const stream_id *id) {
    stream_iter it;
    stream_id found;
    int64_t nf;
    stream_iter_start(&it, s, id, id, false);
    bool ok = stream_iter_next(&it, &found, &nf);
    if (ok) reply_entry(c, &it, &found, nf);
    stream_iter_stop(&it);
    return ok;
}

int t_stream_xread_keys(const arg_t *argv, int argc, int *keyidx, int max) {
    return xread_keys(argv, argc, keyidx, max);
}

/* ---------------------------------------------------------------- table */

#define KEY1 .first_key = 1, .last_key = 1, .key_step = 1

static command xinfo_subcommands[] = {
    {.name = "consumers", .arity = 4, .flags = CMD_READONLY, .first_key = 2, .last_key = 2, .key_step = 1,
     .proc = xinfo_consumers_command, .group = "stream", .since = "5.0.0",
     .summary = "List the consumers in a consumer group", .complexity = "O(1)",
     .acl_categories = "read stream slow"},
    {.name = "groups", .arity = 3, .flags = CMD_READONLY, .first_key = 2, .last_key = 2, .key_step = 1,
     .proc = xinfo_groups_command, .group = "stream", .since = "5.0.0",
     .summary = "List the consumer groups of a stream", .complexity = "O(1)", .acl_categories = "read stream slow"},
    {.name = "help", .arity = 2, .flags = CMD_LOADING | CMD_STALE, .proc = xinfo_help_command, .group = "stream",
     .since = "5.0.0", .summary = "Show helpful text about the different subcommands", .complexity = "O(1)",
     .acl_categories = "stream slow"},
    {.name = "stream", .arity = -3, .flags = CMD_READONLY, .first_key = 2, .last_key = 2, .key_step = 1,
     .proc = xinfo_stream_command, .group = "stream", .since = "5.0.0", .summary = "Get information about a stream",
     .complexity = "O(1)", .acl_categories = "read stream slow"},
    {0},
};

command stream_commands[] = {
    {.name = "xadd", .arity = -5, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, KEY1, .proc = xadd_command,
     .group = "stream", .since = "5.0.0", .summary = "Appends a new entry to a stream",
     .complexity = "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.",
     .acl_categories = "write stream fast"},
    {.name = "xlen", .arity = 2, .flags = CMD_READONLY | CMD_FAST, KEY1, .proc = xlen_command, .group = "stream",
     .since = "5.0.0", .summary = "Return the number of entries in a stream", .complexity = "O(1)",
     .acl_categories = "read stream fast"},
    {.name = "xrange", .arity = -4, .flags = CMD_READONLY, KEY1, .proc = xrange_command, .group = "stream",
     .since = "5.0.0", .summary = "Return a range of elements in a stream, with IDs matching the specified IDs interval",
     .complexity = "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking "
                   "for the first 10 elements with COUNT), you can consider it O(1).",
     .acl_categories = "read stream slow"},
    {.name = "xrevrange", .arity = -4, .flags = CMD_READONLY, KEY1, .proc = xrevrange_command, .group = "stream",
     .since = "5.0.0",
     .summary = "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse "
                "order (from greater to smaller IDs) compared to XRANGE",
     .complexity = "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the "
                   "first 10 elements with COUNT), you can consider it O(1).",
     .acl_categories = "read stream slow"},
    {.name = "xdel", .arity = -3, .flags = CMD_WRITE | CMD_FAST, KEY1, .proc = xdel_command, .group = "stream",
     .since = "5.0.0",
     .summary = "Removes the specified entries from the stream. Returns the number of items actually deleted, that "
                "may be different from the number of IDs passed in case certain IDs do not exist.",
     .complexity = "O(1) for each single item to delete in the stream, regardless of the stream size.",
     .acl_categories = "write stream fast"},
    {.name = "xtrim", .arity = -4, .flags = CMD_WRITE, KEY1, .proc = xtrim_command, .group = "stream",
     .since = "5.0.0", .summary = "Trims the stream to (approximately if '~' is passed) a certain size",
     .complexity = "O(N), with N being the number of evicted entries. Constant times are very small however, since "
                   "entries are organized in macro nodes containing multiple entries that can be released with a "
                   "single deallocation.",
     .acl_categories = "write stream slow"},
    {.name = "xsetid", .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, KEY1, .proc = xsetid_command,
     .group = "stream", .since = "5.0.0", .summary = "An internal command for replicating stream values",
     .complexity = "O(1)", .acl_categories = "write stream fast"},
    {.name = "xread", .arity = -4, .flags = CMD_READONLY | CMD_BLOCKING, .keys_fn = xread_keys,
     .proc = xread_command, .group = "stream", .since = "5.0.0",
     .summary = "Return never seen elements in multiple streams, with IDs greater than the ones reported by the "
                "caller for each stream. Can block.",
     .complexity = "For each stream mentioned: O(N) with N being the number of elements being returned, it means "
                   "that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay "
                   "O(M) time in order to serve the M clients blocked on the stream getting new data.",
     .acl_categories = "read stream slow blocking"},
    {.name = "xinfo", .arity = -2, .flags = 0, .group = "stream", .since = "5.0.0",
     .summary = "A container for stream introspection commands", .complexity = "Depends on subcommand.",
     .acl_categories = "slow", .subcommands = xinfo_subcommands},
    {0},
};
