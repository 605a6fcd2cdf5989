/*
 * t_stream.h - what the stream command files share: t_stream.c's ID
 * parsing and entry replies (used by the consumer-group commands), and
 * t_stream_group.c's group replies (used by XINFO in t_stream.c).
 */
#ifndef T_STREAM_H
#define T_STREAM_H

#include "client.h"
#include "stream.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STREAM_ERR_INVALID_ID "ERR Invalid stream ID specified as stream command argument"
/* Redis's XREAD_BLOCKED_DEFAULT_COUNT: the COUNT of an XREAD / XREADGROUP
 * reader served after blocking that gave none (a low ID must not make it
 * read a whole stream). */
#define XREAD_BLOCKED_DEFAULT_COUNT 1000

/* ---- t_stream.c ---- */

/* An ID argument by Redis's rules (streamParseIDOrReply, or with `strict`
 * streamParseStrictIDOrReply: "-" and "+" refused); an incomplete ID takes
 * missing_seq. c NULL: no reply on failure. */
bool t_stream_parse_id_or_reply(client *c, const arg_t *a, stream_id *id, uint64_t missing_seq, bool strict);
/* A range bound, "(" for exclusive (streamParseIntervalIDOrReply). */
bool t_stream_parse_interval_or_reply(client *c, const arg_t *a, stream_id *id, bool *exclude,
                                      uint64_t missing_seq);
void t_stream_reply_id(client *c, const stream_id *id);
/* Entries in [start, end] (end NULL: to the last; count 0: all) as an array;
 * fn (if not NULL) is called for each entry after its reply. Returns how
 * many. */
typedef void t_stream_entry_fn(const stream_id *id, void *arg);
size_t t_stream_reply_range(client *c, const stream *s, const stream_id *start, const stream_id *end, size_t count,
                            t_stream_entry_fn *fn, void *arg);
/* The entry id as [id, [field, value...]] (no enclosing array); false, with
 * nothing replied, when it is not in the stream. */
bool t_stream_reply_entry(client *c, const stream *s, const stream_id *id);
/* XREAD's / XREADGROUP's keys: those after STREAMS (Redis's xreadGetKeys). */
int t_stream_xread_keys(const arg_t *argv, int argc, int *keyidx, int max);

/* ---- t_stream_group.c ---- */

/* XINFO GROUPS <key>'s reply. */
void t_stream_group_reply_groups(client *c, const stream *s);
/* XINFO CONSUMERS <key> <group>'s reply (NOGROUP when absent). */
void t_stream_group_reply_consumers(client *c, const stream *s, const arg_t *key, const arg_t *group);
/* XINFO STREAM FULL's "groups" value. */
void t_stream_group_reply_full(client *c, const stream *s, long long count);

/* XREAD / XREADGROUP options before STREAMS, with Redis 7.0's rules and
 * errors (GROUP and NOACK only for XREADGROUP; a missing STREAMS is a
 * syntax error). False after replying the error. */
typedef struct {
    long long deadline; /* -1: no BLOCK, 0: forever, else the unix ms deadline */
    long long count;    /* 0: no COUNT */
    int streams_arg, nstreams;
    const arg_t *group, *consumer; /* XREADGROUP's GROUP, NULL when absent */
    bool noack;
} t_stream_read_args;
bool t_stream_parse_read_args(client *c, bool xreadgroup, t_stream_read_args *a);

#endif
