// SPDX-License-Identifier: GPL-2.0-only
/* alloc_pages_bulk_node(): 6.14; before, alloc_pages_bulk_array_node(). */
#include <linux/gfp.h>

unsigned long labyrinth_probe(struct page **pages);
unsigned long labyrinth_probe(struct page **pages)
{
	return alloc_pages_bulk_node(GFP_KERNEL, 0, 1, pages);
}
