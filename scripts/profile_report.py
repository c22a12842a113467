#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""make profile's report: instructions per pair, function by function
(NET_PROFILE=1 of make net: per frame received).

profile_report.py SYSTEM_MAP SERIAL_LOG TB_OUT [TOP]

TB_OUT holds "PC INSNS RUNS" per translation block (bench/profile/tbprof.c);
SYSTEM_MAP the kernel's symbols, the serial log the modules' ("KSYM"
lines, /proc/kallsyms as qemu/init prints it in mode profile) and the
benchmark's CSV lines, whose pairs divide the counts (without them, the
frames labnet1 received, from make net's LABNET-SNAP blocks). Blocks below the
kernel's text (firmware, the kernel's decompressor, user space) are
summed as one line. Exit status 1 if a part is missing."""
import bisect
import collections
import re
import sys


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    top = int(sys.argv[4]) if len(sys.argv) > 4 else 40
    log = open(sys.argv[2], errors="replace").read()
    syms = []
    for line in open(sys.argv[1]):
        p = line.split()
        if len(p) == 3 and p[1] in "tTwW":
            syms.append((int(p[0], 16), p[2]))
    mods = 0
    for m in re.finditer(r"^KSYM ([0-9a-f]+) ([tTwW]) (\S+)\s+\[(\S+)\]", log, re.M):
        syms.append((int(m.group(1), 16), f"{m.group(3)} [{m.group(4)}]"))
        mods += 1
    rows = [l.split(",") for l in re.findall(r"LABYRINTH-BENCH-CSV (.*)", log)]
    points = [r for r in rows if r[0] != "peer" and len(r) >= 9]
    pairs = sum(int(r[8]) for r in points)
    unit = "pair"
    if not points:		# make net: the frames labnet1 received
        unit = "frame"
        snaps = re.findall(r"^LABNET-SNAP (\S+ \S+ \S+ \S+) (before|after)\n"
                           r"(?:(?!LABNET-SNAP-END).*\n)*?\s+rx_packets: (\d+)", log, re.M)
        got = {}
        for run, when, n in snaps:
            got.setdefault(run, {})[when] = int(n)
        pairs = sum(v["after"] - v["before"] for v in got.values()
                    if "after" in v and "before" in v)
        points = [[run, f"{v.get('after', 0) - v.get('before', 0)} frames"]
                  for run, v in got.items()]
    problems = []
    if not mods:
        problems.append("no module symbols (KSYM lines) in the serial log")
    if not pairs:
        problems.append(f"no {unit} to count by: no benchmark point, no frame received")
    try:
        blocks = open(sys.argv[3]).read().split("\n")
    except OSError as e:
        blocks = []
        problems.append(f"no block counts: {e}")
    syms.sort()
    addrs = [a for a, _ in syms]
    per = collections.Counter()
    total = 0
    for b in blocks:
        if not b:
            continue
        pc, insns, runs = b.split()
        pc, n = int(pc, 16), int(insns) * int(runs)
        total += n
        if pc < 0xffff800000000000:
            per["(below the kernel: firmware, decompressor, user space)"] += n
            continue
        i = bisect.bisect_right(addrs, pc) - 1
        per[syms[i][1] if i >= 0 else "?"] += n
    for p in problems:
        print("profile: " + p)
    if problems:
        return 1
    if unit == "pair":
        print("points: " + "; ".join(f"{r[0]} {r[1]} {r[2]} cpus: {r[3]} instructions/pair"
                                     for r in points))
    else:
        print("runs: " + "; ".join(f"{r[0]}: {r[1]}" for r in points))
    print(f"the whole boot, per {unit} of those: {total / pairs:.1f} instructions\n")
    print(f"{'per ' + unit:>10} {'share':>6}  function")
    for name, n in per.most_common(top):
        print(f"{n / pairs:10.1f} {100 * n / total:5.1f}%  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
