#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make bench: build a kernel without debug checkers (tinyconfig +
# qemu/bench.config), boot it under qemu with 2 vCPUs, run
# bench/labyrinth_bench.ko, and collect its results:
#   bench/results/latest.csv      peer,context,cpus,ns_per_pair,...
#   bench/results/latest.txt      table, latency, scarce case, target ratios
#   bench/results/latest.png      ns per pair by peer and context
# Times under TCG emulation are not hardware numbers: only ratios between
# peers measured in the same run are reported as results.
# BENCH_ARGS passes module parameters (default "ms=100 reps=5").

. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/kernel.sh"

ensure_ksrc
need_pkgs gnuplot-nox
kdir=$(build_kernel bench "$REPO/qemu/bench.config")
mdir=$(build_modules x86-bench "$kdir")
out=$REPO/build/qemu-bench
res=$REPO/bench/results
mkdir -p "$out" "$res"
pack_initramfs "$out/initramfs.cpio.gz" bench "$mdir/labyrinth.ko" \
	"$mdir/bench/labyrinth_bench.ko=${BENCH_ARGS:-ms=100 reps=5}"
log "booting the bench kernel (qemu, TCG, 2 vCPUs)"
set +e
QEMU_APPEND=nokmemleakscan boot_qemu "$kdir/arch/x86/boot/bzImage" \
	"$out/initramfs.cpio.gz" "$out/serial.log" 900
sed -n 's/^.*LABYRINTH-BENCH-CSV //p' "$out/serial.log" >"$res/latest.csv"
python3 "$REPO/scripts/bench_report.py" "$out/serial.log" "$res" | tee "$res/latest.txt"
rc=${PIPESTATUS[0]}
python3 "$REPO/scripts/qemu_log.py" "$out/serial.log" --ksrc "$KSRC" --label bench
exit $((rc | $?))
