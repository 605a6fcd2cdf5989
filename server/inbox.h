/*
 * inbox.h - a worker's inbox: a multi-producer single-consumer ring of
 * messages (ck_ring MPSC) plus a uv_async wake-up. Any thread may post; only
 * the owning worker drains. When the ring is full, messages go to an
 * overflow list under a mutex, so posting never blocks or fails.
 */
#ifndef INBOX_H
#define INBOX_H

#include <ck_ring.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <uv.h>

struct worker;
typedef void inbox_fn(struct worker *w, void *arg);

typedef struct inbox_msg {
    inbox_fn *fn;
    void *arg;
    struct inbox_msg *next; /* overflow list link */
} inbox_msg;

#define INBOX_RING_SIZE 1024 /* power of two */

typedef struct {
    ck_ring_t ring;
    ck_ring_buffer_t *slots;
    uv_async_t wake;
    pthread_mutex_t overflow_lock;
    inbox_msg *overflow_head, *overflow_tail;
    _Atomic bool overflowing;
} inbox;

/* On the owner's loop: init ring and async handle. */
int inbox_init(inbox *b, uv_loop_t *loop, struct worker *owner);
/* Close the async handle (on the owner's thread) and free pending messages. */
void inbox_close(inbox *b);
void inbox_post(inbox *b, inbox_fn *fn, void *arg);

#endif
