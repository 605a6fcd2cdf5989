/*
 * clients.c - registry of every connected client (see clients.h).
 *
 * One mutex guards the list and the client names. Other fields that
 * CLIENT LIST prints for clients of other workers are atomics in the client
 * (client.h "shared" fields), so formatting a line never touches state the
 * owning worker writes without synchronisation.
 */
#include "clients.h"

#include "commands.h"
#include "db.h"
#include "mem.h"
#include "worker.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static client *registry_head;
static _Atomic long connected;
static _Atomic uint64_t next_id = 1;

uint64_t clients_next_id(void) { return atomic_fetch_add_explicit(&next_id, 1, memory_order_relaxed); }

void clients_lock(void) { pthread_mutex_lock(&registry_lock); }
void clients_unlock(void) { pthread_mutex_unlock(&registry_lock); }
client *clients_first(void) { return registry_head; }

void clients_register(client *c) {
    pthread_mutex_lock(&registry_lock);
    c->prev = NULL;
    c->next = registry_head;
    if (registry_head) registry_head->prev = c;
    registry_head = c;
    pthread_mutex_unlock(&registry_lock);
    atomic_fetch_add_explicit(&connected, 1, memory_order_relaxed);
}

void clients_unregister(client *c) {
    pthread_mutex_lock(&registry_lock);
    if (c->prev)
        c->prev->next = c->next;
    else if (registry_head == c)
        registry_head = c->next;
    else {
        pthread_mutex_unlock(&registry_lock);
        return; /* never registered */
    }
    if (c->next) c->next->prev = c->prev;
    c->prev = c->next = NULL;
    pthread_mutex_unlock(&registry_lock);
    atomic_fetch_sub_explicit(&connected, 1, memory_order_relaxed);
}

long clients_connected(void) { return atomic_load_explicit(&connected, memory_order_relaxed); }

void clients_buffer_peaks(size_t *max_qbuf, size_t *max_obuf) {
    size_t q = 0, o = 0;
    pthread_mutex_lock(&registry_lock);
    for (client *c = registry_head; c; c = c->next) {
        size_t a = atomic_load_explicit(&c->shared_qbuf, memory_order_relaxed);
        size_t b = atomic_load_explicit(&c->shared_omem, memory_order_relaxed);
        if (a > q) q = a;
        if (b > o) o = b;
    }
    pthread_mutex_unlock(&registry_lock);
    *max_qbuf = q;
    *max_obuf = o;
}

void clients_set_name(client *c, const char *name, size_t len) {
    char *copy = len ? mem_strndup(name, len) : NULL;
    pthread_mutex_lock(&registry_lock);
    char *old = c->name;
    c->name = copy;
    pthread_mutex_unlock(&registry_lock);
    mem_free(old);
}

size_t clients_get_name(client *c, char *buf, size_t cap) {
    pthread_mutex_lock(&registry_lock);
    size_t n = 0;
    if (c->name) {
        n = strlen(c->name);
        if (n >= cap) n = cap - 1;
        memcpy(buf, c->name, n);
    }
    buf[n] = '\0';
    pthread_mutex_unlock(&registry_lock);
    return n;
}

static void append(char **buf, size_t *len, size_t *cap, const char *s, size_t n) {
    if (*len + n + 1 > *cap) {
        size_t nc = (*cap ? *cap * 2 : 256);
        while (nc < *len + n + 1) nc *= 2;
        *buf = mem_realloc(*buf, nc);
        *cap = nc;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
}

/* CLIENT LIST's flags: S replica, M master, P subscriber, N none. */
static const char *client_flags_text(client *c, int subs) {
    int kind = atomic_load_explicit(&c->shared_kind, memory_order_relaxed);
    if (kind == CLIENT_KIND_REPLICA) return "S";
    if (kind == CLIENT_KIND_MASTER) return "M";
    return subs ? "P" : "N";
}

int clients_type_of(client *c) {
    int kind = atomic_load_explicit(&c->shared_kind, memory_order_relaxed);
    if (kind == CLIENT_KIND_MASTER) return CLIENT_TYPE_MASTER;
    if (kind == CLIENT_KIND_REPLICA) return CLIENT_TYPE_REPLICA;
    if (atomic_load_explicit(&c->sub_channels, memory_order_relaxed) +
            atomic_load_explicit(&c->sub_patterns, memory_order_relaxed) +
            atomic_load_explicit(&c->sub_shard, memory_order_relaxed) >
        0)
        return CLIENT_TYPE_PUBSUB;
    return CLIENT_TYPE_NORMAL;
}

int clients_type_by_name(const char *name, size_t len) {
    static const struct {
        const char *name;
        int type;
    } names[] = {{"normal", CLIENT_TYPE_NORMAL},
                 {"replica", CLIENT_TYPE_REPLICA},
                 {"slave", CLIENT_TYPE_REPLICA},
                 {"pubsub", CLIENT_TYPE_PUBSUB},
                 {"master", CLIENT_TYPE_MASTER}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i].name) == len && strncasecmp(names[i].name, name, len) == 0) return names[i].type;
    return -1;
}

void clients_format_line(client *c, char **buf, size_t *len, size_t *cap) {
    long long now = mstime();
    long long ctime = atomic_load_explicit(&c->ctime_ms, memory_order_relaxed);
    long long last = atomic_load_explicit(&c->last_interaction_ms, memory_order_relaxed);
    const command *cmd = atomic_load_explicit(&c->last_cmd, memory_order_relaxed);
    size_t qbuf = atomic_load_explicit(&c->shared_qbuf, memory_order_relaxed);
    size_t omem = atomic_load_explicit(&c->shared_omem, memory_order_relaxed);
    int sub = atomic_load_explicit(&c->sub_channels, memory_order_relaxed);
    int psub = atomic_load_explicit(&c->sub_patterns, memory_order_relaxed);
    int ssub = atomic_load_explicit(&c->sub_shard, memory_order_relaxed);
    char line[1024];
    int n = snprintf(line, sizeof line,
                     "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s db=%d sub=%d psub=%d "
                     "ssub=%d multi=-1 qbuf=%zu qbuf-free=0 argv-mem=0 multi-mem=0 rbs=%d rbp=0 obl=0 oll=0 "
                     "omem=%zu tot-mem=%zu events=r cmd=%s user=default redir=-1 resp=%d\n",
                     (unsigned long long)c->id, c->addr, c->laddr, c->fd, c->name ? c->name : "",
                     (now - ctime) / 1000, (now - last) / 1000, client_flags_text(c, sub + psub + ssub),
                     atomic_load_explicit(&c->shared_db, memory_order_relaxed), sub, psub, ssub, qbuf,
                     qbuf ? (int)qbuf : 0,
                     omem, sizeof(client) + qbuf + omem, cmd ? cmd->fullname : "NULL",
                     atomic_load_explicit(&c->shared_resp, memory_order_relaxed));
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof line) n = sizeof line - 1;
    append(buf, len, cap, line, (size_t)n);
}

/* Inbox message: close the client with this id if it still exists on w. */
static void kill_on_worker(worker *w, void *arg) {
    client *c = worker_client_by_id(w, (uint64_t)(uintptr_t)arg);
    if (c) client_close(c);
}

void clients_kill_async(client *c) {
    worker_post(c->worker, kill_on_worker, (void *)(uintptr_t)c->id);
}
