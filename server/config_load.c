/*
 * config_load.c - startup configuration: the redis.conf file (with
 * "include", globs allowed in its last path component), "-" for stdin and
 * the "--name value" command-line options, all read by config_load_args;
 * Redis's config-line splitting (quotes, escapes); and the FATAL CONFIG FILE
 * ERROR report when a line is refused.
 *
 * Design: as redis-server does, the command-line options are turned into
 * config-file lines and appended to the file's text, so one parser reads
 * everything and the last setting wins. Each line is set through the
 * directive table (config.c, via config_internal.h) under its lock; the
 * first refused line stops the load.
 */
#include "config.h"
#include "config_internal.h"

#include "glob.h"
#include "log.h"
#include "mem.h"
#include "process.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ------------------------------------------------------------------------
 * Config-line splitting.
 * ---------------------------------------------------------------------- */

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Split a line into arguments the way Redis's sdssplitargs does: spaces
 * separate, "double quotes" take \n \r \t \b \a \xHH escapes, 'single
 * quotes' take \' only, a closing quote must end the argument. Returns argc
 * (argv may be NULL when 0) or -1 on unbalanced quotes. */
static int split_args(const char *line, char ***argvp) {
    const char *p = line;
    char **argv = NULL;
    int argc = 0;
    *argvp = NULL;
    for (;;) {
        while (*p && isspace((unsigned char)*p)) p++;
        if (!*p) break;
        sbuf cur = {0};
        bool inq = false, insq = false, done = false;
        while (!done) {
            if (inq) {
                if (p[0] == '\\' && p[1] == 'x' && hexval(p[2]) >= 0 && hexval(p[3]) >= 0) {
                    sbuf_addc(&cur, (char)(hexval(p[2]) * 16 + hexval(p[3])));
                    p += 3;
                } else if (p[0] == '\\' && p[1]) {
                    char c;
                    p++;
                    switch (*p) {
                    case 'n': c = '\n'; break;
                    case 'r': c = '\r'; break;
                    case 't': c = '\t'; break;
                    case 'b': c = '\b'; break;
                    case 'a': c = '\a'; break;
                    default: c = *p; break;
                    }
                    sbuf_addc(&cur, c);
                } else if (*p == '"') {
                    if (p[1] && !isspace((unsigned char)p[1])) goto err;
                    done = true;
                } else if (!*p) {
                    goto err;
                } else {
                    sbuf_addc(&cur, *p);
                }
            } else if (insq) {
                if (p[0] == '\\' && p[1] == '\'') {
                    p++;
                    sbuf_addc(&cur, '\'');
                } else if (*p == '\'') {
                    if (p[1] && !isspace((unsigned char)p[1])) goto err;
                    done = true;
                } else if (!*p) {
                    goto err;
                } else {
                    sbuf_addc(&cur, *p);
                }
            } else {
                switch (*p) {
                case ' ': case '\n': case '\r': case '\t': case '\0': done = true; break;
                case '"': inq = true; break;
                case '\'': insq = true; break;
                default: sbuf_addc(&cur, *p); break;
                }
            }
            if (*p) p++;
        }
        config_args_push(&argv, &argc, sbuf_take(&cur));
        continue;
    err:
        sbuf_free(&cur);
        config_args_free(argv, argc);
        return -1;
    }
    *argvp = argv;
    return argc;
}

bool config_split_line(const char *line, char ***argv, int *argc) {
    *argc = split_args(line, argv);
    if (*argc < 0) {
        *argc = 0;
        return false;
    }
    return true;
}

/* ------------------------------------------------------------------------
 * Reading config files and text.
 * ---------------------------------------------------------------------- */

/* Directives Redis 7.0 still accepts in a config file and ignores. */
static const struct {
    const char *name;
    int argc_min, argc_max;
} deprecated[] = {{"list-max-ziplist-entries", 2, 2}, {"list-max-ziplist-value", 2, 2}, {"lua-replicate-commands", 2, 2}};

static void fatal_config_error(int linenum, const char *line, const char *err) {
    fprintf(stderr, "\n*** FATAL CONFIG FILE ERROR (Redis %s) ***\n", REDIS_COMPAT_VERSION);
    if (line) {
        fprintf(stderr, "Reading the configuration file, at line %d\n", linenum);
        fprintf(stderr, ">>> '%s'\n", line);
    }
    fprintf(stderr, "%s\n", err);
}

static int load_file_into(const char *path, sbuf *out);
static int load_string(const char *text, int depth);

/* One trimmed, non-comment line. Returns 0, or -1 after printing why. */
static int load_line(char *line, int linenum, int depth) {
    char **argv;
    int argc = split_args(line, &argv);
    if (argc < 0) {
        fatal_config_error(linenum, line, "Unbalanced quotes in configuration line");
        return -1;
    }
    if (argc == 0) return 0;
    for (char *p = argv[0]; *p; p++) *p = (char)tolower((unsigned char)*p);

    const char *err = NULL;
    int rc = config_load_directive(argv, argc, &err);
    if (rc > 0) {
        rc = 0;
    } else if (rc == 0) {
        bool skip = false;
        for (size_t i = 0; i < sizeof deprecated / sizeof deprecated[0]; i++)
            if (!strcasecmp(argv[0], deprecated[i].name) && argc >= deprecated[i].argc_min &&
                argc <= deprecated[i].argc_max)
                skip = true;
        if (!skip && !strcmp(argv[0], "include") && argc == 2) {
            if (depth >= 16) {
                err = "Too many nested include directives";
                rc = -1;
            } else {
                sbuf text = {0};
                rc = load_file_into(argv[1], &text);
                config_args_free(argv, argc);
                if (rc == 0) rc = load_string(sbuf_str(&text), depth + 1);
                sbuf_free(&text);
                return rc;
            }
        } else if (!skip) {
            err = "Bad directive or wrong number of arguments";
            rc = -1;
        }
    }
    if (rc < 0 && err) fatal_config_error(linenum, line, err);
    config_args_free(argv, argc);
    return rc;
}

/* Parse a whole configuration text (lines split on '\n', trimmed, '#'
 * comments), as Redis's loadServerConfigFromString. */
static int load_string(const char *text, int depth) {
    int linenum = 0;
    const char *p = text;
    while (p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        linenum++;
        while (len && strchr(" \t\r\n", p[len - 1])) len--;
        while (len && strchr(" \t\r\n", *p)) p++, len--;
        if (len && *p != '#') {
            char *line = mem_strndup(p, len);
            int rc = load_line(line, linenum, depth);
            mem_free(line);
            if (rc < 0) return -1;
        }
        p = nl ? nl + 1 : NULL;
    }
    return 0;
}

static int read_fp(FILE *fp, sbuf *out) {
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, fp)) > 0) sbuf_add(out, buf, n);
    return ferror(fp) ? -1 : 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Append a file's text, or that of every file a pattern in the last path
 * component matches, in name order ("include /etc/slotcache/conf.d/\*.conf";
 * no match is fine). <glob.h> is shadowed by proto/glob.h, hence by hand. */
static int load_file_into(const char *path, sbuf *out) {
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (strpbrk(base, "*?[")) {
        char *dir = slash ? mem_strndup(path, (size_t)(slash - path) + (slash == path)) : mem_strdup(".");
        DIR *dh = opendir(dir);
        char **names = NULL;
        int n = 0, rc = 0;
        struct dirent *de;
        while (dh && (de = readdir(dh)) != NULL) {
            if (de->d_name[0] == '.' && base[0] != '.') continue;
            if (glob_match(base, strlen(base), de->d_name, strlen(de->d_name), false))
                config_args_push(&names, &n, mem_strdup(de->d_name));
        }
        if (dh) closedir(dh);
        if (n) qsort(names, (size_t)n, sizeof *names, cmp_str);
        for (int i = 0; i < n && rc == 0; i++) {
            sbuf full = {0};
            sbuf_adds(&full, slash ? path : "");
            if (slash) full.len = (size_t)(slash - path) + 1, full.p[full.len] = '\0';
            sbuf_adds(&full, names[i]);
            rc = load_file_into(sbuf_str(&full), out);
            sbuf_free(&full);
        }
        config_args_free(names, n);
        mem_free(dir);
        return rc;
    }
    FILE *fp = fopen(path, "r");
    if (!fp) {
        log_warning("Fatal error, can't open config file '%s': %s", path, strerror(errno));
        return -1;
    }
    int rc = read_fp(fp, out);
    fclose(fp);
    if (rc < 0) log_warning("Fatal error, can't read config file '%s': %s", path, strerror(errno));
    return rc;
}

/* ------------------------------------------------------------------------
 * The command line.
 * ---------------------------------------------------------------------- */

static char *absolute_path(const char *path) {
    char buf[PATH_MAX];
    if (realpath(path, buf)) return mem_strdup(buf);
    if (path[0] == '/' || !getcwd(buf, sizeof buf)) return mem_strdup(path);
    sbuf b = {0};
    sbuf_adds(&b, buf);
    sbuf_addc(&b, '/');
    sbuf_adds(&b, path);
    return sbuf_take(&b);
}

int config_load_args(int argc, char **argv) {
    if (!config_defaults_done()) config_init_defaults();
    const char *file = NULL;
    bool from_stdin = false;
    int j = 1;
    if (argc >= 2 && argv[1][0] != '-') {
        file = argv[1];
        j = 2;
    }
    /* "--name v1 v2 --other v" becomes "name "v1" "v2"\nother "v"" and is
     * read after the file, as redis-server does. */
    sbuf opts = {0};
    bool handled_last = true;
    for (; j < argc; j++) {
        const char *a = argv[j];
        if (a[0] == '-' && a[1] == '\0' && (j == 1 || j == argc - 1)) {
            from_stdin = true;
        } else if (handled_last && a[0] == '-' && a[1] == '-') {
            if (opts.len) sbuf_addc(&opts, '\n');
            sbuf_adds(&opts, a + 2);
            sbuf_addc(&opts, ' ');
            char **tmp;
            int n = split_args(a, &tmp);
            if (n >= 0) config_args_free(tmp, n);
            if (n == 1) {
                handled_last = false;
                /* "--save" with no value (last, or before another option) means "". */
                if (!strcasecmp(a, "--save") && (j == argc - 1 || (argv[j + 1][0] == '-' && argv[j + 1][1] == '-'))) {
                    sbuf_adds(&opts, "\"\"");
                    handled_last = j != argc - 1;
                }
            } else {
                handled_last = true;
            }
        } else {
            config_sb_repr(&opts, a);
            sbuf_addc(&opts, ' ');
            handled_last = true;
        }
    }

    sbuf text = {0};
    int rc = 0;
    config_table_lock();
    if (file) {
        config_set_file_path(absolute_path(file));
        rc = load_file_into(file, &text);
    }
    if (rc == 0 && from_stdin) {
        log_warning("Reading config from stdin");
        rc = read_fp(stdin, &text);
    }
    if (rc == 0) {
        sbuf_addc(&text, '\n');
        sbuf_adds(&text, sbuf_str(&opts));
        rc = load_string(sbuf_str(&text), 0);
    }
    if (rc == 0) {
        /* Only a check, as Redis: main() switches the log over. */
        const char *logfile = config_string_locked("logfile");
        FILE *fp = logfile && logfile[0] ? fopen(logfile, "a") : NULL;
        if (fp) fclose(fp);
        if (logfile && logfile[0] && !fp) {
            char msg[300];
            snprintf(msg, sizeof msg, "Can't open the log file: %s", strerror(errno));
            fatal_config_error(0, NULL, msg);
            rc = -1;
        }
    }
    config_table_unlock();
    sbuf_free(&text);
    sbuf_free(&opts);
    return rc;
}
