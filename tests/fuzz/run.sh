#!/bin/bash
# SPDX-License-Identifier: MIT
# run.sh [SECONDS]: build the libFuzzer targets in tests/fuzz/ with clang
# (-fsanitize=fuzzer,address,undefined) and run each for SECONDS (default $FUZZ_SECONDS, else 60)
# on its seed corpus. A crash, leak, timeout or failed property stops the run: the input is kept
# as $FUZZ_BUILD_DIR/artifacts/TARGET-crash-... and the script exits 1.
# Environment: FUZZ_CC (clang-14), FUZZ_BUILD_DIR (/tmp/vagent-fuzz), FUZZ_TARGETS (all),
# FUZZ_JOBS (targets run at once, default 1), FUZZ_BUILD_ONLY=1 (build, do not run).
# Per-input time limit: 10 s, and 3 s for the user-data targets (cloudconfig, gzip, pipeline),
# whose inputs are bounded by a work budget: issue 18's DoS inputs took minutes there.
# Exit: 0 all clean, 1 a finding or a build failure, 77 no clang with libFuzzer (skipped).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
secs=${1:-${FUZZ_SECONDS:-60}}
out=${FUZZ_BUILD_DIR:-${TMPDIR:-/tmp}/vagent-fuzz}
cc=${FUZZ_CC:-clang-14}
jobs=${FUZZ_JOBS:-1}
all_targets="json render config sshkeys hostname fstab userdata mime holders cloudconfig gzip pipeline scan ptable template"
targets=${FUZZ_TARGETS:-$all_targets}
# Leaks are findings too. intercept_strchr=0: libparted's constructor trips ASan (Makefile.am).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:intercept_strchr=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

command -v "$cc" >/dev/null || { echo "fuzz: $cc not found, skipping" >&2; exit 77; }
probe=$(mktemp -d)
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' >"$probe/p.c"
if ! "$cc" -fsanitize=fuzzer "$probe/p.c" -o "$probe/p" 2>/dev/null; then
	rm -rf "$probe"
	echo "fuzz: $cc cannot link -fsanitize=fuzzer (libclang-rt-14-dev?), skipping" >&2
	exit 77
fi
rm -rf "$probe"

# The agent as the normal build has it (libvagent_a_SOURCES in Makefile.am, main.c is not in
# it), instrumented for coverage, linked with every pkg-config module configure.ac checks for.
# FUZZ_EXTRA_SOURCES: more agent/ sources as DIR/NAME without .c (work not yet in Makefile.am).
sources="$(sed -n '/^libvagent_a_SOURCES/,/^[^ \t].*=/p' "$top/Makefile.am" |
	grep -o 'agent/[A-Za-z0-9_/-]*\.c' | sed 's|agent/||; s|\.c$||') ${FUZZ_EXTRA_SOURCES:-}"
deps=$(sed -n 's/^[[:space:]]*PKG_CHECK_MODULES(\[[A-Z0-9_]*\], *\[\([^] >=]*\).*/\1/p' "$top/configure.ac")
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cflags="-g -O1 -std=gnu11 -D_GNU_SOURCE -Wall -Werror -Wno-unused-parameter $san -I$top/agent -I$top/tests $(pkg-config --cflags $deps)"
mkdir -p "$out/obj" "$out/artifacts"

objs=()
for name in $sources; do
	src="$top/agent/$name.c"
	obj="$out/obj/${name//\//_}.o"
	if [ ! -e "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find "$top/agent" -name '*.h' -newer "$obj")" ]; then
		"$cc" $cflags -fsanitize=fuzzer-no-link -c "$src" -o "$obj" || { echo "fuzz: build of $src failed" >&2; exit 1; }
	fi
	objs+=("$obj")
done
rm -f "$out/libvagent-fuzz.a"
ar rcs "$out/libvagent-fuzz.a" "${objs[@]}"
for t in $targets; do
	"$cc" $cflags -fsanitize=fuzzer "$here/fuzz-$t.c" "$out/libvagent-fuzz.a" \
		-Wl,--as-needed $(pkg-config --libs $deps) -o "$out/fuzz-$t" || { echo "fuzz: build of fuzz-$t failed" >&2; exit 1; }
done
echo "fuzz: built $(echo $targets | wc -w) targets in $out"
[ -n "${FUZZ_BUILD_ONLY:-}" ] && exit 0

# The per-input limit (-timeout) of target $1.
timeout_of() {
	case $1 in
	cloudconfig | gzip | pipeline) echo 3 ;;
	*) echo 10 ;;
	esac
}

run_one() {
	local t=$1 dict=() log="$out/fuzz-$t.log"
	mkdir -p "$out/corpus/$t"
	[ -f "$here/$t.dict" ] && dict=(-dict="$here/$t.dict")
	"$out/fuzz-$t" -max_total_time="$secs" -timeout="$(timeout_of "$t")" -error_exitcode=1 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$out/artifacts/$t-" "${dict[@]}" \
		"$out/corpus/$t" "$here/corpus/$t" >"$log" 2>&1
	local rc=$?
	local execs
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	if [ $rc = 0 ]; then
		echo "fuzz-$t: ok, ${execs:-?} executions in ${secs}s (at most $(timeout_of "$t")s each)"
	else
		echo "fuzz-$t: FAILED (exit $rc) after ${execs:-?} executions; log $log"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz: property)|runtime error' "$log" | head -5
		ls "$out/artifacts/$t-"* 2>/dev/null
	fi
	return $rc
}

failed=0
running=0
pids=()
for t in $targets; do
	run_one "$t" &
	pids+=($!)
	running=$((running + 1))
	if [ $running -ge "$jobs" ]; then
		wait "${pids[0]}" || failed=1
		pids=("${pids[@]:1}")
		running=$((running - 1))
	fi
done
for p in "${pids[@]}"; do
	wait "$p" || failed=1
done
exit $failed
