#!/usr/bin/python3
"""bench-datacmds.py - slotcache against redis-server on the data commands of
issue 16 (bitmaps, HyperLogLog, geo, SORT, LCS, streams), side by side on this
machine, with redis-benchmark's custom-command mode.

For every row: both servers get the same data set loaded (FLUSHALL first),
then `redis-benchmark -c 50 -n N -P p [-r R] CMD...` runs against each, the
two alternated for --rounds rounds at -P 1 and -P 16; the medians of the
requests per second and their ratio slotcache/redis are printed. A row whose
command the server under test does not know is reported as skipped.

Usage:
  /usr/bin/python3 scripts/bench-datacmds.py [--rounds 3] [--rows setbit,pfadd]
      [--threads N] [--json FILE]
It starts both servers itself on free loopback ports (slotcache from
build/slotcache-server with its defaults, or --threads N) and stops them.
Last line: `datacmds geomean ratio slotcache/redis: X.XXX`.
"""
import argparse
import json
import math
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    """Blocking RESP client, enough for loading data and one-line replies."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.buf = b""

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(1 << 16)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.s.recv(1 << 16)
            v, self.buf = self.buf[:n], self.buf[n + 2:]
            return v
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        if t == b":":
            return int(rest)
        if t == b"-":
            return RuntimeError(rest.decode())
        return rest

    def call(self, *args):
        self.s.sendall(resp(*args))
        return self._reply()

    def pipeline(self, cmds, batch=1000):
        for i in range(0, len(cmds), batch):
            part = cmds[i:i + batch]
            self.s.sendall(b"".join(resp(*c) for c in part))
            for _ in part:
                r = self._reply()
                if isinstance(r, RuntimeError):
                    raise r


def load_bitmap(c):
    c.call("SETBIT", "bm", 8 * 1024 * 1024 - 1, 1)  # 1 MB


def load_hll(c):
    rnd = random.Random(1)
    c.pipeline([["PFADD", "hll"] + [rnd.getrandbits(40) for _ in range(100)] for _ in range(200)])


def load_geo(c):
    rnd = random.Random(2)
    cmds = []
    for i in range(0, 100000, 100):
        args = ["GEOADD", "g"]
        for j in range(i, i + 100):
            args += ["%.6f" % rnd.uniform(10, 20), "%.6f" % rnd.uniform(35, 45), "m%d" % j]
        cmds.append(args)
    c.pipeline(cmds)


def load_sort(c):
    rnd = random.Random(3)
    cmds = []
    for i in range(0, 10000, 500):
        cmds.append(["RPUSH", "sl"] + [rnd.randrange(1 << 30) for _ in range(500)])
        cmds.append(["RPUSH", "sa"] + ["w%08d" % rnd.randrange(1 << 30) for _ in range(500)])
    c.pipeline(cmds)


def load_lcs(c):
    rnd = random.Random(4)
    alpha = b"ACGT"
    c.call("SET", "{l}a", bytes(rnd.choice(alpha) for _ in range(1000)))
    c.call("SET", "{l}b", bytes(rnd.choice(alpha) for _ in range(1000)))


def load_stream(c):
    c.pipeline([["XADD", "s", "*", "f1", "v1", "f2", "v2", "f3", "v3"] for _ in range(100000)])


def load_group_stream(c):
    # enough entries for every round of the xreadgroup row (each read takes one)
    c.pipeline([["XADD", "gs", "*", "f1", "v1", "f2", "v2", "f3", "v3"] for _ in range(800000)])
    c.call("XGROUP", "CREATE", "gs", "g", "0")


def load_pel(c):
    # a PEL of 200k entries 1-0 .. 200000-0, all pending for consumer c
    c.pipeline([["XADD", "ps", "%d-0" % i, "f", "v"] for i in range(1, 200001)])
    c.call("XGROUP", "CREATE", "ps", "g", "0")
    c.pipeline([["XREADGROUP", "GROUP", "g", "c", "COUNT", "10000", "STREAMS", "ps", ">"] for _ in range(20)])


# name: (loader, random range or None, requests at -P 1, requests at -P 16, command)
ROWS = {
    # a fixed offset: redis-benchmark pads __rand_int__ with zeros, which
    # Redis's (and our) integer parsing refuses as a bit offset
    "setbit": (load_bitmap, None, 200000, 1000000, ["SETBIT", "bm", "4194303", "1"]),
    "bitcount": (load_bitmap, None, 5000, 10000, ["BITCOUNT", "bm"]),
    "pfadd": (load_hll, 1000000, 200000, 1000000, ["PFADD", "hll", "__rand_int__"]),
    "pfcount": (load_hll, None, 200000, 1000000, ["PFCOUNT", "hll"]),
    "geoadd": (load_geo, 1000000, 200000, 1000000, ["GEOADD", "g2", "13.361389", "38.115556", "__rand_int__"]),
    "geosearch": (load_geo, None, 3000, 6000,
                  ["GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC", "COUNT", "10"]),
    "sort": (load_sort, None, 600, 1200, ["SORT", "sl", "LIMIT", "0", "10"]),
    "sort-alpha": (load_sort, None, 600, 1200, ["SORT", "sa", "ALPHA", "LIMIT", "0", "10"]),
    "lcs": (load_lcs, None, 2000, 4000, ["LCS", "{l}a", "{l}b"]),
    "xadd": (None, None, 200000, 1000000, ["XADD", "s", "*", "f1", "v1", "f2", "v2", "f3", "v3"]),
    "xrange": (load_stream, None, 100000, 400000, ["XRANGE", "s", "-", "+", "COUNT", "10"]),
    "xreadgroup": (load_group_stream, None, 50000, 200000,
                   ["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "NOACK", "STREAMS", "gs", ">"]),
    "xack": (load_pel, 200000, 50000, 200000, ["XACK", "ps", "g", "__rand_int__-0"]),
}


def bench(port, row, pipeline):
    loader, rnd, n1, n16, cmd = ROWS[row]
    n = n16 if pipeline > 1 else n1
    args = ["redis-benchmark", "-p", str(port), "-c", "50", "-n", str(n), "-P", str(pipeline), "--csv"]
    if rnd:
        args += ["-r", str(rnd)]
    out = subprocess.run(args + cmd, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError("redis-benchmark failed on port %d: %s" % (port, out.stderr.strip()[-300:]))
    lines = [l for l in out.stdout.splitlines() if l and not l.startswith('"test"')]
    return float(lines[-1].split(",")[1].strip('"'))


def start(cmd, cwd, port):
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            if Conn(port).call("PING") == b"PONG":
                return p
        except OSError:
            pass
        time.sleep(0.05)
    p.kill()
    raise RuntimeError("server on port %d did not answer" % port)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rows", default=",".join(ROWS))
    ap.add_argument("--threads", type=int, default=0, help="slotcache --threads (default: its own default)")
    ap.add_argument("--json")
    a = ap.parse_args()
    rows = a.rows.split(",")
    for r in rows:
        if r not in ROWS:
            sys.exit("unknown row %s (rows: %s)" % (r, ",".join(ROWS)))
    tmp = tempfile.mkdtemp(prefix="bench-datacmds-")
    rport, sport = free_port(), free_port()
    os.mkdir(os.path.join(tmp, "sc"))
    scmd = [os.path.join(ROOT, "build/slotcache-server"), "--port", str(sport), "--bind", "127.0.0.1", "--save", ""]
    if a.threads:
        scmd += ["--threads", str(a.threads)]
    procs = []
    try:
        procs.append(start(["redis-server", "--port", str(rport), "--bind", "127.0.0.1", "--save", "",
                            "--appendonly", "no", "--dir", tmp], tmp, rport))
        procs.append(start(scmd, os.path.join(tmp, "sc"), sport))
        results, ratios = {}, []
        print("%-11s %3s %12s %12s %7s" % ("row", "P", "redis rps", "slotcache", "ratio"))
        for row in rows:
            cmd = ROWS[row][4]
            rc, sc = Conn(rport), Conn(sport)
            probe = sc.call("COMMAND", "INFO", cmd[0])
            if not probe or probe[0] is None:
                print("%-11s skipped: slotcache has no %s" % (row, cmd[0]))
                continue
            for c in (rc, sc):
                c.call("FLUSHALL")
                if ROWS[row][0]:
                    ROWS[row][0](c)
            for p in (1, 16):
                rr, ss = [], []
                for _ in range(a.rounds):
                    rr.append(bench(rport, row, p))
                    ss.append(bench(sport, row, p))
                r, s = statistics.median(rr), statistics.median(ss)
                results["%s P%d" % (row, p)] = {"redis": r, "slotcache": s, "ratio": s / r}
                ratios.append(s / r)
                print("%-11s %3d %12.0f %12.0f %7.3f" % (row, p, r, s, s / r), flush=True)
        if a.json:
            with open(a.json, "w") as f:
                json.dump(results, f, indent=1)
        if ratios:
            print("datacmds geomean ratio slotcache/redis: %.3f" % math.exp(sum(map(math.log, ratios)) / len(ratios)))
    finally:
        for p in procs:
            p.kill()
            p.wait()
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
