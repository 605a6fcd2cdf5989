/*
 * lock_scripts.h - the table of Lua scripts slotcache recognises (by the
 * SHA1 of their exact bytes) and runs natively: the lock scripts of popular
 * client libraries. The table is data (lock_scripts.c); the native
 * implementations are in lock_scripts_impl.c and use the redis.call
 * emulation of script.h. Adding a script = one table row + one function.
 */
#ifndef LOCK_SCRIPTS_H
#define LOCK_SCRIPTS_H

#include "script.h"

#include <stddef.h>

/* Upper bound on the table's size (script.c keeps one "loaded" bit each). */
#define LOCK_SCRIPTS_MAX 64

/* Runs the script: replies exactly once (its return value converted as
 * Redis converts Lua values, or the error a redis.call raised). */
typedef void lock_script_fn(script_run *r);

typedef struct {
    const char *sha1;        /* 40 lower-case hex digits of the exact body */
    const char *library;     /* library and versions that send it */
    const char *name;        /* the library's name for it: "release", "extend"... */
    const char *summary;     /* what it does, in terms of native commands */
    lock_script_fn *run;
    bool upper_calls;        /* the body calls redis.call("DEL", ...) in upper
                                case (its DEL propagates as spelled) */
} lock_script;

/* The table (lock_scripts.c), lock_scripts_count entries, in a fixed
 * order (SCRIPT HELP lists them in it). */
extern const lock_script lock_scripts[];
extern const size_t lock_scripts_count;

/* Native implementations (lock_scripts_impl.c). */
lock_script_fn lock_redispy_release;
lock_script_fn lock_redispy_extend;
lock_script_fn lock_redispy_reacquire;
lock_script_fn lock_redsync_delete;
lock_script_fn lock_redsync_touch;
lock_script_fn lock_redsync_touch_setnx;
lock_script_fn lock_redsync_delete_old;
lock_script_fn lock_redlock4_lock;
lock_script_fn lock_redlock4_unlock;
lock_script_fn lock_redlock4_extend;
lock_script_fn lock_redlock5_acquire;
lock_script_fn lock_redlock5_extend;
lock_script_fn lock_redlock5_release;
lock_script_fn lock_redlock3_lock;
lock_script_fn lock_redlock3_unlock;
lock_script_fn lock_redlock3_extend;
lock_script_fn lock_redisio_unlock;

#endif
