/*
 * t_geo.c - the geo commands (GEOADD, GEODIST, GEOHASH, GEOPOS, GEORADIUS,
 * GEORADIUSBYMEMBER and their _RO forms, GEOSEARCH, GEOSEARCHSTORE) over
 * the sorted set type, and their command table (geo_commands).
 *
 * Design choices a reader must know:
 * - A geo set is a plain sorted set whose scores are Redis's 52-bit
 *   geohashes (geohash.c), so ZRANGE, ZREM, DUMP and the RDB see exactly
 *   what Redis stores. GEOADD adds through zset_add and propagates as the
 *   ZADD it amounts to (Redis 7.0 rewrites its argv into ZADD).
 * - A search visits Redis's 9 boxes in Redis's order and, inside a box,
 *   the members in score order, filtering each by the exact radius / box
 *   test: the matches come out in the order Redis collects them, which is
 *   the reply's order when unsorted and the tie order when sorted (same
 *   libc qsort, same comparator). Matches point into the source set (no
 *   copy): nothing changes it while the command runs.
 * - Argument checks run in Redis's order (georadiusGeneric), so the first
 *   error reported is the one Redis reports. The STORE forms build a new
 *   set and hand it to zset_store (an empty result deletes the
 *   destination, "del"); the event is "georadiusstore" or
 *   "geosearchstore", and the command propagates verbatim.
 */
#include "client.h"
#include "command_modules.h"
#include "commands.h"
#include "db.h"
#include "entry.h"
#include "geohash.h"
#include "mem.h"
#include "notify.h"
#include "numparse.h"
#include "propagate.h"
#include "t_zset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERR_DECODE_MEMBER "ERR could not decode requested zset member"

/* ------------------------------------------------------------ argument helpers */

/* argv[i], argv[i + 1] as longitude, latitude inside Redis's limits. */
static bool lonlat_or_reply(client *c, int i, double *xy) {
    for (int j = 0; j < 2; j++)
        if (!arg_double_or_reply(c, &c->argv[i + j], &xy[j], NULL)) return false;
    if (xy[0] < GEO_LONG_MIN || xy[0] > GEO_LONG_MAX || xy[1] < GEO_LAT_MIN || xy[1] > GEO_LAT_MAX) {
        add_reply_errorf(c, "ERR invalid longitude,latitude pair %f,%f", xy[0], xy[1]);
        return false;
    }
    return true;
}

/* Meters per unit, or -1 after replying the error. */
static double unit_or_reply(client *c, const arg_t *a) {
    if (arg_eq(a, "m")) return 1;
    if (arg_eq(a, "km")) return 1000;
    if (arg_eq(a, "ft")) return 0.3048;
    if (arg_eq(a, "mi")) return 1609.34;
    add_reply_error(c, "ERR unsupported unit provided. please use M, KM, FT, MI");
    return -1;
}

/* <radius> <unit> at argv[i]. */
static bool radius_or_reply(client *c, int i, geo_shape *s) {
    double r;
    if (!arg_double_or_reply(c, &c->argv[i], &r, "ERR need numeric radius")) return false;
    if (r < 0) {
        add_reply_error(c, "ERR radius cannot be negative");
        return false;
    }
    s->radius = r;
    double conv = unit_or_reply(c, &c->argv[i + 1]);
    if (conv < 0) return false;
    s->conversion = conv;
    return true;
}

/* <width> <height> <unit> at argv[i]. */
static bool box_or_reply(client *c, int i, geo_shape *s) {
    double w, h;
    if (!arg_double_or_reply(c, &c->argv[i], &w, "ERR need numeric width") ||
        !arg_double_or_reply(c, &c->argv[i + 1], &h, "ERR need numeric height"))
        return false;
    if (h < 0 || w < 0) {
        add_reply_error(c, "ERR height or width cannot be negative");
        return false;
    }
    s->width = w;
    s->height = h;
    double conv = unit_or_reply(c, &c->argv[i + 2]);
    if (conv < 0) return false;
    s->conversion = conv;
    return true;
}

/* A member's position; false when it is not in the set. */
static bool member_lonlat(const zset *z, const arg_t *m, double *xy) {
    double score;
    if (!zset_score(z, m->ptr, m->len, &score)) return false;
    geohash_decode_score(score, xy);
    return true;
}

/* ------------------------------------------------------------ replies */

/* A distance with 4 decimals (Redis's fixedpoint_d2string: the value
 * times 10^4 rounded to an integer by llrint), as a bulk string. */
static void reply_distance(client *c, double d) {
    char buf[48];
    long long v = llrint(d * 10000.0);
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    int n = snprintf(buf, sizeof buf, "%s%llu.%04llu", v < 0 ? "-" : "", u / 10000, u % 10000);
    add_reply_bulk(c, buf, (size_t)n);
}

/* A coordinate as Redis's addReplyHumanLongDouble: "%.17Lf" without
 * trailing zeros, a bulk string in RESP2, a double in RESP3. */
static void reply_coord(client *c, double v) {
    char buf[80];
    size_t n = format_ld_human(buf + 1, sizeof buf - 3, (long double)v);
    if (c->resp == 2) {
        add_reply_bulk(c, buf + 1, n);
        return;
    }
    buf[0] = ',';
    buf[n + 1] = '\r';
    buf[n + 2] = '\n';
    add_reply_raw(c, buf, n + 3);
}

/* ------------------------------------------------------------ GEOADD */

/* GEOADD key [NX|XX] [CH] lon lat member [lon lat member ...] */
static void geoadd_command(client *c) {
    bool nx = false, xx = false, ch = false;
    int first = 2;
    for (; first < c->argc; first++) {
        const arg_t *a = &c->argv[first];
        if (arg_eq(a, "nx"))
            nx = true;
        else if (arg_eq(a, "xx"))
            xx = true;
        else if (arg_eq(a, "ch"))
            ch = true;
        else
            break;
    }
    int elements = (c->argc - first) / 3;
    if ((c->argc - first) % 3 || (nx && xx) || elements == 0) {
        add_reply_error(c, ERR_SYNTAX);
        return;
    }
    double stack_scores[16];
    double *scores = elements <= 16 ? stack_scores : mem_alloc((size_t)elements * sizeof(double));
    for (int j = 0; j < elements; j++) {
        double xy[2];
        if (!lonlat_or_reply(c, first + 3 * j, xy)) goto cleanup;
        geohash_bits h;
        geohash_encode_wgs84(xy[0], xy[1], GEO_STEP_MAX, &h);
        scores[j] = (double)geohash_align52(h);
    }

    dbkey k;
    bool err;
    entry *e = zset_lookup(c, 1, &k, LOOKUP_WRITE, NULL, &err);
    if (err) goto cleanup;
    long added = 0, updated = 0;
    if (!e && xx) goto reply;
    zset_limits lim;
    zset *z = zset_for_adding(&k, &e, &lim);
    int in = (nx ? ZADD_IN_NX : 0) | (xx ? ZADD_IN_XX : 0);
    for (int j = 0; j < elements; j++) {
        const arg_t *m = &c->argv[first + 3 * j + 2];
        int out;
        double newscore;
        zset_add(z, scores[j], m->ptr, m->len, in, &out, &newscore, z->enc == ENC_LISTPACK ? &lim : NULL);
        if (out & ZADD_OUT_ADDED) added++;
        if (out & ZADD_OUT_UPDATED) updated++;
    }
    zset_sync_encoding(e);
reply:
    add_reply_integer(c, ch ? added + updated : added);
    if (added || updated) {
        /* Redis 7.0 replaced the argv by ZADD key [options] score member ... */
        propagate_rewrite_begin(first + 2 * elements);
        propagate_arg_str("zadd");
        for (int i = 1; i < first; i++) propagate_arg(c->argv[i].ptr, c->argv[i].len);
        for (int j = 0; j < elements; j++) {
            propagate_arg_ll((long long)scores[j]);
            propagate_arg(c->argv[first + 3 * j + 2].ptr, c->argv[first + 3 * j + 2].len);
        }
        db_changed(&k, NOTIFY_ZSET, "zadd");
    }
cleanup:
    if (scores != stack_scores) mem_free(scores);
}

/* ------------------------------------------------------------ GEODIST / GEOHASH / GEOPOS */

/* GEODIST key member1 member2 [M|KM|FT|MI] */
static void geodist_command(client *c) {
    double to_meters = 1;
    if (c->argc == 5) {
        to_meters = unit_or_reply(c, &c->argv[4]);
        if (to_meters < 0) return;
    } else if (c->argc > 5) {
        add_reply_error(c, ERR_SYNTAX);
        return;
    }
    dbkey k;
    bool err;
    entry *e = zset_lookup(c, 1, &k, LOOKUP_READ, NULL, &err);
    if (err) return;
    double a[2], b[2];
    if (!e || !member_lonlat(zset_of(e), &c->argv[2], a) || !member_lonlat(zset_of(e), &c->argv[3], b)) {
        add_reply_null(c);
        return;
    }
    reply_distance(c, geohash_distance(a[0], a[1], b[0], b[1]) / to_meters);
}

/* GEOHASH and GEOPOS: an array with, for each member argument, emit(xy)
 * or, for a member (or key) that is not there, missing(). */
static void reply_members(client *c, void (*emit)(client *c, const double *xy), void (*missing)(client *c)) {
    dbkey k;
    bool err;
    entry *e = zset_lookup(c, 1, &k, LOOKUP_READ, NULL, &err);
    if (err) return;
    add_reply_array(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        double xy[2];
        if (e && member_lonlat(zset_of(e), &c->argv[j], xy))
            emit(c, xy);
        else
            missing(c);
    }
}

/* An 11-character standard geohash (latitude range -90..90), the last
 * character always '0' (52 bits only). */
static void emit_geohash(client *c, const double *xy) {
    static const char alphabet[] = "0123456789bcdefghjkmnpqrstuvwxyz";
    const geohash_range lon_r = {-180, 180}, lat_r = {-90, 90};
    geohash_bits h;
    geohash_encode(&lon_r, &lat_r, xy[0], xy[1], GEO_STEP_MAX, &h);
    char buf[11];
    for (int i = 0; i < 10; i++) buf[i] = alphabet[(h.bits >> (52 - (i + 1) * 5)) & 0x1f];
    buf[10] = alphabet[0];
    add_reply_bulk(c, buf, sizeof buf);
}

static void emit_pos(client *c, const double *xy) {
    add_reply_array(c, 2);
    reply_coord(c, xy[0]);
    reply_coord(c, xy[1]);
}

/* GEOHASH key [member ...] */
static void geohash_command(client *c) { reply_members(c, emit_geohash, add_reply_null); }
/* GEOPOS key [member ...] */
static void geopos_command(client *c) { reply_members(c, emit_pos, add_reply_null_array); }

/* ------------------------------------------------------------ searches */

typedef struct {
    double xy[2];
    double dist; /* meters while collecting, the unit once replied */
    double score;
    const char *m; /* into the source set */
    size_t len;
} geo_point;

typedef struct {
    geo_point *v;
    size_t n, cap;
} geo_points;

static void points_push(geo_points *p, const double *xy, double dist, double score, const char *m, size_t len) {
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 8;
        p->v = mem_realloc(p->v, p->cap * sizeof *p->v);
    }
    p->v[p->n++] = (geo_point){{xy[0], xy[1]}, dist, score, m, len};
}

/* The members of box h that lie inside the shape, in score order; stops
 * once `limit` matches (0: no limit) were collected in all. */
static void box_members(const zset *z, geohash_bits h, const geo_shape *s, geo_points *out, size_t limit) {
    /* Every score with the box's 2*step bits as prefix: [min, max). */
    zrange_score r = {.min = (double)geohash_align52(h), .minex = false, .maxex = true};
    h.bits++;
    r.max = (double)geohash_align52(h);
    long lo, hi;
    if (!zset_score_interval(z, &r, &lo, &hi)) return;
    zset_iter it;
    zset_iter_init_at(&it, z, lo);
    double score;
    for (long i = lo; i <= hi && zset_iter_next(&it, NULL, NULL, &score); i++) {
        double xy[2], dist = 0;
        geohash_decode_score(score, xy);
        if (geohash_in_shape(s, xy, &dist)) {
            const char *m;
            size_t len;
            zset_iter_member(&it, &m, &len);
            points_push(out, xy, dist, score, m, len);
        }
        if (out->n && limit && out->n >= limit) break;
    }
}

/* Redis's membersOfAllNeighbors: the 9 boxes in order, skipping zeroed
 * boxes and a box equal to the last one searched (huge radii). */
static void search_members(const zset *z, const geohash_search *a, const geo_shape *s, geo_points *out,
                           size_t limit) {
    int last = -1;
    for (int i = 0; i < 9; i++) {
        geohash_bits b = a->boxes[i];
        if (b.bits == 0 && b.step == 0) continue;
        if (last > 0 && b.bits == a->boxes[last].bits && b.step == a->boxes[last].step) continue;
        if (out->n && limit && out->n >= limit) break;
        box_members(z, b, s, out, limit);
        last = i;
    }
}

static int cmp_dist_asc(const void *a, const void *b) {
    const geo_point *x = a, *y = b;
    return x->dist > y->dist ? 1 : x->dist == y->dist ? 0 : -1;
}

static int cmp_dist_desc(const void *a, const void *b) { return -cmp_dist_asc(a, b); }

typedef int geo_cmp_fn(const void *a, const void *b);

static void pt_swap(geo_point *v, long i, long j) {
    geo_point t = v[i];
    v[i] = v[j];
    v[j] = t;
}

static long pt_med3(const geo_point *v, long a, long b, long c, geo_cmp_fn *cmp) {
    if (cmp(&v[a], &v[b]) < 0) return cmp(&v[b], &v[c]) < 0 ? b : cmp(&v[a], &v[c]) < 0 ? c : a;
    return cmp(&v[b], &v[c]) > 0 ? b : cmp(&v[a], &v[c]) < 0 ? a : c;
}

/* Sort v[0..n) far enough that positions wl..wh (relative to v) hold what a
 * full sort puts there, in order. This is the partial Bentley-McIlroy
 * quicksort Redis uses when COUNT cuts the matches (its pqsort): the same
 * pivots, the same three-way partition and the same skipped partitions,
 * so members at equal distances come out in Redis's order. */
static void pt_partial_sort(geo_point *v, long n, geo_cmp_fn *cmp, long wl, long wh) {
    for (;;) {
        if (n < 7) { /* insertion sort */
            for (long m = 1; m < n; m++)
                for (long l = m; l > 0 && cmp(&v[l - 1], &v[l]) > 0; l--) pt_swap(v, l, l - 1);
            return;
        }
        long m = n / 2;
        if (n > 7) {
            long l = 0, r = n - 1;
            if (n > 40) { /* Tukey's ninther */
                long d = n / 8;
                l = pt_med3(v, l, l + d, l + 2 * d, cmp);
                m = pt_med3(v, m - d, m, m + d, cmp);
                r = pt_med3(v, r - 2 * d, r - d, r, cmp);
            }
            m = pt_med3(v, l, m, r, cmp);
        }
        pt_swap(v, 0, m);
        /* Equal keys gather at both ends ([1, a) and (d, n)), then move to
         * the middle. */
        long a = 1, b = 1, c = n - 1, d = n - 1;
        for (;;) {
            int res;
            while (b <= c && (res = cmp(&v[b], &v[0])) <= 0) {
                if (res == 0) pt_swap(v, a++, b);
                b++;
            }
            while (b <= c && (res = cmp(&v[c], &v[0])) >= 0) {
                if (res == 0) pt_swap(v, c, d--);
                c--;
            }
            if (b > c) break;
            pt_swap(v, b++, c--);
        }
        long s = a < b - a ? a : b - a;
        for (long i = 0; i < s; i++) pt_swap(v, i, b - s + i);
        s = d - c < n - d - 1 ? d - c : n - d - 1;
        for (long i = 0; i < s; i++) pt_swap(v, b + i, n - s + i);
        long left = b - a, right = d - c;
        if (left > 1 && !(wh < 0 || wl > left - 1)) pt_partial_sort(v, left, cmp, wl, wh);
        if (right <= 1) return;
        v += n - right;
        wl -= n - right;
        wh -= n - right;
        n = right;
        if (wh < 0 || wl > n - 1) return;
    }
}

enum {
    GEO_FROM_COORDS = 1 << 0, /* GEORADIUS: center lon lat at argv[2] */
    GEO_FROM_MEMBER = 1 << 1, /* GEORADIUSBYMEMBER: center member at argv[2] */
    GEO_NO_STORE = 1 << 2,    /* the _RO forms */
    GEO_SEARCH = 1 << 3,      /* GEOSEARCH syntax */
    GEO_SEARCH_STORE = 1 << 4 /* GEOSEARCHSTORE */
};
enum { SORT_NONE, SORT_ASC, SORT_DESC };

/* Redis's georadiusGeneric: the source set is argv[src]. */
static void geo_search(client *c, int src, int flags) {
    int store_arg = 0; /* argv index of the destination, 0: none */
    bool storedist = false;
    dbkey k;
    bool err;
    entry *e = zset_lookup(c, src, &k, LOOKUP_READ, NULL, &err);
    if (err) return;
    const zset *z = zset_of(e);

    geo_shape shape = {0};
    int base;
    if (flags & GEO_FROM_COORDS) {
        base = 6;
        shape.type = GEO_SHAPE_CIRCLE;
        if (!lonlat_or_reply(c, 2, shape.xy) || !radius_or_reply(c, 4, &shape)) return;
    } else if (flags & GEO_FROM_MEMBER) {
        base = 5;
        if (z) { /* without a set, only the options are checked */
            shape.type = GEO_SHAPE_CIRCLE;
            if (!member_lonlat(z, &c->argv[2], shape.xy)) {
                add_reply_error(c, ERR_DECODE_MEMBER);
                return;
            }
            if (!radius_or_reply(c, 3, &shape)) return;
        }
    } else {
        base = 2;
        if (flags & GEO_SEARCH_STORE) {
            base = 3;
            store_arg = 1;
        }
    }

    bool withdist = false, withhash = false, withcoord = false, any = false;
    bool frommember = false, fromlonlat = false, byradius = false, bybox = false;
    int sort = SORT_NONE;
    long long count = 0;
    bool search = flags & GEO_SEARCH, can_store = !(flags & (GEO_NO_STORE | GEO_SEARCH));
    for (int i = base; i < c->argc; i++) {
        const arg_t *a = &c->argv[i];
        int left = c->argc - i - 1; /* arguments after this one */
        if (arg_eq(a, "withdist")) {
            withdist = true;
        } else if (arg_eq(a, "withhash")) {
            withhash = true;
        } else if (arg_eq(a, "withcoord")) {
            withcoord = true;
        } else if (arg_eq(a, "any")) {
            any = true;
        } else if (arg_eq(a, "asc")) {
            sort = SORT_ASC;
        } else if (arg_eq(a, "desc")) {
            sort = SORT_DESC;
        } else if (arg_eq(a, "count") && left >= 1) {
            if (!arg_ll_or_reply(c, &c->argv[i + 1], &count, NULL)) return;
            if (count <= 0) {
                add_reply_error(c, "ERR COUNT must be > 0");
                return;
            }
            i++;
        } else if ((arg_eq(a, "store") || arg_eq(a, "storedist")) && left >= 1 && can_store) {
            storedist = arg_eq(a, "storedist");
            store_arg = i + 1;
            i++;
        } else if (arg_eq(a, "storedist") && (flags & GEO_SEARCH_STORE)) {
            storedist = true;
        } else if (arg_eq(a, "frommember") && left >= 1 && search && !fromlonlat) {
            if (z && !member_lonlat(z, &c->argv[i + 1], shape.xy)) {
                add_reply_error(c, ERR_DECODE_MEMBER);
                return;
            }
            frommember = true;
            i++;
        } else if (arg_eq(a, "fromlonlat") && left >= 2 && search && !frommember) {
            if (!lonlat_or_reply(c, i + 1, shape.xy)) return;
            fromlonlat = true;
            i += 2;
        } else if (arg_eq(a, "byradius") && left >= 2 && search && !bybox) {
            if (!radius_or_reply(c, i + 1, &shape)) return;
            shape.type = GEO_SHAPE_CIRCLE;
            byradius = true;
            i += 2;
        } else if (arg_eq(a, "bybox") && left >= 3 && search && !byradius) {
            if (!box_or_reply(c, i + 1, &shape)) return;
            shape.type = GEO_SHAPE_BOX;
            bybox = true;
            i += 3;
        } else {
            add_reply_error(c, ERR_SYNTAX);
            return;
        }
    }

    if (store_arg && (withdist || withhash || withcoord)) {
        add_reply_errorf(c, "ERR %s is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
                         flags & GEO_SEARCH_STORE ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS");
        return;
    }
    if (search && !frommember && !fromlonlat) {
        add_reply_errorf(c, "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for %.*s",
                         (int)c->argv[0].len, c->argv[0].ptr);
        return;
    }
    if (search && !byradius && !bybox) {
        add_reply_errorf(c, "ERR exactly one of BYRADIUS and BYBOX can be specified for %.*s",
                         (int)c->argv[0].len, c->argv[0].ptr);
        return;
    }
    if (any && !count) {
        add_reply_error(c, "ERR the ANY argument requires COUNT argument");
        return;
    }

    if (!z) {
        if (store_arg)
            zset_store(c, store_arg, zset_new(), flags & GEO_SEARCH ? "geosearchstore" : "georadiusstore");
        else
            add_reply_array(c, 0);
        return;
    }
    /* COUNT alone means the nearest ones. */
    if (count && sort == SORT_NONE && !any) sort = SORT_ASC;

    geohash_search area;
    geohash_search_area(&shape, &area);
    geo_points pts = {0};
    search_members(z, &area, &shape, &pts, any ? (size_t)count : 0);
    if (pts.n == 0 && !store_arg) {
        add_reply_array(c, 0);
        return;
    }
    size_t returned = count == 0 || pts.n < (unsigned long long)count ? pts.n : (size_t)count;
    if (sort != SORT_NONE && pts.n > 1) {
        geo_cmp_fn *cmp = sort == SORT_ASC ? cmp_dist_asc : cmp_dist_desc;
        if (returned == pts.n)
            qsort(pts.v, pts.n, sizeof *pts.v, cmp);
        else
            pt_partial_sort(pts.v, (long)pts.n, cmp, 0, (long)returned - 1);
    }

    if (!store_arg) {
        int opts = withdist + withhash + withcoord;
        add_reply_array(c, (long long)returned);
        for (size_t i = 0; i < returned; i++) {
            const geo_point *p = &pts.v[i];
            if (opts) add_reply_array(c, opts + 1);
            add_reply_bulk(c, p->m, p->len);
            if (withdist) reply_distance(c, p->dist / shape.conversion);
            if (withhash) add_reply_integer(c, (long long)p->score);
            if (withcoord) {
                add_reply_array(c, 2);
                reply_coord(c, p->xy[0]);
                reply_coord(c, p->xy[1]);
            }
        }
    } else {
        zset *dst = zset_new_skiplist();
        for (size_t i = 0; i < returned; i++) {
            const geo_point *p = &pts.v[i];
            int out;
            double ns;
            zset_add(dst, storedist ? p->dist / shape.conversion : p->score, p->m, p->len, 0, &out, &ns, NULL);
        }
        zset_store(c, store_arg, dst, flags & GEO_SEARCH ? "geosearchstore" : "georadiusstore");
    }
    mem_free(pts.v);
}

static void georadius_command(client *c) { geo_search(c, 1, GEO_FROM_COORDS); }
static void georadiusbymember_command(client *c) { geo_search(c, 1, GEO_FROM_MEMBER); }
static void georadius_ro_command(client *c) { geo_search(c, 1, GEO_FROM_COORDS | GEO_NO_STORE); }
static void georadiusbymember_ro_command(client *c) { geo_search(c, 1, GEO_FROM_MEMBER | GEO_NO_STORE); }
static void geosearch_command(client *c) { geo_search(c, 1, GEO_SEARCH); }
static void geosearchstore_command(client *c) { geo_search(c, 2, GEO_SEARCH | GEO_SEARCH_STORE); }

/* GEORADIUS / GEORADIUSBYMEMBER keys: the source and every STORE or
 * STOREDIST destination from argv[5] on. The command writes the last one
 * (Redis's georadiusGetKeys names only it); every one is locked and checked
 * for CROSSSLOT, so the key written is always among them. */
static int georadius_keys(const arg_t *argv, int argc, int *keyidx, int max) {
    int n = 0;
    if (n < max && argc > 1) keyidx[n++] = 1;
    for (int i = 5; i + 1 < argc && n < max; i++) {
        if (arg_eq(&argv[i], "store") || arg_eq(&argv[i], "storedist")) keyidx[n++] = ++i;
    }
    return n;
}

/* ------------------------------------------------------------ command table */

#define GKEY1 .first_key = 1, .last_key = 1, .key_step = 1
#define GGROUP .group = "geo"
#define RADIUS_COMPLEXITY                                                                                          \
    "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by "   \
    "center and radius and M is the number of items inside the index."
#define SEARCH_COMPLEXITY                                                                                          \
    "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape "       \
    "provided as the filter and M is the number of items inside the shape"

command geo_commands[] = {
    {.name = "geoadd", .arity = -5, .flags = CMD_WRITE | CMD_DENYOOM, GKEY1, .proc = geoadd_command, GGROUP,
     .since = "3.2.0",
     .summary = "Add one or more geospatial items in the geospatial index represented using a sorted set",
     .complexity = "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
     .acl_categories = "write geo slow"},
    {.name = "geodist", .arity = -4, .flags = CMD_READONLY, GKEY1, .proc = geodist_command, GGROUP,
     .since = "3.2.0", .summary = "Returns the distance between two members of a geospatial index",
     .complexity = "O(log(N))", .acl_categories = "read geo slow"},
    {.name = "geohash", .arity = -2, .flags = CMD_READONLY, GKEY1, .proc = geohash_command, GGROUP,
     .since = "3.2.0", .summary = "Returns members of a geospatial index as standard geohash strings",
     .complexity = "O(log(N)) for each member requested, where N is the number of elements in the sorted set.",
     .acl_categories = "read geo slow"},
    {.name = "geopos", .arity = -2, .flags = CMD_READONLY, GKEY1, .proc = geopos_command, GGROUP,
     .since = "3.2.0", .summary = "Returns longitude and latitude of members of a geospatial index",
     .complexity = "O(N) where N is the number of members requested.", .acl_categories = "read geo slow"},
    {.name = "georadius", .arity = -6, .flags = CMD_WRITE | CMD_DENYOOM, GKEY1, .keys_fn = georadius_keys,
     .proc = georadius_command, GGROUP, .since = "3.2.0",
     .summary = "Query a sorted set representing a geospatial index to fetch members matching a given maximum "
                "distance from a point",
     .complexity = RADIUS_COMPLEXITY, .acl_categories = "write geo slow"},
    {.name = "georadius_ro", .arity = -6, .flags = CMD_READONLY, GKEY1, .proc = georadius_ro_command, GGROUP,
     .since = "3.2.10", .summary = "A read-only variant for GEORADIUS", .complexity = RADIUS_COMPLEXITY,
     .acl_categories = "read geo slow"},
    {.name = "georadiusbymember", .arity = -5, .flags = CMD_WRITE | CMD_DENYOOM, GKEY1,
     .keys_fn = georadius_keys, .proc = georadiusbymember_command, GGROUP, .since = "3.2.0",
     .summary = "Query a sorted set representing a geospatial index to fetch members matching a given maximum "
                "distance from a member",
     .complexity = RADIUS_COMPLEXITY, .acl_categories = "write geo slow"},
    {.name = "georadiusbymember_ro", .arity = -5, .flags = CMD_READONLY, GKEY1,
     .proc = georadiusbymember_ro_command, GGROUP, .since = "3.2.10",
     .summary = "A read-only variant for GEORADIUSBYMEMBER", .complexity = RADIUS_COMPLEXITY,
     .acl_categories = "read geo slow"},
    {.name = "geosearch", .arity = -7, .flags = CMD_READONLY, GKEY1, .proc = geosearch_command, GGROUP,
     .since = "6.2.0",
     .summary = "Query a sorted set representing a geospatial index to fetch members inside an area of a box or "
                "a circle.",
     .complexity = SEARCH_COMPLEXITY, .acl_categories = "read geo slow"},
    {.name = "geosearchstore", .arity = -8, .flags = CMD_WRITE | CMD_DENYOOM, .first_key = 1, .last_key = 2,
     .key_step = 1, .proc = geosearchstore_command, GGROUP, .since = "6.2.0",
     .summary = "Query a sorted set representing a geospatial index to fetch members inside an area of a box or "
                "a circle, and store the result in another key.",
     .complexity = SEARCH_COMPLEXITY, .acl_categories = "write geo slow"},
    {0},
};
