/*
 * test_resp_parse.c - unit tests for proto/resp_parse.c, the incremental RESP
 * request parser. Every case is run with the input split at every byte
 * boundary (a fresh parser is fed a prefix of k bytes, then the whole input)
 * and also fed one byte at a time to a single parser; every schedule must
 * produce exactly the same commands / error. The buffer is moved to a new
 * allocation between feeds (allowed by the API) so stale pointers would show
 * up under ASan. Expected behaviour (error texts, quirks) was checked against
 * redis-server 7.0.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../proto/resp_parse.h"

#define MAXA 12

typedef struct {
    const char *p;
    size_t n;
} bstr;
#define B(lit) {lit, sizeof(lit) - 1}

typedef struct {
    char kind; /* 'C' command, 'E' empty, 'X' error */
    bool inl;  /* expected inline_cmd for C/E */
    int argc;
    bstr argv[MAXA];
    resp_error err;
    const char *msg; /* exact resp_error_message() text for 'X' */
} expect;

#define NARGS(...) ((int)(sizeof((bstr[]){__VA_ARGS__}) / sizeof(bstr)))
#define CMD(...) {'C', false, NARGS(__VA_ARGS__), {__VA_ARGS__}, RESP_ERR_NONE, NULL}
#define ICMD(...) {'C', true, NARGS(__VA_ARGS__), {__VA_ARGS__}, RESP_ERR_NONE, NULL}
#define EMPTY {'E', false, 0, {{NULL, 0}}, RESP_ERR_NONE, NULL}
#define IEMPTY {'E', true, 0, {{NULL, 0}}, RESP_ERR_NONE, NULL}
#define ERR(code, text) {'X', false, 0, {{NULL, 0}}, code, text}

typedef struct {
    const char *in;
    size_t inlen;
    const expect *ev;
    int nev;
    size_t leftover; /* bytes never consumed (an incomplete tail) */
    long long max_bulk;
    bool auth;
} pcase;

static void check_event(const pcase *c, const expect *e, resp_parse_result r, const resp_parser *p,
                        const char *buf, size_t used, const char *label)
{
    char msg[256];

    switch (e->kind) {
    case 'C':
    case 'E':
        cr_assert_eq(r, e->kind == 'C' ? RESP_PARSE_COMMAND : RESP_PARSE_EMPTY,
                     "[%s] result %d, expected %c", label, r, e->kind);
        cr_assert_gt(used, 0, "[%s] nothing consumed", label);
        cr_assert_eq(p->inline_cmd, e->inl, "[%s] inline_cmd", label);
        cr_assert_eq(p->argc, e->argc, "[%s] argc %d, expected %d", label, p->argc, e->argc);
        for (int i = 0; i < e->argc; i++) {
            cr_assert_leq(p->argv[i].off + p->argv[i].len, used, "[%s] arg %d out of command",
                          label, i);
            cr_assert_eq(p->argv[i].len, e->argv[i].n, "[%s] arg %d length %zu, expected %zu",
                         label, i, p->argv[i].len, e->argv[i].n);
            cr_assert(memcmp(buf + p->argv[i].off, e->argv[i].p, e->argv[i].n) == 0,
                      "[%s] arg %d content", label, i);
        }
        break;
    case 'X':
        cr_assert_eq(r, RESP_PARSE_ERROR, "[%s] result %d, expected error \"%s\"", label, r,
                     e->msg);
        cr_assert_eq(p->error, e->err, "[%s] error %d, expected %d", label, p->error, e->err);
        resp_error_message(p, msg, sizeof msg);
        cr_assert_str_eq(msg, e->msg, "[%s] message", label);
        break;
    default:
        cr_assert_fail("bad expectation");
    }
    (void)c;
}

/* Feed the input according to `feeds` (increasing prefix lengths, the last
 * being the whole input) and check the events. */
static void run_schedule(const pcase *c, const size_t *feeds, size_t nfeeds, bool move,
                         const char *label)
{
    resp_parser p;
    resp_parser_init(&p, c->max_bulk);
    /* One private copy per schedule: inline parsing rewrites bytes. */
    char *src = malloc(c->inlen + 1);
    memcpy(src, c->in, c->inlen);
    size_t off = 0; /* stream offset of the current command's first byte */
    int got = 0;
    bool errored = false;

    for (size_t f = 0; f < nfeeds && !errored; f++) {
        size_t avail = feeds[f];
        char *buf = src + off;
        char *moved = NULL;
        if (move) {
            /* The caller may move its buffer between calls. */
            moved = malloc(avail - off + 1);
            memcpy(moved, src + off, avail - off);
            buf = moved;
        }
        size_t base = off; /* stream offset of buf[0] */
        for (;;) {
            size_t used = 12345;
            p.authenticated = c->auth;
            p.max_bulk_len = c->max_bulk;
            resp_parse_result r = resp_parse(&p, buf + (off - base), avail - off, &used);
            if (r == RESP_PARSE_INCOMPLETE) {
                cr_assert_eq(used, 0, "[%s] consumed on INCOMPLETE", label);
                if (p.need_bytes)
                    cr_assert_gt(p.need_bytes, avail - off, "[%s] need_bytes already there",
                                 label);
                break;
            }
            cr_assert_lt(got, c->nev, "[%s] unexpected extra result %d at feed %zu", label, r,
                         avail);
            check_event(c, &c->ev[got], r, &p, buf + (off - base), used, label);
            got++;
            if (r == RESP_PARSE_ERROR) {
                errored = true;
                break;
            }
            cr_assert_leq(used, avail - off, "[%s] consumed more than given", label);
            if (move) /* keep the private copy in step with in-place edits */
                memcpy(src + off, buf + (off - base), used);
            off += used;
        }
        free(moved);
    }
    cr_assert_eq(got, c->nev, "[%s] %d results, expected %d", label, got, c->nev);
    if (!errored)
        cr_assert_eq(c->inlen - off, c->leftover, "[%s] unconsumed %zu, expected %zu", label,
                     c->inlen - off, c->leftover);
    free(src);
    resp_parser_free(&p);
}

static void run_case(const pcase *c)
{
    char label[64];
    size_t feeds[2];
    bool move = c->inlen <= 8192; /* moving big inputs every time is slow */

    /* Every split point: prefix k, then everything. (k = inlen: one shot.) */
    for (size_t k = 0; k <= c->inlen; k++) {
        snprintf(label, sizeof label, "split at %zu/%zu", k, c->inlen);
        feeds[0] = k;
        feeds[1] = c->inlen;
        run_schedule(c, feeds, 2, move, label);
    }
    /* One byte at a time through a single parser. */
    size_t *bytewise = malloc((c->inlen + 1) * sizeof(size_t));
    for (size_t k = 0; k <= c->inlen; k++)
        bytewise[k] = k;
    snprintf(label, sizeof label, "byte by byte, %zu bytes", c->inlen);
    run_schedule(c, bytewise, c->inlen + 1, move, label);
    free(bytewise);
}

#define MAX_BULK_DEFAULT (512LL * 1024 * 1024)

/* RUN(input_literal, leftover, max_bulk, auth, events...) */
#define RUN_EX(input, inputlen, left, maxb, authd, ...)                                         \
    do {                                                                                        \
        static const expect evs_[] = {__VA_ARGS__};                                             \
        pcase c_ = {input, inputlen, evs_, (int)(sizeof evs_ / sizeof evs_[0]), left, maxb,      \
                    authd};                                                                     \
        run_case(&c_);                                                                          \
    } while (0)
#define RUN(lit, ...) RUN_EX(lit, sizeof(lit) - 1, 0, MAX_BULK_DEFAULT, true, __VA_ARGS__)

/* A case with no complete event at all (the parser waits forever). */
static void run_never(const char *in, size_t inlen)
{
    pcase c = {in, inlen, NULL, 0, inlen, MAX_BULK_DEFAULT, true};
    run_case(&c);
}

#define MSG_MBULK "Protocol error: invalid multibulk length"
#define MSG_BULK "Protocol error: invalid bulk length"
#define MSG_QUOTES "Protocol error: unbalanced quotes in request"

/* ================= malformed input ====================================== */

Test(resp_parse, invalid_multibulk_length)
{
    RUN("*abc\r\n", ERR(RESP_ERR_INVALID_MULTIBULK_LEN, MSG_MBULK));
    RUN("*\r\n", ERR(RESP_ERR_INVALID_MULTIBULK_LEN, MSG_MBULK));
    RUN("*+1\r\n$4\r\nPING\r\n", ERR(RESP_ERR_INVALID_MULTIBULK_LEN, MSG_MBULK));
    RUN("*01\r\n$4\r\nPING\r\n", ERR(RESP_ERR_INVALID_MULTIBULK_LEN, MSG_MBULK));
    RUN("*-0\r\n", ERR(RESP_ERR_INVALID_MULTIBULK_LEN, MSG_MBULK));
    RUN("*1 \r\n$4\r\nPING\r\n", ERR(RESP_ERR_INVALID_MULTIBULK_LEN, MSG_MBULK));
    /* Larger than INT_MAX, and not a long long at all. */
    RUN("*2147483648\r\n", ERR(RESP_ERR_INVALID_MULTIBULK_LEN, MSG_MBULK));
    RUN("*12345678901234567890\r\n", ERR(RESP_ERR_INVALID_MULTIBULK_LEN, MSG_MBULK));
    /* A '\n' inside the count line: the line runs to the next '\r'. */
    RUN("*1\n$4\r\nPING\r\n", ERR(RESP_ERR_INVALID_MULTIBULK_LEN, MSG_MBULK));
}

Test(resp_parse, int_max_multibulk_is_accepted)
{
    /* *2147483647 is a valid count: the parser waits for the arguments
     * (and must not try to preallocate them all). */
    static const char in[] = "*2147483647\r\n$1\r\na\r\n";
    pcase c = {in, sizeof in - 1, NULL, 0, sizeof in - 1, MAX_BULK_DEFAULT, true};
    run_case(&c);
}

Test(resp_parse, invalid_bulk_length)
{
    RUN("*1\r\n$abc\r\n", ERR(RESP_ERR_INVALID_BULK_LEN, MSG_BULK));
    RUN("*1\r\n$-1\r\n", ERR(RESP_ERR_INVALID_BULK_LEN, MSG_BULK));
    RUN("*1\r\n$-5\r\nhello\r\n", ERR(RESP_ERR_INVALID_BULK_LEN, MSG_BULK));
    RUN("*1\r\n$\r\n", ERR(RESP_ERR_INVALID_BULK_LEN, MSG_BULK));
    RUN("*1\r\n$04\r\nPING\r\n", ERR(RESP_ERR_INVALID_BULK_LEN, MSG_BULK));
    RUN("*1\r\n$+4\r\nPING\r\n", ERR(RESP_ERR_INVALID_BULK_LEN, MSG_BULK));
    RUN("*1\r\n$4 \r\nPING\r\n", ERR(RESP_ERR_INVALID_BULK_LEN, MSG_BULK));
    RUN("*1\r\n$12345678901234567890\r\n", ERR(RESP_ERR_INVALID_BULK_LEN, MSG_BULK));
    /* Error in the second argument, after a good first one. */
    RUN("*2\r\n$3\r\nGET\r\n$x\r\n", ERR(RESP_ERR_INVALID_BULK_LEN, MSG_BULK));
}

Test(resp_parse, bulk_over_max_bulk_len)
{
    RUN_EX("*1\r\n$1025\r\n", 11, 0, 1024, true, ERR(RESP_ERR_INVALID_BULK_LEN, MSG_BULK));
    RUN_EX("*1\r\n$9223372036854775807\r\n", 26, 0, 1024, true,
           ERR(RESP_ERR_INVALID_BULK_LEN, MSG_BULK));

    /* Exactly max_bulk_len is fine. */
    static char in[16 + 1024 + 2];
    size_t l = (size_t)sprintf(in, "*1\r\n$1024\r\n");
    memset(in + l, 'x', 1024);
    memcpy(in + l + 1024, "\r\n", 2);
    static char payload[1024];
    memset(payload, 'x', sizeof payload);
    expect e = {'C', false, 1, {{payload, 1024}}, RESP_ERR_NONE, NULL};
    pcase c = {in, l + 1024 + 2, &e, 1, 0, 1024, true};
    run_case(&c);
}

Test(resp_parse, expected_dollar)
{
    RUN("*1\r\nfoo\r\n", ERR(RESP_ERR_EXPECTED_DOLLAR, "Protocol error: expected '$', got 'f'"));
    RUN("*2\r\n$1\r\na\r\n:1\r\n",
        ERR(RESP_ERR_EXPECTED_DOLLAR, "Protocol error: expected '$', got ':'"));
    /* Redis turns CR/LF in the message into spaces. */
    RUN("*1\r\n\r\n", ERR(RESP_ERR_EXPECTED_DOLLAR, "Protocol error: expected '$', got ' '"));
    RUN("*1\r\n\n$4\r\nPING\r\n",
        ERR(RESP_ERR_EXPECTED_DOLLAR, "Protocol error: expected '$', got ' '"));
    /* A payload longer than announced: after the 2 skipped bytes the next
     * line starts inside the data. */
    RUN("*2\r\n$4\r\nPINGxxx$4\r\nPING\r\n",
        ERR(RESP_ERR_EXPECTED_DOLLAR, "Protocol error: expected '$', got 'x'"));
}

Test(resp_parse, unbalanced_quotes)
{
    RUN("set \"a b\r\n", ERR(RESP_ERR_UNBALANCED_QUOTES, MSG_QUOTES));
    RUN("set \"a b\n", ERR(RESP_ERR_UNBALANCED_QUOTES, MSG_QUOTES));
    RUN("set \"a\"b\r\n", ERR(RESP_ERR_UNBALANCED_QUOTES, MSG_QUOTES));
    RUN("set 'a\r\n", ERR(RESP_ERR_UNBALANCED_QUOTES, MSG_QUOTES));
    RUN("set 'a'b\r\n", ERR(RESP_ERR_UNBALANCED_QUOTES, MSG_QUOTES));
    RUN("set \"a\\\"\r\n", ERR(RESP_ERR_UNBALANCED_QUOTES, MSG_QUOTES));
    RUN("set 'a\\'\r\n", ERR(RESP_ERR_UNBALANCED_QUOTES, MSG_QUOTES));
    RUN("ECHO \"a b\"c\r\n", ERR(RESP_ERR_UNBALANCED_QUOTES, MSG_QUOTES));
    /* After a good pipelined command. */
    RUN("PING\r\nset \"x\r\nPING\r\n", ICMD(B("PING")), ERR(RESP_ERR_UNBALANCED_QUOTES, MSG_QUOTES));
}

/* Big inputs built at run time. */
static char *filled_n(size_t n, char ch, const char *prefix, size_t pl)
{
    char *s = malloc(n + 1);
    memcpy(s, prefix, pl);
    memset(s + pl, ch, n - pl);
    s[n] = '\0';
    return s;
}
#define filled(n, ch, lit) filled_n(n, ch, lit, sizeof(lit) - 1)

Test(resp_parse, too_big_inline, .timeout = 120)
{
    /* Up to 64KB without a newline is still INCOMPLETE; one more byte is an
     * error. */
    char *s = filled(RESP_INLINE_MAX + 1, 'a', "");
    static const expect e[] = {
        ERR(RESP_ERR_TOO_BIG_INLINE, "Protocol error: too big inline request")};
    pcase c = {s, RESP_INLINE_MAX + 1, e, 1, 0, MAX_BULK_DEFAULT, true};
    run_case(&c);
    free(s);
}

Test(resp_parse, inline_exactly_64k_waits)
{
    char *s = filled(RESP_INLINE_MAX, 'a', "");
    resp_parser p;
    size_t used;
    resp_parser_init(&p, MAX_BULK_DEFAULT);
    cr_assert_eq(resp_parse(&p, s, RESP_INLINE_MAX, &used), RESP_PARSE_INCOMPLETE);
    resp_parser_free(&p);
    free(s);
}

Test(resp_parse, too_big_mbulk_count, .timeout = 120)
{
    char *s = filled(RESP_INLINE_MAX + 1, '1', "*");
    static const expect e[] = {
        ERR(RESP_ERR_TOO_BIG_MBULK_COUNT, "Protocol error: too big mbulk count string")};
    pcase c = {s, RESP_INLINE_MAX + 1, e, 1, 0, MAX_BULK_DEFAULT, true};
    run_case(&c);
    free(s);
}

Test(resp_parse, too_big_bulk_count, .timeout = 120)
{
    /* The limit counts from the start of the "$" line. */
    size_t n = 4 + RESP_INLINE_MAX + 1;
    char *s = filled(n, '1', "*1\r\n$");
    static const expect e[] = {
        ERR(RESP_ERR_TOO_BIG_BULK_COUNT, "Protocol error: too big bulk count string")};
    pcase c = {s, n, e, 1, 0, MAX_BULK_DEFAULT, true};
    run_case(&c);
    free(s);

    /* 64KB exactly from the "$" still waits. */
    s = filled(4 + RESP_INLINE_MAX, '1', "*1\r\n$");
    resp_parser p;
    size_t used;
    resp_parser_init(&p, MAX_BULK_DEFAULT);
    cr_assert_eq(resp_parse(&p, s, 4 + RESP_INLINE_MAX, &used), RESP_PARSE_INCOMPLETE);
    resp_parser_free(&p);
    free(s);
}

Test(resp_parse, unauthenticated_limits)
{
    RUN_EX("*11\r\n", 5, 0, MAX_BULK_DEFAULT, false,
           ERR(RESP_ERR_UNAUTH_MULTIBULK_LEN, "Protocol error: unauthenticated multibulk length"));
    RUN_EX("*1\r\n$16385\r\n", 12, 0, MAX_BULK_DEFAULT, false,
           ERR(RESP_ERR_UNAUTH_BULK_LEN, "Protocol error: unauthenticated bulk length"));
    /* Negative counts are not limited; "invalid" wins over "unauthenticated". */
    RUN_EX("*-20\r\n", 6, 0, MAX_BULK_DEFAULT, false, EMPTY);
    RUN_EX("*1\r\n$20000\r\n", 12, 0, 1024, false, ERR(RESP_ERR_INVALID_BULK_LEN, MSG_BULK));

    /* 10 arguments is allowed before AUTH. */
    static const char ten[] = "*10\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n"
                              "$1\r\nf\r\n$1\r\ng\r\n$1\r\nh\r\n$1\r\ni\r\n$1\r\nj\r\n";
    RUN_EX(ten, sizeof ten - 1, 0, MAX_BULK_DEFAULT, false,
           CMD(B("a"), B("b"), B("c"), B("d"), B("e"), B("f"), B("g"), B("h"), B("i"), B("j")));

    /* Once authenticated, 11 arguments are fine. */
    static const char eleven[] = "*11\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n"
                                 "$1\r\nf\r\n$1\r\ng\r\n$1\r\nh\r\n$1\r\ni\r\n$1\r\nj\r\n$1\r\nk\r\n";
    RUN_EX(eleven, sizeof eleven - 1, 0, MAX_BULK_DEFAULT, true,
           CMD(B("a"), B("b"), B("c"), B("d"), B("e"), B("f"), B("g"), B("h"), B("i"), B("j"),
               B("k")));
}

Test(resp_parse, unauthenticated_bulk_16384_ok)
{
    size_t n = 13 + 16384 + 2;
    char *s = malloc(n);
    memcpy(s, "*1\r\n$16384\r\n", 12);
    memset(s + 12, 'v', 16384);
    memcpy(s + 12 + 16384, "\r\n", 2);
    n = 12 + 16384 + 2;
    expect e = {'C', false, 1, {{s + 12, 16384}}, RESP_ERR_NONE, NULL};
    pcase c = {s, n, &e, 1, 0, MAX_BULK_DEFAULT, false};
    run_case(&c);
    free(s);
}

Test(resp_parse, error_after_pipelined_commands)
{
    RUN("PING\r\n*1\r\n$4\r\nECHO\r\n*x\r\n", ICMD(B("PING")), CMD(B("ECHO")),
        ERR(RESP_ERR_INVALID_MULTIBULK_LEN, MSG_MBULK));
}

Test(resp_parse, nul_hides_line_end)
{
    /* Redis finds line ends with strchr(): a NUL before the terminator
     * hides it and the command never completes... */
    static const char a[] = "*1\0\r\n$4\r\nPING\r\n";
    run_never(a, sizeof a - 1);
    static const char b[] = "PING\0\r\n";
    run_never(b, sizeof b - 1);
    static const char d[] = "*1\r\n$\0" "4\r\nPING\r\n";
    run_never(d, sizeof d - 1);
    /* ...but the NUL inside a bulk payload is just data. */
    RUN("*1\r\n$3\r\n\0\r\0\r\n", CMD(B("\0\r\0")));
}

Test(resp_parse, nul_then_too_big, .timeout = 120)
{
    /* ...until more than 64KB are buffered. */
    char *s = filled(RESP_INLINE_MAX + 1, 'x', "*1\0\r\n$4\r\nPING\r\n");
    static const expect e1[] = {
        ERR(RESP_ERR_TOO_BIG_MBULK_COUNT, "Protocol error: too big mbulk count string")};
    pcase c1 = {s, RESP_INLINE_MAX + 1, e1, 1, 0, MAX_BULK_DEFAULT, true};
    run_case(&c1);
    free(s);

    s = filled(RESP_INLINE_MAX + 1, '\n', "PING\0\r\n");
    static const expect e2[] = {
        ERR(RESP_ERR_TOO_BIG_INLINE, "Protocol error: too big inline request")};
    pcase c2 = {s, RESP_INLINE_MAX + 1, e2, 1, 0, MAX_BULK_DEFAULT, true};
    run_case(&c2);
    free(s);
}

/* ================= valid input ========================================== */

Test(resp_parse, pipelined_commands)
{
    RUN("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n"
        "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
        "PING\r\n"
        "*1\r\n$4\r\nPING\r\n",
        CMD(B("SET"), B("k"), B("hello")), CMD(B("GET"), B("k")), ICMD(B("PING")), CMD(B("PING")));
}

Test(resp_parse, inline_quotes_and_escapes)
{
    RUN("SET \"a b\" 'c\\'d' \"\\x41\\x4g\\x4A\\n\\r\\t\\b\\a\\\\\\\"\\q\" plain \"\" ''\r\n",
        ICMD(B("SET"), B("a b"), B("c'd"), B("Ax4gJ\n\r\t\b\a\\\"q"), B("plain"), B(""), B("")));
    /* \x00 produces a NUL byte; single quotes keep backslashes. */
    RUN("ECHO \"\\x00z\" 'a\\b'\n", ICMD(B("ECHO"), B("\0z"), B("a\\b")));
    /* Quotes may start in the middle of a word. */
    RUN("ECHO foo\"bar baz\"\n", ICMD(B("ECHO"), B("foobar baz")));
    /* A closing quote may be followed by any isspace() byte. */
    RUN("ECHO \"a\"\vx\n", ICMD(B("ECHO"), B("a"), B("x")));
}

Test(resp_parse, inline_whitespace_rules)
{
    RUN("a b\n", ICMD(B("a"), B("b")));
    RUN("  a   b  \r\n", ICMD(B("a"), B("b")));
    /* \v and \f are skipped between words but do not end a word. */
    RUN("\v\fECHO x\r\n", ICMD(B("ECHO"), B("x")));
    RUN("ECHO a\vb\r\n", ICMD(B("ECHO"), B("a\vb")));
    /* A lone \r inside the line ends a word; only one \r before \n is
     * stripped. */
    RUN("ECHO a\rb\n", ICMD(B("ECHO"), B("a"), B("b")));
    RUN("x\r\r\n", ICMD(B("x")));
    RUN("\tx\ty\t\n", ICMD(B("x"), B("y")));
}

Test(resp_parse, binary_safe_bulks)
{
    RUN("*2\r\n$4\r\nECHO\r\n$7\r\na\r\n\0b\r\n\r\n", CMD(B("ECHO"), B("a\r\n\0b\r\n")));
    RUN("*3\r\n$1\r\n*\r\n$1\r\n$\r\n$2\r\n\r\n\r\n", CMD(B("*"), B("$"), B("\r\n")));
}

Test(resp_parse, empty_bulk)
{
    RUN("*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", CMD(B("ECHO"), B("")));
    RUN("*2\r\n$0\r\n\r\n$0\r\n\r\n", CMD(B(""), B("")));
}

Test(resp_parse, empty_commands)
{
    RUN("*0\r\n*-1\r\n\r\n   \n\n*-5\r\nPING\n", EMPTY, EMPTY, IEMPTY, IEMPTY, IEMPTY, EMPTY,
        ICMD(B("PING")));
    RUN("\v\f \t\r\n", IEMPTY);
}

Test(resp_parse, crlf_after_bulk_is_not_checked)
{
    /* Redis skips the 2 bytes after a payload and the byte after each '\r'
     * of a count line without looking at them. */
    RUN("*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n", CMD(B("PING")), CMD(B("PING")));
    RUN("*1\rX$4\rXPING\r\n", CMD(B("PING")));
}

Test(resp_parse, incomplete_tail_is_left)
{
    static const char in[] = "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET";
    RUN_EX(in, sizeof in - 1, 11, MAX_BULK_DEFAULT, true, CMD(B("PING")));
    static const char in2[] = "PING\r\nECHO x";
    RUN_EX(in2, sizeof in2 - 1, 6, MAX_BULK_DEFAULT, true, ICMD(B("PING")));
    /* A payload without its 2 trailing bytes is not complete. */
    static const char in3[] = "*1\r\n$4\r\nPING\r";
    run_never(in3, sizeof in3 - 1);
}

/* need_bytes for a big payload, checked at every prefix with both a fresh
 * parser and one resumed byte by byte; the payload is never copied. */
Test(resp_parse, big_bulk_need_bytes, .timeout = 120)
{
    const size_t plen = 100000;
    const char *hdr = "*2\r\n$3\r\nSET\r\n$100000\r\n"; /* 4 + 9 + 9 = 22 bytes */
    size_t hl = strlen(hdr), total = hl + plen + 2;
    char *in = malloc(total);
    memcpy(in, hdr, hl);
    for (size_t i = 0; i < plen; i++)
        in[hl + i] = (char)(i * 7 + 1); /* includes \r, \n and \0 */
    memcpy(in + total - 2, "\r\n", 2);

    resp_parser fresh, resumed;
    resp_parser_init(&fresh, MAX_BULK_DEFAULT);
    resp_parser_init(&resumed, MAX_BULK_DEFAULT);
    for (size_t k = 0; k <= total; k++) {
        size_t want = k < 8 ? 0 : k < 13 ? 13 : k < 22 ? 0 : total;
        resp_parser *ps[2] = {&fresh, &resumed};
        for (int w = 0; w < 2; w++) {
            resp_parser *p = ps[w];
            size_t used;
            if (w == 0)
                resp_parser_reset(p);
            resp_parse_result r = resp_parse(p, in, k, &used);
            if (k < total) {
                cr_assert_eq(r, RESP_PARSE_INCOMPLETE, "k=%zu", k);
                cr_assert_eq(p->need_bytes, want, "k=%zu parser %d: need_bytes %zu, want %zu",
                             k, w, p->need_bytes, want);
            } else {
                cr_assert_eq(r, RESP_PARSE_COMMAND);
                cr_assert_eq(used, total);
                cr_assert_eq(p->need_bytes, 0);
                cr_assert_eq(p->argc, 2);
                cr_assert_eq(p->argv[0].off, 8);
                cr_assert_eq(p->argv[0].len, 3);
                cr_assert_eq(p->argv[1].off, 22);
                cr_assert_eq(p->argv[1].len, plen);
                cr_assert(memcmp(in + 22, in + p->argv[1].off, plen) == 0);
            }
        }
    }
    resp_parser_free(&fresh);
    resp_parser_free(&resumed);
    free(in);
}

Test(resp_parse, big_bulk_every_split, .timeout = 120)
{
    /* A 20000-byte payload through the generic every-split driver. */
    const size_t plen = 20000;
    char *in = malloc(plen + 64);
    size_t hl = (size_t)sprintf(in, "*2\r\n$4\r\nECHO\r\n$%zu\r\n", plen);
    for (size_t i = 0; i < plen; i++)
        in[hl + i] = (char)(i % 251);
    memcpy(in + hl + plen, "\r\n", 2);
    expect e = {'C', false, 2, {{"ECHO", 4}, {in + hl, plen}}, RESP_ERR_NONE, NULL};
    pcase c = {in, hl + plen + 2, &e, 1, 0, MAX_BULK_DEFAULT, true};
    run_case(&c);
    free(in);
}

Test(resp_parse, many_arguments)
{
    /* 3000 arguments: argv grows past its initial allocation. */
    const int n = 3000;
    size_t cap = 16 + (size_t)n * 16, l;
    char *in = malloc(cap);
    l = (size_t)sprintf(in, "*%d\r\n", n);
    for (int i = 0; i < n; i++) {
        char a[16];
        int al = sprintf(a, "%d", i);
        l += (size_t)sprintf(in + l, "$%d\r\n%s\r\n", al, a);
    }
    resp_parser p;
    resp_parser_init(&p, MAX_BULK_DEFAULT);
    /* One shot, then byte by byte. */
    for (int mode = 0; mode < 2; mode++) {
        size_t used = 0;
        resp_parse_result r = RESP_PARSE_INCOMPLETE;
        if (mode == 0) {
            r = resp_parse(&p, in, l, &used);
        } else {
            for (size_t k = 0; k <= l; k++) {
                r = resp_parse(&p, in, k, &used);
                if (k < l)
                    cr_assert_eq(r, RESP_PARSE_INCOMPLETE);
            }
        }
        cr_assert_eq(r, RESP_PARSE_COMMAND);
        cr_assert_eq(used, l);
        cr_assert_eq(p.argc, n);
        cr_assert_geq(p.argv_cap, n);
        for (int i = 0; i < n; i++) {
            char a[16];
            int al = sprintf(a, "%d", i);
            cr_assert_eq(p.argv[i].len, (size_t)al);
            cr_assert(memcmp(in + p.argv[i].off, a, (size_t)al) == 0);
        }
    }
    resp_parser_free(&p);
    cr_assert_null(p.argv);
    free(in);
}

Test(resp_parse, reset_forgets_partial_command)
{
    resp_parser p;
    size_t used;
    resp_parser_init(&p, MAX_BULK_DEFAULT);
    char part[] = "*2\r\n$3\r\nGET\r\n$1";
    cr_assert_eq(resp_parse(&p, part, sizeof part - 1, &used), RESP_PARSE_INCOMPLETE);
    cr_assert(p.in_multibulk);
    resp_parser_reset(&p);
    char next[] = "PING\r\n";
    cr_assert_eq(resp_parse(&p, next, sizeof next - 1, &used), RESP_PARSE_COMMAND);
    cr_assert_eq(used, 6);
    cr_assert_eq(p.argc, 1);
    cr_assert(p.inline_cmd);

    /* After free the parser is reusable. */
    resp_parser_free(&p);
    char mb[] = "*1\r\n$4\r\nPING\r\n";
    cr_assert_eq(resp_parse(&p, mb, sizeof mb - 1, &used), RESP_PARSE_COMMAND);
    cr_assert_eq(p.argc, 1);
    cr_assert_not(p.inline_cmd);
    resp_parser_free(&p);
}

Test(resp_parse, argv_cleared_for_next_command)
{
    resp_parser p;
    size_t used;
    resp_parser_init(&p, MAX_BULK_DEFAULT);
    char a[] = "*2\r\n$1\r\na\r\n$1\r\nb\r\n";
    cr_assert_eq(resp_parse(&p, a, sizeof a - 1, &used), RESP_PARSE_COMMAND);
    cr_assert_eq(p.argc, 2);
    char b[] = "*0\r\n";
    cr_assert_eq(resp_parse(&p, b, sizeof b - 1, &used), RESP_PARSE_EMPTY);
    cr_assert_eq(p.argc, 0);
    char c[] = "\r\n";
    cr_assert_eq(resp_parse(&p, c, 2, &used), RESP_PARSE_EMPTY);
    cr_assert_eq(p.argc, 0);
    cr_assert_eq(used, 2);
    cr_assert_eq(resp_parse(&p, c, 0, &used), RESP_PARSE_INCOMPLETE);
    cr_assert_eq(used, 0);
    resp_parser_free(&p);
}

Test(resp_parse, error_message_truncation)
{
    resp_parser p;
    size_t used;
    char msg[10];
    resp_parser_init(&p, MAX_BULK_DEFAULT);
    char in[] = "*1\r\nx\r\n";
    cr_assert_eq(resp_parse(&p, in, sizeof in - 1, &used), RESP_PARSE_ERROR);
    cr_assert_eq(p.error_byte, 'x');
    cr_assert_eq(resp_error_message(&p, msg, sizeof msg), 9);
    cr_assert_str_eq(msg, "Protocol ");
    resp_parser_free(&p);
}
