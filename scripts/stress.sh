#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make stress`: the reliability campaigns, each a boot of an x86_64 SMP
# test kernel under qemu (TCG) for the kernel KVER selects (default
# stable), then one table (scripts/stress_report.py):
#
#   debug  KASAN + lockdep + kmemleak: the suite with each memory-pressure
#          case for PRESSURE_MS (5000) ms, the bad-input cases, the sample
#          for 5 s, CYCLES (100) load/unload cycles, then the sample for 8 s
#          with fail_page_alloc failing 10, 50, 100% of labyrinth's page
#          allocations for 6 s of it                          campaigns 1-4
#   kcsan  KCSAN + lockdep: the sample's canary stress for STRESS_S (30) s,
#          3 rooms for 6 claimants (task, softirq, hardirq per CPU),
#          detaching every 8th room                           campaign 1
#   rt     PREEMPT_RT + lockdep + KASAN: the suite, the sample for 5 s,
#          20 load/unload cycles and the fail_page_alloc runs campaign 5
#   numa   the debug kernel with ACPI NUMA, two nodes of one CPU each:
#          the suite's NUMA cases (rooms on their nodes, spill) campaign 6
#   smp8   the debug kernel on 8 vCPUs (emulated on this machine's
#          cores): the suite and the sample with 24 claimants on 12
#          rooms for 5 s                                      campaign 1
#
# The debug boot runs the NMI hammer for NMI_MS (10000) ms: a CPU sending
# NMIs at another whose task and hard irq claim; the NMIs claim, release
# and detach rooms and release rooms the task claimed        campaign 7
#
# Every boot also runs the whole KUnit suite and is judged by
# scripts/ktap.py like any test boot: a failed case or check, a checker
# report or a boot that does not finish fails it; and the [stress] section
# of scripts/expected.plan requires every boot, its suites and their
# cases, so a boot that dies before it is judged fails the run too. Logs:
# build/stress/. Exit status 0 only if every boot passed.

. "$(dirname "$0")/lib.sh"
set +e

out=$REPO/build/stress
export RESULTS=$out/results
stress_s=${STRESS_S:-30}
pressure_ms=${PRESSURE_MS:-5000}
cycles=${CYCLES:-100}
nmi_ms=${NMI_MS:-10000}
export KVER=${KVER:-stable}
rm -rf "$out"
mkdir -p "$RESULTS"
start=$SECONDS
logs=()

# boot NAME VAR=VALUE...: one boot of the plan's [stress] section; its
# report, exit status and any fetch failure go to $RESULTS/stress-NAME/.
boot() {
	local name=$1 t=$SECONDS dir=$RESULTS/stress-$1
	shift
	log "== stress: $name kernel =="
	mkdir -p "$dir"
	env OUT="$out/$name" RESULTS="$dir" LAB_UNREACHABLE="$dir/unreachable" "$@" \
		bash "$REPO/scripts/qemu.sh" test >"$out/$name.log" 2>&1
	echo $? >"$dir/status"
	tail -n 1 "$out/$name.log"
	log "$name: $((SECONDS - t)) s (log: $out/$name.log)"
	logs+=("$name=$out/$name/serial.log")
}

boot debug FLAVOUR=debug TEST_ARGS="pressure_ms=$pressure_ms nmi_ms=$nmi_ms" \
	DEMO_ARGS="rooms=4 detach_every=8 run_ms=5000" CYCLES="$cycles" \
	PRESSURE="10 50 100" PRESSURE_RUN_MS=8000
boot kcsan FLAVOUR=kcsan DEMO_ARGS="rooms=3 detach_every=8 run_ms=$((stress_s * 1000))" \
	CYCLES=0 PRESSURE=""
boot rt FLAVOUR=rt DEMO_ARGS="rooms=4 detach_every=8 run_ms=5000" CYCLES=20
boot numa FLAVOUR=numa CYCLES=0 PRESSURE=""
boot smp8 FLAVOUR=debug SMP=8 DEMO_ARGS="rooms=12 detach_every=8 run_ms=5000" \
	CYCLES=0 PRESSURE="" QEMU_TIMEOUT=1800

echo
echo "== labyrinth reliability campaigns ($((SECONDS - start)) s) =="
python3 "$REPO/scripts/stress_report.py" "${logs[@]}"
echo
python3 "$REPO/scripts/ktap.py" verdict --section stress --lines stress "$RESULTS"
