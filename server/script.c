/*
 * script.c - EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT without a Lua
 * interpreter, plus the redis.call() emulation that the native lock
 * scripts use (script.h).
 *
 * Design choices a reader must know:
 * - A script is recognised by the SHA1 of its exact bytes in the table of
 *   lock_scripts.c; EVAL or SCRIPT LOAD of any other body answers an error
 *   naming the native commands. A recognised script runs natively while
 *   dispatch holds the slot locks of all its KEYS (the keys_fn below reads
 *   numkeys), so it is atomic as a Lua script is.
 * - The script cache is emulated as Redis shows it: one "loaded" bit per
 *   recognised script, set by SCRIPT LOAD and EVAL, cleared by SCRIPT
 *   FLUSH. EVALSHA of a script not loaded answers NOSCRIPT even though the
 *   server knows it, so clients that load on NOSCRIPT see what Redis does.
 *   The bits are global (one atomic word, relaxed order: no data hangs on
 *   them).
 * - Inside a script the checks of each redis.call() follow Redis 7.0's
 *   order (nil argument, write from a read-only script, OOM before the
 *   first write) and its errors carry Redis's " script: <sha1>, on
 *   @user_script:<line>." suffix. OOM: a script holds slot locks, so it
 *   cannot evict as dispatch does before a denyoom command; over maxmemory
 *   its first SET is refused under noeviction (as Redis refuses it) and
 *   allowed under an eviction policy (Redis would have evicted first; the
 *   next denyoom command or the cron evicts here).
 */
#include "script.h"

#include "client.h"
#include "command_modules.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "entry.h"
#include "lock_scripts.h"
#include "mem.h"
#include "notify.h"
#include "propagate.h"
#include "numparse.h"
#include "sha1.h"

#include <ctype.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SCRIPT_UNKNOWN_ERR                                                                                  \
    "ERR slotcache does not support Lua scripting; this script (sha1 %s) is not one of the recognised "   \
    "lock scripts (see SCRIPT HELP). Use the native commands: SET key value NX PX ms, DELIFEQ key value, " \
    "DELEX key IFEQ value, CAS, CAD."
#define SCRIPT_NOSCRIPT_ERR "NOSCRIPT No matching script. Please use EVAL."
#define SCRIPT_ERR_NIL_ARG "ERR Lua redis lib command arguments must be strings or integers"
#define SCRIPT_ERR_RO_WRITE "ERR Write commands are not allowed from read-only scripts."
#define SCRIPT_ERR_OOM "OOM command not allowed when used memory > 'maxmemory'."

/* ------------------------------------------------------------ the cache */

static _Atomic uint64_t script_loaded_bits; /* bit i: lock_scripts[i] loaded */

/* Index of the recognised script named by hex (any case), or -1. */
static int script_find(const char *hex, size_t len) {
    if (len != SHA1_HEX_LEN) return -1;
    for (size_t i = 0; i < lock_scripts_count; i++)
        if (strncasecmp(lock_scripts[i].sha1, hex, SHA1_HEX_LEN) == 0) return (int)i;
    return -1;
}

static void script_mark_loaded(int i) {
    atomic_fetch_or_explicit(&script_loaded_bits, (uint64_t)1 << i, memory_order_relaxed);
}

static bool script_is_loaded(int i) {
    return (atomic_load_explicit(&script_loaded_bits, memory_order_relaxed) >> i) & 1;
}

int script_cached_count(void) {
    return __builtin_popcountll(atomic_load_explicit(&script_loaded_bits, memory_order_relaxed));
}

/* ------------------------------------------------------------ run state */

const arg_t *script_key(const script_run *r, int i) { return i >= 1 && i <= r->nkeys ? &r->keys[i - 1] : NULL; }
const arg_t *script_arg(const script_run *r, int i) { return i >= 1 && i <= r->nargs ? &r->args[i - 1] : NULL; }

/* "<msg> script: <sha1>, on @user_script:<line>." */
static void script_reply_error(script_run *r, int line, const char *msg) {
    add_reply_errorf(r->c, "%s script: %s, on @user_script:%d.", msg, r->sha, line);
}

void script_reply_lua_error(script_run *r, int line, const char *msg) {
    add_reply_errorf(r->c, "ERR user_script:%d: %s script: %s, on @user_script:%d.", line, msg, r->sha, line);
}

/* The checks redis.call() makes before running a command: every argument
 * present (nargs of them in args), then for a write command the read-only
 * rule, then for a denyoom command the OOM rule. Replies on failure unless
 * `quiet` (redis.pcall). */
static bool script_call_checks(script_run *r, int line, const arg_t *const *args, int nargs, bool write,
                               bool denyoom, bool quiet) {
    const char *err = NULL;
    for (int i = 0; i < nargs && !err; i++)
        if (!args[i]) err = SCRIPT_ERR_NIL_ARG;
    if (!err && write && r->read_only) err = SCRIPT_ERR_RO_WRITE;
    if (!err && denyoom && !r->wrote) {
        long long limit = cfg_get(maxmemory);
        if (limit > 0 && (long long)mem_used() > limit && cfg_get(maxmemory_policy) == MAXMEMORY_NOEVICTION)
            err = SCRIPT_ERR_OOM;
    }
    if (err) {
        if (!quiet) script_reply_error(r, line, err);
        return false;
    }
    if (write) r->wrote = true;
    return true;
}

static void script_dbkey(const script_run *r, const arg_t *key, dbkey *k) {
    dbkey_init(k, r->c->db, key->ptr, key->len);
}

/* ------------------------------------------------------------ redis.call */

bool script_call_get_compare(script_run *r, int line, const arg_t *key, const arg_t *want,
                             enum script_get_result *res) {
    if (!script_call_checks(r, line, (const arg_t *[]){key}, 1, false, false, false)) return false;
    dbkey k;
    script_dbkey(r, key, &k);
    entry *e = db_lookup(&k, LOOKUP_READ, NULL);
    if (!e) {
        *res = SCRIPT_GET_NIL;
        return true;
    }
    if (entry_type(e) != OBJ_STRING) {
        script_reply_error(r, line, ERR_WRONGTYPE);
        return false;
    }
    char buf[32];
    size_t len;
    const char *v = entry_string_value(e, buf, &len);
    *res = want && want->len == len && memcmp(want->ptr, v, len) == 0 ? SCRIPT_GET_EQUAL : SCRIPT_GET_OTHER;
    return true;
}

bool script_call_exists(script_run *r, int line, const arg_t *key, long long *n) {
    if (!script_call_checks(r, line, (const arg_t *[]){key}, 1, false, false, false)) return false;
    dbkey k;
    script_dbkey(r, key, &k);
    *n = db_lookup(&k, LOOKUP_READ | LOOKUP_NOTOUCH, NULL) ? 1 : 0;
    return true;
}

bool script_call_pttl(script_run *r, int line, const arg_t *key, long long *ms) {
    if (!script_call_checks(r, line, (const arg_t *[]){key}, 1, false, false, false)) return false;
    dbkey k;
    script_dbkey(r, key, &k);
    entry *e = db_lookup(&k, LOOKUP_READ | LOOKUP_NOTOUCH, NULL);
    if (!e) {
        *ms = -2;
        return true;
    }
    long long when = entry_expire(e);
    if (when < 0) {
        *ms = -1;
        return true;
    }
    long long left = when - db_now_ms();
    *ms = left < 0 ? 0 : left;
    return true;
}

bool script_call_del(script_run *r, int line, const arg_t *key, bool protected_call, long long *n) {
    if (!script_call_checks(r, line, (const arg_t *[]){key}, 1, true, false, protected_call)) {
        *n = -1;
        return protected_call;
    }
    dbkey k;
    script_dbkey(r, key, &k);
    *n = 0;
    if (db_delete(&k)) {
        *n = 1;
        db_changed(&k, NOTIFY_GENERIC, "del");
        propagate_also_begin(r->c->db, 2);
        propagate_arg_str(r->upper_calls ? "DEL" : "del");
        propagate_arg(k.key, k.len);
    }
    return true;
}

bool script_call_pexpire(script_run *r, int line, const arg_t *key, const arg_t *ms, long long *n) {
    if (!script_call_checks(r, line, (const arg_t *[]){key, ms}, 2, true, false, false)) return false;
    long long when;
    if (!parse_ll(ms->ptr, ms->len, &when)) {
        script_reply_error(r, line, ERR_NOT_INT);
        return false;
    }
    long long now = db_now_ms();
    if (when > LLONG_MAX - now) {
        script_reply_error(r, line, "ERR invalid expire time in 'pexpire' command");
        return false;
    }
    when += now;
    dbkey k;
    script_dbkey(r, key, &k);
    long pos;
    if (!db_lookup(&k, LOOKUP_WRITE, &pos)) {
        *n = 0;
        return true;
    }
    if (when <= now) {
        db_delete_at(&k, pos);
        db_changed(&k, NOTIFY_GENERIC, "del");
        propagate_also_begin(r->c->db, 2);
        propagate_arg_str(cfg_get(lazyfree_lazy_expire) ? "UNLINK" : "DEL");
        propagate_arg(k.key, k.len);
    } else {
        db_set_expire_at(&k, pos, when);
        db_changed(&k, NOTIFY_GENERIC, "expire");
        propagate_also_begin(r->c->db, 3); /* as PEXPIRE propagates */
        propagate_arg_str("PEXPIREAT");
        propagate_arg(k.key, k.len);
        propagate_arg_ll(when);
    }
    *n = 1;
    return true;
}

bool script_call_set_px(script_run *r, int line, const arg_t *key, const arg_t *value, const arg_t *ms, bool nx,
                        bool *done) {
    if (!script_call_checks(r, line, (const arg_t *[]){key, value, ms}, 3, true, true, false)) return false;
    /* SET validates the expire before it looks the key up. */
    long long when;
    if (!parse_ll(ms->ptr, ms->len, &when)) {
        script_reply_error(r, line, ERR_NOT_INT);
        return false;
    }
    long long now = db_now_ms();
    if (when <= 0 || when > LLONG_MAX - now) {
        script_reply_error(r, line, "ERR invalid expire time in 'set' command");
        return false;
    }
    when += now;
    dbkey k;
    script_dbkey(r, key, &k);
    long pos;
    entry *old = db_lookup(&k, LOOKUP_WRITE, &pos);
    if (nx && old) {
        *done = false;
        return true;
    }
    db_store_string(&k, old ? pos : -1, value->ptr, value->len, when, false);
    db_changed(&k, NOTIFY_STRING, "set");
    db_changed(&k, NOTIFY_GENERIC, "expire");
    propagate_also_begin(r->c->db, 5); /* as SET ... PX propagates */
    propagate_arg_str("SET");
    propagate_arg(k.key, k.len);
    propagate_arg(value->ptr, value->len);
    propagate_arg_str("PXAT");
    propagate_arg_ll(when);
    *done = true;
    return true;
}

/* ------------------------------------------------------------ Lua values */

bool script_lua_tonumber(const arg_t *a, double *out) {
    /* Lua sees the bytes as a C string: up to the first NUL. */
    size_t len = strnlen(a->ptr, a->len);
    char stack[64];
    char *s = len < sizeof stack ? stack : mem_alloc(len + 1);
    memcpy(s, a->ptr, len);
    s[len] = '\0';
    char *end;
    double v = strtod(s, &end);
    bool ok = end != s;
    if (ok && (*end == 'x' || *end == 'X')) v = (double)strtoul(s, &end, 16);
    if (ok) {
        while (isspace((unsigned char)*end)) end++;
        ok = *end == '\0';
    }
    if (s != stack) mem_free(s);
    if (ok) *out = v;
    return ok;
}

size_t script_lua_number_string(double v, char *buf, size_t buflen) {
    int n = snprintf(buf, buflen, "%.17g", v);
    return n < 0 ? 0 : (size_t)n < buflen ? (size_t)n : buflen - 1;
}

/* ------------------------------------------------------------ EVAL family */

/* keys_fn: argv[3 .. 3+numkeys) when numkeys is valid; none otherwise (the
 * command then replies the numkeys error without touching a key). */
static int eval_keys(const arg_t *argv, int argc, int *keyidx, int max) {
    long long numkeys;
    if (argc < 3 || !parse_ll(argv[2].ptr, argv[2].len, &numkeys)) return 0;
    if (numkeys < 0 || numkeys > argc - 3) return 0;
    int n = 0;
    for (int i = 3; i < 3 + numkeys && n < max; i++) keyidx[n++] = i;
    return n;
}

static bool eval_numkeys_or_reply(client *c, long long *numkeys) {
    if (!arg_ll_or_reply(c, &c->argv[2], numkeys, NULL)) return false;
    if (*numkeys > c->argc - 3) {
        add_reply_error(c, "ERR Number of keys can't be greater than number of args");
        return false;
    }
    if (*numkeys < 0) {
        add_reply_error(c, "ERR Number of keys can't be negative");
        return false;
    }
    return true;
}

static void eval_generic(client *c, bool by_sha, bool read_only) {
    long long numkeys;
    if (!eval_numkeys_or_reply(c, &numkeys)) return;

    char sha[SHA1_HEX_LEN + 1];
    int idx;
    if (by_sha) {
        idx = script_find(c->argv[1].ptr, c->argv[1].len);
        if (idx < 0 || !script_is_loaded(idx)) {
            add_reply_error(c, SCRIPT_NOSCRIPT_ERR);
            return;
        }
    } else {
        sha1_hex(c->argv[1].ptr, c->argv[1].len, sha);
        idx = script_find(sha, SHA1_HEX_LEN);
        if (idx < 0) {
            add_reply_errorf(c, SCRIPT_UNKNOWN_ERR, sha);
            return;
        }
        script_mark_loaded(idx);
    }

    script_run r = {
        .c = c,
        .sha = lock_scripts[idx].sha1,
        .keys = &c->argv[3],
        .nkeys = (int)numkeys,
        .args = &c->argv[3 + numkeys],
        .nargs = c->argc - 3 - (int)numkeys,
        .read_only = read_only,
        .upper_calls = lock_scripts[idx].upper_calls,
    };
    /* A script propagates its effects (each write it made, as that command
     * propagates), never EVAL itself: Redis 7.0's effects replication. */
    propagate_prevent();
    lock_scripts[idx].run(&r);
}

static void eval_command(client *c) { eval_generic(c, false, false); }
static void evalsha_command(client *c) { eval_generic(c, true, false); }
static void eval_ro_command(client *c) { eval_generic(c, false, true); }
static void evalsha_ro_command(client *c) { eval_generic(c, true, true); }

/* ------------------------------------------------------------ SCRIPT */

static void script_load_command(client *c) {
    char sha[SHA1_HEX_LEN + 1];
    sha1_hex(c->argv[2].ptr, c->argv[2].len, sha);
    int idx = script_find(sha, SHA1_HEX_LEN);
    if (idx < 0) {
        add_reply_errorf(c, SCRIPT_UNKNOWN_ERR, sha);
        return;
    }
    script_mark_loaded(idx);
    add_reply_bulk(c, sha, SHA1_HEX_LEN);
}

static void script_exists_command(client *c) {
    add_reply_array(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        int idx = script_find(c->argv[j].ptr, c->argv[j].len);
        add_reply_integer(c, idx >= 0 && script_is_loaded(idx) ? 1 : 0);
    }
}

/* [ASYNC|SYNC]: both forget every loaded script at once (nothing to free). */
static void script_flush_command(client *c) {
    if (c->argc > 3 || (c->argc == 3 && !arg_eq(&c->argv[2], "sync") && !arg_eq(&c->argv[2], "async"))) {
        add_reply_error(c, "ERR SCRIPT FLUSH only support SYNC|ASYNC option");
        return;
    }
    atomic_store_explicit(&script_loaded_bits, 0, memory_order_relaxed);
    add_reply_ok(c);
}

/* No script ever runs long enough to be killed. */
static void script_kill_command(client *c) { add_reply_error(c, "NOTBUSY No scripts in execution right now."); }

/* Without Lua there is no debugger: NO is accepted (it is the state). */
static void script_debug_command(client *c) {
    if (arg_eq(&c->argv[2], "no")) {
        add_reply_ok(c);
    } else if (arg_eq(&c->argv[2], "yes") || arg_eq(&c->argv[2], "sync")) {
        add_reply_error(c, "ERR slotcache does not support Lua scripting, so there is no script debugger");
    } else {
        add_reply_error(c, "ERR Use SCRIPT DEBUG YES/SYNC/NO");
    }
}

static const char *const script_help_lines[] = {
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
    NULL,
};

/* Redis's help, then slotcache's lines: the recognised scripts and the
 * native commands. */
static void script_help_command(client *c) {
    add_reply_help_more(c, "SCRIPT", script_help_lines, 2 + (long long)lock_scripts_count + 1);
    add_reply_status(c, "slotcache runs no Lua: EVAL, EVALSHA and SCRIPT LOAD accept only these lock scripts");
    add_reply_status(c, "of client libraries, recognised by the SHA1 of their exact text and run natively:");
    for (size_t i = 0; i < lock_scripts_count; i++) {
        char line[256];
        snprintf(line, sizeof line, "    %s %s: %s", lock_scripts[i].sha1, lock_scripts[i].library,
                 lock_scripts[i].name);
        add_reply_status(c, line);
    }
    add_reply_status(c, "Native commands for new code: SET key value NX PX ms, DELIFEQ key value, "
                        "DELEX key IFEQ value, CAS, CAD.");
}

/* ------------------------------------------------------------ table */

#define EVAL_ENTRY(n, fn, flags_, since_, summary_)                                                        \
    {.name = n, .arity = -3, .flags = (flags_) | CMD_NOSCRIPT | CMD_STALE | CMD_SKIP_MONITOR |              \
                                       CMD_NO_MANDATORY_KEYS,                                             \
     .keys_fn = eval_keys, .proc = fn, .group = "scripting", .since = since_, .summary = summary_,        \
     .complexity = "Depends on the script that is executed.", .acl_categories = "slow scripting"}

#define SCRIPT_SUB(n, arity_, flags_, fn, since_, summary_, complexity_)                                   \
    {.name = n, .arity = arity_, .flags = flags_, .proc = fn, .group = "scripting", .since = since_,      \
     .summary = summary_, .complexity = complexity_, .acl_categories = "slow scripting"}

static command script_subcommands[] = {
    SCRIPT_SUB("debug", 3, CMD_NOSCRIPT, script_debug_command, "3.2.0", "Set the debug mode for executed scripts.",
               "O(1)"),
    SCRIPT_SUB("exists", -3, CMD_NOSCRIPT, script_exists_command, "2.6.0",
               "Check existence of scripts in the script cache.",
               "O(N) with N being the number of scripts to check (so checking a single script is an O(1) "
               "operation)."),
    SCRIPT_SUB("flush", -2, CMD_NOSCRIPT, script_flush_command, "2.6.0", "Remove all the scripts from the script cache.",
               "O(N) with N being the number of scripts in cache"),
    SCRIPT_SUB("help", 2, CMD_LOADING | CMD_STALE, script_help_command, "5.0.0",
               "Show helpful text about the different subcommands", "O(1)"),
    SCRIPT_SUB("kill", 2, CMD_NOSCRIPT | CMD_ALLOW_BUSY, script_kill_command, "2.6.0",
               "Kill the script currently in execution.", "O(1)"),
    SCRIPT_SUB("load", 3, CMD_NOSCRIPT | CMD_STALE, script_load_command, "2.6.0",
               "Load the specified Lua script into the script cache.",
               "O(N) with N being the length in bytes of the script body."),
    {0},
};

command script_commands[] = {
    EVAL_ENTRY("eval", eval_command, CMD_SCRIPT_WRITES, "2.6.0", "Execute a Lua script server side"),
    EVAL_ENTRY("evalsha", evalsha_command, CMD_SCRIPT_WRITES, "2.6.0", "Execute a Lua script server side"),
    EVAL_ENTRY("eval_ro", eval_ro_command, CMD_READONLY, "7.0.0", "Execute a read-only Lua script server side"),
    EVAL_ENTRY("evalsha_ro", evalsha_ro_command, CMD_READONLY, "7.0.0", "Execute a read-only Lua script server side"),
    {.name = "script", .arity = -2, .flags = 0, .group = "scripting", .since = "2.6.0",
     .summary = "A container for Lua scripts management commands", .complexity = "Depends on subcommand.",
     .acl_categories = "slow", .subcommands = script_subcommands},
    {0},
};
