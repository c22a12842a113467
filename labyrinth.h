/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * labyrinth: page-backed rooms that a driver claims exclusively from any
 * context except NMI - task, softirq, hard interrupt, or under its own raw
 * spinlock with interrupts off - without sleeping and with a bounded walk.
 *
 * Copyright (C) 2026 The labyrinth authors
 */
#ifndef _LABYRINTH_H
#define _LABYRINTH_H

#include <linux/bits.h>
#include <linux/types.h>

struct page;
struct labyrinth;

/**
 * DOC: labyrinth overview
 *
 * A labyrinth is a graph of rooms. Each room owns ``PAGE_SIZE << order``
 * bytes of page memory, allocated when the labyrinth is created. A claim
 * enters the graph at a room chosen by the CPU it runs on and walks through
 * the rooms' doors, trylocking each room it visits, until it finds a free
 * one; it never spins, never sleeps and visits at most ``max_probe`` rooms.
 * The room then belongs to the claim's owner token until that owner
 * releases it (the room goes back to the labyrinth) or detaches it (the
 * owner keeps the pages for good and the room is refilled later).
 *
 * Context table:
 *
 * ===================== ======= ======= ======== ================
 * call                  task    softirq hardirq  raw lock, irqs off
 * ===================== ======= ======= ======== ================
 * labyrinth_create      yes     no      no       no
 * labyrinth_destroy     yes     no      no       no
 * labyrinth_claim       yes     yes     yes      yes
 * labyrinth_release     yes     yes     yes      yes
 * labyrinth_detach      yes     yes     yes      yes
 * labyrinth_owner       yes     yes     yes      yes
 * labyrinth_get_stats   yes     yes     yes      yes
 * ===================== ======= ======= ======== ================
 *
 * No call is safe in NMI context.
 */

/* Room memory is zeroed before a claim hands it out. */
#define LABYRINTH_ZERO		BIT(0)
/* Room memory is poisoned on release and checked on the next claim. */
#define LABYRINTH_POISON	BIT(1)

/* Most doors a room may have; see labyrinth.c for what a door is. */
#define LABYRINTH_MAX_DOORS	16

/**
 * struct labyrinth_config - how to build a labyrinth
 * @name: shown in debug output; copied (truncated to 31 characters)
 * @nr_rooms: number of rooms, at least 1
 * @order: page order of each room's memory, at most MAX_PAGE_ORDER
 * @doors: doors per room, 1 to min(@nr_rooms, %LABYRINTH_MAX_DOORS);
 *	0 picks a default from the number of CPUs
 * @max_probe: most rooms one claim may visit, at most @nr_rooms; 0 means
 *	every room
 * @flags: %LABYRINTH_ZERO, %LABYRINTH_POISON
 */
struct labyrinth_config {
	const char *name;
	unsigned int nr_rooms;
	unsigned int order;
	unsigned int doors;
	unsigned int max_probe;
	unsigned int flags;
};

/**
 * struct labyrinth_stats - a snapshot of a labyrinth's counters
 * @claims: successful claims
 * @releases: successful releases
 * @detaches: successful detaches
 * @collisions: rooms a claim visited and skipped (owned, void or locked)
 * @fail_full: claims that returned NULL having met no busy lock
 * @fail_contended: claims that returned NULL having met a busy lock
 * @refills: void rooms filled after create, by a claim (GFP_ATOMIC) or by
 *	the deferred refill (GFP_KERNEL)
 * @refill_failures: such fills that failed
 * @bad_calls: calls refused: bad arguments, wrong owner, double release, ...
 * @poison_errors: with %LABYRINTH_POISON, rooms found written after release
 * @nr_rooms: rooms in the labyrinth
 * @rooms_owned: rooms owned at the time of the snapshot
 * @rooms_void: rooms without memory at the time of the snapshot
 *
 * The counters are summed over CPUs without stopping claims, so a snapshot
 * taken while claims run is consistent only to within the calls in flight.
 */
struct labyrinth_stats {
	u64 claims;
	u64 releases;
	u64 detaches;
	u64 collisions;
	u64 fail_full;
	u64 fail_contended;
	u64 refills;
	u64 refill_failures;
	u64 bad_calls;
	u64 poison_errors;
	unsigned int nr_rooms, rooms_owned, rooms_void;
};

struct labyrinth *labyrinth_create(const struct labyrinth_config *cfg);
void labyrinth_destroy(struct labyrinth *lab);
void *labyrinth_claim(struct labyrinth *lab, const void *owner);
int labyrinth_release(struct labyrinth *lab, void *addr, const void *owner);
struct page *labyrinth_detach(struct labyrinth *lab, void *addr,
			      const void *owner);
const void *labyrinth_owner(struct labyrinth *lab, const void *addr);
void labyrinth_get_stats(struct labyrinth *lab, struct labyrinth_stats *stats);

#endif /* _LABYRINTH_H */
