/*
 * test_auth.c - requirepass: exact NOAUTH / WRONGPASS texts, AUTH with and
 * without a user name, HELLO ... AUTH ... SETNAME, the stricter limits on
 * unauthenticated multibulk/bulk lengths, and AUTH when no password is set.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server_proc.h"

static sc_server srv;
static const char *const with_pass[] = { "--requirepass", "s3cret", NULL };

#define NOAUTH "-NOAUTH Authentication required.\r\n"
#define WRONGPASS "-WRONGPASS invalid username-password pair or user is disabled.\r\n"

TestSuite(auth, .fini = sc_server_cleanup, .timeout = 60);

Test(auth, noauth_then_wrongpass_then_ok)
{
    sc_server_start_or_fail(&srv, with_pass);
    int fd = sc_raw_connect_or_fail(srv.port);
    cr_assert(sc_raw_send_str(fd, "GET x\r\n"));
    cr_assert(sc_raw_expect(fd, NOAUTH, 5000));
    cr_assert(sc_raw_send_str(fd, "SET x 1\r\n"));
    cr_assert(sc_raw_expect(fd, NOAUTH, 5000));
    /* Unknown commands and wrong arity are reported before auth. */
    cr_assert(sc_raw_send_str(fd, "FOO\r\nGET\r\n"));
    cr_assert(sc_raw_expect(fd, "-ERR unknown command 'FOO', with args beginning with: \r\n"
                                "-ERR wrong number of arguments for 'get' command\r\n", 5000));
    cr_assert(sc_raw_send_str(fd, "AUTH wrong\r\n"));
    cr_assert(sc_raw_expect(fd, WRONGPASS, 5000));
    cr_assert(sc_raw_send_str(fd, "AUTH default wrong\r\n"));
    cr_assert(sc_raw_expect(fd, WRONGPASS, 5000));
    cr_assert(sc_raw_send_str(fd, "AUTH nosuchuser s3cret\r\n"));
    cr_assert(sc_raw_expect(fd, WRONGPASS, 5000));
    cr_assert(sc_raw_send_str(fd, "GET x\r\n"));
    cr_assert(sc_raw_expect(fd, NOAUTH, 5000));
    cr_assert(sc_raw_send_str(fd, "AUTH s3cret\r\n"));
    cr_assert(sc_raw_expect(fd, "+OK\r\n", 5000));
    cr_assert(sc_raw_send_str(fd, "SET x 1\r\nGET x\r\n"));
    cr_assert(sc_raw_expect(fd, "+OK\r\n$1\r\n1\r\n", 5000));
    /* A failed AUTH later does not log the client out. */
    cr_assert(sc_raw_send_str(fd, "AUTH wrong\r\nGET x\r\n"));
    cr_assert(sc_raw_expect(fd, WRONGPASS "$1\r\n1\r\n", 5000));
    cr_assert(sc_raw_send_str(fd, "AUTH a b c\r\n"));
    cr_assert(sc_raw_expect(fd, "-ERR syntax error\r\n", 5000));
    close(fd);
    sc_server_stop_or_fail(&srv);
}

Test(auth, ping_and_quit_need_no_auth_handling)
{
    sc_server_start_or_fail(&srv, with_pass);
    int fd = sc_raw_connect_or_fail(srv.port);
    cr_assert(sc_raw_send_str(fd, "PING\r\n"));
    cr_assert(sc_raw_expect(fd, NOAUTH, 5000));
    cr_assert(sc_raw_send_str(fd, "QUIT\r\n"));
    cr_assert(sc_raw_expect(fd, "+OK\r\n", 5000));
    cr_assert(sc_raw_wait_closed(fd, 5000));
    close(fd);
    sc_server_stop_or_fail(&srv);
}

Test(auth, auth_with_default_user)
{
    sc_server_start_or_fail(&srv, with_pass);
    redisContext *c = sc_connect_noauth_or_fail(&srv);
    sc_cmd_expect_or_fail(c, "NOAUTH Authentication required.", "INCR n");
    sc_cmd_expect_or_fail(c, "OK", "AUTH default s3cret");
    sc_cmd_expect_or_fail(c, "1", "INCR n");
    redisFree(c);
    /* The harness's own connect authenticates with the password. */
    c = sc_connect_or_fail(&srv);
    sc_cmd_expect_or_fail(c, "2", "INCR n");
    redisFree(c);
    sc_server_stop_or_fail(&srv);
}

Test(auth, hello_3_auth_setname)
{
    sc_server_start_or_fail(&srv, with_pass);
    int fd = sc_raw_connect_or_fail(srv.port);
    sc_reader rd;
    sc_reader_init(&rd, fd);
    char *reply;

    cr_assert(sc_raw_send_str(fd, "HELLO 3 AUTH default wrong\r\n"));
    cr_assert(sc_raw_expect(fd, WRONGPASS, 5000));
    cr_assert(sc_raw_send_str(fd, "HELLO 3\r\n"));
    cr_assert(sc_raw_expect(fd,
                            "-NOAUTH HELLO must be called with the client already authenticated, "
                            "otherwise the HELLO AUTH <user> <pass> option can be used to "
                            "authenticate the client and select the RESP protocol version at the "
                            "same time\r\n",
                            5000));

    cr_assert(sc_raw_send_str(fd, "HELLO 3 AUTH default s3cret SETNAME x\r\n"));
    cr_assert(sc_reader_next(&rd, &reply, NULL, 5000), "no HELLO reply");
    cr_assert(strncmp(reply, "%7\r\n", 4) == 0, "HELLO 3 reply is not a 7-entry map: %.40s", reply);
    cr_assert(strstr(reply, "$5\r\nproto\r\n:3\r\n") != NULL, "proto is not 3: %s", reply);
    free(reply);

    cr_assert(sc_raw_send_str(fd, "CLIENT GETNAME\r\nGET nokey\r\n"));
    cr_assert(sc_raw_expect(fd, "$1\r\nx\r\n_\r\n", 5000));
    sc_reader_free(&rd);
    close(fd);
    sc_server_stop_or_fail(&srv);
}

Test(auth, unauthenticated_length_limits)
{
    sc_server_start_or_fail(&srv, with_pass);
    /* More than 10 arguments before AUTH. */
    int fd = sc_raw_connect_or_fail(srv.port);
    cr_assert(sc_raw_send_str(fd, "*11\r\n"));
    cr_assert(sc_raw_expect(fd, "-ERR Protocol error: unauthenticated multibulk length\r\n", 5000));
    cr_assert(sc_raw_wait_closed(fd, 5000));
    close(fd);
    /* A bulk longer than 16 KB before AUTH. */
    fd = sc_raw_connect_or_fail(srv.port);
    cr_assert(sc_raw_send_str(fd, "*1\r\n$16385\r\n"));
    cr_assert(sc_raw_expect(fd, "-ERR Protocol error: unauthenticated bulk length\r\n", 5000));
    cr_assert(sc_raw_wait_closed(fd, 5000));
    close(fd);
    /* Both are fine once authenticated. */
    fd = sc_raw_connect_or_fail(srv.port);
    cr_assert(sc_raw_send_str(fd, "AUTH s3cret\r\n*11\r\n$4\r\nMSET\r\n"
                                  "$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n"
                                  "$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n"));
    cr_assert(sc_raw_expect(fd, "+OK\r\n+OK\r\n", 5000));
    close(fd);
    sc_server_stop_or_fail(&srv);
}

Test(auth, auth_without_password_configured)
{
    sc_server_start_or_fail(&srv, NULL);
    int fd = sc_raw_connect_or_fail(srv.port);
    cr_assert(sc_raw_send_str(fd, "AUTH foo\r\n"));
    cr_assert(sc_raw_expect(fd,
                            "-ERR AUTH <password> called without any password configured for the "
                            "default user. Are you sure your configuration is correct?\r\n",
                            5000));
    /* 'default' with any password: the default user has nopass. */
    cr_assert(sc_raw_send_str(fd, "AUTH default foo\r\nPING\r\n"));
    cr_assert(sc_raw_expect(fd, "+OK\r\n+PONG\r\n", 5000));
    close(fd);
    sc_server_stop_or_fail(&srv);
}
