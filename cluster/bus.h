/*
 * bus.h - the cluster bus thread: its own libuv loop, the listening socket
 * on the bus port (cluster-port, default port + 10000), one outbound link to
 * every known node and the inbound links they open, the 100 ms cron
 * (heartbeats, PFAIL/FAIL, handshakes, reconnects) and the processing of
 * Redis 7.0 "RCmb" messages (bus_msg.h). It owns the links; it changes the
 * cluster state (cluster_state.h) under cluster_lock() and publishes the
 * slot map after a change.
 */
#ifndef BUS_H
#define BUS_H

#include <stdbool.h>
#include <stddef.h>

/* Start the bus thread (cluster_start_bus, once, after nodes.conf is
 * loaded and the workers started).
 * Returns 0, or -1 with the reason logged (the bus port cannot be bound). */
int bus_start(void);
/* Stop it and join (cluster_stop_bus, before the workers stop). Waits for
 * a bus_wake / bus_publish under way; later ones are no-ops. */
void bus_stop(void);
/* Any thread: make the bus loop wake up soon (a CLUSTER command changed
 * what peers must hear). No-op when the bus is not running. */
void bus_wake(void);
/* bus_wake, and the wake-up also connects to every node without a link
 * (a CLUSTER MEET added one): other wake-ups leave connecting to the
 * cron. */
void bus_wake_connect(void);
/* Any thread (the PUBLISH / SPUBLISH path): send a PUBLISH to every node,
 * or a PUBLISHSHARD (sharded) to myself's master and its replicas. The
 * bytes are copied; the bus sends them on its next loop iteration. No-op
 * when the bus is not running. */
void bus_publish(const char *channel, size_t clen, const char *msg, size_t mlen, bool sharded);

#endif
