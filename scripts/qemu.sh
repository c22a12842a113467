#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Boot labyrinth in the x86_64 SMP debug test kernel under qemu (TCG, 2
# vCPUs): tinyconfig + qemu/debug.config, built in the cache and rebuilt
# only when the fragment changes.
#
#   qemu.sh test   labyrinth.ko, labyrinth_test.ko (KUnit at insmod), the
#                  sample driver, then $EXTRA_MODULES; judged by
#                  scripts/qemu_log.py ("qemu-x86: N passed, N failed")
#   qemu.sh run    labyrinth.ko and the sample; prints what happened
#
# DEMO_ARGS passes module parameters to the sample (e.g. "rooms=4 run_ms=2000").

. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/kernel.sh"

mode=${1:-test}
ensure_ksrc
kdir=$(build_kernel debug "$REPO/qemu/debug.config")
mdir=$(build_modules x86-debug "$kdir")
out=$REPO/build/qemu-$mode
mkdir -p "$out"

mods=("$mdir/labyrinth.ko")
[ "$mode" = test ] && mods+=("$mdir/labyrinth_test.ko")
mods+=("$mdir/samples/labyrinth_demo.ko=${DEMO_ARGS:-}")
for m in ${EXTRA_MODULES:-}; do
	[ -f "$m" ] || die "EXTRA_MODULES: no file $m"
	mods+=("$(realpath "$m")")
done
pack_initramfs "$out/initramfs.cpio.gz" "${mods[@]}"

log "booting $kdir/arch/x86/boot/bzImage (qemu, TCG, 2 vCPUs)"
start=$SECONDS
set +e
[ "$mode" = run ] && export QEMU_APPEND=nokmemleakscan	# saves ~18 s
boot_qemu "$kdir/arch/x86/boot/bzImage" "$out/initramfs.cpio.gz" "$out/serial.log"
log "qemu finished in $((SECONDS - start)) s; serial log: $out/serial.log"

if [ "$mode" = run ]; then
	echo
	echo "== what happened in the SMP test kernel ($(grep -m1 -o 'smpboot: Total of [0-9]* processors' "$out/serial.log" || echo '2 vCPUs')) =="
	grep -E "labyrinth_demo: |LABYRINTH-LOAD|LABYRINTH-UNLOAD" "$out/serial.log" |
		sed -e 's/^LABYRINTH-LOAD \(.*\) rc=0/loaded \1/' \
		    -e 's/^LABYRINTH-UNLOAD \(.*\) rc=0/unloaded \1/' \
		    -e 's/^.*labyrinth_demo: /the sample driver ran on /' \
		    -e 's/; /\n    /g'
	awk '/^LABYRINTH-STATS/{p=1; print "\nstats of " $2 ":"; next}
	     /^LABYRINTH-/{p=0} p' "$out/serial.log"
	echo
fi
python3 "$REPO/scripts/qemu_log.py" "$out/serial.log" --ksrc "$KSRC" \
	--label "qemu-x86" \
	--allow 'destroyed with room [0-9]+ owned by .*left to the owner'
