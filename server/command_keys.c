/*
 * command_keys.c - finds the keys of a command invocation through its key
 * specs (command_meta.h), with their flags, the way Redis 7.0 answers
 * COMMAND GETKEYS / GETKEYSANDFLAGS.
 *
 * Redis's order of preference, kept here:
 * 1. The key specs, when the command has one that is not `not_key` and none
 *    has `variable_flags`. A spec that cannot be followed (a key count that
 *    is not a number or goes past the end, an `incomplete` or unknown spec)
 *    makes the whole search fail, and then:
 * 2. the command's own key finder, which Redis gives to every command whose
 *    keys move or whose flags vary:
 *    - a command with a `keynum` spec (EVAL, ZUNIONSTORE, LMPOP, ...) uses
 *      Redis's generic "numkeys" finder, whose offsets follow from the specs
 *      (below); it parses the count as atoi() does and reports no flags;
 *    - SET (its spec has `variable_flags`) uses set_keys: RW when a GET
 *      argument is present, OW otherwise; BITFIELD (the same) uses
 *      bitfield_keys: RO while only GETs come first, RW otherwise;
 *    - SORT and SORT_RO (a BY/GET spec `unknown`, STORE's `incomplete`)
 *      use Redis's sortGetKeys / sortROGetKeys.
 * 3. Otherwise no keys.
 */
#include "command_keys.h"
#include "migrate.h"
#include "t_sort.h"

#include "command_meta.h"
#include "mem.h"
#include "numparse.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Keys found through the specs into keys[] (room for nspecs * argc);
 * -1 when a spec cannot be followed. */
static int keys_from_specs(const command *cmd, const command_meta *m, const arg_t *argv, int argc, key_ref *keys) {
    int n = 0;
    for (int j = 0; j < m->nkey_specs; j++) {
        const key_spec_row *s = &m->key_specs[j];
        if (s->flags & KS_NOT_KEY) continue;
        int first = 0;
        if (s->begin == KS_BEGIN_INDEX) {
            first = s->pos;
        } else if (s->begin == KS_BEGIN_KEYWORD) {
            /* From startfrom towards the end (or, when negative, from the
             * end backwards); like Redis, a forward search stops before
             * the last argument and a backward one before argv[1]. */
            int start = s->pos > 0 ? s->pos : argc + s->pos;
            int end = s->pos > 0 ? argc - 1 : 1;
            for (int i = start; i != end; i = start <= end ? i + 1 : i - 1) {
                if (i >= argc || i < 1) break;
                if (argv[i].len == strlen(s->keyword) && strncasecmp(argv[i].ptr, s->keyword, argv[i].len) == 0) {
                    first = i + 1;
                    break;
                }
            }
            if (!first) continue; /* keyword absent: this spec has no keys */
        } else {
            return -1;
        }
        /* A spec that found its start but cannot list all keys: the
         * command's own finder decides (MIGRATE's KEYS). */
        if (s->flags & KS_INCOMPLETE) return -1;

        long long last;
        int step;
        if (s->find == KS_FIND_RANGE) {
            step = s->b;
            if (s->a >= 0)
                last = first + s->a;
            else if (!s->c)
                last = argc + s->a;
            else
                last = first + ((argc - first) / s->c + s->a);
        } else if (s->find == KS_FIND_KEYNUM) {
            step = s->c;
            long long numkeys;
            if (s->a >= argc || first + s->a >= argc) return -1;
            const arg_t *count = &argv[first + s->a];
            if (!parse_ll(count->ptr, count->len, &numkeys) || numkeys < 0 || numkeys > argc) return -1;
            first += s->b;
            last = first + numkeys - 1;
        } else {
            return -1;
        }
        if (last >= argc || last < first || first >= argc) return -1;
        if (step < 1) step = 1;
        for (int i = first; i <= last; i += step) keys[n++] = (key_ref){.pos = i, .flags = s->flags};
        if (s->flags & KS_INCOMPLETE) return -1;
    }
    return n;
}

/* The keynum spec of a command, or NULL. */
static const key_spec_row *keynum_spec(const command_meta *m) {
    for (int j = 0; j < m->nkey_specs; j++)
        if (m->key_specs[j].begin == KS_BEGIN_INDEX && m->key_specs[j].find == KS_FIND_KEYNUM) return &m->key_specs[j];
    return NULL;
}

/* atoi() of an argument (which need not be NUL-terminated). */
static int arg_atoi(const arg_t *a) {
    char buf[64];
    size_t n = a->len < sizeof buf - 1 ? a->len : sizeof buf - 1;
    memcpy(buf, a->ptr, n);
    buf[n] = '\0';
    return atoi(buf);
}

/* Redis's generic finder for "[destkey] numkeys key [key ...]": the count at
 * the keynum spec's count index, keys from its first key index, and as last
 * key the destination of a one-key index spec, if the command has one. An
 * unusable count (below 1, or more keys than arguments) gives no keys. */
static int keys_numkeys(const command_meta *m, const key_spec_row *ks, const arg_t *argv, int argc, key_ref *keys) {
    int count_at = ks->pos + ks->a, first = ks->pos + ks->b, step = ks->c > 0 ? ks->c : 1;
    int store = 0;
    for (int j = 0; j < m->nkey_specs; j++) {
        const key_spec_row *s = &m->key_specs[j];
        if (s != ks && s->begin == KS_BEGIN_INDEX && s->find == KS_FIND_RANGE && s->a == 0) store = s->pos;
    }
    if (count_at >= argc) return 0;
    int num = arg_atoi(&argv[count_at]);
    if (num < 1 || num > (argc - first) / step) return 0;
    int n = 0;
    for (int i = 0; i < num; i++) keys[n++] = (key_ref){.pos = first + i * step, .flags = 0};
    if (store) keys[n++] = (key_ref){.pos = store, .flags = 0};
    return n;
}

/* SET key value [... GET ...]: the key is read too when GET is given. */
static int set_keys(const arg_t *argv, int argc, key_ref *keys) {
    uint16_t flags = KS_OW | KS_UPDATE;
    for (int i = 3; i < argc; i++)
        if (argv[i].len == 3 && strncasecmp(argv[i].ptr, "get", 3) == 0) {
            flags = KS_RW | KS_ACCESS | KS_UPDATE;
            break;
        }
    keys[0] = (key_ref){.pos = 1, .flags = flags};
    return 1;
}

/* BITFIELD key [GET|SET|INCRBY|OVERFLOW ...]: RO while only GETs (and
 * OVERFLOWs) come first, RW from the first SET/INCRBY or anything else. */
static int bitfield_keys(const arg_t *argv, int argc, key_ref *keys) {
    bool readonly = true;
    for (int i = 2; i < argc && readonly; i++) {
        int rem = argc - i - 1;
        const arg_t *a = &argv[i];
        bool get = a->len == 3 && strncasecmp(a->ptr, "get", 3) == 0;
        if (get && rem >= 2)
            i += 2;
        else if (a->len == 8 && strncasecmp(a->ptr, "overflow", 8) == 0 && rem >= 1)
            i += 1;
        else
            readonly = false; /* SET, INCRBY, or a syntax error: assumed a write, as Redis */
    }
    keys[0] = (key_ref){.pos = 1, .flags = readonly ? KS_RO | KS_ACCESS : KS_RW | KS_ACCESS | KS_UPDATE};
    return 1;
}

/* MIGRATE: the keys dispatch locks (migrate.h), all read, written and
 * deleted. */
static int migrate_key_refs(const arg_t *argv, int argc, key_ref *keys) {
    int *idx = mem_alloc((size_t)argc * sizeof *idx);
    int n = migrate_keys(argv, argc, idx, argc);
    for (int i = 0; i < n; i++) keys[i] = (key_ref){.pos = idx[i], .flags = KS_RW | KS_ACCESS | KS_DELETE};
    mem_free(idx);
    return n;
}

/* SORT: the key, read, and the STORE destination, if any (Redis's
 * sortGetKeys: its spec for the destination is `incomplete`). */
static int sort_key_refs(const arg_t *argv, int argc, key_ref *keys) {
    keys[0] = (key_ref){.pos = 1, .flags = KS_RO | KS_ACCESS};
    int store = sort_store_arg(argv, argc);
    if (!store) return 1;
    keys[1] = (key_ref){.pos = store, .flags = KS_OW | KS_UPDATE};
    return 2;
}

/* SORT_RO: the key alone (its BY/GET spec is `unknown`). */
static int sort_ro_key_refs(const arg_t *argv, int argc, key_ref *keys) {
    (void)argv;
    (void)argc;
    keys[0] = (key_ref){.pos = 1, .flags = KS_RO | KS_ACCESS};
    return 1;
}

/* The commands whose Redis key finder is not derived from their specs. */
static const struct {
    const char *fullname;
    int (*find)(const arg_t *argv, int argc, key_ref *keys);
} own_finders[] = {
    {"set", set_keys},
    {"migrate", migrate_key_refs},
    {"bitfield", bitfield_keys},
    {"sort", sort_key_refs},
    {"sort_ro", sort_ro_key_refs},
};

static int (*own_finder(const command *cmd))(const arg_t *, int, key_ref *) {
    for (size_t i = 0; i < sizeof own_finders / sizeof own_finders[0]; i++)
        if (strcmp(own_finders[i].fullname, cmd->fullname) == 0) return own_finders[i].find;
    return NULL;
}

static uint16_t all_spec_flags(const command_meta *m, bool inverted) {
    uint16_t f = 0;
    for (int j = 0; j < m->nkey_specs; j++) f |= inverted ? (uint16_t)~m->key_specs[j].flags : m->key_specs[j].flags;
    return f;
}

bool command_keys_declared(const command *cmd) {
    const command_meta *m = command_meta_of(cmd);
    return keynum_spec(m) || own_finder(cmd) || (all_spec_flags(m, true) & KS_NOT_KEY);
}

int command_keys_find(const command *cmd, const arg_t *argv, int argc, key_ref **out) {
    const command_meta *m = command_meta_of(cmd);
    size_t room = (size_t)(m->nkey_specs > 0 ? m->nkey_specs : 1) * (size_t)argc + 2;
    key_ref *keys = mem_alloc(room * sizeof *keys);
    int n = -1;
    bool has_keyspec = all_spec_flags(m, true) & KS_NOT_KEY;
    bool has_varflags = all_spec_flags(m, false) & KS_VARIABLE_FLAGS;
    if (has_keyspec && !has_varflags) n = keys_from_specs(cmd, m, argv, argc, keys);
    if (n < 0) {
        const key_spec_row *ks = keynum_spec(m);
        int (*find)(const arg_t *, int, key_ref *) = own_finder(cmd);
        n = find ? find(argv, argc, keys) : ks ? keys_numkeys(m, ks, argv, argc, keys) : 0;
    }
    if (n == 0) {
        mem_free(keys);
        keys = NULL;
    }
    *out = keys;
    return n;
}
