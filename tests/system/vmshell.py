"""Driving the VMs' shells through the hypervisor's console multiplexer
(Ctrl-] N gives VM N the console's input), shared by the system tests.

A Console may carry `vms`, the VM names in configuration order (the
multiplexer's numbering); without it, configs/qemu-virt.cfg's order.
"""
import contextlib
import http.server
import os
import re
import socketserver
import threading
import time

import harness

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, "build")
BOOT_TIMEOUT = int(os.environ.get("BOOT_TIMEOUT", "240"))
ESC = "\x1d"  # the multiplexer's escape key (Ctrl-])
DEFAULT_VMS = ("mvm", "gvm1", "gvm2")  # the order of configs/qemu-virt.cfg


def vm_line(vm, text):
    """A pattern for VM `vm`'s line `text` (a regex), which may follow its
    shell's prompt: a prompt has no newline, so the VM's next output
    continues its line."""
    return rf"^\[{vm}\] (?:/\S* # (?:\x1b\[6n)?)?{text}$"


def focus(con, vm):
    """Gives `vm` the console's input."""
    index = getattr(con, "vms", DEFAULT_VMS).index(vm)
    con.send(ESC + str(index))
    con.expect(rf"^\[hv\] console input now goes to {vm}$", 10)


def run_in(con, vm, cmd, timeout=120):
    """Runs a shell command in `vm`: (output, status), see Console.run()."""
    focus(con, vm)
    return con.run(cmd, timeout, vm=vm)


def mark(con):
    """A position in the console output: expect_after() looks past it."""
    with con.cond:
        return len(con.buf)


def expect_after(con, start, pattern, timeout):
    """Waits for `pattern` in the output after position `start` (lines from
    different VMs interleave, so expect()'s single cursor may have passed it)."""
    rx = re.compile(pattern, re.M)
    deadline = time.monotonic() + timeout
    with con.cond:
        while True:
            m = rx.search(con.buf, start)
            if m:
                return m
            gone = con._gone()
            left = deadline - time.monotonic()
            if gone or left <= 0:
                raise harness.ConsoleError(
                    f"{gone or f'timed out after {timeout} s'} waiting for {pattern!r}")
            con.cond.wait(min(left, 1.0))


def bg(cmd, name):
    """A shell command run in the background, its status in /tmp/NAME.rc."""
    return f"rm -f /tmp/{name}.rc; ( ( {cmd} ) > /tmp/{name}.log 2>&1; echo $? > /tmp/{name}.rc ) & :"


def wait_bg(con, vm, name, timeout):
    """Waits for a bg() command in `vm`: its output and status."""
    return run_in(con, vm, f"while [ ! -e /tmp/{name}.rc ]; do sleep 1; done; "
                  f"cat /tmp/{name}.log; (exit $(cat /tmp/{name}.rc))", timeout)


def disk_sha():
    """The sha256 of the pattern at the start of the MVM's disk (mkdisk.sh)."""
    with open(os.path.join(BUILD, "disk.img.sha256")) as f:
        return f.read().split()[0]


@contextlib.contextmanager
def http_files(files):
    """Serves {name: bytes} over HTTP on the host's loopback, which the VMs
    reach through QEMU's user network as 10.0.2.2; yields the port."""
    www = os.path.join(BUILD, "www")
    os.makedirs(www, exist_ok=True)
    for name, data in files.items():
        with open(os.path.join(www, name), "wb") as f:
            f.write(data)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=www, **kw)

        def log_message(self, *a):
            pass

    server = socketserver.TCPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
