#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Static checks on labyrinth's sources with the tools of the kernel KVER
# selects (default stable, then lts), each of which must find nothing:
#  - checkpatch.pl --strict;
#  - kernel-doc -none -Wall;
#  - Documentation/labyrinth.rst rendered by Sphinx with the kernel's
#    kernel-doc extension, warnings as errors (scripts/docs.sh).
# (sparse and W=1 run per kernel in scripts/build.sh.) Reports as KTAP:
# "<version> style: N passed, N failed".

. "$(dirname "$0")/lib.sh"

# OFFLINE=1 with no stable tree cached: lts's tools (the step still runs,
# so it is not out of reach); otherwise a stable tree that cannot be had
# fails the step, with its cause for the verdict
rc=0
if [ "${OFFLINE:-0}" = 1 ]; then
	LAB_UNREACHABLE='' ksrc_select "${KVER:-stable}" || rc=$?
else
	ksrc_select "${KVER:-stable}" || rc=$?
fi
[ $rc -eq 2 ] && { ksrc_select lts || exit 1; }
[ $rc -eq 0 ] || [ $rc -eq 2 ] || exit 1
results=${RESULTS:-$REPO/build/results}
log=$REPO/build/$KVERSION/style.log
mkdir -p "$results" "$(dirname "$log")"
mapfile -t files < <(check_files)
: >"$log"

n=0 out=()
check() {	# NAME CMD...: ok if CMD succeeds and prints no finding
	local name=$1 o rc=0
	shift
	o=$("$@" 2>&1) || rc=1
	grep -E 'warning|error|WARNING|ERROR|CHECK:' <<<"$o" >/dev/null && rc=1
	n=$((n + 1))
	{ echo "== $name"; printf '%s\n' "$o"; } >>"$log"
	if [ $rc = 0 ]; then
		out+=("ok $n $name")
	else
		out+=("not ok $n $name")
		printf '%s\n' "$o" | tail -n 40 >&2
	fi
}

cd "$REPO"
check "checkpatch --strict finds nothing" perl "$KSRC/scripts/checkpatch.pl" \
	--no-tree --strict --quiet --show-types -f "${files[@]}"
check "kernel-doc -Wall finds nothing" "$KSRC/scripts/kernel-doc" -none -Wall \
	"${files[@]}"
check "Documentation renders without a warning" bash "$REPO/scripts/docs.sh"
{
	echo "KTAP version 1"
	echo "1..1"
	echo "    KTAP version 1"
	echo "    # Subtest: style"
	echo "    1..$n"
	printf '    %s\n' "${out[@]}"
	echo "ok 1 style"
} >>"$log"
python3 "$REPO/scripts/ktap.py" judge --kernel "$KVERSION" --step style --no-log \
	--out "$results/$KVERSION-style.json" "$log"
