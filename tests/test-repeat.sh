#!/bin/bash
# SPDX-License-Identifier: MIT
# test-repeat.sh: concurrent and repeated runs of the real binary in scratch --roots against the
# mock metadata service: two `vagent boot` at once (first boots, several rounds: one user-data
# run, one key block, no temp files, valid status), `boot` while `mount` formats a loop volume
# (root only), and `boot` 100 times in a row (no file changes after the first, timings printed;
# only generous bounds are asserted).
. "$(dirname "$0")/lib.sh"

CONF="$SCRATCH/vagent.conf"
fast_conf "$CONF" 5s
start_mock
# The script logs its own path: runs are counted per root.
cat >"$MOCK_UD" <<EOS
#!/bin/sh
echo "\$VAGENT_SCRIPT" >>"$SCRATCH/ran.txt"
EOS
runs() { grep -c "^$1/" "$SCRATCH/ran.txt" 2>/dev/null || true; }
KEY1='ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB3xQ1f8m2kq9Lw0TzR7cY4uV6pN5hJ2dE8sA1gK0oXr ops@example'
ms() { date +%s%3N; }
sum_state() { tree_sum "$1" | grep -v -e 'run/vagent/status.json' -e 'var/lib/vagent/last-boot.json'; }
# consistent ROOT: the files a boot writes are whole and agree with the document.
consistent() {
	local r=$1
	grep -qx build-runner-07 "$r/etc/hostname" &&
		[ "$(grep -c '^127\.0\.1\.1' "$r/etc/hosts")" = 1 ] &&
		[ "$(grep -c '^# BEGIN vagent managed keys' "$r/root/.ssh/authorized_keys")" = 1 ] &&
		[ "$(grep -c '^# END vagent managed keys' "$r/root/.ssh/authorized_keys")" = 1 ] &&
		grep -qxF "$KEY1" "$r/root/.ssh/authorized_keys" &&
		"$PYTHON3" -c 'import json, sys; json.load(open(sys.argv[1]))' "$r/run/vagent/status.json" &&
		cmp -s "$r/var/lib/vagent/metadata.json" "$MOCK_DOC" &&
		! find "$r" -name '.#*' | grep -q .
}

# --- two boots at once ---------------------------------------------------------------------------
for round in 1 2 3 4 5; do
	R="$SCRATCH/par$round"
	make_root "$R"
	"$VAGENT" -c "$CONF" --root "$R" --metadata-url "$MOCK_URL" boot --no-storage >"$SCRATCH/a$round" 2>&1 &
	a=$!
	"$VAGENT" -c "$CONF" --root "$R" --metadata-url "$MOCK_URL" boot --no-storage >"$SCRATCH/b$round" 2>&1 &
	b=$!
	wait $a
	ra=$?
	wait $b
	rb=$?
	ok $([ $ra = 0 ] && [ $rb = 0 ] && echo 0 || echo 1) "parallel boots $round: both succeed ($ra, $rb)" ||
		sed 's/^/# /' "$SCRATCH/a$round" "$SCRATCH/b$round" | grep -iv -e '^# *$' | grep -i -e fail -e error -e refus | head -5
	consistent "$R"
	ok $? "parallel boots $round: files whole and consistent"
	n=$(runs "$R")
	ok $([ "$n" = 1 ] && echo 0 || echo 1) "parallel boots $round: the user-data script ran once ($n)"
	before=$(sum_state "$R")
	"$VAGENT" -c "$CONF" --root "$R" --metadata-url "$MOCK_URL" boot --no-storage >/dev/null 2>&1
	ok $? "parallel boots $round: a later boot succeeds"
	check "parallel boots $round: and changes nothing" test "$before" = "$(sum_state "$R")"
done

# --- 100 boots in a row ----------------------------------------------------------------------------
R="$SCRATCH/seq"
make_root "$R"
"$VAGENT" -c "$CONF" --root "$R" --metadata-url "$MOCK_URL" boot --no-storage >/dev/null 2>&1
ok $? "100 boots: the first succeeds"
ref=$(sum_state "$R")
times=()
fails=0
drift=0
for i in $(seq 100); do
	t0=$(ms)
	"$VAGENT" -c "$CONF" --root "$R" --metadata-url "$MOCK_URL" boot --no-storage >/dev/null 2>&1 || fails=$((fails + 1))
	times+=($(($(ms) - t0)))
	[ "$ref" = "$(sum_state "$R")" ] || drift=$((drift + 1))
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
min=$(head -n1 <<<"$sorted")
med=$(sed -n 50p <<<"$sorted")
max=$(tail -n1 <<<"$sorted")
total=$(paste -sd+ <<<"$sorted" | bc)
echo "# 100 boots: min ${min} ms, median ${med} ms, max ${max} ms, total ${total} ms"
ok $([ $fails = 0 ] && echo 0 || echo 1) "100 boots: all succeed ($fails failed)"
ok $([ $drift = 0 ] && echo 0 || echo 1) "100 boots: no file changed after the first ($drift drifted)"
ok $([ "$max" -lt 10000 ] && echo 0 || echo 1) "100 boots: each under 10 s (max ${max} ms)"
check "100 boots: files consistent" consistent "$R"
check "100 boots: the script ran once" test "$(runs "$R")" = 1
n=$(find "$R" | wc -l)
ok $([ "$n" -lt 60 ] && echo 0 || echo 1) "100 boots: no files pile up ($n entries in the root)"

# --- boot while mount formats a loop volume (root) ------------------------------------------------
if [ "$(id -u)" != 0 ] || [ -n "${VAGENT_SKIP_ROOT_TESTS:-}" ] || ! command -v losetup >/dev/null; then
	ok 0 "# SKIP boot during mount: needs root and loop devices"
	tap_done
fi
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}intercept_strchr=0"
W=$(mktemp -d /var/tmp/vagent-repeat.XXXXXX)
LOOP=
loop_teardown() {
	local m
	for m in $(findmnt -rn -o TARGET | grep "^$W/" | sort -r); do umount "$m"; done
	[ -n "$LOOP" ] && losetup -d "$LOOP"
	findmnt -rn -o TARGET | grep -q "^$W/" || rm -rf "$W"
}
on_exit loop_teardown
truncate -s 512M "$W/disk.img"
LOOP=$(losetup -f --show -P "$W/disk.img")
R="$W/root"
make_root "$R"
fstab0=$(cat "$R/etc/fstab")
t0=$(ms)
"$VAGENT" -c "$CONF" --root "$R" mount "$LOOP" >"$SCRATCH/mount.out" 2>&1 &
m=$!
pids=()
for i in 1 2 3; do
	"$VAGENT" -c "$CONF" --root "$R" --metadata-url "$MOCK_URL" boot >"$SCRATCH/boot$i.out" 2>&1 &
	pids+=($!)
	sleep 0.1
done
wait $m
rm_=$?
rb=0
for p in "${pids[@]}"; do wait "$p" || rb=$?; done
echo "# mount + 3 boots at once: $(($(ms) - t0)) ms"
ok $rm_ "boot during mount: mount succeeds"
ok $rb "boot during mount: the boots succeed"
check "boot during mount: boot files consistent" consistent "$R"
check "boot during mount: exactly one fstab line of ours" test "$(grep -c 'X-vagent.volume=' "$R/etc/fstab")" = 1
check "boot during mount: the foreign fstab lines kept" bash -c "head -n 2 '$R/etc/fstab' | cmp -s - <(printf '%s\n' \"\$1\")" _ "$fstab0"
check "boot during mount: the volume is mounted" bash -c "findmnt -rn -S '${LOOP}p1' | grep -q '$W/'"
"$VAGENT" -c "$CONF" --root "$R" mount "$LOOP" >/dev/null 2>&1
ok $? "boot during mount: mount again converges"
check "boot during mount: still one fstab line" test "$(grep -c 'X-vagent.volume=' "$R/etc/fstab")" = 1
"$VAGENT" -c "$CONF" --root "$R" umount "$LOOP" >/dev/null 2>&1
ok $? "boot during mount: umount succeeds"

tap_done
