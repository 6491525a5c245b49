#!/usr/bin/env bash
# Makes the raw test disk: its first 16 MiB hold a reproducible
# pseudo-random pattern (Python's Mersenne Twister with a fixed seed: the
# same bytes on every host and run), the rest is zero (sparse).
# OUT.sha256 holds the sha256 of those first 16 MiB.
#   scripts/mkdisk.sh OUT.img
# DISK_MIB sets the size (default 256: the GVMs' mediated disks live at
# 64 MiB and 128 MiB into it, the benchmark region at 192 MiB).
set -eu

PATTERN_MIB=16
SEED=0x5e5e

die() {
	echo "mkdisk: $*" >&2
	exit 1
}

# Writes OUT.tmp and OUT.sha256.tmp; the caller renames them into place.
write_disk() { # out size_mib
	python3 - "$1" "$2" "$PATTERN_MIB" "$SEED" <<'PY'
import hashlib
import random
import sys

out, size_mib, pattern_mib, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4], 0)
data = random.Random(seed).randbytes(pattern_mib << 20)
with open(out + ".tmp", "wb") as f:
    f.write(data)
    f.truncate(size_mib << 20)
with open(out + ".sha256.tmp", "w") as f:
    f.write(hashlib.sha256(data).hexdigest() + "\n")
PY
}

main() {
	[ $# -eq 1 ] || die "usage: scripts/mkdisk.sh OUT.img"
	local out=$1 size=${DISK_MIB:-256}
	case $size in
	'' | *[!0-9]*) die "DISK_MIB must be a number of MiB, not '$size'" ;;
	esac
	[ "$size" -ge "$PATTERN_MIB" ] || die "DISK_MIB must be at least $PATTERN_MIB"
	mkdir -p "$(dirname "$out")"
	write_disk "$out" "$size" || die "could not write $out"
	# a QEMU still running on the old image keeps its own copy
	mv "$out.tmp" "$out"
	mv "$out.sha256.tmp" "$out.sha256"
	echo "mkdisk: $out ($size MiB, first $PATTERN_MIB MiB sha256 $(cut -c1-16 "$out.sha256")...)"
}

main "$@"
