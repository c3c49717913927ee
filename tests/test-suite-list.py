#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# test-suite-list.py: every test listed in Makefile.am really runs. automake names a test's log
# after the test without its extension (TEST_EXTENSIONS), so tests/test-x (a unit test) and
# tests/test-x.sh share tests/test-x.log and only one of them runs: it happened twice (the
# network step's and the system keys' integration tests never ran). Checked here, as TAP:
#  1. no two tests share a log name;
#  2. every tests/test-*.sh and tests/test-*.py in the tree is listed;
#  3. every tests/test-*.c has a unit test of its name listed.
import os
import re

from tap import done, ok

top = os.environ.get("top_srcdir") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
with open(os.path.join(top, "Makefile.am"), encoding="utf-8") as f:
    am = f.read().replace("\\\n", " ")


def listed(var):
    m = re.search(r"^%s\s*=(.*)$" % var, am, re.M)
    return m.group(1).split() if m else []


tests = listed("unit_tests") + listed("integration_tests")


logs = {}
for t in tests:
    logs.setdefault(re.sub(r"\.(sh|py)$", "", t), []).append(t)
clash = ["%s.log: %s" % (k, " ".join(v)) for k, v in sorted(logs.items()) if len(v) > 1]
ok(tests and not clash, "no two of the %d tests share a log file" % len(tests), clash)

here = sorted("tests/" + f for f in os.listdir(os.path.join(top, "tests"))
              if re.match(r"test-.*\.(sh|py)$", f))
missing = [t for t in here if t not in tests]
ok(not missing, "every tests/test-*.sh and test-*.py is in the suite (%d)" % len(here), missing)

units = sorted("tests/" + f[:-2] for f in os.listdir(os.path.join(top, "tests"))
               if re.match(r"test-.*\.c$", f))
missing = [t for t in units if t not in tests]
ok(not missing, "every tests/test-*.c is a unit test of the suite (%d)" % len(units), missing)

done()
