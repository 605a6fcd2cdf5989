/*
 * info.h - the INFO text (Redis 7.0 field names and layout, so that tools
 * that parse Redis's INFO, such as the Prometheus redis exporter, read ours)
 * and the memory figures that INFO memory and MEMORY STATS share.
 */
#ifndef INFO_H
#define INFO_H

#include "client.h"

#include <stddef.h>

/* Record used_memory_startup: call once at startup after the keyspace and
 * the command table exist and before the workers start. Until it is called
 * the startup figure is 0. */
void info_init(void);

/* The INFO reply text for the given section names (case-insensitive; none =
 * "default"; unknown names contribute nothing). Returns a mem_alloc'd,
 * NUL-terminated string whose length is stored in *len; the caller frees it
 * with mem_free. */
char *info_generate(const arg_t *sections, int nsections, size_t *len);

/* Memory figures in bytes (signed where a difference may be negative). */
typedef struct {
    size_t used;              /* mem_used(): every allocation of the server */
    size_t peak;
    size_t startup;           /* used at info_init() */
    size_t rss;
    size_t clients_normal;    /* query + output buffers of all clients */
    size_t overhead;          /* startup + clients_normal */
    size_t dataset;           /* used - overhead */
    size_t alloc_allocated;   /* glibc malloc: bytes in use (mallinfo2) */
    size_t alloc_active;      /* glibc malloc: bytes obtained from the OS */
    size_t alloc_resident;    /* approximated by rss (glibc does not say) */
    size_t total_system;      /* physical memory */
    double peak_perc;         /* used * 100 / peak */
    double dataset_perc;      /* dataset * 100 / (used - startup) */
} info_memory;

void info_memory_get(info_memory *m);

#endif
