#!/bin/bash
# The whole test suite, as CI runs it: configure with -Werror, ASan and UBSan (and the crash
# test kill points), build, `make check`, `make distcheck`, then one summary line.
# Root is needed for the storage tests (they skip, exit 77, without it).
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
build=${BUILD_DIR:-$top/build-ci}
jobs=$(nproc 2>/dev/null || echo 2)

step() { printf "\n=== %s (%ss elapsed)\n" "$*" "$SECONDS"; }
fail() { echo "run-suite: $*" >&2; exit 1; }

step autogen
./autogen.sh >/dev/null 2>&1 || fail "autogen.sh failed"
rm -rf "$build"
mkdir -p "$build"
cd "$build" || exit 1
step configure
"$top/configure" --enable-werror --enable-asan --enable-ubsan --enable-fault-injection \
	>configure.out 2>&1 || { tail -30 configure.out; fail "configure failed"; }
step build
make -j"$jobs" >make.out 2>&1 || { tail -50 make.out; fail "build failed"; }
step "make check"
make -j1 check
rc=$?
[ -f test-suite.log ] && [ $rc != 0 ] && cat test-suite.log
pass=$(grep -c '^PASS:' test-suite.log 2>/dev/null || true)
summary() {
	local p f s
	p=$(grep -h '^# PASS:' "$build"/test-suite.log | awk '{print $3}')
	f=$(grep -h -e '^# FAIL:' -e '^# ERROR:' -e '^# XPASS:' "$build"/test-suite.log | awk '{s+=$3} END {print s+0}')
	s=$(grep -h '^# SKIP:' "$build"/test-suite.log | awk '{print $3}')
	echo "${p:-0} passed, ${f:-0} failed, ${s:-0} skipped"
}
if [ $rc != 0 ]; then
	summary
	fail "make check failed"
fi
step "make distcheck"
make distcheck DISTCHECK_CONFIGURE_FLAGS="--enable-werror" VAGENT_SKIP_ROOT_TESTS=1 \
	>distcheck.out 2>&1 || { tail -60 distcheck.out; summary; fail "make distcheck failed"; }
grep -E '^vagent-.* archives ready' -A2 distcheck.out || true
step summary
summary
