#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test-probe-states.sh: every disk state of design/blank-disk.md (tests/storage-states.sh)
# through the real binary: for each state the image is built and verified, attached to a loop
# device, and `vagent --json mount --dry-run DEV` must give the expected verdict while the
# sha256 of the whole image stays identical; for every state vagent must not write to, the
# real `vagent mount DEV` runs too and the image must still be identical. Needs root (exit 77
# otherwise). STATES limits the run to some states.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
need_root "loop devices, mount, swapon"
[[ -x $VAGENT ]] || { echo "Bail out! $VAGENT not built"; exit 99; }

# shellcheck source=storage-states.sh
. "$here/storage-states.sh"

work=$(mktemp -d "${TMPDIR:-/var/tmp}/vagent-probe.XXXXXX") || exit 99
cleanup() {
	st_cleanup
	rm -rf "$work"
}
on_exit cleanup
trap 'exit 130' INT TERM
R=$work/root
mkdir -p "$R/etc"
: >"$R/etc/fstab"

# image_sum STATE IMG: the sha256 of the whole image. For an ACTIVE swap the kernel itself
# writes pages into the swap slots (from offset 4096) whenever it swaps, so only the first 4 KiB
# are compared there: the protective MBR and GPT header vagent would write, the superblocks
# mkfs would write and the swap signature all live in them.
image_sum() {
	if [[ $1 == active-swap ]]; then
		head -c 4096 "$2" | sha256sum
	else
		sha256sum <"$2"
	fi
}

# probe OPTS DEV [--dry-run]: vagent's verdict, action and reason, tab-separated. OPTS become
# configuration: --no-zeros, --min-size=BYTES, --fs=TYPE.
probe() {
	local opts=$1 dev=$2 conf=$work/vagent.conf
	shift 2
	printf '[storage]\n' >"$conf"
	for o in $opts; do
		case $o in
		--no-zeros) echo "require-zeros = no" >>"$conf" ;;
		--min-size=*) echo "min-size = ${o#--min-size=}" >>"$conf" ;;
		--fs=*) echo "filesystem = ${o#--fs=}" >>"$conf" ;;
		esac
	done
	"$VAGENT" -c "$conf" --root "$R" --json mount "$@" "$dev" 2>"$work/stderr" | python3 -c '
import json, sys
d = json.load(sys.stdin)["devices"][0]
print("\t".join((d["verdict"], d["action"], d["reason"] or "")))'
}

# Every state with the default configuration, then a few with other options.
cases=()
for name in ${STATES:-$(st_state_names)}; do
	cases+=("$name||$(st_expected "$name")")
done
if [[ -z ${STATES:-} ]]; then
	cases+=(
		"unknown-data|--no-zeros|blank"
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
	before=$(image_sum "$name" "$img")
	out=$(probe "$opts" "$dev" --dry-run)
	rc=$?
	sync
	after=$(image_sum "$name" "$img")
	got=${out%%$'\t'*}
	reason=$(cut -f3- <<<"$out")
	real=skipped
	# Everything but blank and own must survive the real run byte for byte, too.
	if [[ $rc == 0 && $got != blank && $got != own ]]; then
		out2=$(probe "$opts" "$dev")
		rc2=$?
		sync
		after2=$(image_sum "$name" "$img")
		real="${out2%%$'\t'*}/$(cut -f2 <<<"$out2")"
		[[ $rc2 == 0 && $real == "$got/none" && $after2 == "$before" ]] || real="BAD ($rc2: $out2)"
	fi
	st_cleanup
	if [[ $rc != 0 ]]; then
		echo "not ok $n - $label: vagent mount --dry-run failed ($rc): $out $(head -c 300 "$work/stderr")"
		fail=$((fail + 1))
	elif [[ $got != "$want" ]]; then
		echo "not ok $n - $label: expected $want, got $got ($reason)"
		fail=$((fail + 1))
	elif [[ $before != "$after" ]]; then
		echo "not ok $n - $label: image changed by mount --dry-run"
		fail=$((fail + 1))
	elif [[ $real == BAD* ]]; then
		echo "not ok $n - $label: real mount: $real"
		fail=$((fail + 1))
	else
		echo "ok $n - $label: $got: $reason (real mount: $real, image unchanged)"
	fi
	rm -f "$img"
done

n=$((n + 1))
if [[ -z $root_disk ]]; then
	echo "ok $n # SKIP / is not on a block device"
else
	out=$(probe "" "$root_disk" --dry-run)
	if [[ ${out%%$'\t'*} == in-use ]]; then
		echo "ok $n - system disk $root_disk: $(tr '\t' ' ' <<<"$out")"
	else
		echo "not ok $n - system disk $root_disk: $out"
		fail=$((fail + 1))
	fi
fi
exit $((fail > 0))
