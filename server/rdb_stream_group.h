/*
 * rdb_stream_group.h - the consumer groups of a stream value in Redis
 * 7.0's RDB encoding (the tail of RDB_TYPE_STREAM_LISTPACKS and _2, after
 * the stream's metadata). rdb_codec.c's stream reader and writer call
 * these; the groups are read and built through stream_group.h only.
 */
#ifndef RDB_STREAM_GROUP_H
#define RDB_STREAM_GROUP_H

#include "rdb_codec.h"
#include "stream.h"

#include <stdbool.h>

/* The group count, then each group as Redis's rdbSaveObject writes it:
 * groups and consumers in name order, PELs in ID order. */
void rdb_put_stream_groups(serial_buf *b, const stream *s, bool compress);
/* Read the groups into s (whose entries and metadata are loaded; type is
 * the RDB type, 15 or 19). False with in->err set on malformed input; the
 * groups built so far stay in s, which the caller frees whole. */
bool rdb_get_stream_groups(rdb_in *in, stream *s, int type);

#endif
