/*
 * lock_script_bodies.h - test data: the exact bytes of the lock scripts
 * that client libraries send (see server/lock_scripts.c), as the libraries
 * ship them: python3-redis 4.3 (redis.lock.Lock.LUA_*_SCRIPT), go-redsync v4
 * (scripts.go and its older mutex.go), the npm packages redlock@4.2.0
 * (redlock.js) and redlock@5.0.0-beta.2 (dist/cjs/index.js), node-redlock
 * 3.x and the redis.io distributed-lock page. Every tab, space and newline
 * counts: the server recognises a script by the SHA1 of these bytes.
 *
 * The bodies are copied verbatim, as test data only, from redis-py (MIT
 * licence), go-redsync (BSD-3-Clause), node-redlock (MIT) and the redis.io
 * documentation; the server itself contains only their SHA1s.
 *
 * Used by tests/unit/test_sha1.c and tests/integration/test_scripts.c.
 * TLS_* names index the array below.
 */
#ifndef LOCK_SCRIPT_BODIES_H
#define LOCK_SCRIPT_BODIES_H

typedef struct {
    const char *id;      /* short name used by the tests */
    const char *library;
    const char *name;
    const char *sha1;    /* expected SHA1 of body */
    const char *body;
} test_lock_script;

enum {
    TLS_PY_RELEASE,
    TLS_PY_EXTEND,
    TLS_PY_REACQUIRE,
    TLS_RS_DELETE,
    TLS_RS_TOUCH,
    TLS_RS_TOUCHNX,
    TLS_RS_OLDDELETE,
    TLS_RL4_LOCK,
    TLS_RL4_UNLOCK,
    TLS_RL4_EXTEND,
    TLS_RL5_ACQUIRE,
    TLS_RL5_EXTEND,
    TLS_RL5_RELEASE,
    TLS_RL3_LOCK,
    TLS_RL3_UNLOCK,
    TLS_RL3_EXTEND,
    TLS_REDISIO_UNLOCK,
    TLS_COUNT
};

static const test_lock_script test_lock_scripts[TLS_COUNT] = {
    [TLS_PY_RELEASE] = {"py_release", "redis-py Lock", "release", "c3f8721cbb97f72bc19e972846bd7aaf91901658",
        "\n"
        "        local token = redis.call('get', KEYS[1])\n"
        "        if not token or token ~= ARGV[1] then\n"
        "            return 0\n"
        "        end\n"
        "        redis.call('del', KEYS[1])\n"
        "        return 1\n"
        "    "},
    [TLS_PY_EXTEND] = {"py_extend", "redis-py Lock", "extend", "a4e8783852e6b949f9ef3a97212805108459a890",
        "\n"
        "        local token = redis.call('get', KEYS[1])\n"
        "        if not token or token ~= ARGV[1] then\n"
        "            return 0\n"
        "        end\n"
        "        local expiration = redis.call('pttl', KEYS[1])\n"
        "        if not expiration then\n"
        "            expiration = 0\n"
        "        end\n"
        "        if expiration < 0 then\n"
        "            return 0\n"
        "        end\n"
        "\n"
        "        local newttl = ARGV[2]\n"
        "        if ARGV[3] == \"0\" then\n"
        "            newttl = ARGV[2] + expiration\n"
        "        end\n"
        "        redis.call('pexpire', KEYS[1], newttl)\n"
        "        return 1\n"
        "    "},
    [TLS_PY_REACQUIRE] = {"py_reacquire", "redis-py Lock", "reacquire", "1cac51482acf5858da00f6d685d68f886cd6b6b2",
        "\n"
        "        local token = redis.call('get', KEYS[1])\n"
        "        if not token or token ~= ARGV[1] then\n"
        "            return 0\n"
        "        end\n"
        "        redis.call('pexpire', KEYS[1], ARGV[2])\n"
        "        return 1\n"
        "    "},
    [TLS_RS_DELETE] = {"rs_delete", "go-redsync v4", "delete", "e950836ed1e694540c503ef9972b8de518044d3b",
        "\n"
        "\tlocal val = redis.call(\"GET\", KEYS[1])\n"
        "\tif val == ARGV[1] then\n"
        "\t\treturn redis.call(\"DEL\", KEYS[1])\n"
        "\telseif val == false then\n"
        "\t\treturn -1\n"
        "\telse\n"
        "\t\treturn 0\n"
        "\tend\n"},
    [TLS_RS_TOUCH] = {"rs_touch", "go-redsync v4", "touch", "d75bb8b5bd13532ddedd17762e772346e39b321e",
        "\n"
        "\tif redis.call(\"GET\", KEYS[1]) == ARGV[1] then\n"
        "\t\treturn redis.call(\"PEXPIRE\", KEYS[1], ARGV[2])\n"
        "\telse\n"
        "\t\treturn 0\n"
        "\tend\n"},
    [TLS_RS_TOUCHNX] = {"rs_touchnx", "go-redsync v4", "touch with SETNX", "b6b55c439e02c6f52ffb8be7ec8c0d0ac816ea79",
        "\n"
        "\tif redis.call(\"GET\", KEYS[1]) == ARGV[1] then\n"
        "\t\treturn redis.call(\"PEXPIRE\", KEYS[1], ARGV[2])\n"
        "\telseif redis.call(\"SET\", KEYS[1], ARGV[1], \"PX\", ARGV[2], \"NX\") then\n"
        "\t\treturn 1\n"
        "\telse\n"
        "\t\treturn 0\n"
        "\tend\n"},
    [TLS_RS_OLDDELETE] = {"rs_olddelete", "go-redsync v4 (older)", "delete", "00583931c4e4d483f6233879c133c71ed5393f9d",
        "\n"
        "\tif redis.call(\"GET\", KEYS[1]) == ARGV[1] then\n"
        "\t\treturn redis.call(\"DEL\", KEYS[1])\n"
        "\telse\n"
        "\t\treturn 0\n"
        "\tend\n"},
    [TLS_RL4_LOCK] = {"rl4_lock", "node-redlock 4.2.0", "lock", "e5a322e2634ef59a516e8ea150cb085afafee684",
        "\n"
        "\t-- Return 0 if an entry already exists.\n"
        "\tfor i, key in ipairs(KEYS) do\n"
        "\t\tif redis.call(\"exists\", key) == 1 then\n"
        "\t\t\treturn 0\n"
        "\t\tend\n"
        "\tend\n"
        "\n"
        "\t-- Create an entry for each provided key.\n"
        "\tfor i, key in ipairs(KEYS) do\n"
        "\t\tredis.call(\"set\", key, ARGV[1], \"PX\", ARGV[2])\n"
        "\tend\n"
        "\n"
        "\t-- Return the number of entries added.\n"
        "\treturn #KEYS\n"},
    [TLS_RL4_UNLOCK] = {"rl4_unlock", "node-redlock 4.2.0", "unlock", "0f0f23b9048b36752b5be114f357ba083449f908",
        "\n"
        "\tlocal count = 0\n"
        "\tfor i, key in ipairs(KEYS) do\n"
        "\t\t-- Only remove entries for *this* lock value.\n"
        "\t\tif redis.call(\"get\", key) == ARGV[1] then\n"
        "\t\t\tredis.pcall(\"del\", key)\n"
        "\t\t\tcount = count + 1\n"
        "\t\tend\n"
        "\tend\n"
        "\n"
        "\t-- Return the number of entries removed.\n"
        "\treturn count\n"},
    [TLS_RL4_EXTEND] = {"rl4_extend", "node-redlock 4.2.0", "extend", "ce46f80993d5dac20dd066eb301a4e37994bdbed",
        "\n"
        "\t-- Return 0 if an entry exists with a *different* lock value.\n"
        "\tfor i, key in ipairs(KEYS) do\n"
        "\t\tif redis.call(\"get\", key) ~= ARGV[1] then\n"
        "\t\t\treturn 0\n"
        "\t\tend\n"
        "\tend\n"
        "\n"
        "\t-- Update the entry for each provided key.\n"
        "\tfor i, key in ipairs(KEYS) do\n"
        "\t\tredis.call(\"set\", key, ARGV[1], \"PX\", ARGV[2])\n"
        "\tend\n"
        "\n"
        "\t-- Return the number of entries updated.\n"
        "\treturn #KEYS\n"},
    [TLS_RL5_ACQUIRE] = {"rl5_acquire", "node-redlock 5.0.0-beta.2", "acquire", "96da70f7716f27d278a5218544df37fd8b0a5e4c",
        "\n"
        "  -- Return 0 if an entry already exists.\n"
        "  for i, key in ipairs(KEYS) do\n"
        "    if redis.call(\"exists\", key) == 1 then\n"
        "      return 0\n"
        "    end\n"
        "  end\n"
        "\n"
        "  -- Create an entry for each provided key.\n"
        "  for i, key in ipairs(KEYS) do\n"
        "    redis.call(\"set\", key, ARGV[1], \"PX\", ARGV[2])\n"
        "  end\n"
        "\n"
        "  -- Return the number of entries added.\n"
        "  return #KEYS\n"},
    [TLS_RL5_EXTEND] = {"rl5_extend", "node-redlock 5.0.0-beta.2", "extend", "aed6f382e410db8ba7926d4e5e9aab410bf2a78a",
        "\n"
        "  -- Return 0 if an entry exists with a *different* lock value.\n"
        "  for i, key in ipairs(KEYS) do\n"
        "    if redis.call(\"get\", key) ~= ARGV[1] then\n"
        "      return 0\n"
        "    end\n"
        "  end\n"
        "\n"
        "  -- Update the entry for each provided key.\n"
        "  for i, key in ipairs(KEYS) do\n"
        "    redis.call(\"set\", key, ARGV[1], \"PX\", ARGV[2])\n"
        "  end\n"
        "\n"
        "  -- Return the number of entries updated.\n"
        "  return #KEYS\n"},
    [TLS_RL5_RELEASE] = {"rl5_release", "node-redlock 5.0.0-beta.2", "release", "e4612211c9f8f51c257e26e056b0a654b3187242",
        "\n"
        "  local count = 0\n"
        "  for i, key in ipairs(KEYS) do\n"
        "    -- Only remove entries for *this* lock value.\n"
        "    if redis.call(\"get\", key) == ARGV[1] then\n"
        "      redis.pcall(\"del\", key)\n"
        "      count = count + 1\n"
        "    end\n"
        "  end\n"
        "\n"
        "  -- Return the number of entries removed.\n"
        "  return count\n"},
    [TLS_RL3_LOCK] = {"rl3_lock", "node-redlock 3.x", "lock", "862f31bf38e9b63ce28d6e9e5143551bb34ef981",
        "return redis.call(\"set\", KEYS[1], ARGV[1], \"NX\", \"PX\", ARGV[2])"},
    [TLS_RL3_UNLOCK] = {"rl3_unlock", "node-redlock 3.x", "unlock", "cf0e94b2e9ffc7e04395cf88f7583fc309985910",
        "if redis.call(\"get\", KEYS[1]) == ARGV[1] then return redis.call(\"del\", KEYS[1]) else return 0 end"},
    [TLS_RL3_EXTEND] = {"rl3_extend", "node-redlock 3.x", "extend", "a7aba3bc5d6e99b3003da8b9d80a63b9f4092ecf",
        "if redis.call(\"get\", KEYS[1]) == ARGV[1] then return redis.call(\"pexpire\", KEYS[1], ARGV[2]) else return 0 end"},
    [TLS_REDISIO_UNLOCK] = {"redisio_unlock", "redis.io", "unlock", "647c65a442733a1aa440f99908d249d13b4d6c4a",
        "if redis.call(\"get\",KEYS[1]) == ARGV[1] then\n"
        "    return redis.call(\"del\",KEYS[1])\n"
        "else\n"
        "    return 0\n"
        "end"},
};

#endif
