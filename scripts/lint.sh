#!/bin/sh
# make lint: the project's habits, checked. Every C file is clang-formatted
# (.clang-format), cppcheck finds nothing, and the hypervisor and the MVM's
# user-space tools compile clean with warnings beyond -Wall -Wextra.
# Prints each finding and exits 1 if there is any.
set -u
cd "$(dirname "$0")/.."
CROSS=${CROSS:-aarch64-linux-gnu-}
PLATFORM=${PLATFORM:-qemu-virt}
status=0
finding() { echo "lint: $*"; status=1; }

c_files=$(git ls-files '*.c' '*.h')

# 1. Formatting.
for f in $c_files; do
	clang-format --dry-run --Werror "$f" >/dev/null 2>&1 ||
		finding "$f is not formatted (clang-format -i $f)"
done

# 2. Static analysis. False positives are suppressed where they occur, with
# a comment that says why (cppcheck-suppress).
cppcheck -q --std=c11 --enable=warning,portability,performance --inline-suppr \
	--error-exitcode=1 --template='{file}:{line}: {severity}: {message} [{id}]' \
	-D__aarch64__ -Ihv -Ihv/platform/$PLATFORM/include -Iinclude \
	--suppress=missingIncludeSystem hv tools mvm/cli mvm/daemon tests/guests tests/linux ||
	finding "cppcheck reported the findings above"

# 3. Extra warnings: every prototype in a header, no shadowing, no VLAs.
EXTRA="-Wmissing-prototypes -Wstrict-prototypes -Wshadow -Wundef -Wvla -Wpointer-arith
	-Wformat=2 -Wcast-qual -Wnull-dereference -Werror"
for f in $(git ls-files 'hv/*.c'); do
	${CROSS}gcc -std=gnu11 -O2 -ffreestanding -fno-builtin -nostdlib -mgeneral-regs-only \
		-Wall -Wextra $EXTRA -Ihv -Ihv/platform/$PLATFORM/include -Iinclude \
		-fsyntax-only "$f" || finding "$f: extra warnings (above)"
done
for f in $(git ls-files 'mvm/cli/*.c' 'mvm/daemon/*.c' 'tests/linux/*.c' 'tools/cfgc/*.c'); do
	case $f in
	tools/*) cc="${CC:-cc} -Ihv -Ihv/platform/$PLATFORM/include -Iinclude" ;;
	*) cc="${CROSS}gcc -Iinclude" ;;
	esac
	$cc -std=gnu11 -O2 -Wall -Wextra $EXTRA -fsyntax-only "$f" ||
		finding "$f: extra warnings (above)"
done

[ $status = 0 ] && echo "lint: clean"
exit $status
