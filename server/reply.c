/*
 * reply.c - the reply API commands use (add_reply_*: encode in the
 * client's protocol, RESP2 or RESP3, into its reply buffer; errors are
 * counted for INFO errorstats) and the argument helpers that answer the
 * client on bad input (arg_*_or_reply), and the HELP and subcommand-error
 * replies every container command shares. No I/O: conn.c writes the buffer
 * out. Runs on the client's worker only, like everything that touches a
 * client's reply buffer.
 */
#include "client.h"

#include "entry.h"
#include "numparse.h"
#include "stats.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

void add_reply_ok(client *c) { reply_ok(&c->out); }
void add_reply_status(client *c, const char *s) { reply_status(&c->out, s); }
bool reply_wrong_type(client *c, const entry *e, unsigned type) {
    if (!e || entry_type(e) == type) return false;
    add_reply_error(c, ERR_WRONGTYPE);
    return true;
}

void add_reply_error(client *c, const char *msg) {
    stat_inc(STAT_ERROR_REPLIES);
    tl_error_replies++;
    errorstats_count(msg);
    reply_error(&c->out, msg, strlen(msg));
}
void add_reply_errorf(client *c, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    add_reply_error(c, buf);
}
void add_reply_integer(client *c, long long v) { reply_integer(&c->out, v); }
void add_reply_bulk(client *c, const void *p, size_t len) { reply_bulk(&c->out, p, len); }
void add_reply_bulk_cstr(client *c, const char *s) { reply_bulk_cstr(&c->out, s); }
void add_reply_null(client *c) { reply_null(&c->out, c->resp); }
void add_reply_null_array(client *c) { reply_null_array(&c->out, c->resp); }
void add_reply_array(client *c, long long n) { reply_array(&c->out, n); }
void add_reply_map(client *c, long long n) { reply_map(&c->out, c->resp, n); }
void add_reply_set(client *c, long long n) { reply_set(&c->out, c->resp, n); }
void add_reply_double(client *c, double v) { reply_double(&c->out, c->resp, v); }
void add_reply_verbatim(client *c, const char *p, size_t len, const char *fmt) {
    reply_verbatim(&c->out, c->resp, p, len, fmt);
}
void add_reply_raw(client *c, const void *p, size_t len) { reply_raw(&c->out, p, len); }

void add_reply_help_more(client *c, const char *name, const char *const *lines, long long more) {
    long long n = 0;
    while (lines[n]) n++;
    char header[128];
    snprintf(header, sizeof header, "%s <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", name);
    add_reply_array(c, 1 + n + 2 + more);
    add_reply_status(c, header);
    for (long long i = 0; i < n; i++) add_reply_status(c, lines[i]);
    add_reply_status(c, "HELP");
    add_reply_status(c, "    Prints this help.");
}
void add_reply_help(client *c, const char *name, const char *const *lines) { add_reply_help_more(c, name, lines, 0); }

void add_reply_subcommand_syntax_error(client *c, const char *name) {
    add_reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try %s HELP.",
                     (int)(c->argv[1].len > 128 ? 128 : c->argv[1].len), c->argv[1].ptr, name);
}

bool arg_eq(const arg_t *a, const char *s) {
    size_t n = strlen(s);
    return a->len == n && strncasecmp(a->ptr, s, n) == 0;
}

bool arg_ll_or_reply(client *c, const arg_t *a, long long *out, const char *errmsg) {
    if (parse_ll(a->ptr, a->len, out)) return true;
    add_reply_error(c, errmsg ? errmsg : ERR_NOT_INT);
    return false;
}

bool arg_ld_or_reply(client *c, const arg_t *a, long double *out, const char *errmsg) {
    if (parse_ld(a->ptr, a->len, out)) return true;
    add_reply_error(c, errmsg ? errmsg : ERR_NOT_FLOAT);
    return false;
}

bool arg_double_or_reply(client *c, const arg_t *a, double *out, const char *errmsg) {
    if (parse_double(a->ptr, a->len, out)) return true;
    add_reply_error(c, errmsg ? errmsg : ERR_NOT_FLOAT);
    return false;
}
