#!/bin/sh
# tests/cluster/create_cluster_test.sh - scripts/create-cluster end to end,
# driven through a config.sh in its working directory as its users do, once
# on real redis-server 7.0 nodes and once on slotcache nodes, with the same
# checks:
#
# start 6 nodes; create -f (3 masters, 3 replicas) with no [ERR] and no
# [WARNING] but the "same host" one redis-server prints as well; every node
# reaches cluster_state:ok (the time from create's start is printed) and
# every replica syncs; `redis-cli -c` SETs keys of many slots through one
# node and GETs them through another, each master holds some;
# `redis-cli --cluster check` is clean; `call` reaches all six (with one and
# with three arguments); restart brings the cluster back to ok with the
# replicas synced; stop closes every port and ends every process; clean
# leaves only config.sh. The config.sh files are lib/create_cluster.sh's
# write_config (BIN_PATH for redis-server, SERVER_BIN for slotcache:
# $SLOTCACHE_SERVER, else $SLOTCACHE_BUILD/slotcache-server);
# on slotcache nodes each node also answers cluster_enabled:1, logs to its
# P.log, and exits cleanly (no sanitizer report). Without redis-server the
# first part is skipped (a failure when CI=true).
#
# Every node runs daemonized with the cluster directory as its working
# directory: the EXIT trap SIGKILLs, by pid, any process still running there,
# prints the ends of the node logs if the test failed, and removes the test's
# directory under /tmp/slotcache-tests, so no run leaves a process or a
# directory behind.
set -u

TEST_NAME=create_cluster_test
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/support/sc_server.sh disable=SC1091
. "$ROOT/tests/support/sc_server.sh"
# shellcheck source=tests/cluster/lib/create_cluster.sh disable=SC1091
. "$ROOT/tests/cluster/lib/create_cluster.sh"
sc_need_tools redis-cli "$PY"

# ---- usage --------------------------------------------------------------
if out=$(cd "$CDIR" && sh "$CC" help); then
    echo "$out" | grep -q "^create \[-f\]" || sc_fail "help: unexpected output: $out"
else
    sc_fail "help exits non-zero"
fi
(cd "$CDIR" && sh "$CC" no-such-verb >/dev/null) && sc_fail "an unknown verb exits 0"

# cycle KIND: the whole sequence on 6 nodes of KIND (redis or slotcache),
# config.sh already written.
cycle() {
    kind=$1
    NODES=6
    echo "$TEST_NAME: $kind cluster on ports $((BASE + 1))-$((BASE + NODES)) in $CDIR"
    if run_cc start 30 start; then
        [ "$(echo "$OUT" | grep -c '^Starting ')" -eq 6 ] || sc_fail "start: not 6 'Starting' lines: $OUT"
        for p in $(ports); do
            info=$(redis-cli -p "$p" info server | tr -d '\r')
            case $kind in
            redis) echo "$info" | grep -q '^executable:.*redis-server' || sc_fail "node $p is not redis-server" ;;
            *)
                echo "$info" | grep -q '^redis_version:' || sc_fail "node $p: no INFO server"
                e=$(redis-cli -p "$p" info cluster | tr -d '\r' | grep '^cluster_enabled:')
                [ "$e" = "cluster_enabled:1" ] || sc_fail "node $p: '$e'"
                [ -s "$CDIR/$p.log" ] || sc_fail "node $p wrote no $p.log"
                ;;
            esac
        done
    fi
    t0=$(date +%s%N)
    if run_cc "create -f" 60 create -f; then
        echo "$OUT" | grep -q "\[OK\] All 16384 slots covered." || sc_fail "create: no coverage line: $OUT"
        echo "$OUT" | grep -q "\[OK\] All nodes agree about slots configuration." || sc_fail "create: nodes disagree: $OUT"
        echo "$OUT" | grep -q "\[ERR\]" && sc_fail "create printed an error: $OUT"
        # The one warning redis-server prints too: every node is on 127.0.0.1.
        warn=$(echo "$OUT" | grep "\[WARNING\]" | grep -v "Some slaves are in the same host as their master")
        [ -z "$warn" ] || sc_fail "create warned: $warn"
    fi
    if wait_until 20 all_ok; then
        echo "$TEST_NAME: $kind: create to cluster_state:ok on all 6 nodes in $((($(date +%s%N) - t0) / 1000000)) ms"
    else
        sc_fail "not every node reached cluster_state:ok"
    fi
    wait_until 30 replicas_synced || sc_fail "the replicas did not sync after create"

    # Keys of many slots, written through node 1 and read through node 3.
    P1=$((BASE + 1)) P3=$((BASE + 3))
    k=0
    while [ $k -lt 30 ]; do
        r=$(redis-cli -c -p "$P1" set "key:$k" "v$k" 2>&1)
        [ "$r" = OK ] || sc_fail "redis-cli -c SET key:$k: $r"
        k=$((k + 1))
    done
    k=0
    while [ $k -lt 30 ]; do
        r=$(redis-cli -c -p "$P3" get "key:$k" 2>&1)
        [ "$r" = "v$k" ] || sc_fail "redis-cli -c GET key:$k: '$r'"
        k=$((k + 1))
    done
    masters_with_keys=0
    for p in $(ports); do
        if redis-cli -p "$p" role | head -n 1 | grep -q '^master$'; then
            n=$(redis-cli -p "$p" dbsize)
            [ "$n" -gt 0 ] && masters_with_keys=$((masters_with_keys + 1))
        fi
    done
    [ "$masters_with_keys" -eq 3 ] || sc_fail "$masters_with_keys of 3 masters hold keys"

    check=$(timeout $((60 * SCALE)) redis-cli --cluster check "127.0.0.1:$P1" 2>&1)
    rc=$?
    [ "$rc" -eq 0 ] || sc_fail "--cluster check exited $rc"
    echo "$check" | grep -q "\[OK\] All nodes agree about slots configuration." || sc_fail "check: nodes disagree"
    echo "$check" | grep -q "\[OK\] All 16384 slots covered." || sc_fail "check: slots not covered"
    echo "$check" | grep -q "\[OK\] 30 keys in 3 masters." || sc_fail "check: not 30 keys in 3 masters"
    echo "$check" | grep -q -e "\[ERR\]" -e "\[WARNING\]" && sc_fail "check reported problems"
    [ "$FAILS" -eq 0 ] || echo "$check"

    if run_cc "call ping" 30 call ping; then
        [ "$(echo "$OUT" | grep -c '^PONG$')" -eq 6 ] || sc_fail "call ping: $OUT"
    fi
    if run_cc "call cluster countkeysinslot" 30 call cluster countkeysinslot 0; then
        [ "$(echo "$OUT" | grep -c '^[0-9]')" -eq 6 ] || sc_fail "call with 3 arguments: $OUT"
    fi

    # restart: every node back from its nodes.conf, the cluster ok again.
    run_cc restart 60 restart
    wait_until 30 all_ok || sc_fail "the cluster is not ok after restart"
    wait_until 30 replicas_synced || sc_fail "the replicas did not sync again after restart"

    run_cc stop 60 stop
    [ "$(echo "$OUT" | grep -c '^Stopping ')" -eq 6 ] || sc_fail "stop: not 6 'Stopping' lines: $OUT"
    none_answer || sc_fail "a node still answers after stop"
    wait_until 10 no_node_processes || sc_fail "processes still running in $CDIR after stop: $(node_pids)"
    ls "$CDIR"/nodes-*.conf >/dev/null 2>&1 || sc_fail "no nodes-P.conf written"
    [ "$kind" = slotcache ] && check_node_logs
    run_cc clean 30 clean
    check_clean
}

# ---- part 1: redis-server ------------------------------------------------
REDIS=$(command -v redis-server || true)
if [ -z "$REDIS" ]; then
    if [ "${CI:-}" = true ]; then
        sc_fail "no redis-server, and CI=true (sh scripts/deps.sh installs it)"
    else
        echo "$TEST_NAME: no redis-server: part 1 skipped"
    fi
else
    BASE=$(free_base 6) || { sc_fail "no free port range"; exit 1; }
    write_config redis
    cycle redis
fi

# ---- part 2: slotcache nodes ---------------------------------------------
sc_need_server
if [ "$SERVER_IS_REDIS" -eq 1 ]; then
    echo "$TEST_NAME: $SERVER is redis-server: part 2 is part 1"
else
    BASE=$(free_base 6) || { sc_fail "no free port range"; exit 1; }
    write_config slotcache
    cycle slotcache
fi

echo "$TEST_NAME: +$(($(date +%s) - T0))s done"
sc_finish
