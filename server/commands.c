/*
 * commands.c - joins the modules' command arrays into one table and looks
 * commands up by name (case-insensitive open-addressing index built once
 * at startup, read-only afterwards).
 */
#include "commands.h"

#include "cluster_api.h"
#include "command_meta.h"
#include "command_modules.h"
#include "mem.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define INDEX_SIZE 1024 /* power of two, > 2x the number of commands */

static command *all[INDEX_SIZE];
static int ncommands;
static int nstat_slots;
static command *index_tab[INDEX_SIZE];

static unsigned name_hash(const char *s, size_t len) {
    unsigned h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 'A' && ch <= 'Z') ch += 32;
        h = (h ^ ch) * 16777619u;
    }
    return h;
}

static void index_add(command *cmd) {
    unsigned i = name_hash(cmd->name, strlen(cmd->name)) & (INDEX_SIZE - 1);
    while (index_tab[i]) i = (i + 1) & (INDEX_SIZE - 1);
    index_tab[i] = cmd;
}

static void add_module(command *arr) {
    for (command *cmd = arr; cmd->name; cmd++) {
        cmd->fullname = cmd->name;
        cmd->stat_id = nstat_slots++;
        for (command *sub = cmd->subcommands; sub && sub->name; sub++) {
            size_t n = strlen(cmd->name) + strlen(sub->name) + 2;
            char *full = mem_alloc(n);
            snprintf(full, n, "%s|%s", cmd->name, sub->name);
            sub->fullname = full;
            sub->parent = cmd;
            sub->stat_id = nstat_slots++;
        }
        all[ncommands++] = cmd;
        index_add(cmd);
    }
}

int commands_init(void) {
    command *arrays[] = {conn_commands,   client_commands, string_commands, keys_commands,
                         expire_commands, server_commands, config_commands, command_commands, latency_commands,
                         hash_commands,   list_commands,   set_commands,    zset_commands,
                         pubsub_commands, multi_commands,  dump_commands, migrate_commands, lock_commands, script_commands, function_commands,
                         repl_commands, cluster_commands, route_commands, hll_commands, bitmap_commands, geo_commands, sort_commands, lcs_commands, stream_commands, stream_group_commands};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) add_module(arrays[i]);
    return command_meta_init();
}

const command *command_lookup(const char *name, size_t len) {
    unsigned i = name_hash(name, len) & (INDEX_SIZE - 1);
    while (index_tab[i]) {
        const command *cmd = index_tab[i];
        if (strlen(cmd->name) == len && strncasecmp(cmd->name, name, len) == 0) return cmd;
        i = (i + 1) & (INDEX_SIZE - 1);
    }
    return NULL;
}

const command *command_lookup_sub(const command *parent, const char *name, size_t len) {
    for (const command *sub = parent->subcommands; sub && sub->name; sub++)
        if (strlen(sub->name) == len && strncasecmp(sub->name, name, len) == 0) return sub;
    return NULL;
}

const command *command_lookup_fullname(const char *name, size_t len) {
    const char *bar = memchr(name, '|', len);
    if (!bar) return command_lookup(name, len);
    const command *parent = command_lookup(name, (size_t)(bar - name));
    if (!parent) return NULL;
    return command_lookup_sub(parent, bar + 1, len - (size_t)(bar - name) - 1);
}

int command_count(void) { return ncommands; }
int command_stat_slots(void) { return nstat_slots; }
const command *command_at(int i) { return all[i]; }

int command_get_keys(const command *cmd, const arg_t *argv, int argc, int *keyidx, int max) {
    if (cmd->keys_fn) return cmd->keys_fn(argv, argc, keyidx, max);
    if (cmd->first_key <= 0) return 0;
    int last = cmd->last_key < 0 ? argc + cmd->last_key : cmd->last_key;
    if (last >= argc) last = argc - 1;
    int step = cmd->key_step > 0 ? cmd->key_step : 1;
    int n = 0;
    for (int i = cmd->first_key; i <= last && n < max; i += step) keyidx[n++] = i;
    return n;
}

void reply_wrong_arity(client *c, const command *cmd) {
    add_reply_errorf(c, "ERR wrong number of arguments for '%s' command", cmd->fullname);
}
