#!/bin/bash
# SPDX-License-Identifier: MIT
# What image builders use, through the real binary in scratch --roots against the mock service:
# `vagent status --wait [--timeout S]` and /run/vagent/boot-finished (the unit that finishes
# last writes it; a disabled unit is not waited for; exit 0 done, 1 a step failed or timed
# out, 2 degraded), and `vagent clean --image` (exactly the listed things go, the dry run
# changes nothing, a mounted line or a non-empty mount directory refuses before anything goes).
. "$(dirname "$0")/lib.sh"
command -v ssh-keygen >/dev/null || skip_all "ssh-keygen (openssh-client) is not installed"

CONF="$SCRATCH/vagent.conf"
fast_conf "$CONF" 2s
printf '[storage]\nenabled = no\n' >>"$CONF"
start_mock
ID=7c1e9a52-4b3d-4f8e-a6d1-2e5f0c9b8a34
UNITS="vagent.service vagent-storage.service vagent-userdata.service"

fresh() { # fresh NAME [UNIT...]: a root with those units enabled (default: all three)
	R="$SCRATCH/$1"
	shift
	make_root "$R"
	mkdir -p "$R/etc/systemd/system/multi-user.target.wants"
	for u in ${*:-$UNITS}; do
		ln -s "/lib/systemd/system/$u" "$R/etc/systemd/system/multi-user.target.wants/$u"
	done
}
vag() { "$VAGENT" -c "$CONF" --root "$R" --metadata-url "$MOCK_URL" "$@"; }
finished() { [ -s "$R/run/vagent/boot-finished" ]; }

# --- status --wait and the marker ------------------------------------------------------------
fresh wait
vag boot --stage=boot >/dev/null 2>&1
! finished
ok $? "after the boot stage alone: no boot-finished (storage and userdata units enabled)"
vag status --wait --timeout 1 >"$SCRATCH/w1.out" 2>"$SCRATCH/w1.err"
ok "$([ $? = 1 ]; echo $?)" "status --wait --timeout 1 with units left: exit 1"
grep -q "Timed out after 1 s waiting for vagent-storage.service, vagent-userdata.service" \
	"$SCRATCH/w1.err"
ok $? "the timeout names the units it waited for"
vag status --wait --timeout 60 >"$SCRATCH/w2.out" 2>"$SCRATCH/w2.err" &
WAITER=$!
sleep 0.5
vag mount >/dev/null 2>&1
sleep 0.5
kill -0 "$WAITER" 2>/dev/null
ok $? "status --wait still waits after the storage stage (user data left)"
! finished
ok $? "no boot-finished after the storage stage"
vag userdata >/dev/null 2>&1
finished
ok $? "the last unit (user data) wrote boot-finished"
head -1 "$R/run/vagent/boot-finished" | grep -qxF "$(cat /proc/sys/kernel/random/boot_id)"
ok $? "boot-finished holds this boot's id"
wait "$WAITER"
ok $? "status --wait returned 0 once every unit had finished"
grep -q '^userdata ' "$SCRATCH/w2.out" && grep -q '^host-keys\|^metadata ' "$SCRATCH/w2.out"
ok $? "status --wait printed the report of all the units"
vag --json status --wait --timeout 5 >"$SCRATCH/w3.json" 2>/dev/null
ok $? "a finished boot: status --wait returns at once"
"$PYTHON3" -c "import json; d=json.load(open('$SCRATCH/w3.json')); assert set(d['stages']) >= {'boot','storage','userdata'}"
ok $? "status.json lists the stages that finished this boot"

# A disabled unit is not waited for: the storage stage is the last one.
fresh disabled vagent.service vagent-storage.service
vag boot --stage=boot >/dev/null 2>&1
vag mount >/dev/null 2>&1
finished && vag status --wait --timeout 5 >/dev/null 2>&1
ok $? "vagent-userdata.service disabled: boot-finished after the storage stage, --wait returns 0"

# One process running every stage (vagent boot by hand).
fresh all
vag boot >/dev/null 2>&1
finished
ok $? "vagent boot (every stage): boot-finished"
# A single step by hand is not a stage.
fresh single
vag boot --stage=boot >/dev/null 2>&1
vag mount >/dev/null 2>&1
vag ssh-keys >/dev/null 2>&1
! finished
ok $? "a single step run by hand does not finish the user-data stage"

# Exit statuses: a failed step, degraded mode.
fresh failing
printf '#!/bin/sh\nexit 3\n' >"$MOCK_UD"
vag boot >/dev/null 2>&1
vag status --wait --timeout 5 >/dev/null 2>&1
ok "$([ $? = 1 ]; echo $?)" "a failed step (user data exit 3): status --wait exits 1"
rm -f "$MOCK_UD"
fresh degraded
vag boot >/dev/null 2>&1
rm -rf "$R/run/vagent" # a new boot of the same machine
"$VAGENT" -c "$CONF" --root "$R" --metadata-url "$(closed_port_url)" boot >/dev/null 2>&1
vag status --wait --timeout 5 >/dev/null 2>&1
ok "$([ $? = 2 ]; echo $?)" "degraded (metadata from the cache): status --wait exits 2"

# Opted out: nothing runs, nothing to wait for.
fresh optout
mkdir -p "$R/etc/vagent" && : >"$R/etc/vagent/disabled"
vag status --wait --timeout 5 >"$SCRATCH/w4.out" 2>&1
ok $? "opted out: status --wait exits 0 at once"
grep -q "doing nothing" "$SCRATCH/w4.out"
ok $? "opted out: it says why"

"$VAGENT" --root "$R" boot --wait >/dev/null 2>&1
ok "$([ $? = 2 ]; echo $?)" "--wait outside status: exit 2"
"$VAGENT" --root "$R" status --timeout 5 >/dev/null 2>&1
ok "$([ $? = 2 ]; echo $?)" "--timeout without --wait: exit 2"
"$VAGENT" --root "$R" status --wait --timeout soon >/dev/null 2>&1
ok "$([ $? = 2 ]; echo $?)" "--timeout with a bad value: exit 2"
"$VAGENT" --root "$R" status --image >/dev/null 2>&1
ok "$([ $? = 2 ]; echo $?)" "--image outside clean: exit 2"

# --- clean --image ----------------------------------------------------------------------------
populate() {
	fresh "$1"
	mkdir -p "$R/etc/ssh" "$R/usr/sbin" "$R/var/lib/dbus" "$R/mnt/vol-a" "$R/srv/cc"
	: >"$R/usr/sbin/sshd"
	echo "keep me" >"$R/etc/ssh/sshd_config"
	printf '0123456789abcdef0123456789abcdef\n' >"$R/etc/machine-id"
	printf '0123456789abcdef0123456789abcdef\n' >"$R/var/lib/dbus/machine-id"
	cat >>"$R/etc/fstab" <<'EOF'
UUID=0b0c /mnt/vol-a ext4 defaults,nofail,X-vagent.volume=vol-a 0 2
/dev/vdc /srv/cc ext4 defaults,nofail,X-vagent.cloud-config 0 2
# a comment the admin wrote
/dev/vdd /data xfs defaults 0 0
EOF
	mkdir -p "$R/root/.ssh"
	echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK7vQm1xY2n3Jr8Tz0pLq4sW5eD6fG7hJ8kL9mN0bV1c own@line" \
		>"$R/root/.ssh/authorized_keys"
	vag boot >/dev/null 2>&1
}
populate image
grep -q "BEGIN vagent managed keys" "$R/root/.ssh/authorized_keys" &&
	[ -s "$R/etc/ssh/ssh_host_ed25519_key" ] && [ -d "$R/var/lib/vagent/instances/$ID" ]
ok $? "the populated root has keys, a managed block, host keys and instance state"
BEFORE=$(tree_sum "$R")
vag --dry-run clean --image >"$SCRATCH/c-dry.out" 2>&1
ok $? "clean --image --dry-run exits 0"
[ "$(tree_sum "$R")" = "$BEFORE" ]
ok $? "the dry run changes nothing"
for w in "/var/lib/vagent" "/etc/ssh/ssh_host_rsa_key" "/etc/ssh/ssh_host_ed25519_key.pub" \
	"/etc/machine-id" "/var/lib/dbus/machine-id" "2 lines of vagent's from /etc/fstab" \
	"mount directory /mnt/vol-a" "key block of 'root'"; do
	grep -q "would .*$w" "$SCRATCH/c-dry.out"
	ok $? "the dry run lists $w"
done
(cd "$R" && find . -xtype f | sort) >"$SCRATCH/files-before"
vag clean --image >"$SCRATCH/c.out" 2>&1
ok $? "clean --image exits 0"
(cd "$R" && find . -xtype f | sort) >"$SCRATCH/files-after"
comm -23 "$SCRATCH/files-before" "$SCRATCH/files-after" |
	grep -v '^./var/lib/vagent/' | grep -v '^./etc/ssh/ssh_host_' |
	grep -v '^./run/vagent/status.json$' | grep -v '^./run/vagent/boot-finished$' |
	grep -v '^./var/lib/dbus/machine-id$' >"$SCRATCH/unexpected"
[ ! -s "$SCRATCH/unexpected" ]
ok $? "nothing else was removed ($(tr '\n' ' ' <"$SCRATCH/unexpected"))"
[ ! -e "$R/var/lib/vagent" ] && [ -z "$(ls "$R"/etc/ssh/ssh_host_* 2>/dev/null)" ] &&
	[ "$(cat "$R/etc/ssh/sshd_config")" = "keep me" ]
ok $? "vagent's state and the host keys are gone, sshd_config kept"
[ "$(cat "$R/etc/machine-id")" = uninitialized ] && [ ! -e "$R/var/lib/dbus/machine-id" ]
ok $? "/etc/machine-id says uninitialized, the dbus copy is gone"
! grep -q "X-vagent" "$R/etc/fstab" && grep -q "^/dev/vdd /data xfs defaults 0 0$" "$R/etc/fstab" &&
	grep -q "^# a comment the admin wrote$" "$R/etc/fstab" && grep -q "^UUID=1234 / ext4" "$R/etc/fstab"
ok $? "fstab: vagent's two lines gone, every other line kept"
[ ! -e "$R/mnt/vol-a" ] && [ -d "$R/srv/cc" ]
ok $? "the storage mount directory is gone, cloud-config's is not vagent's to remove"
! grep -q "vagent managed" "$R/root/.ssh/authorized_keys" && grep -q "own@line" "$R/root/.ssh/authorized_keys"
ok $? "the managed key block is gone, the user's own key line kept"
vag clean --image >"$SCRATCH/c2.out" 2>&1 && [ ! -s "$SCRATCH/c2.out" ]
ok $? "a second clean --image has nothing left to do"

populate notempty
echo data >"$R/mnt/vol-a/written-while-unmounted"
BEFORE=$(tree_sum "$R")
vag clean --image >"$SCRATCH/c3.out" 2>&1
ok "$([ $? = 1 ]; echo $?)" "a non-empty mount directory: clean --image refuses (exit 1)"
grep -q "mount directory '/mnt/vol-a' is not empty" "$SCRATCH/c3.out" && [ "$(tree_sum "$R")" = "$BEFORE" ]
ok $? "the refusal names the directory and nothing was removed"

if [ "$(id -u)" = 0 ] && [ -z "${VAGENT_SKIP_ROOT_TESTS:-}" ]; then
	populate mounted
	mount -t tmpfs vagent-test "$R/mnt/vol-a" && on_exit "umount '$R/mnt/vol-a'"
	BEFORE=$(tree_sum "$R")
	vag clean --image >"$SCRATCH/c4.out" 2>&1
	ok "$([ $? = 1 ]; echo $?)" "a mounted vagent line: clean --image refuses (exit 1)"
	grep -q "is mounted" "$SCRATCH/c4.out" && [ "$(tree_sum "$R")" = "$BEFORE" ]
	ok $? "the refusal says so and nothing was removed"
	umount "$R/mnt/vol-a"
else
	tap_n=$((tap_n + 1))
	echo "ok $tap_n # SKIP mounting a tmpfs needs root"
fi

tap_done
