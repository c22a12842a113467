// SPDX-License-Identifier: GPL-2.0-only
/*
 * labyrinth: where its rooms are - wings and their NUMA nodes, the doors
 * between wings, and each CPU's run of rooms and entrance. Decided once,
 * at create; read by the walk. Documentation/labyrinth.rst ("Wings, doors
 * and nodes", "Entrances") says why.
 *
 * Copyright (C) 2026 The labyrinth authors
 */

#include <linux/cpumask.h>
#include <linux/minmax.h>
#include <linux/nodemask.h>
#include <linux/percpu.h>
#include <linux/string.h>
#include <linux/topology.h>

#include "../internal/labyrinth_internal.h"

/* The wing room @i is in: the first n % W wings have one room more. */
unsigned int labyrinth_wing_of(const struct labyrinth *lab, unsigned int i)
{
	unsigned int q = lab->wing_rooms, r = lab->wing_extra;

	return i < r * (q + 1) ? i / (q + 1) : r + (i - r * (q + 1)) / q;
}

/* The room door @door of room @i opens onto (see the design note). */
unsigned int labyrinth_door_target(const struct labyrinth *lab, unsigned int i,
				   unsigned int door)
{
	unsigned int w = labyrinth_wing_of(lab, i), to;

	to = lab->door_to[w * lab->doors + door];
	return labyrinth_wing_start(lab, to) +
	       (i - labyrinth_wing_start(lab, w) + 1) % labyrinth_wing_size(lab, to);
}
EXPORT_SYMBOL_FOR_LABYRINTH_KUNIT(labyrinth_door_target);

/*
 * The nodes of the wings: @cfg's node, or (NUMA_NO_NODE) the nodes with
 * memory, each owning a run of consecutive wings.
 */
static void labyrinth_place_wings(struct labyrinth *lab, int node)
{
	unsigned int w, k, nodes = num_node_state(N_MEMORY);
	int nid;

	if (node != NUMA_NO_NODE)
		nodes = 1;
	nodes = clamp(nodes, 1U, lab->doors);
	for (w = 0; w < lab->doors; w++) {
		if (node != NUMA_NO_NODE) {
			lab->wing_node[w] = node;
			continue;
		}
		k = w * nodes / lab->doors;	/* the k-th node with memory */
		for_each_node_state(nid, N_MEMORY)
			if (!k--)
				break;
		/* a node may lose its memory meanwhile (hotplug) */
		lab->wing_node[w] = nid < MAX_NUMNODES ? nid : first_memory_node;
	}
}

/*
 * The doors of each wing: door 0 to itself (the near door), then the far
 * doors to the other wings, nearest node first, in ring order within a
 * node - on one node, far door k leads to wing w + k.
 */
static void labyrinth_place_doors(struct labyrinth *lab)
{
	unsigned int W = lab->doors, w, d, j, v;
	u8 *to;

	for (w = 0; w < W; w++) {
		to = &lab->door_to[w * W];
		for (d = 0; d < W; d++) {
			v = (w + d) % W;
			/* insertion by distance; ring order breaks ties */
			for (j = d; j > 1 &&
			     node_distance(lab->wing_node[w], lab->wing_node[v]) <
			     node_distance(lab->wing_node[w], lab->wing_node[to[j - 1]]);
			     j--)
				to[j] = to[j - 1];
			to[j] = v;
		}
	}
}

/* The labyrinth node nearest to node @nid: whose rooms @nid's CPUs use. */
static unsigned int labyrinth_home_wing(const struct labyrinth *lab, int nid)
{
	unsigned int w, best = 0;

	for (w = 1; w < lab->doors; w++)
		if (nid != NUMA_NO_NODE &&
		    node_distance(nid, lab->wing_node[w]) <
		    node_distance(nid, lab->wing_node[best]))
			best = w;
	return best;
}

/*
 * Entrances: every CPU gets a run of the rooms of its node (the wings of
 * the labyrinth node nearest to it), shared out among that node's CPUs.
 */
static void labyrinth_place_entrances(struct labyrinth *lab)
{
	unsigned int ncpus[LABYRINTH_MAX_DOORS] = {};
	unsigned int rank[LABYRINTH_MAX_DOORS] = {};
	unsigned int cpu, w, lw, r0, len, k, first, end, r;

	for (r = 0; r < lab->nr_rooms; r++)
		lab->rooms[r].home = LAB_NO_HOME;
	for_each_possible_cpu(cpu)
		ncpus[labyrinth_home_wing(lab, cpu_to_node(cpu))]++;
	for_each_possible_cpu(cpu) {
		struct labyrinth_pcpu *p = per_cpu_ptr(lab->pcpu, cpu);

		w = labyrinth_home_wing(lab, cpu_to_node(cpu));
		for (lw = w; lw + 1 < lab->doors &&
		     lab->wing_node[lw + 1] == lab->wing_node[w]; lw++)
			;
		r0 = labyrinth_wing_start(lab, w);
		len = labyrinth_wing_start(lab, lw) + labyrinth_wing_size(lab, lw) - r0;
		k = rank[w]++;
		first = r0 + div_u64((u64)k * len, ncpus[w]);
		end = r0 + div_u64((u64)(k + 1) * len, ncpus[w]);
		end = max(end, first + 1);
		p->next = &lab->rooms[first];
		p->last = &lab->rooms[first];
		p->near = &lab->rooms[first];
		p->own = &lab->rooms[first];
		p->cursor = &lab->rooms[first];
		for (r = first; r < end; r++) {
			if (lab->rooms[r].home != LAB_NO_HOME)
				continue;	/* shared: the first CPU's */
			lab->rooms[r].home = cpu;
			lab->rooms[r].after = r + 1 < end ? r + 1 : first;
		}
	}
}

/* Geometry, nodes, doors and entrances; see the design note at the top. */
void labyrinth_layout(struct labyrinth *lab, const struct labyrinth_config *cfg)
{
	unsigned int n = cfg->nr_rooms, nodes = num_node_state(N_MEMORY);

	lab->nr_rooms = n;
	lab->order = cfg->order;
	lab->doors = cfg->doors ?:
		min_t(unsigned int, n,
		      clamp_t(unsigned int, max(nr_cpu_ids, nodes), 4,
			      LABYRINTH_MAX_DOORS));
	lab->wing_rooms = n / lab->doors;
	lab->wing_extra = n % lab->doors;
	lab->limit = cfg->max_probe ?: n;
	lab->flags = cfg->flags;
	strscpy(lab->name, cfg->name ?: "labyrinth", sizeof(lab->name));
	labyrinth_place_wings(lab, cfg->node);
	labyrinth_place_doors(lab);
	labyrinth_place_entrances(lab);
}
