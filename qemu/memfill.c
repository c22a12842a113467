// SPDX-License-Identifier: GPL-2.0-only
/*
 * memfill - the memory filler of `make net` (qemu/net): takes anonymous
 * memory until the guest's free memory is down to its zones' watermarks
 * (the sums of "low" and "high" in /proc/zoneinfo), and holds it there
 * while the traffic runs. Every 2 ms it takes a 256 KiB piece more while
 * free memory is above the high watermarks (at once while filling), and
 * gives 1 MiB back while it is below the low ones: the traffic's
 * allocations dip below low, where kswapd is woken and finds nothing to
 * reclaim (no swap, no page cache worth the name). The caller turns
 * watermark boosting off, so that the watermarks hold still.
 *
 * A burst (a TCP window growing) can still take free memory below min
 * faster than the filler gives back; the OOM killer then kills the filler,
 * which has oom_score_adj 1000. So the filler runs in a child, and the
 * parent starts a new one when the OOM killer took the last: the pressure
 * holds, and the summary says how often that happened.
 *
 * Prints "memfill: filled ..." once free memory first reaches the high
 * watermarks (the caller waits for that line), and on SIGTERM a summary:
 * the lowest and highest free memory seen while filled, the memory taken
 * and given back, and the fillers the OOM killer took. Exit status 1 if
 * it never got there.
 *
 * Copyright (C) 2026 The labyrinth authors
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PIECE		(256UL << 10)
#define MAX_PIECES	(256UL << 10)	/* 64 GiB */

static volatile sig_atomic_t stop;
/* shared with the parent: some filler got to the watermarks */
static volatile int *reached;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* MemFree in kB */
static unsigned long mem_free(void)
{
	unsigned long kb = 0;
	char line[256];
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemFree: %lu kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* the sums of every zone's min, low and high watermarks, in kB */
static int watermarks(unsigned long *min_kb, unsigned long *low_kb,
		      unsigned long *high_kb)
{
	unsigned long v, page_kb = sysconf(_SC_PAGESIZE) / 1024;
	char line[256], word[32];
	FILE *f = fopen("/proc/zoneinfo", "r");

	if (!f)
		return -1;
	*min_kb = *low_kb = *high_kb = 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %31s %lu", word, &v) != 2)
			continue;
		if (!strcmp(word, "min"))
			*min_kb += v * page_kb;
		else if (!strcmp(word, "low"))
			*low_kb += v * page_kb;
		else if (!strcmp(word, "high"))
			*high_kb += v * page_kb;
	}
	fclose(f);
	return *low_kb ? 0 : -1;
}

/* The filler: see above. Returns when told to stop. */
static int fill(void)
{
	static void *pieces[MAX_PIECES];
	unsigned long n = 0, taken = 0, given = 0, min_kb, low_kb, high_kb;
	unsigned long lo = -1UL, hi = 0, free_kb;
	struct timespec tick = { 0, 2 * 1000 * 1000 };
	int filled = 0;
	FILE *adj;

	if (watermarks(&min_kb, &low_kb, &high_kb)) {
		fprintf(stderr, "memfill: no watermarks in /proc/zoneinfo\n");
		return 1;
	}
	adj = fopen("/proc/self/oom_score_adj", "w");
	if (adj) {
		fputs("1000\n", adj);
		fclose(adj);
	}
	while (!stop) {
		free_kb = mem_free();
		if (free_kb > high_kb && n < MAX_PIECES) {
			void *p = mmap(NULL, PIECE, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
				       -1, 0);

			if (p != MAP_FAILED) {
				pieces[n++] = p;
				taken++;
				if (!filled)
					continue;	/* fill at once */
			}
		} else if (free_kb < low_kb && n) {
			for (int i = 0; i < 4 && n; i++) {
				munmap(pieces[--n], PIECE);
				given++;
			}
		} else if (!filled) {
			filled = 1;
			*reached = 1;
			printf("memfill: filled %lu MiB; free %lu kB, watermarks min %lu kB low %lu kB high %lu kB\n",
			       n * PIECE >> 20, free_kb, min_kb, low_kb, high_kb);
			fflush(stdout);
		}
		if (filled) {
			lo = free_kb < lo ? free_kb : lo;
			hi = free_kb > hi ? free_kb : hi;
		}
		nanosleep(&tick, NULL);
	}
	if (!filled) {
		printf("memfill: stopped before the watermarks (%lu kB free, %lu MiB taken)\n",
		       mem_free(), n * PIECE >> 20);
		return 1;
	}
	printf("memfill: held %lu MiB at the end; free %lu..%lu kB while filled (min %lu low %lu); took %lu MiB, gave back %lu MiB\n",
	       n * PIECE >> 20, lo, hi, min_kb, low_kb, taken * PIECE >> 20,
	       given * PIECE >> 20);
	fflush(stdout);
	return 0;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_term };
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	unsigned long oom_kills = 0;
	pid_t child, r;
	int status;

	reached = mmap(NULL, sizeof(*reached), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (reached == MAP_FAILED)
		return 1;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	for (;;) {
		child = fork();
		if (child < 0)
			return 1;
		if (!child)
			return fill();
		/* told to stop: tell the filler, and wait for it */
		while ((r = waitpid(child, &status, WNOHANG)) <= 0) {
			if (r < 0 && errno != EINTR)
				return 1;
			if (stop)
				kill(child, SIGTERM);
			nanosleep(&tick, NULL);
		}
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
			oom_kills++;	/* the OOM killer's SIGKILL: fill again */
		else
			break;
		if (stop)
			break;
	}
	printf("memfill: fillers the OOM killer took: %lu\n", oom_kills);
	fflush(stdout);
	/* the last filler may have been stopped while refilling */
	return *reached ? 0 : 1;
}
