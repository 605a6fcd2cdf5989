#!/usr/bin/env python3
"""scripts/bench-scan-resistance.py PORT [PORT...] - how many keys in use
survive a scan of keys written once, under maxmemory 20mb and allkeys-lru.

Per server: FLUSHALL, write 20,000 "hot" keys (100-byte values) and read
each twice, then write 400,000 "scan" keys once each (pipelined, 1,000 at a
time) while re-reading 1 in 50 hot keys every 20,000 scan keys; then count
the hot keys left. Destructive (FLUSHALL, CONFIG SET maxmemory and
maxmemory-policy; maxmemory is set back to 0 at the end). Prints one line
per server. Needs redis-py: run it with /usr/bin/python3.
"""
import sys
import time

import redis

HOT_N = 20000
SCAN_N = 400000
BATCH = 1000
VALUE = b"x" * 100


def run(port):
    r = redis.Redis(port=port)
    r.flushall()
    r.config_set("maxmemory", "20mb")
    r.config_set("maxmemory-policy", "allkeys-lru")
    p = r.pipeline(transaction=False)
    for i in range(HOT_N):
        p.set(f"hot:{i}", VALUE)
    p.execute()
    for _ in range(2):
        for i in range(0, HOT_N, BATCH):
            p = r.pipeline(transaction=False)
            for j in range(i, i + BATCH):
                p.get(f"hot:{j}")
            p.execute()
    start = time.time()
    for i in range(0, SCAN_N, BATCH):
        p = r.pipeline(transaction=False)
        for j in range(i, i + BATCH):
            p.set(f"scan:{j}", VALUE)
        p.execute()
        if i % 20000 == 0:  # the hot set stays in use, at a low rate
            p = r.pipeline(transaction=False)
            for j in range(0, HOT_N, 50):
                p.get(f"hot:{j}")
            p.execute()
    scan_s = time.time() - start
    p = r.pipeline(transaction=False)
    for i in range(HOT_N):
        p.exists(f"hot:{i}")
    alive = sum(p.execute())
    print(f"port {port}: hot keys surviving a {SCAN_N}-key scan: {alive}/{HOT_N} ({alive / HOT_N:.1%}), "
          f"scan {scan_s:.1f} s, dbsize {r.dbsize()}")
    r.config_set("maxmemory", "0")
    r.flushall()


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for arg in sys.argv[1:]:
        run(int(arg))
