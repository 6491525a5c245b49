"""A small driver for a QEMU console, standard library only.

Console runs a command (QEMU with the console on stdio), collects its output
in a thread (and in a log file), and lets a test wait for patterns, send
lines and run shell commands in the focused VM with their exit status.
Every Console has a lifetime after which QEMU is killed.

Under the hypervisor each console line carries a per-VM prefix ("[mvm] ");
run() strips it, and expect(..., strip_prefix=True) lets a pattern that
starts with ^ match with or without one.

A test file lists scenarios (plain functions, or @scenario) and calls
main(): it prints 'PASS name' or 'FAIL name: reason' with the end of the
console log, then 'N passed, N failed', and returns 1 if any failed."""
import ctypes
import os
import re
import signal
import subprocess
import sys
import threading
import time
import traceback

PREFIX = re.compile(r"^\[[\w-]+\] ", re.M)
OPTIONAL_PREFIX = r"(?:\[[\w-]+\] )?"
KERNEL_LINE = re.compile(r"^\[ *\d+\.\d+\] ")  # printk with its time stamp
# An idle shell's prompt (busybox ash, with its cursor query) from a VM's other
# terminal (hvc0) may land between the markers of a command run on ttyAMA0.
PROMPT_LINE = re.compile(r"^/\S* # (\x1b\[6n)?$")
# Kills a QEMU run that is still going after this long (seconds).
DEFAULT_LIFETIME = float(os.environ.get("SYSHYPER_QEMU_TIMEOUT", "7200"))


class ConsoleError(AssertionError):
    pass


try:  # looked up here: the forked child only makes the call
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):
    _prctl = None


def _die_with_parent():
    """In the child: get SIGKILL when the harness dies (Linux), so a killed
    test run leaves no QEMU behind."""
    if _prctl:
        _prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG


def allow_prefix(pattern):
    """Lets a pattern anchored at a line start (^) also match after a
    per-VM prefix such as '[gvm1] '."""
    if pattern.startswith("^"):
        return "^" + OPTIONAL_PREFIX + pattern[1:]
    return pattern


class Console:
    def __init__(self, cmd, log_path, cwd=None, echo=None, strip_prefix=False,
                 lifetime=DEFAULT_LIFETIME, env=None):
        self.echo = echo  # a stream that also gets the output as it comes
        self.strip_prefix = strip_prefix  # expect()'s default
        self.lifetime = lifetime
        log_dir = os.path.dirname(log_path)
        if log_dir:
            os.makedirs(log_dir, exist_ok=True)
        self.log_path = log_path
        self.log = open(log_path, "w", encoding="utf-8", errors="replace")
        self.buf = ""
        self.pos = 0  # expect() consumes up to here
        self.seq = 0
        self.eof = False
        self.expired = False
        self.cond = threading.Condition()
        self.started = time.monotonic()
        # (create a Console in a thread that outlives it: see _die_with_parent)
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     preexec_fn=_die_with_parent)
        self.reader = threading.Thread(target=self._reader, daemon=True)
        self.reader.start()
        self.timer = threading.Timer(lifetime, self._expire)
        self.timer.daemon = True
        self.timer.start()

    # ------------------------------------------------------------ output
    def _reader(self):
        while True:
            data = self.proc.stdout.read1(4096)
            if not data:
                break
            text = data.decode("utf-8", "replace").replace("\r", "")
            with self.cond:
                self.buf += text
                if not self.log.closed:
                    self.log.write(text)
                    self.log.flush()
                self.cond.notify_all()
            if self.echo:
                self.echo.write(text)
                self.echo.flush()
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def _expire(self):
        if self.proc.poll() is None:
            self.expired = True
            self.proc.kill()

    def elapsed(self):
        """Seconds since QEMU was started."""
        return time.monotonic() - self.started

    def _context(self):
        lines = [l for l in self.buf.split("\n") if l.strip()]
        return " | ".join(l[-100:] for l in lines[-3:])

    def _gone(self):
        """Why the process cannot produce more output, or None."""
        status = self.proc.poll()
        if not self.eof or status is None:
            return None
        if self.expired:
            return f"QEMU killed after its lifetime of {self.lifetime:.0f} s"
        return f"QEMU exited with status {status}"

    def expect(self, pattern, timeout, anywhere=False, strip_prefix=None):
        """Waits for `pattern` (a regex, ^ and $ match at line ends) after what
        earlier calls consumed, or in all output so far with `anywhere` (for
        lines whose order against others is free); returns the match.
        strip_prefix (default: the Console's) accepts a per-VM prefix before
        a pattern that starts with ^."""
        if strip_prefix if strip_prefix is not None else self.strip_prefix:
            pattern = allow_prefix(pattern)
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                m = rx.search(self.buf, 0 if anywhere else self.pos)
                if m:
                    self.pos = max(self.pos, m.end())
                    return m
                gone = self._gone()
                if gone:
                    raise ConsoleError(f"{gone} while waiting for {pattern!r}; "
                                       f"last output: {self._context()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ConsoleError(f"timed out after {timeout} s waiting for {pattern!r}; "
                                       f"last output: {self._context()}")
                self.cond.wait(min(left, 1.0))

    def tail(self, n=150):
        """The last n lines of output."""
        with self.cond:
            return "\n".join(self.buf.split("\n")[-n:])

    # ------------------------------------------------------------ input
    def send(self, text):
        try:
            self.proc.stdin.write(text.encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            raise ConsoleError(f"cannot send {text!r}: QEMU is gone") from None

    def send_line(self, line):
        self.send(line + "\n")

    def run(self, cmd, timeout=60, vm=None, keep_kernel=False):
        """Runs a shell command in the focused VM and returns (output, status).
        The command runs in a subshell (so 'exit N' gives status N and its
        cd or variables do not last); output is what it printed between two
        markers, without per-VM prefixes, the hypervisor's lines and (unless
        keep_kernel, e.g. for dmesg) kernel messages that the console
        interleaves. With `vm`, only that VM's lines count."""
        self.seq += 1
        tag = f"SH{self.seq}x{os.getpid()}"
        # the shell assembles the markers, so the echoed command never matches
        self.send_line(f"echo \"{tag[:2]}\"\"{tag[2:]}-begin\"; ( {cmd}\n); "
                       f"echo \"{tag[:2]}\"\"{tag[2:]}-rc=$?\"")
        begin = self.expect(rf"^{OPTIONAL_PREFIX}{tag}-begin$", timeout)
        end = self.expect(rf"^{OPTIONAL_PREFIX}{tag}-rc=(\d+)$", timeout)
        with self.cond:
            chunk = self.buf[begin.end():end.start()]
        keep = []
        for line in chunk.split("\n"):
            m = PREFIX.match(line)
            source = m.group(0)[1:-2] if m else None
            if source == "hv" or (vm and source and source != vm):
                continue
            line = line[m.end():] if m else line
            if PROMPT_LINE.match(line):
                continue
            if keep_kernel or not KERNEL_LINE.match(line):
                keep.append(line)
        return "\n".join(keep).strip("\n"), int(end.group(1))

    # ------------------------------------------------------------ end
    def wait_exit(self, timeout):
        """Waits for QEMU to end by itself; returns its exit status."""
        try:
            status = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise ConsoleError(f"QEMU still running {timeout} s after the request to stop; "
                               f"last output: {self._context()}") from None
        self.reader.join(2)
        return status

    def close(self):
        """Kills QEMU if it still runs; returns its exit status."""
        self.timer.cancel()
        if self.proc.poll() is None:
            self.proc.kill()
        status = self.proc.wait()
        self.reader.join(2)
        with self.cond:
            self.log.close()
        return status


# ---------------------------------------------------------------- runner
_registry = []
_notes = []
_current = []  # consoles of the running scenario
_shared = []  # consoles kept across scenarios


def scenario(fn):
    """Registers a scenario for main() (in definition order)."""
    _registry.append(fn)
    return fn


def note(text):
    """A measurement or remark printed with the scenario's result."""
    _notes.append(text)


def track(con, shared=False):
    """Registers a console: a failure prints its log's end. A scenario's
    console is closed when it ends; a shared one when main() ends."""
    (_shared if shared else _current).append(con)
    return con


def _report_failure(name, e):
    print(f"FAIL {name}: {e}", flush=True)
    if not isinstance(e, AssertionError):
        traceback.print_exc(file=sys.stdout)
    for con in _current + _shared:
        print(f"--- last lines of {con.log_path} ---")
        print(con.tail())
        print("---", flush=True)


def main(scenarios=None, argv=None):
    """Runs the given scenarios, or the registered ones of which the command
    line's words (argv) select those whose name contains one; returns 0 if
    all passed, else 1."""
    if scenarios is None:
        names = sys.argv[1:] if argv is None else argv
        scenarios = [s for s in _registry if not names or any(n in s.__name__ for n in names)]
    passed = failed = 0
    failures = []
    try:
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
                failures.append(s.__name__ + " (" + ", ".join(c.log_path for c in _current + _shared) + ")")
                _report_failure(s.__name__, e)
            finally:
                for con in _current:
                    con.close()
            for n in _notes:
                print(f"  {n}", flush=True)
    finally:
        for con in _shared:
            con.close()
        _shared.clear()
    print(f"{passed} passed, {failed} failed", flush=True)
    for f in failures:
        print(f"failed: {f}", flush=True)
    return 1 if failed else 0
