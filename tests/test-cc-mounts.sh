#!/bin/bash
# SPDX-License-Identifier: MIT
# test-cc-mounts.sh: cloud-config `mounts`, `mount_default_fields` and `swap` (cloud-init's
# cc_mounts) through the real binary, each in a fresh scratch --root against the mock metadata
# service: the fstab lines compared with the ones cloud-init's code writes for the same input
# (worked out from cloudinit/config/cc_mounts.py and written beside each expected line), short
# names on real loop devices with and without a partition (partx -a, as storage-states.sh does),
# removal by a null mount point, escaping, the storage step's volume lines left alone, a real
# swap file (posix_fallocate + the real mkswap, checked with blkid -p), never an existing file
# overwritten, size "auto" with cloud-init's formula, and the per-key status of the dry run.
# Under --root `mount`, `swapon` and `systemctl` are recorded, not run (cc_system_command):
# nothing of the roots is ever swapped on or mounted. Needs root (loop devices, partx).
. "$(dirname "$0")/lib.sh"
need_root "loop devices and partx"
for t in losetup partx sgdisk mkswap blkid; do
	command -v $t >/dev/null || skip_all "$t is not installed"
done
# shellcheck source=tests/storage-states.sh
. "$top_srcdir/tests/storage-states.sh"
on_exit 'for l in "${ST_LOOPS[@]}"; do partx -d "$l"; done; st_cleanup'

CONF="$SCRATCH/vagent.conf"
fast_conf "$CONF" 3s
start_mock
MARK=X-vagent.cloud-config
# cloud-init: defaults,nofail,x-systemd.after=cloud-init-network.service,_netdev
OPTS=defaults,nofail,x-systemd.after=vagent-userdata.service,_netdev
VOL='UUID=5f0e8a2c-0000-4000-8000-000000000001 /mnt/blockstorage ext4 defaults,nofail,x-systemd.device-timeout=10s,x-systemd.before=vagent-storage.service,X-vagent.volume=vol-1 0 2'

new_root() { R="$SCRATCH/root-$1"; make_root "$R"; }
boot() { "$VAGENT" -c "$CONF" --root "$R" --metadata-url "$MOCK_URL" boot --no-storage "$@"; }
ud() { printf '%s\n' "$@" >"$MOCK_UD"; }
key() { # key NAME: "status reason" from this root's status file
	"$PYTHON3" -c 'import json, sys
d = json.load(open(sys.argv[1]))
k = {k["key"]: k for k in d.get("keys", [])}.get(sys.argv[2])
print("%s %s" % (k["status"], k["reason"] or "") if k else "absent")' "$R/run/vagent/status.json" "$1"
}
has_line() { grep -qxF -- "$2" "$R/etc/fstab" || { echo "# fstab:" >&2; sed 's/^/#   /' "$R/etc/fstab" >&2; return 1; }; }

# --- mounts: defaults, names, removal, escaping, refusals ----------------------------------
new_root mounts
printf '%s\t/old\text4\tdefaults,%s\t0\t2\n%s\n' /dev/old1 "$MARK" "$VOL" >>"$R/etc/fstab"
cp "$R/etc/fstab" "$SCRATCH/fstab-before"
ud '#cloud-config' 'mounts:' \
	'  - [xvdq, /data]' \
	'  - [tmpfs, "/mnt/my tmp", tmpfs, "size=10%"]' \
	'  - ["LABEL=backup", /backup, ext4, null, null, "0"]' \
	'  - ["srv:/export", /nfs, nfs]' \
	'  - [xvdr, /first]' \
	'  - [xvdr, null]' \
	'  - [xvds]' \
	'  - [ephemeral0, /mnt]' \
	'  - ["LABEL=x", /mnt/blockstorage]' \
	'  - ["UUID=5f0e8a2c-0000-4000-8000-000000000001", /elsewhere]' \
	'  - not-a-list' \
	'  - [ephemeral1, /mnt/e1]' \
	'  - [ephemeral1, null]'
boot >"$SCRATCH/out" 2>&1
rc=$?
ok "$([ $rc = 1 ] && echo 0 || echo 1)" "mounts: refused entries fail the step (exit 1), got $rc"
# cloud-init: "xvdq\t/data\tauto\t<its options>,comment=cloudconfig\t0\t2" (no such disk: the
# bare name, which nothing can mount); vagent writes /dev/xvdq (mounted once it is attached).
check "mounts: a short name gets /dev/, the default fields are filled" \
	has_line "$R" "$(printf '/dev/xvdq\t/data\tauto\t%s,%s\t0\t2' "$OPTS" "$MARK")"
# cloud-init: "tmpfs\t/mnt/my\040tmp\ttmpfs\tsize=10%,comment=cloudconfig\t0\t2"
check "mounts: tmpfs without /dev/, a space as \\040" \
	has_line "$R" "$(printf 'tmpfs\t/mnt/my\\040tmp\ttmpfs\tsize=10%%,%s\t0\t2' "$MARK")"
# cloud-init: "LABEL=backup\t/backup\text4\t<its options>,comment=cloudconfig\t0\t0"
check "mounts: LABEL= as written, a null field takes the default" \
	has_line "$R" "$(printf 'LABEL=backup\t/backup\text4\t%s,%s\t0\t0' "$OPTS" "$MARK")"
# cloud-init: "srv:/export\t/nfs\tnfs\t<its options>,comment=cloudconfig\t0\t2"
check "mounts: server:/path as written" \
	has_line "$R" "$(printf 'srv:/export\t/nfs\tnfs\t%s,%s\t0\t2' "$OPTS" "$MARK")"
check "mounts: [dev, null] removes the earlier entry of that device, [dev] alone writes none" \
	bash -c "! grep -qE 'xvdr|xvds|/first' '$R/etc/fstab'"
check "mounts: a later [ephemeral1, null] drops [ephemeral1, /mnt/e1] silently" bash -c "
	! grep -q 'mounts\[11\]' '$SCRATCH/out' && ! grep -q /mnt/e1 '$R/etc/fstab'"
check "mounts: ephemeral0 (no such device on Vultr) refused and named" \
	bash -c "grep -q 'mounts\[7\]: the device is a cloud.s name' '$SCRATCH/out' && ! grep -q '/mnt	' '$R/etc/fstab'"
check "mounts: a storage volume's mount point and device refused" bash -c "
	grep -q 'mounts\[8\]: .* would change the storage volume .vol-1.' '$SCRATCH/out' &&
	grep -q 'mounts\[9\]: .* would change the storage volume .vol-1.' '$SCRATCH/out' &&
	! grep -qE 'LABEL=x|/elsewhere' '$R/etc/fstab'"
check "mounts: the volume's line and the foreign lines are kept byte for byte" bash -c "
	grep -vF '$MARK' '$SCRATCH/fstab-before' | cmp -s - <(grep -vF '$MARK' '$R/etc/fstab')"
check "mounts: the previous instance's cloud-config line is replaced" bash -c "! grep -q /dev/old1 '$R/etc/fstab'"
check "mounts: exactly 4 lines of ours" test "$(grep -c "$MARK" "$R/etc/fstab")" = 4
check "mounts: mount points made in the root, none for removed entries" bash -c "
	test -d '$R/data' -a -d '$R/mnt/my tmp' -a -d '$R/backup' -a -d '$R/nfs' -a ! -e '$R/first'"
check "mounts: mount recorded, not run, under --root" grep -q "'mount /data' not run under --root" "$SCRATCH/out"
k=$(key mounts)
ok "$(case $k in "partial 4 of 8 entries written; mounts[10] is not a list"*) echo 0 ;; *) echo 1 ;; esac)" "mounts: status partial: $k"

# --- mount_default_fields -----------------------------------------------------------------
new_root defaults
ud '#cloud-config' 'mount_default_fields: [null, /mnt/default, ext4, "defaults,noatime", "0", "0"]' \
	'mounts:' '  - [xvdq, /d1]' '  - [xvdt]'
boot >"$SCRATCH/out" 2>&1
rc=$?
ok "$([ $rc = 0 ] && echo 0 || echo 1)" "mount_default_fields: exit 0, got $rc"
# cloud-init: "xvdq\t/d1\text4\tdefaults,noatime,comment=cloudconfig\t0\t0"
check "mount_default_fields: fill the missing fields" \
	has_line "$R" "$(printf '/dev/xvdq\t/d1\text4\tdefaults,noatime,%s\t0\t0' "$MARK")"
# cloud-init: the default mount point makes [xvdt] a mount, not a removal
check "mount_default_fields: a default mount point makes [dev] a mount" \
	has_line "$R" "$(printf '/dev/xvdt\t/mnt/default\text4\tdefaults,noatime,%s\t0\t0' "$MARK")"
k=$(key mount_default_fields)
ok "$([ "${k%% *}" = applied ] && echo 0 || echo 1)" "mount_default_fields: status $k"

# --- a disk's first partition, on real loop devices ---------------------------------------
truncate -s 8M "$SCRATCH/part.img" "$SCRATCH/whole.img"
sgdisk -o -n 1:2048:+2M -t 1:8300 "$SCRATCH/part.img" >/dev/null
st_losetup "$SCRATCH/part.img" && L1=$ST_DEV && partx -a "$L1" 2>/dev/null
st_losetup "$SCRATCH/whole.img" && L2=$ST_DEV
for _ in $(seq 50); do [ -b "${L1}p1" ] && break; sleep 0.1; done
new_root parts
ud '#cloud-config' 'mounts:' "  - [$L1, /part, ext4]" "  - [\"$L2\", /whole, ext4]"
boot >"$SCRATCH/out" 2>&1
# cloud-init's sanitize_devname: /sys/block/loopN/loopNp1 exists -> "/dev/loopNp1"
check "mounts: a disk with a partition becomes its first partition (${L1}p1)" \
	has_line "$R" "$(printf '%sp1\t/part\text4\t%s,%s\t0\t2' "$L1" "$OPTS" "$MARK")"
# cloud-init: a disk without partitions stays the disk
check "mounts: a disk without partitions stays the disk ($L2)" \
	has_line "$R" "$(printf '%s\t/whole\text4\t%s,%s\t0\t2' "$L2" "$OPTS" "$MARK")"
new_root parts-foreign
printf '%sp1 /already ext4 defaults 0 0\n' "$L1" >>"$R/etc/fstab"
ud '#cloud-config' 'mounts:' "  - [$L1, /again, ext4]"
boot >"$SCRATCH/out" 2>&1
# cloud-init writes a second line for the device (its original name); vagent leaves it alone
check "mounts: a device with a line that is not vagent's is left alone" bash -c "
	! grep -q /again '$R/etc/fstab' && grep -q 'already has a line in /etc/fstab that is not vagent' '$SCRATCH/out'"
st_cleanup

# --- swap: a real swap file ---------------------------------------------------------------
new_root swap
ud '#cloud-config' 'swap:' '  filename: /swapfile' '  size: 4M'
boot >"$SCRATCH/out" 2>&1
rc=$?
ok "$([ $rc = 0 ] && echo 0 || echo 1)" "swap: exit 0, got $rc"
check "swap: the file, 4 MiB, mode 0600" test "$(stat -c %s:%a "$R/swapfile" 2>/dev/null)" = 4194304:600
check "swap: mkswap made it a swap file (blkid -p)" test "$(blkid -p -o value -s TYPE "$R/swapfile")" = swap
# cloud-init: "/swapfile\tnone\tswap\tsw\t0\t0" (unmarked: a new instance would add another)
check "swap: the fstab line" has_line "$R" "$(printf '/swapfile\tnone\tswap\tsw,%s\t0\t0' "$MARK")"
check "swap: swapon recorded, not run, under --root" grep -q "'swapon /swapfile' not run under --root" "$SCRATCH/out"
k=$(key swap)
ok "$([ "$k" = "applied /swapfile of 4 MiB created" ] && echo 0 || echo 1)" "swap: status $k"
check "swap: no mounts key of its own" test "$(key mounts)" = absent

new_root swap-foreign
printf 'precious data\n' >"$R/swap.img"
ud '#cloud-config' 'swap: {size: 1M}'
boot >"$SCRATCH/out" 2>&1
check "swap: an existing file that is not swap is never overwritten" test "$(cat "$R/swap.img")" = "precious data"
check "swap: and it gets no fstab line" bash -c "! grep -q swap.img '$R/etc/fstab'"
check "swap: the refusal is named" grep -q "'/swap.img' exists and is not a swap file" "$SCRATCH/out"
k=$(key swap)
ok "$([ "${k%% *}" = error ] && echo 0 || echo 1)" "swap: status $k"

new_root swap-reuse
truncate -s 1M "$R/swap.img" && mkswap -q "$R/swap.img" >/dev/null
sum=$(sha256sum <"$R/swap.img")
ud '#cloud-config' 'swap: {size: 2M}'
boot >"$SCRATCH/out" 2>&1
check "swap: an existing swap file is used as it is" test "$(sha256sum <"$R/swap.img")" = "$sum"
check "swap: with its fstab line" has_line "$R" "$(printf '/swap.img\tnone\tswap\tsw,%s\t0\t0' "$MARK")"

# size auto with maxsize: cloud-init's suggested_swapsize() is min(memory-based size, maxsize)
new_root swap-auto
ud '#cloud-config' 'swap: {filename: /var/swap/auto.img, size: auto, maxsize: 8M}'
boot >"$SCRATCH/out" 2>&1
check "swap: size auto with maxsize 8M: 8 MiB, its directory made" test "$(stat -c %s "$R/var/swap/auto.img" 2>/dev/null)" = 8388608

# --- dry run: the plan and the per-key status, nothing written ------------------------------
new_root dry
cp "$R/etc/fstab" "$SCRATCH/fstab-dry"
ud '#cloud-config' 'mounts:' '  - [xvdq, /data]' '  - [ephemeral0, /mnt]' \
	'mount_default_fields: [null, null, auto, "defaults,nofail", "0", "2"]' 'swap: {size: auto}'
"$VAGENT" -c "$CONF" --root "$R" --metadata-url "$MOCK_URL" --dry-run userdata >"$SCRATCH/out" 2>&1
"$VAGENT" -c "$CONF" --root "$R" --metadata-url "$MOCK_URL" --dry-run --json userdata \
	>"$SCRATCH/out.json" 2>/dev/null
# cloud-init's suggested_swapsize(memsize, maxsize=None, fsys=dir of /swap.img)
want=$("$PYTHON3" -c '
import math, os, sys
mem = [int(l.split()[1]) * 1024 for l in open("/proc/meminfo") if l.startswith("MemTotal:")][0]
st = os.statvfs(sys.argv[1]); avail = st.f_frsize * st.f_bfree
GB = 2**30
mx = min(int(avail / 4), mem * 2)
mn = mem if mem < 4 * GB else 4 * GB if mem < 16 * GB else round(math.sqrt(mem / GB)) * GB
print(min(mn, mx) // 2**20)' "$R")
check "dry run: swap auto planned with cloud-init's size ($want MiB)" grep -q "would create /swap.img of $want MiB" "$SCRATCH/out"
check "dry run: nothing written" bash -c "test ! -e '$R/swap.img' && cmp -s '$R/etc/fstab' '$SCRATCH/fstab-dry'"
"$PYTHON3" -c 'import json, sys
for k in json.load(open(sys.argv[1]))["keys"]:
    print(k["key"], k["status"])' "$SCRATCH/out.json" >"$SCRATCH/keys.txt"
check "dry run --json: mounts partial, mount_default_fields and swap applied" test \
	"$(tr '\n' ' ' <"$SCRATCH/keys.txt")" = "mounts partial mount_default_fields applied swap applied "

check "the host's swap and mounts are untouched (nothing of the roots swapped on or mounted)" \
	bash -c "! { cat /proc/swaps; findmnt -rn -o SOURCE,TARGET; } | grep -qF '$SCRATCH/root-'"
tap_done
