#!/usr/bin/env python3
"""System test without the hypervisor: Debian's kernel with the MVM's
initramfs straight on QEMU (scripts/run-native.sh), the yardstick the
hypervisor runs are compared with, and a demonstration of the harness.

One QEMU boot is shared by the scenarios; the last one powers it off.
Needs .cache/guest/Image, build/mvm/initramfs.cpio.gz and build/disk.img
(make builds them). The disk is opened as a snapshot: never written."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, "build")
DISK = os.environ.get("DISK", os.path.join(BUILD, "disk.img"))
BOOT_TIMEOUT = int(os.environ.get("BOOT_TIMEOUT", "120"))
LIFETIME = 600  # the whole run, seconds

_console = []


def console():
    """The booted guest's console (booted by the first scenario)."""
    if not _console:
        raise harness.ConsoleError("no guest: it did not boot")
    return _console[0]


def check(con, cmd, timeout=60):
    """Runs cmd in the guest; fails unless it exits 0; returns its output."""
    out, rc = con.run(cmd, timeout)
    assert rc == 0, f"'{cmd}' exited {rc}: {out!r}"
    return out


@harness.scenario
def boots_to_user_space():
    for f in (os.path.join(ROOT, ".cache", "guest", "Image"),
              os.path.join(BUILD, "mvm", "initramfs.cpio.gz"), DISK, DISK + ".sha256"):
        assert os.path.exists(f), f"{f} is missing: run make first"
    env = dict(os.environ, SNAPSHOT="1", DISK=DISK)
    cmd = [os.path.join(ROOT, "scripts", "run-native.sh")]
    log = os.path.join(BUILD, "logs", "native.log")
    con = harness.track(harness.Console(cmd, log, cwd=ROOT, env=env, strip_prefix=True,
                                        lifetime=LIFETIME), shared=True)
    con.expect(r"^syshyper: mvm user space ready$", BOOT_TIMEOUT)
    harness.note(f"QEMU start to 'user space ready': {con.elapsed():.1f} s")
    _console.append(con)
    assert check(con, "echo shell-ok") == "shell-ok"


@harness.scenario
def run_reports_output_and_status():
    con = console()
    out, rc = con.run("echo one; echo two >&2; false")
    assert (out, rc) == ("one\ntwo", 1), f"got {out!r}, {rc}"
    out, rc = con.run("exit 7")
    assert (out, rc) == ("", 7), f"got {out!r}, {rc}"
    assert check(con, "echo $((6 * 7)) # a comment") == "42"


@harness.scenario
def two_cpus():
    out = check(console(), "nproc")
    assert out == "2", f"nproc printed {out!r}"


@harness.scenario
def disk_pattern_matches():
    with open(DISK + ".sha256") as f:
        want = f.read().split()[0]
    out = check(console(), "dd if=/dev/vda bs=1M count=16 2>/dev/null | sha256sum", 120)
    assert out.split()[0] == want, f"first 16 MiB of /dev/vda: {out!r}, mkdisk's: {want}"


@harness.scenario
def eth0_exists():
    out = check(console(), "cat /sys/class/net/eth0/address")
    assert re.fullmatch(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", out), f"eth0 address {out!r}"


@harness.scenario
def guest_clock_keeps_time():
    out = check(console(), "cut -d' ' -f1 /proc/uptime; sleep 2; cut -d' ' -f1 /proc/uptime")
    t0, t1 = (float(x) for x in out.split())
    harness.note(f"'sleep 2' took {t1 - t0:.2f} s by the guest's clock")
    assert 1.9 <= t1 - t0 <= 3.0, f"'sleep 2' took {t1 - t0:.2f} s by the guest's clock"


@harness.scenario
def poweroff_ends_qemu():
    con = console()
    con.send_line("poweroff -f")
    status = con.wait_exit(60)
    assert status == 0, f"QEMU exit status {status}"


if __name__ == "__main__":
    sys.exit(harness.main())
