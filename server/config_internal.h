/*
 * config_internal.h - the narrow interface between the directive table
 * (config.c), the redis.conf / command-line loader (config_load.c), the
 * CONFIG command (config_cmd.c) and the rewrite file merge
 * (config_rewrite.c). Not for other modules: they read settings through
 * config.h.
 */
#ifndef CONFIG_INTERNAL_H
#define CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "serial.h"

/* One CONFIG GET result: both strings are mem_alloc'd copies. */
typedef struct {
    char *name;
    char *value;
} config_pair;

/* CONFIG GET: every directive (or alias) matching one of the n patterns,
 * deduplicated, in table order. A pattern without glob characters is an
 * exact, case-insensitive lookup and the name is echoed as given. Returns
 * the count; *out is mem_alloc'd (free with config_pairs_free). */
int config_get_matching(const char *const *pats, const size_t *plens, int n, config_pair **out);
void config_pairs_free(config_pair *pairs, int n);

/* CONFIG SET: n name/value pairs (NUL-terminated), all or nothing. On
 * failure err gets Redis's error text (starting with "ERR ") and false is
 * returned. local_client: the caller is a loopback client (for
 * enable-protected-configs local). */
bool config_set_pairs(char *const *names, char *const *values, int n, bool local_client, char *err,
                      size_t errlen);

/* CONFIG REWRITE: merge the current settings into the config file at path
 * and replace it atomically (config_rewrite.c). Returns 0, or -1 with errno
 * set. One rewrite runs at a time. */
int config_rewrite_file(const char *path);

/* What config_rewrite.c asks of the table (config.c). */
typedef struct {
    char *line;  /* "name value...", mem_alloc'd */
    bool force;  /* write it even where the file has no line for it yet */
} config_line;

int config_directive_count(void);
/* Table index of a directive by name or alias (any case); -1 if unknown. */
int config_directive_index(const char *name);
/* Directives a config file may hold that are not in the table ("include"). */
bool config_is_file_only_directive(const char *name);
/* The config-file lines for directive i with its current value (0 lines:
 * write none and drop the old ones). Free with config_lines_free. */
int config_directive_lines(int i, config_line **out);
void config_lines_free(config_line *lines, int n);
/* Redis's config-line splitting (quotes, escapes); false on unbalanced
 * quotes. Free with config_args_free. (config_load.c) */
bool config_split_line(const char *line, char ***argv, int *argc);

/* What config_load.c asks of the table (config.c). */
bool config_defaults_done(void); /* config_init_defaults has run */
/* The table lock (a leaf lock): held around a whole load. */
void config_table_lock(void);
void config_table_unlock(void);
/* Remember the config file's absolute path (mem_alloc'd; taken over).
 * Caller holds the table lock. */
void config_set_file_path(char *path);
/* A string directive's current value (NULL when never set). Caller holds
 * the table lock; valid until it is released. */
const char *config_string_locked(const char *name);
/* Set one directive from a config-file line already split, argv[0] the
 * lowercased name: 1 when set, 0 when argv[0] is not in the table, -1 when
 * refused (*err says why, unless it stays NULL). Caller holds the table
 * lock. */
int config_load_directive(char **argv, int argc, const char **err);

/* Small helpers shared by the config files (config.c). */
/* Append s quoted as Redis's sdscatrepr writes it ("a\"b\x01"). */
void config_sb_repr(sbuf *b, const char *s);
/* mem_alloc'd argument vectors: append s (taken over); free all. */
void config_args_push(char ***argv, int *argc, char *s);
void config_args_free(char **argv, int argc);

#endif
