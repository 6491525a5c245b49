#!/usr/bin/env bash
# A 256 MiB raw disk whose first 16 MiB hold a reproducible pseudo-random
# pattern; OUT.sha256 holds the checksum of those 16 MiB.
set -eu
out=$1
mkdir -p "$(dirname "$out")"
python3 - "$out" <<'PY'
import hashlib, random, sys
rng = random.Random(0x5e5e)
data = rng.randbytes(16 << 20)
with open(sys.argv[1], "wb") as f:
    f.write(data)
    f.truncate(256 << 20)
with open(sys.argv[1] + ".sha256", "w") as f:
    f.write(hashlib.sha256(data).hexdigest() + "\n")
PY
echo "mkdisk: $out (256 MiB, pattern sha256 $(cut -c1-16 "$out.sha256")...)"
