/*
 * t_string.c - the string commands (GET, SET and its family, MGET/MSET,
 * APPEND, SETRANGE/GETRANGE, the INCR family, GETEX/GETDEL/GETSET).
 *
 * Design choices a reader must know:
 * - String values live inline in the keyspace entry, so every change that
 *   alters a value's size builds a new entry (carrying the old entry's
 *   expire when Redis keeps the TTL) and swaps it in with db_replace. Only
 *   INCR-family updates of an int-encoded entry are done in place.
 * - Encodings follow what Redis 7.0 reports in OBJECT ENCODING: values set
 *   from arguments go through entry_new_string (int/embstr/raw), APPEND and
 *   SETRANGE results on existing keys are raw, INCR results are int and
 *   INCRBYFLOAT results are embstr/raw strings (never int).
 * - Every write states its change through the write funnel with Redis
 *   7.0's keyspace events (db_changed: "set", "expire", "append",
 *   "setrange", "incrby", "incrbyfloat", "del", "persist"), which also runs
 *   WATCH, dirty and the stream's change mark.
 * - SET also takes Redis 8.4's compare-and-set conditions (IFEQ, IFNE, IFDEQ,
 *   IFDNE; Valkey 8.1 has IFEQ) for locks without Lua (issue 5; the other
 *   lock commands are in t_lock.c). Without one of them SET behaves exactly
 *   as in Redis 7.0.
 */
#include "client.h"
#include "command_modules.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "entry.h"
#include "mem.h"
#include "notify.h"
#include "numparse.h"
#include "propagate.h"
#include "t_string.h"
#include "xxh3.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#define STR_LD_BUF (5 * 1024) /* Redis's MAX_LONG_DOUBLE_CHARS */

/* ------------------------------------------------------------ helpers */

/* Look up argv[i] as a key of the client's db. */
static entry *str_lookup(client *c, int i, dbkey *k, int flags, long *pos) {
    dbkey_init(k, c->db, c->argv[i].ptr, c->argv[i].len);
    return db_lookup(k, flags, pos);
}

static void str_reply_value(client *c, const entry *e) {
    char buf[32];
    size_t len;
    const char *v = entry_string_value(e, buf, &len);
    add_reply_bulk(c, v, len);
}

static size_t str_value_len(const entry *e) {
    char buf[32];
    size_t len;
    entry_string_value(e, buf, &len);
    return len;
}

/* Insert e at the looked-up position (pos < 0: the key was absent). */
static void str_store(const dbkey *k, long pos, entry *e) {
    if (pos >= 0)
        db_replace(k, pos, e);
    else
        db_add(k, e);
}

/* Redis's checkStringLength: size + append must fit proto-max-bulk-len. */
static bool str_length_ok(client *c, long long size, long long append) {
    long long total = (long long)((uint64_t)size + (uint64_t)append);
    if (total > cfg_get(proto_max_bulk_len) || total < size || total < append) {
        add_reply_error(c, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        return false;
    }
    return true;
}

/* A string entry for the bytes `val` with the given encoding forced to a
 * plain string (embstr up to 44 bytes, raw beyond), as Redis's
 * createStringObject makes for INCRBYFLOAT results. */
static entry *str_new_plain(const arg_t *key, const char *val, size_t vlen, long long expire) {
    entry *e = entry_new_string(key->ptr, key->len, val, vlen, expire, true);
    if (vlen <= EMBSTR_SIZE_LIMIT) entry_set_encoding(e, ENC_EMBSTR);
    return e;
}

/* Overwrite the int of an ENC_INT entry in place. The layout in entry.h puts
 * the 8-byte value right after the key bytes. */
static void str_int_store_inplace(entry *e, long long v) {
    size_t klen;
    const char *key = entry_key(e, &klen);
    memcpy((char *)key + klen, &v, sizeof v);
}

/* ------------------------------------------------------------ SET options */

enum {
    STR_NX = 1 << 0,
    STR_XX = 1 << 1,
    STR_GET = 1 << 2,
    STR_KEEPTTL = 1 << 3,
    STR_PERSIST = 1 << 4,
    STR_EX = 1 << 5,
    STR_PX = 1 << 6,
    STR_EXAT = 1 << 7,
    STR_PXAT = 1 << 8,
    /* Redis 8.4 conditions: compare the current value (or its XXH3 digest). */
    STR_IFEQ = 1 << 9,
    STR_IFNE = 1 << 10,
    STR_IFDEQ = 1 << 11,
    STR_IFDNE = 1 << 12,
};
#define STR_ANY_EXPIRE (STR_EX | STR_PX | STR_EXAT | STR_PXAT)
#define STR_ANY_COND (STR_IFEQ | STR_IFNE | STR_IFDEQ | STR_IFDNE)

typedef struct {
    int flags;
    const arg_t *expire; /* the EX/PX/EXAT/PXAT argument, or NULL */
    const arg_t *cond;   /* the IFEQ/IFNE/IFDEQ/IFDNE argument, or NULL */
} str_opts;

/* Parse SET (is_set) or GETEX options starting at argv[from], with Redis
 * 7.0's acceptance rules (a repeated option is fine, a conflicting one is a
 * syntax error). Replies and returns false on error. */
static bool str_parse_opts(client *c, int from, bool is_set, str_opts *o) {
    o->flags = 0;
    o->expire = NULL;
    o->cond = NULL;
    for (int j = from; j < c->argc; j++) {
        const arg_t *a = &c->argv[j];
        bool has_next = j + 1 < c->argc;
        int f = o->flags;
        if (is_set && arg_eq(a, "nx") && !(f & (STR_XX | STR_ANY_COND))) {
            o->flags |= STR_NX;
        } else if (is_set && arg_eq(a, "xx") && !(f & (STR_NX | STR_ANY_COND))) {
            o->flags |= STR_XX;
        } else if (is_set && has_next && !(f & (STR_NX | STR_XX | STR_ANY_COND)) &&
                   (arg_eq(a, "ifeq") || arg_eq(a, "ifne") || arg_eq(a, "ifdeq") || arg_eq(a, "ifdne"))) {
            /* One condition at most, never with NX/XX (Redis 8.4). */
            o->flags |= arg_eq(a, "ifeq") ? STR_IFEQ : arg_eq(a, "ifne") ? STR_IFNE
                      : arg_eq(a, "ifdeq") ? STR_IFDEQ : STR_IFDNE;
            o->cond = &c->argv[++j];
        } else if (is_set && arg_eq(a, "get")) {
            o->flags |= STR_GET;
        } else if (is_set && arg_eq(a, "keepttl") && !(f & (STR_PERSIST | STR_ANY_EXPIRE))) {
            o->flags |= STR_KEEPTTL;
        } else if (!is_set && arg_eq(a, "persist") && !(f & (STR_KEEPTTL | STR_ANY_EXPIRE))) {
            o->flags |= STR_PERSIST;
        } else if (has_next && (arg_eq(a, "ex") || arg_eq(a, "px") || arg_eq(a, "exat") || arg_eq(a, "pxat"))) {
            int which = arg_eq(a, "ex") ? STR_EX : arg_eq(a, "px") ? STR_PX : arg_eq(a, "exat") ? STR_EXAT : STR_PXAT;
            if (f & (STR_KEEPTTL | STR_PERSIST | (STR_ANY_EXPIRE & ~which))) {
                add_reply_error(c, ERR_SYNTAX);
                return false;
            }
            o->flags |= which;
            o->expire = &c->argv[++j];
        } else {
            add_reply_error(c, ERR_SYNTAX);
            return false;
        }
    }
    return true;
}

/* Turn an expire argument into absolute unix ms (Redis's
 * getExpireMillisecondsOrReply). `which` is one of STR_EX/PX/EXAT/PXAT;
 * `cmd` names the command in the error. */
static bool str_expire_ms(client *c, const arg_t *a, int which, const char *cmd, long long *out) {
    long long v;
    if (!arg_ll_or_reply(c, a, &v, NULL)) return false;
    bool seconds = which & (STR_EX | STR_EXAT);
    if (v <= 0 || (seconds && v > LLONG_MAX / 1000)) goto invalid;
    if (seconds) v *= 1000;
    if (which & (STR_EX | STR_PX)) {
        long long now = db_now_ms();
        if (v > LLONG_MAX - now) goto invalid; /* Redis sees the sum wrap negative */
        v += now;
    }
    *out = v;
    return true;
invalid:
    add_reply_errorf(c, "ERR invalid expire time in '%s' command", cmd);
    return false;
}

/* ------------------------------------------------------------ SET family */

enum str_set_reply { STR_REPLY_OK, STR_REPLY_ONE_ZERO };

/* Whether SET's IF* condition lets the write happen. `old` is the live
 * string entry or NULL: a missing key satisfies IFNE/IFDNE (SET creates it)
 * but not IFEQ/IFDEQ. Digests compare case-insensitively with the value's
 * 16 lower-case hex digits (the caller has checked the length). */
static bool str_cond_holds(const str_opts *o, const entry *old) {
    int f = o->flags;
    if (!old) return f & (STR_IFNE | STR_IFDNE);
    char buf[32];
    size_t len;
    const char *v = entry_string_value(old, buf, &len);
    bool eq;
    if (f & (STR_IFEQ | STR_IFNE)) {
        eq = len == o->cond->len && memcmp(v, o->cond->ptr, len) == 0;
    } else {
        char hex[XXH3_HEX_LEN + 1];
        xxh3_64_hex(v, len, hex);
        eq = strncasecmp(hex, o->cond->ptr, XXH3_HEX_LEN) == 0;
    }
    return (f & (STR_IFEQ | STR_IFDEQ)) ? eq : !eq;
}

/* Arguments of SET's option at a that its propagated form leaves out: GET
 * (1) or a condition and its value (2); 0 for the rest. */
static int set_dropped_args(const arg_t *a) {
    if (arg_eq(a, "get")) return 1;
    if (arg_eq(a, "ifeq") || arg_eq(a, "ifne") || arg_eq(a, "ifdeq") || arg_eq(a, "ifdne")) return 2;
    return 0;
}

/* How a SET that wrote propagates (Redis 7.0's setGenericCommand): with
 * an expiry, as SET key value PXAT <absolute ms>; with GET (or a condition,
 * already checked here), as SET without them; otherwise verbatim. */
static void str_set_propagate(client *c, const str_opts *o, const arg_t *val, long long when) {
    if (o->expire) {
        propagate_rewrite_begin(5);
        propagate_arg_str("SET");
        propagate_arg(c->argv[1].ptr, c->argv[1].len);
        propagate_arg(val->ptr, val->len);
        propagate_arg_str("PXAT");
        propagate_arg_ll(when);
        return;
    }
    if (!(o->flags & (STR_GET | STR_ANY_COND))) return;
    int keep = 3;
    for (int j = 3; j < c->argc;) {
        int drop = set_dropped_args(&c->argv[j]);
        if (!drop) keep++;
        j += drop ? drop : 1;
    }
    propagate_rewrite_begin(keep);
    for (int j = 0; j < c->argc;) {
        int drop = j >= 3 ? set_dropped_args(&c->argv[j]) : 0;
        if (!drop) propagate_arg(c->argv[j].ptr, c->argv[j].len);
        j += drop ? drop : 1;
    }
}

/* The common part of SET, SETNX, SETEX and PSETEX: argv[1] is the key, `val`
 * the value. With STR_GET the old value is the reply. */
static void str_set_generic(client *c, const str_opts *o, const arg_t *val, const char *cmd,
                            enum str_set_reply mode) {
    long long when = -1;
    if (o->expire && !str_expire_ms(c, o->expire, o->flags & STR_ANY_EXPIRE, cmd, &when)) return;

    dbkey k;
    long pos;
    entry *old = str_lookup(c, 1, &k, (o->flags & STR_GET) ? LOOKUP_READ : LOOKUP_WRITE, &pos);
    if (o->flags & (STR_GET | STR_ANY_COND)) {
        if (reply_wrong_type(c, old, OBJ_STRING)) return;
        /* As Redis 8.4: a digest's length is checked when there is a value. */
        if (old && (o->flags & (STR_IFDEQ | STR_IFDNE)) && o->cond->len != XXH3_HEX_LEN) {
            add_reply_error(c, "ERR must be exactly 16 hexadecimal characters");
            return;
        }
    }
    if (o->flags & STR_GET) {
        if (old)
            str_reply_value(c, old);
        else
            add_reply_null(c);
    }

    if (((o->flags & STR_NX) && old) || ((o->flags & STR_XX) && !old) ||
        ((o->flags & STR_ANY_COND) && !str_cond_holds(o, old))) {
        if (o->flags & STR_GET) return;
        if (mode == STR_REPLY_ONE_ZERO)
            add_reply_integer(c, 0);
        else
            add_reply_null(c);
        return;
    }

    if (!o->expire && (o->flags & STR_KEEPTTL) && old) when = entry_expire(old);
    db_store_string(&k, pos, val->ptr, val->len, when, false);
    db_changed(&k, NOTIFY_STRING, "set");
    str_set_propagate(c, o, val, when);
    /* Redis 7.0 stores an already passed EXAT/PXAT too (the key expires on
     * its next access) and still raises "expire". */
    if (o->expire) db_changed(&k, NOTIFY_GENERIC, "expire");

    if (o->flags & STR_GET) return;
    if (mode == STR_REPLY_ONE_ZERO)
        add_reply_integer(c, 1);
    else
        add_reply_ok(c);
}

static void set_command(client *c) {
    str_opts o;
    if (!str_parse_opts(c, 3, true, &o)) return;
    str_set_generic(c, &o, &c->argv[2], "set", STR_REPLY_OK);
}

static void setnx_command(client *c) {
    str_opts o = {STR_NX, NULL, NULL};
    str_set_generic(c, &o, &c->argv[2], "setnx", STR_REPLY_ONE_ZERO);
}

static void setex_command(client *c) {
    str_opts o = {STR_EX, &c->argv[2], NULL};
    str_set_generic(c, &o, &c->argv[3], "setex", STR_REPLY_OK);
}

static void psetex_command(client *c) {
    str_opts o = {STR_PX, &c->argv[2], NULL};
    str_set_generic(c, &o, &c->argv[3], "psetex", STR_REPLY_OK);
}

/* ------------------------------------------------------------ GET family */

static void get_command(client *c) {
    dbkey k;
    entry *e = str_lookup(c, 1, &k, LOOKUP_READ, NULL);
    if (!e) {
        add_reply_null(c);
        return;
    }
    if (reply_wrong_type(c, e, OBJ_STRING)) return;
    str_reply_value(c, e);
}

static void getset_command(client *c) {
    dbkey k;
    long pos;
    entry *old = str_lookup(c, 1, &k, LOOKUP_READ, &pos);
    if (reply_wrong_type(c, old, OBJ_STRING)) return;
    if (old)
        str_reply_value(c, old);
    else
        add_reply_null(c);
    str_store(&k, pos, entry_new_string(k.key, k.len, c->argv[2].ptr, c->argv[2].len, -1, false));
    db_changed(&k, NOTIFY_STRING, "set");
    propagate_rewrite_begin(3); /* as SET */
    propagate_arg_str("SET");
    propagate_arg(c->argv[1].ptr, c->argv[1].len);
    propagate_arg(c->argv[2].ptr, c->argv[2].len);
}

static void getdel_command(client *c) {
    dbkey k;
    long pos;
    entry *e = str_lookup(c, 1, &k, LOOKUP_READ, &pos);
    if (!e) {
        add_reply_null(c);
        return;
    }
    if (reply_wrong_type(c, e, OBJ_STRING)) return;
    str_reply_value(c, e);
    db_delete_at(&k, pos);
    db_changed(&k, NOTIFY_GENERIC, "del");
    propagate_rewrite_key(c, cfg_get(lazyfree_lazy_user_del) ? "UNLINK" : "DEL");
}

static void getex_command(client *c) {
    str_opts o;
    if (!str_parse_opts(c, 2, false, &o)) return;

    dbkey k;
    long pos;
    entry *e = str_lookup(c, 1, &k, LOOKUP_READ, &pos);
    if (!e) {
        add_reply_null(c);
        return;
    }
    if (reply_wrong_type(c, e, OBJ_STRING)) return;
    int which = o.flags & STR_ANY_EXPIRE;
    long long when = -1;
    if (o.expire && !str_expire_ms(c, o.expire, which, "getex", &when)) return;

    str_reply_value(c, e);
    /* GETEX never propagates as itself: DEL/UNLINK, PEXPIREAT or PERSIST. */
    if ((which & (STR_EXAT | STR_PXAT)) && when <= db_now_ms()) {
        db_delete_at(&k, pos); /* an absolute time already passed: delete now */
        db_changed(&k, NOTIFY_GENERIC, "del");
        propagate_rewrite_key(c, cfg_get(lazyfree_lazy_expire) ? "UNLINK" : "DEL");
    } else if (o.expire) {
        db_set_expire_at(&k, pos, when);
        db_changed(&k, NOTIFY_GENERIC, "expire");
        propagate_rewrite_begin(3);
        propagate_arg_str("PEXPIREAT");
        propagate_arg(c->argv[1].ptr, c->argv[1].len);
        propagate_arg_ll(when);
    } else if ((o.flags & STR_PERSIST) && entry_has_expire(e)) {
        db_set_expire_at(&k, pos, -1); /* no TTL: nothing changes, no event */
        db_changed(&k, NOTIFY_GENERIC, "persist");
        propagate_rewrite_key(c, "PERSIST");
    }
}

static void mget_command(client *c) {
    add_reply_array(c, c->argc - 1);
    for (int i = 1; i < c->argc; i++) {
        dbkey k;
        entry *e = str_lookup(c, i, &k, LOOKUP_READ, NULL);
        if (!e || entry_type(e) != OBJ_STRING)
            add_reply_null(c);
        else
            str_reply_value(c, e);
    }
}

static void strlen_command(client *c) {
    dbkey k;
    entry *e = str_lookup(c, 1, &k, LOOKUP_READ, NULL);
    if (reply_wrong_type(c, e, OBJ_STRING)) return;
    add_reply_integer(c, e ? (long long)str_value_len(e) : 0);
}

static void getrange_command(client *c) {
    long long start, end;
    if (!arg_ll_or_reply(c, &c->argv[2], &start, NULL)) return;
    if (!arg_ll_or_reply(c, &c->argv[3], &end, NULL)) return;

    dbkey k;
    entry *e = str_lookup(c, 1, &k, LOOKUP_READ, NULL);
    if (!e) {
        add_reply_bulk(c, "", 0);
        return;
    }
    if (reply_wrong_type(c, e, OBJ_STRING)) return;

    char buf[32];
    size_t slen;
    const char *s = entry_string_value(e, buf, &slen);
    long long len = (long long)slen;
    if (start < 0 && end < 0 && start > end) {
        add_reply_bulk(c, "", 0);
        return;
    }
    if (start < 0) start += len;
    if (end < 0) end += len;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if (end >= len) end = len - 1;
    if (start > end || len == 0)
        add_reply_bulk(c, "", 0);
    else
        add_reply_bulk(c, s + start, (size_t)(end - start + 1));
}

/* ------------------------------------------------------------ MSET family */

static void mset_generic(client *c, bool nx, const char *cmd) {
    if (c->argc % 2 == 0) {
        add_reply_errorf(c, "ERR wrong number of arguments for '%s' command", cmd);
        return;
    }
    if (nx) {
        for (int i = 1; i < c->argc; i += 2) {
            dbkey k;
            if (str_lookup(c, i, &k, LOOKUP_WRITE, NULL)) {
                add_reply_integer(c, 0);
                return;
            }
        }
    }
    for (int i = 1; i < c->argc; i += 2) {
        dbkey k;
        dbkey_init(&k, c->db, c->argv[i].ptr, c->argv[i].len);
        db_set(&k, entry_new_string(k.key, k.len, c->argv[i + 1].ptr, c->argv[i + 1].len, -1, false));
        db_changed(&k, NOTIFY_STRING, "set");
    }
    if (nx)
        add_reply_integer(c, 1);
    else
        add_reply_ok(c);
}

static void mset_command(client *c) { mset_generic(c, false, "mset"); }
static void msetnx_command(client *c) { mset_generic(c, true, "msetnx"); }

/* ------------------------------------------------------------ APPEND, SETRANGE */

/* See t_string.h. Builds in the new entry itself: no intermediate copy. */
entry *str_build_raw(const dbkey *k, const char *ov, size_t olen, size_t offset, const char *add, size_t alen,
                     long long expire) {
    size_t total = offset + alen > olen ? offset + alen : olen;
    char *buf;
    entry *e = entry_new_raw_string(k->key, k->len, total, expire, &buf);
    if (olen) memcpy(buf, ov, olen);
    if (offset > olen) memset(buf + olen, 0, offset - olen);
    if (alen) memcpy(buf + offset, add, alen);
    return e;
}

static void append_command(client *c) {
    dbkey k;
    long pos;
    entry *old = str_lookup(c, 1, &k, LOOKUP_WRITE, &pos);
    const arg_t *add = &c->argv[2];
    if (!old) {
        db_add(&k, entry_new_string(k.key, k.len, add->ptr, add->len, -1, false));
        db_changed(&k, NOTIFY_STRING, "append");
        add_reply_integer(c, (long long)add->len);
        return;
    }
    if (reply_wrong_type(c, old, OBJ_STRING)) return;
    char buf[32];
    size_t olen;
    const char *ov = entry_string_value(old, buf, &olen);
    if (!str_length_ok(c, (long long)olen, (long long)add->len)) return;
    entry *e = str_build_raw(&k, ov, olen, olen, add->ptr, add->len, entry_expire(old));
    db_replace(&k, pos, e);
    db_changed(&k, NOTIFY_STRING, "append");
    add_reply_integer(c, (long long)(olen + add->len));
}

static void setrange_command(client *c) {
    long long offset;
    if (!arg_ll_or_reply(c, &c->argv[2], &offset, NULL)) return;
    if (offset < 0) {
        add_reply_error(c, "ERR offset is out of range");
        return;
    }
    const arg_t *val = &c->argv[3];

    dbkey k;
    long pos;
    entry *old = str_lookup(c, 1, &k, LOOKUP_WRITE, &pos);
    if (!old) {
        if (val->len == 0) {
            add_reply_integer(c, 0);
            return;
        }
        if (!str_length_ok(c, offset, (long long)val->len)) return;
        db_add(&k, str_build_raw(&k, "", 0, (size_t)offset, val->ptr, val->len, -1));
        db_changed(&k, NOTIFY_STRING, "setrange");
        add_reply_integer(c, offset + (long long)val->len);
        return;
    }
    if (reply_wrong_type(c, old, OBJ_STRING)) return;
    char buf[32];
    size_t olen;
    const char *ov = entry_string_value(old, buf, &olen);
    if (val->len == 0) {
        add_reply_integer(c, (long long)olen);
        return;
    }
    if (!str_length_ok(c, offset, (long long)val->len)) return;
    entry *e = str_build_raw(&k, ov, olen, (size_t)offset, val->ptr, val->len, entry_expire(old));
    size_t total = (size_t)offset + val->len > olen ? (size_t)offset + val->len : olen;
    db_replace(&k, pos, e);
    db_changed(&k, NOTIFY_STRING, "setrange");
    add_reply_integer(c, (long long)total);
}

/* ------------------------------------------------------------ INCR family */

static void str_incr_by(client *c, long long incr) {
    dbkey k;
    long pos;
    entry *old = str_lookup(c, 1, &k, LOOKUP_WRITE, &pos);
    if (reply_wrong_type(c, old, OBJ_STRING)) return;

    long long value = 0;
    if (old) {
        if (entry_is_int(old)) {
            value = entry_int(old);
        } else {
            size_t len;
            const char *s = entry_str(old, &len);
            if (!parse_ll(s, len, &value)) {
                add_reply_error(c, ERR_NOT_INT);
                return;
            }
        }
    }
    if ((incr < 0 && value < 0 && incr < LLONG_MIN - value) ||
        (incr > 0 && value > 0 && incr > LLONG_MAX - value)) {
        add_reply_error(c, ERR_OVERFLOW);
        return;
    }
    value += incr;
    if (old && entry_is_int(old))
        str_int_store_inplace(old, value);
    else
        str_store(&k, pos, entry_new_int(k.key, k.len, value, old ? entry_expire(old) : -1));
    db_changed(&k, NOTIFY_STRING, "incrby");
    add_reply_integer(c, value);
}

static void incr_command(client *c) { str_incr_by(c, 1); }
static void decr_command(client *c) { str_incr_by(c, -1); }

static void incrby_command(client *c) {
    long long incr;
    if (!arg_ll_or_reply(c, &c->argv[2], &incr, NULL)) return;
    str_incr_by(c, incr);
}

static void decrby_command(client *c) {
    long long decr;
    if (!arg_ll_or_reply(c, &c->argv[2], &decr, NULL)) return;
    if (decr == LLONG_MIN) {
        add_reply_error(c, "ERR decrement would overflow");
        return;
    }
    str_incr_by(c, -decr);
}

static void incrbyfloat_command(client *c) {
    dbkey k;
    long pos;
    entry *old = str_lookup(c, 1, &k, LOOKUP_WRITE, &pos);
    if (reply_wrong_type(c, old, OBJ_STRING)) return;

    long double value = 0, incr;
    if (old) {
        if (entry_is_int(old)) {
            value = (long double)entry_int(old);
        } else {
            size_t len;
            const char *s = entry_str(old, &len);
            if (!parse_ld(s, len, &value)) {
                add_reply_error(c, ERR_NOT_FLOAT);
                return;
            }
        }
    }
    if (!arg_ld_or_reply(c, &c->argv[2], &incr, NULL)) return;
    value += incr;
    if (isnan(value) || isinf(value)) {
        add_reply_error(c, "ERR increment would produce NaN or Infinity");
        return;
    }
    char buf[STR_LD_BUF];
    size_t len = format_ld_human(buf, sizeof buf, value);
    str_store(&k, pos, str_new_plain(&c->argv[1], buf, len, old ? entry_expire(old) : -1));
    db_changed(&k, NOTIFY_STRING, "incrbyfloat");
    /* As SET key <result> KEEPTTL: float formatting must not differ on
     * the replica. */
    propagate_rewrite_begin(4);
    propagate_arg_str("SET");
    propagate_arg(c->argv[1].ptr, c->argv[1].len);
    propagate_arg(buf, len);
    propagate_arg_str("KEEPTTL");
    add_reply_bulk(c, buf, len);
}

/* ------------------------------------------------------------ table */

command string_commands[] = {
    {.name = "get", .arity = 2, .flags = CMD_READONLY | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .proc = get_command, .group = "string", .since = "1.0.0", .summary = "Get the value of a key",
     .complexity = "O(1)", .acl_categories = "read string fast"},
    {.name = "set", .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM, .first_key = 1, .last_key = 1, .key_step = 1,
     .proc = set_command, .group = "string", .since = "1.0.0", .summary = "Set the string value of a key",
     .complexity = "O(1)", .acl_categories = "write string slow"},
    {.name = "setnx", .arity = 3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .first_key = 1, .last_key = 1,
     .key_step = 1, .proc = setnx_command, .group = "string", .since = "1.0.0",
     .summary = "Set the value of a key, only if the key does not exist", .complexity = "O(1)",
     .acl_categories = "write string fast"},
    {.name = "setex", .arity = 4, .flags = CMD_WRITE | CMD_DENYOOM, .first_key = 1, .last_key = 1, .key_step = 1,
     .proc = setex_command, .group = "string", .since = "2.0.0", .summary = "Set the value and expiration of a key",
     .complexity = "O(1)", .acl_categories = "write string slow"},
    {.name = "psetex", .arity = 4, .flags = CMD_WRITE | CMD_DENYOOM, .first_key = 1, .last_key = 1, .key_step = 1,
     .proc = psetex_command, .group = "string", .since = "2.6.0",
     .summary = "Set the value and expiration in milliseconds of a key", .complexity = "O(1)",
     .acl_categories = "write string slow"},
    {.name = "getset", .arity = 3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .first_key = 1, .last_key = 1,
     .key_step = 1, .proc = getset_command, .group = "string", .since = "1.0.0",
     .summary = "Set the string value of a key and return its old value", .complexity = "O(1)",
     .acl_categories = "write string fast"},
    {.name = "getdel", .arity = 2, .flags = CMD_WRITE | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .proc = getdel_command, .group = "string", .since = "6.2.0",
     .summary = "Get the value of a key and delete the key", .complexity = "O(1)",
     .acl_categories = "write string fast"},
    {.name = "getex", .arity = -2, .flags = CMD_WRITE | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .proc = getex_command, .group = "string", .since = "6.2.0",
     .summary = "Get the value of a key and optionally set its expiration", .complexity = "O(1)",
     .acl_categories = "write string fast"},
    {.name = "mget", .arity = -2, .flags = CMD_READONLY | CMD_FAST, .first_key = 1, .last_key = -1, .key_step = 1,
     .proc = mget_command, .group = "string", .since = "1.0.0", .summary = "Get the values of all the given keys",
     .complexity = "O(N) where N is the number of keys to retrieve.", .acl_categories = "read string fast"},
    {.name = "mset", .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM, .first_key = 1, .last_key = -1, .key_step = 2,
     .proc = mset_command, .group = "string", .since = "1.0.1", .summary = "Set multiple keys to multiple values",
     .complexity = "O(N) where N is the number of keys to set.", .acl_categories = "write string slow"},
    {.name = "msetnx", .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM, .first_key = 1, .last_key = -1,
     .key_step = 2, .proc = msetnx_command, .group = "string", .since = "1.0.1",
     .summary = "Set multiple keys to multiple values, only if none of the keys exist",
     .complexity = "O(N) where N is the number of keys to set.", .acl_categories = "write string slow"},
    {.name = "append", .arity = 3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .first_key = 1, .last_key = 1,
     .key_step = 1, .proc = append_command, .group = "string", .since = "2.0.0",
     .summary = "Append a value to a key",
     .complexity = "O(1). The amortized time complexity is O(1) assuming the appended value is small and the "
                   "already present value is of any size, since the dynamic string library used by Redis will "
                   "double the free space available on every reallocation.",
     .acl_categories = "write string fast"},
    {.name = "strlen", .arity = 2, .flags = CMD_READONLY | CMD_FAST, .first_key = 1, .last_key = 1, .key_step = 1,
     .proc = strlen_command, .group = "string", .since = "2.2.0",
     .summary = "Get the length of the value stored in a key", .complexity = "O(1)",
     .acl_categories = "read string fast"},
    {.name = "incr", .arity = 2, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .first_key = 1, .last_key = 1,
     .key_step = 1, .proc = incr_command, .group = "string", .since = "1.0.0",
     .summary = "Increment the integer value of a key by one", .complexity = "O(1)",
     .acl_categories = "write string fast"},
    {.name = "decr", .arity = 2, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .first_key = 1, .last_key = 1,
     .key_step = 1, .proc = decr_command, .group = "string", .since = "1.0.0",
     .summary = "Decrement the integer value of a key by one", .complexity = "O(1)",
     .acl_categories = "write string fast"},
    {.name = "incrby", .arity = 3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .first_key = 1, .last_key = 1,
     .key_step = 1, .proc = incrby_command, .group = "string", .since = "1.0.0",
     .summary = "Increment the integer value of a key by the given amount", .complexity = "O(1)",
     .acl_categories = "write string fast"},
    {.name = "decrby", .arity = 3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .first_key = 1, .last_key = 1,
     .key_step = 1, .proc = decrby_command, .group = "string", .since = "1.0.0",
     .summary = "Decrement the integer value of a key by the given number", .complexity = "O(1)",
     .acl_categories = "write string fast"},
    {.name = "incrbyfloat", .arity = 3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .first_key = 1,
     .last_key = 1, .key_step = 1, .proc = incrbyfloat_command, .group = "string", .since = "2.6.0",
     .summary = "Increment the float value of a key by the given amount", .complexity = "O(1)",
     .acl_categories = "write string fast"},
    {.name = "getrange", .arity = 4, .flags = CMD_READONLY, .first_key = 1, .last_key = 1, .key_step = 1,
     .proc = getrange_command, .group = "string", .since = "2.4.0",
     .summary = "Get a substring of the string stored at a key",
     .complexity = "O(N) where N is the length of the returned string. The complexity is ultimately determined "
                   "by the returned length, but because creating a substring from an existing string is very "
                   "cheap, it can be considered O(1) for small strings.",
     .acl_categories = "read string slow"},
    {.name = "substr", .arity = 4, .flags = CMD_READONLY, .first_key = 1, .last_key = 1, .key_step = 1,
     .proc = getrange_command, .group = "string", .since = "1.0.0",
     .summary = "Get a substring of the string stored at a key",
     .complexity = "O(N) where N is the length of the returned string. The complexity is ultimately determined "
                   "by the returned length, but because creating a substring from an existing string is very "
                   "cheap, it can be considered O(1) for small strings.",
     .acl_categories = "read string slow"},
    {.name = "setrange", .arity = 4, .flags = CMD_WRITE | CMD_DENYOOM, .first_key = 1, .last_key = 1,
     .key_step = 1, .proc = setrange_command, .group = "string", .since = "2.2.0",
     .summary = "Overwrite part of a string at key starting at the specified offset",
     .complexity = "O(1), not counting the time taken to copy the new string in place. Usually, this string is "
                   "very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being "
                   "the length of the value argument.",
     .acl_categories = "write string slow"},
    {0},
};
