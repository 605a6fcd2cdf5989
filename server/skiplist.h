/*
 * skiplist.h - the ordered half of a large sorted set: a skiplist of
 * (score, member) nodes ordered by score, then by member bytes (memcmp,
 * shorter first), with a span on every forward link so rank lookups and
 * rank ranges cost O(log n). Also the score and lex range specs shared by
 * both sorted-set encodings.
 *
 * Design choices a reader must know:
 * - Nodes do NOT own their member bytes: a node points at bytes owned by
 *   someone else (in a zset, the dict element holding member -> score), so
 *   a member is stored once. The owner must keep the bytes alive until the
 *   node is deleted; delete callbacks run after the node is unlinked and
 *   before it is freed, so they may free the bytes.
 * - Nodes do not store the member's length either: the list asks its
 *   owner (len_of, given to zsl_new) when it compares equal scores or hands
 *   a member out. A node is then Redis's size, 24 bytes plus 16 per level
 *   (a 48-byte malloc chunk for most nodes instead of 64), which is fewer
 *   cache lines per traversal and less memory per element.
 * - Levels are drawn with p = 1/4 up to ZSL_MAXLEVEL from a thread-local
 *   xorshift generator.
 * Not thread-safe: the owning key's slot lock protects it.
 */
#ifndef SKIPLIST_H
#define SKIPLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZSL_MAXLEVEL 32

typedef struct zsl_node {
    const char *ele;            /* member bytes (not owned); length via len_of */
    double score;
    struct zsl_node *backward;
    struct zsl_link {
        struct zsl_node *forward;
        unsigned long span;     /* nodes skipped by this link (rank distance) */
    } level[];
} zsl_node;

/* The length of member bytes `ele`, read from wherever their owner keeps it
 * (a zset's dict element: dict_key_len). */
typedef size_t zsl_len_fn(const char *ele);

typedef struct zsl {
    zsl_len_fn *len_of;
    zsl_node *header, *tail;
    unsigned long length;
    int level;
} zsl;

/* Score range: min/max with exclusive flags (Redis's "(" prefix). */
typedef struct {
    double min, max;
    bool minex, maxex;
} zrange_score;

/* Lex range bound: a byte string, or -inf ("-") / +inf ("+"). */
enum { ZLEX_STR = 0, ZLEX_NEG_INF = 1, ZLEX_POS_INF = 2 };
typedef struct {
    int kind;
    const char *p;              /* ZLEX_STR: bytes (not owned) */
    size_t len;
    bool ex;                    /* exclusive ("(") ; "-" and "+" are exclusive */
} zlex_bound;
typedef struct {
    zlex_bound min, max;
} zrange_lex;

/* Member order: memcmp over the common length, then the shorter first. */
int zsl_cmp_ele(const char *a, size_t alen, const char *b, size_t blen);

/* Range predicates (Redis's zslValueGteMin & co). */
bool zrange_score_gte_min(double v, const zrange_score *r);
bool zrange_score_lte_max(double v, const zrange_score *r);
/* False when the range can contain nothing (min > max, or min == max with
 * an exclusive end). */
bool zrange_score_valid(const zrange_score *r);
bool zrange_lex_gte_min(const char *p, size_t len, const zrange_lex *r);
bool zrange_lex_lte_max(const char *p, size_t len, const zrange_lex *r);
bool zrange_lex_valid(const zrange_lex *r);

zsl *zsl_new(zsl_len_fn *len_of);
/* Frees the nodes (never the member bytes). */
void zsl_free(zsl *l);
static inline unsigned long zsl_length(const zsl *l) { return l->length; }
static inline zsl_node *zsl_first(const zsl *l) { return l->header->level[0].forward; }
static inline zsl_node *zsl_last(const zsl *l) { return l->tail; }
static inline zsl_node *zsl_next(const zsl_node *n) { return n->level[0].forward; }
static inline size_t zsl_node_len(const zsl *l, const zsl_node *n) { return l->len_of(n->ele); }
static inline zsl_node *zsl_prev(const zsl *l, const zsl_node *n) {
    (void)l;
    return n->backward;
}

/* Insert a member known to be absent. ele must outlive the node, and
 * len_of(ele) must give len. */
zsl_node *zsl_insert(zsl *l, double score, const char *ele, size_t len);
/* Delete the node (score, ele); false when absent. */
bool zsl_delete(zsl *l, double score, const char *ele, size_t len);
/* Change the score of the existing node (curscore, ele) to newscore, in
 * place when the order allows it. Returns the node. */
zsl_node *zsl_update_score(zsl *l, double curscore, const char *ele, size_t len, double newscore);

/* 1-based rank of (score, ele), 0 when absent. */
unsigned long zsl_rank(const zsl *l, double score, const char *ele, size_t len);
/* Node at 1-based rank, NULL when out of range. */
zsl_node *zsl_at_rank(const zsl *l, unsigned long rank);

/* First / last node inside a range, with its 1-based rank in *rank (may be
 * NULL); NULL when no node is inside. */
zsl_node *zsl_first_in_score(const zsl *l, const zrange_score *r, unsigned long *rank);
zsl_node *zsl_last_in_score(const zsl *l, const zrange_score *r, unsigned long *rank);
zsl_node *zsl_first_in_lex(const zsl *l, const zrange_lex *r, unsigned long *rank);
zsl_node *zsl_last_in_lex(const zsl *l, const zrange_lex *r, unsigned long *rank);

/* Delete the nodes of 1-based ranks start..end (inclusive); cb (may be NULL)
 * sees each node after it is unlinked, before it is freed. Returns the
 * number deleted. */
typedef void zsl_del_fn(zsl_node *n, void *arg);
unsigned long zsl_delete_rank_range(zsl *l, unsigned long start, unsigned long end, zsl_del_fn *cb, void *arg);

/* Bytes used by the nodes and the header. */
size_t zsl_mem(const zsl *l);

/* Structural self-check (for tests): order, spans, backward links,
 * length. */
bool zsl_check(const zsl *l);

#endif
