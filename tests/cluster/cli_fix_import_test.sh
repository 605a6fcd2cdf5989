#!/bin/sh
# tests/cluster/cli_fix_import_test.sh - `redis-cli --cluster import` (from a
# standalone redis-server and from a standalone slotcache: move, --cluster-copy,
# BUSYKEY and --cluster-replace) and `redis-cli --cluster fix` (a slot left
# open by a migration whose source or target was killed with SIGKILL and
# restarted from its nodes.conf and RDB; a slot left uncovered by DELSLOTS)
# on a cluster of 3 masters on loopback; cli_fix_import_test.py does the work
# and says what it asserts. This wrapper picks the binary and the bound scale
# (tests/support/sc_server.sh), skips (exit 77) without redis-cli or
# python3-redis (a failure under CI=true for python3-redis), then execs the
# script, so that timeout's SIGTERM reaches it and its cleanup runs.
#
# The standalone sources of import: the redis-server on PATH (without one
# that part is skipped, a failure under CI=true) and $SERVER when it is a
# slotcache, else $SLOTCACHE_BUILD/slotcache-server. Extra arguments go to
# the script, e.g. the same checks on a cluster of redis-server 7.0:
#   sh tests/cluster/cli_fix_import_test.sh --server /usr/bin/redis-server
set -u

TEST_NAME=cli_fix_import_test
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/support/sc_server.sh disable=SC1091
. "$ROOT/tests/support/sc_server.sh"

sc_need_tools redis-cli "$PY"
sc_need_server
sc_need_py_module redis.crc

REDIS_SOURCE=$(command -v redis-server || true)
if [ "$SERVER_IS_REDIS" -eq 1 ]; then
    SC_SOURCE=${SLOTCACHE_BUILD:-build}/slotcache-server
    case "$SC_SOURCE" in /*) ;; *) SC_SOURCE="$(pwd)/$SC_SOURCE" ;; esac
else
    SC_SOURCE=$SERVER
fi

exec "$PY" "$ROOT/tests/cluster/cli_fix_import_test.py" --server "$SERVER" --scale "$SCALE" --dir "$WORK" \
    ${REDIS_SOURCE:+--redis-source "$REDIS_SOURCE"} --slotcache-source "$SC_SOURCE" "$@"
