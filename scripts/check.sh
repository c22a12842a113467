#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Static checks on labyrinth's sources, each of which must find nothing:
#  - sparse (C=2, -Wsparse-error) and W=1 warnings as errors, compiling the
#    module and its KUnit suite against the UML KUnit build;
#  - checkpatch.pl --strict;
#  - kernel-doc -none -Wall;
#  - Documentation/labyrinth.rst rendered by Sphinx with the kernel's
#    kernel-doc extension, warnings as errors (scripts/docs.sh).
# Prints "check: N passed, N failed" over the checkers.

. "$(dirname "$0")/common.sh"

UML_BUILD=${UML_BUILD:-$CACHE/uml-build}
SOURCES=(labyrinth.c labyrinth.h labyrinth_test.c internal/labyrinth_internal.h
	 trace/labyrinth_trace.h samples/labyrinth_demo.c bench/labyrinth_bench.c)
C_FILES=(labyrinth.c labyrinth_test.c samples/labyrinth_demo.c bench/labyrinth_bench.c)

ensure_ksrc
if [ ! -f "$UML_BUILD/include/generated/autoconf.h" ]; then
	log "no UML build at $UML_BUILD yet: building it"
	bash "$REPO/scripts/kunit.sh" --build-only >&2
fi

passed=0 failed=0
run_check() {	# NAME CMD...
	local name=$1 out
	shift
	if out=$("$@" 2>&1) && [ -z "$(grep -vE '^ *(CC|CHECK|  CC)|^make|^total:' <<<"$out" |
		grep -E 'warning|error|WARNING|ERROR|CHECK:' || true)" ]; then
		echo "check $name: ok"
		passed=$((passed + 1))
	else
		echo "check $name: FAILED"
		printf '%s\n' "$out" | tail -n 60
		failed=$((failed + 1))
	fi
}

sparse_build() {
	cd "$REPO"
	rm -f "${C_FILES[@]/%.c/.o}"
	make -s -C "$KSRC" O="$UML_BUILD" ARCH=um M="$REPO" W=1 C=2 \
		CF="-Wsparse-error" KCFLAGS=-Werror "${C_FILES[@]/%.c/.o}"
	local rc=$?
	rm -f "${C_FILES[@]/%.c/.o}" .*.o.cmd samples/.*.o.cmd bench/.*.o.cmd
	return $rc
}

run_check sparse sparse_build
run_check checkpatch perl "$KSRC/scripts/checkpatch.pl" --no-tree --strict \
	--quiet --show-types -f "${SOURCES[@]/#/$REPO/}"
run_check kernel-doc perl "$KSRC/scripts/kernel-doc" -none -Wall \
	"${SOURCES[@]/#/$REPO/}"
run_check docs bash "$REPO/scripts/docs.sh"

echo "check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
