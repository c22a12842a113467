#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# labyrinth's KUnit suites under UML with the kernel's debug checkers on
# (.kunitconfig), for the kernel KVER selects (default stable).
#
# kunit.py cannot add out-of-tree sources, so this keeps a hard-linked copy
# of the kernel tree in $KOUT/uml-src with a hook: per-file symlinks to the
# project in <copy>/labyrinth/, one `source` line in Kconfig and one `obj-y`
# line in Kbuild. The build directory ($KOUT/uml-build) is reused, so a
# rerun after a test edit rebuilds only what changed.
#
# kunit.py runs the suites; scripts/ktap.py judges the raw kernel log
# (test.log): the cases, and the checker reports (lockdep, KASAN, atomic
# sleep, WARNING, BUG) that KUnit does not turn into failures. Prints
# "<version> uml: N passed, N failed, N skipped".
#
# With --build-only it only builds the kernel.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kernel.sh"

rc=0
ksrc_select || rc=$?
[ $rc -eq 2 ] && { log "no $KVER kernel to test"; exit 2; }
[ $rc -eq 0 ] || exit $rc
UML_SRC=$KOUT/uml-src
UML_BUILD=$KOUT/uml-build
results=${RESULTS:-$UML_BUILD}

# The hard-linked copy: cheap, and the kernel tree stays untouched.
if [ "$(cat "$KOUT/.uml-src-from" 2>/dev/null)" != "$KSRC" ] ||
   [ ! -f "$UML_SRC/Makefile" ]; then
	log "making the hooked tree copy $UML_SRC"
	rm -rf "$UML_SRC" "$UML_BUILD"
	cp -al "$KSRC" "$UML_SRC"
	echo "$KSRC" >"$KOUT/.uml-src-from"
fi

# Hook: rewrite (not edit in place: the files are hard links) Kconfig/Kbuild.
hook_line() {	# FILE LINE
	grep -qxF "$2" "$UML_SRC/$1" && return 0
	cat "$UML_SRC/$1" >"$UML_SRC/$1.new"
	printf '%s\n' "$2" >>"$UML_SRC/$1.new"
	mv "$UML_SRC/$1.new" "$UML_SRC/$1"
}
hook_line Kconfig 'source "labyrinth/Kconfig"'
hook_line Kbuild 'obj-y += labyrinth/'
rm -rf "$UML_SRC/labyrinth"
# labyrinth's objects from other sources (see sources_hash): rebuilt
if [ "$(cat "$UML_BUILD/.labyrinth-sources" 2>/dev/null)" != "$(sources_hash)" ]; then
	rm -rf "$UML_BUILD/labyrinth"
	mkdir -p "$UML_BUILD"
	sources_hash >"$UML_BUILD/.labyrinth-sources"
fi
link_sources "$UML_SRC/labyrinth" "${MODULE_FILES[@]}"
ln -s "$REPO/scripts/Kconfig" "$UML_SRC/labyrinth/Kconfig"

mkdir -p "$UML_BUILD" "$results"
kunit=(python3 tools/testing/kunit/kunit.py)
opts=(--arch=um --build_dir="$UML_BUILD" --kunitconfig="$REPO/.kunitconfig"
      --jobs="$(nproc)")
cd "$UML_SRC"
if [ "${1:-}" = --build-only ]; then
	exec "${kunit[@]}" build "${opts[@]}"
fi
rm -f "$UML_BUILD/test.log"
log "KUnit under UML, $KVERSION"
"${kunit[@]}" run "${opts[@]}" --timeout=600 "${KUNIT_FILTER:-labyrinth*}" ||
	log "kunit.py run: exit $?"
python3 "$REPO/scripts/ktap.py" judge --kernel "$KVERSION" --step uml \
	--probes "$UML_BUILD/labyrinth/compat/labyrinth_probes.h" --arch um \
	--out "$results/$KVERSION-uml.json" "$UML_BUILD/test.log"
