#!/usr/bin/python3
"""
redis_py_check.py - drive a running server with redis-py (Debian python3-redis)
the way an application would, and compare every answer with what Redis 7.0
gives. Started by redis_py_test.sh, which owns the servers:

    redis_py_check.py PORT AUTH_PORT PASSWORD

PORT is a server without a password (fresh, empty), AUTH_PORT one started
with --requirepass PASSWORD. Each check prints "ok <name>" or
"FAIL <name>: <what differed>"; a check stops at its first wrong value, the
next check still runs. Exit status 1 when anything failed.
"""
import fnmatch
import sys
import threading
import time
import traceback

import redis

HOST = "127.0.0.1"
TIMEOUT = 10          # socket timeout of every client, seconds

PORT = int(sys.argv[1])
AUTH_PORT = int(sys.argv[2])
PASSWORD = sys.argv[3]

FAILED = []


class CheckFailed(Exception):
    pass


def expect(what, got, want):
    if got != want:
        raise CheckFailed("%s: got %r, expected %r" % (what, got, want))


def expect_true(what, cond, detail=""):
    if not cond:
        raise CheckFailed("%s%s" % (what, (": " + detail) if detail else ""))


def expect_error(what, fn, message, cls=redis.ResponseError):
    """fn() must raise cls whose str() is exactly message (redis-py drops
    the leading "ERR " of an -ERR reply and keeps other prefixes)."""
    try:
        got = fn()
    except cls as e:
        if str(e) != message:
            raise CheckFailed("%s: error %r, expected %r" % (what, str(e), message))
        return e
    except Exception as e:   # wrong exception class
        raise CheckFailed("%s: raised %s(%r), expected %s(%r)"
                          % (what, type(e).__name__, str(e), cls.__name__, message))
    raise CheckFailed("%s: returned %r, expected %s(%r)" % (what, got, cls.__name__, message))


def client(**kw):
    return redis.Redis(host=HOST, port=kw.pop("port", PORT), socket_timeout=TIMEOUT,
                       socket_connect_timeout=TIMEOUT, **kw)


def check(fn):
    name = fn.__name__[len("check_"):]
    start = time.monotonic()
    try:
        fn()
    except CheckFailed as e:
        FAILED.append(name)
        print("FAIL %s: %s" % (name, e), flush=True)
        return
    except Exception:
        FAILED.append(name)
        print("FAIL %s: unexpected exception:" % name, flush=True)
        traceback.print_exc(file=sys.stdout)
        sys.stdout.flush()
        return
    print("ok   %s (%.2fs)" % (name, time.monotonic() - start), flush=True)


# ---- checks -------------------------------------------------------------

# One connection for the sequential checks, so CLIENT LIST can find it.
R = client(single_connection_client=True)


def check_connect_ping():
    expect("PING", R.ping(), True)
    expect("ECHO", R.echo("hello"), b"hello")
    expect("DBSIZE of a fresh server", R.dbsize(), 0)


def check_set_get():
    expect("SET", R.set("str:a", "hello"), True)
    expect("GET", R.get("str:a"), b"hello")
    binary = b"\x00\r\n\xff binary\r\n"
    expect("SET binary", R.set("str:bin", binary), True)
    expect("GET binary", R.get("str:bin"), binary)
    big = b"x" * 200000
    expect("SET 200 kB", R.set("str:big", big), True)
    expect("GET 200 kB", R.get("str:big"), big)
    expect("GET missing", R.get("str:missing"), None)
    expect("SET NX on existing", R.set("str:a", "other", nx=True), None)
    expect("SET XX on missing", R.set("str:none", "v", xx=True), None)
    expect("SET GET", R.set("str:a", "world", get=True), b"hello")
    expect("GET after SET GET", R.get("str:a"), b"world")
    expect("STRLEN", R.strlen("str:a"), 5)
    expect("APPEND", R.append("str:a", "!!"), 7)
    expect("GETRANGE", R.getrange("str:a", 1, 3), b"orl")


def check_incr():
    expect("INCR new key", R.incr("num:a"), 1)
    expect("INCR", R.incr("num:a"), 2)
    expect("INCRBY 40", R.incr("num:a", 40), 42)
    expect("DECR", R.decr("num:a"), 41)
    expect("DECRBY 50", R.decrby("num:a", 50), -9)
    expect("GET counter", R.get("num:a"), b"-9")
    expect("INCRBYFLOAT", R.incrbyfloat("num:f", 2.5), 2.5)
    expect("INCRBYFLOAT again", R.incrbyfloat("num:f", 0.25), 2.75)
    expect("SET max int64", R.set("num:max", 9223372036854775807), True)
    expect_error("INCR past int64", lambda: R.incr("num:max"),
                 "increment or decrement would overflow")
    expect("SET num:s", R.set("num:s", "12abc"), True)
    expect_error("INCR of a non-integer", lambda: R.incr("num:s"),
                 "value is not an integer or out of range")


def check_mset_mget():
    expect("MSET", R.mset({"m:1": "one", "m:2": "two", "m:3": "three"}), True)
    expect("MGET", R.mget(["m:1", "m:2", "m:missing", "m:3"]), [b"one", b"two", None, b"three"])
    expect("MSETNX with an existing key", R.msetnx({"m:3": "x", "m:4": "four"}), False)
    expect("MGET after failed MSETNX", R.mget("m:3", "m:4"), [b"three", None])
    expect("MSETNX new keys", R.msetnx({"m:4": "four", "m:5": "five"}), True)
    expect("MGET after MSETNX", R.mget("m:4", "m:5"), [b"four", b"five"])
    expect("EXISTS", R.exists("m:1", "m:2", "m:missing", "m:1"), 3)
    expect("DEL", R.delete("m:1", "m:missing"), 1)
    expect("MGET after DEL", R.mget("m:1", "m:2"), [None, b"two"])


def check_expire_ttl():
    R.set("ttl:a", "v")
    expect("TTL without expire", R.ttl("ttl:a"), -1)
    expect("PTTL without expire", R.pttl("ttl:a"), -1)
    expect("TTL of a missing key", R.ttl("ttl:missing"), -2)
    expect("EXPIRE", R.expire("ttl:a", 100), True)
    ttl = R.ttl("ttl:a")
    expect_true("TTL after EXPIRE 100", ttl in (99, 100), "got %r" % ttl)
    pttl = R.pttl("ttl:a")
    expect_true("PTTL after EXPIRE 100", 98000 < pttl <= 100000, "got %r" % pttl)
    expect("EXPIRE of a missing key", R.expire("ttl:missing", 100), False)
    expect("PERSIST", R.persist("ttl:a"), True)
    expect("TTL after PERSIST", R.ttl("ttl:a"), -1)
    expect("SET EX", R.set("ttl:b", "v", ex=50), True)
    ttl = R.ttl("ttl:b")
    expect_true("TTL after SET EX 50", ttl in (49, 50), "got %r" % ttl)
    expect("SET KEEPTTL", R.set("ttl:b", "w", keepttl=True), True)
    ttl = R.ttl("ttl:b")
    expect_true("TTL after SET KEEPTTL", ttl in (49, 50), "got %r" % ttl)
    expect("SET without KEEPTTL", R.set("ttl:b", "w"), True)
    expect("TTL after plain SET", R.ttl("ttl:b"), -1)
    at = int(time.time()) + 1000
    expect("EXPIREAT", R.expireat("ttl:b", at), True)
    expect("EXPIRETIME", R.execute_command("EXPIRETIME", "ttl:b"), at)
    expect("SET PX 100", R.set("ttl:c", "v", px=100), True)
    expect("GET before expiry", R.get("ttl:c"), b"v")
    time.sleep(0.3)
    expect("GET after PX 100 + 300 ms", R.get("ttl:c"), None)
    expect("TTL after expiry", R.ttl("ttl:c"), -2)
    expect("EXISTS after expiry", R.exists("ttl:c"), 0)
    expect("EXPIRE 0 deletes", R.expire("ttl:a", 0), True)
    expect("GET after EXPIRE 0", R.get("ttl:a"), None)


def check_pipeline_10k():
    n = 5000
    p = R.pipeline(transaction=False)
    for i in range(n):
        p.set("pipe:%d" % i, "v%d" % i)
        p.incr("pipe:counter")
    res = p.execute()
    expect("number of pipeline replies", len(res), 2 * n)
    want = []
    for i in range(n):
        want += [True, i + 1]
    if res != want:
        bad = next(i for i in range(2 * n) if res[i] != want[i])
        raise CheckFailed("pipeline reply %d: got %r, expected %r" % (bad, res[bad], want[bad]))
    # Read everything back through a second pipeline (10k GETs) and MGET.
    p = R.pipeline(transaction=False)
    for i in range(n):
        p.get("pipe:%d" % i)
        p.strlen("pipe:%d" % i)
    res = p.execute()
    want = []
    for i in range(n):
        v = ("v%d" % i).encode()
        want += [v, len(v)]
    if res != want:
        bad = next(i for i in range(2 * n) if res[i] != want[i])
        raise CheckFailed("read-back pipeline reply %d: got %r, expected %r" % (bad, res[bad], want[bad]))
    expect("counter after pipeline", R.get("pipe:counter"), str(n).encode())
    got = R.mget(["pipe:%d" % i for i in range(n)])
    expect("MGET of 5000 pipelined keys", got, [("v%d" % i).encode() for i in range(n)])
    # A pipeline with an error in the middle: the error is in its slot.
    p = R.pipeline(transaction=False)
    p.set("pipe:x", "abc").incr("pipe:x").get("pipe:x")
    res = p.execute(raise_on_error=False)
    expect("pipeline reply 0", res[0], True)
    expect_true("pipeline reply 1 is a ResponseError", isinstance(res[1], redis.ResponseError), repr(res[1]))
    expect("pipeline reply 1 text", str(res[1]), "value is not an integer or out of range")
    expect("pipeline reply 2", res[2], b"abc")


def check_scan_iter_5k():
    n = 5000
    p = R.pipeline(transaction=False)
    for i in range(n):
        p.set("scan:%d" % i, i)
    p.execute()
    names = set("scan:%d" % i for i in range(n))

    def scan(**kw):
        seen, dups = set(), []
        for k in R.scan_iter(**kw):
            k = k.decode()
            if k in seen:
                dups.append(k)
            seen.add(k)
        return seen, dups

    seen, dups = scan(match="scan:*", count=100)
    expect_true("SCAN MATCH scan:* duplicates", not dups, "%d keys returned twice, e.g. %r" % (len(dups), dups[:5]))
    expect_true("SCAN MATCH scan:* key set", seen == names,
                "%d missing (e.g. %r), %d unexpected (e.g. %r)"
                % (len(names - seen), sorted(names - seen)[:5], len(seen - names), sorted(seen - names)[:5]))

    seen, dups = scan(match="scan:1?3", count=1000)
    want = set(k for k in names if fnmatch.fnmatchcase(k, "scan:1?3"))
    expect("SCAN MATCH scan:1?3 (%d keys)" % len(want), (sorted(seen), dups), (sorted(want), []))

    total = R.dbsize()
    seen, dups = scan(count=7)
    expect_true("full SCAN duplicates", not dups, "%d keys returned twice, e.g. %r" % (len(dups), dups[:5]))
    expect("full SCAN returns DBSIZE keys", len(seen), total)
    expect_true("full SCAN contains the 5000 keys", names <= seen)

    seen, dups = scan(match="scan:*", _type="string")
    expect("SCAN TYPE string", len(seen), n)
    seen, dups = scan(match="scan:*", _type="list")
    expect("SCAN TYPE list", len(seen), 0)
    cursor, keys = R.scan(0, match="no-such-prefix:*", count=10)
    expect_true("SCAN cursor is an int", isinstance(cursor, int), repr(cursor))
    # redis-cli --cluster import keeps the cursor in a C int (atoi): one of
    # 2^31 or more ended its import early, with exit status 0.
    cursors, cursor = [], None
    while cursor != 0:
        cursor, _ = R.scan(cursor or 0, count=100)
        cursors.append(cursor)
    expect_true("SCAN cursors below 2^31", max(cursors) < 2**31, "largest %d" % max(cursors))


def check_info():
    R.flushdb()
    for i in range(5):
        R.set("info:%d" % i, "v")
    R.set("info:ttl1", "v", ex=1000)
    R.set("info:ttl2", "v", ex=2000)
    info = R.info()
    expect_true("INFO is a dict", isinstance(info, dict), type(info).__name__)
    expect_true("INFO: every line parsed as field:value", "__raw__" not in info,
                "unparsed lines: %r" % (info.get("__raw__"),))
    for k in ("redis_version", "redis_mode", "tcp_port", "uptime_in_seconds", "connected_clients",
              "used_memory", "used_memory_human", "maxmemory", "maxmemory_policy", "keyspace_hits",
              "keyspace_misses", "expired_keys", "evicted_keys", "total_commands_processed",
              "role", "db0"):
        expect_true("INFO has %s" % k, k in info)
    ver = str(info["redis_version"])
    expect_true("redis_version is 7.x.y", ver.startswith("7.") and len(ver.split(".")) == 3, ver)
    expect("tcp_port", info["tcp_port"], PORT)
    expect("redis_mode", info["redis_mode"], "standalone")
    expect("role", info["role"], "master")
    expect_true("connected_clients is an int >= 1",
                isinstance(info["connected_clients"], int) and info["connected_clients"] >= 1,
                repr(info["connected_clients"]))
    expect_true("used_memory is an int > 0",
                isinstance(info["used_memory"], int) and info["used_memory"] > 0, repr(info["used_memory"]))
    expect("maxmemory", info["maxmemory"], 0)
    expect("maxmemory_policy", info["maxmemory_policy"], "noeviction")
    db0 = info["db0"]
    expect_true("db0 parsed into a dict", isinstance(db0, dict), repr(db0))
    expect("db0 keys", db0.get("keys"), 7)
    expect("db0 expires", db0.get("expires"), 2)
    expect("db0 keys == DBSIZE", db0.get("keys"), R.dbsize())
    # avg_ttl is an estimate the active expire cycle refreshes: 0 at first.
    expect_true("db0 avg_ttl in [0, 2000000] ms", 0 <= db0.get("avg_ttl", -1) <= 2000000, repr(db0))
    expect_true("no db1 while db1 is empty", "db1" not in info)

    # Sections, and counters that must move by exactly what we did.
    server = R.info("server")
    expect_true("INFO server has no memory fields", "used_memory" not in server and "redis_version" in server)
    expect("INFO server process_id == INFO process_id", server["process_id"], info["process_id"])
    expect("CONFIG RESETSTAT", R.config_resetstat(), True)
    R.get("info:0")
    R.get("info:1")
    R.get("info:missing")
    R.mget("info:2", "info:nope", "info:nope2")
    stats = R.info("stats")
    expect("keyspace_hits after 3 hits", stats["keyspace_hits"], 3)
    expect("keyspace_misses after 3 misses", stats["keyspace_misses"], 3)
    cs = R.info("commandstats")
    expect_true("INFO commandstats has cmdstat_get", "cmdstat_get" in cs, sorted(cs)[:10])
    expect("cmdstat_get calls", cs["cmdstat_get"]["calls"], 3)
    expect("cmdstat_mget calls", cs["cmdstat_mget"]["calls"], 1)
    expect("INFO keyspace", R.info("keyspace"), {"db0": db0})

    # connected_clients counts connections exactly.
    base = R.info("clients")["connected_clients"]
    extra = [client(single_connection_client=True) for _ in range(3)]
    for c in extra:
        c.ping()
    expect("connected_clients with 3 more connections", R.info("clients")["connected_clients"], base + 3)
    for c in extra:
        c.close()
        c.connection_pool.disconnect()
    deadline = time.monotonic() + 5
    while True:
        now = R.info("clients")["connected_clients"]
        if now == base or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    expect("connected_clients after closing them (5 s)", now, base)

    R.flushdb()
    expect_true("db0 gone from INFO after FLUSHDB", "db0" not in R.info("keyspace"))


def check_config():
    expect("CONFIG GET maxmemory", R.config_get("maxmemory"), {"maxmemory": "0"})
    expect("CONFIG SET maxmemory 100mb", R.config_set("maxmemory", "100mb"), True)
    expect("CONFIG GET maxmemory after SET", R.config_get("maxmemory"), {"maxmemory": "104857600"})
    expect("INFO maxmemory after SET", R.info("memory")["maxmemory"], 104857600)
    got = R.config_get("maxmemory*")
    for k, v in (("maxmemory", "104857600"), ("maxmemory-policy", "noeviction"), ("maxmemory-samples", "5")):
        expect("CONFIG GET maxmemory* [%s]" % k, got.get(k), v)
    expect_true("CONFIG GET maxmemory* only matches maxmemory*",
                all(k.startswith("maxmemory") for k in got), sorted(got))
    expect("CONFIG SET maxmemory-policy", R.config_set("maxmemory-policy", "allkeys-lru"), True)
    expect("CONFIG GET maxmemory-policy", R.config_get("maxmemory-policy"), {"maxmemory-policy": "allkeys-lru"})
    expect("INFO maxmemory_policy", R.info("memory")["maxmemory_policy"], "allkeys-lru")
    expect("CONFIG SET timeout", R.config_set("timeout", 300), True)
    expect("CONFIG GET timeout", R.config_get("timeout"), {"timeout": "300"})
    expect("CONFIG GET port", R.config_get("port"), {"port": str(PORT)})
    expect("CONFIG GET no-such-param", R.config_get("no-such-param"), {})
    expect_error("CONFIG SET maxmemory abc", lambda: R.config_set("maxmemory", "abc"),
                 "CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value")
    expect_error("CONFIG SET timeout abc", lambda: R.config_set("timeout", "abc"),
                 "CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer")
    expect("maxmemory unchanged by the failed SET", R.config_get("maxmemory"), {"maxmemory": "104857600"})
    R.config_set("maxmemory", "0")
    R.config_set("maxmemory-policy", "noeviction")
    R.config_set("timeout", 0)
    expect("CONFIG GET maxmemory restored", R.config_get("maxmemory"), {"maxmemory": "0"})


def check_client_commands():
    expect("CLIENT GETNAME before SETNAME", R.client_getname(), None)
    expect("CLIENT SETNAME", R.client_setname("pytest-main"), True)
    expect("CLIENT GETNAME", R.client_getname(), "pytest-main")
    my_id = R.client_id()
    expect_true("CLIENT ID is a positive int", isinstance(my_id, int) and my_id > 0, repr(my_id))
    sock = R.connection._sock
    laddr = "%s:%d" % sock.getsockname()[:2]
    raddr = "%s:%d" % sock.getpeername()[:2]
    other = client(single_connection_client=True)
    other.client_setname("pytest-other")
    try:
        clients = R.client_list()
        expect_true("CLIENT LIST is a list of dicts", isinstance(clients, list) and clients
                    and all(isinstance(c, dict) for c in clients), repr(clients)[:200])
        mine = [c for c in clients if c.get("name") == "pytest-main"]
        expect("CLIENT LIST entries named pytest-main", len(mine), 1)
        me = mine[0]
        expect("CLIENT LIST id", me.get("id"), str(my_id))
        expect("CLIENT LIST addr", me.get("addr"), laddr)
        expect("CLIENT LIST laddr", me.get("laddr"), raddr)
        expect("CLIENT LIST cmd", me.get("cmd"), "client|list")
        expect("CLIENT LIST db", me.get("db"), "0")
        expect("CLIENT LIST user", me.get("user"), "default")
        expect("CLIENT LIST resp", me.get("resp"), "2")
        expect_true("CLIENT LIST shows pytest-other", any(c.get("name") == "pytest-other" for c in clients))
        expect("CLIENT LIST ID <mine>", [c.get("name") for c in R.client_list(client_id=[str(my_id)])], ["pytest-main"])
        normal = R.client_list(_type="normal")
        expect("CLIENT LIST TYPE normal count", len(normal), len(clients))
        expect("connected_clients == CLIENT LIST entries", R.info("clients")["connected_clients"], len(clients))
    finally:
        other.close()
        other.connection_pool.disconnect()
    expect_error("CLIENT SETNAME with a space", lambda: R.client_setname("a b"),
                 "Client names cannot contain spaces, newlines or special characters.")
    expect("CLIENT GETNAME unchanged", R.client_getname(), "pytest-main")
    expect("CLIENT SETNAME '' clears", R.client_setname(""), True)
    expect("CLIENT GETNAME after clearing", R.client_getname(), None)


def check_errors():
    expect("SET err:s", R.set("err:s", "text"), True)
    e = expect_error("unknown command", lambda: R.execute_command("NOSUCHCMD", "a", "b"),
                     "unknown command 'NOSUCHCMD', with args beginning with: 'a' 'b' ")
    expect_true("unknown command error class", type(e) is redis.ResponseError, type(e).__name__)
    expect_error("wrong arity", lambda: R.execute_command("GET"),
                 "wrong number of arguments for 'get' command")
    expect_error("INCR of a non-integer", lambda: R.incr("err:s"),
                 "value is not an integer or out of range")
    expect_error("SET with a bad option", lambda: R.execute_command("SET", "k", "v", "EX", "0"),
                 "invalid expire time in 'set' command")
    expect_error("AUTH without a configured password", lambda: R.auth("x"),
                 "AUTH <password> called without any password configured for the default user. "
                 "Are you sure your configuration is correct?")
    # WRONGTYPE needs a non-string type; checked once the server has lists.
    try:
        R.execute_command("LPUSH", "wt:probe", "x")
        has_lpush = True
    except redis.ResponseError as e:
        if not str(e).startswith("unknown command 'LPUSH'"):
            raise CheckFailed("LPUSH on a new key: %s" % e)
        has_lpush = False
    R.delete("wt:probe")
    if has_lpush:
        e = expect_error("LPUSH on a string key", lambda: R.lpush("err:s", "x"),
                         "WRONGTYPE Operation against a key holding the wrong kind of value")
        expect_true("WRONGTYPE is a ResponseError", isinstance(e, redis.ResponseError))
        expect_error("GET on a list key", lambda: (R.delete("wt:l"), R.lpush("wt:l", "x"), R.get("wt:l")),
                     "WRONGTYPE Operation against a key holding the wrong kind of value")
    else:
        print("note errors: no LPUSH on this server: WRONGTYPE not checked", flush=True)
    expect("connection usable after errors", R.ping(), True)
    expect("value untouched by the failed INCR", R.get("err:s"), b"text")


def check_auth():
    # No password: every command but AUTH/HELLO is refused.
    r = client(port=AUTH_PORT, single_connection_client=True)
    expect_error("PING before AUTH", r.ping, "Authentication required.", redis.AuthenticationError)
    # redis-py 4.3 maps -NOAUTH to AuthenticationError; -WRONGPASS stays a
    # ResponseError with its prefix.
    expect_error("AUTH wrong password", lambda: r.auth("wrong-" + PASSWORD),
                 "WRONGPASS invalid username-password pair or user is disabled.")
    expect_error("GET still refused", lambda: r.get("a"), "Authentication required.", redis.AuthenticationError)
    expect("AUTH right password", r.auth(PASSWORD), True)
    expect("PING after AUTH", r.ping(), True)
    expect("SET after AUTH", r.set("auth:k", "v"), True)
    expect("GET after AUTH", r.get("auth:k"), b"v")
    r.close()
    r.connection_pool.disconnect()
    # The password given to the client: redis-py sends AUTH on connect.
    r = client(port=AUTH_PORT, password=PASSWORD)
    expect("client with password: GET", r.get("auth:k"), b"v")
    r.close()
    r.connection_pool.disconnect()
    r = client(port=AUTH_PORT, password="wrong-" + PASSWORD)
    expect_error("client with a wrong password", r.ping,
                 "WRONGPASS invalid username-password pair or user is disabled.")
    r.close()
    r.connection_pool.disconnect()
    r = client(port=AUTH_PORT, username="default", password=PASSWORD)
    expect("client with user default + password: PING", r.ping(), True)
    r.close()
    r.connection_pool.disconnect()


def check_pool_8_threads():
    nthreads, per_thread = 8, 500
    pool = redis.ConnectionPool(host=HOST, port=PORT, max_connections=nthreads,
                                socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
    R.delete("threads:counter")
    barrier = threading.Barrier(nthreads)
    results = [None] * nthreads
    errors = []

    def worker(idx):
        try:
            r = redis.Redis(connection_pool=pool)
            barrier.wait(timeout=TIMEOUT)
            got = []
            for _ in range(per_thread):
                got.append(r.incr("threads:counter"))
            results[idx] = got
        except Exception as e:   # reported below
            errors.append("thread %d: %s: %s" % (idx, type(e).__name__, e))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(nthreads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    expect_true("threads finished", not any(t.is_alive() for t in threads))
    expect("thread errors", errors, [])
    total = nthreads * per_thread
    expect("counter after %d x %d INCR" % (nthreads, per_thread), R.get("threads:counter"), str(total).encode())
    for idx, got in enumerate(results):
        expect_true("thread %d INCR replies increase" % idx, got == sorted(got) and len(set(got)) == per_thread)
    every = sorted(v for got in results for v in got)
    expect_true("INCR replies are exactly 1..%d" % total, every == list(range(1, total + 1)),
                "%d replies, %d distinct" % (len(every), len(set(every))))
    created = len(pool._available_connections) + len(pool._in_use_connections)
    expect_true("pool opened between 1 and %d connections" % nthreads, 1 <= created <= nthreads, str(created))
    pool.disconnect()


def main():
    print("redis-py %s against 127.0.0.1:%d (auth server :%d)" % (redis.__version__, PORT, AUTH_PORT), flush=True)
    for fn in (check_connect_ping, check_set_get, check_incr, check_mset_mget, check_expire_ttl,
               check_pipeline_10k, check_scan_iter_5k, check_info, check_config, check_client_commands,
               check_errors, check_auth, check_pool_8_threads):
        check(fn)
    R.close()
    if FAILED:
        print("redis_py_check: %d failed: %s" % (len(FAILED), " ".join(FAILED)), flush=True)
        return 1
    print("redis_py_check: all passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
