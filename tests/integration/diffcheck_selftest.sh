#!/bin/sh
# tests/integration/diffcheck_selftest.sh - the differential checker
# (tests/support/diffcheck.py) checked against servers whose replies are
# known: two fresh servers must compare identical on a case file that uses
# every mode word (exit 0, "N/N replies identical"); after a key, a set
# member and a counter are written to the second one only, the checker must
# report each difference (exit 1, the case file and line, the command, both
# replies escaped) and still pass the lines whose mode tolerates it. A case
# file with a bad line exits 2 and sends nothing; a port nobody listens on
# exits 2. When redis-server is installed, it is also compared with the
# server under test on DIGEST, which only slotcache has.
#
# Run by scripts/run-tests.sh as `sh tests/integration/diffcheck_selftest.sh`
# from the repo root, or by hand the same way. The server is
# $SLOTCACHE_SERVER, else $SLOTCACHE_BUILD/slotcache-server (SLOTCACHE_BUILD
# defaults to build). Exit 0 when everything passed, 1 on any failure (each
# is printed with the checker's output), 77 (skipped) when redis-cli or
# python3 is missing. Servers are stopped by PID on every exit path; the work
# directory under /tmp/slotcache-tests is kept when the test failed.
# shellcheck disable=SC2016  # the '$' in expected replies is literal RESP
set -u

TEST_NAME=diffcheck_selftest
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/support/sc_server.sh
. "$ROOT/tests/support/sc_server.sh"
TOOL=$ROOT/tests/support/diffcheck.py
CHECKS=0

sc_need_tools "$PY" redis-cli
sc_need_server

# dc WANT LABEL ARGS...: run the checker with ARGS (bounded); its output
# goes to $WORK/LABEL.out. A failure unless it exits WANT.
dc() {
    want=$1 label=$2
    shift 2
    CHECKS=$((CHECKS + 1))
    timeout -k 5 $((60 * SCALE)) "$PY" "$TOOL" "$@" >"$WORK/$label.out" 2>&1
    rc=$?
    if [ "$rc" -ne "$want" ]; then
        sc_fail "$label: diffcheck exited $rc, expected $want; its output:"
        sed 's/^/    /' "$WORK/$label.out"
    fi
}

# fail_text MSG: sc_fail with MSG printed as it is (sc_fail's echo would
# turn the \r \n of an expected reply into line breaks).
fail_text() {
    printf '%s: FAIL: %s\n' "$TEST_NAME" "$1"
    FAILS=$((FAILS + 1))
}

# has LABEL TEXT: the output of run LABEL contains TEXT (fixed string).
has() {
    CHECKS=$((CHECKS + 1))
    grep -qF -- "$2" "$WORK/$1.out" || fail_text "$1: output lacks '$2'"
}

# lacks LABEL TEXT: the output of run LABEL does not contain TEXT.
lacks() {
    CHECKS=$((CHECKS + 1))
    if grep -qF -- "$2" "$WORK/$1.out"; then fail_text "$1: output has '$2'"; fi
}

# last LABEL TEXT: the last line of run LABEL's output is TEXT.
last() {
    CHECKS=$((CHECKS + 1))
    got=$(tail -n 1 "$WORK/$1.out")
    [ "$got" = "$2" ] || sc_fail "$1: last line '$got', expected '$2'"
}

cli() {   # PORT ARGS...: one command, output dropped
    port=$1
    shift
    redis-cli -p "$port" "$@" >/dev/null 2>&1 || sc_fail "redis-cli -p $port $* failed"
}

# ---- run ---------------------------------------------------------------------

echo "$TEST_NAME: server $SERVER, work dir $WORK"
sc_start_or_exit a
A_PID=$SRV_PID A_PORT=$SRV_PORT
sc_start_or_exit b
B_PID=$SRV_PID B_PORT=$SRV_PORT

# 1. Two fresh servers, every mode word: identical. 25 compared replies
# (BLPOP times out on both, QUIT closes both: both reconnect).
cat >"$WORK/same.txt" <<'EOF'
# comment lines and blank lines are skipped

PING
exact SET k "two words"
GET k
raw GET k
rawbytes *2\r\n$3\r\nGET\r\n$1\r\nk\r\n
raw
SADD s c a b
sorted SMEMBERS s
type TIME
SET t x PX 60000
int~2000 PTTL t
sleep 0.05
int~0 EXISTS t
HELLO 3
type HELLO 3
sorted SMEMBERS s
HELLO 2
SUBSCRIBE c1 c2
rawbytes
UNSUBSCRIBE c1 c2
rawbytes
BLPOP nolist 0
PING after-timeout
QUIT
PING
PING again
EOF
dc 0 same -v --timeout 0.5 "$A_PORT" "$B_PORT" "$WORK/same.txt"
last same "25/25 replies identical"
lacks same "replies differ"

# 2. The second server gets a key, a set member and a counter of its own.
# Lines 2, 4, 6 and 7 differ; 3 and 8 pass by their mode word.
cli "$B_PORT" SET only-b value
cli "$B_PORT" SADD s2 extra
cli "$B_PORT" SET n 100
cat >"$WORK/differ.txt" <<'EOF'
PING
GET only-b
type GET only-b
type LLEN only-b
SADD s2 a b
sorted SMEMBERS s2
int~5 INCRBY n 1
int~200 INCRBY n 1
PING
EOF
dc 1 differ-quiet "$A_PORT" "$B_PORT" "$WORK/differ.txt"
CHECKS=$((CHECKS + 1))
[ "$(wc -l <"$WORK/differ-quiet.out")" -eq 1 ] || sc_fail "differ-quiet: more than the summary without -v"
last differ-quiet "5/9 replies identical"

# The same servers again (INCRBY ran: n is 2 and 102 now), with -v.
dc 1 differ -v "$A_PORT" "$B_PORT" "$WORK/differ.txt"
last differ "5/9 replies identical"
has differ "differ.txt:2: replies differ (exact)"
has differ "  command: GET only-b"
has differ '  ref: "$-1\r\n"   (5 bytes)'
has differ '  sut: "$5\r\nvalue\r\n"   (11 bytes)'
has differ "^ first difference at byte 1"
lacks differ "differ.txt:3:"
has differ "differ.txt:4: replies differ (type)"
has differ "reply types: ref ':' (integer), sut '-' (error)"
lacks differ "differ.txt:5:"
has differ "differ.txt:6: replies differ (sorted)"
has differ 'only in sut: "$5\r\nextra\r\n"'
has differ "differ.txt:7: replies differ (int~5)"
has differ "|3 - 103| = 100 > 5"
lacks differ "differ.txt:8:"
lacks differ "differ.txt:9:"

# 3. A case file with a bad line: exit 2, nothing sent.
printf 'SET sent-marker 1\nSET "unbalanced\nrawbytes \\q\n' >"$WORK/bad.txt"
dc 2 bad -v "$A_PORT" "$B_PORT" "$WORK/bad.txt"
has bad "bad.txt:2: cannot split the command like a shell"
has bad "bad.txt:3: rawbytes: unknown escape"
CHECKS=$((CHECKS + 1))
[ "$(redis-cli -p "$A_PORT" EXISTS sent-marker)" = 0 ] || sc_fail "bad: a command was sent"

# 4. Nobody listens on the reference port: exit 2.
dc 2 noserver "$(sc_free_port)" "$B_PORT" "$WORK/same.txt"
has noserver "cannot connect to ref"

sc_stop a "$A_PID"
sc_stop b "$B_PID"

# 5. redis-server against the server under test: DIGEST is slotcache's own.
REDIS=$(command -v redis-server || true)
if [ -n "$REDIS" ] && [ "$SERVER_IS_REDIS" -eq 0 ]; then
    SUT=$SERVER
    sc_start_or_exit sut
    S_PID=$SRV_PID S_PORT=$SRV_PORT
    SERVER=$REDIS
    sc_start_or_exit redis
    R_PID=$SRV_PID R_PORT=$SRV_PORT
    SERVER=$SUT
    printf 'SET k "Hello world"\nGET k\nDIGEST k\nGET k\n' >"$WORK/digest.txt"
    dc 1 digest -v "$R_PORT" "$S_PORT" "$WORK/digest.txt"
    last digest "3/4 replies identical"
    has digest "digest.txt:3: replies differ (exact)"
    has digest "  ref: \"-ERR unknown command 'DIGEST', with args beginning with: 'k' \\r\\n\""
    has digest '  sut: "$16\r\nb6acb9d84a38ff74\r\n"'
    printf 'SET k "Hello world"\nGET k\nSTRLEN k\n' >"$WORK/common.txt"
    dc 0 common -v "$R_PORT" "$S_PORT" "$WORK/common.txt"
    last common "3/3 replies identical"
    sc_stop redis "$R_PID"
    sc_stop sut "$S_PID"
else
    echo "$TEST_NAME: redis-server against $SERVER not compared (no redis-server, or it is the server)"
fi

# ---- stop ----------------------------------------------------------------------

sc_finish_with "$FAILS of $CHECKS checks failed; files kept in $WORK" \
    "passed ($CHECKS checks)"
