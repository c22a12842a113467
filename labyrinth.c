// SPDX-License-Identifier: GPL-2.0-only
/*
 * labyrinth - page-backed rooms claimed exclusively from any context
 *
 * A labyrinth is a fixed set of rooms, each owning 2^order pages taken from
 * the page allocator when the labyrinth is created. A driver claims a room
 * from task, softirq or hard interrupt context, or under its own raw
 * spinlock with interrupts disabled, and owns the room's memory until it
 * releases or detaches it. Claim, release, detach, owner and stats never
 * sleep and are safe in any context except NMI; create and destroy need
 * process context.
 *
 * Copyright (C) 2026 The labyrinth authors
 */

/*
 * Design
 *
 * Rooms. Each room has a raw spinlock guarding its state, its owner and its
 * page. A room is FREE (has pages, no owner), OWNED, VOID (its pages were
 * detached, or a refill failed) or BUSY (a refill or a poisoning release is
 * running with the lock dropped, so that no page is allocated, freed or
 * written while a raw lock is held).
 *
 * Wings and doors. The n rooms are laid out as W wings of consecutive rooms,
 * W = doors, wing sizes differing by at most one. Room p of wing w has W
 * doors. Door 0, the near door, opens onto room p + 1 of the same wing
 * (wrapping inside the wing). Door k, 1 <= k < W, a far door, opens onto
 * room p + 1 of wing w + k (mod W).
 *
 * Entrances. CPU c enters at room c * n / nr_cpu_ids, so that CPUs claiming
 * at the same time start in different wings when W >= CPUs, and a CPU keeps
 * reusing the rooms near its own entrance (warm in its cache).
 *
 * The walk. A claim trylocks each room it visits; it never spins on a room
 * lock. After a room it cannot take, it picks the next door:
 *  - the room was owned, BUSY or VOID: the near door. Owned rooms pile up
 *    next to each CPU's entrance, so the next room along is the likeliest
 *    free one and walking a wing in order touches consecutive memory;
 *  - the room's lock was busy: a far door, doors 1, 2, ... W - 1 in turn on
 *    successive busy locks. A busy lock means another CPU is working in this
 *    wing right now; going on next to it would meet it again.
 * The claim remembers, for every wing it entered, how many of that wing's
 * rooms it has seen; it sees a wing's rooms in ring order from the column
 * of its entrance, so the rooms seen form one arc per wing. A door leads to
 * the first unseen room of its wing: while the claim walks the wings in
 * step that is exactly the room the door opens onto. If every room of the
 * door's wing has been seen, the claim takes the next door (k + 1, ...).
 *
 * Bounds. Every visit sees a room the claim has not seen, so a claim visits
 * each room at most once and at most limit = max_probe (n when 0) rooms;
 * with max_probe == 0 it fails only after seeing every room owned, void and
 * unfillable, BUSY or locked. A visit costs one trylock with interrupts
 * saved, a few stores and at most W - 1 door checks; the lock is never held
 * across anything longer. The worst case is limit trylocks plus one atomic
 * page allocation: a claim that finds a VOID room fills it (see below), and
 * after one failed fill it skips the remaining void rooms.
 *
 * Filling. A claim that meets a VOID room marks it BUSY, drops the lock,
 * calls alloc_pages(GFP_ATOMIC | __GFP_NOWARN), retakes the lock and claims
 * the filled room. alloc_pages() takes spinlock_t locks, which sleep on
 * PREEMPT_RT, so the claim does so only where RT allows it: not in hard
 * interrupt context, not with interrupts disabled, not with preemption
 * disabled by a lock. The same rule applies on every kernel, so code tested
 * on !RT is valid on RT, and lockdep's PROVE_RAW_LOCK_NESTING holds us to
 * it. Elsewhere the claim skips the room and kicks the deferred refill, a
 * delayed work item that fills void rooms with GFP_KERNEL in process
 * context; detach also schedules it, shortly later, so that rooms nobody
 * walks over are topped up.
 *
 * Ownership. A room's page->private holds the room's index, so release and
 * detach find the room in O(1) and then check under the room's lock that
 * its page is the caller's page and its owner the caller's owner.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/jiffies.h>
#include <linux/log2.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/percpu.h>
#include <linux/mutex.h>
#include <linux/preempt.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "compat/compat.h"
#include "labyrinth.h"
#include "internal/labyrinth_internal.h"

#define CREATE_TRACE_POINTS
#include "labyrinth_trace.h"

#define LABYRINTH_NAME_LEN	32
#define LABYRINTH_POISON_BYTE	0x6b
/*
 * After a detach, or a failed fill, the deferred refill runs this much
 * later: a claim may refill the room first, and a failing allocator is
 * not hammered.
 */
#define LABYRINTH_REFILL_DELAY	msecs_to_jiffies(20)

enum labyrinth_room_state {
	LAB_ROOM_FREE,
	LAB_ROOM_OWNED,
	LAB_ROOM_VOID,
	LAB_ROOM_BUSY,
};

/* Whether a claim may fill a void room: asked only when it meets one. */
enum labyrinth_fill {
	LAB_FILL_ASK,		/* not known yet */
	LAB_FILL_OK,
	LAB_FILL_NEVER,		/* the context forbids allocation */
	LAB_FILL_FAILED,	/* a fill failed: skip void rooms */
};

enum labyrinth_probe {
	LAB_PROBE_CLAIMED,
	LAB_PROBE_TAKEN,	/* owned or BUSY */
	LAB_PROBE_VOID,		/* void and not filled */
	LAB_PROBE_LOCKED,	/* lock was busy */
};

/*
 * A room. Claims on different CPUs lock different rooms at the same time,
 * so every room has its own cache line: no false sharing between them.
 */
struct labyrinth_room {
	raw_spinlock_t lock;
	u8 state;			/* enum labyrinth_room_state */
	bool poisoned;			/* LABYRINTH_POISON: check on claim */
	const void *owner;
	struct page *page;		/* NULL while VOID or filling */
	void *addr;			/* page_address(page) */
	struct page *ghost;		/* last detached page, until refilled */
	unsigned long claim_ip;		/* caller of the owner's claim */
	unsigned long claimed_at;	/* jiffies */
	/*
	 * Claims that left this room through each door after a collision:
	 * the heat map of debugfs "map". Racy increments; a lost one is fine.
	 * Written only on the collision path, on the room's second line.
	 */
	unsigned int hits[LABYRINTH_MAX_DOORS];
} ____cacheline_aligned_in_smp;

/* Successful claims are counted in the probe-length histogram alone. */
enum labyrinth_counter {
	LAB_RELEASES,
	LAB_DETACHES,
	LAB_COLLISIONS,
	LAB_FAIL_FULL,
	LAB_FAIL_CONTENDED,
	LAB_REFILLS,
	LAB_REFILL_FAILURES,
	LAB_BAD_CALLS,
	LAB_POISON_ERRORS,
	LAB_PAGES_TAKEN,	/* from the page allocator */
	LAB_PAGES_FREED,	/* back to the page allocator */
	LAB_PAGES_GIVEN,	/* to an owner, by detach or destroy */
	LAB_NR_COUNTERS
};

/* Probe-length histogram: bucket b counts claims visiting 2^b..2^(b+1)-1 rooms. */
#define LAB_HIST_BUCKETS	16

/*
 * Per-CPU counters and entrance. Only its CPU writes them, so claims and
 * releases never share a counter line with another CPU.
 */
struct labyrinth_pcpu {
	u64 count[LAB_NR_COUNTERS];
	u64 hist[LAB_HIST_BUCKETS];
	unsigned int entry;		/* room index of this CPU's entrance */
	unsigned int entry_wing;
	unsigned int entry_col;
};

/*
 * struct labyrinth - the labyrinth; rooms follow it in the same allocation.
 * Everything before @rooms is read-only after create, so it is shared
 * clean by every CPU's cache.
 */
struct labyrinth {
	unsigned int nr_rooms;
	unsigned int order;
	unsigned int doors;		/* = number of wings, W */
	unsigned int wing_rooms;	/* n / W */
	unsigned int wing_extra;	/* n % W: wings with one more room */
	unsigned int limit;		/* max_probe, or n */
	unsigned int flags;
	unsigned long refill_delay;	/* jiffies */
	unsigned int owned_hwm;		/* see labyrinth_note_owned() */
	struct dentry *debugfs;
	struct labyrinth_pcpu __percpu *pcpu;
	struct delayed_work refill_work;
	char name[LABYRINTH_NAME_LEN];
	struct labyrinth_room rooms[];
};

/* The walk state of one claim: per wing, its next column and rooms seen. */
struct labyrinth_walk {
	unsigned long entered;		/* bitmap of wings entered */
	unsigned int col[LABYRINTH_MAX_DOORS];
	unsigned int seen[LABYRINTH_MAX_DOORS];
};

/*
 * Pages taken from the page allocator and not yet given back or away: the
 * KUnit suite's leak check. A shared atomic, so kept only where it is read.
 */
static atomic_long_t labyrinth_pages = ATOMIC_LONG_INIT(0);

/*
 * Every labyrinth counts the pages it takes from the page allocator and
 * gives back (freed) or away (to an owner) in its per-CPU counters; when
 * it ends, at destroy or when create gives up, the three must balance.
 * The totals of every labyrinth ended so far, and how many were started
 * (their struct and per-CPU data allocated): debugfs labyrinth/pages.
 * Started minus ended is the labyrinths still alive, which hold the
 * module's own memory: 0 once every user has destroyed its labyrinths.
 */
static struct {
	atomic64_t started, ended, taken, freed, given, unbalanced;
} labyrinth_page_totals;

static struct dentry *labyrinth_debugfs_root;
static DEFINE_MUTEX(labyrinth_debugfs_lock);	/* unique directory names */

/* Operations named in the bad_call tracepoint. */
enum { LAB_OP_CLAIM, LAB_OP_RELEASE, LAB_OP_DETACH };

/* Count events in this CPU's counters; interrupt-safe, never shared. */
static __always_inline void labyrinth_count_n(struct labyrinth *lab,
					      enum labyrinth_counter c,
					      unsigned int n)
{
	this_cpu_add(lab->pcpu->count[c], n);
}

static __always_inline void labyrinth_count(struct labyrinth *lab,
					    enum labyrinth_counter c)
{
	labyrinth_count_n(lab, c, 1);
}

/* Raise the high-water mark of owned rooms to claims - (releases + detaches). */
static void labyrinth_raise_hwm(struct labyrinth *lab, s64 owned)
{
	owned = clamp_t(s64, owned, 0, lab->nr_rooms);
	/* Racing writers may lose a mark to a lower one: rare, and a sample. */
	if (owned > data_race(lab->owned_hwm))
		WRITE_ONCE(lab->owned_hwm, owned);
}

/*
 * The high-water mark of owned rooms. Summing every CPU's count on every
 * claim would cost the fast path, so the mark is taken where the count can
 * rise past it: by a claim that had to walk past taken rooms (reading only
 * the counters it needs), and by stats readers. A peak reached only by
 * claims that found their entrance free is seen when stats are next read,
 * if it still stands.
 */
static void labyrinth_note_owned(struct labyrinth *lab)
{
	const struct labyrinth_pcpu *p;
	unsigned int cpu, b;
	s64 owned = 0;

	/* a racy read: the mark is a sample */
	if (data_race(lab->owned_hwm) >= lab->nr_rooms)
		return;		/* nothing to raise */
	for_each_possible_cpu(cpu) {
		p = per_cpu_ptr(lab->pcpu, cpu);
		/* other CPUs count on: a snapshot */
		owned -= data_race(p->count[LAB_RELEASES] + p->count[LAB_DETACHES]);
		for (b = 0; b < LAB_HIST_BUCKETS; b++)
			/* likewise */
			owned += data_race(p->hist[b]);
	}
	labyrinth_raise_hwm(lab, owned);
}

/* A refused call: counted and traced, never warned about. */
static void labyrinth_bad_call(struct labyrinth *lab, int op, const void *owner,
			       const void *addr, int err, unsigned long ip)
{
	labyrinth_count(lab, LAB_BAD_CALLS);
	trace_labyrinth_bad_call(lab->name, op, owner, addr, err, ip);
}

static unsigned int labyrinth_room_idx(const struct labyrinth *lab,
				       const struct labyrinth_room *room)
{
	return room - lab->rooms;
}

static unsigned int labyrinth_wing_size(const struct labyrinth *lab,
					unsigned int w)
{
	return lab->wing_rooms + (w < lab->wing_extra);
}

static unsigned int labyrinth_wing_start(const struct labyrinth *lab,
					 unsigned int w)
{
	return w * lab->wing_rooms + min_t(unsigned int, w, lab->wing_extra);
}

/* The wing room @i is in: the first n % W wings have one room more. */
static unsigned int labyrinth_wing_of(const struct labyrinth *lab,
				      unsigned int i)
{
	unsigned int q = lab->wing_rooms, r = lab->wing_extra;

	return i < r * (q + 1) ? i / (q + 1) : r + (i - r * (q + 1)) / q;
}

static size_t labyrinth_room_bytes(const struct labyrinth *lab)
{
	return PAGE_SIZE << lab->order;
}

VISIBLE_IF_KUNIT void *labyrinth_alloc_lab(size_t size)
{
	KUNIT_STATIC_STUB_REDIRECT(labyrinth_alloc_lab, size);
	return kvzalloc(size, GFP_KERNEL);
}
EXPORT_SYMBOL_IF_KUNIT(labyrinth_alloc_lab);

VISIBLE_IF_KUNIT struct labyrinth_pcpu __percpu *labyrinth_alloc_pcpu(void)
{
	KUNIT_STATIC_STUB_REDIRECT(labyrinth_alloc_pcpu);
	return alloc_percpu(struct labyrinth_pcpu);
}
EXPORT_SYMBOL_IF_KUNIT(labyrinth_alloc_pcpu);

/* The one function that takes pages from the page allocator. */
VISIBLE_IF_KUNIT struct page *labyrinth_alloc_room(struct labyrinth *lab,
						   gfp_t gfp)
{
	KUNIT_STATIC_STUB_REDIRECT(labyrinth_alloc_room, lab, gfp);
	return alloc_pages(gfp, lab->order);
}
EXPORT_SYMBOL_IF_KUNIT(labyrinth_alloc_room);

/* Count a room's pages in or out: LAB_PAGES_{TAKEN,FREED,GIVEN}. */
static void labyrinth_account(struct labyrinth *lab, enum labyrinth_counter c)
{
	long pages = 1L << lab->order;

	labyrinth_count_n(lab, c, pages);
	if (IS_ENABLED(CONFIG_KUNIT))
		atomic_long_add(c == LAB_PAGES_TAKEN ? pages : -pages,
				&labyrinth_pages);
}

/* Pages for a room, counted as taken. */
static struct page *labyrinth_take_pages(struct labyrinth *lab, gfp_t gfp)
{
	struct page *page = labyrinth_alloc_room(lab, gfp);

	if (page)
		labyrinth_account(lab, LAB_PAGES_TAKEN);
	return page;
}

/* Give a room's pages back, or away (@free false: to their owner). */
static void labyrinth_put_pages(struct labyrinth *lab, struct page *page,
				bool free)
{
	labyrinth_account(lab, free ? LAB_PAGES_FREED : LAB_PAGES_GIVEN);
	if (free) {
		set_page_private(page, 0);
		__free_pages(page, lab->order);
	}
}

/*
 * Schedule the deferred refill, unless it is already pending. Called from
 * any context: the workqueue and timer locks are raw.
 */
static void labyrinth_kick_refill(struct labyrinth *lab, unsigned long delay)
{
	queue_delayed_work(system_dfl_wq, &lab->refill_work, delay);
}

/* Install @page in @room, which the caller has made unreachable or locked. */
static void labyrinth_install(struct labyrinth *lab,
			      struct labyrinth_room *room, struct page *page)
{
	set_page_private(page, labyrinth_room_idx(lab, room));
	room->page = page;
	room->addr = page_address(page);
	room->ghost = NULL;
	room->poisoned = false;
	room->state = LAB_ROOM_FREE;
}

/*
 * Fill the VOID @room. The lock is dropped around the allocation and held
 * again on return; the room is FREE on success and VOID on failure.
 */
static bool labyrinth_fill(struct labyrinth *lab, struct labyrinth_room *room,
			   gfp_t gfp, unsigned long *flags)
	__must_hold(&room->lock)
{
	struct page *page;

	lockdep_assert_held(&room->lock);
	room->state = LAB_ROOM_BUSY;
	raw_spin_unlock_irqrestore(&room->lock, *flags);
	page = labyrinth_take_pages(lab, gfp);
	raw_spin_lock_irqsave(&room->lock, *flags);
	trace_labyrinth_refill(lab->name, labyrinth_room_idx(lab, room), page,
			       !gfpflags_allow_blocking(gfp));
	if (!page) {
		room->state = LAB_ROOM_VOID;
		labyrinth_count(lab, LAB_REFILL_FAILURES);
		return false;
	}
	labyrinth_install(lab, room, page);
	labyrinth_count(lab, LAB_REFILLS);
	return true;
}

/*
 * May a claim allocate pages here? alloc_pages() takes spinlock_t locks:
 * not in hard interrupt context, nor with interrupts or preemption
 * disabled, which on PREEMPT_RT means a raw spinlock is held (see the
 * design note above).
 */
static bool labyrinth_may_alloc(void)
{
	return !in_hardirq() && !in_nmi() && !irqs_disabled() &&
	       !(preempt_count() & PREEMPT_MASK);
}

/* Visit one room: take it if it is free, or fill it if it is void. */
static enum labyrinth_probe labyrinth_try_room(struct labyrinth *lab,
					       struct labyrinth_room *room,
					       const void *owner,
					       unsigned long ip, u8 *fill)
{
	enum labyrinth_probe res = LAB_PROBE_TAKEN;
	unsigned long flags;

	/*
	 * Ask whether this context may allocate before taking the lock, which
	 * disables interrupts, and only once a void room shows up. (A room
	 * that turns void after this peek is skipped this time.)
	 */
	if (unlikely(*fill == LAB_FILL_ASK &&
		     /* an unlocked peek; the state is read again locked */
		     data_race(room->state) == LAB_ROOM_VOID))
		*fill = labyrinth_may_alloc() ? LAB_FILL_OK : LAB_FILL_NEVER;
	if (!raw_spin_trylock_irqsave(&room->lock, flags))
		return LAB_PROBE_LOCKED;
	if (unlikely(room->state == LAB_ROOM_VOID)) {
		res = LAB_PROBE_VOID;
		if (*fill == LAB_FILL_OK &&
		    !labyrinth_fill(lab, room, GFP_ATOMIC | __GFP_NOWARN, &flags))
			*fill = LAB_FILL_FAILED;
	}
	if (room->state == LAB_ROOM_FREE) {
		room->state = LAB_ROOM_OWNED;
		room->owner = owner;
		room->claim_ip = ip;
		room->claimed_at = jiffies;
		res = LAB_PROBE_CLAIMED;
	}
	raw_spin_unlock_irqrestore(&room->lock, flags);
	return res;
}

/* See the next unseen room of wing @w; returns its index. */
static unsigned int labyrinth_walk_next(const struct labyrinth *lab,
					struct labyrinth_walk *walk,
					unsigned int w, unsigned int col0)
{
	unsigned int size = labyrinth_wing_size(lab, w);
	unsigned int col;

	if (!__test_and_set_bit(w, &walk->entered)) {
		walk->seen[w] = 0;
		walk->col[w] = col0 < size ? col0 : 0;
	}
	col = walk->col[w];
	walk->col[w] = col + 1 < size ? col + 1 : 0;
	walk->seen[w]++;
	return labyrinth_wing_start(lab, w) + col;
}

/*
 * @door of wing @w if its wing has an unseen room, else the first door
 * after it that does. Returns the door; its wing is (w + door) % W.
 */
static unsigned int labyrinth_walk_door(const struct labyrinth *lab,
					const struct labyrinth_walk *walk,
					unsigned int w, unsigned int door)
{
	unsigned int i, next;

	for (i = 0; i < lab->doors; i++, door = (door + 1) % lab->doors) {
		next = (w + door) % lab->doors;
		if (!test_bit(next, &walk->entered) ||
		    walk->seen[next] < labyrinth_wing_size(lab, next))
			return door;
	}
	WARN_ON_ONCE(1);	/* the walk ends before every room is seen */
	return 0;
}

/*
 * The walk past the entrance, whose probe gave @res: kept out of line, so
 * that the common claim (entrance free) sets up no walk state at all.
 */
static noinline void *labyrinth_walk_on(struct labyrinth *lab,
					const void *owner, unsigned long ip,
					enum labyrinth_probe res,
					unsigned int *probes, bool *contended,
					u8 *fill)
{
	struct labyrinth_pcpu *pcpu = raw_cpu_ptr(lab->pcpu);
	unsigned int w = pcpu->entry_wing, col0 = pcpu->entry_col;
	unsigned int far = 0, door, idx;
	struct labyrinth_walk walk;
	bool kick = false;

	walk.entered = 0;
	idx = labyrinth_walk_next(lab, &walk, w, col0);	/* the entrance */
	for (;;) {
		kick |= res == LAB_PROBE_VOID;
		*contended |= res == LAB_PROBE_LOCKED;
		if (*probes == lab->limit)
			break;
		door = 0;
		if (res == LAB_PROBE_LOCKED && lab->doors > 1) {
			far = far + 1 < lab->doors ? far + 1 : 1;
			door = far;
		}
		door = labyrinth_walk_door(lab, &walk, w, door);
		data_race(lab->rooms[idx].hits[door]++);	/* heat map only */
		w = (w + door) % lab->doors;
		idx = labyrinth_walk_next(lab, &walk, w, col0);
		(*probes)++;
		res = labyrinth_try_room(lab, &lab->rooms[idx], owner, ip, fill);
		if (res == LAB_PROBE_CLAIMED)
			break;
	}
	/* Void rooms skipped: refill now, or a bit later if a fill failed. */
	if (kick)
		labyrinth_kick_refill(lab, *fill == LAB_FILL_FAILED ?
				      lab->refill_delay : 0);
	return res == LAB_PROBE_CLAIMED ? lab->rooms[idx].addr : NULL;
}

static void *labyrinth_walk(struct labyrinth *lab, const void *owner,
			    unsigned long ip, unsigned int *probes,
			    bool *contended)
{
	struct labyrinth_room *room;
	enum labyrinth_probe res;
	u8 fill = LAB_FILL_ASK;

	*probes = 1;
	room = &lab->rooms[raw_cpu_read(lab->pcpu->entry)];
	res = labyrinth_try_room(lab, room, owner, ip, &fill);
	if (likely(res == LAB_PROBE_CLAIMED))
		return room->addr;
	return labyrinth_walk_on(lab, owner, ip, res, probes, contended, &fill);
}

/* Check the poison left by the last release; then zero if asked to. */
static void labyrinth_prepare(struct labyrinth *lab, void *addr)
{
	struct labyrinth_room *room = &lab->rooms[page_private(virt_to_page(addr))];
	size_t size = labyrinth_room_bytes(lab);

	if (room->poisoned) {
		room->poisoned = false;
		if (memchr_inv(addr, LABYRINTH_POISON_BYTE, size)) {
			labyrinth_count(lab, LAB_POISON_ERRORS);
			pr_err_ratelimited("%s: room %u was written after its release\n",
					   lab->name, labyrinth_room_idx(lab, room));
		}
	}
	if (lab->flags & LABYRINTH_ZERO)
		memset(addr, 0, size);
}

/**
 * labyrinth_claim() - claim a free room
 * @lab: the labyrinth
 * @owner: the claimant's token (any non-NULL pointer, e.g. its device);
 *	only this token may release or detach the room
 *
 * Walks the labyrinth from this CPU's entrance and takes the first free
 * room it can lock, visiting at most max_probe rooms and each room at most
 * once. Never spins on a room lock; a void room is filled with GFP_ATOMIC
 * where the context allows allocation (see the design note).
 *
 * Context: Any context except NMI, including hard interrupt context and
 * under a raw spinlock with interrupts disabled. Never sleeps.
 * Return: the page-aligned address of the room's ``PAGE_SIZE << order``
 * bytes, or NULL if no room could be claimed, @lab is NULL or an ERR_PTR,
 * or @owner is NULL (the latter counted in the labyrinth's bad_calls).
 */
void *labyrinth_claim(struct labyrinth *lab, const void *owner)
{
	bool contended = false;
	unsigned int probes;
	void *addr;

	if (IS_ERR_OR_NULL(lab))
		return NULL;
	if (!owner) {
		labyrinth_bad_call(lab, LAB_OP_CLAIM, owner, NULL, -EINVAL,
				   _RET_IP_);
		return NULL;
	}
	addr = labyrinth_walk(lab, owner, _RET_IP_, &probes, &contended);
	trace_labyrinth_claim(lab->name, owner, addr, probes, contended);
	if (addr) {
		this_cpu_inc(lab->pcpu->hist[min_t(unsigned int, ilog2(probes),
						   LAB_HIST_BUCKETS - 1)]);
		if (probes > 1)
			labyrinth_note_owned(lab);
		probes--;
		if (lab->flags & (LABYRINTH_ZERO | LABYRINTH_POISON))
			labyrinth_prepare(lab, addr);
	} else if (contended) {
		labyrinth_count(lab, LAB_FAIL_CONTENDED);
	} else {
		labyrinth_count(lab, LAB_FAIL_FULL);
	}
	if (probes)
		labyrinth_count_n(lab, LAB_COLLISIONS, probes);
	return addr;
}
EXPORT_SYMBOL_GPL(labyrinth_claim);

/*
 * The room @addr names, without any check that it is this room's current
 * page: the caller checks that under the room's lock. NULL if @addr cannot
 * be a room of @lab at all.
 */
static struct labyrinth_room *labyrinth_lookup(struct labyrinth *lab,
					       const void *addr,
					       struct page **page)
{
	unsigned long idx;

	if (!addr || offset_in_page(addr) || !virt_addr_valid(addr))
		return NULL;
	*page = virt_to_page(addr);
	/* A foreign page's private is only compared, never trusted. */
	idx = data_race(page_private(*page));
	if (idx >= lab->nr_rooms)
		return NULL;
	return &lab->rooms[idx];
}

static int labyrinth_check_owner(struct labyrinth_room *room,
				 struct page *page, const void *owner)
	__must_hold(&room->lock)
{
	lockdep_assert_held(&room->lock);
	if (room->page != page)
		return page == room->ghost ? -ENOENT : -EINVAL;
	if (room->state != LAB_ROOM_OWNED)
		return -ENOENT;
	if (room->owner != owner)
		return -EPERM;
	return 0;
}

/* Poison a room being released; the lock is dropped while it is written. */
static void labyrinth_poison(struct labyrinth *lab,
			     struct labyrinth_room *room, unsigned long *flags)
	__must_hold(&room->lock)
{
	room->state = LAB_ROOM_BUSY;
	room->owner = NULL;
	raw_spin_unlock_irqrestore(&room->lock, *flags);
	memset(room->addr, LABYRINTH_POISON_BYTE, labyrinth_room_bytes(lab));
	raw_spin_lock_irqsave(&room->lock, *flags);
	room->poisoned = true;
}

/**
 * labyrinth_release() - give a claimed room back to the labyrinth
 * @lab: the labyrinth
 * @addr: the address labyrinth_claim() returned
 * @owner: the token the room was claimed with
 *
 * Context: Any context except NMI. Never sleeps.
 * Return: 0 on success; -EINVAL if @lab or @owner is NULL or @lab an
 * ERR_PTR, or @addr is not the start of one of @lab's rooms (a foreign
 * page, an interior address, a detached page after its room was refilled);
 * -EPERM if the room is owned by another owner (it stays theirs); -ENOENT
 * if the room is not claimed (a double release, or a release after detach
 * while the room is still void). Every refusal that names a labyrinth is
 * counted in its bad_calls.
 */
int labyrinth_release(struct labyrinth *lab, void *addr, const void *owner)
{
	struct labyrinth_room *room;
	unsigned long flags;
	struct page *page;
	int err;

	if (IS_ERR_OR_NULL(lab))
		return -EINVAL;
	room = owner ? labyrinth_lookup(lab, addr, &page) : NULL;
	if (!room) {
		err = -EINVAL;
		goto out_bad;
	}
	raw_spin_lock_irqsave(&room->lock, flags);
	err = labyrinth_check_owner(room, page, owner);
	if (!err) {
		if (lab->flags & LABYRINTH_POISON)
			labyrinth_poison(lab, room, &flags);
		room->state = LAB_ROOM_FREE;
		room->owner = NULL;
	}
	raw_spin_unlock_irqrestore(&room->lock, flags);
	if (!err) {
		labyrinth_count(lab, LAB_RELEASES);
		trace_labyrinth_release(lab->name, owner, addr,
					labyrinth_room_idx(lab, room));
		return 0;
	}
out_bad:
	labyrinth_bad_call(lab, LAB_OP_RELEASE, owner, addr, err, _RET_IP_);
	return err;
}
EXPORT_SYMBOL_GPL(labyrinth_release);

/**
 * labyrinth_detach() - keep a claimed room's pages for good
 * @lab: the labyrinth
 * @addr: the address labyrinth_claim() returned
 * @owner: the token the room was claimed with
 *
 * The pages become the caller's, to be freed with
 * ``__free_pages(page, order)``; their page->private still holds the
 * room's index and is the caller's to overwrite. The room becomes void and
 * is refilled later, by a claim or by the deferred refill.
 *
 * Context: Any context except NMI. Never sleeps.
 * Return: the first page of the room, or an ERR_PTR with the codes of
 * labyrinth_release(): -EINVAL, -EPERM or -ENOENT.
 */
struct page *labyrinth_detach(struct labyrinth *lab, void *addr,
			      const void *owner)
{
	struct labyrinth_room *room;
	struct page *page = NULL;
	unsigned long flags;
	int err;

	if (IS_ERR_OR_NULL(lab))
		return ERR_PTR(-EINVAL);
	room = owner ? labyrinth_lookup(lab, addr, &page) : NULL;
	if (!room) {
		err = -EINVAL;
		goto out_bad;
	}
	raw_spin_lock_irqsave(&room->lock, flags);
	err = labyrinth_check_owner(room, page, owner);
	if (!err) {
		room->state = LAB_ROOM_VOID;
		room->owner = NULL;
		room->page = NULL;
		room->addr = NULL;
		room->ghost = page;
	}
	raw_spin_unlock_irqrestore(&room->lock, flags);
	if (!err) {
		labyrinth_put_pages(lab, page, false);
		labyrinth_count(lab, LAB_DETACHES);
		trace_labyrinth_detach(lab->name, owner, addr,
				       labyrinth_room_idx(lab, room));
		labyrinth_kick_refill(lab, lab->refill_delay);
		return page;
	}
out_bad:
	labyrinth_bad_call(lab, LAB_OP_DETACH, owner, addr, err, _RET_IP_);
	return ERR_PTR(err);
}
EXPORT_SYMBOL_GPL(labyrinth_detach);

/**
 * labyrinth_owner() - who owns a room
 * @lab: the labyrinth
 * @addr: an address labyrinth_claim() returned
 *
 * Context: Any context except NMI. Never sleeps.
 * Return: the owner token of the room at @addr, or NULL if the room is
 * free or void, @addr is not the start of one of @lab's rooms, or @lab is
 * NULL or an ERR_PTR.
 */
const void *labyrinth_owner(struct labyrinth *lab, const void *addr)
{
	struct labyrinth_room *room;
	const void *owner = NULL;
	unsigned long flags;
	struct page *page;

	if (IS_ERR_OR_NULL(lab))
		return NULL;
	room = labyrinth_lookup(lab, addr, &page);
	if (!room)
		return NULL;
	raw_spin_lock_irqsave(&room->lock, flags);
	if (room->page == page && room->state == LAB_ROOM_OWNED)
		owner = room->owner;
	raw_spin_unlock_irqrestore(&room->lock, flags);
	return owner;
}
EXPORT_SYMBOL_GPL(labyrinth_owner);

/*
 * Sum every CPU's counters into the zeroed @stats, and the probe-length
 * histogram into @hist if not NULL; count owned and void rooms.
 */
static void labyrinth_snapshot(struct labyrinth *lab,
			       struct labyrinth_stats *stats, u64 *hist)
{
	unsigned int cpu, i, b;

	for_each_possible_cpu(cpu) {
		struct labyrinth_pcpu p;

		/* Other CPUs count on: a snapshot, racy by design. */
		p = data_race(*per_cpu_ptr(lab->pcpu, cpu));
		for (b = 0; b < LAB_HIST_BUCKETS; b++) {
			stats->claims += p.hist[b];
			if (hist)
				hist[b] += p.hist[b];
		}
		stats->releases += p.count[LAB_RELEASES];
		stats->detaches += p.count[LAB_DETACHES];
		stats->collisions += p.count[LAB_COLLISIONS];
		stats->fail_full += p.count[LAB_FAIL_FULL];
		stats->fail_contended += p.count[LAB_FAIL_CONTENDED];
		stats->refills += p.count[LAB_REFILLS];
		stats->refill_failures += p.count[LAB_REFILL_FAILURES];
		stats->bad_calls += p.count[LAB_BAD_CALLS];
		stats->poison_errors += p.count[LAB_POISON_ERRORS];
	}
	stats->nr_rooms = lab->nr_rooms;
	for (i = 0; i < lab->nr_rooms; i++) {
		/* Lockless, so that stats never hold up a claim. */
		u8 state = data_race(lab->rooms[i].state);

		stats->rooms_owned += state == LAB_ROOM_OWNED;
		stats->rooms_void += state == LAB_ROOM_VOID;
	}
	labyrinth_raise_hwm(lab, stats->claims - stats->releases -
			    stats->detaches);
}

/**
 * labyrinth_get_stats() - snapshot a labyrinth's counters
 * @lab: the labyrinth
 * @stats: filled with the snapshot; zeroed if @lab is NULL or an ERR_PTR
 *
 * Sums the per-CPU counters and counts owned and void rooms without taking
 * any lock, so claims are never held up; see struct labyrinth_stats.
 *
 * Context: Any context except NMI. Never sleeps; O(rooms + CPUs).
 */
void labyrinth_get_stats(struct labyrinth *lab, struct labyrinth_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	if (!IS_ERR_OR_NULL(lab))
		labyrinth_snapshot(lab, stats, NULL);
}
EXPORT_SYMBOL_GPL(labyrinth_get_stats);

/* Deferred refill: fill every void room in process context. */
static void labyrinth_refill_fn(struct work_struct *work)
{
	struct labyrinth *lab = container_of(to_delayed_work(work),
					     struct labyrinth, refill_work);
	bool failed = false;
	unsigned long flags;
	unsigned int i;

	for (i = 0; i < lab->nr_rooms; i++) {
		struct labyrinth_room *room = &lab->rooms[i];

		/* Unlocked peek; checked again under the lock. */
		if (data_race(room->state) != LAB_ROOM_VOID)
			continue;
		raw_spin_lock_irqsave(&room->lock, flags);
		if (room->state == LAB_ROOM_VOID &&
		    !labyrinth_fill(lab, room, GFP_KERNEL | __GFP_NOWARN, &flags))
			failed = true;
		raw_spin_unlock_irqrestore(&room->lock, flags);
		cond_resched();
	}
	if (failed)
		labyrinth_kick_refill(lab, lab->refill_delay);
}

/* One counter summed over CPUs; a snapshot while others count on. */
static u64 labyrinth_sum(struct labyrinth *lab, enum labyrinth_counter c)
{
	unsigned int cpu;
	u64 sum = 0;

	for_each_possible_cpu(cpu)
		/* other CPUs count on: a snapshot */
		sum += data_race(per_cpu_ptr(lab->pcpu, cpu)->count[c]);
	return sum;
}

/*
 * @lab ends (destroy, or create giving up) holding no pages: every page it
 * took went back to the page allocator or to an owner. Adds its counts to
 * the module's totals; a mismatch is labyrinth's own bug, so it warns.
 */
static void labyrinth_end_balance(struct labyrinth *lab)
{
	u64 taken = labyrinth_sum(lab, LAB_PAGES_TAKEN);
	u64 freed = labyrinth_sum(lab, LAB_PAGES_FREED);
	u64 given = labyrinth_sum(lab, LAB_PAGES_GIVEN);

	atomic64_inc(&labyrinth_page_totals.ended);
	atomic64_add(taken, &labyrinth_page_totals.taken);
	atomic64_add(freed, &labyrinth_page_totals.freed);
	atomic64_add(given, &labyrinth_page_totals.given);
	if (taken != freed + given) {
		atomic64_inc(&labyrinth_page_totals.unbalanced);
		WARN(1, "%s: took %llu pages but freed %llu and gave away %llu\n",
		     lab->name, taken, freed, given);
	}
}

static int labyrinth_check_config(const struct labyrinth_config *cfg)
{
	if (!cfg || !cfg->nr_rooms || cfg->order > MAX_PAGE_ORDER)
		return -EINVAL;
	if (cfg->doors > min_t(unsigned int, cfg->nr_rooms, LABYRINTH_MAX_DOORS))
		return -EINVAL;
	if (cfg->max_probe > cfg->nr_rooms)
		return -EINVAL;
	if (cfg->flags & ~(LABYRINTH_ZERO | LABYRINTH_POISON))
		return -EINVAL;
	return 0;
}

/* Geometry and entrances; see the design note at the top. */
static void labyrinth_layout(struct labyrinth *lab,
			     const struct labyrinth_config *cfg)
{
	unsigned int n = cfg->nr_rooms, cpu, entry;

	lab->nr_rooms = n;
	lab->order = cfg->order;
	lab->doors = cfg->doors ?:
		min_t(unsigned int, n,
		      clamp_t(unsigned int, nr_cpu_ids, 4, LABYRINTH_MAX_DOORS));
	lab->wing_rooms = n / lab->doors;
	lab->wing_extra = n % lab->doors;
	lab->limit = cfg->max_probe ?: n;
	lab->flags = cfg->flags;
	lab->refill_delay = LABYRINTH_REFILL_DELAY;
	strscpy(lab->name, cfg->name ?: "labyrinth", sizeof(lab->name));

	for_each_possible_cpu(cpu) {
		struct labyrinth_pcpu *p = per_cpu_ptr(lab->pcpu, cpu);

		entry = div_u64((u64)cpu * n, nr_cpu_ids);
		p->entry = entry;
		p->entry_wing = labyrinth_wing_of(lab, entry);
		p->entry_col = entry - labyrinth_wing_start(lab, p->entry_wing);
	}
}

static void labyrinth_free_rooms(struct labyrinth *lab, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (lab->rooms[i].page)
			labyrinth_put_pages(lab, lab->rooms[i].page, true);
}

/* ---- debugfs: stats, rooms, map ---- */

static const char *const labyrinth_state_names[] = {
	[LAB_ROOM_FREE] = "free", [LAB_ROOM_OWNED] = "owned",
	[LAB_ROOM_VOID] = "void", [LAB_ROOM_BUSY] = "busy",
};

/* What a reader sees of a room, copied under its lock alone. */
struct labyrinth_room_view {
	u8 state;
	const void *owner;
	unsigned long ip;
	unsigned int held_ms;
};

static void labyrinth_view(struct labyrinth *lab, unsigned int i,
			   struct labyrinth_room_view *v)
{
	struct labyrinth_room *room = &lab->rooms[i];
	unsigned long flags;

	raw_spin_lock_irqsave(&room->lock, flags);
	v->state = room->state;
	v->owner = room->owner;
	v->ip = room->claim_ip;
	v->held_ms = jiffies_to_msecs(jiffies - room->claimed_at);
	raw_spin_unlock_irqrestore(&room->lock, flags);
}

/* The room door @door of room @i opens onto (see the design note). */
static unsigned int labyrinth_door_target(const struct labyrinth *lab,
					  unsigned int i, unsigned int door)
{
	unsigned int w = labyrinth_wing_of(lab, i), col, to;

	col = i - labyrinth_wing_start(lab, w);
	to = (w + door) % lab->doors;
	return labyrinth_wing_start(lab, to) +
	       (col + 1) % labyrinth_wing_size(lab, to);
}

VISIBLE_IF_KUNIT int labyrinth_stats_show(struct seq_file *m, void *v)
{
	struct labyrinth *lab = m->private;
	u64 hist[LAB_HIST_BUCKETS] = {};
	struct labyrinth_stats s = {};
	unsigned int b, last = 0;

	labyrinth_snapshot(lab, &s, hist);
	seq_printf(m, "name %s\nnr_rooms %u\norder %u\ndoors %u\nmax_probe %u\nflags %#x\n",
		   lab->name, s.nr_rooms, lab->order, lab->doors, lab->limit,
		   lab->flags);
	seq_printf(m, "claims %llu\nreleases %llu\ndetaches %llu\ncollisions %llu\n",
		   s.claims, s.releases, s.detaches, s.collisions);
	seq_printf(m, "fail_full %llu\nfail_contended %llu\nrefills %llu\nrefill_failures %llu\n",
		   s.fail_full, s.fail_contended, s.refills, s.refill_failures);
	seq_printf(m, "bad_calls %llu\npoison_errors %llu\n", s.bad_calls,
		   s.poison_errors);
	seq_printf(m, "pages_taken %llu\npages_freed %llu\npages_given %llu\n",
		   labyrinth_sum(lab, LAB_PAGES_TAKEN),
		   labyrinth_sum(lab, LAB_PAGES_FREED),
		   labyrinth_sum(lab, LAB_PAGES_GIVEN));
	seq_printf(m, "rooms_owned %u\nrooms_void %u\nowned_high_water %u\n",
		   s.rooms_owned, s.rooms_void,
		   /* claims may raise it meanwhile */
		   data_race(lab->owned_hwm));
	for (b = 0; b < LAB_HIST_BUCKETS; b++)
		if (hist[b])
			last = b;
	seq_puts(m, "probes_per_claim");
	for (b = 0; b <= last; b++)
		seq_printf(m, " %u-%u:%llu", 1U << b, (2U << b) - 1, hist[b]);
	seq_putc(m, '\n');
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(labyrinth_stats_show);

VISIBLE_IF_KUNIT int labyrinth_rooms_show(struct seq_file *m, void *v)
{
	struct labyrinth *lab = m->private;
	struct labyrinth_room_view rv;
	unsigned int i, d;

	seq_puts(m, "# room state owner site held_ms doors\n");
	for (i = 0; i < lab->nr_rooms; i++) {
		labyrinth_view(lab, i, &rv);
		seq_printf(m, "%u %s", i, labyrinth_state_names[rv.state]);
		if (rv.state == LAB_ROOM_OWNED)
			seq_printf(m, " %p %pS %u", rv.owner, (void *)rv.ip,
				   rv.held_ms);
		else
			seq_puts(m, " - - -");
		for (d = 0; d < lab->doors; d++)
			seq_printf(m, "%c%u", d ? ',' : ' ',
				   labyrinth_door_target(lab, i, d));
		seq_putc(m, '\n');
		cond_resched();
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(labyrinth_rooms_show);

static const char *const labyrinth_state_colors[] = {
	[LAB_ROOM_FREE] = "palegreen", [LAB_ROOM_OWNED] = "tomato",
	[LAB_ROOM_VOID] = "gray80", [LAB_ROOM_BUSY] = "gold",
};

/* The graph in Graphviz DOT: rooms by state, doors weighted by collisions. */
VISIBLE_IF_KUNIT int labyrinth_map_show(struct seq_file *m, void *v)
{
	struct labyrinth *lab = m->private;
	struct labyrinth_room_view rv;
	unsigned int i, w, d, hits;

	seq_printf(m, "digraph \"%s\" {\n\tgraph [label=\"labyrinth %s: %u rooms in %u wings; solid: near door, dashed: far doors, numbers: collisions through the door\" labelloc=t];\n",
		   lab->name, lab->name, lab->nr_rooms, lab->doors);
	seq_puts(m, "\tnode [shape=box style=filled fontsize=10];\n");
	for (w = 0; w < lab->doors; w++) {
		seq_printf(m, "\tsubgraph cluster_%u {\n\t\tlabel=\"wing %u\";\n", w, w);
		for (i = labyrinth_wing_start(lab, w);
		     i < labyrinth_wing_start(lab, w) + labyrinth_wing_size(lab, w); i++) {
			labyrinth_view(lab, i, &rv);
			seq_printf(m, "\t\tr%u [label=\"%u", i, i);
			if (rv.state == LAB_ROOM_OWNED)
				seq_printf(m, "\\n%ps", (void *)rv.ip);
			seq_printf(m, "\" fillcolor=%s];\n",
				   labyrinth_state_colors[rv.state]);
		}
		seq_puts(m, "\t}\n");
	}
	for (i = 0; i < lab->nr_rooms; i++) {
		for (d = 0; d < lab->doors; d++) {
			/* claims count on: a snapshot */
			hits = data_race(lab->rooms[i].hits[d]);
			seq_printf(m, "\tr%u -> r%u [label=\"", i,
				   labyrinth_door_target(lab, i, d));
			if (hits)
				seq_printf(m, "%u", hits);
			seq_printf(m, "\" penwidth=%u%s];\n",
				   1 + (hits ? ilog2(hits) : 0),
				   d ? " style=dashed color=gray40" : "");
		}
		cond_resched();
	}
	seq_puts(m, "}\n");
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(labyrinth_map_show);

/* labyrinth/pages: the page balance of every labyrinth ended so far. */
VISIBLE_IF_KUNIT int labyrinth_pages_show(struct seq_file *m, void *v)
{
	seq_printf(m, "labyrinths_alive %lld\n",
		   atomic64_read(&labyrinth_page_totals.started) -
		   atomic64_read(&labyrinth_page_totals.ended));
	seq_printf(m, "labyrinths_ended %lld\npages_taken %lld\npages_freed %lld\npages_given %lld\nunbalanced %lld\n",
		   atomic64_read(&labyrinth_page_totals.ended),
		   atomic64_read(&labyrinth_page_totals.taken),
		   atomic64_read(&labyrinth_page_totals.freed),
		   atomic64_read(&labyrinth_page_totals.given),
		   atomic64_read(&labyrinth_page_totals.unbalanced));
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(labyrinth_pages_show);

DEFINE_SHOW_ATTRIBUTE(labyrinth_stats);
DEFINE_SHOW_ATTRIBUTE(labyrinth_pages);
DEFINE_SHOW_ATTRIBUTE(labyrinth_rooms);
DEFINE_SHOW_ATTRIBUTE(labyrinth_map);

/* labyrinth/<name>[.N]/{stats,rooms,map}, readable by root alone. */
static void labyrinth_debugfs_add(struct labyrinth *lab)
{
	char name[LABYRINTH_NAME_LEN + 8];
	struct dentry *dir;
	unsigned int i;

	if (IS_ERR_OR_NULL(labyrinth_debugfs_root))
		return;
	mutex_lock(&labyrinth_debugfs_lock);
	for (i = 0; i < 1000; i++) {
		if (i)
			snprintf(name, sizeof(name), "%s.%u", lab->name, i);
		else
			strscpy(name, lab->name, sizeof(name));
		strreplace(name, '/', '_');
		dir = debugfs_lookup(name, labyrinth_debugfs_root);
		if (!dir)
			break;
		dput(dir);
	}
	lab->debugfs = debugfs_create_dir(name, labyrinth_debugfs_root);
	mutex_unlock(&labyrinth_debugfs_lock);
	debugfs_create_file("stats", 0400, lab->debugfs, lab, &labyrinth_stats_fops);
	debugfs_create_file("rooms", 0400, lab->debugfs, lab, &labyrinth_rooms_fops);
	debugfs_create_file("map", 0400, lab->debugfs, lab, &labyrinth_map_fops);
}

/**
 * labyrinth_create() - create a labyrinth and fill its rooms
 * @cfg: its configuration; not referenced after return
 *
 * Allocates every room's pages with GFP_KERNEL.
 *
 * Context: Process context; may sleep.
 * Return: the new labyrinth, ERR_PTR(-EINVAL) if @cfg is NULL or a field
 * is out of range (see struct labyrinth_config), or ERR_PTR(-ENOMEM) if an
 * allocation failed, in which case everything taken so far was given back.
 */
struct labyrinth *labyrinth_create(const struct labyrinth_config *cfg)
{
	struct labyrinth *lab;
	struct page *page;
	unsigned int i;
	size_t size;
	int err;

	might_sleep();
	err = labyrinth_check_config(cfg);
	if (err)
		return ERR_PTR(err);
	size = struct_size(lab, rooms, cfg->nr_rooms);
	/* kmalloc only aligns powers of two to their size: rooms need lines. */
	if (size < PAGE_SIZE)
		size = roundup_pow_of_two(size);
	lab = labyrinth_alloc_lab(size);
	if (!lab)
		return ERR_PTR(-ENOMEM);
	lab->pcpu = labyrinth_alloc_pcpu();
	if (!lab->pcpu)
		goto err_free_lab;
	atomic64_inc(&labyrinth_page_totals.started);
	labyrinth_layout(lab, cfg);
	INIT_DELAYED_WORK(&lab->refill_work, labyrinth_refill_fn);
	for (i = 0; i < lab->nr_rooms; i++) {
		raw_spin_lock_init(&lab->rooms[i].lock);
		page = labyrinth_take_pages(lab, GFP_KERNEL);
		if (!page)
			goto err_free_rooms;
		labyrinth_install(lab, &lab->rooms[i], page);
		cond_resched();
	}
	labyrinth_debugfs_add(lab);
	return lab;

err_free_rooms:
	labyrinth_free_rooms(lab, i);
	labyrinth_end_balance(lab);
	free_percpu(lab->pcpu);
err_free_lab:
	kvfree(lab);
	return ERR_PTR(-ENOMEM);
}
EXPORT_SYMBOL_GPL(labyrinth_create);

/**
 * labyrinth_destroy() - free a labyrinth and its rooms' pages
 * @lab: the labyrinth; NULL or an ERR_PTR is a no-op
 *
 * No other call on @lab may run or follow. A room still owned is reported
 * once, with its owner, the call site of its claim and how long it has been
 * held, and its pages are left to the owner (to free with __free_pages())
 * rather than freed under it.
 *
 * Context: Process context; may sleep (it waits for the deferred refill).
 */
void labyrinth_destroy(struct labyrinth *lab)
{
	struct labyrinth_room *room;
	unsigned int i;

	might_sleep();
	if (IS_ERR_OR_NULL(lab))
		return;
	debugfs_remove(lab->debugfs);	/* waits for readers */
	cancel_delayed_work_sync(&lab->refill_work);
	for (i = 0; i < lab->nr_rooms; i++) {
		room = &lab->rooms[i];
		if (room->state != LAB_ROOM_OWNED)
			continue;
		pr_warn("%s: destroyed with room %u owned by %p (claimed at %pS, held %u ms); its pages are left to the owner\n",
			lab->name, i, room->owner, (void *)room->claim_ip,
			jiffies_to_msecs(jiffies - room->claimed_at));
		labyrinth_put_pages(lab, room->page, false);
		room->page = NULL;
	}
	labyrinth_free_rooms(lab, lab->nr_rooms);
	labyrinth_end_balance(lab);
	free_percpu(lab->pcpu);
	kvfree(lab);
}
EXPORT_SYMBOL_GPL(labyrinth_destroy);

#if IS_ENABLED(CONFIG_KUNIT)
/* Delay of the deferred refill after a detach or failed fill. */
void labyrinth_set_refill_delay(struct labyrinth *lab, unsigned long delay)
{
	lab->refill_delay = delay;
}
EXPORT_SYMBOL_IF_KUNIT(labyrinth_set_refill_delay);

bool labyrinth_refill_pending(struct labyrinth *lab)
{
	return delayed_work_pending(&lab->refill_work);
}
EXPORT_SYMBOL_IF_KUNIT(labyrinth_refill_pending);

/* Run the deferred refill now and wait for it. */
void labyrinth_flush_refill(struct labyrinth *lab)
{
	flush_delayed_work(&lab->refill_work);
}
EXPORT_SYMBOL_IF_KUNIT(labyrinth_flush_refill);

raw_spinlock_t *labyrinth_room_lock(struct labyrinth *lab, unsigned int idx)
{
	return &lab->rooms[idx].lock;
}
EXPORT_SYMBOL_IF_KUNIT(labyrinth_room_lock);

/* Index of the room @cpu enters at. */
unsigned int labyrinth_entrance(struct labyrinth *lab, unsigned int cpu)
{
	return per_cpu_ptr(lab->pcpu, cpu)->entry;
}
EXPORT_SYMBOL_IF_KUNIT(labyrinth_entrance);

/* Index of the room whose memory is at @addr, or UINT_MAX. */
unsigned int labyrinth_room_index(struct labyrinth *lab, const void *addr)
{
	struct labyrinth_room *room;
	struct page *page;

	room = labyrinth_lookup(lab, addr, &page);
	/* Tests ask about rooms nobody else is changing. */
	return room && data_race(room->page) == page ?
	       labyrinth_room_idx(lab, room) : UINT_MAX;
}
EXPORT_SYMBOL_IF_KUNIT(labyrinth_room_index);

long labyrinth_pages_held(void)
{
	return atomic_long_read(&labyrinth_pages);
}
EXPORT_SYMBOL_IF_KUNIT(labyrinth_pages_held);
#endif

static int __init labyrinth_init(void)
{
	labyrinth_debugfs_root = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("pages", 0400, labyrinth_debugfs_root, NULL,
			    &labyrinth_pages_fops);
	return 0;
}

static void __exit labyrinth_exit(void)
{
	debugfs_remove(labyrinth_debugfs_root);
}

module_init(labyrinth_init);
module_exit(labyrinth_exit);

MODULE_DESCRIPTION("Page-backed rooms claimed exclusively from any context");
MODULE_AUTHOR("The labyrinth authors");
MODULE_LICENSE("GPL");
