#!/usr/bin/env bash
# Runs cfgc on every configs/bad/*.cfg and checks that each one is rejected
# the way its header says, then that configs/qemu-virt.cfg is accepted.
#
#   tests/unit/check_bad_configs.sh CFGC_BINARY
#
# Fixture header (first lines, comments):
#   # expect: TEXT    required: TEXT must occur in the error line
#   # line: N         optional: the error must point at line N
#   # args: ARGS      optional: extra cfgc arguments (e.g. --no-files)
# Every fixture is run from the repository root with -D GIC=3, so image paths
# such as configs/bad/files/kernel resolve. A rejection must be exit status 1
# and exactly one line "FILE:LINE: FIELD: message" on stderr, with no output
# file written.
set -u

if [ $# -ne 1 ]; then
	echo "usage: $0 CFGC_BINARY" >&2
	exit 2
fi
cfgc=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
if [ ! -x "$cfgc" ]; then
	echo "$0: $1 is not an executable" >&2
	exit 2
fi
cd "$(dirname "$0")/../.." || exit 2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

pass() {
	echo "PASS $1"
	passed=$((passed + 1))
}

fail() {
	echo "FAIL $1: $2"
	failed=$((failed + 1))
}

# The value of header "# KEY: value" among the fixture's leading comments.
header() {
	sed -n "/^[^#]/q; s/^# $2: *//p" "$1" | head -n 1
}

for cfg in configs/bad/*.cfg; do
	name=$(basename "$cfg" .cfg)
	expect=$(header "$cfg" expect)
	want_line=$(header "$cfg" line)
	read -r -a args <<<"$(header "$cfg" args)"
	if [ -z "$expect" ]; then
		fail "$name" "no '# expect:' header"
		continue
	fi
	rm -f "$tmp/out.c" "$tmp/qemu.args"
	"$cfgc" -D GIC=3 "${args[@]}" -o "$tmp/out.c" -q "$tmp/qemu.args" "$cfg" \
		>"$tmp/stdout" 2>"$tmp/stderr"
	status=$?
	err=$(cat "$tmp/stderr")
	lines=$(wc -l <"$tmp/stderr")
	if [ "$status" -ne 1 ]; then
		fail "$name" "exit status $status, expected 1 (stderr: $err)"
	elif [ "$lines" -ne 1 ]; then
		fail "$name" "expected one error line, got $lines: $err"
	elif ! grep -Eq "^$cfg:[0-9]+: [^:]+(: [^:]+)?: " "$tmp/stderr"; then
		fail "$name" "not 'FILE:LINE: FIELD: message': $err"
	elif ! grep -Fq -- "$expect" "$tmp/stderr"; then
		fail "$name" "expected '$expect' in: $err"
	elif [ -n "$want_line" ] && ! grep -q "^$cfg:$want_line: " "$tmp/stderr"; then
		fail "$name" "expected line $want_line in: $err"
	elif [ -e "$tmp/out.c" ] || [ -e "$tmp/qemu.args" ]; then
		fail "$name" "an output file was written despite the error"
	else
		pass "$name"
	fi
done

# The real configuration must compile (images need not be built), and the
# result must be valid C.
good=configs/qemu-virt.cfg
if ! "$cfgc" -D GIC=3 --no-files -o "$tmp/good.c" -q "$tmp/good.args" "$good" 2>"$tmp/stderr"; then
	fail "$(basename "$good" .cfg)" "rejected: $(cat "$tmp/stderr")"
elif ! ${CC:-cc} -std=gnu11 -Wall -Wextra -Werror -Ihv -Ihv/platform/qemu-virt/include -c "$tmp/good.c" \
	-o "$tmp/good.o" 2>"$tmp/stderr"; then
	fail "$(basename "$good" .cfg)" "the generated C does not compile: $(cat "$tmp/stderr")"
elif ! grep -q '^loader,file=build/guest/Image,addr=0x48200000,force-raw=on$' "$tmp/good.args"; then
	fail "$(basename "$good" .cfg)" "unexpected QEMU arguments: $(tr '\n' ' ' <"$tmp/good.args")"
else
	pass "$(basename "$good" .cfg) (accepted)"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
