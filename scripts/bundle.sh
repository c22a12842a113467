#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make bench-bundle: the benchmark as one self-contained directory that runs
# on any x86-64 Linux host with nothing installed - to measure the many-CPU
# points on a host with a core per vCPU (this machine has 2 cores, so its
# 4- and 8-vCPU boots are emulated on shared cores):
#
#   build/bench-bundle/          and build/bench-bundle.tar.xz (about 15 MB)
#     run.sh [CPUS...]           boot once per vCPU count (default 2 4 8 16):
#                                2 runs every point, more the every-CPU and
#                                scarce points; serial logs in results/
#     bzImage                    the benchmark kernel (qemu/bench.config)
#     initramfs-{all,scale}.cpio.gz   labyrinth.ko + labyrinth_bench.ko
#     bin/qemu-system-x86_64, lib/ (every library ldd lists, the dynamic
#     loader included), qemu-modules/ (the TCG accelerator), share/ (qemu's
#     and SeaBIOS's firmware)
#
# Bring results/ back and read it with the same report as make bench:
#   python3 scripts/bench_report.py DIR tcg=DIR/serial-tcg.log \
#       tcg4=DIR/serial-tcg4.log ...     (run.sh prints the line)
# BENCH_ARGS passes module parameters (default "ms=100 reps=5").
# BASELINE=/path/to/another/checkout adds its modules, built against the
# same kernel, as initramfs-*-baseline.cpio.gz: VARIANT=-baseline ./run.sh
# boots those, so that a change is measured against its parent on the same
# host (before/after).

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kernel.sh"

ksrc_select "${KVER:-stable}"
need_pkgs qemu-system-x86 xz-utils
kdir=$(build_kernel bench "$REPO/qemu/base.config" "$REPO/qemu/bench.config")
mdir=$(build_modules "$KVERSION/x86-bench" "$kdir")
out=$REPO/build/bench-bundle
args=${BENCH_ARGS:-ms=100 reps=5}
rm -rf "$out" "$out.tar.xz"
mkdir -p "$out"/{bin,lib,qemu-modules,share,results}

cp "$kdir/arch/x86/boot/bzImage" "$out/"
for p in all scale; do
	pack_initramfs "$out/initramfs-$p.cpio.gz" bench "$mdir/labyrinth.ko" \
		"$mdir/bench/labyrinth_bench.ko=$args points=$p"
done
if [ -n "${BASELINE:-}" ]; then
	# shellcheck disable=SC2016 # expanded by the inner shell
	bdir=$(cd "$BASELINE" && bash -c '. scripts/lib.sh && . scripts/kernel.sh &&
		build_modules "$1/x86-bench-baseline" "$2"' _ "$KVERSION" "$kdir") ||
		die "cannot build the baseline's modules in $BASELINE"
	for p in all scale; do
		pack_initramfs "$out/initramfs-$p-baseline.cpio.gz" bench \
			"$bdir/labyrinth.ko" "$bdir/bench/labyrinth_bench.ko=$args points=$p"
	done
	git -C "$BASELINE" describe --always --dirty >"$out/BASELINE" 2>/dev/null
fi
qemu=$(command -v qemu-system-x86_64)
cp "$qemu" "$out/bin/"
# every library, and the loader that runs the binary with them
ldd "$qemu" | awk '/=> \// {print $3} /^\t\/.*ld-linux/ {print $1}' |
	while read -r l; do cp -L "$l" "$out/lib/"; done
cp -L /lib64/ld-linux-x86-64.so.2 "$out/lib/"
cp /usr/lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so "$out/qemu-modules/"
cp -rL /usr/share/qemu/. "$out/share/"
cp -rL /usr/share/seabios/. "$out/share/"
echo "$KVERSION $(git -C "$REPO" describe --always --dirty 2>/dev/null)" >"$out/VERSION"

cat >"$out/run.sh" <<'RUN'
#!/bin/sh
# run.sh [CPUS...]: the labyrinth benchmark under multi-threaded TCG, one
# boot per vCPU count (default 2 4 8 16). 2 vCPUs run every point; more,
# labyrinth and objpool on every CPU at once and the scarce points. Give
# each vCPU a host core: run no more vCPUs than the host has cores.
# Serial logs go to $RESULTS (default results/); VARIANT=-baseline boots
# the baseline's modules (make bench-bundle BASELINE=...).
here=$(cd "$(dirname "$0")" && pwd)
cd "$here" || exit 1
res=${RESULTS:-results}
mkdir -p "$res"
export QEMU_MODULE_DIR="$here/qemu-modules"
khz=$(awk '/^cpu MHz/ {printf "%d", $4 * 1000; exit}' /proc/cpuinfo)
[ -n "$khz" ] && tsc="tsc_early_khz=$khz tsc=reliable"
report=""
rc=0
for n in ${*:-2 4 8 16}; do
	if [ "$n" -le 2 ]; then mode=tcg; init=initramfs-all${VARIANT:-}.cpio.gz
	else mode=tcg$n; init=initramfs-scale${VARIANT:-}.cpio.gz; fi
	echo "bench boot $mode: $n vCPUs ($(nproc) host cores)"
	start=$(date +%s)
	timeout 1800 ./lib/ld-linux-x86-64.so.2 --library-path ./lib \
		./bin/qemu-system-x86_64 -L ./share -accel tcg,thread=multi \
		-cpu qemu64,+rdrand -smp "$n" -m 2G -nographic -no-reboot \
		-nic none -bios qboot.rom -kernel bzImage -initrd "$init" \
		-append "console=ttyS0 panic=-1 oops=panic $tsc nokmemleakscan" \
		</dev/null 2>&1 | tr -d '\r' >"$res/serial-$mode${VARIANT:-}.log"
	grep -q "LABYRINTH-BENCH-END 0" "$res/serial-$mode${VARIANT:-}.log" || {
		echo "bench boot $mode: no complete run ($res/serial-$mode${VARIANT:-}.log)"; rc=1; }
	echo "bench boot $mode: $(( $(date +%s) - start )) s"
	report="$report $mode=DIR/serial-$mode${VARIANT:-}.log"
done
echo "report: python3 scripts/bench_report.py DIR$report   (DIR: $res)"
exit $rc
RUN
chmod +x "$out/run.sh"
# a first check that it runs here as it will elsewhere: qemu from the bundle
(cd "$out" && QEMU_MODULE_DIR=./qemu-modules ./lib/ld-linux-x86-64.so.2 \
	--library-path ./lib ./bin/qemu-system-x86_64 -version) >/dev/null ||
	die "the bundle's qemu does not start"
tar -C "$REPO/build" -cJf "$out.tar.xz" bench-bundle
log "bench bundle: $out ($(du -sh "$out" | cut -f1)), $out.tar.xz ($(du -sh "$out.tar.xz" | cut -f1))"
