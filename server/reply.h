/*
 * reply.h - the reply API (reply.c): what a command handler calls to answer
 * its client, and the argument helpers that answer on bad input. Included
 * by client.h (after the client and arg_t types it uses), so every command
 * module has it; include client.h, not this file.
 */
#ifndef REPLY_H
#define REPLY_H

#include <stdbool.h>
#include <stddef.h>

/* Encode in the client's protocol into its reply buffer. */
void add_reply_ok(client *c);
void add_reply_status(client *c, const char *s);
/* msg starts with the error code ("ERR ...", "WRONGTYPE ..."). Counted in
 * INFO errorstats. */
void add_reply_error(client *c, const char *msg);
void add_reply_errorf(client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void add_reply_integer(client *c, long long v);
void add_reply_bulk(client *c, const void *p, size_t len);
void add_reply_bulk_cstr(client *c, const char *s);
void add_reply_null(client *c);
void add_reply_null_array(client *c);
void add_reply_array(client *c, long long n);
void add_reply_map(client *c, long long npairs);
void add_reply_set(client *c, long long n);
void add_reply_double(client *c, double v);
void add_reply_verbatim(client *c, const char *p, size_t len, const char *fmt);
void add_reply_raw(client *c, const void *p, size_t len);
/* Redis's HELP reply (addReplyHelp), every line a status reply: "<NAME>
 * <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", the
 * NULL-terminated `lines`, then "HELP" and "    Prints this help.". */
void add_reply_help(client *c, const char *name, const char *const *lines);
/* The same in an array `more` elements longer: the caller adds them after
 * (SCRIPT HELP's list of recognised scripts). */
void add_reply_help_more(client *c, const char *name, const char *const *lines, long long more);
/* Redis's addReplySubcommandSyntaxError: "ERR unknown subcommand or wrong
 * number of arguments for '<argv[1], at most 128 bytes>'. Try <NAME> HELP." */
void add_reply_subcommand_syntax_error(client *c, const char *name);
/* Reply WRONGTYPE and return true when e exists and is not of `type`
 * (enum obj_type); the type commands' common first check. */
struct entry;
bool reply_wrong_type(client *c, const struct entry *e, unsigned type);

/* Common Redis error strings. */
#define ERR_SYNTAX "ERR syntax error"
#define ERR_WRONGTYPE "WRONGTYPE Operation against a key holding the wrong kind of value"
#define ERR_NOT_INT "ERR value is not an integer or out of range"
#define ERR_NOT_FLOAT "ERR value is not a valid float"
#define ERR_NO_SUCH_KEY "ERR no such key"
#define ERR_OVERFLOW "ERR increment or decrement would overflow"
#define ERR_DB_RANGE "ERR DB index is out of range"
#define ERR_SAME_OBJECT "ERR source and destination objects are the same"

/* Argument parsing that replies on failure (Redis's ...OrReply helpers). */
bool arg_ll_or_reply(client *c, const arg_t *a, long long *out, const char *errmsg);
bool arg_ld_or_reply(client *c, const arg_t *a, long double *out, const char *errmsg);
bool arg_double_or_reply(client *c, const arg_t *a, double *out, const char *errmsg);
bool arg_eq(const arg_t *a, const char *s); /* case-insensitive */

#endif
