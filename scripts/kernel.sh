# SPDX-License-Identifier: GPL-2.0-only
# Building and booting test kernels: an x86_64 kernel from stacked config
# fragments, the project's modules against any kernel, a busybox
# initramfs, and qemu. Source after lib.sh and ksrc_select.

# build_kernel NAME FRAGMENT... [-- TARGET...]: tinyconfig + the fragments
# (a later one overrides an earlier one's symbols) in $KOUT/NAME,
# reconfigured only when the fragments change. Builds bzImage and modules,
# or the TARGETs given. Prints the dir.
build_kernel() {
	local name=$1 out=$KOUT/$1 hash frag frags=() targets=(bzImage modules)
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do frags+=("$1"); shift; done
	[ $# -gt 0 ] && shift && targets=("$@")
	mkdir -p "$out"
	frag=$out/.labyrinth-fragment
	awk '/^CONFIG_[A-Za-z0-9_]+=/ { k = $0; sub(/=.*/, "", k) }
	     /^# CONFIG_[A-Za-z0-9_]+ is not set/ { k = $2 }
	     k { if (!(k in v)) o[n++] = k; v[k] = $0; k = "" }
	     END { for (i = 0; i < n; i++) print v[o[i]] }' "${frags[@]}" >"$frag"
	hash=$( (cat "$frag"; echo "$KSRC") | sha256sum | cut -c1-16)
	if [ "$(cat "$out/.labyrinth-config" 2>/dev/null)" != "$hash" ]; then
		log "configuring $KVERSION $name (tinyconfig + ${frags[*]##*/})"
		make -s -C "$KSRC" O="$out" ARCH=x86_64 tinyconfig >&2
		"$KSRC/scripts/kconfig/merge_config.sh" -m -O "$out" \
			"$out/.config" "$frag" >/dev/null
		make -s -C "$KSRC" O="$out" ARCH=x86_64 olddefconfig >&2
		check_fragment "$out/.config" "$frag"
		echo "$hash" >"$out/.labyrinth-config"
	fi
	log "building $KVERSION $name (${targets[*]}, incremental)"
	make -s -C "$KSRC" O="$out" ARCH=x86_64 -j"$(nproc)" "${targets[@]}" >&2
	echo "$out"
}

# check_fragment CONFIG FRAGMENT: every option of the fragment took effect.
check_fragment() {
	local line bad=0
	while read -r line; do
		case "$line" in
		CONFIG_*=*) grep -qxF "$line" "$1" || { log "not set: $line"; bad=1; } ;;
		"# CONFIG_"*" is not set")
			! grep -q "^${line:2:-11}=" "$1" || { log "still set: $line"; bad=1; } ;;
		esac
	done <"$2"
	[ $bad -eq 0 ] || die "kernel config lacks options of $2"
}

# link_sources DIR FILE...: per-file symlinks to the repository's FILEs (a
# directory's files one by one), so builds leave the work tree clean and
# never pick up another build's objects; dangling links are removed.
link_sources() {
	local dir=$1 f g
	shift
	# links to files the repository no longer has
	[ -d "$dir" ] && find "$dir" -xtype l -delete
	for f in "$@"; do
		if [ -d "$REPO/$f" ]; then
			mkdir -p "$dir/$f"
			for g in "$REPO/$f"/*; do
				[ -f "$g" ] && ln -sfn "$g" "$dir/$f/${g##*/}"
			done
		else
			mkdir -p "$(dirname "$dir/$f")"
			ln -sfn "$REPO/$f" "$dir/$f"
		fi
	done
}

# build_modules NAME KDIR [MAKE_ARG...]: every module of the project (the
# sample and the benchmark too) against KDIR, in $REPO/build/NAME. Prints
# the build dir.
build_modules() {
	local name=$1 kdir=$2 dir=$REPO/build/$1 stamp
	shift 2
	# objects of an earlier kernel config (kbuild does not always see it
	# change from an external module's directory, e.g. .mod.o) or of other
	# sources (an mtime older than the object's): start over
	stamp=$( (cat "$kdir/.config" 2>/dev/null; sources_hash) | sha256sum | cut -c1-16)
	[ "$(cat "$dir/.labyrinth-kernel" 2>/dev/null)" = "$stamp" ] || rm -rf "$dir"
	mkdir -p "$dir"
	echo "$stamp" >"$dir/.labyrinth-kernel"
	link_sources "$dir" "${MODULE_FILES[@]}" "${EXTRA_FILES[@]}"
	log "building modules against $kdir"
	make -s -C "$kdir" M="$dir" "$@" modules >&2 || return 1
	echo "$dir"
}

# pack_initramfs OUT MODE MODULE...: busybox-static, qemu/init, our insmod,
# the modules.
# MODE (test or run) goes to /mode; MODULE may be NAME.ko=ARGS to pass
# module parameters. $CYCLES load/unload cycles of labyrinth and the sample
# (with $CYCLE_ARGS) and the fail_page_alloc runs at $PRESSURE percent
# follow the modules (qemu/init).
pack_initramfs() {
	local out=$1 mode=$2 root m name
	shift 2
	need_pkgs busybox-static cpio
	root=$(mktemp -d)
	mkdir -p "$root"/{bin,proc,sys,dev,modules,tmp}
	cp /bin/busybox "$root/bin/busybox"
	for m in sh mount rmmod cat echo grep cut basename sleep reboot \
		 head mkdir sort printf wc tr sed awk dmesg; do
		ln -s busybox "$root/bin/$m"
	done
	# our insmod: one finit_module(), no retry with init_module() as
	# busybox's makes after a failed init (qemu/insmod.c)
	gcc -static -Os -s -o "$root/bin/insmod" "$REPO/qemu/insmod.c" || return 1
	install -m 0755 "$REPO/qemu/init" "$root/init"
	echo "$mode" >"$root/mode"
	echo "${CYCLES:-0}" >"$root/cycles"
	echo "${CYCLE_ARGS:-}" >"$root/cycle.args"
	echo "${PRESSURE:-}" >"$root/pressure"
	echo "${PRESSURE_RUN_MS:-3000}" >"$root/pressure.ms"
	: >"$root/modules.list"
	: >"$root/modules.args"
	for m in "$@"; do
		name=${m%%=*}
		cp "$name" "$root/modules/"
		basename "$name" >>"$root/modules.list"
		[ "$m" != "$name" ] &&
			echo "$(basename "$name" .ko) ${m#*=}" >>"$root/modules.args"
	done
	# the network driver's smoke (qemu/init): labnet.ko (not in the list
	# of modules loaded in turn), the pools to run, and ethtool
	echo "${NET_POOLS:-}" >"$root/net.pools"
	echo "${NET_SECONDS:-3}" >"$root/net.seconds"
	echo "${NET_PRESSURE:-0}" >"$root/net.pressure"
	echo "${NET_TEARDOWN:-0}" >"$root/net.teardown"
	echo "${NET_REPS:-1}" >"$root/net.reps"
	echo "${NET_WORKLOADS:-tcp udp pktgen64 pktgen1500}" >"$root/net.workloads"
	echo "${NET_PROFILE:-0}" >"$root/net.profile"
	if [ -n "${NET_MODULE:-}" ]; then
		cp "$NET_MODULE" "$root/modules/labnet.ko"
		need_pkgs ethtool
		# NET_BINARIES: more of the host's programs (make net: iproute2's
		# ip, iperf3), else busybox's ip
		for m in /usr/sbin/ethtool ${NET_BINARIES:-}; do
			add_binary "$root" "$m" || return 1
		done
		for m in ip timeout killall nproc ln rm seq ping tail; do
			[ -e "$root/bin/$m" ] || ln -s busybox "$root/bin/$m"
		done
		[ -f "$REPO/qemu/net" ] && install -m 0755 "$REPO/qemu/net" "$root/net"
		# make net's memory filler (the smoke has no use for it)
		if [ "$mode" = net ]; then
			gcc -static -O2 -s -o "$root/bin/memfill" "$REPO/qemu/memfill.c" || return 1
		fi
	fi
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
	rm -rf "$root"
}

# add_binary ROOT BINARY: BINARY in ROOT/bin, with the shared libraries
# and the loader it needs at their paths
add_binary() {
	local root=$1 lib
	[ -x "$2" ] || { log "no $2"; return 1; }
	install -D -m 0755 "$2" "$root/bin/${2##*/}"
	for lib in $(ldd "$2" | grep -o '/[^ ]*'); do
		[ -e "$root$lib" ] ||
			install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
	done
}

# Without ACPI there is no HPET or PM timer to calibrate the TSC against, so
# the guest would fall back to jiffies (4 ms resolution). Under TCG the
# guest TSC runs at the host's rate: give the kernel that rate. An error in
# it scales every time equally, and only ratios within a run are reported.
tsc_args() {
	local khz=${TSC_KHZ:-}
	[ -n "$khz" ] || khz=$(awk '/^cpu MHz/ {printf "%d", $4 * 1000; exit}' /proc/cpuinfo)
	[ -n "$khz" ] && echo "tsc_early_khz=$khz tsc=reliable"
}

# qemu's options for a guest whose time counts instructions (1 ns each):
# one vCPU runs at a time. Boot it with TSC_KHZ=$ICOUNT_TSC_KHZ, the
# rate of that clock. make bench's icount boot, make profile, make net's
# NET_TIME=icount.
ICOUNT_OPTS="-icount shift=0,align=off"
ICOUNT_TSC_KHZ=1000000

# boot_qemu KERNEL INITRD LOG [TIMEOUT]: boot under TCG on $SMP (2) vCPUs
# with $MEM (1G); QEMU_EXTRA adds options (e.g. -icount), QEMU_APPEND
# kernel arguments; QEMU_FIRMWARE=seabios boots with qemu's default
# firmware (ACPI tables, e.g. for NUMA) instead of qboot. TCG_THREAD=single
# runs every vCPU on one host thread (see boot_stock in distro.sh).
boot_qemu() {
	local bios=(-bios qboot.rom)
	need_pkgs qemu-system-x86
	[ "${QEMU_FIRMWARE:-}" = seabios ] && bios=()
	# +rdrand seeds the guest's RNG at boot: %p then prints hashed pointers
	# instead of (____ptrval____) in debugfs and traces
	# shellcheck disable=SC2086 # QEMU_EXTRA is a list of options
	timeout "${4:-600}" qemu-system-x86_64 -accel "tcg${TCG_THREAD:+,thread=$TCG_THREAD}" -cpu qemu64,+rdrand \
		-smp "${SMP:-2}${SMP_TOPOLOGY:-}" -m "${MEM:-1G}" ${QEMU_EXTRA:-} \
		-nographic -no-reboot "${bios[@]}" -kernel "$1" -initrd "$2" \
		-append "console=ttyS0 panic=-1 oops=panic $(tsc_args) ${QEMU_APPEND:-}" \
		</dev/null >"$3.raw" 2>&1
	local rc=$?
	tr -d '\r' <"$3.raw" >"$3" && rm -f "$3.raw"
	[ $rc -eq 124 ] && log "qemu timed out after ${4:-600} s"
	return $rc
}

# tbprof_plugin: make profile's qemu plugin (bench/profile/tbprof.c), built
# once into the cache against the qemu-plugin.h of Debian 12's qemu source;
# prints its path
tbprof_plugin() {
	local dir=$CACHE/tbprof ver so
	need_pkgs qemu-system-x86 gcc xz-utils
	ver=$(qemu-system-x86_64 --version | awk 'NR == 1 {print $4}')
	case $ver in 7.2.*) ;; *) die "qemu $ver: the plugin is written for 7.2's API (Debian 12)" ;; esac
	so=$dir/tbprof-$(sha256sum "$REPO/bench/profile/tbprof.c" | cut -c1-12).so
	if [ ! -f "$dir/qemu-plugin.h" ]; then
		log "fetching qemu-plugin.h from Debian 12's qemu source"
		suite_update bookworm || die "bookworm's package lists: see $CACHE/apt/bookworm/update.log"
		sed 's/^Types: deb$/Types: deb-src/' "$CACHE/apt/bookworm/debian.sources" \
			>"$CACHE/apt/bookworm/src.sources"
		rm -rf "$dir/src" && mkdir -p "$dir/src"
		(cd "$dir/src" && suite_apt bookworm apt-get \
			-o Dir::Etc::sourcelist="$CACHE/apt/bookworm/src.sources" update -qq &&
		 suite_apt bookworm apt-get -o Dir::Etc::sourcelist="$CACHE/apt/bookworm/src.sources" \
			source --download-only -qq qemu &&
		 tar -xJf qemu_*.orig.tar.xz --wildcards '*/include/qemu/qemu-plugin.h') >&2 ||
			die "could not fetch qemu's source"
		find "$dir/src" -name qemu-plugin.h -exec cp {} "$dir/" \;
		rm -rf "$dir/src"
		[ -f "$dir/qemu-plugin.h" ] || die "no qemu-plugin.h in qemu's source"
	fi
	[ -f "$so" ] || gcc -O2 -Wall -shared -fPIC -I"$dir" -o "$so" \
		"$REPO/bench/profile/tbprof.c" -lpthread >&2 || die "the plugin did not build"
	echo "$so"
}
