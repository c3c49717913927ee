#!/bin/bash
# The whole test suite, as CI runs it: configure with -Werror, ASan and UBSan (and the crash
# test kill points), build, `make check`, a short fuzz run of every parser, `make distcheck`,
# the Debian package (built and checked by lintian), the VM end-to-end test on that package,
# then one summary line "N passed, N failed, N skipped".
# Root is needed for the storage and VM tests (they skip, exit 77, without it).
#   FUZZ_SECONDS=N (default 15)   VAGENT_SKIP_VM=1 (leave the ~5-9 min VM test out)
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
build=${BUILD_DIR:-$top/build-ci}
jobs=$(nproc 2>/dev/null || echo 2)
vm=none

step() { printf "\n=== %s (%ss elapsed)\n" "$*" "$SECONDS"; }
summary() {
	local p f s
	p=$(grep -h '^# PASS:' "$build"/test-suite.log 2>/dev/null | awk '{print $3}')
	f=$(grep -h -e '^# FAIL:' -e '^# ERROR:' -e '^# XPASS:' "$build"/test-suite.log 2>/dev/null |
		awk '{s+=$3} END {print s+0}')
	s=$(grep -h '^# SKIP:' "$build"/test-suite.log 2>/dev/null | awk '{print $3}')
	p=${p:-0} f=${f:-0} s=${s:-0}
	case $vm in pass) p=$((p + 1)) ;; fail) f=$((f + 1)) ;; skip) s=$((s + 1)) ;; esac
	echo "$p passed, $f failed, $s skipped"
}
fail() {
	summary
	echo "run-suite: $*" >&2
	exit 1
}

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
[ $rc = 0 ] || { cat test-suite.log; fail "make check failed"; }

step "fuzz (${FUZZ_SECONDS:-15} s per target)"
FUZZ_BUILD_DIR="$build/fuzz" FUZZ_JOBS="$jobs" "$top/tests/fuzz/run.sh" "${FUZZ_SECONDS:-15}"
r=$?
[ $r = 0 ] || [ $r = 77 ] || fail "fuzzing found a problem: $build/fuzz/artifacts"

step "make distcheck"
make distcheck DISTCHECK_CONFIGURE_FLAGS="--enable-werror" VAGENT_SKIP_ROOT_TESTS=1 \
	>distcheck.out 2>&1 || { tail -60 distcheck.out; fail "make distcheck failed"; }
grep -E 'archives ready' -A2 distcheck.out || true

step "Debian package (dpkg-buildpackage, lintian)"
rm -rf "$build/deb" && mkdir -p "$build/deb/vagent"
tar -C "$top" --exclude=./.git --exclude="./${build#"$top"/}" -cf - . | tar -C "$build/deb/vagent" -xf -
(cd "$build/deb/vagent" && dpkg-buildpackage -us -uc -b >"$build/deb/build.log" 2>&1) ||
	{ tail -40 "$build/deb/build.log"; fail "dpkg-buildpackage failed"; }
lintian --fail-on error,warning "$build"/deb/vagent_*_amd64.changes ||
	fail "lintian reports errors or warnings"
VAGENT_DEB=$(ls "$build"/deb/vagent_*_amd64.deb)
export VAGENT_DEB
echo "built and lintian-clean: $VAGENT_DEB"

step "VM end-to-end test (tests/vm/run.sh)"
if [ "${VAGENT_SKIP_VM:-}" = 1 ]; then
	echo "skipped: VAGENT_SKIP_VM=1"
	vm=skip
else
	"$top/tests/vm/run.sh"
	case $? in 0) vm=pass ;; 77) vm=skip ;; *) vm=fail ;; esac
fi

step summary
[ "$vm" != fail ] || fail "the VM test failed"
summary
