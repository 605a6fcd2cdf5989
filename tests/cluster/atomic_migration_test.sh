#!/bin/sh
# tests/cluster/atomic_migration_test.sh - atomic slot migration (CLUSTER
# MIGRATESLOTS, Valkey 9's) of 2000 slots holding 20k keys from one master
# to another under a client load, then a migration cancelled at once, on 4
# loopback nodes (3 masters, a replica of the target);
# atomic_migration_test.py does the work and says what it asserts (no
# client ever sees -ASK or -TRYAGAIN, every acknowledged write survives,
# the target's replica has the same data, one epoch bump). This wrapper
# picks the binary and the bound scale (tests/support/sc_server.sh), skips
# (exit 77) without redis-cli or python3-redis (a failure under CI=true for
# python3-redis) and against redis-server (7.0 has no atomic migration),
# then execs the script, so that timeout's SIGTERM reaches it and its
# cleanup runs. scripts/run-tests.sh runs tests/cluster/*.sh in the release
# stage only; the bounds scale with SLOTCACHE_TIMEOUT_SCALE.
#
# Extra arguments go to the script: --threads N (12), --rate OPS (100 per
# thread), --keys N (20000), --keep.
set -u

TEST_NAME=atomic_migration_test
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/support/sc_server.sh disable=SC1091
. "$ROOT/tests/support/sc_server.sh"

[ "$SERVER_IS_REDIS" -eq 1 ] && sc_skip "redis-server has no CLUSTER MIGRATESLOTS"
sc_need_tools redis-cli "$PY"
sc_need_server
sc_need_py_module redis.cluster

exec "$PY" "$ROOT/tests/cluster/atomic_migration_test.py" --server "$SERVER" --scale "$SCALE" --dir "$WORK" "$@"
