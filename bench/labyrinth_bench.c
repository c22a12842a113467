// SPDX-License-Identifier: GPL-2.0-only
/*
 * labyrinth_bench - labyrinth against the kernel's own pools, in one run
 *
 * Modelled on lib/test_objpool.c: kthreads bound to each CPU start behind a
 * gate; hard-irq hrtimers on each CPU fire every 50 us and run a batch of
 * operations, and queue a BH work item that runs one in softirq. Every batch
 * of 32 get+put pairs is timed with ktime_get_ns(); a point reports the
 * median batch time per pair (robust to the host descheduling a vCPU) and
 * the aggregate pairs per second. Each point is the median of `reps`
 * repetitions of `ms` milliseconds.
 *
 * Peers, each {init, get, put, fini} over order-0 pages: labyrinth
 * claim/release, objpool pop/push of preallocated page pointers, mempool
 * (mempool_create_page_pool, GFP_ATOMIC), alloc_pages(GFP_ATOMIC) and
 * page_pool (softirq only, direct recycling, one pool per CPU); and the
 * baselines empty, spinlock_pair (spin_lock_irqsave + unlock, twice per
 * pair) and cmpxchg (twice per pair, on a CPU-local line).
 *
 * Results go to the console: a table, and CSV lines prefixed
 * "LABYRINTH-BENCH-CSV " that the host collects. With smoke=1 every point
 * runs once for a few ms and the load fails (-EIO) if a peer did not
 * complete or did not get every page back.
 *
 * Copyright (C) 2026 The labyrinth authors
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/gfp.h>
#include <linux/hrtimer.h>
#include <linux/kfifo.h>
#include <linux/kthread.h>
#include <linux/log2.h>
#include <linux/mempool.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sort.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include "compat/users.h"
#include "labyrinth.h"

#ifdef LABYRINTH_HAVE_OBJPOOL
#include <linux/objpool.h>
#endif
#if IS_ENABLED(CONFIG_PAGE_POOL)
#include "compat/page_pool.h"
#endif

static bool smoke;
module_param(smoke, bool, 0444);
MODULE_PARM_DESC(smoke, "a few ms per point, check every page comes back");

static unsigned int ms = 100;
module_param(ms, uint, 0444);
MODULE_PARM_DESC(ms, "milliseconds per repetition (default 100)");

static char *only;
module_param(only, charp, 0444);
MODULE_PARM_DESC(only, "run only the peers named here (comma-separated), and neither the scarce nor the occupancy points");

static unsigned int reps = 5;
module_param(reps, uint, 0444);
MODULE_PARM_DESC(reps, "repetitions per point; the median is reported (default 5)");

static char *points = "all";
module_param(points, charp, 0444);
MODULE_PARM_DESC(points, "all (default); scale: labyrinth and objpool on every CPU, and the scarce cases; cross: their cross-CPU and every-CPU task points; occupancy: filling, failed claims and churn in labyrinths of 64 to 16,384 rooms; ot: lib/test_objpool.c's cases, objpool and labyrinth (also run by all and scale)");

enum bench_ctx { BENCH_TASK, BENCH_SOFTIRQ, BENCH_HARDIRQ, BENCH_NR_CTX };

static const char *const bench_ctx_names[] = {
	[BENCH_TASK] = "task", [BENCH_SOFTIRQ] = "softirq",
	[BENCH_HARDIRQ] = "hardirq",
};

#define BENCH_ALL_CTX	(BIT(BENCH_TASK) | BIT(BENCH_SOFTIRQ) | BIT(BENCH_HARDIRQ))
#define BENCH_BATCH	32
#define BENCH_PERIOD_NS	(50 * NSEC_PER_USEC)
#define BENCH_RING	256
#define BENCH_SAMPLES	8192	/* batch times kept per CPU and context */

/* A pool under test: get and put one order-0 page, or a handle to one. */
struct bench_peer {
	const char *name;
	unsigned int ctx_mask;
	bool cross;		/* put may run on another CPU than get */
	bool rt_hardirq;	/* valid in hard irq context on PREEMPT_RT */
	int (*init)(void);
	void *(*get)(void);
	void (*put)(void *obj);
	int (*fini)(void);	/* -EIO if pages did not all come back */
};

/*
 * Per CPU and context: pairs done, ns spent in timed batches, and each
 * batch's time. The host may deschedule a vCPU in the middle of a batch;
 * the median batch is immune to that, the sum is not.
 */
struct bench_count {
	u64 pairs, ns, misses;
	u32 *samples;
	unsigned int nr_samples;
};

struct bench_cpu {
	struct bench_count count[BENCH_NR_CTX];
	u64 wall_ns;		/* how long this CPU's thread ran its point */
	struct hrtimer timer;
	struct labyrinth_bh bh;
	struct task_struct *thread;
	u64 lat_hist[64];	/* log2 ns of single hard-irq claims */
	u64 lat_max;
};

static DEFINE_PER_CPU(struct bench_cpu, bench_cpus);
static const struct bench_peer *bench_peer;
static unsigned int bench_mask;		/* contexts running in this point */
static bool bench_latency;		/* hardirq batches time each claim */
static unsigned int bench_ms;		/* duration of the current run */
static DECLARE_COMPLETION(bench_gate);
static bool bench_stop;
static atomic_t bench_errors = ATOMIC_INIT(0);

/* ---- peers ---- */

#define BENCH_POOL_PAGES	64
static const int bench_owner;

static struct labyrinth *bench_lab;

static int lab_create(const char *name, unsigned int nr_rooms)
{
	struct labyrinth_config cfg = {
		.name = name, .nr_rooms = nr_rooms, .node = NUMA_NO_NODE,
	};

	bench_lab = labyrinth_create(&cfg);
	return PTR_ERR_OR_ZERO(bench_lab);
}

static int lab_init(void)
{
	return lab_create("bench", BENCH_POOL_PAGES);
}

static void *lab_get(void)
{
	return labyrinth_claim(bench_lab, &bench_owner);
}

static void lab_put(void *obj)
{
	if (labyrinth_release(bench_lab, obj, &bench_owner))
		atomic_inc(&bench_errors);
}

static int lab_fini(void)
{
	struct labyrinth_stats st;

	labyrinth_get_stats(bench_lab, &st);
	labyrinth_destroy(bench_lab);
	return st.rooms_owned || st.claims != st.releases + st.detaches ||
	       st.bad_calls ? -EIO : 0;
}

/*
 * A NIC's receive ring, as drivers/net/labnet.c's NAPI poll uses it: a
 * buffer is claimed (GFP_ATOMIC, as labnet claims in NAPI) into each slot,
 * BENCH_RX_BATCH slots at a time (a poll's frames, posted again), and
 * comes back BENCH_RX_RING claims later, when its frame has arrived:
 * released, the frame copied out (lab_rx_copy: a frame below the
 * copybreak), or detached and its page freed (lab_rx_detach: a frame
 * handed to the stack with its page; the room is refilled). So the
 * release or detach is of a room claimed a ring ago, not of the last one,
 * and a detach leaves a void room to fill: labnet's costs, without the
 * stack's. Softirq only: the ring is the CPU's, as a NAPI instance's.
 * lab_rx_copy_bulk and lab_rx_detach_bulk claim each post's buffers with
 * one labyrinth_claim_bulk() and let go of each with its claim's
 * generation, as labnet does; the others claim one at a time and let go
 * by address alone. lab_rx_reuse_bulk is lab_rx_detach_bulk on a
 * LABYRINTH_REUSE labyrinth, as labnet's default: the page put at once
 * (a stack done with the frame before its room comes round) is taken back
 * by the claim a ring later.
 * The peers to read them against: page_pool (whose recycling serves both)
 * and alloc_pages (a page allocated and freed per frame).
 */
#define BENCH_RX_RING	32
#define BENCH_RX_BATCH	16
struct bench_rx {
	void *slot[BENCH_RX_RING];
	unsigned int next;
	void *done[BENCH_RX_BATCH];	/* frames of the last post, in order */
	unsigned int nr_done, handed;
	/* the _bulk points: the claims' generations (0: claimed at init) */
	unsigned long slot_gen[BENCH_RX_RING], done_gen[BENCH_RX_BATCH];
};

static DEFINE_PER_CPU(struct bench_rx, bench_rx);

static int lab_rx_fini(void)
{
	unsigned int cpu, i;

	for_each_possible_cpu(cpu) {
		struct bench_rx *rx = per_cpu_ptr(&bench_rx, cpu);

		for (i = 0; i < BENCH_RX_RING; i++) {
			if (rx->slot[i])
				lab_put(rx->slot[i]);
			rx->slot[i] = NULL;
		}
		while (rx->handed < rx->nr_done)
			lab_put(rx->done[rx->handed++]);
		rx->nr_done = 0;
		rx->handed = 0;
	}
	return lab_fini();
}

static int lab_rx_init_flags(unsigned int flags)
{
	struct labyrinth_config cfg = {
		.name = "bench_rx", .node = NUMA_NO_NODE,
		/* as labnet: four rings' worth for each ring */
		.nr_rooms = 4 * BENCH_RX_RING * num_online_cpus(),
		.flags = flags,
	};
	unsigned int cpu, i;

	bench_lab = labyrinth_create(&cfg);
	if (IS_ERR(bench_lab))
		return PTR_ERR(bench_lab);
	for_each_online_cpu(cpu) {
		struct bench_rx *rx = per_cpu_ptr(&bench_rx, cpu);

		rx->next = 0;
		rx->nr_done = 0;
		rx->handed = 0;
		for (i = 0; i < BENCH_RX_RING; i++) {
			rx->slot_gen[i] = 0;
			rx->slot[i] = labyrinth_claim(bench_lab, &bench_owner);
			if (!rx->slot[i]) {
				lab_rx_fini();
				return -ENOMEM;
			}
		}
	}
	return 0;
}

static int lab_rx_init(void)
{
	return lab_rx_init_flags(0);
}

/* lab_rx_reuse_bulk: detaches lend the pages, taken back once put */
static int lab_rx_reuse_init(void)
{
	return lab_rx_init_flags(LABYRINTH_REUSE);
}

/*
 * The next frame's buffer, in the order of the ring; once a post's frames
 * are handed out, fresh buffers for the next BENCH_RX_BATCH slots first,
 * whose frames' buffers come out.
 */
static void *lab_rx_get(void)
{
	struct bench_rx *rx = this_cpu_ptr(&bench_rx);
	void *buf;

	if (rx->handed == rx->nr_done) {
		rx->nr_done = 0;
		rx->handed = 0;
		while (rx->nr_done < BENCH_RX_BATCH) {
			buf = labyrinth_claim_gfp(bench_lab, &bench_owner,
						  GFP_ATOMIC | __GFP_NOWARN);
			if (!buf)
				break;
			rx->done[rx->nr_done++] = rx->slot[rx->next];
			rx->slot[rx->next] = buf;
			rx->next = (rx->next + 1) % BENCH_RX_RING;
		}
		if (!rx->nr_done)
			return NULL;
	}
	return rx->done[rx->handed++];
}

/*
 * lab_rx_get() for lab_rx_copy_bulk and lab_rx_detach_bulk: a post's
 * buffers claimed with one labyrinth_claim_bulk(), and each let go of with
 * its claim's generation, as labnet does.
 */
static void *lab_rx_bulk_get(void)
{
	struct bench_rx *rx = this_cpu_ptr(&bench_rx);
	unsigned long gens[BENCH_RX_BATCH];
	void *bufs[BENCH_RX_BATCH];
	unsigned int n, i;

	if (rx->handed == rx->nr_done) {
		n = labyrinth_claim_bulk(bench_lab, &bench_owner,
					 GFP_ATOMIC | __GFP_NOWARN,
					 BENCH_RX_BATCH, bufs, gens);
		for (i = 0; i < n; i++) {
			rx->done[i] = rx->slot[rx->next];
			rx->done_gen[i] = rx->slot_gen[rx->next];
			rx->slot[rx->next] = bufs[i];
			rx->slot_gen[rx->next] = gens[i];
			rx->next = (rx->next + 1) % BENCH_RX_RING;
		}
		rx->nr_done = n;
		rx->handed = 0;
		if (!n)
			return NULL;
	}
	return rx->done[rx->handed++];
}

/* The generation of the buffer lab_rx_bulk_get() handed out last. */
static unsigned long lab_rx_gen(void)
{
	struct bench_rx *rx = this_cpu_ptr(&bench_rx);

	return rx->done_gen[rx->handed - 1];
}

static void lab_rx_gen_put(void *obj)
{
	unsigned long gen = lab_rx_gen();

	if (gen ? labyrinth_release_gen(bench_lab, obj, &bench_owner, gen) :
		  labyrinth_release(bench_lab, obj, &bench_owner))
		atomic_inc(&bench_errors);
}

static void lab_rx_gen_detach(void *obj)
{
	unsigned long gen = lab_rx_gen();
	struct page *page;

	page = gen ? labyrinth_detach_gen(bench_lab, obj, &bench_owner, gen) :
		     labyrinth_detach(bench_lab, obj, &bench_owner);
	if (IS_ERR(page))
		atomic_inc(&bench_errors);
	else
		__free_page(page);
}

static void lab_rx_detach(void *obj)
{
	struct page *page = labyrinth_detach(bench_lab, obj, &bench_owner);

	if (IS_ERR(page))
		atomic_inc(&bench_errors);
	else
		__free_page(page);
}

#ifdef LABYRINTH_HAVE_OBJPOOL
static struct objpool_head bench_objpool;

static int objpool_obj_init(void *obj, void *context)
{
	struct page **slot = obj;

	*slot = alloc_page(GFP_KERNEL);
	return *slot ? 0 : -ENOMEM;
}

static int op_init(void)
{
	return objpool_init(&bench_objpool, BENCH_POOL_PAGES, sizeof(void *),
			    GFP_KERNEL, NULL, objpool_obj_init, NULL);
}

static void *op_get(void)
{
	return objpool_pop(&bench_objpool);
}

static void op_put(void *obj)
{
	objpool_push(obj, &bench_objpool);
}

/* Free the pool; -EIO unless all @objects came back. */
static int op_fini_n(unsigned int objects)
{
	unsigned int n = 0;
	struct page **slot;

	/* each object holds a pool reference: drop it with its page */
	while ((slot = objpool_pop(&bench_objpool))) {
		__free_page(*slot);
		objpool_drop(slot, &bench_objpool);
		n++;
	}
	objpool_fini(&bench_objpool);
	return n == objects ? 0 : -EIO;
}

static int op_fini(void)
{
	return op_fini_n(BENCH_POOL_PAGES);
}
#endif

static mempool_t *bench_mempool;

static int mp_init(void)
{
	bench_mempool = mempool_create_page_pool(BENCH_POOL_PAGES, 0);
	return bench_mempool ? 0 : -ENOMEM;
}

static void *mp_get(void)
{
	return mempool_alloc(bench_mempool, GFP_ATOMIC);
}

static void mp_put(void *obj)
{
	mempool_free(obj, bench_mempool);
}

static int mp_fini(void)
{
	int err = bench_mempool->curr_nr == bench_mempool->min_nr ? 0 : -EIO;

	mempool_destroy(bench_mempool);
	return err;
}

/*
 * Pages out of peers that cannot tell by themselves (alloc_pages,
 * page_pool). Counted in smoke runs only: a shared atomic, not for timing.
 */
static atomic_long_t bench_out = ATOMIC_LONG_INIT(0);

static void *bench_out_get(void *page)
{
	if (smoke && page)
		atomic_long_inc(&bench_out);
	return page;
}

static void bench_out_put(void)
{
	if (smoke)
		atomic_long_dec(&bench_out);
}

static int ap_init(void)
{
	atomic_long_set(&bench_out, 0);
	return 0;
}

static void *ap_get(void)
{
	return bench_out_get(alloc_page(GFP_ATOMIC | __GFP_NOWARN));
}

static void ap_put(void *obj)
{
	bench_out_put();
	__free_page(obj);
}

static int ap_fini(void)
{
	return atomic_long_read(&bench_out) ? -EIO : 0;
}

#if IS_ENABLED(CONFIG_PAGE_POOL)
/* page_pool recycles directly only in its own softirq: one pool per CPU. */
static DEFINE_PER_CPU(struct page_pool *, bench_pp);

static int pp_fini(void)
{
	unsigned int cpu;

	for_each_online_cpu(cpu) {
		if (per_cpu(bench_pp, cpu))
			page_pool_destroy(per_cpu(bench_pp, cpu));
		per_cpu(bench_pp, cpu) = NULL;
	}
	return ap_fini();
}

static int pp_init(void)
{
	struct page_pool_params pp = {
		.order = 0, .pool_size = BENCH_POOL_PAGES, .nid = NUMA_NO_NODE,
	};
	unsigned int cpu;

	ap_init();
	for_each_online_cpu(cpu) {
		struct page_pool *pool = page_pool_create(&pp);

		if (IS_ERR(pool)) {
			pp_fini();
			return PTR_ERR(pool);
		}
		per_cpu(bench_pp, cpu) = pool;
	}
	return 0;
}

static void *pp_get(void)
{
	return bench_out_get(page_pool_alloc_pages(this_cpu_read(bench_pp),
						   GFP_ATOMIC));
}

static void pp_put(void *obj)
{
	bench_out_put();
	page_pool_put_full_page(this_cpu_read(bench_pp), obj, true);
}
#endif

static int none_init(void)
{
	return 0;
}

static int none_fini(void)
{
	return 0;
}

static void *empty_get(void)
{
	return (void *)&bench_owner;
}

static void empty_put(void *obj)
{
}

static DEFINE_PER_CPU(spinlock_t, bench_lock);

static void *lock_get(void)
{
	spinlock_t *lock = this_cpu_ptr(&bench_lock);
	unsigned long flags;

	spin_lock_irqsave(lock, flags);
	spin_unlock_irqrestore(lock, flags);
	return lock;
}

static void lock_put(void *obj)
{
	unsigned long flags;

	spin_lock_irqsave((spinlock_t *)obj, flags);
	spin_unlock_irqrestore((spinlock_t *)obj, flags);
}

static DEFINE_PER_CPU_ALIGNED(unsigned long, bench_word);

static void *cx_get(void)
{
	unsigned long *w = this_cpu_ptr(&bench_word);

	cmpxchg(w, 0, 1);
	return w;
}

static void cx_put(void *obj)
{
	cmpxchg((unsigned long *)obj, 1, 0);
}

static const struct bench_peer bench_peers[] = {
	{ "labyrinth", BENCH_ALL_CTX, true, true, lab_init, lab_get, lab_put, lab_fini },
#ifdef LABYRINTH_HAVE_OBJPOOL
	{ "objpool", BENCH_ALL_CTX, true, true, op_init, op_get, op_put, op_fini },
#endif
	{ "mempool", BENCH_ALL_CTX, true, false, mp_init, mp_get, mp_put, mp_fini },
	{ "lab_rx_copy", BIT(BENCH_SOFTIRQ), false, true, lab_rx_init, lab_rx_get, lab_put,
	  lab_rx_fini },
	{ "lab_rx_detach", BIT(BENCH_SOFTIRQ), false, true, lab_rx_init, lab_rx_get,
	  lab_rx_detach, lab_rx_fini },
	{ "lab_rx_copy_bulk", BIT(BENCH_SOFTIRQ), false, true, lab_rx_init,
	  lab_rx_bulk_get, lab_rx_gen_put, lab_rx_fini },
	{ "lab_rx_detach_bulk", BIT(BENCH_SOFTIRQ), false, true, lab_rx_init,
	  lab_rx_bulk_get, lab_rx_gen_detach, lab_rx_fini },
	{ "lab_rx_reuse_bulk", BIT(BENCH_SOFTIRQ), false, true, lab_rx_reuse_init,
	  lab_rx_bulk_get, lab_rx_gen_detach, lab_rx_fini },
	{ "alloc_pages", BENCH_ALL_CTX, true, false, ap_init, ap_get, ap_put, ap_fini },
#if IS_ENABLED(CONFIG_PAGE_POOL)
	{ "page_pool", BIT(BENCH_SOFTIRQ), false, true, pp_init, pp_get, pp_put, pp_fini },
#endif
	{ "empty", BENCH_ALL_CTX, false, true, none_init, empty_get, empty_put, none_fini },
	{ "spinlock_pair", BENCH_ALL_CTX, false, false, none_init, lock_get, lock_put,
	  none_fini },
	{ "cmpxchg", BENCH_ALL_CTX, false, true, none_init, cx_get, cx_put, none_fini },
};

/* ---- running a point ---- */

/* One timed batch of get+put pairs in context @ctx. */
static void bench_batch(struct bench_cpu *bc, enum bench_ctx ctx)
{
	struct bench_count *c = &bc->count[ctx];
	unsigned int i;
	u64 t0, t1;
	void *obj;

	t0 = ktime_get_ns();
	for (i = 0; i < BENCH_BATCH; i++) {
		obj = bench_peer->get();
		if (unlikely(!obj)) {
			c->misses++;
			continue;
		}
		bench_peer->put(obj);
	}
	t1 = ktime_get_ns();
	c->ns += t1 - t0;
	c->pairs += BENCH_BATCH;
	if (c->nr_samples < BENCH_SAMPLES)
		c->samples[c->nr_samples++] = min_t(u64, t1 - t0, U32_MAX);
}

/* Latency of single labyrinth claims in hard interrupt context. */
static void bench_latency_batch(struct bench_cpu *bc)
{
	unsigned int i;
	u64 t0, dt;
	void *obj;

	for (i = 0; i < BENCH_BATCH; i++) {
		t0 = ktime_get_ns();
		obj = labyrinth_claim(bench_lab, &bench_owner);
		dt = ktime_get_ns() - t0;
		if (!obj) {
			bc->count[BENCH_HARDIRQ].misses++;
			continue;
		}
		labyrinth_release(bench_lab, obj, &bench_owner);
		bc->lat_hist[dt ? ilog2(dt) : 0]++;
		bc->lat_max = max(bc->lat_max, dt);
		bc->count[BENCH_HARDIRQ].pairs++;
	}
}

/*
 * Task context with preemption off; on PREEMPT_RT only migration, since
 * spinlock_t (mempool, the page allocator, the spinlock baseline) sleeps
 * there.
 */
static void bench_task_batch(struct bench_cpu *bc)
{
	if (IS_ENABLED(CONFIG_PREEMPT_RT)) {
		migrate_disable();
		bench_batch(bc, BENCH_TASK);
		migrate_enable();
	} else {
		preempt_disable();
		bench_batch(bc, BENCH_TASK);
		preempt_enable();
	}
}

static void bench_bh_fn(struct labyrinth_bh *bh)
{
	bench_batch(container_of(bh, struct bench_cpu, bh), BENCH_SOFTIRQ);
}

static enum hrtimer_restart bench_timer_fn(struct hrtimer *timer)
{
	struct bench_cpu *bc = container_of(timer, struct bench_cpu, timer);

	if (READ_ONCE(bench_stop))
		return HRTIMER_NORESTART;
	if (bench_latency)
		bench_latency_batch(bc);
	else if (bench_mask & BIT(BENCH_HARDIRQ))
		bench_batch(bc, BENCH_HARDIRQ);
	if (bench_mask & BIT(BENCH_SOFTIRQ))
		labyrinth_bh_queue(&bc->bh);
	hrtimer_forward_now(timer, ns_to_ktime(BENCH_PERIOD_NS));
	return HRTIMER_RESTART;
}

/*
 * Bound to its CPU: waits at the gate, then drives this CPU's contexts for
 * bench_ms from the moment it passed the gate (a thread may be scheduled
 * late under emulation; each one runs its full time).
 */
static int bench_thread_fn(void *data)
{
	struct bench_cpu *bc = data;
	u64 start, deadline;

	wait_for_completion(&bench_gate);
	start = ktime_get_ns();
	deadline = start + (u64)bench_ms * NSEC_PER_MSEC;
	if (bench_mask & (BIT(BENCH_HARDIRQ) | BIT(BENCH_SOFTIRQ)))
		hrtimer_start(&bc->timer, ns_to_ktime(BENCH_PERIOD_NS),
			      HRTIMER_MODE_REL_PINNED_HARD);
	while (ktime_get_ns() < deadline) {
		if (bench_mask & BIT(BENCH_TASK)) {
			bench_task_batch(bc);
			cond_resched();
		} else {
			usleep_range(500, 1000);
		}
	}
	WRITE_ONCE(bench_stop, true);
	hrtimer_cancel(&bc->timer);
	labyrinth_bh_cancel_sync(&bc->bh);
	bc->wall_ns = ktime_get_ns() - start;
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

/* Run the current peer on @cpus, each CPU for duration_ms. */
static void bench_run(const struct cpumask *cpus, unsigned int duration_ms)
{
	unsigned int cpu, c;

	WRITE_ONCE(bench_stop, false);
	bench_ms = duration_ms;
	reinit_completion(&bench_gate);
	for_each_cpu(cpu, cpus) {
		struct bench_cpu *bc = per_cpu_ptr(&bench_cpus, cpu);

		for (c = 0; c < BENCH_NR_CTX; c++) {
			bc->count[c].pairs = 0;
			bc->count[c].ns = 0;
			bc->count[c].misses = 0;
			bc->count[c].nr_samples = 0;
		}
		bc->wall_ns = 0;
		hrtimer_setup(&bc->timer, bench_timer_fn, CLOCK_MONOTONIC,
			      HRTIMER_MODE_REL_PINNED_HARD);
		labyrinth_bh_init(&bc->bh, bench_bh_fn);
		bc->thread = kthread_create_on_cpu(bench_thread_fn, bc, cpu,
						   "labyrinth_bench/%u");
		if (IS_ERR(bc->thread)) {
			atomic_inc(&bench_errors);
			bc->thread = NULL;
		} else {
			wake_up_process(bc->thread);
		}
	}
	complete_all(&bench_gate);
	msleep(duration_ms);
	for_each_cpu(cpu, cpus) {
		struct bench_cpu *bc = per_cpu_ptr(&bench_cpus, cpu);

		if (bc->thread)
			kthread_stop(bc->thread);	/* waits for its full run */
	}
}

struct bench_result {
	u64 ns_per_pair_x10;	/* tenths of ns */
	u64 kpairs_per_s;	/* aggregate */
	u64 misses;
};

static int bench_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static int bench_cmp_u32(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

/* Median batch time of one CPU and context, in tenths of ns per pair. */
static u64 bench_median_x10(struct bench_count *c)
{
	if (!c->nr_samples)
		return 0;
	sort(c->samples, c->nr_samples, sizeof(u32), bench_cmp_u32, NULL);
	return div_u64((u64)c->samples[c->nr_samples / 2] * 10, BENCH_BATCH);
}

/*
 * One CSV line: the median ns per pair (and its spread) and pairs per
 * second over the repetitions; misses (gets that found nothing), pairs
 * done, and for labyrinth the rooms its claims skipped (collisions).
 */
static void bench_report(const char *peer, const char *ctx, unsigned int cpus,
			 u64 *ns_x10, u64 *kps, unsigned int n, u64 misses,
			 u64 pairs, u64 collisions)
{
	u64 med, spread;

	sort(ns_x10, n, sizeof(u64), bench_cmp_u64, NULL);
	sort(kps, n, sizeof(u64), bench_cmp_u64, NULL);
	med = ns_x10[n / 2];
	spread = med ? div64_u64((ns_x10[n - 1] - ns_x10[0]) * 100, med) : 0;
	pr_info("%-14s %-9s %u cpus %6llu.%llu ns/pair  spread %3llu%%  %8llu kpairs/s%s\n",
		peer, ctx, cpus, med / 10, med % 10, spread, kps[n / 2],
		misses ? "  (some gets failed)" : "");
	pr_info("LABYRINTH-BENCH-CSV %s,%s,%u,%llu.%llu,%llu,%llu,%u,%llu,%llu,%llu\n",
		peer, ctx, cpus, med / 10, med % 10, spread, kps[n / 2], n, misses,
		pairs, collisions);
}

/* One point: peer x context x CPUs, `reps` times; median and spread. */
/* The collisions of the peer's labyrinth so far; 0 for other peers. */
static u64 bench_collisions(void)
{
	struct labyrinth_stats st;

	if (bench_peer->get != lab_get && bench_peer->get != lab_rx_get &&
	    bench_peer->get != lab_rx_bulk_get)
		return 0;
	labyrinth_get_stats(bench_lab, &st);
	return st.collisions;
}

static void bench_point(enum bench_ctx ctx, const struct cpumask *cpus)
{
	u64 ns_x10[16], kps[16], pairs, med, misses = 0, all = 0, coll;
	unsigned int r, cpu, n = clamp(reps, 1U, 16U), ncpu;

	bench_mask = BIT(ctx);
	coll = bench_collisions();
	for (r = 0; r < n; r++) {
		bench_run(cpus, ms);
		pairs = 0;
		med = 0;
		ncpu = 0;
		kps[r] = 0;
		for_each_cpu(cpu, cpus) {
			struct bench_cpu *bc = per_cpu_ptr(&bench_cpus, cpu);
			struct bench_count *c = &bc->count[ctx];

			pairs += c->pairs;
			misses += c->misses;
			/* per pair: the median batch, averaged over CPUs */
			med += bench_median_x10(c);
			ncpu++;
			/* aggregate throughput: the sum of each CPU's rate */
			if (bc->wall_ns)
				kps[r] += div64_u64(c->pairs * NSEC_PER_MSEC,
						    bc->wall_ns);
		}
		ns_x10[r] = ncpu ? div_u64(med, ncpu) : 0;
		if (!pairs)
			atomic_inc(&bench_errors);
		all += pairs;
	}
	bench_report(bench_peer->name, bench_ctx_names[ctx], cpumask_weight(cpus),
		     ns_x10, kps, n, misses, all, bench_collisions() - coll);
}

/* ---- cross-CPU: get on one CPU, put on another ---- */

/*
 * One producer, one consumer: kfifo needs no lock for that. Its index
 * accesses are ordered by its own barriers but not marked, so KCSAN would
 * report them: the kfifo calls are wrapped in data_race().
 */
static DECLARE_KFIFO(bench_fifo, void *, BENCH_RING);

static bool bench_fifo_full(void)
{
	/* unmarked kfifo index accesses: see above */
	return data_race(kfifo_is_full(&bench_fifo));
}

static bool bench_fifo_empty(void)
{
	/* unmarked kfifo index accesses: see above */
	return data_race(kfifo_is_empty(&bench_fifo));
}

static void bench_fifo_put(void *obj)
{
	/* unmarked kfifo index accesses: see above */
	data_race(kfifo_put(&bench_fifo, obj));
}

static bool bench_fifo_get(void **obj)
{
	/* unmarked kfifo index accesses: see above */
	return data_race(kfifo_get(&bench_fifo, obj));
}

static u64 bench_moved, bench_cross_start, bench_cross_ns, bench_cross_misses;
static bool bench_produced;

static int bench_producer(void *data)
{
	u64 deadline;
	void *obj;

	wait_for_completion(&bench_gate);
	bench_cross_start = ktime_get_ns();
	deadline = bench_cross_start + (u64)ms * NSEC_PER_MSEC;
	while (ktime_get_ns() < deadline) {
		if (bench_fifo_full()) {
			cpu_relax();
			continue;
		}
		obj = bench_peer->get();
		if (obj)
			bench_fifo_put(obj);
		else
			bench_cross_misses++;
	}
	/* pairs with the acquire in bench_consumer(): every put is visible */
	smp_store_release(&bench_produced, true);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

static int bench_consumer(void *data)
{
	u64 moved = 0;
	void *obj;

	wait_for_completion(&bench_gate);
	for (;;) {
		if (bench_fifo_get(&obj)) {
			bench_peer->put(obj);
			moved++;
			continue;
		}
		/* the producer is done and its last put was seen empty */
		if (smp_load_acquire(&bench_produced) && bench_fifo_empty())
			break;
		cpu_relax();
	}
	bench_cross_ns = ktime_get_ns() - bench_cross_start;
	bench_moved = moved;
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

static void bench_cross_point(unsigned int from, unsigned int to)
{
	u64 ns_x10[16], kps[16], wall, moved = 0, coll = bench_collisions();
	struct task_struct *p, *c;
	unsigned int r, n = clamp(reps, 1U, 16U);

	bench_cross_misses = 0;
	for (r = 0; r < n; r++) {
		INIT_KFIFO(bench_fifo);
		bench_moved = 0;
		bench_cross_ns = 0;
		bench_produced = false;
		reinit_completion(&bench_gate);
		p = kthread_create_on_cpu(bench_producer, NULL, from, "labyrinth_bench_p/%u");
		c = kthread_create_on_cpu(bench_consumer, NULL, to, "labyrinth_bench_c/%u");
		if (IS_ERR(p) || IS_ERR(c)) {
			atomic_inc(&bench_errors);
			if (!IS_ERR(p))
				kthread_stop(p);
			if (!IS_ERR(c))
				kthread_stop(c);
			return;
		}
		wake_up_process(p);
		wake_up_process(c);
		complete_all(&bench_gate);
		msleep(ms);
		kthread_stop(p);
		kthread_stop(c);
		wall = max(bench_cross_ns, 1ULL);
		ns_x10[r] = bench_moved ? div64_u64(wall * 10, bench_moved) : 0;
		kps[r] = div64_u64(bench_moved * NSEC_PER_MSEC, wall);
		if (!bench_moved)
			atomic_inc(&bench_errors);
		moved += bench_moved;
	}
	bench_report(bench_peer->name, "cross_cpu", 2, ns_x10, kps, n,
		     bench_cross_misses, moved, bench_collisions() - coll);
}

/* ---- the labyrinth-only extras ---- */

static void bench_claim_latency(void)
{
	u64 hist[64] = {}, total = 0, seen = 0, max_ns = 0, p50 = 0, p99 = 0;
	unsigned int cpu, b;

	bench_mask = BIT(BENCH_HARDIRQ);
	bench_latency = true;
	bench_run(cpu_online_mask, ms * clamp(reps, 1U, 16U));
	bench_latency = false;
	for_each_online_cpu(cpu) {
		struct bench_cpu *bc = per_cpu_ptr(&bench_cpus, cpu);

		for (b = 0; b < 64; b++) {
			hist[b] += bc->lat_hist[b];
			total += bc->lat_hist[b];
		}
		max_ns = max(max_ns, bc->lat_max);
		memset(bc->lat_hist, 0, sizeof(bc->lat_hist));
		bc->lat_max = 0;
	}
	for (b = 0; b < 64 && total; b++) {
		seen += hist[b];
		if (!p50 && seen * 2 >= total)
			p50 = 2ULL << b;
		if (!p99 && seen * 100 >= total * 99)
			p99 = 2ULL << b;
	}
	pr_info("labyrinth claim latency in hardirq, %llu claims: p50 < %llu ns, p99 < %llu ns, max %llu ns\n",
		total, p50, p99, max_ns);
	pr_info("LABYRINTH-BENCH-LAT %llu,%llu,%llu,%llu\n", total, p50, p99, max_ns);
	if (!total)
		atomic_inc(&bench_errors);
}

/*
 * Scarce: 3 rooms (or objects) for every context on every CPU at once,
 * each held a little. The labyrinth stays until unload so its debugfs
 * stats (probe lengths) can be read.
 */
#define BENCH_SCARCE	3
static struct labyrinth *bench_scarce;

/* Hold the room a little, as a real user would, so that claims meet. */
static void lab_put_held(void *obj)
{
	WRITE_ONCE(*(unsigned long *)obj, 1);
	ndelay(200);
	lab_put(obj);
}

static int lab_scarce_init(void)
{
	struct labyrinth_config cfg = {
		.name = "bench_scarce", .nr_rooms = BENCH_SCARCE,
		.max_probe = BENCH_SCARCE, .node = NUMA_NO_NODE,
	};

	bench_scarce = labyrinth_create(&cfg);
	if (IS_ERR(bench_scarce)) {
		bench_scarce = NULL;
		return -ENOMEM;
	}
	bench_lab = bench_scarce;
	return 0;
}

/* Checked, not destroyed: the labyrinth stays for debugfs. */
static int lab_scarce_fini(void)
{
	struct labyrinth_stats st;

	labyrinth_get_stats(bench_scarce, &st);
	pr_info("LABYRINTH-BENCH-SCARCE %llu,%llu,%llu,%llu\n", st.claims,
		st.fail_full, st.fail_contended, st.collisions);
	return st.rooms_owned || st.claims != st.releases ? -EIO : 0;
}

#ifdef LABYRINTH_HAVE_OBJPOOL
static void op_put_held(void *obj)
{
	/* the object is a slot holding a page: use the page's memory */
	WRITE_ONCE(*(unsigned long *)page_address(*(struct page **)obj), 1);
	ndelay(200);
	op_put(obj);
}

static int op_scarce_init(void)
{
	return objpool_init(&bench_objpool, BENCH_SCARCE, sizeof(void *),
			    GFP_KERNEL, NULL, objpool_obj_init, NULL);
}

static int op_scarce_fini(void)
{
	return op_fini_n(BENCH_SCARCE);
}
#endif

static const struct bench_peer bench_scarce_peers[] = {
	{ "labyrinth_scarce", BENCH_ALL_CTX, false, true, lab_scarce_init,
	  lab_get, lab_put_held, lab_scarce_fini },
#ifdef LABYRINTH_HAVE_OBJPOOL
	{ "objpool_scarce", BENCH_ALL_CTX, false, true, op_scarce_init, op_get,
	  op_put_held, op_scarce_fini },
#endif
};

/* Every context on every online CPU at once, on 3 rooms or objects. */
static void bench_scarce_point(const struct bench_peer *peer)
{
	u64 ns_x10[1] = { 0 }, kps[1] = { 0 }, pairs = 0, misses = 0, coll;
	unsigned int cpu, c;

	bench_peer = peer;
	if (peer->init()) {
		atomic_inc(&bench_errors);
		return;
	}
	coll = bench_collisions();
	bench_mask = BENCH_ALL_CTX;
	bench_run(cpu_online_mask, ms * clamp(reps, 1U, 16U));
	for_each_online_cpu(cpu) {
		struct bench_cpu *bc = per_cpu_ptr(&bench_cpus, cpu);

		for (c = 0; c < BENCH_NR_CTX; c++) {
			pairs += bc->count[c].pairs;
			misses += bc->count[c].misses;
			if (bc->wall_ns)
				kps[0] += div64_u64(bc->count[c].pairs * NSEC_PER_MSEC,
						    bc->wall_ns);
		}
	}
	bench_report(peer->name, "all", num_online_cpus(), ns_x10, kps, 1,
		     misses, pairs, bench_collisions() - coll);
	if (peer->fini())
		atomic_inc(&bench_errors);
}

/*
 * ---- Occupancy: what a claim costs as the labyrinth fills ----
 *
 * One task, on whatever CPU it runs: the time per claim to claim every
 * room of a labyrinth of 64, 4,096 and 16,384 rooms; the time of a failed
 * claim on each of them full; and the claim+release pair while 0, 50, 90
 * and 99% of a 4,096-room labyrinth's rooms are held by a parked owner.
 * One CSV line a point: peer labyrinth_fill, labyrinth_fail_full or
 * labyrinth_churn, context nROOMS or heldPCT, 1 cpu, the median ns per
 * claim (or pair) of `reps` runs.
 */
static const int bench_parked;
static const unsigned int bench_occ_sizes[] = { 64, 4096, 16384 };
static const unsigned int bench_occ_held[] = { 0, 50, 90, 99 };
#define BENCH_OCC_ROOMS		4096
#define BENCH_OCC_FAILS		256
#define BENCH_OCC_PAIRS		16384

static struct labyrinth *bench_occ_create(unsigned int rooms)
{
	struct labyrinth_config cfg = {
		.name = "bench_occ", .nr_rooms = rooms, .node = NUMA_NO_NODE,
	};

	return labyrinth_create(&cfg);
}

/* Claim @n rooms of @lab for @owner into @addrs; the ns it took, or 0. */
static u64 bench_occ_claim(struct labyrinth *lab, const void *owner,
			   void **addrs, unsigned int n)
{
	unsigned int i;
	u64 t0, ns = 0;

	for (i = 0; i < n; i++) {
		if (!(i % 256))		/* seconds under the old walk: let others run */
			cond_resched();
		t0 = ktime_get_ns();
		addrs[i] = labyrinth_claim(lab, owner);
		ns += ktime_get_ns() - t0;
		if (!addrs[i]) {
			pr_err("occupancy: claim %u of %u failed\n", i, n);
			atomic_inc(&bench_errors);
			while (i--)
				labyrinth_release(lab, addrs[i], owner);
			return 0;
		}
	}
	return ns;
}

static void bench_occ_release(struct labyrinth *lab, const void *owner,
			      void **addrs, unsigned int n)
{
	while (n--)
		if (labyrinth_release(lab, addrs[n], owner))
			atomic_inc(&bench_errors);
}

static u64 bench_occ_collisions(struct labyrinth *lab)
{
	struct labyrinth_stats st;

	labyrinth_get_stats(lab, &st);
	return st.collisions;
}

/* Filling, and failed claims on the full labyrinth, for one size. */
static void bench_occ_fill(unsigned int rooms, void **addrs)
{
	u64 fill[16], fail[16], kps[16] = {}, coll_fill = 0, coll_fail = 0, c;
	unsigned int r, i, n = clamp(reps, 1U, 16U);
	struct labyrinth *lab;
	char ctx[16];
	u64 t0;

	snprintf(ctx, sizeof(ctx), "n%u", rooms);
	for (r = 0; r < n; r++) {
		lab = bench_occ_create(rooms);
		if (IS_ERR(lab)) {
			atomic_inc(&bench_errors);
			return;
		}
		c = bench_occ_collisions(lab);
		fill[r] = div_u64(bench_occ_claim(lab, &bench_owner, addrs, rooms) * 10,
				  rooms);
		coll_fill += bench_occ_collisions(lab) - c;
		c = bench_occ_collisions(lab);
		t0 = ktime_get_ns();
		for (i = 0; i < BENCH_OCC_FAILS; i++) {
			if (labyrinth_claim(lab, &bench_owner)) {
				pr_err("occupancy: a claim on a full labyrinth succeeded\n");
				atomic_inc(&bench_errors);
			}
		}
		fail[r] = div_u64((ktime_get_ns() - t0) * 10, BENCH_OCC_FAILS);
		coll_fail += bench_occ_collisions(lab) - c;
		bench_occ_release(lab, &bench_owner, addrs, rooms);
		labyrinth_destroy(lab);
		cond_resched();
	}
	bench_report("labyrinth_fill", ctx, 1, fill, kps, n, 0, (u64)rooms * n,
		     coll_fill);
	bench_report("labyrinth_fail_full", ctx, 1, fail, kps, n,
		     (u64)BENCH_OCC_FAILS * n, (u64)BENCH_OCC_FAILS * n, coll_fail);
}

/* Claim+release pairs while @held percent of the rooms are parked. */
static void bench_occ_churn(struct labyrinth *lab, unsigned int held,
			    void **addrs)
{
	unsigned int parked = BENCH_OCC_ROOMS * held / 100, r, i;
	unsigned int n = clamp(reps, 1U, 16U);
	u64 ns[16], kps[16] = {}, misses = 0, c;
	char ctx[16];
	void *obj;
	u64 t0;

	snprintf(ctx, sizeof(ctx), "held%u", held);
	if (parked && !bench_occ_claim(lab, &bench_parked, addrs, parked))
		return;
	c = bench_occ_collisions(lab);
	for (r = 0; r < n; r++) {
		preempt_disable();
		t0 = ktime_get_ns();
		for (i = 0; i < BENCH_OCC_PAIRS; i++) {
			obj = labyrinth_claim(lab, &bench_owner);
			if (unlikely(!obj)) {
				misses++;
				continue;
			}
			labyrinth_release(lab, obj, &bench_owner);
		}
		ns[r] = div_u64((ktime_get_ns() - t0) * 10, BENCH_OCC_PAIRS);
		preempt_enable();
		cond_resched();
	}
	bench_report("labyrinth_churn", ctx, 1, ns, kps, n, misses,
		     (u64)BENCH_OCC_PAIRS * n, bench_occ_collisions(lab) - c);
	if (misses)
		atomic_inc(&bench_errors);
	bench_occ_release(lab, &bench_parked, addrs, parked);
}

static void bench_occupancy(void)
{
	struct labyrinth *lab;
	unsigned int i;
	void **addrs;

	addrs = vmalloc(array_size(bench_occ_sizes[ARRAY_SIZE(bench_occ_sizes) - 1],
				   sizeof(void *)));
	if (!addrs) {
		atomic_inc(&bench_errors);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(bench_occ_sizes); i++)
		bench_occ_fill(bench_occ_sizes[i], addrs);
	lab = bench_occ_create(BENCH_OCC_ROOMS);
	if (IS_ERR(lab)) {
		atomic_inc(&bench_errors);
	} else {
		for (i = 0; i < ARRAY_SIZE(bench_occ_held); i++)
			bench_occ_churn(lab, bench_occ_held[i], addrs);
		labyrinth_destroy(lab);
	}
	vfree(addrs);
}

/*
 * ---- lib/test_objpool.c's cases, objpool and labyrinth in one boot ----
 *
 * The kernel's own objpool test, its cases with their parameters, run
 * with objpool (as there) and with labyrinth through an adapter made of
 * the peers' own get and put: pop is labyrinth_claim(), push
 * labyrinth_release(), drop (the async cases, once stopped)
 * labyrinth_detach() and the page freed. A kthread on each online CPU
 * pops bulk[0] objects, writes each (refs++) and pushes it back; with an
 * hrtimer, every hrtimer ms its callback does the same with bulk[1]
 * (HRTIMER_MODE_REL as there: hard irq, soft on PREEMPT_RT). The pool
 * holds 8 objects per possible CPU, so the overrun case (16 pops an
 * iteration) fails about half its pops. test_objpool's vmalloc variants
 * differ in objpool's own memory only and are left out; each case runs
 * `ms` (median of `reps`, the two pools in turn) instead of 1000 ms. One
 * CSV line per pool and case: peer ot_objpool or ot_labyrinth, context
 * the case, kpairs_per_s the hits per ms of all CPUs, ns_per_pair the CPU
 * time per hit, misses the pops that got nothing.
 */
struct bench_ot_case {
	const char *name;
	bool async;
	unsigned int delay;	/* ms slept between a thread's iterations */
	unsigned int bulk[2];	/* pops per iteration: thread, hard irq */
	unsigned int hrtimer;	/* ms between hard irq iterations; 0: none */
};

static const struct bench_ot_case bench_ot_cases[] = {
	{ "sync",		false,   0, {  1, 0 }, 0 },
	{ "sync_hrtimer",	false,   0, {  1, 4 }, 4 },
	{ "sync_overrun",	false,   0, { 16, 0 }, 0 },
	{ "async",		true,  100, {  1, 0 }, 0 },
	{ "async_hrtimer",	true,    0, {  4, 4 }, 4 },
};

#define BENCH_OT_BULK_MAX	16

/* test_objpool's object: struct ot_node, 280 bytes */
struct bench_ot_node {
	void *owner;
	unsigned long data;
	unsigned long refs;
	unsigned long payload[32];
};

struct bench_ot_pool {
	const char *name;
	int (*init)(unsigned int nr);
	void *(*pop)(void);
	void (*push)(void *obj);
	void (*drop)(void *obj);
	int (*fini)(void);	/* -EIO if objects are missing */
};

struct bench_ot_item {
	const struct bench_ot_case *c;
	const struct bench_ot_pool *pool;
	struct task_struct *thread;
	struct hrtimer timer;
	u64 hits[2], misses[2];
	u32 niters;
};

static DEFINE_PER_CPU(struct bench_ot_item, bench_ot_items);
static atomic_t bench_ot_stop;
static DECLARE_COMPLETION(bench_ot_go);
static unsigned int bench_ot_nr;	/* objects in the pool */
static atomic_t bench_ot_dropped;

static int lab_ot_init(unsigned int nr)
{
	return lab_create("bench_ot", nr);
}

/* lab_fini()'s checks, and every drop a detach */
static int lab_ot_fini(void)
{
	struct labyrinth_stats st;

	labyrinth_get_stats(bench_lab, &st);
	return lab_fini() ?:
	       (st.detaches == atomic_read(&bench_ot_dropped) ? 0 : -EIO);
}

#ifdef LABYRINTH_HAVE_OBJPOOL
static int op_ot_init(unsigned int nr)
{
	return objpool_init(&bench_objpool, nr, sizeof(struct bench_ot_node),
			    GFP_KERNEL, NULL, NULL, NULL);
}

static void op_ot_drop(void *obj)
{
	objpool_drop(obj, &bench_objpool);
}

/* Every object back, or dropped: -EIO if any is missing. */
static int op_ot_fini(void)
{
	unsigned int n = 0;
	void *obj;

	/* each object holds a pool reference: drop it */
	while ((obj = objpool_pop(&bench_objpool))) {
		objpool_drop(obj, &bench_objpool);
		n++;
	}
	objpool_fini(&bench_objpool);
	return n + atomic_read(&bench_ot_dropped) == bench_ot_nr ? 0 : -EIO;
}
#endif

static const struct bench_ot_pool bench_ot_pools[] = {
#ifdef LABYRINTH_HAVE_OBJPOOL
	{ "ot_objpool", op_ot_init, op_get, op_put, op_ot_drop, op_ot_fini },
#endif
	{ "ot_labyrinth", lab_ot_init, lab_get, lab_put, lab_rx_detach,
	  lab_ot_fini },
};

/* test_objpool's ot_bulk_sync() and ot_bulk_async() in one. */
static void bench_ot_bulk(struct bench_ot_item *item, int irq)
{
	struct bench_ot_node *objs[BENCH_OT_BULK_MAX];
	const struct bench_ot_case *c = item->c;
	unsigned int i;
	bool drop;

	for (i = 0; i < c->bulk[irq]; i++)
		objs[i] = item->pool->pop();
	if (!irq && (c->delay || !(++item->niters & 0x7FFF)))
		msleep(c->delay);
	/*
	 * test_objpool's get_cpu(): one CPU's pool slot throughout. Migration
	 * only, so that a drop may free its page on PREEMPT_RT too.
	 */
	if (!irq && c->async)
		migrate_disable();
	drop = c->async && atomic_read_acquire(&bench_ot_stop);
	while (i--) {
		if (!objs[i]) {
			item->misses[irq]++;
			continue;
		}
		objs[i]->refs++;
		if (drop) {
			item->pool->drop(objs[i]);
			atomic_inc(&bench_ot_dropped);
		} else {
			item->pool->push(objs[i]);
		}
		item->hits[irq]++;
	}
	if (!irq && c->async)
		migrate_enable();
}

static enum hrtimer_restart bench_ot_timer_fn(struct hrtimer *t)
{
	struct bench_ot_item *item = container_of(t, struct bench_ot_item, timer);

	if (atomic_read_acquire(&bench_ot_stop))
		return HRTIMER_NORESTART;
	bench_ot_bulk(item, 1);
	hrtimer_forward_now(t, ms_to_ktime(item->c->hrtimer));
	return HRTIMER_RESTART;
}

static int bench_ot_thread(void *arg)
{
	struct bench_ot_item *item = arg;

	wait_for_completion(&bench_ot_go);
	if (item->c->hrtimer)
		hrtimer_start(&item->timer, ms_to_ktime(item->c->hrtimer),
			      HRTIMER_MODE_REL);
	do {
		bench_ot_bulk(item, 0);
	} while (!atomic_read_acquire(&bench_ot_stop));
	if (item->c->hrtimer)
		hrtimer_cancel(&item->timer);
	/* until kthread_stop(): the module may go once that returns */
	set_current_state(TASK_INTERRUPTIBLE);
	while (!kthread_should_stop()) {
		schedule();
		set_current_state(TASK_INTERRUPTIBLE);
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

/* One case with one pool for `ms`: hits and misses of all CPUs, or < 0. */
static int bench_ot_run(const struct bench_ot_case *c,
			const struct bench_ot_pool *pool, u64 *hits,
			u64 *misses, u64 *ns)
{
	struct task_struct *t;
	unsigned int cpu;
	u64 t0;
	int err;

	bench_ot_nr = num_possible_cpus() * 8;
	err = pool->init(bench_ot_nr);
	if (err)
		return err;
	atomic_set(&bench_ot_stop, 0);
	atomic_set(&bench_ot_dropped, 0);
	reinit_completion(&bench_ot_go);
	for_each_online_cpu(cpu) {
		struct bench_ot_item *item = per_cpu_ptr(&bench_ot_items, cpu);

		/* the last run's threads are gone, their timers cancelled */
		memset(item, 0, sizeof(*item));
		item->c = c;
		item->pool = pool;
		hrtimer_setup(&item->timer, bench_ot_timer_fn, CLOCK_MONOTONIC,
			      HRTIMER_MODE_REL);
		t = kthread_run_on_cpu(bench_ot_thread, item, cpu, "bench_ot/%u");
		if (IS_ERR(t))
			err = PTR_ERR(t);
		else
			item->thread = t;
	}
	t0 = ktime_get_ns();
	complete_all(&bench_ot_go);
	msleep(ms);
	atomic_set_release(&bench_ot_stop, 1);
	for_each_online_cpu(cpu) {
		struct bench_ot_item *item = per_cpu_ptr(&bench_ot_items, cpu);

		if (item->thread)
			kthread_stop(item->thread);	/* waits for its last round */
	}
	*ns = ktime_get_ns() - t0;
	*hits = *misses = 0;
	for_each_online_cpu(cpu) {
		struct bench_ot_item *item = per_cpu_ptr(&bench_ot_items, cpu);

		*hits += item->hits[0] + item->hits[1];
		*misses += item->misses[0] + item->misses[1];
	}
	if (pool->fini() && !err)
		err = -EIO;
	return err;
}

static void bench_ot_case_run(const struct bench_ot_case *c)
{
	u64 ns_x10[ARRAY_SIZE(bench_ot_pools)][16], kps[ARRAY_SIZE(bench_ot_pools)][16];
	u64 hits[ARRAY_SIZE(bench_ot_pools)] = {}, misses[ARRAY_SIZE(bench_ot_pools)] = {};
	unsigned int n = clamp(reps, 1U, 16U), r, p, ncpu = num_online_cpus();
	u64 h, m, ns;
	int err;

	for (r = 0; r < n; r++) {
		for (p = 0; p < ARRAY_SIZE(bench_ot_pools); p++) {
			err = bench_ot_run(c, &bench_ot_pools[p], &h, &m, &ns);
			if (err) {
				pr_err("%s %s: %d\n", bench_ot_pools[p].name, c->name, err);
				atomic_inc(&bench_errors);
				return;
			}
			hits[p] += h;
			misses[p] += m;
			ns_x10[p][r] = h ? div64_u64(ns * ncpu * 10, h) : 0;
			kps[p][r] = div64_u64(h * NSEC_PER_MSEC, max(ns, 1ULL));
		}
	}
	for (p = 0; p < ARRAY_SIZE(bench_ot_pools); p++)
		bench_report(bench_ot_pools[p].name, c->name, ncpu, ns_x10[p], kps[p],
			     n, misses[p], hits[p], 0);
}

static void bench_ot(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bench_ot_cases) && !atomic_read(&bench_errors); i++)
		bench_ot_case_run(&bench_ot_cases[i]);
}

/* Which points: "all", "scale", "cross", "occupancy" or "ot" (see the parameter). */
static bool bench_wants(const char *what)
{
	return !strcmp(points, "all") || !strcmp(points, what);
}

/* Whether @name is one of only's comma-separated names (or only is unset). */
static bool bench_only(const char *name)
{
	size_t len = strlen(name);
	const char *p = only;

	if (!only)
		return true;
	for (; (p = strstr(p, name)); p += len)
		if ((p == only || p[-1] == ',') && (!p[len] || p[len] == ','))
			return true;
	return false;
}

static int bench_peer_run(const struct bench_peer *peer)
{
	unsigned int c, first = cpumask_first(cpu_online_mask);
	int err;

	bench_peer = peer;
	err = peer->init();
	if (err) {
		pr_err("%s: init failed (%d)\n", peer->name, err);
		return err;
	}
	for (c = 0; c < BENCH_NR_CTX; c++) {
		if (!(peer->ctx_mask & BIT(c)))
			continue;
		/* scale: task and hard irq on every CPU; cross: task */
		if (!bench_wants("all") &&
		    (c == BENCH_SOFTIRQ || (c == BENCH_HARDIRQ && !bench_wants("scale"))))
			continue;
		/*
		 * spinlock_t in a hard hrtimer is invalid on PREEMPT_RT, and
		 * lockdep says so when it checks RT nesting: skip, and say so.
		 */
		if (c == BENCH_HARDIRQ && !peer->rt_hardirq &&
		    IS_ENABLED(CONFIG_PROVE_RAW_LOCK_NESTING)) {
			pr_info("%-14s %-9s skipped: spinlock_t in hard irq is invalid on PREEMPT_RT\n",
				peer->name, bench_ctx_names[c]);
			continue;
		}
		if (bench_wants("all"))
			bench_point(c, cpumask_of(first));
		if (num_online_cpus() > 1)
			bench_point(c, cpu_online_mask);
	}
	if (peer->cross && num_online_cpus() > 1 && bench_wants("cross"))
		bench_cross_point(first, cpumask_next(first, cpu_online_mask));
	if (peer->init == lab_init && bench_wants("all"))
		bench_claim_latency();
	err = peer->fini();
	if (err)
		pr_err("%s: not every page came back\n", peer->name);
	return err;
}

static void bench_free_samples(void)
{
	unsigned int cpu, c;

	for_each_possible_cpu(cpu)
		for (c = 0; c < BENCH_NR_CTX; c++) {
			vfree(per_cpu(bench_cpus, cpu).count[c].samples);
			per_cpu(bench_cpus, cpu).count[c].samples = NULL;
		}
}

static int bench_alloc_samples(void)
{
	unsigned int cpu, c;

	for_each_possible_cpu(cpu)
		for (c = 0; c < BENCH_NR_CTX; c++) {
			u32 *buf = vmalloc(BENCH_SAMPLES * sizeof(u32));

			if (!buf) {
				bench_free_samples();
				return -ENOMEM;
			}
			per_cpu(bench_cpus, cpu).count[c].samples = buf;
		}
	return 0;
}

static int __init bench_init(void)
{
	unsigned int i, cpu;
	int err;

	if (smoke) {
		ms = min(ms, 20U);
		reps = 1;
	}
	for_each_possible_cpu(cpu)
		spin_lock_init(per_cpu_ptr(&bench_lock, cpu));
	pr_info("%u CPUs, %u ms x %u per point; times under emulation are only comparable within this run\n",
		num_online_cpus(), ms, reps);
	pr_info("LABYRINTH-BENCH-CSV peer,context,cpus,ns_per_pair,spread_pct,kpairs_per_s,reps,misses,pairs,collisions\n");
	err = bench_alloc_samples();
	for (i = 0; i < ARRAY_SIZE(bench_peers) && !err; i++) {
		if (!bench_only(bench_peers[i].name))
			continue;
		if ((bench_wants("occupancy") || bench_wants("ot")) &&
		    strcmp(points, "all"))
			continue;
		/* beyond "all": labyrinth and objpool alone */
		if (!bench_wants("all") && strcmp(bench_peers[i].name, "labyrinth") &&
		    strcmp(bench_peers[i].name, "objpool"))
			continue;
		err = bench_peer_run(&bench_peers[i]);
	}
	for (i = 0; i < ARRAY_SIZE(bench_scarce_peers) && !err; i++)
		if (bench_wants("scale") && !only)
			bench_scarce_point(&bench_scarce_peers[i]);
	if (!err && !smoke && !only && bench_wants("occupancy"))
		bench_occupancy();
	if (!err && !only && (bench_wants("scale") || bench_wants("ot")))
		bench_ot();
	if (!err && atomic_read(&bench_errors))
		err = -EIO;
	pr_info("LABYRINTH-BENCH-END %d\n", err);
	bench_free_samples();
	if (err)
		labyrinth_destroy(bench_scarce);
	return err;
}

static void __exit bench_exit(void)
{
	labyrinth_destroy(bench_scarce);
}

module_init(bench_init);
module_exit(bench_exit);

MODULE_DESCRIPTION("labyrinth benchmark against objpool, mempool, page_pool and alloc_pages");
MODULE_AUTHOR("The labyrinth authors");
MODULE_LICENSE("GPL");
