#!/usr/bin/env bash
# Makes the raw test disk (QEMU's first virtio-blk, passed through to the
# MVM). Layout, in MiB (the backing=/dev/vda offset= of the mediated disks in
# configs/*.cfg agree):
#      0 -   16  a reproducible pseudo-random pattern (Python's Mersenne
#                Twister, fixed seed: the same bytes on every host and run);
#                OUT.sha256 holds its sha256
#    256 -  768  gvm1's mediated disk (512 MiB): an ext4 file system in its
#                first 256 MiB, made here (label gvm1), raw space after it
#                (the tests' raw writes and the bench's GVM region)
#    768 - 1024  gvm2's mediated disk (256 MiB), raw
#   1024 - 1280  the bench's region for the MVM and the native run
# The rest is zero (the file is sparse).
#   scripts/mkdisk.sh OUT.img
# DISK_MIB sets the size (default and minimum 1280).
set -eu

PATTERN_MIB=16
GVM1_OFFSET_MIB=256
GVM1_FS_MIB=256
MIN_MIB=1280
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

# gvm1's ext4 file system, written in place at its offset in the image.
make_gvm1_fs() { # img
	local mke2fs
	mke2fs=$(PATH=$PATH:/sbin:/usr/sbin command -v mke2fs) || die "mke2fs not found (e2fsprogs)"
	"$mke2fs" -q -F -t ext4 -T default -b 4096 -L gvm1 \
		-E "offset=$((GVM1_OFFSET_MIB << 20))" "$1" "$((GVM1_FS_MIB << 8))" || die "mke2fs failed on $1"
}

main() {
	[ $# -eq 1 ] || die "usage: scripts/mkdisk.sh OUT.img"
	local out=$1 size=${DISK_MIB:-$MIN_MIB}
	case $size in
	'' | *[!0-9]*) die "DISK_MIB must be a number of MiB, not '$size'" ;;
	esac
	[ "$size" -ge "$MIN_MIB" ] || die "DISK_MIB must be at least $MIN_MIB (the layout above)"
	mkdir -p "$(dirname "$out")"
	write_disk "$out" "$size" || die "could not write $out"
	make_gvm1_fs "$out.tmp"
	# a QEMU still running on the old image keeps its own copy
	mv "$out.tmp" "$out"
	mv "$out.sha256.tmp" "$out.sha256"
	echo "mkdisk: $out ($size MiB, first $PATTERN_MIB MiB sha256 $(cut -c1-16 "$out.sha256")...," \
		"gvm1's ext4 at $GVM1_OFFSET_MIB MiB)"
}

main "$@"
