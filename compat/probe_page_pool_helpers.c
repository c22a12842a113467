// SPDX-License-Identifier: GPL-2.0-only
/* page_pool's API in <net/page_pool/helpers.h>: 6.6 (<net/page_pool.h> before). */
#include <net/page_pool/helpers.h>

struct page *labyrinth_probe(struct page_pool *pool);
struct page *labyrinth_probe(struct page_pool *pool)
{
	return page_pool_alloc_pages(pool, GFP_ATOMIC);
}
