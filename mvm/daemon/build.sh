#!/usr/bin/env bash
# Builds the guests' user-space tools (static, arm64): syshyperd and syshyper for
# the MVM, ethflood (a test tool) for the GVMs.
set -eu
out=$(mkdir -p "$1" && cd "$1" && pwd)
cd "$(dirname "$0")/.."
mkdir -p "$out"
flags="-static -O2 -Wall -Wextra -Werror -I../include"
aarch64-linux-gnu-gcc $flags -pthread -o "$out/syshyperd" daemon/syshyperd.c
aarch64-linux-gnu-gcc $flags -o "$out/syshyper" cli/*.c
aarch64-linux-gnu-gcc $flags -o "$out/ethflood" tools/ethflood.c
echo "guest tools: $out/syshyperd $out/syshyper $out/ethflood"
