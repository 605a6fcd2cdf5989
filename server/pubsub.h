/*
 * pubsub.h - publish/subscribe across workers: SUBSCRIBE, PSUBSCRIBE,
 * SSUBSCRIBE and their UNSUBSCRIBE forms, PUBLISH, SPUBLISH, PUBSUB.
 *
 * Subscriptions live in one registry (channel -> subscribers, pattern ->
 * subscribers) guarded by a rwlock; a publisher delivers by posting one
 * inbox message per worker that has receivers, so messages from one
 * publisher reach every subscriber in publish order. Never called with a
 * slot lock held (notify.c queues keyspace events until after unlock).
 */
#ifndef PUBSUB_H
#define PUBSUB_H

#include "client.h"

#include <stddef.h>

/* Deliver message to every channel and pattern subscriber; returns the
 * number of receivers (as PUBLISH replies). */
long pubsub_publish(const char *channel, size_t clen, const char *msg, size_t mlen) __attribute__((weak));
/* Drop every subscription of a client (on close and RESET). */
void pubsub_unsubscribe_all(client *c) __attribute__((weak));
/* Channels + patterns + shard channels the client is subscribed to. */
static inline int pubsub_client_count(const client *c) {
    return c->sub_channels + c->sub_patterns + c->sub_shard;
}
/* Totals for INFO (pubsub_channels, pubsub_patterns, pubsubshard_channels). */
long pubsub_total_channels(void);
long pubsub_total_patterns(void);
long pubsub_total_shard_channels(void);
void pubsub_init(void);
void pubsub_shutdown(void);

#endif
