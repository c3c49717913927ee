#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark: from `vagent mount` start to mounted, for a 1 TiB sparse volume on a loop device,
# with mkfs discard off (vagent's default) and on, next to the manual recipe of the Vultr guide
# run by hand (parted mklabel gpt + mkpart 0% 100%, mkfs.ext4 with its defaults, mount) on
# the same kind of volume, in the same run. Root; needs ~1-2 GB free under $BENCH_DIR.
#   bench/storage-1tib.sh [RUNS] [SIZE]     (defaults: 3, 1T)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
runs=${1:-3}
size=${2:-1T}
[ "$(id -u)" = 0 ] || { echo "needs root (loop devices, mkfs, mount)"; exit 77; }

build=$top/bench/build
[ -x configure ] || ./autogen.sh >/dev/null 2>&1
mkdir -p "$build"
(cd "$build" && { [ -f Makefile ] || "$top/configure" CFLAGS="-O2 -g" >/dev/null; } && make -s -j"$(nproc)" vagent >/dev/null)
vagent=$build/vagent

w=$(mktemp -d "${BENCH_DIR:-/var/tmp}/vagent-bench-storage.XXXXXX")
loop=
cleanup() {
	for m in $(findmnt -rn -o TARGET | grep "^$w/" | sort -r); do umount "$m"; done
	[ -n "$loop" ] && { partx -d "$loop" 2>/dev/null; losetup -d "$loop" 2>/dev/null; }
	rm -rf "$w"
}
trap cleanup EXIT

ms() { date +%s%3N; }
attach() {
	rm -f "$w/vol.img"
	truncate -s "$size" "$w/vol.img"
	loop=$(losetup -f --show "$w/vol.img")
	partx -d "$loop" 2>/dev/null || true # stale BLKPG partitions of an earlier binding
}
detach() {
	for m in $(findmnt -rn -o TARGET | grep "^$w/" | sort -r); do umount "$m"; done
	# Partitions added with BLKPG (this kernel reads no tables) outlive the loop binding.
	partx -d "$loop" 2>/dev/null || true
	losetup -d "$loop"
	loop=
}
part1() {
	local d
	for d in "/sys/class/block/${1#/dev/}"/*/; do
		[[ -f $d/partition && $(cat "$d/partition") == 1 ]] && echo "/dev/$(basename "$d")"
	done
	return 0
}

results=$w/results
: >"$results"
run_vagent() { # discard yes|no
	rm -rf "$w/root" && mkdir -p "$w/root/etc" && : >"$w/root/etc/fstab"
	printf '[storage]\ndiscard = %s\n' "$1" >"$w/vagent.conf"
	attach
	local t0 t1
	t0=$(ms)
	"$vagent" -c "$w/vagent.conf" --root "$w/root" mount "$loop" >/dev/null 2>&1
	t1=$(ms)
	[ -n "$(findmnt -rn -o TARGET | grep "^$w/root/mnt/")" ] || { echo "not mounted"; exit 1; }
	echo "vagent mount (discard=$1)	$((t1 - t0))	$(du -k "$w/vol.img" | cut -f1)" >>"$results"
	detach
}
run_manual() {
	attach
	local t0 t1 p
	t0=$(ms)
	parted -s "$loop" mklabel gpt mkpart primary 0% 100% >/dev/null 2>&1
	p=$(part1 "$loop")
	[ -n "$p" ] || { partx -a "$loop" 2>/dev/null; p=$(part1 "$loop"); }
	mkfs.ext4 -q "$p"
	mkdir -p "$w/manual"
	mount "$p" "$w/manual"
	t1=$(ms)
	echo "manual recipe (parted + mkfs.ext4 defaults)	$((t1 - t0))	$(du -k "$w/vol.img" | cut -f1)" >>"$results"
	detach
}

for _ in $(seq "$runs"); do
	run_vagent no
	run_vagent yes
	run_manual
done

echo "format-and-mount of a $size sparse loop volume, $runs runs each, $(date -u +%F), $(nproc) CPUs, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, t, kb = line.rstrip("\n").split("\t")
    rows.setdefault(name, []).append((int(t), int(kb)))
print(f"{'what':46} {'median_ms':>9} {'min_ms':>7} {'max_ms':>7} {'written_MiB':>11}")
med = {}
for name, v in rows.items():
    ts = sorted(t for t, _ in v)
    med[name] = statistics.median(ts)
    print(f"{name:46} {med[name]:9.0f} {ts[0]:7d} {ts[-1]:7d} {statistics.median(k for _, k in v) / 1024:11.1f}")
man = [k for k in med if k.startswith("manual")][0]
for k in med:
    if k.startswith("vagent"):
        print(f"{k}: {med[k] / med[man]:.2f}x the manual recipe")
PY
