#!/bin/bash
# SPDX-License-Identifier: MIT
# The command line contract (doc/cli.md): help, version, exit codes 0/1/2, usage errors with a
# hint, configuration errors naming file, line and reason, --dump-config, output that cannot be
# written is a failure, and every acting verb honours the opt-outs.
. "$(dirname "$0")/lib.sh"

run() { out=$("$VAGENT" "$@" 2>&1); rc=$?; }
expect() { # expect RC DESCRIPTION [GREP-PATTERN]
	local want=$1 d=$2
	if [ "$rc" != "$want" ]; then
		ok 1 "$d (exit $rc, wanted $want: $out)"
	elif [ $# -ge 3 ] && ! grep -q -- "$3" <<<"$out"; then
		ok 1 "$d (output lacks '$3': $out)"
	else
		ok 0 "$d"
	fi
}

run --help; expect 0 "--help exits 0" "Usage: vagent"
for v in boot metadata hostname ssh-keys userdata mount umount status clean; do
	grep -q "^  $v " <<<"$out"; ok $? "--help lists '$v'"
done
run --version; expect 0 "--version exits 0" "^vagent [0-9]"
run; expect 2 "no command: exit 2" "Try 'vagent --help'"
run frobnicate; expect 2 "unknown command: exit 2" "unknown command 'frobnicate'"
run --frob boot; expect 2 "unknown option: exit 2" "Try 'vagent --help'"
run status extra; expect 2 "too many arguments: exit 2" "too many arguments"
run --root relative boot; expect 2 "relative --root: exit 2" "absolute"
run --metadata-url ftp://x boot; expect 2 "ftp metadata URL: exit 2" "http"
run -c; expect 2 "-c without argument: exit 2" "needs an argument"
run --no-userdata status; expect 2 "--no-userdata outside boot: exit 2" "boot"
run --stage=storage status; expect 2 "--stage outside boot: exit 2" "boot"
run --stage=frob boot; expect 2 "--stage with an unknown stage: exit 2" "boot, storage, userdata or after-ssh"
run --stage=shutdown boot; expect 2 "--stage shutdown is umount's: exit 2" "boot, storage, userdata or after-ssh"

# Output that cannot be written is a failure with a message, like util-linux's close_stdout;
# a closed pipe is not.
for a in --version --help --dump-config "--root $SCRATCH/empty-root clean --dry-run"; do
	mkdir -p "$SCRATCH/empty-root"
	# shellcheck disable=SC2086
	out=$("$VAGENT" $a 2>&1 >/dev/full); rc=$?
	expect 1 "vagent $a >/dev/full: exit 1" "Failed to write to standard output: No space left"
done
"$VAGENT" --help | head -1 >/dev/null
ok "${PIPESTATUS[0]}" "vagent --help | head -1: a closed pipe is not a failure"

# Configuration.
run -c /nonexistent/vagent.conf --dump-config
expect 2 "explicit missing config: exit 2" "/nonexistent/vagent.conf"
run --dump-config
expect 0 "--dump-config without a config file" "deadline = 20s"
# conf/vagent.conf lists every option with its default: uncommented, it equals --dump-config.
sed -n 's/^#\([a-z-]* = .*\)$/\1/p; /^\[/p' "$top_srcdir/conf/vagent.conf" >"$SCRATCH/conf-defaults"
: >"$SCRATCH/empty.conf"; "$VAGENT" -c "$SCRATCH/empty.conf" --dump-config 2>&1 | grep -v '^$' >"$SCRATCH/dump"
diff -u "$SCRATCH/dump" "$SCRATCH/conf-defaults" >"$SCRATCH/diff" 2>&1
ok $? "conf/vagent.conf lists every option with its real default"
[ -s "$SCRATCH/diff" ] && sed 's/^/# /' "$SCRATCH/diff"
run -c "$top_srcdir/conf/vagent.conf" --dump-config
expect 0 "the shipped config file loads"

bad() { # bad DESCRIPTION CONTENT EXPECTED-MESSAGE
	printf '%b' "$2" >"$SCRATCH/bad.conf"
	run -c "$SCRATCH/bad.conf" --dump-config
	expect 2 "bad config: $1" "$3"
}
bad "unknown section" '[nope]\nx = 1\n' "bad.conf:1: unknown section"
bad "unknown key" '[metadata]\nfoo = 1\n' "bad.conf:2: unknown option 'foo'"
bad "no equals sign" '[metadata]\n\n# c\ndeadline\n' "bad.conf:4: expected 'key = value'"
bad "key outside section" 'deadline = 3s\n' "bad.conf:1: 'deadline' is outside"
bad "bad duration" '[metadata]\ndeadline = soon\n' "bad.conf:2: 'deadline': value 'soon' is not a duration"
bad "bad size" '[metadata]\nmax-document-size = big\n' "bad.conf:2:.*not a size"
bad "bad enum" '[hostname]\npolicy = sometimes\n' "bad.conf:2:.*not one of"
bad "bad bool" '[storage]\nenabled = maybe\n' "bad.conf:2:.*boolean"
bad "bad url" '[metadata]\nurl = ftp://x\n' "bad.conf:2:.*http"
bad "relative mount dir" '[storage]\nmount-dir = mnt\n' "bad.conf:2:.*absolute"
bad "bad user" '[ssh]\nuser = Robert;rm\n' "bad.conf:2:.*user name"
bad "empty value" '[ssh]\nuser =\n' "bad.conf:2:.*empty value"
bad "broken section header" '[ssh\n' "bad.conf:1: malformed section"
bad "NUL byte" '[ssh]\nuser = r\0oot\n' "NUL"
bad "zero deadline" '[metadata]\ndeadline = 0\n' "above zero"
printf '[metadata]\n  deadline=7s  \n; comment\n[storage]\nfilesystem = xfs\n' >"$SCRATCH/good.conf"
run -c "$SCRATCH/good.conf" --dump-config
expect 0 "good config with odd spacing loads" "deadline = 7s"
grep -q "filesystem = xfs" <<<"$out"; ok $? "config value applied"

# Opted out: every verb that acts does nothing (exit 0, one line) and changes no file, with
# etc/vagent/disabled and with vagent=disabled on the kernel command line (inside --root the
# command line is ROOT/proc/cmdline when it exists).
D="$SCRATCH/disabled"
make_root "$D"
for how in file cmdline; do
	rm -rf "$D/etc/vagent" "$D/proc"
	if [ $how = file ]; then
		mkdir -p "$D/etc/vagent" && : >"$D/etc/vagent/disabled"
		want="disabled by /etc/vagent/disabled"
	else
		mkdir -p "$D/proc" && echo "ro quiet vagent=disabled console=ttyS0" >"$D/proc/cmdline"
		want="disabled by vagent=disabled on the kernel command line"
	fi
	before=$(tree_sum "$D")
	for v in boot hostname ssh-keys userdata mount umount; do
		run --root "$D" --metadata-url "$(closed_port_url)" $v
		expect 0 "$how opt-out: '$v' does nothing" "doing nothing: $want"
	done
	[ "$(tree_sum "$D")" = "$before" ]; ok $? "$how opt-out: no file written by any verb"
done

# status without any report: exit 1, one clear line.
mkdir -p "$SCRATCH/empty"
run --root "$SCRATCH/empty" status; expect 1 "status with no report: exit 1" "No boot report"

tap_done
