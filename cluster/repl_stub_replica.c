/*
 * repl_stub_replica.c - STUB, DELETE AT MERGE. Trivial stand-ins for the
 * functions of cluster/repl.h that the master side (repl_buffer.c,
 * repl_master.c) owns, so that the replica side builds and its tests run
 * before the master side lands. Only the ids and offsets are kept (under
 * one mutex, any thread): repl_feed_raw advances the offset, there is no
 * backlog content and no replica of our own.
 */
#include "repl.h"

#include "log.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

static pthread_mutex_t stub_lock = PTHREAD_MUTEX_INITIALIZER;
static repl_ids stub = {.second_offset = -1, .backlog_size = 1048576};

static void random_id(char *out) {
    unsigned char rnd[20];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) memset(rnd, 0x5a, sizeof rnd);
    for (size_t i = 0; i < sizeof rnd; i++) snprintf(out + 2 * i, 3, "%02x", rnd[i]);
}

void repl_master_init(void) {
    pthread_mutex_lock(&stub_lock);
    random_id(stub.replid);
    memset(stub.replid2, '0', REPL_ID_LEN);
    stub.replid2[REPL_ID_LEN] = '\0';
    pthread_mutex_unlock(&stub_lock);
}
void repl_master_cron(void) {}
void repl_master_shutdown(void) {}

repl_ids repl_get_ids(void) {
    pthread_mutex_lock(&stub_lock);
    repl_ids r = stub;
    pthread_mutex_unlock(&stub_lock);
    return r;
}

void repl_feed_raw(const char *p, size_t len) {
    (void)p;
    pthread_mutex_lock(&stub_lock);
    stub.offset += (long long)len;
    if (stub.backlog_active) {
        stub.backlog_histlen += (long long)len;
        if (stub.backlog_histlen > stub.backlog_size) stub.backlog_histlen = stub.backlog_size;
        stub.backlog_first = stub.offset - stub.backlog_histlen + 1;
    }
    pthread_mutex_unlock(&stub_lock);
}

void repl_backlog_create(void) {
    pthread_mutex_lock(&stub_lock);
    if (!stub.backlog_active) {
        stub.backlog_active = true;
        stub.backlog_histlen = 0;
        stub.backlog_first = stub.offset + 1;
    }
    pthread_mutex_unlock(&stub_lock);
}

void repl_adopt_master(const char *replid, long long offset) {
    pthread_mutex_lock(&stub_lock);
    memcpy(stub.replid, replid, REPL_ID_LEN);
    stub.replid[REPL_ID_LEN] = '\0';
    memset(stub.replid2, '0', REPL_ID_LEN);
    stub.second_offset = -1;
    stub.offset = offset;
    stub.backlog_histlen = 0;
    stub.backlog_first = offset + 1;
    pthread_mutex_unlock(&stub_lock);
}

void repl_shift_replid(void) {
    pthread_mutex_lock(&stub_lock);
    memcpy(stub.replid2, stub.replid, sizeof stub.replid2);
    stub.second_offset = stub.offset + 1;
    random_id(stub.replid);
    pthread_mutex_unlock(&stub_lock);
}

void repl_switch_replid(const char *new_replid) {
    pthread_mutex_lock(&stub_lock);
    memcpy(stub.replid2, stub.replid, sizeof stub.replid2);
    stub.second_offset = stub.offset + 1;
    memcpy(stub.replid, new_replid, REPL_ID_LEN);
    stub.replid[REPL_ID_LEN] = '\0';
    pthread_mutex_unlock(&stub_lock);
}

void repl_forget_stream_db(void) {}
void repl_drop_replicas(void) {}
int repl_good_replicas(void) { return 0; }

void repl_master_info(repl_info_out *out, void *ctx) { out(ctx, "connected_slaves:0\r\n"); }

void repl_master_role_replicas(client *c) { add_reply_array(c, 0); }

void repl_master_sync_counts(long long *full, long long *partial_ok, long long *partial_err) {
    *full = *partial_ok = *partial_err = 0;
}

void repl_sync_command(client *c) { add_reply_error(c, "ERR SYNC is not implemented yet (stub)"); }
void repl_psync_command(client *c) { add_reply_error(c, "ERR PSYNC is not implemented yet (stub)"); }
void repl_wait_command(client *c) { add_reply_integer(c, 0); }

/* Enough of REPLCONF for a replica: GETACK from our master is answered by
 * the replica side; everything else is acknowledged. */
void repl_replconf_command(client *c) {
    if ((c->argc - 1) % 2 != 0) {
        add_reply_error(c, "ERR syntax error");
        return;
    }
    for (int i = 1; i < c->argc; i += 2) {
        if (arg_eq(&c->argv[i], "getack")) {
            repl_replica_getack(c);
            return;
        }
        if (arg_eq(&c->argv[i], "ack")) return; /* never replied */
    }
    add_reply_ok(c);
}
