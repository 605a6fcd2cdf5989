"""tests/cluster/reshard_test.py - resharding under a client load: nodes
added, slots rebalanced and resharded, a node emptied and deleted, all with
redis-cli --cluster while redis-py's RedisCluster clients write and read.
Started by reshard_test.sh (under /usr/bin/python3 for python3-redis):

  reshard_test.py --server BIN [--threads 20] [--rate 25] [--keys 200]
                  [--hot-keys 80] [--reshard 300] [--scale 1] [--dir WORK] [--keep]

Nodes: 4 servers on free loopback ports (port and bus port free), cluster
mode, cluster-node-timeout 2000 x scale (a master that joins says
cluster_state:ok that long after, up to 5 s, in Redis 7.0 as here: the
rejoin delay), no persistence, each in its own directory
under WORK (log there).

Phases, each asserted before the next:
  1. `redis-cli --cluster create` of nodes 1-3 (--cluster-replicas 0
     --cluster-yes): exit 0, "[OK] All 16384 slots covered"; the three
     agree and are cluster_state:ok. Node 4 runs, empty, outside.
  2. The load: --threads clients, each its own redis.cluster.RedisCluster
     (it follows -MOVED and -ASK, retries TRYAGAIN, CLUSTERDOWN and
     connection errors itself), each on its own keys: r<t>:k<i> (--keys per
     thread, no hash tag: spread over the slots), {h<x>}r<t>:h<i> in 3 hot
     slots (--hot-keys per thread in each; slots of node 1, at 5, 45 and
     90 % of its range: they all migrate, each a slot of many keys, that is
     of many MIGRATE calls, under the load: -ASK) and 5 counters
     {h<x>}r<t>:c<j> in the hot slots too. First a SET of each of its keys,
     then at random (half of the keys picked in a hot slot) SET k v (a new
     value), INCR c, GET k (must be the value last acknowledged for k),
     a tenth of the SETs and GETs an MSET / MGET of 2-3 of its keys of one
     hot slot (-TRYAGAIN while the slot is split between two nodes), about
     --rate operations/s per thread. Every acknowledged write is recorded.
     Any exception reaching the client's caller is a failure (printed).
     An INCR whose reply was lost, or that redis-py re-sent after a
     connection error, may have been applied: counted uncertain.
     Asserted: every thread wrote all its keys once, within a bound.
  3. Under the load:
     a. `--cluster add-node` of node 4 (exit 0); within a bound all 4
        nodes know each other (connected, no fail flag) and
        `--cluster check` says the nodes agree;
     b. `--cluster rebalance --cluster-use-empty-masters` (exit 0): node 4
        owns slots, every node agrees on the owner of every slot;
     c. `--cluster reshard` of --reshard slots from node 2 to node 4
        (exit 0): their counts change by exactly that;
     d. node 1 emptied: half its slots resharded to node 3, the rest to
        node 4; it owns none; `--cluster del-node` (exit 0): no other node
        lists it in CLUSTER NODES; node 1 is stopped.
     Each step asserts the load made progress during it (operations
     acknowledged) and no open slot is left (migrating/importing).
  4. The load runs 1 s more, then stops. Asserted: no client-visible
     error; every acknowledged key reads back with its last acknowledged
     value (a fresh client); each counter is in [acknowledged INCRs,
     acknowledged + uncertain]; `--cluster check` exits 0 with
     "[OK] All 16384 slots covered" and no [ERR] / [WARNING] (open slots);
     the sum of DBSIZE over the 3 masters left is the number of distinct
     keys written (counters whose only INCRs are uncertain may or may not
     exist: a range).
Printed: per phase the time taken and the slots moved, and a summary: keys,
operations, redirections followed (-MOVED, -ASK, TRYAGAIN as redis-py logs
them), connection retries, duration.

redis-py 4.3.4 (Debian's python3-redis) follows an -ASK only to a node
already in its node cache, which holds the nodes of CLUSTER SLOTS: the first
-ASK to a node that owns no slot yet (node 4 while the rebalance imports its
first slots) would end in AttributeError. The client class here adds such a
node to the cache (as a MOVED to it would), counted and printed as "ASK to
a node unknown to the client". And when it re-reads the slot map from a
seed node it has no connection to (after a node's 5th connection error, its
connection dropped: here once the deleted node 1 is stopped, for a client
whose map still sent a slot there), redis-py 4.3.4 deep-copies its
connection arguments, which hold a method of the client itself: "cannot
pickle '_thread.lock' object" (redis/redis-py#2480). The client class here
is its own deep copy (it is the connections' on_connect, not data).

Cleanup as partition_test.py: every process (nodes, redis-cli) is stopped
on every exit: normal, failure, exception, SIGTERM / SIGINT / SIGHUP. The
nodes are stopped with SIGTERM on the normal path (slotcache: exit 0 and no
sanitizer report asserted), SIGKILL when interrupted or failed. WORK is
removed when everything passed, kept (node logs, redis-cli outputs)
otherwise. Exit: 0 passed, 1 failed, 130/143/129 interrupted.
"""
import argparse
import logging
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time

import redis
from redis.cluster import ClusterNode
from redis.crc import key_slot

import partition_test as pt
from partition_test import Failure, wait_for

NAME = "reshard_test"
NODE_TIMEOUT_MS = 2000  # x scale
HOST = "127.0.0.1"
COUNTERS = 5  # per thread
HOT = 3  # hot slots


def log(*args):
    print(f"{NAME}: +{time.monotonic() - pt.T0:5.1f}s", *args, flush=True)


# ---- redis-py's internal retries, counted per thread ---------------------

class RetryCounter(logging.Handler):
    """redis.cluster logs each error it handles itself with log.exception:
    MovedError, AskError, TryAgainError, ClusterDownError, and
    ConnectionError / TimeoutError (logged as the exception type, then
    re-sent to the same node up to 5 times). Counted per thread ident."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.mu = threading.Lock()  # (self.lock is the Handler's own, held around emit)
        self.counts = {}  # thread ident -> {kind: n}
        self.other = []   # messages of records not classified

    def emit(self, record):
        kind = None
        if record.exc_info and record.exc_info[0] is not None:
            et = record.exc_info[0]
            if issubclass(et, redis.exceptions.MovedError):
                kind = "MOVED"
            elif issubclass(et, redis.exceptions.AskError):
                kind = "ASK"
            elif issubclass(et, redis.exceptions.TryAgainError):
                kind = "TRYAGAIN"
            elif issubclass(et, redis.exceptions.ClusterDownError):
                kind = "CLUSTERDOWN"
            elif issubclass(et, (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)):
                # A command's connection error is logged with its type as the message; the
                # others come from (re)initializing the slot map from a seed node.
                kind = "conn" if isinstance(record.msg, type) else "seed-conn"
            else:
                kind = "other:" + et.__name__
        else:
            kind = "other"
        with self.mu:
            c = self.counts.setdefault(record.thread, {})
            c[kind] = c.get(kind, 0) + 1
            if kind.startswith("other") and len(self.other) < 20:
                self.other.append(f"{record.getMessage()[:200]} ({kind})")

    def get(self, ident, kind):
        with self.mu:
            return self.counts.get(ident, {}).get(kind, 0)

    def total(self, kind):
        with self.mu:
            return sum(c.get(kind, 0) for c in self.counts.values())


RETRIES = RetryCounter()


Client = pt.FixedRedisCluster


def client(ports, scale):
    return Client(startup_nodes=[ClusterNode(HOST, p) for p in ports], decode_responses=True,
                  socket_timeout=10 * scale, socket_connect_timeout=5 * scale)


# ---- the load ------------------------------------------------------------

class Worker(threading.Thread):
    """One client thread on its own keys; the record of what it got acknowledged."""

    def __init__(self, idx, ports, nkeys, hot_tags, nhot, rate, scale, stop):
        super().__init__(daemon=True, name=f"worker-{idx}")
        self.idx, self.ports, self.rate, self.scale, self.stop = idx, ports, rate, scale, stop
        self.nhot = nhot
        self.spread = [f"r{idx}:k{i}" for i in range(nkeys)]
        self.hot = [f"{{{t}}}r{idx}:h{i}" for t in hot_tags for i in range(nhot)]
        self.keys = self.spread + self.hot
        self.ctrs = [f"{{{hot_tags[j % len(hot_tags)]}}}r{idx}:c{j}" for j in range(COUNTERS)]
        self.rng = random.Random(idx * 7919 + os.getpid())
        self.lock = threading.Lock()
        self.value = {}      # key -> last acknowledged value
        self.maybe = {}      # key -> values a failed SET may have left (besides value[key])
        self.incr_acked = [0] * COUNTERS
        self.incr_maybe = [0] * COUNTERS  # applications beyond the acknowledged ones that may have happened
        self.ops = 0
        self.sets = self.incrs = self.gets = self.msets = self.mgets = 0
        self.errors = []      # client-visible failures (exceptions, wrong values)
        self.warm = False     # every key written once
        self.seq = 0

    def pick(self):
        """A key: one of a hot slot half of the time."""
        return self.rng.choice(self.hot if self.hot and self.rng.random() < 0.5 else self.spread)

    def fail(self, what):
        with self.lock:
            self.errors.append(what)
        log(f"worker {self.idx}: {what}")

    def conn_retries(self):
        return RETRIES.get(self.ident, "conn")

    def do_set(self, rc, keys):
        """SET of one key, MSET of several (of one hot slot)."""
        vals = []
        for _ in keys:
            self.seq += 1
            vals.append(f"{self.idx}:{self.seq}")
        args = ["SET", keys[0], vals[0]] if len(keys) == 1 else \
            ["MSET", *[x for kv in zip(keys, vals) for x in kv]]
        try:
            ok = rc.execute_command(*args)
        except Exception as e:  # noqa: BLE001 - every exception reaching us is a failure
            ok = e
        if ok is not True:
            self.fail(f"{' '.join(args)}: " + (repr(ok) if isinstance(ok, Exception) else f"reply {ok!r}"))
            with self.lock:
                for k, v in zip(keys, vals):
                    self.maybe.setdefault(k, set()).add(v)
            return
        with self.lock:
            for k, v in zip(keys, vals):
                self.value[k] = v
                self.maybe.pop(k, None)
            self.sets += len(keys)
            self.msets += len(keys) > 1
            self.ops += 1

    def do_incr(self, rc, j):
        k = self.ctrs[j]
        before = self.conn_retries()
        try:
            n = rc.incr(k)
        except Exception as e:  # noqa: BLE001
            self.fail(f"INCR {k}: {e!r}")
            with self.lock:
                self.incr_maybe[j] += max(1, self.conn_retries() - before)
            return
        resent = self.conn_retries() - before  # re-sent after a connection error: maybe applied more
        with self.lock:
            self.incr_acked[j] += 1
            self.incr_maybe[j] += resent
            lo, hi = self.incr_acked[j], self.incr_acked[j] + self.incr_maybe[j]
            self.incrs += 1
            self.ops += 1
        if not lo <= n <= hi:
            self.fail(f"INCR {k} answered {n}, expected within [{lo}, {hi}]")

    def do_get(self, rc, keys):
        """GET of one key, MGET of several (of one hot slot): the values last acknowledged."""
        with self.lock:
            want = [self.value.get(k) for k in keys]
            alt = [set(self.maybe.get(k, ())) for k in keys]
        try:
            got = rc.execute_command("GET", keys[0]) if len(keys) == 1 else rc.execute_command("MGET", *keys)
        except Exception as e:  # noqa: BLE001
            self.fail(f"{'GET' if len(keys) == 1 else 'MGET'} {' '.join(keys)}: {e!r}")
            return
        if len(keys) == 1:
            got = [got]
        for k, g, w, al in zip(keys, got, want, alt):
            if g != w and g not in al:
                self.fail(f"GET {k}: {g!r}, last acknowledged {w!r}" + (f" (or {sorted(al)})" if al else "")
                          + (f" (MGET {' '.join(keys)})" if len(keys) > 1 else ""))
        with self.lock:
            self.gets += len(keys)
            self.mgets += len(keys) > 1
            self.ops += 1

    def several(self):
        """2 or 3 of this thread's keys in one hot slot (MSET / MGET: -TRYAGAIN while it migrates)."""
        tag = self.rng.randrange(len(self.hot) // self.nhot)
        return self.rng.sample(self.hot[tag * self.nhot:(tag + 1) * self.nhot], self.rng.choice((2, 3)))

    def run(self):
        try:
            rc = client(self.ports, self.scale)
        except Exception as e:  # noqa: BLE001
            self.fail(f"RedisCluster(): {e!r}")
            return
        period = 1.0 / self.rate
        nxt = time.monotonic()
        first = 0
        try:
            while not self.stop.is_set():
                if first < len(self.keys):
                    self.do_set(rc, [self.keys[first]])
                    first += 1
                    if first == len(self.keys):
                        self.warm = True
                    continue  # the first pass is not rate-bounded
                r = self.rng.random()
                multi = self.hot and self.rng.random() < 0.1
                if r < 0.5:
                    self.do_set(rc, self.several() if multi else [self.pick()])
                elif r < 0.7:
                    self.do_incr(rc, self.rng.randrange(COUNTERS))
                else:
                    self.do_get(rc, self.several() if multi else [self.pick()])
                nxt += period
                delay = nxt - time.monotonic()
                if delay > 0:
                    self.stop.wait(delay)
                else:
                    nxt = time.monotonic()  # behind: no burst to catch up
        except Exception as e:  # noqa: BLE001 - a bug of this script: reported
            self.fail(f"worker crashed: {e!r}")
        finally:
            rc.close()

    def progress(self):
        with self.lock:
            return self.ops


# ---- nodes and redis-cli -------------------------------------------------

def port_pair_free(p):
    return pt.port_free(p, HOST) and pt.port_free(p + 10000, HOST)


def free_port(taken):
    for _ in range(1000):
        p = random.randrange(10000, 22000)
        if p not in taken and port_pair_free(p):
            return p
    raise Failure("no free port (with its bus port)")


class Node:
    extra_args = ()  # more server arguments (a subclass's)

    def __init__(self, idx, binary, work, scale):
        self.idx, self.binary, self.scale = idx, binary, scale
        self.dir = os.path.join(work, f"node-{idx}")
        self.logfile = os.path.join(self.dir, "log")
        self.port = None
        self.proc = None
        self.r = None
        self.id = None

    def __str__(self):
        return f"node {self.idx} (:{self.port})"

    def start(self, taken):
        os.makedirs(self.dir, exist_ok=True)
        for _ in range(5):
            self.port = free_port(taken)
            args = [self.binary, "--port", str(self.port), "--bind", HOST, "--cluster-enabled", "yes",
                    "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", str(NODE_TIMEOUT_MS * self.scale),
                    "--dir", self.dir, "--save", "", "--appendonly", "no", "--logfile", self.logfile,
                    "--daemonize", "no", *self.extra_args]
            with open(os.path.join(self.dir, "stdout"), "ab") as out:
                self.proc = subprocess.Popen(args, cwd=self.dir, stdin=subprocess.DEVNULL, stdout=out,
                                             stderr=subprocess.STDOUT)
            pt.PROCS.append(self.proc)
            self.r = redis.Redis(host=HOST, port=self.port, socket_timeout=10 * self.scale,
                                 socket_connect_timeout=2, decode_responses=True)
            deadline = time.monotonic() + 20 * self.scale
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    if self.r.ping():
                        self.id = self.r.execute_command("CLUSTER", "MYID")
                        taken.add(self.port)
                        return
                except (redis.RedisError, OSError):
                    pass
                time.sleep(0.05)
            in_use = "in use" in self.log_tail(50)
            why = (f"exited at startup (status {self.proc.returncode})" if self.proc.poll() is not None
                   else f"did not answer PING within {20 * self.scale} s")
            pt.reap(self.proc, 0)
            if not in_use:
                raise Failure(f"{self} {why}\n{self.log_tail()}")
            log(f"{self}: port taken, retrying")
        raise Failure(f"node {self.idx}: no free port after 5 attempts")

    def alive(self):
        if self.proc.poll() is not None:
            raise Failure(f"{self} exited (status {self.proc.returncode})\n{self.log_tail()}")

    def call(self, *args):
        self.alive()
        return self.r.execute_command(*args)

    def view(self):
        return pt.parse_nodes(self.call("CLUSTER", "NODES"))

    def log_tail(self, n=25):
        return pt.tail_of((self.logfile, os.path.join(self.dir, "stdout")), n)

    def stop(self, fast):
        """Stop the node; the problems found (slotcache: exit status, sanitizer reports)."""
        if not self.proc:
            return []
        if self.proc.poll() is None:
            if fast:
                self.proc.kill()
            else:
                self.proc.terminate()
        rc = pt.reap(self.proc, 0 if fast else 15 * self.scale, term=False)
        if fast or "redis-server" in os.path.basename(self.binary):
            return []
        problems = []
        if rc != 0:
            problems.append(f"{self} exit status {rc} after SIGTERM" if rc is not None else
                            f"{self} did not exit within {15 * self.scale} s of SIGTERM")
        for f in (self.logfile, os.path.join(self.dir, "stdout")):
            try:
                with open(f, errors="replace") as fh:
                    if any(m in fh.read() for m in pt.SANITIZER_MARKS):
                        problems.append(f"{self}: sanitizer report in {f}")
            except OSError:
                pass
        return problems


class Cli:
    """redis-cli runs, bounded, output kept in WORK/cli-<n>.out."""

    def __init__(self, work, scale):
        self.work, self.scale, self.n = work, scale, 0

    def run(self, label, bound, *args, check=True):
        self.n += 1
        argv = ["redis-cli", *[str(a) for a in args]]
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
        pt.PROCS.append(p)
        t = time.monotonic()
        try:
            out, _ = p.communicate(timeout=bound * self.scale)
        except subprocess.TimeoutExpired:
            pt.reap(p, 0)
            raise Failure(f"{label}: `{' '.join(argv)}` did not end within {bound * self.scale} s")
        pt.PROCS.remove(p)
        with open(os.path.join(self.work, f"cli-{self.n:02d}.out"), "w") as fh:
            fh.write(f"$ {' '.join(argv)}\n# exit {p.returncode}, {time.monotonic() - t:.1f} s\n{out}")
        if check and p.returncode != 0:
            raise Failure(f"{label}: `{' '.join(argv)}` exited {p.returncode}; output (last 40 lines):\n"
                          + "\n".join(out.splitlines()[-40:]))
        return p.returncode, out


# ---- the cluster's state -------------------------------------------------

def owners(view):
    """slot -> node id, from one CLUSTER NODES view (masters' slot ranges)."""
    own = {}
    for nid, e in view.items():
        for a, b in e["slots"]:
            for s in range(a, b + 1):
                own[s] = nid
    return own


def open_slots(text):
    return [s for line in text.splitlines() for s in line.split()[8:] if s.startswith("[")]


def agreed(nodes):
    """(True, {slot: owner id}) when every node knows exactly these nodes, connected, no fail /
    handshake flag, no open slot, all cluster_state:ok, and every view gives the same owner to
    each of the 16384 slots."""
    ids = {n.id for n in nodes}
    ref = None
    for n in nodes:
        text = n.call("CLUSTER", "NODES")
        v = pt.parse_nodes(text)
        if set(v) != ids:
            return False, f"{n} knows {len(v)} nodes: {sorted(i[:8] for i in v)}"
        for nid, e in v.items():
            bad = e["flags"] & {"fail", "fail?", "handshake", "noaddr"}
            if bad or e["link"] != "connected":
                return False, f"{n}: {nid[:8]} flags {sorted(e['flags'])} link {e['link']}"
        if open_slots(text):
            return False, f"{n}: open slots {open_slots(text)[:5]}"
        if "cluster_state:ok" not in n.call("CLUSTER", "INFO"):
            return False, f"{n}: not cluster_state:ok"
        own = owners(v)
        if len(own) != 16384:
            return False, f"{n}: {16384 - len(own)} slots without an owner"
        if ref is None:
            ref = own
        elif own != ref:
            diff = [s for s in range(16384) if own[s] != ref[s]]
            return False, f"{n} and {nodes[0]} differ on {len(diff)} slots, e.g. {diff[:5]}"
    return True, ref


def count_by_node(own):
    c = {}
    for nid in own.values():
        c[nid] = c.get(nid, 0) + 1
    return c


def check_clean(cli, node, label, expect_keys=None):
    rc, out = cli.run(label, 60, "--cluster", "check", f"{HOST}:{node.port}", check=False)
    problems = []
    if rc != 0:
        problems.append(f"exit {rc}")
    if "[OK] All 16384 slots covered" not in out:
        problems.append("no '[OK] All 16384 slots covered'")
    if "[OK] All nodes agree about slots configuration." not in out:
        problems.append("nodes disagree")
    for bad in ("[ERR]", "[WARNING]"):  # (open slots are reported as [WARNING])
        if bad in out:
            problems.append(f"'{bad}' in the output")
    if problems:
        raise Failure(f"{label}: `redis-cli --cluster check` not clean ({'; '.join(problems)}):\n{out}")
    return out


# ---- the run -------------------------------------------------------------

class Run:
    def __init__(self, a, binary, work):
        self.a, self.binary, self.work, self.scale = a, binary, work, a.scale
        self.nodes = [Node(i + 1, binary, work, a.scale) for i in range(4)]
        self.cli = Cli(work, a.scale)
        self.stop_load = threading.Event()
        self.workers = []
        self.moved_slots = 0
        self.phases = []

    def name(self, nid):
        n = next((n for n in self.nodes if n.id == nid), None)
        return str(n) if n else nid[:8]

    def load_ops(self):
        return sum(w.progress() for w in self.workers)

    def phase(self, label, fn, *args):
        """Run one step under the load; assert the load progressed and no worker failed meanwhile."""
        ops0, errs0, t = self.load_ops(), self.errors(), time.monotonic()
        res = fn(*args)
        # Some load after the step too: writes and reads on the new layout.
        wait_for(f"{label}: the load acknowledges operations", 20 * self.scale,
                 lambda: (self.load_ops() > ops0 + len(self.workers), self.load_ops() - ops0), 0.05)
        dt = time.monotonic() - t
        ops = self.load_ops() - ops0
        self.phases.append((label, dt, ops))
        log(f"{label}: done in {dt:.1f} s, {ops} operations acknowledged meanwhile")
        errs = self.errors()[len(errs0):]
        if errs:
            raise Failure(f"{label}: {len(errs)} client-visible errors, first: {errs[:5]}")
        return res

    def errors(self):
        out = []
        for w in self.workers:
            with w.lock:
                out += [f"worker {w.idx}: {e}" for e in w.errors]
        return out

    def settle(self, label, nodes):
        return wait_for(f"{label}: every node agrees", 30 * self.scale, lambda: agreed(nodes), 0.1)

    def move_note(self, before, after):
        moved = sum(1 for s in range(16384) if before[s] != after[s])
        self.moved_slots += moved
        return moved

    # -- phases --

    def create(self):
        taken = set()
        for n in self.nodes:
            n.start(taken)
        n1, n2, n3, n4 = self.nodes
        log(f"4 nodes ({os.path.basename(self.binary)}) on ports {', '.join(str(n.port) for n in self.nodes)}")
        _, out = self.cli.run("phase 1: create", 60, "--cluster", "create",
                              *[f"{HOST}:{n.port}" for n in (n1, n2, n3)],
                              "--cluster-replicas", "0", "--cluster-yes")
        if "[OK] All 16384 slots covered" not in out:
            raise Failure(f"phase 1: create: no '[OK] All 16384 slots covered':\n{out}")
        own = self.settle("phase 1: after create", [n1, n2, n3])
        c = count_by_node(own)
        if set(c) != {n1.id, n2.id, n3.id}:
            raise Failure(f"phase 1: slots owned by {[self.name(i) for i in c]}")
        if len(n4.view()) != 1:
            raise Failure(f"phase 1: {n4} is not alone: {n4.call('CLUSTER', 'NODES')}")
        log(f"phase 1: cluster of 3 masters created; {n4} stands alone")
        return own

    def hot_tags(self, own):
        """HOT hash tags in node 1's slots, at 5 %, 45 % and 90 % of its range: every slot of
        node 1 migrates (rebalance, then the emptying), so each hot slot does, holding
        threads x --hot-keys keys, with half of the load on the hot slots meanwhile."""
        mine = sorted(s for s, nid in own.items() if nid == self.nodes[0].id)
        tags = []
        for frac in (0.05, 0.45, 0.9)[:HOT]:
            want = mine[int(frac * (len(mine) - 1))]
            k = 0
            while key_slot(f"h{k}".encode()) not in range(want, want + 8) or key_slot(f"h{k}".encode()) not in mine:
                k += 1
            tags.append(f"h{k}")
        return tags

    def start_load(self, own):
        ports = [n.port for n in self.nodes[:3]]
        tags = self.hot_tags(own) if self.a.hot_keys else []
        self.hot_slots = [key_slot(t.encode()) for t in tags]
        self.workers = [Worker(i, ports, self.a.keys, tags, self.a.hot_keys, self.a.rate, self.scale,
                               self.stop_load) for i in range(self.a.threads)]
        for w in self.workers:
            w.start()
        t = time.monotonic()
        wait_for("phase 2: every worker writes each of its keys once", 60 * self.scale,
                 lambda: (all(w.warm or w.errors or not w.is_alive() for w in self.workers),
                          f"{sum(w.warm for w in self.workers)} of {len(self.workers)} done"), 0.1)
        errs = self.errors()
        if errs:
            raise Failure(f"phase 2: {len(errs)} client-visible errors, first: {errs[:5]}")
        keys = sum(len(w.value) for w in self.workers)
        slots = len({key_slot(k.encode()) for w in self.workers for k in list(w.value)})
        log(f"phase 2: {len(self.workers)} workers wrote {keys} keys over {slots} slots (hot slots "
            f"{self.hot_slots}, {self.a.threads * self.a.hot_keys} keys each) in "
            f"{time.monotonic() - t:.1f} s; load running at about {self.a.threads * self.a.rate} ops/s")

    def add_node(self):
        n1, n2, n3, n4 = self.nodes
        self.cli.run("phase 3a: add-node", 60, "--cluster", "add-node", f"{HOST}:{n4.port}", f"{HOST}:{n1.port}")

        def joined():
            ok, own = agreed(self.nodes)
            if not ok:
                return ok, own
            rc, out = self.cli.run("phase 3a: check", 60, "--cluster", "check", f"{HOST}:{n2.port}",
                                   check=False)
            if rc != 0 or "[OK] All nodes agree about slots configuration." not in out:
                return False, f"--cluster check exit {rc}: {out[-300:]}"
            return True, own
        return wait_for("phase 3a: all 4 nodes know each other and agree", 30 * self.scale, joined, 0.2)

    def rebalance(self, before):
        n1, n2, n3, n4 = self.nodes
        self.cli.run("phase 3b: rebalance", 300, "--cluster", "rebalance", f"{HOST}:{n2.port}",
                     "--cluster-use-empty-masters")
        own = self.settle("phase 3b: after rebalance", self.nodes)
        c = count_by_node(own)
        if not c.get(n4.id):
            raise Failure(f"phase 3b: {n4} owns no slot after the rebalance: {c}")
        moved = self.move_note(before, own)
        log(f"phase 3b: rebalance moved {moved} slots; slots per node: "
            + ", ".join(f"{self.name(i)} {k}" for i, k in sorted(c.items(), key=lambda x: self.name(x[0]))))
        return own

    def reshard(self, label, before, src, dst, count):
        self.cli.run(label, 300, "--cluster", "reshard", f"{HOST}:{self.nodes[1].port}",
                     "--cluster-from", src.id, "--cluster-to", dst.id, "--cluster-slots", count,
                     "--cluster-yes")
        live = [n for n in self.nodes if n.proc.poll() is None and n.id in set(before.values()) | {dst.id}]
        own = self.settle(f"{label}: after the reshard", live)
        cb, ca = count_by_node(before), count_by_node(own)
        if ca.get(src.id, 0) != cb.get(src.id, 0) - count or ca.get(dst.id, 0) != cb.get(dst.id, 0) + count:
            raise Failure(f"{label}: {count} slots from {src} to {dst}: {src} {cb.get(src.id, 0)} -> "
                          f"{ca.get(src.id, 0)}, {dst} {cb.get(dst.id, 0)} -> {ca.get(dst.id, 0)}")
        moved = self.move_note(before, own)
        if moved != count:
            raise Failure(f"{label}: {moved} slots changed owner, {count} expected")
        log(f"{label}: {count} slots from {src} to {dst}")
        return own

    def empty_and_delete(self, before):
        n1, n2, n3, n4 = self.nodes
        have = count_by_node(before).get(n1.id, 0)
        half = have // 2
        own = self.reshard(f"phase 3d: {n1} -> {n3}", before, n1, n3, half)
        own = self.reshard(f"phase 3d: {n1} -> {n4}", own, n1, n4, have - half)
        if count_by_node(own).get(n1.id):
            raise Failure(f"phase 3d: {n1} still owns slots")
        self.cli.run("phase 3d: del-node", 60, "--cluster", "del-node", f"{HOST}:{n2.port}", n1.id)
        rest = [n2, n3, n4]

        def forgotten():
            for n in rest:
                if n1.id in n.view():
                    return False, f"{n} still lists {n1}"
            return True, ""
        wait_for(f"phase 3d: {n1} gone from CLUSTER NODES of the others", 10 * self.scale, forgotten, 0.1)
        own = self.settle("phase 3d: after del-node", rest)
        log(f"phase 3d: {n1} emptied ({have} slots) and deleted; the others forgot it")
        return own

    def final(self, own):
        n1, n2, n3, n4 = self.nodes
        rest = [n2, n3, n4]
        time.sleep(1)
        self.stop_load.set()
        for w in self.workers:
            w.join(30 * self.scale)
        stuck = [w.idx for w in self.workers if w.is_alive()]
        problems = []
        if stuck:
            problems.append(f"workers {stuck} did not stop within {30 * self.scale} s")
        errs = self.errors()
        if errs:
            problems.append(f"{len(errs)} client-visible errors, first: {errs[:10]}")
        # Still forgotten, and no node came back.
        for n in rest:
            if n1.id in n.view():
                problems.append(f"{n} lists deleted {n1} again")
        ok, detail = agreed(rest)
        if not ok:
            problems.append(f"at the end: {detail}")
        # Every acknowledged value, through a fresh client.
        rc = client([n.port for n in rest], self.scale)
        try:
            wrong, checked = [], 0
            for w in self.workers:
                with w.lock:
                    items = list(w.value.items())
                    maybe = {k: set(v) for k, v in w.maybe.items()}
                    ctr_lo, ctr_extra = list(w.incr_acked), list(w.incr_maybe)
                for k0 in range(0, len(items), 200):
                    part = items[k0:k0 + 200]
                    pipe = rc.pipeline()
                    for k, _ in part:
                        pipe.get(k)
                    for (k, v), got in zip(part, pipe.execute()):
                        checked += 1
                        if got != v and got not in maybe.get(k, ()):
                            wrong.append(f"{k}: {got!r}, last acknowledged {v!r}")
                for j in range(COUNTERS):
                    got = int(rc.get(w.ctrs[j]) or 0)
                    lo, hi = ctr_lo[j], ctr_lo[j] + ctr_extra[j]
                    if not lo <= got <= hi:
                        wrong.append(f"{w.ctrs[j]}: {got}, acknowledged INCRs {lo}, at most {hi}")
        finally:
            rc.close()
        if wrong:
            problems.append(f"{len(wrong)} of {checked} keys / counters wrong, first: {wrong[:10]}")
        # Key count: SET keys + counters (those with only uncertain INCRs may be absent).
        set_keys = sum(len(w.value) + len(set(w.maybe) - set(w.value)) for w in self.workers)
        ctr_sure = sum(1 for w in self.workers for j in range(COUNTERS) if w.incr_acked[j])
        ctr_maybe = sum(1 for w in self.workers for j in range(COUNTERS) if not w.incr_acked[j] and w.incr_maybe[j])
        total = sum(n.r.dbsize() for n in rest)
        per = [n.r.dbsize() for n in rest]
        if not set_keys + ctr_sure <= total <= set_keys + ctr_sure + ctr_maybe:
            problems.append(f"DBSIZE over the masters {total} ({per}), distinct keys written "
                            f"{set_keys + ctr_sure}" + (f" (+{ctr_maybe} uncertain)" if ctr_maybe else ""))
        try:
            out = check_clean(self.cli, n2, "phase 4: final check")
            m = re.search(r"\[OK\] (\d+) keys in (\d+) masters", out)
            if m and int(m.group(1)) != total:
                problems.append(f"--cluster check counts {m.group(1)} keys, DBSIZE sum {total}")
        except Failure as e:
            problems.append(str(e))
        self.total_keys = total
        return problems

    def summary(self, t_start):
        sets = sum(w.sets for w in self.workers)
        incrs = sum(w.incrs for w in self.workers)
        gets = sum(w.gets for w in self.workers)
        msets = sum(w.msets for w in self.workers)
        mgets = sum(w.mgets for w in self.workers)
        log(f"summary: {getattr(self, 'total_keys', '?')} keys; {sets} keys SET ({msets} MSETs), {incrs} INCRs, "
            f"{gets} keys read and verified ({mgets} MGETs); {self.moved_slots} slot moves; redirections followed: "
            f"{RETRIES.total('MOVED')} MOVED, {RETRIES.total('ASK')} ASK, {RETRIES.total('TRYAGAIN')} TRYAGAIN, "
            f"{RETRIES.total('CLUSTERDOWN')} CLUSTERDOWN; {RETRIES.total('conn')} connection retries; "
            f"{Client.unknown_ask} ASK to a node unknown to the client; "
            f"{time.monotonic() - t_start:.1f} s")
        for label, dt, ops in self.phases:
            log(f"  {label}: {dt:.1f} s, {ops} ops")
        if RETRIES.other:
            log(f"other errors redis-py handled itself: {RETRIES.other[:5]}")

    def evidence(self):
        text = ""
        for n in self.nodes:
            if n.proc is None:
                continue
            try:
                text += f"---- CLUSTER NODES of {n}:\n{n.call('CLUSTER', 'NODES')}"
            except (redis.RedisError, OSError, Failure) as e:
                text += f"---- {n}: {str(e)[:200]}\n"
        for n in self.nodes:
            text += n.log_tail()
        return text

    def go(self):
        t0 = time.monotonic()
        ok = False
        problems = []
        try:
            own = self.create()
            self.start_load(own)
            n1, n2, n3, n4 = self.nodes
            own = self.phase("phase 3a: add-node", self.add_node)
            own = self.phase("phase 3b: rebalance", self.rebalance, own)
            own = self.phase(f"phase 3c: reshard {self.a.reshard} slots {n2} -> {n4}", self.reshard,
                             f"phase 3c: reshard {n2} -> {n4}", own, n2, n4, self.a.reshard)
            own = self.phase(f"phase 3d: empty and delete {n1}", self.empty_and_delete, own)
            problems += n1.stop(fast=False)
            problems += self.final(own)
            ok = not problems
        except (Failure, redis.RedisError, OSError, subprocess.SubprocessError) as e:
            problems.append(str(e) if isinstance(e, Failure) else repr(e))
            errs = self.errors()
            if errs and "client-visible errors" not in problems[-1]:
                problems.append(f"client-visible errors meanwhile ({len(errs)}), first: {errs[:10]}")
            print(self.evidence(), flush=True)
        finally:
            self.stop_load.set()
            for w in self.workers:
                w.join(10)
            with pt.cleanup():
                for n in self.nodes:
                    problems += n.stop(fast=not ok or bool(pt.PENDING))
        self.summary(t0)
        return problems


def main():
    pt.NAME = NAME
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", required=True)
    ap.add_argument("--threads", type=int, default=20)
    ap.add_argument("--rate", type=float, default=25, help="operations/s per thread")
    ap.add_argument("--keys", type=int, default=200, help="keys per thread, spread over the slots")
    ap.add_argument("--hot-keys", type=int, default=80, help="keys per thread in each of the 3 hot slots")
    ap.add_argument("--reshard", type=int, default=300, help="slots of phase 3c")
    ap.add_argument("--scale", type=int, default=1, help="multiplies every bound")
    ap.add_argument("--dir", help="working directory (created if needed; removed when all passed)")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    lg = logging.getLogger("redis.cluster")
    lg.addHandler(RETRIES)
    lg.propagate = False
    work = a.dir or tempfile.mkdtemp(prefix=f"{NAME}.")
    os.makedirs(work, exist_ok=True)
    binary = os.path.abspath(a.server)
    log(f"{binary}: {a.threads} threads x {a.rate:g} ops/s, {a.keys} + {HOT} x {a.hot_keys} keys each, "
        f"reshard {a.reshard}, "
        f"scale {a.scale}")
    return pt.run_guarded(NAME, work, binary, lambda: Run(a, binary, work).go(), keep=a.keep)

if __name__ == "__main__":
    sys.exit(main())
