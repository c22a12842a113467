// SPDX-License-Identifier: GPL-2.0-only
/* system_bh_wq: BH work items run in softirq context; 6.9. */
#include <linux/workqueue.h>

struct workqueue_struct *labyrinth_probe(void);
struct workqueue_struct *labyrinth_probe(void)
{
	return system_bh_wq;
}
