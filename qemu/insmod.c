// SPDX-License-Identifier: GPL-2.0-only
/*
 * insmod for labyrinth's test initramfs: one finit_module(2) call, its
 * errno reported, no second try. Busybox's insmod retries a failed
 * finit_module() with init_module(), so a module whose init failed once
 * could run its init again, pass, and read as loaded: this one cannot.
 *
 *   insmod FILE.ko [PARAM=VALUE]...
 *
 * Built static by scripts/kernel.sh (pack_initramfs).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char params[4096] = "";
	size_t len = 0;
	int fd, i;

	if (argc < 2) {
		fprintf(stderr, "usage: insmod FILE.ko [PARAM=VALUE]...\n");
		return 2;
	}
	for (i = 2; i < argc; i++) {
		int n = snprintf(params + len, sizeof(params) - len, "%s%s",
				 len ? " " : "", argv[i]);

		if (n < 0 || (size_t)n >= sizeof(params) - len) {
			fprintf(stderr, "insmod: parameters too long\n");
			return 2;
		}
		len += n;
	}
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "insmod: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (syscall(SYS_finit_module, fd, params, 0) != 0) {
		fprintf(stderr, "insmod: cannot insert %s: %s (errno %d)\n",
			argv[1], strerror(errno), errno);
		return 1;
	}
	return 0;
}
