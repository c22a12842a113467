// SPDX-License-Identifier: GPL-2.0-only
/* hrtimer_setup(): 6.13; hrtimer_init() is gone since 6.15. */
#include <linux/hrtimer.h>

static enum hrtimer_restart labyrinth_probe_fn(struct hrtimer *t)
{
	return HRTIMER_NORESTART;
}

void labyrinth_probe(struct hrtimer *t);
void labyrinth_probe(struct hrtimer *t)
{
	hrtimer_setup(t, labyrinth_probe_fn, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
}
