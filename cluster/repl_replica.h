/*
 * repl_replica.h - what repl_cmd.c (the command table, INFO, ROLE, the
 * refusals) asks of the replica side (repl_replica.c). Not for server/.
 */
#ifndef REPL_REPLICA_H
#define REPL_REPLICA_H

#include "repl.h"

#include <stdbool.h>

/* The link's states, in Redis 7.0's order (repl_state). */
enum repl_link_state {
    RL_NONE = 0,      /* not a replica */
    RL_CONNECT,       /* must (re)connect */
    RL_CONNECTING,    /* resolving / TCP connect in flight */
    RL_RECEIVE_PONG,  /* handshake: PING sent */
    RL_RECEIVE_AUTH,
    RL_RECEIVE_PORT,
    RL_RECEIVE_IP,
    RL_RECEIVE_CAPA,
    RL_RECEIVE_PSYNC,
    RL_TRANSFER,      /* receiving (then loading) the RDB */
    RL_CONNECTED,     /* applying the command stream */
};

/* Startup (main, before the workers): `replicaof` from the configuration. */
void repl_replica_init(void);
/* Worker 0's cron: (re)connect, timeouts, ACK every second, settings. */
void repl_replica_cron(void);
/* After the workers stopped. */
void repl_replica_shutdown(void);

/* REPLICAOF / SLAVEOF host port | NO ONE (any worker). */
void repl_replicaof_command(client *c);
/* Cluster mode (cluster_state.c: CLUSTER REPLICATE, RESET, a master
 * learnt from the bus): follow host:port as REPLICAOF host port does, or
 * with host NULL become a master as REPLICAOF NO ONE does. Any thread
 * (worker 0 picks the change up through its inbox). */
void repl_replica_set_master(const char *host, int port);
/* REPLICAOF NO ONE without the reply (a PSYNC FAILOVER received, a
 * FAILOVER aborted): true when this server was a replica. Any worker. */
bool repl_replica_promote(void);
/* FAILOVER's last step: follow the target as REPLICAOF host port does; the
 * handshake's PSYNC carries FAILOVER (repl_failover_in_progress). */
void repl_replica_failover_to(const char *host, int port);
/* The applied offset (slave_repl_offset) of this replica. */
long long repl_replica_applied_offset(void);
/* How long this replica has not heard from its master, in ms (Redis's
 * data_age in clusterHandleSlaveFailover): since the last byte while the
 * link is up, since the link went down otherwise; a replica whose link
 * never came up since it started answers "for ever" (LLONG_MAX / 2). */
long long repl_replica_silence_ms(void);
/* ROLE's reply on a replica; false when this server is a master. */
bool repl_replica_role(client *c);
/* INFO replication's replica lines (role:slave ... replica_announced);
 * false (nothing written) when this server is a master. */
bool repl_replica_info(repl_info_out *out, void *ctx);

/* State read by the refusals (relaxed loads; settings refreshed by the
 * cron every tick). */
int repl_replica_link_state(void);
bool repl_replica_read_only(void);
bool repl_replica_serve_stale(void);

#endif
