/*
 * dump.h - the DUMP payload (see dump.c): serialise an entry's value and
 * rebuild an entry from a payload. Used by DUMP/RESTORE and, later, MIGRATE.
 */
#ifndef DUMP_H
#define DUMP_H

#include "entry.h"
#include "serial.h"

void dump_value(const entry *e, serial_buf *out);
/* The payload must have passed the version/checksum check. */
entry *dump_load_entry(const char *key, size_t klen, const unsigned char *p, size_t len, long long expire);

#endif
