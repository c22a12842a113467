// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suite for labyrinth: every call in task context, under a caller's
 * raw spinlock with interrupts off, in softirq (system_bh_wq) and in hard
 * interrupt context (an HRTIMER_MODE_REL_HARD timer); the walk's bounds and
 * doors; bad input; detach and refill with injected allocation failures;
 * and exclusivity with kthreads and hard-irq timers claiming at once.
 *
 * Code that runs in interrupt context only records what it saw: KUnit's
 * expectations allocate on failure, so they are checked afterwards in the
 * test's own task.
 *
 * Copyright (C) 2026 The labyrinth authors
 */

#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/hrtimer.h>
#include <linux/irq_work.h>
#include <linux/kthread.h>
#include <linux/llist.h>
#include <linux/moduleparam.h>
#include <linux/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include "compat/users.h"
#include "labyrinth.h"
#include "internal/labyrinth_internal.h"

#if defined(CONFIG_X86_LOCAL_APIC) && defined(LABYRINTH_HAVE_APIC_SEND_IPI_MASK)
#include <asm/apic.h>
#include <asm/nmi.h>
#define LT_HAVE_NMI 1
#endif

static const int owner_a, owner_b;
#define OWNER_A ((const void *)&owner_a)
#define OWNER_B ((const void *)&owner_b)

/* Destroy a test's labyrinth; a room the test left owned is its bug. */
static void lt_destroy_action(void *data)
{
	struct kunit *test = kunit_get_current_test();
	struct labyrinth_stats s;

	labyrinth_get_stats(data, &s);
	if (test && s.rooms_owned)
		KUNIT_FAIL(test, "%u rooms still owned at the end", s.rooms_owned);
	labyrinth_destroy(data);
}

/* Create a labyrinth that is destroyed when the test ends. */
static struct labyrinth *lt_create(struct kunit *test, unsigned int nr_rooms,
				   unsigned int order, unsigned int doors,
				   unsigned int max_probe, unsigned int flags)
{
	struct labyrinth_config cfg = {
		.name = test->name, .nr_rooms = nr_rooms, .order = order,
		.doors = doors, .max_probe = max_probe, .flags = flags,
	};
	struct labyrinth *lab = labyrinth_create(&cfg);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, lab);
	KUNIT_ASSERT_EQ(test, 0,
			kunit_add_action_or_reset(test, lt_destroy_action, lab));
	return lab;
}

static struct labyrinth_stats lt_stats(struct labyrinth *lab)
{
	struct labyrinth_stats s;

	labyrinth_get_stats(lab, &s);
	return s;
}

/*
 * Claim every room of @lab for @owner, in claim order, into @addrs, then
 * check that one more claim fails, having seen each room at most once
 * (the free map shows a room a walk found taken as taken). Interrupts
 * stay off so that every claim runs on one CPU and the walks are
 * repeatable. Returns the collisions of the claims, the failed one's too.
 */
static noinline u64 lt_claim_all(struct kunit *test, struct labyrinth *lab,
				 unsigned int n, const void *owner, void **addrs)
{
	struct labyrinth_stats s0, s1, s2;
	unsigned long flags;
	unsigned int i;
	void *extra;

	local_irq_save(flags);
	labyrinth_get_stats(lab, &s0);
	for (i = 0; i < n; i++)
		addrs[i] = labyrinth_claim(lab, owner);
	labyrinth_get_stats(lab, &s1);
	extra = labyrinth_claim(lab, owner);
	labyrinth_get_stats(lab, &s2);
	local_irq_restore(flags);
	for (i = 0; i < n; i++)
		KUNIT_ASSERT_NOT_NULL(test, addrs[i]);
	KUNIT_ASSERT_NULL(test, extra);
	/* each room at most once: the free map may have shown it taken */
	KUNIT_EXPECT_LE(test, s2.collisions - s1.collisions, n);
	return s2.collisions - s0.collisions;
}

static void lt_release_all(struct kunit *test, struct labyrinth *lab,
			   unsigned int n, const void *owner, void **addrs)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ(test, labyrinth_release(lab, addrs[i], owner), 0);
}

/* ---- Running a function in a given context ---- */

enum lt_ctx { LT_TASK, LT_IRQS_OFF, LT_SOFTIRQ, LT_HARDIRQ, LT_NMI };

static const enum lt_ctx lt_ctxs[] = {
	LT_TASK, LT_IRQS_OFF, LT_SOFTIRQ, LT_HARDIRQ, LT_NMI
};

static const char *const lt_ctx_names[] = {
	[LT_TASK] = "task", [LT_IRQS_OFF] = "raw_lock_irqs_off",
	[LT_SOFTIRQ] = "softirq", [LT_HARDIRQ] = "hardirq", [LT_NMI] = "nmi",
};

static void lt_ctx_desc(const enum lt_ctx *ctx, char *desc)
{
	strscpy(desc, lt_ctx_names[*ctx], KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(lt_ctx, lt_ctxs, lt_ctx_desc);

struct lt_run {
	void (*fn)(struct lt_run *run);
	enum lt_ctx ctx;
	bool in_ctx;		/* fn ran where it was meant to */
	struct completion done;
	struct hrtimer timer;
	struct labyrinth_bh bh;
	unsigned int nmi_cpu;
	bool nmi_done;
	/* the case's own data */
	struct labyrinth *lab;
	void *addr, *addr2, *foreign, *vaddr;
	struct page *page;
	const void *owner, *owner_after;
	gfp_t gfp;
	struct labyrinth_stats before, after;
	long codes[32];
	unsigned int nr_codes;
};

/* A caller's own raw spinlock, held with interrupts off. */
static DEFINE_RAW_SPINLOCK(lt_caller_lock);

static bool lt_in_ctx(enum lt_ctx ctx)
{
	switch (ctx) {
	case LT_TASK:
		return in_task() && !irqs_disabled();
	case LT_IRQS_OFF:
		return in_task() && irqs_disabled();
	case LT_SOFTIRQ:
		return in_serving_softirq() && !in_hardirq();
	case LT_HARDIRQ:
		return in_hardirq() && !in_nmi();
	case LT_NMI:
		return in_nmi();
	}
	return false;
}

static void lt_call(struct lt_run *run)
{
	run->in_ctx = lt_in_ctx(run->ctx);
	run->fn(run);
}

static enum hrtimer_restart lt_timer_fn(struct hrtimer *timer)
{
	struct lt_run *run = container_of(timer, struct lt_run, timer);

	lt_call(run);
	complete(&run->done);
	return HRTIMER_NORESTART;
}

static void lt_bh_fn(struct labyrinth_bh *bh)
{
	struct lt_run *run = container_of(bh, struct lt_run, bh);

	lt_call(run);
	complete(&run->done);
}

#ifdef LT_HAVE_NMI
/* The run the next NMI on its CPU carries out (one at a time). */
static struct lt_run *lt_nmi_run;

static int lt_nmi_handler(unsigned int type, struct pt_regs *regs)
{
	struct lt_run *run = READ_ONCE(lt_nmi_run);

	if (!run || run->nmi_cpu != smp_processor_id())
		return NMI_DONE;		/* not ours */
	WRITE_ONCE(lt_nmi_run, NULL);
	lt_call(run);
	/* pairs with the acquire in lt_run_in_nmi(): the run's results */
	smp_store_release(&run->nmi_done, true);
	return NMI_HANDLED;
}

/* Run @run->fn in an NMI this CPU sends itself; it arrives at once. */
static void lt_run_in_nmi(struct lt_run *run)
{
	u64 deadline = ktime_get_mono_fast_ns() + NSEC_PER_SEC;

	preempt_disable();
	run->nmi_cpu = smp_processor_id();
	run->nmi_done = false;
	WRITE_ONCE(lt_nmi_run, run);
	__apic_send_IPI_mask(cpumask_of(run->nmi_cpu), NMI_VECTOR);
	/* pairs with the release in lt_nmi_handler() */
	while (!smp_load_acquire(&run->nmi_done) &&
	       ktime_get_mono_fast_ns() < deadline)	/* interrupts may be off */
		cpu_relax();
	WRITE_ONCE(lt_nmi_run, NULL);
	preempt_enable();
}
#endif

/* Skip a case in NMI where the kernel cannot send one from a module. */
static void lt_need_nmi(struct kunit *test)
{
#ifndef LT_HAVE_NMI
	kunit_skip(test, "no NMI to send here (UML has none; x86 sends them)");
#endif
}

/* A case's context parameter; NMI cases skip where no NMI can be sent. */
static const enum lt_ctx *lt_ctx_of(struct kunit *test)
{
	const enum lt_ctx *ctx = test->param_value;

	if (*ctx == LT_NMI)
		lt_need_nmi(test);
	return ctx;
}

/* Run @run->fn once in @ctx and check that it ran there. */
static void lt_run_in(struct kunit *test, struct lt_run *run, enum lt_ctx ctx)
{
	unsigned long flags;

	run->ctx = ctx;
	run->in_ctx = false;
	init_completion(&run->done);
	switch (ctx) {
	case LT_TASK:
		lt_call(run);
		break;
	case LT_IRQS_OFF:
		raw_spin_lock_irqsave(&lt_caller_lock, flags);
		lt_call(run);
		raw_spin_unlock_irqrestore(&lt_caller_lock, flags);
		break;
	case LT_SOFTIRQ:
		labyrinth_bh_init(&run->bh, lt_bh_fn);
		labyrinth_bh_queue(&run->bh);
		if (!wait_for_completion_timeout(&run->done, 10 * HZ))
			labyrinth_bh_cancel_sync(&run->bh);
		break;
	case LT_HARDIRQ:
		hrtimer_setup(&run->timer, lt_timer_fn, CLOCK_MONOTONIC,
			      HRTIMER_MODE_REL_HARD);
		hrtimer_start(&run->timer, ns_to_ktime(10 * NSEC_PER_USEC),
			      HRTIMER_MODE_REL_PINNED_HARD);
		if (!wait_for_completion_timeout(&run->done, 10 * HZ))
			hrtimer_cancel(&run->timer);
		break;
	case LT_NMI:
		lt_need_nmi(test);
#ifdef LT_HAVE_NMI
		lt_run_in_nmi(run);
#endif
		break;
	}
	KUNIT_ASSERT_TRUE_MSG(test, run->in_ctx, "did not run in %s context",
			      lt_ctx_names[ctx]);
}

static struct lt_run *lt_new_run(struct kunit *test, void (*fn)(struct lt_run *))
{
	struct lt_run *run = kunit_kzalloc(test, sizeof(*run), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, run);
	run->fn = fn;
	return run;
}

static void lt_code(struct lt_run *run, long code)
{
	if (run->nr_codes < ARRAY_SIZE(run->codes))
		run->codes[run->nr_codes++] = code;
}

/*
 * Keep the deferred refill from running until the test flushes it: it is
 * scheduled an hour after a detach. (A static stub cannot do this: KUnit's
 * stub lookup takes a spinlock_t, invalid in hardirq or under a raw lock.)
 */
static void lt_hold_refill(struct labyrinth *lab)
{
	labyrinth_set_refill_delay(lab, 3600 * HZ);
}

/* ---- Every operation in every context ---- */

static void lt_claim_release_fn(struct lt_run *run)
{
	size_t size = PAGE_SIZE << 1;

	run->addr = labyrinth_claim(run->lab, OWNER_A);
	if (!run->addr)
		return;
	memset(run->addr, 0x5a, size);		/* the whole room is ours */
	run->owner = labyrinth_owner(run->lab, run->addr);
	lt_code(run, labyrinth_release(run->lab, run->addr, OWNER_A));
	run->owner_after = labyrinth_owner(run->lab, run->addr);
	labyrinth_get_stats(run->lab, &run->after);
}

static void claim_and_release_in_context(struct kunit *test)
{
	const enum lt_ctx *ctx = lt_ctx_of(test);
	struct lt_run *run = lt_new_run(test, lt_claim_release_fn);

	run->lab = lt_create(test, 4, 1, 0, 0, 0);
	lt_run_in(test, run, *ctx);
	KUNIT_ASSERT_NOT_NULL(test, run->addr);
	KUNIT_EXPECT_TRUE(test, PAGE_ALIGNED(run->addr));
	KUNIT_EXPECT_PTR_EQ(test, run->owner, OWNER_A);
	KUNIT_EXPECT_NULL(test, run->owner_after);
	KUNIT_ASSERT_EQ(test, run->nr_codes, 1);
	KUNIT_EXPECT_EQ(test, run->codes[0], 0);
	KUNIT_EXPECT_EQ(test, run->after.claims, 1);
	KUNIT_EXPECT_EQ(test, run->after.releases, 1);
	KUNIT_EXPECT_EQ(test, run->after.rooms_owned, 0);
	KUNIT_EXPECT_EQ(test, run->after.bad_calls, 0);
}

static void lt_detach_fn(struct lt_run *run)
{
	run->addr = labyrinth_claim(run->lab, OWNER_A);
	if (!run->addr)
		return;
	run->page = labyrinth_detach(run->lab, run->addr, OWNER_A);
	run->owner = labyrinth_owner(run->lab, run->addr);
	lt_code(run, labyrinth_release(run->lab, run->addr, OWNER_A));
	lt_code(run, PTR_ERR_OR_ZERO(labyrinth_detach(run->lab, run->addr,
						      OWNER_A)));
	labyrinth_get_stats(run->lab, &run->after);
}

/*
 * Detach hands the pages over; the void room refuses the old address with
 * -ENOENT until the deferred refill fills it, then with -EINVAL.
 */
static void detach_in_context(struct kunit *test)
{
	const enum lt_ctx *ctx = lt_ctx_of(test);
	struct lt_run *run = lt_new_run(test, lt_detach_fn);
	struct labyrinth_stats s;

	run->lab = lt_create(test, 2, 1, 0, 0, 0);
	lt_hold_refill(run->lab);
	lt_run_in(test, run, *ctx);
	KUNIT_ASSERT_NOT_NULL(test, run->addr);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, run->page);
	KUNIT_EXPECT_PTR_EQ(test, run->page, virt_to_page(run->addr));
	KUNIT_EXPECT_NULL(test, run->owner);
	KUNIT_ASSERT_EQ(test, run->nr_codes, 2);
	KUNIT_EXPECT_EQ(test, run->codes[0], -ENOENT);
	KUNIT_EXPECT_EQ(test, run->codes[1], -ENOENT);
	KUNIT_EXPECT_EQ(test, run->after.detaches, 1);
	KUNIT_EXPECT_EQ(test, run->after.rooms_void, 1);
	KUNIT_EXPECT_EQ(test, run->after.bad_calls, 2);

	/* The pages are ours: all of them, for good. */
	memset(run->addr, 0x33, PAGE_SIZE << 1);

	KUNIT_EXPECT_TRUE(test, labyrinth_refill_pending(run->lab));
	labyrinth_flush_refill(run->lab);
	s = lt_stats(run->lab);
	KUNIT_EXPECT_EQ(test, s.rooms_void, 0);
	KUNIT_EXPECT_EQ(test, s.refills, 1);
	KUNIT_EXPECT_EQ(test, labyrinth_release(run->lab, run->addr, OWNER_A),
			-EINVAL);
	__free_pages(run->page, 1);
}

static void lt_owner_fn(struct lt_run *run)
{
	run->owner = labyrinth_owner(run->lab, run->addr);
	lt_code(run, labyrinth_release(run->lab, run->addr, OWNER_B));
	run->owner_after = labyrinth_owner(run->lab, run->addr);
	lt_code(run, (long)labyrinth_owner(run->lab, run->addr2));
	lt_code(run, (long)labyrinth_owner(run->lab, run->foreign));
	lt_code(run, (long)labyrinth_owner(NULL, run->addr));
}

/* Owner is reported and kept: the wrong owner cannot release. */
static void owner_in_context(struct kunit *test)
{
	const enum lt_ctx *ctx = lt_ctx_of(test);
	struct lt_run *run = lt_new_run(test, lt_owner_fn);

	run->lab = lt_create(test, 3, 0, 0, 0, 0);
	run->addr = labyrinth_claim(run->lab, OWNER_A);
	run->addr2 = labyrinth_claim(run->lab, OWNER_B);
	KUNIT_ASSERT_NOT_NULL(test, run->addr2);
	KUNIT_ASSERT_EQ(test, labyrinth_release(run->lab, run->addr2, OWNER_B), 0);
	run->foreign = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, run->foreign);
	lt_run_in(test, run, *ctx);
	KUNIT_EXPECT_PTR_EQ(test, run->owner, OWNER_A);
	KUNIT_EXPECT_PTR_EQ(test, run->owner_after, OWNER_A);
	KUNIT_EXPECT_EQ(test, run->codes[0], -EPERM);
	KUNIT_EXPECT_EQ(test, run->codes[1], 0);	/* free room */
	KUNIT_EXPECT_EQ(test, run->codes[2], 0);	/* foreign memory */
	KUNIT_EXPECT_EQ(test, run->codes[3], 0);	/* no labyrinth */
	KUNIT_EXPECT_EQ(test, labyrinth_release(run->lab, run->addr, OWNER_A), 0);
}

static void lt_stats_fn(struct lt_run *run)
{
	labyrinth_get_stats(run->lab, &run->after);
}

static void stats_in_context(struct kunit *test)
{
	const enum lt_ctx *ctx = lt_ctx_of(test);
	struct lt_run *run = lt_new_run(test, lt_stats_fn);
	void *addrs[4];
	u64 walked;

	run->lab = lt_create(test, 4, 0, 2, 0, 0);
	lt_hold_refill(run->lab);	/* the detached room stays void */
	walked = lt_claim_all(test, run->lab, 4, OWNER_A, addrs);
	KUNIT_ASSERT_EQ(test, labyrinth_release(run->lab, addrs[2], OWNER_A), 0);
	KUNIT_ASSERT_EQ(test, labyrinth_release(run->lab, addrs[2], OWNER_A),
			-ENOENT);
	KUNIT_ASSERT_FALSE(test, IS_ERR(labyrinth_detach(run->lab, addrs[3],
							 OWNER_A)));
	lt_run_in(test, run, *ctx);
	KUNIT_EXPECT_EQ(test, run->after.nr_rooms, 4);
	KUNIT_EXPECT_EQ(test, run->after.claims, 4);
	KUNIT_EXPECT_EQ(test, run->after.releases, 1);
	KUNIT_EXPECT_EQ(test, run->after.detaches, 1);
	KUNIT_EXPECT_EQ(test, run->after.fail_full, 1);
	KUNIT_EXPECT_EQ(test, run->after.fail_contended, 0);
	/* the claims' own collisions, the failed one's included */
	KUNIT_EXPECT_EQ(test, run->after.collisions, walked);
	KUNIT_EXPECT_EQ(test, run->after.bad_calls, 1);
	KUNIT_EXPECT_EQ(test, run->after.rooms_owned, 2);
	KUNIT_EXPECT_EQ(test, run->after.rooms_void, 1);
	__free_pages(virt_to_page(addrs[3]), 0);
	labyrinth_release(run->lab, addrs[0], OWNER_A);
	labyrinth_release(run->lab, addrs[1], OWNER_A);
}

/* ---- Exhaustion, collisions, the walk ---- */

static void lt_claim_fn(struct lt_run *run)
{
	labyrinth_get_stats(run->lab, &run->before);
	run->addr = labyrinth_claim(run->lab, OWNER_B);
	labyrinth_get_stats(run->lab, &run->after);
}

/*
 * A full labyrinth fails at once. lt_claim_all()'s extra claim, the first
 * to find it full, saw each room exactly once and cleared its bit in the
 * free map; a claim after it visits no room at all.
 */
static void claim_when_full_in_context(struct kunit *test)
{
	const enum lt_ctx *ctx = lt_ctx_of(test);
	struct lt_run *run = lt_new_run(test, lt_claim_fn);
	void *addrs[7];

	run->lab = lt_create(test, 7, 0, 3, 0, 0);
	lt_claim_all(test, run->lab, 7, OWNER_A, addrs);
	lt_run_in(test, run, *ctx);
	KUNIT_EXPECT_NULL(test, run->addr);
	KUNIT_EXPECT_EQ(test, run->after.fail_full - run->before.fail_full, 1);
	KUNIT_EXPECT_EQ(test, run->after.fail_contended, 0);
	KUNIT_EXPECT_EQ(test, run->after.collisions - run->before.collisions, 0);
	lt_release_all(test, run->lab, 7, OWNER_A, addrs);
}

/*
 * max_probe bounds the looks of a claim that fails: the walk's, and on a
 * CPU whose last walk found nothing the look at the free map before it,
 * each at most max_probe rooms. Each room passed loses its bit, so every
 * owned room is passed once in all, and once every bit is clear a claim
 * on the full labyrinth passes nothing.
 */
static void claim_when_full_stops_at_max_probe(struct kunit *test)
{
	struct labyrinth *lab = lt_create(test, 16, 0, 4, 3, 0);
	struct labyrinth_stats s0, s1;
	unsigned int i, n = 0, passed = 0, c;
	void *addrs[16], *a;

	/* a claim may fail at max_probe before the last rooms: it goes on */
	for (i = 0; i < 64 && n < 16; i++) {
		a = labyrinth_claim(lab, OWNER_A);
		if (a)
			addrs[n++] = a;
	}
	KUNIT_ASSERT_EQ(test, n, 16);
	/* every bit set, as claims at their entrances leave them */
	labyrinth_mark_all_free(lab);
	migrate_disable();	/* one CPU's claims: its flag, its entrance */
	for (i = 0; i < DIV_ROUND_UP(16, 3); i++) {
		s0 = lt_stats(lab);
		KUNIT_EXPECT_NULL(test, labyrinth_claim(lab, OWNER_B));
		s1 = lt_stats(lab);
		c = s1.collisions - s0.collisions;
		KUNIT_EXPECT_LE_MSG(test, c, 2 * 3, "failed claim %u", i);
		KUNIT_EXPECT_EQ(test, s1.fail_full - s0.fail_full, 1);
		passed += c;
	}
	s0 = lt_stats(lab);
	KUNIT_EXPECT_NULL(test, labyrinth_claim(lab, OWNER_B));
	s1 = lt_stats(lab);
	migrate_enable();
	KUNIT_EXPECT_EQ(test, passed, 16);
	KUNIT_EXPECT_EQ(test, s1.collisions - s0.collisions, 0);
	KUNIT_EXPECT_EQ(test, s1.fail_full - s0.fail_full, 1);
	lt_release_all(test, lab, 16, OWNER_A, addrs);
}

/*
 * A claim after one that found the labyrinth full looks at the free map
 * before it walks: it fails with no room visited while no room is free,
 * and finds a room freed since where neither its entrance nor its cursor
 * is - in a word of the free map other than the first, which the look
 * reaches through the word map (the failed walk cleared that word's bit;
 * the release set it again).
 */
static void claim_after_a_failed_one_finds_a_freed_room(struct kunit *test)
{
	const unsigned int n = 4 * BITS_PER_LONG, far = 3 * BITS_PER_LONG + 5;
	struct labyrinth *lab = lt_create(test, n, 0, 2, 0, 0);
	void **addrs = kunit_kcalloc(test, n, sizeof(*addrs), GFP_KERNEL);
	struct labyrinth_stats s0, s1, s2, s3;
	unsigned int i, f = n;
	unsigned long flags;
	void *a, *b, *c;
	int rc;

	KUNIT_ASSERT_NOT_NULL(test, addrs);
	migrate_disable();	/* one CPU throughout: its last claim failed */
	lt_claim_all(test, lab, n, OWNER_A, addrs);
	for (i = 0; i < n; i++)
		if (labyrinth_room_index(lab, addrs[i]) == far)
			f = i;
	local_irq_save(flags);
	s0 = lt_stats(lab);
	a = labyrinth_claim(lab, OWNER_B);
	s1 = lt_stats(lab);
	rc = f < n ? labyrinth_release(lab, addrs[f], OWNER_A) : -ENOENT;
	/* the release hinted this CPU's entrance to it: elsewhere again */
	labyrinth_set_entrance(lab, smp_processor_id(),
			       labyrinth_room_index(lab, addrs[0]));
	b = labyrinth_claim(lab, OWNER_B);
	s2 = lt_stats(lab);
	c = labyrinth_claim(lab, OWNER_B);
	s3 = lt_stats(lab);
	local_irq_restore(flags);
	migrate_enable();

	KUNIT_ASSERT_LT(test, f, n);
	KUNIT_EXPECT_NULL(test, a);
	KUNIT_EXPECT_EQ(test, s1.fail_full - s0.fail_full, 1);
	KUNIT_EXPECT_EQ(test, s1.collisions - s0.collisions, 0);
	KUNIT_EXPECT_EQ(test, rc, 0);
	KUNIT_EXPECT_PTR_EQ(test, b, addrs[f]);
	KUNIT_EXPECT_NULL(test, c);
	KUNIT_EXPECT_EQ(test, s3.fail_full - s2.fail_full, 1);
	KUNIT_EXPECT_EQ(test, s3.collisions - s2.collisions, 0);
	for (i = 0; i < n; i++)
		if (i != f)
			KUNIT_EXPECT_EQ(test, labyrinth_release(lab, addrs[i], OWNER_A), 0);
	if (b)
		KUNIT_EXPECT_EQ(test, labyrinth_release(lab, b, OWNER_B), 0);
	if (a)
		labyrinth_release(lab, a, OWNER_B);
	if (c)
		labyrinth_release(lab, c, OWNER_B);
}

/*
 * On a uniprocessor, DEBUG_SPINLOCK reports any failed trylock as a bug:
 * there it can only mean the lock's holder was interrupted, and labyrinth
 * always holds room locks with interrupts off, so its own trylocks never
 * fail on UP. Holding a room lock from the test is the one way to make
 * them fail, so such cases run on SMP kernels (the qemu x86_64 one).
 */
static void lt_need_trylock_failures(struct kunit *test)
{
	if (!IS_ENABLED(CONFIG_SMP) && IS_ENABLED(CONFIG_DEBUG_SPINLOCK))
		kunit_skip(test, "a failed trylock is a DEBUG_SPINLOCK bug on UP");
}

/* Hold the lock of this CPU's entrance room while claiming. */
static void lt_locked_entrance_fn(struct lt_run *run)
{
	raw_spinlock_t *lock;
	unsigned long flags;
	unsigned int e;

	local_irq_save(flags);
	e = labyrinth_entrance(run->lab, smp_processor_id());
	lock = labyrinth_room_lock(run->lab, e);
	raw_spin_lock(lock);
	lt_code(run, e);
	lt_claim_fn(run);
	raw_spin_unlock(lock);
	local_irq_restore(flags);
	if (run->addr)
		lt_code(run, labyrinth_room_index(run->lab, run->addr));
}

/*
 * In NMI the lock is held by the context the NMI interrupts: the task
 * holds its entrance's lock with interrupts off and sends itself the NMI
 * whose claim meets it. (A spinning lock taken in NMI is what labyrinth
 * never does.)
 */
static void lt_run_locked(struct kunit *test, struct lt_run *run,
			  enum lt_ctx ctx)
{
	raw_spinlock_t *lock;
	unsigned long flags;
	unsigned int e;

	if (ctx != LT_NMI) {
		run->fn = lt_locked_entrance_fn;
		lt_run_in(test, run, ctx);
		return;
	}
	lt_need_nmi(test);
	run->fn = lt_claim_fn;
	local_irq_save(flags);
	e = labyrinth_entrance(run->lab, smp_processor_id());
	lock = labyrinth_room_lock(run->lab, e);
	raw_spin_lock(lock);
	lt_code(run, e);
	lt_run_in(test, run, LT_NMI);
	raw_spin_unlock(lock);
	local_irq_restore(flags);
	if (run->addr)
		lt_code(run, labyrinth_room_index(run->lab, run->addr));
}

/* A busy lock is a collision, and a claim that fails on one is contended. */
static void claim_skips_busy_lock_in_context(struct kunit *test)
{
	const enum lt_ctx *ctx = lt_ctx_of(test);
	struct lt_run *run = lt_new_run(test, lt_locked_entrance_fn);

	lt_need_trylock_failures(test);
	run->lab = lt_create(test, 3, 0, 1, 0, 0);
	lt_run_locked(test, run, *ctx);
	KUNIT_ASSERT_NOT_NULL(test, run->addr);
	KUNIT_ASSERT_EQ(test, run->nr_codes, 2);
	KUNIT_EXPECT_NE(test, run->codes[1], run->codes[0]);
	KUNIT_EXPECT_EQ(test, run->after.collisions - run->before.collisions, 1);
	KUNIT_EXPECT_EQ(test, labyrinth_release(run->lab, run->addr, OWNER_B), 0);

	/* The only room is locked: the claim fails, contended, not full. */
	run->lab = lt_create(test, 1, 0, 1, 0, 0);
	run->nr_codes = 0;
	lt_run_locked(test, run, *ctx);
	KUNIT_EXPECT_NULL(test, run->addr);
	KUNIT_EXPECT_EQ(test, run->after.fail_contended, 1);
	KUNIT_EXPECT_EQ(test, run->after.fail_full, 0);
	KUNIT_EXPECT_EQ(test, run->after.collisions, 1);
}

/*
 * The doors matter. With 8 rooms in 4 wings of 2, an owned entrance sends
 * the claim through the near door, to the next room of its wing ...
 */
static void claim_takes_near_door_after_owned_room(struct kunit *test)
{
	struct labyrinth *lab = lt_create(test, 8, 0, 4, 0, 0);
	unsigned long flags;
	void *first, *next;
	unsigned int e;

	local_irq_save(flags);		/* stay on this CPU */
	e = labyrinth_entrance(lab, smp_processor_id());
	first = labyrinth_claim(lab, OWNER_A);
	/* a claim moves the entrance on: bring it back to the owned room */
	labyrinth_set_entrance(lab, smp_processor_id(), e);
	next = labyrinth_claim(lab, OWNER_A);
	local_irq_restore(flags);
	KUNIT_EXPECT_EQ(test, labyrinth_room_index(lab, first), e);
	KUNIT_EXPECT_EQ(test, labyrinth_room_index(lab, next),
			e / 2 * 2 + (e % 2 + 1) % 2);
	KUNIT_EXPECT_EQ(test, labyrinth_release(lab, first, OWNER_A), 0);
	KUNIT_EXPECT_EQ(test, labyrinth_release(lab, next, OWNER_A), 0);
}

/* ... and a busy one through far door 1, to the next wing, same column. */
static void claim_takes_far_door_after_busy_lock(struct kunit *test)
{
	struct lt_run *run = lt_new_run(test, lt_locked_entrance_fn);
	unsigned int e;

	lt_need_trylock_failures(test);
	run->lab = lt_create(test, 8, 0, 4, 0, 0);
	lt_run_in(test, run, LT_IRQS_OFF);
	KUNIT_ASSERT_EQ(test, run->nr_codes, 2);
	e = run->codes[0];
	KUNIT_EXPECT_EQ(test, run->codes[1], (e / 2 + 1) % 4 * 2 + e % 2);
	KUNIT_EXPECT_EQ(test, labyrinth_release(run->lab, run->addr, OWNER_B), 0);
}

struct lt_walk_param {
	unsigned int rooms, doors;
};

static const struct lt_walk_param lt_walk_params[] = {
	{ 11, 1 }, { 11, 2 }, { 11, 3 }, { 11, 4 }, { 16, 16 }, { 5, 5 },
};

static void lt_walk_desc(const struct lt_walk_param *p, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%u_rooms_%u_doors", p->rooms,
		 p->doors);
}

KUNIT_ARRAY_PARAM(lt_walk, lt_walk_params, lt_walk_desc);

/*
 * Complete: whichever single room is free, a claim finds it, having
 * skipped fewer rooms than there are.
 */
static void claim_finds_the_only_free_room(struct kunit *test)
{
	const struct lt_walk_param *p = test->param_value;
	struct labyrinth *lab = lt_create(test, p->rooms, 0, p->doors, 0, 0);
	struct labyrinth_stats s0, s1;
	unsigned int t;
	void **addrs;
	void *got;

	addrs = kunit_kcalloc(test, p->rooms, sizeof(*addrs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, addrs);
	lt_claim_all(test, lab, p->rooms, OWNER_A, addrs);
	for (t = 0; t < p->rooms; t++) {
		KUNIT_ASSERT_EQ(test, labyrinth_release(lab, addrs[t], OWNER_A), 0);
		s0 = lt_stats(lab);
		got = labyrinth_claim(lab, OWNER_A);
		s1 = lt_stats(lab);
		KUNIT_EXPECT_PTR_EQ(test, got, addrs[t]);
		KUNIT_EXPECT_LT(test, s1.collisions - s0.collisions, p->rooms);
		if (got != addrs[t])
			return;
	}
	lt_release_all(test, lab, p->rooms, OWNER_A, addrs);
}

/* ---- Bad input ---- */

static void lt_bad_input_fn(struct lt_run *run)
{
	struct labyrinth *lab = run->lab;
	void *addr = run->addr;

	labyrinth_get_stats(lab, &run->before);
	lt_code(run, (long)labyrinth_claim(NULL, OWNER_A));
	lt_code(run, (long)labyrinth_claim(ERR_PTR(-ENOMEM), OWNER_A));
	lt_code(run, (long)labyrinth_claim(lab, NULL));			/* counted */
	lt_code(run, labyrinth_release(NULL, addr, OWNER_A));
	lt_code(run, labyrinth_release(ERR_PTR(-EINVAL), addr, OWNER_A));
	lt_code(run, labyrinth_release(lab, addr, NULL));		/* counted */
	lt_code(run, labyrinth_release(lab, NULL, OWNER_A));		/* counted */
	lt_code(run, labyrinth_release(lab, run->foreign, OWNER_A));	/* counted */
	lt_code(run, labyrinth_release(lab, run->vaddr, OWNER_A));	/* counted */
	lt_code(run, labyrinth_release(lab, addr + 64, OWNER_A));	/* counted */
	lt_code(run, labyrinth_release(lab, addr + PAGE_SIZE, OWNER_A)); /* counted */
	lt_code(run, labyrinth_release(lab, run->addr2, OWNER_A));	/* counted */
	lt_code(run, labyrinth_release(lab, addr, OWNER_B));		/* counted */
	lt_code(run, PTR_ERR(labyrinth_detach(lab, addr, OWNER_B)));	/* counted */
	lt_code(run, PTR_ERR(labyrinth_detach(NULL, addr, OWNER_A)));
	lt_code(run, PTR_ERR(labyrinth_detach(lab, run->foreign, OWNER_A))); /* counted */
	lt_code(run, labyrinth_release(lab, addr, OWNER_A));
	lt_code(run, labyrinth_release(lab, addr, OWNER_A));		/* counted */
	lt_code(run, PTR_ERR(labyrinth_detach(lab, addr, OWNER_A)));	/* counted */
	/* release after detach, detach twice: the room is void (refill held) */
	addr = labyrinth_claim(lab, OWNER_A);
	run->page = labyrinth_detach(lab, addr, OWNER_A);
	lt_code(run, PTR_ERR_OR_ZERO(run->page));
	lt_code(run, labyrinth_release(lab, addr, OWNER_A));		/* counted */
	lt_code(run, PTR_ERR(labyrinth_detach(lab, addr, OWNER_A)));	/* counted */
	lt_code(run, PTR_ERR(labyrinth_detach(ERR_PTR(-EINVAL), addr, OWNER_A)));
	lt_code(run, (long)labyrinth_owner(NULL, addr));
	/* placement bits are the labyrinth's: dropped, counted, claimed */
	addr = labyrinth_claim_gfp(lab, OWNER_A, __GFP_MOVABLE | __GFP_ZERO);
	lt_code(run, addr ? 0 : -ENOMEM);
	lt_code(run, labyrinth_release(lab, addr, OWNER_A));
	labyrinth_get_stats(lab, &run->after);
}

static const long lt_bad_input_codes[] = {
	0, 0, 0, -EINVAL, -EINVAL, -EINVAL, -EINVAL, -EINVAL, -EINVAL, -EINVAL,
	-EINVAL, -EINVAL, -EPERM, -EPERM, -EINVAL, -EINVAL, 0, -ENOENT, -ENOENT,
	0, -ENOENT, -ENOENT, -EINVAL, 0, 0, 0,
};

/* Every misuse gets its documented code and is counted; nothing breaks. */
static void bad_input_in_context(struct kunit *test)
{
	const enum lt_ctx *ctx = lt_ctx_of(test);
	struct lt_run *run = lt_new_run(test, lt_bad_input_fn);
	struct labyrinth *lab2 = lt_create(test, 2, 1, 0, 0, 0);
	struct page *page;
	unsigned int i;

	run->lab = lt_create(test, 2, 1, 0, 0, 0);
	lt_hold_refill(run->lab);
	run->addr = labyrinth_claim(run->lab, OWNER_A);
	run->addr2 = labyrinth_claim(lab2, OWNER_A);	/* another's room */
	KUNIT_ASSERT_NOT_NULL(test, run->addr);
	KUNIT_ASSERT_NOT_NULL(test, run->addr2);
	page = alloc_pages(GFP_KERNEL, 1);
	KUNIT_ASSERT_NOT_NULL(test, page);
	run->foreign = page_address(page);
	run->vaddr = vmalloc(PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, run->vaddr);

	lt_run_in(test, run, *ctx);
	__free_pages(page, 1);
	vfree(run->vaddr);
	if (!IS_ERR_OR_NULL(run->page))
		__free_pages(run->page, 1);	/* detached: ours */
	KUNIT_ASSERT_EQ(test, run->nr_codes, ARRAY_SIZE(lt_bad_input_codes));
	for (i = 0; i < run->nr_codes; i++)
		KUNIT_EXPECT_EQ_MSG(test, run->codes[i], lt_bad_input_codes[i],
				    "call %u", i);
	KUNIT_EXPECT_EQ(test, run->after.bad_calls - run->before.bad_calls, 16);
	KUNIT_EXPECT_EQ(test, run->after.detaches - run->before.detaches, 1);
	kunit_info(test, "%u calls with bad input in %s context, %llu of them counted\n",
		   run->nr_codes, lt_ctx_names[*ctx],
		   run->after.bad_calls - run->before.bad_calls);
	KUNIT_EXPECT_EQ(test, run->after.releases - run->before.releases, 2);
	KUNIT_EXPECT_EQ(test, run->after.rooms_owned, 0);
	KUNIT_EXPECT_EQ(test, labyrinth_release(lab2, run->addr2, OWNER_A), 0);
}

/* Release after detach: -ENOENT while void, -EINVAL once refilled. */
static void release_after_detach_then_refill(struct kunit *test)
{
	struct labyrinth *lab = lt_create(test, 1, 0, 0, 0, 0);
	struct page *page;
	void *addr, *again;

	lt_hold_refill(lab);
	addr = labyrinth_claim(lab, OWNER_A);
	KUNIT_ASSERT_NOT_NULL(test, addr);
	page = labyrinth_detach(lab, addr, OWNER_A);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, page);
	KUNIT_EXPECT_TRUE(test, labyrinth_refill_pending(lab));
	KUNIT_EXPECT_EQ(test, labyrinth_release(lab, addr, OWNER_A), -ENOENT);
	KUNIT_EXPECT_EQ(test, PTR_ERR(labyrinth_detach(lab, addr, OWNER_A)),
			-ENOENT);
	/* a caller that may sleep lets the claim refill on the spot */
	again = labyrinth_claim_gfp(lab, OWNER_A, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, again);
	KUNIT_EXPECT_PTR_NE(test, again, addr);
	KUNIT_EXPECT_EQ(test, labyrinth_release(lab, addr, OWNER_A), -EINVAL);
	KUNIT_EXPECT_EQ(test, labyrinth_release(lab, again, OWNER_A), 0);
	KUNIT_EXPECT_EQ(test, lt_stats(lab).bad_calls, 3);
	KUNIT_EXPECT_EQ(test, lt_stats(lab).refills, 1);
	__free_pages(page, 0);
}

/*
 * A token shared by every claim (a device) cannot tell a double release
 * from the release of the owner's next claim of the same room, which
 * locality makes the common case (here: the only room). The claim's
 * generation can: the stale release and detach get -ENOENT and the new
 * claim stays owned. The plain release, shown after, frees the new claim,
 * unless each claim has a token of its own.
 */
static void release_gen_refuses_release_of_an_earlier_claim(struct kunit *test)
{
	struct labyrinth *lab = lt_create(test, 1, 0, 0, 0, 0);
	unsigned long g1, g2, g3;
	void *a, *b, *c;

	a = labyrinth_claim_gen(lab, OWNER_A, 0, &g1);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_EXPECT_NE(test, g1, 0);
	KUNIT_EXPECT_EQ(test, labyrinth_release_gen(lab, a, OWNER_A, g1), 0);
	b = labyrinth_claim_gen(lab, OWNER_A, 0, &g2);	/* the room again */
	KUNIT_ASSERT_PTR_EQ(test, b, a);
	KUNIT_EXPECT_NE(test, g2, g1);
	KUNIT_EXPECT_NULL(test, labyrinth_claim_gen(lab, OWNER_B, 0, &g3));
	KUNIT_EXPECT_EQ(test, g3, 0);			/* full: no claim */

	/* the double release and detach of the first claim: refused */
	KUNIT_EXPECT_EQ(test, labyrinth_release_gen(lab, a, OWNER_A, g1), -ENOENT);
	KUNIT_EXPECT_EQ(test, PTR_ERR(labyrinth_detach_gen(lab, a, OWNER_A, g1)),
			-ENOENT);
	KUNIT_EXPECT_EQ(test, labyrinth_release_gen(lab, a, OWNER_B, g1), -ENOENT);
	KUNIT_EXPECT_EQ(test, labyrinth_release_gen(lab, a, OWNER_B, g2), -EPERM);
	KUNIT_EXPECT_EQ(test, labyrinth_release_gen(lab, a, OWNER_A, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(labyrinth_detach_gen(lab, a, OWNER_A, 0)),
			-EINVAL);
	KUNIT_EXPECT_PTR_EQ(test, labyrinth_owner(lab, b), OWNER_A);
	KUNIT_EXPECT_EQ(test, lt_stats(lab).bad_calls, 6);
	KUNIT_EXPECT_EQ(test, labyrinth_release_gen(lab, b, OWNER_A, g2), 0);
	KUNIT_EXPECT_EQ(test, labyrinth_release_gen(lab, b, OWNER_A, g2), -ENOENT);

	/* The owner token alone cannot tell: the stale release frees c. */
	a = labyrinth_claim(lab, OWNER_A);
	KUNIT_EXPECT_EQ(test, labyrinth_release(lab, a, OWNER_A), 0);
	c = labyrinth_claim(lab, OWNER_A);
	KUNIT_ASSERT_PTR_EQ(test, c, a);
	KUNIT_EXPECT_EQ(test, labyrinth_release(lab, a, OWNER_A), 0);
	KUNIT_EXPECT_EQ(test, lt_stats(lab).rooms_owned, 0);
	/* ... unless each claim has its own token */
	c = labyrinth_claim(lab, OWNER_B);
	KUNIT_ASSERT_PTR_EQ(test, c, a);
	KUNIT_EXPECT_EQ(test, labyrinth_release(lab, a, OWNER_A), -EPERM);
	KUNIT_EXPECT_EQ(test, labyrinth_release(lab, c, OWNER_B), 0);
}

/*
 * The generation of a claim made by the walk (the entrance owned, and the
 * cursor and the room after it) and of a detached one: each names its
 * claim of its room, and a repeated release or detach is refused. The
 * walk takes the first free room in ring order from its entrance, each
 * owned room before it that the map offered counted as a collision.
 */
static void claim_gen_after_walk_and_detach(struct kunit *test)
{
	struct labyrinth *lab = lt_create(test, 3, 0, 1, 0, 0);
	unsigned int cpu, ia, ir = 3, i;
	struct labyrinth_stats s0;
	unsigned long ga, gb;
	struct page *page;
	void *a, *b, *addrs[3];

	lt_hold_refill(lab);
	a = labyrinth_claim_gen(lab, OWNER_A, 0, &ga);
	KUNIT_ASSERT_NOT_NULL(test, a);
	addrs[0] = a;
	for (i = 1; i < 3; i++) {
		addrs[i] = labyrinth_claim(lab, OWNER_A);
		KUNIT_ASSERT_NOT_NULL(test, addrs[i]);
	}
	/* free a room that is neither a nor the room after a in a's run */
	ia = labyrinth_room_index(lab, a);
	for (i = 1; i < 3 && ir == 3; i++) {
		if (labyrinth_room_index(lab, addrs[i]) != lab->rooms[ia].after)
			ir = labyrinth_room_index(lab, addrs[i]);
	}
	KUNIT_ASSERT_LT(test, ir, 3);
	KUNIT_ASSERT_EQ(test, labyrinth_release(lab, lab->rooms[ir].addr,
						OWNER_A), 0);
	labyrinth_mark_all_free(lab);	/* every owned room offered */
	for_each_possible_cpu(cpu)		/* enter at a: owned, so walk */
		labyrinth_set_entrance(lab, cpu, ia);
	s0 = lt_stats(lab);
	b = labyrinth_claim_gen(lab, OWNER_A, 0, &gb);
	KUNIT_ASSERT_PTR_EQ(test, b, lab->rooms[ir].addr);
	/* the owned rooms from a to it, in ring order */
	KUNIT_EXPECT_EQ(test, lt_stats(lab).collisions - s0.collisions,
			(ir + 3 - ia) % 3);
	for (i = 1; i < 3; i++) {
		if (addrs[i] != b)
			KUNIT_EXPECT_EQ(test, labyrinth_release(lab, addrs[i],
								OWNER_A), 0);
	}
	KUNIT_EXPECT_NE(test, gb, 0);
	KUNIT_EXPECT_EQ(test, labyrinth_release_gen(lab, b, OWNER_A, gb), 0);
	KUNIT_EXPECT_EQ(test, labyrinth_release_gen(lab, b, OWNER_A, gb), -ENOENT);
	page = labyrinth_detach_gen(lab, a, OWNER_A, ga);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, page);
	KUNIT_EXPECT_EQ(test, PTR_ERR(labyrinth_detach_gen(lab, a, OWNER_A, ga)),
			-ENOENT);
	KUNIT_EXPECT_EQ(test, labyrinth_release_gen(lab, a, OWNER_A, ga), -ENOENT);
	__free_pages(page, 0);
}

/*
 * A generation names its room (on 64-bit kernels it carries the room's
 * index): released in another order than claimed, each claim is let go
 * by its own; one claim's generation with another's address, or a forged
 * one, is refused with -ENOENT and lets go of nothing.
 */
static void release_gen_names_its_room(struct kunit *test)
{
	struct labyrinth *lab = lt_create(test, 4, 0, 1, 0, 0);
	unsigned long ga, gb, gc;
	void *a, *b, *c;

	a = labyrinth_claim_gen(lab, OWNER_A, 0, &ga);
	b = labyrinth_claim_gen(lab, OWNER_A, 0, &gb);
	c = labyrinth_claim_gen(lab, OWNER_A, 0, &gc);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_EXPECT_EQ(test, labyrinth_release_gen(lab, a, OWNER_A, gb), -ENOENT);
	KUNIT_EXPECT_EQ(test, PTR_ERR(labyrinth_detach_gen(lab, b, OWNER_A, ga)),
			-ENOENT);
	KUNIT_EXPECT_EQ(test, labyrinth_release_gen(lab, a, OWNER_A, ~0UL), -ENOENT);
	KUNIT_EXPECT_EQ(test, labyrinth_release_gen(lab, a, OWNER_A,
						    ga ^ BIT(BITS_PER_LONG - 1)),
			-ENOENT);
	KUNIT_EXPECT_EQ(test, lt_stats(lab).bad_calls, 4);
	KUNIT_EXPECT_EQ(test, lt_stats(lab).rooms_owned, 3);
	/* the first claim first: not the room this CPU claimed last */
	KUNIT_EXPECT_EQ(test, labyrinth_release_gen(lab, a, OWNER_A, ga), 0);
	KUNIT_EXPECT_EQ(test, IS_ERR_OR_NULL(labyrinth_detach_gen(lab, b, OWNER_A,
								  gb)), false);
	KUNIT_EXPECT_EQ(test, labyrinth_release_gen(lab, c, OWNER_A, gc), 0);
	KUNIT_EXPECT_EQ(test, lt_stats(lab).rooms_owned, 0);
	KUNIT_EXPECT_EQ(test, lt_stats(lab).bad_calls, 4);
	__free_pages(virt_to_page(b), 0);
}

static const struct labyrinth_config lt_bad_configs[] = {
	{ .nr_rooms = 0 },
	{ .nr_rooms = 1, .order = MAX_PAGE_ORDER + 1 },
	{ .nr_rooms = 2, .doors = 3 },
	{ .nr_rooms = 64, .doors = LABYRINTH_MAX_DOORS + 1 },
	{ .nr_rooms = 4, .max_probe = 5 },
	{ .nr_rooms = 4, .flags = 1U << 7 },
	{ .nr_rooms = LABYRINTH_MAX_ROOMS + 1 },
	{ .nr_rooms = 4, .node = MAX_NUMNODES },
	{ .nr_rooms = 4, .node = -2 },
};

static void create_rejects_bad_config(struct kunit *test)
{
	unsigned int i;

	KUNIT_EXPECT_EQ(test, PTR_ERR(labyrinth_create(NULL)), -EINVAL);
	for (i = 0; i < ARRAY_SIZE(lt_bad_configs); i++)
		KUNIT_EXPECT_EQ_MSG(test, PTR_ERR(labyrinth_create(&lt_bad_configs[i])),
				    -EINVAL, "config %u", i);
	/* destroy of nothing is nothing */
	labyrinth_destroy(NULL);
	labyrinth_destroy(ERR_PTR(-EINVAL));
}

static const struct labyrinth_config lt_edge_configs[] = {
	{ .name = "one_room", .nr_rooms = 1 },
	{ .name = "one_door", .nr_rooms = 5, .doors = 1 },
	{ .name = "probe_one", .nr_rooms = 4, .max_probe = 1 },
	{ .name = "max_order", .nr_rooms = 1, .order = MAX_PAGE_ORDER },
	{ .name = "all_doors", .nr_rooms = LABYRINTH_MAX_DOORS,
	  .doors = LABYRINTH_MAX_DOORS, .max_probe = LABYRINTH_MAX_DOORS },
	{ .nr_rooms = 3, .flags = LABYRINTH_ZERO | LABYRINTH_POISON },
	{ .name = "spread", .nr_rooms = 3, .node = NUMA_NO_NODE },
};

static void create_accepts_edge_configs(struct kunit *test)
{
	const struct labyrinth_config *cfg;
	struct labyrinth *lab;
	unsigned int i;
	void *addr;

	for (i = 0; i < ARRAY_SIZE(lt_edge_configs); i++) {
		cfg = &lt_edge_configs[i];
		lab = labyrinth_create(cfg);
		KUNIT_ASSERT_NOT_ERR_OR_NULL_MSG(test, lab, "config %u", i);
		addr = labyrinth_claim(lab, OWNER_A);
		KUNIT_EXPECT_NOT_NULL_MSG(test, addr, "config %u", i);
		if (addr)
			memset(addr, 1, PAGE_SIZE << cfg->order);
		KUNIT_EXPECT_EQ(test, labyrinth_release(lab, addr, OWNER_A), 0);
		labyrinth_destroy(lab);
	}
}

/* ---- Allocation failures ---- */

/* Fail the Nth allocation labyrinth_create() makes (1-based); 0: none. */
struct lt_fault {
	struct kunit *test;
	unsigned int fail_at, calls;
};

static struct lt_fault lt_fault;

static bool lt_fault_now(void)
{
	return ++lt_fault.calls == lt_fault.fail_at;
}

static void *lt_alloc_lab_stub(size_t size)
{
	void *p;

	if (lt_fault_now())
		return NULL;
	kunit_deactivate_static_stub(lt_fault.test, labyrinth_alloc_lab);
	p = labyrinth_alloc_lab(size);
	kunit_activate_static_stub(lt_fault.test, labyrinth_alloc_lab,
				   lt_alloc_lab_stub);
	return p;
}

static struct labyrinth_pcpu __percpu *lt_alloc_pcpu_stub(void)
{
	struct labyrinth_pcpu __percpu *p;

	if (lt_fault_now())
		return NULL;
	kunit_deactivate_static_stub(lt_fault.test, labyrinth_alloc_pcpu);
	p = labyrinth_alloc_pcpu();
	kunit_activate_static_stub(lt_fault.test, labyrinth_alloc_pcpu,
				   lt_alloc_pcpu_stub);
	return p;
}

static struct page *lt_alloc_room_stub(struct labyrinth *lab, int nid,
				       gfp_t gfp)
{
	struct page *page;

	if (lt_fault_now())
		return NULL;
	kunit_deactivate_static_stub(lt_fault.test, labyrinth_alloc_room);
	page = labyrinth_alloc_room(lab, nid, gfp);
	kunit_activate_static_stub(lt_fault.test, labyrinth_alloc_room,
				   lt_alloc_room_stub);
	return page;
}

static void lt_inject_faults(struct kunit *test, unsigned int fail_at)
{
	lt_fault.test = test;
	lt_fault.fail_at = fail_at;
	lt_fault.calls = 0;
	kunit_activate_static_stub(test, labyrinth_alloc_lab, lt_alloc_lab_stub);
	kunit_activate_static_stub(test, labyrinth_alloc_pcpu, lt_alloc_pcpu_stub);
	kunit_activate_static_stub(test, labyrinth_alloc_room, lt_alloc_room_stub);
}

/*
 * create's allocations before the rooms' pages: struct, per-CPU, rooms,
 * table, doors, void map, free map, word map
 */
#define LT_CREATE_PARTS		8

/* Each allocation of create fails in turn: -ENOMEM, every page back. */
static void create_fails_at_each_allocation(struct kunit *test)
{
	const struct labyrinth_config cfg = { .nr_rooms = 5, .order = 1 };
	long pages = labyrinth_pages_held();
	struct labyrinth *lab;
	unsigned int n;

	for (n = 1; n <= LT_CREATE_PARTS + cfg.nr_rooms; n++) {
		lt_inject_faults(test, n);
		lab = labyrinth_create(&cfg);
		KUNIT_EXPECT_EQ_MSG(test, PTR_ERR(lab), -ENOMEM, "failing %u", n);
		KUNIT_EXPECT_EQ_MSG(test, labyrinth_pages_held(), pages,
				    "failing %u", n);
		if (!IS_ERR(lab))
			labyrinth_destroy(lab);
	}
	/* Past the last allocation nothing fails: create works. */
	lt_inject_faults(test, n);
	lab = labyrinth_create(&cfg);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, lab);
	KUNIT_EXPECT_EQ(test, lt_fault.calls, LT_CREATE_PARTS + cfg.nr_rooms);
	KUNIT_EXPECT_EQ(test, labyrinth_pages_held(), pages + 5 * 2);
	labyrinth_destroy(lab);
	KUNIT_EXPECT_EQ(test, labyrinth_pages_held(), pages);
}

static struct page *lt_alloc_fail_stub(struct labyrinth *lab, int nid,
				       gfp_t gfp)
{
	return NULL;
}

static struct page *lt_nolock_fail_hook(struct labyrinth *lab, int nid)
{
	return NULL;
}

/* The refill runs while the claim's fill has the room BUSY; then it fails. */
static struct labyrinth *lt_meanwhile_lab;

static struct page *lt_refill_meanwhile_stub(struct labyrinth *lab, int nid,
					     gfp_t gfp)
{
	if (lab == lt_meanwhile_lab) {
		lt_meanwhile_lab = NULL;
		labyrinth_run_refill(lab);	/* sees BUSY, takes the bit */
	}
	return NULL;
}

/*
 * A GFP_KERNEL claim that enters at room @ia on every CPU (a void room, met
 * first) while alloc_pages_nolock() fails.
 */
static void *lt_claim_at_void(struct labyrinth *lab, unsigned int ia)
{
	unsigned int cpu;
	void *addr;

	labyrinth_set_nolock_hook(lab, lt_nolock_fail_hook);
	for_each_possible_cpu(cpu)
		labyrinth_set_entrance(lab, cpu, ia);
	addr = labyrinth_claim_gfp(lab, OWNER_A, GFP_KERNEL);
	labyrinth_set_nolock_hook(lab, NULL);
	return addr;
}

/*
 * A claim's fill that fails leaves its room void and marked for the
 * deferred refill, even when a refill pass met the room BUSY meanwhile
 * (and took its bit): else the room would never be refilled.
 */
static void claim_fill_failure_keeps_room_marked_void(struct kunit *test)
{
	struct labyrinth *lab = lt_create(test, 2, 0, 1, 0, 0);
	unsigned int ia;
	struct page *page;
	void *a, *b, *c;

	lt_hold_refill(lab);
	a = labyrinth_claim(lab, OWNER_A);
	b = labyrinth_claim(lab, OWNER_A);
	KUNIT_ASSERT_NOT_NULL(test, b);
	ia = labyrinth_room_index(lab, a);
	page = labyrinth_detach(lab, a, OWNER_A);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, page);
	__free_pages(page, 0);
	KUNIT_ASSERT_EQ(test, labyrinth_release(lab, b, OWNER_A), 0);
	KUNIT_ASSERT_EQ(test, labyrinth_void_marked(lab), 1);

	lt_meanwhile_lab = lab;
	kunit_activate_static_stub(test, labyrinth_alloc_room,
				   lt_refill_meanwhile_stub);
	c = lt_claim_at_void(lab, ia);
	kunit_deactivate_static_stub(test, labyrinth_alloc_room);
	KUNIT_EXPECT_PTR_EQ(test, c, b);
	KUNIT_EXPECT_NULL(test, lt_meanwhile_lab);	/* the refill ran */
	KUNIT_EXPECT_EQ(test, lt_stats(lab).rooms_void, 1);
	KUNIT_EXPECT_EQ(test, labyrinth_void_marked(lab), 1);

	labyrinth_run_refill(lab);		/* finds the room by its bit */
	KUNIT_EXPECT_EQ(test, lt_stats(lab).rooms_void, 0);
	KUNIT_EXPECT_EQ(test, labyrinth_void_marked(lab), 0);
	if (c)
		labyrinth_release(lab, c, OWNER_A);
}

/* Detach the room at @addr, free its page, and make it every CPU's entrance. */
static void lt_void_entrance(struct kunit *test, struct labyrinth *lab,
			     void *addr)
{
	unsigned int cpu, idx = labyrinth_room_index(lab, addr);
	struct page *page = labyrinth_detach(lab, addr, OWNER_A);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, page);
	__free_pages(page, 0);
	for_each_possible_cpu(cpu)
		labyrinth_set_entrance(lab, cpu, idx);
}

/*
 * A void entrance that the claim can fill (a network driver's ring: every
 * claim meets the room it detached a ring ago) is filled and taken in one
 * visit, no collision - as the walk would, which labyrinth_claim_walk()
 * now skips for it (the benchmark's lab_rx_detach measures that). If the
 * fill fails, the walk goes on from it and does not visit it again: one
 * collision, then the next room.
 */
static void claim_fills_void_entrance_once(struct kunit *test)
{
	struct labyrinth *lab = lt_create(test, 4, 0, 1, 0, 0);
	struct labyrinth_stats s0, s;
	void *a, *b, *c;
	unsigned int ia;

	lt_hold_refill(lab);
	a = labyrinth_claim(lab, OWNER_A);
	KUNIT_ASSERT_NOT_NULL(test, a);
	ia = labyrinth_room_index(lab, a);
	lt_void_entrance(test, lab, a);
	s0 = lt_stats(lab);
	b = labyrinth_claim_gfp(lab, OWNER_A, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_EXPECT_EQ(test, labyrinth_room_index(lab, b), ia);
	s = lt_stats(lab);
	KUNIT_EXPECT_EQ(test, s.collisions - s0.collisions, 0);
	KUNIT_EXPECT_EQ(test, s.refills_gfp - s0.refills_gfp, 1);
	KUNIT_EXPECT_EQ(test, s.rooms_void, 0);

	/* again, and this time both allocators fail */
	lt_void_entrance(test, lab, b);
	kunit_activate_static_stub(test, labyrinth_alloc_room, lt_alloc_fail_stub);
	labyrinth_set_nolock_hook(lab, lt_nolock_fail_hook);
	s0 = lt_stats(lab);
	c = labyrinth_claim_gfp(lab, OWNER_A, GFP_KERNEL);
	KUNIT_EXPECT_NOT_NULL(test, c);
	KUNIT_EXPECT_NE(test, labyrinth_room_index(lab, c), ia);
	s = lt_stats(lab);
	KUNIT_EXPECT_EQ(test, s.collisions - s0.collisions, 1);
	KUNIT_EXPECT_EQ(test, s.refill_failures - s0.refill_failures, 1);
	KUNIT_EXPECT_EQ(test, s.rooms_void, 1);
	kunit_deactivate_static_stub(test, labyrinth_alloc_room);
	labyrinth_set_nolock_hook(lab, NULL);
	if (c)
		labyrinth_release(lab, c, OWNER_A);
}

/* ---- Bulk claims ---- */

/* labyrinth_alloc_bulk()'s stand-in: counts calls, gives lt_bulk_give pages. */
static unsigned int lt_bulk_calls, lt_bulk_asked, lt_bulk_give;

static unsigned int lt_alloc_bulk_stub(struct labyrinth *lab, int nid,
				       gfp_t gfp, unsigned int nr,
				       struct page **pages)
{
	unsigned int i;

	lt_bulk_calls++;
	lt_bulk_asked += nr;
	for (i = 0; i < min(nr, lt_bulk_give); i++) {
		pages[i] = alloc_page(gfp);
		if (!pages[i])
			break;
	}
	return i;
}

static void lt_bulk_stub(struct kunit *test, unsigned int give)
{
	lt_bulk_calls = 0;
	lt_bulk_asked = 0;
	lt_bulk_give = give;
	kunit_activate_static_stub(test, labyrinth_alloc_bulk, lt_alloc_bulk_stub);
}

/*
 * A bulk claim takes this CPU's rooms in turn from its entrance, 16 at a
 * time, each once: 5 + 35 claims take this CPU's run of 40 rooms, in
 * order, without a collision. Each room is claimed in full: owned, its
 * generation current.
 */
static void claim_bulk_takes_rooms_in_turn(struct kunit *test)
{
	/* 40 rooms in every CPU's run */
	unsigned int rooms = 40 * num_possible_cpus(), i, n, e, cpu;
	struct labyrinth *lab = lt_create(test, rooms, 0, 1, 0, 0);
	unsigned long *gens = kunit_kcalloc(test, 41, sizeof(*gens), GFP_KERNEL);
	void **addrs = kunit_kcalloc(test, 41, sizeof(*addrs), GFP_KERNEL);
	struct labyrinth_stats s;

	KUNIT_ASSERT_NOT_NULL(test, gens);
	KUNIT_ASSERT_NOT_NULL(test, addrs);
	migrate_disable();
	cpu = smp_processor_id();
	e = labyrinth_entrance(lab, cpu);
	n = labyrinth_claim_bulk(lab, OWNER_A, 0, 5, addrs, gens);
	n += labyrinth_claim_bulk(lab, OWNER_A, 0, 35, addrs + n, gens + n);
	migrate_enable();
	KUNIT_ASSERT_EQ(test, n, 40);
	KUNIT_EXPECT_NULL(test, addrs[40]);	/* not written */
	s = lt_stats(lab);
	KUNIT_EXPECT_EQ(test, s.claims, 40);
	KUNIT_EXPECT_EQ(test, s.rooms_owned, 40);
	KUNIT_EXPECT_EQ(test, s.collisions, 0);
	for (i = 0; i < n; i++) {
		unsigned int idx = labyrinth_room_index(lab, addrs[i]);

		KUNIT_EXPECT_EQ(test, idx, e + i);
		KUNIT_EXPECT_EQ(test, lab->rooms[idx].home, cpu);
		KUNIT_EXPECT_PTR_EQ(test, labyrinth_owner(lab, addrs[i]), OWNER_A);
	}
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ(test, labyrinth_release_gen(lab, addrs[i],
							    OWNER_A, gens[i]), 0);
	/* a generation is one claim's: the release of an ended one fails */
	KUNIT_EXPECT_EQ(test, labyrinth_release_gen(lab, addrs[0], OWNER_A,
						    gens[0]), -ENOENT);
	KUNIT_EXPECT_EQ(test, lt_stats(lab).bad_calls, 1);
}

/*
 * Detach OWNER_A's rooms @addrs[0..@n) and free their pages, their
 * indices noted in @idx first: the addresses are rooms' no more.
 */
static void lt_detach_noting(struct labyrinth *lab, void **addrs,
			     unsigned int n, unsigned int *idx)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		idx[i] = labyrinth_room_index(lab, addrs[i]);
		__free_pages(labyrinth_detach(lab, addrs[i], OWNER_A), 0);
	}
}

/*
 * From this CPU's entrance set to @e, a bulk claim of 4 rooms into @out
 * with GFP_KERNEL, the bulk allocator giving @give pages; the stats before
 * and after in @s[0] and @s[1]. With migration disabled.
 */
static unsigned int lt_bulk_from(struct kunit *test, struct labyrinth *lab,
				 unsigned int e, unsigned int give, void **out,
				 struct labyrinth_stats *s)
{
	unsigned int n;

	labyrinth_set_entrance(lab, smp_processor_id(), e);
	lt_bulk_stub(test, give);
	s[0] = lt_stats(lab);
	n = labyrinth_claim_bulk(lab, OWNER_A, GFP_KERNEL, 4, out, NULL);
	s[1] = lt_stats(lab);
	return n;
}

/*
 * The void rooms of a bulk claim's run are filled together: one call to
 * the bulk allocator for all four, each taken, no collision, no walk. If
 * it gives only two pages (as near a low watermark), those two rooms are
 * taken and the other two filled one by one with the caller's gfp, by
 * the claims that meet them: no failure, no further bulk call, no walk.
 */
static void claim_bulk_fills_void_rooms_at_once(struct kunit *test)
{
	/* 8 rooms in every CPU's run */
	struct labyrinth *lab = lt_create(test, 8 * num_possible_cpus(), 0, 1,
					  0, 0);
	unsigned int i, n1, n2, n3, e, calls2, asked2, calls3, i1[4], i2[4];
	struct labyrinth_stats s0[2], s2[2];
	void *addrs[4], *more[4], *last[4];

	lt_hold_refill(lab);
	labyrinth_set_nolock_hook(lab, lt_nolock_fail_hook);
	migrate_disable();
	e = labyrinth_entrance(lab, smp_processor_id());
	n1 = labyrinth_claim_bulk(lab, OWNER_A, 0, 4, addrs, NULL);
	lt_detach_noting(lab, addrs, n1, i1);
	n2 = lt_bulk_from(test, lab, e, 4, more, s0);
	calls2 = lt_bulk_calls;
	asked2 = lt_bulk_asked;
	lt_detach_noting(lab, more, n2, i2);
	/* again, and the allocator gives two pages of four */
	n3 = lt_bulk_from(test, lab, e, 2, last, s2);
	calls3 = lt_bulk_calls;
	migrate_enable();
	kunit_deactivate_static_stub(test, labyrinth_alloc_bulk);
	labyrinth_set_nolock_hook(lab, NULL);

	KUNIT_ASSERT_EQ(test, n1, 4);
	KUNIT_ASSERT_EQ(test, n2, 4);
	KUNIT_EXPECT_EQ(test, calls2, 1);
	KUNIT_EXPECT_EQ(test, asked2, 4);
	KUNIT_EXPECT_EQ(test, s0[1].refills_gfp - s0[0].refills_gfp, 4);
	KUNIT_EXPECT_EQ(test, s0[1].collisions - s0[0].collisions, 0);
	KUNIT_EXPECT_EQ(test, s0[1].rooms_void, 0);
	for (i = 0; i < 4; i++) {
		KUNIT_EXPECT_EQ(test, i1[i], e + i);
		KUNIT_EXPECT_EQ(test, i2[i], e + i);
	}

	KUNIT_ASSERT_EQ(test, n3, 4);
	KUNIT_EXPECT_EQ(test, calls3, 1);
	KUNIT_EXPECT_EQ(test, s2[1].refills_gfp - s2[0].refills_gfp, 4);
	KUNIT_EXPECT_EQ(test, s2[1].refill_failures - s2[0].refill_failures, 0);
	KUNIT_EXPECT_EQ(test, s2[1].rooms_void, 0);
	KUNIT_EXPECT_EQ(test, s2[1].rooms_owned, 4);
	KUNIT_EXPECT_EQ(test, s2[1].collisions - s2[0].collisions, 0);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ(test, labyrinth_room_index(lab, last[i]), e + i);
	lt_release_all(test, lab, 4, OWNER_A, last);
	labyrinth_flush_refill(lab);
	KUNIT_EXPECT_EQ(test, lt_stats(lab).rooms_void, 0);
}

/*
 * A bulk claim asks the bulk allocator for the void rooms of its CPU's
 * run once each: with the whole run void and twice its rooms asked for,
 * the look stops where the run wraps (8 pages asked, not 16), and the
 * rest come from other CPUs' runs.
 */
static void claim_bulk_asks_once_per_void_room(struct kunit *test)
{
	unsigned int cpus = num_possible_cpus(), n, e, i, idx[8];
	/* 8 rooms in every CPU's run */
	struct labyrinth *lab = lt_create(test, 8 * cpus, 0, 1, 0, 0);
	unsigned int want = min(16U, 8 * cpus);
	void *addrs[16];

	lt_hold_refill(lab);
	migrate_disable();
	e = labyrinth_entrance(lab, smp_processor_id());
	n = labyrinth_claim_bulk(lab, OWNER_A, 0, 8, addrs, NULL);
	if (n == 8)
		lt_detach_noting(lab, addrs, n, idx);
	labyrinth_set_entrance(lab, smp_processor_id(), e);
	lt_bulk_stub(test, 16);
	if (n == 8)
		n = labyrinth_claim_bulk(lab, OWNER_A, GFP_KERNEL, want, addrs,
					 NULL);
	migrate_enable();
	kunit_deactivate_static_stub(test, labyrinth_alloc_bulk);
	KUNIT_ASSERT_EQ(test, n, want);
	KUNIT_EXPECT_EQ(test, lt_bulk_calls, 1);
	KUNIT_EXPECT_EQ(test, lt_bulk_asked, 8);
	for (i = 0; i < 8; i++)
		KUNIT_EXPECT_EQ(test, labyrinth_room_index(lab, addrs[i]), e + i);
	KUNIT_EXPECT_EQ(test, lt_stats(lab).refills_gfp, 8);
	lt_release_all(test, lab, n, OWNER_A, addrs);
}

/*
 * Bad calls get 0 and are counted: no owner, no array; nr 0 is no call
 * at all; a gfp with bits a claim does not take is counted and the claim
 * goes on without them.
 */
static void claim_bulk_refuses_bad_calls(struct kunit *test)
{
	struct labyrinth *lab = lt_create(test, 4, 0, 1, 0, 0);
	void *addrs[2];

	KUNIT_EXPECT_EQ(test, labyrinth_claim_bulk(NULL, OWNER_A, 0, 2, addrs,
						   NULL), 0);
	KUNIT_EXPECT_EQ(test, labyrinth_claim_bulk(ERR_PTR(-ENOMEM), OWNER_A,
						   0, 2, addrs, NULL), 0);
	KUNIT_EXPECT_EQ(test, labyrinth_claim_bulk(lab, NULL, 0, 2, addrs,
						   NULL), 0);
	KUNIT_EXPECT_EQ(test, labyrinth_claim_bulk(lab, OWNER_A, 0, 2, NULL,
						   NULL), 0);
	KUNIT_EXPECT_EQ(test, lt_stats(lab).bad_calls, 2);
	KUNIT_EXPECT_EQ(test, labyrinth_claim_bulk(lab, OWNER_A, 0, 0, NULL,
						   NULL), 0);
	KUNIT_EXPECT_EQ(test, lt_stats(lab).bad_calls, 2);
	KUNIT_EXPECT_EQ(test, labyrinth_claim_bulk(lab, OWNER_A,
						   GFP_KERNEL | __GFP_HIGHMEM,
						   2, addrs, NULL), 2);
	KUNIT_EXPECT_EQ(test, lt_stats(lab).bad_calls, 3);
	KUNIT_EXPECT_EQ(test, lt_stats(lab).claims, 2);
	lt_release_all(test, lab, 2, OWNER_A, addrs);
}

/*
 * A void entrance whose lock is held (another CPU fills it) is passed by:
 * the walk goes on from it without trying it again - one collision - and
 * the room stays void.
 */
static void claim_passes_locked_void_entrance_once(struct kunit *test)
{
	struct labyrinth *lab = lt_create(test, 4, 0, 1, 0, 0);
	struct labyrinth_stats s0, s;
	raw_spinlock_t *lock;
	unsigned long flags;
	unsigned int ia;
	void *a, *b;

	lt_need_trylock_failures(test);
	lt_hold_refill(lab);
	a = labyrinth_claim(lab, OWNER_A);
	KUNIT_ASSERT_NOT_NULL(test, a);
	ia = labyrinth_room_index(lab, a);
	lt_void_entrance(test, lab, a);
	lock = labyrinth_room_lock(lab, ia);
	local_irq_save(flags);		/* no assertion until restored */
	raw_spin_lock(lock);
	s0 = lt_stats(lab);
	b = labyrinth_claim_gfp(lab, OWNER_A, GFP_ATOMIC);
	s = lt_stats(lab);
	raw_spin_unlock(lock);
	local_irq_restore(flags);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_EXPECT_NE(test, labyrinth_room_index(lab, b), ia);
	KUNIT_EXPECT_EQ(test, s.collisions - s0.collisions, 1);
	KUNIT_EXPECT_EQ(test, s.rooms_void, 1);
	labyrinth_release(lab, b, OWNER_A);
}

/*
 * A failed refill leaves the room void, the claim moves on; it recovers.
 * The claims may sleep (GFP_KERNEL), so they fill on the spot; both
 * allocators fail.
 */
static void claim_refill_failure_leaves_room_void(struct kunit *test)
{
	struct labyrinth *lab = lt_create(test, 2, 0, 1, 0, 0);
	struct labyrinth_stats s;
	unsigned int cpu, ia;
	void *a, *b, *c;
	struct page *page;

	lt_hold_refill(lab);
	a = labyrinth_claim(lab, OWNER_A);
	b = labyrinth_claim(lab, OWNER_A);
	KUNIT_ASSERT_NOT_NULL(test, b);
	ia = labyrinth_room_index(lab, a);
	page = labyrinth_detach(lab, a, OWNER_A);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, page);
	KUNIT_ASSERT_EQ(test, labyrinth_release(lab, b, OWNER_A), 0);

	kunit_activate_static_stub(test, labyrinth_alloc_room, lt_alloc_fail_stub);
	labyrinth_set_nolock_hook(lab, lt_nolock_fail_hook);
	for_each_possible_cpu(cpu)		/* meet the void room first */
		labyrinth_set_entrance(lab, cpu, ia);
	c = labyrinth_claim_gfp(lab, OWNER_A, GFP_KERNEL); /* void fails, b taken */
	KUNIT_EXPECT_PTR_EQ(test, c, b);
	s = lt_stats(lab);
	KUNIT_EXPECT_EQ(test, s.refill_failures, 1);
	KUNIT_EXPECT_EQ(test, s.rooms_void, 1);
	KUNIT_EXPECT_TRUE(test, labyrinth_refill_pending(lab));	/* it will retry */
	KUNIT_EXPECT_NULL(test, labyrinth_claim_gfp(lab, OWNER_A, GFP_KERNEL));
	s = lt_stats(lab);
	KUNIT_EXPECT_EQ(test, s.refill_failures, 2);
	KUNIT_EXPECT_EQ(test, s.fail_full, 1);

	kunit_deactivate_static_stub(test, labyrinth_alloc_room);
	labyrinth_set_nolock_hook(lab, NULL);
	a = labyrinth_claim_gfp(lab, OWNER_A, GFP_KERNEL);
	KUNIT_EXPECT_NOT_NULL(test, a);
	s = lt_stats(lab);
	KUNIT_EXPECT_EQ(test, s.refills, 1);
	KUNIT_EXPECT_EQ(test, s.rooms_void, 0);
	labyrinth_release(lab, a, OWNER_A);
	labyrinth_release(lab, c, OWNER_A);
	__free_pages(page, 0);
}

/*
 * Whether labyrinth_claim() fills a void room on the spot in @ctx: where
 * the kernel has alloc_pages_nolock(), except in hard irq on PREEMPT_RT.
 */
static bool lt_nolock_fills(enum lt_ctx ctx)
{
#ifdef LABYRINTH_HAVE_ALLOC_PAGES_NOLOCK
	return !(IS_ENABLED(CONFIG_PREEMPT_RT) &&
		 (ctx == LT_HARDIRQ || ctx == LT_NMI));
#else
	return false;
#endif
}

/* Whether labyrinth_claim() tries alloc_pages_nolock() at all (it may fail). */
static bool lt_nolock_tried(void)
{
#ifdef LABYRINTH_HAVE_ALLOC_PAGES_NOLOCK
	return true;
#else
	return false;
#endif
}

/* Wait up to @ms for @lab's void rooms to be refilled; true if they were. */
static bool lt_wait_refilled(struct labyrinth *lab, unsigned int ms)
{
	for (; ms >= 20; ms -= 20) {
		if (!lt_stats(lab).rooms_void)
			return true;
		msleep(20);
	}
	return !lt_stats(lab).rooms_void;
}

/* The claim's fill has the room BUSY: another claim walks past it. */
static void *lt_meanwhile_claim;

static struct page *lt_claim_meanwhile_stub(struct labyrinth *lab, int nid,
					    gfp_t gfp)
{
	if (lab == lt_meanwhile_lab) {
		lt_meanwhile_lab = NULL;
		/* sees the room BUSY, clears its free bit, finds none */
		lt_meanwhile_claim = labyrinth_claim(lab, OWNER_B);
	}
	return NULL;
}

/*
 * A void room whose fill failed gets back the free-map bit that a walk
 * took while the room was BUSY, where every claim can fill a void room
 * (alloc_pages_nolock()): the next claim on this CPU, whose last walk
 * found nothing and which looks at the free map before it walks, fills
 * and takes it. Without the bit it would fail as if the labyrinth were
 * full. Where claims cannot fill (no alloc_pages_nolock()) it fails.
 */
static void claim_fill_failure_gives_the_free_bit_back(struct kunit *test)
{
	struct labyrinth *lab = lt_create(test, 2, 0, 1, 0, 0);
	unsigned int ia;
	struct page *page;
	void *a, *b, *c, *d;

	lt_hold_refill(lab);
	migrate_disable();	/* one CPU: its last walk found nothing */
	a = labyrinth_claim(lab, OWNER_A);
	b = labyrinth_claim(lab, OWNER_A);
	ia = a ? labyrinth_room_index(lab, a) : 0;
	page = a && b ? labyrinth_detach(lab, a, OWNER_A) : NULL;
	if (!IS_ERR_OR_NULL(page))
		__free_pages(page, 0);

	lt_meanwhile_lab = lab;
	lt_meanwhile_claim = NULL;
	kunit_activate_static_stub(test, labyrinth_alloc_room,
				   lt_claim_meanwhile_stub);
	c = lt_claim_at_void(lab, ia);
	kunit_deactivate_static_stub(test, labyrinth_alloc_room);
	d = labyrinth_claim(lab, OWNER_A);
	migrate_enable();

	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(page));
	KUNIT_EXPECT_NULL(test, lt_meanwhile_lab);	/* the claim ran */
	KUNIT_EXPECT_NULL(test, lt_meanwhile_claim);
	KUNIT_EXPECT_NULL(test, c);			/* its fill failed */
	if (lt_nolock_fills(LT_TASK)) {
		KUNIT_ASSERT_NOT_NULL(test, d);
		KUNIT_EXPECT_EQ(test, labyrinth_room_index(lab, d), ia);
	} else {
		KUNIT_EXPECT_NULL(test, d);
	}
	if (d)
		KUNIT_EXPECT_EQ(test, labyrinth_release(lab, d, OWNER_A), 0);
	KUNIT_EXPECT_EQ(test, labyrinth_release(lab, b, OWNER_A), 0);
}

/*
 * A deferred refill that failed retries after refill_delay: claims that
 * pass the void room meanwhile do not bring it forward (the allocator is
 * not hammered). Once it works, a passed void room is refilled at once.
 * Order 4: beyond alloc_pages_nolock(), so claims pass void rooms.
 */
static void failing_refill_backs_off(struct kunit *test)
{
	struct labyrinth *lab = lt_create(test, 2, 4, 0, 0, 0);
	unsigned int ia, cpu;
	struct page *page;
	void *a, *b;

	lab->refill_delay = 3600 * HZ;	/* the retry: not within this test */
	a = labyrinth_claim(lab, OWNER_A);
	KUNIT_ASSERT_NOT_NULL(test, a);
	ia = labyrinth_room_index(lab, a);
	page = labyrinth_detach(lab, a, OWNER_A);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, page);
	__free_pages(page, 4);

	kunit_activate_static_stub(test, labyrinth_alloc_room, lt_alloc_fail_stub);
	labyrinth_run_refill(lab);		/* here, where the stub applies: fails */
	KUNIT_EXPECT_EQ(test, lt_stats(lab).refill_failures, 1);
	for_each_possible_cpu(cpu)
		labyrinth_set_entrance(lab, cpu, ia);
	b = labyrinth_claim(lab, OWNER_A);		/* passes the void room */
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_EXPECT_TRUE(test, labyrinth_refill_pending(lab));
	msleep(100);
	KUNIT_EXPECT_EQ(test, lt_stats(lab).refill_failures, 1);	/* not rerun */

	kunit_deactivate_static_stub(test, labyrinth_alloc_room);
	labyrinth_flush_refill(lab);			/* works: no longer failing */
	KUNIT_EXPECT_EQ(test, lt_stats(lab).rooms_void, 0);
	page = labyrinth_detach(lab, b, OWNER_A);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, page);
	__free_pages(page, 4);
	for_each_possible_cpu(cpu)
		labyrinth_set_entrance(lab, cpu, labyrinth_room_index(lab, b));
	a = labyrinth_claim(lab, OWNER_A);		/* passes it: refill now */
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_EXPECT_TRUE(test, lt_wait_refilled(lab, 2000));
	KUNIT_EXPECT_EQ(test, labyrinth_release(lab, a, OWNER_A), 0);
}

/* Failed passes of the refill: past the cap of its backoff (2^6). */
#define LT_BACKOFF_PASSES	8

static unsigned int lt_fills_tried;

static struct page *lt_alloc_count_fail_stub(struct labyrinth *lab, int nid,
					     gfp_t gfp)
{
	lt_fills_tried++;
	return NULL;
}

/*
 * A deferred refill whose allocation fails stops its pass there instead of
 * trying every void room, and retries later and later: refill_delay, then
 * twice that with each pass that fails again, capped at 64 times. A pass
 * that fills every void room ends the backoff. It finds the void rooms by
 * their bits: one per void room, none left once they are filled. Order 4:
 * beyond alloc_pages_nolock(), so no claim fills a room meanwhile.
 */
static void refill_stops_at_first_failure_and_backs_off(struct kunit *test)
{
	struct labyrinth *lab = lt_create(test, 6, 4, 0, 0, 0);
	unsigned long base, want;
	unsigned int i, pass;
	struct page *page;
	void *addrs[3];

	lt_hold_refill(lab);
	base = lab->refill_delay;
	for (i = 0; i < ARRAY_SIZE(addrs); i++) {
		addrs[i] = labyrinth_claim(lab, OWNER_A);
		KUNIT_ASSERT_NOT_NULL(test, addrs[i]);
	}
	for (i = 0; i < ARRAY_SIZE(addrs); i++) {
		page = labyrinth_detach(lab, addrs[i], OWNER_A);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, page);
		__free_pages(page, 4);
	}
	KUNIT_EXPECT_EQ(test, lt_stats(lab).rooms_void, 3);
	KUNIT_EXPECT_EQ(test, labyrinth_void_marked(lab), 3);
	KUNIT_EXPECT_EQ(test, labyrinth_refill_backoff(lab), 0);

	lt_fills_tried = 0;
	kunit_activate_static_stub(test, labyrinth_alloc_room,
				   lt_alloc_count_fail_stub);
	for (pass = 1; pass <= LT_BACKOFF_PASSES; pass++) {
		labyrinth_run_refill(lab);
		/* one allocation a pass, not one per void room */
		KUNIT_EXPECT_EQ_MSG(test, lt_fills_tried, pass, "pass %u", pass);
		want = base << min(pass - 1, 6U);	/* doubled, capped */
		KUNIT_EXPECT_EQ_MSG(test, labyrinth_refill_backoff(lab), want,
				    "pass %u", pass);
	}
	KUNIT_EXPECT_EQ(test, lt_stats(lab).refill_failures,
			LT_BACKOFF_PASSES);
	KUNIT_EXPECT_EQ(test, labyrinth_void_marked(lab), 3);
	KUNIT_EXPECT_TRUE(test, labyrinth_refill_pending(lab));	/* the retry */

	kunit_deactivate_static_stub(test, labyrinth_alloc_room);
	labyrinth_run_refill(lab);
	KUNIT_EXPECT_EQ(test, lt_stats(lab).rooms_void, 0);
	KUNIT_EXPECT_EQ(test, lt_stats(lab).refills_deferred, 3);
	KUNIT_EXPECT_EQ(test, labyrinth_void_marked(lab), 0);
	KUNIT_EXPECT_EQ(test, labyrinth_refill_backoff(lab), 0);
	KUNIT_EXPECT_FALSE(test, labyrinth_refill_pending(lab));
}

/* Rooms of order > 0 are compound pages, whichever allocator filled them. */
static void rooms_are_compound_pages(struct kunit *test)
{
	struct labyrinth *lab = lt_create(test, 1, 2, 0, 0, 0);
	struct page *page;
	unsigned int round;
	void *addr;

	lt_hold_refill(lab);
	for (round = 0; round < 3; round++) {
		/* create; a claim with GFP_KERNEL; a claim with 0 (nolock) */
		addr = labyrinth_claim_gfp(lab, OWNER_A, round == 1 ? GFP_KERNEL : 0);
		if (!addr && round == 2) {
			KUNIT_EXPECT_FALSE(test, lt_nolock_fills(LT_TASK));
			break;
		}
		KUNIT_ASSERT_NOT_NULL_MSG(test, addr, "round %u", round);
		page = virt_to_page(addr);
		KUNIT_EXPECT_TRUE_MSG(test, PageHead(page), "round %u", round);
		KUNIT_EXPECT_EQ_MSG(test, compound_order(page), 2, "round %u", round);
		page = labyrinth_detach(lab, addr, OWNER_A);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, page);
		__free_pages(page, 2);
	}
}

/* What a driver passes to labyrinth_claim_gfp() in @ctx. */
static gfp_t lt_ctx_gfp(enum lt_ctx ctx)
{
	switch (ctx) {
	case LT_TASK:
		return GFP_KERNEL;
	case LT_SOFTIRQ:
		return GFP_ATOMIC;
	default:
		return 0;	/* hard irq, NMI, raw lock: nothing that spins */
	}
}

static void lt_claim_gfp_fn(struct lt_run *run)
{
	labyrinth_get_stats(run->lab, &run->before);
	run->addr = labyrinth_claim_gfp(run->lab, OWNER_B, run->gfp);
	labyrinth_get_stats(run->lab, &run->after);
}

/*
 * A void room, met by labyrinth_claim() (@gfp 0) or labyrinth_claim_gfp():
 * filled on the spot with the caller's gfp where it allows an allocation,
 * else with alloc_pages_nolock() where that works (lt_nolock_fills());
 * elsewhere the claim skips it and the deferred refill fills it.
 */
static void lt_void_room_case(struct kunit *test, enum lt_ctx ctx, gfp_t gfp)
{
	struct lt_run *run = lt_new_run(test, lt_claim_gfp_fn);
	bool by_gfp = gfp & __GFP_RECLAIM, spot = by_gfp || lt_nolock_fills(ctx);
	struct labyrinth_stats s;
	void *addr;

	run->lab = lt_create(test, 1, 0, 1, 0, 0);
	run->gfp = gfp;
	lt_hold_refill(run->lab);	/* no refill before the claim below */
	addr = labyrinth_claim(run->lab, OWNER_A);
	KUNIT_ASSERT_NOT_NULL(test, addr);
	run->page = labyrinth_detach(run->lab, addr, OWNER_A);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, run->page);

	lt_run_in(test, run, ctx);
	if (spot) {
		KUNIT_EXPECT_NOT_NULL(test, run->addr);
		KUNIT_EXPECT_EQ(test, run->after.refills_gfp, by_gfp);
		KUNIT_EXPECT_EQ(test, run->after.refills_nolock, !by_gfp);
		KUNIT_EXPECT_EQ(test, run->after.collisions, 0);
	} else {
		KUNIT_EXPECT_NULL(test, run->addr);
		KUNIT_EXPECT_EQ(test, run->after.refills, 0);
		/* PREEMPT_RT: alloc_pages_nolock() fails in hard irq and NMI */
		KUNIT_EXPECT_EQ(test, run->after.refill_failures, lt_nolock_tried());
		KUNIT_EXPECT_EQ(test, run->after.rooms_void, 1);
		KUNIT_EXPECT_EQ(test, run->after.collisions, 1);
		KUNIT_EXPECT_EQ(test, run->after.fail_full, 1);
	}
	labyrinth_flush_refill(run->lab);
	s = lt_stats(run->lab);
	KUNIT_EXPECT_EQ(test, s.rooms_void, 0);
	KUNIT_EXPECT_EQ(test, s.refills, 1);
	KUNIT_EXPECT_EQ(test, s.refills_deferred, !spot);
	if (run->addr)
		KUNIT_EXPECT_EQ(test, labyrinth_release(run->lab, run->addr,
							OWNER_B), 0);
	__free_pages(run->page, 0);
}

static void claim_meets_void_room_in_context(struct kunit *test)
{
	lt_void_room_case(test, *lt_ctx_of(test), 0);
}

static void claim_gfp_fills_void_room_in_context(struct kunit *test)
{
	const enum lt_ctx *ctx = lt_ctx_of(test);

	lt_void_room_case(test, *ctx, lt_ctx_gfp(*ctx));
}

/*
 * A bulk claim in every context, entering at two void rooms: it gets
 * every room asked for; the void rooms are filled with the context's gfp
 * where it allows an allocation, else left (or filled by
 * alloc_pages_nolock() where the claim meets them).
 */
static void lt_claim_bulk_fn(struct lt_run *run)
{
	void **addrs = (void **)run->codes;

	labyrinth_get_stats(run->lab, &run->before);
	run->nr_codes = labyrinth_claim_bulk(run->lab, OWNER_B, run->gfp, 4,
					     addrs, NULL);
	labyrinth_get_stats(run->lab, &run->after);
}

static void claim_bulk_in_context(struct kunit *test)
{
	const enum lt_ctx *ctx = lt_ctx_of(test);
	struct lt_run *run = lt_new_run(test, lt_claim_bulk_fn);
	void **addrs = (void **)run->codes, *first[2];
	unsigned int cpu, i, j, e, n;

	BUILD_BUG_ON(sizeof(run->codes) < 4 * sizeof(void *));
	/* 8 rooms in every CPU's run */
	run->lab = lt_create(test, 8 * num_possible_cpus(), 0, 1, 0, 0);
	run->gfp = lt_ctx_gfp(*ctx);
	lt_hold_refill(run->lab);
	/*
	 * One CPU throughout: the claim enters its own run at the two void
	 * rooms and fills them in bulk (a task that moved to another CPU
	 * would fill the first, then go back to its own run: a walk's
	 * claim of another's room sends its entrance home).
	 */
	migrate_disable();
	e = labyrinth_entrance(run->lab, smp_processor_id());
	n = labyrinth_claim_bulk(run->lab, OWNER_A, 0, 2, first, NULL);
	for (i = 0; i < n; i++)
		__free_pages(labyrinth_detach(run->lab, first[i], OWNER_A), 0);
	for_each_possible_cpu(cpu)
		labyrinth_set_entrance(run->lab, cpu, e);
	if (n == 2)
		lt_run_in(test, run, *ctx);
	migrate_enable();
	KUNIT_ASSERT_EQ(test, n, 2);
	KUNIT_ASSERT_EQ(test, run->nr_codes, 4);
	for (i = 0; i < 4; i++) {
		KUNIT_EXPECT_PTR_EQ(test, labyrinth_owner(run->lab, addrs[i]),
				    OWNER_B);
		for (j = 0; j < i; j++)
			KUNIT_EXPECT_PTR_NE(test, addrs[i], addrs[j]);
	}
	if (run->gfp & __GFP_RECLAIM)
		KUNIT_EXPECT_EQ(test, run->after.refills_gfp -
				run->before.refills_gfp, 2);
	else
		KUNIT_EXPECT_EQ(test, run->after.refills_gfp, 0);
	KUNIT_EXPECT_EQ(test, run->after.claims - run->before.claims, 4);
	KUNIT_EXPECT_EQ(test, run->after.bad_calls, 0);
	lt_release_all(test, run->lab, 4, OWNER_B, addrs);
}

/* ---- Helpers of the stress cases ---- */

/* Write a canary (@seed ^ word index) over a whole order-0 room, check it. */
static bool lt_canary_ok(unsigned long *words, unsigned long seed)
{
	const unsigned long n = PAGE_SIZE / sizeof(*words);
	unsigned long i;

	for (i = 0; i < n; i++)
		WRITE_ONCE(words[i], seed ^ i);
	for (i = 0; i < n; i++)
		if (READ_ONCE(words[i]) != (seed ^ i))
			return false;
	return true;
}

/*
 * Give a claimed room back: release it, or (@detach) detach it and keep
 * its page on @detached, for a task to free: page freeing is not for hard
 * irq on PREEMPT_RT. False if labyrinth refused the owner's own call.
 */
static bool lt_give_back(struct labyrinth *lab, void *words, const void *owner,
			 bool detach, struct llist_head *detached)
{
	if (!detach)
		return !labyrinth_release(lab, words, owner);
	if (IS_ERR(labyrinth_detach(lab, words, owner)))
		return false;
	llist_add((struct llist_node *)words, detached);
	return true;
}

static void lt_free_detached(struct llist_head *head)
{
	struct llist_node *node, *next;

	llist_for_each_safe(node, next, llist_del_all(head))
		__free_pages(virt_to_page(node), 0);
}

/* ---- Memory pressure: refills fail while claims run in hard irq ---- */

static unsigned int pressure_ms = 200;
module_param(pressure_ms, uint, 0444);
MODULE_PARM_DESC(pressure_ms, "how long each memory-pressure case runs (default 200)");

#define LT_PRESSURE_ROOMS	6
#define LT_PRESSURE_RESERVE	64
#define LT_PRESSURE_PERIOD_NS	(200 * NSEC_PER_USEC)

/*
 * A pressure case: its labyrinth, the hard-irq timer that claims from it,
 * and the allocator its claims fill void rooms with: a reserve of pages
 * handed out under a raw lock from any context (as alloc_pages_nolock()
 * would, on every kernel), failing fail_pct of every 100 fills. Detached
 * pages go back to the reserve.
 */
struct lt_pressure {
	struct labyrinth *lab;
	struct hrtimer timer;
	struct llist_head detached;	/* pages the timer detached */
	unsigned int fail_pct;
	bool stop;
	/* hard irq */
	unsigned long hard_claims, hard_fails, detaches, violations;
	/* the allocator, under its lock */
	raw_spinlock_t lock;
	struct page *reserve[LT_PRESSURE_RESERVE];
	unsigned int nr_reserve;
	unsigned long fills, fill_failures;
};

/* The allocation hook reaches its case through this. */
static struct lt_pressure *lt_pressure;

/* Fail exactly fail_pct of every 100 fills, spread evenly. */
static struct page *lt_pressure_alloc(struct labyrinth *lab, int nid)
{
	struct lt_pressure *p = lt_pressure;
	struct page *page = NULL;
	unsigned long flags, n;

	raw_spin_lock_irqsave(&p->lock, flags);
	n = ++p->fills;
	if (n * p->fail_pct / 100 != (n - 1) * p->fail_pct / 100 ||
	    !p->nr_reserve)
		p->fill_failures++;
	else
		page = p->reserve[--p->nr_reserve];
	raw_spin_unlock_irqrestore(&p->lock, flags);
	return page;
}

/* Detached pages back to the reserve; the rest freed. Task context. */
static void lt_pressure_recycle(struct lt_pressure *p)
{
	struct llist_node *node, *next;
	struct page *page;
	unsigned long flags;

	llist_for_each_safe(node, next, llist_del_all(&p->detached)) {
		page = virt_to_page(node);
		raw_spin_lock_irqsave(&p->lock, flags);
		if (p->nr_reserve < LT_PRESSURE_RESERVE) {
			p->reserve[p->nr_reserve++] = page;
			page = NULL;
		}
		raw_spin_unlock_irqrestore(&p->lock, flags);
		if (page)
			__free_pages(page, 0);
	}
}

/* Claim, check the canary, and release or (every third claim) detach. */
static enum hrtimer_restart lt_pressure_timer(struct hrtimer *timer)
{
	struct lt_pressure *p = container_of(timer, struct lt_pressure, timer);
	unsigned long *words;
	bool detach;
	int k;

	if (READ_ONCE(p->stop))
		return HRTIMER_NORESTART;
	for (k = 0; k < 4; k++) {
		words = labyrinth_claim(p->lab, p);
		if (!words) {
			p->hard_fails++;
			continue;
		}
		p->hard_claims++;
		if (!lt_canary_ok(words, p->hard_claims) ||
		    labyrinth_owner(p->lab, words) != p)
			p->violations++;
		detach = !(p->hard_claims % 3);
		if (!lt_give_back(p->lab, words, p, detach, &p->detached))
			p->violations++;
		else if (detach)
			p->detaches++;
	}
	hrtimer_forward_now(timer, ns_to_ktime(LT_PRESSURE_PERIOD_NS));
	return HRTIMER_RESTART;
}

static const unsigned int lt_fail_pcts[] = { 10, 50, 100 };

static void lt_fail_pct_desc(const unsigned int *pct, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "refills_fail_%u_percent", *pct);
}

KUNIT_ARRAY_PARAM(lt_fail_pct, lt_fail_pcts, lt_fail_pct_desc);

/* Set up a pressure case: labyrinth, reserve, allocation hook, timer. */
static struct lt_pressure *lt_pressure_start(struct kunit *test)
{
	struct lt_pressure *p = kunit_kzalloc(test, sizeof(*p), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	p->fail_pct = *(const unsigned int *)test->param_value;
	p->lab = lt_create(test, LT_PRESSURE_ROOMS, 0, 0, 0, 0);
	init_llist_head(&p->detached);
	raw_spin_lock_init(&p->lock);
	for (p->nr_reserve = 0; p->nr_reserve < LT_PRESSURE_RESERVE; p->nr_reserve++) {
		p->reserve[p->nr_reserve] = alloc_page(GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, p->reserve[p->nr_reserve]);
	}
	lt_hold_refill(p->lab);		/* only claims refill, via the hook */
	lt_pressure = p;
	labyrinth_set_nolock_hook(p->lab, lt_pressure_alloc);
	hrtimer_setup(&p->timer, lt_pressure_timer, CLOCK_MONOTONIC,
		      HRTIMER_MODE_REL_PINNED_HARD);
	hrtimer_start(&p->timer, ns_to_ktime(LT_PRESSURE_PERIOD_NS),
		      HRTIMER_MODE_REL_PINNED_HARD);
	return p;
}

/* Stop the timer and the hook; give the reserve back. */
static void lt_pressure_stop(struct lt_pressure *p)
{
	WRITE_ONCE(p->stop, true);
	hrtimer_cancel(&p->timer);
	labyrinth_set_nolock_hook(p->lab, NULL);
	lt_pressure_recycle(p);
	while (p->nr_reserve)
		__free_pages(p->reserve[--p->nr_reserve], 0);
	lt_pressure = NULL;
}

/* Every claim got a room or failed cleanly; fills failed as injected. */
static void lt_pressure_check(struct kunit *test, struct lt_pressure *p,
			      unsigned long task_claims, unsigned long task_fails)
{
	struct labyrinth_stats s = lt_stats(p->lab);

	KUNIT_EXPECT_EQ(test, p->violations, 0);
	KUNIT_EXPECT_GT(test, p->hard_claims, 0);
	KUNIT_EXPECT_GT(test, p->detaches, 0);
	KUNIT_EXPECT_EQ(test, s.claims, p->hard_claims + task_claims);
	KUNIT_EXPECT_EQ(test, s.fail_full + s.fail_contended,
			p->hard_fails + task_fails);
	KUNIT_EXPECT_EQ(test, s.detaches, p->detaches);
	KUNIT_EXPECT_EQ(test, s.bad_calls, 0);
	/* no free room hidden from the walks */
	KUNIT_EXPECT_EQ(test, labyrinth_free_map_lost(p->lab), 0);
	KUNIT_EXPECT_EQ(test, s.refill_failures, p->fill_failures);
	KUNIT_EXPECT_EQ(test, s.refills, p->fills - p->fill_failures);
	KUNIT_EXPECT_EQ(test, s.refills_nolock, s.refills);
	KUNIT_EXPECT_EQ(test, s.rooms_void, s.detaches - s.refills);
	KUNIT_EXPECT_GT(test, p->fill_failures, 0);
	if (p->fail_pct == 100) {
		KUNIT_EXPECT_EQ(test, s.refills, 0);
		KUNIT_EXPECT_EQ(test, s.rooms_void, LT_PRESSURE_ROOMS);
		KUNIT_EXPECT_GT(test, p->hard_fails, 0);
	} else {
		KUNIT_EXPECT_GT(test, s.refills, 0);
	}
	kunit_info(test, "refills failing %u%%, %u ms: hardirq claims %lu (%lu detached) failed %lu; task claims %lu failed %lu; fills %lu failed %lu; void at the end %u\n",
		   p->fail_pct, pressure_ms, p->hard_claims, p->detaches,
		   p->hard_fails, task_claims, task_fails, p->fills,
		   p->fill_failures, s.rooms_void);
}

/*
 * Memory pressure: a hard-irq timer claims, detaches every third room and
 * releases the rest, while the task claims too; the claims of both refill
 * void rooms on the spot and the allocator fails fail_pct of the fills.
 * Claims fail cleanly (NULL, counted), rooms stay void, every count is
 * exact; once allocation recovers the deferred refill fills every room.
 */
static void refill_failures_under_hardirq_claims(struct kunit *test)
{
	unsigned long task_claims = 0, task_fails = 0, deadline;
	long pages = labyrinth_pages_held();
	void *addr, *addrs[LT_PRESSURE_ROOMS];
	struct lt_pressure *p;

	p = lt_pressure_start(test);
	deadline = jiffies + msecs_to_jiffies(pressure_ms);
	while (time_before(jiffies, deadline)) {
		addr = labyrinth_claim(p->lab, OWNER_A);
		if (addr) {
			task_claims++;
			KUNIT_EXPECT_EQ(test, labyrinth_release(p->lab, addr,
								OWNER_A), 0);
		} else {
			task_fails++;
		}
		lt_pressure_recycle(p);
		usleep_range(100, 200);
	}
	lt_pressure_stop(p);
	lt_pressure_check(test, p, task_claims, task_fails);

	/* allocation recovers: the deferred refill fills every room */
	labyrinth_flush_refill(p->lab);
	KUNIT_EXPECT_EQ(test, lt_stats(p->lab).rooms_void, 0);
	KUNIT_EXPECT_EQ(test, labyrinth_pages_held() - pages, LT_PRESSURE_ROOMS);
	lt_claim_all(test, p->lab, LT_PRESSURE_ROOMS, OWNER_A, addrs);
	lt_release_all(test, p->lab, LT_PRESSURE_ROOMS, OWNER_A, addrs);
}

/* ---- Entrances and the owner's struct page ---- */

static void lt_claim_keep_fn(struct lt_run *run)
{
	labyrinth_get_stats(run->lab, &run->before);
	run->addr2 = labyrinth_claim(run->lab, run);
	labyrinth_get_stats(run->lab, &run->after);
}

/*
 * One CPU: a task holds its room while a hard irq and then a softirq claim
 * there, each keeping its room. Every claim enters a free room of its own:
 * three rooms, no collision.
 */
static void claims_from_each_context_enter_different_rooms(struct kunit *test)
{
	struct lt_run *hard = lt_new_run(test, lt_claim_keep_fn);
	struct lt_run *soft = lt_new_run(test, lt_claim_keep_fn);
	struct labyrinth *lab;
	void *task;

	lab = lt_create(test, 4 * num_possible_cpus(), 0, 0, 0, 0);
	hard->lab = lab;
	soft->lab = lab;
	migrate_disable();		/* the three claims on one CPU */
	task = labyrinth_claim(lab, OWNER_A);
	lt_run_in(test, hard, LT_HARDIRQ);
	lt_run_in(test, soft, LT_SOFTIRQ);
	migrate_enable();
	KUNIT_ASSERT_NOT_NULL(test, task);
	KUNIT_ASSERT_NOT_NULL(test, hard->addr2);
	KUNIT_ASSERT_NOT_NULL(test, soft->addr2);
	KUNIT_EXPECT_PTR_NE(test, hard->addr2, task);
	KUNIT_EXPECT_PTR_NE(test, soft->addr2, task);
	KUNIT_EXPECT_PTR_NE(test, soft->addr2, hard->addr2);
	KUNIT_EXPECT_EQ(test, lt_stats(lab).collisions, 0);
	KUNIT_EXPECT_EQ(test, labyrinth_release(lab, task, OWNER_A), 0);
	KUNIT_EXPECT_EQ(test, labyrinth_release(lab, hard->addr2, hard), 0);
	KUNIT_EXPECT_EQ(test, labyrinth_release(lab, soft->addr2, soft), 0);
}

/*
 * A CPU whose entrance is another CPU's room (only a test sets one so) is
 * sent back to its own run by its next walk; the other CPU's entrance is
 * left alone.
 */
static void stray_entrance_returns_home(struct kunit *test)
{
	struct labyrinth *lab;
	unsigned int cpu, other, own, theirs, their_room;
	void *taken, *addr, *next = NULL;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs: one's entrance for the other");
	lab = lt_create(test, 8, 0, 0, 0, 0);
	cpu = get_cpu();		/* no assertion until put_cpu() */
	other = cpumask_any_but(cpu_online_mask, cpu);
	own = labyrinth_entrance(lab, cpu);
	theirs = labyrinth_entrance(lab, other);
	labyrinth_set_entrance(lab, cpu, theirs);
	taken = labyrinth_claim(lab, OWNER_A);		/* theirs, at the entrance */
	their_room = labyrinth_room_index(lab, taken);
	/* and the room after it, where the cursor would step */
	if (lab->rooms[theirs].after != theirs)
		next = labyrinth_claim(lab, OWNER_A);
	labyrinth_set_entrance(lab, cpu, theirs);	/* owned now: a walk */
	addr = labyrinth_claim(lab, OWNER_A);
	put_cpu();
	KUNIT_ASSERT_NE(test, own, theirs);
	KUNIT_ASSERT_NOT_NULL(test, taken);
	KUNIT_ASSERT_NOT_NULL(test, addr);
	KUNIT_EXPECT_EQ(test, their_room, theirs);
	/* its own run: at its first room, or past the walk's room there */
	KUNIT_EXPECT_EQ(test, lab->rooms[labyrinth_entrance(lab, cpu)].home, cpu);
	KUNIT_EXPECT_EQ(test, labyrinth_entrance(lab, other), theirs);
	KUNIT_EXPECT_EQ(test, labyrinth_release(lab, taken, OWNER_A), 0);
	KUNIT_EXPECT_EQ(test, labyrinth_release(lab, addr, OWNER_A), 0);
	if (lab->rooms[theirs].after != theirs) {
		KUNIT_ASSERT_NOT_NULL(test, next);
		KUNIT_EXPECT_EQ(test, labyrinth_room_index(lab, next),
				lab->rooms[theirs].after);
		KUNIT_EXPECT_EQ(test, labyrinth_release(lab, next, OWNER_A), 0);
	}
}

/*
 * The free map's race: on one room, a task on one CPU claims and releases
 * while a task on another claims too. The second finds the room owned, so
 * its walk clears the room's bit - and the owner's release may read that
 * bit just before the clear and leave it, which would hide the free room
 * from every walk. The walk's look again after the clear must catch it.
 * Runs until the race has happened LT_MAP_RACES times (or 2 s): the
 * interleaving is counted, not hoped for; at rest no free room is hidden.
 */
#define LT_MAP_RACES	20

struct lt_map_race {
	struct labyrinth *lab;
	bool stop;
	struct lt_map_racer {
		struct lt_map_race *race;
		const void *owner;
		unsigned long claims, errors;
	} racer[2];
};

static int lt_map_race_fn(void *data)
{
	struct lt_map_racer *me = data;
	struct lt_map_race *r = me->race;
	void *addr;

	while (!READ_ONCE(r->stop) && !kthread_should_stop()) {
		addr = labyrinth_claim(r->lab, me->owner);
		if (addr) {
			me->claims++;
			if (labyrinth_release(r->lab, addr, me->owner))
				me->errors++;
		}
		cond_resched();
	}
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

static void free_map_race_with_release(struct kunit *test)
{
	unsigned int cpu0 = cpumask_first(cpu_online_mask), cpu1, i;
	struct task_struct *t[2];
	struct lt_map_race *r;
	unsigned long deadline;
	u64 races = 0;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs: a release races a walk on another");
	cpu1 = cpumask_next(cpu0, cpu_online_mask);
	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	r->lab = lt_create(test, 1, 0, 0, 0, 0);
	for (i = 0; i < 2; i++) {
		r->racer[i].race = r;
		r->racer[i].owner = i ? OWNER_B : OWNER_A;
		t[i] = kthread_create_on_cpu(lt_map_race_fn, &r->racer[i],
					     i ? cpu1 : cpu0, "lt_map_race/%u");
		KUNIT_ASSERT_FALSE(test, IS_ERR(t[i]));
	}
	for (i = 0; i < 2; i++)
		wake_up_process(t[i]);
	deadline = jiffies + 2 * HZ;
	while (time_before(jiffies, deadline)) {
		races = labyrinth_sum(r->lab, LAB_MAP_RECHECKS);
		if (races >= LT_MAP_RACES)
			break;
		msleep(20);
	}
	WRITE_ONCE(r->stop, true);
	for (i = 0; i < 2; i++)
		kthread_stop(t[i]);
	kunit_info(test, "claims %lu and %lu; %llu releases raced a walk's clear of their bit\n",
		   r->racer[0].claims, r->racer[1].claims, races);
	KUNIT_EXPECT_EQ(test, r->racer[0].errors + r->racer[1].errors, 0);
	KUNIT_EXPECT_GT(test, r->racer[0].claims, 0);
	KUNIT_EXPECT_GT(test, r->racer[1].claims, 0);
	KUNIT_EXPECT_GE_MSG(test, races, LT_MAP_RACES,
			    "the race the look again exists for did not happen");
	KUNIT_EXPECT_EQ(test, labyrinth_free_map_lost(r->lab), 0);
	KUNIT_EXPECT_EQ(test, lt_stats(r->lab).rooms_owned, 0);
}

/*
 * Claims at the entrance of @cpu (the caller's, migration off) until one
 * walks into another CPU's run: the rooms of its own run go to @addrs, at
 * most @rooms (their count is returned), the other's to *@theirs (NULL if
 * no claim got one).
 */
static unsigned int lt_claim_past_own_run(struct labyrinth *lab,
					  unsigned int cpu, unsigned int rooms,
					  void **addrs, void **theirs)
{
	unsigned int n = 0;
	void *addr;

	*theirs = NULL;
	while (n < rooms) {
		addr = labyrinth_claim(lab, OWNER_A);
		if (!addr)
			break;
		if (lab->rooms[labyrinth_room_index(lab, addr)].home != cpu) {
			*theirs = addr;
			break;
		}
		addrs[n++] = addr;
	}
	return n;
}

/*
 * A CPU whose run is full claims at its cursor: the room of another CPU's
 * that its last walk claimed, released, is claimed again without a walk.
 * While a room is void the cursor waits: the walk fills the void room.
 */
static struct page *lt_cursor_page;

static struct page *lt_cursor_nolock(struct labyrinth *lab, int nid)
{
	return xchg(&lt_cursor_page, NULL);
}

static void claim_at_cursor_unless_a_room_is_void(struct kunit *test)
{
	unsigned int rooms = 4 * num_possible_cpus(), cpu, i, n;
	void **addrs, *theirs = NULL, *again, *filled;
	struct labyrinth_stats s0, s1;
	struct page *page, *gone;
	struct labyrinth *lab;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs: a room of another's run");
	/* four rooms in each CPU's run */
	lab = lt_create(test, rooms, 0, 0, 0, 0);
	addrs = kunit_kcalloc(test, rooms, sizeof(*addrs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, addrs);
	page = alloc_page(GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, page);
	migrate_disable();
	cpu = smp_processor_id();
	/* this CPU's run at its entrance, then a walk into another's */
	n = lt_claim_past_own_run(lab, cpu, rooms, addrs, &theirs);
	if (theirs)
		labyrinth_release(lab, theirs, OWNER_A);
	s0 = lt_stats(lab);
	again = labyrinth_claim(lab, OWNER_A);		/* the cursor */
	s1 = lt_stats(lab);
	if (again)
		labyrinth_release(lab, again, OWNER_A);
	/* a room of this CPU's run goes void; its entrance stays owned */
	gone = n > 1 ? labyrinth_detach(lab, addrs[1], OWNER_A) : NULL;
	lt_cursor_page = page;
	labyrinth_set_nolock_hook(lab, lt_cursor_nolock);
	filled = labyrinth_claim(lab, OWNER_A);
	labyrinth_set_nolock_hook(lab, NULL);
	migrate_enable();

	KUNIT_ASSERT_NOT_NULL(test, theirs);
	KUNIT_ASSERT_GE(test, n, 2);
	KUNIT_EXPECT_PTR_EQ(test, again, theirs);
	KUNIT_EXPECT_EQ(test, s1.collisions - s0.collisions, 0);
	KUNIT_EXPECT_EQ(test, s1.claims - s0.claims, 1);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, gone);
	/* the void room, filled with the hook's page; not the cursor's */
	KUNIT_EXPECT_PTR_EQ(test, filled, page_address(page));
	KUNIT_EXPECT_EQ(test, lt_stats(lab).refills_nolock, 1);
	if (filled)
		KUNIT_EXPECT_EQ(test, labyrinth_release(lab, filled, OWNER_A), 0);
	else
		__free_page(xchg(&lt_cursor_page, NULL));
	KUNIT_EXPECT_EQ(test, labyrinth_release(lab, addrs[0], OWNER_A), 0);
	for (i = 2; i < n; i++)
		KUNIT_EXPECT_EQ(test, labyrinth_release(lab, addrs[i], OWNER_A), 0);
	__free_page(gone);
}

/*
 * A CPU whose run is full, its cursor owned, steps from the cursor to the
 * next room of the cursor's run: once its walk has entered another CPU's
 * free run, it takes that run a room after another without a walk (no
 * collision), each room's bit in the free map cleared as a walk's claim
 * clears it, until the run comes round to the cursor's first room.
 */
static void cursor_steps_through_another_run(struct kunit *test)
{
	unsigned int rooms = 4 * num_possible_cpus(), cpu, i, n, k = 0, prev;
	struct labyrinth_stats s0, s1;
	void **addrs, *theirs = NULL;
	unsigned int steps[4], cursor;
	struct labyrinth *lab;
	bool bit;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs: another's run to step through");
	lab = lt_create(test, rooms, 0, 0, 0, 0);
	addrs = kunit_kcalloc(test, rooms, sizeof(*addrs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, addrs);
	migrate_disable();
	cpu = smp_processor_id();
	/* this CPU's run at its entrance, then a walk into another's */
	n = lt_claim_past_own_run(lab, cpu, rooms, addrs, &theirs);
	if (theirs)
		addrs[n++] = theirs;
	/* every owned room offered: a walk would pass them, a step does not */
	labyrinth_mark_all_free(lab);
	s0 = lt_stats(lab);
	prev = theirs ? labyrinth_room_index(lab, theirs) : 0;
	while (theirs && k < ARRAY_SIZE(steps) &&
	       lab->rooms[prev].after != labyrinth_room_index(lab, theirs)) {
		addrs[n] = labyrinth_claim(lab, OWNER_A);
		if (!addrs[n])
			break;
		prev = labyrinth_room_index(lab, addrs[n++]);
		steps[k++] = prev;
	}
	s1 = lt_stats(lab);
	cursor = labyrinth_room_idx(lab, per_cpu_ptr(lab->pcpu, cpu)->cursor);
	migrate_enable();

	KUNIT_ASSERT_NOT_NULL(test, theirs);
	KUNIT_EXPECT_GT(test, k, 0);
	KUNIT_EXPECT_EQ(test, s1.claims - s0.claims, k);
	KUNIT_EXPECT_EQ(test, s1.collisions - s0.collisions, 0);
	if (k)
		KUNIT_EXPECT_EQ(test, cursor, steps[k - 1]);
	prev = labyrinth_room_index(lab, theirs);
	for (i = 0; i < k; i++) {
		KUNIT_EXPECT_EQ(test, steps[i], lab->rooms[prev].after);
		bit = test_bit(steps[i], lab->free_map);
		KUNIT_EXPECT_FALSE_MSG(test, bit, "room %u", steps[i]);
		prev = steps[i];
	}
	for (i = 0; i < n; i++) {
		if (addrs[i])
			KUNIT_EXPECT_EQ(test, labyrinth_release(lab, addrs[i],
								OWNER_A), 0);
	}
	KUNIT_EXPECT_EQ(test, labyrinth_free_map_lost(lab), 0);
}

/*
 * A release hints the room to the room's home CPU, never to the CPU it
 * runs on: a release on one CPU of a room of another's (as after a
 * migration; here this CPU claimed it through a stray entrance) leaves
 * this CPU's entrance in its own run and gives the room to its home.
 */
static void release_hints_the_rooms_home_cpu(struct kunit *test)
{
	struct labyrinth *lab;
	unsigned int cpu, other, own, theirs, other_now, own_now;
	void *taken;
	int err;

	if (num_possible_cpus() < 2)
		kunit_skip(test, "needs two CPUs: a room of one released on the other");
	lab = lt_create(test, 4 * num_possible_cpus(), 0, 0, 0, 0);
	cpu = get_cpu();		/* no assertion until put_cpu() */
	other = cpumask_any_but(cpu_possible_mask, cpu);
	own = labyrinth_entrance(lab, cpu);
	theirs = labyrinth_entrance(lab, other);
	labyrinth_set_entrance(lab, cpu, theirs);
	taken = labyrinth_claim(lab, OWNER_A);	/* theirs: this CPU's last */
	labyrinth_set_entrance(lab, cpu, own);
	labyrinth_set_entrance(lab, other, theirs + 1);	/* still their run */
	err = labyrinth_release(lab, taken, OWNER_A);
	own_now = labyrinth_entrance(lab, cpu);
	other_now = labyrinth_entrance(lab, other);
	put_cpu();
	KUNIT_ASSERT_NE(test, own, theirs);
	KUNIT_ASSERT_NOT_NULL(test, taken);
	KUNIT_EXPECT_EQ(test, labyrinth_room_index(lab, taken), theirs);
	KUNIT_EXPECT_EQ(test, err, 0);
	KUNIT_EXPECT_EQ(test, own_now, own);
	KUNIT_EXPECT_EQ(test, other_now, theirs);
}

/*
 * A room released on its home CPU is where that CPU claims next if it
 * would not take a free room anyway: after a claim and its release (the
 * room it claimed last: warm), and while its next room is owned (its run
 * is full); not while its next room is free: then its claims stream
 * through its run, as a ring driver that releases a ring late needs.
 */
static void claim_after_release_reuses_the_room(struct kunit *test)
{
	/* three rooms of its own for every CPU */
	struct labyrinth *lab = lt_create(test, 3 * num_possible_cpus(), 0, 1,
					  0, 0);
	void *a, *b, *c, *d, *e, *f;
	unsigned long flags;

	local_irq_save(flags);		/* stay on this CPU */
	a = labyrinth_claim(lab, OWNER_A);
	labyrinth_release(lab, a, OWNER_A);
	b = labyrinth_claim(lab, OWNER_A);	/* a again: warm */
	c = labyrinth_claim(lab, OWNER_A);	/* the next room */
	labyrinth_release(lab, b, OWNER_A);	/* not the last claimed */
	d = labyrinth_claim(lab, OWNER_A);	/* the third room, not b */
	e = labyrinth_claim(lab, OWNER_A);	/* b's, wrapping: the run full */
	labyrinth_release(lab, d, OWNER_A);	/* the next room, c's, owned */
	f = labyrinth_claim(lab, OWNER_A);	/* d's again */
	local_irq_restore(flags);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_EXPECT_PTR_EQ(test, b, a);
	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_EXPECT_PTR_NE(test, c, a);
	KUNIT_ASSERT_NOT_NULL(test, d);
	KUNIT_EXPECT_PTR_NE(test, d, a);
	KUNIT_EXPECT_PTR_NE(test, d, c);
	KUNIT_EXPECT_PTR_EQ(test, e, a);
	KUNIT_EXPECT_PTR_EQ(test, f, d);
	KUNIT_EXPECT_EQ(test, lt_stats(lab).collisions, 0);
	if (c)
		lt_release_all(test, lab, 1, OWNER_A, &c);
	if (e)
		lt_release_all(test, lab, 1, OWNER_A, &e);
	if (f)
		lt_release_all(test, lab, 1, OWNER_A, &f);
}

/*
 * The owner's struct page is the owner's: a driver that keeps data in
 * page->private and chains its room's page on page->lru still releases
 * and detaches it. And a foreign page whose private holds a room's index
 * is still refused.
 */
static void owner_writes_its_struct_page_and_lets_go(struct kunit *test)
{
	struct labyrinth *lab = lt_create(test, 2, 0, 0, 0, 0);
	struct page *page, *foreign;
	LIST_HEAD(mine);
	void *addr;

	addr = labyrinth_claim(lab, OWNER_A);
	KUNIT_ASSERT_NOT_NULL(test, addr);
	page = virt_to_page(addr);
	set_page_private(page, 0xdeadbeef);
	list_add(&page->lru, &mine);
	KUNIT_EXPECT_PTR_EQ(test, labyrinth_owner(lab, addr), OWNER_A);
	KUNIT_EXPECT_EQ(test, labyrinth_release(lab, addr, OWNER_B), -EPERM);
	KUNIT_EXPECT_EQ(test, labyrinth_release(lab, addr, OWNER_A), 0);
	KUNIT_EXPECT_EQ(test, page_private(page), 0xdeadbeef);	/* untouched */
	KUNIT_EXPECT_PTR_EQ(test, mine.next, &page->lru);
	list_del(&page->lru);
	set_page_private(page, 0);

	foreign = alloc_page(GFP_KERNEL);	/* never one of our rooms */
	KUNIT_ASSERT_NOT_NULL(test, foreign);
	addr = labyrinth_claim(lab, OWNER_A);
	KUNIT_ASSERT_NOT_NULL(test, addr);
	page = virt_to_page(addr);
	set_page_private(page, 1);		/* another room's index, once */
	KUNIT_EXPECT_PTR_EQ(test, labyrinth_detach(lab, addr, OWNER_A), page);
	set_page_private(page, 0);
	__free_pages(page, 0);

	set_page_private(foreign, 0);		/* room 0's index, once */
	KUNIT_EXPECT_EQ(test, labyrinth_release(lab, page_address(foreign),
						OWNER_A), -EINVAL);
	KUNIT_EXPECT_NULL(test, labyrinth_owner(lab, page_address(foreign)));
	__free_page(foreign);
}

/* ---- Flags and destroy ---- */

static void zero_flag_hides_previous_owners_bytes(struct kunit *test)
{
	struct labyrinth *lab = lt_create(test, 1, 1, 0, 0, LABYRINTH_ZERO);
	struct labyrinth *plain = lt_create(test, 1, 0, 0, 0, 0);
	void *addr;

	addr = labyrinth_claim(lab, OWNER_A);
	KUNIT_ASSERT_NOT_NULL(test, addr);
	KUNIT_EXPECT_NULL(test, memchr_inv(addr, 0, PAGE_SIZE << 1));
	memset(addr, 0xaa, PAGE_SIZE << 1);
	KUNIT_ASSERT_EQ(test, labyrinth_release(lab, addr, OWNER_A), 0);
	addr = labyrinth_claim(lab, OWNER_B);
	KUNIT_ASSERT_NOT_NULL(test, addr);
	KUNIT_EXPECT_NULL(test, memchr_inv(addr, 0, PAGE_SIZE << 1));
	labyrinth_release(lab, addr, OWNER_B);

	/* Without the flag the bytes stay: the check above can fail. */
	addr = labyrinth_claim(plain, OWNER_A);
	KUNIT_ASSERT_NOT_NULL(test, addr);
	memset(addr, 0xaa, PAGE_SIZE);
	labyrinth_release(plain, addr, OWNER_A);
	addr = labyrinth_claim(plain, OWNER_B);
	KUNIT_EXPECT_NOT_NULL(test, memchr_inv(addr, 0, PAGE_SIZE));
	labyrinth_release(plain, addr, OWNER_B);
}

static void poison_flag_catches_write_after_release(struct kunit *test)
{
	struct labyrinth *lab = lt_create(test, 1, 0, 0, 0, LABYRINTH_POISON);
	char *addr;

	addr = labyrinth_claim(lab, OWNER_A);
	KUNIT_ASSERT_NOT_NULL(test, addr);
	KUNIT_ASSERT_EQ(test, labyrinth_release(lab, addr, OWNER_A), 0);
	addr = labyrinth_claim(lab, OWNER_A);	/* clean release: no error */
	KUNIT_ASSERT_NOT_NULL(test, addr);
	KUNIT_EXPECT_EQ(test, lt_stats(lab).poison_errors, 0);
	KUNIT_ASSERT_EQ(test, labyrinth_release(lab, addr, OWNER_A), 0);

	WRITE_ONCE(addr[100], 1);		/* the bug: write after release */
	addr = labyrinth_claim(lab, OWNER_B);
	KUNIT_ASSERT_NOT_NULL(test, addr);
	KUNIT_EXPECT_EQ(test, lt_stats(lab).poison_errors, 1);
	labyrinth_release(lab, addr, OWNER_B);
}

/* Destroy leaves an owned room's pages to its owner and frees the rest. */
static void destroy_with_owned_room_leaves_pages_to_owner(struct kunit *test)
{
	const struct labyrinth_config cfg = { .name = "leaky", .nr_rooms = 3 };
	long pages = labyrinth_pages_held();
	struct labyrinth *lab = labyrinth_create(&cfg);
	char *addr;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, lab);
	addr = labyrinth_claim(lab, OWNER_A);
	KUNIT_ASSERT_NOT_NULL(test, addr);
	labyrinth_destroy(lab);
	KUNIT_EXPECT_EQ(test, labyrinth_pages_held(), pages);
	memset(addr, 0x77, PAGE_SIZE);		/* KASAN: still allocated */
	__free_pages(virt_to_page(addr), 0);
}

/* ---- Exclusivity under concurrency ---- */

#define LT_STRESS_MS		400
#define LT_TIMER_PERIOD_NS	(200 * NSEC_PER_USEC)

struct lt_stress;

struct lt_claimant {
	struct lt_stress *st;
	struct hrtimer timer;
	struct task_struct *task;
	unsigned long id;
	gfp_t gfp;		/* the kthread fills void rooms, the timer cannot */
	unsigned long claims, detaches, violations, mismatches, release_errors;
	unsigned long bulk;	/* rooms taken by bulk claims */
};

struct lt_stress {
	struct labyrinth *lab;
	struct llist_head detached;	/* pages detached, to be freed */
	unsigned long deadline;		/* jiffies */
	bool stop;
	unsigned int nr;
	struct lt_claimant c[];
};

/*
 * One claim: write our canary over the whole room, check it, then release
 * the room, or every 16th time detach it (its page is freed by a kthread).
 */
/*
 * Every 4th time, a bulk claim of two rooms instead (its void rooms filled
 * together, in the kthread), each checked and released by generation.
 */
static void lt_stress_bulk(struct lt_claimant *c, unsigned long seq)
{
	unsigned long gens[2];
	void *addrs[2];
	unsigned int n, i;

	n = labyrinth_claim_bulk(c->st->lab, c, c->gfp, 2, addrs, gens);
	c->claims += n;
	c->bulk += n;
	for (i = 0; i < n; i++) {
		if (labyrinth_owner(c->st->lab, addrs[i]) != c)
			c->mismatches++;
		if (!lt_canary_ok(addrs[i], c->id ^ seq ^ ((i + 1UL) << 20)))
			c->violations++;
	}
	for (i = 0; i < n; i++)
		if (labyrinth_release_gen(c->st->lab, addrs[i], c, gens[i]))
			c->release_errors++;
}

static void lt_stress_once(struct lt_claimant *c)
{
	unsigned long *words, seq = c->claims + 1;
	bool detach = !(seq % 16);

	if (seq % 4 == 2) {
		lt_stress_bulk(c, seq);
		return;
	}
	words = labyrinth_claim_gfp(c->st->lab, c, c->gfp);
	if (!words)
		return;
	c->claims++;
	if (labyrinth_owner(c->st->lab, words) != c)
		c->mismatches++;
	if (!lt_canary_ok(words, c->id ^ seq))
		c->violations++;
	if (!lt_give_back(c->st->lab, words, c, detach, &c->st->detached))
		c->release_errors++;
	else if (detach)
		c->detaches++;
}

static enum hrtimer_restart lt_stress_timer(struct hrtimer *timer)
{
	struct lt_claimant *c = container_of(timer, struct lt_claimant, timer);
	unsigned int i;

	if (READ_ONCE(c->st->stop))
		return HRTIMER_NORESTART;
	for (i = 0; i < 2; i++)
		lt_stress_once(c);
	hrtimer_forward_now(timer, ns_to_ktime(LT_TIMER_PERIOD_NS));
	return HRTIMER_RESTART;
}

static int lt_stress_thread(void *data)
{
	struct lt_claimant *c = data;
	struct lt_claimant *timer = c + 1;

	hrtimer_start(&timer->timer, ns_to_ktime(LT_TIMER_PERIOD_NS),
		      HRTIMER_MODE_REL_PINNED_HARD);
	while (!kthread_should_stop() &&
	       time_before(jiffies, c->st->deadline)) {
		lt_stress_once(c);
		lt_free_detached(&c->st->detached);
		cond_resched();
	}
	WRITE_ONCE(c->st->stop, true);
	hrtimer_cancel(&timer->timer);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

/* A kthread and a pinned hard-irq timer per online CPU; run them. */
static void lt_stress_run(struct kunit *test, struct lt_stress *st)
{
	unsigned int cpu, i = 0;

	st->deadline = jiffies + msecs_to_jiffies(LT_STRESS_MS);
	for_each_online_cpu(cpu) {
		struct lt_claimant *k = &st->c[i++], *t = &st->c[i++];

		k->st = st;
		t->st = st;
		k->id = (unsigned long)k;
		t->id = (unsigned long)t;
		k->gfp = GFP_KERNEL;
		hrtimer_setup(&t->timer, lt_stress_timer, CLOCK_MONOTONIC,
			      HRTIMER_MODE_REL_PINNED_HARD);
		k->task = kthread_create_on_cpu(lt_stress_thread, k, cpu,
						"lt_stress/%u");
		KUNIT_ASSERT_FALSE(test, IS_ERR(k->task));
	}
	for (i = 0; i < st->nr; i += 2)
		wake_up_process(st->c[i].task);
	msleep(LT_STRESS_MS + 100);
	for (i = 0; i < st->nr; i += 2)
		kthread_stop(st->c[i].task);
}

/*
 * A kthread and a hard-irq timer per online CPU, fewer rooms than
 * claimants, some rooms detached: nobody ever sees another's canary or
 * owner, and at the end every room is free again, none lost. The kthread
 * claims with GFP_KERNEL, so it fills the rooms it detached on the spot
 * (dropping the room lock while the timer may strike); left to the
 * deferred refill, which UML runs only at the next tick, a one-CPU run
 * without alloc_pages_nolock() (before 6.18) would leave the timer a void
 * room nearly every time it fires.
 */
static void claim_is_exclusive_under_concurrency(struct kunit *test)
{
	unsigned long claims = 0, detaches = 0, bulk = 0;
	long pages = labyrinth_pages_held();
	unsigned int cpus = num_online_cpus(), i;
	struct labyrinth_stats s;
	struct lt_stress *st;
	void **addrs;

	st = kunit_kzalloc(test, struct_size(st, c, 2 * cpus), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, st);
	st->nr = 2 * cpus;
	st->lab = lt_create(test, st->nr - 1, 0, 0, 0, 0);
	init_llist_head(&st->detached);
	addrs = kunit_kcalloc(test, st->nr, sizeof(*addrs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, addrs);
	lt_stress_run(test, st);
	for (i = 0; i < st->nr; i++) {
		struct lt_claimant *c = &st->c[i];

		KUNIT_EXPECT_EQ_MSG(test, c->violations, 0, "claimant %u", i);
		KUNIT_EXPECT_EQ_MSG(test, c->mismatches, 0, "claimant %u", i);
		KUNIT_EXPECT_EQ_MSG(test, c->release_errors, 0, "claimant %u", i);
		KUNIT_EXPECT_GT_MSG(test, c->claims, 0, "claimant %u never claimed", i);
		claims += c->claims;
		detaches += c->detaches;
		bulk += c->bulk;
	}
	lt_free_detached(&st->detached);
	s = lt_stats(st->lab);
	KUNIT_EXPECT_EQ(test, s.claims, claims);
	KUNIT_EXPECT_EQ(test, s.detaches, detaches);
	KUNIT_EXPECT_EQ(test, s.releases, claims - detaches);
	KUNIT_EXPECT_EQ(test, s.rooms_owned, 0);
	KUNIT_EXPECT_EQ(test, s.bad_calls, 0);
	KUNIT_EXPECT_GT(test, detaches, 0);
	KUNIT_EXPECT_GT(test, bulk, 0);
	/* no free room hidden from the walks */
	KUNIT_EXPECT_EQ(test, labyrinth_free_map_lost(st->lab), 0);
	kunit_info(test, "%u claimants on %u CPUs: %lu claims (%lu detached, %lu in bulk), %llu collisions, %llu failed claims; %llu releases raced a walk's clear of their bit\n",
		   st->nr, cpus, claims, detaches, bulk, s.collisions,
		   s.fail_full + s.fail_contended,
		   labyrinth_sum(st->lab, LAB_MAP_RECHECKS));
	/* no room lost: once refilled, every room can be claimed */
	labyrinth_flush_refill(st->lab);
	KUNIT_EXPECT_EQ(test, lt_stats(st->lab).rooms_void, 0);
	KUNIT_EXPECT_EQ(test, labyrinth_pages_held() - pages, st->nr - 1);
	lt_claim_all(test, st->lab, st->nr - 1, OWNER_A, addrs);
	lt_release_all(test, st->lab, st->nr - 1, OWNER_A, addrs);
}

/* ---- LABYRINTH_REUSE: detached pages lent, and taken back ---- */

/* Make room @idx every CPU's entrance. */
static void lt_enter_at(struct labyrinth *lab, unsigned int idx)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu)
		labyrinth_set_entrance(lab, cpu, idx);
}

/*
 * A detach lends the room's page: the caller gets it with a reference of
 * its own, the room keeps one. While the caller holds its reference a
 * claim that cannot allocate passes the void room; once the caller's put
 * leaves the room's reference the only one, a claim with no gfp takes the
 * page back, at the same address, with every allocator failing. A detach
 * by the wrong owner is refused without touching the page's count.
 */
static void reuse_takes_back_the_page_once_the_owner_puts_it(struct kunit *test)
{
	struct labyrinth *lab = lt_create(test, 2, 0, 1, 0, LABYRINTH_REUSE);
	struct labyrinth_stats s0, s;
	struct page *page;
	unsigned int ia;
	void *a, *b, *c;

	lt_hold_refill(lab);
	kunit_activate_static_stub(test, labyrinth_alloc_room, lt_alloc_fail_stub);
	labyrinth_set_nolock_hook(lab, lt_nolock_fail_hook);
	a = labyrinth_claim(lab, OWNER_A);
	KUNIT_ASSERT_NOT_NULL(test, a);
	ia = labyrinth_room_index(lab, a);
	KUNIT_EXPECT_EQ(test, PTR_ERR(labyrinth_detach(lab, a, OWNER_B)), -EPERM);
	KUNIT_EXPECT_EQ(test, page_ref_count(virt_to_page(a)), 1);
	page = labyrinth_detach(lab, a, OWNER_A);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, page);
	KUNIT_EXPECT_PTR_EQ(test, page_address(page), a);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 2);
	KUNIT_EXPECT_EQ(test, lt_stats(lab).rooms_void, 1);

	/* still the caller's: the claim takes the other room */
	lt_enter_at(lab, ia);
	b = labyrinth_claim(lab, OWNER_A);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_EXPECT_PTR_NE(test, b, a);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 2);
	KUNIT_EXPECT_EQ(test, lt_stats(lab).refills_reused, 0);
	KUNIT_EXPECT_EQ(test, labyrinth_release(lab, b, OWNER_A), 0);

	/* the caller's put: the next claim takes the page back */
	put_page(page);
	lt_enter_at(lab, ia);
	s0 = lt_stats(lab);
	c = labyrinth_claim(lab, OWNER_A);
	s = lt_stats(lab);
	kunit_deactivate_static_stub(test, labyrinth_alloc_room);
	labyrinth_set_nolock_hook(lab, NULL);
	KUNIT_EXPECT_PTR_EQ(test, c, a);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 1);
	KUNIT_EXPECT_EQ(test, s.refills_reused - s0.refills_reused, 1);
	KUNIT_EXPECT_EQ(test, s.refills - s0.refills, 1);
	KUNIT_EXPECT_EQ(test, s.collisions - s0.collisions, 0);
	KUNIT_EXPECT_EQ(test, s.rooms_void, 0);
	KUNIT_EXPECT_EQ(test, labyrinth_void_marked(lab), 0);
	if (c)
		KUNIT_EXPECT_EQ(test, labyrinth_release(lab, c, OWNER_A), 0);
}

/*
 * A claim that may allocate, meeting a room whose lent page is still in
 * use, does not wait for it: the room lets go of it (the caller's is then
 * the only reference, and the page counts as given) and is filled with a
 * new page. The deferred refill gives such a page one pass more (it
 * queues that pass), then does the same; it takes a page back when it
 * came back.
 */
static void reuse_lets_go_of_a_page_still_in_use(struct kunit *test)
{
	struct labyrinth *lab = lt_create(test, 2, 0, 1, 0, LABYRINTH_REUSE);
	u64 given0 = labyrinth_sum(lab, LAB_PAGES_GIVEN);
	struct page *page, *again;
	struct labyrinth_stats s;
	unsigned int ia;
	void *a, *b, *c;

	lt_hold_refill(lab);
	a = labyrinth_claim(lab, OWNER_A);
	KUNIT_ASSERT_NOT_NULL(test, a);
	ia = labyrinth_room_index(lab, a);
	page = labyrinth_detach(lab, a, OWNER_A);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, page);
	KUNIT_EXPECT_EQ(test, labyrinth_sum(lab, LAB_PAGES_GIVEN), given0);

	b = lt_claim_at_void(lab, ia);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_EXPECT_EQ(test, labyrinth_room_index(lab, b), ia);
	KUNIT_EXPECT_PTR_NE(test, b, a);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 1);	/* the caller's */
	KUNIT_EXPECT_EQ(test, labyrinth_sum(lab, LAB_PAGES_GIVEN), given0 + 1);
	s = lt_stats(lab);
	KUNIT_EXPECT_EQ(test, s.refills_gfp, 1);
	KUNIT_EXPECT_EQ(test, s.refills_reused, 0);
	__free_pages(page, 0);

	/*
	 * The deferred refill: a page still in use is left to the next pass
	 * once, then let go of; a page back is taken back.
	 */
	page = labyrinth_detach(lab, b, OWNER_A);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, page);
	labyrinth_run_refill(lab);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 2);
	KUNIT_EXPECT_EQ(test, lt_stats(lab).refills_deferred, 0);
	KUNIT_EXPECT_EQ(test, labyrinth_void_marked(lab), 1);
	KUNIT_EXPECT_TRUE(test, labyrinth_refill_pending(lab));
	labyrinth_run_refill(lab);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 1);
	KUNIT_EXPECT_EQ(test, lt_stats(lab).refills_deferred, 1);
	KUNIT_EXPECT_EQ(test, labyrinth_void_marked(lab), 0);
	__free_pages(page, 0);
	c = lt_claim_at_void(lab, ia);		/* ready: no fill */
	KUNIT_ASSERT_NOT_NULL(test, c);
	again = labyrinth_detach(lab, c, OWNER_A);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, again);
	put_page(again);
	labyrinth_run_refill(lab);
	s = lt_stats(lab);
	KUNIT_EXPECT_EQ(test, s.refills_reused, 1);
	KUNIT_EXPECT_EQ(test, s.refills_deferred, 1);
	KUNIT_EXPECT_EQ(test, s.rooms_void, 0);
	KUNIT_EXPECT_PTR_EQ(test, lt_claim_at_void(lab, ia), c);
	KUNIT_EXPECT_EQ(test, labyrinth_release(lab, c, OWNER_A), 0);
}

/* alloc_pages_nolock()'s stand-in that gives lt_spare, once. */
static struct page *lt_spare;

static struct page *lt_nolock_spare_hook(struct labyrinth *lab, int nid)
{
	return xchg(&lt_spare, NULL);
}

/*
 * A claim with no gfp, which could fill a void room with
 * alloc_pages_nolock() (here a hook with a page to give), must not fill a
 * room whose lent page is still in use: letting go of that page could
 * free it under the room's raw lock, and installing over it would lose
 * the room's reference. It takes the other room; the lent page keeps both
 * references and the allocator is not called.
 */
static void reuse_claim_without_gfp_passes_a_page_in_use(struct kunit *test)
{
	struct labyrinth *lab = lt_create(test, 2, 0, 1, 0, LABYRINTH_REUSE);
	struct labyrinth_stats s;
	struct page *page, *spare;
	unsigned int ia;
	void *a, *b;

	lt_hold_refill(lab);
	a = labyrinth_claim(lab, OWNER_A);
	KUNIT_ASSERT_NOT_NULL(test, a);
	ia = labyrinth_room_index(lab, a);
	page = labyrinth_detach(lab, a, OWNER_A);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, page);
	spare = alloc_page(GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, spare);
	WRITE_ONCE(lt_spare, spare);
	labyrinth_set_nolock_hook(lab, lt_nolock_spare_hook);
	lt_enter_at(lab, ia);
	b = labyrinth_claim(lab, OWNER_A);
	labyrinth_set_nolock_hook(lab, NULL);
	s = lt_stats(lab);
	KUNIT_EXPECT_PTR_EQ(test, xchg(&lt_spare, NULL), spare);
	KUNIT_EXPECT_NOT_NULL(test, b);
	KUNIT_EXPECT_PTR_NE(test, b, a);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 2);
	KUNIT_EXPECT_EQ(test, s.refills, 0);
	KUNIT_EXPECT_EQ(test, s.rooms_void, 1);
	__free_page(spare);
	if (b)
		KUNIT_EXPECT_EQ(test, labyrinth_release(lab, b, OWNER_A), 0);
	put_page(page);		/* the room takes it back */
	labyrinth_run_refill(lab);
	KUNIT_EXPECT_EQ(test, lt_stats(lab).refills_reused, 1);
}

/*
 * A bulk claim over lent rooms asks the bulk allocator only for those
 * whose pages are still in use, takes the others back, and lets go of
 * the pages it replaced.
 */
static void reuse_bulk_asks_only_for_pages_still_in_use(struct kunit *test)
{
	/* 8 rooms in every CPU's run */
	struct labyrinth *lab = lt_create(test, 8 * num_possible_cpus(), 0, 1,
					  0, LABYRINTH_REUSE);
	struct page *pages[4];
	void *addrs[4], *again[4];
	struct labyrinth_stats s[2];
	unsigned int i, n1, n2 = 0, e;

	lt_hold_refill(lab);
	labyrinth_set_nolock_hook(lab, lt_nolock_fail_hook);
	migrate_disable();
	e = labyrinth_entrance(lab, smp_processor_id());
	n1 = labyrinth_claim_bulk(lab, OWNER_A, 0, 4, addrs, NULL);
	for (i = 0; i < n1; i++) {
		pages[i] = labyrinth_detach(lab, addrs[i], OWNER_A);
		if (i % 2 == 0)		/* rooms e and e + 2: back */
			put_page(pages[i]);
	}
	if (n1 == 4)
		n2 = lt_bulk_from(test, lab, e, 4, again, s);
	migrate_enable();
	kunit_deactivate_static_stub(test, labyrinth_alloc_bulk);
	labyrinth_set_nolock_hook(lab, NULL);

	KUNIT_ASSERT_EQ(test, n1, 4);
	KUNIT_ASSERT_EQ(test, n2, 4);
	KUNIT_EXPECT_EQ(test, lt_bulk_calls, 1);
	KUNIT_EXPECT_EQ(test, lt_bulk_asked, 2);
	KUNIT_EXPECT_EQ(test, s[1].refills_reused - s[0].refills_reused, 2);
	KUNIT_EXPECT_EQ(test, s[1].refills_gfp - s[0].refills_gfp, 2);
	KUNIT_EXPECT_EQ(test, s[1].collisions - s[0].collisions, 0);
	KUNIT_EXPECT_EQ(test, s[1].rooms_void, 0);
	for (i = 0; i < 4; i++) {
		KUNIT_EXPECT_EQ(test, labyrinth_room_index(lab, again[i]), e + i);
		if (i % 2 == 0) {
			KUNIT_EXPECT_PTR_EQ(test, again[i], addrs[i]);
		} else {
			KUNIT_EXPECT_PTR_NE(test, again[i], addrs[i]);
			KUNIT_EXPECT_EQ(test, page_ref_count(pages[i]), 1);
			__free_pages(pages[i], 0);
		}
	}
	lt_release_all(test, lab, 4, OWNER_A, again);
}

/*
 * A lent page handed to another CPU, which writes all of it and then puts
 * its reference, as the network stack does with a frame's page.
 */
struct lt_lend {
	struct page *page;	/* handed over; NULL once put */
	unsigned long puts;
};

static int lt_lend_putter_fn(void *data)
{
	struct lt_lend *l = data;
	struct page *page;

	while (!kthread_should_stop()) {
		/* pairs with the claimer's store-release */
		page = smp_load_acquire(&l->page);
		if (!page) {
			cpu_relax();
			continue;
		}
		memset(page_address(page), 0xab, PAGE_SIZE);
		WRITE_ONCE(l->page, NULL);
		put_page(page);
		l->puts++;
	}
	return 0;
}

#define LT_LEND_ROUNDS	200

/*
 * A claim takes a lent page back only after the last holder's put: one
 * CPU detaches the only room's page and hands it to another, which fills
 * it with a pattern and puts it, while this CPU claims again and again,
 * with every allocator failing. A claim that met the page still in use
 * must fail (the interleaving happened when some did), and the claim that
 * takes it back must see the whole pattern at the room's address.
 */
static void reuse_take_back_waits_for_the_last_put(struct kunit *test)
{
	unsigned int cpu0, cpu1, i, torn = 0, lost = 0;
	unsigned long in_use = 0, deadline;
	struct task_struct *t;
	struct labyrinth *lab;
	struct lt_lend *l;
	struct page *page;
	void *a, *b;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs: one puts the page the other lent");
	l = kunit_kzalloc(test, sizeof(*l), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, l);
	lab = lt_create(test, 1, 0, 0, 0, LABYRINTH_REUSE);
	lt_hold_refill(lab);
	kunit_activate_static_stub(test, labyrinth_alloc_room, lt_alloc_fail_stub);
	labyrinth_set_nolock_hook(lab, lt_nolock_fail_hook);
	migrate_disable();
	cpu0 = smp_processor_id();
	cpu1 = cpumask_any_but(cpu_online_mask, cpu0);
	t = kthread_create_on_cpu(lt_lend_putter_fn, l, cpu1, "lt_lend/%u");
	if (IS_ERR(t)) {
		migrate_enable();
		KUNIT_FAIL(test, "no putter thread");
		return;
	}
	wake_up_process(t);
	a = labyrinth_claim(lab, OWNER_A);
	for (i = 0; a && i < LT_LEND_ROUNDS; i++) {
		memset(a, 0, PAGE_SIZE);
		page = labyrinth_detach(lab, a, OWNER_A);
		if (IS_ERR(page))
			break;
		/* the zeroes before the hand-over: pairs with the putter */
		smp_store_release(&l->page, page);
		deadline = jiffies + HZ;
		while (!(b = labyrinth_claim(lab, OWNER_A)) &&
		       time_before(jiffies, deadline))
			in_use++;
		if (!b) {
			lost++;
			a = NULL;
			break;
		}
		torn += b != a || memchr_inv(b, 0xab, PAGE_SIZE);
		a = b;
	}
	migrate_enable();
	kthread_stop(t);
	kunit_deactivate_static_stub(test, labyrinth_alloc_room);
	labyrinth_set_nolock_hook(lab, NULL);
	kunit_info(test, "%u rounds: %lu puts; %lu claims met the page still in use\n",
		   i, l->puts, in_use);
	KUNIT_EXPECT_EQ(test, i, LT_LEND_ROUNDS);
	KUNIT_EXPECT_EQ(test, lost, 0);
	KUNIT_EXPECT_EQ_MSG(test, torn, 0,
			    "a claim took the page back before the last put");
	KUNIT_EXPECT_EQ(test, l->puts, LT_LEND_ROUNDS);
	KUNIT_EXPECT_GT_MSG(test, in_use, 0,
			    "no claim met the page in use: nothing was raced");
	KUNIT_EXPECT_EQ(test, lt_stats(lab).refills_reused, LT_LEND_ROUNDS);
	if (a && i == LT_LEND_ROUNDS)
		KUNIT_EXPECT_EQ(test, labyrinth_release(lab, a, OWNER_A), 0);
}

static struct kunit_case labyrinth_cases[] = {
	KUNIT_CASE_PARAM(claim_and_release_in_context, lt_ctx_gen_params),
	KUNIT_CASE_PARAM(detach_in_context, lt_ctx_gen_params),
	KUNIT_CASE_PARAM(owner_in_context, lt_ctx_gen_params),
	KUNIT_CASE_PARAM(stats_in_context, lt_ctx_gen_params),
	KUNIT_CASE_PARAM(claim_when_full_in_context, lt_ctx_gen_params),
	KUNIT_CASE_PARAM(claim_skips_busy_lock_in_context, lt_ctx_gen_params),
	KUNIT_CASE_PARAM(bad_input_in_context, lt_ctx_gen_params),
	KUNIT_CASE_PARAM(claim_meets_void_room_in_context, lt_ctx_gen_params),
	KUNIT_CASE_PARAM(claim_gfp_fills_void_room_in_context, lt_ctx_gen_params),
	KUNIT_CASE(claim_when_full_stops_at_max_probe),
	KUNIT_CASE(claim_after_a_failed_one_finds_a_freed_room),
	KUNIT_CASE(claim_takes_near_door_after_owned_room),
	KUNIT_CASE(claim_takes_far_door_after_busy_lock),
	KUNIT_CASE_PARAM(claim_finds_the_only_free_room, lt_walk_gen_params),
	KUNIT_CASE(release_after_detach_then_refill),
	KUNIT_CASE(release_gen_refuses_release_of_an_earlier_claim),
	KUNIT_CASE(claim_gen_after_walk_and_detach),
	KUNIT_CASE(release_gen_names_its_room),
	KUNIT_CASE(create_rejects_bad_config),
	KUNIT_CASE(create_accepts_edge_configs),
	KUNIT_CASE(create_fails_at_each_allocation),
	KUNIT_CASE(claim_refill_failure_leaves_room_void),
	KUNIT_CASE(claim_fills_void_entrance_once),
	KUNIT_CASE(reuse_takes_back_the_page_once_the_owner_puts_it),
	KUNIT_CASE(reuse_lets_go_of_a_page_still_in_use),
	KUNIT_CASE(reuse_claim_without_gfp_passes_a_page_in_use),
	KUNIT_CASE(reuse_bulk_asks_only_for_pages_still_in_use),
	KUNIT_CASE(reuse_take_back_waits_for_the_last_put),
	KUNIT_CASE(claim_passes_locked_void_entrance_once),
	KUNIT_CASE(claim_bulk_takes_rooms_in_turn),
	KUNIT_CASE(claim_bulk_fills_void_rooms_at_once),
	KUNIT_CASE(claim_bulk_asks_once_per_void_room),
	KUNIT_CASE(claim_bulk_refuses_bad_calls),
	KUNIT_CASE_PARAM(claim_bulk_in_context, lt_ctx_gen_params),
	KUNIT_CASE(claim_fill_failure_keeps_room_marked_void),
	KUNIT_CASE(claim_fill_failure_gives_the_free_bit_back),
	KUNIT_CASE(failing_refill_backs_off),
	KUNIT_CASE(refill_stops_at_first_failure_and_backs_off),
	KUNIT_CASE(rooms_are_compound_pages),
	KUNIT_CASE_PARAM_ATTR(refill_failures_under_hardirq_claims,
			      lt_fail_pct_gen_params, { .speed = KUNIT_SPEED_SLOW }),
	KUNIT_CASE(claims_from_each_context_enter_different_rooms),
	KUNIT_CASE(stray_entrance_returns_home),
	KUNIT_CASE(release_hints_the_rooms_home_cpu),
	KUNIT_CASE(claim_after_release_reuses_the_room),
	KUNIT_CASE(owner_writes_its_struct_page_and_lets_go),
	KUNIT_CASE(zero_flag_hides_previous_owners_bytes),
	KUNIT_CASE(poison_flag_catches_write_after_release),
	KUNIT_CASE(destroy_with_owned_room_leaves_pages_to_owner),
	KUNIT_CASE_SLOW(claim_is_exclusive_under_concurrency),
	KUNIT_CASE(free_map_race_with_release),
	KUNIT_CASE(claim_at_cursor_unless_a_room_is_void),
	KUNIT_CASE(cursor_steps_through_another_run),
	{}
};

/* The suite's NMI handler, where NMIs can be sent (lt_run_in_nmi()). */
static int lt_suite_init(struct kunit_suite *suite)
{
#ifdef LT_HAVE_NMI
	return register_nmi_handler(NMI_LOCAL, lt_nmi_handler, 0, "labyrinth_test");
#else
	return 0;
#endif
}

static void lt_suite_exit(struct kunit_suite *suite)
{
#ifdef LT_HAVE_NMI
	unregister_nmi_handler(NMI_LOCAL, "labyrinth_test");
#endif
}

static struct kunit_suite labyrinth_suite = {
	.name = "labyrinth",
	.suite_init = lt_suite_init,
	.suite_exit = lt_suite_exit,
	.test_cases = labyrinth_cases,
};

/* ---- debugfs ---- */

/* Render one of the debugfs files of @lab into a NUL-terminated buffer. */
static char *lt_render(struct kunit *test, struct labyrinth *lab,
		       int (*show)(struct seq_file *m, void *v))
{
	struct seq_file *m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, m);
	m->size = 64 * 1024;
	m->buf = kunit_kzalloc(test, m->size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m->buf);
	m->private = lab;
	KUNIT_ASSERT_EQ(test, show(m, NULL), 0);
	KUNIT_ASSERT_LT(test, m->count, m->size);
	m->buf[m->count] = '\0';
	return m->buf;
}

static u64 lt_field(struct kunit *test, const char *text, const char *key)
{
	char pat[40];
	const char *at;
	u64 v = U64_MAX;

	snprintf(pat, sizeof(pat), "\n%s ", key);
	at = strncmp(text, pat + 1, strlen(pat + 1)) ? strstr(text, pat) : text - 1;
	KUNIT_ASSERT_NOT_NULL_MSG(test, at, "no %s in stats", key);
	if (sscanf(at + strlen(pat), "%llu", &v) != 1)
		KUNIT_FAIL(test, "%s is not a number", key);
	return v;
}

static unsigned int lt_count(const char *text, const char *what)
{
	unsigned int n = 0;

	while ((text = strstr(text, what))) {
		n++;
		text += strlen(what);
	}
	return n;
}

/* The heat of every door of @lab's map, summed; each door's target checked. */
static unsigned int lt_map_hits(struct kunit *test, struct labyrinth *lab)
{
	char *text = lt_render(test, lab, labyrinth_map_show), *line;
	unsigned int i, d, to, hits, sum = 0;

	while ((line = strsep(&text, "\n"))) {
		if (sscanf(line, "door %u %u %u %u", &i, &d, &to, &hits) != 4)
			continue;
		KUNIT_EXPECT_EQ(test, to, labyrinth_door_target(lab, i, d));
		sum += hits;
	}
	return sum;
}

/* The sum of the probes_per_claim histogram of a stats file. */
static u64 lt_hist_sum(struct kunit *test, char *text)
{
	char *at = strstr(text, "\nprobes_per_claim"), *end, *tok, *colon;
	u64 sum = 0, v;

	KUNIT_ASSERT_NOT_NULL(test, at);
	at += strlen("\nprobes_per_claim");
	end = strchr(at, '\n');
	if (end)
		*end = '\0';
	while ((tok = strsep(&at, " "))) {
		colon = strchr(tok, ':');	/* "1-1:5" */
		if (!colon)
			continue;
		KUNIT_EXPECT_EQ(test, kstrtoull(colon + 1, 10, &v), 0);
		sum += v;
	}
	if (end)
		*end = '\n';
	return sum;
}

/* The file says what labyrinth_get_stats() says; collecting adds its part. */
static void stats_file_matches_get_stats(struct kunit *test)
{
	struct labyrinth *lab = lt_create(test, 5, 0, 2, 0, 0);
	struct labyrinth_stats s;
	void *addrs[5];
	char *text;

	labyrinth_set_collect(true);
	lt_claim_all(test, lab, 5, OWNER_A, addrs);
	labyrinth_set_collect(false);
	labyrinth_release(lab, addrs[1], OWNER_B);	/* bad call */
	labyrinth_release(lab, addrs[1], OWNER_A);
	labyrinth_release(lab, addrs[2], OWNER_A);
	text = lt_render(test, lab, labyrinth_stats_show);
	labyrinth_get_stats(lab, &s);
	KUNIT_EXPECT_EQ(test, lt_field(test, text, "claims"), s.claims);
	KUNIT_EXPECT_EQ(test, lt_field(test, text, "releases"), s.releases);
	KUNIT_EXPECT_EQ(test, lt_field(test, text, "collisions"), s.collisions);
	KUNIT_EXPECT_EQ(test, lt_field(test, text, "fail_full"), s.fail_full);
	KUNIT_EXPECT_EQ(test, lt_field(test, text, "bad_calls"), s.bad_calls);
	KUNIT_EXPECT_EQ(test, lt_field(test, text, "refills"), s.refills);
	KUNIT_EXPECT_EQ(test, lt_field(test, text, "rooms_owned"), s.rooms_owned);
	KUNIT_EXPECT_EQ(test, lt_field(test, text, "rooms_void"), s.rooms_void);
	KUNIT_EXPECT_EQ(test, lt_field(test, text, "nr_rooms"), 5);
	KUNIT_EXPECT_EQ(test, s.claims, 5);
	KUNIT_EXPECT_EQ(test, s.bad_calls, 1);
	/* collected while on: every claim's probes, and the 5 rooms owned */
	KUNIT_EXPECT_EQ(test, lt_hist_sum(test, text), 5);
	KUNIT_EXPECT_EQ(test, lt_field(test, text, "owned_high_water"), 5);
	KUNIT_EXPECT_EQ(test, lt_field(test, text, "collecting"), 0);
	lt_release_all(test, lab, 1, OWNER_A, addrs);
	lt_release_all(test, lab, 2, OWNER_A, addrs + 3);
}

/* Not collecting, claims count no probe lengths, heat or high water. */
static void collecting_off_costs_claims_nothing(struct kunit *test)
{
	struct labyrinth *lab = lt_create(test, 4, 0, 2, 0, 0);
	void *addrs[4];
	char *text;

	labyrinth_set_collect(false);
	lt_claim_all(test, lab, 4, OWNER_A, addrs);
	text = lt_render(test, lab, labyrinth_stats_show);
	KUNIT_EXPECT_EQ(test, lt_hist_sum(test, text), 0);
	KUNIT_EXPECT_EQ(test, lt_field(test, text, "owned_high_water"), 0);
	KUNIT_EXPECT_EQ(test, lt_map_hits(test, lab), 0);
	lt_release_all(test, lab, 4, OWNER_A, addrs);
}

static void rooms_file_lists_owners(struct kunit *test)
{
	struct labyrinth *lab = lt_create(test, 4, 0, 2, 0, 0);
	char want[96], *text, *line;
	unsigned int ia, ib, owned = 0, i = 0;
	void *a, *b;

	a = labyrinth_claim(lab, OWNER_A);	/* not collecting: no site */
	labyrinth_set_collect(true);
	b = labyrinth_claim(lab, OWNER_B);
	text = lt_render(test, lab, labyrinth_rooms_show);
	labyrinth_set_collect(false);		/* forgets the sites */
	KUNIT_ASSERT_NOT_NULL(test, b);
	ia = labyrinth_room_index(lab, a);
	ib = labyrinth_room_index(lab, b);
	while ((line = strsep(&text, "\n")) && *line) {
		if (*line == '#')
			continue;
		if (i == ia) {
			snprintf(want, sizeof(want), "%u owned %p - -", i, OWNER_A);
			KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(line, want),
						  "line \"%s\" lacks \"%s\"", line, want);
			owned++;
		} else if (i == ib) {
			snprintf(want, sizeof(want), "%u owned %p %s", i, OWNER_B,
				 __func__);
			KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(line, want),
						  "line \"%s\" lacks \"%s\"", line, want);
			owned++;
		} else {
			snprintf(want, sizeof(want), "%u free - - -", i);
			KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(line, want),
						  "line \"%s\"", line);
		}
		i++;
	}
	KUNIT_EXPECT_EQ(test, i, 4);
	KUNIT_EXPECT_EQ(test, owned, 2);
	labyrinth_release(lab, a, OWNER_A);
	labyrinth_release(lab, b, OWNER_B);
}

/*
 * A claim site is shown only for the claim that recorded it: when
 * collecting stops the sites are forgotten, so a room claimed while
 * collecting and claimed again after (locality: the same room, the same
 * owner) does not show its earlier claim's site and hold time, in the
 * rooms file or in destroy's leak report.
 */
static void collect_off_forgets_claim_sites(struct kunit *test)
{
	struct labyrinth *lab = lt_create(test, 4, 0, 2, 0, 0);
	unsigned int ia, ib;
	char want[96], *text;
	void *a, *b, *again;

	migrate_disable();		/* one CPU: the room released is reused */
	labyrinth_set_collect(true);
	b = labyrinth_claim(lab, OWNER_B);	/* held across the stop */
	a = labyrinth_claim(lab, OWNER_A);	/* claimed last: its release */
	KUNIT_EXPECT_EQ(test, labyrinth_release(lab, a, OWNER_A), 0);
	labyrinth_set_collect(false);
	again = labyrinth_claim(lab, OWNER_A);	/* not collecting: no site */
	migrate_enable();
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_ASSERT_PTR_EQ(test, again, a);
	ia = labyrinth_room_index(lab, a);
	ib = labyrinth_room_index(lab, b);
	text = lt_render(test, lab, labyrinth_rooms_show);
	snprintf(want, sizeof(want), "\n%u owned %p - -", ia, OWNER_A);
	KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(text, want), "no \"%s\" in\n%s",
				  want + 1, text);
	snprintf(want, sizeof(want), "\n%u owned %p - -", ib, OWNER_B);
	KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(text, want), "no \"%s\" in\n%s",
				  want + 1, text);
	KUNIT_EXPECT_EQ(test, lt_count(text, __func__), 0);
	labyrinth_release(lab, again, OWNER_A);
	labyrinth_release(lab, b, OWNER_B);
}

/*
 * The map is a fact a line: the labyrinth, a line per wing, per room and
 * per door; doors carry the collisions that crossed them while collecting.
 */
static void map_lists_every_room_and_door(struct kunit *test)
{
	struct labyrinth *lab = lt_create(test, 7, 0, 3, 0, 0);
	struct labyrinth_stats s0, s1;
	char *text, want[96];
	void *addrs[7];
	unsigned int ia;

	labyrinth_set_collect(true);
	s0 = lt_stats(lab);
	lt_claim_all(test, lab, 7, OWNER_A, addrs);
	s1 = lt_stats(lab);
	ia = labyrinth_room_index(lab, addrs[0]);
	text = lt_render(test, lab, labyrinth_map_show);
	snprintf(want, sizeof(want), "labyrinth %s rooms 7 wings 3 collecting 1\n",
		 test->name);
	KUNIT_EXPECT_NOT_NULL(test, strstr(text, want));
	KUNIT_EXPECT_EQ(test, lt_count(text, "\nwing "), 3);
	KUNIT_EXPECT_EQ(test, lt_count(text, "\nroom "), 7);
	KUNIT_EXPECT_EQ(test, lt_count(text, "\ndoor "), 7 * 3);
	KUNIT_EXPECT_EQ(test, lt_count(text, " owned lt_claim_all"), 7);
	snprintf(want, sizeof(want), "\nroom %u owned lt_claim_all", ia);
	KUNIT_EXPECT_NOT_NULL(test, strstr(text, want));
	/* each collision left its room by a door, the failed claim's too */
	KUNIT_EXPECT_EQ(test, lt_map_hits(test, lab),
			s1.collisions - s0.collisions);
	/* stopping forgets the sites; the heat stays */
	labyrinth_set_collect(false);
	text = lt_render(test, lab, labyrinth_map_show);
	KUNIT_EXPECT_EQ(test, lt_count(text, " owned lt_claim_all"), 0);
	KUNIT_EXPECT_EQ(test, lt_count(text, " owned -"), 7);
	KUNIT_EXPECT_EQ(test, lt_map_hits(test, lab),
			s1.collisions - s0.collisions);
	lt_release_all(test, lab, 7, OWNER_A, addrs);
}

/* The module's page totals, debugfs labyrinth/pages. */
struct lt_totals {
	u64 ended, taken, freed, given, unbalanced;
};

static struct lt_totals lt_totals(struct kunit *test)
{
	char *text = lt_render(test, NULL, labyrinth_pages_show);

	return (struct lt_totals) {
		.ended = lt_field(test, text, "labyrinths_ended"),
		.taken = lt_field(test, text, "pages_taken"),
		.freed = lt_field(test, text, "pages_freed"),
		.given = lt_field(test, text, "pages_given"),
		.unbalanced = lt_field(test, text, "unbalanced"),
	};
}

/*
 * Every labyrinth counts the pages it takes, frees and gives away; at
 * destroy the counts balance and join the module's totals (labyrinth/pages).
 */
static void destroy_balances_page_counts(struct kunit *test)
{
	const struct labyrinth_config cfg = { .name = "lt_pages", .nr_rooms = 4,
					      .order = 1 };
	struct lt_totals t0, t;
	struct labyrinth *lab;
	struct page *page;
	void *a, *b;
	char *text;

	t0 = lt_totals(test);

	lab = labyrinth_create(&cfg);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, lab);
	labyrinth_set_refill_delay(lab, 3600 * HZ);
	a = labyrinth_claim(lab, OWNER_A);
	b = labyrinth_claim(lab, OWNER_A);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	page = labyrinth_detach(lab, a, OWNER_A);	/* 2 pages given */
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, page);
	labyrinth_flush_refill(lab);			/* 2 more taken */
	KUNIT_EXPECT_EQ(test, lt_stats(lab).rooms_void, 0);
	text = lt_render(test, lab, labyrinth_stats_show);
	KUNIT_EXPECT_EQ(test, lt_field(test, text, "pages_taken"), 10);
	KUNIT_EXPECT_EQ(test, lt_field(test, text, "pages_given"), 2);
	KUNIT_EXPECT_EQ(test, lt_field(test, text, "pages_freed"), 0);
	labyrinth_destroy(lab);				/* b: 2 more given */

	t = lt_totals(test);
	KUNIT_EXPECT_EQ(test, t.ended, t0.ended + 1);
	KUNIT_EXPECT_EQ(test, t.taken, t0.taken + 10);
	KUNIT_EXPECT_EQ(test, t.freed, t0.freed + 6);
	KUNIT_EXPECT_EQ(test, t.given, t0.given + 4);
	KUNIT_EXPECT_EQ(test, t.unbalanced, t0.unbalanced);
	__free_pages(page, 1);
	__free_pages(virt_to_page(b), 1);
}

/*
 * Destroy puts the rooms' references to lent pages: one still in use is
 * given (the caller frees it with its own), one back is freed; the books
 * balance.
 */
static void reuse_destroy_puts_lent_pages(struct kunit *test)
{
	const struct labyrinth_config cfg = {
		.name = "lt_reuse", .nr_rooms = 4, .flags = LABYRINTH_REUSE,
	};
	struct lt_totals t0 = lt_totals(test), t;
	struct labyrinth *lab;
	struct page *held, *back;
	void *a, *b;

	lab = labyrinth_create(&cfg);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, lab);
	labyrinth_set_refill_delay(lab, 3600 * HZ);
	a = labyrinth_claim(lab, OWNER_A);
	b = labyrinth_claim(lab, OWNER_A);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	held = labyrinth_detach(lab, a, OWNER_A);
	back = labyrinth_detach(lab, b, OWNER_A);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, held);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, back);
	put_page(back);
	labyrinth_destroy(lab);

	t = lt_totals(test);
	KUNIT_EXPECT_EQ(test, t.freed, t0.freed + 3);
	KUNIT_EXPECT_EQ(test, t.given, t0.given + 1);
	KUNIT_EXPECT_EQ(test, t.unbalanced, t0.unbalanced);
	KUNIT_EXPECT_EQ(test, page_ref_count(held), 1);
	__free_pages(held, 0);
}

/* Two labyrinths of one name get two directories; destroy removes them. */
static void debugfs_dirs_are_unique_and_removed(struct kunit *test)
{
	const struct labyrinth_config cfg = { .name = "lt_twin", .nr_rooms = 1 };
	struct labyrinth *one, *two;
	struct dentry *root, *d;

	root = debugfs_lookup("labyrinth", NULL);
	if (!root)
		kunit_skip(test, "no debugfs");
	one = labyrinth_create(&cfg);
	two = labyrinth_create(&cfg);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, one);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, two);
	d = debugfs_lookup("lt_twin", root);
	KUNIT_EXPECT_NOT_NULL(test, d);
	dput(d);
	d = debugfs_lookup("lt_twin.1", root);
	KUNIT_EXPECT_NOT_NULL(test, d);
	dput(d);
	labyrinth_destroy(one);
	labyrinth_destroy(two);
	d = debugfs_lookup("lt_twin", root);
	KUNIT_EXPECT_NULL(test, d);
	dput(d);
	d = debugfs_lookup("lt_twin.1", root);
	KUNIT_EXPECT_NULL(test, d);
	dput(d);
	dput(root);
}

static struct kunit_case labyrinth_debugfs_cases[] = {
	KUNIT_CASE(stats_file_matches_get_stats),
	KUNIT_CASE(rooms_file_lists_owners),
	KUNIT_CASE(collect_off_forgets_claim_sites),
	KUNIT_CASE(map_lists_every_room_and_door),
	KUNIT_CASE(collecting_off_costs_claims_nothing),
	KUNIT_CASE(debugfs_dirs_are_unique_and_removed),
	KUNIT_CASE(destroy_balances_page_counts),
	KUNIT_CASE(reuse_destroy_puts_lent_pages),
	{}
};

static struct kunit_suite labyrinth_debugfs_suite = {
	.name = "labyrinth_debugfs",
	.test_cases = labyrinth_debugfs_cases,
};

/* ---- Release, detach, owner and stats while a room lock is held ---- */

/*
 * labyrinth.h promises that release, detach, owner and get_stats never
 * take a room lock. A task holds one room's lock with interrupts off while
 * those calls run on another CPU (in task or hard irq context), or in an
 * NMI the holder sends itself. The holder checks that the calls finished
 * while it still held the lock: calls that waited for it would finish only
 * after the holder gave up (LT_HOLD_NS), or in the NMI never.
 */
#define LT_HOLD_NS		(2 * NSEC_PER_SEC)

struct lt_held {
	struct lt_run run;		/* the calls, made in run.ctx */
	raw_spinlock_t *lock;		/* the lock of the room at run.addr */
	bool detach;			/* the owner detaches, else releases */
	bool locked_before, locked_after;	/* the lock, as the calls saw it */
	bool called;			/* the calls are done */
	bool called_while_held;		/* ... and the lock was still held */
	struct completion locked, unlocked, done;
	struct irq_work hard;		/* the calls in hard irq */
};

/* Every call on the room whose lock is held; the right owner's succeeds. */
static void lt_held_calls_fn(struct lt_run *run)
{
	struct lt_held *hd = container_of(run, struct lt_held, run);
	struct labyrinth *lab = run->lab;
	void *addr = run->addr;

	hd->locked_before = raw_spin_is_locked(hd->lock);
	run->owner = labyrinth_owner(lab, addr);
	labyrinth_get_stats(lab, &run->before);
	lt_code(run, labyrinth_release(lab, addr, OWNER_B));
	lt_code(run, PTR_ERR_OR_ZERO(labyrinth_detach(lab, addr, OWNER_B)));
	lt_code(run, labyrinth_release(lab, addr + 64, OWNER_A));
	if (hd->detach) {
		run->page = labyrinth_detach(lab, addr, OWNER_A);
		lt_code(run, PTR_ERR_OR_ZERO(run->page));
	} else {
		lt_code(run, labyrinth_release(lab, addr, OWNER_A));
	}
	run->owner_after = labyrinth_owner(lab, addr);
	lt_code(run, labyrinth_release(lab, addr, OWNER_A));
	lt_code(run, PTR_ERR_OR_ZERO(labyrinth_detach(lab, addr, OWNER_A)));
	labyrinth_get_stats(lab, &run->after);
	hd->locked_after = raw_spin_is_locked(hd->lock);
	/* pairs with the holder's acquire: the calls are over */
	smp_store_release(&hd->called, true);
}

static const long lt_held_codes[] = {
	-EPERM, -EPERM, -EINVAL, 0, -ENOENT, -ENOENT,
};

/* On its CPU: hold the room lock until the calls are done, or give up. */
static int lt_holder_fn(void *data)
{
	struct lt_held *hd = data;
	unsigned long flags;
	u64 deadline;

	raw_spin_lock_irqsave(hd->lock, flags);
	complete(&hd->locked);
	deadline = ktime_get_mono_fast_ns() + LT_HOLD_NS;
	/* pairs with the release in lt_held_calls_fn() */
	while (!smp_load_acquire(&hd->called) &&
	       ktime_get_mono_fast_ns() < deadline)	/* interrupts are off */
		cpu_relax();
	/* as above: read while the lock is still held */
	hd->called_while_held = smp_load_acquire(&hd->called);
	raw_spin_unlock_irqrestore(hd->lock, flags);
	complete(&hd->unlocked);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

static void lt_held_hard_fn(struct irq_work *work)
{
	struct lt_held *hd = container_of(work, struct lt_held, hard);

	lt_call(&hd->run);
}

/*
 * Bound to the calling CPU: once the lock is held, the calls in task or
 * hard irq. (Not the test's own task: woken by the holder, the scheduler
 * may queue it behind the holder, on the CPU whose interrupts are off.
 * Not a timer: with the holder's CPU stuck, a timer of the other CPU may
 * not fire before the holder gives up; an irq_work is a self-IPI.)
 */
static int lt_caller_fn(void *data)
{
	struct lt_held *hd = data;
	struct lt_run *run = &hd->run;

	if (!wait_for_completion_timeout(&hd->locked, 10 * HZ)) {
		/* never held: the calls are not made */
	} else if (run->ctx == LT_TASK) {
		lt_call(run);
	} else {
		hd->hard = IRQ_WORK_INIT_HARD(lt_held_hard_fn);
		irq_work_queue(&hd->hard);
		irq_work_sync(&hd->hard);
	}
	complete(&hd->done);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

/* A task on one CPU holds the lock; the calls run on another CPU. */
static void lt_held_on_two_cpus(struct kunit *test, struct lt_held *hd)
{
	unsigned int holder = cpumask_first(cpu_online_mask);
	unsigned int caller = cpumask_next(holder, cpu_online_mask);
	struct task_struct *task, *calls;

	calls = kthread_create_on_cpu(lt_caller_fn, hd, caller, "lt_caller/%u");
	KUNIT_ASSERT_FALSE(test, IS_ERR(calls));
	task = kthread_create_on_cpu(lt_holder_fn, hd, holder, "lt_holder/%u");
	if (IS_ERR(task)) {
		kthread_stop(calls);
		KUNIT_FAIL(test, "no holder thread");
		return;
	}
	wake_up_process(calls);
	wake_up_process(task);
	if (!wait_for_completion_timeout(&hd->done, 20 * HZ))
		KUNIT_FAIL(test, "the calls never ended");
	if (!wait_for_completion_timeout(&hd->unlocked, 10 * HZ))
		KUNIT_FAIL(test, "the holder never let go of the room lock");
	kthread_stop(calls);
	kthread_stop(task);
}

/* The task holds the lock with interrupts off and sends itself the NMI. */
static void lt_held_in_nmi(struct kunit *test, struct lt_held *hd)
{
#ifdef LT_HAVE_NMI
	unsigned long flags;

	local_irq_save(flags);
	raw_spin_lock(hd->lock);
	lt_run_in_nmi(&hd->run);
	/* pairs with the release in lt_held_calls_fn() */
	hd->called_while_held = smp_load_acquire(&hd->called);
	raw_spin_unlock(hd->lock);
	local_irq_restore(flags);
#endif
}

static const enum lt_ctx lt_held_ctxs[] = { LT_TASK, LT_HARDIRQ, LT_NMI };

static void lt_held_desc(const enum lt_ctx *ctx, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s_%s", lt_ctx_names[*ctx],
		 *ctx == LT_NMI ? "on_the_holding_cpu" : "on_another_cpu");
}

KUNIT_ARRAY_PARAM(lt_held, lt_held_ctxs, lt_held_desc);

/*
 * Let go of a room whose lock another context holds: released in one
 * round, detached in the next, each after a wrong owner's release and
 * detach and an interior address were refused; owner and stats read
 * meanwhile.
 */
static void release_detach_owner_stats_while_room_is_locked(struct kunit *test)
{
	const enum lt_ctx *ctx = test->param_value;
	struct labyrinth *lab;
	struct lt_held *hd;
	unsigned int i, round;

	if (*ctx == LT_NMI)
		lt_need_nmi(test);
	else if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs: one holds the room lock, the other calls");
	lab = lt_create(test, 2, 0, 0, 0, 0);
	lt_hold_refill(lab);		/* the detached room stays void */
	for (round = 0; round < 2; round++) {
		hd = kunit_kzalloc(test, sizeof(*hd), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, hd);
		hd->run.fn = lt_held_calls_fn;
		hd->run.ctx = *ctx;
		hd->run.lab = lab;
		hd->detach = round;
		init_completion(&hd->locked);
		init_completion(&hd->unlocked);
		init_completion(&hd->done);
		hd->run.addr = labyrinth_claim(lab, OWNER_A);
		KUNIT_ASSERT_NOT_NULL(test, hd->run.addr);
		i = labyrinth_room_index(lab, hd->run.addr);
		KUNIT_ASSERT_NE(test, i, UINT_MAX);
		hd->lock = labyrinth_room_lock(lab, i);

		if (*ctx == LT_NMI)
			lt_held_in_nmi(test, hd);
		else
			lt_held_on_two_cpus(test, hd);

		/* detached: ours, freed before any assertion may end the case */
		if (round && !IS_ERR_OR_NULL(hd->run.page)) {
			KUNIT_EXPECT_PTR_EQ(test, hd->run.page,
					    virt_to_page(hd->run.addr));
			__free_pages(hd->run.page, 0);
		}
		KUNIT_ASSERT_TRUE_MSG(test, hd->run.in_ctx,
				      "did not run in %s context", lt_ctx_names[*ctx]);
		KUNIT_EXPECT_TRUE_MSG(test, hd->called_while_held,
				      "round %u: the calls waited for the room lock", round);
		KUNIT_EXPECT_TRUE(test, hd->locked_before);
		KUNIT_EXPECT_TRUE(test, hd->locked_after);
		KUNIT_EXPECT_PTR_EQ(test, hd->run.owner, OWNER_A);
		KUNIT_EXPECT_NULL(test, hd->run.owner_after);
		KUNIT_ASSERT_EQ(test, hd->run.nr_codes, ARRAY_SIZE(lt_held_codes));
		for (i = 0; i < hd->run.nr_codes; i++)
			KUNIT_EXPECT_EQ_MSG(test, hd->run.codes[i], lt_held_codes[i],
					    "round %u, call %u", round, i);
		KUNIT_EXPECT_EQ(test, hd->run.before.rooms_owned, 1);
		KUNIT_EXPECT_EQ(test, hd->run.after.rooms_owned, 0);
		KUNIT_EXPECT_EQ(test, hd->run.after.rooms_void, round);
		KUNIT_EXPECT_EQ(test, hd->run.after.releases -
				hd->run.before.releases, !round);
		KUNIT_EXPECT_EQ(test, hd->run.after.detaches -
				hd->run.before.detaches, round);
		KUNIT_EXPECT_EQ(test, hd->run.after.bad_calls -
				hd->run.before.bad_calls, 5);
	}
}

static struct kunit_case labyrinth_lockheld_cases[] = {
	KUNIT_CASE_PARAM(release_detach_owner_stats_while_room_is_locked,
			 lt_held_gen_params),
	{}
};

static struct kunit_suite labyrinth_lockheld_suite = {
	.name = "labyrinth_lockheld",
	.suite_init = lt_suite_init,	/* lt_run_in_nmi()'s handler */
	.suite_exit = lt_suite_exit,
	.test_cases = labyrinth_lockheld_cases,
};

/* ---- Misuse racing the true owners ---- */

/* Runs at least this long, longer until the misuse met owned rooms. */
#define LT_MISUSE_MIN_MS	300
#define LT_MISUSE_MAX_MS	10000
#define LT_MISUSE_PERIOD_NS	(200 * NSEC_PER_USEC)
/* Order 1: addr + PAGE_SIZE is an interior address that is page-aligned. */
#define LT_MISUSE_ORDER		1
#define LT_MISUSE_WORDS		((PAGE_SIZE << LT_MISUSE_ORDER) / sizeof(long))

/* A token no claim ever uses. */
static const int lt_wrong_owner;
#define OWNER_WRONG ((const void *)&lt_wrong_owner)

/* Write (@write) or check a canary over a whole order-1 room. */
static bool lt_misuse_canary(unsigned long *words, unsigned long seed,
			     bool write)
{
	unsigned long i;

	for (i = 0; i < LT_MISUSE_WORDS; i++) {
		if (write)
			WRITE_ONCE(words[i], seed ^ i);
		else if (READ_ONCE(words[i]) != (seed ^ i))
			return false;
	}
	return true;
}

struct lt_misuse;

/*
 * A true owner, a kthread or a hard-irq timer. While it holds @addr, @seq
 * is odd: a misuser that reads the same odd @seq before and after its calls
 * knows the room was owned by this owner all along.
 */
struct lt_owner {
	struct labyrinth *lab;
	struct llist_head *detached;	/* what it detached, to be freed */
	gfp_t gfp;
	unsigned int hold_us, detach_every;
	unsigned long seq;
	void *addr;
	unsigned long claims, detaches, lost, violations;
};

/* Calls with a wrong owner or a wrong address, in task or hard irq. */
struct lt_misuser {
	struct lt_misuse *m;
	struct lt_owner *victims;	/* the two owners of another CPU */
	unsigned long rounds, owned_rounds, wrong;
	long bad_code;			/* the first wrong answer */
	unsigned int bad_call;
	bool bad_owned;
};

/* Each CPU: an owner and a misuser in task context, and in hard irq. */
struct lt_misuse_cpu {
	struct lt_owner owner[2];
	struct lt_misuser misuser[2];
	struct hrtimer owner_timer, misuse_timer;
	struct task_struct *owner_task, *misuse_task;
};

struct lt_misuse {
	struct labyrinth *lab;
	void *stale;		/* a detached room's, its room refilled since */
	bool stop;		/* for the timers */
	struct llist_head detached;
	unsigned int nr;
	struct lt_misuse_cpu c[];
};

static void lt_misuse_free_detached(struct llist_head *head)
{
	struct llist_node *node, *next;

	llist_for_each_safe(node, next, llist_del_all(head))
		__free_pages(virt_to_page(node), LT_MISUSE_ORDER);
}

/* Claim, publish, hold and check, unpublish, then release or detach. */
static void lt_owner_use(struct lt_owner *o)
{
	struct labyrinth *lab = o->lab;
	unsigned long *words, seed;

	words = labyrinth_claim_gfp(lab, o, o->gfp);
	if (!words)
		return;
	o->claims++;
	seed = (unsigned long)o ^ o->claims;
	lt_misuse_canary(words, seed, true);
	WRITE_ONCE(o->addr, words);
	/* odd: the room at addr is ours; pairs with lt_misuse_once() */
	smp_store_release(&o->seq, o->seq + 1);
	udelay(o->hold_us);
	if (labyrinth_owner(lab, words) != o)
		o->lost++;
	if (!lt_misuse_canary(words, seed, false))
		o->violations++;
	WRITE_ONCE(o->seq, o->seq + 1);
	smp_mb();	/* even before we let go: pairs with lt_misuse_once() */
	if (!o->detach_every || o->claims % o->detach_every) {
		if (labyrinth_release(lab, words, o))
			o->lost++;
	} else if (IS_ERR(labyrinth_detach(lab, words, o))) {
		o->lost++;
	} else {
		o->detaches++;
		llist_add((struct llist_node *)words, o->detached);
	}
}

/*
 * Six misuses of the room @o holds or held: a wrong owner's release and
 * detach, then with @o's own token two interior addresses and the stale
 * address. While @o owns the room all along the answers are exact; else
 * the wrong owner meets a free room (-ENOENT), another owner's (-EPERM) or
 * a detached address refilled since (-EINVAL); never success.
 */
static void lt_misuse_once(struct lt_misuser *u, struct lt_owner *o)
{
	static const long owned[] = {
		-EPERM, -EPERM, -EINVAL, -EINVAL, -EINVAL, -EINVAL,
	};
	struct labyrinth *lab = u->m->lab;
	void *stale = u->m->stale;
	unsigned long seq;
	long code[6];
	unsigned int i;
	bool held;
	void *addr;

	/* pairs with the owner's release: an odd seq, its address */
	seq = smp_load_acquire(&o->seq);
	addr = READ_ONCE(o->addr);
	if (!addr)
		return;
	code[0] = labyrinth_release(lab, addr, OWNER_WRONG);
	code[1] = PTR_ERR_OR_ZERO(labyrinth_detach(lab, addr, OWNER_WRONG));
	code[2] = labyrinth_release(lab, addr + 64, o);
	code[3] = PTR_ERR_OR_ZERO(labyrinth_detach(lab, addr + PAGE_SIZE, o));
	code[4] = labyrinth_release(lab, stale, o);
	code[5] = PTR_ERR_OR_ZERO(labyrinth_detach(lab, stale, o));
	smp_mb();	/* the calls, then seq: pairs with lt_owner_use() */
	held = (seq & 1) && READ_ONCE(o->seq) == seq;
	WRITE_ONCE(u->rounds, u->rounds + 1);
	WRITE_ONCE(u->owned_rounds, u->owned_rounds + held);
	for (i = 0; i < ARRAY_SIZE(code); i++) {
		/* else the wrong owner may meet a free or refilled room */
		if (code[i] == owned[i] ||
		    (!held && i < 2 && (code[i] == -ENOENT || code[i] == -EINVAL)))
			continue;
		if (!u->wrong++) {
			u->bad_call = i;
			u->bad_code = code[i];
			u->bad_owned = held;
		}
	}
}

static enum hrtimer_restart lt_owner_timer(struct hrtimer *timer)
{
	struct lt_misuse_cpu *mc = container_of(timer, struct lt_misuse_cpu,
						owner_timer);

	if (READ_ONCE(mc->misuser[1].m->stop))
		return HRTIMER_NORESTART;
	lt_owner_use(&mc->owner[1]);
	hrtimer_forward_now(timer, ns_to_ktime(LT_MISUSE_PERIOD_NS));
	return HRTIMER_RESTART;
}

static enum hrtimer_restart lt_misuse_timer(struct hrtimer *timer)
{
	struct lt_misuse_cpu *mc = container_of(timer, struct lt_misuse_cpu,
						misuse_timer);
	struct lt_misuser *u = &mc->misuser[1];

	if (READ_ONCE(u->m->stop))
		return HRTIMER_NORESTART;
	lt_misuse_once(u, &u->victims[u->rounds % 2]);
	hrtimer_forward_now(timer, ns_to_ktime(LT_MISUSE_PERIOD_NS));
	return HRTIMER_RESTART;
}

/* The owner kthread of a CPU; it starts and stops the CPU's timers. */
static int lt_owner_thread(void *data)
{
	struct lt_misuse_cpu *mc = data;

	hrtimer_start(&mc->owner_timer, ns_to_ktime(LT_MISUSE_PERIOD_NS),
		      HRTIMER_MODE_REL_PINNED_HARD);
	hrtimer_start(&mc->misuse_timer, ns_to_ktime(LT_MISUSE_PERIOD_NS),
		      HRTIMER_MODE_REL_PINNED_HARD);
	while (!kthread_should_stop()) {
		lt_owner_use(&mc->owner[0]);
		lt_misuse_free_detached(mc->owner[0].detached);
		cond_resched();
	}
	hrtimer_cancel(&mc->owner_timer);
	hrtimer_cancel(&mc->misuse_timer);
	return 0;
}

static int lt_misuse_thread(void *data)
{
	struct lt_misuser *u = data;

	while (!kthread_should_stop()) {
		lt_misuse_once(u, &u->victims[u->rounds % 2]);
		cond_resched();
	}
	return 0;
}

/* Misuse in task and in hard irq met rooms their owners held all along. */
static bool lt_misuse_raced(struct lt_misuse *m)
{
	unsigned long owned[2] = {};
	unsigned int i, k;

	for (i = 0; i < m->nr; i++)
		for (k = 0; k < 2; k++)
			owned[k] += READ_ONCE(m->c[i].misuser[k].owned_rounds);
	return owned[0] && owned[1];
}

/*
 * Per online CPU two owners and two misusers, misusing the next CPU's.
 * -ENOMEM, with every thread it made stopped, if a thread cannot be made.
 */
static int lt_misuse_start(struct lt_misuse *m)
{
	unsigned int cpu, i = 0, k;

	for_each_online_cpu(cpu) {
		struct lt_misuse_cpu *mc = &m->c[i];
		struct lt_misuse_cpu *peer = &m->c[(i + 1) % m->nr];

		for (k = 0; k < 2; k++) {
			mc->owner[k].lab = m->lab;
			mc->owner[k].detached = &m->detached;
			mc->owner[k].detach_every = 16;
			mc->misuser[k].m = m;
			mc->misuser[k].victims = peer->owner;
		}
		mc->owner[0].gfp = GFP_KERNEL;	/* refills what owners detach */
		mc->owner[0].hold_us = 20;
		mc->owner[1].hold_us = 2;
		hrtimer_setup(&mc->owner_timer, lt_owner_timer, CLOCK_MONOTONIC,
			      HRTIMER_MODE_REL_PINNED_HARD);
		hrtimer_setup(&mc->misuse_timer, lt_misuse_timer,
			      CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED_HARD);
		mc->owner_task = kthread_create_on_cpu(lt_owner_thread, mc, cpu,
						       "lt_owner/%u");
		if (IS_ERR(mc->owner_task))
			goto err_stop;
		mc->misuse_task = kthread_create_on_cpu(lt_misuse_thread,
							&mc->misuser[0], cpu,
							"lt_misuse/%u");
		if (IS_ERR(mc->misuse_task)) {
			kthread_stop(mc->owner_task);
			goto err_stop;
		}
		i++;
	}
	for (i = 0; i < m->nr; i++) {
		wake_up_process(m->c[i].owner_task);
		wake_up_process(m->c[i].misuse_task);
	}
	return 0;

err_stop:	/* never woken: their functions never run */
	while (i--) {
		kthread_stop(m->c[i].misuse_task);
		kthread_stop(m->c[i].owner_task);
	}
	return -ENOMEM;
}

static void lt_misuse_stop(struct lt_misuse *m)
{
	unsigned int i;

	WRITE_ONCE(m->stop, true);
	for (i = 0; i < m->nr; i++) {
		kthread_stop(m->c[i].misuse_task);
		kthread_stop(m->c[i].owner_task);
	}
	lt_misuse_free_detached(&m->detached);
}

/*
 * Wrong-owner, interior-address and stale-address releases and detaches
 * race the true owners on other CPUs, from task and hard irq context. Every
 * misuse gets a documented error (exactly the owned room's while the room
 * was owned throughout the call), is counted, and takes nothing: each owner
 * keeps its room and canary and lets it go itself, every claim exactly
 * once, no room lost. And the race happened: misuse in each context met
 * rooms that were owned all along.
 */
static void misuse_races_the_true_owners(struct kunit *test)
{
	unsigned long claims = 0, detaches = 0, rounds = 0, owned[2] = {};
	unsigned int cpus = num_online_cpus(), i, k, ms;
	struct lt_misuse *m;
	struct labyrinth_stats s0, s;
	struct page *stale;
	void **addrs;

	if (cpus < 2)
		kunit_skip(test, "needs two CPUs: the misuse races owners on another CPU");
	m = kunit_kzalloc(test, struct_size(m, c, cpus), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m);
	addrs = kunit_kcalloc(test, 2 * cpus, sizeof(*addrs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, addrs);
	m->nr = cpus;
	init_llist_head(&m->detached);
	m->lab = lt_create(test, 2 * cpus, LT_MISUSE_ORDER, 0, 0, 0);

	/* The stale address: detached, its room refilled, its pages ours. */
	m->stale = labyrinth_claim(m->lab, OWNER_A);
	KUNIT_ASSERT_NOT_NULL(test, m->stale);
	stale = labyrinth_detach(m->lab, m->stale, OWNER_A);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, stale);
	labyrinth_flush_refill(m->lab);
	KUNIT_ASSERT_EQ(test, lt_stats(m->lab).rooms_void, 0);
	s0 = lt_stats(m->lab);

	KUNIT_ASSERT_EQ_MSG(test, lt_misuse_start(m), 0, "no thread to run");
	for (ms = 0; ms < LT_MISUSE_MAX_MS; ms += 20) {
		msleep(20);
		if (ms >= LT_MISUSE_MIN_MS && lt_misuse_raced(m))
			break;
	}
	lt_misuse_stop(m);

	for (i = 0; i < cpus; i++) {
		for (k = 0; k < 2; k++) {
			struct lt_owner *o = &m->c[i].owner[k];
			struct lt_misuser *u = &m->c[i].misuser[k];

			KUNIT_EXPECT_EQ_MSG(test, o->lost, 0, "cpu %u owner %u", i, k);
			KUNIT_EXPECT_EQ_MSG(test, o->violations, 0,
					    "cpu %u owner %u", i, k);
			KUNIT_EXPECT_EQ_MSG(test, u->wrong, 0,
					    "cpu %u misuser %u: call %u gave %ld (%s)",
					    i, k, u->bad_call, u->bad_code,
					    u->bad_owned ? "owned all along" : "racing");
			claims += o->claims;
			detaches += o->detaches;
			rounds += u->rounds;
			owned[k] += u->owned_rounds;
		}
	}
	s = lt_stats(m->lab);
	KUNIT_EXPECT_GT_MSG(test, owned[0], 0, "no misuse in task met an owned room");
	KUNIT_EXPECT_GT_MSG(test, owned[1], 0, "no misuse in hard irq met an owned room");
	KUNIT_EXPECT_EQ(test, s.claims - s0.claims, claims);
	KUNIT_EXPECT_EQ(test, s.releases - s0.releases, claims - detaches);
	KUNIT_EXPECT_EQ(test, s.detaches - s0.detaches, detaches);
	KUNIT_EXPECT_EQ(test, s.bad_calls - s0.bad_calls, 6 * rounds);
	KUNIT_EXPECT_EQ(test, s.rooms_owned, 0);
	KUNIT_EXPECT_EQ(test, labyrinth_free_map_lost(m->lab), 0);
	kunit_info(test, "%u ms: %lu owner claims (%lu detached); %lu misuse rounds of 6 calls, %lu in task and %lu in hard irq on rooms owned all along\n",
		   ms, claims, detaches, rounds, owned[0], owned[1]);

	/* nothing lost: once refilled, every room can be claimed */
	labyrinth_flush_refill(m->lab);
	lt_claim_all(test, m->lab, 2 * cpus, OWNER_A, addrs);
	lt_release_all(test, m->lab, 2 * cpus, OWNER_A, addrs);
	__free_pages(stale, LT_MISUSE_ORDER);
}

/*
 * A double release racing from two CPUs: each round one of two kthreads
 * (on two CPUs) claims the one room, then both release it at once, one of
 * them after a skew; meanwhile third owners, a hard-irq timer on each CPU,
 * claim the room whenever it is free and let it go themselves. One round
 * in 8, the side whose release won claims the room as a third owner and
 * keeps it until the late release is over: so much the timers seldom
 * arrange in a skew of microseconds. Exactly
 * one release of each claim succeeds; the other finds the room free
 * (-ENOENT) or the third owner's (-EPERM, exactly that while the third
 * owner held it all along), and the third owner never loses it.
 */
#define LT_DOUBLE_MIN_MS	300
#define LT_DOUBLE_MAX_MS	10000
#define LT_DOUBLE_PERIOD_NS	(200 * NSEC_PER_USEC)

static const int lt_double_owner;
#define OWNER_DOUBLE ((const void *)&lt_double_owner)

struct lt_double;

/* A releaser's kthread, and its CPU's third owner: an lt_owner in a timer. */
struct lt_double_side {
	struct lt_double *d;
	unsigned int id;
	struct task_struct *task;
	struct hrtimer timer;
	struct lt_owner third;
	long code;
	bool overlapped;	/* the other release was in flight meanwhile */
	bool third_held;	/* a third owner held the room all along */
};

struct lt_double {
	struct labyrinth *lab;
	u64 min_end, max_end;		/* ktime_get_mono_fast_ns() */
	atomic_t arrived;		/* both sides meet: lt_double_meet() */
	atomic_t in_flight;
	bool stop, timed_out;
	void *addr;			/* this round's claim, or NULL */
	unsigned long claims, rounds, overlaps, third_rounds, enoent, eperm;
	unsigned long waits, waits_in_vain;	/* for @held */
	struct lt_owner held;		/* the winner, holding for the late one */
	bool no_hold, late_done;
	unsigned long bad_rounds;
	long bad_code[2];
	struct lt_double_side side[2];
};

/* Both sides meet; false if told to stop, or the other never came. */
static bool lt_double_meet(struct lt_double *d, unsigned int *meets)
{
	u64 deadline = ktime_get_mono_fast_ns() + 5 * NSEC_PER_SEC;
	int all = 2 * ++*meets;

	smp_mb__before_atomic();	/* what we did, before we arrive */
	atomic_inc(&d->arrived);
	while (atomic_read_acquire(&d->arrived) < all) {
		if (READ_ONCE(d->stop))
			return false;
		if (ktime_get_mono_fast_ns() > deadline) {
			WRITE_ONCE(d->timed_out, true);
			WRITE_ONCE(d->stop, true);
			return false;
		}
		cpu_relax();
	}
	return !READ_ONCE(d->stop);
}

/* The claimer of a round: the room, however long the third owners keep it. */
static void lt_double_claim(struct lt_double *d)
{
	u64 deadline = ktime_get_mono_fast_ns() + NSEC_PER_SEC;
	void *addr;

	do {
		addr = labyrinth_claim(d->lab, OWNER_DOUBLE);
	} while (!addr && ktime_get_mono_fast_ns() < deadline);
	if (addr)
		d->claims++;
	WRITE_ONCE(d->addr, addr);
}

/* The third owners: the timers', and the winner's holding for the late one. */
static struct lt_owner *lt_double_third(struct lt_double *d, unsigned int k)
{
	return k < 2 ? &d->side[k].third : &d->held;
}

/* Was one of the third owners holding @addr all along since @seq? */
static bool lt_double_third_held(struct lt_double *d, void *addr,
				 const unsigned long *seq)
{
	struct lt_owner *o;
	unsigned int k;

	for (k = 0; k < 3; k++) {
		o = lt_double_third(d, k);
		if ((seq[k] & 1) && READ_ONCE(o->addr) == addr &&
		    READ_ONCE(o->seq) == seq[k])
			return true;
	}
	return false;
}

/* The late side: until the winner holds the room again; 5 s at most. */
static void lt_double_wait_held(struct lt_double *d)
{
	u64 deadline = ktime_get_mono_fast_ns() + 5 * NSEC_PER_SEC;

	d->waits++;
	/* pairs with the store-release in lt_double_hold() */
	while (!(smp_load_acquire(&d->held.seq) & 1) && !READ_ONCE(d->no_hold)) {
		if (ktime_get_mono_fast_ns() > deadline) {
			d->waits_in_vain++;
			return;
		}
		cpu_relax();
	}
	d->waits_in_vain += READ_ONCE(d->no_hold);
}

/* The winner: claim the room as a third owner until the late release ends. */
static void lt_double_hold(struct lt_double *d)
{
	u64 deadline = ktime_get_mono_fast_ns() + NSEC_PER_SEC;
	struct lt_owner *o = &d->held;
	void *addr;

	do {
		addr = labyrinth_claim(d->lab, o);
	} while (!addr && ktime_get_mono_fast_ns() < deadline);
	if (!addr) {
		WRITE_ONCE(d->no_hold, true);
		return;
	}
	o->claims++;
	WRITE_ONCE(o->addr, addr);
	/* odd: the room is ours; pairs with lt_double_wait_held() */
	smp_store_release(&o->seq, o->seq + 1);
	deadline = ktime_get_mono_fast_ns() + 5 * NSEC_PER_SEC;
	/* pairs with the late side's store-release */
	while (!smp_load_acquire(&d->late_done) &&
	       ktime_get_mono_fast_ns() < deadline)
		cpu_relax();
	if (labyrinth_owner(d->lab, addr) != o)
		o->lost++;
	WRITE_ONCE(o->seq, o->seq + 1);
	smp_mb();	/* even before we let go, as in lt_owner_use() */
	if (labyrinth_release(d->lab, addr, o))
		o->lost++;
}

/*
 * Release the round's room: both at once; or one side after a skew of 10
 * to 60 us; or, one round in 8, one side once the other's release won and
 * that side holds the room again, as a third owner.
 */
static void lt_double_release(struct lt_double_side *sd, unsigned long round)
{
	struct lt_double *d = sd->d;
	void *addr = READ_ONCE(d->addr);
	bool hold = round % 8 == 7;
	bool late = (round >> 3) % 2 == sd->id;
	unsigned long seq[3];
	unsigned int k;

	if (hold && late)
		lt_double_wait_held(d);
	else if (!hold && round % 16 >= 8 && (round >> 1) % 2 == sd->id)
		udelay(round % 8 * 10);
	for (k = 0; k < 3; k++)
		/* pairs with the third owner's release store */
		seq[k] = smp_load_acquire(&lt_double_third(d, k)->seq);
	/* the later to start sees the other in flight, the earlier to end too */
	sd->overlapped = atomic_inc_return(&d->in_flight) == 2;
	sd->code = labyrinth_release(d->lab, addr, OWNER_DOUBLE);
	sd->overlapped |= atomic_dec_return(&d->in_flight) == 1;
	smp_mb();	/* the release, then seq: pairs with lt_owner_use() */
	sd->third_held = lt_double_third_held(d, addr, seq);
	if (hold && late)
		/* pairs with the acquire in lt_double_hold() */
		smp_store_release(&d->late_done, true);
	else if (hold)
		lt_double_hold(d);
}

/* After both releases: exactly one succeeded. Then, whether to stop. */
static void lt_double_judge(struct lt_double *d)
{
	long code[2] = { d->side[0].code, d->side[1].code };
	long late = code[0] ? code[0] : code[1];
	bool third = d->side[0].third_held || d->side[1].third_held;
	u64 now = ktime_get_mono_fast_ns();

	WRITE_ONCE(d->late_done, false);
	WRITE_ONCE(d->no_hold, false);
	if (READ_ONCE(d->addr)) {
		d->rounds++;
		d->overlaps += d->side[0].overlapped || d->side[1].overlapped;
		d->third_rounds += third;
		if (!code[0] + !code[1] != 1 || (third && late != -EPERM) ||
		    (late != -EPERM && late != -ENOENT)) {
			if (!d->bad_rounds++) {
				d->bad_code[0] = code[0];
				d->bad_code[1] = code[1];
			}
		}
		d->eperm += late == -EPERM;
		d->enoent += late == -ENOENT;
	}
	if (now > d->max_end ||
	    (now > d->min_end && d->overlaps && d->third_rounds))
		WRITE_ONCE(d->stop, true);
}

static enum hrtimer_restart lt_double_timer(struct hrtimer *timer)
{
	struct lt_double_side *sd = container_of(timer, struct lt_double_side,
						 timer);

	if (READ_ONCE(sd->d->stop))
		return HRTIMER_NORESTART;
	lt_owner_use(&sd->third);
	hrtimer_forward_now(timer, ns_to_ktime(LT_DOUBLE_PERIOD_NS));
	return HRTIMER_RESTART;
}

/* One side: claim on its turn, release every round, meet in between. */
static int lt_double_thread(void *data)
{
	struct lt_double_side *sd = data;
	struct lt_double *d = sd->d;
	unsigned int meets = 0;
	unsigned long round;

	hrtimer_start(&sd->timer, ns_to_ktime(LT_DOUBLE_PERIOD_NS),
		      HRTIMER_MODE_REL_PINNED_HARD);
	for (round = 0; lt_double_meet(d, &meets); round++) {
		if (round % 2 == sd->id)
			lt_double_claim(d);
		if (!lt_double_meet(d, &meets))
			break;
		if (READ_ONCE(d->addr))
			lt_double_release(sd, round);
		if (!lt_double_meet(d, &meets))
			break;
		if (round % 2 == sd->id)
			lt_double_judge(d);
	}
	WRITE_ONCE(d->stop, true);
	hrtimer_cancel(&sd->timer);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

static void double_release_races_a_third_owner(struct kunit *test)
{
	struct lt_double *d = kunit_kzalloc(test, sizeof(*d), GFP_KERNEL);
	unsigned int cpu[2], k;
	struct labyrinth_stats s;
	unsigned long third = 0;
	void *addr;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs: both release the same claim at once");
	KUNIT_ASSERT_NOT_NULL(test, d);
	d->lab = lt_create(test, 1, LT_MISUSE_ORDER, 0, 0, 0);
	cpu[0] = cpumask_first(cpu_online_mask);
	cpu[1] = cpumask_next(cpu[0], cpu_online_mask);
	d->min_end = ktime_get_mono_fast_ns() + LT_DOUBLE_MIN_MS * NSEC_PER_MSEC;
	d->max_end = d->min_end + (LT_DOUBLE_MAX_MS - LT_DOUBLE_MIN_MS) *
		     NSEC_PER_MSEC;
	for (k = 0; k < 2; k++) {
		struct lt_double_side *sd = &d->side[k];

		sd->d = d;
		sd->id = k;
		sd->third.lab = d->lab;
		sd->third.hold_us = 20;		/* never detaches */
		hrtimer_setup(&sd->timer, lt_double_timer, CLOCK_MONOTONIC,
			      HRTIMER_MODE_REL_PINNED_HARD);
		sd->task = kthread_create_on_cpu(lt_double_thread, sd, cpu[k],
						 "lt_double/%u");
		if (IS_ERR(sd->task)) {
			if (k)		/* never woken: its function never runs */
				kthread_stop(d->side[0].task);
			KUNIT_FAIL(test, "no thread for side %u", k);
			return;
		}
	}
	for (k = 0; k < 2; k++)
		wake_up_process(d->side[k].task);
	while (!READ_ONCE(d->stop))
		msleep(20);
	for (k = 0; k < 2; k++)
		kthread_stop(d->side[k].task);

	s = lt_stats(d->lab);
	KUNIT_EXPECT_FALSE_MSG(test, d->timed_out, "a side stopped coming");
	KUNIT_EXPECT_EQ_MSG(test, d->bad_rounds, 0,
			    "%lu of %lu rounds wrong, first: releases gave %ld and %ld",
			    d->bad_rounds, d->rounds, d->bad_code[0], d->bad_code[1]);
	for (k = 0; k < 2; k++) {
		struct lt_owner *o = &d->side[k].third;

		KUNIT_EXPECT_EQ_MSG(test, o->lost, 0, "third owner on cpu %u", cpu[k]);
		KUNIT_EXPECT_EQ_MSG(test, o->violations, 0,
				    "third owner on cpu %u", cpu[k]);
		third += o->claims;
	}
	KUNIT_EXPECT_EQ(test, d->held.lost, 0);
	KUNIT_EXPECT_EQ(test, d->held.violations, 0);
	KUNIT_EXPECT_EQ(test, d->waits_in_vain, 0);
	third += d->held.claims;
	KUNIT_EXPECT_GT_MSG(test, d->overlaps, 0, "the two releases never overlapped");
	KUNIT_EXPECT_GT_MSG(test, d->third_rounds, 0,
			    "the third owner never held the room during a late release");
	KUNIT_EXPECT_EQ(test, s.claims, d->claims + third);
	KUNIT_EXPECT_EQ(test, s.releases, d->claims + third);
	KUNIT_EXPECT_EQ(test, s.bad_calls, d->rounds);
	KUNIT_EXPECT_EQ(test, s.rooms_owned, 0);
	kunit_info(test, "%lu rounds: releases overlapped in %lu; the late one met the room free %lu times, the third owner's %lu (held all along %lu; %lu waits for it, %lu in vain); third owners claimed %lu times\n",
		   d->rounds, d->overlaps, d->enoent, d->eperm, d->third_rounds,
		   d->waits, d->waits_in_vain, third);
	addr = labyrinth_claim(d->lab, OWNER_A);	/* not lost */
	KUNIT_EXPECT_NOT_NULL(test, addr);
	KUNIT_EXPECT_EQ(test, labyrinth_release(d->lab, addr, OWNER_A), 0);
}

static struct kunit_case labyrinth_misuse_cases[] = {
	KUNIT_CASE_SLOW(misuse_races_the_true_owners),
	KUNIT_CASE_SLOW(double_release_races_a_third_owner),
	{}
};

static struct kunit_suite labyrinth_misuse_suite = {
	.name = "labyrinth_misuse",
	.test_cases = labyrinth_misuse_cases,
};

/* ---- NMI: the hammer ---- */

static unsigned int nmi_ms = 1000;
module_param(nmi_ms, uint, 0444);
MODULE_PARM_DESC(nmi_ms, "how long the NMI hammer runs (default 1000)");

#ifdef LT_HAVE_NMI
#define LT_HAMMER_ROOMS		4
/* NMIs sent per round of the task's loop, at most: the task keeps going */
#define LT_HAMMER_BURST		4
/*
 * Past nmi_ms the hammer goes on until an NMI landed inside a claim of the
 * task and one released a room the task claimed, for this long at most.
 */
#define LT_HAMMER_EXTRA_MS	10000

/*
 * The hammer: on the target CPU a kthread and a hard-irq timer claim, write
 * and check a canary, and release or detach; the kthread also hands rooms
 * it claimed to the NMI, which releases them on its behalf. Another CPU
 * sends the target NMIs as fast as it can; each NMI releases the room
 * handed to it and claims, checks and releases or detaches a room of its
 * own. Every valid call must succeed, no canary may change, no room may be
 * lost; nothing may hang. And what the hammer is for must have happened:
 * NMIs that landed inside a claim of the task, and NMIs that released
 * rooms the task claimed.
 */
struct lt_hammer {
	struct labyrinth *lab;
	unsigned int target;
	u64 deadline, limit;		/* ktime_get_mono_fast_ns() */
	bool stop;
	void *handoff;			/* a room of the task's, for the NMI */
	struct llist_head detached;	/* pages to free in task context */
	bool in_claim;			/* the task is inside a claim */
	/* counted where they happen; read when everything stopped */
	unsigned long task_claims, task_handoffs, hard_claims, detaches;
	unsigned long nmis, nmi_claims, nmi_releases, nmi_detaches;
	unsigned long nmi_handoff_releases, nmi_lock_held, nmi_in_claim;
	unsigned long refused, violations;
	unsigned long task_rounds;	/* the sender waits on it */
	u64 ran_ns;			/* how long the task ran */
	atomic_long_t sent;
	struct hrtimer timer;
};

static struct lt_hammer *lt_hammer;

/*
 * A claim on the target; the task's are marked for the NMI to see it
 * landed inside one (the timer's and the NMI's own claims would clear the
 * mark of the claim they interrupt).
 */
static void *lt_hammer_claim(struct lt_hammer *h, const void *who)
{
	bool task = in_task();
	void *words;

	if (task)
		WRITE_ONCE(h->in_claim, true);
	words = labyrinth_claim(h->lab, who);
	if (task)
		WRITE_ONCE(h->in_claim, false);
	return words;
}

/* Past the deadline, and the interleavings happened or it is too late. */
static bool lt_hammer_over(struct lt_hammer *h)
{
	u64 now = ktime_get_mono_fast_ns();

	if (now < h->deadline)
		return false;
	return now >= h->limit || (READ_ONCE(h->nmi_in_claim) &&
				   READ_ONCE(h->nmi_handoff_releases));
}

/* Claim, canary, then release or detach; @who owns. False: nothing free. */
static bool lt_hammer_use(struct lt_hammer *h, const void *who,
			  unsigned long seq, bool detach, unsigned long *claims)
{
	unsigned long *words = lt_hammer_claim(h, who);

	if (!words)
		return false;
	(*claims)++;
	if (!lt_canary_ok(words, (unsigned long)who ^ seq) ||
	    labyrinth_owner(h->lab, words) != who)
		h->violations++;
	if (!lt_give_back(h->lab, words, who, detach, &h->detached))
		h->refused++;
	return true;
}

/* In NMI on the target: release the task's room, use one of its own. */
static int lt_hammer_nmi(unsigned int type, struct pt_regs *regs)
{
	struct lt_hammer *h = READ_ONCE(lt_hammer);
	unsigned int idx;
	void *room;

	if (!h || smp_processor_id() != h->target)
		return NMI_DONE;
	h->nmis++;
	/* read by the task meanwhile: lt_hammer_over() */
	WRITE_ONCE(h->nmi_in_claim, h->nmi_in_claim + READ_ONCE(h->in_claim));
	room = xchg(&h->handoff, NULL);
	if (room) {
		idx = labyrinth_room_index(h->lab, room);
		/* the lock may be held: by a claim here or on another CPU */
		h->nmi_lock_held += idx != UINT_MAX &&
			raw_spin_is_locked(labyrinth_room_lock(h->lab, idx));
		if (labyrinth_release(h->lab, room, &h->task_claims))
			h->refused++;
		else
			WRITE_ONCE(h->nmi_handoff_releases,
				   h->nmi_handoff_releases + 1);
	}
	if (lt_hammer_use(h, &h->nmis, h->nmis, !(h->nmis % 8), &h->nmi_claims))
		h->nmi_detaches += !(h->nmis % 8);
	return NMI_HANDLED;
}

static enum hrtimer_restart lt_hammer_timer(struct hrtimer *timer)
{
	struct lt_hammer *h = container_of(timer, struct lt_hammer, timer);
	unsigned long seq = h->hard_claims + 1;

	if (READ_ONCE(h->stop))
		return HRTIMER_NORESTART;
	if (lt_hammer_use(h, &h->hard_claims, seq, !(seq % 16), &h->hard_claims))
		h->detaches += !(seq % 16);
	hrtimer_forward_now(timer, ns_to_ktime(100 * NSEC_PER_USEC));
	return HRTIMER_RESTART;
}

/* The task on the target: claims, hands every 4th room to the NMI. */
static int lt_hammer_task(void *data)
{
	struct lt_hammer *h = data;
	unsigned long seq = 0;
	void *words;

	hrtimer_start(&h->timer, ns_to_ktime(100 * NSEC_PER_USEC),
		      HRTIMER_MODE_REL_PINNED_HARD);
	while (!lt_hammer_over(h)) {
		WRITE_ONCE(h->task_rounds, ++seq);
		if (seq % 4) {
			lt_hammer_use(h, &h->task_claims, seq, !(seq % 32),
				      &h->task_claims);
		} else if (!READ_ONCE(h->handoff)) {
			words = lt_hammer_claim(h, &h->task_claims);
			if (words) {
				h->task_claims++;
				h->task_handoffs++;
				/* the NMI releases it for us from now on */
				if (cmpxchg(&h->handoff, NULL, words))
					labyrinth_release(h->lab, words, &h->task_claims);
			}
		}
		lt_free_detached(&h->detached);
		cond_resched();
	}
	h->ran_ns = ktime_get_mono_fast_ns() - h->deadline + (u64)nmi_ms * NSEC_PER_MSEC;
	WRITE_ONCE(h->stop, true);
	hrtimer_cancel(&h->timer);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

/*
 * Another CPU: NMIs at the target, as fast as they go, until the end; but
 * no more than LT_HAMMER_BURST per round of the task, which NMIs alone
 * could otherwise starve (under TCG it made 12 claims in 4 s once, and
 * handed the NMI nothing).
 */
static int lt_hammer_sender(void *data)
{
	struct lt_hammer *h = data;
	unsigned long round = 0, burst = 0, now;

	while (!READ_ONCE(h->stop) && ktime_get_mono_fast_ns() < h->limit) {
		now = READ_ONCE(h->task_rounds);
		if (now != round) {
			round = now;
			burst = 0;
		}
		if (burst < LT_HAMMER_BURST) {
			__apic_send_IPI_mask(cpumask_of(h->target), NMI_VECTOR);
			atomic_long_inc(&h->sent);
			burst++;
		}
		cond_resched();
	}
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

/* Start the task and the sender; wait for the end; stop them. */
static void lt_hammer_run(struct kunit *test, struct lt_hammer *h,
			  unsigned int sender_cpu)
{
	struct task_struct *task, *sender;
	unsigned long end;

	h->deadline = ktime_get_mono_fast_ns() + (u64)nmi_ms * NSEC_PER_MSEC;
	h->limit = h->deadline + LT_HAMMER_EXTRA_MS * NSEC_PER_MSEC;
	task = kthread_create_on_cpu(lt_hammer_task, h, h->target, "lt_hammer/%u");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	sender = kthread_create_on_cpu(lt_hammer_sender, h, sender_cpu, "lt_nmi/%u");
	if (IS_ERR(sender)) {
		kthread_stop(task);
		KUNIT_FAIL(test, "no sender thread");
		return;
	}
	WRITE_ONCE(lt_hammer, h);
	wake_up_process(task);
	wake_up_process(sender);
	msleep(nmi_ms);
	end = jiffies + msecs_to_jiffies(LT_HAMMER_EXTRA_MS + 1000);
	while (!READ_ONCE(h->stop) && time_before(jiffies, end))
		msleep(20);
	kthread_stop(sender);
	kthread_stop(task);
	WRITE_ONCE(lt_hammer, NULL);
	synchronize_rcu();		/* no NMI handler runs on h any more */
}

/* Whatever is left: the handed-off room, detached pages; none lost. */
static void lt_hammer_check(struct kunit *test, struct lt_hammer *h)
{
	void *addrs[LT_HAMMER_ROOMS];
	struct labyrinth_stats s;

	if (h->handoff)
		KUNIT_EXPECT_EQ(test, labyrinth_release(h->lab, h->handoff,
							&h->task_claims), 0);
	lt_free_detached(&h->detached);
	s = lt_stats(h->lab);
	KUNIT_EXPECT_EQ(test, h->violations, 0);
	KUNIT_EXPECT_EQ(test, h->refused, 0);
	KUNIT_EXPECT_EQ(test, s.bad_calls, 0);
	KUNIT_EXPECT_GT(test, h->nmi_claims, 0);
	KUNIT_EXPECT_GT_MSG(test, h->nmi_in_claim, 0,
			    "no NMI landed inside a claim of the task");
	KUNIT_EXPECT_GT_MSG(test, h->nmi_handoff_releases, 0,
			    "no NMI released a room the task claimed");
	KUNIT_EXPECT_EQ(test, s.claims, h->task_claims + h->hard_claims +
			h->nmi_claims);
	KUNIT_EXPECT_EQ(test, s.releases + s.detaches, s.claims);
	KUNIT_EXPECT_EQ(test, s.rooms_owned, 0);
	kunit_info(test, "NMI hammer, %u ms (%llu ms run): %ld NMIs sent, %lu taken: %lu NMI claims (%lu detached), %lu NMI releases of the task's rooms (%lu found the room lock held, %lu NMIs landed inside a claim), all lock-free; task %lu claims, hardirq %lu; refills %llu (nolock %llu, deferred %llu); %llu releases raced a walk's clear of their bit\n",
		   nmi_ms, div_u64(h->ran_ns, NSEC_PER_MSEC),
		   atomic_long_read(&h->sent), h->nmis, h->nmi_claims,
		   h->nmi_detaches, h->nmi_handoff_releases, h->nmi_lock_held,
		   h->nmi_in_claim, h->task_claims, h->hard_claims, s.refills,
		   s.refills_nolock, s.refills_deferred,
		   labyrinth_sum(h->lab, LAB_MAP_RECHECKS));
	KUNIT_EXPECT_EQ(test, labyrinth_free_map_lost(h->lab), 0);
	labyrinth_flush_refill(h->lab);		/* no room lost */
	lt_claim_all(test, h->lab, LT_HAMMER_ROOMS, OWNER_A, addrs);
	lt_release_all(test, h->lab, LT_HAMMER_ROOMS, OWNER_A, addrs);
}

static void nmi_hammer_on_a_small_labyrinth(struct kunit *test)
{
	struct lt_hammer *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	unsigned int sender;
	int err;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs: one sends the NMIs");
	KUNIT_ASSERT_NOT_NULL(test, h);
	h->lab = lt_create(test, LT_HAMMER_ROOMS, 0, 0, 0, 0);
	h->target = cpumask_first(cpu_online_mask);
	sender = cpumask_next(h->target, cpu_online_mask);
	init_llist_head(&h->detached);
	hrtimer_setup(&h->timer, lt_hammer_timer, CLOCK_MONOTONIC,
		      HRTIMER_MODE_REL_PINNED_HARD);
	err = register_nmi_handler(NMI_LOCAL, lt_hammer_nmi, 0, "labyrinth_hammer");
	KUNIT_ASSERT_EQ(test, err, 0);
	lt_hammer_run(test, h, sender);
	unregister_nmi_handler(NMI_LOCAL, "labyrinth_hammer");
	lt_hammer_check(test, h);
}
#else
static void nmi_hammer_on_a_small_labyrinth(struct kunit *test)
{
	lt_need_nmi(test);
}
#endif

static struct kunit_case labyrinth_nmi_cases[] = {
	KUNIT_CASE_SLOW(nmi_hammer_on_a_small_labyrinth),
	{}
};

static struct kunit_suite labyrinth_nmi_suite = {
	.name = "labyrinth_nmi",
	.test_cases = labyrinth_nmi_cases,
};

/* ---- NUMA: rooms on their wings' nodes, CPUs on their own node ---- */

static void lt_need_numa(struct kunit *test)
{
	if (num_node_state(N_MEMORY) < 2)
		kunit_skip(test, "needs two NUMA nodes with memory (the qemu numa flavour)");
}

static struct labyrinth *lt_create_spread(struct kunit *test, unsigned int n)
{
	struct labyrinth_config cfg = {
		.name = test->name, .nr_rooms = n, .node = NUMA_NO_NODE,
	};
	struct labyrinth *lab = labyrinth_create(&cfg);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, lab);
	KUNIT_ASSERT_EQ(test, 0,
			kunit_add_action_or_reset(test, lt_destroy_action, lab));
	return lab;
}

/* Spread over the nodes: every room's pages are on its wing's node. */
static void rooms_live_on_their_wings_node(struct kunit *test)
{
	struct labyrinth *lab;
	unsigned int i, idx, on[2] = {};
	void *addrs[16];
	int nid;

	lt_need_numa(test);
	lab = lt_create_spread(test, 16);
	lt_claim_all(test, lab, 16, OWNER_A, addrs);
	for (i = 0; i < 16; i++) {
		idx = labyrinth_room_index(lab, addrs[i]);
		nid = page_to_nid(virt_to_page(addrs[i]));
		KUNIT_EXPECT_EQ_MSG(test, nid, labyrinth_room_nid(lab, idx),
				    "room %u", idx);
		if (nid < 2)
			on[nid]++;
	}
	KUNIT_EXPECT_GT(test, on[0], 0);
	KUNIT_EXPECT_GT(test, on[1], 0);
	lt_release_all(test, lab, 16, OWNER_A, addrs);
}

struct lt_numa_run {
	struct labyrinth *lab;
	unsigned int own, claimed, spilled_to_own;
	int node;
	void *addrs[16];
	unsigned int nr;
};

/* On one CPU: claim every room of its node, then one more (a spill). */
static long lt_numa_claims(void *arg)
{
	struct lt_numa_run *r = arg;
	unsigned int i;
	void *addr;

	r->node = cpu_to_node(raw_smp_processor_id());
	for (i = 0; i < 16; i++)
		if (labyrinth_room_nid(r->lab, i) == r->node)
			r->own++;
	for (i = 0; i < r->own + 1; i++) {
		addr = labyrinth_claim(r->lab, r);
		if (!addr)
			break;
		r->addrs[r->nr++] = addr;
		if (i < r->own)
			r->claimed += page_to_nid(virt_to_page(addr)) == r->node;
		else
			r->spilled_to_own = page_to_nid(virt_to_page(addr)) == r->node;
	}
	for (i = 0; i < r->nr; i++)
		labyrinth_release(r->lab, r->addrs[i], r);
	return 0;
}

/*
 * Each CPU gets its own node's memory while its node has a free room,
 * then the far doors lead to the other node.
 */
static void claims_stay_on_their_node_then_spill(struct kunit *test)
{
	struct lt_numa_run *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	struct labyrinth *lab;
	unsigned int cpu;

	lt_need_numa(test);
	KUNIT_ASSERT_NOT_NULL(test, r);
	lab = lt_create_spread(test, 16);
	for_each_online_cpu(cpu) {
		memset(r, 0, sizeof(*r));
		r->lab = lab;
		work_on_cpu(cpu, lt_numa_claims, r);
		KUNIT_EXPECT_GT_MSG(test, r->own, 0, "cpu %u", cpu);
		KUNIT_EXPECT_EQ_MSG(test, r->nr, r->own + 1, "cpu %u", cpu);
		KUNIT_EXPECT_EQ_MSG(test, r->claimed, r->own, "cpu %u", cpu);
		KUNIT_EXPECT_FALSE_MSG(test, r->spilled_to_own, "cpu %u", cpu);
		kunit_info(test, "cpu %u (node %d): %u rooms of its node, then one of another\n",
			   cpu, r->node, r->claimed);
	}
}

static struct kunit_case labyrinth_numa_cases[] = {
	KUNIT_CASE(rooms_live_on_their_wings_node),
	KUNIT_CASE(claims_stay_on_their_node_then_spill),
	{}
};

static struct kunit_suite labyrinth_numa_suite = {
	.name = "labyrinth_numa",
	.test_cases = labyrinth_numa_cases,
};

kunit_test_suites(&labyrinth_suite, &labyrinth_debugfs_suite,
		  &labyrinth_lockheld_suite, &labyrinth_misuse_suite,
		  &labyrinth_nmi_suite, &labyrinth_numa_suite);

MODULE_DESCRIPTION("KUnit tests for labyrinth");
MODULE_AUTHOR("The labyrinth authors");
MODULE_LICENSE("GPL");
LABYRINTH_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
