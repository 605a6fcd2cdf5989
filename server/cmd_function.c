/*
 * cmd_function.c - FUNCTION, answered as a Redis 7.0 server with no
 * function libraries, since slotcache has no Lua engine to run them
 * (redis-compat.md): LIST is empty, FLUSH and DELETE find nothing, STATS
 * reports no running script and no engine, KILL finds nothing to kill,
 * RESTORE accepts a payload that holds no library (Redis's FUNCTION DUMP of
 * an empty server: the RDB version and CRC-64 trailer alone) and LOAD and
 * DUMP refuse.
 *
 * Why it exists: `redis-cli --cluster add-node` copies the functions of a
 * cluster's node to the new one (FUNCTION DUMP there, FUNCTION LIST and
 * FUNCTION RESTORE on the new node; CLUSTER-WIRE 1.9), so a slotcache node
 * can join a cluster led by redis-server nodes only if these answer as an
 * empty Redis does. DUMP stays an error, as redis-cli then skips the copy
 * when slotcache is the node it asks.
 */
#include "command_modules.h"
#include "dump.h"
#include "rdb_codec.h"
#include "reply.h"

static const char ERR_NO_ENGINE[] = "ERR slotcache has no function engine (no Lua): FUNCTION LOAD and FCALL are "
                                    "not supported";

static void function_list_command(client *c) {
    bool with_code = false, named = false;
    for (int i = 2; i < c->argc; i++) {
        if (!with_code && arg_eq(&c->argv[i], "withcode")) {
            with_code = true;
            continue;
        }
        if (!named && arg_eq(&c->argv[i], "libraryname")) {
            if (i >= c->argc - 1) {
                add_reply_error(c, "ERR library name argument was not given");
                return;
            }
            named = true;
            i++;
            continue;
        }
        add_reply_errorf(c, "ERR Unknown argument %.*s", (int)c->argv[i].len, c->argv[i].ptr);
        return;
    }
    add_reply_array(c, 0);
}

static void function_dump_command(client *c) { add_reply_error(c, ERR_NO_ENGINE); }

static void function_load_command(client *c) { add_reply_error(c, ERR_NO_ENGINE); }

static void function_restore_command(client *c) {
    if (c->argc > 4) {
        add_reply_subcommand_syntax_error(c, "FUNCTION");
        return;
    }
    if (c->argc == 4 && !arg_eq(&c->argv[3], "append") && !arg_eq(&c->argv[3], "replace") &&
        !arg_eq(&c->argv[3], "flush")) {
        add_reply_error(c, "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
        return;
    }
    const unsigned char *p = (const unsigned char *)c->argv[2].ptr;
    size_t len = c->argv[2].len;
    if (!dump_payload_ok(p, len)) {
        add_reply_error(c, "ERR DUMP payload version or checksum are wrong");
        return;
    }
    /* Records before the 10-byte trailer: Redis reads a type byte first. */
    if (len > 10) {
        if (p[0] != RDB_OPCODE_FUNCTION && p[0] != RDB_OPCODE_FUNCTION2)
            add_reply_error(c, "ERR given type is not a function");
        else
            add_reply_error(c, ERR_NO_ENGINE);
        return;
    }
    /* No library in it: nothing changes, under any policy (FLUSH empties
     * what is already empty). */
    add_reply_ok(c);
}

static void function_flush_command(client *c) {
    if (c->argc > 3) {
        add_reply_subcommand_syntax_error(c, "FUNCTION");
        return;
    }
    if (c->argc == 3 && !arg_eq(&c->argv[2], "sync") && !arg_eq(&c->argv[2], "async")) {
        add_reply_error(c, "ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
        return;
    }
    add_reply_ok(c);
}

static void function_delete_command(client *c) { add_reply_error(c, "ERR Library not found"); }

static void function_kill_command(client *c) { add_reply_error(c, "NOTBUSY No scripts in execution right now."); }

static void function_stats_command(client *c) {
    add_reply_map(c, 2);
    add_reply_bulk_cstr(c, "running_script");
    add_reply_null(c);
    add_reply_bulk_cstr(c, "engines");
    add_reply_map(c, 0);
}

static void function_help_command(client *c) {
    static const char *const lines[] = {
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION "
        "RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
        "      libraries with the new libraries (notice that even on this option there is a chance of failure",
        "      in case of functions name collision with another library).",
        NULL,
    };
    add_reply_help(c, "FUNCTION", lines);
}

#define FN_SUB(nm, ar, fl, fn, sum, cx, acl)                                                                  \
    {.name = nm, .arity = ar, .flags = (fl), .proc = fn, .group = "scripting", .since = "7.0.0", .summary = sum, \
     .complexity = cx, .acl_categories = acl}

static command function_subcommands[] = {
    FN_SUB("delete", 3, CMD_WRITE | CMD_NOSCRIPT, function_delete_command, "Delete a function by name", "O(1)",
           "write slow scripting"),
    FN_SUB("dump", 2, CMD_NOSCRIPT, function_dump_command, "Dump all functions into a serialized binary payload",
           "O(N) where N is the number of functions", "slow scripting"),
    FN_SUB("flush", -2, CMD_WRITE | CMD_NOSCRIPT, function_flush_command, "Deleting all functions",
           "O(N) where N is the number of functions deleted", "write slow scripting"),
    FN_SUB("help", 2, CMD_LOADING | CMD_STALE, function_help_command,
           "Show helpful text about the different subcommands", "O(1)", "slow scripting"),
    FN_SUB("kill", 2, CMD_NOSCRIPT | CMD_ALLOW_BUSY, function_kill_command, "Kill the function currently in execution.",
           "O(1)", "slow scripting"),
    FN_SUB("list", -2, CMD_NOSCRIPT, function_list_command, "List information about all the functions",
           "O(N) where N is the number of functions", "slow scripting"),
    FN_SUB("load", -3, CMD_WRITE | CMD_DENYOOM | CMD_NOSCRIPT, function_load_command,
           "Create a function with the given arguments (name, code, description)",
           "O(1) (considering compilation time is redundant)", "write slow scripting"),
    FN_SUB("restore", -3, CMD_WRITE | CMD_DENYOOM | CMD_NOSCRIPT, function_restore_command,
           "Restore all the functions on the given payload", "O(N) where N is the number of functions on the payload",
           "write slow scripting"),
    FN_SUB("stats", 2, CMD_NOSCRIPT | CMD_ALLOW_BUSY, function_stats_command,
           "Return information about the function currently running (name, description, duration)", "O(1)",
           "slow scripting"),
    {0},
};

command function_commands[] = {
    {.name = "function", .arity = -2, .group = "scripting", .since = "7.0.0",
     .summary = "A container for function commands", .complexity = "Depends on subcommand.",
     .acl_categories = "slow", .subcommands = function_subcommands},
    {0},
};
