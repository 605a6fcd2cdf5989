/*
 * worker.h - symmetric worker threads: each owns one libuv loop, its own
 * SO_REUSEPORT listening sockets, its clients, a cron timer and an inbox for
 * messages from other threads (inbox.c). The kernel spreads connections over
 * the workers; a connection never leaves the worker that accepted it.
 */
#ifndef WORKER_H
#define WORKER_H

#include "inbox.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#define WORKER_MAX 64
#define LISTEN_MAX 16
#define WORKER_IDMAP_SIZE 4096

struct client;

typedef struct worker {
    int id;
    pthread_t thread;
    uv_loop_t loop;
    uv_tcp_t listeners[LISTEN_MAX];
    int nlisteners;
    uv_timer_t cron;
    uv_prepare_t before_poll; /* once per loop iteration, before it waits */
    uv_timer_t later;         /* runs the later jobs (worker_post_later) */
    struct later_job *later_head, *later_tail;
    inbox box;
    bool stopping;
    struct client *clients;   /* this worker's clients (owner thread only) */
    struct client *idmap[WORKER_IDMAP_SIZE]; /* id -> client (owner thread only) */
    int nclients;
    unsigned expire_cursor;   /* next slot of the active expire cycle */
    int expire_db;            /* ...its first database not swept yet */
    uint32_t expire_pos;      /* ...and where in that table to resume */
    unsigned long evict_runs_seen; /* evict_command_runs() at the last tick */
    long long cron_runs;
} worker;

extern worker *workers;
extern int nworkers;
extern _Thread_local worker *current_worker;

/* Create listening sockets for every worker, then start the threads.
 * Returns -1 (after logging) if no address could be bound. */
int workers_start(int n);
/* Ask every worker to close its clients and listeners, and join them. */
void workers_stop(void);
/* The client with this id on worker w, or NULL (owner thread only). */
struct client *worker_client_by_id(worker *w, uint64_t id);
void worker_idmap_add(worker *w, struct client *c);
void worker_idmap_remove(worker *w, struct client *c);
/* Run fn(w, arg) on worker w's thread (asynchronously). */
void worker_post(worker *w, inbox_fn *fn, void *arg);
/* On w's own thread: run fn(w, arg) a millisecond later, the loop's
 * sockets served meanwhile, for long work done in steps that must let
 * the worker's clients in between (a step posts the next). The jobs left
 * when the worker stops are run then. */
void worker_post_later(worker *w, inbox_fn *fn, void *arg);

/* Ask the main thread to shut the server down (SHUTDOWN command). */
void server_request_shutdown(void);

#endif
