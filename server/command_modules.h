/*
 * command_modules.h - the per-module parts of the declarative command table.
 * Each module defines one array of `command` entries, terminated by an entry
 * whose name is NULL; commands.c joins them into the table.
 */
#ifndef COMMAND_MODULES_H
#define COMMAND_MODULES_H

#include "commands.h"

extern command string_commands[];  /* t_string.c */
extern command keys_commands[];    /* cmd_keys.c: DEL, EXISTS, SCAN, FLUSHDB... */
extern command expire_commands[];  /* cmd_expire.c: EXPIRE family, TTL, PERSIST */
extern command conn_commands[];    /* cmd_conn.c: PING, AUTH, HELLO, SELECT... */
extern command client_commands[];  /* cmd_client.c: CLIENT and subcommands */
extern command server_commands[];  /* cmd_server.c: INFO, TIME, DEBUG, MEMORY, SLOWLOG, SHUTDOWN... */
extern command config_commands[];  /* config_cmd.c: CONFIG and subcommands */
extern command command_commands[]; /* cmd_command.c: COMMAND and subcommands */
extern command latency_commands[]; /* latency.c: LATENCY and subcommands */
extern command hash_commands[];   /* t_hash.c */
extern command list_commands[];   /* t_list.c */
extern command set_commands[];    /* t_set.c */
extern command zset_commands[];   /* t_zset.c */
extern command pubsub_commands[]; /* pubsub.c */
extern command multi_commands[];  /* multi.c: MULTI EXEC DISCARD WATCH UNWATCH */
extern command dump_commands[];   /* dump.c: DUMP RESTORE RESTORE-ASKING */
extern command migrate_commands[]; /* migrate.c: MIGRATE */
extern command lock_commands[];   /* t_lock.c: DELIFEQ DELEX DIGEST CAS CAD */
extern command script_commands[]; /* script.c: EVAL EVALSHA EVAL_RO EVALSHA_RO SCRIPT */
extern command function_commands[]; /* cmd_function.c: FUNCTION (no libraries: no Lua) */
extern command stream_commands[]; /* t_stream.c: XADD XRANGE XREAD XTRIM XINFO STREAM... */
extern command repl_commands[];   /* cluster/repl_cmd.c: REPLICAOF SLAVEOF ROLE SYNC PSYNC REPLCONF WAIT */
extern command hll_commands[];    /* t_hll.c: PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST */
extern command bitmap_commands[]; /* t_bitmap.c: SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO */
extern command geo_commands[];    /* t_geo.c: GEOADD GEODIST GEOHASH GEOPOS GEORADIUS* GEOSEARCH* */

extern command sort_commands[];   /* t_sort.c: SORT SORT_RO */
extern command lcs_commands[];    /* t_lcs.c: LCS */
extern command stream_group_commands[]; /* t_stream_group.c: XGROUP XREADGROUP XACK XPENDING XCLAIM XAUTOCLAIM */

#endif
