/*
 * test_config.c - unit tests for server/config.c and config_rewrite.c:
 * memory values, human sizes, "--name value" parsing, Redis's fatal config
 * errors, CONFIG SET's all-or-nothing rule and a config file round trip
 * through CONFIG REWRITE. Expected texts were checked against redis-server
 * 7.0.15. Criterion forks per test, so each test starts from fresh globals.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../server/config.h"
#include "../../server/config_internal.h"

static long long mem(const char *s)
{
    long long v = -12345;
    cr_assert(config_parse_memory(s, &v), "'%s' should parse", s);
    return v;
}

static bool mem_ok(const char *s)
{
    long long v;
    return config_parse_memory(s, &v);
}

/* Run config_load_args on a NULL-terminated list (argv[0] added). */
static int load(const char *first, ...)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = "slotcache-server";
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *)) argv[argc++] = (char *)a;
    va_end(ap);
    return config_load_args(argc, argv);
}

static const char *get(const char *name)
{
    static char buf[512];
    cfg_get_string(name, buf, sizeof buf);
    return buf;
}

static bool set1(const char *name, const char *value, char *err, size_t errlen)
{
    char *n = (char *)name, *v = (char *)value;
    return config_set_pairs(&n, &v, 1, true, err, errlen);
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    cr_assert_not_null(fp);
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static void spit(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    cr_assert_not_null(fp);
    fputs(text, fp);
    fclose(fp);
}

Test(config, memory_values)
{
    cr_assert_eq(mem("0"), 0);
    cr_assert_eq(mem("1024"), 1024);
    cr_assert_eq(mem("1k"), 1000);
    cr_assert_eq(mem("1kb"), 1024);
    cr_assert_eq(mem("1KB"), 1024);
    cr_assert_eq(mem("1Kb"), 1024);
    cr_assert_eq(mem("2m"), 2000000);
    cr_assert_eq(mem("2mb"), 2097152);
    cr_assert_eq(mem("3G"), 3000000000LL);
    cr_assert_eq(mem("3gb"), 3221225472LL);
    cr_assert_eq(mem("5b"), 5);
    cr_assert_eq(mem("05"), 5);
    cr_assert_eq(mem(""), 0);   /* as Redis's memtoull */
    cr_assert_eq(mem("gb"), 0); /* likewise */
    cr_assert_not(mem_ok("-1"));
    cr_assert_not(mem_ok("+5"));
    cr_assert_not(mem_ok(" 5"));
    cr_assert_not(mem_ok("1.5gb"));
    cr_assert_not(mem_ok("10x"));
    cr_assert_not(mem_ok("10 mb"));
    cr_assert_not(mem_ok("18446744073709551615")); /* beyond a long long */
}

Test(config, bytes_human)
{
    char b[32];
    struct {
        unsigned long long n;
        const char *want;
    } cases[] = {
        {0, "0B"},           {1023, "1023B"},          {1024, "1.00K"},
        {1536, "1.50K"},     {1048576, "1.00M"},       {1572864, "1.50M"},
        {1ULL << 30, "1.00G"}, {5ULL << 40, "5.00T"},  {1ULL << 50, "1.00P"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        config_bytes_human(b, sizeof b, cases[i].n);
        cr_assert_str_eq(b, cases[i].want);
    }
}

Test(config, defaults)
{
    config_init_defaults();
    cr_assert_eq(cfg_get(port), 6379);
    cr_assert_eq(cfg_get(databases), 16);
    cr_assert_eq(cfg_get(hz), 10);
    cr_assert_eq(cfg_get(maxmemory), 0);
    cr_assert_eq(cfg_get(maxmemory_policy), MAXMEMORY_NOEVICTION);
    cr_assert_eq(cfg_get(proto_max_bulk_len), 512LL << 20);
    cr_assert_eq(cfg_get(client_query_buffer_limit), 1LL << 30);
    cr_assert_eq(cfg_get(obuf_hard[CLIENT_CLASS_REPLICA]), 256LL << 20);
    cr_assert_eq(cfg_get(obuf_soft[CLIENT_CLASS_PUBSUB]), 8LL << 20);
    cr_assert_eq(cfg_get(obuf_soft_seconds[CLIENT_CLASS_PUBSUB]), 60);
    cr_assert_eq(cfg_get(protected_mode), 1);
    cr_assert(cfg_get(threads) >= 1 && cfg_get(threads) <= 8);
    cr_assert_eq(cfg_bind_count(), 2);
    cr_assert_str_eq(cfg_bind_addr(0), "*");
    cr_assert_str_eq(cfg_bind_addr(1), "-::*");
    cr_assert_null(config_file_path());
    cr_assert_not(cfg_requirepass_set());
    cr_assert_str_eq(get("save"), "3600 1 300 100 60 10000");
    cr_assert_str_eq(get("client-output-buffer-limit"),
                     "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
    cr_assert_str_eq(get("dbfilename"), "dump.rdb");
    cr_assert_str_eq(get("hash-max-ziplist-entries"), "512");
    cr_assert_str_eq(config_policy_name(MAXMEMORY_ALLKEYS_LRU), "allkeys-lru");
    cr_assert_str_eq(config_policy_name(MAXMEMORY_VOLATILE_TTL), "volatile-ttl");
}

Test(config, command_line)
{
    config_init_defaults();
    int rc = load("--port", "7000", "--maxmemory", "100mb", "--maxmemory-policy", "ALLKEYS-LFU", "--save", "",
                  "--bind", "127.0.0.1", "::1", "--requirepass", "s3cret", "--hz", "1000", "--io-threads", "3",
                  "--client-output-buffer-limit", "pubsub 1mb 2kb 3", "--notify-keyspace-events", "KEA", NULL);
    cr_assert_eq(rc, 0);
    cr_assert_eq(cfg_get(port), 7000);
    cr_assert_eq(cfg_get(maxmemory), 100LL << 20);
    cr_assert_eq(cfg_get(maxmemory_policy), MAXMEMORY_ALLKEYS_LFU);
    cr_assert_eq(cfg_get(hz), 500); /* clamped like Redis */
    cr_assert_eq(cfg_get(threads), 3);
    cr_assert_eq(cfg_get(obuf_hard[CLIENT_CLASS_PUBSUB]), 1 << 20);
    cr_assert_eq(cfg_get(obuf_soft[CLIENT_CLASS_PUBSUB]), 2048);
    cr_assert_eq(cfg_get(obuf_soft_seconds[CLIENT_CLASS_PUBSUB]), 3);
    cr_assert_eq(cfg_get(obuf_hard[CLIENT_CLASS_REPLICA]), 256LL << 20); /* untouched */
    cr_assert_str_eq(get("save"), "");
    cr_assert_str_eq(get("notify-keyspace-events"), "AKE");
    cr_assert_str_eq(get("bind"), "127.0.0.1 ::1");
    cr_assert_eq(cfg_bind_count(), 2);
    cr_assert_str_eq(cfg_bind_addr(1), "::1");
    cr_assert(cfg_requirepass_set());
    cr_assert(cfg_check_password("s3cret", 6));
    cr_assert_not(cfg_check_password("s3cre", 5));
    cr_assert_not(cfg_check_password("s3cret!", 7));
    cr_assert_not(cfg_check_password("s3creT", 6));
    cr_assert_null(config_file_path());
}

Test(config, command_line_quirks)
{
    config_init_defaults();
    /* A value may start with "--" when the option still lacks one, and a
     * bare --save means save "". */
    cr_assert_eq(load("--requirepass", "--dash", "--save", "--hz", "20", NULL), 0);
    cr_assert(cfg_check_password("--dash", 6));
    cr_assert_str_eq(get("save"), "");
    cr_assert_eq(cfg_get(hz), 20);
    /* One argument holding several values. */
    cr_assert_eq(load("--save", "900 1 300 10", NULL), 0);
    cr_assert_str_eq(get("save"), "900 1 300 10");
}

Test(config, unknown_directive_rejected, .init = cr_redirect_stderr)
{
    config_init_defaults();
    cr_assert_eq(load("--port", "7399", "--foo", "bar", NULL), -1);
    fflush(stderr);
    cr_assert_stderr_eq_str("\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n"
                            "Reading the configuration file, at line 3\n"
                            ">>> 'foo \"bar\"'\n"
                            "Bad directive or wrong number of arguments\n");
}

Test(config, bad_value_rejected, .init = cr_redirect_stderr)
{
    config_init_defaults();
    cr_assert_eq(load("--maxmemory", "abc", NULL), -1);
    fflush(stderr);
    cr_assert_stderr_eq_str("\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n"
                            "Reading the configuration file, at line 2\n"
                            ">>> 'maxmemory \"abc\"'\n"
                            "argument must be a memory value\n");
}

Test(config, wrong_arity_rejected, .init = cr_redirect_stderr)
{
    config_init_defaults();
    cr_assert_eq(load("--hz", NULL), -1);
    fflush(stderr);
    cr_assert_stderr_eq_str("\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n"
                            "Reading the configuration file, at line 2\n"
                            ">>> 'hz'\n"
                            "wrong number of arguments\n");
}

Test(config, set_is_all_or_nothing)
{
    config_init_defaults();
    char err[512];
    char *names[] = {"maxmemory", "maxmemory-policy"}, *values[] = {"5mb", "bogus"};
    cr_assert_not(config_set_pairs(names, values, 2, true, err, sizeof err));
    cr_assert_str_eq(err, "ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) "
                          "must be one of the following: volatile-lru, volatile-lfu, volatile-random, "
                          "volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction");
    cr_assert_eq(cfg_get(maxmemory), 0);
    values[1] = "allkeys-lru";
    cr_assert(config_set_pairs(names, values, 2, true, err, sizeof err));
    cr_assert_eq(cfg_get(maxmemory), 5 << 20);
    cr_assert_eq(cfg_get(maxmemory_policy), MAXMEMORY_ALLKEYS_LRU);

    cr_assert_not(set1("foo", "bar", err, sizeof err));
    cr_assert_str_eq(err, "ERR Unknown option or number of arguments for CONFIG SET - 'foo'");
    cr_assert_not(set1("daemonize", "yes", err, sizeof err));
    cr_assert_str_eq(err, "ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config");
    cr_assert_not(set1("MAXMEMORY", "-1", err, sizeof err));
    cr_assert_str_eq(err, "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value");
    cr_assert_not(set1("timeout", "-1", err, sizeof err));
    cr_assert_str_eq(err, "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be between 0 "
                          "and 2147483647 inclusive");
    char *dup_n[] = {"maxmemory", "MAXMEMORY"}, *dup_v[] = {"1", "2"};
    cr_assert_not(config_set_pairs(dup_n, dup_v, 2, true, err, sizeof err));
    cr_assert_str_eq(err, "ERR CONFIG SET failed (possibly related to argument 'MAXMEMORY') - duplicate parameter");
    cr_assert_not(set1("dir", "/tmp", err, sizeof err));
    cr_assert_str_eq(err, "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config");
}

Test(config, get_matching)
{
    config_init_defaults();
    const char *pats[] = {"maxmemory*", "MAXMEMORY", "slave-read-only", "nosuch"};
    size_t lens[] = {10, 9, 15, 6};
    config_pair *p;
    int n = config_get_matching(pats, lens, 4, &p);
    /* maxmemory, -policy, -samples, -eviction-tenacity, -clients, then the alias. */
    cr_assert_eq(n, 6);
    cr_assert_str_eq(p[0].name, "maxmemory");
    cr_assert_str_eq(p[0].value, "0");
    cr_assert_str_eq(p[5].name, "slave-read-only");
    cr_assert_str_eq(p[5].value, "yes");
    config_pairs_free(p, n);
}

Test(config, file_round_trip)
{
    char dir[] = "/tmp/slotcache-test-config-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/slotcache.conf", dir);
    spit(path, "# top comment\n"
               "port 7398\n"
               "   \n"
               "hash-max-ziplist-entries 100\n"
               "save 900 1\n"
               "save 300 10\n"
               "maxmemory 100mb\n"
               "# another\n"
               "timeout 0\n"
               "timeout 5\n"
               "client-output-buffer-limit pubsub 32mb 8mb 60\n"
               "logfile \"\"\n");
    config_init_defaults();
    cr_assert_eq(load(path, "--hz", "7", NULL), 0);
    cr_assert_str_eq(config_file_path(), path);
    cr_assert_eq(cfg_get(port), 7398);
    cr_assert_eq(cfg_get(timeout), 5);
    cr_assert_eq(cfg_get(hz), 7);
    cr_assert_eq(cfg_get(maxmemory), 100LL << 20);
    cr_assert_str_eq(get("hash-max-listpack-entries"), "100");
    cr_assert_str_eq(get("save"), "900 1 300 10");

    char err[512];
    char *names[] = {"maxmemory", "notify-keyspace-events", "requirepass", "client-output-buffer-limit",
                     "proto-max-bulk-len"};
    char *values[] = {"3000000", "KEA", "a b\"c", "normal 1mb 1kb 1", "2gb"};
    cr_assert(config_set_pairs(names, values, 5, true, err, sizeof err), "%s", err);

    /* A line added by hand after startup is kept as a comment. */
    FILE *fp = fopen(path, "a");
    fputs("bogus-directive 1\n", fp);
    fclose(fp);

    cr_assert_eq(config_rewrite_file(path), 0);
    char cwd[PATH_MAX];
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    char want[8192];
    snprintf(want, sizeof want,
             "# top comment\n"
             "port 7398\n"
             "\n"
             "hash-max-listpack-entries 100\n"
             "save 900 1\n"
             "save 300 10\n"
             "maxmemory 3000000\n"
             "# another\n"
             "timeout 5\n"
             "\n"
             "client-output-buffer-limit normal 1mb 1kb 1\n"
             "logfile \"\"\n"
             "# ??? bogus-directive 1\n"
             "\n"
             "# Generated by CONFIG REWRITE\n"
             "requirepass \"a b\\\"c\"\n"
             "hz 7\n"
             "dir \"%s\"\n"
             "proto-max-bulk-len 2gb\n"
             "notify-keyspace-events \"AKE\"\n",
             cwd);
    cr_assert_str_eq(slurp(path), want);

    /* Reading it back gives the same settings. */
    const char *all = "*";
    size_t all_len = 1;
    config_pair *before;
    int nb = config_get_matching(&all, &all_len, 1, &before);
    config_init_defaults();
    cr_assert_eq(load(path, NULL), 0);
    config_pair *after;
    int na = config_get_matching(&all, &all_len, 1, &after);
    cr_assert_eq(na, nb);
    for (int i = 0; i < na; i++) {
        cr_assert_str_eq(after[i].name, before[i].name);
        cr_assert_str_eq(after[i].value, before[i].value, "%s", after[i].name);
    }
    config_pairs_free(before, nb);
    config_pairs_free(after, na);

    /* A second rewrite changes nothing. */
    char first[8192];
    strcpy(first, slurp(path));
    cr_assert_eq(config_rewrite_file(path), 0);
    cr_assert_str_eq(slurp(path), first);

    unlink(path);
    rmdir(dir);
}
