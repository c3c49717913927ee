#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test-blank-proof.sh: what a `blank` verdict rests on (issue 11), through the real binary on
# sparse loop devices: users the exclusive open cannot see (a process writing without O_EXCL, a
# loop device on top, a second loop device on the same image), and the candidate policy of the
# platform kind (a fake ROOT/sys/class/dmi/id/sys_vendor and ROOT/proc/cmdline under --root:
# bare metal picks up nothing unless [storage] devices names it). Every refused image must be
# byte-identical after `mount --dry-run` and `mount`. Needs root (exit 77 otherwise).
set -u
set -o pipefail
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
# shellcheck source=lib.sh
. "$top_srcdir/tests/lib.sh"

need_root "loop devices, mkfs and mount"
[ -x "$VAGENT" ] || skip_all "no vagent binary at $VAGENT"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}intercept_strchr=0"

W=$(mktemp -d /var/tmp/vagent-proof.XXXXXX)
R=$W/root
LOOPS=()
PIDS=()
teardown() {
	local p m l
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	for m in $(findmnt -rn -o TARGET | grep "^$W/" | sort -r); do umount "$m"; done
	for ((l = ${#LOOPS[@]} - 1; l >= 0; l--)); do losetup -d "${LOOPS[$l]}" 2>/dev/null; done
	findmnt -rn -o TARGET | grep -q "^$W/" || rm -rf "$W"
}
on_exit teardown
mkdir -p "$R/etc"
: >"$R/etc/fstab"

attach() { # attach FILE-OR-DEV [losetup options]: sets DEV
	DEV=$(losetup -f --show "${@:2}" "$1") || { echo "Bail out! losetup $1 failed"; exit 1; }
	LOOPS+=("$DEV")
}
new_image() { # new_image NAME SIZE: sets IMG and DEV
	IMG=$W/$1.img
	truncate -s "$2" "$IMG"
	attach "$IMG"
}
CONF=$W/vagent.conf
conf() { printf '[storage]\n%s' "$*" >"$CONF"; }
# One line per volume: device verdict action result reason (tab-separated).
report() {
	python3 -c '
import json, sys
for d in json.load(sys.stdin)["devices"]:
    print("\t".join(str(d.get(k) or "-") for k in ("device", "verdict", "action", "result", "reason")))'
}
vag() { "$VAGENT" -c "$CONF" --root "$R" --json "$@" 2>"$W/stderr" | report; }
field() { cut -f"$1" <<<"$OUT" | head -n1; }

# refused NAME WANT-VERDICT PATTERN DEV IMG: dry run and real run both leave IMG identical and
# give WANT-VERDICT with a reason matching PATTERN.
refused() {
	local name=$1 want=$2 pat=$3 dev=$4 img=$5 before after
	sync
	before=$(sha256sum <"$img")
	OUT=$(vag mount --dry-run "$dev")
	ok "$([[ $? == 0 && $(field 2) == "$want" && $(field 5) == $pat ]]; echo $?)" \
		"$name: dry run: $(field 2): $(field 5)"
	OUT=$(vag mount "$dev")
	ok "$([[ $? == 0 && $(field 2) == "$want" && $(field 3) == none ]]; echo $?)" \
		"$name: mount: $(field 2), $(field 4)"
	sync
	after=$(sha256sum <"$img")
	ok "$([[ $before == "$after" ]]; echo $?)" "$name: image sha256 identical"
}

conf ""
# ---- a process writing zeros to the disk without O_EXCL ----
new_image writer 256M
python3 -c '
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
print(os.getpid(), flush=True)
while True:
    os.pwrite(fd, bytes(4096), 100 << 20)
    time.sleep(0.05)' "$DEV" >"$W/writer.pid" &
PIDS+=($!)
for _ in $(seq 50); do [[ -s $W/writer.pid ]] && break; sleep 0.1; done
wpid=$(cat "$W/writer.pid")
refused "writer without O_EXCL" in-use "pid $wpid (python3) has ${DEV#/dev/} open read-write" "$DEV" "$IMG"
kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null

# ---- a reader holding a partition open (the partition node added by BLKPG) ----
sgdisk -o -n 1:2048:0 "$IMG" >/dev/null && partx -a "$DEV" 2>/dev/null
if [[ -b ${DEV}p1 ]]; then
	sleep 600 <"${DEV}p1" &
	PIDS+=($!)
	sleep 0.2
	refused "reader of a partition" in-use "pid $! (sleep) has ${DEV#/dev/}p1 open read-only" "$DEV" "$IMG"
	kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null
	partx -d "$DEV" 2>/dev/null
else
	ok 1 "reader of a partition: the kernel lists no ${DEV}p1 after partx -a"
fi

# ---- a loop device backed by the disk, and a second loop device on the same image ----
new_image backing 256M
inner=$DEV inner_img=$IMG
attach "$inner"
refused "loop device on top" in-use "${inner#/dev/} backs ${DEV#/dev/}" "$inner" "$inner_img"
losetup -d "$DEV" && unset 'LOOPS[-1]'
attach "$inner_img"
refused "same image on two loop devices" in-use "${inner#/dev/}'s backing file also backs ${DEV#/dev/}" \
	"$inner" "$inner_img"
losetup -d "$DEV" && unset 'LOOPS[-1]'

# ---- the candidate policy: a blank loop disk, a fake platform under --root ----
platform() { # platform vm|bare-metal|unknown
	rm -rf "$R/sys" "$R/proc"
	mkdir -p "$R/proc"
	case $1 in
	vm) mkdir -p "$R/sys/class/dmi/id" && echo Vultr >"$R/sys/class/dmi/id/sys_vendor"
	    echo "root=/dev/vda1 console=ttyS0" >"$R/proc/cmdline" ;;
	bare-metal) echo "BOOT_IMAGE=/vmlinuz root=/dev/sda2 vultr" >"$R/proc/cmdline" ;;
	unknown) echo "quiet" >"$R/proc/cmdline" ;;
	esac
}
listed() { # listed DEV: is DEV among the devices of `vagent mount` in $OUT?
	cut -f1 <<<"$OUT" | grep -qx "$1"
}
blank=$inner blank_img=$inner_img
name=${blank#/dev/}
sum0=$(sha256sum <"$blank_img")
for kind in bare-metal unknown vm; do
	platform $kind
	conf ""
	OUT=$(vag mount --dry-run)
	ok "$([[ $? == 0 ]] && ! listed "$blank"; echo $?)" \
		"$kind platform, devices = auto: $blank is not a candidate ($(cut -f1 <<<"$OUT" | tr '\n' ' '))"
	OUT=$(vag mount)
	ok "$([[ $? == 0 ]] && ! listed "$blank" && [[ $(sha256sum <"$blank_img") == "$sum0" ]]; echo $?)" \
		"$kind platform, devices = auto: mount leaves the blank $blank alone"
done
platform bare-metal
conf "devices = none"
OUT=$(vag mount)
ok "$([[ $? == 0 && -z $OUT ]]; echo $?)" "devices = none: no candidates at all"
# A glob that matches this loop device only (other loop devices may belong to other tests).
glob="${name:0:-1}[${name: -1}]"
conf "devices = $glob"
OUT=$(vag mount --dry-run)
ok "$([[ $? == 0 && $(field 1) == "$blank" && $(field 2) == blank ]]; echo $?)" \
	"bare metal, devices = $glob: $blank is a candidate, blank"
conf "devices = $name"
OUT=$(vag mount)
ok "$([[ $? == 0 && $(field 1) == "$blank" && $(field 4) == "formatted and mounted" ]]; echo $?)" \
	"bare metal, devices = $name: formatted and mounted ($(field 4))"
vag umount >/dev/null

tap_done
