/*
 * cmd_command.c - COMMAND and its subcommands COUNT, LIST, INFO, DOCS,
 * GETKEYS, GETKEYSANDFLAGS and HELP: introspection served from the command
 * table (commands.c) and its metadata (command_meta.h), in the exact reply
 * shapes of Redis 7.0 (cluster clients and redis-cli parse them).
 *
 * Fields that dispatch also reads (arity, flags, first/last/step, ACL
 * categories, summary, since, group, complexity) come from the `command`
 * entries; key specs, tips, doc flags, history and arguments from the
 * metadata. Sets and maps are written as RESP3 types, which RESP2 flattens
 * to arrays, exactly where Redis writes them.
 */
#include "client.h"
#include "command_keys.h"
#include "command_meta.h"
#include "command_modules.h"
#include "glob.h"
#include "mem.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Command flags in Redis 7.0's reply order (may_replicate, sentinel and
 * slotcache's internal flags are not shown, as in Redis). */
static const struct {
    uint32_t flag;
    const char *name;
} flag_names[] = {
    {CMD_WRITE, "write"},
    {CMD_READONLY, "readonly"},
    {CMD_DENYOOM, "denyoom"},
    {CMD_ADMIN, "admin"},
    {CMD_PUBSUB, "pubsub"},
    {CMD_NOSCRIPT, "noscript"},
    {CMD_BLOCKING, "blocking"},
    {CMD_LOADING, "loading"},
    {CMD_STALE, "stale"},
    {CMD_SKIP_MONITOR, "skip_monitor"},
    {CMD_SKIP_SLOWLOG, "skip_slowlog"},
    {CMD_ASKING, "asking"},
    {CMD_FAST, "fast"},
    {CMD_NO_AUTH, "no_auth"},
    {CMD_NO_MANDATORY_KEYS, "no_mandatory_keys"},
    {CMD_NO_ASYNC_LOADING, "no_async_loading"},
    {CMD_NO_MULTI, "no_multi"},
    {0, "movablekeys"}, /* from keys_fn, see reply_command_flags */
    {CMD_ALLOW_BUSY, "allow_busy"},
};

static const char *const key_spec_flag_names[] = {
    "RO", "RW", "OW", "RM", "access", "update", "insert", "delete", "not_key", "incomplete", "variable_flags",
};
static const char *const doc_flag_names[] = {"deprecated", "syscmd"};
static const char *const arg_flag_names[] = {"optional", "multiple", "multiple_token"};
static const char *const arg_type_names[] = {
    "string", "integer", "double", "key", "pattern", "unix-time", "pure-token", "oneof", "block",
};

/* ------------------------------------------------------------ small parts */

/* A set of status replies, one per bit of `bits` set, names[i] for bit i. */
static void reply_flag_set(client *c, unsigned bits, const char *const *names, int nnames) {
    int n = 0;
    for (int i = 0; i < nnames; i++)
        if (bits & (1u << i)) n++;
    add_reply_set(c, n);
    for (int i = 0; i < nnames; i++)
        if (bits & (1u << i)) add_reply_status(c, names[i]);
}

#define NAMES(a) (a), (int)(sizeof(a) / sizeof((a)[0]))

static bool has_flag(const command *cmd, size_t i) {
    return flag_names[i].flag ? (cmd->flags & flag_names[i].flag) != 0 : cmd->keys_fn != NULL;
}

static void reply_command_flags(client *c, const command *cmd) {
    int n = 0;
    for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++) n += has_flag(cmd, i);
    add_reply_set(c, n);
    for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++)
        if (has_flag(cmd, i)) add_reply_status(c, flag_names[i].name);
}

/* Calls fn(c, word, len, prefix) for each space-separated word of s (which
 * may be NULL) and returns how many there are. */
static int each_word(client *c, const char *s, const char *prefix,
                     void (*fn)(client *c, const char *w, int len, const char *prefix)) {
    int n = 0;
    for (const char *p = s; p && *p;) {
        while (*p == ' ') p++;
        if (!*p) break;
        const char *e = p;
        while (*e && *e != ' ') e++;
        if (fn) fn(c, p, (int)(e - p), prefix);
        n++;
        p = e;
    }
    return n;
}

static void word_status(client *c, const char *w, int len, const char *prefix) {
    char buf[96];
    snprintf(buf, sizeof buf, "%s%.*s", prefix, len, w);
    add_reply_status(c, buf);
}

static void word_bulk(client *c, const char *w, int len, const char *prefix) { add_reply_bulk(c, w, (size_t)len); }

static int nsubs(const command *cmd) {
    int n = 0;
    for (const command *s = cmd->subcommands; s && s->name; s++) n++;
    return n;
}

/* ------------------------------------------------------------ COMMAND INFO */

static void reply_int_field(client *c, const char *name, long long v) {
    add_reply_bulk_cstr(c, name);
    add_reply_integer(c, v);
}

static void reply_key_spec(client *c, const key_spec_row *s) {
    add_reply_map(c, s->notes ? 4 : 3);
    if (s->notes) {
        add_reply_bulk_cstr(c, "notes");
        add_reply_bulk_cstr(c, s->notes);
    }
    add_reply_bulk_cstr(c, "flags");
    reply_flag_set(c, s->flags, NAMES(key_spec_flag_names));

    add_reply_bulk_cstr(c, "begin_search");
    add_reply_map(c, 2);
    add_reply_bulk_cstr(c, "type");
    add_reply_bulk_cstr(c, s->begin == KS_BEGIN_INDEX ? "index" : s->begin == KS_BEGIN_KEYWORD ? "keyword" : "unknown");
    add_reply_bulk_cstr(c, "spec");
    if (s->begin == KS_BEGIN_INDEX) {
        add_reply_map(c, 1);
        reply_int_field(c, "index", s->pos);
    } else if (s->begin == KS_BEGIN_KEYWORD) {
        add_reply_map(c, 2);
        add_reply_bulk_cstr(c, "keyword");
        add_reply_bulk_cstr(c, s->keyword);
        reply_int_field(c, "startfrom", s->pos);
    } else {
        add_reply_map(c, 0);
    }

    add_reply_bulk_cstr(c, "find_keys");
    add_reply_map(c, 2);
    add_reply_bulk_cstr(c, "type");
    add_reply_bulk_cstr(c, s->find == KS_FIND_RANGE ? "range" : s->find == KS_FIND_KEYNUM ? "keynum" : "unknown");
    add_reply_bulk_cstr(c, "spec");
    if (s->find == KS_FIND_RANGE) {
        add_reply_map(c, 3);
        reply_int_field(c, "lastkey", s->a);
        reply_int_field(c, "keystep", s->b);
        reply_int_field(c, "limit", s->c);
    } else if (s->find == KS_FIND_KEYNUM) {
        add_reply_map(c, 3);
        reply_int_field(c, "keynumidx", s->a);
        reply_int_field(c, "firstkey", s->b);
        reply_int_field(c, "keystep", s->c);
    } else {
        add_reply_map(c, 0);
    }
}

static void reply_command_info(client *c, const command *cmd) {
    const command_meta *m = command_meta_of(cmd);
    add_reply_array(c, 10);
    add_reply_bulk_cstr(c, cmd->fullname);
    add_reply_integer(c, cmd->arity);
    reply_command_flags(c, cmd);
    add_reply_integer(c, cmd->first_key);
    add_reply_integer(c, cmd->last_key);
    add_reply_integer(c, cmd->key_step);
    add_reply_set(c, each_word(c, cmd->acl_categories, "@", NULL));
    each_word(c, cmd->acl_categories, "@", word_status);
    add_reply_set(c, each_word(c, m->tips, "", NULL));
    each_word(c, m->tips, "", word_bulk);
    add_reply_set(c, m->nkey_specs);
    for (int i = 0; i < m->nkey_specs; i++) reply_key_spec(c, &m->key_specs[i]);
    if (!cmd->subcommands) {
        add_reply_set(c, 0);
        return;
    }
    add_reply_array(c, nsubs(cmd));
    for (const command *s = cmd->subcommands; s->name; s++) reply_command_info(c, s);
}

/* ------------------------------------------------------------ COMMAND DOCS */

static void reply_str_field(client *c, const char *name, const char *v) {
    add_reply_bulk_cstr(c, name);
    add_reply_bulk_cstr(c, v);
}

/* The argument rows args[0..n), all at depth >= args[0].depth: a list of
 * the rows at that depth, each with its deeper rows as its arguments. */
static void reply_arg_list(client *c, const arg_row *args, int n) {
    int depth = n ? args[0].depth : 0, count = 0;
    for (int i = 0; i < n; i++) count += args[i].depth == depth;
    add_reply_array(c, count);
    for (int i = 0; i < n; i++) {
        const arg_row *a = &args[i];
        if (a->depth != depth) continue;
        int end = i + 1;
        while (end < n && args[end].depth > depth) end++;
        bool nested = a->type == ARG_ONEOF || a->type == ARG_BLOCK;
        bool spec = a->type == ARG_KEY || a->pattern_key_spec;
        add_reply_map(c, 2 + spec + !!a->token + !!a->summary + !!a->since + !!a->deprecated_since +
                             !!a->flags + nested);
        reply_str_field(c, "name", a->name);
        reply_str_field(c, "type", arg_type_names[a->type]);
        if (spec) reply_int_field(c, "key_spec_index", a->key_spec);
        if (a->token) reply_str_field(c, "token", a->token);
        if (a->summary) reply_str_field(c, "summary", a->summary);
        if (a->since) reply_str_field(c, "since", a->since);
        if (a->deprecated_since) reply_str_field(c, "deprecated_since", a->deprecated_since);
        if (a->flags) {
            add_reply_bulk_cstr(c, "flags");
            reply_flag_set(c, a->flags, NAMES(arg_flag_names));
        }
        if (nested) {
            add_reply_bulk_cstr(c, "arguments");
            reply_arg_list(c, args + i + 1, end - i - 1);
        }
        i = end - 1;
    }
}

static void reply_command_docs(client *c, const command *cmd) {
    const command_meta *m = command_meta_of(cmd);
    const doc_row *d = m->doc;
    bool doc_flags = d && d->doc_flags, deprecated = d && d->deprecated_since, replaced = d && d->replaced_by;
    add_reply_map(c, 1 + !!cmd->summary + !!cmd->since + !!cmd->complexity + doc_flags + deprecated + replaced +
                         (m->nhistory > 0) + (m->nargs > 0) + (cmd->subcommands != NULL));
    if (cmd->summary) reply_str_field(c, "summary", cmd->summary);
    if (cmd->since) reply_str_field(c, "since", cmd->since);
    reply_str_field(c, "group", cmd->group ? cmd->group : "generic");
    if (cmd->complexity) reply_str_field(c, "complexity", cmd->complexity);
    if (doc_flags) {
        add_reply_bulk_cstr(c, "doc_flags");
        reply_flag_set(c, d->doc_flags, NAMES(doc_flag_names));
    }
    if (deprecated) reply_str_field(c, "deprecated_since", d->deprecated_since);
    if (replaced) reply_str_field(c, "replaced_by", d->replaced_by);
    if (m->nhistory > 0) {
        add_reply_bulk_cstr(c, "history");
        add_reply_set(c, m->nhistory);
        for (int i = 0; i < m->nhistory; i++) {
            add_reply_array(c, 2);
            add_reply_bulk_cstr(c, m->history[i].since);
            add_reply_bulk_cstr(c, m->history[i].changes);
        }
    }
    if (m->nargs > 0) {
        add_reply_bulk_cstr(c, "arguments");
        reply_arg_list(c, m->args, m->nargs);
    }
    if (cmd->subcommands) {
        add_reply_bulk_cstr(c, "subcommands");
        add_reply_map(c, nsubs(cmd));
        for (const command *s = cmd->subcommands; s->name; s++) {
            add_reply_bulk_cstr(c, s->fullname);
            reply_command_docs(c, s);
        }
    }
}

/* ------------------------------------------------------------ subcommands */

static const command *lookup_arg(const arg_t *a) { return command_lookup_fullname(a->ptr, a->len); }

static void command_command(client *c) {
    int n = command_count();
    add_reply_array(c, n);
    for (int i = 0; i < n; i++) reply_command_info(c, command_at(i));
}

static void command_count_command(client *c) { add_reply_integer(c, command_count()); }

static void command_info_command(client *c) {
    if (c->argc == 2) {
        command_command(c);
        return;
    }
    add_reply_array(c, c->argc - 2);
    for (int i = 2; i < c->argc; i++) {
        const command *cmd = lookup_arg(&c->argv[i]);
        if (cmd)
            reply_command_info(c, cmd);
        else
            add_reply_null(c);
    }
}

static void command_docs_command(client *c) {
    if (c->argc == 2) {
        int n = command_count();
        add_reply_map(c, n);
        for (int i = 0; i < n; i++) {
            add_reply_bulk_cstr(c, command_at(i)->fullname);
            reply_command_docs(c, command_at(i));
        }
        return;
    }
    int found = 0;
    for (int i = 2; i < c->argc; i++) found += lookup_arg(&c->argv[i]) != NULL;
    add_reply_map(c, found);
    for (int i = 2; i < c->argc; i++) {
        const command *cmd = lookup_arg(&c->argv[i]);
        if (!cmd) continue;
        add_reply_bulk_cstr(c, cmd->fullname);
        reply_command_docs(c, cmd);
    }
}

typedef struct list_filter {
    enum { FILTER_NONE, FILTER_PATTERN, FILTER_ACLCAT, FILTER_MODULE } type;
    const arg_t *arg;
} list_filter;

static bool has_category(const command *cmd, const arg_t *cat) {
    for (const char *p = cmd->acl_categories; p && *p;) {
        while (*p == ' ') p++;
        const char *e = p;
        while (*e && *e != ' ') e++;
        if ((size_t)(e - p) == cat->len && strncasecmp(p, cat->ptr, cat->len) == 0) return true;
        p = e;
    }
    return false;
}

static bool list_match(const command *cmd, const list_filter *f) {
    switch (f->type) {
    case FILTER_PATTERN: return glob_match(f->arg->ptr, f->arg->len, cmd->fullname, strlen(cmd->fullname), true);
    case FILTER_ACLCAT: return has_category(cmd, f->arg);
    case FILTER_MODULE: return false; /* no modules */
    default: return true;
    }
}

/* Every command followed by its subcommands, as Redis 7.0 lists them. */
static void command_list_command(client *c) {
    list_filter f = {FILTER_NONE, NULL};
    if (c->argc == 5 && arg_eq(&c->argv[2], "FILTERBY")) {
        f.arg = &c->argv[4];
        if (arg_eq(&c->argv[3], "PATTERN"))
            f.type = FILTER_PATTERN;
        else if (arg_eq(&c->argv[3], "ACLCAT"))
            f.type = FILTER_ACLCAT;
        else if (arg_eq(&c->argv[3], "MODULE"))
            f.type = FILTER_MODULE;
        else {
            add_reply_error(c, ERR_SYNTAX);
            return;
        }
    } else if (c->argc != 2) {
        add_reply_error(c, ERR_SYNTAX);
        return;
    }
    int n = command_count(), matched = 0;
    for (int pass = 0; pass < 2; pass++) { /* count, then reply */
        if (pass) add_reply_array(c, matched);
        for (int i = 0; i < n; i++) {
            const command *cmd = command_at(i);
            for (const command *x = cmd; x && x->name; x = x == cmd ? cmd->subcommands : x + 1) {
                if (!list_match(x, &f)) continue;
                if (pass)
                    add_reply_bulk_cstr(c, x->fullname);
                else
                    matched++;
            }
        }
    }
}

/* COMMAND GETKEYS / GETKEYSANDFLAGS <command> [<arg> ...], with Redis 7.0's
 * checks in its order. */
static void reply_getkeys(client *c, bool with_flags) {
    const arg_t *argv = c->argv + 2;
    int argc = c->argc - 2;
    const command *cmd = command_lookup(argv[0].ptr, argv[0].len);
    if (cmd && cmd->subcommands && argc > 1) cmd = command_lookup_sub(cmd, argv[1].ptr, argv[1].len);
    if (!cmd) {
        add_reply_error(c, "ERR Invalid command specified");
        return;
    }
    if (!command_keys_declared(cmd)) {
        add_reply_error(c, "ERR The command has no key arguments");
        return;
    }
    if ((cmd->arity > 0 && cmd->arity != argc) || argc < -cmd->arity) {
        add_reply_error(c, "ERR Invalid number of arguments specified for command");
        return;
    }
    key_ref *keys;
    int n = command_keys_find(cmd, argv, argc, &keys);
    if (n == 0) {
        if (cmd->flags & CMD_NO_MANDATORY_KEYS)
            add_reply_array(c, 0);
        else
            add_reply_error(c, "ERR Invalid arguments specified for command");
        return;
    }
    add_reply_array(c, n);
    for (int i = 0; i < n; i++) {
        const arg_t *k = &argv[keys[i].pos];
        if (with_flags) add_reply_array(c, 2);
        add_reply_bulk(c, k->ptr, k->len);
        if (with_flags) reply_flag_set(c, keys[i].flags, NAMES(key_spec_flag_names));
    }
    mem_free(keys);
}

static void command_getkeys_command(client *c) { reply_getkeys(c, false); }
static void command_getkeysandflags_command(client *c) { reply_getkeys(c, true); }

static void command_help_command(client *c) {
    static const char *const lines[] = {
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
        NULL,
    };
    add_reply_help(c, "COMMAND", lines);
}

#define CMD_SUB(nm, ar, fn, since_, sum, cx)                                                                   \
    {.name = nm, .arity = ar, .flags = CMD_LOADING | CMD_STALE, .proc = fn, .group = "server", .since = since_, \
     .summary = sum, .complexity = cx, .acl_categories = "slow connection"}

static command command_subcommands[] = {
    CMD_SUB("count", 2, command_count_command, "2.8.13", "Get total number of Redis commands", "O(1)"),
    CMD_SUB("list", -2, command_list_command, "7.0.0", "Get an array of Redis command names",
            "O(N) where N is the total number of Redis commands"),
    CMD_SUB("info", -2, command_info_command, "2.8.13",
            "Get array of specific Redis command details, or all when no argument is given.",
            "O(N) where N is the number of commands to look up"),
    CMD_SUB("docs", -2, command_docs_command, "7.0.0", "Get array of specific Redis command documentation",
            "O(N) where N is the number of commands to look up"),
    CMD_SUB("getkeys", -4, command_getkeys_command, "2.8.13", "Extract keys given a full Redis command",
            "O(N) where N is the number of arguments to the command"),
    CMD_SUB("getkeysandflags", -4, command_getkeysandflags_command, "7.0.0",
            "Extract keys and access flags given a full Redis command",
            "O(N) where N is the number of arguments to the command"),
    CMD_SUB("help", 2, command_help_command, "5.0.0", "Show helpful text about the different subcommands",
            "O(1)"),
    {0},
};

command command_commands[] = {
    {.name = "command", .arity = -1, .flags = CMD_LOADING | CMD_STALE, .proc = command_command,
     .group = "server", .since = "2.8.13", .summary = "Get array of Redis command details",
     .complexity = "O(N) where N is the total number of Redis commands", .acl_categories = "slow connection",
     .subcommands = command_subcommands},
    {0},
};
