#!/usr/bin/python3
"""bench-reshard.py - resharding side by side: a redis-server 7.0 cluster and
a slotcache cluster of the same shape, in one run, on loopback (clusters from
bench-cluster.py's Cluster class: each node in its own directory under one
temporary directory, ports picked free; both servers on their defaults
apart from --save "" and --appendonly no).

Per server (servers alternating over --rounds rounds; medians):
  1. Two masters, A and B: A gets all 16384 slots (CLUSTER ADDSLOTSRANGE),
     B none, MEET, wait for cluster_state:ok on both. --keys keys (default
     1M) of --size bytes (default 100), every one hashing into slots
     0-4095 (names `key:<n>` kept when their slot is below 4096), are
     written to A by `redis-cli --pipe` (ordinary writes).
  2. **Lookup cost on A** (tables filled by writes): --gets GETs of those
     keys in random order, pipelined by `redis-cli --pipe`; the server's
     CPU time per GET from /proc/<pid>/stat (user + system, all threads).
  3. **Resharding**: `redis-cli --cluster reshard` of the 4096 slots that
     hold the keys, A -> B, timed from start to exit; keys per second =
     the keys moved (A's DBSIZE drop, checked to be all of them) / time.
  4. **Lookup cost on B** (every key imported by MIGRATE, 10 at a time in
     redis-cli's slot order), as in 2. The ratio B / A is the cost of
     tables filled by an import against tables filled by writes
     (slotcache's hash-ordered tables would suffer from keys arriving in
     hash order without ktable's long-run rule; Redis's dict does not).
Prints one row per server and the slotcache / redis-server ratios.
Everything started is stopped and the temporary directory removed at the
end, on error too; every wait is bounded.

usage: scripts/bench-reshard.py [--keys 1000000] [--size 100] [--gets 2000000] [--rounds 1]
Needs /usr/bin/redis-server, redis-cli, python3-redis (/usr/bin/python3).
"""
import argparse, importlib.util, os, random, shutil, statistics, subprocess, sys, tempfile, time

from redis.crc import key_slot

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_spec = importlib.util.spec_from_file_location("bench_cluster", os.path.join(ROOT, "scripts", "bench-cluster.py"))
bc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bc)
log = bc.log
med = statistics.median
STEP = 4096


def key_names(n):
    """n key names whose slots are all below STEP."""
    names, i = [], 0
    while len(names) < n:
        k = b"key:%d" % i
        if key_slot(k) < STEP:
            names.append(k)
        i += 1
    return names


def pipe(node, payload):
    r = subprocess.run(["redis-cli", "-p", str(node.port), "--pipe"], input=payload, capture_output=True, timeout=900)
    if r.returncode != 0 or b"errors: 0" not in r.stdout:
        raise SystemExit(f"redis-cli --pipe failed: {r.stdout.decode()} {r.stderr.decode()}")


def load(node, names, size):
    val = b"x" * size
    pipe(node, b"".join(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, size, val)
                        for k in names))


def get_cost(node, gets_payload, gets):
    """The server's CPU microseconds per GET."""
    c0 = bc.repl.cpu_s(node.p.pid)
    pipe(node, gets_payload)
    return (bc.repl.cpu_s(node.p.pid) - c0) * 1e6 / gets


def dbsize(node):
    return int(node.r.dbsize())


def reshard(a, b, slots):
    ida = a.r.execute_command("CLUSTER", "MYID")
    idb = b.r.execute_command("CLUSTER", "MYID")
    before = dbsize(a)
    t0 = time.monotonic()
    r = subprocess.run(["redis-cli", "--cluster", "reshard", f"127.0.0.1:{a.port}", "--cluster-from", ida,
                        "--cluster-to", idb, "--cluster-slots", str(slots), "--cluster-yes"], capture_output=True,
                       text=True, timeout=3600)
    took = time.monotonic() - t0
    if r.returncode != 0 or "[ERR]" in r.stdout:
        raise SystemExit(f"reshard failed:\n{r.stdout[-3000:]}{r.stderr}")
    return before - dbsize(a), took


def run(name, binary, root, ports, a, names, gets_payload):
    cl = bc.Cluster(name, binary, 2, 15000, root, ports, [])
    try:
        cl.start()
        A, B = cl.nodes
        A.r.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
        B.r.execute_command("CLUSTER", "MEET", "127.0.0.1", A.port, A.cport)
        bc.wait_all_ok(name, cl.nodes, 120)
        t0 = time.monotonic()
        load(A, names, a.size)
        log(f"{name}: {dbsize(A)} keys loaded in {time.monotonic() - t0:.1f} s")
        cpu_a = get_cost(A, gets_payload, a.gets)
        moved, took = reshard(A, B, STEP)
        if moved != a.keys or dbsize(B) != a.keys:
            raise SystemExit(f"{name}: moved {moved} keys, B has {dbsize(B)} (want {a.keys})")
        cpu_b = get_cost(B, gets_payload, a.gets)
        log(f"{name}: {moved} keys in {took:.2f} s = {moved / took:.0f} keys/s; CPU per GET on A {cpu_a:.2f} us, "
            f"on B {cpu_b:.2f} us")
        return {"kps": moved / took, "secs": took, "cpu_a": cpu_a, "cpu_b": cpu_b}
    finally:
        cl.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=1000000)
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--gets", type=int, default=2000000)
    ap.add_argument("--rounds", type=int, default=1)
    a = ap.parse_args()
    for b in (bc.REDIS, bc.SLOTCACHE):
        if not os.path.exists(b):
            raise SystemExit(f"missing {b}")
    names = key_names(a.keys)
    order = list(range(a.keys))
    random.Random(1).shuffle(order)
    gets_payload = b"".join(b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (len(names[order[i % a.keys]]),
                                                                        names[order[i % a.keys]])
                            for i in range(a.gets))
    root = tempfile.mkdtemp(prefix="bench-reshard-")
    ports = bc.Ports()
    res = {"redis-server": [], "slotcache": []}
    try:
        for rnd in range(a.rounds):
            order = [("redis-server", bc.REDIS), ("slotcache", bc.SLOTCACHE)]
            if rnd % 2:
                order.reverse()
            for name, binary in order:
                res[name].append(run(f"{name}{rnd}", binary, root, ports, a, names, gets_payload))
    finally:
        shutil.rmtree(root, ignore_errors=True)

    def m(name, key):
        return med([r[key] for r in res[name]])

    print(f"redis-cli --cluster reshard of {STEP} slots holding {a.keys} keys x {a.size} B, {a.rounds} round(s), medians")
    print(f"{'':14}{'seconds':>9}{'keys/s':>10}{'us/GET A (writes)':>19}{'us/GET B (import)':>19}{'B/A':>7}")
    for name in ("redis-server", "slotcache"):
        print(f"{name:14}{m(name, 'secs'):9.2f}{m(name, 'kps'):10.0f}{m(name, 'cpu_a'):19.2f}{m(name, 'cpu_b'):19.2f}"
              f"{m(name, 'cpu_b') / m(name, 'cpu_a'):7.3f}")
    print(f"slotcache / redis-server: keys/s {m('slotcache', 'kps') / m('redis-server', 'kps'):.2f}, CPU per GET on A "
          f"{m('slotcache', 'cpu_a') / m('redis-server', 'cpu_a'):.2f}, on B "
          f"{m('slotcache', 'cpu_b') / m('redis-server', 'cpu_b'):.2f}")


if __name__ == "__main__":
    main()
