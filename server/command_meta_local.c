/*
 * command_meta_local.c - key specs and argument trees of the commands
 * slotcache has and Redis 7.0 does not (DELIFEQ, DELEX, DIGEST, CAS, CAD;
 * t_lock.c; CLUSTER MYSHARDID, Redis 7.2's), written by hand in the row types of command_meta.h. The
 * commands Redis 7.0 also has get theirs from the generated
 * command_meta_*_data.c files.
 *
 * Every command here takes one key at argv[1]: the compare-and-delete ones
 * read the value and may delete the key (RW access delete), CAS reads it and
 * may overwrite it (RW access update), DIGEST only reads it.
 */
#include "command_meta.h"

const key_spec_row local_key_spec_rows[] = {
    {"cad", KS_RW | KS_ACCESS | KS_DELETE, KS_INDEX(1), KS_RANGE(0, 1, 0)},
    {"cas", KS_RW | KS_ACCESS | KS_UPDATE, KS_INDEX(1), KS_RANGE(0, 1, 0)},
    {"delex", KS_RW | KS_ACCESS | KS_DELETE, KS_INDEX(1), KS_RANGE(0, 1, 0)},
    {"delifeq", KS_RW | KS_ACCESS | KS_DELETE, KS_INDEX(1), KS_RANGE(0, 1, 0)},
    {"digest", KS_RO | KS_ACCESS, KS_INDEX(1), KS_RANGE(0, 1, 0)},
    {0},
};

const tip_row local_tip_rows[] = {
    {"cluster|myshardid", "nondeterministic_output"}, /* Redis 7.2's */
    {0},
};

const doc_row local_doc_rows[] = {
    {0},
};

const history_row local_history_rows[] = {
    {0},
};

const arg_row local_arg_rows[] = {
    {ARG_ROW("cad", 0, "key", ARG_KEY, 0), .key_spec = 0},
    {ARG_ROW("cad", 0, "value", ARG_STRING, 0)},
    {ARG_ROW("cas", 0, "key", ARG_KEY, 0), .key_spec = 0},
    {ARG_ROW("cas", 0, "oldvalue", ARG_STRING, 0)},
    {ARG_ROW("cas", 0, "newvalue", ARG_STRING, 0)},
    {ARG_ROW("cas", 0, "expiration", ARG_ONEOF, ARG_OPTIONAL)},
    {ARG_ROW("cas", 1, "seconds", ARG_INTEGER, 0), .token = "EX"},
    {ARG_ROW("cas", 1, "milliseconds", ARG_INTEGER, 0), .token = "PX"},
    {ARG_ROW("cas", 1, "unix-time-seconds", ARG_UNIX_TIME, 0), .token = "EXAT"},
    {ARG_ROW("cas", 1, "unix-time-milliseconds", ARG_UNIX_TIME, 0), .token = "PXAT"},
    {ARG_ROW("delex", 0, "key", ARG_KEY, 0), .key_spec = 0},
    {ARG_ROW("delex", 0, "condition", ARG_ONEOF, ARG_OPTIONAL)},
    {ARG_ROW("delex", 1, "ifeq-value", ARG_STRING, 0), .token = "IFEQ"},
    {ARG_ROW("delex", 1, "ifne-value", ARG_STRING, 0), .token = "IFNE"},
    {ARG_ROW("delex", 1, "ifdeq-digest", ARG_STRING, 0), .token = "IFDEQ"},
    {ARG_ROW("delex", 1, "ifdne-digest", ARG_STRING, 0), .token = "IFDNE"},
    {ARG_ROW("delifeq", 0, "key", ARG_KEY, 0), .key_spec = 0},
    {ARG_ROW("delifeq", 0, "value", ARG_STRING, 0)},
    {ARG_ROW("digest", 0, "key", ARG_KEY, 0), .key_spec = 0},
    {0},
};
