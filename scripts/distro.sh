#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build labyrinth and the sample against Debian's own kernels and load them
# in Debian's stock kernel under qemu.
#  - the newest bookworm 6.12 kernel the archive offers (+deb12-amd64):
#    its linux-headers (unpacked) build both modules; DKMS builds
#    labyrinth.ko against the same headers installed with apt; its
#    linux-image boots in qemu with the DKMS-built labyrinth.ko and the
#    sample; only the out-of-tree taint may show;
#  - the 6.1 kernel of linux-headers-amd64: labyrinth.ko builds (the
#    sample needs 6.9's system_bh_wq).
# Packages are fetched with apt-get download and unpacked with dpkg-deb
# into the cache; nothing is installed into the system.
# Prints "distro: N passed, N failed" (a case per build and per boot).

. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/kernel.sh"

need_pkgs "${BUILD_PKGS[@]}" qemu-system-x86 busybox-static cpio dwarves
DISTRO=$CACHE/distro
mkdir -p "$DISTRO"
passed=0 failed=0
result() {	# OK? WHAT
	if [ "$1" = 0 ]; then
		echo "distro $2: ok"; passed=$((passed + 1))
	else
		echo "distro $2: FAILED"; failed=$((failed + 1))
	fi
}

[ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null)" ] ||
	apt-get update -qq >&2 || log "apt-get update failed; using old lists"

# newest_abi PATTERN: the newest ABI (e.g. 6.12.115+deb12) with a candidate.
newest_abi() {
	apt-cache search --names-only "$1" | awk '{print $1}' | sort -Vr |
	while read -r pkg; do
		if apt-cache policy "$pkg" | grep 'Candidate: [0-9]' >/dev/null; then
			sed -E 's/^linux-headers-(.*)-amd64$/\1/' <<<"$pkg"
			break
		fi
	done
}

# unpack ABI [image]: the image (if asked), headers, common headers and kbuild of ABI into
# $DISTRO/ABI/root; prints the headers dir.
unpack() {
	local abi=$1 with_image=$2 dir=$DISTRO/$1 pkgs p
	if [ ! -f "$dir/.unpacked" ]; then
		rm -rf "$dir" && mkdir -p "$dir/debs" "$dir/root"
		pkgs=("linux-headers-$abi-amd64" "linux-headers-$abi-common")
		p=$(apt-cache depends "linux-headers-$abi-amd64" | awk '/Depends: linux-kbuild/{print $2}')
		pkgs+=("$p")
		[ "$with_image" = image ] &&
			pkgs+=("linux-image-$abi-amd64-unsigned")
		log "downloading ${pkgs[*]}"
		(cd "$dir/debs" && apt-get download -qq "${pkgs[@]}") >&2
		for p in "$dir"/debs/*.deb; do dpkg-deb -x "$p" "$dir/root"; done
		# Absolute paths in the headers point at /usr: point them here.
		sed -i "s|include /usr/src/|include $dir/root/usr/src/|" \
			"$dir/root/usr/src/linux-headers-$abi-amd64/Makefile"
		find "$dir/root/usr/src" -type l -lname '/usr/*' | while read -r l; do
			ln -sfn "$dir/root$(readlink "$l")" "$l"
		done
		touch "$dir/.unpacked"
	fi
	echo "$dir/root/usr/src/linux-headers-$abi-amd64"
}

# The newest 6.12: build, boot, load, unload.
abi=$(newest_abi '^linux-headers-6\.12\.[0-9]+\+deb12-amd64$')
[ -n "$abi" ] || die "the archive offers no 6.12 bookworm kernel headers"
log "Debian 6.12 kernel: $abi"
hdr=$(unpack "$abi" image)
mdir=$(build_modules "deb-$abi" "$hdr") && rc=0 || rc=$?
[ -f "$mdir/labyrinth.ko" ] && [ -f "$mdir/samples/labyrinth_demo.ko" ] || rc=1
result $rc "build against linux-headers-$abi-amd64"

# DKMS against the same kernel's headers installed the Debian way.
dkms_ko=
dkms_build() {
	local ver kver=$abi-amd64 src
	ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$REPO/dkms.conf")
	need_pkgs dkms "linux-headers-$kver"
	src=$(mktemp -d)/labyrinth-$ver
	mkdir -p "$src"
	# what make dkms-install copies: the module, not the sample or bench
	(cd "$REPO" && cp -r Makefile Kbuild dkms.conf labyrinth.c labyrinth.h \
		labyrinth_test.c internal trace "$src/")
	dkms remove -m labyrinth -v "$ver" --all >/dev/null 2>&1 || true
	rm -rf "/usr/src/labyrinth-$ver"
	dkms add "$src" >&2 &&
	dkms build -m labyrinth -v "$ver" -k "$kver" >&2 || return 1
	# dkms keeps the result compressed the way Debian's kernel wants it
	local built
	built=$(find "/var/lib/dkms/labyrinth/$ver/$kver" -name 'labyrinth.ko*' | head -n1)
	[ -n "$built" ] || return 1
	dkms_ko=$REPO/build/dkms-$kver/labyrinth.ko
	mkdir -p "$(dirname "$dkms_ko")"
	case "$built" in
	*.xz) xz -dc "$built" >"$dkms_ko" ;;
	*.zst) zstd -qdc "$built" >"$dkms_ko" ;;
	*) cp "$built" "$dkms_ko" ;;
	esac
}
dkms_build && drc=0 || drc=$?
result $drc "dkms add/build against installed linux-headers-$abi-amd64"

img=$(ls "$DISTRO/$abi"/root/boot/vmlinuz-* 2>/dev/null | head -n1)
if [ "$rc" = 0 ] && [ "$drc" = 0 ] && [ -n "$img" ]; then
	out=$REPO/build/qemu-deb-$abi
	mkdir -p "$out"
	pack_initramfs "$out/initramfs.cpio.gz" test "$dkms_ko" \
		"$mdir/samples/labyrinth_demo.ko=${DEMO_ARGS:-}"
	log "booting Debian's $abi kernel in qemu"
	boot_qemu "$img" "$out/initramfs.cpio.gz" "$out/serial.log" 300 || true
	grep -E "labyrinth_demo: " "$out/serial.log" || true
	python3 "$REPO/scripts/qemu_log.py" "$out/serial.log" --ksrc "$KSRC" \
		--label "distro-boot" >"$out/verdict.txt" && rc=0 || rc=$?
	cat "$out/verdict.txt"
	grep -E "taint|out-of-tree" "$out/serial.log" | sed 's/^/  (expected) /' || true
	result $rc "boot linux-image-$abi-amd64-unsigned, load and unload"
else
	result 1 "boot Debian $abi (no image or build failed)"
fi

# 6.1 (linux-headers-amd64): labyrinth.ko builds.
abi61=$(apt-cache depends linux-headers-amd64 | awk '/Depends: linux-headers-6\.1/{print $2}' |
	sed -E 's/^linux-headers-(.*)-amd64$/\1/' | head -n1)
if [ -n "$abi61" ]; then
	hdr=$(unpack "$abi61" noimage)
	mdir=$(build_modules "deb-$abi61" "$hdr") && rc=0 || rc=$?
	[ -f "$mdir/labyrinth.ko" ] || rc=1
	result $rc "build against linux-headers-$abi61-amd64 (6.1)"
else
	result 1 "find linux-headers-amd64's 6.1 kernel"
fi

echo "distro: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
