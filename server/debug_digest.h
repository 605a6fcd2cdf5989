/*
 * debug_digest.h - DEBUG DIGEST and DEBUG DIGEST-VALUE (debug_digest.c):
 * Redis 7.0's SHA-1 signatures of the whole dataset and of single values,
 * byte for byte what redis-server gives for the same data. cmd_server.c's
 * DEBUG dispatch calls these handlers.
 */
#ifndef DEBUG_DIGEST_H
#define DEBUG_DIGEST_H

#include "client.h"

/* DEBUG DIGEST: a status reply of 40 hex digits (all zeros when empty). */
void debug_digest_command(client *c);
/* DEBUG DIGEST-VALUE [key ...]: an array of one 40-hex status per key (all
 * zeros for a missing key). */
void debug_digest_value_command(client *c);

#endif
