# SPDX-License-Identifier: GPL-2.0-only
#
# labyrinth - out-of-tree module. The usual external-module form:
#   make                   build labyrinth.ko against KDIR
#   make test              UML KUnit suite + checks (what CI runs)
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

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || \
		rm -rf *.o *.ko *.mod *.mod.c .*.cmd modules.order Module.symvers .tmp_versions

# KUnit suite under UML with lockdep, KASAN, kmemleak, atomic-sleep checks.
kunit:
	bash scripts/kunit.sh

# sparse, checkpatch --strict and kernel-doc on our sources: zero findings.
check:
	bash scripts/check.sh

# Everything CI runs; ends with "N passed, N failed, N skipped".
test:
	bash scripts/test.sh

.PHONY: all modules modules_install clean kunit check test
