#!/usr/bin/python3
"""bench-repl.py - replication side by side: a slotcache master and a
redis-server master, each with the same kind of replica (redis-server 7.0,
so that only the master differs), in one run.

For each master:
  1. SET throughput (redis-benchmark -t set -P 16 -d 100 -r 100000) on the
     master alone, then with one replica attached and online: the ratio
     with/without is what a replica costs the master.
  2. Full sync of N keys x SIZE bytes (default 1M x 100 B) while a write
     load runs over the same keys: by default redis-benchmark SET -P 16, as
     fast as the master takes it; with --load-rate W, W SETs per second
     (batches of W/100 every 10 ms, the same for both masters). The time
     from REPLICAOF until the replica reports master_link_status:up, and
     the peak growth of the master's memory (PSS of the server and its
     children: redis-server forks) over its baseline during the sync, and
     the peak of INFO mem_total_replication_buffers meanwhile (the write
     stream held for the replica until it has loaded the snapshot: both
     servers keep it; the rest is what the snapshot itself costs).
  3. Replication lag once online, under a lighter write load (4 clients,
     no pipelining, which either replica keeps up with): every 10 ms the
     master's master_repl_offset and then the replica's slave_repl_offset;
     the difference in bytes, p50 / p99 / max over the sampling window.
Prints one row per master and the slotcache / redis-server ratios.

usage: scripts/bench-repl.py [--keys N] [--size BYTES] [--threads T] [--seconds S]
                             [--rounds R] [--throughput-only] [--load-rate W]
Needs /usr/bin/redis-server, redis-benchmark, python3-redis.
"""
import argparse, importlib.util, os, re, shutil, subprocess, sys, tempfile, time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_spec = importlib.util.spec_from_file_location("bench_rdb", os.path.join(ROOT, "scripts", "bench-rdb.py"))
rdb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rdb)  # free_port, pss_kb, start, stop


def cpu_s(pid):
    """User + system CPU seconds of process pid, all its threads."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_set(port, n, pid):
    """SETs per second, and the master's CPU microseconds per SET (on a
    machine with few cores the replica competes with the master for CPU,
    so the CPU the master spends per write is what isolates the cost of
    feeding a replica from the machine's size)."""
    c0 = cpu_s(pid)
    out = subprocess.run(["redis-benchmark", "-p", str(port), "-t", "set", "-n", str(n), "-P", "16",
                          "-d", "100", "-r", "100000", "-c", "50", "-q"], capture_output=True, text=True).stdout
    m = re.findall(r"([0-9.]+) requests per second", out)
    return (float(m[-1]) if m else 0.0), (cpu_s(pid) - c0) * 1e6 / n


def wait_online(m, r, limit_s=600):
    t0 = time.time()
    while time.time() - t0 < limit_s:
        info = r.info("replication")
        if info.get("master_link_status") == "up":
            minfo = m.info("replication")
            if "online" in str(minfo.get("slave0", "")):
                return time.time() - t0
        time.sleep(0.01)
    raise SystemExit("replica not online in time")


def run(name, binary, extra, a):
    d = tempfile.mkdtemp(prefix="bench-repl-")
    rd = tempfile.mkdtemp(prefix="bench-repl-replica-")
    port, rport = rdb.free_port(), rdb.free_port()
    p, m, _ = rdb.start(binary, d, port, extra + ["--repl-diskless-sync-delay", "0"])
    rp, r, _ = rdb.start("/usr/bin/redis-server", rd, rport, [])

    # 1. throughput without and with a replica: medians of --rounds runs
    #    each, alternating (the replica detached and attached again)
    alones, withs, cpu_alone, cpu_with = [], [], [], []
    med = lambda xs: sorted(xs)[len(xs) // 2]
    for _ in range(a.rounds):
        rate, cpu = bench_set(port, a.requests, p.pid)
        alones.append(rate)
        cpu_alone.append(cpu)
        r.replicaof("127.0.0.1", port)
        wait_online(m, r)
        rate, cpu = bench_set(port, a.requests, p.pid)
        withs.append(rate)
        cpu_with.append(cpu)
        r.replicaof("no", "one")
    alone, with_replica = med(alones), med(withs)
    cpu0, cpu1 = med(cpu_alone), med(cpu_with)
    m.flushall()
    if a.throughput_only:
        print(f"{name:10s} SET {alone:10.0f}/s alone {with_replica:10.0f}/s with a replica "
              f"(ratio {with_replica / alone:.2f}; runs {[round(x) for x in alones]} / {[round(x) for x in withs]}); "
              f"master CPU per SET {cpu0:.2f} us alone, {cpu1:.2f} us with a replica (x{cpu1 / cpu0:.2f})")
        rdb.stop(rp, r)
        rdb.stop(p, m)
        return {"name": name, "ratio": with_replica / alone, "alone": alone, "with": with_replica,
                "cpu0": cpu0, "cpu1": cpu1}

    # 2. full sync of the dataset under a write load
    pipe = m.pipeline(transaction=False)
    val = b"x" * a.size
    for i in range(a.keys):
        pipe.set(b"key:%012d" % i, val)
        if i % 5000 == 4999:
            pipe.execute()
    pipe.execute()
    time.sleep(0.5)
    data_kb = m.info("memory")["used_memory"] / 1024
    if a.load_rate:
        load = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--paced-load", str(port),
                                 "--load-rate", str(a.load_rate), "--keys", str(a.keys), "--size", str(a.size)])
    else:
        load = subprocess.Popen(["redis-benchmark", "-p", str(port), "-t", "set", "-r", str(a.keys), "-d",
                                 str(a.size), "-n", str(a.keys * 100), "-P", "16", "-q"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    base = rdb.pss_kb(p.pid)
    peak = base
    peak_buf = 0
    r.flushall()
    t0 = time.time()
    r.replicaof("127.0.0.1", port)
    while True:
        peak = max(peak, rdb.pss_kb(p.pid))
        peak_buf = max(peak_buf, m.info("memory").get("mem_total_replication_buffers", 0))
        info = r.info("replication")
        if info.get("master_link_status") == "up":
            break
        if time.time() - t0 > 600:
            raise SystemExit("sync did not finish")
        time.sleep(0.01)
    sync_s = time.time() - t0

    # 3. lag once online, under a load both replicas keep up with (4
    #    clients, no pipelining): the lag then measures propagation, not the
    #    replica's apply speed
    load.kill()
    load.wait()
    wait_online(m, r)
    t2 = time.time()
    for _ in range(6000):  # the replica applies what piled up during the sync
        if r.info("replication")["slave_repl_offset"] >= m.info("replication")["master_repl_offset"]:
            break
        time.sleep(0.01)
    catchup_s = time.time() - t2
    load = subprocess.Popen(["redis-benchmark", "-p", str(port), "-t", "set", "-r", str(a.keys), "-d", str(a.size),
                             "-n", str(a.keys * 100), "-c", "4", "-P", "1", "-q"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    lags = []
    t1 = time.time()
    while time.time() - t1 < a.seconds:
        mo = m.info("replication")["master_repl_offset"]
        ro = r.info("replication")["slave_repl_offset"]
        lags.append(max(0, mo - ro))
        time.sleep(0.01)
    load.kill()
    load.wait()
    lags.sort()
    q = lambda f: lags[min(len(lags) - 1, int(f * len(lags)))] if lags else 0
    row = {"name": name, "alone": alone, "with": with_replica, "ratio": with_replica / alone if alone else 0,
           "cpu0": cpu0, "cpu1": cpu1,
           "sync_s": sync_s, "growth_mb": (peak - base) / 1024, "data_mb": data_kb / 1024,
           "buf_mb": peak_buf / 1e6, "catchup_s": catchup_s,
           "lag50": q(0.50), "lag99": q(0.99), "lagmax": lags[-1] if lags else 0}
    print(f"{name:10s} SET {alone:10.0f}/s alone {with_replica:10.0f}/s with a replica (ratio {row['ratio']:.2f}) | "
          f"full sync ({'%d SET/s' % a.load_rate if a.load_rate else 'unthrottled SETs'}) {sync_s:6.2f} s, master growth {row['growth_mb']:7.1f} MB of {row['data_mb']:7.1f} MB "
          f"({100 * row['growth_mb'] / row['data_mb']:.1f}%; of it the stream buffered for the replica: peak "
          f"{row['buf_mb']:.1f} MB; caught up {row['catchup_s']:.1f} s later) | lag bytes p50 {row['lag50']} p99 {row['lag99']} "
          f"max {row['lagmax']}")
    rdb.stop(rp, r)
    rdb.stop(p, m)
    shutil.rmtree(d, ignore_errors=True)
    shutil.rmtree(rd, ignore_errors=True)
    return row


def paced_load(port, rate, keys, size):
    """SET random keys of `keys` at `rate` per second, in batches every 10 ms, until killed."""
    import random
    c = redis.Redis(port=port)
    val = b"y" * size
    batch = max(1, rate // 100)
    t = time.monotonic()
    while True:
        pipe = c.pipeline(transaction=False)
        for _ in range(batch):
            pipe.set(b"key:%012d" % random.randrange(keys), val)
        pipe.execute()
        t += batch / rate
        d = t - time.monotonic()
        if d > 0:
            time.sleep(d)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=1000000)
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--requests", type=int, default=2000000)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--threads", type=int, default=0, help="slotcache --threads (0: its default)")
    ap.add_argument("--rounds", type=int, default=3, help="throughput runs each way (medians)")
    ap.add_argument("--throughput-only", action="store_true")
    ap.add_argument("--load-rate", type=int, default=0, help="SETs/s during the full sync (0: unthrottled)")
    ap.add_argument("--paced-load", type=int, default=0, help=argparse.SUPPRESS)  # internal: the paced writer
    a = ap.parse_args()
    if a.paced_load:
        paced_load(a.paced_load, a.load_rate, a.keys, a.size)
        return 0
    sc = os.path.join(ROOT, "build", "slotcache-server")
    extra = ["--threads", str(a.threads)] if a.threads else []
    rs = run("redis", "/usr/bin/redis-server", [], a)
    ss = run("slotcache", sc, extra, a)
    if a.throughput_only:
        print(f"slotcache/redis: throughput ratio with a replica {ss['ratio']:.2f} vs {rs['ratio']:.2f}; "
              f"with a replica slotcache/redis {ss['with'] / rs['with']:.2f}; master CPU per SET with/without "
              f"a replica x{ss['cpu1'] / ss['cpu0']:.2f} vs x{rs['cpu1'] / rs['cpu0']:.2f}")
        return 0
    print(f"slotcache/redis: throughput ratio with a replica {ss['ratio']:.2f} vs {rs['ratio']:.2f}; "
          f"master CPU per SET with/without a replica x{ss['cpu1'] / ss['cpu0']:.2f} vs x{rs['cpu1'] / rs['cpu0']:.2f}; "
          f"full sync time {ss['sync_s'] / rs['sync_s']:.2f}; master memory growth "
          f"{ss['growth_mb']:.1f} MB ({100 * ss['growth_mb'] / ss['data_mb']:.1f}% of its data) vs "
          f"{rs['growth_mb']:.1f} MB ({100 * rs['growth_mb'] / rs['data_mb']:.1f}%); without the stream buffered "
          f"for the replica {max(0, ss['growth_mb'] - ss['buf_mb']):.1f} MB "
          f"({100 * max(0, ss['growth_mb'] - ss['buf_mb']) / ss['data_mb']:.1f}%) vs "
          f"{max(0, rs['growth_mb'] - rs['buf_mb']):.1f} MB "
          f"({100 * max(0, rs['growth_mb'] - rs['buf_mb']) / rs['data_mb']:.1f}%); "
          f"lag p99 {ss['lag99']} vs {rs['lag99']} bytes")


if __name__ == "__main__":
    sys.exit(main())
