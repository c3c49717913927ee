#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/cc-examples.py: how much of cloud-init's own documented cloud-config examples vagent
handles. For every doc/examples/cloud-config*.txt and doc/module-docs/*/example*.yaml of a
cloud-init checkout: a fresh --root sandbox, the example as the instance's user data (served by
tests/mock-metadata.py on 127.0.0.1), `vagent --dry-run --json userdata`, and the report's
per-key statuses counted. Prints the documents fully handled (every key applied), the key
uses per status, and the keys most often not applied. Nothing on this machine is changed
(dry run, scratch roots).

usage: bench/cc-examples.py CLOUD_INIT_CHECKOUT [--vagent PATH]
"""
import argparse
import collections
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)


def make_root(r):
    for d in ("etc/ssh/sshd_config.d", "root", "home/admin", "var/lib", "run"):
        os.makedirs(f"{r}/{d}", exist_ok=True)
    files = {
        "etc/passwd": "root:x:0:0:root:/root:/bin/bash\nadmin:x:1000:1000:Admin:/home/admin:/bin/bash\n",
        "etc/group": "root:x:0:\nadm:x:4:\nsudo:x:27:\n",
        "etc/hostname": "debian\n",
        "etc/hosts": "127.0.0.1\tlocalhost\n127.0.1.1\tdebian\n",
        "etc/fstab": "UUID=1234 / ext4 errors=remount-ro 0 1\n",
        # Debian's sshd_config includes its drop-in directory (ssh_pwauth writes one there).
        "etc/ssh/sshd_config": "Include /etc/ssh/sshd_config.d/*.conf\nKbdInteractiveAuthentication no\n",
    }
    for p, text in files.items():
        with open(f"{r}/{p}", "w") as f:
            f.write(text)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkout")
    p.add_argument("--vagent", default=os.path.join(TOP, "vagent"))
    a = p.parse_args()
    docs = sorted(glob.glob(f"{a.checkout}/doc/examples/cloud-config*.txt")
                  + glob.glob(f"{a.checkout}/doc/module-docs/*/example*.yaml"))
    if not docs:
        sys.exit(f"no examples under {a.checkout}/doc")
    work = tempfile.mkdtemp(prefix="vagent-ccx.")
    ud = f"{work}/user-data"
    open(ud, "w").close()
    conf = f"{work}/vagent.conf"
    with open(conf, "w") as f:
        f.write("[metadata]\ndeadline = 3s\nconnect-timeout = 1s\nrequest-timeout = 2s\n")
    mock = subprocess.Popen([sys.executable, f"{TOP}/tests/mock-metadata.py", "--port", "0",
                             "--document", f"{TOP}/tests/fixtures/v1-typical.json",
                             "--user-data", ud], stdout=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{int(mock.stdout.readline())}"
        full, statuses, missed = 0, collections.Counter(), collections.Counter()
        broken = []
        for d in docs:
            shutil.copyfile(d, ud)
            r = f"{work}/root"
            shutil.rmtree(r, ignore_errors=True)
            make_root(r)
            out = subprocess.run([a.vagent, "-c", conf, "--root", r, "--metadata-url", url,
                                  "--dry-run", "--json", "userdata"],
                                 capture_output=True, text=True, timeout=60)
            try:
                rep = json.loads(out.stdout)
            except ValueError:
                broken.append((os.path.relpath(d, a.checkout), out.returncode,
                               out.stderr.strip().splitlines()[-1:] or [""]))
                continue
            keys = [k for k in rep.get("keys", []) if k.get("key") != "merge_how"]
            for k in keys:
                # What a real instance would run (apt-get, shutdown, restarts) is recorded,
                # not run, in the sandbox: counted as "applied (recorded)".
                if k["status"] == "ignored" and k.get("reason", "").startswith("not run under --root"):
                    k["status"] = "applied (recorded)"
                statuses[k["status"]] += 1
                if not k["status"].startswith("applied"):
                    missed[(k["key"], k["status"])] += 1
            if keys and all(k["status"].startswith("applied") for k in keys):
                full += 1
        n = len(docs)
        uses = sum(statuses.values())
        print(f"cloud-init examples: {n} documents ({a.checkout})")
        print(f"  fully handled (every key applied or recorded): {full} ({100 * full / n:.0f} %)")
        print(f"  key uses: {uses}; " + ", ".join(
            f"{s} {c} ({100 * c / uses:.0f} %)" for s, c in statuses.most_common()))
        print("  not applied, most often: " + ", ".join(
            f"{k} {s} x{c}" for (k, s), c in missed.most_common(25)))
        for name, rc, err in broken:
            print(f"  no report: {name} (exit {rc}): {err[0]}")
    finally:
        mock.kill()
        mock.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
