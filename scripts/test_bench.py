#!/usr/bin/env python3
"""Host-side checks of bench.py's host CPU accounting, without QEMU: the
configuration's vCPU owners, /proc parsing (on a made-up /proc tree) and the
per-unit and ceiling figures. Run: python3 scripts/test_bench.py"""
import contextlib
import io
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

HZ = os.sysconf("SC_CLK_TCK")


def stat_line(tid, name, utime, stime):
    """A /proc stat line: fields 14 and 15 (utime, stime) after the name."""
    rest = ["S"] + ["0"] * 10 + [str(utime), str(stime)] + ["0"] * 30
    return f"{tid} ({name}) " + " ".join(rest) + "\n"


class HostCpu(unittest.TestCase):
    def test_vcpu_owners_from_the_configuration(self):
        self.assertEqual(bench.vcpu_owners(), {0: "mvm", 1: "mvm", 2: "gvm1", 3: "gvm2"})

    def test_qemu_cpu_splits_vcpu_threads_from_the_process_total(self):
        with tempfile.TemporaryDirectory() as proc:
            threads = {"7": ("qemu-system-aar", HZ, 0), "8": ("CPU 0/TCG", 2 * HZ, HZ),
                       "9": ("CPU 3/TCG", 0, HZ), "10": ("worker (a) b", HZ, HZ)}
            os.makedirs(f"{proc}/7/task")
            with open(f"{proc}/stat", "w") as f:  # busy: all but idle and iowait
                f.write(f"cpu  {3 * HZ} {4 * HZ} {2 * HZ} {50 * HZ} {HZ} 0 0 0 0 0\ncpu0 0 0 0 0\n")
            with open(f"{proc}/7/stat", "w") as f:  # exited threads' time included
                f.write(stat_line(7, "qemu-system-aar", 8 * HZ, 2 * HZ))
            for tid, (name, u, s) in threads.items():
                os.makedirs(f"{proc}/7/task/{tid}")
                with open(f"{proc}/7/task/{tid}/stat", "w") as f:
                    f.write(stat_line(tid, name, u, s))
            sample = bench.qemu_cpu(7, proc)
        self.assertEqual(sample["total"], 10000)
        self.assertEqual(sample["host"], 9000)
        self.assertEqual(sample["vcpu"], {0: 3000, 3: 1000})

    def test_add_cpu_sums_runs_into_units_and_others(self):
        acc = {}
        for _ in range(2):  # two repetitions of 2 s at 100 units/s
            a = {"at": 10.0, "total": 1000, "vcpu": {0: 100, 2: 0}, "host": 1000}
            b = {"at": 12.0, "total": 4000, "vcpu": {0: 1100, 2: 1500}, "host": 4500}
            bench.add_cpu(acc, a, b, 200)
        self.assertEqual(acc, {"wall_ms": 4000, "units": 400, "others": 1000, "other_procs": 1000,
                               "vcpu": {0: 2000, 2: 3000}})
        total, vcpu, others = bench.cpu_per_unit(acc)
        self.assertEqual((total, vcpu, others), (15, {0: 5, 2: 7.5}, 2.5))

    def test_table_holds_the_gvm_against_the_mvm(self):
        job = bench.JOBS[0][0]  # MB/s: ms per MiB
        results = {("mvm", job): [200], ("gvm1", job): [50],
                   ("host cpu", "mvm", job): {"wall_ms": 1000, "units": 200, "others": 0,
                                              "other_procs": 0, "vcpu": {0: 1000, 1: 1000}},
                   ("host cpu", "gvm1", job): {"wall_ms": 1000, "units": 50, "others": 500,
                                               "other_procs": 100,
                                               "vcpu": {0: 500, 1: 400, 2: 600}}}
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            bench.print_host_cpu(results)
        gvm = [line for line in out.getvalue().split("\n") if " GVM " in line][0].split()
        # 10 ms per MiB against the MVM's 10 / 2 ms: ceiling 0.25, as measured; 200 % busy,
        # cpu2 the busiest thread (60 %), other processes 10 %
        self.assertEqual(gvm[-6:], ["200%", "cpu2", "60%", "10%", "0.25", "0.25"])


class NetCounters(unittest.TestCase):
    def test_runs_add_up_and_print_per_mib_sent(self):
        a = {"traps": {"dabt": 10, "irq": 5},
             "ports": {"gvm1": (100, 1 << 20, 50, 5000), "mvm": (40, 4000, 90, 1 << 20)}}
        b = {"traps": {"dabt": 30, "irq": 5, "hvc": 2},
             "ports": {"gvm1": (300, 3 << 20, 150, 15000), "mvm": (140, 14000, 290, 3 << 20)}}
        acc = {}
        for _ in range(2):  # two repetitions, the same deltas each
            bench.net_counters(acc, a, b)
        self.assertEqual(acc["traps"], {"dabt": 40, "irq": 0, "hvc": 4})
        self.assertEqual(acc["ports"]["gvm1"], (400, 4 << 20, 200, 20000))
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            bench.print_net_counters({("net counters", "GVM->outside"): acc})
        line = [x for x in out.getvalue().split("\n") if x.startswith("GVM->outside")][0]
        # 4 MiB sent: 100 frames out and 50 in per MiB; the MVM took 100, sent 50; 11 traps
        self.assertEqual(line.split(), ["GVM->outside", "4", "100.0", "50.0", "100.0", "50.0",
                                        "11", "dabt", "10", "hvc", "1"])

if __name__ == "__main__":
    unittest.main()
