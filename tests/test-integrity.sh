#!/bin/bash
# SPDX-License-Identifier: MIT
# test-integrity.sh: the integrity holes of the security review, through the real binary in
# scratch --roots against the mock service: cloud-config may not mark its fstab lines as vagent's
# volumes nor use '..'; write_files owners beyond 32 bits; append through a hard link; sudo rule
# files that collide, line continuations, no visudo; state directories others could write;
# someone else's run.lock; scripts run through their fd; control characters never reach the
# terminal, the journal or the status raw; the dry-run plan names a group once.
. "$(dirname "$0")/lib.sh"
need_root "chown to other users, unshare, flock as another user"

CONF="$SCRATCH/vagent.conf"
fast_conf "$CONF" 3s
start_mock
new_root() { R="$SCRATCH/root-$1"; make_root "$R"; }
boot() { "$VAGENT" -c "$CONF" --root "$R" --metadata-url "$MOCK_URL" boot --no-storage "$@"; }
ud() { printf '%s\n' "$@" >"$MOCK_UD"; }
step() { # step STEP FIELD: from this root's status file
	"$PYTHON3" -c 'import json, sys; d = json.load(open(sys.argv[1]))
print({s["name"]: s for s in d["steps"]}.get(sys.argv[2], {}).get(sys.argv[3], "absent"))' \
		"$R/run/vagent/status.json" "$1" "$2" 2>/dev/null || echo none
}

# --- cloud-config mounts: X-vagent.* options and '..' ---------------------------------------
new_root mounts
ud '#cloud-config' 'mounts:' \
	'  - [ /dev/vdz1, /srv/evil, ext4, "defaults,X-vagent.volume=evil", "0", "2" ]' \
	'  - [ /dev/vdy1, "/srv/../etc", ext4 ]' \
	'  - [ /dev/vdx1, /srv/good, ext4 ]'
boot >"$SCRATCH/out" 2>&1
check "mounts: the X-vagent.volume= line is refused" bash -c "! grep -q 'evil' '$R/etc/fstab'"
check "mounts: a mount point with '..' is refused (not in fstab)" bash -c "! grep -q 'vdy1' '$R/etc/fstab'"
check "mounts: and its directory is not made" test ! -e "$R/srv/../etc/vdy1"
check "mounts: the valid line is written" grep -q '^/dev/vdx1	/srv/good	' "$R/etc/fstab"
check "mounts: the refusals are named" grep -q 'mounts\[0\]: options may not carry X-vagent' "$SCRATCH/out"
"$VAGENT" -c "$CONF" --root "$R" umount >"$SCRATCH/out-um" 2>&1
check "mounts: vagent umount does not take the line for a volume" bash -c "! grep -qi evil '$SCRATCH/out-um'"

# --- write_files owners: no truncation to 32 bits ------------------------------------------
new_root owners
ud '#cloud-config' 'write_files:' \
	'  - {path: /etc/big-uid, content: x, owner: "4294967296:0"}' \
	'  - {path: /etc/minus-one, content: x, owner: "4294967295"}' \
	'  - {path: /etc/fine, content: x, owner: "1000:1000"}'
boot >"$SCRATCH/out" 2>&1
check "owners: uid 4294967296 (would be 0) refused, not written" test ! -e "$R/etc/big-uid"
check "owners: uid 4294967295 (chown's -1) refused, not written" test ! -e "$R/etc/minus-one"
check "owners: a real id is used" test "$(stat -c %u:%g "$R/etc/fine" 2>/dev/null)" = 1000:1000

# --- write_files append: never through a hard link ------------------------------------------
new_root append
printf 'SECRET-OUTSIDE\n' >"$SCRATCH/outside-secret"
chmod 0600 "$SCRATCH/outside-secret"
ln "$SCRATCH/outside-secret" "$R/etc/linked"
ud '#cloud-config' 'write_files:' '  - {path: /etc/linked, content: "more", append: true, permissions: "0644"}'
boot >"$SCRATCH/out" 2>&1
check "append: a hard-linked target is refused" grep -q "write_files\[0\] '/etc/linked' is not a plain file with one link" "$SCRATCH/out"
check "append: the secret is not copied into the root" bash -c "test \$(stat -c %h '$R/etc/linked') = 2 && ! grep -rq SECRET-OUTSIDE '$R/etc' --exclude=linked"
check "append: the outside file is unchanged" test "$(cat "$SCRATCH/outside-secret")" = SECRET-OUTSIDE

# --- sudo rules ---------------------------------------------------------------------------
new_root sudo
ud '#cloud-config' 'users:' \
	'  - {name: a.b, sudo: "ALL=(ALL) NOPASSWD:ALL"}' \
	'  - {name: a_b, sudo: "ALL=(ALL) ALL"}' \
	'  - {name: cont, sudo: "ALL=(ALL) ALL \\"}'
boot >"$SCRATCH/out" 2>&1
check "sudo: a.b has its own file" grep -qx 'a.b ALL=(ALL) NOPASSWD:ALL' "$R/etc/sudoers.d/90-vagent-a_db"
check "sudo: a_b has its own file" grep -qx 'a_b ALL=(ALL) ALL' "$R/etc/sudoers.d/90-vagent-a__b"
check "sudo: a rule ending in a line continuation is refused" test ! -e "$R/etc/sudoers.d/90-vagent-cont"
if command -v unshare >/dev/null && unshare -m true 2>/dev/null; then
	new_root novisudo
	ud '#cloud-config' 'users:' '  - {name: deploy, sudo: "ALL=(ALL) ALL"}'
	unshare -m bash -c "for v in /usr/sbin/visudo /sbin/visudo; do [ -e \$v ] && mount --bind /dev/null \$v; done
		'$VAGENT' -c '$CONF' --root '$R' --metadata-url '$MOCK_URL' boot --no-storage" >"$SCRATCH/out" 2>&1
	check "sudo: without visudo no rule is written" test ! -e "$R/etc/sudoers.d/90-vagent-deploy"
	check "sudo: and that is said" grep -q "visudo is not installed, so the sudo rule cannot be checked" "$SCRATCH/out"
else
	ok 0 "# SKIP sudo without visudo: unshare -m is not available here"
fi

# --- state directories others could write; someone else's run.lock -------------------------
new_root state
ud '#!/bin/sh' 'echo ran >>"'"$SCRATCH"'/state-ran"'
mkdir -p "$R/var/lib/vagent/instances"
chown 1000 "$R/var/lib/vagent/instances"
chmod 0777 "$R/var/lib/vagent/instances"
boot >"$SCRATCH/out" 2>&1
check "state: an instances directory owned by uid 1000, 0777, is refused" grep -q "'/var/lib/vagent/instances' is owned by uid 1000 with mode 0777" "$SCRATCH/out"
check "state: the script did not run" test ! -e "$SCRATCH/state-ran"
check "state: the user-data step failed" test "$(step userdata result)" = failed
check "state: the keys were still installed" grep -q '^ssh-ed25519 ' "$R/root/.ssh/authorized_keys"

new_root lock
mkdir -p "$R/run/vagent"
chmod 0777 "$R/run/vagent"
t0=$(date +%s)
boot >"$SCRATCH/out" 2>&1
rc=$?
ok "$([ $rc = 1 ] && [ $(($(date +%s) - t0)) -lt 20 ]; echo $?)" "lock: a world-writable /run/vagent is refused at once (exit $rc)"
check "lock: and named" grep -q "'/run/vagent' is owned by uid 0 with mode 0777" "$SCRATCH/out"
chmod 0755 "$R/run/vagent"
: >"$R/run/vagent/run.lock"
chown 1000 "$R/run/vagent/run.lock"
setpriv --reuid=1000 --regid=1000 --clear-groups flock "$R/run/vagent/run.lock" sleep 30 &
holder=$!
sleep 0.5
t0=$(date +%s)
boot >"$SCRATCH/out" 2>&1
rc=$?
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
ok "$([ $rc = 1 ] && [ $(($(date +%s) - t0)) -lt 20 ]; echo $?)" "lock: a run.lock owned by uid 1000 is refused, not waited on (exit $rc)"
check "lock: and named" grep -q "'/run/vagent/run.lock' is not vagent's lock file" "$SCRATCH/out"

# --- scripts run through their fd; VAGENT_SCRIPT names the file -------------------------------
new_root fd
ud '#!/bin/sh' 'echo "$0 $VAGENT_SCRIPT $INSTANCE_ID" >"'"$SCRATCH"'/fd-ran"'
boot >"$SCRATCH/out" 2>&1
ok $? "fd: the boot succeeds"
read -r zero script id <"$SCRATCH/fd-ran"
check "fd: the script ran as /proc/self/fd/3" test "$zero" = /proc/self/fd/3
check "fd: VAGENT_SCRIPT is the file vagent wrote" test "$script" = "$R/var/lib/vagent/instances/$id/user-data.script"

# --- control characters from user data: escaped everywhere --------------------------------
new_root esc
printf '#cloud-config\n"evil\\e[31mkey": 1\n' >"$MOCK_UD"
"$VAGENT" -v -c "$CONF" --root "$R" --metadata-url "$MOCK_URL" boot --no-storage >"$SCRATCH/out" 2>&1
"$VAGENT" -c "$CONF" --root "$R" status >>"$SCRATCH/out" 2>&1
check "esc: no raw ESC on stdout or stderr" bash -c "! grep -q \$'\\e' '$SCRATCH/out'"
check "esc: the key is shown escaped" grep -q 'evil\\x1b\[31mkey' "$SCRATCH/out"
check "esc: no ESC in the status file, decoded" "$PYTHON3" -c "
import json, sys
d = json.load(open('$R/run/vagent/status.json'))
sys.exit(1 if any('\x1b' in (s.get('message') or '') for s in d['steps']) else 0)"

# --- the dry-run plan names a new group once --------------------------------------------------
new_root plan
ud '#cloud-config' 'users:' '  - {name: u1, groups: [grp0]}' '  - {name: u2, groups: [grp0]}' '  - {name: u3, groups: [grp0]}'
"$VAGENT" -c "$CONF" --root "$R" --metadata-url "$MOCK_URL" --dry-run userdata >"$SCRATCH/out" 2>&1
n=$(grep -c "would create group 'grp0'" "$SCRATCH/out")
ok "$([ "$n" = 1 ]; echo $?)" "plan: group grp0 planned once for three users ($n)"

tap_done
