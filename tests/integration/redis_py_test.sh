#!/bin/sh
# tests/integration/redis_py_test.sh - slotcache driven by redis-py (Debian
# python3-redis): starts two servers on free loopback ports (one plain, one
# with --requirepass) and runs redis_py_check.py against them, which asserts
# every reply (see that file for the list of checks).
#
# Run by scripts/run-tests.sh as `sh tests/integration/redis_py_test.sh` from
# the repo root, or by hand the same way. The server is $SLOTCACHE_SERVER,
# else $SLOTCACHE_BUILD/slotcache-server (SLOTCACHE_BUILD defaults to build);
# SLOTCACHE_SERVER=/usr/bin/redis-server runs the same checks against Redis.
# Exit 0 when everything passed, 1 on any failure (what failed is printed),
# 77 (skipped) when python3-redis is missing. Servers are stopped by PID on
# every exit path; their directory under /tmp/slotcache-tests is kept when
# the test failed.
set -u

TEST_NAME=redis_py_test
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CHECK="$ROOT/tests/integration/redis_py_check.py"
PASSWORD="pw-$$-slotcache"
# shellcheck source=tests/support/sc_server.sh
. "$ROOT/tests/support/sc_server.sh"

"$PY" -c 'import redis' 2>/dev/null ||
    sc_skip "$PY has no redis module (apt-get install python3-redis)"
sc_need_server

echo "$TEST_NAME: server $SERVER, work dir $WORK"
if ! sc_start plain; then
    sc_fail "could not start the server"
    exit 1
fi
PLAIN_PID=$SRV_PID PLAIN_PORT=$SRV_PORT
if ! sc_start auth --requirepass "$PASSWORD"; then
    sc_fail "could not start the server with --requirepass"
    exit 1
fi
AUTH_PID=$SRV_PID AUTH_PORT=$SRV_PORT
echo "$TEST_NAME: plain server pid $PLAIN_PID port $PLAIN_PORT, auth server pid $AUTH_PID port $AUTH_PORT"

sc_run_check redis_py_check.py 40 "$PY" "$CHECK" "$PLAIN_PORT" "$AUTH_PORT" "$PASSWORD"

sc_stop plain "$PLAIN_PID"
sc_stop auth "$AUTH_PID"
sc_finish
