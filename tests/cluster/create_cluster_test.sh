#!/bin/sh
# tests/cluster/create_cluster_test.sh - scripts/create-cluster end to end,
# driven through a config.sh in its working directory as its users do.
#
# Part 1, real redis-server 7.0 nodes (config.sh points BIN_PATH at a
# directory holding a redis-server symlink): start 6 nodes, create -f (3
# masters, 3 replicas), every node reaches cluster_state:ok, `redis-cli -c`
# SETs keys of many slots through one node and GETs them through another, each
# master holds some, `redis-cli --cluster check` is clean, `call` reaches all
# six, restart brings the cluster back to ok, stop closes every port, clean
# leaves only config.sh. Without redis-server this part is skipped (a failure
# when CI=true).
#
# Part 2, slotcache nodes ($SLOTCACHE_SERVER, else
# $SLOTCACHE_BUILD/slotcache-server): start 3 with the same options, each
# answers with cluster_enabled:1 and logs to its P.log, stop exits them
# cleanly (no sanitizer report), clean. (create needs the cluster bus.)
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
CC="$ROOT/scripts/create-cluster"
CDIR="$WORK/cluster"
BIN="$WORK/bin"
mkdir -p "$CDIR" "$BIN"

# Pids of the processes whose working directory is CDIR (the daemonized
# nodes: they are not our children).
node_pids() {
    find /proc/[0-9]*/cwd -maxdepth 0 -lname "$CDIR" 2>/dev/null | sed 's|^/proc/\([0-9]*\)/cwd$|\1|'
}

# On every exit: SIGKILL nodes left running; WORK still there means the test
# failed or was interrupted (sc_finish removes it on success): show the ends
# of the node logs, then remove it too.
# shellcheck disable=SC2317  # called from the EXIT trap
cc_cleanup() {
    for p in $(node_pids); do
        echo "$TEST_NAME: killing node pid $p left running"
        kill -KILL "$p" 2>/dev/null
    done
    sc_cleanup
    [ -d "$WORK" ] || return
    for log in "$CDIR"/[0-9]*.log; do
        [ -f "$log" ] || continue
        echo "---- last lines of ${log##*/}:"
        tail -n 15 "$log"
    done
    rm -rf "$WORK"
}
trap cc_cleanup EXIT

# A base port B with B+1..B+N and their bus ports free; bus ports stay under
# the ephemeral range.
free_base() {
    "$PY" - "$1" <<'EOF'
import random, socket, sys
n = int(sys.argv[1])
def free(p):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", p))
        return True
    except OSError:
        return False
    finally:
        s.close()
for _ in range(500):
    b = random.randrange(10000, 22000 - n)
    if all(free(b + i) and free(b + i + 10000) for i in range(1, n + 1)):
        print(b)
        sys.exit(0)
sys.exit(1)
EOF
}

# wait_until SECONDS CMD...: poll CMD every 0.1 s, bounded by SECONDS * SCALE.
wait_until() {
    limit=$(($1 * 10 * SCALE))
    shift
    i=0
    while [ "$i" -lt "$limit" ]; do
        "$@" && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

ports() {   # the NODES ports of the current config
    i=1
    while [ "$i" -le "$NODES" ]; do echo $((BASE + i)); i=$((i + 1)); done
}

all_ok() {
    for p in $(ports); do
        redis-cli -p "$p" cluster info 2>/dev/null | grep -q "^cluster_state:ok" || return 1
    done
}

# Every replica's link to its master is up (a master asked to SHUTDOWN while
# a replica is still syncing waits for it, up to Redis's shutdown-timeout).
replicas_synced() {
    for p in $(ports); do
        info=$(redis-cli -p "$p" info replication 2>/dev/null | tr -d '\r')
        echo "$info" | grep -q '^role:slave' || continue
        echo "$info" | grep -q '^master_link_status:up' || return 1
    done
}

none_answer() {
    for p in $(ports); do
        redis-cli -p "$p" ping >/dev/null 2>&1 && return 1
    done
    return 0
}

T0=$(date +%s)

# run_cc LABEL BOUND VERB...: create-cluster VERB in CDIR, bounded, output in
# $OUT; a failure unless it exits 0. Prints when it ran (seconds into the test).
run_cc() {
    label=$1 bound=$(($2 * SCALE))
    shift 2
    echo "$TEST_NAME: +$(($(date +%s) - T0))s create-cluster $label"
    OUT=$(cd "$CDIR" && timeout -k 5 "$bound" sh "$CC" "$@" 2>&1)
    rc=$?
    [ "$rc" -eq 0 ] && return 0
    sc_fail "create-cluster $label exited $rc; output:"
    echo "$OUT"
    return 1
}

no_node_processes() {
    [ -z "$(node_pids)" ]
}

check_clean() {
    left=""
    for f in "$CDIR"/* "$CDIR"/.[!.]*; do
        [ -e "$f" ] && [ "$f" != "$CDIR/config.sh" ] && left="$left ${f##*/}"
    done
    [ -z "$left" ] || sc_fail "clean left:$left"
}

sc_need_tools redis-cli "$PY"

# ---- usage --------------------------------------------------------------
if out=$(cd "$CDIR" && sh "$CC" help); then
    echo "$out" | grep -q "^create \[-f\]" || sc_fail "help: unexpected output: $out"
else
    sc_fail "help exits non-zero"
fi
(cd "$CDIR" && sh "$CC" no-such-verb >/dev/null) && sc_fail "an unknown verb exits 0"

# ---- part 1: redis-server ------------------------------------------------
REDIS=$(command -v redis-server || true)
if [ -z "$REDIS" ]; then
    if [ "${CI:-}" = true ]; then
        sc_fail "no redis-server, and CI=true (sh scripts/deps.sh installs it)"
    else
        echo "$TEST_NAME: no redis-server: part 1 skipped"
    fi
else
    ln -s "$REDIS" "$BIN/redis-server"
    NODES=6
    BASE=$(free_base $NODES) || { sc_fail "no free port range"; exit 1; }
    # The pid file: Redis writes /var/run/redis.pid when daemonized without
    # one. No diskless-sync delay: a replica's full sync would wait 5 s.
    cat >"$CDIR/config.sh" <<EOF
BIN_PATH="$BIN"
PORT=$BASE
TIMEOUT=$((2000 * SCALE))
ADDITIONAL_OPTIONS="--bind 127.0.0.1 --pidfile $CDIR/redis.pid --repl-diskless-sync-delay 0"
EOF
    echo "$TEST_NAME: redis-server cluster on ports $((BASE + 1))-$((BASE + NODES)) in $CDIR"
    if run_cc start 30 start; then
        [ "$(echo "$OUT" | grep -c '^Starting ')" -eq 6 ] || sc_fail "start: not 6 'Starting' lines: $OUT"
        for p in $(ports); do
            role=$(redis-cli -p "$p" info server | grep -c '^executable:.*redis-server')
            [ "$role" -eq 1 ] || sc_fail "node $p is not redis-server"
        done
    fi
    if run_cc "create -f" 60 create -f; then
        echo "$OUT" | grep -q "\[OK\] All 16384 slots covered." || sc_fail "create: no coverage line: $OUT"
        echo "$OUT" | grep -q "\[ERR\]" && sc_fail "create printed an error: $OUT"
    fi
    wait_until 20 all_ok || sc_fail "not every node reached cluster_state:ok"

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
    run_cc clean 30 clean
    check_clean
fi

# ---- part 2: slotcache nodes ---------------------------------------------
sc_need_server
if [ "$SERVER_IS_REDIS" -eq 1 ]; then
    echo "$TEST_NAME: $SERVER is redis-server: part 2 is part 1"
else
    NODES=3
    BASE=$(free_base $NODES) || { sc_fail "no free port range"; exit 1; }
    cat >"$CDIR/config.sh" <<EOF
SERVER_BIN="$SERVER"
PORT=$BASE
NODES=$NODES
ADDITIONAL_OPTIONS="--bind 127.0.0.1 --pidfile $CDIR/slotcache.pid"
EOF
    echo "$TEST_NAME: slotcache nodes on ports $((BASE + 1))-$((BASE + NODES))"
    if run_cc start 30 start; then
        for p in $(ports); do
            e=$(redis-cli -p "$p" info cluster | tr -d '\r' | grep '^cluster_enabled:')
            [ "$e" = "cluster_enabled:1" ] || sc_fail "node $p: '$e'"
            [ -s "$CDIR/$p.log" ] || sc_fail "node $p wrote no $p.log"
        done
    fi
    run_cc "call ping" 30 call ping && { [ "$(echo "$OUT" | grep -c '^PONG$')" -eq 3 ] || sc_fail "call ping: $OUT"; }
    run_cc stop 30 stop
    none_answer || sc_fail "a slotcache node still answers after stop"
    wait_until 10 no_node_processes || sc_fail "processes still running in $CDIR after stop: $(node_pids)"
    for p in $(ports); do
        if grep -q -e "ERROR: AddressSanitizer" -e "ERROR: LeakSanitizer" -e "WARNING: ThreadSanitizer" \
            -e "runtime error:" "$CDIR/$p.log"; then
            sc_fail "sanitizer report in $p.log"
            cat "$CDIR/$p.log"
        fi
        grep -q "ready to exit" "$CDIR/$p.log" || sc_fail "node $p did not log a clean shutdown"
    done
    run_cc clean 30 clean
    check_clean
fi

echo "$TEST_NAME: +$(($(date +%s) - T0))s done"
sc_finish
