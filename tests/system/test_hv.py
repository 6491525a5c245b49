#!/usr/bin/env python3
"""System tests: boot sysHyper with its VMs in QEMU (GICv3 and GICv2) and
drive the guests' shells through the console multiplexer.

Each scenario asserts on what the guests print. A failure prints the end of
the console log; the suite ends with 'N passed, N failed'."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, "build")
BOOT_TIMEOUT = int(os.environ.get("BOOT_TIMEOUT", "240"))
ESC = "\x1d"  # the console multiplexer's escape key (Ctrl-])


def boot(gic, name):
    cmd = [os.path.join(ROOT, "scripts", "qemu.sh"), str(gic)]
    log = os.path.join(BUILD, "logs", f"{name}-gicv{gic}.log")
    con = harness.track(harness.Console(cmd, log, cwd=ROOT))
    con.expect(r"^\[mvm\] syshyper: mvm user space ready", BOOT_TIMEOUT)
    return con


def disk_sha():
    with open(os.path.join(BUILD, "disk.img.sha256")) as f:
        return f.read().split()[0]


def trap_counts(con):
    """Sums the per-vCPU trap counters of the MVM from a statistics print."""
    con.expect(r"statistics \(per vCPU\)", 30)
    con.expect(r"^\[hv\] gvm2/0 .* ms$", 30)  # the last vCPU's line
    totals = {}
    for line in con.tail(20).split("\n"):
        if line.startswith("[hv] mvm/"):
            for cause, n in re.findall(r"(dabt|hvc|smc|wfx|sysreg|irq|other) (\d+)", line):
                totals[cause] = totals.get(cause, 0) + int(n)
    return totals


def check_mvm(con):
    out, rc = con.run("nproc", 30)
    assert rc == 0 and out.strip() == "2", f"nproc printed {out!r}"
    out, rc = con.run("dd if=/dev/vda bs=1M count=16 2>/dev/null | sha256sum", 120)
    assert rc == 0 and out.split()[0] == disk_sha(), f"disk checksum {out!r}"
    out, rc = con.run("cat /sys/class/net/eth0/address", 30)
    assert rc == 0 and re.search(r"([0-9a-f]{2}:){5}", out), f"eth0: {out!r}"
    out, rc = con.run("a=$(date +%s); sleep 2; b=$(date +%s); echo $((b-a))", 60)
    assert rc == 0 and out.strip() in ("2", "3"), f"sleep 2 took {out!r} s by the MVM's clock"


def mvm_scenario(gic):
    def scenario():
        start = time.monotonic()
        con = boot(gic, "mvm")
        harness.note(f"gicv{gic}: QEMU start to MVM user space {time.monotonic() - start:.1f} s")
        check_mvm(con)
        con.send(ESC + "s")
        harness.note(f"gicv{gic}: MVM traps so far by cause: {trap_counts(con)}")
        con.send_line("poweroff -f")
        status = con.wait_exit(60)
        assert status == 0, f"QEMU exit status {status}"

    scenario.__name__ = f"mvm_boot_gicv{gic}"
    return scenario


if __name__ == "__main__":
    sys.exit(harness.main([mvm_scenario(3), mvm_scenario(2)]))
