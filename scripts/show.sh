#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make run`'s report, read from a run boot's serial log in OUTDIR: what
# the sample did, its labyrinth's debugfs stats and rooms, a trace excerpt,
# and pictures of its map while running and after (scripts/draw_map.py
# draws the plain debugfs map file).
# Usage: show.sh OUTDIR

. "$(dirname "$0")/lib.sh"

out=$1
serial=$out/serial.log
extract() {	# LABEL FILE
	awk -v l="$1" '$0 == "LABYRINTH-DUMP-BEGIN " l {p=1; next}
		$0 == "LABYRINTH-DUMP-END " l {p=0} p' "$serial" >"$2"
}

echo
echo "== what happened in the $(grep -m1 -o 'Linux version [^ ]*' "$serial" | cut -d' ' -f3) SMP test kernel ($(grep -m1 -o 'smpboot: Total of [0-9]* processors' "$serial" || echo '2 vCPUs')) =="
grep -E "^labyrinth_demo: [0-9]+ CPUs|^ +(not )?ok [0-9]+ (insmod|rmmod)" "$serial" |
	sed -e 's/^ *ok [0-9]* insmod /loaded /' -e 's/^ *ok [0-9]* rmmod /unloaded /' \
	    -e 's/^ *not ok [0-9]* /FAILED: /' \
	    -e 's/^.*labyrinth_demo: /the sample driver ran on /' -e 's/; /\n    /g'
extract stats "$out/stats.txt"
extract rooms "$out/rooms.txt"
echo
echo "== the sample's labyrinth after its run (debugfs stats) =="
cat "$out/stats.txt"
echo
echo "== its rooms: index state owner claim-site held-ms doors =="
cat "$out/rooms.txt"
if grep -q LABYRINTH-TRACE-BEGIN "$serial"; then
	echo
	echo "== a trace excerpt (events/labyrinth) =="
	awk '/^LABYRINTH-TRACE-BEGIN/{p=1; next} /^LABYRINTH-TRACE-END/{p=0}
	     p && !/^#/' "$serial" | head -n 16
fi
need_pkgs graphviz
echo
for snap in running final; do
	extract "$snap.map" "$out/labyrinth-$snap.map"
	if python3 "$REPO/scripts/draw_map.py" "$out/labyrinth-$snap.map" \
		"$out/labyrinth-$snap.dot" "$out/labyrinth-$snap.png"; then
		echo "picture ($snap): $out/labyrinth-$snap.png"
	else
		echo "picture ($snap): not drawn (see $out/labyrinth-$snap.map)"
	fi
done
echo
