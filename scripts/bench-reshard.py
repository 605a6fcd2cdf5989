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

With --atomic, slotcache only (redis-server 7.0 has no atomic migration),
per round, on the same two-master cluster and data as above:
  1. A steady client load starts: --load-procs processes (default 4), each
     --load-rate operations/s (default 1000), half GET and half SET (a
     --size value) of random keys among the loaded ones, one at a time on
     a connection per node, routed by CLUSTER SLOTS; -MOVED updates the
     slot and is re-sent, -ASK is followed (ASKING), -TRYAGAIN retried; an
     operation's latency includes its redirections. Each is recorded with
     its start time.
  2. **Baseline**: --baseline seconds (default 5) of that load alone.
  3. **Atomic migration**: `CLUSTER MIGRATESLOTS SLOTSRANGE 0 4095 NODE B`
     on A, timed until A's job in CLUSTER GETSLOTMIGRATIONS says success
     (polled every 5 ms); keys/s = the job's keys / time; the time A paused
     the slots' writes, from A's log line; checked: B holds all the keys, A
     none (A's deletion is polled).
  4. 1 s of load on the new layout, then (unless --no-reshard) the same
     4096 slots moved back by `redis-cli --cluster reshard` B -> A (Redis
     7.0's key-by-key MIGRATE, -ASK for keys already moved) under the load,
     for comparison.
Prints the migration's time, keys/s and write pause, and per window
(baseline, during MIGRATESLOTS, during the reshard) the operations, their
latency p50 / p99 / p99.9 / max and the redirections the load followed.
Everything started is stopped and the temporary directory removed at the
end, on error too; every wait is bounded.

usage: scripts/bench-reshard.py [--keys 1000000] [--size 100] [--gets 2000000] [--rounds 1]
       scripts/bench-reshard.py --atomic [--keys N] [--size B] [--rounds N] [--load-procs 4]
                                [--load-rate 1000] [--baseline 5] [--no-reshard]
Needs /usr/bin/redis-server (not with --atomic), redis-cli, python3-redis (/usr/bin/python3).
"""
import argparse, importlib.util, multiprocessing, os, random, re, shutil, statistics, subprocess, tempfile, \
    time

import redis

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


def two_masters(cl, name, a, names):
    """Start cl's two nodes, A with every slot and B with none, and load
    the keys into A. Returns (A, B)."""
    cl.start()
    A, B = cl.nodes
    A.r.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
    B.r.execute_command("CLUSTER", "MEET", "127.0.0.1", A.port, A.cport)
    bc.wait_all_ok(name, cl.nodes, 120)
    wait_until(f"{name}: B known to A", 60, lambda: len(A.nodes()) == 2 and len(B.nodes()) == 2)
    t0 = time.monotonic()
    load(A, names, a.size)
    log(f"{name}: {dbsize(A)} keys loaded in {time.monotonic() - t0:.1f} s")
    return A, B


def run(name, binary, root, ports, a, names, gets_payload):
    cl = bc.Cluster(name, binary, 2, 15000, root, ports, [])
    try:
        A, B = two_masters(cl, name, a, names)
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


# ------------------------------------------------------------ --atomic

def load_proc(ports, names, size, rate, seed, stop, out):
    """One load process (see the docstring): GET / SET of random names at `rate` ops/s until stop is
    set; sends (start times, latencies, {redirection: count}) to out."""
    conns, slots = {}, {}
    val = b"y" * size

    def conn(port):
        if port not in conns:
            conns[port] = redis.Redis(port=port, socket_timeout=30, single_connection_client=True)
        return conns[port]

    def refresh():
        for rng in conn(ports[0]).execute_command("CLUSTER", "SLOTS"):
            for sl in range(int(rng[0]), int(rng[1]) + 1):
                slots[sl] = int(rng[2][1])
    refresh()
    rnd = random.Random(seed)
    starts, lats, red = [], [], {"MOVED": 0, "ASK": 0, "TRYAGAIN": 0}
    period, nxt = 1.0 / rate, time.monotonic()
    while not stop.is_set():
        k = names[rnd.randrange(len(names))]
        args = ("GET", k) if rnd.random() < 0.5 else ("SET", k, val)
        sl = key_slot(k)
        t0 = time.monotonic()
        for _ in range(100):
            try:
                conn(slots[sl]).execute_command(*args)
                break
            except redis.ResponseError as e:
                msg = str(e).split()
                if msg[0] == "MOVED":
                    red["MOVED"] += 1
                    slots[int(msg[1])] = int(msg[2].rpartition(":")[2])
                elif msg[0] == "ASK":
                    red["ASK"] += 1
                    pl = conn(int(msg[2].rpartition(":")[2])).pipeline(transaction=False)
                    pl.execute_command("ASKING")
                    pl.execute_command(*args)
                    pl.execute()
                    break
                elif msg[0] == "TRYAGAIN":
                    red["TRYAGAIN"] += 1
                    time.sleep(0.001)
                else:
                    raise
        t1 = time.monotonic()
        starts.append(t0)
        lats.append(t1 - t0)
        nxt += period
        if nxt > t1:
            stop.wait(nxt - t1)
        else:
            nxt = t1  # behind: no burst to catch up
    out.send((starts, lats, red))
    out.close()


class Load:
    """--load-procs load processes (forked: the names are not copied through a pipe)."""

    def __init__(self, ports, names, a):
        self.stop = multiprocessing.Event()
        self.pipes, self.procs = [], []
        for i in range(a.load_procs):
            rx, tx = multiprocessing.Pipe(duplex=False)
            p = multiprocessing.Process(target=load_proc, args=(ports, names, a.size, a.load_rate, i, self.stop, tx),
                                        daemon=True)
            p.start()
            self.pipes.append(rx)
            self.procs.append(p)

    def finish(self):
        """Stop the processes; all (start, latency) pairs sorted by start, redirections summed."""
        self.stop.set()
        ops, red = [], {}
        for rx, p in zip(self.pipes, self.procs):
            if not rx.poll(60):
                raise SystemExit("a load process sent nothing within 60 s of the stop")
            starts, lats, r = rx.recv()
            ops += zip(starts, lats)
            for k, v in r.items():
                red[k] = red.get(k, 0) + v
            p.join(10)
        return sorted(ops), red

    def kill(self):
        self.stop.set()
        for p in self.procs:
            if p.is_alive():
                p.kill()
            p.join(5)


def window(ops, t0, t1):
    """ops started in [t0, t1): count and latency percentiles (ms)."""
    lat = sorted(l for t, l in ops if t0 <= t < t1)
    if not lat:
        return {"n": 0}

    def pct(q):
        return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000
    return {"n": len(lat), "p50": pct(0.5), "p99": pct(0.99), "p999": pct(0.999), "max": lat[-1] * 1000}


def wait_until(what, limit_s, cond, step=0.01):
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > limit_s:
            raise SystemExit(f"{what}: not within {limit_s} s")
        time.sleep(step)


def migrate_atomic(A, B, slots):
    """CLUSTER MIGRATESLOTS of slots 0..slots-1, A -> B, until success: (seconds, the job's keys)."""
    idb = B.r.execute_command("CLUSTER", "MYID")
    since = int(time.time() * 1000) - 1000
    t0 = time.monotonic()
    reply = A.r.execute_command("CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", 0, slots - 1, "NODE", idb)
    if reply not in ("OK", True):
        raise SystemExit(f"MIGRATESLOTS answered {reply!r}")
    while True:
        mine = [dict(zip(j[::2], j[1::2])) for j in A.r.execute_command("CLUSTER", "GETSLOTMIGRATIONS")]
        mine = [j for j in mine if j.get("operation") == "EXPORT" and int(j.get("create_time", 0)) >= since]
        j = mine[-1] if mine else {}
        if j.get("state") == "success":
            return time.monotonic() - t0, int(j["keys"])
        if j.get("state") in ("failed", "cancelled"):
            raise SystemExit(f"MIGRATESLOTS {j.get('state')}: {j.get('message')}")
        if time.monotonic() - t0 > 3600:
            raise SystemExit(f"MIGRATESLOTS not done within an hour: {j}")
        time.sleep(0.005)


def pause_ms(node):
    """The write pause of the last migration, from the node's log line."""
    try:
        with open(os.path.join(node.dir, "server.log"), errors="replace") as f:
            found = re.findall(r"Slot migration \S+ of .* done: .*writes paused (\d+) ms", f.read())
    except OSError:
        return None
    return int(found[-1]) if found else None


def run_atomic(name, root, ports, a, names):
    cl = bc.Cluster(name, bc.SLOTCACHE, 2, 15000, root, ports, [])
    lp = None
    try:
        A, B = two_masters(cl, name, a, names)
        sample = random.Random(3).sample(names, min(len(names), 100000))
        lp = Load([A.port, B.port], sample, a)
        time.sleep(1)  # the processes connect and settle
        tb = time.monotonic()
        time.sleep(a.baseline)
        tm = time.monotonic()
        took, keys = migrate_atomic(A, B, STEP)
        te = time.monotonic()
        wait_until(f"{name}: B holds every key, A none", 120, lambda: dbsize(B) >= a.keys and dbsize(A) == 0, 0.05)
        if dbsize(B) != a.keys:
            raise SystemExit(f"{name}: B has {dbsize(B)} keys after the migration, {a.keys} loaded")
        paused = pause_ms(A)
        log(f"{name}: MIGRATESLOTS of {STEP} slots, {keys} keys: {took:.2f} s = {keys / took:.0f} keys/s, writes "
            f"paused {paused} ms")
        time.sleep(1)
        tr = tr_end = None
        if not a.no_reshard:
            tr = time.monotonic()
            moved, rtook = reshard(B, A, STEP)
            tr_end = time.monotonic()
            log(f"{name}: redis-cli --cluster reshard back: {moved} keys in {rtook:.2f} s = {moved / rtook:.0f} keys/s")
            time.sleep(0.5)
        ops, red = lp.finish()
        lp = None
        res = {"secs": took, "kps": keys / took, "keys": keys, "pause": paused, "red": red,
               "base": window(ops, tb, tm), "atomic": window(ops, tm, te)}
        if tr is not None:
            res["reshard"] = window(ops, tr, tr_end)
            res["reshard_secs"] = tr_end - tr
        return res
    finally:
        if lp:
            lp.kill()
        cl.stop()


def main_atomic(a):
    if not os.path.exists(bc.SLOTCACHE):
        raise SystemExit(f"missing {bc.SLOTCACHE}")
    names = key_names(a.keys)
    root = tempfile.mkdtemp(prefix="bench-reshard-atomic-")
    ports = bc.Ports()
    res = []
    try:
        for rnd in range(a.rounds):
            res.append(run_atomic(f"slotcache{rnd}", root, ports, a, names))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"atomic slot migration (CLUSTER MIGRATESLOTS) of {STEP} slots holding {a.keys} keys x {a.size} B, "
          f"slotcache, {a.rounds} round(s)")
    for i, r in enumerate(res):
        print(f"round {i + 1}: {r['secs']:.2f} s, {r['kps']:.0f} keys/s, writes paused {r['pause']} ms"
              + (f"; redis-cli --cluster reshard back: {r['reshard_secs']:.2f} s" if "reshard_secs" in r else ""))
    print(f"client latency (ms): {a.load_procs} processes x {a.load_rate:g} ops/s, GET/SET on keys of the moving "
          f"slots; medians over the rounds")
    print(f"{'window':28}{'ops':>8}{'p50':>8}{'p99':>8}{'p99.9':>8}{'max':>8}")
    rows = [("no migration", "base"), ("during MIGRATESLOTS", "atomic"), ("during redis-cli reshard", "reshard")]
    for label, key in rows:
        ws = [r[key] for r in res if key in r and r[key]["n"]]
        if not ws:
            continue
        print(f"{label:28}{med([w['n'] for w in ws]):8.0f}" + "".join(f"{med([w[q] for w in ws]):8.2f}"
                                                                       for q in ("p50", "p99", "p999", "max")))
    tot = {}
    for r in res:
        for k, v in r["red"].items():
            tot[k] = tot.get(k, 0) + v
    print("redirections the load followed (all rounds, all windows): "
          + ", ".join(f"{v} {k}" for k, v in tot.items()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=1000000)
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--gets", type=int, default=2000000)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--atomic", action="store_true", help="CLUSTER MIGRATESLOTS on slotcache (see above)")
    ap.add_argument("--load-procs", type=int, default=4, help="--atomic: load processes")
    ap.add_argument("--load-rate", type=float, default=1000, help="--atomic: operations/s per load process")
    ap.add_argument("--baseline", type=float, default=5, help="--atomic: seconds of load with no migration")
    ap.add_argument("--no-reshard", action="store_true", help="--atomic: no redis-cli reshard for comparison")
    a = ap.parse_args()
    if a.atomic:
        return main_atomic(a)
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
