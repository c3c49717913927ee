#!/bin/bash
# SPDX-License-Identifier: MIT
# test-grow.sh: root integration test of growing (issue 12, grow.c, partition.c's grow path)
# on sparse loop devices under /var/tmp, through the real `vagent mount`:
#  - vagent's volumes (ext4, XFS) of 1 GiB grown to 2 GiB (truncate + losetup -c), unmounted and
#    mounted: own, partition and filesystem grown, same filesystem UUID, a file reads back the
#    same, a second run is unchanged; moved to a new instance (fresh --root) after growing
#    again: mounted and grown, never formatted; data after the partition: not grown, the image
#    byte-identical; SIGKILL at each grow fault point, then the next run finishes the job;
#  - the root filesystem (--root DIR is where the "root" is mounted: the test seam, see
#    grow.h): GPT and DOS disks, ext4 and XFS and btrfs, on the last partition or the whole
#    disk, grown with the other entries, the boot code and the filesystem's data untouched;
#    a root that is not on the last partition is a warning; a bind mount of this machine's own
#    disk is refused; [grow] root = no and /etc/growroot-disabled turn it off.
# ext4 grows online only with CAP_SYS_RESOURCE; where the machine withholds it (this build
# machine does), the ext4 filesystem checks are reported as skipped with that reason and the
# table checks still run (the VM test grows ext4 online).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
# shellcheck source=lib.sh
. "$top_srcdir/tests/lib.sh"

need_root "loop devices, mkfs and mount"
for t in losetup partx sgdisk sfdisk blkid mkfs.ext4 mkfs.xfs mkfs.btrfs resize2fs xfs_growfs \
	btrfs findmnt sha256sum python3; do
	command -v "$t" >/dev/null || skip_all "$t is not installed"
done
[ -x "$VAGENT" ] || skip_all "no vagent binary at $VAGENT"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}intercept_strchr=0"

MIB=$((1 << 20))
W=$(mktemp -d /var/tmp/vagent-grow.XXXXXX)
LOOPS=()
teardown() {
	local m l
	for m in $(findmnt -rn -o TARGET | grep "^$W/" | sort -r); do umount "$m"; done
	for l in "${LOOPS[@]}"; do
		partx -d "$l" 2>/dev/null
		losetup -d "$l" 2>/dev/null
	done
	if findmnt -rn -o TARGET | grep -q "^$W/"; then
		echo "# leaving $W: still mounted" >&2
	else
		rm -rf "$W"
	fi
}
on_exit teardown

# CAP_SYS_RESOURCE (bit 24): what ext4's online resize asks for.
CAPRES=$(( (0x$(awk '/^CapEff/ { print $2 }' /proc/self/status) >> 24) & 1 ))
NOCAP="this machine withholds CAP_SYS_RESOURCE, which ext4's online resize needs (the VM test grows ext4)"
skip() { # skip DESCRIPTION REASON
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1 # SKIP $2"
}
can_grow() { [[ $1 != ext4 || $CAPRES == 1 ]]; }

attach() { # IMAGE: sets DEV (no partition nodes: this kernel has no partition parser)
	DEV=$(losetup -f --show "$1") || { echo "Bail out! losetup failed"; exit 1; }
	LOOPS+=("$DEV")
}
add_parts() { # DEV N: make the kernel list the partitions (partx, BLKPG), wait for node N
	local i
	for i in 1 2 3 4 5; do
		partx -a "$1" 2>/dev/null || partx -u "$1" 2>/dev/null
		[[ -n $(part_of "$1" "$2") && -b $(part_of "$1" "$2") ]] && return 0
		sleep 0.2
	done
	echo "# partx could not add partition $2 of $1: $(partx -s "$1" 2>&1 | tr '\n' ' ')" >&2
	return 1
}
detach() { # DEV
	partx -d "$1" 2>/dev/null
	losetup -d "$1"
}
enlarge() { truncate -s "$2" "$1" && losetup -c "$DEV"; } # IMAGE SIZE (of $DEV)
part_of() { # DEV N -> /dev/<partition N> from sysfs
	local d
	for d in "/sys/class/block/${1#/dev/}"/*/; do
		[[ -f $d/partition && $(cat "$d/partition") == "$2" ]] && echo "/dev/$(basename "$d")"
	done
}
bytes() { blockdev --getsize64 "$1"; }
fs_bytes() { # FSTYPE DEV MOUNTPOINT: the filesystem's size as its own tools tell it
	case $1 in
	ext4) dumpe2fs -h "$2" 2>/dev/null |
		awk -F: '/^Block count/ { c = $2 } /^Block size/ { s = $2 } END { printf "%.0f\n", c * s }' ;;
	xfs) xfs_info "$3" | sed -n 's/^data *= *bsize=\([0-9]*\) *blocks=\([0-9]*\),.*/\1 \2/p' |
		awk '{ printf "%.0f\n", $1 * $2 }' ;;
	btrfs) btrfs filesystem show --raw "$3" | awk '/devid/ { print $4 }' ;;
	esac
}
uuid_of() { blkid -p -s UUID -o value "$1" 2>/dev/null; }
sum_of() { sha256sum <"$1" | cut -d' ' -f1; }
# The content of a sparse image without reading its holes: every non-zero 1 MiB chunk of its
# data extents (SEEK_DATA / SEEK_HOLE), with its offset. Where the extents lie does not count
# (they move as the page cache is written back); a change of any byte does.
content() {
	python3 - "$1" <<'PY'
import hashlib, os, sys
M = 1 << 20
fd = os.open(sys.argv[1], os.O_RDONLY)
h, off, end, seen = hashlib.sha256(), 0, os.fstat(fd).st_size, set()
while off < end:
    try:
        d = os.lseek(fd, off, os.SEEK_DATA)
    except OSError:
        break
    e = os.lseek(fd, d, os.SEEK_HOLE)
    for c in range(d // M * M, e, M):
        if c in seen:
            continue
        seen.add(c)
        b = os.pread(fd, M, c)
        if b.count(0) != len(b):
            h.update(b"%d:" % c + b)
    off = e
print(h.hexdigest(), end)
PY
}

# `vagent --json mount`: one tab-separated line per device (device verdict action mountpoint
# uuid result grow reason).
tsv() {
	python3 -c '
import json, sys
for d in json.load(sys.stdin)["devices"]:
    print("\t".join((d.get(k) or "-") for k in
        ("device", "verdict", "action", "mountpoint", "uuid", "result", "grow", "reason")))'
}
field() { cut -f"$1" <<<"$OUT" | head -n1; }
CONF=$W/vagent.conf
# verify = quick: what the grow path scans is the blank proof's business (test-blank-proof.sh);
# quick still reads around every MiB boundary, where this test puts its data.
conf() { printf '[storage]\nfilesystem = %s\nverify = quick\n%s\n' "$1" "${2:-}" >"$CONF"; }
vag() { "$VAGENT" -c "$CONF" --root "$ROOT" "$@"; }
mnt() { # DEV... (volumes) or nothing: OUT is the report, RC the exit status
	vag --json mount "$@" 2>"$W/stderr" >"$W/json"
	RC=$?
	OUT=$(tsv <"$W/json")
	[[ $RC == 0 ]] || sed 's/^/# vagent: /' "$W/stderr" >&2
}
step() { # NAME: "RESULT MESSAGE" of step NAME in `vagent status --json`
	vag status --json 2>/dev/null | python3 -c '
import json, sys
for s in json.load(sys.stdin)["steps"]:
    if s["name"] == sys.argv[1]:
        print(s["result"], s.get("message", ""))' "$1"
}

# ---- 1. vagent's volumes: grown unmounted, then mounted, then on a new instance ----
for fs in ext4 xfs; do
	ROOT=$W/root-$fs
	mkdir -p "$ROOT/etc"
	conf "$fs"
	IMG=$W/vol-$fs.img
	truncate -s 1G "$IMG"
	attach "$IMG"
	mnt "$DEV"
	P=$(part_of "$DEV" 1)
	MP=$(field 4)
	UUID=$(uuid_of "$P")
	head -c $MIB /dev/urandom >"$ROOT$MP/data"
	SUM=$(sum_of "$ROOT$MP/data")
	vag umount "$DEV" >/dev/null 2>&1

	enlarge "$IMG" 2G
	TABLE=$(dd if="$DEV" bs=1M count=1 status=none | sha256sum)
	mnt --dry-run "$DEV"
	ok "$([[ $RC == 0 && $(field 2) == own && $(field 7) == "${P#/dev/} from 1022 MiB to 2.0 GiB" ]]; echo $?)" \
		"$fs, 1 -> 2 GiB, unmounted: the dry run would grow: $(field 7)"
	vag --dry-run mount "$DEV" 2>/dev/null | grep -q "^  would grow: ${P#/dev/} from 1022 MiB to 2.0 GiB$"
	ok $? "$fs: the human dry run says 'would grow: ${P#/dev/} from 1022 MiB to 2.0 GiB'"
	ok "$([[ $(dd if="$DEV" bs=1M count=1 status=none | sha256sum) == "$TABLE" && $(bytes "$P") == $((1022 * MIB)) ]]; echo $?)" \
		"$fs: the dry run wrote nothing"

	mnt "$DEV"
	ok "$([[ $(field 2) == own && $(field 7) == "${P#/dev/} from 1022 MiB to 2.0 GiB" && $(bytes "$P") == $((2046 * MIB)) ]]; echo $?)" \
		"$fs: grown on mount: partition $(bytes "$P") bytes, $(field 6)"
	sgdisk -v "$DEV" 2>&1 | grep -q "No problems found"
	ok $? "$fs: the GPT verifies (backup header at the new end)"
	ok "$([[ $(uuid_of "$P") == "$UUID" && $(sum_of "$ROOT$MP/data") == "$SUM" ]]; echo $?)" \
		"$fs: same filesystem UUID, the file reads back the same"
	if can_grow "$fs"; then
		ok "$([[ $RC == 0 && $(field 6) == "mounted and grown" && $(fs_bytes "$fs" "$P" "$ROOT$MP") -ge $((2040 * MIB)) ]]; echo $?)" \
			"$fs: the filesystem grew online to $(fs_bytes "$fs" "$P" "$ROOT$MP") bytes"
		ok "$([[ $(step storage) == "changed 1 volume(s): 0 formatted, 1 mounted, 1 grown, 0 left alone" ]]; echo $?)" \
			"$fs: status: storage $(step storage)"
		mnt "$DEV"
		ok "$([[ $RC == 0 && $(field 6) == "already mounted" && $(field 7) == - && $(step storage) == unchanged* ]]; echo $?)" \
			"$fs: a second run is unchanged ($(field 6))"
	else
		ok "$([[ $RC != 0 && $(field 6) == "mounted; growing its filesystem failed"* ]]; echo $?)" \
			"$fs: without CAP_SYS_RESOURCE the filesystem cannot grow, and the step says so"
		skip "$fs: the filesystem grew online" "$NOCAP"
	fi

	# Grown while mounted.
	enlarge "$IMG" 3G
	mnt "$DEV"
	ok "$([[ $(field 7) == "${P#/dev/} from 2.0 GiB to 3.0 GiB" && $(bytes "$P") == $((3070 * MIB)) ]]; echo $?)" \
		"$fs, mounted, 2 -> 3 GiB: the partition grew in place: $(field 7)"
	if can_grow "$fs"; then
		ok "$([[ $RC == 0 && $(field 6) == "already mounted, grown" && $(fs_bytes "$fs" "$P" "$ROOT$MP") -ge $((3060 * MIB)) ]]; echo $?)" \
			"$fs: mounted: the filesystem grew online ($(field 6))"
	else
		skip "$fs: mounted: the filesystem grew online" "$NOCAP"
	fi
	ok "$(findmnt -rn -o SOURCE "$ROOT$MP" | grep -qx "$P"; echo $?)" "$fs: still mounted from $P"

	# Moved to a new instance, grown again while detached.
	vag umount "$DEV" >/dev/null 2>&1
	detach "$DEV"
	truncate -s 4G "$IMG"
	attach "$IMG"
	add_parts "$DEV" 1 # what the kernel's partition scan does when a disk appears
	P=$(part_of "$DEV" 1)
	ROOT=$W/root-$fs-new
	mkdir -p "$ROOT/etc"
	mnt "$DEV"
	ok "$([[ $(field 2) == own && $(field 3) == mount && $(field 7) == "${P#/dev/} from 3.0 GiB to 4.0 GiB" && $(uuid_of "$P") == "$UUID" && $(sum_of "$ROOT$(field 4)/data") == "$SUM" ]]; echo $?)" \
		"$fs: a new instance mounts and grows it, never formats: $(field 3), $(field 7)"
	vag umount "$DEV" >/dev/null 2>&1
	detach "$DEV"
	rm -f "$IMG"
done

# ---- 2. data after the partition: not grown ----
ROOT=$W/root-data
mkdir -p "$ROOT/etc"
conf xfs
IMG=$W/data.img
truncate -s 1G "$IMG"
attach "$IMG"
mnt "$DEV"
vag umount "$DEV" >/dev/null 2>&1
enlarge "$IMG" 2G
dd if=/dev/urandom of="$IMG" bs=4096 count=1 seek=$((1536 * 256)) conv=notrunc status=none
sync; SUM=$(content "$IMG")
mnt "$DEV"
sync; ok "$([[ $(field 3) == none && $(field 7) == - && $(content "$IMG") == "$SUM" ]]; echo $?)" \
	"unmounted, data after the partition: $(field 2), not grown, image byte-identical"
vag umount "$DEV" >/dev/null 2>&1
detach "$DEV"
rm -f "$IMG"
# The same while mounted: the table stays, the data stays.
truncate -s 1G "$IMG"
attach "$IMG"
mnt "$DEV"
P=$(part_of "$DEV" 1)
truncate -s 2G "$IMG"
dd if=/dev/urandom of="$IMG" bs=4096 count=1 seek=$((1536 * 256)) conv=notrunc status=none
BLOCK=$(dd if="$IMG" bs=4096 count=1 skip=$((1536 * 256)) status=none | sha256sum)
losetup -c "$DEV"
mnt "$DEV"
ok "$([[ $(bytes "$P") == $((1022 * MIB)) && $(field 6) == "already mounted" && $(field 7) == - && $(dd if="$IMG" bs=4096 count=1 skip=$((1536 * 256)) status=none | sha256sum) == "$BLOCK" ]]; echo $?)" \
	"mounted, data after the partition: not grown ($(field 6))"
grep -q "Not growing '$DEV': the space after the partition is not free: non-zero bytes at offset $((1536 * MIB))" "$W/stderr"
ok $? "mounted: the refusal names the offset"
vag umount "$DEV" >/dev/null 2>&1
detach "$DEV"
rm -f "$IMG"

# ---- 3. SIGKILL at each grow fault point; the next run finishes the job ----
ROOT=$W/root-fault
mkdir -p "$ROOT/etc"
conf xfs
for f in grow-after-backup grow-after-table grow-after-kernel; do
	IMG=$W/fault.img
	truncate -s 1G "$IMG"
	attach "$IMG"
	mnt "$DEV"
	P=$(part_of "$DEV" 1)
	MP=$(field 4)
	UUID=$(uuid_of "$P")
	echo "$f" >"$ROOT$MP/data"
	vag umount "$DEV" >/dev/null 2>&1
	enlarge "$IMG" 2G
	VAGENT_FAULT=$f vag mount "$DEV" >/dev/null 2>"$W/stderr"
	rc=$?
	if [[ $rc != 137 ]]; then
		ok 1 "$f: killed (rc $rc; is vagent built with --enable-fault-injection?)"
	else
		case $f in
		grow-after-backup) state="backup moved, partition $(bytes "$P")" ;;
		grow-after-table) state="table grown, kernel still $(bytes "$P")" ;;
		*) state="kernel told, not yet mounted" ;;
		esac
		mnt "$DEV"
		ok "$([[ $RC == 0 && $(field 2) == own && $(bytes "$P") == $((2046 * MIB)) && $(fs_bytes xfs "$P" "$ROOT$MP") -ge $((2040 * MIB)) && $(uuid_of "$P") == "$UUID" && $(cat "$ROOT$MP/data") == "$f" ]]; echo $?)" \
			"$f: killed ($state); the next run finished: $(field 6), $(field 7)"
	fi
	vag umount "$DEV" >/dev/null 2>&1
	detach "$DEV"
	rm -f "$IMG"
done

# ---- 4. the root filesystem (the filesystem mounted at --root DIR) ----
# root_disk TABLE FS: a 1 GiB image (GPT: an ESP, then the root; DOS: the root alone), random
# boot code, the root made and mounted at $ROOT, a file on it. Sets DEV, RP, IMG, ROOT, SUM.
root_disk() {
	IMG=$W/root-$1-$2.img
	rm -f "$IMG"
	truncate -s 1G "$IMG"
	case $1 in
	gpt) sgdisk -n 1:2048:+100M -t 1:ef00 -c 1:EFI -n 2:0:0 -c 2:root -A 2:set:2 "$IMG" >/dev/null ;;
	dos) printf 'label: dos\nstart=2048, type=83, bootable\n' | sfdisk -q "$IMG" ;;
	esac
	head -c 440 /dev/urandom | dd of="$IMG" conv=notrunc status=none
	attach "$IMG"
	add_parts "$DEV" "$([[ $1 == gpt ]] && echo 2 || echo 1)"
	RP=$(part_of "$DEV" "$([[ $1 == gpt ]] && echo 2 || echo 1)")
	"mkfs.$2" -q "$RP" >/dev/null 2>&1 || "mkfs.$2" -f "$RP" >/dev/null
	ROOT=$W/sys-$1-$2
	mkdir -p "$ROOT"
	mount "$RP" "$ROOT"
	mkdir -p "$ROOT/etc"
	head -c $MIB /dev/urandom >"$ROOT/data"
	SUM=$(sum_of "$ROOT/data")
	printf '[storage]\nenabled = no\n' >"$CONF"
}
# Everything of the table but the root's entry (GPT: the other entries; DOS: the boot code and
# the other slots).
others() { # TABLE DEV
	case $1 in
	gpt) { sgdisk -i 1 "$2"; dd if="$2" bs=446 count=1 status=none | sha256sum; } 2>/dev/null ;;
	dos) { dd if="$2" bs=446 count=1 status=none; dd if="$2" bs=1 skip=462 count=50 status=none; } | sha256sum ;;
	esac
}
for t in gpt dos; do
	for fs in ext4 xfs; do
		root_disk "$t" "$fs"
		OTHERS=$(others "$t" "$DEV")
		B=$(bytes "$RP")
		enlarge "$IMG" 2G
		vag --dry-run mount >"$W/plan" 2>/dev/null
		grep -q "^would grow $ROOT (${RP#/dev/}, $fs) from .* to " "$W/plan"
		ok "$([[ $? == 0 && $(bytes "$RP") == "$B" ]]; echo $?)" "root $t/$fs: the dry run: $(head -n1 "$W/plan")"
		mnt
		S=$(step grow-root)
		case $t in
		gpt) want=$((2047 * MIB - 101 * MIB)) ;; # up to the last MiB before the backup GPT
		dos) want=$((2047 * MIB)) ;;
		esac
		ok "$([[ $(bytes "$RP") == "$want" && $(others "$t" "$DEV") == "$OTHERS" ]]; echo $?)" \
			"root $t/$fs: the partition grew to $(bytes "$RP") bytes, nothing else in the table changed"
		case $t in
		gpt) sgdisk -v "$DEV" 2>&1 | grep -q "No problems found" ;;
		dos) sfdisk -V "$DEV" >/dev/null 2>&1 ;;
		esac
		ok $? "root $t/$fs: the table verifies"
		if can_grow "$fs"; then
			ok "$([[ $S == "changed grew $ROOT (${RP#/dev/}, $fs) from "* && $(fs_bytes "$fs" "$RP" "$ROOT") -ge $((want - MIB)) && $(sum_of "$ROOT/data") == "$SUM" ]]; echo $?)" \
				"root $t/$fs: status grow-root: $S"
			mnt
			S=$(step grow-root)
			ok "$([[ $S == "unchanged $ROOT (${RP#/dev/}, $fs, "*") fills its partition"* ]]; echo $?)" \
				"root $t/$fs: a second run: $S"
		else
			ok "$([[ $S == "failed the partition grew, but growing the ext4"* ]]; echo $?)" \
				"root $t/$fs: without CAP_SYS_RESOURCE the step says what failed: $S"
			skip "root $t/$fs: the filesystem grew online" "$NOCAP"
		fi
		umount "$ROOT"
		detach "$DEV"
		rm -f "$IMG"
	done
done

# btrfs on the last GPT partition, and XFS on a whole disk.
root_disk gpt btrfs
enlarge "$IMG" 2G
mnt
S=$(step grow-root)
ok "$([[ $S == "changed grew $ROOT (${RP#/dev/}, btrfs) from "* && $(fs_bytes btrfs "$RP" "$ROOT") -ge $((1945 * MIB)) && $(sum_of "$ROOT/data") == "$SUM" ]]; echo $?)" \
	"root gpt/btrfs: $S"
umount "$ROOT"
detach "$DEV"
IMG=$W/whole.img
truncate -s 600M "$IMG"
attach "$IMG"
mkfs.xfs -q "$DEV"
ROOT=$W/sys-whole
mkdir -p "$ROOT"
mount "$DEV" "$ROOT"
enlarge "$IMG" 1200M
mnt
S=$(step grow-root)
ok "$([[ $S == "changed grew $ROOT (${DEV#/dev/}, xfs) from 600 MiB to 1.2 GiB (the whole disk)" ]]; echo $?)" \
	"root on a whole disk: $S"
umount "$ROOT"
detach "$DEV"

# A kill between the table and the filesystem: the next boot finishes.
for f in grow-after-table grow-after-kernel; do
	root_disk gpt xfs
	enlarge "$IMG" 2G
	VAGENT_FAULT=$f vag mount >/dev/null 2>&1
	rc=$?
	mnt
	S=$(step grow-root)
	ok "$([[ $rc == 137 && $S == "changed grew $ROOT"* && $(bytes "$RP") == $((1946 * MIB)) && $(fs_bytes xfs "$RP" "$ROOT") -ge $((1940 * MIB)) ]]; echo $?)" \
		"root, killed at $f (rc $rc): the next run: $S"
	umount "$ROOT"
	detach "$DEV"
done

# Not the last partition: not grown, a warning with the reason.
IMG=$W/notlast.img
truncate -s 1G "$IMG"
sgdisk -n 1:2048:+700M -n 2:0:0 -t 2:8200 "$IMG" >/dev/null
attach "$IMG"
add_parts "$DEV" 2
RP=$(part_of "$DEV" 1)
mkfs.xfs -q "$RP"
ROOT=$W/sys-notlast
mkdir -p "$ROOT"
mount "$RP" "$ROOT"
enlarge "$IMG" 2G
OTHERS=$(dd if="$DEV" bs=1M count=1 status=none | sha256sum)
mnt
S=$(step grow-root)
ok "$([[ $S == "skipped warning: not grown: partition 2 follows it on $DEV ("*" unused)" && $(dd if="$DEV" bs=1M count=1 status=none | sha256sum) == "$OTHERS" ]]; echo $?)" \
	"root not on the last partition: $S"
grep -q "The root filesystem was not grown: partition 2 follows it" "$W/stderr"
ok $? "root not on the last partition: a warning in the journal"
# Turned off.
printf '[storage]\nenabled = no\n[grow]\nroot = no\n' >"$CONF"
vag mount >/dev/null 2>&1
ok "$([[ $(step grow-root) == "skipped disabled by [grow] root = no" ]]; echo $?)" "[grow] root = no: $(step grow-root)"
printf '[storage]\nenabled = no\n' >"$CONF"
mkdir -p "$ROOT/etc" && touch "$ROOT/etc/growroot-disabled"
vag mount >/dev/null 2>&1
ok "$([[ $(step grow-root) == "skipped disabled by /etc/growroot-disabled" ]]; echo $?)" "/etc/growroot-disabled: $(step grow-root)"
umount "$ROOT"
detach "$DEV"

# Never this machine's own disk: a bind mount of a directory here as the --root.
ROOT=$W/sys-bind
mkdir -p "$ROOT" "$W/host-dir/etc"
mount --bind "$W/host-dir" "$ROOT"
mnt
S=$(step grow-root)
ok "$([[ $S == "skipped the disk under --root $ROOT, "*", is this machine's own"* || $S == "skipped $ROOT is "*"not handled"* ]]; echo $?)" \
	"a bind mount of this machine's own filesystem: $S"
umount "$ROOT"
# --root that is not a mount point.
ROOT=$W/plain
mkdir -p "$ROOT/etc"
mnt
ok "$([[ $(step grow-root) == "skipped --root $ROOT is not a mount point"* ]]; echo $?)" "--root not a mount point: $(step grow-root)"
# `vagent mount DEV` (the hotplug path) never runs the root step.
IMG=$W/one.img
truncate -s 256M "$IMG"
attach "$IMG"
printf '[storage]\n' >"$CONF"
rm -rf "$ROOT/run"
mnt --dry-run "$DEV"
vag --dry-run mount "$DEV" 2>&1 | grep -q "grow-root"
ok "$([[ $? != 0 ]]; echo $?)" "mount DEV: no grow-root step"

tap_done
