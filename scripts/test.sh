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
# skipped", then the total last. A kernel whose Debian suite cannot be
# reached is reported as a skipped step and the rest is tested.
# KSRC=/path/to/linux tests that tree instead of lts and stable (UML,
# qemu, build) and skips the Debian lines.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kernel.sh"
set +e

export RESULTS=$REPO/build/results
rm -rf "$RESULTS"
mkdir -p "$RESULTS"
start=$SECONDS
times=()

# step LABEL CMD...: run a step, which writes its own results; exit status
# 2 means its kernel is out of reach (a skipped step), any other failure
# without results a failed one.
step() {
	local label=$1 t=$SECONDS rc before
	shift
	log "== $label =="
	before=$(ls "$RESULTS" | wc -l)
	"$@"
	rc=$?
	times+=("$label: $((SECONDS - t)) s")
	if [ "$(ls "$RESULTS" | wc -l)" -gt "$before" ]; then
		return 0
	fi
	python3 "$REPO/scripts/ktap.py" record --kernel "${label%% *}" \
		--step "${label#* }" --out "$RESULTS/${label// /-}.json" \
		"$([ $rc -eq 2 ] && echo --skip || echo --fail)" \
		"$([ $rc -eq 2 ] && echo "kernel out of reach" ||
		   echo "exit status $rc before any result")"
}

# x86_build SEL [prepare]: W=1 and sparse against SEL's x86 debug kernel,
# or (prepare) a tree prepared with the same config by modules_prepare.
x86_build() {
	local kdir rc=0
	ksrc_select "$1" || return $?
	if [ "${2:-}" = prepare ]; then
		kdir=$(build_kernel compile "$REPO/qemu/base.config" \
			"$REPO/qemu/debug.config" -- modules_prepare) || return 1
	else
		kdir=$KOUT/debug
	fi
	bash "$REPO/scripts/build.sh" "$kdir" "$KVERSION" build sparse
}

sels=(lts stable)
[ -n "$USER_KSRC" ] && sels=(user)
for sel in "${sels[@]}"; do
	step "$sel uml" env KVER="$sel" bash "$REPO/scripts/kunit.sh"
	step "$sel qemu" env KVER="$sel" bash "$REPO/scripts/qemu.sh" test
	step "$sel build" x86_build "$sel"
done
step "stable style" env KVER=stable bash "$REPO/scripts/check.sh"
if [ -z "$USER_KSRC" ]; then
	step "rc build" x86_build rc prepare
	step "6.1 stock" bash "$REPO/scripts/distro.sh" 6.1
	step "6.12 stock" bash "$REPO/scripts/distro.sh" 6.12
	step "sid stock" bash "$REPO/scripts/distro.sh" sid
fi

log "time per step: $(printf '%s; ' "${times[@]}")"
log "total time $((SECONDS - start)) s"
echo
echo "== labyrinth on every kernel =="
mapfile -t files < <(ls "$RESULTS"/*.json | sort -V)
python3 "$REPO/scripts/ktap.py" total "${files[@]}"
