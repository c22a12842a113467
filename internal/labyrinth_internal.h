/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internals of labyrinth.c that its KUnit suite reaches: the allocation
 * functions the suite replaces with static stubs, and accessors for state
 * a test must set up or inspect.  Not API: drivers use labyrinth.h only.
 *
 * Copyright (C) 2026 The labyrinth authors
 */
#ifndef _LABYRINTH_INTERNAL_H
#define _LABYRINTH_INTERNAL_H

#include <linux/gfp.h>
#include <linux/spinlock_types.h>
#include "../labyrinth.h"

#if IS_ENABLED(CONFIG_KUNIT)
struct labyrinth_pcpu;

void *labyrinth_alloc_lab(size_t size);
struct labyrinth_pcpu __percpu *labyrinth_alloc_pcpu(void);
struct page *labyrinth_alloc_room(struct labyrinth *lab, gfp_t gfp);

void labyrinth_set_refill_delay(struct labyrinth *lab, unsigned long delay);
bool labyrinth_refill_pending(struct labyrinth *lab);
void labyrinth_flush_refill(struct labyrinth *lab);
raw_spinlock_t *labyrinth_room_lock(struct labyrinth *lab, unsigned int idx);
unsigned int labyrinth_entrance(struct labyrinth *lab, unsigned int cpu);
unsigned int labyrinth_room_index(struct labyrinth *lab, const void *addr);
long labyrinth_pages_held(void);

struct seq_file;
int labyrinth_stats_show(struct seq_file *m, void *v);
int labyrinth_rooms_show(struct seq_file *m, void *v);
int labyrinth_map_show(struct seq_file *m, void *v);
int labyrinth_pages_show(struct seq_file *m, void *v);
#endif

#endif /* _LABYRINTH_INTERNAL_H */
