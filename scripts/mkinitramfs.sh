#!/usr/bin/env bash
# Builds the initramfs of a sysHyper Linux VM (gzip'd newc cpio):
#   /bin/busybox           applet links are made by /init at boot
#   /init, /etc/role       the shared first process (linux/init)
#   /lib/modules/NAME.ko   the Debian modules the role needs, with their
#   /etc/modules             dependencies from modules.dep, in load order
#   /usr/bin/fio, iperf3   with the shared libraries they need (WITH_TOOLS=0
#                          leaves them out)
#   /bin/ethflood, memscan the test tools (tests/linux), when built; the MVM's
#                          also ringcorrupt
#   for the MVM: the sysHyper module, daemon and CLI when built (what backs
#                its mediated disks, /etc/syshyper/disks.conf, comes from the
#                configuration: tools/cfgc writes it, --append adds it)
#
#   scripts/mkinitramfs.sh OUT.cpio.gz mvm|gvm [SRC:DEST ...]
# SRC:DEST adds a file (made executable), e.g. a script as etc/autorun.sh.
# EXTRA_MODULES="a b" adds modules. Needs scripts/fetch-guest.sh first.
#
#   scripts/mkinitramfs.sh --append OUT BASE [SRC:DEST[:MODE] | =TARGET:DEST ...]
# OUT is BASE (a built initramfs, untouched) followed by an uncompressed
# cpio archive of the given files (MODE: octal, default 755) and symbolic
# links (DEST -> TARGET); Linux unpacks both. The files a VM's
# configuration adds (tools/cfgc's make fragment: the MVM's disks.conf, a
# GVM's images in the MVM, make run's script) cost no recompression of the base, and files
# that are compressed already are not compressed twice.
set -eu
cd "$(dirname "$0")/.."
GUEST=.cache/guest
ROOT=$GUEST/root
CROSS_COMPILE=${CROSS_COMPILE:-aarch64-linux-gnu-}
MVM_MODULES="virtio virtio_ring virtio_mmio virtio_blk virtio_net virtio_console bridge stp llc tun"
# gpio_keys, evdev: the power button the hypervisor gives every GVM;
# ext4, crc32c_generic: the file system on gvm1's disk (metadata checksums)
GVM_MODULES="virtio virtio_ring virtio_mmio virtio_blk virtio_net virtio_console gpio_keys evdev ext4 crc32c_generic"
TOOLS="usr/bin/fio usr/bin/iperf3"

die() {
	echo "mkinitramfs: $*" >&2
	exit 1
}

usage() {
	die "usage: scripts/mkinitramfs.sh OUT.cpio.gz mvm|gvm [SRC:DEST ...] |" \
		"--append OUT BASE [SRC:DEST[:MODE] | =TARGET:DEST ...]"
}

# ---------------------------------------------------------------- modules
declare -A MOD_PATH=() MOD_DEPS=() LOADED=()
ORDER=()

load_modules_dep() {
	local path deps name
	[ -s "$MODDIR/modules.dep" ] || die "$MODDIR/modules.dep missing: run scripts/fetch-guest.sh"
	while IFS=: read -r path deps; do
		name=${path##*/}
		name=${name%%.ko*}
		MOD_PATH[${name//-/_}]=$path
		MOD_DEPS[$path]=$deps
	done <"$MODDIR/modules.dep"
}

is_builtin() { # name
	grep -qE "/${1//_/[-_]}\.ko\$" "$MODDIR/modules.builtin"
}

add_path() { # module path in modules.dep: dependencies first
	local d
	[ -z "${LOADED[$1]:-}" ] || return 0
	LOADED[$1]=1
	for d in ${MOD_DEPS[$1]}; do add_path "$d"; done
	ORDER+=("$1")
}

add_module() { # name
	local name=${1//-/_}
	if [ -n "${MOD_PATH[$name]:-}" ]; then
		add_path "${MOD_PATH[$name]}"
	elif is_builtin "$name"; then
		BUILTIN="$BUILTIN $name"
	else
		die "kernel $KVER has no module $name"
	fi
}

copy_modules() {
	local path name
	mkdir -p "$WORK/lib/modules"
	: >"$WORK/etc/modules"
	for path in "${ORDER[@]}"; do
		name=${path##*/}
		name=${name%%.ko*}
		case $path in
		*.xz) xz -dc "$MODDIR/$path" >"$WORK/lib/modules/$name.ko" ;;
		*.zst) zstd -qdc "$MODDIR/$path" >"$WORK/lib/modules/$name.ko" ;;
		*) cp "$MODDIR/$path" "$WORK/lib/modules/$name.ko" ;;
		esac
		echo "$name" >>"$WORK/etc/modules"
	done
}

# ---------------------------------------------------------------- tools
declare -A LIB_AT=()

index_libraries() {
	local f
	while read -r f; do
		[ -n "${LIB_AT[${f##*/}]:-}" ] || LIB_AT[${f##*/}]=$f
	done < <(find "$ROOT/lib/aarch64-linux-gnu" "$ROOT/usr/lib/aarch64-linux-gnu" \
		-name '*.so*' \( -type f -o -type l \) 2>/dev/null | sort)
}

needed_of() { # elf file
	"${CROSS_COMPILE}readelf" -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'
}

# Copies an arm64 program and the closure of the libraries it needs.
add_tool() { # path under the guest root
	local bin=$1 todo lib interp
	[ -f "$ROOT/$bin" ] || die "$bin missing in $ROOT: run scripts/fetch-guest.sh"
	mkdir -p "$WORK/$(dirname "$bin")" "$WORK/lib/aarch64-linux-gnu"
	cp "$ROOT/$bin" "$WORK/$bin"
	interp=$("${CROSS_COMPILE}readelf" -l "$ROOT/$bin" | sed -n 's/.*interpreter: \(.*\)\]/\1/p')
	todo="$(needed_of "$ROOT/$bin") ${interp##*/}"
	while [ -n "${todo// /}" ]; do
		# shellcheck disable=SC2086 # a word list
		set -- $todo
		lib=$1
		shift
		todo="$*"
		[ ! -e "$WORK/lib/aarch64-linux-gnu/$lib" ] || continue
		[ -n "${LIB_AT[$lib]:-}" ] || die "$bin needs $lib, which no fetched package has"
		cp -L "${LIB_AT[$lib]}" "$WORK/lib/aarch64-linux-gnu/$lib"
		todo="$todo $(needed_of "${LIB_AT[$lib]}")"
	done
	# the loader by the path the program names (/lib/ld-linux-aarch64.so.1)
	if [ -n "$interp" ] && [ ! -e "$WORK$interp" ]; then
		ln -s "aarch64-linux-gnu/${interp##*/}" "$WORK$interp"
	fi
}

# ---------------------------------------------------------------- image
stage_base() {
	mkdir -p "$WORK"/{bin,sbin,etc,proc,sys,dev,tmp,root,usr/bin,usr/sbin}
	cp "$ROOT/bin/busybox" "$WORK/bin/busybox"
	cp linux/init "$WORK/init"
	chmod 755 "$WORK/init"
	echo "$ROLE" >"$WORK/etc/role"
}

# The test tools, and the MVM's own pieces, when they are built (make
# builds them first).
stage_mvm_extras() {
	local f
	for f in build/linux/ethflood build/linux/memscan; do [ ! -e "$f" ] || cp "$f" "$WORK/bin/"; done
	[ "$ROLE" = mvm ] || return 0
	[ ! -e build/linux/ringcorrupt ] || cp build/linux/ringcorrupt "$WORK/bin/"
	[ ! -e build/mvm/syshyper.ko ] || cp build/mvm/syshyper.ko "$WORK/lib/modules/"
	for f in build/mvm/syshyperd build/mvm/syshyper; do [ ! -e "$f" ] || cp "$f" "$WORK/bin/"; done
}

stage_extra() { # SRC:DEST
	local src=${1%%:*} dest=${1#*:}
	[ "$src" != "$1" ] && [ -n "$dest" ] || die "extra file '$1' is not SRC:DEST"
	[ -f "$src" ] || die "extra file $src not found"
	mkdir -p "$WORK/$(dirname "$dest")"
	cp "$src" "$WORK/$dest"
	chmod 755 "$WORK/$dest"
}

# Same input, same bytes: fixed times and owners, sorted names, no gzip name.
write_archive() {
	find "$WORK" -exec touch -h -d @0 {} +
	(cd "$WORK" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --reproducible --quiet | gzip -6 -n) >"$OUT.tmp.$$" ||
		die "could not write $OUT"
	mv "$OUT.tmp.$$" "$OUT"
}

# ---------------------------------------------------------------- append
stage_append() { # SRC:DEST[:MODE] or =TARGET:DEST
	local spec=$1 src dest mode
	if [ "${spec#=}" != "$spec" ]; then
		src=${spec#=}
		dest=${src#*:}
		src=${src%%:*}
		[ -n "$src" ] && [ -n "$dest" ] || die "link '$spec' is not =TARGET:DEST"
		mkdir -p "$WORK/$(dirname "$dest")"
		ln -s "$src" "$WORK/$dest"
		return
	fi
	IFS=: read -r src dest mode <<<"$spec"
	[ -n "$src" ] && [ -n "$dest" ] || die "extra file '$spec' is not SRC:DEST[:MODE]"
	[ -f "$src" ] || die "extra file $src not found"
	mkdir -p "$WORK/$(dirname "$dest")"
	cp "$src" "$WORK/$dest"
	chmod "${mode:-755}" "$WORK/$dest"
}

# BASE, zero-padded to 512 bytes (the kernel looks for the next archive at a
# 4-byte boundary), then the files as a plain newc archive.
append_main() {
	local base spec mib
	[ $# -ge 2 ] || usage
	OUT=$1 base=$2
	shift 2
	[ -f "$base" ] || die "base initramfs $base not found"
	WORK=$(mktemp -d)
	trap 'rm -rf "$WORK"' EXIT
	mkdir -p "$(dirname "$OUT")"
	for spec in "$@"; do stage_append "$spec"; done
	{
		cat "$base"
		head -c $(((512 - $(stat -c %s "$base") % 512) % 512)) /dev/zero
		if [ $# -gt 0 ]; then
			find "$WORK" -exec touch -h -d @0 {} +
			(cd "$WORK" && find . -mindepth 1 | LC_ALL=C sort |
				cpio -o -H newc -R 0:0 --reproducible --quiet)
		fi
	} >"$OUT.tmp.$$" || die "could not write $OUT"
	mv "$OUT.tmp.$$" "$OUT"
	mib=$(awk -v b="$(stat -c %s "$OUT")" 'BEGIN { printf "%.1f", b / 1048576 }')
	echo "mkinitramfs: $OUT ($mib MiB: $base + $# file(s))"
}

main() {
	local m extra mib tools="no fio/iperf3"
	if [ "${1:-}" = --append ]; then
		shift
		append_main "$@"
		return
	fi
	[ $# -ge 2 ] || usage
	OUT=$1 ROLE=$2
	shift 2
	case $ROLE in
	mvm) MODULES=$MVM_MODULES ;;
	gvm) MODULES=$GVM_MODULES ;;
	*) usage ;;
	esac
	[ -s $GUEST/KVER ] || die "no guest kernel in $GUEST: run scripts/fetch-guest.sh"
	KVER=$(cat $GUEST/KVER)
	MODDIR=$ROOT/lib/modules/$KVER
	BUILTIN=""
	WORK=$(mktemp -d)
	trap 'rm -rf "$WORK"' EXIT
	mkdir -p "$(dirname "$OUT")"

	load_modules_dep
	for m in $MODULES ${EXTRA_MODULES:-}; do add_module "$m"; done
	stage_base
	copy_modules
	stage_mvm_extras
	if [ "${WITH_TOOLS:-1}" = 1 ]; then
		index_libraries
		for m in $TOOLS; do add_tool "$m"; done
		tools="fio/iperf3"
	fi
	for extra in "$@"; do stage_extra "$extra"; done
	write_archive
	mib=$(awk -v b="$(stat -c %s "$OUT")" 'BEGIN { printf "%.1f", b / 1048576 }')
	echo "mkinitramfs: $OUT ($ROLE, $mib MiB, $tools, modules: $(paste -sd' ' "$WORK/etc/modules")${BUILTIN:+; built in:$BUILTIN})"
}

main "$@"
