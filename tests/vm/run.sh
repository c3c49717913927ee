#!/bin/bash
# SPDX-License-Identifier: MIT
# run.sh: the VM end-to-end test of vagent. Builds (or reuses) a cached Debian 12 guest,
# installs the vagent .deb built from this tree into a fresh root image, boots it with qemu
# (TCG) as a "Vultr" VM with the mock metadata service at 169.254.169.254 and three extra
# disks, and checks from the host what vagent did (see vmtest.py for the scenarios).
#
# Output: TAP (ok / not ok lines, then 1..N). Exit 0 pass, 1 fail, 77 skip (qemu cannot boot).
# Environment:
#   VAGENT_DEB=FILE          use this .deb instead of building one from the tree
#   VAGENT_VM_CACHE=DIR      image cache (default $XDG_CACHE_HOME/vagent-vm or /var/cache/vagent-vm)
#   VAGENT_VM_WORKDIR=DIR    keep the run's files here (default: a temp dir, kept on failure)
#   VAGENT_VM_KEEP=1         keep the work dir even on success
#   VAGENT_VM_APPEND=WORDS   extra kernel command line words (diagnosis only)
# Needs root and the Debian packages: qemu-system-x86 qemu-utils debootstrap busybox-static lz4
# (plus lz4, e2fsprogs, python3; and the .deb build dependencies when VAGENT_DEB is unset).
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
PYTHON3=${PYTHON3:-python3}
T_START=$(date +%s.%N)

say() { echo "# $*"; }
bail() {
	echo "not ok 1 - VM test setup: $*"
	echo "1..1"
	exit 1
}
skip() {
	echo "1..0 # SKIP $*"
	exit 77
}
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

[ "$(id -u)" = 0 ] || skip "needs root (debootstrap, chroot)"
QEMU=$(command -v qemu-system-x86_64) || skip "qemu-system-x86_64 not found (Debian package qemu-system-x86)"
for tool in busybox debootstrap mkfs.ext4 sgdisk partx "$PYTHON3" timeout sha256sum; do
	command -v "$tool" >/dev/null || bail "$tool not found"
done

# --- image ---------------------------------------------------------------------------------
t=$(date +%s.%N)
IMG=$("$HERE/build-image.sh" 2> >(sed 's/^/# /' >&2)) || bail "building the guest image failed"
say "image: $IMG ($(elapsed "$t") s)"

# --- work dir ------------------------------------------------------------------------------
if [ -n "${VAGENT_VM_WORKDIR:-}" ]; then
	W=$VAGENT_VM_WORKDIR
	rm -rf "$W"
	mkdir -p "$W"
else
	W=$(mktemp -d /var/tmp/vagent-vm.XXXXXX)
fi
say "work dir: $W"

# --- the package ---------------------------------------------------------------------------
if [ -n "${VAGENT_DEB:-}" ]; then
	DEB=$(readlink -f "$VAGENT_DEB")
	[ -f "$DEB" ] || bail "VAGENT_DEB=$VAGENT_DEB: no such file"
else
	t=$(date +%s.%N)
	mkdir -p "$W/deb/src"
	tar -C "$TOP" --exclude=./.git --exclude=./tests/vm -cf - . | tar -C "$W/deb/src" -xf - ||
		bail "copying the tree failed"
	(cd "$W/deb/src" && dpkg-buildpackage -us -uc -b) >"$W/deb/build.log" 2>&1 || {
		tail -20 "$W/deb/build.log" | sed 's/^/# /'
		bail "dpkg-buildpackage failed (log: $W/deb/build.log)"
	}
	DEB=$(ls "$W"/deb/vagent_*_amd64.deb 2>/dev/null | head -1)
	[ -n "$DEB" ] || bail "dpkg-buildpackage made no vagent_*.deb"
	rm -rf "$W/deb/src"
	say "built $(basename "$DEB") ($(elapsed "$t") s)"
fi

# --- the root image: cached tree + the .deb + the test collector --------------------------
t=$(date +%s.%N)
R="$W/rootfs"
cp -a "$IMG/rootfs" "$R" || bail "copying the cached tree failed"
cp "$DEB" "$R/tmp/vagent.deb"
if ! chroot "$R" dpkg -i /tmp/vagent.deb >"$W/dpkg.log" 2>&1; then
	# A dependency the cached image lacks: fetch it from the mirror inside the chroot.
	say "dpkg -i failed; trying apt-get -f install in the guest tree"
	# (debootstrap left the mirror it used in the tree's sources.list.)
	cp /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null
	{ chroot "$R" apt-get update && chroot "$R" apt-get -f install -y --no-install-recommends &&
		chroot "$R" dpkg -s vagent | grep -q '^Status: install ok installed'; } >>"$W/dpkg.log" 2>&1 ||
		{ sed 's/^/# /' "$W/dpkg.log"; bail "installing $(basename "$DEB") in the guest failed"; }
fi
rm -f "$R/tmp/vagent.deb"
[ -x "$R/usr/sbin/vagent" ] || bail "the package did not install /usr/sbin/vagent"
# An image built without host keys, as Vultr's Marketplace builder and Debian's cloud images
# leave it: vagent must make them before ssh.service starts.
rm -f "$R"/etc/ssh/ssh_host_*
# No network configuration of its own (issue 13): the package's fallback .network is what
# gets the public NIC its DHCP lease, then vagent writes the metadata's.
rm -f "$R"/etc/systemd/network/*.network
# A neutral initial hostname (vagent must replace it with the metadata's).
echo vmbase >"$R/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tvmbase\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
	>"$R/etc/hosts"
install -m 755 "$HERE/guest/vmtest-collect" "$R/usr/local/sbin/vmtest-collect"
install -m 644 "$HERE/guest/vmtest.service" "$R/etc/systemd/system/vmtest.service"
ln -sf /etc/systemd/system/vmtest.service "$R/etc/systemd/system/multi-user.target.wants/vmtest.service"
install -m 644 "$HERE/guest/vmtest-wait.service" "$R/etc/systemd/system/vmtest-wait.service"
ln -sf /etc/systemd/system/vmtest-wait.service \
	"$R/etc/systemd/system/multi-user.target.wants/vmtest-wait.service"
# The enabled vagent units, for the log.
say "enabled: $(cd "$R/etc/systemd/system" && ls -d */vagent* 2>/dev/null | tr '\n' ' ')"
# The root disk as cloud images have it (issue 12: vagent grows / into a bigger disk): GPT
# with an ESP numbered 15 first and the root on partition 1 (Debian's cloud layout), the root
# filesystem made in place (mkfs.ext4 -E offset), built at 2 GiB and enlarged to 3 GiB, as a
# plan with a bigger disk would boot it. / is /dev/vda1. (A DOS root: tests/test-grow.sh.)
printf '/dev/vda1 / ext4 defaults,noatime 0 1\n' >"$R/etc/fstab"
root_image() { # IMAGE
	local start sectors
	rm -f "$1"
	truncate -s 2G "$1"
	sgdisk -n 15:2048:+8M -t 15:ef00 -n 1:0:0 -t 1:8300 "$1" >/dev/null || return 1
	read -r start sectors < <(partx -g -o START,SECTORS -n 1 "$1") || return 1
	mkfs.ext4 -q -F -L vmroot -E offset=$((start * 512)) -d "$R" "$1" $((sectors / 2))k &&
		truncate -s 3G "$1"
}
root_image "$W/root.img" || bail "making the GPT root image failed"
rm -rf "$R"
say "root image (GPT) with $(basename "$DEB") ($(elapsed "$t") s)"

# --- boots and checks ----------------------------------------------------------------------
"$PYTHON3" "$HERE/vmtest.py" --work "$W" --image "$IMG" --qemu "$QEMU" \
	--mock "$TOP/tests/mock-metadata.py" --document "$HERE/metadata.json"
rc=$?
say "VM suite total: $(elapsed "$T_START") s (rc $rc)"
if [ $rc = 0 ] && [ -z "${VAGENT_VM_KEEP:-}" ] && [ -z "${VAGENT_VM_WORKDIR:-}" ]; then
	rm -rf "$W"
else
	say "kept $W (serial logs: $W/boot-*/serial.log, results: $W/boot-*/results/)"
fi
exit $rc
