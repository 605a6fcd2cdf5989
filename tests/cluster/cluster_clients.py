# tests/cluster/cluster_clients.py - redis-py's RedisCluster (Debian's
# python3-redis 4.3.4, redis/cluster.py) used unchanged against a running
# 3 masters + 3 replicas cluster. Started by cluster_clients_test.sh, which
# owns the cluster:
#
#   /usr/bin/python3 cluster_clients.py PORT1 ... PORT6
#
# Checks: a client seeded with one replica's address discovers all six
# nodes (3 primaries, 3 replicas, the right ports); 300 keys written and
# read back across every master (each holds some, DBSIZE adds up);
# non-transactional pipelines across slots; hash-tagged MSET / MGET
# (atomic, one slot) and mget_nonatomic / mset_nonatomic across slots;
# read_from_replicas: reads are right and the replicas serve some of them
# after a READONLY (their INFO commandstats); a stale slot cache: the
# client's map points a slot at the wrong master, the GET still answers
# (that master's errorstat_MOVED grows) and the map is corrected; a slot
# really moved to another master (see slot_moved) while the client holds
# the old map: its SET and GET follow the old owner's MOVED.
# Prints "ok <name>" / "FAIL <name>: ..."; exits 1 when anything failed.
import logging
import sys
import time
import traceback

import redis
from redis.cluster import RedisCluster

# redis-py logs every redirection it follows with a traceback.
logging.getLogger("redis").setLevel(logging.CRITICAL)

PORTS = [int(p) for p in sys.argv[1:]]
HOST = "127.0.0.1"
failures = 0


def check(name, fn):
    global failures
    try:
        fn()
        print("ok", name, flush=True)
    except Exception as e:  # noqa: BLE001 - every failure is reported
        failures += 1
        print("FAIL %s: %r" % (name, e), flush=True)
        traceback.print_exc()


def direct(port):
    return redis.Redis(host=HOST, port=port, socket_timeout=10)


def wait_for(cond, what, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("timed out: " + what)


def roles():
    """{port: 'master' | 'slave'} as each node says itself."""
    return {p: direct(p).execute_command("ROLE")[0].decode() for p in PORTS}


def masters():
    return [p for p, r in roles().items() if r == "master"]


def replicas():
    return [p for p, r in roles().items() if r == "slave"]


def replicas_caught_up():
    """Every replica holds as many keys as its master."""
    for p in replicas():
        info = direct(p).info("replication")
        if info.get("master_link_status") != "up":
            return False
        if direct(p).dbsize() != direct(info["master_port"]).dbsize():
            return False
    return True


def discovery():
    seed = replicas()[0]
    rc = RedisCluster(host=HOST, port=seed)
    nodes = rc.get_nodes()
    assert sorted(n.port for n in nodes) == sorted(PORTS), [n.name for n in nodes]
    prim = sorted(n.port for n in nodes if n.server_type == "primary")
    repl = sorted(n.port for n in nodes if n.server_type == "replica")
    assert prim == sorted(masters()), (prim, masters())
    assert repl == sorted(replicas()), (repl, replicas())
    assert len(rc.nodes_manager.slots_cache) == 16384
    rc.close()


def keys_across_masters():
    rc = RedisCluster(host=HOST, port=PORTS[0])
    rc.flushall()
    for i in range(300):
        assert rc.set("key:%d" % i, "v%d" % i)
    for i in range(300):
        got = rc.get("key:%d" % i)
        assert got == b"v%d" % i, (i, got)
    sizes = {p: direct(p).dbsize() for p in masters()}
    assert all(n > 0 for n in sizes.values()), sizes
    assert sum(sizes.values()) == 300, sizes
    assert rc.dbsize(target_nodes=RedisCluster.PRIMARIES) == 300
    rc.close()


def pipelines():
    rc = RedisCluster(host=HOST, port=PORTS[1])
    p = rc.pipeline()
    for i in range(200):
        p.set("pipe:%d" % i, i)
        p.incr("pipe:%d" % i)
        p.get("pipe:%d" % i)
    out = p.execute()
    assert len(out) == 600
    for i in range(200):
        assert out[3 * i] is True and out[3 * i + 1] == i + 1 and out[3 * i + 2] == b"%d" % (i + 1), (i, out[3 * i:3 * i + 3])
    slots = {rc.keyslot("pipe:%d" % i) for i in range(200)}
    owners = {rc.nodes_manager.get_node_from_slot(s).port for s in slots}
    assert len(owners) == 3, owners
    rc.close()


def hash_tags():
    rc = RedisCluster(host=HOST, port=PORTS[2])
    kv = {"{user:7}:%s" % f: f.upper() for f in ("name", "mail", "city", "zip")}
    assert rc.mset(kv)
    assert rc.mget(list(kv)) == [v.encode() for v in kv.values()]
    assert rc.execute_command("MGET", *kv) == [v.encode() for v in kv.values()]
    assert len({rc.keyslot(k) for k in kv}) == 1
    # Across slots the client splits the command itself.
    spread = {"spread:%d" % i: str(i) for i in range(50)}
    assert all(rc.mset_nonatomic(spread))
    assert rc.mget_nonatomic(list(spread)) == [v.encode() for v in spread.values()]
    # The server's own CROSSSLOT answer, on a plain connection.
    try:
        direct(PORTS[0]).execute_command("MGET", "spread:1", "spread:2", "spread:3")
        raise AssertionError("cross-slot MGET accepted")
    except redis.ResponseError as e:
        assert str(e) == "CROSSSLOT Keys in request don't hash to the same slot", e
    rc.close()


def read_from_replicas():
    wait_for(replicas_caught_up, "the replicas caught up")
    for p in replicas():
        direct(p).config_resetstat()
    rc = RedisCluster(host=HOST, port=PORTS[0], read_from_replicas=True)
    for i in range(300):
        got = rc.get("key:%d" % i)
        assert got == b"v%d" % i, (i, got)
    for p in replicas():
        stats = direct(p).info("commandstats")
        gets = stats.get("cmdstat_get", {}).get("calls", 0)
        readonly = stats.get("cmdstat_readonly", {}).get("calls", 0)
        assert gets > 0 and readonly >= 1, (p, gets, readonly)
    # A write still goes to the master.
    assert rc.set("key:0", "w0") and rc.get("key:0") in (b"w0", b"v0")
    rc.close()


def stale_slot_cache():
    rc = RedisCluster(host=HOST, port=PORTS[0])
    key = "key:42"
    slot = rc.keyslot(key)
    right = rc.nodes_manager.get_node_from_slot(slot)
    wrong = next(n for n in rc.get_primaries() if n.name != right.name)

    before = moved_errors(wrong.port)
    rc.nodes_manager.slots_cache[slot] = [wrong]
    assert rc.get(key) == b"v42"
    assert moved_errors(wrong.port) > before, "no MOVED came from the wrong node"
    assert rc.nodes_manager.get_node_from_slot(slot).name == right.name
    rc.close()


def slot_owner_port(port, slot):
    """The port node `port` says serves `slot` (CLUSTER SLOTS)."""
    for r in direct(port).execute_command("CLUSTER SLOTS"):
        if r[0] <= slot <= r[1]:
            return r[2][1]
    return None


def moved_errors(port):
    # redis-py leaves "count=N" (no comma) as a string
    v = direct(port).info("errorstats").get("errorstat_MOVED", "count=0")
    return int(v["count"]) if isinstance(v, dict) else int(str(v).split("=")[1])


def slot_moved():
    """A real slot move without SETSLOT, as redis-cli --cluster fix takes a
    slot: MULTI / CLUSTER DELSLOTS / ADDSLOTS / BUMPEPOCH / EXEC on the new
    owner, which then wins by its bumped epoch. A client whose map predates
    the move follows the MOVED of the old owner."""
    rc = RedisCluster(host=HOST, port=PORTS[0])
    # An empty slot (a slot's keys stay where they were written).
    key = next(k for k in ("moving:%d" % i for i in range(1000))
               if direct(rc.nodes_manager.get_node_from_slot(rc.keyslot(k)).port)
               .execute_command("CLUSTER COUNTKEYSINSLOT", rc.keyslot(k)) == 0)
    slot = rc.keyslot(key)
    old = rc.nodes_manager.get_node_from_slot(slot)
    new = next(n for n in rc.get_primaries() if n.name != old.name)
    p = direct(new.port).pipeline(transaction=True)
    p.execute_command("CLUSTER DELSLOTS", slot)
    p.execute_command("CLUSTER ADDSLOTS", slot)
    p.execute_command("CLUSTER BUMPEPOCH")
    p.execute()
    wait_for(lambda: all(slot_owner_port(q, slot) == new.port for q in PORTS), "every node maps the slot to its new owner")
    before = moved_errors(old.port)
    assert rc.set(key, "moved")
    assert rc.get(key) == b"moved"
    assert moved_errors(old.port) > before, "no MOVED came from the old owner"
    assert rc.nodes_manager.get_node_from_slot(slot).name == new.name
    assert direct(new.port).get(key) == b"moved"
    rc.close()


check("discovery from one replica", discovery)
check("keys across all masters", keys_across_masters)
check("pipelines across slots", pipelines)
check("hash-tagged MSET/MGET and nonatomic multi-key", hash_tags)
check("read_from_replicas", read_from_replicas)
check("stale slot cache follows MOVED", stale_slot_cache)
check("a slot moved under the client", slot_moved)
print("redis-py %s: %d failed" % (redis.__version__, failures))
sys.exit(1 if failures else 0)
