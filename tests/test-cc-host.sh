#!/bin/bash
# SPDX-License-Identifier: MIT
# The cloud-config system keys on a running system, not an image: the commands they run there
# (systemctl, update-ca-certificates, debconf-set-selections, locale-gen, apt-get, shutdown)
# are seen with their exact arguments. vagent runs without --root in a chroot of its own inside
# a private mount namespace: /usr is an overlay of the host's (the stubs' programs added there,
# the host's untouched), /run is empty (no systemd, D-Bus or initctl socket of the host can be
# reached from it), every command is a recording stub first in PATH. So nothing here can restart
# a service or power off the test machine; the test checks that the power_state shutdown comes
# only after vagent has exited, as cloud-init's waits for its own process.
. "$(dirname "$0")/lib.sh"
need_root "a private mount namespace, an overlay of /usr and a chroot"
unshare -m true 2>/dev/null || skip_all "unshare -m is not permitted here"

start_mock
host_usr() { ls -la /usr/bin/setupcon /usr/sbin/rsyslogd /usr/lib/systemd/systemd-timesyncd 2>&1; }
HOST_USR=$(host_usr)
SB="$SCRATCH/sb"
make_root "$SB"
BUILD=$(cd "$(dirname "$VAGENT")" && pwd -P)
mkdir -p "$SB/usr" "$SB/proc" "$SB/dev" "$SB/tmp" "$SB/stub" "$SB/.ov" "$SB$BUILD" \
	"$SB/etc/default" "$SB/etc/vagent"
for l in bin sbin lib lib64; do [ -L "/$l" ] && ln -s "usr/$l" "$SB/$l"; done
mkdir -p "$SB/var" && ln -s ../run "$SB/var/run"
printf 'VERSION_CODENAME=bookworm\nID=debian\n' >"$SB/etc/os-release"
printf 'mozilla/A.crt\n' >"$SB/etc/ca-certificates.conf"
printf '# de_DE.UTF-8 UTF-8\n' >"$SB/etc/locale.gen"
cp /etc/ld.so.cache "$SB/etc/" 2>/dev/null || true
fast_conf "$SB/etc/vagent/vagent.conf" 3s
printf '[platform]\ncheck = no\n' >>"$SB/etc/vagent/vagent.conf"

# The recorder: its name and arguments, one line each; shutdown also says whether the vagent
# that scheduled it was still running; apt-get install leaves a reboot marker when asked to.
cat >"$SB/stub/rec" <<'EOS'
#!/bin/sh
n=${0##*/}
case $n in
debconf-set-selections) echo "$n $* <$(cat)>" >>/stub.log ;;
shutdown)
	p=$(cat /vagent.pid 2>/dev/null)
	if [ -n "$p" ] && [ -e "/proc/$p" ]; then s=alive; else s=gone; fi
	echo "$n $* (vagent $s)" >>/stub.log ;;
apt-get)
	echo "$n $*" >>/stub.log
	case " $* " in *" install "*) [ -e /stub/want-reboot ] && : >/run/reboot-required ;; esac ;;
*) echo "$n $*" >>/stub.log ;;
esac
exit 0
EOS
chmod 0755 "$SB/stub/rec"
for c in systemctl update-ca-certificates debconf-set-selections locale-gen apt-get shutdown \
	reboot poweroff halt timedatectl setupcon; do
	ln -s rec "$SB/stub/$c"
done

PEM='-----BEGIN CERTIFICATE-----
MIIBszCCAVmgAwIBAgIUWfQ
-----END CERTIFICATE-----'
ud1() {
	cat <<EOF
#cloud-config
ca_certs:
  remove_defaults: true
  trusted:
    - |
$(printf '%s\n' "$PEM" | sed 's/^/      /')
rsyslog: {remotes: {central: "@@10.0.0.9:514"}}
keyboard: {layout: de}
locale: de_DE.UTF-8
apt: {sources: {example: {source: "deb http://mirror.example/debian \$RELEASE main"}}}
ntp: {servers: [ntp.example.com]}
timezone: Etc/UTC
power_state: {mode: reboot, delay: "+1", message: "vagent test", timeout: 20, condition: true}
final_message: "host pass done, vagent \$version"
EOF
}
ud2() {
	cat <<EOF
#cloud-config
packages: [curl]
package_reboot_if_required: true
power_state: {mode: poweroff, condition: [sh, -c, "exit 1"]}
EOF
}

# run_in_sandbox: one boot's user-data stage inside the chroot; then wait (at most 10 s) for
# the waiter's shutdown record when one is expected ($1 = yes).
run_in_sandbox() {
	SB="$SB" BUILD="$BUILD" VAGENT="$VAGENT" MOCK_URL="$MOCK_URL" WANT="$1" \
		unshare -m --propagation private bash -s >"$SCRATCH/ns.out" 2>&1 <<'EOS'
set -e
mount -t tmpfs tmpfs "$SB/.ov"
mkdir -p "$SB/.ov/up" "$SB/.ov/work"
mount -t overlay overlay -o "lowerdir=/usr,upperdir=$SB/.ov/up,workdir=$SB/.ov/work" "$SB/usr"
# the services' programs are "installed" in the overlay only
mkdir -p "$SB/usr/lib/systemd"
: >"$SB/usr/lib/systemd/systemd-timesyncd"; : >"$SB/usr/sbin/rsyslogd"; : >"$SB/usr/bin/setupcon"
mount -t tmpfs tmpfs "$SB/run"
mkdir -p "$SB/run/systemd/system"
mount -t proc proc "$SB/proc"
mount --rbind /dev "$SB/dev"
mount --bind "$BUILD" "$SB$BUILD"
mount -o remount,bind,ro "$SB$BUILD"
set +e
chroot "$SB" /usr/bin/env -i PATH=/stub:/usr/sbin:/usr/bin:/sbin:/bin \
	ASAN_OPTIONS="$ASAN_OPTIONS" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
	/bin/sh -c '"$1" -c /etc/vagent/vagent.conf --metadata-url "$2" userdata & echo $! >/vagent.pid; wait $!' \
	sh "$VAGENT" "$MOCK_URL"
echo "vagent exit $?"
if [ "$WANT" = yes ]; then
	for _ in $(seq 100); do grep -q '^shutdown' "$SB/stub.log" 2>/dev/null && break; sleep 0.1; done
fi
sleep 0.3 # a waiter that should not fire has had its chance (vagent is long gone)
ls "$SB/usr/local/share/ca-certificates" # in the overlay: gone with the namespace
EOS
}

# --- every command-using key, then power_state ---------------------------------------------------
ud1 >"$MOCK_UD"
run_in_sandbox yes
check "host: vagent exits 0" grep -qx 'vagent exit 0' "$SCRATCH/ns.out"
LOG="$SB/stub.log"
expect() { # expect DESCRIPTION LINE: LINE is in the record, once
	check "$1" test "$(grep -cxF -- "$2" "$LOG")" = 1
}
expect "ca_certs remove_defaults: debconf told not to trust new certificates" \
	'debconf-set-selections  <ca-certificates ca-certificates/trust_new_crts select no>'
expect "ca_certs: update-ca-certificates" 'update-ca-certificates '
expect "rsyslog: reloaded or restarted when running" 'systemctl try-reload-or-restart rsyslog.service'
expect "keyboard: console-setup restarted (runs setupcon)" 'systemctl restart console-setup.service'
expect "locale: locale-gen --keep-existing" 'locale-gen --keep-existing'
expect "apt sources: apt-get update" 'apt-get -q -y update'
expect "ntp: timesyncd restarted, or started (cloud-init's reload)" 'systemctl reload-or-restart systemd-timesyncd.service'
expect "power_state: shutdown -r +1 MESSAGE, once vagent has exited" 'shutdown -r +1 vagent test (vagent gone)'
# (systemctl show: the runner asking whether the other units are done, for boot-finished)
check "commands in cloud-init's module order" test "$(grep -v -e '^shutdown' -e '^systemctl show' "$LOG" | cut -d' ' -f1-2 | tr '\n' '|')" = \
	'debconf-set-selections |update-ca-certificates |systemctl try-reload-or-restart|systemctl restart|locale-gen --keep-existing|apt-get -q|systemctl reload-or-restart|'
check "never timedatectl, reboot, poweroff or halt" bash -c "! grep -qE '^(timedatectl|reboot|poweroff|halt) ' '$LOG'"
check "the files of the keys are in the sandbox's /etc" bash -c "
	grep -qx vagent-ca-cert-1.crt '$SCRATCH/ns.out' && test -f '$SB/etc/rsyslog.d/20-cloud-config.conf' &&
	grep -qx 'LANG=de_DE.UTF-8' '$SB/etc/default/locale' && test -L '$SB/etc/localtime'"
check "the host's /usr is untouched (the programs were in the overlay only)" test "$(host_usr)" = "$HOST_USR"
check "final_message logged with its substitution" grep -q "host pass done, vagent [0-9]" "$SCRATCH/ns.out"

# --- package_reboot_if_required; power_state whose condition exits 1 ------------------------------
mv "$LOG" "$SCRATCH/stub-1.log"
rm -rf "$SB/var/lib/vagent" "$SB/vagent.pid"
: >"$SB/stub/want-reboot"
ud2 >"$MOCK_UD"
run_in_sandbox yes
check "reboot: vagent exits 0" grep -qx 'vagent exit 0' "$SCRATCH/ns.out"
expect "packages: apt-get install" 'apt-get -q -y -o Dpkg::Options::=--force-confold install curl'
expect "condition exit 1: no poweroff; the package's reboot instead, once vagent has exited" \
	'shutdown -r now vagent: a package asked for a reboot (/run/reboot-required) (vagent gone)'
check "one shutdown only" test "$(grep -c '^shutdown' "$LOG")" = 1

# --- no marker: no reboot --------------------------------------------------------------------------
mv "$LOG" "$SCRATCH/stub-2.log"
rm -rf "$SB/var/lib/vagent" "$SB/vagent.pid" "$SB/stub/want-reboot"
run_in_sandbox no
check "no reboot marker: no shutdown" bash -c "! grep -q '^shutdown' '$LOG'"
check "no reboot marker: the packages ran" grep -q '^apt-get .* install curl' "$LOG"

tap_done
