#!/bin/bash
# SPDX-License-Identifier: MIT
# build-image.sh: build (once) and cache the Debian 12 guest used by the VM end-to-end test.
#
# Output, in the cache directory printed on stdout:
#   rootfs/      the guest's root tree (debootstrap minbase + the packages below, configured)
#   vmlinux      the kernel, unpacked from the bzImage (boots faster under TCG), or the bzImage
#   initrd.img   a tiny busybox initrd that loads virtio_pci/virtio_blk and mounts /dev/vda
#   kver         the kernel version
# The cache is keyed on the package list, the mirror and IMAGE_REV: any change rebuilds.
# Cache root: $VAGENT_VM_CACHE, else $XDG_CACHE_HOME/vagent-vm, else /var/cache/vagent-vm.
# Needs root, debootstrap, lz4 (optional) and the Debian mirror apt uses on this machine.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE_ROOT=${VAGENT_VM_CACHE:-${XDG_CACHE_HOME:-/var/cache}/vagent-vm}
SUITE=bookworm

# The runtime dependencies of the .deb are pre-installed so that a run only needs `dpkg -i`.
PACKAGES="systemd-sysv udev kmod iproute2 openssh-server e2fsprogs xfsprogs parted
linux-image-cloud-amd64 busybox-static libcurl4 libjson-c5 libparted2 libblkid1 libsystemd0
libyaml-0-2 util-linux"
PACKAGES=$(echo $PACKAGES)

log() { echo "build-image: $*" >&2; }

# The mirror apt uses here (deb822 "URIs:" or a one-line "deb URL SUITE"), Debian main only.
find_mirror() {
	local f m
	if [ -n "${VAGENT_VM_MIRROR:-}" ]; then
		echo "$VAGENT_VM_MIRROR"
		return
	fi
	for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		m=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }
			 /^deb / { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }' "$f")
		if [ -n "$m" ]; then
			echo "${m%/}"
			return
		fi
	done
	echo "build-image: no Debian mirror found in /etc/apt/sources.list*" >&2
	return 1
}

MIRROR=$(find_mirror)
# Bump IMAGE_REV when the guest configuration below changes.
IMAGE_REV=1
KEY=$(echo "$SUITE $MIRROR $PACKAGES $IMAGE_REV" | sha256sum | cut -c1-16)
OUT="$CACHE_ROOT/$KEY"
if [ -e "$OUT/complete" ]; then
	log "cached image $OUT"
	echo "$OUT"
	exit 0
fi

command -v debootstrap >/dev/null || { log "debootstrap is not installed"; exit 1; }
mkdir -p "$CACHE_ROOT"
TMP=$(mktemp -d "$CACHE_ROOT/build.XXXXXX")
trap 'umount -R "$TMP/rootfs/proc" 2>/dev/null || true; rm -rf "$TMP"' EXIT
R="$TMP/rootfs"
t0=$(date +%s)
log "debootstrap $SUITE from $MIRROR into $R"
debootstrap --variant=minbase --include="$(echo $PACKAGES | tr ' ' ,)" \
	"$SUITE" "$R" "$MIRROR" >"$TMP/debootstrap.log" 2>&1 || {
	tail -30 "$TMP/debootstrap.log" >&2
	log "debootstrap failed"
	exit 1
}
log "debootstrap done in $(($(date +%s) - t0)) s"

# --- configure the guest ----------------------------------------------------------------------
echo "vmbase" >"$R/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tvmbase\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
	>"$R/etc/hosts"
printf '/dev/vda / ext4 defaults,noatime 0 1\n' >"$R/etc/fstab"
chroot "$R" passwd -d root >/dev/null
echo 'LANG=C.UTF-8' >"$R/etc/default/locale"

# Network: a static address in qemu's 169.254.0.0/16 user network (no DHCP wait); the
# metadata service is on-link at 169.254.169.254 (a qemu guestfwd).
mkdir -p "$R/etc/systemd/network"
cat >"$R/etc/systemd/network/10-vmtest.network" <<'EOF'
[Match]
Name=en* eth*

[Network]
Address=169.254.0.15/16
Gateway=169.254.0.2
LinkLocalAddressing=no
IPv6AcceptRA=no
EOF
chroot "$R" systemctl enable systemd-networkd.service systemd-networkd-wait-online.service >/dev/null 2>&1

# Persistent journal (the shutdown of boot N is read in boot N+1).
mkdir -p "$R/var/log/journal"
mkdir -p "$R/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=persistent\n' >"$R/etc/systemd/journald.conf.d/vmtest.conf"

# What the test does not need: timers, scrubbing, the VGA console getty.
for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service \
	fstrim.timer dpkg-db-backup.timer getty@tty1.service systemd-timesyncd.service \
	man-db.timer; do
	ln -sf /dev/null "$R/etc/systemd/system/$u"
done
# Never start services while installing packages into the tree.
printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d"
chmod 755 "$R/usr/sbin/policy-rc.d"
rm -f "$R/boot/initrd.img-"*
rm -rf "$R/var/cache/apt/archives/"*.deb "$R/var/lib/apt/lists/"*_Packages 2>/dev/null || true

# --- kernel and initrd --------------------------------------------------------------------------
KVER=$(basename "$(ls -d "$R"/lib/modules/*/ | head -1)")
echo "$KVER" >"$TMP/kver"
VMLINUZ="$R/boot/vmlinuz-$KVER"
# The bzImage payload is LZ4 (legacy frame, magic 02 21 4c 18): unpack it, booting the ELF
# saves the in-guest decompression under TCG. Fall back to the bzImage.
off=$(grep -obUaP '\x02\x21\x4c\x18' "$VMLINUZ" 2>/dev/null | head -1 | cut -d: -f1 || true)
if [ -n "$off" ] && command -v lz4 >/dev/null; then
	tail -c +"$((off + 1))" "$VMLINUZ" | lz4 -dc >"$TMP/vmlinux" 2>/dev/null || true
fi
if [ "$(head -c 4 "$TMP/vmlinux" 2>/dev/null | od -An -tx1 | tr -d ' ')" != "7f454c46" ]; then
	log "could not unpack vmlinux; booting the bzImage"
	cp "$VMLINUZ" "$TMP/vmlinux"
fi

# The cloud kernel has NVMe and ext4 built in, virtio_pci and virtio_blk as modules.
I="$TMP/initrd"
mkdir -p "$I"/{bin,sbin,proc,sys,dev,newroot,lib/modules}
cp "$R/bin/busybox" "$I/bin/busybox"
chroot "$R" modprobe -S "$KVER" --show-depends -a virtio_pci virtio_blk 2>/dev/null |
	awk '$1 == "insmod" { print $2 }' | awk '!seen[$0]++' >"$TMP/modlist"
: >"$I/modules"
while read -r m; do
	b=$(basename "$m")
	cp "$R$m" "$I/lib/modules/$b"
	echo "$b" >>"$I/modules"
done <"$TMP/modlist"
cat >"$I/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /modules); do
	case "$m" in
	*.ko.xz) xz -dc /lib/modules/$m >/tmp.ko && insmod /tmp.ko ;;
	*) insmod /lib/modules/$m ;;
	esac
done
root=/dev/vda
for w in $(cat /proc/cmdline); do
	case "$w" in root=/dev/*) root=${w#root=} ;; esac
done
i=0
while [ ! -b "$root" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if ! mount -o ro -t ext4 "$root" /newroot; then
	echo "initrd: cannot mount $root" >/dev/console
	poweroff -f
fi
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/init
EOF
chmod 755 "$I/init"
(cd "$I" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$TMP/initrd.img"

mv "$R" "$TMP/rootfs.tmp" && mkdir -p "$OUT" && rm -rf "$OUT"/* &&
	mv "$TMP/rootfs.tmp" "$OUT/rootfs" &&
	mv "$TMP/vmlinux" "$TMP/initrd.img" "$TMP/kver" "$OUT/" &&
	echo "$PACKAGES" >"$OUT/packages" && touch "$OUT/complete"
# Older images (other keys) are dropped.
for d in "$CACHE_ROOT"/*/; do
	[ "${d%/}" = "$OUT" ] || [ ! -e "$d/complete" ] || rm -rf "${d%/}"
done
log "image built in $(($(date +%s) - t0)) s: $OUT ($(du -sm "$OUT/rootfs" | cut -f1) MB)"
echo "$OUT"
