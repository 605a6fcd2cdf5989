"""tests/cluster/partition_test.py - a master cut off from the majority by
a real network partition (network namespaces), the failover on the majority
side, and the heal. Started by partition_test.sh (as root, under
/usr/bin/python3 for python3-redis):

  partition_test.py --server BIN [--server BIN2 ...] [--rounds 2] [--scale 1]
                    [--dir WORK] [--keep]

Network: a bridge in the root namespace with 10.A.B.254/24 (A.B from the
pid, skipping any /24 a route of this machine already covers) and, per node,
a namespace holding one end of a veth pair as eth0 with 10.A.B.<i>/24 (lo
up); the other end is on the bridge. Interface and namespace names carry
the pid (sc<pid>br, sc<pid>h<i>, sc<pid>n<i>), so runs side by side do not
collide. Nodes: 6 servers, one per namespace, on port 7000 with
cluster-node-timeout 1000, made a cluster of 3 masters and 3 replicas by
`redis-cli --cluster create --cluster-replicas 1`.

Each round takes the master M of the next slot range (0-5460, 5461-10922,
10923-16383, rotating) and its replica R:
  1. a writer inside M's namespace sends `SET {tag}k<i> r<round>-<i>` (tag in
     M's slots) then `WAIT 1 200` to M; a write is WAIT-acknowledged when
     WAIT answers >= 1, "+OK only" otherwise;
  2. after 100 acknowledged writes, M's bridge-side veth goes down (the cut;
     the writer, being local to M, keeps writing);
  3. asserted within bounds: M refuses writes with -CLUSTERDOWN (within
     node timeout + 5 s) and accepts none after its first refusal; R
     accepts a write (polled from the root namespace; -MOVED until then);
     the 5 nodes of the majority see R as a master owning exactly M's
     slots and M flagged fail;
  4. the link goes up again (the heal); asserted within a bound: all 6
     nodes cluster_state:ok, their CLUSTER NODES agree (ids, addresses,
     roles, masters, config epochs, slots; no fail/pfail flag, links
     connected) with exactly one master per slot, their CLUSTER SLOTS agree
     and cover the 16384 slots, M is a replica of R everywhere and its INFO
     replication says master_link_status:up to R's address, every replica's
     link is up; then every WAIT-acknowledged key reads back on R with its
     value (lost ones must be 0), the "+OK only" ones lost are counted.
Printed per round: cut to M's first refusal, cut to R's first accepted
write, WAIT-acknowledged and +OK-only writes with how many were lost.
M's refusal is timed when the writer gets it: up to one WAIT timeout
(200 ms) after M's state changed. With several --server, the same rounds
run on a cluster of each in turn and a summary (medians) compares them, for
benchmarks (partition_test.sh runs slotcache only unless given more).

Cleanup: processes (nodes, writer, redis-cli) are stopped, namespaces,
veths and the bridge deleted, on every exit: normal, failure, exception,
SIGTERM / SIGINT / SIGHUP (timeout's SIGTERM reaches this process and the
nodes, which share its process group). The nodes are stopped with SIGTERM
on the normal path (slotcache: exit 0 and no sanitizer report asserted),
SIGKILL when interrupted. The end checks that `ip netns` and `ip link`
hold nothing of this run. WORK is removed when everything passed, kept
(with the node logs) otherwise. Exit: 0 passed, 1 failed, 77 skipped
(reason on the last line), 143/130/129 interrupted.
"""
import argparse
import contextlib
import ipaddress
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import redis
from redis.cluster import PRIMARY, RedisCluster
from redis.crc import key_slot

NODES = 6
PORT = 7000
NODE_TIMEOUT_MS = 1000
WARM = 100  # WAIT-acknowledged writes before the cut
NAME = "partition_test"
T0 = time.monotonic()
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "WARNING: ThreadSanitizer",
                   "runtime error:")


def log(*args):
    print(f"{NAME}: +{time.monotonic() - T0:5.1f}s", *args, flush=True)


class Failure(Exception):
    pass


class Skip(Exception):
    pass


class Interrupted(BaseException):
    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


# The first SIGTERM / SIGINT / SIGHUP raises Interrupted, unless a cleanup is
# running: then it is only recorded (the cleanup switches to SIGKILL and
# raises it when done). Later ones are ignored: nothing cuts a cleanup short.
PENDING = []
CLEANING = False


def on_signal(signum, _frame):
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    PENDING.append(signum)
    if not CLEANING:
        raise Interrupted(signum)


@contextlib.contextmanager
def cleanup():
    global CLEANING
    was, CLEANING = CLEANING, True
    try:
        yield
    finally:
        CLEANING = was
    if PENDING and not was:
        raise Interrupted(PENDING[0])


def wait_for(what, seconds, cond, interval=0.05):
    """Poll cond() -> (ok, detail) until ok, at most seconds; Failure with the last detail."""
    deadline = time.monotonic() + seconds
    detail = ""
    while True:
        try:
            ok, detail = cond()
        except (redis.RedisError, OSError) as e:
            ok, detail = False, repr(e)
        if ok:
            return detail
        if time.monotonic() > deadline:
            raise Failure(f"{what}: not within {seconds:g} s; last: {detail}")
        time.sleep(interval)


def ip(*args, check=True):
    p = subprocess.run(["ip", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=20)
    if check and p.returncode != 0:
        raise Failure(f"ip {' '.join(args)}: exit {p.returncode}: {p.stdout.strip()}")
    return p


# ---- network -------------------------------------------------------------

def pick_subnet(pid):
    """10.A.B.0/24 from the pid, skipping any /24 that a route of any table overlaps."""
    out = ip("-4", "route", "show", "table", "all").stdout
    taken = []
    for line in out.splitlines():
        f = line.split()
        if not f:
            continue
        dst = f[1] if f[0] in ("local", "broadcast", "unicast", "multicast", "anycast", "unreachable",
                               "blackhole", "prohibit", "throw", "nat") and len(f) > 1 else f[0]
        try:
            taken.append(ipaddress.ip_network(dst, strict=False))
        except ValueError:
            pass  # "default"
    idx = pid % 65536
    for _ in range(200):
        net = ipaddress.ip_network(f"10.{idx >> 8}.{idx & 255}.0/24")
        if not any(net.overlaps(t) for t in taken if t.prefixlen > 0):
            return net
        idx = (idx + 7919) % 65536
    raise Failure("no free /24 in 10.0.0.0/8")


class Net:
    """The bridge, the namespaces and the veths of one cluster; delete() undoes what was made."""

    def __init__(self, pid):
        self.prefix = f"sc{pid}"
        self.bridge = f"{self.prefix}br"
        self.ns = [f"{self.prefix}n{i + 1}" for i in range(NODES)]
        self.host_veth = [f"{self.prefix}h{i + 1}" for i in range(NODES)]
        self.subnet = None
        self.ips = []

    def create(self):
        assert all(len(n) <= 15 for n in self.host_veth + [self.bridge, f"{self.prefix}p{NODES}"])
        p = ip("netns", "add", self.ns[0], check=False)
        if p.returncode != 0:
            raise Skip(f"ip netns add is not permitted here (root needed): {p.stdout.strip()}")
        self.subnet = pick_subnet(os.getpid())
        hosts = list(self.subnet.hosts())
        self.ips = [str(hosts[i]) for i in range(NODES)]
        ip("link", "add", self.bridge, "type", "bridge")
        ip("addr", "add", f"{hosts[253]}/24", "dev", self.bridge)
        ip("link", "set", self.bridge, "up")
        for i in range(NODES):
            ns, hv, peer = self.ns[i], self.host_veth[i], f"{self.prefix}p{i + 1}"
            if i > 0:
                ip("netns", "add", ns)
            ip("link", "add", hv, "type", "veth", "peer", "name", peer, "netns", ns)
            ip("link", "set", hv, "master", self.bridge, "up")
            ip("-n", ns, "link", "set", "lo", "up")
            ip("-n", ns, "link", "set", peer, "name", "eth0")
            ip("-n", ns, "addr", "add", f"{self.ips[i]}/24", "dev", "eth0")
            ip("-n", ns, "link", "set", "eth0", "up")
        log(f"network {self.subnet}: bridge {self.bridge} {hosts[253]}, namespaces {self.ns[0]}..{self.ns[-1]}")

    def delete(self):
        """Every name this run may have made that exists (a signal may have come between a
        creation and its bookkeeping), best effort, each step bounded; the names still present."""
        for name in self.leftovers():
            if name in self.ns:
                ip("netns", "del", name, check=False)  # takes the namespace's veth end, hence the pair
        for name in self.leftovers():
            if name not in self.ns:
                ip("link", "del", name, check=False)
        return self.leftovers()

    def leftovers(self):
        """The names of this run present in `ip netns list` and `ip link` (exact names: a prefix
        would match another run's, sc12 is a prefix of sc123)."""
        mine = set(self.ns + self.host_veth + [self.bridge] + [f"{self.prefix}p{i + 1}" for i in range(NODES)])
        left = [f[0] for f in (n.split() for n in ip("netns", "list", check=False).stdout.splitlines())
                if f and f[0] in mine]
        for line in ip("-o", "link", "show", check=False).stdout.splitlines():
            name = line.split(":")[1].strip().split("@")[0] if line.count(":") >= 2 else ""
            if name in mine:
                left.append(name)
        return left


# ---- processes -----------------------------------------------------------

PROCS = []  # every Popen still to be reaped on exit


def reap(p, term_wait, term=True):
    """SIGTERM (unless term_wait is 0, or term is False: the caller sent it already; a second
    one is not sent), wait up to term_wait (cut short by a signal to this process), then
    SIGKILL; the exit status, None when it had to be killed."""
    if p.poll() is None and term_wait > 0:
        if term:
            p.terminate()
        deadline = time.monotonic() + term_wait
        while p.poll() is None and time.monotonic() < deadline and not PENDING:
            time.sleep(0.02)
    killed = p.poll() is None
    if killed:
        p.kill()
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            pass
    if p in PROCS:
        PROCS.remove(p)
    return None if killed else p.returncode


class Node:
    def __init__(self, idx, ns, addr, binary, work):
        self.idx, self.ns, self.ip, self.binary = idx, ns, addr, binary
        self.dir = os.path.join(work, f"node-{idx}")
        self.logfile = os.path.join(self.dir, "log")
        self.proc = None
        self.r = redis.Redis(host=addr, port=PORT, socket_timeout=2, socket_connect_timeout=1,
                             decode_responses=True)
        self.id = None

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        args = ["ip", "netns", "exec", self.ns, self.binary, "--bind", self.ip, "--port", str(PORT),
                "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                "--cluster-node-timeout", str(NODE_TIMEOUT_MS), "--dir", self.dir, "--save", "",
                "--appendonly", "no", "--repl-diskless-sync-delay", "0", "--logfile", self.logfile,
                "--daemonize", "no"]
        # Clients come from the root namespace, not loopback: Redis 7.0 (and
        # slotcache) refuse them in protected mode without a password.
        args += ["--protected-mode", "no"]
        with open(os.path.join(self.dir, "stdout"), "wb") as out:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        PROCS.append(self.proc)

    def __str__(self):
        return f"node {self.idx} ({self.ip})"

    def call(self, *args):
        return self.r.execute_command(*args)

    def view(self):
        return parse_nodes(self.call("CLUSTER", "NODES"))

    def log_tail(self, n=25):
        return tail_of((self.logfile, os.path.join(self.dir, "stdout")), n)



class FixedRedisCluster(RedisCluster):
    """redis-py 4.3.4's (Debian's python3-redis) RedisCluster with two client bugs fixed, for
    the scripts whose slots move under their clients:
    - it follows an -ASK only to a node already in its node cache (the nodes of CLUSTER
      SLOTS): the first -ASK to a node that owns no slot yet ended in "AttributeError:
      'NoneType' object has no attribute 'server_type'"; such a node is added to the cache,
      as a MOVED to it would (counted in unknown_ask);
    - re-reading the slot map from a seed it has no connection to deep-copies its connection
      arguments, which hold a method of the client itself: "cannot pickle '_thread.lock'
      object" (redis/redis-py#2480); the client is its own deep copy."""
    unknown_ask = 0
    unknown_lock = threading.Lock()

    def __deepcopy__(self, memo):
        return self  # (redis/redis-py#2480, see the docstring)

    def get_node(self, host=None, port=None, node_name=None):
        node = super().get_node(host, port, node_name)
        if node is None and node_name and not host:
            h, _, p = node_name.rpartition(":")
            nm = self.nodes_manager
            node = nm._get_or_create_cluster_node(h, int(p), PRIMARY, nm.nodes_cache)
            nm.nodes_cache[node.name] = node
            with FixedRedisCluster.unknown_lock:
                FixedRedisCluster.unknown_ask += 1
        return node


def port_free(p, host="127.0.0.1"):
    """Nothing listens on host:p (SO_REUSEADDR: a port in TIME_WAIT counts as free)."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((host, p))
        return True
    except OSError:
        return False
    finally:
        s.close()

def tail_of(paths, n=25):
    """The last n lines of each file that exists and is not empty, each
    behind a "---- last lines of <path>:" line."""
    text = ""
    for f in paths:
        try:
            with open(f, errors="replace") as fh:
                lines = fh.read().splitlines()
        except OSError:
            continue
        if lines:
            text += f"---- last lines of {f}:\n" + "\n".join(lines[-n:]) + "\n"
    return text

def run_guarded(name, work, binary, body, keep=False, note="", dump_logs=False, after=None):
    """The exit rules the multi-node scripts share, around body() (which
    returns a list of problems): SIGTERM / SIGINT / SIGHUP interrupt it
    (the handlers are installed here), every process in PROCS is reaped on
    every exit, Skip gives 77 (work removed), an interruption 128 + the
    signal, problems 1, a pass 0 (work removed unless keep). Logs stay in
    work after a failure or an interruption; with dump_logs, the last lines
    of every server.log under work are printed instead and work is removed
    (unless keep). note ends the failure and pass lines (a seed to repeat);
    after(failed), when given, runs once every process is reaped."""
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    rc, problems = 0, []
    try:
        if not os.access(binary, os.X_OK):
            problems.append(f"server binary {binary} missing")
        else:
            problems = body()
    except Skip as e:
        shutil.rmtree(work, ignore_errors=True)
        print(f"{name}: skipped: {e}", flush=True)
        return 77
    except Interrupted as e:
        print(f"{name}: interrupted by {e}; cleaning up", flush=True)
        rc = 128 + e.signum
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        for p in list(PROCS):
            reap(p, 0)
        if after:
            after(bool(rc or problems))
    if PENDING and not rc:
        rc = 128 + PENDING[0]  # a signal during the cleanup
    failed = bool(rc or problems)
    if failed and dump_logs and not keep:
        for root, _dirs, files in sorted(os.walk(work)):
            if "server.log" in files:
                print(tail_of([os.path.join(root, "server.log")], 15), end="", flush=True)
    kept = f"; logs kept in {work}" if failed and (keep or not dump_logs) else ""
    if not kept and not keep:
        shutil.rmtree(work, ignore_errors=True)
    tail = f" ({note})" if note else ""
    if rc:
        print(f"{name}: interrupted{kept}", flush=True)
        return rc
    for p in problems:
        print(f"{name}: FAIL: {p}", flush=True)
    if problems:
        print(f"{name}: {len(problems)} failure(s){tail}{kept}", flush=True)
        return 1
    print(f"{name}: passed in {time.monotonic() - T0:.1f} s{tail}", flush=True)
    return 0

def parse_nodes(text):
    """CLUSTER NODES -> {id: {addr, flags, master, epoch, link, slots}} (myself flag dropped)."""
    view = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) < 8:
            continue
        slots = []
        for s in f[8:]:
            if s.startswith("["):
                continue  # migrating / importing
            a, _, b = s.partition("-")
            slots.append((int(a), int(b or a)))
        view[f[0]] = {"addr": f[1].split("@")[0], "flags": set(f[2].split(",")) - {"myself", "noflags"},
                      "master": f[3], "epoch": int(f[6]), "link": f[7], "slots": sorted(slots),
                      "myself": "myself" in f[2]}
    return view


def role(entry):
    return "master" if "master" in entry["flags"] else "slave"


def shape(view):
    """What every node must agree on."""
    return {i: (e["addr"], role(e), e["master"], e["epoch"], tuple(e["slots"])) for i, e in view.items()}


def slots_normal(reply):
    return sorted((int(r[0]), int(r[1]), r[2][2]) for r in reply)


class Writer:
    """The writer, run inside M's namespace (the only side that can reach M once it is cut off):
    a child of this script (--writer-child) whose stdout lines `<status> <i> <monotonic> [error]`
    are collected by a thread; closing its stdin stops it."""

    def __init__(self, node, tag, rnd):
        self.acked, self.okonly, self.down, self.errors = {}, {}, [], []
        self.first_down = None
        self.ok_times = []
        self.lock = threading.Lock()
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", node.ns, sys.executable, "-u", os.path.abspath(__file__), "--writer-child",
             node.ip, str(PORT), tag, str(rnd)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        PROCS.append(self.proc)
        self.rnd = rnd
        self.thread = threading.Thread(target=self.read, daemon=True)
        self.thread.start()

    def read(self):
        for line in self.proc.stdout:
            f = line.split(None, 3)
            if len(f) < 3 or f[0] not in ("ack", "ok", "down", "err"):
                with self.lock:
                    self.errors.append(line.rstrip())
                continue
            st, i, t = f[0], int(f[1]), float(f[2])
            key, val = f"k{i}", f"r{self.rnd}-{i}"
            with self.lock:
                if st == "ack":
                    self.acked[key] = val
                    self.ok_times.append(t)
                elif st == "ok":
                    self.okonly[key] = val
                    self.ok_times.append(t)
                elif st == "down":
                    self.down.append(t)
                    if self.first_down is None:
                        self.first_down = (t, f[3].strip() if len(f) > 3 else "")
                else:
                    self.errors.append(line.rstrip())

    def count(self):
        with self.lock:
            return len(self.acked), len(self.okonly), len(self.down)

    def stop(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(5)  # it ends after its current SET (and WAIT): 200 ms at most, or 5 s of socket timeout
        except subprocess.TimeoutExpired:
            pass
        rc = reap(self.proc, 1)
        self.thread.join(5)
        return rc


def writer_child(host, port, tag, rnd):
    stop = threading.Event()

    def watch_stdin():
        sys.stdin.read()
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    r = redis.Redis(host=host, port=int(port), socket_timeout=5, socket_connect_timeout=2, decode_responses=True)
    i = 0
    while not stop.is_set():
        i += 1
        key, val = f"{{{tag}}}k{i}", f"r{rnd}-{i}"
        try:
            r.execute_command("SET", key, val)
        except redis.ResponseError as e:
            msg = str(e).replace("\n", " ")
            print("down" if msg.startswith("CLUSTERDOWN") else "err", i, time.monotonic(), msg, flush=True)
            time.sleep(0.005)
            continue
        except (redis.ConnectionError, redis.TimeoutError) as e:
            print("err", i, time.monotonic(), repr(e), flush=True)
            time.sleep(0.05)
            continue
        try:
            n = r.execute_command("WAIT", 1, 200)
        except redis.RedisError:
            n = 0
        print("ack" if n >= 1 else "ok", i, time.monotonic(), flush=True)
    return 0


# ---- the cluster and a round ---------------------------------------------

class Cluster:
    def __init__(self, binary, net, work, scale):
        self.binary, self.net, self.scale = binary, net, scale
        self.nodes = [Node(i + 1, net.ns[i], net.ips[i], binary, work) for i in range(NODES)]
        self.by_id = {}

    def start(self):
        for n in self.nodes:
            n.start()
        for n in self.nodes:
            def answers(n=n):
                if n.proc.poll() is not None:
                    raise Failure(f"{n} exited at startup (status {n.proc.returncode})\n{n.log_tail()}")
                return n.r.ping(), "no PONG"
            wait_for(f"{n} answers PING", 20 * self.scale, answers)
            n.id = n.call("CLUSTER", "MYID")
            self.by_id[n.id] = n
        log(f"6 nodes answer PING ({os.path.basename(self.binary)})")

    def create(self):
        args = ["redis-cli", "--cluster", "create", *[f"{n.ip}:{PORT}" for n in self.nodes],
                "--cluster-replicas", "1", "--cluster-yes"]
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
        PROCS.append(p)
        try:
            out, _ = p.communicate(timeout=60 * self.scale)
        except subprocess.TimeoutExpired:
            reap(p, 0)
            raise Failure(f"redis-cli --cluster create did not end within {60 * self.scale} s")
        PROCS.remove(p)
        if p.returncode != 0 or "[OK] All 16384 slots covered." not in out:
            raise Failure(f"redis-cli --cluster create exited {p.returncode}:\n{out}")
        t = time.monotonic()
        wait_for("cluster ok and replicas synced after create", 30 * self.scale, self.steady)
        log(f"cluster created; steady {time.monotonic() - t:.1f} s after redis-cli --cluster create")

    def alive(self, n):
        if n.proc.poll() is not None:
            raise Failure(f"{n} exited (status {n.proc.returncode})\n{n.log_tail()}")

    def steady(self, nodes=None):
        """(True, view) when every node is ok, the views agree and are healthy, every replica synced."""
        nodes = nodes or self.nodes
        views, slots = {}, {}
        for n in nodes:
            self.alive(n)
            state = n.call("CLUSTER", "INFO")
            if "cluster_state:ok" not in state:
                return False, f"{n}: not cluster_state:ok"
            views[n.idx] = n.view()
            slots[n.idx] = slots_normal(n.call("CLUSTER", "SLOTS"))
        first = nodes[0].idx
        ref = shape(views[first])
        for idx, v in views.items():
            if len(v) != NODES:
                return False, f"node {idx} knows {len(v)} nodes"
            for nid, e in v.items():
                bad = e["flags"] & {"fail", "fail?", "handshake", "noaddr"}
                if bad:
                    return False, f"node {idx} flags {self.name(nid)} {sorted(bad)}"
                if e["link"] != "connected":
                    return False, f"node {idx}: link to {self.name(nid)} {e['link']}"
            if shape(v) != ref:
                return False, f"CLUSTER NODES of node {idx} and node {first} differ: {self.diff(v, views[first])}"
            if slots[idx] != slots[first]:
                return False, f"CLUSTER SLOTS of node {idx} and node {first} differ"
        owners = [None] * 16384
        for nid, e in views[first].items():
            for a, b in e["slots"]:
                if role(e) != "master":
                    return False, f"replica {self.name(nid)} lists slots"
                for s in range(a, b + 1):
                    if owners[s] is not None:
                        return False, f"slot {s}: two masters {self.name(owners[s])} and {self.name(nid)}"
                    owners[s] = nid
        if None in owners:
            return False, f"slot {owners.index(None)} has no master"
        covered, nxt = slots[first], 0
        for a, b, nid in covered:
            if a != nxt or owners[a] != nid:
                return False, f"CLUSTER SLOTS of node {first}: range {a}-{b} does not follow CLUSTER NODES"
            nxt = b + 1
        if nxt != 16384:
            return False, f"CLUSTER SLOTS of node {first} ends at slot {nxt - 1}"
        for n in nodes:
            info = n.r.info("replication")
            if info.get("role") == "slave" and info.get("master_link_status") != "up":
                return False, f"{n}: master_link_status {info.get('master_link_status')}"
        return True, views[first]

    def name(self, nid):
        n = self.by_id.get(nid)
        return str(n) if n else nid[:8]

    def diff(self, a, b):
        sa, sb = shape(a), shape(b)
        return "; ".join(f"{self.name(i)}: {sa.get(i)} vs {sb.get(i)}" for i in sorted(set(sa) | set(sb))
                         if sa.get(i) != sb.get(i))

    def shards(self, view):
        """[(lowest slot, master Node, replica Node)] sorted by their slot range."""
        out = []
        for nid, e in view.items():
            if role(e) == "master" and e["slots"]:
                reps = [self.by_id[i] for i, x in view.items() if x["master"] == nid]
                if len(reps) != 1:
                    raise Failure(f"{self.name(nid)} has {len(reps)} replicas")
                out.append((e["slots"][0][0], self.by_id[nid], reps[0]))
        return sorted(out, key=lambda s: s[0])

    def evidence(self):
        text = ""
        for n in self.nodes:
            try:
                text += f"---- CLUSTER NODES of {n}:\n{n.call('CLUSTER', 'NODES')}"
            except (redis.RedisError, OSError) as e:
                text += f"---- {n}: {e!r}\n"
        for n in self.nodes:
            text += n.log_tail()
        return text

    def stop(self, fast):
        """Stop every node; the problems found (slotcache: exit status, sanitizer reports)."""
        problems = []
        for n in self.nodes:
            if n.proc and n.proc.poll() is None:
                if fast:
                    n.proc.kill()
                else:
                    n.proc.terminate()
        deadline = time.monotonic() + 15 * self.scale
        for n in self.nodes:
            if not n.proc:
                continue
            rc = reap(n.proc, 0 if fast else max(0.1, deadline - time.monotonic()), term=False)
            if fast or "redis-server" in os.path.basename(self.binary):
                continue
            if rc != 0:
                problems.append(f"{n} exit status {rc} after SIGTERM" if rc is not None else
                                f"{n} did not exit within {15 * self.scale} s of SIGTERM")
            for f in (n.logfile, os.path.join(n.dir, "stdout")):
                try:
                    with open(f, errors="replace") as fh:
                        text = fh.read()
                except OSError:
                    continue
                if any(m in text for m in SANITIZER_MARKS):
                    problems.append(f"{n}: sanitizer report in {f}")
        return problems


def find_tag(slots):
    for k in range(1000000):
        s = key_slot(f"t{k}".encode())
        if any(a <= s <= b for a, b in slots):
            return f"t{k}"
    raise Failure("no hash tag for the slots")


def run_round(cl, rnd, scale):
    view = wait_for("cluster steady before the round", 30 * scale, cl.steady)
    _, m, r = cl.shards(view)[rnd % 3]
    m_slots = view[m.id]["slots"]
    tag = find_tag(m_slots)
    others = [n for n in cl.nodes if n is not m]
    hv = cl.net.host_veth[m.idx - 1]
    log(f"round {rnd}: M = {m}, R = {r}, tag {{{tag}}} (slots {m_slots[0][0]}-{m_slots[-1][1]})")
    res = {}
    w = Writer(m, tag, rnd)
    cut = False
    try:
        wait_for(f"{WARM} WAIT-acknowledged writes to M", 30 * scale,
                 lambda: (w.count()[0] >= WARM or w.proc.poll() is not None, w.count()), 0.01)
        if w.proc.poll() is not None:
            raise Failure(f"the writer exited (status {w.proc.returncode}): {w.errors[-5:]}")
        ip("link", "set", hv, "down")
        t_cut = time.monotonic()
        cut = True
        log(f"round {rnd}: cut ({hv} down) after {w.count()[0]} acknowledged, {w.count()[1]} +OK-only writes")

        # The majority side: R accepts a write (polled from the root namespace; -MOVED while a replica).
        probe = f"{{{tag}}}probe{rnd}"

        def r_writes():
            cl.alive(r)
            try:
                return r.call("SET", probe, "1") is True, "no +OK"
            except redis.ResponseError as e:
                return False, str(e)
        wait_for("R accepts a write after the cut", 20 * scale, r_writes, 0.01)
        res["r_write"] = time.monotonic() - t_cut

        bound = NODE_TIMEOUT_MS / 1000 + 5 * scale
        wait_for("M refuses writes with -CLUSTERDOWN", max(0.0, t_cut + bound - time.monotonic()) + 0.5,
                 lambda: (w.first_down is not None, f"writer: {w.count()} (acked, +OK only, refused), "
                          f"other errors {w.errors[-3:]}"), 0.01)
        res["m_refuse"] = w.first_down[0] - t_cut
        if res["m_refuse"] > bound:
            raise Failure(f"M refused its first write {res['m_refuse']:.2f} s after the cut (bound {bound:g} s)")

        def majority_sees_failover():
            for n in others:
                cl.alive(n)
                v = n.view()
                if role(v[r.id]) != "master" or v[r.id]["slots"] != m_slots:
                    return False, f"{n} sees R as {role(v[r.id])} with slots {v[r.id]['slots']}"
                if "fail" not in v[m.id]["flags"] or v[m.id]["slots"]:
                    return False, f"{n} sees M with flags {sorted(v[m.id]['flags'])}, slots {v[m.id]['slots']}"
            return True, ""
        wait_for("the majority sees R as master of M's slots, M failed", 15 * scale, majority_sees_failover)
        # A little more of the partition: M must not start accepting writes again.
        time.sleep(0.5)
        w.stop()
        with w.lock:
            late = [t for t in w.ok_times if t > w.first_down[0]]
        if late:
            raise Failure(f"M accepted {len(late)} writes after refusing one, while cut off")
        log(f"round {rnd}: M refused from +{res['m_refuse']:.2f}s ({w.first_down[1]}), "
            f"R took a write at +{res['r_write']:.2f}s; {len(w.down)} writes refused"
            + (f"; other errors: {len(w.errors)}, last {w.errors[-1]}" if w.errors else ""))
    finally:
        if w.proc.poll() is None:
            w.stop()
        if cut:
            ip("link", "set", hv, "up")
    t_heal = time.monotonic()

    def healed():
        ok, v = cl.steady()
        if not ok:
            return ok, v
        if role(v[m.id]) != "slave" or v[m.id]["master"] != r.id:
            return False, f"M is {role(v[m.id])} of {cl.name(v[m.id]['master'])}"
        if v[r.id]["slots"] != m_slots:
            return False, f"R owns {v[r.id]['slots']}"
        info = m.r.info("replication")
        if info.get("master_host") != r.ip or info.get("master_link_status") != "up":
            return False, f"M: master_host {info.get('master_host')} link {info.get('master_link_status')}"
        return True, v
    wait_for("after the heal: one consistent view, M a synced replica of R", 30 * scale, healed)
    res["heal"] = time.monotonic() - t_heal

    def lost(kv):
        if not kv:
            return 0
        pipe = r.r.pipeline(transaction=False)
        keys = list(kv)
        for k in keys:
            pipe.get(f"{{{tag}}}{k}")
        return sum(1 for k, v in zip(keys, pipe.execute()) if v != kv[k])
    res["acked"], res["okonly"] = len(w.acked), len(w.okonly)
    res["acked_lost"], res["okonly_lost"] = lost(w.acked), lost(w.okonly)
    log(f"round {rnd}: cut->M refuses {res['m_refuse']:.2f} s, cut->R write {res['r_write']:.2f} s, "
        f"heal->consistent {res['heal']:.2f} s; WAIT-acknowledged lost {res['acked_lost']}/{res['acked']}, "
        f"+OK-only lost {res['okonly_lost']}/{res['okonly']}")
    if res["acked_lost"]:
        raise Failure(f"{res['acked_lost']} WAIT-acknowledged writes lost")
    return res


def run_server(binary, rounds, work, scale):
    net = Net(os.getpid())
    cl = None
    ok = False
    results = []
    problems = []
    try:
        net.create()
        cl = Cluster(binary, net, os.path.join(work, os.path.basename(binary)), scale)
        cl.start()
        cl.create()
        for rnd in range(rounds):
            results.append(run_round(cl, rnd, scale))
        ok = True
    except (Failure, redis.RedisError, OSError, subprocess.SubprocessError) as e:
        problems.append(str(e) if isinstance(e, Failure) else repr(e))
        if cl:
            print(cl.evidence(), flush=True)
    finally:
        with cleanup():
            if cl:
                problems += cl.stop(fast=not ok or bool(PENDING))
            left = net.delete()
            if left:
                problems.append(f"left behind: {left}")
    return results, problems


def summary(name, results):
    if not results:
        return
    med = statistics.median
    print(f"{name}: {len(results)} rounds: cut->M refuses median {med(r['m_refuse'] for r in results):.2f} s "
          f"(max {max(r['m_refuse'] for r in results):.2f}), cut->R write median "
          f"{med(r['r_write'] for r in results):.2f} s (max {max(r['r_write'] for r in results):.2f}), "
          f"WAIT-acknowledged lost {sum(r['acked_lost'] for r in results)}/{sum(r['acked'] for r in results)}, "
          f"+OK-only lost {sum(r['okonly_lost'] for r in results)}/{sum(r['okonly'] for r in results)}",
          flush=True)


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "--writer-child":
        return writer_child(*sys.argv[2:])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", action="append", required=True, help="server binary (repeat to compare)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--scale", type=int, default=1, help="multiplies every bound")
    ap.add_argument("--dir", help="working directory (created if needed; removed when all passed)")
    ap.add_argument("--keep", action="store_true", help="keep the working directory")
    a = ap.parse_args()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    work = a.dir or tempfile.mkdtemp(prefix=f"{NAME}.")
    os.makedirs(work, exist_ok=True)
    all_problems, all_results, skip, rc = [], [], None, 0
    try:
        for binary in a.server:
            binary = os.path.abspath(binary)
            if not os.access(binary, os.X_OK):
                all_problems.append(f"server binary {binary} missing")
                continue
            log(f"{a.rounds} rounds on {binary}")
            results, problems = run_server(binary, a.rounds, work, a.scale)
            all_results.append((binary, results))
            all_problems += [f"{os.path.basename(binary)}: {p}" for p in problems]
    except Skip as e:
        skip = str(e)
    except Interrupted as e:
        print(f"{NAME}: interrupted by {e}; cleaning up", flush=True)
        rc = 128 + e.signum
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        for p in list(PROCS):
            reap(p, 0)
    if PENDING and not rc:
        rc = 128 + PENDING[0]
    # (run_server's finally deleted the network, also when interrupted.)
    for binary, results in all_results:
        summary(os.path.basename(binary), results)
    if skip:
        shutil.rmtree(work, ignore_errors=True)
        print(f"{NAME}: skipped: {skip}", flush=True)
        return 77
    if rc:
        print(f"{NAME}: interrupted; logs kept in {work}", flush=True)
        return rc
    for p in all_problems:
        print(f"{NAME}: FAIL: {p}", flush=True)
    if all_problems:
        print(f"{NAME}: {len(all_problems)} failure(s); logs kept in {work}", flush=True)
        return 1
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{NAME}: passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
