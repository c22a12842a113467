#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Boot labyrinth in the x86_64 SMP debug test kernel under qemu (TCG, 2
# vCPUs): tinyconfig + qemu/debug.config, built in the cache and rebuilt
# only when the fragment changes.
#
#   qemu.sh test   labyrinth.ko, labyrinth_test.ko (KUnit at insmod), the
#                  sample driver, the benchmark's smoke run, then
#                  $EXTRA_MODULES; judged by
#                  scripts/qemu_log.py ("qemu-x86: N passed, N failed")
#   qemu.sh run    labyrinth.ko and the sample; prints what happened, the
#                  sample's debugfs stats and rooms, a trace excerpt, and
#                  renders its map (DOT, while running and after) to PNG
#
# DEMO_ARGS passes module parameters to the sample (default for test:
# "rooms=4 detach_every=16"), TEST_ARGS to labyrinth_test (e.g. "pressure_ms=5000").
# CYCLES (default 5 for test) load/unload cycles of labyrinth and the sample
# follow, with CYCLE_ARGS for the sample; then, for each percentage in
# PRESSURE (default "10 50 100"), the sample runs PRESSURE_RUN_MS (3000) ms
# while fail_page_alloc fails that share of labyrinth's page allocations
# (for about the middle third of the run). FLAVOUR=rt adds qemu/rt.config:
# the same tests in a PREEMPT_RT kernel; FLAVOUR=kcsan qemu/kcsan.config.
# OUT overrides the output directory (build/qemu-<mode>[-<flavour>]).

. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/kernel.sh"

mode=${1:-test}
flavour=${FLAVOUR:-debug}
frags=("$REPO/qemu/debug.config")
[ "$flavour" != debug ] && frags+=("$REPO/qemu/$flavour.config")
[ -f "${frags[-1]}" ] || die "FLAVOUR=$flavour: no ${frags[-1]}"
ensure_ksrc
kdir=$(build_kernel "$flavour" "${frags[@]}")
mdir=$(build_modules "x86-$flavour" "$kdir")
out=$REPO/build/qemu-$mode
[ "$flavour" != debug ] && out+=-$flavour
out=${OUT:-$out}
mkdir -p "$out"

mods=("$mdir/labyrinth.ko")
[ "$mode" = test ] && mods+=("$mdir/labyrinth_test.ko=${TEST_ARGS:-}")
demo_args=${DEMO_ARGS:-rooms=4 detach_every=16}
[ "$mode" = run ] && demo_args=${DEMO_ARGS:-run_ms=4000}
mods+=("$mdir/samples/labyrinth_demo.ko=$demo_args")
# a smoke run of the benchmark: every peer and context, pages all back
[ "$mode" = test ] && mods+=("$mdir/bench/labyrinth_bench.ko=smoke=1")
for m in ${EXTRA_MODULES:-}; do
	[ -f "$m" ] || die "EXTRA_MODULES: no file $m"
	mods+=("$(realpath "$m")")
done
if [ "$mode" = test ]; then
	export CYCLES=${CYCLES:-5}
	export CYCLE_ARGS=${CYCLE_ARGS:-rooms=16 order=2 run_ms=50 detach_every=4}
	export PRESSURE=${PRESSURE-10 50 100} PRESSURE_RUN_MS=${PRESSURE_RUN_MS:-3000}
fi
pack_initramfs "$out/initramfs.cpio.gz" "$mode" "${mods[@]}"

log "booting $kdir/arch/x86/boot/bzImage (qemu, TCG, 2 vCPUs)"
start=$SECONDS
set +e
[ "$mode" = run ] && export QEMU_APPEND=nokmemleakscan	# saves ~18 s
boot_qemu "$kdir/arch/x86/boot/bzImage" "$out/initramfs.cpio.gz" "$out/serial.log"
log "qemu finished in $((SECONDS - start)) s; serial log: $out/serial.log"

if [ "$mode" = run ]; then
	echo
	echo "== what happened in the SMP test kernel ($(grep -m1 -o 'smpboot: Total of [0-9]* processors' "$out/serial.log" || echo '2 vCPUs')) =="
	grep -E "^labyrinth_demo: [0-9]+ CPUs|LABYRINTH-LOAD|LABYRINTH-UNLOAD" "$out/serial.log" |
		sed -e 's/^LABYRINTH-LOAD \(.*\) rc=0/loaded \1/' \
		    -e 's/^LABYRINTH-UNLOAD \(.*\) rc=0/unloaded \1/' \
		    -e 's/^.*labyrinth_demo: /the sample driver ran on /' \
		    -e 's/; /\n    /g'
	extract() {	# LABEL FILE
		awk -v l="$1" '$0 == "LABYRINTH-DUMP-BEGIN " l {p=1; next}
			$0 == "LABYRINTH-DUMP-END " l {p=0} p' "$out/serial.log" >"$2"
	}
	extract stats "$out/stats.txt"
	extract rooms "$out/rooms.txt"
	echo
	echo "== the sample's labyrinth after its run (debugfs stats) =="
	cat "$out/stats.txt"
	echo
	echo "== its rooms: index state owner claim-site held-ms doors =="
	cat "$out/rooms.txt"
	if grep -q LABYRINTH-TRACE-BEGIN "$out/serial.log"; then
		echo
		echo "== a trace excerpt (events/labyrinth) =="
		awk '/^LABYRINTH-TRACE-BEGIN/{p=1; next} /^LABYRINTH-TRACE-END/{p=0}
		     p && !/^#/' "$out/serial.log" | head -n 16
	fi
	need_pkgs graphviz
	echo
	for snap in running final; do
		extract "$snap.dot" "$out/labyrinth-$snap.dot"
		if [ -s "$out/labyrinth-$snap.dot" ] &&
		   dot -Tpng -o "$out/labyrinth-$snap.png" "$out/labyrinth-$snap.dot"; then
			echo "picture ($snap): $out/labyrinth-$snap.png"
		else
			echo "picture ($snap): not rendered (see $out/labyrinth-$snap.dot)"
		fi
	done
	echo
fi
python3 "$REPO/scripts/qemu_log.py" "$out/serial.log" --ksrc "$KSRC" \
	--label "qemu-x86$([ "$flavour" = debug ] || echo "-$flavour")" \
	--allow 'destroyed with room [0-9]+ owned by .*left to the owner'
