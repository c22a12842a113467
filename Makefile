# SPDX-License-Identifier: GPL-2.0-only
#
# labyrinth - out-of-tree module. The usual external-module form:
#   make                   build labyrinth.ko against KDIR
#   make run               boot the SMP test kernel with labyrinth + sample
#   make test              UML KUnit, checks, qemu SMP kernel, Debian kernels
# See README.md for every target.

KDIR ?= /lib/modules/$(shell uname -r)/build
export LABYRINTH_CACHE ?= $(HOME)/.cache/labyrinth
KSRC ?= $(LABYRINTH_CACHE)/linux-source-6.12
export KSRC

SRCS := labyrinth.c labyrinth.h labyrinth_test.c internal/labyrinth_internal.h

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

modules_install:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install

# DKMS: copy the sources to /usr/src/labyrinth-<version>, add, build, install.
DKMS_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
DKMS_SRC := /usr/src/labyrinth-$(DKMS_VERSION)
DKMS_FILES := Makefile Kbuild dkms.conf labyrinth.c labyrinth.h labyrinth_test.c \
	internal trace

dkms-install:
	rm -rf $(DKMS_SRC) && mkdir -p $(DKMS_SRC)
	cp -r $(DKMS_FILES) $(DKMS_SRC)/
	dkms add -m labyrinth -v $(DKMS_VERSION)
	dkms build -m labyrinth -v $(DKMS_VERSION)
	dkms install -m labyrinth -v $(DKMS_VERSION)

dkms-remove:
	dkms remove -m labyrinth -v $(DKMS_VERSION) --all
	rm -rf $(DKMS_SRC)

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || \
		rm -rf *.o *.ko *.mod *.mod.c .*.cmd modules.order Module.symvers .tmp_versions

# The main job: boot the SMP test kernel with labyrinth and the sample
# driver, and say what happened. DEMO_ARGS="rooms=4 run_ms=2000" tunes it.
run:
	bash scripts/qemu.sh run

# labyrinth.ko, its KUnit suite and the sample in the x86_64 SMP debug
# kernel under qemu; EXTRA_MODULES="a.ko b.ko" are loaded after them;
# FLAVOUR=rt runs the same in a PREEMPT_RT kernel (qemu/rt.config).
qemu-test:
	bash scripts/qemu.sh test

# Build against Debian's 6.12 and 6.1 headers; load in Debian's 6.12 kernel.
distro-test:
	bash scripts/distro.sh

# Benchmark against objpool, mempool, page_pool, alloc_pages in a kernel
# without debug checkers; results in bench/results/latest.{csv,txt,png}.
bench:
	bash scripts/bench.sh

# KUnit suite under UML with lockdep, KASAN, kmemleak, atomic-sleep checks.
kunit:
	bash scripts/kunit.sh

# sparse, checkpatch --strict and kernel-doc on our sources: zero findings.
check:
	bash scripts/check.sh

# The reliability campaigns (issue 6) in the KCSAN, debug and PREEMPT_RT
# kernels: stress, memory pressure, bad input, 100 load/unload cycles;
# prints their table. Slow: ~15 min cold, ~5 min warm.
stress:
	bash scripts/stress.sh

# Everything CI runs: kunit, check, qemu-test, distro-test; ends with
# "N passed, N failed, N skipped".
test:
	bash scripts/test.sh

.PHONY: all modules modules_install dkms-install dkms-remove clean run qemu-test distro-test bench kunit check stress test
