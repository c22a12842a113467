#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make dkms-install / dkms-remove: the module's sources (MODULE_FILES of
# scripts/lib.sh, no sample or bench) in /usr/src/labyrinth-<version>,
# added to DKMS, built and installed for the running kernel; or removed.

. "$(dirname "$0")/lib.sh"

ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$REPO/dkms.conf")
src=/usr/src/labyrinth-$ver
case "${1:-}" in
install)
	rm -rf "$src" && mkdir -p "$src"
	(cd "$REPO" && cp -r Makefile dkms.conf "${MODULE_FILES[@]}" "$src/")
	dkms add -m labyrinth -v "$ver"
	dkms build -m labyrinth -v "$ver"
	dkms install -m labyrinth -v "$ver"
	;;
remove)
	dkms remove -m labyrinth -v "$ver" --all
	rm -rf "$src"
	;;
*)
	die "dkms.sh install|remove"
	;;
esac
