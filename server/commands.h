/*
 * commands.h - the declarative command table: name, arity, flags, key spec,
 * handler, and the documentation that COMMAND INFO / DOCS serve.
 *
 * Routing, slot locking, arity and auth checks all read this table (see
 * dispatch.c); nothing special-cases a command name. Container commands
 * (CLIENT, CONFIG, OBJECT, ...) list their subcommands, each a full entry
 * whose fullname is "parent|sub" as in Redis 7.
 */
#ifndef COMMANDS_H
#define COMMANDS_H

#include "client.h"

#include <stdbool.h>
#include <stdint.h>

enum cmd_flag {
    CMD_WRITE = 1 << 0,
    CMD_READONLY = 1 << 1,
    CMD_DENYOOM = 1 << 2,
    CMD_ADMIN = 1 << 3,
    CMD_PUBSUB = 1 << 4,
    CMD_NOSCRIPT = 1 << 5,
    CMD_BLOCKING = 1 << 6,
    CMD_LOADING = 1 << 7,
    CMD_STALE = 1 << 8,
    CMD_SKIP_MONITOR = 1 << 9,
    CMD_SKIP_SLOWLOG = 1 << 10,
    CMD_FAST = 1 << 11,
    CMD_NO_AUTH = 1 << 12,
    CMD_MAY_REPLICATE = 1 << 13,
    CMD_SENTINEL = 1 << 14,
    CMD_NO_MULTI = 1 << 15,
    CMD_ALLOW_BUSY = 1 << 16,
    CMD_NO_MANDATORY_KEYS = 1 << 17, /* may run with no key (EVAL with numkeys 0): GETKEYS answers [] */
    CMD_NO_ASYNC_LOADING = 1 << 18,  /* shown by COMMAND only (no async loading in slotcache) */
    CMD_ASKING = 1 << 19,            /* served in an importing slot as if ASKING was sent (RESTORE-ASKING) */
    /* slotcache-internal (not shown by COMMAND): */
    CMD_TX_CONTROL = 1 << 24,   /* runs at once inside MULTI (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET) */
    CMD_SUBSCRIBE_OK = 1 << 25, /* allowed in RESP2 subscriber mode ((P|S)(UN)SUBSCRIBE, PING, QUIT, RESET) */
    CMD_SCRIPT_WRITES = 1 << 27, /* not CMD_WRITE, but its script may write (EVAL, EVALSHA): write
                                    pauses hold it as Redis 7.0 does for a script without no-writes */
    CMD_OPEN_SLOT = 1 << 28,    /* served here while its slot is migrating or importing, whatever keys
                                   exist (MIGRATE: Redis's migrateCommand test in getNodeByQuery) */
    CMD_CLUSTER_STATE = 1 << 29, /* a CLUSTER subcommand: a transaction holding one takes every slot lock
                                    and keeps the cluster state locked across its queue (multi.c), so
                                    MULTI DELSLOTS ADDSLOTS BUMPEPOCH EXEC is one step for the bus too */
    CMD_ALL_SLOTS = 1 << 26,    /* locks slots beyond its key spec, one at a time or all at once (KEYS, SCAN,
                                   RANDOMKEY, FLUSHDB, FLUSHALL, DEBUG, MEMORY STATS, SORT with patterns):
                                   a transaction holding it takes every slot lock (multi.c) */
};

/* Key spec in Redis's legacy (first, last, step) form: keys are argv[first],
 * argv[first+step], ... up to argv[last] (last < 0 counts from the end). A
 * command with first == 0 has no keys. `keys_fn` overrides it for commands
 * whose keys depend on their arguments. */
typedef int command_keys_fn(const arg_t *argv, int argc, int *keyidx, int max);

typedef struct command {
    const char *name;          /* lowercase; subcommand: "get" under "config" */
    const char *fullname;      /* "config|get" or same as name; filled at init */
    int arity;                 /* Redis arity: >0 exact, <0 at least -arity */
    uint32_t flags;            /* enum cmd_flag */
    int first_key, last_key, key_step;
    command_keys_fn *keys_fn;
    void (*proc)(client *c);
    const char *group;         /* "string", "generic", "connection", "server" */
    const char *since;
    const char *summary;
    const char *complexity;
    const char *acl_categories;  /* space-separated, without '@' */
    struct command *subcommands; /* terminated by name == NULL */
    struct command *parent;
    int stat_id;               /* index for cmdstats.c; filled at init */
} command;

/* The table (commands.c) and lookup. commands_init also joins the metadata
 * (command_meta.h) and returns the number of inconsistencies it logged. */
int commands_init(void);
const command *command_lookup(const char *name, size_t len);
const command *command_lookup_sub(const command *parent, const char *name, size_t len);
/* "name" or "parent|sub" (Redis 7's fullname); NULL for anything else,
 * including a second '|' or a '|' after a command without subcommands. */
const command *command_lookup_fullname(const char *name, size_t len);
/* Iterate top-level commands. */
int command_count(void);
/* Number of commands and subcommands (stat_id range). */
int command_stat_slots(void);
const command *command_at(int i);

/* Extract key argument indexes into keyidx (up to max); returns count. */
int command_get_keys(const command *cmd, const arg_t *argv, int argc, int *keyidx, int max);
/* "ERR wrong number of arguments for '<fullname>' command" */
void reply_wrong_arity(client *c, const command *cmd);

#endif
