#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark: what the blank proof costs. For sparse volumes of each SIZE on a loop device, the
# verify time, bytes read and read rate of `vagent --json mount --dry-run` in each [storage]
# verify mode (full, quick, auto with the default 2 min budget), then the headline: attach to
# mounted (`vagent mount`, auto) for the largest size. LOOP_DIO=on (default) binds the loop
# device with direct I/O (holes read at memory speed: an upper bound, like a local NVMe disk);
# LOOP_DIO=off goes through the page cache of the backing file (cold: ~150-250 MB/s here, a
# slow network volume). Root; needs little space (sparse images) under $BENCH_DIR.
#   bench/verify.sh [SIZE...]     (default: 1G 100G 1T; MODES="quick auto" skips full)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
sizes=("${@:-1G 100G 1T}")
read -r -a sizes <<<"${sizes[*]}"
dio=${LOOP_DIO:-on}
[ "$(id -u)" = 0 ] || { echo "needs root (loop devices, mkfs, mount)"; exit 77; }

build=$top/bench/build
[ -x configure ] || ./autogen.sh >/dev/null 2>&1
mkdir -p "$build"
(cd "$build" && { [ -f Makefile ] || "$top/configure" CFLAGS="-O2 -g" >/dev/null; } && make -s -j"$(nproc)" vagent >/dev/null)
vagent=$build/vagent

w=$(mktemp -d "${BENCH_DIR:-/var/tmp}/vagent-bench-verify.XXXXXX")
loop=
cleanup() {
	for m in $(findmnt -rn -o TARGET | grep "^$w/" | sort -r); do umount "$m"; done
	[ -n "$loop" ] && { partx -d "$loop" 2>/dev/null; losetup -d "$loop" 2>/dev/null; }
	rm -rf "$w"
}
trap cleanup EXIT
mkdir -p "$w/root/etc"
: >"$w/root/etc/fstab"

attach() {
	[ -n "$loop" ] && { partx -d "$loop" 2>/dev/null || true; losetup -d "$loop"; loop=; }
	rm -f "$w/vol.img"
	truncate -s "$1" "$w/vol.img"
	loop=$(losetup -f --show --direct-io="$dio" "$w/vol.img")
}
ms() { date +%s%3N; }
# scan MODE: one table row from the JSON report of a dry run
scan() {
	printf '[storage]\nverify = %s\n' "$1" >"$w/vagent.conf"
	local t0 t1
	t0=$(ms)
	"$vagent" -c "$w/vagent.conf" --root "$w/root" --json mount --dry-run "$loop" 2>/dev/null >"$w/out.json"
	t1=$(ms)
	python3 - "$w/out.json" "$size" "$1" $((t1 - t0)) <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["devices"][0]
s = d["scan"]
print(f"{sys.argv[2]:>6} {sys.argv[3]:<6} {s['mode']:<6} {int(sys.argv[4]) / 1000:9.1f} "
      f"{s['bytes_read'] / 2**30:10.2f} {100 * s['coverage']:8.2f} {s['rate'] / 1e6:8.0f} "
      f"{s['regions']:9d}  {d['verdict']}")
PY
}

echo "loop device direct I/O: $dio; $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
echo "  size mode   done   wall_s   read_GiB  cover_%   MB/s   regions  verdict"
for size in "${sizes[@]}"; do
	attach "$size"
	for mode in ${MODES:-full quick auto}; do
		scan "$mode"
	done
done

# Headline: attach to mounted for the largest volume, auto.
size=${sizes[-1]}
attach "$size"
printf '[storage]\n' >"$w/vagent.conf"
t0=$(ms)
"$vagent" -c "$w/vagent.conf" --root "$w/root" --json mount "$loop" 2>/dev/null >"$w/out.json"
t1=$(ms)
python3 - "$w/out.json" "$size" $((t1 - t0)) <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["devices"][0]
s = d["scan"]
print(f"attach to mounted, {sys.argv[2]}, verify = auto: {int(sys.argv[3]) / 1000:.1f} s "
      f"({d['result']}; scan {s['mode']}, {s['bytes_read'] / 2**30:.2f} GiB in "
      f"{s['duration_ms'] / 1000:.1f} s; {d['reason']})")
PY
