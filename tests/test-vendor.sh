#!/bin/bash
# SPDX-License-Identifier: MIT
# The request headers ([metadata] header) through the real binary and the mock metadata
# service, in scratch --roots: the default Metadata-Token, repeated and removed headers, names
# vagent sets itself refused. (Vendor data, passwords, the startup script and the script
# directories come with their own commit.)
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

tap_done
