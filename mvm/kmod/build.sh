#!/usr/bin/env bash
# Builds syshyper.ko against the Debian headers of the MVM's kernel
# (fetched by scripts/fetch-guest.sh into .cache/kbuild). OUT_DIR gets the .ko.
set -eu
out=$(mkdir -p "$1" && cd "$1" && pwd)
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
kver=$(cat "$root/.cache/guest/KVER")
kdir=$root/.cache/kbuild/usr/src/linux-headers-$kver
work=$root/build/kmod
mkdir -p "$work" "$out"
cp ./*.c ./*.h Kbuild "$work/"
sed -i "s|\$(src)/../../include|$root/include|" "$work/Kbuild"
make -s -C "$kdir" M="$work" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- modules 2>&1 |
	grep -v "Skipping BTF generation" || true
cp "$work/syshyper_mvm.ko" "$out/syshyper.ko"
echo "kmod: $out/syshyper.ko for $kver"
