/*
 * t_stream_group.c - the consumer-group commands: XGROUP (CREATE, SETID,
 * DESTROY, CREATECONSUMER, DELCONSUMER, HELP), XREADGROUP, XACK, XPENDING,
 * XCLAIM, XAUTOCLAIM, and the group parts of XINFO (GROUPS, CONSUMERS,
 * STREAM FULL). The groups themselves are stream_group.c.
 *
 * Design choices a reader must know:
 * - Replies, errors, edge cases, keyspace events and dirty counts are
 *   Redis 7.0.15's t_stream.c. Like Redis, the group commands raise events
 *   only for XGROUP ("xgroup-create", "-setid", "-destroy",
 *   "-createconsumer", "-delconsumer"); XACK, XCLAIM, XAUTOCLAIM and
 *   XREADGROUP count their changes with no event (type 0). Nor do they
 *   invalidate WATCH (db_changed_unwatched), as Redis signals no modified
 *   key for them, but for the stream XGROUP CREATE MKSTREAM makes.
 * - Propagation is Redis's: XREADGROUP, XCLAIM and XAUTOCLAIM never
 *   propagate themselves; every PEL change goes out as `XCLAIM key group
 *   consumer 0 id TIME ms RETRYCOUNT n FORCE JUSTID LASTID group-last-id`
 *   (an entry no longer in the stream too: the replica drops it the same
 *   way), a NOACK read's new last ID as `XGROUP SETID key group id
 *   ENTRIESREAD n`, and a consumer a NOACK read made as `XGROUP
 *   CREATECONSUMER`.
 * - Redis sends some array lengths after the elements (deferred lengths);
 *   here XCLAIM, XAUTOCLAIM and a multi-stream XREADGROUP build their
 *   elements in a scratch reply buffer and copy them after the length.
 * - XREADGROUP `>` blocks through blocking.c (blocking.h, "Streams"); a
 *   re-run after a wake-up is xreadgroup_serve_woken: the woken keys in
 *   the order they were signalled, the first gone answering UNBLOCKED, one
 *   without the group NOGROUP, one with new entries served alone.
 */
#include "blocking.h"
#include "client.h"
#include "command_modules.h"
#include "commands.h"
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

#include <limits.h>
#include <string.h>

#define ID_STATIC 8

/* now - then in ms, wrapping as Redis's mstime_t subtraction does in
 * practice: a delivery or seen time from a RESTORE payload can be anything
 * (INT64_MIN included), and a signed overflow is undefined behaviour. */
static long long ms_since(long long now, long long then) {
    return (long long)((unsigned long long)now - (unsigned long long)then);
}

/* ---------------------------------------------------------------- helpers */

/* argv[i] as a stream: NULL when absent or after WRONGTYPE (*err set). */
static stream *lookup_stream(client *c, int i, int flags, dbkey *k, bool *err) {
    dbkey_init(k, c->db, c->argv[i].ptr, c->argv[i].len);
    entry *e = db_lookup(k, flags, NULL);
    *err = false;
    if (!e) return NULL;
    if (reply_wrong_type(c, e, OBJ_STREAM)) {
        *err = true;
        return NULL;
    }
    return entry_ptr(e);
}

static stream_cg *find_group(const stream *s, const arg_t *name) {
    return s ? stream_cg_find(s, name->ptr, name->len) : NULL;
}

static void reply_nogroup_key(client *c, const arg_t *key, const arg_t *group, const char *tail) {
    add_reply_errorf(c, "NOGROUP No such key '%.*s' or consumer group '%.*s'%s", (int)key->len, key->ptr,
                     (int)group->len, group->ptr, tail);
}

/* argv[1]'s group argv[2] (XPENDING, XCLAIM, XAUTOCLAIM): NULL after
 * replying WRONGTYPE or NOGROUP. */
static stream_cg *group_or_reply(client *c, dbkey *k, stream **s) {
    bool err;
    *s = lookup_stream(c, 1, LOOKUP_READ, k, &err);
    if (err) return NULL;
    stream_cg *cg = find_group(*s, &c->argv[2]);
    if (!cg) reply_nogroup_key(c, &c->argv[1], &c->argv[2], "");
    return cg;
}

/* A range's start (incremented past an exclusive bound) or end
 * (decremented), with Redis's errors for a bound that cannot move. */
static bool range_start_or_reply(client *c, const arg_t *a, stream_id *id) {
    bool ex;
    if (!t_stream_parse_interval_or_reply(c, a, id, &ex, 0)) return false;
    if (ex && !stream_id_incr(id)) {
        add_reply_error(c, "ERR invalid start ID for the interval");
        return false;
    }
    return true;
}

static bool range_end_or_reply(client *c, const arg_t *a, stream_id *id) {
    bool ex;
    if (!t_stream_parse_interval_or_reply(c, a, id, &ex, UINT64_MAX)) return false;
    if (ex && !stream_id_decr(id)) {
        add_reply_error(c, "ERR invalid end ID for the interval");
        return false;
    }
    return true;
}

static void reply_nogroup(client *c, const arg_t *key, const arg_t *group) {
    add_reply_errorf(c, "NOGROUP No such consumer group '%.*s' for key name '%.*s'", (int)group->len, group->ptr,
                     (int)key->len, key->ptr);
}

/* A reply whose array length comes after its elements (Redis's deferred
 * length): the elements go to a scratch buffer, then length and elements
 * to the client. */
typedef struct {
    reply_buf saved;
} deferred_reply;

static void deferred_begin(client *c, deferred_reply *d) {
    d->saved = c->out;
    reply_buf_init(&c->out);
}

/* Close the scratch buffer: its bytes stay aside in *body. */
static void deferred_take(client *c, deferred_reply *d, reply_buf *body) {
    *body = c->out;
    c->out = d->saved;
}

static void deferred_put(client *c, reply_buf *body) {
    for (reply_chunk *ch = body->head; ch; ch = ch->next) add_reply_raw(c, ch->data, ch->used);
    reply_buf_free(body);
}

static void deferred_end_array(client *c, deferred_reply *d, long long n) {
    reply_buf body;
    deferred_take(c, d, &body);
    add_reply_array(c, n);
    deferred_put(c, &body);
}

static void arg_id(const stream_id *id, char *buf, size_t *len) { *len = stream_id_format(id, buf); }

/* Redis's streamPropagateXCLAIM: the PEL entry as an idempotent XCLAIM. */
static void propagate_xclaim(client *c, const arg_t *key, const stream_cg *cg, const arg_t *group, const char *id,
                             size_t idlen, const stream_nack *nack) {
    char last[48];
    size_t lastlen;
    arg_id(&cg->last_id, last, &lastlen);
    propagate_also_begin(c->db, 14);
    propagate_arg_str("XCLAIM");
    propagate_arg(key->ptr, key->len);
    propagate_arg(group->ptr, group->len);
    propagate_arg(nack->consumer->name, nack->consumer->name_len);
    propagate_arg_str("0");
    propagate_arg(id, idlen);
    propagate_arg_str("TIME");
    propagate_arg_ll(nack->delivery_time);
    propagate_arg_str("RETRYCOUNT");
    propagate_arg_ll((long long)nack->delivery_count);
    propagate_arg_str("FORCE");
    propagate_arg_str("JUSTID");
    propagate_arg_str("LASTID");
    propagate_arg(last, lastlen);
}

static void propagate_xclaim_id(client *c, const arg_t *key, const stream_cg *cg, const arg_t *group,
                                const stream_nack *nack) {
    char idbuf[48];
    size_t idlen;
    arg_id(&nack->id, idbuf, &idlen);
    propagate_xclaim(c, key, cg, group, idbuf, idlen, nack);
}

/* Redis's streamPropagateGroupID. */
static void propagate_group_id(client *c, const arg_t *key, const stream_cg *cg, const arg_t *group) {
    char idbuf[48];
    size_t idlen;
    arg_id(&cg->last_id, idbuf, &idlen);
    propagate_also_begin(c->db, 7);
    propagate_arg_str("XGROUP");
    propagate_arg_str("SETID");
    propagate_arg(key->ptr, key->len);
    propagate_arg(group->ptr, group->len);
    propagate_arg(idbuf, idlen);
    propagate_arg_str("ENTRIESREAD");
    propagate_arg_ll(cg->entries_read);
}

/* Redis's streamCreateConsumer with SCC_DEFAULT: dirty and the event. */
static stream_consumer *create_consumer(const dbkey *k, stream_cg *cg, const arg_t *name) {
    stream_consumer *sc = stream_cg_consumer_create(cg, name->ptr, name->len, mstime());
    if (sc) db_changed_unwatched(k, NOTIFY_STREAM, "xgroup-createconsumer");
    return sc;
}

/* Redis's streamLookupConsumer(SLC_DEFAULT) then create: seen now. */
static stream_consumer *lookup_or_create_consumer(const dbkey *k, stream_cg *cg, const arg_t *name, bool *created) {
    stream_consumer *sc = stream_cg_consumer_find(cg, name->ptr, name->len);
    *created = false;
    if (sc) {
        sc->seen_time = mstime();
        return sc;
    }
    *created = true;
    return create_consumer(k, cg, name);
}

/* ---------------------------------------------------------------- XGROUP */

static const char *const xgroup_help_lines[] = {
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
    NULL,
};

/* One handler for every subcommand, in Redis's order of checks (options,
 * key, group, then the subcommand's own arity). */
static void xgroup_command(client *c) {
    const arg_t *opt = &c->argv[1];
    bool create = arg_eq(opt, "CREATE"), setid = arg_eq(opt, "SETID");
    bool mkstream = false;
    long long entries_read = STREAM_CG_INVALID_ENTRIES_READ;
    stream *s = NULL;
    stream_cg *cg = NULL;
    dbkey k;
    if (c->argc >= 4) {
        for (int i = 5; i < c->argc;) {
            if (create && arg_eq(&c->argv[i], "MKSTREAM")) {
                mkstream = true;
                i++;
            } else if ((create || setid) && arg_eq(&c->argv[i], "ENTRIESREAD") && i + 1 < c->argc) {
                if (!arg_ll_or_reply(c, &c->argv[i + 1], &entries_read, NULL)) return;
                if (entries_read < 0 && entries_read != STREAM_CG_INVALID_ENTRIES_READ) {
                    add_reply_error(c, "ERR value for ENTRIESREAD must be positive or -1");
                    return;
                }
                i += 2;
            } else {
                add_reply_subcommand_syntax_error(c, "XGROUP");
                return;
            }
        }
        bool err;
        s = lookup_stream(c, 2, LOOKUP_WRITE, &k, &err);
        if (err) return;
        if (!mkstream) {
            if (!s) {
                add_reply_error(c, "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you "
                                   "may want to use the MKSTREAM option to create an empty stream automatically.");
                return;
            }
            cg = find_group(s, &c->argv[3]);
            if (!cg && (setid || arg_eq(opt, "CREATECONSUMER") || arg_eq(opt, "DELCONSUMER"))) {
                reply_nogroup(c, &c->argv[2], &c->argv[3]);
                return;
            }
        }
    }
    if (c->argc == 2 && arg_eq(opt, "HELP")) {
        add_reply_help(c, "XGROUP", xgroup_help_lines);
    } else if (create && c->argc >= 5 && c->argc <= 8) {
        stream_id id;
        const arg_t *idarg = &c->argv[4];
        if (idarg->len == 1 && idarg->ptr[0] == '$')
            id = s ? s->last_id : (stream_id){0, 0};
        else if (!t_stream_parse_id_or_reply(c, idarg, &id, 0, true))
            return;
        bool made = !s;
        if (made) {
            s = stream_new();
            db_add(&k, entry_new_ptr(k.key, k.len, OBJ_STREAM, ENC_STREAM, s, -1));
        }
        if (stream_cg_create(s, c->argv[3].ptr, c->argv[3].len, &id, entries_read)) {
            add_reply_ok(c);
            /* Redis signals WATCH only for the stream MKSTREAM made */
            if (made)
                db_changed(&k, NOTIFY_STREAM, "xgroup-create");
            else
                db_changed_unwatched(&k, NOTIFY_STREAM, "xgroup-create");
        } else {
            add_reply_error(c, "BUSYGROUP Consumer Group name already exists");
        }
    } else if (setid && (c->argc == 5 || c->argc == 7)) {
        stream_id id;
        const arg_t *idarg = &c->argv[4];
        if (idarg->len == 1 && idarg->ptr[0] == '$')
            id = s->last_id;
        else if (!t_stream_parse_id_or_reply(c, idarg, &id, 0, false))
            return;
        cg->last_id = id;
        cg->entries_read = entries_read;
        add_reply_ok(c);
        db_changed_unwatched(&k, NOTIFY_STREAM, "xgroup-setid");
    } else if (arg_eq(opt, "DESTROY") && c->argc == 4) {
        if (cg) {
            stream_cg_destroy(s, c->argv[3].ptr, c->argv[3].len);
            add_reply_integer(c, 1);
            /* the event also wakes XREADGROUP readers blocked on the key (db.c): their re-run answers NOGROUP */
            db_changed_unwatched(&k, NOTIFY_STREAM, "xgroup-destroy");
        } else {
            add_reply_integer(c, 0);
        }
    } else if (arg_eq(opt, "CREATECONSUMER") && c->argc == 5) {
        add_reply_integer(c, create_consumer(&k, cg, &c->argv[4]) ? 1 : 0);
    } else if (arg_eq(opt, "DELCONSUMER") && c->argc == 5) {
        long long pending = 0;
        stream_consumer *sc = stream_cg_consumer_find(cg, c->argv[4].ptr, c->argv[4].len);
        if (sc) {
            pending = (long long)stream_cg_consumer_delete(cg, sc);
            db_changed_unwatched(&k, NOTIFY_STREAM, "xgroup-delconsumer");
        }
        add_reply_integer(c, pending);
    } else {
        add_reply_subcommand_syntax_error(c, "XGROUP");
    }
}

/* ---------------------------------------------------------------- XREADGROUP */

/* The per-entry bookkeeping of a `>` read (Redis's streamReplyWithRange
 * with a group): last_id / entries_read, the PEL, the XCLAIM propagation. */
typedef struct {
    client *c;
    const stream *s;
    stream_cg *cg;
    stream_consumer *consumer;
    const arg_t *key, *group;
    bool noack, last_id_moved;
} deliver_ctx;

static void deliver_entry(const stream_id *id, void *arg) {
    deliver_ctx *d = arg;
    if (stream_id_cmp(id, &d->cg->last_id) > 0) {
        stream_cg_delivered(d->s, d->cg, id);
        if (d->noack) d->last_id_moved = true;
    }
    if (d->noack) return;
    long long now = mstime();
    stream_nack *nack = stream_cg_pel_add(d->cg, id, now, 1, d->consumer);
    if (!nack) {
        /* pending already (XGROUP SETID moved the group back): a new delivery to this consumer */
        nack = stream_cg_pel_find(d->cg, id);
        stream_cg_pel_move(d->cg, nack, d->consumer);
        nack->delivery_time = now;
        nack->delivery_count = 1;
    }
    propagate_xclaim_id(d->c, d->key, d->cg, d->group, nack);
}

/* Redis's streamReplyWithRangeFromConsumerPEL: the consumer's own pending
 * entries from start; one deleted from the stream comes as [id, nil]. */
static void reply_history(client *c, const stream *s, stream_cg *cg, const stream_consumer *sc,
                          const stream_id *start, long long count) {
    size_t from = stream_consumer_pel_seek(sc, start), total = stream_consumer_pel_count(sc);
    size_t n = total - from;
    if (count > 0 && (unsigned long long)count < n) n = (size_t)count;
    add_reply_array(c, (long long)n);
    long long now = mstime();
    for (size_t i = from; i < from + n; i++) {
        stream_id id = *stream_consumer_pel_at(sc, i);
        if (t_stream_reply_entry(c, s, &id)) {
            stream_nack *nack = stream_cg_pel_find(cg, &id);
            nack->delivery_time = now;
            nack->delivery_count++;
        } else {
            add_reply_array(c, 2);
            t_stream_reply_id(c, &id);
            add_reply_null_array(c);
        }
    }
}

static bool is_max_id(const stream_id *id) { return id->ms == UINT64_MAX && id->seq == UINT64_MAX; }

/* Reply one stream's part of an XREADGROUP answer ([key, entries]):
 * entries after `gt`, from the consumer's own PEL for a history read, else
 * new ones delivered to the consumer (created if missing), with their PEL
 * entries, propagation and the group's moved last_id. */
static void xreadgroup_serve_stream(client *c, const arg_t *key, stream *s, stream_cg *cg, const stream_id *gt,
                                    bool history, const arg_t *group, const arg_t *consumer, bool noack,
                                    long long count) {
    dbkey k;
    dbkey_init(&k, c->db, key->ptr, key->len);
    if (c->resp == 2) add_reply_array(c, 2);
    add_reply_bulk(c, key->ptr, key->len);
    bool created;
    stream_consumer *sc = lookup_or_create_consumer(&k, cg, consumer, &created);
    if (created && noack) {
        propagate_also_begin(c->db, 5);
        propagate_arg_str("XGROUP");
        propagate_arg_str("CREATECONSUMER");
        propagate_arg(key->ptr, key->len);
        propagate_arg(group->ptr, group->len);
        propagate_arg(consumer->ptr, consumer->len);
    }
    stream_id start = *gt;
    stream_id_incr(&start);
    if (history) {
        reply_history(c, s, cg, sc, &start, count);
    } else {
        deliver_ctx dc = {c, s, cg, sc, key, group, noack, false};
        t_stream_reply_range(c, s, &start, NULL, (size_t)count, deliver_entry, &dc);
        if (dc.last_id_moved) propagate_group_id(c, key, cg, group);
    }
    db_changed_unwatched(&k, 0, NULL);
}

/* A re-run after a wake-up (blocking.h, "Streams"), as Redis's
 * serveClientsBlockedOnStreamKey: the woken keys in the order they were
 * signalled; the first one gone answers UNBLOCKED, one without the group
 * NOGROUP, one whose last ID passed the group's is served alone; none of
 * them: stay blocked. */
static void xreadgroup_serve_woken(client *c, int streams_arg, int nstreams, const arg_t *group,
                                   const arg_t *consumer, bool noack, long long count) {
    uint64_t prev = 0;
    for (;;) {
        int next = -1;
        uint64_t next_at = 0;
        for (int i = 0; i < nstreams; i++) {
            uint64_t at = blocking_key_woken_at(c, &c->argv[streams_arg + i]);
            if (at > prev && (next < 0 || at < next_at)) {
                next = i;
                next_at = at;
            }
        }
        if (next < 0) break;
        prev = next_at;
        const arg_t *key = &c->argv[streams_arg + next];
        dbkey k;
        dbkey_init(&k, c->db, key->ptr, key->len);
        entry *e = db_lookup(&k, LOOKUP_READ, NULL);
        if (!e || entry_type(e) != OBJ_STREAM) {
            add_reply_error(c, "UNBLOCKED the stream key no longer exists");
            return;
        }
        stream *s = entry_ptr(e);
        stream_cg *cg = find_group(s, group);
        if (!cg) {
            add_reply_error(c, "NOGROUP the consumer group this client was blocked on no longer exists");
            return;
        }
        if (stream_id_cmp(&s->last_id, &cg->last_id) <= 0) continue;
        if (c->resp == 2)
            add_reply_array(c, 1);
        else
            add_reply_map(c, 1);
        stream_id gt = cg->last_id;
        xreadgroup_serve_stream(c, key, s, cg, &gt, false, group, consumer, noack, count);
        return;
    }
    blocking_block_stream(c, streams_arg, nstreams, NULL, 0);
}

/* XREADGROUP GROUP group consumer [COUNT n] [BLOCK ms] [NOACK] STREAMS key... id... */
static void xreadgroup_command(client *c) {
    t_stream_read_args a;
    if (!t_stream_parse_read_args(c, true, &a)) return;
    long long timeout = a.deadline, count = a.count;
    int streams_arg = a.streams_arg, nstreams = a.nstreams;
    const arg_t *group = a.group, *consumer = a.consumer;
    bool noack = a.noack;
    if (!group) {
        add_reply_error(c, "ERR Missing GROUP option for XREADGROUP");
        return;
    }
    propagate_prevent(); /* propagated as XCLAIM / XGROUP, entry by entry */
    if (blocking_client_is_blocked(c)) {
        xreadgroup_serve_woken(c, streams_arg, nstreams, group, consumer, noack,
                               count ? count : XREAD_BLOCKED_DEFAULT_COUNT);
        return;
    }

    typedef struct {
        stream *s;
        stream_cg *cg;
        stream_id gt;
        bool history;
    } target;
    target local[ID_STATIC];
    target *t = nstreams > ID_STATIC ? mem_alloc(sizeof *t * (size_t)nstreams) : local;
    for (int i = 0; i < nstreams; i++) {
        const arg_t *key = &c->argv[streams_arg + i], *idarg = &c->argv[streams_arg + nstreams + i];
        dbkey k;
        bool err;
        memset(&t[i], 0, sizeof t[i]);
        t[i].s = lookup_stream(c, streams_arg + i, LOOKUP_READ, &k, &err);
        if (err) goto done;
        t[i].cg = find_group(t[i].s, group);
        if (!t[i].cg) {
            reply_nogroup_key(c, key, group, " in XREADGROUP with GROUP option");
            goto done;
        }
        if (idarg->len == 1 && idarg->ptr[0] == '$') {
            add_reply_error(c, "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the "
                               "history of this consumer by specifying a proper ID, or use the > ID to get new "
                               "messages. The $ ID would just return an empty result set.");
            goto done;
        } else if (idarg->len == 1 && idarg->ptr[0] == '>') {
            t[i].gt = (stream_id){UINT64_MAX, UINT64_MAX};
        } else if (!t_stream_parse_id_or_reply(c, idarg, &t[i].gt, 0, true)) {
            goto done;
        }
    }
    /* Redis decides stream by stream while it replies (a later stream
     * reading the same group sees what an earlier one delivered), its
     * array length deferred: with one stream the decision comes first,
     * with more the served streams are built aside */
    int served = 0;
    deferred_reply d;
    if (nstreams > 1) deferred_begin(c, &d);
    for (int i = 0; i < nstreams; i++) {
        target *x = &t[i];
        if (!x->s) continue;
        if (!is_max_id(&x->gt)) {
            x->history = true;
        } else {
            stream_id maxid;
            if (!x->s->length || !stream_last_live(x->s, &maxid) || stream_id_cmp(&maxid, &x->cg->last_id) <= 0)
                continue;
            x->gt = x->cg->last_id;
        }
        served++;
        if (nstreams == 1) {
            if (c->resp == 2)
                add_reply_array(c, 1);
            else
                add_reply_map(c, 1);
        }
        xreadgroup_serve_stream(c, &c->argv[streams_arg + i], x->s, x->cg, &x->gt, x->history, group, consumer,
                                noack, count);
    }
    if (nstreams > 1) {
        reply_buf body;
        deferred_take(c, &d, &body);
        if (served) {
            if (c->resp == 2)
                add_reply_array(c, served);
            else
                add_reply_map(c, served);
        }
        deferred_put(c, &body);
    }
    if (!served) {
        if (timeout != -1)
            blocking_block_stream(c, streams_arg, nstreams, NULL, timeout);
        else
            add_reply_null_array(c);
    }
done:
    if (t != local) mem_free(t);
}

/* ---------------------------------------------------------------- XACK */

static void xack_command(client *c) {
    dbkey k;
    bool err;
    stream *s = lookup_stream(c, 1, LOOKUP_READ, &k, &err);
    if (err) return;
    stream_cg *cg = find_group(s, &c->argv[2]);
    if (!cg) {
        add_reply_integer(c, 0);
        return;
    }
    int n = c->argc - 3;
    stream_id sids[ID_STATIC];
    stream_id *ids = n > ID_STATIC ? mem_alloc(sizeof(stream_id) * (size_t)n) : sids;
    for (int j = 0; j < n; j++)
        if (!t_stream_parse_id_or_reply(c, &c->argv[j + 3], &ids[j], 0, true)) goto done;
    long long acked = 0;
    for (int j = 0; j < n; j++) {
        if (!stream_cg_pel_delete(cg, &ids[j])) continue;
        acked++;
        db_changed_unwatched(&k, 0, NULL);
    }
    add_reply_integer(c, acked);
done:
    if (ids != sids) mem_free(ids);
}

/* ---------------------------------------------------------------- XPENDING */

/* XPENDING key group [[IDLE min-idle] start end count [consumer]] */
static void xpending_command(client *c) {
    bool justinfo = c->argc == 3;
    stream_id start = {0, 0}, end = {0, 0};
    long long count = 0, minidle = 0;
    const arg_t *consumer_name = NULL;
    if (c->argc != 3 && (c->argc < 6 || c->argc > 9)) {
        add_reply_error(c, ERR_SYNTAX);
        return;
    }
    if (c->argc >= 6) {
        int at = 3;
        if (arg_eq(&c->argv[3], "IDLE")) {
            if (!arg_ll_or_reply(c, &c->argv[4], &minidle, NULL)) return;
            if (c->argc < 8) {
                add_reply_error(c, ERR_SYNTAX);
                return;
            }
            at += 2;
        }
        if (!arg_ll_or_reply(c, &c->argv[at + 2], &count, NULL)) return;
        if (count < 0) count = 0;
        if (!range_start_or_reply(c, &c->argv[at], &start) || !range_end_or_reply(c, &c->argv[at + 1], &end)) return;
        if (at + 3 < c->argc) consumer_name = &c->argv[at + 3];
    }
    dbkey k;
    stream *s;
    stream_cg *cg = group_or_reply(c, &k, &s);
    if (!cg) return;
    if (justinfo) {
        size_t n = stream_cg_pel_count(cg);
        add_reply_array(c, 4);
        add_reply_integer(c, (long long)n);
        if (!n) {
            add_reply_null(c);
            add_reply_null(c);
            add_reply_null_array(c);
            return;
        }
        t_stream_reply_id(c, &stream_cg_pel_at(cg, 0)->id);
        t_stream_reply_id(c, &stream_cg_pel_at(cg, n - 1)->id);
        long long with = 0;
        for (size_t i = 0; i < stream_cg_consumer_count(cg); i++)
            with += stream_consumer_pel_count(stream_cg_consumer_at(cg, i)) > 0;
        add_reply_array(c, with);
        for (size_t i = 0; i < stream_cg_consumer_count(cg); i++) {
            const stream_consumer *sc = stream_cg_consumer_at(cg, i);
            size_t pending = stream_consumer_pel_count(sc);
            if (!pending) continue;
            add_reply_array(c, 2);
            add_reply_bulk(c, sc->name, sc->name_len);
            char buf[24];
            size_t len = format_ll(buf, sizeof buf, (long long)pending);
            add_reply_bulk(c, buf, len);
        }
        return;
    }
    const stream_consumer *sc = NULL;
    if (consumer_name) {
        sc = stream_cg_consumer_find(cg, consumer_name->ptr, consumer_name->len);
        if (!sc) {
            add_reply_array(c, 0);
            return;
        }
    }
    long long now = mstime();
    /* one pass finds the entries (the length goes first), one replies */
    size_t i = sc ? stream_consumer_pel_seek(sc, &start) : stream_cg_pel_seek(cg, &start);
    size_t total = sc ? stream_consumer_pel_count(sc) : stream_cg_pel_count(cg);
    size_t local[32], *pick = local, npick = 0, cap = 32;
    for (; count && i < total; i++) {
        const stream_nack *nack =
            sc ? stream_cg_pel_find(cg, stream_consumer_pel_at(sc, i)) : stream_cg_pel_at(cg, i);
        if (stream_id_cmp(&nack->id, &end) > 0) break;
        if (minidle && ms_since(now, nack->delivery_time) < minidle) continue;
        if (npick == cap) {
            cap *= 2;
            if (pick == local) {
                pick = mem_alloc(sizeof *pick * cap);
                memcpy(pick, local, sizeof local);
            } else {
                pick = mem_realloc(pick, sizeof *pick * cap);
            }
        }
        pick[npick++] = i;
        count--;
    }
    add_reply_array(c, (long long)npick);
    for (size_t j = 0; j < npick; j++) {
        const stream_nack *nack =
            sc ? stream_cg_pel_find(cg, stream_consumer_pel_at(sc, pick[j])) : stream_cg_pel_at(cg, pick[j]);
        add_reply_array(c, 4);
        t_stream_reply_id(c, &nack->id);
        add_reply_bulk(c, nack->consumer->name, nack->consumer->name_len);
        long long elapsed = ms_since(now, nack->delivery_time);
        add_reply_integer(c, elapsed < 0 ? 0 : elapsed);
        add_reply_integer(c, (long long)nack->delivery_count);
    }
    if (pick != local) mem_free(pick);
}

/* ---------------------------------------------------------------- XCLAIM / XAUTOCLAIM */

/* Give the pending entry to consumer (Redis's common part of XCLAIM and
 * XAUTOCLAIM), reply it, propagate it. */
static void claim_one(client *c, const stream *s, stream_cg *cg, stream_nack *nack, stream_consumer *sc,
                      long long delivery_time, long long retrycount, bool justid) {
    stream_cg_pel_move(cg, nack, sc);
    nack->delivery_time = delivery_time;
    if (retrycount >= 0)
        nack->delivery_count = (uint64_t)retrycount;
    else if (!justid)
        nack->delivery_count++;
    if (justid)
        t_stream_reply_id(c, &nack->id);
    else
        t_stream_reply_entry(c, s, &nack->id);
}

/* XCLAIM key group consumer min-idle-time id... [IDLE ms] [TIME ms] [RETRYCOUNT n] [FORCE] [JUSTID] [LASTID id] */
static void xclaim_command(client *c) {
    dbkey k;
    stream *s;
    stream_cg *cg = group_or_reply(c, &k, &s);
    if (!cg) return;
    long long minidle, retrycount = -1, deliverytime = -1;
    bool force = false, justid = false;
    if (!arg_ll_or_reply(c, &c->argv[4], &minidle, "ERR Invalid min-idle-time argument for XCLAIM")) return;
    if (minidle < 0) minidle = 0;
    int n = c->argc - 5, j;
    stream_id sids[ID_STATIC];
    stream_id *ids = n > ID_STATIC ? mem_alloc(sizeof(stream_id) * (size_t)n) : sids;
    for (j = 5; j < c->argc; j++)
        if (!t_stream_parse_id_or_reply(NULL, &c->argv[j], &ids[j - 5], 0, true)) break;
    int last_id_arg = j - 1;
    long long now = mstime();
    stream_id last_id = {0, 0};
    for (; j < c->argc; j++) {
        int moreargs = c->argc - 1 - j;
        const arg_t *o = &c->argv[j];
        if (arg_eq(o, "FORCE")) {
            force = true;
        } else if (arg_eq(o, "JUSTID")) {
            justid = true;
        } else if (arg_eq(o, "IDLE") && moreargs) {
            j++;
            if (!arg_ll_or_reply(c, &c->argv[j], &deliverytime, "ERR Invalid IDLE option argument for XCLAIM"))
                goto done;
            deliverytime = (long long)((unsigned long long)now - (unsigned long long)deliverytime);
        } else if (arg_eq(o, "TIME") && moreargs) {
            j++;
            if (!arg_ll_or_reply(c, &c->argv[j], &deliverytime, "ERR Invalid TIME option argument for XCLAIM"))
                goto done;
        } else if (arg_eq(o, "RETRYCOUNT") && moreargs) {
            j++;
            if (!arg_ll_or_reply(c, &c->argv[j], &retrycount, "ERR Invalid RETRYCOUNT option argument for XCLAIM"))
                goto done;
        } else if (arg_eq(o, "LASTID") && moreargs) {
            j++;
            if (!t_stream_parse_id_or_reply(c, &c->argv[j], &last_id, 0, true)) goto done;
        } else {
            add_reply_errorf(c, "ERR Unrecognized XCLAIM option '%.*s'", (int)o->len, o->ptr);
            goto done;
        }
    }
    propagate_prevent(); /* propagated entry by entry */
    bool propagate_last_id = false;
    if (stream_id_cmp(&last_id, &cg->last_id) > 0) {
        cg->last_id = last_id;
        propagate_last_id = true;
    }
    if (deliverytime != -1) {
        if (deliverytime < 0 || deliverytime > now) deliverytime = now;
    } else {
        deliverytime = now;
    }
    stream_consumer *sc = NULL;
    deferred_reply d;
    deferred_begin(c, &d);
    long long claimed = 0;
    for (j = 5; j <= last_id_arg; j++) {
        const stream_id *id = &ids[j - 5];
        const arg_t *idarg = &c->argv[j];
        stream_nack *nack = stream_cg_pel_find(cg, id);
        if (!stream_entry_exists(s, id)) {
            if (nack) {
                /* gone from the stream: dropped from the PEL, and so on the replica */
                propagate_xclaim(c, &c->argv[1], cg, &c->argv[2], idarg->ptr, idarg->len, nack);
                propagate_last_id = false;
                stream_cg_pel_delete(cg, id);
                db_changed_unwatched(&k, 0, NULL);
            }
            continue;
        }
        if (force && !nack) nack = stream_cg_pel_add(cg, id, now, 1, NULL); /* Redis's streamCreateNACK */
        if (!nack) continue;
        if (nack->consumer && minidle && ms_since(now, nack->delivery_time) < minidle) continue;
        if (!sc) {
            bool created;
            sc = lookup_or_create_consumer(&k, cg, &c->argv[3], &created);
        }
        claim_one(c, s, cg, nack, sc, deliverytime, retrycount, justid);
        claimed++;
        propagate_xclaim(c, &c->argv[1], cg, &c->argv[2], idarg->ptr, idarg->len, nack);
        propagate_last_id = false;
        db_changed_unwatched(&k, 0, NULL);
    }
    if (propagate_last_id) {
        propagate_group_id(c, &c->argv[1], cg, &c->argv[2]);
        db_changed_unwatched(&k, 0, NULL);
    }
    deferred_end_array(c, &d, claimed);
done:
    if (ids != sids) mem_free(ids);
}

/* XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID] */
static void xautoclaim_command(client *c) {
    long long minidle, count = 100;
    const long long attempts_factor = 10;
    stream_id start;
    bool justid = false;
    if (!arg_ll_or_reply(c, &c->argv[4], &minidle, "ERR Invalid min-idle-time argument for XAUTOCLAIM")) return;
    if (minidle < 0) minidle = 0;
    if (!range_start_or_reply(c, &c->argv[5], &start)) return;
    for (int j = 6; j < c->argc; j++) {
        int moreargs = c->argc - 1 - j;
        if (arg_eq(&c->argv[j], "COUNT") && moreargs) {
            long long max_count = LONG_MAX / (long long)(sizeof(stream_id) > 10 ? sizeof(stream_id) : 10);
            long long v;
            if (!parse_ll(c->argv[j + 1].ptr, c->argv[j + 1].len, &v) || v < 1 || v > max_count) {
                add_reply_error(c, "ERR COUNT must be > 0");
                return;
            }
            count = v;
            j++;
        } else if (arg_eq(&c->argv[j], "JUSTID")) {
            justid = true;
        } else {
            add_reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    dbkey k;
    stream *s;
    stream_cg *cg = group_or_reply(c, &k, &s);
    if (!cg) return;
    /* Redis allocates count IDs up front for the deleted ones and refuses
     * a COUNT it cannot allocate: past the 47-bit address space here (the
     * list itself grows as it fills) */
    if ((unsigned long long)count > (1ULL << 47) / sizeof(stream_id)) {
        add_reply_error(c, "ERR Insufficient memory, failed allocating transient memory, COUNT too high.");
        return;
    }
    propagate_prevent();
    long long attempts = count * attempts_factor, now = mstime();
    stream_id *deleted = NULL;
    size_t ndeleted = 0, deleted_cap = 0;
    stream_consumer *sc = NULL;
    deferred_reply d;
    deferred_begin(c, &d);
    long long claimed = 0;
    size_t i = stream_cg_pel_seek(cg, &start);
    while (attempts-- && count && i < stream_cg_pel_count(cg)) {
        stream_nack *nack = stream_cg_pel_at(cg, i);
        stream_id id = nack->id;
        if (!stream_entry_exists(s, &id)) {
            propagate_xclaim_id(c, &c->argv[1], cg, &c->argv[2], nack);
            db_changed_unwatched(&k, 0, NULL);
            stream_cg_pel_delete(cg, &id);
            if (ndeleted == deleted_cap) {
                deleted_cap = deleted_cap ? deleted_cap * 2 : 16;
                deleted = mem_realloc(deleted, sizeof *deleted * deleted_cap);
            }
            deleted[ndeleted++] = id;
            count--;
            continue;
        }
        if (minidle && ms_since(now, nack->delivery_time) < minidle) {
            i++;
            continue;
        }
        if (!sc) {
            bool created;
            sc = lookup_or_create_consumer(&k, cg, &c->argv[3], &created);
        }
        claim_one(c, s, cg, nack, sc, now, -1, justid);
        claimed++;
        count--;
        propagate_xclaim_id(c, &c->argv[1], cg, &c->argv[2], stream_cg_pel_at(cg, i));
        db_changed_unwatched(&k, 0, NULL);
        i++;
    }
    stream_id next = i < stream_cg_pel_count(cg) ? stream_cg_pel_at(cg, i)->id : (stream_id){0, 0};
    reply_buf body;
    deferred_take(c, &d, &body);
    add_reply_array(c, 3);
    t_stream_reply_id(c, &next);
    add_reply_array(c, claimed);
    deferred_put(c, &body);
    add_reply_array(c, (long long)ndeleted);
    for (size_t j = 0; j < ndeleted; j++) t_stream_reply_id(c, &deleted[j]);
    mem_free(deleted);
}

/* ---------------------------------------------------------------- XINFO (t_stream.h) */

/* last-delivered-id, entries-read and lag (null when unknown). */
static void reply_progress(client *c, const stream *s, const stream_cg *cg) {
    add_reply_bulk_cstr(c, "last-delivered-id");
    t_stream_reply_id(c, &cg->last_id);
    add_reply_bulk_cstr(c, "entries-read");
    if (cg->entries_read != STREAM_CG_INVALID_ENTRIES_READ)
        add_reply_integer(c, cg->entries_read);
    else
        add_reply_null(c);
    add_reply_bulk_cstr(c, "lag");
    long long lag;
    if (stream_cg_lag(s, cg, &lag))
        add_reply_integer(c, lag);
    else
        add_reply_null(c);
}

void t_stream_group_reply_groups(client *c, const stream *s) {
    size_t n = stream_cg_count(s);
    add_reply_array(c, (long long)n);
    for (size_t i = 0; i < n; i++) {
        const stream_cg *cg = stream_cg_at(s, i);
        add_reply_map(c, 6);
        add_reply_bulk_cstr(c, "name");
        add_reply_bulk(c, cg->name, cg->name_len);
        add_reply_bulk_cstr(c, "consumers");
        add_reply_integer(c, (long long)stream_cg_consumer_count(cg));
        add_reply_bulk_cstr(c, "pending");
        add_reply_integer(c, (long long)stream_cg_pel_count(cg));
        reply_progress(c, s, cg);
    }
}

void t_stream_group_reply_consumers(client *c, const stream *s, const arg_t *key, const arg_t *group) {
    const stream_cg *cg = stream_cg_find(s, group->ptr, group->len);
    if (!cg) {
        reply_nogroup(c, key, group);
        return;
    }
    long long now = mstime();
    add_reply_array(c, (long long)stream_cg_consumer_count(cg));
    for (size_t i = 0; i < stream_cg_consumer_count(cg); i++) {
        const stream_consumer *sc = stream_cg_consumer_at(cg, i);
        long long idle = ms_since(now, sc->seen_time);
        add_reply_map(c, 3);
        add_reply_bulk_cstr(c, "name");
        add_reply_bulk(c, sc->name, sc->name_len);
        add_reply_bulk_cstr(c, "pending");
        add_reply_integer(c, (long long)stream_consumer_pel_count(sc));
        add_reply_bulk_cstr(c, "idle");
        add_reply_integer(c, idle < 0 ? 0 : idle);
    }
}

static size_t capped(size_t n, long long count) {
    return count > 0 && (unsigned long long)count < n ? (size_t)count : n;
}

void t_stream_group_reply_full(client *c, const stream *s, long long count) {
    size_t ng = stream_cg_count(s);
    add_reply_array(c, (long long)ng);
    for (size_t g = 0; g < ng; g++) {
        const stream_cg *cg = stream_cg_at(s, g);
        add_reply_map(c, 7);
        add_reply_bulk_cstr(c, "name");
        add_reply_bulk(c, cg->name, cg->name_len);
        reply_progress(c, s, cg);
        add_reply_bulk_cstr(c, "pel-count");
        add_reply_integer(c, (long long)stream_cg_pel_count(cg));
        add_reply_bulk_cstr(c, "pending");
        size_t np = capped(stream_cg_pel_count(cg), count);
        add_reply_array(c, (long long)np);
        for (size_t i = 0; i < np; i++) {
            const stream_nack *nack = stream_cg_pel_at(cg, i);
            add_reply_array(c, 4);
            t_stream_reply_id(c, &nack->id);
            add_reply_bulk(c, nack->consumer->name, nack->consumer->name_len);
            add_reply_integer(c, nack->delivery_time);
            add_reply_integer(c, (long long)nack->delivery_count);
        }
        add_reply_bulk_cstr(c, "consumers");
        add_reply_array(c, (long long)stream_cg_consumer_count(cg));
        for (size_t i = 0; i < stream_cg_consumer_count(cg); i++) {
            const stream_consumer *sc = stream_cg_consumer_at(cg, i);
            add_reply_map(c, 4);
            add_reply_bulk_cstr(c, "name");
            add_reply_bulk(c, sc->name, sc->name_len);
            add_reply_bulk_cstr(c, "seen-time");
            add_reply_integer(c, sc->seen_time);
            add_reply_bulk_cstr(c, "pel-count");
            add_reply_integer(c, (long long)stream_consumer_pel_count(sc));
            add_reply_bulk_cstr(c, "pending");
            size_t nc = capped(stream_consumer_pel_count(sc), count);
            add_reply_array(c, (long long)nc);
            for (size_t j = 0; j < nc; j++) {
                const stream_nack *nack = stream_cg_pel_find(cg, stream_consumer_pel_at(sc, j));
                add_reply_array(c, 3);
                t_stream_reply_id(c, &nack->id);
                add_reply_integer(c, nack->delivery_time);
                add_reply_integer(c, (long long)nack->delivery_count);
            }
        }
    }
}

/* ---------------------------------------------------------------- table */

#define KEY1 .first_key = 1, .last_key = 1, .key_step = 1
#define KEY2 .first_key = 2, .last_key = 2, .key_step = 1

static command xgroup_subcommands[] = {
    {.name = "create", .arity = -5, .flags = CMD_WRITE | CMD_DENYOOM, KEY2, .proc = xgroup_command,
     .group = "stream", .since = "5.0.0", .summary = "Create a consumer group.", .complexity = "O(1)",
     .acl_categories = "write stream slow"},
    {.name = "createconsumer", .arity = 5, .flags = CMD_WRITE | CMD_DENYOOM, KEY2, .proc = xgroup_command,
     .group = "stream", .since = "6.2.0", .summary = "Create a consumer in a consumer group.",
     .complexity = "O(1)", .acl_categories = "write stream slow"},
    {.name = "delconsumer", .arity = 5, .flags = CMD_WRITE, KEY2, .proc = xgroup_command, .group = "stream",
     .since = "5.0.0", .summary = "Delete a consumer from a consumer group.", .complexity = "O(1)",
     .acl_categories = "write stream slow"},
    {.name = "destroy", .arity = 4, .flags = CMD_WRITE, KEY2, .proc = xgroup_command, .group = "stream",
     .since = "5.0.0", .summary = "Destroy a consumer group.",
     .complexity = "O(N) where N is the number of entries in the group's pending entries list (PEL).",
     .acl_categories = "write stream slow"},
    {.name = "help", .arity = 2, .flags = CMD_LOADING | CMD_STALE, .proc = xgroup_command, .group = "stream",
     .since = "5.0.0", .summary = "Show helpful text about the different subcommands", .complexity = "O(1)",
     .acl_categories = "stream slow"},
    {.name = "setid", .arity = -5, .flags = CMD_WRITE, KEY2, .proc = xgroup_command, .group = "stream",
     .since = "5.0.0", .summary = "Set a consumer group to an arbitrary last delivered ID value.",
     .complexity = "O(1)", .acl_categories = "write stream slow"},
    {0},
};

command stream_group_commands[] = {
    {.name = "xgroup", .arity = -2, .flags = 0, .group = "stream", .since = "5.0.0",
     .summary = "A container for consumer groups commands", .complexity = "Depends on subcommand.",
     .acl_categories = "slow", .subcommands = xgroup_subcommands},
    {.name = "xreadgroup", .arity = -7, .flags = CMD_WRITE | CMD_BLOCKING, .keys_fn = t_stream_xread_keys,
     .proc = xreadgroup_command, .group = "stream", .since = "5.0.0",
     .summary = "Return new entries from a stream using a consumer group, or access the history of the pending "
                "entries for a given consumer. Can block.",
     .complexity = "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant "
                   "(e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the "
                   "other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients "
                   "blocked on the stream getting new data.",
     .acl_categories = "write stream slow blocking"},
    {.name = "xack", .arity = -4, .flags = CMD_WRITE | CMD_FAST, KEY1, .proc = xack_command, .group = "stream",
     .since = "5.0.0",
     .summary = "Marks a pending message as correctly processed, effectively removing it from the pending entries "
                "list of the consumer group. Return value of the command is the number of messages successfully "
                "acknowledged, that is, the IDs we were actually able to resolve in the PEL.",
     .complexity = "O(1) for each message ID processed.", .acl_categories = "write stream fast"},
    {.name = "xpending", .arity = -3, .flags = CMD_READONLY, KEY1, .proc = xpending_command, .group = "stream",
     .since = "5.0.0",
     .summary = "Return information and entries from a stream consumer group pending entries list, that are "
                "messages fetched but never acknowledged.",
     .complexity = "O(N) with N being the number of elements returned, so asking for a small fixed number of "
                   "entries per call is O(1). O(M), where M is the total number of entries scanned when used with "
                   "the IDLE filter. When the command returns just the summary and the list of consumers is small, "
                   "it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.",
     .acl_categories = "read stream slow"},
    {.name = "xclaim", .arity = -6, .flags = CMD_WRITE | CMD_FAST, KEY1, .proc = xclaim_command, .group = "stream",
     .since = "5.0.0",
     .summary = "Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered "
                "to the specified consumer.",
     .complexity = "O(log N) with N being the number of messages in the PEL of the consumer group.",
     .acl_categories = "write stream fast"},
    {.name = "xautoclaim", .arity = -6, .flags = CMD_WRITE | CMD_FAST, KEY1, .proc = xautoclaim_command,
     .group = "stream", .since = "6.2.0",
     .summary = "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered "
                "to the specified consumer.",
     .complexity = "O(1) if COUNT is small.", .acl_categories = "write stream fast"},
    {0},
};
