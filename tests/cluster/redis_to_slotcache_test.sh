#!/bin/sh
# tests/cluster/redis_to_slotcache_test.sh - a running Redis Cluster (3
# redis-server masters, 20k keys) moved onto 3 slotcache nodes with no
# downtime, under a redis-py RedisCluster load, with redis-cli's own
# commands (add-node, rebalance with weight 0 for the redis-server nodes,
# del-node); redis_to_slotcache_test.py does the work and says what it
# asserts. This wrapper picks the binary and the bound scale
# (tests/support/sc_server.sh), skips (exit 77) without redis-server,
# redis-cli or python3-redis (a failure under CI=true), then execs the
# script, so that timeout's SIGTERM reaches it and its cleanup runs.
#
# Extra arguments go to the script: --move reshard (three
# `redis-cli --cluster reshard` instead of one rebalance), --keys N,
# --threads N, --seed S, --keep.
# SLOTCACHE_SERVER=/usr/bin/redis-server moves the cluster onto redis-server
# nodes instead (the reference run).
set -u

TEST_NAME=redis_to_slotcache_test
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/support/sc_server.sh disable=SC1091
. "$ROOT/tests/support/sc_server.sh"

# The scenario needs the real thing on both sides: without redis-server or
# redis-cli it cannot run, which CI must not take for a pass.
for tool in redis-server redis-cli; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        if [ "${CI:-}" = true ]; then
            rm -rf "$WORK"
            echo "$TEST_NAME: FAIL: no $tool, and CI=true (sh scripts/deps.sh installs it)"
            exit 1
        fi
        sc_skip "$tool not installed (scripts/deps.sh)"
    fi
done
sc_need_tools "$PY"
sc_need_server
sc_need_py_module redis.cluster

exec "$PY" "$ROOT/tests/cluster/redis_to_slotcache_test.py" --server "$SERVER" \
    --redis "$(command -v redis-server)" --scale "$SCALE" --dir "$WORK" "$@"
