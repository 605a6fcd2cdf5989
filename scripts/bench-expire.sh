#!/bin/sh
# scripts/bench-expire.sh - benchmark (not a test): mass expiry latency of
# slotcache against redis-server, side by side on this machine.
#
# Both servers start on free loopback ports (no persistence). Then, one
# server at a time: 1,000,000 keys are loaded with redis-cli --pipe, a
# second pipe gives every key the same PEXPIREAT millisecond about 3 s
# ahead, and a probe PINGs on 4 connections from then until 3 s after that
# moment, recording the longest gap between two replies, and polls DBSIZE
# every 10 ms after the deadline until it reaches 0. Prints
#   max reply gap ms: slotcache X redis Y
#   ms until DBSIZE 0 (after the deadline): slotcache A redis B
# Environment:
#   BENCH_KEYS    (default 1000000)  number of keys
#   BENCH_TAG     (default empty)    key prefix hash tag, e.g. '{t}' puts
#                                    every key in one hash slot
#   BENCH_THREADS (default: slotcache's own default) slotcache --threads
#   SLOTCACHE_SERVER (default build/slotcache-server)
# The probe gives up on a server that does not answer for 30 s (reported as
# "stalled") or whose DBSIZE has not reached 0 within 120 s ("timeout").
set -u
cd "$(dirname "$0")/.." || exit 1

KEYS=${BENCH_KEYS:-1000000}
TAG=${BENCH_TAG:-}
THREADS=${BENCH_THREADS:-}
SC_BIN=${SLOTCACHE_SERVER:-build/slotcache-server}
PY=/usr/bin/python3

[ -x "$SC_BIN" ] || { echo "bench-expire: $SC_BIN missing (make)"; exit 1; }
SC_BIN=$(cd "$(dirname "$SC_BIN")" && pwd)/$(basename "$SC_BIN")
command -v redis-server >/dev/null || { echo "bench-expire: redis-server not installed"; exit 1; }
command -v redis-cli >/dev/null || { echo "bench-expire: redis-cli not installed"; exit 1; }
[ -x "$PY" ] || { echo "bench-expire: $PY missing"; exit 1; }

TMP=$(mktemp -d /tmp/bench-expire.XXXXXX) || exit 1
SC_PID=""
R_PID=""

stop_pid() {   # pid: TERM, wait up to 10 s, then KILL
    [ -n "$1" ] || return 0
    kill -TERM "$1" 2>/dev/null
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}
cleanup() {
    stop_pid "$SC_PID"
    stop_pid "$R_PID"
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_ping() {   # port pid
    i=0
    while [ $i -lt 100 ]; do
        kill -0 "$2" 2>/dev/null || return 1
        [ "$(redis-cli -p "$1" PING 2>/dev/null)" = "PONG" ] && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# ---- the helpers (Python) ------------------------------------------------

# gen.py set N TAG FILE          RESP for SET <tag>k:i v, i < N
# gen.py pexpireat N TAG FILE T  RESP for PEXPIREAT <tag>k:i T
cat >"$TMP/gen.py" <<'EOF'
import sys
what, n, tag, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
with open(path, "wb") as f:
    chunk = []
    for i in range(n):
        k = ("%sk:%d" % (tag, i)).encode()
        if what == "set":
            chunk.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nv\r\n" % (len(k), k))
        else:
            t = sys.argv[5].encode()
            chunk.append(b"*3\r\n$9\r\nPEXPIREAT\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(t), t))
        if len(chunk) == 10000:
            f.write(b"".join(chunk))
            chunk = []
    f.write(b"".join(chunk))
EOF

# probe.py PORT DEADLINE_MS: PING on 4 connections until DEADLINE + 3 s,
# DBSIZE every 10 ms after the deadline until it is 0. Prints "GAP_MS ZERO_MS" (ZERO_MS relative to the
# deadline), or "stalled"/"timeout" in place of a number.
cat >"$TMP/probe.py" <<'EOF'
import socket, sys, time
port, deadline = int(sys.argv[1]), int(sys.argv[2]) / 1000.0

def conn():
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(30)
    return s

def call(s, cmd):
    s.sendall(cmd)
    buf = b""
    while not buf.endswith(b"\r\n"):
        data = s.recv(4096)
        if not data:
            raise OSError("connection closed")
        buf += data
    return buf

PING = b"*1\r\n$4\r\nPING\r\n"
DBSIZE = b"*1\r\n$6\r\nDBSIZE\r\n"
probes = [conn() for _ in range(4)]
gap = "stalled"
zero = "stalled"
zero_at = None
try:
    last = time.time()
    worst = 0.0
    next_dbsize = deadline
    while last < deadline + 3:
        for p in probes:
            call(p, PING)
            now = time.time()
            worst = max(worst, now - last)
            last = now
        if zero_at is None and last >= next_dbsize:   # every 10 ms after the deadline
            next_dbsize = last + 0.01
            if int(call(probes[0], DBSIZE)[1:]) == 0:
                zero_at = time.time()
            now = time.time()
            worst = max(worst, now - last)
            last = now
    gap = "%.1f" % (worst * 1000)
    zero = "timeout"
    if zero_at is not None:
        zero = "%.0f" % ((zero_at - deadline) * 1000)
    while zero_at is None and time.time() < deadline + 120:
        n = int(call(probes[0], DBSIZE)[1:])
        if n == 0:
            zero = "%.0f" % ((time.time() - deadline) * 1000)
            break
        time.sleep(0.01)
except (OSError, socket.timeout):
    pass
print(gap, zero)
EOF

now_ms() {
    "$PY" -c 'import time; print(int(time.time() * 1000))'
}

# run_one NAME PORT -> sets GAP ZERO
run_one() {
    name=$1 port=$2
    start=$(now_ms)
    out=$(redis-cli -p "$port" --pipe <"$TMP/set.resp" 2>&1)
    echo "$out" | grep -q "errors: 0," || { echo "bench-expire: $name: SET pipe failed: $out"; exit 1; }
    load_ms=$(($(now_ms) - start))
    # Generating the PEXPIREAT stream takes about as long as the SET one
    # did, and its pipe about as long as the SET pipe: aim 3 s past the
    # expected end of both.
    deadline=$(($(now_ms) + GEN_MS + load_ms * 5 / 4 + 3000))
    "$PY" "$TMP/gen.py" pexpireat "$KEYS" "$TAG" "$TMP/exp.resp" "$deadline"
    out=$(redis-cli -p "$port" --pipe <"$TMP/exp.resp" 2>&1)
    echo "$out" | grep -q "errors: 0," || { echo "bench-expire: $name: PEXPIREAT pipe failed: $out"; exit 1; }
    ahead=$((deadline - $(now_ms)))
    dbsize=$(redis-cli -p "$port" DBSIZE)
    echo "$name: $dbsize keys loaded in ${load_ms} ms; deadline ${ahead} ms ahead"
    res=$("$PY" "$TMP/probe.py" "$port" "$deadline")
    GAP=${res% *} ZERO=${res#* }
    echo "$name: max reply gap ${GAP} ms, DBSIZE 0 at deadline + ${ZERO} ms"
}

SC_PORT=$(free_port)
R_PORT=$(free_port)
while [ "$R_PORT" = "$SC_PORT" ]; do R_PORT=$(free_port); done
mkdir -p "$TMP/sc" "$TMP/redis"
if [ -n "$THREADS" ]; then
    (cd "$TMP/sc" && exec "$SC_BIN" --port "$SC_PORT" --bind 127.0.0.1 --save '' --appendonly no \
        --threads "$THREADS") >"$TMP/sc/server.log" 2>&1 &
else
    (cd "$TMP/sc" && exec "$SC_BIN" --port "$SC_PORT" --bind 127.0.0.1 --save '' --appendonly no) \
        >"$TMP/sc/server.log" 2>&1 &
fi
SC_PID=$!
redis-server --port "$R_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$TMP/redis" \
    >"$TMP/redis/server.log" 2>&1 &
R_PID=$!
wait_ping "$SC_PORT" "$SC_PID" || { echo "bench-expire: slotcache did not start"; cat "$TMP/sc/server.log"; exit 1; }
wait_ping "$R_PORT" "$R_PID" || { echo "bench-expire: redis-server did not start"; cat "$TMP/redis/server.log"; exit 1; }

echo "== $KEYS keys${TAG:+ with hash tag $TAG}: slotcache (port $SC_PORT) vs redis-server (port $R_PORT)"
start=$(now_ms)
"$PY" "$TMP/gen.py" set "$KEYS" "$TAG" "$TMP/set.resp"
GEN_MS=$(($(now_ms) - start))
run_one slotcache "$SC_PORT"
SC_GAP=$GAP SC_ZERO=$ZERO
run_one redis "$R_PORT"
R_GAP=$GAP R_ZERO=$ZERO
echo "max reply gap ms: slotcache $SC_GAP redis $R_GAP"
echo "ms until DBSIZE 0 (after the deadline): slotcache $SC_ZERO redis $R_ZERO"
