/*
 * command_meta.c - joins the metadata row tables (command_meta.h) to the
 * command table by fullname, once at startup.
 *
 * Each command's slices are kept in an array indexed by its stat_id (unique
 * per command and subcommand, see commands.c), so the `command` entries of
 * the modules stay untouched and read-only. The array lives for the whole
 * process.
 */
#include "command_meta.h"

#include "log.h"
#include "mem.h"

#include <string.h>

static command_meta *metas;
static const command_meta empty_meta;

const command_meta *command_meta_of(const command *cmd) {
    if (!metas || cmd->stat_id < 0 || cmd->stat_id >= command_stat_slots()) return &empty_meta;
    return &metas[cmd->stat_id];
}

/* The command a table row names, or NULL (logged) when there is none. */
static command_meta *meta_for(const char *fullname, const char *table, int *problems) {
    const command *cmd = command_lookup_fullname(fullname, strlen(fullname));
    if (!cmd || strcmp(cmd->fullname, fullname) != 0) {
        log_warning("command metadata: %s names '%s', which is not a command", table, fullname);
        (*problems)++;
        return NULL;
    }
    return &metas[cmd->stat_id];
}

/* Walk a table of rows of `size` bytes whose first member is the fullname,
 * calling set(meta, first_row, nrows) once per run of equal fullnames. */
static void join_table(const void *rows, size_t size, const char *table, int *problems,
                       bool (*set)(command_meta *m, const void *first, int n)) {
    const char *p = rows;
    for (;;) {
        const char *name = *(const char *const *)p;
        if (!name) break;
        int n = 0;
        while (*(const char *const *)(p + (size_t)n * size) &&
               strcmp(*(const char *const *)(p + (size_t)n * size), name) == 0)
            n++;
        command_meta *m = meta_for(name, table, problems);
        if (m && !set(m, p, n)) {
            log_warning("command metadata: the %s rows of '%s' are not one run (or repeat a one-row field)", table,
                        name);
            (*problems)++;
        }
        p += (size_t)n * size;
    }
}

static bool set_key_specs(command_meta *m, const void *first, int n) {
    if (m->key_specs) return false;
    m->key_specs = first;
    m->nkey_specs = n;
    return true;
}

static bool set_tips(command_meta *m, const void *first, int n) {
    if (m->tips || n != 1) return false;
    m->tips = ((const tip_row *)first)->tips;
    return true;
}

static bool set_doc(command_meta *m, const void *first, int n) {
    if (m->doc || n != 1) return false;
    m->doc = first;
    return true;
}

static bool set_history(command_meta *m, const void *first, int n) {
    if (m->history) return false;
    m->history = first;
    m->nhistory = n;
    return true;
}

static bool set_args(command_meta *m, const void *first, int n) {
    if (m->args) return false;
    m->args = first;
    m->nargs = n;
    return true;
}

/* Every key argument must name one of its command's key specs, and every
 * tree must start at depth 0 and descend one level at a time. */
static int check_args(void) {
    int problems = 0;
    for (int i = 0; i < command_stat_slots(); i++) {
        const command_meta *m = &metas[i];
        for (int j = 0; j < m->nargs; j++) {
            const arg_row *a = &m->args[j];
            int prev = j ? m->args[j - 1].depth : -1;
            bool parent_ok = j == 0 ? a->depth == 0
                                    : a->depth <= prev || (a->depth == prev + 1 && (m->args[j - 1].type == ARG_ONEOF ||
                                                                                    m->args[j - 1].type == ARG_BLOCK));
            bool key_ok = a->type != ARG_KEY || (a->key_spec >= 0 && a->key_spec < m->nkey_specs);
            if (!parent_ok || !key_ok) {
                log_warning("command metadata: argument '%s' of '%s' has a bad %s", a->name, a->fullname,
                            parent_ok ? "key spec index" : "depth");
                problems++;
            }
        }
    }
    return problems;
}

int command_meta_init(void) {
    int problems = 0;
    metas = mem_calloc((size_t)command_stat_slots(), sizeof *metas);
    join_table(redis_key_spec_rows, sizeof(key_spec_row), "key specs", &problems, set_key_specs);
    join_table(local_key_spec_rows, sizeof(key_spec_row), "local key specs", &problems, set_key_specs);
    join_table(redis_tip_rows, sizeof(tip_row), "tips", &problems, set_tips);
    join_table(local_tip_rows, sizeof(tip_row), "local tips", &problems, set_tips);
    join_table(redis_doc_rows, sizeof(doc_row), "doc rows", &problems, set_doc);
    join_table(local_doc_rows, sizeof(doc_row), "local doc rows", &problems, set_doc);
    join_table(redis_history_rows, sizeof(history_row), "history", &problems, set_history);
    join_table(local_history_rows, sizeof(history_row), "local history", &problems, set_history);
    join_table(redis_arg_rows, sizeof(arg_row), "arguments", &problems, set_args);
    join_table(local_arg_rows, sizeof(arg_row), "local arguments", &problems, set_args);
    return problems + check_args();
}
