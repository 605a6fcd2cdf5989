#!/bin/sh
# tests/integration/redis_conf_test.sh - a user's own redis.conf: the server
# starts with Debian's /etc/redis/redis.conf (from the redis-server
# package, every directive as shipped) as its config file, the way
# redis-server is started, with only the process placement overridden on
# the command line (port, bind, daemonize, pidfile, logfile, dir). A copy
# of the file gets a few non-default lines appended (a later line wins, as
# in Redis), so a server that ignored the file would fail. Then CONFIG GET
# must report the file's last value for each plain one-value directive it
# sets (timeout, tcp-keepalive, databases, hz, ...).
#
# Run by scripts/run-tests.sh as `sh tests/integration/redis_conf_test.sh`
# from the repo root. The server is $SLOTCACHE_SERVER, else
# $SLOTCACHE_BUILD/slotcache-server; SLOTCACHE_SERVER=/usr/bin/redis-server
# runs the same checks against Redis. Exit 0 when everything passed, 1 on
# any failure, 77 (skipped) when the file is missing or unreadable. The
# server is stopped by PID on every exit path.
set -u

TEST_NAME=redis_conf_test
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CONF=/etc/redis/redis.conf
# shellcheck source=tests/support/sc_server.sh
. "$ROOT/tests/support/sc_server.sh"

[ -r "$CONF" ] || sc_skip "$CONF missing or unreadable (apt-get install redis-server; run as root)"
sc_need_tools redis-cli
sc_need_server

echo "$TEST_NAME: server $SERVER, config $CONF, work dir $WORK"
cp "$CONF" "$WORK/redis.conf"
printf '%s\n' "databases 20" "hz 17" "maxmemory-samples 7" "timeout 300" >>"$WORK/redis.conf"
CONF=$WORK/redis.conf
SC_CONFIG_FILE=$CONF
sc_start_or_exit conf --daemonize no --pidfile "$WORK/conf/server.pid" --logfile "" --dir "$WORK/conf" \
    --supervised no
SC_CONFIG_FILE=

# Directives with one plain value in the file, as the file spells them.
checked=0
for name in timeout tcp-keepalive tcp-backlog databases hz loglevel maxmemory-policy maxmemory-samples \
    lazyfree-lazy-eviction lazyfree-lazy-expire lfu-log-factor lfu-decay-time proto-max-bulk-len \
    client-query-buffer-limit hash-max-listpack-entries set-max-intset-entries zset-max-listpack-entries \
    list-max-listpack-size active-expire-effort; do
    want=$(awk -v n="$name" '$1 == n && NF == 2 { v = $2 } END { print v }' "$CONF")
    [ -n "$want" ] || continue
    # a size written with a unit (512mb) reads back in bytes: not compared
    case $name in *limit | *bulk-len) case $want in *[!0-9]*) continue ;; esac ;; esac
    got=$(redis-cli -p "$SRV_PORT" --raw CONFIG GET "$name" | sed -n 2p)
    if [ "$got" = "$want" ]; then
        checked=$((checked + 1))
    else
        sc_fail "CONFIG GET $name: got '$got', the file says '$want'"
    fi
done
[ "$checked" -ge 7 ] || sc_fail "only $checked directives of $CONF could be compared"
echo "$TEST_NAME: $checked directives of $CONF read back with CONFIG GET"
pong=$(redis-cli -p "$SRV_PORT" PING)
[ "$pong" = PONG ] || sc_fail "PING answered '$pong'"
redis-cli -p "$SRV_PORT" SET k v >/dev/null
[ "$(redis-cli -p "$SRV_PORT" GET k)" = v ] || sc_fail "SET/GET round trip failed"

sc_stop conf "$SRV_PID"
sc_finish
