// SPDX-License-Identifier: GPL-2.0-only
/*
 * An NMI sent to a chosen CPU from a module: x86's __apic_send_IPI_mask()
 * (its static call exported since 6.6) and register_nmi_handler(). The
 * KUnit suite's NMI cases need both; elsewhere (UML, other arches) they
 * are skipped.
 */
#include <linux/cpumask.h>
#include <asm/apic.h>
#include <asm/nmi.h>

void labyrinth_probe(unsigned int cpu);
void labyrinth_probe(unsigned int cpu)
{
	__apic_send_IPI_mask(cpumask_of(cpu), NMI_VECTOR);
}
