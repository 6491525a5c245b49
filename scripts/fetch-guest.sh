#!/usr/bin/env bash
# Fetches the pieces of the Linux guests from Debian's arm64 archive into a
# private cache, without touching the system's apt state or configuration:
#   .cache/apt/           private apt configuration, package lists and caches
#   .cache/guest/debs/    the downloaded packages
#   .cache/guest/root/    arm64 files: kernel, modules (with modules.dep),
#                         busybox-static, fio, iperf3 and their libraries
#   .cache/guest/Image    the uncompressed arm64 kernel image
#   .cache/guest/KVER     the kernel version (the modules directory's name)
#   .cache/kbuild/        headers + host kbuild tools, for out-of-tree modules:
#     make -C .cache/kbuild/usr/src/linux-headers-$(cat .cache/guest/KVER) \
#          M=DIR ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- modules
# A re-run with everything in place does nothing; FETCH_REFRESH=1 fetches
# again (a newer Debian kernel, for instance).
#   scripts/fetch-guest.sh
set -eu
cd "$(dirname "$0")/.."
CACHE=$PWD/.cache
APT_DIR=$CACHE/apt
GUEST=$CACHE/guest
KBUILD=$CACHE/kbuild
STAMP=$GUEST/fetched.stamp         # download and unpack done (the Makefile's target)
KBUILD_STAMP=$KBUILD/verified.stamp # a module was built against the headers
HOST_ARCH=$(dpkg --print-architecture)
CROSS_COMPILE=${CROSS_COMPILE:-aarch64-linux-gnu-}
TOOLS="busybox-static fio iperf3" # arm64 user space of the guests

say() { echo "fetch-guest: $*"; }
die() {
	echo "fetch-guest: $*" >&2
	exit 1
}

# ---------------------------------------------------------------- private apt
# Own lists, caches and an empty dpkg status; the system's sources are reused.
# The system's apt hooks are cleared: they are about the system's state.
write_apt_conf() {
	mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial"
	: >"$APT_DIR/status"
	cat >"$APT_DIR/apt.conf" <<-CONF
		#clear APT::Architectures;
		APT::Architecture "arm64";
		APT::Architectures { "arm64"; "$HOST_ARCH"; };
		Dir::State::Lists "$APT_DIR/lists";
		Dir::State::Status "$APT_DIR/status";
		Dir::Cache "$APT_DIR/cache";
		Dir::Cache::pkgcache "pkgcache.bin";
		Dir::Cache::srcpkgcache "srcpkgcache.bin";
		Debug::NoLocking "true";
		APT::Sandbox::User "root";
		#clear APT::Update::Pre-Invoke;
		#clear APT::Update::Post-Invoke;
		#clear APT::Update::Post-Invoke-Success;
		#clear DPkg::Pre-Invoke;
		#clear DPkg::Post-Invoke;
		#clear DPkg::Pre-Install-Pkgs;
	CONF
}

apt_get() { apt-get -q -c "$APT_DIR/apt.conf" "$@"; }
apt_cache() { apt-cache -c "$APT_DIR/apt.conf" "$@"; }

first_apt_error() { # log
	grep -E '^(E|Err):' "$1" | head -n1 | cut -c1-200
}

update_lists() {
	local log=$APT_DIR/update.log
	say "reading Debian's package lists (private copy in .cache/apt)"
	apt_get update >"$log" 2>&1 ||
		die "apt-get update failed (is Debian's archive reachable?): $(first_apt_error "$log")"
}

# ---------------------------------------------------------------- what to fetch
# ABIs (like 6.1.0-28) that the versions of metapackage $1 depend on.
abis_of() {
	apt_cache show "$1:arm64" 2>/dev/null |
		sed -n 's/^Depends:.*linux-\(image\|headers\)-\([0-9][0-9.]*-[0-9][0-9]*\)-arm64.*/\2/p' |
		sort -u
}

# The newest ABI for which both the image and the headers metapackage exist:
# an old kernel image can outlive its headers in the archive, and the other
# way round.
resolve_abi() {
	local images headers abi
	images=$(abis_of linux-image-arm64)
	headers=$(abis_of linux-headers-arm64)
	[ -n "$images" ] || die "no linux-image-arm64 in the package lists"
	[ -n "$headers" ] || die "no linux-headers-arm64 in the package lists"
	abi=$(comm -12 <(echo "$images") <(echo "$headers") | sort -V | tail -n1)
	[ -n "$abi" ] ||
		die "linux-image-arm64 ($(tr '\n' ' ' <<<"$images")) and linux-headers-arm64 ($(tr '\n' ' ' <<<"$headers")) share no kernel ABI"
	echo "$abi"
}

# Names of the packages that $1 (arch:pkg) depends on and that match $2.
depends_matching() {
	apt_cache depends --no-recommends --no-suggests --no-conflicts --no-breaks \
		--no-replaces --no-enhances "$1" 2>/dev/null |
		sed -n 's/^ *|\{0,1\}\(Pre\)\{0,1\}Depends: \([a-z0-9][a-z0-9.+-]*\).*/\2/p' |
		grep -E "^($2)\$" | sort -u
}

# The shared libraries (lib*, zlib1g) that the given arm64 packages need,
# recursively; programs that the packages' maintainer scripts want (python3,
# adduser, ...) are not needed in the guests and not followed.
library_closure() {
	local todo="$*" seen=" " next p d
	while [ -n "$todo" ]; do
		next=""
		for p in $todo; do
			for d in $(depends_matching "$p:arm64" 'lib[a-z0-9.+-]*|zlib1g'); do
				case $seen in *" $d "*) continue ;; esac
				seen="$seen$d "
				next="$next $d"
			done
		done
		todo=$next
	done
	echo "${seen# }"
}

# ---------------------------------------------------------------- download
download() { # arch package...
	local arch=$1 log=$APT_DIR/download.log
	shift
	(cd "$GUEST/debs.new" && apt_get download "${@/%/:$arch}") >"$log" 2>&1 ||
		die "could not download $*: $(first_apt_error "$log")"
}

download_all() { # abi
	local abi=$1 common kbuild libs p
	common=$(depends_matching "linux-headers-$abi-arm64:arm64" 'linux-headers-.*-common')
	kbuild=$(depends_matching "linux-headers-$abi-arm64:arm64" 'linux-kbuild-[0-9.]*')
	[ -n "$common" ] && [ -n "$kbuild" ] ||
		die "cannot tell the common headers or kbuild package of linux-headers-$abi-arm64"
	rm -rf "$GUEST/debs.new"
	mkdir -p "$GUEST/debs.new"
	for p in "linux-image-$abi-arm64" "linux-headers-$abi-arm64" "$common" $TOOLS; do
		say "downloading $p"
		download arm64 "$p"
	done
	say "downloading $kbuild ($HOST_ARCH: kbuild's host tools)"
	download "$HOST_ARCH" "$kbuild"
	# shellcheck disable=SC2086 # word lists
	libs=$(library_closure $TOOLS)
	say "downloading $(wc -w <<<"$libs") library packages for $TOOLS (libc6 included)"
	# shellcheck disable=SC2086
	download arm64 $libs
	rm -rf "$GUEST/debs"
	mv "$GUEST/debs.new" "$GUEST/debs"
}

# ---------------------------------------------------------------- unpack
# Each tree is unpacked next to the old one and then swapped in.
unpack_all() {
	local deb root=$GUEST/root.new kb=$KBUILD.new
	say "unpacking $(find "$GUEST/debs" -name '*.deb' | wc -l) packages"
	rm -rf "$root" "$kb"
	mkdir -p "$root" "$kb"
	for deb in "$GUEST"/debs/*.deb; do
		case ${deb##*/} in
		linux-headers-* | linux-kbuild-*) dpkg-deb -x "$deb" "$kb" ;;
		*) dpkg-deb -x "$deb" "$root" ;;
		esac || die "could not unpack ${deb##*/}"
	done
	rm -rf "$GUEST/root" "$KBUILD"
	mv "$root" "$GUEST/root"
	mv "$kb" "$KBUILD"
}

# The modules directory's name: the kernel's version string.
kernel_version() {
	local dirs
	dirs=$(ls "$GUEST/root/lib/modules" 2>/dev/null)
	[ "$(echo "$dirs" | wc -w)" = 1 ] || die "expected one kernel in .cache/guest/root/lib/modules, found: $dirs"
	echo "$dirs"
}

# Debian's vmlinuz for arm64 is a gzip'd Image; QEMU and the hypervisor
# want the Image itself (magic "ARMd" at byte 56).
extract_image() { # kver
	local vmlinuz=$GUEST/root/boot/vmlinuz-$1 magic
	[ -f "$vmlinuz" ] || die "no boot/vmlinuz-$1 in the kernel package"
	if gzip -t "$vmlinuz" 2>/dev/null; then
		gzip -dc "$vmlinuz" >"$GUEST/Image.new"
	else
		cp "$vmlinuz" "$GUEST/Image.new"
	fi
	magic=$(dd if="$GUEST/Image.new" bs=1 skip=56 count=4 2>/dev/null)
	[ "$magic" = "ARMd" ] || die "boot/vmlinuz-$1 is not an arm64 Image (nor a gzip'd one)"
	mv "$GUEST/Image.new" "$GUEST/Image"
	echo "$1" >"$GUEST/KVER"
}

# The package leaves modules.dep to depmod at install time.
make_modules_dep() { # kver
	command -v depmod >/dev/null || PATH=$PATH:/sbin:/usr/sbin
	command -v depmod >/dev/null || die "depmod not found: run scripts/setup-host.sh (package kmod)"
	depmod -b "$GUEST/root" "$1" 2>"$GUEST/depmod.log" ||
		die "depmod failed: $(head -n1 "$GUEST/depmod.log")"
}

# The arm64 headers' Makefile includes the common tree by an absolute path
# (/usr/src/...): point it at the private tree, relative to the Makefile's own
# place so the cache works wherever the checkout lives. Absolute links are
# made relative the same way.
patch_headers() { # kver
	local hdr=$KBUILD/usr/src/linux-headers-$1 common l target
	[ -f "$hdr/Makefile" ] || die "no headers for $1 in .cache/kbuild"
	common=$(sed -n 's|^include .*/\(linux-headers-[^/]*-common\)/Makefile$|\1|p' "$hdr/Makefile")
	[ -n "$common" ] && [ -d "$KBUILD/usr/src/$common" ] ||
		die "unexpected $hdr/Makefile: $(head -c 200 "$hdr/Makefile")"
	echo "include \$(dir \$(lastword \$(MAKEFILE_LIST)))../$common/Makefile" >"$hdr/Makefile"
	for l in "$hdr"/* "$KBUILD/usr/src/$common"/*; do
		[ -L "$l" ] || continue
		target=$(readlink "$l")
		case $target in
		/*) target=${target#"$KBUILD"}
			ln -sfn "$(realpath -m --relative-to="$(dirname "$l")" "$KBUILD$target")" "$l" ;;
		esac
	done
}

first_build_error() { # log
	{ grep -E 'not found|No such file|error:' "$1" || grep -E 'Error|error' "$1" || tail -n1 "$1"; } |
		head -n1 | cut -c1-200
}

# Builds a trivial module in a temporary directory: the headers, the host
# tools and the cross compiler work together, and the version magic fits.
verify_kbuild() { # kver
	local kver=$1 dir log magic
	dir=$(mktemp -d /tmp/syshyper-kbuild.XXXXXX)
	log=$dir/build.log
	cat >"$dir/hello.c" <<-'C'
		#include <linux/init.h>
		#include <linux/module.h>
		static int __init hello_init(void) { pr_info("hello\n"); return 0; }
		static void __exit hello_exit(void) { }
		module_init(hello_init);
		module_exit(hello_exit);
		MODULE_LICENSE("GPL");
	C
	echo 'obj-m := hello.o' >"$dir/Kbuild"
	if ! make -C "$KBUILD/usr/src/linux-headers-$kver" M="$dir" ARCH=arm64 \
		CROSS_COMPILE="$CROSS_COMPILE" modules >"$log" 2>&1; then
		die "building a test module against the headers failed: $(first_build_error "$log") (log: $log)"
	fi
	magic=$(strings "$dir/hello.ko" | sed -n 's/^vermagic=\([^ ]*\).*/\1/p')
	[ "$magic" = "$kver" ] || die "test module's vermagic '$magic' is not '$kver' ($dir)"
	rm -rf "$dir"
	touch "$KBUILD_STAMP"
}

# ---------------------------------------------------------------- main
fetch() {
	local abi kver
	write_apt_conf
	update_lists
	abi=$(resolve_abi)
	say "kernel ABI $abi (from linux-image-arm64 and linux-headers-arm64)"
	download_all "$abi"
	unpack_all
	kver=$(kernel_version)
	[ "$kver" = "$abi-arm64" ] || die "modules directory $kver does not match ABI $abi"
	extract_image "$kver"
	touch "$STAMP"
}

main() {
	local kver did=""
	if [ "${FETCH_REFRESH:-0}" = 1 ]; then
		rm -f "$STAMP" "$KBUILD_STAMP"
	fi
	if [ ! -f "$STAMP" ] || [ ! -s "$GUEST/KVER" ] || [ ! -f "$GUEST/Image" ]; then
		fetch
		did=1
	fi
	kver=$(cat "$GUEST/KVER")
	if [ ! -s "$GUEST/root/lib/modules/$kver/modules.dep" ]; then
		say "generating modules.dep"
		make_modules_dep "$kver"
		did=1
	fi
	if [ ! -f "$KBUILD_STAMP" ]; then
		say "checking the kernel headers with a test module"
		patch_headers "$kver"
		verify_kbuild "$kver"
		did=1
	fi
	if [ -n "$did" ]; then
		touch "$STAMP"
		say "done: kernel $kver, Image $(du -h "$GUEST/Image" | cut -f1), $(du -sh "$GUEST/debs" | cut -f1) of packages"
	else
		say "up to date (kernel $kver in .cache/guest)"
	fi
}

main "$@"
