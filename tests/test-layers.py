#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# test-layers.py: the architecture rules of agent/ (doc/architecture.md), checked on the
# sources, as TAP:
#  1. each external library is included by exactly one .c file (and by no header); a library
#     that is loaded at run time (dlopen, so the units that never use it never map it) is no
#     exception: its one includer keeps the table of function pointers, typed from the
#     library's own header, and resolves it through base/dlopen.c, the only caller of
#     dlopen(3)/dlsym(3) (1b). The journal and sd_notify protocols (base/journal.c) use no
#     library at all;
#  2. the module include graph (a module is x.c + x.h) has no cycle;
#  3. a directory only includes headers of its own layer or of the layers below it:
#     base < metadata, cloudconfig, storage < steps < runner < cli < main.c, and the three
#     middle subsystems do not include each other.
import os
import re

from tap import done, ok

top = os.environ.get("top_srcdir") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
agent = os.path.join(top, "agent")

LIBRARIES = {
    "libcurl": re.compile(r"^curl/"),
    "json-c": re.compile(r"^json-c/|^json\.h$"),
    "libblkid": re.compile(r"^blkid/"),
    "libparted": re.compile(r"^parted/"),
    "libsystemd": re.compile(r"^systemd/"),
    "libyaml": re.compile(r"^yaml\.h$"),
    "zlib": re.compile(r"^zlib\.h$"),
}
LAYER = {"base": 0, "metadata": 1, "cloudconfig": 1, "storage": 1, "steps": 2, "runner": 3,
         "cli": 4, "": 5}



files = []
for dirpath, _, names in os.walk(agent):
    for name in sorted(names):
        if name.endswith((".c", ".h")):
            files.append(os.path.relpath(os.path.join(dirpath, name), agent))
files.sort()

local = {}   # file -> [included agent headers]
system = {}  # file -> [<system> headers]
for f in files:
    text = open(os.path.join(agent, f), encoding="utf-8").read()
    local[f] = re.findall(r'^#include "([^"]+)"', text, re.M)
    system[f] = re.findall(r"^#include <([^>]+)>", text, re.M)

# 1. one .c per library
for lib, pat in LIBRARIES.items():
    users = sorted(f for f in files if any(pat.search(h) for h in system[f]))
    ok(len(users) == 1 and users[0].endswith(".c"),
       "%s is included by exactly one .c file (%s)" % (lib, ", ".join(users) or "none"), users)

# 1b. dlopen(3) and dlsym(3) are called by base/dlopen.c only: the one includer of <dlfcn.h>
dl_users = sorted(f for f in files if "dlfcn.h" in system[f])
ok(dl_users == ["base/dlopen.c"],
   "<dlfcn.h> (dlopen, dlsym) is included by base/dlopen.c only (%s)" % ", ".join(dl_users),
   dl_users)

# 2. no cycle between modules
def module(path):
    return path[:-2]

graph = {}
for f in files:
    m = module(f)
    for h in local[f]:
        if h in local and module(h) != m:
            graph.setdefault(m, set()).add(module(h))
cycles = []
state = {}
stack = []

def visit(m):
    state[m] = 1
    stack.append(m)
    for d in sorted(graph.get(m, ())):
        if state.get(d) == 1:
            cycles.append(" -> ".join(stack[stack.index(d):] + [d]))
        elif d not in state:
            visit(d)
    stack.pop()
    state[m] = 2

for m in sorted(graph):
    if m not in state:
        visit(m)
ok(not cycles, "the module include graph has no cycle (%d modules)" % len({module(f) for f in files}),
   cycles)

# 3. layers
def layer_of(path):
    d = os.path.dirname(path)
    return d, LAYER.get(d)

bad = []
for f in files:
    d, lf = layer_of(f)
    if lf is None:
        bad.append("%s: directory '%s' has no layer" % (f, d))
        continue
    for h in local[f]:
        if h not in local:
            continue
        hd, lh = layer_of(h)
        if lh is None:
            continue
        if lh > lf or (lh == lf and hd != d):
            bad.append("%s includes %s (%s may not use %s)" % (f, h, d or "main", hd))
ok(not bad, "every directory uses only its own layer and the layers below", bad)

done()
