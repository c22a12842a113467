#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The one judge of labyrinth's test runs.

Every check of `make test`, in a kernel or on the host, reports as KTAP:
the KUnit suites, qemu/init's checks of a boot (module loads, page
balance, load/unload cycles, fail_page_alloc runs, kmemleak), the builds
and the static checkers (scripts/test.sh). This script reads those
documents, and the kernel log they came with, and decides:

  ktap.py judge --kernel VERSION --step STEP [--end MARKER] [--allow RE]...
                [--no-log] --out FILE.json LOG...
      Every KTAP document in the LOGs (a KUnit kernel prints an empty one,
      "1..0", at boot: skipped). Leaf results are the cases; a plan that
      promised more results than came counts the missing ones as failed.
      Unless --no-log, the LOGs are kernel logs and are also read for
      checker reports (lockdep, KASAN, KCSAN, atomic sleep, WARNING, BUG,
      kmemleak), which KUnit does not turn into failures: each such log
      adds a failed case "kernel log clean" (else a passed one). With
      --end, a log lacking the MARKER line (the boot hung or panicked) adds
      a failed case. Prints "<VERSION> <STEP>: N passed, N failed, N
      skipped" and writes the results to FILE.json.

  ktap.py total FILE.json...
      The lines of every step, then the total "N passed, N failed, N
      skipped" last. Exit status 1 if anything failed.

  ktap.py record --kernel VERSION --step STEP (--skip|--fail) REASON --out F
      A step that could not report for itself: one skipped case (its
      kernel is out of reach) or one failed case (it died first).

  ktap.py diag LOG KEY
      The values of the KTAP diagnostic lines "# KEY: value" in LOG.
"""
import argparse
import json
import re
import sys

SPLAT = re.compile(
    r"WARNING:|BUG:|Oops|Call Trace:|Kernel panic|possible recursive locking|"
    r"possible circular locking|inconsistent lock state|Invalid wait context|"
    r"inconsistent \{|suspicious RCU usage|"
    r"sleeping function called from invalid context|KASAN:|"
    r"unreferenced object|lockdep is turned off|INFO: |Unable to handle|"
    r"general protection fault|stack-protector|watchdog: BUG|hung_task")
# A KCSAN report names the functions of both accesses; ours carry a module tag.
KCSAN = re.compile(r"BUG: KCSAN: ")
OURS = re.compile(r"\[labyrinth(_test|_demo|_bench)?\]|labyrinth")

# Lines that look like reports and are not: labyrinth_destroy() names a
# room still owned (the sample keeps rooms on purpose, the suite checks the
# message); x86 times every handler on the NMI_LOCAL chain in wall time, so
# while the suite sends NMIs under TCG (a vCPU can be off its host core for
# milliseconds) any handler of that chain, ours or the kernel's backtrace
# handler, may be noted as slow.
EXPECTED = [re.compile(r"destroyed with room [0-9]+ owned by .*left to the owner"),
            re.compile(r"INFO: NMI handler \((lt_nmi_handler \[labyrinth_test\]|"
                       r"lt_hammer_nmi \[labyrinth_test\]|"
                       r"nmi_cpu_backtrace_handler)\) took too long to run")]

PREFIX = re.compile(r"^\[\s*\d+\.\d+\]\s?")      # printk time, if on
RESULT = re.compile(r"^(\s*)(not ok|ok) (\d+)(?: (?:- )?([^#]*?))?\s*(?:#\s*(\S+)(.*))?$")
PLAN = re.compile(r"^(\s*)1\.\.(\d+)\s*$")
VERSION = re.compile(r"^(\s*)(?:KTAP|TAP) version \d+\s*$")
DIAG = re.compile(r"^\s*# ([A-Za-z0-9_ ./-]+?): (.*)$")


def strip(line):
    return PREFIX.sub("", line.rstrip("\r\n"))


def documents(lines):
    """Top-level KTAP documents: lists of lines from a version line to the
    next one; empty documents (plan 1..0, no results) are dropped."""
    starts = [i for i, l in enumerate(lines)
              if VERSION.match(l) and not VERSION.match(l).group(1)]
    for n, s in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        doc = lines[s:end]
        if any(PLAN.match(l) and PLAN.match(l).group(2) == "0" and
               not PLAN.match(l).group(1) for l in doc[1:4]) and \
                not any(RESULT.match(l) for l in doc):
            continue
        yield doc


def parse(doc, cases, where):
    """Append (name, status) for every leaf case of @doc to @cases.

    Depth is the indentation in steps of 4 (KUnit's subtests). The results
    at depth d + 1 since the last result at depth <= d are the children of
    the next result at depth d; a result without children is a case. A
    parent "not ok" whose cases all passed (e.g. a suite whose init
    failed) adds one failed case; results a plan promised that never came
    are failed cases named "<missing>".
    """
    groups = {}     # depth -> [(name, failed leaves)] of the open group
    plans = {}      # depth -> plan of the open group
    subtest = {}    # depth -> "# Subtest:" name of the open group

    def close(d, owner):
        """Close the groups deeper than @d; return their failed leaves."""
        failed = 0
        for k in sorted([k for k in groups if k > d], reverse=True):
            got = len(groups[k])
            want = plans.pop(k, None)
            if want is not None and got < want:
                for _ in range(want - got):
                    cases.append((f"{where}: {subtest.get(k) or owner}: "
                                  "<missing>", "FAIL"))
                failed += want - got
            failed += sum(f for _, f in groups.pop(k))
            subtest.pop(k, None)
        return failed

    for raw in doc:
        indent = len(raw) - len(raw.lstrip(" "))
        d = indent // 4
        m = PLAN.match(raw)
        if m:
            plans[d] = int(m.group(2))
            groups.setdefault(d, [])
            continue
        m = DIAG.match(raw)
        if m and m.group(1) == "Subtest":
            subtest[d] = m.group(2)
            continue
        m = RESULT.match(raw)
        if not m:
            continue
        name = (m.group(4) or "").strip()
        has_children = any(k > d for k in groups)
        failed_below = close(d, name)
        ok = m.group(2) == "ok"
        if has_children:
            if not ok and not failed_below:
                cases.append((f"{where}: {name} (failed outside its cases)",
                              "FAIL"))
                failed_below = 1
            groups.setdefault(d, []).append((name, failed_below))
            continue
        skip = (m.group(5) or "").upper() == "SKIP"
        status = "SKIP" if skip else "PASS" if ok else "FAIL"
        cases.append((f"{where}: {name}", status))
        groups.setdefault(d, []).append((name, status == "FAIL"))
    close(-1, "top level")


def splats(lines, allow):
    """Checker reports in a kernel log: (ours, foreign KCSAN reports).

    A KCSAN report whose header names no function of labyrinth's modules
    is a race of the kernel's own seen in strict mode (e.g. in the boot's
    timer calibration): listed, not counted.
    """
    ours, foreign = [], []
    for i, l in enumerate(lines):
        if not SPLAT.search(l) or any(a.search(l) for a in EXPECTED + allow):
            continue
        where = foreign if KCSAN.search(l) and not OURS.search(l) else ours
        where.append(f"line {i + 1}: {l}")
    return ours, foreign


def judge(args):
    cases, notes = [], []
    allow = [re.compile(a) for a in args.allow]
    for path in args.logs:
        try:
            with open(path, errors="replace") as f:
                lines = [strip(l) for l in f]
        except OSError as e:
            cases.append((f"{path}: readable", "FAIL"))
            notes.append(str(e))
            continue
        short = path.split("/")[-1]
        ndocs = 0
        for doc in documents(lines):
            ndocs += 1
            parse(doc, cases, short)
        if not ndocs:
            cases.append((f"{short}: has KTAP results", "FAIL"))
        if not args.no_log:
            ours, foreign = splats(lines, allow)
            for p in foreign:
                notes.append("a KCSAN report on kernel code alone, not "
                             "counted: " + p)
            cases.append((f"{short}: kernel log clean",
                          "FAIL" if ours else "PASS"))
            notes += ["checker report: " + p for p in ours[:40]]
        if args.end and not any(l.strip() == args.end for l in lines):
            cases.append((f"{short}: boot finished ({args.end})", "FAIL"))
    counts = {s: sum(1 for _, st in cases if st == s)
              for s in ("PASS", "FAIL", "SKIP")}
    res = {"kernel": args.kernel, "step": args.step, "passed": counts["PASS"],
           "failed": counts["FAIL"], "skipped": counts["SKIP"],
           "failures": [n for n, st in cases if st == "FAIL"],
           "notes": notes, "logs": args.logs}
    for n in res["failures"][:60]:
        print(f"  not ok: {n}")
    for n in notes[:60]:
        print(f"  {n}")
    print(line(res))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(res, f, indent=1)
    return 1 if res["failed"] else 0


def line(res):
    return (f"{res['kernel']} {res['step']}: {res['passed']} passed, "
            f"{res['failed']} failed, {res['skipped']} skipped")


def total(args):
    tot = {"passed": 0, "failed": 0, "skipped": 0}
    for path in args.results:
        with open(path) as f:
            res = json.load(f)
        print(line(res))
        for k in tot:
            tot[k] += res[k]
    print(f"{tot['passed']} passed, {tot['failed']} failed, "
          f"{tot['skipped']} skipped")
    return 1 if tot["failed"] or not tot["passed"] else 0


def record(args):
    skip = args.skip is not None
    res = {"kernel": args.kernel, "step": args.step, "passed": 0,
           "failed": 0 if skip else 1, "skipped": 1 if skip else 0,
           "failures": [] if skip else [args.fail],
           "notes": [args.skip if skip else args.fail], "logs": []}
    print(f"  {'skipped' if skip else 'not ok'}: {res['notes'][0]}")
    print(line(res))
    with open(args.out, "w") as f:
        json.dump(res, f, indent=1)
    return 0 if skip else 1


def diag(args):
    with open(args.log, errors="replace") as f:
        for l in f:
            m = DIAG.match(strip(l))
            if m and m.group(1) == args.key:
                print(m.group(2))
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    j = sub.add_parser("judge")
    j.add_argument("--kernel", required=True)
    j.add_argument("--step", required=True)
    j.add_argument("--end")
    j.add_argument("--allow", action="append", default=[])
    j.add_argument("--no-log", action="store_true")
    j.add_argument("--out")
    j.add_argument("logs", nargs="+")
    t = sub.add_parser("total")
    t.add_argument("results", nargs="+")
    r = sub.add_parser("record")
    r.add_argument("--kernel", required=True)
    r.add_argument("--step", required=True)
    g = r.add_mutually_exclusive_group(required=True)
    g.add_argument("--skip")
    g.add_argument("--fail")
    r.add_argument("--out", required=True)
    d = sub.add_parser("diag")
    d.add_argument("log")
    d.add_argument("key")
    args = ap.parse_args()
    return {"judge": judge, "total": total, "record": record,
            "diag": diag}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
