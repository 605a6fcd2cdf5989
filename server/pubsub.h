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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Deliver message to every channel and pattern subscriber; returns the
 * number of receivers (as PUBLISH replies). */
long pubsub_publish(const char *channel, size_t clen, const char *msg, size_t mlen);
/* Deliver a PUBLISHSHARD from the cluster bus to the local subscribers of
 * that shard channel; returns the number of receivers. */
long pubsub_publish_shard(const char *channel, size_t clen, const char *msg, size_t mlen);
/* Cluster mode, a slot left myself's shard (Redis's removeChannelsInSlot):
 * every client subscribed to a shard channel of a slot set in `lost` (a
 * bitmap of 16384 bits, slot s at bit s % 64 of word s / 64) is
 * unsubscribed from it and gets a "sunsubscribe" push. Any thread with no
 * slot lock held, after the slot map without those slots was published;
 * each worker unsubscribes its own clients when it runs the job, from the
 * slots its shard does not serve by then. */
void pubsub_remove_shard_slots(const uint64_t *lost);
/* Drop every subscription of a client (on close and RESET). */
void pubsub_unsubscribe_all(client *c);
/* Channels + patterns + shard channels the client is subscribed to. */
static inline int pubsub_client_count(const client *c) {
    return c->sub_channels + c->sub_patterns + c->sub_shard;
}
/* Totals for INFO (pubsub_channels, pubsub_patterns, pubsubshard_channels). */
long pubsub_total_channels(void);
long pubsub_total_patterns(void);
long pubsub_total_shard_channels(void);
/* Send the deliveries queued while slot locks were held (SPUBLISH, PUBLISH
 * inside EXEC): dispatch calls it after releasing the command's locks. */
void pubsub_flush_pending(void);
/* client-output-buffer-limit class of c: CLIENT_CLASS_PUBSUB while it has
 * subscriptions (as Redis), else CLIENT_CLASS_NORMAL. */
int pubsub_obuf_class(const client *c);
/* Close c (returning true) if its pending output exceeds the pubsub class
 * limits; checked by every delivery (owner thread). */
bool pubsub_check_output_limit(client *c);
void pubsub_init(void);
void pubsub_shutdown(void);

#endif
