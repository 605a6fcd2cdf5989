#!/usr/bin/python3
"""bench-failover.py - failover side by side: a redis-server 7.0 cluster and
a slotcache cluster of the same shape (3 masters + 3 replicas, made by
`redis-cli --cluster create --cluster-replicas 1`) and the same
cluster-node-timeout (--timeout, default 2000 ms), in one run, on loopback.
Clusters come from bench-cluster.py's Cluster class (each node in its own
directory under one temporary directory, ports picked free).

  1. Automatic failover: a writer thread sends `SET {tag}k<i> <i>` then
     `WAIT 1 100` to a master, a write counting as acknowledged when WAIT
     answers 1; after --warm acknowledged writes the master is killed with
     SIGKILL. The writer then sends the same SET to the master's replica
     every 5 ms until one is accepted (+OK). **Failover time** = from the
     kill to that first accepted write on the new master. Every
     WAIT-acknowledged key is then read back from the new master (lost ones
     counted), and the keys that were only SET-acknowledged (+OK without a
     WAIT of 1) too. The victim is restarted from its nodes.conf (it
     rejoins as a replica) and the cluster waited for until steady before
     the next run. --runs runs per server, servers alternating, victims
     rotating over the masters; medians.
  2. Manual failover: a writer sends `INCR {tag}c` to the master in a loop
     (following -MOVED, retrying -TRYAGAIN after 1 ms: slotcache refuses
     writes while its master hands over, Redis makes them wait), counting
     the INCRs answered with a number; `CLUSTER FAILOVER` is sent to the
     master's replica. **Time** = from the command to the first INCR the
     replica accepts as master; **unavailability** = the longest gap between
     two consecutive acknowledged INCRs around it. The counter is then read
     on the new master: it must equal the acknowledged INCRs (lost =
     acknowledged - value). Then `CLUSTER FAILOVER` on the old master gives
     its role back for the next run. --manual-runs runs per server.

usage: scripts/bench-failover.py [--timeout 2000] [--runs 10] [--manual-runs 5] [--warm 200]
Needs /usr/bin/redis-server, redis-cli, python3-redis (/usr/bin/python3).
"""
import argparse, importlib.util, os, shutil, statistics, sys, tempfile, threading, time

import redis

# bench-cluster.py's Cluster, Ports, log (it loads bench-rdb.py's start / stop).
_spec = importlib.util.spec_from_file_location(
    "bench_cluster", os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench-cluster.py"))
bc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bc)
log = bc.log
med = statistics.median


def shard_pairs(cl):
    """[(master Node, replica Node, hash tag served by the master)] from CLUSTER NODES / SLOTS."""
    nodes = cl.alive()
    by_id = {nd.r.execute_command("CLUSTER", "MYID"): nd for nd in nodes}
    view = nodes[0].nodes()
    pairs = []
    for mid, (flags, _, _) in view.items():
        if "master" not in flags or "fail" in flags or mid not in by_id:
            continue
        reps = [by_id[i] for i, (f, m, _) in view.items() if m == mid and i in by_id and "fail" not in f]
        if not reps:
            continue
        m = by_id[mid]
        tag = None
        for k in range(100000):
            slot = m.r.execute_command("CLUSTER", "KEYSLOT", f"t{k}")
            if owner_port(m, slot) == m.port:
                tag = f"t{k}"
                break
        pairs.append((m, reps[0], tag))
    return sorted(pairs, key=lambda p: p[0].port)


def owner_port(nd, slot):
    for start, end, master, *_ in nd.r.execute_command("CLUSTER", "SLOTS"):
        if start <= slot <= end:
            return int(master[1])
    return None


def client(port):
    return redis.Redis(port=port, socket_timeout=2, socket_connect_timeout=1, decode_responses=True)


def auto_failover(cl, run, warm):
    pairs = shard_pairs(cl)
    m, rep, tag = pairs[run % len(pairs)]
    rm, rr = client(m.port), client(rep.port)
    acked, okonly, i = {}, {}, 0
    while len(acked) < warm:
        k = f"{{{tag}}}k{i}"
        rm.set(k, i)
        if rm.execute_command("WAIT", 1, 100) >= 1:
            acked[k] = str(i)
        else:
            okonly[k] = str(i)
        i += 1
    t0 = time.monotonic()
    m.kill()
    deadline = t0 + 60
    while True:
        try:
            if rr.set(f"{{{tag}}}after", 1):
                break
        except (redis.ResponseError, redis.ConnectionError, redis.TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"{cl.name}: no write accepted by the replica within 60 s of the kill")
        time.sleep(0.005)
    took = time.monotonic() - t0
    pipe = rr.pipeline(transaction=False)
    for k in acked:
        pipe.get(k)
    lost = sum(1 for k, v in zip(acked, pipe.execute()) if v != acked[k])
    pipe = rr.pipeline(transaction=False)
    for k in okonly:
        pipe.get(k)
    lost_ok = sum(1 for k, v in zip(okonly, pipe.execute()) if v != okonly[k]) if okonly else 0
    m.start()
    cl.wait_steady()
    return took, lost, len(acked), lost_ok, len(okonly)


def manual_failover(cl, run):
    pairs = shard_pairs(cl)
    m, rep, tag = pairs[run % len(pairs)]
    key = f"{{{tag}}}c{run}"
    stop = threading.Event()
    acks = []  # (time, node port)
    err = []

    def writer():
        port = m.port
        c = client(port)
        while not stop.is_set():
            try:
                c.incr(key)
                acks.append((time.monotonic(), port))
            except redis.ResponseError as e:
                s = str(e)
                if s.startswith("MOVED"):
                    port = int(s.split()[-1].rsplit(":", 1)[1])
                    c = client(port)
                elif s.startswith("TRYAGAIN"):
                    time.sleep(0.001)
                else:
                    err.append(s)
                    time.sleep(0.001)
            except (redis.ConnectionError, redis.TimeoutError):
                time.sleep(0.001)

    th = threading.Thread(target=writer)
    th.start()
    while len(acks) < 200:
        time.sleep(0.01)
    t0 = time.monotonic()
    rep.r.execute_command("CLUSTER", "FAILOVER")
    deadline = t0 + 30
    while not any(t > t0 and p == rep.port for t, p in acks[-50:]):
        if time.monotonic() > deadline:
            stop.set()
            th.join()
            raise SystemExit(f"{cl.name}: the replica accepted no write within 30 s of CLUSTER FAILOVER")
        time.sleep(0.002)
    first = next(t for t, p in acks if t > t0 and p == rep.port)
    time.sleep(0.3)
    stop.set()
    th.join()
    times = [t for t, _ in acks]
    gap = max((b - a for a, b in zip(times, times[1:]) if b > t0 - 1), default=0)
    value = int(client(rep.port).get(key) or 0)
    lost = len(acks) - value
    cl.wait_steady()
    # Give the role back, so every run starts from the same shape.
    rep_view = m.r.execute_command("CLUSTER", "NODES")
    if "slave" in [l for l in rep_view.splitlines() if "myself" in l][0]:
        t1 = time.monotonic()
        asked = 0.0
        while "master" not in m.r.info("replication").get("role", ""):
            if time.monotonic() - asked > 6:  # a manual failover times out after 5 s: ask again
                m.r.execute_command("CLUSTER", "FAILOVER")
                asked = time.monotonic()
            if time.monotonic() - t1 > 40:
                raise SystemExit(f"{cl.name}: the old master did not take its role back")
            time.sleep(0.05)
        cl.wait_steady()
    if err:
        log(f"{cl.name}: errors other than MOVED / TRYAGAIN: {sorted(set(err))[:3]}")
    return first - t0, gap, lost, len(acks), len(err)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--timeout", type=int, default=2000, help="cluster-node-timeout (ms)")
    ap.add_argument("--runs", type=int, default=10, help="kill -9 runs per server")
    ap.add_argument("--manual-runs", type=int, default=5, help="CLUSTER FAILOVER runs per server")
    ap.add_argument("--warm", type=int, default=200, help="WAIT-acknowledged writes before each kill")
    a = ap.parse_args()
    if not os.access(bc.SLOTCACHE, os.X_OK):
        raise SystemExit(f"build {bc.SLOTCACHE} first (make)")
    servers = [("redis", bc.REDIS, []), ("slotcache", bc.SLOTCACHE, ["--threads", "1"])]
    root = tempfile.mkdtemp(prefix="bench-failover-")
    ports = bc.Ports()
    clusters = {}
    res = {name: {"auto": [], "manual": []} for name, _, _ in servers}
    try:
        for name, binary, extra in servers:
            cl = bc.Cluster(name, binary, 6, a.timeout, root, ports, extra + ["--repl-diskless-sync-delay", "0"])
            clusters[name] = cl
            cl.start()
            cl.create(1)
            cl.wait_ok()
            cl.wait_steady()
        for run in range(a.runs):
            for name, _, _ in (servers if run % 2 == 0 else servers[::-1]):
                r = auto_failover(clusters[name], run, a.warm)
                res[name]["auto"].append(r)
                log(f"{name} kill -9 run {run + 1}: first write on the new master after {r[0]:.2f} s; "
                    f"WAIT-acknowledged lost {r[1]}/{r[2]}, +OK-only lost {r[3]}/{r[4]}")
        for run in range(a.manual_runs):
            for name, _, _ in (servers if run % 2 == 0 else servers[::-1]):
                r = manual_failover(clusters[name], run)
                res[name]["manual"].append(r)
                log(f"{name} CLUSTER FAILOVER run {run + 1}: first write on the new master after {r[0] * 1000:.0f} ms, "
                    f"longest write gap {r[1] * 1000:.0f} ms, lost {r[2]}/{r[3]}, other errors {r[4]}")
    finally:
        for cl in clusters.values():
            cl.stop()
        shutil.rmtree(root, ignore_errors=True)

    print(f"== failover, 3 masters + 3 replicas, cluster-node-timeout {a.timeout} ms (medians)")
    for name in ("redis", "slotcache"):
        au, ma = res[name]["auto"], res[name]["manual"]
        line = f"{name:10s}"
        if au:
            line += (f" kill -9 -> first write on the new master {med(x[0] for x in au):.2f} s "
                     f"(min {min(x[0] for x in au):.2f}, max {max(x[0] for x in au):.2f}, {len(au)} runs); "
                     f"WAIT-acknowledged lost {sum(x[1] for x in au)}/{sum(x[2] for x in au)}, "
                     f"+OK-only lost {sum(x[3] for x in au)}/{sum(x[4] for x in au)}")
        if ma:
            line += (f"; CLUSTER FAILOVER -> first write {med(x[0] for x in ma) * 1000:.0f} ms, longest write gap "
                     f"{med(x[1] for x in ma) * 1000:.0f} ms, acknowledged INCRs lost {sum(x[2] for x in ma)}/"
                     f"{sum(x[3] for x in ma)}")
        print(line)
    if res["redis"]["auto"] and res["slotcache"]["auto"]:
        print(f"ratio slotcache / redis-server, kill -9 failover time: "
              f"{med(x[0] for x in res['slotcache']['auto']) / med(x[0] for x in res['redis']['auto']):.2f}")
    if res["redis"]["manual"] and res["slotcache"]["manual"]:
        print(f"ratio slotcache / redis-server, CLUSTER FAILOVER time: "
              f"{med(x[0] for x in res['slotcache']['manual']) / med(x[0] for x in res['redis']['manual']):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
