/*
 * repl_stub_master.c - TEMPORARY weak stand-ins for the replica side
 * (cluster/repl_cmd.c, repl_replica.c, written in another branch), so that
 * the repl-master branch links and runs alone. Every symbol here is weak:
 * the real definitions replace them at link time. DELETE THIS FILE AT MERGE.
 */
#include "repl.h"

#include "config.h"

__attribute__((weak)) void repl_init(void) { repl_master_init(); }
__attribute__((weak)) void repl_cron(void) { repl_master_cron(); }
__attribute__((weak)) void repl_shutdown(void) { repl_master_shutdown(); }
__attribute__((weak)) bool repl_is_replica(void) { return false; }
/* A master ignores REPLCONF GETACK (Redis answers only with a master link). */
__attribute__((weak)) void repl_replica_getack(client *c) { (void)c; }

__attribute__((weak)) const char *repl_refusal(const client *c, const command *cmd) {
    (void)c;
    long long min = cfg_get(min_replicas_to_write);
    if ((cmd->flags & CMD_WRITE) && min > 0 && repl_good_replicas() < min)
        return "NOREPLICAS Not enough good replicas to write.";
    return NULL;
}

__attribute__((weak)) void repl_info(repl_info_out *out, void *ctx) {
    repl_ids ids = repl_get_ids();
    out(ctx, "role:master\r\n");
    repl_master_info(out, ctx);
    out(ctx, "master_failover_state:no-failover\r\n");
    out(ctx, "master_replid:%s\r\n", ids.replid);
    out(ctx, "master_replid2:%s\r\n", ids.replid2);
    out(ctx, "master_repl_offset:%lld\r\n", ids.offset);
    out(ctx, "second_repl_offset:%lld\r\n", ids.second_offset);
    out(ctx, "repl_backlog_active:%d\r\n", ids.backlog_active ? 1 : 0);
    out(ctx, "repl_backlog_size:%lld\r\n", ids.backlog_size);
    out(ctx, "repl_backlog_first_byte_offset:%lld\r\n", ids.backlog_first);
    out(ctx, "repl_backlog_histlen:%lld\r\n", ids.backlog_histlen);
}
