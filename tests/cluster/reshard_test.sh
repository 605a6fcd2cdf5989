#!/bin/sh
# tests/cluster/reshard_test.sh - resharding under a client load on loopback
# ports: a cluster of 3 masters made by `redis-cli --cluster create`, a 4th
# node added, rebalance, reshard, a node emptied and deleted, all while 20
# redis-py RedisCluster threads write and verify; reshard_test.py does the
# work and says what it asserts. This wrapper picks the binary and the
# bound scale (tests/support/sc_server.sh), skips (exit 77) without
# redis-cli or python3-redis (a failure under CI=true for python3-redis),
# then execs the script, so that timeout's SIGTERM reaches it and its
# cleanup runs. scripts/run-tests.sh runs tests/cluster/*.sh in the release
# stage only (make test's asan and tsan stages run the cluster binaries,
# not these scripts); the bounds still scale with SLOTCACHE_TIMEOUT_SCALE.
#
# Extra arguments go to the script: --threads N (20), --rate OPS (25 per
# thread), --keys N (300 per thread), --reshard SLOTS (300), --keep,
# --server BIN (e.g. /usr/bin/redis-server, for a comparison run).
set -u

TEST_NAME=reshard_test
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/support/sc_server.sh disable=SC1091
. "$ROOT/tests/support/sc_server.sh"

sc_need_tools redis-cli "$PY"
# A --server of the caller replaces the built binary (the last one counts).
OWN=0
for arg in "$@"; do [ "$arg" = --server ] && OWN=1; done
[ "$OWN" -eq 1 ] || sc_need_server
sc_need_py_module redis.cluster

exec "$PY" "$ROOT/tests/cluster/reshard_test.py" --server "$SERVER" --scale "$SCALE" --dir "$WORK" "$@"
