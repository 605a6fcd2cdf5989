/*
 * repl_buffer.c - the replication stream of this server: replid / replid2,
 * master_repl_offset, and one shared buffer that is both the backlog and
 * every replica's output (Redis 7.0's shared replication buffer).
 *
 * The stream is a list of fixed-size blocks. Bytes are numbered from 1 as
 * in Redis: master_repl_offset is the number of the last byte appended, and
 * a block knows the number of its first byte. Appending (the funnel's feed,
 * from any worker under the written slots' locks; PINGs and GETACKs from
 * the cron and WAIT) copies into the tail block under `buf_lock`, a leaf
 * mutex held for in-memory work only. Once appended, a byte never changes,
 * so readers copy outside the lock.
 *
 * Readers are cursors (one per replica, owned by that replica's worker).
 * The head blocks are freed when the bytes after them still make up
 * repl-backlog-size and no active cursor has anything left in them, so a
 * slow replica keeps exactly the blocks it has not sent yet; its worker
 * disconnects it past `client-output-buffer-limit replica` (repl_master.c).
 *
 * A trimmed block goes to a short list of spares that the next append
 * takes before it allocates: the stream advances a block every ~100 SETs,
 * and allocating there (under the slot locks) and freeing on another
 * worker cost the master more than the copy itself.
 *
 * Everything in the static state `st` is guarded by buf_lock; the fields a
 * cursor's owner reads outside it are written under it by that owner only.
 */
#include "repl.h"

#include "config.h"
#include "db.h"
#include "log.h"
#include "mem.h"
#include "process.h"
#include "propagate.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define BLOCK_SIZE (16 * 1024)
#define SPARE_BLOCKS 4

typedef struct rblock {
    struct rblock *next;  /* set under buf_lock before the bytes count */
    long long start;      /* number of data[0] */
    size_t used;          /* bytes of data in use (under buf_lock) */
    char data[BLOCK_SIZE];
} rblock;

struct repl_cursor {
    struct repl_cursor *prev, *next; /* active cursors (buf_lock) */
    bool active;
    long long pos;        /* next byte to send (written by the owner under buf_lock) */
    rblock *blk;          /* block holding pos, or NULL when not known yet */
    bool dead;            /* the history it read was replaced: reads nothing more */
};

static pthread_mutex_t buf_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char replid[REPL_ID_LEN + 1];
    char replid2[REPL_ID_LEN + 1];
    long long offset;          /* master_repl_offset */
    long long second_offset;   /* second_repl_offset */
    bool backlog;              /* a backlog exists */
    long long first;           /* number of the backlog's first byte */
    rblock *head, *tail;
    size_t nblocks;
    int stream_db;             /* database of the stream's last SELECT; -1: none */
    int master_db;             /* replica: the master client's db after the last forwarded byte */
    repl_cursor *cursors;
    int readers;               /* repl_cursor_read copies in progress (outside the lock) */
    rblock *grave;             /* blocks dropped by a reset while readers > 0 */
    rblock *spare;             /* trimmed blocks kept for reuse (at most SPARE_BLOCKS) */
    size_t nspare;
} st = {.second_offset = -1, .stream_db = -1};
static _Atomic bool ids_ready;

static void do_free_blocks(rblock *b);

static void random_replid(char out[REPL_ID_LEN + 1]) {
    process_random_hex(out, REPL_ID_LEN);
    out[REPL_ID_LEN] = '\0';
}

/* buf_lock held. */
static void do_init_ids(void) {
    if (atomic_load_explicit(&ids_ready, memory_order_relaxed)) return;
    random_replid(st.replid);
    memset(st.replid2, '0', REPL_ID_LEN);
    st.replid2[REPL_ID_LEN] = '\0';
    atomic_store_explicit(&ids_ready, true, memory_order_relaxed);
}

repl_ids repl_get_ids(void) {
    repl_ids r;
    pthread_mutex_lock(&buf_lock);
    do_init_ids();
    memcpy(r.replid, st.replid, sizeof r.replid);
    memcpy(r.replid2, st.replid2, sizeof r.replid2);
    r.offset = st.offset;
    r.second_offset = st.second_offset;
    r.backlog_active = st.backlog;
    r.backlog_first = st.backlog ? st.first : 0;
    r.backlog_histlen = st.backlog ? st.offset - st.first + 1 : 0;
    r.backlog_size = cfg_get(repl_backlog_size);
    pthread_mutex_unlock(&buf_lock);
    return r;
}

void repl_memory(size_t *total, size_t *backlog) {
    pthread_mutex_lock(&buf_lock);
    *total = (st.nblocks + st.nspare) * sizeof(rblock);
    long long hist = st.backlog ? st.offset - st.first + 1 : 0;
    *backlog = hist < (long long)*total ? (size_t)hist : *total;
    pthread_mutex_unlock(&buf_lock);
}

size_t repl_buffer_memory(void) {
    pthread_mutex_lock(&buf_lock);
    size_t n = (st.nblocks + st.nspare) * sizeof(rblock);
    pthread_mutex_unlock(&buf_lock);
    return n;
}

/* ---- appending (buf_lock held) ---- */

/* Free head blocks nobody needs: the rest still holds repl-backlog-size
 * bytes, and every active cursor is past them. The tail is never freed. */
static void do_trim(void) {
    long long keep = cfg_get(repl_backlog_size);
    while (st.head && st.head != st.tail) {
        rblock *b = st.head;
        long long b_end = b->start + (long long)b->used; /* one past its last byte */
        if (st.offset + 1 - b_end < keep) return;
        for (repl_cursor *c = st.cursors; c; c = c->next) {
            long long pin = c->blk ? c->blk->start : c->pos;
            if (b_end > pin) return;
        }
        st.head = b->next;
        st.first = st.head->start;
        st.nblocks--;
        if (st.nspare < SPARE_BLOCKS) {
            b->next = st.spare;
            st.spare = b;
            st.nspare++;
        } else {
            mem_free(b);
        }
    }
}

static void do_append(const char *p, size_t len) {
    while (len) {
        if (!st.tail || st.tail->used == BLOCK_SIZE) {
            rblock *b = st.spare;
            if (b) {
                st.spare = b->next;
                st.nspare--;
            } else {
                b = mem_alloc(sizeof *b);
            }
            b->next = NULL;
            b->start = st.offset + 1;
            b->used = 0;
            if (st.tail)
                st.tail->next = b;
            else
                st.head = b;
            st.tail = b;
            st.nblocks++;
        }
        size_t n = BLOCK_SIZE - st.tail->used;
        if (n > len) n = len;
        memcpy(st.tail->data + st.tail->used, p, n);
        st.tail->used += n;
        st.offset += (long long)n;
        p += n;
        len -= n;
    }
}

static void do_append_select(int db) {
    char num[16], cmd[64];
    int nl = snprintf(num, sizeof num, "%d", db);
    int n = snprintf(cmd, sizeof cmd, "*2\r\n$6\r\nSELECT\r\n$%d\r\n%s\r\n", nl, num);
    do_append(cmd, (size_t)n);
    st.stream_db = db;
}

/* The funnel's feed: called under the writer's slot locks, so no syscall
 * here; the funnel calls repl_master_wake (propagate_wake) once they are
 * released. */
long long repl_feed_units(const repl_cmd *cmds, int n) {
    pthread_mutex_lock(&buf_lock);
    long long end = 0;
    if (st.backlog) {
        for (int i = 0; i < n; i++) {
            if (cmds[i].db != st.stream_db) do_append_select(cmds[i].db);
            do_append(cmds[i].resp, cmds[i].len);
        }
        do_trim();
        end = st.offset;
    }
    pthread_mutex_unlock(&buf_lock);
    return end;
}

void repl_feed_raw(const char *p, size_t len) {
    pthread_mutex_lock(&buf_lock);
    bool fed = st.backlog;
    if (fed) {
        do_append(p, len);
        do_trim();
    }
    pthread_mutex_unlock(&buf_lock);
    if (fed) repl_master_wake();
}

void repl_feed_from_master(const char *p, size_t len, int db) {
    pthread_mutex_lock(&buf_lock);
    bool fed = st.backlog;
    st.master_db = db; /* with the offset it belongs to */
    if (fed) {
        do_append(p, len);
        do_trim();
    }
    pthread_mutex_unlock(&buf_lock);
    if (fed) repl_master_wake();
}

int repl_master_stream_db(void) {
    pthread_mutex_lock(&buf_lock);
    int db = st.master_db;
    pthread_mutex_unlock(&buf_lock);
    return db;
}

/* ---- identity ---- */

void repl_backlog_create(void) {
    pthread_mutex_lock(&buf_lock);
    do_init_ids();
    if (!st.backlog) {
        st.backlog = true;
        st.first = st.offset + 1;
        st.stream_db = -1;
    }
    pthread_mutex_unlock(&buf_lock);
    repl_update_feeding();
}

static void do_reset_blocks(void);

void repl_backlog_free(void) {
    pthread_mutex_lock(&buf_lock);
    if (st.backlog) {
        do_reset_blocks();
        do_free_blocks(st.spare);
        st.spare = NULL;
        st.nspare = 0;
        st.backlog = false;
        /* A later replica must not continue this history partially: a new
         * id, no previous one (Redis's changeReplicationId +
         * clearReplicationId2). The offset goes on. */
        random_replid(st.replid);
        memset(st.replid2, '0', REPL_ID_LEN);
        st.second_offset = -1;
    }
    pthread_mutex_unlock(&buf_lock);
    repl_update_feeding();
}

void repl_update_feeding(void) {
    pthread_mutex_lock(&buf_lock);
    bool on = st.backlog && !repl_is_replica();
    pthread_mutex_unlock(&buf_lock);
    atomic_store_explicit(&propagate_on, on, memory_order_relaxed);
}

static void do_free_blocks(rblock *b) {
    while (b) {
        rblock *n = b->next;
        mem_free(b);
        b = n;
    }
}

/* buf_lock held: drop every block; the backlog restarts empty after
 * st.offset. Every active cursor dies (its replica followed the old
 * history and is being dropped): it reads nothing more, not even bytes of
 * the new history at the old one's offsets. A reader copying outside the
 * lock right now may still hold a block: those blocks wait in the
 * graveyard until the last reader is out. */
static void do_reset_blocks(void) {
    if (st.readers > 0 && st.head) {
        st.tail->next = st.grave;
        st.grave = st.head;
    } else {
        do_free_blocks(st.head);
    }
    st.head = st.tail = NULL;
    st.nblocks = 0;
    st.first = st.offset + 1;
    for (repl_cursor *c = st.cursors; c;) {
        repl_cursor *n = c->next;
        c->dead = true;
        c->active = false;
        c->blk = NULL;
        c->prev = c->next = NULL;
        c = n;
    }
    st.cursors = NULL;
}

void repl_adopt_master(const char *replid, long long offset, int stream_db) {
    pthread_mutex_lock(&buf_lock);
    do_init_ids();
    snprintf(st.replid, sizeof st.replid, "%.*s", REPL_ID_LEN, replid);
    memset(st.replid2, '0', REPL_ID_LEN);
    st.second_offset = -1;
    st.offset = offset;
    do_reset_blocks();
    st.stream_db = -1;
    st.master_db = stream_db < 0 ? 0 : stream_db;
    pthread_mutex_unlock(&buf_lock);
}

/* replid2 = replid, second_repl_offset = offset + 1, replid = new_replid
 * (NULL: a fresh random one). Backlog and offset are kept. */
static void shift_replid_to(const char *new_replid) {
    pthread_mutex_lock(&buf_lock);
    do_init_ids();
    memcpy(st.replid2, st.replid, sizeof st.replid2);
    st.second_offset = st.offset + 1;
    if (new_replid) {
        memcpy(st.replid, new_replid, REPL_ID_LEN);
        st.replid[REPL_ID_LEN] = '\0';
    } else {
        random_replid(st.replid);
    }
    pthread_mutex_unlock(&buf_lock);
}

void repl_shift_replid(void) { shift_replid_to(NULL); }
void repl_switch_replid(const char *new_replid) { shift_replid_to(new_replid); }

/* A fresh history (the first replica of a master without backlog, as
 * Redis's changeReplicationId + clearReplicationId2). */
void repl_new_history(void) {
    pthread_mutex_lock(&buf_lock);
    do_init_ids();
    random_replid(st.replid);
    memset(st.replid2, '0', REPL_ID_LEN);
    st.second_offset = -1;
    pthread_mutex_unlock(&buf_lock);
}

void repl_forget_stream_db(void) {
    pthread_mutex_lock(&buf_lock);
    st.stream_db = -1;
    st.master_db = 0; /* a later +CONTINUE starts in db 0, as Redis's fresh master client */
    pthread_mutex_unlock(&buf_lock);
}

/* ---- cursors ---- */

repl_cursor *repl_cursor_new(void) { return mem_calloc(1, sizeof(repl_cursor)); }

/* buf_lock held. */
static void do_activate(repl_cursor *cur, long long pos) {
    cur->pos = pos;
    cur->blk = NULL;
    for (rblock *b = st.head; b; b = b->next)
        if (pos >= b->start && pos < b->start + (long long)BLOCK_SIZE) {
            cur->blk = b;
            break;
        }
    if (!cur->active) {
        cur->active = true;
        cur->prev = NULL;
        cur->next = st.cursors;
        if (st.cursors) st.cursors->prev = cur;
        st.cursors = cur;
    }
}

bool repl_cursor_start(repl_cursor *cur, long long pos) {
    pthread_mutex_lock(&buf_lock);
    bool ok = st.backlog && pos >= st.first && pos <= st.offset + 1;
    if (ok) do_activate(cur, pos);
    pthread_mutex_unlock(&buf_lock);
    return ok;
}

long long repl_cursor_start_at_end(repl_cursor *cur, int *stream_db) {
    pthread_mutex_lock(&buf_lock);
    long long off = st.offset;
    do_activate(cur, off + 1);
    /* A replica forwards its master's bytes verbatim and cannot insert a
     * SELECT: its replica must start in the database the master's stream
     * is in at this offset. A master emits SELECT first (below). */
    *stream_db = repl_is_replica() ? st.master_db : -1;
    /* The replica loads the snapshot with no database selected for the
     * stream: the next unit starts with SELECT (as Redis's slaveseldb = -1). */
    st.stream_db = -1;
    pthread_mutex_unlock(&buf_lock);
    return off;
}

size_t repl_cursor_read(repl_cursor *cur, size_t max, void (*emit)(void *ctx, const char *p, size_t n), void *ctx) {
    pthread_mutex_lock(&buf_lock);
    if (!cur->active || cur->dead || cur->pos > st.offset) {
        pthread_mutex_unlock(&buf_lock);
        return 0;
    }
    if (!cur->blk) do_activate(cur, cur->pos);
    rblock *b = cur->blk;
    long long pos = cur->pos, end = st.offset; /* bytes pos..end are readable */
    if (b) st.readers++;
    pthread_mutex_unlock(&buf_lock);
    if (!b) return 0;

    /* Outside the lock: bytes up to `end` never change, and no block from
     * cur->blk on is freed while the cursor pins it. */
    size_t copied = 0;
    while (copied < max && pos <= end) {
        if (pos >= b->start + (long long)BLOCK_SIZE) b = b->next; /* pos <= end: it exists */
        size_t off = (size_t)(pos - b->start);
        long long avail_ll = end - pos + 1;
        size_t n = BLOCK_SIZE - off;
        if ((long long)n > avail_ll) n = (size_t)avail_ll;
        if (n > max - copied) n = max - copied;
        emit(ctx, b->data + off, n);
        copied += n;
        pos += (long long)n;
    }
    pthread_mutex_lock(&buf_lock);
    if (--st.readers == 0 && st.grave) {
        do_free_blocks(st.grave);
        st.grave = NULL;
    }
    if (!cur->dead) { /* a reset meanwhile leaves it dead: b may be gone */
        cur->pos = pos;
        cur->blk = b;
        if (pos >= b->start + (long long)BLOCK_SIZE && b->next) cur->blk = b->next;
        do_trim();
    }
    pthread_mutex_unlock(&buf_lock);
    return copied;
}

bool repl_cursor_dead(const repl_cursor *cur) {
    pthread_mutex_lock(&buf_lock);
    bool dead = cur->dead;
    pthread_mutex_unlock(&buf_lock);
    return dead;
}

long long repl_cursor_lag(const repl_cursor *cur) {
    pthread_mutex_lock(&buf_lock);
    long long lag = cur->active && !cur->dead ? st.offset + 1 - cur->pos : 0;
    pthread_mutex_unlock(&buf_lock);
    return lag;
}

void repl_cursor_free(repl_cursor *cur) {
    if (!cur) return;
    pthread_mutex_lock(&buf_lock);
    if (cur->active) {
        if (cur->prev)
            cur->prev->next = cur->next;
        else
            st.cursors = cur->next;
        if (cur->next) cur->next->prev = cur->prev;
        do_trim();
    }
    pthread_mutex_unlock(&buf_lock);
    mem_free(cur);
}
