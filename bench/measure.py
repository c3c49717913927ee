#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""measure.py: run a command N times; print the median and spread of its wall time and the
peak RSS of the process, as GNU time's %M reports it (the command is run under /usr/bin/time).
Not getrusage of a child forked from this Python process: Linux keeps the pre-exec image's
high-water mark in ru_maxrss across exec, so every command would read as at least Python's
own ~10 MiB. GNU time's forked child is ~1-2 MiB before its exec. The wall time includes
time's fork and exec (about a millisecond). Used by the benchmark scripts in bench/;
standard library only.

usage: measure.py NAME N [--before CMD] -- COMMAND...
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time


def run_once(argv):
    with tempfile.NamedTemporaryFile("r", prefix="measure.", suffix=".rss") as out:
        t0 = time.perf_counter()
        with open(os.devnull, "w") as devnull:
            p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out.name, *argv],
                               stdout=devnull, stderr=devnull, check=False)
        wall = time.perf_counter() - t0
        lines = [l for l in out.read().split("\n") if l.strip()]
    # time writes "Command exited with non-zero status N" before the figure when it fails.
    return wall, int(lines[-1]), p.returncode


def main():
    name, n = sys.argv[1], int(sys.argv[2])
    rest = sys.argv[3:]
    before = None
    if rest[0] == "--before":
        before, rest = rest[1], rest[2:]
    assert rest[0] == "--"
    argv = rest[1:]
    walls, rss, codes = [], [], set()
    for _ in range(n):
        if before:
            subprocess.run(before, shell=True, check=True)
        w, r, c = run_once(argv)
        walls.append(w)
        rss.append(r)
        codes.add(c)
    walls.sort()
    print(f"{name}\t{statistics.median(walls) * 1000:.1f}\t{walls[0] * 1000:.1f}\t"
          f"{walls[-1] * 1000:.1f}\t{max(rss) / 1024:.1f}\t{statistics.median(rss) / 1024:.1f}\t"
          f"{','.join(map(str, sorted(codes)))}")


if __name__ == "__main__":
    main()
