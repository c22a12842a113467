// SPDX-License-Identifier: GPL-2.0-only
/*
 * labnet - a pair of virtual Ethernet devices whose receive buffers come
 * from labyrinth, page_pool or alloc_page(GFP_ATOMIC)
 *
 * The second example a driver author copies (after samples/labyrinth_demo.c):
 * the receive path of a network driver, the most common place where a
 * driver needs pages in atomic context. It uses labyrinth only through
 * labyrinth.h and the exported symbols.
 *
 * The device model. Loading the module makes two linked devices, labnet0
 * and labnet1 (as veth's pair, but with a device in between). Each has an
 * RX ring of ``ring`` slots (``ethtool -G rx``); the driver posts a buffer,
 * one page, into each free slot. Transmitting on one device copies the
 * frame, with its checksum computed as a NIC's offload would, into the
 * peer's next posted buffer - the DMA - and raises the peer's interrupt: a
 * hard-irq hrtimer that fires ``coalesce_us`` later, so that one interrupt
 * carries the frames of that interval, as NICs coalesce. A frame that finds
 * no posted buffer is dropped and counted (``rx_missed``), as hardware
 * does, and raises the interrupt too (a NIC's "no buffer" interrupt), so
 * that the driver posts again. The interrupt is masked from when it fires
 * until NAPI completes, the usual NAPI contract.
 *
 * The interrupt handler schedules NAPI; with ``pool=labyrinth`` and
 * ``irq_post=1``, when the ring runs low (fewer than ``irq_low`` percent of
 * its slots hold a buffer), it first moves the frames written into a
 * completion queue and posts up to one batch (32) of fresh buffers into
 * their slots, from hard irq, which only labyrinth allows: the device has
 * buffers again before NAPI runs, however late softirq processing is.
 * Only then, since a claim in hard irq can fill a void room only with
 * alloc_pages_nolock(), which zeroes the page; NAPI fills with GFP_ATOMIC.
 * NAPI's poll hands each frame up with napi_gro_receive(): a frame of at
 * most ``copybreak`` bytes is copied into a fresh skb and its buffer goes
 * back to the pool; a larger one is given to the stack with its page
 * (labyrinth_detach(), the room refilled on the spot or by the deferred
 * refill - with ``reuse``, the room lends the page and takes it back once
 * the stack has put its reference, as page reuse in ixgbe and igb does;
 * skb_mark_for_recycle() for page_pool; the page itself for atomic). Then
 * the poll posts new buffers.
 *
 * The pools (``pool=``, at load):
 *
 * - ``labyrinth``: one labyrinth per device, ``rooms`` rooms of one page
 *   (default four times the ring, at least two rings and two batches: a
 *   ring of posted buffers, a queue of received ones, the batches being
 *   posted, and rooms detached and not yet refilled), claimed a batch at
 *   a time with labyrinth_claim_bulk(), with GFP_ATOMIC in NAPI and
 *   without a gfp in the interrupt handler (labnet_pool_get()); the device
 *   is the owner token, and each buffer is let go of with its claim's
 *   generation (labyrinth_release_gen(), labyrinth_detach_gen()), which
 *   a double release cannot get past and which finds the room at once.
 * - ``page_pool``: page_pool_dev_alloc_pages() from NAPI only, as
 *   page_pool requires; pages return with skb_mark_for_recycle().
 * - ``atomic``: alloc_page(GFP_ATOMIC | __GFP_NOWARN), from NAPI.
 *
 * ``ethtool -S`` shows the device's counters (missed frames, failed
 * allocations, where buffers were posted) and the pool's own: labyrinth's
 * labyrinth_get_stats(). Unloading, or ``ip link set down``, tears the
 * device down with traffic running: the ring stops taking frames, the
 * interrupt and NAPI are stopped, and every posted buffer goes back to its
 * pool before the pool is destroyed.
 *
 * Copyright (C) 2026 The labyrinth authors
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/hrtimer.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/u64_stats_sync.h>

#include "compat/users.h"	/* the bridges between kernels of this repository's users */
#if IS_ENABLED(CONFIG_PAGE_POOL)
#include "compat/page_pool.h"
#endif
#include "labyrinth.h"

#define LABNET_RING_MIN		16
#define LABNET_RING_MAX		4096
#define LABNET_RING_DEFAULT	256
/* buffers one post allocates before it takes the ring's lock to install them */
#define LABNET_POST_BATCH	32

/* a frame's place in its page: headroom, the frame, the skb's shared info */
#define LABNET_HEADROOM		(NET_SKB_PAD + NET_IP_ALIGN)
#define LABNET_FRAME_MAX	(PAGE_SIZE - LABNET_HEADROOM - \
				 SKB_DATA_ALIGN(sizeof(struct skb_shared_info)))

static char *pool = "labyrinth";
module_param(pool, charp, 0444);
MODULE_PARM_DESC(pool, "where RX buffers come from: labyrinth (default), page_pool or atomic");

static unsigned int ring = LABNET_RING_DEFAULT;
module_param(ring, uint, 0444);
MODULE_PARM_DESC(ring, "RX ring slots at load, a power of two from 16 to 4096 (default 256; ethtool -G changes it)");

static unsigned int rooms;
module_param(rooms, uint, 0444);
MODULE_PARM_DESC(rooms, "labyrinth's rooms per device, at least twice the ring and two post batches (default 0: four times the ring, or that least if more)");

static unsigned int copybreak = 256;
module_param(copybreak, uint, 0644);
MODULE_PARM_DESC(copybreak, "frames of at most this many bytes are copied into a fresh skb (default 256)");

static unsigned int coalesce_us = 20;
module_param(coalesce_us, uint, 0444);
MODULE_PARM_DESC(coalesce_us, "microseconds from a frame to its interrupt (default 20)");

static bool irq_post = true;
module_param(irq_post, bool, 0444);
MODULE_PARM_DESC(irq_post, "with pool=labyrinth, post buffers from the interrupt handler too, when the ring runs low (default 1)");

static unsigned int irq_low = 25;
module_param(irq_low, uint, 0444);
MODULE_PARM_DESC(irq_low, "with irq_post, the interrupt handler posts while fewer than this percentage of the ring's slots hold a buffer (default 25; 100: at every interrupt)");

static bool bulk = true;
module_param(bulk, bool, 0444);
MODULE_PARM_DESC(bulk, "with pool=labyrinth, post a batch of buffers with one labyrinth_claim_bulk() (default 1; 0: one claim per buffer)");

static bool reuse = true;
module_param(reuse, bool, 0444);
MODULE_PARM_DESC(reuse, "with pool=labyrinth, rooms lend the pages of the frames given to the stack and take them back once the stack has put them (LABYRINTH_REUSE; default 1; 0: each detached room is filled with a new page)");

static bool napi_gfp = true;
module_param(napi_gfp, bool, 0444);
MODULE_PARM_DESC(napi_gfp, "with pool=labyrinth, NAPI's claims fill a void room with GFP_ATOMIC first (default 1; 0: with alloc_pages_nolock() alone, which zeroes the page, on 6.18 and later, else the deferred refill)");

enum labnet_pool_id { LABNET_LABYRINTH, LABNET_PAGE_POOL, LABNET_ATOMIC };

static const char *const labnet_pool_names[] = {
	[LABNET_LABYRINTH] = "labyrinth", [LABNET_PAGE_POOL] = "page_pool",
	[LABNET_ATOMIC] = "atomic",
};

static enum labnet_pool_id labnet_pool;

/*
 * The most buffers a device holds at once: a ring posted, a ring's worth
 * received and not yet handed up, and the batch in hand of each poster
 * (NAPI and the interrupt handler). Fewer rooms would starve the ring.
 */
static unsigned int labnet_rooms_needed(unsigned int size)
{
	return 2 * size + 2 * LABNET_POST_BATCH;
}

static unsigned int labnet_nr_rooms(unsigned int size)
{
	return rooms ?: max(4 * size, labnet_rooms_needed(size));
}

/* rooms= was set at load, and is too few for a ring of @size */
static bool labnet_rooms_short(unsigned int size)
{
	return labnet_pool == LABNET_LABYRINTH && rooms &&
	       rooms < labnet_rooms_needed(size);
}

/* the device's counters that are not per packet: ethtool -S */
enum labnet_counter {
	LABNET_RX_MISSED,	/* frames that found no posted buffer */
	LABNET_RX_ALLOC_FAIL,	/* buffers the pool could not give */
	LABNET_RX_BUILD_FAIL,	/* frames dropped: no skb for them */
	LABNET_RX_COPYBREAK,	/* frames copied into a fresh skb */
	LABNET_RX_POSTED_IRQ,	/* buffers posted by the interrupt handler */
	LABNET_RX_POSTED_NAPI,	/* buffers posted by NAPI */
	LABNET_RX_POOL_ERRORS,	/* a release or detach the pool refused */
	LABNET_IRQS,		/* interrupts */
	LABNET_TX_DROPPED,	/* frames too long, or the peer's ring down */
	LABNET_NR_COUNTERS
};

static const char *const labnet_counter_names[LABNET_NR_COUNTERS] = {
	[LABNET_RX_MISSED] = "rx_missed",
	[LABNET_RX_ALLOC_FAIL] = "rx_alloc_fail",
	[LABNET_RX_BUILD_FAIL] = "rx_build_fail",
	[LABNET_RX_COPYBREAK] = "rx_copybreak",
	[LABNET_RX_POSTED_IRQ] = "rx_posted_irq",
	[LABNET_RX_POSTED_NAPI] = "rx_posted_napi",
	[LABNET_RX_POOL_ERRORS] = "rx_pool_errors",
	[LABNET_IRQS] = "irqs",
	[LABNET_TX_DROPPED] = "tx_dropped",
};

/* labyrinth's own counters in ethtool -S: struct labyrinth_stats */
#define LABNET_LAB_STAT(f)	{ "lab_" #f, offsetof(struct labyrinth_stats, f) }
static const struct {
	const char *name;
	size_t offset;
} labnet_lab_stats[] = {
	LABNET_LAB_STAT(claims), LABNET_LAB_STAT(releases),
	LABNET_LAB_STAT(detaches), LABNET_LAB_STAT(collisions),
	LABNET_LAB_STAT(fail_full), LABNET_LAB_STAT(fail_contended),
	LABNET_LAB_STAT(refills), LABNET_LAB_STAT(refills_gfp),
	LABNET_LAB_STAT(refills_nolock), LABNET_LAB_STAT(refills_deferred),
	LABNET_LAB_STAT(refills_reused),
	LABNET_LAB_STAT(refill_failures), LABNET_LAB_STAT(bad_calls),
};

#define LABNET_LAB_GAUGES	3	/* lab_rooms, lab_rooms_owned, lab_rooms_void */

/* per-packet counters, each written by one context at a time */
struct labnet_pcounters {
	u64_stats_t packets;
	u64_stats_t bytes;
	struct u64_stats_sync syncp;
};

/**
 * struct labnet_buf - a posted buffer
 * @va: its page's address (a labyrinth room's address)
 * @gen: labyrinth: the claim's generation, which lets go of that claim
 *	alone (and finds its room without an address lookup)
 * @len: the frame the device wrote into it, once it did
 */
struct labnet_buf {
	void *va;
	unsigned long gen;
	unsigned int len;
};

/*
 * struct labnet_priv - one device of the pair, its RX ring and its
 * completion queue
 *
 * The indices run free (unsigned, wrapping). In the ring, slots
 * [done, dev_idx) hold frames the device wrote, [dev_idx, post) posted
 * buffers it may write, [post, done + size) nothing. A harvest
 * (labnet_harvest()) moves written frames from the ring into the
 * completion queue, whose entries [cq_head, cq_tail) NAPI hands up; the
 * ring slots it empties are posted again. NAPI harvests; with
 * pool=labyrinth and irq_post the interrupt handler harvests and posts
 * too, in hard irq, so that the device has buffers again before NAPI runs.
 * The queue holds at most a ring's worth of frames.
 *
 * @lock guards the ring, @cq_tail and @up; NAPI reads the entries
 * [cq_head, cq_tail) without it, since nothing else touches them until
 * @cq_head moves. A raw spinlock: the interrupt handler takes it in hard
 * irq; no allocation is made under it.
 */
struct labnet_priv {
	struct net_device *dev;
	struct net_device *peer;
	struct napi_struct napi;
	struct hrtimer irq;
	unsigned long irq_pending;	/* bit 0: raised and not yet served */

	bool started;			/* ring, pool and NAPI running: under RTNL */

	raw_spinlock_t lock;
	bool up;
	unsigned int size, mask;
	unsigned int post, dev_idx, done;
	unsigned int cq_head, cq_tail;
	struct labnet_buf *slots;
	struct labnet_buf *cq;

	struct labyrinth *lab;
#if IS_ENABLED(CONFIG_PAGE_POOL)
	struct page_pool *pp;
#endif

	struct labnet_pcounters rx, tx;	/* NAPI's, and xmit's (TX queue lock) */
	atomic_long_t counters[LABNET_NR_COUNTERS];
};

#define LABNET_IRQ_PENDING	0

static struct net_device *labnet_devs[2];

static void labnet_count(struct labnet_priv *priv, enum labnet_counter c)
{
	atomic_long_inc(&priv->counters[c]);
}

/* --- the pools --------------------------------------------------------- */

/*
 * Up to @nr buffers from the pool into @bufs, and (labyrinth) the claims'
 * generations into @gens, with which each buffer is let go of: how many
 * it gave. In NAPI
 * (@napi), or (labyrinth) in hard irq. labyrinth gives a batch in one call
 * (labyrinth_claim_bulk()), which fills the void rooms among it with one
 * call to the page allocator's bulk allocator: in NAPI with GFP_ATOMIC,
 * valid there on every kernel. In hard irq (no gfp) a void room is filled
 * with alloc_pages_nolock() alone, which is valid there but zeroes every
 * page it gives, and exists from 6.18 (before, and on PREEMPT_RT in hard
 * irq, the deferred refill fills the room). A failed fill costs no buffer:
 * the claim moves on to a room that is ready.
 */
static unsigned int labnet_pool_get(struct labnet_priv *priv, bool napi,
				    void **bufs, unsigned long *gens,
				    unsigned int nr)
{
	gfp_t gfp = napi && napi_gfp ? GFP_ATOMIC | __GFP_NOWARN : 0;
	struct page *page;
	unsigned int n;

	if (labnet_pool == LABNET_LABYRINTH && bulk)
		return labyrinth_claim_bulk(priv->lab, priv, gfp, nr, bufs,
					    gens);
	for (n = 0; n < nr; n++) {
		gens[n] = 0;		/* labyrinth's alone */
		switch (labnet_pool) {
		case LABNET_LABYRINTH:	/* one claim per buffer: bulk=0 */
			bufs[n] = labyrinth_claim_gen(priv->lab, priv, gfp,
						      &gens[n]);
			break;
#if IS_ENABLED(CONFIG_PAGE_POOL)
		case LABNET_PAGE_POOL:
			page = page_pool_dev_alloc_pages(priv->pp);
			bufs[n] = page ? page_address(page) : NULL;
			break;
#endif
		default:
			page = alloc_page(GFP_ATOMIC | __GFP_NOWARN);
			bufs[n] = page ? page_address(page) : NULL;
		}
		if (!bufs[n])
			break;
	}
	return n;
}

/*
 * Give back a buffer the stack did not take: a copied frame, a buffer left
 * over from a post, the ring's buffers at teardown. @napi: in the NAPI
 * poll, where page_pool may recycle directly.
 */
static void labnet_pool_put(struct labnet_priv *priv, struct labnet_buf *buf,
			    bool napi)
{
	void *va = buf->va;

	switch (labnet_pool) {
	case LABNET_LABYRINTH:
		if (labyrinth_release_gen(priv->lab, va, priv, buf->gen))
			labnet_count(priv, LABNET_RX_POOL_ERRORS);
		break;
#if IS_ENABLED(CONFIG_PAGE_POOL)
	case LABNET_PAGE_POOL:
		page_pool_put_full_page(priv->pp, virt_to_page(va), napi);
		break;
#endif
	default:
		put_page(virt_to_page(va));
	}
}

/* Hand a buffer with a frame of @len bytes to an skb built around it. */
static struct sk_buff *labnet_pool_build(struct labnet_priv *priv,
					 struct labnet_buf *buf)
{
	void *va = buf->va;
	struct sk_buff *skb;
	struct page *page;

	if (labnet_pool == LABNET_LABYRINTH) {
		/* the page becomes ours, and the skb's: the room is refilled */
		page = labyrinth_detach_gen(priv->lab, va, priv, buf->gen);
		if (IS_ERR(page)) {
			/*
			 * Not ours (a bug): a release would fail the same
			 * check, or free a room claimed since with our token.
			 * The frame is dropped, the buffer left alone.
			 */
			labnet_count(priv, LABNET_RX_POOL_ERRORS);
			return NULL;
		}
	}
	skb = napi_build_skb(va, PAGE_SIZE);
	if (unlikely(!skb)) {
		if (labnet_pool == LABNET_LABYRINTH)
			put_page(virt_to_page(va));
		else
			labnet_pool_put(priv, buf, true);
		return NULL;
	}
#if IS_ENABLED(CONFIG_PAGE_POOL)
	if (labnet_pool == LABNET_PAGE_POOL)
		skb_mark_for_recycle(skb);
#endif
	skb_reserve(skb, LABNET_HEADROOM);
	skb_put(skb, buf->len);
	return skb;
}

static int labnet_pool_open(struct labnet_priv *priv)
{
	switch (labnet_pool) {
	case LABNET_LABYRINTH: {
		struct labyrinth_config cfg = {
			.name = netdev_name(priv->dev),
			.nr_rooms = labnet_nr_rooms(priv->size),
			.flags = reuse ? LABYRINTH_REUSE : 0,
			.node = dev_to_node(&priv->dev->dev),
		};
		struct labyrinth *lab;

		lab = labyrinth_create(&cfg);
		if (IS_ERR(lab))
			return PTR_ERR(lab);
		priv->lab = lab;
		return 0;
	}
#if IS_ENABLED(CONFIG_PAGE_POOL)
	case LABNET_PAGE_POOL: {
		struct page_pool_params pp = {
			.order = 0, .pool_size = priv->size,
			.nid = dev_to_node(&priv->dev->dev),
		};
		struct page_pool *pool = page_pool_create(&pp);

		if (IS_ERR(pool))
			return PTR_ERR(pool);
		priv->pp = pool;
		return 0;
	}
#endif
	default:
		return 0;
	}
}

static void labnet_pool_close(struct labnet_priv *priv)
{
	if (priv->lab)
		labyrinth_destroy(priv->lab);
	priv->lab = NULL;
#if IS_ENABLED(CONFIG_PAGE_POOL)
	/* pages still in the stack's skbs come back to it, or are freed */
	if (priv->pp)
		page_pool_destroy(priv->pp);
	priv->pp = NULL;
#endif
}

/* --- the device: DMA and interrupt ------------------------------------ */

/* Raise the interrupt, unless it is raised or masked (NAPI scheduled). */
static void labnet_raise_irq(struct labnet_priv *priv)
{
	if (!test_and_set_bit(LABNET_IRQ_PENDING, &priv->irq_pending))
		hrtimer_start(&priv->irq, ns_to_ktime(coalesce_us * NSEC_PER_USEC),
			      HRTIMER_MODE_REL_HARD);
}

/*
 * The peer's DMA: copy @skb into @rx's next posted buffer, computing the
 * checksum the stack left to the device (CHECKSUM_PARTIAL), as a NIC's
 * offload does. Returns false if @rx is down: the frame was not sent. A
 * frame that finds no buffer was sent and is lost at the receiver, which
 * counts it (rx_missed), as on a wire.
 */
static bool labnet_dma(struct labnet_priv *rx, struct sk_buff *skb)
{
	struct labnet_buf *buf;
	unsigned long flags;
	bool ok = false;

	raw_spin_lock_irqsave(&rx->lock, flags);
	if (!rx->up)
		goto out;
	ok = true;
	if (rx->dev_idx == rx->post) {
		labnet_count(rx, LABNET_RX_MISSED);
		labnet_raise_irq(rx);
		goto out;
	}
	buf = &rx->slots[rx->dev_idx & rx->mask];
	skb_copy_and_csum_dev(skb, buf->va + LABNET_HEADROOM);
	buf->len = skb->len;
	rx->dev_idx++;
	/* under the lock, as labnet_poll()'s unmask and re-check */
	labnet_raise_irq(rx);
out:
	raw_spin_unlock_irqrestore(&rx->lock, flags);
	return ok;
}

static netdev_tx_t labnet_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct labnet_priv *priv = netdev_priv(dev);
	struct labnet_priv *rx = netdev_priv(priv->peer);
	unsigned int len = skb->len;

	if (len > LABNET_FRAME_MAX || !labnet_dma(rx, skb)) {
		labnet_count(priv, LABNET_TX_DROPPED);
		dev_kfree_skb_any(skb);
		return NETDEV_TX_OK;
	}
	/* one xmit at a time: the TX queue's lock */
	u64_stats_update_begin(&priv->tx.syncp);
	u64_stats_inc(&priv->tx.packets);
	u64_stats_add(&priv->tx.bytes, len);
	u64_stats_update_end(&priv->tx.syncp);
	dev_consume_skb_any(skb);
	return NETDEV_TX_OK;
}

/*
 * Post buffers into the empty slots, from NAPI or (labyrinth) from the
 * interrupt handler: both may run at once on two CPUs. The buffers are
 * taken from the pool outside the ring's lock and installed under it;
 * those another poster's install left without a slot go back. The
 * interrupt handler posts one batch at most, which bounds its time in
 * hard irq; NAPI posts the rest.
 */
static void labnet_post(struct labnet_priv *priv, bool napi)
{
	unsigned long gens[LABNET_POST_BATCH], flags;
	void *bufs[LABNET_POST_BATCH];
	unsigned int want, n, k, i;

	for (;;) {
		raw_spin_lock_irqsave(&priv->lock, flags);
		want = priv->up ? priv->size - (priv->post - priv->done) : 0;
		raw_spin_unlock_irqrestore(&priv->lock, flags);
		if (!want)
			return;
		want = min(want, LABNET_POST_BATCH);
		n = labnet_pool_get(priv, napi, bufs, gens, want);
		if (n < want)
			labnet_count(priv, LABNET_RX_ALLOC_FAIL);
		raw_spin_lock_irqsave(&priv->lock, flags);
		k = priv->up ? priv->size - (priv->post - priv->done) : 0;
		k = min(k, n);
		for (i = 0; i < k; i++) {
			struct labnet_buf *slot = &priv->slots[priv->post++ &
							       priv->mask];

			slot->va = bufs[i];
			slot->gen = gens[i];
		}
		raw_spin_unlock_irqrestore(&priv->lock, flags);
		atomic_long_add(k, &priv->counters[napi ? LABNET_RX_POSTED_NAPI :
						     LABNET_RX_POSTED_IRQ]);
		for (i = k; i < n; i++) {
			struct labnet_buf left = { .va = bufs[i], .gen = gens[i] };

			labnet_pool_put(priv, &left, napi);
		}
		if (n < want || k < n || !napi)
			return;
	}
}

/*
 * Move written frames from the ring to the completion queue, as far as it
 * has room, and return the frames queued. Called with @lock held.
 */
static unsigned int labnet_harvest(struct labnet_priv *priv)
{
	unsigned int room = priv->size - (priv->cq_tail - priv->cq_head);
	unsigned int n = min(priv->dev_idx - priv->done, room);

	while (n--)
		priv->cq[priv->cq_tail++ & (LABNET_RING_MAX - 1)] =
			priv->slots[priv->done++ & priv->mask];
	return priv->cq_tail - priv->cq_head;
}

/*
 * Fewer than irq_low percent of the ring's slots hold a buffer the device
 * may write. Called with @lock held.
 */
static bool labnet_ring_low(struct labnet_priv *priv)
{
	return (u64)(priv->post - priv->dev_idx) * 100 <
	       (u64)priv->size * min(irq_low, 100U);
}

/* The interrupt handler: hard irq. */
static enum hrtimer_restart labnet_irq(struct hrtimer *timer)
{
	struct labnet_priv *priv = container_of(timer, struct labnet_priv, irq);
	unsigned long flags;

	labnet_count(priv, LABNET_IRQS);
	if (!READ_ONCE(priv->up))
		return HRTIMER_NORESTART;
	if (labnet_pool == LABNET_LABYRINTH && irq_post) {
		bool low;

		/*
		 * The ring runs low: the device gets buffers again now, not
		 * when NAPI runs. Only then: a claim here may fill a void room
		 * only with alloc_pages_nolock(), which zeroes the page, where
		 * NAPI fills with GFP_ATOMIC.
		 */
		raw_spin_lock_irqsave(&priv->lock, flags);
		low = labnet_ring_low(priv);
		if (low)
			labnet_harvest(priv);
		raw_spin_unlock_irqrestore(&priv->lock, flags);
		if (low)
			labnet_post(priv, false);
	}
	/* the interrupt stays masked (pending) until NAPI completes */
	napi_schedule(&priv->napi);
	return HRTIMER_NORESTART;
}

/* --- NAPI --------------------------------------------------------------- */

static int labnet_poll(struct napi_struct *napi, int budget)
{
	struct labnet_priv *priv = container_of(napi, struct labnet_priv, napi);
	unsigned int n, i, bytes = 0, copied = 0, passed = 0;
	unsigned long flags;
	bool rxcsum = priv->dev->features & NETIF_F_RXCSUM;

	/* netpoll: no RX work, and no page_pool, with a budget of 0 */
	if (!budget)
		return 0;
	raw_spin_lock_irqsave(&priv->lock, flags);
	n = min_t(unsigned int, labnet_harvest(priv), budget);
	raw_spin_unlock_irqrestore(&priv->lock, flags);

	/* [cq_head, cq_head + n) are ours: nobody else looks at them */
	for (i = 0; i < n; i++) {
		struct labnet_buf *buf = &priv->cq[(priv->cq_head + i) &
						   (LABNET_RING_MAX - 1)];
		void *frame = buf->va + LABNET_HEADROOM;
		struct sk_buff *skb;

		if (buf->len <= READ_ONCE(copybreak)) {
			skb = napi_alloc_skb(napi, buf->len);
			if (skb)
				skb_put_data(skb, frame, buf->len);
			labnet_pool_put(priv, buf, true);
			copied++;
		} else {
			skb = labnet_pool_build(priv, buf);
		}
		if (unlikely(!skb)) {
			labnet_count(priv, LABNET_RX_BUILD_FAIL);
			continue;
		}
		passed++;
		bytes += skb->len;
		skb->protocol = eth_type_trans(skb, priv->dev);
		/*
		 * As veth: every frame was made on this host, its checksum
		 * computed by the stack or by labnet_dma().
		 */
		if (rxcsum)
			skb->ip_summed = CHECKSUM_UNNECESSARY;
		napi_gro_receive(napi, skb);
	}
	u64_stats_update_begin(&priv->rx.syncp);
	u64_stats_add(&priv->rx.packets, passed);
	u64_stats_add(&priv->rx.bytes, bytes);
	u64_stats_update_end(&priv->rx.syncp);
	if (copied)
		atomic_long_add(copied, &priv->counters[LABNET_RX_COPYBREAK]);

	raw_spin_lock_irqsave(&priv->lock, flags);
	priv->cq_head += n;
	labnet_harvest(priv);		/* the queue has room again */
	raw_spin_unlock_irqrestore(&priv->lock, flags);
	labnet_post(priv, true);

	if (n < budget && napi_complete_done(napi, n)) {
		/*
		 * Unmask; a frame written since our look raises it again.
		 * Under the lock that labnet_dma() holds for its write and
		 * its raise, and only while the ring is up: napi_disable()
		 * may return once napi_complete_done() has, and the raise
		 * must not re-arm the timer that labnet_stop_ring() cancels.
		 */
		raw_spin_lock_irqsave(&priv->lock, flags);
		clear_bit(LABNET_IRQ_PENDING, &priv->irq_pending);
		if (priv->up && (priv->dev_idx != priv->done ||
				 priv->cq_tail != priv->cq_head))
			labnet_raise_irq(priv);
		raw_spin_unlock_irqrestore(&priv->lock, flags);
	}
	return n;
}

/* --- bringing the device up and down ------------------------------------ */

static void labnet_free_ring(struct labnet_priv *priv)
{
	unsigned int i;

	/* up is false, the interrupt and NAPI are stopped: the ring is ours */
	for (i = priv->done; i != priv->post; i++)
		labnet_pool_put(priv, &priv->slots[i & priv->mask], false);
	for (i = priv->cq_head; i != priv->cq_tail; i++)
		labnet_pool_put(priv, &priv->cq[i & (LABNET_RING_MAX - 1)], false);
	priv->cq_head = 0;
	priv->cq_tail = 0;
	priv->post = 0;
	priv->dev_idx = 0;
	priv->done = 0;
}

static int labnet_start(struct labnet_priv *priv)
{
	unsigned long flags;
	int err;

	err = labnet_pool_open(priv);
	if (err)
		return err;
	raw_spin_lock_irqsave(&priv->lock, flags);
	priv->post = 0;
	priv->dev_idx = 0;
	priv->done = 0;
	priv->cq_head = 0;
	priv->cq_tail = 0;
	priv->up = true;
	raw_spin_unlock_irqrestore(&priv->lock, flags);
	napi_enable(&priv->napi);
	/* the first buffers: NAPI posts them, as every later one */
	local_bh_disable();
	set_bit(LABNET_IRQ_PENDING, &priv->irq_pending);	/* masked till it completes */
	napi_schedule(&priv->napi);
	local_bh_enable();
	priv->started = true;
	return 0;
}

static void labnet_stop_ring(struct labnet_priv *priv)
{
	unsigned long flags;

	if (!priv->started)
		return;
	priv->started = false;
	/* no more DMA, and no interrupt raised after this */
	raw_spin_lock_irqsave(&priv->lock, flags);
	priv->up = false;
	raw_spin_unlock_irqrestore(&priv->lock, flags);
	/*
	 * NAPI first: a poll may still raise the interrupt. The handler
	 * then finds NAPI disabled and the ring down, and raises nothing.
	 */
	napi_disable(&priv->napi);
	hrtimer_cancel(&priv->irq);
	labnet_free_ring(priv);
	labnet_pool_close(priv);
}

static int labnet_open(struct net_device *dev)
{
	struct labnet_priv *priv = netdev_priv(dev);
	int err;

	err = labnet_start(priv);
	if (err)
		return err;
	/* the link is up when both ends are */
	if (netif_running(priv->peer)) {
		netif_carrier_on(dev);
		netif_carrier_on(priv->peer);
	}
	return 0;
}

static int labnet_stop(struct net_device *dev)
{
	struct labnet_priv *priv = netdev_priv(dev);

	netif_carrier_off(dev);
	netif_carrier_off(priv->peer);
	labnet_stop_ring(priv);
	return 0;
}

static void labnet_get_stats64(struct net_device *dev,
			       struct rtnl_link_stats64 *s)
{
	struct labnet_priv *priv = netdev_priv(dev);
	unsigned int start;

	do {
		start = u64_stats_fetch_begin(&priv->rx.syncp);
		s->rx_packets = u64_stats_read(&priv->rx.packets);
		s->rx_bytes = u64_stats_read(&priv->rx.bytes);
	} while (u64_stats_fetch_retry(&priv->rx.syncp, start));
	do {
		start = u64_stats_fetch_begin(&priv->tx.syncp);
		s->tx_packets = u64_stats_read(&priv->tx.packets);
		s->tx_bytes = u64_stats_read(&priv->tx.bytes);
	} while (u64_stats_fetch_retry(&priv->tx.syncp, start));
	s->rx_missed_errors = atomic_long_read(&priv->counters[LABNET_RX_MISSED]);
	s->rx_dropped = atomic_long_read(&priv->counters[LABNET_RX_BUILD_FAIL]);
	s->tx_dropped = atomic_long_read(&priv->counters[LABNET_TX_DROPPED]);
}

static const struct net_device_ops labnet_netdev_ops = {
	.ndo_open		= labnet_open,
	.ndo_stop		= labnet_stop,
	.ndo_start_xmit		= labnet_xmit,
	.ndo_get_stats64	= labnet_get_stats64,
	.ndo_set_mac_address	= eth_mac_addr,
	.ndo_validate_addr	= eth_validate_addr,
};

/* --- ethtool ------------------------------------------------------------ */

static void labnet_get_drvinfo(struct net_device *dev,
			       struct ethtool_drvinfo *info)
{
	strscpy(info->driver, KBUILD_MODNAME, sizeof(info->driver));
	strscpy(info->bus_info, labnet_pool_names[labnet_pool],
		sizeof(info->bus_info));
}

static void labnet_get_ringparam(struct net_device *dev,
				 struct ethtool_ringparam *rp,
				 struct kernel_ethtool_ringparam *krp,
				 struct netlink_ext_ack *extack)
{
	struct labnet_priv *priv = netdev_priv(dev);

	rp->rx_max_pending = LABNET_RING_MAX;
	rp->rx_pending = priv->size;
}

static int labnet_set_ringparam(struct net_device *dev,
				struct ethtool_ringparam *rp,
				struct kernel_ethtool_ringparam *krp,
				struct netlink_ext_ack *extack)
{
	struct labnet_priv *priv = netdev_priv(dev);
	unsigned int size = rp->rx_pending;

	if (size < LABNET_RING_MIN || !is_power_of_2(size) ||
	    rp->rx_mini_pending || rp->rx_jumbo_pending || rp->tx_pending) {
		NL_SET_ERR_MSG(extack, "rx ring: a power of two from 16 to 4096; no other ring");
		return -EINVAL;
	}
	if (labnet_rooms_short(size)) {
		NL_SET_ERR_MSG(extack, "rx ring: too large for the rooms= set at load");
		return -EINVAL;
	}
	/* the same size restarts a ring an earlier failure left down */
	if (size == priv->size && (priv->started || !netif_running(dev)))
		return 0;
	if (netif_running(dev)) {
		/* the peer's frames meanwhile are dropped: the ring is down */
		labnet_stop_ring(priv);
		priv->size = size;
		priv->mask = size - 1;
		/* on failure the device stays up with its ring down, dropping */
		return labnet_start(priv);
	}
	priv->size = size;
	priv->mask = size - 1;
	return 0;
}

static int labnet_get_sset_count(struct net_device *dev, int sset)
{
	if (sset != ETH_SS_STATS)
		return -EOPNOTSUPP;
	return LABNET_NR_COUNTERS + (labnet_pool == LABNET_LABYRINTH ?
		ARRAY_SIZE(labnet_lab_stats) + LABNET_LAB_GAUGES : 0);
}

static void labnet_get_strings(struct net_device *dev, u32 sset, u8 *data)
{
	static const char *const gauges[LABNET_LAB_GAUGES] = {
		"lab_rooms", "lab_rooms_owned", "lab_rooms_void",
	};
	unsigned int i;

	if (sset != ETH_SS_STATS)
		return;
	for (i = 0; i < LABNET_NR_COUNTERS; i++, data += ETH_GSTRING_LEN)
		strscpy(data, labnet_counter_names[i], ETH_GSTRING_LEN);
	if (labnet_pool != LABNET_LABYRINTH)
		return;
	for (i = 0; i < ARRAY_SIZE(labnet_lab_stats); i++, data += ETH_GSTRING_LEN)
		strscpy(data, labnet_lab_stats[i].name, ETH_GSTRING_LEN);
	for (i = 0; i < LABNET_LAB_GAUGES; i++, data += ETH_GSTRING_LEN)
		strscpy(data, gauges[i], ETH_GSTRING_LEN);
}

static void labnet_get_ethtool_stats(struct net_device *dev,
				     struct ethtool_stats *stats, u64 *data)
{
	struct labnet_priv *priv = netdev_priv(dev);
	struct labyrinth_stats ls = {};
	unsigned int i;

	for (i = 0; i < LABNET_NR_COUNTERS; i++)
		*data++ = atomic_long_read(&priv->counters[i]);
	if (labnet_pool != LABNET_LABYRINTH)
		return;
	/* under RTNL: the labyrinth is not destroyed meanwhile */
	if (priv->lab)
		labyrinth_get_stats(priv->lab, &ls);
	for (i = 0; i < ARRAY_SIZE(labnet_lab_stats); i++)
		*data++ = *(u64 *)((char *)&ls + labnet_lab_stats[i].offset);
	*data++ = ls.nr_rooms;
	*data++ = ls.rooms_owned;
	*data++ = ls.rooms_void;
}

static const struct ethtool_ops labnet_ethtool_ops = {
	.get_drvinfo		= labnet_get_drvinfo,
	.get_link		= ethtool_op_get_link,
	.get_ringparam		= labnet_get_ringparam,
	.set_ringparam		= labnet_set_ringparam,
	.get_sset_count		= labnet_get_sset_count,
	.get_strings		= labnet_get_strings,
	.get_ethtool_stats	= labnet_get_ethtool_stats,
};

/* --- the pair ----------------------------------------------------------- */

static void labnet_setup(struct net_device *dev)
{
	struct labnet_priv *priv = netdev_priv(dev);

	ether_setup(dev);
	dev->netdev_ops = &labnet_netdev_ops;
	dev->ethtool_ops = &labnet_ethtool_ops;
	dev->features = NETIF_F_SG | NETIF_F_HW_CSUM | NETIF_F_RXCSUM |
			NETIF_F_HIGHDMA;
	dev->hw_features = dev->features;
	dev->max_mtu = LABNET_FRAME_MAX - ETH_HLEN;
	eth_hw_addr_random(dev);

	priv->dev = dev;
	raw_spin_lock_init(&priv->lock);
	u64_stats_init(&priv->rx.syncp);
	u64_stats_init(&priv->tx.syncp);
	hrtimer_setup(&priv->irq, labnet_irq, CLOCK_MONOTONIC,
		      HRTIMER_MODE_REL_HARD);
	netif_napi_add(dev, &priv->napi, labnet_poll);
}

static void labnet_free(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(labnet_devs); i++) {
		struct net_device *dev = labnet_devs[i];
		struct labnet_priv *priv;

		if (!dev)
			continue;
		priv = netdev_priv(dev);
		netif_napi_del(&priv->napi);
		kvfree(priv->slots);
		kvfree(priv->cq);
		free_netdev(dev);
		labnet_devs[i] = NULL;
	}
}

static int __init labnet_init(void)
{
	unsigned int i;
	int err;

	err = match_string(labnet_pool_names, ARRAY_SIZE(labnet_pool_names), pool);
	if (err < 0) {
		pr_err("pool=%s: not labyrinth, page_pool or atomic\n", pool);
		return -EINVAL;
	}
	labnet_pool = err;
	if (labnet_pool == LABNET_PAGE_POOL && !IS_ENABLED(CONFIG_PAGE_POOL)) {
		pr_err("pool=page_pool: this kernel has no CONFIG_PAGE_POOL\n");
		return -EOPNOTSUPP;
	}
	if (ring < LABNET_RING_MIN || ring > LABNET_RING_MAX || !is_power_of_2(ring)) {
		pr_err("ring=%u: a power of two from 16 to 4096\n", ring);
		return -EINVAL;
	}
	if (labnet_rooms_short(ring)) {
		pr_err("rooms=%u: at least %u for a ring of %u\n", rooms,
		       labnet_rooms_needed(ring), ring);
		return -EINVAL;
	}

	for (i = 0; i < ARRAY_SIZE(labnet_devs); i++) {
		struct net_device *dev;
		struct labnet_priv *priv;

		dev = alloc_netdev(sizeof(*priv), "labnet%d", NET_NAME_ENUM,
				   labnet_setup);
		if (!dev)
			goto nomem;
		labnet_devs[i] = dev;
		priv = netdev_priv(dev);
		/* the ring at its largest: ethtool -G never reallocates it */
		priv->slots = kvcalloc(LABNET_RING_MAX, sizeof(*priv->slots),
				       GFP_KERNEL);
		priv->cq = kvcalloc(LABNET_RING_MAX, sizeof(*priv->cq), GFP_KERNEL);
		if (!priv->slots || !priv->cq)
			goto nomem;
		priv->size = ring;
		priv->mask = ring - 1;
	}
	for (i = 0; i < 2; i++)
		((struct labnet_priv *)netdev_priv(labnet_devs[i]))->peer =
			labnet_devs[!i];

	for (i = 0; i < ARRAY_SIZE(labnet_devs); i++) {
		netif_carrier_off(labnet_devs[i]);
		err = register_netdev(labnet_devs[i]);
		if (err) {
			if (i)
				unregister_netdev(labnet_devs[0]);
			labnet_free();
			return err;
		}
	}
	pr_info("%s and %s: pool %s, ring %u, copybreak %u, coalesce %u us\n",
		netdev_name(labnet_devs[0]), netdev_name(labnet_devs[1]),
		labnet_pool_names[labnet_pool], ring, copybreak, coalesce_us);
	return 0;
nomem:
	labnet_free();
	return -ENOMEM;
}

static void __exit labnet_exit(void)
{
	LIST_HEAD(list);

	/* both at once: neither transmits into a freed peer */
	rtnl_lock();
	unregister_netdevice_queue(labnet_devs[0], &list);
	unregister_netdevice_queue(labnet_devs[1], &list);
	unregister_netdevice_many(&list);
	rtnl_unlock();
	labnet_free();
}

module_init(labnet_init);
module_exit(labnet_exit);
MODULE_LICENSE("GPL");
MODULE_AUTHOR("The labyrinth authors");
MODULE_DESCRIPTION("A pair of virtual Ethernet devices with RX buffers from labyrinth, page_pool or GFP_ATOMIC");
