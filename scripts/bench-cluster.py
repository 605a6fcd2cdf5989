#!/usr/bin/python3
"""bench-cluster.py - cluster mode side by side: a redis-server 7.0 cluster
and a slotcache cluster of the same shape and the same cluster-node-timeout,
in one run, on loopback. Each node runs in its own directory under one
temporary directory, with its client port and its bus port (cluster-port)
picked free.

  1. Gossip traffic in steady state, for 6 nodes (3 masters + 3 replicas,
     made by `redis-cli --cluster create --cluster-replicas 1`) and for 30
     nodes (15 + 15), at each --timeouts node timeout (default 2000 ms). A
     cluster is steady once every node reports cluster_state:ok, knows every
     node with no fail? / fail / handshake / noaddr flag and every replica's
     link to its master is up; then --settle seconds pass and the window
     (--window seconds, at least 3 node timeouts) is measured.
     **How bytes are counted**: from the kernel's own per-socket counters,
     `ss -tine` (tcp_info's bytes_sent, bytes_received, bytes_retrans;
     each socket's owner found by its inode among the nodes' /proc/PID/fd),
     sampled every 0.5 s for every established TCP socket owned by a node
     process whose local or remote port is one of the cluster's bus ports
     (the sockets a node accepted on its bus port and the links it opened
     to its peers' bus ports; client-port traffic, such as the CLUSTER INFO
     this script sends, is not counted). A node's bus bytes are the sum of
     its sockets' bytes_sent growth over the window (a socket opened in the
     window counts from 0), i.e. the TCP payload it wrote, exactly, for
     both servers alike and without touching them. As a check, the bytes
     all nodes received on the same sockets must equal what they sent (both
     ends are ours), up to the few messages in flight while ss reads the
     sockets one after the other at the window's two ends; links opened
     and closed in the window (a closed link's last <= 0.5 s is missed) and
     retransmitted bytes are reported (both 0 in a steady loopback
     cluster). Messages per second come from CLUSTER INFO's
     cluster_stats_messages_*_sent deltas (by type), read from all nodes at
     once (a thread each) right after the first and the last socket dump.
  2. Failure detection, at 6 nodes and the first timeout: kill -9 a master,
     then poll every other node's CLUSTER NODES every 10 ms: the time until
     every one of them flags it `fail?` or `fail`, and until every one flags
     it `fail`. The victim is then restarted from its nodes.conf and the
     cluster waited for until steady again (on both servers its replica
     has meanwhile been promoted and the victim rejoins as its replica;
     scripts/bench-failover.py times the failover itself). --fd-runs kills per round;
     --fd30 K also K kills in the 30-node cluster once its gossip is measured.
  3. Creation: from the start of `redis-cli --cluster create <6 nodes>
     --cluster-replicas 1 --cluster-yes` (nodes started and answering PING
     before) until every node reports cluster_state:ok; also the time
     redis-cli itself took.
  4. The routing check's cost: redis-benchmark SET and GET (-P 16, -r
     100000, 50 clients) against a single-node cluster owning all 16384
     slots (cluster_state:ok, so no request is redirected: checked
     afterwards with total_error_replies = 0 and keys in db0) and against a
     standalone server of the same binary, both running, in --rounds
     alternating rounds (each round: SET standalone then cluster, or the other
     way round, then GET the same); medians of requests/s and of the server's CPU
     time per request (/proc/<pid>/stat; less sensitive to a shared machine),
     and the medians of each round's cluster / standalone ratios.
     slotcache runs with --threads T (default 1, as `make bench`).
  5. With --callgrind, the same for slotcache alone, counted instead of
     timed: valgrind callgrind's instructions per request on the request
     path (conn.c on_read inclusive: parse, route, run, reply), -P 16,
     --callgrind-requests SETs then GETs; deterministic whatever the
     machine's load (instructions are not cycles: a fence or a cache miss
     counts one). redis-server's binary is stripped: no such figure for it.

Items 1-3 run in --rounds6 rounds at 6 nodes (servers alternating, fresh
clusters each round; medians over the rounds), item 1 at 30 nodes once.
Prints one row per server and test, and the slotcache / redis-server ratios.
Everything started is stopped and the temporary directory removed at the
end, on error too; every wait is bounded.

usage: scripts/bench-cluster.py [--timeouts 2000[,15000]] [--rounds6 3] [--fd-runs 2] [--fd30 K]
                                [--window S] [--rounds R] [--requests N] [--threads T]
                                [--skip-30] [--skip-throughput] [--only-throughput] [--callgrind]
Needs /usr/bin/redis-server, redis-cli, redis-benchmark, ss (iproute2), python3-redis.
"""
import argparse, concurrent.futures, importlib.util, os, re, shutil, signal, statistics, subprocess, sys, tempfile, time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _load(name, file):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "scripts", file))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


rdb = _load("bench_rdb", "bench-rdb.py")  # free_port, start, stop
repl = _load("bench_repl", "bench-repl.py")  # cpu_s

REDIS = "/usr/bin/redis-server"
SLOTCACHE = os.path.join(ROOT, "build", "slotcache-server")
MSG_TYPES = ("ping", "pong", "meet", "fail", "publish", "publishshard", "auth-req", "auth-ack", "update", "mfstart",
             "module")
BAD_FLAGS = {"fail?", "fail", "handshake", "noaddr"}
med = statistics.median


def log(*args):
    print("#", *args, file=sys.stderr, flush=True)


class Ports:
    """free_port, never the same port twice in one run."""

    def __init__(self):
        self.used = set()

    def get(self):
        for _ in range(100):
            p = rdb.free_port()
            if p not in self.used:
                self.used.add(p)
                return p
        raise SystemExit("no free port")


class Node:
    def __init__(self, binary, d, port, cport, args):
        self.binary, self.dir, self.port, self.cport, self.args = binary, d, port, cport, args
        self.p = self.r = None

    def start(self):
        self.p, self.r, _ = rdb.start(self.binary, self.dir, self.port, self.args)
        self.r = redis.Redis(port=self.port, socket_timeout=10, decode_responses=True)

    def kill(self):
        if self.p and self.p.poll() is None:
            self.p.kill()
            self.p.wait()

    def info(self):
        out = self.r.execute_command("CLUSTER", "INFO")
        return dict(line.split(":", 1) for line in out.split("\r\n") if ":" in line)

    def nodes(self):
        """CLUSTER NODES as {id: (flags set, master id, link state)}."""
        res = {}
        for line in self.r.execute_command("CLUSTER", "NODES").splitlines():
            f = line.split()
            if len(f) >= 8:
                res[f[0]] = (set(f[2].split(",")), f[3], f[7])
        return res


def wait_all_ok(name, nodes, limit_s):
    """Until every one of nodes reports cluster_state:ok; returns when."""
    t0 = time.monotonic()
    pending = list(nodes)
    while pending:
        pending = [nd for nd in pending if nd.info().get("cluster_state") != "ok"]
        if not pending:
            break
        if time.monotonic() - t0 > limit_s:
            raise SystemExit(f"{name}: cluster_state not ok after {limit_s} s")
        time.sleep(0.01)
    return time.monotonic()


class Cluster:
    """n nodes of one binary, each in root/<name>-<port>, cluster-enabled."""

    def __init__(self, name, binary, n, timeout, root, ports, extra):
        self.name, self.binary, self.n, self.timeout = name, binary, n, timeout
        self.nodes = []
        for _ in range(n):
            port, cport = ports.get(), ports.get()
            d = os.path.join(root, f"{name}-{port}")
            os.mkdir(d)
            args = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout",
                    str(timeout), "--cluster-port", str(cport)] + extra
            self.nodes.append(Node(binary, d, port, cport, args))

    def start(self):
        for nd in self.nodes:
            nd.start()

    def alive(self):
        return [nd for nd in self.nodes if nd.p and nd.p.poll() is None]

    def create(self, replicas):
        """redis-cli --cluster create; returns the time it took."""
        t0 = time.monotonic()
        cmd = ["redis-cli", "--cluster", "create"] + [f"127.0.0.1:{nd.port}" for nd in self.nodes] + \
              ["--cluster-replicas", str(replicas), "--cluster-yes"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        took = time.monotonic() - t0
        if r.returncode != 0 or "[ERR]" in r.stdout:
            raise SystemExit(f"{self.name}: redis-cli --cluster create failed:\n{r.stdout}{r.stderr}")
        return took

    def wait_ok(self, limit_s=120):
        return wait_all_ok(self.name, self.alive(), limit_s)

    def steady(self):
        nodes = self.alive()
        for nd in nodes:
            if nd.info().get("cluster_state") != "ok":
                return False
            view = nd.nodes()
            if len(view) != self.n:
                return False
            for flags, _, link in view.values():
                if flags & BAD_FLAGS or link != "connected":
                    return False
            if "slave" in view.get(nd.r.execute_command("CLUSTER", "MYID"), (set(),))[0]:
                if nd.r.info("replication").get("master_link_status") != "up":
                    return False
        return True

    def wait_steady(self, limit_s=120):
        t0 = time.monotonic()
        while not self.steady():
            if time.monotonic() - t0 > limit_s:
                raise SystemExit(f"{self.name}: not steady after {limit_s} s (see {os.path.dirname(self.nodes[0].dir)})")
            time.sleep(0.1)

    def stop(self):
        """SIGTERM to every node, SIGKILL to whatever is left after 20 s."""
        for nd in self.nodes:
            if nd.p and nd.p.poll() is None:
                nd.p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for nd in self.nodes:
            if nd.p is None:
                continue
            try:
                nd.p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                nd.kill()
        for nd in self.nodes:
            shutil.rmtree(nd.dir, ignore_errors=True)


# ------------------------------------------------------------- bus bytes

SOCK_RE = re.compile(r"(\S+):(\d+)\s+(\S+):(\d+)\s.*?\bino:(\d+)")  # accepted links have a timer:(...) first


def socket_owners(pids):
    """{socket inode: (pid, fd)} over the fds of pids (our nodes only: cheaper than ss -p's scan of
    every process, which would also come between the socket dump and the CLUSTER INFO replies)."""
    res = {}
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                t = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if t.startswith("socket:["):
                res[int(t[8:-1])] = (pid, int(fd))
    return res


def ss_sample(owners, pids, cports):
    """{(pid, fd, local port, peer port): (bytes_sent, bytes_received, bytes_retrans)} for every established
    TCP socket of one of pids whose local or peer port is a bus port. owners (socket_owners) is extended
    when a socket it does not know appears."""
    out = subprocess.run(["ss", "-tinHe", "state", "established"], capture_output=True, text=True,
                         timeout=30).stdout
    lines = out.splitlines()
    if any((m := SOCK_RE.search(l)) and int(m.group(5)) not in owners and
           (int(m.group(2)) in cports or int(m.group(4)) in cports) for l in lines if not l[:1].isspace()):
        owners.update(socket_owners(pids))
    res = {}
    key = None
    for line in lines:
        if not line[:1].isspace():
            m = SOCK_RE.search(line)
            key = None
            if m and (int(m.group(2)) in cports or int(m.group(4)) in cports):
                owner = owners.get(int(m.group(5)))
                if owner and owner[0] in pids:
                    key = (owner[0], owner[1], int(m.group(2)), int(m.group(4)))
            continue
        if key is None:
            continue
        val = []
        for f in ("bytes_sent", "bytes_received", "bytes_retrans"):
            m = re.search(r"\b%s:(\d+)" % f, line)
            val.append(int(m.group(1)) if m else 0)
        res[key] = tuple(val)
        key = None
    return res


def infos(pool, nodes):
    """CLUSTER INFO of every node at once (one thread each), so all counters are read within a few ms
    of the socket dump before it."""
    return list(pool.map(lambda nd: nd.info(), nodes))


def gossip(cl, window_s):
    """Bus bytes and messages sent per node per second over window_s, in steady state."""
    nodes = cl.alive()
    pids = {nd.p.pid for nd in nodes}
    cports = {nd.cport for nd in cl.nodes}
    owners = socket_owners(pids)
    with concurrent.futures.ThreadPoolExecutor(len(nodes)) as pool:
        infos(pool, nodes)  # the pool's connections are up before the window
        first = ss_sample(owners, pids, cports)
        info0 = infos(pool, nodes)
        t0 = time.monotonic()
        last = dict(first)
        base = dict(first)
        closed = 0
        prev = set(first)
        while True:
            time.sleep(0.5)
            s = ss_sample(owners, pids, cports)
            closed += len(prev - set(s))
            prev = set(s)
            for k, v in s.items():
                base.setdefault(k, (0, 0, 0))  # opened in the window: all its bytes are
                last[k] = v
            if time.monotonic() - t0 >= window_s:
                break
        info1 = infos(pool, nodes)
        elapsed = time.monotonic() - t0
    sent_by_pid = {pid: 0 for pid in pids}
    recv = retrans = 0
    for k, v in last.items():
        sent_by_pid[k[0]] += v[0] - base[k][0]
        recv += v[1] - base[k][1]
        retrans += v[2] - base[k][2]
    sent = sum(sent_by_pid.values())
    msgs = {t: sum(int(b.get(f"cluster_stats_messages_{t}_sent", 0)) - int(a.get(f"cluster_stats_messages_{t}_sent", 0))
                   for a, b in zip(info0, info1)) for t in MSG_TYPES}
    total_msgs = sum(int(b["cluster_stats_messages_sent"]) - int(a["cluster_stats_messages_sent"])
                     for a, b in zip(info0, info1))
    n = len(nodes)
    per_node = sorted(v / elapsed for v in sent_by_pid.values())
    return {"bps": sent / elapsed / n, "bps_min": per_node[0], "bps_max": per_node[-1],
            "mps": total_msgs / elapsed / n, "bpm": sent / total_msgs if total_msgs else 0,
            "by_type": {t: c / elapsed / n for t, c in msgs.items() if c}, "recv_check": recv - sent,
            "closed": closed, "opened": len(set(last) - set(first)), "retrans": retrans, "sockets": len(first),
            "window": elapsed}


def fmt_gossip(g):
    types = " ".join(f"{t} {v:.2f}" for t, v in g["by_type"].items())
    return (f"{g['bps'] / 1000:8.2f} kB/s/node (nodes {g['bps_min'] / 1000:.2f}-{g['bps_max'] / 1000:.2f}), "
            f"{g['mps']:6.2f} msg/s/node [{types}], {g['bpm']:6.0f} B/msg | check: received-sent "
            f"{g['recv_check']} B, {g['sockets']} sockets, opened {g['opened']} closed {g['closed']} in the window, "
            f"retransmitted {g['retrans']} B, {g['window']:.1f} s")


# ------------------------------------------------------ failure detection

def fail_detect(cl, run_idx, limit_s):
    """kill -9 one master; seconds until all other nodes flag it fail? (or fail), and until all flag fail."""
    nodes = cl.alive()
    ids = {nd.r.execute_command("CLUSTER", "MYID"): nd for nd in nodes}
    view = nodes[0].nodes()
    masters = sorted((nd.port, i) for i, nd in ids.items() if "master" in view[i][0])
    port, vid = masters[run_idx % len(masters)]
    victim = ids[vid]
    observers = [nd for nd in nodes if nd is not victim]
    pfail_at, fail_at = {}, {}
    t0 = time.monotonic()
    victim.kill()
    while len(fail_at) < len(observers):
        for nd in observers:
            flags = nd.nodes().get(vid, (set(),))[0]
            now = time.monotonic() - t0
            if "fail?" in flags or "fail" in flags:
                pfail_at.setdefault(nd.port, now)
            if "fail" in flags:
                fail_at.setdefault(nd.port, now)
        if time.monotonic() - t0 > limit_s:
            raise SystemExit(f"{cl.name}: killed master not marked fail by all within {limit_s} s")
        time.sleep(0.01)
    victim.start()
    cl.wait_steady()
    return max(pfail_at.values()), max(fail_at.values()), min(pfail_at.values())


# ------------------------------------------------------------ routing cost

def bench(port, test, n, pid):
    c0 = repl.cpu_s(pid)
    out = subprocess.run(["redis-benchmark", "-p", str(port), "-t", test, "-n", str(n), "-P", "16", "-r", "100000",
                          "-c", "50", "-q"], capture_output=True, text=True, timeout=600).stdout
    m = re.findall(r"([0-9.]+) requests per second", out)
    return (float(m[-1]) if m else 0.0), (repl.cpu_s(pid) - c0) * 1e6 / n


def routing_cost(name, binary, extra, root, ports, a):
    res = {}
    d1, d2 = os.path.join(root, f"{name}-standalone"), os.path.join(root, f"{name}-single-cluster")
    os.mkdir(d1)
    os.mkdir(d2)
    alone = Node(binary, d1, ports.get(), 0, extra)
    clus = Node(binary, d2, ports.get(), ports.get(), extra)
    clus.args = extra + ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-port",
                         str(clus.cport)]
    try:
        alone.start()
        clus.start()
        clus.r.execute_command("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
        wait_all_ok(name, [clus], 30)
        runs = {(mode, t): ([], []) for mode in ("standalone", "cluster") for t in ("set", "get")}
        for i in range(a.rounds):
            for t in ("set", "get"):
                order = [("standalone", alone), ("cluster", clus)]
                if i % 2:
                    order.reverse()
                for mode, nd in order:
                    rate, cpu = bench(nd.port, t, a.requests, nd.p.pid)
                    runs[(mode, t)][0].append(rate)
                    runs[(mode, t)][1].append(cpu)
        errors = int(clus.r.info("stats").get("total_error_replies", -1))
        keys = clus.r.dbsize()
        if errors != 0 or keys == 0:
            raise SystemExit(f"{name}: single-node cluster answered {errors} errors, holds {keys} keys")
        for t in ("set", "get"):
            (sr, sc), (cr, cc) = runs[("standalone", t)], runs[("cluster", t)]
            # each round's standalone and cluster runs are back to back: their ratio is
            # what a shared machine disturbs least
            res[t] = {"alone": (med(sr), med(sc)), "cluster": (med(cr), med(cc)),
                      "rate_ratio": med(c / s for s, c in zip(sr, cr)), "cpu_ratio": med(c / s for s, c in zip(sc, cc)),
                      "runs": (sr, cr)}
    finally:
        for nd in (alone, clus):
            if nd.p:
                rdb.stop(nd.p, nd.r)
        shutil.rmtree(d1, ignore_errors=True)
        shutil.rmtree(d2, ignore_errors=True)
    return res


def callgrind_cost(root, ports, a):
    """slotcache's instructions per request on its request path (conn.c on_read: parse, route, run, reply),
    standalone vs single-node cluster, counted by valgrind's callgrind: deterministic, whatever the
    machine's load. redis-server's binary is stripped, so only slotcache is measured this way."""
    res = {}
    for mode in ("standalone", "cluster"):
        d = os.path.join(root, f"callgrind-{mode}")
        os.mkdir(d)
        port = ports.get()
        args = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={d}/cg.%p", "--toggle-collect=on_read",
                SLOTCACHE, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", d,
                "--threads", str(a.threads or 1)]
        if mode == "cluster":
            args += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-port",
                     str(ports.get())]
        log_f = open(os.path.join(d, "server.log"), "ab")
        p = subprocess.Popen(args, stdout=log_f, stderr=log_f, cwd=d)
        r = redis.Redis(port=port, socket_timeout=60, decode_responses=True)
        try:
            t0 = time.monotonic()
            while True:
                try:
                    if r.ping():
                        break
                except redis.ConnectionError:
                    pass
                if p.poll() is not None or time.monotonic() - t0 > 120:
                    raise SystemExit(f"slotcache under valgrind did not start; see {d}/server.log")
                time.sleep(0.2)
            if mode == "cluster":
                r.execute_command("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
                nd = Node(SLOTCACHE, d, port, 0, [])
                nd.r = r
                wait_all_ok("slotcache", [nd], 60)
            # Every key redis-benchmark -r 100000 can draw (key:%012d) exists
            # before the counts, so each GET is a hit in both modes.
            pipe = r.pipeline(transaction=False)
            for i in range(100000):
                pipe.set(f"key:{i:012d}", "x" * 3)
                if i % 1000 == 999:
                    pipe.execute()
            pipe.execute()
            for t in ("set", "get"):
                subprocess.run(["callgrind_control", "-z", str(p.pid)], capture_output=True, timeout=60)
                subprocess.run(["redis-benchmark", "-p", str(port), "-t", t, "-n", str(a.callgrind_requests), "-P",
                                "16", "-r", "100000", "-c", "50", "-q"], capture_output=True, timeout=1200)
                subprocess.run(["callgrind_control", "-d", str(p.pid)], capture_output=True, timeout=60)
                dumps = sorted((f for f in os.listdir(d) if f.startswith(f"cg.{p.pid}.")),
                               key=lambda f: int(f.rsplit(".", 1)[1]))
                with open(os.path.join(d, dumps[-1])) as f:
                    ir = next(int(line.split()[1]) for line in f if line.startswith(("summary:", "totals:")))
                res[(mode, t)] = ir / a.callgrind_requests
            if mode == "cluster" and int(r.info("stats").get("total_error_replies", -1)) != 0:
                raise SystemExit("slotcache: the single-node cluster answered errors under callgrind")
        finally:
            rdb.stop(p, r)
            shutil.rmtree(d, ignore_errors=True)
    return res


# -------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeouts", default="2000", help="cluster-node-timeout values, comma-separated (ms)")
    ap.add_argument("--rounds6", type=int, default=3, help="fresh 6-node clusters per server (medians)")
    ap.add_argument("--fd-runs", type=int, default=2, help="kill -9 runs per 6-node round")
    ap.add_argument("--fd30", type=int, default=0, help="kill -9 runs at 30 nodes too (first timeout)")
    ap.add_argument("--window", type=float, default=20.0, help="gossip window (s), at least 3 node timeouts")
    ap.add_argument("--settle", type=float, default=3.0, help="seconds after steady before the window")
    ap.add_argument("--rounds", type=int, default=5, help="throughput rounds (medians)")
    ap.add_argument("--requests", type=int, default=1000000)
    ap.add_argument("--threads", type=int, default=1, help="slotcache --threads (0: its default)")
    ap.add_argument("--callgrind", action="store_true",
                    help="also count slotcache's instructions per request, standalone vs cluster (valgrind)")
    ap.add_argument("--callgrind-requests", type=int, default=200000)
    ap.add_argument("--skip-30", action="store_true")
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--only-throughput", action="store_true")
    a = ap.parse_args()
    if not os.access(SLOTCACHE, os.X_OK):
        raise SystemExit(f"build {SLOTCACHE} first (make)")
    timeouts = [int(x) for x in a.timeouts.split(",")]
    sc_extra = ["--threads", str(a.threads)] if a.threads else []
    servers = [("redis", REDIS, []), ("slotcache", SLOTCACHE, sc_extra)]
    root = tempfile.mkdtemp(prefix="bench-cluster-")
    ports = Ports()
    live = []
    results = {}

    def cluster(name, binary, extra, n, timeout):
        cl = Cluster(name, binary, n, timeout, root, ports, extra)
        live.append(cl)
        cl.start()
        return cl

    def done(cl):
        cl.stop()
        live.remove(cl)

    try:
        if not a.only_throughput:
            t = timeouts[0]
            for rnd in range(a.rounds6):
                order = servers if rnd % 2 == 0 else servers[::-1]
                for name, binary, extra in order:
                    log(f"round {rnd + 1}: {name}, 6 nodes, node timeout {t}")
                    cl = cluster(name, binary, extra, 6, t)
                    t0 = time.monotonic()
                    cli_s = cl.create(1)
                    ok_s = cl.wait_ok() - t0
                    r = results.setdefault((name, "create"), [])
                    r.append((ok_s, cli_s))
                    log(f"  create -> all ok {ok_s:.2f} s (redis-cli {cli_s:.2f} s)")
                    cl.wait_steady()
                    time.sleep(a.settle)
                    g = gossip(cl, max(a.window, 3 * t / 1000))
                    results.setdefault((name, "gossip", 6, t), []).append(g)
                    log("  gossip " + fmt_gossip(g))
                    for k in range(a.fd_runs):
                        fd = fail_detect(cl, rnd * a.fd_runs + k, 10 * t / 1000 + 30)
                        results.setdefault((name, "fd"), []).append(fd)
                        log(f"  kill -9 a master: all fail? {fd[0]:.2f} s, all fail {fd[1]:.2f} s")
                    done(cl)
            for t in timeouts:
                for n in ([6] if t != timeouts[0] else []) + ([] if a.skip_30 else [30]):
                    for name, binary, extra in servers:
                        log(f"{name}, {n} nodes, node timeout {t}")
                        cl = cluster(name, binary, extra, n, t)
                        cl.create(1)
                        cl.wait_ok()
                        cl.wait_steady(300)
                        time.sleep(a.settle)
                        g = gossip(cl, max(a.window, 3 * t / 1000))
                        results.setdefault((name, "gossip", n, t), []).append(g)
                        log("  gossip " + fmt_gossip(g))
                        if n == 30 and t == timeouts[0]:
                            for k in range(a.fd30):
                                fd = fail_detect(cl, k, 10 * t / 1000 + 30)
                                results.setdefault((name, "fd30"), []).append(fd)
                                log(f"  kill -9 a master: all fail? {fd[0]:.2f} s, all fail {fd[1]:.2f} s")
                        done(cl)
        if not a.skip_throughput:
            for name, binary, extra in servers:
                log(f"{name}: single-node cluster vs standalone, {a.rounds} rounds")
                results[(name, "tp")] = routing_cost(name, binary, extra, root, ports, a)
        if a.callgrind:
            log("slotcache under callgrind: single-node cluster vs standalone")
            results["callgrind"] = callgrind_cost(root, ports, a)
    finally:
        for cl in list(live):
            cl.stop()
        shutil.rmtree(root, ignore_errors=True)

    report(results, a, timeouts)
    return 0


def report(results, a, timeouts):
    names = ("redis", "slotcache")
    print(f"== gossip (bus bytes counted by ss per socket; 3 masters + 3 replicas / 15 + 15; medians over "
          f"rounds where several)")
    keys = sorted({k[2:] for k in results if k[1] == "gossip"})
    for n, t in keys:
        row = {}
        for name in names:
            gs = results.get((name, "gossip", n, t), [])
            if not gs:
                continue
            g = sorted(gs, key=lambda x: x["bps"])[len(gs) // 2]
            row[name] = g
            print(f"{name:10s} {n:2d} nodes timeout {t:5d}: {fmt_gossip(g)}")
        if len(row) == 2:
            print(f"{'ratio':10s} {n:2d} nodes timeout {t:5d}: slotcache/redis bytes/s {row['slotcache']['bps'] / row['redis']['bps']:.2f}, "
                  f"msg/s {row['slotcache']['mps'] / row['redis']['mps']:.2f}, B/msg "
                  f"{row['slotcache']['bpm'] / row['redis']['bpm']:.2f}")
    for key, n in (("fd", 6), ("fd30", 30)):
        if not any(k[1] == key for k in results):
            continue
        print(f"== failure detection, {n} nodes, node timeout {timeouts[0]} ms: kill -9 a master (medians; runs)")
        fds = {}
        for name in names:
            runs = results.get((name, key), [])
            if not runs:
                continue
            pf, f = med(x[0] for x in runs), med(x[1] for x in runs)
            fds[name] = (pf, f)
            print(f"{name:10s} all fail? {pf:5.2f} s  all fail {f:5.2f} s  ({len(runs)} runs: fail? "
                  f"{[round(x[0], 2) for x in runs]}, fail {[round(x[1], 2) for x in runs]}; first fail? "
                  f"{[round(x[2], 2) for x in runs]})")
        if len(fds) == 2:
            print(f"{'ratio':10s} fail? {fds['slotcache'][0] / fds['redis'][0]:.2f}  fail "
                  f"{fds['slotcache'][1] / fds['redis'][1]:.2f}")
    if any(k[1] == "create" for k in results):
        print("== redis-cli --cluster create --cluster-replicas 1 (6 nodes) until every node cluster_state:ok")
        cr = {}
        for name in names:
            runs = results.get((name, "create"), [])
            ok, cli = med(x[0] for x in runs), med(x[1] for x in runs)
            cr[name] = ok
            print(f"{name:10s} {ok:5.2f} s (redis-cli itself {cli:5.2f} s; runs {[round(x[0], 2) for x in runs]})")
        print(f"{'ratio':10s} {cr['slotcache'] / cr['redis']:.2f}")
    if any(k[1] == "tp" for k in results):
        print(f"== single-node cluster (all 16384 slots) vs standalone, same binary: redis-benchmark -P 16 -r 100000 "
              f"-c 50 -n {a.requests}, {a.rounds} alternating rounds, medians; slotcache --threads "
              f"{a.threads or 'default'}")
        for name in names:
            tp = results.get((name, "tp"))
            if not tp:
                continue
            for t in ("set", "get"):
                x = tp[t]
                (sr, sc), (cr, cc) = x["alone"], x["cluster"]
                print(f"{name:10s} {t.upper()} standalone {sr:9.0f}/s ({sc:.3f} us CPU/req) cluster {cr:9.0f}/s "
                      f"({cc:.3f} us CPU/req): cluster/standalone rate {x['rate_ratio']:.3f}, CPU/req "
                      f"{x['cpu_ratio']:.3f} (medians of the rounds' ratios) | runs {[round(v) for v in x['runs'][0]]} / "
                      f"{[round(v) for v in x['runs'][1]]}")
    cg = results.get("callgrind")
    if cg:
        print(f"== slotcache instructions per request on its request path (callgrind, on_read inclusive; "
              f"redis-benchmark -P 16 -c 50 -n {a.callgrind_requests})")
        for t in ("set", "get"):
            s, c = cg[("standalone", t)], cg[("cluster", t)]
            print(f"slotcache  {t.upper()} standalone {s:7.0f} Ir/req cluster {c:7.0f} Ir/req: +{c - s:.0f} "
                  f"(cluster/standalone {c / s:.3f})")

if __name__ == "__main__":
    sys.exit(main())
