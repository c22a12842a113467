// SPDX-License-Identifier: GPL-2.0-only
/*
 * labyrinth: the deferred refill - a work item, kicked from any context
 * through irq_work, that fills void rooms with GFP_KERNEL, finds them by
 * their bits in the void map, and backs off while the allocator fails;
 * and the spare pages it frees in process context. Claims fill void rooms
 * on the spot where they can (labyrinth.c); this does the rest.
 * Documentation/labyrinth.rst, "Refill".
 *
 * Copyright (C) 2026 The labyrinth authors
 */

#include <linux/bitmap.h>
#include <linux/irq_work.h>
#include <linux/llist.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "../compat/compat.h"
#include "../internal/labyrinth_internal.h"

/*
 * The irq_work behind labyrinth_kick(): schedule the deferred refill, at
 * once if a claim skipped a void room it could not fill, else after
 * refill_delay (a detach: a claim may refill the room first). While the
 * refill is failing it runs after its backoff, however often it is kicked:
 * a retry already queued is not brought forward.
 */
void labyrinth_kick_fn(struct irq_work *work)
{
	struct labyrinth *lab = container_of(work, struct labyrinth, kick);
	/*
	 * Written by the refill alone. A stale 0, read just before a failing
	 * pass sets the backoff, may bring that pass's retry forward once.
	 */
	unsigned long backoff = READ_ONCE(lab->refill_backoff);
	bool now = xchg(&lab->kick_now, 0) && !backoff;

#ifdef LABYRINTH_KUNIT
	now &= !lab->refill_held;
#endif
	WRITE_ONCE(lab->refill_queued, 1);
	if (now)
		mod_delayed_work(system_dfl_wq, &lab->refill_work, 0);
	else
		queue_delayed_work(system_dfl_wq, &lab->refill_work,
				   backoff ?: lab->refill_delay);
}

/*
 * Schedule the deferred refill from any context, NMI included. A kick
 * still pending is not queued again (irq_work_queue() refuses it with a
 * fully ordered atomic): its function has yet to read kick_now and the
 * room that went void, as irq_work clears pending before it runs it.
 *
 * A kick that need not hurry (a detach, a spare page) is not queued at
 * all while a pass is queued and has not started: that pass finds the
 * caller's void bit or spare page. Without this, every detach of a
 * stream (a network driver handing each frame's page to the stack) cost
 * a self-IPI for the irq_work, only for queue_delayed_work() to find the
 * refill queued already.
 */
void labyrinth_kick(struct labyrinth *lab, bool now)
{
	if (now) {
		if (!READ_ONCE(lab->kick_now))
			WRITE_ONCE(lab->kick_now, 1);
	} else {
		/*
		 * The caller's void bit (or spare page) before the look:
		 * pairs with the smp_mb() in labyrinth_refill_fn(), which
		 * clears refill_queued before it looks for them. Either the
		 * pass sees the bit, or we see the flag clear and kick.
		 */
		smp_mb();
		if (READ_ONCE(lab->refill_queued))
			return;
	}
	irq_work_queue(&lab->kick);
}

/*
 * Pages that could not be installed where pages may not be freed (NMI,
 * or a raw lock on PREEMPT_RT): kept on an llist and freed by the deferred
 * refill. The list node lives in the pages themselves, which are ours.
 */
void labyrinth_spare(struct labyrinth *lab, struct page *page)
{
	llist_add(page_address(page), &lab->spare);
	labyrinth_kick(lab, false);
}

void labyrinth_free_spare(struct labyrinth *lab)
{
	struct llist_node *node, *next;

	llist_for_each_safe(node, next, llist_del_all(&lab->spare))
		labyrinth_free_pages(lab, virt_to_page(node));
}

/*
 * @room went void (detached): note it for the deferred refill, which finds
 * void rooms by their bits instead of looking at every room. O(1), valid
 * in NMI (set_bit is an atomic RMW, like the cmpxchg labyrinth relies on).
 */
void labyrinth_note_void(struct labyrinth *lab, struct labyrinth_room *room)
{
	/*
	 * The ticket's move to GONE before the bit: the refill clears the
	 * bit (fully ordered) before it reads the ticket, so it sees GONE
	 * or the bit stays set. Pairs with test_and_clear_bit() in
	 * labyrinth_refill_room().
	 */
	smp_mb__before_atomic();
	set_bit(labyrinth_room_idx(lab, room), lab->void_map);
}

/* Fill the VOID @room, held locked, with GFP_KERNEL; process context. */
static bool labyrinth_fill_deferred(struct labyrinth *lab,
				    struct labyrinth_room *room,
				    unsigned long *flags)
	__must_hold(&room->lock)
{
	struct page *page = labyrinth_draw(lab, room, GFP_KERNEL, flags);
	bool ok = page && labyrinth_install(lab, room, page);

	if (page && !ok) {
		raw_spin_unlock_irqrestore(&room->lock, *flags);
		labyrinth_free_pages(lab, page);
		raw_spin_lock_irqsave(&room->lock, *flags);
	}
	labyrinth_filled(lab, room, LAB_REFILLS_DEFERRED, ok);
	return ok;
}

/*
 * The deferred refill of room @i, whose bit was found set in the void map.
 * The bit is cleared before the room is read under its lock, so a detach
 * that sets it again after moving the ticket is never missed (see
 * labyrinth_note_void()). False if the fill failed: the bit is set again
 * (labyrinth_void_again()).
 *
 * LABYRINTH_REUSE: pages the room lent are taken back if they came back.
 * If they are still in use the first time a pass finds them so, the room
 * keeps them and its bit (*@kept), for the next pass or the claim that
 * comes round to it first: a stack that holds a frame a little longer
 * than a pass's delay does not cost a page allocation and a free. The
 * next pass lets go of them and fills the room.
 */
static bool labyrinth_refill_room(struct labyrinth *lab, unsigned int i,
				  bool *kept)
{
	struct labyrinth_room *room = &lab->rooms[i];
	unsigned long flags, t;
	bool ok = true, keep = false;

	/* fully ordered: pairs with labyrinth_note_void()'s barrier */
	if (!test_and_clear_bit(i, lab->void_map))
		return true;
	raw_spin_lock_irqsave(&room->lock, flags);
	/* release and detach move the ticket without the lock */
	t = READ_ONCE(room->ticket);
	if (labyrinth_phase(t) == LAB_GONE)
		t = labyrinth_clear_gone(lab, room, t);
	/* pages it lent, if they came back; else new ones */
	if (labyrinth_state(t) == LAB_ROOM_VOID &&
	    !labyrinth_take_back(lab, room)) {
		keep = room->page && !room->lent_seen;
		if (keep)
			room->lent_seen = true;
		else
			ok = labyrinth_fill_deferred(lab, room, &flags);
	}
	raw_spin_unlock_irqrestore(&room->lock, flags);
	if (keep) {		/* for the next pass */
		set_bit(i, lab->void_map);
		*kept = true;
	}
	if (!ok)	/* and its free bit, which a walk may have cleared */
		labyrinth_void_again(lab, i);
	return ok;
}

/* The first room of the wing after room @i's (wrapping): another node's. */
static unsigned int labyrinth_next_wing(const struct labyrinth *lab,
					unsigned int i)
{
	unsigned int w = labyrinth_wing_of(lab, i);
	unsigned int next = labyrinth_wing_start(lab, w) +
			    labyrinth_wing_size(lab, w);

	return next < lab->nr_rooms ? next : 0;
}

/*
 * Fill the void rooms in process context, found by their bits; free the
 * spare pages. A pass starts where the last one failed, at the wing after
 * the failing room's, so that a node out of memory does not keep the
 * rooms of another from their refill. A pass stops at the first fill that
 * fails and retries after
 * refill_backoff: refill_delay, doubled with each pass that fails again,
 * up to 2^LABYRINTH_REFILL_BACKOFF_SHIFT times refill_delay. A pass that
 * fills every void room it finds ends the backoff. A pass that left lent
 * pages in use to the next (labyrinth_refill_room()) queues it.
 */
void labyrinth_refill_fn(struct work_struct *work)
{
	struct labyrinth *lab = container_of(to_delayed_work(work),
					     struct labyrinth, refill_work);
	unsigned int start = lab->refill_cursor, end = lab->nr_rooms;
	unsigned int i = start;
	unsigned long backoff, cap;
	bool kept = false;

	WRITE_ONCE(lab->refill_queued, 0);
	/*
	 * The flag clear before the look at the void map and the spares:
	 * pairs with the smp_mb() in labyrinth_kick().
	 */
	smp_mb();
	labyrinth_free_spare(lab);
	for (;;) {
		/* racy: a bit a detach sets meanwhile is kicked again */
		i = data_race(find_next_bit(lab->void_map, end, i));
		if (i >= end && end != start) {	/* wrap: rooms before start */
			end = start;
			i = 0;
			continue;
		}
		if (i >= end) {
			WRITE_ONCE(lab->refill_backoff, 0);
			if (kept) {	/* lent pages in use: the next pass */
				WRITE_ONCE(lab->refill_queued, 1);
				queue_delayed_work(system_dfl_wq,
						   &lab->refill_work,
						   lab->refill_delay);
			}
			return;
		}
		if (!labyrinth_refill_room(lab, i, &kept))
			break;
		i++;
		cond_resched();
	}
	lab->refill_cursor = labyrinth_next_wing(lab, i);
	/* only this work item writes it; the kick reads it */
	backoff = lab->refill_backoff;
	cap = lab->refill_delay << LABYRINTH_REFILL_BACKOFF_SHIFT;
	backoff = backoff ? min(2 * backoff, cap) : lab->refill_delay;
	WRITE_ONCE(lab->refill_backoff, backoff);
	WRITE_ONCE(lab->refill_queued, 1);
	queue_delayed_work(system_dfl_wq, &lab->refill_work, backoff);
}

#ifdef LABYRINTH_KUNIT
/* Delay of the deferred refill after a detach or failed fill. */
void labyrinth_set_refill_delay(struct labyrinth *lab, unsigned long delay)
{
	lab->refill_delay = delay;
	lab->refill_held = delay > HZ;	/* no refill at once either */
}
EXPORT_SYMBOL_FOR_LABYRINTH_KUNIT(labyrinth_set_refill_delay);

/* The delay of the deferred refill's next retry; 0 while not failing. */
unsigned long labyrinth_refill_backoff(struct labyrinth *lab)
{
	return READ_ONCE(lab->refill_backoff);
}
EXPORT_SYMBOL_FOR_LABYRINTH_KUNIT(labyrinth_refill_backoff);

/* Rooms whose bit is set in the void map. */
unsigned int labyrinth_void_marked(struct labyrinth *lab)
{
	return bitmap_weight(lab->void_map, lab->nr_rooms);
}
EXPORT_SYMBOL_FOR_LABYRINTH_KUNIT(labyrinth_void_marked);

bool labyrinth_refill_pending(struct labyrinth *lab)
{
	irq_work_sync(&lab->kick);
	return delayed_work_pending(&lab->refill_work);
}
EXPORT_SYMBOL_FOR_LABYRINTH_KUNIT(labyrinth_refill_pending);

/* Run the deferred refill now and wait for it. */
void labyrinth_flush_refill(struct labyrinth *lab)
{
	irq_work_sync(&lab->kick);
	if (!flush_delayed_work(&lab->refill_work)) {
		queue_delayed_work(system_dfl_wq, &lab->refill_work, 0);
		flush_delayed_work(&lab->refill_work);
	}
}
EXPORT_SYMBOL_FOR_LABYRINTH_KUNIT(labyrinth_flush_refill);

/* Run the deferred refill in the caller (a test, whose stubs then apply). */
void labyrinth_run_refill(struct labyrinth *lab)
{
	irq_work_sync(&lab->kick);
	cancel_delayed_work_sync(&lab->refill_work);
	labyrinth_refill_fn(&lab->refill_work.work);
}
EXPORT_SYMBOL_FOR_LABYRINTH_KUNIT(labyrinth_run_refill);
#endif
