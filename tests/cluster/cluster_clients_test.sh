#!/bin/sh
# tests/cluster/cluster_clients_test.sh - cluster clients used unchanged
# against a slotcache cluster of 3 masters and 3 replicas, made as users
# make one (scripts/create-cluster start + create -f, config.sh in the
# cluster directory): redis-py's RedisCluster (cluster_clients.py, Debian's
# python3-redis 4.3.4 under /usr/bin/python3) and ioredis's Cluster
# (cluster_clients.js, ioredis@5 installed by npm into
# $SLOTCACHE_BUILD/node/ioredis, kept between runs). See the two scripts
# for what they check: discovery from one node, keys across every master,
# pipelines, hash-tagged MSET/MGET, reads served by replicas after READONLY,
# a stale slot map corrected through MOVED.
#
# The clients start once every node is ok and every node's CLUSTER SLOTS
# lists a replica for each of the 3 ranges (see replicas_listed).
# A missing client library skips that client with the reason (exit 77 when
# both are missing); under CI=true a missing one is a failure.
# SLOTCACHE_SERVER=/usr/bin/redis-server runs the same checks against Redis.
# Nodes, the npm log and the cluster directory are cleaned up by the EXIT
# trap of lib/create_cluster.sh, also on failure.
set -u

TEST_NAME=cluster_clients_test
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/support/sc_server.sh disable=SC1091
. "$ROOT/tests/support/sc_server.sh"
# shellcheck source=tests/cluster/lib/create_cluster.sh disable=SC1091
. "$ROOT/tests/cluster/lib/create_cluster.sh"

BUILD_DIR=${SLOTCACHE_BUILD:-build}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
NODE_DIR="$BUILD_DIR/node/ioredis"

sc_need_tools redis-cli
sc_need_server

# unavailable CLIENT REASON: skip that client, or fail under CI=true.
SKIPPED=""
unavailable() {
    if [ "${CI:-}" = true ]; then
        sc_fail "$1: $2 (CI=true: the client checks must run; sh scripts/deps.sh)"
    else
        echo "$TEST_NAME: $1 skipped: $2"
        SKIPPED="$SKIPPED $1"
    fi
}

HAVE_PY=0
if "$PY" -c 'import redis.cluster' 2>/dev/null; then
    HAVE_PY=1
else
    unavailable redis-py "no redis.cluster for $PY (apt-get install python3-redis)"
fi

HAVE_NODE=0
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    unavailable ioredis "node and npm are needed (apt-get install nodejs npm)"
elif node -e 'require(process.argv[1])' "$NODE_DIR/node_modules/ioredis" 2>/dev/null; then
    HAVE_NODE=1
else
    rm -rf "$NODE_DIR"
    mkdir -p "$NODE_DIR"
    printf '{ "name": "slotcache-cluster-clients-test", "private": true }\n' >"$NODE_DIR/package.json"
    echo "$TEST_NAME: npm install ioredis@5 in $NODE_DIR"
    if (cd "$NODE_DIR" && timeout $((300 * SCALE)) npm install --no-audit --no-fund --no-save --loglevel=error ioredis@5) \
        >"$WORK/npm.log" 2>&1; then
        HAVE_NODE=1
    else
        tail -n 5 "$WORK/npm.log"
        rm -rf "$NODE_DIR"
        unavailable ioredis "npm could not install ioredis@5 (no network?)"
    fi
fi
if [ "$HAVE_PY" -eq 0 ] && [ "$HAVE_NODE" -eq 0 ] && [ "$FAILS" -eq 0 ]; then
    sc_skip "neither redis-py nor ioredis is available"
fi

# Every node lists 6 nodes in CLUSTER SLOTS: a replica is left out while
# its replication offset is 0 (isReplicaAvailable), that is until its
# master's stream carries a byte, which on an idle master is the first
# replication PING (up to 10 s after start, on redis-server too). A key
# written to each master ("a", "b", "c" hash to the three ranges) makes
# that happen at once; the offsets then travel in the pings.
# shellcheck disable=SC2317  # called through wait_until
replicas_listed() {
    for p in $(ports); do
        n=$(redis-cli -p "$p" cluster slots 2>/dev/null | grep -c -E '^[0-9a-f]{40}$')
        [ "$n" -eq 6 ] || return 1
    done
}

KIND=slotcache
[ "$SERVER_IS_REDIS" -eq 1 ] && KIND=redis
NODES=6
BASE=$(free_base 6) || { sc_fail "no free port range"; exit 1; }
write_config "$KIND"
echo "$TEST_NAME: $KIND cluster on ports $((BASE + 1))-$((BASE + 6)) in $CDIR"
run_cc start 30 start || exit 1
run_cc "create -f" 60 create -f || exit 1
wait_until 20 all_ok || { sc_fail "not every node reached cluster_state:ok"; exit 1; }
for k in a b c; do
    r=$(redis-cli -c -p "$((BASE + 1))" set "$k" 1 2>&1)
    [ "$r" = OK ] || sc_fail "redis-cli -c SET $k: $r"
done
wait_until 20 replicas_listed || { sc_fail "the replicas are not in every node's CLUSTER SLOTS"; exit 1; }

# shellcheck disable=SC2046  # one argument per port
if [ "$HAVE_PY" -eq 1 ]; then
    sc_run_check cluster_clients.py 120 "$PY" "$ROOT/tests/cluster/cluster_clients.py" $(ports)
fi
# shellcheck disable=SC2046
if [ "$HAVE_NODE" -eq 1 ]; then
    sc_run_check cluster_clients.js 120 node "$ROOT/tests/cluster/cluster_clients.js" "$NODE_DIR" $(ports)
fi

run_cc stop 60 stop
wait_until 10 no_node_processes || sc_fail "processes still running in $CDIR after stop: $(node_pids)"
[ "$KIND" = slotcache ] && check_node_logs
[ -n "$SKIPPED" ] && echo "$TEST_NAME: skipped:$SKIPPED"
sc_finish
