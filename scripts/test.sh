#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make test`: labyrinth on every kernel line in use, each step reporting
# as KTAP and judged by scripts/ktap.py:
#
#   lts (6.12), stable (sid's newest)
#       uml           the KUnit suites under UML with the debug checkers
#       qemu-test-debug  the x86_64 SMP debug kernel: the suites, the
#                     sample, the bench smoke run, load/unload cycles,
#                     fail_page_alloc, kmemleak (scripts/qemu.sh)
#       build         every module W=1 -Werror and sparse against it
#   stable            style: checkpatch, kernel-doc, the rendered docs
#   rc (experimental's newest)
#       build         every module W=1 -Werror and sparse against a
#                     prepared tree
#   Debian's kernels  6.1 and 6.12 of bookworm (DKMS on 6.12) and sid's
#                     newest: build against them, boot them, load
#                     labyrinth and the sample (scripts/distro.sh)
#
# One line per kernel and step, "<version> <step>: N passed, N failed, N
# skipped", then the expected plan's line, then the total last. The
# verdict fails closed: scripts/expected.plan names every step, report and
# suite that must come, with at least how many cases, and every skip that
# may; scripts/ktap.py verdict holds the results against it. A kernel line
# that cannot be fetched fails the run with apt's message; OFFLINE=1 tests
# without sid and experimental (cached trees are used) and the summary
# lists the lines left untested.
# KSRC=/path/to/linux tests that tree instead of lts and stable (UML,
# qemu, build) and skips the Debian lines.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kernel.sh"
set +e

results=$REPO/build/results
rm -rf "$results"
mkdir -p "$results"
start=$SECONDS
times=()

# step LINE RUN CMD...: run one step of the plan. Its reports, its exit
# status, its output (step.log) and, if its kernel could not be fetched, the cause go to
# $results/LINE-RUN/ for the verdict; nothing is judged here. CMD runs in
# a subshell, so that a die() ends the step, not the run.
step() {
	local dir=$results/$1-$2 t=$SECONDS rc
	log "== $1 $2 =="
	mkdir -p "$dir"
	shift 2
	(set -e; RESULTS=$dir LAB_UNREACHABLE=$dir/unreachable "$@") 2>&1 |
		tee "$dir/step.log"
	rc=${PIPESTATUS[0]}
	echo "$rc" >"$dir/status"
	times+=("${dir##*/}: $((SECONDS - t)) s")
}

# x86_build SEL [prepare]: W=1 and sparse against SEL's x86 debug kernel,
# or (prepare) a tree prepared with the same config by modules_prepare.
x86_build() {
	local kdir
	ksrc_select "$1" || return $?
	if [ "${2:-}" = prepare ]; then
		kdir=$(build_kernel compile "$REPO/qemu/base.config" \
			"$REPO/qemu/debug.config" -- modules_prepare) || return 1
	else
		kdir=$KOUT/debug
	fi
	bash "$REPO/scripts/build.sh" "$kdir" "$KVERSION" build sparse
}

lines=(lts stable rc 6.1 6.12 sid)
sels=(lts stable)
if [ -n "$USER_KSRC" ]; then
	lines=(user)
	sels=(user)
fi
for sel in "${sels[@]}"; do
	step "$sel" uml env KVER="$sel" bash "$REPO/scripts/kunit.sh"
	step "$sel" qemu env KVER="$sel" bash "$REPO/scripts/qemu.sh" test
	step "$sel" build x86_build "$sel"
done
if [ -z "$USER_KSRC" ]; then
	step stable style env KVER=stable bash "$REPO/scripts/check.sh"
	step rc build x86_build rc prepare
	for l in 6.1 6.12 sid; do
		step "$l" distro bash "$REPO/scripts/distro.sh" "$l"
	done
fi

log "time per step: $(printf '%s; ' "${times[@]}")"
log "total time $((SECONDS - start)) s"
echo
echo "== labyrinth on every kernel =="
python3 "$REPO/scripts/ktap.py" verdict --section test --lines "${lines[*]}" \
	$([ "${OFFLINE:-0}" = 1 ] && echo --offline) "$results"
