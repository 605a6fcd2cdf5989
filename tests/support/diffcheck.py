#!/usr/bin/python3
"""tests/support/diffcheck.py - differential check: send every command of a
case file to a reference server (redis-server) and to the server under test
(slotcache), one connection to each, and compare the replies byte for byte.

usage: diffcheck.py [-v] [--host H] [--timeout S] REF_PORT SUT_PORT CASES_FILE

Case file: one command per line, split like a shell (shlex). Blank lines and
lines starting with `#` are skipped. A line may start with one of these mode
words (lower case, followed by a space):

  exact      the default: the replies must be identical
  type       only the reply type (its first byte) must match
  sorted     arrays and sets are compared with their elements sorted
  int~N      integer replies may differ by at most N
  raw        the rest of the line is sent as it is plus CRLF (inline
             commands, malformed protocol); replies compared exactly
  rawbytes   the rest of the line with \\r \\n \\t \\\\ \\xNN decoded, sent
             with nothing added. A bare `rawbytes` sends nothing and reads the
             next reply (the second reply of `SUBSCRIBE a b`)
  sleep S    sleep S seconds (a float); no command, not counted

Every command reads exactly one reply from each server (a RESP3 attribute is
read together with the reply it annotates). A reply not there within the
timeout (5 s) reads as <timeout>, a closed connection as <closed> (equal
when both servers do the same); both connections are then reopened, so the
servers stay in step. When a server cannot be reached again, the run stops
there and the commands not sent count as not identical.

Output: with -v, every mismatch is printed with the case file and line, the
command, both replies escaped (\\r, \\n, \\xNN) and where they first differ.
The last line is always `N/M replies identical`.

Exit status: 0 when every reply matched, 1 when some differed, 2 when the
case file has errors (nothing is sent then), a server could not be reached,
or the arguments are wrong.

Python 3.11 standard library only (run it with /usr/bin/python3).
"""

import argparse
import select
import shlex
import socket
import sys
import time

MODES = ("exact", "type", "sorted", "raw", "rawbytes", "sleep")

# Markers for "no reply": never valid RESP (no RESP reply starts with '<').
TIMEOUT = b"<timeout>"
CLOSED = b"<closed>"

TYPE_NAMES = {
    "+": "simple string", "-": "error", ":": "integer", "$": "bulk string",
    "*": "array", "_": "null", ",": "double", "#": "boolean",
    "!": "bulk error", "=": "verbatim string", "(": "big number",
    "%": "map", "~": "set", "|": "attribute", ">": "push", "<": "no reply",
}

# How much of a long reply a mismatch report shows (bytes before the first
# difference, total escaped width).
CONTEXT_BEFORE = 48
SHOW_WIDTH = 160


class CaseError(Exception):
    """A line of the case file that cannot be run."""


class Step:
    """One line of a case file: what to send and how to compare."""

    def __init__(self, lineno, text, mode, rest, data=None, tolerance=0, seconds=0.0):
        self.lineno = lineno
        self.text = text          # the line as written (stripped)
        self.mode = mode          # one of MODES or "int~"
        self.rest = rest          # the line without its mode word
        self.data = data          # bytes to send (None for sleep)
        self.tolerance = tolerance
        self.seconds = seconds


# ---- case files -------------------------------------------------------------

def decode_escapes(text):
    """rawbytes: \\r \\n \\t \\0 \\\\ \\' \\" and \\xNN; other characters as
    their latin-1 byte (the case files are ASCII)."""
    out = bytearray()
    i = 0
    simple = {"r": 13, "n": 10, "t": 9, "0": 0, "\\": 92, "'": 39, '"': 34,
              "a": 7, "b": 8, "f": 12, "v": 11}
    while i < len(text):
        ch = text[i]
        if ch != "\\":
            code = ord(ch)
            if code > 255:
                raise CaseError("rawbytes: character %r is not a byte (use \\xNN)" % ch)
            out.append(code)
            i += 1
            continue
        if i + 1 >= len(text):
            raise CaseError("rawbytes: the line ends with a lone backslash")
        esc = text[i + 1]
        if esc == "x":
            digits = text[i + 2:i + 4]
            if len(digits) != 2 or any(c not in "0123456789abcdefABCDEF" for c in digits):
                raise CaseError("rawbytes: \\x needs two hex digits, got %r" % text[i:i + 4])
            out.append(int(digits, 16))
            i += 4
        elif esc in simple:
            out.append(simple[esc])
            i += 2
        else:
            raise CaseError("rawbytes: unknown escape \\%s" % esc)
    return bytes(out)


def encode_command(args):
    """A RESP array of bulk strings (UTF-8)."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


def parse_line(lineno, line):
    """One stripped, non-comment line -> Step (raises CaseError)."""
    mode, _, rest = line.partition(" ")
    tolerance = 0
    if mode.startswith("int~"):
        n = mode[4:]
        if not n.isdigit():
            raise CaseError("mode %r: int~ needs a whole number, e.g. int~10" % mode)
        tolerance = int(n)
    elif mode not in MODES:
        mode, rest = "exact", line
    if mode == "sleep":
        try:
            seconds = float(rest)
        except ValueError:
            raise CaseError("sleep needs a number of seconds, got %r" % rest) from None
        if not 0 <= seconds <= 600:
            raise CaseError("sleep %s: out of range (0 to 600 s)" % rest)
        return Step(lineno, line, mode, rest, seconds=seconds)
    if mode == "raw":
        data = rest.encode() + b"\r\n"
    elif mode == "rawbytes":
        data = decode_escapes(rest)
    else:
        try:
            data = encode_command(shlex.split(rest))
        except ValueError as e:   # unbalanced quotes, a trailing backslash
            raise CaseError("cannot split the command like a shell: %s" % e) from None
    return Step(lineno, line, "int~" if mode.startswith("int~") else mode, rest, data, tolerance)


def load_cases(path):
    """-> (steps, errors); errors are 'path:line: message' strings."""
    steps, errors = [], []
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        return [], ["%s: cannot read: %s" % (path, e)]
    for lineno, raw_line in enumerate(lines, 1):
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            steps.append(parse_line(lineno, line))
        except CaseError as e:
            errors.append("%s:%d: %s\n  line: %s" % (path, lineno, e, line))
    return steps, errors


# ---- RESP replies -----------------------------------------------------------

class BadReply(Exception):
    pass


class BytesSource:
    """read_reply() over bytes already received (to split an array)."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def line(self):
        end = self.data.find(b"\n", self.pos)
        end = len(self.data) if end < 0 else end + 1
        out = self.data[self.pos:end]
        self.pos = end
        return out

    def exact(self, n):
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out


def length_of(line):
    try:
        return int(line[1:].rstrip(b"\r\n"))
    except ValueError:
        raise BadReply("bad length line %r" % line) from None


def read_reply(src):
    """The raw bytes of one complete reply from src (line()/exact(n))."""
    line = src.line()
    t = line[:1]
    if t in (b"$", b"=", b"!"):
        n = length_of(line)
        return line if n < 0 else line + src.exact(n + 2)
    if t in (b"*", b"~", b">", b"%", b"|"):
        n = length_of(line)
        if n < 0:
            return line
        parts = [line]
        for _ in range(n * 2 if t in (b"%", b"|") else n):
            parts.append(read_reply(src))
        if t == b"|":   # an attribute annotates the reply that follows it
            parts.append(read_reply(src))
        return b"".join(parts)
    return line   # simple types, and anything that is not RESP: one line


def split_aggregate(reply):
    """An array, set, push or map reply -> (header line, [element
    encodings]); a map's keys and values are elements of their own."""
    src = BytesSource(reply)
    head = src.line()
    n = length_of(head)
    if head[:1] == b"%":
        n *= 2
    return head, [read_reply(src) for _ in range(max(n, 0))]


class Conn:
    """One connection; buffered reads with a timeout per receive."""

    def __init__(self, host, port, timeout):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = bytearray()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def line(self):
        start = 0
        while True:
            i = self.buf.find(b"\n", start)
            if i >= 0:
                out = bytes(self.buf[:i + 1])
                del self.buf[:i + 1]
                return out
            start = len(self.buf)
            self._fill()

    def exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def request(self, data):
        """Send data, read one reply; TIMEOUT / CLOSED when there is none."""
        try:
            if data:
                self.sock.sendall(data)
            return read_reply(self)
        except socket.timeout:
            return TIMEOUT
        except (EOFError, OSError):
            return CLOSED
        except BadReply as e:
            return b"<bad reply: " + str(e).encode() + b">"

    def unread(self):
        """Bytes received or waiting in the kernel but not read as a reply."""
        n = len(self.buf)
        try:
            # select first: with a timeout set, recv waits for data even
            # with MSG_DONTWAIT.
            if select.select([self.sock], [], [], 0)[0]:
                n += len(self.sock.recv(65536, socket.MSG_PEEK))
        except OSError:
            pass
        return n


# ---- comparing and reporting ------------------------------------------------

def is_marker(reply):
    return reply[:1] == b"<"


def compare(step, a, b):
    """-> (same, detail lines for a report)."""
    ta, tb = a[:1], b[:1]
    if step.mode == "type":
        same = ta == tb
        return same, [] if same else ["reply types: ref %s, sut %s" % (type_name(a), type_name(b))]
    if step.mode == "sorted" and ta in (b"*", b"~") and tb in (b"*", b"~"):
        ha, ea = split_aggregate(a)
        hb, eb = split_aggregate(b)
        if ha == hb and sorted(ea) == sorted(eb):
            return True, []
        detail = []
        if ha != hb:
            detail.append("headers: ref %s, sut %s" % (escape(ha), escape(hb)))
        only_a, only_b = multiset_minus(ea, eb), multiset_minus(eb, ea)
        for label, items in (("only in ref", only_a), ("only in sut", only_b)):
            for item in items[:10]:
                detail.append("%s: %s" % (label, clip(item)))
            if len(items) > 10:
                detail.append("%s: ... and %d more" % (label, len(items) - 10))
        return False, detail
    if step.mode == "int~" and ta == b":" and tb == b":":
        try:
            ia, ib = int(a[1:-2]), int(b[1:-2])
        except ValueError:
            return a == b, []
        same = abs(ia - ib) <= step.tolerance
        return same, [] if same else ["|%d - %d| = %d > %d" % (ia, ib, abs(ia - ib), step.tolerance)]
    if a != b and ta == tb and ta in (b"*", b"~", b">", b"%"):
        return False, element_difference(a, b)
    return a == b, []


def element_difference(a, b):
    """Where two aggregates of the same type first differ, element-wise."""
    try:
        ha, ea = split_aggregate(a)
        hb, eb = split_aggregate(b)
    except BadReply:
        return []
    out = []
    if ha != hb:
        out.append("lengths: ref %s, sut %s" % (escape(ha), escape(hb)))
    for i, (x, y) in enumerate(zip(ea, eb)):
        if x != y:
            out.append("first different element: #%d of %d/%d" % (i + 1, len(ea), len(eb)))
            out.append("  ref: %s" % clip(x))
            out.append("  sut: %s" % clip(y))
            break
    return out


def multiset_minus(xs, ys):
    left = list(ys)
    out = []
    for x in xs:
        if x in left:
            left.remove(x)
        else:
            out.append(x)
    return out


def type_name(reply):
    t = reply[:1].decode("latin-1")
    return "'%s' (%s)" % (t, TYPE_NAMES.get(t, "not RESP"))


def escape_tokens(data):
    """One token per byte: printable ASCII as is; CR, LF, tab, backslash and
    the double quote escaped; the rest as \\xNN."""
    named = {13: "\\r", 10: "\\n", 9: "\\t", 92: "\\\\", 34: '\\"'}
    return [named.get(c) or (chr(c) if 32 <= c < 127 else "\\x%02x" % c) for c in data]


def escape_bytes(data):
    return "".join(escape_tokens(data))


def escape(data):
    if is_marker(data):
        return data.decode("latin-1")
    return '"%s"' % escape_bytes(data)


def cut(tokens, width):
    """Join tokens up to width characters, never splitting an escape;
    -> (text, whether something was left out)."""
    out, n = [], 0
    for t in tokens:
        if n + len(t) > width:
            return "".join(out), True
        out.append(t)
        n += len(t)
    return "".join(out), False


def clip(data, width=SHOW_WIDTH):
    if is_marker(data):
        return data.decode("latin-1")
    text, cutoff = cut(escape_tokens(data), width)
    return '"%s"' % text if not cutoff else '"%s..." (%d bytes)' % (text, len(data))


def first_difference(a, b):
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def show_pair(a, b):
    """The two replies, escaped, cut to the same window around their first
    difference, with a caret under it."""
    if is_marker(a) or is_marker(b):
        return ["ref: %s" % clip(a), "sut: %s" % clip(b)]
    d = first_difference(a, b)
    start = d - CONTEXT_BEFORE if d > CONTEXT_BEFORE else 0
    lines = []
    opening = '..."' if start else '"'
    shown = SHOW_WIDTH
    for label, r in (("ref", a), ("sut", b)):
        text, cutoff = cut(escape_tokens(r[start:]), SHOW_WIDTH - len(opening))
        lines.append("%s: %s%s%s   (%d bytes)" % (label, opening, text, '..."' if cutoff else '"', len(r)))
        shown = min(shown, len(opening) + len(text))
    if a != b:
        offset = len(opening) + len(escape_bytes(a[start:d]))
        if offset <= shown:
            caret = len("ref: ") + offset
            lines.append(" " * caret + "^ first difference at byte %d" % d)
        else:
            lines.append("first difference at byte %d" % d)
    return lines


def report(path, step, a, b, detail, ref, sut):
    out = ["%s:%d: replies differ (%s)" % (path, step.lineno, step.mode if step.mode != "int~"
                                           else "int~%d" % step.tolerance)]
    if step.mode in ("raw", "rawbytes"):
        out.append("  sent:    %s" % clip(step.data))
    else:
        out.append("  command: %s" % step.rest)
    out.extend("  " + s for s in show_pair(a, b))
    out.extend("  " + s for s in detail)
    if ref is not None and sut is not None:
        ua, ub = ref.unread(), sut.unread()
        if ua != ub and (ua == 0 or ub == 0):
            out.append("  note: bytes left unread after this reply: ref %d, sut %d; the reply "
                       "streams may be out of step from here on" % (ua, ub))
    print("\n".join(out), flush=True)


# ---- main -------------------------------------------------------------------

def connect(host, port, timeout, name):
    try:
        return Conn(host, port, timeout)
    except OSError as e:
        raise ConnectionError("cannot connect to %s at %s:%d: %s" % (name, host, port, e)) from None


def run(args):
    steps, errors = load_cases(args.cases)
    if errors:
        for e in errors:
            print(e, file=sys.stderr)
        print("diffcheck: %d error(s) in %s; nothing sent" % (len(errors), args.cases), file=sys.stderr)
        return 2
    if args.verbose:
        print("diffcheck: %s, ref %s:%d, sut %s:%d" % (args.cases, args.host, args.ref_port,
                                                     args.host, args.sut_port), flush=True)
    total = same = 0
    try:
        ref = connect(args.host, args.ref_port, args.timeout, "ref")
        sut = connect(args.host, args.sut_port, args.timeout, "sut")
    except ConnectionError as e:
        print("diffcheck: %s" % e, file=sys.stderr)
        return 2
    stopped = None
    for i, step in enumerate(steps):
        if step.mode == "sleep":
            time.sleep(step.seconds)
            continue
        a, b = ref.request(step.data), sut.request(step.data)
        ok, detail = compare(step, a, b)
        total += 1
        same += ok
        lost = is_marker(a) or is_marker(b)
        if not ok and args.verbose:
            report(args.cases, step, a, b, detail, None if lost else ref, None if lost else sut)
        if lost:   # reopen both so the two servers stay in step
            ref.close()
            sut.close()
            try:
                ref = connect(args.host, args.ref_port, args.timeout, "ref")
                sut = connect(args.host, args.sut_port, args.timeout, "sut")
            except ConnectionError as e:
                left = sum(1 for s in steps[i + 1:] if s.mode != "sleep")
                stopped = "%s:%d: %s; %d command(s) not sent" % (args.cases, step.lineno, e, left)
                total += left   # counted as not identical
                break
    if stopped:
        print("diffcheck: stopped at %s" % stopped, flush=True)
    print("%d/%d replies identical" % (same, total), flush=True)
    return 0 if same == total and not stopped else 1


def main(argv):
    p = argparse.ArgumentParser(
        prog="diffcheck.py",
        description="Compare the replies of two Redis-protocol servers to the commands of a case file.")
    p.add_argument("ref_port", type=int, help="port of the reference server (redis-server)")
    p.add_argument("sut_port", type=int, help="port of the server under test")
    p.add_argument("cases", help="case file (see the top of this file for its format)")
    p.add_argument("-v", "--verbose", action="store_true", help="print every mismatch")
    p.add_argument("--host", default="127.0.0.1", help="host of both servers (127.0.0.1)")
    p.add_argument("--timeout", type=float, default=5.0,
                   help="seconds to wait for a reply before it reads as <timeout> (5)")
    args = p.parse_args(argv)
    return run(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
