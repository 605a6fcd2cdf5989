/*
 * test_random.c - every random pick of the server gives each candidate the
 * same chance, checked through the real commands with fixed statistical
 * bounds: SRANDMEMBER, SPOP (with and without count, both SPOP strategies),
 * HRANDFIELD (with WITHVALUES) and ZRANDMEMBER (with WITHSCORES), positive
 * and negative counts, on the hashtable/skiplist encodings (1000 members)
 * and on the small ones (intset, listpack: 100 members); RANDOMKEY over
 * keys in slots of very different sizes; allkeys-random and volatile-random
 * eviction (keys sharing one slot must go as often as keys alone in theirs).
 *
 * Bounds (tests/support/stat_check.h): a chi-square over per-member counts
 * must stay under its z = 6 quantile, an eviction split within 6 standard
 * deviations: a uniform sampler fails either with probability ~1e-9, the
 * old samplers (1 / chain length, 1 / slot size, "next non-empty bucket")
 * exceeded them 2 to 400 times. redis-server's own dictGetFairRandomKey is
 * not uniform either (chi-square ~1700 for 1000 members), so the hashtable
 * and RANDOMKEY checks are skipped against it.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_proc.h"
#include "stat_check.h"

#define BATCH 500

static sc_server srv;

TestSuite(random, .fini = sc_server_cleanup, .timeout = 300);

/* One sampling call: up to three commands sent together; the reply of
 * cmds[inspect] holds the picks (a bulk, or an array of per_reply members,
 * each followed by its value or score when stride is 2). */
typedef struct {
    const char *cmds[3];
    int ncmds;
    int inspect;
    int per_reply;
    bool distinct;
    int stride;
} sampler;

/* Members are "<prefix><i>" for i < n (prefix "" for integers); the value
 * or score paired with member i is "<pair_prefix><i>". */
typedef struct {
    const char *prefix;
    const char *pair_prefix;
    int n;
} members;

static int member_index(const members *m, const char *s, size_t len) {
    size_t pl = strlen(m->prefix);
    if (len <= pl || len > pl + 9 || memcmp(s, m->prefix, pl) != 0) return -1;
    int v = 0;
    for (size_t i = pl; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v < m->n ? v : -1;
}

static void tally_member(const members *m, const redisReply *r, unsigned *counts, const char *what) {
    cr_assert_eq(r->type, REDIS_REPLY_STRING, "%s: a member is of reply type %d", what, r->type);
    int i = member_index(m, r->str, r->len);
    cr_assert(i >= 0, "%s: unexpected member '%.*s'", what, (int)r->len, r->str);
    counts[i]++;
}

/* Run `calls` sampling calls; returns the chi-square of the per-member
 * counts (every member must have been a candidate every time). */
static double sample_chisq(redisContext *c, const members *m, const sampler *s, int calls, const char *what) {
    unsigned *counts = calloc((size_t)m->n, sizeof *counts);
    unsigned *seen = calloc((size_t)m->n, sizeof *seen);
    for (int done = 0; done < calls;) {
        int batch = calls - done < BATCH ? calls - done : BATCH;
        for (int b = 0; b < batch; b++)
            for (int k = 0; k < s->ncmds; k++) redisAppendCommand(c, s->cmds[k]);
        for (int b = 0; b < batch; b++) {
            for (int k = 0; k < s->ncmds; k++) {
                redisReply *r = NULL;
                cr_assert(redisGetReply(c, (void **)&r) == REDIS_OK, "%s: pipeline broke: %s", what, c->errstr);
                cr_assert_neq(r->type, REDIS_REPLY_ERROR, "%s: %s", what, r->str);
                if (k != s->inspect) {
                    freeReplyObject(r);
                    continue;
                }
                if (s->per_reply == 1 && r->type == REDIS_REPLY_STRING) {
                    tally_member(m, r, counts, what);
                    freeReplyObject(r);
                    continue;
                }
                cr_assert(r->type == REDIS_REPLY_ARRAY, "%s: reply type %d", what,
                          r->type);
                cr_assert_eq(r->elements, (size_t)(s->per_reply * s->stride), "%s: %zu elements", what, r->elements);
                for (size_t e = 0; e < r->elements; e += (size_t)s->stride) {
                    tally_member(m, r->element[e], counts, what);
                    int i = member_index(m, r->element[e]->str, r->element[e]->len);
                    if (s->distinct) {
                        cr_assert_neq(seen[i], (unsigned)(done + b + 1), "%s: member %d twice in one reply", what, i);
                        seen[i] = (unsigned)(done + b + 1);
                    }
                    if (s->stride == 2) {
                        char want[32];
                        snprintf(want, sizeof want, "%s%d", m->pair_prefix, i);
                        cr_assert(sc_reply_is(r->element[e + 1], want), "%s: member %d paired with '%s'", what, i,
                                  r->element[e + 1]->str);
                    }
                }
                freeReplyObject(r);
            }
        }
        done += batch;
    }
    double x = stat_chisq(counts, (size_t)m->n);
    free(counts);
    free(seen);
    return x;
}

static void expect_uniform(redisContext *c, const members *m, const sampler *s, int calls, const char *what) {
    double x = sample_chisq(c, m, s, calls, what), bound = stat_chisq_bound((size_t)m->n - 1);
    cr_log_info("%s: chi-square %.1f (df %d, bound %.1f)", what, x, m->n - 1, bound);
    cr_assert(x < bound, "%s: chi-square %.1f over %d members exceeds %.1f", what, x, m->n, bound);
}

/* key := n members/fields "<prefix>i" (values "v<i>", scores i). */
static void fill(redisContext *c, const char *type, const char *key, const char *prefix, int n) {
    for (int i = 0; i < n; i++) {
        if (strcmp(type, "set") == 0) redisAppendCommand(c, "SADD %s %s%d", key, prefix, i);
        else if (strcmp(type, "hash") == 0) redisAppendCommand(c, "HSET %s %s%d v%d", key, prefix, i, i);
        else redisAppendCommand(c, "ZADD %s %d %s%d", key, i, prefix, i);
    }
    for (int i = 0; i < n; i++) {
        redisReply *r = NULL;
        cr_assert(redisGetReply(c, (void **)&r) == REDIS_OK);
        cr_assert_eq(r->type, REDIS_REPLY_INTEGER);
        freeReplyObject(r);
    }
}

static void expect_encoding(redisContext *c, const char *key, const char *enc) {
    sc_cmd_expect_or_fail(c, enc, "OBJECT ENCODING %s", key);
}

#define ONE(cmd) {.cmds = {cmd}, .ncmds = 1, .inspect = 0, .per_reply = 1, .stride = 1}
#define MANY(cmd, n, uniq, st) {.cmds = {cmd}, .ncmds = 1, .inspect = 0, .per_reply = n, .distinct = uniq, .stride = st}

/* The set commands on key s (members m): SRANDMEMBER in its three forms,
 * then SPOP on fresh copies t of s: one member, 10 members (popped one by
 * one), and 990 members (the 10 survivors are drawn, the rest replied). */
static void check_set_commands(redisContext *c, const members *m, int calls) {
    sampler one = ONE("SRANDMEMBER s"), pos = MANY("SRANDMEMBER s 10", 10, true, 1),
            neg = MANY("SRANDMEMBER s -10", 10, false, 1);
    expect_uniform(c, m, &one, calls * 10, "SRANDMEMBER s");
    expect_uniform(c, m, &pos, calls, "SRANDMEMBER s 10");
    expect_uniform(c, m, &neg, calls, "SRANDMEMBER s -10");
    sampler pop = {.cmds = {"COPY s t REPLACE", "SPOP t"}, .ncmds = 2, .inspect = 1, .per_reply = 1, .stride = 1};
    sampler pop10 = {.cmds = {"COPY s t REPLACE", "SPOP t 10"}, .ncmds = 2, .inspect = 1, .per_reply = 10,
                     .distinct = true, .stride = 1};
    char big[32], survivors[] = "SMEMBERS t";
    snprintf(big, sizeof big, "SPOP t %d", m->n - 10);
    sampler keep10 = {.cmds = {"COPY s t REPLACE", big, survivors}, .ncmds = 3, .inspect = 2, .per_reply = 10,
                      .distinct = true, .stride = 1};
    expect_uniform(c, m, &pop, calls * 5, "COPY s t + SPOP t");
    expect_uniform(c, m, &pop10, calls / 2, "COPY s t + SPOP t 10");
    expect_uniform(c, m, &keep10, calls / 2, "COPY s t + SPOP t n-10 (survivors)");
}

static void check_hash_commands(redisContext *c, const members *m, int calls) {
    sampler one = ONE("HRANDFIELD h"), pos = MANY("HRANDFIELD h 10", 10, true, 1),
            neg = MANY("HRANDFIELD h -10", 10, false, 1), wv = MANY("HRANDFIELD h -10 WITHVALUES", 10, false, 2),
            wvpos = MANY("HRANDFIELD h 10 WITHVALUES", 10, true, 2);
    expect_uniform(c, m, &one, calls * 10, "HRANDFIELD h");
    expect_uniform(c, m, &pos, calls, "HRANDFIELD h 10");
    expect_uniform(c, m, &neg, calls, "HRANDFIELD h -10");
    expect_uniform(c, m, &wv, calls, "HRANDFIELD h -10 WITHVALUES");
    expect_uniform(c, m, &wvpos, calls, "HRANDFIELD h 10 WITHVALUES");
}

static void check_zset_commands(redisContext *c, const members *m, int calls) {
    sampler one = ONE("ZRANDMEMBER z"), pos = MANY("ZRANDMEMBER z 10", 10, true, 1),
            neg = MANY("ZRANDMEMBER z -10", 10, false, 1), ws = MANY("ZRANDMEMBER z -10 WITHSCORES", 10, false, 2);
    expect_uniform(c, m, &one, calls * 10, "ZRANDMEMBER z");
    expect_uniform(c, m, &pos, calls, "ZRANDMEMBER z 10");
    expect_uniform(c, m, &neg, calls, "ZRANDMEMBER z -10");
    expect_uniform(c, m, &ws, calls, "ZRANDMEMBER z -10 WITHSCORES");
}

Test(random, large_encodings_pick_uniformly) {
    if (sc_server_binary_is_redis()) cr_skip_test("redis-server's dictGetFairRandomKey is not uniform");
    sc_server_start_or_fail(&srv, NULL);
    redisContext *c = sc_connect_or_fail(&srv);
    members m = {.prefix = "m", .pair_prefix = "v", .n = 1000};
    fill(c, "set", "s", "m", 1000);
    fill(c, "hash", "h", "m", 1000);
    fill(c, "zset", "z", "m", 1000);
    expect_encoding(c, "s", "hashtable");
    expect_encoding(c, "h", "hashtable");
    expect_encoding(c, "z", "skiplist");
    /* 2000 calls of 10: 20 draws per member. */
    check_set_commands(c, &m, 2000);
    check_hash_commands(c, &m, 2000);
    members zm = {.prefix = "m", .pair_prefix = "", .n = 1000};
    check_zset_commands(c, &zm, 2000);
    cr_assert_eq(sc_cmd_ll_or_fail(c, "SCARD s"), 1000, "SRANDMEMBER and SPOP on copies left s alone");
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

Test(random, small_encodings_pick_uniformly) {
    sc_server_start_or_fail(&srv, NULL);
    redisContext *c = sc_connect_or_fail(&srv);
    members ints = {.prefix = "", .pair_prefix = "", .n = 100};
    members m = {.prefix = "m", .pair_prefix = "v", .n = 100};
    members zm = {.prefix = "m", .pair_prefix = "", .n = 100};
    fill(c, "set", "s", "", 100);
    fill(c, "hash", "h", "m", 100);
    fill(c, "zset", "z", "m", 100);
    expect_encoding(c, "s", "intset");
    expect_encoding(c, "h", "listpack");
    expect_encoding(c, "z", "listpack");
    /* 1000 calls of 10: 100 draws per member. */
    check_set_commands(c, &ints, 1000);
    check_hash_commands(c, &m, 1000);
    check_zset_commands(c, &zm, 1000);
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

/* RANDOMKEY `draws` times over the keys named in `keys`; chi-square. */
static double randomkey_chisq(redisContext *c, char **keys, int n, int draws, double *share_first_half) {
    unsigned *counts = calloc((size_t)n, sizeof *counts);
    long first = 0;
    for (int done = 0; done < draws; done += BATCH) {
        for (int b = 0; b < BATCH; b++) redisAppendCommand(c, "RANDOMKEY");
        for (int b = 0; b < BATCH; b++) {
            redisReply *r = NULL;
            cr_assert(redisGetReply(c, (void **)&r) == REDIS_OK);
            cr_assert_eq(r->type, REDIS_REPLY_STRING);
            int i = 0;
            while (i < n && !(strlen(keys[i]) == r->len && memcmp(keys[i], r->str, r->len) == 0)) i++;
            cr_assert_lt(i, n, "RANDOMKEY returned '%s'", r->str);
            counts[i]++;
            first += i < n / 2;
            freeReplyObject(r);
        }
    }
    double x = stat_chisq(counts, (size_t)n);
    *share_first_half = (double)first / draws;
    free(counts);
    return x;
}

Test(random, randomkey_is_uniform_across_uneven_slots) {
    if (sc_server_binary_is_redis()) cr_skip_test("redis-server's dictGetFairRandomKey is not uniform");
    sc_server_start_or_fail(&srv, NULL);
    redisContext *c = sc_connect_or_fail(&srv);
    /* 50 keys sharing the slot of {a}, then 50 keys each (almost always)
     * alone in its slot. */
    enum { N = 100 };
    char *keys[N];
    for (int i = 0; i < N; i++) {
        keys[i] = malloc(32);
        snprintf(keys[i], 32, i < N / 2 ? "{a}:%d" : "solo:%d", i);
        sc_cmd_expect_or_fail(c, "OK", "SET %s v", keys[i]);
    }
    double share, x = randomkey_chisq(c, keys, N, 20000, &share);
    double bound = stat_chisq_bound(N - 1);
    cr_log_info("RANDOMKEY: chi-square %.1f (df %d, bound %.1f), {a} share %.3f", x, N - 1, bound, share);
    cr_assert(x < bound, "RANDOMKEY: chi-square %.1f exceeds %.1f; keys of {a} drew %.1f%% (50%% expected)", x, bound,
              share * 100);
    for (int i = 0; i < N; i++) free(keys[i]);
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

/* Fill 1000 keys {a}:i (one slot) and 1000 keys b:i (spread), with a TTL
 * when ttl, plus 1000 persistent spread keys p:i when `persistent`; lower
 * maxmemory by about 1000 keys' worth and check that {a} and b keys went in
 * the same proportion (and no p key). */
static void check_random_eviction(bool ttl, bool persistent) {
    redisContext *c = sc_connect_or_fail(&srv);
    char value[201];
    memset(value, 'x', 200);
    value[200] = 0;
    const char *groups[] = {"p", "{a}", "b"};
    long long before = 0;
    /* The first write allocates the database's slot array: not per key. */
    sc_cmd_expect_or_fail(c, "OK", "SET warm-up x");
    sc_cmd_expect_or_fail(c, "1", "DEL warm-up");
    for (int g = persistent ? 0 : 1; g < 3; g++) {
        if (g == 1) before = sc_info_ll_or_fail(c, "memory", "used_memory");
        for (int i = 0; i < 1000; i++) {
            if (ttl && g > 0) redisAppendCommand(c, "SET %s:%d %s EX 3600", groups[g], i, value);
            else redisAppendCommand(c, "SET %s:%d %s", groups[g], i, value);
        }
        for (int i = 0; i < 1000; i++) {
            redisReply *r = NULL;
            cr_assert(redisGetReply(c, (void **)&r) == REDIS_OK);
            cr_assert(sc_reply_is(r, "OK"));
            freeReplyObject(r);
        }
    }
    long long used = sc_info_ll_or_fail(c, "memory", "used_memory");
    long long per_key = (used - before) / 2000;
    sc_cmd_expect_or_fail(c, "OK", "CONFIG SET maxmemory %lld", used - 1000 * per_key);
    sc_cmd_expect_or_fail(c, "OK", "CONFIG SET maxmemory 0");
    int gone[3];
    for (int g = 0; g < 3; g++) gone[g] = 1000 - sc_exists_range_or_fail(c, groups[g], 0, 1000, 100, NULL);
    if (persistent) cr_assert_eq(gone[0], 0, "%d keys without a TTL were evicted", gone[0]);
    int n = gone[1] + gone[2];
    cr_assert(n >= 500 && n <= 1500, "%d keys evicted for ~1000 keys' memory", n);
    double z = stat_z_hypergeom(2000, 1000, n, gone[1]);
    cr_log_info("evicted %d: %d of {a}, %d spread, z = %.1f", n, gone[1], gone[2], z);
    cr_assert(z > -6 && z < 6, "of %d evicted keys %d shared one slot (half of the candidates), z = %.1f", n,
              gone[1], z);
    redisFree(c);
}

Test(random, allkeys_random_eviction_is_uniform_across_slot_sizes) {
    sc_server_start_or_fail(&srv, (const char *[]){"--maxmemory-policy", "allkeys-random", NULL});
    check_random_eviction(false, false);
    sc_server_stop_or_fail(&srv);
}

Test(random, volatile_random_eviction_is_uniform_across_slot_sizes) {
    sc_server_start_or_fail(&srv, (const char *[]){"--maxmemory-policy", "volatile-random", NULL});
    check_random_eviction(true, true);
    sc_server_stop_or_fail(&srv);
}
