# SPDX-License-Identifier: GPL-2.0-only
# Shared by labyrinth's scripts: the one list of sources, logging, package
# installs and the kernel trees. Source it; it sets REPO and CACHE.
#
# Kernel trees. KVER selects one (default stable):
#   lts      Debian 12's linux-source-6.12 (the tarball under /usr/src)
#   stable   the newest linux-source-N.M of Debian sid
#   rc       the newest linux-source-N.M of Debian experimental
#   N.M      linux-source-N.M from whichever of those has it
# KSRC=/path/to/linux overrides KVER with a tree of your own. Trees are
# extracted once into $CACHE/src/; sid and experimental are asked at every
# run (at most hourly) for their newest version, through a private apt
# state in $CACHE/apt/ that leaves the machine's apt setup alone, from the
# machine's own Debian mirror (DEBIAN_MIRROR overrides it).
#
# A suite that cannot be reached is an error that names it and shows apt's
# own message, unless the user chose OFFLINE=1: then sid and experimental
# are not asked, their newest cached tree is used (its version said), and a
# line with none cached is out of reach (ksrc_select returns 2, and
# $LAB_UNREACHABLE, when set, receives the cause: the one signal of an
# untested line that scripts/ktap.py accepts, and only with --offline).

set -euo pipefail
shopt -s inherit_errexit

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${LABYRINTH_CACHE:-$HOME/.cache/labyrinth}

# The one list of sources. MODULE_FILES is what DKMS ships (the module and
# its KUnit suite); the sample, the benchmark and the network driver come
# with the repository.
MODULE_FILES=(Kbuild labyrinth.c labyrinth.h labyrinth_test.c internal core compat debugfs trace)
EXTRA_FILES=(samples/labyrinth_demo.c bench/labyrinth_bench.c drivers/net/labnet.c)
# C and header files the checkers read
check_files() {
	(cd "$REPO" && ls labyrinth.c labyrinth.h labyrinth_test.c internal/*.[ch] core/*.c debugfs/*.c \
		compat/*.[ch] trace/*.h "${EXTRA_FILES[@]}" | grep -v '/probes\.h$')
}

# sources_hash: one hash of the contents of every source file that builds
# the modules. Builds are redone from scratch when it changes: a checkout
# of another branch or worktree can give a source an mtime older than its
# object, and make would keep the stale object.
sources_hash() {
	(cd "$REPO" && find "${MODULE_FILES[@]}" "${EXTRA_FILES[@]}" scripts/Kconfig \
		-type f -print0 | sort -z | xargs -0 cat) | sha256sum | cut -c1-16
}

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

# dwarves brings pahole: Debian's stock headers (6.12, sid's) build modules
# with BTF (CONFIG_DEBUG_INFO_BTF_MODULES), and modpost stops without it.
BUILD_PKGS=(build-essential flex bison bc libelf-dev libssl-dev cpio xz-utils
	    python3 perl sparse dwarves)

# ---- Debian's sid and experimental, through a private apt state ----

# suite_apt SUITE apt-get|apt-cache ARGS...: run apt against SUITE alone.
suite_apt() {
	local suite=$1 dir=$CACHE/apt/$1 tool=$2
	shift 2
	"$tool" -o Dir::Etc::sourcelist="$dir/debian.sources" \
		-o Dir::Etc::sourceparts=/dev/null -o Dir::State::Lists="$dir/lists" \
		-o Dir::State::status=/dev/null -o Dir::Cache="$dir/cache" \
		-o APT::Sandbox::User=root -o Debug::NoLocking=1 "$@"
}

# debian_mirror: the Debian archive the machine's apt uses (its deb822
# sources or sources.list, the first URI serving bookworm), unless
# DEBIAN_MIRROR names one; deb.debian.org if neither says.
debian_mirror() {
	local uri
	if [ -n "${DEBIAN_MIRROR:-}" ]; then
		echo "$DEBIAN_MIRROR"
		return 0
	fi
	# deb822: stanzas end at a blank line, their fields in any order
	uri=$(awk 'function done() { if (!f && u != "" && b) { print u; f = 1; exit } u = ""; b = 0 }
		   FNR == 1 || /^[ \t]*$/ { done() }
		   /^URIs:/ { u = $2 }
		   /^Suites:/ && / bookworm( |$)/ { b = 1 }
		   END { done() }' \
		/etc/apt/sources.list.d/*.sources 2>/dev/null || true)
	[ -n "$uri" ] || uri=$(awk '$1 == "deb" && $0 ~ / bookworm / {
		for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
	echo "${uri:-http://deb.debian.org/debian}"
}

# unreachable LINE CAUSE: say that a kernel line could not be fetched, for
# the user and for the verdict ($LAB_UNREACHABLE).
unreachable() {
	log "$1: $2"
	[ -z "${LAB_UNREACHABLE:-}" ] || printf '%s\n' "$1: $2" >>"$LAB_UNREACHABLE"
}

# suite_update SUITE: refresh SUITE's package list (at most hourly). On a
# failure apt's messages are in $CACHE/apt/SUITE/update.log.
suite_update() {
	local dir=$CACHE/apt/$1
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
	cat >"$dir/debian.sources" <<-EOF
	Types: deb
	URIs: $(debian_mirror)
	Suites: $1
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
	# lists of another mirror are not fresh
	[ "$(cat "$dir/mirror" 2>/dev/null)" = "$(debian_mirror)" ] &&
		[ -n "$(find "$dir/lists" -maxdepth 1 -name '*_Packages*' -mmin -60 2>/dev/null)" ] &&
		return 0
	suite_apt "$1" apt-get update -qq >"$dir/update.log" 2>&1 &&
		! grep -qE '^(W|E): ' "$dir/update.log" &&
		debian_mirror >"$dir/mirror"
}

# suite_newest SUITE PATTERN: the newest package of SUITE matching PATTERN
# (an apt-cache search regex), as "name version".
suite_newest() {
	local pkg
	pkg=$(suite_apt "$1" apt-cache search --names-only "$2" | awk '{print $1}' |
		sort -V | tail -n1)
	[ -n "$pkg" ] || return 1
	echo "$pkg $(suite_apt "$1" apt-cache show "$pkg" | awk '/^Version:/{print $2; exit}')"
}

# suite_fetch SUITE DESTDIR PKG...: download PKG... from SUITE into DESTDIR.
suite_fetch() {
	local suite=$1 dest=$2
	shift 2
	mkdir -p "$dest"
	(cd "$dest" && suite_apt "$suite" apt-get download -qq "$@") >&2
}

# ---- kernel trees ----

# extract_source DEB_OR_TARBALL NAME: the tree, once, at $CACHE/src/NAME.
extract_source() {
	local from=$1 dir=$CACHE/src/$2 tmp
	if [ -f "$dir/.extracted" ] && [ -f "$dir/Makefile" ]; then
		echo "$dir"
		return 0
	fi
	log "extracting $(basename "$from") into $dir"
	rm -rf "$dir" "$dir.tmp"
	mkdir -p "$dir.tmp"
	tmp=$dir.tmp
	case "$from" in
	*.deb) dpkg-deb --fsys-tarfile "$from" |
		tar -xO --wildcards './usr/src/linux-source-*.tar.xz' |
		tar -xJ -C "$tmp" ;;
	*) tar -xJf "$from" -C "$tmp" ;;
	esac
	mv "$tmp"/linux-source-* "$dir"
	rm -rf "$tmp"
	[ -f "$dir/Makefile" ] || die "no kernel tree in $from"
	touch "$dir/.extracted"
	echo "$dir"
}

# suite_source SUITE [N.M]: the newest linux-source-N.M of SUITE (or that
# series), downloaded and extracted; prints the tree. Fails with apt's
# message when SUITE cannot be reached. With OFFLINE=1, SUITE is not asked:
# its newest cached tree is used, and without one the line is out of reach
# (return 2, see unreachable).
suite_source() {
	local suite=$1 series=${2:-} pat name ver deb cached
	mkdir -p "$CACHE/src"
	if [ "${OFFLINE:-0}" = 1 ]; then
		cached=$(grep -lx "$suite" "$CACHE"/src/.suite-* 2>/dev/null | sed 's|.*/\.suite-||' |
			 { [ -n "$series" ] && grep "^linux-source-$series-" || cat; } | sort -V | tail -n1 || true)
		if [ -n "$cached" ] && [ -f "$CACHE/src/$cached/.extracted" ]; then
			log "OFFLINE=1: Debian $suite not asked; using the cached $cached"
			echo "$CACHE/src/$cached"
			return 0
		fi
		unreachable "Debian $suite${series:+ ($series)}" \
			"OFFLINE=1 and no tree of it in $CACHE/src"
		return 2
	fi
	pat='^linux-source-[0-9]+\.[0-9]+$'
	[ -n "$series" ] && pat="^linux-source-${series//./\\.}\$"
	if ! suite_update "$suite"; then
		unreachable "Debian $suite" "apt-get update failed (OFFLINE=1 tests without it): $(grep -E '^(W|E): ' "$CACHE/apt/$suite/update.log" | head -n 5 || tail -n 5 "$CACHE/apt/$suite/update.log")"
		return 1
	fi
	read -r name ver < <(suite_newest "$suite" "$pat") || {
		log "Debian $suite has no package matching $pat"
		return 1
	}
	deb=$(ls "$CACHE/debs/${name}_${ver//:/%3a}"_*.deb 2>/dev/null | head -n1 || true)
	if [ -z "$deb" ]; then
		log "downloading $name $ver from Debian $suite"
		suite_fetch "$suite" "$CACHE/debs" "$name=$ver" || return 1
		deb=$(ls "$CACHE/debs/${name}_"*.deb | sort -V | tail -n1)
	fi
	echo "$suite" >"$CACHE/src/.suite-$name-$ver"
	extract_source "$deb" "$name-$ver"
}

# lts_source: Debian 12's linux-source-6.12, extracted once.
lts_source() {
	local ver
	need_pkgs linux-source-6.12
	ver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
	extract_source "$(ls /usr/src/linux-source-6.12.tar.xz)" "linux-source-6.12-$ver"
}

# ksrc_select [SEL]: set KSRC (the tree), KVERSION (its `make kernelversion`)
# and KOUT ($CACHE/k/<KVERSION>, where its kernels are built). SEL defaults
# to $KVER, then stable; FALLBACK_LTS=1 (make run) takes lts when stable
# cannot be had. A KSRC given by the user wins. A full version (7.2.13)
# selects its series and must be the version found. Returns 2 if the tree
# is out of reach (OFFLINE=1 and nothing cached), 1 on any other failure.
ksrc_select() {
	local sel=${1:-${KVER:-stable}} src rc=0 want=
	need_pkgs "${BUILD_PKGS[@]}"
	if [ -n "${USER_KSRC:-}" ]; then
		[ -f "$USER_KSRC/Makefile" ] || die "KSRC=$USER_KSRC is not a kernel tree"
		src=$USER_KSRC
	else
		case "$sel" in
		lts|6.12) src=$(lts_source) ;;
		stable)
			src=$(suite_source sid) || rc=$?
			if [ $rc -ne 0 ] && [ -n "${FALLBACK_LTS:-}" ]; then
				log "**** the newest stable kernel could not be had (above): booting lts, Debian 12's 6.12, instead ****"
				src=$(lts_source) rc=0
			fi ;;
		rc) src=$(suite_source experimental) || rc=$? ;;
		[0-9]*.[0-9]*)
			[[ "$sel" =~ ^([0-9]+\.[0-9]+)[.-] ]] && want=$sel sel=${BASH_REMATCH[1]}
			src=$(LAB_UNREACHABLE='' suite_source sid "$sel" 2>/dev/null) ||
				src=$(suite_source experimental "$sel") || rc=$? ;;
		*) die "KVER=$sel: use lts, stable, rc or a series such as 7.2" ;;
		esac
		[ "$rc" -eq 0 ] || return "$rc"
	fi
	KSRC=$src
	KVERSION=$(make -s -C "$KSRC" kernelversion)
	if [ -n "$want" ] && [ "$want" != "$KVERSION" ]; then
		log "KVER=$want: Debian serves $KVERSION now"
		return 1
	fi
	KOUT=$CACHE/k/$KVERSION
	[ -n "${USER_KSRC:-}" ] &&
		KOUT+=-$(realpath "$USER_KSRC" | sha256sum | cut -c1-8)
	mkdir -p "$KOUT"
	export KSRC KVERSION KOUT
}

# A KSRC from the environment is the user's tree: remember it before any
# ksrc_select overwrites KSRC.
USER_KSRC=${USER_KSRC-${KSRC:-}}
export USER_KSRC

# sparse_for KSRC: a sparse the kernel tree accepts (its
# scripts/checker-valid.sh): Debian 12's, or else sid's source package
# built once into the cache (newer kernels need __typeof_unqual__). Prints
# its path.
sparse_for() {
	local valid=$1/scripts/checker-valid.sh dir src
	need_pkgs sparse
	if [ ! -f "$valid" ] || [ "$(sh "$valid" sparse -m64 2>/dev/null)" = 1 ]; then
		command -v sparse
		return 0
	fi
	dir=$CACHE/sparse
	if [ ! -x "$dir/sparse" ] || [ "$(sh "$valid" "$dir/sparse" -m64)" != 1 ]; then
		log "Debian 12's sparse is too old for $1: building sid's"
		suite_update sid || return 1
		rm -rf "$dir" "$dir.src" && mkdir -p "$dir.src"
		sed 's/^Types: deb$/Types: deb deb-src/' "$CACHE/apt/sid/debian.sources" \
			>"$CACHE/apt/sid/src.sources"
		(cd "$dir.src" && suite_apt sid apt-get \
			-o Dir::Etc::sourcelist="$CACHE/apt/sid/src.sources" update -qq &&
		 suite_apt sid apt-get -o Dir::Etc::sourcelist="$CACHE/apt/sid/src.sources" \
			source --download-only -qq sparse && tar -xzf sparse_*.orig.tar.gz) >&2 ||
			return 1
		src=$(ls -d "$dir.src"/sparse-*/ | head -n1)
		make -s -C "$src" -j"$(nproc)" sparse >&2 || return 1
		mkdir -p "$dir" && cp "$src/sparse" "$dir/sparse"
		rm -rf "$dir.src"
	fi
	echo "$dir/sparse"
}
