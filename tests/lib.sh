# SPDX-License-Identifier: MIT
# lib.sh: shared helpers for the shell integration tests: TAP output, a scratch --root that looks
# like a small Debian system, and the mock metadata service on 127.0.0.1. Source it.
# pipefail: a test that pipes vagent into a parser sees vagent's own failure.
set -u -o pipefail

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${VAGENT:=$top_builddir/vagent}"
: "${PYTHON3:=python3}"
: "${MOCK_METADATA:=$top_srcdir/tests/mock-metadata.py}"
FIXTURES="$top_srcdir/tests/fixtures"
# Run by hand, outside `make check`: the same sanitizer options (see Makefile.am for why
# intercept_strchr=0).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:intercept_strchr=0}"

tap_n=0
tap_failed=0
ok() { # ok COND-EXIT-STATUS DESCRIPTION
	tap_n=$((tap_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}
check() { # check DESCRIPTION COMMAND...: ok when COMMAND succeeds
	local d=$1
	shift
	if "$@" >/dev/null 2>&1; then ok 0 "$d"; else ok 1 "$d"; fi
}
tap_done() {
	echo "1..$tap_n"
	[ "$tap_failed" = 0 ] || { echo "# $tap_failed of $tap_n failed"; exit 1; }
	exit 0
}
skip_all() {
	echo "1..0 # SKIP $1"
	exit 77
}
need_root() {
	[ "$(id -u)" = 0 ] || skip_all "needs root: $1"
	# make distcheck sets this: the root tests already ran in the main `make check`.
	[ -z "${VAGENT_SKIP_ROOT_TESTS:-}" ] || skip_all "VAGENT_SKIP_ROOT_TESTS is set: $1"
}

SCRATCH=$(mktemp -d /tmp/vagent-test.XXXXXX)
MOCK_PID=
cleanup_hooks=
on_exit() { cleanup_hooks="$1; $cleanup_hooks"; }
_cleanup() {
	eval "$cleanup_hooks" 2>/dev/null || true
	[ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null && wait "$MOCK_PID" 2>/dev/null
	rm -rf "$SCRATCH"
}
trap _cleanup EXIT

# make_root DIR: a minimal system image vagent can act on with --root.
make_root() {
	local r=$1
	mkdir -p "$r/etc" "$r/root" "$r/home/admin" "$r/var/lib" "$r/run"
	chmod 0700 "$r/root"
	printf 'root:x:0:0:root:/root:/bin/bash\nadmin:x:1000:1000:Admin:/home/admin:/bin/bash\n' \
		>"$r/etc/passwd"
	chown 1000:1000 "$r/home/admin" 2>/dev/null || true
	printf 'debian\n' >"$r/etc/hostname"
	printf '127.0.0.1\tlocalhost\n127.0.1.1\tdebian\n\n# IPv6\n::1\tlocalhost ip6-localhost\n' \
		>"$r/etc/hosts"
	printf '# /etc/fstab: static file system information.\nUUID=1234 / ext4 errors=remount-ro 0 1\n' \
		>"$r/etc/fstab"
}

# start_mock [ARGS...]: start the mock service; sets MOCK_URL, MOCK_LOG, MOCK_DOC, MOCK_MODE.
start_mock() {
	MOCK_DOC="$SCRATCH/v1.json"
	MOCK_UD="$SCRATCH/user-data"
	MOCK_LOG="$SCRATCH/mock.log"
	MOCK_MODE="$SCRATCH/mock.mode"
	[ -f "$MOCK_DOC" ] || cp "$FIXTURES/v1-typical.json" "$MOCK_DOC"
	[ -f "$MOCK_MODE" ] || echo ok >"$MOCK_MODE"
	"$PYTHON3" "$MOCK_METADATA" --port 0 --port-file "$SCRATCH/mock.port" \
		--document "$MOCK_DOC" --user-data "$MOCK_UD" --log "$MOCK_LOG" \
		--mode-file "$MOCK_MODE" "$@" >"$SCRATCH/mock.out" 2>&1 &
	MOCK_PID=$!
	for _ in $(seq 100); do
		[ -s "$SCRATCH/mock.port" ] && break
		sleep 0.05
	done
	MOCK_URL="http://127.0.0.1:$(cat "$SCRATCH/mock.port")"
}
mock_mode() { echo "$*" >"$MOCK_MODE.tmp" && mv "$MOCK_MODE.tmp" "$MOCK_MODE"; }

# A port where nobody listens (bound then closed).
closed_port_url() {
	echo "http://127.0.0.1:$("$PYTHON3" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
}

# tree_sum DIR: one line per file (path, mode, owner, sha256), to prove "nothing changed".
tree_sum() {
	(cd "$1" && find . \( -type f -o -type l -o -type d \) -printf '%p %m %U:%G %y\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}

# Short timeouts so fault tests stay fast; the real defaults are in conf/vagent.conf.
fast_conf() {
	cat >"$1" <<EOC
[metadata]
deadline = ${2:-3s}
busy-deadline = 4s
connect-timeout = 1s
request-timeout = 2s
backoff-initial = 100ms
backoff-max = 500ms
EOC
}
