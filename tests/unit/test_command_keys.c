/*
 * test_command_keys.c - the command table and its metadata agree: the
 * metadata joins without a problem, every command that takes keys has a
 * sample invocation (tests/support/command_samples.h), and for each sample
 * the keys dispatch locks (command_get_keys: first/last/step or keys_fn)
 * are the keys COMMAND GETKEYS reports through the key specs
 * (command_keys_find). test_command_introspection.c compares the latter
 * with redis-server.
 */
#include "command_keys.h"
#include "command_meta.h"
#include "commands.h"
#include "mem.h"

#include "../support/command_samples.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORDS 32

static void init(void) { cr_assert_eq(commands_init(), 0, "the command metadata has inconsistencies (see the log)"); }

/* The command a sample runs (subcommand resolved), or NULL. */
static const command *sample_command(const arg_t *argv, int argc) {
    const command *cmd = command_lookup(argv[0].ptr, argv[0].len);
    if (cmd && cmd->subcommands && argc > 1) cmd = command_lookup_sub(cmd, argv[1].ptr, argv[1].len);
    return cmd;
}

static int split_sample(const char *line, char *buf, arg_t *argv) {
    const char *words[MAX_WORDS];
    size_t lens[MAX_WORDS];
    int argc = command_sample_split(line, buf, words, lens, MAX_WORDS);
    for (int i = 0; i < argc; i++) argv[i] = (arg_t){.ptr = words[i], .len = lens[i]};
    return argc;
}

static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

/* Whether every key spec of the command is `not_key` (the channels of
 * SPUBLISH, SSUBSCRIBE, SUNSUBSCRIBE): GETKEYS reports no keys for them
 * while dispatch may still route by them. */
static bool only_not_key_specs(const command *cmd) {
    const command_meta *m = command_meta_of(cmd);
    for (int i = 0; i < m->nkey_specs; i++)
        if (!(m->key_specs[i].flags & KS_NOT_KEY)) return false;
    return m->nkey_specs > 0;
}

Test(command_keys, metadata_joins_cleanly) { init(); }

Test(command_keys, dispatch_keys_equal_key_spec_keys) {
    init();
    for (size_t s = 0; s < COMMAND_SAMPLES_COUNT; s++) {
        const char *line = command_samples[s];
        char buf[512];
        arg_t argv[MAX_WORDS];
        int argc = split_sample(line, buf, argv);
        const command *cmd = sample_command(argv, argc);
        cr_assert(cmd, "sample \"%s\": no such command", line);
        cr_assert((cmd->arity > 0 && argc == cmd->arity) || (cmd->arity < 0 && argc >= -cmd->arity),
                  "sample \"%s\": wrong arity for %s", line, cmd->fullname);

        int dispatch[MAX_WORDS];
        int nd = command_get_keys(cmd, argv, argc, dispatch, MAX_WORDS);
        key_ref *refs;
        int ns = command_keys_find(cmd, argv, argc, &refs);
        int specs[MAX_WORDS];
        for (int i = 0; i < ns; i++) specs[i] = refs[i].pos;
        mem_free(refs);
        qsort(dispatch, (size_t)nd, sizeof(int), cmp_int);
        qsort(specs, (size_t)ns, sizeof(int), cmp_int);
        cr_assert_eq(nd, ns, "sample \"%s\": dispatch locks %d keys, the key specs give %d", line, nd, ns);
        for (int i = 0; i < nd; i++)
            cr_assert_eq(dispatch[i], specs[i], "sample \"%s\": dispatch key argv[%d], key spec key argv[%d]", line,
                         dispatch[i], specs[i]);
    }
}

/* Every command that takes keys (in the key specs or for dispatch) has a
 * sample, and declares its keys in both places. */
static void check_covered(const command *cmd) {
    bool for_dispatch = cmd->first_key > 0 || cmd->keys_fn;
    bool for_getkeys = command_keys_declared(cmd);
    if (only_not_key_specs(cmd)) return;
    cr_assert_eq(for_dispatch, for_getkeys, "%s: dispatch %s keys but its key specs %s", cmd->fullname,
                 for_dispatch ? "takes" : "takes no", for_getkeys ? "declare some" : "declare none");
    if (!for_getkeys) return;
    bool found = false;
    for (size_t s = 0; s < COMMAND_SAMPLES_COUNT && !found; s++) {
        char buf[512];
        arg_t argv[MAX_WORDS];
        int argc = split_sample(command_samples[s], buf, argv);
        found = sample_command(argv, argc) == cmd;
    }
    cr_assert(found, "%s takes keys but has no sample in tests/support/command_samples.h", cmd->fullname);
}

Test(command_keys, every_key_taking_command_has_a_sample) {
    init();
    for (int i = 0; i < command_count(); i++) {
        const command *cmd = command_at(i);
        check_covered(cmd);
        for (const command *sub = cmd->subcommands; sub && sub->name; sub++) check_covered(sub);
    }
}
