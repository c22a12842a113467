// SPDX-License-Identifier: GPL-2.0-only
/*
 * tbprof - a qemu TCG plugin for `make profile`: how many times each
 * translation block ran. At exit it writes one line per block that ran,
 * "PC INSNS COUNT" (hex guest address, instructions in the block, runs),
 * to the file its "out=" argument names. scripts/profile_report.py turns
 * them into instructions per function. Under -icount one vCPU runs at a
 * time, so the inline counters need no atomics; with more threads they
 * would only lose counts.
 *
 * Built against the qemu-plugin.h of the qemu that loads it (plugin API
 * version 1, qemu 7.2: Debian 12's).
 *
 * Copyright (C) 2026 The labyrinth authors
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

struct tb_count {
	uint64_t pc;
	uint64_t runs;		/* the inline counter */
	uint32_t insns;
};

/* chunks never move: the inline counters point into them */
#define CHUNK	65536
#define CHUNKS	4096
static struct tb_count *chunks[CHUNKS];
static size_t nr_blocks;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const char *out_path = "tbprof.out";

static void tb_translated(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	struct tb_count *c = NULL;

	pthread_mutex_lock(&lock);
	if (nr_blocks / CHUNK < CHUNKS) {
		if (nr_blocks % CHUNK == 0)
			chunks[nr_blocks / CHUNK] = calloc(CHUNK, sizeof(*c));
		if (chunks[nr_blocks / CHUNK]) {
			c = &chunks[nr_blocks / CHUNK][nr_blocks % CHUNK];
			nr_blocks++;
		}
	}
	pthread_mutex_unlock(&lock);
	if (!c)
		return;		/* out of room: that block goes uncounted */
	c->pc = qemu_plugin_tb_vaddr(tb);
	c->insns = qemu_plugin_tb_n_insns(tb);
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
						 &c->runs, 1);
}

static void at_exit(qemu_plugin_id_t id, void *data)
{
	FILE *f = fopen(out_path, "w");
	size_t i;

	if (!f) {
		perror(out_path);
		return;
	}
	for (i = 0; i < nr_blocks; i++) {
		struct tb_count *c = &chunks[i / CHUNK][i % CHUNK];

		if (c->runs)
			fprintf(f, "%llx %u %llu\n", (unsigned long long)c->pc,
				c->insns, (unsigned long long)c->runs);
	}
	fclose(f);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
					   const qemu_info_t *info,
					   int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++)
		if (!strncmp(argv[i], "out=", 4))
			out_path = strdup(argv[i] + 4);
	qemu_plugin_register_vcpu_tb_trans_cb(id, tb_translated);
	qemu_plugin_register_atexit_cb(id, at_exit, NULL);
	return 0;
}
