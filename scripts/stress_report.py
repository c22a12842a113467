#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The reliability campaigns' table, read from test-boot serial logs.

Usage: stress_report.py KERNEL=SERIAL_LOG [KERNEL=SERIAL_LOG ...]

KERNEL names the test kernel of that boot (debug, kcsan, rt). The cases
and checker reports come from scripts/ktap.py's own reading of the log
(it alone decides pass or fail: `make stress` exits with its verdict);
this table only lays them out per campaign, with the numbers the sample,
the suite and qemu/init print:

  1 concurrency   the sample's summary: claims per context, detaches,
                  canary violations, owner mismatches, rooms lost
  2 pressure      refill_failures_under_hardirq_claims (refills failing
                  10/50/100%), create_fails_at_each_allocation, and the
                  fail_page_alloc runs of qemu/init
  3 bad input     bad_input_in_context (4 contexts), bad and edge configs,
                  destroy with an owned room
  4 load/unload   qemu/init's cycles, with the MemFree trend
  5 PREEMPT_RT    the whole KUnit suite and the sample in the rt kernel
  6 NUMA          the suite's NUMA cases in a two-node kernel
  7 NMI           the NMI hammer: claims, releases and detaches in NMI

Columns: operations; violations (failed cases of the campaign, canary or
owner violations); leaks (rooms lost, unbalanced labyrinths, kmemleak
reports); reports (checker lines in that boot).
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ktap import DIAG, documents, parse, splats, strip  # noqa: E402

DEMO = re.compile(
    r"labyrinth_demo: (\d+) CPUs, (\d+) rooms, (\d+) ms: claims task (\d+) "
    r"softirq (\d+) hardirq (\d+); detached (\d+);.*refills (\d+), (\d+) "
    r"failed[^;]*; canary violations (\d+); owner mismatches (\d+); rooms "
    r"lost (\d+)")
KPRESSURE = re.compile(
    r"refills failing (\d+)%, (\d+) ms: hardirq claims (\d+) \((\d+) "
    r"detached\) failed (\d+); task claims (\d+) failed (\d+); fills (\d+) "
    r"failed (\d+)")
BAD = re.compile(r"(\d+) calls with bad input in (\S+) context, (\d+) of "
                 r"them counted")
NMI = re.compile(
    r"NMI hammer, (\d+) ms(?: \(\d+ ms run\))?: (\d+) NMIs sent, (\d+) taken: (\d+) NMI claims "
    r"\((\d+) detached\), (\d+) NMI releases of the task's rooms \((\d+) found "
    r"the room lock held, (\d+) NMIs landed inside a claim\)")
NUMA = re.compile(r"cpu (\d+) \(node (\d+)\): (\d+) rooms of its node, then "
                  r"one of another")
CYCLES = re.compile(r"cycles=(\d+) .*failures=(\d+) unbalanced=(\d+) "
                    r"debugfs_left=(\d+) .*seconds=([\d.]+)-([\d.]+)")

PRESSURE_CASES = ("refill_failures_under_hardirq_claims",
                  "create_fails_at_each_allocation",
                  "claim_refill_failure_leaves_room_void")
BAD_CASES = ("bad_input_in_context", "create_rejects_bad_config",
             "create_accepts_edge_configs",
             "destroy_with_owned_room_leaves_pages_to_owner",
             "release_after_detach_then_refill")


class Boot:
    def __init__(self, kernel, path):
        self.kernel = kernel
        with open(path, errors="replace") as f:
            self.lines = [strip(l) for l in f]
        self.cases = []
        for doc in documents(self.lines):
            parse(doc, self.cases, "")
        ours, _ = splats(self.lines, [])
        self.kmemleak = sum("unreferenced object" in l for l in ours)
        self.reports = len(ours) - self.kmemleak
        self.diag = [(m.group(1), m.group(2)) for m in map(DIAG.match, self.lines)
                     if m]

    def failed(self, *names):
        """Failed cases whose name contains one of @names."""
        return sum(1 for n, st, *_ in self.cases if st == "FAIL" and
                   any(x in n for x in names))

    def grep(self, rx):
        return [m for m in map(rx.search, self.lines) if m]

    def diags(self, key):
        return [v for k, v in self.diag if k == key or k.startswith(key + " ")]

    def leaks(self):
        return self.failed("page balance", "kmemleak") + self.kmemleak


def trend(series):
    """MemFree per cycle: least-squares slope (kB/cycle) of the second half."""
    half = series[len(series) // 2:]
    n = len(half)
    if n < 2:
        return 0.0
    mx, my = (n - 1) / 2, sum(half) / n
    return sum((i - mx) * (y - my) for i, y in enumerate(half)) / \
        sum((i - mx) ** 2 for i in range(n))


def rows_for(b):
    rows = []
    demos = [DEMO.search(v) for v in b.diags("demo")]
    for m in [d for d in demos if d][:1]:
        cpus, rooms, ms, task, soft, hard, det, _, _, viol, mism, lost = \
            map(int, m.groups())
        rows.append(("1 concurrency", b.kernel, f"{ms / 1000:g} s",
                     f"{task + soft + hard} claims (task {task}, softirq "
                     f"{soft}, hardirq {hard}; {det} detached), {rooms} rooms"
                     f" / {3 * cpus} claimants",
                     viol + mism + b.failed("insmod labyrinth_demo"),
                     lost + b.leaks(), b.reports))
    p = b.grep(KPRESSURE)
    if p:
        ops = sum(int(m.group(3)) + int(m.group(5)) + int(m.group(6)) +
                  int(m.group(7)) for m in p)
        rows.append(("2 memory pressure", b.kernel,
                     f"{sum(int(m.group(2)) for m in p) / 1000:g} s",
                     f"{ops} claims, {sum(int(m.group(8)) for m in p)} refills "
                     f"({sum(int(m.group(9)) for m in p)} failed; "
                     f"{'/'.join(m.group(1) for m in p)}% injected); create "
                     "failing at each allocation",
                     b.failed(*PRESSURE_CASES), b.leaks(), b.reports))
    runs = [(k.split()[1], DEMO.search(v)) for k, v in b.diag
            if k.startswith("pressure ")]
    if runs:
        got = [m for _, m in runs if m]
        claims = sum(sum(map(int, m.groups()[3:6])) for m in got)
        fills = sum(int(m.group(8)) for m in got)
        failed = sum(int(m.group(9)) for m in got)
        rows.append(("2 memory pressure", b.kernel,
                     f"{sum(int(m.group(3)) for m in got) / 1000:g} s",
                     f"fail_page_alloc {'/'.join(p for p, _ in runs)}% on "
                     f"labyrinth's allocations: {claims} claims in 3 contexts, "
                     f"{fills} refills ({failed} failed)",
                     b.failed("fail_page_alloc") + sum(
                         int(m.group(10)) + int(m.group(11)) for m in got),
                     sum(int(m.group(12)) for m in got) + b.leaks(), b.reports))
    bad = b.grep(BAD)
    if bad:
        rows.append(("3 bad input", b.kernel, "-",
                     f"{sum(int(m.group(1)) for m in bad)} calls in {len(bad)} "
                     f"contexts ({sum(int(m.group(3)) for m in bad)} counted as "
                     "bad), bad and edge configs, destroy with an owned room",
                     b.failed(*BAD_CASES), b.leaks(), b.reports))
    for v in b.diags("cycles"):
        m = CYCLES.search(v)
        mem = [int(x) for s in b.diags("memfree_kb") for x in s.split()]
        if not m:
            continue
        n, fails, unb, left = map(int, m.groups()[:4])
        secs = float(m.group(6)) - float(m.group(5))
        rows.append(("4 load/unload", b.kernel, f"{secs:.0f} s",
                     f"{n} cycles of insmod + rmmod, the sample detaching; "
                     f"MemFree {mem[0] if mem else '?'} -> "
                     f"{mem[-1] if mem else '?'} kB, trend over the last "
                     f"{len(mem) - len(mem) // 2}: {trend(mem):+.0f} kB/cycle",
                     fails + left + b.failed("load/unload"), unb + b.leaks(),
                     b.reports))
    nmi = b.grep(NMI)
    if not nmi and b.kernel == "debug":     # the hammer runs long there
        rows.append(("7 NMI", b.kernel, "-", "no NMI hammer line found",
                     1, b.leaks(), b.reports))
    for m in nmi:
        ms, sent, taken, claims, det, rel, held, inside = map(int, m.groups())
        rows.append(("7 NMI", b.kernel, f"{ms / 1000:g} s",
                     f"{taken} NMIs ({sent} sent): {claims} claims ({det} "
                     f"detached), {rel} releases of rooms the task claimed "
                     f"({held} with the room lock held, {inside} NMIs inside "
                     "a claim), all without waiting",
                     b.failed("nmi_hammer", " nmi"), b.leaks(), b.reports))
    numa = b.grep(NUMA)
    if numa or b.kernel == "numa":
        rows.append(("6 NUMA", b.kernel, "-",
                     "; ".join(f"cpu {m.group(1)} (node {m.group(2)}): "
                               f"{m.group(3)} rooms of its node, then another's"
                               for m in numa) or "no NUMA case ran",
                     b.failed("rooms_live_on", "claims_stay_on") + (not numa),
                     b.leaks(), b.reports))
    if b.kernel == "rt":
        rows.append(("5 PREEMPT_RT", b.kernel, "-",
                     f"{len(b.cases)} cases (KUnit with params, module loads, "
                     "checks) run",
                     sum(1 for _, st, *_ in b.cases if st == "FAIL"), b.leaks(),
                     b.reports))
    return rows


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    rows = []
    for arg in sys.argv[1:]:
        kernel, _, path = arg.partition("=")
        if os.path.exists(path):
            rows.extend(rows_for(Boot(kernel, path)))
        else:
            print(f"{kernel}: no log {path}")
    head = ("campaign", "kernel", "time", "operations", "violations",
            "leaks", "reports")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in sorted(rows, key=lambda r: r[0]):
        print("| " + " | ".join(str(c) for c in r) + " |")


if __name__ == "__main__":
    main()
