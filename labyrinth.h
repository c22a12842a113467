/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * labyrinth: page-backed rooms that a driver claims exclusively from any
 * context - task, softirq, hard interrupt, NMI, or under its own raw
 * spinlock with interrupts off - without sleeping, without waiting for a
 * lock and with a bounded walk.
 *
 * Copyright (C) 2026 The labyrinth authors
 */
#ifndef _LABYRINTH_H
#define _LABYRINTH_H

#include <linux/bits.h>
#include <linux/gfp_types.h>
#include <linux/numa.h>
#include <linux/types.h>

struct page;
struct labyrinth;

/**
 * DOC: labyrinth overview
 *
 * A labyrinth is a graph of rooms. Each room owns ``PAGE_SIZE << order``
 * bytes of page memory, allocated on a NUMA node when the labyrinth is
 * created. A claim enters the graph at a room of the CPU it runs on and
 * walks through the rooms' doors, skipping rooms a bitmap shows taken and
 * trylocking those it may take, until it finds a free one; it never spins
 * on a lock another claim holds, never sleeps and, after a look at its
 * entrance (and cursor), visits at most ``max_probe`` rooms (the design,
 * and what holds where: Documentation/labyrinth.rst). The room then
 * belongs to the claim's owner token until that owner releases it (the
 * room goes back to the labyrinth) or detaches it (the owner keeps the
 * pages for good and the room is refilled later; with %LABYRINTH_REUSE
 * the room lends them and takes them back once they are put). Release and
 * detach never take a lock: one cmpxchg checks the owner and hands the
 * room back.
 *
 * Which token catches what. A release or detach names a room by its
 * address and proves ownership with a token:
 *
 * - the owner token alone (labyrinth_release(), labyrinth_detach()): a
 *   wrong owner gets -EPERM and a room that is free or void -ENOENT. A
 *   repeated release after the room was claimed again with the *same*
 *   token releases that new claim: with a token shared by many claims
 *   (the device) a double release is caught only while the room stays
 *   free; with a token unique to each claim (the request) it gets -EPERM.
 * - the owner token and the claim's generation (labyrinth_claim_gen(),
 *   labyrinth_release_gen(), labyrinth_detach_gen()): a release or detach
 *   of a claim that is over gets -ENOENT, whoever holds the room now and
 *   with whatever token (-EINVAL once a detached room has been refilled:
 *   the address names no room then); a wrong owner of the current claim
 *   gets -EPERM. A generation is valid with its own address only.
 *
 * Context table ("raw lock": under the caller's raw spinlock with
 * interrupts disabled):
 *
 * ===================== ======= ======= ======= ======= ========= =========
 * call                  task    softirq hardirq NMI     raw lock  may sleep
 * ===================== ======= ======= ======= ======= ========= =========
 * labyrinth_create      yes     no      no      no      no        yes
 * labyrinth_destroy     yes     no      no      no      no        yes
 * labyrinth_claim       yes     yes     yes     yes     yes       no
 * labyrinth_claim_gfp   gfp     gfp     gfp     gfp     gfp       gfp
 * labyrinth_claim_gen   gfp     gfp     gfp     gfp     gfp       gfp
 * labyrinth_claim_bulk  gfp     gfp     gfp     gfp     gfp       gfp
 * labyrinth_release     yes     yes     yes     yes     yes       no
 * labyrinth_release_gen yes     yes     yes     yes     yes       no
 * labyrinth_detach      yes     yes     yes     yes     yes       no
 * labyrinth_detach_gen  yes     yes     yes     yes     yes       no
 * labyrinth_owner       yes     yes     yes     yes     yes       no
 * labyrinth_get_stats   yes     yes     yes     yes     yes       no
 * ===================== ======= ======= ======= ======= ========= =========
 *
 * "gfp": wherever its gfp is valid; with 0, as labyrinth_claim().
 *
 * A void room met by a claim is filled on the spot: with alloc_pages_nolock()
 * in every context on kernels that have it (6.18 and later; on PREEMPT_RT
 * not in hard irq or NMI), and with the caller's gfp where
 * labyrinth_claim_gfp() allows it; otherwise by the deferred refill, a
 * work item. In NMI, labyrinth relies on cmpxchg and this_cpu operations
 * being NMI-safe (ARCH_HAVE_NMI_SAFE_CMPXCHG, as on x86 and arm64).
 */

/* Room memory is zeroed before a claim hands it out. */
#define LABYRINTH_ZERO		BIT(0)
/* Room memory is poisoned on release and checked on the next claim. */
#define LABYRINTH_POISON	BIT(1)
/*
 * A detach lends the room's pages: the room keeps a reference to them
 * (get_page()) and takes them back, without the page allocator, once every
 * other reference is gone; see labyrinth_detach().
 */
#define LABYRINTH_REUSE		BIT(2)

/* Most doors a room may have; see labyrinth.c for what a door is. */
#define LABYRINTH_MAX_DOORS	16
/* Most rooms a labyrinth may have. */
#define LABYRINTH_MAX_ROOMS	((1U << 20) - 1)

/**
 * struct labyrinth_config - how to build a labyrinth
 * @name: shown in debug output; copied (truncated to 31 characters)
 * @nr_rooms: number of rooms, 1 to %LABYRINTH_MAX_ROOMS
 * @order: page order of each room's memory, at most MAX_PAGE_ORDER
 * @doors: doors per room, 1 to min(@nr_rooms, %LABYRINTH_MAX_DOORS);
 *	0 picks a default from the number of CPUs
 * @max_probe: most rooms one claim's walk may visit or pass, at most
 *	@nr_rooms; 0 means every room (before its walk a claim looks at its
 *	entrance and, if that is owned, its cursor and the room after it, or
 *	at the free map, which passes at most @max_probe rooms too)
 * @flags: %LABYRINTH_ZERO, %LABYRINTH_POISON, %LABYRINTH_REUSE
 * @node: the NUMA node of the rooms' pages, or %NUMA_NO_NODE to spread
 *	them over the nodes with memory, each node's CPUs entering the rooms
 *	of their own node (like page_pool's nid, 0 is node 0)
 */
struct labyrinth_config {
	const char *name;
	unsigned int nr_rooms;
	unsigned int order;
	unsigned int doors;
	unsigned int max_probe;
	unsigned int flags;
	int node;
};

/**
 * struct labyrinth_stats - a snapshot of a labyrinth's counters
 * @claims: successful claims
 * @releases: successful releases
 * @detaches: successful detaches
 * @collisions: rooms a claim's walk visited, or passed on a look at the
 *	free map, and could not take (owned, busy, void or locked); a miss at
 *	the entrance or cursor is not one
 * @fail_full: claims that returned NULL having met no busy lock
 * @fail_contended: claims that returned NULL having met a busy lock
 * @refills: void rooms filled after create: the sum of the next four
 * @refills_gfp: filled by a claim with the caller's gfp
 * @refills_nolock: filled by a claim with alloc_pages_nolock()
 * @refills_deferred: filled by the deferred refill (GFP_KERNEL)
 * @refills_reused: with %LABYRINTH_REUSE, rooms that took back the pages
 *	they lent, by a claim or the deferred refill, without the allocator
 * @refill_failures: fills that failed
 * @bad_calls: calls refused (bad arguments, wrong owner, double release, ...)
 *	and labyrinth_claim_gfp() calls whose gfp bits were dropped
 * @poison_errors: with %LABYRINTH_POISON, rooms found written after release
 * @nr_rooms: rooms in the labyrinth
 * @rooms_owned: rooms owned at the time of the snapshot
 * @rooms_void: rooms without memory (void, or being filled) at the time of the snapshot
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
	u64 refills_gfp;
	u64 refills_nolock;
	u64 refills_deferred;
	u64 refills_reused;
	u64 refill_failures;
	u64 bad_calls;
	u64 poison_errors;
	unsigned int nr_rooms, rooms_owned, rooms_void;
};

struct labyrinth *labyrinth_create(const struct labyrinth_config *cfg);
void labyrinth_destroy(struct labyrinth *lab);
void *labyrinth_claim(struct labyrinth *lab, const void *owner);
void *labyrinth_claim_gfp(struct labyrinth *lab, const void *owner, gfp_t gfp);
void *labyrinth_claim_gen(struct labyrinth *lab, const void *owner, gfp_t gfp,
			  unsigned long *gen);
unsigned int labyrinth_claim_bulk(struct labyrinth *lab, const void *owner,
				  gfp_t gfp, unsigned int nr, void **addrs,
				  unsigned long *gens);
int labyrinth_release(struct labyrinth *lab, void *addr, const void *owner);
int labyrinth_release_gen(struct labyrinth *lab, void *addr, const void *owner,
			  unsigned long gen);
struct page *labyrinth_detach(struct labyrinth *lab, void *addr,
			      const void *owner);
struct page *labyrinth_detach_gen(struct labyrinth *lab, void *addr,
				  const void *owner, unsigned long gen);
const void *labyrinth_owner(struct labyrinth *lab, const void *addr);
void labyrinth_get_stats(struct labyrinth *lab, struct labyrinth_stats *stats);

#endif /* _LABYRINTH_H */
