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

PY=/usr/bin/python3            # the python3 on PATH may lack the redis module
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CHECK="$ROOT/tests/integration/redis_py_check.py"
PASSWORD="pw-$$-slotcache"

SERVER=${SLOTCACHE_SERVER:-${SLOTCACHE_BUILD:-build}/slotcache-server}
case "$SERVER" in
/*) ;;
*/*) SERVER="$(pwd)/$SERVER" ;;
*) SERVER=$(command -v "$SERVER" || echo "$SERVER") ;;
esac

SCALE=${SLOTCACHE_TIMEOUT_SCALE:-1}
case "$SCALE" in '' | *[!0-9]*) SCALE=1 ;; esac
[ "$SCALE" -ge 1 ] || SCALE=1

if ! "$PY" -c 'import redis' 2>/dev/null; then
    echo "redis_py_test: skipped: $PY has no redis module (apt-get install python3-redis)"
    exit 77
fi
if [ ! -x "$SERVER" ]; then
    echo "redis_py_test: FAIL: server binary $SERVER missing (run make)"
    exit 1
fi

mkdir -p /tmp/slotcache-tests
WORK=$(mktemp -d /tmp/slotcache-tests/redis_py.XXXXXX) || exit 1
PIDS=""          # servers started and not yet stopped
FAILS=0

fail() {
    echo "redis_py_test: FAIL: $*"
    FAILS=$((FAILS + 1))
}

drop_pid() {
    rest=""
    for dp in $PIDS; do [ "$dp" = "$1" ] || rest="$rest $dp"; done
    PIDS=$rest
}

# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
    for p in $PIDS; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in $PIDS; do
        i=0
        while kill -0 "$p" 2>/dev/null && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    PIDS=""
}
trap cleanup EXIT
trap 'echo "redis_py_test: interrupted"; exit 130' INT
trap 'echo "redis_py_test: terminated"; exit 143' TERM HUP

free_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# probe PORT PID: true when something answers PING with +PONG or -NOAUTH on
# PORT and every listening socket on PORT belongs to PID (slotcache listens
# with SO_REUSEPORT, so another server could share a port silently).
probe() {
    "$PY" - "$1" "$2" <<'EOF'
import os, socket, sys
port, pid = int(sys.argv[1]), sys.argv[2]
try:
    s = socket.create_connection(("127.0.0.1", port), timeout=1)
    s.sendall(b"PING\r\n")
    line = s.recv(64)
    s.close()
except OSError:
    sys.exit(1)
if not (line.startswith(b"+PONG") or line.startswith(b"-NOAUTH")):
    sys.exit(1)
inodes = set()
for f in ("/proc/net/tcp", "/proc/net/tcp6"):
    try:
        rows = open(f).read().splitlines()[1:]
    except OSError:
        continue
    for row in rows:
        c = row.split()
        if c[3] == "0A" and int(c[1].rsplit(":", 1)[1], 16) == port:
            inodes.add("socket:[%s]" % c[9])
mine = set()
for fd in os.listdir("/proc/%s/fd" % pid):
    try:
        mine.add(os.readlink("/proc/%s/fd/%s" % (pid, fd)))
    except OSError:
        pass
sys.exit(0 if inodes and inodes <= mine else 2)
EOF
}

# start_server NAME [ARGS...]: start $SERVER in $WORK/NAME on a free port;
# sets SRV_PID and SRV_PORT. Returns non-zero when it would not start.
start_server() {
    name=$1
    shift
    dir="$WORK/$name"
    mkdir -p "$dir"
    for attempt in 1 2 3 4 5; do
        SRV_PORT=$(free_port)
        (cd "$dir" && exec "$SERVER" --port "$SRV_PORT" --bind 127.0.0.1 --save "" --appendonly no "$@") \
            >"$dir/server.log" 2>&1 &
        SRV_PID=$!
        PIDS="$PIDS $SRV_PID"
        why=timeout i=0
        while [ $i -lt $((100 * SCALE)) ]; do
            kill -0 "$SRV_PID" 2>/dev/null || { why=exited; break; }
            probe "$SRV_PORT" "$SRV_PID"
            case $? in
            0) return 0 ;;
            2) why=shared; break ;;    # another process listens on it too
            esac
            sleep 0.1
            i=$((i + 1))
        done
        kill -KILL "$SRV_PID" 2>/dev/null
        wait "$SRV_PID" 2>/dev/null
        drop_pid "$SRV_PID"
        case $why in
        shared) ;;
        exited)
            if ! grep -q -i "in use" "$dir/server.log"; then
                echo "redis_py_test: $name exited at startup; log:"
                tail -n 30 "$dir/server.log"
                return 1
            fi
            ;;
        *)
            echo "redis_py_test: $name did not answer PING within $((10 * SCALE)) s; log:"
            tail -n 30 "$dir/server.log"
            return 1
            ;;
        esac
        echo "redis_py_test: port $SRV_PORT taken (attempt $attempt), retrying"
    done
    echo "redis_py_test: $name: no free port after 5 attempts"
    return 1
}

# stop_server NAME PID: SIGTERM, wait up to 30 s; the server must exit with
# status 0 and leave no sanitizer report in its log.
stop_server() {
    name=$1 pid=$2
    kill -TERM "$pid" 2>/dev/null
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt $((300 * SCALE)) ]; do sleep 0.1; i=$((i + 1)); done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        fail "$name (pid $pid) did not exit within $((30 * SCALE)) s of SIGTERM"
    else
        wait "$pid"
        st=$?
        [ "$st" -eq 0 ] || fail "$name (pid $pid) exited with status $st after SIGTERM"
    fi
    drop_pid "$pid"
    if grep -q -e "ERROR: AddressSanitizer" -e "ERROR: LeakSanitizer" -e "WARNING: ThreadSanitizer" \
        -e "runtime error:" "$WORK/$name/server.log"; then
        fail "$name: sanitizer report in $WORK/$name/server.log"
    fi
}

echo "redis_py_test: server $SERVER, work dir $WORK"
if ! start_server plain; then
    fail "could not start the server"
    exit 1
fi
PLAIN_PID=$SRV_PID PLAIN_PORT=$SRV_PORT
if ! start_server auth --requirepass "$PASSWORD"; then
    fail "could not start the server with --requirepass"
    exit 1
fi
AUTH_PID=$SRV_PID AUTH_PORT=$SRV_PORT
echo "redis_py_test: plain server pid $PLAIN_PID port $PLAIN_PORT, auth server pid $AUTH_PID port $AUTH_PORT"

timeout --foreground -k 5 $((40 * SCALE)) "$PY" "$CHECK" "$PLAIN_PORT" "$AUTH_PORT" "$PASSWORD"
rc=$?
case $rc in
0) ;;
124 | 137) fail "redis_py_check.py killed after $((40 * SCALE)) s" ;;
*) fail "redis_py_check.py reported failures (exit $rc)" ;;
esac

for n in plain auth; do
    if [ "$n" = plain ]; then p=$PLAIN_PID; else p=$AUTH_PID; fi
    if ! kill -0 "$p" 2>/dev/null; then
        fail "$n server (pid $p) died during the test; log tail:"
        tail -n 30 "$WORK/$n/server.log"
    fi
    stop_server "$n" "$p"
done

if [ "$FAILS" -ne 0 ]; then
    echo "redis_py_test: $FAILS failure(s); server logs kept in $WORK"
    exit 1
fi
rm -rf "$WORK"
echo "redis_py_test: passed"
exit 0
