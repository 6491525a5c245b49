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
from vmshell import (BOOT_TIMEOUT, BUILD, ESC, ROOT, bg, disk_sha, focus,  # noqa: E402
                     http_files, run_in, vm_line, wait_bg)
from test_hostile import hostile_guest_scenario  # noqa: E402
from test_conform import ALL as conform_scenarios  # noqa: E402
from test_layout import ALL as layout_scenarios  # noqa: E402
from test_lifecycle import ALL as lifecycle_scenarios  # noqa: E402


def boot(gic, name):
    cmd = [os.path.join(ROOT, "scripts", "qemu.sh"), str(gic)]
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


def boot_all(gic, name):
    con = boot(gic, name)
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
           two_gvms_and_errors_scenario, daemon_killed_scenario, network_scenario,
           hostile_guest_scenario] + conform_scenarios + layout_scenarios + lifecycle_scenarios + \
        [script_scenario]
    chosen = [s for s in ALL if not sys.argv[1:] or s.__name__ in sys.argv[1:]]
    sys.exit(harness.main(chosen))
