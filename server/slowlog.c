/*
 * slowlog.c - the slow log (see slowlog.h) and the SLOWLOG command.
 *
 * Entries form a doubly linked list, newest first, under one mutex; an entry
 * is built (arguments copied, truncated and redacted) before the mutex is
 * taken, and entries trimmed off the tail are freed after it is released, so
 * the critical section is a few pointer moves. Ids come from the same
 * critical section, so list order and id order always agree.
 *
 * Arguments are shortened as Redis does: at most 32 per entry (the last one
 * becomes "... (N more arguments)") and 128 bytes each (longer ones end in
 * "... (N more bytes)"). Passwords (AUTH, HELLO AUTH, CONFIG SET of
 * requirepass/masterauth, MIGRATE AUTH/AUTH2) are stored as "(redacted)".
 */
#include "slowlog.h"

#include "clients.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "mem.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SLOWLOG_MAX_ARGC 32
#define SLOWLOG_MAX_ARGLEN 128

typedef struct slowlog_entry {
    struct slowlog_entry *prev, *next;
    long long id;
    long long time;        /* unix seconds */
    long long duration;    /* microseconds */
    int argc;
    arg_t *argv;           /* each ptr mem_alloc'd */
    char *peer;
    char *name;
} slowlog_entry;

static pthread_mutex_t slowlog_lock = PTHREAD_MUTEX_INITIALIZER;
static slowlog_entry *head, *tail; /* newest, oldest */
static long long nentries;
static long long next_id;

static void entry_release(slowlog_entry *e) {
    for (int i = 0; i < e->argc; i++) mem_free((void *)e->argv[i].ptr);
    mem_free(e->argv);
    mem_free(e->peer);
    mem_free(e->name);
    mem_free(e);
}

static void release_chain(slowlog_entry *e) {
    while (e) {
        slowlog_entry *next = e->next;
        entry_release(e);
        e = next;
    }
}

void slowlog_init(void) {
    pthread_mutex_lock(&slowlog_lock);
    head = tail = NULL;
    nentries = 0;
    next_id = 0;
    pthread_mutex_unlock(&slowlog_lock);
}

/* Unlink every entry; returns the chain for the caller to free unlocked. */
static slowlog_entry *detach_all(void) {
    pthread_mutex_lock(&slowlog_lock);
    slowlog_entry *chain = head;
    head = tail = NULL;
    nentries = 0;
    pthread_mutex_unlock(&slowlog_lock);
    return chain;
}

void slowlog_free(void) { release_chain(detach_all()); }

/* ---------------------------------------------------------------- recording */

static bool arg_is(const arg_t *a, const char *s) {
    size_t n = strlen(s);
    return a->len == n && strncasecmp(a->ptr, s, n) == 0;
}

/* Which arguments of this command carry secrets. */
static void mark_redacted(const command *cmd, const arg_t *argv, int argc, bool *redact) {
    if (!cmd) return;
    const char *name = cmd->fullname ? cmd->fullname : cmd->name;
    if (!strcmp(name, "auth")) {
        for (int i = 1; i < argc; i++) redact[i] = true;
    } else if (!strcmp(name, "hello")) {
        for (int i = 2; i + 2 < argc; i++)
            if (arg_is(&argv[i], "auth")) redact[i + 1] = redact[i + 2] = true;
    } else if (!strcmp(name, "config|set")) {
        for (int i = 2; i + 1 < argc; i += 2)
            if (arg_is(&argv[i], "requirepass") || arg_is(&argv[i], "masterauth")) redact[i + 1] = true;
    } else if (!strcmp(name, "migrate")) {
        for (int i = 6; i < argc; i++) {
            if (arg_is(&argv[i], "keys")) break;
            if (arg_is(&argv[i], "auth") && i + 1 < argc) redact[i + 1] = true;
            if (arg_is(&argv[i], "auth2") && i + 2 < argc) redact[i + 1] = redact[i + 2] = true;
        }
    }
}

static void copy_arg(arg_t *dst, const char *p, size_t len, bool redact) {
    char *s;
    if (redact) {
        s = mem_strdup("(redacted)");
        dst->len = strlen(s);
    } else if (len > SLOWLOG_MAX_ARGLEN) {
        char tailbuf[64];
        int t = snprintf(tailbuf, sizeof tailbuf, "... (%zu more bytes)", len - SLOWLOG_MAX_ARGLEN);
        s = mem_alloc(SLOWLOG_MAX_ARGLEN + (size_t)t + 1);
        memcpy(s, p, SLOWLOG_MAX_ARGLEN);
        memcpy(s + SLOWLOG_MAX_ARGLEN, tailbuf, (size_t)t + 1);
        dst->len = SLOWLOG_MAX_ARGLEN + (size_t)t;
    } else {
        s = mem_strndup(p, len);
        dst->len = len;
    }
    dst->ptr = s;
}

static slowlog_entry *entry_build(client *c, long long duration_us) {
    slowlog_entry *e = mem_calloc(1, sizeof *e);
    int argc = c->argc;
    int keep = argc > SLOWLOG_MAX_ARGC ? SLOWLOG_MAX_ARGC : argc;
    bool redact_stack[SLOWLOG_MAX_ARGC] = {false};
    bool *redact = redact_stack;
    if (argc > SLOWLOG_MAX_ARGC) redact = mem_calloc((size_t)argc, sizeof *redact);
    mark_redacted(atomic_load_explicit(&c->last_cmd, memory_order_relaxed), c->argv, argc, redact);

    e->argc = keep;
    e->argv = mem_alloc((size_t)keep * sizeof *e->argv);
    for (int i = 0; i < keep; i++) {
        if (keep != argc && i == keep - 1) {
            char more[64];
            snprintf(more, sizeof more, "... (%d more arguments)", argc - keep + 1);
            copy_arg(&e->argv[i], more, strlen(more), false);
        } else {
            copy_arg(&e->argv[i], c->argv[i].ptr, c->argv[i].len, redact[i]);
        }
    }
    if (redact != redact_stack) mem_free(redact);

    e->time = mstime() / 1000;
    e->duration = duration_us;
    e->peer = mem_strdup(c->addr);
    char name[512];
    size_t nlen = clients_get_name(c, name, sizeof name);
    e->name = mem_strndup(name, nlen < sizeof name ? nlen : sizeof name - 1);
    return e;
}

void slowlog_maybe_add(client *c, long long duration_us) {
    long long threshold = cfg_get(slowlog_log_slower_than);
    if (threshold < 0 || duration_us < threshold || c->argc <= 0) return;

    long long max = cfg_get(slowlog_max_len);
    if (max <= 0) { /* nothing is kept, but the id still advances (as Redis) */
        pthread_mutex_lock(&slowlog_lock);
        next_id++;
        slowlog_entry *chain = head;
        head = tail = NULL;
        nentries = 0;
        pthread_mutex_unlock(&slowlog_lock);
        release_chain(chain);
        return;
    }
    slowlog_entry *e = entry_build(c, duration_us);
    slowlog_entry *trimmed = NULL;

    pthread_mutex_lock(&slowlog_lock);
    e->id = next_id++;
    e->prev = NULL;
    e->next = head;
    if (head) head->prev = e;
    head = e;
    if (!tail) tail = e;
    nentries++;
    /* Cut the oldest entries beyond max into one chain freed below. */
    while (nentries > max && tail) {
        slowlog_entry *old = tail;
        tail = old->prev;
        if (tail) tail->next = NULL;
        else head = NULL;
        old->prev = NULL;
        old->next = trimmed;
        trimmed = old;
        nentries--;
    }
    pthread_mutex_unlock(&slowlog_lock);
    release_chain(trimmed);
}

/* ---------------------------------------------------------------- SLOWLOG command */

void slowlog_help_command(client *c) {
    static const char *const help[] = {
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
        NULL,
    };
    add_reply_help(c, "SLOWLOG", help);
}

/* An entry copied out of the list so replies are written without the lock. */
static slowlog_entry *entry_clone(const slowlog_entry *src) {
    slowlog_entry *e = mem_calloc(1, sizeof *e);
    e->id = src->id;
    e->time = src->time;
    e->duration = src->duration;
    e->argc = src->argc;
    e->argv = mem_alloc((size_t)src->argc * sizeof *e->argv);
    for (int i = 0; i < src->argc; i++) {
        e->argv[i].ptr = mem_strndup(src->argv[i].ptr, src->argv[i].len);
        e->argv[i].len = src->argv[i].len;
    }
    e->peer = mem_strdup(src->peer);
    e->name = mem_strdup(src->name);
    return e;
}

void slowlog_get_command(client *c) {
    long long count = 10;
    if (c->argc > 3) {
        add_reply_subcommand_syntax_error(c, "SLOWLOG");
        return;
    }
    if (c->argc == 3) {
        long long v;
        if (!arg_ll_or_reply(c, &c->argv[2], &v, "ERR count should be greater than or equal to -1")) return;
        if (v < -1) {
            add_reply_error(c, "ERR count should be greater than or equal to -1");
            return;
        }
        count = v;
    }
    /* Copy the wanted entries under the lock, reply after. */
    slowlog_entry *copy_head = NULL, *copy_tail = NULL;
    long long n = 0;
    pthread_mutex_lock(&slowlog_lock);
    for (slowlog_entry *e = head; e && (count < 0 || n < count); e = e->next, n++) {
        slowlog_entry *k = entry_clone(e);
        if (copy_tail) copy_tail->next = k;
        else copy_head = k;
        copy_tail = k;
    }
    pthread_mutex_unlock(&slowlog_lock);

    add_reply_array(c, n);
    for (slowlog_entry *e = copy_head; e; e = e->next) {
        add_reply_array(c, 6);
        add_reply_integer(c, e->id);
        add_reply_integer(c, e->time);
        add_reply_integer(c, e->duration);
        add_reply_array(c, e->argc);
        for (int i = 0; i < e->argc; i++) add_reply_bulk(c, e->argv[i].ptr, e->argv[i].len);
        add_reply_bulk_cstr(c, e->peer);
        add_reply_bulk_cstr(c, e->name);
    }
    release_chain(copy_head);
}

void slowlog_len_command(client *c) {
    pthread_mutex_lock(&slowlog_lock);
    long long n = nentries;
    pthread_mutex_unlock(&slowlog_lock);
    add_reply_integer(c, n);
}

void slowlog_reset_command(client *c) {
    release_chain(detach_all());
    add_reply_ok(c);
}
