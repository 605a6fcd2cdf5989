#!/bin/sh
# scripts/deps.sh - install the Debian packages slotcache needs to build, test
# and benchmark, but only those that are missing (so `make` stays fast and
# works offline once installed). Runs apt-get as root, or through sudo.
set -e
PKGS="build-essential pkg-config libuv1-dev libck-dev liblzf-dev libhiredis-dev libcriterion-dev \
redis-tools redis-server python3 python3-redis prometheus-redis-exporter iproute2 procps"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# Node.js (for the node-redlock tests) only when there is none: a machine
# may have NodeSource's nodejs, which conflicts with Debian's npm package.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && exit 0
echo "deps.sh: installing:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# redis-server is only the side-by-side reference for tests and benchmarks:
# never let its package start a service on 6379.
made_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    made_policy=1
fi
$SUDO apt-get install -y -qq --no-install-recommends $missing
[ -n "$made_policy" ] && $SUDO rm -f /usr/sbin/policy-rc.d
exit 0
