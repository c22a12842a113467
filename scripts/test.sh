#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make test`: the KUnit suite under the debug UML kernel, the static
# checks, the KUnit suite and the sample in the x86_64 SMP debug kernel
# under qemu, and the modules in Debian's own kernels. Ends with one line "N passed, N failed, N skipped" over the KUnit
# cases; a step that fails outside KUnit (a splat in the kernel log, a
# checker finding, a build error) adds one failure, so the line never says
# "0 failed" when the run failed.

. "$(dirname "$0")/common.sh"
set +e

passed=0 failed=0 skipped=0 steps_failed=0
start=$SECONDS

add_counts() {	# LOGFILE PREFIX
	local line
	line=$(grep -E "^$2: [0-9]+ passed, [0-9]+ failed" "$1" | tail -n1)
	if [ -z "$line" ]; then
		return 1
	fi
	read -r p f s < <(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?.*/\1 \2 \4/' <<<"$line")
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + ${s:-0}))
}

log "== KUnit under UML (lockdep, KASAN, kmemleak, atomic-sleep) =="
out=$(mktemp)
bash "$REPO/scripts/kunit.sh" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
add_counts "$out" kunit-uml || rc=1
if [ "$rc" -ne 0 ]; then
	steps_failed=$((steps_failed + 1))
	log "KUnit step failed"
fi
uml_failed=$failed

log "== static checks (sparse, checkpatch, kernel-doc) =="
bash "$REPO/scripts/check.sh" || steps_failed=$((steps_failed + 1))

# Steps whose cases are counted: their own verdict line carries failures.
counted_step() {	# LABEL SCRIPT ARGS...
	local label=$1
	shift
	log "== $label =="
	bash "$@" 2>&1 | tee "$out"
	local rc=${PIPESTATUS[0]} before=$failed
	add_counts "$out" "$label" || { failed=$((failed + 1)); return; }
	[ "$rc" -ne 0 ] && [ "$failed" -eq "$before" ] && failed=$((failed + 1))
}
counted_step qemu-x86 "$REPO/scripts/qemu.sh" test
log "== the fast reliability campaigns of that boot (make stress runs them in full) =="
python3 "$REPO/scripts/stress_report.py" debug="$REPO/build/qemu-test/serial.log" ||
	steps_failed=$((steps_failed + 1))
counted_step distro "$REPO/scripts/distro.sh"
rm -f "$out"

# A failed step already reflected in KUnit's own failures is not counted twice.
extra=$steps_failed
[ "$uml_failed" -gt 0 ] && [ "$extra" -gt 0 ] && extra=$((extra - 1))
failed=$((failed + extra))
log "total time $((SECONDS - start)) s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$steps_failed" -eq 0 ] && [ "$failed" -eq 0 ]
