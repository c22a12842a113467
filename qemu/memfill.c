// SPDX-License-Identifier: GPL-2.0-only
/*
 * memfill - the memory filler of `make net` (qemu/net): takes anonymous
 * memory until the free pages of the guest's largest zone (DMA32 in a
 * 1 GiB guest, Normal in a larger one) are down to that zone's watermarks
 * in /proc/zoneinfo, and holds them there while the traffic runs. (The
 * sum over all zones would count ZONE_DMA's pages, which lowmem_reserve
 * keeps from other allocations, and push the large zone below its min.)
 * Every 2 ms it takes a 256 KiB piece more while free memory is above the
 * high watermark (at once while filling), and
 * gives 1 MiB back while it is below the low ones: the traffic's
 * allocations dip below low, where kswapd is woken and finds nothing to
 * reclaim (no swap, no page cache worth the name). The caller turns
 * watermark boosting off, so that the watermarks hold still.
 *
 * A burst (a TCP window growing) can still take free memory below min
 * faster than the filler gives back; the OOM killer then kills the filler,
 * which has oom_score_adj 1000. So the filler runs in a child, and the
 * parent (oom_score_adj -1000, holding nothing) starts a new one when a
 * filler was killed: the pressure holds, and the summary says how often
 * that happened. A filler dies with its parent (PR_SET_PDEATHSIG).
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
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PIECE		(256UL << 10)
#define MAX_PIECES	(256UL << 10)	/* 64 GiB */

static volatile sig_atomic_t stop;
/* shared with the parent: some filler got to the watermarks */
static volatile int *reached;

static void oom_score_adj(const char *adj)
{
	FILE *f = fopen("/proc/self/oom_score_adj", "w");

	if (f) {
		fputs(adj, f);
		fclose(f);
	}
}

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* the largest zone's state, in kB */
struct zone_kb {
	unsigned long free, min, low, high, managed;
};

/*
 * Read the largest zone (by managed pages) from /proc/zoneinfo. Its
 * "pages free" is the zone's NR_FREE_PAGES, which the watermark checks
 * use (per-CPU lists excluded, per-CPU deltas folded lazily).
 */
static int largest_zone(struct zone_kb *z)
{
	unsigned long v, page_kb = sysconf(_SC_PAGESIZE) / 1024;
	struct zone_kb cur = { 0 };
	char line[256], word[32];
	FILE *f = fopen("/proc/zoneinfo", "r");

	if (!f)
		return -1;
	memset(z, 0, sizeof(*z));
	for (;;) {
		char *l = fgets(line, sizeof(line), f);

		if (!l || !strncmp(line, "Node ", 5)) {	/* a zone ends */
			if (cur.managed > z->managed)
				*z = cur;
			memset(&cur, 0, sizeof(cur));
			if (!l)
				break;
			continue;
		}
		if (sscanf(line, " pages free %lu", &v) == 1)
			cur.free = v * page_kb;
		else if (sscanf(line, " %31s %lu", word, &v) == 2) {
			if (!strcmp(word, "min"))
				cur.min = v * page_kb;
			else if (!strcmp(word, "low"))
				cur.low = v * page_kb;
			else if (!strcmp(word, "high"))
				cur.high = v * page_kb;
			else if (!strcmp(word, "managed"))
				cur.managed = v * page_kb;
		}
	}
	fclose(f);
	return z->low ? 0 : -1;
}

/* The filler: see above. Returns when told to stop. */
static int fill(void)
{
	static void *pieces[MAX_PIECES];
	unsigned long n = 0, taken = 0, given = 0, lo = -1UL, hi = 0;
	struct zone_kb z;
	struct timespec tick = { 0, 2 * 1000 * 1000 };
	int filled = 0;

	if (largest_zone(&z)) {
		fprintf(stderr, "memfill: no watermarks in /proc/zoneinfo\n");
		return 2;
	}
	/* dies with the parent: no filler left behind */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		return 2;
	oom_score_adj("1000\n");
	while (!stop) {
		if (largest_zone(&z))
			return 2;
		if (z.free > z.high && n < MAX_PIECES) {
			void *p = mmap(NULL, PIECE, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
				       -1, 0);

			if (p != MAP_FAILED) {
				pieces[n++] = p;
				taken++;
				if (!filled)
					continue;	/* fill at once */
			}
		} else if (z.free < z.low && n) {
			for (int i = 0; i < 4 && n; i++) {
				munmap(pieces[--n], PIECE);
				given++;
			}
		} else if (!filled) {
			filled = 1;
			*reached = 1;
			printf("memfill: filled %lu MiB; the largest zone's free %lu kB, watermarks min %lu kB low %lu kB high %lu kB\n",
			       n * PIECE >> 20, z.free, z.min, z.low, z.high);
			fflush(stdout);
		}
		if (filled) {
			lo = z.free < lo ? z.free : lo;
			hi = z.free > hi ? z.free : hi;
		}
		nanosleep(&tick, NULL);
	}
	if (!filled) {
		printf("memfill: stopped before the watermarks (%lu kB free, %lu MiB taken)\n",
		       z.free, n * PIECE >> 20);
		return 1;
	}
	printf("memfill: held %lu MiB at the end; free %lu..%lu kB while filled (min %lu low %lu); took %lu MiB, gave back %lu MiB\n",
	       n * PIECE >> 20, lo, hi, z.min, z.low, taken * PIECE >> 20,
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
	/* the OOM killer takes a filler, never the parent */
	oom_score_adj("-1000\n");
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
		/* SIGKILL: the OOM killer's (nothing else sends it here) */
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
			oom_kills++;
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
