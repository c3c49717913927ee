# SPDX-License-Identifier: MIT
# tap.py: TAP output for the Python tests (tests/test-*.py): ok() per check, done() at the end.
import sys

_n = 0
_failed = 0


def ok(cond, text, detail=()):
    """One TAP line; on failure the DETAIL lines follow as diagnostics."""
    global _n, _failed
    _n += 1
    print(("ok" if cond else "not ok") + " %d - %s" % (_n, text))
    if not cond:
        _failed += 1
        for d in detail:
            print("# " + d)


def done():
    """The plan, and the exit status: 1 when a check failed."""
    print("1..%d" % _n)
    sys.exit(1 if _failed else 0)
