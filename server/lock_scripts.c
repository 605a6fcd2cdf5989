/*
 * lock_scripts.c - the table of recognised lock scripts: one row per exact
 * script body a client library sends, keyed by the SHA1 of its bytes (what
 * SCRIPT LOAD returns and EVALSHA names), with the library, its name for the
 * script, what it does, and the native implementation (lock_scripts_impl.c).
 *
 * The SHA1s were computed from the bodies as the libraries ship them
 * (python3-redis 4.3's redis.lock.Lock.LUA_*_SCRIPT, the npm packages
 * redlock@4.2.0 and redlock@5.0.0-beta.2, go-redsync v4's scripts.go and its
 * older mutex.go, node-redlock 3.x, the redis.io distributed-lock page);
 * tests/unit/test_sha1.c recomputes each from its body, and
 * tests/integration/redlock_test.sh from the installed npm packages. A body
 * that differs by one byte (indentation, a trailing newline) is another
 * script and is not recognised.
 */
#include "lock_scripts.h"

const lock_script lock_scripts[] = {
    {"c3f8721cbb97f72bc19e972846bd7aaf91901658", "redis-py Lock (4.x, 5.x)", "release",
     "if GET KEYS[1] == ARGV[1]: DEL it, return 1; else 0", lock_redispy_release, false},
    {"a4e8783852e6b949f9ef3a97212805108459a890", "redis-py Lock (4.x, 5.x)", "extend",
     "if GET KEYS[1] == ARGV[1] and it has a TTL: PEXPIRE to ARGV[2] (ARGV[3] != \"0\") or TTL + ARGV[2], "
     "return 1; else 0",
     lock_redispy_extend, false},
    {"1cac51482acf5858da00f6d685d68f886cd6b6b2", "redis-py Lock (4.x, 5.x)", "reacquire",
     "if GET KEYS[1] == ARGV[1]: PEXPIRE KEYS[1] ARGV[2], return 1; else 0", lock_redispy_reacquire, false},
    {"e950836ed1e694540c503ef9972b8de518044d3b", "go-redsync v4", "delete",
     "if GET KEYS[1] == ARGV[1]: DEL's reply; missing: -1; else 0", lock_redsync_delete, true},
    {"d75bb8b5bd13532ddedd17762e772346e39b321e", "go-redsync v4", "touch",
     "if GET KEYS[1] == ARGV[1]: PEXPIRE KEYS[1] ARGV[2]'s reply; else 0", lock_redsync_touch, false},
    {"b6b55c439e02c6f52ffb8be7ec8c0d0ac816ea79", "go-redsync v4", "touch with SETNX",
     "if GET KEYS[1] == ARGV[1]: PEXPIRE's reply; else 1 if SET KEYS[1] ARGV[1] PX ARGV[2] NX stored it; else 0",
     lock_redsync_touch_setnx, false},
    {"00583931c4e4d483f6233879c133c71ed5393f9d", "go-redsync v4 (older releases)", "delete",
     "if GET KEYS[1] == ARGV[1]: DEL's reply; else 0", lock_redsync_delete_old, true},
    {"e5a322e2634ef59a516e8ea150cb085afafee684", "node-redlock 4.2.0", "lock",
     "if none of KEYS exists: SET each to ARGV[1] PX ARGV[2], return #KEYS; else 0", lock_redlock4_lock, false},
    {"0f0f23b9048b36752b5be114f357ba083449f908", "node-redlock 4.2.0", "unlock",
     "DEL each of KEYS whose value is ARGV[1]; return how many", lock_redlock4_unlock, false},
    {"ce46f80993d5dac20dd066eb301a4e37994bdbed", "node-redlock 4.2.0", "extend",
     "if every one of KEYS holds ARGV[1]: SET each to ARGV[1] PX ARGV[2], return #KEYS; else 0",
     lock_redlock4_extend, false},
    {"96da70f7716f27d278a5218544df37fd8b0a5e4c", "node-redlock 5.0.0-beta.2", "acquire",
     "if none of KEYS exists: SET each to ARGV[1] PX ARGV[2], return #KEYS; else 0", lock_redlock5_acquire, false},
    {"aed6f382e410db8ba7926d4e5e9aab410bf2a78a", "node-redlock 5.0.0-beta.2", "extend",
     "if every one of KEYS holds ARGV[1]: SET each to ARGV[1] PX ARGV[2], return #KEYS; else 0",
     lock_redlock5_extend, false},
    {"e4612211c9f8f51c257e26e056b0a654b3187242", "node-redlock 5.0.0-beta.2", "release",
     "DEL each of KEYS whose value is ARGV[1]; return how many", lock_redlock5_release, false},
    {"862f31bf38e9b63ce28d6e9e5143551bb34ef981", "node-redlock 3.x / early 4.x", "lock",
     "SET KEYS[1] ARGV[1] NX PX ARGV[2]'s reply (+OK or nil)", lock_redlock3_lock, false},
    {"cf0e94b2e9ffc7e04395cf88f7583fc309985910", "node-redlock 3.x / early 4.x", "unlock",
     "if GET KEYS[1] == ARGV[1]: DEL's reply; else 0", lock_redlock3_unlock, false},
    {"a7aba3bc5d6e99b3003da8b9d80a63b9f4092ecf", "node-redlock 3.x / early 4.x", "extend",
     "if GET KEYS[1] == ARGV[1]: PEXPIRE KEYS[1] ARGV[2]'s reply; else 0", lock_redlock3_extend, false},
    {"647c65a442733a1aa440f99908d249d13b4d6c4a", "redis.io distributed locks page", "unlock",
     "if GET KEYS[1] == ARGV[1]: DEL's reply; else 0", lock_redisio_unlock, false},
};

const size_t lock_scripts_count = sizeof lock_scripts / sizeof lock_scripts[0];

_Static_assert(sizeof lock_scripts / sizeof lock_scripts[0] <= LOCK_SCRIPTS_MAX,
               "raise LOCK_SCRIPTS_MAX (script.c keeps one loaded bit per script)");
