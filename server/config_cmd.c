/*
 * config_cmd.c - the CONFIG command family: GET, SET, RESETSTAT, REWRITE,
 * HELP.
 *
 * The directive table and its values belong to config.c, the file merge of
 * REWRITE to config_rewrite.c; the handlers here only turn arguments into
 * calls to them (config_internal.h) and answer with Redis's replies.
 */
#include "client.h"
#include "command_modules.h"
#include "config.h"
#include "evict.h"
#include "config_internal.h"
#include "log.h"
#include "mem.h"
#include "stats.h"

#include <errno.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * Commands.
 * ---------------------------------------------------------------------- */

/* CONFIG GET pattern [pattern ...] */
static void config_get_command(client *c) {
    int n = c->argc - 2;
    const char **pats = mem_alloc(sizeof(char *) * (size_t)n);
    size_t *lens = mem_alloc(sizeof(size_t) * (size_t)n);
    for (int i = 0; i < n; i++) {
        pats[i] = c->argv[2 + i].ptr;
        lens[i] = c->argv[2 + i].len;
    }
    config_pair *pairs;
    int count = config_get_matching(pats, lens, n, &pairs);
    add_reply_map(c, count);
    for (int i = 0; i < count; i++) {
        add_reply_bulk_cstr(c, pairs[i].name);
        add_reply_bulk_cstr(c, pairs[i].value);
    }
    config_pairs_free(pairs, count);
    mem_free(pats);
    mem_free(lens);
}

/* Loopback peers may set protected configs under enable-protected-configs local. */
static bool client_is_local(const client *c) {
    return !strncmp(c->addr, "127.", 4) || !strncmp(c->addr, "::1:", 4) || !strncmp(c->addr, "[::1]", 5) ||
           c->addr[0] == '/';
}

/* CONFIG SET name value [name value ...] */
static void config_set_command(client *c) {
    if (c->argc & 1) {
        add_reply_error(c, ERR_SYNTAX);
        return;
    }
    int n = (c->argc - 2) / 2;
    char **names = mem_alloc(sizeof(char *) * (size_t)n);
    char **values = mem_alloc(sizeof(char *) * (size_t)n);
    size_t longest = 0;
    for (int i = 0; i < n; i++) {
        const arg_t *k = &c->argv[2 + 2 * i], *v = &c->argv[3 + 2 * i];
        names[i] = mem_strndup(k->ptr, k->len);
        values[i] = mem_strndup(v->ptr, v->len);
        if (k->len > longest) longest = k->len;
    }
    size_t errlen = longest + 512;
    char *err = mem_alloc(errlen);
    if (config_set_pairs(names, values, n, client_is_local(c), err, errlen)) {
        /* A lower maxmemory (or a new policy) takes effect at once, as in
         * Redis: evict down to the limit now (inside EXEC, where the
         * transaction's slot locks are held, evict_until_under leaves it to
         * the cron and the next write). */
        evict_until_under(-1);
        add_reply_ok(c);
    } else {
        for (char *p = err; *p; p++)
            if (*p == '\r' || *p == '\n') *p = ' '; /* an error reply is one line */
        add_reply_error(c, err);
    }
    for (int i = 0; i < n; i++) {
        mem_free(names[i]);
        mem_free(values[i]);
    }
    mem_free(names);
    mem_free(values);
    mem_free(err);
}

/* CONFIG RESETSTAT: INFO's counters, error stats and per-command stats. */
static void config_resetstat_command(client *c) {
    stats_reset(); /* also clears the error stats and command stats */
    add_reply_ok(c);
}

/* CONFIG REWRITE */
static void config_rewrite_command(client *c) {
    const char *path = config_file_path();
    if (!path) {
        add_reply_error(c, "ERR The server is running without a config file");
        return;
    }
    int rc = config_rewrite_file(path);
    int e = errno;
    if (rc < 0) {
        log_warning("CONFIG REWRITE failed: %s", strerror(e));
        add_reply_errorf(c, "ERR Rewriting config file: %s", strerror(e));
    } else {
        log_notice("CONFIG REWRITE executed with success.");
        add_reply_ok(c);
    }
}

/* CONFIG HELP */
static void config_help_command(client *c) {
    static const char *const help[] = {
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        NULL,
    };
    add_reply_help(c, "CONFIG", help);
}

#define CONFIG_SUB_FLAGS (CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE)

static command config_subcommands[] = {
    {.name = "get", .arity = -3, .flags = CONFIG_SUB_FLAGS, .proc = config_get_command, .group = "server",
     .since = "2.0.0", .summary = "Get the values of configuration parameters",
     .complexity = "O(N) when N is the number of configuration parameters provided",
     .acl_categories = "admin slow dangerous"},
    {.name = "set", .arity = -4, .flags = CONFIG_SUB_FLAGS, .proc = config_set_command, .group = "server",
     .since = "2.0.0", .summary = "Set configuration parameters to the given values",
     .complexity = "O(N) when N is the number of configuration parameters provided",
     .acl_categories = "admin slow dangerous"},
    {.name = "resetstat", .arity = 2, .flags = CONFIG_SUB_FLAGS, .proc = config_resetstat_command,
     .group = "server", .since = "2.0.0", .summary = "Reset the stats returned by INFO", .complexity = "O(1)",
     .acl_categories = "admin slow dangerous"},
    {.name = "rewrite", .arity = 2, .flags = CONFIG_SUB_FLAGS, .proc = config_rewrite_command,
     .group = "server", .since = "2.8.0", .summary = "Rewrite the configuration file with the in memory configuration",
     .complexity = "O(1)", .acl_categories = "admin slow dangerous"},
    {.name = "help", .arity = 2, .flags = CMD_LOADING | CMD_STALE, .proc = config_help_command,
     .group = "server", .since = "5.0.0", .summary = "Show helpful text about the different subcommands",
     .complexity = "O(1)", .acl_categories = "slow"},
    {0},
};

command config_commands[] = {
    {.name = "config", .arity = -2, .flags = 0, .group = "server", .since = "2.0.0",
     .summary = "A container for server configuration commands", .complexity = "Depends on subcommand.",
     .acl_categories = "slow", .subcommands = config_subcommands},
    {0},
};
