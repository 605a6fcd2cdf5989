#!/usr/bin/python3
"""gen-command-meta.py - writes slotcache's command metadata tables
(server/command_meta_info_data.c and server/command_meta_docs_data.c) from
what a running redis-server 7.0 answers.

What it does:
  1. asks a running slotcache (--slotcache-port) for its commands and
     subcommands (COMMAND LIST), so only commands slotcache has get rows;
  2. asks a running redis-server 7.0.x (--redis-port; any other version is
     refused) for COMMAND INFO and COMMAND DOCS of each of them, one at a
     time; commands Redis does not know (slotcache's own: DELIFEQ, CAS...)
     are skipped, their rows are written by hand in
     server/command_meta_local.c;
  3. writes, sorted by fullname, one C row per key spec and per command's
     tips (command_meta_info_data.c), and one per doc-flags/deprecation,
     history entry and argument node (command_meta_docs_data.c), in the row
     types of server/command_meta.h.
It also reports (without failing) where slotcache's own COMMAND INFO fields
1-7 or DOCS summary/since/group/complexity differ from Redis: those live in
the modules' command arrays and are fixed there.

The replies are read as data through a small RESP2 client (no redis-py
needed); nothing of Redis's source or JSON files is used.

Usage:
  redis-server --port 7000 --save "" --appendonly no &
  build/slotcache-server --port 7001 &
  /usr/bin/python3 scripts/gen-command-meta.py --redis-port 7000 --slotcache-port 7001
"""
import argparse
import os
import socket
import sys


class Resp:
    """Blocking RESP2 client returning bytes, ints, lists and None."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def _fill(self, n):
        while len(self.buf) < n:
            data = self.sock.recv(1 << 20)
            if not data:
                raise EOFError("connection closed")
            self.buf += data

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill(len(self.buf) + 1)
        i = self.buf.index(b"\r\n")
        line, self.buf = self.buf[:i], self.buf[i + 2:]
        return line

    def _read(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            raise RuntimeError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            self._fill(n + 2)
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data.decode()
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise RuntimeError("unexpected reply type %r" % line)

    def call(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a.encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return self._read()


def pairs(flat):
    """RESP2 map (flat list) -> dict, keeping order."""
    return dict(zip(flat[0::2], flat[1::2]))


def cstr(s):
    """C string literal(s); long strings are split into adjacent literals."""
    out = []
    for ch in s.encode():
        c = chr(ch)
        if c in '\\"':
            out.append("\\" + c)
        elif 32 <= ch < 127:
            out.append(c)
        else:
            out.append("\\%03o" % ch)
    text = "".join(out)
    if len(text) <= 80:
        return '"%s"' % text
    chunks, cur = [], ""
    for word in text.split(" "):
        piece = word if not cur else " " + word
        if cur and len(cur) + len(piece) > 80:
            chunks.append(cur + " ")
            cur = word
        else:
            cur += piece
    chunks.append(cur)
    return "\n        ".join('"%s"' % c for c in chunks)


def row(parts):
    """One C initializer row, wrapped before a part that would pass 118 columns."""
    lines, cur = [], "    {" + parts[0]
    for p in parts[1:]:
        if len(cur) + 2 + len(p.split("\n")[0]) > 118:
            lines.append(cur + ",")
            cur = "        " + p
        else:
            cur += ", " + p
    lines.append(cur + "},")
    return "\n".join(lines)


def flag_expr(names, table, what):
    parts = []
    for n in names:
        if n not in table:
            sys.exit("unknown %s flag %r" % (what, n))
        parts.append(table[n])
    return " | ".join(parts) if parts else "0"


KS_FLAGS = {f: "KS_" + f.upper() for f in
            ["RO", "RW", "OW", "RM", "access", "update", "insert", "delete", "not_key", "incomplete",
             "variable_flags"]}
DOC_FLAGS = {"deprecated": "DOC_DEPRECATED", "syscmd": "DOC_SYSCMD"}
ARG_FLAGS = {"optional": "ARG_OPTIONAL", "multiple": "ARG_MULTIPLE", "multiple_token": "ARG_MULTIPLE_TOKEN"}
ARG_TYPES = {t: "ARG_" + t.upper().replace("-", "_") for t in
             ["string", "integer", "double", "key", "pattern", "unix-time", "pure-token", "oneof", "block"]}
ARG_FIELDS = {"name", "type", "key_spec_index", "token", "summary", "since", "deprecated_since", "flags",
              "arguments"}
DOC_FIELDS = {"summary", "since", "group", "complexity", "doc_flags", "deprecated_since", "replaced_by",
              "history", "arguments", "subcommands"}


def key_spec_row(name, spec):
    spec = pairs(spec)
    parts = [cstr(name), flag_expr(spec["flags"], KS_FLAGS, "key spec")]
    bs = pairs(spec["begin_search"])
    bspec = pairs(bs["spec"])
    if bs["type"] == "index":
        parts.append("KS_INDEX(%d)" % bspec["index"])
    elif bs["type"] == "keyword":
        parts.append("KS_KEYWORD(%s, %d)" % (cstr(bspec["keyword"]), bspec["startfrom"]))
    elif bs["type"] != "unknown":
        sys.exit("%s: unknown begin_search %r" % (name, bs["type"]))
    fk = pairs(spec["find_keys"])
    fspec = pairs(fk["spec"])
    if fk["type"] == "range":
        parts.append("KS_RANGE(%d, %d, %d)" % (fspec["lastkey"], fspec["keystep"], fspec["limit"]))
    elif fk["type"] == "keynum":
        parts.append("KS_KEYNUM(%d, %d, %d)" % (fspec["keynumidx"], fspec["firstkey"], fspec["keystep"]))
    elif fk["type"] != "unknown":
        sys.exit("%s: unknown find_keys %r" % (name, fk["type"]))
    if "notes" in spec:
        parts.append(".notes = " + cstr(spec["notes"]))
    return row(parts)


def arg_rows(name, args, depth, out):
    for a in args:
        a = pairs(a)
        extra = set(a) - ARG_FIELDS
        if extra:
            sys.exit("%s: unknown argument fields %s" % (name, extra))
        if a["type"] not in ARG_TYPES:
            sys.exit("%s: unknown argument type %r" % (name, a["type"]))
        if ("key_spec_index" in a) != (a["type"] == "key") and a["type"] != "pattern":
            sys.exit("%s: key_spec_index on a non-key argument (or missing on a key)" % name)
        if ("arguments" in a) != (a["type"] in ("oneof", "block")):
            sys.exit("%s: nested arguments on a %s argument" % (name, a["type"]))
        parts = ["ARG_ROW(%s, %d, %s, %s, %s)" % (cstr(name), depth, cstr(a["name"]), ARG_TYPES[a["type"]],
                                                  flag_expr(a.get("flags", []), ARG_FLAGS, "argument"))]
        if "key_spec_index" in a:
            parts.append(".key_spec = %d" % a["key_spec_index"])
            if a["type"] != "key":
                parts.append(".pattern_key_spec = 1")
        for f in ("token", "summary", "since", "deprecated_since"):
            if f in a:
                parts.append(".%s = %s" % (f, cstr(a[f])))
        out.append(row(parts))
        if "arguments" in a:
            arg_rows(name, a["arguments"], depth + 1, out)


HEADER = """/*
 * %s - GENERATED by scripts/gen-command-meta.py from the
 * COMMAND INFO / COMMAND DOCS replies of redis-server %s, for the commands
 * slotcache shares with Redis 7.0. Do not edit: re-run the script (its
 * header says how). Row types: command_meta.h; slotcache's own commands:
 * command_meta_local.c.
 *
 * %s
 */
#include "command_meta.h"
"""


def table(ctype, cname, rows):
    return "\nconst %s %s[] = {\n%s\n    {0},\n};\n" % (ctype, cname, "\n".join(rows)) if rows else \
        "\nconst %s %s[] = {\n    {0},\n};\n" % (ctype, cname)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--redis-port", type=int, required=True)
    ap.add_argument("--slotcache-port", type=int, required=True)
    ap.add_argument("--out-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server"))
    opt = ap.parse_args()

    redis, sc = Resp(opt.redis_port), Resp(opt.slotcache_port)
    version = [l.split(":", 1)[1] for l in redis.call("INFO", "server").split("\r\n")
               if l.startswith("redis_version:")][0]
    if not version.startswith("7.0."):
        sys.exit("redis-server %s: the tables follow Redis 7.0 (run a 7.0.x server)" % version)

    names = sorted(sc.call("COMMAND", "LIST"))
    ks_rows, tip_rows, doc_rows, hist_rows, args_out = [], [], [], [], []
    mismatches = []
    for name in names:
        info = redis.call("COMMAND", "INFO", name)[0]
        if info is None:
            continue
        docs_reply = redis.call("COMMAND", "DOCS", name)
        docs = pairs(docs_reply[1])
        extra = set(docs) - DOC_FIELDS
        if extra:
            sys.exit("%s: unknown doc fields %s" % (name, extra))

        ours = sc.call("COMMAND", "INFO", name)[0]
        for i, field in enumerate(["name", "arity", "flags", "first key", "last key", "step", "ACL categories"]):
            if ours[i] != info[i]:
                mismatches.append("%s: %s is %r, Redis has %r" % (name, field, ours[i], info[i]))
        our_docs = pairs(sc.call("COMMAND", "DOCS", name)[1])
        for field in ("summary", "since", "group", "complexity"):
            if our_docs.get(field) != docs.get(field):
                mismatches.append("%s: %s is %r, Redis has %r" % (name, field, our_docs.get(field), docs.get(field)))

        for spec in info[8]:
            ks_rows.append(key_spec_row(name, spec))
        if info[7]:
            if any(" " in t for t in info[7]):
                sys.exit("%s: a tip with a space" % name)
            tip_rows.append(row([cstr(name), cstr(" ".join(info[7]))]))
        if "doc_flags" in docs or "deprecated_since" in docs or "replaced_by" in docs:
            doc_rows.append(row([
                cstr(name), flag_expr(docs.get("doc_flags", []), DOC_FLAGS, "doc"),
                cstr(docs["deprecated_since"]) if "deprecated_since" in docs else "NULL",
                cstr(docs["replaced_by"]) if "replaced_by" in docs else "NULL"]))
        if "history" in docs and not docs["history"]:
            sys.exit("%s: an empty history" % name)
        for since, changes in docs.get("history", []):
            hist_rows.append(row([cstr(name), cstr(since), cstr(changes)]))
        if "arguments" in docs and not docs["arguments"]:
            sys.exit("%s: an empty argument list" % name)
        arg_rows(name, docs.get("arguments", []), 0, args_out)

    info_c = HEADER % ("command_meta_info_data.c", version,
                       "Key specs (one row each, in the command's order) and tips.")
    info_c += table("key_spec_row", "redis_key_spec_rows", ks_rows)
    info_c += table("tip_row", "redis_tip_rows", tip_rows)
    docs_c = HEADER % ("command_meta_docs_data.c", version,
                       "Doc flags and deprecations, history, and argument trees (depth-first).")
    docs_c += table("doc_row", "redis_doc_rows", doc_rows)
    docs_c += table("history_row", "redis_history_rows", hist_rows)
    docs_c += table("arg_row", "redis_arg_rows", args_out)
    for fname, text in (("command_meta_info_data.c", info_c), ("command_meta_docs_data.c", docs_c)):
        with open(os.path.join(opt.out_dir, fname), "w") as f:
            f.write(text)
    for m in mismatches:
        print("differs from Redis (fix it in the module's command array):", m, file=sys.stderr)
    print("wrote %d key specs, %d tip rows, %d doc rows, %d history rows, %d argument rows"
          % (len(ks_rows), len(tip_rows), len(doc_rows), len(hist_rows), len(args_out)))


if __name__ == "__main__":
    main()
