# shellcheck shell=sh
# tests/cluster/lib/create_cluster.sh - what the tests driving
# scripts/create-cluster share (sourced after tests/support/sc_server.sh,
# with TEST_NAME and ROOT set): the cluster directory CDIR under WORK, an
# EXIT trap that SIGKILLs by pid any daemonized node still running there
# and removes WORK (showing the node logs' ends when the test failed), a
# free port range, bounded waits, and the create-cluster runner.
#
#   CC            scripts/create-cluster
#   CDIR          $WORK/cluster, the nodes' working directory
#   free_base N   a base port B with B+1..B+N and their bus ports free
#   wait_until SECONDS CMD...   poll CMD every 0.1 s, bounded (scaled)
#   ports         the NODES ports of BASE
#   all_ok / replicas_synced / none_answer / no_node_processes   predicates
#   run_cc LABEL SECONDS VERB...   create-cluster VERB in CDIR, output in OUT
#   check_clean   a failure unless CDIR holds nothing but config.sh
#   check_node_logs   after stop: every slotcache node logged a clean
#                 shutdown and no sanitizer report
#   write_config redis|slotcache   CDIR/config.sh for 6 nodes from BASE:
#                 redis-server through BIN_PATH (a directory holding a
#                 redis-server symlink), or SERVER_BIN=$SERVER

CC="$ROOT/scripts/create-cluster"
CDIR="$WORK/cluster"
mkdir -p "$CDIR"

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

# write_config KIND: config.sh for 6 nodes of KIND (redis: the redis-server
# in PATH, through BIN_PATH as Redis's own users do; slotcache: $SERVER) on
# BASE+1..BASE+6. Daemonized nodes need a pid file (Redis writes
# /var/run/redis.pid without one); no diskless-sync delay (a replica's full
# sync would wait 5 s).
write_config() {
    case $1 in
    redis)
        mkdir -p "$WORK/bin"
        ln -sf "$(command -v redis-server)" "$WORK/bin/redis-server"
        where="BIN_PATH=\"$WORK/bin\""
        ;;
    *) where="SERVER_BIN=\"$SERVER\"" ;;
    esac
    cat >"$CDIR/config.sh" <<EOF
$where
PORT=$BASE
TIMEOUT=$((2000 * SCALE))
ADDITIONAL_OPTIONS="--bind 127.0.0.1 --pidfile $CDIR/$1.pid --repl-diskless-sync-delay 0"
EOF
}

check_node_logs() {
    for p in $(ports); do
        if grep -q -e "ERROR: AddressSanitizer" -e "ERROR: LeakSanitizer" -e "WARNING: ThreadSanitizer" \
            -e "runtime error:" "$CDIR/$p.log"; then
            sc_fail "sanitizer report in $p.log"
            cat "$CDIR/$p.log"
        fi
        grep -q "ready to exit" "$CDIR/$p.log" || sc_fail "node $p did not log a clean shutdown"
    done
}
