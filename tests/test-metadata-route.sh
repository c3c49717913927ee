#!/bin/bash
# SPDX-License-Identifier: MIT
# A fetch that starts before the network has a route to the metadata service (a boot's
# vagent.service starts with systemd-networkd, before the DHCP lease) retries as soon as the
# route appears, not after its random backoff: in a network namespace whose veth end has no
# address yet, `vagent metadata` with 60 s waits gets the document once the address (and so
# the route) is added. The mock listens in a second namespace at the other end. Needs root.
set -u
set -o pipefail
. "$(dirname "$0")/lib.sh"

need_root "network namespaces"
command -v ip >/dev/null || skip_all "no ip (iproute2)"
SRV=vagent-route-srv-$$
CLI=vagent-route-cli-$$
ip netns add "$SRV" 2>/dev/null || skip_all "cannot create a network namespace"
on_exit "ip netns del $SRV"
ip netns add "$CLI" || skip_all "cannot create a second network namespace"
on_exit "ip netns del $CLI"
ip -n "$SRV" link add s0 type veth peer name c0 netns "$CLI" &&
	ip -n "$SRV" addr add 10.99.0.1/24 dev s0 && ip -n "$SRV" link set s0 up &&
	ip -n "$SRV" link set lo up && ip -n "$CLI" link set c0 up && ip -n "$CLI" link set lo up
ok $? "veth pair between two namespaces, the client end without an address"

ip netns exec "$SRV" "$PYTHON3" "$MOCK_METADATA" --bind 10.99.0.1 --port 80 \
	--port-file "$SCRATCH/port" --document "$FIXTURES/v1-typical.json" --log "$SCRATCH/mock.log" \
	>"$SCRATCH/mock.out" 2>&1 &
on_exit "kill $! 2>/dev/null"
for _ in $(seq 100); do [ -s "$SCRATCH/port" ] && break; sleep 0.05; done

cat >"$SCRATCH/vagent.conf" <<EOC
[metadata]
deadline = 120s
busy-deadline = 120s
backoff-initial = 60s
backoff-max = 60s
EOC
ip netns exec "$CLI" timeout 150 "$VAGENT" -c "$SCRATCH/vagent.conf" --root "$SCRATCH" \
	-v --metadata-url http://10.99.0.1 metadata instanceid >"$SCRATCH/out" 2>"$SCRATCH/err" &
pid=$!
for _ in $(seq 200); do grep -q "once there is a route to 10.99.0.1" "$SCRATCH/err" && break; sleep 0.05; done
check "no route yet: the wait says it ends once there is one" \
	grep -q "retrying in [0-9]* ms or once there is a route to 10.99.0.1" "$SCRATCH/err"
ip -n "$CLI" addr add 10.99.0.2/24 dev c0
wait "$pid"
rc=$?
ok $([ $rc = 0 ] && echo 0 || echo 1) "the fetch succeeded (exit $rc)"
check "it retried when the route appeared" grep -q "A route to 10.99.0.1 appeared: retrying now" "$SCRATCH/err"
check "the document's instance id printed" grep -q "[0-9a-f]" "$SCRATCH/out"
n=$(grep -c "v1.json" "$SCRATCH/mock.log" 2>/dev/null)
ok $([ "${n:-0}" = 1 ] && echo 0 || echo 1) "one request reached the service ($n)"
[ $rc = 0 ] || sed 's/^/# /' "$SCRATCH/err"
tap_done
