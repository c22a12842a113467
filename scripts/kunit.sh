#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run labyrinth's KUnit suite under UML with the debug checkers on.
#
# kunit.py cannot add out-of-tree sources, so this keeps a hard-linked copy
# of the kernel tree in the cache with a hook: per-file symlinks to the
# project in <copy>/labyrinth/, one `source` line in Kconfig and one `obj-y`
# line in Kbuild.  The build directory is reused, so a rerun after a test
# edit rebuilds only what changed.
#
# The run fails when a case fails, or when the raw log holds a lockdep
# report, a KASAN report, a "sleeping function called from invalid
# context", a WARNING or a BUG, which KUnit itself does not count.
#
# With --build-only it only builds the kernel (scripts/check.sh needs it).
#
# Output: KUnit's parsed results, then one line "kunit-uml: N passed, N
# failed, N skipped" that scripts/test.sh sums up.

. "$(dirname "$0")/common.sh"

UML_SRC=$CACHE/uml-src
UML_BUILD=${UML_BUILD:-$CACHE/uml-build}
HOOK_FILES=(Kbuild labyrinth.c labyrinth.h labyrinth_test.c internal trace)

ensure_ksrc

# The hard-linked copy: cheap, and the user's KSRC stays untouched.
if [ "$(cat "$CACHE/.uml-src-from" 2>/dev/null)" != "$KSRC" ] ||
   [ ! -f "$UML_SRC/Makefile" ]; then
	log "making hooked tree copy $UML_SRC"
	rm -rf "$UML_SRC" "$UML_BUILD"
	cp -al "$KSRC" "$UML_SRC"
	echo "$KSRC" >"$CACHE/.uml-src-from"
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
mkdir -p "$UML_SRC/labyrinth"
for f in "${HOOK_FILES[@]}"; do
	[ -e "$REPO/$f" ] && ln -s "$REPO/$f" "$UML_SRC/labyrinth/$f"
done
ln -s "$REPO/scripts/Kconfig" "$UML_SRC/labyrinth/Kconfig"

mkdir -p "$UML_BUILD"
if [ "${1:-}" = --build-only ]; then
	cd "$UML_SRC"
	exec python3 tools/testing/kunit/kunit.py build --arch=um \
		--build_dir="$UML_BUILD" --kunitconfig="$REPO/.kunitconfig" \
		--jobs="$(nproc)"
fi
json=$UML_BUILD/results.json
rm -f "$json" "$UML_BUILD/test.log"
set +e
(cd "$UML_SRC" && python3 tools/testing/kunit/kunit.py run --arch=um \
	--build_dir="$UML_BUILD" --kunitconfig="$REPO/.kunitconfig" \
	--jobs="$(nproc)" --timeout=600 --json="$json" "${KUNIT_FILTER:-labyrinth*}")
rc=$?
set -e

# Splats that KUnit does not turn into failures.
splats=0
if [ -f "$UML_BUILD/test.log" ]; then
	if ! python3 "$REPO/scripts/qemu_log.py" --splats-only "$UML_BUILD/test.log" \
		>"$UML_BUILD/splats.txt"; then
		splats=$(wc -l <"$UML_BUILD/splats.txt")
		log "kernel log has $splats splat line(s):"
		cat "$UML_BUILD/splats.txt" >&2
	fi
else
	log "no kernel log at $UML_BUILD/test.log"
	splats=1
fi

read -r passed failed skipped < <(python3 "$REPO/scripts/ktap_count.py" --json "$json")
echo "kunit-uml: $passed passed, $failed failed, $skipped skipped"
[ "$rc" -eq 0 ] && [ "$splats" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
