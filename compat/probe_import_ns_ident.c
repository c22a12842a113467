// SPDX-License-Identifier: GPL-2.0-only
/*
 * MODULE_IMPORT_NS() takes an identifier before 6.13 and a string literal
 * since: this compiles only where it takes an identifier.
 */
#include <linux/module.h>

MODULE_IMPORT_NS(LABYRINTH_PROBE_NS);
