/*
 * server_proc.c - integration-test harness (see server_proc.h): server child
 * process life cycle, hiredis and raw-socket helpers, RESP framing, running
 * external tools.
 *
 * Design choices a reader must know:
 * - A free port is found by binding port 0 and closing it. Between that and
 *   the server's own bind another process may take the port, and slotcache's
 *   SO_REUSEPORT listeners could even share it silently with another
 *   slotcache; so after PING answers, the harness checks through /proc that
 *   every listening socket on the port belongs to its child, and retries on a
 *   fresh port otherwise.
 * - The child gets PR_SET_PDEATHSIG(SIGKILL): a test process that crashes or
 *   is killed by Criterion's timeout never leaves a server behind.
 * - Each server runs in a fresh directory /tmp/slotcache-tests/srv-PID-XXXXXX
 *   (its log is server.log there): no stale dump.rdb or nodes.conf is picked
 *   up. The directory is removed after a clean stop and kept otherwise.
 * - Starting is split into steps (prepare, spawn, poll) that
 *   sc_server_start_bin_or_fail runs for one server and cluster_proc.c
 *   interleaves to start many at once; stopping many signals them all first.
 */
#include "server_proc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <criterion/criterion.h>
#include <criterion/logging.h>

#define SC_START_ATTEMPTS 8
#define SC_START_TIMEOUT_MS 15000
#define SC_STOP_TIMEOUT_MS 30000
#define SC_IO_TIMEOUT_MS 10000

/* ---- timing ------------------------------------------------------------ */

long long sc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sc_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

int sc_scaled_ms(int ms)
{
    const char *e = getenv("SLOTCACHE_TIMEOUT_SCALE");
    double scale = e ? atof(e) : 1.0;
    if (scale < 1.0) scale = 1.0;
    double v = ms * scale;
    return v > INT_MAX ? INT_MAX : (int)v;
}

/* ---- buffers ----------------------------------------------------------- */

void sc_buf_append(sc_buf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) abort();
        b->data = d;
        b->cap = cap;
    }
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void sc_buf_printf(sc_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    char *tmp = malloc((size_t)n + 1);
    if (!tmp) abort();
    va_start(ap, fmt);
    vsnprintf(tmp, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sc_buf_append(b, tmp, (size_t)n);
    free(tmp);
}

void sc_buf_free(sc_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void sc_resp_command(sc_buf *b, int argc, const char *const *argv, const size_t *lens)
{
    sc_buf_printf(b, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++) {
        size_t n = lens ? lens[i] : strlen(argv[i]);
        sc_buf_printf(b, "$%zu\r\n", n);
        sc_buf_append(b, argv[i], n);
        sc_buf_append(b, "\r\n", 2);
    }
}

/* Split buf (modified in place) at spaces into at most SC_LINE_MAX_WORDS
 * words; a word `""` becomes the empty string. Returns the word count. */
static int split_words(char *buf, const char **argv, size_t *lens)
{
    int argc = 0;
    for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok && argc < SC_LINE_MAX_WORDS;
         tok = strtok_r(NULL, " ", &save)) {
        if (strcmp(tok, "\"\"") == 0) tok[0] = '\0';
        argv[argc] = tok;
        lens[argc] = strlen(tok);
        argc++;
    }
    return argc;
}

/* ---- binary selection -------------------------------------------------- */

const char *sc_server_binary(void)
{
    static char path[512];
    const char *e = getenv("SLOTCACHE_SERVER");
    if (e && *e) return e;
    const char *build = getenv("SLOTCACHE_BUILD");
    if (!build || !*build) build = "build";
    snprintf(path, sizeof path, "%s/slotcache-server", build);
    return path;
}

const char *sc_reference_redis_binary(void)
{
    static char path[PATH_MAX];
    const char *e = getenv("REDIS_SERVER");
    if (e && *e) return access(e, X_OK) == 0 ? e : NULL;
    const char *envpath = getenv("PATH");
    if (!envpath || !*envpath) envpath = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = envpath; *p;) {
        const char *colon = strchr(p, ':');
        size_t n = colon ? (size_t)(colon - p) : strlen(p);
        if (n > 0 && n < sizeof path - 16) {
            snprintf(path, sizeof path, "%.*s/redis-server", (int)n, p);
            if (access(path, X_OK) == 0) return path;
        }
        p += n + (colon ? 1 : 0);
    }
    return NULL;
}

static bool is_redis_binary(const char *b)
{
    const char *base = strrchr(b, '/');
    base = base ? base + 1 : b;
    return strstr(base, "redis-server") != NULL;
}

bool sc_server_binary_is_redis(void)
{
    return is_redis_binary(sc_server_binary());
}

/* ---- process helpers --------------------------------------------------- */

/* Runs in a forked child: async-signal-safe only (no malloc, no opendir). */
static void close_fds_from(int lowfd)
{
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)lowfd, ~0U, 0) == 0) return;
#endif
    struct rlimit rl;
    long max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? (long)rl.rlim_cur : 65536;
    for (long fd = lowfd; fd < max; fd++) close((int)fd);
}

/* Called in a forked child before exec. */
static void child_setup(pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);   /* parent already gone */
    signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Wait for pid with a bound; returns true and fills *status when it exited. */
static bool wait_pid_bounded(pid_t pid, int *status, int ms)
{
    long long deadline = sc_now_ms() + ms;
    int pause = 1;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid) return true;
        if (r < 0 && errno != EINTR) return false;
        if (sc_now_ms() >= deadline) return false;
        sc_sleep_ms(pause);
        if (pause < 20) pause *= 2;
    }
}

/* ---- free ports and ownership ------------------------------------------ */

static int pick_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &al) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

int sc_free_port_or_fail(void)
{
    int port = pick_free_port();
    cr_assert(port > 0, "no free port: %s", strerror(errno));
    return port;
}

/* Collect inodes of LISTEN sockets on `port` from one /proc/net file. */
static int listen_inodes(const char *file, int port, unsigned long *out, int max, int n)
{
    FILE *f = fopen(file, "r");
    if (!f) return n;
    char line[512];
    if (!fgets(line, sizeof line, f)) { fclose(f); return n; }
    while (fgets(line, sizeof line, f)) {
        char local[128], remote[128];
        unsigned st;
        unsigned long inode;
        /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
        if (sscanf(line, "%*s %127s %127s %x %*s %*s %*s %*s %*s %lu", local, remote, &st, &inode) != 4)
            continue;
        if (st != 0x0A) continue;
        char *colon = strrchr(local, ':');
        if (!colon || (int)strtol(colon + 1, NULL, 16) != port) continue;
        if (n < max) out[n++] = inode;
    }
    fclose(f);
    return n;
}

static bool pid_has_inode(pid_t pid, unsigned long inode)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(dir);
    if (!d) return false;
    char want[64];
    snprintf(want, sizeof want, "socket:[%lu]", inode);
    struct dirent *de;
    bool found = false;
    while (!found && (de = readdir(d)) != NULL) {
        char p[600], target[128];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        ssize_t n = readlink(p, target, sizeof target - 1);
        if (n <= 0) continue;
        target[n] = '\0';
        found = strcmp(target, want) == 0;
    }
    closedir(d);
    return found;
}

/* How many listeners on port, and how many of them belong to pid. */
static int port_listeners(pid_t pid, int port, int *owned)
{
    unsigned long inodes[256];
    int n = listen_inodes("/proc/net/tcp", port, inodes, 256, 0);
    n = listen_inodes("/proc/net/tcp6", port, inodes, 256, n);
    *owned = 0;
    for (int i = 0; i < n; i++)
        if (pid > 0 && pid_has_inode(pid, inodes[i])) (*owned)++;
    return n;
}

/* True when at least one listener on port exists and all belong to pid. */
static bool port_owned_by(pid_t pid, int port)
{
    int owned;
    int n = port_listeners(pid, port, &owned);
    return n > 0 && owned == n;
}

bool sc_port_owned_by(pid_t pid, int port)
{
    return port_owned_by(pid, port);
}

bool sc_port_listened(int port)
{
    int owned;
    return port_listeners(0, port, &owned) > 0;
}

bool sc_port_free(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    int one = 1;
    /* As the servers bind: a port held only by TIME_WAIT connections is free. */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok && !sc_port_listened(port);
}

/* ---- raw sockets ------------------------------------------------------- */

int sc_raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

int sc_raw_connect_or_fail(int port)
{
    int fd = sc_raw_connect(port);
    cr_assert(fd >= 0, "connect to 127.0.0.1:%d failed: %s", port, strerror(errno));
    return fd;
}

static bool wait_fd(int fd, short events, long long deadline)
{
    for (;;) {
        long long left = deadline - sc_now_ms();
        if (left < 0) left = 0;
        struct pollfd p = { .fd = fd, .events = events };
        int r = poll(&p, 1, (int)left);
        if (r > 0) return true;
        if (r == 0) return false;
        if (errno != EINTR) return false;
    }
}

bool sc_raw_send(int fd, const void *buf, size_t len, int timeout_ms)
{
    long long deadline = sc_now_ms() + sc_scaled_ms(timeout_ms);
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!wait_fd(fd, POLLOUT, deadline)) return false;
            continue;
        }
        return false;
    }
    return true;
}

bool sc_raw_send_str(int fd, const char *s)
{
    return sc_raw_send(fd, s, strlen(s), SC_IO_TIMEOUT_MS);
}

void sc_raw_send_line_or_fail(int fd, const char *line)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", line);
    const char *argv[SC_LINE_MAX_WORDS];
    size_t lens[SC_LINE_MAX_WORDS];
    int argc = split_words(buf, argv, lens);
    sc_buf b = { 0 };
    sc_resp_command(&b, argc, argv, lens);
    bool sent = sc_raw_send(fd, b.data, b.len, 5000);
    sc_buf_free(&b);
    cr_assert(sent, "send %s failed", line);
}

size_t sc_raw_recv_exact(int fd, void *buf, size_t n, int timeout_ms)
{
    long long deadline = sc_now_ms() + sc_scaled_ms(timeout_ms);
    size_t got = 0;
    while (got < n) {
        if (!wait_fd(fd, POLLIN, deadline)) break;
        ssize_t r = recv(fd, (char *)buf + got, n - got, MSG_DONTWAIT);
        if (r > 0) {
            got += (size_t)r;
            continue;
        }
        if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
        break;  /* EOF or error */
    }
    return got;
}

static void log_bytes(const char *what, const char *p, size_t n)
{
    sc_buf b = { 0 };
    for (size_t i = 0; i < n && i < 400; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\r') sc_buf_append(&b, "\\r", 2);
        else if (c == '\n') sc_buf_append(&b, "\\n", 2);
        else if (isprint(c)) sc_buf_append(&b, &p[i], 1);
        else sc_buf_printf(&b, "\\x%02x", c);
    }
    if (n > 400) sc_buf_printf(&b, "...(%zu bytes)", n);
    cr_log_error("%s: \"%s\"", what, b.data ? b.data : "");
    sc_buf_free(&b);
}

bool sc_raw_expect(int fd, const char *expect, int timeout_ms)
{
    /* Read byte ranges as they arrive and stop at the first difference, so a
     * wrong (shorter) reply fails at once instead of after the timeout. */
    size_t n = strlen(expect);
    char *buf = malloc(n + 1);
    if (!buf) abort();
    long long deadline = sc_now_ms() + sc_scaled_ms(timeout_ms);
    size_t got = 0;
    bool differs = false;
    while (got < n && !differs) {
        if (!wait_fd(fd, POLLIN, deadline)) break;
        ssize_t r = recv(fd, buf + got, n - got, MSG_DONTWAIT);
        if (r > 0) {
            differs = memcmp(buf + got, expect + got, (size_t)r) != 0;
            got += (size_t)r;
        } else if (r == 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) {
            break;
        }
    }
    bool ok = got == n && !differs;
    if (!ok) {
        /* Show a little more of what the server sent, if it is there. */
        char more[256];
        size_t extra = differs ? sc_raw_recv_exact(fd, more, sizeof more, 50) : 0;
        sc_buf shown = { 0 };
        sc_buf_append(&shown, buf, got);
        sc_buf_append(&shown, more, extra);
        log_bytes("expected", expect, n);
        log_bytes(got < n && !differs ? "got (short read)" : "got", shown.data ? shown.data : "", shown.len);
        sc_buf_free(&shown);
    }
    free(buf);
    return ok;
}

bool sc_raw_wait_closed(int fd, int timeout_ms)
{
    long long deadline = sc_now_ms() + sc_scaled_ms(timeout_ms);
    char buf[65536];
    for (;;) {
        if (!wait_fd(fd, POLLIN, deadline)) return false;
        ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (r == 0) return true;
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
            return true;  /* ECONNRESET and friends: closed */
        }
    }
}

bool sc_raw_pump(int fd, const void *req, size_t len, sc_buf *got, size_t want, int timeout_ms)
{
    long long deadline = sc_now_ms() + sc_scaled_ms(timeout_ms);
    size_t sent = 0;
    char buf[65536];
    while (got->len < want) {
        struct pollfd p = { .fd = fd, .events = POLLIN | (sent < len ? POLLOUT : 0) };
        long long left = deadline - sc_now_ms();
        if (left <= 0) return false;
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        if ((p.revents & POLLOUT) && sent < len) {
            ssize_t n = send(fd, (const char *)req + sent, len - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n > 0) sent += (size_t)n;
            else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
            if (n > 0) sc_buf_append(got, buf, (size_t)n);
            else if (n == 0) return false;
            else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
        }
    }
    return true;
}

bool sc_raw_quiet(int fd, int ms)
{
    long long deadline = sc_now_ms() + ms;
    if (!wait_fd(fd, POLLIN, deadline)) return true;
    char c;
    ssize_t r = recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK);
    return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* ---- RESP framing ------------------------------------------------------ */

/* Parse one reply at p[*off..n): 1 complete (advances *off), 0 incomplete,
 * -1 malformed. */
static int frame(const char *p, size_t n, size_t *off, int depth)
{
    if (depth > 64) return -1;
    size_t o = *off;
    if (o >= n) return 0;
    const char *cr = memchr(p + o, '\r', n - o);
    if (!cr) return 0;
    size_t eol = (size_t)(cr - p);
    if (eol + 1 >= n) return 0;
    if (p[eol + 1] != '\n') return -1;
    char type = p[o];
    size_t after = eol + 2;
    switch (type) {
    case '+': case '-': case ':': case '_': case ',': case '#': case '(':
        *off = after;
        return 1;
    case '$': case '=': case '!': {
        long long len = strtoll(p + o + 1, NULL, 10);
        if (len < 0) { *off = after; return 1; }
        if (n - after < (size_t)len + 2) return 0;
        *off = after + (size_t)len + 2;
        return 1;
    }
    case '*': case '~': case '>': case '%': case '|': {
        long long cnt = strtoll(p + o + 1, NULL, 10);
        if (cnt < 0) { *off = after; return 1; }
        if (type == '%' || type == '|') cnt *= 2;
        size_t cur = after;
        for (long long i = 0; i < cnt; i++) {
            int r = frame(p, n, &cur, depth + 1);
            if (r <= 0) return r;
        }
        if (type == '|') {  /* attribute precedes the real reply */
            int r = frame(p, n, &cur, depth + 1);
            if (r <= 0) return r;
        }
        *off = cur;
        return 1;
    }
    default:
        return -1;
    }
}

long sc_resp_frame_len(const char *p, size_t n)
{
    size_t off = 0;
    int r = frame(p, n, &off, 0);
    return r < 0 ? -1 : r == 0 ? 0 : (long)off;
}

void sc_reader_init(sc_reader *r, int fd)
{
    memset(r, 0, sizeof *r);
    r->fd = fd;
}

void sc_reader_free(sc_reader *r)
{
    sc_buf_free(&r->in);
    r->pos = 0;
}

bool sc_reader_next(sc_reader *r, char **out, size_t *len, int timeout_ms)
{
    long long deadline = sc_now_ms() + sc_scaled_ms(timeout_ms);
    for (;;) {
        long fl = sc_resp_frame_len(r->in.data ? r->in.data + r->pos : "", r->in.len - r->pos);
        if (fl < 0) {
            log_bytes("malformed RESP", r->in.data + r->pos, r->in.len - r->pos);
            return false;
        }
        if (fl > 0) {
            char *o = malloc((size_t)fl + 1);
            if (!o) abort();
            memcpy(o, r->in.data + r->pos, (size_t)fl);
            o[fl] = '\0';
            r->pos += (size_t)fl;
            if (r->pos == r->in.len) r->pos = r->in.len = 0;
            *out = o;
            if (len) *len = (size_t)fl;
            return true;
        }
        if (r->pos > 0) {  /* compact */
            memmove(r->in.data, r->in.data + r->pos, r->in.len - r->pos);
            r->in.len -= r->pos;
            r->pos = 0;
        }
        if (!wait_fd(r->fd, POLLIN, deadline)) return false;
        char buf[65536];
        ssize_t n = recv(r->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) sc_buf_append(&r->in, buf, (size_t)n);
        else if (n == 0) return false;
        else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) return false;
    }
}

/* ---- server life cycle ------------------------------------------------- */

/* True when a PING on a fresh connection gets +PONG (or -NOAUTH: the server
 * is up but wants a password). */
static bool ping_ok(int port)
{
    int fd = sc_raw_connect(port);
    if (fd < 0) return false;
    bool ok = false;
    if (sc_raw_send(fd, "PING\r\n", 6, 1000)) {
        char buf[8] = { 0 };
        size_t got = sc_raw_recv_exact(fd, buf, 7, 1000);
        ok = got == 7 && (memcmp(buf, "+PONG\r\n", 7) == 0 || memcmp(buf, "-NOAUTH", 7) == 0);
    }
    close(fd);
    return ok;
}

static char *read_file_tail(const char *path, size_t max, size_t *lenp)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    long start = size > (long)max ? size - (long)max : 0;
    fseek(f, start, SEEK_SET);
    char *buf = malloc((size_t)(size - start) + 1);
    if (!buf) abort();
    size_t n = fread(buf, 1, (size_t)(size - start), f);
    buf[n] = '\0';
    fclose(f);
    if (lenp) *lenp = n;
    return buf;
}

void sc_server_dump_log(const sc_server *s, size_t bytes)
{
    char *t = read_file_tail(s->log_path, bytes, NULL);
    cr_log_error("server log %s (last %zu bytes):\n%s", s->log_path, bytes, t ? t : "(unreadable)");
    free(t);
}

const char *sc_server_log_problem(const sc_server *s)
{
    static const char *const markers[] = {
        "ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "WARNING: ThreadSanitizer",
        "runtime error:", "AddressSanitizer:DEADLYSIGNAL", "ThreadSanitizer:DEADLYSIGNAL",
    };
    /* Sanitizer reports can sit anywhere in a long log: scan all of it. */
    char *t = read_file_tail(s->log_path, (size_t)64 << 20, NULL);
    if (!t) return NULL;
    const char *found = NULL;
    for (size_t i = 0; i < sizeof markers / sizeof markers[0] && !found; i++)
        if (strstr(t, markers[i])) found = markers[i];
    free(t);
    return found;
}

/* Fork and exec s->bin on s->port in s->dir with the harness's base
 * arguments, then extra; the log is truncated, or appended to when
 * append_log (a restart keeps the first run's log). */
static pid_t spawn_server(sc_server *s, const char *const *extra, bool append_log)
{
    const char *argv[128];
    char portbuf[16];
    int n = 0;
    snprintf(portbuf, sizeof portbuf, "%d", s->port);
    argv[n++] = s->bin;
    argv[n++] = "--port";
    argv[n++] = portbuf;
    argv[n++] = "--bind";
    argv[n++] = "127.0.0.1";
    argv[n++] = "--save";
    argv[n++] = "";
    argv[n++] = "--appendonly";
    argv[n++] = "no";
    for (int i = 0; extra && extra[i] && n < 126; i++) {
        const char *a = extra[i];
        if (s->is_redis && strcmp(a, "--threads") == 0) a = "--io-threads";
        argv[n++] = a;
    }
    argv[n] = NULL;

    int logfd = open(s->log_path, O_WRONLY | O_CREAT | (append_log ? O_APPEND : O_TRUNC) | O_CLOEXEC, 0644);
    if (logfd < 0) return -1;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        child_setup(parent);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        dup2(logfd, 1);
        dup2(logfd, 2);
        close_fds_from(3);
        if (chdir(s->dir) != 0) _exit(126);
        execv(argv[0], (char *const *)argv);
        static const char msg[] = "exec of the server binary failed\n";
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void)w;
        _exit(127);
    }
    close(logfd);
    return pid;
}

/* Servers started and not yet stopped by this process, for sc_server_cleanup. */
static sc_server *running[64];

static void track(sc_server *s, bool on)
{
    for (size_t i = 0; i < sizeof running / sizeof running[0]; i++) {
        if (on && !running[i]) { running[i] = s; return; }
        if (!on && running[i] == s) { running[i] = NULL; return; }
    }
}

/* Remove the working directory and what the server left in it (files, and
 * directories such as Redis's appendonlydir, a few levels deep). */
static void remove_dir_depth(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        char p[600];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        struct stat st;
        if (depth > 0 && lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) remove_dir_depth(p, depth - 1);
        else unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static void remove_dir(const char *dir)
{
    remove_dir_depth(dir, 3);
}

void sc_server_remove_dir(const sc_server *s)
{
    if (s->dir[0]) remove_dir(s->dir);
}

void sc_server_spawn_or_fail(sc_server *s, int port, const char *const *extra_args, bool append_log)
{
    cr_assert_eq(s->pid, 0, "spawn of a running server (pid %d)", (int)s->pid);
    s->port = port;
    pid_t pid = spawn_server(s, extra_args, append_log);
    cr_assert(pid > 0, "fork/open log failed: %s", strerror(errno));
    s->pid = pid;
    track(s, true);
}

/* Forget a child that did not start: kill (unless it died) and reap it. */
static void abandon(sc_server *s, bool died)
{
    if (!died) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
    }
    s->pid = 0;
    track(s, false);
}

sc_start_state sc_server_poll_started(sc_server *s)
{
    if (s->pid <= 0) return SC_START_DIED;
    int status;
    if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
        abandon(s, true);
        return SC_START_DIED;
    }
    if (!ping_ok(s->port)) return SC_START_PENDING;
    if (port_owned_by(s->pid, s->port)) return SC_START_UP;
    abandon(s, false);
    return SC_START_FOREIGN;
}

void sc_server_abandon(sc_server *s)
{
    if (s->pid > 0) abandon(s, false);
}

bool sc_server_log_says_in_use(const sc_server *s)
{
    char *log = read_file_tail(s->log_path, 8192, NULL);
    bool in_use = log && (strstr(log, "in use") || strstr(log, "EADDRINUSE"));
    free(log);
    return in_use;
}

/* Spawn s on s->port and wait (SC_START_TIMEOUT_MS, scaled) until it answers
 * PING on a port it owns: true. Else the child is killed and reaped, s is
 * untracked, and *up / *died tell whether something answered / it exited. */
static bool launch(sc_server *s, const char *const *extra_args, bool append_log, bool *up, bool *died)
{
    sc_server_spawn_or_fail(s, s->port, extra_args, append_log);
    *up = *died = false;
    long long deadline = sc_now_ms() + sc_scaled_ms(SC_START_TIMEOUT_MS);
    for (;;) {
        sc_start_state st = sc_server_poll_started(s);
        if (st == SC_START_UP) return true;
        if (st == SC_START_DIED) { *died = true; return false; }
        if (st == SC_START_FOREIGN) { *up = true; return false; }
        if (sc_now_ms() >= deadline) break;
        sc_sleep_ms(10);
    }
    abandon(s, false);
    return false;
}

void sc_server_start_or_fail(sc_server *s, const char *const *extra_args)
{
    sc_server_start_bin_or_fail(s, sc_server_binary(), extra_args);
}

void sc_server_prepare_or_fail(sc_server *s, const char *bin, const char *const *extra_args)
{
    memset(s, 0, sizeof *s);
    signal(SIGPIPE, SIG_IGN);
    s->is_redis = is_redis_binary(bin);
    cr_assert(access(bin, X_OK) == 0,
              "server binary %s is not executable (set SLOTCACHE_SERVER or SLOTCACHE_BUILD): %s",
              bin, strerror(errno));
    /* Absolute (the child runs in its own directory) but not resolved:
     * redis-server is a symlink whose target looks at argv[0]. */
    if (bin[0] == '/') {
        snprintf(s->bin, sizeof s->bin, "%s", bin);
    } else {
        char cwd[PATH_MAX / 2];
        cr_assert(getcwd(cwd, sizeof cwd) != NULL, "getcwd: %s", strerror(errno));
        snprintf(s->bin, sizeof s->bin, "%s/%s", cwd, bin);
    }
    for (int i = 0; extra_args && extra_args[i]; i++)
        if (strcmp(extra_args[i], "--requirepass") == 0 && extra_args[i + 1])
            snprintf(s->password, sizeof s->password, "%s", extra_args[i + 1]);

    /* A fresh working directory: the server finds no stale dump.rdb or
     * nodes.conf there, and leaves its files in it. */
    mkdir("/tmp/slotcache-tests", 0777);
    snprintf(s->dir, sizeof s->dir, "/tmp/slotcache-tests/srv-%d-XXXXXX", (int)getpid());
    cr_assert(mkdtemp(s->dir) != NULL, "mkdtemp: %s", strerror(errno));
    snprintf(s->log_path, sizeof s->log_path, "%s/server.log", s->dir);
}

void sc_server_start_bin_or_fail(sc_server *s, const char *bin, const char *const *extra_args)
{
    sc_server_prepare_or_fail(s, bin, extra_args);
    for (int attempt = 0; attempt < SC_START_ATTEMPTS; attempt++) {
        s->port = pick_free_port();
        cr_assert(s->port > 0, "no free port: %s", strerror(errno));
        bool up, died;
        if (launch(s, extra_args, false, &up, &died)) return;   /* started */
        bool collision = (up && !died) || sc_server_log_says_in_use(s);
        if (!collision) {
            cr_log_error("server %s failed to start on port %d (%s)", s->bin, s->port,
                         died ? "exited" : "no PING answer in time");
            sc_server_dump_log(s, 8192);
            cr_assert_fail("server did not start");
        }
        /* port collision: retry on another port */
    }
    cr_assert_fail("server did not start after %d port attempts", SC_START_ATTEMPTS);
}

void sc_server_kill9(sc_server *s)
{
    if (s->pid == 0) return;
    track(s, false);
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
    }
    s->pid = 0;
}

void sc_server_restart_or_fail(sc_server *s, const char *const *extra_args)
{
    cr_assert_eq(s->pid, 0, "restart of a running server (pid %d)", (int)s->pid);
    cr_assert(s->port > 0 && access(s->dir, F_OK) == 0, "restart of a server that never ran or was stopped: %s",
              s->dir);
    for (int i = 0; extra_args && extra_args[i]; i++)
        if (strcmp(extra_args[i], "--requirepass") == 0 && extra_args[i + 1])
            snprintf(s->password, sizeof s->password, "%s", extra_args[i + 1]);
    bool up, died;
    if (launch(s, extra_args, true, &up, &died)) return;
    sc_server_dump_log(s, 8192);
    cr_assert_fail("the restarted server does not answer on port %d (%s)", s->port,
                   died ? "exited" : up ? "another process owns the port" : "no PING answer in time");
}

bool sc_server_wait_exit(sc_server *s, int ms, int *status)
{
    if (s->pid <= 0) return false;
    int st = 0;
    if (!wait_pid_bounded(s->pid, &st, sc_scaled_ms(ms))) return false;
    track(s, false);
    s->pid = 0;
    if (status) *status = st;
    return true;
}

bool sc_server_alive(sc_server *s)
{
    if (s->pid <= 0) return false;
    int status;
    pid_t r = waitpid(s->pid, &status, WNOHANG);
    if (r == s->pid) {
        cr_log_error("server pid %d exited unexpectedly (status 0x%x)", (int)s->pid, status);
        s->pid = -s->pid;  /* reaped: remember it was running */
        return false;
    }
    return r == 0;
}

/* Wait (bounded) for s, already sent SIGTERM, to exit; SIGKILL it if it does
 * not. True when it exited with status 0 and a clean log; else why not. */
static bool finish_stop(sc_server *s, char *why, size_t n)
{
    pid_t pid = s->pid;
    int status = 0;
    bool exited = wait_pid_bounded(pid, &status, sc_scaled_ms(SC_STOP_TIMEOUT_MS));
    if (!exited) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    s->pid = 0;
    const char *problem = sc_server_log_problem(s);
    if (!exited)
        snprintf(why, n, "server pid %d did not exit within %d ms of SIGTERM", (int)pid,
                 sc_scaled_ms(SC_STOP_TIMEOUT_MS));
    else if (problem)
        snprintf(why, n, "server log %s contains \"%s\"", s->log_path, problem);
    else if (WIFSIGNALED(status))
        snprintf(why, n, "server pid %d killed by signal %d", (int)pid, WTERMSIG(status));
    else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        snprintf(why, n, "server pid %d exited with status %d", (int)pid, WEXITSTATUS(status));
    else
        return true;
    return false;
}

void sc_server_stop_many_or_fail(sc_server *const *servers, int n, bool keep_dirs)
{
    /* Signal all first: they shut down in parallel. */
    for (int i = 0; i < n; i++) {
        if (servers[i]->pid == 0) continue;
        track(servers[i], false);
        if (servers[i]->pid > 0) kill(servers[i]->pid, SIGTERM);
    }
    char first[600] = "";
    for (int i = 0; i < n; i++) {
        sc_server *s = servers[i];
        if (s->pid == 0) continue;
        char why[600];
        bool clean;
        if (s->pid < 0) {          /* already reaped by sc_server_alive */
            s->pid = 0;
            snprintf(why, sizeof why, "server had exited before the test stopped it (log %s)", s->log_path);
            clean = false;
        } else {
            clean = finish_stop(s, why, sizeof why);
        }
        if (clean) {
            if (!keep_dirs) remove_dir(s->dir);
            continue;
        }
        sc_server_dump_log(s, 16384);
        if (n > 1) cr_log_error("%s", why);
        if (!first[0]) snprintf(first, sizeof first, "%s", why);
    }
    if (first[0]) cr_assert_fail("%s", first);
}

void sc_server_stop_or_fail(sc_server *s)
{
    sc_server_stop_many_or_fail(&s, 1, false);
}

void sc_server_cleanup(void)
{
    for (size_t i = 0; i < sizeof running / sizeof running[0]; i++) {
        sc_server *s = running[i];
        if (!s) continue;
        running[i] = NULL;
        if (s->pid > 0) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, NULL, 0);
            fprintf(stderr, "sc_server_cleanup: killed server pid %d; its log: %s\n", (int)s->pid,
                    s->log_path);
        }
        s->pid = 0;
    }
}

/* ---- hiredis ----------------------------------------------------------- */

static redisContext *connect_ctx(const sc_server *s)
{
    int ms = sc_scaled_ms(SC_IO_TIMEOUT_MS);
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    redisContext *c = redisConnectWithTimeout("127.0.0.1", s->port, tv);
    cr_assert(c != NULL, "redisConnect: out of memory");
    if (c->err) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s", c->errstr);
        redisFree(c);
        cr_assert_fail("connect to 127.0.0.1:%d: %s", s->port, msg);
    }
    redisSetTimeout(c, tv);
    return c;
}

redisContext *sc_connect_noauth_or_fail(const sc_server *s)
{
    return connect_ctx(s);
}

redisContext *sc_connect_or_fail(const sc_server *s)
{
    redisContext *c = connect_ctx(s);
    if (s->password[0]) sc_cmd_expect_or_fail(c, "OK", "AUTH %s", s->password);
    return c;
}

redisReply *sc_cmd_or_fail(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    cr_assert(r != NULL, "command \"%s\" failed: %s", fmt, c->errstr);
    return r;
}

long long sc_cmd_ll_or_fail(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    cr_assert(r != NULL, "\"%s\": connection broke: %s", fmt, c->errstr);
    cr_assert_eq(r->type, REDIS_REPLY_INTEGER, "\"%s\": not an integer reply (type %d, \"%s\")", fmt, r->type,
                 r->str ? r->str : "");
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

redisReply *sc_cmd_line_or_fail(redisContext *c, const char *line)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", line);
    const char *argv[SC_LINE_MAX_WORDS];
    size_t lens[SC_LINE_MAX_WORDS];
    int argc = split_words(buf, argv, lens);
    redisReply *r = redisCommandArgv(c, argc, argv, lens);
    cr_assert(r != NULL, "\"%s\" failed: %s", line, c->errstr);
    return r;
}

int sc_exists_range_or_fail(redisContext *c, const char *prefix, int from, int to, int batch, bool *exists)
{
    int n = 0;
    for (int i = from; i < to; i += batch) {
        int end = i + batch < to ? i + batch : to;
        for (int j = i; j < end; j++) redisAppendCommand(c, "EXISTS %s:%d", prefix, j);
        for (int j = i; j < end; j++) {
            redisReply *r = NULL;
            cr_assert(redisGetReply(c, (void **)&r) == REDIS_OK, "pipeline broke: %s", c->errstr);
            cr_assert_eq(r->type, REDIS_REPLY_INTEGER);
            if (exists) exists[j - from] = r->integer == 1;
            n += r->integer == 1;
            freeReplyObject(r);
        }
    }
    return n;
}

bool sc_reply_is(const redisReply *r, const char *s)
{
    return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) && r->len == strlen(s) &&
           memcmp(r->str, s, r->len) == 0;
}

void sc_reply_text(const redisReply *r, char *out, size_t n)
{
    switch (r->type) {
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
    case REDIS_REPLY_STRING:
        snprintf(out, n, "%.*s", (int)r->len, r->str);
        break;
    case REDIS_REPLY_INTEGER:
        snprintf(out, n, "%lld", r->integer);
        break;
    case REDIS_REPLY_NIL:
        snprintf(out, n, "(nil)");
        break;
    default:
        snprintf(out, n, "(array of %zu)", r->elements);
    }
}

void sc_cmd_expect_or_fail(redisContext *c, const char *expect, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    cr_assert(r != NULL, "command \"%s\" failed: %s", fmt, c->errstr);
    char got[512];
    sc_reply_text(r, got, sizeof got);
    freeReplyObject(r);
    cr_assert_str_eq(got, expect, "command \"%s\": got \"%s\", expected \"%s\"", fmt, got, expect);
}

long long sc_info_ll_or_fail(redisContext *c, const char *section, const char *name)
{
    redisReply *r = sc_cmd_or_fail(c, "INFO %s", section);
    cr_assert(r->type == REDIS_REPLY_STRING,
              "INFO %s: unexpected reply type %d", section, r->type);
    size_t nl = strlen(name);
    long long v = -1;
    const char *p = r->str;
    while (p && *p) {
        if (strncmp(p, name, nl) == 0 && p[nl] == ':') {
            v = strtoll(p + nl + 1, NULL, 10);
            break;
        }
        p = strchr(p, '\n');
        if (p) p++;
    }
    freeReplyObject(r);
    return v;
}

/* ---- external programs ------------------------------------------------- */

int sc_run(const char *const *argv, const void *in, size_t inlen, sc_buf *out, int timeout_ms)
{
    int inpipe[2], outpipe[2];
    if (pipe2(inpipe, O_CLOEXEC) != 0) return -1;
    if (pipe2(outpipe, O_CLOEXEC) != 0) {
        close(inpipe[0]);
        close(inpipe[1]);
        return -1;
    }
    signal(SIGPIPE, SIG_IGN);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        child_setup(parent);
        dup2(inpipe[0], 0);
        dup2(outpipe[1], 1);
        dup2(outpipe[1], 2);
        close_fds_from(3);
        execvp(argv[0], (char *const *)argv);
        static const char msg[] = "sc_run: exec failed\n";
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void)w;
        _exit(127);
    }
    close(inpipe[0]);
    close(outpipe[1]);
    int wfd = inpipe[1], rfd = outpipe[0];
    fcntl(wfd, F_SETFL, O_NONBLOCK);
    if (!in || inlen == 0) { close(wfd); wfd = -1; }
    size_t written = 0;
    long long deadline = sc_now_ms() + sc_scaled_ms(timeout_ms);
    bool timed_out = false;
    while (rfd >= 0) {
        struct pollfd p[2];
        int np = 0;
        p[np++] = (struct pollfd){ .fd = rfd, .events = POLLIN };
        if (wfd >= 0) p[np++] = (struct pollfd){ .fd = wfd, .events = POLLOUT };
        long long left = deadline - sc_now_ms();
        if (left <= 0) { timed_out = true; break; }
        int r = poll(p, (nfds_t)np, (int)left);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) { timed_out = r == 0; break; }
        if (p[0].revents) {
            char buf[65536];
            ssize_t n = read(rfd, buf, sizeof buf);
            if (n > 0) {
                if (out) sc_buf_append(out, buf, (size_t)n);
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                close(rfd);
                rfd = -1;
            }
        }
        if (wfd >= 0 && np > 1 && p[1].revents) {
            ssize_t n = write(wfd, (const char *)in + written, inlen - written);
            if (n > 0) written += (size_t)n;
            if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == inlen) {
                close(wfd);
                wfd = -1;
            }
        }
    }
    if (wfd >= 0) close(wfd);
    if (rfd >= 0) close(rfd);
    int status = 0;
    if (timed_out || !wait_pid_bounded(pid, &status, timed_out ? 0 : sc_scaled_ms(timeout_ms))) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        cr_log_error("%s timed out after %d ms", argv[0], sc_scaled_ms(timeout_ms));
        return -1;
    }
    if (out && !out->data) sc_buf_append(out, "", 0);
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

long sc_raise_nofile(long want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
    rlim_t target = (rlim_t)want;
    if (rl.rlim_max != RLIM_INFINITY && target > rl.rlim_max) target = rl.rlim_max;
    if (rl.rlim_cur < target) {
        rl.rlim_cur = target;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    return (long)rl.rlim_cur;
}
