#!/usr/bin/env python3
"""System scenarios of issue 9: GVMs started, stopped, rebooted and reloaded
at run time from the MVM (`syshyper` in the MVM, its supervisor, its init).

  lifecycle_ext4_reboot      gvm1 writes files on the ext4 file system of its
                             disk, types `reboot`, comes back by itself (the
                             MVM's supervisor reloads it) and finds them; then
                             `syshyper reboot gvm1` is timed
  lifecycle_stop_under_load  `syshyper stop gvm2` while gvm2 loads its disk and
                             the network; gvm1's transfers go on verified;
                             `syshyper start gvm2` brings it back working
  lifecycle_cycles           20 stop/start cycles of gvm2 (graceful stops of a
                             booted guest, kills in the middle of its boot);
                             the hypervisor's counters are the same after
  lifecycle_panic            a kernel panic in gvm2 brings it back by itself
                             (its kernel's panic= reset), restarts 1 in list
  lifecycle_fresh_memory     what gvm2 left in its RAM is found there (the
                             check works), and not by its next instance
  lifecycle_cli_errors       every error of the CLI: exit status and one line
  lifecycle_mvm_poweroff     `poweroff` typed in the MVM powers the GVMs off
                             and ends QEMU with status 0
  lifecycle_mvm_reboot       `reboot` typed in the MVM powers the GVMs off and
                             restarts the board (QEMU_RESTART=1): the
                             hypervisor, the MVM and the GVMs come back

    python3 tests/system/test_lifecycle.py [names]   (make test: from test_hv.py)
"""
import hashlib
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from vmshell import (BOOT_TIMEOUT, BUILD, ESC, ROOT, bg, expect_after, focus,  # noqa: E402
                     http_files, mark, run_in, vm_line, wait_bg)

CYCLES = int(os.environ.get("LIFECYCLE_CYCLES", "20"))
MIB = 1 << 20
GVM1_RAW_MIB = 256  # gvm1's disk: ext4 in its first 256 MiB, raw space after
# The exit statuses of syshyper (mvm/cli/cli.h).
EX_USAGE, EX_NOVM, EX_STATE, EX_IMAGE, EX_NOT_MVM = 2, 3, 4, 5, 6


# ---------------------------------------------------------------- console helpers
def ready_line(vm):
    return rf"^\[{vm}\] syshyper: (gvm|mvm) user space ready$"


def boot(name, gvms=("gvm1", "gvm2"), gic=3, env=None):
    cmd = [os.path.join(ROOT, "scripts", "qemu.sh"), str(gic)]
    log = os.path.join(BUILD, "logs", f"{name}-gicv{gic}.log")
    con = harness.track(harness.Console(cmd, log, cwd=ROOT, env=env))
    con.expect(ready_line("mvm"), BOOT_TIMEOUT)
    for vm in gvms:
        con.expect(ready_line(vm), BOOT_TIMEOUT, anywhere=True)
    return con


def mvm(con, cmd, timeout=120):
    return run_in(con, "mvm", cmd, timeout)


def vm_list(con):
    """`syshyper list` as {name: {state, uptime, restarts, note}}."""
    out, rc = mvm(con, "syshyper list")
    assert rc == 0, f"syshyper list: {out!r}"
    vms = {}
    for line in out.split("\n")[1:]:
        f = line.split(None, 7)
        if len(f) >= 7:
            vms[f[1]] = {"state": f[2], "uptime": float(f[5]), "restarts": int(f[6]),
                         "note": f[7] if len(f) > 7 else ""}
    return vms


def hv_counters(con):
    """The hypervisor's resource counters from its statistics print (Ctrl-] s):
    the 'hypervisor: NAME N, ...' line (free pages) and any count of mediated
    slots or requests in flight."""
    start = mark(con)
    con.send(ESC + "s")
    expect_after(con, start, r"^\[hv\] hypervisor: free pages \d+", 30)
    expect_after(con, start, r"^\[hv\] mediated: kicks", 30)
    with con.cond:
        text = con.buf[start:]
    counters = {}
    for line in text.split("\n"):
        m = re.match(r"^\[hv\] (hypervisor|mediated): (.*)$", line)
        if not m or (m.group(1) == "mediated" and not re.search(r"slot|in flight", line)):
            continue
        for k, v in re.findall(r"([a-z][\w -]*?) (\d+)", m.group(2)):
            counters[f"{m.group(1)} {k.strip()}"] = int(v)
    assert counters, f"no hypervisor counters in: {text[-2000:]!r}"
    return counters


# ---------------------------------------------------------------- scenarios
def lifecycle_ext4_reboot():
    con = boot("life-ext4")
    out, rc = run_in(con, "gvm1", "mkdir -p /mnt && mount -t ext4 /dev/vda /mnt && "
                     "dd if=/dev/urandom of=/mnt/data bs=1M count=8 2>/dev/null && "
                     "echo \"written by $(hostname) before its reboot\" > /mnt/note && "
                     "sha256sum /mnt/data /mnt/note > /mnt/sums && cat /mnt/sums", 300)
    assert rc == 0 and len(re.findall(r"^[0-9a-f]{64} ", out, re.M)) == 2, \
        f"gvm1 could not write files on ext4: {out!r}"
    sums = out
    start = mark(con)
    con.send_line("reboot")  # typed as a user would, in gvm1's shell
    expect_after(con, start, vm_line("gvm1", "init: reboot"), 60)
    expect_after(con, start, ready_line("gvm1"), BOOT_TIMEOUT)
    out, rc = run_in(con, "gvm1", "mkdir -p /mnt && mount -t ext4 /dev/vda /mnt && sha256sum -c /mnt/sums "
                     "&& cat /mnt/note && cat /mnt/sums", 300)
    assert rc == 0 and "before its reboot" in out and sums in out, \
        f"gvm1's files after its reboot: {out!r}"
    vms = vm_list(con)
    assert vms["gvm1"]["state"] == "running" and vms["gvm1"]["restarts"] == 1, \
        f"gvm1 in syshyper list after its reboot: {vms['gvm1']}"
    out, rc = mvm(con, "cat /tmp/supervise.log")
    assert "gvm1 asked for a restart" in out, f"the supervisor's log: {out!r}"
    # syshyper reboot gvm1, from the command to the guest's shell
    run_in(con, "gvm1", "umount /mnt")
    focus(con, "mvm")
    start = mark(con)
    t0 = time.monotonic()
    con.send_line("syshyper reboot gvm1")
    expect_after(con, start, ready_line("gvm1"), BOOT_TIMEOUT)
    took = time.monotonic() - t0
    harness.note(f"syshyper reboot gvm1: {took:.1f} s from the command to gvm1's shell")
    out, rc = run_in(con, "gvm1", "mkdir -p /mnt && mount -t ext4 /dev/vda /mnt && sha256sum -c /mnt/sums", 300)
    assert rc == 0, f"gvm1's files after syshyper reboot: {out!r}"
    assert vm_list(con)["gvm1"]["restarts"] == 2


def lifecycle_stop_under_load():
    blob = os.urandom(4 << 20)
    want = hashlib.sha256(blob).hexdigest()
    with http_files({"lifeblob": blob}) as port:
        con = boot("life-stop-load")
        # gvm2: its disk written and a broadcast flood, until it is stopped
        out, rc = run_in(con, "gvm2", bg("while true; do dd if=/dev/urandom of=/dev/vda bs=64k "
                                         "count=256 oflag=direct 2>/dev/null; done", "disk")
                         + "; " + bg("ethflood eth0 600", "flood"))
        assert rc == 0, out
        # gvm1: rounds of a verified disk write and a verified download
        job = (f"for i in 1 2 3 4 5 6; do dd if=/dev/urandom of=/tmp/p bs=1M count=16 2>/dev/null"
               f" && dd if=/tmp/p of=/dev/vda bs=1M seek={GVM1_RAW_MIB} oflag=direct 2>/dev/null"
               f" && echo 1 > /proc/sys/vm/drop_caches"
               f" && [ \"$(sha256sum < /tmp/p)\" = \"$(dd if=/dev/vda bs=1M skip={GVM1_RAW_MIB} "
               f"count=16 2>/dev/null | sha256sum)\" ] || {{ echo disk-$i; exit 1; }}; "
               f"wget -q -O /tmp/b http://10.0.2.2:{port}/lifeblob && "
               f"[ \"$(sha256sum < /tmp/b | cut -d' ' -f1)\" = {want} ] || {{ echo net-$i; exit 1; }}; "
               f"echo round-$i; done")
        out, rc = run_in(con, "gvm1", bg(job, "w"))
        assert rc == 0, out
        time.sleep(5)
        t0 = time.monotonic()
        out, rc = mvm(con, "syshyper stop gvm2", 120)
        harness.note(f"syshyper stop gvm2 under load: {time.monotonic() - t0:.1f} s ({out.strip()})")
        assert rc == 0 and "gvm2: stopped" in out, f"syshyper stop gvm2: {out!r}"
        assert vm_list(con)["gvm2"]["state"] == "stopped"
        out, rc = run_in(con, "gvm1", "[ ! -e /tmp/w.rc ] && echo still-working; cat /tmp/w.log")
        assert "still-working" in out, f"gvm1's job ended before gvm2 was stopped: {out!r}"
        out, rc = wait_bg(con, "gvm1", "w", 900)
        assert rc == 0 and "round-6" in out, f"gvm1's transfers while gvm2 stopped: {out!r}"
        start = mark(con)
        out, rc = mvm(con, "syshyper start gvm2")
        assert rc == 0, f"syshyper start gvm2: {out!r}"
        expect_after(con, start, ready_line("gvm2"), BOOT_TIMEOUT)
        out, rc = run_in(con, "gvm2", "dd if=/dev/urandom of=/tmp/p bs=1M count=4 2>/dev/null && "
                         "dd if=/tmp/p of=/dev/vda bs=1M oflag=direct 2>/dev/null && "
                         "echo 1 > /proc/sys/vm/drop_caches && "
                         "[ \"$(sha256sum < /tmp/p)\" = \"$(dd if=/dev/vda bs=1M count=4 "
                         "2>/dev/null | sha256sum)\" ] && ping -c 2 10.0.2.21", 300)
        assert rc == 0 and "2 packets received" in out, f"gvm2 after its restart: {out!r}"


def lifecycle_cycles():
    con = boot("life-cycles")
    before = hv_counters(con)
    t0 = time.monotonic()
    for i in range(CYCLES):
        if i % 2 == 0:  # a booted guest, stopped by its power button
            out, rc = mvm(con, "syshyper stop gvm2", 120)
        else:  # killed while it boots
            out, rc = mvm(con, f"sleep {1 + i % 3}; syshyper kill gvm2", 120)
        assert rc == 0 and "gvm2: stopped" in out, f"cycle {i}: stop: {out!r}"
        start = mark(con)
        out, rc = mvm(con, "syshyper start gvm2")
        assert rc == 0, f"cycle {i}: start: {out!r}"
        if i % 2 == 1 or i == CYCLES - 1:
            expect_after(con, start, ready_line("gvm2"), BOOT_TIMEOUT)
    harness.note(f"{CYCLES} stop/start cycles of gvm2 in {time.monotonic() - t0:.0f} s")
    out, rc = mvm(con, "syshyper stop gvm2", 120)
    assert rc == 0, out
    after = hv_counters(con)
    vms = vm_list(con)
    assert vms["gvm2"]["restarts"] == CYCLES, f"gvm2's restarts: {vms['gvm2']}"
    assert before == after, f"the hypervisor's counters moved: {before} -> {after}"
    harness.note(f"hypervisor counters before and after: {after}")
    out, rc = run_in(con, "gvm1", "ping -c 2 10.0.2.15")
    assert rc == 0 and "2 packets received" in out, f"gvm1 after the cycles: {out!r}"


def lifecycle_panic():
    con = boot("life-panic")
    focus(con, "gvm2")
    start = mark(con)
    con.send_line("echo c > /proc/sysrq-trigger")
    expect_after(con, start, r"^\[gvm2\] .*Kernel panic", 60)
    expect_after(con, start, ready_line("gvm2"), BOOT_TIMEOUT)
    vms = vm_list(con)
    assert vms["gvm2"]["state"] == "running" and vms["gvm2"]["restarts"] == 1, \
        f"gvm2 after its panic: {vms['gvm2']}"
    assert vms["gvm1"]["restarts"] == 0, f"gvm1 restarted too: {vms['gvm1']}"
    out, rc = run_in(con, "gvm2", "ping -c 2 10.0.2.21")
    assert rc == 0 and "2 packets received" in out, f"gvm2 after its restart: {out!r}"


# Counts the places in gvm2's RAM (IPA 0x40000000 + 512 MiB, from /proc/kcore)
# holding the marker; given in two parts, it is whole nowhere but where the
# test wrote it (tests/linux/memscan.c).
KSCAN = "memscan SYSHYPER-LEFT -BEHIND 0x40000000 0x60000000"


def lifecycle_fresh_memory():
    con = boot("life-memory", gvms=("gvm2",))
    out, rc = run_in(con, "gvm2", "m=SYSHYPER-LEFT; yes \"$m-BEHIND\" | head -c 67108864 > /tmp/secret; "
                     "sync; " + KSCAN, 600)
    m = re.search(r"kscan: (\d+) segments, (\d+) hits", out)
    assert rc == 0 and m and int(m.group(1)) > 0 and int(m.group(2)) > 1000, \
        f"the scan does not find what this instance wrote: {out!r}"
    harness.note(f"gvm2's first instance: {m.group(0)}")
    start = mark(con)
    out, rc = mvm(con, "syshyper kill gvm2 && syshyper start gvm2")
    assert rc == 0, out
    expect_after(con, start, ready_line("gvm2"), BOOT_TIMEOUT)
    out, rc = run_in(con, "gvm2", KSCAN, 600)
    m = re.search(r"kscan: (\d+) segments, (\d+) hits", out)
    assert rc == 0 and m and int(m.group(1)) > 0 and m.group(2) == "0", \
        f"gvm2's next instance found its predecessor's data: {out!r}"


def expect_error(con, cmd, status, pattern, vm="mvm"):
    out, rc = run_in(con, vm, f"{cmd} 2>&1")
    lines = [l for l in out.split("\n") if l.strip()]
    assert rc == status and len(lines) == 1 and lines[0].startswith("syshyper: ") and \
        re.search(pattern, lines[0]), f"{cmd}: status {rc} (want {status}), {out!r}"


def lifecycle_cli_errors():
    con = boot("life-cli")
    for c in ("", "list", "stats", "start", "stop", "kill", "reboot", "autostart", "supervise"):
        out, rc = mvm(con, f"syshyper {c} --help")
        assert rc == 0 and out.startswith("usage: syshyper"), f"syshyper {c} --help: {out!r}"
    expect_error(con, "syshyper frob", EX_USAGE, r"unknown command")
    expect_error(con, "syshyper start", EX_USAGE, r"which VM")
    expect_error(con, "syshyper stop gvm2 -t soon", EX_USAGE, r"seconds")
    expect_error(con, "syshyper list extra", EX_USAGE, r"no arguments")
    expect_error(con, "syshyper start nosuch", EX_NOVM, r"no VM named 'nosuch'")
    expect_error(con, "syshyper stats nosuch", EX_NOVM, r"no VM named 'nosuch'")
    expect_error(con, "syshyper start gvm1", EX_STATE, r"gvm1 is running")
    expect_error(con, "syshyper stop mvm", EX_STATE, r"management VM")
    out, rc = mvm(con, "syshyper kill gvm2")
    assert rc == 0 and "gvm2: stopped" in out, out
    expect_error(con, "syshyper stop gvm2", EX_STATE, r"gvm2 is stopped")
    expect_error(con, "syshyper kill gvm2", EX_STATE, r"gvm2 is stopped")
    expect_error(con, "syshyper reboot gvm2", EX_STATE, r"gvm2 is stopped")
    # an image missing, then one too big for the VM's RAM (a sparse file)
    out, rc = mvm(con, "sed -n 's/^gvm2 .*dtb=\\([^ ]*\\).*/\\1/p' /etc/syshyper/vms.conf")
    dtb = out.strip()
    assert rc == 0 and dtb.startswith("/"), f"gvm2's dtb in the manifest: {out!r}"
    mvm(con, f"mv {dtb} {dtb}.saved")
    expect_error(con, "syshyper start gvm2", EX_IMAGE, r"dtb image .*No such file")
    mvm(con, f"truncate -s 600M {dtb}")
    expect_error(con, "syshyper start gvm2", EX_IMAGE, r"too big")
    mvm(con, f"mv {dtb}.saved {dtb}")
    assert vm_list(con)["gvm2"]["state"] == "stopped"
    start = mark(con)
    out, rc = mvm(con, "syshyper start gvm2")
    assert rc == 0 and "gvm2: running" in out, f"start after the errors: {out!r}"
    expect_after(con, start, ready_line("gvm2"), BOOT_TIMEOUT)
    # not the MVM: the CLI copied into a GVM
    out, rc = mvm(con, "httpd -p 8081 -h /bin && echo serving")
    assert rc == 0, out
    out, rc = run_in(con, "gvm1", "wget -q -O /tmp/syshyper http://10.0.2.15:8081/syshyper && "
                     "chmod +x /tmp/syshyper && echo fetched")
    assert rc == 0 and "fetched" in out, f"copying the CLI into gvm1: {out!r}"
    expect_error(con, "/tmp/syshyper list", EX_NOT_MVM, r"not the MVM", vm="gvm1")
    expect_error(con, "/tmp/syshyper start gvm2", EX_NOT_MVM, r"not the MVM", vm="gvm1")


def lifecycle_mvm_poweroff():
    con = boot("life-poweroff")
    focus(con, "mvm")
    start = mark(con)
    con.send_line("poweroff")
    status = con.wait_exit(180)
    assert status == 0, f"QEMU exit status {status}"
    for vm in ("gvm1", "gvm2"):  # asked by their power buttons, they powered off
        expect_after(con, start, vm_line("mvm", f"init: stopping {vm}"), 1)
        expect_after(con, start, vm_line(vm, "init: poweroff"), 1)


def lifecycle_mvm_reboot():
    """`reboot` typed in the MVM powers the GVMs off and restarts the whole
    board (QEMU_RESTART: QEMU restarts it instead of ending): the hypervisor
    boots again and the MVM and the GVMs come back."""
    con = boot("life-reboot", env=dict(os.environ, QEMU_RESTART="1"))
    focus(con, "mvm")
    start = mark(con)
    con.send_line("reboot")
    expect_after(con, start, vm_line("mvm", "init: reboot"), 30)
    for vm in ("gvm1", "gvm2"):
        expect_after(con, start, vm_line("mvm", f"init: stopping {vm}"), 30)
        expect_after(con, start, vm_line(vm, "init: poweroff"), 60)
    again = expect_after(con, start, r"^\[hv\] sysHyper starting at EL2$", 120).end()
    for vm in ("mvm", "gvm1", "gvm2"):
        expect_after(con, again, ready_line(vm), BOOT_TIMEOUT)
    harness.note(f"the board restarted: the MVM and both GVMs back {con.elapsed():.0f} s "
                 "after QEMU's start")
    focus(con, "mvm")
    con.send_line("poweroff -f")
    assert con.wait_exit(60) == 0


ALL = [lifecycle_ext4_reboot, lifecycle_stop_under_load, lifecycle_cycles, lifecycle_panic,
       lifecycle_fresh_memory, lifecycle_cli_errors, lifecycle_mvm_poweroff, lifecycle_mvm_reboot]

if __name__ == "__main__":
    chosen = [s for s in ALL if not sys.argv[1:] or s.__name__ in sys.argv[1:]]
    sys.exit(harness.main(chosen))
