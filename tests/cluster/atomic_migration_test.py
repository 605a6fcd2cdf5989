"""tests/cluster/atomic_migration_test.py - atomic slot migration (Valkey 9's
CLUSTER MIGRATESLOTS) of a slot range under a client load, end to end on
real nodes. Started by atomic_migration_test.sh (under /usr/bin/python3 for
python3-redis):

  atomic_migration_test.py --server BIN [--threads 12] [--rate 100]
                           [--keys 20000] [--rounds 3] [--scale 1] [--dir WORK]
                           [--keep]

Nodes: 4 servers on free loopback ports (port and bus port free), cluster
mode, --enable-debug-command yes, --repl-diskless-sync-delay 0, no
persistence, each in its own directory under WORK (log there). S (source)
and T (target) below are the owners of slots 0 and 5461.

Phases, each asserted before the next:
  1. `redis-cli --cluster create` of nodes 1-3 (--cluster-replicas 0), then
     node 4 MEETs them and replicates node 2 (T): all 4 agree (connected,
     no fail flag, same owner of every slot, cluster_state:ok) and node 4's
     master link is up.
  2. Refused requests: MIGRATESLOTS of a slot S does not own, to S itself,
     to an unknown node id, to a replica, with start > end or a slot past
     16383, without NODE: each an error reply, and no new job in
     CLUSTER GETSLOTMIGRATIONS.
  3. Preload on S: --keys strings `p:<i>` in slots 0-1999; 100 each of
     hashes, lists, sets and sorted sets (small and large encodings), 100
     strings with a 10-minute TTL (their absolute PEXPIRETIME noted) and
     100 with a 3 s TTL, a 1.5 MB string, a 60k-element list and a 60k-field
     hash (each larger than a snapshot batch), all in slots 0-1999, their
     DEBUG DIGEST-VALUEs noted; --keys strings `q:<i>` of 1 KB (random: DUMP's LZF
     does not shrink them) in slots 2000-3999 (phase 6).
  4. Atomic migrations of 0-1999 under the load, --rounds of them (odd):
     S -> T, T -> S, S -> T (the second imports into a node that has just
     deleted its copies, the first and third export to a master with a
     replica). The load: --threads raw clients (below), each owning a
     share of the `p:` keys, write (SET of new keys, 3/4 in slots 0-1999
     and 1/4 in S's slots 4000-5460, which never move, a tenth of them
     with EX 600; SET and DEL of its `p:` keys; INCR of 8 shared counters
     in slots 0-1999; two keys of its own hash tag in slots 0-1999 at once:
     MULTI / SET / INCR / EXEC, whose INCR reply must count exactly the
     transactions applied, or MSET) and read (GET of its keys: the value
     last acknowledged), about --rate operations/s each. Each round: `CLUSTER MIGRATESLOTS SLOTSRANGE 0 1999 NODE <dst>`
     on the source answers +OK; its EXPORT job in GETSLOTMIGRATIONS (polled
     every 20 ms, bounded) reaches success (failed or cancelled: a failure,
     with its message), and so does the target's IMPORT job; their fields
     are checked (operation, slot_ranges, source_node, target_node, times,
     keys = the keys of those slots when it started: a range, as the load
     writes meanwhile); the load acknowledges operations on the new layout
     before the next round. After the last, the load runs 1 s and stops.
  5. Asserted after it:
     - no client ever got -ASK, -TRYAGAIN or -CLUSTERDOWN, or an error
       other than a lost connection; -MOVED only between S and T, for
       slots 0-1999;
       no GET returned anything but the value last acknowledged for its key
       (or one a failed write may have left), no counter reply went down;
     - all 4 nodes agree that T owns 0-1999 (CLUSTER NODES, no open slot)
       and CLUSTER SLOTS of every node gives T's port for them;
     - every key reads back through the cluster with its last acknowledged
       value, with a TTL (PTTL) if and only if that write set one; each
       counter is within [acknowledged INCRs, acknowledged + those whose
       reply was lost]; the hashes, lists, sets, sorted sets read back
       whole, with the same DEBUG DIGEST-VALUE as the big keys; the
       10-minute TTLs keep their PEXPIRETIME (within 1 s: a relative TTL in
       transit may move it a little; printed); the 3 s keys are gone (read
       once their TTL passed);
     - COUNTKEYSINSLOT on S is 0 for all of 0-1999 (polled: the deletion is
       asynchronous), and T's sum over 0-1999 is the number of keys written
       there (a range for the keys whose last write was lost);
     - T's replica (node 4): DBSIZE and DEBUG DIGEST equal to T's (polled),
       PEXPIRETIME of the 10-minute keys equal to T's, to the millisecond;
     - T's configEpoch is the highest of all, and cluster_current_epoch went
       up by exactly one per migration.
  6. Cancel, under a smaller load on the `q:` keys (4 threads, slots
     2000-3999, --keys strings of 1 KB: a snapshot of many batches):
     a. MIGRATESLOTS SLOTSRANGE 2000 3999 NODE <T> and CANCELSLOTMIGRATIONS
        pipelined in one write to S (both +OK);
     b. MIGRATESLOTS of the same range, GETSLOTMIGRATIONS polled back to
        back until S's job is snapshotting with part of the keys sent (a
        failure if it gets past that unseen), then CANCELSLOTMIGRATIONS.
     Each time S's job ends cancelled and T's IMPORT job, if any (there
     must be one in b), cancelled or failed; T and node 4 hold no key in
     2000-3999 (COUNTKEYSINSLOT polled to 0). The load runs 1 s more and
     stops. Asserted: S still owns 2000-3999 in every node's view, no
     epoch moved, no redirection of any kind, S holds the keys written
     there, T and node 4 have the same data; every key of the test, both
     phases, reads back with its last acknowledged value.

The clients are redis.Redis connections, one per node per thread, routed
here by CLUSTER SLOTS (redis-py's RedisCluster follows -ASK and retries
-TRYAGAIN without telling its caller): a -MOVED updates the slot and
re-reads CLUSTER SLOTS (allowed, counted); -ASK is counted and followed
(ASKING), -TRYAGAIN and -CLUSTERDOWN counted and retried, and all three
fail the test. A write whose connection failed is not re-sent: it "may
have been applied" (its value or deletion accepted in later reads; an INCR
widens the counter's range). The load's latency is kept: the longest
operation during the migration on the moving slots and on S's other slots
is printed (the final pause holds only the first).

Cleanup as partition_test.py (run_guarded): every process (nodes,
redis-cli) is stopped on every exit path; nodes get SIGTERM on the normal
path (exit 0 and no sanitizer report asserted), SIGKILL when interrupted
or failed. WORK is removed when everything passed, kept otherwise.
Exit: 0 passed, 1 failed, 77 skipped, 130/143/129 interrupted.
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile
import threading
import time

import re

import redis
from redis.crc import key_slot

import partition_test as pt
import reshard_test as rt
from partition_test import Failure, wait_for

NAME = "atomic_migration_test"
HOST = "127.0.0.1"
NODE_TIMEOUT_MS = 2000  # x scale
MOVE = (0, 1999)         # phase 4's range (S's first slots)
STILL = (4000, 5460)     # S's slots that never move (writes there during the move)
CANCEL = (2000, 3999)    # phase 6's range
COUNTERS = 8
TYPED = 100              # hashes, lists, sets, sorted sets, long TTLs, short TTLs each
SHORT_TTL_MS = 3000      # expires after the migration, before phase 5's reads
DONE_STATES = ("success", "failed", "cancelled")
REDIRECT_RE = re.compile(r"\b(MOVED|ASK|TRYAGAIN|CLUSTERDOWN)\b(.*)")
KEY_TTL_S = 600          # SET ... EX of a tenth of the load's new keys


def log(*args):
    print(f"{NAME}: +{time.monotonic() - pt.T0:5.1f}s", *args, flush=True)


def names_in(prefix, lo, hi, n, start=0):
    """n names prefix<i> (i counting from start) whose slots lie in [lo, hi]."""
    out, i = [], start
    while len(out) < n:
        k = f"{prefix}{i}"
        if lo <= key_slot(k.encode()) <= hi:
            out.append(k)
        i += 1
    return out


def in_range(key, rng):
    return rng[0] <= key_slot(key.encode()) <= rng[1]


def jobs(node):
    """CLUSTER GETSLOTMIGRATIONS as a list of dicts (RESP2: each job a flat field, value array)."""
    out = []
    for j in node.call("CLUSTER", "GETSLOTMIGRATIONS") or []:
        out.append({j[i]: j[i + 1] for i in range(0, len(j) - 1, 2)})
    return out


def job_for(node, op, ranges, since_ms):
    """The newest job of node with this operation and slot_ranges created at since_ms or later."""
    mine = [j for j in jobs(node) if j.get("operation") == op and j.get("slot_ranges") == ranges
            and int(j.get("create_time", 0)) >= since_ms]
    return max(mine, key=lambda j: int(j.get("create_time", 0))) if mine else None


def now_ms():
    return int(time.time() * 1000)


# ---- a cluster client that shows every redirection ----------------------

class Stats:
    """Redirections and errors one client saw; shared totals are summed at the end."""

    def __init__(self):
        self.moved = self.ask = self.tryagain = self.clusterdown = self.conn = 0
        self.bad = []  # what must not happen: (text) -ASK, -TRYAGAIN, odd -MOVED, other errors
        self.moves = []  # (monotonic time, slot, from addr, to addr)


class Router:
    """Routes by CLUSTER SLOTS over one redis.Redis per node; one thread only."""

    def __init__(self, seeds, scale, stats):
        self.seeds, self.scale, self.st = list(seeds), scale, stats
        self.conns = {}
        self.slots = [None] * 16384
        self.refresh()

    def conn(self, addr):
        r = self.conns.get(addr)
        if r is None:
            h, _, p = addr.rpartition(":")
            r = redis.Redis(host=h, port=int(p), socket_timeout=10 * self.scale, socket_connect_timeout=5 * self.scale,
                            decode_responses=True, single_connection_client=True)
            self.conns[addr] = r
        return r

    def refresh(self):
        last = None
        for addr in [a for a in self.conns] + self.seeds:
            try:
                reply = self.conn(addr).execute_command("CLUSTER", "SLOTS")
            except (redis.ConnectionError, redis.TimeoutError) as e:
                last = e
                continue
            for rng in reply:
                a, b, master = int(rng[0]), int(rng[1]), rng[2]
                where = f"{master[0]}:{master[1]}"
                for s in range(a, b + 1):
                    self.slots[s] = where
            return
        raise Failure(f"CLUSTER SLOTS from no node: {last!r}")

    def close(self):
        for r in self.conns.values():
            r.close()
        self.conns = {}

    def call(self, key, *args):
        """One command on key's slot: -MOVED followed (counted), -ASK followed and recorded as bad,
        -TRYAGAIN / -CLUSTERDOWN recorded as bad and retried. Connection errors propagate."""
        slot = key_slot(key.encode())
        for _ in range(50):
            addr = self.slots[slot]
            try:
                return self.conn(addr).execute_command(*args)
            except redis.ResponseError as e:
                msg = str(e)
                kind = msg.split(" ", 1)[0]
                if kind == "MOVED":
                    _, s, to = msg.split()
                    self.st.moved += 1
                    self.st.moves.append((time.monotonic(), int(s), addr, to))
                    self.slots[int(s)] = to
                    self.refresh()
                    self.slots[int(s)] = to  # a stale CLUSTER SLOTS does not win over the redirection
                    continue
                if kind == "ASK":
                    self.st.ask += 1
                    self.st.bad.append(f"-{msg} for {args[0]} {key} (from {addr})")
                    to = msg.split()[2]
                    p = self.conn(to).pipeline(transaction=False)
                    p.execute_command("ASKING")
                    p.execute_command(*args)
                    return p.execute()[1]
                if kind == "TRYAGAIN":
                    self.st.tryagain += 1
                    self.st.bad.append(f"-{msg} for {args[0]} {key} (from {addr})")
                    time.sleep(0.05)
                    continue
                if kind == "CLUSTERDOWN":
                    self.st.clusterdown += 1
                    self.st.bad.append(f"-{msg} for {args[0]} {key} (from {addr})")
                    time.sleep(0.1)
                    continue
                raise
        raise Failure(f"{args[0]} {key}: still redirected after 50 tries")

    def transaction(self, key, cmds):
        """MULTI, cmds (all on key's slot), EXEC: the replies. Redirections as call(): redis-py raises
        the error of a queued command (-MOVED ...) in place of EXEC's -EXECABORT."""
        slot = key_slot(key.encode())
        for _ in range(50):
            addr = self.slots[slot]
            p = self.conn(addr).pipeline(transaction=True)
            for c in cmds:
                p.execute_command(*c)
            try:
                return p.execute()
            except redis.ResponseError as e:
                m = REDIRECT_RE.search(str(e))
                if not m:
                    raise
                kind, rest = m.group(1), m.group(2).split()
                if kind == "MOVED":
                    self.st.moved += 1
                    self.st.moves.append((time.monotonic(), int(rest[0]), addr, rest[1]))
                    self.refresh()
                    self.slots[int(rest[0])] = rest[1]
                    continue
                self.st.bad.append(f"-{kind} {' '.join(rest)} for MULTI on {key} (from {addr})")
                if kind == "ASK":
                    self.st.ask += 1
                    p = self.conn(rest[1]).pipeline(transaction=False)
                    p.execute_command("ASKING")
                    p.execute_command("MULTI")
                    for c in cmds:
                        p.execute_command("ASKING")
                        p.execute_command(*c)
                    p.execute_command("EXEC")
                    return p.execute()[-1]
                if kind == "TRYAGAIN":
                    self.st.tryagain += 1
                else:
                    self.st.clusterdown += 1
                time.sleep(0.05)
        raise Failure(f"MULTI on {key}: still redirected after 50 tries")

    def get_many(self, keys, cmd="GET"):
        """{key: reply of `cmd key`} through the cluster: pipelined per node by the slot map, a key
        redirected asked again alone by call()."""
        by = {}
        for k in keys:
            by.setdefault(self.slots[key_slot(k.encode())], []).append(k)
        out = {}
        for addr, ks in by.items():
            for i in range(0, len(ks), 1000):
                part = ks[i:i + 1000]
                p = self.conn(addr).pipeline(transaction=False)
                for k in part:
                    p.execute_command(cmd, k)
                for k, v in zip(part, p.execute(raise_on_error=False)):
                    out[k] = self.call(k, cmd, k) if isinstance(v, redis.ResponseError) else v
        return out


# ---- the load ------------------------------------------------------------

class Counters:
    """Shared counters: acknowledged INCRs and the ones whose reply was lost, per counter."""

    def __init__(self, names):
        self.names = names
        self.lock = threading.Lock()
        self.acked = {k: 0 for k in names}
        self.maybe = {k: 0 for k in names}


class Worker(threading.Thread):
    """One client thread on its own keys (owned: initial values known) plus the shared counters."""

    def __init__(self, tag, idx, seeds, owned, new_ranges, ctrs, move, rate, scale, stop):
        super().__init__(daemon=True, name=f"worker-{tag}{idx}")
        self.tag, self.idx, self.seeds, self.rate, self.scale, self.stop = tag, idx, seeds, rate, scale, stop
        self.new_ranges, self.ctrs, self.move = new_ranges, ctrs, move
        self.rng = random.Random(hash((tag, idx)) ^ os.getpid())
        self.lock = threading.Lock()
        self.value = dict(owned)  # key -> last acknowledged value (None: deleted)
        self.maybe = {}           # key -> values a failed write may have left (None: a deletion)
        self.keys = list(owned)
        self.next_new = 0
        self.st = Stats()
        self.ops = self.sets = self.dels = self.incrs = self.gets = 0
        self.errors = []
        self.last_incr = {}       # counter -> last reply (must not go down)
        self.lat = {"moving": 0.0, "still": 0.0}  # longest operation meanwhile, per key class
        self.lat_on = False
        self.ttl = {}             # key -> whether its last acknowledged write gave it a TTL
        # Transactions (MULTI / EXEC and EVAL) on a hash tag of its own in its first range: a SET
        # of a new key and an INCR of the tag's counter, both in one slot.
        lo, hi, _ = new_ranges[0]
        n = 0
        while not lo <= key_slot(f"t{tag}{idx}.{n}".encode()) <= hi:
            n += 1
        self.txtag = f"t{tag}{idx}.{n}"
        self.txctr = f"{{{self.txtag}}}:n"
        self.tx_acked = self.tx_maybe = 0
        self.txs = 0

    def fail(self, what):
        with self.lock:
            self.errors.append(what)
        log(f"worker {self.tag}{self.idx}: {what}")

    def new_key(self):
        r = self.rng.random()
        for lo, hi, w in self.new_ranges:
            if r < w:
                break
            r -= w
        while True:
            k = f"w{self.tag}{self.idx}:{self.next_new}"
            self.next_new += 1
            if lo <= key_slot(k.encode()) <= hi:
                return k

    def timed(self, key, *args):
        t = time.monotonic()
        try:
            return self.router.call(key, *args)
        finally:
            if self.lat_on:
                dt = time.monotonic() - t
                cls = "moving" if in_range(key, self.move) else "still"
                if dt > self.lat[cls]:
                    self.lat[cls] = dt

    def write(self, key, val, ex=False):
        """SET key val (EX KEY_TTL_S when ex), or DEL key when val is None."""
        try:
            ok = self.timed(key, "DEL", key) if val is None else \
                self.timed(key, "SET", key, val, "EX", KEY_TTL_S) if ex else self.timed(key, "SET", key, val)
        except (redis.ConnectionError, redis.TimeoutError) as e:
            self.st.conn += 1
            with self.lock:
                self.maybe.setdefault(key, set()).add(val)
                self.ttl[key] = None  # unknown
                if key not in self.value:
                    self.value[key] = None
                    self.keys.append(key)
            log(f"worker {self.tag}{self.idx}: {'SET' if val is not None else 'DEL'} {key}: {e!r} (may be applied)")
            return
        except redis.ResponseError as e:
            self.st.bad.append(f"{'SET' if val is not None else 'DEL'} {key}: -{e}")
            return
        if val is not None and ok is not True:
            self.fail(f"SET {key}: reply {ok!r}")
            return
        with self.lock:
            if key not in self.value:
                self.keys.append(key)
            self.value[key] = val
            self.maybe.pop(key, None)
            self.ttl[key] = ex
            if val is None:
                self.dels += 1
            else:
                self.sets += 1
            self.ops += 1

    def incr(self):
        k = self.rng.choice(self.ctrs.names)
        with self.ctrs.lock:
            self.ctrs.maybe[k] += 1  # maybe applied from the moment it is sent
        try:
            n = self.timed(k, "INCR", k)
        except (redis.ConnectionError, redis.TimeoutError) as e:
            self.st.conn += 1
            log(f"worker {self.tag}{self.idx}: INCR {k}: {e!r} (may be applied)")
            return
        except redis.ResponseError as e:
            self.st.bad.append(f"INCR {k}: -{e}")
            return
        with self.ctrs.lock:
            self.ctrs.maybe[k] -= 1
            self.ctrs.acked[k] += 1
        if n <= self.last_incr.get(k, 0):
            self.fail(f"INCR {k} answered {n}, after {self.last_incr[k]} from this thread")
        self.last_incr[k] = n
        with self.lock:
            self.incrs += 1
            self.ops += 1

    def transact(self, seq):
        """Two keys of the thread's hash tag written together: MULTI, SET of a new key, INCR of the
        tag's counter, EXEC (the counter's reply is exactly the transactions applied so far); or
        MSET of a new key and the tag's `last` key."""
        key = f"{{{self.txtag}}}:x{seq}"
        last = f"{{{self.txtag}}}:last"
        val = f"{self.tag}{self.idx}:{seq}"
        multi = self.rng.random() < 0.5
        what = "MULTI" if multi else "MSET"
        if multi:
            self.tx_maybe += 1
        t = time.monotonic()
        try:
            if multi:
                ok, n = self.router.transaction(key, [("SET", key, val), ("INCR", self.txctr)])
            else:
                ok = self.router.call(key, "MSET", key, val, last, val)
        except (redis.ConnectionError, redis.TimeoutError) as e:
            self.st.conn += 1
            with self.lock:
                for k in (key, last) if not multi else (key,):
                    self.maybe.setdefault(k, set()).add(val)
                    self.ttl[k] = None
                    if k not in self.value:
                        self.value[k] = None
                        self.keys.append(k)
            log(f"worker {self.tag}{self.idx}: {what} on {key}: {e!r} (may be applied)")
            return
        except redis.ResponseError as e:
            self.st.bad.append(f"{what} on {key}: -{e}")
            return
        finally:
            if self.lat_on and in_range(key, self.move):
                self.lat["moving"] = max(self.lat["moving"], time.monotonic() - t)
        if multi:
            self.tx_maybe -= 1
            lo, hi = self.tx_acked + 1, self.tx_acked + 1 + self.tx_maybe
            if ok is not True or not lo <= n <= hi:
                self.fail(f"MULTI on {key}: SET {ok!r}, INCR {self.txctr} {n!r}, expected within [{lo}, {hi}]")
        elif ok is not True:
            self.fail(f"MSET {key} {last}: reply {ok!r}")
        with self.lock:
            if multi:
                self.tx_acked += 1
            for k in (key, last) if not multi else (key,):
                if k not in self.value:
                    self.keys.append(k)
                self.value[k] = val
                self.maybe.pop(k, None)
                self.ttl[k] = False
            self.txs += 1
            self.ops += 1

    def read(self):
        with self.lock:
            k = self.rng.choice(self.keys)
            want, alt = self.value.get(k), set(self.maybe.get(k, ()))
        try:
            got = self.timed(k, "GET", k)
        except (redis.ConnectionError, redis.TimeoutError) as e:
            self.st.conn += 1
            log(f"worker {self.tag}{self.idx}: GET {k}: {e!r}")
            return
        except redis.ResponseError as e:
            self.st.bad.append(f"GET {k}: -{e}")
            return
        if got != want and got not in alt:
            self.fail(f"GET {k}: {got!r}, last acknowledged {want!r}" + (f" (or {sorted(map(str, alt))})"
                                                                         if alt else ""))
        with self.lock:
            self.gets += 1
            self.ops += 1

    def run(self):
        try:
            self.router = Router(self.seeds, self.scale, self.st)
        except Exception as e:  # noqa: BLE001 - reported
            self.fail(f"Router(): {e!r}")
            return
        period = 1.0 / self.rate
        nxt = time.monotonic()
        seq = 0
        try:
            while not self.stop.is_set():
                r = self.rng.random()
                seq += 1
                if r < 0.3:
                    self.write(self.new_key(), f"{self.tag}{self.idx}:{seq}", ex=self.rng.random() < 0.1)
                elif r < 0.36:
                    self.transact(seq)
                elif r < 0.5 and self.value:
                    self.write(self.rng.choice(self.keys), f"{self.tag}{self.idx}:{seq}")
                elif r < 0.55 and self.value:
                    self.write(self.rng.choice(self.keys), None)
                elif r < 0.7:
                    self.incr()
                else:
                    self.read()
                nxt += period
                delay = nxt - time.monotonic()
                if delay > 0:
                    self.stop.wait(delay)
                else:
                    nxt = time.monotonic()  # behind: no burst to catch up
        except Exception as e:  # noqa: BLE001 - a bug of this script, or an unexpected reply: reported
            self.fail(f"worker crashed: {e!r}")
        finally:
            self.router.close()

    def progress(self):
        with self.lock:
            return self.ops


# ---- nodes ---------------------------------------------------------------

class Node(rt.Node):
    """reshard_test's node with DEBUG enabled (DEBUG DIGEST)."""

    extra_args = ("--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0")

    def addr(self):
        return f"{HOST}:{self.port}"

    def count_in(self, lo, hi):
        """COUNTKEYSINSLOT summed over [lo, hi] (one pipeline) and the slots that are not 0."""
        p = self.r.pipeline(transaction=False)
        for s in range(lo, hi + 1):
            p.execute_command("CLUSTER", "COUNTKEYSINSLOT", s)
        counts = p.execute()
        return sum(counts), [lo + i for i, c in enumerate(counts) if c]

    def epochs(self):
        info = dict(line.split(":", 1) for line in self.call("CLUSTER", "INFO").splitlines() if ":" in line)
        return int(info["cluster_current_epoch"]), int(info["cluster_my_epoch"])


# ---- the run -------------------------------------------------------------

class Run:
    def __init__(self, a, binary, work):
        self.a, self.binary, self.work, self.scale = a, binary, work, a.scale
        self.nodes = [Node(i + 1, binary, work, a.scale) for i in range(4)]
        self.cli = rt.Cli(work, a.scale)
        self.workers = []
        self.all_workers = []
        self.expect = {}     # key -> value (None: must not exist), keys of no worker
        self.figures = []

    def name(self, nid):
        n = next((n for n in self.nodes if n.id == nid), None)
        return str(n) if n else nid[:8]

    # -- phase 1 --

    def create(self):
        taken = set()
        for n in self.nodes:
            n.start(taken)
        n1, n2, n3, n4 = self.nodes
        log(f"4 nodes on ports {', '.join(str(n.port) for n in self.nodes)}")
        _, out = self.cli.run("phase 1: create", 60, "--cluster", "create", n1.addr(), n2.addr(), n3.addr(),
                              "--cluster-replicas", "0", "--cluster-yes")
        if "[OK] All 16384 slots covered" not in out:
            raise Failure(f"phase 1: create: no '[OK] All 16384 slots covered':\n{out}")
        n4.call("CLUSTER", "MEET", HOST, n1.port)
        wait_for(f"phase 1: {n4} learns {n2}", 20 * self.scale,
                 lambda: (n2.id in n4.view(), f"{n4} knows {len(n4.view())} nodes"), 0.05)
        n4.call("CLUSTER", "REPLICATE", n2.id)

        def ready():
            ok, own = rt.agreed(self.nodes)
            if not ok:
                return ok, own
            v = n1.view()
            if v[n4.id]["master"] != n2.id:
                return False, f"{n4} is not {n2}'s replica in {n1}'s view"
            link = n4.r.info("replication").get("master_link_status")
            return link == "up", own if link == "up" else f"{n4}: master_link_status {link}"
        own = wait_for("phase 1: 4 nodes agree, node 4 replicates node 2", 30 * self.scale, ready, 0.05)
        self.S, self.T = (next(n for n in self.nodes if n.id == own[s]) for s in (0, 5461))
        if self.S is not n1 or self.T is not n2 or any(own[s] != n1.id for s in range(MOVE[0], STILL[1] + 1)):
            raise Failure(f"phase 1: unexpected layout: slot 0 {self.name(own[0])}, slot 5461 "
                          f"{self.name(own[5461])}")
        log(f"phase 1: 3 masters, {n4} replicates {n2}; source S = {self.S}, target T = {self.T}")

    # -- phase 2 --

    def refused(self):
        S, T = self.S, self.T
        n3, n4 = self.nodes[2], self.nodes[3]
        before = len(jobs(S))
        cases = [
            ("a slot S does not own", ["SLOTSRANGE", "6000", "6000", "NODE", T.id]),
            ("S itself as target", ["SLOTSRANGE", "0", "10", "NODE", S.id]),
            ("an unknown node id", ["SLOTSRANGE", "0", "10", "NODE", "f" * 40]),
            ("a replica as target", ["SLOTSRANGE", "0", "10", "NODE", n4.id]),
            ("start > end", ["SLOTSRANGE", "10", "0", "NODE", T.id]),
            ("a slot past 16383", ["SLOTSRANGE", "16383", "16384", "NODE", T.id]),
            ("no NODE", ["SLOTSRANGE", "0", "10"]),
            ("a range twice", ["SLOTSRANGE", "0", "10", "5", "20", "NODE", T.id]),
        ]
        seen = []
        for what, args in cases:
            try:
                reply = S.call("CLUSTER", "MIGRATESLOTS", *args)
            except redis.ResponseError as e:
                if "unknown subcommand" in str(e).lower():
                    raise Failure(f"phase 2: CLUSTER MIGRATESLOTS not known to {S}: -{e}")
                seen.append(f"{what}: -{e}")
                continue
            raise Failure(f"phase 2: MIGRATESLOTS {' '.join(args)} ({what}) answered {reply!r}, an error expected")
        after = len(jobs(S))
        if after != before:
            raise Failure(f"phase 2: refused requests left {after - before} jobs: {jobs(S)}")
        if jobs(n3):
            raise Failure(f"phase 2: {n3} lists jobs: {jobs(n3)}")
        log(f"phase 2: {len(cases)} invalid MIGRATESLOTS refused: " + "; ".join(seen))

    # -- phase 3 --

    def preload(self):
        S = self.S
        self.p_keys = names_in("p:", *MOVE, self.a.keys)
        self.pre = {k: f"{k}:" + "v" * 60 for k in self.p_keys}
        pipe = S.r.pipeline(transaction=False)
        for i, (k, v) in enumerate(self.pre.items()):
            pipe.execute_command("SET", k, v)
            if i % 2000 == 1999:
                pipe.execute()
        self.hashes = names_in("h:", *MOVE, TYPED)
        self.lists = names_in("l:", *MOVE, TYPED)
        self.sets = names_in("s:", *MOVE, TYPED)
        self.zsets = names_in("z:", *MOVE, TYPED)
        self.ttl_long = names_in("tl:", *MOVE, TYPED)
        self.ttl_short = names_in("ts:", *MOVE, TYPED)
        for i, k in enumerate(self.hashes):
            # Small ones (listpack) and some past 128 fields (hashtable).
            n = 5 if i % 4 else 200
            pipe.execute_command("HSET", k, *[x for j in range(n) for x in (f"f{j}", f"{k}:{j}")])
        for i, k in enumerate(self.lists):
            n = 5 if i % 4 else 300
            pipe.execute_command("RPUSH", k, *[f"{k}:{j}" for j in range(n)])
        for i, k in enumerate(self.sets):
            n = 5 if i % 4 else 300
            if i % 2:
                pipe.execute_command("SADD", k, *[str(j * 7) for j in range(n)])  # intset
            else:
                pipe.execute_command("SADD", k, *[f"{k}:{j}" for j in range(n)])
        for i, k in enumerate(self.zsets):
            n = 5 if i % 4 else 200
            pipe.execute_command("ZADD", k, *[x for j in range(n) for x in (j * 1.5, f"m{j}")])
        # Keys larger than a snapshot batch (1 MB): a string, a list, a hash.
        self.big = [names_in(f"{t}:", *MOVE, 1)[0] for t in ("bigs", "bigl", "bigh")]
        rnd = random.Random(11)
        pipe.execute_command("SET", self.big[0], rnd.getrandbits(8 * 1500000).to_bytes(1500000, "little"))
        for c in range(0, 60000, 5000):
            pipe.execute_command("RPUSH", self.big[1], *[f"e{j}" for j in range(c, c + 5000)])
            pipe.execute_command("HSET", self.big[2], *[x for j in range(c, c + 5000) for x in (f"f{j}", f"v{j}")])
        for k in self.ttl_long:
            pipe.execute_command("SET", k, k, "PX", 600000)
        for k in self.ttl_short:
            pipe.execute_command("SET", k, k, "PX", SHORT_TTL_MS)
        self.q_keys = names_in("q:", *CANCEL, self.a.keys)
        # 1 KB that LZF does not shrink (DUMP payloads are compressed): many snapshot batches.
        rnd = random.Random(7)
        self.q_pre = {k: f"{k}:" + rnd.getrandbits(4000).to_bytes(500, "little").hex() for k in self.q_keys}
        for i, (k, v) in enumerate(self.q_pre.items()):
            pipe.execute_command("SET", k, v)
            if i % 2000 == 1999:
                pipe.execute()
        pipe.execute()
        p = S.r.pipeline(transaction=False)
        for k in self.ttl_long:
            p.execute_command("PEXPIRETIME", k)
        self.expire_at = dict(zip(self.ttl_long, p.execute()))
        self.ctr_move = names_in("ctr:", *MOVE, COUNTERS)
        self.ctr_cancel = names_in("ctrq:", *CANCEL, 4)
        n, _ = S.count_in(*MOVE)
        want = len(self.p_keys) + 6 * TYPED + len(self.big)
        if n != want:
            raise Failure(f"phase 3: {S} holds {n} keys in slots {MOVE[0]}-{MOVE[1]}, {want} written")
        self.t_preloaded = time.monotonic()
        # Redis's DEBUG DIGEST-VALUE of every typed key, compared after the moves.
        self.digest_keys = self.hashes + self.lists + self.sets + self.zsets + self.ttl_long + self.big
        p = S.r.pipeline(transaction=False)
        for k in self.digest_keys:
            p.execute_command("DEBUG", "DIGEST-VALUE", k)
        self.digests = dict(zip(self.digest_keys, p.execute()))
        log(f"phase 3: {n} keys in slots {MOVE[0]}-{MOVE[1]} ({len(self.p_keys)} strings, {TYPED} each of hashes, "
            f"lists, sets, sorted sets, 10-min TTL and 3 s TTL strings), {len(self.q_keys)} of 1 KB in "
            f"{CANCEL[0]}-{CANCEL[1]}")

    # -- the load --

    def start_load(self, tag, threads, owned_keys, owned_vals, new_ranges, ctr_names, move, rate):
        self.stop_load = threading.Event()
        ctrs = Counters(ctr_names)
        seeds = [n.addr() for n in self.nodes[:3]]
        self.workers = []
        for i in range(threads):
            owned = {k: owned_vals[k] for k in owned_keys[i::threads]}
            self.workers.append(Worker(tag, i, seeds, owned, new_ranges, ctrs, move, rate, self.scale,
                                       self.stop_load))
        self.all_workers += self.workers
        self.ctrs = getattr(self, "ctrs_all", []) + [ctrs]
        self.ctrs_all = self.ctrs
        for w in self.workers:
            w.start()
        wait_for(f"load {tag}: every worker acknowledges operations", 20 * self.scale,
                 lambda: (all(w.progress() >= 3 or w.errors or not w.is_alive() for w in self.workers),
                          f"{sum(w.progress() >= 3 for w in self.workers)} of {threads}"), 0.05)
        self.check_errors(f"load {tag}")

    def load_ops(self):
        return sum(w.progress() for w in self.workers)

    def stop_and_join(self):
        self.stop_load.set()
        for w in self.workers:
            w.join(20 * self.scale)
        stuck = [w.name for w in self.workers if w.is_alive()]
        if stuck:
            raise Failure(f"workers {stuck} did not stop within {20 * self.scale} s")

    def check_errors(self, label):
        errs = [f"{w.name}: {e}" for w in self.workers for e in w.errors]
        bad = [f"{w.name}: {e}" for w in self.workers for e in w.st.bad]
        if errs or bad:
            raise Failure(f"{label}: {len(errs)} wrong replies, {len(bad)} forbidden redirections / errors; "
                          f"first: {(errs + bad)[:8]}")

    def redirect_totals(self, workers):
        return {k: sum(getattr(w.st, k) for w in workers) for k in ("moved", "ask", "tryagain", "clusterdown",
                                                                       "conn")}

    # -- phase 4 --

    def wait_job(self, label, node, op, ranges, since, bound, states):
        """Poll node's job until it reaches a final state; every state seen, with the time it was seen."""
        t0 = time.monotonic()
        seen = []
        last = {}

        def done():
            j = job_for(node, op, ranges, since)
            if j is None:
                return False, f"no {op} job for {ranges} on {node}: {jobs(node)}"
            last.update(j)
            if not seen or seen[-1][0] != j.get("state"):
                seen.append((j.get("state"), time.monotonic() - t0))
            return j.get("state") in DONE_STATES, j
        j = wait_for(f"{label}: {node}'s {op} job done", bound * self.scale, done, 0.02)
        if j.get("state") not in states:
            raise Failure(f"{label}: {node}'s {op} job ended {j.get('state')}: message {j.get('message')!r}; "
                          f"job {j}; states seen {seen}")
        return j, seen

    def migrate_once(self, rnd, src, dst):
        """One MIGRATESLOTS of MOVE from src to dst under the load; its figures."""
        label = f"phase 4 round {rnd + 1}"
        before_keys, _ = src.count_in(*MOVE)
        for w in self.workers:
            w.lat_on = True
        ops0 = self.load_ops()
        ranges = f"{MOVE[0]}-{MOVE[1]}"
        since = now_ms() - 1000
        t0 = time.monotonic()
        reply = src.call("CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", MOVE[0], MOVE[1], "NODE", dst.id)
        if reply not in ("OK", True):
            raise Failure(f"{label}: MIGRATESLOTS answered {reply!r}")
        job, seen = self.wait_job(label, src, "EXPORT", ranges, since, 30, ("success",))
        took = time.monotonic() - t0
        tjob, _ = self.wait_job(label, dst, "IMPORT", ranges, since, 10, ("success",))
        ops_during = self.load_ops() - ops0
        for w in self.workers:
            w.lat_on = False
        # The job's fields.
        problems = []
        for who, j, op in (("source", job, "EXPORT"), ("target", tjob, "IMPORT")):
            want = {"operation": op, "slot_ranges": ranges, "source_node": src.id, "target_node": dst.id,
                    "state": "success"}
            for f, v in want.items():
                if j.get(f) != v:
                    problems.append(f"the {who}'s job: {f} {j.get(f)!r}, expected {v!r}")
            for f in ("name", "create_time", "last_update_time", "message", "keys"):
                if f not in j:
                    problems.append(f"the {who}'s job has no field {f}: {j}")
            if "create_time" in j and "last_update_time" in j and \
                    not since <= int(j["create_time"]) <= int(j["last_update_time"]) <= now_ms() + 1000:
                problems.append(f"the {who}'s job: create_time {j['create_time']}, last_update_time "
                                f"{j['last_update_time']}")
        if job.get("name") != tjob.get("name"):
            log(f"{label}: note: the job is named {job.get('name')!r} on the source, {tjob.get('name')!r} on "
                f"the target")
        # keys: what the snapshot sent: the keys there when it started (the load adds some meanwhile).
        keys = int(job.get("keys", -1))
        if not before_keys - 200 <= keys <= before_keys + 500 + 30 * len(self.workers) * took:
            problems.append(f"the source's job says keys {keys}; {before_keys} keys in the slots just before "
                            f"it started")
        if problems:
            raise Failure(f"{label}: " + "; ".join(problems))
        # The load on the new layout a while before anything else moves.
        wait_for(f"{label}: the load acknowledges operations after the move", 10 * self.scale,
                 lambda: (self.load_ops() > ops0 + ops_during + 2 * len(self.workers), self.load_ops()), 0.05)
        lat = {c: max(w.lat[c] for w in self.workers) for c in ("moving", "still")}
        for w in self.workers:
            w.lat = {"moving": 0.0, "still": 0.0}
        states = " -> ".join(f"{st} ({t:.2f} s)" for st, t in seen)
        log(f"{label}: MIGRATESLOTS {ranges} {src} -> {dst}: success after {took:.2f} s ({keys} keys in the "
            f"snapshot, {keys / took:.0f} keys/s); states seen: {states}; {ops_during} client operations "
            f"acknowledged meanwhile; longest operation meanwhile: {lat['moving'] * 1000:.0f} ms on the moving "
            f"slots, {lat['still'] * 1000:.0f} ms on S's other slots")
        return dict(took=took, keys=keys, ops=ops_during, lat=lat)

    def migrate(self):
        """--rounds migrations of MOVE under one load: S -> T, T -> S, ... ending on T."""
        S, T = self.S, self.T
        ep0 = {n.idx: n.epochs() for n in self.nodes}
        self.start_load("m", self.a.threads, self.p_keys, self.pre, [(*MOVE, 0.75), (*STILL, 0.25)],
                        self.ctr_move, MOVE, self.a.rate)
        wait_for("phase 4: the load runs", 10 * self.scale, lambda: (self.load_ops() >= 10 * len(self.workers),
                                                                    self.load_ops()), 0.05)
        self.figs = []
        if time.monotonic() > self.t_preloaded + SHORT_TTL_MS / 1000:
            log(f"phase 4: note: the {SHORT_TTL_MS} ms TTLs expired before the first migration")
        for rnd in range(self.a.rounds):
            src, dst = (S, T) if rnd % 2 == 0 else (T, S)
            self.figs.append(self.migrate_once(rnd, src, dst))
            self.check_errors(f"phase 4 round {rnd + 1}")
        time.sleep(1)  # the load on the final layout a while (writes to T, its replica following)
        self.stop_and_join()
        red = self.redirect_totals(self.workers)
        log(f"phase 4: {self.a.rounds} migrations; redirections: {red['moved']} MOVED, {red['ask']} ASK, "
            f"{red['tryagain']} TRYAGAIN, {red['clusterdown']} CLUSTERDOWN; {red['conn']} connection errors")
        self.check_errors("phase 4")
        return ep0

    # -- phase 5 --

    def collect(self, workers, ctr_list):
        """Every key's expected value and alternatives, from the workers and the static keys;
        the counters' ranges (the shared ones and each worker's transaction counter)."""
        want, alts, ctr = dict(self.expect), {}, {}
        self.ttl_want = {}
        for w in workers:
            with w.lock:
                for k, v in w.value.items():
                    want[k] = v
                for k, s in w.maybe.items():
                    alts[k] = set(s)
                self.ttl_want.update(w.ttl)
                ctr[w.txctr] = (w.tx_acked, w.tx_acked + w.tx_maybe)
        for c in ctr_list:
            with c.lock:
                for k in c.names:
                    ctr[k] = (c.acked[k], c.acked[k] + c.maybe[k])
        return want, alts, ctr

    def verify_values(self, label, want, alts, ctr):
        """Every key through the cluster (a fresh client): its last acknowledged value."""
        st = Stats()
        r = Router([n.addr() for n in self.nodes[:3]], self.scale, st)
        problems = []
        try:
            got = r.get_many(list(want) + list(ctr))
            wrong = [f"{k}: {got[k]!r}, last acknowledged {v!r}" + (f" (or {sorted(map(str, alts[k]))})"
                                                                    if k in alts else "")
                     for k, v in want.items() if got[k] != v and got[k] not in alts.get(k, ())]
            for k, (lo, hi) in ctr.items():
                n = int(got[k] or 0)
                if not lo <= n <= hi:
                    wrong.append(f"counter {k}: {n}, acknowledged INCRs {lo}, at most {hi}")
            if wrong:
                problems.append(f"{label}: {len(wrong)} of {len(want) + len(ctr)} keys wrong, first: {wrong[:8]}")
            # The load's TTLs: EX KEY_TTL_S kept (a TTL lost or added in the move would show here).
            sure = [k for k, v in want.items() if v is not None and k not in alts and
                    self.ttl_want.get(k) is not None]
            pttl = r.get_many(sure, "PTTL")
            wrong = [f"{k}: PTTL {pttl[k]}, " + ("set with EX" if self.ttl_want[k] else "set without a TTL")
                     for k in sure if not (0 < pttl[k] <= KEY_TTL_S * 1000 if self.ttl_want[k] else pttl[k] == -1)]
            if wrong:
                problems.append(f"{label}: {len(wrong)} of {len(sure)} TTLs wrong, first: {wrong[:8]}")
            if st.bad or st.moved:
                problems.append(f"{label}: the reading client was redirected: {st.moved} MOVED, {st.bad[:5]}")
        finally:
            r.close()
        return problems, len(want) + len(ctr)

    def count_range(self, want, alts, ctr, rng):
        """(sure, possible) number of keys in rng: present for sure, and the upper bound."""
        lo = hi = 0
        for k, v in want.items():
            if not in_range(k, rng):
                continue
            vals = {v} | alts.get(k, set())
            present = [x is not None for x in vals]
            lo += all(present)
            hi += any(present)
        for k, (a, b) in ctr.items():
            if in_range(k, rng):
                lo += a > 0
                hi += b > 0
        return lo, hi

    def verify_types(self, label, r):
        """The hashes, lists, sets, sorted sets and TTLs preloaded, read through the cluster; DEBUG
        DIGEST-VALUE of each, and of the big keys, as before the moves."""
        problems = []
        for k in self.digest_keys:
            d = r.call(k, "DEBUG", "DIGEST-VALUE", k)
            if d != self.digests[k]:
                problems.append(f"{label}: DEBUG DIGEST-VALUE {k}: {d}, before the moves {self.digests[k]}")
        for i, k in enumerate(self.hashes):
            n = 5 if i % 4 else 200
            if dict(r.call(k, "HGETALL", k)) != {f"f{j}": f"{k}:{j}" for j in range(n)}:  # (redis-py: a dict)
                problems.append(f"{label}: hash {k} differs: HLEN {r.call(k, 'HLEN', k)}")
        for i, k in enumerate(self.lists):
            n = 5 if i % 4 else 300
            if r.call(k, "LRANGE", k, 0, -1) != [f"{k}:{j}" for j in range(n)]:
                problems.append(f"{label}: list {k} differs: LLEN {r.call(k, 'LLEN', k)}")
        for i, k in enumerate(self.sets):
            n = 5 if i % 4 else 300
            want = {str(j * 7) for j in range(n)} if i % 2 else {f"{k}:{j}" for j in range(n)}
            if set(r.call(k, "SMEMBERS", k)) != want:
                problems.append(f"{label}: set {k} differs: SCARD {r.call(k, 'SCARD', k)}")
        for i, k in enumerate(self.zsets):
            n = 5 if i % 4 else 200
            got = r.call(k, "ZRANGE", k, 0, -1, "WITHSCORES")
            if [(got[j], float(got[j + 1])) for j in range(0, len(got), 2)] != [(f"m{j}", j * 1.5) for j in range(n)]:
                problems.append(f"{label}: sorted set {k} differs: ZCARD {r.call(k, 'ZCARD', k)}")
        self.expire_now, drift = {}, 0
        for k in self.ttl_long:
            at = self.expire_now[k] = r.call(k, "PEXPIRETIME", k)
            if r.call(k, "GET", k) != k or not isinstance(at, int) or abs(at - self.expire_at[k]) > 1000:
                problems.append(f"{label}: {k}: PEXPIRETIME {at}, {self.expire_at[k]} before the move")
            elif abs(at - self.expire_at[k]) > abs(drift):
                drift = at - self.expire_at[k]
        if drift:
            # A relative TTL in transit (RESTORE's, as MIGRATE's in Redis) moves it by a few ms.
            log(f"{label}: note: PEXPIRETIME moved by up to {drift} ms in the migration")
        for k in self.ttl_short:
            if r.call(k, "GET", k) is not None:
                problems.append(f"{label}: {k} (3 s TTL, set {time.monotonic() - self.t_preloaded:.1f} s ago) "
                                f"still reads {r.call(k, 'GET', k)!r}, PTTL {r.call(k, 'PTTL', k)}")
        if len(problems) > 8:
            problems = problems[:8] + [f"{label}: ... {len(problems) - 8} more typed keys wrong"]
        return problems

    def replica_same(self, label, master, replica, bound):
        """Poll until replica's DBSIZE and DEBUG DIGEST equal master's; then PEXPIRETIME of the long TTLs."""
        def same():
            a, b = master.r.dbsize(), replica.r.dbsize()
            if a != b:
                return False, f"DBSIZE {master} {a}, {replica} {b}"
            da, db = master.call("DEBUG", "DIGEST"), replica.call("DEBUG", "DIGEST")
            return da == db, f"DEBUG DIGEST {master} {da}, {replica} {db} (DBSIZE {a})"
        return wait_for(f"{label}: {replica} same data as {master}", bound * self.scale, same, 0.1)

    def after_move(self, ep0):
        S, T = self.S, self.T
        n4 = self.nodes[3]
        problems = []
        # Redirections seen by the load: MOVED only for the moving slots, from S to T or back.
        odd = [(s, a, b) for w in self.workers for (_, s, a, b) in w.st.moves
               if not (MOVE[0] <= s <= MOVE[1] and {a, b} == {S.addr(), T.addr()})]
        if odd:
            problems.append(f"phase 5: MOVED other than for slots {MOVE[0]}-{MOVE[1]} between {S} and {T}: "
                            f"{odd[:5]}")
        # Ownership in every view.
        own = wait_for("phase 5: every node agrees", 10 * self.scale, lambda: rt.agreed(self.nodes), 0.05)
        bad = [s for s in range(MOVE[0], MOVE[1] + 1) if own[s] != T.id]
        if bad:
            problems.append(f"phase 5: {len(bad)} slots of {MOVE[0]}-{MOVE[1]} not owned by {T}: e.g. {bad[:5]}")
        for n in self.nodes:
            for rng in n.call("CLUSTER", "SLOTS"):
                a, b, m = int(rng[0]), int(rng[1]), rng[2]
                if a <= MOVE[1] and b >= MOVE[0] and int(m[1]) != T.port:
                    problems.append(f"phase 5: CLUSTER SLOTS of {n}: {a}-{b} on port {m[1]}")
                if a <= MOVE[1] and b >= MOVE[0] and not any(int(x[1]) == n4.port for x in rng[3:]):
                    problems.append(f"phase 5: CLUSTER SLOTS of {n}: {a}-{b} without {n4} as replica")
        # Epochs: T's configEpoch the highest, one bump of the current epoch.
        v = pt.parse_nodes(S.call("CLUSTER", "NODES"))
        masters = {i: e for i, e in v.items() if "master" in e["flags"]}
        top = max(e["epoch"] for i, e in masters.items() if i != T.id)
        if not v[T.id]["epoch"] > top:
            problems.append(f"phase 5: {T}'s configEpoch {v[T.id]['epoch']}, another master has {top}")
        cur0 = max(c for c, _ in ep0.values())
        cur = wait_for("phase 5: every node's current epoch", 10 * self.scale,
                       lambda: (len(set(n.epochs()[0] for n in self.nodes)) == 1,
                                {n.idx: n.epochs()[0] for n in self.nodes}), 0.05)
        cur = max(cur.values())
        if cur != cur0 + self.a.rounds:
            problems.append(f"phase 5: cluster_current_epoch {cur0} -> {cur}, one bump per migration "
                            f"({self.a.rounds}) expected")
        if v[T.id]["epoch"] != cur:
            problems.append(f"phase 5: {T}'s configEpoch {v[T.id]['epoch']}, current epoch {cur}")
        # Values through the cluster, once the short TTLs have passed.
        delay = self.t_preloaded + SHORT_TTL_MS / 1000 + 0.05 - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        want, alts, ctr = self.collect(self.workers, self.ctrs)
        for k in self.ttl_short:
            want[k] = None
        p, nkeys = self.verify_values("phase 5", want, alts, ctr)
        problems += p
        st = Stats()
        r = Router([n.addr() for n in self.nodes[:3]], self.scale, st)
        try:
            problems += self.verify_types("phase 5", r)
        finally:
            r.close()
        # S deletes its copies (asynchronously).
        t0 = time.monotonic()
        try:
            wait_for(f"phase 5: {S} holds no key in {MOVE[0]}-{MOVE[1]}", 10 * self.scale,
                     lambda: (lambda c: (c[0] == 0, f"{c[0]} keys left in {len(c[1])} slots, e.g. {c[1][:5]}"))(
                         S.count_in(*MOVE)), 0.05)
        except Failure as e:
            problems.append(str(e))
        gone = time.monotonic() - t0
        # T holds exactly the keys written there: the load's, the hashes, lists, sets, sorted sets
        # and 10-minute TTLs, and maybe 3 s TTLs expired but not reclaimed yet.
        lo, hi = self.count_range(want, alts, ctr, MOVE)
        lo, hi = lo + 5 * TYPED + len(self.big), hi + 6 * TYPED + len(self.big)
        n, _ = T.count_in(*MOVE)
        if not lo <= n <= hi:
            problems.append(f"phase 5: {T} holds {n} keys in {MOVE[0]}-{MOVE[1]}, {lo} written (up to {hi} "
                            f"counting uncertain writes and expired keys not reclaimed yet)")
        # The replica.
        try:
            self.replica_same("phase 5", T, n4, 15)
            rr = redis.Redis(host=HOST, port=n4.port, decode_responses=True, socket_timeout=10 * self.scale)
            try:
                p = rr.pipeline(transaction=False)
                p.execute_command("READONLY")  # (on the pipeline's connection)
                for k in self.ttl_long:
                    p.execute_command("PEXPIRETIME", k)
                diff = [(k, a, self.expire_now.get(k)) for k, a in zip(self.ttl_long, p.execute()[1:])
                        if a != self.expire_now.get(k)]
                if diff:
                    problems.append(f"phase 5: PEXPIRETIME on {n4} differs from {T}'s for {len(diff)} keys, e.g. "
                                    f"{diff[:3]}")
            finally:
                rr.close()
        except Failure as e:
            problems.append(str(e))
        log(f"phase 5: {nkeys} keys and counters read back; {S} emptied the slots {gone:.2f} s after success; "
            f"{T} holds {n} keys there; {n4} has T's DBSIZE ({T.r.dbsize()}) and DEBUG DIGEST; "
            f"{T}'s configEpoch {v[T.id]['epoch']}, current epoch {cur0} -> {cur}")
        return problems

    # -- phase 6 --

    def cancel_at_once(self, ranges):
        """MIGRATESLOTS and CANCELSLOTMIGRATIONS in one write: the job ends cancelled."""
        S = self.S
        since = now_ms() - 1000
        p = S.r.pipeline(transaction=False)
        p.execute_command("CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", CANCEL[0], CANCEL[1], "NODE", self.T.id)
        p.execute_command("CLUSTER", "CANCELSLOTMIGRATIONS")
        r1, r2 = p.execute(raise_on_error=False)
        if r1 not in ("OK", True) or r2 not in ("OK", True):
            raise Failure(f"phase 6a: MIGRATESLOTS then CANCELSLOTMIGRATIONS answered {r1!r}, {r2!r}")
        return since, "phase 6a", "at once"

    def cancel_mid_way(self, ranges):
        """MIGRATESLOTS, GETSLOTMIGRATIONS polled back to back until the snapshot has sent some keys but
        not all (the range holds --keys values of 1 KB: many batches), then CANCELSLOTMIGRATIONS: the
        target has imported a part, which it must drop."""
        S = self.S
        total, _ = S.count_in(*CANCEL)
        since = now_ms() - 1000
        reply = S.call("CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", CANCEL[0], CANCEL[1], "NODE", self.T.id)
        if reply not in ("OK", True):
            raise Failure(f"phase 6b: MIGRATESLOTS answered {reply!r}")
        deadline = time.monotonic() + 10 * self.scale
        while True:
            j = job_for(S, "EXPORT", ranges, since) or {}
            st, keys = j.get("state"), int(j.get("keys", 0))
            if st == "snapshotting" and 0 < keys < 0.9 * total:
                break
            if st not in (None, "connecting", "snapshotting"):
                raise Failure(f"phase 6b: the job went {st} (keys {keys} of {total}) before it was seen "
                              f"snapshotting with part of the keys sent: cannot cancel it mid-way")
            if time.monotonic() > deadline:
                raise Failure(f"phase 6b: the job still {st} after {10 * self.scale} s: {j}")
        reply = S.call("CLUSTER", "CANCELSLOTMIGRATIONS")
        if reply not in ("OK", True):
            raise Failure(f"phase 6b: CANCELSLOTMIGRATIONS answered {reply!r}")
        return since, "phase 6b", f"mid-way (snapshot at {keys} of {total} keys)"

    def cancel(self):
        """Phase 6: two migrations of CANCEL cancelled, one at once, one mid-way, under a small load."""
        S, T = self.S, self.T
        n4 = self.nodes[3]
        ep0 = {n.idx: n.epochs() for n in self.nodes}
        own0 = rt.owners(S.view())
        self.start_load("c", 4, self.q_keys, self.q_pre, [(*CANCEL, 1.0)], self.ctr_cancel, CANCEL, self.a.rate)
        ranges = f"{CANCEL[0]}-{CANCEL[1]}"
        problems = []
        for how in (self.cancel_at_once, self.cancel_mid_way):
            t0 = time.monotonic()
            since, label, what = how(ranges)
            job, seen = self.wait_job(label, S, "EXPORT", ranges, since, 10, ("cancelled",))
            took = time.monotonic() - t0
            tj = job_for(T, "IMPORT", ranges, since)
            if tj is not None:
                tj, _ = self.wait_job(label, T, "IMPORT", ranges, since, 10, ("cancelled", "failed"))
            elif how == self.cancel_mid_way:
                problems.append(f"{label}: {T} lists no IMPORT job for {ranges} though the snapshot was sent")
            for n in (T, n4):
                try:
                    wait_for(f"{label}: {n} holds no key in {ranges}", 10 * self.scale,
                             lambda n=n: (lambda c: (c[0] == 0, f"{c[0]} keys in {len(c[1])} slots, e.g. "
                                                     f"{c[1][:5]}"))(n.count_in(*CANCEL)), 0.05)
                except Failure as e:
                    problems.append(str(e))
            log(f"{label}: MIGRATESLOTS {ranges} cancelled {what}: job {job.get('state')} after {took:.2f} s "
                f"(states seen: {', '.join(st for st, _ in seen)}; message {job.get('message')!r}; keys "
                f"{job.get('keys')}); T's IMPORT job: "
                f"{tj.get('state') + ' ' + repr(tj.get('message')) if tj else 'none'}; T and {n4} hold no key there")
        time.sleep(1)  # the load a while after the cancels
        self.stop_and_join()
        self.check_errors("phase 6")
        red = self.redirect_totals(self.workers)
        if red["moved"]:
            problems.append(f"phase 6: the load got {red['moved']} MOVED though no slot moved")
        own = wait_for("phase 6: every node agrees", 10 * self.scale, lambda: rt.agreed(self.nodes), 0.05)
        if own != own0:
            diff = [s for s in range(16384) if own[s] != own0[s]]
            problems.append(f"phase 6: {len(diff)} slots changed owner, e.g. {diff[:5]} -> "
                            f"{self.name(own[diff[0]])}")
        ep1 = {n.idx: n.epochs() for n in self.nodes}
        if ep1 != ep0:
            problems.append(f"phase 6: epochs (current, mine) moved: {ep0} -> {ep1}")
        want, alts, ctr = self.collect(self.workers, self.ctrs[-1:])
        lo, hi = self.count_range(want, alts, ctr, CANCEL)
        n, _ = S.count_in(*CANCEL)
        if not lo <= n <= hi:
            problems.append(f"phase 6: {S} holds {n} keys in {ranges}, {lo} written"
                            + (f" (up to {hi})" if hi > lo else ""))
        try:
            self.replica_same("phase 6", T, n4, 15)
        except Failure as e:
            problems.append(str(e))
        log(f"phase 6: {S} still owns {ranges} with its {n} keys, no epoch moved; {red['conn']} connection errors")
        return problems

    def final(self):
        want, alts, ctr = self.collect(self.all_workers, self.ctrs_all)
        for k in self.ttl_short:
            want[k] = None
        problems, n = self.verify_values("final", want, alts, ctr)
        log(f"final: {n} keys and counters of both phases read back")
        return problems

    def summary(self, t_start):
        ws = self.all_workers
        red = self.redirect_totals(ws)
        log(f"summary: {sum(w.sets for w in ws)} SETs, {sum(w.dels for w in ws)} DELs, {sum(w.incrs for w in ws)} "
            f"INCRs, {sum(w.txs for w in ws)} MULTI/EXEC or MSET, {sum(w.gets for w in ws)} GETs verified by "
            f"{len(ws)} client threads; redirections seen: "
            f"{red['moved']} MOVED, {red['ask']} ASK, {red['tryagain']} TRYAGAIN, {red['clusterdown']} CLUSTERDOWN; "
            f"{red['conn']} connection errors; {time.monotonic() - t_start:.1f} s")
        for i, f in enumerate(getattr(self, "figs", [])):
            log(f"figures: migration {i + 1} of {MOVE[1] - MOVE[0] + 1} slots, {f['keys']} keys: {f['took']:.2f} s "
                f"({f['keys'] / f['took']:.0f} keys/s); {f['ops']} client ops meanwhile; longest op "
                f"{f['lat']['moving'] * 1000:.0f} ms (moving slots) / {f['lat']['still'] * 1000:.0f} ms (S's other "
                f"slots)")

    def evidence(self):
        text = ""
        for n in self.nodes:
            if n.proc is None or n.proc.poll() is not None:
                continue
            try:
                text += f"---- CLUSTER NODES of {n}:\n{n.call('CLUSTER', 'NODES')}"
                text += f"---- CLUSTER GETSLOTMIGRATIONS of {n}: {jobs(n)}\n"
            except (redis.RedisError, OSError, Failure) as e:
                text += f"---- {n}: {str(e)[:200]}\n"
        for n in self.nodes:
            text += n.log_tail(40)
        return text

    def go(self):
        t0 = time.monotonic()
        ok = False
        problems = []
        try:
            self.create()
            self.refused()
            self.preload()
            ep0 = self.migrate()
            problems += self.after_move(ep0)
            if not problems:
                problems += self.cancel()
            if not problems:
                problems += self.final()
            ok = not problems
            if problems:
                print(self.evidence(), flush=True)
        except (Failure, redis.RedisError, OSError, subprocess.SubprocessError) as e:
            problems.append(str(e) if isinstance(e, Failure) else repr(e))
            print(self.evidence(), flush=True)
        finally:
            if hasattr(self, "stop_load"):
                self.stop_load.set()
            for w in self.all_workers:
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
    ap.add_argument("--threads", type=int, default=12)
    ap.add_argument("--rate", type=float, default=100, help="operations/s per thread")
    ap.add_argument("--keys", type=int, default=20000, help="strings preloaded in slots 0-1999, and 2000-3999")
    ap.add_argument("--rounds", type=int, default=3, help="migrations of phase 4 (odd: S -> T, T -> S, ...)")
    ap.add_argument("--scale", type=int, default=1, help="multiplies every bound")
    ap.add_argument("--dir", help="working directory (created if needed; removed when all passed)")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    if a.rounds < 1 or a.rounds % 2 == 0:
        ap.error("--rounds must be odd (the slots end on T)")
    work = a.dir or tempfile.mkdtemp(prefix=f"{NAME}.")
    os.makedirs(work, exist_ok=True)
    binary = os.path.abspath(a.server)
    log(f"{binary}: {a.threads} threads x {a.rate:g} ops/s, {a.keys} keys, scale {a.scale}")
    return pt.run_guarded(NAME, work, binary, lambda: Run(a, binary, work).go(), keep=a.keep)


if __name__ == "__main__":
    sys.exit(main())
