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
 * mutex held for in-memory work only: every write of every worker
 * takes it, so an append is a compare and a copy, nothing else. Once
 * appended, a byte never changes, so readers use it outside the lock.
 *
 * Readers are cursors (one per replica, owned by that replica's worker).
 * A replica's socket is written straight from the blocks
 * (repl_cursor_peek / repl_cursor_release: no copy into its output). The
 * head blocks are dropped when the bytes after them still make up
 * repl-backlog-size and no active cursor has anything left in them (checked
 * when an append starts a block and after a cursor moves), so a slow
 * replica keeps exactly the blocks it has not sent yet; its worker
 * disconnects it past `client-output-buffer-limit replica` (repl_master.c).
 *
 * Dropped blocks become spares, which appends take; appends never
 * allocate (unless the spares ran out within one iteration) nor free: a
 * worker tops the spares up after it fed, outside every lock, faulting
 * their pages in there (repl_buffer_balance), and the cron frees the
 * excess gradually (repl_buffer_cron), so the blocks of a replica's
 * passing lag are reused rather than returned and faulted in again.
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
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define BLOCK_SIZE (16 * 1024)
#define SPARE_MIN 8   /* fewer spares: topped up (outside the lock) */
#define SPARE_MAX 32  /* more: half the excess is freed per cron tick */

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

/* The lock and what every append touches share one cache line (64
 * bytes: the mutex is 40): the workers take turns on it for every write. */
static struct {
    pthread_mutex_t lock;      /* buf_lock */
    bool backlog;              /* a backlog exists */
    int stream_db;             /* database of the stream's last SELECT; -1: none */
    long long offset;          /* master_repl_offset */
    rblock *tail;
    /* touched when an append starts a block */
    rblock *head;
    repl_cursor *cursors;
    rblock *spare;             /* free blocks for the next appends */
    _Atomic size_t nspare;     /* written under the lock; read without it by repl_buffer_balance */
    /* colder */
    long long first;           /* number of the backlog's first byte */
    size_t nblocks;
    int readers;               /* peeks of this generation not released yet (read outside the lock) */
    int readers_old;           /* peeks of earlier generations not released yet */
    unsigned gen;              /* generation: one more per reset that left peeks behind */
    rblock *grave;             /* blocks of earlier generations, freed when readers_old is 0 */
    int master_db;             /* replica: the master client's db after the last forwarded byte */
    char replid[REPL_ID_LEN + 1];
    char replid2[REPL_ID_LEN + 1];
    long long second_offset;   /* second_repl_offset */
} st __attribute__((aligned(64))) = {
    .lock = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP, .second_offset = -1, .stream_db = -1};

_Static_assert(offsetof(__typeof__(st), tail) + sizeof st.tail <= 64, "an append's state fits one cache line");

/* buf_lock: a leaf lock held for short in-memory work (an append is a copy
 * of a few dozen bytes). Adaptive: a waiter spins a little before it
 * sleeps, since the holder is about to let go; a plain mutex made every
 * collision of two workers' appends two futex calls (~55k per 2M SETs). */
static inline void buf_lock(void) { pthread_mutex_lock(&st.lock); }
static inline void buf_unlock(void) { pthread_mutex_unlock(&st.lock); }
static _Atomic bool ids_ready;

static void free_blocks(rblock *b);
static void do_push_spare(rblock *b);

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
    buf_lock();
    do_init_ids();
    memcpy(r.replid, st.replid, sizeof r.replid);
    memcpy(r.replid2, st.replid2, sizeof r.replid2);
    r.offset = st.offset;
    r.second_offset = st.second_offset;
    r.backlog_active = st.backlog;
    r.backlog_first = st.backlog ? st.first : 0;
    r.backlog_histlen = st.backlog ? st.offset - st.first + 1 : 0;
    r.backlog_size = cfg_get(repl_backlog_size);
    buf_unlock();
    return r;
}

void repl_memory(size_t *total, size_t *backlog) {
    buf_lock();
    *total = (st.nblocks + atomic_load_explicit(&st.nspare, memory_order_relaxed)) * sizeof(rblock);
    long long hist = st.backlog ? st.offset - st.first + 1 : 0;
    *backlog = hist < (long long)*total ? (size_t)hist : *total;
    buf_unlock();
}

size_t repl_buffer_memory(void) {
    buf_lock();
    size_t n = (st.nblocks + atomic_load_explicit(&st.nspare, memory_order_relaxed)) * sizeof(rblock);
    buf_unlock();
    return n;
}

/* ---- appending (buf_lock held) ---- */

static void do_push_spare(rblock *b) {
    b->next = st.spare;
    st.spare = b;
    atomic_store_explicit(&st.nspare, atomic_load_explicit(&st.nspare, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

static rblock *do_pop_spare(void) {
    rblock *b = st.spare;
    if (b) {
        st.spare = b->next;
        atomic_store_explicit(&st.nspare, atomic_load_explicit(&st.nspare, memory_order_relaxed) - 1,
                              memory_order_relaxed);
    }
    return b;
}

/* Drop head blocks nobody needs: the rest still holds repl-backlog-size
 * bytes, and every active cursor is past them. The tail is never dropped.
 * They become spares (spares_balance frees the excess, outside the lock). */
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
        do_push_spare(b);
    }
}

static void do_append(const char *p, size_t len) {
    while (len) {
        if (!st.tail || st.tail->used == BLOCK_SIZE) {
            rblock *b = do_pop_spare();
            if (!b) b = mem_alloc(sizeof *b); /* spares_balance did not keep up */
            b->next = NULL;
            b->start = st.offset + 1;
            b->used = 0;
            if (st.tail)
                st.tail->next = b;
            else
                st.head = b;
            st.tail = b;
            st.nblocks++;
            /* Head blocks go at block boundaries (and after a cursor's
             * read): an append otherwise touches no cursor. */
            do_trim();
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

/* Fault the pages of fresh blocks in now, outside the locks: one
 * madvise for the batch when the allocator placed it in one stretch (it
 * usually does), else a write per page. [lo, hi) spans the blocks. */
static void prefault(uintptr_t lo, uintptr_t hi, size_t bytes, rblock *blocks) {
    const uintptr_t page = 4096;
    lo &= ~(page - 1);
    if (hi - lo <= 2 * bytes && madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE) == 0) return;
    for (rblock *b = blocks; b; b = b->next)
        for (size_t o = 0; o < BLOCK_SIZE; o += page) ((volatile char *)b->data)[o] = 0;
}

/* No lock held (neither buf_lock nor a slot lock): at least SPARE_MIN
 * spares, so that appends, which run under the writers' slot locks and
 * buf_lock, do not allocate (nor take the page faults of a fresh block:
 * it is touched here first). */
void repl_buffer_balance(void) {
    size_t n = atomic_load_explicit(&st.nspare, memory_order_relaxed);
    if (n < SPARE_MIN) {
        rblock *fresh = NULL;
        uintptr_t lo = UINTPTR_MAX, hi = 0;
        size_t count = (SPARE_MIN + SPARE_MAX) / 2 - n;
        for (size_t i = 0; i < count; i++) {
            rblock *b = mem_alloc(sizeof *b);
            b->next = fresh;
            fresh = b;
            if ((uintptr_t)b < lo) lo = (uintptr_t)b;
            if ((uintptr_t)(b + 1) > hi) hi = (uintptr_t)(b + 1);
        }
        prefault(lo, hi, count * sizeof(rblock), fresh);
        buf_lock();
        while (st.backlog && fresh && atomic_load_explicit(&st.nspare, memory_order_relaxed) < SPARE_MAX) {
            rblock *b = fresh;
            fresh = b->next;
            do_push_spare(b);
        }
        buf_unlock();
        free_blocks(fresh); /* the backlog is gone, or someone else filled up */
    }
}

/* Blocks a lagging replica held come back as spares when it catches up;
 * they go back to the allocator gradually (half the excess over SPARE_MAX
 * per tick, ~1 s for any amount), so that a lag that comes back soon
 * reuses them instead of faulting fresh pages in. */
void repl_buffer_cron(void) {
    size_t n = atomic_load_explicit(&st.nspare, memory_order_relaxed);
    if (n <= SPARE_MAX) return;
    size_t drop = (n - SPARE_MAX + 1) / 2;
    rblock *excess = NULL;
    buf_lock();
    for (; drop > 0 && st.spare; drop--) {
        rblock *b = do_pop_spare();
        b->next = excess;
        excess = b;
    }
    buf_unlock();
    free_blocks(excess);
}

/* The funnel's feed: called under the writer's slot locks, so no syscall
 * here; the worker calls repl_master_wake (propagate_wake) once per loop
 * iteration, with no lock held. */
long long repl_feed_units(const repl_cmd *cmds, int n) {
    buf_lock();
    long long end = 0;
    if (st.backlog) {
        for (int i = 0; i < n; i++) {
            if (cmds[i].db != st.stream_db) do_append_select(cmds[i].db);
            do_append(cmds[i].resp, cmds[i].len);
        }
        end = st.offset;
    }
    buf_unlock();
    return end;
}

void repl_feed_raw(const char *p, size_t len) {
    buf_lock();
    bool fed = st.backlog;
    if (fed) do_append(p, len);
    buf_unlock();
    if (fed) propagate_note_fed(); /* woken at the worker's end of iteration */
}

void repl_feed_from_master(const char *p, size_t len, int db) {
    buf_lock();
    bool fed = st.backlog;
    st.master_db = db; /* with the offset it belongs to */
    if (fed) do_append(p, len);
    buf_unlock();
    if (fed) propagate_note_fed(); /* woken at the worker's end of iteration */
}

int repl_master_stream_db(void) {
    buf_lock();
    int db = st.master_db;
    buf_unlock();
    return db;
}

/* ---- identity ---- */

void repl_backlog_create(void) {
    buf_lock();
    do_init_ids();
    if (!st.backlog) {
        st.backlog = true;
        st.first = st.offset + 1;
        st.stream_db = -1;
    }
    buf_unlock();
    repl_update_feeding();
}

static rblock *do_reset_blocks(void);

void repl_backlog_free(void) {
    rblock *dropped = NULL, *spares = NULL;
    buf_lock();
    if (st.backlog) {
        dropped = do_reset_blocks();
        spares = st.spare;
        st.spare = NULL;
        atomic_store_explicit(&st.nspare, 0, memory_order_relaxed);
        st.backlog = false;
        /* A later replica must not continue this history partially: a new
         * id, no previous one (Redis's changeReplicationId +
         * clearReplicationId2). The offset goes on. */
        random_replid(st.replid);
        memset(st.replid2, '0', REPL_ID_LEN);
        st.second_offset = -1;
    }
    buf_unlock();
    free_blocks(dropped);
    free_blocks(spares);
    repl_update_feeding();
}

void repl_update_feeding(void) {
    buf_lock();
    bool on = st.backlog && !repl_is_replica();
    buf_unlock();
    atomic_store_explicit(&propagate_on, on, memory_order_relaxed);
}

static void free_blocks(rblock *b) {
    while (b) {
        rblock *n = b->next;
        mem_free(b);
        b = n;
    }
}

/* buf_lock held: drop every block; the backlog restarts empty after
 * st.offset. Every active cursor dies (its replica followed the old
 * history and is being dropped): it reads nothing more, not even bytes of
 * the new history at the old one's offsets. A write to a replica may still
 * hold spans of them (readers > 0): they wait in the graveyard until the
 * last is released. Returns the blocks to free once the lock is let go. */
static rblock *do_reset_blocks(void) {
    rblock *dropped = NULL;
    if (st.readers > 0 && st.head) {
        st.tail->next = st.grave;
        st.grave = st.head;
        /* Their peeks now belong to the past: the graveyard waits for
         * them only, not for the new history's readers. */
        st.readers_old += st.readers;
        st.readers = 0;
        st.gen++;
    } else {
        dropped = st.head;
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
    return dropped;
}

void repl_adopt_master(const char *replid, long long offset, int stream_db) {
    buf_lock();
    do_init_ids();
    snprintf(st.replid, sizeof st.replid, "%.*s", REPL_ID_LEN, replid);
    memset(st.replid2, '0', REPL_ID_LEN);
    st.second_offset = -1;
    st.offset = offset;
    rblock *dropped = do_reset_blocks();
    st.stream_db = -1;
    st.master_db = stream_db < 0 ? 0 : stream_db;
    buf_unlock();
    free_blocks(dropped);
}

/* replid2 = replid, second_repl_offset = offset + 1, replid = new_replid
 * (NULL: a fresh random one). Backlog and offset are kept. */
static void shift_replid_to(const char *new_replid) {
    buf_lock();
    do_init_ids();
    memcpy(st.replid2, st.replid, sizeof st.replid2);
    st.second_offset = st.offset + 1;
    if (new_replid) {
        memcpy(st.replid, new_replid, REPL_ID_LEN);
        st.replid[REPL_ID_LEN] = '\0';
    } else {
        random_replid(st.replid);
    }
    buf_unlock();
}

void repl_shift_replid(void) { shift_replid_to(NULL); }
void repl_switch_replid(const char *new_replid) { shift_replid_to(new_replid); }

/* A fresh history (the first replica of a master without backlog, as
 * Redis's changeReplicationId + clearReplicationId2). */
void repl_new_history(void) {
    buf_lock();
    do_init_ids();
    random_replid(st.replid);
    memset(st.replid2, '0', REPL_ID_LEN);
    st.second_offset = -1;
    buf_unlock();
}

void repl_forget_stream_db(void) {
    buf_lock();
    st.stream_db = -1;
    st.master_db = 0; /* a later +CONTINUE starts in db 0, as Redis's fresh master client */
    buf_unlock();
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
    buf_lock();
    bool ok = st.backlog && pos >= st.first && pos <= st.offset + 1;
    if (ok) do_activate(cur, pos);
    buf_unlock();
    return ok;
}

long long repl_cursor_start_at_end(repl_cursor *cur, int *stream_db) {
    buf_lock();
    long long off = st.offset;
    do_activate(cur, off + 1);
    /* A replica forwards its master's bytes verbatim and cannot insert a
     * SELECT: its replica must start in the database the master's stream
     * is in at this offset. A master emits SELECT first (below). */
    *stream_db = repl_is_replica() ? st.master_db : -1;
    /* The replica loads the snapshot with no database selected for the
     * stream: the next unit starts with SELECT (as Redis's slaveseldb = -1). */
    st.stream_db = -1;
    buf_unlock();
    return off;
}

int repl_cursor_peek(repl_cursor *cur, size_t max, repl_span *spans, int nspans, unsigned *gen) {
    buf_lock();
    if (!cur->active || cur->dead || cur->pos > st.offset) {
        buf_unlock();
        return 0;
    }
    if (!cur->blk) do_activate(cur, cur->pos);
    rblock *b = cur->blk;
    int n = 0;
    if (b) {
        long long pos = cur->pos, end = st.offset; /* bytes pos..end are readable */
        size_t total = 0;
        while (n < nspans && total < max && pos <= end) {
            if (pos >= b->start + (long long)BLOCK_SIZE) b = b->next; /* pos <= end: it exists */
            size_t off = (size_t)(pos - b->start);
            size_t k = BLOCK_SIZE - off;
            if ((long long)k > end - pos + 1) k = (size_t)(end - pos + 1);
            if (k > max - total) k = max - total;
            spans[n++] = (repl_span){b->data + off, k};
            total += k;
            pos += (long long)k;
        }
        /* The spans are read outside the lock: bytes up to `end` never
         * change, the cursor pins its blocks against trimming, and a reset
         * meanwhile keeps them in the graveyard while readers > 0. */
        st.readers++;
        *gen = st.gen;
    }
    buf_unlock();
    return n;
}

void repl_cursor_release(repl_cursor *cur, size_t sent, unsigned gen) {
    rblock *grave = NULL;
    buf_lock();
    if (gen == st.gen) {
        st.readers--;
    } else if (--st.readers_old == 0) {
        grave = st.grave;
        st.grave = NULL;
    }
    if (cur && !cur->dead && sent > 0) { /* a reset meanwhile leaves it dead: its blocks are gone */
        cur->pos += (long long)sent;
        rblock *b = cur->blk;
        while (cur->pos >= b->start + (long long)BLOCK_SIZE && b->next) b = b->next;
        cur->blk = b;
        do_trim();
    }
    buf_unlock();
    free_blocks(grave);
}

bool repl_cursor_dead(const repl_cursor *cur) {
    buf_lock();
    bool dead = cur->dead;
    buf_unlock();
    return dead;
}

long long repl_cursor_lag(const repl_cursor *cur) {
    buf_lock();
    long long lag = cur->active && !cur->dead ? st.offset + 1 - cur->pos : 0;
    buf_unlock();
    return lag;
}

bool repl_cursors_active(void) {
    buf_lock();
    bool any = st.cursors != NULL;
    buf_unlock();
    return any;
}

void repl_cursor_free(repl_cursor *cur) {
    if (!cur) return;
    buf_lock();
    if (cur->active) {
        if (cur->prev)
            cur->prev->next = cur->next;
        else
            st.cursors = cur->next;
        if (cur->next) cur->next->prev = cur->prev;
        do_trim();
    }
    buf_unlock();
    mem_free(cur);
}
