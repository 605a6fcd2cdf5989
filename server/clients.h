/*
 * clients.h - the registry of all connected clients across workers, for
 * CLIENT LIST / INFO / KILL, maxclients and unique client ids.
 *
 * Lock order: the registry mutex is a leaf lock: never held while taking a
 * slot lock, never taken while holding one.
 */
#ifndef CLIENTS_H
#define CLIENTS_H

#include "client.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

uint64_t clients_next_id(void);
void clients_register(client *c);
void clients_unregister(client *c);
long clients_connected(void);
/* Largest query buffer / output buffer among clients (INFO clients). */
void clients_buffer_peaks(size_t *max_qbuf, size_t *max_obuf);

/* Set/get a client's name under the registry lock. */
void clients_set_name(client *c, const char *name, size_t len);
/* Copy the name into buf; returns length (0 = no name). */
size_t clients_get_name(client *c, char *buf, size_t cap);

/* One CLIENT LIST / CLIENT INFO line (with trailing '\n') appended to the
 * mem_alloc'd buffer *buf of length *len. Caller holds the registry lock
 * (clients_lock) unless c is the calling client. */
void clients_format_line(client *c, char **buf, size_t *len, size_t *cap);
void clients_lock(void);
void clients_unlock(void);
/* Iterate (under clients_lock). */
client *clients_first(void);

/* Redis's client types, as CLIENT LIST / KILL TYPE name them. */
enum client_type { CLIENT_TYPE_NORMAL, CLIENT_TYPE_REPLICA, CLIENT_TYPE_PUBSUB, CLIENT_TYPE_MASTER };
/* The type of c (any thread: reads shared fields only). */
int clients_type_of(client *c);
/* "normal", "master", "replica"/"slave", "pubsub" -> type; -1 unknown. */
int clients_type_by_name(const char *name, size_t len);

/* Ask the owning worker to close client c (by id: safe if it is gone). */
void clients_kill_async(client *c);

#endif
