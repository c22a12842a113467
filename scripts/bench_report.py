#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Turn labyrinth_bench's console output into a table, target ratios and a plot.

Usage: bench_report.py ICOUNT_LOG TCG_LOG RESULTS_DIR
Costs per pair come from the -icount boot (instructions per pair, exact),
throughput scaling and the scarce case from the TCG boot (wall time).
Writes RESULTS_DIR/latest.png (gnuplot) and prints the report. Exit status 1
if a log has no complete benchmark run.
"""
import csv
import io
import os
import re
import subprocess
import sys

PEERS = ["labyrinth", "objpool", "mempool", "alloc_pages", "page_pool",
         "empty", "spinlock_pair", "cmpxchg"]
CTXS = ["task", "softirq", "hardirq", "cross_cpu"]


def load(log):
    text = open(log, errors="replace").read()
    lines = [m.group(1) for m in re.finditer(r"LABYRINTH-BENCH-CSV (.*)", text)]
    if not lines or "LABYRINTH-BENCH-END 0" not in text:
        print("bench: no complete run in", log)
        return None, None
    rows = {}
    for r in csv.DictReader(io.StringIO("\n".join(lines))):
        rows[(r["peer"], r["context"], int(r["cpus"]))] = r
    return text, rows


def main():
    ilog, tlog, res = sys.argv[1], sys.argv[2], sys.argv[3]
    itext, irows = load(ilog)
    text, rows = load(tlog)
    if rows is None or irows is None:
        return 1
    ins = lambda p, c, n=1: float(irows[(p, c, n)]["ns_per_pair"]) if (p, c, n) in irows else None
    ns = lambda p, c, n=1: float(rows[(p, c, n)]["ns_per_pair"]) if (p, c, n) in rows else None
    kps = lambda p, c, n=1: float(rows[(p, c, n)]["kpairs_per_s"]) if (p, c, n) in rows else None

    print("Instructions per get+put pair (qemu -icount, exact), 1 CPU:\n")
    print(f"{'peer':14} {'task':>8} {'softirq':>8} {'hardirq':>8}")
    for p in PEERS:
        vals = [ins(p, c) for c in ("task", "softirq", "hardirq")]
        if any(vals):
            print(f"{p:14} " + " ".join(f"{v:8.0f}" if v else f"{'-':>8}" for v in vals))
    print()
    print("Wall time under multi-threaded TCG (emulation, not hardware: compare ratios within this run):\n")
    print(f"{'peer':14} {'context':9} {'cpus':>4} {'ns/pair':>10} {'spread%':>8} {'kpairs/s':>10}")
    for (p, c, n), r in sorted(rows.items(), key=lambda kv: (PEERS.index(kv[0][0]) if kv[0][0] in PEERS else 99, CTXS.index(kv[0][1]), kv[0][2])):
        print(f"{p:14} {c:9} {n:>4} {float(r['ns_per_pair']):>10.1f} {r['spread_pct']:>8} {r['kpairs_per_s']:>10}")

    m = re.search(r"LABYRINTH-BENCH-LAT (\d+),(\d+),(\d+),(\d+)", text)
    if m:
        print(f"\nlabyrinth claim latency in hardirq ({m.group(1)} claims, log2 buckets): "
              f"p50 < {m.group(2)} ns, p99 < {m.group(3)} ns, max {m.group(4)} ns")
    m = re.search(r"LABYRINTH-BENCH-SCARCE (\d+),(\d+),(\d+),(\d+)", text)
    hist = re.search(r"bench_scarce/stats\n(?:.*\n)*?probes_per_claim(.*)\n", text)
    over = None
    if m:
        print(f"scarce case (3 rooms, max_probe 3, every context on every CPU): claims {m.group(1)}, "
              f"failed {m.group(2)} full + {m.group(3)} contended, collisions {m.group(4)}")
    if hist:
        buckets = dict(b.split(":") for b in hist.group(1).split())
        over = sum(int(v) for k, v in buckets.items() if int(k.split("-")[0]) > 3)
        print(f"  probes per successful claim:{hist.group(1)}  (claims over max_probe: {over})")

    print("\ntargets (labyrinth claim+release pair vs peers, same run):")
    results = []

    def target(name, value, limit, cmp):
        if value is None:
            results.append(f"  {name:58} n/a")
            return
        ok = value <= limit if cmp == "<=" else value >= limit
        results.append(f"  {name:58} {value:6.2f}  ({cmp} {limit})  {'met' if ok else 'MISSED'}")

    for src, f in (("instructions", ins), ("TCG time", ns)):
        for c in ("task", "hardirq"):
            lab = f("labyrinth", c)
            for peer, limit in (("objpool", 1.0), ("mempool", 0.5), ("alloc_pages", 0.5)):
                other = f(peer, c)
                target(f"[{src}] 1 CPU {c}: labyrinth / {peer}",
                       lab / other if lab and other else None, limit, "<=")
            lock = f("spinlock_pair", c)
            target(f"[{src}] 1 CPU {c}: labyrinth / 2 x spin_lock_irqsave pair",
                   lab / lock if lab and lock else None, 2.0, "<=")
    for c in ("task", "hardirq"):
        one, all_ = kps("labyrinth", c, 1), kps("labyrinth", c, 2)
        target(f"[TCG time] {c}: throughput 2 CPUs / 1 CPU", all_ / one if one and all_ else None, 1.8, ">=")
    for src, f in (("instructions", ins), ("TCG time", ns)):
        t, h = f("labyrinth", "task"), f("labyrinth", "hardirq")
        target(f"[{src}] 1 CPU: hardirq / task", h / t if t and h else None, 1.1, "<=")
    if over is not None:
        target("scarce: claims that visited more than max_probe rooms", float(over), 0, "<=")
    print("\n".join(results))

    # the plot: ns per pair, 1 CPU, peer x context, log scale
    dat = os.path.join(res, "latest-plot.dat")
    with open(dat, "w") as f:
        f.write("peer task softirq hardirq\n")
        for p in PEERS:
            vals = [ins(p, c) for c in ("task", "softirq", "hardirq")]
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
    print(f"csv: {os.path.join(res, 'latest.csv')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
