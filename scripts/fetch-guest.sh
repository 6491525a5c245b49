#!/usr/bin/env bash
# Fetches Debian's arm64 guest pieces into .cache/ with a private apt state
# (the system's apt configuration and package database are not touched):
# the kernel and modules resolved from linux-image-arm64, the matching
# headers and kbuild tools (for the MVM kernel module), busybox-static, and
# fio/iperf3 with their libraries. Re-runs with everything present are no-ops.
set -eu
cd "$(dirname "$0")/.."
CACHE=$PWD/.cache
APT_DIR=$CACHE/apt
GUEST=$CACHE/guest
STAMP=$GUEST/fetched.stamp
[ -f "$STAMP" ] && { echo "fetch-guest: cached in .cache/guest"; exit 0; }

mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" "$GUEST/debs"
touch "$APT_DIR/status"
APT_OPTS=(-o APT::Architecture=arm64 -o APT::Architectures::=arm64 -o APT::Architectures::=amd64
	-o Dir::State::Lists="$APT_DIR/lists" -o Dir::Cache="$APT_DIR/cache"
	-o Dir::State::Status="$APT_DIR/status" -o Debug::NoLocking=1
	-o APT::Sandbox::User=root)

echo "fetch-guest: reading Debian's package lists (private copy in .cache/apt)"
apt-get "${APT_OPTS[@]}" update -qq >/dev/null || {
	echo "fetch-guest: apt-get update failed: is Debian's archive reachable?" >&2; exit 1; }

# The ABI both metapackages agree on: an old image can outlive its headers.
dep_of() {
	apt-cache "${APT_OPTS[@]}" depends "$1:arm64" 2>/dev/null |
		sed -n "s/^ *Depends: \($2\)$/\1/p" | head -n1
}
image=$(dep_of linux-image-arm64 'linux-image-[0-9.-]*-arm64')
headers=$(dep_of linux-headers-arm64 'linux-headers-[0-9.-]*-arm64')
abi=${image#linux-image-}
[ -n "$abi" ] && [ "linux-headers-$abi" = "$headers" ] || {
	echo "fetch-guest: linux-image-arm64 ($image) and linux-headers-arm64 ($headers) disagree" >&2
	exit 1; }
common=$(dep_of "linux-headers-$abi" "linux-headers-[0-9.-]*-common")
kbuild=$(apt-cache "${APT_OPTS[@]}" depends "linux-headers-$abi:arm64" 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-kbuild-[0-9.]*\).*/\1/p' | head -n1)
echo "fetch-guest: kernel $abi ($common, $kbuild)"

download() { # arch package...
	local arch=$1; shift
	echo "fetch-guest: downloading ($arch) $*"
	(cd "$GUEST/debs" && apt-get "${APT_OPTS[@]}" download -qq $(printf "%s:$arch " "$@") \
		>/dev/null 2>&1) || { echo "fetch-guest: could not download: $*" >&2; exit 1; }
}
# fio and iperf3 are dynamic: take their library closure (libc included).
libs_of() {
	apt-cache "${APT_OPTS[@]}" depends --recurse --no-recommends --no-suggests \
		--no-conflicts --no-breaks --no-replaces --no-enhances --no-pre-depends \
		"$@" 2>/dev/null | grep -E '^(lib[a-z0-9.+-]*|zlib1g|fio|iperf3|gcc-[0-9]*-base)(:arm64)?$' |
		sed 's/:arm64$//' | grep -v -E '(^lib(c-bin|c-l10n|debconf|python|debian-installer)|-perl$)' |
		sort -u
}
download arm64 "linux-image-$abi" "linux-headers-$abi" "$common" busybox-static
download amd64 "$kbuild"
download arm64 $(libs_of fio:arm64 iperf3:arm64)

echo "fetch-guest: unpacking"
rm -rf "$GUEST/root" "$CACHE/kbuild"
mkdir -p "$GUEST/root" "$CACHE/kbuild"
for deb in "$GUEST"/debs/*.deb; do
	case $(basename "$deb") in
	linux-headers-* | linux-kbuild-*) dpkg-deb -x "$deb" "$CACHE/kbuild" ;;
	*) dpkg-deb -x "$deb" "$GUEST/root" ;;
	esac
done
# The arm64 headers' Makefile includes the common tree by absolute path.
hdr=$CACHE/kbuild/usr/src/linux-headers-$abi
sed -i "s|^include /usr/src/|include $CACHE/kbuild/usr/src/|" "$hdr/Makefile"
# kbuild's host tools are found through a relative link into /usr/lib.
for l in "$hdr/scripts" "$hdr/tools"; do
	[ -L "$l" ] && ln -sfn "$CACHE/kbuild$(readlink -f "$l" | sed "s|^$CACHE/kbuild||")" "$l" || true
done

kernel=$GUEST/root/boot/vmlinuz-$abi
if gzip -t "$kernel" 2>/dev/null; then gzip -dc "$kernel" > "$GUEST/Image"; else cp "$kernel" "$GUEST/Image"; fi
echo "$abi" > "$GUEST/KVER"
touch "$STAMP"
echo "fetch-guest: done: kernel $abi, $(du -sh "$GUEST/debs" | cut -f1) of packages"
