#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration test of the #cloud-config-archive and "## template: jinja" user data through the
# real binary against the mock metadata service, each in a fresh scratch --root: an archive's
# cloud-config entries merged and its script entries run once; a jinja cloud-config rendered
# with the instance's v1 and ds.meta_data variables (an unknown name as cloud-init renders it);
# a jinja script; a template with a {% %} statement refused whole with its line, nothing run;
# the dry run and the status name the format; the user data never reaches the output.
. "$(dirname "$0")/lib.sh"
need_root "vagent's state directories must be owned by root"

CONF="$SCRATCH/vagent.conf"
fast_conf "$CONF" 3s
start_mock
ID=7c1e9a52-4b3d-4f8e-a6d1-2e5f0c9b8a34

fresh() { R="$SCRATCH/$1"; make_root "$R"; INST="$R/var/lib/vagent/instances/$ID"; }
vag() { "$VAGENT" -c "$CONF" --root "$R" --metadata-url "$MOCK_URL" "$@"; }
step_field() { # step_field NAME FIELD: from the last status.json
	"$PYTHON3" -c "
import json,sys; d=json.load(open('$R/run/vagent/status.json'))
print({s['name']:s for s in d['steps']}['$1']['$2'])"
}
no_secret() { # no_secret FILE...: the user data's marker is in none of them
	! grep -q SECRET-MARKER "$@"
}

# --- #cloud-config-archive: a cloud-config entry, a script entry, a mapping entry --------------
fresh archive
cat >"$MOCK_UD" <<EOF
#cloud-config-archive
- |
  #cloud-config
  hostname: from-archive
  write_files:
    - path: /etc/archive.conf
      content: "SECRET-MARKER-ARCHIVE\n"
  runcmd:
    - echo runcmd >> $SCRATCH/archive.txt
- "#!/bin/sh\necho string-entry >> $SCRATCH/archive.txt\n"
- type: text/x-shellscript
  filename: second.sh
  content: |
    #!/bin/sh
    echo mapping-entry >> $SCRATCH/archive.txt
- content: 'manage_etc_hosts: false'
EOF
vag --dry-run userdata >"$SCRATCH/out-adry" 2>&1
ok $? "archive: dry run exit 0"
check "archive: dry run names the keys of both cloud-config entries" \
	grep -qE '^manage_etc_hosts +applied' "$SCRATCH/out-adry"
check "archive: dry run plans the write" grep -qF "would write '/etc/archive.conf'" "$SCRATCH/out-adry"
check "archive: dry run not refused" bash -c "! grep -qiE 'does not run|not supported' '$SCRATCH/out-adry'"
vag boot --no-storage >"$SCRATCH/out-archive" 2>&1
ok $? "archive: boot exit 0"
check "archive: the cloud-config entry applied (hostname)" grep -qx from-archive "$R/etc/hostname"
check "archive: the cloud-config entry applied (write_files)" grep -qx SECRET-MARKER-ARCHIVE "$R/etc/archive.conf"
check "archive: script entries in order, then runcmd" \
	test "$(cat "$SCRATCH/archive.txt" 2>/dev/null)" = "$(printf 'string-entry\nmapping-entry\nruncmd')"
msg=$(step_field userdata message)
ok "$([[ $msg == *'(#cloud-config-archive: 4 entries)'* ]]; echo $?)" "archive: the status names the format ($msg)"
check "archive: user data not in the output" no_secret "$SCRATCH/out-archive" "$SCRATCH/out-adry" "$R/run/vagent/status.json"
vag boot --no-storage >/dev/null 2>&1
check "archive: scripts not run again" test "$(wc -l <"$SCRATCH/archive.txt")" = 3

# --- ## template: jinja cloud-config -------------------------------------------------------------
fresh jinja
cat >"$MOCK_UD" <<'EOF'
## template: jinja
#cloud-config
{# SECRET-MARKER-COMMENT: comments are dropped #}
hostname: h-{{ v1.region }}-{{v1.local_hostname}}
write_files:
  - path: /etc/instance.txt
    content: |
      id={{ v1.instance_id }}
      legacy={{ ds.meta_data.instanceid }} cloud={{ v1.cloud_name }}/{{ v1.platform }} az={{ v1.availability_zone }}
      unknown={{ v1.no_such_key }}
      secret=SECRET-MARKER-JINJA
EOF
vag boot --no-storage >"$SCRATCH/out-jinja" 2>&1
ok $? "jinja: boot exit 0"
check "jinja: v1.region and v1.local_hostname rendered into hostname" grep -qx h-de-build-runner-07 "$R/etc/hostname"
check "jinja: v1.instance_id rendered" grep -qx "id=$ID" "$R/etc/instance.txt"
check "jinja: ds.meta_data, cloud_name, platform, availability_zone (None)" \
	grep -qx "legacy=61234567 cloud=vultr/vultr az=None" "$R/etc/instance.txt"
check "jinja: an unknown name as cloud-init renders it" grep -qx "unknown=CI_MISSING_JINJA_VAR/no_such_key" "$R/etc/instance.txt"
check "jinja: the comment dropped" bash -c "! grep -q COMMENT '$R/etc/instance.txt'"
check "jinja: the unknown name warned about" grep -q "1 variable vagent does not know rendered as CI_MISSING_JINJA_VAR/<name>, as cloud-init does: 'no_such_key'" "$SCRATCH/out-jinja"
msg=$(step_field userdata message)
ok "$([[ $msg == *'(## template: jinja rendered, 1 unknown variable)'* ]]; echo $?)" "jinja: the status names the template ($msg)"
check "jinja: user data not in the output" no_secret "$SCRATCH/out-jinja" "$R/run/vagent/status.json"

# --- ## template: jinja script ---------------------------------------------------------------------
fresh jscript
printf '## Template: Jinja\n#!/bin/sh\necho "{{ v1.instance_id }}" >> %s/jscript.txt\n' "$SCRATCH" >"$MOCK_UD"
vag boot --no-storage >"$SCRATCH/out-jscript" 2>&1
ok $? "jinja script: boot exit 0"
check "jinja script: ran, rendered" test "$(cat "$SCRATCH/jscript.txt" 2>/dev/null)" = "$ID"

# --- a statement vagent does not render: the whole user data refused, nothing runs ---------------
fresh jrefuse
cat >"$MOCK_UD" <<EOF
## template: jinja
#cloud-config
hostname: SECRET-MARKER-NOT-APPLIED
runcmd:
  - echo ran >> $SCRATCH/refused.txt
{% if v1.region == 'de' %}
  - echo de >> $SCRATCH/refused.txt
{% endif %}
EOF
vag boot --no-storage >"$SCRATCH/out-jrefuse" 2>&1
ok "$([ $? = 1 ]; echo $?)" "jinja statement: the boot reports a failure"
msg=$(step_field userdata message)
check "jinja statement: the status names it and its line ($msg)" test "$msg" = \
	"## template: jinja line 6: the jinja statement '{% if %}' is not supported by vagent (only {{ variables }} and {# comments #}); nothing of the user data is applied"
check "jinja statement: nothing applied (hostname from the metadata)" grep -qx build-runner-07 "$R/etc/hostname"
check "jinja statement: no command ran" test ! -e "$SCRATCH/refused.txt"
check "jinja statement: user data not in the output" no_secret "$SCRATCH/out-jrefuse" "$R/run/vagent/status.json"

tap_done
