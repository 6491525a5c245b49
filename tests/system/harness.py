"""A small driver for a QEMU console, standard library only.

Console runs a command (QEMU with the console on stdio), collects its output
in a thread (and in a log file), and lets a test wait for patterns, send
lines and run shell commands in the focused VM with their exit status.
Lines may carry the hypervisor's per-VM prefix ("[mvm] "); run() strips it.
main() runs scenarios and prints 'N passed, N failed'."""
import os
import re
import subprocess
import sys
import threading
import time
import traceback

PREFIX = re.compile(r"^\[[\w-]+\] ", re.M)


class ConsoleError(AssertionError):
    pass


class Console:
    def __init__(self, cmd, log_path, cwd=None, echo=None):
        self.echo = echo  # a stream that also gets the output as it comes
        os.makedirs(os.path.dirname(log_path), exist_ok=True)
        self.log_path = log_path
        self.log = open(log_path, "w", encoding="utf-8", errors="replace")
        self.proc = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.buf = ""
        self.pos = 0  # expect() consumes up to here
        self.cond = threading.Condition()
        self.seq = 0
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        while True:
            data = self.proc.stdout.read1(4096)
            if not data:
                break
            text = data.decode("utf-8", "replace").replace("\r", "")
            self.log.write(text)
            self.log.flush()
            if self.echo:
                self.echo.write(text)
                self.echo.flush()
            with self.cond:
                self.buf += text
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def expect(self, pattern, timeout, anywhere=False):
        """Waits for `pattern` after what earlier calls consumed (anywhere: in
        all output so far, for lines whose order against others is free)."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                m = rx.search(self.buf, 0 if anywhere else self.pos)
                if m:
                    self.pos = max(self.pos, m.end())
                    return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ConsoleError(f"timed out after {timeout} s waiting for {pattern!r}")
                if self.proc.poll() is not None and not self._pending_output():
                    raise ConsoleError(f"QEMU exited ({self.proc.returncode}) while waiting "
                                       f"for {pattern!r}")
                self.cond.wait(min(left, 1.0))

    def _pending_output(self):
        return False

    def send(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def send_line(self, line):
        self.send(line + "\n")

    def run(self, cmd, timeout=60, vm=None):
        """Runs a shell command in the focused VM; returns (output, status).
        With `vm`, only that VM's console lines count as output."""
        self.seq += 1
        tag = f"SH{self.seq}x{os.getpid()}"
        # markers are assembled by the shell, so the echoed command never matches
        self.send_line(f"echo \"{tag[:2]}\"\"{tag[2:]}-begin\"; {cmd}; "
                       f"echo \"{tag[:2]}\"\"{tag[2:]}-rc=$?\"")
        begin = self.expect(rf"^(?:\[[\w-]+\] )?{tag}-begin$", timeout)
        end = self.expect(rf"^(?:\[[\w-]+\] )?{tag}-rc=(\d+)$", timeout)
        with self.cond:
            chunk = self.buf[begin.end():end.start()]
        keep = []
        for line in chunk.split("\n"):
            m = PREFIX.match(line)
            source = m.group(0)[1:-2] if m else None
            if source == "hv" or (vm and source and source != vm):
                continue
            keep.append(line[m.end():] if m else line)
        return "\n".join(keep).strip("\n"), int(end.group(1))

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise ConsoleError(f"QEMU still running {timeout} s after the request to stop")

    def tail(self, n=150):
        with self.cond:
            return "\n".join(self.buf.split("\n")[-n:])

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        return self.proc.returncode


_notes = []
_current = []


def note(text):
    """A measurement or remark printed with the scenario's result."""
    _notes.append(text)


def track(con):
    """Registers a console so a failure prints its log."""
    _current.append(con)
    return con


def main(scenarios):
    passed = failed = 0
    for s in scenarios:
        _notes.clear()
        _current.clear()
        start = time.monotonic()
        try:
            s()
            passed += 1
            print(f"PASS {s.__name__} ({time.monotonic() - start:.0f} s)", flush=True)
        except Exception as e:  # noqa: BLE001 - any failure fails the scenario
            failed += 1
            print(f"FAIL {s.__name__}: {e}", flush=True)
            if not isinstance(e, AssertionError):
                traceback.print_exc()
            for con in _current:
                print(f"--- last lines of {con.log_path} ---")
                print(con.tail())
                print("---")
        finally:
            for con in _current:
                con.close()
        for n in _notes:
            print(f"  {n}", flush=True)
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0
