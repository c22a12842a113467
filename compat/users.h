/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The differences between kernels (6.1 to today's mainline) met by
 * labyrinth's users in this repository - its KUnit suite, the sample and
 * the benchmark - and not by labyrinth itself; detected as compat/compat.h
 * says.
 *
 * Copyright (C) 2026 The labyrinth authors
 */
#ifndef _LABYRINTH_COMPAT_USERS_H
#define _LABYRINTH_COMPAT_USERS_H

#include <linux/hrtimer.h>
#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/stringify.h>
#include <linux/workqueue.h>

#include "compat.h"

/* hrtimer_setup(): 6.13; hrtimer_init() is gone since 6.15. */
#ifndef LABYRINTH_HAVE_HRTIMER_SETUP
static inline void hrtimer_setup(struct hrtimer *timer,
				 enum hrtimer_restart (*function)(struct hrtimer *),
				 clockid_t clock_id, enum hrtimer_mode mode)
{
	hrtimer_init(timer, clock_id, mode);
	timer->function = function;
}
#endif

/* MODULE_IMPORT_NS() takes a string literal since 6.13. */
#ifdef LABYRINTH_HAVE_IMPORT_NS_IDENT
#define LABYRINTH_IMPORT_NS(ns)	MODULE_IMPORT_NS(ns)
#else
#define LABYRINTH_IMPORT_NS(ns)	MODULE_IMPORT_NS(__stringify(ns))
#endif

/*
 * Work that runs in softirq context on the CPU that queued it: a BH work
 * item on system_bh_wq (6.9), a tasklet before that.
 */
struct labyrinth_bh {
#ifdef LABYRINTH_HAVE_SYSTEM_BH_WQ
	struct work_struct work;
#else
	struct tasklet_struct tasklet;
#endif
	void (*fn)(struct labyrinth_bh *bh);
};

#ifdef LABYRINTH_HAVE_SYSTEM_BH_WQ
static inline void labyrinth_bh_run(struct work_struct *work)
{
	struct labyrinth_bh *bh = container_of(work, struct labyrinth_bh, work);

	bh->fn(bh);
}

static inline void labyrinth_bh_init(struct labyrinth_bh *bh,
				     void (*fn)(struct labyrinth_bh *bh))
{
	bh->fn = fn;
	INIT_WORK(&bh->work, labyrinth_bh_run);
}

/* Queue @bh on this CPU, unless it is queued already. */
static inline void labyrinth_bh_queue(struct labyrinth_bh *bh)
{
	queue_work_on(smp_processor_id(), system_bh_wq, &bh->work);
}

static inline void labyrinth_bh_cancel_sync(struct labyrinth_bh *bh)
{
	cancel_work_sync(&bh->work);
}
#else
static inline void labyrinth_bh_run(struct tasklet_struct *t)
{
	struct labyrinth_bh *bh = container_of(t, struct labyrinth_bh, tasklet);

	bh->fn(bh);
}

static inline void labyrinth_bh_init(struct labyrinth_bh *bh,
				     void (*fn)(struct labyrinth_bh *bh))
{
	bh->fn = fn;
	tasklet_setup(&bh->tasklet, labyrinth_bh_run);
}

static inline void labyrinth_bh_queue(struct labyrinth_bh *bh)
{
	tasklet_schedule(&bh->tasklet);
}

static inline void labyrinth_bh_cancel_sync(struct labyrinth_bh *bh)
{
	tasklet_kill(&bh->tasklet);
}
#endif

#endif /* _LABYRINTH_COMPAT_USERS_H */
