/*
 * cmd_client.c - the CLIENT command family: ID, SETNAME, GETNAME, LIST,
 * INFO, KILL, NO-EVICT, HELP. Clients of other workers are read through the
 * registry (clients.c) and killed through their worker's inbox.
 */
#include "client.h"
#include "clients.h"
#include "command_modules.h"
#include "db.h"
#include "mem.h"
#include "numparse.h"

#include <stdio.h>
#include <string.h>

static void client_id_command(client *c) { add_reply_integer(c, (long long)c->id); }

static bool valid_name(const arg_t *a) {
    for (size_t i = 0; i < a->len; i++)
        if (a->ptr[i] < '!' || a->ptr[i] > '~') return false;
    return true;
}

static void client_setname_command(client *c) {
    if (!valid_name(&c->argv[2])) {
        add_reply_error(c, "ERR Client names cannot contain spaces, newlines or special characters.");
        return;
    }
    clients_set_name(c, c->argv[2].ptr, c->argv[2].len);
    add_reply_ok(c);
}

static void client_getname_command(client *c) {
    char name[512];
    size_t n = clients_get_name(c, name, sizeof name);
    if (n == 0)
        add_reply_null(c);
    else
        add_reply_bulk(c, name, n);
}

static void client_info_command(client *c) {
    char *buf = NULL;
    size_t len = 0, cap = 0;
    clients_lock();
    clients_format_line(c, &buf, &len, &cap);
    clients_unlock();
    add_reply_verbatim(c, buf, len, "txt");
    mem_free(buf);
}

static void client_list_command(client *c) {
    int j = 2;
    int type = -1; /* TYPE filter: -1 none */
    uint64_t *ids = NULL;
    int nids = 0;
    while (j < c->argc) {
        if (arg_eq(&c->argv[j], "TYPE") && j + 1 < c->argc) {
            const arg_t *t = &c->argv[j + 1];
            type = clients_type_by_name(t->ptr, t->len);
            if (type < 0) {
                add_reply_errorf(c, "ERR Unknown client type '%.*s'", (int)t->len, t->ptr);
                mem_free(ids);
                return;
            }
            j += 2;
        } else if (arg_eq(&c->argv[j], "ID") && j + 1 < c->argc) {
            ids = mem_realloc(ids, (size_t)(c->argc - j) * sizeof(uint64_t));
            for (j++; j < c->argc; j++) {
                long long v;
                if (!parse_ll(c->argv[j].ptr, c->argv[j].len, &v) || v <= 0) {
                    add_reply_error(c, "ERR Invalid client ID");
                    mem_free(ids);
                    return;
                }
                ids[nids++] = (uint64_t)v;
            }
        } else {
            add_reply_error(c, ERR_SYNTAX);
            mem_free(ids);
            return;
        }
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    clients_lock();
    for (client *o = clients_first(); o; o = o->next) {
        if (type >= 0 && clients_type_of(o) != type) continue;
        bool match = nids == 0;
        for (int i = 0; i < nids && !match; i++) match = ids[i] == o->id;
        if (match) clients_format_line(o, &buf, &len, &cap);
    }
    clients_unlock();
    add_reply_verbatim(c, buf ? buf : "", len, "txt");
    mem_free(buf);
    mem_free(ids);
}

/* CLIENT KILL addr:port (old form) or CLIENT KILL <filter> <value> ... */
static void client_kill_command(client *c) {
    const arg_t *addr = NULL, *laddr = NULL;
    long long id = 0, maxage = 0;
    bool skipme = true, old_form = c->argc == 3;
    int type = -1; /* TYPE filter: -1 none */
    const arg_t *user = NULL;
    if (old_form) {
        addr = &c->argv[2];
        skipme = false;
    } else {
        for (int j = 2; j < c->argc; j += 2) {
            if (j + 1 >= c->argc) {
                add_reply_error(c, ERR_SYNTAX);
                return;
            }
            const arg_t *opt = &c->argv[j], *val = &c->argv[j + 1];
            if (arg_eq(opt, "id")) {
                if (!parse_ll(val->ptr, val->len, &id) || id <= 0) {
                    add_reply_error(c, "ERR client-id should be greater than 0");
                    return;
                }
            } else if (arg_eq(opt, "type")) {
                type = clients_type_by_name(val->ptr, val->len);
                if (type < 0) {
                    add_reply_errorf(c, "ERR Unknown client type '%.*s'", (int)val->len, val->ptr);
                    return;
                }
            } else if (arg_eq(opt, "addr")) {
                addr = val;
            } else if (arg_eq(opt, "laddr")) {
                laddr = val;
            } else if (arg_eq(opt, "user")) {
                user = val;
            } else if (arg_eq(opt, "skipme")) {
                if (arg_eq(val, "yes"))
                    skipme = true;
                else if (arg_eq(val, "no"))
                    skipme = false;
                else {
                    add_reply_error(c, ERR_SYNTAX);
                    return;
                }
            } else if (arg_eq(opt, "maxage")) {
                if (!parse_ll(val->ptr, val->len, &maxage) || maxage < 0) {
                    add_reply_error(c, ERR_SYNTAX);
                    return;
                }
            } else {
                add_reply_error(c, ERR_SYNTAX);
                return;
            }
        }
    }
    long killed = 0;
    bool kill_self = false;
    long long now = mstime();
    clients_lock();
    for (client *o = clients_first(); o; o = o->next) {
        if (type >= 0 && clients_type_of(o) != type) continue;
        if (addr && (strlen(o->addr) != addr->len || memcmp(o->addr, addr->ptr, addr->len) != 0)) continue;
        if (laddr && (strlen(o->laddr) != laddr->len || memcmp(o->laddr, laddr->ptr, laddr->len) != 0)) continue;
        if (id && o->id != (uint64_t)id) continue;
        if (user && !(user->len == 7 && memcmp(user->ptr, "default", 7) == 0)) continue;
        if (maxage && (now - atomic_load_explicit(&o->ctime_ms, memory_order_relaxed)) / 1000 < maxage) continue;
        if (o == c) {
            if (skipme) continue;
            kill_self = true;
        } else {
            clients_kill_async(o);
        }
        killed++;
    }
    clients_unlock();
    if (old_form) {
        if (killed == 0) {
            add_reply_error(c, "ERR No such client");
            return;
        }
        add_reply_ok(c);
    } else {
        add_reply_integer(c, killed);
    }
    if (kill_self) client_close_after_reply(c);
}

static void client_no_evict_command(client *c) {
    if (arg_eq(&c->argv[2], "on"))
        c->flags |= CF_NO_EVICT;
    else if (arg_eq(&c->argv[2], "off"))
        c->flags &= ~CF_NO_EVICT;
    else {
        add_reply_error(c, ERR_SYNTAX);
        return;
    }
    add_reply_ok(c);
}

static void client_help_command(client *c) {
    static const char *const lines[] = {
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "    * ID <client-id>",
        "      Kill connections by client id.",
        "    * MAXAGE <maxage>",
        "      Kill connections older than the specified age.",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        NULL,
    };
    add_reply_help(c, "CLIENT", lines);
}

#define CLIENT_SUB(nm, ar, fl, fn, since_, sum, cx, acl)                                                     \
    {.name = nm, .arity = ar, .flags = (fl), .proc = fn, .group = "connection", .since = since_,               \
     .summary = sum, .complexity = cx, .acl_categories = acl}

#define CLIENT_FLAGS (CMD_NOSCRIPT | CMD_LOADING | CMD_STALE)
#define CLIENT_ADMIN_ACL "admin slow dangerous connection"

static command client_subcommands[] = {
    CLIENT_SUB("id", 2, CLIENT_FLAGS, client_id_command, "5.0.0", "Returns the client ID for the current connection",
               "O(1)", "slow connection"),
    CLIENT_SUB("setname", 3, CLIENT_FLAGS, client_setname_command, "2.6.9", "Set the current connection name", "O(1)",
               "slow connection"),
    CLIENT_SUB("getname", 2, CLIENT_FLAGS, client_getname_command, "2.6.9", "Get the current connection name", "O(1)",
               "slow connection"),
    CLIENT_SUB("list", -2, CMD_ADMIN | CLIENT_FLAGS, client_list_command, "2.4.0", "Get the list of client connections",
               "O(N) where N is the number of client connections", CLIENT_ADMIN_ACL),
    CLIENT_SUB("info", 2, CLIENT_FLAGS, client_info_command, "6.2.0",
               "Returns information about the current client connection.", "O(1)", "slow connection"),
    CLIENT_SUB("kill", -3, CMD_ADMIN | CLIENT_FLAGS, client_kill_command, "2.4.0", "Kill the connection of a client",
               "O(N) where N is the number of client connections", CLIENT_ADMIN_ACL),
    CLIENT_SUB("no-evict", 3, CMD_ADMIN | CLIENT_FLAGS, client_no_evict_command, "7.0.0",
               "Set client eviction mode for the current connection", "O(1)", CLIENT_ADMIN_ACL),
    CLIENT_SUB("help", 2, CMD_LOADING | CMD_STALE, client_help_command, "5.0.0",
               "Show helpful text about the different subcommands", "O(1)", "slow connection"),
    {0},
};

command client_commands[] = {
    {.name = "client", .arity = -2, .flags = 0, .group = "connection", .since = "2.4.0",
     .summary = "A container for client connection commands", .complexity = "Depends on subcommand.",
     .acl_categories = "slow", .subcommands = client_subcommands},
    {0},
};
