#!/usr/bin/env bash
# Builds a VM's initramfs: busybox, the Debian kernel modules the VM needs
# (with their dependencies, in load order), the shared /init, and for the
# MVM the sysHyper kernel module and tools when they are built.
#   scripts/mkinitramfs.sh OUT.cpio.gz mvm|gvm [extra-file:dest ...]
set -eu
out=$1 role=$2
shift 2
cd "$(dirname "$0")/.."
guest=.cache/guest
kver=$(cat $guest/KVER)
moddir=$guest/root/lib/modules/$kver
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

case $role in
mvm) wanted="virtio_mmio virtio_blk virtio_net bridge tun" ;;
gvm) wanted="virtio_mmio virtio_blk virtio_net virtio_console" ;;
*) echo "mkinitramfs: role must be mvm or gvm" >&2; exit 1 ;;
esac

# Modules in dependency order (deps first), from each module's own
# "depends=" (Debian's package ships no modules.dep: depmod runs at install).
declare -A path_of=() seen=()
while read -r f; do
	n=$(basename "$f" | sed 's/\.ko.*//; s/-/_/g')
	path_of[$n]=${f#"$moddir"/}
done < <(find "$moddir/kernel" -name '*.ko*')
module_deps() {
	case $1 in
	*.xz) xz -dc "$1" ;;
	*) cat "$1" ;;
	esac | tr '\0' '\n' | sed -n 's/^depends=//p' | tr ',' ' '
}
order=()
add_module() {
	local name=${1//-/_} path d
	path=${path_of[$name]:-}
	[ -n "$path" ] || return 0 # built in
	[ -z "${seen[$name]:-}" ] || return 0
	seen[$name]=1
	for d in $(module_deps "$moddir/$path"); do add_module "$d"; done
	order+=("$name:$path")
}
for m in $wanted; do add_module "$m"; done

mkdir -p "$work"/{bin,sbin,etc,proc,sys,dev,tmp,lib/modules,etc/syshyper}
cp $guest/root/bin/busybox "$work/bin/"
cp mvm/initramfs/init "$work/init"
chmod +x "$work/init"
echo "$role" > "$work/etc/role"
: > "$work/etc/modules"
for entry in "${order[@]}"; do
	name=${entry%%:*} path=${entry#*:}
	case $path in
	*.xz) xz -dc "$moddir/$path" > "$work/lib/modules/$name.ko" ;;
	*) cp "$moddir/$path" "$work/lib/modules/$name.ko" ;;
	esac
	echo "$name" >> "$work/etc/modules"
done
if [ "$role" = mvm ]; then
	for f in build/mvm/syshyper.ko; do [ -e "$f" ] && cp "$f" "$work/lib/modules/"; done
	for f in build/mvm/syshyperd build/mvm/syshyper; do [ -e "$f" ] && cp "$f" "$work/bin/"; done
	cp mvm/initramfs/disks.conf "$work/etc/syshyper/disks.conf" 2>/dev/null || true
fi
# Dynamic tools (fio, iperf3) with the closure of their NEEDED libraries.
add_tool() {
	local bin=$1 todo lib f
	mkdir -p "$work/usr/bin" "$work/lib/aarch64-linux-gnu"
	cp "$guest/root/$bin" "$work/$bin"
	ln -sf aarch64-linux-gnu/ld-linux-aarch64.so.1 "$work/lib/ld-linux-aarch64.so.1"
	todo=$(readelf -d "$guest/root/$bin" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p')
	while [ -n "$todo" ]; do
		set -- $todo
		lib=$1
		shift
		todo="$*"
		[ -e "$work/lib/aarch64-linux-gnu/$lib" ] && continue
		f=$(find "$guest/root/lib/aarch64-linux-gnu" "$guest/root/usr/lib/aarch64-linux-gnu" \
			-name "$lib" | head -n1)
		[ -n "$f" ] || { echo "mkinitramfs: $bin needs $lib, not found" >&2; exit 1; }
		cp -L "$f" "$work/lib/aarch64-linux-gnu/$lib"
		todo="$todo $(readelf -d "$f" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p')"
	done
}
if [ "${WITH_TOOLS:-1}" = 1 ]; then
	add_tool usr/bin/fio
	add_tool usr/bin/iperf3
fi

for extra in "$@"; do # src:dest pairs (e.g. a user's script as /etc/autorun.sh)
	mkdir -p "$work/$(dirname "${extra#*:}")"
	cp "${extra%%:*}" "$work/${extra#*:}"
	chmod +x "$work/${extra#*:}"
done
mkdir -p "$(dirname "$out")"
(cd "$work" && find . | sort | cpio -o -H newc --quiet | gzip -6) > "$out"
echo "mkinitramfs: $out ($role, $(du -k "$out" | cut -f1) KiB, modules: $(tr '\n' ' ' < "$work/etc/modules"))"
