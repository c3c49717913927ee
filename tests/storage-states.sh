# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# storage-states.sh: a library (source it) that builds every disk state of
# design/blank-disk.md on sparse image files and loop devices, for the probe tests and the
# later `vagent mount` integration tests. mk_state NAME IMG writes the state into IMG and checks
# that it really exists (blkid -p, sgdisk, byte checks); st_attach NAME IMG attaches it the way
# the state needs (read-only, mounted, swap on, partition node) and sets ST_DEV to the device
# to test. Functions return results in globals (ST_DEV, ST_TMP), never through $(...), so that
# what they attach is recorded in this shell: st_cleanup (install it with `trap st_cleanup
# EXIT`) swaps off, unmounts and detaches all of it.
#
# This machine's kernel has no partition-table parsers (CONFIG_EFI_PARTITION and
# CONFIG_MSDOS_PARTITION are off), so `losetup -P` creates no partition nodes; st_attach runs
# `partx -a` (BLKPG, what libparted does too) so the kernel lists the partitions as a cloud
# kernel would. Needs root, util-linux, e2fsprogs, xfsprogs,
# btrfs-progs, dosfstools, gdisk, parted, lvm2, cryptsetup-bin, python3.

ST_LOOPS=()
ST_MOUNTS=()
ST_SWAPS=()
ST_TMPDIRS=()
ST_MIB=$((1024 * 1024))
# pvcreate without udev and without the Debian 12 devices file.
ST_LVM_CONFIG='devices { use_devicesfile=0 } activation { udev_sync=0 udev_rules=0 } global { use_lvmetad=0 }'

st_log() { echo "# $*" >&2; }
st_die() { echo "storage-states: $*" >&2; return 1; }

# Every state: name and the verdict probe_device() must give (config: ext4, require-zeros).
ST_STATES="
blank blank
own-pending own
own-pending-ext4 own
own-done own
own-done-xfs own
gpt-empty has-data
gpt-foreign-part has-data
mbr-empty has-data
mbr-part has-data
ext4 has-data
xfs has-data
btrfs has-data
vfat has-data
swap has-data
lvm-pv has-data
luks2 has-data
luks2-secondary has-data
md-1.0 has-data
md-1.2 has-data
gpt-ext4-part has-data
lvm-in-part has-data
orphan-ext4 has-data
backup-gpt-only has-data
own-wrong-range has-data
own-two-parts has-data
own-done-empty has-data
own-pending-xfs has-data
own-foreign-name has-data
own-orphan-in-gap has-data
own-md-at-end has-data
ambivalent has-data
unknown-data unknown-data
unknown-data-tail unknown-data
mounted-ext4 in-use
active-swap in-use
mounted-part in-use
read-only unsupported
partition-node unsupported
tiny unsupported
"

st_state_names() { awk 'NF == 2 { print $1 }' <<<"$ST_STATES"; }
st_expected() { awk -v n="$1" '$1 == n { print $2 }' <<<"$ST_STATES"; }

# Image size for a state, in MiB.
st_size_mib() {
	case "$1" in
	xfs | own-done-xfs | own-pending-xfs | ambivalent) echo 512 ;;
	tiny) echo 1 ;;
	*) echo 256 ;;
	esac
}

# losetup wrapper that records the device for st_cleanup and sets ST_DEV.
st_losetup() {
	ST_DEV=$(losetup -f --show "$@") || return 1
	ST_LOOPS+=("$ST_DEV")
	# Partitions added with BLKPG by an earlier user of this loop device outlive its binding
	# (another test's, on a machine that runs several suites at once).
	partx -d "$ST_DEV" 2>/dev/null || true
}

st_detach() {
	local dev=$1 i
	losetup -d "$dev" || return 1
	for i in "${!ST_LOOPS[@]}"; do
		[[ ${ST_LOOPS[$i]} == "$dev" ]] && unset 'ST_LOOPS[i]'
	done
	return 0
}

# A temporary directory in ST_TMP, removed by st_cleanup.
st_mktemp_dir() {
	ST_TMP=$(mktemp -d /tmp/vagent-st.XXXXXX) || return 1
	ST_TMPDIRS+=("$ST_TMP")
}

st_cleanup() {
	local m s l d
	for s in "${ST_SWAPS[@]}"; do swapoff "$s" 2>/dev/null; done
	for ((m = ${#ST_MOUNTS[@]} - 1; m >= 0; m--)); do umount "${ST_MOUNTS[$m]}" 2>/dev/null; done
	for l in "${ST_LOOPS[@]}"; do losetup -d "$l" 2>/dev/null; done
	for d in "${ST_TMPDIRS[@]}"; do rm -rf "$d"; done
	ST_SWAPS=()
	ST_MOUNTS=()
	ST_LOOPS=()
	ST_TMPDIRS=()
}

# Run CMD... on a loop device covering IMG from byte OFF for SIZE bytes ("{}" is replaced by
# the device), then detach it.
st_on_range() {
	local img=$1 off=$2 size=$3 dev rc a args=()
	shift 3
	st_losetup -o "$off" --sizelimit "$size" "$img" || return 1
	dev=$ST_DEV
	for a in "$@"; do args+=("${a//\{\}/$dev}"); done
	"${args[@]}" >/dev/null 2>&1
	rc=$?
	st_detach "$dev"
	return $rc
}

# Sectors of the own partition [start, end] (inclusive, 512-byte sectors) for IMG:
# 1 MiB .. last 1 MiB boundary before the backup GPT (header + 128 x 128-byte entries).
st_own_range() {
	local bytes end
	bytes=$(stat -c %s "$1")
	end=$(((bytes - 512 - 16384) / ST_MIB * ST_MIB))
	echo "2048 $((end / 512 - 1))"
}

st_gpt_own() { # IMG NAME [END_SECTOR]
	local s e
	read -r s e < <(st_own_range "$1")
	sgdisk -o -n "1:$s:${3:-$e}" -t 1:8300 -c "1:$2" "$1" >/dev/null || return 1
}

st_part_bytes() { # IMG -> "offset size" of GPT partition 1 in bytes
	local start size
	start=$(sgdisk -i 1 "$1" | awk '/^First sector/ { print $3 }')
	size=$(sgdisk -i 1 "$1" | awk '/^Partition size/ { print $3 }')
	echo "$((start * 512)) $((size * 512))"
}

st_mkfs_part() { # IMG MKFS-ARGV...
	local img=$1 off size
	shift
	read -r off size < <(st_part_bytes "$img")
	st_on_range "$img" "$off" "$size" "$@" || st_die "$* on partition of $img failed"
}

# A valid md 1.x superblock (RAID1, 2 devices) at byte OFFSET of IMG (libblkid checks magic,
# major version, super_offset == OFFSET/512 and sb_csum).
st_write_md1() {
	python3 - "$1" "$2" "$3" <<'EOF'
import os, struct, sys, time
img, off, minor = sys.argv[1], int(sys.argv[2]), sys.argv[3]
size = os.path.getsize(img)
max_dev = 128
sb = bytearray(256 + 2 * max_dev)
data_offset = 2048 if minor == "1.2" else 0
data_size = (size // 512 - 2048 - 16) if minor == "1.2" else (off // 512 - 8)
struct.pack_into("<IIII", sb, 0, 0xa92b4efc, 1, 0, 0)
sb[16:32] = os.urandom(16)
sb[32:64] = b"vagent-test:0".ljust(32, b"\0")
now = int(time.time())
struct.pack_into("<QIIQII", sb, 64, now, 1, 0, data_size, 0, 2)
struct.pack_into("<QQQQ", sb, 128, data_offset, data_size, off // 512, 0)
struct.pack_into("<II", sb, 160, 0, 0)
sb[168:184] = os.urandom(16)
struct.pack_into("<QQQ", sb, 192, now, 1, 0xffffffffffffffff)
struct.pack_into("<II", sb, 216, 0, max_dev)
for i in range(max_dev):
    struct.pack_into("<H", sb, 256 + 2 * i, i if i < 2 else 0xffff)
csum = sum(struct.unpack_from("<%dI" % (len(sb) // 4), sb))
csum = (csum & 0xffffffff) + (csum >> 32)
struct.pack_into("<I", sb, 216, csum & 0xffffffff)
with open(img, "r+b") as f:
    f.seek(off)
    f.write(sb)
EOF
}

# blkid -p on IMG (optionally at offset) must report KEY=VALUE.
st_verify_blkid() { # IMG KEY VALUE [OFFSET]
	local out
	out=$(blkid -p -o export ${4:+-O "$4"} "$1" 2>/dev/null)
	grep -qx "$2=$3" <<<"$out" || st_die "state check: blkid -p ${4:+-O $4 }$1 lacks $2=$3 (got: $(tr '\n' ' ' <<<"$out"))"
}

# blkid -p on IMG must find nothing at all.
st_verify_no_blkid() {
	local rc=0
	blkid -p "$1" >/dev/null 2>&1 || rc=$?
	[[ $rc == 2 ]] || st_die "state check: blkid -p $1 found something (rc $rc)"
}

st_verify_gpt_name() { # IMG NAME
	sgdisk -i 1 "$1" 2>/dev/null | grep -q "^Partition name: '$2'$" ||
		st_die "state check: partition 1 of $1 is not named $2"
}

st_bytes_at() { # IMG OFFSET LEN -> hex
	od -An -tx1 -j "$2" -N "$3" "$1" | tr -d ' \n'
}

# Write state NAME into IMG (created or truncated) and verify it.
mk_state() {
	local name=$1 img=$2 dev off size s e tmp
	rm -f "$img"
	truncate -s "$(st_size_mib "$name")M" "$img" || return 1
	case "$name" in
	blank | tiny | read-only)
		[[ $(st_bytes_at "$img" 0 16) == 00000000000000000000000000000000 ]] || return 1
		;;
	gpt-empty)
		sgdisk -o "$img" >/dev/null && st_verify_blkid "$img" PTTYPE gpt ;;
	gpt-foreign-part)
		sgdisk -o -n 1:2048:0 -t 1:8300 -c 1:data "$img" >/dev/null &&
			st_verify_blkid "$img" PTTYPE gpt && st_verify_gpt_name "$img" data ;;
	mbr-empty)
		parted -s "$img" mklabel msdos 2>/dev/null && st_verify_blkid "$img" PTTYPE dos ;;
	mbr-part | mounted-part | partition-node)
		parted -s "$img" mklabel msdos mkpart primary ext4 1MiB 100% 2>/dev/null &&
			st_verify_blkid "$img" PTTYPE dos || return 1
		if [[ $name != mbr-part ]]; then
			st_on_range "$img" "$ST_MIB" $((255 * ST_MIB)) mkfs.ext4 -q -F \
				-E lazy_itable_init=0,lazy_journal_init=0 '{}' &&
				st_verify_blkid "$img" TYPE ext4 "$ST_MIB"
		fi
		;;
	ext4 | mounted-ext4)
		# No lazy init: a mounted state must not write in the background while hashed.
		mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$img" &&
			st_verify_blkid "$img" TYPE ext4 ;;
	xfs)
		mkfs.xfs -q -f "$img" && st_verify_blkid "$img" TYPE xfs ;;
	btrfs)
		mkfs.btrfs -q -f "$img" >/dev/null && st_verify_blkid "$img" TYPE btrfs ;;
	vfat)
		mkfs.vfat "$img" >/dev/null && st_verify_blkid "$img" TYPE vfat ;;
	swap | active-swap)
		mkswap "$img" >/dev/null 2>&1 && st_verify_blkid "$img" TYPE swap ;;
	lvm-pv)
		st_on_range "$img" 0 $((256 * ST_MIB)) pvcreate -q --config "$ST_LVM_CONFIG" '{}' &&
			st_verify_blkid "$img" TYPE LVM2_member ;;
	luks2 | luks2-secondary)
		st_mktemp_dir || return 1
		tmp=$ST_TMP
		head -c 32 /dev/urandom >"$tmp/key"
		cryptsetup luksFormat -q --type luks2 --key-file "$tmp/key" --pbkdf pbkdf2 \
			--pbkdf-force-iterations 1000 "$img" >/dev/null 2>&1 &&
			st_verify_blkid "$img" TYPE crypto_LUKS && st_verify_blkid "$img" VERSION 2 ||
			return 1
		if [[ $name == luks2-secondary ]]; then
			# Primary header gone; the secondary at 16 KiB survives (newer safeprobe
			# skips it, the enumeration does not).
			dd if=/dev/zero of="$img" bs=4096 count=4 conv=notrunc status=none &&
				wipefs "$img" | grep -q '^[^ ]* *0x4000 *crypto_LUKS' ||
				st_die "state check: no secondary LUKS2 header at 0x4000 in $img"
		fi ;;
	md-1.0)
		# 1.0: at the end, 8 KiB before it, aligned down to 4 KiB.
		size=$(stat -c %s "$img")
		off=$(((size - 8192) / 4096 * 4096))
		st_write_md1 "$img" "$off" 1.0 && st_verify_blkid "$img" TYPE linux_raid_member &&
			st_verify_blkid "$img" VERSION 1.0 ;;
	md-1.2)
		st_write_md1 "$img" 4096 1.2 && st_verify_blkid "$img" TYPE linux_raid_member &&
			st_verify_blkid "$img" VERSION 1.2 ;;
	gpt-ext4-part)
		sgdisk -o -n 1:2048:0 -t 1:8300 "$img" >/dev/null && st_mkfs_part "$img" mkfs.ext4 -q -F '{}' &&
			st_verify_blkid "$img" PTTYPE gpt && st_verify_blkid "$img" TYPE ext4 "$ST_MIB" ;;
	lvm-in-part)
		sgdisk -o -n 1:2048:0 -t 1:8e00 "$img" >/dev/null &&
			st_mkfs_part "$img" pvcreate -q --config "$ST_LVM_CONFIG" '{}' &&
			st_verify_blkid "$img" TYPE LVM2_member "$ST_MIB" ;;
	orphan-ext4)
		# GPT + partition + ext4, then the first MiB and the backup GPT zeroed.
		sgdisk -o -n 1:2048:0 -t 1:8300 "$img" >/dev/null && st_mkfs_part "$img" mkfs.ext4 -q -F '{}' || return 1
		size=$(stat -c %s "$img")
		dd if=/dev/zero of="$img" bs=1M count=1 conv=notrunc status=none &&
			dd if=/dev/zero of="$img" bs=512 seek=$((size / 512 - 34)) count=34 conv=notrunc status=none &&
			st_verify_no_blkid "$img" && st_verify_blkid "$img" TYPE ext4 "$ST_MIB" ;;
	backup-gpt-only)
		sgdisk -o -n 1:2048:0 -t 1:8300 "$img" >/dev/null &&
			dd if=/dev/zero of="$img" bs=1M count=1 conv=notrunc status=none || return 1
		size=$(stat -c %s "$img")
		[[ $(st_bytes_at "$img" $((size - 512)) 8) == 4546492050415254 ]] &&
			[[ $(st_bytes_at "$img" 512 8) == 0000000000000000 ]] ||
			st_die "state check: backup GPT header missing or primary present" ;;
	own-pending)
		st_gpt_own "$img" vagent-pending && st_verify_gpt_name "$img" vagent-pending ;;
	own-pending-ext4 | own-done | own-done-empty)
		st_gpt_own "$img" vagent-pending || return 1
		if [[ $name != own-done-empty ]]; then
			st_mkfs_part "$img" mkfs.ext4 -q -F '{}' && st_verify_blkid "$img" TYPE ext4 "$ST_MIB" || return 1
		fi
		if [[ $name != own-pending-ext4 ]]; then
			sgdisk -c 1:vagent-done "$img" >/dev/null && st_verify_gpt_name "$img" vagent-done || return 1
		fi ;;
	own-done-xfs | own-pending-xfs)
		st_gpt_own "$img" vagent-pending && st_mkfs_part "$img" mkfs.xfs -q -f '{}' &&
			st_verify_blkid "$img" TYPE xfs "$ST_MIB" || return 1
		if [[ $name == own-done-xfs ]]; then
			sgdisk -c 1:vagent-done "$img" >/dev/null && st_verify_gpt_name "$img" vagent-done
		fi ;;
	own-wrong-range)
		# Our marker, but the partition ends at the last usable sector (not aligned).
		st_gpt_own "$img" vagent-pending 0 && st_verify_gpt_name "$img" vagent-pending ;;
	own-two-parts)
		read -r s e < <(st_own_range "$img")
		sgdisk -o -n "1:$s:$((e - 4096))" -c 1:vagent-pending -n "2:$((e - 4095)):$e" "$img" >/dev/null &&
			st_verify_gpt_name "$img" vagent-pending ;;
	own-foreign-name)
		st_gpt_own "$img" data && st_verify_gpt_name "$img" data ;;
	own-orphan-in-gap)
		# An exact own-pending table plus an ext4 superblock in the unpartitioned first MiB
		# (at 63 * 512 + 1024): only the orphan windows can see it.
		st_gpt_own "$img" vagent-pending || return 1
		st_mktemp_dir || return 1
		tmp=$ST_TMP
		truncate -s 1M "$tmp/small" && mkfs.ext4 -q -F "$tmp/small" >/dev/null 2>&1 &&
			dd if="$tmp/small" of="$img" bs=512 seek=63 count=8 conv=notrunc status=none &&
			st_verify_blkid "$img" TYPE ext4 $((63 * 512)) && st_verify_blkid "$img" PTTYPE gpt ;;
	own-md-at-end)
		# An exact own-done table and ext4, plus an md 1.0 superblock in the tail gap.
		st_gpt_own "$img" vagent-done && st_mkfs_part "$img" mkfs.ext4 -q -F '{}' || return 1
		size=$(stat -c %s "$img")
		off=$(((size - 8192) / 4096 * 4096))
		st_write_md1 "$img" "$off" 1.0 && st_verify_blkid "$img" TYPE linux_raid_member ;;
	ambivalent)
		# XFS plus a valid ext4 superblock at 1024: safeprobe cannot choose.
		st_mktemp_dir || return 1
		tmp=$ST_TMP
		mkfs.xfs -q -f "$img" && truncate -s 256M "$tmp/e" && mkfs.ext4 -q -F "$tmp/e" &&
			dd if="$tmp/e" of="$img" bs=1024 skip=1 seek=1 count=1 conv=notrunc status=none ||
			return 1
		local rc=0
		blkid -p "$img" >/dev/null 2>&1 || rc=$?
		[[ $rc == 8 ]] || st_die "state check: blkid -p $img is not ambivalent (rc $rc)" ;;
	unknown-data)
		dd if=/dev/urandom of="$img" bs=4096 count=1 seek=$((5 * 256)) conv=notrunc status=none &&
			st_verify_no_blkid "$img" ;;
	unknown-data-tail)
		size=$(stat -c %s "$img")
		dd if=/dev/urandom of="$img" bs=4096 count=1 seek=$((size / 4096 - 300)) conv=notrunc status=none &&
			st_verify_no_blkid "$img" ;;
	*)
		st_die "unknown state '$name'" ;;
	esac
}

# Attach IMG (made by mk_state NAME) as the state needs; ST_DEV is the device to probe.
st_attach() {
	local name=$1 img=$2 dev
	case "$name" in
	read-only)
		st_losetup -r "$img" || return 1
		[[ $(cat "/sys/block/${ST_DEV#/dev/}/ro") == 1 ]] ||
			st_die "state check: $ST_DEV is not read-only" || return 1
		;;
	*)
		st_losetup -P "$img" || return 1
		;;
	esac
	dev=$ST_DEV
	# Make the kernel list the partitions if its own scan did not (see the top).
	if [[ -z $(st_kernel_parts "$dev") ]] && blkid -p -s PTTYPE "$dev" >/dev/null 2>&1; then
		partx -a "$dev" 2>/dev/null
	fi
	case "$name" in
	mounted-ext4)
		st_mktemp_dir && mount "$dev" "$ST_TMP" && ST_MOUNTS+=("$ST_TMP") || return 1
		findmnt -n "$ST_TMP" >/dev/null || st_die "state check: $ST_TMP not mounted" || return 1
		;;
	active-swap)
		swapon "$dev" && ST_SWAPS+=("$dev") || return 1
		grep -q "^$dev " /proc/swaps || st_die "state check: $dev not in /proc/swaps" || return 1
		;;
	mounted-part | partition-node)
		[[ -b ${dev}p1 ]] || st_die "state check: kernel lists no ${dev}p1" || return 1
		if [[ $name == mounted-part ]]; then
			st_mktemp_dir && mount "${dev}p1" "$ST_TMP" && ST_MOUNTS+=("$ST_TMP") || return 1
		else
			dev=${dev}p1
		fi
		;;
	esac
	ST_DEV=$dev
}

# Kernel names of the partitions the kernel lists for DEV (from sysfs).
st_kernel_parts() {
	local d
	for d in "/sys/class/block/${1#/dev/}"/*/; do
		[[ -f $d/partition ]] && basename "$d"
	done
}
