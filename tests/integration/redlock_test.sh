#!/bin/sh
# tests/integration/redlock_test.sh - node-redlock 4.2.0 (with node-redis v3
# and with ioredis) and 5.0.0-beta.2 (with ioredis) unchanged against the
# server, plus a check that the SHA1 of every script body those packages
# ship is a row of server/lock_scripts.c (see redlock_check.js).
#
# Setup: npm installs the packages into $SLOTCACHE_BUILD/node/redlock4 and
# .../redlock5 (SLOTCACHE_BUILD defaults to build; kept between runs, so
# the network is needed only once). Exit 77 (skipped) with the reason as
# the last line when node/npm are missing or npm cannot install (no
# network); 0 when everything passed; 1 on any failure.
#
# Run by scripts/run-tests.sh as `sh tests/integration/redlock_test.sh` from
# the repo root, or by hand the same way. The server is $SLOTCACHE_SERVER,
# else $SLOTCACHE_BUILD/slotcache-server; SLOTCACHE_SERVER=/usr/bin/
# redis-server runs the same checks against Redis.
set -u

TEST_NAME=redlock_test
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CHECK="$ROOT/tests/integration/redlock_check.js"
TABLE="$ROOT/server/lock_scripts.c"
# shellcheck source=tests/support/sc_server.sh
. "$ROOT/tests/support/sc_server.sh"

BUILD_DIR=${SLOTCACHE_BUILD:-build}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
NODE_DIR="$BUILD_DIR/node"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    sc_skip "node and npm are needed (apt-get install nodejs npm)"
fi
sc_need_server

# npm_setup DIR VERSION PACKAGES...: install PACKAGES into DIR unless DIR
# already holds redlock VERSION; non-zero when npm fails.
npm_setup() {
    dir=$1 want=$2
    shift 2
    have=$(node -e 'try { console.log(require(process.argv[1]).version) } catch (e) {}' \
        "$dir/node_modules/redlock/package.json" 2>/dev/null)
    case "$have" in "$want" | "v$want") return 0 ;; esac
    rm -rf "$dir"
    mkdir -p "$dir" || return 1
    printf '{ "name": "slotcache-redlock-test", "private": true }\n' >"$dir/package.json"
    echo "$TEST_NAME: npm install $* in $dir"
    (cd "$dir" && timeout $((300 * SCALE)) npm install --no-audit --no-fund --no-save --loglevel=error "$@") \
        >"$dir/npm.log" 2>&1 || {
        tail -n 5 "$dir/npm.log"
        rm -rf "$dir/node_modules"
        return 1
    }
}

npm_setup "$NODE_DIR/redlock4" 4.2.0 redlock@4.2.0 ioredis@5 redis@3 ||
    sc_skip "npm could not install redlock@4.2.0 ioredis redis@3 (no network?)"
npm_setup "$NODE_DIR/redlock5" 5.0.0-beta.2 redlock@5.0.0-beta.2 ioredis@5 ||
    sc_skip "npm could not install redlock@5.0.0-beta.2 ioredis (no network?)"

THREADS=""
[ "$SERVER_IS_REDIS" -eq 0 ] && THREADS="--threads 4"
echo "$TEST_NAME: server $SERVER, work dir $WORK"
# shellcheck disable=SC2086  # THREADS is empty or two words
sc_start_or_exit redlock $THREADS

sc_run_check redlock_check.js 120 node "$CHECK" "$SRV_PORT" "$NODE_DIR/redlock4" "$NODE_DIR/redlock5" "$TABLE"

sc_stop redlock "$SRV_PID"
sc_finish
