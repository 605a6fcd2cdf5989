/*
 * command_keys.h - the keys of a command invocation as COMMAND GETKEYS and
 * GETKEYSANDFLAGS report them: found through the key specs of the command's
 * metadata (command_meta.h), with the per-key flags, by Redis 7.0's rules.
 *
 * Dispatch does not use this: it locks the slots of the keys the command
 * table's first/last/step or keys_fn give (commands.c, command_get_keys).
 * tests/unit/test_command_keys.c checks that both agree on a sample
 * invocation of every command that takes keys.
 */
#ifndef COMMAND_KEYS_H
#define COMMAND_KEYS_H

#include "commands.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct key_ref {
    int pos;           /* index into argv */
    uint16_t flags;    /* enum key_spec_flag; 0 when found by a fallback that knows none */
} key_ref;

/* Whether the command declares keys at all: a key spec that is not
 * `not_key`, or a fallback key finder (Redis's doesCommandHaveKeys). */
bool command_keys_declared(const command *cmd);

/* The keys of cmd run as argv[0..argc) (argv[0] is the command name; the
 * caller has checked the arity). Returns how many, with *out a mem_alloc'd
 * array the caller frees (NULL when 0). 0 also when the arguments make
 * the key specs invalid (a bad key count, a key past the end). */
int command_keys_find(const command *cmd, const arg_t *argv, int argc, key_ref **out);

#endif
