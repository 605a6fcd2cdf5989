/*
 * t_zset.h - the sorted set type API (t_zset.c) and the pieces its command
 * files (t_zset_cmd.c, t_zset_ops.c) share.
 *
 * A `zset` is what the keyspace entry's pointer holds; it never moves, so
 * the entry's pointer stays valid across conversions (the entry's encoding
 * byte must be refreshed with zset_sync_encoding after a change). Small
 * sets are a listpack of (member, score) pairs in (score, member) order,
 * the score element being the 8 raw bytes of the double; large ones are a
 * dict member -> score (dict_entry.u.score) plus a skiplist whose nodes
 * point at the dict's member bytes. Conversion to the skiplist happens
 * when an insert would pass zset-max-listpack-entries or a member is
 * longer than zset-max-listpack-value; sets never convert back except when
 * a command builds a new set (stores, RESTORE), as in Redis 7.0.
 *
 * Positions: ranks are 0-based in ascending (score, member) order; the
 * range helpers return forward rank intervals [lo, hi] which the visitors
 * walk in either direction.
 */
#ifndef T_ZSET_H
#define T_ZSET_H

#include "client.h"
#include "db.h"
#include "dict.h"
#include "listpack.h"
#include "skiplist.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct zset {
    unsigned enc;  /* ENC_LISTPACK or ENC_SKIPLIST */
    listpack *lp;  /* ENC_LISTPACK */
    dict *d;       /* ENC_SKIPLIST: member -> score */
    zsl *sl;       /* ENC_SKIPLIST: order and ranks */
} zset;

/* Conversion thresholds (zset-max-listpack-entries / -value). */
typedef struct {
    unsigned long long max_entries;
    unsigned long long max_value;
} zset_limits;
void zset_limits_from_config(zset_limits *lim);

zset *zset_new(void);               /* empty, listpack-encoded */
zset *zset_new_skiplist(void);      /* empty, skiplist-encoded */
void zset_free(zset *z);
zset *zset_dup(const zset *z);
size_t zset_mem(const zset *z);
unsigned long zset_len(const zset *z);
/* Convert to enc (no-op when already there). */
void zset_convert(zset *z, unsigned enc);
/* A newly built set (store commands, RESTORE): listpack when it fits the
 * limits, skiplist otherwise. */
void zset_fit_encoding(zset *z, const zset_limits *lim);

bool zset_score(const zset *z, const char *m, size_t len, double *score);

/* ZADD flags (Redis's zsetAdd contract). */
enum {
    ZADD_IN_NX = 1 << 0,
    ZADD_IN_XX = 1 << 1,
    ZADD_IN_GT = 1 << 2,
    ZADD_IN_LT = 1 << 3,
    ZADD_IN_INCR = 1 << 4,
};
enum {
    ZADD_OUT_NOP = 1 << 0,     /* nothing done (NX/XX/GT/LT condition) */
    ZADD_OUT_NAN = 1 << 1,     /* the resulting score would be NaN */
    ZADD_OUT_ADDED = 1 << 2,
    ZADD_OUT_UPDATED = 1 << 3,
};
/* Add or update a member. Returns false (with ZADD_OUT_NAN) when the score
 * is or would become NaN; *newscore gets the member's score after the call
 * when it was added or updated (the INCR result). lim NULL = no
 * conversion. m must not point into z itself (a listpack may move). */
bool zset_add(zset *z, double score, const char *m, size_t len, int in, int *out, double *newscore,
              const zset_limits *lim);
bool zset_del(zset *z, const char *m, size_t len);
/* 0-based rank (descending order when rev), -1 when absent. */
long zset_rank(const zset *z, const char *m, size_t len, bool rev);

/* Forward rank interval of the members inside a range; false when empty. */
bool zset_score_interval(const zset *z, const zrange_score *r, long *lo, long *hi);
bool zset_lex_interval(const zset *z, const zrange_lex *r, long *lo, long *hi);
/* Redis's lex-range walk, which the lex commands follow (members are in
 * lexical order only when their scores are equal; with mixed scores these
 * reproduce Redis's answers on a listpack): the first member in range
 * scanning from the head, or from the tail when rev (false: none); then
 * how many consecutive members from forward rank `start`, walking forward
 * (rev: backward), stay under max (rev: above min), at most `max`
 * (negative: no limit). */
bool zset_lex_first(const zset *z, const zrange_lex *r, bool rev, long *rank);
long zset_lex_run(const zset *z, const zrange_lex *r, long start, bool rev, long max);

/* Visit forward ranks lo..hi (inclusive, valid), descending when rev. */
typedef void zset_visit_fn(const char *m, size_t len, double score, void *arg);
void zset_visit(const zset *z, long lo, long hi, bool rev, zset_visit_fn *fn, void *arg);
/* Delete forward ranks lo..hi (inclusive, valid); returns the count. */
unsigned long zset_delete_ranks(zset *z, long lo, long hi);

/* Forward iteration (no modification meanwhile). */
typedef struct {
    const zset *z;
    size_t off, cur_off;
    zsl_node *node, *cur_node;
} zset_iter;
void zset_iter_init(zset_iter *it, const zset *z);
/* From forward rank `rank` (valid) on. */
void zset_iter_init_at(zset_iter *it, const zset *z, long rank);
/* m NULL: the score only (a skiplist member's bytes are not read); the
 * member is then zset_iter_member's. */
bool zset_iter_next(zset_iter *it, const char **m, size_t *len, double *score);
/* The member of the element zset_iter_next returned last. */
void zset_iter_member(const zset_iter *it, const char **m, size_t *len);

/* Element at a forward rank (valid). */
void zset_at(const zset *z, long rank, const char **m, size_t *len, double *score);

/* Redis's range argument syntax: scores "1.5", "(1.5", "-inf", "+inf";
 * lex "[a", "(a", "-", "+". The lex range points into the arguments. */
bool zset_parse_score_range(const char *min, size_t minlen, const char *max, size_t maxlen, zrange_score *r);
bool zset_parse_lex_range(const char *min, size_t minlen, const char *max, size_t maxlen, zrange_lex *r);

/* Debug/test: structural check of either encoding. */
bool zset_check(const zset *z);

/* ---- shared by the command files */

/* Look up argv key i as a sorted set. Returns the entry (NULL when absent);
 * replies WRONGTYPE and sets *err when it holds another type. */
entry *zset_lookup(client *c, int i, dbkey *k, int flags, long *pos, bool *err);
static inline zset *zset_of(entry *e) { return e ? (zset *)entry_ptr(e) : NULL; }
/* The set at k for ZADD-like adds: *e, or a new empty listpack set added
 * at k (db_add) when *e is NULL; *lim gets the conversion limits to pass
 * to zset_add (zeroed for a skiplist, which never converts back). */
zset *zset_for_adding(const dbkey *k, entry **e, zset_limits *lim);
/* Refresh the entry's encoding byte after a change. */
void zset_sync_encoding(entry *e);
/* After removals from e in place: state the change (`event`) to the write
 * funnel, then delete the key ("del") when the set became empty. */
void zset_removed(const dbkey *k, entry *e, const char *event);
/* Store a built set at dst (replacing any value, no TTL) or delete dst when
 * it is empty; replies the length and notifies `event` (or "del"). Takes
 * ownership of z. */
void zset_store(client *c, int dst_arg, zset *z, const char *event);
/* Reply one member (with its score when withscores): RESP2 flat, RESP3
 * [member, score] pairs. */
void zset_reply_elem(client *c, const char *m, size_t len, double score, bool withscores);
void zset_reply_array_len(client *c, long n, bool withscores);

/* Command handlers of t_zset_ops.c (the table lives in t_zset_cmd.c). */
void zpopmin_command(client *c);
void zpopmax_command(client *c);
void bzpopmin_command(client *c);
void bzpopmax_command(client *c);
void zmpop_command(client *c);
void bzmpop_command(client *c);
void zunion_command(client *c);
void zinter_command(client *c);
void zdiff_command(client *c);
void zunionstore_command(client *c);
void zinterstore_command(client *c);
void zdiffstore_command(client *c);
void zintercard_command(client *c);
void zrandmember_command(client *c);
void zscan_command(client *c);
int zset_keys_numkeys1(const arg_t *argv, int argc, int *keyidx, int max);
int zset_keys_store(const arg_t *argv, int argc, int *keyidx, int max);
int zset_keys_bzmpop(const arg_t *argv, int argc, int *keyidx, int max);

#endif
