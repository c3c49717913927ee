#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""measure.py: run a command N times; print the median and spread of its wall time and the
peak RSS of the process (getrusage of the reaped child, so it is the child's own high-water
mark). Used by the benchmark scripts in bench/; standard library only.

usage: measure.py NAME N [--before CMD] -- COMMAND...
"""
import os
import resource
import statistics
import subprocess
import sys
import time


def run_once(argv):
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    return wall, ru.ru_maxrss, os.waitstatus_to_exitcode(status)


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
