#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Boot labyrinth in an x86_64 SMP test kernel under qemu (TCG): tinyconfig
# + qemu/base.config + qemu/debug.config (+ qemu/$FLAVOUR.config), built in
# the cache for the kernel KVER selects (scripts/lib.sh) and rebuilt only
# when a fragment changes.
#
#   qemu.sh test   labyrinth.ko, labyrinth_test.ko (KUnit at insmod), the
#                  sample driver, the benchmark's smoke run, $EXTRA_MODULES;
#                  then load/unload cycles, fail_page_alloc runs, the
#                  network driver under traffic and a kmemleak scan
#                  (qemu/init). Judged by scripts/ktap.py:
#                  "<version> qemu-<flavour>: N passed, N failed, N skipped"
#   qemu.sh run    labyrinth.ko and the sample; prints what happened, the
#                  sample's debugfs stats and rooms, a trace excerpt, and
#                  draws its map while running and after (PNG)
#
# Environment: KVER (default stable), FLAVOUR (debug, rt, kcsan, numa: two
# NUMA nodes of one CPU each), SMP (2 vCPUs), DEMO_ARGS (the sample's parameters),
# TEST_ARGS (labyrinth_test's), CYCLES (5) load/unload cycles with
# CYCLE_ARGS, PRESSURE ("10 50 100": fail_page_alloc percentages) each for
# PRESSURE_RUN_MS (3000), NET_POOLS ("labyrinth page_pool atomic": the
# network driver's smoke with each, NET_SECONDS (3) of traffic), EXTRA_MODULES="a.ko b.ko" (built against
# $KOUT/$FLAVOUR, e.g. with KBUILD_EXTRA_SYMBOLS=<build>/Module.symvers),
# OUT (the output directory), RESULTS (where the verdict's JSON goes).

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kernel.sh"

mode=${1:-test}
flavour=${FLAVOUR:-debug}
frags=("$REPO/qemu/base.config" "$REPO/qemu/debug.config")
[ "$flavour" != debug ] && frags+=("$REPO/qemu/$flavour.config")
[ -f "${frags[-1]}" ] || die "FLAVOUR=$flavour: no ${frags[-1]}"
rc=0
# make run boots lts when the newest stable cannot be had, and says so first
[ "$mode" = run ] && [ -z "${KVER:-}" ] && export FALLBACK_LTS=1
ksrc_select || rc=$?
[ $rc -eq 2 ] && { log "no $KVER kernel to test"; exit 2; }
[ $rc -eq 0 ] || exit $rc
kdir=$(build_kernel "$flavour" "${frags[@]}")
mdir=$(build_modules "$KVERSION/x86-$flavour" "$kdir")
tag=$mode-$flavour$([ "${SMP:-2}" = 2 ] || echo "-smp$SMP")
out=${OUT:-$REPO/build/$KVERSION/qemu-$tag}
results=${RESULTS:-$out}
mkdir -p "$out" "$results"

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
# the network driver under traffic with each pool (qemu/init), where the
# kernel has networking
if [ "$mode" = test ] && [ -f "$mdir/drivers/net/labnet.ko" ]; then
	export NET_MODULE=$mdir/drivers/net/labnet.ko
	export NET_POOLS=${NET_POOLS-labyrinth page_pool atomic}
fi
if [ "$mode" = test ]; then
	export CYCLES=${CYCLES:-5}
	export CYCLE_ARGS=${CYCLE_ARGS:-rooms=16 order=2 run_ms=50 detach_every=4}
	export PRESSURE=${PRESSURE-10 50 100} PRESSURE_RUN_MS=${PRESSURE_RUN_MS:-3000}
else
	export CYCLES=0 PRESSURE=
	export QEMU_APPEND="${QEMU_APPEND:-} nokmemleakscan"	# saves ~18 s
fi
pack_initramfs "$out/initramfs.cpio.gz" "$mode" "${mods[@]}"

if [ "$flavour" = numa ]; then
	# two nodes of 512 MB, a CPU each, described by ACPI (SeaBIOS); a
	# socket each, or x86 warns that CPUs sharing a cache span two nodes
	export QEMU_FIRMWARE=seabios MEM=1G SMP=2
	export SMP_TOPOLOGY=,sockets=2,cores=1,threads=1
	export QEMU_EXTRA="${QEMU_EXTRA:-} -object memory-backend-ram,id=m0,size=512M
		-object memory-backend-ram,id=m1,size=512M
		-numa node,nodeid=0,cpus=0,memdev=m0 -numa node,nodeid=1,cpus=1,memdev=m1"
fi
log "booting $KVERSION $flavour under qemu (TCG, ${SMP:-2} vCPUs)"
start=$SECONDS
boot_qemu "$kdir/arch/x86/boot/bzImage" "$out/initramfs.cpio.gz" \
	"$out/serial.log" "${QEMU_TIMEOUT:-900}" || true
log "qemu finished in $((SECONDS - start)) s; serial log: $out/serial.log"

[ "$mode" = run ] && bash "$REPO/scripts/show.sh" "$out"

python3 "$REPO/scripts/ktap.py" judge --kernel "$KVERSION" \
	--step "qemu-$tag" --end LABYRINTH-QEMU-END \
	--probes "$mdir/compat/labyrinth_probes.h" \
	--out "$results/$KVERSION-qemu-$tag.json" "$out/serial.log"
