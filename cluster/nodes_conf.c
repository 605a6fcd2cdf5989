/*
 * nodes_conf.c - the CLUSTER NODES text and nodes.conf: one line per node
 * (Redis 7.0's clusterGenNodeDescription, byte for byte; shared by CLUSTER
 * NODES, CLUSTER REPLICAS and the file), the file's parser, its atomic save
 * and its flock.
 *
 * Design choices:
 * - A save that must be durable (a new epoch, a vote: CLUSTER_TODO_FSYNC_
 *   CONFIG) is written whole to <file>.tmp-<pid>-<ms>, fsynced, renamed
 *   over the old one, and the directory fsynced (Valkey's way), so the
 *   file is the old one or the new one whatever happens. The lock travels
 *   with the file: the temporary file is flocked before the rename, so at
 *   every moment the inode that the path names is locked by this process,
 *   and a second process started on the same file is refused with Redis's
 *   message.
 * - Every other save (CLUSTER SETSLOT, ADDSLOTS, gossip learning a new
 *   owner) rewrites the locked file in place, as Redis 7.0 does every
 *   save: a rename frees the old file's blocks, which on a file system
 *   mounted with `discard` is a synchronous discard (a reshard's SETSLOTs
 *   took 2-3x redis-server's time on such a disk). A crashed process
 *   cannot tear the file (the kernel holds the whole write); a power loss
 *   can, as for Redis, and such a save was not durable anyway.
 * - The parser accepts what Redis 7.0's clusterLoadConfig accepts, with
 *   numbers checked strictly; any error makes the whole file unusable
 *   (the caller exits: never a half-loaded configuration).
 */
#include "cluster_state.h"

#include "config.h"
#include "db.h"
#include "log.h"
#include "mem.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- CLUSTER NODES lines ---- */

/* redisNodeFlagsTable's order; MEET and MIGRATE_TO are never printed. */
static const struct {
    int flag;
    const char *name;
} flag_names[] = {
    {CLUSTER_NODE_MYSELF, "myself"},   {CLUSTER_NODE_MASTER, "master"},         {CLUSTER_NODE_SLAVE, "slave"},
    {CLUSTER_NODE_PFAIL, "fail?"},     {CLUSTER_NODE_FAIL, "fail"},             {CLUSTER_NODE_HANDSHAKE, "handshake"},
    {CLUSTER_NODE_NOADDR, "noaddr"},   {CLUSTER_NODE_NOFAILOVER, "nofailover"},
};

static void add_run(sbuf *out, int start, int end) {
    if (start == end) sbuf_addf(out, " %d", start);
    else sbuf_addf(out, " %d-%d", start, end);
}

/* " a-b c ..." for the slots the owner table gives n. */
static void slot_runs(sbuf *out, const cluster_node *n) {
    int start = -1;
    for (int j = 0; j <= CLUSTER_SLOTS; j++) {
        bool mine = j < CLUSTER_SLOTS && cluster->slots[j] == n;
        if (mine && start < 0) start = j;
        if (!mine && start >= 0) {
            add_run(out, start, j - 1);
            start = -1;
        }
    }
}

/* The line of n; `slots` is its precomputed slot text (NULL: compute). */
static void describe(sbuf *out, const cluster_node *n, const sbuf *slots) {
    sbuf_add(out, n->name, CLUSTER_NAMELEN);
    if (n->hostname[0]) sbuf_addf(out, " %s:%d@%d,%s ", n->ip, n->port, n->cport, n->hostname);
    else sbuf_addf(out, " %s:%d@%d ", n->ip, n->port, n->cport);
    bool any = false;
    for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++) {
        if (!(n->flags & flag_names[i].flag)) continue;
        if (any) sbuf_add(out, ",", 1);
        sbuf_add(out, flag_names[i].name, strlen(flag_names[i].name));
        any = true;
    }
    if (!any) sbuf_add(out, "noflags", 7);
    sbuf_add(out, " ", 1);
    if (n->slaveof) sbuf_add(out, n->slaveof->name, CLUSTER_NAMELEN);
    else sbuf_add(out, "-", 1);
    uint64_t epoch = (n->flags & CLUSTER_NODE_SLAVE) && n->slaveof ? n->slaveof->config_epoch : n->config_epoch;
    sbuf_addf(out, " %lld %lld %llu %s", n->ping_sent, n->pong_received, (unsigned long long)epoch,
              n->link || (n->flags & CLUSTER_NODE_MYSELF) ? "connected" : "disconnected");
    if (slots) {
        if (slots->len) sbuf_add(out, slots->p, slots->len);
    } else if (n->numslots) {
        slot_runs(out, n);
    }
    if (n->flags & CLUSTER_NODE_MYSELF) {
        for (int j = 0; j < CLUSTER_SLOTS; j++) {
            if (cluster->migrating_slots_to[j])
                sbuf_addf(out, " [%d->-%.40s]", j, cluster->migrating_slots_to[j]->name);
            else if (cluster->importing_slots_from[j])
                sbuf_addf(out, " [%d-<-%.40s]", j, cluster->importing_slots_from[j]->name);
        }
    }
}

void cluster_node_description(sbuf *out, const cluster_node *n) {
    cluster_assert_locked();
    describe(out, n, NULL);
}

typedef struct {
    const cluster_node *node;
    int idx;
} node_pos;

static int node_pos_cmp(const void *a, const void *b) {
    const cluster_node *x = ((const node_pos *)a)->node, *y = ((const node_pos *)b)->node;
    return x < y ? -1 : x > y;
}

void cluster_nodes_description(sbuf *out, int filter) {
    cluster_assert_locked();
    int nn = cluster->nnodes;
    /* Every node's slot text in one pass over the owner table
     * (clusterGenNodesSlotsInfo), the owner found by binary search. */
    sbuf *slots = mem_calloc((size_t)nn + 1, sizeof *slots);
    node_pos *pos = mem_alloc(((size_t)nn + 1) * sizeof *pos);
    for (int i = 0; i < nn; i++) pos[i] = (node_pos){cluster->nodes[i], i};
    qsort(pos, (size_t)nn, sizeof *pos, node_pos_cmp);
    int start = 0;
    for (int j = 1; j <= CLUSTER_SLOTS; j++) {
        if (j < CLUSTER_SLOTS && cluster->slots[j] == cluster->slots[start]) continue;
        if (cluster->slots[start]) {
            node_pos key = {cluster->slots[start], 0};
            node_pos *p = bsearch(&key, pos, (size_t)nn, sizeof *pos, node_pos_cmp);
            if (p) add_run(&slots[p->idx], start, j - 1);
        }
        start = j;
    }
    for (int i = 0; i < nn; i++) {
        const cluster_node *n = cluster->nodes[i];
        if (n->flags & filter) continue;
        describe(out, n, &slots[i]);
        sbuf_add(out, "\n", 1);
    }
    for (int i = 0; i < nn; i++) sbuf_free(&slots[i]);
    mem_free(slots);
    mem_free(pos);
}

void cluster_config_text(sbuf *out) {
    cluster_nodes_description(out, CLUSTER_NODE_HANDSHAKE);
    sbuf_addf(out, "vars currentEpoch %llu lastVoteEpoch %llu\n", (unsigned long long)cluster->current_epoch,
              (unsigned long long)cluster->last_vote_epoch);
}

/* ---- parsing ---- */

#define PARSE_ERR(...) (snprintf(err, errlen, __VA_ARGS__), -1)

/* A non-negative decimal that fits in an unsigned long long. */
static bool parse_u64(const char *s, size_t len, unsigned long long *out) {
    if (len == 0 || len > 20) return false;
    unsigned long long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        unsigned long long d = (unsigned long long)(s[i] - '0');
        if (v > (ULLONG_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static bool parse_int_range(const char *s, size_t len, long long max, int *out) {
    unsigned long long v;
    if (!parse_u64(s, len, &v) || v > (unsigned long long)max) return false;
    *out = (int)v;
    return true;
}

static cluster_node *lookup_or_create(const char *name) {
    cluster_node *n = cluster_lookup_node(name, CLUSTER_NAMELEN);
    if (!n) {
        n = cluster_node_create(name, 0);
        cluster_node_add(n);
    }
    return n;
}

/* Split a line on spaces and tabs into argv (pointers into line, which
 * is modified). Returns argc. */
static int split_line(char *line, char **argv, int max) {
    int argc = 0;
    char *p = line;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == '\r') p++;
        if (!*p) break;
        if (argc == max) return -1;
        argv[argc++] = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\r') p++;
        if (*p) *p++ = '\0';
    }
    return argc;
}

static int parse_flags(cluster_node *n, char *s, char *err, size_t errlen) {
    for (char *tok = s, *next; tok; tok = next) {
        next = strchr(tok, ',');
        if (next) *next++ = '\0';
        if (!strcasecmp(tok, "myself")) {
            if (cluster->myself) return PARSE_ERR("two nodes flagged myself");
            cluster->myself = n;
            n->flags |= CLUSTER_NODE_MYSELF;
        } else if (!strcasecmp(tok, "master")) n->flags |= CLUSTER_NODE_MASTER;
        else if (!strcasecmp(tok, "slave")) n->flags |= CLUSTER_NODE_SLAVE;
        else if (!strcasecmp(tok, "fail?")) n->flags |= CLUSTER_NODE_PFAIL;
        else if (!strcasecmp(tok, "fail")) {
            n->flags |= CLUSTER_NODE_FAIL;
            n->fail_time = mstime();
        } else if (!strcasecmp(tok, "handshake")) n->flags |= CLUSTER_NODE_HANDSHAKE;
        else if (!strcasecmp(tok, "noaddr")) n->flags |= CLUSTER_NODE_NOADDR;
        else if (!strcasecmp(tok, "nofailover")) n->flags |= CLUSTER_NODE_NOFAILOVER;
        else if (strcasecmp(tok, "noflags")) return PARSE_ERR("unknown flag '%s'", tok);
    }
    return 0;
}

/* "ip:port[@cport][,hostname]" */
static int parse_addr(cluster_node *n, char *s, char *err, size_t errlen) {
    char *host = strchr(s, ',');
    if (host) *host++ = '\0';
    cluster_node_set_hostname(n, host, host ? strlen(host) : 0);
    char *colon = strrchr(s, ':');
    if (!colon) return PARSE_ERR("address '%s' has no port", s);
    *colon = '\0';
    if (strlen(s) >= sizeof n->ip) return PARSE_ERR("address '%s' too long", s);
    memcpy(n->ip, s, strlen(s) + 1);
    char *port = colon + 1, *bus = strchr(port, '@');
    if (bus) *bus++ = '\0';
    if (!parse_int_range(port, strlen(port), 65535, &n->port)) return PARSE_ERR("bad port '%s'", port);
    if (!bus) n->cport = n->port + CLUSTER_PORT_INCR;
    else if (!parse_int_range(bus, strlen(bus), 65535, &n->cport)) return PARSE_ERR("bad bus port '%s'", bus);
    return 0;
}

/* "[slot->-id]" or "[slot-<-id]" (myself's open slots) */
static int parse_open_slot(char *s, char *err, size_t errlen) {
    char *dash = strchr(s, '-');
    if (!dash || (dash[1] != '>' && dash[1] != '<') || dash[2] != '-')
        return PARSE_ERR("bad open slot '%s'", s);
    char dir = dash[1];
    int slot;
    if (!parse_int_range(s + 1, (size_t)(dash - s - 1), CLUSTER_SLOTS - 1, &slot))
        return PARSE_ERR("bad open slot '%s'", s);
    char *id = dash + 3, *close = strchr(id, ']');
    if (!close || close[1] || !cluster_verify_node_id(id, (size_t)(close - id)))
        return PARSE_ERR("bad open slot '%s'", s);
    cluster_node *peer = lookup_or_create(id);
    if (dir == '>') cluster->migrating_slots_to[slot] = peer;
    else cluster->importing_slots_from[slot] = peer;
    return 0;
}

/* "N" or "A-B" */
static int parse_slot_range(cluster_node *n, char *s, char *err, size_t errlen) {
    char *dash = strchr(s, '-');
    int start, stop;
    size_t first = dash ? (size_t)(dash - s) : strlen(s);
    if (!parse_int_range(s, first, CLUSTER_SLOTS - 1, &start)) return PARSE_ERR("bad slot '%s'", s);
    if (!dash) stop = start;
    else if (!parse_int_range(dash + 1, strlen(dash + 1), CLUSTER_SLOTS - 1, &stop))
        return PARSE_ERR("bad slot range '%s'", s);
    while (start <= stop) cluster_add_slot(n, start++);
    return 0;
}

static int parse_vars(char **argv, int argc, char *err, size_t errlen) {
    if (argc % 2 == 0) return PARSE_ERR("vars line with an odd number of words");
    for (int j = 1; j < argc; j += 2) {
        unsigned long long v;
        bool cur = !strcasecmp(argv[j], "currentEpoch"), vote = !strcasecmp(argv[j], "lastVoteEpoch");
        if (!cur && !vote) {
            log_warning("Skipping unknown cluster config variable '%s'", argv[j]);
            continue;
        }
        if (!parse_u64(argv[j + 1], strlen(argv[j + 1]), &v)) return PARSE_ERR("bad %s '%s'", argv[j], argv[j + 1]);
        if (cur) cluster->current_epoch = v;
        else cluster->last_vote_epoch = v;
    }
    return 0;
}

static int parse_node_line(char **argv, int argc, char *err, size_t errlen) {
    if (argc < 8) return PARSE_ERR("%d fields where a node line has at least 8", argc);
    if (!cluster_verify_node_id(argv[0], strlen(argv[0]))) return PARSE_ERR("bad node id '%s'", argv[0]);
    cluster_node *n = lookup_or_create(argv[0]);
    if (parse_addr(n, argv[1], err, errlen) < 0) return -1;
    if (parse_flags(n, argv[2], err, errlen) < 0) return -1;
    if (argv[3][0] != '-') {
        if (!cluster_verify_node_id(argv[3], strlen(argv[3]))) return PARSE_ERR("bad master id '%s'", argv[3]);
        cluster_node *master = lookup_or_create(argv[3]);
        n->slaveof = master;
        cluster_node_add_replica(master, n);
    }
    unsigned long long ping, pong, epoch;
    if (!parse_u64(argv[4], strlen(argv[4]), &ping) || !parse_u64(argv[5], strlen(argv[5]), &pong))
        return PARSE_ERR("bad ping/pong times '%s %s'", argv[4], argv[5]);
    if (ping) n->ping_sent = mstime();
    if (pong) n->pong_received = mstime();
    if (!parse_u64(argv[6], strlen(argv[6]), &epoch)) return PARSE_ERR("bad config epoch '%s'", argv[6]);
    /* A replica's line shows its master's epoch: not its own. */
    n->config_epoch = (n->flags & CLUSTER_NODE_SLAVE) && n->slaveof ? 0 : epoch;
    for (int j = 8; j < argc; j++) {
        int r = argv[j][0] == '[' ? parse_open_slot(argv[j], err, errlen) : parse_slot_range(n, argv[j], err, errlen);
        if (r < 0) return -1;
    }
    return 0;
}

int cluster_config_parse(const char *text, size_t len, char *err, size_t errlen) {
    cluster_assert_locked();
    if (len == 0) return 1;
    if (memchr(text, '\0', len)) {
        snprintf(err, errlen, "NUL byte in the file");
        return -1;
    }
    char *copy = mem_strndup(text, len);
    enum { MAX_WORDS = 8 + CLUSTER_SLOTS * 2 };
    char **argv = mem_alloc(MAX_WORDS * sizeof *argv);
    int rc = 0, lineno = 0;
    char detail[256];
    for (char *line = copy, *next; line && rc == 0; line = next) {
        lineno++;
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        int argc = split_line(line, argv, MAX_WORDS);
        if (argc < 0) {
            snprintf(detail, sizeof detail, "too many fields");
            rc = -1;
        } else if (argc == 0) {
            continue; /* blank lines are ignored, as Redis does */
        } else if (!strcasecmp(argv[0], "vars")) {
            rc = parse_vars(argv, argc, detail, sizeof detail);
        } else {
            rc = parse_node_line(argv, argc, detail, sizeof detail);
        }
        if (rc < 0) snprintf(err, errlen, "line %d: %s", lineno, detail);
        if (!next) break;
    }
    if (rc == 0 && !cluster->myself) {
        snprintf(err, errlen, "no node flagged myself");
        rc = -1;
    }
    if (rc == 0) {
        uint64_t max = cluster_get_max_epoch();
        if (max > cluster->current_epoch) cluster->current_epoch = max;
    }
    mem_free(argv);
    mem_free(copy);
    return rc;
}

/* ---- the file ---- */

static char config_path[PATH_MAX];
static int lock_fd = -1;

const char *cluster_config_path(void) {
    if (!config_path[0]) cfg_get_string("cluster-config-file", config_path, sizeof config_path);
    return config_path;
}

/* The locked fd still names the file at path: a save in another process
 * may have renamed a new file over it (and dropped its lock on the old
 * inode) between our open and flock. */
static bool fd_is_path(int fd, const char *path) {
    struct stat a, b;
    if (fstat(fd, &a) < 0 || stat(path, &b) < 0) return false;
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static void log_in_use(const char *path) {
    log_warning("Sorry, the cluster configuration file %s is already used by a different Redis Cluster node. Please "
                "make sure that different nodes use different cluster configuration files.",
                path);
}

int cluster_config_lock(const char *path) {
    for (int attempt = 0;; attempt++) {
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
            log_warning("Can't open %s in order to acquire a lock: %s", path, strerror(errno));
            return -1;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
            if (errno == EWOULDBLOCK)
                log_in_use(path);
            else
                log_warning("Impossible to lock %s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        if (fd_is_path(fd, path)) {
            lock_fd = fd;
            return 0;
        }
        close(fd); /* replaced meanwhile: lock the new file */
        if (attempt == 10) {
            log_in_use(path);
            return -1;
        }
    }
}

static void corrupt(const char *path, const char *why) {
    log_warning("Unrecoverable error: corrupted cluster config file \"%s\": %s", path, why);
    exit(1);
}

int cluster_config_load(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return 1;
        log_warning("Loading the cluster node config from %s: %s", path, strerror(errno));
        exit(1);
    }
    struct stat sb;
    if (fstat(fd, &sb) < 0) {
        log_warning("Unable to obtain the cluster node config file stat %s: %s", path, strerror(errno));
        exit(1);
    }
    if (sb.st_size == 0) {
        close(fd);
        return 1;
    }
    size_t size = (size_t)sb.st_size, got = 0;
    char *text = mem_alloc(size + 1);
    while (got < size) {
        ssize_t r = read(fd, text + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            log_warning("Loading the cluster node config from %s: %s", path, r < 0 ? strerror(errno) : "short read");
            exit(1);
        }
        got += (size_t)r;
    }
    close(fd);
    char err[512];
    if (cluster_config_parse(text, size, err, sizeof err) != 0) corrupt(path, err);
    mem_free(text);
    log_notice("Node configuration loaded, I'm %.40s", cluster->myself->name);
    return 0;
}

static int write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* fsync the directory that holds path, so the rename is durable. */
static int fsync_dir_of(const char *path) {
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == path) snprintf(dir, sizeof dir, "/");
    else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int r = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return r;
}

int cluster_save_config(bool do_fsync) {
    cluster_assert_locked();
    cluster->todo &= ~CLUSTER_TODO_SAVE_CONFIG;
    if (do_fsync) cluster->todo &= ~CLUSTER_TODO_FSYNC_CONFIG;
    const char *path = cluster_config_path();
    sbuf text = {0};
    cluster_config_text(&text);
    if (!do_fsync && lock_fd >= 0) {
        /* In place, on the locked file (see the top of this file). */
        if (lseek(lock_fd, 0, SEEK_SET) == 0 && write_all(lock_fd, text.p, text.len) == 0 &&
            ftruncate(lock_fd, (off_t)text.len) == 0) {
            sbuf_free(&text);
            return 0;
        }
        log_warning("Could not rewrite %s in place (%s): writing a new file", path, strerror(errno));
    }
    char tmp[PATH_MAX + 64];
    snprintf(tmp, sizeof tmp, "%s.tmp-%d-%lld", path, (int)getpid(), mstime());
    int saved = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) goto fail;
    /* Locked before it takes the name (see the top of this file). */
    if (lock_fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) goto fail;
    if (write_all(fd, text.p, text.len) < 0) goto fail;
    if (do_fsync && fsync(fd) < 0) goto fail;
    if (rename(tmp, path) < 0) goto fail;
    if (do_fsync && fsync_dir_of(path) < 0) {
        saved = errno;
        log_warning("Could not fsync the directory of %s: %s", path, strerror(saved));
    }
    if (lock_fd >= 0) {
        close(lock_fd);
        lock_fd = fd;
    } else {
        close(fd);
    }
    sbuf_free(&text);
    return 0;
fail:
    saved = errno;
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    sbuf_free(&text);
    errno = saved;
    return -1;
}

void cluster_save_config_or_die(bool do_fsync) {
    if (cluster_save_config(do_fsync) < 0) {
        log_warning("Fatal: can't update cluster config file.");
        exit(1);
    }
}
