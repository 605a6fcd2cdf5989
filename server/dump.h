/*
 * dump.h - the DUMP payload (see dump.c), Redis 7.0's: the value in RDB
 * encoding (rdb_codec.h), the 2-byte RDB version and a CRC-64. Used by
 * DUMP/RESTORE and, later, MIGRATE.
 */
#ifndef DUMP_H
#define DUMP_H

#include "entry.h"
#include "serial.h"

#include <stdbool.h>
#include <stddef.h>

/* Append e's payload to out. */
void dump_payload(const entry *e, serial_buf *out);
/* Redis's verifyDumpPayload: a trailer with an RDB version this server
 * reads and a matching CRC-64. */
bool dump_payload_ok(const unsigned char *p, size_t len);
/* Build an entry for key from a payload that passed dump_payload_ok; NULL
 * when the value is malformed (the reason, for logs, in err). */
entry *dump_payload_entry(const char *key, size_t klen, const unsigned char *p, size_t len, long long expire,
                          char *err, size_t errlen);

#endif
