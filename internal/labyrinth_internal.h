/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internals of labyrinth.ko shared by its parts (labyrinth.c, core/,
 * debugfs/labyrinth_debugfs.c), and the hooks its KUnit suite reaches in
 * test builds. Not API: drivers use labyrinth.h only.
 *
 * Copyright (C) 2026 The labyrinth authors
 */
#ifndef _LABYRINTH_INTERNAL_H
#define _LABYRINTH_INTERNAL_H

#include <linux/atomic.h>
#include <linux/gfp_types.h>
#include <linux/irq_work.h>
#include <linux/jump_label.h>
#include <linux/jiffies.h>
#include <linux/llist.h>
#include <linux/minmax.h>
#include <linux/percpu.h>
#include <linux/spinlock_types.h>
#include <linux/workqueue.h>

#include "../labyrinth.h"

#define LABYRINTH_NAME_LEN	32

/*
 * Test builds (Kbuild defines LABYRINTH_KUNIT with the KUnit suite) let the
 * suite replace the allocation functions and reach a few internals;
 * elsewhere those are plain static functions and nothing is exported.
 */
#ifdef LABYRINTH_KUNIT
#include <kunit/static_stub.h>
#include <kunit/visibility.h>
#define LAB_VISIBLE
#define LAB_STUB(fn, args...)		KUNIT_STATIC_STUB_REDIRECT(fn, ##args)
#else
#define LAB_VISIBLE static
#define LAB_STUB(fn, args...)		((void)(fn))
#endif

/*
 * Exported to the KUnit suite in test builds; elsewhere nothing (as drm's
 * EXPORT_SYMBOL_FOR_TESTS_ONLY).
 */
#ifdef LABYRINTH_KUNIT
#define EXPORT_SYMBOL_FOR_LABYRINTH_KUNIT(symbol)	EXPORT_SYMBOL_IF_KUNIT(symbol)
#else
#define EXPORT_SYMBOL_FOR_LABYRINTH_KUNIT(symbol)	static_assert(1, #symbol)
#endif

/*
 * A room's ticket: all a claim, a release and a detach decide on, in one
 * word. Bits 0-1, the phase: a claim (under the room lock) moves FREE to
 * OWNED; a release moves OWNED to the next generation's FREE, a detach
 * OWNED to GONE, both by cmpxchg without the lock; the next holder of the
 * lock turns a GONE room VOID. A release that poisons the room first moves
 * it to RELEASING, poisons, then stores FREE: nobody else may claim or let
 * go of the room while the owner's release still writes it. Bits 2-3, what
 * the room holds, changed under the lock while the phase is FREE: READY
 * (its pages), VOID (none: detached, or a fill failed), BUSY (a fill runs
 * with the lock dropped). Above, the claim generation: a cmpxchg on a
 * ticket read before a room changed hands fails.
 */
enum labyrinth_phase {
	LAB_FREE,
	LAB_OWNED,
	LAB_GONE,
	LAB_RELEASING,
};

enum labyrinth_room_state {
	LAB_ROOM_READY,
	LAB_ROOM_VOID,
	LAB_ROOM_BUSY,
};

#define LAB_PHASE_MASK		3UL
#define LAB_STATE_SHIFT		2
#define LAB_STATE_MASK		(3UL << LAB_STATE_SHIFT)
#define LAB_GEN			BIT(4)		/* one claim generation */

static __always_inline unsigned long labyrinth_phase(unsigned long ticket)
{
	return ticket & LAB_PHASE_MASK;
}

static __always_inline unsigned long labyrinth_state(unsigned long ticket)
{
	return (ticket & LAB_STATE_MASK) >> LAB_STATE_SHIFT;
}

/* Owned, or being released by its owner: not to be taken or let go. */
static __always_inline bool labyrinth_held(unsigned long ticket)
{
	return labyrinth_phase(ticket) == LAB_OWNED ||
	       labyrinth_phase(ticket) == LAB_RELEASING;
}

/* FREE and READY: a room a claim may take. */
static __always_inline bool labyrinth_takeable(unsigned long ticket)
{
	return !(ticket & (LAB_PHASE_MASK | LAB_STATE_MASK));
}

/*
 * A room: its lock and everything a claim, a release and a detach touch,
 * on one cache line of its own, so that claims on different CPUs do not
 * share lines.
 */
struct labyrinth_room {
	raw_spinlock_t lock;	/* guards the state, page, addr; FREE -> OWNED */
	bool poisoned;		/* LABYRINTH_POISON: check at the next claim */
	/* LABYRINTH_REUSE: a refill pass found the pages it lent in use */
	bool lent_seen;
	u16 home;		/* the CPU whose rooms it is among, or LAB_NO_HOME */
	unsigned long ticket;	/* phase, state, generation: see above */
	const void *owner;	/* valid while the phase is OWNED */
	void *addr;		/* page_address(page); kept while VOID */
	/*
	 * NULL while VOID or BUSY; with LABYRINTH_REUSE, a VOID room's pages
	 * lent by a detach, a reference to which the room holds
	 */
	struct page *page;
	/* caller of a claim made while collecting; 0 when collecting starts or stops */
	unsigned long claim_ip;
	u32 slot;		/* the entry of addr in the address table */
	u32 after;		/* the next room of its home CPU's, wrapping */
	u32 claimed_at;		/* jiffies, low bits: for "held N ms" */
	s16 nid;		/* node of the pages, NUMA_NO_NODE while VOID */
} ____cacheline_aligned_in_smp;

#define LAB_NO_HOME		U16_MAX

/* Per-CPU event counters. */
enum labyrinth_counter {
	LAB_CLAIMS,
	LAB_RELEASES,
	LAB_DETACHES,
	LAB_COLLISIONS,
	LAB_FAIL_FULL,
	LAB_FAIL_CONTENDED,
	LAB_REFILLS_GFP,	/* on the spot, with the caller's gfp */
	LAB_REFILLS_NOLOCK,	/* on the spot, with alloc_pages_nolock() */
	LAB_REFILLS_DEFERRED,	/* by the deferred refill, GFP_KERNEL */
	LAB_REFILLS_REUSED,	/* LABYRINTH_REUSE: its lent pages taken back */
	LAB_REFILL_FAILURES,
	LAB_BAD_CALLS,
	LAB_POISON_ERRORS,
	LAB_PAGES_TAKEN,	/* from the page allocator */
	LAB_PAGES_FREED,	/* back to the page allocator */
	LAB_PAGES_GIVEN,	/* to an owner, by detach or destroy */
	/*
	 * a walk cleared a room's bit in the free map and its look again
	 * found the room claimable: a release raced the clear (the KUnit
	 * suite's concurrent cases count them: the race they prove)
	 */
	LAB_MAP_RECHECKS,
	LAB_NR_COUNTERS
};

/* Probe-length histogram: bucket b counts claims visiting 2^b..2^(b+1)-1 rooms. */
#define LAB_HIST_BUCKETS	16

/*
 * Per CPU: its counters, written by this CPU alone (this_cpu operations),
 * and where its claims start, on a line of its own: a release on another
 * CPU hints there which room came free (labyrinth_hint_home()).
 */
struct labyrinth_pcpu {
	u64 count[LAB_NR_COUNTERS];
	/* where this CPU's next claim enters: one of its own rooms */
	struct labyrinth_room *next ____cacheline_aligned_in_smp;
	/*
	 * the room this CPU claimed last: where its release looks first
	 * (after the room a generation names)
	 */
	struct labyrinth_room *last;
	/*
	 * the room its last release or detach found elsewhere than at last:
	 * the next such looks beside it first (labyrinth_lookup_near())
	 */
	struct labyrinth_room *near;
	/* the first room of its own: where a stray entrance returns */
	struct labyrinth_room *own;
	/*
	 * the room of another CPU's that its last walk claimed: where its
	 * claims look when the entrance is taken (its own run is full)
	 */
	struct labyrinth_room *cursor;
	/*
	 * its last walk found no room: until a walk finds one, a claim that
	 * would walk looks at the free map first (labyrinth_claim_walk())
	 */
	bool full;
	u64 hist[LAB_HIST_BUCKETS];	/* only while collecting */
};

/*
 * The address table: from a room's address to the room, without touching
 * the owner's struct page. Buckets of 16 u32 entries, one cache line
 * each; an entry holds the room index + 1 and 12 bits of the address's
 * hash (LAB_FP_SHIFT), 0 if empty. An entry is set by cmpxchg (fills of
 * other rooms race for empty ones) and cleared by a plain store, both by
 * the one holder of its room's fill; read without a lock.
 */
#define LAB_BUCKET_SLOTS	16
#define LAB_FP_SHIFT		20
#define LAB_IDX_MASK		((1U << LAB_FP_SHIFT) - 1)

/*
 * struct labyrinth - read-mostly after create; the claim path reads the
 * first cache line only.
 */
struct labyrinth {
	struct labyrinth_room *rooms;
	struct labyrinth_pcpu __percpu *pcpu;
	/*
	 * The free map, [nr_rooms] bits: a room's bit is clear only while a
	 * walk has found the room taken (owned, being released, BUSY, or void
	 * and not filled) and nothing has since made it claimable. Set by a
	 * release, a detach and a fill (if clear: a load otherwise), cleared
	 * by a walk that passes or claims the room, and by a claim's step
	 * past its cursor. The word map, a bit per
	 * word of it: clear only while a walk found that word 0. See
	 * labyrinth_note_free() and labyrinth_note_taken().
	 */
	unsigned long *free_map;
	unsigned long *word_map;
	u32 *table;			/* the address table */
	unsigned int table_bits;	/* log2 of its buckets */
	unsigned int nr_rooms;
	unsigned int order;
	unsigned int flags;
	unsigned int limit;		/* max_probe, or nr_rooms */
	unsigned int doors;		/* = number of wings, W */
	unsigned int wing_rooms;	/* nr_rooms / W */
	unsigned int wing_extra;	/* nr_rooms % W: wings with one more room */
	u8 *door_to;			/* [W][W]: the wing door d of wing w opens onto */
	int *wing_node;			/* [W]: the NUMA node of each wing's pages */

	/*
	 * Rooms without pages: detached (or GONE) and not refilled since;
	 * written by every detach and fill, so on a line of its own, not on
	 * the claim's. While any is, a claim whose entrance is owned and that
	 * could fill a void room walks (and fills the first it meets) rather
	 * than take its cursor: the ready rooms stay in reserve for when the
	 * allocator fails.
	 */
	atomic_t nr_void ____cacheline_aligned_in_smp;
	unsigned long refill_delay;	/* jiffies: after a detach; first retry */
	unsigned long refill_backoff;	/* next retry's delay; 0: not failing */
	unsigned int refill_cursor;	/* where the next refill pass starts */
	struct irq_work kick;		/* schedules refill_work from any context */
	int kick_now;			/* ... without delay (an int: for xchg) */
	/*
	 * A refill pass is queued and has not started: a detach need not
	 * kick (labyrinth_kick()). Set by the kick and by a failing pass
	 * that queues its retry, cleared when a pass starts.
	 */
	int refill_queued;
	struct delayed_work refill_work;
	struct llist_head spare;	/* pages to give back in process context */
	/*
	 * [nr_rooms] bits: a room that is void (or GONE) has its bit set,
	 * save while the deferred refill holds it; set by detach, by a
	 * failed deferred fill and by a claim's failed fill (which may have
	 * met the refill while BUSY), cleared by the refill and when a room gets
	 * pages. Never touched by a claim or release of a ready room.
	 */
	unsigned long *void_map;

	/* Only while collecting (labyrinth_collect): heat map, high water. */
	unsigned int *hits;		/* [nr_rooms][W], NULL if too large */
	atomic_t owned;			/* may drift below 0: see collect */
	int owned_hwm;

	struct list_head list;		/* labyrinth_list */
	struct dentry *debugfs;
	char name[LABYRINTH_NAME_LEN];
#ifdef LABYRINTH_KUNIT
	/* test builds: replaces alloc_pages_nolock() */
	struct page *(*nolock_hook)(struct labyrinth *lab, int nid);
	bool refill_held;	/* only after refill_delay, even when skipped */
#endif
};

/* Switched on by debugfs labyrinth/collect: the heat map and high water. */
DECLARE_STATIC_KEY_FALSE(labyrinth_collect);

/* Every labyrinth, for debugfs; under labyrinth_list_lock. */
extern struct list_head labyrinth_list;
extern struct mutex labyrinth_list_lock;

/* Module totals of every labyrinth ended: debugfs labyrinth/pages. */
struct labyrinth_totals {
	atomic64_t started, ended, taken, freed, given, unbalanced;
};

extern struct labyrinth_totals labyrinth_totals;

/*
 * After a detach the deferred refill runs this much later: a claim may
 * refill the room first. A failed pass retries after this delay, doubled
 * with each pass that fails again, up to 2^LABYRINTH_REFILL_BACKOFF_SHIFT
 * times it (20 ms to 1.28 s): a failing allocator is not hammered.
 */
#define LABYRINTH_REFILL_DELAY	msecs_to_jiffies(20)
#define LABYRINTH_REFILL_BACKOFF_SHIFT	6

/* core/layout.c: wings, nodes, doors, entrances (debugfs reads them too) */
unsigned int labyrinth_wing_of(const struct labyrinth *lab, unsigned int i);
unsigned int labyrinth_door_target(const struct labyrinth *lab, unsigned int i,
				   unsigned int door);
void labyrinth_layout(struct labyrinth *lab, const struct labyrinth_config *cfg);

/* Count events in this CPU's counters: never a shared line. */
static __always_inline void labyrinth_count_n(struct labyrinth *lab,
					      enum labyrinth_counter c,
					      unsigned int n)
{
	this_cpu_add(lab->pcpu->count[c], n);
}

static __always_inline void labyrinth_count(struct labyrinth *lab,
					    enum labyrinth_counter c)
{
	this_cpu_inc(lab->pcpu->count[c]);
}

static inline unsigned int labyrinth_room_idx(const struct labyrinth *lab,
					      const struct labyrinth_room *room)
{
	return room - lab->rooms;
}

static inline unsigned int labyrinth_wing_size(const struct labyrinth *lab,
					       unsigned int w)
{
	return lab->wing_rooms + (w < lab->wing_extra);
}

static inline unsigned int labyrinth_wing_start(const struct labyrinth *lab,
						unsigned int w)
{
	return w * lab->wing_rooms + min(w, lab->wing_extra);
}

static inline int labyrinth_room_node(const struct labyrinth *lab,
				      unsigned int i)
{
	return lab->wing_node[labyrinth_wing_of(lab, i)];
}

/* Count a room's pages in or out: LAB_PAGES_{TAKEN,FREED,GIVEN}. */
static inline void labyrinth_account(struct labyrinth *lab,
				     enum labyrinth_counter c)
{
	labyrinth_count_n(lab, c, 1U << lab->order);
}

/* core/table.c: the address table */
unsigned int labyrinth_table_bits(unsigned int nr_rooms);
struct labyrinth_room *labyrinth_lookup(struct labyrinth *lab, const void *addr);
bool labyrinth_table_add(struct labyrinth *lab, struct labyrinth_room *room,
			 void *addr);

/* core/refill.c: the deferred refill and its kick */
void labyrinth_kick_fn(struct irq_work *work);
void labyrinth_kick(struct labyrinth *lab, bool now);
void labyrinth_spare(struct labyrinth *lab, struct page *page);
void labyrinth_void_again(struct labyrinth *lab, unsigned int idx);
void labyrinth_free_spare(struct labyrinth *lab);
void labyrinth_note_void(struct labyrinth *lab, struct labyrinth_room *room);
void labyrinth_refill_fn(struct work_struct *work);

/* labyrinth.c, for core/refill.c: filling a void room */
void labyrinth_free_pages(struct labyrinth *lab, struct page *page);
bool labyrinth_install(struct labyrinth *lab, struct labyrinth_room *room,
		       struct page *page);
unsigned long labyrinth_clear_gone(struct labyrinth *lab,
				   struct labyrinth_room *room, unsigned long t);
bool labyrinth_take_back(struct labyrinth *lab, struct labyrinth_room *room);
void labyrinth_filled(struct labyrinth *lab, struct labyrinth_room *room,
		      enum labyrinth_counter how, bool ok);
struct page *labyrinth_draw(struct labyrinth *lab, struct labyrinth_room *room,
			    gfp_t gfp, unsigned long *flags);

/* labyrinth.c, for debugfs */
u64 labyrinth_sum(struct labyrinth *lab, enum labyrinth_counter c);
void labyrinth_snapshot(struct labyrinth *lab, struct labyrinth_stats *stats,
			u64 *hist);
unsigned int labyrinth_count_owned(struct labyrinth *lab);
void labyrinth_forget_claims(struct labyrinth *lab);

/* What a reader sees of a room, copied under its lock. */
struct labyrinth_room_view {
	u8 state;
	u8 phase;
	const void *owner;
	unsigned long ip;
	unsigned int held_ms;
	int nid;
};

void labyrinth_view(struct labyrinth *lab, unsigned int i,
		    struct labyrinth_room_view *v);

/* debugfs/labyrinth_debugfs.c */
int labyrinth_debugfs_init(void);
void labyrinth_debugfs_exit(void);
void labyrinth_debugfs_add(struct labyrinth *lab);
void labyrinth_debugfs_remove(struct labyrinth *lab);

#ifdef LABYRINTH_KUNIT
/* Hooks of test builds (Kbuild defines LABYRINTH_KUNIT with the suite). */
void *labyrinth_alloc_lab(size_t size);
struct labyrinth_pcpu __percpu *labyrinth_alloc_pcpu(void);
struct page *labyrinth_alloc_room(struct labyrinth *lab, int nid, gfp_t gfp);
unsigned int labyrinth_alloc_bulk(struct labyrinth *lab, int nid, gfp_t gfp,
				  unsigned int nr, struct page **pages);
void labyrinth_set_nolock_hook(struct labyrinth *lab,
			       struct page *(*hook)(struct labyrinth *lab, int nid));
void labyrinth_set_entrance(struct labyrinth *lab, unsigned int cpu,
			    unsigned int idx);
void labyrinth_mark_all_free(struct labyrinth *lab);
unsigned int labyrinth_free_map_lost(struct labyrinth *lab);
long labyrinth_pages_held(void);
void labyrinth_set_collect(bool on);

void labyrinth_set_refill_delay(struct labyrinth *lab, unsigned long delay);
unsigned long labyrinth_refill_backoff(struct labyrinth *lab);
unsigned int labyrinth_void_marked(struct labyrinth *lab);
bool labyrinth_refill_pending(struct labyrinth *lab);
void labyrinth_flush_refill(struct labyrinth *lab);
void labyrinth_run_refill(struct labyrinth *lab);
raw_spinlock_t *labyrinth_room_lock(struct labyrinth *lab, unsigned int idx);
unsigned int labyrinth_entrance(struct labyrinth *lab, unsigned int cpu);
unsigned int labyrinth_room_index(struct labyrinth *lab, const void *addr);
int labyrinth_room_nid(struct labyrinth *lab, unsigned int idx);

struct seq_file;
int labyrinth_stats_show(struct seq_file *m, void *v);
int labyrinth_rooms_show(struct seq_file *m, void *v);
int labyrinth_map_show(struct seq_file *m, void *v);
int labyrinth_pages_show(struct seq_file *m, void *v);
#endif

#endif /* _LABYRINTH_INTERNAL_H */
