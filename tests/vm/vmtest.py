#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""vmtest.py: the boots and the checks of the VM end-to-end test (run.sh prepares root.img).

Boots, all on the same disks (qemu TCG, SMBIOS vendor Vultr, metadata at 169.254.169.254
through a guestfwd -cmd to `busybox nc 127.0.0.1 PORT`; two NICs: the public one on qemu's
user network with DHCP, a VPC one on a network with no DHCP server; the image has no network
configuration of its own, so the package's fallback DHCP network is what reaches the
metadata):
  A  first boot, metadata service up: hostname + keys before ssh.service; the blank virtio
     and NVMe disks formatted, in fstab, mounted; the ext4 disk untouched; the VPC NIC has
     the metadata's static address and MTU 1450, the public NIC its lease and the extra
     addresses; systemd-networkd-wait-online does not hang.
  B  reboot, service up: the volumes mounted again, nothing formatted (UUIDs unchanged); the
     journal of A's shutdown shows vagent unmounting cleanly; a disk hot-attached through QMP
     (blockdev-add + device_add virtio-blk-pci) is formatted and mounted; the network again.
  C  reboot with the service down (connections to it are closed at once): login is reached,
     vagent gives up on the service after its short first try (it has a cache); the
     network from the cached document; once the boot has finished the service comes
     up, serving one more key, and vagent-late.service (the late path) puts it in
     root's authorized_keys without a reboot.
  D  the same disk as a new instance (a new instance id): new host keys, volumes mounted, not
     formatted; and (issue 12) the mounted virtio volume resized through QMP block_resize
     while the guest runs is grown online (udev change, RESIZE=1, the hotplug unit).
A's root disk is GPT (an ESP numbered 15 first, the root on partition 1, as Debian's cloud
images), built at 2 GiB and enlarged to 3 GiB before the first boot: / must fill it. (A DOS
root is grown in tests/test-grow.sh on loop devices: another image here costs a whole boot.)
The ext4 disk's sha256 is compared before A and after each poweroff.
Prints TAP; exit 0 (all ok), 1 (a failure), 77 (qemu could not boot at all).
"""

import argparse
import datetime
import hashlib
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tarfile
import time

SERIAL = {
    "virtio": "blk-virtio-0001",  # blank virtio disk
    "nvme": "blk-nvme-0002",  # blank NVMe disk
    "data": "blk-data-0003",  # virtio disk holding an ext4 filesystem: must stay untouched
    "hot": "blk-hot-0004",  # blank virtio disk attached at runtime (boot B)
}
MAC = {  # the NICs, as metadata.json lists them
    "public": "56:00:05:00:00:01",  # qemu user network: DHCP (169.254.0.15/16), the metadata
    "private": "5a:00:05:00:00:02",  # a VPC: no DHCP server, static 10.99.0.5/24, MTU 1450
}
WAIT_ONLINE_MAX = 30.0  # a bound that catches systemd-networkd-wait-online hanging (2 min)
DEADLINE = 20.0  # vagent's default metadata deadline (vagent.conf(5))
CACHE_DEADLINE = 2.0  # with a cache, the boot's try before the cache (vagent.conf(5))
BOOT_TIMEOUT = 330  # host timeout per boot, seconds (boot C waits for the late path too)
LATE_KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK7vQm1xY2n3Jr8Tz0pLq4sW5eD6fG7hJ8kL9mN0bV1c "
            "late@vmtest")
RESULTS_SERIAL = "vmtest-results"
ROOT_BUILT = 2 << 30  # the root images are made at this size (run.sh) ...
ROOT_DISK = 3 << 30  # ... and enlarged to this before the boot: / must grow
RESIZE_TO = 2 << 30  # boot D: the 1 GiB virtio volume resized to this while mounted


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, desc, diag=None):
        self.n += 1
        if not cond:
            self.failed += 1
        print(f"{'ok' if cond else 'not ok'} {self.n} - {desc}", flush=True)
        if not cond and diag:
            for line in str(diag).rstrip().splitlines()[:40]:
                print(f"#   {line}")
        return bool(cond)

    def diag(self, msg):
        for line in str(msg).splitlines():
            print(f"# {line}", flush=True)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)


def make_disks(w):
    for name in ("virtio", "nvme", "hot"):
        with open(f"{w}/{name}.img", "wb") as f:
            f.truncate(1 << 30)  # 1 GiB, all zeros (a fresh cloud volume)
    # The data disk: ext4 on the whole disk with some files.
    src = f"{w}/data-src"
    os.makedirs(src, exist_ok=True)
    with open(f"{src}/precious.bin", "wb") as f:
        f.write(os.urandom(1 << 20))
    with open(f"{src}/README", "w") as f:
        f.write("user data on a volume vagent must never touch\n")
    with open(f"{w}/data.img", "wb") as f:
        f.truncate(256 << 20)
    run(["mkfs.ext4", "-q", "-F", "-L", "userdata", "-d", src, f"{w}/data.img"])
    shutil.rmtree(src)


class Mock:
    """tests/mock-metadata.py on 127.0.0.1; port None when the service is 'down'."""

    def __init__(self, script, document, log, port=0):
        self.proc = subprocess.Popen(
            [sys.executable, script, "--port", str(port), "--document", document, "--log", log,
             "--mode", "ok"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.port = int(self.proc.stdout.readline().strip())

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def closed_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def qmp(sock_path, commands):
    """Runs QMP commands; returns the list of replies (events skipped)."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(20)
    s.connect(sock_path)
    f = s.makefile("rw")
    json.loads(f.readline())  # greeting
    replies = []
    for cmd in [{"execute": "qmp_capabilities"}] + commands:
        f.write(json.dumps(cmd) + "\n")
        f.flush()
        while True:
            msg = json.loads(f.readline())
            if "event" not in msg:
                break
        replies.append(msg)
    s.close()
    return replies[1:]


class Boot:
    def __init__(self, name):
        self.name = name
        self.rc = None
        self.wall = None
        self.login = None  # host seconds from qemu start to "login:" on the serial console
        self.markers = {}  # VMTEST marker → host seconds
        self.hotplug = None  # (replies) or error text
        self.resize = None  # QMP block_resize replies or error text
        self.late_up = None  # host seconds when the late service came up (boot C)
        self.results = None  # dir with the extracted results, or None
        self.dir = None
        self.attempts = 0

    def file(self, name, default=""):
        if not self.results:
            return default
        try:
            with open(os.path.join(self.results, name), errors="replace") as f:
                return f.read()
        except OSError:
            return default

    def units(self):
        """{unit: {prop: value}} from `systemctl show` of several units (blocks with Id=).
        Realtime stamps also appear as <prop>Epoch (seconds since the epoch, float)."""
        out = {}
        cur = {}
        for line in self.file("units").splitlines() + [""]:
            if not line.strip():
                if cur.get("Id"):
                    out[cur["Id"]] = cur
                cur = {}
                continue
            k, _, v = line.partition("=")
            cur[k] = v
            if k in ("InactiveExitTimestamp", "ExecMainStartTimestamp") and v:
                try:
                    dt = datetime.datetime.strptime(v, "%a %Y-%m-%d %H:%M:%S.%f UTC")
                    cur[k + "Epoch"] = str(dt.replace(tzinfo=datetime.timezone.utc).timestamp())
                except ValueError:
                    pass
        return out

    def mount_units(self):
        """{mount point: {prop: value}} from `systemctl show` of the /mnt/* mount units."""
        out, cur = {}, {}
        for line in self.file("mount-units").splitlines() + [""]:
            if not line.strip():
                if cur.get("Where"):
                    out[cur["Where"]] = cur
                cur = {}
                continue
            k, _, v = line.partition("=")
            cur[k] = v
        return out

    def lsblk(self):
        rows = []
        for line in self.file("lsblk").splitlines():
            rows.append(dict(tok.split("=", 1) for tok in shlex.split(line) if "=" in tok))
        return rows

    def serials(self):
        """{serial: kernel name} from sysfs."""
        out = {}
        for line in self.file("serials").splitlines():
            parts = line.split(None, 1)
            if len(parts) == 2:
                out[parts[1].strip()] = parts[0]
        return out


class VMTest:
    def __init__(self, args):
        self.a = args
        self.w = args.work
        self.tap = Tap()
        self.boots = {}

    # --- running a guest -------------------------------------------------------------------
    def qemu_cmd(self, b, port, hotplug, hot_cold, resize=None, late=False):
        w = self.w
        # No "quiet": the kernel's banner on the serial console tells "qemu cannot boot"
        # (skip) from "the guest booted and then failed".
        append = ("root=/dev/vda1 ro console=ttyS0 panic=-1 cryptomgr.notests "
                  f"mitigations=off tsc=reliable vmtest.boot={b.name}")
        if b.name == "A":  # the units' sandboxing scores (seconds under TCG): once is enough
            append += " vmtest.security=1"
        if resize:
            append += f" vmtest.resize={SERIAL[resize]}"
        if os.environ.get("VAGENT_VM_APPEND"):  # for diagnosis only, e.g. vagent=force
            append += " " + os.environ["VAGENT_VM_APPEND"]
        if hotplug:
            append += f" vmtest.hotplug={SERIAL['hot']}"
        if late:
            append += " vmtest.late=1"
        netdev = ("user,id=n0,net=169.254.0.0/16,host=169.254.0.2,dhcpstart=169.254.0.15,"
                  "restrict=on,"
                  # One process per connection; stderr (the socket too) silenced so that a
                  # refused connection reads as an empty reply, not as an HTTP/0.9 answer.
                  "guestfwd=tcp:169.254.169.254:80-cmd:sh -c "
                  f"'exec busybox nc 127.0.0.1 {port} 2>/dev/null'")

        def vblk(path, ident, serial=None):
            dev = f"virtio-blk-pci,drive={ident}" + (f",serial={serial}" if serial else "")
            return ["-drive", f"file={path},if=none,id={ident},format=raw,cache=unsafe",
                    "-device", dev]

        return (["timeout", "-k", "5", str(BOOT_TIMEOUT), self.a.qemu,
                 "-accel", "tcg", "-machine", "pc", "-cpu", "Nehalem", "-smp", "2", "-m", "768",
                 "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                 "-serial", f"file:{b.dir}/serial.log",
                 "-qmp", f"unix:{b.dir}/qmp.sock,server=on,wait=off",
                 "-smbios", "type=1,manufacturer=Vultr,product=VC2",
                 "-kernel", f"{self.a.image}/vmlinux", "-initrd", f"{self.a.image}/initrd.img",
                 "-append", append,
                 "-netdev", netdev, "-device", f"virtio-net-pci,netdev=n0,mac={MAC['public']}",
                 # The VPC NIC: a network with no DHCP server (frames go to a UDP port on the
                 # host where nobody listens); vagent gives it the metadata's static address.
                 "-netdev", f"socket,id=n1,udp=127.0.0.1:{closed_udp_port()},"
                 f"localaddr=127.0.0.1:{closed_udp_port()}",
                 "-device", f"virtio-net-pci,netdev=n1,mac={MAC['private']}"]
                + vblk(f"{w}/root.img", "root")
                + vblk(f"{b.dir}/results.img", "res", RESULTS_SERIAL)
                + vblk(f"{w}/virtio.img", "virtio", SERIAL["virtio"])
                + ["-drive", f"file={w}/nvme.img,if=none,id=nvme,format=raw,cache=unsafe",
                   "-device", f"nvme,serial={SERIAL['nvme']},drive=nvme"]
                + vblk(f"{w}/data.img", "data", SERIAL["data"])
                + (vblk(f"{w}/hot.img", "hot", SERIAL["hot"]) if hot_cold else []))

    DISKS = ("root.img", "virtio.img", "nvme.img", "data.img", "hot.img")

    def snapshot(self, restore=False):
        """Copies the disks aside before a boot (restored when a timed-out boot is retried)."""
        for d in self.DISKS:
            src, dst = f"{self.w}/{d}", f"{self.w}/.snap-{d}"
            if restore:
                src, dst = dst, src
            subprocess.run(["cp", "--sparse=always", "--reflink=auto", src, dst], check=True)

    def boot(self, name, metadata_up=True, hotplug=False, hot_cold=False, document=None,
             resize=None, late_document=None):
        b = Boot(name)
        self.snapshot()
        for attempt in (1, 2):
            b.attempts = attempt
            self._boot_once(b, metadata_up, hotplug, hot_cold, document or self.a.document,
                            resize, late_document)
            if b.rc != 124 or attempt == 2:
                break
            self.tap.diag(f"boot {name}: host timeout after {BOOT_TIMEOUT} s; retrying once "
                          f"(logs of the first try kept in {b.dir}.try1)")
            shutil.rmtree(f"{b.dir}.try1", ignore_errors=True)
            os.rename(b.dir, f"{b.dir}.try1")
            self.snapshot(restore=True)
        self.boots[name] = b
        return b

    def _boot_once(self, b, metadata_up, hotplug, hot_cold, document, resize=None,
                   late_document=None):
        b.dir = f"{self.w}/boot-{b.name}"
        os.makedirs(b.dir, exist_ok=True)
        # The results disk: a placeholder tar (not blank, and too small for vagent to touch).
        ph = f"{b.dir}/placeholder"
        with open(ph, "w") as f:
            f.write("no results\n")
        with tarfile.open(f"{b.dir}/results.img", "w") as t:
            t.add(ph, arcname="./placeholder")
        with open(f"{b.dir}/results.img", "r+b") as f:
            f.truncate(32 << 20)
        mock = None
        if metadata_up:
            mock = Mock(self.a.mock, document, f"{b.dir}/metadata-requests.log")
            port = mock.port
        else:
            port = closed_port()
        cmd = self.qemu_cmd(b, port, hotplug, hot_cold, resize, late=late_document is not None)
        with open(f"{b.dir}/qemu-cmd", "w") as f:
            f.write(shlex.join(cmd) + "\n")
        serial = f"{b.dir}/serial.log"
        open(serial, "w").close()
        t0 = time.monotonic()
        with open(f"{b.dir}/qemu.log", "w") as qlog:
            proc = subprocess.Popen(cmd, stdout=qlog, stderr=subprocess.STDOUT)
        pos = 0
        buf = ""
        try:
            while proc.poll() is None:
                time.sleep(0.1)
                with open(serial, errors="replace") as f:
                    f.seek(pos)
                    chunk = f.read()
                    pos = f.tell()
                buf += chunk
                now = time.monotonic() - t0
                if b.login is None and re.search(r"\S login: ", buf):
                    b.login = now
                for m in re.finditer(r"VMTEST: ([a-z-]+)", chunk):
                    b.markers.setdefault(m.group(1), now)
                if hotplug and b.hotplug is None and "ready-for-hotplug" in b.markers:
                    b.hotplug = self.hot_attach(b)
                    b.markers["hot-attached"] = time.monotonic() - t0
                if resize and b.resize is None and "ready-for-resize" in b.markers:
                    b.resize = self.block_resize(b, resize)
                    b.markers["resized"] = time.monotonic() - t0
                # The service comes up behind the same port once the boot has finished.
                if late_document and mock is None and "ready-for-late" in b.markers:
                    mock = Mock(self.a.mock, late_document, f"{b.dir}/metadata-requests.log",
                                port)
                    b.late_up = time.monotonic() - t0
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            if mock:
                mock.stop()
        b.rc = proc.returncode
        b.wall = time.monotonic() - t0
        b.results = None
        rdir = f"{b.dir}/results"
        shutil.rmtree(rdir, ignore_errors=True)
        os.makedirs(rdir)
        try:
            with tarfile.open(f"{b.dir}/results.img") as t:
                t.extractall(rdir)
            if not os.path.exists(f"{rdir}/placeholder"):
                b.results = rdir
        except (tarfile.TarError, OSError) as e:
            self.tap.diag(f"boot {b.name}: results disk unreadable: {e}")

    def block_resize(self, b, key):
        try:
            return qmp(f"{b.dir}/qmp.sock", [{"execute": "block_resize", "arguments": {
                "device": key, "size": RESIZE_TO}}])
        except (OSError, ValueError) as e:
            return f"QMP failed: {e}"

    def hot_attach(self, b):
        try:
            return qmp(f"{b.dir}/qmp.sock", [
                {"execute": "blockdev-add", "arguments": {
                    "driver": "raw", "node-name": "hot0",
                    "file": {"driver": "file", "filename": f"{self.w}/hot.img"}}},
                {"execute": "device_add", "arguments": {
                    "driver": "virtio-blk-pci", "id": "hotdisk", "drive": "hot0",
                    "serial": SERIAL["hot"]}},
            ])
        except (OSError, ValueError) as e:
            return f"QMP failed: {e}"

    # --- reporting -------------------------------------------------------------------------
    def report_boot(self, b):
        t = self.tap
        login = f"{b.login:.1f} s" if b.login is not None else "not seen"
        t.diag(f"boot {b.name}: qemu exit {b.rc} after {b.wall:.1f} s (attempt {b.attempts}); "
               f"serial 'login:' at {login}")
        t.diag("  host seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in b.markers.items()))
        for line in b.file("journal").splitlines():
            if "Startup finished in" in line:
                t.diag("  guest: " + line[line.find("Startup"):].strip())
        for line in b.file("blame").splitlines():
            if "vagent" in line:
                t.diag(f"  blame: {line.strip()}")
        if b.name == "A":  # the units do not change between boots
            for line in b.file("security").splitlines():
                t.diag(f"security: {line.strip()}")
        u = b.units()
        for unit in sorted(u):
            if unit.startswith("vagent"):
                p = u[unit]
                try:
                    start = int(p.get("ExecMainStartTimestampMonotonic", "0")) / 1e6
                    end = int(p.get("ExecMainExitTimestampMonotonic", "0")) / 1e6
                except ValueError:
                    start = end = 0
                if start:
                    t.diag(f"  {unit}: ran {start:.2f} → {end:.2f} s after boot "
                           f"({end - start:.2f} s), {p.get('Result')}")

    # --- checks ----------------------------------------------------------------------------
    def volume(self, b, key, ctx):
        """A formatted, fstab-listed, mounted volume for disk `key`; returns its fs UUID."""
        t = self.tap
        serial = SERIAL[key]
        kname = b.serials().get(serial)
        if not t.ok(kname, f"{ctx}: {key} disk '{serial}' present in the guest", b.file("serials")):
            return None
        parts = [r for r in b.lsblk() if r.get("TYPE") == "part" and
                 r.get("NAME", "").startswith(kname)]
        fs = parts[0] if len(parts) == 1 else {}
        t.ok(fs.get("FSTYPE") in ("ext4", "xfs") and fs.get("UUID"),
             f"{ctx}: {key} disk /dev/{kname} has one partition with a filesystem",
             b.file("lsblk"))
        uuid = fs.get("UUID")
        mnt = f"/mnt/{serial}"
        fstab = [l for l in b.file("fstab").splitlines() if f"X-vagent.volume={serial}" in l]
        want = re.compile(rf"^UUID={re.escape(uuid or '?')}\s+{re.escape(mnt)}\s+\S+\s+\S*nofail")
        t.ok(len(fstab) == 1 and want.match(fstab[0]),
             f"{ctx}: {key} volume in fstab (UUID, {mnt}, nofail, X-vagent.volume)",
             b.file("fstab"))
        mounted = [l.split() for l in b.file("findmnt").splitlines() if l.split()[:1] == [mnt]]
        t.ok(mounted and mounted[0][1] == f"/dev/{fs.get('NAME')}",
             f"{ctx}: {key} volume mounted at {mnt}", b.file("findmnt"))
        return uuid

    def mounted_by_systemd(self, b, key, ctx, uuid, transient):
        """The volume's mount unit: transient this boot (vagent asked systemd over D-Bus for
        it) or from fstab at a later boot; ordered before vagent-storage.service either way,
        so at shutdown `vagent umount` runs first. Once mounted, systemd shows as What= the
        source in the mount table (the partition node), not the by-uuid link it was given:
        either must be the device with the volume's filesystem UUID (blkid)."""
        mnt = f"/mnt/{SERIAL[key]}"
        u = b.mount_units().get(mnt, {})
        want = "yes" if transient else "no"
        nodes = {l.split(":", 1)[0] for l in b.file("blkid").splitlines()
                 if uuid and f' UUID="{uuid}"' in l}
        what_ok = u.get("What") in nodes | {f"/dev/disk/by-uuid/{uuid}"}
        self.tap.ok(u.get("Transient") == want and
                    "vagent-storage.service" in u.get("Before", "").split() and
                    (not transient or what_ok),
                    f"{ctx}: {key} volume's mount unit is {'transient' if transient else 'from fstab'}"
                    f" and ordered before vagent-storage.service",
                    b.file("mount-units") or "no mount-units record")

    def no_daemon_reload(self, b, ctx):
        # systemd's own reload ("Reloading." / "Reloading requested from client PID ..."), not
        # a unit's ("Reloading ssh.service - ...": vagent-hostkeys.service reloads sshd for
        # the RSA key it made after ssh.service had started).
        reloads = [l for l in b.file("journal").splitlines()
                   if re.search(r"systemd\[1\]: Reloading(\.\s*$|\s+requested from client)", l)]
        self.tap.ok(b.file("journal") and not reloads,
                    f"{ctx}: nothing ran systemctl daemon-reload", "\n".join(reloads[:3]))

    def data_untouched(self, b, ctx):
        t = self.tap
        serial = SERIAL["data"]
        kname = b.serials().get(serial)
        t.ok(kname and not any(l.split()[1:2] == [f"/dev/{kname}"]
                               for l in b.file("findmnt").splitlines()) and
             serial not in b.file("fstab"),
             f"{ctx}: ext4 disk '{serial}' neither mounted nor in fstab",
             b.file("findmnt") + b.file("fstab"))
        after = sha256(f"{self.w}/data.img")
        t.ok(after == self.data_sha, f"{ctx}: ext4 disk byte-identical after poweroff (sha256)",
             f"before {self.data_sha}\nafter  {after}")

    def booted(self, b, ctx):
        ok = self.tap.ok(b.results, f"{ctx}: guest booted, collected results and powered off "
                         f"({b.wall:.1f} s)",
                         f"qemu rc {b.rc}; markers {b.markers}; see {b.dir}/serial.log")
        if not ok:
            tail = open(f"{b.dir}/serial.log", errors="replace").read()[-3000:]
            self.tap.diag("serial tail:\n" + tail)
        return ok

    def host_keys(self, b, ctx, expect=None, differ=None):
        """The host keys: three types with sshd's modes, ssh.service running, the fingerprints
        on the serial console between the marker lines. Returns the fingerprints."""
        t = self.tap
        fps = sorted(l.strip() for l in b.file("host-key-fps").splitlines() if "SHA256:" in l)
        files = b.file("host-key-files")
        modes_ok = all(f"{m} root /etc/ssh/ssh_host_{k}_key{s}" in files
                       for k in ("rsa", "ecdsa", "ed25519")
                       for m, s in (("600", ""), ("644", ".pub")))
        t.ok(len(fps) == 3 and modes_ok,
             f"{ctx}: rsa, ecdsa and ed25519 host keys, private 0600, public 0644", files)
        ssh = b.units().get("ssh.service", {})
        t.ok(ssh.get("ActiveState") == "active" and ssh.get("SubState") == "running",
             f"{ctx}: ssh.service is running", ssh)
        serial = open(f"{b.dir}/serial.log", errors="replace").read()
        # The last block: with the RSA key made after ssh.service (vagent-hostkeys.service),
        # vagent.service prints the other two first, then the after-ssh stage all three.
        m = re.findall(r"-----BEGIN SSH HOST KEY FINGERPRINTS-----\r?\n(.*?)"
                       r"-----END SSH HOST KEY FINGERPRINTS-----", serial, re.S)
        shown = sorted(l.strip() for l in m[-1].splitlines() if l.strip()) if m else []
        t.ok(fps and shown == fps,
             f"{ctx}: the fingerprints are on the serial console between the marker lines",
             f"console: {shown}\nguest:   {fps}")
        if expect is not None:
            t.ok(fps == expect, f"{ctx}: the host keys are the first boot's", f"{fps}\n{expect}")
        if differ is not None:
            fp = {l.split()[1] for l in fps if len(l.split()) > 1}
            old = {l.split()[1] for l in differ if len(l.split()) > 1}
            t.ok(fp and not (fp & old), f"{ctx}: a new instance got three new host keys",
                 f"{fps}\n{differ}")
        return fps

    def waited(self, b, ctx, want_rc):
        """vmtest-wait.service ran `vagent status --wait`: its exit status, and that it
        returned once the last vagent unit had finished (not before, not long after)."""
        t = self.tap
        rc_up = b.file("vmtest-wait.rc").split()
        u = b.units()
        ends = [int(u.get(n, {}).get("ExecMainExitTimestampMonotonic") or 0) / 1e6
                for n in ("vagent.service", "vagent-storage.service", "vagent-userdata.service",
                          "vagent-hostkeys.service")]
        last = max(ends)
        try:
            rc, up = int(rc_up[0]), float(rc_up[1])
        except (IndexError, ValueError):
            rc, up = None, 0.0
        t.ok(rc == want_rc, f"{ctx}: vagent status --wait exited {want_rc}",
             f"rc {rc_up}; output:\n{b.file('vmtest-wait.out')[-600:]}")
        # +10 s: a bound that catches --wait sleeping through (its deadline is minutes), not
        # the seconds a loaded TCG guest takes to schedule the shell that reads the clock.
        t.ok(last and last - 1.0 <= up <= last + 10.0,
             f"{ctx}: --wait returned at {up:.1f} s, when the last unit had finished "
             f"({last:.1f} s)", f"unit exits {ends}")
        t.ok(b.file("boot-finished").split("\n")[0] == b.file("boot_id").strip(),
             f"{ctx}: /run/vagent/boot-finished holds this boot's id",
             f"{b.file('boot-finished')!r} vs {b.file('boot_id')!r}")
        # The units' state came from systemd's bus, not from the systemctl fallback: with
        # the two checks above (not early, not never) the bus answers were right.
        fallback = [l for l in b.file("journal").splitlines()
                    if "Cannot ask systemd over its bus about its units" in l]
        t.ok(b.file("journal") and not fallback,
             f"{ctx}: every vagent unit read the units' state over systemd's bus",
             "\n".join(fallback[:3]))

    def step(self, b, name):
        try:
            return {s["name"]: s for s in json.loads(b.file("status.json"))["steps"]}.get(name, {})
        except (ValueError, KeyError):
            return {}

    def mkfs_lines(self, journal):
        return [l for l in journal.splitlines() if re.search(r"vagent.*Making \S+ on '", l)]

    def nic(self, b, key):
        """The `ip -j addr` entry of the NIC with MAC[key] ({} when absent)."""
        try:
            links = json.loads(b.file("ip-addr.json") or "[]")
        except ValueError:
            return {}
        return next((l for l in links if l.get("address") == MAC[key]), {})

    def check_network(self, b, ctx, first):
        t = self.tap
        doc = json.load(open(self.a.document))
        priv_doc = next(i for i in doc["interfaces"] if i["network-type"] == "private")
        pub_doc = next(i for i in doc["interfaces"] if i["network-type"] == "public")
        pub, priv = self.nic(b, "public"), self.nic(b, "private")

        def addrs(link, family):
            return {(a.get("local"), a.get("prefixlen"), bool(a.get("dynamic")))
                    for a in link.get("addr_info", []) if a.get("family") == family}

        diag = b.file("ip-addr.json")[:3000]
        t.ok(("10.99.0.5", 24, False) in addrs(priv, "inet") and
             priv.get("mtu") == int(priv_doc["mtu"]),
             f"{ctx}: VPC NIC {priv.get('ifname', '?')} has the metadata's static 10.99.0.5/24 "
             f"and MTU {priv_doc['mtu']} (no DHCP server on its network)", diag)
        t.ok(("169.254.0.15", 16, True) in addrs(pub, "inet"),
             f"{ctx}: public NIC {pub.get('ifname', '?')} has its DHCP lease 169.254.0.15/16", diag)
        extra = pub_doc["ipv4"]["additional"][0]["address"]
        extra6 = pub_doc["ipv6"]["additional"][0]["network"]
        t.ok((extra, 24, False) in addrs(pub, "inet") and (extra6, 64, False) in addrs(pub, "inet6"),
             f"{ctx}: public NIC has the extra addresses {extra}/24 and {extra6}/64", diag)
        links, cur = {}, None  # ifindex -> {ADMIN_STATE, NETWORK_FILE, ...}
        for line in b.file("netif-links").splitlines():
            if line.startswith("### "):
                cur = links.setdefault(line[4:].strip(), {})
            elif cur is not None and "=" in line:
                k, _, v = line.partition("=")
                cur[k] = v
        lp, lv = links.get(str(pub.get("ifindex")), {}), links.get(str(priv.get("ifindex")), {})
        t.ok(lp.get("ADMIN_STATE") == "configured" and lv.get("ADMIN_STATE") == "configured" and
             lp.get("NETWORK_FILE", "").startswith("/run/systemd/network/10-vagent-") and
             lv.get("NETWORK_FILE", "").startswith("/run/systemd/network/10-vagent-"),
             f"{ctx}: networkd: both NICs configured by vagent's files "
             f"({lp.get('NETWORK_FILE')}, {lv.get('NETWORK_FILE')})", b.file("netif-links"))
        files = b.file("networkd-files")
        t.ok(f"MACAddress={MAC['public']}" in files and f"MACAddress={MAC['private']}" in files and
             "RequiredForOnline=no" in files,
             f"{ctx}: vagent's two files in /run/systemd/network (the VPC one not required "
             "for online)", files)
        u = b.units()
        wo = u.get("systemd-networkd-wait-online.service", {})
        try:
            wo_start = int(wo.get("InactiveExitTimestampMonotonic") or 0) / 1e6
            wo_end = int(wo.get("ActiveEnterTimestampMonotonic") or 0) / 1e6
        except ValueError:
            wo_start = wo_end = 0
        t.diag(f"{ctx}: systemd-networkd-wait-online ran {wo_start:.2f} → {wo_end:.2f} s "
               f"({wo_end - wo_start:.2f} s), {wo.get('Result')}")
        t.ok(wo.get("Result") == "success" and wo_end and wo_end - wo_start <= WAIT_ONLINE_MAX,
             f"{ctx}: systemd-networkd-wait-online succeeded in {wo_end - wo_start:.1f} s "
             f"(<= {WAIT_ONLINE_MAX:.0f} s; it would wait 2 min for a NIC without a lease)", wo)
        self.early_network(b, ctx, first)
        if first:
            # No network configuration in the image: the package's fallback DHCP network got
            # the public NIC its lease, then vagent's file took over.
            j = b.file("journal")
            t.ok(re.search(r"Configuring with \S*/99-vagent-fallback\.network", j) and
                 re.search(r"(Reconfiguring|Configuring) with /run/systemd/network/10-vagent-", j),
                 f"{ctx}: the public NIC came up on 99-vagent-fallback.network, then on "
                 "vagent's file", "\n".join(l for l in j.splitlines() if "onfiguring with" in l))

    def early_network(self, b, ctx, first):
        """vagent-early.service: on a boot with a cache, the network files from it before
        systemd-networkd started, so that the boot stage's network step finds them unchanged
        and networkd is neither reloaded nor restarted; on the first boot (no cache) it does
        not run."""
        t = self.tap
        u = b.units()
        early, nd = u.get("vagent-early.service", {}), u.get("systemd-networkd.service", {})
        if first:
            t.ok(early.get("ConditionResult") == "no" and self.step(b, "network-early") == {},
                 f"{ctx}: vagent-early.service did not run (no cached document yet)", early)
            return
        try:
            early_end = int(early.get("ExecMainExitTimestampMonotonic") or 0) / 1e6
            nd_start = int(nd.get("ExecMainStartTimestampMonotonic") or 0) / 1e6
        except ValueError:
            early_end = nd_start = 0
        # (report_boot() prints when vagent-early.service ran)
        t.diag(f"{ctx}: systemd-networkd started {nd_start:.2f} s")
        se, sb = self.step(b, "network-early"), self.step(b, "network")
        t.ok(early.get("Result") == "success" and early_end and nd_start > early_end and
             se.get("result") == "changed" and "2 file(s) written" in se.get("message", ""),
             f"{ctx}: vagent-early.service wrote the two files from the cache before "
             f"systemd-networkd started ({se.get('message')})", [early, se])
        t.ok(sb.get("result") == "unchanged" and "reload" not in sb.get("message", "") and
             "restart" not in sb.get("message", ""),
             f"{ctx}: vagent.service's network step found them unchanged: networkd neither "
             f"reloaded nor restarted ({sb.get('message')})", sb)
        conf = [l for l in b.file("journal").splitlines() if "onfiguring with" in l]
        t.ok(conf and all("/run/systemd/network/10-vagent-" in l and "Reconfiguring" not in l
                          for l in conf),
             f"{ctx}: networkd configured both NICs from vagent's files at once (no fallback "
             "network first, no reconfiguration)", "\n".join(conf))

    def check_first_boot(self, b):
        t = self.tap
        ctx = "first boot"
        doc = json.load(open(self.a.document))
        t.ok(b.file("sys_vendor").strip() == "Vultr", f"{ctx}: SMBIOS vendor is Vultr")
        refused = [l for l in b.file("journal").splitlines() if "not a Vultr-style platform" in l]
        t.ok(not refused, f"{ctx}: vagent recognised the platform (DMI sys_vendor Vultr)",
             "\n".join(refused[:2]))
        reqs = open(f"{b.dir}/metadata-requests.log").read() \
            if os.path.exists(f"{b.dir}/metadata-requests.log") else ""
        t.ok("GET /v1.json 200" in reqs, f"{ctx}: the guest fetched /v1.json through the guestfwd",
             reqs or "no requests")
        t.ok(b.file("hostname").strip() == doc["hostname"] and
             b.file("etc-hostname").strip() == doc["hostname"],
             f"{ctx}: hostname is '{doc['hostname']}' (kernel and /etc/hostname)",
             f"hostname: {b.file('hostname')}/etc/hostname: {b.file('etc-hostname')}")
        # The document's user data is cloud-config (issue 7) and it, the vendor data and the
        # startup script carry VMSECRET markers (issue 5): none may reach the journal or status.
        t.ok(b.file("cc-role").strip() == "runner",
             f"{ctx}: cloud-config write_files made /etc/agent/role", b.file("cc-role"))
        t.ok(b.file("cc-runcmd").strip() == "provisioned",
             f"{ctx}: cloud-config runcmd ran", b.file("cc-runcmd"))
        # Vendor data (issue 14): the panel's root hash is root's, ssh_pwauth 1 took effect in
        # the running sshd; the startup script ran once, for this instance.
        m = re.search(r"^  - root:(\S+)$", doc["vendor-data"], re.M)
        want = hashlib.sha256(m.group(1).encode()).hexdigest() if m else "?"
        t.ok(b.file("root-hash-sha256").strip() == want,
             f"{ctx}: root's hash in /etc/shadow is the vendor data's (compared as sha256)",
             f"{b.file('root-hash-sha256').strip()} vs {want}")
        t.ok(b.file("sshd-pwauth").strip().lower() == "passwordauthentication yes" and
             "PasswordAuthentication yes" in b.file("sshd-dropin"),
             f"{ctx}: vendor ssh_pwauth: 1 is in sshd's effective config",
             f"{b.file('sshd-pwauth')!r}\n{b.file('sshd-dropin')!r}")
        self.startup_lines = b.file("startup").splitlines()
        t.ok(self.startup_lines == [f"startup {doc['instance-v2-id']}"],
             f"{ctx}: the startup script ran once", b.file("startup"))
        leaks = [l for f in ("journal", "status.json", "run-status.json")
                 for l in b.file(f).splitlines() if "VMSECRET" in l]
        t.ok(b.file("journal") and not leaks,
             f"{ctx}: no user-data/vendor-data/startup-script marker in the journal or status",
             "\n".join(leaks[:3]))
        modes = b.file("secret-modes").split("\n")
        t.ok(len([m for m in modes if m.strip()]) >= 2 and
             all(m.startswith("600 root ") for m in modes if m.strip()),
             f"{ctx}: the cache and the stored user data are 0600 root", b.file("secret-modes"))
        keys = b.file("authorized_keys")
        t.ok(all(k in keys for k in doc["public-keys"]),
             f"{ctx}: both metadata keys in /root/.ssh/authorized_keys", keys or "no file")
        u = b.units()
        ssh = u.get("ssh.service", {})
        vag = u.get("vagent.service", {})
        ssh_start = int(ssh.get("InactiveExitTimestampMonotonic") or 0)
        vag_done = int(vag.get("ActiveEnterTimestampMonotonic") or 0)
        t.ok(vag.get("Result") == "success" and vag_done and ssh_start and vag_done <= ssh_start,
             f"{ctx}: vagent.service finished ({vag_done / 1e6:.2f} s) before ssh.service "
             f"started ({ssh_start / 1e6:.2f} s)", f"vagent: {vag}\nssh: {ssh}")
        mt = dict(l.split(None, 1) for l in b.file("mtimes").splitlines() if " " in l)
        ssh_epoch = ssh.get("InactiveExitTimestampEpoch", "")
        try:
            k_m = float(mt.get("/root/.ssh/authorized_keys"))
            h_m = float(mt.get("/etc/hostname"))
            s_e = float(ssh_epoch)
            good = k_m <= s_e and h_m <= s_e
        except (TypeError, ValueError):
            good = False
        t.ok(good, f"{ctx}: authorized_keys and /etc/hostname written before ssh.service started",
             f"mtimes {mt}; ssh start {ssh_epoch}")
        self.fps = self.host_keys(b, ctx)
        self.waited(b, ctx, 0)
        sp = self.step(b, "host-keys-spare")
        t.ok(sp.get("result") == "changed" and sp.get("message", "").startswith(
             "made spare rsa, ecdsa, ed25519 host keys in /run/vagent/host-keys-spare"),
             f"{ctx}: vagent-keygen.service made spares of the three types "
             f"({sp.get('duration_ms')} ms)", sp)
        # Every key the boot installed is a spare: "Took the spare rsa, ecdsa, ed25519 host
        # keys" (vagent.service), or the two there and rsa by vagent-hostkeys.service.
        took = set()
        for l in b.file("journal").splitlines():
            m = re.search(r"Took the spare (.*?) host keys? made at the start", l)
            if m:
                took |= set(m.group(1).split(", "))
        t.ok(took == {"rsa", "ecdsa", "ed25519"},
             f"{ctx}: the host-keys steps took the spares instead of running ssh-keygen",
             f"taken: {sorted(took)}")
        hk = self.step(b, "host-keys")
        hka = self.step(b, "host-keys-after-ssh")
        # The RSA spare (SCHED_IDLE) is either ready when vagent.service gets to the host keys
        # (then it goes in before ssh.service, and nothing is left for after it), or not yet
        # (under TCG, usually): left to vagent-hostkeys.service, ordered after vagent-keygen.
        if "rsa to be made after ssh.service" in hk.get("message", ""):
            t.ok(hk.get("result") == "changed",
                 f"{ctx}: the host-keys step made the keys but rsa "
                 f"({hk.get('duration_ms')} ms)", hk)
            t.ok(hka.get("result") == "changed" and
                 hka.get("message", "").startswith("generated rsa") and
                 "ssh.service reloaded" in hka.get("message", ""),
                 f"{ctx}: vagent-hostkeys.service installed the rsa key after ssh.service and "
                 f"reloaded it ({hka.get('duration_ms')} ms)", hka)
        else:
            t.ok(hk.get("result") == "changed" and "rsa, ecdsa, ed25519" in
                 hk.get("message", ""),
                 f"{ctx}: the host-keys step installed all three, the rsa spare being ready "
                 f"({hk.get('duration_ms')} ms)", hk)
            t.ok(not hka, f"{ctx}: nothing left for vagent-hostkeys.service", hka)
        waits = [l for l in b.file("journal").splitlines() if "Waiting for the run lock" in l]
        t.ok(b.file("journal") and not waits,
             f"{ctx}: no vagent unit waited for the run lock (vagent-userdata.service runs "
             f"beside vagent-hostkeys.service's ssh-keygen)", "\n".join(waits[:3]))
        self.uuids = {}
        for key in ("virtio", "nvme"):
            self.uuids[key] = self.volume(b, key, ctx)
            self.mounted_by_systemd(b, key, ctx, self.uuids[key], transient=True)
        self.no_daemon_reload(b, ctx)
        n = len(self.mkfs_lines(b.file("journal")))
        t.ok(n == 2, f"{ctx}: vagent made exactly 2 filesystems", "\n".join(
            self.mkfs_lines(b.file("journal"))) or "no 'Making ... on' lines")
        self.data_untouched(b, ctx)
        self.check_network(b, ctx, first=True)

    def check_reboot(self, b):
        t = self.tap
        ctx = "reboot"
        for key in ("virtio", "nvme"):
            uuid = self.volume(b, key, ctx)
            t.ok(uuid and uuid == self.uuids.get(key),
                 f"{ctx}: {key} volume filesystem UUID unchanged ({uuid})",
                 f"first boot {self.uuids.get(key)}, now {uuid}")
            self.mounted_by_systemd(b, key, ctx, uuid, transient=False)
        self.host_keys(b, ctx, expect=self.fps)
        self.waited(b, ctx, 0)
        t.ok(b.file("startup").splitlines() == getattr(self, "startup_lines", None),
             f"{ctx}: the startup script did not run again", b.file("startup"))
        hot_name = b.serials().get(SERIAL["hot"], "?")
        other = [l for l in self.mkfs_lines(b.file("journal")) if f"/dev/{hot_name}" not in l]
        t.ok(not other, f"{ctx}: vagent formatted nothing at boot", "\n".join(other))
        # The shutdown of the first boot, from its journal.
        prev = b.file("journal-prev")
        shut = prev[prev.find("Stopping"):] if "Stopping" in prev else ""
        for key in ("virtio", "nvme"):
            mnt = f"/mnt/{SERIAL[key]}"
            t.ok(re.search(rf"vagent.*Unmounted '{re.escape(mnt)}'", shut),
                 f"{ctx}: first boot's shutdown journal shows vagent unmounting {mnt}",
                 "\n".join(l for l in shut.splitlines() if "vagent" in l or "mnt" in l))
        bad = [l for l in shut.splitlines() if re.search(
            r"vagent.*(Failed|failed|error|busy)|vagent-storage.service: (Failed|Main process|"
            r"Control process exited, code=exited, status=[1-9])|Failed unmounting /mnt/", l)]
        t.ok(shut and not bad, f"{ctx}: no vagent failure or unmount failure in that shutdown",
             "\n".join(bad) or "no shutdown in the previous boot's journal")
        # Hot-attach.
        replies = b.hotplug
        t.ok(isinstance(replies, list) and all("return" in r for r in replies),
             f"{ctx}: QMP blockdev-add + device_add virtio-blk-pci serial={SERIAL['hot']}",
             replies)
        hp = b.file("hotplug").split()
        if hp[:1] == ["mounted"]:
            t.diag(f"hot-attached disk mounted {float(hp[2]) - float(hp[1]):.1f} s after "
                   "the guest asked for it")
        t.ok(hp[:1] == ["mounted"], f"{ctx}: hot-attached disk mounted by vagent",
             b.file("hotplug") or "no hotplug record")
        hot_uuid = self.volume(b, "hot", f"{ctx} (hot-attached)")
        self.mounted_by_systemd(b, "hot", f"{ctx} (hot-attached)", hot_uuid, transient=True)
        self.no_daemon_reload(b, ctx)
        hot_units = {k: v.get("Result") for k, v in b.units().items()
                     if k.startswith("vagent-hotplug@")}
        # A oneshot unit without RemainAfterExit is unloaded (garbage-collected) soon after it
        # finishes, often before the collector lists it: then its result is in the journal.
        for m in re.finditer(r"systemd\[1\]: (vagent-hotplug@\S+\.service): (Deactivated "
                             r"successfully|Failed with result '([^']*)')", b.file("journal")):
            hot_units.setdefault(m.group(1), "success" if m.group(3) is None else m.group(3))
        t.ok(hot_units and all(v == "success" for v in hot_units.values()),
             f"{ctx}: vagent-hotplug@ unit succeeded ({', '.join(hot_units) or 'none'})",
             hot_units)
        self.data_untouched(b, ctx)
        self.check_network(b, ctx, first=False)

    def check_down(self, b, base):
        t = self.tap
        ctx = "metadata down"
        u = b.units()
        getty = int(u.get("serial-getty@ttyS0.service", {}).get(
            "ActiveEnterTimestampMonotonic") or 0) / 1e6
        base_getty = int(base.units().get("serial-getty@ttyS0.service", {}).get(
            "ActiveEnterTimestampMonotonic") or 0) / 1e6
        t.ok(getty and b.login is not None,
             f"{ctx}: login prompt reached (getty at {getty:.1f} s guest time, serial "
             f"'login:' at {b.login or 0:.1f} s host time)")
        vag = u.get("vagent.service", {})
        start = int(vag.get("ExecMainStartTimestampMonotonic") or 0) / 1e6
        end = int(vag.get("ExecMainExitTimestampMonotonic") or 0) / 1e6
        dur = end - start
        t.diag(f"{ctx}: vagent.service ran {dur:.1f} s (deadline {DEADLINE:.0f} s); getty at "
               f"{getty:.1f} s vs {base_getty:.1f} s with the service up "
               f"(+{getty - base_getty:.1f} s)")
        fetch = [l for l in b.file("journal").splitlines() if "vagent[" in l and "etch" in l]
        t.diag(f"{ctx}: vagent.service result '{vag.get('Result')}'; " +
               (fetch[0][fetch[0].find("vagent["):] if fetch else "no fetch line"))
        # The metadata step's own time (its line in the step table): the unit's total also
        # holds the network and host-key steps, seconds each on a loaded TCG host.
        step_ms = None
        for l in b.file("journal").splitlines():
            m = re.search(r"vagent\[\d+\]: metadata +failed +(\d+)ms +vagent\.service", l)
            if m:
                step_ms = int(m.group(1))
                break
        t.ok(end and step_ms is not None and step_ms <= (CACHE_DEADLINE + 5) * 1000,
             f"{ctx}: vagent.service went on from the cache after its short first try "
             f"(metadata step {step_ms} ms <= cache-deadline {CACHE_DEADLINE:.0f} s + 5 s, "
             f"not the {DEADLINE:.0f} s deadline; the unit ran {dur:.1f} s)", vag)
        # The late path: the service came up after the boot; the new key appears, no reboot.
        late = b.file("late").split()
        t.diag(f"{ctx}: late service up at {b.late_up or 0:.1f} s host time; guest: "
               f"{' '.join(late) or 'no late file'}")
        t.ok(late[:1] == ["done"],
             f"{ctx}: vagent-late.service finished once the service came up", late)
        keys = b.file("authorized_keys")
        t.ok(LATE_KEY in keys, f"{ctx}: the key the late service serves is in root's "
             "authorized_keys without a reboot", keys or "no file")
        status = b.file("status.json")
        try:
            st = json.loads(status)
        except ValueError:
            st = {}
        t.ok(st.get("metadata_source") == "service" and st.get("metadata_late_s", 0) > 0,
             f"{ctx}: vagent status: metadata from the service, arrived "
             f"{st.get('metadata_late_s')} s after boot", status[:400])
        doc = json.load(open(self.a.document))
        t.ok(b.file("hostname").strip() == doc["hostname"],
             f"{ctx}: hostname kept ('{b.file('hostname').strip()}')")
        self.host_keys(b, ctx, expect=self.fps)
        self.waited(b, ctx, 2)
        for key in ("virtio", "nvme", "hot"):
            mnt = f"/mnt/{SERIAL[key]}"
            t.ok(any(l.split()[:1] == [mnt] for l in b.file("findmnt").splitlines()),
                 f"{ctx}: {mnt} mounted", b.file("findmnt"))
        self.data_untouched(b, ctx)
        # degraded mode: the network from the cached document
        self.check_network(b, ctx, first=False)

    def check_new_instance(self, b):
        t = self.tap
        ctx = "new instance"
        status = b.file("status.json")
        t.ok('"first_boot": true' in status and "5d6e7f80-1a2b-4c3d" in status,
             f"{ctx}: vagent saw the new instance's first boot", status[:400])
        self.host_keys(b, ctx, differ=getattr(self, "fps", None) or [])
        self.waited(b, ctx, 0)
        self.data_untouched(b, ctx)

    def check_root(self, b, ctx, grew):
        """/ fills its disk; GREW: this boot's grow-root step grew it (else: unchanged)."""
        t = self.tap
        g = dict(l.split(None, 1) for l in b.file("rootgrow").splitlines() if " " in l)
        try:
            disk, part, fs = int(g["disk"]), int(g["part"]), int(g["fs"])
        except (KeyError, ValueError):
            disk = part = fs = 0
        # The partition ends on the last MiB before the GPT's backup;
        # ext4 leaves at most a block group's tail.
        t.ok(disk == ROOT_DISK and part >= disk - (10 << 20) and fs >= part - (4 << 20),
             f"{ctx}: / fills its {disk >> 20} MiB disk (partition {part >> 20} MiB, ext4 "
             f"{fs >> 20} MiB; built at {ROOT_BUILT >> 20} MiB)", b.file("rootgrow"))
        step = {}
        try:
            step = next(s for s in json.loads(b.file("status.json") or "{}").get("steps", [])
                        if s.get("name") == "grow-root")
        except StopIteration:
            pass
        msg = step.get("message", "")
        if grew:
            t.ok(step.get("result") == "changed" and msg.startswith("grew / (vda1, ext4) from "),
                 f"{ctx}: status: grow-root {step.get('result')} ({msg}, "
                 f"{step.get('duration_ms')} ms)", b.file("status.json")[:600])
        else:
            t.ok(step.get("result") == "unchanged" and "fills its partition" in msg,
                 f"{ctx}: status: grow-root {step.get('result')} ({msg})",
                 b.file("status.json")[:600])

    def check_resize(self, b):
        t = self.tap
        ctx = "resized volume"
        t.ok(isinstance(b.resize, list) and all("return" in r for r in b.resize),
             f"{ctx}: QMP block_resize of the mounted virtio volume to {RESIZE_TO >> 20} MiB",
             b.resize)
        r = b.file("resize").split()
        if r[:1] == ["grown"]:
            t.diag(f"{ctx}: grown online {float(r[2]) - float(r[1]):.1f} s after the guest "
                   f"asked for the resize ({int(r[3]) >> 20} -> {int(r[4]) >> 20} MiB, df)")
        t.ok(r[:1] == ["grown"], f"{ctx}: the mounted filesystem grew without a reboot",
             b.file("resize") or "no resize record")
        grew = [l for l in b.file("journal").splitlines() if "Grew volume" in l]
        t.ok(any(SERIAL["virtio"] in l for l in grew),
             f"{ctx}: the journal says what grew: " +
             (grew[0][grew[0].find("Grew"):] if grew else "nothing"),
             "\n".join(l for l in b.file("journal").splitlines() if "vagent" in l)[-3000:])

    # --- the run ---------------------------------------------------------------------------
    def main(self):
        t = self.tap
        make_disks(self.w)
        self.data_sha = sha256(f"{self.w}/data.img")

        a = self.boot("A")
        self.report_boot(a)
        if a.results is None:
            serial = open(f"{a.dir}/serial.log", errors="replace").read()
            if "Linux version" not in serial and "VMTEST" not in serial:
                print(f"1..0 # SKIP qemu could not boot a guest (exit {a.rc}); "
                      f"see {a.dir}/qemu.log and serial.log")
                return 77
        if self.booted(a, "first boot"):
            self.check_first_boot(a)
            self.check_root(a, "first boot (GPT root, disk enlarged)", True)

        b = self.boot("B", hotplug=True)
        self.report_boot(b)
        if self.booted(b, "reboot"):
            self.check_reboot(b)
            self.check_root(b, "reboot", False)

        doc = json.load(open(self.a.document))
        doc["public-keys"].append(LATE_KEY)
        doc_late = f"{self.w}/metadata-C-late.json"
        with open(doc_late, "w") as f:
            json.dump(doc, f)
        c = self.boot("C", metadata_up=False, hot_cold=True, late_document=doc_late)
        self.report_boot(c)
        if self.booted(c, "metadata down"):
            self.check_down(c, b)

        # D: the same disk as a new instance (a snapshot restored elsewhere: a new id).
        doc = json.load(open(self.a.document))
        doc["instance-v2-id"] = "5d6e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
        doc_d = f"{self.w}/metadata-D.json"
        with open(doc_d, "w") as f:
            json.dump(doc, f)
        d = self.boot("D", hot_cold=True, document=doc_d, resize="virtio")
        self.report_boot(d)
        if self.booted(d, "new instance"):
            self.check_new_instance(d)
            self.check_resize(d)

        print(f"1..{t.n}")
        return 1 if t.failed else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", required=True)
    p.add_argument("--image", required=True)
    p.add_argument("--qemu", default="qemu-system-x86_64")
    p.add_argument("--mock", required=True)
    p.add_argument("--document", required=True)
    args = p.parse_args()
    sys.exit(VMTest(args).main())


if __name__ == "__main__":
    main()
