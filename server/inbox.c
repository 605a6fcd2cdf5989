/*
 * inbox.c - per-worker message inbox (see inbox.h).
 *
 * ck's atomics are inline assembly that ThreadSanitizer cannot see. Under
 * TSan the ring's own accesses are ignored and the hand-over is described
 * explicitly: a producer releases the ring before enqueueing (covering the
 * message it wrote), the consumer acquires it after dequeueing, so the
 * message contents are ordered for TSan as they are for the hardware.
 *
 * Wake-up: a post fences (seq_cst) between its enqueue and uv_async_send(),
 * whose cheap pending check could otherwise miss the owner's reset and lose
 * the wake-up (see inbox_post).
 */
#include "inbox.h"

#include "mem.h"

#include <stdbool.h>
#include <stddef.h>

#if defined(__SANITIZE_THREAD__)
#define INBOX_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define INBOX_TSAN 1
#endif
#endif
#ifdef INBOX_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
void __tsan_ignore_thread_begin(void);
void __tsan_ignore_thread_end(void);
#define TSAN_RELEASE(p) __tsan_release(p)
#define TSAN_ACQUIRE(p) __tsan_acquire(p)
#define TSAN_IGNORE_BEGIN() __tsan_ignore_thread_begin()
#define TSAN_IGNORE_END() __tsan_ignore_thread_end()
#else
#define TSAN_RELEASE(p) ((void)0)
#define TSAN_ACQUIRE(p) ((void)0)
#define TSAN_IGNORE_BEGIN() ((void)0)
#define TSAN_IGNORE_END() ((void)0)
#endif

static bool ring_dequeue(inbox *b, void **p) {
    TSAN_IGNORE_BEGIN();
    bool ok = ck_ring_dequeue_mpsc(&b->ring, b->slots, p);
    TSAN_IGNORE_END();
    if (ok) TSAN_ACQUIRE(&b->ring);
    return ok;
}

static bool ring_enqueue(inbox *b, void *p) {
    TSAN_RELEASE(&b->ring);
    TSAN_IGNORE_BEGIN();
    bool ok = ck_ring_enqueue_mpsc(&b->ring, b->slots, p);
    TSAN_IGNORE_END();
    return ok;
}

static void run_msg(struct worker *w, inbox_msg *m) {
    m->fn(w, m->arg);
    mem_free(m);
}

/* Order: a producer that found the ring full appends to the overflow list
 * and every later message goes there too (while `overflowing` is set), so
 * one producer's messages run in the order posted: ring first, then the
 * overflow list, which is only taken once the ring is empty. */
static void on_wake(uv_async_t *h) {
    inbox *b = (inbox *)((char *)h - offsetof(inbox, wake));
    struct worker *w = h->data;
    void *p;
    for (int budget = 0;; budget++) {
        if (budget == 65536) {
            uv_async_send(&b->wake); /* let the loop breathe; continue later */
            return;
        }
        if (!ring_dequeue(b, &p)) break;
        run_msg(w, p);
    }
    if (!atomic_load_explicit(&b->overflowing, memory_order_acquire)) return;
    pthread_mutex_lock(&b->overflow_lock);
    inbox_msg *list = b->overflow_head;
    b->overflow_head = b->overflow_tail = NULL;
    atomic_store_explicit(&b->overflowing, false, memory_order_release);
    pthread_mutex_unlock(&b->overflow_lock);
    while (list) {
        inbox_msg *next = list->next;
        run_msg(w, list);
        list = next;
    }
}

int inbox_init(inbox *b, uv_loop_t *loop, struct worker *owner) {
    b->slots = mem_calloc(INBOX_RING_SIZE, sizeof(ck_ring_buffer_t));
    ck_ring_init(&b->ring, INBOX_RING_SIZE);
    pthread_mutex_init(&b->overflow_lock, NULL);
    b->overflow_head = b->overflow_tail = NULL;
    atomic_store_explicit(&b->overflowing, false, memory_order_relaxed);
    b->wake.data = owner;
    return uv_async_init(loop, &b->wake, on_wake);
}

void inbox_close(inbox *b) {
    void *p;
    while (ring_dequeue(b, &p)) mem_free(p);
    pthread_mutex_lock(&b->overflow_lock);
    while (b->overflow_head) {
        inbox_msg *n = b->overflow_head->next;
        mem_free(b->overflow_head);
        b->overflow_head = n;
    }
    pthread_mutex_unlock(&b->overflow_lock);
    mem_free(b->slots);
    b->slots = NULL;
}

void inbox_post(inbox *b, inbox_fn *fn, void *arg) {
    inbox_msg *m = mem_alloc(sizeof *m);
    m->fn = fn;
    m->arg = arg;
    m->next = NULL;
    if (atomic_load_explicit(&b->overflowing, memory_order_acquire) || !ring_enqueue(b, m)) {
        pthread_mutex_lock(&b->overflow_lock);
        atomic_store_explicit(&b->overflowing, true, memory_order_release);
        if (b->overflow_tail)
            b->overflow_tail->next = m;
        else
            b->overflow_head = m;
        b->overflow_tail = m;
        pthread_mutex_unlock(&b->overflow_lock);
    }
    /* uv_async_send() starts with a plain "already pending?" load that the
     * CPU may perform before our enqueue is visible (store-load reordering):
     * it can read "pending" just before the owner resets it and scans an
     * empty ring, and then nobody wakes the owner for this message. The
     * fence orders the enqueue before that load (libuv's reset is a locked
     * exchange, a full barrier on the owner's side). */
    atomic_thread_fence(memory_order_seq_cst);
    uv_async_send(&b->wake);
}
