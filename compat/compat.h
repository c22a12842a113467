/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one place where labyrinth meets the differences between the kernels
 * it builds on (6.1 to today's mainline); compat/users.h has those of its
 * KUnit suite, the sample and the benchmark. Each difference is detected
 * by what the kernel offers, never by its version number, since
 * distributions backport:
 *  - a function, symbol or header, by a feature probe: Kbuild compiles
 *    every compat/probe_<name>.c against the target kernel and the
 *    generated labyrinth_probes.h defines LABYRINTH_HAVE_<NAME> for each
 *    that compiled (not __has_include(), which sparse does not know);
 *  - a macro, by #ifdef;
 *  - a change of meaning under the same name, by a probe that asserts
 *    the new meaning (MAX_ORDER, below).
 * Below, the newest kernel's spelling is used, and each bridge for older
 * kernels names the kernel that made the change.
 *
 * Copyright (C) 2026 The labyrinth authors
 */
#ifndef _LABYRINTH_COMPAT_H
#define _LABYRINTH_COMPAT_H

#include <linux/mmzone.h>
#include <linux/workqueue.h>

#include <labyrinth_probes.h>	/* generated: see Kbuild */

/*
 * MAX_PAGE_ORDER, the largest order the page allocator serves: 6.8. From
 * 6.4 to 6.7 MAX_ORDER was that order already (probed by what
 * MAX_ORDER_NR_PAGES says of it); before 6.4, one more.
 */
#ifndef MAX_PAGE_ORDER
#ifdef LABYRINTH_HAVE_MAX_ORDER_INCLUSIVE
#define MAX_PAGE_ORDER		MAX_ORDER
#else
#define MAX_PAGE_ORDER		(MAX_ORDER - 1)
#endif
#endif

/* system_dfl_wq: system_unbound_wq's name since 6.17. */
#ifndef LABYRINTH_HAVE_SYSTEM_DFL_WQ
#define system_dfl_wq		system_unbound_wq
#endif

/* alloc_pages_bulk_node(): 6.14; alloc_pages_bulk_array_node() before. */
#ifndef LABYRINTH_HAVE_ALLOC_PAGES_BULK_NODE
#define alloc_pages_bulk_node	alloc_pages_bulk_array_node
#endif

/*
 * alloc_pages_nolock(gfp, nid, order), valid in any context (6.18): used
 * where LABYRINTH_HAVE_ALLOC_PAGES_NOLOCK is defined, by labyrinth.c alone.
 */

#endif /* _LABYRINTH_COMPAT_H */
