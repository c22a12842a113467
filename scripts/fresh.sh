#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make fresh-test`: the README's two commands as a new user types them,
# on a new machine. A clean Debian 12 root made by debootstrap from the
# machine's own Debian mirror, with the machine's apt sources and settings
# (the archive served here may need its date checks off: without them sid
# and experimental cannot be updated), `make` and `git` installed as the
# README says, then a clean clone of this repository's HEAD in it, and in
# the chroot, with an empty cache:
#
#   run      make run
#   test     make test
#   noapt    (after test) the machine's apt settings taken away and the
#            private apt state deleted, so that sid cannot be updated:
#            make test must fail and show apt's error
#   offline  (after noapt) make test OFFLINE=1 must pass and list the
#            lines it did not test
#
# FRESH_STEPS picks them ("run test" by default: about 25 minutes, as a
# cold run); FRESH_DIR is where the root goes (/var/tmp/labyrinth-fresh).
# Needs root (debootstrap, chroot, mounts). Prints each step's time, exit
# status and last lines; logs in $FRESH_DIR/*.log. Exit status 0 only if
# every step did what it must.

. "$(dirname "$0")/lib.sh"
set +e

[ "$(id -u)" -eq 0 ] || die "fresh-test needs root (debootstrap, chroot)"
need_pkgs debootstrap git
dir=${FRESH_DIR:-/var/tmp/labyrinth-fresh}
root=$dir/root
steps=${FRESH_STEPS:-run test}
mirror=$(debian_mirror)

unmount() {
	local m
	for m in dev sys proc; do
		mountpoint -q "$root/$m" && umount -R "$root/$m"
	done
	return 0
}
trap unmount EXIT

unmount
rm -rf "$root"
mkdir -p "$dir"
log "debootstrap bookworm from $mirror into $root"
t=$SECONDS
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$dir/debootstrap.log" 2>&1 ||
	{ tail -n 20 "$dir/debootstrap.log"; die "debootstrap failed"; }
log "debootstrap: $((SECONDS - t)) s"
# the machine's apt: its sources and its settings, as a new machine has
rm -f "$root"/etc/apt/sources.list
cp /etc/apt/sources.list.d/*.sources "$root/etc/apt/sources.list.d/" 2>/dev/null
[ -f /etc/apt/sources.list ] && cp /etc/apt/sources.list "$root/etc/apt/"
cp -r /etc/apt/apt.conf.d/. "$root/etc/apt/apt.conf.d/"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null
for m in proc sys dev; do
	mount --rbind "/$m" "$root/$m" && mount --make-rslave "$root/$m" ||
		die "cannot mount /$m in $root"
done

# in_root LOG CMD: run CMD (a bash command line) in the root as root,
# in the clone; prints its exit status
in_root() {
	chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		bash -c "cd /root/labyrinth && $2" >"$dir/$1.log" 2>&1
}

log "installing make and git in the root, as the README asks"
chroot "$root" bash -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq make git' \
	>"$dir/setup.log" 2>&1 || { tail -n 20 "$dir/setup.log"; die "apt-get in the root failed"; }
git clone -q "$REPO" "$root/root/labyrinth" || die "git clone failed"
log "cloned $(git -C "$REPO" rev-parse --short HEAD) into $root/root/labyrinth"

bad=0 summary=()
# try NAME WANT CMD: run a step; WANT is 0 (must pass) or 1 (must fail)
try() {
	local name=$1 want=$2 cmd=$3 t=$SECONDS rc ok
	log "== fresh: $cmd =="
	in_root "$name" "$cmd"
	rc=$?
	ok=yes
	if [ "$want" = 0 ]; then [ $rc -eq 0 ] || ok=no; else [ $rc -ne 0 ] || ok=no; fi
	[ $ok = yes ] || bad=1
	summary+=("$cmd: exit $rc in $((SECONDS - t)) s ($([ "$want" = 0 ] && echo must pass || echo must fail): $ok)")
	tail -n 25 "$dir/$name.log"
}

for s in $steps; do
	case $s in
	run) try run 0 "make run" ;;
	test) try test 0 "make test" ;;
	noapt)
		# a new user's apt that cannot update sid: the date checks on
		rm -f "$root"/etc/apt/apt.conf.d/99artifact-registry
		grep -rl 'Check-Valid-Until' "$root/etc/apt/apt.conf.d" | xargs -r rm -f
		rm -rf "$root/root/.cache/labyrinth/apt"
		try noapt 1 "make test"
		grep -m 3 -E 'could not be fetched|expired|Release' "$dir/noapt.log" ;;
	offline) try offline 0 "make test OFFLINE=1"
		grep -E 'NOT TESTED' "$dir/offline.log" ;;
	*) die "FRESH_STEPS: run, test, noapt, offline" ;;
	esac
done
echo
echo "== the README's commands in a clean Debian 12 root =="
printf '%s\n' "${summary[@]}"
exit $bad
