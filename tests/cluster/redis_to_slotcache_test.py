"""tests/cluster/redis_to_slotcache_test.py - a running Redis Cluster moved
onto slotcache with no downtime, with redis-cli's own cluster commands, under
a client load. Started by redis_to_slotcache_test.sh (under /usr/bin/python3
for python3-redis):

  redis_to_slotcache_test.py --server BIN --redis REDIS-SERVER [--scale 1]
      [--dir WORK] [--keys 20000] [--threads 10] [--rate 100]
      [--move rebalance|reshard] [--seed S] [--keep]

Everything is on loopback: 3 redis-server nodes and 3 nodes of BIN (ports
B+1..B+6, bus ports +10000), not daemonized, cluster-node-timeout 2 s
(times --scale), logs in WORK/<kind>-<port>. Their directories (nodes.conf)
are in a directory of this run under /dev/shm, removed on every exit (their
nodes.conf copied to WORK on a failure): every SETSLOT rewrites nodes.conf,
and on a disk mounted with `discard` slotcache's write-and-rename costs a
synchronous discard each time, which would make the run measure the disk
(see main()).

  1. the 3 redis-server nodes become a cluster of 3 masters
     (`redis-cli --cluster create ... --cluster-replicas 0 --cluster-yes`),
     loaded with --keys keys of every type (strings, some with a TTL, some
     int-encoded, some of 64 KiB; hashes, lists, sets, sorted sets, small
     and large enough for each type's second encoding);
  2. --threads load threads start, each with its own redis-py
     redis.cluster.RedisCluster seeded with the 3 redis-server nodes only
     (it follows MOVED and ASK, retries TRYAGAIN / CLUSTERDOWN / lost
     connections itself), at most --rate commands/s each: SET / GET on 400
     string keys, MSET / MGET on 8 hash-tagged groups of 3 keys (one slot
     each: -TRYAGAIN when a group is split by a migration), HSET / HGET on
     80 hash fields, INCR on 8 counters, all of its own. The checker: a
     read must return the last acknowledged value (or one of the values of
     writes since then whose reply was lost); an INCR's reply must be
     exactly one more than the counter's known value (plus the INCRs whose
     reply was lost, and those redis-py may have sent again after a lost
     connection); any exception out of redis-py is a client-visible error;
  3. the 3 BIN nodes join, each with `redis-cli --cluster add-node NEW
     EXISTING`, each once the nodes so far agree (add-node refuses
     otherwise); then, bounded: every node of both kinds knows the 6, all
     links connected, no flags, one slot map, cluster_state:ok (a new
     master refuses RESTORE-ASKING with -CLUSTERDOWN until then), and
     `redis-cli --cluster check` is clean;
  4. `CONFIG SET cluster-allow-replica-migration no` on the redis-server
     nodes (see run()), then every slot moves to the BIN nodes, under the
     load: --move rebalance (the default) runs `redis-cli --cluster
     rebalance --cluster-weight <redis-id>=0 ... --cluster-use-empty-masters`;
     --move reshard runs `redis-cli --cluster reshard --cluster-from <redis
     ids> --cluster-to <BIN node i> --cluster-slots N --cluster-yes` once
     per BIN node (N: a third of what is left, all of it for the last).
     Then all 6 agree again, `--cluster check` is clean, the redis-server
     nodes own no slot and each BIN node about a third;
  5. `redis-cli --cluster del-node <BIN node> <redis id>` for each
     redis-server node (asserted slotless first, as del-node requires); each
     is gone from every BIN node's CLUSTER NODES at once; the redis-server
     nodes are stopped (`redis-cli shutdown`, exit 0); the BIN nodes agree
     among themselves; the load goes on against the BIN-only cluster until
     each thread did 100 more commands;
  6. the load stops. Asserted: no client-visible error and no read that
     contradicts the checker; every load key and counter reads back as the
     checker expects and every initial key with its value (and its TTL
     still set), all read from the slot's owner by CLUSTER SLOTS (a
     redirect would be an error); the 3 BIN nodes' CLUSTER SLOTS are the
     same; `redis-cli --cluster check` on a BIN node reports "[OK] All
     16384 slots covered", all nodes agree, 3 masters, no warning (an open
     slot is one); every BIN node says cluster_state:ok,
     cluster_known_nodes:3, cluster_slots_assigned:16384; the DBSIZEs sum
     to the keys written (a range when writes' replies were lost); each
     BIN node stops with exit 0 on SIGTERM with no sanitizer report in its
     log.

Printed: each step's time, keys moved (the RESTORE-ASKING calls the BIN
nodes served), keys at the start of the move, the load's commands,
MOVED / ASK / TRYAGAIN / CLUSTERDOWN / lost-connection events redis-py
handled per step (counted from its log records), the slowest command.

Cleanup as partition_test.py: every process (nodes, redis-cli) is stopped on
every exit (normal, failure, exception, SIGTERM / SIGINT / SIGHUP: SIGKILL
then) and the /dev/shm directory removed; WORK is removed when everything
passed or the run was interrupted, kept with the node logs after a failure
(run-tests.sh removes such directories after 2 hours). Exit 0 passed, 1
failed, 128+N interrupted by signal N.
"""
import argparse
import logging
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import redis
from redis.cluster import ClusterNode
from redis.crc import key_slot

import partition_test as pt

NAME = "redis_to_slotcache_test"
HOST = "127.0.0.1"
NODE_TIMEOUT_MS = 2000  # times --scale; also the delay before a joining master says ok
STR_KEYS, GROUPS, HASH_KEYS, HASH_FIELDS, COUNTERS = 400, 8, 4, 20, 8


def log(*args):
    print(f"{NAME}: +{time.monotonic() - pt.T0:5.1f}s", *args, flush=True)


# ---- redis-py's own log: the redirections and retries it handled ---------

class RedirectCounter(logging.Handler):
    """Counts the records redis/cluster.py logs (log.exception) for each MOVED, ASK, TRYAGAIN,
    CLUSTERDOWN and lost connection it handles itself, in total and per thread (a lost connection
    during an INCR may mean redis-py sent it twice)."""

    KINDS = {"MovedError": "MOVED", "AskError": "ASK", "TryAgainError": "TRYAGAIN",
             "ClusterDownError": "CLUSTERDOWN"}

    def __init__(self):
        super().__init__(logging.ERROR)
        self.mu = threading.Lock()  # (not self.lock: Handler.handle() holds that one around emit())
        self.total = {}
        self.phase = "load"   # the step of the scenario the main thread is in
        self.by_phase = {}    # phase -> {kind: count}
        self.conn_by_thread = {}

    def emit(self, record):
        msg = record.msg
        if isinstance(msg, type):  # log.exception(type(e)): ConnectionError, TimeoutError
            kind = "lost connection"
        else:
            kind = self.KINDS.get(str(msg), "other")
        with self.mu:
            self.total[kind] = self.total.get(kind, 0) + 1
            ph = self.by_phase.setdefault(self.phase, {})
            ph[kind] = ph.get(kind, 0) + 1
            if kind == "lost connection":
                self.conn_by_thread[record.thread] = self.conn_by_thread.get(record.thread, 0) + 1

    def conn_errors(self, ident):
        with self.mu:
            return self.conn_by_thread.get(ident, 0)


COUNTER = RedirectCounter()


def install_counter():
    lg = logging.getLogger("redis.cluster")
    lg.setLevel(logging.ERROR)  # log.debug per command stays off
    lg.propagate = False
    lg.addHandler(COUNTER)


# ---- nodes ---------------------------------------------------------------

def free_base(n):
    """A base port B with B+1..B+n and their bus ports (+10000) free, under the ephemeral range."""
    for _ in range(500):
        b = random.randrange(10000, 22000 - n)
        if all(pt.port_free(b + i, HOST) and pt.port_free(b + i + 10000, HOST) for i in range(1, n + 1)):
            return b
    raise pt.Failure("no free port range")


class Node:
    def __init__(self, kind, binary, port, work, data, scale):
        self.kind, self.binary, self.port, self.scale = kind, binary, port, scale
        self.logdir = os.path.join(work, f"{kind}-{port}")
        self.dir = os.path.join(data, f"{kind}-{port}")  # nodes.conf
        self.logfile = os.path.join(self.logdir, "log")
        self.proc = None
        self.stopped = False
        self.id = None
        self.r = redis.Redis(host=HOST, port=port, socket_timeout=10, socket_connect_timeout=2,
                             decode_responses=True)

    def __str__(self):
        return f"{self.kind} {HOST}:{self.port}"

    @property
    def addr(self):
        return f"{HOST}:{self.port}"

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        os.makedirs(self.logdir, exist_ok=True)
        args = [self.binary, "--port", str(self.port), "--bind", HOST, "--cluster-enabled", "yes",
                "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", str(NODE_TIMEOUT_MS * self.scale),
                "--dir", self.dir, "--save", "", "--appendonly", "no", "--logfile", self.logfile,
                "--daemonize", "no"]
        with open(os.path.join(self.logdir, "stdout"), "wb") as out:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        pt.PROCS.append(self.proc)

    def ready(self):
        if self.proc.poll() is not None:
            raise pt.Failure(f"{self} exited with status {self.proc.returncode} at startup\n{self.log_tail()}")
        try:
            return self.r.ping(), ""
        except (redis.RedisError, OSError) as e:
            return False, repr(e)

    def call(self, *args):
        return self.r.execute_command(*args)

    def view(self):
        return pt.parse_nodes(self.call("CLUSTER", "NODES"))

    def info(self, section):
        return self.r.info(section)

    def log_text(self):
        text = ""
        for f in (self.logfile, os.path.join(self.logdir, "stdout")):
            try:
                with open(f, errors="replace") as fh:
                    text += fh.read()
            except OSError:
                pass
        return text

    def log_tail(self, n=25):
        lines = self.log_text().splitlines()
        return f"---- last lines of {self}'s log:\n" + "\n".join(lines[-n:])

    def stop(self, term_wait, shutdown=False):
        """SIGTERM (or SHUTDOWN through redis-cli), bounded wait, SIGKILL; a list of problems
        (exit status, sanitizer report)."""
        if self.proc is None or self.stopped:
            return []
        self.stopped = True
        was_running = self.proc.poll() is None
        if shutdown and was_running and term_wait > 0:
            subprocess.run(["redis-cli", "-h", HOST, "-p", str(self.port), "shutdown"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=term_wait)
            try:
                self.proc.wait(term_wait)
            except subprocess.TimeoutExpired:
                pass
        rc = pt.reap(self.proc, term_wait, term=not shutdown)
        problems = []
        if not was_running:
            problems.append(f"{self} had exited (status {rc}) before the end\n{self.log_tail()}")
        how = "SHUTDOWN" if shutdown else "SIGTERM"
        if rc is None and was_running:
            problems.append(f"{self} did not exit within {term_wait:g} s of {how}")
        elif rc != 0 and was_running:
            problems.append(f"{self} exited with status {rc} after {how}\n{self.log_tail()}")
        if any(m in self.log_text() for m in pt.SANITIZER_MARKS):
            problems.append(f"{self}: sanitizer report in {self.logfile}")
        return problems


def cli(scale, what, *args, bound=60):
    """redis-cli ARGS..., bounded; its output; Failure unless it exits 0."""
    t = time.monotonic()
    try:
        p = subprocess.run(["redis-cli", *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=bound * scale)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        raise pt.Failure(f"{what}: redis-cli {' '.join(args)} killed after {bound * scale} s; "
                         f"output tail:\n{out[-3000:]}")
    if p.returncode != 0:
        raise pt.Failure(f"{what}: redis-cli {' '.join(args)} exited {p.returncode}; output tail:\n"
                         f"{p.stdout[-3000:]}")
    log(f"{what}: {time.monotonic() - t:.1f} s")
    return p.stdout


def check_clean(out, masters=None):
    """What `redis-cli --cluster check` prints on a healthy cluster: (ok, detail)."""
    bad = [ln for ln in out.splitlines() if "[ERR]" in ln or "[WARNING]" in ln]
    if bad:
        return False, "; ".join(bad[:5])
    for want in ("[OK] All nodes agree about slots configuration.", "[OK] All 16384 slots covered."):
        if want not in out:
            return False, f"no '{want}'"
    # (Open slots are "[WARNING] ... has slots in migrating state" and
    # "[WARNING] The following slots are open: ...".)
    if masters is not None:
        first = out.split("\n>>> ", 1)[0]
        n = sum(1 for ln in first.splitlines() if " keys | " in ln and " slots | " in ln)
        if n != masters:
            return False, f"{n} masters listed, not {masters}"
    return True, ""


def agreed(nodes, scale, state_ok=True):
    """Every node knows exactly `nodes`, links connected, no flags, one slot map, state ok (unless
    not state_ok); then `redis-cli --cluster check` is clean. (ok, detail)"""
    ids = {n.id for n in nodes}
    shape = None
    for n in nodes:
        v = n.view()
        if set(v) != ids:
            return False, f"{n} knows {len(v)} nodes, not the {len(ids)}"
        for i, e in v.items():
            if e["flags"] - {"master"}:
                return False, f"{n} flags {i[:8]} {','.join(sorted(e['flags']))}"
            if not e["myself"] and e["link"] != "connected":
                return False, f"{n}: link to {i[:8]} {e['link']}"
        s = {i: (e["addr"], tuple(e["slots"])) for i, e in v.items()}
        if shape is None:
            shape = s
        elif s != shape:
            return False, f"{n} and {nodes[0]} disagree on the slot map"
        if state_ok and "cluster_state:ok" not in n.call("CLUSTER", "INFO"):
            return False, f"{n}: cluster_state not ok"
    p = subprocess.run(["redis-cli", "--cluster", "check", nodes[0].addr], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30 * scale)
    if p.returncode != 0:
        return False, f"--cluster check exited {p.returncode}: {p.stdout[-1500:]}"
    return check_clean(p.stdout, masters=sum(1 for n in nodes))


def slots_of(node, view):
    return sum(b - a + 1 for a, b in view[node.id]["slots"])


# ---- the initial data set ------------------------------------------------

BIG = 64 * 1024


def initial(i):
    """(key, type, expected value, ttl?) of initial key i; value as the read back gives it."""
    k = i % 10
    big = (i // 10) % 25 == 0  # 1 in 25 of each collection type: its second encoding
    if k <= 3:
        key = f"init:s:{i}"
        v = (f"v{i}-" + "x" * (i % 50)) if i % 2000 != 3 else f"big{i}-" + "y" * BIG
        return key, "string", v, False
    if k == 4:
        return f"init:s:{i}", "string", f"ttl{i}", True
    if k == 5:
        n = 200 if big else 4
        return f"init:h:{i}", "hash", {f"f{j}": f"{i}.{j}" for j in range(n)}, False
    if k == 6:
        n = 300 if big else 5
        return f"init:l:{i}", "list", [f"e{i}.{j}" for j in range(n)], False
    if k == 7:
        if big:
            return f"init:S:{i}", "set", {f"m{i}.{j}" for j in range(200)}, False
        return f"init:S:{i}", "set", {str(i * 10 + j) for j in range(5)}, False  # intset
    if k == 8:
        n = 200 if big else 5
        return f"init:z:{i}", "zset", [(f"z{i}.{j}", float(j * 1.5)) for j in range(n)], False
    return f"init:s:{i}", "string", str(i), False  # an int-encoded string


def write_initial(pipe, key, typ, val, ttl):
    if typ == "string":
        pipe.set(key, val, ex=3600 if ttl else None)
    elif typ == "hash":
        pipe.hset(key, mapping=val)
    elif typ == "list":
        pipe.rpush(key, *val)
    elif typ == "set":
        pipe.sadd(key, *val)
    else:
        pipe.zadd(key, dict(val))


def read_initial(pipe, key, typ):
    if typ == "string":
        pipe.get(key)
    elif typ == "hash":
        pipe.hgetall(key)
    elif typ == "list":
        pipe.lrange(key, 0, -1)
    elif typ == "set":
        pipe.smembers(key)
    else:
        pipe.zrange(key, 0, -1, withscores=True)


class SlotMap:
    """slot -> node, from one node's CLUSTER SLOTS; reads pipelined to the owner, no redirect."""

    def __init__(self, nodes, via):
        by_port = {n.port: n for n in nodes}
        self.owner = [None] * 16384
        for a, b, m, *_ in via.call("CLUSTER", "SLOTS"):
            for s in range(int(a), int(b) + 1):
                self.owner[s] = by_port.get(int(m[1]))
        if None in self.owner:
            raise pt.Failure(f"CLUSTER SLOTS of {via} leaves slot {self.owner.index(None)} without a known owner")

    def run(self, items, add, batch=1000):
        """add(pipe, item) for each item, on its slot's owner; [(item, reply or exception)]."""
        groups = {}
        for it in items:
            groups.setdefault(self.owner[key_slot(it[0].encode())], []).append(it)
        out = []
        for node, its in groups.items():
            for k in range(0, len(its), batch):
                part = its[k:k + batch]
                p = node.r.pipeline(transaction=False)
                for it in part:
                    add(p, it)
                out += zip(part, p.execute(raise_on_error=False))
        return out


# ---- the load ------------------------------------------------------------

class Loader(threading.Thread):
    """One client of its own (RedisCluster) writing and checking its own keys."""

    def __init__(self, idx, ports, stop, seed, scale, rate):
        super().__init__(daemon=True, name=f"load-{idx}")
        self.pause = 1 / rate if rate > 0 else 0
        self.idx, self.stop, self.rng = idx, stop, random.Random(seed)
        self.rc = pt.FixedRedisCluster(startup_nodes=[ClusterNode(HOST, p) for p in ports], decode_responses=True,
                                       socket_timeout=10 * scale, socket_connect_timeout=2)
        self.lock = threading.Lock()
        self.strs = {}        # key -> last acknowledged value
        self.str_maybe = {}   # key -> values of writes since then whose reply was lost
        self.fields = {}      # (hash, field) -> last acknowledged value
        self.field_maybe = {}
        self.ctr = {}         # counter -> [known low, known high]
        self.attempted = set()  # every key a write was sent for
        self.acked_keys = set()
        self.ops = 0
        self.writes = 0
        self.errors = []      # client-visible errors
        self.mismatches = []  # reads that contradict the model
        self.slowest = (0.0, "")

    def key(self, j):
        return f"load:{self.idx}:{j}"

    def group(self, c):
        return [f"load:{{{self.idx}g{c}}}:{m}" for m in range(3)]

    def error(self, what, e):
        with self.lock:
            self.errors.append(f"{what}: {type(e).__name__}: {e}")

    def mismatch(self, msg):
        with self.lock:
            self.mismatches.append(msg)

    def one(self):
        rng = self.rng
        r = rng.random()
        me = threading.get_ident()
        if r < 0.30:
            key, val = self.key(rng.randrange(STR_KEYS)), f"{self.idx}-{self.ops}"
            self.attempted.add(key)
            try:
                ok = self.rc.set(key, val)
            except (redis.RedisError, OSError) as e:
                self.str_maybe.setdefault(key, set()).add(val)
                return self.error(f"SET {key}", e)
            if ok is not True:
                return self.mismatch(f"SET {key} answered {ok!r}")
            self.strs[key] = val
            self.str_maybe.pop(key, None)
            self.acked_keys.add(key)
            self.writes += 1
        elif r < 0.52:
            key = self.key(rng.randrange(STR_KEYS))
            try:
                got = self.rc.get(key)
            except (redis.RedisError, OSError) as e:
                return self.error(f"GET {key}", e)
            maybe = self.str_maybe.get(key, set())
            if got != self.strs.get(key) and got not in maybe:
                return self.mismatch(f"GET {key}: {got!r}, acknowledged {self.strs.get(key)!r}"
                                     f"{', or one of ' + repr(maybe) if maybe else ''}")
            if maybe:
                self.strs[key] = got
                self.str_maybe.pop(key)
        elif r < 0.57:
            # one slot, several keys: -TRYAGAIN while the slot's keys are
            # split between the two nodes of a migration
            keys = self.group(rng.randrange(GROUPS))
            val = f"{self.idx}-{self.ops}"
            self.attempted.update(keys)
            try:
                ok = self.rc.mset({k: f"{val}-{k[-1]}" for k in keys})
            except (redis.RedisError, OSError) as e:
                for k in keys:
                    self.str_maybe.setdefault(k, set()).add(f"{val}-{k[-1]}")
                return self.error(f"MSET {' '.join(keys)}", e)
            if ok is not True:
                return self.mismatch(f"MSET {keys[0]}... answered {ok!r}")
            for k in keys:
                self.strs[k] = f"{val}-{k[-1]}"
                self.str_maybe.pop(k, None)
                self.acked_keys.add(k)
            self.writes += 1
        elif r < 0.62:
            keys = self.group(rng.randrange(GROUPS))
            try:
                got = self.rc.mget(keys)
            except (redis.RedisError, OSError) as e:
                return self.error(f"MGET {' '.join(keys)}", e)
            for k, g in zip(keys, got):
                maybe = self.str_maybe.get(k, set())
                if g != self.strs.get(k) and g not in maybe:
                    return self.mismatch(f"MGET {k}: {g!r}, acknowledged {self.strs.get(k)!r}")
            for k, g in zip(keys, got):
                if k in self.str_maybe:
                    self.strs[k] = g
                    self.str_maybe.pop(k)
        elif r < 0.75:
            key = f"load:{self.idx}:ctr:{rng.randrange(COUNTERS)}"
            lo, hi = self.ctr.setdefault(key, [0, 0])
            self.attempted.add(key)
            c0 = COUNTER.conn_errors(me)
            try:
                got = self.rc.incr(key)
            except (redis.RedisError, OSError) as e:
                # not answered: applied 0 times, or more when redis-py sent it again
                self.ctr[key][1] = hi + 1 + (COUNTER.conn_errors(me) - c0)
                return self.error(f"INCR {key}", e)
            extra = COUNTER.conn_errors(me) - c0  # redis-py may have sent it again
            if not lo + 1 <= got <= hi + 1 + extra:
                return self.mismatch(f"INCR {key}: {got}, expected {lo + 1}..{hi + 1 + extra}")
            self.ctr[key] = [got, got]
            self.acked_keys.add(key)
            self.writes += 1
        elif r < 0.90:
            h, f = f"load:{self.idx}:h:{rng.randrange(HASH_KEYS)}", f"f{rng.randrange(HASH_FIELDS)}"
            val = f"{self.idx}-{self.ops}"
            self.attempted.add(h)
            try:
                self.rc.hset(h, f, val)
            except (redis.RedisError, OSError) as e:
                self.field_maybe.setdefault((h, f), set()).add(val)
                return self.error(f"HSET {h} {f}", e)
            self.fields[(h, f)] = val
            self.field_maybe.pop((h, f), None)
            self.acked_keys.add(h)
            self.writes += 1
        else:
            h, f = f"load:{self.idx}:h:{rng.randrange(HASH_KEYS)}", f"f{rng.randrange(HASH_FIELDS)}"
            try:
                got = self.rc.hget(h, f)
            except (redis.RedisError, OSError) as e:
                return self.error(f"HGET {h} {f}", e)
            maybe = self.field_maybe.get((h, f), set())
            if got != self.fields.get((h, f)) and got not in maybe:
                return self.mismatch(f"HGET {h} {f}: {got!r}, acknowledged {self.fields.get((h, f))!r}")
            if maybe:
                self.fields[(h, f)] = got
                self.field_maybe.pop((h, f))

    def run(self):
        try:
            while not self.stop.is_set():
                t = time.monotonic()
                self.one()
                dt = time.monotonic() - t
                with self.lock:
                    self.ops += 1
                    if dt > self.slowest[0]:
                        self.slowest = (dt, COUNTER.phase)
                if len(self.errors) > 50:
                    break
                if self.pause:
                    time.sleep(self.pause)
        except Exception as e:  # noqa: BLE001 - a bug of this checker is a failure too
            self.error("loader", e)
        finally:
            try:
                self.rc.close()
            except Exception:  # noqa: BLE001
                pass

    def progress(self):
        with self.lock:
            return self.ops

    def final_check(self, smap):
        """Every key of this loader as the model says, read from the slot's owner; problems."""
        problems = []
        items = [(k,) for k in sorted(set(self.strs) | set(self.str_maybe))]
        for (k,), got in smap.run(items, lambda p, it: p.get(it[0])):
            ok = {self.strs.get(k)} | self.str_maybe.get(k, set())
            if isinstance(got, Exception) or got not in ok:
                problems.append(f"{k}: {got!r} at the end, expected {self.strs.get(k)!r}")
        for (k,), got in smap.run([(k,) for k in sorted(self.ctr)], lambda p, it: p.get(it[0])):
            lo, hi = self.ctr[k]
            if isinstance(got, Exception) or not lo <= int(got or 0) <= hi:
                problems.append(f"{k}: {got!r} at the end, expected {lo}..{hi}")
        hashes = sorted({h for h, _ in self.fields} | {h for h, _ in self.field_maybe})
        for (h,), got in smap.run([(h,) for h in hashes], lambda p, it: p.hgetall(it[0])):
            if isinstance(got, Exception):
                problems.append(f"{h}: {got!r} at the end")
                continue
            for (hh, f), v in self.fields.items():
                if hh == h and got.get(f) != v and got.get(f) not in self.field_maybe.get((h, f), set()):
                    problems.append(f"{h} {f}: {got.get(f)!r} at the end, expected {v!r}")
        return problems


# ---- the scenario --------------------------------------------------------

def start_nodes(redis_bin, binary, work, data, scale):
    """3 redis-server and 3 BIN nodes on free loopback ports (a new range when one was taken)."""
    kind = os.path.basename(binary).replace("-server", "")
    if kind == "redis":
        kind = "new-redis"  # the reference run: onto redis-server nodes
    for attempt in range(3):
        base = free_base(6)
        nodes = [Node("redis", redis_bin, base + i, work, data, scale) for i in (1, 2, 3)]
        nodes += [Node(kind, binary, base + i, work, data, scale) for i in (4, 5, 6)]
        for n in nodes:
            n.start()
        try:
            for n in nodes:
                pt.wait_for(f"{n} answers PING", 10 * scale, n.ready)
            return nodes
        except pt.Failure:
            taken = any("in use" in n.log_text().lower() for n in nodes)
            for n in nodes:
                pt.reap(n.proc, 0)
            if not taken or attempt == 2:
                raise
            log(f"a port of {base + 1}..{base + 6} was taken, another range")
    raise pt.Failure("unreachable")


def cluster_ids(nodes):
    for n in nodes:
        n.id = n.call("CLUSTER", "MYID")


def load_initial(rnodes, nkeys):
    smap = SlotMap(rnodes, rnodes[0])
    items = [initial(i) for i in range(nkeys)]
    for it, rep in smap.run(items, lambda p, it: write_initial(p, *it)):
        if isinstance(rep, Exception):
            raise pt.Failure(f"loading {it[0]}: {rep!r}")
    return items


def check_initial(smap, items):
    problems = []
    for (key, typ, val, ttl), got in smap.run(items, lambda p, it: read_initial(p, it[0], it[1])):
        if typ == "set" and isinstance(got, set):
            same = got == val
        elif typ == "zset" and isinstance(got, list):
            same = [(m, float(s)) for m, s in got] == val
        else:
            same = got == val
        if not same:
            shown = repr(got)
            problems.append(f"initial {key} ({typ}): {shown[:120]}, expected {repr(val)[:120]}")
    ttls = [it for it in items if it[3]]
    for (key, *_), got in smap.run(ttls, lambda p, it: p.pttl(it[0])):
        if isinstance(got, Exception) or not 0 < got <= 3600 * 1000:
            problems.append(f"initial {key}: PTTL {got!r} at the end, expected 0..3600000")
    return problems


def move_slots(mode, rnodes, snodes, scale):
    """Every slot of the redis-server masters to the BIN masters."""
    entry = snodes[0].addr
    rids = [n.id for n in rnodes]
    if mode == "rebalance":
        cli(scale, "rebalance", "--cluster", "rebalance", entry, "--cluster-weight",
            *[f"{i}=0" for i in rids], "--cluster-use-empty-masters", bound=240)
        return
    for k, target in enumerate(snodes):
        view = target.view()
        left = sum(slots_of(n, view) for n in rnodes)
        count = left if k == len(snodes) - 1 else left // (len(snodes) - k)
        cli(scale, f"reshard {count} slots to {target}", "--cluster", "reshard", entry,
            "--cluster-from", ",".join(rids), "--cluster-to", target.id, "--cluster-slots", str(count),
            "--cluster-yes", bound=240)
        pt.wait_for(f"all 6 nodes agree after the reshard to {target}", 60 * scale,
                    lambda: agreed(rnodes + snodes, scale), interval=0.1)


def restore_asking_calls(node):
    st = node.r.info("commandstats")
    return int(st.get("cmdstat_restore-asking", {}).get("calls", 0))


def loaders_evidence(loaders):
    """Each load thread's counts, errors, and where a live one is now (for a failure)."""
    frames = sys._current_frames()
    out = [f"redis-py handled: {COUNTER.total}"]
    for ld in loaders:
        out.append(f"---- {ld.name}: {ld.ops} operations, {len(ld.errors)} errors {ld.errors[:3]}, "
                   f"{len(ld.mismatches)} mismatches {ld.mismatches[:3]}")
        f = frames.get(ld.ident)
        if ld.is_alive() and f is not None:
            out.append("".join(traceback.format_stack(f)[-8:]).rstrip())
    return "\n".join(out)


def run(a, binary, work, data):
    scale = a.scale
    problems = []
    nodes, loaders = [], []
    stop = threading.Event()
    summary = {}
    reached_end = False  # every step ran (then the nodes stop gracefully and are checked)
    t_begin = time.monotonic()
    try:
        nodes = start_nodes(a.redis, binary, work, data, scale)
        rnodes, snodes = nodes[:3], nodes[3:]
        log("nodes: " + ", ".join(f"{n} pid {n.proc.pid}" for n in nodes))

        # 1. the redis-server cluster, loaded
        cli(scale, "create the redis-server cluster", "--cluster", "create", *[n.addr for n in rnodes],
            "--cluster-replicas", "0", "--cluster-yes")
        cluster_ids(nodes)
        pt.wait_for("the redis-server cluster agrees", 30 * scale, lambda: agreed(rnodes, scale), interval=0.2)
        t = time.monotonic()
        items = load_initial(rnodes, a.keys)
        log(f"{a.keys} initial keys loaded in {time.monotonic() - t:.1f} s "
            f"(DBSIZE {', '.join(str(n.r.dbsize()) for n in rnodes)})")

        # 2. the load
        install_counter()
        ports = [n.port for n in rnodes]
        seed = a.seed if a.seed is not None else random.randrange(1 << 30)
        for i in range(a.threads):
            loaders.append(Loader(i, ports, stop, seed + i, scale, a.rate))
        for ld in loaders:
            ld.start()
        pt.wait_for("every load thread gets going", 20 * scale,
                    lambda: (all(ld.progress() >= 50 for ld in loaders), [ld.progress() for ld in loaders]))
        log(f"{a.threads} load threads running (seed {seed})")

        # 3. the BIN nodes join
        COUNTER.phase = "join"
        t = time.monotonic()
        # add-node checks the cluster first and refuses ("[ERR] Nodes don't
        # agree about configuration!") while the last node added does not
        # know the slot map yet: each waits for the agreement of the nodes
        # so far. (A joining master says cluster_state:ok only a node
        # timeout after it learnt the slots, in Redis as here: that is
        # waited for once, at the end.)
        for k, n in enumerate(snodes):
            out = cli(scale, f"add-node {n}", "--cluster", "add-node", n.addr, rnodes[0].addr)
            if "[OK] New node added correctly." not in out:
                raise pt.Failure(f"add-node {n}: no '[OK] New node added correctly.':\n{out[-2000:]}")
            pt.wait_for(f"the {4 + k} nodes agree", 60 * scale, lambda: agreed(nodes[:4 + k], scale, False),
                        interval=0.1)
        # Until a new master says cluster_state:ok it refuses every keyed
        # command with -CLUSTERDOWN, RESTORE-ASKING too: a MIGRATE to it
        # fails ("ERR Target instance replied with error: CLUSTERDOWN The
        # cluster is down") and redis-cli stops with the slot left open.
        pt.wait_for("all 6 nodes agree, cluster_state:ok", 60 * scale, lambda: agreed(nodes, scale), interval=0.1)
        summary["join"] = time.monotonic() - t
        log(f"the 3 {snodes[0].kind} nodes joined; all 6 agree ({summary['join']:.1f} s)")

        # 4. every slot to the BIN nodes. A Redis 7.0 master that gives away
        # its last slot turns itself into a replica of the slot's new owner
        # (cluster-allow-replica-migration yes, the default): redis-cli,
        # still sending SETSLOT NODE to every master it listed at its
        # start, then stops with "ERR Please use SETSLOT only with masters."
        # and leaves a slot open (redis/redis#11104, #9223). Turned off on
        # the nodes that are leaving, they stay empty masters.
        for n in rnodes:
            n.call("CONFIG", "SET", "cluster-allow-replica-migration", "no")
        keys_before = sum(n.r.dbsize() for n in rnodes)
        ra0 = sum(restore_asking_calls(n) for n in snodes)
        ops0 = sum(ld.progress() for ld in loaders)
        t = time.monotonic()
        COUNTER.phase = "move"
        move_slots(a.move, rnodes, snodes, scale)
        summary["move"] = time.monotonic() - t
        summary["move_ops"] = sum(ld.progress() for ld in loaders) - ops0
        summary["keys_moved"] = sum(restore_asking_calls(n) for n in snodes) - ra0
        summary["keys_before"] = keys_before
        pt.wait_for("all 6 nodes agree after the move", 60 * scale, lambda: agreed(nodes, scale), interval=0.2)
        view = snodes[0].view()
        for n in rnodes:
            if slots_of(n, view):
                raise pt.Failure(f"{n} still owns {slots_of(n, view)} slots after the move")
        third = [slots_of(n, view) for n in snodes]
        log(f"slots per {snodes[0].kind} node: {third}")
        if any(abs(s - 16384 / 3) > 16384 * 0.02 for s in third):
            problems.append(f"not about a third of the slots each: {third}")

        # 5. the redis-server nodes leave
        COUNTER.phase = "del-node and stop"
        t = time.monotonic()
        for n in rnodes:
            v = snodes[0].view()
            if slots_of(n, v):
                raise pt.Failure(f"{n} owns {slots_of(n, v)} slots: not removing it")
            out = cli(scale, f"del-node {n}", "--cluster", "del-node", snodes[0].addr, n.id)
            if "[ERR]" in out:
                raise pt.Failure(f"del-node {n}:\n{out[-2000:]}")
            for s in snodes:
                if n.id in s.view():
                    raise pt.Failure(f"{s} still lists {n} after del-node")
        for n in rnodes:
            problems += n.stop(30 * scale, shutdown=True)
        summary["leave"] = time.monotonic() - t
        pt.wait_for(f"the {snodes[0].kind}-only cluster agrees", 30 * scale,
                    lambda: agreed(snodes, scale), interval=0.2)
        log(f"the redis-server nodes are removed and stopped ({summary['leave']:.1f} s)")
        # The load goes on against the new cluster alone for a while.
        COUNTER.phase = "after"
        marks = [ld.progress() for ld in loaders]
        pt.wait_for("every load thread makes progress on the new cluster", 20 * scale,
                    lambda: (all(ld.progress() >= m + 100 for ld, m in zip(loaders, marks)),
                             [ld.progress() - m for ld, m in zip(loaders, marks)]))

        # 6. the end
        stop.set()
        for ld in loaders:
            ld.join(30 * scale)
            if ld.is_alive():
                problems.append(f"{ld.name} did not stop")
        summary["total"] = time.monotonic() - t_begin
        for ld in loaders:
            problems += [f"{ld.name}: client-visible error: {e}" for e in ld.errors[:5]]
            problems += [f"{ld.name}: {m}" for m in ld.mismatches[:5]]
        out = cli(scale, "cluster check on a new node", "--cluster", "check", snodes[1].addr)
        good, detail = check_clean(out, masters=3)
        if not good:
            problems.append(f"--cluster check at the end: {detail}\n{out}")
        for n in snodes:
            ci = n.call("CLUSTER", "INFO")
            for want in ("cluster_state:ok", "cluster_known_nodes:3", "cluster_slots_assigned:16384"):
                if want not in ci:
                    problems.append(f"{n}: no {want} in CLUSTER INFO")
        smap = SlotMap(snodes, snodes[2])
        for n in SlotMap(snodes, snodes[0]).owner, SlotMap(snodes, snodes[1]).owner:
            if n != smap.owner:
                problems.append("the new nodes' CLUSTER SLOTS differ")
        problems += check_initial(smap, items)
        for ld in loaders:
            problems += [f"{ld.name}: {p}" for p in ld.final_check(smap)[:10]]
        lo = a.keys + sum(len(ld.acked_keys) for ld in loaders)
        hi = a.keys + sum(len(ld.attempted) for ld in loaders)
        sizes = [n.r.dbsize() for n in snodes]
        if not lo <= sum(sizes) <= hi:
            problems.append(f"DBSIZEs {sizes} sum to {sum(sizes)}, expected "
                            f"{lo if lo == hi else f'{lo}..{hi}'}")
        if not all(sizes):
            problems.append(f"a new node holds no key: DBSIZEs {sizes}")
        summary["dbsize"] = sizes
        reached_end = True
    except (pt.Failure, redis.RedisError, OSError, subprocess.SubprocessError) as e:
        problems.append(str(e) if isinstance(e, pt.Failure) else repr(e))
        for n in nodes:
            print(n.log_tail(15), flush=True)
        print(loaders_evidence(loaders), flush=True)
    finally:
        stop.set()
        with pt.cleanup():
            # Nodes first (SIGKILL unless all went well): a loader blocked on
            # one then fails fast; loaders are daemon threads.
            for n in nodes:
                if not n.stopped:
                    p = n.stop(30 * scale if reached_end and not pt.PENDING else 0)
                    if reached_end and not pt.PENDING:
                        problems += p
            for ld in loaders:
                ld.join(5 if reached_end else 0.5)
    if loaders and reached_end:
        ops = sum(ld.ops for ld in loaders)
        writes = sum(ld.writes for ld in loaders)
        slow = max(ld.slowest for ld in loaders)
        ev = "; ".join(f"{ph}: " + ", ".join(f"{k} {v}" for k, v in sorted(c.items()))
                       for ph, c in COUNTER.by_phase.items()) or "nothing"
        log(f"summary: {summary.get('keys_moved')} keys moved (RESTORE-ASKING served; "
            f"{summary.get('keys_before')} keys on the redis-server nodes when the move began) in "
            f"{summary.get('move', 0):.1f} s by `--cluster {a.move}`; join {summary.get('join', 0):.1f} s, "
            f"del-node and stop {summary.get('leave', 0):.1f} s; whole scenario {summary.get('total', 0):.1f} s")
        log(f"summary: load {a.threads} threads, {ops} operations ({summary.get('move_ops')} during the move), "
            f"{writes} acknowledged writes; redis-py handled: {ev}; "
            f"slowest operation {slow[0] * 1000:.0f} ms (during {slow[1]}); "
            f"client-visible errors {sum(len(ld.errors) for ld in loaders)}; "
            f"DBSIZE per new node {summary.get('dbsize')}")
    return problems


def main():
    pt.NAME = NAME
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", required=True, help="the server the cluster moves onto")
    ap.add_argument("--redis", default="redis-server", help="the redis-server the cluster starts on")
    ap.add_argument("--keys", type=int, default=20000)
    ap.add_argument("--threads", type=int, default=10)
    ap.add_argument("--rate", type=float, default=100,
                    help="operations per second per load thread, at most (0: as fast as it goes)")
    ap.add_argument("--move", choices=("rebalance", "reshard"), default="rebalance")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--scale", type=int, default=1, help="multiplies every bound")
    ap.add_argument("--dir", help="working directory (created if needed; removed when all passed)")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--data-parent", default="/dev/shm",
                    help="where the nodes' directories (nodes.conf) go, in a directory of this run "
                         "removed on every exit; WORK when not writable")
    a = ap.parse_args()
    work = a.dir or tempfile.mkdtemp(prefix=f"{NAME}.")
    os.makedirs(work, exist_ok=True)
    # Every SETSLOT rewrites nodes.conf. On a disk file system mounted with
    # `discard` (as / is on some VMs), slotcache's write-then-rename frees
    # the old file's blocks each time, a synchronous discard, where Redis
    # 7.0 overwrites in place: the 16384 slots took 2-4x as long to move
    # with the nodes' directories on such a disk as on tmpfs (and 2.5-3x as
    # long as onto redis-server nodes on the same disk). On tmpfs the run
    # measures the servers, not the disk.
    data = None
    if os.access(a.data_parent, os.W_OK):
        data = tempfile.mkdtemp(prefix=f"{NAME}.", dir=a.data_parent)
    binary = os.path.abspath(a.server)
    a.redis = shutil.which(a.redis) or a.redis
    log(f"redis-server cluster ({a.redis}) onto {binary}: {a.keys} keys, {a.threads} load threads, "
        f"--cluster {a.move}")

    def body():
        if not os.access(a.redis, os.X_OK):
            return [f"server binary {a.redis} missing"]
        return run(a, binary, work, data or work)

    def after(failed):
        if not data:
            return
        if failed:  # the nodes.conf files go with the logs
            for d in os.listdir(data):
                src = os.path.join(data, d, "nodes.conf")
                if os.path.exists(src):
                    os.makedirs(os.path.join(work, d), exist_ok=True)
                    shutil.copy(src, os.path.join(work, d, "nodes.conf"))
        shutil.rmtree(data, ignore_errors=True)

    return pt.run_guarded(NAME, work, binary, body, keep=a.keep, after=after)

if __name__ == "__main__":
    sys.exit(main())
