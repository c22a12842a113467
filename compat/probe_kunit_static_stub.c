// SPDX-License-Identifier: GPL-2.0-only
/* KUnit's static stubs (6.4) and symbol visibility helpers (6.3). */
#include <kunit/static_stub.h>
#include <kunit/visibility.h>

int labyrinth_probe(int x);
int labyrinth_probe(int x)
{
	KUNIT_STATIC_STUB_REDIRECT(labyrinth_probe, x);
	return x;
}
