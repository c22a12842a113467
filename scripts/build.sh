#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Compile checks: every module of the project (labyrinth, its KUnit suite
# where the kernel has KUnit, the sample, the benchmark) against a kernel,
# with W=1 and warnings as errors, and with sparse where asked. Reports as
# KTAP, judged by scripts/ktap.py as "<version> <step>".
#
#   build.sh KDIR VERSION STEP [sparse]
#
# KDIR is a kernel build tree (a prepared tree or Debian's headers); with
# sparse, KSRC is its source. The log and results go to $RESULTS (default
# build/results).

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kernel.sh"

kdir=$1 version=$2 step=$3 sparse=${4:-}
results=${RESULTS:-$REPO/build/results}
dir=$REPO/build/$version/$step
log=$dir.log
mkdir -p "$results" "$(dirname "$dir")"
rm -rf "$dir"

n=0 out=()
result() {	# RC NAME
	n=$((n + 1))
	if [ "$1" = 0 ]; then out+=("ok $n $2"); else out+=("not ok $n $2"); fi
}

# A kernel without Module.symvers (a prepared tree) leaves every symbol
# unresolved, which modpost fails on since 7.0: warn instead.
extra=()
[ -f "$kdir/Module.symvers" ] || extra+=(KBUILD_MODPOST_WARN=1)
wanted=(labyrinth.ko samples/labyrinth_demo.ko bench/labyrinth_bench.ko)
# the suite comes where the kernel has KUnit (and, as Kbuild checks, its
# static stubs: every kernel of the matrix with KUnit has them)
grep -q '^CONFIG_KUNIT=[ym]' "$kdir/.config" && wanted+=(labyrinth_test.ko)
# the network driver, where the kernel has networking (Kbuild's rule)
grep -q '^CONFIG_NET=y' "$kdir/.config" && wanted+=(drivers/net/labnet.ko)
rc=0
{
	echo "== build against $kdir: W=1, warnings are errors"
	build_modules "$version/$step" "$kdir" W=1 KCFLAGS=-Werror "${extra[@]}"
} >"$log" 2>&1 || rc=1
# kbuild prints a warning that is not the compiler's without failing
grep -E '(warning|error):' "$log" | grep -v 'Skipping BTF generation' >/dev/null && rc=1
result $rc "modules build with W=1, warnings as errors"
for ko in "${wanted[@]}"; do
	[ -f "$dir/$ko" ] && result 0 "$ko built" || result 1 "$ko built"
done
if [ -n "$sparse" ]; then
	rc=0
	{
		echo "== sparse (C=2, -Wsparse-error)"
		checker=$(sparse_for "$KSRC") &&
		make -s -C "$kdir" M="$dir" C=2 CHECK="$checker" CF=-Wsparse-error \
			"${extra[@]}" modules
	} >>"$log" 2>&1 || rc=1
	grep -q 'C=2 specified, but' "$log" && rc=1
	result $rc "sparse finds nothing"
fi
{
	echo "KTAP version 1"
	echo "1..1"
	echo "    KTAP version 1"
	echo "    # Subtest: build"
	echo "    1..$n"
	printf '    %s\n' "${out[@]}"
	echo "ok 1 build"
} >>"$log"
# the probes Kbuild found, against the features this kernel must offer
python3 "$REPO/scripts/ktap.py" judge --kernel "$version" --step "$step" \
	--no-log --probes "$dir/compat/labyrinth_probes.h" --out "$results/$version-$step.json" "$log"
