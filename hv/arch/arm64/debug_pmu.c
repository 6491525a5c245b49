/* The debug and PMU registers of a vCPU's CPU, reset when the vCPU starts.
 *
 * The hypervisor does not write MDCR_EL2, so it keeps its reset value, which
 * traps nothing to EL2 (TDA, TDOSA, TDRA, TDE, TPM, TPMCR are 0): a guest's
 * EL1 reads and writes the breakpoints, watchpoints, OS lock and the whole
 * PMU directly, on the physical CPU its vCPU is pinned to. None of them is
 * context-switched (MDSCR_EL1 is, in struct el1_context), so without this
 * reset a VM's next instance (after a stop, a crash or a reboot) or a vCPU
 * switched off and on again would find its predecessor's breakpoints,
 * counters, event types, enables and overflow flags. vcpu_start() calls
 * debug_pmu_reset() on the vCPU's CPU before every start, which gives each
 * start the registers of a CPU just powered on: no counter running or
 * counting, no interrupt or EL0 access enabled, every breakpoint and
 * watchpoint cleared, the OS lock set (its cold-reset value, as the first
 * instance gets it from the board; Linux clears it as it brings a CPU up).
 * Left alone: the claim tags (DBGCLAIM*_EL1, 8 bits without a function),
 * which QEMU implements only since 8.0 (Debian 12 has 7.2): an access there
 * would be UNDEFINED, here at EL2. Otherwise only registers the CPU reports
 * (ID_AA64DFR0_EL1) are touched. */
#include "arch/arm64/arch.h"
#include "arch/arm64/sysreg.h"

/* ID_AA64DFR0_EL1 fields */
#define DFR0_PMUVER(r) (((r) >> 8) & 0xf) /* 0: no PMU, 0xf: not PMUv3 */
#define DFR0_BRPS(r) ((((r) >> 12) & 0xf) + 1)
#define DFR0_WRPS(r) ((((r) >> 20) & 0xf) + 1)
#define DFR0_DOUBLELOCK(r) (((r) >> 36) & 0xf) /* 0xf: no OSDLR_EL1 */

/* PMCR_EL0 */
#define PMCR_P BIT(1)  /* write 1: every event counter to 0 */
#define PMCR_C BIT(2)  /* write 1: the cycle counter to 0 */
#define PMCR_LC BIT(6) /* the cycle counter overflows at 64 bits */
#define PMCR_N(r) (((r) >> 11) & 0x1f)

#define ALL_COUNTERS 0xffffffffUL /* event counters 0-30 and the cycle counter (31) */

static void pmu_reset(void)
{
	unsigned n = PMCR_N(read_sysreg(pmcr_el0)); /* at EL2: all the CPU has */

	/* E = 0 (nothing counts), counters zeroed, the other controls 0 */
	write_sysreg(pmcr_el0, PMCR_P | PMCR_C | PMCR_LC);
	write_sysreg(pmcntenclr_el0, ALL_COUNTERS);
	write_sysreg(pmintenclr_el1, ALL_COUNTERS);
	write_sysreg(pmovsclr_el0, ALL_COUNTERS);
	write_sysreg(pmuserenr_el0, 0);
	write_sysreg(pmccfiltr_el0, 0);
	for (unsigned i = 0; i < n; i++) {
		write_sysreg(pmselr_el0, i);
		isb();
		write_sysreg(pmxevtyper_el0, 0);
	}
	write_sysreg(pmselr_el0, 0);
}

/* Breakpoint and watchpoint n, if the CPU has it (the register numbers are
 * part of the instruction). */
#define DEBUG_PAIR_RESET(n, brps, wrps)                   \
	do {                                              \
		if ((n) < (brps)) {                       \
			write_sysreg(dbgbcr##n##_el1, 0); \
			write_sysreg(dbgbvr##n##_el1, 0); \
		}                                         \
		if ((n) < (wrps)) {                       \
			write_sysreg(dbgwcr##n##_el1, 0); \
			write_sysreg(dbgwvr##n##_el1, 0); \
		}                                         \
	} while (0)

static void debug_reset(uint64_t dfr0)
{
	unsigned b = DFR0_BRPS(dfr0), w = DFR0_WRPS(dfr0);

	if (DFR0_DOUBLELOCK(dfr0) != 0xf)
		write_sysreg(osdlr_el1, 0); /* no double lock: the registers are reachable */
	DEBUG_PAIR_RESET(0, b, w);
	DEBUG_PAIR_RESET(1, b, w);
	DEBUG_PAIR_RESET(2, b, w);
	DEBUG_PAIR_RESET(3, b, w);
	DEBUG_PAIR_RESET(4, b, w);
	DEBUG_PAIR_RESET(5, b, w);
	DEBUG_PAIR_RESET(6, b, w);
	DEBUG_PAIR_RESET(7, b, w);
	DEBUG_PAIR_RESET(8, b, w);
	DEBUG_PAIR_RESET(9, b, w);
	DEBUG_PAIR_RESET(10, b, w);
	DEBUG_PAIR_RESET(11, b, w);
	DEBUG_PAIR_RESET(12, b, w);
	DEBUG_PAIR_RESET(13, b, w);
	DEBUG_PAIR_RESET(14, b, w);
	DEBUG_PAIR_RESET(15, b, w);
	write_sysreg(mdccint_el1, 0); /* no debug communication interrupts */
	write_sysreg(oslar_el1, 1);   /* the OS lock as at power-on */
	isb();
}

void debug_pmu_reset(void)
{
	uint64_t dfr0 = read_sysreg(id_aa64dfr0_el1);
	unsigned pmu = DFR0_PMUVER(dfr0);

	if (pmu != 0 && pmu != 0xf)
		pmu_reset();
	debug_reset(dfr0);
}
