# SPDX-License-Identifier: GPL-2.0-only
#
# labyrinth - out-of-tree module. The usual external-module form:
#   make                   build the modules against KDIR (the running kernel)
#   make run               boot the newest stable kernel with labyrinth + sample
#   make test              every kernel line: UML KUnit, SMP qemu kernel, builds
# KVER=lts|stable|rc|N.M picks the kernel of run, qemu-test, kunit, stress and
# bench; KSRC=/path/to/linux uses your own tree. See README.md.

KDIR ?= /lib/modules/$(shell uname -r)/build

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

modules_install:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || \
		rm -rf *.o *.ko *.mod *.mod.c .*.cmd modules.order Module.symvers .tmp_versions

# DKMS: copy the module's sources to /usr/src/labyrinth-<version>, then
# dkms add/build/install (or remove).
dkms-install dkms-remove:
	bash scripts/dkms.sh $(subst dkms-,,$@)

# Boot the SMP test kernel (newest stable by default) with labyrinth and
# the sample driver, and show what happened. DEMO_ARGS tunes the sample.
run:
	bash scripts/qemu.sh run

# Everything CI runs, on every kernel line; ends with "N passed, N failed,
# N skipped". About 20 minutes cold, 6 warm (2 cores).
test:
	bash scripts/test.sh

# Single steps, for the kernel KVER selects (default stable):
kunit:				# KUnit under UML with the debug checkers
	bash scripts/kunit.sh
qemu-test:			# the SMP debug kernel (FLAVOUR=rt|kcsan for those)
	bash scripts/qemu.sh test
check:				# checkpatch, kernel-doc, the rendered docs
	bash scripts/check.sh
distro-test:			# Debian's 6.1, 6.12 and sid kernels
	for l in 6.1 6.12 sid; do bash scripts/distro.sh $$l || exit; done

# The README's two commands in a clean Debian 12 root (debootstrap), as a
# new user runs them, with an empty cache (root; as long as a cold run).
fresh-test:
	bash scripts/fresh.sh

# The reliability campaigns in the debug, KCSAN and RT kernels (slow).
stress:
	bash scripts/stress.sh

# The benchmark against objpool, mempool, page_pool, alloc_pages (slow).
bench:
	bash scripts/bench.sh

# Instructions per pair of one benchmark point, function by function
# (qemu -icount and a TCG plugin): bench/results/profile.txt
profile:
	bash scripts/profile.sh

# The network driver (drivers/net/labnet.c) under iperf3 and pktgen with
# each RX pool, with fail_page_alloc off and on: bench/results/net.*
net:
	bash scripts/net.sh

# The benchmark as a directory that runs on any x86-64 Linux host (for the
# many-CPU points on a host with a core per vCPU): build/bench-bundle/.
bench-bundle:
	bash scripts/bundle.sh

.PHONY: all modules modules_install clean dkms-install dkms-remove run test \
	kunit qemu-test check distro-test fresh-test stress bench bench-bundle net profile
