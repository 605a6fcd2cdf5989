/*
 * test_route.c - cluster/route.c's routing decision (Redis 7.0's
 * getNodeByQuery and clusterRedirectBlockedClientIfNeeded) on hand-built
 * slot maps: MOVED / ASK byte formats, CROSSSLOT and hash tags, the three
 * CLUSTERDOWN answers and their precedence, cluster-allow-reads-when-down
 * and -pubsubshard-when-down, migrating and importing slots (ASK, TRYAGAIN,
 * ASKING, shard channels never looked up, MIGRATE), READONLY on a replica,
 * EXEC's write flags, and the key-existence callback of a real node
 * (expired keys count as missing). The expected texts are Redis 7.0.15's
 * (cluster.c clusterRedirectClient; CLUSTER-WIRE.md 1.6).
 */
#include "config.h"
#include "crc16.h"
#include "db.h"
#include "entry.h"
#include "route.h"
#include "slotlock.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* Nodes of the test map. */
enum { ME = 0, B = 1, C = 2, NNODES = 3 };

static slotmap *map;

/* A map where ME (a master at 127.0.0.1:7000) owns slots 0-5460, B
 * (127.0.0.1:7001) 5461-10922, C (endpoint "", as Redis prints an unknown
 * endpoint) 10923-16000, and 16001-16383 are unassigned. */
static void build_map(void) {
    map = calloc(1, sizeof(slotmap) + NNODES * sizeof(slotmap_node));
    map->version = 7;
    map->ok = true;
    map->myself = ME;
    map->nnodes = NNODES;
    const char *ep[NNODES] = {"127.0.0.1", "127.0.0.1", ""};
    for (int i = 0; i < NNODES; i++) {
        memset(map->nodes[i].id, 'a' + i, CLUSTER_NAMELEN);
        strcpy(map->nodes[i].endpoint, ep[i]);
        map->nodes[i].port = 7000 + i;
        map->nodes[i].master = -1;
        map->nodes[i].is_master = true;
    }
    for (unsigned s = 0; s < CLUSTER_SLOTS; s++) {
        map->owner[s] = s <= 5460 ? ME : s <= 10922 ? B : s <= 16000 ? C : SLOTMAP_NONE;
        map->migrating_to[s] = map->importing_from[s] = SLOTMAP_NONE;
    }
}

static void free_map(void) { free(map); }

TestSuite(route, .init = build_map, .fini = free_map);

/* ---- a query over keys given as strings ---- */

typedef struct {
    arg_t argv[8];
    unsigned slots[8];
    route_query q;
} req;

static void keys_of(req *r, const char *const *keys) {
    memset(r, 0, sizeof *r);
    int n = 0;
    for (; keys[n]; n++) {
        r->argv[n] = (arg_t){keys[n], strlen(keys[n])};
        r->slots[n] = key_hash_slot(keys[n], strlen(keys[n]));
    }
    r->q.keys = (route_keys){.argv = r->argv, .idx = NULL, .slots = r->slots, .n = n};
}

#define KEYS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Keys present "here" for the exists callback: a NULL-terminated list. */
typedef struct {
    const char *const *present;
    int calls;
} here;

static bool fake_exists(void *ctx, const char *key, size_t len, unsigned slot) {
    here *h = ctx;
    h->calls++;
    cr_assert_eq(slot, key_hash_slot(key, len), "exists() got the wrong slot for %.*s", (int)len, key);
    for (int i = 0; h->present[i]; i++)
        if (strlen(h->present[i]) == len && memcmp(h->present[i], key, len) == 0) return true;
    return false;
}

static int decide(req *r, route_answer *a) { return route_decide(map, &r->q, NULL, NULL, a); }

static int decide_with(req *r, const char *const *present, route_answer *a, int *calls) {
    here h = {present, 0};
    int code = route_decide(map, &r->q, fake_exists, &h, a);
    if (calls) *calls = h.calls;
    return code;
}

static void expect_text(const route_answer *a, const char *want) {
    char buf[ROUTE_ERR_MAX];
    route_error_text(map, a, buf, sizeof buf);
    cr_assert_str_eq(buf, want);
}

/* Slots used below (redis-server's CLUSTER KEYSLOT): a 15495 and foo
 * 12182 (C's), b, {b}x and {b}y 3300 (ours), c, {c}x and {c}y 7365 (B's).
 * A key of an unassigned slot is searched for. */
static const char *key_in(unsigned lo, unsigned hi, char *buf) {
    for (int i = 0;; i++) {
        sprintf(buf, "k%d", i);
        unsigned s = key_hash_slot(buf, strlen(buf));
        if (s >= lo && s <= hi) return buf;
    }
}

/* ---- the ordinary cases ---- */

Test(route, no_keys_is_served_here) {
    req r;
    route_answer a;
    keys_of(&r, (const char *const[]){NULL});
    cr_assert_eq(decide(&r, &a), ROUTE_SERVE);
    map->ok = false; /* even when the cluster is down */
    cr_assert_eq(decide(&r, &a), ROUTE_SERVE);
}

Test(route, own_slot_is_served_and_others_are_moved) {
    req r;
    route_answer a;
    keys_of(&r, KEYS("b"));
    cr_assert_eq(decide(&r, &a), ROUTE_SERVE);
    keys_of(&r, KEYS("c"));
    cr_assert_eq(decide(&r, &a), ROUTE_MOVED);
    cr_assert_eq(a.node, B);
    cr_assert_eq(a.slot, 7365);
    expect_text(&a, "MOVED 7365 127.0.0.1:7001");
    /* An unknown endpoint prints as "" before the port, as Redis 7.0.15. */
    keys_of(&r, KEYS("foo"));
    cr_assert_eq(decide(&r, &a), ROUTE_MOVED);
    expect_text(&a, "MOVED 12182 :7002");
}

Test(route, unassigned_slot_is_not_served) {
    req r;
    route_answer a;
    char k[32];
    keys_of(&r, (const char *const[]){key_in(16001, 16383, k), NULL});
    cr_assert_eq(decide(&r, &a), ROUTE_UNBOUND);
    expect_text(&a, "CLUSTERDOWN Hash slot not served");
}

Test(route, crossslot_and_hash_tags) {
    req r;
    route_answer a;
    keys_of(&r, KEYS("b", "c"));
    cr_assert_eq(decide(&r, &a), ROUTE_CROSSSLOT);
    expect_text(&a, "CROSSSLOT Keys in request don't hash to the same slot");
    /* Both keys elsewhere, still CROSSSLOT (not MOVED). */
    keys_of(&r, KEYS("c", "a"));
    cr_assert_eq(decide(&r, &a), ROUTE_CROSSSLOT);
    keys_of(&r, KEYS("{b}x", "{b}y", "b"));
    cr_assert_eq(decide(&r, &a), ROUTE_SERVE);
    keys_of(&r, KEYS("{c}x", "{c}y"));
    cr_assert_eq(decide(&r, &a), ROUTE_MOVED);
    cr_assert_eq(a.slot, 7365);
    /* The same key twice is one key. */
    keys_of(&r, KEYS("b", "b"));
    cr_assert_eq(decide(&r, &a), ROUTE_SERVE);
}

Test(route, first_key_fixes_the_slot) {
    req r;
    route_answer a;
    char k[32];
    /* Unassigned first: that answer, before a later key's CROSSSLOT. */
    keys_of(&r, (const char *const[]){key_in(16001, 16383, k), "b", NULL});
    cr_assert_eq(decide(&r, &a), ROUTE_UNBOUND);
    /* Served first, unassigned later in another slot: CROSSSLOT. */
    keys_of(&r, (const char *const[]){"b", key_in(16001, 16383, k), NULL});
    cr_assert_eq(decide(&r, &a), ROUTE_CROSSSLOT);
}

/* ---- cluster down ---- */

Test(route, cluster_down) {
    req r;
    route_answer a;
    char k[32];
    map->ok = false;
    keys_of(&r, KEYS("b"));
    cr_assert_eq(decide(&r, &a), ROUTE_DOWN);
    expect_text(&a, "CLUSTERDOWN The cluster is down");
    r.q.write = r.q.cmd_write = true;
    cr_assert_eq(decide(&r, &a), ROUTE_DOWN);
    /* Unassigned and CROSSSLOT are found before the state is looked at. */
    keys_of(&r, (const char *const[]){key_in(16001, 16383, k), NULL});
    cr_assert_eq(decide(&r, &a), ROUTE_UNBOUND);
    keys_of(&r, KEYS("b", "c"));
    cr_assert_eq(decide(&r, &a), ROUTE_CROSSSLOT);
}

Test(route, reads_when_down) {
    req r;
    route_answer a;
    map->ok = false;
    keys_of(&r, KEYS("b"));
    r.q.allow_reads_down = true;
    cr_assert_eq(decide(&r, &a), ROUTE_SERVE);
    r.q.write = r.q.cmd_write = true;
    cr_assert_eq(decide(&r, &a), ROUTE_DOWN_RO);
    expect_text(&a, "CLUSTERDOWN The cluster is down and only accepts read commands");
    /* A read of another node's slot is still redirected. */
    keys_of(&r, KEYS("c"));
    r.q.allow_reads_down = true;
    cr_assert_eq(decide(&r, &a), ROUTE_MOVED);
    /* EXEC: Redis tests EXEC's own flags (not a write), so a transaction
     * with writes passes the down test. */
    keys_of(&r, KEYS("b"));
    r.q.allow_reads_down = true;
    r.q.write = true;
    r.q.cmd_write = false;
    cr_assert_eq(decide(&r, &a), ROUTE_SERVE);
}

Test(route, shard_channels_when_down) {
    req r;
    route_answer a;
    map->ok = false;
    keys_of(&r, KEYS("b"));
    r.q.shard = true;
    cr_assert_eq(decide(&r, &a), ROUTE_DOWN);
    r.q.allow_reads_down = true; /* not the setting shard channels read */
    cr_assert_eq(decide(&r, &a), ROUTE_DOWN);
    r.q.allow_shard_down = true;
    cr_assert_eq(decide(&r, &a), ROUTE_SERVE);
    keys_of(&r, KEYS("c"));
    r.q.shard = r.q.allow_shard_down = true;
    cr_assert_eq(decide(&r, &a), ROUTE_MOVED);
}

/* ---- migrating: ME owns slot 3300 ("b", "{b}x") and moves it to B ---- */

Test(route, migrating_slot) {
    req r;
    route_answer a;
    int calls;
    map->migrating_to[3300] = B;
    keys_of(&r, KEYS("b"));
    cr_assert_eq(decide(&r, &a), ROUTE_LOOKUP, "key existence decides");
    cr_assert_eq(decide_with(&r, KEYS("b"), &a, &calls), ROUTE_SERVE);
    cr_assert_eq(calls, 1);
    cr_assert_eq(decide_with(&r, (const char *const[]){NULL}, &a, NULL), ROUTE_ASK);
    cr_assert_eq(a.node, B);
    expect_text(&a, "ASK 3300 127.0.0.1:7001");
    keys_of(&r, KEYS("{b}x", "{b}y"));
    cr_assert_eq(decide_with(&r, KEYS("{b}x"), &a, NULL), ROUTE_TRYAGAIN);
    expect_text(&a, "TRYAGAIN Multiple keys request during rehashing of slot");
    cr_assert_eq(decide_with(&r, KEYS("{b}x", "{b}y"), &a, NULL), ROUTE_SERVE);
    cr_assert_eq(decide_with(&r, (const char *const[]){NULL}, &a, NULL), ROUTE_ASK);
    /* ASKING changes nothing on the source. */
    r.q.asking = true;
    cr_assert_eq(decide_with(&r, KEYS("{b}y"), &a, NULL), ROUTE_TRYAGAIN);
    /* CROSSSLOT still wins. */
    keys_of(&r, KEYS("b", "a"));
    cr_assert_eq(decide_with(&r, (const char *const[]){NULL}, &a, NULL), ROUTE_CROSSSLOT);
}

Test(route, migrating_slot_when_down) {
    req r;
    route_answer a;
    map->migrating_to[3300] = B;
    map->ok = false;
    keys_of(&r, KEYS("b"));
    cr_assert_eq(decide(&r, &a), ROUTE_DOWN, "the state is tested before key existence");
}

Test(route, migrating_slot_shard_channel_and_migrate) {
    req r;
    route_answer a;
    int calls;
    map->migrating_to[3300] = B;
    keys_of(&r, KEYS("b"));
    r.q.shard = true; /* served by the source until the hand-over */
    cr_assert_eq(decide(&r, &a), ROUTE_SERVE);
    cr_assert_eq(decide_with(&r, (const char *const[]){NULL}, &a, &calls), ROUTE_SERVE);
    cr_assert_eq(calls, 0);
    keys_of(&r, KEYS("b"));
    r.q.migrate = true;
    cr_assert_eq(decide(&r, &a), ROUTE_SERVE);
}

Test(route, migrating_flag_of_a_slot_we_do_not_own_is_ignored) {
    req r;
    route_answer a;
    map->migrating_to[7365] = C; /* "c" is B's */
    keys_of(&r, KEYS("c"));
    cr_assert_eq(decide(&r, &a), ROUTE_MOVED);
}

/* ---- importing: B owns slot 7365 ("c", "{c}x"), ME imports it ---- */

Test(route, importing_slot) {
    req r;
    route_answer a;
    int calls;
    map->importing_from[7365] = B;
    keys_of(&r, KEYS("c"));
    cr_assert_eq(decide(&r, &a), ROUTE_MOVED, "without ASKING: the owner");
    r.q.asking = true;
    cr_assert_eq(decide(&r, &a), ROUTE_SERVE, "one key: no lookup needed");
    cr_assert_eq(decide_with(&r, (const char *const[]){NULL}, &a, &calls), ROUTE_SERVE);
    keys_of(&r, KEYS("{c}x", "{c}y"));
    r.q.asking = true;
    cr_assert_eq(decide(&r, &a), ROUTE_LOOKUP);
    cr_assert_eq(decide_with(&r, KEYS("{c}x", "{c}y"), &a, NULL), ROUTE_SERVE);
    cr_assert_eq(decide_with(&r, KEYS("{c}y"), &a, NULL), ROUTE_TRYAGAIN);
    cr_assert_eq(decide_with(&r, (const char *const[]){NULL}, &a, NULL), ROUTE_TRYAGAIN);
    /* Writes too: ASKING serves them. */
    r.q.write = r.q.cmd_write = true;
    cr_assert_eq(decide_with(&r, KEYS("{c}x", "{c}y"), &a, NULL), ROUTE_SERVE);
    /* Shard channels: no lookup, served with ASKING. */
    keys_of(&r, KEYS("{c}x", "{c}y"));
    r.q.asking = r.q.shard = true;
    cr_assert_eq(decide_with(&r, (const char *const[]){NULL}, &a, &calls), ROUTE_SERVE);
    cr_assert_eq(calls, 0);
}

/* ---- READONLY on a replica: ME replicates B ---- */

Test(route, readonly_replica) {
    req r;
    route_answer a;
    map->nodes[ME].is_master = false;
    map->nodes[ME].master = B;
    for (unsigned s = 0; s <= 5460; s++) map->owner[s] = B; /* our master owns ours too */
    keys_of(&r, KEYS("c"));
    cr_assert_eq(decide(&r, &a), ROUTE_MOVED, "without READONLY");
    expect_text(&a, "MOVED 7365 127.0.0.1:7001");
    r.q.readonly = true;
    cr_assert_eq(decide(&r, &a), ROUTE_SERVE);
    r.q.write = r.q.cmd_write = true;
    cr_assert_eq(decide(&r, &a), ROUTE_MOVED, "writes go to the master");
    /* EXEC with a queued write (its own flags say read). */
    r.q.cmd_write = false;
    cr_assert_eq(decide(&r, &a), ROUTE_MOVED);
    /* A slot of another master. */
    keys_of(&r, KEYS("foo"));
    r.q.readonly = true;
    cr_assert_eq(decide(&r, &a), ROUTE_MOVED);
    /* Shard pub/sub reads from the replica without READONLY. */
    keys_of(&r, KEYS("c"));
    r.q.shard = true;
    cr_assert_eq(decide(&r, &a), ROUTE_SERVE);
}

/* ---- blocked clients ---- */

Test(route, blocked_clients) {
    route_answer a;
    cr_assert_eq(route_decide_blocked(map, 3300, false, true, &a), ROUTE_SERVE);
    cr_assert_eq(route_decide_blocked(map, 7365, false, true, &a), ROUTE_MOVED);
    expect_text(&a, "MOVED 7365 127.0.0.1:7001");
    cr_assert_eq(route_decide_blocked(map, 16383, false, true, &a), ROUTE_UNBOUND);
    expect_text(&a, "CLUSTERDOWN Hash slot not served");
    /* Being imported here: stays. */
    map->importing_from[7365] = B;
    cr_assert_eq(route_decide_blocked(map, 7365, false, true, &a), ROUTE_SERVE);
    /* A READONLY read on a replica of the owner stays; a write does not. */
    map->nodes[ME].is_master = false;
    map->nodes[ME].master = C;
    cr_assert_eq(route_decide_blocked(map, 12182, true, false, &a), ROUTE_SERVE);
    cr_assert_eq(route_decide_blocked(map, 12182, true, true, &a), ROUTE_MOVED);
    cr_assert_eq(route_decide_blocked(map, 12182, false, false, &a), ROUTE_MOVED);
    /* Cluster down: even our own slot. */
    map->ok = false;
    cr_assert_eq(route_decide_blocked(map, 3300, false, true, &a), ROUTE_DOWN);
    expect_text(&a, "CLUSTERDOWN The cluster is down");
}

/* ---- a real node's key lookup ---- */

static void db_setup(void) {
    build_map();
    config_init_defaults();
    db_init(16);
}

static void db_teardown(void) {
    db_flush(-1, false);
    db_shutdown();
    free_map();
}

static void add_key(const char *key, long long expire) {
    dbkey k;
    dbkey_init(&k, 0, key, strlen(key));
    slot_lock(k.slot);
    db_add(&k, entry_new_string(key, strlen(key), "v", 1, expire, false));
    slot_unlock(k.slot);
}

Test(route_exists, expired_keys_count_as_missing, .init = db_setup, .fini = db_teardown) {
    add_key("{b}live", -1);
    add_key("{b}ttl", mstime() + 100000);
    add_key("{b}gone", mstime() - 1000);
    unsigned s = key_hash_slot("{b}", 3);
    slot_lock(s);
    cr_assert(route_key_exists(NULL, "{b}live", 7, s));
    cr_assert(route_key_exists(NULL, "{b}ttl", 6, s));
    cr_assert_not(route_key_exists(NULL, "{b}gone", 7, s));
    cr_assert_not(route_key_exists(NULL, "{b}none", 7, s));
    /* Not deleted by the check (Redis's LOOKUP_NOEXPIRE). */
    dbkey k;
    dbkey_init(&k, 0, "{b}gone", 7);
    cr_assert_geq(ktable_find(db_table(0, s, false), k.key, k.len, k.hash), 0);
    /* Through the decision: the lazily expired key makes a migrating slot
     * ASK (Redis's "Key lazy expires during key migration"). */
    map->migrating_to[s] = B;
    req r;
    route_answer a;
    keys_of(&r, KEYS("{b}gone"));
    cr_assert_eq(route_decide(map, &r.q, route_key_exists, NULL, &a), ROUTE_ASK);
    keys_of(&r, KEYS("{b}live", "{b}gone"));
    cr_assert_eq(route_decide(map, &r.q, route_key_exists, NULL, &a), ROUTE_TRYAGAIN);
    keys_of(&r, KEYS("{b}live", "{b}ttl"));
    cr_assert_eq(route_decide(map, &r.q, route_key_exists, NULL, &a), ROUTE_SERVE);
    slot_unlock(s);
}
