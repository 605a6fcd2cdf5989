/*
 * propagate.c - the replication stream side of the write funnel (see
 * propagate.h): the per-thread list of ops a command produces, their RESP
 * encoding, and the hand-over of a finished unit to the feed.
 *
 * Thread ownership: everything below except `feed` and `propagate_on` is
 * _Thread_local, used by the worker running the command.
 */
#include "propagate.h"

#include "commands.h"
#include "mem.h"
#include "numparse.h"

#include <string.h>

_Atomic bool propagate_on;
static repl_feed_fn *feed; /* written once before the workers start */
static repl_wake_fn *wake;

void propagate_set_feed(repl_feed_fn *feed_fn, repl_wake_fn *wake_fn) {
    feed = feed_fn;
    wake = wake_fn;
}

typedef struct {
    int db;
    size_t off, len;
} op;

static _Thread_local struct {
    char *buf; /* the ops' RESP bytes, back to back */
    size_t len, cap;
    op *ops;
    int nops, cap_ops;
    int depth;            /* nesting of propagate_call_begin */
    int rewrite;          /* index+1 of the running call's rewrite op, 0: none */
    bool prevent, force;  /* of the running call */
    bool arbitrary;       /* the top-level command touches arbitrary keys */
    int building;         /* arguments still expected by the op being built */
    unsigned long long changes;
    bool fed;             /* fed since the last propagate_wake */
    int own_locks;        /* inside propagate_own_locks_begin/end */
} pt;

static const char multi_resp[] = "*1\r\n$5\r\nMULTI\r\n";
static const char exec_resp[] = "*1\r\n$4\r\nEXEC\r\n";

/* Room for n more bytes in the buffer. */
static void reserve(size_t n) {
    if (pt.len + n > pt.cap) {
        size_t cap = pt.cap ? pt.cap * 2 : 1024;
        while (cap < pt.len + n) cap *= 2;
        pt.buf = mem_realloc(pt.buf, cap);
        pt.cap = cap;
    }
}

static void put(const void *p, size_t n) {
    reserve(n);
    memcpy(pt.buf + pt.len, p, n);
    pt.len += n;
}

enum { HEADER_MAX = 24 }; /* "*" or "$", 20 digits, CRLF */

/* Write "*<n>\r\n" or "$<n>\r\n" at p (HEADER_MAX bytes of room);
 * returns the end. Lengths of up to three digits, the usual case, without
 * a loop. */
static char *write_header(char *p, char type, size_t n) {
    *p++ = type;
    if (n < 10) {
        *p++ = (char)('0' + n);
    } else if (n < 100) {
        *p++ = (char)('0' + n / 10);
        *p++ = (char)('0' + n % 10);
    } else if (n < 1000) {
        *p++ = (char)('0' + n / 100);
        *p++ = (char)('0' + n / 10 % 10);
        *p++ = (char)('0' + n % 10);
    } else {
        p += format_ll(p, HEADER_MAX - 3, (long long)n);
    }
    *p++ = '\r';
    *p++ = '\n';
    return p;
}

/* "*<n>\r\n" or "$<n>\r\n" (no snprintf: this runs per argument of
 * every write while a replica is attached, where snprintf showed up at
 * ~10% of the master's CPU). */
static void put_header(char type, size_t n) {
    reserve(HEADER_MAX);
    pt.len = (size_t)(write_header(pt.buf + pt.len, type, n) - pt.buf);
}

/* A new op starting at the buffer's end; returns its index. */
static int add_op(int db) {
    if (pt.nops == pt.cap_ops) {
        pt.cap_ops = pt.cap_ops ? pt.cap_ops * 2 : 16;
        pt.ops = mem_realloc(pt.ops, (size_t)pt.cap_ops * sizeof *pt.ops);
    }
    pt.ops[pt.nops] = (op){.db = db, .off = pt.len, .len = 0};
    return pt.nops++;
}

/* A new op of argc arguments, given next by propagate_arg. */
static int new_op(int db, int argc) {
    int i = add_op(db);
    put_header('*', (size_t)argc);
    pt.building = argc;
    if (argc == 0) pt.ops[i].len = pt.len - pt.ops[i].off;
    return i;
}

/* Recording is on when a feed wants the stream. */
static bool recording(void) { return feed && propagate_enabled(); }

void propagate_arg(const char *p, size_t len) {
    if (pt.building <= 0) return; /* not recording */
    put_header('$', len);
    put(p, len);
    put("\r\n", 2);
    if (--pt.building == 0) {
        op *o = &pt.ops[pt.nops - 1];
        o->len = pt.len - o->off;
    }
}

void propagate_arg_str(const char *s) { propagate_arg(s, strlen(s)); }

void propagate_arg_ll(long long v) {
    char n[32];
    propagate_arg(n, format_ll(n, sizeof n, v));
}

static op take_op(int i);

void propagate_also_begin(int db, int argc) {
    if (recording()) new_op(db, argc);
}

void propagate_rewrite_begin(int argc) {
    if (!recording() || pt.depth == 0) return;
    if (pt.rewrite) take_op(pt.rewrite - 1); /* rewritten again */
    /* db is filled in at the end of the call (the client's db then) */
    pt.rewrite = new_op(-1, argc) + 1;
}

void propagate_also_argv(int db, int argc, const arg_t *argv) {
    if (!recording()) return;
    /* One reservation and straight writes: this is every plain write's op. */
    size_t need = HEADER_MAX;
    for (int i = 0; i < argc; i++) need += HEADER_MAX + argv[i].len + 2;
    int i = add_op(db);
    reserve(need);
    char *p = pt.buf + pt.len;
    p = write_header(p, '*', (size_t)argc);
    for (int k = 0; k < argc; k++) {
        p = write_header(p, '$', argv[k].len);
        memcpy(p, argv[k].ptr, argv[k].len);
        p += argv[k].len;
        *p++ = '\r';
        *p++ = '\n';
    }
    pt.len = (size_t)(p - pt.buf);
    pt.ops[i].len = pt.len - pt.ops[i].off;
}

void propagate_rewrite_argv(int argc, const arg_t *argv) {
    propagate_rewrite_begin(argc);
    for (int i = 0; i < argc; i++) propagate_arg(argv[i].ptr, argv[i].len);
}

void propagate_rewrite_key(client *c, const char *name) {
    propagate_rewrite_begin(2);
    propagate_arg_str(name);
    propagate_arg(c->argv[1].ptr, c->argv[1].len);
}

void propagate_prevent(void) { pt.prevent = true; }
void propagate_force(void) { pt.force = true; }
void propagate_count_change(void) { pt.changes++; }
int propagate_pending(void) { return pt.nops; }

void propagate_call_begin(propagate_mark *m, const struct command *cmd) {
    m->changes = pt.changes;
    m->rewrite = pt.rewrite;
    m->prevent = pt.prevent;
    m->force = pt.force;
    m->arbitrary = pt.arbitrary;
    if (pt.depth == 0) pt.arbitrary = cmd && (cmd->flags & CMD_ALL_SLOTS);
    pt.rewrite = 0;
    pt.prevent = pt.force = false;
    pt.depth++;
}

/* Remove op i from the list, keeping the order of the others (its bytes
 * stay in the buffer, unused). */
static op take_op(int i) {
    op o = pt.ops[i];
    memmove(&pt.ops[i], &pt.ops[i + 1], (size_t)(pt.nops - i - 1) * sizeof *pt.ops);
    pt.nops--;
    return o;
}

void propagate_call_end(client *c, const struct command *cmd, const propagate_mark *m) {
    bool changed = pt.changes != m->changes || pt.force;
    if (recording() && !pt.prevent && changed && !(cmd->flags & CMD_TX_CONTROL)) {
        if (pt.rewrite) {
            op o = take_op(pt.rewrite - 1); /* the rewrite goes last, as Redis's call() */
            o.db = c->db;
            pt.ops[pt.nops++] = o; /* take_op freed a place */
        } else {
            propagate_also_argv(c->db, c->argc, c->argv);
        }
    } else if (pt.rewrite) {
        take_op(pt.rewrite - 1);
    }
    pt.depth--;
    pt.rewrite = m->rewrite;
    pt.prevent = m->prevent;
    pt.force = m->force;
    if (pt.depth == 0) pt.arbitrary = false;
    else pt.arbitrary = m->arbitrary;
}

static void reset(void) {
    pt.nops = 0;
    pt.len = 0;
    pt.building = 0;
}

void propagate_discard(void) { reset(); }

/* One unit to the feed; remembers that the readers need waking. */
static long long feed_unit(const repl_cmd *cmds, int n) {
    long long end = feed(cmds, n);
    if (end > 0) pt.fed = true;
    return end;
}

void propagate_note_fed(void) { pt.fed = true; }

void propagate_wake(void) {
    if (!pt.fed) return;
    pt.fed = false;
    if (wake) wake();
}

long long propagate_flush(bool arbitrary) {
    if (pt.nops == 0) return 0;
    if (!recording()) {
        reset();
        return 0;
    }
    enum { STACK_OPS = 16 };
    repl_cmd stack[STACK_OPS + 2], *cmds = stack;
    int n = pt.nops;
    bool wrap = n > 1 && !arbitrary;
    int total = n + (wrap ? 2 : 0);
    if (total > STACK_OPS + 2) cmds = mem_alloc((size_t)total * sizeof *cmds);
    int k = 0;
    /* MULTI in the first op's database, EXEC in the last's: no SELECT
     * between them and their neighbours (propagatePendingCommands). */
    if (wrap) cmds[k++] = (repl_cmd){pt.ops[0].db, multi_resp, sizeof multi_resp - 1};
    for (int i = 0; i < n; i++) cmds[k++] = (repl_cmd){pt.ops[i].db, pt.buf + pt.ops[i].off, pt.ops[i].len};
    if (wrap) cmds[k++] = (repl_cmd){pt.ops[n - 1].db, exec_resp, sizeof exec_resp - 1};
    long long end = 0;
    if (arbitrary)
        for (int i = 0; i < k; i++) end = feed_unit(&cmds[i], 1);
    else
        end = feed_unit(cmds, k);
    if (cmds != stack) mem_free(cmds);
    reset();
    return end;
}

void propagate_deletion(int db, const char *key, size_t len, bool lazy) {
    if (!recording()) return;
    propagate_also_begin(db, 2);
    propagate_arg_str(lazy ? "UNLINK" : "DEL");
    propagate_arg(key, len);
    /* Fed now, alone, under this slot's lock, when that lock is not one the
     * running command holds until its unit is fed: outside a command, in
     * one that touches arbitrary keys (KEYS, SCAN, RANDOMKEY: their slot
     * locks come and go while it runs), or during an eviction (it locks
     * each victim's slot itself, CONFIG SET maxmemory included). */
    if (pt.depth == 0 || pt.arbitrary || pt.own_locks > 0) {
        op o = take_op(pt.nops - 1);
        repl_cmd one = {o.db, pt.buf + o.off, o.len};
        feed_unit(&one, 1);
        if (pt.nops == 0) pt.len = 0;
    }
}

void propagate_own_locks_begin(void) { pt.own_locks++; }
void propagate_own_locks_end(void) { pt.own_locks--; }

void propagate_thread_cleanup(void) {
    mem_free(pt.buf);
    mem_free(pt.ops);
    memset(&pt, 0, sizeof pt);
}
