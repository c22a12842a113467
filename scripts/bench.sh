#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make bench: build a kernel without debug checkers (tinyconfig +
# qemu/base.config + qemu/bench.config) for the kernel KVER selects
# (default stable), boot it under qemu with 2 vCPUs, run
# bench/labyrinth_bench.ko, and collect its results:
#   bench/results/latest.csv      mode,peer,context,cpus,ns_per_pair,...
#   bench/results/latest.txt      table, latency, scarce case, target ratios
#   bench/results/latest.png      ns per pair by peer and context
# Times under TCG emulation are not hardware numbers: only ratios between
# peers measured in the same run are reported as results.
# BENCH_ARGS passes module parameters (default "ms=100 reps=5").

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kernel.sh"

ksrc_select "${KVER:-stable}"
need_pkgs gnuplot-nox
kdir=$(build_kernel bench "$REPO/qemu/base.config" "$REPO/qemu/bench.config")
mdir=$(build_modules "$KVERSION/x86-bench" "$kdir")
out=$REPO/build/$KVERSION/qemu-bench
res=$REPO/bench/results
mkdir -p "$out" "$res"
pack_initramfs "$out/initramfs.cpio.gz" bench "$mdir/labyrinth.ko" \
	"$mdir/bench/labyrinth_bench.ko=${BENCH_ARGS:-ms=100 reps=5}"
# Two boots of the same kernel and module:
#  - icount: qemu counts instructions (-icount shift=0: 1 ns of guest time
#    per instruction, TSC at 1 GHz), so ns/pair is instructions per pair:
#    deterministic, free of host noise; one vCPU runs at a time, so only
#    its 1-CPU costs are meaningful;
#  - tcg: multi-threaded TCG in real time, for the all-CPU and cross-CPU
#    points and the throughput scaling (noisy: medians of batches).
set +e
log "booting the bench kernel with -icount (instruction counts)"
TSC_KHZ=1000000 QEMU_EXTRA="-icount shift=0,align=off" QEMU_APPEND=nokmemleakscan \
	boot_qemu "$kdir/arch/x86/boot/bzImage" "$out/initramfs.cpio.gz" \
	"$out/serial-icount.log" 900
log "booting the bench kernel under multi-threaded TCG (wall time)"
QEMU_APPEND=nokmemleakscan boot_qemu "$kdir/arch/x86/boot/bzImage" \
	"$out/initramfs.cpio.gz" "$out/serial-tcg.log" 900
{
	echo "mode,peer,context,cpus,ns_per_pair,spread_pct,kpairs_per_s,reps,misses"
	for m in icount tcg; do
		sed -n 's/^.*LABYRINTH-BENCH-CSV //p' "$out/serial-$m.log" |
			grep -v '^peer,' | sed "s/^/$m,/"
	done
} >"$res/latest.csv"
python3 "$REPO/scripts/bench_report.py" "$out/serial-icount.log" \
	"$out/serial-tcg.log" "$res" | tee "$res/latest.txt"
rc=${PIPESTATUS[0]}
python3 "$REPO/scripts/ktap.py" judge --kernel "$KVERSION" --step bench \
	--end LABYRINTH-QEMU-END --out "$out/$KVERSION-bench.json" \
	"$out/serial-icount.log" "$out/serial-tcg.log" || rc=1
exit "$rc"
