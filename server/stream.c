/*
 * stream.c - the stream value: nodes, index, append, iteration, deletion
 * and trimming (see stream.h for the layout and the design choices).
 */
#include "stream.h"

#include "stream_group.h"

#include "config.h"
#include "mem.h"
#include "numparse.h"
#include "rdb_packed.h"

#include <string.h>

/* ---------------------------------------------------------------- IDs */

int stream_id_cmp(const stream_id *a, const stream_id *b) {
    if (a->ms != b->ms) return a->ms > b->ms ? 1 : -1;
    if (a->seq != b->seq) return a->seq > b->seq ? 1 : -1;
    return 0;
}

bool stream_id_incr(stream_id *id) {
    if (id->seq == UINT64_MAX) {
        if (id->ms == UINT64_MAX) return false;
        id->ms++;
        id->seq = 0;
    } else {
        id->seq++;
    }
    return true;
}

bool stream_id_decr(stream_id *id) {
    if (id->seq == 0) {
        if (id->ms == 0) return false;
        id->ms--;
        id->seq = UINT64_MAX;
    } else {
        id->seq--;
    }
    return true;
}

static size_t format_u64(char *buf, uint64_t v) {
    char tmp[21];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
    return n;
}

size_t stream_id_format(const stream_id *id, char *buf) {
    size_t n = format_u64(buf, id->ms);
    buf[n++] = '-';
    n += format_u64(buf + n, id->seq);
    buf[n] = '\0';
    return n;
}

void stream_id_to_key(const stream_id *id, unsigned char key[16]) {
    for (int b = 0; b < 8; b++) {
        key[b] = (unsigned char)(id->ms >> (56 - 8 * b));
        key[8 + b] = (unsigned char)(id->seq >> (56 - 8 * b));
    }
}

void stream_id_from_key(const unsigned char key[16], stream_id *id) {
    id->ms = id->seq = 0;
    for (int b = 0; b < 8; b++) {
        id->ms = id->ms << 8 | key[b];
        id->seq = id->seq << 8 | key[8 + b];
    }
}

/* ---------------------------------------------------------------- elements */

static bool stream_lp_int(const char *p, size_t len, int64_t *v) {
    long long x;
    if (!parse_ll(p, len, &x)) return false;
    *v = x;
    return true;
}

/* The integer element at off (this module wrote it); returns the next offset. */
static size_t get_int(const listpack *l, size_t off, int64_t *v) {
    const char *p;
    size_t len;
    size_t next = lp_get(l, off, &p, &len);
    if (!stream_lp_int(p, len, v)) *v = 0;
    return next;
}

static size_t skip(const listpack *l, size_t off, int64_t n) {
    const char *p;
    size_t len;
    while (n-- > 0) off = lp_get(l, off, &p, &len);
    return off;
}

static listpack *append_int(stream_node *n, listpack *l, int64_t v) {
    char buf[24];
    size_t len = format_ll(buf, sizeof buf, v);
    n->rbytes += (uint32_t)rpk_lp_entry_bytes(buf, len);
    return lp_append(l, buf, len);
}

static listpack *append_str(stream_node *n, listpack *l, const char *p, size_t len) {
    n->rbytes += (uint32_t)rpk_lp_entry_bytes(p, len);
    return lp_append(l, p, len);
}

/* Replace the integer element at off with v, keeping rbytes right. */
static void replace_int(stream_node *n, size_t off, int64_t v) {
    const char *p;
    size_t len;
    lp_get(n->lp, off, &p, &len);
    n->rbytes -= (uint32_t)rpk_lp_entry_bytes(p, len);
    char buf[24];
    size_t blen = format_ll(buf, sizeof buf, v);
    n->rbytes += (uint32_t)rpk_lp_entry_bytes(buf, blen);
    n->lp = lp_replace(n->lp, off, buf, blen);
}

/* The master entry: live count, deleted count, field count; returns the
 * offset of the first master field. */
static size_t master_read(const listpack *l, int64_t *count, int64_t *deleted, int64_t *nfields) {
    size_t off = get_int(l, lp_first(l), count);
    off = get_int(l, off, deleted);
    return get_int(l, off, nfields);
}

/* Offset of the first entry after the master entry. */
static size_t first_entry(const listpack *l, size_t master_fields, int64_t master_n) {
    return skip(l, master_fields, master_n + 1);
}

typedef struct {
    int64_t flags;
    stream_id id;
    int64_t nfields;
    size_t fpos; /* first field (or value with SAMEFIELDS) */
    size_t next; /* the following entry */
} entry_info;

static void parse_entry(const listpack *l, size_t off, const stream_id *master, int64_t master_n, entry_info *e) {
    int64_t msd, seqd;
    off = get_int(l, off, &e->flags);
    off = get_int(l, off, &msd);
    off = get_int(l, off, &seqd);
    e->id.ms = master->ms + (uint64_t)msd;
    e->id.seq = master->seq + (uint64_t)seqd;
    if (e->flags & STREAM_FLAG_SAMEFIELDS) {
        e->nfields = master_n;
        e->fpos = off;
        off = skip(l, off, master_n);
    } else {
        off = get_int(l, off, &e->nfields);
        e->fpos = off;
        off = skip(l, off, e->nfields * 2);
    }
    e->next = skip(l, off, 1); /* lp-count */
}

/* ---------------------------------------------------------------- value */

stream *stream_new(void) {
    stream *s = mem_calloc(1, sizeof *s);
    return s;
}

void stream_free(stream *s) {
    if (!s) return;
    for (uint32_t i = s->start; i < s->end; i++) lp_free(s->nodes[i].lp);
    mem_free(s->nodes);
    stream_groups_free(s->groups);
    mem_free(s);
}

stream *stream_dup(const stream *s) {
    stream *n = mem_alloc(sizeof *n);
    *n = *s;
    uint32_t cnt = stream_node_count(s);
    n->start = 0;
    n->end = n->cap = cnt;
    n->nodes = cnt ? mem_alloc(sizeof(stream_node) * cnt) : NULL;
    for (uint32_t i = 0; i < cnt; i++) {
        n->nodes[i] = s->nodes[s->start + i];
        n->nodes[i].lp = lp_dup(s->nodes[s->start + i].lp);
    }
    n->groups = stream_groups_dup(s->groups);
    return n;
}

size_t stream_mem(const stream *s) {
    size_t n = mem_usable(s);
    if (s->nodes) n += mem_usable(s->nodes);
    for (uint32_t i = s->start; i < s->end; i++) n += mem_usable(s->nodes[i].lp);
    return n + stream_groups_mem(s->groups);
}

const stream_node *stream_node_at(const stream *s, uint32_t i) { return &s->nodes[s->start + i]; }

static stream_node *push_node(stream *s) {
    if (s->end == s->cap) {
        if (s->start > 0 && s->start >= s->cap / 2) {
            /* compact: the front half is free */
            memmove(s->nodes, s->nodes + s->start, sizeof(stream_node) * (s->end - s->start));
            s->end -= s->start;
            s->start = 0;
        } else {
            s->cap = s->cap ? s->cap * 2 : 4;
            s->nodes = mem_realloc(s->nodes, sizeof(stream_node) * s->cap);
        }
    }
    return &s->nodes[s->end++];
}

static void stream_push_node(stream *s, const stream_id *master, listpack *lp, uint32_t rbytes) {
    stream_node *n = push_node(s);
    n->master = *master;
    n->lp = lp;
    n->rbytes = rbytes;
}

static void remove_node(stream *s, uint32_t i) {
    lp_free(s->nodes[i].lp);
    if (i == s->start) {
        s->start++;
    } else {
        memmove(&s->nodes[i], &s->nodes[i + 1], sizeof(stream_node) * (s->end - i - 1));
        s->end--;
    }
    if (s->start == s->end) s->start = s->end = 0;
}

/* Index of the last node whose master ID is <= id; s->start - 1 if none. */
static long node_floor(const stream *s, const stream_id *id) {
    long lo = s->start, hi = (long)s->end - 1, r = (long)s->start - 1;
    while (lo <= hi) {
        long mid = lo + (hi - lo) / 2;
        if (stream_id_cmp(&s->nodes[mid].master, id) <= 0) {
            r = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return r;
}

/* ---------------------------------------------------------------- append */

void stream_append(stream *s, const stream_id *id, int64_t nfields, const char *const *p, const size_t *len) {
    size_t total = 0;
    for (int64_t i = 0; i < nfields * 2; i++) total += len[i];

    stream_node *n = s->end > s->start ? &s->nodes[s->end - 1] : NULL;
    if (n) {
        size_t maxb = (size_t)cfg_get(stream_node_max_bytes);
        long long maxe = cfg_get(stream_node_max_entries);
        if (maxb == 0 || maxb > STREAM_LISTPACK_MAX_SIZE) maxb = STREAM_LISTPACK_MAX_SIZE;
        int64_t count, deleted, mn;
        master_read(n->lp, &count, &deleted, &mn);
        if (n->rbytes + total >= maxb || (maxe && count + deleted >= maxe)) n = NULL;
    }

    int64_t flags = STREAM_FLAG_NONE;
    listpack *l;
    if (!n) {
        n = push_node(s);
        n->master = *id;
        n->rbytes = 7; /* a Redis listpack's header and terminator */
        l = lp_new();
        l = append_int(n, l, 1);
        l = append_int(n, l, 0);
        l = append_int(n, l, nfields);
        for (int64_t i = 0; i < nfields; i++) l = append_str(n, l, p[i * 2], len[i * 2]);
        l = append_int(n, l, 0);
        flags = STREAM_FLAG_SAMEFIELDS;
    } else {
        int64_t count, deleted, mn;
        size_t off = master_read(n->lp, &count, &deleted, &mn);
        if (mn == nfields) {
            int64_t i;
            for (i = 0; i < mn; i++) {
                const char *f;
                size_t flen;
                off = lp_get(n->lp, off, &f, &flen);
                if (flen != len[i * 2] || memcmp(f, p[i * 2], flen) != 0) break;
            }
            if (i == mn) flags = STREAM_FLAG_SAMEFIELDS;
        }
        replace_int(n, lp_first(n->lp), count + 1);
        l = n->lp;
    }
    /* the entry's elements, appended with one reallocation */
    bool same = flags & STREAM_FLAG_SAMEFIELDS;
    size_t nel = 4 + (size_t)(same ? nfields : 2 * nfields + 1);
    const char *sp[16];
    size_t sl[16];
    const char **ep = nel <= 16 ? sp : mem_alloc(sizeof(char *) * nel);
    size_t *el = nel <= 16 ? sl : mem_alloc(sizeof(size_t) * nel);
    char ints[5][24];
    int64_t lpcount = nfields + 3 + (same ? 0 : nfields + 1);
    int64_t head[4] = {flags, (int64_t)(id->ms - n->master.ms), (int64_t)(id->seq - n->master.seq), nfields};
    size_t k = 0;
    for (int i = 0; i < (same ? 3 : 4); i++) {
        el[k] = format_ll(ints[i], sizeof ints[i], head[i]);
        ep[k++] = ints[i];
    }
    for (int64_t i = 0; i < nfields; i++) {
        if (!same) {
            ep[k] = p[i * 2];
            el[k++] = len[i * 2];
        }
        ep[k] = p[i * 2 + 1];
        el[k++] = len[i * 2 + 1];
    }
    el[k] = format_ll(ints[4], sizeof ints[4], lpcount);
    ep[k++] = ints[4];
    for (size_t i = 0; i < k; i++) n->rbytes += (uint32_t)rpk_lp_entry_bytes(ep[i], el[i]);
    l = lp_append_many(l, ep, el, k);
    if (ep != sp) {
        mem_free(ep);
        mem_free(el);
    }
    n->lp = l;

    s->length++;
    s->entries_added++;
    s->last_id = *id;
    if (s->length == 1) s->first_id = *id;
}

/* ---------------------------------------------------------------- iteration */

static void iter_load(stream_iter *it) {
    const stream_node *n = &it->s->nodes[it->node];
    int64_t count, deleted;
    it->master_fields = master_read(n->lp, &count, &deleted, &it->master_n);
    it->off = first_entry(n->lp, it->master_fields, it->master_n);
    it->in_node = true;
    if (!it->rev) return;
    it->noffs = 0;
    for (size_t off = it->off; off < lp_end(n->lp);) {
        if (it->noffs == it->offs_cap) {
            it->offs_cap = it->offs_cap ? it->offs_cap * 2 : 128;
            it->offs = mem_realloc(it->offs, sizeof(size_t) * it->offs_cap);
        }
        it->offs[it->noffs++] = off;
        entry_info e;
        parse_entry(n->lp, off, &n->master, it->master_n, &e);
        off = e.next;
    }
}

void stream_iter_start(stream_iter *it, const stream *s, const stream_id *start, const stream_id *end, bool rev) {
    memset(it, 0, sizeof *it);
    it->s = s;
    it->start = start ? *start : (stream_id){0, 0};
    it->end = end ? *end : (stream_id){UINT64_MAX, UINT64_MAX};
    it->rev = rev;
    long i;
    if (!rev) {
        i = node_floor(s, &it->start);
        if (i < (long)s->start) i = s->start;
    } else {
        i = node_floor(s, &it->end); /* s->start - 1 when none: the loop ends at once */
    }
    it->node = (uint32_t)i;
    if (rev && i < (long)s->start) it->node = UINT32_MAX;
}

bool stream_iter_next(stream_iter *it, stream_id *id, int64_t *nfields) {
    const stream *s = it->s;
    for (;;) {
        if (!it->in_node) {
            if (it->rev ? (it->node == UINT32_MAX || it->node < s->start) : it->node >= s->end) return false;
            iter_load(it);
        }
        const stream_node *n = &s->nodes[it->node];
        size_t off;
        if (!it->rev) {
            if (it->off >= lp_end(n->lp)) {
                it->node++;
                it->in_node = false;
                continue;
            }
            off = it->off;
        } else {
            if (it->noffs == 0) {
                it->node = it->node == s->start ? UINT32_MAX : it->node - 1;
                it->in_node = false;
                continue;
            }
            off = it->offs[--it->noffs];
        }
        entry_info e;
        parse_entry(n->lp, off, &n->master, it->master_n, &e);
        if (!it->rev) it->off = e.next;
        if (e.flags & STREAM_FLAG_DELETED) continue;
        if (!it->rev) {
            if (stream_id_cmp(&e.id, &it->start) < 0) continue;
            if (stream_id_cmp(&e.id, &it->end) > 0) return false;
        } else {
            if (stream_id_cmp(&e.id, &it->end) > 0) continue;
            if (stream_id_cmp(&e.id, &it->start) < 0) return false;
        }
        *id = e.id;
        *nfields = e.nfields;
        it->samefields = (e.flags & STREAM_FLAG_SAMEFIELDS) != 0;
        it->fpos = e.fpos;
        it->mpos = it->master_fields;
        return true;
    }
}

void stream_iter_field(stream_iter *it, const char **f, size_t *flen, const char **v, size_t *vlen) {
    const listpack *l = it->s->nodes[it->node].lp;
    if (it->samefields) {
        it->mpos = lp_get(l, it->mpos, f, flen);
    } else {
        it->fpos = lp_get(l, it->fpos, f, flen);
    }
    it->fpos = lp_get(l, it->fpos, v, vlen);
}

void stream_iter_stop(stream_iter *it) {
    mem_free(it->offs);
    it->offs = NULL;
}

/* The ID of the first live entry from the front (or from the back). */
static bool live_edge(const stream *s, stream_id *id, bool from_back) {
    stream_iter it;
    int64_t nf;
    stream_iter_start(&it, s, NULL, NULL, from_back);
    bool ok = stream_iter_next(&it, id, &nf);
    stream_iter_stop(&it);
    return ok;
}

bool stream_first_live(const stream *s, stream_id *id) { return live_edge(s, id, false); }
bool stream_last_live(const stream *s, stream_id *id) { return live_edge(s, id, true); }

/* The first (or last) entry of node i, tombstones included. */
static void node_edge(const stream_node *n, bool first, stream_id *id) {
    int64_t count, deleted, mn;
    size_t mf = master_read(n->lp, &count, &deleted, &mn);
    entry_info e;
    size_t off = first_entry(n->lp, mf, mn);
    parse_entry(n->lp, off, &n->master, mn, &e);
    while (!first && e.next < lp_end(n->lp)) parse_entry(n->lp, e.next, &n->master, mn, &e);
    *id = e.id;
}

void stream_first_any(const stream *s, stream_id *id) {
    if (s->end == s->start) {
        *id = (stream_id){UINT64_MAX, UINT64_MAX};
        return;
    }
    node_edge(&s->nodes[s->start], true, id);
}

/* first_id after a deletion at the head: the first live entry (Redis's
 * streamGetEdgeID(s,1,1)), 0-0 when none is left. */
static void refresh_first_id(stream *s) {
    if (s->length == 0 || !stream_first_live(s, &s->first_id)) s->first_id = (stream_id){0, 0};
}

/* ---------------------------------------------------------------- deletion */

/* Mark the entry at off of node i deleted; frees the node when it was its
 * last live entry. */
static void mark_deleted(stream *s, uint32_t i, size_t off, int64_t flags) {
    stream_node *n = &s->nodes[i];
    int64_t count, deleted, mn;
    master_read(n->lp, &count, &deleted, &mn);
    s->length--;
    if (count == 1) {
        remove_node(s, i);
        return;
    }
    replace_int(n, off, flags | STREAM_FLAG_DELETED);
    size_t c = lp_first(n->lp);
    replace_int(n, c, count - 1);
    size_t d = skip(n->lp, lp_first(n->lp), 1);
    replace_int(n, d, deleted + 1);
}

bool stream_entry_exists(const stream *s, const stream_id *id) {
    stream_iter it;
    stream_id found;
    int64_t nf;
    stream_iter_start(&it, s, id, id, false);
    bool ok = stream_iter_next(&it, &found, &nf);
    stream_iter_stop(&it);
    return ok;
}

bool stream_delete(stream *s, const stream_id *id) {
    long i = node_floor(s, id);
    if (i < (long)s->start) return false;
    stream_node *n = &s->nodes[i];
    int64_t count, deleted, mn;
    size_t mf = master_read(n->lp, &count, &deleted, &mn);
    for (size_t off = first_entry(n->lp, mf, mn); off < lp_end(n->lp);) {
        entry_info e;
        parse_entry(n->lp, off, &n->master, mn, &e);
        int c = stream_id_cmp(&e.id, id);
        if (c > 0) break;
        if (c == 0) {
            if (e.flags & STREAM_FLAG_DELETED) return false;
            mark_deleted(s, (uint32_t)i, off, e.flags);
            return true;
        }
        off = e.next;
    }
    return false;
}

int64_t stream_trim(stream *s, const stream_trim_args *a) {
    if (a->strategy == STREAM_TRIM_NONE) return 0;
    int64_t deleted = 0;
    while (s->start < s->end) {
        if (a->strategy == STREAM_TRIM_MAXLEN && s->length <= (uint64_t)a->maxlen) break;
        stream_node *n = &s->nodes[s->start];
        int64_t entries, marked, mn;
        size_t mf = master_read(n->lp, &entries, &marked, &mn);
        if (a->limit && deleted + entries > a->limit) break;
        bool remove;
        if (a->strategy == STREAM_TRIM_MAXLEN) {
            remove = s->length - (uint64_t)entries >= (uint64_t)a->maxlen;
        } else {
            stream_id last;
            node_edge(n, false, &last);
            remove = stream_id_cmp(&last, &a->minid) < 0;
        }
        if (remove) {
            s->length -= (uint64_t)entries;
            deleted += entries;
            remove_node(s, s->start);
            continue;
        }
        if (a->approx) break;
        /* mark entries deleted inside the first node */
        int64_t from_node = 0;
        for (size_t off = first_entry(n->lp, mf, mn); off < lp_end(n->lp);) {
            entry_info e;
            parse_entry(n->lp, off, &n->master, mn, &e);
            bool stop = a->strategy == STREAM_TRIM_MAXLEN ? s->length <= (uint64_t)a->maxlen
                                                          : stream_id_cmp(&e.id, &a->minid) >= 0;
            if (stop) break;
            if (!(e.flags & STREAM_FLAG_DELETED)) {
                size_t before = lp_bytes(n->lp);
                replace_int(n, off, e.flags | STREAM_FLAG_DELETED);
                e.next += lp_bytes(n->lp) - before; /* same size: flags 0..3 are one digit */
                from_node++;
                s->length--;
            }
            off = e.next;
        }
        deleted += from_node;
        replace_int(n, lp_first(n->lp), entries - from_node);
        replace_int(n, skip(n->lp, lp_first(n->lp), 1), marked + from_node);
        break;
    }
    if (s->length == 0) {
        s->first_id = (stream_id){0, 0};
    } else if (deleted) {
        refresh_first_id(s);
    }
    return deleted;
}

/* ---------------------------------------------------------------- loading */

/* A checked walk over a node being loaded: every read is bounded. */
typedef struct {
    const listpack *l;
    size_t off;
    const char *why;
} vwalk;

static bool v_elem(vwalk *w, const char **p, size_t *len) {
    if (w->off >= lp_end(w->l)) {
        w->why = "truncated entry";
        return false;
    }
    w->off = lp_get(w->l, w->off, p, len);
    return true;
}

static bool v_int(vwalk *w, int64_t *v) {
    const char *p;
    size_t len;
    if (!v_elem(w, &p, &len)) return false;
    if (!stream_lp_int(p, len, v)) {
        w->why = "integer expected";
        return false;
    }
    return true;
}

static bool v_skip(vwalk *w, int64_t n) {
    const char *p;
    size_t len;
    for (int64_t i = 0; i < n; i++)
        if (!v_elem(w, &p, &len)) return false;
    return true;
}

bool stream_load_node(stream *s, const stream_id *master, listpack *lp, uint32_t rbytes, stream_id *last_live,
                      const char **why) {
    vwalk w = {lp, lp_first(lp), NULL};
    int64_t count, deleted, mn, zero;
    if (!v_int(&w, &count) || !v_int(&w, &deleted) || !v_int(&w, &mn)) goto bad;
    if (count < 0 || deleted < 0 || mn < 0 || mn > (int64_t)lp_count(lp) || count + deleted == 0) {
        w.why = "bad master entry";
        goto bad;
    }
    if (!v_skip(&w, mn) || !v_int(&w, &zero)) goto bad;
    if (zero != 0) {
        w.why = "master entry not terminated";
        goto bad;
    }
    if (s->end > s->start && stream_id_cmp(master, &s->nodes[s->end - 1].master) <= 0) {
        w.why = "node out of order";
        goto bad;
    }
    /* Live entries strictly increase across the stream; a deleted one may
     * stand anywhere, as XSETID may set the last ID below a deleted entry
     * and the next XADD then appends a smaller ID after it (Redis checks
     * no order at all). */
    stream_id prev = *last_live;
    bool have_prev = s->length > 0;
    int64_t live = 0, dead = 0;
    for (int64_t e = 0; e < count + deleted; e++) {
        int64_t flags, msd, seqd, nf = mn, extra = 3, lpc;
        if (!v_int(&w, &flags) || !v_int(&w, &msd) || !v_int(&w, &seqd)) goto bad;
        if (flags < 0 || flags > 3) {
            w.why = "bad entry flags";
            goto bad;
        }
        stream_id id = {master->ms + (uint64_t)msd, master->seq + (uint64_t)seqd};
        if (e == 0 && stream_id_cmp(&id, master) < 0) {
            w.why = "entry IDs out of order";
            goto bad;
        }
        if (!(flags & STREAM_FLAG_DELETED)) {
            if (have_prev && stream_id_cmp(&id, &prev) <= 0) {
                w.why = "entry IDs out of order";
                goto bad;
            }
            prev = id;
            have_prev = true;
        }
        if (!(flags & STREAM_FLAG_SAMEFIELDS)) {
            if (!v_int(&w, &nf)) goto bad;
            if (nf < 0 || nf > (int64_t)lp_count(lp)) {
                w.why = "bad field count";
                goto bad;
            }
            if (!v_skip(&w, nf)) goto bad;
            extra += nf + 1;
        }
        if (!v_skip(&w, nf) || !v_int(&w, &lpc)) goto bad;
        if (lpc != nf + extra) {
            w.why = "bad lp-count";
            goto bad;
        }
        if (flags & STREAM_FLAG_DELETED)
            dead++;
        else
            live++;
    }
    if (w.off != lp_end(lp)) {
        w.why = "trailing elements";
        goto bad;
    }
    if (live != count || dead != deleted) {
        w.why = "entry counts do not match the master entry";
        goto bad;
    }
    stream_push_node(s, master, lp, rbytes);
    s->length += (uint64_t)count;
    *last_live = prev;
    return true;
bad:
    *why = w.why ? w.why : "corrupt node";
    return false;
}

bool stream_last_any(const stream *s, stream_id *id) {
    if (s->end == s->start) return false;
    node_edge(&s->nodes[s->end - 1], false, id);
    return true;
}
