#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/vm-verify.py: what [storage] verify = auto picks for a network-like volume in a real guest.

Boots the VM test's guest (tests/vm: its cached image and a root image with the vagent .deb
installed, from a kept work dir of `tests/vm/run.sh`) with one more virtio disk, a sparse
blank volume of SIZE behind qemu's throttling.bps-total (a few hundred MB/s, as a network
volume would be), and reports, from the guest's journal and status: the scan mode auto chose
and why, bytes read, the measured rate, and the time from vagent-storage's start to that volume
mounted (the first attach's wait).

    VAGENT_VM_KEEP=1 VAGENT_VM_WORKDIR=/var/tmp/vm-w flock /work/wt/vm.lock tests/vm/run.sh
    flock /work/wt/vm.lock bench/vm-verify.py --work /var/tmp/vm-w --image IMAGE-DIR \\
        --size 100G --size 1T --bps 300000000
"""
import argparse
import json
import os
import re
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "vm"))
import vmtest  # noqa: E402

vmtest.BOOT_TIMEOUT = 600
SERIAL = "blk-big-0005"


def parse_size(s):
    units = {"G": 1 << 30, "T": 1 << 40, "M": 1 << 20}
    return int(s[:-1]) * units[s[-1]] if s[-1] in units else int(s)


class Bench(vmtest.VMTest):
    def __init__(self, args):
        super().__init__(args)
        self.bps = args.bps

    def qemu_cmd(self, b, port, hotplug, hot_cold):
        cmd = super().qemu_cmd(b, port, hotplug, hot_cold)
        return cmd + [
            "-drive", f"file={self.w}/big.img,if=none,id=big,format=raw,cache=unsafe,"
                      f"throttling.bps-total={self.bps}",
            "-device", f"virtio-blk-pci,drive=big,serial={SERIAL}"]

    def one(self, size):
        vmtest.make_disks(self.w)
        with open(f"{self.w}/big.img", "wb") as f:
            f.truncate(0)
            f.truncate(parse_size(size))
        b = self.boot(f"verify-{size}")
        if b.results is None:
            print(f"{size}: no results (rc {b.rc}); see {b.dir}")
            return
        st = json.loads(b.file("status.json", "{}") or "{}")
        vol = None
        name = b.serials().get(SERIAL)
        for v in st.get("volumes", []):
            if name and v.get("device") == f"/dev/{name}":
                vol = v
        journal = b.file("journal")
        # "'/dev/vdX': formatted and mounted in N ms" (storage.c) and the unit's start.
        done = re.search(rf"'/dev/{name}': formatted and mounted in (\d+) ms", journal or "")
        scan = (vol or {}).get("scan") or {}
        print(f"{size:>5}  throttle {self.bps / 1e6:.0f} MB/s: mode {scan.get('mode')}, "
              f"{(scan.get('bytes_read') or 0) / 2**30:.2f} GiB read "
              f"({100 * (scan.get('coverage') or 0):.2f} %) in "
              f"{(scan.get('duration_ms') or 0) / 1000:.1f} s at "
              f"{(scan.get('rate') or 0) / 1e6:.0f} MB/s; probe to mounted "
              f"{int(done.group(1)) / 1000 if done else float('nan'):.1f} s; boot wall "
              f"{b.wall:.0f} s")
        print(f"       reason: {(vol or {}).get('reason')}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", required=True)
    p.add_argument("--image", required=True)
    p.add_argument("--qemu", default="qemu-system-x86_64")
    p.add_argument("--mock", default=os.path.join(here, "..", "tests", "mock-metadata.py"))
    p.add_argument("--document", default=os.path.join(here, "..", "tests", "vm", "metadata.json"))
    p.add_argument("--size", action="append", default=None)
    p.add_argument("--bps", type=int, default=300_000_000)
    a = p.parse_args()
    bench = Bench(a)
    for size in a.size or ["1G", "100G", "1T"]:
        bench.one(size)


if __name__ == "__main__":
    main()
