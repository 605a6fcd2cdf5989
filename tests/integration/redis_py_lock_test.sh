#!/bin/sh
# tests/integration/redis_py_lock_test.sh - redis-py's redis.lock.Lock
# (Debian python3-redis) unchanged against the server: starts one server
# (slotcache with --threads 4, so the contention test spans workers) and
# runs redis_py_lock_check.py against it (acquire, extend, reacquire,
# release, foreign tokens, expiry, SCRIPT FLUSH, 8-thread contention).
#
# Run by scripts/run-tests.sh as `sh tests/integration/redis_py_lock_test.sh`
# from the repo root, or by hand the same way. The server is
# $SLOTCACHE_SERVER, else $SLOTCACHE_BUILD/slotcache-server;
# SLOTCACHE_SERVER=/usr/bin/redis-server runs the same checks against Redis.
# Exit 0 when everything passed, 1 on any failure, 77 (skipped) when
# python3-redis is missing. The server is stopped by PID on every exit path;
# its directory under /tmp/slotcache-tests is kept when the test failed.
set -u

TEST_NAME=redis_py_lock_test
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CHECK="$ROOT/tests/integration/redis_py_lock_check.py"
# shellcheck source=tests/support/sc_server.sh
. "$ROOT/tests/support/sc_server.sh"

"$PY" -c 'import redis.lock' 2>/dev/null ||
    sc_skip "$PY has no redis module (apt-get install python3-redis)"
sc_need_server

THREADS=""
[ "$SERVER_IS_REDIS" -eq 0 ] && THREADS="--threads 4"
echo "$TEST_NAME: server $SERVER, work dir $WORK"
# shellcheck disable=SC2086  # THREADS is empty or two words
sc_start_or_exit lock $THREADS

sc_run_check redis_py_lock_check.py 120 "$PY" "$CHECK" "$SRV_PORT"

sc_stop lock "$SRV_PID"
sc_finish
