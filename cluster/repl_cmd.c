/*
 * repl_cmd.c - replication as server/ sees it (cluster_api.h): the command
 * table (REPLICAOF SLAVEOF ROLE, SYNC PSYNC REPLCONF WAIT whose handlers
 * the master side owns, FAILOVER whose handler is repl_failover.c's),
 * startup/cron/shutdown, the write refusals (-READONLY, -MASTERDOWN, -NOREPLICAS), INFO replication and the
 * sync counters of INFO stats.
 *
 * Threads: the handlers and repl_refusal / repl_info run on any worker and
 * only read atomics or take leaf locks of the two sides; repl_cron runs on
 * worker 0 (which owns the master link, repl_replica.c); repl_init and
 * repl_shutdown run on the main thread while no worker runs. The settings
 * read on the request path (min-replicas-*) are refreshed by the cron every
 * tick, so a CONFIG SET takes effect within one tick (100 ms at hz 10).
 */
#include "repl_failover.h"
#include "repl_replica.h"

#include "config.h"

#include <stdatomic.h>
#include <stdlib.h>

/* ---- lifecycle ---- */

void repl_init(void) {
    repl_master_init();
    repl_replica_init();
}

void repl_cron(void) {
    repl_failover_cron();
    repl_replica_cron();
    repl_master_cron();
}

void repl_shutdown(void) {
    repl_replica_shutdown();
    repl_master_shutdown();
}

/* ---- refusals ---- */

const char *repl_refusal(const client *c, const command *cmd) {
    if (c->flags & CF_MASTER) return NULL;
    if (!repl_is_replica()) {
        long long min = cfg_get(min_replicas_to_write);
        if (min > 0 && (cmd->flags & CMD_WRITE) && cfg_get(min_replicas_max_lag) && repl_good_replicas() < min)
            return "NOREPLICAS Not enough good replicas to write.";
        return NULL;
    }
    if ((cmd->flags & CMD_WRITE) && repl_replica_read_only()) return "READONLY You can't write against a read only replica.";
    if (!(cmd->flags & CMD_STALE) && !repl_replica_serve_stale() && repl_replica_link_state() != RL_CONNECTED)
        return "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
    return NULL;
}

/* ---- INFO ---- */

void repl_info(repl_info_out *out, void *ctx) {
    if (!repl_replica_info(out, ctx)) out(ctx, "role:master\r\n");
    repl_master_info(out, ctx);
    repl_ids ids = repl_get_ids();
    out(ctx,
        "master_failover_state:%s\r\n"
        "master_replid:%s\r\n"
        "master_replid2:%s\r\n"
        "master_repl_offset:%lld\r\n"
        "second_repl_offset:%lld\r\n"
        "repl_backlog_active:%d\r\n"
        "repl_backlog_size:%lld\r\n"
        "repl_backlog_first_byte_offset:%lld\r\n"
        "repl_backlog_histlen:%lld\r\n",
        repl_failover_state_name(), ids.replid, ids.replid2, ids.offset, ids.second_offset,
        ids.backlog_active ? 1 : 0, ids.backlog_size,
        ids.backlog_active ? ids.backlog_first : 0, ids.backlog_active ? ids.backlog_histlen : 0);
}

void repl_sync_stats(long long *full, long long *partial_ok, long long *partial_err) {
    repl_master_sync_counts(full, partial_ok, partial_err);
}

/* ---- ROLE ---- */

static void role_command(client *c) {
    if (repl_replica_role(c)) return;
    repl_ids ids = repl_get_ids();
    add_reply_array(c, 3);
    add_reply_bulk_cstr(c, "master");
    add_reply_integer(c, ids.offset);
    repl_master_role_replicas(c);
}

/* ---- the table ---- */

#define REPL_ACL "admin slow dangerous"

command repl_commands[] = {
    {.name = "replicaof", .arity = 3, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_STALE | CMD_NO_ASYNC_LOADING,
     .proc = repl_replicaof_command, .group = "server", .since = "5.0.0",
     .summary = "Make the server a replica of another instance, or promote it as master.", .complexity = "O(1)",
     .acl_categories = REPL_ACL},
    {.name = "slaveof", .arity = 3, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_STALE | CMD_NO_ASYNC_LOADING,
     .proc = repl_replicaof_command, .group = "server", .since = "1.0.0",
     .summary = "Make the server a replica of another instance, or promote it as master.", .complexity = "O(1)",
     .acl_categories = REPL_ACL},
    {.name = "role", .arity = 1, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST, .proc = role_command,
     .group = "server", .since = "2.8.12", .summary = "Return the role of the instance in the context of replication",
     .complexity = "O(1)", .acl_categories = "admin fast dangerous"},
    {.name = "sync", .arity = 1, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_ASYNC_LOADING | CMD_NO_MULTI,
     .proc = repl_sync_command, .group = "server", .since = "1.0.0",
     .summary = "Internal command used for replication", .acl_categories = REPL_ACL},
    {.name = "psync", .arity = -3, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_ASYNC_LOADING | CMD_NO_MULTI,
     .proc = repl_sync_command, /* SYNC and PSYNC: one handler */ .group = "server", .since = "2.8.0",
     .summary = "Internal command used for replication", .acl_categories = REPL_ACL},
    {.name = "replconf", .arity = -1, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_ALLOW_BUSY,
     .proc = repl_replconf_command, .group = "server", .since = "3.0.0",
     .summary = "An internal command for configuring the replication stream", .complexity = "O(1)",
     .acl_categories = REPL_ACL},
    {.name = "failover", .arity = -1, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_STALE, .proc = repl_failover_command,
     .group = "server", .since = "6.2.0",
     .summary = "Start a coordinated failover between this server and one of its replicas.", .complexity = "O(1)",
     .acl_categories = REPL_ACL},
    {.name = "wait", .arity = 3, .flags = CMD_NOSCRIPT, .proc = repl_wait_command, .group = "generic",
     .since = "3.0.0",
     .summary = "Wait for the synchronous replication of all the write commands sent in the context of the current "
                "connection",
     .complexity = "O(1)", .acl_categories = "slow connection"},
    {0},
};
