"""tests/cluster/cli_fix_import_test.py - `redis-cli --cluster import` and
`redis-cli --cluster fix` (redis-cli 7.0) against a cluster of 3 masters on
loopback. Started by cli_fix_import_test.sh (under /usr/bin/python3 for
python3-redis):

  cli_fix_import_test.py --server BIN [--redis-source BIN] [--slotcache-source BIN]
                         [--cases import,fix-source,fix-target,uncovered]
                         [--keys 2000] [--seed S] [--scale 1] [--dir WORK] [--keep]

The cluster: 3 nodes of BIN (--cluster-enabled, nodes.conf in each node's
directory, cluster-node-timeout 2000, no persistence but an explicit SAVE),
made by `redis-cli --cluster create --cluster-replicas 0`. Before each case
every master is flushed and `--cluster check` must be clean. Datasets mix
every type (strings: text, integers, binary, 20 KB; lists, sets (intsets
too), zsets, hashes, small and large encodings), a quarter of the keys with
a TTL of 1000-3000 s set by PEXPIREAT. "Verified" below means: each key read
from the master that owns its slot by CLUSTER SLOTS (a plain connection, no
redirection) has its type and value, and a PTTL within 1.5 s * scale of the
expected one (-1 without TTL); the masters' DBSIZEs add up to the dataset.

import (once from a standalone redis-server, --redis-source, once from a
standalone slotcache, --slotcache-source; a missing one is skipped, a
failure under CI=true), each source holding --keys keys:
  1. `--cluster import C --cluster-from S`: exit 0, verified, S empty.
     (redis-cli reads SCAN's cursor into an int: a cursor of 2^31 or more
     ends the import early, with exit 0.)
  2. S written again, `--cluster-copy`: exit 0, verified, S still holds
     every key with its value and TTL.
  3. the cluster flushed, one key of the dataset written into it with
     another value: the import (move, no replace) exits 1 and prints the
     source's error "ERR Target instance replied with error: BUSYKEY Target
     key name already exists."; the key keeps the cluster's value and is
     still on S. Then `--cluster-replace`: exit 0, verified (the key has S's
     value), S empty.
fix-source: slot s of master A (keys {tag}... of every type, --keys / 8 of
  them, plus as many keys all over the cluster) is opened by hand towards
  master B (SETSLOT IMPORTING on B, MIGRATING on A); A SAVEs; half of s's
  keys are MIGRATEd to B; A is killed with SIGKILL and restarted from its
  directory: it must come back with its nodes.conf ([s->-B] on its own
  line) and its RDB, so with every key of s, the migrated half again too.
  `--cluster fix --cluster-yes`: exit 0. (Redis 7.0's redis-cli finds keys
  of s on a non-owner, makes the node holding the most of them the owner,
  here A, and moves the others' keys there, "Case 2"; the keys on both
  sides are compared by DEBUG DIGEST-VALUE and, equal, replaced.) Then:
  the cluster steady and `--cluster check` clean (all slots covered, nodes
  agree, no [WARNING] or [ERR]: no open slot), s owned by A, its keys
  exactly once in the cluster (COUNTKEYSINSLOT on each master), every key
  verified.
fix-target: the same, but two thirds of s's keys are MIGRATEd, then B
  SAVEs and is killed and restarted ([s-<-A] kept, its keys of s back);
  fix makes B (the most keys) the owner and moves A's third there; the
  same checks, with s owned by B.
  (The SAVE and the MIGRATEs come between the SETSLOTs and the kill; Redis
  writes nodes.conf before it answers a SETSLOT, slotcache's bus thread a
  little after its +OK.)
uncovered: CLUSTER DELSLOTS s on its owner A with s's keys there: `--cluster
  check` reports "[ERR] Not all 16384 slots are covered by nodes."; `--cluster
  fix --cluster-yes` exits 0, covers s with A (the node holding its keys),
  check is clean again, every key verified. (--cluster-yes does not answer
  redis-cli 7.0's "Fix these slots by covering with those nodes?": fix
  gets "yes" lines on its stdin.)

At the end the nodes are stopped with SIGTERM (slotcache: exit status 0 and
no sanitizer report in a log asserted). Every process (nodes, sources,
redis-cli) is reaped and WORK removed on every exit: normal, failure,
exception, SIGTERM / SIGINT / SIGHUP (the ends of the node logs are printed
first when something failed; --keep keeps WORK). Exit: 0 passed, 1 failed,
77 skipped, 128+N interrupted by signal N.
"""
import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

import redis
from redis.crc import key_slot

import partition_test as pt

NAME = "cli_fix_import_test"
NODE_TIMEOUT_MS = 2000
PORT_LO, PORT_HI = 10000, 22000
BUSYKEY = "ERR Target instance replied with error: BUSYKEY Target key name already exists."
CASES = ("import", "fix-source", "fix-target", "uncovered")
Failure = pt.Failure


def log(*args):
    print(f"{NAME}: +{time.monotonic() - pt.T0:5.1f}s", *args, flush=True)


def now_ms():
    return int(time.time() * 1000)


# ---- processes -------------------------------------------------------------

TAKEN = set()  # ports (and bus ports) handed out in this run


def pick_port():
    """P in [PORT_LO, PORT_HI) with P and its bus port P + 10000 free (bus ports stay under the
    ephemeral range) and neither given to another node of this run."""
    for _ in range(1000):
        p = random.randrange(PORT_LO, PORT_HI)
        if {p, p + 10000} & TAKEN or p in {t + 10000 for t in TAKEN}:
            continue
        if pt.port_free(p) and pt.port_free(p + 10000):
            TAKEN.update((p, p + 10000))
            return p
    raise Failure(f"no free port pair P, P+10000 in [{PORT_LO}, {PORT_HI})")


class Node:
    """One server on 127.0.0.1 in its own directory (nodes.conf, dump.rdb, server.log there)."""

    def __init__(self, name, binary, work, scale, cluster):
        self.name, self.binary, self.scale, self.cluster = name, binary, scale, cluster
        self.dir = os.path.join(work, name)
        self.logfile = os.path.join(self.dir, "server.log")
        self.is_redis = "redis-server" in os.path.basename(binary)
        self.proc = None
        self.port = None
        self.r = None
        self.id = None

    def __str__(self):
        return f"{self.name} (:{self.port})"

    def args(self):
        a = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir, "--save", "",
             "--appendonly", "no", "--daemonize", "no"]
        if self.cluster:
            a += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                  "--cluster-node-timeout", str(NODE_TIMEOUT_MS)]
        if self.is_redis:
            a += ["--enable-debug-command", "yes"]  # fix compares values with DEBUG DIGEST-VALUE
        return a

    def spawn(self):
        os.makedirs(self.dir, exist_ok=True)
        with open(self.logfile, "ab") as out:
            self.proc = subprocess.Popen(self.args(), stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT)
        pt.PROCS.append(self.proc)
        self.r = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=10 * self.scale,
                             socket_connect_timeout=2)

    def wait_up(self):
        def up():
            if self.proc.poll() is not None:
                return None, f"exited with status {self.proc.returncode}"
            return self.r.ping(), "no PONG"
        deadline = time.monotonic() + 20 * self.scale
        while time.monotonic() < deadline:
            try:
                ok, why = up()
            except (redis.RedisError, OSError) as e:
                ok, why = False, repr(e)
            if ok is None:
                return why
            if ok:
                return None
            time.sleep(0.05)
        return f"no PONG within {20 * self.scale} s"

    def start(self):
        """On a fresh port; another port when this one was taken meanwhile."""
        for attempt in range(5):
            self.port = pick_port()
            self.spawn()
            why = self.wait_up()
            if why is None:
                if self.cluster:
                    self.id = self.call("CLUSTER", "MYID").decode()
                return
            pt.reap(self.proc, 0)
            if "in use" not in self.log_text():
                raise Failure(f"{self} did not start: {why}\n{self.log_tail()}")
            log(f"{self}: port taken (attempt {attempt + 1}), retrying")
        raise Failure(f"{self.name}: no free port after 5 attempts")

    def kill9(self):
        self.proc.kill()
        self.proc.wait(10)
        pt.PROCS.remove(self.proc)

    def restart(self):
        """Same port, same directory (nodes.conf, dump.rdb)."""
        self.spawn()
        why = self.wait_up()
        if why is not None:
            raise Failure(f"{self} did not restart: {why}\n{self.log_tail()}")
        if self.cluster:
            myid = self.call("CLUSTER", "MYID").decode()
            if myid != self.id:
                raise Failure(f"{self} restarted as {myid}, not {self.id}: nodes.conf not read")

    def alive(self):
        if self.proc.poll() is not None:
            raise Failure(f"{self} exited (status {self.proc.returncode})\n{self.log_tail()}")

    def call(self, *args):
        return self.r.execute_command(*args)

    def log_text(self):
        try:
            with open(self.logfile, errors="replace") as fh:
                return fh.read()
        except OSError:
            return ""

    def log_tail(self, n=25):
        lines = self.log_text().splitlines()
        return f"---- last lines of {self.logfile}:\n" + "\n".join(lines[-n:]) + "\n" if lines else ""

    def stop(self, fast):
        """SIGTERM (SIGKILL when fast); the problems found (slotcache: exit status, sanitizer)."""
        if not self.proc or self.proc not in pt.PROCS:
            return []
        if fast:
            pt.reap(self.proc, 0)
            return []
        rc = pt.reap(self.proc, 30 * self.scale)
        if self.is_redis:
            return []
        problems = []
        if rc != 0:
            problems.append(f"{self} exit status {rc} after SIGTERM" if rc is not None else
                            f"{self} did not exit within {30 * self.scale} s of SIGTERM")
        if any(m in self.log_text() for m in pt.SANITIZER_MARKS):
            problems.append(f"{self}: sanitizer report in {self.logfile}")
        return problems


def cli(args, bound, scale, answer=None):
    """redis-cli ARGS bounded by bound * scale seconds, answer (bytes) on its stdin: (exit status,
    output)."""
    p = subprocess.Popen(["redis-cli", *args], stdin=subprocess.PIPE if answer else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    pt.PROCS.append(p)
    try:
        out, _ = p.communicate(answer, timeout=bound * scale)
    except subprocess.TimeoutExpired:
        pt.reap(p, 0)
        raise Failure(f"redis-cli {' '.join(args[:3])} ... did not end within {bound * scale} s")
    pt.PROCS.remove(p)
    return p.returncode, re.sub(r"\x1b\[[0-9;]*m", "", out.decode(errors="replace"))  # no colours


def tail(out, n=25):
    lines = out.splitlines()
    return "\n".join(lines[-n:])


# ---- the cluster -------------------------------------------------------------

class Cluster:
    def __init__(self, binary, work, scale):
        self.scale = scale
        self.nodes = [Node(f"node-{i + 1}", binary, work, scale, True) for i in range(3)]
        self.by_id = {}

    def start(self):
        for n in self.nodes:
            n.start()
            self.by_id[n.id] = n
        rc, out = cli(["--cluster", "create", *[f"127.0.0.1:{n.port}" for n in self.nodes],
                       "--cluster-replicas", "0", "--cluster-yes"], 60, self.scale)
        if rc != 0 or "[OK] All 16384 slots covered." not in out:
            raise Failure(f"redis-cli --cluster create exited {rc}:\n{tail(out)}")
        pt.wait_for("the cluster is steady after create", 30 * self.scale, self.steady)
        log(f"cluster of 3 masters on ports {', '.join(str(n.port) for n in self.nodes)}")

    def addr(self, n=None):
        return f"127.0.0.1:{(n or self.nodes[0]).port}"

    def steady(self):
        """(True, slot owners) when every node is ok, knows the 3 masters connected and
        unflagged, and all agree on who owns what."""
        shapes = {}
        for n in self.nodes:
            n.alive()
            if b"cluster_state:ok" not in n.call("CLUSTER", "INFO"):
                return False, f"{n}: not cluster_state:ok"
            view = pt.parse_nodes(n.call("CLUSTER", "NODES").decode())
            if len(view) != 3:
                return False, f"{n} knows {len(view)} nodes"
            for nid, e in view.items():
                bad = e["flags"] & {"fail", "fail?", "handshake", "noaddr"}
                if bad or e["link"] != "connected" or pt.role(e) != "master":
                    return False, f"{n}: {nid[:8]} flags {sorted(e['flags'])} link {e['link']}"
            shapes[n.name] = {i: (e["addr"], e["epoch"], tuple(e["slots"])) for i, e in view.items()}
        first = shapes[self.nodes[0].name]
        for name, s in shapes.items():
            if s != first:
                return False, f"{name} and {self.nodes[0].name} disagree: {s} vs {first}"
        return True, self.owners()

    def owners(self):
        """[Node] by slot, from CLUSTER SLOTS of node 1."""
        owner = [None] * 16384
        by_port = {n.port: n for n in self.nodes}
        for a, b, m, *_ in self.nodes[0].call("CLUSTER", "SLOTS"):
            for s in range(int(a), int(b) + 1):
                owner[s] = by_port[int(m[1])]
        return owner

    def flush(self):
        for n in self.nodes:
            n.call("FLUSHALL")

    def check(self, what):
        """`--cluster check`: clean, or Failure with its output."""
        rc, out = cli(["--cluster", "check", self.addr()], 60, self.scale)
        problems = []
        if rc != 0:
            problems.append(f"exit {rc}")
        for want in ("[OK] All nodes agree about slots configuration.", "[OK] All 16384 slots covered."):
            if want not in out:
                problems.append(f"no '{want}'")
        bad = [ln for ln in out.splitlines() if "[ERR]" in ln or "[WARNING]" in ln]
        if bad:
            problems.append(f"reported {bad[:5]}")
        return (not problems), f"{what}: --cluster check: {'; '.join(problems)}\n{out}"

    def wait_clean(self, what):
        """Steady and `--cluster check` clean, within a bound (gossip may still be spreading a change)."""
        pt.wait_for(f"{what}: the cluster is steady", 30 * self.scale, self.steady)
        pt.wait_for(f"{what}: --cluster check is clean", 20 * self.scale, lambda: self.check(what), 0.5)

    def dbsize(self):
        return sum(n.call("DBSIZE") for n in self.nodes)


# ---- datasets ----------------------------------------------------------------

TYPES = ("string", "list", "set", "zset", "hash")


def make_dataset(rng, prefix, count, tag=None):
    """{key: (type, value, absolute expire ms or None)}; keys {tag}... when tag is given."""
    data = {}
    base = now_ms()
    for i in range(count):
        t = TYPES[i % len(TYPES)]
        key = (f"{{{tag}}}:" if tag else "") + f"{prefix}:{t}:{i}"
        big = rng.random() < 0.03
        if t == "string":
            kind = rng.randrange(4)
            if big:
                val = bytes(rng.getrandbits(8) for _ in range(20000))
            elif kind == 0:
                val = str(rng.randrange(-10**12, 10**12)).encode()
            elif kind == 1:
                val = bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 64)))
            else:
                val = f"value-{i}-{rng.random()}".encode()
        elif t == "list":
            val = [f"e{j}-{rng.randrange(1000)}".encode() for j in range(300 if big else rng.randrange(1, 12))]
        elif t == "set":
            n = 300 if big else rng.randrange(1, 12)
            if rng.random() < 0.5:
                val = {str(rng.randrange(10**6)).encode() for _ in range(n)}  # an intset
            else:
                val = {f"m{rng.randrange(10**6)}".encode() for _ in range(n)}
        elif t == "zset":
            n = 200 if big else rng.randrange(1, 12)
            val = {f"z{rng.randrange(10**6)}".encode(): rng.randrange(-4000, 4000) / 4 for _ in range(n)}
        else:
            n = 200 if big else rng.randrange(1, 12)
            val = {f"f{j}".encode(): f"v{rng.randrange(10**6)}".encode() for j in range(n)}
        exp = base + rng.randrange(1000_000, 3000_000) if rng.random() < 0.25 else None
        data[key] = (t, val, exp)
    return data


def write_dataset(r, data):
    """Through one plain connection (a standalone server, or the owner of every key)."""
    pipe = r.pipeline(transaction=False)
    for i, (key, (t, val, exp)) in enumerate(data.items()):
        pipe.delete(key)
        if t == "string":
            pipe.set(key, val)
        elif t == "list":
            pipe.rpush(key, *val)
        elif t == "set":
            pipe.sadd(key, *val)
        elif t == "zset":
            pipe.zadd(key, val)
        else:
            pipe.hset(key, mapping=val)
        if exp is not None:
            pipe.pexpireat(key, exp)
        if i % 500 == 499:
            pipe.execute()
    pipe.execute()


def write_to_cluster(cl, data):
    owner = cl.owners()
    per = {}
    for k, v in data.items():
        per.setdefault(owner[key_slot(k.encode())].name, {})[k] = v
    for n in cl.nodes:
        if n.name in per:
            write_dataset(n.r, per[n.name])


def read_keys(r, keys, data):
    """{key: (type, value, pttl, time of the read)} through one plain connection."""
    got = {}
    for k0 in range(0, len(keys), 400):
        part = keys[k0:k0 + 400]
        pipe = r.pipeline(transaction=False)
        for k in part:
            t = data[k][0]
            pipe.type(k)
            if t == "string":
                pipe.get(k)
            elif t == "list":
                pipe.lrange(k, 0, -1)
            elif t == "set":
                pipe.smembers(k)
            elif t == "zset":
                pipe.zrange(k, 0, -1, withscores=True)
            else:
                pipe.hgetall(k)
            pipe.pttl(k)
        res = pipe.execute()
        t_read = now_ms()
        for j, k in enumerate(part):
            typ, val, pttl = res[3 * j:3 * j + 3]
            if isinstance(val, list) and data[k][0] == "zset":
                val = dict(val)
            got[k] = (typ.decode(), val, pttl, t_read)
    return got


def compare(data, got, scale, where):
    """Problems (at most 5 described, then a count)."""
    bad = []
    slack = 1500 * scale
    for k, (t, val, exp) in data.items():
        typ, v, pttl, t_read = got[k]
        if typ != t:
            bad.append(f"{k}: type {typ}, expected {t}")
        elif v != val:
            bad.append(f"{k}: value differs ({str(v)[:60]} vs {str(val)[:60]})")
        elif exp is None and pttl != -1:
            bad.append(f"{k}: PTTL {pttl}, expected -1")
        elif exp is not None and not (pttl > 0 and abs(pttl - (exp - t_read)) <= slack):
            bad.append(f"{k}: PTTL {pttl}, expected {exp - t_read} +- {slack}")
    if not bad:
        return []
    return [f"{where}: {len(bad)} of {len(data)} keys wrong: " + "; ".join(bad[:5])]


def verify_cluster(cl, data, where, total=None):
    """Every key of data on the owner of its slot with its value and TTL; the masters' DBSIZEs
    add up to total (len(data) by default)."""
    owner = cl.owners()
    per = {}
    for k in data:
        per.setdefault(owner[key_slot(k.encode())].name, []).append(k)
    got = {}
    for n in cl.nodes:
        got.update(read_keys(n.r, per.get(n.name, []), data))
    problems = compare(data, got, cl.scale, where)
    want = len(data) if total is None else total
    size = cl.dbsize()
    if size != want:
        problems.append(f"{where}: the masters hold {size} keys, expected {want}")
    return problems


def verify_node(n, data, scale, where):
    got = read_keys(n.r, list(data), data)
    problems = compare(data, got, scale, where)
    size = n.call("DBSIZE")
    if size != len(data):
        problems.append(f"{where}: {n} holds {size} keys, expected {len(data)}")
    return problems


def is_ok(reply):
    """+OK, as redis-py returns it (True for commands it knows, b"OK" otherwise)."""
    return reply is True or reply == b"OK"


def need(problems):
    if problems:
        raise Failure("\n".join(problems))


def find_tag(owner, node, avoid=()):
    """A hash tag whose slot node owns (and not one of avoid)."""
    for k in range(1_000_000):
        s = key_slot(f"t{k}".encode())
        if owner[s] is node and s not in avoid:
            return f"t{k}", s
    raise Failure(f"no hash tag for a slot of {node}")


# ---- cases -------------------------------------------------------------------

def case_import(cl, src_bin, kind, work, rng, nkeys):
    src = Node(f"source-{kind}", src_bin, work, cl.scale, False)
    src.start()
    try:
        log(f"import from a standalone {kind} ({src}), {nkeys} keys")
        cl.flush()
        cl.wait_clean(f"import from {kind}")
        data = make_dataset(rng, f"imp-{kind}", nkeys)
        base = ["--cluster", "import", cl.addr(), "--cluster-from", f"127.0.0.1:{src.port}"]

        # 1. move
        write_dataset(src.r, data)
        t = time.monotonic()
        rc, out = cli(base, 120, cl.scale)
        if rc != 0:
            raise Failure(f"import from {kind}: exit {rc}:\n{tail(out)}")
        log(f"import from {kind}: exit 0 in {time.monotonic() - t:.1f} s")
        problems = verify_cluster(cl, data, f"import from {kind}")
        if src.call("DBSIZE") != 0:
            problems.append(f"import from {kind}: the source still holds {src.call('DBSIZE')} keys")
        need(problems)

        # 2. --cluster-copy
        cl.flush()
        write_dataset(src.r, data)
        rc, out = cli(base + ["--cluster-copy"], 120, cl.scale)
        if rc != 0:
            raise Failure(f"import --cluster-copy from {kind}: exit {rc}:\n{tail(out)}")
        need(verify_cluster(cl, data, f"import --cluster-copy from {kind}") +
             verify_node(src, data, cl.scale, f"import --cluster-copy from {kind}: the source"))
        log(f"import --cluster-copy from {kind}: the cluster and the source hold every key")

        # 3. a key already in the cluster: BUSYKEY without --cluster-replace, replaced with it
        cl.flush()
        busy = next(k for k, v in data.items() if v[0] == "string")
        owner = cl.owners()[key_slot(busy.encode())]
        owner.call("SET", busy, "the cluster's value")
        rc, out = cli(base, 120, cl.scale)
        problems = []
        if rc != 1:
            problems.append(f"import onto an existing key from {kind}: exit {rc}, expected 1")
        if BUSYKEY not in out:
            problems.append(f"import onto an existing key from {kind}: no '{BUSYKEY}' in:\n{tail(out)}")
        if owner.call("GET", busy) != b"the cluster's value":
            problems.append(f"import onto an existing key from {kind}: {busy} overwritten in the cluster")
        if src.call("EXISTS", busy) != 1:
            problems.append(f"import onto an existing key from {kind}: {busy} gone from the source")
        need(problems)
        moved = len(data) - src.call("DBSIZE")
        rc, out = cli(base + ["--cluster-replace"], 120, cl.scale)
        if rc != 0:
            raise Failure(f"import --cluster-replace from {kind}: exit {rc}:\n{tail(out)}")
        problems = verify_cluster(cl, data, f"import --cluster-replace from {kind}")
        if src.call("DBSIZE") != 0:
            problems.append(f"import --cluster-replace from {kind}: the source still holds keys")
        need(problems)
        log(f"import from {kind} onto an existing key: exit 1 with BUSYKEY ({moved} keys moved before), "
            f"then --cluster-replace: every key in place")
    finally:
        problems = src.stop(fast=bool(pt.PENDING))
    need(problems)


def open_slot_and_migrate(cl, a, b, rng, nkeys, label):
    """Keys of a slot of a and keys all over; the slot opened a -> b and half its keys migrated.
    (tag, slot, slot keys, other keys, migrated keys)"""
    cl.flush()
    cl.wait_clean(label)
    owner = cl.owners()
    tag, slot = find_tag(owner, a)
    mine = make_dataset(rng, label, nkeys, tag)
    others = make_dataset(rng, f"{label}-o", nkeys)
    write_to_cluster(cl, mine)
    write_to_cluster(cl, others)
    need([f"{label}: COUNTKEYSINSLOT {slot} on {a} is {a.call('CLUSTER', 'COUNTKEYSINSLOT', slot)}"]
         if a.call("CLUSTER", "COUNTKEYSINSLOT", slot) != len(mine) else [])
    b.call("CLUSTER", "SETSLOT", slot, "IMPORTING", a.id)
    a.call("CLUSTER", "SETSLOT", slot, "MIGRATING", b.id)
    return tag, slot, mine, others


def migrate_part(cl, a, b, slot, mine, part, label):
    """MIGRATE part (a fraction) of the slot's keys from a to b; the keys moved."""
    keys = sorted(mine)[:int(len(mine) * part)]
    for k0 in range(0, len(keys), 50):
        r = a.call("MIGRATE", "127.0.0.1", b.port, "", 0, 10000 * cl.scale, "KEYS", *keys[k0:k0 + 50])
        if not is_ok(r):
            raise Failure(f"{label}: MIGRATE answered {r!r}")
    ca, cb = a.call("CLUSTER", "COUNTKEYSINSLOT", slot), b.call("CLUSTER", "COUNTKEYSINSLOT", slot)
    if (ca, cb) != (len(mine) - len(keys), len(keys)):
        raise Failure(f"{label}: after MIGRATE of {len(keys)} keys: {ca} on {a}, {cb} on {b}")
    return keys


def my_line(n):
    return next(ln for ln in n.call("CLUSTER", "NODES").decode().splitlines() if "myself" in ln)


def fix_and_check(cl, slot, mine, others, want_owner, label):
    t = time.monotonic()
    # (--cluster-yes does not answer fix's "Fix these slots by covering with those nodes?": stdin does.)
    rc, out = cli(["--cluster", "fix", cl.addr(), "--cluster-yes"], 120, cl.scale, b"yes\n" * 8)
    if rc != 0:
        raise Failure(f"{label}: --cluster fix exited {rc}:\n{tail(out, 40)}")
    log(f"{label}: --cluster fix exit 0 in {time.monotonic() - t:.1f} s; it said:")
    for ln in out.splitlines():
        if any(m in ln for m in (">>> Case", ">>> Covering", "*** Configuring", "[WARNING]", "[ERR]")):
            print(f"    {ln.strip()}", flush=True)
    try:
        cl.wait_clean(f"{label}: after fix")
    except Failure as e:
        counts = {str(n): n.call("CLUSTER", "COUNTKEYSINSLOT", slot) for n in cl.nodes}
        raise Failure(f"{e}\n{label}: COUNTKEYSINSLOT {slot}: {counts} ({len(mine)} keys)" + lost_lines(cl))
    problems = []
    owner = cl.owners()[slot]
    if owner is not want_owner:
        problems.append(f"{label}: slot {slot} owned by {owner} after fix, expected {want_owner}")
    counts = {str(n): n.call("CLUSTER", "COUNTKEYSINSLOT", slot) for n in cl.nodes}
    if counts != {str(n): (len(mine) if n is owner else 0) for n in cl.nodes}:
        problems.append(f"{label}: COUNTKEYSINSLOT {slot} after fix: {counts}, expected {len(mine)} on {owner} only"
                        + lost_lines(cl))
    problems += verify_cluster(cl, {**mine, **others}, f"{label}: after fix")
    need(problems)


def lost_lines(cl):
    """The nodes' log lines about keys deleted in slots they lost (clusterUpdateSlotsConfigWith's
    dirty slots: slotcache logs them, Redis 7.0 does not)."""
    found = [f"{n}: {ln}" for n in cl.nodes for ln in n.log_text().splitlines()
             if "slots holding keys" in ln or "slots this node lost" in ln]
    return "".join(f"\n    {ln}" for ln in found)


def case_fix_source(cl, rng, nkeys):
    label = "fix-source"
    a, b = cl.nodes[0], cl.nodes[1]
    tag, slot, mine, others = open_slot_and_migrate(cl, a, b, rng, nkeys, label)
    if not is_ok(a.call("SAVE")):
        raise Failure(f"{label}: SAVE on {a} failed")
    moved = migrate_part(cl, a, b, slot, mine, 1 / 2, label)
    log(f"{label}: slot {slot} ({{{tag}}}, {len(mine)} keys) open {a} -> {b}, {a} saved, "
        f"{len(moved)} keys migrated; kill -9 {a}")
    a.kill9()
    a.restart()
    line = my_line(a)
    problems = []
    if f"[{slot}->-{b.id}]" not in line:
        problems.append(f"{label}: {a} restarted without its migrating slot: {line}")
    if a.call("CLUSTER", "COUNTKEYSINSLOT", slot) != len(mine):
        problems.append(f"{label}: {a} restarted with {a.call('CLUSTER', 'COUNTKEYSINSLOT', slot)} keys in slot "
                        f"{slot}, expected {len(mine)} (its RDB)")
    need(problems)
    pt.wait_for(f"{label}: the cluster is steady after the restart", 30 * cl.scale, cl.steady)
    fix_and_check(cl, slot, mine, others, a, label)


def case_fix_target(cl, rng, nkeys):
    label = "fix-target"
    a, b = cl.nodes[1], cl.nodes[2]
    tag, slot, mine, others = open_slot_and_migrate(cl, a, b, rng, nkeys, label)
    moved = migrate_part(cl, a, b, slot, mine, 2 / 3, label)
    if not is_ok(b.call("SAVE")):
        raise Failure(f"{label}: SAVE on {b} failed")
    log(f"{label}: slot {slot} ({{{tag}}}, {len(mine)} keys) open {a} -> {b}, {len(moved)} keys migrated, "
        f"{b} saved; kill -9 {b}")
    b.kill9()
    b.restart()
    line = my_line(b)
    problems = []
    if f"[{slot}-<-{a.id}]" not in line:
        problems.append(f"{label}: {b} restarted without its importing slot: {line}")
    if b.call("CLUSTER", "COUNTKEYSINSLOT", slot) != len(moved):
        problems.append(f"{label}: {b} restarted with {b.call('CLUSTER', 'COUNTKEYSINSLOT', slot)} keys in slot "
                        f"{slot}, expected {len(moved)} (its RDB)")
    need(problems)
    pt.wait_for(f"{label}: the cluster is steady after the restart", 30 * cl.scale, cl.steady)
    fix_and_check(cl, slot, mine, others, b, label)


def case_uncovered(cl, rng, nkeys):
    label = "uncovered"
    cl.flush()
    cl.wait_clean(label)
    a = cl.nodes[2]
    tag, slot = find_tag(cl.owners(), a)
    mine = make_dataset(rng, label, nkeys, tag)
    others = make_dataset(rng, f"{label}-o", nkeys)
    write_to_cluster(cl, mine)
    write_to_cluster(cl, others)
    if not is_ok(a.call("CLUSTER", "DELSLOTS", slot)):
        raise Failure(f"{label}: DELSLOTS {slot} on {a} failed")
    rc, out = cli(["--cluster", "check", cl.addr()], 60, cl.scale)
    if "[ERR] Not all 16384 slots are covered by nodes." not in out:
        raise Failure(f"{label}: --cluster check after DELSLOTS {slot} exited {rc} without the coverage "
                      f"error:\n{tail(out)}")
    log(f"{label}: DELSLOTS {slot} ({{{tag}}}, {len(mine)} keys) on {a}; --cluster check exit {rc}, "
        f"not all slots covered")
    fix_and_check(cl, slot, mine, others, a, label)


# ---- main --------------------------------------------------------------------

def run(a, work):
    rng = random.Random(a.seed)
    cases = [c for c in a.cases.split(",") if c]
    cl = Cluster(os.path.abspath(a.server), work, a.scale)
    problems, ok = [], False
    try:
        cl.start()
        if "import" in cases:
            for kind, src in (("redis-server", a.redis_source), ("slotcache", a.slotcache_source)):
                if not src or not os.access(src, os.X_OK):
                    msg = f"import from a standalone {kind}: skipped, no binary ({src or 'none given'})"
                    if os.environ.get("CI") == "true":
                        problems.append(msg + " (CI=true)")
                    else:
                        log(msg)
                    continue
                case_import(cl, os.path.abspath(src), kind, work, rng, a.keys)
        if "fix-source" in cases:
            case_fix_source(cl, rng, max(16, a.keys // 8))
        if "fix-target" in cases:
            case_fix_target(cl, rng, max(16, a.keys // 8))
        if "uncovered" in cases:
            case_uncovered(cl, rng, max(16, a.keys // 8))
        ok = not problems
    except (Failure, redis.RedisError, OSError, subprocess.SubprocessError) as e:
        problems.append(str(e) if isinstance(e, Failure) else repr(e))
        for n in cl.nodes:
            try:
                print(f"---- CLUSTER NODES of {n}:\n{n.call('CLUSTER', 'NODES').decode()}", end="", flush=True)
            except (redis.RedisError, OSError, AttributeError) as e2:
                print(f"---- {n}: {e2!r}", flush=True)
    finally:
        with pt.cleanup():
            for n in cl.nodes:
                problems += n.stop(fast=not ok or bool(pt.PENDING))
    return problems


def main():
    pt.NAME = NAME
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", required=True, help="the cluster nodes' binary")
    ap.add_argument("--redis-source", help="redis-server for the standalone source of import")
    ap.add_argument("--slotcache-source", help="slotcache-server for the standalone source of import")
    ap.add_argument("--cases", default=",".join(CASES), help=f"comma-separated subset of {','.join(CASES)}")
    ap.add_argument("--keys", type=int, default=2000, help="keys of an import dataset (a slot gets 1/8)")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--scale", type=int, default=1, help="multiplies every bound")
    ap.add_argument("--dir", help="working directory (created if needed; removed at the end)")
    ap.add_argument("--keep", action="store_true", help="keep the working directory")
    a = ap.parse_args()
    unknown = set(a.cases.split(",")) - set(CASES) - {""}
    if unknown:
        ap.error(f"unknown case(s) {sorted(unknown)}")
    a.seed = a.seed if a.seed is not None else int.from_bytes(os.urandom(4), "big")
    random.seed(a.seed ^ os.getpid())  # ports
    work = a.dir or tempfile.mkdtemp(prefix=f"{NAME}.")
    os.makedirs(work, exist_ok=True)
    log(f"cluster of {os.path.abspath(a.server)}, cases {a.cases}, seed {a.seed}")

    def body():
        if shutil.which("redis-cli") is None:
            raise pt.Skip("redis-cli not installed")
        return run(a, work)

    return pt.run_guarded(NAME, work, a.server, body, keep=a.keep, note=f"seed {a.seed}", dump_logs=True)

if __name__ == "__main__":
    sys.exit(main())
