// SPDX-License-Identifier: GPL-2.0-only
/* lib/objpool.c, the kernel's lockless object pool: 6.7. */
#include <linux/objpool.h>

void *labyrinth_probe(struct objpool_head *pool);
void *labyrinth_probe(struct objpool_head *pool)
{
	return objpool_pop(pool);
}
