#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Turn labyrinth_bench's console output into tables, target ratios and a plot.

Usage: bench_report.py RESULTS_DIR MODE=SERIAL_LOG...

MODE is the boot (scripts/bench.sh): icount (instructions per pair, exact,
1-CPU points), tcg (wall time, 2 vCPUs), tcg4 and tcg8 (4 and 8 vCPUs),
oversub (4 vCPUs while host processes take the cores). Every comparison
is between peers of the same boot. Writes RESULTS_DIR/latest.png and
prints the report. Exit status 1 if a boot has no complete benchmark run.
"""
import csv
import io
import os
import re
import subprocess
import sys

PEERS = ["labyrinth", "objpool", "mempool", "alloc_pages", "page_pool",
         "lab_rx_copy", "lab_rx_detach", "lab_rx_copy_bulk", "lab_rx_detach_bulk",
         "lab_rx_reuse_bulk", "empty", "spinlock_pair", "cmpxchg"]
CTXS = ["task", "softirq", "hardirq", "cross_cpu", "all"]


def load(log):
    text = open(log, errors="replace").read()
    lines = [m.group(1) for m in re.finditer(r"LABYRINTH-BENCH-CSV (.*)", text)]
    if not lines or "LABYRINTH-BENCH-END 0" not in text:
        return text, None
    rows = {}
    for r in csv.DictReader(io.StringIO("\n".join(lines))):
        rows[(r["peer"], r["context"], int(r["cpus"]))] = r
    return text, rows


class Boot:
    def __init__(self, mode, log):
        self.mode = mode
        self.text, self.rows = load(log)

    def get(self, field, peer, ctx, cpus=None):
        if not self.rows:
            return None
        for (p, c, n), r in self.rows.items():
            if p == peer and c == ctx and (cpus is None or n == cpus):
                return float(r[field])
        return None

    def ns(self, peer, ctx, cpus=1):
        return self.get("ns_per_pair", peer, ctx, cpus)

    def kps(self, peer, ctx, cpus=None):
        return self.get("kpairs_per_s", peer, ctx, cpus)

    def per_claim(self, field, peer, ctx, cpus=None):
        v, pairs = self.get(field, peer, ctx, cpus), self.get("pairs", peer, ctx, cpus)
        return v / pairs if v is not None and pairs else None

    def cpus(self):
        return max((n for _, _, n in self.rows), default=0) if self.rows else 0


def ratio(a, b):
    return a / b if a and b else None


def fmt(v, spec="8.2f"):
    return format(v, spec) if v is not None else format("-", ">" + spec.split(".")[0])


def tables(boots):
    ic, tcg = boots.get("icount"), boots.get("tcg")
    if ic and ic.rows:
        print("Instructions per get+put pair (qemu -icount, exact), 1 CPU:\n")
        print(f"{'peer':18} {'task':>8} {'softirq':>8} {'hardirq':>8}")
        for p in PEERS:
            vals = [ic.ns(p, c) for c in ("task", "softirq", "hardirq")]
            if any(vals):
                print(f"{p:18} " + " ".join(fmt(v, "8.0f") for v in vals))
        print()
        # drivers/net/labnet.c's buffer cycle: the NIC ring's pattern
        rx = [(f"{a} / {b}", ratio(ic.ns(a, "softirq"), ic.ns(b, "softirq")))
              for a, b in (("lab_rx_copy", "page_pool"), ("lab_rx_detach", "page_pool"),
                           ("lab_rx_detach", "alloc_pages"),
                           ("lab_rx_copy_bulk", "page_pool"),
                           ("lab_rx_detach_bulk", "page_pool"),
                           ("lab_rx_detach_bulk", "alloc_pages"),
                           ("lab_rx_reuse_bulk", "page_pool"))]
        if any(v for _, v in rx):
            print("A receive ring's buffer, claimed and released (a copied frame) or "
                  "detached and freed\n(a frame given to the stack), 1 CPU softirq, "
                  "instructions per buffer:")
            for name, v in rx:
                print(f"  {name:32} {fmt(v, '6.2f')}")
            print()
    if tcg and tcg.rows:
        print("Wall time under multi-threaded TCG, 2 vCPUs (emulation: compare ratios only):\n")
        print(f"{'peer':18} {'context':9} {'cpus':>4} {'ns/pair':>10} {'spread%':>8} {'kpairs/s':>10}")
        order = lambda kv: (PEERS.index(kv[0][0]) if kv[0][0] in PEERS else 99,
                            CTXS.index(kv[0][1]) if kv[0][1] in CTXS else 99, kv[0][2])
        for (p, c, n), r in sorted(tcg.rows.items(), key=order):
            print(f"{p:18} {c:9} {n:>4} {float(r['ns_per_pair']):>10.1f} "
                  f"{r['spread_pct']:>8} {r['kpairs_per_s']:>10}")
        print()


def tcg_modes(boots):
    """tcg, tcg4, tcg8, tcg16, ...: the boots in wall time, by vCPU count."""
    modes = [m for m in boots if re.fullmatch(r"tcg\d*", m)]
    return sorted(modes, key=lambda m: int(m[3:] or 2))


def many_cpus(boots):
    print("Every CPU claiming at once (TCG; more vCPUs than this machine's cores are emulated):\n")
    print(f"{'boot':8} {'cpus':>4} {'context':9} {'labyrinth kp/s':>15} {'objpool kp/s':>13} "
          f"{'ratio':>6} {'lab coll/claim':>15}")
    for mode in tcg_modes(boots):
        b = boots.get(mode)
        if not b or not b.rows:
            continue
        n = b.cpus()
        for ctx in ("task", "hardirq"):
            lab, op = b.kps("labyrinth", ctx, n), b.kps("objpool", ctx, n)
            print(f"{mode:8} {n:>4} {ctx:9} {fmt(lab, '15.0f')} {fmt(op, '13.0f')} "
                  f"{fmt(ratio(lab, op), '6.2f')} "
                  f"{fmt(b.per_claim('collisions', 'labyrinth', ctx, n), '15.3f')}")
        lab, op = b.kps("labyrinth_scarce", "all"), b.kps("objpool_scarce", "all")
        print(f"{mode:8} {n:>4} {'scarce':9} {fmt(lab, '15.0f')} {fmt(op, '13.0f')} "
              f"{fmt(ratio(lab, op), '6.2f')} "
              f"{fmt(b.per_claim('collisions', 'labyrinth_scarce', 'all'), '15.3f')}"
              f"   misses/get: labyrinth "
              f"{fmt(b.per_claim('misses', 'labyrinth_scarce', 'all'), '.3f')}, objpool "
              f"{fmt(b.per_claim('misses', 'objpool_scarce', 'all'), '.3f')}")
    print("  (scarce: 3 rooms or objects for every context of every CPU, each held 200 ns)\n")


OCC_SIZES = (64, 4096, 16384)
OCC_HELD = (0, 50, 90, 99)


def occupancy(boots):
    shown = [m for m in ("icount", "tcg") if boots.get(m) and boots[m].rows and
             boots[m].ns("labyrinth_fill", "n64") is not None]
    if not shown:
        return
    unit = {"icount": "instructions", "tcg": "TCG ns"}
    print("Occupancy, one task (per claim; churn per claim+release pair):\n")
    print(f"{'point':26} " + " ".join(f"{unit[m]:>14} {'coll/op':>8}" for m in shown))
    rows = [("labyrinth_fill", f"n{n}", f"claim every room, {n}") for n in OCC_SIZES]
    rows += [("labyrinth_fail_full", f"n{n}", f"failed claim, full {n}") for n in OCC_SIZES]
    rows += [("labyrinth_churn", f"held{h}", f"churn, {h}% held") for h in OCC_HELD]
    for peer, ctx, name in rows:
        cells = [f"{fmt(boots[m].ns(peer, ctx), '14.1f')} "
                 f"{fmt(boots[m].per_claim('collisions', peer, ctx), '8.2f')}" for m in shown]
        print(f"{name:26} " + " ".join(cells))
    print()


OT_CASES = ("sync", "sync_hrtimer", "sync_overrun", "async", "async_hrtimer")


def ot_ratio(b, case):
    """labyrinth / objpool hits per ms in a test_objpool case of one boot; the
    hits when a rate rounds to 0 (the async case sleeps 100 ms an iteration):
    both pools ran the same reps of the same ms."""
    lab, op = b.kps("ot_labyrinth", case), b.kps("ot_objpool", case)
    if lab and op:
        return lab / op
    return ratio(b.get("pairs", "ot_labyrinth", case), b.get("pairs", "ot_objpool", case))


def ot_miss(b, peer, case):
    """Misses per pop of @peer in a test_objpool case."""
    h, x = b.get("pairs", peer, case), b.get("misses", peer, case)
    return x / (h + x) if h is not None and x is not None and h + x else None


def ot_boots(boots):
    return [m for m in ["icount"] + tcg_modes(boots) if boots.get(m) and boots[m].rows and
            boots[m].get("pairs", "ot_labyrinth", "sync") is not None]


def objpool_test(boots):
    shown = ot_boots(boots)
    if not shown:
        return
    print("lib/test_objpool.c's cases, objpool and labyrinth through an adapter "
          "(hits per ms of all CPUs; icount: per ms of instructions):\n")
    print(f"{'boot':8} {'cpus':>4} {'case':14} {'objpool':>9} {'labyrinth':>10} {'ratio':>6} "
          f"{'miss/pop objpool':>17} {'labyrinth':>10}")
    for m in shown:
        b = boots[m]
        for case in OT_CASES:
            op, lab = b.kps("ot_objpool", case), b.kps("ot_labyrinth", case)
            print(f"{m:8} {b.cpus():>4} {case:14} {fmt(op, '9.0f')} {fmt(lab, '10.0f')} "
                  f"{fmt(ot_ratio(b, case), '6.2f')} "
                  f"{fmt(ot_miss(b, 'ot_objpool', case), '17.3f')} "
                  f"{fmt(ot_miss(b, 'ot_labyrinth', case), '10.3f')}")
    print("  (the async case sleeps 100 ms an iteration: its ratio is of hits, "
          "not a speed, and no target)\n")


def oversub(boots):
    quiet, busy = boots.get("tcg"), boots.get("oversub")
    if not busy or not busy.rows:
        return
    print("Lost CPUs: 4 vCPUs while host processes spin on this machine's cores "
          "(vCPUs descheduled mid-operation), against the quiet 2-vCPU boot:\n")
    print(f"{'point':22} {'labyrinth kp/s':>15} {'objpool kp/s':>13} {'ratio':>6}   quiet ratio")
    for ctx, n in (("cross_cpu", 2), ("task", busy.cpus())):
        lab, op = busy.kps("labyrinth", ctx, n), busy.kps("objpool", ctx, n)
        q = ratio(quiet.kps("labyrinth", ctx), quiet.kps("objpool", ctx)) if quiet else None
        print(f"{ctx + ' ' + str(n) + ' cpus':22} {fmt(lab, '15.0f')} {fmt(op, '13.0f')} "
              f"{fmt(ratio(lab, op), '6.2f')}   {fmt(q, '.2f')}")
    print()


def extras(tcg):
    if not tcg or not tcg.rows:
        return
    m = re.search(r"LABYRINTH-BENCH-LAT (\d+),(\d+),(\d+),(\d+)", tcg.text)
    if m:
        print(f"labyrinth claim latency in hardirq ({m.group(1)} claims, log2 buckets): "
              f"p50 < {m.group(2)} ns, p99 < {m.group(3)} ns, max {m.group(4)} ns")
    m = re.search(r"LABYRINTH-BENCH-SCARCE (\d+),(\d+),(\d+),(\d+)", tcg.text)
    if m:
        print(f"scarce labyrinth (3 rooms, max_probe 3): claims {m.group(1)}, "
              f"failed {m.group(2)} full + {m.group(3)} contended, collisions {m.group(4)}")
    print()


def targets(boots):
    ic, tcg = boots.get("icount"), boots.get("tcg")
    out = []

    def target(name, value, limit, cmp):
        if value is None:
            out.append(f"  {name:62} n/a")
            return
        ok = value <= limit if cmp == "<=" else value >= limit
        out.append(f"  {name:62} {value:6.2f}  ({cmp} {limit})  {'met' if ok else 'MISSED'}")

    for src, b in (("instructions", ic), ("TCG time", tcg)):
        if not b or not b.rows:
            continue
        for c in ("task", "hardirq"):
            lab = b.ns("labyrinth", c)
            target(f"[{src}] 1 CPU {c}: labyrinth / objpool", ratio(lab, b.ns("objpool", c)),
                   1.0 if src == "instructions" else 1.2, "<=")
            for peer in ("mempool", "alloc_pages"):
                target(f"[{src}] 1 CPU {c}: labyrinth / {peer}", ratio(lab, b.ns(peer, c)),
                       0.5, "<=")
    for src, b in (("instructions", ic), ("TCG time", tcg)):
        if not b or not b.rows or b.ns("labyrinth_fill", "n64") is None:
            continue
        target(f"[{src}] filling: per claim, 16384 rooms / 4096 rooms",
               ratio(b.ns("labyrinth_fill", "n16384"), b.ns("labyrinth_fill", "n4096")),
               1.25, "<=")
        target(f"[{src}] failed claim: full 16384 rooms / full 64 rooms",
               ratio(b.ns("labyrinth_fail_full", "n16384"), b.ns("labyrinth_fail_full", "n64")),
               2.0, "<=")
        for h in (90, 99):
            target(f"[{src}] churn: {h}% held / empty",
                   ratio(b.ns("labyrinth_churn", f"held{h}"), b.ns("labyrinth_churn", "held0")),
                   1.5, "<=")
    for src, b in (("instructions", ic), ("TCG time", tcg)):
        if b and b.rows:
            target(f"[{src}] 1 CPU softirq: labyrinth / page_pool",
                   ratio(b.ns("labyrinth", "softirq"), b.ns("page_pool", "softirq")),
                   2.0, "<=")
    for mode in tcg_modes(boots):
        b = boots[mode]
        if not b.rows:
            continue
        n = b.cpus()
        target(f"[{mode}] every CPU ({n}), task: labyrinth / objpool pairs/s",
               ratio(b.kps("labyrinth", "task", n), b.kps("objpool", "task", n)), 1.0, ">=")
        target(f"[{mode}] scarce ({n} vCPUs): labyrinth / objpool pairs/s",
               ratio(b.kps("labyrinth_scarce", "all"), b.kps("objpool_scarce", "all")),
               1.0, ">=")
        target(f"[{mode}] scarce ({n} vCPUs): labyrinth collisions per claim",
               b.per_claim("collisions", "labyrinth_scarce", "all"), 0.1, "<=")
    for mode in ot_boots(boots):
        b = boots[mode]
        for case in OT_CASES:
            if case == "async":  # sleep-bound: its hits measure no speed
                continue
            target(f"[{mode}] test_objpool {case} ({b.cpus()} vCPUs): labyrinth / objpool",
                   ot_ratio(b, case), 1.0, ">=")
    if tcg and tcg.rows:
        target("[TCG] cross-CPU pairs/s: labyrinth / objpool",
               ratio(tcg.kps("labyrinth", "cross_cpu"), tcg.kps("objpool", "cross_cpu")),
               0.67, ">=")
        m = re.search(r"probes_per_claim(.*)\n", tcg.text.split("bench_scarce/stats")[-1])
        if m:
            over = sum(int(v) for k, v in (b.split(":") for b in m.group(1).split())
                       if int(k.split("-")[0]) > 3)
            target("scarce: claims that visited more than max_probe rooms", float(over),
                   0, "<=")
    print("targets (labyrinth vs peers measured in the same boot):")
    print("\n".join(out))


def plot(ic, res):
    dat = os.path.join(res, "latest-plot.dat")
    with open(dat, "w") as f:
        f.write("peer task softirq hardirq\n")
        for p in PEERS:
            vals = [ic.ns(p, c) for c in ("task", "softirq", "hardirq")] if ic else []
            if any(vals):
                f.write(p + " " + " ".join(f"{v:.1f}" if v else "NaN" for v in vals) + "\n")
    png = os.path.join(res, "latest.png")
    gp = f"""set terminal pngcairo size 1000,560 noenhanced
set output '{png}'
set title "labyrinth_bench: instructions per get+put pair, 1 CPU (qemu -icount emulation, not hardware: compare ratios only)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set ylabel 'instructions per pair (log)'
set key top left
set xtics rotate by -20
plot '{dat}' using 2:xtic(1) title 'task', '' using 3 title 'softirq', '' using 4 title 'hardirq'
"""
    try:
        subprocess.run(["gnuplot"], input=gp, text=True, check=True)
        print(f"\nplot: {png}")
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"\nplot: gnuplot failed: {e}")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    res = sys.argv[1]
    boots, bad = {}, []
    for arg in sys.argv[2:]:
        mode, _, log = arg.partition("=")
        boots[mode] = Boot(mode, log)
        if boots[mode].rows is None:
            bad.append(f"bench: no complete run in {log}")
    tables(boots)
    many_cpus(boots)
    occupancy(boots)
    objpool_test(boots)
    oversub(boots)
    extras(boots.get("tcg"))
    targets(boots)
    plot(boots.get("icount"), res)
    print(f"csv: {os.path.join(res, 'latest.csv')}")
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
