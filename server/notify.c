/*
 * notify.c - keyspace notifications (see notify.h): the per-thread queue
 * of events the write funnel raised (notify_internal.h) and their
 * publication. Events raised while a command holds slot locks are buffered
 * per thread and published after the locks are released, in the order
 * raised.
 */
#include "notify_internal.h"

#include "mem.h"
#include "pubsub.h"

#include <stdio.h>
#include <string.h>

typedef struct pending_event {
    struct pending_event *next;
    int db;
    int type;
    size_t klen;
    char event[32];
    char key[];
} pending_event;

static _Thread_local pending_event *queue_head, *queue_tail;

void notify_queue_event(int type, const char *event, const dbkey *k) {
    pending_event *p = mem_alloc(sizeof *p + k->len);
    p->next = NULL;
    p->db = k->db;
    p->type = type;
    p->klen = k->len;
    snprintf(p->event, sizeof p->event, "%s", event);
    memcpy(p->key, k->key, k->len);
    if (queue_tail)
        queue_tail->next = p;
    else
        queue_head = p;
    queue_tail = p;
}

static void publish_one(const pending_event *p, long long flags) {
    char prefix[64];
    if (flags & NOTIFY_KEYSPACE) {
        int n = snprintf(prefix, sizeof prefix, "__keyspace@%d__:", p->db);
        char *chan = mem_alloc((size_t)n + p->klen);
        memcpy(chan, prefix, (size_t)n);
        memcpy(chan + n, p->key, p->klen);
        pubsub_publish(chan, (size_t)n + p->klen, p->event, strlen(p->event));
        mem_free(chan);
    }
    if (flags & NOTIFY_KEYEVENT) {
        char chan[128];
        int n = snprintf(chan, sizeof chan, "__keyevent@%d__:%s", p->db, p->event);
        pubsub_publish(chan, (size_t)n, p->key, p->klen);
    }
}

void notify_flush(void) {
    if (!queue_head) {
        pubsub_flush_pending();
        return;
    }
    pending_event *p = queue_head;
    queue_head = queue_tail = NULL;
    long long flags = cfg_get(notify_keyspace_events);
    while (p) {
        pending_event *next = p->next;
        publish_one(p, flags);
        mem_free(p);
        p = next;
    }
    pubsub_flush_pending();
}
