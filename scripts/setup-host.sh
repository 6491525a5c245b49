#!/usr/bin/env bash
# Makes sure the Debian host packages sysHyper builds and tests with are
# installed, and installs the missing ones (as root, or through sudo).
# Quiet when everything is there: prints one line and changes nothing.
#   scripts/setup-host.sh
set -eu

# package            why
PACKAGES="
gcc-aarch64-linux-gnu  cross compiler for the hypervisor, the MVM tools and modules
libc6-dev-arm64-cross  arm64 C library for the MVM's static tools
qemu-system-arm        qemu-system-aarch64, the machine everything runs on
device-tree-compiler   dtc, the VMs' device trees
cpio                   initramfs archives
xz-utils               compressed Debian packages
kmod                   depmod, the guest kernel's modules.dep
libelf1                Debian's prebuilt kbuild tools (modpost) need it
libssl3                Debian's prebuilt kbuild tools (sign-file) need it
libcmocka-dev          host unit tests
clang                  fuzzing and sanitizers
libclang-rt-dev        clang's libFuzzer and sanitizer run-times
clang-format           make lint: the code's formatting
cppcheck               make lint: static analysis
gcc                    host unit tests, configuration compiler
make                   the build
python3                disk images, system tests
iperf3                 make bench: the server on the host side of QEMU's network
"

say() { echo "setup: $*"; }

package_names() {
	echo "$PACKAGES" | awk 'NF { print $1 }'
}

is_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing_packages() {
	local p
	for p in $(package_names); do
		is_installed "$p" || printf '%s ' "$p"
	done
}

# Prints the command prefix that gives root, or fails.
root_prefix() {
	if [ "$(id -u)" -eq 0 ]; then
		echo ""
	elif command -v sudo >/dev/null 2>&1; then
		echo "sudo"
	else
		return 1
	fi
}

install_packages() { # packages...
	local as_root log
	as_root=$(root_prefix) || {
		echo "setup: missing Debian packages (root or sudo needed to install them): $*" >&2
		exit 1
	}
	say "installing Debian packages: $*"
	log=$(mktemp)
	# shellcheck disable=SC2064 # the name is fixed now
	trap "rm -f '$log'" EXIT
	export DEBIAN_FRONTEND=noninteractive
	if ! $as_root apt-get update -q >"$log" 2>&1; then
		echo "setup: 'apt-get update' failed: $(grep -E '^(E|Err):' "$log" | head -n1)" >&2
		exit 1
	fi
	if ! $as_root apt-get install -y -q --no-install-recommends "$@" >"$log" 2>&1; then
		echo "setup: 'apt-get install $*' failed: $(grep -E '^E:' "$log" | head -n1)" >&2
		exit 1
	fi
}

main() {
	local missing
	missing=$(missing_packages)
	if [ -z "$missing" ]; then
		say "host tools ok"
		return 0
	fi
	# shellcheck disable=SC2086 # one word per package
	install_packages $missing
	missing=$(missing_packages)
	[ -z "$missing" ] || { echo "setup: still missing after apt-get: $missing" >&2; exit 1; }
	say "host tools installed"
}

main "$@"
