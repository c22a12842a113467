// SPDX-License-Identifier: GPL-2.0-only
/*
 * labyrinth's debugfs files, part of labyrinth.ko: what a labyrinth holds,
 * read from process context without holding up a claim.
 *
 *   labyrinth/pages        the page balance of every labyrinth ended
 *   labyrinth/collect      0 or 1: while 1, claims also record their site
 *                          and time, and count the heat map of the doors,
 *                          probe lengths and the high water of owned rooms
 *                          (a static key: off, they cost a patched-out
 *                          jump); switching it either way forgets the
 *                          sites
 *   labyrinth/<name>/stats every counter, as labyrinth_get_stats()
 *   labyrinth/<name>/rooms each room: state, owner, claim site, hold time,
 *                          node, doors
 *   labyrinth/<name>/map   the graph as plain lines (wings, rooms, doors
 *                          with their heat) for a userspace tool to draw
 *                          (scripts/draw_map.py)
 *
 * Copyright (C) 2026 The labyrinth authors
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/string.h>

#include "../compat/compat.h"
#include "../internal/labyrinth_internal.h"

static struct dentry *labyrinth_debugfs_root;

static const char *const labyrinth_state_names[] = {
	[LAB_ROOM_READY] = "free", [LAB_ROOM_VOID] = "void",
	[LAB_ROOM_BUSY] = "busy",
};

static const char *labyrinth_state_name(const struct labyrinth_room_view *v)
{
	return v->phase == LAB_OWNED ? "owned" : labyrinth_state_names[v->state];
}

LAB_VISIBLE int labyrinth_stats_show(struct seq_file *m, void *v)
{
	struct labyrinth *lab = m->private;
	u64 hist[LAB_HIST_BUCKETS] = {};
	struct labyrinth_stats s = {};
	unsigned int b, last = 0;

	labyrinth_snapshot(lab, &s, hist);
	seq_printf(m, "name %s\nnr_rooms %u\norder %u\ndoors %u\nmax_probe %u\nflags %#x\n",
		   lab->name, s.nr_rooms, lab->order, lab->doors, lab->limit,
		   lab->flags);
	seq_printf(m, "claims %llu\nreleases %llu\ndetaches %llu\ncollisions %llu\n",
		   s.claims, s.releases, s.detaches, s.collisions);
	seq_printf(m, "fail_full %llu\nfail_contended %llu\n", s.fail_full,
		   s.fail_contended);
	seq_printf(m, "refills %llu\nrefills_gfp %llu\nrefills_nolock %llu\nrefills_deferred %llu\nrefills_reused %llu\nrefill_failures %llu\n",
		   s.refills, s.refills_gfp, s.refills_nolock,
		   s.refills_deferred, s.refills_reused, s.refill_failures);
	seq_printf(m, "bad_calls %llu\npoison_errors %llu\n", s.bad_calls,
		   s.poison_errors);
	seq_printf(m, "pages_taken %llu\npages_freed %llu\npages_given %llu\n",
		   labyrinth_sum(lab, LAB_PAGES_TAKEN),
		   labyrinth_sum(lab, LAB_PAGES_FREED),
		   labyrinth_sum(lab, LAB_PAGES_GIVEN));
	seq_printf(m, "rooms_owned %u\nrooms_void %u\n", s.rooms_owned,
		   s.rooms_void);
	seq_printf(m, "collecting %d\n", static_key_enabled(&labyrinth_collect));
	/* claims may raise it meanwhile */
	seq_printf(m, "owned_high_water %d\n", data_race(lab->owned_hwm));
	for (b = 0; b < LAB_HIST_BUCKETS; b++)
		if (hist[b])
			last = b;
	seq_puts(m, "probes_per_claim");
	for (b = 0; b <= last; b++)
		seq_printf(m, " %u-%u:%llu", 1U << b, (2U << b) - 1, hist[b]);
	seq_putc(m, '\n');
	return 0;
}
EXPORT_SYMBOL_FOR_LABYRINTH_KUNIT(labyrinth_stats_show);

LAB_VISIBLE int labyrinth_rooms_show(struct seq_file *m, void *v)
{
	struct labyrinth *lab = m->private;
	struct labyrinth_room_view rv;
	unsigned int i, d;

	seq_puts(m, "# room state owner site held_ms node doors\n");
	for (i = 0; i < lab->nr_rooms; i++) {
		labyrinth_view(lab, i, &rv);
		seq_printf(m, "%u %s", i, labyrinth_state_name(&rv));
		if (rv.phase == LAB_OWNED && rv.ip)
			seq_printf(m, " %p %pS %u", rv.owner, (void *)rv.ip,
				   rv.held_ms);
		else if (rv.phase == LAB_OWNED)	/* claimed while not collecting */
			seq_printf(m, " %p - -", rv.owner);
		else
			seq_puts(m, " - - -");
		seq_printf(m, " %d", rv.nid);
		for (d = 0; d < lab->doors; d++)
			seq_printf(m, "%c%u", d ? ',' : ' ',
				   labyrinth_door_target(lab, i, d));
		seq_putc(m, '\n');
		cond_resched();
	}
	return 0;
}
EXPORT_SYMBOL_FOR_LABYRINTH_KUNIT(labyrinth_rooms_show);

/*
 * The graph, one fact a line, for scripts/draw_map.py:
 *   labyrinth NAME rooms N wings W collecting 0|1
 *   wing W node NID first I size S
 *   room I STATE SITE|-
 *   door I D TO HITS
 * HITS counts the claims that left room I through door D after a collision
 * while collecting.
 */
LAB_VISIBLE int labyrinth_map_show(struct seq_file *m, void *v)
{
	struct labyrinth *lab = m->private;
	unsigned int i, w, d, first = 0, size, hits;
	struct labyrinth_room_view rv;

	seq_printf(m, "labyrinth %s rooms %u wings %u collecting %d\n",
		   lab->name, lab->nr_rooms, lab->doors,
		   static_key_enabled(&labyrinth_collect));
	for (w = 0; w < lab->doors; w++, first += size) {
		size = lab->wing_rooms + (w < lab->wing_extra);
		seq_printf(m, "wing %u node %d first %u size %u\n", w,
			   lab->wing_node[w], first, size);
	}
	for (i = 0; i < lab->nr_rooms; i++) {
		labyrinth_view(lab, i, &rv);
		if (rv.phase == LAB_OWNED && rv.ip)
			seq_printf(m, "room %u %s %ps\n", i,
				   labyrinth_state_name(&rv), (void *)rv.ip);
		else
			seq_printf(m, "room %u %s -\n", i,
				   labyrinth_state_name(&rv));
		for (d = 0; d < lab->doors; d++) {
			/* claims count on: a snapshot */
			hits = lab->hits ? data_race(lab->hits[i * lab->doors + d]) : 0;
			seq_printf(m, "door %u %u %u %u\n", i, d,
				   labyrinth_door_target(lab, i, d), hits);
		}
		cond_resched();
	}
	return 0;
}
EXPORT_SYMBOL_FOR_LABYRINTH_KUNIT(labyrinth_map_show);

/* labyrinth/pages: the page balance of every labyrinth ended so far. */
LAB_VISIBLE int labyrinth_pages_show(struct seq_file *m, void *v)
{
	struct labyrinth_totals *t = &labyrinth_totals;

	seq_printf(m, "labyrinths_alive %lld\n",
		   atomic64_read(&t->started) - atomic64_read(&t->ended));
	seq_printf(m, "labyrinths_ended %lld\npages_taken %lld\npages_freed %lld\npages_given %lld\nunbalanced %lld\n",
		   atomic64_read(&t->ended), atomic64_read(&t->taken),
		   atomic64_read(&t->freed), atomic64_read(&t->given),
		   atomic64_read(&t->unbalanced));
	return 0;
}
EXPORT_SYMBOL_FOR_LABYRINTH_KUNIT(labyrinth_pages_show);

DEFINE_SHOW_ATTRIBUTE(labyrinth_stats);
DEFINE_SHOW_ATTRIBUTE(labyrinth_pages);
DEFINE_SHOW_ATTRIBUTE(labyrinth_rooms);
DEFINE_SHOW_ATTRIBUTE(labyrinth_map);

static int labyrinth_collect_get(void *data, u64 *val)
{
	*val = static_key_enabled(&labyrinth_collect);
	return 0;
}

/*
 * Collecting starts from the rooms owned now. A claim site is only ever
 * shown for a claim made while collecting: claims made while not
 * collecting record nothing, so stopping forgets every site (a room
 * claimed again since would show its earlier claim's), after the key is
 * off: a claim records its site under the room lock that the forgetting
 * takes. Counters, heat map and high water stay for reading.
 */
static int labyrinth_collect_set(void *data, u64 val)
{
	struct labyrinth *lab;

	if (val > 1)
		return -EINVAL;
	mutex_lock(&labyrinth_list_lock);
	if (val && !static_key_enabled(&labyrinth_collect)) {
		list_for_each_entry(lab, &labyrinth_list, list) {
			labyrinth_forget_claims(lab);
			atomic_set(&lab->owned, labyrinth_count_owned(lab));
		}
		static_branch_enable(&labyrinth_collect);
	} else if (!val && static_key_enabled(&labyrinth_collect)) {
		static_branch_disable(&labyrinth_collect);
		list_for_each_entry(lab, &labyrinth_list, list)
			labyrinth_forget_claims(lab);
	}
	mutex_unlock(&labyrinth_list_lock);
	return 0;
}

DEFINE_DEBUGFS_ATTRIBUTE(labyrinth_collect_fops, labyrinth_collect_get,
			 labyrinth_collect_set, "%llu\n");

#ifdef LABYRINTH_KUNIT
/* What writing 0 or 1 to labyrinth/collect does. */
void labyrinth_set_collect(bool on)
{
	labyrinth_collect_set(NULL, on);
}
EXPORT_SYMBOL_FOR_LABYRINTH_KUNIT(labyrinth_set_collect);
#endif

/* labyrinth/<name>[.N]/{stats,rooms,map}, readable by root alone. */
void labyrinth_debugfs_add(struct labyrinth *lab)
{
	char name[LABYRINTH_NAME_LEN + 8];
	struct dentry *dir;
	unsigned int i;

	if (IS_ERR_OR_NULL(labyrinth_debugfs_root))
		return;
	mutex_lock(&labyrinth_list_lock);	/* unique names */
	for (i = 0; i < 1000; i++) {
		if (i)
			snprintf(name, sizeof(name), "%s.%u", lab->name, i);
		else
			strscpy(name, lab->name, sizeof(name));
		strreplace(name, '/', '_');
		dir = debugfs_lookup(name, labyrinth_debugfs_root);
		if (!dir)
			break;
		dput(dir);
	}
	lab->debugfs = debugfs_create_dir(name, labyrinth_debugfs_root);
	mutex_unlock(&labyrinth_list_lock);
	debugfs_create_file("stats", 0400, lab->debugfs, lab, &labyrinth_stats_fops);
	debugfs_create_file("rooms", 0400, lab->debugfs, lab, &labyrinth_rooms_fops);
	debugfs_create_file("map", 0400, lab->debugfs, lab, &labyrinth_map_fops);
}

void labyrinth_debugfs_remove(struct labyrinth *lab)
{
	debugfs_remove(lab->debugfs);	/* waits for readers */
}

int labyrinth_debugfs_init(void)
{
	labyrinth_debugfs_root = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("pages", 0400, labyrinth_debugfs_root, NULL,
			    &labyrinth_pages_fops);
	debugfs_create_file_unsafe("collect", 0600, labyrinth_debugfs_root, NULL,
				   &labyrinth_collect_fops);
	return 0;
}

void labyrinth_debugfs_exit(void)
{
	debugfs_remove(labyrinth_debugfs_root);
	static_branch_disable(&labyrinth_collect);
}
