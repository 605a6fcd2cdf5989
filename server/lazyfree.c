/*
 * lazyfree.c - the lazy-free thread (see lazyfree.h). One FIFO of jobs
 * under a mutex and a condition variable; the thread registers its own
 * memory counter, so memory freed here still leaves used_memory exact.
 */
#include "lazyfree.h"

#include "mem.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

typedef struct job {
    struct job *next;
    entry *e;      /* or */
    ktable table;  /* a moved table (table.size > 0 or count > 0) */
    bool is_table;
} job;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static job *head, *tail;
static bool running, stopping;
static pthread_t thread;
static _Atomic uint64_t pending, done;

static void *lazyfree_main(void *arg) {
    (void)arg;
    mem_thread_register();
    pthread_mutex_lock(&lock);
    for (;;) {
        while (!head && !stopping) pthread_cond_wait(&cond, &lock);
        if (!head && stopping) break;
        job *j = head;
        head = j->next;
        if (!head) tail = NULL;
        pthread_mutex_unlock(&lock);
        if (j->is_table)
            ktable_clear(&j->table);
        else
            entry_free(j->e);
        mem_free(j);
        atomic_fetch_sub_explicit(&pending, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&done, 1, memory_order_relaxed);
        pthread_mutex_lock(&lock);
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

void lazyfree_start(void) {
    running = true;
    pthread_create(&thread, NULL, lazyfree_main, NULL);
}

void lazyfree_stop(void) {
    if (!running) return;
    pthread_mutex_lock(&lock);
    stopping = true;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
    pthread_join(thread, NULL);
    running = false;
}

static void enqueue(job *j) {
    j->next = NULL;
    atomic_fetch_add_explicit(&pending, 1, memory_order_relaxed);
    pthread_mutex_lock(&lock);
    if (tail)
        tail->next = j;
    else
        head = j;
    tail = j;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
}

static bool is_big(const entry *e) {
    if (entry_type(e) == OBJ_STRING) return entry_mem_usage(e) > 64 * 1024;
    const entry_type_ops *ops = entry_type_ops_of(entry_type(e));
    return ops->length && ops->length(entry_ptr(e)) > LAZYFREE_THRESHOLD;
}

void lazyfree_entry(entry *e) {
    if (!e) return;
    if (!running || !is_big(e)) {
        entry_free(e);
        return;
    }
    job *j = mem_calloc(1, sizeof *j);
    j->e = e;
    enqueue(j);
}

void lazyfree_table(ktable *t) {
    if (!running) {
        ktable_clear(t);
        return;
    }
    job *j = mem_calloc(1, sizeof *j);
    j->is_table = true;
    ktable_move(&j->table, t);
    enqueue(j);
}

uint64_t lazyfree_pending(void) { return atomic_load_explicit(&pending, memory_order_relaxed); }
uint64_t lazyfree_done(void) { return atomic_load_explicit(&done, memory_order_relaxed); }
