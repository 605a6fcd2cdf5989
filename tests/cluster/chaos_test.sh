#!/bin/sh
# tests/cluster/chaos_test.sh - a bounded chaos loop (random kill -9 and
# network partitions of single nodes, restarts and heals) on a slotcache
# cluster of 3 masters and 3 replicas, each node in its own network
# namespace, under a WAIT-acknowledged write load; chaos_test.py does the
# work and says what it asserts. This wrapper picks the binary and the
# bound scale (tests/support/sc_server.sh), skips (exit 77) without ip,
# redis-cli or python3-redis (a failure under CI=true for python3-redis),
# then execs the script, so that timeout's SIGTERM reaches it and its
# cleanup runs. The script skips when `ip netns add` is not permitted.
#
# Extra arguments go to the script: --rounds N (default 6), --seed S (the
# seed a run printed, to repeat its faults), --server BIN (e.g.
# /usr/bin/redis-server, for a comparison run).
set -u

TEST_NAME=chaos_test
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/support/sc_server.sh disable=SC1091
. "$ROOT/tests/support/sc_server.sh"

sc_need_tools ip redis-cli "$PY"
sc_need_server
sc_need_py_module redis.crc

exec "$PY" "$ROOT/tests/cluster/chaos_test.py" --server "$SERVER" --scale "$SCALE" --dir "$WORK" "$@"
