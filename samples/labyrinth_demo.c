// SPDX-License-Identifier: GPL-2.0-only
/*
 * labyrinth_demo - a driver that takes its buffers from a labyrinth
 *
 * The example a driver author copies: it uses labyrinth only through
 * labyrinth.h and the exported symbols. At load it creates a labyrinth and,
 * for run_ms, claims rooms on every online CPU from three contexts at once:
 * a kthread bound to the CPU (task), a BH work item (softirq) and a
 * hard-irq hrtimer (hardirq). Every claimant writes its canary over the
 * whole room, checks it and releases the room - or, every detach_every-th
 * time, detaches it and keeps its pages (freed later by the kthreads: on
 * PREEMPT_RT pages may not be freed in hard irq). Then it waits for the
 * detached rooms to be refilled and claims every room once more. One
 * summary line follows; the load fails with -EIO if a canary was
 * overwritten, an owner was wrong, a room was lost or one of the three
 * contexts made no claim at all (then it did not test that context).
 * Unloading destroys the labyrinth.
 *
 * Copyright (C) 2026 The labyrinth authors
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/err.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/llist.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "compat/users.h"	/* this sample's own bridges between kernels */
#include "labyrinth.h"

static unsigned int rooms;
module_param(rooms, uint, 0444);
MODULE_PARM_DESC(rooms, "rooms in the demo's labyrinth (default 0: twice the claimants, 6 per online CPU)");

static unsigned int order;
module_param(order, uint, 0444);
MODULE_PARM_DESC(order, "page order of each room (default 0)");

static unsigned int doors;
module_param(doors, uint, 0444);
MODULE_PARM_DESC(doors, "doors per room, 0 for labyrinth's default");

static unsigned int run_ms = 500;
module_param(run_ms, uint, 0444);
MODULE_PARM_DESC(run_ms, "how long to claim and release at load (default 500)");

static unsigned int detach_every;
module_param(detach_every, uint, 0444);
MODULE_PARM_DESC(detach_every, "detach every Nth room claimed instead of releasing it (default 0: never)");

static unsigned int hold = 2;
module_param(hold, uint, 0444);
MODULE_PARM_DESC(hold, "rooms the driver keeps while loaded, at most 8 (default 2)");

enum demo_ctx { DEMO_TASK, DEMO_SOFTIRQ, DEMO_HARDIRQ, DEMO_NR_CTX };

static const char *const demo_ctx_names[DEMO_NR_CTX] = {
	[DEMO_TASK] = "task", [DEMO_SOFTIRQ] = "softirq",
	[DEMO_HARDIRQ] = "hardirq",
};

/* One claimant; its address is the owner token of the rooms it claims. */
struct demo_claimant {
	unsigned long ops;
	unsigned long detaches;
	unsigned long violations;	/* canary overwritten */
	unsigned long mismatches;	/* wrong owner, or our release refused */
};

struct demo_cpu {
	struct demo_claimant who[DEMO_NR_CTX];
	struct hrtimer timer;
	struct labyrinth_bh bh;
	struct task_struct *thread;
};

static struct labyrinth *demo_lab;
static void *demo_held[8];	/* owned by THIS_MODULE until unload */
static DEFINE_PER_CPU(struct demo_cpu, demo_cpus);
static LLIST_HEAD(demo_detached);	/* detached pages, to be freed */
static unsigned long demo_deadline;	/* jiffies */
static bool demo_stop;

#define DEMO_PERIOD_NS	(100 * NSEC_PER_USEC)

/*
 * Claim a room, fill it with our canary, check it, give it back. @gfp is
 * what the context allows the claim to refill a void room with: the kthread
 * may sleep (GFP_KERNEL), the softirq may allocate (GFP_ATOMIC), the hard
 * irq passes 0 (only alloc_pages_nolock(), where the kernel has it).
 */
static void demo_use_room(struct demo_claimant *me, gfp_t gfp)
{
	size_t i, words = (PAGE_SIZE << order) / sizeof(unsigned long);
	unsigned long canary = (unsigned long)me ^ me->ops;
	unsigned long *buf;
	struct page *page;

	buf = labyrinth_claim_gfp(demo_lab, me, gfp);
	if (!buf)
		return;		/* counted by labyrinth as full or contended */
	me->ops++;
	for (i = 0; i < words; i++)
		WRITE_ONCE(buf[i], canary + i);
	for (i = 0; i < words; i++) {
		if (READ_ONCE(buf[i]) != canary + i) {
			me->violations++;	/* someone else wrote our room */
			break;
		}
	}
	if (labyrinth_owner(demo_lab, buf) != me)
		me->mismatches++;
	if (!detach_every || me->ops % detach_every) {
		if (labyrinth_release(demo_lab, buf, me))
			me->mismatches++;
		return;
	}
	/* Keep the pages for good; the labyrinth refills the room. */
	page = labyrinth_detach(demo_lab, buf, me);
	if (IS_ERR(page)) {
		me->mismatches++;
		return;
	}
	me->detaches++;
	llist_add((struct llist_node *)buf, &demo_detached);
}

/* Free the pages detached so far; process context. */
static void demo_free_detached(void)
{
	struct llist_node *node, *next;

	llist_for_each_safe(node, next, llist_del_all(&demo_detached))
		__free_pages(virt_to_page(node), order);
}

static void demo_bh_fn(struct labyrinth_bh *bh)
{
	struct demo_cpu *dc = container_of(bh, struct demo_cpu, bh);

	demo_use_room(&dc->who[DEMO_SOFTIRQ], GFP_ATOMIC);
}

static enum hrtimer_restart demo_timer_fn(struct hrtimer *timer)
{
	struct demo_cpu *dc = container_of(timer, struct demo_cpu, timer);

	if (READ_ONCE(demo_stop))
		return HRTIMER_NORESTART;
	demo_use_room(&dc->who[DEMO_HARDIRQ], 0);
	labyrinth_bh_queue(&dc->bh);
	hrtimer_forward_now(timer, ns_to_ktime(DEMO_PERIOD_NS));
	return HRTIMER_RESTART;
}

/* Bound to its CPU: starts that CPU's timer, then claims until the end. */
static int demo_thread_fn(void *data)
{
	struct demo_cpu *dc = data;

	hrtimer_start(&dc->timer, ns_to_ktime(DEMO_PERIOD_NS),
		      HRTIMER_MODE_REL_PINNED_HARD);
	while (!kthread_should_stop() && time_before(jiffies, demo_deadline)) {
		demo_use_room(&dc->who[DEMO_TASK], GFP_KERNEL);
		demo_free_detached();
		cond_resched();
	}
	WRITE_ONCE(demo_stop, true);
	hrtimer_cancel(&dc->timer);
	labyrinth_bh_cancel_sync(&dc->bh);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

static void demo_stop_threads(void)
{
	unsigned int cpu;

	for_each_online_cpu(cpu) {
		struct demo_cpu *dc = per_cpu_ptr(&demo_cpus, cpu);

		if (!IS_ERR_OR_NULL(dc->thread))
			kthread_stop(dc->thread);
	}
}

static int demo_run(void)
{
	unsigned int cpu;

	demo_deadline = jiffies + msecs_to_jiffies(run_ms);
	for_each_online_cpu(cpu) {
		struct demo_cpu *dc = per_cpu_ptr(&demo_cpus, cpu);

		hrtimer_setup(&dc->timer, demo_timer_fn, CLOCK_MONOTONIC,
			      HRTIMER_MODE_REL_PINNED_HARD);
		labyrinth_bh_init(&dc->bh, demo_bh_fn);
		dc->thread = kthread_create_on_cpu(demo_thread_fn, dc, cpu,
						   "labyrinth_demo/%u");
		if (IS_ERR(dc->thread)) {
			demo_stop_threads();	/* never woken: they just exit */
			return PTR_ERR(dc->thread);
		}
	}
	for_each_online_cpu(cpu)
		wake_up_process(per_cpu(demo_cpus, cpu).thread);
	msleep(run_ms);
	demo_stop_threads();
	return 0;
}

/*
 * Rooms lost: wait for the detached rooms to be refilled, then claim every
 * room once. Returns how many could not be claimed.
 */
static unsigned int demo_count_lost(void)
{
	unsigned long timeout = jiffies + 10 * HZ;
	struct labyrinth_stats st;
	unsigned int i, got = 0;
	void **bufs;

	demo_free_detached();
	for (;;) {
		labyrinth_get_stats(demo_lab, &st);
		if (!st.rooms_void || time_after(jiffies, timeout))
			break;
		msleep(20);
	}
	bufs = kcalloc(st.nr_rooms, sizeof(*bufs), GFP_KERNEL);
	if (!bufs)
		return st.nr_rooms;
	for (i = 0; i < st.nr_rooms; i++) {
		bufs[i] = labyrinth_claim(demo_lab, demo_count_lost);
		got += !!bufs[i];
	}
	for (i = 0; i < st.nr_rooms; i++)
		if (bufs[i])
			labyrinth_release(demo_lab, bufs[i], demo_count_lost);
	kfree(bufs);
	return st.nr_rooms - got;
}

/* One line for the log; -EIO if anything went wrong. */
static int demo_report(void)
{
	unsigned long ops[DEMO_NR_CTX] = {}, violations = 0, mismatches = 0;
	unsigned long total = 0, detached = 0;
	struct labyrinth_stats st;
	unsigned int cpu, c, lost;
	bool idle = false;

	for_each_online_cpu(cpu) {
		for (c = 0; c < DEMO_NR_CTX; c++) {
			struct demo_claimant *me = &per_cpu(demo_cpus, cpu).who[c];

			ops[c] += me->ops;
			violations += me->violations;
			mismatches += me->mismatches;
			detached += me->detaches;
			total += me->ops;
		}
	}
	labyrinth_get_stats(demo_lab, &st);
	lost = demo_count_lost();
	pr_info("%u CPUs, %u rooms, %u ms: claims task %lu softirq %lu hardirq %lu; detached %lu; labyrinth stats: claims %llu releases %llu detaches %llu collisions %llu; failed claims %llu full %llu contended; refills %llu, %llu failed (gfp %llu nolock %llu deferred %llu); canary violations %lu; owner mismatches %lu; rooms lost %u\n",
		num_online_cpus(), st.nr_rooms, run_ms, ops[DEMO_TASK],
		ops[DEMO_SOFTIRQ], ops[DEMO_HARDIRQ], detached, st.claims,
		st.releases, st.detaches, st.collisions, st.fail_full,
		st.fail_contended, st.refills, st.refill_failures,
		st.refills_gfp, st.refills_nolock, st.refills_deferred,
		violations, mismatches, lost);
	for (c = 0; c < DEMO_NR_CTX; c++) {
		if (ops[c])
			continue;
		pr_err("no claim in %s context in %u ms: that context went untested\n",
		       demo_ctx_names[c], run_ms);
		idle = true;
	}
	if (idle || violations || mismatches || lost || st.claims != total ||
	    st.releases != total - detached || st.detaches != detached)
		return -EIO;
	return 0;
}

/*
 * Buffers a driver keeps for its lifetime: debugfs shows who holds them.
 * Not __init: a claim site in freed init text could not be named.
 */
static noinline void demo_hold(void)
{
	unsigned int i;

	for (i = 0; i < min_t(unsigned int, hold, ARRAY_SIZE(demo_held)); i++)
		demo_held[i] = labyrinth_claim(demo_lab, THIS_MODULE);
}

static int __init demo_init(void)
{
	struct labyrinth_config cfg = {
		.name = KBUILD_MODNAME,
		.nr_rooms = rooms ?: 2 * DEMO_NR_CTX * num_online_cpus(),
		.node = NUMA_NO_NODE,	/* rooms on every node, CPUs on their own */
		.order = order,
		.doors = doors,
	};
	int err;

	demo_lab = labyrinth_create(&cfg);
	if (IS_ERR(demo_lab))
		return PTR_ERR(demo_lab);
	err = demo_run();
	if (!err)
		err = demo_report();
	if (err) {
		labyrinth_destroy(demo_lab);
		return err;
	}
	demo_hold();
	return 0;
}

static void __exit demo_exit(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(demo_held); i++)
		if (demo_held[i])
			labyrinth_release(demo_lab, demo_held[i], THIS_MODULE);
	labyrinth_destroy(demo_lab);
}

module_init(demo_init);
module_exit(demo_exit);

MODULE_DESCRIPTION("labyrinth demo: claims from task, softirq and hardirq on every CPU");
MODULE_AUTHOR("The labyrinth authors");
MODULE_LICENSE("GPL");
