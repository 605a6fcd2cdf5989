#!/usr/bin/python3
"""
redis_py_lock_check.py - redis-py's distributed lock (redis.lock.Lock, Debian
python3-redis) used unchanged against a running server. Started by
redis_py_lock_test.sh, which owns the server:

    redis_py_lock_check.py PORT

PORT is a fresh, empty server. The Lock sends its Lua scripts with EVALSHA
and loads them (SCRIPT LOAD) on NOSCRIPT, so this exercises the script
cache as well as the recognised scripts (server/lock_scripts.c). Checks:
acquire / owned / locked, extend (add and replace_ttl), reacquire, release;
a foreign token can neither release, extend nor reacquire
(LockNotOwnedError); a lock that expired raises LockNotOwnedError on release
and can be taken by someone else; SCRIPT FLUSH in the middle is survived;
a registered script in a transaction pipeline (SCRIPT EXISTS + LOAD before
MULTI); and the contention test: 8 threads each take the same blocking Lock
100 times around a non-atomic GET/SET counter increment - the final count
must be exact. Each check prints "ok <name>" or "FAIL <name>: ..."; exit
status 1 when anything failed. Everything here passes against redis-server
7.0 as well.
"""
import hashlib
import sys
import threading
import time
import traceback

import redis
from redis.exceptions import LockError, LockNotOwnedError
from redis.lock import Lock

HOST = "127.0.0.1"
TIMEOUT = 10
PORT = int(sys.argv[1])

FAILED = []


class CheckFailed(Exception):
    pass


def expect(what, got, want):
    if got != want:
        raise CheckFailed("%s: got %r, expected %r" % (what, got, want))


def expect_between(what, got, lo, hi):
    if got is None or not (lo <= got <= hi):
        raise CheckFailed("%s: got %r, expected %r..%r" % (what, got, lo, hi))


def expect_raises(what, cls, fn):
    try:
        got = fn()
    except cls:
        return
    except Exception as e:
        raise CheckFailed("%s: raised %s(%s), expected %s" % (what, type(e).__name__, e, cls.__name__))
    raise CheckFailed("%s: returned %r, expected %s" % (what, got, cls.__name__))


def client():
    return redis.Redis(host=HOST, port=PORT, socket_timeout=TIMEOUT)


def check(fn):
    name = fn.__name__
    try:
        fn()
        print("ok %s" % name)
    except CheckFailed as e:
        FAILED.append(name)
        print("FAIL %s: %s" % (name, e))
    except Exception:
        FAILED.append(name)
        print("FAIL %s: unexpected exception" % name)
        traceback.print_exc(file=sys.stdout)
    sys.stdout.flush()
    return fn


def sha(body):
    return hashlib.sha1(body.encode()).hexdigest()


RELEASE_SHA = sha(Lock.LUA_RELEASE_SCRIPT)
EXTEND_SHA = sha(Lock.LUA_EXTEND_SCRIPT)
REACQUIRE_SHA = sha(Lock.LUA_REACQUIRE_SCRIPT)


@check
def shipped_scripts_are_the_recognised_ones():
    expect("release sha1", RELEASE_SHA, "c3f8721cbb97f72bc19e972846bd7aaf91901658")
    expect("extend sha1", EXTEND_SHA, "a4e8783852e6b949f9ef3a97212805108459a890")
    expect("reacquire sha1", REACQUIRE_SHA, "1cac51482acf5858da00f6d685d68f886cd6b6b2")


@check
def acquire_extend_reacquire_release():
    r = client()
    r.flushall()
    r.script_flush()
    expect("fresh cache", r.script_exists(RELEASE_SHA, EXTEND_SHA, REACQUIRE_SHA), [False, False, False])
    lock = r.lock("res", timeout=10)
    expect("acquire", lock.acquire(blocking=False), True)
    expect("owned", lock.owned(), True)
    expect("locked", lock.locked(), True)
    expect_between("TTL after acquire", r.pttl("res"), 9000, 10000)
    other = r.lock("res", timeout=10)
    expect("second acquire", other.acquire(blocking=False), False)
    expect("other owned", other.owned(), False)

    expect("extend +20s", lock.extend(20), True)
    expect_between("TTL after extend +20", r.pttl("res"), 29000, 30000)
    expect("extend replace 5s", lock.extend(5, replace_ttl=True), True)
    expect_between("TTL after replace", r.pttl("res"), 4000, 5000)
    expect("reacquire", lock.reacquire(), True)
    expect_between("TTL after reacquire", r.pttl("res"), 9000, 10000)
    # The Lock loaded its scripts on NOSCRIPT (SCRIPT LOAD, then EVALSHA).
    expect("scripts loaded", r.script_exists(EXTEND_SHA, REACQUIRE_SHA), [True, True])

    lock.release()
    expect("key gone after release", r.exists("res"), 0)
    expect("owned after release", lock.owned(), False)
    expect("script cache", r.script_exists(RELEASE_SHA), [True])
    # Released: the other lock can now take it; a second release raises.
    expect("other acquires", other.acquire(blocking=False), True)
    expect_raises("release of a released lock", LockError, lock.release)
    other.release()


@check
def context_manager_and_blocking_timeout():
    r = client()
    r.flushall()
    with r.lock("cm", timeout=5) as lock:
        expect("held inside with", lock.owned(), True)
        waiter = r.lock("cm", timeout=5, blocking_timeout=0.2, sleep=0.01)
        start = time.time()
        expect("blocked acquire times out", waiter.acquire(), False)
        expect("waited", time.time() - start >= 0.15, True)
    expect("released by with", r.exists("cm"), 0)


@check
def foreign_token_cannot_release():
    r = client()
    r.flushall()
    lock = r.lock("res", timeout=10)
    expect("acquire", lock.acquire(blocking=False), True)
    thief = r.lock("res", timeout=10)
    thief.local.token = b"not-the-owner"
    # (release() forgets the local token first, so it goes last.)
    expect_raises("foreign extend", LockNotOwnedError, lambda: thief.extend(10))
    expect_raises("foreign reacquire", LockNotOwnedError, thief.reacquire)
    expect_raises("foreign release", LockNotOwnedError, thief.release)
    expect("key still held", r.get("res"), lock.local.token)
    expect_between("TTL untouched", r.pttl("res"), 9000, 10000)
    lock.release()
    expect("owner released", r.exists("res"), 0)


@check
def expired_lock_is_lost():
    r = client()
    r.flushall()
    lock = r.lock("exp", timeout=0.2)
    expect("acquire", lock.acquire(blocking=False), True)
    deadline = time.time() + 5
    while r.exists("exp") and time.time() < deadline:
        time.sleep(0.05)
    expect("expired", r.exists("exp"), 0)
    token = lock.local.token
    expect_raises("extend after expiry", LockNotOwnedError, lambda: lock.extend(1))
    expect_raises("reacquire after expiry", LockNotOwnedError, lock.reacquire)
    expect_raises("release after expiry", LockNotOwnedError, lock.release)
    # Someone else takes it; the old holder still cannot release it.
    other = r.lock("exp", timeout=10)
    expect("other acquires", other.acquire(blocking=False), True)
    lock.local.token = token
    expect_raises("old holder release", LockNotOwnedError, lock.release)
    expect("new holder keeps it", r.get("exp"), other.local.token)
    other.release()


@check
def survives_script_flush():
    r = client()
    r.flushall()
    lock = r.lock("fl", timeout=10)
    expect("acquire", lock.acquire(blocking=False), True)
    expect("extend", lock.extend(1), True)
    expect("flush", r.script_flush(), True)
    expect("cache empty", r.script_exists(EXTEND_SHA, RELEASE_SHA), [False, False])
    expect("extend after flush", lock.extend(1), True)
    lock.release()
    expect("released", r.exists("fl"), 0)


@check
def registered_script_in_a_pipeline():
    r = client()
    r.flushall()
    r.script_flush()
    release = r.register_script(Lock.LUA_RELEASE_SCRIPT)
    r.set("p", "tok")
    pipe = r.pipeline(transaction=True)
    release(keys=["p"], args=["bad"], client=pipe)
    release(keys=["p"], args=["tok"], client=pipe)
    pipe.exists("p")
    expect("pipeline results", pipe.execute(), [0, 1, 0])


COUNTER_THREADS = 8
ROUNDS = 100


@check
def contention_exact_count():
    r = client()
    r.flushall()
    errors = []

    def worker():
        c = client()
        try:
            for _ in range(ROUNDS):
                lock = Lock(c, "cnt-lock", timeout=10, sleep=0.001, blocking_timeout=60)
                if not lock.acquire():
                    errors.append("acquire timed out")
                    return
                try:
                    v = int(c.get("counter") or 0)
                    c.set("counter", v + 1)
                finally:
                    lock.release()
        except Exception as e:  # reported by the main thread
            errors.append("%s: %s" % (type(e).__name__, e))
        finally:
            c.close()

    threads = [threading.Thread(target=worker) for _ in range(COUNTER_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    if any(t.is_alive() for t in threads):
        raise CheckFailed("threads still running after 120 s")
    if errors:
        raise CheckFailed("worker errors: %s" % errors[:3])
    expect("final count", int(r.get("counter")), COUNTER_THREADS * ROUNDS)
    expect("lock free", r.exists("cnt-lock"), 0)


if FAILED:
    print("redis_py_lock_check: %d failed: %s" % (len(FAILED), " ".join(FAILED)))
    sys.exit(1)
print("redis_py_lock_check: all passed")
