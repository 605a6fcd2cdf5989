#!/usr/bin/python3
"""bench-rdb.py - RDB snapshots side by side: slotcache and redis-server.

For each server, in a fresh temp directory:
  1. SET N keys of SIZE bytes (default 1M x 100 B) named as redis-benchmark
     -r names them (key:%012d), so the write load below overwrites them and
     the dataset does not grow while it is measured; plus a mix of types
     with --mix;
  2. start a write load over the whole keyspace (redis-benchmark SET -r N
     -P 16) and BGSAVE while it runs; sample the memory of the server and
     of its children (redis-server forks) every 10 ms: the peak growth of
     their summed PSS over the baseline before the BGSAVE is the memory a
     snapshot costs (fork's copy-on-write pages for Redis, pre-images for
     slotcache);
  3. report the time of a quiet SAVE and the size of its file (the same
     data on both servers), the BGSAVE wall time under the write load, and
     the time to load the file at a restart (start until PING answers PONG,
     i.e. loading done). The file written under writes holds whatever the
     load had overwritten by then (redis-benchmark's values are random), so
     its size says more about throughput than about the format.
Prints one row per server and the slotcache / redis-server ratios.

usage: scripts/bench-rdb.py [--keys N] [--size BYTES] [--mix] [--threads T]
Needs /usr/bin/redis-server, redis-benchmark, python3-redis.
"""
import argparse, os, shutil, socket, subprocess, sys, tempfile, time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def pss_kb(pid):
    """PSS of pid and its children (kB)."""
    total = 0
    pids = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            pids += [int(x) for x in f.read().split()]
    except OSError:
        pass
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def start(binary, d, port, extra):
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", d] + extra
    log = open(os.path.join(d, "server.log"), "ab")
    p = subprocess.Popen(args, stdout=log, stderr=log, cwd=d)
    r = redis.Redis(port=port, socket_timeout=120)
    t0 = time.time()
    for _ in range(60000):
        try:
            if r.ping():
                return p, r, time.time() - t0
        except (redis.ConnectionError, redis.BusyLoadingError, redis.ResponseError):
            pass
        if p.poll() is not None:
            raise SystemExit(f"{binary} exited; see {d}/server.log")
        time.sleep(0.002)
    raise SystemExit(f"{binary} did not answer")


def stop(p, r):
    try:
        r.shutdown(nosave=True)
    except Exception:
        pass
    try:
        p.wait(30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def mix(r, n):
    pipe = r.pipeline(transaction=False)
    for i in range(n):
        pipe.hset(f"h:{i}", mapping={f"f{j}": "v" * 20 for j in range(10)})
        pipe.rpush(f"l:{i}", *[f"e{j}" for j in range(10)])
        pipe.sadd(f"s:{i}", *[str(j) for j in range(10)])
        pipe.zadd(f"z:{i}", {f"m{j}": j for j in range(10)})
        if i % 1000 == 999:
            pipe.execute()
    pipe.execute()


def run(name, binary, extra, a):
    d = tempfile.mkdtemp(prefix="bench-rdb-")
    port = free_port()
    p, r, _ = start(binary, d, port, extra)
    pipe = r.pipeline(transaction=False)
    val = b"x" * a.size
    for i in range(a.keys):
        pipe.set(b"key:%012d" % i, val)
        if i % 5000 == 4999:
            pipe.execute()
    pipe.execute()
    if a.mix:
        mix(r, a.keys // 10)
    t0 = time.time()
    r.save()  # a quiet save: the file size of the same data on both servers
    save_s = time.time() - t0
    quiet_size = os.path.getsize(os.path.join(d, "dump.rdb"))
    time.sleep(0.5)
    base = pss_kb(p.pid)
    data_kb = r.info("memory")["used_memory"] / 1024
    load = subprocess.Popen(["redis-benchmark", "-p", str(port), "-t", "set", "-r", str(a.keys), "-d", str(a.size),
                             "-n", str(a.keys * 20), "-P", "16", "-q"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    peak = base
    t0 = time.time()
    r.bgsave()
    while True:
        peak = max(peak, pss_kb(p.pid))
        if r.info("persistence")["rdb_bgsave_in_progress"] == 0:
            break
        time.sleep(0.01)
    elapsed = time.time() - t0
    load.kill()
    load.wait()
    ok = r.info("persistence")["rdb_last_bgsave_status"]
    size = os.path.getsize(os.path.join(d, "dump.rdb"))
    keys = r.dbsize()
    stop(p, r)
    p, r, load_s = start(binary, d, port, extra)
    loaded = r.dbsize()
    stop(p, r)
    shutil.rmtree(d, ignore_errors=True)
    row = {"name": name, "bgsave_s": elapsed, "status": ok, "size_mb": quiet_size / 1e6, "load_s": load_s,
           "save_s": save_s,
           "growth_mb": (peak - base) / 1024, "data_mb": data_kb / 1024, "keys": keys, "loaded": loaded}
    print(f"{name:10s} save {save_s:5.2f} s  file {quiet_size / 1e6:6.1f} MB | under writes: bgsave {elapsed:5.2f} s "
          f"({ok}) file {size / 1e6:6.1f} MB  load {load_s:5.2f} s  "
          f"peak growth {row['growth_mb']:7.1f} MB of {row['data_mb']:7.1f} MB used "
          f"({100 * row['growth_mb'] / row['data_mb']:.1f}%)  keys saved {keys} loaded {loaded}")
    return row


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=1000000)
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--mix", action="store_true")
    ap.add_argument("--threads", type=int, default=0, help="slotcache --threads (0: its default)")
    a = ap.parse_args()
    sc = os.path.join(ROOT, "build", "slotcache-server")
    extra = ["--threads", str(a.threads)] if a.threads else []
    rs = run("redis", "/usr/bin/redis-server", [], a)
    ss = run("slotcache", sc, extra, a)
    print(f"ratios slotcache/redis: save time {ss['save_s'] / rs['save_s']:.2f}  "
          f"bgsave time under writes {ss['bgsave_s'] / rs['bgsave_s']:.2f}  "
          f"file size {ss['size_mb'] / rs['size_mb']:.2f}  load time {ss['load_s'] / rs['load_s']:.2f}  "
          f"snapshot memory {ss['growth_mb'] / max(rs['growth_mb'], 0.001):.2f}")


if __name__ == "__main__":
    sys.exit(main())
