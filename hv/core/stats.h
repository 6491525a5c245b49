/* Per-vCPU counters. Each vCPU's are written only by its own CPU, so no
 * locks; readers sum them and accept a slightly stale view. */
#ifndef STATS_H
#define STATS_H
#include "lib/types.h"

enum trap_cause {
	TRAP_DABT,   /* stage-2 data abort: MMIO emulation */
	TRAP_HVC,    /* hypercall, incl. PSCI */
	TRAP_SMC,    /* SMC (PSCI by SMC) */
	TRAP_WFI,    /* WFI/WFE: not trapped (run.c), kept in the ABI; stays 0 */
	TRAP_SYSREG, /* trapped system register (e.g. ICC_SGI1R_EL1) */
	TRAP_IRQ,    /* physical interrupt while in the guest */
	TRAP_OTHER,
	TRAP_NR
};

struct vcpu_stats {
	uint64_t traps[TRAP_NR];
	uint64_t mmio_reads, mmio_writes;
	uint64_t hypercalls;
	uint64_t irqs_injected;
	uint64_t aborts_injected; /* external aborts for unmapped/refused accesses */
	uint64_t undefs_injected; /* undefined instruction for traps not emulated */
	uint64_t mmio_decoded;    /* MMIO without syndrome, emulated from the insn */
	uint64_t guest_ticks;     /* CNTPCT ticks spent in the guest */
	uint64_t entered_at;      /* CNTPCT at the last guest entry */
};

extern const char *const trap_cause_names[TRAP_NR];
/* Ctrl-] s and l: per-vCPU counters of every VM, and the VMs' states. */
void stats_print_all(void);
void vm_list_print(void);
#endif
