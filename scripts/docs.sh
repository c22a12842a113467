#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Render Documentation/labyrinth.rst with Debian's Sphinx and the kernel's
# kernel-doc extension, warnings as errors.

. "$(dirname "$0")/common.sh"

need_pkgs python3-sphinx
ensure_ksrc
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
sphinx-build -W --keep-going -q -b html "$work/src" "$REPO/build/docs"
echo "rendered: $REPO/build/docs/index.html"
