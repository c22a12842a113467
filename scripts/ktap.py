#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The one judge of labyrinth's test runs.

Every check of `make test`, in a kernel or on the host, reports as KTAP:
the KUnit suites, qemu/init's checks of a boot (module loads, page
balance, load/unload cycles, fail_page_alloc runs, kmemleak), the builds
and the static checkers (scripts/test.sh). This script reads those
documents, and the kernel log they came with, and decides:

  ktap.py judge --kernel VERSION --step STEP [--end MARKER] [--allow RE]...
                [--no-log] [--probes H [--arch A]] --out FILE.json LOG...
      Every KTAP document in the LOGs (a KUnit kernel prints an empty one,
      "1..0", at boot: skipped). Leaf results are the cases, each named by
      its path "suite.case[.param]"; a plan that promised more results
      than came counts the missing ones as failed. Unless --no-log, the
      LOGs are kernel logs and are also read for checker reports
      (lockdep, KASAN, KCSAN, atomic sleep, WARNING, BUG, kmemleak), which
      KUnit does not turn into failures: each such log adds a case
      "log.kernel log clean". With --end, "log.boot finished" says whether
      the MARKER line came (else the boot hung or panicked). With
      --probes, the feature probes Kbuild found for this kernel are held
      against the plan's "feature" lines (suite "features"). Prints
      "<VERSION> <STEP>: N passed, N failed, N skipped" and writes every
      case to FILE.json.

  ktap.py verdict --section S --lines "L..." [--offline] RESULTS
      Holds RESULTS/<line>-<run>/ (each step's status, JSON reports, and
      an "unreachable" file that only the fetching of a kernel writes)
      against section S of the expected plan (scripts/expected.plan): a
      step that did not run, a missing report or suite, fewer cases than
      planned, a skip the plan does not allow, a non-zero exit, a step the
      plan does not name, or (unless --offline) a kernel that could not
      be fetched, each fails the run with a line that names it. Prints
      each report's line, the problems, the plan's own line and the total
      "N passed, N failed, N skipped" last; exit status 1 if anything
      failed.

  ktap.py diag LOG KEY
      The values of the KTAP diagnostic lines "# KEY: value" in LOG.
"""
import argparse
import fnmatch
import json
import os
import re
import sys
from collections import namedtuple

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

PLAN_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         "expected.plan")
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


class Case(namedtuple("Case", "name status id reason")):
    """One result: @name says where it came from (log: path of names),
    @id is the path of names "suite.case[.param]" the plan matches,
    @status PASS, FAIL or SKIP, @reason the text after "# SKIP"."""


def parse(doc, cases, where):
    """Append a Case for every leaf result of @doc to @cases.

    Depth is the indentation in steps of 4 (KUnit's subtests). The results
    at depth d + 1 since the last result at depth <= d are the children of
    the next result at depth d; a result without children is a case, named
    by the "# Subtest:" lines above it (suite, case) and its own name. A
    parent "not ok" whose cases all passed (e.g. a suite whose init
    failed) adds one failed case; results a plan promised that never came
    are failed cases named "<missing>".
    """
    groups = {}     # depth -> [(name, failed leaves)] of the open group
    plans = {}      # depth -> plan of the open group
    subtest = {}    # depth -> "# Subtest:" name of the open group

    def ident(d, name):
        return ".".join([subtest.get(k, "?") for k in range(1, d + 1)] + [name])

    def close(d, owner):
        """Close the groups deeper than @d; return their failed leaves."""
        failed = 0
        for k in sorted([k for k in groups if k > d], reverse=True):
            got = len(groups[k])
            want = plans.pop(k, None)
            if want is not None and got < want:
                for _ in range(want - got):
                    cases.append(Case(f"{where}: {subtest.get(k) or owner}: "
                                      "<missing>", "FAIL",
                                      ident(k, "<missing>"), ""))
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
            subtest[d] = m.group(2).strip()
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
                cases.append(Case(f"{where}: {name} (failed outside its "
                                  "cases)", "FAIL",
                                  ident(d, name) + ".<outside>", ""))
                failed_below = 1
            groups.setdefault(d, []).append((name, failed_below))
            continue
        skip = (m.group(5) or "").upper() == "SKIP"
        status = "SKIP" if skip else "PASS" if ok else "FAIL"
        cases.append(Case(f"{where}: {name}", status, ident(d, name),
                          (m.group(6) or "").strip() if skip else ""))
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


FRAME = re.compile(r"^\s+(\? )?[A-Za-z_][\w.]*\+0x[0-9a-f]+/0x[0-9a-f]+")
WHERE = re.compile(r"RIP: |Modules linked in:|Comm: ")


def where(lines, reports):
    """Where the first two reports happened, for a log that is not kept:
    the task, RIP, the first six frames of the trace ("? " unreliable
    frames included, the marker dropped) and the first line of the modules
    loaded. Only Oops, BUG, WARNING, general protection faults and
    unhandled faults are placed; other reports (RCU stalls, INFO:) are
    listed by their first line alone."""
    out, seen = [], 0
    for r in reports:
        if seen == 2:
            break
        i = int(r.split(":")[0].split()[1]) - 1
        if not re.search(r"Oops|BUG:|WARNING:|general protection|Unable to handle",
                         lines[i]):
            continue
        seen += 1
        ctx, frames = [], []
        for l in lines[i + 1:i + 60]:
            if "---[ end trace" in l or (SPLAT.search(l) and
                                         "Call Trace:" not in l):
                break
            if WHERE.search(l) and l.strip() not in ctx:
                ctx.append(l.strip())
            elif FRAME.search(l) and len(frames) < 6:
                frames.append(l.strip().removeprefix("? "))
        if frames:
            ctx.append("trace: " + ", ".join(frames))
        out += [f"  at line {i + 1}: " + c for c in ctx]
    return out


def judge(args):
    cases, notes = [], []
    allow = [re.compile(a) for a in args.allow]
    for path in args.logs:
        short = path.split("/")[-1]
        try:
            with open(path, errors="replace") as f:
                lines = [strip(l) for l in f]
        except OSError as e:
            cases.append(Case(f"{path}: readable", "FAIL", "log.readable", ""))
            notes.append(str(e))
            continue
        ndocs = 0
        for doc in documents(lines):
            ndocs += 1
            parse(doc, cases, short)
        if not ndocs:
            cases.append(Case(f"{short}: has KTAP results", "FAIL",
                              "log.has KTAP results", ""))
        if not args.no_log:
            ours, foreign = splats(lines, allow)
            for p in foreign:
                notes.append("a KCSAN report on kernel code alone, not "
                             "counted: " + p)
            cases.append(Case(f"{short}: kernel log clean",
                              "FAIL" if ours else "PASS",
                              "log.kernel log clean", ""))
            notes += ["checker report: " + p for p in ours[:40]]
            notes += where(lines, ours)
        if args.end:
            done = any(l.strip() == args.end for l in lines)
            cases.append(Case(f"{short}: boot finished ({args.end})",
                              "PASS" if done else "FAIL",
                              "log.boot finished", ""))
    if args.probes:
        features(args, cases)
    res = summarize(args.kernel, args.step, cases, notes, args.logs)
    for n in res["failures"][:60]:
        print(f"  not ok: {n}")
    for n in notes[:60]:
        print(f"  {n}")
    print(line(res))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(res, f, indent=1)
    return 1 if res["failed"] else 0


def summarize(kernel, step, cases, notes, logs):
    counts = {s: sum(1 for c in cases if c.status == s)
              for s in ("PASS", "FAIL", "SKIP")}
    return {"kernel": kernel, "step": step, "passed": counts["PASS"],
            "failed": counts["FAIL"], "skipped": counts["SKIP"],
            "failures": [c.name for c in cases if c.status == "FAIL"],
            "cases": [[c.id, c.status, c.reason] for c in cases],
            "notes": notes, "logs": logs}


def line(res):
    return (f"{res['kernel']} {res['step']}: {res['passed']} passed, "
            f"{res['failed']} failed, {res['skipped']} skipped")


# ---- the expected plan (scripts/expected.plan) ----

def series(version):
    """(major, minor) of a kernel version such as 7.3.0-rc7 or
    6.12.117+deb12-amd64."""
    m = re.match(r"(\d+)\.(\d+)", version)
    if not m:
        raise SystemExit(f"ktap.py: no kernel version in {version!r}")
    return int(m.group(1)), int(m.group(2))


def in_range(ver, rng):
    """@rng: "A-" (from A on), "-B" (up to B), "A-B" or "A"; A, B are N.M."""
    lo, _, hi = rng.partition("-") if "-" in rng else (rng, "", rng)
    return ((not lo or ver >= series(lo)) and (not hi or ver <= series(hi)))


class Plan:
    """What must report, per section ([test], [stress]): runs, each with
    the lines (kernels) it runs for and the reports it must write; each
    report with its suites' minimum case counts and its allowed skips;
    and the features each kernel must offer. See scripts/expected.plan."""

    def __init__(self, path):
        self.runs = {}          # section -> [run]
        self.features = []      # (probe, range, arch or None)
        sect = run = rep = None
        with open(path) as f:
            for n, raw in enumerate(f, 1):
                words = raw.split("#", 1)[0].split()
                if not words:
                    continue
                kw, rest = words[0], words[1:]
                where = f"{path}:{n}"
                if kw.startswith("[") and kw.endswith("]"):
                    sect = kw[1:-1]
                    self.runs.setdefault(sect, [])
                elif kw == "run" and sect and len(rest) == 2:
                    run = {"lines": rest[0].split(","), "name": rest[1],
                           "reports": []}
                    self.runs[sect].append(run)
                elif kw == "report" and run and len(rest) == 1:
                    rep = {"step": rest[0], "suites": {}, "skips": []}
                    run["reports"].append(rep)
                elif kw == "suite" and rep and len(rest) == 2:
                    rep["suites"][rest[0]] = int(rest[1])
                elif kw == "skip" and rep and "--" in rest:
                    i = rest.index("--")
                    rep["skips"].append((" ".join(rest[:i]),
                                         " ".join(rest[i + 1:])))
                elif kw == "feature" and len(rest) in (2, 3):
                    self.features.append((rest[0], rest[1],
                                          rest[2] if len(rest) == 3 else None))
                else:
                    raise SystemExit(f"{where}: cannot read {raw.strip()!r}")


def features(args, cases):
    """The probes Kbuild found (labyrinth_probes.h) against what the plan
    says this kernel offers: a probe that failed on a kernel that has the
    API (or passed on one that lacks it) would turn tests into skips or
    take the wrong path quietly. One case per probe, suite "features"."""
    plan = Plan(args.plan)
    ver = series(args.kernel)
    try:
        with open(args.probes) as f:
            found = set(re.findall(r"#define LABYRINTH_HAVE_(\w+) 1", f.read()))
    except OSError:
        cases.append(Case(f"{args.probes}: readable", "FAIL",
                          "features.probes header", ""))
        return
    for probe, rng, arch in plan.features:
        want = in_range(ver, rng) and arch in (None, args.arch)
        got = probe.upper() in found
        ok = want == got
        cases.append(Case(f"features: {probe} {'found' if got else 'absent'}"
                          f", {args.kernel} ({args.arch}) "
                          f"{'has' if want else 'lacks'} it",
                          "PASS" if ok else "FAIL", f"features.{probe}", ""))


def check_report(res, rep, problems):
    """Hold one report against its plan: suites and their case counts,
    skips against the allowed ones. Appends to @problems; returns the
    number of checks that held."""
    held = 0
    cases = res.get("cases", [])
    for suite, least in rep["suites"].items():
        got = sum(1 for cid, _, _ in cases if cid.split(".")[0] == suite)
        if got < least:
            problems.append(f"suite {suite}: {got} cases reported, "
                            f"at least {least} expected")
        else:
            held += 1
    for cid, status, reason in cases:
        if status != "SKIP":
            continue
        if any(fnmatch.fnmatchcase(cid, g) and r in reason
               for g, r in rep["skips"]):
            held += 1
        else:
            problems.append(f"unexpected skip: {cid} ({reason or 'no reason'})")
    return held


def verdict(args):
    """Every step of the plan's section that should have run, held against
    the plan; the lines of every report, then the plan's own line, then
    the total last."""
    plan = Plan(args.plan)
    lines = args.lines.split()
    results, problems, untested, held = [], [], [], 0
    seen = set()
    for run in plan.runs.get(args.section, []):
        for ln in run["lines"]:
            if ln not in lines:
                continue
            label = f"{ln} {run['name']}"
            d = os.path.join(args.results, f"{ln}-{run['name']}")
            seen.add(os.path.basename(d))
            unreach = readfile(os.path.join(d, "unreachable"))
            status = readfile(os.path.join(d, "status"))
            if unreach and args.offline:
                untested.append(f"{label}: {unreach.splitlines()[0]}")
                continue
            if unreach:
                problems.append(f"{label}: its kernel could not be fetched: "
                                + unreach.replace("\n", "\n      "))
                continue
            if status is None:
                problems.append(f"{label}: did not run")
                continue
            reps = [json.load(open(os.path.join(d, f)))
                    for f in sorted(os.listdir(d)) if f.endswith(".json")]
            results += reps
            for rep in run["reports"]:
                mine = [r for r in reps if r["step"] == rep["step"]]
                if len(mine) != 1:
                    problems.append(f"{label}: {len(mine)} reports "
                                    f"'{rep['step']}', one expected")
                    continue
                sub = []
                held += 1 + check_report(mine[0], rep, sub)
                problems += [f"{label} ({mine[0]['kernel']} {rep['step']}): "
                             + p for p in sub]
            for r in reps:
                if r["step"] not in [p["step"] for p in run["reports"]]:
                    problems.append(f"{label}: report '{r['step']}' is not "
                                    "in the plan")
            rc = int(status.strip() or 1)
            if rc and not any(r["failed"] for r in reps):
                problems.append(f"{label}: exit status {rc} with no failed "
                                "case" + last_error(d))
    if os.path.isdir(args.results):
        for d in sorted(os.listdir(args.results)):
            if d not in seen and os.path.isdir(os.path.join(args.results, d)):
                problems.append(f"{d}: a step the plan does not name")
    tot = {"passed": held, "failed": len(problems), "skipped": 0}
    for res in sorted(results, key=lambda r: (series(r["kernel"]), r["kernel"],
                                              r["step"])):
        print(line(res))
        for k in tot:
            tot[k] += res[k]
    for p in problems:
        print(f"  not ok: {p}")
    for u in untested:
        print(f"  NOT TESTED (offline): {u}")
    print(f"expected plan: {held} passed, {len(problems)} failed, 0 skipped")
    print(f"{tot['passed']} passed, {tot['failed']} failed, "
          f"{tot['skipped']} skipped")
    return 1 if tot["failed"] or not tot["passed"] else 0


def last_error(d):
    """The last error lines of a step's output (step.log), to say why."""
    log = readfile(os.path.join(d, "step.log")) or ""
    errs = [l.strip() for l in log.splitlines()
            if re.search(r"error|Error|ERROR|not found|No such file", l)]
    return "".join(f"\n      {e}" for e in errs[-3:])


def readfile(path):
    try:
        with open(path, errors="replace") as f:
            return f.read().strip()
    except OSError:
        return None


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
    j.add_argument("--probes", help="labyrinth_probes.h to hold against "
                   "the plan's features for --kernel")
    j.add_argument("--arch", default="x86")
    j.add_argument("--plan", default=PLAN_FILE)
    j.add_argument("--out")
    j.add_argument("logs", nargs="+")
    v = sub.add_parser("verdict")
    v.add_argument("--plan", default=PLAN_FILE)
    v.add_argument("--section", required=True)
    v.add_argument("--lines", required=True)
    v.add_argument("--offline", action="store_true")
    v.add_argument("results")
    d = sub.add_parser("diag")
    d.add_argument("log")
    d.add_argument("key")
    args = ap.parse_args()
    return {"judge": judge, "verdict": verdict, "diag": diag}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
