/*
 * resp_parse.c - owns the incremental RESP request parser: multibulk and
 * inline commands, reproducing Redis 7.0's networking.c
 * (processMultibulkBuffer / processInlineBuffer, sdssplitargs) byte for byte,
 * including its error texts and limits. No I/O, no client state.
 *
 * Redis quirks kept on purpose (they decide what a client sees):
 *  - Lines are found with strchr() on a NUL-terminated buffer, so a NUL byte
 *    before the line terminator hides it: the command then never completes
 *    and ends in a "too big ..." error once more than 64KB are buffered.
 *  - A multibulk line ends at '\r' and the byte after it is skipped without
 *    being checked; a bulk payload is followed by 2 skipped, unchecked bytes.
 *  - Inline lines end at '\n' with one optional preceding '\r' stripped.
 */
#include "resp_parse.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "numparse.h"
#include "proto_alloc.h"

#define NOT_FOUND SIZE_MAX
#define ARGV_INITIAL_MAX 1024 /* Redis: argv preallocation cap */

/* ---- state ------------------------------------------------------------- */

static void reset_state(resp_parser *p)
{
    p->pos = 0;
    p->scan = 0;
    p->multibulk_left = 0;
    p->bulk_len = -1;
    p->in_multibulk = false;
}

void resp_parser_init(resp_parser *p, long long max_bulk_len)
{
    memset(p, 0, sizeof(*p));
    p->max_bulk_len = max_bulk_len;
    /* No password configured: the unauthenticated limits do not apply. The
     * caller sets this to false for clients that still have to AUTH. */
    p->authenticated = true;
    reset_state(p);
}

void resp_parser_free(resp_parser *p)
{
    long long max_bulk_len = p->max_bulk_len;
    bool authenticated = p->authenticated;

    proto_free(p->argv);
    resp_parser_init(p, max_bulk_len);
    p->authenticated = authenticated;
}

void resp_parser_reset(resp_parser *p)
{
    reset_state(p);
    p->argc = 0;
    p->error = RESP_ERR_NONE;
    p->error_byte = 0;
    p->need_bytes = 0;
    p->inline_cmd = false;
}

/* Make room for at least `want` arguments; `hint` is how many the command
 * can still need in total (growth never overshoots it, as in Redis). */
static void argv_reserve(resp_parser *p, long long want, long long hint)
{
    long long cap;

    if (want <= p->argv_cap)
        return;
    cap = p->argv_cap < INT_MAX / 2 ? (long long)p->argv_cap * 2 : INT_MAX;
    if (cap < 8)
        cap = 8;
    if (cap > hint)
        cap = hint;
    if (cap < want)
        cap = want;
    p->argv = proto_realloc(p->argv, (size_t)cap * sizeof(resp_arg));
    p->argv_cap = (int)cap;
}

static void argv_push(resp_parser *p, size_t off, size_t len, long long hint)
{
    argv_reserve(p, (long long)p->argc + 1, hint);
    p->argv[p->argc].off = off;
    p->argv[p->argc].len = len;
    p->argc++;
}

static resp_parse_result fail(resp_parser *p, resp_error err, char byte)
{
    p->error = err;
    p->error_byte = byte;
    p->need_bytes = 0;
    reset_state(p);
    return RESP_PARSE_ERROR;
}

static resp_parse_result done(resp_parser *p, resp_parse_result r, size_t consumed,
                              size_t *consumed_out)
{
    if (consumed_out)
        *consumed_out = consumed;
    p->need_bytes = 0;
    reset_state(p);
    return r;
}

/* Find the terminator `ch` of the line that starts at `start`, the way
 * Redis's strchr() does on its NUL-terminated query buffer: a NUL byte before
 * the terminator hides it for good (the bytes before it never change).
 * The search resumes at p->scan, so a slowly arriving line is scanned once;
 * when blocked by a NUL, p->scan stays on it and later calls stop at once. */
static size_t find_line_end(resp_parser *p, const char *buf, size_t len, size_t start, char ch)
{
    size_t from = (p->scan > start && p->scan <= len) ? p->scan : start;
    const char *q = memchr(buf + from, ch, len - from);
    size_t end = q ? (size_t)(q - buf) : len;
    const char *z = memchr(buf + from, '\0', end - from);

    if (z) {
        p->scan = (size_t)(z - buf);
        return NOT_FOUND;
    }
    p->scan = end;
    return q ? end : NOT_FOUND;
}

/* ---- inline ------------------------------------------------------------ */

static int hex_val(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Redis's sdssplitargs() over buf[0, end) (which holds no NUL byte), storing
 * each unescaped argument back into buf in place: the write index never
 * passes the read index, and every byte is read before it can be overwritten.
 * Returns false on unbalanced quotes. */
static bool split_inline(resp_parser *p, char *buf, size_t end)
{
#define AT(k) ((k) < end ? buf[(k)] : '\0')
    size_t i = 0, w = 0;

    p->argc = 0;
    for (;;) {
        /* Skip blanks (isspace: also \v and \f, unlike the token ends). */
        while (i < end && isspace((unsigned char)buf[i]))
            i++;
        if (i >= end)
            return true;

        bool inq = false, insq = false, fin = false;
        size_t off = w;
        while (!fin) {
            char c = AT(i);
            if (inq) {
                if (c == '\\' && AT(i + 1) == 'x' && hex_val(AT(i + 2)) >= 0 &&
                    hex_val(AT(i + 3)) >= 0) {
                    buf[w++] = (char)(hex_val(AT(i + 2)) * 16 + hex_val(AT(i + 3)));
                    i += 3;
                } else if (c == '\\' && AT(i + 1)) {
                    char e;
                    i++;
                    switch (buf[i]) {
                    case 'n': e = '\n'; break;
                    case 'r': e = '\r'; break;
                    case 't': e = '\t'; break;
                    case 'b': e = '\b'; break;
                    case 'a': e = '\a'; break;
                    default: e = buf[i]; break;
                    }
                    buf[w++] = e;
                } else if (c == '"') {
                    /* Closing quote must be followed by a space or nothing. */
                    if (AT(i + 1) && !isspace((unsigned char)AT(i + 1)))
                        return false;
                    fin = true;
                } else if (!c) {
                    return false; /* unterminated quotes */
                } else {
                    buf[w++] = c;
                }
            } else if (insq) {
                if (c == '\\' && AT(i + 1) == '\'') {
                    i++;
                    buf[w++] = '\'';
                } else if (c == '\'') {
                    if (AT(i + 1) && !isspace((unsigned char)AT(i + 1)))
                        return false;
                    fin = true;
                } else if (!c) {
                    return false;
                } else {
                    buf[w++] = c;
                }
            } else {
                switch (c) {
                case ' ':
                case '\n':
                case '\r':
                case '\t':
                case '\0':
                    fin = true;
                    break;
                case '"':
                    inq = true;
                    break;
                case '\'':
                    insq = true;
                    break;
                default:
                    buf[w++] = c;
                    break;
                }
            }
            if (AT(i))
                i++;
        }
        /* An inline line is < 64KB + 1, so the argument count fits an int. */
        argv_push(p, off, w - off, INT_MAX);
    }
#undef AT
}

static resp_parse_result parse_inline(resp_parser *p, char *buf, size_t len, size_t *consumed)
{
    size_t nl, linelen;

    p->inline_cmd = true;
    nl = find_line_end(p, buf, len, 0, '\n');
    if (nl == NOT_FOUND) {
        if (len > RESP_INLINE_MAX)
            return fail(p, RESP_ERR_TOO_BIG_INLINE, 0);
        return RESP_PARSE_INCOMPLETE;
    }

    linelen = nl;
    if (linelen > 0 && buf[linelen - 1] == '\r')
        linelen--;

    if (!split_inline(p, buf, linelen)) {
        p->argc = 0;
        return fail(p, RESP_ERR_UNBALANCED_QUOTES, 0);
    }
    return done(p, p->argc ? RESP_PARSE_COMMAND : RESP_PARSE_EMPTY, nl + 1, consumed);
}

/* ---- multibulk --------------------------------------------------------- */

static resp_parse_result parse_multibulk(resp_parser *p, char *buf, size_t len, size_t *consumed)
{
    size_t nl;
    long long ll;

    if (!p->in_multibulk) {
        /* "*<count>\r" followed by one more (unchecked) byte. */
        nl = find_line_end(p, buf, len, 0, '\r');
        if (nl == NOT_FOUND) {
            if (len > RESP_INLINE_MAX)
                return fail(p, RESP_ERR_TOO_BIG_MBULK_COUNT, 0);
            return RESP_PARSE_INCOMPLETE;
        }
        if (nl + 1 >= len)
            return RESP_PARSE_INCOMPLETE;

        if (!parse_ll(buf + 1, nl - 1, &ll) || ll > INT_MAX)
            return fail(p, RESP_ERR_INVALID_MULTIBULK_LEN, 0);
        if (ll > RESP_UNAUTH_MAX_MULTIBULK && !p->authenticated)
            return fail(p, RESP_ERR_UNAUTH_MULTIBULK_LEN, 0);

        if (ll <= 0) /* "*0", "*-1", any negative count: nothing to run */
            return done(p, RESP_PARSE_EMPTY, nl + 2, consumed);

        p->pos = nl + 2;
        p->scan = p->pos;
        p->multibulk_left = ll;
        p->bulk_len = -1;
        p->in_multibulk = true;
        p->argc = 0;
        argv_reserve(p, ll < ARGV_INITIAL_MAX ? ll : ARGV_INITIAL_MAX, ll);
    }

    while (p->multibulk_left > 0) {
        if (p->bulk_len == -1) {
            /* "$<len>\r" followed by one more (unchecked) byte. */
            nl = find_line_end(p, buf, len, p->pos, '\r');
            if (nl == NOT_FOUND) {
                if (len - p->pos > RESP_INLINE_MAX)
                    return fail(p, RESP_ERR_TOO_BIG_BULK_COUNT, 0);
                break;
            }
            if (nl + 1 >= len)
                break;

            if (buf[p->pos] != '$')
                return fail(p, RESP_ERR_EXPECTED_DOLLAR, buf[p->pos]);
            if (!parse_ll(buf + p->pos + 1, nl - (p->pos + 1), &ll) || ll < 0 ||
                ll > p->max_bulk_len)
                return fail(p, RESP_ERR_INVALID_BULK_LEN, 0);
            if (ll > RESP_UNAUTH_MAX_BULK && !p->authenticated)
                return fail(p, RESP_ERR_UNAUTH_BULK_LEN, 0);

            p->pos = nl + 2;
            p->bulk_len = ll;
        }

        /* The payload plus 2 trailing bytes (meant to be CRLF, not checked). */
        size_t have = len - p->pos;
        unsigned long long blen = (unsigned long long)p->bulk_len;
        if (have < 2 || have - 2 < blen) {
            unsigned long long need = (unsigned long long)p->pos + blen + 2;
            p->need_bytes = need > SIZE_MAX ? SIZE_MAX : (size_t)need;
            break;
        }

        argv_push(p, p->pos, (size_t)blen, (long long)p->argc + p->multibulk_left);
        p->pos += (size_t)blen + 2;
        p->scan = p->pos;
        p->bulk_len = -1;
        p->multibulk_left--;
    }

    if (p->multibulk_left == 0)
        return done(p, RESP_PARSE_COMMAND, p->pos, consumed);
    return RESP_PARSE_INCOMPLETE;
}

/* ---- entry points ------------------------------------------------------ */

resp_parse_result resp_parse(resp_parser *p, char *buf, size_t len, size_t *consumed)
{
    if (consumed)
        *consumed = 0;
    p->need_bytes = 0;
    p->error = RESP_ERR_NONE;
    p->error_byte = 0;
    p->inline_cmd = false;
    if (!p->in_multibulk)
        p->argc = 0;

    if (len == 0 || buf == NULL)
        return RESP_PARSE_INCOMPLETE;
    if (p->pos > len) /* caller passed fewer bytes than before: wait */
        return RESP_PARSE_INCOMPLETE;

    if (buf[0] == '*')
        return parse_multibulk(p, buf, len, consumed);
    return parse_inline(p, buf, len, consumed);
}

size_t resp_error_message(const resp_parser *p, char *out, size_t outlen)
{
    const char *msg;
    int n;

    switch (p->error) {
    case RESP_ERR_NONE: msg = ""; break;
    case RESP_ERR_INVALID_MULTIBULK_LEN: msg = "Protocol error: invalid multibulk length"; break;
    case RESP_ERR_INVALID_BULK_LEN: msg = "Protocol error: invalid bulk length"; break;
    case RESP_ERR_UNBALANCED_QUOTES: msg = "Protocol error: unbalanced quotes in request"; break;
    case RESP_ERR_TOO_BIG_INLINE: msg = "Protocol error: too big inline request"; break;
    case RESP_ERR_TOO_BIG_MBULK_COUNT: msg = "Protocol error: too big mbulk count string"; break;
    case RESP_ERR_TOO_BIG_BULK_COUNT: msg = "Protocol error: too big bulk count string"; break;
    case RESP_ERR_UNAUTH_MULTIBULK_LEN: msg = "Protocol error: unauthenticated multibulk length"; break;
    case RESP_ERR_UNAUTH_BULK_LEN: msg = "Protocol error: unauthenticated bulk length"; break;
    case RESP_ERR_EXPECTED_DOLLAR: {
        /* Redis formats this with addReplyErrorFormat, which turns CR and LF
         * into spaces. (The byte is never NUL: a NUL hides the line end.) */
        char c = p->error_byte;
        if (c == '\r' || c == '\n')
            c = ' ';
        n = snprintf(out, outlen, "Protocol error: expected '$', got '%c'", c);
        if (n < 0)
            n = 0;
        if (outlen == 0)
            return 0;
        return (size_t)n < outlen ? (size_t)n : outlen - 1;
    }
    default: msg = "Protocol error: unknown error"; break;
    }

    size_t l = strlen(msg);
    if (outlen == 0)
        return 0;
    if (l >= outlen)
        l = outlen - 1;
    memcpy(out, msg, l);
    out[l] = '\0';
    return l;
}
