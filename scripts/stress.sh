#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make stress`: issue 6's reliability campaigns, each a boot of an x86_64
# SMP test kernel under qemu (TCG, 2 vCPUs), then one table
# (scripts/stress_report.py):
#
#   kcsan  KCSAN + lockdep: the sample's canary stress for STRESS_S (30) s,
#          3 rooms for 6 claimants (task, softirq, hardirq per CPU),
#          detaching every 8th room                            campaign 1
#   debug  KASAN + lockdep + kmemleak: the suite with each memory-pressure
#          case for PRESSURE_MS (5000) ms, the bad-input cases, the sample
#          for 5 s, CYCLES (100) load/unload cycles, then the sample for 8 s
#          with fail_page_alloc failing 10, 50, 100% of labyrinth's page
#          allocations for 6 s of it                            campaigns 1-4
#   rt     PREEMPT_RT + lockdep + KASAN: the suite, the sample for 5 s,
#          10 load/unload cycles and the fail_page_alloc runs   campaign 5
#
# Every boot also runs the whole KUnit suite; any failed case, splat,
# kmemleak report or unbalanced labyrinth fails it. Logs: build/stress/.
# Exit status 0 only if every boot passed and every cell of the table
# (violations, leaks, reports) is zero.

. "$(dirname "$0")/common.sh"
set +e

out=$REPO/build/stress
stress_s=${STRESS_S:-30}
pressure_ms=${PRESSURE_MS:-5000}
cycles=${CYCLES:-100}
mkdir -p "$out"
start=$SECONDS
failed=0
logs=()

boot() {	# NAME VAR=VALUE...
	local name=$1 t=$SECONDS rc
	shift
	log "== stress: $name kernel =="
	rm -rf "${out:?}/$name"
	env OUT="$out/$name" "$@" bash "$REPO/scripts/qemu.sh" test >"$out/$name.log" 2>&1
	rc=$?
	tail -n 1 "$out/$name.log"
	log "$name: exit $rc after $((SECONDS - t)) s (log: $out/$name.log)"
	[ "$rc" -ne 0 ] && failed=$((failed + 1))
	logs+=("$name=$out/$name/serial.log")
}

boot debug FLAVOUR=debug TEST_ARGS="pressure_ms=$pressure_ms" \
	DEMO_ARGS="rooms=4 detach_every=8 run_ms=5000" CYCLES="$cycles" \
	PRESSURE="10 50 100" PRESSURE_RUN_MS=8000
boot kcsan FLAVOUR=kcsan DEMO_ARGS="rooms=3 detach_every=8 run_ms=$((stress_s * 1000))" \
	CYCLES=0 PRESSURE=""
boot rt FLAVOUR=rt DEMO_ARGS="rooms=4 detach_every=8 run_ms=5000" CYCLES=10

echo
echo "== labyrinth reliability campaigns ($((SECONDS - start)) s) =="
python3 "$REPO/scripts/stress_report.py" "${logs[@]}" || failed=$((failed + 1))
[ "$failed" -eq 0 ] || { log "stress: $failed failure(s)"; exit 1; }
