#!/bin/sh
# tests/cluster/partition_test.sh - a master cut off from the majority by a
# network partition (network namespaces and veths on a bridge), the
# failover on the majority side, the heal: 2 rounds on a slotcache cluster
# of 3 masters and 3 replicas. partition_test.py does the work and says what
# it asserts; this wrapper picks the binary and the bound scale
# (tests/support/sc_server.sh), skips (exit 77) without ip, redis-cli or
# python3-redis (a failure under CI=true for python3-redis), then execs the
# script, so that timeout's SIGTERM reaches it and its cleanup runs. The
# script skips when `ip netns add` is not permitted (not root).
#
# Extra arguments go to the script, e.g. a benchmark against redis-server:
#   sh tests/cluster/partition_test.sh --rounds 20 --server /usr/bin/redis-server
# (slotcache, then redis-server, then a summary of both).
set -u

TEST_NAME=partition_test
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/support/sc_server.sh disable=SC1091
. "$ROOT/tests/support/sc_server.sh"

sc_need_tools ip redis-cli "$PY"
sc_need_server
sc_need_py_module redis.crc

exec "$PY" "$ROOT/tests/cluster/partition_test.py" --server "$SERVER" --scale "$SCALE" --dir "$WORK" "$@"
