/*
 * rdb_packed.c - Redis's listpack, ziplist, zipmap and intset blobs (see
 * rdb_packed.h), written from the format descriptions in Redis's
 * listpack.c, ziplist.c, zipmap.c and intset.c.
 *
 * Design choices a reader must know:
 * - rpk_open validates a blob completely before anything is read from it,
 *   so rpk_next can decode without bounds checks. The checks are Redis's
 *   deep sanitization (lpValidateIntegrity, ziplistValidateIntegrity,
 *   zipmapValidateIntegrity, intsetValidateIntegrity), a little stricter
 *   where Redis tolerates what it never writes (a listpack entry's back
 *   length must be in its canonical form).
 * - The listpack writer produces exactly the bytes Redis's lpAppend would
 *   (same integer/string choice, same length and back-length encodings, the
 *   16-bit element count saturating at 65535), so DUMP output can match
 *   redis-server's byte for byte.
 */
#include "rdb_packed.h"

#include "numparse.h"

#include <stdio.h>
#include <string.h>

#define LP_HDR 6
#define LP_EOF 0xff
#define LP_COUNT_UNKNOWN 0xffff
#define ZL_HDR 10
#define ZL_END 0xff
#define ZM_BIGLEN 254
#define ZM_END 0xff

static uint32_t get_u32le(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_le(const unsigned char *p, unsigned n) {
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* The n-byte little-endian two's complement integer at p. */
static long long get_signed_le(const unsigned char *p, unsigned n) {
    uint64_t v = get_le(p, n);
    if (n < 8 && (v >> (8 * n - 1)) & 1) v |= ~(uint64_t)0 << (8 * n);
    return (long long)v;
}

static void put_le(unsigned char *p, uint64_t v, unsigned n) {
    for (unsigned i = 0; i < n; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void elem_int(rpk_elem *e, long long v) {
    e->is_int = true;
    e->v = v;
    e->len = format_ll(e->buf, sizeof e->buf, v);
    e->p = e->buf;
}

static void elem_str(rpk_elem *e, const unsigned char *p, size_t len) {
    e->is_int = false;
    e->v = 0;
    e->p = (const char *)p;
    e->len = len;
}

static bool bad(char *err, size_t errlen, const char *what) {
    snprintf(err, errlen, "%s", what);
    return false;
}

/* ================================================================ listpack */

/* Bytes of the back length Redis stores after an entry of l bytes. */
static unsigned lp_backlen_size(uint64_t l) {
    if (l <= 127) return 1;
    if (l < 16383) return 2;
    if (l < 2097151) return 3;
    if (l < 268435455) return 4;
    return 5;
}

static unsigned lp_backlen_encode(unsigned char *buf, uint64_t l) {
    unsigned n = lp_backlen_size(l);
    /* Most significant 7-bit group first; every byte but the first has the
     * high bit set (the field is read backwards from its last byte). */
    for (unsigned i = 0; i < n; i++) {
        unsigned shift = 7 * (n - 1 - i);
        buf[i] = (unsigned char)(((l >> shift) & 127) | (i ? 128 : 0));
    }
    return n;
}

/* Bytes needed to learn an entry's length (0: not a valid first byte). */
static unsigned lp_len_bytes(unsigned char b) {
    if ((b & 0x80) == 0 || (b & 0xc0) == 0x80 || (b & 0xe0) == 0xc0) return 1;
    if ((b & 0xf0) == 0xe0) return 2;
    if (b == 0xf0) return 5;
    if (b >= 0xf1 && b <= 0xf4) return 1;
    return 0;
}

/* Encoding plus data bytes of the entry at p (its length bytes readable). */
static uint64_t lp_entry_size(const unsigned char *p) {
    unsigned char b = p[0];
    if ((b & 0x80) == 0) return 1;
    if ((b & 0xc0) == 0x80) return 1 + (b & 0x3f);
    if ((b & 0xe0) == 0xc0) return 2;
    if ((b & 0xf0) == 0xe0) return 2 + (((uint64_t)(b & 0x0f) << 8) | p[1]);
    if (b == 0xf0) return 5 + (uint64_t)get_u32le(p + 1);
    static const unsigned ints[] = {3, 4, 5, 9}; /* 0xf1..0xf4 */
    return ints[b - 0xf1];
}

static bool lp_check(rpk_iter *it, const unsigned char *lp, size_t size, char *err, size_t errlen) {
    if (size < LP_HDR + 1) return bad(err, errlen, "listpack shorter than its header");
    if (get_u32le(lp) != size) return bad(err, errlen, "listpack total bytes do not match its size");
    if (lp[size - 1] != LP_EOF) return bad(err, errlen, "listpack without its terminator");
    const unsigned char *p = lp + LP_HDR, *eof = lp + size - 1;
    size_t count = 0;
    while (*p != LP_EOF) {
        unsigned hl = lp_len_bytes(*p);
        if (!hl) return bad(err, errlen, "listpack entry with an invalid encoding");
        if ((size_t)(eof - p) < hl) return bad(err, errlen, "listpack entry header past the end");
        uint64_t el = lp_entry_size(p);
        unsigned bl = lp_backlen_size(el);
        if (el + bl > (uint64_t)(eof - p)) return bad(err, errlen, "listpack entry past the end");
        unsigned char back[5];
        lp_backlen_encode(back, el);
        if (memcmp(p + el, back, bl) != 0) return bad(err, errlen, "listpack entry with a wrong back length");
        p += el + bl;
        count++;
    }
    if (p != eof) return bad(err, errlen, "listpack terminator before its end");
    unsigned numele = (unsigned)get_le(lp + 4, 2);
    if (numele != LP_COUNT_UNKNOWN && numele != count)
        return bad(err, errlen, "listpack element count does not match its header");
    it->p = lp + LP_HDR;
    it->count = count;
    return true;
}

static void lp_next(rpk_iter *it, rpk_elem *e) {
    const unsigned char *p = it->p;
    unsigned char b = p[0];
    uint64_t el = lp_entry_size(p);
    if ((b & 0x80) == 0) {
        elem_int(e, b & 0x7f);
    } else if ((b & 0xc0) == 0x80) {
        elem_str(e, p + 1, b & 0x3f);
    } else if ((b & 0xe0) == 0xc0) {
        uint64_t u = ((uint64_t)(b & 0x1f) << 8) | p[1];
        elem_int(e, u >= 4096 ? (long long)u - 8192 : (long long)u);
    } else if ((b & 0xf0) == 0xe0) {
        elem_str(e, p + 2, (size_t)(el - 2));
    } else if (b == 0xf0) {
        elem_str(e, p + 5, (size_t)(el - 5));
    } else {
        elem_int(e, get_signed_le(p + 1, (unsigned)(el - 1)));
    }
    it->p = p + el + lp_backlen_size(el);
}

void rpk_lp_init(rpk_lp *lp) {
    serial_init(&lp->buf);
    rpk_lp_start(lp);
}

void rpk_lp_free(rpk_lp *lp) { serial_free(&lp->buf); }

void rpk_lp_start(rpk_lp *lp) {
    static const unsigned char hdr[LP_HDR] = {0};
    lp->buf.len = 0;
    lp->count = 0;
    serial_put_raw(&lp->buf, hdr, LP_HDR);
}

/* Append one encoded entry (encoding + data) and its back length. */
static void lp_put_entry(rpk_lp *lp, const unsigned char *hdr, size_t hlen, const char *data, size_t dlen) {
    unsigned char back[5];
    unsigned bl = lp_backlen_encode(back, hlen + dlen);
    serial_put_raw(&lp->buf, hdr, hlen);
    serial_put_raw(&lp->buf, data, dlen);
    serial_put_raw(&lp->buf, back, bl);
    lp->count++;
}

void rpk_lp_add_int(rpk_lp *lp, long long v) {
    unsigned char h[9];
    size_t n;
    if (v >= 0 && v <= 127) {
        h[0] = (unsigned char)v;
        n = 1;
    } else if (v >= -4096 && v <= 4095) {
        uint64_t u = (uint64_t)v & 0x1fff;
        h[0] = (unsigned char)(0xc0 | (u >> 8));
        h[1] = (unsigned char)u;
        n = 2;
    } else if (v >= -32768 && v <= 32767) {
        h[0] = 0xf1;
        put_le(h + 1, (uint64_t)v, 2);
        n = 3;
    } else if (v >= -8388608 && v <= 8388607) {
        h[0] = 0xf2;
        put_le(h + 1, (uint64_t)v, 3);
        n = 4;
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        h[0] = 0xf3;
        put_le(h + 1, (uint64_t)v, 4);
        n = 5;
    } else {
        h[0] = 0xf4;
        put_le(h + 1, (uint64_t)v, 8);
        n = 9;
    }
    lp_put_entry(lp, h, n, NULL, 0);
}

/* Encoding plus data bytes of integer v (Redis's lpEncodeIntegerGetType). */
static unsigned lp_int_size(long long v) {
    if (v >= 0 && v <= 127) return 1;
    if (v >= -4096 && v <= 4095) return 2;
    if (v >= -32768 && v <= 32767) return 3;
    if (v >= -8388608 && v <= 8388607) return 4;
    if (v >= INT32_MIN && v <= INT32_MAX) return 5;
    return 9;
}

size_t rpk_lp_entry_bytes(const char *p, size_t len) {
    long long v;
    uint64_t n = parse_ll(p, len, &v) ? lp_int_size(v) : len < 64 ? 1 + len : len < 4096 ? 2 + len : 5 + len;
    return (size_t)(n + lp_backlen_size(n));
}

void rpk_lp_add(rpk_lp *lp, const char *p, size_t len) {
    long long v;
    if (parse_ll(p, len, &v)) {
        rpk_lp_add_int(lp, v);
        return;
    }
    unsigned char h[5];
    size_t n;
    if (len < 64) {
        h[0] = (unsigned char)(0x80 | len);
        n = 1;
    } else if (len < 4096) {
        h[0] = (unsigned char)(0xe0 | (len >> 8));
        h[1] = (unsigned char)len;
        n = 2;
    } else {
        h[0] = 0xf0;
        put_le(h + 1, len, 4);
        n = 5;
    }
    lp_put_entry(lp, h, n, p, len);
}

const unsigned char *rpk_lp_finish(rpk_lp *lp, size_t *size) {
    serial_put_u8(&lp->buf, LP_EOF);
    unsigned char *b = lp->buf.buf;
    put_le(b, lp->buf.len, 4);
    put_le(b + 4, lp->count < LP_COUNT_UNKNOWN ? lp->count : LP_COUNT_UNKNOWN, 2);
    *size = lp->buf.len;
    return b;
}

/* ================================================================ ziplist */

typedef struct {
    unsigned prevsize;  /* bytes of the previous-length field */
    uint64_t prevlen;
    unsigned char enc;
    unsigned lensize;   /* bytes of the encoding field */
    uint64_t len;       /* data bytes */
} zl_entry;

/* Decode the header of the entry at p, every read within [p, last]. */
static bool zl_decode(const unsigned char *p, const unsigned char *last, zl_entry *e) {
    e->prevsize = p[0] < 254 ? 1 : 5;
    if ((size_t)(last - p) < e->prevsize) return false;
    e->prevlen = e->prevsize == 1 ? p[0] : get_u32le(p + 1);
    const unsigned char *q = p + e->prevsize;
    unsigned char b = *q;
    if ((b & 0xc0) != 0xc0) {
        e->enc = b & 0xc0;
        e->lensize = e->enc == 0x00 ? 1 : e->enc == 0x40 ? 2 : 5;
        if ((size_t)(last - q) < e->lensize) return false;
        if (e->enc == 0x00)
            e->len = b & 0x3f;
        else if (e->enc == 0x40)
            e->len = ((uint64_t)(b & 0x3f) << 8) | q[1];
        else
            e->len = (uint64_t)q[1] << 24 | (uint64_t)q[2] << 16 | (uint64_t)q[3] << 8 | q[4];
    } else {
        e->enc = b;
        e->lensize = 1;
        switch (b) {
        case 0xfe: e->len = 1; break;
        case 0xc0: e->len = 2; break;
        case 0xf0: e->len = 3; break;
        case 0xd0: e->len = 4; break;
        case 0xe0: e->len = 8; break;
        default:
            if (b < 0xf1 || b > 0xfd) return false;
            e->len = 0; /* 4-bit immediate */
        }
    }
    /* The entry's data must end before the terminator. */
    uint64_t total = e->prevsize + e->lensize + e->len;
    return total <= (uint64_t)(last - p);
}

static bool zl_check(rpk_iter *it, const unsigned char *zl, size_t size, char *err, size_t errlen) {
    if (size < ZL_HDR + 1) return bad(err, errlen, "ziplist shorter than its header");
    if (get_u32le(zl) != size) return bad(err, errlen, "ziplist total bytes do not match its size");
    if (zl[size - 1] != ZL_END) return bad(err, errlen, "ziplist without its terminator");
    uint32_t tail = get_u32le(zl + 4);
    if (tail > size - 1) return bad(err, errlen, "ziplist tail offset past the end");
    const unsigned char *p = zl + ZL_HDR, *last = zl + size - 1, *prev = NULL;
    uint64_t prev_size = 0;
    size_t count = 0;
    while (*p != ZL_END) {
        zl_entry e;
        if (!zl_decode(p, last, &e)) return bad(err, errlen, "ziplist entry invalid or past the end");
        if (e.prevlen != prev_size) return bad(err, errlen, "ziplist entry with a wrong previous length");
        prev_size = e.prevsize + e.lensize + e.len;
        prev = p;
        p += prev_size;
        count++;
    }
    if (p != last) return bad(err, errlen, "ziplist terminator before its end");
    if (prev && prev != zl + tail) return bad(err, errlen, "ziplist tail offset is not its last entry");
    unsigned hdr_count = (unsigned)get_le(zl + 8, 2);
    if (hdr_count != 0xffff && hdr_count != count)
        return bad(err, errlen, "ziplist element count does not match its header");
    it->p = zl + ZL_HDR;
    it->count = count;
    return true;
}

static void zl_next(rpk_iter *it, rpk_elem *e) {
    zl_entry z;
    zl_decode(it->p, it->end - 1, &z);
    const unsigned char *data = it->p + z.prevsize + z.lensize;
    if ((z.enc & 0xc0) != 0xc0) {
        elem_str(e, data, (size_t)z.len);
    } else if (z.enc >= 0xf1 && z.enc <= 0xfd) {
        elem_int(e, (z.enc & 0x0f) - 1);
    } else {
        elem_int(e, get_signed_le(data, (unsigned)z.len));
    }
    it->p = data + z.len;
}

/* ================================================================ zipmap */

static unsigned zm_len_size(const unsigned char *p) { return *p < ZM_BIGLEN ? 1 : 5; }

static uint64_t zm_len(const unsigned char *p) { return *p < ZM_BIGLEN ? *p : get_u32le(p + 1); }

static bool zm_check(rpk_iter *it, const unsigned char *zm, size_t size, char *err, size_t errlen) {
    if (size < 2) return bad(err, errlen, "zipmap shorter than its header");
    if (zm[size - 1] != ZM_END) return bad(err, errlen, "zipmap without its terminator");
    const unsigned char *p = zm + 1, *last = zm + size - 1;
    size_t pairs = 0;
    while (*p != ZM_END) {
        /* field: length, bytes */
        unsigned s = zm_len_size(p);
        if ((size_t)(last - p) < s) return bad(err, errlen, "zipmap field length past the end");
        uint64_t l = zm_len(p);
        if (l > (uint64_t)(last - p) - s) return bad(err, errlen, "zipmap field past the end");
        p += s + l;
        /* value: length, free byte, bytes, free bytes */
        s = zm_len_size(p);
        if ((size_t)(last - p) < s) return bad(err, errlen, "zipmap value length past the end");
        l = zm_len(p);
        p += s;
        uint64_t fr = *p++;
        if (l + fr > (uint64_t)(last - p)) return bad(err, errlen, "zipmap value past the end");
        p += l + fr;
        pairs++;
    }
    if (pairs == 0) return bad(err, errlen, "empty zipmap");
    if (zm[0] != ZM_BIGLEN && zm[0] != pairs) return bad(err, errlen, "zipmap count does not match its header");
    it->p = zm + 1;
    it->count = 2 * pairs;
    return true;
}

static void zm_next(rpk_iter *it, rpk_elem *e) {
    const unsigned char *p = it->p;
    unsigned s = zm_len_size(p);
    uint64_t l = zm_len(p);
    p += s;
    if (it->i % 2 == 0) { /* field */
        elem_str(e, p, (size_t)l);
        it->p = p + l;
    } else {
        uint64_t fr = *p++;
        elem_str(e, p, (size_t)l);
        it->p = p + l + fr;
    }
}

/* ================================================================ intset */

static bool is_check(rpk_iter *it, const unsigned char *is, size_t size, char *err, size_t errlen) {
    if (size < 8) return bad(err, errlen, "intset shorter than its header");
    uint32_t w = get_u32le(is), n = get_u32le(is + 4);
    if (w != 2 && w != 4 && w != 8) return bad(err, errlen, "intset with an invalid encoding");
    if (8 + (uint64_t)n * w != size) return bad(err, errlen, "intset length does not match its size");
    if (n == 0) return bad(err, errlen, "empty intset");
    long long prev = 0;
    for (uint32_t i = 0; i < n; i++) {
        long long v = get_signed_le(is + 8 + (size_t)i * w, w);
        if (i && v <= prev) return bad(err, errlen, "intset not strictly ascending");
        prev = v;
    }
    it->p = is + 8;
    it->width = w;
    it->count = n;
    return true;
}

void rpk_intset_blob(serial_buf *out, const intset *is) {
    uint32_t n = intset_len(is), w = is->width;
    unsigned char hdr[8];
    put_le(hdr, w, 4);
    put_le(hdr + 4, n, 4);
    serial_put_raw(out, hdr, 8);
    for (uint32_t i = 0; i < n; i++) {
        unsigned char v[8];
        put_le(v, (uint64_t)intset_get(is, i), w);
        serial_put_raw(out, v, w);
    }
}

/* ================================================================ iteration */

bool rpk_open(rpk_iter *it, int kind, const unsigned char *blob, size_t size, char *err, size_t errlen) {
    memset(it, 0, sizeof *it);
    it->kind = kind;
    it->blob = blob;
    it->end = blob + size;
    switch (kind) {
    case RPK_LISTPACK: return lp_check(it, blob, size, err, errlen);
    case RPK_ZIPLIST: return zl_check(it, blob, size, err, errlen);
    case RPK_ZIPMAP: return zm_check(it, blob, size, err, errlen);
    case RPK_INTSET: return is_check(it, blob, size, err, errlen);
    default: return bad(err, errlen, "unknown packed encoding");
    }
}

bool rpk_next(rpk_iter *it, rpk_elem *e) {
    if (it->i >= it->count) return false;
    switch (it->kind) {
    case RPK_LISTPACK: lp_next(it, e); break;
    case RPK_ZIPLIST: zl_next(it, e); break;
    case RPK_ZIPMAP: zm_next(it, e); break;
    default:
        elem_int(e, get_signed_le(it->p, it->width));
        it->p += it->width;
        break;
    }
    it->i++;
    return true;
}
