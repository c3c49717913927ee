#!/bin/bash
# SPDX-License-Identifier: MIT
# The cloud-config corpus: each tests/fixtures/cc-corpus/NAME.yaml (or NAME.mime) is the user
# data of one real `vagent boot --no-storage` in a fresh scratch --root against the mock
# metadata service, and NAME.expect says what cloud-init's code does with it (the checks are
# described in tests/cc-corpus-check.py). NAME.setup, when present, is sourced first with $R
# (the root, @ROOT@ in the files) and $OUT (the host directory the fixture's commands write
# to, @OUT@ in the files).
# Commands that would change the test machine are never in the corpus: runcmd and bootcmd write
# under $OUT only, packages and mounts are not run under --root. Needs root (useradd --root).
. "$(dirname "$0")/lib.sh"
need_root "useradd --root and groupadd --root chroot into the scratch root"
command -v useradd >/dev/null || skip_all "useradd (passwd package) is not installed"

CORPUS="$FIXTURES/cc-corpus"
CONF="$SCRATCH/vagent.conf"
fast_conf "$CONF" 3s
start_mock
ONLY=${CC_CORPUS_ONLY:-}
KEEP=${CC_CORPUS_KEEP:-} # a directory: each run's root, output and log are copied there

for ud in "$CORPUS"/*.yaml "$CORPUS"/*.mime; do
	[ -e "$ud" ] || continue
	name=$(basename "${ud%.*}")
	[ -z "$ONLY" ] || [ "$name" = "$ONLY" ] || continue
	R="$SCRATCH/$name/root"
	OUT="$SCRATCH/$name/out"
	make_root "$R"
	mkdir -p "$OUT"
	printf 'root:x:0:\nadm:x:4:\n' >"$R/etc/group"
	conf="$CONF"
	if [ -e "$CORPUS/$name.conf" ]; then
		conf="$SCRATCH/$name/vagent.conf"
		cat "$CONF" "$CORPUS/$name.conf" >"$conf"
	fi
	# shellcheck disable=SC1090
	[ -e "$CORPUS/$name.setup" ] && . "$CORPUS/$name.setup"
	sed "s|@OUT@|$OUT|g; s|@ROOT@|$R|g" "$ud" >"$MOCK_UD"
	"$VAGENT" -c "$conf" --root "$R" --metadata-url "$MOCK_URL" boot --no-storage \
		>"$SCRATCH/$name/log" 2>&1
	rc=$?
	[ -z "$KEEP" ] || { mkdir -p "$KEEP" && cp -a "$SCRATCH/$name" "$KEEP/"; }
	while IFS= read -r res; do
		case $res in
		PASS\ *) ok 0 "${res#PASS }" ;;
		*) ok 1 "${res#FAIL }" ;;
		esac
	done < <("$PYTHON3" "$top_srcdir/tests/cc-corpus-check.py" "$CORPUS/$name.expect" "$R" \
		"$OUT" "$R/run/vagent/status.json" "$SCRATCH/$name/log" "$rc" 2>&1)
	# Secrets: no fixture's content marker reaches the output or the status files.
	check "$name: no SECRET marker in the output or the status" bash -c "
		! grep -q SECRET '$SCRATCH/$name/log' && ! grep -rq SECRET '$R/run' '$R/var/lib/vagent/last-boot.json'"
done
tap_done
