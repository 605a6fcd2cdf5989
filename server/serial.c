/*
 * serial.c - the growable buffers of serial.h: serial_buf (bytes) and sbuf
 * (a NUL-terminated string). Both double their capacity as they fill
 * (grow()); the bytes are mem_alloc'd, so they count in used_memory.
 */
#include "serial.h"

#include "mem.h"

#include <stdio.h>
#include <string.h>

void serial_init(serial_buf *b) {
    b->buf = NULL;
    b->len = b->cap = 0;
}

void serial_free(serial_buf *b) {
    mem_free(b->buf);
    serial_init(b);
}

/* Make *p hold at least `need` bytes (*cap is its size). */
static void grow(void **p, size_t *cap, size_t need) {
    if (need <= *cap) return;
    size_t c = *cap ? *cap * 2 : 64;
    while (c < need) c *= 2;
    *p = mem_realloc(*p, c);
    *cap = c;
}

static void reserve(serial_buf *b, size_t n) { grow((void **)&b->buf, &b->cap, b->len + n); }

void serial_put_u8(serial_buf *b, uint8_t v) {
    reserve(b, 1);
    b->buf[b->len++] = v;
}

void serial_put_raw(serial_buf *b, const void *p, size_t len) {
    reserve(b, len);
    if (len) memcpy(b->buf + b->len, p, len);
    b->len += len;
}

/* ---------------------------------------------------------------- sbuf */

void sbuf_add(sbuf *b, const void *p, size_t len) {
    grow((void **)&b->p, &b->cap, b->len + len + 1);
    if (len) memcpy(b->p + b->len, p, len);
    b->len += len;
    b->p[b->len] = '\0';
}
void sbuf_adds(sbuf *b, const char *s) { sbuf_add(b, s, strlen(s)); }
void sbuf_addc(sbuf *b, char c) { sbuf_add(b, &c, 1); }

/* Formatted straight into the free tail; when it does not fit, grown to
 * the size vsnprintf reported and formatted again. */
void sbuf_vaddf(sbuf *b, const char *fmt, va_list ap) {
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
    if (n >= 0) {
        if (!b->p || b->len + (size_t)n >= b->cap) {
            grow((void **)&b->p, &b->cap, b->len + (size_t)n + 1);
            vsnprintf(b->p + b->len, b->cap - b->len, fmt, again);
        }
        b->len += (size_t)n;
    }
    va_end(again);
}

void sbuf_addf(sbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sbuf_vaddf(b, fmt, ap);
    va_end(ap);
}

char *sbuf_take(sbuf *b) {
    char *p = b->p ? b->p : mem_strdup("");
    *b = (sbuf){0};
    return p;
}
const char *sbuf_str(const sbuf *b) { return b->p ? b->p : ""; }
void sbuf_free(sbuf *b) {
    mem_free(b->p);
    *b = (sbuf){0};
}
