/*
 * cmd_expire.c - key time to live commands: EXPIRE, PEXPIRE, EXPIREAT,
 * PEXPIREAT (with NX | XX | GT | LT), TTL, PTTL, EXPIRETIME, PEXPIRETIME
 * and PERSIST.
 *
 * Expire times are absolute unix milliseconds stored in the entry (db.h
 * db_set_expire_at). "Now" is the command's time snapshot (db_now_ms), so a
 * relative TTL and the already-expired check agree within one command. A
 * time at or before now deletes the key at once and still replies 1, as
 * Redis does; a key without TTL counts as an infinite TTL for GT and LT.
 * Keyspace events as Redis 7.0: "expire", "del" (time already passed) and
 * "persist"; WATCH invalidation comes from the db_* calls.
 */
#include "client.h"
#include "command_modules.h"
#include "commands.h"
#include "cluster_api.h"
#include "config.h"
#include "db.h"
#include "entry.h"
#include "mem.h"
#include "notify.h"
#include "propagate.h"

#include <limits.h>
#include <stdbool.h>
#include <string.h>

enum { EXPIRE_NX = 1, EXPIRE_XX = 2, EXPIRE_GT = 4, EXPIRE_LT = 8 };

/* Redis prints the option as a C string: up to its first NUL byte, with CR
 * and LF turned into spaces so the error stays one protocol line. */
static void reply_unsupported_option(client *c, const arg_t *a) {
    size_t len = strnlen(a->ptr, a->len);
    char *safe = mem_alloc(len + 1);
    for (size_t i = 0; i < len; i++) safe[i] = (a->ptr[i] == '\r' || a->ptr[i] == '\n') ? ' ' : a->ptr[i];
    safe[len] = '\0';
    add_reply_errorf(c, "ERR Unsupported option %s", safe);
    mem_free(safe);
}

/* argv[3..]: NX, XX, GT, LT in any case, repeats allowed. */
static bool expire_flags_or_reply(client *c, int *flags) {
    *flags = 0;
    for (int j = 3; j < c->argc; j++) {
        if (arg_eq(&c->argv[j], "nx"))
            *flags |= EXPIRE_NX;
        else if (arg_eq(&c->argv[j], "xx"))
            *flags |= EXPIRE_XX;
        else if (arg_eq(&c->argv[j], "gt"))
            *flags |= EXPIRE_GT;
        else if (arg_eq(&c->argv[j], "lt"))
            *flags |= EXPIRE_LT;
        else {
            reply_unsupported_option(c, &c->argv[j]);
            return false;
        }
    }
    if ((*flags & EXPIRE_NX) && (*flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT))) {
        add_reply_error(c, "ERR NX and XX, GT or LT options at the same time are not compatible");
        return false;
    }
    if ((*flags & EXPIRE_GT) && (*flags & EXPIRE_LT)) {
        add_reply_error(c, "ERR GT and LT options at the same time are not compatible");
        return false;
    }
    return true;
}

/* Whether the NX/XX/GT/LT conditions allow replacing `current` (-1: no TTL)
 * with `when`. */
static bool expire_condition_holds(int flags, long long current, long long when) {
    if ((flags & EXPIRE_NX) && current != -1) return false;
    if ((flags & EXPIRE_XX) && current == -1) return false;
    if ((flags & EXPIRE_GT) && (current == -1 || when <= current)) return false;
    if ((flags & EXPIRE_LT) && current != -1 && when >= current) return false;
    return true;
}

/* basetime: 0 for the *AT forms, now for relative ones. `name` is the
 * command name for the overflow error. */
static void expire_generic(client *c, long long basetime, bool seconds, const char *name) {
    int flags;
    if (!expire_flags_or_reply(c, &flags)) return;
    long long when;
    if (!arg_ll_or_reply(c, &c->argv[2], &when, ERR_NOT_INT)) return;
    if (seconds) {
        if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000) goto overflow;
        when *= 1000;
    }
    if (when > LLONG_MAX - basetime) goto overflow;
    when += basetime;

    dbkey k;
    dbkey_init(&k, c->db, c->argv[1].ptr, c->argv[1].len);
    long pos;
    entry *e = db_lookup(&k, LOOKUP_WRITE, &pos);
    if (!e || !expire_condition_holds(flags, entry_expire(e), when)) {
        add_reply_integer(c, 0);
        return;
    }
    /* Redis's checkAlreadyExpired: a replica keeps the key with its past
     * time (its master's DEL follows). */
    if (when <= db_now_ms() && !repl_is_replica()) {
        db_delete_at(&k, pos);
        db_changed(&k, NOTIFY_GENERIC, "del");
        propagate_rewrite_key(c, cfg_get(lazyfree_lazy_expire) ? "UNLINK" : "DEL");
    } else {
        db_set_expire_at(&k, pos, when);
        db_changed(&k, NOTIFY_GENERIC, "expire");
        /* As PEXPIREAT key <absolute ms> with the same options; PEXPIREAT
         * itself goes as sent (Redis 7.0's expireGenericCommand). */
        if (basetime != 0 || seconds) {
            propagate_rewrite_begin(c->argc);
            propagate_arg_str("PEXPIREAT");
            propagate_arg(c->argv[1].ptr, c->argv[1].len);
            propagate_arg_ll(when);
            for (int j = 3; j < c->argc; j++) propagate_arg(c->argv[j].ptr, c->argv[j].len);
        }
    }
    add_reply_integer(c, 1);
    return;

overflow:
    add_reply_errorf(c, "ERR invalid expire time in '%s' command", name);
}

static void expire_command(client *c) { expire_generic(c, db_now_ms(), true, "expire"); }
static void pexpire_command(client *c) { expire_generic(c, db_now_ms(), false, "pexpire"); }
static void expireat_command(client *c) { expire_generic(c, 0, true, "expireat"); }
static void pexpireat_command(client *c) { expire_generic(c, 0, false, "pexpireat"); }

/* -2: no key, -1: no TTL. Seconds are rounded to the nearest one. */
static void ttl_generic(client *c, bool ms, bool absolute) {
    dbkey k;
    dbkey_init(&k, c->db, c->argv[1].ptr, c->argv[1].len);
    entry *e = db_lookup(&k, LOOKUP_READ | LOOKUP_NOTOUCH, NULL);
    if (!e) {
        add_reply_integer(c, -2);
        return;
    }
    long long when = entry_expire(e);
    if (when < 0) {
        add_reply_integer(c, -1);
        return;
    }
    long long v = absolute ? when : when - db_now_ms();
    if (v < 0) v = 0;
    /* Unsigned: v + 500 overflows a long long for expire times near
     * LLONG_MAX (PEXPIREAT allows them); Redis 7.0 replies the unsigned
     * quotient there too (9223372036854776). */
    if (!ms) v = (long long)(((unsigned long long)v + 500) / 1000);
    add_reply_integer(c, v);
}

static void ttl_command(client *c) { ttl_generic(c, false, false); }
static void pttl_command(client *c) { ttl_generic(c, true, false); }
static void expiretime_command(client *c) { ttl_generic(c, false, true); }
static void pexpiretime_command(client *c) { ttl_generic(c, true, true); }

static void persist_command(client *c) {
    dbkey k;
    dbkey_init(&k, c->db, c->argv[1].ptr, c->argv[1].len);
    long pos;
    entry *e = db_lookup(&k, LOOKUP_WRITE, &pos);
    if (!e || !entry_has_expire(e)) {
        add_reply_integer(c, 0);
        return;
    }
    db_set_expire_at(&k, pos, -1);
    db_changed(&k, NOTIFY_GENERIC, "persist");
    add_reply_integer(c, 1);
}

#define KEY1 .first_key = 1, .last_key = 1, .key_step = 1
#define EXPIRE_ENTRY(n, fn, since_, summary_)                                                              \
    {.name = n, .arity = -3, .flags = CMD_WRITE | CMD_FAST, KEY1, .proc = fn, .group = "generic",         \
     .since = since_, .summary = summary_, .complexity = "O(1)", .acl_categories = "keyspace write fast"}
#define TTL_ENTRY(n, fn, since_, summary_)                                                                 \
    {.name = n, .arity = 2, .flags = CMD_READONLY | CMD_FAST, KEY1, .proc = fn, .group = "generic",       \
     .since = since_, .summary = summary_, .complexity = "O(1)", .acl_categories = "keyspace read fast"}

command expire_commands[] = {
    EXPIRE_ENTRY("expire", expire_command, "1.0.0", "Set a key's time to live in seconds"),
    EXPIRE_ENTRY("pexpire", pexpire_command, "2.6.0", "Set a key's time to live in milliseconds"),
    EXPIRE_ENTRY("expireat", expireat_command, "1.2.0", "Set the expiration for a key as a UNIX timestamp"),
    EXPIRE_ENTRY("pexpireat", pexpireat_command, "2.6.0",
                 "Set the expiration for a key as a UNIX timestamp specified in milliseconds"),
    TTL_ENTRY("ttl", ttl_command, "1.0.0", "Get the time to live for a key in seconds"),
    TTL_ENTRY("pttl", pttl_command, "2.6.0", "Get the time to live for a key in milliseconds"),
    TTL_ENTRY("expiretime", expiretime_command, "7.0.0", "Get the expiration Unix timestamp for a key"),
    TTL_ENTRY("pexpiretime", pexpiretime_command, "7.0.0",
              "Get the expiration Unix timestamp for a key in milliseconds"),
    {.name = "persist", .arity = 2, .flags = CMD_WRITE | CMD_FAST, KEY1, .proc = persist_command,
     .group = "generic", .since = "2.2.0", .summary = "Remove the expiration from a key", .complexity = "O(1)",
     .acl_categories = "keyspace write fast"},
    {0},
};
