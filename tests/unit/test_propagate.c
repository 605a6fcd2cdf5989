/*
 * test_propagate.c - the funnel's stream side (propagate.c) on its own: a
 * recording feed receives what a command produces, in Redis 7.0's shape:
 * nothing for a command that changed nothing, its argv or its rewrite
 * last, MULTI ... EXEC around more than one op, nested calls (EXEC) in
 * one unit, deletions outside a command fed at once.
 * tests/integration/test_repl_stream.c compares whole streams with
 * redis-server's.
 */
#include "commands.h"
#include "propagate.h"

#include <criterion/criterion.h>
#include <string.h>

static char got[8192];
static size_t got_len;
static int units;

static int wakes;
static void count_wake(void) { wakes++; }

static long long record(const repl_cmd *cmds, int n) {
    units++;
    for (int i = 0; i < n; i++) {
        got_len += (size_t)snprintf(got + got_len, sizeof got - got_len, "[%d]", cmds[i].db);
        memcpy(got + got_len, cmds[i].resp, cmds[i].len);
        got_len += cmds[i].len;
        got[got_len] = '\0';
    }
    got_len += (size_t)snprintf(got + got_len, sizeof got - got_len, "|");
    return (long long)got_len;
}

static void setup(void) {
    got_len = 0;
    got[0] = '\0';
    units = 0;
    wakes = 0;
    propagate_wake(); /* a previous test's pending wake */
    wakes = 0;
    propagate_set_feed(record, count_wake);
    atomic_store(&propagate_on, true);
}

static command cmd_write = {.name = "set", .flags = CMD_WRITE};
static command cmd_exec = {.name = "exec", .flags = CMD_TX_CONTROL};
static command cmd_keys = {.name = "keys", .flags = CMD_ALL_SLOTS};

static client cl;
static arg_t av[4];

static void set_argv(int argc, const char *const *words) {
    for (int i = 0; i < argc; i++) av[i] = (arg_t){words[i], strlen(words[i])};
    cl.argv = av;
    cl.argc = argc;
}

/* One command: begin, body, end, flush. */
#define RUN(cmd, body)                                                                                               \
    do {                                                                                                             \
        propagate_mark m_;                                                                                           \
        propagate_call_begin(&m_, &(cmd));                                                                           \
        body;                                                                                                        \
        propagate_call_end(&cl, &(cmd), &m_);                                                                        \
        propagate_flush(((cmd).flags & CMD_ALL_SLOTS) != 0);                                                         \
    } while (0)

TestSuite(propagate, .init = setup);

Test(propagate, unchanged_command_propagates_nothing) {
    set_argv(3, (const char *[]){"SET", "k", "v"});
    RUN(cmd_write, (void)0);
    cr_assert_eq(units, 0);
}

Test(propagate, changed_command_propagates_its_argv) {
    cl.db = 2;
    set_argv(3, (const char *[]){"SET", "k", "v"});
    RUN(cmd_write, propagate_count_change());
    cr_assert_str_eq(got, "[2]*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n|");
}

Test(propagate, rewrite_replaces_argv_and_goes_last) {
    cl.db = 0;
    set_argv(3, (const char *[]){"GETDEL", "k", "x"});
    RUN(cmd_write, {
        propagate_rewrite_begin(2);
        propagate_arg_str("DEL");
        propagate_arg_str("k");
        propagate_deletion(0, "gone", 4, false); /* a lazy expiry after the rewrite */
        propagate_count_change();
    });
    cr_assert_str_eq(got, "[0]*1\r\n$5\r\nMULTI\r\n[0]*2\r\n$3\r\nDEL\r\n$4\r\ngone\r\n"
                          "[0]*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n[0]*1\r\n$4\r\nEXEC\r\n|");
}

Test(propagate, rewrite_dropped_when_nothing_changed) {
    set_argv(3, (const char *[]){"SET", "k", "v"});
    RUN(cmd_write, {
        propagate_rewrite_begin(1);
        propagate_arg_str("X");
    });
    cr_assert_eq(units, 0);
    cr_assert_eq(propagate_pending(), 0);
}

Test(propagate, prevent_keeps_only_the_effects) {
    cl.db = 1;
    set_argv(3, (const char *[]){"SPOP", "s", "2"});
    RUN(cmd_write, {
        propagate_prevent();
        for (int i = 0; i < 2; i++) {
            propagate_also_begin(1, 3);
            propagate_arg_str("SREM");
            propagate_arg_str("s");
            propagate_arg_ll(i);
        }
        propagate_count_change();
    });
    cr_assert_str_eq(got, "[1]*1\r\n$5\r\nMULTI\r\n[1]*3\r\n$4\r\nSREM\r\n$1\r\ns\r\n$1\r\n0\r\n"
                          "[1]*3\r\n$4\r\nSREM\r\n$1\r\ns\r\n$1\r\n1\r\n[1]*1\r\n$4\r\nEXEC\r\n|");
}

Test(propagate, exec_is_one_unit_and_single_write_is_not_wrapped) {
    cl.db = 0;
    set_argv(3, (const char *[]){"EXEC", "", ""});
    cl.argc = 1;
    RUN(cmd_exec, {
        set_argv(3, (const char *[]){"SET", "a", "1"});
        propagate_mark m;
        propagate_call_begin(&m, &cmd_write);
        propagate_count_change();
        propagate_call_end(&cl, &cmd_write, &m);
        set_argv(1, (const char *[]){"EXEC"});
    });
    cr_assert_str_eq(got, "[0]*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n|");
    cr_assert_eq(units, 1);
}

Test(propagate, deletion_outside_a_command_is_fed_at_once) {
    propagate_deletion(3, "k", 1, true);
    cr_assert_str_eq(got, "[3]*2\r\n$6\r\nUNLINK\r\n$1\r\nk\r\n|");
}

Test(propagate, arbitrary_keys_command_feeds_deletions_one_by_one) {
    set_argv(1, (const char *[]){"KEYS"});
    RUN(cmd_keys, {
        propagate_deletion(0, "a", 1, false);
        cr_assert_eq(units, 1, "fed while its slot lock is held");
        propagate_deletion(0, "b", 1, false);
    });
    cr_assert_eq(units, 2);
    cr_assert_str_eq(got, "[0]*2\r\n$3\r\nDEL\r\n$1\r\na\r\n|[0]*2\r\n$3\r\nDEL\r\n$1\r\nb\r\n|");
}

Test(propagate, off_records_nothing) {
    atomic_store(&propagate_on, false);
    set_argv(3, (const char *[]){"SET", "k", "v"});
    RUN(cmd_write, propagate_count_change());
    propagate_deletion(0, "k", 1, false);
    cr_assert_eq(units, 0);
    cr_assert_eq(propagate_pending(), 0);
}

Test(propagate, flush_returns_the_offset_and_wakes_once_after) {
    cl.db = 0;
    set_argv(3, (const char *[]){"SET", "k", "v"});
    propagate_mark m;
    propagate_call_begin(&m, &cmd_write);
    propagate_count_change();
    propagate_call_end(&cl, &cmd_write, &m);
    long long end = propagate_flush(false);
    cr_assert_eq(end, (long long)got_len, "the feed's offset after the unit");
    cr_assert_eq(wakes, 0, "no wake while the slot locks are held");
    propagate_wake();
    propagate_wake();
    cr_assert_eq(wakes, 1);
    cr_assert_eq(propagate_flush(false), 0, "nothing pending: nothing fed");
}
