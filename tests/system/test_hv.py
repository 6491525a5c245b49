#!/usr/bin/env python3
"""System tests: boot sysHyper with its VMs in QEMU (GICv3 and GICv2) and
drive the guests' shells through the console multiplexer.

Each scenario asserts on what the guests print. A failure prints the end of
the console log; the suite ends with 'N passed, N failed'."""
import hashlib
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from vmshell import (BOOT_TIMEOUT, BUILD, ESC, ROOT, bg, disk_sha, expect_after,  # noqa: E402
                     focus, http_files, mark, run_in, vm_line, wait_bg)
from test_hostile import hostile_guest_scenario  # noqa: E402
from test_conform import ALL as conform_scenarios  # noqa: E402
from test_layout import ALL as layout_scenarios  # noqa: E402
from test_lifecycle import ALL as lifecycle_scenarios  # noqa: E402


def boot(gic, name, qemu_args=()):
    cmd = [os.path.join(ROOT, "scripts", "qemu.sh"), str(gic), *qemu_args]
    log = os.path.join(BUILD, "logs", f"{name}-gicv{gic}.log")
    con = harness.track(harness.Console(cmd, log, cwd=ROOT))
    con.expect(r"^\[mvm\] syshyper: mvm user space ready", BOOT_TIMEOUT)
    return con


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
    out, rc = con.run("nproc", 30, vm="mvm")
    assert rc == 0 and out.strip() == "2", f"nproc printed {out!r}"
    out, rc = con.run("dd if=/dev/vda bs=1M count=16 2>/dev/null | sha256sum", 120, vm="mvm")
    assert rc == 0 and out.split()[0] == disk_sha(), f"disk checksum {out!r}"
    out, rc = con.run("cat /sys/class/net/eth0/address", 30, vm="mvm")
    assert rc == 0 and re.search(r"([0-9a-f]{2}:){5}", out), f"eth0: {out!r}"
    out, rc = con.run("a=$(date +%s); sleep 2; b=$(date +%s); echo $((b-a))", 60, vm="mvm")
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


MIB = 1 << 20
GVM_DISK_OFFSET = {"gvm1": 256, "gvm2": 768}  # MiB into the MVM's /dev/vda (disks.conf)
GVM_DISK_MIB = {"gvm1": 512, "gvm2": 256}  # configs/qemu-virt.cfg
# where raw writes may start on each GVM's disk, MiB: gvm1's first 256 MiB
# hold its ext4 file system (scripts/mkdisk.sh)
RAW_MIB = {"gvm1": 256, "gvm2": 0}


def boot_all(gic, name, qemu_args=()):
    con = boot(gic, name, qemu_args)
    for vm in ("gvm1", "gvm2"):
        con.expect(rf"^\[{vm}\] syshyper: gvm user space ready", BOOT_TIMEOUT, anywhere=True)
    return con


def mediated_disk_scenario():
    """A GVM writes 64 MiB through the MVM and reads it back; the MVM's
    backing store and the host's disk image hold the same bytes."""
    con = boot_all(3, "mediated-disk")
    out, rc = run_in(con, "gvm1", "cat /sys/block/vda/size")
    assert rc == 0 and out.strip() == str(GVM_DISK_MIB["gvm1"] * MIB // 512), f"capacity {out!r}"
    raw = RAW_MIB["gvm1"]
    start = time.monotonic()
    out, rc = run_in(con, "gvm1", "dd if=/dev/urandom of=/tmp/pat bs=1M count=64 2>/dev/null && "
                     f"dd if=/tmp/pat of=/dev/vda bs=1M seek={raw} 2>/dev/null && sync && "
                     "echo 3 > /proc/sys/vm/drop_caches && sha256sum /tmp/pat && "
                     f"dd if=/dev/vda bs=1M skip={raw} count=64 2>/dev/null | sha256sum", 900)
    assert rc == 0, f"write/read failed: {out!r}"
    sums = re.findall(r"^([0-9a-f]{64})", out, re.M)
    assert len(sums) == 2 and sums[0] == sums[1], f"read back differs: {out!r}"
    harness.note(f"gvm1: 64 MiB written and read back in {time.monotonic() - start:.1f} s")
    off = GVM_DISK_OFFSET["gvm1"] + raw
    out, rc = run_in(con, "mvm", f"dd if=/dev/vda bs=1M skip={off} count=64 2>/dev/null "
                     "| sha256sum", 300)
    assert rc == 0 and out.split()[0] == sums[0], f"MVM backing store differs: {out!r}"
    con.send_line("poweroff -f")
    assert con.wait_exit(60) == 0
    with open(os.path.join(BUILD, "disk.img"), "rb") as f:
        f.seek(off * MIB)
        host = hashlib.sha256(f.read(64 * MIB)).hexdigest()
    assert host == sums[0], "the host's disk image does not hold what the GVM wrote"


def big_direct_writes_scenario():
    """1 MiB direct writes at queue depth 16 through the mediated path (fio,
    libaio, four jobs on their own 16 MiB each), verified by checksum in the
    GVM (fio's own verify, then the whole region read back uncached), in the
    MVM's backing store and in the host's disk image. The GVM's driver takes
    the device's limits for 1 MiB requests (256 segments of a page) and
    sends its writes whole: 1 MiB per request on average."""
    con = boot_all(3, "big-writes")
    raw = RAW_MIB["gvm1"] + 64  # past mediated_disk's region
    out, rc = run_in(con, "gvm1", "q=/sys/block/vda/queue; cat $q/max_segments "
                     "$q/max_segment_size $q/max_hw_sectors_kb")
    limits = out.split()
    assert rc == 0 and limits[:2] == ["256", "4096"] and int(limits[2]) >= 1024, \
        f"the driver cannot send 1 MiB requests: {out!r}"
    out, rc = run_in(con, "gvm1", f"s0=$(cat /sys/block/vda/stat) && "
                     f"fio --name=big --filename=/dev/vda --offset={raw}M --size=16M "
                     "--offset_increment=16M --numjobs=4 --rw=write --bs=1M --iodepth=16 "
                     "--direct=1 --ioengine=libaio --verify=sha256 --do_verify=0 "
                     "--group_reporting --output-format=terse --terse-version=3 >/dev/null && "
                     "s1=$(cat /sys/block/vda/stat) && echo \"stat $s0 / $s1\" && "
                     f"fio --name=big --filename=/dev/vda --offset={raw}M --size=16M "
                     "--offset_increment=16M --numjobs=4 --rw=read --bs=1M --iodepth=16 "
                     "--direct=1 --ioengine=libaio --verify=sha256 --verify_only "
                     "--output-format=terse --terse-version=3 >/dev/null && "
                     f"dd if=/dev/vda bs=1M skip={raw} count=64 iflag=direct "
                     "2>/dev/null | sha256sum", 900)
    assert rc == 0, f"fio write/verify failed: {out!r}"
    m = re.search(r"^stat ([\d ]+) / ([\d ]+)$", out, re.M)
    assert m, f"no disk statistics: {out!r}"
    before, after = ([int(x) for x in g.split()] for g in m.groups())
    ios, sectors = after[4] - before[4], after[6] - before[6]  # write I/Os, sectors
    assert ios and sectors == 64 * MIB // 512, f"{sectors} sectors written in {ios} requests"
    assert sectors / ios >= 0.9 * MIB / 512, f"writes of {sectors / ios * 512 / 1024:.0f} KiB on average"
    harness.note(f"gvm1: 64 MiB written in {ios} requests of 1 MiB by 4 fio jobs at QD16")
    want = re.findall(r"^([0-9a-f]{64})", out, re.M)
    assert want, f"no checksum: {out!r}"
    off = GVM_DISK_OFFSET["gvm1"] + raw
    out, rc = run_in(con, "mvm", f"dd if=/dev/vda bs=1M skip={off} count=64 iflag=direct "
                     "2>/dev/null | sha256sum", 300)
    assert rc == 0 and out.split()[0] == want[0], f"MVM backing store differs: {out!r}"
    con.send_line("poweroff -f")
    assert con.wait_exit(60) == 0
    with open(os.path.join(BUILD, "disk.img"), "rb") as f:
        f.seek(off * MIB)
        host = hashlib.sha256(f.read(64 * MIB)).hexdigest()
    assert host == want[0], "the host's disk image does not hold what the GVM wrote"


def two_gvms_and_errors_scenario():
    """Both GVMs write their own disks at once and verify; a read-only disk
    refuses writes with an I/O error; reads past the end fail cleanly."""
    con = boot_all(2, "two-gvms")
    job = ("dd if=/dev/urandom of=/tmp/p bs=1M count=16 2>/dev/null && "
           "dd if=/tmp/p of=/dev/vda bs=1M seek={raw} 2>/dev/null && sync && "
           "echo 3 > /proc/sys/vm/drop_caches && "
           "[ \"$(sha256sum < /tmp/p)\" = \"$(dd if=/dev/vda bs=1M skip={raw} count=16 2>/dev/null | sha256sum)\" ]"
           " && echo verified")
    for vm in ("gvm1", "gvm2"):
        out, rc = run_in(con, vm, bg(job.format(raw=RAW_MIB[vm]), "w"))
        assert rc == 0, f"{vm}: could not start the writer: {out!r}"
    for vm in ("gvm1", "gvm2"):
        out, rc = wait_bg(con, vm, "w", 600)
        assert rc == 0 and "verified" in out, f"{vm}: concurrent write/verify failed: {out!r}"
    # read-only disk (gvm2's vdb, served by the hypervisor's driver)
    out, rc = run_in(con, "gvm2", "cat /sys/block/vdb/ro; blockdev --setrw /dev/vdb; "
                     "dd if=/dev/zero of=/dev/vdb bs=4k count=1 oflag=direct")
    assert out.split("\n")[0].strip() == "1", f"vdb not read-only: {out!r}"
    assert rc != 0 and re.search(r"I/O error|Input/output error|Operation not permitted|"
                                 r"Read-only|Permission denied", out), f"write to a read-only disk: {out!r}"
    # past the end: the guest is told, nothing hangs
    end = GVM_DISK_MIB["gvm1"] * MIB // 512
    out, rc = run_in(con, "gvm1", f"dd if=/dev/vda of=/dev/null bs=512 skip={end} count=8 "
                     f"2>&1; dd if=/dev/vda of=/dev/null bs=512 skip={end - 1} count=1 2>&1")
    assert "0+0 records in" in out and "1+0 records in" in out, f"read past the end: {out!r}"
    out, rc = run_in(con, "gvm2", "head -c 512 /dev/vdb | wc -c")
    assert rc == 0 and out.strip() == "512", f"hypervisor-served disk unreadable: {out!r}"


def daemon_killed_scenario():
    """The MVM's daemon is killed while a GVM writes; the hypervisor stays up,
    a restarted daemon gets the requests in flight again, and every byte the
    guest was told is written reaches the backing store."""
    con = boot_all(3, "daemon-kill")
    out, rc = run_in(con, "gvm1", "dd if=/dev/urandom of=/tmp/p bs=1M count=32 2>/dev/null; "
                     + bg(f"dd if=/tmp/p of=/dev/vda bs=64k seek={RAW_MIB['gvm1'] * 16} oflag=direct 2>&1", "w"))
    assert rc == 0, out
    out, rc = run_in(con, "mvm", "killall syshyperd; sleep 2; pidof syshyperd || echo no-daemon")
    assert "no-daemon" in out, f"daemon still running: {out!r}"
    out, rc = run_in(con, "gvm1", "[ ! -e /tmp/w.rc ] && echo still-writing")
    assert "still-writing" in out, "the writer finished before the daemon was killed"
    out, rc = run_in(con, "mvm", "syshyperd /etc/syshyper/disks.conf > /tmp/d.log 2>&1 & "
                     "sleep 1; echo restarted")
    out, rc = wait_bg(con, "gvm1", "w", 600)
    assert rc == 0, f"write after the daemon restart failed: {out!r}"
    out, rc = run_in(con, "gvm1", "sha256sum < /tmp/p; sync")
    want = out.split()[0]
    skip = GVM_DISK_OFFSET["gvm1"] + RAW_MIB["gvm1"]
    out, rc = run_in(con, "mvm", f"dd if=/dev/vda bs=1M skip={skip} "
                     "count=32 2>/dev/null | sha256sum", 300)
    assert out.split()[0] == want, "the backing store lacks data the guest was told is written"


# gvm1's writers in ring_corrupt_scenario: name -> (MiB into its disk, MiB, dd's block size)
RING_DD_WRITERS = {"w1": (384, 8, MIB), "w2": (392, 8, 256 << 10), "w3": (400, 8, 64 << 10)}
RING_FIO = (416, 16)  # MiB into gvm1's disk, MiB: fio's 32 KiB random writes at QD16
RING_GVM2 = ("w", 64, 8, 128 << 10)  # gvm2's writer
RING_CORRUPTIONS = ["cons", "tag", "prod"] * 3  # ringcorrupt's modes, in this order
RING_IN_FLIGHT = 8  # ringcorrupt waits for the daemon to have this many requests in flight
RING_LOG = "/tmp/syshyperd.log"  # the daemon's log (linux/init)
# The MVM's disk (QEMU's drive disk31, configs/qemu-virt.cfg) is throttled to
# this many I/Os a second: QEMU completes them one by one, as a real disk
# would, instead of every request in flight at once, so the daemon finds
# the ring corrupt while some of its I/O is still in flight (its drain has
# work) and not only once all of it completed.
RING_DISK_IOPS = 400


def looping_writer(name, at_mib, mib, bs):
    """Shell: writes /tmp/a<name> and /tmp/b<name> in turn, direct, to the
    disk at at_mib MiB until /tmp/stop exists (twice at least); prints its
    passes and the checksum of the pattern it wrote last. Two patterns: a
    write done late or twice (a stale copy from before a resync) leaves
    the other one's bytes behind."""
    return (f"n=0; p=b; while [ $n -lt 2 ] || [ ! -e /tmp/stop ]; do "
            "if [ $p = a ]; then p=b; else p=a; fi; "
            f"dd if=/tmp/${{p}}{name} of=/dev/vda bs={bs} seek={at_mib * MIB // bs} oflag=direct "
            f"2>/tmp/{name}.dd || {{ cat /tmp/{name}.dd; exit 1; }}; n=$((n+1)); done; "
            f"echo \"{name}: $n passes, last $p $(sha256sum < /tmp/${{p}}{name})\"")


def looping_fio(at_mib, mib):
    """Shell: fio's random 32 KiB direct writes at queue depth 16 over
    [at_mib, at_mib + mib) MiB, every block once a pass, the bytes 0x55 and
    0xaa in turn, until /tmp/stop exists (twice at least); then fio checks
    the last pattern and the region's checksum is printed with the
    pattern's."""
    job = (f"fio --name=qd --filename=/dev/vda --offset={at_mib}M --size={mib}M --bs=32k "
           "--iodepth=16 --direct=1 --ioengine=libaio --rw=randwrite --verify=pattern "
           "--verify_pattern=$v --output-format=terse --terse-version=3")
    return ("n=0; v=0xaa; while [ $n -lt 2 ] || [ ! -e /tmp/stop ]; do "
            "if [ $v = 0x55 ]; then v=0xaa; o=252; else v=0x55; o=125; fi; "
            f"{job} --do_verify=0 >/tmp/qd.fio 2>&1 || {{ cat /tmp/qd.fio; exit 1; }}; "
            "n=$((n+1)); done; "
            f"{job} --verify_only >/tmp/qd.fio 2>&1 || {{ echo verify failed; cat /tmp/qd.fio; exit 1; }}; "
            f"want=$(dd if=/dev/zero bs=1M count={mib} 2>/dev/null | tr '\\000' \"\\\\$o\" | sha256sum); "
            f"got=$(dd if=/dev/vda bs=1M skip={at_mib} count={mib} iflag=direct 2>/dev/null | sha256sum); "
            "echo \"qd: $n passes, last $v $want / $got\"")


def corrupt_ring(modes, in_flight, tries=40):
    """Shell for the MVM: per mode, ringcorrupt (once the daemon has
    in_flight requests in flight, if that comes within 2 s) until the
    daemon logs that it found the ring corrupt (a change can be lost to a
    race with the daemon or the hypervisor writing the same place), half a
    second apart; fails if one never gets through. Prints per mode the
    tries and what ringcorrupt saw last."""
    return (f"c() {{ grep -c 'request ring corrupt' {RING_LOG}; }}; "
            f"for m in {' '.join(modes)}; do n0=$(c); t=0; "
            "while [ $(c) -eq $n0 ]; do "
            f"[ $t -lt {tries} ] || {{ echo \"$m: no resync after $t tries\"; exit 1; }}; "
            f"r=$(ringcorrupt -f {in_flight} $m); t=$((t+1)); usleep 500000; done; "
            "echo \"$m: resync after $t: $r\"; usleep 500000; done; echo \"resyncs $(c)\"")


def ring_corrupt_scenario():
    """The MVM's request ring is corrupted from MVM user space (ringcorrupt:
    the daemon's index, the hypervisor's published one, tags naming no
    slot) nine times while both GVMs write verified data, direct, at queue
    depth up to 19 on gvm1. The daemon finds the ring corrupt, waits for
    its I/O in flight, resyncs (the hypervisor queues every request still
    at the MVM again, with new tags) and serves on: no GVM sees an I/O
    error or a hang, the hypervisor refuses no completion (a stale one
    would be an I/O done twice at once, which is what the drain prevents),
    and every region holds the bytes of its writer's last pass, in the GVM
    and in the MVM's backing store."""
    con = boot_all(3, "ring-corrupt",
                   ["-set", f"drive.disk31.throttling.iops-total={RING_DISK_IOPS}"])
    start = mark(con)
    out, rc = run_in(con, "mvm", "pidof syshyperd")
    assert rc == 0 and out.strip(), f"no daemon: {out!r}"
    daemon = out.strip()
    pats = " ".join(f"dd if=/dev/urandom of=/tmp/{p}{w} bs=1M count={mib} 2>/dev/null;"
                    for w, (_, mib, _) in RING_DD_WRITERS.items() for p in "ab")
    out, rc = run_in(con, "gvm1", f"rm -f /tmp/stop; {pats} echo ok", 300)
    assert rc == 0 and "ok" in out, out
    for w, (at, mib, bs) in RING_DD_WRITERS.items():
        out, rc = run_in(con, "gvm1", bg(looping_writer(w, at, mib, bs), w))
        assert rc == 0, out
    out, rc = run_in(con, "gvm1", bg(looping_fio(*RING_FIO), "qd"))
    assert rc == 0, out
    g2, g2_at, g2_mib, g2_bs = RING_GVM2
    out, rc = run_in(con, "gvm2", f"rm -f /tmp/stop; for p in a b; do dd if=/dev/urandom "
                     f"of=/tmp/${{p}}{g2} bs=1M count={g2_mib} 2>/dev/null; done; "
                     + bg(looping_writer(g2, g2_at, g2_mib, g2_bs), g2), 120)
    assert rc == 0, out

    started = time.monotonic()
    out, rc = run_in(con, "mvm", corrupt_ring(RING_CORRUPTIONS, RING_IN_FLIGHT),
                     60 * len(RING_CORRUPTIONS))
    assert rc == 0, ("the daemon did not find the ring corrupt (it looks at the ring when "
                     f"I/O comes: did the GVMs' I/O stall?): {out!r}")
    seen = re.findall(r"^(\w+): resync after (\d+): .*, (\d+) in flight", out, re.M)
    harness.note(f"ring corrupted {len(seen)} times under load in "
                 f"{time.monotonic() - started:.0f} s (mode/tries/requests in flight: "
                 + " ".join("/".join(x) for x in seen) + ")")
    resyncs = int(re.search(r"^resyncs (\d+)$", out, re.M).group(1))
    assert resyncs >= len(RING_CORRUPTIONS), out

    # the writers were still at it (they stop only when told), then stop
    writers = list(RING_DD_WRITERS) + ["qd"]
    out, rc = run_in(con, "gvm1", "for w in " + " ".join(writers) + "; do [ ! -e /tmp/$w.rc ] "
                     "|| echo \"$w ended early: $(cat /tmp/$w.log)\"; done; touch /tmp/stop")
    assert rc == 0 and "ended early" not in out, f"a writer stopped during the corruptions: {out!r}"
    out, rc = run_in(con, "gvm2", f"[ ! -e /tmp/{g2}.rc ] || echo ended early; touch /tmp/stop")
    assert rc == 0 and "ended early" not in out, f"gvm2's writer stopped early: {out!r}"

    regions = []  # (vm, MiB into its disk, MiB, checksum it must have)
    for w, (at, mib, _) in RING_DD_WRITERS.items():
        out, rc = wait_bg(con, "gvm1", w, 300)
        m = re.search(rf"^{w}: (\d+) passes, last \w ([0-9a-f]{{64}})", out, re.M)
        assert rc == 0 and m, f"gvm1's {w} failed: {out!r}"
        regions.append(("gvm1", at, mib, m.group(2)))
    out, rc = wait_bg(con, "gvm1", "qd", 300)
    m = re.search(r"^qd: (\d+) passes, last 0x\w+ ([0-9a-f]{64})\s+-\s*/\s*([0-9a-f]{64})", out, re.M)
    assert rc == 0 and m, f"gvm1's fio writer failed: {out!r}"
    assert m.group(2) == m.group(3), f"gvm1's fio region does not hold its last pattern: {out!r}"
    regions.append(("gvm1", RING_FIO[0], RING_FIO[1], m.group(2)))
    out, rc = wait_bg(con, "gvm2", g2, 300)
    m = re.search(rf"^{g2}: (\d+) passes, last \w ([0-9a-f]{{64}})", out, re.M)
    assert rc == 0 and m, f"gvm2's writer failed: {out!r}"
    regions.append(("gvm2", g2_at, g2_mib, m.group(2)))

    for vm, at, mib, want in regions:  # the GVM's view, uncached
        if (vm, at) == ("gvm1", RING_FIO[0]):
            continue  # compared in the GVM above
        out, rc = run_in(con, vm, f"dd if=/dev/vda bs=1M skip={at} count={mib} iflag=direct "
                         "2>/dev/null | sha256sum", 300)
        assert rc == 0 and out.split()[0] == want, f"{vm} reads at {at} MiB not what it wrote last"
    for vm, at, mib, want in regions:  # the MVM's backing store
        off = GVM_DISK_OFFSET[vm] + at
        out, rc = run_in(con, "mvm", f"dd if=/dev/vda bs=1M skip={off} count={mib} iflag=direct "
                         "2>/dev/null | sha256sum", 300)
        assert rc == 0 and out.split()[0] == want, \
            f"the backing store lacks {vm}'s last write at {at} MiB: {out!r}"

    for vm in ("gvm1", "gvm2"):
        out, rc = run_in(con, vm, "dmesg | grep -ci 'i/o error'")
        assert out.strip() == "0", f"{vm} saw I/O errors: {out!r}"
    out, rc = run_in(con, "gvm2", "head -c 65536 /dev/vdb | wc -c")
    assert rc == 0 and out.strip() == "65536", f"gvm2's hypervisor-served disk: {out!r}"
    out, rc = run_in(con, "mvm", "pidof syshyperd")
    assert out.split() == [daemon], f"the daemon died or was restarted: {out!r}"
    expect_after(con, start, r"mediated: daemon resync, \d+ request\(s\) queued again", 10)
    # the hypervisor refused no completion: after the drain none is stale
    at = mark(con)
    con.send(ESC + "s")
    expect_after(con, at, r"^\[hv\] mediated: kicks \d+", 30)
    expect_after(con, at, r"^\[hv\] mediated stage total:", 30)
    refused = re.search(r"completions refused \(bad tag, slot or ring index\) (\d+)",
                        con.buf[at:])
    assert not refused, f"the hypervisor refused {refused.group(1)} completion(s): a stale I/O"
    con.send_line("poweroff -f")
    assert con.wait_exit(60) == 0


def network_scenario():
    """GVMs talk through the hypervisor's switch, and to the outside through
    the MVM's bridge: pings, a 16 MiB TCP transfer between the GVMs, a file
    fetched from a server on the host's loopback (QEMU's 10.0.2.2), a DHCP
    lease from QEMU's network; and a GVM's hvc0 reaches the console."""
    blob = os.urandom(4 << 20)
    with http_files({"blob": blob}) as port:
        con = boot_all(3, "network")
        out, rc = run_in(con, "gvm1", "ping -c 3 10.0.2.22 && ping -c 3 10.0.2.15")
        assert rc == 0 and "3 packets received" in out, f"ping GVM2/MVM: {out!r}"
        out, rc = run_in(con, "gvm2", "mkdir -p /tmp/www && dd if=/dev/urandom "
                         "of=/tmp/www/f bs=1M count=16 2>/dev/null && sha256sum < /tmp/www/f "
                         "&& httpd -p 8080 -h /tmp/www")
        assert rc == 0, out
        want = out.split()[0]
        start = time.monotonic()
        out, rc = run_in(con, "gvm1", "wget -q -O /tmp/f http://10.0.2.22:8080/f && "
                         "sha256sum < /tmp/f", 600)
        assert rc == 0 and out.split()[0] == want, f"16 MiB GVM1->GVM2 over TCP: {out!r}"
        harness.note(f"16 MiB over TCP GVM2 -> GVM1 in {time.monotonic() - start:.1f} s")
        out, rc = run_in(con, "gvm1", f"wget -q -O /tmp/blob http://10.0.2.2:{port}/blob && "
                         "sha256sum < /tmp/blob", 300)
        assert rc == 0 and out.split()[0] == hashlib.sha256(blob).hexdigest(), \
            f"file from the host through the MVM's bridge: {out!r}"
        # gvm2 floods broadcast frames; gvm1 and the MVM keep exchanging data
        out, rc = run_in(con, "gvm2", bg("ethflood eth0 25", "flood"))
        assert rc == 0, out
        out, rc = run_in(con, "gvm1", "sleep 2; ping -c 5 10.0.2.15 && wget -q -O /tmp/b2 "
                         f"http://10.0.2.2:{port}/blob && sha256sum < /tmp/b2", 300)
        assert rc == 0 and "5 packets received" in out and \
            hashlib.sha256(blob).hexdigest() in out, f"traffic during a broadcast flood: {out!r}"
        out, rc = wait_bg(con, "gvm2", "flood", 120)
        m = re.search(r"ethflood: (\d+) frames", out)
        assert rc == 0 and m and int(m.group(1)) > 1000, f"the flood did not happen: {out!r}"
        harness.note(f"broadcast flood of {m.group(1)} frames while GVM1 and the MVM talked")
        out, rc = run_in(con, "gvm2", "udhcpc -i eth0 -n -q -t 5 -s /bin/true 2>&1")
        assert rc == 0 and re.search(r"lease of 10\.0\.2\.\d+ obtained", out), \
            f"DHCP through the MVM's bridge: {out!r}"
        run_in(con, "gvm1", "echo \"hvc0-\"\"works\" > /dev/hvc0")
        con.expect(vm_line("gvm1", "hvc0-works"), 30, anywhere=True)
        con.send(ESC + "c")  # gvm1's input to its hvc0, where a second shell runs
        con.expect(r"^\[hv\] console input of gvm1 now goes to hvc0$", 10)
        out, rc = con.run("tty", 30, vm="gvm1")
        assert rc == 0 and out.strip() == "/dev/hvc0", f"input through hvc0: {out!r}"
        con.send(ESC + "c")
        con.expect(r"^\[hv\] console input of gvm1 now goes to its PL011", 10)
        focus(con, "mvm")
        con.send(ESC + "s")
        con.expect(r"^\[hv\] gvm1/net port 1: tx [1-9]\d* frames", 30)


def script_scenario():
    """make run SCRIPT=...: the script runs in GVM 1 and its status reaches the
    caller (make itself can only exit 0 or 2: it reports 'Error 7')."""
    script = os.path.join(BUILD, "test-script.sh")
    with open(script, "w") as f:
        f.write("#!/bin/sh\necho \"hello from $(hostname) with $(nproc) cpu\"\n"
                "test -b /dev/vda && echo disk-ok\nexit 7\n")
    log = os.path.join(BUILD, "logs", "script.log")
    with open(log, "w") as out:
        try:
            status = subprocess.call(["make", "-s", "run", f"SCRIPT={script}"], cwd=ROOT,
                                     stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, timeout=900)
        finally:  # gvm1's image without the script again: the next run boots it
            subprocess.call(["make", "-s", "qemu-deps"], cwd=ROOT, stdout=out,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=900)
    text = open(log).read()
    assert status != 0 and "exited with status 7" in text and "Error 7" in text, \
        f"make run exited {status}, the script's status 7 was expected:\n{text[-3000:]}"
    assert "[gvm1] disk-ok" in text and "[gvm1] hello from" in text, text[-3000:]


if __name__ == "__main__":
    # script_scenario last: it rebuilds gvm1's image with the script in it
    # and then without it (a scenario booting gvm1 meanwhile would run it)
    ALL = [mvm_scenario(3), mvm_scenario(2), mediated_disk_scenario, big_direct_writes_scenario,
           two_gvms_and_errors_scenario, daemon_killed_scenario, ring_corrupt_scenario,
           network_scenario,
           hostile_guest_scenario] + conform_scenarios + layout_scenarios + lifecycle_scenarios + \
        [script_scenario]
    chosen = [s for s in ALL if not sys.argv[1:] or s.__name__ in sys.argv[1:]]
    sys.exit(harness.main(chosen))
