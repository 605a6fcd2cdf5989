/*
 * proto_alloc.c - owns the allocator hooks for proto/: every allocation made
 * by the protocol layer goes through proto_realloc/proto_free, which default
 * to libc and can be redirected once by the server at startup.
 */
#include "proto_alloc.h"

#include <stdio.h>
#include <stdlib.h>

static void *(*g_realloc)(void *, size_t) = realloc;
static void (*g_free)(void *) = free;

void proto_set_allocator(void *(*realloc_fn)(void *, size_t), void (*free_fn)(void *))
{
    g_realloc = realloc_fn ? realloc_fn : realloc;
    g_free = free_fn ? free_fn : free;
}

void *proto_realloc(void *ptr, size_t size)
{
    if (size == 0) {
        if (ptr)
            g_free(ptr);
        return NULL;
    }
    void *p = g_realloc(ptr, size);
    if (p == NULL) {
        fprintf(stderr, "proto_realloc: out of memory allocating %zu bytes\n", size);
        abort();
    }
    return p;
}

void proto_free(void *ptr)
{
    if (ptr)
        g_free(ptr);
}
