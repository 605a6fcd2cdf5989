#!/usr/bin/python3
"""bench-memory-types.py PORT_A PORT_B - memory per element, side by side.

For each server (A = slotcache, B = redis-server, both on 127.0.0.1, both
FLUSHALLed first - never point it at data you care about) measures, as the
used_memory and RSS delta divided by the element count:
  * 1M string keys key:N -> 100-byte value WITH a TTL (PX 1 hour)
  * one hash of 1M fields (field:N -> 10-byte value)
  * one set of 1M members (member:N)
  * one sorted set of 1M members (member:N, score N)
and prints one line per case with both servers' bytes and the ratio A/B.
Loads through redis-py pipelines of 10k commands (python3-redis).
"""
import sys
import time

import redis

N = 1_000_000
BATCH = 10_000


def rss(r):
    pid = r.info("server")["process_id"]
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def measure(r, load):
    r.flushall()
    time.sleep(0.5)
    m0, r0 = r.info("memory")["used_memory"], rss(r)
    load(r)
    time.sleep(0.5)
    m1, r1 = r.info("memory")["used_memory"], rss(r)
    r.flushall()
    return (m1 - m0) / N, (r1 - r0) / N


def load_strings_ttl(r):
    val = "v" * 100
    for i in range(0, N, BATCH):
        p = r.pipeline(transaction=False)
        for j in range(i, i + BATCH):
            p.set("key:%d" % j, val, px=3_600_000)
        p.execute()


def load_hash(r):
    for i in range(0, N, BATCH):
        r.hset("h", mapping={"field:%d" % j: "0123456789" for j in range(i, i + BATCH)})


def load_set(r):
    for i in range(0, N, BATCH):
        r.sadd("s", *["member:%d" % j for j in range(i, i + BATCH)])


def load_zset(r):
    for i in range(0, N, BATCH):
        r.zadd("z", {"member:%d" % j: j for j in range(i, i + BATCH)})


def main():
    a = redis.Redis(port=int(sys.argv[1]))
    b = redis.Redis(port=int(sys.argv[2]))
    cases = [("string key + 100B value + TTL", load_strings_ttl), ("hash field (1M-field hash)", load_hash),
             ("set member (1M-member set)", load_set), ("zset member (1M-member zset)", load_zset)]
    print("%-32s %14s %14s %8s %14s %14s %8s" % ("case (bytes per element)", "A used", "B used", "A/B",
                                                  "A rss", "B rss", "A/B"))
    for name, load in cases:
        ua, ra = measure(a, load)
        ub, rb = measure(b, load)
        print("%-32s %14.1f %14.1f %8.3f %14.1f %14.1f %8.3f" % (name, ua, ub, ua / ub, ra, rb, ra / rb))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
