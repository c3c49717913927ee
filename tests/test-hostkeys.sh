#!/bin/bash
# SPDX-License-Identifier: MIT
# The host-keys step through the real binary and the real ssh-keygen, in scratch --roots against
# the mock metadata service: an image's keys replaced on a new instance (and its stray key
# files removed), kept on the next boot, in degraded mode and with [ssh] host-keys = keep or
# ssh_deletekeys: false; a missing type made at every boot; ssh_genkeytypes; ssh_keys (the
# user's own keys, a .pub derived, a certificate and a non-key left out); an image without
# keys and without metadata; the modes sshd wants; the fingerprints in the log (between the
# marker lines) and in `vagent status`; no private key in any output; a crash between making
# the keys and moving them in; symlinks never followed; the dry run; [ssh] rsa-host-key =
# after-ssh: the boot stage leaves RSA to the after-ssh stage (vagent-hostkeys.service), which
# makes it, and status --wait waits for that unit only while it has a key to make; the keygen
# stage's spare keys (0700, each used once, taken by the boot and after-ssh stages, never from
# a directory others can read, no RSA spare with rsa-host-key = before-ssh).
. "$(dirname "$0")/lib.sh"
command -v ssh-keygen >/dev/null || skip_all "ssh-keygen (openssh-client) is not installed"

CONF="$SCRATCH/vagent.conf"
fast_conf "$CONF" 2s
start_mock
ID_A=7c1e9a52-4b3d-4f8e-a6d1-2e5f0c9b8a34
ID_B=0a1b2c3d-0000-4000-8000-0000000000b2

fresh() {
	R="$SCRATCH/$1"
	make_root "$R"
	mkdir -p "$R/etc/ssh" "$R/usr/sbin"
	: >"$R/usr/sbin/sshd"
}
vag() { "$VAGENT" -c "$CONF" --root "$R" --metadata-url "$MOCK_URL" "$@"; }
set_id() {
	"$PYTHON3" - "$MOCK_DOC" "$1" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1])); d["instance-v2-id"] = sys.argv[2]
json.dump(d, open(sys.argv[1], "w"))
EOF
}
keysum() { (cd "$R/etc/ssh" && sha256sum ssh_host_*_key 2>/dev/null | sort); }
step_field() { # step_field NAME FIELD
	"$PYTHON3" -c "
import json; d=json.load(open('$R/run/vagent/status.json'))
print({s['name']:s for s in d['steps']}['$1']['$2'])"
}
modes_ok() { # every private key 0600, every public key 0644, all three types
	local t
	for t in rsa ecdsa ed25519; do
		[ "$(stat -c %a "$R/etc/ssh/ssh_host_${t}_key")" = 600 ] || return 1
		[ "$(stat -c %a "$R/etc/ssh/ssh_host_${t}_key.pub")" = 644 ] || return 1
	done
}
# No line of a private key in FILE (each key's base64 body lines, checked one by one).
no_private() {
	local f=$1 k
	for k in "$R"/etc/ssh/ssh_host_*_key; do
		[ -f "$k" ] || continue
		if grep -v -- '-----' "$k" | grep -qFf - "$f"; then return 1; fi
	done
}

# --- an image with its own keys (and stray files): a new instance gets new ones ------------
fresh image
for t in rsa ecdsa ed25519 dsa; do
	ssh-keygen -q -N '' -t "$t" -f "$R/etc/ssh/ssh_host_${t}_key" 2>/dev/null ||
		printf 'not a key\n' >"$R/etc/ssh/ssh_host_${t}_key"
done
echo "ssh-ed25519-cert-v01@openssh.com AAAA image-cert" >"$R/etc/ssh/ssh_host_ed25519_key-cert.pub"
echo "keep me" >"$R/etc/ssh/sshd_config"
IMAGE_SUM=$(keysum)
set_id "$ID_A"
vag -v boot --no-storage >"$SCRATCH/out1" 2>"$SCRATCH/err1"
ok $? "first boot of a new instance exits 0"
A_SUM=$(keysum)
[ -n "$A_SUM" ] && [ "$A_SUM" != "$IMAGE_SUM" ]
ok $? "the image's keys were replaced"
for t in rsa ecdsa ed25519; do
	cmp -s <(sed -n 1p "$R/etc/ssh/ssh_host_${t}_key.pub" | cut -d' ' -f1-2) \
		<(ssh-keygen -y -f "$R/etc/ssh/ssh_host_${t}_key" | cut -d' ' -f1-2)
	ok $? "the new $t .pub belongs to the new $t private key"
done
[ "$(step_field host-keys result)" = changed ]
ok $? "status: host-keys changed"
step_field host-keys message | grep -q "new host keys for the new instance: rsa, ecdsa, ed25519"
ok $? "status message names the three new types"
[ ! -e "$R/etc/ssh/ssh_host_dsa_key" ] && [ ! -e "$R/etc/ssh/ssh_host_dsa_key.pub" ] &&
	[ ! -e "$R/etc/ssh/ssh_host_ed25519_key-cert.pub" ]
ok $? "the image's other key files (dsa, a certificate) are gone"
[ "$(cat "$R/etc/ssh/sshd_config")" = "keep me" ]
ok $? "other files in /etc/ssh are left alone"
modes_ok
ok $? "private keys 0600, public keys 0644"
[ -z "$(find "$R/etc/ssh" -name '.vagent-*')" ]
ok $? "no temp directory left behind"
FP_ED=$(ssh-keygen -l -f "$R/etc/ssh/ssh_host_ed25519_key.pub")
sed -n '/-----BEGIN SSH HOST KEY FINGERPRINTS-----/,/-----END SSH HOST KEY FINGERPRINTS-----/p' \
	"$SCRATCH/err1" | grep -qF "$FP_ED"
ok $? "the log has the ed25519 fingerprint between the marker lines"
vag status >"$SCRATCH/status1"
grep -A4 "SSH HOST KEY FINGERPRINTS" "$SCRATCH/status1" | grep -qF "$FP_ED"
ok $? "vagent status shows the fingerprints"
[ "$("$PYTHON3" -c "import json; print(len(json.load(open('$R/run/vagent/status.json'))['host_keys']))")" = 3 ]
ok $? "status.json has three host_keys"
vag --json status >"$SCRATCH/status1.json"
no_private "$SCRATCH/out1" && no_private "$SCRATCH/err1" && no_private "$SCRATCH/status1" &&
	no_private "$SCRATCH/status1.json" && no_private "$R/run/vagent/status.json"
ok $? "no line of a private key in any output or status file"

# --- the next boot, a degraded boot, a new instance ----------------------------------------
vag boot --no-storage >/dev/null 2>&1
[ "$(keysum)" = "$A_SUM" ] && [ "$(step_field host-keys result)" = unchanged ]
ok $? "the next boot of the same instance keeps the keys (unchanged)"
set_id "$ID_B"
"$VAGENT" -c "$CONF" --root "$R" --metadata-url "$(closed_port_url)" boot --no-storage \
	>/dev/null 2>&1
[ "$(keysum)" = "$A_SUM" ]
ok $? "degraded mode (cache only) keeps the keys"
vag boot --no-storage >/dev/null 2>&1
B_SUM=$(keysum)
[ -n "$B_SUM" ] && [ "$B_SUM" != "$A_SUM" ] && [ "$(step_field host-keys result)" = changed ]
ok $? "a new instance id gets new keys"
modes_ok
ok $? "the second instance's keys have sshd's modes"

# --- a missing type, at any boot ------------------------------------------------------------
rm "$R/etc/ssh/ssh_host_ecdsa_key" "$R/etc/ssh/ssh_host_ecdsa_key.pub"
RSA_BEFORE=$(sha256sum <"$R/etc/ssh/ssh_host_rsa_key")
vag boot --no-storage >/dev/null 2>&1
[ -s "$R/etc/ssh/ssh_host_ecdsa_key" ] && [ "$(sha256sum <"$R/etc/ssh/ssh_host_rsa_key")" = "$RSA_BEFORE" ]
ok $? "a missing ecdsa key is made on a later boot, the others kept"
step_field host-keys message | grep -q "generated the missing ecdsa host key"
ok $? "status says which type was made"
rm "$R/etc/ssh/ssh_host_rsa_key.pub"
vag boot --no-storage >/dev/null 2>&1
[ "$(sha256sum <"$R/etc/ssh/ssh_host_rsa_key")" = "$RSA_BEFORE" ] &&
	cmp -s <(cut -d' ' -f1-2 "$R/etc/ssh/ssh_host_rsa_key.pub") \
		<(ssh-keygen -y -f "$R/etc/ssh/ssh_host_rsa_key" | cut -d' ' -f1-2)
ok $? "a lost .pub is derived from the private key, which is kept"

# --- keep: the policy, and ssh_deletekeys: false ---------------------------------------------
cp "$CONF" "$SCRATCH/keep.conf"
printf '[ssh]\nhost-keys = keep\n' >>"$SCRATCH/keep.conf"
BEFORE=$(keysum)
set_id 0a1b2c3d-0000-4000-8000-0000000000c3
"$VAGENT" -c "$SCRATCH/keep.conf" --root "$R" --metadata-url "$MOCK_URL" boot --no-storage \
	>/dev/null 2>&1
[ "$(keysum)" = "$BEFORE" ] && step_field host-keys message | grep -q "host-keys = keep"
ok $? "[ssh] host-keys = keep: a new instance keeps the keys"
printf '#cloud-config\nssh_deletekeys: false\n' >"$MOCK_UD"
set_id 0a1b2c3d-0000-4000-8000-0000000000d4
vag boot --no-storage >/dev/null 2>&1
[ "$(keysum)" = "$BEFORE" ] && step_field host-keys message | grep -q "ssh_deletekeys: false"
ok $? "cloud-config ssh_deletekeys: false keeps the keys"
printf '#cloud-config\nssh_genkeytypes: [ed25519, dsa]\n' >"$MOCK_UD"
set_id 0a1b2c3d-0000-4000-8000-0000000000e5
vag boot --no-storage >/dev/null 2>"$SCRATCH/err-gen"
[ -s "$R/etc/ssh/ssh_host_ed25519_key" ] && [ ! -e "$R/etc/ssh/ssh_host_rsa_key" ] &&
	[ ! -e "$R/etc/ssh/ssh_host_ecdsa_key.pub" ]
ok $? "ssh_genkeytypes: [ed25519]: only ed25519 on a new instance"
grep -q "ssh_genkeytypes: 'dsa' is not a type vagent generates" "$SCRATCH/err-gen"
ok $? "an unknown type in ssh_genkeytypes is warned about"

# --- ssh_keys: the user's own host keys (cc_ssh), installed on a new instance -----------------
ssh-keygen -q -N '' -t ed25519 -C given-ed -f "$SCRATCH/given_ed25519" 2>/dev/null
ssh-keygen -q -N '' -t ecdsa -C given-ec -f "$SCRATCH/given_ecdsa" 2>/dev/null
"$PYTHON3" - "$SCRATCH" "$MOCK_UD" <<'EOF'
import sys
d, out = sys.argv[1], sys.argv[2]
ind = lambda t: "".join("    " + l + "\n" for l in t.splitlines())
ed, edp = open(d + "/given_ed25519").read(), open(d + "/given_ed25519.pub").read().strip()
ec = open(d + "/given_ecdsa").read()
open(out, "w").write("#cloud-config\nssh_keys:\n  ed25519_private: |\n" + ind(ed) +
                     "  ed25519_public: " + edp + "\n  ecdsa_private: |\n" + ind(ec) +
                     "  rsa_certificate: ssh-rsa-cert-v01@openssh.com AAAA x\n")
EOF
set_id 0a1b2c3d-0000-4000-8000-0000000000f6
vag boot --no-storage >"$SCRATCH/out-given" 2>&1
cmp -s "$R/etc/ssh/ssh_host_ed25519_key" "$SCRATCH/given_ed25519" &&
	cmp -s "$R/etc/ssh/ssh_host_ed25519_key.pub" "$SCRATCH/given_ed25519.pub" &&
	cmp -s "$R/etc/ssh/ssh_host_ecdsa_key" "$SCRATCH/given_ecdsa"
ok $? "ssh_keys: the given ed25519 pair and ecdsa private key are the host keys"
cmp -s <(cut -d' ' -f1-2 "$R/etc/ssh/ssh_host_ecdsa_key.pub") <(cut -d' ' -f1-2 "$SCRATCH/given_ecdsa.pub")
ok $? "ssh_keys: the ecdsa .pub given without is derived from the given private key"
[ -s "$R/etc/ssh/ssh_host_rsa_key" ] && modes_ok
ok $? "ssh_keys: rsa (not given) generated; modes 0600/0644"
step_field host-keys message | grep -q "from the user data (ssh_keys): ecdsa, ed25519"
ok $? "ssh_keys: the step says which keys came from the user data"
"$PYTHON3" -c "
import json; d=json.load(open('$R/run/vagent/status.json'))
k={x['key']:x for x in d['keys']}['ssh_keys']
assert k['status'] == 'partial' and 'certificate' in k['reason'], k" 2>/dev/null
ok $? "ssh_keys: partial, the certificate named"
no_private "$SCRATCH/out-given" && no_private "$R/run/vagent/status.json"
ok $? "ssh_keys: no line of a given private key in the output or the status"
BEFORE=$(keysum)
vag boot --no-storage >/dev/null 2>&1
[ "$(keysum)" = "$BEFORE" ]
ok $? "ssh_keys: the next boot of the same instance changes nothing"
printf '#cloud-config\nssh_keys: {ed25519_private: "not a key"}\n' >"$MOCK_UD"
set_id 0a1b2c3d-0000-4000-8000-0000000000f7
vag boot --no-storage >/dev/null 2>&1
"$PYTHON3" -c "
import json; d=json.load(open('$R/run/vagent/status.json'))
k={x['key']:x for x in d['keys']}['ssh_keys']
assert k['status'] == 'partial' and 'not a private key' in k['reason'], k" 2>/dev/null &&
	[ -s "$R/etc/ssh/ssh_host_ed25519_key" ] && ! cmp -s "$R/etc/ssh/ssh_host_ed25519_key" "$SCRATCH/given_ed25519"
ok $? "ssh_keys: a value that is not a private key is left out (partial); the type is generated"
rm -f "$MOCK_UD"

# --- an image without keys and without metadata; no sshd ------------------------------------
fresh nokeys
"$VAGENT" -c "$CONF" --root "$R" --metadata-url "$(closed_port_url)" boot --no-storage \
	>/dev/null 2>&1
modes_ok
ok $? "no keys and no metadata: all three types are made"
fresh nosshd
rm "$R/usr/sbin/sshd"
vag boot --no-storage >/dev/null 2>&1
[ "$(step_field host-keys result)" = skipped ] && [ -z "$(ls "$R/etc/ssh")" ]
ok $? "no OpenSSH server: skipped, nothing written"

# --- dry run ----------------------------------------------------------------------------------
fresh dry
set_id 0a1b2c3d-0000-4000-8000-0000000000f6
BEFORE=$(tree_sum "$R")
vag --dry-run boot --no-storage >"$SCRATCH/out-dry" 2>&1
[ "$(tree_sum "$R")" = "$BEFORE" ]
ok $? "dry run: nothing written"
grep -q "host-keys: would generate rsa, ecdsa, ed25519" "$SCRATCH/out-dry"
ok $? "dry run: the plan names the keys it would make"

# --- a crash after making the keys, before moving them in ----------------------------------
if grep -q hostkeys-generated "$VAGENT" 2>/dev/null; then
	fresh crash
	for t in rsa ecdsa ed25519; do ssh-keygen -q -N '' -t "$t" -f "$R/etc/ssh/ssh_host_${t}_key"; done
	IMAGE_SUM=$(keysum)
	set_id 0a1b2c3d-0000-4000-8000-000000000107
	VAGENT_FAULT=hostkeys-generated vag boot --no-storage >/dev/null 2>&1
	[ "$(keysum)" = "$IMAGE_SUM" ]
	ok $? "killed after ssh-keygen, before the rename: the image's keys are intact"
	vag boot --no-storage >/dev/null 2>&1
	[ "$(keysum)" != "$IMAGE_SUM" ] && [ -z "$(find "$R/etc/ssh" -name '.vagent-*')" ] && modes_ok
	ok $? "the next boot (still the instance's first) makes new keys, no temp directory left"
else
	tap_n=$((tap_n + 1))
	echo "ok $tap_n # SKIP fault injection not compiled in (--enable-fault-injection)"
fi

# --- symlinks are never followed ----------------------------------------------------------------
fresh links
echo "outside" >"$SCRATCH/outside"
ln -s "$SCRATCH/outside" "$R/etc/ssh/ssh_host_ed25519_key"
ln -s /etc/passwd "$R/etc/ssh/ssh_host_rsa_key.pub"
set_id 0a1b2c3d-0000-4000-8000-000000000118
vag boot --no-storage >"$SCRATCH/out-links" 2>&1
[ "$(cat "$SCRATCH/outside")" = outside ] && [ ! -L "$R/etc/ssh/ssh_host_ed25519_key" ] &&
	[ ! -L "$R/etc/ssh/ssh_host_rsa_key.pub" ] && modes_ok
ok $? "key files that are symlinks are replaced, their targets untouched"
! grep -q "root:x:0:0" "$SCRATCH/out-links"
ok $? "a .pub symlink's target is never printed"

# --- [ssh] rsa-host-key = after-ssh: vagent.service leaves RSA to vagent-hostkeys.service -----
MARK=run/vagent/host-keys-after-ssh
pubsum() { (cd "$R/etc/ssh" && sha256sum ssh_host_*_key.pub 2>/dev/null | sort); }
fresh split
for t in rsa ecdsa ed25519; do ssh-keygen -q -N '' -t "$t" -f "$R/etc/ssh/ssh_host_${t}_key"; done
IMAGE_RSA=$(sha256sum <"$R/etc/ssh/ssh_host_rsa_key")
set_id 0a1b2c3d-0000-4000-8000-000000000120
vag -v boot --stage=boot >"$SCRATCH/out-split" 2>"$SCRATCH/err-split"
ok $? "the boot stage of a new instance exits 0"
[ ! -e "$R/etc/ssh/ssh_host_rsa_key" ] && [ ! -e "$R/etc/ssh/ssh_host_rsa_key.pub" ] &&
	[ -s "$R/etc/ssh/ssh_host_ed25519_key" ] && [ -s "$R/etc/ssh/ssh_host_ecdsa_key.pub" ]
ok $? "boot stage: new ecdsa and ed25519 keys, the image's rsa key gone, no rsa key yet"
[ "$(cat "$R/$MARK")" = rsa ]
ok $? "boot stage: $MARK names rsa"
step_field host-keys message | grep -q "new host keys for the new instance: ecdsa, ed25519 (.*); rsa to be made after ssh.service (vagent-hostkeys.service)"
ok $? "boot stage: the message says rsa is left to vagent-hostkeys.service"
"$PYTHON3" -c "
import json; d=json.load(open('$R/run/vagent/status.json'))
fp=d['host_keys']; assert len(fp) == 2 and not any('(RSA)' in f for f in fp), fp" 2>/dev/null
ok $? "boot stage: status lists the two fingerprints there are"
SPLIT_SUM=$(pubsum)
# Another vagent on the host keys (the lock held): the after-ssh stage waits lock-timeout, fails.
printf '[storage]\nlock-timeout = 1s\n' | cat "$CONF" - >"$SCRATCH/lock.conf"
flock "$R/run/vagent/host-keys.lock" timeout 60 "$VAGENT" -c "$SCRATCH/lock.conf" --root "$R" \
	--metadata-url "$MOCK_URL" boot --stage=after-ssh >/dev/null 2>&1
[ $? = 1 ] && [ "$(step_field host-keys-after-ssh result)" = failed ] &&
	step_field host-keys-after-ssh message | grep -q "another vagent is working on the host keys" &&
	[ ! -e "$R/etc/ssh/ssh_host_rsa_key" ] && [ "$(cat "$R/$MARK")" = rsa ]
ok $? "after-ssh with the host-keys lock held: fails naming it, rsa still left to it"
# The run lock held (the user-data unit running beside it): the after-ssh stage does not wait.
flock "$R/run/vagent/run.lock" timeout 60 "$VAGENT" -v -c "$CONF" --root "$R" \
	--metadata-url "$MOCK_URL" boot --stage=after-ssh >"$SCRATCH/out-after" 2>"$SCRATCH/err-after"
ok $? "the after-ssh stage exits 0 while another run holds the run lock"
[ -s "$R/etc/ssh/ssh_host_rsa_key" ] && modes_ok &&
	[ "$(sha256sum <"$R/etc/ssh/ssh_host_rsa_key")" != "$IMAGE_RSA" ] &&
	cmp -s <(cut -d' ' -f1-2 "$R/etc/ssh/ssh_host_rsa_key.pub") \
		<(ssh-keygen -y -f "$R/etc/ssh/ssh_host_rsa_key" | cut -d' ' -f1-2)
ok $? "after-ssh: a new rsa pair (not the image's), modes 0600/0644"
[ "$(pubsum | grep -v rsa)" = "$(echo "$SPLIT_SUM" | grep -v rsa)" ]
ok $? "after-ssh: the ecdsa and ed25519 keys are untouched"
[ ! -e "$R/$MARK" ]
ok $? "after-ssh: $MARK removed"
[ "$(step_field host-keys-after-ssh result)" = changed ] &&
	step_field host-keys-after-ssh message | grep -q "^generated rsa; keys: rsa, ecdsa, ed25519; not the running system: ssh.service left alone"
ok $? "after-ssh: changed, says what it made and that ssh.service was left alone (--root)"
[ "$(step_field host-keys result)" = changed ]
ok $? "after-ssh: the boot stage's host-keys outcome is still in the report"
"$PYTHON3" -c "
import json; d=json.load(open('$R/run/vagent/status.json'))
fp=d['host_keys']; assert len(fp) == 3 and any('(RSA)' in f for f in fp), fp
assert 'after-ssh' in d['stages'] and 'boot' in d['stages'], d['stages']" 2>/dev/null
ok $? "after-ssh: status lists all three fingerprints and both stages"
sed -n '/BEGIN SSH HOST KEY FINGERPRINTS/,/END SSH HOST KEY FINGERPRINTS/p' "$SCRATCH/err-after" |
	grep -c '(RSA)\|(ECDSA)\|(ED25519)' | grep -qx 3
ok $? "after-ssh: the log has the fingerprint block with all three keys"
no_private "$SCRATCH/err-after" && no_private "$SCRATCH/out-after" && no_private "$R/run/vagent/status.json"
ok $? "after-ssh: no line of a private key in the output or the status"
vag boot --stage=after-ssh >/dev/null 2>&1
[ "$(step_field host-keys-after-ssh result)" = skipped ] &&
	step_field host-keys-after-ssh message | grep -q "no host key left for after ssh.service"
ok $? "after-ssh again: skipped, nothing left"
BEFORE=$(keysum)
vag boot --stage=boot >/dev/null 2>&1
[ "$(keysum)" = "$BEFORE" ] && [ ! -e "$R/$MARK" ]
ok $? "the next boot of the same instance: keys unchanged, nothing left for after ssh"
rm "$R/etc/ssh/ssh_host_rsa_key" "$R/etc/ssh/ssh_host_rsa_key.pub"
vag boot --stage=boot >/dev/null 2>&1
[ "$(cat "$R/$MARK" 2>/dev/null)" = rsa ] && [ ! -e "$R/etc/ssh/ssh_host_rsa_key" ] &&
	step_field host-keys message | grep -q "^keys: ecdsa, ed25519; rsa to be made after ssh.service"
ok $? "a later boot with the rsa key missing: left to after ssh again"
vag boot --stage=boot,after-ssh >/dev/null 2>&1
[ -s "$R/etc/ssh/ssh_host_rsa_key" ] && [ ! -e "$R/$MARK" ] && modes_ok
ok $? "--stage=boot,after-ssh in one run: the rsa key is made"
rm "$R/etc/ssh/ssh_host_rsa_key"
vag boot --no-storage >/dev/null 2>&1
[ -s "$R/etc/ssh/ssh_host_rsa_key" ] && [ ! -e "$R/$MARK" ] &&
	[ "$(step_field host-keys-after-ssh result)" = skipped ]
ok $? "vagent boot by hand (every stage): rsa made by host-keys at once"

# The marker holds the boot's progress: vagent-hostkeys.service is waited for only with it.
fresh splitwait
mkdir -p "$R/etc/systemd/system/multi-user.target.wants"
for u in vagent.service vagent-hostkeys.service; do
	ln -s "/lib/systemd/system/$u" "$R/etc/systemd/system/multi-user.target.wants/$u"
done
set_id 0a1b2c3d-0000-4000-8000-000000000121
vag boot --stage=boot >/dev/null 2>&1
vag status --wait --timeout 1 >/dev/null 2>"$SCRATCH/w-split.err"
[ $? = 1 ] && grep -q "Timed out after 1 s waiting for vagent-hostkeys.service" "$SCRATCH/w-split.err" &&
	[ ! -e "$R/run/vagent/boot-finished" ]
ok $? "status --wait waits for vagent-hostkeys.service while rsa is left to it"
vag boot --stage=after-ssh >/dev/null 2>&1
[ -s "$R/run/vagent/boot-finished" ] && vag status --wait --timeout 5 >/dev/null 2>&1
ok $? "vagent-hostkeys.service finished last: boot-finished, --wait returns 0"
fresh splitnone
mkdir -p "$R/etc/systemd/system/multi-user.target.wants"
for u in vagent.service vagent-hostkeys.service; do
	ln -s "/lib/systemd/system/$u" "$R/etc/systemd/system/multi-user.target.wants/$u"
done
for t in rsa ecdsa ed25519; do ssh-keygen -q -N '' -t "$t" -f "$R/etc/ssh/ssh_host_${t}_key"; done
printf '[ssh]\nhost-keys = keep\n' >"$SCRATCH/keep.conf"
cat "$CONF" "$SCRATCH/keep.conf" >"$SCRATCH/keep2.conf"
"$VAGENT" -c "$SCRATCH/keep2.conf" --root "$R" --metadata-url "$MOCK_URL" boot --stage=boot \
	>/dev/null 2>&1
[ ! -e "$R/$MARK" ] && [ -s "$R/run/vagent/boot-finished" ]
ok $? "every key there (host-keys = keep): nothing left, the boot stage finishes the boot"

# [ssh] rsa-host-key = before-ssh, ssh_genkeytypes without another type, the dry run.
fresh before
printf '[ssh]\nrsa-host-key = before-ssh\n' >"$SCRATCH/before.conf"
cat "$CONF" "$SCRATCH/before.conf" >"$SCRATCH/before2.conf"
set_id 0a1b2c3d-0000-4000-8000-000000000122
"$VAGENT" -c "$SCRATCH/before2.conf" --root "$R" --metadata-url "$MOCK_URL" boot --stage=boot \
	>/dev/null 2>&1
modes_ok && [ ! -e "$R/$MARK" ]
ok $? "rsa-host-key = before-ssh: all three made by the boot stage"
fresh rsaonly
printf '#cloud-config\nssh_genkeytypes: [rsa]\n' >"$MOCK_UD"
set_id 0a1b2c3d-0000-4000-8000-000000000123
vag boot --stage=boot >/dev/null 2>&1
[ -s "$R/etc/ssh/ssh_host_rsa_key" ] && [ ! -e "$R/etc/ssh/ssh_host_ed25519_key" ] &&
	[ ! -e "$R/$MARK" ]
ok $? "ssh_genkeytypes: [rsa]: rsa is the only key, made before ssh"
rm -f "$MOCK_UD"
fresh drysplit
set_id 0a1b2c3d-0000-4000-8000-000000000124
BEFORE=$(tree_sum "$R")
vag --dry-run boot --stage=boot >"$SCRATCH/out-drysplit" 2>&1
[ "$(tree_sum "$R")" = "$BEFORE" ] &&
	grep -q "host-keys: would leave the rsa key to vagent-hostkeys.service" "$SCRATCH/out-drysplit" &&
	grep -q "host-keys: would generate ecdsa, ed25519" "$SCRATCH/out-drysplit"
ok $? "dry run of the boot stage: nothing written; the plan leaves rsa to vagent-hostkeys.service"
vag --dry-run boot --stage=after-ssh >"$SCRATCH/out-drysplit2" 2>&1
[ "$(tree_sum "$R")" = "$BEFORE" ]
ok $? "dry run of the after-ssh stage: nothing written"

# --- the keygen stage (vagent-keygen.service): spare keys, taken instead of ssh-keygen ---------
SPARE=run/vagent/host-keys-spare
sparesum() { (cd "$R/$SPARE" && sha256sum ssh_host_*_key ssh_host_*_key.pub 2>/dev/null | sort); }
fresh spare
vag -v boot --stage=keygen >"$SCRATCH/out-spare" 2>"$SCRATCH/err-spare"
ok $? "keygen stage on an image without keys or cache exits 0"
spare_pairs_ok() {
	local t
	[ "$(stat -c %a "$R/$SPARE")" = 700 ] && [ "$(ls "$R/$SPARE" | wc -l)" = 6 ] || return 1
	for t in rsa ecdsa ed25519; do
		[ "$(stat -c %a "$R/$SPARE/ssh_host_${t}_key")" = 600 ] &&
			[ "$(stat -c %a "$R/$SPARE/ssh_host_${t}_key.pub")" = 644 ] &&
			cmp -s <(cut -d' ' -f1-2 "$R/$SPARE/ssh_host_${t}_key.pub") \
				<(ssh-keygen -y -f "$R/$SPARE/ssh_host_${t}_key" | cut -d' ' -f1-2) ||
			return 1
	done
}
spare_pairs_ok
ok $? "keygen: three spare pairs in $SPARE (0700), 0600/0644, each .pub its key's"
[ -z "$(ls -A "$R/etc/ssh")" ]
ok $? "keygen: nothing written to /etc/ssh"
[ "$(step_field host-keys-spare result)" = changed ] &&
	step_field host-keys-spare message | grep -q "^made spare rsa, ecdsa, ed25519 host keys in /run/vagent/host-keys-spare (no cached document: a first boot); rsa under SCHED_IDLE until the boot waited for it$"
ok $? "keygen: status says what it made, why, and that rsa ran under SCHED_IDLE"
! grep -q -- "-----BEGIN" "$SCRATCH/out-spare" "$SCRATCH/err-spare"
ok $? "keygen: no private key in the output"
SPARE_SUM=$(sparesum)
vag boot --stage=keygen >/dev/null 2>&1
[ "$(step_field host-keys-spare result)" = unchanged ] && [ "$(sparesum)" = "$SPARE_SUM" ]
ok $? "keygen again: unchanged, the spares are not made twice"
vag boot --stage=keygen,boot >/dev/null 2>&1
[ $? = 2 ]
ok $? "--stage=keygen,boot: a usage error (keygen runs alone)"
set_id 0a1b2c3d-0000-4000-8000-000000000130
vag -v boot --stage=boot >"$SCRATCH/out-take" 2>"$SCRATCH/err-take"
ok $? "the boot stage with three spares exits 0"
[ "$( (cd "$R/etc/ssh" && sha256sum ssh_host_*_key ssh_host_*_key.pub | sort))" = "$SPARE_SUM" ] &&
	modes_ok
ok $? "boot stage: the keys in /etc/ssh are the spares, byte for byte, modes 0600/0644"
[ -z "$(ls -A "$R/$SPARE")" ]
ok $? "boot stage: every spare taken is gone from $SPARE (a key is used once)"
[ ! -e "$R/$MARK" ] && step_field host-keys message | grep -q "new host keys for the new instance: rsa, ecdsa, ed25519" &&
	! step_field host-keys message | grep -q "after ssh.service"
ok $? "boot stage: the rsa spare was ready, so rsa went in before ssh (nothing left for after it)"
grep -q "Took the spare rsa, ecdsa, ed25519 host keys made at the start of this boot." "$SCRATCH/err-take"
ok $? "boot stage: the log says the spares were taken"

# Only what is missing once there is a cache; nothing with every key there.
vag boot --stage=keygen >/dev/null 2>&1
[ "$(step_field host-keys-spare result)" = unchanged ] &&
	step_field host-keys-spare message | grep -q "^no spare host key to make (keys: rsa, ecdsa, ed25519)$" &&
	[ -z "$(ls -A "$R/$SPARE")" ]
ok $? "keygen with every key and a cache: nothing to make"
rm -f "$R/etc/ssh/ssh_host_ed25519_key" "$R/etc/ssh/ssh_host_ed25519_key.pub"
vag boot --stage=keygen >/dev/null 2>&1
[ "$(ls "$R/$SPARE")" = "$(printf 'ssh_host_ed25519_key\nssh_host_ed25519_key.pub')" ] &&
	step_field host-keys-spare message | grep -q "^made spare ed25519 host keys in .* (missing from /etc/ssh)$"
ok $? "keygen with ed25519 missing: an ed25519 spare only"

# The RSA spare made after the boot stage looked: vagent-hostkeys.service (after-ssh) takes it.
fresh spare-late
vag boot --stage=keygen >/dev/null 2>&1
mkdir "$SCRATCH/held" && mv "$R/$SPARE"/ssh_host_rsa_key* "$SCRATCH/held/"
set_id 0a1b2c3d-0000-4000-8000-000000000131
vag boot --stage=boot >/dev/null 2>&1
[ "$(cat "$R/$MARK")" = rsa ] && [ ! -e "$R/etc/ssh/ssh_host_rsa_key" ]
ok $? "no rsa spare yet at the boot stage: rsa left to after ssh.service"
mv "$SCRATCH/held"/* "$R/$SPARE/"
HELD=$(cd "$R/$SPARE" && sha256sum ssh_host_rsa_key ssh_host_rsa_key.pub)
vag -v boot --stage=after-ssh >/dev/null 2>"$SCRATCH/err-late-take"
[ "$(cd "$R/etc/ssh" && sha256sum ssh_host_rsa_key ssh_host_rsa_key.pub)" = "$HELD" ] &&
	[ -z "$(ls -A "$R/$SPARE")" ] && [ ! -e "$R/$MARK" ] &&
	grep -q "Took the spare rsa host key" "$SCRATCH/err-late-take"
ok $? "after-ssh: the rsa spare is installed (no ssh-keygen), taken from $SPARE"

# A spare directory others can read is never used: the keys are made anew.
fresh spare-open
vag boot --stage=keygen >/dev/null 2>&1
SPARE_SUM=$(sparesum)
chmod 0755 "$R/$SPARE"
set_id 0a1b2c3d-0000-4000-8000-000000000132
vag -v boot --stage=boot,after-ssh >/dev/null 2>"$SCRATCH/err-open"
ok $? "the boot with a spare directory of mode 0755 exits 0"
[ -s "$R/etc/ssh/ssh_host_rsa_key" ] &&
	[ -z "$(cd "$R/etc/ssh" && sha256sum ssh_host_*_key | sort | cut -d' ' -f1 | grep -Ff <(echo "$SPARE_SUM" | cut -d' ' -f1))" ] &&
	[ "$(sparesum)" = "$SPARE_SUM" ] &&
	grep -q "'/run/vagent/host-keys-spare' is not a directory only root can read: its keys are not used." "$SCRATCH/err-open"
ok $? "a spare directory of mode 0755: its keys not used (warned), new ones made"

# [ssh] rsa-host-key = before-ssh: vagent.service makes RSA at full speed, no RSA spare.
fresh spare-before
printf '[ssh]\nrsa-host-key = before-ssh\n' | cat "$CONF" - >"$SCRATCH/before.conf"
"$VAGENT" -c "$SCRATCH/before.conf" --root "$R" boot --stage=keygen >/dev/null 2>&1
[ "$(ls "$R/$SPARE" | grep -c rsa)" = 0 ] && [ "$(ls "$R/$SPARE" | wc -l)" = 4 ]
ok $? "rsa-host-key = before-ssh: spares of ecdsa and ed25519 only"
fresh spare-dry
BEFORE=$(tree_sum "$R")
vag --dry-run boot --stage=keygen >"$SCRATCH/out-spare-dry" 2>&1
[ "$(tree_sum "$R")" = "$BEFORE" ] &&
	grep -q "host-keys-spare: would make spare rsa, ecdsa, ed25519 keys in /run/vagent/host-keys-spare" "$SCRATCH/out-spare-dry"
ok $? "dry run of the keygen stage: nothing written, the plan names the spares"

# The fingerprints come from one ssh-keygen run over every .pub; a .pub ssh-keygen cannot read
# (it would skip it without a word) sends them key by key: the good ones listed, the bad named.
fresh badpub
for t in rsa ecdsa ed25519; do ssh-keygen -q -N '' -t "$t" -f "$R/etc/ssh/ssh_host_${t}_key"; done
echo "ecdsa-sha2-nistp256 AAAAbroken image" >"$R/etc/ssh/ssh_host_ecdsa_key.pub"
"$VAGENT" -c "$SCRATCH/keep2.conf" --root "$R" --metadata-url "$MOCK_URL" boot --no-storage \
	>/dev/null 2>"$SCRATCH/err-badpub"
FP_RSA=$(ssh-keygen -l -f "$R/etc/ssh/ssh_host_rsa_key.pub")
FP_ED=$(ssh-keygen -l -f "$R/etc/ssh/ssh_host_ed25519_key.pub")
[ "$("$PYTHON3" -c "import json; print(json.load(open('$R/run/vagent/status.json'))['host_keys'])")" = \
	"$("$PYTHON3" -c "import sys; print(sys.argv[1:])" "$FP_ED" "$FP_RSA")" ] &&
	grep -q "ssh-keygen for ssh_host_ecdsa_key.pub exited with status" "$SCRATCH/err-badpub"
ok $? "an unreadable .pub: the other two fingerprints listed, in name order; the bad one named"

tap_done
