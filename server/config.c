/*
 * config.c - the directive table and everything that reads or writes it:
 * defaults, the values CONFIG GET shows, CONFIG SET's all-or-nothing update,
 * setting one directive for the redis.conf / "--name value" loader
 * (config_load.c) and each directive's lines for CONFIG REWRITE
 * (config_rewrite.c). Also the small string and argv helpers the config
 * files share (config_internal.h).
 *
 * Design: one declarative table (name, alias, type, bounds, default, flags,
 * storage, hooks). Numeric values live in atomics (a cfg field, or the
 * entry's own slot) so any thread reads them without a lock; string values
 * and every write are guarded by cfg_lock. Setting a value is two steps,
 * parse (validate into a staged value, nothing changed) then commit, which
 * is how CONFIG SET checks every pair before touching any. Parsing, errors
 * and file formats follow Redis 7.0 byte for byte; directives marked F_NA
 * are accepted and shown but not acted on (yet).
 */
#include "config.h"
#include "config_internal.h"

#include "glob.h"
#include "log.h"
#include "mem.h"
#include "numparse.h"
#include "worker.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

server_config cfg;

/* ------------------------------------------------------------------------
 * Small helpers (shared through config_internal.h): a growable string,
 * Redis's quoting, argument vectors.
 * ---------------------------------------------------------------------- */

/* Quoted form as Redis's sdscatrepr writes it ("a\"b\x01"). */
void config_sb_repr(sbuf *b, const char *s) {
    sbuf_addc(b, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '\\': sbuf_adds(b, "\\\\"); break;
        case '"': sbuf_adds(b, "\\\""); break;
        case '\n': sbuf_adds(b, "\\n"); break;
        case '\r': sbuf_adds(b, "\\r"); break;
        case '\t': sbuf_adds(b, "\\t"); break;
        case '\a': sbuf_adds(b, "\\a"); break;
        case '\b': sbuf_adds(b, "\\b"); break;
        default:
            if (isprint(c)) sbuf_addc(b, (char)c);
            else sbuf_addf(b, "\\x%02x", c);
        }
    }
    sbuf_addc(b, '"');
}

void config_args_free(char **argv, int argc) {
    if (!argv) return;
    for (int i = 0; i < argc; i++) mem_free(argv[i]);
    mem_free(argv);
}

void config_args_push(char ***argv, int *argc, char *s) {
    *argv = mem_realloc(*argv, sizeof(char *) * (size_t)(*argc + 1));
    (*argv)[(*argc)++] = s;
}

/* Split on every single space like sdssplitlen(" "): "" gives no argument,
 * "a  b" gives "a", "", "b". CONFIG SET splits multi-argument values so. */
static int split_spaces(const char *s, char ***argvp) {
    char **argv = NULL;
    int argc = 0;
    if (*s) {
        for (;;) {
            const char *sp = strchr(s, ' ');
            size_t n = sp ? (size_t)(sp - s) : strlen(s);
            config_args_push(&argv, &argc, mem_strndup(s, n));
            if (!sp) break;
            s = sp + 1;
        }
    }
    *argvp = argv;
    return argc;
}

static char *join_args(char **argv, int argc) {
    sbuf b = {0};
    for (int i = 0; i < argc; i++) {
        if (i) sbuf_addc(&b, ' ');
        sbuf_adds(&b, argv[i]);
    }
    return sbuf_take(&b);
}

/* ------------------------------------------------------------------------
 * Memory values and human sizes.
 * ---------------------------------------------------------------------- */

/* Redis's memtoull: digits then an optional unit b, k (1000), kb (1024),
 * m, mb, g, gb, any case; no sign. "" and a bare unit are 0 as in Redis,
 * and like Redis the product is not checked for overflow. */
static bool memtoull(const char *p, unsigned long long *out) {
    if (*p == '-') return false;
    const char *u = p;
    while (*u && isdigit((unsigned char)*u)) u++;
    unsigned long long mul;
    if (!*u || !strcasecmp(u, "b")) mul = 1;
    else if (!strcasecmp(u, "k")) mul = 1000;
    else if (!strcasecmp(u, "kb")) mul = 1024;
    else if (!strcasecmp(u, "m")) mul = 1000 * 1000;
    else if (!strcasecmp(u, "mb")) mul = 1024 * 1024;
    else if (!strcasecmp(u, "g")) mul = 1000ULL * 1000 * 1000;
    else if (!strcasecmp(u, "gb")) mul = 1024ULL * 1024 * 1024;
    else return false;
    char buf[128];
    size_t digits = (size_t)(u - p);
    if (digits >= sizeof buf) return false;
    memcpy(buf, p, digits);
    buf[digits] = '\0';
    errno = 0;
    char *end;
    unsigned long long v = strtoull(buf, &end, 10);
    if ((v == 0 && errno == EINVAL) || *end) return false;
    *out = v * mul;
    return true;
}

bool config_parse_memory(const char *s, long long *out) {
    unsigned long long v;
    if (!memtoull(s, &v) || v > (unsigned long long)LLONG_MAX) return false;
    *out = (long long)v;
    return true;
}

void config_bytes_human(char *buf, size_t len, unsigned long long n) {
    static const char units[] = "KMGTP";
    if (n < 1024) {
        snprintf(buf, len, "%lluB", n);
        return;
    }
    double scale = 1024;
    for (int i = 0; i < 5; i++, scale *= 1024) {
        if ((double)n < scale * 1024) {
            snprintf(buf, len, "%.2f%c", (double)n / scale, units[i]);
            return;
        }
    }
    snprintf(buf, len, "%lluB", n);
}

/* CONFIG REWRITE's memory form: the largest of gb/mb/kb that divides. */
static void sb_memory(sbuf *b, long long v) {
    const long long gb = 1024LL * 1024 * 1024, mb = 1024 * 1024, kb = 1024;
    if (v && v % gb == 0) sbuf_addf(b, "%lldgb", v / gb);
    else if (v && v % mb == 0) sbuf_addf(b, "%lldmb", v / mb);
    else if (v && v % kb == 0) sbuf_addf(b, "%lldkb", v / kb);
    else sbuf_addf(b, "%lld", v);
}

/* ------------------------------------------------------------------------
 * The directive table: types, flags, staged values.
 * ---------------------------------------------------------------------- */

enum cfg_type { T_BOOL, T_INT, T_MEM, T_ENUM, T_STR, T_MSTR, T_SPECIAL };

enum cfg_flag {
    F_IMMUTABLE = 1 << 0, /* startup only: CONFIG SET refuses it */
    F_PROTECTED = 1 << 1, /* CONFIG SET only if enable-protected-configs allows */
    F_NA = 1 << 2,        /* accepted and shown, not applicable (yet) */
    F_SENSITIVE = 1 << 3, /* holds a secret */
    F_PERCENT = 1 << 4,   /* memory value or "N%" (stored as -N) */
    F_ULL = 1 << 5,       /* unsigned 64-bit in Redis: saturate, never reject */
    F_MULTI = 1 << 6,     /* takes several arguments */
    F_OCTAL = 1 << 7,     /* integer written in octal (unixsocketperm) */
};

typedef struct {
    const char *name;
    int value;
    bool hidden; /* accepted but left out of the error text (Redis 7.0's list) */
} cfg_enum;

/* A parsed, not yet committed value. */
typedef struct {
    long long ll;
    char *str; /* mem_alloc'd; owned by the stage until committed */
    long long obuf[CLIENT_CLASS_COUNT][3];
    bool obuf_set[CLIENT_CLASS_COUNT];
} cfg_stage;

struct cfg_def;

/* Config-file lines for one directive (CONFIG REWRITE). */
typedef struct {
    config_line *v;
    int n;
} linevec;

typedef struct {
    bool (*parse)(char **argv, int argc, cfg_stage *st, const char **err);
    bool (*commit)(struct cfg_def *d, cfg_stage *st, bool from_file);
    void (*format)(const struct cfg_def *d, sbuf *out);
    void (*lines)(const struct cfg_def *d, linevec *out);
} cfg_special;

typedef struct cfg_def {
    const char *name;
    const char *alias;
    unsigned char type;
    unsigned flags;
    long long min, max;
    const char *defval;            /* default, as a config file would say it */
    const cfg_enum *enums;
    _Atomic long long *num;        /* numeric storage: a cfg field, or &own */
    const cfg_special *sp;
    bool (*check)(cfg_stage *st, const char **err);  /* extra rule after parsing */
    void (*apply)(struct cfg_def *d, bool from_file); /* after commit */
    _Atomic long long own;
    char *str;                     /* T_STR / T_MSTR value (cfg_lock) */
    char *def_fmt;                 /* the default as CONFIG GET shows it */
} cfg_def;

/* Lock order: cfg_lock is a leaf; never held while taking a slot lock. */
static pthread_mutex_t cfg_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local char errbuf[512];

static _Atomic bool requirepass_nonempty;
static char *bind_addrs[CFG_MAX_BIND];
static int bind_count;
static char *bind_joined;
static char *save_params;
static bool save_loaded_from_file;
static char *config_path;
static bool defaults_done;
static char threads_default[16];

static const cfg_enum e_policy[] = {
    {"volatile-lru", MAXMEMORY_VOLATILE_LRU, false},   {"volatile-lfu", MAXMEMORY_VOLATILE_LFU, false},
    {"volatile-random", MAXMEMORY_VOLATILE_RANDOM, false}, {"volatile-ttl", MAXMEMORY_VOLATILE_TTL, false},
    {"allkeys-lru", MAXMEMORY_ALLKEYS_LRU, false},     {"allkeys-lfu", MAXMEMORY_ALLKEYS_LFU, false},
    {"allkeys-random", MAXMEMORY_ALLKEYS_RANDOM, false}, {"noeviction", MAXMEMORY_NOEVICTION, false},
    {NULL, 0, false}};
static const cfg_enum e_loglevel[] = {{"debug", LOG_DEBUG, false},     {"verbose", LOG_VERBOSE, false},
                                      {"notice", LOG_NOTICE, false},   {"warning", LOG_WARNING, false},
                                      {"nothing", LOG_NOTHING, true},  {NULL, 0, false}};
static const cfg_enum e_fsync[] = {{"everysec", 1, false}, {"always", 2, false}, {"no", 0, false}, {NULL, 0, false}};
static const cfg_enum e_noyeslocal[] = {{"no", 0, false}, {"yes", 1, false}, {"local", 2, false}, {NULL, 0, false}};
static const cfg_enum e_supervised[] = {{"upstart", 1, false}, {"systemd", 2, false}, {"auto", 3, false},
                                        {"no", 0, false},      {NULL, 0, false}};
static const cfg_enum e_syslog[] = {{"user", 0, false},   {"local0", 1, false}, {"local1", 2, false},
                                    {"local2", 3, false}, {"local3", 4, false}, {"local4", 5, false},
                                    {"local5", 6, false}, {"local6", 7, false}, {"local7", 8, false},
                                    {NULL, 0, false}};
static const cfg_enum e_pubsub_default[] = {{"allchannels", 1, false}, {"resetchannels", 0, false}, {NULL, 0, false}};
static const cfg_enum e_diskless_load[] = {{"disabled", 0, false}, {"on-empty-db", 1, false}, {"swapdb", 2, false},
                                           {NULL, 0, false}};
static const cfg_enum e_oom_adj[] = {{"no", 0, false}, {"yes", 1, false}, {"relative", 2, false},
                                     {"absolute", 3, false}, {NULL, 0, false}};
static const cfg_enum e_sanitize[] = {{"no", 0, false}, {"yes", 1, false}, {"clients", 2, false}, {NULL, 0, false}};
static const cfg_enum e_endpoint[] = {{"ip", 0, false}, {"hostname", 1, false}, {"unknown-endpoint", 2, false},
                                      {NULL, 0, false}};
static const cfg_enum e_propagation[] = {{"ignore", 0, false}, {"panic", 1, false}, {"panic-on-replicas", 2, false},
                                         {NULL, 0, false}};
static const cfg_enum e_tls_auth[] = {{"no", 0, false}, {"yes", 1, false}, {"optional", 2, false}, {NULL, 0, false}};

/* ------------------------------------------------------------------------
 * Special directives: bind, save, client-output-buffer-limit, dir,
 * notify-keyspace-events.
 * ---------------------------------------------------------------------- */

/* Add a line (taking ownership); force: write it even where the file
 * has no line for the directive yet (the value is not the default). */
static void lines_push(linevec *out, char *line, bool force) {
    out->v = mem_realloc(out->v, sizeof(config_line) * (size_t)(out->n + 1));
    out->v[out->n].line = line;
    out->v[out->n].force = force;
    out->n++;
}

static void lines_simple(const cfg_def *d, linevec *out, const char *value, bool quote, bool force);

static bool bind_parse(char **argv, int argc, cfg_stage *st, const char **err) {
    if (argc > CFG_MAX_BIND) {
        *err = "Too many bind addresses specified.";
        return false;
    }
    if (argc == 1 && argv[0][0] == '\0') argc = 0; /* bind "": no TCP listener */
    st->str = join_args(argv, argc);
    return true;
}

static bool bind_commit(cfg_def *d, cfg_stage *st, bool from_file) {
    for (int i = 0; i < bind_count; i++) mem_free(bind_addrs[i]);
    bind_count = 0;
    char **argv;
    int argc = split_spaces(st->str, &argv);
    for (int i = 0; i < argc && i < CFG_MAX_BIND; i++) bind_addrs[bind_count++] = mem_strdup(argv[i]);
    config_args_free(argv, argc);
    mem_free(bind_joined);
    bind_joined = st->str;
    st->str = NULL;
    return true;
}

static void bind_format(const cfg_def *d, sbuf *out) { sbuf_adds(out, bind_joined ? bind_joined : ""); }

static void bind_lines(const cfg_def *d, linevec *out) {
    if (bind_joined && !strcmp(bind_joined, d->def_fmt)) return; /* default: no line at all */
    lines_simple(d, out, bind_joined ? bind_joined : "", false, true);
}

/* save <seconds> <changes> [...]: kept normalised as "3600 1 300 100". */
static bool save_parse(char **argv, int argc, cfg_stage *st, const char **err) {
    if (argc == 1 && argv[0][0] == '\0') argc = 0;
    if (argc & 1) {
        *err = "Invalid save parameters";
        return false;
    }
    sbuf b = {0};
    for (int j = 0; j < argc; j++) {
        char *end;
        long long v = strtoll(argv[j], &end, 10);
        if (*end != '\0' || ((j & 1) == 0 && v < 1) || ((j & 1) == 1 && v < 0)) {
            sbuf_free(&b);
            *err = "Invalid save parameters";
            return false;
        }
        if (j) sbuf_addc(&b, ' ');
        sbuf_addf(&b, "%lld", v);
    }
    st->str = sbuf_take(&b);
    return true;
}

int cfg_save_points(long long *pairs, int max) {
    char buf[1024];
    cfg_get_string("save", buf, sizeof buf);
    int n = 0;
    char *p = buf, *end;
    while (n + 1 < max) {
        long long a = strtoll(p, &end, 10);
        if (end == p) break;
        p = end;
        long long b = strtoll(p, &end, 10);
        if (end == p) break;
        p = end;
        pairs[n++] = a;
        pairs[n++] = b;
    }
    return n / 2;
}

/* Lines of a config file add up (save 900 1 / save 300 10), replacing the
 * default on the first one; CONFIG SET replaces. */
static bool save_commit(cfg_def *d, cfg_stage *st, bool from_file) {
    if (from_file && save_loaded_from_file && save_params && save_params[0] && st->str[0]) {
        sbuf b = {0};
        sbuf_adds(&b, save_params);
        sbuf_addc(&b, ' ');
        sbuf_adds(&b, st->str);
        mem_free(st->str);
        st->str = sbuf_take(&b);
    }
    if (from_file) save_loaded_from_file = true;
    mem_free(save_params);
    save_params = st->str;
    st->str = NULL;
    return true;
}

static void save_format(const cfg_def *d, sbuf *out) { sbuf_adds(out, save_params ? save_params : ""); }

static void save_lines(const cfg_def *d, linevec *out) {
    char **argv;
    int argc = split_spaces(save_params ? save_params : "", &argv);
    if (argc == 0) lines_push(out, mem_strdup("save \"\""), true);
    for (int j = 0; j + 1 < argc; j += 2) {
        sbuf b = {0};
        sbuf_addf(&b, "save %s %s", argv[j], argv[j + 1]);
        lines_push(out, sbuf_take(&b), true);
    }
    config_args_free(argv, argc);
}

static const char *obuf_class_name[CLIENT_CLASS_COUNT] = {"normal", "slave", "pubsub"};
static const long long obuf_defaults[CLIENT_CLASS_COUNT][3] = {
    {0, 0, 0}, {256LL << 20, 64LL << 20, 60}, {32LL << 20, 8LL << 20, 60}};

static int obuf_class_by_name(const char *s) {
    if (!strcasecmp(s, "normal")) return CLIENT_CLASS_NORMAL;
    if (!strcasecmp(s, "slave") || !strcasecmp(s, "replica")) return CLIENT_CLASS_REPLICA;
    if (!strcasecmp(s, "pubsub")) return CLIENT_CLASS_PUBSUB;
    return -1; /* "master" included: it has no limit */
}

static long long ull_to_ll(unsigned long long v) { return v > (unsigned long long)LLONG_MAX ? LLONG_MAX : (long long)v; }

static bool obuf_parse(char **argv, int argc, cfg_stage *st, const char **err) {
    if (argc % 4) {
        *err = "Wrong number of arguments in buffer limit configuration.";
        return false;
    }
    for (int j = 0; j < argc; j += 4) {
        int cls = obuf_class_by_name(argv[j]);
        if (cls < 0) {
            *err = "Invalid client class specified in buffer limit configuration.";
            return false;
        }
        unsigned long long hard, soft;
        char *end;
        long long secs = strtoll(argv[j + 3], &end, 10);
        if (!memtoull(argv[j + 1], &hard) || !memtoull(argv[j + 2], &soft) || secs < 0 || *end) {
            *err = "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
            return false;
        }
        st->obuf[cls][0] = ull_to_ll(hard);
        st->obuf[cls][1] = ull_to_ll(soft);
        st->obuf[cls][2] = secs;
        st->obuf_set[cls] = true;
    }
    return true;
}

static bool obuf_commit(cfg_def *d, cfg_stage *st, bool from_file) {
    for (int c = 0; c < CLIENT_CLASS_COUNT; c++) {
        if (!st->obuf_set[c]) continue;
        atomic_store_explicit(&cfg.obuf_hard[c], st->obuf[c][0], memory_order_relaxed);
        atomic_store_explicit(&cfg.obuf_soft[c], st->obuf[c][1], memory_order_relaxed);
        atomic_store_explicit(&cfg.obuf_soft_seconds[c], st->obuf[c][2], memory_order_relaxed);
    }
    return true;
}

static void obuf_format(const cfg_def *d, sbuf *out) {
    for (int c = 0; c < CLIENT_CLASS_COUNT; c++) {
        sbuf_addf(out, "%s%s %lld %lld %lld", c ? " " : "", obuf_class_name[c], cfg_get(obuf_hard[c]),
                  cfg_get(obuf_soft[c]), cfg_get(obuf_soft_seconds[c]));
    }
}

static void obuf_lines(const cfg_def *d, linevec *out) {
    for (int c = 0; c < CLIENT_CLASS_COUNT; c++) {
        long long v[3] = {cfg_get(obuf_hard[c]), cfg_get(obuf_soft[c]), cfg_get(obuf_soft_seconds[c])};
        bool force = memcmp(v, obuf_defaults[c], sizeof v) != 0;
        sbuf b = {0};
        sbuf_addf(&b, "%s %s ", d->name, obuf_class_name[c]);
        sb_memory(&b, v[0]);
        sbuf_addc(&b, ' ');
        sb_memory(&b, v[1]);
        sbuf_addf(&b, " %lld", v[2]);
        lines_push(out, sbuf_take(&b), force);
    }
}

/* dir: the working directory itself; setting it is a chdir. */
static bool dir_parse(char **argv, int argc, cfg_stage *st, const char **err) {
    struct stat sb;
    if (stat(argv[0], &sb) < 0) {
        *err = strerror(errno);
        return false;
    }
    if (!S_ISDIR(sb.st_mode)) {
        *err = strerror(ENOTDIR);
        return false;
    }
    if (access(argv[0], X_OK) < 0) {
        *err = strerror(errno);
        return false;
    }
    st->str = mem_strdup(argv[0]);
    return true;
}

static bool dir_commit(cfg_def *d, cfg_stage *st, bool from_file) {
    if (chdir(st->str) < 0) log_warning("Can't chdir to '%s': %s", st->str, strerror(errno));
    return true;
}

static void dir_format(const cfg_def *d, sbuf *out) {
    char cwd[PATH_MAX];
    sbuf_adds(out, getcwd(cwd, sizeof cwd) ? cwd : "");
}

static void dir_lines(const cfg_def *d, linevec *out) {
    sbuf b = {0};
    dir_format(d, &b);
    lines_simple(d, out, sbuf_str(&b), true, true);
    sbuf_free(&b);
}

/* notify-keyspace-events: Redis's class letters, stored as its flag bits. */
enum {
    NK_KEYSPACE = 1 << 0, NK_KEYEVENT = 1 << 1, NK_GENERIC = 1 << 2, NK_STRING = 1 << 3,
    NK_LIST = 1 << 4, NK_SET = 1 << 5, NK_HASH = 1 << 6, NK_ZSET = 1 << 7, NK_EXPIRED = 1 << 8,
    NK_EVICTED = 1 << 9, NK_STREAM = 1 << 10, NK_KEY_MISS = 1 << 11, NK_MODULE = 1 << 13, NK_NEW = 1 << 14,
    NK_ALL = NK_GENERIC | NK_STRING | NK_LIST | NK_SET | NK_HASH | NK_ZSET | NK_EXPIRED | NK_EVICTED |
             NK_STREAM | NK_MODULE,
};
static const struct {
    char c;
    int flag;
} nk_letters[] = {{'g', NK_GENERIC}, {'$', NK_STRING}, {'l', NK_LIST},    {'s', NK_SET},
                  {'h', NK_HASH},    {'z', NK_ZSET},   {'x', NK_EXPIRED}, {'e', NK_EVICTED},
                  {'t', NK_STREAM},  {'d', NK_MODULE}, {'n', NK_NEW},     {'K', NK_KEYSPACE},
                  {'E', NK_KEYEVENT}, {'m', NK_KEY_MISS}, {'A', NK_ALL}};

static bool notify_parse(char **argv, int argc, cfg_stage *st, const char **err) {
    long long flags = 0;
    for (const char *p = argv[0]; *p; p++) {
        size_t i;
        for (i = 0; i < sizeof nk_letters / sizeof nk_letters[0]; i++)
            if (nk_letters[i].c == *p) break;
        if (i == sizeof nk_letters / sizeof nk_letters[0]) {
            *err = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";
            return false;
        }
        flags |= nk_letters[i].flag;
    }
    st->ll = flags;
    return true;
}

static bool notify_commit(cfg_def *d, cfg_stage *st, bool from_file) {
    atomic_store_explicit(d->num, st->ll, memory_order_relaxed);
    return true;
}

static void notify_format(const cfg_def *d, sbuf *out) {
    long long f = atomic_load_explicit(d->num, memory_order_relaxed);
    if ((f & NK_ALL) == NK_ALL) {
        sbuf_addc(out, 'A');
    } else {
        for (size_t i = 0; i < 11; i++) /* g$lshzxetdn, in Redis's order */
            if (f & nk_letters[i].flag) sbuf_addc(out, nk_letters[i].c);
    }
    if (f & NK_KEYSPACE) sbuf_addc(out, 'K');
    if (f & NK_KEYEVENT) sbuf_addc(out, 'E');
    if (f & NK_KEY_MISS) sbuf_addc(out, 'm');
}

static void notify_lines(const cfg_def *d, linevec *out) {
    sbuf b = {0};
    notify_format(d, &b);
    lines_simple(d, out, sbuf_str(&b), true, atomic_load_explicit(d->num, memory_order_relaxed) != 0);
    sbuf_free(&b);
}

static const cfg_special sp_bind = {bind_parse, bind_commit, bind_format, bind_lines};
static const cfg_special sp_save = {save_parse, save_commit, save_format, save_lines};
static const cfg_special sp_obuf = {obuf_parse, obuf_commit, obuf_format, obuf_lines};
static const cfg_special sp_dir = {dir_parse, dir_commit, dir_format, dir_lines};
static const cfg_special sp_notify = {notify_parse, notify_commit, notify_format, notify_lines};

/* Hooks. */
static bool check_hz(cfg_stage *st, const char **err) {
    if (st->ll < 1) st->ll = 1;
    if (st->ll > 500) st->ll = 500;
    return true;
}

static void apply_loglevel(cfg_def *d, bool from_file) {
    log_set_level((int)atomic_load_explicit(d->num, memory_order_relaxed));
}

static void apply_requirepass(cfg_def *d, bool from_file) {
    atomic_store_explicit(&requirepass_nonempty, d->str && d->str[0], memory_order_release);
}

static void apply_maxmemory(cfg_def *d, bool from_file) {
    long long max = atomic_load_explicit(d->num, memory_order_relaxed);
    size_t used = mem_used();
    if (!from_file && max && (size_t)max < used)
        log_warning("WARNING: the new maxmemory value set via CONFIG SET (%lld) is smaller than the current "
                    "memory usage (%zu). This will result in key eviction and/or the inability to accept new "
                    "write commands depending on the maxmemory-policy.",
                    max, used);
}

/* ------------------------------------------------------------------------
 * The table. Columns: name, alias, flags, [bounds], default, storage.
 * ---------------------------------------------------------------------- */

#define BOOL_(n, a, fl, def, st, ...) \
    {.name = n, .alias = a, .type = T_BOOL, .flags = (fl), .defval = def, .num = st, __VA_ARGS__}
#define INT_(n, a, fl, lo, hi, def, st, ...) \
    {.name = n, .alias = a, .type = T_INT, .flags = (fl), .min = lo, .max = hi, .defval = def, .num = st, __VA_ARGS__}
#define MEM_(n, a, fl, lo, hi, def, st, ...) \
    {.name = n, .alias = a, .type = T_MEM, .flags = (fl), .min = lo, .max = hi, .defval = def, .num = st, __VA_ARGS__}
#define ENUM_(n, a, fl, list, def, st, ...) \
    {.name = n, .alias = a, .type = T_ENUM, .flags = (fl), .enums = list, .defval = def, .num = st, __VA_ARGS__}
#define STR_(n, a, fl, def, ...) {.name = n, .alias = a, .type = T_STR, .flags = (fl), .defval = def, __VA_ARGS__}
#define MSTR_(n, a, fl, def) {.name = n, .alias = a, .type = T_MSTR, .flags = (fl) | F_MULTI, .defval = def}
#define SPEC_(n, a, fl, def, ops) {.name = n, .alias = a, .type = T_SPECIAL, .flags = (fl), .defval = def, .sp = &ops}

#define IMM F_IMMUTABLE
#define NA F_NA
#define LL_MAX LLONG_MAX

static cfg_def defs[] = {
    /* Applied. */
    INT_("port", NULL, IMM, 0, 65535, "6379", &cfg.port),
    SPEC_("bind", NULL, IMM | F_MULTI, "* -::*", sp_bind),
    BOOL_("protected-mode", NULL, 0, "yes", &cfg.protected_mode),
    STR_("requirepass", NULL, F_SENSITIVE, "", .apply = apply_requirepass),
    ENUM_("enable-protected-configs", NULL, IMM, e_noyeslocal, "no", NULL),
    INT_("databases", NULL, IMM, 1, INT_MAX, "16", &cfg.databases),
    INT_("timeout", NULL, 0, 0, INT_MAX, "0", &cfg.timeout),
    INT_("tcp-keepalive", NULL, 0, 0, INT_MAX, "300", &cfg.tcp_keepalive),
    INT_("tcp-backlog", NULL, IMM, 0, INT_MAX, "511", &cfg.tcp_backlog),
    INT_("hz", NULL, 0, 0, INT_MAX, "10", &cfg.hz, .check = check_hz),
    ENUM_("loglevel", NULL, 0, e_loglevel, "notice", NULL, .apply = apply_loglevel),
    STR_("logfile", NULL, IMM, ""),
    BOOL_("daemonize", NULL, IMM, "no", &cfg.daemonize),
    STR_("pidfile", NULL, IMM, ""),
    SPEC_("dir", NULL, F_PROTECTED, NULL, sp_dir),
    INT_("maxclients", NULL, 0, 1, UINT_MAX, "10000", &cfg.maxclients),
    INT_("threads", "io-threads", IMM, 1, WORKER_MAX, threads_default, &cfg.threads),
    MEM_("proto-max-bulk-len", NULL, 0, 1024 * 1024, LL_MAX, "512mb", &cfg.proto_max_bulk_len),
    MEM_("client-query-buffer-limit", NULL, 0, 1024 * 1024, LL_MAX, "1gb", &cfg.client_query_buffer_limit),
    SPEC_("client-output-buffer-limit", NULL, F_MULTI, "normal 0 0 0 slave 256mb 64mb 60 pubsub 32mb 8mb 60",
          sp_obuf),
    MEM_("maxmemory", NULL, F_ULL, 0, LL_MAX, "0", &cfg.maxmemory, .apply = apply_maxmemory),
    ENUM_("maxmemory-policy", NULL, 0, e_policy, "noeviction", &cfg.maxmemory_policy),
    INT_("maxmemory-samples", NULL, 0, 1, INT_MAX, "5", &cfg.maxmemory_samples),
    INT_("maxmemory-eviction-tenacity", NULL, 0, 0, 100, "10", &cfg.maxmemory_eviction_tenacity),
    INT_("lfu-log-factor", NULL, 0, 0, INT_MAX, "10", &cfg.lfu_log_factor),
    INT_("lfu-decay-time", NULL, 0, 0, INT_MAX, "1", &cfg.lfu_decay_time),
    INT_("active-expire-effort", NULL, 0, 1, 10, "1", &cfg.active_expire_effort),
    INT_("slowlog-log-slower-than", NULL, 0, -1, LL_MAX, "10000", &cfg.slowlog_log_slower_than),
    INT_("slowlog-max-len", NULL, 0, 0, LL_MAX, "128", &cfg.slowlog_max_len),
    INT_("latency-monitor-threshold", NULL, 0, 0, LL_MAX, "0", &cfg.latency_monitor_threshold),
    BOOL_("lazyfree-lazy-user-del", NULL, 0, "no", &cfg.lazyfree_lazy_user_del),
    BOOL_("lazyfree-lazy-user-flush", NULL, 0, "no", &cfg.lazyfree_lazy_user_flush),
    BOOL_("lazyfree-lazy-eviction", NULL, 0, "no", &cfg.lazyfree_lazy_eviction),
    BOOL_("lazyfree-lazy-expire", NULL, 0, "no", &cfg.lazyfree_lazy_expire),
    BOOL_("cluster-enabled", NULL, IMM, "no", &cfg.cluster_enabled),

    /* Accepted, shown with Redis's defaults, not applicable yet. */
    BOOL_("io-threads-do-reads", NULL, IMM | NA, "no", NULL),
    SPEC_("save", NULL, F_MULTI, "3600 1 300 100 60 10000", sp_save),
    BOOL_("appendonly", NULL, NA, "no", NULL),
    ENUM_("appendfsync", NULL, NA, e_fsync, "everysec", NULL),
    STR_("appendfilename", NULL, IMM | NA, "appendonly.aof"),
    STR_("appenddirname", NULL, IMM | NA, "appendonlydir"),
    STR_("dbfilename", NULL, F_PROTECTED, "dump.rdb"),
    BOOL_("rdbcompression", NULL, 0, "yes", &cfg.rdbcompression),
    BOOL_("rdbchecksum", NULL, IMM, "yes", &cfg.rdbchecksum),
    BOOL_("rdb-del-sync-files", NULL, NA, "no", NULL),
    BOOL_("rdb-save-incremental-fsync", NULL, NA, "yes", NULL),
    BOOL_("stop-writes-on-bgsave-error", NULL, 0, "yes", &cfg.stop_writes_on_bgsave_error),
    BOOL_("no-appendfsync-on-rewrite", NULL, NA, "no", NULL),
    INT_("auto-aof-rewrite-percentage", NULL, NA, 0, INT_MAX, "100", NULL),
    MEM_("auto-aof-rewrite-min-size", NULL, NA, 0, LL_MAX, "64mb", NULL),
    BOOL_("aof-load-truncated", NULL, NA, "yes", NULL),
    BOOL_("aof-use-rdb-preamble", NULL, NA, "yes", NULL),
    BOOL_("aof-rewrite-incremental-fsync", NULL, NA, "yes", NULL),
    BOOL_("aof-timestamp-enabled", NULL, NA, "no", NULL),
    BOOL_("aof-disable-auto-gc", NULL, NA, "no", NULL),
    BOOL_("lazyfree-lazy-server-del", NULL, NA, "no", NULL),
    BOOL_("replica-lazy-flush", "slave-lazy-flush", NA, "no", NULL),
    MSTR_("replicaof", "slaveof", IMM, ""),
    STR_("masterauth", NULL, F_SENSITIVE, ""),
    STR_("masteruser", NULL, 0, ""),
    BOOL_("replica-read-only", "slave-read-only", 0, "yes", NULL),
    BOOL_("replica-serve-stale-data", "slave-serve-stale-data", 0, "yes", NULL),
    BOOL_("replica-ignore-maxmemory", "slave-ignore-maxmemory", 0, "yes", &cfg.replica_ignore_maxmemory),
    BOOL_("replica-announced", NULL, 0, "yes", NULL),
    BOOL_("replica-ignore-disk-write-errors", NULL, NA, "no", NULL),
    INT_("replica-priority", "slave-priority", 0, 0, INT_MAX, "100", NULL),
    STR_("replica-announce-ip", "slave-announce-ip", 0, ""),
    INT_("replica-announce-port", "slave-announce-port", 0, 0, 65535, "0", NULL),
    BOOL_("repl-diskless-sync", NULL, NA, "yes", NULL),
    INT_("repl-diskless-sync-delay", NULL, 0, 0, INT_MAX, "5", &cfg.repl_diskless_sync_delay),
    INT_("repl-diskless-sync-max-replicas", NULL, NA, 0, INT_MAX, "0", NULL),
    ENUM_("repl-diskless-load", NULL, NA, e_diskless_load, "disabled", NULL),
    INT_("repl-ping-replica-period", "repl-ping-slave-period", 0, 1, INT_MAX, "10", &cfg.repl_ping_replica_period),
    INT_("repl-timeout", NULL, 0, 1, INT_MAX, "60", &cfg.repl_timeout),
    BOOL_("repl-disable-tcp-nodelay", NULL, NA, "no", NULL),
    MEM_("repl-backlog-size", NULL, 0, 1, LL_MAX, "1mb", &cfg.repl_backlog_size),
    INT_("repl-backlog-ttl", NULL, 0, 0, LL_MAX, "3600", &cfg.repl_backlog_ttl),
    INT_("min-replicas-to-write", "min-slaves-to-write", 0, 0, INT_MAX, "0", &cfg.min_replicas_to_write),
    INT_("min-replicas-max-lag", "min-slaves-max-lag", 0, 0, INT_MAX, "10", &cfg.min_replicas_max_lag),
    /* Cluster mode (cluster/ reads these by name: cluster_state.c,
     * nodes_conf.c, bus.c, gossip.c, route.c); those still marked NA
     * belong to failover (validity factor), replica migration (barrier) and
     * TLS, which are not there yet. */
    STR_("cluster-config-file", NULL, IMM, "nodes.conf"),
    INT_("cluster-node-timeout", NULL, 0, 0, LL_MAX, "15000", NULL),
    INT_("cluster-port", NULL, IMM, 0, 65535, "0", NULL),
    BOOL_("cluster-require-full-coverage", NULL, 0, "yes", NULL),
    INT_("cluster-replica-validity-factor", "cluster-slave-validity-factor", NA, 0, INT_MAX, "10", NULL),
    INT_("cluster-migration-barrier", NULL, NA, 0, INT_MAX, "1", NULL),
    BOOL_("cluster-allow-replica-migration", NULL, 0, "yes", NULL),
    BOOL_("cluster-replica-no-failover", "cluster-slave-no-failover", 0, "no", NULL),
    BOOL_("cluster-allow-reads-when-down", NULL, 0, "no", NULL),
    BOOL_("cluster-allow-pubsubshard-when-down", NULL, 0, "yes", NULL),
    STR_("cluster-announce-ip", NULL, 0, ""),
    STR_("cluster-announce-hostname", NULL, 0, ""),
    INT_("cluster-announce-port", NULL, 0, 0, 65535, "0", NULL),
    INT_("cluster-announce-bus-port", NULL, 0, 0, 65535, "0", NULL),
    INT_("cluster-announce-tls-port", NULL, NA, 0, 65535, "0", NULL),
    ENUM_("cluster-preferred-endpoint-type", NULL, 0, e_endpoint, "ip", NULL),
    MEM_("cluster-link-sendbuf-limit", NULL, F_ULL, 0, LL_MAX, "0", NULL),
    {.name = "notify-keyspace-events", .type = T_SPECIAL, .flags = 0, .defval = "", .sp = &sp_notify,
     .num = &cfg.notify_keyspace_events},
    INT_("hash-max-listpack-entries", "hash-max-ziplist-entries", 0, 0, LL_MAX, "512", &cfg.hash_max_listpack_entries),
    MEM_("hash-max-listpack-value", "hash-max-ziplist-value", 0, 0, LL_MAX, "64", &cfg.hash_max_listpack_value),
    INT_("set-max-intset-entries", NULL, 0, 0, LL_MAX, "512", &cfg.set_max_intset_entries),
    INT_("set-max-listpack-entries", NULL, NA, 0, LL_MAX, "128", NULL),
    MEM_("set-max-listpack-value", NULL, NA, 0, LL_MAX, "64", NULL),
    INT_("zset-max-listpack-entries", "zset-max-ziplist-entries", 0, 0, LL_MAX, "128", &cfg.zset_max_listpack_entries),
    MEM_("zset-max-listpack-value", "zset-max-ziplist-value", 0, 0, LL_MAX, "64", &cfg.zset_max_listpack_value),
    INT_("list-max-listpack-size", "list-max-ziplist-size", 0, INT_MIN, INT_MAX, "-2", &cfg.list_max_listpack_size),
    INT_("list-compress-depth", NULL, NA, 0, INT_MAX, "0", NULL),
    MEM_("hll-sparse-max-bytes", NULL, 0, 0, LL_MAX, "3000", &cfg.hll_sparse_max_bytes),
    MEM_("stream-node-max-bytes", NULL, NA, 0, LL_MAX, "4096", &cfg.stream_node_max_bytes),
    INT_("stream-node-max-entries", NULL, NA, 0, LL_MAX, "100", &cfg.stream_node_max_entries),
    BOOL_("activerehashing", NULL, NA, "yes", NULL),
    BOOL_("activedefrag", NULL, NA, "no", NULL),
    MEM_("active-defrag-ignore-bytes", NULL, NA, 1, LL_MAX, "100mb", NULL),
    INT_("active-defrag-threshold-lower", NULL, NA, 0, 1000, "10", NULL),
    INT_("active-defrag-threshold-upper", NULL, NA, 0, 1000, "100", NULL),
    INT_("active-defrag-cycle-min", NULL, NA, 1, 99, "1", NULL),
    INT_("active-defrag-cycle-max", NULL, NA, 1, 99, "25", NULL),
    INT_("active-defrag-max-scan-fields", NULL, NA, 1, LL_MAX, "1000", NULL),
    BOOL_("jemalloc-bg-thread", NULL, NA, "yes", NULL),
    BOOL_("dynamic-hz", NULL, NA, "yes", NULL),
    MEM_("maxmemory-clients", NULL, NA | F_PERCENT, -100, LL_MAX, "0", NULL),
    BOOL_("latency-tracking", NULL, NA, "yes", NULL),
    MSTR_("latency-tracking-info-percentiles", NULL, NA, "50 99 99.9"),
    INT_("busy-reply-threshold", "lua-time-limit", NA, 0, LL_MAX, "5000", NULL),
    INT_("tracking-table-max-keys", NULL, NA, 0, LL_MAX, "1000000", NULL),
    INT_("acllog-max-len", NULL, NA, 0, LL_MAX, "128", NULL),
    STR_("aclfile", NULL, IMM | NA, ""),
    ENUM_("acl-pubsub-default", NULL, NA, e_pubsub_default, "resetchannels", NULL),
    ENUM_("enable-debug-command", NULL, IMM | NA, e_noyeslocal, "no", NULL),
    ENUM_("enable-module-command", NULL, IMM | NA, e_noyeslocal, "no", NULL),
    ENUM_("sanitize-dump-payload", NULL, NA, e_sanitize, "no", NULL),
    ENUM_("propagation-error-behavior", NULL, NA, e_propagation, "ignore", NULL),
    ENUM_("supervised", NULL, IMM | NA, e_supervised, "no", NULL),
    BOOL_("always-show-logo", NULL, IMM | NA, "no", NULL),
    BOOL_("set-proc-title", NULL, IMM | NA, "yes", NULL),
    STR_("proc-title-template", NULL, NA, "{title} {listen-addr} {server-mode}"),
    BOOL_("syslog-enabled", NULL, IMM | NA, "no", NULL),
    STR_("syslog-ident", NULL, IMM | NA, "redis"),
    ENUM_("syslog-facility", NULL, IMM | NA, e_syslog, "local0", NULL),
    BOOL_("crash-log-enabled", NULL, NA, "yes", NULL),
    BOOL_("crash-memcheck-enabled", NULL, NA, "yes", NULL),
    BOOL_("disable-thp", NULL, IMM | NA, "yes", NULL),
    ENUM_("oom-score-adj", NULL, NA, e_oom_adj, "no", NULL),
    MSTR_("oom-score-adj-values", NULL, NA, "0 200 800"),
    MSTR_("shutdown-on-sigint", NULL, NA, "default"),
    MSTR_("shutdown-on-sigterm", NULL, NA, "default"),
    INT_("shutdown-timeout", NULL, NA, 0, INT_MAX, "10", NULL),
    STR_("ignore-warnings", NULL, NA, ""),
    STR_("bind-source-addr", NULL, NA, ""),
    INT_("socket-mark-id", NULL, IMM | NA, 0, UINT_MAX, "0", NULL),
    STR_("unixsocket", NULL, IMM | NA, ""),
    INT_("unixsocketperm", NULL, IMM | NA | F_OCTAL, 0, 0777, "0", NULL),
    STR_("server_cpulist", NULL, IMM | NA, ""),
    STR_("bio_cpulist", NULL, IMM | NA, ""),
    STR_("aof_rewrite_cpulist", NULL, IMM | NA, ""),
    STR_("bgsave_cpulist", NULL, IMM | NA, ""),
    INT_("tls-port", NULL, NA, 0, 65535, "0", NULL),
    STR_("tls-cert-file", NULL, NA, ""),
    STR_("tls-key-file", NULL, NA, ""),
    STR_("tls-key-file-pass", NULL, NA | F_SENSITIVE, ""),
    STR_("tls-client-cert-file", NULL, NA, ""),
    STR_("tls-client-key-file", NULL, NA, ""),
    STR_("tls-client-key-file-pass", NULL, NA | F_SENSITIVE, ""),
    STR_("tls-dh-params-file", NULL, NA, ""),
    STR_("tls-ca-cert-file", NULL, NA, ""),
    STR_("tls-ca-cert-dir", NULL, NA, ""),
    STR_("tls-protocols", NULL, NA, ""),
    STR_("tls-ciphers", NULL, NA, ""),
    STR_("tls-ciphersuites", NULL, NA, ""),
    BOOL_("tls-prefer-server-ciphers", NULL, NA, "no", NULL),
    BOOL_("tls-session-caching", NULL, NA, "yes", NULL),
    INT_("tls-session-cache-size", NULL, NA, 0, INT_MAX, "20480", NULL),
    INT_("tls-session-cache-timeout", NULL, NA, 0, INT_MAX, "300", NULL),
    BOOL_("tls-cluster", NULL, NA, "no", NULL),
    BOOL_("tls-replication", NULL, NA, "no", NULL),
    ENUM_("tls-auth-clients", NULL, NA, e_tls_auth, "yes", NULL),
};

#define NDEFS ((int)(sizeof defs / sizeof defs[0]))

static cfg_def *lookup(const char *name, bool *via_alias) {
    for (int i = 0; i < NDEFS; i++) {
        if (!strcasecmp(defs[i].name, name)) {
            if (via_alias) *via_alias = false;
            return &defs[i];
        }
        if (defs[i].alias && !strcasecmp(defs[i].alias, name)) {
            if (via_alias) *via_alias = true;
            return &defs[i];
        }
    }
    return NULL;
}

static const char *enum_name(const cfg_enum *e, long long v) {
    for (; e->name; e++)
        if (e->value == v) return e->name;
    return "";
}

/* ------------------------------------------------------------------------
 * Parse, commit, format.
 * ---------------------------------------------------------------------- */

static void stage_free(cfg_stage *st) {
    mem_free(st->str);
    st->str = NULL;
}

static bool bounds_error(const cfg_def *d, const char **err) {
    snprintf(errbuf, sizeof errbuf, "argument must be between %lld and %lld inclusive", d->min, d->max);
    *err = errbuf;
    return false;
}

static bool parse_int(const cfg_def *d, const char *s, cfg_stage *st, const char **err) {
    long long v;
    bool ok;
    if (d->flags & F_OCTAL) {
        char *end;
        errno = 0;
        v = strtoll(s, &end, 8);
        ok = *s && !*end && errno == 0;
    } else {
        ok = parse_ll(s, strlen(s), &v);
    }
    if (!ok) {
        *err = "argument couldn't be parsed into an integer";
        return false;
    }
    if (v < d->min || v > d->max) return bounds_error(d, err);
    st->ll = v;
    return true;
}

static bool parse_mem(const cfg_def *d, const char *s, cfg_stage *st, const char **err) {
    unsigned long long u;
    long long v;
    size_t len = strlen(s);
    if (memtoull(s, &u)) {
        if (u > (unsigned long long)LLONG_MAX) {
            if (!(d->flags & F_ULL)) return bounds_error(d, err);
            u = LLONG_MAX;
        }
        v = (long long)u;
    } else if ((d->flags & F_PERCENT) && len > 1 && s[len - 1] == '%' && parse_ll(s, len - 1, &v) && v >= 0) {
        if (-v < d->min) {
            snprintf(errbuf, sizeof errbuf, "percentage argument must be less or equal to %lld", -d->min);
            *err = errbuf;
            return false;
        }
        st->ll = -v;
        return true;
    } else {
        *err = (d->flags & F_PERCENT) ? "argument must be a memory or percent value"
                                      : "argument must be a memory value";
        return false;
    }
    if (v < d->min || v > d->max) return bounds_error(d, err);
    st->ll = v;
    return true;
}

static bool parse_enum(const cfg_def *d, const char *s, cfg_stage *st, const char **err) {
    for (const cfg_enum *e = d->enums; e->name; e++) {
        if (!strcasecmp(e->name, s)) {
            st->ll = e->value;
            return true;
        }
    }
    size_t n = (size_t)snprintf(errbuf, sizeof errbuf, "argument(s) must be one of the following: ");
    bool first = true;
    for (const cfg_enum *e = d->enums; e->name && n < sizeof errbuf; e++) {
        if (e->hidden) continue;
        int w = snprintf(errbuf + n, sizeof errbuf - n, "%s%s", first ? "" : ", ", e->name);
        if (w < 0) break;
        n += (size_t)w;
        first = false;
    }
    *err = errbuf;
    return false;
}

/* Validate argv into st without changing anything. Single-value types get
 * exactly one argument (callers check). */
static bool do_parse(const cfg_def *d, char **argv, int argc, cfg_stage *st, const char **err) {
    memset(st, 0, sizeof *st);
    bool ok;
    switch (d->type) {
    case T_BOOL:
        ok = true;
        if (!strcasecmp(argv[0], "yes")) st->ll = 1;
        else if (!strcasecmp(argv[0], "no")) st->ll = 0;
        else {
            *err = "argument must be 'yes' or 'no'";
            ok = false;
        }
        break;
    case T_INT: ok = parse_int(d, argv[0], st, err); break;
    case T_MEM: ok = parse_mem(d, argv[0], st, err); break;
    case T_ENUM: ok = parse_enum(d, argv[0], st, err); break;
    case T_STR:
        st->str = mem_strdup(argv[0]);
        ok = true;
        break;
    case T_MSTR:
        st->str = join_args(argv, argc);
        ok = true;
        break;
    default: ok = d->sp->parse(argv, argc, st, err); break;
    }
    if (ok && d->check) ok = d->check(st, err);
    if (!ok) stage_free(st);
    return ok;
}

/* Caller holds cfg_lock (or runs before any other thread exists). */
static void do_commit(cfg_def *d, cfg_stage *st, bool from_file) {
    switch (d->type) {
    case T_STR:
    case T_MSTR:
        mem_free(d->str);
        d->str = st->str;
        st->str = NULL;
        break;
    case T_SPECIAL: d->sp->commit(d, st, from_file); break;
    default: atomic_store_explicit(d->num, st->ll, memory_order_relaxed); break;
    }
    stage_free(st);
    if (d->apply) d->apply(d, from_file);
}

/* The value as CONFIG GET shows it. Caller holds cfg_lock. */
static void do_format(const cfg_def *d, sbuf *out) {
    long long v = d->num ? atomic_load_explicit(d->num, memory_order_relaxed) : 0;
    switch (d->type) {
    case T_BOOL: sbuf_adds(out, v ? "yes" : "no"); break;
    case T_INT: sbuf_addf(out, (d->flags & F_OCTAL) ? "%llo" : "%lld", v); break;
    case T_MEM:
        if (v < 0) sbuf_addf(out, "%lld%%", -v);
        else sbuf_addf(out, "%lld", v);
        break;
    case T_ENUM: sbuf_adds(out, enum_name(d->enums, v)); break;
    case T_STR:
    case T_MSTR: sbuf_adds(out, d->str ? d->str : ""); break;
    default: d->sp->format(d, out); break;
    }
}

/* Set from a single string as CONFIG SET gives it: multi-argument
 * directives split it on spaces. */
static bool do_parse_value(const cfg_def *d, const char *value, cfg_stage *st, const char **err) {
    if (!(d->flags & F_MULTI)) {
        char *one = (char *)value;
        return do_parse(d, &one, 1, st, err);
    }
    char **argv;
    int argc = split_spaces(value, &argv);
    bool ok = do_parse(d, argv, argc, st, err);
    config_args_free(argv, argc);
    return ok;
}

/* ------------------------------------------------------------------------
 * Public getters.
 * ---------------------------------------------------------------------- */

size_t cfg_get_string(const char *name, char *out, size_t outlen) {
    if (!outlen) return 0;
    out[0] = '\0';
    cfg_def *d = lookup(name, NULL);
    if (!d) return 0;
    sbuf b = {0};
    pthread_mutex_lock(&cfg_lock);
    do_format(d, &b);
    pthread_mutex_unlock(&cfg_lock);
    size_t n = b.len < outlen - 1 ? b.len : outlen - 1;
    memcpy(out, sbuf_str(&b), n);
    out[n] = '\0';
    sbuf_free(&b);
    return n;
}

bool cfg_requirepass_set(void) { return atomic_load_explicit(&requirepass_nonempty, memory_order_acquire); }

bool cfg_check_password(const char *pw, size_t len) {
    const cfg_def *rp = lookup("requirepass", NULL);
    pthread_mutex_lock(&cfg_lock);
    const char *want = rp->str ? rp->str : "";
    size_t wlen = strlen(want);
    /* Time depends on the lengths only, never on where the bytes differ. */
    unsigned diff = (unsigned)(wlen != len);
    size_t n = wlen > len ? wlen : len;
    for (size_t i = 0; i < n; i++) {
        unsigned char a = i < len ? (unsigned char)pw[i] : 0, b = i < wlen ? (unsigned char)want[i] : 0;
        diff |= (unsigned)(a ^ b);
    }
    pthread_mutex_unlock(&cfg_lock);
    return diff == 0;
}

int cfg_bind_count(void) { return bind_count; }
const char *cfg_bind_addr(int i) { return i >= 0 && i < bind_count ? bind_addrs[i] : NULL; }
const char *config_file_path(void) { return config_path; }

const char *config_policy_name(int policy) { return policy >= 0 && policy <= MAXMEMORY_VOLATILE_TTL ? enum_name(e_policy, policy) : "unknown"; }

/* ------------------------------------------------------------------------
 * Startup: defaults, and what the config-file loader (config_load.c) needs.
 * ---------------------------------------------------------------------- */

void config_init_defaults(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) n = 1;
    if (n > 8) n = 8;
    snprintf(threads_default, sizeof threads_default, "%ld", n);

    pthread_mutex_lock(&cfg_lock);
    save_loaded_from_file = false;
    mem_free(config_path);
    config_path = NULL;
    for (int i = 0; i < NDEFS; i++) {
        cfg_def *d = &defs[i];
        if (!d->num) d->num = &d->own;
        if (!d->defval) continue; /* dir: the working directory stays */
        cfg_stage st;
        const char *err = NULL;
        if (!do_parse_value(d, d->defval, &st, &err)) {
            fprintf(stderr, "slotcache: bad built-in default for '%s': %s\n", d->name, err);
            abort();
        }
        do_commit(d, &st, false);
    }
    for (int i = 0; i < NDEFS; i++) {
        sbuf b = {0};
        do_format(&defs[i], &b);
        mem_free(defs[i].def_fmt);
        defs[i].def_fmt = sbuf_take(&b);
    }
    defaults_done = true;
    pthread_mutex_unlock(&cfg_lock);
}

bool config_defaults_done(void) { return defaults_done; }
void config_table_lock(void) { pthread_mutex_lock(&cfg_lock); }
void config_table_unlock(void) { pthread_mutex_unlock(&cfg_lock); }

void config_set_file_path(char *path) {
    mem_free(config_path);
    config_path = path;
}

const char *config_string_locked(const char *name) {
    const cfg_def *d = lookup(name, NULL);
    return d ? d->str : NULL;
}

int config_load_directive(char **argv, int argc, const char **err) {
    cfg_def *d = lookup(argv[0], NULL);
    if (!d) return 0;
    cfg_stage st;
    bool ok;
    if (!(d->flags & F_MULTI) && argc != 2) {
        *err = "wrong number of arguments";
        ok = false;
    } else if ((d->flags & F_MULTI) && argc == 2 && argv[1][0]) {
        /* --save "900 1 300 10": one argument holding several. */
        char **sub;
        int subc;
        if (!config_split_line(argv[1], &sub, &subc)) {
            *err = "Unbalanced quotes in configuration line";
            ok = false;
        } else {
            ok = do_parse(d, sub, subc, &st, err);
            config_args_free(sub, subc);
        }
    } else {
        ok = do_parse(d, argv + 1, argc - 1, &st, err);
    }
    if (!ok) return -1;
    do_commit(d, &st, true);
    return 1;
}

/* ------------------------------------------------------------------------
 * CONFIG GET / SET.
 * ---------------------------------------------------------------------- */

static void pairs_push(config_pair **v, int *n, int *cap, char *name, char *value) {
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        *v = mem_realloc(*v, sizeof(config_pair) * (size_t)*cap);
    }
    (*v)[*n].name = name;
    (*v)[*n].value = value;
    (*n)++;
}

static char *format_value(const cfg_def *d) {
    sbuf b = {0};
    do_format(d, &b);
    return sbuf_take(&b);
}

int config_get_matching(const char *const *pats, const size_t *plens, int n, config_pair **out) {
    config_pair *v = NULL;
    int count = 0, cap = 0;
    bool *seen = mem_calloc((size_t)NDEFS * 2, sizeof(bool)); /* [i*2 + via_alias] */
    pthread_mutex_lock(&cfg_lock);
    for (int i = 0; i < n; i++) {
        const char *pat = pats[i];
        size_t plen = plens[i];
        if (!memchr(pat, '*', plen) && !memchr(pat, '?', plen) && !memchr(pat, '[', plen)) {
            char *name = mem_strndup(pat, plen);
            bool alias;
            cfg_def *d = strlen(name) == plen ? lookup(name, &alias) : NULL;
            int k = d ? (int)(d - defs) * 2 + alias : -1;
            if (!d || seen[k]) {
                mem_free(name);
                continue;
            }
            seen[k] = true;
            pairs_push(&v, &count, &cap, name, format_value(d));
            continue;
        }
        for (int di = 0; di < NDEFS; di++) {
            for (int a = 0; a < 2; a++) {
                const char *key = a ? defs[di].alias : defs[di].name;
                if (!key || seen[di * 2 + a] || !glob_match(pat, plen, key, strlen(key), true)) continue;
                seen[di * 2 + a] = true;
                pairs_push(&v, &count, &cap, mem_strdup(key), format_value(&defs[di]));
            }
        }
    }
    pthread_mutex_unlock(&cfg_lock);
    mem_free(seen);
    *out = v;
    return count;
}

void config_pairs_free(config_pair *pairs, int n) {
    for (int i = 0; i < n; i++) {
        mem_free(pairs[i].name);
        mem_free(pairs[i].value);
    }
    mem_free(pairs);
}

static bool protected_allowed(bool local_client) {
    long long mode = atomic_load_explicit(lookup("enable-protected-configs", NULL)->num, memory_order_relaxed);
    return mode == 1 || (mode == 2 && local_client);
}

bool config_set_pairs(char *const *names, char *const *values, int n, bool local_client, char *err,
                      size_t errlen) {
    cfg_def **set = mem_calloc((size_t)n, sizeof *set);
    bool *alias = mem_calloc((size_t)n, sizeof *alias);
    cfg_stage *st = mem_calloc((size_t)n, sizeof *st);
    const char *unknown = NULL, *errstr = NULL, *err_arg = NULL;
    bool invalid = false, ok = false;
    int parsed = 0;

    pthread_mutex_lock(&cfg_lock);
    for (int i = 0; i < n; i++) {
        cfg_def *d = lookup(names[i], &alias[i]);
        if (!d) {
            if (!invalid) unknown = names[i];
            invalid = true;
            continue;
        }
        if (invalid) continue;
        if ((d->flags & F_IMMUTABLE) || ((d->flags & F_PROTECTED) && !protected_allowed(local_client))) {
            errstr = (d->flags & F_IMMUTABLE) ? "can't set immutable config" : "can't set protected config";
            err_arg = names[i];
            invalid = true;
            continue;
        }
        for (int j = 0; j < i; j++) {
            if (set[j] == d && alias[j] == alias[i]) {
                errstr = "duplicate parameter";
                err_arg = names[i];
                invalid = true;
                break;
            }
        }
        set[i] = d;
    }
    if (invalid) goto done;

    /* Validate everything first: nothing changes unless all pairs parse. */
    for (; parsed < n; parsed++) {
        if (!do_parse_value(set[parsed], values[parsed], &st[parsed], &errstr)) {
            err_arg = alias[parsed] ? set[parsed]->alias : set[parsed]->name;
            goto done;
        }
    }
    for (int i = 0; i < n; i++) do_commit(set[i], &st[i], false);
    ok = true;

done:
    pthread_mutex_unlock(&cfg_lock);
    if (!ok) {
        for (int i = 0; i < parsed; i++) stage_free(&st[i]);
        if (unknown)
            snprintf(err, errlen, "ERR Unknown option or number of arguments for CONFIG SET - '%s'", unknown);
        else if (errstr)
            snprintf(err, errlen, "ERR CONFIG SET failed (possibly related to argument '%s') - %s", err_arg, errstr);
        else
            snprintf(err, errlen, "ERR CONFIG SET failed (possibly related to argument '%s')", err_arg);
    }
    mem_free(set);
    mem_free(alias);
    mem_free(st);
    return ok;
}

/* ------------------------------------------------------------------------
 * CONFIG REWRITE's view of the table (the file merge is in config_rewrite.c).
 * ---------------------------------------------------------------------- */

static void lines_simple(const cfg_def *d, linevec *out, const char *value, bool quote, bool force) {
    sbuf b = {0};
    sbuf_adds(&b, d->name);
    sbuf_addc(&b, ' ');
    if (quote) config_sb_repr(&b, value);
    else sbuf_adds(&b, value);
    lines_push(out, sbuf_take(&b), force);
}

int config_directive_count(void) { return NDEFS; }

int config_directive_index(const char *name) {
    const cfg_def *d = lookup(name, NULL);
    return d ? (int)(d - defs) : -1;
}

bool config_is_file_only_directive(const char *name) { return !strcasecmp(name, "include"); }

int config_directive_lines(int i, config_line **out) {
    const cfg_def *d = &defs[i];
    linevec v = {0};
    pthread_mutex_lock(&cfg_lock);
    if (d->type == T_SPECIAL) {
        d->sp->lines(d, &v);
    } else {
        char *cur = format_value(d);
        bool force = strcmp(cur, d->def_fmt) != 0;
        if (d->type == T_MEM && !strchr(cur, '%')) {
            sbuf b = {0};
            sbuf_addf(&b, "%s ", d->name);
            sb_memory(&b, atomic_load_explicit(d->num, memory_order_relaxed));
            lines_push(&v, sbuf_take(&b), force);
        } else {
            /* Strings quoted; an empty multi-word value too (it reads back). */
            lines_simple(d, &v, cur, d->type == T_STR || (d->type == T_MSTR && !cur[0]), force);
        }
        mem_free(cur);
    }
    pthread_mutex_unlock(&cfg_lock);
    *out = v.v;
    return v.n;
}

void config_lines_free(config_line *lines, int n) {
    for (int i = 0; i < n; i++) mem_free(lines[i].line);
    mem_free(lines);
}
