#!/usr/bin/env python3
"""System scenario of issue 8: a configuration is the one description of its
VMs. configs/test-three-gvms.cfg (the MVM on one CPU and three GVMs) names
no file that describes a VM: cfgc generates every device tree, the build's
make fragment and QEMU's arguments from it (make test-configs builds it into
build/test-three-gvms-gicv3/). The scenario boots it and checks that each VM
got what its section says (CPUs, memory, kernel command line, disks,
network), and that each VM's 'Linux version' line reached the console whole
(issue 9 item 5: four kernels booting at once).

    python3 tests/system/test_layout.py   (make test runs it from test_hv.py)
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from vmshell import BUILD, ROOT, focus  # noqa: E402

BOOT_TIMEOUT = int(os.environ.get("BOOT_TIMEOUT", "300"))  # four Linux VMs
NAME = "three-gvms"
HV_DIR = os.path.join(BUILD, f"test-{NAME}-gicv3")
CONFIG = os.path.join(ROOT, "configs", f"test-{NAME}.cfg")

# A kernel banner as Debian's prints it, from its timestamp to its build date.
BANNER = re.compile(r"^\[(?P<vm>[\w.-]+)\] \[ *\d+\.\d+\] Linux version \S+ \(.+\) "
                    r"#\d+ SMP .* \(\d{4}-\d\d-\d\d\)$", re.M)


def read_config(path):
    """The VMs of a configuration, in order: {name: {key: [values]}} (the
    test's own reader, so it checks cfgc instead of trusting it)."""
    vms, cur = {}, None
    for line in open(path):
        line = re.sub(r"#(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$).*", "", line).strip()
        m = re.match(r"^\[vm (\S+)\]$", line)
        if m:
            cur = vms.setdefault(m.group(1), {})
        elif cur is not None and "=" in line:
            key, value = (s.strip() for s in line.split("=", 1))
            cur.setdefault(key, []).append(value.strip('"'))
    return vms


def check_vm(con, vm, cfg):
    focus(con, vm)
    out, rc = con.run("nproc; cat /proc/cmdline; "
                      "awk '/MemTotal/ { print $2 }' /proc/meminfo", 60, vm=vm)
    lines = out.split("\n")
    assert rc == 0 and len(lines) == 3, f"{vm}: {out!r}"
    ncpus = len(cfg["cpus"][0].split())
    assert lines[0].strip() == str(ncpus), f"{vm}: {lines[0]!r} CPUs, configured {ncpus}"
    assert lines[1].strip() == cfg["bootargs"][0], \
        f"{vm}: command line {lines[1]!r}, configured {cfg['bootargs'][0]!r}"
    mib = int(re.search(r"\+\s*(\d+)M", cfg["memory"][0]).group(1))
    kib = int(lines[2])
    assert mib * 1024 * 0.8 < kib <= mib * 1024, f"{vm}: {kib} KiB of RAM, configured {mib} MiB"
    for spec in cfg.get("virtio-blk", []):
        size = re.search(r"size=(\d+)M", spec)
        if size:  # the first disk is vda
            out, rc = con.run("cat /sys/block/vda/size", 30, vm=vm)
            assert rc == 0 and out.strip() == str(int(size.group(1)) << 11), \
                f"{vm}: vda has {out!r} sectors, configured {spec!r}"
            break
    # its switch ports, and a NIC of the board's passed through
    nets = len(cfg.get("virtio-net", [])) + sum("net=" in d for d in cfg.get("device", []))
    out, rc = con.run("ls /sys/class/net | grep -c '^eth'", 30, vm=vm)
    assert out.strip() == str(nets), f"{vm}: {out!r} ethernet devices, configured {nets}"
    harness.note(f"{vm}: {ncpus} CPU(s), {kib // 1024} MiB, {nets} NIC(s) as configured")


def three_gvms_scenario():
    """configs/test-three-gvms.cfg boots: the MVM and three GVMs each see what
    their section says, reach each other through the switch, and every
    kernel's banner line arrived whole."""
    vms = read_config(CONFIG)
    for f in ("syshyper.elf", "qemu-loader.args", "qemu-devices.args"):
        assert os.path.exists(os.path.join(HV_DIR, f)), f"{HV_DIR}/{f} missing: make test-configs"
    cmd = [os.path.join(ROOT, "scripts", "qemu.sh"), "3"]
    log = os.path.join(BUILD, "logs", f"{NAME}-gicv3.log")
    con = harness.track(harness.Console(cmd, log, cwd=ROOT, env=dict(os.environ, HV_DIR=HV_DIR)))
    con.vms = tuple(vms)
    con.expect(r"^\[mvm\] syshyper: mvm user space ready", BOOT_TIMEOUT, anywhere=True)
    for vm in vms:
        if vm != "mvm":
            con.expect(rf"^\[{vm}\] syshyper: gvm user space ready", BOOT_TIMEOUT,
                       anywhere=True)
    harness.note(f"MVM and {len(vms) - 1} GVMs in user space {con.elapsed():.0f} s after QEMU's start")
    with con.cond:
        text = con.buf
    whole = {m.group("vm") for m in BANNER.finditer(text)}
    for vm in vms:
        pieces = [l for l in text.split("\n")
                  if l.startswith(f"[{vm}] ") and "Linux version" in l and not BANNER.match(l)]
        assert vm in whole, f"{vm}: no whole 'Linux version' line; pieces: {pieces}"
    harness.note(f"whole 'Linux version' lines from {', '.join(sorted(whole))}")
    for vm in vms:
        check_vm(con, vm, vms[vm])
    # the GVMs' switch ports: the last GVM reaches the others and the MVM
    last = list(vms)[-1]
    focus(con, last)
    peers = [re.search(r"syshyper\.ip=([\d.]+)", vms[vm]["bootargs"][0]).group(1)
             for vm in vms if vm not in ("mvm", last)] + ["10.0.2.15"]
    out, rc = con.run(" && ".join(f"ping -c 2 -W 5 {ip}" for ip in peers), 120, vm=last)
    assert rc == 0 and out.count("2 packets received") == len(peers), f"{last}: ping {out!r}"
    focus(con, "mvm")
    con.send_line("poweroff -f")
    assert con.wait_exit(60) == 0


ALL = [three_gvms_scenario]

if __name__ == "__main__":
    chosen = [s for s in ALL if not sys.argv[1:] or s.__name__ in sys.argv[1:]]
    sys.exit(harness.main(chosen))
