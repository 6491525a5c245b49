#!/usr/bin/env python3
"""System scenarios of issue 11: the bare-metal conformance guest
(tests/guests/conform.c) checks from inside a GVM that the GIC, the EL1
timers, exceptions, PSCI and FP/SIMD state behave as the architecture says,
on GICv2 and GICv3, with 1 vCPU (configs/test-conform.cfg) and 2 vCPUs
(configs/test-conform2.cfg), the MVM booting beside it.

The guest prints 'PASS <check>' or 'FAIL <check>: why' per check, then
'CONFORM DONE <n> checks <f> failed', and powers its VM off. A scenario
asserts that every check passed and that the hypervisor did not panic; the
console log stays in build/logs/conform-<name>-gicv<N>.log and each run's
results are summed up in build/logs/conform-results.txt.

    python3 tests/system/test_conform.py [scenario...]   (make test runs them from test_hv.py)
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, "build")
# From QEMU's start to the guest's last line (TCG, 2 host cores, the MVM booting).
CONFORM_TIMEOUT = int(os.environ.get("CONFORM_TIMEOUT", "300"))
HV_DEATH = re.compile(r"PANIC|exception at EL2")
RESULTS = os.path.join(BUILD, "logs", "conform-results.txt")


def conform_scenario(gic, name):
    vm = name  # the configuration's VM name prefixes the guest's lines
    hv_dir = os.path.join(BUILD, f"test-{name}-gicv{gic}")
    case = re.compile(rf"^\[{vm}\] (PASS|FAIL) ([\w.-]+)(?::? ?(.*))?$", re.M)

    def scenario():
        for f in ("syshyper.elf", "qemu-loader.args"):
            assert os.path.exists(os.path.join(hv_dir, f)), \
                f"{hv_dir}/{f} missing: make test-configs"
        cmd = [os.path.join(ROOT, "scripts", "qemu.sh"), str(gic)]
        log = os.path.join(BUILD, "logs", f"conform-{name}-gicv{gic}.log")
        con = harness.track(harness.Console(cmd, log, cwd=ROOT,
                                            env=dict(os.environ, HV_DIR=hv_dir)))
        try:
            done = con.expect(rf"^\[{vm}\] CONFORM DONE (\d+) checks (\d+) failed$",
                              CONFORM_TIMEOUT, anywhere=True)
        finally:
            with con.cond:
                text = con.buf
            cases = case.findall(text)
            passed = [c[1] for c in cases if c[0] == "PASS"]
            failed = [f"{c[1]}: {c[2]}" for c in cases if c[0] == "FAIL"]
            summary = (f"GICv{gic} {name}: {len(passed)} passed, {len(failed)} failed"
                       f" ({con.elapsed():.0f} s)")
            harness.note(summary)
            for f in failed:
                harness.note(f"FAIL {f}")
            os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
            with open(RESULTS, "a") as out:
                out.write(summary + "\n")
                out.write("  PASS " + " ".join(passed) + "\n")
                for f in failed:
                    out.write(f"  FAIL {f}\n")
        con.close()
        assert not HV_DEATH.search(text), \
            f"the hypervisor died: {HV_DEATH.search(text).group(0)!r} (see {log})"
        assert not failed, f"conformance checks failed: {'; '.join(failed)}"
        assert len(cases) == int(done.group(1)), \
            f"the guest ran {done.group(1)} checks, {len(cases)} reported (a lost line?)"

    scenario.__name__ = f"conform_gicv{gic}_{'2cpus' if name.endswith('2') else '1cpu'}"
    return scenario


ALL = [conform_scenario(gic, name) for gic in (3, 2) for name in ("conform", "conform2")]

if __name__ == "__main__":
    chosen = [s for s in ALL if not sys.argv[1:] or s.__name__ in sys.argv[1:]]
    sys.exit(harness.main(chosen))
