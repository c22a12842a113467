// SPDX-License-Identifier: GPL-2.0-only
/*
 * labyrinth - page-backed rooms claimed exclusively from any context
 *
 * A labyrinth is a fixed set of rooms, each owning 2^order pages taken from
 * the page allocator when the labyrinth is created, on the NUMA nodes its
 * configuration names. A driver claims a room from any context - task,
 * softirq, hard interrupt, NMI, or under its own raw spinlock with
 * interrupts disabled - and owns the room's memory until it releases or
 * detaches it. Claim, release, detach, owner and stats never sleep and
 * never wait for a room lock; create and destroy need process context.
 *
 * Copyright (C) 2026 The labyrinth authors
 */

/*
 * The design - rooms and tickets, owner tokens, the address table, wings
 * and doors, entrances and cursors, the free map, the walk, its bounds,
 * the refill - and what holds where is Documentation/labyrinth.rst; the
 * comment at each line that relies on an invariant says which.
 *
 * This file holds the API and its paths, in order: allocation, the free
 * map, filling a void room, claiming (the look at the entrance and cursor,
 * then the walk), release, detach and owner (no lock: one cmpxchg),
 * statistics, create and destroy, and test builds' hooks. Beside it:
 * core/layout.c (wings, nodes, doors, entrances: decided at create),
 * core/table.c (the address table), core/refill.c (the deferred refill),
 * debugfs/ (what debugfs shows), internal/labyrinth_internal.h (the
 * structures and the helpers they share).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/jiffies.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "compat/compat.h"
#include "labyrinth.h"
#include "internal/labyrinth_internal.h"

#define CREATE_TRACE_POINTS
#include "labyrinth_trace.h"

#define LABYRINTH_POISON_BYTE	0x6b
/* A room's pages are drawn again this often when the table has no slot. */
#define LABYRINTH_INSTALL_TRIES	4
/*
 * What labyrinth_claim_gfp() takes of the caller's gfp: how hard to try
 * and which reserves to use. Where the pages come from (zone, node,
 * movability, memcg) is the labyrinth's, decided at create.
 */
#ifdef __GFP_ATOMIC		/* before 6.3, part of GFP_ATOMIC */
#define LAB_GFP_OLD_ATOMIC	__GFP_ATOMIC
#else
#define LAB_GFP_OLD_ATOMIC	0
#endif
#define LABYRINTH_GFP_OK	(__GFP_RECLAIM | __GFP_IO | __GFP_FS | \
				 __GFP_HIGH | __GFP_NOWARN | __GFP_NORETRY | \
				 __GFP_RETRY_MAYFAIL | __GFP_MEMALLOC | \
				 __GFP_NOMEMALLOC | __GFP_NOLOCKDEP | \
				 LAB_GFP_OLD_ATOMIC)

DEFINE_STATIC_KEY_FALSE(labyrinth_collect);
/* Every labyrinth, for debugfs: added at create, removed at destroy. */
LIST_HEAD(labyrinth_list);
/* Guards labyrinth_list and the uniqueness of debugfs names. */
DEFINE_MUTEX(labyrinth_list_lock);
struct labyrinth_totals labyrinth_totals;

enum labyrinth_probe {
	LAB_PROBE_CLAIMED,
	LAB_PROBE_TAKEN,	/* owned, GONE, BUSY, or void and not filled */
	LAB_PROBE_LOCKED,	/* the lock was busy */
};

/* What a claim may do with a void room. */
struct labyrinth_fill {
	gfp_t gfp;		/* the caller's */
	bool can_fill;		/* an allocator may be tried here */
	bool failed;		/* an allocation failed: skip void rooms */
	bool skipped;		/* a void room was left to the deferred refill */
	unsigned long ticket;	/* the claim's ticket, once it took a room */
};

/* The walk state of one claim: per wing, where its scan goes on. */
struct labyrinth_walk {
	unsigned long entered;		/* bitmap of wings entered */
	unsigned int col[LABYRINTH_MAX_DOORS];	/* the next column */
	unsigned int left[LABYRINTH_MAX_DOORS];	/* columns not yet scanned */
};

/* Operations named in the bad_call tracepoint. */
enum { LAB_OP_CLAIM, LAB_OP_RELEASE, LAB_OP_DETACH };

/* A refused call: counted and traced, never warned about. */
static void labyrinth_bad_call(struct labyrinth *lab, int op, const void *owner,
			       const void *addr, int err, unsigned long ip)
{
	labyrinth_count(lab, LAB_BAD_CALLS);
	trace_labyrinth_bad_call(lab->name, op, owner, addr, err, ip);
}

static size_t labyrinth_room_bytes(const struct labyrinth *lab)
{
	return PAGE_SIZE << lab->order;
}

/* Set what the locked @room holds; its phase is FREE, so nobody else writes. */
static void labyrinth_set_state(struct labyrinth_room *room,
				enum labyrinth_room_state state)
	__must_hold(&room->lock)
{
	WRITE_ONCE(room->ticket, (room->ticket & ~LAB_STATE_MASK) |
				 (unsigned long)state << LAB_STATE_SHIFT);
}

/*
 * A claim's generation, as labyrinth_claim_gen() gives it: the room's
 * ticket once owned and, on 64-bit kernels, the room's index + 1 in the
 * top bits, so that a release or detach of that claim finds the room
 * without the address table (labyrinth_gen_room()). There, the ticket's
 * low 44 bits alone are compared: a generation is mistaken for another
 * claim's of its room only 2^40 claims of that room later.
 */
#if BITS_PER_LONG == 64
#define LAB_GEN_IDX_SHIFT	44	/* LABYRINTH_MAX_ROOMS + 1 <= 2^20 */
static_assert(BIT(BITS_PER_LONG - LAB_GEN_IDX_SHIFT) > LABYRINTH_MAX_ROOMS);

static __always_inline unsigned long
labyrinth_gen(const struct labyrinth *lab, const struct labyrinth_room *room,
	      unsigned long t)
{
	return (t & (BIT(LAB_GEN_IDX_SHIFT) - 1)) |
	       (unsigned long)(labyrinth_room_idx(lab, room) + 1) <<
	       LAB_GEN_IDX_SHIFT;
}

/* The room @gen names, or NULL (no such room: a forged generation). */
static __always_inline struct labyrinth_room *
labyrinth_gen_room(struct labyrinth *lab, unsigned long gen)
{
	unsigned long i = (gen >> LAB_GEN_IDX_SHIFT) - 1;

	return likely(i < lab->nr_rooms) ? &lab->rooms[i] : NULL;
}
#else
static __always_inline unsigned long
labyrinth_gen(const struct labyrinth *lab, const struct labyrinth_room *room,
	      unsigned long t)
{
	return t;
}

static __always_inline struct labyrinth_room *
labyrinth_gen_room(struct labyrinth *lab, unsigned long gen)
{
	return NULL;
}
#endif

/* ---- Allocation: the only places pages and memory come from ---- */

LAB_VISIBLE void *labyrinth_alloc_lab(size_t size)
{
	LAB_STUB(labyrinth_alloc_lab, size);
	return kvzalloc(size, GFP_KERNEL);
}
EXPORT_SYMBOL_FOR_LABYRINTH_KUNIT(labyrinth_alloc_lab);

LAB_VISIBLE struct labyrinth_pcpu __percpu *labyrinth_alloc_pcpu(void)
{
	LAB_STUB(labyrinth_alloc_pcpu);
	return alloc_percpu(struct labyrinth_pcpu);
}
EXPORT_SYMBOL_FOR_LABYRINTH_KUNIT(labyrinth_alloc_pcpu);

/* Pages for a room on node @nid, with @gfp (which may spin or sleep). */
LAB_VISIBLE struct page *labyrinth_alloc_room(struct labyrinth *lab, int nid,
					      gfp_t gfp)
{
	LAB_STUB(labyrinth_alloc_room, lab, nid, gfp);
	/* compound, as alloc_pages_nolock() makes them */
	return alloc_pages_node(nid, gfp | __GFP_NOWARN | __GFP_THISNODE |
				(lab->order ? __GFP_COMP : 0), lab->order);
}
EXPORT_SYMBOL_FOR_LABYRINTH_KUNIT(labyrinth_alloc_room);

/*
 * Order-0 pages for @nr rooms on node @nid, with @gfp (which may spin or
 * sleep), in one call to the page allocator: into @pages, whose first @nr
 * entries are NULL. Returns how many it got, the first that many entries.
 */
LAB_VISIBLE unsigned int labyrinth_alloc_bulk(struct labyrinth *lab, int nid,
					      gfp_t gfp, unsigned int nr,
					      struct page **pages)
{
	LAB_STUB(labyrinth_alloc_bulk, lab, nid, gfp, nr, pages);
	return alloc_pages_bulk_node(gfp | __GFP_NOWARN | __GFP_THISNODE, nid,
				     nr, pages);
}
EXPORT_SYMBOL_FOR_LABYRINTH_KUNIT(labyrinth_alloc_bulk);

/*
 * Pages for a room from any context, NMI and raw locks included, where the
 * kernel has alloc_pages_nolock() (6.18's form; see compat/compat.h): the
 * pages or NULL; ERR_PTR(-EOPNOTSUPP) where it has not, or for orders it
 * does not serve. (Called under a raw lock, in any context: no KUnit
 * static stub here, whose lookup takes a spinlock_t; test builds have a
 * hook of their own.)
 */
static struct page *labyrinth_alloc_room_nolock(struct labyrinth *lab, int nid)
{
#ifdef LABYRINTH_KUNIT
	if (lab->nolock_hook)
		return lab->nolock_hook(lab, nid);
#endif
#ifdef LABYRINTH_HAVE_ALLOC_PAGES_NOLOCK
	if (lab->order <= PAGE_ALLOC_COSTLY_ORDER)
		return alloc_pages_nolock(0, nid, lab->order);
#endif
	return ERR_PTR(-EOPNOTSUPP);
}

/* Whether a claim may fill a void room with alloc_pages_nolock() here. */
static bool labyrinth_has_nolock(const struct labyrinth *lab)
{
#ifdef LABYRINTH_KUNIT
	if (READ_ONCE(lab->nolock_hook))
		return true;
#endif
#ifdef LABYRINTH_HAVE_ALLOC_PAGES_NOLOCK
	return lab->order <= PAGE_ALLOC_COSTLY_ORDER;
#else
	return false;
#endif
}

/*
 * Give a room's pages back to the page allocator: in process context, or
 * where the caller's gfp allowed an allocation (a bulk claim's leftovers).
 */
void labyrinth_free_pages(struct labyrinth *lab, struct page *page)
{
	labyrinth_account(lab, LAB_PAGES_FREED);
	__free_pages(page, lab->order);
}

/* ---- The free map: which rooms a walk should look at ---- */

/*
 * Room @idx may be claimable (set its bit), which a walk found taken
 * before (it was clear). The word map's bit after the room's: a walk that
 * clears the word's bit reads the word again (labyrinth_word_empty()).
 */
static noinline void labyrinth_set_free(struct labyrinth *lab, unsigned int idx)
{
	unsigned int k = idx / BITS_PER_LONG;

	/*
	 * The ticket read that sent us here before the set: a walk that
	 * clears the bit after it reads that ticket on its look again.
	 */
	smp_mb__before_atomic();
	set_bit(idx, lab->free_map);
	/* the room's bit before the word's: pairs with labyrinth_word_empty() */
	smp_mb__after_atomic();
	if (!test_bit(k, lab->word_map))
		set_bit(k, lab->word_map);
}

/*
 * Room @idx came free (release), got pages (fill) or went void (detach),
 * and its ticket says so: see that its bit is set. The caller orders its
 * ticket store before this with a full barrier (a fully ordered cmpxchg,
 * or smp_mb()), so that either this reads the bit a walk cleared and sets
 * it, or that walk's look again after the clear reads the new ticket:
 * pairs with labyrinth_note_taken() and labyrinth_clear_taken(). The
 * common case is one load: a claim at the entrance or the cursor itself
 * leaves the bit set (a walk that meets the room owned clears it).
 */
static __always_inline void labyrinth_note_free(struct labyrinth *lab,
						unsigned int idx)
{
	if (unlikely(!test_bit(idx, lab->free_map)))
		labyrinth_set_free(lab, idx);
}

/* Without pages and not being filled: detached (GONE), or VOID. */
static bool labyrinth_void(unsigned long t)
{
	return !labyrinth_held(t) && (labyrinth_phase(t) == LAB_GONE ||
				      labyrinth_state(t) == LAB_ROOM_VOID);
}

static bool labyrinth_fillable(const struct labyrinth *lab, unsigned long t)
{
	return labyrinth_has_nolock(lab) && labyrinth_void(t);
}

/*
 * Whether a walk that met a room with ticket @t would pass it and clear its
 * bit, whatever its gfp: owned, being released, or being filled (BUSY).
 * Void rooms are not: a claim may fill them (labyrinth_note_taken()).
 */
static __always_inline bool labyrinth_taken(unsigned long t)
{
	return labyrinth_held(t) || labyrinth_state(t) == LAB_ROOM_BUSY;
}

/*
 * The bits @taken of word @k, rooms a walk found taken: clear them with
 * one atomic andnot, so that walks skip them, then look at each again: a
 * release that moved one FREE before the clear may have read its bit
 * still set and left it (labyrinth_note_free()). @heat: they were passed
 * on a look (labyrinth_screen()), which the heat map counts at the near
 * door as it counts a visit.
 */
static noinline void labyrinth_clear_taken(struct labyrinth *lab,
					   unsigned int k, unsigned long taken,
					   bool heat)
{
	struct labyrinth_room *room;
	unsigned long t;
	unsigned int i;

	atomic_long_andnot(taken, (atomic_long_t *)&lab->free_map[k]);
	/* the clear before the looks: pairs with the releaser's barrier */
	smp_mb__after_atomic();
	for (; taken; taken &= taken - 1) {
		i = k * BITS_PER_LONG + __ffs(taken);
		room = &lab->rooms[i];
		t = READ_ONCE(room->ticket);
		if (labyrinth_takeable(t) || labyrinth_fillable(lab, t)) {
			labyrinth_set_free(lab, i);
			labyrinth_count(lab, LAB_MAP_RECHECKS);
		}
		if (heat && static_branch_unlikely(&labyrinth_collect) &&
		    lab->hits)
			/* the heat map, the near door; racy, a lost one is fine */
			data_race(lab->hits[i * lab->doors]++);
	}
}

/*
 * A walk could not take @room: clear its bit and look again
 * (labyrinth_clear_taken()). A void room keeps its bit where every claim
 * may fill it (alloc_pages_nolock()): the next claim tries again, as the
 * deferred refill backs off.
 */
static void labyrinth_note_taken(struct labyrinth *lab,
				 struct labyrinth_room *room)
{
	unsigned int idx = labyrinth_room_idx(lab, room);

	if (labyrinth_fillable(lab, READ_ONCE(room->ticket)))
		return;		/* detached, or void */
	labyrinth_clear_taken(lab, idx / BITS_PER_LONG,
			      BIT(idx % BITS_PER_LONG), false);
}

/*
 * Word @k of the free map read 0: clear its bit in the word map, then
 * read the word again (a room's bit set before the clear is seen here,
 * one set after it sets the word's bit: labyrinth_set_free()). Returns
 * the word read again; its bit is set again if it is not 0.
 */
static unsigned long labyrinth_word_empty(struct labyrinth *lab, unsigned int k)
{
	unsigned long word;

	clear_bit(k, lab->word_map);
	/* the clear before the read: pairs with labyrinth_set_free() */
	smp_mb__after_atomic();
	word = READ_ONCE(lab->free_map[k]);
	if (word)
		set_bit(k, lab->word_map);
	return word;
}

/*
 * Of the rooms whose bits @word holds (of word @k of the free map), the
 * first whose ticket does not read taken, or the first left unread when
 * the claim's looks (*@probes, at most lab->limit) run out, as its bit
 * alone; 0 if each reads taken. A claim at the entrance or cursor leaves its room's bit set, so
 * the rooms such claims took hold their bits until a walk meets them: the
 * rooms passed here lose theirs together (labyrinth_clear_taken()), each
 * for a look and a few instructions where a visit of each would cost a
 * probe of the walk and a locked clear. Each counts as a probe, as a
 * visit would: the claim met a room the map offered and could not take it.
 */
static __always_inline unsigned long
labyrinth_screen(struct labyrinth *lab, unsigned int k, unsigned long word,
		 unsigned int *probes)
{
	unsigned long taken = 0, bit = 0;
	unsigned int i;

	for (; word; word ^= bit) {
		bit = word & -word;
		i = k * BITS_PER_LONG + __ffs(word);
		if (*probes == lab->limit ||
		    !labyrinth_taken(READ_ONCE(lab->rooms[i].ticket)))
			break;
		taken |= bit;
		(*probes)++;
	}
	if (unlikely(taken))
		labyrinth_clear_taken(lab, k, taken, true);
	return word & -word;
}

/*
 * The first room in [@from, @end) whose bit is set, or @end: the word of
 * @from, then only the words whose bit in the word map is set, a word at
 * a time. A word that reads 0 loses its bit in the word map, so a later
 * walk skips it with the other 63 of its word-map word: a full labyrinth
 * costs a walk a load per 4,096 rooms of a wing. A walk's (@probes not
 * NULL) passes the rooms that read taken (labyrinth_screen()); once its
 * looks have run out, the next set bit is returned unread (the caller
 * stops there: a room may be free).
 */
static __always_inline unsigned int
labyrinth_next_free(struct labyrinth *lab, unsigned int from, unsigned int end,
		    unsigned int *probes)
{
	unsigned int k = from / BITS_PER_LONG;
	unsigned int kend = DIV_ROUND_UP(end, BITS_PER_LONG);
	unsigned long word;

	if (from >= end)
		return end;
	word = READ_ONCE(lab->free_map[k]) & BITMAP_FIRST_WORD_MASK(from);
	for (;;) {
		if (k == kend - 1)
			word &= BITMAP_LAST_WORD_MASK(end);
		if (word && probes)
			word = labyrinth_screen(lab, k, word, probes);
		if (word)
			return k * BITS_PER_LONG + __ffs(word);
		/* racy, as the words: see labyrinth_word_empty() */
		k = data_race(find_next_bit(lab->word_map, kend, k + 1));
		if (k >= kend)
			return end;
		word = READ_ONCE(lab->free_map[k]);
		if (!word)
			word = labyrinth_word_empty(lab, k);
	}
}

/*
 * Whether the free map offers no room at all: a look at its first word,
 * then at the words whose bit in the word map is set (clearing those that
 * read 0), as labyrinth_next_free() does, passing the rooms that read
 * taken as a walk does; *@passed counts them, at most max_probe. A walk
 * would find nothing, at the cost of a scan of every wing and door; this
 * costs a load per 4,096 rooms, and a look per bit left set by a claim at
 * an entrance. False if its looks ran out with a bit left unread: the
 * walk decides, from its entrance, with looks of its own. Racy, as the walk's reads: a room
 * freed meanwhile may be missed, as by a walk that ran just before its
 * release.
 */
static bool labyrinth_none_free(struct labyrinth *lab, unsigned int *passed)
{
	return labyrinth_next_free(lab, 0, lab->nr_rooms, passed) ==
	       lab->nr_rooms;
}

/*
 * @room, held locked, holds pages again - installed, or taken back - and
 * is READY: void no more, and walks may find it.
 */
static __always_inline void labyrinth_ready(struct labyrinth *lab,
					    struct labyrinth_room *room)
	__must_hold(&room->lock)
{
	unsigned int idx = labyrinth_room_idx(lab, room);

	room->lent_seen = false;
	labyrinth_set_state(room, LAB_ROOM_READY);
	/* void no more; a late set_bit of its detach only costs a look */
	clear_bit(idx, lab->void_map);
	atomic_dec(&lab->nr_void);
	/* READY before the free map's bit: see labyrinth_note_free() */
	smp_mb();
	labyrinth_note_free(lab, idx);
}

/* Install @page in @room, which is VOID or BUSY and ours to change. */
bool labyrinth_install(struct labyrinth *lab, struct labyrinth_room *room,
		       struct page *page)
{
	void *addr = page_address(page);

	if (room->addr) {		/* the detached pages' entry goes */
		WRITE_ONCE(lab->table[room->slot], 0);
		WRITE_ONCE(room->addr, NULL);
	}
	if (!labyrinth_table_add(lab, room, addr))
		return false;
	WRITE_ONCE(room->page, page);
	WRITE_ONCE(room->addr, addr);
	room->nid = page_to_nid(page);	/* ours until the room is claimed */
	room->poisoned = false;
	/* whoever reads the room READY reads its new address: lookup */
	smp_wmb();
	labyrinth_ready(lab, room);
	return true;
}

/* Lent pages whose only reference left is their room's: they came back. */
static bool labyrinth_lent_only_ours(const struct page *page)
{
	return page_ref_count(page) == 1;
}

/*
 * LABYRINTH_REUSE: a look, without the lock, at whether the void @room
 * holds pages it lent that came back (its reference is the only one).
 * The lock decides (labyrinth_take_back()). The room may change meanwhile:
 * the read may then be of the count of pages freed since, or of pages
 * the room was refilled with and handed to a new owner - a read of an
 * atomic, never a write, whose answer the lock checks again.
 */
static bool labyrinth_lent_back(const struct labyrinth *lab,
				const struct labyrinth_room *room)
{
	struct page *page;

	/* elsewhere a GONE room's page is its owner's: not to be read */
	if (!(lab->flags & LABYRINTH_REUSE))
		return false;
	page = READ_ONCE(room->page);
	return page && labyrinth_lent_only_ours(page);
}

/*
 * LABYRINTH_REUSE: the VOID @room, held locked, takes back the pages a
 * detach lent if its reference is the last one - the owner, and whoever
 * the owner passed them to, put theirs: they are the room's again, READY
 * at their address, without the page allocator. True if it did. A
 * reference that a pfn walker takes for a moment (folio_try_get()) only
 * defers this to a later try; nothing else can take one from a page whose
 * only holder is the room.
 */
bool labyrinth_take_back(struct labyrinth *lab, struct labyrinth_room *room)
	__must_hold(&room->lock)
{
	struct page *page = room->page;

	if (!page || !labyrinth_lent_only_ours(page))
		return false;
	/*
	 * The last owner's accesses to the pages came before its put, a
	 * fully ordered atomic: ours, and the next owner's, come after.
	 */
	smp_acquire__after_ctrl_dep();
	room->nid = page_to_nid(page);
	room->poisoned = false;
	labyrinth_ready(lab, room);
	labyrinth_filled(lab, room, LAB_REFILLS_REUSED, true);
	return true;
}

/*
 * LABYRINTH_REUSE: the VOID @room, held locked, stops waiting for the
 * pages it lent (they are still in use): returns them, for the caller to
 * put the room's reference with labyrinth_put_lent() where pages may be
 * freed, or NULL if it lent none.
 */
static struct page *labyrinth_forget_lent(struct labyrinth_room *room)
	__must_hold(&room->lock)
{
	struct page *page = room->page;

	WRITE_ONCE(room->page, NULL);
	room->lent_seen = false;
	return page;
}

/*
 * Put the room's reference to pages it lent and stopped waiting for, where
 * pages may be freed (a put may free them: not under a raw lock, not in
 * NMI): the last holder frees them, and labyrinth counts them given (or
 * freed, if the room's reference looks like the last). Their compound
 * head's count: rooms of order > 0 are compound pages.
 */
static void labyrinth_put_lent(struct labyrinth *lab, struct page *page)
{
	labyrinth_account(lab, labyrinth_lent_only_ours(page) ?
			       LAB_PAGES_FREED : LAB_PAGES_GIVEN);
	put_page(page);
}

/* ---- Filling void rooms ---- */

/*
 * Room @idx is VOID again after a fill that failed: the refill finds it
 * in the void map (a refill pass may have cleared its bit while the room
 * was BUSY), and, where every claim may fill a void room, so do walks:
 * one that met the room BUSY cleared its bit in the free map.
 */
void labyrinth_void_again(struct labyrinth *lab, unsigned int idx)
{
	set_bit(idx, lab->void_map);
	if (labyrinth_has_nolock(lab)) {
		smp_mb();	/* VOID before the free map: see labyrinth_note_free() */
		labyrinth_note_free(lab, idx);
	}
}

/*
 * Install @page in @room, VOID or BUSY and ours to change, or, if its
 * address finds no slot in the table (rare), spare the page (for the
 * refill to free or use) and leave the room void for the refill or a
 * claim to try again. Whether @page was installed.
 */
static bool labyrinth_install_or_spare(struct labyrinth *lab,
				       struct labyrinth_room *room,
				       struct page *page)
{
	if (labyrinth_install(lab, room, page))
		return true;
	labyrinth_void_again(lab, labyrinth_room_idx(lab, room));
	labyrinth_spare(lab, page);
	return false;
}

/*
 * A GONE room, held locked, becomes VOID: its pages went to the owner
 * (with LABYRINTH_REUSE, lent: the room keeps them, and its reference).
 */
unsigned long labyrinth_clear_gone(struct labyrinth *lab,
				   struct labyrinth_room *room, unsigned long t)
	__must_hold(&room->lock)
{
	lockdep_assert_held(&room->lock);
	if (!(lab->flags & LABYRINTH_REUSE))
		WRITE_ONCE(room->page, NULL);
	room->nid = NUMA_NO_NODE;
	/* the next generation's FREE, and VOID */
	t = t - LAB_GONE + LAB_GEN + (LAB_ROOM_VOID << LAB_STATE_SHIFT);
	WRITE_ONCE(room->ticket, t);
	return t;
}

void labyrinth_filled(struct labyrinth *lab, struct labyrinth_room *room,
		      enum labyrinth_counter how, bool ok)
{
	trace_labyrinth_refill(lab->name, labyrinth_room_idx(lab, room), ok,
			       how - LAB_REFILLS_GFP);
	labyrinth_count(lab, ok ? how : LAB_REFILL_FAILURES);
}

/*
 * Draw pages for the VOID @room with @gfp, dropping its lock meanwhile
 * (the room is BUSY, so nobody else touches it). Held again on return.
 * Pages the room lent (LABYRINTH_REUSE) and did not get back are let go
 * of first.
 */
struct page *labyrinth_draw(struct labyrinth *lab, struct labyrinth_room *room,
			    gfp_t gfp, unsigned long *flags)
	__must_hold(&room->lock)
{
	unsigned int idx = labyrinth_room_idx(lab, room);
	struct page *page, *lent = labyrinth_forget_lent(room);

	labyrinth_set_state(room, LAB_ROOM_BUSY);
	raw_spin_unlock_irqrestore(&room->lock, *flags);
	/* @gfp may spin: pages may be freed here, outside the raw lock */
	if (lent)
		labyrinth_put_lent(lab, lent);
	page = labyrinth_alloc_room(lab, labyrinth_room_node(lab, idx), gfp);
	raw_spin_lock_irqsave(&room->lock, *flags);
	labyrinth_set_state(room, LAB_ROOM_VOID);
	if (page)
		labyrinth_account(lab, LAB_PAGES_TAKEN);
	else
		labyrinth_void_again(lab, idx);
	return page;
}

/*
 * A claim's fill of the VOID @room, held locked: the pages it lent, if
 * they came back (LABYRINTH_REUSE); else with the caller's gfp if it
 * allows an allocation that may spin (letting go of lent pages still in
 * use first), else (or if that failed) with alloc_pages_nolock() under the
 * lock, but not a room whose lent pages are still in use: that one is left
 * to the deferred refill. True if the room is now READY.
 */
static bool labyrinth_fill_spot(struct labyrinth *lab,
				struct labyrinth_room *room,
				struct labyrinth_fill *fill, unsigned long *flags)
	__must_hold(&room->lock)
{
	enum labyrinth_counter how = LAB_REFILLS_GFP;
	struct page *page = NULL;
	bool tried = false;

	if (labyrinth_take_back(lab, room))
		return true;
	if (fill->failed)
		return false;
	if (fill->gfp & __GFP_RECLAIM) {
		page = labyrinth_draw(lab, room, fill->gfp, flags);
		tried = true;
	}
	if (!page) {
		/* the node here, not above: labyrinth_draw() finds its own */
		int nid = labyrinth_room_node(lab, labyrinth_room_idx(lab, room));

		/*
		 * Lent pages still in use: letting go of them could free
		 * them, which a raw lock or NMI does not allow (the kernel
		 * exports no free_pages_nolock()): the deferred refill does.
		 */
		if (room->page)
			page = ERR_PTR(-EOPNOTSUPP);
		else
			page = labyrinth_alloc_room_nolock(lab, nid);
		if (IS_ERR(page)) {	/* no such allocator here */
			page = NULL;
		} else {
			how = LAB_REFILLS_NOLOCK;
			tried = true;
		}
		if (page)
			labyrinth_account(lab, LAB_PAGES_TAKEN);
	}
	if (page && !labyrinth_install_or_spare(lab, room, page))
		page = NULL;
	if (!tried) {
		fill->skipped = true;
		return false;
	}
	labyrinth_filled(lab, room, how, page);
	fill->failed = !page;
	return page;
}

/* ---- Claiming ---- */

/* @room, locked and free: it is @owner's now. */
static __always_inline void labyrinth_take(struct labyrinth_room *room,
					   unsigned long t, const void *owner,
					   unsigned long ip)
	__must_hold(&room->lock)
{
	WRITE_ONCE(room->owner, owner);
	if (static_branch_unlikely(&labyrinth_collect)) {
		/* who claimed it, since when: for debugfs and destroy alone */
		room->claim_ip = ip;
		room->claimed_at = (u32)jiffies;
	}
	/* the owner is seen by whoever sees the phase OWNED */
	smp_store_release(&room->ticket, t + LAB_OWNED);
}

/*
 * Whether a claim may pass @room by without its lock: owned, being
 * filled, or void when this claim cannot fill it (it says so, for the
 * deferred refill). Racy reads; the lock decides whatever is left.
 */
static bool labyrinth_passable(const struct labyrinth *lab,
			       const struct labyrinth_room *room,
			       struct labyrinth_fill *fill)
{
	unsigned long t = READ_ONCE(room->ticket);
	unsigned long state = labyrinth_state(t);

	if (labyrinth_held(t) || state == LAB_ROOM_BUSY)
		return true;
	if (state == LAB_ROOM_VOID && (fill->failed || !fill->can_fill) &&
	    !labyrinth_lent_back(lab, room)) {
		fill->skipped |= !fill->failed;
		return true;
	}
	return false;
}

/* Visit one room: take it if it is free; fill it first if it is void. */
static enum labyrinth_probe labyrinth_try_room(struct labyrinth *lab,
					       struct labyrinth_room *room,
					       const void *owner,
					       unsigned long ip,
					       struct labyrinth_fill *fill)
{
	enum labyrinth_probe res = LAB_PROBE_TAKEN;
	unsigned long flags, t;

	/*
	 * A look before the lock: an owned room, or a void one this claim
	 * cannot fill, is passed by without a locked operation, so a claim
	 * in a full labyrinth costs loads, not trylocks.
	 */
	if (labyrinth_passable(lab, room, fill))
		return LAB_PROBE_TAKEN;
	if (!raw_spin_trylock_irqsave(&room->lock, flags))
		return LAB_PROBE_LOCKED;
	/* pairs with the cmpxchg of release and detach */
	t = smp_load_acquire(&room->ticket);
	if (unlikely(labyrinth_phase(t) == LAB_GONE))
		t = labyrinth_clear_gone(lab, room, t);
	if (unlikely(labyrinth_state(t) == LAB_ROOM_VOID) &&
	    labyrinth_fill_spot(lab, room, fill, &flags))
		t = READ_ONCE(room->ticket);	/* FREE: ours under the lock */
	if (labyrinth_takeable(t)) {
		/*
		 * ours: walks skip it until its release sets the bit. Before
		 * the take's store-release, so that a release (the owner's,
		 * after its acquire of OWNED) reads the bit clear and sets it.
		 */
		clear_bit(labyrinth_room_idx(lab, room), lab->free_map);
		labyrinth_take(room, t, owner, ip);
		fill->ticket = t + LAB_OWNED;
		res = LAB_PROBE_CLAIMED;
	}
	raw_spin_unlock_irqrestore(&room->lock, flags);
	return res;
}

/*
 * The next room of wing @w the free map offers (labyrinth_next_free()),
 * scanning the wing once in ring order from column @col0 (where the claim
 * entered); UINT_MAX once the scan has covered the wing or the claim's
 * looks (*@probes) ran out.
 */
static unsigned int labyrinth_walk_next(struct labyrinth *lab,
					struct labyrinth_walk *walk,
					unsigned int w, unsigned int col0,
					unsigned int *probes)
{
	unsigned int size = labyrinth_wing_size(lab, w);
	unsigned int start = labyrinth_wing_start(lab, w);
	unsigned int col, end, i;

	if (!__test_and_set_bit(w, &walk->entered)) {
		walk->col[w] = col0 < size ? col0 : 0;
		walk->left[w] = size;
	}
	while (walk->left[w] && *probes < lab->limit) {
		col = walk->col[w];
		end = min(size, col + walk->left[w]);
		i = labyrinth_next_free(lab, start + col, start + end,
					probes) - start;
		walk->left[w] -= (i < end ? i + 1 : end) - col;
		walk->col[w] = i + 1 < size ? i + 1 : 0;
		if (i < end)
			return start + i;
	}
	return UINT_MAX;
}

/*
 * @door of wing @w if its wing has columns left to scan, else the first
 * door after it whose wing has; lab->doors if no wing has.
 */
static unsigned int labyrinth_walk_door(const struct labyrinth *lab,
					const struct labyrinth_walk *walk,
					unsigned int w, unsigned int door)
{
	unsigned int i, next;

	for (i = 0; i < lab->doors; i++, door = (door + 1) % lab->doors) {
		next = lab->door_to[w * lab->doors + door];
		if (!test_bit(next, &walk->entered) || walk->left[next])
			return door;
	}
	return lab->doors;
}

/*
 * The walk, from the column of room @idx: the rooms of its wing whose bit
 * is set in the free map, in ring order, then the wings behind the doors.
 * After a room it cannot take the walk goes on in the same wing (the near
 * door); after a busy lock it takes a far door, 1, 2, ... W - 1 in turn
 * (another CPU works there now); a door whose wing has been scanned passes
 * to the next. It visits each room at most once and at most lab->limit
 * rooms (with those *@probes counts already), passing room @skip (one the
 * caller visited; UINT_MAX for none); a room it finds taken loses its
 * bit, so the next walk skips it unvisited. Returns the room claimed or
 * NULL; *@probes counts the visits.
 */
static noinline struct labyrinth_room *
labyrinth_walk(struct labyrinth *lab, const void *owner, unsigned long ip,
	       unsigned int idx, unsigned int *probes, bool *contended,
	       struct labyrinth_fill *fill, unsigned int skip)
{
	unsigned int w = labyrinth_wing_of(lab, idx), far = 0, door = 0, col0;
	struct labyrinth_room *room;
	struct labyrinth_walk walk;
	enum labyrinth_probe res;
	unsigned int i;

	col0 = idx - labyrinth_wing_start(lab, w);
	walk.entered = 0;
	for (;;) {
		i = labyrinth_walk_next(lab, &walk, w, col0, probes);
		if (*probes == lab->limit)
			return NULL;
		if (i == UINT_MAX) {	/* this wing is scanned: the next door */
			door = labyrinth_walk_door(lab, &walk, w, door);
			if (door == lab->doors)
				return NULL;	/* every wing is */
			w = lab->door_to[w * lab->doors + door];
			continue;
		}
		if (i == skip)		/* visited already */
			continue;
		(*probes)++;
		room = &lab->rooms[i];
		res = labyrinth_try_room(lab, room, owner, ip, fill);
		if (res == LAB_PROBE_CLAIMED)
			return room;	/* its bit cleared: labyrinth_try_room() */
		door = 0;
		if (res == LAB_PROBE_LOCKED) {
			*contended = true;
			if (lab->doors > 1) {
				far = far + 1 < lab->doors ? far + 1 : 1;
				door = far;
			}
		} else {
			labyrinth_note_taken(lab, room);
		}
		if (static_branch_unlikely(&labyrinth_collect) && lab->hits)
			/* the heat map; racy increments, a lost one is fine */
			data_race(lab->hits[i * lab->doors + door]++);
		if (door) {
			door = labyrinth_walk_door(lab, &walk, w, door);
			if (door == lab->doors)
				return NULL;
			w = lab->door_to[w * lab->doors + door];
		}
	}
}

/*
 * A walk that found no room, for a caller whose gfp allows an allocation
 * that may spin: the first room of the void map (a void room the deferred
 * refill has yet to fill), filled on the spot. Walks skip a void room
 * that a claim could not fill - its bit in the free map is cleared until
 * the refill fills it - so this is where such a caller still meets one.
 */
static struct labyrinth_room *
labyrinth_walk_void(struct labyrinth *lab, const void *owner, unsigned long ip,
		    unsigned int *probes, struct labyrinth_fill *fill)
{
	/* racy: a bit that changes meanwhile costs a look, under the lock */
	unsigned int i = data_race(find_first_bit(lab->void_map, lab->nr_rooms));

	if (i >= lab->nr_rooms || *probes == lab->limit)
		return NULL;
	(*probes)++;
	if (labyrinth_try_room(lab, &lab->rooms[i], owner, ip, fill) ==
	    LAB_PROBE_CLAIMED)
		return &lab->rooms[i];
	return NULL;
}

/* Check the poison left by the last release; then zero if asked to. */
static void labyrinth_prepare(struct labyrinth *lab,
			      struct labyrinth_room *room, void *addr)
{
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

/*
 * A claim of @room at this CPU's entrance, or one of this CPU's rooms: its
 * release looks there first and the next claim enters at the room after
 * it. With interrupts off, so that @room is this CPU's own.
 */
static __always_inline void labyrinth_move_entrance(struct labyrinth *lab,
						    struct labyrinth_room *room)
{
	lockdep_assert_irqs_disabled();
	this_cpu_write(lab->pcpu->last, room);
	this_cpu_write(lab->pcpu->next, &lab->rooms[room->after]);
}

/*
 * This CPU's entrance is not one of its rooms (only a test sets one so):
 * back to its own run. With interrupts off, as labyrinth_move_entrance().
 */
static noinline void labyrinth_reenter(struct labyrinth *lab)
{
	lockdep_assert_irqs_disabled();
	this_cpu_write(lab->pcpu->next, this_cpu_read(lab->pcpu->own));
}

/*
 * The walk found @room (or nothing, NULL): say whether it found one
 * (pcpu->full, written only when that changes), move this CPU's entrance
 * if @room is one of its rooms, else make @room its cursor, where its
 * next claims look while the entrance is taken. With interrupts off, so
 * that the CPU checked is the CPU written, whatever CPU the walk started
 * on.
 */
static void labyrinth_walk_done(struct labyrinth *lab,
				struct labyrinth_room *room)
{
	unsigned long flags;
	unsigned int cpu;

	local_irq_save(flags);
	cpu = smp_processor_id();
	if (this_cpu_read(lab->pcpu->full) != !room)
		this_cpu_write(lab->pcpu->full, !room);
	if (room && room->home == cpu) {
		labyrinth_move_entrance(lab, room);
	} else {
		if (room) {
			this_cpu_write(lab->pcpu->last, room);
			this_cpu_write(lab->pcpu->cursor, room);
		}
		if (this_cpu_read(lab->pcpu->next)->home != cpu)
			labyrinth_reenter(lab);
	}
	local_irq_restore(flags);
}

/*
 * A released room is where its home CPU (whose rooms it is among) claims
 * next, if that CPU would not take a free room anyway: if its entrance is
 * the room after the released one (the room it claimed last, so that a
 * task that claims and releases gets the same room again), or a room it
 * cannot take now (its run is full: a driver that releases on another
 * CPU, a completion, gives its claiming CPU a free room at once). Not if
 * its entrance is another free room: a driver that lets go of a ring's
 * buffers a ring after claiming them, in claim order, would send each
 * claim back to the room just released, whose next rooms are still
 * owned; its claims stream through its run instead, a free room after
 * another. The home CPU's, never the releasing CPU's: a release that
 * migrated, or runs elsewhere, still names a CPU's own room to it. Racy
 * reads and a marked store racing the home CPU's own this_cpu accesses of
 * its entrance, a benign race: the entrance is a hint, any room is a
 * valid one, and a lost hint costs a probe.
 */
static __always_inline void labyrinth_hint_home(struct labyrinth *lab,
						struct labyrinth_room *room,
						bool last)
{
	struct labyrinth_room *next;
	struct labyrinth_pcpu *p;

	if (room->home == LAB_NO_HOME)
		return;
	p = per_cpu_ptr(lab->pcpu, room->home);
	/*
	 * @last: the room this CPU claimed last, so (if it is of this CPU's
	 * run, as a claim at the entrance takes) its entrance is the room
	 * after it: no need to look. A room its cursor or walk took from
	 * another CPU's run is hinted to that CPU without a look too: a
	 * check of the CPU would cost the common pair 5 instructions of
	 * 135 to spare that rare one a lost hint.
	 */
	if (!last) {
		next = READ_ONCE(p->next);
		if (next != &lab->rooms[room->after] &&
		    labyrinth_takeable(READ_ONCE(next->ticket)))
			return;
	}
	WRITE_ONCE(p->next, room);
}

/*
 * Only while collecting: probe lengths and the high water of owned rooms.
 * owned starts from a count of owned rooms when collecting starts, which
 * releases racing that count may take below 0: a sample, never negative.
 */
static noinline void labyrinth_collect_claim(struct labyrinth *lab,
					     unsigned int probes)
{
	int owned = atomic_inc_return(&lab->owned);

	this_cpu_inc(lab->pcpu->hist[min_t(unsigned int, ilog2(probes),
					   LAB_HIST_BUCKETS - 1)]);
	/* racing writers may lose a mark to a lower one: it is a sample */
	if (owned > data_race(lab->owned_hwm))
		WRITE_ONCE(lab->owned_hwm, owned);
}

/* After a claim of @room in @probes visits: counts, entrance, trace, flags. */
static __always_inline void *labyrinth_claimed(struct labyrinth *lab,
					       struct labyrinth_room *room,
					       const void *owner,
					       unsigned int probes)
{
	void *addr = room->addr;

	labyrinth_count(lab, LAB_CLAIMS);
	if (static_branch_unlikely(&labyrinth_collect))
		labyrinth_collect_claim(lab, probes);
	trace_labyrinth_claim(lab->name, owner, addr, probes, false);
	if (unlikely(lab->flags & (LABYRINTH_ZERO | LABYRINTH_POISON)))
		labyrinth_prepare(lab, room, addr);
	return addr;
}

/*
 * This CPU's entrance is owned (its run is full): its cursor, the room of
 * another CPU's run its last walk claimed, if a look says it is free and
 * its lock is free - so that a CPU cycling one room of a nearly full
 * labyrinth claims it again without a walk; if the cursor is owned, the
 * next room of that run (the cursor moves there if it is taken) - so
 * that a CPU whose claims outlast its run (a ring posted at open, a pool
 * drained) takes another CPU's free run a room after another, as a walk
 * would, without one each. Not while a room is void: the walk fills void
 * rooms where they are met, and the ready rooms stay in reserve for when
 * the allocator fails (see nr_void). With interrupts off, as the claim at
 * the entrance: the cursor is this CPU's. Returns the room claimed (its
 * ticket in *@gen if @gen is not NULL) or NULL. (Not this CPU's last room
 * read back: an NMI's claim may write that meanwhile.)
 */
static noinline struct labyrinth_room *
labyrinth_claim_cursor(struct labyrinth *lab, const void *owner, gfp_t gfp,
		       unsigned long *gen, unsigned long ip)
{
	struct labyrinth_room *cursor, *room;
	unsigned long t;

	lockdep_assert_irqs_disabled();
	/*
	 * Only claims that could fill a void room wait for it. nr_void may
	 * read -1 for a moment (a refill's install before its detach's
	 * increment): the cursor is then taken, which is harmless.
	 */
	if (atomic_read(&lab->nr_void) > 0 &&
	    ((gfp & __GFP_RECLAIM) || labyrinth_has_nolock(lab)))
		return NULL;
	cursor = this_cpu_read(lab->pcpu->cursor);
	room = cursor;
	t = READ_ONCE(room->ticket);
	if (labyrinth_held(t) && room->home != LAB_NO_HOME) {
		room = &lab->rooms[room->after];
		t = READ_ONCE(room->ticket);
	}
	if (!labyrinth_takeable(t) || !raw_spin_trylock(&room->lock))
		return NULL;
	/* pairs with the cmpxchg of release and detach */
	t = smp_load_acquire(&room->ticket);
	if (labyrinth_takeable(t)) {
		/*
		 * A step past the cursor is a walk's step, and clears the
		 * room's bit as the walk does (labyrinth_try_room()): a CPU
		 * that streams through another's run leaves no bits for
		 * walks to pass. The cursor itself keeps its bit, as the
		 * entrance does: a room cycled there costs no locked clear.
		 */
		if (room != cursor)
			clear_bit(labyrinth_room_idx(lab, room), lab->free_map);
		labyrinth_take(room, t, owner, ip);
		if (gen)
			*gen = labyrinth_gen(lab, room, t + LAB_OWNED);
	}
	raw_spin_unlock(&room->lock);
	if (!labyrinth_takeable(t))
		return NULL;
	if (room->home == smp_processor_id())	/* of its own run */
		labyrinth_move_entrance(lab, room);
	else if (room != cursor)
		this_cpu_write(lab->pcpu->cursor, room);
	this_cpu_write(lab->pcpu->last, room);	/* its release looks here */
	return room;
}

/*
 * The claim of anything but a free entrance or cursor: the walk, void
 * rooms, failures. Out of line, so that the common claim is small.
 */
static noinline void *labyrinth_claim_walk(struct labyrinth *lab,
					   const void *owner, gfp_t gfp,
					   unsigned long *gen, unsigned long ip)
{
	struct labyrinth_fill fill = {
		.gfp = gfp,
		.can_fill = (gfp & __GFP_RECLAIM) || labyrinth_has_nolock(lab),
	};
	/* read again: the walk may run preemptible; any room is a start */
	struct labyrinth_room *entrance = this_cpu_read(lab->pcpu->next);
	unsigned int probes = 0, passed = 0;
	unsigned int idx = labyrinth_room_idx(lab, entrance);
	struct labyrinth_room *room = NULL;
	unsigned int skip = UINT_MAX;
	bool contended = false, none;

	/*
	 * This CPU's last walk found no room: a look at the free map first.
	 * If it shows none, a claim on a labyrinth that stays full (a driver
	 * asking for more buffers than it has rooms) fails without a walk;
	 * one whose gfp may fill a void room the map does not show goes on
	 * to labyrinth_walk_void(). Racy, a hint: a room freed meanwhile may
	 * be missed, as by a walk that ran just before its release.
	 */
	none = this_cpu_read(lab->pcpu->full) &&
	       labyrinth_none_free(lab, &passed);
	if (none && !(gfp & __GFP_RECLAIM))
		goto done;	/* no probe, not contended: full */

	/*
	 * A void entrance this claim can fill - its pages detached, as a
	 * network driver detaches every large frame's buffer - is the room
	 * the walk would visit first: fill it and take it without one. If
	 * that fails, the walk starts there and passes it.
	 */
	if (labyrinth_void(READ_ONCE(entrance->ticket)) &&
	    (fill.can_fill || labyrinth_lent_back(lab, entrance))) {
		enum labyrinth_probe res;

		probes = 1;
		skip = idx;
		res = labyrinth_try_room(lab, entrance, owner, ip, &fill);
		if (res == LAB_PROBE_CLAIMED)
			room = entrance;
		else if (res == LAB_PROBE_LOCKED)
			contended = true;
		else
			labyrinth_note_taken(lab, entrance);
	}
	if (!room && !none)
		room = labyrinth_walk(lab, owner, ip, idx, &probes, &contended,
				      &fill, skip);
	if (!room && (gfp & __GFP_RECLAIM) && !fill.failed)
		room = labyrinth_walk_void(lab, owner, ip, &probes, &fill);
	if (fill.skipped || fill.failed)
		labyrinth_kick(lab, !fill.failed);
	labyrinth_walk_done(lab, room);
done:
	/* rooms the free map offered that the claim could not take */
	if (probes + passed > !!room)
		labyrinth_count_n(lab, LAB_COLLISIONS, probes + passed - !!room);
	if (room) {
		if (gen)
			*gen = labyrinth_gen(lab, room, fill.ticket);
		return labyrinth_claimed(lab, room, owner, probes);
	}
	labyrinth_count(lab, contended ? LAB_FAIL_CONTENDED : LAB_FAIL_FULL);
	trace_labyrinth_claim(lab->name, owner, NULL, probes, contended);
	return NULL;
}

/*
 * A claim: this CPU's entrance if a look says it is free and its lock is
 * free; if it is owned, this CPU's cursor or the room after it
 * (labyrinth_claim_cursor());
 * else labyrinth_claim_walk(). The common case is a load, a trylock with
 * interrupts saved, a few stores and an unlock. Interrupts are off from
 * the read of the entrance to its move: both are this CPU's. The claim's
 * ticket goes to *@gen if @gen is not NULL.
 */
static __always_inline void *labyrinth_do_claim(struct labyrinth *lab,
						const void *owner, gfp_t gfp,
						unsigned long *gen,
						unsigned long ip)
{
	struct labyrinth_room *room;
	unsigned long flags, t;
	bool taken = false;

	if (IS_ERR_OR_NULL(lab))
		return NULL;
	if (unlikely(!owner)) {
		labyrinth_bad_call(lab, LAB_OP_CLAIM, owner, NULL, -EINVAL, ip);
		return NULL;
	}
	local_irq_save(flags);
	room = this_cpu_read(lab->pcpu->next);
	/* free and ready (a look first: no trylock on a taken room) */
	if (likely(labyrinth_takeable(READ_ONCE(room->ticket)) &&
		   raw_spin_trylock(&room->lock))) {
		/* pairs with the cmpxchg of release and detach */
		t = smp_load_acquire(&room->ticket);
		if (likely(labyrinth_takeable(t))) {
			labyrinth_take(room, t, owner, ip);
			if (gen)
				*gen = labyrinth_gen(lab, room, t + LAB_OWNED);
			taken = true;
		}
		raw_spin_unlock(&room->lock);
		if (likely(taken))
			labyrinth_move_entrance(lab, room);
	} else if (labyrinth_held(READ_ONCE(room->ticket)) &&
		   !this_cpu_read(lab->pcpu->full)) {
		/*
		 * owned (its run is full), not locked by another claim; not
		 * while this CPU's last walk found no room: if the cursor is
		 * free since, the map shows it and the walk takes it.
		 */
		room = labyrinth_claim_cursor(lab, owner, gfp, gen, ip);
		taken = room;
	}
	local_irq_restore(flags);
	if (likely(taken))
		return labyrinth_claimed(lab, room, owner, 1);
	return labyrinth_claim_walk(lab, owner, gfp, gen, ip);
}

/**
 * labyrinth_claim() - claim a free room
 * @lab: the labyrinth
 * @owner: the claimant's token, any non-NULL pointer; only this token may
 *	release or detach the room. A token unique to the claim (the request
 *	the room serves) lets a double release be told from the release of a
 *	later claim; a token shared by many claims (the device) does not:
 *	see labyrinth_release() and labyrinth_claim_gen()
 *
 * Takes this CPU's entrance if it is free, else (if the entrance is owned)
 * the room this CPU's last walk claimed if that is free, or the next room
 * of that room's run if that one is owned and this one free, else walks
 * the labyrinth from the entrance and takes the first free room it can
 * lock, passing rooms a bitmap shows taken and visiting at most max_probe
 * rooms, each at most once. Never waits for a room lock. A void room on the way is filled on
 * the spot with alloc_pages_nolock() where the kernel has it (6.18 and
 * later), else left to the deferred refill; labyrinth_claim_gfp() lets the
 * caller allow more.
 *
 * Context: Any context, NMI and hard interrupt context included, and under
 * a raw spinlock with interrupts disabled. Never sleeps.
 * Return: the page-aligned address of the room's ``PAGE_SIZE << order``
 * bytes, or NULL if no room could be claimed, @lab is NULL or an ERR_PTR,
 * or @owner is NULL (the latter counted in the labyrinth's bad_calls).
 */
void *labyrinth_claim(struct labyrinth *lab, const void *owner)
{
	return labyrinth_do_claim(lab, owner, 0, NULL, _RET_IP_);
}
EXPORT_SYMBOL_GPL(labyrinth_claim);

/* The caller's @gfp, less the bits a claim does not take (counted). */
static __always_inline gfp_t labyrinth_claim_gfp_ok(struct labyrinth *lab,
						    const void *owner,
						    gfp_t gfp, unsigned long ip)
{
	might_sleep_if(gfpflags_allow_blocking(gfp));
	if (unlikely(gfp & ~LABYRINTH_GFP_OK) && !IS_ERR_OR_NULL(lab)) {
		labyrinth_bad_call(lab, LAB_OP_CLAIM, owner, NULL, -EINVAL, ip);
		gfp &= LABYRINTH_GFP_OK;
	}
	return gfp;
}

/* labyrinth_claim_gfp() and labyrinth_claim_gen(): the gfp checked. */
static __always_inline void *labyrinth_claim_checked(struct labyrinth *lab,
						     const void *owner,
						     gfp_t gfp,
						     unsigned long *gen,
						     unsigned long ip)
{
	gfp = labyrinth_claim_gfp_ok(lab, owner, gfp, ip);
	return labyrinth_do_claim(lab, owner, gfp, gen, ip);
}

/**
 * labyrinth_claim_gfp() - claim a free room, filling void rooms as @gfp allows
 * @lab: the labyrinth
 * @owner: the claimant's token, as for labyrinth_claim()
 * @gfp: what the caller's context allows, as for mempool_alloc(): with
 *	%__GFP_KSWAPD_RECLAIM (e.g. %GFP_ATOMIC, %GFP_NOWAIT) a void room met
 *	on the way is filled with alloc_pages(@gfp); with
 *	%__GFP_DIRECT_RECLAIM (%GFP_KERNEL) that may sleep. Without either
 *	(e.g. 0) this is labyrinth_claim(). Only the bits that say how hard
 *	to try and which reserves to use count (%__GFP_IO, %__GFP_FS,
 *	%__GFP_HIGH, %__GFP_NOWARN, %__GFP_NORETRY, %__GFP_RETRY_MAYFAIL,
 *	%__GFP_MEMALLOC, %__GFP_NOMEMALLOC); where pages come from is the
 *	labyrinth's, so any other bit (%__GFP_HIGHMEM, %__GFP_MOVABLE,
 *	%__GFP_ACCOUNT, %__GFP_ZERO, %__GFP_COMP, ...) is dropped and the call
 *	counted in bad_calls (traced with -EINVAL); the claim goes on.
 *
 * Context: Any context in which @gfp is valid; with 0, any context, NMI
 * included. Sleeps only if @gfp allows it.
 * Return: as for labyrinth_claim().
 */
void *labyrinth_claim_gfp(struct labyrinth *lab, const void *owner, gfp_t gfp)
{
	return labyrinth_claim_checked(lab, owner, gfp, NULL, _RET_IP_);
}
EXPORT_SYMBOL_GPL(labyrinth_claim_gfp);

/**
 * labyrinth_claim_gen() - claim a free room and learn the claim's generation
 * @lab: the labyrinth
 * @owner: the claimant's token, as for labyrinth_claim()
 * @gfp: as for labyrinth_claim_gfp()
 * @gen: set to the claim's generation, a nonzero value that names this
 *	claim of the room and no other (it is valid with the address
 *	returned, not with another room's); 0 if no room was claimed
 *
 * labyrinth_claim_gfp() for callers that release or detach with
 * labyrinth_release_gen() or labyrinth_detach_gen(), which refuse with
 * -ENOENT a call whose claim is over even when the room has been claimed
 * again since with the same @owner: a double release with a token shared
 * by many claims (a device) then never frees the owner's next claim. The
 * generation is the room's ticket, which the claim sets anyway, and on
 * 64-bit kernels the room's index: it costs one store here and one compare
 * in the release, and the release or detach finds the room without
 * looking its address up, which a driver that lets go of its rooms in
 * another order than it claimed them (a ring) saves on every buffer.
 *
 * Context: as for labyrinth_claim_gfp().
 * Return: as for labyrinth_claim().
 */
void *labyrinth_claim_gen(struct labyrinth *lab, const void *owner, gfp_t gfp,
			  unsigned long *gen)
{
	*gen = 0;
	return labyrinth_claim_checked(lab, owner, gfp, gen, _RET_IP_);
}
EXPORT_SYMBOL_GPL(labyrinth_claim_gen);

/* The rooms one round of a bulk claim takes at most: its arrays' size. */
#define LAB_BULK	16

/*
 * How many of the first @nr rooms of this CPU's run, from its entrance, a
 * bulk claim's round would meet void: a look without locks, stopping where
 * the round would (a room neither free nor void, or another CPU's).
 * Racy: the round checks each room under its lock.
 */
static unsigned int labyrinth_bulk_voids(struct labyrinth *lab,
					 unsigned int nr, int *cpu, int *nid)
{
	struct labyrinth_room *room, *entrance;
	unsigned int i, v = 0;
	unsigned long t;

	preempt_disable();
	*cpu = smp_processor_id();
	entrance = this_cpu_read(lab->pcpu->next);
	room = entrance;
	for (i = 0; i < nr && room->home == *cpu; i++) {
		t = READ_ONCE(room->ticket);
		if (labyrinth_void(t))
			v += !labyrinth_lent_back(lab, room);	/* else reused */
		else if (!labyrinth_takeable(t))
			break;
		room = &lab->rooms[room->after];
		if (room == entrance)	/* the run wrapped: the round stops here */
			break;
	}
	preempt_enable();
	/* a CPU's rooms are on one node: labyrinth_place_entrances() */
	if (v)
		*nid = labyrinth_room_node(lab, labyrinth_room_idx(lab, entrance));
	return v;
}

/*
 * Install @page in the void @room, held locked, whose ticket reads @t: a
 * bulk claim's fill. The new ticket: FREE and READY, or (no table slot,
 * rare) VOID still, the page spared and the room left to the refill.
 */
static unsigned long labyrinth_bulk_install(struct labyrinth *lab,
					    struct labyrinth_room *room,
					    unsigned long t, struct page *page)
	__must_hold(&room->lock)
{
	bool ok;

	if (labyrinth_phase(t) == LAB_GONE)
		t = labyrinth_clear_gone(lab, room, t);
	ok = labyrinth_install_or_spare(lab, room, page);
	labyrinth_filled(lab, room, LAB_REFILLS_GFP, ok);
	return ok ? READ_ONCE(room->ticket) : t;
}

/*
 * LABYRINTH_REUSE: a bulk claim met the void @room, held locked, whose
 * ticket reads @t: it takes back the pages the room lent if they came
 * back; else, if the round has a page for it (@have_page), the room lets
 * go of them (in *@lentp, to be put where pages may be freed) for
 * labyrinth_bulk_install(). The new ticket: READY, or VOID still.
 */
static __always_inline unsigned long
labyrinth_bulk_lent(struct labyrinth *lab, struct labyrinth_room *room,
		    unsigned long t, bool have_page, struct page **lentp)
	__must_hold(&room->lock)
{
	*lentp = NULL;
	if (labyrinth_phase(t) == LAB_GONE)
		t = labyrinth_clear_gone(lab, room, t);
	if (labyrinth_take_back(lab, room))
		return READ_ONCE(room->ticket);
	if (have_page)
		*lentp = labyrinth_forget_lent(room);
	return t;
}

/*
 * One round of labyrinth_claim_bulk(): this CPU's rooms in their order
 * from its entrance, as far as they are free and their locks free, @nr at
 * most (<= LAB_BULK). Ready rooms are taken as a claim at the entrance
 * takes one. While *@bulk (@gfp allows an allocation, the rooms are order
 * 0), the void rooms a look ahead finds get pages from one call to the
 * bulk allocator first, each installed and taken under the room's lock.
 * The round stops at a void room without a page. If the bulk allocator
 * gave fewer pages than asked (it keeps a zone above its low watermark,
 * where @gfp may allow reserves), *@bulk is cleared: the call's other void
 * rooms are filled one by one with @gfp, by labyrinth_do_claim()'s fill.
 * Interrupts are off while the entrance moves, as in labyrinth_do_claim().
 * Returns the rooms claimed, their addresses packed into @addrs[0..) and
 * their generations into @gens[0..) if @gens is not NULL.
 */
static noinline_for_stack unsigned int
labyrinth_bulk_round(struct labyrinth *lab, const void *owner, gfp_t gfp,
		     bool *bulk, unsigned int nr, void **addrs,
		     unsigned long *gens, unsigned long ip)
{
	unsigned int n = 0, i, want = 0, got = 0, used = 0, usable, nr_lent = 0;
	struct labyrinth_room *rooms[LAB_BULK], *room;
	struct page *pages[LAB_BULK], *lent[LAB_BULK];
	bool reuse = lab->flags & LABYRINTH_REUSE;
	unsigned long tickets[LAB_BULK];
	unsigned long flags, t;
	int cpu, look_cpu = -1, nid = NUMA_NO_NODE;

	/* no look while no room is void (a ring of copied frames) */
	if (*bulk && atomic_read(&lab->nr_void) > 0)
		want = labyrinth_bulk_voids(lab, nr, &look_cpu, &nid);
	if (want) {
		memset(pages, 0, want * sizeof(*pages));	/* as it asks */
		got = labyrinth_alloc_bulk(lab, nid, gfp, want, pages);
		labyrinth_count_n(lab, LAB_PAGES_TAKEN, got);
		*bulk = got == want;
	}
	local_irq_save(flags);
	cpu = smp_processor_id();
	room = this_cpu_read(lab->pcpu->next);
	/* the pages are for the node of the look's CPU: a task may migrate */
	usable = got;
	if (got && cpu != look_cpu &&
	    labyrinth_room_node(lab, labyrinth_room_idx(lab, room)) != nid)
		usable = 0;
	while (n < nr && room->home == cpu) {
		/* a look first: no trylock on a taken room */
		t = READ_ONCE(room->ticket);
		if (!labyrinth_takeable(t) &&
		    !(labyrinth_void(t) && (used < usable ||
					    labyrinth_lent_back(lab, room))))
			break;
		if (!raw_spin_trylock(&room->lock))
			break;
		/* pairs with the cmpxchg of release and detach */
		t = smp_load_acquire(&room->ticket);
		if (unlikely(reuse) && labyrinth_void(t)) {
			t = labyrinth_bulk_lent(lab, room, t, used < usable,
						&lent[nr_lent]);
			nr_lent += !!lent[nr_lent];
		}
		if (used < usable && labyrinth_void(t))
			t = labyrinth_bulk_install(lab, room, t, pages[used++]);
		if (!labyrinth_takeable(t)) {
			raw_spin_unlock(&room->lock);
			break;
		}
		labyrinth_take(room, t, owner, ip);
		raw_spin_unlock(&room->lock);
		tickets[n] = t + LAB_OWNED;
		rooms[n++] = room;
		/* the room after it is this CPU's too (its run wraps) */
		room = &lab->rooms[room->after];
	}
	if (n) {	/* as labyrinth_move_entrance() of the last room */
		this_cpu_write(lab->pcpu->last, rooms[n - 1]);
		this_cpu_write(lab->pcpu->next, room);
	}
	local_irq_restore(flags);
	/*
	 * Pages got and not installed: a room the look found void was filled,
	 * taken or locked meanwhile, or the task moved to another node. Freed
	 * at once: the caller's gfp allowed an allocation, so the context may
	 * free pages too; so are the lent pages replaced by new ones put.
	 */
	while (unlikely(used < got))
		labyrinth_free_pages(lab, pages[used++]);
	while (unlikely(nr_lent))
		labyrinth_put_lent(lab, lent[--nr_lent]);
	for (i = 0; i < n; i++) {
		if (gens)
			gens[i] = labyrinth_gen(lab, rooms[i], tickets[i]);
		addrs[i] = labyrinth_claimed(lab, rooms[i], owner, 1);
	}
	return n;
}

/**
 * labyrinth_claim_bulk() - claim up to @nr rooms at once
 * @lab: the labyrinth
 * @owner: the claimant's token, as for labyrinth_claim()
 * @gfp: as for labyrinth_claim_gfp()
 * @nr: how many rooms
 * @addrs: where the rooms' addresses go, @nr entries
 * @gens: NULL, or where the claims' generations go (as labyrinth_claim_gen()
 *	sets them), @nr entries
 *
 * What a driver refilling a ring calls: the claims of @nr calls of
 * labyrinth_claim_gfp() (or labyrinth_claim_gen()), made in one call. It
 * takes this CPU's rooms in turn from its entrance, 16 at a time with
 * interrupts disabled, as far as they are free; where @gfp allows an
 * allocation and the rooms are order 0, the void rooms among them get
 * their pages first from one call to the page allocator's bulk allocator
 * (alloc_pages_bulk_node()). Where a room stops that run (owned, locked,
 * or void and without pages), one claim as labyrinth_claim_gfp()'s, with
 * its walk, takes the next room, filling a void one with @gfp as it does.
 * Once the bulk allocator has given fewer pages than asked (it keeps a
 * zone above its low watermark, where @gfp may allow reserves), the rest
 * of the call's void rooms are filled that way, one by one. Rooms are
 * claimed each in full: on return, those claimed are the caller's, the
 * others untouched.
 *
 * Context: as for labyrinth_claim_gfp().
 * Return: the number of rooms claimed, from 0 to @nr: their addresses are
 * @addrs[0] onwards (and their generations @gens[0] onwards); the entries
 * after them are not written. 0 if @lab is NULL or an ERR_PTR, or @owner
 * or @addrs is NULL with @nr > 0 (the latter two counted in the
 * labyrinth's bad_calls). Fewer than @nr when the labyrinth had no more
 * rooms to give, as labyrinth_claim() returns NULL.
 */
unsigned int labyrinth_claim_bulk(struct labyrinth *lab, const void *owner,
				  gfp_t gfp, unsigned int nr, void **addrs,
				  unsigned long *gens)
{
	unsigned long ip = _RET_IP_;
	unsigned int done = 0, want, got;
	void *addr;
	bool bulk;

	if (IS_ERR_OR_NULL(lab) || !nr)
		return 0;
	if (unlikely(!owner || !addrs)) {
		labyrinth_bad_call(lab, LAB_OP_CLAIM, owner, NULL, -EINVAL, ip);
		return 0;
	}
	gfp = labyrinth_claim_gfp_ok(lab, owner, gfp, ip);
	bulk = (gfp & __GFP_RECLAIM) && !lab->order;
	while (done < nr) {
		want = min(nr - done, LAB_BULK);
		got = labyrinth_bulk_round(lab, owner, gfp, &bulk, want,
					   addrs + done, gens ? gens + done : NULL,
					   ip);
		done += got;
		if (got == want)
			continue;
		/* the run stopped at a room: one claim, which walks */
		addr = labyrinth_do_claim(lab, owner, gfp,
					  gens ? gens + done : NULL, ip);
		if (!addr)
			break;
		addrs[done++] = addr;
	}
	return done;
}
EXPORT_SYMBOL_GPL(labyrinth_claim_bulk);

/* ---- Release, detach, owner: without the room lock ---- */

/* Poison a room being released, RELEASING: the caller's alone. */
static void labyrinth_poison(struct labyrinth *lab, struct labyrinth_room *room,
			     void *addr)
{
	memset(addr, LABYRINTH_POISON_BYTE, labyrinth_room_bytes(lab));
	room->poisoned = true;
}

/*
 * Room @i, if @lab has one, is owned and has @addr: the ticket first, so
 * that the address read is the one its claim took (pairs with the claim's
 * store-release; a fill installs the address before), not a ghost's
 * (a detached room keeps its address until it is refilled: only the
 * owned one has the pages).
 */
static __always_inline bool labyrinth_is_at(struct labyrinth *lab,
					    unsigned int i, const void *addr)
{
	unsigned long t;

	if (i >= lab->nr_rooms)
		return false;
	/* pairs with the claim's store-release: the address is its claim's */
	t = smp_load_acquire(&lab->rooms[i].ticket);
	return labyrinth_phase(t) == LAB_OWNED &&
	       READ_ONCE(lab->rooms[i].addr) == addr;
}

/*
 * The room at @addr for a release or detach not found where this CPU
 * claimed last. A CPU's run is a range of rooms, so rooms let go in the
 * order they were claimed, or the reverse - a ring's buffers, a bulk
 * claim's objects - are each beside the one let go before: the room after
 * the one this CPU found here last, the room before it, and the room
 * before the one it claimed last; each if it is owned and has @addr
 * (labyrinth_is_at()).
 * Else the address table's answer. The room found is remembered in
 * pcpu->near, a guess as pcpu->last is (a racing interrupt's write is as
 * good). NULL if @addr is no room's.
 */
static noinline struct labyrinth_room *
labyrinth_lookup_near(struct labyrinth *lab, const void *addr)
{
	struct labyrinth_room *near = this_cpu_read(lab->pcpu->near), *room;
	unsigned int last = labyrinth_room_idx(lab, this_cpu_read(lab->pcpu->last));
	unsigned int i = labyrinth_room_idx(lab, near);

	if (labyrinth_is_at(lab, i + 1, addr))
		room = &lab->rooms[i + 1];
	else if (labyrinth_is_at(lab, i - 1, addr))
		room = &lab->rooms[i - 1];
	else if (labyrinth_is_at(lab, last - 1, addr))
		room = &lab->rooms[last - 1];
	else
		room = labyrinth_lookup(lab, addr);
	if (room && room != near)
		this_cpu_write(lab->pcpu->near, room);
	return room;
}

/*
 * The room at @addr that @owner would let go in the claim @gen names (or
 * any claim, 0): the room @gen names, or else the room this CPU claimed
 * last, if it is that one and owned (the common release, on the claiming
 * CPU), else labyrinth_lookup_near()'s. NULL if @addr is no room's.
 */
static __always_inline struct labyrinth_room *
labyrinth_find(struct labyrinth *lab, const void *addr, unsigned long gen)
{
	struct labyrinth_room *room = gen ? labyrinth_gen_room(lab, gen) : NULL;

	if (!room)
		room = this_cpu_read(lab->pcpu->last);

	if (likely(labyrinth_is_at(lab, labyrinth_room_idx(lab, room), addr)))
		return room;
	return labyrinth_lookup_near(lab, addr);
}

/*
 * Release (@detach false) or detach @room, found at @addr, that @owner
 * owns, in the claim @gen names if it is not 0: check the phase, address,
 * generation and owner read after the ticket, and move the ticket on by
 * cmpxchg, which fails if anything moved in between. 0 or the documented
 * error.
 */
static __always_inline int labyrinth_let_go(struct labyrinth *lab,
					    struct labyrinth_room *room,
					    void *addr, const void *owner,
					    unsigned long gen, bool detach,
					    struct page **page)
{
	bool poison = !detach && (lab->flags & LABYRINTH_POISON);
	bool lend = detach && (lab->flags & LABYRINTH_REUSE);
	unsigned long t, to;

	if (unlikely(!room || !owner))
		return -EINVAL;
	to = lend || poison ? LAB_RELEASING : detach ? LAB_GONE : LAB_GEN;
	do {
		/* pairs with the claim's store-release: the owner is current */
		t = smp_load_acquire(&room->ticket);
		if (unlikely(labyrinth_phase(t) != LAB_OWNED))
			return -ENOENT;
		if (unlikely(READ_ONCE(room->addr) != addr))
			return -EINVAL;		/* refilled since the lookup */
		if (unlikely(gen && labyrinth_gen(lab, room, t) != gen))
			return -ENOENT;		/* that claim is over */
		if (unlikely(READ_ONCE(room->owner) != owner))
			return -EPERM;
		if (detach)	/* read before the room may go void */
			*page = READ_ONCE(room->page);
		/*
		 * Fully ordered: the new ticket before the free map's bit is
		 * read (labyrinth_note_free()), the owner's writes before.
		 */
	} while (unlikely(!try_cmpxchg(&room->ticket, &t, t - LAB_OWNED + to)));
	if (unlikely(poison)) {
		/* RELEASING: ours alone until FREE, whoever else releases */
		labyrinth_poison(lab, room, addr);
		/* the poison is seen by whoever sees the room FREE */
		smp_store_release(&room->ticket, t - LAB_OWNED + LAB_GEN);
		smp_mb();	/* FREE before the free map: see above */
	} else if (lend) {
		/*
		 * RELEASING: the room is ours alone until GONE, so nobody
		 * reads the pages' count (labyrinth_take_back()) before the
		 * room's reference is in it.
		 */
		get_page(*page);
		/* the reference is in the count for whoever sees GONE */
		smp_store_release(&room->ticket, t - LAB_OWNED + LAB_GONE);
		smp_mb();	/* GONE before the free map: see above */
	}
	/* free, or void (a claim that can may fill it): walks look at it */
	labyrinth_note_free(lab, labyrinth_room_idx(lab, room));
	return 0;
}

/* A release of @room done: what only debugfs and tracing need. */
static __always_inline void labyrinth_released(struct labyrinth *lab,
					       struct labyrinth_room *room,
					       void *addr, const void *owner)
{
	if (static_branch_unlikely(&labyrinth_collect))
		atomic_dec(&lab->owned);
	trace_labyrinth_release(lab->name, owner, addr,
				labyrinth_room_idx(lab, room));
}

/* Any other release: found by labyrinth_lookup_near(), or refused. */
static noinline int labyrinth_release_slow(struct labyrinth *lab, void *addr,
					   const void *owner, unsigned long gen,
					   unsigned long ip)
{
	struct labyrinth_room *room = labyrinth_lookup_near(lab, addr);
	int err = labyrinth_let_go(lab, room, addr, owner, gen, false, NULL);

	if (err) {
		labyrinth_bad_call(lab, LAB_OP_RELEASE, owner, addr, err, ip);
		return err;
	}
	labyrinth_count(lab, LAB_RELEASES);
	labyrinth_hint_home(lab, room, false);
	labyrinth_released(lab, room, addr, owner);
	return 0;
}

/*
 * A release, of the claim @gen names if it is not 0. The common one is of
 * the room this CPU claimed last: read as a guess (a release that moved
 * CPU reads another CPU's), which the ticket, address and owner confirm.
 */
static __always_inline int labyrinth_do_release(struct labyrinth *lab,
						void *addr, const void *owner,
						unsigned long gen,
						unsigned long ip)
{
	struct labyrinth_room *room, *last;
	unsigned long t;

	if (IS_ERR_OR_NULL(lab))
		return -EINVAL;
	/* the room the generation names, else a guess */
	last = this_cpu_read(lab->pcpu->last);
	room = gen ? labyrinth_gen_room(lab, gen) : NULL;
	if (!room)
		room = last;
	/* pairs with the claim's store-release: the owner is current */
	t = smp_load_acquire(&room->ticket);
	if (likely(labyrinth_phase(t) == LAB_OWNED &&
		   (!gen || labyrinth_gen(lab, room, t) == gen) &&
		   READ_ONCE(room->addr) == addr &&
		   READ_ONCE(room->owner) == owner &&
		   !(lab->flags & LABYRINTH_POISON) &&
		   /* fully ordered: see labyrinth_let_go() */
		   try_cmpxchg(&room->ticket, &t, t - LAB_OWNED + LAB_GEN))) {
		labyrinth_note_free(lab, labyrinth_room_idx(lab, room));
		labyrinth_count(lab, LAB_RELEASES);
		/* its home CPU's next claim may take it again */
		labyrinth_hint_home(lab, room, room == last);
		labyrinth_released(lab, room, addr, owner);
		return 0;
	}
	return labyrinth_release_slow(lab, addr, owner, gen, ip);
}

/**
 * labyrinth_release() - give a claimed room back to the labyrinth
 * @lab: the labyrinth
 * @addr: the address labyrinth_claim() returned
 * @owner: the token the room was claimed with
 *
 * The room is claimable again at once. Never waits for a room lock: the
 * ownership check and the hand-back are one cmpxchg.
 *
 * The check is of @addr and @owner alone, so what a repeated release
 * (a double release) gets depends on the token. While the room is free or
 * void, -ENOENT; once claimed again, -EPERM if that claim's token is
 * another, but if it is the same token - a token shared by many claims,
 * such as the device, and the room claimed again on the same CPU, which
 * locality makes the common case - the release frees that new claim and
 * returns 0. A token unique to each claim (the request the room serves)
 * turns that into -EPERM; labyrinth_claim_gen() with
 * labyrinth_release_gen() turns it into -ENOENT whatever the token.
 *
 * Context: Any context, NMI included. Never sleeps.
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
	return labyrinth_do_release(lab, addr, owner, 0, _RET_IP_);
}
EXPORT_SYMBOL_GPL(labyrinth_release);

/**
 * labyrinth_release_gen() - give back the room of one claim
 * @lab: the labyrinth
 * @addr: the address labyrinth_claim_gen() returned
 * @owner: the token the room was claimed with
 * @gen: the generation labyrinth_claim_gen() set when it returned @addr
 *
 * labyrinth_release() of the claim @gen names and no other: once that
 * claim is over (released or detached), a repeated release gets -ENOENT
 * and changes nothing, even when the room has been claimed again with the
 * same @owner. (The generation wraps after 2^40 claims of one room on
 * 64-bit kernels, 2^28 on 32-bit ones.)
 *
 * Context: Any context, NMI included. Never sleeps.
 * Return: 0 on success; -EINVAL as for labyrinth_release() (so also once
 * a claim that ended in a detach has its room refilled with other pages),
 * or if @gen is 0; -ENOENT if the claim @gen names is over (the room is
 * free, void, or has been claimed again since, by any owner); -EPERM if the claim is
 * current but @owner is not its token. Every refusal that names a
 * labyrinth is counted in its bad_calls.
 */
int labyrinth_release_gen(struct labyrinth *lab, void *addr, const void *owner,
			  unsigned long gen)
{
	if (unlikely(!gen) && !IS_ERR_OR_NULL(lab)) {
		/* no claim's: a failed claim_gen's, or none */
		labyrinth_bad_call(lab, LAB_OP_RELEASE, owner, addr, -EINVAL,
				   _RET_IP_);
		return -EINVAL;
	}
	return labyrinth_do_release(lab, addr, owner, gen, _RET_IP_);
}
EXPORT_SYMBOL_GPL(labyrinth_release_gen);

/* A detach, of the claim @gen names if it is not 0. */
static __always_inline struct page *
labyrinth_do_detach(struct labyrinth *lab, void *addr, const void *owner,
		    unsigned long gen, unsigned long ip)
{
	struct labyrinth_room *room;
	struct page *page;
	int err;

	if (IS_ERR_OR_NULL(lab))
		return ERR_PTR(-EINVAL);
	room = labyrinth_find(lab, addr, gen);
	err = labyrinth_let_go(lab, room, addr, owner, gen, true, &page);
	if (unlikely(err)) {
		labyrinth_bad_call(lab, LAB_OP_DETACH, owner, addr, err, ip);
		return ERR_PTR(err);
	}
	labyrinth_note_void(lab, room);
	atomic_inc(&lab->nr_void);
	/* lent pages are the room's until it lets go of them */
	if (!(lab->flags & LABYRINTH_REUSE))
		labyrinth_account(lab, LAB_PAGES_GIVEN);
	labyrinth_count(lab, LAB_DETACHES);
	if (static_branch_unlikely(&labyrinth_collect))
		atomic_dec(&lab->owned);
	trace_labyrinth_detach(lab->name, owner, addr,
			       labyrinth_room_idx(lab, room));
	labyrinth_kick(lab, false);
	return page;
}

/**
 * labyrinth_detach() - keep a claimed room's pages for good
 * @lab: the labyrinth
 * @addr: the address labyrinth_claim() returned
 * @owner: the token the room was claimed with
 *
 * The pages become the caller's, to be freed with
 * ``__free_pages(page, order)`` (or put_page()); labyrinth never wrote
 * their struct page after it allocated them. For order > 0 they are one
 * compound page, as ``alloc_pages(__GFP_COMP)`` makes. The room becomes
 * void and is refilled later, by a claim or by the deferred refill.
 *
 * With %LABYRINTH_REUSE the pages are lent: the room takes a reference to
 * them (get_page()) before it goes void, and the caller's is the one it
 * returns, to be put as above, by the caller or by whoever it hands the
 * pages to (the network stack, for a receive buffer). Once the room's
 * reference is the only one left, the next claim or deferred refill that
 * meets the room takes the pages back without the page allocator, at the
 * same address. A claim or refill that would fill the room while they are
 * still in use lets go of them instead (puts its reference; the last
 * holder frees them) and fills the room with new ones. labyrinth reads
 * the pages' reference count and changes it through get_page() and its
 * put alone, as any holder of a reference does; nothing else of the
 * struct page. The caller must not hand the pages on in a way that keeps
 * a reference for good (it would only keep the room from taking them
 * back), nor free them other than by putting its reference.
 *
 * Never waits for a room lock. Like labyrinth_release(), it checks @addr and @owner alone:
 * a repeated detach after the room was refilled and claimed again with the
 * same token detaches that claim; labyrinth_detach_gen() refuses it.
 *
 * Context: Any context, NMI included. Never sleeps.
 * Return: the first page of the room, or an ERR_PTR with the codes of
 * labyrinth_release(): -EINVAL, -EPERM or -ENOENT.
 */
struct page *labyrinth_detach(struct labyrinth *lab, void *addr,
			      const void *owner)
{
	return labyrinth_do_detach(lab, addr, owner, 0, _RET_IP_);
}
EXPORT_SYMBOL_GPL(labyrinth_detach);

/**
 * labyrinth_detach_gen() - keep the pages of one claim's room for good
 * @lab: the labyrinth
 * @addr: the address labyrinth_claim_gen() returned
 * @owner: the token the room was claimed with
 * @gen: the generation labyrinth_claim_gen() set when it returned @addr
 *
 * labyrinth_detach() of the claim @gen names and no other, as
 * labyrinth_release_gen() releases it.
 *
 * Context: Any context, NMI included. Never sleeps.
 * Return: the first page of the room, or an ERR_PTR with the codes of
 * labyrinth_release_gen(): -EINVAL, -ENOENT or -EPERM.
 */
struct page *labyrinth_detach_gen(struct labyrinth *lab, void *addr,
				  const void *owner, unsigned long gen)
{
	if (unlikely(!gen) && !IS_ERR_OR_NULL(lab)) {
		labyrinth_bad_call(lab, LAB_OP_DETACH, owner, addr, -EINVAL,
				   _RET_IP_);
		return ERR_PTR(-EINVAL);
	}
	return labyrinth_do_detach(lab, addr, owner, gen, _RET_IP_);
}
EXPORT_SYMBOL_GPL(labyrinth_detach_gen);

/**
 * labyrinth_owner() - who owns a room
 * @lab: the labyrinth
 * @addr: an address labyrinth_claim() returned
 *
 * Reads the room without its lock. A room that changes hands during the
 * call may read as free.
 *
 * Context: Any context, NMI included. Never sleeps.
 * Return: the owner token of the room at @addr, or NULL if the room is
 * free or void, @addr is not the start of one of @lab's rooms, or @lab is
 * NULL or an ERR_PTR.
 */
const void *labyrinth_owner(struct labyrinth *lab, const void *addr)
{
	struct labyrinth_room *room;
	const void *owner;
	unsigned int tries;
	unsigned long t;

	room = IS_ERR_OR_NULL(lab) ? NULL : labyrinth_lookup(lab, addr);
	for (tries = 0; room && tries < 4; tries++) {
		/* pairs with the claim's store-release, as in labyrinth_let_go() */
		t = smp_load_acquire(&room->ticket);
		if (labyrinth_phase(t) != LAB_OWNED)
			return NULL;
		owner = READ_ONCE(room->owner);
		if (READ_ONCE(room->addr) != addr)
			return NULL;
		/* the reads above, before the ticket again: as a seqcount */
		smp_rmb();
		if (READ_ONCE(room->ticket) == t)
			return owner;
	}
	return NULL;
}
EXPORT_SYMBOL_GPL(labyrinth_owner);

/* ---- Statistics ---- */

/* One counter summed over CPUs; a snapshot while others count on. */
u64 labyrinth_sum(struct labyrinth *lab, enum labyrinth_counter c)
{
	unsigned int cpu;
	u64 sum = 0;

	for_each_possible_cpu(cpu)
		/* other CPUs count on: a snapshot */
		sum += data_race(per_cpu_ptr(lab->pcpu, cpu)->count[c]);
	return sum;
}
EXPORT_SYMBOL_FOR_LABYRINTH_KUNIT(labyrinth_sum);

/* Owned rooms now, read without locks. */
unsigned int labyrinth_count_owned(struct labyrinth *lab)
{
	unsigned int i, owned = 0;

	for (i = 0; i < lab->nr_rooms; i++)
		owned += labyrinth_held(READ_ONCE(lab->rooms[i].ticket));
	return owned;
}

/*
 * Sum every CPU's counters into the zeroed @stats, and the probe-length
 * histogram into @hist if not NULL; count owned and void rooms.
 */
void labyrinth_snapshot(struct labyrinth *lab, struct labyrinth_stats *stats,
			u64 *hist)
{
	unsigned int cpu, i, b;
	unsigned long t;

	for_each_possible_cpu(cpu) {
		const struct labyrinth_pcpu *p = per_cpu_ptr(lab->pcpu, cpu);
		u64 c[LAB_NR_COUNTERS];

		for (i = 0; i < LAB_NR_COUNTERS; i++)
			/* other CPUs count on: a snapshot, racy by design */
			c[i] = data_race(p->count[i]);
		stats->claims += c[LAB_CLAIMS];
		stats->releases += c[LAB_RELEASES];
		stats->detaches += c[LAB_DETACHES];
		stats->collisions += c[LAB_COLLISIONS];
		stats->fail_full += c[LAB_FAIL_FULL];
		stats->fail_contended += c[LAB_FAIL_CONTENDED];
		stats->refills_gfp += c[LAB_REFILLS_GFP];
		stats->refills_nolock += c[LAB_REFILLS_NOLOCK];
		stats->refills_deferred += c[LAB_REFILLS_DEFERRED];
		stats->refills_reused += c[LAB_REFILLS_REUSED];
		stats->refill_failures += c[LAB_REFILL_FAILURES];
		stats->bad_calls += c[LAB_BAD_CALLS];
		stats->poison_errors += c[LAB_POISON_ERRORS];
		for (b = 0; hist && b < LAB_HIST_BUCKETS; b++)
			/* as the counters */
			hist[b] += data_race(p->hist[b]);
	}
	stats->refills = stats->refills_gfp + stats->refills_nolock +
			 stats->refills_deferred + stats->refills_reused;
	stats->nr_rooms = lab->nr_rooms;
	for (i = 0; i < lab->nr_rooms; i++) {
		t = READ_ONCE(lab->rooms[i].ticket);
		stats->rooms_owned += labyrinth_held(t);
		/* VOID, or BUSY: being filled, not yet claimable */
		stats->rooms_void += labyrinth_phase(t) == LAB_GONE ||
				     labyrinth_state(t) != LAB_ROOM_READY;
	}
}

/**
 * labyrinth_get_stats() - snapshot a labyrinth's counters
 * @lab: the labyrinth
 * @stats: filled with the snapshot; zeroed if @lab is NULL or an ERR_PTR
 *
 * Sums the per-CPU counters and counts owned and void rooms without taking
 * any lock, so claims are never held up; see struct labyrinth_stats.
 *
 * Context: Any context, NMI included. Never sleeps; O(rooms + CPUs): it
 * reads a word of every room (a few microseconds for a thousand rooms,
 * more in NMI on a large labyrinth).
 */
void labyrinth_get_stats(struct labyrinth *lab, struct labyrinth_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	if (!IS_ERR_OR_NULL(lab))
		labyrinth_snapshot(lab, stats, NULL);
}
EXPORT_SYMBOL_GPL(labyrinth_get_stats);

/*
 * Collecting starts or stops: forget the claim sites and times rooms have,
 * which claims made while not collecting do not overwrite. Under each
 * room's lock, which a claim holds while it records its site. Process
 * context.
 */
void labyrinth_forget_claims(struct labyrinth *lab)
{
	struct labyrinth_room *room;
	unsigned long flags;
	unsigned int i;

	for (i = 0; i < lab->nr_rooms; i++) {
		room = &lab->rooms[i];
		raw_spin_lock_irqsave(&room->lock, flags);
		room->claim_ip = 0;
		room->claimed_at = 0;
		raw_spin_unlock_irqrestore(&room->lock, flags);
		cond_resched();
	}
}

/* What debugfs shows of room @i, copied under its lock. */
void labyrinth_view(struct labyrinth *lab, unsigned int i,
		    struct labyrinth_room_view *v)
{
	struct labyrinth_room *room = &lab->rooms[i];
	unsigned long flags, t;

	raw_spin_lock_irqsave(&room->lock, flags);
	/* release and detach move the ticket without the lock: read it once */
	t = READ_ONCE(room->ticket);
	v->phase = labyrinth_held(t) ? LAB_OWNED : labyrinth_phase(t);
	v->state = v->phase == LAB_GONE ? LAB_ROOM_VOID : labyrinth_state(t);
	v->owner = room->owner;
	v->ip = room->claim_ip;
	v->held_ms = v->ip ?
		     jiffies_to_msecs((u32)jiffies - room->claimed_at) : 0;
	/* noted at install: a held room's struct page is its owner's */
	v->nid = v->phase == LAB_GONE ? NUMA_NO_NODE : room->nid;
	raw_spin_unlock_irqrestore(&room->lock, flags);
}

/* ---- Create and destroy ---- */

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

	atomic64_inc(&labyrinth_totals.ended);
	atomic64_add(taken, &labyrinth_totals.taken);
	atomic64_add(freed, &labyrinth_totals.freed);
	atomic64_add(given, &labyrinth_totals.given);
	if (taken != freed + given) {
		atomic64_inc(&labyrinth_totals.unbalanced);
		WARN(1, "%s: took %llu pages but freed %llu and gave away %llu\n",
		     lab->name, taken, freed, given);
	}
}

static int labyrinth_check_config(const struct labyrinth_config *cfg)
{
	if (!cfg || !cfg->nr_rooms || cfg->nr_rooms > LABYRINTH_MAX_ROOMS ||
	    cfg->order > MAX_PAGE_ORDER)
		return -EINVAL;
	if (cfg->doors > min_t(unsigned int, cfg->nr_rooms, LABYRINTH_MAX_DOORS))
		return -EINVAL;
	if (cfg->max_probe > cfg->nr_rooms)
		return -EINVAL;
	if (cfg->flags & ~(LABYRINTH_ZERO | LABYRINTH_POISON | LABYRINTH_REUSE))
		return -EINVAL;
	if (cfg->node != NUMA_NO_NODE &&
	    (cfg->node < 0 || cfg->node >= MAX_NUMNODES ||
	     !node_state(cfg->node, N_MEMORY)))
		return -EINVAL;
	return 0;
}

/* The memory of a labyrinth besides its rooms' pages; 0 or -ENOMEM. */
static int labyrinth_alloc_parts(struct labyrinth *lab,
				 const struct labyrinth_config *cfg)
{
	unsigned int W = cfg->doors ?: LABYRINTH_MAX_DOORS;
	size_t size = array_size(cfg->nr_rooms, sizeof(*lab->rooms));

	/* kmalloc aligns only powers of two to their size: rooms need lines */
	if (size < PAGE_SIZE)
		size = roundup_pow_of_two(size);
	lab->rooms = labyrinth_alloc_lab(size);
	lab->table_bits = labyrinth_table_bits(cfg->nr_rooms);
	lab->table = labyrinth_alloc_lab(sizeof(u32) * LAB_BUCKET_SLOTS <<
					 lab->table_bits);
	lab->door_to = labyrinth_alloc_lab(ALIGN(W * W, sizeof(int)) +
					   W * sizeof(int));
	lab->void_map = labyrinth_alloc_lab(BITS_TO_LONGS(cfg->nr_rooms) *
					    sizeof(unsigned long));
	lab->free_map = labyrinth_alloc_lab(BITS_TO_LONGS(cfg->nr_rooms) *
					    sizeof(unsigned long));
	lab->word_map = labyrinth_alloc_lab(BITS_TO_LONGS(BITS_TO_LONGS(cfg->nr_rooms)) *
					    sizeof(unsigned long));
	if (!lab->rooms || !lab->table || !lab->door_to || !lab->void_map ||
	    !lab->free_map || !lab->word_map)
		return -ENOMEM;
	lab->wing_node = (int *)(lab->door_to + ALIGN(W * W, sizeof(int)));
	/* the heat map, if it is small: debugfs only */
	if ((size_t)cfg->nr_rooms * W <= 65536)
		lab->hits = kvcalloc(cfg->nr_rooms * W, sizeof(*lab->hits),
				     GFP_KERNEL);
	return 0;
}

static void labyrinth_free_parts(struct labyrinth *lab)
{
	kvfree(lab->hits);
	kvfree(lab->word_map);
	kvfree(lab->free_map);
	kvfree(lab->void_map);
	kvfree(lab->door_to);
	kvfree(lab->table);
	kvfree(lab->rooms);
	free_percpu(lab->pcpu);
	kvfree(lab);
}

/* Pages for room @i, on its node, entered in the table; 0 or -ENOMEM. */
static int labyrinth_fill_new(struct labyrinth *lab, unsigned int i)
{
	struct labyrinth_room *room = &lab->rooms[i];
	struct page *page, *miss[LABYRINTH_INSTALL_TRIES];
	unsigned int tries, k;
	int err = -ENOMEM;

	raw_spin_lock_init(&room->lock);
	room->ticket = LAB_ROOM_VOID << LAB_STATE_SHIFT;
	room->nid = NUMA_NO_NODE;
	for (tries = 0; tries < LABYRINTH_INSTALL_TRIES; tries++) {
		page = labyrinth_alloc_room(lab, labyrinth_room_node(lab, i),
					    GFP_KERNEL);
		if (!page)
			break;
		labyrinth_account(lab, LAB_PAGES_TAKEN);
		if (labyrinth_install(lab, room, page)) {
			err = 0;
			break;
		}
		miss[tries] = page;	/* its bucket is full: draw again */
	}
	for (k = 0; k < tries; k++)
		labyrinth_free_pages(lab, miss[k]);
	return err;
}

static void labyrinth_free_rooms(struct labyrinth *lab, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (lab->rooms[i].page)
			labyrinth_free_pages(lab, lab->rooms[i].page);
}

/**
 * labyrinth_create() - create a labyrinth and fill its rooms
 * @cfg: its configuration; not referenced after return
 *
 * Allocates every room's pages with GFP_KERNEL on the node of its wing.
 *
 * Context: Process context; may sleep.
 * Return: the new labyrinth, ERR_PTR(-EINVAL) if @cfg is NULL or a field
 * is out of range (see struct labyrinth_config), or ERR_PTR(-ENOMEM) if an
 * allocation failed, in which case everything taken so far was given back.
 */
struct labyrinth *labyrinth_create(const struct labyrinth_config *cfg)
{
	struct labyrinth *lab;
	unsigned int i = 0;
	int err;

#if !defined(CONFIG_DEBUG_SPINLOCK) && !defined(CONFIG_DEBUG_LOCK_ALLOC)
	/* a room, one line: claims on different CPUs share none */
	BUILD_BUG_ON(sizeof(struct labyrinth_room) > 64);
#endif
	might_sleep();
	err = labyrinth_check_config(cfg);
	if (err)
		return ERR_PTR(err);
	lab = labyrinth_alloc_lab(sizeof(*lab));
	if (!lab)
		return ERR_PTR(-ENOMEM);
	lab->pcpu = labyrinth_alloc_pcpu();
	if (!lab->pcpu || labyrinth_alloc_parts(lab, cfg))
		goto err_free_parts;
	atomic64_inc(&labyrinth_totals.started);
	labyrinth_layout(lab, cfg);
	lab->refill_delay = LABYRINTH_REFILL_DELAY;
	atomic_set(&lab->nr_void, lab->nr_rooms);	/* each fill takes one */
	lab->kick = IRQ_WORK_INIT_HARD(labyrinth_kick_fn);	/* prompt on RT too */
	INIT_DELAYED_WORK(&lab->refill_work, labyrinth_refill_fn);
	init_llist_head(&lab->spare);
	for (i = 0; i < lab->nr_rooms; i++) {
		if (labyrinth_fill_new(lab, i))
			goto err_free_rooms;
		cond_resched();
	}
	mutex_lock(&labyrinth_list_lock);
	list_add_tail(&lab->list, &labyrinth_list);
	mutex_unlock(&labyrinth_list_lock);
	labyrinth_debugfs_add(lab);
	return lab;

err_free_rooms:
	labyrinth_free_rooms(lab, i);
	labyrinth_end_balance(lab);
err_free_parts:
	labyrinth_free_parts(lab);
	return ERR_PTR(-ENOMEM);
}
EXPORT_SYMBOL_GPL(labyrinth_create);

/* A room still owned at destroy: its owner, and where and when it claimed. */
static void labyrinth_report_owned(struct labyrinth *lab,
				   struct labyrinth_room *room)
{
	unsigned int i = labyrinth_room_idx(lab, room);

	if (room->claim_ip)
		pr_warn("%s: destroyed with room %u owned by %p (claimed at %pS, held %u ms); its pages are left to the owner\n",
			lab->name, i, room->owner, (void *)room->claim_ip,
			jiffies_to_msecs((u32)jiffies - room->claimed_at));
	else
		pr_warn("%s: destroyed with room %u owned by %p (claim site recorded only while debugfs labyrinth/collect is 1); its pages are left to the owner\n",
			lab->name, i, room->owner);
}

/**
 * labyrinth_destroy() - free a labyrinth and its rooms' pages
 * @lab: the labyrinth; NULL or an ERR_PTR is a no-op
 *
 * No other call on @lab may run or follow. A room still owned is reported
 * once, with its owner (and, if it was claimed while debugfs
 * labyrinth/collect is 1, which it still is, the call site of its claim
 * and how long it has been held), and its pages are left to the owner (to
 * free with __free_pages()) rather than freed under it.
 *
 * Context: Process context; may sleep (it waits for the deferred refill).
 */
void labyrinth_destroy(struct labyrinth *lab)
{
	struct labyrinth_room *room;
	unsigned long phase;
	unsigned int i;

	might_sleep();
	if (IS_ERR_OR_NULL(lab))
		return;
	labyrinth_debugfs_remove(lab);	/* waits for readers */
	mutex_lock(&labyrinth_list_lock);
	list_del(&lab->list);
	mutex_unlock(&labyrinth_list_lock);
	irq_work_sync(&lab->kick);
	cancel_delayed_work_sync(&lab->refill_work);
	labyrinth_free_spare(lab);
	for (i = 0; i < lab->nr_rooms; i++) {
		room = &lab->rooms[i];
		phase = labyrinth_phase(room->ticket);
		if (phase == LAB_OWNED || phase == LAB_RELEASING) {
			labyrinth_report_owned(lab, room);
			labyrinth_account(lab, LAB_PAGES_GIVEN);
		}
		if (phase == LAB_GONE ||
		    labyrinth_state(room->ticket) == LAB_ROOM_VOID) {
			/* the owner's pages; or lent: the room's reference goes */
			if (room->page && (lab->flags & LABYRINTH_REUSE))
				labyrinth_put_lent(lab, room->page);
			room->page = NULL;
		} else if (phase != LAB_FREE) {	/* the owner's pages */
			room->page = NULL;
		}
	}
	labyrinth_free_rooms(lab, lab->nr_rooms);
	labyrinth_end_balance(lab);
	labyrinth_free_parts(lab);
}
EXPORT_SYMBOL_GPL(labyrinth_destroy);

#ifdef LABYRINTH_KUNIT
raw_spinlock_t *labyrinth_room_lock(struct labyrinth *lab, unsigned int idx)
{
	return &lab->rooms[idx].lock;
}
EXPORT_SYMBOL_FOR_LABYRINTH_KUNIT(labyrinth_room_lock);

/* Index of the room @cpu's next claim enters at. */
unsigned int labyrinth_entrance(struct labyrinth *lab, unsigned int cpu)
{
	return labyrinth_room_idx(lab, per_cpu_ptr(lab->pcpu, cpu)->next);
}
EXPORT_SYMBOL_FOR_LABYRINTH_KUNIT(labyrinth_entrance);

/* Index of the room whose memory is at @addr, or UINT_MAX. */
unsigned int labyrinth_room_index(struct labyrinth *lab, const void *addr)
{
	struct labyrinth_room *room = labyrinth_lookup(lab, addr);

	return room ? labyrinth_room_idx(lab, room) : UINT_MAX;
}
EXPORT_SYMBOL_FOR_LABYRINTH_KUNIT(labyrinth_room_index);

/* Start @cpu's next claim at room @idx. */
void labyrinth_set_entrance(struct labyrinth *lab, unsigned int cpu,
			    unsigned int idx)
{
	per_cpu_ptr(lab->pcpu, cpu)->next = &lab->rooms[idx];
	per_cpu_ptr(lab->pcpu, cpu)->cursor = &lab->rooms[idx];
}
EXPORT_SYMBOL_FOR_LABYRINTH_KUNIT(labyrinth_set_entrance);

/*
 * At rest, rooms a claim could take that walks would not look at: FREE
 * and READY with a clear bit in the free map, or a set bit in a word
 * whose bit in the word map is clear. Always 0, or claims fail with rooms
 * free.
 */
unsigned int labyrinth_free_map_lost(struct labyrinth *lab)
{
	unsigned int i, lost = 0;

	for (i = 0; i < lab->nr_rooms; i++)
		if (labyrinth_takeable(READ_ONCE(lab->rooms[i].ticket)) &&
		    (!test_bit(i, lab->free_map) ||
		     !test_bit(i / BITS_PER_LONG, lab->word_map)))
			lost++;
	return lost;
}
EXPORT_SYMBOL_FOR_LABYRINTH_KUNIT(labyrinth_free_map_lost);

/* Every bit of the free map set: as claims at their entrances leave them. */
void labyrinth_mark_all_free(struct labyrinth *lab)
{
	bitmap_set(lab->free_map, 0, lab->nr_rooms);
	bitmap_set(lab->word_map, 0, BITS_TO_LONGS(lab->nr_rooms));
}
EXPORT_SYMBOL_FOR_LABYRINTH_KUNIT(labyrinth_mark_all_free);

/* Replace alloc_pages_nolock() for @lab (NULL: the real one again). */
void labyrinth_set_nolock_hook(struct labyrinth *lab,
			       struct page *(*hook)(struct labyrinth *lab, int nid))
{
	WRITE_ONCE(lab->nolock_hook, hook);
}
EXPORT_SYMBOL_FOR_LABYRINTH_KUNIT(labyrinth_set_nolock_hook);

/*
 * Pages every labyrinth holds: taken and neither freed nor given away, by
 * those alive and those ended. The suite's leak check.
 */
long labyrinth_pages_held(void)
{
	struct labyrinth_totals *t = &labyrinth_totals;
	struct labyrinth *lab;
	long held;

	mutex_lock(&labyrinth_list_lock);
	held = atomic64_read(&t->taken) - atomic64_read(&t->freed) -
	       atomic64_read(&t->given);
	list_for_each_entry(lab, &labyrinth_list, list)
		held += labyrinth_sum(lab, LAB_PAGES_TAKEN) -
			labyrinth_sum(lab, LAB_PAGES_FREED) -
			labyrinth_sum(lab, LAB_PAGES_GIVEN);
	mutex_unlock(&labyrinth_list_lock);
	return held;
}
EXPORT_SYMBOL_FOR_LABYRINTH_KUNIT(labyrinth_pages_held);

/* The node room @idx's pages were allocated for (that of its wing). */
int labyrinth_room_nid(struct labyrinth *lab, unsigned int idx)
{
	return labyrinth_room_node(lab, idx);
}
EXPORT_SYMBOL_FOR_LABYRINTH_KUNIT(labyrinth_room_nid);
#endif

static int __init labyrinth_init(void)
{
	return labyrinth_debugfs_init();
}

static void __exit labyrinth_exit(void)
{
	labyrinth_debugfs_exit();
}

module_init(labyrinth_init);
module_exit(labyrinth_exit);

MODULE_DESCRIPTION("Page-backed rooms claimed exclusively from any context");
MODULE_AUTHOR("The labyrinth authors");
MODULE_LICENSE("GPL");
