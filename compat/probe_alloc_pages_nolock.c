// SPDX-License-Identifier: GPL-2.0-only
/*
 * alloc_pages_nolock(gfp, nid, order): pages from any context, NMI and raw
 * locks included; this form and its export since 6.18 (6.15's
 * try_alloc_pages() and 6.16's two-argument form are not used).
 */
#include <linux/gfp.h>

struct page *labyrinth_probe(int nid);
struct page *labyrinth_probe(int nid)
{
	return alloc_pages_nolock(0, nid, 0);
}
