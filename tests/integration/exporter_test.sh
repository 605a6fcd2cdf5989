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
# (server/server.log, exporter.log, metrics-*.txt) is kept when the test failed.
set -u

TEST_NAME=exporter_test
EXPORTER=/usr/bin/prometheus-redis-exporter   # dpkg -L prometheus-redis-exporter
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/support/sc_server.sh
. "$ROOT/tests/support/sc_server.sh"
NOTES=0

sc_need_tools "$EXPORTER" "$PY" redis-cli
sc_need_server

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
        EXP_PORT=$(sc_free_port)
        "$EXPORTER" --redis.addr="redis://127.0.0.1:$SRV_PORT" \
            --web.listen-address="127.0.0.1:$EXP_PORT" --debug >"$WORK/exporter.log" 2>&1 &
        EXP_PID=$!
        sc_track "$EXP_PID"
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
        sc_drop_pid "$EXP_PID"
        if ! grep -q -i "in use" "$WORK/exporter.log"; then
            echo "$TEST_NAME: exporter did not serve /metrics within $((10 * SCALE)) s; log:"
            tail -n 30 "$WORK/exporter.log"
            return 1
        fi
        echo "$TEST_NAME: exporter port $EXP_PORT taken (attempt $attempt), retrying"
    done
    return 1
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
        sc_fail "$series: no such sample in /metrics ($M)"
        return
    fi
    case $op in
    present) ok=1 ;;
    eq) awk -v a="$got" -v b="$want" 'BEGIN { exit !(a + 0 == b + 0) }' && ok=1 || ok=0 ;;
    ge) awk -v a="$got" -v b="$want" 'BEGIN { exit !(a + 0 >= b + 0) }' && ok=1 || ok=0 ;;
    gt) awk -v a="$got" -v b="$want" 'BEGIN { exit !(a + 0 > b + 0) }' && ok=1 || ok=0 ;;
    *) sc_fail "bad operator $op"; return ;;
    esac
    if [ "$ok" -eq 1 ]; then
        echo "ok   $series = $got ($op${want:+ $want})"
    else
        sc_fail "$series = $got, expected $op $want"
    fi
}

# cli EXPECTED ARGS...: run redis-cli against the server; its output must be
# EXPECTED exactly.
cli() {
    want=$1
    shift
    got=$(redis-cli -p "$SRV_PORT" "$@" 2>&1)
    [ "$got" = "$want" ] || sc_fail "redis-cli $*: got '$got', expected '$want'"
}

# ---- run ---------------------------------------------------------------------

echo "$TEST_NAME: server $SERVER, exporter $EXPORTER, work dir $WORK"
sc_start_or_exit server
start_exporter || { sc_fail "could not start the exporter"; exit 1; }
echo "$TEST_NAME: exporter pid $EXP_PID port $EXP_PORT"

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
        sc_fail "second /metrics fetch failed $i times"
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
    sc_fail "redis_instance_info lacks redis_mode=\"standalone\" / role=\"master\": $(grep '^redis_instance_info' "$M")"
fi

# ---- the exporter's log ------------------------------------------------------

L="$WORK/exporter.log"
if grep -q 'Redis INFO ALL result' "$L"; then
    echo "ok   exporter log: INFO ALL answered"
else
    sc_fail "exporter log: no 'Redis INFO ALL result' line (INFO ALL not answered?)"
fi
if grep -q 'parseDBKeyspaceString inputKey: \[db0\] inputVal: \[keys=6,expires=1,' "$L"; then
    echo "ok   exporter log: keyspace line db0:keys=6,expires=1,... seen"
else
    sc_fail "exporter log: INFO keyspace line 'db0:keys=6,expires=1,...' never parsed"
fi
# Everything the exporter (1.45) logs when it cannot use part of INFO: the
# INFO command failing, a keyspace line it cannot split, a value of a known
# field that is not a number, a replica line it cannot read.
INFO_PARSE_ERRORS='Redis INFO( ALL)? err|parseDBKeyspaceString (strings\.Split|extractVal)|couldn.t parse .*, err: strconv|Invalid format for connected slave|Can not parse connected slave'
if grep -E "$INFO_PARSE_ERRORS" "$L" >"$WORK/info-parse-errors.txt"; then
    sc_fail "exporter log: INFO parsing problems:"
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

sc_stop_pid "$EXP_PID"
sc_stop server "$SRV_PID"
sc_finish_with "$FAILS failure(s), $NOTES note(s); files kept in $WORK" \
    "passed ($NOTES note(s) about the exporter's log)"
