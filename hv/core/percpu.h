/* Per-physical-CPU state, found through TPIDR_EL2. */
#ifndef PERCPU_H
#define PERCPU_H
#include "arch/arm64/sysreg.h"
#include "lib/types.h"

#define MAX_PCPUS 8

struct vcpu;

/* Layout shared with boot.S (asm-offsets.h): 64 bytes, stack_top at 32. */
struct pcpu {
	unsigned id;
	uint64_t mpidr;
	struct vcpu *vcpu; /* the vCPU pinned here, NULL if idle */
	volatile bool online;
	uint64_t stack_top; /* EL2 stack used while handling a trap */
	uint64_t pad[3];
} __attribute__((aligned(64)));

extern struct pcpu pcpus[MAX_PCPUS];
extern unsigned nr_pcpus;

#ifdef HOST_UNIT_TEST
struct pcpu *this_cpu(void); /* provided by the test */
#else
static inline struct pcpu *this_cpu(void)
{
	return (struct pcpu *)read_sysreg(tpidr_el2);
}
#endif
#endif
