#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test-probe-states.sh: TAP test of probe_device() over every disk state of
# design/blank-disk.md (tests/storage-states.sh): for each state the image is built and
# verified, attached to a loop device, probed with tests/probe-verdict, and the verdict must be
# the expected one while the sha256 of the whole image stays identical. Needs root (exit 77
# otherwise). PROBE_VERDICT names the helper binary; STATES limits the run to some states.
set -u

here=$(cd "$(dirname "$0")" && pwd)
probe=${PROBE_VERDICT:-$here/probe-verdict}

if [[ $(id -u) != 0 ]]; then
	echo "1..0 # SKIP needs root (loop devices, mount, swapon)"
	exit 77
fi
if [[ ! -x $probe ]]; then
	echo "Bail out! $probe not built"
	exit 99
fi

# shellcheck source=storage-states.sh
. "$here/storage-states.sh"

work=$(mktemp -d "${TMPDIR:-/var/tmp}/vagent-probe.XXXXXX") || exit 99
cleanup() {
	st_cleanup
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Every state with the default configuration, then a few with other options.
cases=()
for name in ${STATES:-$(st_state_names)}; do
	cases+=("$name||$(st_expected "$name")")
done
if [[ -z ${STATES:-} ]]; then
	cases+=(
		"unknown-data|--no-zeros|blank"
		"blank|--auto|unsupported"
		"blank|--min-size=1073741824|unsupported"
		"own-pending|--fs=xfs|own"
		"own-pending-ext4|--fs=xfs|has-data"
		"own-done|--fs=xfs|own"
	)
fi

# The disk behind / must be in-use (never probed as a candidate).
root_disk=
src=$(findmnt -no SOURCE / 2>/dev/null)
if [[ -b $src ]]; then
	parent=$(lsblk -no PKNAME "$src" 2>/dev/null | head -n1)
	root_disk=${parent:+/dev/$parent}
	root_disk=${root_disk:-$src}
fi

n=0
fail=0
echo "1..$((${#cases[@]} + 1))"
for c in "${cases[@]}"; do
	IFS='|' read -r name opts want <<<"$c"
	n=$((n + 1))
	img=$work/$name.img
	label="$name${opts:+ $opts}"
	if ! mk_state "$name" "$img"; then
		echo "not ok $n - $label: could not build the state"
		fail=$((fail + 1))
		continue
	fi
	st_attach "$name" "$img" && dev=$ST_DEV || {
		echo "not ok $n - $label: could not attach"
		fail=$((fail + 1))
		st_cleanup
		continue
	}
	# Hash while attached (mounted states write on mount and unmount, not while idle).
	sync
	before=$(sha256sum <"$img")
	# shellcheck disable=SC2086
	out=$("$probe" $opts "$dev" 2>&1)
	rc=$?
	sync
	after=$(sha256sum <"$img")
	st_cleanup
	got=${out%%$'\t'*}
	reason=$(cut -f2- <<<"$out" | tr '\t' ' ')
	if [[ $rc != 0 ]]; then
		echo "not ok $n - $label: probe-verdict failed ($rc): $out"
		fail=$((fail + 1))
	elif [[ $got != "$want" ]]; then
		echo "not ok $n - $label: expected $want, got $got ($reason)"
		fail=$((fail + 1))
	elif [[ $before != "$after" ]]; then
		echo "not ok $n - $label: image changed while probing"
		fail=$((fail + 1))
	else
		echo "ok $n - $label: $got: $reason"
	fi
	rm -f "$img"
done

n=$((n + 1))
if [[ -z $root_disk ]]; then
	echo "ok $n # SKIP / is not on a block device"
else
	out=$("$probe" "$root_disk" 2>&1)
	if [[ ${out%%$'\t'*} == in-use ]]; then
		echo "ok $n - system disk $root_disk: $(tr '\t' ' ' <<<"$out")"
	else
		echo "not ok $n - system disk $root_disk: $out"
		fail=$((fail + 1))
	fi
fi
exit $((fail > 0))
