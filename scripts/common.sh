# SPDX-License-Identifier: GPL-2.0-only
# Shared helpers for labyrinth's scripts: package install, kernel source cache.
# Source it; it sets CACHE, KSRC and REPO.

set -euo pipefail
shopt -s inherit_errexit

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${LABYRINTH_CACHE:-$HOME/.cache/labyrinth}
KSRC_DEFAULT=$CACHE/linux-source-6.12
KSRC=${KSRC:-$KSRC_DEFAULT}

log() { printf '[labyrinth] %s\n' "$*" >&2; }
die() { printf '[labyrinth] error: %s\n' "$*" >&2; exit 1; }

# need_pkgs PKG...: install the Debian packages that are missing.
need_pkgs() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep 'ok installed' >/dev/null ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing packages (run as root or install): ${missing[*]}"
	log "installing ${missing[*]}"
	mkdir -p "$CACHE"
	if ! { apt-get update -qq &&
	       DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}"; } >"$CACHE/apt.log" 2>&1; then
		tail -n 30 "$CACHE/apt.log" >&2
		die "apt-get could not install ${missing[*]}"
	fi
}

BUILD_PKGS=(build-essential flex bison bc libelf-dev libssl-dev cpio xz-utils
	    python3 perl sparse)

# ensure_ksrc: a kernel tree at $KSRC; by default Debian's linux-source-6.12
# extracted once into the cache.
ensure_ksrc() {
	need_pkgs "${BUILD_PKGS[@]}"
	if [ "$KSRC" != "$KSRC_DEFAULT" ]; then
		[ -f "$KSRC/Makefile" ] || die "KSRC=$KSRC is not a kernel tree"
		return 0
	fi
	[ -f "$CACHE/.ksrc-extracted" ] && [ -f "$KSRC/Makefile" ] && return 0
	need_pkgs linux-source-6.12
	local tarball
	tarball=$(ls /usr/src/linux-source-6.12*.tar.xz | head -n1)
	log "extracting $tarball into $CACHE"
	mkdir -p "$CACHE"
	rm -rf "$KSRC"
	tar -C "$CACHE" -xf "$tarball"
	[ -d "$KSRC" ] || die "expected $KSRC after extracting $tarball"
	touch "$CACHE/.ksrc-extracted"
}
