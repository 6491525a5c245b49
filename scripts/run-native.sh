#!/usr/bin/env bash
# Boots Debian's arm64 kernel straight on QEMU virt, without the hypervisor:
# the MVM's initramfs, the test disk as virtio-blk and a user-mode NIC as
# virtio-net. The yardstick for boot time and I/O; the console is on stdio
# (Ctrl-a x quits QEMU; 'poweroff -f' in the guest ends it with status 0).
#   scripts/run-native.sh [extra QEMU arguments...]
# Environment (defaults): KERNEL (.cache/guest/Image),
#   INITRD (build/mvm/initramfs.cpio.gz), DISK (build/disk.img), SMP (2),
#   MEM (1G), CPU (cortex-a57), GIC (3), APPEND (extra kernel arguments),
#   MACHINE_OPTS (more -M virt options, e.g. virtualization=on: the bench
#   boots the same machine as scripts/qemu.sh and gives Linux the MVM's
#   share of it with maxcpus= and mem=),
#   SNAPSHOT=1 (guest writes go to a temporary overlay: the image is only
#   read, so runs can share it with others).
# nokaslr: the MVM runs without KASLR (the hypervisor's device tree has no
# kaslr-seed, QEMU's has one). With KASLR arm64 Linux forces page table
# isolation on, and under TCG every kernel entry and exit then flushes the
# vCPU's TLB: 4 KiB QD1 reads ran 1.6-2.9x slower than with nokaslr in
# back-to-back boots (scripts/bench.py, MVM_NATIVE_NOTE).
set -eu
cd "$(dirname "$0")/.."

KERNEL=${KERNEL:-.cache/guest/Image}
INITRD=${INITRD:-build/mvm/initramfs.cpio.gz}
DISK=${DISK:-build/disk.img}

need() { # file how-to-make
	[ -f "$1" ] || {
		echo "run-native: $1 is missing: $2" >&2
		exit 1
	}
}

main() {
	local drive="file=$DISK,if=none,format=raw,id=hd0"
	need "$KERNEL" "run scripts/fetch-guest.sh"
	need "$INITRD" "run 'make $INITRD' (or scripts/mkinitramfs.sh $INITRD mvm)"
	need "$DISK" "run 'make $DISK' (or scripts/mkdisk.sh $DISK)"
	if [ "${SNAPSHOT:-0}" = 1 ]; then
		drive="$drive,snapshot=on,file.locking=off"
	fi
	exec qemu-system-aarch64 \
		-M "virt,gic-version=${GIC:-3}${MACHINE_OPTS:+,$MACHINE_OPTS}" -cpu "${CPU:-cortex-a57}" \
		-smp "${SMP:-2}" -m "${MEM:-1G}" \
		-nographic -no-reboot \
		-kernel "$KERNEL" -initrd "$INITRD" \
		-append "console=ttyAMA0 earlycon rdinit=/init nokaslr ${APPEND:-}" \
		-global virtio-mmio.force-legacy=false \
		-drive "$drive" -device virtio-blk-device,drive=hd0 \
		-netdev user,id=n0 -device virtio-net-device,netdev=n0 \
		"$@"
}

main "$@"
