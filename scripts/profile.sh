#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make profile: where the instructions of benchmark points go, function by
# function. Boots the benchmark kernel (as make bench's icount boot:
# -icount shift=0, PROFILE_SMP vCPUs, default 1) with bench/labyrinth_bench.ko
# given PROFILE_ARGS (default "only=lab_rx_detach ms=2000 reps=3": one
# peer, no scarce or occupancy points) and a qemu plugin
# (bench/profile/tbprof.c) that counts the runs of every translation
# block; scripts/profile_report.py divides each function's instructions by
# the pairs the points made: bench/results/profile.txt. The whole boot is
# counted, so functions that also run while the kernel starts (the
# initramfs's inflate, the APIC calibration) carry that too: the longer
# the points, the less it weighs. The plugin is built against the
# qemu-plugin.h of Debian 12's qemu source (fetched once into the cache).

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kernel.sh"

ksrc_select "${KVER:-stable}"
plugin=$(tbprof_plugin) || exit 1
kdir=$(build_kernel bench "$REPO/qemu/base.config" "$REPO/qemu/bench.config")
mdir=$(build_modules "$KVERSION/x86-bench" "$kdir")
out=$REPO/build/$KVERSION/qemu-profile
res=$REPO/bench/results
args=${PROFILE_ARGS:-only=lab_rx_detach ms=2000 reps=3}
mkdir -p "$out" "$res"
rm -f "$out/tb.out"
pack_initramfs "$out/initramfs.cpio.gz" profile "$mdir/labyrinth.ko" \
	"$mdir/bench/labyrinth_bench.ko=$args"
log "profile boot: ${PROFILE_SMP:-1} vCPU(s), bench $args"
TSC_KHZ=$ICOUNT_TSC_KHZ SMP=${PROFILE_SMP:-1} QEMU_APPEND=nokmemleakscan \
	QEMU_EXTRA="$ICOUNT_OPTS -plugin $plugin,out=$out/tb.out" \
	boot_qemu "$kdir/arch/x86/boot/bzImage" "$out/initramfs.cpio.gz" \
	"$out/serial.log" 1800 || true
python3 "$REPO/scripts/profile_report.py" "$kdir/System.map" "$out/serial.log" \
	"$out/tb.out" | tee "$res/profile.txt"
exit "${PIPESTATUS[0]}"
