#!/usr/bin/env bash
# Boots the sysHyper image with its VMs on QEMU virt.
#   scripts/qemu.sh GIC [extra QEMU args...]
# The images must be built (make run / make test build them). What QEMU
# places and attaches comes from the configuration, through the argument
# files tools/cfgc wrote beside the image: qemu-loader.args (the preloaded
# images) and qemu-devices.args (CPUs, RAM, the board's disks and NIC).
# The console (hypervisor log and every VM's output, prefixed) is on stdio.
# A reset of the board ends QEMU (status 0), unless QEMU_RESTART=1: then the
# board restarts, as a real one would.
set -eu
gic=${1:-3}
shift || true
build=${BUILD:-build}
hv=${HV_DIR:-$build/gicv$gic} # HV_DIR: another configuration's image (make run CONFIG=...)
for f in "$hv/syshyper.elf" "$hv/qemu-loader.args" "$hv/qemu-devices.args"; do
	[ -e "$f" ] || { echo "qemu.sh: $f is missing: run 'make run' or 'make GIC=$gic qemu-deps'" >&2; exit 1; }
done
mapfile -t loader < "$hv/qemu-loader.args"
mapfile -t devices < "$hv/qemu-devices.args"
for a in "${devices[@]}"; do
	case $a in
	file=*)
		f=${a#file=}
		f=${f%%,if=*}
		[ -e "$f" ] || { echo "qemu.sh: disk $f is missing: run 'make GIC=$gic qemu-deps'" >&2; exit 1; }
		;;
	esac
done
reset=-no-reboot
[ "${QEMU_RESTART:-0}" = 0 ] || reset=
exec qemu-system-aarch64 \
	-M virt,virtualization=on,gic-version="$gic" -cpu cortex-a57 \
	-nographic $reset \
	-kernel "$hv/syshyper.elf" "${loader[@]}" \
	-global virtio-mmio.force-legacy=false \
	"${devices[@]}" \
	"$@"
