#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make bench: build a kernel without debug checkers (tinyconfig +
# qemu/base.config + qemu/bench.config) for the kernel KVER selects
# (default stable), boot it under qemu and run bench/labyrinth_bench.ko:
#
#   icount    2 vCPUs, -icount shift=0: guest time counts instructions,
#             so ns per pair are instructions per pair, exact and free of
#             host noise; one vCPU runs at a time: its 1-CPU points count
#   tcg       2 vCPUs, multi-threaded TCG in wall time: every peer and
#             context on 1 and 2 CPUs, cross-CPU, latency, scarce
#   tcg4/tcg8 4 and 8 vCPUs (more than this machine's cores: emulated):
#             labyrinth and objpool on every CPU in task and hard irq, and
#             both with 3 rooms/objects for every claimant (scarce)
#   oversub   4 vCPUs while OVERSUB_HOGS (2) host processes spin: vCPUs
#             are descheduled mid-operation, as in a busy VM host;
#             labyrinth and objpool cross-CPU and on every CPU
#
# Results: bench/results/latest.csv (mode,peer,context,cpus,...),
# latest.txt (tables and every target ratio, met or missed), latest.png.
# Times under TCG are not hardware numbers: only ratios between peers of
# the same boot are reported. BENCH_ARGS passes module parameters
# (default "ms=100 reps=5"); BENCH_MODES picks boots; BENCH_POINTS the
# points of the icount and tcg boots (default all; e.g. occupancy).

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kernel.sh"

ksrc_select "${KVER:-stable}"
need_pkgs gnuplot-nox
kdir=$(build_kernel bench "$REPO/qemu/base.config" "$REPO/qemu/bench.config")
mdir=$(build_modules "$KVERSION/x86-bench" "$kdir")
out=$REPO/build/$KVERSION/qemu-bench
res=$REPO/bench/results
args=${BENCH_ARGS:-ms=100 reps=5}
mkdir -p "$out" "$res"
set +e

# bench MODE SMP POINTS [QEMU_EXTRA]: one boot, its serial log
bench() {
	local mode=$1 t=$SECONDS
	pack_initramfs "$out/initramfs-$mode.cpio.gz" bench "$mdir/labyrinth.ko" \
		"$mdir/bench/labyrinth_bench.ko=$args points=$3"
	log "bench boot $mode: $2 vCPUs, points=$3"
	SMP=$2 QEMU_EXTRA="${4:-}" QEMU_APPEND=nokmemleakscan \
		boot_qemu "$kdir/arch/x86/boot/bzImage" "$out/initramfs-$mode.cpio.gz" \
		"$out/serial-$mode.log" 1800
	log "bench boot $mode: $((SECONDS - t)) s"
}

# hogs N: N host processes that spin until killed
hogs=()
start_hogs() {
	local i
	for ((i = 0; i < $1; i++)); do
		(while :; do :; done) &
		hogs+=($!)
	done
}

modes=${BENCH_MODES:-icount tcg tcg4 tcg8 oversub}
for m in $modes; do
	case $m in
	icount) TSC_KHZ=$ICOUNT_TSC_KHZ bench icount 2 "${BENCH_POINTS:-all}" "$ICOUNT_OPTS" ;;
	tcg) bench tcg 2 "${BENCH_POINTS:-all}" ;;
	tcg4) bench tcg4 4 scale ;;
	tcg8) bench tcg8 8 scale ;;
	oversub)
		start_hogs "${OVERSUB_HOGS:-2}"
		bench oversub 4 cross
		kill "${hogs[@]}" 2>/dev/null
		wait "${hogs[@]}" 2>/dev/null ;;
	esac
done
{
	echo "mode,peer,context,cpus,ns_per_pair,spread_pct,kpairs_per_s,reps,misses,pairs,collisions"
	for m in $modes; do
		sed -n 's/^.*LABYRINTH-BENCH-CSV //p' "$out/serial-$m.log" |
			grep -v '^peer,' | sed "s/^/$m,/"
	done
} >"$res/latest.csv"
logs=()
for m in $modes; do logs+=("$m=$out/serial-$m.log"); done
python3 "$REPO/scripts/bench_report.py" "$res" "${logs[@]}" | tee "$res/latest.txt"
rc=${PIPESTATUS[0]}
python3 "$REPO/scripts/ktap.py" judge --kernel "$KVERSION" --step bench \
	--end LABYRINTH-QEMU-END --out "$out/$KVERSION-bench.json" \
	"${logs[@]#*=}" || rc=1
exit "$rc"
