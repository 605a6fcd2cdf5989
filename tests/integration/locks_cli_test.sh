#!/bin/sh
# tests/integration/locks_cli_test.sh - the native lock commands of issue 5
# (DELIFEQ, DELEX, DIGEST, SET IFEQ/IFNE/IFDEQ/IFDNE, CAS, CAD) driven by
# redis-cli: argument passing, raw and typed (--no-raw) reply printing,
# commands piped on stdin, and the lock recipe of docs-locks-native.md
# (acquire with SET NX PX, extend with SET IFEQ PX, release with DELIFEQ /
# DELEX IFEQ / CAD) including a holder whose lock expired. Every reply is
# compared exactly; the hiredis suite test_locks.c covers the rest.
#
# Run by scripts/run-tests.sh as `sh tests/integration/locks_cli_test.sh`
# from the repo root, or by hand the same way. The server is
# $SLOTCACHE_SERVER, else $SLOTCACHE_BUILD/slotcache-server (SLOTCACHE_BUILD
# defaults to build). Exit 0 when everything passed, 1 on any failure (each
# is printed), 77 (skipped) when redis-cli or python3 is missing or the
# server is redis-server (Redis 7.0 has none of these commands). The server
# is stopped by PID on every exit path; its directory under
# /tmp/slotcache-tests is kept when the test failed.
set -u

TEST_NAME=locks_cli_test
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/support/sc_server.sh
. "$ROOT/tests/support/sc_server.sh"
CHECKS=0

sc_need_tools "$PY" redis-cli
[ "$SERVER_IS_REDIS" -eq 0 ] ||
    sc_skip "$SERVER is redis-server (no DELIFEQ/DELEX/DIGEST/CAS/CAD in Redis 7.0)"
sc_need_server

# cli EXPECTED ARGS...: redis-cli's raw output (stdout not a terminal) for
# ARGS must be EXPECTED exactly (nil prints as an empty line, errors as
# their text).
cli() {
    want=$1
    shift
    CHECKS=$((CHECKS + 1))
    got=$(redis-cli -p "$SRV_PORT" "$@" 2>&1)
    [ "$got" = "$want" ] || sc_fail "redis-cli $*: got '$got', expected '$want'"
}

# typed EXPECTED ARGS...: the same with --no-raw ("(integer) 1", "(nil)",
# "(error) ...", quoted strings).
typed() {
    want=$1
    shift
    CHECKS=$((CHECKS + 1))
    got=$(redis-cli --no-raw -p "$SRV_PORT" "$@" 2>&1)
    [ "$got" = "$want" ] || sc_fail "redis-cli --no-raw $*: got '$got', expected '$want'"
}

WRONGTYPE="WRONGTYPE Operation against a key holding the wrong kind of value"

# ---- run ---------------------------------------------------------------------

echo "$TEST_NAME: server $SERVER, work dir $WORK"
sc_start_or_exit server

# DIGEST (XXH3-64 as 16 lower-case hex digits; values from python3-xxhash).
cli "" DIGEST nokey
cli OK SET greeting "Hello world"
cli b6acb9d84a38ff74 DIGEST greeting
typed '"b6acb9d84a38ff74"' DIGEST greeting
typed "(nil)" DIGEST nokey
cli OK SET num 12345
cli f34099ede96b5581 DIGEST num
cli 1 SADD aset m
cli "$WRONGTYPE" DIGEST aset

# DELIFEQ.
cli 0 DELIFEQ lock tok
cli OK SET lock tok PX 100000
cli 0 DELIFEQ lock other
cli tok GET lock
typed "(integer) 1" DELIFEQ lock tok
cli 0 EXISTS lock
cli "$WRONGTYPE" DELIFEQ aset m
cli "ERR wrong number of arguments for 'delifeq' command" DELIFEQ lock

# DELEX.
cli OK SET k v
cli 0 DELEX k IFEQ w
cli 0 DELEX k IFNE v
cli 0 DELEX k IFDEQ aceee8f5de193e29
cli 1 DELEX k IFDEQ F7042BE43FB80714
cli OK SET k v
cli 1 DELEX k ifne w
cli OK SET k v
cli 1 DELEX k IFDNE aceee8f5de193e29
cli OK SET k v
cli "ERR must be exactly 16 hexadecimal characters" DELEX k IFDEQ f7042be43fb8071
cli "ERR syntax error" DELEX k IFEQ
cli "ERR syntax error" DELEX k IFEQ v IFNE w
cli "$WRONGTYPE" DELEX aset IFEQ m
cli 1 DELEX aset
cli 1 DELEX k
cli 0 DELEX k

# SET with conditions.
cli "" SET c v IFEQ v
cli 0 EXISTS c
cli OK SET c v IFNE x
cli "" SET c w IFEQ x
cli OK SET c w IFEQ v
cli w GET c
cli w SET c z IFEQ nope GET
cli w SET c z IFEQ w GET
cli z GET c
cli z SET c y IFDEQ 54A7D9DDE88EADB0 GET
cli y GET c
cli "ERR syntax error" SET c y NX IFEQ z
cli "ERR syntax error" SET c y IFEQ z XX
cli 1 SADD aset m
cli "$WRONGTYPE" SET aset v IFNE m
typed "(nil)" SET c y IFEQ nope

# CAS / CAD (Tair): 1 done, 0 different, -1 missing.
cli -1 CAS nokey a b
cli OK SET t old PX 100000
cli 0 CAS t nope new
cli 1 CAS t old new
cli -1 PTTL t
cli 1 CAS t new newer EX 100
cli 100 TTL t
typed "(integer) -1" CAD nokey v
cli 0 CAD t nope
cli 1 CAD t newer
cli "ERR invalid expire time in 'cas' command" CAS t a b PX -5
cli "ERR syntax error" CAS t a b KEEPTTL

# Commands piped on stdin (redis-cli reads one command per line).
printf 'SET piped tok PX 100000\nDELIFEQ piped nope\nDIGEST piped\nDELEX piped IFEQ tok\nEXISTS piped\n' |
    redis-cli -p "$SRV_PORT" >"$WORK/piped.out" 2>&1
printf 'OK\n0\nd39212b86146bb2a\n1\n0\n' >"$WORK/piped.want"
CHECKS=$((CHECKS + 1))
cmp -s "$WORK/piped.out" "$WORK/piped.want" || sc_fail "piped commands: got $(tr '\n' ' ' <"$WORK/piped.out")"

# The lock recipe: acquire, extend, release; a foreign token changes nothing.
cli OK SET mylock token-a NX PX 30000
cli "" SET mylock token-b NX PX 30000
cli "" SET mylock token-b IFEQ token-b PX 60000
cli OK SET mylock token-a IFEQ token-a PX 60000
pttl=$(redis-cli -p "$SRV_PORT" PTTL mylock)
CHECKS=$((CHECKS + 1))
case "$pttl" in '' | *[!0-9]*) pttl=0 ;; esac
if [ "$pttl" -le 30000 ] || [ "$pttl" -gt 60000 ]; then
    sc_fail "PTTL after extend is $pttl, expected (30000, 60000]"
fi
cli 1 CAS mylock token-a token-a PX 60000
cli 0 DELIFEQ mylock token-b
cli 1 DELIFEQ mylock token-a
cli OK SET mylock token-c NX PX 30000
cli 1 DELEX mylock IFEQ token-c
cli OK SET mylock token-d NX PX 30000
cli 1 CAD mylock token-d

# A holder that outlives its PX loses the lock: its release returns 0.
cli OK SET mylock token-a NX PX 100
i=0
while [ "$(redis-cli -p "$SRV_PORT" EXISTS mylock)" != 0 ] && [ $i -lt $((50 * SCALE)) ]; do
    sleep 0.1
    i=$((i + 1))
done
cli OK SET mylock token-b NX PX 30000
cli 0 DELIFEQ mylock token-a
cli 0 DELEX mylock IFEQ token-a
cli 0 CAD mylock token-a
cli "" SET mylock token-a IFEQ token-a PX 30000
cli token-b GET mylock
cli 1 DELIFEQ mylock token-b

# ---- stop ----------------------------------------------------------------------

sc_stop server "$SRV_PID"
sc_finish_with "$FAILS of $CHECKS checks failed; files kept in $WORK" \
    "passed ($CHECKS checks)"
