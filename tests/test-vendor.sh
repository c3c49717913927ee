#!/bin/bash
# SPDX-License-Identifier: MIT
# An instance born from an image, through the real binary, the real chpasswd/passwd and the mock
# metadata service, in scratch --roots: the request headers ([metadata] header); vendor data
# (Vultr's root hash into etc/shadow, ssh_pwauth, the user's cloud-config winning key by key,
# vendor_data: {enabled: false}, MIME and "#!" vendor data, its scripts once and before the
# user's); chpasswd's forms and the users' passwords; the startup script (once, with bash, never
# the placeholder, a #cloud-config one merged between vendor and user); the script directories
# per-once, per-boot and per-instance with their frequencies and order; no hash or password in
# any output.
. "$(dirname "$0")/lib.sh"
need_root "chpasswd -R and passwd -R chroot into the scratch root"
command -v chpasswd >/dev/null || skip_all "chpasswd (passwd) is not installed"

CONF="$SCRATCH/vagent.conf"
fast_conf "$CONF" 2s
HLOG="$SCRATCH/headers.log"
start_mock --header-log "$HLOG"
ID_A=7c1e9a52-4b3d-4f8e-a6d1-2e5f0c9b8a34
ID_B=0a1b2c3d-0000-4000-8000-0000000000b2
# Vultr's vendor data as cloud-init's tests carry it (the hash of "hunter2"-like secret).
ROOT_HASH='$6$S2SmujFrCbMsobmu$5PPQqWGvBtONTg3NUW/MDhyz7l3lpYEyQ8w9gOJE.RQPlueITLXJRM4DKEbQHdc/VqxmIR9Urw0jPZ88i4yvB/'
VENDOR="#cloud-config
package_upgrade: true
disable_root: 0
ssh_pwauth: 1
chpasswd:
  expire: false
  list:
  - root:$ROOT_HASH
"
PLAIN=Plain-Secret-Pw-42

fresh() {
	R="$SCRATCH/$1"
	make_root "$R"
	printf 'root:*:19000:0:99999:7:::\nadmin:!:19000:0:99999:7:::\n' >"$R/etc/shadow"
	chmod 0640 "$R/etc/shadow"
	printf 'root:x:0:\nadmin:x:1000:\n' >"$R/etc/group"
	mkdir -p "$R/etc/ssh/sshd_config.d"
	printf 'Include /etc/ssh/sshd_config.d/*.conf\nKbdInteractiveAuthentication no\n' \
		>"$R/etc/ssh/sshd_config"
	ORDER="$R/order.txt"
}
vag() { "$VAGENT" -c "$CONF" --root "$R" --metadata-url "$MOCK_URL" "$@"; }
# doc KEY VALUE (VALUE "-" deletes KEY; "@FILE" takes the file's text); instance-v2-id too.
doc() {
	"$PYTHON3" - "$MOCK_DOC" "$1" "$2" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
k, v = sys.argv[2], sys.argv[3]
if v == "-":
    d.pop(k, None)
elif v.startswith("@"):
    d[k] = open(v[1:]).read()
else:
    d[k] = v
json.dump(d, open(sys.argv[1] + ".tmp", "w"))
import os; os.replace(sys.argv[1] + ".tmp", sys.argv[1])
EOF
}
reset_doc() {
	cp "$FIXTURES/v1-typical.json" "$MOCK_DOC"
	doc instance-v2-id "${1:-$ID_A}"
}
step_field() { # step_field NAME FIELD
	"$PYTHON3" -c "
import json; d=json.load(open('$R/run/vagent/status.json'))
print({s['name']:s for s in d['steps']}['$1']['$2'])"
}
msg_has() { # msg_has STEP TEXT: the step's status message contains TEXT
	[[ $(step_field "$1" message) == *"$2"* ]]
}
shadow_of() { awk -F: -v u="$1" '$1 == u { print $2 }' "$R/etc/shadow"; }
lastchg_of() { awk -F: -v u="$1" '$1 == u { print $3 }' "$R/etc/shadow"; }
pwauth() { sed -n 's/^PasswordAuthentication //p' "$R/etc/ssh/sshd_config.d/50-vagent.conf" 2>/dev/null; }
# Every output of a run: the given files, the status files, the logs in vagent's state.
no_secret() { # no_secret FILE...: neither the hash, nor its salt, nor the plain password
	local f
	for f in "$@" "$R/run/vagent/status.json" "$R/var/lib/vagent/last-boot.json" \
		$(find "$R/var/lib/vagent" -name '*.log' 2>/dev/null); do
		[ -f "$f" ] || continue
		if grep -qF -e 'S2SmujFrCbMsobmu' -e "$PLAIN" -e 'Other-Plain-7' "$f"; then
			echo "# a secret in $f"
			return 1
		fi
	done
}

# --- the request headers --------------------------------------------------------------------
fresh headers
reset_doc
: >"$HLOG"
vag boot --no-storage >/dev/null 2>&1
ok $? "boot with the default headers"
check "default: Metadata-Token: cloudinit sent for v1.json" \
	grep -qx $'/v1.json\tMetadata-Token: cloudinit' "$HLOG"
check "default: vagent's own User-Agent kept" grep -qE $'^/v1.json\tUser-Agent: vagent/' "$HLOG"
HCONF="$SCRATCH/headers.conf"
{ cat "$CONF"; printf 'header = X-One: 1\nheader = X-Two: two words\n'; } >"$HCONF"
: >"$HLOG"
"$VAGENT" -c "$HCONF" --root "$R" --metadata-url "$MOCK_URL" boot --no-storage >/dev/null 2>&1
ok $? "boot with two configured headers"
check "configured: both headers sent" bash -c "grep -qx $'/v1.json\tX-One: 1' '$HLOG' &&
	grep -qx $'/v1.json\tX-Two: two words' '$HLOG'"
check "configured: the file's headers replace the default" bash -c "! grep -q Metadata-Token '$HLOG'"
"$VAGENT" -c "$HCONF" --dump-config >"$SCRATCH/dump" 2>&1
check "--dump-config: one line per header" bash -c "grep -qx 'header = X-One: 1' '$SCRATCH/dump' &&
	grep -qx 'header = X-Two: two words' '$SCRATCH/dump'"
{ cat "$CONF"; printf 'header = none\n'; } >"$HCONF"
: >"$HLOG"
"$VAGENT" -c "$HCONF" --root "$R" --metadata-url "$MOCK_URL" boot --no-storage >/dev/null 2>&1
ok $? "boot with header = none"
check "none: no Metadata-Token" bash -c "! grep -q Metadata-Token '$HLOG' && grep -q User-Agent '$HLOG'"
for bad in 'User-Agent: other' 'no colon here' 'Bad Name: x' ': empty'; do
	{ cat "$CONF"; printf 'header = %s\n' "$bad"; } >"$HCONF"
	"$VAGENT" -c "$HCONF" --dump-config >/dev/null 2>"$SCRATCH/bad.err"
	rc=$?
	ok "$([ "$rc" != 0 ] && [ "$(wc -l <"$SCRATCH/bad.err")" = 1 ] &&
		grep -q "header" "$SCRATCH/bad.err"; echo $?)" "header = '$bad' refused in one line ($(cat "$SCRATCH/bad.err"))"
done

# --- vendor data alone: Vultr's root password, ssh_pwauth ---------------------------------
fresh vendor-only
reset_doc
printf '%s' "$VENDOR" >"$SCRATCH/vendor"
doc vendor-data "@$SCRATCH/vendor"
vag -v boot --no-storage >"$SCRATCH/out1" 2>&1
ok $? "vendor data only: boot exits 0"
[ "$(shadow_of root)" = "$ROOT_HASH" ]
ok $? "vendor data: root's hash in etc/shadow is the vendor's"
check "vendor data: expire: false leaves root's last change alone" test "$(lastchg_of root)" != 0
check "vendor data: ssh_pwauth 1 -> PasswordAuthentication yes" test "$(pwauth)" = yes
check "vendor data: the drop-in is 0644" test "$(stat -c %a "$R/etc/ssh/sshd_config.d/50-vagent.conf")" = 644
check "vendor data: sshd_config itself untouched" grep -qx 'KbdInteractiveAuthentication no' "$R/etc/ssh/sshd_config"
step_field userdata message >"$SCRATCH/msg1"
check "status: the userdata step names the vendor data's keys ($(cat "$SCRATCH/msg1"))" \
	grep -q "from the vendor data" "$SCRATCH/msg1"
check "status: userdata changed" test "$(step_field userdata result)" = changed
check "vendor data: no hash, no password in any output" no_secret "$SCRATCH/out1"
vag status >"$SCRATCH/st1" 2>&1
check "vendor data: not in vagent status" no_secret "$SCRATCH/st1"
"$VAGENT" -c "$CONF" --root "$R" metadata >"$SCRATCH/md1" 2>&1
check "vendor data: not in vagent metadata" no_secret "$SCRATCH/md1"
printf 'root:*:19000:0:99999:7:::\nadmin:!:19000:0:99999:7:::\n' >"$R/etc/shadow"
vag boot --no-storage >/dev/null 2>&1
check "vendor data: once per instance (the next boot sets nothing)" test "$(shadow_of root)" = '*'

# --- the user's cloud-config wins key by key ------------------------------------------------
fresh override
reset_doc
doc vendor-data "@$SCRATCH/vendor"
doc user-data $'#cloud-config\nssh_pwauth: false\n'
vag boot --no-storage >"$SCRATCH/out2" 2>&1
ok $? "user overrides ssh_pwauth: boot exits 0"
check "override: the user's ssh_pwauth (no) wins" test "$(pwauth)" = no
check "override: the vendor's chpasswd still applies" test "$(shadow_of root)" = "$ROOT_HASH"
check "override: no secret in any output" no_secret "$SCRATCH/out2"

# --- vendor_data: {enabled: false} in the user data ----------------------------------------
fresh disabled
reset_doc
printf '%s\nvendor_data: {enabled: true}\n' "$VENDOR" >"$SCRATCH/vendor-reenable"
doc vendor-data "@$SCRATCH/vendor-reenable"
doc user-data $'#cloud-config\nvendor_data: {enabled: false}\n'
vag boot --no-storage >"$SCRATCH/out3" 2>&1
ok $? "vendor data disabled: boot exits 0"
check "disabled: etc/shadow untouched" test "$(shadow_of root)" = '*'
check "disabled: no sshd drop-in" test ! -e "$R/etc/ssh/sshd_config.d/50-vagent.conf"
check "disabled: the userdata step says so" msg_has userdata 'vendor data disabled by the user data'

# --- MIME vendor data with a script part, and a "#!" vendor data --------------------------
fresh mime
reset_doc
"$PYTHON3" - "$SCRATCH/vendor-mime" "$ROOT_HASH" "$ORDER" <<'EOF'
import sys
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
m = MIMEMultipart()
m.attach(MIMEText("#cloud-config\nssh_pwauth: true\nchpasswd: {expire: false, list: ['root:%s']}\n" % sys.argv[2], "cloud-config"))
m.attach(MIMEText("#!/bin/sh\necho vendor-part >>%s\n" % sys.argv[3], "x-shellscript"))
open(sys.argv[1], "w").write(m.as_string())
EOF
doc vendor-data "@$SCRATCH/vendor-mime"
printf '#!/bin/sh\necho user >>%s\n' "$R/order.txt" >"$SCRATCH/ud-script"
doc user-data "@$SCRATCH/ud-script"
vag boot --no-storage >"$SCRATCH/out4" 2>&1
ok $? "MIME vendor data: boot exits 0"
check "MIME vendor data: its cloud-config part applied" test "$(shadow_of root)" = "$ROOT_HASH"
check "MIME vendor data: its script part ran before the user's script" \
	test "$(tr '\n' ' ' <"$ORDER")" = "vendor-part user "
check "status: vendor-scripts changed" test "$(step_field vendor-scripts result)" = changed
vag boot --no-storage >/dev/null 2>&1
check "MIME vendor data: its script ran once per instance" test "$(tr '\n' ' ' <"$ORDER")" = "vendor-part user "
check "status: vendor-scripts on the next boot: unchanged" test "$(step_field vendor-scripts result)" = unchanged
check "MIME vendor data: no secret in any output" no_secret "$SCRATCH/out4"

fresh shebang
reset_doc
printf '#!/bin/sh\necho vendor-whole >>%s\n' "$R/order.txt" >"$SCRATCH/vendor-sh"
doc vendor-data "@$SCRATCH/vendor-sh"
vag boot --no-storage >/dev/null 2>&1
ok $? "\"#!\" vendor data: boot exits 0"
check "\"#!\" vendor data: ran" test "$(cat "$ORDER")" = vendor-whole
doc user-data $'#cloud-config\nvendor_data: {enabled: false}\n'
doc instance-v2-id "$ID_B"
vag boot --no-storage >/dev/null 2>&1
check "\"#!\" vendor data disabled on the next instance: not run" test "$(cat "$ORDER")" = vendor-whole
check "status: vendor-scripts skipped (disabled)" msg_has vendor-scripts 'disabled by the user data'

# --- passwords from the user data: chpasswd's forms, users' passwords, password ----------
fresh passwords
reset_doc
OTHER_HASH=$(openssl passwd -6 -salt otherSALT Other-Plain-7)
cat >"$SCRATCH/ud-pw" <<EOF
#cloud-config
chpasswd:
  list: |
    admin:$PLAIN
  users:
  - {name: root, password: '$OTHER_HASH'}
EOF
doc user-data "@$SCRATCH/ud-pw"
vag --dry-run boot --no-storage >"$SCRATCH/dry" 2>&1
ok $? "passwords: dry run exits 0"
check "passwords: the dry run names the users, not the values" bash -c "
	grep -q \"would set the password of 'admin' (plain text\" '$SCRATCH/dry' &&
	grep -q \"would set the password of 'root' (a hash)\" '$SCRATCH/dry'"
check "passwords: the dry run changed nothing" test "$(shadow_of admin)" = '!'
vag -v boot --no-storage >"$SCRATCH/out5" 2>&1
ok $? "passwords: boot exits 0"
[[ $(shadow_of admin) == \$6\$* ]] && [ "$(shadow_of admin)" != "$PLAIN" ]
ok $? "list string form, plain text: admin got a SHA-512 hash, not the text"
check "users form, a hash: root's is the given one" test "$(shadow_of root)" = "$OTHER_HASH"
check "expire (default true): admin must change it" test "$(lastchg_of admin)" = 0
check "expire (default true): root too (cloud-init expires hashed ones)" test "$(lastchg_of root)" = 0
check "passwords: no secret in any output" no_secret "$SCRATCH/out5" "$SCRATCH/dry"

fresh user-pw
reset_doc
cat >"$SCRATCH/ud-pw2" <<EOF
#cloud-config
password: $PLAIN
chpasswd: {expire: false}
users:
- default
- name: admin
  hashed_passwd: '$OTHER_HASH'
  lock_passwd: false
- name: admin2
  hashed_passwd: '$OTHER_HASH'
EOF
doc user-data "@$SCRATCH/ud-pw2"
vag boot --no-storage >"$SCRATCH/out6" 2>&1
ok $? "password / hashed_passwd: boot exits 0"
check "password: the default user's ([ssh] user root) is hashed" bash -c "[[ \$(awk -F: '\$1==\"root\"{print \$2}' '$R/etc/shadow') == \\\$6\\\$* ]]"
check "hashed_passwd: admin's is the given hash" test "$(shadow_of admin)" = "$OTHER_HASH"
check "hashed_passwd with lock_passwd's default (true): set, then locked as cloud-init does" \
	test "$(shadow_of admin2)" = "!$OTHER_HASH"
check "expire: false: root's last change is not 0" test "$(lastchg_of root)" != 0
check "password / hashed_passwd: no secret in any output" no_secret "$SCRATCH/out6"

fresh pw-bad
reset_doc
doc user-data $'#cloud-config\nchpasswd: {list: [nobody-here:x1]}\nssh_pwauth: unchanged\n'
vag boot --no-storage >"$SCRATCH/out7" 2>&1
ok "$([ $? = 1 ]; echo $?)" "chpasswd for a user who does not exist: the boot reports a failure"
check "the failure names the user in one line" grep -q "no user 'nobody-here'" "$SCRATCH/out7"
check "ssh_pwauth: unchanged leaves sshd alone (no drop-in)" test ! -e "$R/etc/ssh/sshd_config.d/50-vagent.conf"
check "x1 never shown" bash -c "! grep -q 'x1' '$SCRATCH/out7'"

# --- the startup script ------------------------------------------------------------------
fresh startup
reset_doc
printf 'if [[ -n "$BASH_VERSION" ]]; then echo startup-bash >>%s; fi\necho startup-out\n' "$R/order.txt" >"$SCRATCH/startup.sh"
doc startup-script "@$SCRATCH/startup.sh"
vag boot --no-storage >"$SCRATCH/out8" 2>&1
ok $? "startup script: boot exits 0"
check "startup script without #!: ran with bash" test "$(cat "$ORDER")" = startup-bash
check "status: startup-script changed" test "$(step_field startup-script result)" = changed
LOG="$R/var/lib/vagent/instances/$ID_A/startup-script.log"
check "startup script: its output in a 0600 log" bash -c "[ \"\$(stat -c %a '$LOG')\" = 600 ] && grep -qx startup-out '$LOG'"
check "startup script: its text never in the output" bash -c "! grep -q BASH_VERSION '$SCRATCH/out8' '$R/run/vagent/status.json'"
vag boot --no-storage >/dev/null 2>&1
check "startup script: once per instance" test "$(cat "$ORDER")" = startup-bash
check "status: on the next boot unchanged" test "$(step_field startup-script result)" = unchanged
doc instance-v2-id "$ID_B"
doc startup-script 'echo No configured startup script'
vag -v boot --no-storage >"$SCRATCH/out9" 2>&1
check "the placeholder: never run" bash -c "! grep -q 'No configured startup script' '$SCRATCH/out9' &&
	[ ! -e '$R/var/lib/vagent/instances/$ID_B/startup-script.log' ]"
check "status: the placeholder is no startup script" test "$(step_field startup-script message)" = "no startup script"
doc startup-script $'  \n'
vag boot --no-storage >/dev/null 2>&1
check "an empty startup script: skipped" test "$(step_field startup-script message)" = "no startup script"

fresh startup-cc
reset_doc
doc vendor-data "@$SCRATCH/vendor"
doc startup-script $'#cloud-config\nssh_pwauth: false\n'
vag boot --no-storage >/dev/null 2>&1
ok $? "#cloud-config startup script: boot exits 0"
check "#cloud-config startup script wins over the vendor data" test "$(pwauth)" = no
check "status: the startup-script step points at the userdata step" msg_has startup-script 'merged into the cloud-config'
fresh startup-cc2
reset_doc
doc vendor-data "@$SCRATCH/vendor"
doc startup-script $'#cloud-config\nssh_pwauth: false\n'
doc user-data $'#cloud-config\nssh_pwauth: true\n'
vag boot --no-storage >/dev/null 2>&1
check "the user data wins over a #cloud-config startup script" test "$(pwauth)" = yes

# --- the script directories: order, frequencies, argv ------------------------------------
fresh dirs
reset_doc
D="$R/var/lib/cloud/scripts"
mkdir -p "$D/per-once" "$D/per-boot" "$D/per-instance"
mk() { printf '#!/bin/sh\necho "%s $# ${INSTANCE_ID:-}" >>%s\n' "$2" "$ORDER" >"$1"; chmod 0755 "$1"; }
mk "$D/per-once/a" once
mk "$D/per-boot/2-b" boot2
mk "$D/per-boot/10-a" boot10
mk "$D/per-instance/x" instance
printf '#!/bin/sh\necho never >>%s\n' "$ORDER" >"$D/per-boot/not-executable"
printf '#!/bin/sh\necho vendor >>%s\n' "$ORDER" >"$SCRATCH/vendor-sh2"
doc vendor-data "@$SCRATCH/vendor-sh2"
printf 'echo startup >>%s\n' "$ORDER" >"$SCRATCH/startup2"
doc startup-script "@$SCRATCH/startup2"
printf '#cloud-config\nruncmd:\n- [sh, -c, "echo runcmd >>%s"]\n' "$ORDER" >"$SCRATCH/ud-run"
doc user-data "@$SCRATCH/ud-run"
vag -v boot --no-storage >"$SCRATCH/out10" 2>&1
ok $? "script directories: boot exits 0"
cat >"$SCRATCH/want1" <<EOF
vendor
startup
once 0 $ID_A
boot10 0 $ID_A
boot2 0 $ID_A
instance 0 $ID_A
runcmd
EOF
check "first boot: vendor, startup, per-once, per-boot (by name), per-instance, then the user's" \
	diff -u "$SCRATCH/want1" "$ORDER"
check "a file that is not executable: a warning, not run" bash -c "grep -q \"not-executable' is not executable\" '$SCRATCH/out10' && ! grep -q never '$ORDER'"
for s in scripts-per-once scripts-per-boot scripts-per-instance; do
	check "status: $s changed" test "$(step_field $s result)" = changed
done
check "status: per-boot's message counts them" test "$(step_field scripts-per-boot message)" = "2 scripts in /var/lib/cloud/scripts/per-boot ran"
check "the scripts' output in a 0600 log" test "$(stat -c %a "$R/var/lib/vagent/instances/$ID_A/scripts-per-instance.log")" = 600
: >"$ORDER"
vag boot --no-storage >/dev/null 2>&1
printf 'boot10 0 %s\nboot2 0 %s\n' "$ID_A" "$ID_A" >"$SCRATCH/want2"
check "next boot, same instance: per-boot only" diff -u "$SCRATCH/want2" "$ORDER"
check "status: per-once unchanged (already ran on this machine)" test "$(step_field scripts-per-once result)" = unchanged
: >"$ORDER"
doc instance-v2-id "$ID_B"
vag boot --no-storage >/dev/null 2>&1
printf 'startup\nboot10 0 %s\nboot2 0 %s\ninstance 0 %s\nruncmd\n' "$ID_B" "$ID_B" "$ID_B" >"$SCRATCH/want3"
printf 'vendor\n' | cat - "$SCRATCH/want3" >"$SCRATCH/want3b"
check "a new instance: per-boot and per-instance again, per-once not" diff -u "$SCRATCH/want3b" "$ORDER"
printf '#!/bin/sh\nexit 3\n' >"$D/per-boot/5-fails" && chmod 0755 "$D/per-boot/5-fails"
: >"$ORDER"
vag boot --no-storage >"$SCRATCH/out11" 2>&1
ok "$([ $? = 1 ]; echo $?)" "a failing per-boot script: the boot reports a failure"
check "a failing script does not stop the next one" test "$(wc -l <"$ORDER")" = 2
[ "$(step_field scripts-per-boot result)" = failed ] && msg_has scripts-per-boot '1 of 3 scripts' &&
	msg_has scripts-per-boot '(first: 5-fails)'
ok $? "status: per-boot failed, naming it ($(step_field scripts-per-boot message))"

tap_done
