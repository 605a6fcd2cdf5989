/*
 * repl_compare.c - replication suites' shared helpers (see repl_compare.h).
 */
#include "repl_compare.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/logging.h>

#include "server_proc.h"
#include "thread_fail.h"

bool sc_repl_info_str(redisContext *c, const char *section, const char *name, char *out, size_t n)
{
    out[0] = '\0';
    redisReply *r = sc_cmd_or_fail(c, "INFO %s", section);
    bool found = false;
    if (r->type == REDIS_REPLY_STRING) {
        size_t nl = strlen(name);
        for (const char *p = r->str; p && *p;) {
            const char *eol = strstr(p, "\r\n");
            size_t len = eol ? (size_t)(eol - p) : strlen(p);
            if (len > nl && !strncmp(p, name, nl) && p[nl] == ':') {
                size_t vl = len - nl - 1;
                if (vl >= n) vl = n - 1;
                memcpy(out, p + nl + 1, vl);
                out[vl] = '\0';
                found = true;
                break;
            }
            p = eol ? eol + 2 : NULL;
        }
    }
    freeReplyObject(r);
    return found;
}

bool sc_repl_link_up(redisContext *replica)
{
    char v[32];
    return sc_repl_info_str(replica, "replication", "master_link_status", v, sizeof v) && !strcmp(v, "up");
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* An element as text: bulk/status bytes (NUL bytes shown as \0 so sorting
 * and comparing as C strings stay exact), integers in decimal. */
static char *elem_text(const redisReply *e)
{
    sc_buf b = {0};
    if (e->type == REDIS_REPLY_STRING || e->type == REDIS_REPLY_STATUS) {
        for (size_t i = 0; i < e->len; i++) {
            if (e->str[i] == '\0' || e->str[i] == '\\') sc_buf_printf(&b, "\\%c", e->str[i] ? '\\' : '0');
            else sc_buf_append(&b, e->str + i, 1);
        }
    } else if (e->type == REDIS_REPLY_INTEGER) {
        sc_buf_printf(&b, "%lld", e->integer);
    } else if (e->type == REDIS_REPLY_NIL) {
        sc_buf_printf(&b, "(nil)");
    } else {
        sc_buf_printf(&b, "(type %d)", e->type);
    }
    char *s = strdup(b.data ? b.data : "");
    sc_buf_free(&b);
    return s;
}

/* An array reply as text, one item per line; pairs "a=b" when `pairs`,
 * sorted when `sort`. */
static char *joined(const redisReply *r, bool sort, bool pairs)
{
    if (r->type != REDIS_REPLY_ARRAY) return elem_text(r);
    size_t n = r->elements, step = pairs ? 2 : 1, m = 0;
    char **items = calloc(n / step + 1, sizeof *items);
    for (size_t i = 0; i + step - 1 < n; i += step) {
        char *a = elem_text(r->element[i]);
        if (pairs) {
            char *v = elem_text(r->element[i + 1]);
            size_t len = strlen(a) + strlen(v) + 2;
            char *p = malloc(len);
            snprintf(p, len, "%s=%s", a, v);
            free(a);
            free(v);
            a = p;
        }
        items[m++] = a;
    }
    if (sort) qsort(items, m, sizeof *items, cmp_str);
    sc_buf b = {0};
    for (size_t i = 0; i < m; i++) {
        sc_buf_printf(&b, "%s\n", items[i]);
        free(items[i]);
    }
    free(items);
    char *s = strdup(b.data ? b.data : "");
    sc_buf_free(&b);
    return s;
}

char *sc_repl_value_of(redisContext *c, const char *key, const char *type)
{
    size_t kl = strlen(key);
    redisReply *r;
    bool sort = false, pairs = false;
    if (!strcmp(type, "string")) {
        r = sc_cmd_or_fail(c, "GET %b", key, kl);
    } else if (!strcmp(type, "list")) {
        r = sc_cmd_or_fail(c, "LRANGE %b 0 -1", key, kl);
    } else if (!strcmp(type, "hash")) {
        r = sc_cmd_or_fail(c, "HGETALL %b", key, kl);
        sort = pairs = true;
    } else if (!strcmp(type, "set")) {
        r = sc_cmd_or_fail(c, "SMEMBERS %b", key, kl);
        sort = true;
    } else if (!strcmp(type, "zset")) {
        r = sc_cmd_or_fail(c, "ZRANGE %b 0 -1 WITHSCORES", key, kl);
        pairs = true;
    } else {
        return strdup(type);
    }
    char *s = joined(r, sort, pairs);
    freeReplyObject(r);
    return s;
}

static void log_keys(const char *who, redisReply *keys)
{
    sc_buf b = {0};
    for (size_t i = 0; i < keys->elements && i < 200; i++) sc_buf_printf(&b, " %s", keys->element[i]->str);
    cr_log_error("%s has %zu keys:%s%s", who, keys->elements, b.data ? b.data : "",
                 keys->elements > 200 ? " ..." : "");
    sc_buf_free(&b);
}

long long sc_repl_compare_keyspaces_or_fail(redisContext *a, redisContext *b, long long ttl_tolerance_ms)
{
    long long total = 0;
    for (int db = 0; db < 16; db++) {
        sc_cmd_expect_or_fail(a, "OK", "SELECT %d", db);
        sc_cmd_expect_or_fail(b, "OK", "SELECT %d", db);
        long long an = sc_cmd_ll_or_fail(a, "DBSIZE"), bn = sc_cmd_ll_or_fail(b, "DBSIZE");
        redisReply *keys = sc_cmd_or_fail(a, "KEYS *");
        cr_assert_eq(keys->type, REDIS_REPLY_ARRAY, "KEYS * in db %d", db);
        if (an != bn) {
            redisReply *bk = sc_cmd_or_fail(b, "KEYS *");
            log_keys("the first server", keys);
            log_keys("the second server", bk);
            freeReplyObject(bk);
        }
        cr_assert_eq(an, bn, "db %d: DBSIZE %lld on the first server, %lld on the second", db, an, bn);
        for (size_t i = 0; i < keys->elements; i++) {
            const char *k = keys->element[i]->str;
            size_t kl = keys->element[i]->len;
            redisReply *at = sc_cmd_or_fail(a, "TYPE %b", k, kl), *bt = sc_cmd_or_fail(b, "TYPE %b", k, kl);
            cr_assert(at->type == REDIS_REPLY_STATUS && bt->type == REDIS_REPLY_STATUS, "TYPE %s", k);
            cr_assert_str_eq(bt->str, at->str, "db %d key %s: type %s on the first server, %s on the second", db, k,
                             at->str, bt->str);
            char *av = sc_repl_value_of(a, k, at->str), *bv = sc_repl_value_of(b, k, at->str);
            cr_assert(strcmp(av, bv) == 0, "db %d key %s (%s): values differ (%zu bytes: %.80s ... vs %zu bytes: %.80s ...)",
                      db, k, at->str, strlen(av), av, strlen(bv), bv);
            free(av);
            free(bv);
            long long ap = sc_cmd_ll_or_fail(a, "PTTL %b", k, kl), bp = sc_cmd_ll_or_fail(b, "PTTL %b", k, kl);
            if (ap < 0 || bp < 0)
                cr_assert_eq(ap, bp, "db %d key %s: PTTL %lld on the first server, %lld on the second", db, k, ap, bp);
            else
                cr_assert(llabs(ap - bp) <= ttl_tolerance_ms, "db %d key %s: PTTL %lld vs %lld (tolerance %lld ms)", db,
                          k, ap, bp, ttl_tolerance_ms);
            freeReplyObject(at);
            freeReplyObject(bt);
            total++;
        }
        freeReplyObject(keys);
    }
    sc_cmd_expect_or_fail(a, "OK", "SELECT 0");
    sc_cmd_expect_or_fail(b, "OK", "SELECT 0");
    return total;
}

void sc_repl_drain_or_fail(redisContext *c, int n)
{
    for (int i = 0; i < n; i++) {
        redisReply *r = NULL;
        cr_assert(redisGetReply(c, (void **)&r) == REDIS_OK, "pipeline broke: %s", c->errstr);
        cr_assert(r->type != REDIS_REPLY_ERROR, "pipeline error: %s", r->str);
        freeReplyObject(r);
    }
}

const char *sc_repl_redis_or_skip(void)
{
    const char *bin = sc_reference_redis_binary();
    if (!bin) cr_skip_test("no redis-server");
    return bin;
}

redisContext *sc_repl_thread_connect(int port, const char *who)
{
    redisContext *c = redisConnect("127.0.0.1", port);
    if (!c || c->err) {
        sc_thread_fail("%s: connect failed", who);
        if (c) redisFree(c);
        return NULL;
    }
    return c;
}

bool sc_repl_thread_drain(redisContext *c, int n, const char *who, bool errors_fail)
{
    for (int i = 0; i < n; i++) {
        redisReply *r = NULL;
        if (redisGetReply(c, (void **)&r) != REDIS_OK) {
            sc_thread_fail("%s: %s", who, c->errstr);
            return false;
        }
        if (errors_fail && r->type == REDIS_REPLY_ERROR) sc_thread_fail("%s: error %s", who, r->str);
        freeReplyObject(r);
    }
    return true;
}
