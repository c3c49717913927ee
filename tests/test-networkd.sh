#!/bin/bash
# SPDX-License-Identifier: MIT
# test-networkd.sh: `vagent network` end to end, the document served by the mock metadata
# service: over --root (a fake sys/class/net carries the NICs and their MACs) and, for real, in
# a network namespace whose veth NICs carry the metadata's MACs. The files written to
# run/systemd/network are compared with the expected ones in tests/fixtures/network; vpc_only,
# unconfigured, a MAC without a NIC, a malformed netmask, a second run that changes nothing,
# an admin's file in etc/ that wins, dry run, [network] manage.
set -o pipefail
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

NETDIR=run/systemd/network
EXPECT=$FIXTURES/network
PUB=10-vagent-560005aabbcc.network
PRIV=10-vagent-5a0005aabbcc.network
CONF=$SCRATCH/vagent.conf
start_mock

# nics ROOT NAME MAC [NAME MAC...]: a fake ROOT/sys/class/net
nics() {
	local r=$1
	shift
	mkdir -p "$r/sys/class/net/lo"
	echo 00:00:00:00:00:00 >"$r/sys/class/net/lo/address"
	while [ $# -gt 0 ]; do
		mkdir -p "$r/sys/class/net/$1"
		echo "$2" >"$r/sys/class/net/$1/address"
		echo 1 >"$r/sys/class/net/$1/type"
		shift 2
	done
}

# conf [MANAGE]: vagent.conf with short timeouts and [network] manage = MANAGE (default
# networkd: the scratch roots have no systemd-networkd enabled)
conf() {
	fast_conf "$CONF" 3s
	printf '\n[platform]\ncheck = no\n\n[network]\nmanage = %s\n' "${1:-networkd}" >>"$CONF"
}

# step_of JSON NAME: "RESULT: MESSAGE" of step NAME in `vagent --json` output
step_of() {
	"$PYTHON3" -c 'import json, sys
d = json.load(open(sys.argv[1]))
s = [x for x in d["steps"] if x["name"] == sys.argv[2]]
print(s[0]["result"] + ": " + (s[0]["message"] or "") if s else "no such step")' "$1" "$2"
}
# step_line JSON: the same for the network step
step_line() { step_of "$1" network; }

# run ROOT DOC [vagent options]: `vagent --json network` with DOC served; the network step's
# "RESULT: MESSAGE" in $OUT, vagent's exit status in $RC, its stderr in $ERR
run() {
	local root=$1 doc=$2
	shift 2
	cp "$doc" "$MOCK_DOC"
	"$VAGENT" -c "$CONF" --root "$root" --metadata-url "$MOCK_URL" "$@" --json network \
		>"$SCRATCH/out" 2>"$SCRATCH/err"
	RC=$?
	OUT=$(step_line "$SCRATCH/out" 2>&1)
	ERR=$(cat "$SCRATCH/err")
}

same() { cmp -s "$1" "$2"; }
conf networkd

# --- public + private, two extra IPv4, a routed IPv6 /64, mtu as a string ----------------------
R=$SCRATCH/r1
nics "$R" enp1s0 56:00:05:aa:bb:cc enp6s0 5A:00:05:AA:BB:CC
run "$R" "$FIXTURES/v1-network.json"
ok $((RC != 0)) "public+private: exit 0 (rc=$RC: $OUT)"
ok "$([[ $OUT == "changed: enp1s0 public, enp6s0 private; 2 file(s) written, 0 unchanged"* ]]; echo $?)" \
	"public+private: outcome names both NICs ($OUT)"
check "public: the expected file (DHCP, RA, 2 extra IPv4, the /64, the route)" \
	same "$R/$NETDIR/$PUB" "$EXPECT/network-public.network"
check "private: the expected file (static /20, extra address, MTUBytes=1450 from \"1450\", not required)" \
	same "$R/$NETDIR/$PRIV" "$EXPECT/network-private.network"
ok "$(test "$(ls "$R/$NETDIR" | wc -l)" = 2; echo $?)" "public+private: exactly two files"
ok "$(test "$(stat -c %a "$R/$NETDIR/$PUB")" = 644; echo $?)" "files are 0644"
ok "$(test ! -e "$R/etc"; echo $?)" "nothing written under etc/"

# --- a second boot changes no file ---------------------------------------------------------------
before=$(tree_sum "$R/$NETDIR"; stat -c '%n %Y %i' "$R/$NETDIR"/*)
sleep 1.1
run "$R" "$FIXTURES/v1-network.json"
after=$(tree_sum "$R/$NETDIR"; stat -c '%n %Y %i' "$R/$NETDIR"/*)
ok "$([[ $RC == 0 && $OUT == "unchanged: enp1s0 public, enp6s0 private; 0 file(s) written, 2 unchanged" ]]; echo $?)" \
	"second run: unchanged ($OUT)"
ok "$(test "$before" = "$after"; echo $?)" "second run: no file touched (content, mtime, inode)"

# --- the admin's file in etc/ wins ----------------------------------------------------------------
mkdir -p "$R/etc/systemd/network"
printf '[Match]\nMACAddress=5a:00:05:aa:bb:cc\n\n[Network]\nAddress=192.0.2.9/24\n' \
	>"$R/etc/systemd/network/$PRIV"
etc_before=$(sha256sum "$R/etc/systemd/network/$PRIV")
run "$R" "$FIXTURES/v1-network.json"
ok "$([[ $RC == 0 && $OUT == *"1 replaced by /etc/systemd/network (enp6s0)"* ]]; echo $?)" \
	"admin's file: reported as replacing vagent's ($OUT)"
ok "$(test ! -e "$R/$NETDIR/$PRIV"; echo $?)" "admin's file: vagent's copy of that name is gone from run/"
ok "$(test "$(sha256sum "$R/etc/systemd/network/$PRIV")" = "$etc_before"; echo $?)" \
	"admin's file: left byte for byte"
check "admin's file: the public NIC is still configured" same "$R/$NETDIR/$PUB" "$EXPECT/network-public.network"
rm -f "$R/etc/systemd/network/$PRIV"
run "$R" "$FIXTURES/v1-network.json"
check "admin's file removed: vagent's comes back" same "$R/$NETDIR/$PRIV" "$EXPECT/network-private.network"

# --- an interface gone from the document: its file goes ----------------------------------------
"$PYTHON3" - "$FIXTURES/v1-network.json" "$SCRATCH/one.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["interfaces"] = d["interfaces"][:1]
json.dump(d, open(sys.argv[2], "w"))
EOF
run "$R" "$SCRATCH/one.json"
ok "$([[ $RC == 0 && $OUT == *"0 file(s) written, 1 unchanged, 1 removed"* && ! -e $R/$NETDIR/$PRIV ]]; echo $?)" \
	"interface dropped from the document: its file removed ($OUT)"

# --- dry run: the files it would write, nothing written ------------------------------------------
R=$SCRATCH/dry
nics "$R" enp1s0 56:00:05:aa:bb:cc enp6s0 5a:00:05:aa:bb:cc
before=$(tree_sum "$R")
run "$R" "$FIXTURES/v1-network.json" --dry-run
ok "$([[ $RC == 0 && $OUT == *"2 file(s) to write"* ]]; echo $?)" "dry run: plans two files ($OUT)"
"$VAGENT" -c "$CONF" --root "$R" --metadata-url "$MOCK_URL" --dry-run network >"$SCRATCH/plan" 2>&1
ok $? "dry run, human output: exit 0"
ok "$(test "$before" = "$(tree_sum "$R")"; echo $?)" "dry run: nothing written"
ok "$(grep -q "^# /run/systemd/network/$PUB (enp1s0, would be written)" "$SCRATCH/plan" &&
	grep -q "^# /run/systemd/network/$PRIV (enp6s0, would be written)" "$SCRATCH/plan" &&
	grep -q '^Address=10.24.96.5/20$' "$SCRATCH/plan" && grep -q '^DHCP=ipv4$' "$SCRATCH/plan"
	echo $?)" "dry run: prints each file with its path"

# --- vpc_only: the first (and only) interface is private, mtu a number ---------------------------
R=$SCRATCH/vpc
nics "$R" enp1s0 5a:00:05:00:00:01
run "$R" "$FIXTURES/v1-network-vpc-only.json"
ok "$([[ $RC == 0 && $OUT == "changed: enp1s0 private;"* ]]; echo $?)" "vpc_only: configured ($OUT)"
check "vpc_only: the expected file (static, MTUBytes=1450 from a number, required for online)" \
	same "$R/$NETDIR/10-vagent-5a0005000001.network" "$EXPECT/vpc-only.network"
ok "$(! grep -q DHCP=ipv4 "$R/$NETDIR/10-vagent-5a0005000001.network"; echo $?)" \
	"vpc_only: no DHCP on the private first NIC (keyed on network-type, not on the index)"

# --- unconfigured: no file -------------------------------------------------------------------------
R=$SCRATCH/unconf
nics "$R" enp1s0 56:00:05:aa:bb:cd enp6s0 5a:00:05:aa:bb:cd
run "$R" "$FIXTURES/v1-network-unconfigured.json"
ok "$([[ $RC == 0 && $OUT == "changed: enp1s0 public, interfaces[1] unconfigured;"* ]]; echo $?)" \
	"unconfigured: reported ($OUT)"
ok "$(test "$(ls "$R/$NETDIR")" = 10-vagent-560005aabbcd.network; echo $?)" \
	"unconfigured: only the public NIC's file"

# --- a MAC that matches no NIC: one warning, no file ---------------------------------------------
R=$SCRATCH/nonic
nics "$R" enp1s0 56:00:05:aa:bb:cc
run "$R" "$FIXTURES/v1-network.json"
ok "$([[ $RC == 0 && $OUT == *"interfaces[1] (5a:00:05:aa:bb:cc) matches no NIC"* ]]; echo $?)" \
	"MAC without a NIC: in the outcome ($OUT)"
ok "$(test "$(grep -c 'matches no NIC' <<<"$ERR")" = 1; echo $?)" "MAC without a NIC: one warning"
ok "$(test "$(ls "$R/$NETDIR")" = "$PUB"; echo $?)" "MAC without a NIC: no file for it, the public one written"

# --- a malformed netmask: an error naming the field, the other interface still configured --------
R=$SCRATCH/bad
nics "$R" enp1s0 56:00:05:aa:bb:ce enp6s0 5a:00:05:aa:bb:ce
run "$R" "$FIXTURES/v1-network-bad-netmask.json"
ok "$([[ $RC == 1 && $OUT == "failed: "*"field 'interfaces[1].ipv4.netmask': not an IPv4 netmask"* ]]; echo $?)" \
	"malformed netmask: failed, naming the field (rc=$RC: $OUT)"
ok "$(test "$(ls "$R/$NETDIR")" = 10-vagent-560005aabbce.network; echo $?)" \
	"malformed netmask: the public NIC is still configured, nothing for the broken one"
ok "$(! grep -q '255.0.255.0' <<<"$OUT$ERR"; echo $?)" "malformed netmask: the value is not quoted"

# --- [network] manage ------------------------------------------------------------------------------
R=$SCRATCH/manage
nics "$R" enp1s0 56:00:05:aa:bb:cc enp6s0 5a:00:05:aa:bb:cc
conf no
run "$R" "$FIXTURES/v1-network.json"
ok "$([[ $RC == 0 && $OUT == "skipped: disabled by [network] manage = no" && ! -e $R/$NETDIR ]]; echo $?)" \
	"manage = no: skipped, nothing written ($OUT)"
mkdir -p "$R/etc/systemd/system/multi-user.target.wants"
ln -s /lib/systemd/system/NetworkManager.service \
	"$R/etc/systemd/system/multi-user.target.wants/NetworkManager.service"
conf auto
run "$R" "$FIXTURES/v1-network.json"
ok "$([[ $RC == 0 && $OUT == "skipped: systemd-networkd is not enabled (NetworkManager is in use): enp1s0 public left unconfigured, enp6s0 private left unconfigured" && ! -e $R/$NETDIR ]]; echo $?)" \
	"manage = auto without networkd: one line naming the manager and the NICs ($OUT)"
rm "$R/etc/systemd/system/multi-user.target.wants/NetworkManager.service"
ln -s /lib/systemd/system/systemd-networkd.service \
	"$R/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
run "$R" "$FIXTURES/v1-network.json"
ok "$([[ $RC == 0 && $OUT == "changed: "* ]] && same "$R/$NETDIR/$PRIV" "$EXPECT/network-private.network"; echo $?)" \
	"manage = auto with networkd enabled: written ($OUT)"

# --- the early stage: from the cache, before the NICs may be there; the boot stage then reloads
# nothing (vagent-early.service) -------------------------------------------------------------------
conf networkd
RE=$SCRATCH/early
nics "$RE" enp1s0 56:00:05:aa:bb:cc enp6s0 5A:00:05:AA:BB:CC
run "$RE" "$FIXTURES/v1-network.json"
ok "$([[ $RC == 0 && -s $RE/var/lib/vagent/metadata.json ]]; echo $?)" "early: a root with a cached document ($OUT)"
# A new boot: /run is empty and udev has probed no NIC yet; the service is down (a closed port).
rm -rf "$RE/run" "$RE/sys"
: >"$MOCK_LOG"
"$VAGENT" -c "$CONF" --root "$RE" --metadata-url "$MOCK_URL" --json boot --stage=early \
	>"$SCRATCH/out" 2>"$SCRATCH/err"
RC=$?
OUT=$(step_of "$SCRATCH/out" network-early)
ok "$([[ $RC == 0 && $OUT == "changed: 56:00:05:aa:bb:cc public, 5a:00:05:aa:bb:cc private; 2 file(s) written, 0 unchanged"* ]]; echo $?)" \
	"early: no NIC there yet, a file for each MAC of the cached document (rc=$RC: $OUT)"
check "early: never asked the metadata service" test ! -s "$MOCK_LOG"
check "early: the public file is the boot stage's, byte for byte" same "$RE/$NETDIR/$PUB" "$EXPECT/network-public.network"
check "early: the private file is the boot stage's, byte for byte" same "$RE/$NETDIR/$PRIV" "$EXPECT/network-private.network"
ok "$(test "$(step_of "$SCRATCH/out" network)" = "no such step"; echo $?)" "early: the early step only"
# The NICs are there by the time vagent.service runs: its network step finds both files as is.
nics "$RE" enp1s0 56:00:05:aa:bb:cc enp6s0 5A:00:05:AA:BB:CC
run "$RE" "$FIXTURES/v1-network.json"
ok "$([[ $RC == 0 && $OUT == "unchanged: enp1s0 public, enp6s0 private; 0 file(s) written, 2 unchanged"* ]]; echo $?)" \
	"early, then the boot stage with the NICs: nothing written, nothing to reload ($OUT)"
"$VAGENT" -c "$CONF" --root "$RE" status >"$SCRATCH/status" 2>&1
check "early: vagent status shows network-early and its unit" \
	grep -Eq '^network-early +changed .*vagent-early\.service' "$SCRATCH/status"
# No cache: nothing, and still no request (a first boot: vagent.service writes the files).
RN=$SCRATCH/early-none
make_root "$RN"
: >"$MOCK_LOG"
"$VAGENT" -c "$CONF" --root "$RN" --metadata-url "$MOCK_URL" --json boot --stage=early \
	>"$SCRATCH/out" 2>"$SCRATCH/err"
RC=$?
OUT=$(step_of "$SCRATCH/out" network-early)
ok "$([[ $RC == 0 && $OUT == "skipped: "* && ! -e $RN/$NETDIR ]]; echo $?)" \
	"early without a cache: skipped, no file (rc=$RC: $OUT)"
check "early without a cache: never asked the metadata service" test ! -s "$MOCK_LOG"
"$VAGENT" -c "$CONF" --root "$RN" boot --stage=early,boot >/dev/null 2>"$SCRATCH/err"
ok "$([[ $? == 2 ]] && grep -q 'early alone' "$SCRATCH/err"; echo $?)" "--stage=early,boot: refused, early runs alone"

# --- for real: veth NICs with the metadata's MACs in a network namespace -------------------------
if [ "$(id -u)" != 0 ] || [ -n "${VAGENT_SKIP_ROOT_TESTS:-}" ] || ! command -v ip >/dev/null; then
	echo "# skipping the network namespace part: needs root and ip(8)"
else
	conf networkd
	NS=vagent-net-$$
	if ip netns add "$NS" 2>/dev/null; then
		on_exit "ip netns del $NS"
		ip -n "$NS" link add enp1s0 type veth peer name p1 &&
			ip -n "$NS" link set enp1s0 address 56:00:05:aa:bb:cc &&
			ip -n "$NS" link add enp6s0 type veth peer name p6 &&
			ip -n "$NS" link set enp6s0 address 5a:00:05:aa:bb:cc
		ok $? "netns: veth NICs carrying the metadata's MACs"
		# vagent on the real root of the namespace: its own /sys (ip netns exec mounts it),
		# the mock service on its loopback, and private /run and /var/lib so that nothing of
		# the host's is written (vagent writes the cache and its status there).
		ip netns exec "$NS" unshare -m --propagation private sh -c '
			ip link set lo up && mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /var/lib ||
				exit 1
			"$1" "$2" --port 0 --port-file /run/port --document "$3" >/dev/null 2>&1 &
			mock=$!
			for _ in $(seq 100); do [ -s /run/port ] && break; sleep 0.05; done
			"$4" -c "$5" --metadata-url "http://127.0.0.1:$(cat /run/port)" --json network
			rc=$?
			cp -r /run/systemd/network "$6"
			kill "$mock"
			wait "$mock"
			exit $rc' sh "$PYTHON3" "$MOCK_METADATA" "$FIXTURES/v1-network.json" "$VAGENT" \
			"$CONF" "$SCRATCH/netns-out" >"$SCRATCH/out" 2>"$SCRATCH/err"
		rc=$?
		OUT=$(step_line "$SCRATCH/out" 2>&1)
		ok "$([[ $rc == 0 && $OUT == "changed: enp1s0 public, enp6s0 private; 2 file(s) written"*"networkd not running"* ]]; echo $?)" \
			"netns: vagent network matched the namespace's real NICs by MAC (rc=$rc: $OUT)"
		check "netns: public file as expected" same "$SCRATCH/netns-out/$PUB" "$EXPECT/network-public.network"
		check "netns: private file as expected" same "$SCRATCH/netns-out/$PRIV" "$EXPECT/network-private.network"
	else
		echo "# skipping the network namespace part: ip netns add failed"
	fi
fi

tap_done
