#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Read the serial log of a labyrinth test boot (qemu/init) and judge it.

Every KTAP document in the log goes through kunit.py parse (a KUNIT=y kernel
prints an empty one at boot, so the log is split and each is parsed); every
module load is one case (insmod and rmmod must both succeed); any splat, a
kmemleak report or a missing end marker fails the run.

Prints the parsed results, the offending lines, and last a line
"<label>: N passed, N failed, N skipped". Exit status 1 on any failure.
With --splats-only it only looks for splats (scripts/kunit.sh uses it on
the UML log, whose cases kunit.py has already counted).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ktap_count import walk  # noqa: E402

SPLAT = re.compile(
    r"WARNING:|BUG:|Oops|Call Trace:|Kernel panic|possible recursive locking|"
    r"possible circular locking|inconsistent lock state|Invalid wait context|"
    r"suspicious RCU usage|sleeping function called from invalid context|"
    r"KASAN:|unreferenced object|lockdep is turned off|INFO: |"
    r"Unable to handle|general protection fault|stack-protector")

# A KCSAN report names the functions of both accesses; ours carry a module tag.
KCSAN = re.compile(r"BUG: KCSAN: ")
OURS = re.compile(r"\[labyrinth(_test|_demo|_bench)?\]")


def splats(lines, allow=()):
    """Splat lines of the log, and the KCSAN reports on kernel code alone.

    A KCSAN report whose two accesses are both in kernel code (its header
    names no function of labyrinth's modules) is a race of the kernel's
    own, seen in strict mode (e.g. lapic_cal_handler at boot, or
    hrtimer_wakeup / schedule_hrtimeout): listed, not counted.
    """
    ours, foreign = [], []
    for i, l in enumerate(lines):
        if not SPLAT.search(l) or any(a.search(l) for a in allow):
            continue
        where = foreign if KCSAN.search(l) and not OURS.search(l) else ours
        where.append(f"log line {i + 1}: {l}")
    return ours, foreign


# qemu/init's summary of its load/unload cycles
CYCLES = re.compile(
    r"LABYRINTH-CYCLES cycles=(\d+) .*failures=(\d+) unbalanced=(\d+) "
    r"debugfs_left=(\d+) memfree_kb_after_cycle_\d+=(\d+) "
    r"memfree_kb_last=(\d+) uptime_s=([\d.]+)-([\d.]+)")
MEMFREE_MARGIN_KB = 4096
# the sample's summary line (samples/labyrinth_demo.c)
DEMO = re.compile(
    r"labyrinth_demo: (\d+) CPUs, (\d+) rooms, (\d+) ms: claims task (\d+) "
    r"softirq (\d+) hardirq (\d+); detached (\d+);.*refills (\d+), (\d+) "
    r"failed; canary violations (\d+); owner mismatches (\d+); rooms lost "
    r"(\d+)")
# qemu/init's fail_page_alloc runs: the sample's exit code
PRESSURE = re.compile(r"^LABYRINTH-PRESSURE pct=(\d+) rc=(\d+)")


def pressure_runs(lines):
    """(percent, insmod rc, the sample's DEMO match or None) per run."""
    demo = None
    for l in lines:
        m = DEMO.search(l)
        if m:
            demo = m
        m = PRESSURE.search(l)
        if m:
            yield int(m.group(1)), int(m.group(2)), demo
            demo = None


def ktap_docs(lines):
    starts = [i for i, l in enumerate(lines) if l.strip() == "KTAP version 1"
              and not l.startswith((" ", "\t"))]
    for n, s in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        doc = lines[s:end]
        plans = [l.strip() for l in doc[1:3]]
        if "1..0" in plans:
            continue
        yield doc


def parse_ktap(doc, ksrc, acc):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ktap.log")
        out = os.path.join(tmp, "ktap.json")
        with open(path, "w") as f:
            f.write("\n".join(doc) + "\n")
        res = subprocess.run(
            [sys.executable, os.path.join(ksrc, "tools/testing/kunit/kunit.py"),
             "parse", "--json=" + out, path],
            cwd=ksrc, capture_output=True, text=True)
        print(res.stdout, end="")
        try:
            with open(out) as f:
                walk(json.load(f), acc)
        except (OSError, ValueError):
            print("qemu_log: kunit.py parse gave no results", file=sys.stderr)
            acc["FAIL"] += 1


def dump(lines, label):
    """The lines qemu/init printed between its dump markers, or None."""
    try:
        start = lines.index("LABYRINTH-DUMP-BEGIN " + label)
        end = lines.index("LABYRINTH-DUMP-END " + label, start)
    except ValueError:
        return None
    return lines[start + 1:end]


def page_balance(lines):
    """(values of the labyrinth/pages dump, balanced?), or None if absent."""
    pages = dump(lines, "pages")
    if pages is None:
        return None
    v = {k: int(n) for k, n in
         (l.split() for l in pages if len(l.split()) == 2)}
    ok = (v.get("unbalanced") == 0 and "pages_taken" in v and
          v["pages_taken"] == v.get("pages_freed", -1) +
          v.get("pages_given", -1))
    return v, ok


def module_loads(lines):
    """{module: (insmod rc, rmmod rc or None)} from qemu/init's lines."""
    loads, unloads = {}, {}
    for l in lines:
        m = re.search(r"LABYRINTH-LOAD (\S+) rc=(\d+)", l)
        if m:
            loads[m.group(1)] = int(m.group(2))
        m = re.search(r"LABYRINTH-UNLOAD (\S+) rc=(\d+)", l)
        if m:
            unloads[m.group(1)] = int(m.group(2))
    return {n: (rc, unloads.get(n)) for n, rc in loads.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("--ksrc")
    ap.add_argument("--splats-only", action="store_true")
    ap.add_argument("--label", default="qemu")
    ap.add_argument("--allow", action="append", default=[],
                    help="regex of splat-looking lines that are expected")
    ap.add_argument("--memfree-margin-kb", type=int, default=MEMFREE_MARGIN_KB,
                    help="most MemFree may drop over the load/unload cycles")
    args = ap.parse_args()

    with open(args.log, errors="replace") as f:
        lines = [l.rstrip("\r\n") for l in f]

    allow = [re.compile(a) for a in args.allow]
    found, foreign = splats(lines, allow)
    for p in foreign:
        print("note: a KCSAN report on kernel code alone, not counted: " + p)
    if args.splats_only:
        for p in found[:40]:
            print("  " + p)
        sys.exit(1 if found else 0)

    acc = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    for doc in ktap_docs(lines):
        parse_ktap(doc, args.ksrc, acc)

    problems = list(found)
    loads = module_loads(lines)
    for name, (rc, urc) in loads.items():
        ok = rc == 0 and urc == 0
        print(f"module {name}: insmod rc={rc}, rmmod "
              f"{'rc=%d' % urc if urc is not None else 'not run'}: "
              f"{'ok' if ok else 'FAILED'}")
        acc["PASS" if ok else "FAIL"] += 1
    if not loads:
        problems.append("no module was loaded")

    # the page balance of every labyrinth ended while labyrinth was loaded
    balance = page_balance(lines)
    if balance is not None:
        v, ok = balance
        print(f"page balance: {v.get('labyrinths_ended')} labyrinths ended, "
              f"{v.get('pages_taken')} pages taken = {v.get('pages_freed')} "
              f"freed + {v.get('pages_given')} given, "
              f"{v.get('unbalanced')} unbalanced: {'ok' if ok else 'FAILED'}")
        acc["PASS" if ok else "FAIL"] += 1

    for pct, rc, demo in pressure_runs(lines):
        failures = int(demo.group(9)) if demo else 0
        # the injection must have hit some refills, or it tested nothing
        ok = rc == 0 and demo is not None and (pct == 0 or failures > 0)
        print(f"fail_page_alloc {pct}%: sample rc={rc}, {failures} refills "
              f"failed: {'ok' if ok else 'FAILED'}")
        acc["PASS" if ok else "FAIL"] += 1

    if (any(l.startswith("LABYRINTH-CYCLES-BEGIN") for l in lines) and
            not any(CYCLES.search(l) for l in lines)):
        problems.append("load/unload cycles began but gave no summary")
    for l in lines:
        m = CYCLES.search(l)
        if not m:
            continue
        n, fails, unb, left, first, last = map(int, m.groups()[:6])
        drop = first - last
        ok = (fails == 0 and unb == 0 and left == 0 and
              drop <= args.memfree_margin_kb)
        print(f"load/unload cycles: {n}, {fails} failed steps, {unb} "
              f"unbalanced, {left} debugfs dirs left, MemFree {first} -> "
              f"{last} kB (drop {drop} kB, margin {args.memfree_margin_kb}): "
              f"{'ok' if ok else 'FAILED'}")
        acc["PASS" if ok else "FAIL"] += 1

    if not any("LABYRINTH-QEMU-END" in l for l in lines):
        problems.append("no end marker: the boot hung, panicked or timed out")

    if problems:
        print(f"{args.label}: {len(problems)} problem(s) in {args.log}:")
        for p in problems[:40]:
            print("  " + p)
        acc["FAIL"] += 1
    print(f"{args.label}: {acc['PASS']} passed, {acc['FAIL']} failed, "
          f"{acc['SKIP']} skipped")
    sys.exit(1 if acc["FAIL"] else 0)


if __name__ == "__main__":
    main()
