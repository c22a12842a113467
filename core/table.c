// SPDX-License-Identifier: GPL-2.0-only
/*
 * labyrinth: the address table - from the address of a room's pages to
 * the room, without touching the owner's struct page: buckets of 16 u32
 * entries, one cache line each (see internal/labyrinth_internal.h and
 * Documentation/labyrinth.rst, "Finding a room from its address").
 *
 * Copyright (C) 2026 The labyrinth authors
 */

#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/mm.h>

#include "../internal/labyrinth_internal.h"

/* Buckets for about two rooms each: a power of two, at least 2. */
unsigned int labyrinth_table_bits(unsigned int nr_rooms)
{
	return max(1, ilog2(roundup_pow_of_two(nr_rooms)) - 1);
}

/* The bucket of @addr and its 12-bit fingerprint. */
static u32 *labyrinth_bucket(const struct labyrinth *lab, const void *addr,
			     u32 *fp)
{
	u64 h = (u64)((unsigned long)addr >> PAGE_SHIFT) * GOLDEN_RATIO_64;

	*fp = (h >> (64 - lab->table_bits - 12)) & 0xfff;
	return &lab->table[(h >> (64 - lab->table_bits)) * LAB_BUCKET_SLOTS];
}

/* A room with pages of its own, not a detached room's memory of them. */
static bool labyrinth_room_live(const struct labyrinth_room *room)
{
	unsigned long t = READ_ONCE(room->ticket);

	return labyrinth_state(t) == LAB_ROOM_READY &&
	       labyrinth_phase(t) != LAB_GONE;
}

/*
 * The room whose pages start at @addr, or NULL. Reads the table and the
 * rooms without a lock: a room's entry and address change only while it
 * is void, so the room an owner holds is always found. A detached room
 * keeps its address until it is refilled, and its pages may meanwhile
 * come back to another room: the room that has them wins. Such a ghost
 * may be refilled between the reads of its address and its state (an
 * interrupt that fills it, say), so the address is read again after the
 * state: a ghost never passes for the room that has the pages.
 */
struct labyrinth_room *labyrinth_lookup(struct labyrinth *lab,
					const void *addr)
{
	struct labyrinth_room *room, *ghost = NULL;
	unsigned int i;
	bool live;
	u32 fp, v, *b;

	if (!addr || offset_in_page(addr))
		return NULL;
	b = labyrinth_bucket(lab, addr, &fp);
	for (i = 0; i < LAB_BUCKET_SLOTS; i++) {
		v = READ_ONCE(b[i]);
		if (!v || v >> LAB_FP_SHIFT != fp)
			continue;
		room = &lab->rooms[(v & LAB_IDX_MASK) - 1];
		if (READ_ONCE(room->addr) != addr)
			continue;
		smp_rmb();	/* address, state, address: see labyrinth_install() */
		live = labyrinth_room_live(room);
		smp_rmb();	/* the state, then the address again */
		if (READ_ONCE(room->addr) != addr)
			continue;	/* refilled meanwhile: not @addr's room */
		if (live)
			return room;
		ghost = room;
	}
	return ghost;
}

/* Enter @room's new address @addr in the table; false if its bucket is full. */
bool labyrinth_table_add(struct labyrinth *lab, struct labyrinth_room *room,
			 void *addr)
{
	u32 fp, v, *b = labyrinth_bucket(lab, addr, &fp);
	unsigned int i;

	v = fp << LAB_FP_SHIFT | (labyrinth_room_idx(lab, room) + 1);
	for (i = 0; i < LAB_BUCKET_SLOTS; i++) {
		/* other rooms' fills race for empty entries */
		if (!READ_ONCE(b[i]) && !cmpxchg(&b[i], 0, v)) {
			room->slot = b + i - lab->table;
			return true;
		}
	}
	return false;
}
