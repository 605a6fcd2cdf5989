/*
 * cmd_conn.c - connection commands: PING, ECHO, QUIT, SELECT, AUTH, HELLO,
 * RESET. Authentication knows one user, "default", whose password is
 * requirepass (nopass when requirepass is empty), as Redis without ACL files.
 */
#include "client.h"
#include "clients.h"
#include "cluster_api.h"
#include "command_modules.h"
#include "config.h"
#include "db.h"
#include "multi.h"
#include "numparse.h"
#include "pubsub.h"
#include "watch.h"
#include "process.h"

#include <limits.h>
#include <string.h>

static void ping_command(client *c) {
    if (c->argc > 2) {
        reply_wrong_arity(c, command_lookup("ping", 4));
        return;
    }
    if (c->resp == 2 && pubsub_client_count(c) > 0) { /* subscriber mode */
        add_reply_array(c, 2);
        add_reply_bulk(c, "pong", 4);
        if (c->argc == 2)
            add_reply_bulk(c, c->argv[1].ptr, c->argv[1].len);
        else
            add_reply_bulk(c, "", 0);
    } else if (c->argc == 2) {
        add_reply_bulk(c, c->argv[1].ptr, c->argv[1].len);
    } else {
        add_reply_status(c, "PONG");
    }
}

static void echo_command(client *c) { add_reply_bulk(c, c->argv[1].ptr, c->argv[1].len); }

static void quit_command(client *c) {
    add_reply_ok(c);
    client_close_after_reply(c);
}

static void select_command(client *c) {
    long long id;
    if (!arg_ll_or_reply(c, &c->argv[1], &id, "ERR value is not an integer or out of range")) return;
    if (id < INT_MIN || id > INT_MAX) { /* Redis's getIntFromObjectOrReply */
        add_reply_error(c, "ERR value is out of range, value must between -2147483648 and 2147483647");
        return;
    }
    if (id != 0 && route_db0_only_or_reply(c, "SELECT")) return;
    if (id < 0 || id >= db_count()) {
        add_reply_error(c, ERR_DB_RANGE);
        return;
    }
    c->db = (int)id;
    add_reply_ok(c);
}

/* Returns true if user/pass authenticate the default user. */
static bool check_credentials(const arg_t *user, const arg_t *pass) {
    if (user && !(user->len == 7 && memcmp(user->ptr, "default", 7) == 0)) return false;
    if (!cfg_requirepass_set()) return true; /* default user is nopass */
    return cfg_check_password(pass->ptr, pass->len);
}

static const char ERR_WRONGPASS[] = "WRONGPASS invalid username-password pair or user is disabled.";

static void auth_command(client *c) {
    if (c->argc > 3) {
        add_reply_error(c, ERR_SYNTAX);
        return;
    }
    if (c->argc == 2 && !cfg_requirepass_set()) {
        add_reply_error(c, "ERR AUTH <password> called without any password configured for the default user. "
                           "Are you sure your configuration is correct?");
        return;
    }
    const arg_t *user = c->argc == 3 ? &c->argv[1] : NULL;
    const arg_t *pass = &c->argv[c->argc - 1];
    if (check_credentials(user, pass)) {
        c->authenticated = true;
        add_reply_ok(c);
    } else {
        add_reply_error(c, ERR_WRONGPASS);
    }
}

static void hello_command(client *c) {
    long long ver = 0;
    int next = 1;
    if (c->argc >= 2) {
        if (!parse_ll(c->argv[1].ptr, c->argv[1].len, &ver)) {
            add_reply_error(c, "ERR Protocol version is not an integer or out of range");
            return;
        }
        next = 2;
        if (ver < 2 || ver > 3) {
            add_reply_error(c, "NOPROTO unsupported protocol version");
            return;
        }
    }
    const arg_t *user = NULL, *pass = NULL, *name = NULL;
    for (int j = next; j < c->argc; j++) {
        int more = c->argc - j - 1;
        if (arg_eq(&c->argv[j], "AUTH") && more >= 2) {
            user = &c->argv[j + 1];
            pass = &c->argv[j + 2];
            j += 2;
        } else if (arg_eq(&c->argv[j], "SETNAME") && more >= 1) {
            name = &c->argv[j + 1];
            j++;
        } else {
            add_reply_errorf(c, "ERR Syntax error in HELLO option '%.*s'", (int)c->argv[j].len, c->argv[j].ptr);
            return;
        }
    }
    if (user) {
        if (!check_credentials(user, pass)) {
            add_reply_error(c, ERR_WRONGPASS);
            return;
        }
        c->authenticated = true;
    }
    if (!c->authenticated) {
        add_reply_error(c, "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
                           "HELLO AUTH <user> <pass> option can be used to authenticate the client and "
                           "select the RESP protocol version at the same time");
        return;
    }
    if (name) {
        for (size_t i = 0; i < name->len; i++) {
            if (name->ptr[i] < '!' || name->ptr[i] > '~') {
                add_reply_error(c, "ERR Client names cannot contain spaces, newlines or special characters.");
                return;
            }
        }
        clients_set_name(c, name->ptr, name->len);
    }
    if (ver) {
        c->resp = (int)ver;
        atomic_store_explicit(&c->shared_resp, c->resp, memory_order_relaxed);
    }
    add_reply_map(c, 7);
    add_reply_bulk_cstr(c, "server");
    add_reply_bulk_cstr(c, "redis");
    add_reply_bulk_cstr(c, "version");
    add_reply_bulk_cstr(c, REDIS_COMPAT_VERSION);
    add_reply_bulk_cstr(c, "proto");
    add_reply_integer(c, c->resp);
    add_reply_bulk_cstr(c, "id");
    add_reply_integer(c, (long long)c->id);
    add_reply_bulk_cstr(c, "mode");
    add_reply_bulk_cstr(c, cfg_get(cluster_enabled) ? "cluster" : "standalone");
    add_reply_bulk_cstr(c, "role");
    add_reply_bulk_cstr(c, "master");
    add_reply_bulk_cstr(c, "modules");
    add_reply_array(c, 0);
}

static void reset_command(client *c) {
    multi_discard(c);
    watch_unwatch_all(c);
    pubsub_unsubscribe_all(c);
    c->db = 0;
    c->resp = 2;
    atomic_store_explicit(&c->shared_resp, 2, memory_order_relaxed);
    clients_set_name(c, NULL, 0);
    c->flags &= ~(CF_NO_EVICT | CF_ASKING | CF_ASKING_SPENT | CF_READONLY);
    c->authenticated = !cfg_requirepass_set();
    add_reply_status(c, "RESET");
}

command conn_commands[] = {
    {.name = "ping", .arity = -1, .flags = CMD_FAST | CMD_SENTINEL | CMD_SUBSCRIBE_OK, .proc = ping_command, .group = "connection",
     .since = "1.0.0", .summary = "Ping the server", .complexity = "O(1)",
     .acl_categories = "fast connection"},
    {.name = "echo", .arity = 2, .flags = CMD_LOADING | CMD_STALE | CMD_FAST, .proc = echo_command,
     .group = "connection", .since = "1.0.0", .summary = "Echo the given string", .complexity = "O(1)",
     .acl_categories = "fast connection"},
    {.name = "quit", .arity = -1, .flags = CMD_ALLOW_BUSY | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST |
                                           CMD_NO_AUTH | CMD_SUBSCRIBE_OK | CMD_TX_CONTROL,
     .proc = quit_command, .group = "connection", .since = "1.0.0", .summary = "Close the connection",
     .complexity = "O(1)", .acl_categories = "fast connection"},
    {.name = "select", .arity = 2, .flags = CMD_LOADING | CMD_STALE | CMD_FAST, .proc = select_command,
     .group = "connection", .since = "1.0.0", .summary = "Change the selected database for the current connection",
     .complexity = "O(1)", .acl_categories = "fast connection"},
    {.name = "auth", .arity = -2, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_NO_AUTH |
                                           CMD_SENTINEL | CMD_ALLOW_BUSY,
     .proc = auth_command, .group = "connection", .since = "1.0.0",
     .summary = "Authenticate to the server", .complexity = "O(N) where N is the number of passwords defined for the user",
     .acl_categories = "fast connection"},
    {.name = "hello", .arity = -1, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_NO_AUTH |
                                            CMD_SENTINEL | CMD_ALLOW_BUSY,
     .proc = hello_command, .group = "connection", .since = "6.0.0",
     .summary = "Handshake with Redis", .complexity = "O(1)", .acl_categories = "fast connection"},
    {.name = "reset", .arity = 1, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_NO_AUTH |
                                           CMD_ALLOW_BUSY | CMD_SUBSCRIBE_OK | CMD_TX_CONTROL,
     .proc = reset_command, .group = "connection", .since = "6.2.0", .summary = "Reset the connection",
     .complexity = "O(1)", .acl_categories = "fast connection"},
    {0},
};
