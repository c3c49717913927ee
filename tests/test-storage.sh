#!/bin/bash
# SPDX-License-Identifier: MIT
# test-storage.sh: root integration test of the storage actions (storage.c and what it drives:
# partition.c, mkfs.c, fstab.c, mount.c) on sparse loop devices under /var/tmp, through
# the real `vagent mount`/`vagent umount` (with --json). Covers: blank ->
# GPT + partition at sector 2048 + ext4 + fstab + mount; re-runs converge without formatting;
# unmount/remount; XFS; EBUSY naming the holder; the storage lock; a has-data disk left
# byte-identical; SIGKILL at every fault point (VAGENT_FAULT, needs a -DVAGENT_FAULT_INJECTION
# build) converging without a second mkfs; timings for 256 MiB and 16 GiB volumes.
# Everything it creates is torn down on exit (mounts, holders, loop devices, images).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
# shellcheck source=lib.sh
. "$top_srcdir/tests/lib.sh"

need_root "loop devices, mkfs and mount"
for t in losetup sfdisk blkid mkfs.ext4 mkfs.xfs findmnt flock sha256sum; do
	command -v "$t" >/dev/null || skip_all "$t is not installed"
done
[ -x "$VAGENT" ] || skip_all "no vagent binary at $VAGENT"
# libparted's GPT module reads past a buffer in its constructor with ASan's strchr interceptor.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}intercept_strchr=0"

W=$(mktemp -d /var/tmp/vagent-storage.XXXXXX)
ROOT=$W/root
LOOPS=()
HOLDERS=()
teardown() {
	local p m l
	for p in "${HOLDERS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	for m in $(findmnt -rn -o TARGET | grep "^$W/" | sort -r); do umount "$m"; done
	for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null; done
	# never rm -rf across a mount that refused to go
	if findmnt -rn -o TARGET | grep -q "^$W/"; then
		echo "# leaving $W: still mounted" >&2
	else
		rm -rf "$W"
	fi
}
on_exit teardown

new_loop() { # SIZE NAME -> prints the device
	truncate -s "$1" "$W/$2.img" && losetup -f --show -P --direct-io=on "$W/$2.img"
}
attach() { # SIZE NAME: sets DEV
	DEV=$(new_loop "$1" "$2") || { echo "Bail out! losetup failed"; exit 1; }
	LOOPS+=("$DEV")
}
# One tab-separated line per volume from `vagent --json`: device verdict action mountpoint uuid
# volume_id result reason (absent fields as "-").
tsv() {
	python3 -c '
import json, sys
for d in json.load(sys.stdin)["devices"]:
    print("\t".join((d.get(k) or "-") for k in
        ("device", "verdict", "action", "mountpoint", "uuid", "volume_id", "result", "reason")))'
}
CONF=$W/vagent.conf
vag() { "$VAGENT" -c "$CONF" --root "$ROOT" "$@"; }
drv() { # drv [--dry-run|--fs T|--lock-timeout S] mount|umount DEVICE...: on failure stderr → TAP
	local rc opts=() conf=""
	while [[ $1 == --* ]]; do
		case $1 in
		--dry-run) opts+=(--dry-run); shift ;;
		--fs) conf+="filesystem = $2"$'\n'; shift 2 ;;
		--lock-timeout) conf+="lock-timeout = $2"$'\n'; shift 2 ;;
		--discard) conf+="discard = yes"$'\n'; shift ;;
		*) echo "drv: unknown $1" >&2; return 2 ;;
		esac
	done
	printf '[storage]\n%s' "$conf" >"$CONF"
	vag --json "${opts[@]}" "$@" 2>"$W/stderr" >"$W/json"
	rc=$?
	tsv <"$W/json"
	[[ $rc == 0 ]] || sed 's/^/# vagent: /' "$W/stderr" >&2
	return $rc
}
safe() { # safe DEV: does `vagent umount DEV` say the disk is safe to detach?
	drv umount "$1" | cut -f7 | grep -q ', safe to detach'
}
field() { # N (1-based) of the report line in $OUT
	cut -f"$1" <<<"$OUT" | head -n1
}
part1() { # DEV -> /dev/<partition 1> from sysfs
	local d
	for d in "/sys/class/block/${1#/dev/}"/*/; do
		[[ -f $d/partition && $(cat "$d/partition") == 1 ]] && echo "/dev/$(basename "$d")"
	done
}
fs_uuid() { blkid -p -s UUID -o value "$1" 2>/dev/null; }
ms() { date +%s%3N; }

mkdir -p "$ROOT/etc"
FOREIGN=$'# static\nUUID=1234\t/\text4\terrors=remount-ro\t0\t1\n\n/dev/sr0 /media/cd udf noauto 0 0'
printf '%s' "$FOREIGN" >"$ROOT/etc/fstab"
chmod 0640 "$ROOT/etc/fstab"

# ---- 1. blank 256 MiB -> ext4, fstab, mounted ----
attach 256M blank
# The human plan, the device's name aside, is tests/expected/mount-dry-run-blank.txt.
printf '[storage]\n' >"$CONF"
vag --dry-run mount "$DEV" 2>/dev/null | sed "s|^$DEV:|/dev/LOOP:|" >"$W/plan.txt"
ok "${PIPESTATUS[0]}" "blank: mount --dry-run succeeds"
diff -u "$top_srcdir/tests/expected/mount-dry-run-blank.txt" "$W/plan.txt" >"$W/plan.diff"
ok $? "blank: the dry-run plan is the expected text"
[ -s "$W/plan.diff" ] && sed 's/^/# /' "$W/plan.diff"
t0=$(ms)
OUT=$(drv mount "$DEV")
rc=$?
t1=$(ms)
ok $rc "blank: mount succeeds"
ok "$([[ $(field 2) == blank && $(field 3) == format-and-mount ]]; echo $?)" \
	"blank: verdict blank, action format-and-mount ($(field 2) $(field 3))"
echo "# format-and-mount of a 256 MiB volume: $((t1 - t0)) ms"
J=$(sfdisk -J "$DEV")
ok "$(python3 -c '
import json,sys
t=json.loads(sys.argv[1])["partitiontable"]
p=t["partitions"]
ok = t["label"]=="gpt" and len(p)==1 and p[0]["start"]==2048 and p[0]["name"]=="vagent-done" \
     and p[0]["type"]=="0FC63DAF-8483-4772-8E79-3D69D8477DE4" and (p[0]["start"]+p[0]["size"])%2048==0
sys.exit(0 if ok else 1)' "$J"; echo $?)" "GPT, one Linux partition at sector 2048, 1 MiB aligned end, named vagent-done"
P=$(part1 "$DEV")
UUID1=$(fs_uuid "$P")
ID=$(field 6)
MP=$(field 4)
ok "$([[ $(blkid -p -s TYPE -o value "$P") == ext4 && $UUID1 == "$(field 5)" ]]; echo $?)" \
	"ext4 on $P with the reported UUID"
ok "$([[ $ID == "$(blkid -p -s PART_ENTRY_UUID -o value "$P")" && $MP == "/mnt/$ID" ]]; echo $?)" \
	"no serial: volume id is the PARTUUID, mount point /mnt/<id>"
LINE="UUID=$UUID1 $MP ext4 defaults,nofail,x-systemd.device-timeout=10s,x-systemd.before=vagent-storage.service,X-vagent.volume=$ID 0 2"
ok "$([[ $(cat "$ROOT/etc/fstab") == "$FOREIGN"$'\n'"$LINE" ]]; echo $?)" \
	"fstab: foreign text byte for byte, newline added, our line appended"
ok "$([[ $(stat -c %a "$ROOT/etc/fstab") == 640 ]]; echo $?)" "fstab mode kept"
ok "$([[ $(findmnt -n -o SOURCE "$ROOT$MP") == "$P" ]]; echo $?)" "mounted at $ROOT$MP"

ok "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
st = {s["name"]: s["result"] for s in d["steps"]}
v = [v for v in d["volumes"] if v["device"] == sys.argv[2]]
sys.exit(0 if st.get("storage") == "changed" and v and v[0]["verdict"] == "blank" else 1)' \
	"$ROOT/run/vagent/status.json" "$DEV"; echo $?)" "status records the storage step and the volume"

# ---- 2. re-runs: own, nothing formatted ----
FSTAB_SUM=$(sha256sum <"$ROOT/etc/fstab")
OUT=$(drv mount "$DEV")
ok $? "second run succeeds"
ok "$([[ $(field 2) == own && $(field 5) == "$UUID1" && $(fs_uuid "$P") == "$UUID1" ]]; echo $?)" \
	"second run: own ($(field 7)), same filesystem UUID"
ok "$([[ $(sha256sum <"$ROOT/etc/fstab") == "$FSTAB_SUM" ]]; echo $?)" "second run: fstab untouched"
step_result() { # STEP: its result in this boot's report
	python3 -c 'import json,sys; print({s["name"]: s["result"] for s in json.load(open(sys.argv[1]))["steps"]}.get(sys.argv[2], "-"))' \
		"$ROOT/run/vagent/status.json" "$1"
}
ok "$([[ $(step_result storage) == unchanged ]]; echo $?)" \
	"second run over the mounted volume: the storage step is unchanged ($(step_result storage))"
OUT=$(drv --dry-run mount "$DEV")
ok "$([[ $? == 0 && $(field 2) == own && $(field 7) == - ]]; echo $?)" "dry run on a mounted own volume"

# ---- 3. unmount, safe to detach, remount ----
OUT=$(drv umount)
ok $? "umount (all of vagent's volumes)"
ok "$( ! findmnt "$ROOT$MP" >/dev/null; echo $?)" "not mounted any more ($(field 7))"
ok "$(safe "$DEV" >/dev/null 2>&1; echo $?)" "device_safe_to_detach: safe"
OUT=$(drv umount)
ok "$([[ $? == 0 && $(field 7) == "not mounted" ]]; echo $?)" "umount again: nothing to do"
OUT=$(drv mount "$DEV")
ok "$([[ $? == 0 && $(field 2) == own && $(field 7) == mounted && $(fs_uuid "$P") == "$UUID1" ]]; echo $?)" \
	"unmounted own volume: remounted, not formatted"
ok "$([[ $(findmnt -n -o SOURCE "$ROOT$MP") == "$P" ]]; echo $?)" "remounted at $ROOT$MP"
ok "$([[ $(step_result storage) == changed ]]; echo $?)" "remount: the storage step is changed"

# ---- 4. busy: a process holds the mount ----
(cd "$ROOT$MP" && exec sleep 600) &
HOLDER=$!
HOLDERS+=("$HOLDER")
sleep 0.2
OUT=$(drv umount "$DEV")
rc=$?
ok "$([[ $rc != 0 && $(field 7) == busy ]]; echo $?)" "busy volume: umount fails"
ok "$([[ $(field 8) == *"pid $HOLDER (sleep)"* ]]; echo $?)" "the holder is named: $(field 8)"
ok "$(findmnt "$ROOT$MP" >/dev/null; echo $?)" "busy volume stays mounted (no lazy unmount)"
ok "$( ! safe "$DEV" >/dev/null 2>&1; echo $?)" "mounted: not safe to detach"
kill "$HOLDER"
wait "$HOLDER" 2>/dev/null
OUT=$(drv umount "$DEV")
ok "$([[ $? == 0 && $(field 7) == *"safe to detach"* ]]; echo $?)" "umount DEV after the holder left: $(field 7)"

# ---- 5. the storage lock ----
mkdir -p "$ROOT/run/vagent"
(exec 9>"$ROOT/run/vagent/storage.lock" && flock 9 && exec sleep 30) &
LOCKER=$!
HOLDERS+=("$LOCKER")
sleep 0.2
t0=$(ms)
OUT=$(drv --lock-timeout 1s mount "$DEV")
rc=$?
t1=$(ms)
ok "$([[ $rc != 0 ]] && grep -q "another vagent is working on storage" "$W/stderr"; echo $?)" \
	"lock held: gives up after $((t1 - t0)) ms: $(head -c 150 "$W/stderr")"
ok "$( ! findmnt "$ROOT$MP" >/dev/null; echo $?)" "lock held: nothing done"
kill "$LOCKER"
wait "$LOCKER" 2>/dev/null

# ---- 6. XFS by config, 512 MiB ----
attach 512M xfs
OUT=$(drv --fs xfs mount "$DEV")
ok $? "xfs: mount succeeds"
PX=$(part1 "$DEV")
ok "$([[ $(blkid -p -s TYPE -o value "$PX") == xfs && $(findmnt -n -o FSTYPE "$ROOT$(field 4)") == xfs ]]; echo $?)" \
	"xfs made and mounted"
ok "$(grep -q "^UUID=$(field 5) $(field 4) xfs defaults,nofail" "$ROOT/etc/fstab"; echo $?)" "xfs fstab line"
ok "$([[ $(blkid -p -s LABEL -o value "$PX") == "$(field 6 | tr -cd 'A-Za-z0-9_-' | head -c 12)" ]]; echo $?)" \
	"xfs label is the volume id cut to 12 bytes"
OUT=$(drv --fs xfs umount "$DEV")
ok "$([[ $? == 0 ]] && safe "$DEV" >/dev/null 2>&1; echo $?)" "xfs: unmounted, safe to detach"

# ---- 7. has-data: ext4 on the whole disk is left byte-identical ----
attach 256M hasdata
mkfs.ext4 -q "$DEV"
SUM=$(sha256sum <"$DEV")
OUT=$(drv --dry-run mount "$DEV")
ok "$([[ $? == 0 && $(field 2) == has-data && $(field 3) == none ]]; echo $?)" "has-data dry run: $(field 8)"
OUT=$(drv mount "$DEV")
ok "$([[ $? == 0 && $(field 2) == has-data && $(field 7) == skipped ]]; echo $?)" "has-data: skipped, not a failure"
ok "$([[ $(sha256sum <"$DEV") == "$SUM" ]]; echo $?)" "has-data: image sha256 identical"

# ---- 8. crash consistency ----
for f in after-gpt during-mkfs after-mkfs after-rename after-fstab; do
	attach 256M "fault-$f"
	printf '[storage]\n' >"$CONF"
	VAGENT_FAULT=$f VAGENT_FAULT_DELAY_MS=2 vag mount "$DEV" >/dev/null 2>"$W/stderr"
	rc=$?
	if [[ $rc != 137 ]]; then
		sed 's/^/# vagent: /' "$W/stderr" >&2
		ok 1 "$f: killed (rc $rc; is vagent built with --enable-fault-injection?)"
		continue
	fi
	PF=$(part1 "$DEV")
	U0=$(fs_uuid "$PF")
	OUT=$(drv mount "$DEV")
	rc=$?
	U1=$(fs_uuid "$PF")
	ok "$([[ $rc == 0 && $(field 2) == own && $(findmnt -n -o SOURCE "$ROOT$(field 4)") == "$PF" ]]; echo $?)" \
		"$f: killed, re-run converges: $(field 3), $(field 7) (${U0:-no fs} -> $U1)"
	case $f in
	after-mkfs | after-rename | after-fstab)
		ok "$([[ -n $U0 && $U0 == "$U1" && $(field 3) == mount ]]; echo $?)" \
			"$f: same filesystem as the first mkfs (never formatted twice)"
		;;
	esac
	ok "$([[ $(sfdisk -J "$DEV" | grep -c '"name": "vagent-done"') == 1 ]]; echo $?)" "$f: partition marked done"
	ok "$([[ $(grep -c "X-vagent.volume=$(field 6) " "$ROOT/etc/fstab") == 1 ]]; echo $?)" "$f: exactly one fstab line"
	drv umount "$DEV" >/dev/null
done
ok "$([[ $(cat "$ROOT/etc/fstab") == "$FOREIGN"$'\n'* ]]; echo $?)" "foreign fstab text still byte for byte"

# ---- 9. timing: 16 GiB sparse volume, ext4, nodiscard (default) vs discard ----
for mode in nodiscard discard; do
	attach 16G "big-$mode"
	t0=$(ms)
	OUT=$(drv $([[ $mode == discard ]] && echo --discard) mount "$DEV")
	rc=$?
	t1=$(ms)
	ok $rc "16 GiB ext4 ($mode): format-and-mount in $((t1 - t0)) ms, image uses $(du -k "$W/big-$mode.img" | cut -f1) KiB"
	python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["devices"][0]["scan"]
sys.exit(0 if s["mode"] == "full" and s["coverage"] == 1.0 else 1)' "$W/json"
	ok $? "16 GiB ($mode): auto read every byte before formatting ($(field 8))"
	echo "# format-and-mount of a 16 GiB sparse volume ($mode): $((t1 - t0)) ms"
	drv umount "$DEV" >/dev/null
done

tap_done
