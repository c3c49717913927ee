#!/bin/bash
# SPDX-License-Identifier: MIT
# test-userdata-limits.sh: issue 18's denial-of-service user data through the real binary
# against the mock metadata service, each in a fresh scratch --root: aliases of a mapping with
# 800 unsupported sub-keys, nesting 1e5 deep (lists and mappings), 200 k top-level keys, a
# 15 MiB flow list, 1e5 MIME parts, 1e5 cloud-config SSH keys, 200 gzip parts of 16 MiB each,
# 30 gz+b64 write_files, and gzip of exactly max-userdata-size followed by an empty member.
# Each must end within a generous bound (20 s; before the fix they took 23 s to many minutes,
# see NEWS) with one clear line naming the limit, few log lines, and the metadata's SSH keys
# installed by what vagent.service runs. The bound catches a hang, it does not time anything.
. "$(dirname "$0")/lib.sh"
set -o pipefail

CONF="$SCRATCH/vagent.conf"
fast_conf "$CONF" 10s
start_mock
KEY1='ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB3xQ1f8m2kq9Lw0TzR7cY4uV6pN5hJ2dE8sA1gK0oXr ops@example'
BOUND=20

gen() { # gen PYTHON: write what PYTHON prints (as bytes, to sys.stdout.buffer) to the user data
	"$PYTHON3" -c "import base64, gzip, os, struct, sys
$1" >"$MOCK_UD.tmp" && mv "$MOCK_UD.tmp" "$MOCK_UD"
}
new_root() { R="$SCRATCH/root-$1"; make_root "$R"; }
# run NAME ARGS...: vagent on the current root within $BOUND s; $rc, stdout in $SCRATCH/NAME,
# stderr (the log) in $SCRATCH/NAME.err.
run() {
	local name=$1
	shift
	timeout "$BOUND" "$VAGENT" -c "${RUN_CONF:-$CONF}" --root "$R" --metadata-url "$MOCK_URL" \
		"$@" >"$SCRATCH/$name" 2>"$SCRATCH/$name.err"
	rc=$?
}
# the service's command line installs the metadata key within the bound
keys_case() { # keys_case NAME
	new_root "$1-boot"
	run "$1-boot" boot --no-storage --no-userdata
	ok $([ $rc = 0 ] && grep -qF "$KEY1" "$R/root/.ssh/authorized_keys" && echo 0 || echo 1) \
		"$1: boot --no-storage --no-userdata installs the metadata key within ${BOUND}s (exit $rc)"
}
# userdata --dry-run refuses within the bound, naming WHAT, in at most a few lines
refused_case() { # refused_case NAME WHAT
	new_root "$1"
	run "$1" --dry-run userdata
	ok $([ $rc = 1 ] && echo 0 || echo 1) "$1: userdata --dry-run fails within ${BOUND}s (exit $rc)"
	check "$1: the error names the limit ($2)" grep -qF "$2" "$SCRATCH/$1.err"
	ok $([ "$(wc -l <"$SCRATCH/$1.err")" -le 3 ] && echo 0 || echo 1) \
		"$1: $(wc -l <"$SCRATCH/$1.err") lines of log"
}

# --- 1. aliases x unsupported sub-keys (8.9 KB: 640 004 warnings, 131 s, the unit killed) -------
gen 'm = "name: u, " + ", ".join("k%d: 0" % i for i in range(800))
print("#cloud-config\nx: &a {%s}\nusers: [%s]" % (m, ", ".join(["*a"] * 800)))'
refused_case alias "more than 131072 values (YAML nodes, aliases expanded)"
keys_case alias

# --- 3. deep nesting (75 s and 129 s in libyaml's loader) --------------------------------------
gen 'print("#cloud-config\nx: " + "[" * 100000 + "]" * 100000)'
refused_case deep-list "nesting deeper than 64 levels"
keys_case deep-list
gen 'print("#cloud-config\nx: " + "{a: " * 100000)'
refused_case deep-map "nesting deeper than 64 levels"
keys_case deep-map

# --- 2. long lists (121 s, 305 s and 905 MiB, 45 s, the ssh-keys step failing) ------------------
gen 'sys.stdout.write("#cloud-config\n" + "".join("k%06d: 1\n" % i for i in range(200000)))'
refused_case many-keys "more than 1024 top-level keys"
gen 'n = (15 << 20) // 2
sys.stdout.write("#cloud-config\npackages: [" + "a," * (n - 1) + "a]\n")'
refused_case flow-list "more than 131072 values"
gen 'sys.stdout.write("Content-Type: multipart/mixed; boundary=B\n\n" +
	"--B\nContent-Type: text/x-unknown\n\nx\n" * 100000 + "--B--\n")'
refused_case mime-parts "MIME user data has more than 1024 parts"
gen 'def blob():
	t = b"ssh-ed25519"
	return base64.b64encode(struct.pack(">I", len(t)) + t + struct.pack(">I", 32) + os.urandom(32)).decode()
sys.stdout.write("#cloud-config\nssh_authorized_keys:\n" +
	"".join("  - ssh-ed25519 %s k%d\n" % (blob(), i) for i in range(100000)))'
new_root ssh-keys
run ssh-keys ssh-keys
ok $([ $rc = 0 ] && grep -qF "$KEY1" "$R/root/.ssh/authorized_keys" && echo 0 || echo 1) \
	"1e5 cloud-config keys: the ssh-keys step installs the metadata key within ${BOUND}s (exit $rc)"
new_root ssh-keys-plan
run ssh-keys-plan --dry-run userdata
check "1e5 cloud-config keys: the plan names the limit" grep -qF "more than 1024 entries" "$SCRATCH/ssh-keys-plan.err"

# --- 5. decompression budgets (3.2 GB inflated in 23 s; 451 MiB written) -----------------------
gen 'z = base64.b64encode(gzip.compress(b"\0" * (16 << 20), 9)).decode()
sys.stdout.write("Content-Type: multipart/mixed; boundary=B\n\n" +
	"--B\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n%s\n" % z * 200 + "--B--\n")'
refused_case gzip-parts "gzip data together inflate beyond max-userdata-size"

RUN_CONF="$SCRATCH/small.conf"
fast_conf "$RUN_CONF" 10s
printf 'max-userdata-size = 4M\n' >>"$RUN_CONF"
gen 'z = base64.b64encode(gzip.compress(b"\0" * (1 << 20), 9)).decode()
sys.stdout.write("#cloud-config\nwrite_files:\n" +
	"".join("  - path: /srv/f%d\n    encoding: gz+b64\n    content: %s\n" % (i, z) for i in range(30)))'
new_root gz-files
run gz-files userdata
ok $([ $rc = 1 ] && echo 0 || echo 1) "30 gz+b64 write_files: the step fails within ${BOUND}s (exit $rc)"
written=$(find "$R/srv" -type f 2>/dev/null | wc -l)
bytes=$(find "$R/srv" -type f -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
ok $([ "$written" = 4 ] && [ "${bytes:-0}" -le $((4 << 20)) ] && echo 0 || echo 1) \
	"30 gz+b64 write_files: 4 files of 1 MiB written ($written, ${bytes:-0} bytes), max-userdata-size = 4M"
check "30 gz+b64 write_files: each refusal names the budget" \
	test "$(grep -c 'the files together exceed max-userdata-size' "$SCRATCH/gz-files.err")" = 26

# --- 14. gzip of exactly max-userdata-size, then an empty member --------------------------------
gen 'doc = b"#cloud-config\nhostname: exact-cap\n"
doc += b"#" * ((64 << 10) - len(doc) - 1) + b"\n"
assert len(doc) == 64 << 10
sys.stdout.buffer.write(gzip.compress(doc) + gzip.compress(b""))'
printf '[metadata]\nmax-userdata-size = 64K\n' >"$RUN_CONF"
new_root gzip-exact
run gzip-exact --dry-run userdata
ok $([ $rc = 0 ] && echo 0 || echo 1) "gzip of exactly max-userdata-size + an empty member: accepted (exit $rc)"
check "gzip of exactly the cap: the cloud-config is read" \
	grep -q "would apply 1 key" "$SCRATCH/gzip-exact" "$SCRATCH/gzip-exact.err"
unset RUN_CONF

tap_done
