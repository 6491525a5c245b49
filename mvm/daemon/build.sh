#!/usr/bin/env bash
# Builds the MVM's user-space programs (static, arm64): the block daemon
# syshyperd and the CLI syshyper.
set -eu
out=$(mkdir -p "$1" && cd "$1" && pwd)
cd "$(dirname "$0")/.."
mkdir -p "$out"
flags="-static -O2 -Wall -Wextra -Werror -I../include"
aarch64-linux-gnu-gcc $flags -pthread -o "$out/syshyperd" daemon/*.c
aarch64-linux-gnu-gcc $flags -o "$out/syshyper" cli/*.c
echo "MVM programs: $out/syshyperd $out/syshyper"
