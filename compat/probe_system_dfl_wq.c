// SPDX-License-Identifier: GPL-2.0-only
/* system_dfl_wq, the unbound system workqueue's new name: 6.17. */
#include <linux/workqueue.h>

struct workqueue_struct *labyrinth_probe(void);
struct workqueue_struct *labyrinth_probe(void)
{
	return system_dfl_wq;
}
