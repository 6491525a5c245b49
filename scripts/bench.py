#!/usr/bin/env python3
"""make bench: the same workloads natively (Debian's kernel straight on QEMU
with the real virtio disk) and through sysHyper (the MVM on the passed-through
disk, GVM 1 on its mediated disk), in one run, 3 repetitions each; prints
min/median/max, the ratio to native, boot times, and the hypervisor's
counters per request. QEMU's wall clock is noisy: compare ratios."""
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
import harness  # noqa: E402

BUILD = os.path.join(ROOT, "build")
REPS = int(os.environ.get("BENCH_REPS", "3"))
ESC = "\x1d"
# (name, fio arguments, metric): metric is 'bw' (MB/s) or 'iops'
JOBS = [
    ("seq-read 1M", "--rw=read --bs=1M --size=32M --iodepth=4", "read_bw"),
    ("seq-write 1M", "--rw=write --bs=1M --size=32M --iodepth=4", "write_bw"),
    ("rand-read 4K qd1", "--rw=randread --bs=4k --size=32M --iodepth=1 --runtime=5 --time_based",
     "read_iops"),
    ("rand-read 4K qd32", "--rw=randread --bs=4k --size=32M --iodepth=32 --runtime=5 --time_based",
     "read_iops"),
]


def fio(con, dev, offset, args, vm=None):
    cmd = (f"fio --name=b --filename={dev} --offset={offset} --direct=1 --ioengine=libaio "
           f"{args} --output-format=terse --terse-version=3 2>&1 | grep '^3;'")
    out, rc = con.run(cmd, 300, vm=vm)
    if rc != 0:
        raise RuntimeError(f"fio failed on {dev}: {out}")
    f = out.strip().split("\n")[-1].split(";")
    return {"read_bw": int(f[6]) / 1024, "read_iops": int(f[7]),
            "write_bw": int(f[47]) / 1024, "write_iops": int(f[48])}


def run_jobs(con, dev, offset, label, results, vm=None):
    for name, args, metric in JOBS:
        for _ in range(REPS):
            results.setdefault((label, name), []).append(fio(con, dev, offset, args, vm)[metric])


IPERF_PORT = 5299


def host_iperf_server():
    """An iperf3 server on the host's loopback: QEMU's 10.0.2.2 from inside."""
    return subprocess.Popen(["iperf3", "-s", "-p", str(IPERF_PORT)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def iperf(con, server, vm=None, port=5201):
    out, rc = con.run(f"iperf3 -c {server} -p {port} -t 4 -f m 2>&1 | grep receiver", 120, vm=vm)
    m = re.search(r"([\d.]+) Mbits/sec", out)
    if rc != 0 or not m:
        raise RuntimeError(f"iperf3 to {server} failed: {out}")
    return float(m.group(1))


def ping_ms(con, target, vm=None):
    out, rc = con.run(f"ping -c 5 {target} | tail -1", 60, vm=vm)
    m = re.search(r"= [\d.]+/([\d.]+)/", out)
    if rc != 0 or not m:
        raise RuntimeError(f"ping {target} failed: {out}")
    return float(m.group(1))


def net_jobs(con, results):
    for _ in range(REPS):
        results.setdefault(("net", "GVM->GVM"), []).append(iperf(con, "10.0.2.22", "gvm1"))
        results.setdefault(("net", "GVM->MVM"), []).append(iperf(con, "10.0.2.15", "gvm1"))
        results.setdefault(("net", "GVM->outside"), []).append(
            iperf(con, "10.0.2.2", "gvm1", IPERF_PORT))
        results.setdefault(("ping", "GVM->GVM"), []).append(ping_ms(con, "10.0.2.22", "gvm1"))
        results.setdefault(("ping", "GVM->outside"), []).append(ping_ms(con, "10.0.2.2", "gvm1"))


def native(results):
    cmd = ["qemu-system-aarch64", "-M", "virt,gic-version=3", "-cpu", "cortex-a57", "-smp", "2",
           "-m", "1G", "-nographic", "-no-reboot",
           "-kernel", os.path.join(BUILD, "guest", "Image"),
           "-initrd", os.path.join(BUILD, "mvm", "initramfs.cpio.gz"),
           "-append", "console=ttyAMA0 rdinit=/init quiet loglevel=4",
           "-global", "virtio-mmio.force-legacy=false",
           "-drive", f"file={BUILD}/disk.img,if=none,format=raw,id=d0",
           "-device", "virtio-blk-device,drive=d0",
           "-netdev", "user,id=n0", "-device", "virtio-net-device,netdev=n0"]
    start = time.monotonic()
    con = harness.Console(cmd, os.path.join(BUILD, "logs", "bench-native.log"))
    try:
        con.expect(r"syshyper: mvm user space ready", 300)
        results[("boot", "native")] = [time.monotonic() - start]
        run_jobs(con, "/dev/vda", "192M", "native", results)
        con.run("ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0", 30)
        for _ in range(REPS):
            results.setdefault(("net", "native->outside"), []).append(
                iperf(con, "10.0.2.2", None, IPERF_PORT))
            results.setdefault(("ping", "native->outside"), []).append(ping_ms(con, "10.0.2.2"))
    finally:
        con.close()


def stats(con):
    con.send(ESC + "s")
    con.expect(r"^\[hv\] mediated: kicks (\d+), service interrupts to the MVM (\d+), "
               r"completions (\d+)$", 30)
    text = con.tail(30)
    gvm1 = {k: int(v) for k, v in re.findall(r"(dabt|hvc|smc|wfx|sysreg|irq|other) (\d+)",
            [l for l in text.split("\n") if l.startswith("[hv] gvm1/0")][-1])}
    blk = re.findall(r"gvm1/virtio-blk@slot31 mediated: requests (\d+)", text)[-1]
    med = re.findall(r"mediated: kicks (\d+), service interrupts to the MVM (\d+)", text)[-1]
    return sum(gvm1.values()), int(blk), int(med[1])


def focus(con, n, name):
    con.send(ESC + str(n))
    con.expect(rf"console input now goes to {name}$", 10)


def hypervisor(results):
    start = time.monotonic()
    con = harness.Console([os.path.join(ROOT, "scripts", "qemu.sh"), "3"],
                          os.path.join(BUILD, "logs", "bench-hv.log"))
    try:
        con.expect(r"^\[mvm\] syshyper: mvm user space ready", 300)
        results[("boot", "mvm")] = [time.monotonic() - start]
        con.expect(r"^\[gvm1\] syshyper: gvm user space ready", 300, anywhere=True)
        run_jobs(con, "/dev/vda", "192M", "mvm", results, "mvm")
        focus(con, 1, "gvm1")
        traps0, reqs0, irqs0 = stats(con)
        run_jobs(con, "/dev/vda", "0", "gvm1", results, "gvm1")
        traps1, reqs1, irqs1 = stats(con)
        n = max(reqs1 - reqs0, 1)
        results[("per-request", "gvm1 traps")] = [(traps1 - traps0) / n]
        results[("per-request", "MVM interrupts")] = [(irqs1 - irqs0) / n]
        focus(con, 2, "gvm2")
        con.run("iperf3 -s -D", 30, vm="gvm2")
        focus(con, 0, "mvm")
        con.run("iperf3 -s -D", 30, vm="mvm")
        focus(con, 1, "gvm1")
        net_jobs(con, results)
        focus(con, 0, "mvm")
        con.send_line("poweroff -f")
        con.wait_exit(60)
    finally:
        con.close()


# Fairness under abuse (issue 7): gvm1's 4 KiB QD1 reads on its mediated disk
# while its neighbour (tests/guests/storm.c in gvm2's place,
# configs/test-storm.cfg) is idle in WFI, spins without trapping, then storms
# (self-answered requests kept notified, denied hypercalls, PSCI, SGIs); one
# run. Under TCG every busy vCPU takes host time from the others (4 vCPUs on
# 2 host cores), so storm/spin is what the hypervisor lets the abuse cost.
FAIR_JOB = "--rw=randread --bs=4k --size=60M --iodepth=1 --runtime=10 --time_based --ramp_time=2"
# phases: idle, spin, storm, or one kind of abuse: storm-blk, storm-calls, storm-sgi
FAIR_PHASES = os.environ.get("FAIR_PHASES", "idle spin storm").split()


def guest_traps(con, vm):
    con.send(ESC + "s")
    # the whole line ("... guest N ms"): `$` also matches where output stops mid-line
    line = con.expect(rf"^\[hv\] {vm}/0 .* ms$", 30).group(0)
    return sum(int(v) for v in re.findall(r"(?:dabt|hvc|smc|wfx|sysreg|irq|other) (\d+)", line))


def fairness(results):
    env = dict(os.environ, HV_DIR=os.path.join(BUILD, "test-storm-gicv3"))
    con = harness.Console([os.path.join(ROOT, "scripts", "qemu.sh"), "3"],
                          os.path.join(BUILD, "logs", "bench-storm.log"), env=env)
    try:
        con.expect(r"^\[mvm\] syshyper: mvm user space ready", 300)
        con.expect(r"^\[gvm1\] syshyper: gvm user space ready", 300, anywhere=True)
        con.expect(r"^\[storm\] storm: ready", 300, anywhere=True)
        for phase in FAIR_PHASES:
            command = phase.replace("-", " ")
            focus(con, 2, "storm")
            con.send_line(command)
            con.expect(rf"^\[storm\] storm: \w+ {command}$", 30, anywhere=True)
            focus(con, 1, "gvm1")
            traps0, t0 = guest_traps(con, "storm"), time.monotonic()
            for _ in range(REPS):
                results.setdefault(("fair", phase), []).append(
                    fio(con, "/dev/vda", "0", FAIR_JOB, "gvm1")["read_iops"])
            results[("fair traps/s", phase)] = [(guest_traps(con, "storm") - traps0) /
                                                (time.monotonic() - t0)]
        focus(con, 0, "mvm")
        con.send_line("poweroff -f")
        con.wait_exit(60)
    finally:
        con.close()


def print_fairness(results):
    idle = results[("fair", FAIR_PHASES[0])]
    for phase in FAIR_PHASES:
        print(row(f"gvm1 4K qd1, gvm2 {phase}", "IOPS", results[("fair", phase)],
                  None if phase == FAIR_PHASES[0] else idle))
    if ("fair", "spin") in results:
        spin = statistics.median(results[("fair", "spin")])
        for phase in FAIR_PHASES:
            if phase.startswith("storm"):
                print(f"{phase} / spin (what the abuse costs through the hypervisor): "
                      f"{statistics.median(results[('fair', phase)]) / spin:.2f}")
    for phase in FAIR_PHASES:
        print(f"gvm2 traps per second while {phase}: "
              f"{results[('fair traps/s', phase)][0]:.0f}")


def row(name, unit, values, base=None):
    v = sorted(values)
    med = statistics.median(v)
    ratio = f"{med / statistics.median(base):6.2f}" if base else "      "
    return f"{name:<22} {unit:<6} {v[0]:10.1f} {med:10.1f} {v[-1]:10.1f}  {ratio}"


def main():
    results = {}
    server = host_iperf_server()
    phases = os.environ.get("BENCH_PHASES", "native hv fair").split()
    try:
        if "native" in phases:
            native(results)
        if "hv" in phases:
            hypervisor(results)
        if "fair" in phases:
            fairness(results)
    finally:
        server.kill()
    print("\nsysHyper bench (QEMU TCG; ratios are medians over native, same run)")
    print(f"{'workload':<22} {'unit':<6} {'min':>10} {'median':>10} {'max':>10}  ratio")
    if "native" in phases and "hv" in phases:
        print_io_table(results)
    if "fair" in phases:
        print_fairness(results)


def print_io_table(results):
    for name, _, metric in JOBS:
        unit = "MB/s" if metric.endswith("bw") else "IOPS"
        base = results[("native", name)]
        print(row(f"{name} native", unit, base))
        print(row(f"{name} MVM", unit, results[("mvm", name)], base))
        print(row(f"{name} GVM", unit, results[("gvm1", name)], base))
    base = results[("net", "native->outside")]
    print(row("iperf3 native->outside", "Mbit/s", base))
    for path in ("GVM->outside", "GVM->GVM", "GVM->MVM"):
        print(row(f"iperf3 {path}", "Mbit/s", results[("net", path)], base))
    base = results[("ping", "native->outside")]
    print(row("ping native->outside", "ms", base))
    for path in ("GVM->outside", "GVM->GVM"):
        print(row(f"ping {path}", "ms", results[("ping", path)], base))
    print(row("boot native", "s", results[("boot", "native")]))
    print(row("boot MVM (under hv)", "s", results[("boot", "mvm")], results[("boot", "native")]))
    print(f"GVM traps per request:          {results[('per-request', 'gvm1 traps')][0]:.2f}")
    print(f"MVM interrupts per request:     {results[('per-request', 'MVM interrupts')][0]:.2f}")


if __name__ == "__main__":
    main()
