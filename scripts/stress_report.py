#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The reliability campaigns' table, read from test-boot serial logs.

Usage: stress_report.py KERNEL=SERIAL_LOG [KERNEL=SERIAL_LOG ...]

KERNEL names the test kernel of that boot (debug, kcsan, rt). From each
log it reads what qemu/init, the sample driver and the KUnit suite print:

  1 concurrency   the sample's summary line: claims per context, detaches,
                  canary violations, owner mismatches, rooms lost
  2 pressure      refill_failures_under_hardirq_claims (refills failing
                  10/50/100%) and create_fails_at_each_allocation
  3 bad input     bad_input_in_context (4 contexts), bad and edge configs,
                  destroy with an owned room
  4 load/unload   the LABYRINTH-CYCLES line
  5 PREEMPT_RT    the whole KUnit suite and the sample in the rt kernel

Columns: operations; violations (canary, owner, refused own release, a
failed KUnit case of the campaign, a failed cycle step); leaks (rooms
lost, unbalanced labyrinths, kmemleak reports, MemFree not back); reports
(checker lines in that boot: lockdep, KCSAN, KASAN, atomic sleep, WARN,
BUG). Exit status 1 if any cell but operations is non-zero, a campaign
found nothing to count, or a boot did not finish.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu_log import (CYCLES, DEMO, MEMFREE_MARGIN_KB,  # noqa: E402
                      module_loads, page_balance, pressure_runs, splats)

ALLOW = re.compile(r"destroyed with room [0-9]+ owned by .*left to the owner")
KPRESSURE = re.compile(
    r"refills failing (\d+)%, (\d+) ms: hardirq claims (\d+) \((\d+) "
    r"detached\) failed (\d+); task claims (\d+) failed (\d+); fills (\d+) "
    r"failed (\d+)")
BAD = re.compile(r"(\d+) calls with bad input in (\S+) context, (\d+) of "
                 r"them counted")
CASE = re.compile(r"^\s*(not ok|ok) \d+ (\S+)")

PRESSURE_CASES = {"refill_failures_under_hardirq_claims",
                  "create_fails_at_each_allocation",
                  "claim_refill_failure_leaves_room_void"}
DESTROY_OWNED = "destroy_with_owned_room_leaves_pages_to_owner"
BAD_CASES = {"bad_input_in_context", "create_rejects_bad_config",
             "create_accepts_edge_configs",
             DESTROY_OWNED,
             "release_after_detach_then_refill"}


class Boot:
    def __init__(self, kernel, path):
        self.kernel = kernel
        with open(path, errors="replace") as f:
            self.lines = [l.rstrip("\r\n") for l in f]
        ours, self.foreign = splats(self.lines, [ALLOW])
        self.kmemleak = sum("unreferenced object" in l for l in ours)
        self.reports = len(ours) - self.kmemleak
        self.finished = any("LABYRINTH-QEMU-END" in l for l in self.lines)
        self.cases = {}          # case name -> ok (last result wins)
        self.leaves = [0, 0]     # KTAP results without children: ok, not ok
        depth = -1
        for l in self.lines:
            m = CASE.match(l)
            if not m:
                continue
            ok = m.group(1) == "ok"
            self.cases[m.group(2)] = ok
            d = len(l) - len(l.lstrip())
            if depth <= d:       # a parent's line follows deeper children
                self.leaves[0 if ok else 1] += 1
            depth = d
        balance = page_balance(self.lines)
        self.unbalanced = 0 if balance and balance[1] else 1
        self.load_failures = sum(1 for rc, urc in
                                 module_loads(self.lines).values()
                                 if rc or urc != 0)

    def grep(self, rx):
        return [m for m in map(rx.search, self.lines) if m]

    def failed_cases(self, names=None):
        """Cases that failed; of @names, also those that never ran."""
        if names is None:
            return sum(1 for ok in self.cases.values() if not ok)
        return sum(1 for n in names if not self.cases.get(n, False))

    def verdict(self, name):
        return "ok" if self.cases.get(name) else "FAILED"

    def leaks(self):
        return self.unbalanced + self.kmemleak


def rows_for(b):
    rows = []
    runs = list(pressure_runs(b.lines))
    fpa = {d.string for _, _, d in runs if d}
    # the first is the main run, the rest load/unload cycles
    demos = [d for d in b.grep(DEMO) if d.string not in fpa]
    for m in demos[:1]:
        cpus, rooms, ms, task, soft, hard, det, _, _, viol, mism, lost = \
            map(int, m.groups())
        rows.append(("1 concurrency", b.kernel, f"{ms / 1000:g} s",
                     f"{task + soft + hard} claims (task {task}, softirq "
                     f"{soft}, hardirq {hard}; {det} detached), {rooms} rooms"
                     f" / {3 * cpus} claimants",
                     viol + mism, lost + b.leaks(), b.reports))
    p = b.grep(KPRESSURE)
    if p:
        ops = sum(int(m.group(3)) + int(m.group(5)) + int(m.group(6)) +
                  int(m.group(7)) for m in p)
        fills = sum(int(m.group(8)) for m in p)
        failed = sum(int(m.group(9)) for m in p)
        ms = sum(int(m.group(2)) for m in p)
        pcts = "/".join(m.group(1) for m in p)
        rows.append(("2 memory pressure", b.kernel, f"{ms / 1000:g} s",
                     f"{ops} claims, {fills} refills ({failed} failed; "
                     f"{pcts}% injected); create failing at each allocation: "
                     f"{b.verdict('create_fails_at_each_allocation')}",
                     b.failed_cases(PRESSURE_CASES), b.leaks(), b.reports))
    if runs:
        claims = fills = failed = violations = lost = ms = 0
        for pct, rc, d in runs:
            if d is None or rc:
                violations += 1
                continue
            g = list(map(int, d.groups()))
            claims += sum(g[3:6])
            fills += g[7] + g[8]
            failed += g[8]
            violations += g[9] + g[10] + (pct > 0 and not g[8])
            lost += g[11]
            ms += g[2]
        rows.append(("2 memory pressure", b.kernel, f"{ms / 1000:g} s",
                     f"fail_page_alloc {'/'.join(str(r[0]) for r in runs)}% "
                     f"on labyrinth's allocations: {claims} claims in 3 "
                     f"contexts, {fills} refills ({failed} failed)",
                     violations, lost + b.leaks(), b.reports))
    bad = b.grep(BAD)
    if bad:
        calls = sum(int(m.group(1)) for m in bad)
        counted = sum(int(m.group(3)) for m in bad)
        rows.append(("3 bad input", b.kernel, "-",
                     f"{calls} calls in {len(bad)} contexts ({counted} "
                     f"counted as bad); bad configs "
                     f"{b.verdict('create_rejects_bad_config')}, edge configs "
                     f"{b.verdict('create_accepts_edge_configs')}, destroy "
                     "with an owned room "
                     f"{b.verdict(DESTROY_OWNED)}",
                     b.failed_cases(BAD_CASES), b.leaks(), b.reports))
    for m in b.grep(CYCLES):
        n, fails, unb, left, first, last = map(int, m.groups()[:6])
        secs = float(m.group(8)) - float(m.group(7))
        drop = first - last
        claims = sum(sum(map(int, d.groups()[3:6])) for d in demos[1:])
        rows.append(("4 load/unload", b.kernel, f"{secs:.0f} s",
                     f"{n} cycles of insmod + rmmod, the sample claiming "
                     f"{claims} rooms in all; MemFree {first} -> {last} kB",
                     fails + left,
                     unb + b.leaks() + (drop > MEMFREE_MARGIN_KB),
                     b.reports))
    if b.kernel == "rt":
        rows.append(("5 PREEMPT_RT", b.kernel, "-",
                     f"{sum(b.leaves)} KUnit cases (with params) run; "
                     f"{len(module_loads(b.lines))} modules loaded and "
                     "unloaded (labyrinth, suite, sample, bench smoke run)",
                     b.leaves[1] + b.failed_cases() + b.load_failures,
                     b.leaks(), b.reports))
    return rows


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    rows, bad, notes = [], [], []
    for arg in sys.argv[1:]:
        kernel, _, path = arg.partition("=")
        if not os.path.exists(path):
            bad.append(f"{kernel}: no log {path}")
            continue
        b = Boot(kernel, path)
        if not b.finished:
            bad.append(f"{kernel}: the boot did not finish ({path})")
        notes.extend(f"{kernel}: not counted, a KCSAN report on kernel "
                     f"code alone: {p}" for p in b.foreign)
        got = rows_for(b)
        if not got:
            bad.append(f"{kernel}: nothing to count in {path}")
        rows.extend(got)
    head = ("campaign", "kernel", "time", "operations", "violations",
            "leaks", "reports")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in sorted(rows, key=lambda r: r[0]):
        print("| " + " | ".join(str(c) for c in r) + " |")
        if any(r[4:]):
            bad.append(f"{r[0]} ({r[1]}): violations {r[4]}, leaks {r[5]}, "
                       f"reports {r[6]}")
    for p in notes:
        print("note: " + p)
    for p in bad:
        print("stress: " + p)
    print(f"stress: {len(rows)} rows, {'FAILED' if bad else 'all zero'}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
