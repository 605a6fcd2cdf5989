/*
 * resp_parse.h - incremental RESP request parser (multibulk and inline).
 *
 * The parser does no I/O and knows nothing of clients: the caller feeds it the
 * unconsumed bytes of a connection's query buffer and gets back one complete
 * command at a time. Arguments are returned as offsets into that buffer (not
 * pointers) so the caller may grow/move its buffer between calls while a
 * command is still incomplete; parsing resumes where it stopped, so a large
 * command arriving in many reads is not rescanned from its start.
 *
 * Errors are typed (enum resp_error) and carry Redis's exact message text
 * (resp_error_message()); after an error the connection must be closed.
 */
#ifndef RESP_PARSE_H
#define RESP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Redis's PROTO_INLINE_MAX_SIZE: longest inline request / count line. */
#define RESP_INLINE_MAX (64 * 1024)
/* Redis's limits for connections that have not authenticated yet. */
#define RESP_UNAUTH_MAX_MULTIBULK 10
#define RESP_UNAUTH_MAX_BULK 16384

typedef enum {
    RESP_ERR_NONE = 0,
    RESP_ERR_INVALID_MULTIBULK_LEN,   /* "Protocol error: invalid multibulk length" */
    RESP_ERR_INVALID_BULK_LEN,        /* "Protocol error: invalid bulk length" */
    RESP_ERR_EXPECTED_DOLLAR,         /* "Protocol error: expected '$', got 'X'" */
    RESP_ERR_UNBALANCED_QUOTES,       /* "Protocol error: unbalanced quotes in request" */
    RESP_ERR_TOO_BIG_INLINE,          /* "Protocol error: too big inline request" */
    RESP_ERR_TOO_BIG_MBULK_COUNT,     /* "Protocol error: too big mbulk count string" */
    RESP_ERR_TOO_BIG_BULK_COUNT,      /* "Protocol error: too big bulk count string" */
    RESP_ERR_UNAUTH_MULTIBULK_LEN,    /* "Protocol error: unauthenticated multibulk length" */
    RESP_ERR_UNAUTH_BULK_LEN,         /* "Protocol error: unauthenticated bulk length" */
} resp_error;

typedef enum {
    RESP_PARSE_INCOMPLETE = 0, /* need more bytes; nothing consumed yet */
    RESP_PARSE_COMMAND = 1,    /* a command is ready in p->argv/argc */
    RESP_PARSE_EMPTY = 2,      /* an empty command (blank inline line, "*0",
                                  "*-1"): consume *consumed bytes, run nothing */
    RESP_PARSE_ERROR = -1,     /* protocol error: p->error says which */
} resp_parse_result;

/* One argument: [off, off+len) within the buffer passed to resp_parse().
 * For inline commands with quoting the unescaped argument bytes are written
 * back into the buffer in place (unescaping never makes text longer), so
 * offsets still point into the caller's buffer. */
typedef struct {
    size_t off;
    size_t len;
} resp_arg;

typedef struct {
    /* Limits (set by the caller before each call; may change at run time). */
    long long max_bulk_len;   /* proto-max-bulk-len, e.g. 512MB */
    bool authenticated;       /* false: Redis's unauthenticated limits apply */

    /* Output of a RESP_PARSE_COMMAND / RESP_PARSE_EMPTY result. */
    resp_arg *argv;           /* owned by the parser (allocated through
                                 proto_alloc.h); valid until the next
                                 resp_parse() / resp_parser_reset() call */
    int argc;
    resp_error error;         /* set on RESP_PARSE_ERROR */
    char error_byte;          /* the unexpected byte for RESP_ERR_EXPECTED_DOLLAR */
    bool inline_cmd;          /* the command was an inline one */

    /* Hint for the caller: when > 0, the parser is waiting for a bulk payload
     * and the whole command will be complete once the buffer holds at least
     * this many bytes (from its start). Lets the caller size its buffer once
     * for a big bulk instead of growing it repeatedly. */
    size_t need_bytes;

    /* Private resumable state. */
    size_t pos;               /* bytes of the current command scanned so far */
    long long multibulk_left; /* args still expected; 0 = not in a multibulk */
    long long bulk_len;       /* -1 = expecting a "$<len>" line next */
    int argv_cap;
    bool in_multibulk;
    size_t scan;              /* where the search for the current line's
                                 terminator resumes (added field) */
} resp_parser;

void resp_parser_init(resp_parser *p, long long max_bulk_len);
/* Free argv and return to the initial state. */
void resp_parser_free(resp_parser *p);
/* Forget any partially parsed command (state only; keeps argv storage). */
void resp_parser_reset(resp_parser *p);

/*
 * Parse one command from buf[0..len), the unconsumed part of the query
 * buffer; buf[0] is the first byte of the command (the same start on every
 * call until a result other than INCOMPLETE is returned). The caller may append
 * bytes to its buffer or move it between calls, but must pass the same
 * leading bytes again.
 *
 * On COMMAND or EMPTY, *consumed is set to the number of bytes the command
 * occupied; the caller runs it (argv offsets relative to buf) and then drops
 * those bytes. On INCOMPLETE nothing is consumed. On ERROR the connection
 * must be closed after the error reply is sent.
 *
 * Note: inline parsing may rewrite bytes inside buf (unescaping).
 */
resp_parse_result resp_parse(resp_parser *p, char *buf, size_t len, size_t *consumed);

/* Redis's exact error text for an error (without "-ERR " and CRLF), written
 * into out (NUL-terminated, truncated to outlen). Returns its length. */
size_t resp_error_message(const resp_parser *p, char *out, size_t outlen);

#endif
