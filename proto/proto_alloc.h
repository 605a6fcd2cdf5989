/*
 * proto_alloc.h - allocator hooks for proto/.
 *
 * proto/ must not depend on server/, yet every byte the server allocates has
 * to go through its counting wrapper (server/mem.c). The server installs its
 * functions here once at startup, before any thread starts; unit tests leave
 * the defaults (libc realloc/free).
 */
#ifndef PROTO_ALLOC_H
#define PROTO_ALLOC_H

#include <stddef.h>

void proto_set_allocator(void *(*realloc_fn)(void *, size_t), void (*free_fn)(void *));
void *proto_realloc(void *ptr, size_t size); /* never returns NULL: aborts on OOM */
void proto_free(void *ptr);

#endif
