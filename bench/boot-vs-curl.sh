#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark: wall time and peak RSS of `vagent boot` (no disks) against the mock metadata
# service, next to one `curl` fetch of the same document, in the same run. Builds an
# optimised vagent (no sanitizers) in bench/build. Prints a table and the ratios.
#   bench/boot-vs-curl.sh [RUNS]      (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
runs=${1:-30}
build=$top/bench/build
command -v curl >/dev/null || { echo "needs curl (apt-get install curl)"; exit 1; }
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time): peak RSS is its %M"; exit 1; }

[ -x configure ] || ./autogen.sh >/dev/null 2>&1
mkdir -p "$build"
(cd "$build" && { [ -f Makefile ] || "$top/configure" CFLAGS="-O2 -g" >/dev/null; } && make -s -j"$(nproc)" vagent >/dev/null)
vagent=$build/vagent

work=$(mktemp -d /tmp/vagent-bench.XXXXXX)
trap 'kill $mock 2>/dev/null; rm -rf "$work"' EXIT
# The user-data script writes into /var/tmp; keep the benchmark's side effects in the scratch.
sed "s|/var/tmp/first-boot.txt|$work/first-boot.txt|" tests/fixtures/user-data-script.sh >"$work/ud"
python3 tests/mock-metadata.py --port 0 --port-file "$work/port" \
	--document tests/fixtures/v1-typical.json --user-data "$work/ud" >/dev/null &
mock=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
url="http://127.0.0.1:$(cat "$work/port")"
root=$work/root
mkroot="rm -rf $root && mkdir -p $root/etc $root/root && printf 'root:x:0:0:root:/root:/bin/sh\\n' >$root/etc/passwd && printf 'debian\\n' >$root/etc/hostname && printf '127.0.1.1\\tdebian\\n' >$root/etc/hosts"

printf 'what\tmedian_ms\tmin_ms\tmax_ms\tpeak_rss_MiB\tmedian_rss_MiB\texit\n' >"$work/table"
python3 bench/measure.py "curl (one GET of v1.json)" "$runs" -- curl -s -o /dev/null "$url/v1.json" >>"$work/table"
python3 bench/measure.py "vagent boot, first boot" "$runs" --before "$mkroot" -- \
	"$vagent" --root "$root" --metadata-url "$url" boot --no-storage >>"$work/table"
eval "$mkroot"
"$vagent" --root "$root" --metadata-url "$url" boot --no-storage >/dev/null 2>&1 || true
python3 bench/measure.py "vagent boot, nothing to do" "$runs" -- \
	"$vagent" --root "$root" --metadata-url "$url" boot --no-storage >>"$work/table"
python3 bench/measure.py "vagent --version (load floor)" "$runs" -- "$vagent" --version >>"$work/table"

echo "vagent boot vs one curl fetch, $runs runs each, $(date -u +%F), $(nproc) CPUs, $(uname -r)"
column -t -s $'\t' "$work/table"
python3 - "$work/table" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
d = {r[0]: r for r in rows}
c = d["curl (one GET of v1.json)"]
for k in ("vagent boot, first boot", "vagent boot, nothing to do"):
    v = d[k]
    print(f"{k}: wall {float(v[1]) / float(c[1]):.2f}x curl (target <= 3x), "
          f"peak RSS {float(v[4]) / float(c[4]):.2f}x curl (target <= 1.0x)")
PY
