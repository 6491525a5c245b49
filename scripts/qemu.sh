#!/usr/bin/env bash
# Boots the sysHyper image with its VMs on QEMU virt.
#   scripts/qemu.sh GIC [extra QEMU args...]
# The images must be built (make run / make test build them). The console
# (hypervisor log and every VM's output, prefixed) is on stdio.
set -eu
gic=${1:-3}
shift || true
build=${BUILD:-build}
hv=${HV_DIR:-$build/gicv$gic} # HV_DIR: a test configuration's image (tests/guests/guests.mk)
for f in "$hv/syshyper.elf" "$hv/qemu-loader.args" "$build/disk.img" "$build/hvdisk.img"; do
	[ -e "$f" ] || { echo "qemu.sh: $f is missing: run 'make run' or 'make GIC=$gic hv'" >&2; exit 1; }
done
mapfile -t loader < "$hv/qemu-loader.args"
exec qemu-system-aarch64 \
	-M virt,virtualization=on,gic-version="$gic" -cpu cortex-a57 -smp 4 -m 2G \
	-nographic -no-reboot \
	-kernel "$hv/syshyper.elf" "${loader[@]}" \
	-global virtio-mmio.force-legacy=false \
	-drive file="$build/disk.img",if=none,format=raw,id=disk0 \
	-device virtio-blk-device,drive=disk0 \
	-netdev user,id=net0 -device virtio-net-device,netdev=net0 \
	-drive file="$build/hvdisk.img",if=none,format=raw,id=disk1 \
	-device virtio-blk-device,drive=disk1,bus=virtio-mmio-bus.7 \
	"$@"
