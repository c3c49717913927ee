#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""metadata-server.py: tests/mock-metadata.py served on another address (169.254.169.254:80
inside bench/vm-compare's network namespace). The mock binds 127.0.0.1 only; this loads it
as a module, rebinds its server class to --host, and runs its main() with the remaining
arguments (--port, --document, --log, ... as the mock takes them).

usage: metadata-server.py MOCK_PY HOST -- MOCK_ARGS...
"""
import importlib.util
import sys


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    path, host = sys.argv[1], sys.argv[2]
    rest = sys.argv[3:]
    if rest[:1] == ["--"]:
        rest = rest[1:]
    spec = importlib.util.spec_from_file_location("mock_metadata", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)

    class Server(mod.Server):
        def __init__(self, address, handler):
            super().__init__((host, address[1]), handler)

    mod.Server = Server
    sys.argv = [path] + rest
    return mod.main()


if __name__ == "__main__":
    sys.exit(main())
