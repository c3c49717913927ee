#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# cc-corpus-check.py EXPECT ROOT OUT STATUS LOG RC: check one corpus run (tests/test-cc-corpus.sh)
# against its .expect file, one "PASS text" or "FAIL text" line per check. ROOT is the --root of
# the run, OUT the host directory its commands write to (@OUT@ in the fixtures), STATUS the
# run's status.json, LOG vagent's output, RC its exit status. Each line of EXPECT is one check
# (blank lines and '#' comments skipped; \t, \n and \xNN are escapes):
#   exit N                       vagent's exit status
#   key NAME STATUS [TEXT]       the report's key NAME has STATUS and TEXT is in its reason
#   nokey NAME                   the report has no entry for NAME
#   step NAME RESULT [TEXT]      the step's result, TEXT in its message
#   file PATH [mode=0644] [owner=U:G] [content="..."] [size=N]
#                                a regular file (PATH in ROOT; @OUT@/... on the host)
#   dir PATH [mode=0755] [owner=U:G]
#   absent PATH
#   has PATH "TEXT"              the file holds TEXT;  hasnot PATH "TEXT": it does not
#   line PATH "LINE"             the file has exactly this line
#   log "TEXT" / nolog "TEXT"    vagent's output has (has not) TEXT
# Owners are numbers or names from ROOT/etc/passwd and ROOT/etc/group.
import json
import os
import shlex
import stat
import sys

expect, root, out, status_path, log_path, rc = sys.argv[1:7]
name = os.path.basename(expect).rsplit(".", 1)[0]


def unescape(s):
    # \t, \n, \xNN as in Python (content is compared as latin-1 bytes)
    return s.encode("latin-1", "backslashreplace").decode("unicode_escape")


def path_of(p):
    if p.startswith("@OUT@"):
        return out + p[len("@OUT@"):]
    return os.path.join(root, p.lstrip("/"))


def ids(fname):
    m = {}
    try:
        for line in open(os.path.join(root, "etc", fname)):
            f = line.rstrip("\n").split(":")
            if len(f) > 2:
                m[f[0]] = int(f[2])
    except OSError:
        pass
    return m


def owner_ok(st, want):
    u, g = want.split(":")
    uid = int(u) if u.isdigit() else ids("passwd").get(u, -2)
    gid = int(g) if g.isdigit() else ids("group").get(g, -2)
    return st.st_uid == uid and st.st_gid == gid


try:
    status = json.load(open(status_path))
except (OSError, ValueError):
    status = {}
keys = {k["key"]: k for k in status.get("keys", [])}
steps = {s["name"]: s for s in status.get("steps", [])}
log = open(log_path, errors="replace").read()


def check(line):
    w = [unescape(x) for x in shlex.split(line)]
    op, args = w[0], w[1:]
    if op == "exit":
        return int(rc) == int(args[0]), "rc %s" % rc
    if op == "key":
        k = keys.get(args[0])
        if not k:
            return False, "no such key (have %s)" % ", ".join(keys)
        good = k["status"] == args[1] and (len(args) < 3 or args[2] in (k["reason"] or ""))
        return good, "%s: %s" % (k["status"], k["reason"])
    if op == "nokey":
        return args[0] not in keys, ""
    if op == "step":
        s = steps.get(args[0])
        if not s:
            return False, "no such step"
        good = s["result"] == args[1] and (len(args) < 3 or args[2] in (s["message"] or ""))
        return good, "%s: %s" % (s["result"], s["message"])
    p = path_of(args[0]) if args else ""
    if op in ("file", "dir"):
        try:
            st = os.lstat(p)
        except OSError as e:
            return False, str(e)
        if op == "file" and not stat.S_ISREG(st.st_mode):
            return False, "not a regular file"
        if op == "dir" and not stat.S_ISDIR(st.st_mode):
            return False, "not a directory"
        for opt in args[1:]:
            k, v = opt.split("=", 1)
            if k == "mode" and stat.S_IMODE(st.st_mode) != int(v, 8):
                return False, "mode %o" % stat.S_IMODE(st.st_mode)
            if k == "owner" and not owner_ok(st, v):
                return False, "owner %d:%d" % (st.st_uid, st.st_gid)
            if k == "size" and st.st_size != int(v):
                return False, "size %d" % st.st_size
            if k == "content":
                data = open(p, "rb").read()
                if data != v.encode("latin-1"):
                    return False, "content %r" % data[:80]
        return True, ""
    if op == "absent":
        return not os.path.lexists(p), ""
    if op in ("has", "hasnot", "line"):
        try:
            data = open(p, errors="replace").read()
        except OSError as e:
            return op == "hasnot", str(e)
        if op == "line":
            return args[1] in data.split("\n"), ""
        return (args[1] in data) == (op == "has"), ""
    if op in ("log", "nolog"):
        return (args[0] in log) == (op == "log"), ""
    return False, "unknown check"


for raw in open(expect):
    line = raw.strip()
    if not line or line.startswith("#"):
        continue
    try:
        good, why = check(line)
    except Exception as e:  # a broken expect line is a failure, never a pass
        good, why = False, "error: %s" % e
    print("%s %s: %s%s" % ("PASS" if good else "FAIL", name, line,
                           "" if good or not why else "  [%s]" % why))
