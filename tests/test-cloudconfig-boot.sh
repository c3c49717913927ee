#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration test of #cloud-config user data through the real binary against the mock metadata
# service, each scenario in a fresh scratch --root: every supported key, the shared fixture,
# MIME multipart, gzip, malformed YAML, unknown keys, dry run, secrets, once-per-instance and
# every-boot frequencies. Needs root: useradd --root chroots into the scratch root.
. "$(dirname "$0")/lib.sh"
need_root "useradd --root and groupadd --root chroot into the scratch root"
command -v useradd >/dev/null || skip_all "useradd (passwd package) is not installed"

CONF="$SCRATCH/vagent.conf"
fast_conf "$CONF" 3s
start_mock
ID=7c1e9a52-4b3d-4f8e-a6d1-2e5f0c9b8a34
KEY_CC='ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK7vQm1xY2n3Jr8Tz0pLq4sW5eD6fG7hJ8kL9mN0bV1c cc@example'
KEY_META='ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB3xQ1f8m2kq9Lw0TzR7cY4uV6pN5hJ2dE8sA1gK0oXr ops@example'

fresh() { R="$SCRATCH/$1"; make_root "$R"; INST="$R/var/lib/vagent/instances/$ID"; }
vag() { "$VAGENT" -c "$CONF" --root "$R" --metadata-url "$MOCK_URL" "$@"; }
step_field() { # step_field NAME FIELD: from the last status.json
	"$PYTHON3" -c "
import json,sys; d=json.load(open('$R/run/vagent/status.json'))
print({s['name']:s for s in d['steps']}['$1']['$2'])"
}

# --- every supported key ------------------------------------------------------------------
fresh all
GZB64=$(printf 'zipped\n' | gzip -c | base64 -w0)
cat >"$MOCK_UD" <<EOF
#cloud-config
hostname: web-01
fqdn: web-01.example.com
ssh_authorized_keys:
  - $KEY_CC
  - ssh-rsa AAAAnotbase64!! broken@example
users:
  - default
  - name: deploy
    gecos: Deploy User
    groups: [docker, adm]
    shell: /bin/sh
    sudo: ALL=(ALL) NOPASSWD:ALL
    ssh_authorized_keys:
      - $KEY_CC
  - name: admin
    sudo: false
write_files:
  - path: /etc/app/plain.conf
    content: |
      SECRET-MARKER-CC
  - path: /etc/app/secret.b64
    encoding: b64
    content: $(printf 'hello\n' | base64)
    permissions: '0600'
    owner: deploy:deploy
    defer: true
  - path: /etc/app/zipped
    encoding: gz+b64
    content: $GZB64
    permissions: 0640
  - path: /etc/app/appended
    append: true
    content: "second\n"
  - path: /etc/linked/through
    content: "must not land\n"
bootcmd:
  - echo boot >> $SCRATCH/bootcmd.txt
runcmd:
  - echo "run \$INSTANCE_ID" >> $SCRATCH/runcmd.txt
  - [sh, -c, "echo list >> $SCRATCH/runcmd.txt"]
  - [false]
packages: [curl]
package_update: true
mounts:
  - [vdc, /data, ext4]
  - ["UUID=0a0b", /srv, xfs, "defaults,noatime", "0", "0"]
disk_setup:
  /dev/vdb: {table_type: gpt}
fs_setup: []
snap: {commands: []}
byobu_by_default: system
EOF
mkdir -p "$R/etc/app" "$SCRATCH/elsewhere"
printf 'first\n' >"$R/etc/app/appended"
ln -s "$SCRATCH/elsewhere" "$R/etc/linked"
vag boot --no-storage >"$SCRATCH/out-all" 2>&1
rc=$?
ok $([ $rc = 1 ] && echo 0 || echo 1) "all keys: exit 1 (runcmd [false] and the symlinked path fail), got $rc"
check "hostname: short name from fqdn" grep -qx web-01 "$R/etc/hostname"
check "hosts: fqdn and short name" grep -qP '^127\.0\.1\.1\tweb-01\.example\.com web-01$' "$R/etc/hosts"
check "root keys: metadata and cloud-config keys in one block" bash -c "
	test \$(grep -c '^# BEGIN vagent' '$R/root/.ssh/authorized_keys') = 1 &&
	grep -qF '$KEY_META' '$R/root/.ssh/authorized_keys' && grep -qF '$KEY_CC' '$R/root/.ssh/authorized_keys'"
check "invalid cloud-config key: warning names its index" grep -q 'ssh_authorized_keys\[1\]: ' "$SCRATCH/out-all"
check "invalid cloud-config key: not printed" bash -c "! grep -q 'AAAAnotbase64' '$SCRATCH/out-all'"
check "users: deploy in etc/passwd with gecos and shell" grep -q '^deploy:[^:]*:[0-9]*:[0-9]*:Deploy User:/home/deploy:/bin/sh$' "$R/etc/passwd"
check "users: groups created, deploy a member" bash -c "grep -q '^docker:x:[0-9]*:deploy$' '$R/etc/group' && grep -q '^adm:x:[0-9]*:deploy$' '$R/etc/group'"
check "users: home created and owned by deploy" test "$(stat -c %U "$R/home/deploy" 2>/dev/null)" = "$(awk -F: '$1=="deploy"{print $3}' "$R/etc/passwd")" -o "$(stat -c %u "$R/home/deploy")" = "$(awk -F: '$1=="deploy"{print $3}' "$R/etc/passwd")"
check "users: password locked" bash -c "grep -q '^deploy:!' '$R/etc/shadow' 2>/dev/null || grep -q '^deploy:!' '$R/etc/passwd'"
check "users: sudoers.d file 0440 with the rule" bash -c "test \$(stat -c %a '$R/etc/sudoers.d/90-vagent-deploy') = 440 && grep -qx 'deploy ALL=(ALL) NOPASSWD:ALL' '$R/etc/sudoers.d/90-vagent-deploy'"
check "users: sudo false writes no rule" test ! -e "$R/etc/sudoers.d/90-vagent-admin"
check "users: deploy's own key block" bash -c "grep -qF '$KEY_CC' '$R/home/deploy/.ssh/authorized_keys' && test \$(stat -c %a '$R/home/deploy/.ssh/authorized_keys') = 600"
check "users: existing admin not modified beyond the password lock" grep -q '^admin:!x:1000:1000:Admin:/home/admin:/bin/bash$' "$R/etc/passwd"
check "write_files: plain, 0644" bash -c "grep -qx SECRET-MARKER-CC '$R/etc/app/plain.conf' && test \$(stat -c %a '$R/etc/app/plain.conf') = 644"
check "write_files: b64, 0600, owned by deploy (deferred after users)" bash -c "
	test \"\$(cat '$R/etc/app/secret.b64')\" = hello && test \$(stat -c %a '$R/etc/app/secret.b64') = 600 &&
	test \$(stat -c %u '$R/etc/app/secret.b64') = \$(awk -F: '\$1==\"deploy\"{print \$3}' '$R/etc/passwd')"
check "write_files: gz+b64, plain 0640 is octal" bash -c "test \"\$(cat '$R/etc/app/zipped')\" = zipped && test \$(stat -c %a '$R/etc/app/zipped') = 640"
check "write_files: append keeps the old content" bash -c "test \"\$(cat '$R/etc/app/appended')\" = \"\$(printf 'first\nsecond')\""
check "write_files: a symlinked parent is refused" bash -c "test ! -e '$SCRATCH/elsewhere/through' && grep -q \"'/etc/linked/through': a parent directory is a symlink\" '$SCRATCH/out-all'"
check "write_files: no temp files left" bash -c "! find '$R' -name '.#*' | grep -q ."
check "bootcmd ran once" test "$(cat "$SCRATCH/bootcmd.txt")" = boot
check "runcmd: string (sh -c, INSTANCE_ID set) and list" test "$(cat "$SCRATCH/runcmd.txt")" = "$(printf 'run %s\nlist' "$ID")"
check "runcmd: one script; its exit status is the last command's" grep -q "The script 'runcmd.script' of instance '$ID' exited with status 1" "$SCRATCH/out-all"
check "packages: skipped under --root" grep -q 'skipped under --root' "$SCRATCH/out-all"
check "mounts: two fstab lines marked, others kept" bash -c "
	grep -qP '^/dev/vdc\t/data\text4\tdefaults,nofail,x-systemd.after=vagent-userdata.service,_netdev,X-vagent.cloud-config\t0\t2$' '$R/etc/fstab' &&
	grep -qP '^UUID=0a0b\t/srv\txfs\tdefaults,noatime,X-vagent.cloud-config\t0\t0$' '$R/etc/fstab' &&
	grep -q '^UUID=1234 / ext4 errors=remount-ro 0 1$' '$R/etc/fstab'"
check "mounts: mount points created in the root" test -d "$R/data" -a -d "$R/srv"
check "disk_setup/fs_setup: one warning each about the storage step" bash -c "
	test \$(grep -c \"'disk_setup' is never executed: the storage step\" '$SCRATCH/out-all') = 1 &&
	test \$(grep -c \"'fs_setup' is never executed: the storage step\" '$SCRATCH/out-all') = 1"
check "unknown keys: one warning each, named" bash -c "
	test \$(grep -c \"key 'snap' is not supported by vagent, ignoring\" '$SCRATCH/out-all') = 1 &&
	test \$(grep -c \"key 'byobu_by_default' is not supported by vagent, ignoring\" '$SCRATCH/out-all') = 1"
msg=$(step_field userdata message)
ok $(echo "$msg" | grep -qx 'cloud-config: 6 keys applied, 2 partly applied (ssh_authorized_keys, write_files), 6 ignored (packages, package_update, disk_setup, fs_setup, ...)' && echo 0 || echo 1) "status: one line: $msg"
msg=$(step_field user-scripts message)
ok $(echo "$msg" | grep -qx 'runcmd: 3 commands ran with failures' && echo 0 || echo 1) "status: user-scripts: $msg"
check "status: user-scripts step failed (a runcmd command failed)" test "$(step_field user-scripts result)" = failed
check "status: userdata step failed" test "$(step_field userdata result)" = failed
check "status: bootcmd step changed" test "$(step_field bootcmd result)" = changed
check "secrets: content never in the output" bash -c "! grep -q SECRET-MARKER '$SCRATCH/out-all' && ! grep -rq SECRET-MARKER '$R/run' '$R/var/lib/vagent/last-boot.json'"
check "command output kept in a 0600 log" test "$(stat -c %a "$INST/cloud-config.log")" = 600

# --- second boot: bootcmd again, nothing else; the sync policy keeps cloud-config's key --------
before=$(tree_sum "$R" | grep -v -e status.json -e last-boot.json -e bootcmd.log)
vag boot --no-storage >"$SCRATCH/out-all2" 2>&1
check "second boot: bootcmd ran again" test "$(wc -l <"$SCRATCH/bootcmd.txt")" = 2
check "second boot: runcmd not again" test "$(wc -l <"$SCRATCH/runcmd.txt")" = 2
check "second boot: no file changed" test "$before" = "$(tree_sum "$R" | grep -v -e status.json -e last-boot.json -e bootcmd.log)"
check "second boot: userdata already applied" test "$(step_field userdata message)" = 'cloud-config already applied for this instance'
check "second boot: cloud-config key still there (sync)" grep -qF "$KEY_CC" "$R/root/.ssh/authorized_keys"
"$PYTHON3" - "$MOCK_DOC" <<'PY'
import json, sys, os
d = json.load(open(sys.argv[1])); d["public-keys"] = []
open(sys.argv[1] + ".tmp", "w").write(json.dumps(d)); os.replace(sys.argv[1] + ".tmp", sys.argv[1])
PY
vag boot --no-storage >/dev/null 2>&1
check "metadata key revoked: gone, cloud-config key kept" bash -c "! grep -qF '$KEY_META' '$R/root/.ssh/authorized_keys' && grep -qF '$KEY_CC' '$R/root/.ssh/authorized_keys'"
cp "$FIXTURES/v1-typical.json" "$MOCK_DOC"

# --- an interrupted pass resumes where it stopped ---------------------------------------------
# Cut short before runcmd began: runcmd runs, nothing else runs again.
rm -f "$INST/cloud-config.done" "$INST/user-scripts.done" "$INST/cloud-config.runcmd" "$INST/cloud-config.runcmd.started"
vag boot --no-storage >/dev/null 2>&1
check "resume: only the unstamped module runs (runcmd)" test "$(wc -l <"$SCRATCH/runcmd.txt")" = 4
check "resume: done again" test -e "$INST/cloud-config.done"
# Cut short while users and runcmd ran (a reboot, the unit's time limit): users resumes (it is
# idempotent), runcmd is reported as interrupted and never run twice, with how to re-run it.
rm -f "$INST/cloud-config.done" "$INST/user-scripts.done" "$INST/cloud-config.runcmd" "$INST/cloud-config.users"
vag -v boot --no-storage >"$SCRATCH/out-int" 2>&1
ok "$([ $? = 1 ]; echo $?)" "interrupted runcmd: the boot reports a failure"
check "interrupted runcmd: not run again" test "$(wc -l <"$SCRATCH/runcmd.txt")" = 4
check "interrupted runcmd: the users module ran again" grep -q "cloud-config users: 'deploy' exists" "$SCRATCH/out-int"
check "interrupted runcmd: the user-scripts step failed" test "$(step_field user-scripts result)" = failed
msg=$(step_field user-scripts message)
ok "$([[ $msg == *'interrupted by an earlier boot and not run again (runcmd)'* ]]; echo $?)" \
	"interrupted runcmd: the step's message names it ($msg)"
check "interrupted runcmd: the log says how to re-run it" grep -q "rm .*cloud-config.runcmd.started && vagent userdata" "$SCRATCH/out-int"
vag boot --no-storage >/dev/null 2>&1
check "interrupted runcmd: the next boot is done with it" test "$(step_field userdata message)" = 'cloud-config already applied for this instance' -a \
	"$(step_field user-scripts message)" = 'the user-data scripts and runcmd already ran for this instance'

# --- the shared fixture (its runcmd writes /var/log/first-boot.txt: a private /var/log) --------
fresh fixture
cp "$FIXTURES/user-data-cloud-config.yaml" "$MOCK_UD"
if unshare -m true 2>/dev/null; then
	unshare -m bash -c "mount -t tmpfs tmpfs /var/log &&
		'$VAGENT' -c '$CONF' --root '$R' --metadata-url '$MOCK_URL' boot --no-storage >'$SCRATCH/out-fx' 2>&1
		echo \$? >'$SCRATCH/rc-fx'; cat /var/log/first-boot.txt >'$SCRATCH/fx-first-boot' 2>/dev/null"
	ok $(cat "$SCRATCH/rc-fx") "fixture: boot succeeds"
	check "fixture: runcmd (list) ran" grep -qx provisioned "$SCRATCH/fx-first-boot"
else
	echo "# SKIP fixture runcmd: unshare -m is not permitted here (the command would write the host's /var/log)"
	"$VAGENT" -c "$CONF" --root "$R" --metadata-url "$MOCK_URL" boot --no-storage --no-userdata >"$SCRATCH/out-fx" 2>&1
fi
check "fixture: hostname" grep -qx build-runner-07 "$R/etc/hostname"
check "fixture: key once in the block (also in the metadata)" test "$(grep -c 'ops@example' "$R/root/.ssh/authorized_keys")" = 1
check "fixture: /etc/agent/role written in the root" bash -c "test \"\$(cat '$R/etc/agent/role' 2>/dev/null)\" = runner || grep -q 'stored (' '$SCRATCH/out-fx'"

# --- preserve_hostname ---------------------------------------------------------------------------
fresh preserve
printf '#cloud-config\npreserve_hostname: true\nhostname: ignored-name\n' >"$MOCK_UD"
vag boot --no-storage >/dev/null 2>&1
check "preserve_hostname: hostname left alone" grep -qx debian "$R/etc/hostname"
check "preserve_hostname: step skipped" test "$(step_field hostname result)" = skipped

# --- malformed YAML -----------------------------------------------------------------------------
fresh bad
printf '#cloud-config\nhostname: SECRET-MARKER-BAD\nruncmd:\n  - echo one\n - echo two\n' >"$MOCK_UD"
before=$(tree_sum "$R")
vag boot --no-storage >"$SCRATCH/out-bad" 2>&1
ok $([ $? = 1 ] && echo 0 || echo 1) "malformed YAML: exit 1"
check "malformed YAML: error names line and column" grep -q 'invalid YAML at line 5, column 2: ' "$SCRATCH/out-bad"
msg=$(step_field userdata message)
check "malformed YAML: status says so ($msg)" test "${msg#invalid YAML at line 5, column 2: }" != "$msg"
check "malformed YAML: hostname from the metadata, not the document" grep -qx build-runner-07 "$R/etc/hostname"
check "malformed YAML: content not printed" bash -c "! grep -q SECRET-MARKER '$SCRATCH/out-bad'"
check "malformed YAML: stored for inspection (0600)" test "$(stat -c %a "$INST/user-data")" = 600

# --- dry run lists the plan and writes nothing ----------------------------------------------------
fresh dry
cp "$FIXTURES/cloud-config/all-keys.yaml" "$MOCK_UD"
vag boot --no-storage --no-userdata >/dev/null 2>&1
before=$(tree_sum "$R")
vag --dry-run userdata >"$SCRATCH/out-dry" 2>"$SCRATCH/err-dry"
ok $? "dry run: exit 0"
check "dry run: nothing written" test "$before" = "$(tree_sum "$R")"
for want in "write_files          would write '/etc/app/plain.conf'" "would create user 'deploy'" \
	"would write /etc/sudoers.d/90-vagent-deploy" "runcmd               would run 2 commands" \
	"mounts               would write 2 fstab lines" \
	"packages             skipped under --root" "bootcmd              1 command, every boot"; do
	check "dry run plan: $want" grep -qF "$want" "$SCRATCH/out-dry"
done
check "dry run: summary line" grep -q 'cloud-config: would apply' "$SCRATCH/out-dry"
check "dry run: the key table" grep -qE '^byobu_by_default +ignored +not supported by vagent$' "$SCRATCH/out-dry"
vag --dry-run --json userdata >"$SCRATCH/out-dry.json" 2>/dev/null
"$PYTHON3" - "$SCRATCH/out-dry.json" <<'PY' >"$SCRATCH/keys.txt"
import json, sys
for k in json.load(open(sys.argv[1]))["keys"]:
    print(k["key"], k["status"], k["reason"] or "")
PY
check "dry run --json: one entry per top-level key, in order" test "$(cut -d' ' -f1 "$SCRATCH/keys.txt" | tr '\n' ' ')" = \
	"hostname fqdn preserve_hostname ssh_authorized_keys users write_files bootcmd runcmd packages package_update package_upgrade mounts disk_setup fs_setup snap byobu_by_default "
check "dry run --json: statuses" bash -c "grep -qx 'write_files applied ' '$SCRATCH/keys.txt' &&
	grep -qx 'packages ignored not run under --root (apt-get would act on the host)' '$SCRATCH/keys.txt' &&
	grep -qx 'snap ignored not supported by vagent' '$SCRATCH/keys.txt' &&
	grep -q '^disk_setup ignored never executed: the storage step' '$SCRATCH/keys.txt' &&
	grep -qx 'bootcmd applied would be applied by the bootcmd step' '$SCRATCH/keys.txt'"

# --- formats cloud-init runs and vagent does not: named, the step fails -------------------------
fresh include
printf '#include\nhttps://example.invalid/cc.yaml\n' >"$MOCK_UD"
vag boot --no-storage >"$SCRATCH/out-inc" 2>&1
ok "$([ $? = 1 ]; echo $?)" "#include: the boot reports a failure"
check "#include: the warning names the format" grep -q "is #include (text/x-include-url, [0-9]* bytes): cloud-init runs this format, vagent does not" "$SCRATCH/out-inc"
check "#include: the status too" test "$(step_field userdata message)" = "#include user data (text/x-include-url): a format vagent does not run, nothing applied"

# --- MIME multipart: parts in order, script part once ------------------------------------------------
fresh mime
SCRIPT_B64=$(printf '#!/bin/sh\necho part >> %s/mime.txt\n' "$SCRATCH" | base64 -w0)
cat >"$MOCK_UD" <<EOF
Content-Type: multipart/mixed; boundary="==BOUNDARY=="
MIME-Version: 1.0

--==BOUNDARY==
Content-Type: text/cloud-config; charset="us-ascii"

#cloud-config
hostname: mime-first
runcmd:
  - echo runcmd >> $SCRATCH/mime.txt
--==BOUNDARY==
Content-Type: text/x-shellscript
Content-Transfer-Encoding: base64

$SCRIPT_B64
--==BOUNDARY==
Content-Type: text/cloud-config

#cloud-config
hostname: mime-second
--==BOUNDARY==
Content-Type: text/x-include-url

http://example.invalid/
--==BOUNDARY==--
EOF
vag boot --no-storage >"$SCRATCH/out-mime" 2>&1
ok "$([ $? = 1 ]; echo $?)" "MIME: the include part cloud-init would fetch fails the boot"
msg=$(step_field userdata message)
ok "$([[ $msg == *'1 MIME part not run (part 4 (text/x-include-url))'* ]]; echo $?)" "MIME: the status names it ($msg)"
check "MIME: later cloud-config part wins" grep -qx mime-second "$R/etc/hostname"
check "MIME: script part, then runcmd" test "$(cat "$SCRATCH/mime.txt")" = "$(printf 'part\nruncmd')"
check "MIME: other part warned about" grep -q 'MIME part 4 (text/x-include-url): not run by vagent, ignoring' "$SCRATCH/out-mime"
vag boot --no-storage >/dev/null 2>&1
check "MIME: script part not run again" test "$(wc -l <"$SCRATCH/mime.txt")" = 2

# --- gzip user data ----------------------------------------------------------------------------------
fresh gzip
printf '#cloud-config\nhostname: zipped-host\nruncmd: [[sh, -c, "echo gz >> %s/gz.txt"]]\n' "$SCRATCH" | gzip -c >"$MOCK_UD"
vag boot --no-storage >/dev/null 2>&1
ok $? "gzip: boot succeeds"
check "gzip: hostname applied" grep -qx zipped-host "$R/etc/hostname"
check "gzip: runcmd ran" grep -qx gz "$SCRATCH/gz.txt"

tap_done
