#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""compare.py: the boots and the table of bench/vm-compare (which prepares the root images).

Every boot is a first boot of a fresh qcow2 overlay of the variant's root image, with a fresh
blank 1 GiB virtio volume (serial blk-virtio-0001, /dev/vdb) and a results disk (vdc). The
guest's bench-collect.service writes the figures onto the results disk and powers off.
Boots are interleaved (floor, vagent, cloud-init, floor, ...) so that a change in host load
spreads over all variants. Then the metadata-down boots (first boots, no cache), and for
vagent the "cached" boots: the disks of vagent's up boot #i booted again with the service
down, so vagent has its cached document (issue 17 item 4: a short first try, then the cache).

Figures, all on the guest's monotonic clock (0 = kernel start):
  boot      systemd's "Startup finished ... = T" (every boot job done, the agents included)
  keys      bench-keys.service started: /root/.ssh/authorized_keys appeared (a path unit)
  keys-net  keys minus network-online.target reached
  volume    the kernel's "EXT4-fs (vdb1): mounted filesystem" journal line
  units     sum of the agent's units in `systemd-analyze blame`
  memory    largest cgroup memory.peak among the agent's units (read by an ExecStartPost=)
  login     ssh.service, systemd-user-sessions.service and serial-getty@ttyS0 all active
  kernel    the "(kernel)" part of "Startup finished" (the initrd included: it is not systemd)
The vagent boots also give the storage unit's timeline from its journal lines: started,
first line, the blank proof's verdict (its read scan timed on its own), GPT, mkfs, mounted,
finished; and vagent.service's: started, its report's started and finished stamps (on the
monotonic clock through clock-offset: journald's own stamps lag under TCG), active, and each
boot step's time from the report. The medians of the events are drawn on one time axis, one row per variant (an SVG
in the work dir, --svg FILE for a copy; a text rendering in the table).
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
    "vagent": ["vagent-early.service", "vagent-keygen.service", "vagent.service",
               "vagent-storage.service", "vagent-userdata.service", "vagent-hostkeys.service"],
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
    def __init__(self, variant, up, idx, bdir, cached=False):
        self.variant, self.up, self.idx, self.dir = variant, up, idx, bdir
        self.cached = cached  # a reboot of up boot #idx's disks with the service down
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
    if b.cached:
        # The up boot's root overlay (its backing file is named by an absolute path) and its
        # volume, formatted by then: a reboot of that instance.
        src = f"{a.work}/boot-{b.variant}-up-{b.idx}"
        for f in ("root.qcow2", "blank.img"):
            sh(["cp", "--sparse=always", f"{src}/{f}", f"{b.dir}/{f}"])
    else:
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


def mode(up, cached):
    return "cached" if cached else "up" if up else "down"


def clock_skew(b):
    """The guest's TSC calibration, when it went wrong: on a loaded host the kernel's PIT
    calibration can miss by a factor (seen: PIT 450.7 MHz vs HPET 2300.0 MHz; that boot's
    "Startup finished" read 245 s after 94 s of wall time). None when it looks right."""
    m = re.search(r"PIT calibration deviates from HPET: (\d+) (\d+)", b.file("journal"))
    if not m or not int(m.group(2)):
        return None
    pit, hpet = int(m.group(1)), int(m.group(2))
    if abs(pit - hpet) / hpet <= 0.02:
        return None
    m2 = re.search(r"tsc: Detected ([\d.]+) MHz", b.file("journal"))
    return (f"the guest's TSC was calibrated at {m2.group(1) if m2 else f'{pit / 1000:.1f}'} MHz "
            f"(PIT) where HPET measured {hpet / 1000:.1f} MHz: its times are off")


def boot(a, net, variant, up, idx, cached=False):
    b = Boot(variant, up, idx, f"{a.work}/boot-{variant}-{mode(up, cached)}-{idx}", cached)
    for attempt in (1, 2):
        b.attempts = attempt
        boot_once(a, net, b)
        skew = clock_skew(b) if b.results else None
        if (b.results and not skew) or attempt == 2:
            break
        why = skew or f"no results (qemu rc {b.rc})"
        log(f"{os.path.basename(b.dir)}: {why}; retrying once, first try kept in {b.dir}.try1")
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
    skew = clock_skew(b)
    if skew:
        b.problems.append(skew + "; its figures are left out")
        return
    journal = b.file("journal")
    m = re.search(r"Startup finished in .*= ([^.\n]*(?:\.\d+)?\S*)\.?$", journal, re.M)
    if m:
        f["boot"] = timespan(m.group(1))
    m = re.search(r"Startup finished in (.*?) \(kernel\)", journal)
    if m:
        f["kernel"] = timespan(m.group(1))
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
    if b.variant == "vagent" and kname:
        storage_timeline(b, journal, kname)
    if b.variant == "vagent":
        boot_unit_timeline(b, journal, u)
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


# The storage unit's phases: (key, label), each found in the journal by storage_timeline().
STORAGE_PHASES = [
    ("st-first", "first line (exec, libraries, config, candidates)"),
    ("st-verdict", "verdict (probe and blank proof)"),
    ("st-gpt", "GPT written"),
    ("st-mkfs", "mkfs done"),
    ("st-mount", "mounted"),
    ("st-done", "unit finished"),
]


def storage_timeline(b, journal, kname):
    """Seconds after "Starting vagent-storage.service" of each phase of the blank volume
    /dev/KNAME (the lines of the unit's vagent process: the pid of "Storage candidates")."""
    f = b.fig
    line_re = re.compile(r"^\[\s*([\d.]+)\] \S+ (\S+?)(?:\[(\d+)\])?: (.*)$")
    start = pid = None
    ev = {}
    dev = re.escape(f"/dev/{kname}")
    for line in journal.splitlines():
        m = line_re.match(line)
        if not m:
            continue
        t, ident, p, msg = float(m.group(1)), m.group(2), m.group(3), m.group(4)
        if ident == "systemd" and msg.startswith("Starting vagent-storage.service"):
            start = t
        elif ident == "systemd" and msg.startswith("Finished vagent-storage.service"):
            ev.setdefault("st-done", t)
        elif ident == "vagent" and pid is None and msg.startswith("Storage candidates"):
            pid = p
            ev["st-first"] = t
        elif ident == "vagent" and p == pid:
            if re.match(rf"'{dev}' is blank ", msg):
                ev.setdefault("st-verdict", t)
            elif re.search(rf"scan read .* in ([\d.]+) s", msg) and "st-verdict" not in ev:
                f["st-scan"] = float(re.search(r" in ([\d.]+) s", msg).group(1))
            elif msg.startswith("Wrote a GPT") and re.search(dev, msg):
                ev.setdefault("st-gpt", t)
            elif re.match(rf"Made \S+ \(UUID \S+\) on '{dev}", msg):
                ev.setdefault("st-mkfs", t)
            elif re.match(rf"Mounted '{dev}", msg):
                ev.setdefault("st-mount", t)
    if start is None:
        return
    f["st-start"] = start
    for k, t in ev.items():
        f[k] = t - start
    if "st-mount" in f:
        f["st-mount-noscan"] = f["st-mount"] - f.get("st-scan", 0.0)


# vagent.service's phases (key, label): boot_unit_timeline() finds them in the unit's
# properties and in the boot report the unit prints to the journal when it finishes.
BOOT_PHASES = [
    ("bu-start", "unit started (seconds after kernel start)"),
    ("bu-exec", "start -> the report's 'started' (exec, libraries, config)"),
    ("bu-steps", "the report's 'started' -> 'finished' (the steps)"),
    ("bu-exit", "'finished' -> unit active (record, exit, systemd)"),
]
BOOT_STEPS = ("metadata", "ssh-keys", "network", "bootcmd", "hostname", "host-keys")


def iso_mono(iso, off):
    """The report's ISO 8601 UTC stamp on the guest's monotonic clock (OFF: realtime minus
    monotonic, taken by the collector)."""
    t = datetime.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ")
    return t.replace(tzinfo=datetime.timezone.utc).timestamp() - off


def boot_unit_timeline(b, journal, u):
    """vagent.service's start, its report's started/finished stamps, its active time, and
    each boot step's TIME column, from the report block that follows "Boot finished"."""
    f = b.fig
    start = mono(u, "vagent.service", "InactiveExitTimestampMonotonic")
    active = mono(u, "vagent.service", "ActiveEnterTimestampMonotonic")
    if start is None:
        return
    f["bu-start"] = start
    lines = journal.splitlines()
    at = next((i for i, l in enumerate(lines) if "vagent" in l and ": Boot finished" in l
               and "(metadata from" in l), None)
    if at is None:
        return
    body = [re.sub(r"^\[\s*[\d.]+\] \S+ vagent\[\d+\]: ", "", l) for l in lines[at + 1:at + 40]]
    stamps = {}
    for l in body:
        m = re.match(r"(started|finished):\s+(\S+)$", l.strip())
        if m:
            stamps[m.group(1)] = m.group(2)
        m = re.match(r"(\S+)\s+\S+\s+(\d+)ms\s+vagent\.service\b", l.strip())
        if m and m.group(1) in BOOT_STEPS:
            f["bu-step-" + m.group(1)] = int(m.group(2)) / 1000.0
    try:
        off = float(b.file("clock-offset").strip())
        s0, s1 = iso_mono(stamps["started"], off), iso_mono(stamps["finished"], off)
    except (ValueError, KeyError):
        return
    f["bu-exec"] = s0 - start
    f["bu-steps"] = s1 - s0
    if active:
        f["bu-exit"] = active - s1


def timeline_row(boots, label, key):
    """One row of a vagent unit's timeline: LABEL, the medians of KEY (vagent, service up)."""
    return f"  {label:58s} {cell(values(boots, 'vagent', True, key), 's'):>22s}"


def boot_unit_lines(boots):
    if not values(boots, "vagent", True, "bu-steps"):
        return []
    out = ["vagent.service timeline (service up), seconds (report stamps via clock-offset):"]
    out += [timeline_row(boots, label, key) for key, label in BOOT_PHASES]
    out += [timeline_row(boots, "  step " + name, "bu-step-" + name) for name in BOOT_STEPS
            if values(boots, "vagent", True, "bu-step-" + name)]
    return out


def storage_lines(boots):
    if not values(boots, "vagent", True, "st-start"):
        return []
    out = ["vagent-storage.service timeline (service up), seconds after systemd started it:"]
    out += [timeline_row(boots, label, key) for key, label in STORAGE_PHASES]
    out.append(timeline_row(boots, "  the read scan of the blank proof (part of the verdict)",
                            "st-scan"))
    out.append(timeline_row(boots, "  mounted, without the scan (target <= 2 s)",
                            "st-mount-noscan"))
    return out


# --- the picture: every variant's boot on one time axis -----------------------------------
EVENTS = [
    # key, label, colour, letter in the text rendering
    ("kernel", "kernel done", "#888888", "K"),
    ("net-online", "network-online", "#1f77b4", "N"),
    ("keys", "keys installed", "#2ca02c", "k"),
    ("login", "login possible", "#9467bd", "L"),
    ("volume", "volume mounted", "#ff7f0e", "V"),
    ("boot", "startup finished", "#d62728", "B"),
]


def event_stats(boots, variant):
    out = []
    for key, label, colour, letter in EVENTS:
        v = values(boots, variant, True, key)
        if v:
            out.append((key, label, colour, letter, statistics.median(v), min(v), max(v), len(v)))
    return out


def svg(boots, variants, title):
    rows = [(v, event_stats(boots, v)) for v in variants]
    rows = [(v, e) for v, e in rows if e]
    if not rows:
        return None
    tmax = max(e[6] for _, ev in rows for e in ev)
    step = 5 if tmax <= 40 else 10 if tmax <= 100 else 20
    tmax = step * (int(tmax / step) + 1)
    left, right, top, lane, gap = 110, 30, 78, 11, 22
    width = 900
    scale = (width - left - right) / tmax
    row_h = lane * len(EVENTS) + gap
    height = top + row_h * len(rows) + 40
    x = lambda t: left + t * scale
    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
         f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
         f'<rect width="{width}" height="{height}" fill="white"/>',
         f'<text x="{left}" y="16" font-size="13" font-weight="bold">{esc(title)}</text>']
    lx = left
    for key, label, colour, _ in EVENTS:
        o.append(f'<circle cx="{lx + 5}" cy="34" r="4" fill="{colour}"/>'
                 f'<text x="{lx + 13}" y="38">{esc(label)}</text>')
        lx += 13 + 7 * len(label) + 16
    o.append(f'<text x="{left}" y="54" fill="#555">median of the first boots, the line spans '
             f'min..max; seconds after kernel start</text>')
    axis_y = top + row_h * len(rows)
    t = 0
    while t <= tmax:
        o.append(f'<line x1="{x(t):.1f}" y1="{top - 4}" x2="{x(t):.1f}" y2="{axis_y}" '
                 f'stroke="#e5e5e5"/><text x="{x(t):.1f}" y="{axis_y + 14}" '
                 f'text-anchor="middle">{t} s</text>')
        t += step
    floor = [e for v, ev in rows if v == "floor" for e in ev if e[0] == "boot"]
    if floor:  # the floor's "startup finished" across every row: the distance to beat
        fx = x(floor[0][4])
        o.append(f'<line x1="{fx:.1f}" y1="{top - 4}" x2="{fx:.1f}" y2="{axis_y}" '
                 f'stroke="#d62728" stroke-dasharray="4 3" stroke-opacity="0.6"/>'
                 f'<text x="{fx + 3:.1f}" y="{top - 6}" font-size="9" fill="#d62728">floor '
                 f'finished</text>')
    for i, (variant, ev) in enumerate(rows):
        y0 = top + i * row_h
        o.append(f'<text x="{left - 8}" y="{y0 + lane * len(EVENTS) / 2 + 4:.1f}" '
                 f'text-anchor="end" font-weight="bold">{esc(variant)}</text>')
        boot = [e for e in ev if e[0] == "boot"]
        if boot:
            o.append(f'<rect x="{left}" y="{y0}" width="{boot[0][4] * scale:.1f}" '
                     f'height="{lane * len(EVENTS)}" fill="#f4f4f4"/>')
        for key, label, colour, _, m, lo, hi, n in ev:
            yy = y0 + lane * [e[0] for e in EVENTS].index(key) + lane / 2
            o.append(f'<line x1="{x(lo):.1f}" y1="{yy:.1f}" x2="{x(hi):.1f}" y2="{yy:.1f}" '
                     f'stroke="{colour}" stroke-width="2"/>'
                     f'<circle cx="{x(m):.1f}" cy="{yy:.1f}" r="4" fill="{colour}">'
                     f'<title>{esc(variant)}: {esc(label)} {m:.1f} s ({lo:.1f}..{hi:.1f}, '
                     f'n={n})</title></circle>'
                     f'<text x="{x(hi) + 5:.1f}" y="{yy + 4:.1f}" font-size="9" '
                     f'fill="#333">{m:.1f}</text>')
    o.append(f'<line x1="{left}" y1="{axis_y}" x2="{width - right}" y2="{axis_y}" stroke="#000"/>')
    o.append("</svg>")
    return "\n".join(o) + "\n"


def esc(s):
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def text_timeline(boots, variants, cols=72):
    """The picture in text: one line per variant, the medians as letters on one axis."""
    rows = [(v, event_stats(boots, v)) for v in variants]
    rows = [(v, e) for v, e in rows if e]
    if not rows:
        return []
    tmax = max(e[4] for _, ev in rows for e in ev) * 1.02
    col = lambda t: min(cols - 1, int(round(t / tmax * (cols - 1))))
    out = ["  " + " ".join(f"{e[3]} {e[1]}" for e in EVENTS)]
    for v, ev in rows:
        line = [" "] * cols
        end = max((e[4] for e in ev if e[0] == "boot"), default=0)
        for i in range(col(end) + 1):
            line[i] = "-"
        for e in sorted(ev, key=lambda e: e[4]):
            c = col(e[4])
            while line[c] not in "- " and c + 1 < cols:
                c += 1  # two events in one column: the later one moves right
            line[c] = e[3]
        out.append(f"  {v:10s} |{''.join(line).rstrip()}")
    ticks = [" "] * (cols + 12)
    step = 5 if tmax <= 40 else 10 if tmax <= 100 else 20
    t = 0
    while t <= tmax:
        lab = f"{t}s"
        c = 13 + col(t)
        ticks[c:c + len(lab)] = list(lab)
        t += step
    out.append("".join(ticks).rstrip())
    return out


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
    ("login", "metadata down, cached: login possible", "s", "cached"),
    ("boot", "metadata down, cached: boot finished", "s", "cached"),
]


def values(boots, variant, up, key):
    """UP: True (service up), False (down, first boots) or "cached" (down, a reboot)."""
    return [b.fig[key] for b in boots
            if b.variant == variant and b.fig.get(key) is not None
            and (b.cached if up == "cached" else b.up == up and not b.cached)]


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
    line(vu and cu and cu / vu >= 10 if vu and cu else None,
         f"agent unit time >= 10x below cloud-init's: "
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
    sm = med(boots, "vagent", True, "st-mount-noscan")
    line(sm <= 2.0 if sm is not None else None,
         "blank volume mounted within 2 s of vagent-storage starting (scan excluded): "
         + (f"{sm:.2f} s" if sm is not None else "no data"))
    vm, cm = med(boots, "vagent", True, "memory"), med(boots, "cloud-init", True, "memory")
    line(cm / vm >= 4 if vm and cm else None,
         "peak memory >= 4x below cloud-init's: "
         + (f"{cm:.1f} MiB / {vm:.1f} MiB = {cm / vm:.1f}x" if vm and cm else "no data"))
    vc, fd = med(boots, "vagent", "cached", "login"), med(boots, "floor", False, "login")
    line(vc <= fd + 3.0 if vc and fd else None,
         "metadata down with a cache, login within floor + 3 s: "
         + (f"{vc:.2f} s vs {fd:.2f} + 3 = {fd + 3.0:.2f} s" if vc and fd else "no data"))
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
    p.add_argument("--svg", help="also write the picture (SVG) here")
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
    plan = ([(v, True, i, False) for i in range(1, a.runs + 1) for v in variants]
            + [(v, False, i, False) for i in range(1, a.down_runs + 1) for v in variants]
            + [("vagent", False, i, True) for i in range(1, min(a.down_runs, a.runs) + 1)
               if "vagent" in variants])
    boots = []
    if a.reanalyse:
        return report(a, variants, reanalyse(a), start, start, load_before)
    net = Net(a.work)
    try:
        for n, (v, up, i, cached) in enumerate(plan, 1):
            t = time.monotonic()
            b = boot(a, net, v, up, i, cached)
            boots.append(b)
            fig = ", ".join(f"{k} {b.fig[k]:.2f}" for k in
                            ("boot", "keys", "volume", "units", "memory", "login")
                            if isinstance(b.fig.get(k), float))
            log(f"[{n}/{len(plan)}] {v} metadata {mode(up, cached)} #{i}: "
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
        m = re.fullmatch(r"boot-(floor|vagent|cloud-init)-(up|down|cached)-(\d+)", name)
        if not m:
            continue
        b = Boot(m.group(1), m.group(2) == "up", int(m.group(3)), f"{a.work}/{name}",
                 m.group(2) == "cached")
        j = meta.get((b.variant, m.group(2), b.idx), {})
        b.rc, b.wall, b.attempts = j.get("rc"), j.get("wall") or 0.0, j.get("attempts", 1)
        b.markers = j.get("markers", {})
        if os.path.isdir(f"{b.dir}/results") and not os.path.exists(f"{b.dir}/results/placeholder"):
            b.results = f"{b.dir}/results"
        analyse(a, b)
        boots.append(b)
    order = {v: i for i, v in enumerate(VARIANTS)}
    boots.sort(key=lambda b: (b.cached, not b.up, b.idx, order[b.variant]))
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
    bu = boot_unit_lines(boots)
    if bu:
        out.append("")
        out += bu
    st = storage_lines(boots)
    if st:
        out.append("")
        out += st
    tl = text_timeline(boots, variants)
    if tl:
        out.append("")
        out.append("the boots on one axis (medians, service up):")
        out += tl
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
    picture = svg(boots, variants, f"First boots under qemu TCG, {start:%Y-%m-%d}, host load "
                  f"{load_before} → {loadavg()}")
    if picture:
        for path in filter(None, (f"{a.work}/boots{'-reanalysed' if a.reanalyse else ''}.svg",
                                  a.svg)):
            with open(path, "w") as f:
                f.write(picture)
    with open(f"{a.work}/table{'-reanalysed' if a.reanalyse else ''}.txt", "w") as f:
        f.write(text)
    js = [{"variant": b.variant, "metadata": mode(b.up, b.cached), "run": b.idx,
           "wall": b.wall, "rc": b.rc, "attempts": b.attempts, "markers": b.markers,
           "figures": b.fig, "problems": b.problems} for b in boots]
    for path in filter(None, (a.json, None if a.reanalyse else f"{a.work}/boots.json")):
        with open(path, "w") as f:
            json.dump(js, f, indent=1)
    return 1 if any(not b.results for b in boots) else 0


if __name__ == "__main__":
    sys.exit(main())
