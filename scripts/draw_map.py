#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Draw a labyrinth from its debugfs map file.

Usage: draw_map.py MAP_TEXT OUT.dot [OUT.png]

The kernel exports plain facts (debugfs labyrinth/<name>/map, one per
line: "labyrinth", "wing", "room", "door"); this draws them. Wings are
boxes labelled with their NUMA node; rooms are coloured by state (owned
rooms name their claim site); the near doors of a wing form its ring; a
far door is drawn only if claims crossed it while collecting, its width
growing with the log of its heat, so busy doors show without swamping the
rooms. Writes the DOT and, if asked and Graphviz is there, the PNG.
"""
import math
import shutil
import subprocess
import sys

COLOURS = {"free": "palegreen", "owned": "tomato", "void": "gray80",
           "busy": "gold"}


def parse(lines):
    lab = {"name": "?", "wings": [], "rooms": {}, "doors": []}
    for l in lines:
        f = l.split()
        if not f:
            continue
        if f[0] == "labyrinth" and len(f) >= 8:
            lab["name"], lab["collecting"] = f[1], f[7] == "1"
        elif f[0] == "wing" and len(f) == 8:
            lab["wings"].append({"w": int(f[1]), "node": f[3],
                                 "first": int(f[5]), "size": int(f[7])})
        elif f[0] == "room" and len(f) >= 4:
            lab["rooms"][int(f[1])] = (f[2], f[3])
        elif f[0] == "door" and len(f) == 5:
            lab["doors"].append(tuple(int(x) for x in f[1:]))
    return lab


def dot(lab):
    owned = sum(1 for s, _ in lab["rooms"].values() if s == "owned")
    out = [f'digraph "{lab["name"]}" {{',
           f'  graph [label="labyrinth {lab["name"]}: {len(lab["rooms"])} rooms, '
           f'{owned} owned, {len(lab["wings"])} wings; far doors drawn where '
           f'claims crossed them{"" if lab.get("collecting") else " (not collecting)"}" '
           'labelloc=t fontsize=12 rankdir=LR nodesep=0.15 ranksep=0.3];',
           '  node [shape=box style="rounded,filled" fontsize=9 height=0.3 '
           'margin="0.05,0.02"];',
           '  edge [arrowsize=0.5 color=gray50];']
    for w in lab["wings"]:
        out.append(f'  subgraph cluster_{w["w"]} {{')
        out.append(f'    label="wing {w["w"]}, node {w["node"]}" fontsize=10 '
                   'style=rounded color=gray60;')
        for i in range(w["first"], w["first"] + w["size"]):
            state, site = lab["rooms"].get(i, ("void", "-"))
            label = f"{i}" if state != "owned" else f"{i}\\n{site[:18]}"
            out.append(f'    r{i} [label="{label}" fillcolor={COLOURS.get(state, "white")}];')
        out.append("  }")
    for i, d, to, hits in lab["doors"]:
        if d == 0:
            attrs = "constraint=true"
            if hits:
                attrs += f' label="{hits}" fontsize=8 penwidth={1 + min(2, math.log10(hits)):.1f}'
            out.append(f"  r{i} -> r{to} [{attrs}];")
        elif hits:
            out.append(f'  r{i} -> r{to} [style=dashed constraint=false color=steelblue '
                       f'label="{hits}" fontsize=8 fontcolor=steelblue '
                       f'penwidth={1 + min(2, math.log10(hits)):.1f}];')
    out.append("}")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    with open(sys.argv[1], errors="replace") as f:
        lab = parse(f)
    if not lab["rooms"]:
        print(f"draw_map: no map in {sys.argv[1]}", file=sys.stderr)
        return 1
    with open(sys.argv[2], "w") as f:
        f.write(dot(lab))
    if len(sys.argv) > 3:
        if not shutil.which("dot"):
            print("draw_map: no Graphviz dot", file=sys.stderr)
            return 1
        return subprocess.run(["dot", "-Tpng", "-o", sys.argv[3],
                               sys.argv[2]]).returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
