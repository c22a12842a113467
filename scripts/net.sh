#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make net: the network driver (drivers/net/labnet.c) under real traffic
# with each RX pool - labyrinth, page_pool, alloc_page(GFP_ATOMIC) - in
# one boot of the kernel KVER selects (default stable) under qemu (TCG,
# NET_SMP vCPUs, default 2): iperf3 TCP and UDP and pktgen between two
# network namespaces joined by the device pair, with fail_page_alloc off
# and at each level of NET_PRESSURE (default "0 1 10 50 fill"): a number is
# a fail_page_alloc percentage, "fill" memory held between the low and
# high watermarks by a process (qemu/memfill.c); qemu/net runs it in the
# guest.
#
#   NET_FLAVOUR=bench  (default) the benchmark kernel plus fail_page_alloc
#                      (qemu/net.config), for the numbers
#   NET_FLAVOUR=debug  the debug kernel (lockdep, KASAN, kmemleak, ...):
#                      the same traffic, judged on its checkers' reports
#
# Then, for each pool, 20 rounds of ifdown/ifup and 5 of rmmod/insmod
# with iperf3 running (NET_TEARDOWN=0 skips them); at the end labyrinth's
# page balance and, in the debug kernel, kmemleak.
#
# Each workload runs with each pool in turn, on a freshly loaded device,
# the order rotating from one workload to the next; NET_REPS (1) times.
# NET_POOLS takes POOL[:ARG,...] (e.g. labyrinth:irq_post=0) to pass the
# driver's parameters; NET_WORKLOADS a subset of "tcp udp pktgen64
# pktgen1500" (all four). NET_SECONDS: per workload, default 5. Results go beside the
# benchmark's: bench/results/net.csv (pool,workload,pressure,metric,value),
# net.txt (the table), net.png (the plot). Exit status 1 if a run did not
# finish, a workload moved no frame, or the kernel log has a checker report.
# Times under TCG are not hardware numbers: compare pools of the same boot.
#
#   NET_TIME=tcg     (default) multi-threaded TCG, the guest's clock the
#                    host's: rates move with the host's load, from one boot
#                    to the next by up to a quarter
#   NET_TIME=icount  -icount shift=0: one vCPU runs at a time and guest time
#                    counts instructions (1 ns each), so a rate is frames
#                    per instruction executed: the same to within about 2%
#                    from boot to boot; for the pools' ratios
#
# NET_PROFILE=1 (icount) also counts the instructions of every function,
# as make profile does, per frame received in the whole run:
# bench/results/net-profile.txt. One pool and one workload at a time say
# most (NET_POOLS=labyrinth NET_WORKLOADS=pktgen1500).

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kernel.sh"

flavour=${NET_FLAVOUR:-bench}
ksrc_select "${KVER:-stable}"
need_pkgs gnuplot-nox iperf3 iproute2 ethtool
case $flavour in
bench) kdir=$(build_kernel net "$REPO/qemu/base.config" "$REPO/qemu/bench.config" \
		"$REPO/qemu/net.config") ;;
debug) kdir=$(build_kernel debug "$REPO/qemu/base.config" "$REPO/qemu/debug.config") ;;
*) die "NET_FLAVOUR=$flavour: bench or debug" ;;
esac
clock=${NET_TIME:-tcg}
[ "${NET_PROFILE:-0}" = 1 ] && clock=icount
case $clock in
tcg) ;;
icount) QEMU_EXTRA="${QEMU_EXTRA:-} $ICOUNT_OPTS"
	export TSC_KHZ=$ICOUNT_TSC_KHZ QEMU_EXTRA ;;
*) die "NET_TIME=$clock: tcg or icount" ;;
esac
if [ "${NET_PROFILE:-0}" = 1 ]; then
	plugin=$(tbprof_plugin) || exit 1
	QEMU_EXTRA="$QEMU_EXTRA -plugin $plugin,out=$REPO/build/$KVERSION/qemu-net-$flavour/tb.out"
fi
mdir=$(build_modules "$KVERSION/x86-net-$flavour" "$kdir")
[ -f "$mdir/drivers/net/labnet.ko" ] || die "labnet.ko was not built"
out=$REPO/build/$KVERSION/qemu-net-$flavour
res=$REPO/bench/results
mkdir -p "$out" "$res"
rm -f "$out/tb.out"

NET_MODULE=$mdir/drivers/net/labnet.ko \
NET_POOLS=${NET_POOLS:-labyrinth labyrinth:reuse=0 page_pool atomic} \
NET_SECONDS=${NET_SECONDS:-5} NET_PRESSURE=${NET_PRESSURE:-0 1 10 50 fill} \
NET_TEARDOWN=${NET_TEARDOWN:-1} NET_REPS=${NET_REPS:-1} \
NET_WORKLOADS=${NET_WORKLOADS:-tcp udp pktgen64 pktgen1500} NET_PROFILE=${NET_PROFILE:-0} \
NET_BINARIES="/usr/bin/ip /usr/bin/iperf3" CYCLES=0 PRESSURE= \
	pack_initramfs "$out/initramfs.cpio.gz" net "$mdir/labyrinth.ko"
log "net boot ($flavour kernel): ${NET_SMP:-2} vCPUs, clock $clock"
start=$SECONDS
# a larger log: the fill level's OOM kills print pages of it, and the
# run's start mark must stay in it
SMP=${NET_SMP:-2} QEMU_APPEND="nokmemleakscan log_buf_len=16M" \
	boot_qemu "$kdir/arch/x86/boot/bzImage" "$out/initramfs.cpio.gz" \
	"$out/serial.log" "${NET_TIMEOUT:-2400}" || true
log "qemu finished in $((SECONDS - start)) s; serial log: $out/serial.log"
suffix=$([ "$flavour" = bench ] || echo "-$flavour")
python3 "$REPO/scripts/net_report.py" --clock "$clock" --csv "$res/net$suffix.csv" \
	--png "$res/net$suffix.png" "$out/serial.log" | tee "$res/net$suffix.txt"
rc=${PIPESTATUS[0]}
if [ "${NET_PROFILE:-0}" = 1 ]; then
	python3 "$REPO/scripts/profile_report.py" "$kdir/System.map" "$out/serial.log" \
		"$out/tb.out" | tee "$res/net-profile.txt"
	[ "${PIPESTATUS[0]}" = 0 ] || rc=1
fi
exit "$rc"
