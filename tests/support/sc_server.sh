# shellcheck shell=sh
# shellcheck disable=SC2034  # variables are for the sourcing test
# tests/support/sc_server.sh - server lifecycle for the shell integration
# tests (sourced, POSIX sh): pick the binary, start it on a free loopback
# port, stop it by PID and check it exited cleanly.
#
# Before sourcing, set TEST_NAME (prefix of messages). After sourcing:
#   PY            /usr/bin/python3 (the python3 on PATH may lack redis-py)
#   SERVER        the binary: $SLOTCACHE_SERVER, else
#                 $SLOTCACHE_BUILD/slotcache-server (SLOTCACHE_BUILD
#                 defaults to build)
#   SERVER_IS_REDIS  1 when SERVER is a redis-server (the reference)
#   SCALE         $SLOTCACHE_TIMEOUT_SCALE (>= 1), multiplies every bound
#   WORK          a fresh directory under /tmp/slotcache-tests
#   sc_skip MSG   remove WORK, print "skipped: MSG", exit 77
#   sc_need_tools TOOL...  sc_skip unless every TOOL is installed
#   sc_need_server         exit 1 unless SERVER is an executable
#   sc_need_py_module MODULE   $PY can import MODULE (python3-redis's),
#                 else a failure under CI=true, a skip otherwise
#   sc_fail MSG   count a failure (FAILS) and print it
#   sc_free_port  print a free loopback TCP port
#   sc_start NAME [ARGS...]   start in $WORK/NAME (log: server.log there);
#                 ready once it answers PING (+PONG, or -NOAUTH under
#                 --requirepass) and owns its port; sets SRV_PID, SRV_PORT.
#                 With SC_CONFIG_FILE set, that file is the first argument
#                 (the redis.conf position); the options still override it
#   sc_start_or_exit NAME [ARGS...]   sc_start, print the pid and port;
#                 when it would not start: a failure, exit 1
#   sc_run_check LABEL SECONDS CMD [ARGS...]   run CMD bounded by
#                 SECONDS * SCALE; a failure unless it exits 0
#   sc_stop NAME PID          SIGTERM, bounded wait; fails unless exit 0
#                             and no sanitizer report in the log
#   sc_track PID  another process the test started (e.g. an exporter):
#                 the EXIT trap stops it too
#   sc_stop_pid PID   SIGTERM, wait up to 30 s * SCALE, then SIGKILL; sets
#                 STOP_STATUS to its exit status ("timeout" after SIGKILL)
#   sc_drop_pid PID   forget PID (it was stopped or reaped by the test)
#   sc_finish     print the verdict, remove WORK when all passed, exit
#   sc_finish_with FAILED PASSED   the same with the test's own verdict text
#                 (printed after "$TEST_NAME: "; exit 1 or 0)
# Processes still running are killed by the EXIT trap this file installs.

PY=/usr/bin/python3
FAILS=0
PIDS=""

SERVER=${SLOTCACHE_SERVER:-${SLOTCACHE_BUILD:-build}/slotcache-server}
case "$SERVER" in
/*) ;;
*/*) SERVER="$(pwd)/$SERVER" ;;
*) SERVER=$(command -v "$SERVER" || echo "$SERVER") ;;
esac
SERVER_IS_REDIS=0
case "$(basename "$SERVER")" in redis-server*) SERVER_IS_REDIS=1 ;; esac

SCALE=${SLOTCACHE_TIMEOUT_SCALE:-1}
case "$SCALE" in '' | *[!0-9]*) SCALE=1 ;; esac
[ "$SCALE" -ge 1 ] || SCALE=1

sc_skip() {
    rm -rf "$WORK"
    echo "$TEST_NAME: skipped: $*"
    exit 77
}

sc_need_tools() {
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || sc_skip "$tool not installed (scripts/deps.sh)"
    done
}

sc_need_server() {
    if [ ! -x "$SERVER" ]; then
        rm -rf "$WORK"
        echo "$TEST_NAME: FAIL: server binary $SERVER missing (run make)"
        exit 1
    fi
}

sc_need_py_module() {
    "$PY" -c "import $1" 2>/dev/null && return 0
    if [ "${CI:-}" = true ]; then
        rm -rf "$WORK"
        echo "$TEST_NAME: FAIL: no $1 for $PY (CI=true)"
        exit 1
    fi
    sc_skip "no $1 for $PY (apt-get install python3-redis)"
}

sc_fail() {
    echo "$TEST_NAME: FAIL: $*"
    FAILS=$((FAILS + 1))
}

sc_track() {
    PIDS="$PIDS $1"
}

sc_drop_pid() {
    rest=""
    for dp in $PIDS; do [ "$dp" = "$1" ] || rest="$rest $dp"; done
    PIDS=$rest
}

# shellcheck disable=SC2317  # called from the EXIT trap
sc_cleanup() {
    for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
    for p in $PIDS; do
        i=0
        while kill -0 "$p" 2>/dev/null && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    PIDS=""
}
trap sc_cleanup EXIT
trap 'echo "$TEST_NAME: interrupted"; exit 130' INT
trap 'echo "$TEST_NAME: terminated"; exit 143' TERM HUP

sc_free_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# sc_probe PORT PID: 0 when PID answers PING on PORT (+PONG, or -NOAUTH
# when it runs with --requirepass) and owns every socket
# listening there (slotcache uses SO_REUSEPORT, so a port may be shared),
# 2 when another process listens there too, 1 otherwise.
sc_probe() {
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

sc_start() {
    name=$1
    shift
    dir="$WORK/$name"
    mkdir -p "$dir"
    for attempt in 1 2 3 4 5; do
        SRV_PORT=$(sc_free_port)
        (cd "$dir" && exec "$SERVER" ${SC_CONFIG_FILE:+"$SC_CONFIG_FILE"} --port "$SRV_PORT" --bind 127.0.0.1 \
            --save "" --appendonly no "$@") \
            >"$dir/server.log" 2>&1 &
        SRV_PID=$!
        sc_track "$SRV_PID"
        why=timeout i=0
        while [ $i -lt $((100 * SCALE)) ]; do
            kill -0 "$SRV_PID" 2>/dev/null || { why=exited; break; }
            sc_probe "$SRV_PORT" "$SRV_PID"
            case $? in
            0) return 0 ;;
            2) why=shared; break ;;
            esac
            sleep 0.1
            i=$((i + 1))
        done
        kill -KILL "$SRV_PID" 2>/dev/null
        wait "$SRV_PID" 2>/dev/null
        sc_drop_pid "$SRV_PID"
        case $why in
        shared) ;;
        exited)
            if ! grep -q -i "in use" "$dir/server.log"; then
                echo "$TEST_NAME: $name exited at startup; log:"
                tail -n 30 "$dir/server.log"
                return 1
            fi
            ;;
        *)
            echo "$TEST_NAME: $name did not answer PING within $((10 * SCALE)) s; log:"
            tail -n 30 "$dir/server.log"
            return 1
            ;;
        esac
        echo "$TEST_NAME: port $SRV_PORT taken (attempt $attempt), retrying"
    done
    echo "$TEST_NAME: $name: no free port after 5 attempts"
    return 1
}

sc_start_or_exit() {
    if ! sc_start "$@"; then
        sc_fail "could not start the server"
        exit 1
    fi
    echo "$TEST_NAME: server pid $SRV_PID port $SRV_PORT"
}

sc_run_check() {
    label=$1 bound=$(($2 * SCALE))
    shift 2
    timeout --foreground -k 5 "$bound" "$@"
    rc=$?
    case $rc in
    0) ;;
    124 | 137) sc_fail "$label killed after $bound s" ;;
    *) sc_fail "$label reported failures (exit $rc)" ;;
    esac
}

sc_stop_pid() {
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
    sc_drop_pid "$1"
}

sc_stop() {
    name=$1 pid=$2
    if ! kill -0 "$pid" 2>/dev/null; then
        sc_fail "$name (pid $pid) died during the test; log tail:"
        tail -n 30 "$WORK/$name/server.log"
    fi
    sc_stop_pid "$pid"
    case $STOP_STATUS in
    0) ;;
    timeout) sc_fail "$name (pid $pid) did not exit within $((30 * SCALE)) s of SIGTERM" ;;
    *) sc_fail "$name (pid $pid) exited with status $STOP_STATUS after SIGTERM" ;;
    esac
    if grep -q -e "ERROR: AddressSanitizer" -e "ERROR: LeakSanitizer" -e "WARNING: ThreadSanitizer" \
        -e "runtime error:" "$WORK/$name/server.log"; then
        sc_fail "$name: sanitizer report in $WORK/$name/server.log"
    fi
}

sc_finish_with() {
    if [ "$FAILS" -ne 0 ]; then
        echo "$TEST_NAME: $1"
        exit 1
    fi
    rm -rf "$WORK"
    echo "$TEST_NAME: $2"
    exit 0
}

sc_finish() {
    sc_finish_with "$FAILS failure(s); server logs kept in $WORK" passed
}

mkdir -p /tmp/slotcache-tests
WORK=$(mktemp -d "/tmp/slotcache-tests/$TEST_NAME.XXXXXX") || exit 1
