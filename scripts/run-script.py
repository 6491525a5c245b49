#!/usr/bin/env python3
"""make run SCRIPT=file: boots the system, lets GVM 1 run the script (built
into its image as /etc/autorun.sh), shows the console, then powers the
whole system off and exits with the script's exit status."""
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
import harness  # noqa: E402

TIMEOUT = int(os.environ.get("SCRIPT_TIMEOUT", "3600"))


def main():
    gic, script = sys.argv[1], sys.argv[2]
    log = os.path.join(ROOT, "build", "logs", "run-script.log")
    con = harness.Console([os.path.join(ROOT, "scripts", "qemu.sh"), gic], log, cwd=ROOT,
                          echo=sys.stdout)
    try:
        m = con.expect(r"^\[gvm1\] syshyper: autorun exit (\d+)$", TIMEOUT)
        status = int(m.group(1))
        con.send("\x1d0")  # input to the MVM, whose power-off ends the machine
        con.send_line("poweroff -f")
        con.wait_exit(60)
    except harness.ConsoleError as e:
        print(f"\nrun-script: {e} (log: {log})", file=sys.stderr)
        status = 124
    finally:
        con.close()
    print(f"run-script: {script} exited with status {status}")
    return status


if __name__ == "__main__":
    sys.exit(main())
