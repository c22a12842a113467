/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * page_pool's API, for the benchmark: <net/page_pool/helpers.h> since 6.6,
 * <net/page_pool.h> before (see compat.h for how it is probed).
 *
 * Copyright (C) 2026 The labyrinth authors
 */
#ifndef _LABYRINTH_COMPAT_PAGE_POOL_H
#define _LABYRINTH_COMPAT_PAGE_POOL_H

#include <labyrinth_probes.h>	/* generated: see Kbuild */

#ifdef LABYRINTH_HAVE_PAGE_POOL_HELPERS
#include <net/page_pool/helpers.h>
#else
#include <net/page_pool.h>
#endif

#endif /* _LABYRINTH_COMPAT_PAGE_POOL_H */
