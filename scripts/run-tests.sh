#!/bin/sh
# scripts/run-tests.sh BUILD MODE - run slotcache's test binaries and scripts
# from build directory BUILD (build, build/asan, build/tsan) and print one
# final line "run-tests: N passed, N failed"; exit non-zero if anything failed.
#
# MODE
#   all          unit + integration binaries + tests/integration/*.sh +
#                diffcheck of tests/cases/*.txt against a reference redis-server
#                + the cluster stage
#   unit         unit binaries only
#   integration  integration binaries + shell tests
#   cluster      the cluster stage alone: tests/cluster binaries (multi-node,
#                tests/support/cluster_proc.h) + tests/cluster/*.sh
#   diffcheck    only the diffcheck of tests/cases/*.txt
#   sanitizer    unit + integration + cluster binaries of an ASan+UBSan build
#   threaded     integration suites that start a server with --threads > 1,
#                and every cluster suite (a cluster node runs a bus thread),
#                against the TSan build's server (the suites themselves are
#                the release-built binaries: Criterion crashes under TSan)
#
# Each binary runs under `timeout 600`, Criterion with --jobs 2 (--jobs 1
# under sanitizers). Cluster binaries and scripts start several nodes per
# test: they run with --jobs 1 under `timeout $CLUSTER_TIMEOUT` (default 300)
# each, and the stage prints its total time. Counts are per Criterion test,
# per shell test, per case file. Output of a failing binary is printed; every
# log is kept in BUILD/test-logs/. Environment: SLOTCACHE_SERVER overrides the server binary
# (e.g. /usr/bin/redis-server to check the suites against Redis itself).
# The diffcheck (tests/support/diffcheck.py) needs redis-server and
# /usr/bin/python3: without them it is skipped with the reason printed, but
# counted as a failure when CI=true (.ci/run sets it).
set -u

BUILD=${1:-build}
MODE=${2:-all}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac

PASSED=0
FAILED=0
FAILED_NAMES=""
JOBS=2
BIN_TIMEOUT=600
CLUSTER_TIMEOUT=${CLUSTER_TIMEOUT:-300}
LOGDIR="$BUILD/test-logs"
mkdir -p "$LOGDIR"

export SLOTCACHE_BUILD="$BUILD"
SERVER=${SLOTCACHE_SERVER:-$BUILD/slotcache-server}

case "$MODE" in
all|unit|integration|cluster|diffcheck) ;;
sanitizer)
    JOBS=1
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    export SLOTCACHE_TIMEOUT_SCALE=${SLOTCACHE_TIMEOUT_SCALE:-4}
    ;;
threaded)
    JOBS=1
    TSAN_OPTIONS="halt_on_error=1"
    [ -f "$ROOT/tests/tsan.supp" ] && TSAN_OPTIONS="$TSAN_OPTIONS suppressions=$ROOT/tests/tsan.supp"
    export TSAN_OPTIONS
    export SLOTCACHE_TIMEOUT_SCALE=${SLOTCACHE_TIMEOUT_SCALE:-8}
    ;;
*)
    echo "usage: $0 BUILD all|unit|integration|cluster|diffcheck|sanitizer|threaded" >&2
    exit 2
    ;;
esac

# Stale server directories of earlier runs (kept when a test failed).
find /tmp/slotcache-tests -mindepth 1 -maxdepth 1 -mmin +120 -exec rm -rf {} + 2>/dev/null

fail_one() {   # name
    FAILED=$((FAILED + 1))
    FAILED_NAMES="$FAILED_NAMES $1"
}

# Run one Criterion binary; add its per-test counts.
run_criterion() {   # path
    bin=$1
    name=$(basename "$bin")
    log="$LOGDIR/$name.log"
    start=$(date +%s)
    timeout -k 10 "$BIN_TIMEOUT" "$bin" --jobs "$JOBS" >"$log" 2>&1
    rc=$?
    secs=$(($(date +%s) - start))
    synth=$(grep 'Synthesis: Tested:' "$log" | tail -n 1)
    if [ -n "$synth" ]; then
        tested=$(echo "$synth" | sed -n 's/.*Tested: \([0-9]*\).*/\1/p')
        passing=$(echo "$synth" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
        bad=$((tested - passing))
    else
        tested=0 passing=0 bad=1   # crashed or timed out before its summary
    fi
    [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ] && bad=1   # failed outside any test
    # A sanitizer report from the test process itself (Criterion does not
    # fail a test for a leak found when its worker exits).
    if [ "$bad" -eq 0 ] && grep -q -e "ERROR: AddressSanitizer" -e "ERROR: LeakSanitizer" \
        -e "WARNING: ThreadSanitizer" -e "runtime error:" "$log"; then
        echo "run-tests: $name: sanitizer report in the test output"
        bad=1
    fi
    PASSED=$((PASSED + passing))
    if [ "$bad" -gt 0 ]; then
        FAILED=$((FAILED + bad))
        FAILED_NAMES="$FAILED_NAMES $name"
        [ "$rc" -eq 124 ] && echo "run-tests: $name killed after ${BIN_TIMEOUT}s"
        echo "---- $name (exit $rc, ${secs}s) output:"
        tail -n 300 "$log"
        echo "----"
    fi
    printf 'run-tests: %-28s %3d passed %3d failed  %4ds\n' "$name" "$passing" "$bad" "$secs"
}

run_dir() {   # directory of binaries [filter list]
    dir=$1
    filter=${2:-}
    found=0
    for bin in "$dir"/test_*; do
        [ -f "$bin" ] && [ -x "$bin" ] || continue
        case "$bin" in *.d|*.o|*.log) continue ;; esac
        if [ -n "$filter" ]; then
            case " $filter " in *" $(basename "$bin") "*) ;; *) continue ;; esac
        fi
        found=1
        run_criterion "$bin"
    done
    [ "$found" -eq 1 ] || echo "run-tests: no test binaries in $dir"
}

run_shell_tests() {   # [directory of *.sh, default tests/integration]
    for t in "${1:-$ROOT/tests/integration}"/*.sh; do
        [ -f "$t" ] || continue
        name=$(basename "$t")
        log="$LOGDIR/$name.log"
        SLOTCACHE_SERVER="$SERVER" timeout -k 10 "$BIN_TIMEOUT" sh "$t" >"$log" 2>&1
        rc=$?
        if [ "$rc" -eq 0 ]; then
            PASSED=$((PASSED + 1)); echo "run-tests: $name passed"
        elif [ "$rc" -eq 77 ]; then
            echo "run-tests: $name skipped: $(tail -n 1 "$log")"
        else
            fail_one "$name"; echo "---- $name (exit $rc):"; tail -n 100 "$log"; echo "----"
        fi
    done
}

# ---- cluster stage -------------------------------------------------------

# run_cluster_stage DIR [shell]: the cluster binaries in DIR (one test at a
# time, CLUSTER_TIMEOUT each), then tests/cluster/*.sh when asked; prints
# the stage's wall time.
run_cluster_stage() {
    saved_jobs=$JOBS saved_timeout=$BIN_TIMEOUT
    JOBS=1
    BIN_TIMEOUT=$CLUSTER_TIMEOUT
    stage_start=$(date +%s)
    run_dir "$1"
    [ "${2:-}" = shell ] && run_shell_tests "$ROOT/tests/cluster"
    echo "run-tests: cluster stage took $(($(date +%s) - stage_start))s"
    JOBS=$saved_jobs
    BIN_TIMEOUT=$saved_timeout
}

# ---- diffcheck: every tests/cases/*.txt against a fresh redis-server ------

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server BIN DIR [extra args] -> sets SRV_PID SRV_PORT; non-zero on failure
start_server() {
    sbin=$1 sdir=$2
    shift 2
    for attempt in 1 2 3 4 5; do
        SRV_PORT=$(free_port)
        (cd "$sdir" && exec "$sbin" --port "$SRV_PORT" --bind 127.0.0.1 --save "" --appendonly no "$@") \
            >"$sdir/server.log" 2>&1 &
        SRV_PID=$!
        i=0
        while [ $i -lt 150 ]; do
            kill -0 "$SRV_PID" 2>/dev/null || break
            if [ "$(redis-cli -p "$SRV_PORT" PING 2>/dev/null)" = "PONG" ]; then
                return 0
            fi
            sleep 0.1
            i=$((i + 1))
        done
        kill -KILL "$SRV_PID" 2>/dev/null
        wait "$SRV_PID" 2>/dev/null
        grep -q "in use" "$sdir/server.log" || { cat "$sdir/server.log"; return 1; }
    done
    return 1
}

# stop_server PID DIR -> returns 0 if it exited 0 with no sanitizer report
stop_server() {
    spid=$1 sdir=$2
    kill -TERM "$spid" 2>/dev/null
    i=0
    while kill -0 "$spid" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    if kill -0 "$spid" 2>/dev/null; then
        kill -KILL "$spid" 2>/dev/null
        wait "$spid" 2>/dev/null
        echo "server pid $spid did not stop within 30 s"
        return 1
    fi
    wait "$spid"
    src=$?
    if grep -q -e "ERROR: AddressSanitizer" -e "ERROR: LeakSanitizer" -e "WARNING: ThreadSanitizer" \
        -e "runtime error:" "$sdir/server.log"; then
        echo "sanitizer report in $sdir/server.log"
        return 1
    fi
    [ "$src" -eq 0 ] || { echo "server exited with status $src"; return 1; }
    return 0
}

# A missing tool skips the diffcheck on a developer's machine, but fails it
# in CI, where a skipped comparison would pass unnoticed.
diffcheck_unavailable() {   # reason
    if [ "${CI:-}" = true ]; then
        fail_one diffcheck
        echo "run-tests: diffcheck FAILED: $1 (CI=true: the differential checks must run; sh scripts/deps.sh)"
    else
        echo "run-tests: diffcheck skipped: $1 (sh scripts/deps.sh installs it)"
    fi
}

run_diffcheck() {
    tool="$ROOT/tests/support/diffcheck.py"
    ref=$(command -v redis-server)
    if [ -z "$ref" ]; then
        diffcheck_unavailable "no redis-server to compare with"
        return
    fi
    if [ ! -x /usr/bin/python3 ]; then
        diffcheck_unavailable "/usr/bin/python3 missing"
        return
    fi
    set -- "$ROOT"/tests/cases/*.txt
    if [ ! -f "$1" ]; then
        fail_one diffcheck
        echo "run-tests: diffcheck FAILED: no tests/cases/*.txt"
        return
    fi
    for cases in "$@"; do
        name="cases/$(basename "$cases")"
        work=$(mktemp -d /tmp/slotcache-diffcheck.XXXXXX)
        mkdir -p "$work/ref" "$work/sut"
        log="$LOGDIR/diffcheck-$(basename "$cases" .txt).log"
        ok=1
        # Redis 7 refuses DEBUG unless enabled; slotcache always allows it.
        if ! start_server "$ref" "$work/ref" --enable-debug-command yes; then
            echo "run-tests: $name: reference redis-server did not start"; fail_one "$name"; rm -rf "$work"; continue
        fi
        REF_PID=$SRV_PID REF_PORT=$SRV_PORT
        if ! start_server "$SERVER" "$work/sut"; then
            echo "run-tests: $name: $SERVER did not start"
            stop_server "$REF_PID" "$work/ref" >/dev/null
            fail_one "$name"; rm -rf "$work"; continue
        fi
        # The relative path makes the reports read tests/cases/NAME.txt:LINE.
        timeout -k 10 300 /usr/bin/python3 "$tool" -v "$REF_PORT" "$SRV_PORT" "tests/$name" >"$log" 2>&1 || ok=0
        summary=$(tail -n 1 "$log")
        stop_server "$REF_PID" "$work/ref" >>"$log" 2>&1
        stop_server "$SRV_PID" "$work/sut" >>"$log" 2>&1 || ok=0
        if [ "$ok" -eq 1 ]; then
            PASSED=$((PASSED + 1))
            echo "run-tests: diffcheck $name: $summary"
            rm -rf "$work"
        else
            fail_one "$name"
            # The first mismatches explain the rest (a reply stream out of
            # step makes every later line differ): show the head.
            echo "---- diffcheck $name failed (server dirs kept in $work, full report $log):"
            lines=$(wc -l <"$log")
            if [ "$lines" -le 90 ]; then
                cat "$log"
            else
                head -n 80 "$log"
                echo "... ($((lines - 83)) more lines in $log)"
                tail -n 3 "$log"
            fi
            echo "-- last lines of $work/sut/server.log:"
            tail -n 30 "$work/sut/server.log"
            echo "----"
        fi
    done
}

# ---- main ----------------------------------------------------------------

# Integration suites that start a server with more than one worker thread.
threaded_suites() {
    grep -l -E '"--threads", *"([2-9]|[1-9][0-9])"' "$ROOT"/tests/integration/test_*.c 2>/dev/null |
        while read -r f; do basename "$f" .c; done | tr '\n' ' '
}

if [ ! -x "$SERVER" ] && [ "$MODE" != unit ]; then
    echo "run-tests: server binary $SERVER missing: integration tests will fail"
fi

# What a server writes in its working directory must not land in the work
# tree: every test server runs in a directory under /tmp. Names already
# there before the run (a developer's own) are left alone.
ARTEFACTS="dump.rdb appendonlydir nodes.conf"
artefacts_before=""
for a in $ARTEFACTS; do [ -e "$ROOT/$a" ] && artefacts_before="$artefacts_before $a"; done

case "$MODE" in
all)
    run_dir "$BUILD/tests/unit"
    run_dir "$BUILD/tests/integration"
    run_shell_tests
    run_diffcheck
    run_cluster_stage "$BUILD/tests/cluster" shell
    ;;
unit)
    run_dir "$BUILD/tests/unit"
    ;;
integration)
    run_dir "$BUILD/tests/integration"
    run_shell_tests
    ;;
cluster)
    run_cluster_stage "$BUILD/tests/cluster" shell
    ;;
diffcheck)
    run_diffcheck
    ;;
sanitizer)
    run_dir "$BUILD/tests/unit"
    run_dir "$BUILD/tests/integration"
    run_cluster_stage "$BUILD/tests/cluster"
    ;;
threaded)
    # Criterion itself crashes when its binary is built with -fsanitize=thread
    # (Snaipe/Criterion#274), and the races we look for are in the server, not
    # in the test client: run the release-built suites against BUILD's
    # (TSan) server.
    integ="$BUILD/tests/integration"
    if [ -d "$ROOT/build/tests/integration" ]; then
        integ="$ROOT/build/tests/integration"
    else
        echo "run-tests: $ROOT/build/tests/integration missing (make tests-build): trying $integ"
    fi
    run_dir "$integ" "$(threaded_suites)"
    run_cluster_stage "$ROOT/build/tests/cluster"
    ;;
esac

for a in $ARTEFACTS; do
    case " $artefacts_before " in *" $a "*) continue ;; esac
    if [ -e "$ROOT/$a" ]; then
        fail_one "artefact:$a"
        echo "run-tests: $ROOT/$a appeared during the tests: a server ran with the work tree as its directory"
    fi
done

[ -n "$FAILED_NAMES" ] && echo "run-tests: failed:$FAILED_NAMES"
echo "run-tests: $PASSED passed, $FAILED failed"
# One line per run in build/test-summary: `make test` prints them last, so
# the tail of a CI log names every stage's failures.
mkdir -p "$ROOT/build"
echo "run-tests $(basename "$BUILD") $MODE: $PASSED passed, $FAILED failed${FAILED_NAMES:+ (failed:$FAILED_NAMES)}" \
    >>"$ROOT/build/test-summary"
[ "$FAILED" -eq 0 ]
