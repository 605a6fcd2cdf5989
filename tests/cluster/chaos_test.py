"""tests/cluster/chaos_test.py - a bounded chaos loop over a cluster of 3
masters and 3 replicas, each node in its own network namespace (the
network, nodes and cluster of partition_test.py). Started by chaos_test.sh
(as root, under /usr/bin/python3 for python3-redis):

  chaos_test.py --server BIN [--rounds 6] [--seed S] [--scale 1] [--dir WORK] [--keep]

Load, all through the run: one writer thread per shard (a hash tag in each
of the three starting slot ranges), from the root namespace, routing by
CLUSTER SLOTS and -MOVED like a cluster client, alternating
  SET {tag}k<i> v<i>  then  WAIT 1 300   (WAIT-acknowledged when >= 1)
  INCR {tag}ctr       then  WAIT 1 300
An INCR answered with an integer, or whose answer was lost with the
connection, may have been applied; one refused with an error (-MOVED,
-CLUSTERDOWN, -TRYAGAIN, -READONLY) was not. A WAIT refused because the
node was demoted since the write leaves the write not acknowledged.

Rounds: one fault at a time, picked at random (the seed is printed; --seed
repeats a run): kill -9 of a random node (a master is restarted only once
its replica has taken its slots: a master restarted empty before that would
hand its empty dataset to its replica, in Redis as here), or a partition of
a random node (its bridge-side veth down) for 0.5-4 s, longer or shorter
than the node timeout, then the heal. After each round, asserted within a
bound: every node up, one consistent view with exactly one master per slot,
every replica's link up (partition_test's steady()).

At the end, asserted: every WAIT-acknowledged SET reads back with its
value from the master of its slot; each counter is at least the number of
WAIT-acknowledged INCRs and at most the INCRs that may have been applied;
each writer still gets a write WAIT-acknowledged. Printed: the faults, the
writes and their losses (acknowledged without WAIT ones may be lost, as in
Redis). Cleanup as partition_test.py: nodes, namespaces, veths and bridge
removed on every exit; exit 0 passed, 1 failed, 77 skipped.
"""
import argparse
import os
import random
import sys
import tempfile
import threading
import time

import redis
from redis.crc import key_slot

import partition_test as pt

NAME = "chaos_test"
WAIT_MS = 300


def log(*args):
    print(f"{NAME}: +{time.monotonic() - pt.T0:5.1f}s", *args, flush=True)


class ChaosWriter(threading.Thread):
    """SET + WAIT and INCR + WAIT on one hash tag, routed to the slot's master."""

    def __init__(self, cl, tag, stop):
        super().__init__(daemon=True)
        self.cl, self.tag, self.stop = cl, tag, stop
        self.slot = key_slot(tag.encode())
        self.by_ip = {n.ip: n for n in cl.nodes}
        self.owner = None
        self.conns = {}
        self.lock = threading.Lock()
        self.durable = {}          # key -> value, WAIT-acknowledged
        self.set_ok = 0            # SETs answered +OK (with WAIT or not)
        self.incr_durable = 0      # INCRs WAIT-acknowledged
        self.incr_maybe = 0        # INCRs answered with an integer or unanswered
        self.refused = 0
        self.errors = []

    def conn(self, node):
        c = self.conns.get(node.idx)
        if c is None:
            c = redis.Redis(host=node.ip, port=pt.PORT, socket_timeout=1, socket_connect_timeout=0.5,
                            decode_responses=True)
            self.conns[node.idx] = c
        return c

    def drop(self, node):
        c = self.conns.pop(node.idx, None)
        if c:
            c.close()

    def refresh(self):
        """The slot's master from the first node that answers CLUSTER SLOTS."""
        self.owner = None
        for n in random.sample(self.cl.nodes, len(self.cl.nodes)):
            try:
                for a, b, m, *_ in self.conn(n).execute_command("CLUSTER", "SLOTS"):
                    if int(a) <= self.slot <= int(b):
                        self.owner = self.by_ip.get(m[0])
                        return
            except (redis.RedisError, OSError):
                self.drop(n)

    def progress(self):
        with self.lock:
            return len(self.durable), self.incr_durable

    def run(self):
        i = 0
        while not self.stop.is_set() and i < 10_000_000:
            i += 1
            if self.owner is None:
                self.refresh()
                if self.owner is None:
                    time.sleep(0.05)
                    continue
            node = self.owner
            c = self.conn(node)
            is_set = i % 2 == 1
            key, val = f"{{{self.tag}}}k{i}", f"v{i}"
            answered = False
            try:
                if is_set:
                    c.execute_command("SET", key, val)
                    with self.lock:
                        self.set_ok += 1
                else:
                    # Counted before it is sent: check() reads this bound
                    # while INCRs are in flight.
                    with self.lock:
                        self.incr_maybe += 1
                    c.execute_command("INCR", f"{{{self.tag}}}ctr")
                answered = True
                n = c.execute_command("WAIT", 1, WAIT_MS)
                if n >= 1:
                    with self.lock:
                        if is_set:
                            self.durable[key] = val
                        else:
                            self.incr_durable += 1
            except redis.ResponseError as e:
                msg = str(e)
                with self.lock:
                    self.refused += 1
                    if not answered and not is_set:
                        self.incr_maybe -= 1  # refused: not applied
                if msg.startswith("MOVED"):
                    host = msg.split()[2].rsplit(":", 1)[0]
                    self.owner = self.by_ip.get(host)
                # (A WAIT on a master demoted since the write: not acknowledged;
                # redis-py drops the "ERR " of a plain error.)
                elif not msg.startswith(("CLUSTERDOWN", "TRYAGAIN", "READONLY", "LOADING", "MASTERDOWN",
                                         "ERR WAIT cannot be used with replica",
                                         "WAIT cannot be used with replica")):
                    with self.lock:
                        self.errors.append(msg)
                    time.sleep(0.02)
                else:
                    time.sleep(0.02)
                    self.refresh()
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                # (An INCR whose answer was lost stays in incr_maybe.)
                self.drop(node)
                self.owner = None
                time.sleep(0.05)
        for c in self.conns.values():
            c.close()


def majority_promoted(cl, victim, replica):
    """(True, '') once every node but the victim sees the replica as a master with slots."""
    for n in cl.nodes:
        if n is victim:
            continue
        cl.alive(n)
        v = n.view()
        if pt.role(v[replica.id]) != "master" or not v[replica.id]["slots"]:
            return False, f"{n} sees {replica} as {pt.role(v[replica.id])}"
    return True, ""


def run_round(cl, rnd, rng, scale, faults):
    view = pt.wait_for(f"round {rnd}: steady before the fault", 60 * scale, cl.steady)
    node = rng.choice(cl.nodes)
    entry = view[node.id]
    is_master = pt.role(entry) == "master"
    kind = rng.choice(["kill", "partition"])
    what = f"{kind} {'master' if is_master else 'replica'} {node}"
    if kind == "kill":
        node.proc.kill()
        node.proc.wait(10)
        if is_master:
            replica = next(cl.by_id[i] for i, e in view.items() if e["master"] == node.id)
            pt.wait_for(f"round {rnd}: {replica} takes the slots of killed {node}", 30 * scale,
                        lambda: majority_promoted(cl, node, replica))
        else:
            time.sleep(rng.uniform(0.2, 2.0))
        node.start()
    else:
        hold = rng.uniform(0.5, 4.0)
        hv = cl.net.host_veth[node.idx - 1]
        pt.ip("link", "set", hv, "down")
        try:
            time.sleep(hold)
        finally:
            pt.ip("link", "set", hv, "up")
        what += f" for {hold:.1f} s"
    t = time.monotonic()
    pt.wait_for(f"round {rnd} ({what}): steady after the fault", 60 * scale, cl.steady)
    faults.append(what)
    log(f"round {rnd}: {what}; steady {time.monotonic() - t:.1f} s later")


def check(cl, writers, scale):
    """The end: every WAIT-acknowledged write is there; each writer still writes."""
    view = pt.wait_for("steady at the end", 60 * scale, cl.steady)
    owner_of = {}
    for nid, e in view.items():
        for a, b in e["slots"]:
            owner_of[(a, b)] = cl.by_id[nid]

    def master_for(slot):
        return next(n for (a, b), n in owner_of.items() if a <= slot <= b)

    problems, lines = [], []
    for w in writers:
        m = master_for(w.slot)
        keys = list(w.durable)
        lost = 0
        for k0 in range(0, len(keys), 500):
            part = keys[k0:k0 + 500]
            got = m.r.mget(part)
            lost += sum(1 for k, v in zip(part, got) if v != w.durable[k])
        # The writers still run: the lower bound is read before the counter,
        # the upper bound after it.
        with w.lock:
            lo = w.incr_durable
        ctr = int(m.r.get(f"{{{w.tag}}}ctr") or 0)
        with w.lock:
            hi = w.incr_maybe
        lines.append(f"{{{w.tag}}}: {len(keys)} WAIT-acknowledged SETs, {lost} lost; "
                     f"{w.set_ok} SETs answered +OK; counter {ctr}, {lo} INCRs WAIT-acknowledged, "
                     f"{hi} maybe applied ({hi - ctr} of those lost); {w.refused} refused")
        if lost:
            problems.append(f"{{{w.tag}}}: {lost} WAIT-acknowledged SETs lost")
        if not lo <= ctr <= hi:
            problems.append(f"{{{w.tag}}}: counter {ctr} outside [{lo}, {hi}]")
        if not keys:
            problems.append(f"{{{w.tag}}}: no write was ever WAIT-acknowledged")
        if w.errors:
            problems.append(f"{{{w.tag}}}: unexpected errors, e.g. {w.errors[:3]}")
    for ln in lines:
        log(ln)
    # The writers still make progress on the healed cluster.
    marks = [w.progress() for w in writers]
    pt.wait_for("each writer gets a write WAIT-acknowledged after the end", 30 * scale,
                lambda: (all(w.progress()[0] > mk[0] for w, mk in zip(writers, marks)), [w.progress() for w in writers]))
    return problems


def run(binary, rounds, seed, work, scale):
    net = pt.Net(os.getpid())
    cl = None
    ok = False
    problems, faults = [], []
    stop = threading.Event()
    writers = []
    try:
        net.create()
        cl = pt.Cluster(binary, net, os.path.join(work, os.path.basename(binary)), scale)
        cl.start()
        cl.create()
        view = pt.wait_for("steady", 30 * scale, cl.steady)
        for lo, m, _ in cl.shards(view):
            writers.append(ChaosWriter(cl, pt.find_tag(view[m.id]["slots"]), stop))
        for w in writers:
            w.start()
        pt.wait_for("the writers get going", 30 * scale,
                    lambda: (all(w.progress()[0] >= 20 for w in writers), [w.progress() for w in writers]))
        rng = random.Random(seed)
        for rnd in range(rounds):
            run_round(cl, rnd, rng, scale, faults)
        problems += check(cl, writers, scale)
        ok = not problems
    except (pt.Failure, redis.RedisError, OSError, StopIteration) as e:
        problems.append(str(e) if isinstance(e, pt.Failure) else repr(e))
        if cl:
            print(cl.evidence(), flush=True)
    finally:
        stop.set()
        for w in writers:
            w.join(10)
        with pt.cleanup():
            if cl:
                problems += cl.stop(fast=not ok or bool(pt.PENDING))
            left = net.delete()
            if left:
                problems.append(f"left behind: {left}")
    log(f"faults: {'; '.join(faults) if faults else 'none'}")
    return problems


def main():
    pt.NAME = NAME
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", required=True)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--scale", type=int, default=1, help="multiplies every bound")
    ap.add_argument("--dir", help="working directory (created if needed; removed when all passed)")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else int.from_bytes(os.urandom(4), "big")
    work = a.dir or tempfile.mkdtemp(prefix=f"{NAME}.")
    os.makedirs(work, exist_ok=True)
    binary = os.path.abspath(a.server)
    log(f"{a.rounds} rounds on {binary}, seed {seed} (--seed {seed} repeats the faults)")
    return pt.run_guarded(NAME, work, binary, lambda: run(binary, a.rounds, seed, work, a.scale), keep=a.keep,
                          note=f"seed {seed}")

if __name__ == "__main__":
    sys.exit(main())
