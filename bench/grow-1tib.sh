#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark: `vagent mount` growing a vagent volume on a sparse loop device (issue 12): a
# volume made at SIZE, then enlarged to 2 x SIZE and grown while unmounted (the own verdict's
# scan of the new space, the table, BLKPG, mount, the filesystem online), then to 3 x SIZE and
# grown while mounted (the same scan, done by the grow path), per [storage] verify mode (auto
# falls back to quick past its budget). XFS by default: ext4's online resize needs
# CAP_SYS_RESOURCE (FS=ext4 where the machine has it). Prints one line per run, then medians.
# Root; the images are sparse (a few MB used).
#   bench/grow-1tib.sh [RUNS] [SIZE]     (defaults: 3, 1T)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
runs=${1:-3}
size=${2:-1T}
fs=${FS:-xfs}
[ "$(id -u)" = 0 ] || { echo "needs root (loop devices, mkfs, mount)"; exit 77; }

build=$top/bench/build
[ -x configure ] || ./autogen.sh >/dev/null 2>&1
mkdir -p "$build"
(cd "$build" && { [ -f Makefile ] || "$top/configure" CFLAGS="-O2 -g" >/dev/null; } && make -s -j"$(nproc)" vagent >/dev/null)
vagent=$build/vagent

w=$(mktemp -d "${BENCH_DIR:-/var/tmp}/vagent-bench-grow.XXXXXX")
loop=
cleanup() {
	for m in $(findmnt -rn -o TARGET | grep "^$w/" | sort -r); do umount "$m"; done
	[ -n "$loop" ] && { partx -d "$loop" 2>/dev/null; losetup -d "$loop" 2>/dev/null; }
	rm -rf "$w"
}
trap cleanup EXIT
ms() { date +%s%3N; }
bytes() { numfmt --from=iec "$1"; }
s1=$(bytes "$size")

results=$w/results
: >"$results"
for mode in quick auto; do
	for i in $(seq 1 "$runs"); do
		rm -rf "$w/root" && mkdir -p "$w/root/etc"
		printf '[storage]\nfilesystem = %s\nverify = %s\n' "$fs" "$mode" >"$w/vagent.conf"
		v() { "$vagent" -c "$w/vagent.conf" --root "$w/root" "$@"; }
		rm -f "$w/vol.img"
		truncate -s "$s1" "$w/vol.img"
		loop=$(losetup -f --show "$w/vol.img")
		partx -d "$loop" 2>/dev/null || true
		v mount "$loop" >/dev/null 2>&1
		v umount "$loop" >/dev/null 2>&1

		truncate -s $((2 * s1)) "$w/vol.img" && losetup -c "$loop"
		t0=$(ms)
		v --json mount "$loop" >"$w/out1" 2>/dev/null
		t1=$(ms)
		truncate -s $((3 * s1)) "$w/vol.img" && losetup -c "$loop"
		t2=$(ms)
		v --json mount "$loop" >"$w/out2" 2>/dev/null
		t3=$(ms)
		g1=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["devices"][0].get("grow"))' <"$w/out1")
		g2=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["devices"][0].get("grow"))' <"$w/out2")
		printf '%s\t%s\t%d\t%d\t%s | %s\n' "$mode" "$i" $((t1 - t0)) $((t3 - t2)) "$g1" "$g2" | tee -a "$results"
		v umount "$loop" >/dev/null 2>&1
		partx -d "$loop" 2>/dev/null || true
		losetup -d "$loop"
		loop=
	done
done

echo
echo "median over $runs runs, $fs, $size volume (ms): unmounted 1x->2x, mounted 2x->3x"
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for mode in quick auto; do
	printf '  verify = %-5s  unmounted %6d  mounted %6d\n' "$mode" \
		"$(awk -v m="$mode" -F'\t' '$1 == m { print $3 }' "$results" | median)" \
		"$(awk -v m="$mode" -F'\t' '$1 == m { print $4 }' "$results" | median)"
done
