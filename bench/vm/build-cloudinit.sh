#!/bin/bash
# SPDX-License-Identifier: MIT
# build-cloudinit.sh IMAGE_DIR: the cloud-init variant of the VM test guest for bench/vm-compare.
# Copies IMAGE_DIR/rootfs (tests/vm/build-image.sh's cached Debian 12 tree) and installs
# Debian's cloud-init package into the copy from the mirror the tree's sources.list names
# (no recommends). Cached in $VAGENT_BENCH_CACHE or /var/cache/vagent-bench/<key>, keyed on
# the base image and BENCH_CI_REV; prints the directory holding rootfs/.
# Needs root and the Debian mirror.
set -euo pipefail
IMG=$1
CACHE_ROOT=${VAGENT_BENCH_CACHE:-/var/cache/vagent-bench}
# Bump when the package set below changes.
BENCH_CI_REV=1
KEY=$(echo "$(basename "$IMG") $(cat "$IMG/packages") cloud-init $BENCH_CI_REV" | sha256sum | cut -c1-16)
OUT="$CACHE_ROOT/cloudinit-$KEY"
log() { echo "build-cloudinit: $*" >&2; }
if [ -e "$OUT/complete" ]; then
	log "cached $OUT"
	echo "$OUT"
	exit 0
fi
mkdir -p "$CACHE_ROOT"
TMP=$(mktemp -d "$CACHE_ROOT/build.XXXXXX")
R="$TMP/rootfs"
cleanup() {
	umount "$R/proc" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
t0=$(date +%s)
cp -a "$IMG/rootfs" "$R"
cp /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null || true
mount -t proc proc "$R/proc"
{
	chroot "$R" apt-get update &&
		DEBIAN_FRONTEND=noninteractive chroot "$R" apt-get install -y --no-install-recommends cloud-init
} >"$TMP/apt.log" 2>&1 || {
	tail -30 "$TMP/apt.log" >&2
	log "installing cloud-init failed"
	exit 1
}
umount "$R/proc"
chroot "$R" dpkg-query -W -f '${Version}\n' cloud-init >"$TMP/version"
rm -rf "$R/var/cache/apt/archives/"*.deb "$R/var/lib/apt/lists/"*_Packages 2>/dev/null || true
rm -f "$R/etc/resolv.conf"
mkdir -p "$OUT"
rm -rf "${OUT:?}"/*
mv "$R" "$OUT/rootfs"
mv "$TMP/version" "$OUT/cloud-init-version"
touch "$OUT/complete"
log "built in $(($(date +%s) - t0)) s: $OUT (cloud-init $(cat "$OUT/cloud-init-version"))"
echo "$OUT"
