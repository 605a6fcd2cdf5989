/*
 * test_redis_cli.c - the real redis-cli and redis-benchmark as clients:
 * raw and --no-raw output, -a authentication, --pipe mass insertion, and a
 * short benchmark run. Their output is compared byte for byte, as scripts
 * that parse it would.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server_proc.h"

static sc_server srv;

TestSuite(redis_cli, .fini = sc_server_cleanup, .timeout = 300);

/* Run redis-cli -p PORT args... and compare its output with `expect`. */
static void cli_expect(const char *expect, const char *const *args)
{
    const char *argv[32];
    char port[16];
    int n = 0;
    snprintf(port, sizeof port, "%d", srv.port);
    argv[n++] = "redis-cli";
    argv[n++] = "-p";
    argv[n++] = port;
    for (int i = 0; args[i] && n < 31; i++) argv[n++] = args[i];
    argv[n] = NULL;
    sc_buf out = { 0 };
    int rc = sc_run(argv, NULL, 0, &out, 20000);
    cr_assert_eq(rc, 0, "redis-cli %s exited %d: %s", args[0], rc, out.data);
    cr_assert_str_eq(out.data, expect, "redis-cli %s %s: got \"%s\", want \"%s\"", args[0],
                     args[1] ? args[1] : "", out.data, expect);
    sc_buf_free(&out);
}

#define CLI(expect, ...) cli_expect(expect, (const char *const[]){ __VA_ARGS__, NULL })

Test(redis_cli, raw_and_formatted_output)
{
    sc_server_start_or_fail(&srv, NULL);
    CLI("PONG\n", "PING");
    CLI("OK\n", "SET", "foo", "bar");
    CLI("bar\n", "GET", "foo");
    CLI("\n", "GET", "nokey");
    CLI("1\n", "INCR", "n");
    CLI("2\n", "INCR", "n");
    CLI("bar\n\n", "MGET", "foo", "nokey");
    CLI("ERR value is not an integer or out of range\n\n", "INCR", "foo");

    CLI("\"bar\"\n", "--no-raw", "GET", "foo");
    CLI("(nil)\n", "--no-raw", "GET", "nokey");
    CLI("(integer) 3\n", "--no-raw", "INCR", "n");
    CLI("1) \"bar\"\n2) (nil)\n", "--no-raw", "MGET", "foo", "nokey");
    CLI("(error) ERR value is not an integer or out of range\n", "--no-raw", "INCR", "foo");
    CLI("1) \"maxmemory\"\n2) \"0\"\n", "--no-raw", "CONFIG", "GET", "maxmemory");
    CLI("(integer) 2\n", "--no-raw", "DBSIZE");
    /* Arguments with spaces and binary-looking text pass through intact. */
    CLI("OK\n", "SET", "sp ace", "a b\tc");
    CLI("\"a b\\tc\"\n", "--no-raw", "GET", "sp ace");
    sc_server_stop_or_fail(&srv);
}

Test(redis_cli, resp3_output)
{
    sc_server_start_or_fail(&srv, NULL);
    CLI("OK\n", "SET", "k", "v");
    CLI("(nil)\n", "-3", "--no-raw", "GET", "nokey");
    CLI("1# \"maxmemory\" => \"0\"\n", "-3", "--no-raw", "CONFIG", "GET", "maxmemory");
    sc_server_stop_or_fail(&srv);
}

Test(redis_cli, password)
{
    sc_server_start_or_fail(&srv, (const char *const[]){ "--requirepass", "pw", NULL });
    CLI("NOAUTH Authentication required.\n\n", "PING");
    CLI("PONG\n", "-a", "pw", "--no-auth-warning", "PING");
    CLI("PONG\n", "--user", "default", "--pass", "pw", "--no-auth-warning", "PING");
    /* The AUTH failure goes to stderr (unbuffered, so first), then the
     * command runs unauthenticated. */
    CLI("AUTH failed: WRONGPASS invalid username-password pair or user is disabled.\n"
        "NOAUTH Authentication required.\n\n",
        "-a", "bad", "--no-auth-warning", "PING");
    sc_server_stop_or_fail(&srv);
}

Test(redis_cli, pipe_mass_insert)
{
    sc_server_start_or_fail(&srv, NULL);
    enum { N = 20000 };
    sc_buf in = { 0 };
    for (int i = 0; i < N; i++) {
        char k[32], v[32];
        snprintf(k, sizeof k, "key:%d", i);
        snprintf(v, sizeof v, "value:%d", i);
        const char *argv[] = { "SET", k, v };
        sc_resp_command(&in, 3, argv, NULL);
    }
    char port[16];
    snprintf(port, sizeof port, "%d", srv.port);
    sc_buf out = { 0 };
    int rc = sc_run((const char *const[]){ "redis-cli", "-p", port, "--pipe", NULL }, in.data, in.len, &out, 60000);
    cr_assert_eq(rc, 0, "redis-cli --pipe exited %d: %s", rc, out.data);
    char want[64];
    snprintf(want, sizeof want, "errors: 0, replies: %d", N);
    cr_assert(strstr(out.data, want) != NULL, "redis-cli --pipe said: %s", out.data);
    sc_buf_free(&in);
    sc_buf_free(&out);

    redisContext *c = sc_connect_or_fail(&srv);
    char n[16];
    snprintf(n, sizeof n, "%d", N);
    sc_cmd_expect_or_fail(c, n, "DBSIZE");
    sc_cmd_expect_or_fail(c, "value:12345", "GET key:12345");
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

Test(redis_cli, benchmark_set_get)
{
    sc_server_start_or_fail(&srv, NULL);
    char port[16];
    snprintf(port, sizeof port, "%d", srv.port);
    sc_buf out = { 0 };
    int rc = sc_run((const char *const[]){ "redis-benchmark", "-p", port, "-q", "-n", "10000", "-t", "set,get",
                                           NULL },
                    NULL, 0, &out, 120000);
    cr_assert_eq(rc, 0, "redis-benchmark exited %d: %s", rc, out.data);
    cr_assert(strstr(out.data, "SET: ") && strstr(out.data, "GET: "), "redis-benchmark output: %s", out.data);
    sc_buf_free(&out);
    redisContext *c = sc_connect_or_fail(&srv);
    sc_cmd_expect_or_fail(c, "PONG", "PING");
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}
