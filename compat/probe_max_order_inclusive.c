// SPDX-License-Identifier: GPL-2.0-only
/*
 * MAX_ORDER the largest order served, not one more: 6.4 to 6.7 (6.8
 * renamed it MAX_PAGE_ORDER). Its meaning changed under the same name;
 * MAX_ORDER_NR_PAGES, the pages of the largest order, changed with it.
 */
#include <linux/build_bug.h>
#include <linux/mmzone.h>

static_assert(MAX_ORDER_NR_PAGES == 1UL << MAX_ORDER);
