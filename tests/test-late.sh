#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration test of the late path (`vagent late`, vagent-late.service) and of the short first
# try of a cached boot, against the mock metadata service in scratch --roots: a first boot with
# the service down, then up: keys and hostname applied late, status says when; down for good:
# the late backoff reaches its cap and does not spin (attempts counted); 503 + Retry-After: 3:
# it waits at least 3 s; a cached boot with the service down uses the cache after
# cache-deadline, and the late path reconciles (a revoked key removed, a new instance id seen);
# with connections refused a cached boot stops after 3 tries in a row, a first boot does not.
. "$(dirname "$0")/lib.sh"

CONF="$SCRATCH/vagent.conf"
# The boot gives up fast (no busy extension); the late backoff is short so that the test
# waits seconds, not minutes: 200 ms doubling to 1 s.
cat >"$CONF" <<EOC
[metadata]
deadline = 2s
busy-deadline = 2s
cache-deadline = 1s
connect-timeout = 1s
request-timeout = 2s
backoff-initial = 100ms
backoff-max = 500ms
late-backoff-initial = 200ms
late-backoff-max = 1s
[userdata]
run = no
EOC
start_mock
ID=7c1e9a52-4b3d-4f8e-a6d1-2e5f0c9b8a34
ms() { date +%s%3N; }
vag() { local r=$1; shift; "$VAGENT" -v -c "$CONF" --root "$r" --metadata-url "$MOCK_URL" "$@"; }
requests() { grep -c '^GET /v1.json' "$MOCK_LOG"; }
# late_bg ROOT OUT: `vagent late` in the background, LATE_PID set.
late_bg() { vag "$1" late >"$2" 2>&1 & LATE_PID=$!; }
# wait_pid PID SECONDS: 0 when PID ended within SECONDS (its status in WAIT_RC).
wait_pid() {
	local i
	for i in $(seq $(($2 * 10))); do
		kill -0 "$1" 2>/dev/null || { wait "$1"; WAIT_RC=$?; return 0; }
		sleep 0.1
	done
	return 1
}

# --- first boot, service down, then up ---------------------------------------------------------
R="$SCRATCH/root1"
make_root "$R"
mock_mode refuse
vag "$R" boot --no-storage >"$SCRATCH/boot1" 2>&1
ok $([ $? = 1 ] && echo 0 || echo 1) "first boot, service down: fails (no metadata)"
check "first boot, service down: no keys" test ! -e "$R/root/.ssh/authorized_keys"
check "first boot, service down: leaves the late flag" test -s "$R/run/vagent/metadata-late"
: >"$MOCK_LOG"
late_bg "$R" "$SCRATCH/late1"
sleep 3
check "late: still waiting while the service is down" kill -0 $LATE_PID
n_down=$(requests)
ok $([ "$n_down" -ge 2 ] && echo 0 || echo 1) "late: kept asking while down ($n_down requests in 3 s)"
# It holds no lock while it waits: a run that needs the run lock goes through at once.
t0=$(ms)
vag "$R" hostname >/dev/null 2>&1
t=$(($(ms) - t0))
ok $([ $t -lt 8000 ] && echo 0 || echo 1) "late: waits without the run lock (vagent hostname took ${t} ms)"
mock_mode ok
if wait_pid $LATE_PID 20; then ok $WAIT_RC "late: exits 0 once the service answers"; else
	kill $LATE_PID; ok 1 "late: exits 0 once the service answers (still running after 20 s)"; fi
check "late: root's keys applied" grep -q 'ops@example$' "$R/root/.ssh/authorized_keys"
check "late: hostname applied" grep -qx build-runner-07 "$R/etc/hostname"
check "late: logged each wait" grep -q 'Metadata still unavailable.*next try in' "$SCRATCH/late1"
check "late: the flag is gone" test ! -e "$R/run/vagent/metadata-late"
vag "$R" status >"$SCRATCH/status1" 2>&1
check "status: metadata from the service" grep -q '^metadata source: service' "$SCRATCH/status1"
check "status: says when it arrived" grep -Eq '^metadata late: +arrived [0-9]+ s after boot' "$SCRATCH/status1"
check "status: a first boot" grep -q '^first boot: *yes' "$SCRATCH/status1"
vag "$R" status --json >"$SCRATCH/status1.json" 2>/dev/null
check "status --json: metadata_late_s >= 3" "$PYTHON3" -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d['metadata_late_s'] >= 3 and d['metadata_source'] == 'service' else 1)" "$SCRATCH/status1.json"
check "instance stamped as booted" test -e "$R/var/lib/vagent/instances/$ID/booted"
vag "$R" late >"$SCRATCH/late1b" 2>&1
ok $? "late again: exits 0"
check "late again: nothing late" grep -q "doing nothing: this boot's metadata came from the service" "$SCRATCH/late1b"

# --- down for good: backs off to its cap, never spins ------------------------------------------
R2="$SCRATCH/root2"
make_root "$R2"
mock_mode refuse
vag "$R2" boot --no-storage >/dev/null 2>&1
: >"$MOCK_LOG"
timeout 8 "$VAGENT" -v -c "$CONF" --root "$R2" --metadata-url "$MOCK_URL" late >"$SCRATCH/late2" 2>&1
ok $([ $? = 124 ] && echo 0 || echo 1) "down for good: still trying after 8 s"
n=$(requests)
# 200 ms doubling to a 1 s cap with full jitter: about 12 tries in 8 s; a spinning loop would
# make thousands.
ok $([ "$n" -ge 4 ] && [ "$n" -le 40 ] && echo 0 || echo 1) "down for good: $n requests in 8 s (4..40)"
waits=$(grep -o 'next try in [0-9.]* s' "$SCRATCH/late2" | awk '{print $4}')
check "down for good: every wait within the 1 s cap" awk 'BEGIN{m=0} {if ($1>m) m=$1} END{exit !(m <= 1.0 && NR >= 3)}' <<<"$waits"
check "down for good: nothing applied" test ! -e "$R2/root/.ssh/authorized_keys"

# --- 503 + Retry-After: 3: waits at least 3 s ---------------------------------------------------
mock_mode 503-then-ok 1 3
: >"$MOCK_LOG"
t0=$(ms)
vag "$R2" late >"$SCRATCH/late3" 2>&1
rc=$?
t=$(($(ms) - t0))
ok $rc "Retry-After 3: late run succeeds"
ok $([ $t -ge 3000 ] && [ $t -lt 20000 ] && echo 0 || echo 1) "Retry-After 3: waited at least 3 s (${t} ms)"
check "Retry-After 3: one 503, then the document" test "$(grep '^GET /v1.json' "$MOCK_LOG" | awk '{print $3}' | tr '\n' ' ')" = "503 200 "
check "Retry-After 3: keys applied" grep -q 'ops@example$' "$R2/root/.ssh/authorized_keys"

# --- a cached boot, service down: the cache after a short try; the late path reconciles ---------
# R has a cache now. Revoke its key and give the instance a new id at the service.
"$PYTHON3" - "$FIXTURES/v1-typical.json" "$MOCK_DOC" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["public-keys"] = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK7vQm1xY2n3Jr8Tz0pLq4sW5eD6fG7hJ8kL9mN0bV1c two@example"]
d["instance-v2-id"] = "0f3a7c44-2d1e-4b6a-9c8d-5e7f1a2b3c4d"
d["hostname"] = "renamed-host"
open(sys.argv[2], "w").write(json.dumps(d))
PY
sed -i 's/^deadline = 2s/deadline = 10s/' "$CONF"
mock_mode refuse
# A new kernel boot, as far as the report goes: drop this boot's run state.
rm -rf "$R/run/vagent"
t0=$(ms)
vag "$R" boot --no-storage >"$SCRATCH/boot4" 2>&1
t=$(($(ms) - t0))
ok $([ $t -lt 6000 ] && echo 0 || echo 1) "cached boot, service down: cache after the 1 s cache-deadline, not the 10 s deadline (${t} ms)"
check "cached boot: used the cache" grep -q 'using the cached document' "$SCRATCH/boot4"
check "cached boot: the revoked key still there (degraded)" grep -q 'ops@example$' "$R/root/.ssh/authorized_keys"
check "cached boot: leaves the late flag" test -s "$R/run/vagent/metadata-late"
mock_mode ok
vag "$R" late >"$SCRATCH/late4" 2>&1
ok $? "cached boot: late run succeeds"
check "reconciled: the revoked key removed" bash -c "! grep -q 'ops@example' '$R/root/.ssh/authorized_keys'"
check "reconciled: the new key present" grep -q 'two@example$' "$R/root/.ssh/authorized_keys"
vag "$R" status >"$SCRATCH/status4" 2>&1
check "reconciled: the new instance id" grep -q '^instance: *0f3a7c44-2d1e-4b6a-9c8d-5e7f1a2b3c4d' "$SCRATCH/status4"
check "reconciled: a first boot of the new instance" grep -q '^first boot: *yes' "$SCRATCH/status4"
check "reconciled: the new instance's hostname" grep -qx renamed-host "$R/etc/hostname"
check "reconciled: status says when" grep -q '^metadata late: ' "$SCRATCH/status4"

# --- connections refused (nothing listens): a cached boot stops after 3 in a row ---------------
sed -e "s/^cache-deadline = 1s/cache-deadline = 20s/" -e "s/^deadline = .*/deadline = 3s/" "$CONF" \
	>"$SCRATCH/refused.conf"
rm -rf "$R/run/vagent"
"$VAGENT" -v -c "$SCRATCH/refused.conf" --root "$R" --metadata-url "$(closed_port_url)" boot \
	--no-storage >"$SCRATCH/boot-refused" 2>&1
grep -q "Failed to fetch 'http://127.0.0.1:[0-9]*/v1.json' (3 tries in [0-9]* ms, last: .*): Connection refused" \
	"$SCRATCH/boot-refused" && grep -q 'using the cached document' "$SCRATCH/boot-refused"
ok $? "cached boot, connections refused: the cache after 3 refused tries, not the 3 s deadline"
check "cached boot, connections refused: leaves the late flag" test -s "$R/run/vagent/metadata-late"
R6="$SCRATCH/root6"
make_root "$R6"
"$VAGENT" -v -c "$SCRATCH/refused.conf" --root "$R6" --metadata-url "$(closed_port_url)" boot \
	--no-storage >"$SCRATCH/boot-refused-first" 2>&1
n=$(sed -n "s/.*Failed to fetch '[^']*' (\([0-9]*\) tries in.*/\1/p" "$SCRATCH/boot-refused-first")
ok $([ "${n:-0}" -gt 3 ] && echo 0 || echo 1) "first boot (no cache), connections refused: keeps trying to the deadline (${n:-no} tries)"

# --- a first boot keeps the whole deadline (no cache: the keys matter more) ---------------------
R5="$SCRATCH/root5"
make_root "$R5"
sed -i 's/^deadline = 10s/deadline = 3s/' "$CONF"
mock_mode refuse
t0=$(ms)
vag "$R5" boot --no-storage >/dev/null 2>&1
t=$(($(ms) - t0))
# The last try starts 100 ms before the deadline (a longer random wait is cut short), and the
# deadline counts from vagent's start, after this clock started: never below 2900 ms.
ok $([ $t -ge 2850 ] && echo 0 || echo 1) "first boot, service down: keeps the 3 s deadline, not the 1 s cache-deadline (${t} ms)"

tap_done
