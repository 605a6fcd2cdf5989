#!/bin/sh
# tests/integration/exporter_test.sh - slotcache scraped by the Prometheus
# Redis exporter (Debian prometheus-redis-exporter, which parses INFO ALL,
# CONFIG GET * and a few other commands): starts the server and the exporter
# on free loopback ports, makes a known number of writes, hits, misses and
# expirations with redis-cli, fetches /metrics and asserts the exact values.
# The exporter runs with --debug because it logs INFO parse problems at debug
# level only; its log must hold none of them.
#
# Run by scripts/run-tests.sh as `sh tests/integration/exporter_test.sh` from
# the repo root, or by hand the same way. The server is $SLOTCACHE_SERVER,
# else $SLOTCACHE_BUILD/slotcache-server (SLOTCACHE_BUILD defaults to build);
# SLOTCACHE_SERVER=/usr/bin/redis-server runs the same checks against Redis.
# Exit 0 when everything passed, 1 on any failure (each is printed), 77
# (skipped) when the exporter, redis-cli or python3 is missing. Processes are
# stopped by PID on every exit path; the directory under /tmp/slotcache-tests
# (server.log, exporter.log, metrics-*.txt) is kept when the test failed.
set -u

PY=/usr/bin/python3
EXPORTER=/usr/bin/prometheus-redis-exporter   # dpkg -L prometheus-redis-exporter

SERVER=${SLOTCACHE_SERVER:-${SLOTCACHE_BUILD:-build}/slotcache-server}
case "$SERVER" in
/*) ;;
*/*) SERVER="$(pwd)/$SERVER" ;;
*) SERVER=$(command -v "$SERVER" || echo "$SERVER") ;;
esac

SCALE=${SLOTCACHE_TIMEOUT_SCALE:-1}
case "$SCALE" in '' | *[!0-9]*) SCALE=1 ;; esac
[ "$SCALE" -ge 1 ] || SCALE=1

for tool in "$EXPORTER" "$PY" redis-cli; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "exporter_test: skipped: $tool not installed (scripts/deps.sh)"
        exit 77
    fi
done
if [ ! -x "$SERVER" ]; then
    echo "exporter_test: FAIL: server binary $SERVER missing (run make)"
    exit 1
fi

mkdir -p /tmp/slotcache-tests
WORK=$(mktemp -d /tmp/slotcache-tests/exporter.XXXXXX) || exit 1
PIDS=""          # processes started and not yet stopped
FAILS=0
NOTES=0

fail() {
    echo "exporter_test: FAIL: $*"
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
trap 'echo "exporter_test: interrupted"; exit 130' INT
trap 'echo "exporter_test: terminated"; exit 143' TERM HUP

free_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# owns_port PID PORT: every listening socket on PORT belongs to PID
# (slotcache listens with SO_REUSEPORT: another server could share a port).
owns_port() {
    "$PY" - "$1" "$2" <<'EOF'
import os, sys
pid, port = sys.argv[1], int(sys.argv[2])
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
sys.exit(0 if inodes and inodes <= mine else 1)
EOF
}

# start_server: sets SRV_PID, SRV_PORT; non-zero when it would not start.
start_server() {
    dir="$WORK"
    for attempt in 1 2 3 4 5; do
        SRV_PORT=$(free_port)
        (cd "$dir" && exec "$SERVER" --port "$SRV_PORT" --bind 127.0.0.1 --save "" --appendonly no) \
            >"$dir/server.log" 2>&1 &
        SRV_PID=$!
        PIDS="$PIDS $SRV_PID"
        why=timeout i=0
        while [ $i -lt $((100 * SCALE)) ]; do
            kill -0 "$SRV_PID" 2>/dev/null || { why=exited; break; }
            if [ "$(redis-cli -p "$SRV_PORT" PING 2>/dev/null)" = PONG ]; then
                owns_port "$SRV_PID" "$SRV_PORT" && return 0
                why=shared
                break
            fi
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
                echo "exporter_test: server exited at startup; log:"
                tail -n 30 "$dir/server.log"
                return 1
            fi
            ;;
        *)
            echo "exporter_test: server did not answer PING within $((10 * SCALE)) s; log:"
            tail -n 30 "$dir/server.log"
            return 1
            ;;
        esac
        echo "exporter_test: port $SRV_PORT taken (attempt $attempt), retrying"
    done
    echo "exporter_test: no free port for the server after 5 attempts"
    return 1
}

# fetch URL FILE: GET URL into FILE; non-zero on any error.
fetch() {
    if command -v curl >/dev/null 2>&1; then
        curl -s -f --max-time 10 -o "$2" "$1"
    else
        "$PY" -c 'import sys, urllib.request
open(sys.argv[2], "wb").write(urllib.request.urlopen(sys.argv[1], timeout=10).read())' "$1" "$2" 2>/dev/null
    fi
}

# start_exporter: sets EXP_PID, EXP_PORT; waits until /metrics answers with
# a redis_up sample (bounded); non-zero when it would not start.
start_exporter() {
    for attempt in 1 2 3 4 5; do
        EXP_PORT=$(free_port)
        "$EXPORTER" --redis.addr="redis://127.0.0.1:$SRV_PORT" \
            --web.listen-address="127.0.0.1:$EXP_PORT" --debug >"$WORK/exporter.log" 2>&1 &
        EXP_PID=$!
        PIDS="$PIDS $EXP_PID"
        i=0
        while [ $i -lt $((100 * SCALE)) ]; do
            kill -0 "$EXP_PID" 2>/dev/null || break
            if fetch "http://127.0.0.1:$EXP_PORT/metrics" "$WORK/metrics-0.txt" &&
                grep -q '^redis_up ' "$WORK/metrics-0.txt"; then
                return 0
            fi
            sleep 0.1
            i=$((i + 1))
        done
        kill -KILL "$EXP_PID" 2>/dev/null
        wait "$EXP_PID" 2>/dev/null
        drop_pid "$EXP_PID"
        if ! grep -q -i "in use" "$WORK/exporter.log"; then
            echo "exporter_test: exporter did not serve /metrics within $((10 * SCALE)) s; log:"
            tail -n 30 "$WORK/exporter.log"
            return 1
        fi
        echo "exporter_test: exporter port $EXP_PORT taken (attempt $attempt), retrying"
    done
    return 1
}

stop_pid() {   # PID -> exit status in STOP_STATUS ("timeout" if it needed SIGKILL)
    kill -TERM "$1" 2>/dev/null
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt $((300 * SCALE)) ]; do sleep 0.1; i=$((i + 1)); done
    if kill -0 "$1" 2>/dev/null; then
        kill -KILL "$1" 2>/dev/null
        wait "$1" 2>/dev/null
        STOP_STATUS=timeout
    else
        wait "$1"
        STOP_STATUS=$?
    fi
    drop_pid "$1"
}

# ---- metric assertions on the file $M ------------------------------------

# metric SERIES: value of the sample whose name{labels} is exactly SERIES.
metric() {
    awk -v n="$1" '$1 == n { print $2; found = 1; exit } END { exit !found }' "$M"
}

# expect_metric SERIES OP [VALUE]: OP is present, eq, ge or gt (numeric
# comparison, so 6.7108864e+07 equals 67108864).
expect_metric() {
    series=$1 op=$2 want=${3:-}
    if ! got=$(metric "$series"); then
        fail "$series: no such sample in /metrics ($M)"
        return
    fi
    case $op in
    present) ok=1 ;;
    eq) awk -v a="$got" -v b="$want" 'BEGIN { exit !(a + 0 == b + 0) }' && ok=1 || ok=0 ;;
    ge) awk -v a="$got" -v b="$want" 'BEGIN { exit !(a + 0 >= b + 0) }' && ok=1 || ok=0 ;;
    gt) awk -v a="$got" -v b="$want" 'BEGIN { exit !(a + 0 > b + 0) }' && ok=1 || ok=0 ;;
    *) fail "bad operator $op"; return ;;
    esac
    if [ "$ok" -eq 1 ]; then
        echo "ok   $series = $got ($op${want:+ $want})"
    else
        fail "$series = $got, expected $op $want"
    fi
}

# cli EXPECTED ARGS...: run redis-cli against the server; its output must be
# EXPECTED exactly.
cli() {
    want=$1
    shift
    got=$(redis-cli -p "$SRV_PORT" "$@" 2>&1)
    [ "$got" = "$want" ] || fail "redis-cli $*: got '$got', expected '$want'"
}

# ---- run ---------------------------------------------------------------------

echo "exporter_test: server $SERVER, exporter $EXPORTER, work dir $WORK"
start_server || { fail "could not start the server"; exit 1; }
echo "exporter_test: server pid $SRV_PID port $SRV_PORT"
start_exporter || { fail "could not start the exporter"; exit 1; }
echo "exporter_test: exporter pid $EXP_PID port $EXP_PORT"

# First scrape (from start_exporter): an empty, reachable server.
M="$WORK/metrics-0.txt"
expect_metric redis_up eq 1
expect_metric 'redis_db_keys{db="db0"}' eq 0
expect_metric redis_keyspace_hits_total eq 0
expect_metric redis_keyspace_misses_total eq 0

# Known workload: 7 SETs, 6 keys left (1 expiring), 1 expired key,
# 6 GETs = 3 hits + 3 misses (the expired key's GET is one of the misses).
cli OK CONFIG SET maxmemory 64mb
for k in k1 k2 k3 k4 k5; do cli OK SET "$k" "value-$k"; done
cli OK SET t1 ttl-value EX 1000
cli OK SET gone short-lived PX 100
sleep 0.4
cli "" GET gone
cli value-k1 GET k1
cli value-k2 GET k2
cli value-k3 GET k3
cli "" GET nope1
cli "" GET nope2
cli 6 DBSIZE

# Scrape again (bounded retries: the exporter may still be busy).
M="$WORK/metrics-1.txt"
i=0
until fetch "http://127.0.0.1:$EXP_PORT/metrics" "$M" && grep -q '^redis_up ' "$M"; do
    i=$((i + 1))
    if [ $i -ge $((50 * SCALE)) ]; then
        fail "second /metrics fetch failed $i times"
        exit 1
    fi
    sleep 0.1
done

expect_metric redis_up eq 1
expect_metric redis_connected_clients ge 1
expect_metric redis_keyspace_hits_total eq 3
expect_metric redis_keyspace_misses_total eq 3
expect_metric redis_expired_keys_total eq 1
expect_metric redis_evicted_keys_total eq 0
expect_metric redis_memory_used_bytes gt 0
expect_metric redis_memory_max_bytes eq 67108864
expect_metric redis_config_maxmemory eq 67108864
expect_metric 'redis_db_keys{db="db0"}' eq 6
expect_metric 'redis_db_keys_expiring{db="db0"}' eq 1
expect_metric 'redis_db_keys{db="db1"}' eq 0
# INFO commandstats parsed (the exporter drops malformed lines silently).
expect_metric 'redis_commands_total{cmd="get"}' eq 6
expect_metric 'redis_commands_total{cmd="set"}' eq 7
expect_metric redis_uptime_in_seconds ge 0
if grep -q '^redis_instance_info{.*redis_mode="standalone".*role="master"' "$M"; then
    echo "ok   redis_instance_info has redis_mode=standalone, role=master"
else
    fail "redis_instance_info lacks redis_mode=\"standalone\" / role=\"master\": $(grep '^redis_instance_info' "$M")"
fi

# ---- the exporter's log ------------------------------------------------------

L="$WORK/exporter.log"
if grep -q 'Redis INFO ALL result' "$L"; then
    echo "ok   exporter log: INFO ALL answered"
else
    fail "exporter log: no 'Redis INFO ALL result' line (INFO ALL not answered?)"
fi
if grep -q 'parseDBKeyspaceString inputKey: \[db0\] inputVal: \[keys=6,expires=1,' "$L"; then
    echo "ok   exporter log: keyspace line db0:keys=6,expires=1,... seen"
else
    fail "exporter log: INFO keyspace line 'db0:keys=6,expires=1,...' never parsed"
fi
# Everything the exporter (1.45) logs when it cannot use part of INFO: the
# INFO command failing, a keyspace line it cannot split, a value of a known
# field that is not a number, a replica line it cannot read.
INFO_PARSE_ERRORS='Redis INFO( ALL)? err|parseDBKeyspaceString (strings\.Split|extractVal)|couldn.t parse .*, err: strconv|Invalid format for connected slave|Can not parse connected slave'
if grep -E "$INFO_PARSE_ERRORS" "$L" >"$WORK/info-parse-errors.txt"; then
    fail "exporter log: INFO parsing problems:"
    head -n 20 "$WORK/info-parse-errors.txt"
else
    echo "ok   exporter log: no INFO parsing problems"
fi
# Other errors and warnings (e.g. a command the server lacks) are reported,
# they do not fail this test.
grep -E 'level=(error|warning|fatal)' "$L" | grep -v -E "$INFO_PARSE_ERRORS" >"$WORK/other-errors.txt"
while IFS= read -r line; do
    echo "NOTE exporter logged: $line"
    NOTES=$((NOTES + 1))
done <"$WORK/other-errors.txt"

# ---- stop ----------------------------------------------------------------------

stop_pid "$EXP_PID"
if ! kill -0 "$SRV_PID" 2>/dev/null; then
    fail "server (pid $SRV_PID) died during the test; log tail:"
    tail -n 30 "$WORK/server.log"
fi
stop_pid "$SRV_PID"
[ "$STOP_STATUS" = 0 ] || fail "server (pid $SRV_PID) exit status after SIGTERM: $STOP_STATUS"
if grep -q -e "ERROR: AddressSanitizer" -e "ERROR: LeakSanitizer" -e "WARNING: ThreadSanitizer" \
    -e "runtime error:" "$WORK/server.log"; then
    fail "sanitizer report in $WORK/server.log"
fi

if [ "$FAILS" -ne 0 ]; then
    echo "exporter_test: $FAILS failure(s), $NOTES note(s); files kept in $WORK"
    exit 1
fi
rm -rf "$WORK"
echo "exporter_test: passed ($NOTES note(s) about the exporter's log)"
exit 0
