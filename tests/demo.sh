#!/bin/bash
# Quick start (run it as root; minimal images have no sudo): install what is missing, build,
# and run vagent's main job against the bundled mock metadata service in a scratch root; then
# show the storage plan for a blank loop volume.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

# What the demo needs and nothing more: the build section of .ci/packages and the packages
# marked "# demo" (the test suite's qemu, debootstrap, lintian... are not).
wanted=$(awk '/^# -- tests/ {t = 1} /^# demo/ {d = 1; next} /^#/ {next} !t || d {print} {d = 0}' .ci/packages)
missing=$(for p in $wanted; do echo "$p"; done | while read -r p; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || echo "$p"
done)
if [ -n "$missing" ]; then
	[ "$(id -u)" = 0 ] || { echo "demo: run as root to install: $(echo $missing)" >&2; exit 1; }
	echo "== installing: $(echo $missing)"
	apt-get update -qq
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

echo "== building (in build-demo/)"
[ -x configure ] || ./autogen.sh >/dev/null 2>&1
mkdir -p build-demo
(cd build-demo && { [ -f Makefile ] || ../configure >/dev/null; } && make -j"$(nproc)" vagent >/dev/null)
vagent=$top/build-demo/vagent

demo=$(mktemp -d /tmp/vagent-demo.XXXXXX)
loop=
cleanup() {
	[ -n "$loop" ] && losetup -d "$loop" 2>/dev/null
	[ -n "${mock:-}" ] && kill "$mock" 2>/dev/null
	rm -rf "$demo"
}
trap cleanup EXIT

root=$demo/root
mkdir -p "$root/etc" "$root/root"
printf 'root:x:0:0:root:/root:/bin/bash\n' >"$root/etc/passwd"
printf 'debian\n' >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tdebian\n' >"$root/etc/hosts"
cp tests/fixtures/user-data-script.sh "$demo/user-data"
sed -i "s|/var/tmp/first-boot.txt|$demo/first-boot.txt|" "$demo/user-data"

python3 tests/mock-metadata.py --port 0 --port-file "$demo/port" \
	--document tests/fixtures/v1-typical.json --user-data "$demo/user-data" >/dev/null &
mock=$!
for _ in $(seq 50); do [ -s "$demo/port" ] && break; sleep 0.1; done
url="http://127.0.0.1:$(cat "$demo/port")"

echo "== vagent --root $root --metadata-url $url boot --no-storage"
"$vagent" --root "$root" --metadata-url "$url" boot --no-storage || true
echo
echo "== what it wrote"
echo "-- etc/hostname:        $(cat "$root/etc/hostname")"
echo "-- etc/hosts:";         sed 's/^/   /' "$root/etc/hosts"
echo "-- root/.ssh/authorized_keys:"; sed 's/^/   /' "$root/root/.ssh/authorized_keys"
echo "-- user-data script said: $(cat "$demo/first-boot.txt" 2>/dev/null || echo '(nothing)')"
echo
echo "== a second boot changes nothing"
"$vagent" --root "$root" --metadata-url "$url" boot --no-storage | sed -n '/^STEP/,$p'

if [ "$(id -u)" = 0 ] && truncate -s 1G "$demo/volume.img" && loop=$(losetup -f --show "$demo/volume.img" 2>/dev/null); then
	echo
	echo "== vagent mount --dry-run $loop   (a blank 1 GiB loop volume)"
	"$vagent" --root "$root" mount --dry-run "$loop" || true
	echo
	echo "== the same volume after writing an ext4 filesystem on it"
	mkfs.ext4 -q "$loop"
	"$vagent" --root "$root" mount --dry-run "$loop" || true
fi
