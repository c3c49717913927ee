#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration test of `vagent boot` (no disks) against the mock metadata service in a scratch
# --root: first boot, idempotence, key revocation, new instance, degraded mode, fault modes,
# secrets, dry run, clean.
. "$(dirname "$0")/lib.sh"

R="$SCRATCH/root"
CONF="$SCRATCH/vagent.conf"
make_root "$R"
fast_conf "$CONF" 3s
# The typical document plus a second valid key. (Its ssh-rsa key is not valid base64: 77
# characters. vagent must skip it with a warning naming its index, never its text.)
"$PYTHON3" - "$FIXTURES/v1-typical.json" "$SCRATCH/v1.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["public-keys"].append("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK7vQm1xY2n3Jr8Tz0pLq4sW5eD6fG7hJ8kL9mN0bV1c two@example")
open(sys.argv[2], "w").write(json.dumps(d))
PY
start_mock
ID=7c1e9a52-4b3d-4f8e-a6d1-2e5f0c9b8a34
INST="$R/var/lib/vagent/instances/$ID"

vag() { "$VAGENT" -c "$CONF" --root "$R" --metadata-url "$MOCK_URL" "$@"; }
# The files a boot may rewrite every time (timestamps); everything else must stay put.
# (A boot without the service also leaves run/vagent/metadata-late for vagent-late.service.)
sum_state() { tree_sum "$R" | grep -v -e 'run/vagent/status.json' -e 'var/lib/vagent/last-boot.json' -e 'run/vagent/metadata-late'; }

# A user-data script that proves it ran by appending to a file outside the root.
cat >"$MOCK_UD" <<EOS
#!/bin/sh
echo "ran as \$(id -u)" >>"$SCRATCH/ran.txt"
echo "hello from user data"
EOS

# --- first boot -----------------------------------------------------------------------------
: >"$MOCK_LOG"
vag boot --no-storage >"$SCRATCH/out1" 2>&1
ok $? "first boot succeeds"
check "first boot: one request for the document, one for the user data it lacks" \
	test "$(sort "$MOCK_LOG" | tr '\n' ' ')" = "GET /latest/user-data 200 GET /v1.json 200 "
check "hostname written (short name)" grep -qx 'build-runner-07' "$R/etc/hostname"
check "hosts: 127.0.1.1 line updated" grep -qP '^127\.0\.1\.1\tbuild-runner-07$' "$R/etc/hosts"
check "hosts: other lines kept" grep -q '^::1	localhost ip6-localhost$' "$R/etc/hosts"
check "root keys: ed25519 present" grep -q '^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB3xQ1f8m2kq9Lw0TzR7cY4uV6pN5hJ2dE8sA1gK0oXr ops@example$' "$R/root/.ssh/authorized_keys"
check "root keys: second ed25519 present" grep -q 'two@example$' "$R/root/.ssh/authorized_keys"
check "invalid rsa key skipped" bash -c "! grep -q '^ssh-rsa ' '$R/root/.ssh/authorized_keys'"
check "invalid key: warning names its index" grep -q 'public-keys\[1\]' "$SCRATCH/out1"
check "invalid key: warning does not print the key" bash -c "! grep -q 'AAAAB3NzaC1yc2E' '$SCRATCH/out1'"
check "authorized_keys is 0600" test "$(stat -c %a "$R/root/.ssh/authorized_keys")" = 600
check ".ssh is 0700" test "$(stat -c %a "$R/root/.ssh")" = 700
check "cache written 0600" test "$(stat -c %a "$R/var/lib/vagent/metadata.json")" = 600
check "cache equals the document" cmp -s "$R/var/lib/vagent/metadata.json" "$MOCK_DOC"
check "user data stored 0600" test "$(stat -c %a "$INST/user-data")" = 600
check "user-data script ran once" test "$(wc -l <"$SCRATCH/ran.txt")" = 1
check "script output logged beside it (0600)" grep -q 'hello from user data' "$INST/user-data.log"
check "script log is 0600" test "$(stat -c %a "$INST/user-data.log")" = 600
check "status.json written" test -s "$R/run/vagent/status.json"
check "last-boot.json written" test -s "$R/var/lib/vagent/last-boot.json"
vag status --json >"$SCRATCH/status.json"
ok $? "status --json works"
check "status: first boot" grep -q '"first_boot": true' "$SCRATCH/status.json"
check "status: metadata from service" grep -q '"metadata_source": "service"' "$SCRATCH/status.json"
check "status: user data exit 0" grep -q '"userdata_exit": 0' "$SCRATCH/status.json"
for s in metadata hostname ssh-keys user-scripts; do
	check "status: step $s changed" "$PYTHON3" -c "
import json,sys; d=json.load(open('$SCRATCH/status.json'))
st={s['name']:s for s in d['steps']}; sys.exit(0 if st['$s']['result']=='changed' and 'duration_ms' in st['$s'] else 1)"
done
vag status >"$SCRATCH/status.txt"
check "status (human) lists the steps" grep -q '^ssh-keys *changed' "$SCRATCH/status.txt"
# The human status, times and durations aside, is tests/expected/status-first-boot.txt.
normalize() { sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/TIME/; s/ +[0-9]+ms  / Nms  /'; }
normalize <"$SCRATCH/status.txt" >"$SCRATCH/status.norm"
diff -u "$top_srcdir/tests/expected/status-first-boot.txt" "$SCRATCH/status.norm" >"$SCRATCH/status.diff"
ok $? "status (human) is the expected text"
[ -s "$SCRATCH/status.diff" ] && sed 's/^/# /' "$SCRATCH/status.diff"

# --- second boot: nothing changes -------------------------------------------------------------
before=$(sum_state)
vag boot --no-storage >"$SCRATCH/out2" 2>&1
ok $? "second boot succeeds"
check "second boot changed no file" test "$before" = "$(sum_state)"
check "script did not run again" test "$(wc -l <"$SCRATCH/ran.txt")" = 1
vag status --json >"$SCRATCH/status.json"
check "status: not a first boot" grep -q '"first_boot": false' "$SCRATCH/status.json"
check "status: hostname unchanged" "$PYTHON3" -c "
import json,sys; d=json.load(open('$SCRATCH/status.json'))
sys.exit(0 if all(s['result'] in ('unchanged','skipped') for s in d['steps'] if s['name']!='storage') else 1)"

# --- admin changes survive (hostname policy first-boot) and own key lines are kept ----------
echo 'admin-chosen' >"$R/etc/hostname"
echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOwnKeyOwnKeyOwnKeyOwnKeyOwnKeyOwnKeyOwnKe me@laptop' >>"$R/root/.ssh/authorized_keys"
vag boot --no-storage >/dev/null 2>&1
check "admin's hostname survives a reboot" grep -qx admin-chosen "$R/etc/hostname"
check "user's own key line kept" grep -q 'me@laptop' "$R/root/.ssh/authorized_keys"

# --- a revoked key disappears -------------------------------------------------------------------
"$PYTHON3" - "$MOCK_DOC" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d["public-keys"] = d["public-keys"][:1]
open(sys.argv[1] + ".tmp", "w").write(json.dumps(d)); import os; os.replace(sys.argv[1] + ".tmp", sys.argv[1])
PY
vag boot --no-storage >/dev/null 2>&1
check "revoked key removed" bash -c "! grep -q 'two@example' '$R/root/.ssh/authorized_keys'"
check "remaining key kept" grep -q 'ops@example' "$R/root/.ssh/authorized_keys"
check "user's own key still kept" grep -q 'me@laptop' "$R/root/.ssh/authorized_keys"

# --- user data changed after first boot: a notice, no run --------------------------------------
echo 'echo changed' >>"$MOCK_UD"
vag boot --no-storage >"$SCRATCH/out3" 2>&1
check "changed user data: notice says it will not run again" grep -q 'will not run again' "$SCRATCH/out3"
check "changed user data: script not run" test "$(wc -l <"$SCRATCH/ran.txt")" = 1

# --- new instance id: per-instance steps run again ---------------------------------------------
"$PYTHON3" - "$MOCK_DOC" <<'PY'
import json, sys, os
d = json.load(open(sys.argv[1])); d["instance-v2-id"] = "0a1b2c3d-0000-4000-8000-000000000001"
open(sys.argv[1] + ".tmp", "w").write(json.dumps(d)); os.replace(sys.argv[1] + ".tmp", sys.argv[1])
PY
vag boot --no-storage >/dev/null 2>&1
ok $? "boot of a new instance succeeds"
check "new instance: hostname applied again" grep -qx build-runner-07 "$R/etc/hostname"
check "new instance: script ran again" test "$(wc -l <"$SCRATCH/ran.txt")" = 2
check "new instance: state dir" test -d "$R/var/lib/vagent/instances/0a1b2c3d-0000-4000-8000-000000000001"

# --- degraded mode: service down, cache present ------------------------------------------------
echo 'admin-again' >"$R/etc/hostname"
before=$(sum_state)
t0=$(date +%s%N)
"$VAGENT" -c "$CONF" --root "$R" --metadata-url "$(closed_port_url)" boot --no-storage >"$SCRATCH/out4" 2>&1
rc=$?
t=$((($(date +%s%N) - t0) / 1000000))
ok $([ $rc = 1 ] && echo 0 || echo 1) "service down: exit 1 (metadata step failed), got $rc"
ok $([ $t -lt 6000 ] && echo 0 || echo 1) "service down: bounded by the 3 s deadline (${t} ms)"
check "service down: nothing changed" test "$before" = "$(sum_state)"
check "service down: leaves run/vagent/metadata-late for the late path" test -s "$R/run/vagent/metadata-late"
vag status --json >"$SCRATCH/status.json"
check "service down: metadata_source cache" grep -q '"metadata_source": "cache"' "$SCRATCH/status.json"
check "service down: not a first boot" grep -q '"first_boot": false' "$SCRATCH/status.json"
check "service down: one clear line" grep -q 'using the cached document' "$SCRATCH/out4"

# An answer that does not parse is not "unavailable": the service answered, its document was wrong.
mock_mode nonjson
"$VAGENT" -c "$CONF" --root "$R" --metadata-url "$MOCK_URL" boot --no-storage >"$SCRATCH/out4b" 2>&1
ok $([ $? = 1 ] && echo 0 || echo 1) "invalid document, cache present: exit 1"
check "invalid document: says so, not 'unavailable'" bash -c "grep -q \"document is invalid\" '$SCRATCH/out4b' && ! grep -qi 'service unavailable' '$SCRATCH/out4b'"
vag status >"$SCRATCH/status4b.txt"
check "invalid document: status says so" grep -q "document is invalid" "$SCRATCH/status4b.txt"
check "invalid document: the cache is used" grep -q 'using the cached document' "$SCRATCH/out4b"
mock_mode ok

# --- no cache, service down ----------------------------------------------------------------------
R2="$SCRATCH/root2"
make_root "$R2"
t0=$(date +%s%N)
"$VAGENT" -c "$CONF" --root "$R2" --metadata-url "$(closed_port_url)" boot --no-storage >"$SCRATCH/out5" 2>&1
t=$((($(date +%s%N) - t0) / 1000000))
ok $([ $t -lt 6000 ] && echo 0 || echo 1) "no cache: bounded (${t} ms)"
check "no cache: one clear line" grep -q 'no cached document' "$SCRATCH/out5"
check "no cache: hostname untouched" grep -qx debian "$R2/etc/hostname"
check "no cache: no .ssh created" test ! -e "$R2/root/.ssh"
check "no cache: status says none" grep -q '"metadata_source": "none"' "$R2/run/vagent/status.json"

# --- fault modes: bounded, exit 1, nothing half-written in a fresh root ------------------------
for mode in 500 503 404 403 nonjson truncated oversized oversized-nolength wrongtypes redirect hang trickle; do
	R3="$SCRATCH/root-$mode"
	make_root "$R3"
	mock_mode "$mode"
	before=$(tree_sum "$R3")
	t0=$(date +%s%N)
	"$VAGENT" -c "$CONF" --root "$R3" --metadata-url "$MOCK_URL" boot --no-storage >"$SCRATCH/out-$mode" 2>&1
	rc=$?
	t=$((($(date +%s%N) - t0) / 1000000))
	ok $([ $rc = 1 ] && [ $t -lt 6500 ] && echo 0 || echo 1) "mode $mode: exit $rc in ${t} ms"
	check "mode $mode: no cache written" test ! -e "$R3/var/lib/vagent/metadata.json"
	check "mode $mode: hostname and keys untouched" bash -c "grep -qx debian '$R3/etc/hostname' && test ! -e '$R3/root/.ssh'"
	check "mode $mode: no temp files left" bash -c "! find '$R3' -name '.#*' | grep -q ."
	case $mode in
	nonjson | wrongtypes | oversized | oversized-nolength) want="document is invalid" ;;
	*) want="service unavailable" ;;
	esac
	check "mode $mode: says '$want'" grep -q "$want" "$SCRATCH/out-$mode"
done
# A first boot waits for a busy service (429/503) up to busy-deadline, here 40 s.
BUSY_CONF="$SCRATCH/busy.conf"
fast_conf "$BUSY_CONF" 3s
sed -i 's/^busy-deadline = .*/busy-deadline = 40s/' "$BUSY_CONF"
mock_mode 503-then-ok 2
t0=$(date +%s%N)
R4="$SCRATCH/root-503ok"
make_root "$R4"
"$VAGENT" -c "$BUSY_CONF" --root "$R4" --metadata-url "$MOCK_URL" boot --no-storage >"$SCRATCH/out6" 2>&1
ok $? "503 then ok (Retry-After): boot succeeds"
check "503 then ok: hostname applied" grep -qx build-runner-07 "$R4/etc/hostname"
grep -q "field 'hostname'" "$SCRATCH/out-wrongtypes" || grep -q "field '" "$SCRATCH/out-wrongtypes"
ok $? "wrong types: the error names the field"
mock_mode ok

# --- a busy service (429/503): a first boot keeps trying past the deadline, a cached one not --
R8="$SCRATCH/root-busy"
make_root "$R8"
mock_mode 503 0 1
(sleep 6 && mock_mode ok) &
freer=$!
t0=$(date +%s%N)
"$VAGENT" -v -c "$BUSY_CONF" --root "$R8" --metadata-url "$MOCK_URL" boot --no-storage >"$SCRATCH/out-busy" 2>&1
rc=$?
t=$((($(date +%s%N) - t0) / 1000000))
wait $freer
ok $rc "busy service, first boot: succeeds once the service frees up"
ok $([ $t -ge 6000 ] && [ $t -lt 30000 ] && echo 0 || echo 1) "busy service, first boot: kept trying past the 3 s deadline (${t} ms)"
check "busy service, first boot: hostname applied" grep -qx build-runner-07 "$R8/etc/hostname"
check "busy service, first boot: keys applied" test -s "$R8/root/.ssh/authorized_keys"
check "busy service, first boot: says why it waits on" grep -q 'up but busy' "$SCRATCH/out-busy"
# The same busy service with a cache (R8 has one now): today's deadline, then the cache.
mock_mode 429-then-ok 1000 1
t0=$(date +%s%N)
"$VAGENT" -c "$BUSY_CONF" --root "$R8" --metadata-url "$MOCK_URL" boot --no-storage >"$SCRATCH/out-busy2" 2>&1
rc=$?
t=$((($(date +%s%N) - t0) / 1000000))
ok $([ $rc = 1 ] && [ $t -lt 5000 ] && echo 0 || echo 1) "busy service, cached boot: gives up by the 3 s deadline (exit $rc, ${t} ms)"
check "busy service, cached boot: uses the cache" grep -q 'using the cached document' "$SCRATCH/out-busy2"
mock_mode ok

# --- refused connections: retried with backoff, not in a tight loop ----------------------------
# (A root without a cache: with one, the boot stops after 3 refused tries, see test-late.sh.)
make_root "$SCRATCH/root-refused"
t0=$(date +%s%N)
"$VAGENT" -v -c "$CONF" --root "$SCRATCH/root-refused" --metadata-url "$(closed_port_url)" boot --no-storage >"$SCRATCH/out-refused" 2>&1
t=$((($(date +%s%N) - t0) / 1000000))
n=$(grep -c 'retrying in' "$SCRATCH/out-refused")
# backoff 100 ms doubling to 500 ms (full jitter) over 3 s: ~12 retries; a loop would be thousands
ok $([ "$n" -ge 3 ] && [ "$n" -le 60 ] && echo 0 || echo 1) "refused: $n retries in ${t} ms"

# --- a document that carries its user data: a healthy boot is exactly one request ----------------
cp "$MOCK_DOC" "$SCRATCH/v1.json.orig"
"$PYTHON3" - "$FIXTURES/v1-typical.json" "$MOCK_DOC" <<'PY'
import json, sys, os
d = json.load(open(sys.argv[1])); d["user-data"] = "#cloud-config\n"
open(sys.argv[2] + ".tmp", "w").write(json.dumps(d)); os.replace(sys.argv[2] + ".tmp", sys.argv[2])
PY
R9="$SCRATCH/root-onereq"
make_root "$R9"
: >"$MOCK_LOG"
"$VAGENT" -c "$CONF" --root "$R9" --metadata-url "$MOCK_URL" boot --no-storage >"$SCRATCH/out-onereq" 2>&1
ok $? "user data in the document: boot succeeds"
check "user data in the document: exactly one request" test "$(cat "$MOCK_LOG")" = "GET /v1.json 200"
cp "$SCRATCH/v1.json.orig" "$MOCK_DOC"

# --- dry run writes nothing ---------------------------------------------------------------------
R5="$SCRATCH/root-dry"
make_root "$R5"
before=$(tree_sum "$R5")
"$VAGENT" -c "$CONF" --root "$R5" --metadata-url "$MOCK_URL" --dry-run boot --no-storage >"$SCRATCH/out7" 2>&1
ok $? "dry-run boot succeeds"
check "dry-run boot wrote nothing" test "$before" = "$(tree_sum "$R5")"
check "dry-run says what it would do" grep -q 'would' "$SCRATCH/out7"

# --- secrets never reach the output -----------------------------------------------------------
"$PYTHON3" - "$FIXTURES/v1-secrets-markers.json" "$MOCK_DOC" <<'PY'
import json, sys, os
d = json.load(open(sys.argv[1]))
d["user-data"] = "#!/bin/sh\n# SECRET-MARKER-1\nexit 0\n"
d["startup-script"] = "# SECRET-MARKER-3 (it runs: its output is its own, its text never shown)\ntrue\n"
open(sys.argv[2] + ".tmp", "w").write(json.dumps(d)); os.replace(sys.argv[2] + ".tmp", sys.argv[2])
PY
R6="$SCRATCH/root-secrets"
make_root "$R6"
{
	"$VAGENT" -vv -c "$CONF" --root "$R6" --metadata-url "$MOCK_URL" boot --no-storage
	"$VAGENT" -vv -c "$CONF" --root "$R6" --metadata-url "$MOCK_URL" --json boot --no-storage
	"$VAGENT" -vv -c "$CONF" --root "$R6" --metadata-url "$MOCK_URL" metadata
	"$VAGENT" -vv -c "$CONF" --root "$R6" status
	"$VAGENT" -vv -c "$CONF" --root "$R6" --json status
} >"$SCRATCH/secrets.out" 2>&1
check "secrets: no marker in any output" bash -c "! grep -q SECRET-MARKER '$SCRATCH/secrets.out'"
check "secrets: metadata shows them redacted" grep -q 'redacted' "$SCRATCH/secrets.out"
check "secrets: status files hold no marker" bash -c "! grep -rq SECRET-MARKER '$R6/run' '$R6/var/lib/vagent/last-boot.json'"
check "secrets: stored user data 0600" bash -c "test \$(stat -c %a '$R6/var/lib/vagent/instances/$ID/user-data') = 600"
"$VAGENT" -c "$CONF" --root "$R6" --metadata-url "$MOCK_URL" metadata user-data >"$SCRATCH/ud.out" 2>&1
check "secrets: asking for user-data by name prints it" grep -q SECRET-MARKER-1 "$SCRATCH/ud.out"
check "metadata KEY: region.regioncode" test "$("$VAGENT" -c "$CONF" --root "$R6" --metadata-url "$MOCK_URL" metadata region.regioncode)" = FRA

# --- the units' split: boot --no-userdata stores, `vagent userdata` runs and records -----------
R7="$SCRATCH/root-split"
make_root "$R7"
cp "$FIXTURES/v1-typical.json" "$MOCK_DOC"
lines_before=$(wc -l <"$SCRATCH/ran.txt")
"$VAGENT" -c "$CONF" --root "$R7" --metadata-url "$MOCK_URL" boot --no-storage --no-userdata >/dev/null 2>&1
ok $? "boot --no-userdata succeeds"
check "boot --no-userdata: script stored, not run" test "$(wc -l <"$SCRATCH/ran.txt")" = "$lines_before"
check "boot --no-userdata: stored 0600" test "$(stat -c %a "$R7/var/lib/vagent/instances/$ID/user-data")" = 600
mock_mode 500
"$VAGENT" -c "$CONF" --root "$R7" --metadata-url "$MOCK_URL" userdata >/dev/null 2>&1
ok $? "vagent userdata runs from the cache and the stored copy (service down)"
mock_mode ok
check "vagent userdata: the script ran" test "$(wc -l <"$SCRATCH/ran.txt")" = $((lines_before + 1))
check "status: the userdata step recorded next to the boot's steps" "$PYTHON3" -c "
import json,sys; d=json.load(open('$R7/run/vagent/status.json'))
st={s['name']:s['result'] for s in d['steps']}
sys.exit(0 if st.get('user-scripts')=='changed' and st.get('hostname')=='changed' and d['userdata_exit']==0 else 1)"

# --- one runner: exactly one log line per step, each with its result -------------------------
R8="$SCRATCH/root-lines"
make_root "$R8"
"$VAGENT" -v -c "$CONF" --root "$R8" --metadata-url "$MOCK_URL" boot --no-storage >/dev/null 2>"$SCRATCH/lines.err"
ok $? "boot -v succeeds"
for s in metadata ssh-keys network bootcmd hostname host-keys host-keys-after-ssh userdata \
	vendor-scripts startup-script \
	scripts-per-once scripts-per-boot scripts-per-instance user-scripts; do
	n=$(grep -cE "^vagent: $s: (changed|unchanged|skipped|failed)( |$)" "$SCRATCH/lines.err")
	ok "$([ "$n" = 1 ]; echo $?)" "one log line for step $s ($n)"
done
n=$(grep -cE '^vagent: [a-z-]+: (changed|unchanged|skipped|failed)( |$)' "$SCRATCH/lines.err")
ok "$([ "$n" = 14 ]; echo $?)" "no other step lines ($n)"
[ "$n" = 14 ] || grep -E '^vagent: [a-z-]+: (changed|unchanged|skipped|failed)( |$)' "$SCRATCH/lines.err" | sed 's/^/# /' 
# vagent.service's stage, then the user-data unit's: one report, each step once, with its unit.
R9="$SCRATCH/root-stages"
make_root "$R9"
"$VAGENT" -c "$CONF" --root "$R9" --metadata-url "$MOCK_URL" boot --stage=boot >"$SCRATCH/stage.out" 2>&1
ok $? "boot --stage=boot succeeds"
check "boot --stage=boot runs no user data" bash -c "! grep -q '^userdata' '$SCRATCH/stage.out'"
"$VAGENT" -c "$CONF" --root "$R9" --metadata-url "$MOCK_URL" userdata >/dev/null 2>&1
ok $? "then vagent userdata succeeds"
"$VAGENT" -c "$CONF" --root "$R9" status >"$SCRATCH/stage.status"
check "status: metadata recorded by vagent.service" grep -qE '^metadata +changed +[0-9]+ms +vagent.service ' "$SCRATCH/stage.status"
check "status: user-scripts recorded by vagent-userdata.service" grep -qE '^user-scripts +changed +[0-9]+ms +vagent-userdata.service ' "$SCRATCH/stage.status"
check "status: still the first boot's facts" grep -q '^first boot: *yes' "$SCRATCH/stage.status"

# --- status while a volume is verified: the scan's progress file of a live process -------------
mkdir -p "$R9/run/vagent/verify"
printf 'name=vdb\nmode=full\ndone=440401920\ntotal=1073741824\nrate=1100000000\neta=1\npid=%s\n' $$ \
	>"$R9/run/vagent/verify/vdb"
"$VAGENT" -c "$CONF" --root "$R9" status >"$SCRATCH/progress.status" 2>&1
check "status: a scan in progress is shown" grep -q '^verifying vdb: 41 %' "$SCRATCH/progress.status"
rm -rf "$R9/run/vagent/verify"

# --- clean: the next boot is a first boot ---------------------------------------------------------
vag clean
ok $? "clean succeeds"
check "clean removed instance state and cache" bash -c "test ! -e '$R/var/lib/vagent/instances' && test ! -e '$R/var/lib/vagent/metadata.json'"
cp "$FIXTURES/v1-typical.json" "$MOCK_DOC"
vag boot --no-storage >/dev/null 2>&1
check "after clean: first boot again" grep -q '"first_boot": true' "$R/run/vagent/status.json"

tap_done
