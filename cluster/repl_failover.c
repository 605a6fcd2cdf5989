/*
 * repl_failover.c - the standalone FAILOVER command of Redis 7.0: a master
 * hands over to one of its replicas without losing a write.
 *
 *   FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms]
 *
 * The steps, as Redis's replication.c:
 * 1. FAILOVER pauses every write (server/writepause.h) and waits until no
 *    write that began before the pause is still running (writepause_drain).
 *    The master's offset is then final: nothing more goes down the stream
 *    (no PING, no GETACK; a replica's ACK could never equal an offset that
 *    moved), the replicas' once-a-second ACKs tell where they are.
 * 2. waiting-for-sync: worker 0's cron (every tick) looks for the target
 *    (or, without TO, any online replica) whose ACK offset equals the
 *    master's. TIMEOUT without FORCE aborts; with FORCE it goes on to the
 *    target anyway.
 * 3. failover-in-progress: the master becomes a replica of the target
 *    (repl_replica.c), whose handshake sends `PSYNC <replid> <offset>
 *    FAILOVER`; the target, whose replid is ours, becomes a master and
 *    answers +CONTINUE (repl_master.c's SYNC handler). The reply ends the
 *    failover and the pause. A refused PSYNC, or a link that fails before
 *    the reply, aborts: this server is a master again, writes resume.
 * FAILOVER ABORT undoes either state; REPLICAOF and SYNC are refused
 * meanwhile.
 *
 * A paused write waits for the end of the pause, as in Redis, and then
 * runs as the server now is (on a master that handed over: -READONLY).
 *
 * Threads: FAILOVER, FAILOVER ABORT, REPLICAOF and INFO run on any worker,
 * the cron and the PSYNC's reply on worker 0, the drain's end on whichever
 * worker finishes it. Two locks:
 * - role_lock serializes every decision with the change of role it leads
 *   to: the cron's hand-over (state in progress, then becoming the
 *   target's replica), ABORT's return to master, REPLICAOF's check and
 *   change, FAILOVER's checks, and the handling of the PSYNC reply (which
 *   then sees whether the link it answers is still wanted). Outermost.
 * - fo_lock guards the state below; taken inside role_lock (or alone by
 *   readers and by the PSYNC-failure report), and around calls that take
 *   the registry, buffer and log locks. Role changes (repl_replica.c,
 *   whose link may fail and report here) are made without it.
 */
#include "repl_failover.h"

#include "config.h"
#include "log.h"
#include "monotime.h"
#include "repl.h"
#include "repl_replica.h"
#include "writepause.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t role_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t fo_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    int state;      /* enum repl_failover_state */
    char host[256]; /* the target; "" until chosen (no TO) */
    int port;
    long long end_ms; /* TIMEOUT's deadline; 0: none */
    bool force;
    unsigned gen;      /* bumped by every FAILOVER: an older drain is ignored */
    bool drained;      /* no write of before the pause still runs */
    bool psync_failed; /* in progress: the target refused, or the link failed */
} F;

/* Deadlines are monotonic: a clock step does not fire or hold a TIMEOUT. */
static long long now_ms(void) { return (long long)(monotime_us() / 1000); }

void repl_failover_role_lock(void) { pthread_mutex_lock(&role_lock); }
void repl_failover_role_unlock(void) { pthread_mutex_unlock(&role_lock); }

int repl_failover_state(void) {
    pthread_mutex_lock(&fo_lock);
    int s = F.state;
    pthread_mutex_unlock(&fo_lock);
    return s;
}

const char *repl_failover_state_name(void) {
    switch (repl_failover_state()) {
    case FO_WAIT_FOR_SYNC: return "waiting-for-sync";
    case FO_IN_PROGRESS: return "failover-in-progress";
    default: return "no-failover";
    }
}

/* Under fo_lock: back to no failover. Returns the state it left; the
 * caller then, without the lock, promotes this server again when that was
 * in progress, and ends the pause (finish). */
static int clear_locked(void) {
    int was = F.state;
    F.state = FO_NONE;
    F.host[0] = '\0';
    F.port = 0;
    F.end_ms = 0;
    F.force = false;
    F.drained = false;
    F.psync_failed = false;
    return was;
}

static void finish(int was, bool aborted) {
    if (was == FO_NONE) return;
    if (aborted && was == FO_IN_PROGRESS) repl_replica_promote();
    writepause_end();
}

static void abort_failover(const char *why) {
    pthread_mutex_lock(&fo_lock);
    if (F.state != FO_NONE) {
        if (F.host[0])
            log_notice("FAILOVER to %s:%d aborted: %s", F.host, F.port, why);
        else
            log_notice("FAILOVER to any replica aborted: %s", why);
    }
    int was = clear_locked();
    pthread_mutex_unlock(&fo_lock);
    finish(was, true);
}

static void on_drained(void *arg) {
    pthread_mutex_lock(&fo_lock);
    bool mine = F.state == FO_WAIT_FOR_SYNC && F.gen == (unsigned)(uintptr_t)arg;
    if (mine) F.drained = true;
    pthread_mutex_unlock(&fo_lock);
}

void repl_failover_command(client *c) {
    if (cfg_get(cluster_enabled)) {
        add_reply_error(c, "ERR FAILOVER not allowed in cluster mode. Use CLUSTER FAILOVER command instead.");
        return;
    }
    if (c->argc == 2 && arg_eq(&c->argv[1], "abort")) {
        repl_failover_role_lock();
        bool none = repl_failover_state() == FO_NONE;
        if (!none) abort_failover("Failover manually aborted");
        repl_failover_role_unlock();
        if (none)
            add_reply_error(c, "ERR No failover in progress.");
        else
            add_reply_ok(c);
        return;
    }
    long long timeout = 0, port = 0;
    bool force = false;
    const arg_t *host = NULL;
    for (int j = 1; j < c->argc; j++) {
        if (arg_eq(&c->argv[j], "timeout") && j + 1 < c->argc && timeout == 0) {
            if (!arg_ll_or_reply(c, &c->argv[j + 1], &timeout, NULL)) return;
            if (timeout <= 0) {
                add_reply_error(c, "ERR FAILOVER timeout must be greater than 0");
                return;
            }
            j++;
        } else if (arg_eq(&c->argv[j], "to") && j + 2 < c->argc && !host) {
            if (!arg_ll_or_reply(c, &c->argv[j + 2], &port, NULL)) return;
            host = &c->argv[j + 1];
            j += 2;
        } else if (arg_eq(&c->argv[j], "force") && !force) {
            force = true;
        } else {
            add_reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    repl_failover_role_lock(); /* "not a replica" stays true until we paused */
    pthread_mutex_lock(&fo_lock);
    const char *err = NULL;
    if (F.state != FO_NONE)
        err = "ERR FAILOVER already in progress.";
    else if (repl_is_replica())
        err = "ERR FAILOVER is not valid when server is a replica.";
    else if (repl_master_replica_count() == 0)
        err = "ERR FAILOVER requires connected replicas.";
    else if (force && (!timeout || !host))
        err = "ERR FAILOVER with force option requires both a timeout and target "
              "HOST and IP.";
    char target[sizeof F.host] = "";
    if (!err && host) {
        if (host->len >= sizeof target) {
            err = "ERR FAILOVER target HOST and PORT is not a replica.";
        } else {
            memcpy(target, host->ptr, host->len);
            target[host->len] = '\0';
            int st = repl_master_replica_online(target, (int)port, NULL);
            if (st < 0)
                err = "ERR FAILOVER target HOST and PORT is not a replica.";
            else if (st == 0)
                err = "ERR FAILOVER target replica is not online.";
        }
    }
    if (err) {
        pthread_mutex_unlock(&fo_lock);
        repl_failover_role_unlock();
        add_reply_error(c, err);
        return;
    }
    if (host)
        log_notice("FAILOVER requested to %s:%lld.", target, port);
    else
        log_notice("FAILOVER requested to any replica.");
    memcpy(F.host, target, sizeof F.host);
    F.port = host ? (int)port : 0;
    F.end_ms = timeout ? now_ms() + timeout : 0;
    F.force = force;
    F.drained = false;
    F.psync_failed = false;
    F.state = FO_WAIT_FOR_SYNC;
    unsigned gen = ++F.gen;
    writepause_begin();
    pthread_mutex_unlock(&fo_lock);
    repl_failover_role_unlock();
    writepause_drain(on_drained, (void *)(uintptr_t)gen);
    add_reply_ok(c);
}

static void cron_locked(void) {
    pthread_mutex_lock(&fo_lock);
    if (F.state == FO_IN_PROGRESS && F.psync_failed) {
        pthread_mutex_unlock(&fo_lock);
        abort_failover("Failover target rejected psync request");
        return;
    }
    if (F.state != FO_WAIT_FOR_SYNC) {
        pthread_mutex_unlock(&fo_lock);
        return;
    }
    long long now = now_ms();
    char host[sizeof F.host];
    int port = 0;
    bool go = false;
    if (F.end_ms && F.end_ms <= now) {
        if (!F.force) {
            pthread_mutex_unlock(&fo_lock);
            abort_failover("Replica never caught up before timeout");
            return;
        }
        log_notice("FAILOVER to %s:%d time out exceeded, failing over.", F.host, F.port);
        go = true;
    } else if (F.drained) {
        long long offset = repl_get_ids().offset;
        if (F.host[0]) {
            long long ack = -1;
            go = repl_master_replica_online(F.host, F.port, &ack) > 0 && ack == offset;
        } else {
            go = repl_master_replica_caught_up(offset, F.host, sizeof F.host, &F.port);
        }
        if (go) log_notice("Failover target %s:%d is synced, failing over.", F.host, F.port);
    }
    if (go) {
        F.state = FO_IN_PROGRESS;
        memcpy(host, F.host, sizeof host);
        port = F.port;
    }
    pthread_mutex_unlock(&fo_lock);
    /* The handshake this starts sends PSYNC ... FAILOVER (the state is
     * already in progress when it reads it). */
    if (go) repl_replica_failover_to(host, port);
}

void repl_failover_cron(void) {
    repl_failover_role_lock(); /* an ABORT cannot come between the decision and the change */
    cron_locked();
    repl_failover_role_unlock();
}

bool repl_failover_in_progress(void) { return repl_failover_state() == FO_IN_PROGRESS; }

void repl_failover_psync_reply(bool accepted) {
    pthread_mutex_lock(&fo_lock);
    if (F.state != FO_IN_PROGRESS) {
        pthread_mutex_unlock(&fo_lock);
        return;
    }
    if (!accepted) {
        /* The cron aborts (promoting this server again closes the very
         * link whose failure is being handled). */
        F.psync_failed = true;
        pthread_mutex_unlock(&fo_lock);
        return;
    }
    log_notice("FAILOVER to %s:%d succeeded: this server is now its replica.", F.host, F.port);
    int was = clear_locked();
    pthread_mutex_unlock(&fo_lock);
    finish(was, false);
}
