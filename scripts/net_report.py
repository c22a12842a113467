#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Turn `make net`'s console output (qemu/net) into a table, a CSV and a plot.

Usage: net_report.py [--csv OUT.csv] [--png OUT.png] SERIAL_LOG

For each pool, workload and pressure level (a fail_page_alloc percentage,
or "fill": memory held between the low and high watermarks by
qemu/memfill.c), from labnet1's
counters before and after the workload (ethtool -S, /sys statistics,
/proc/stat) and iperf3's JSON:

  mbit_s          TCP: iperf3's receiver; UDP: iperf3's receiver (the
                  datagrams that arrived); pktgen: bytes labnet1 received
  kframes_s       frames labnet1 handed to the stack, per second
  missed          frames dropped for lack of a posted buffer (rx_missed)
  alloc_fail      buffers the pool could not give (rx_alloc_fail)
  build_fail      frames dropped for lack of an skb (rx_build_fail)
  cpu_us_frame    busy CPU time of the whole guest per received frame
  injected        allocations fail_page_alloc failed
  refills_deferred, refill_failures, refills_nolock
                  labyrinth's refills (its pool only)

CSV rows: pool,workload,pressure,metric,value. Exit status 1 if the run
did not finish, a workload moved no frame, labnet or the pool reported an
error, or the kernel log has a checker report (scripts/ktap.py's rules).
"""
import argparse
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ktap  # noqa: E402  (the checker-report rules)

USER_HZ = 100
WORKLOADS = ["tcp", "udp", "pktgen64", "pktgen1500"]


def parse(lines):
    snaps, jsons, errors, meta = {}, {}, [], {}
    i = 0
    while i < len(lines):
        l = lines[i]
        m = re.match(r"LABNET-BEGIN pools=\[(.*?)\] (?:workloads=\[(.*?)\] )?"
                     r"seconds=(\d+) .*pressure=\[(.*)\]", l)
        if m:
            meta["pools"] = m.group(1).split()
            meta["workloads"] = m.group(2).split() if m.group(2) else WORKLOADS
            meta["seconds"] = int(m.group(3))
            meta["levels"] = m.group(4).split()
        if l.startswith("LABNET-ERROR"):
            errors.append(l)
        m = re.match(r"LABNET-SNAP (\S+) (\S+) (\S+) (\S+) (before|after)$", l)
        if m:
            d = {}
            i += 1
            while i < len(lines) and lines[i] != "LABNET-SNAP-END":
                f = lines[i].split()
                if f and f[0] == "cpu":
                    v = [int(x) for x in f[1:]]
                    d["cpu_busy"] = sum(v) - v[3] - (v[4] if len(v) > 4 else 0)
                elif len(f) == 2 and f[0].endswith(":") and f[1].lstrip("-").isdigit():
                    d[f[0][:-1]] = int(f[1])
                i += 1
            snaps[m.groups()] = d
        m = re.match(r"LABNET-JSON-BEGIN (\S+) (\S+) (\S+) (\S+)$", l)
        if m:
            body = []
            i += 1
            while i < len(lines) and lines[i] != "LABNET-JSON-END":
                body.append(lines[i])
                i += 1
            try:
                jsons[m.groups()] = json.loads("\n".join(body))
            except ValueError as e:
                errors.append(f"iperf3 JSON of {' '.join(m.groups())}: {e}")
        i += 1
    return snaps, jsons, errors, meta


def iperf_mbit(j, wl):
    end = j.get("end", {})
    if "error" in j:
        return None
    if wl == "tcp":
        s = end.get("sum_received", {})
        return s.get("bits_per_second", 0) / 1e6
    s = end.get("sum_received") or end.get("sum", {})
    bps = s.get("bits_per_second", 0)
    if "sum_received" not in end:
        bps *= 1 - s.get("lost_percent", 0) / 100
    return bps / 1e6


def metrics(snaps, jsons, secs):
    """Each run's metrics; then, per pool, workload and pressure, their
    mean over the repetitions (counts: the sum), with the range of the
    rates."""
    runs = {}
    for (pool, wl, lvl, rep, when), before in snaps.items():
        if when != "before" or (pool, wl, lvl, rep, "after") not in snaps:
            continue
        after = snaps[(pool, wl, lvl, rep, "after")]

        def d(k):
            return after.get(k, 0) - before.get(k, 0)
        frames = d("rx_packets")
        m = {"kframes_s": frames / secs / 1e3, "frames": frames,
             "missed": d("rx_missed"), "alloc_fail": d("rx_alloc_fail"),
             "build_fail": d("rx_build_fail"),
             "pool_errors": d("rx_pool_errors"),
             "cpu_us_frame": (d("cpu_busy") * 1e6 / USER_HZ / frames
                              if frames else None)}
        if "fpa_times" in after:
            m["injected"] = before["fpa_times"] - after["fpa_times"] \
                if lvl != "0" else 0
        if pool.split(":")[0] == "labyrinth":
            for k in ("refills_deferred", "refill_failures", "refills_nolock",
                      "refills_reused", "bad_calls"):
                m[k] = d("lab_" + k)
        if wl in ("tcp", "udp"):
            j = jsons.get((pool, wl, lvl, rep))
            m["mbit_s"] = iperf_mbit(j, wl) if j else None
        else:
            m["mbit_s"] = d("rx_bytes") * 8 / secs / 1e6
        runs.setdefault((pool, wl, lvl), []).append(m)
    rows = {}
    for k, ms in runs.items():
        m = {"reps": len(ms)}
        for key in ms[0]:
            vals = [x[key] for x in ms if x.get(key) is not None]
            if not vals:
                m[key] = None
            elif key in ("mbit_s", "kframes_s", "cpu_us_frame"):
                m[key] = sum(vals) / len(vals)
                if len(ms) > 1:
                    m[key + "_min"], m[key + "_max"] = min(vals), max(vals)
            else:
                m[key] = sum(vals)
        m["frames_min"] = min(x["frames"] for x in ms)
        rows[k] = m
    return rows


def label(lvl):
    """A pressure level as the table shows it: 10%, fill."""
    return lvl + "%" if lvl.isdigit() else lvl


def fmt(v, prec=1):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{prec}f}"
    return str(v)


def plot(rows, levels, pools, workloads, png, clock):
    dat = png[:-4] + "-plot.dat"
    with open(dat, "w") as f:
        for wl in workloads:
            f.write(f"# {wl}\n")
            for lvl in levels:
                vals = [rows.get((p, wl, lvl), {}).get(
                    "mbit_s" if wl in ("tcp", "udp") else "kframes_s") for p in pools]
                f.write(label(lvl) + " " + " ".join("NaN" if v is None else f"{v:.3f}"
                                             for v in vals) + "\n")
            f.write("\n\n")
    panels = []
    for i, wl in enumerate(workloads):
        unit = "Mbit/s" if wl in ("tcp", "udp") else "kframes/s"
        series = ", ".join(f"'{dat}' index {i} using {k + 2}:xtic(1) "
                           f"title '{p}'" for k, p in enumerate(pools))
        panels.append(f"set title '{wl} ({unit})'\nplot {series}")
    gp = f"""set terminal pngcairo size 1100,760 noenhanced
set output '{png}'
set multiplot layout 2,2 title 'labnet: RX pools under traffic ({'qemu -icount: per instruction' if clock == 'icount' else 'TCG wall time'}, same boot); x: fail_page_alloc %, or fill (memory at the watermarks)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set yrange [0:*]
set key outside bottom center horizontal
""" + "\n".join(panels) + "\nunset multiplot\n"
    try:
        subprocess.run(["gnuplot"], input=gp, text=True, check=True,
                       capture_output=True)
        return True
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"no plot: {e}")
        return False


def expected_ooms(lines):
    """The log with the reports of the OOM killer taking memfill blanked:
    the fill level expects them (qemu/memfill.c). An OOM kill of anything
    else stays a report; so does a failed allocation other than the dying
    filler's own page fault (one in an interrupt, or from the network
    stack or our modules, that happened to interrupt memfill)."""
    out = list(lines)
    i = 0
    while i < len(out):
        if re.search(r"\S+ invoked oom-killer:", out[i]):
            for j in range(i, min(i + 200, len(out))):
                m = re.search(r"Out of memory: Killed process \d+ \((\S+)\)", out[j])
                if m:
                    if m.group(1) == "memfill":
                        out[i:j + 1] = [""] * (j + 1 - i)
                    break
        elif re.match(r"memfill: page allocation failure: .*GFP_HIGHUSER_MOVABLE",
                      out[i]):
            for j in range(i, min(i + 60, len(out))):
                if re.search(r"<IRQ>|<SOFTIRQ>|<NMI>|net_rx_action|labnet|labyrinth",
                             out[j]):
                    break
                if "</TASK>" in out[j]:
                    out[i:j + 1] = [""] * (j + 1 - i)
                    break
        i += 1
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv")
    ap.add_argument("--png")
    ap.add_argument("--clock", default="tcg",
                    help="the guest's clock: tcg (wall time) or icount (instructions)")
    ap.add_argument("log")
    a = ap.parse_args()
    try:
        with open(a.log, errors="replace") as f:
            lines = [ktap.strip(l.rstrip("\n")) for l in f]
    except OSError as e:
        print(f"not ok: {e}")
        return 1
    snaps, jsons, errors, meta = parse(lines)
    secs = meta.get("seconds", 5)
    rows = metrics(snaps, jsons, secs)
    # what the boot was asked to run: every one of them must have reported
    pools, levels = meta.get("pools", []), meta.get("levels", [])
    workloads = meta.get("workloads", WORKLOADS)
    problems, fills = list(errors), []
    if not pools or not levels:
        problems.append("no LABNET-BEGIN line: the run did not start")
    if not any(l.strip() == "LABNET-END" for l in lines):
        problems.append("the run did not finish (no LABNET-END)")
    for l in lines:
        m = re.match(r"LABNET-TEARDOWN (\S+) failures=(\d+)", l)
        if m:
            print(f"teardown under traffic, {m.group(1)}: 20 down/up, 5 rmmod/insmod: "
                  f"{m.group(2)} failures")
            if m.group(2) != "0":
                problems.append(f"teardown with {m.group(1)}: {m.group(2)} failures")
        if l.startswith("LABNET-PAGES"):
            print("labyrinth's pages at the end: " + l[13:])
            if "unbalanced 0 " not in l + " " or "labyrinths_alive 0 " not in l + " ":
                problems.append("labyrinth's pages do not balance: " + l)
        m = re.match(r"LABNET-FILL (\S+) (\S+) (\S+) (.*)", l)
        if m:
            fills.append(m.groups())
            if "memfill: filled" not in m.group(4) or \
                    "OOM killer took" not in m.group(4):
                problems.append(f"{m.group(1)} {m.group(2)}: memory not held at the "
                                f"watermarks: {m.group(4)}")
        m = re.match(r"LABNET-KMEMLEAK (\d+)", l)
        if m and m.group(1) != "0":
            problems.append(f"kmemleak: {m.group(1)} unreferenced objects")
    if not any(l.startswith("LABNET-PAGES") for l in lines):
        problems.append("no page balance at the end")
    ours, _ = ktap.splats(expected_ooms(lines), [])
    problems += ["checker report: " + p for p in ours[:20]]

    cols = ["mbit_s", "kframes_s", "missed", "alloc_fail", "build_fail",
            "cpu_us_frame", "injected", "refills_deferred", "refill_failures"]
    reps = max((m["reps"] for m in rows.values()), default=0)
    print(f"labnet under traffic: {secs} s per workload, {reps} run(s) each "
          "(rates: the mean; counts: the sum), pools of the same boot")
    if a.clock == "icount":
        print("clock: qemu -icount, 1 ns of guest time per instruction: rates are per "
              "instruction executed, cpu_us_frame is thousands of instructions per frame")
    print(f"{'pool':10} {'workload':10} {'pressure':>8} " +
          " ".join(f"{c:>16}" for c in cols))
    for lvl in levels:
        for wl in workloads:
            for p in pools:
                m = rows.get((p, wl, lvl))
                if m is None:
                    problems.append(f"{p} {wl} at {label(lvl)}: no counters")
                    continue
                if not m["frames_min"]:
                    problems.append(f"{p} {wl} at {label(lvl)}: no frame received")
                if m["pool_errors"] or m.get("bad_calls"):
                    problems.append(f"{p} {wl} at {label(lvl)}: the pool refused a call")
                print(f"{p:10} {wl:10} {label(lvl):>8} " +
                      " ".join(f"{fmt(m.get(c), 2 if c == 'cpu_us_frame' else 1):>16}"
                               for c in cols))
        print()

    # a pressure level that failed no allocation tested nothing (a point
    # may make none: copybreak with every room ready)
    for lvl in levels:
        inj = [m.get("injected") for k, m in rows.items() if k[2] == lvl]
        if lvl.isdigit() and lvl != "0" and inj and None not in inj and not sum(inj):
            problems.append(f"fail_page_alloc {lvl}%: no allocation failed")
    # a fill level: memfill held the memory through every workload
    if "fill" in levels:
        want = sum(rows.get((p, wl, "fill"), {}).get("reps", 0)
                   for p in pools for wl in workloads)
        if len(fills) != want:
            problems.append(f"fill: {len(fills)} memfill reports for {want} runs")
    # the targets, same boot
    def ratio(wl, lvl, key, a, b):
        x, y = rows.get((a, wl, lvl), {}).get(key), rows.get((b, wl, lvl), {}).get(key)
        return x / y if x and y else None
    print("labyrinth / page_pool, fail_page_alloc 0%:")
    for wl, key, target in (("tcp", "mbit_s", 0.9), ("udp", "mbit_s", None),
                            ("pktgen64", "kframes_s", 1.0),
                            ("pktgen1500", "kframes_s", 0.9)):
        r = ratio(wl, "0", key, "labyrinth", "page_pool")
        t = f" (target >= {target}: {'met' if r and r >= target else 'missed'})" \
            if target else ""
        print(f"  {wl:10} {key:10} {fmt(r, 3)}{t}")
    print("buffers the pool could not give (rx_alloc_fail), all workloads; "
          "frames missed in TCP:")
    for lvl in levels:
        parts = []
        for p in pools:
            af = sum(rows.get((p, wl, lvl), {}).get("alloc_fail", 0) for wl in workloads)
            tm = rows.get((p, "tcp", lvl), {}).get("missed", 0)
            parts.append(f"{p} {af} ({tm})")
        name = f"fail_page_alloc {lvl:>2}%" if lvl.isdigit() else \
            "memory at the watermarks"
        print(f"  {name}: " + ", ".join(parts))
    for p, wl, rep, txt in fills:
        m = re.search(r".*free (\d+)\.\.(\d+) kB while filled \(min (\d+) low (\d+)\); "
                      r"took (\d+) MiB, gave back (\d+) MiB", txt)
        k = re.search(r"OOM killer took: (\d+)", txt)
        if m:
            print(f"  fill, {p} {wl}: free {m.group(1)}..{m.group(2)} kB (watermarks "
                  f"min {m.group(3)}, low {m.group(4)}); memfill took {m.group(5)} MiB, "
                  f"gave back {m.group(6)}; fillers OOM-killed {k.group(1) if k else '?'}")
    if a.csv:
        with open(a.csv, "w") as f:
            f.write("pool,workload,pressure,metric,value\n")
            for (p, wl, lvl), m in sorted(rows.items()):
                for k, v in sorted(m.items()):
                    if v is not None:
                        f.write(f"{p},{wl},{lvl},{k},{fmt(v, 3)}\n")
        print(f"\ncsv: {a.csv}")
    if a.png and rows and plot(rows, levels, pools, workloads, a.png, a.clock):
        print(f"plot: {a.png}")
    for p in problems:
        print(f"  not ok: {p}")
    print(f"net: {'FAILED' if problems else 'ok'} ({len(problems)} problems)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
