/*
 * server_proc.h - integration-test harness: run the real server binary as a
 * child process on a free loopback port, talk to it (hiredis, raw sockets,
 * external tools such as redis-cli) and stop it, checking it exited cleanly.
 *
 * The binary is $SLOTCACHE_SERVER, else "$SLOTCACHE_BUILD/slotcache-server"
 * (SLOTCACHE_BUILD defaults to "build"). Pointing SLOTCACHE_SERVER at
 * /usr/bin/redis-server runs the same suites against the reference Redis: the
 * harness then spells "--threads N" as "--io-threads N" (Redis's I/O threads
 * busy-wait, so threaded suites run much slower against Redis on 2 cores).
 *
 * Every wait in here is bounded. Bounds are multiplied by
 * $SLOTCACHE_TIMEOUT_SCALE (default 1; run-tests.sh raises it under
 * sanitizers). Functions named *_or_fail report through Criterion assertions,
 * so they may only be called from a test (or its init/fini) process.
 */
#ifndef SERVER_PROC_H
#define SERVER_PROC_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>

/* ---- server process ---------------------------------------------------- */

typedef struct sc_server {
    pid_t pid;               /* 0 when not running */
    int port;
    bool is_redis;           /* binary is the reference redis-server */
    char bin[PATH_MAX];
    char dir[200];           /* fresh working directory of the child */
    char log_path[256];      /* child stdout+stderr (dir/server.log) */
    char password[128];      /* from --requirepass, used by sc_connect */
} sc_server;

/* Start the server with the given extra arguments (NULL-terminated list, may
 * be NULL), e.g. (const char *[]){"--threads", "4", NULL}. Picks a free port
 * (retrying on a collision), waits until PING answers. Fails the test on
 * error. */
void sc_server_start_or_fail(sc_server *s, const char *const *extra_args);
/* The same with another binary than sc_server_binary(): differential tests
 * run slotcache and the reference /usr/bin/redis-server side by side. */
void sc_server_start_bin_or_fail(sc_server *s, const char *bin, const char *const *extra_args);

/* SIGTERM, wait (bounded), SIGKILL if needed; fails the test unless the
 * server exited with status 0 and its log holds no sanitizer report. The
 * working directory is removed after a clean stop and kept otherwise. Safe to
 * call twice or on a server that never started.
 *
 * Call it at the END OF THE TEST BODY: Criterion 2.4 prints assertion
 * failures raised in a .fini but does not fail the test for them. */
void sc_server_stop_or_fail(sc_server *s);

/* SIGKILL and reap the server now (no exit check); its port, directory and
 * log stay for sc_server_restart_or_fail. A no-op when it is not running. */
void sc_server_kill9(sc_server *s);

/* Start a server again that sc_server_kill9 killed: the same binary, port,
 * working directory (its files are kept) and log (appended to), with the
 * harness's base arguments then extra_args (NULL-terminated, may be NULL;
 * not those of the first start). Waits until PING answers on the port;
 * fails the test, with the log, otherwise. Stop it as usual. */
void sc_server_restart_or_fail(sc_server *s, const char *const *extra_args);

/* For .fini: SIGKILL servers this process started and has not stopped (a
 * test that failed half-way). Never asserts. */
void sc_server_cleanup(void);

/* ---- several servers at once (tests/support/cluster_proc.c) -------------
 * The steps of sc_server_start_bin_or_fail, so that a caller can start many
 * servers in parallel on ports of its own choosing. */

/* Set s up to run `bin` (checked executable) in a fresh working directory,
 * without starting it; --requirepass in extra_args sets s->password. */
void sc_server_prepare_or_fail(sc_server *s, const char *bin, const char *const *extra_args);
/* Fork and exec s on `port` with the base arguments then extra_args; no
 * wait. The log is truncated, or appended to when append_log. */
void sc_server_spawn_or_fail(sc_server *s, int port, const char *const *extra_args, bool append_log);

typedef enum sc_start_state {
    SC_START_PENDING,   /* running, does not answer PING yet */
    SC_START_UP,        /* answers PING on a port only it listens on */
    SC_START_DIED,      /* exited (reaped; s->pid is 0; its log says why) */
    SC_START_FOREIGN,   /* something answered but another process shares
                         * the port: killed and reaped, s->pid is 0 */
} sc_start_state;
/* One non-blocking look at a spawned server. */
sc_start_state sc_server_poll_started(sc_server *s);
/* SIGKILL and reap a spawned server that is given up on (no exit check). */
void sc_server_abandon(sc_server *s);
/* Its log says the port (or a second port it binds) was in use. */
bool sc_server_log_says_in_use(const sc_server *s);

/* sc_server_stop_or_fail for n servers: SIGTERM to all first, so they shut
 * down in parallel, then wait for each and check its exit; fails the test
 * (after logging every failure) if one did not exit cleanly. Working
 * directories of clean stops are removed unless keep_dirs (then
 * sc_server_restart_or_fail can start the server again from its files). */
void sc_server_stop_many_or_fail(sc_server *const *servers, int n, bool keep_dirs);
/* Remove a stopped server's working directory and everything in it. */
void sc_server_remove_dir(const sc_server *s);

/* ---- ports ------------------------------------------------------------- */

/* 127.0.0.1:port can be bound now and nothing listens on it. */
bool sc_port_free(int port);
/* A port the kernel gives out as free on 127.0.0.1 (bound, then released):
 * for a second port a server needs, such as --cluster-port (a client port
 * may be above 55535, where port + 10000 does not exist). Another process
 * may take it before the server binds it. Fails the test when there is
 * none. */
int sc_free_port_or_fail(void);
/* Something listens on port (any address). */
bool sc_port_listened(int port);
/* At least one listener on port, and every one belongs to pid. */
bool sc_port_owned_by(pid_t pid, int port);

/* Wait (bounded, ms scaled) for a server that was told to exit (SHUTDOWN)
 * and reap it; *status gets its wait status. False if it is still running. */
bool sc_server_wait_exit(sc_server *s, int ms, int *status);

/* True while the child has not exited (reaps it if it has). */
bool sc_server_alive(sc_server *s);

/* Sanitizer report or other marker of a dirty run found in the log, or NULL. */
const char *sc_server_log_problem(const sc_server *s);

/* Print the last `bytes` of the server log through cr_log_error. */
void sc_server_dump_log(const sc_server *s, size_t bytes);

/* Path of the binary the harness runs (see top of file). */
const char *sc_server_binary(void);
bool sc_server_binary_is_redis(void);
/* The reference redis-server for differential tests: $REDIS_SERVER, else the
 * first redis-server in $PATH; NULL when there is none (skip the test). */
const char *sc_reference_redis_binary(void);

/* ---- timing ------------------------------------------------------------ */

long long sc_now_ms(void);
void sc_sleep_ms(int ms);
/* Bound scaled by SLOTCACHE_TIMEOUT_SCALE. */
int sc_scaled_ms(int ms);

/* Poll `cond` every few ms until it is true or `ms` (scaled) elapse; the
 * expression's final truth is the value of the macro. */
#define SC_WAIT_FOR(cond, ms)                                                 \
    ({                                                                        \
        long long sc__deadline = sc_now_ms() + sc_scaled_ms(ms);              \
        bool sc__ok;                                                          \
        int sc__pause = 1;                                                    \
        while (!(sc__ok = (cond)) && sc_now_ms() < sc__deadline) {            \
            sc_sleep_ms(sc__pause);                                           \
            if (sc__pause < 50) sc__pause *= 2;                               \
        }                                                                     \
        sc__ok;                                                               \
    })

/* ---- hiredis ----------------------------------------------------------- */

/* Connected context with a socket timeout; authenticates with s->password
 * when set. Fails the test on error. Free with redisFree. */
redisContext *sc_connect_or_fail(const sc_server *s);
/* Connect without authenticating (for auth tests). */
redisContext *sc_connect_noauth_or_fail(const sc_server *s);

/* redisCommand that fails the test when the connection breaks (a reply of
 * type error is returned, not a failure). Free with freeReplyObject. */
redisReply *sc_cmd_or_fail(redisContext *c, const char *fmt, ...);
/* Same but the reply must be a status/bulk/error equal to `expect`
 * (integers compared through their decimal text); the reply is freed. */
void sc_cmd_expect_or_fail(redisContext *c, const char *expect, const char *fmt, ...);

/* Same but the reply must be an integer, which is returned; the reply is
 * freed. */
long long sc_cmd_ll_or_fail(redisContext *c, const char *fmt, ...);

/* Run a command written as space-separated words (`""` stands for an empty
 * argument; at most SC_LINE_MAX_WORDS words of a line under 512 bytes), sent
 * as an argument vector so no word is parsed as a format. Fails the test when
 * the connection breaks. Free with freeReplyObject. */
#define SC_LINE_MAX_WORDS 16
redisReply *sc_cmd_line_or_fail(redisContext *c, const char *line);

/* Pipelined EXISTS prefix:i ("prefix:%d") for every i in [from, to), `batch`
 * commands at a time (EXISTS does not touch LRU/LFU data). Returns how many
 * exist; when `exists` is not NULL, exists[i - from] tells whether prefix:i
 * does. Fails the test when the connection breaks or a reply is not an
 * integer. */
int sc_exists_range_or_fail(redisContext *c, const char *prefix, int from, int to, int batch, bool *exists);

/* Integer field `name` of INFO `section` ("clients", "stats"...); -1 when
 * absent. */
long long sc_info_ll_or_fail(redisContext *c, const char *section, const char *name);

/* Reply as text: status/error/bulk bytes, an integer's decimal digits,
 * "(nil)", or "(array of N)". Truncated to n bytes. */
void sc_reply_text(const redisReply *r, char *out, size_t n);
/* True when r is a bulk string or status equal to s (byte for byte). */
bool sc_reply_is(const redisReply *r, const char *s);

/* ---- raw sockets ------------------------------------------------------- */

/* Growable byte buffer (data is NUL-terminated once non-empty). */
typedef struct sc_buf {
    char *data;
    size_t len, cap;
} sc_buf;

/* Blocking TCP connection to 127.0.0.1:port, CLOEXEC, TCP_NODELAY; -1 on
 * error (errno set). */
int sc_raw_connect(int port);
int sc_raw_connect_or_fail(int port);
/* Write all bytes (MSG_NOSIGNAL); false on error or after `timeout_ms`. */
bool sc_raw_send(int fd, const void *buf, size_t len, int timeout_ms);
bool sc_raw_send_str(int fd, const char *s);
/* Encode a line of space-separated words (as sc_cmd_line_or_fail) as a RESP
 * command and send it within 5 s (scaled); fails the test if it cannot. */
void sc_raw_send_line_or_fail(int fd, const char *line);
/* Read exactly n bytes; returns bytes read (< n on EOF/error/timeout). */
size_t sc_raw_recv_exact(int fd, void *buf, size_t n, int timeout_ms);
/* Read strlen(expect) bytes and compare; on mismatch logs both sides. */
bool sc_raw_expect(int fd, const char *expect, int timeout_ms);
/* True when the peer closes (EOF or reset) within timeout_ms; discards any
 * data that arrives first. */
bool sc_raw_wait_closed(int fd, int timeout_ms);
/* Write req and read at the same time (so neither side stalls on a full
 * socket buffer) until `want` bytes arrived in *got, EOF, or the timeout. */
bool sc_raw_pump(int fd, const void *req, size_t len, sc_buf *got, size_t want, int timeout_ms);
/* True when nothing arrives and the connection stays open for `ms`. */
bool sc_raw_quiet(int fd, int ms);

void sc_buf_append(sc_buf *b, const void *p, size_t n);
void sc_buf_printf(sc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sc_buf_free(sc_buf *b);

/* Encode argv as a RESP multibulk command, appended to b. */
void sc_resp_command(sc_buf *b, int argc, const char *const *argv, const size_t *lens);

/* Buffered reader of RESP2/RESP3 replies from a raw socket. */
typedef struct sc_reader {
    int fd;
    sc_buf in;
    size_t pos;              /* consumed bytes of in */
} sc_reader;
void sc_reader_init(sc_reader *r, int fd);
void sc_reader_free(sc_reader *r);
/* Read one complete reply (any nesting, RESP3 types included) and return it
 * NUL-terminated as raw bytes in *out (caller frees); *len gets its size.
 * Returns false on EOF, error, malformed data or timeout. */
bool sc_reader_next(sc_reader *r, char **out, size_t *len, int timeout_ms);

/* Length of the complete RESP reply at p[0..n), 0 if incomplete, -1 if
 * malformed. */
long sc_resp_frame_len(const char *p, size_t n);

/* ---- external programs ------------------------------------------------- */

/* Run argv[0] (PATH lookup) with stdin from `in` (may be NULL), capture
 * stdout+stderr in *out (NUL-terminated; may be NULL to discard). Kills it
 * after timeout_ms (scaled). Returns the exit status, 128+sig if signalled,
 * -1 if it could not run or timed out. */
int sc_run(const char *const *argv, const void *in, size_t inlen, sc_buf *out, int timeout_ms);

/* Raise RLIMIT_NOFILE's soft limit to min(want, hard); returns new soft. */
long sc_raise_nofile(long want);

#endif
