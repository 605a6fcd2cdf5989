#!/bin/sh
# scripts/bench.sh - `make bench`: slotcache against redis-server, side by side
# on this machine, with the shared benchmark tools (../shared/bench). Prints
# throughput and CPU-per-request ratios (bench-throughput) and bytes per key
# (bench-memory) for both servers. Options via environment:
#   BENCH_THREADS (default 1)  slotcache --threads for the throughput run
#   BENCH_ROUNDS  (default 5)  bench-throughput rounds
set -e
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BENCH_DIR=${BENCH_DIR:-../shared/bench}
THREADS=${BENCH_THREADS:-1}
ROUNDS=${BENCH_ROUNDS:-5}
SERVER=build/slotcache-server
[ -x "$SERVER" ] || { echo "bench: build $SERVER first (make)"; exit 1; }
[ -d "$BENCH_DIR" ] || { echo "bench: $BENCH_DIR not found"; exit 1; }
command -v redis-server >/dev/null || { echo "bench: redis-server not installed (sh scripts/deps.sh)"; exit 1; }

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_ping() {
    i=0
    while [ $i -lt 100 ]; do
        redis-cli -p "$1" ping 2>/dev/null | grep -q PONG && return 0
        sleep 0.1; i=$((i+1))
    done
    echo "bench: server on port $1 did not answer"; return 1
}
TMP=$(mktemp -d)
RPORT=$(free_port); SPORT=$(free_port)
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
    --dir "$TMP" > "$TMP/redis.log" 2>&1 &
RPID=$!
# In a directory of its own, like redis-server above: started from the
# repository root, whatever a server writes (dump.rdb, nodes.conf) would land
# in the work tree.
mkdir "$TMP/slotcache"
(cd "$TMP/slotcache" && exec "$ROOT/$SERVER" --port "$SPORT" --bind 127.0.0.1 --save '' --appendonly no \
    --threads "$THREADS") > "$TMP/slotcache.log" 2>&1 &
SPID=$!
trap 'kill $RPID $SPID 2>/dev/null; wait $RPID $SPID 2>/dev/null; rm -rf "$TMP"' EXIT INT TERM
wait_ping "$RPORT"; wait_ping "$SPORT"

echo "== throughput: slotcache (A, threads $THREADS, port $SPORT) vs redis-server (B, port $RPORT)"
/usr/bin/python3 "$BENCH_DIR/bench-throughput" "$SPORT" "$RPORT" --rounds "$ROUNDS" | tee "$TMP/tp.txt"
echo "== memory: slotcache"
/usr/bin/python3 "$BENCH_DIR/bench-memory" "$SPORT" | tee "$TMP/mem-s.txt"
echo "== memory: redis-server"
/usr/bin/python3 "$BENCH_DIR/bench-memory" "$RPORT" | tee "$TMP/mem-r.txt"
S=$(tail -1 "$TMP/mem-s.txt" | awk '{print $NF}')
R=$(tail -1 "$TMP/mem-r.txt" | awk '{print $NF}')
echo "bytes/key ratio slotcache/redis: $(/usr/bin/python3 -c "print(round($S/$R,3))")"
