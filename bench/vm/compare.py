#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""compare.py: the boots and the table of bench/vm-compare (which prepares the root images).

Every boot is a first boot of a fresh qcow2 overlay of the variant's root image, with a fresh
blank 1 GiB virtio volume (serial blk-virtio-0001, /dev/vdb) and a results disk (vdc). The
guest's bench-collect.service writes the figures onto the results disk and powers off.
Boots are interleaved (floor, vagent, cloud-init, floor, ...) so that a change in host load
spreads over all variants.

Figures, all on the guest's monotonic clock (0 = kernel start):
  boot      systemd's "Startup finished ... = T" (every boot job done, the agents included)
  keys      bench-keys.service started: /root/.ssh/authorized_keys appeared (a path unit)
  keys-net  keys minus network-online.target reached
  volume    the kernel's "EXT4-fs (vdb1): mounted filesystem" journal line
  units     sum of the agent's units in `systemd-analyze blame`
  memory    largest cgroup memory.peak among the agent's units (read by an ExecStartPost=)
  login     ssh.service, systemd-user-sessions.service and serial-getty@ttyS0 all active
"""

import argparse
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tarfile
import time

VARIANTS = ("floor", "vagent", "cloud-init")
AGENT_UNITS = {
    "floor": [],
    "vagent": ["vagent.service", "vagent-storage.service", "vagent-userdata.service"],
    "cloud-init": ["cloud-init-local.service", "cloud-init.service", "cloud-config.service",
                   "cloud-final.service"],
}
BLANK_SERIAL = "blk-virtio-0001"
MOUNTPOINT = "/mnt/" + BLANK_SERIAL
RESULTS_SERIAL = "vbench-results"
MAC = "56:00:05:00:00:01"
NET = {"host": "10.77.0.1", "guest": "10.77.0.15", "metadata": "169.254.169.254"}
DEADLINE = 20.0  # vagent's documented metadata deadline (vagent.conf(5))
TIMEOUT_UP = 420  # host timeout per boot, seconds
TIMEOUT_DOWN = 900  # cloud-init with the service down takes ~200 s (~520 s when dropping)


def is_agent_unit(variant, unit):
    """The variant's units, and vagent's hot-plug instances (udev starts one per disk at
    boot too)."""
    return unit in AGENT_UNITS[variant] or (
        variant == "vagent" and unit.startswith("vagent-hotplug@") and unit.endswith(".service"))


def log(msg):
    print(f"vm-compare: {msg}", file=sys.stderr, flush=True)


def sh(cmd, check=True):
    return subprocess.run(cmd, check=check, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)


def timespan(s):
    """systemd time spans: '1min 2.345s', '789ms', '12.3s', '1h 2min' → seconds."""
    total = 0.0
    units = {"h": 3600, "min": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "µs": 1e-6}
    found = False
    for num, unit in re.findall(r"([\d.]+)\s*(h|min|ms|us|µs|s)\b", s):
        total += float(num) * units[unit]
        found = True
    return total if found else None


# --- the network namespace -----------------------------------------------------------------
class Net:
    """A private netns with tap0 (10.77.0.1/24) and 169.254.169.254/32 on lo; dnsmasq serves
    DHCP on tap0 with option 121. The guest's qemu runs inside it."""

    def __init__(self, work):
        self.ns = f"vbench{os.getpid()}"
        self.work = work
        self.dnsmasq = None
        sh(["ip", "netns", "add", self.ns])
        try:
            for cmd in (["link", "set", "lo", "up"],
                        ["addr", "add", f"{NET['metadata']}/32", "dev", "lo"],
                        ["tuntap", "add", "dev", "tap0", "mode", "tap"],
                        ["addr", "add", f"{NET['host']}/24", "dev", "tap0"],
                        ["link", "set", "tap0", "up"]):
                sh(["ip", "-n", self.ns] + cmd)
            self.dnsmasq = subprocess.Popen(
                self.exec_prefix() + [
                    "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--port=0",
                    "--interface=tap0", "--bind-interfaces", "--leasefile-ro",
                    "--user=nobody", "--group=nogroup", "--log-dhcp",
                    f"--log-facility={work}/dnsmasq.log", "--pid-file=",
                    "--dhcp-range=10.77.0.10,10.77.0.50,255.255.255.0,1h",
                    f"--dhcp-host={MAC},{NET['guest']}",
                    f"--dhcp-option=3,{NET['host']}",
                    # Classless static routes (what Vultr's DHCP sends): the metadata address
                    # and, since option 121 replaces option 3 for clients that take it, the
                    # default route.
                    f"--dhcp-option=121,{NET['metadata']}/32,{NET['host']},0.0.0.0/0,{NET['host']}"],
                stdout=subprocess.DEVNULL, stderr=open(f"{work}/dnsmasq.err", "w"))
            time.sleep(0.5)
            if self.dnsmasq.poll() is not None:
                raise RuntimeError("dnsmasq exited: " + open(f"{work}/dnsmasq.err").read())
        except Exception:
            self.close()
            raise

    def exec_prefix(self):
        return ["ip", "netns", "exec", self.ns]

    def close(self):
        if self.dnsmasq and self.dnsmasq.poll() is None:
            self.dnsmasq.terminate()
            try:
                self.dnsmasq.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.dnsmasq.kill()
        sh(["ip", "netns", "del", self.ns], check=False)


class Metadata:
    """tests/mock-metadata.py on 169.254.169.254:80 inside the namespace."""

    def __init__(self, net, a, logfile):
        self.proc = subprocess.Popen(
            net.exec_prefix() + [sys.executable, a.server, a.mock, NET["metadata"], "--",
                                 "--port", "80", "--document", a.document, "--log", logfile],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().strip()
        if line != "80":
            self.stop()
            raise RuntimeError(f"the metadata server did not start (said {line!r})")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


# --- one boot -----------------------------------------------------------------------------
class Boot:
    def __init__(self, variant, up, idx, bdir):
        self.variant, self.up, self.idx, self.dir = variant, up, idx, bdir
        self.rc = None
        self.wall = None
        self.markers = {}
        self.results = None
        self.attempts = 0
        self.fig = {}
        self.problems = []

    def file(self, name, default=""):
        if not self.results:
            return default
        try:
            with open(os.path.join(self.results, name), errors="replace") as f:
                return f.read()
        except OSError:
            return default

    def units(self):
        out, cur = {}, {}
        for line in self.file("units").splitlines() + [""]:
            if not line.strip():
                if cur.get("Id"):
                    out[cur["Id"]] = cur
                cur = {}
                continue
            k, _, v = line.partition("=")
            cur[k] = v
        return out


def qemu_cmd(a, b, timeout):
    append = ("root=/dev/vda ro console=ttyS0 panic=-1 cryptomgr.notests "
              "mitigations=off tsc=reliable")

    def vblk(path, ident, fmt, serial):
        return ["-drive", f"file={path},if=none,id={ident},format={fmt},cache=unsafe",
                "-device", f"virtio-blk-pci,drive={ident},serial={serial}"]

    return (["timeout", "-k", "5", str(timeout), a.qemu,
             "-accel", "tcg", "-machine", "pc", "-cpu", "Nehalem", "-smp", "2", "-m", "768",
             "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
             "-serial", f"file:{b.dir}/serial.log",
             "-smbios", "type=1,manufacturer=Vultr,product=VC2",
             "-kernel", f"{a.image}/vmlinux", "-initrd", f"{a.image}/initrd.img",
             "-append", append,
             "-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no",
             "-device", f"virtio-net-pci,netdev=n0,mac={MAC}"]
            # Order matters: vda root, vdb the blank volume, vdc the results.
            + vblk(f"{b.dir}/root.qcow2", "root", "qcow2", "vbench-root")
            + vblk(f"{b.dir}/blank.img", "blank", "raw", BLANK_SERIAL)
            + vblk(f"{b.dir}/results.img", "res", "raw", RESULTS_SERIAL))


def prepare_disks(a, b):
    for f in ("root.qcow2", "blank.img", "results.img"):
        try:
            os.unlink(f"{b.dir}/{f}")
        except FileNotFoundError:
            pass
    sh(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b",
        f"{a.work}/root-{b.variant}.img", f"{b.dir}/root.qcow2"])
    with open(f"{b.dir}/blank.img", "wb") as f:
        f.truncate(1 << 30)  # a fresh cloud volume: 1 GiB of zeros
    ph = f"{b.dir}/placeholder"
    with open(ph, "w") as f:
        f.write("no results\n")
    with tarfile.open(f"{b.dir}/results.img", "w") as t:
        t.add(ph, arcname="./placeholder")
    with open(f"{b.dir}/results.img", "r+b") as f:
        f.truncate(32 << 20)


def boot_once(a, net, b):
    os.makedirs(b.dir, exist_ok=True)
    prepare_disks(a, b)
    timeout = TIMEOUT_UP if b.up else TIMEOUT_DOWN
    md = Metadata(net, a, f"{b.dir}/metadata-requests.log") if b.up else None
    cmd = net.exec_prefix() + qemu_cmd(a, b, timeout)
    with open(f"{b.dir}/qemu-cmd", "w") as f:
        f.write(shlex.join(cmd) + "\n")
    serial = f"{b.dir}/serial.log"
    open(serial, "w").close()
    t0 = time.monotonic()
    try:
        with open(f"{b.dir}/qemu.log", "w") as qlog:
            proc = subprocess.Popen(cmd, stdout=qlog, stderr=subprocess.STDOUT)
        pos = 0
        while proc.poll() is None:
            time.sleep(0.2)
            with open(serial, errors="replace") as f:
                f.seek(pos)
                chunk = f.read()
                pos = f.tell()
            for m in re.finditer(r"BENCH: ([a-z-]+)", chunk):
                b.markers.setdefault(m.group(1), round(time.monotonic() - t0, 1))
        proc.wait()
    finally:
        if md:
            md.stop()
    b.rc = proc.returncode
    b.wall = time.monotonic() - t0
    rdir = f"{b.dir}/results"
    shutil.rmtree(rdir, ignore_errors=True)
    os.makedirs(rdir)
    b.results = None
    try:
        with tarfile.open(f"{b.dir}/results.img") as t:
            t.extractall(rdir)
        if not os.path.exists(f"{rdir}/placeholder"):
            b.results = rdir
    except (tarfile.TarError, OSError) as e:
        b.problems.append(f"results disk unreadable: {e}")


def boot(a, net, variant, up, idx):
    b = Boot(variant, up, idx, f"{a.work}/boot-{variant}-{'up' if up else 'down'}-{idx}")
    for attempt in (1, 2):
        b.attempts = attempt
        boot_once(a, net, b)
        if b.results or attempt == 2:
            break
        log(f"{os.path.basename(b.dir)}: no results (qemu rc {b.rc}); retrying once, first "
            f"try kept in {b.dir}.try1")
        shutil.rmtree(f"{b.dir}.try1", ignore_errors=True)
        os.rename(b.dir, f"{b.dir}.try1")
        b.markers = {}
    analyse(a, b)
    return b


# --- figures ------------------------------------------------------------------------------
def mono(u, unit, prop):
    try:
        v = int(u.get(unit, {}).get(prop) or 0)
    except ValueError:
        return None
    return v / 1e6 if v else None


def analyse(a, b):
    f = b.fig
    if not b.results:
        b.problems.append(f"no results (qemu rc {b.rc}, {b.wall:.0f} s); see {b.dir}/serial.log")
        return
    journal = b.file("journal")
    m = re.search(r"Startup finished in .*= ([^.\n]*(?:\.\d+)?\S*)\.?$", journal, re.M)
    if m:
        f["boot"] = timespan(m.group(1))
    u = b.units()
    logins = [mono(u, n, "ActiveEnterTimestampMonotonic") for n in
              ("ssh.service", "systemd-user-sessions.service", "serial-getty@ttyS0.service")]
    if all(logins):
        f["login"] = max(logins)
    net_online = mono(u, "network-online.target", "ActiveEnterTimestampMonotonic")
    f["net-online"] = net_online
    keys = mono(u, "bench-keys.service", "InactiveExitTimestampMonotonic")
    if keys:
        f["keys"] = keys
        if net_online:
            f["keys-net"] = keys - net_online
    if net_online:
        f["net-online"] = net_online
    # Cross-check: the file's mtime on the monotonic clock (realtime - monotonic offset taken
    # by the collector; nothing sets the clock in these guests).
    try:
        off = float(b.file("clock-offset").strip())
        mt = dict(l.split(None, 1) for l in b.file("mtimes").splitlines() if " " in l)
        f["keys-mtime"] = float(mt["/root/.ssh/authorized_keys"]) - off
        if net_online:
            f["keys-mtime-net"] = f["keys-mtime"] - net_online
    except (ValueError, KeyError):
        pass
    # The blank volume's first partition, by serial.
    kname = None
    for line in b.file("serials").splitlines():
        p = line.split(None, 1)
        if len(p) == 2 and p[1].strip() == BLANK_SERIAL:
            kname = p[0]
    if kname:
        part = kname + ("p1" if kname[-1].isdigit() else "1")
        mm = re.search(rf"^\[\s*([\d.]+)\] .*EXT4-fs \({re.escape(part)}\): mounted filesystem",
                       journal, re.M)
        if mm:
            f["volume"] = float(mm.group(1))
    if kname != "vdb" and b.variant == "cloud-init":
        b.problems.append(f"the blank volume is {kname}, not vdb (cloud-init is told vdb)")
    # Unit times from systemd-analyze blame.
    blame = {}
    for line in b.file("blame").splitlines():
        parts = line.strip().rsplit(None, 1)
        if len(parts) == 2 and is_agent_unit(b.variant, parts[1]):
            blame[parts[1]] = timespan(parts[0])
    f["blame"] = blame
    if AGENT_UNITS[b.variant]:
        f["units"] = sum(v for v in blame.values() if v)
    # Memory peaks.
    mem = {}
    for name in ("mem-peaks", "mem-peaks-live"):
        for line in b.file(name).splitlines():
            p = line.split()
            if len(p) == 2 and p[1].isdigit():
                mem[p[0]] = max(mem.get(p[0], 0), int(p[1]))
    f["mem-units"] = {k: v / (1 << 20) for k, v in mem.items() if is_agent_unit(b.variant, k)}
    if f["mem-units"]:
        f["memory"] = max(f["mem-units"].values())
    # Did the agent do the work?
    if b.variant != "floor" and b.up:
        doc = json.load(open(a.document))
        keys_txt = b.file("authorized_keys")
        if not all(k in keys_txt for k in doc["public-keys"]):
            b.problems.append("not every metadata key is in /root/.ssh/authorized_keys")
        if b.file("hostname").strip() != doc["hostname"]:
            b.problems.append(f"hostname is {b.file('hostname').strip()!r}")
        if not any(l.split()[:1] == [MOUNTPOINT] for l in b.file("findmnt").splitlines()):
            b.problems.append(f"the blank volume is not mounted at {MOUNTPOINT}")
        if "user-data script ran" not in b.file("userdata-ran"):
            b.problems.append("the user-data script did not run")
        for k in ("keys", "volume"):
            if k not in f:
                b.problems.append(f"no '{k}' time")
    if "boot" not in f:
        b.problems.append("no 'Startup finished' line in the journal")


# --- the table ----------------------------------------------------------------------------
ROWS = [
    # key, label, unit, up?
    ("boot", "boot finished (Startup finished)", "s", True),
    ("login", "login possible (ssh+getty active)", "s", True),
    ("keys", "authorized_keys present", "s", True),
    ("keys-net", "  ... after network-online.target", "s", True),
    ("keys-mtime", "  (authorized_keys mtime)", "s", True),
    ("volume", "blank volume mounted", "s", True),
    ("units", "agent units (blame, sum)", "s", True),
    ("memory", "peak memory (largest unit)", "MiB", True),
    ("login", "metadata down: login possible", "s", False),
    ("boot", "metadata down: boot finished", "s", False),
]


def values(boots, variant, up, key):
    return [b.fig[key] for b in boots
            if b.variant == variant and b.up == up and b.fig.get(key) is not None]


def cell(vals, unit):
    if not vals:
        return "-"
    med = statistics.median(vals)
    fmt = "{:.1f}" if unit == "MiB" or med >= 10 else "{:.2f}"
    if len(vals) == 1:
        return fmt.format(med) + " (n=1)"
    return f"{fmt.format(med)} ({fmt.format(min(vals))}..{fmt.format(max(vals))})"


def ratio(a_vals, b_vals):
    if not a_vals or not b_vals or statistics.median(b_vals) <= 0 or statistics.median(a_vals) < 0:
        return "-"
    r = statistics.median(a_vals) / statistics.median(b_vals)
    return f"{r:.3f}" if r < 0.1 else f"{r:.2f}"


def table(a, boots, variants):
    lines = []
    hdr = ["", "floor", "vagent", "cloud-init", "vagent/cloud-init", "vagent/floor"]
    rows = []
    for key, label, unit, up in ROWS:
        v = {var: values(boots, var, up, key) for var in VARIANTS}
        if not any(v.values()):
            continue
        rows.append([f"{label} [{unit}]",
                     cell(v["floor"], unit) if "floor" in variants else "-",
                     cell(v["vagent"], unit) if "vagent" in variants else "-",
                     cell(v["cloud-init"], unit) if "cloud-init" in variants else "-",
                     ratio(v["vagent"], v["cloud-init"]),
                     ratio(v["vagent"], v["floor"])])
    widths = [max(len(r[i]) for r in rows + [hdr]) for i in range(len(hdr))]
    fmt = lambda r: "  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i])
                              for i, c in enumerate(r)).rstrip()
    lines.append(fmt(hdr))
    lines += [fmt(r) for r in rows]
    return lines


def per_unit(boots, variant):
    out = []
    names = list(AGENT_UNITS[variant])
    for b in boots:
        if b.variant != variant:
            continue
        for u in sorted(b.fig.get("blame", {})):
            if u not in names:
                names.append(u)
    for unit in names:
        t = [b.fig["blame"][unit] for b in boots if b.variant == variant and b.up and
             b.fig.get("blame", {}).get(unit) is not None]
        m = [b.fig["mem-units"][unit] for b in boots if b.variant == variant and b.up and
             unit in b.fig.get("mem-units", {})]
        out.append(f"  {unit:28s} blame {cell(t, 's'):>22s}   memory.peak {cell(m, 'MiB'):>20s} MiB")
    return out


def med(boots, variant, up, key):
    v = values(boots, variant, up, key)
    return statistics.median(v) if v else None


def targets(boots):
    out = []

    def line(ok, text):
        out.append(f"  [{'met' if ok else 'MISSED' if ok is not None else 'n/a'}] {text}")

    vu, cu = med(boots, "vagent", True, "units"), med(boots, "cloud-init", True, "units")
    line(vu and cu and cu / vu >= 50 if vu and cu else None,
         f"agent unit time >= 50x below cloud-init's: "
         + (f"{cu:.2f} s / {vu:.3f} s = {cu / vu:.1f}x" if vu and cu else "no data"))
    kn = med(boots, "vagent", True, "keys-net")
    km = med(boots, "vagent", True, "keys-mtime-net")
    line(kn <= 1.0 if kn is not None else None,
         "keys within 1 s after network-online.target: "
         + (f"{kn:+.2f} s (path unit; by the file's mtime {km:+.2f} s)"
            if kn is not None and km is not None else "no data"))
    vb, fb = med(boots, "vagent", True, "boot"), med(boots, "floor", True, "boot")
    line(vb - fb <= 1.5 if vb and fb else None,
         "boot within 1.5 s of the floor: "
         + (f"{vb:.2f} s - {fb:.2f} s = {vb - fb:+.2f} s" if vb and fb else "no data"))
    vm, cm = med(boots, "vagent", True, "memory"), med(boots, "cloud-init", True, "memory")
    line(cm / vm >= 4 if vm and cm else None,
         "peak memory >= 4x below cloud-init's: "
         + (f"{cm:.1f} MiB / {vm:.1f} MiB = {cm / vm:.1f}x" if vm and cm else "no data"))
    for key, what in (("login", "login possible"), ("boot", "boot finished")):
        vd, fd = med(boots, "vagent", False, key), med(boots, "floor", False, key)
        line(vd <= fd + DEADLINE if vd and fd else None,
             f"metadata down, {what} within floor + {DEADLINE:.0f} s: "
             + (f"{vd:.2f} s vs {fd:.2f} + {DEADLINE:.0f} = {fd + DEADLINE:.2f} s"
                if vd and fd else "no data"))
    return out


def machine():
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / (1 << 20):.0f} GiB"
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({cpu}), {mem}, kernel {platform.release()}"


def loadavg():
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "?"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", required=True)
    p.add_argument("--image", required=True)
    p.add_argument("--qemu", default="qemu-system-x86_64")
    p.add_argument("--mock", required=True)
    p.add_argument("--server", required=True)
    p.add_argument("--document", required=True)
    p.add_argument("--cloud-init-version", default="?")
    p.add_argument("--vagent-deb", default="?")
    p.add_argument("--runs", type=int, default=5, help="boots per variant, service up (5)")
    p.add_argument("--down-runs", type=int, default=None,
                   help="boots per variant with the service down (default: min(runs, 2))")
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--json", help="also write every boot's figures here")
    p.add_argument("--reanalyse", action="store_true",
                   help="no boots: recompute the table from the boot-* dirs of --work")
    a = p.parse_args()
    if a.down_runs is None:
        a.down_runs = min(a.runs, 2)
    variants = [v for v in a.variants.split(",") if v]
    for v in variants:
        if v not in VARIANTS:
            p.error(f"unknown variant {v!r}")
    start = datetime.datetime.now(datetime.timezone.utc)
    load_before = loadavg()
    plan = ([(v, True, i) for i in range(1, a.runs + 1) for v in variants]
            + [(v, False, i) for i in range(1, a.down_runs + 1) for v in variants])
    boots = []
    if a.reanalyse:
        return report(a, variants, reanalyse(a), start, start, load_before)
    net = Net(a.work)
    try:
        for n, (v, up, i) in enumerate(plan, 1):
            t = time.monotonic()
            b = boot(a, net, v, up, i)
            boots.append(b)
            fig = ", ".join(f"{k} {b.fig[k]:.2f}" for k in
                            ("boot", "keys", "volume", "units", "memory", "login")
                            if isinstance(b.fig.get(k), float))
            log(f"[{n}/{len(plan)}] {v} metadata {'up' if up else 'down'} #{i}: "
                f"{time.monotonic() - t:.0f} s wall; {fig or 'no figures'}; load {loadavg()}"
                + ("; PROBLEMS: " + "; ".join(b.problems) if b.problems else ""))
    finally:
        net.close()
    end = datetime.datetime.now(datetime.timezone.utc)
    return report(a, variants, boots, start, end, load_before)


def reanalyse(a):
    """Boots rebuilt from a kept work dir (boots.json for the run's metadata when present)."""
    meta = {}
    try:
        for j in json.load(open(f"{a.work}/boots.json")):
            meta[(j["variant"], j["metadata"], j["run"])] = j
    except (OSError, ValueError):
        pass
    boots = []
    for name in sorted(os.listdir(a.work)):
        m = re.fullmatch(r"boot-(floor|vagent|cloud-init)-(up|down)-(\d+)", name)
        if not m:
            continue
        b = Boot(m.group(1), m.group(2) == "up", int(m.group(3)), f"{a.work}/{name}")
        j = meta.get((b.variant, m.group(2), b.idx), {})
        b.rc, b.wall, b.attempts = j.get("rc"), j.get("wall") or 0.0, j.get("attempts", 1)
        b.markers = j.get("markers", {})
        if os.path.isdir(f"{b.dir}/results") and not os.path.exists(f"{b.dir}/results/placeholder"):
            b.results = f"{b.dir}/results"
        analyse(a, b)
        boots.append(b)
    order = {v: i for i, v in enumerate(VARIANTS)}
    boots.sort(key=lambda b: (not b.up, b.idx, order[b.variant]))
    return boots


def report(a, variants, boots, start, end, load_before):
    out = []
    out.append(f"bench/vm-compare, {start:%Y-%m-%d %H:%M}-{end:%H:%M} UTC, {machine()}")
    out.append(f"host load average before {load_before}, after {loadavg()}"
               + (" (now: figures recomputed from a kept run)" if a.reanalyse else "") + "; qemu TCG, "
               "2 vCPUs, 768 MiB, first boots; guest Debian 12, kernel "
               + open(f"{a.image}/kver").read().strip())
    out.append(f"vagent: {a.vagent_deb}; cloud-init: {a.cloud_init_version}; "
               f"{a.runs} boots per variant with the service up, {a.down_runs} with it "
               "refusing connections")
    out.append("seconds after kernel start unless noted; median (min..max)")
    out.append("")
    out += table(a, boots, variants)
    out.append("")
    for v in variants:
        if AGENT_UNITS[v]:
            out.append(f"{v} units (service up):")
            out += per_unit(boots, v)
    out.append("")
    out.append("targets:")
    out += targets(boots)
    bad = [b for b in boots if b.problems]
    if bad:
        out.append("")
        out.append("problems:")
        for b in bad:
            out.append(f"  {os.path.basename(b.dir)}: " + "; ".join(b.problems))
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    with open(f"{a.work}/table{'-reanalysed' if a.reanalyse else ''}.txt", "w") as f:
        f.write(text)
    js = [{"variant": b.variant, "metadata": "up" if b.up else "down", "run": b.idx,
           "wall": b.wall, "rc": b.rc, "attempts": b.attempts, "markers": b.markers,
           "figures": b.fig, "problems": b.problems} for b in boots]
    for path in filter(None, (a.json, None if a.reanalyse else f"{a.work}/boots.json")):
        with open(path, "w") as f:
            json.dump(js, f, indent=1)
    return 1 if any(not b.results for b in boots) else 0


if __name__ == "__main__":
    sys.exit(main())
