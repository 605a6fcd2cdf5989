/*
 * route.h - Redis 7.0's routing decision (getNodeByQuery and
 * clusterRedirectBlockedClientIfNeeded) as pure functions of a slot map and
 * a query: route.c's glue feeds them the published map, the client's flags
 * and the command's keys; tests/unit/test_route.c feeds them hand-built
 * maps. Nothing here takes a lock, reads the configuration or replies.
 */
#ifndef ROUTE_H
#define ROUTE_H

#include "cluster_api.h"
#include "slotmap.h"

#include <stdbool.h>
#include <stddef.h>

enum route_code {
    ROUTE_SERVE = 0, /* run it here */
    ROUTE_LOOKUP,    /* depends on which keys exist here (migrating slot, or
                        importing with ASKING and several keys): decide again
                        with an `exists` callback, the slots locked */
    ROUTE_MOVED,     /* -MOVED <slot> <endpoint>:<port> (answer.node) */
    ROUTE_ASK,       /* -ASK <slot> <endpoint>:<port> (answer.node) */
    ROUTE_CROSSSLOT,
    ROUTE_TRYAGAIN,
    ROUTE_DOWN,      /* CLUSTERDOWN The cluster is down */
    ROUTE_DOWN_RO,   /* ... and only accepts read commands */
    ROUTE_UNBOUND,   /* CLUSTERDOWN Hash slot not served */
};

typedef struct route_query {
    route_keys keys;
    bool asking;           /* the client sent ASKING (or the command has the asking flag) */
    bool readonly;         /* the client sent READONLY */
    bool write;            /* the command writes (EXEC: a queued command does) */
    bool cmd_write;        /* the command's own write flag, which the cluster-down
                              test reads: false for EXEC, as in Redis */
    bool shard;            /* shard pub/sub (SPUBLISH, SSUBSCRIBE, SUNSUBSCRIBE) */
    bool migrate;          /* MIGRATE: served here while its slot is open (no
                              such command before slot migration lands) */
    bool allow_reads_down; /* cluster-allow-reads-when-down (read when !map->ok) */
    bool allow_shard_down; /* cluster-allow-pubsubshard-when-down (likewise) */
} route_query;

typedef struct route_answer {
    int code;      /* enum route_code */
    unsigned slot; /* for MOVED / ASK */
    int node;      /* index into map->nodes for MOVED / ASK, else -1 */
} route_answer;

/* Does `key` (in `slot`, db 0) exist here, expired keys counting as
 * missing? Called with the key's slot locked. */
typedef bool route_exists_fn(void *ctx, const char *key, size_t len, unsigned slot);

/* The route_exists_fn of a real node: db 0's key as Redis looks it up
 * here (NOTOUCH|NOSTATS|NONOTIFY|NOEXPIRE): no side effect, and an expired
 * key counts as missing. ctx is unused. */
bool route_key_exists(void *ctx, const char *key, size_t len, unsigned slot);

/* getNodeByQuery over q->keys. With exists NULL, a decision that depends on
 * key existence comes back as ROUTE_LOOKUP. Returns a->code. */
int route_decide(const slotmap *m, const route_query *q, route_exists_fn *exists, void *ctx, route_answer *a);

/* A client blocked on a key of `slot`: ROUTE_DOWN when the cluster is
 * down (even with reads allowed: only a write could unblock it), ROUTE_UNBOUND
 * or ROUTE_MOVED when the slot is not ours nor being imported (a READONLY
 * client's read of our master's slot stays), else ROUTE_SERVE. */
int route_decide_blocked(const slotmap *m, unsigned slot, bool readonly, bool write, route_answer *a);

/* The error text of a redirect (a->code >= ROUTE_MOVED) without the
 * leading '-', as Redis's clusterRedirectClient writes it, into buf
 * (ROUTE_ERR_MAX bytes suffice). */
void route_error_text(const slotmap *m, const route_answer *a, char *buf, size_t len);

#endif
