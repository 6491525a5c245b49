#!/usr/bin/env bash
# Installs the Debian host packages sysHyper builds and tests with, if any
# is missing. Quiet when everything is there.
set -eu

PACKAGES="gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-system-arm device-tree-compiler
cpio libcmocka-dev clang gcc make python3 xz-utils"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && { echo "setup: host tools ok"; exit 0; }

echo "setup: installing Debian packages:$missing"
if [ "$(id -u)" -eq 0 ]; then
	as_root=""
elif command -v sudo >/dev/null 2>&1; then
	as_root="sudo"
else
	echo "setup: need root (or sudo) to install:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! $as_root apt-get update -qq >/dev/null ||
	! $as_root apt-get install -y -qq --no-install-recommends $missing >/dev/null; then
	echo "setup: 'apt-get install$missing' failed; install them by hand and re-run" >&2
	exit 1
fi
echo "setup: host tools installed"
