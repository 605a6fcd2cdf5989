/*
 * cmd_keys.c - the generic keyspace commands: DEL, UNLINK, EXISTS, TYPE,
 * TOUCH, RENAME(NX), COPY, MOVE, KEYS, SCAN, RANDOMKEY, DBSIZE, FLUSHDB,
 * FLUSHALL, SWAPDB, and the OBJECT introspection family.
 *
 * Design choices a reader must know:
 * - Whole-keyspace walks (KEYS, SCAN) copy matching key names into a chunked
 *   arena while one slot is locked and write the reply only after unlocking:
 *   no reply-buffer growth and no big allocation happens under a slot lock.
 *   A MATCH pattern whose literal prefix fixes the hash tag ("user:{42}:*")
 *   can only match keys of one slot, so only that slot is walked.
 * - The SCAN cursor is (hashpos >> 15) << 14 | slot, hashpos being a 32-bit
 *   key hash position inside the slot's ktable (ktable.h) at which a call
 *   stopped, always a multiple of 2^15 (a call splits a slot only there).
 *   Hash ranges do not move when a table resizes, so a full iteration
 *   returns every key present for its whole duration exactly once. 0 starts
 *   and ends an iteration. Cursors stay below 2^31, as Redis's do for any
 *   table under 2^31 buckets: redis-cli --cluster import keeps the cursor
 *   in an int (atoi), and a larger one ended its import early.
 * - Keyspace events follow Redis 7.0: "del" per deleted key, rename_from /
 *   rename_to, copy_to, move_from / move_to. RENAME and COPY REPLACE delete
 *   an existing destination and add the key anew (db_add raises "new"), as
 *   Redis does; FLUSHDB/FLUSHALL raise nothing per key.
 */
#include "blocking.h"
#include "client.h"
#include "cluster_api.h"
#include "command_modules.h"
#include "commands.h"
#include "config.h"
#include "crc16.h"
#include "db.h"
#include "dispatch.h"
#include "evict.h"
#include "entry.h"
#include "glob.h"
#include "ktable.h"
#include "mem.h"
#include "notify.h"
#include "propagate.h"
#include "numparse.h"
#include "persist.h"
#include "slotlock.h"
#include "stats.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------------
 * Key name collector (KEYS, SCAN)
 * ---------------------------------------------------------------------- */

#define KEYLIST_CHUNK 16384

typedef struct keychunk {
    struct keychunk *next;
    size_t used, cap;
    char data[]; /* repeated: size_t length (memcpy'd), key bytes */
} keychunk;

typedef struct {
    keychunk *head, *tail;
    long long count;
} keylist;

static void keylist_add(keylist *l, const char *key, size_t len) {
    size_t need = sizeof(size_t) + len;
    keychunk *ch = l->tail;
    if (!ch || ch->cap - ch->used < need) {
        size_t cap = need > KEYLIST_CHUNK ? need : KEYLIST_CHUNK;
        ch = mem_alloc(sizeof(keychunk) + cap);
        ch->next = NULL;
        ch->used = 0;
        ch->cap = cap;
        if (l->tail)
            l->tail->next = ch;
        else
            l->head = ch;
        l->tail = ch;
    }
    memcpy(ch->data + ch->used, &len, sizeof len);
    if (len) memcpy(ch->data + ch->used + sizeof len, key, len);
    ch->used += need;
    l->count++;
}

static void keylist_free(keylist *l) {
    keychunk *ch = l->head;
    while (ch) {
        keychunk *next = ch->next;
        mem_free(ch);
        ch = next;
    }
    l->head = l->tail = NULL;
    l->count = 0;
}

/* Reply with the collected names as an array, then free them. */
static void keylist_reply(client *c, keylist *l) {
    add_reply_array(c, l->count);
    for (keychunk *ch = l->head; ch; ch = ch->next) {
        size_t off = 0;
        while (off < ch->used) {
            size_t len;
            memcpy(&len, ch->data + off, sizeof len);
            add_reply_bulk(c, ch->data + off + sizeof len, len);
            off += sizeof len + len;
        }
    }
    keylist_free(l);
}

/* ------------------------------------------------------------------------
 * Pattern helpers
 * ---------------------------------------------------------------------- */

static bool glob_special(char ch) { return ch == '*' || ch == '?' || ch == '[' || ch == '\\'; }

/* The only slot a (case-sensitive) glob pattern can match keys in, or -1.
 * That is the case when the pattern is a literal key, or when everything up
 * to the first '}' after the first '{' is literal with at least one byte
 * between the braces: every matching key then starts with that prefix and
 * so has the same hash tag. */
static int keys_pattern_slot(const char *p, size_t plen) {
    size_t i = 0;
    while (i < plen && p[i] != '{') {
        if (glob_special(p[i])) return -1;
        i++;
    }
    if (i == plen) return (int)key_hash_slot(p, plen); /* literal key */
    size_t open = i++;
    while (i < plen && p[i] != '}') {
        if (glob_special(p[i])) return -1;
        i++;
    }
    if (i == plen) {
        /* No closing brace: a literal key without a hash tag, or nothing. */
        for (size_t j = open; j < plen; j++)
            if (glob_special(p[j])) return -1;
        return (int)key_hash_slot(p, plen);
    }
    if (i == open + 1) {
        /* "{}" is no hash tag: the whole key is hashed. */
        for (size_t j = i; j < plen; j++)
            if (glob_special(p[j])) return -1;
        return (int)key_hash_slot(p, plen);
    }
    return (int)key_hash_slot(p, i + 1);
}

static bool pattern_is_all(const char *p, size_t plen) { return plen == 1 && p[0] == '*'; }

/* ------------------------------------------------------------------------
 * Small parsing helpers
 * ---------------------------------------------------------------------- */

/* Redis's getIntFromObjectOrReply (range-checked int) for DB indexes. */
static bool arg_int_or_reply(client *c, const arg_t *a, int *out) {
    long long v;
    if (!arg_ll_or_reply(c, a, &v, ERR_NOT_INT)) return false;
    if (v < INT_MIN || v > INT_MAX) {
        add_reply_error(c, "ERR value is out of range, value must between -2147483648 and 2147483647");
        return false;
    }
    *out = (int)v;
    return true;
}

static bool db_index_valid(int id) { return id >= 0 && id < db_count(); }

static bool arg_same(const arg_t *a, const arg_t *b) {
    return a->len == b->len && memcmp(a->ptr, b->ptr, a->len) == 0;
}

static void key_of_arg(dbkey *k, int db, const arg_t *a) { dbkey_init(k, db, a->ptr, a->len); }

static bool policy_is_lfu(long long p) { return p == MAXMEMORY_ALLKEYS_LFU || p == MAXMEMORY_VOLATILE_LFU; }
static bool policy_is_lru(long long p) { return p == MAXMEMORY_ALLKEYS_LRU || p == MAXMEMORY_VOLATILE_LRU; }

/* ------------------------------------------------------------------------
 * DEL, UNLINK, EXISTS, TOUCH, TYPE
 * ---------------------------------------------------------------------- */

/* UNLINK is DEL until a lazy-free thread exists. */
static void del_command(client *c) {
    long long deleted = 0;
    for (int j = 1; j < c->argc; j++) {
        dbkey k;
        key_of_arg(&k, c->db, &c->argv[j]);
        if (db_delete(&k)) {
            deleted++;
            db_changed(&k, NOTIFY_GENERIC, "del");
        }
    }
    add_reply_integer(c, deleted);
}

/* Counts hits/misses like Redis; EXISTS leaves the LRU clock alone, TOUCH
 * refreshes it. Repeated keys are counted each time. */
static void count_existing(client *c, int flags) {
    long long n = 0;
    for (int j = 1; j < c->argc; j++) {
        dbkey k;
        key_of_arg(&k, c->db, &c->argv[j]);
        if (db_lookup(&k, flags, NULL)) n++;
    }
    add_reply_integer(c, n);
}

static void exists_command(client *c) { count_existing(c, LOOKUP_READ | LOOKUP_NOTOUCH); }
static void touch_command(client *c) { count_existing(c, LOOKUP_READ); }

static void type_command(client *c) {
    dbkey k;
    key_of_arg(&k, c->db, &c->argv[1]);
    entry *e = db_lookup(&k, LOOKUP_READ | LOOKUP_NOTOUCH, NULL);
    add_reply_status(c, e ? entry_type_name(entry_type(e)) : "none");
}

/* ------------------------------------------------------------------------
 * RENAME, RENAMENX, COPY, MOVE
 * ---------------------------------------------------------------------- */

static void rename_generic(client *c, bool nx) {
    dbkey src, dst;
    key_of_arg(&src, c->db, &c->argv[1]);
    key_of_arg(&dst, c->db, &c->argv[2]);
    long spos;
    if (!db_lookup(&src, LOOKUP_WRITE, &spos)) {
        add_reply_error(c, ERR_NO_SUCH_KEY);
        return;
    }
    if (arg_same(&c->argv[1], &c->argv[2])) {
        if (nx)
            add_reply_integer(c, 0);
        else
            add_reply_ok(c);
        return;
    }
    long dpos;
    if (db_lookup(&dst, LOOKUP_WRITE, &dpos)) {
        if (nx) {
            add_reply_integer(c, 0);
            return;
        }
        db_delete_at(&dst, dpos); /* as Redis: the key is then added anew */
    }
    /* The destination lookup may have removed an entry of the same table
     * and shifted the source: find it again. */
    entry *e = db_lookup(&src, LOOKUP_WRITE, &spos);
    entry *moved = entry_with_key(e, dst.key, dst.len); /* keeps the expire */
    db_unlink_at(&src, spos);
    mem_free(e); /* the value, if any, now belongs to `moved` */
    db_add(&dst, moved);
    db_changed(&src, NOTIFY_GENERIC, "rename_from");
    db_changed(&dst, NOTIFY_GENERIC, "rename_to");
    if (nx)
        add_reply_integer(c, 1);
    else
        add_reply_ok(c);
}

static void rename_command(client *c) { rename_generic(c, false); }
static void renamenx_command(client *c) { rename_generic(c, true); }

/* COPY source destination [DB destination-db] [REPLACE]. The destination
 * key has the same slot in every database, so dispatch's lock covers it. */
static void copy_command(client *c) {
    int dstdb = c->db;
    bool replace = false;
    for (int j = 3; j < c->argc; j++) {
        if (arg_eq(&c->argv[j], "replace")) {
            replace = true;
        } else if (arg_eq(&c->argv[j], "db") && j + 1 < c->argc) {
            if (!arg_int_or_reply(c, &c->argv[j + 1], &dstdb)) return;
            if (!db_index_valid(dstdb)) {
                add_reply_error(c, ERR_DB_RANGE);
                return;
            }
            j++;
        } else {
            add_reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    if ((c->db != 0 || dstdb != 0) && route_db0_only_or_reply(c, "Copying to another database")) return;
    if (dstdb == c->db && arg_same(&c->argv[1], &c->argv[2])) {
        add_reply_error(c, ERR_SAME_OBJECT);
        return;
    }
    dbkey src, dst;
    key_of_arg(&src, c->db, &c->argv[1]);
    key_of_arg(&dst, dstdb, &c->argv[2]);
    if (!db_lookup(&src, LOOKUP_READ, NULL)) {
        add_reply_integer(c, 0);
        return;
    }
    long dpos;
    if (db_lookup(&dst, LOOKUP_WRITE, &dpos)) {
        if (!replace) {
            add_reply_integer(c, 0);
            return;
        }
        db_delete_at(&dst, dpos); /* as Redis: the copy is then added anew */
    }
    /* Look the source up again: the destination lookup may have removed an
     * entry from the same table. */
    entry *e = db_lookup(&src, LOOKUP_WRITE | LOOKUP_NOSTATS, NULL);
    entry *copy = entry_dup(e, dst.key, dst.len); /* keeps the expire */
    db_add(&dst, copy);
    db_changed(&dst, NOTIFY_GENERIC, "copy_to");
    add_reply_integer(c, 1);
}

static void move_command(client *c) {
    if (route_db0_only_or_reply(c, "MOVE")) return;
    int dstdb;
    if (!arg_int_or_reply(c, &c->argv[2], &dstdb)) return;
    if (!db_index_valid(dstdb)) {
        add_reply_error(c, ERR_DB_RANGE);
        return;
    }
    if (dstdb == c->db) {
        add_reply_error(c, ERR_SAME_OBJECT);
        return;
    }
    dbkey src, dst;
    key_of_arg(&src, c->db, &c->argv[1]);
    key_of_arg(&dst, dstdb, &c->argv[1]);
    long spos;
    if (!db_lookup(&src, LOOKUP_WRITE, &spos) || db_lookup(&dst, LOOKUP_WRITE, NULL)) {
        add_reply_integer(c, 0);
        return;
    }
    /* Different tables of the same slot: the entry moves as is. */
    entry *e = db_unlink_at(&src, spos);
    db_add(&dst, e);
    db_changed(&src, NOTIFY_GENERIC, "move_from");
    db_changed(&dst, NOTIFY_GENERIC, "move_to");
    add_reply_integer(c, 1);
}

/* ------------------------------------------------------------------------
 * KEYS, SCAN, RANDOMKEY, DBSIZE
 * ---------------------------------------------------------------------- */

typedef struct {
    const char *pat;
    size_t plen;
    bool all;             /* pattern is "*" (or absent) */
    const char *type;     /* SCAN TYPE filter or NULL */
    size_t tlen;
    long long now;        /* SCAN only: KEYS gets live entries from db_visit_slot */
    keylist out;
} key_filter;

static bool key_filter_match(key_filter *f, const entry *e, const char **key, size_t *len) {
    if (f->type) {
        const char *tn = entry_type_name(entry_type(e));
        if (strlen(tn) != f->tlen || strncasecmp(tn, f->type, f->tlen) != 0) return false;
    }
    *key = entry_key(e, len);
    return f->all || glob_match(f->pat, f->plen, *key, *len, false);
}

static void keys_visit(entry *e, void *arg) {
    key_filter *f = arg;
    const char *k;
    size_t len;
    if (key_filter_match(f, e, &k, &len)) keylist_add(&f->out, k, len);
}

static void keys_command(client *c) {
    key_filter f = {.pat = c->argv[1].ptr, .plen = c->argv[1].len};
    f.all = pattern_is_all(f.pat, f.plen);
    int only = f.all ? -1 : keys_pattern_slot(f.pat, f.plen);
    if (only >= 0) {
        db_visit_slot(c->db, (unsigned)only, keys_visit, &f);
    } else {
        ktable *tables = db_tables(c->db);
        for (unsigned s = 0; tables && s < CLUSTER_SLOTS; s++)
            if (ktable_count(&tables[s])) db_visit_slot(c->db, s, keys_visit, &f);
    }
    keylist_reply(c, &f.out);
}

static void scan_visit(entry *e, void *arg) {
    key_filter *f = arg;
    const char *k;
    size_t len;
    if (db_is_expired(e, f->now)) return;
    if (key_filter_match(f, e, &k, &len)) keylist_add(&f->out, k, len);
}


/* A slot holding at most this many keys beyond what COUNT still asks for is
 * taken whole rather than split into hash ranges. */
#define SCAN_WHOLE_SLOT_SLACK 16
/* Empty slots skipped per call: the whole range. Skipping one is a relaxed
 * load of its key count (no lock): a sweep over all of them measured ~20us
 * (DBSIZE's sum ~10us), and in exchange a small database returns in one
 * call as it does in Redis. */
#define SCAN_MAX_EMPTY_SLOTS CLUSTER_SLOTS
/* A call stops inside a slot only at a multiple of 2^SCAN_POS_SHIFT: the
 * cursor keeps the 17 high bits of the position above the slot's 14. */
#define SCAN_SLOT_BITS 14
#define SCAN_POS_SHIFT 15
#define SCAN_POS_GRAIN (1ULL << SCAN_POS_SHIFT)
_Static_assert(CLUSTER_SLOTS == 1 << SCAN_SLOT_BITS, "a slot fills the cursor's low bits");
_Static_assert(SCAN_SLOT_BITS + 32 - SCAN_POS_SHIFT == 31, "cursors fit in a C int");

static void scan_command(client *c) {
    uint64_t cursor;
    if (!parse_scan_cursor(c->argv[1].ptr, c->argv[1].len, &cursor)) {
        add_reply_error(c, "ERR invalid cursor");
        return;
    }
    key_filter f = {.all = true};
    long long count = 10;
    for (int i = 2; i < c->argc; i += 2) {
        bool has_value = i + 1 < c->argc;
        if (arg_eq(&c->argv[i], "count") && has_value) {
            if (!arg_ll_or_reply(c, &c->argv[i + 1], &count, ERR_NOT_INT)) return;
            if (count < 1) {
                add_reply_error(c, ERR_SYNTAX);
                return;
            }
        } else if (arg_eq(&c->argv[i], "match") && has_value) {
            f.pat = c->argv[i + 1].ptr;
            f.plen = c->argv[i + 1].len;
            f.all = pattern_is_all(f.pat, f.plen);
        } else if (arg_eq(&c->argv[i], "type") && has_value) {
            f.type = c->argv[i + 1].ptr;
            f.tlen = c->argv[i + 1].len;
        } else {
            add_reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    f.now = db_now_ms();

    uint64_t slot = cursor & (CLUSTER_SLOTS - 1), pos = (cursor >> SCAN_SLOT_BITS) << SCAN_POS_SHIFT;
    if (pos >= (1ULL << 32)) slot++, pos = 0; /* (not a cursor SCAN returned) */
    int only = f.all ? -1 : keys_pattern_slot(f.pat, f.plen);
    if (only >= 0) {
        if (slot < (uint64_t)only) {
            slot = (uint64_t)only;
            pos = 0;
        } else if (slot > (uint64_t)only) {
            slot = CLUSTER_SLOTS;
        }
    }
    /* NULL: the database was never written. */
    ktable *tables = db_tables(c->db);
    if (!tables) slot = CLUSTER_SLOTS;
    long long examined = 0;
    unsigned empty = 0;
    while (slot < CLUSTER_SLOTS && examined < count) {
        if (only >= 0 && slot != (uint64_t)only) {
            slot = CLUSTER_SLOTS;
            break;
        }
        ktable *t = &tables[slot];
        if (ktable_count(t) == 0) {
            if (++empty > SCAN_MAX_EMPTY_SLOTS) break;
            slot++;
            pos = 0;
            continue;
        }
        uint64_t to = 1ULL << 32;
        slot_lock((unsigned)slot);
        uint64_t n = ktable_count(t), want = (uint64_t)(count - examined);
        if (n > want + SCAN_WHOLE_SLOT_SLACK && t->size > 0) {
            /* About `want` entries: the same share of the buckets. */
            uint64_t from_bucket = (pos * t->size) >> 32;
            uint64_t step = want * t->size / n;
            to = ktable_hashpos_of_bucket(t, from_bucket + (step ? step : 1));
            to = (to + SCAN_POS_GRAIN - 1) & ~(SCAN_POS_GRAIN - 1);
        }
        examined += (long long)ktable_scan_range(t, pos, to, scan_visit, &f);
        slot_unlock((unsigned)slot);
        if (to >= (1ULL << 32)) {
            slot++;
            pos = 0;
        } else {
            pos = to;
        }
    }
    if (only >= 0 && slot != (uint64_t)only) slot = CLUSTER_SLOTS;

    uint64_t next = slot >= CLUSTER_SLOTS ? 0 : ((pos >> SCAN_POS_SHIFT) << SCAN_SLOT_BITS) | slot;
    char buf[24];
    size_t blen = format_ll(buf, sizeof buf, (long long)next);
    add_reply_array(c, 2);
    add_reply_bulk(c, buf, blen);
    keylist_reply(c, &f.out);
}

static void randomkey_command(client *c) {
    size_t len;
    char *k = db_random_key(c->db, &len);
    if (!k) {
        add_reply_null(c);
        return;
    }
    add_reply_bulk(c, k, len);
    mem_free(k);
}

static void dbsize_command(client *c) { add_reply_integer(c, (long long)db_size(c->db)); }

/* ------------------------------------------------------------------------
 * FLUSHDB, FLUSHALL
 * ---------------------------------------------------------------------- */

/* [ASYNC|SYNC]: ASYNC (or lazyfree-lazy-user-flush yes without SYNC) hands
 * the emptied tables to the lazy-free thread; SYNC frees them here, each
 * outside its slot lock. Sets *async; false after replying a syntax error. */
static bool flush_args_ok_or_reply(client *c, bool *async) {
    if (c->argc > 2 || (c->argc == 2 && !arg_eq(&c->argv[1], "sync") && !arg_eq(&c->argv[1], "async"))) {
        add_reply_error(c, ERR_SYNTAX);
        return false;
    }
    *async = c->argc == 2 ? arg_eq(&c->argv[1], "async") : cfg_get(lazyfree_lazy_user_flush) != 0;
    return true;
}

/* The end of a keyspace-wide write (FLUSHDB, FLUSHALL, SWAPDB) made with
 * every slot lock held (slots_lock_all returned `own`): the command is fed
 * to the replication stream before the locks are released, so that no
 * write of another worker lands between the change and the stream's record
 * of it (a replica would run that write on the wrong side of it) and a
 * snapshot never sees half of it. Inside EXEC (`own` false) the transaction
 * already holds every lock (CMD_ALL_SLOTS) and the command is part of its
 * unit. Propagated even when nothing changed, as Redis. */
static void keyspace_write_done(client *c, bool own) {
    if (!own) {
        propagate_force();
        return;
    }
    propagate_also_argv(c->db, c->argc, c->argv);
    propagate_prevent(); /* fed here, not by dispatch after the unlock */
    long long woff = propagate_flush(false);
    if (woff > 0) c->woff = woff;
    if (c->flags & CF_MASTER) dispatch_master_applied(c); /* a replica forwards it under the locks too */
    slots_unlock_all();
}

/* slots_lock_all for a keyspace-wide write. These commands have no key, so
 * dispatch asked whether the final save paused writes with no slot lock
 * held: asked again under every lock, so that nothing is acknowledged
 * after the save's point in time. False (replied, no lock taken) then. */
static bool lock_all_for_write_or_reply(client *c, bool *own) {
    *own = slots_lock_all();
    if (*own && persist_writes_paused()) {
        slots_unlock_all();
        add_reply_error(c, ERR_SHUTTING_DOWN);
        return false;
    }
    return true;
}

/* Empty database db (-1: all) at one point in time (keyspace_write_done).
 * False when refused (replied). */
static bool flush_at_one_point(client *c, int db, bool async) {
    bool own;
    if (!lock_all_for_write_or_reply(c, &own)) return false;
    if (!own) {
        db_flush(db, async);
        blocking_db_emptied(db);
        keyspace_write_done(c, own);
        return true;
    }
    db_flushed *old;
    db_flush_detach(db, &old);
    blocking_db_emptied(db);
    keyspace_write_done(c, own);
    db_flushed_free(old, async); /* the other workers go on meanwhile */
    return true;
}

static void flushdb_command(client *c) {
    bool async;
    if (!flush_args_ok_or_reply(c, &async)) return;
    if (flush_at_one_point(c, c->db, async)) add_reply_ok(c);
}

static void flushall_command(client *c) {
    bool async;
    if (!flush_args_ok_or_reply(c, &async)) return;
    persist_before_flushall();
    if (!flush_at_one_point(c, -1, async)) return;
    persist_after_flushall(); /* no slot lock held (or EXEC's) */
    add_reply_ok(c);
}

/* SWAPDB index1 index2 (Redis's errors and order of checks; the same index
 * twice swaps nothing but is still a write, propagated). */
static bool swapdb_index_or_reply(client *c, const arg_t *a, int *out, const char *errmsg) {
    long long v;
    if (!arg_ll_or_reply(c, a, &v, errmsg)) return false;
    if (v < INT_MIN || v > INT_MAX) {
        add_reply_error(c, errmsg);
        return false;
    }
    *out = (int)v;
    return true;
}

static void swapdb_command(client *c) {
    if (route_db0_only_or_reply(c, "SWAPDB")) return;
    int a, b;
    if (!swapdb_index_or_reply(c, &c->argv[1], &a, "ERR invalid first DB index") ||
        !swapdb_index_or_reply(c, &c->argv[2], &b, "ERR invalid second DB index"))
        return;
    if (!db_index_valid(a) || !db_index_valid(b)) {
        add_reply_error(c, ERR_DB_RANGE);
        return;
    }
    bool own;
    if (!lock_all_for_write_or_reply(c, &own)) return;
    db_swap(a, b);
    stat_inc(STAT_DIRTY);
    keyspace_write_done(c, own);
    add_reply_ok(c);
}

/* ------------------------------------------------------------------------
 * OBJECT
 * ---------------------------------------------------------------------- */

/* Redis shares the integers 0..9999 between keys unless maxmemory is set
 * with an LRU/LFU policy; OBJECT REFCOUNT then reports INT_MAX for them.
 * Entries here are never shared, but clients compare the number, so report
 * what Redis would for the same value and settings; 1 otherwise. */
#define OBJ_SHARED_INTEGERS 10000

static long long object_refcount(const entry *e) {
    if (entry_is_int(e)) {
        long long v = entry_int(e), policy = cfg_get(maxmemory_policy);
        bool shared_ok = cfg_get(maxmemory) == 0 || !(policy_is_lru(policy) || policy_is_lfu(policy));
        if (v >= 0 && v < OBJ_SHARED_INTEGERS && shared_ok) return INT_MAX;
    }
    return 1;
}

/* The key of OBJECT <sub> <key>, looked up without touching its LRU clock;
 * replies null when missing. */
static entry *object_lookup_or_reply(client *c) {
    dbkey k;
    key_of_arg(&k, c->db, &c->argv[2]);
    entry *e = db_lookup(&k, LOOKUP_READ | LOOKUP_NOTOUCH, NULL);
    if (!e) add_reply_null(c);
    return e;
}

static void object_encoding_command(client *c) {
    entry *e = object_lookup_or_reply(c);
    if (e) add_reply_bulk_cstr(c, entry_encoding_name(entry_encoding(e)));
}

static void object_refcount_command(client *c) {
    entry *e = object_lookup_or_reply(c);
    if (e) add_reply_integer(c, object_refcount(e));
}

static void object_idletime_command(client *c) {
    entry *e = object_lookup_or_reply(c);
    if (!e) return;
    if (policy_is_lfu(cfg_get(maxmemory_policy))) {
        add_reply_error(c, "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that "
                           "when switching between policies at runtime LRU and LFU data will take some time "
                           "to adjust.");
        return;
    }
    add_reply_integer(c, (long long)(entry_idle_ms(e) / 1000));
}

static void object_freq_command(client *c) {
    entry *e = object_lookup_or_reply(c);
    if (!e) return;
    if (!policy_is_lfu(cfg_get(maxmemory_policy))) {
        add_reply_error(c, "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please "
                           "note that when switching between policies at runtime LRU and LFU data will take "
                           "some time to adjust.");
        return;
    }
    add_reply_integer(c, (long long)evict_lfu_counter(e));
}

static const char *const object_help_lines[] = {
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    NULL,
};

static void object_help_command(client *c) { add_reply_help(c, "OBJECT", object_help_lines); }

/* ------------------------------------------------------------------------
 * Command table
 * ---------------------------------------------------------------------- */

#define OBJ_SUB_KEY(n, fn, since_, summary_)                                                             \
    {.name = n, .arity = 3, .flags = CMD_READONLY, .first_key = 2, .last_key = 2, .key_step = 1,     \
     .proc = fn, .group = "generic", .since = since_, .summary = summary_, .complexity = "O(1)",      \
     .acl_categories = "keyspace read slow"}

static command object_subcommands[] = {
    OBJ_SUB_KEY("encoding", object_encoding_command, "2.2.3", "Inspect the internal encoding of a Redis object"),
    OBJ_SUB_KEY("freq", object_freq_command, "4.0.0", "Get the logarithmic access frequency counter of a Redis object"),
    {.name = "help", .arity = 2, .flags = CMD_LOADING | CMD_STALE, .proc = object_help_command,
     .group = "generic", .since = "6.2.0", .summary = "Show helpful text about the different subcommands",
     .complexity = "O(1)", .acl_categories = "keyspace slow"},
    OBJ_SUB_KEY("idletime", object_idletime_command, "2.2.3", "Get the time since a Redis object was last accessed"),
    OBJ_SUB_KEY("refcount", object_refcount_command, "2.2.3", "Get the number of references to the value of the key"),
    {0},
};

#define ALL_KEYS .first_key = 1, .last_key = -1, .key_step = 1
#define ONE_KEY .first_key = 1, .last_key = 1, .key_step = 1
#define TWO_KEYS .first_key = 1, .last_key = 2, .key_step = 1

command keys_commands[] = {
    {.name = "del", .arity = -2, .flags = CMD_WRITE, ALL_KEYS, .proc = del_command, .group = "generic",
     .since = "1.0.0", .summary = "Delete a key",
     .complexity = "O(N) where N is the number of keys that will be removed. When a key to remove holds a "
                   "value other than a string, the individual complexity for this key is O(M) where M is "
                   "the number of elements in the list, set, sorted set or hash. Removing a single key "
                   "that holds a string value is O(1).",
     .acl_categories = "keyspace write slow"},
    {.name = "unlink", .arity = -2, .flags = CMD_WRITE | CMD_FAST, ALL_KEYS, .proc = del_command,
     .group = "generic", .since = "4.0.0",
     .summary = "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.",
     .complexity = "O(1) for each key removed regardless of its size. Then the command does O(N) work in a "
                   "different thread in order to reclaim memory, where N is the number of allocations the "
                   "deleted objects where composed of.",
     .acl_categories = "keyspace write fast"},
    {.name = "exists", .arity = -2, .flags = CMD_READONLY | CMD_FAST, ALL_KEYS, .proc = exists_command,
     .group = "generic", .since = "1.0.0", .summary = "Determine if a key exists",
     .complexity = "O(N) where N is the number of keys to check.", .acl_categories = "keyspace read fast"},
    {.name = "touch", .arity = -2, .flags = CMD_READONLY | CMD_FAST, ALL_KEYS, .proc = touch_command,
     .group = "generic", .since = "3.2.1",
     .summary = "Alters the last access time of a key(s). Returns the number of existing keys specified.",
     .complexity = "O(N) where N is the number of keys that will be touched.",
     .acl_categories = "keyspace read fast"},
    {.name = "type", .arity = 2, .flags = CMD_READONLY | CMD_FAST, ONE_KEY, .proc = type_command,
     .group = "generic", .since = "1.0.0", .summary = "Determine the type stored at key", .complexity = "O(1)",
     .acl_categories = "keyspace read fast"},
    {.name = "rename", .arity = 3, .flags = CMD_WRITE, TWO_KEYS, .proc = rename_command, .group = "generic",
     .since = "1.0.0", .summary = "Rename a key", .complexity = "O(1)", .acl_categories = "keyspace write slow"},
    {.name = "renamenx", .arity = 3, .flags = CMD_WRITE | CMD_FAST, TWO_KEYS, .proc = renamenx_command,
     .group = "generic", .since = "1.0.0", .summary = "Rename a key, only if the new key does not exist",
     .complexity = "O(1)", .acl_categories = "keyspace write fast"},
    {.name = "copy", .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM, TWO_KEYS, .proc = copy_command,
     .group = "generic", .since = "6.2.0", .summary = "Copy a key",
     .complexity = "O(N) worst case for collections, where N is the number of nested items. O(1) for string "
                   "values.",
     .acl_categories = "keyspace write slow"},
    {.name = "move", .arity = 3, .flags = CMD_WRITE | CMD_FAST, ONE_KEY, .proc = move_command,
     .group = "generic", .since = "1.0.0", .summary = "Move a key to another database", .complexity = "O(1)",
     .acl_categories = "keyspace write fast"},
    {.name = "swapdb", .arity = 3, .flags = CMD_ALL_SLOTS | CMD_WRITE | CMD_FAST, .proc = swapdb_command,
     .group = "server", .since = "4.0.0", .summary = "Swaps two Redis databases",
     .complexity = "O(N) where N is the count of clients watching or blocking on keys from both databases.",
     .acl_categories = "keyspace write fast dangerous"},
    {.name = "keys", .arity = 2, .flags = CMD_ALL_SLOTS | CMD_READONLY, .proc = keys_command, .group = "generic",
     .since = "1.0.0", .summary = "Find all keys matching the given pattern",
     .complexity = "O(N) with N being the number of keys in the database, under the assumption that the key "
                   "names in the database and the given pattern have limited length.",
     .acl_categories = "keyspace read slow dangerous"},
    {.name = "scan", .arity = -2, .flags = CMD_ALL_SLOTS | CMD_READONLY, .proc = scan_command, .group = "generic",
     .since = "2.8.0", .summary = "Incrementally iterate the keys space",
     .complexity = "O(1) for every call. O(N) for a complete iteration, including enough command calls for "
                   "the cursor to return back to 0. N is the number of elements inside the collection.",
     .acl_categories = "keyspace read slow"},
    {.name = "randomkey", .arity = 1, .flags = CMD_ALL_SLOTS | CMD_READONLY, .proc = randomkey_command, .group = "generic",
     .since = "1.0.0", .summary = "Return a random key from the keyspace", .complexity = "O(1)",
     .acl_categories = "keyspace read slow"},
    {.name = "dbsize", .arity = 1, .flags = CMD_READONLY | CMD_FAST, .proc = dbsize_command, .group = "server",
     .since = "1.0.0", .summary = "Return the number of keys in the selected database", .complexity = "O(1)",
     .acl_categories = "keyspace read fast"},
    {.name = "flushdb", .arity = -1, .flags = CMD_ALL_SLOTS | CMD_WRITE, .proc = flushdb_command, .group = "server",
     .since = "1.0.0", .summary = "Remove all keys from the current database",
     .complexity = "O(N) where N is the number of keys in the selected database",
     .acl_categories = "keyspace write slow dangerous"},
    {.name = "flushall", .arity = -1, .flags = CMD_ALL_SLOTS | CMD_WRITE, .proc = flushall_command, .group = "server",
     .since = "1.0.0", .summary = "Remove all keys from all databases",
     .complexity = "O(N) where N is the total number of keys in all databases",
     .acl_categories = "keyspace write slow dangerous"},
    {.name = "object", .arity = -2, .flags = 0, .group = "generic", .since = "2.2.3",
     .summary = "A container for object introspection commands", .complexity = "Depends on subcommand.",
     .acl_categories = "slow", .subcommands = object_subcommands},
    {0},
};
