/*
 * main.c - process entry: configuration, daemonize/pidfile, worker start,
 * signal handling and clean shutdown. The main thread runs only a small loop
 * of its own for signals and the SHUTDOWN request; all client work happens on
 * the workers.
 */
#include "clients.h"
#include "cmdstats.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "info.h"
#include "ktable.h"
#include "latency.h"
#include "lazyfree.h"
#include "log.h"
#include "mem.h"
#include "cluster_api.h"
#include "persist.h"
#include "cluster_api.h"
#include "monotime.h"
#include "process.h"
#include "pubsub.h"
#include "slowlog.h"
#include "stats.h"
#include "types.h"
#include "worker.h"

#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <unistd.h>
#include <uv.h>

static uv_loop_t main_loop;
static uv_async_t shutdown_async;
static uv_signal_t sigterm_handle, sigint_handle;
static const char *shutdown_reason = "SHUTDOWN";

static void request_shutdown(void) { uv_async_send(&shutdown_async); }

static void on_shutdown(uv_async_t *h) {
    (void)h;
    uv_stop(&main_loop);
}

static void on_signal(uv_signal_t *h, int signum) {
    (void)h;
    shutdown_reason = signum == SIGINT ? "SIGINT" : "SIGTERM";
    log_warning("Received %s scheduling shutdown...", shutdown_reason);
    /* The final save (with save points set) runs here while the workers
     * still serve reads; if it fails the server keeps running, as Redis. */
    if (!persist_prepare_shutdown(false, false)) {
        log_warning("SIGTERM received but errors trying to shut down the server, check the logs for more "
                    "information");
        return;
    }
    uv_stop(&main_loop);
}

static void close_walk(uv_handle_t *h, void *arg) {
    (void)arg;
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

static void daemonize(void) {
    pid_t pid = fork();
    if (pid < 0) exit(1);
    if (pid > 0) exit(0);
    setsid();
    int fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        if (fd > STDERR_FILENO) close(fd);
    }
}

static void raise_fd_limit(void) {
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
    rlim_t want = (rlim_t)cfg_get(maxclients) + 32 + 64;
    if (lim.rlim_cur >= want) return;
    lim.rlim_cur = want < lim.rlim_max ? want : lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur < want)
        log_warning("You requested maxclients of %lld requiring at least %llu max file descriptors; the "
                    "limit is %llu.",
                    cfg_get(maxclients), (unsigned long long)want, (unsigned long long)lim.rlim_cur);
}

static int version_or_help(int argc, char **argv) {
    if (argc == 2 && (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--version"))) {
        printf("slotcache server v=%s (redis %s compatible) bits=64\n", SLOTCACHE_VERSION, REDIS_COMPAT_VERSION);
        return 1;
    }
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("Usage: slotcache-server [/path/to/redis.conf] [options] [-]\n"
               "       slotcache-server - (read config from stdin)\n"
               "       slotcache-server -v or --version\n"
               "       slotcache-server -h or --help\n\n"
               "Examples:\n"
               "       slotcache-server (run the server with default conf)\n"
               "       slotcache-server /etc/redis/6379.conf\n"
               "       slotcache-server --port 7777 --threads 4\n"
               "       slotcache-server /etc/myredis.conf --loglevel verbose --maxmemory 100mb\n");
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (version_or_help(argc, argv)) return 0;
    /* No glibc fastbins: freeing a million small entries at once (keys
     * expiring together, FLUSHALL) would otherwise leave them all for one
     * malloc_consolidate() pass in the next large allocation, stalling that
     * worker for 100+ ms; without fastbins frees coalesce as they happen.
     * The per-thread tcache still serves the hot small sizes. */
    mallopt(M_MXFAST, 0);
    mem_install_hooks();
    mem_thread_register();
    stats_thread_register();
    process_init(argv[0]);
    monotime_init();
    config_init_defaults();
    if (config_load_args(argc, argv) < 0) return 1;
    if (cfg_get(daemonize)) daemonize();
    char path[4096];
    if (cfg_get_string("logfile", path, sizeof path) > 0 && log_set_file(path) < 0) {
        fprintf(stderr, "Can't open the log file: %s\n", path);
        return 1;
    }
    char pidfile[4096];
    size_t pidlen = cfg_get_string("pidfile", pidfile, sizeof pidfile);
    if (pidlen == 0 && cfg_get(daemonize)) {
        snprintf(pidfile, sizeof pidfile, "/var/run/slotcache_%lld.pid", cfg_get(port));
        pidlen = strlen(pidfile);
    }
    if (pidlen > 0) {
        FILE *f = fopen(pidfile, "w");
        if (f) {
            fprintf(f, "%d\n", (int)getpid());
            fclose(f);
        }
    }
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();
    uint64_t seed;
    if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed) seed = (uint64_t)process_start_ms();
    key_hash_seed(seed);
    db_init((int)cfg_get(databases));
    t_hash_init();
    t_list_init();
    t_set_init();
    t_zset_init();
    t_stream_init();
    commands_init();
    cmdstats_init();
    slowlog_init();
    info_init();

    uv_loop_init(&main_loop);
    uv_async_init(&main_loop, &shutdown_async, on_shutdown);
    process_set_shutdown_handler(request_shutdown);
    uv_signal_init(&main_loop, &sigterm_handle);
    uv_signal_init(&main_loop, &sigint_handle);
    uv_signal_start(&sigterm_handle, on_signal, SIGTERM);
    uv_signal_start(&sigint_handle, on_signal, SIGINT);

    log_notice("slotcache %s (redis %s compatible) starting, pid=%d", SLOTCACHE_VERSION, REDIS_COMPAT_VERSION,
               (int)getpid());
    int nthreads = (int)cfg_get(threads);
    if (nthreads < 1) nthreads = 1;
    if (nthreads > WORKER_MAX) nthreads = WORKER_MAX;
    lazyfree_start();
    repl_init();
    cluster_init();
    persist_begin_loading();
    if (workers_start(nthreads) < 0) {
        if (pidlen > 0) unlink(pidfile);
        return 1;
    }
    cluster_start_bus(); /* posts to workers: after they started */
    log_notice("Server initialized: %d worker thread%s, port %lld", nthreads, nthreads > 1 ? "s" : "",
               cfg_get(port));
    /* Connections are accepted (and answered -LOADING) while the dataset
     * loads, as Redis does. A bad file stops the server: never serve a
     * partial dataset. */
    bool loaded = persist_load_at_startup();
    int status = 0;
    if (loaded) {
        cluster_check_loaded_data();
        log_notice("Ready to accept connections tcp");
        uv_run(&main_loop, UV_RUN_DEFAULT);
        log_warning("User requested shutdown (%s)...", shutdown_reason);
    } else {
        status = 1;
    }
    cluster_stop_bus(); /* posts to workers: before they stop */
    workers_stop();
    cluster_shutdown();
    repl_shutdown();
    persist_shutdown();
    lazyfree_stop();
    pubsub_shutdown();
    uv_walk(&main_loop, close_walk, NULL);
    /* Closing the signal handles (uv_close stops them at once) gave
     * SIGTERM / SIGINT their default action back: another one now would
     * kill the process before it finishes (and exits 0). Redis ignores a
     * second SIGTERM too. */
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    uv_run(&main_loop, UV_RUN_DEFAULT);
    uv_loop_close(&main_loop);
    db_shutdown();
    slowlog_free();
    cmdstats_free();
    latency_free();
    if (pidlen > 0) unlink(pidfile);
    if (status == 0) log_warning("slotcache is now ready to exit, bye bye...");
    return status;
}
