/*
 * cmd_command.c - COMMAND, COMMAND COUNT / LIST / INFO / DOCS / GETKEYS:
 * introspection served straight from the command table (commands.c), in the
 * reply shapes of Redis 7.0 (redis-cli reads them for hints).
 */
#include "client.h"
#include "command_modules.h"
#include "glob.h"
#include "mem.h"

#include <stdio.h>
#include <string.h>

static const struct {
    uint32_t flag;
    const char *name;
} flag_names[] = {
    {CMD_WRITE, "write"},       {CMD_READONLY, "readonly"},       {CMD_DENYOOM, "denyoom"},
    {CMD_ADMIN, "admin"},       {CMD_PUBSUB, "pubsub"},           {CMD_NOSCRIPT, "noscript"},
    {CMD_BLOCKING, "blocking"}, {CMD_LOADING, "loading"},         {CMD_STALE, "stale"},
    {CMD_SKIP_MONITOR, "skip_monitor"}, {CMD_SKIP_SLOWLOG, "skip_slowlog"}, {CMD_FAST, "fast"},
    {CMD_NO_AUTH, "no_auth"},   {CMD_MAY_REPLICATE, "may_replicate"}, {CMD_NO_MULTI, "no_multi"},
    {CMD_ALLOW_BUSY, "allow_busy"},
};

static int count_words(const char *s) {
    int n = 0;
    for (const char *p = s; p && *p;) {
        while (*p == ' ') p++;
        if (!*p) break;
        n++;
        while (*p && *p != ' ') p++;
    }
    return n;
}

static void reply_acl_categories(client *c, const command *cmd) {
    const char *s = cmd->acl_categories ? cmd->acl_categories : "";
    add_reply_set(c, count_words(s));
    for (const char *p = s; *p;) {
        while (*p == ' ') p++;
        if (!*p) break;
        const char *e = p;
        while (*e && *e != ' ') e++;
        char buf[64];
        snprintf(buf, sizeof buf, "@%.*s", (int)(e - p), p);
        add_reply_status(c, buf);
        p = e;
    }
}

static int nsubs(const command *cmd) {
    int n = 0;
    for (const command *s = cmd->subcommands; s && s->name; s++) n++;
    return n;
}

static void reply_command_info(client *c, const command *cmd) {
    add_reply_array(c, 10);
    add_reply_bulk_cstr(c, cmd->fullname);
    add_reply_integer(c, cmd->arity);
    int nf = 0;
    for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++)
        if (cmd->flags & flag_names[i].flag) nf++;
    if (cmd->keys_fn) nf++;
    add_reply_set(c, nf);
    for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++)
        if (cmd->flags & flag_names[i].flag) add_reply_status(c, flag_names[i].name);
    if (cmd->keys_fn) add_reply_status(c, "movablekeys");
    add_reply_integer(c, cmd->first_key);
    add_reply_integer(c, cmd->last_key);
    add_reply_integer(c, cmd->key_step);
    reply_acl_categories(c, cmd);
    add_reply_array(c, 0); /* tips */
    if (cmd->first_key > 0) {
        add_reply_array(c, 1);
        add_reply_map(c, 3);
        add_reply_bulk_cstr(c, "flags");
        add_reply_set(c, 1);
        add_reply_status(c, (cmd->flags & CMD_WRITE) ? "RW" : "RO");
        add_reply_bulk_cstr(c, "begin_search");
        add_reply_map(c, 2);
        add_reply_bulk_cstr(c, "type");
        add_reply_bulk_cstr(c, "index");
        add_reply_bulk_cstr(c, "spec");
        add_reply_map(c, 1);
        add_reply_bulk_cstr(c, "index");
        add_reply_integer(c, cmd->first_key);
        add_reply_bulk_cstr(c, "find_keys");
        add_reply_map(c, 2);
        add_reply_bulk_cstr(c, "type");
        add_reply_bulk_cstr(c, "range");
        add_reply_bulk_cstr(c, "spec");
        add_reply_map(c, 3);
        add_reply_bulk_cstr(c, "lastkey");
        add_reply_integer(c, cmd->last_key < 0 ? cmd->last_key : cmd->last_key - cmd->first_key);
        add_reply_bulk_cstr(c, "keystep");
        add_reply_integer(c, cmd->key_step);
        add_reply_bulk_cstr(c, "limit");
        add_reply_integer(c, 0);
    } else {
        add_reply_array(c, 0);
    }
    add_reply_array(c, nsubs(cmd));
    for (const command *s = cmd->subcommands; s && s->name; s++) reply_command_info(c, s);
}

static void reply_command_docs(client *c, const command *cmd) {
    int fields = 4 + (cmd->subcommands ? 1 : 0);
    add_reply_map(c, fields);
    add_reply_bulk_cstr(c, "summary");
    add_reply_bulk_cstr(c, cmd->summary ? cmd->summary : "");
    add_reply_bulk_cstr(c, "since");
    add_reply_bulk_cstr(c, cmd->since ? cmd->since : "1.0.0");
    add_reply_bulk_cstr(c, "group");
    add_reply_bulk_cstr(c, cmd->group ? cmd->group : "generic");
    add_reply_bulk_cstr(c, "complexity");
    add_reply_bulk_cstr(c, cmd->complexity ? cmd->complexity : "");
    if (cmd->subcommands) {
        add_reply_bulk_cstr(c, "subcommands");
        add_reply_map(c, nsubs(cmd));
        for (const command *s = cmd->subcommands; s && s->name; s++) {
            add_reply_bulk_cstr(c, s->fullname);
            reply_command_docs(c, s);
        }
    }
}

/* Resolve "name" or "parent|sub". */
static const command *lookup_full(const arg_t *a) {
    const char *bar = memchr(a->ptr, '|', a->len);
    if (!bar) return command_lookup(a->ptr, a->len);
    const command *p = command_lookup(a->ptr, (size_t)(bar - a->ptr));
    if (!p) return NULL;
    return command_lookup_sub(p, bar + 1, a->len - (size_t)(bar - a->ptr) - 1);
}

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
        const command *cmd = lookup_full(&c->argv[i]);
        if (cmd)
            reply_command_info(c, cmd);
        else
            add_reply_null_array(c);
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
    for (int i = 2; i < c->argc; i++)
        if (lookup_full(&c->argv[i])) found++;
    add_reply_map(c, found);
    for (int i = 2; i < c->argc; i++) {
        const command *cmd = lookup_full(&c->argv[i]);
        if (!cmd) continue;
        add_reply_bulk_cstr(c, cmd->fullname);
        reply_command_docs(c, cmd);
    }
}

static bool has_category(const command *cmd, const arg_t *cat) {
    const char *s = cmd->acl_categories ? cmd->acl_categories : "";
    for (const char *p = s; *p;) {
        while (*p == ' ') p++;
        const char *e = p;
        while (*e && *e != ' ') e++;
        if ((size_t)(e - p) == cat->len && strncasecmp(p, cat->ptr, cat->len) == 0) return true;
        p = e;
    }
    return false;
}

static void command_list_command(client *c) {
    const arg_t *pattern = NULL, *category = NULL;
    bool module = false;
    if (c->argc == 5 && arg_eq(&c->argv[2], "FILTERBY")) {
        if (arg_eq(&c->argv[3], "PATTERN"))
            pattern = &c->argv[4];
        else if (arg_eq(&c->argv[3], "ACLCAT"))
            category = &c->argv[4];
        else if (arg_eq(&c->argv[3], "MODULE"))
            module = true;
        else {
            add_reply_error(c, ERR_SYNTAX);
            return;
        }
    } else if (c->argc != 2) {
        add_reply_error(c, ERR_SYNTAX);
        return;
    }
    int n = command_count(), matched = 0;
    const command **out = mem_alloc((size_t)(n * 8 + 1) * sizeof *out);
    for (int i = 0; i < n && !module; i++) {
        const command *cmd = command_at(i);
        const command *cands[64];
        int nc = 0;
        cands[nc++] = cmd;
        for (const command *s = cmd->subcommands; s && s->name && nc < 64; s++) cands[nc++] = s;
        for (int k = 0; k < nc; k++) {
            const command *x = cands[k];
            if (pattern && !glob_match(pattern->ptr, pattern->len, x->fullname, strlen(x->fullname), true)) continue;
            if (category && !has_category(x, category)) continue;
            if (!pattern && !category && k > 0) continue; /* plain LIST: top-level names */
            if (matched < n * 8) out[matched++] = x;
        }
    }
    add_reply_array(c, matched);
    for (int i = 0; i < matched; i++) add_reply_bulk_cstr(c, out[i]->fullname);
    mem_free(out);
}

static void command_getkeys_command(client *c) {
    const arg_t *argv = c->argv + 2;
    int argc = c->argc - 2;
    const command *cmd = command_lookup(argv[0].ptr, argv[0].len);
    if (cmd && cmd->subcommands && argc >= 2) cmd = command_lookup_sub(cmd, argv[1].ptr, argv[1].len);
    if (!cmd) {
        add_reply_error(c, "ERR Invalid command specified");
        return;
    }
    if ((cmd->arity > 0 && cmd->arity != argc) || argc < -cmd->arity) {
        add_reply_error(c, "ERR Invalid number of arguments specified for command");
        return;
    }
    int *idx = mem_alloc((size_t)argc * sizeof(int));
    int n = command_get_keys(cmd, argv, argc, idx, argc);
    if (n == 0) {
        add_reply_error(c, "ERR The command has no key arguments");
    } else {
        add_reply_array(c, n);
        for (int i = 0; i < n; i++) add_reply_bulk(c, argv[idx[i]].ptr, argv[idx[i]].len);
    }
    mem_free(idx);
}

static void command_help_command(client *c) {
    static const char *lines[] = {
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
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
        "HELP",
        "    Print this help.",
    };
    int n = (int)(sizeof lines / sizeof lines[0]);
    add_reply_array(c, n);
    for (int i = 0; i < n; i++) add_reply_status(c, lines[i]);
}

#define CMD_SUB(nm, ar, fn, sum)                                                                              \
    {.name = nm, .arity = ar, .flags = CMD_LOADING | CMD_STALE, .proc = fn, .group = "server",              \
     .since = "2.8.13", .summary = sum, .complexity = "O(N)", .acl_categories = "slow connection"}

static command command_subcommands[] = {
    CMD_SUB("count", 2, command_count_command, "Returns a count of commands."),
    CMD_SUB("list", -2, command_list_command, "Returns a list of command names."),
    CMD_SUB("info", -2, command_info_command, "Returns information about one, multiple or all commands."),
    CMD_SUB("docs", -2, command_docs_command, "Returns documentary information about one, multiple or all commands."),
    CMD_SUB("getkeys", -3, command_getkeys_command, "Extracts the key names from an arbitrary command."),
    CMD_SUB("help", 2, command_help_command, "Returns helpful text about the different subcommands."),
    {0},
};

command command_commands[] = {
    {.name = "command", .arity = -1, .flags = CMD_LOADING | CMD_STALE, .proc = command_command,
     .group = "server", .since = "2.8.13", .summary = "Returns detailed information about all commands.",
     .complexity = "O(N) where N is the total number of Redis commands", .acl_categories = "slow connection",
     .subcommands = command_subcommands},
    {0},
};
