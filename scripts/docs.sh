#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Render Documentation/labyrinth.rst with Debian's Sphinx and the kernel-doc
# extension of the kernel KVER selects (default stable), warnings as errors.

. "$(dirname "$0")/lib.sh"

need_pkgs python3-sphinx
[ -n "${KSRC:-}" ] && [ -n "${KVERSION:-}" ] || ksrc_select "${KVER:-stable}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src"
cp "$REPO/Documentation/labyrinth.rst" "$work/src/index.rst"
cat >"$work/src/conf.py" <<PY
import sys
sys.path.insert(0, "$KSRC/Documentation/sphinx")
extensions = ["kerneldoc"]
kerneldoc_bin = "$KSRC/scripts/kernel-doc"
kerneldoc_srctree = "$REPO"
project = "labyrinth"
master_doc = "index"
PY
srctree=$KSRC sphinx-build -W --keep-going -q -b html "$work/src" "$REPO/build/docs"
echo "rendered: $REPO/build/docs/index.html"
