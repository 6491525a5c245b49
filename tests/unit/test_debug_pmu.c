/* debug_pmu_reset() (hv/arch/arm64/debug_pmu.c) against a model of one
 * CPU's debug and PMU registers, as a guest's EL1 reaches them without traps:
 * whatever a previous instance of the VM left there (breakpoints armed,
 * counters running and counting EL2 too, EL0 access, overflow interrupts,
 * the OS lock open), the next start finds the registers of a CPU
 * just powered on. The model refuses what the hardware would make UNDEFINED
 * (a breakpoint, watchpoint or counter the CPU does not have, OSDLR_EL1
 * without the double lock, any PMU register without a PMU) and any register
 * it does not know, so the reset touches exactly what exists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "arch/arm64/arch.h"

/* ---- the CPU's registers */
static struct cpu {
	uint64_t dfr0; /* ID_AA64DFR0_EL1: what exists */
	unsigned n;    /* PMCR_EL0.N: event counters */
	uint64_t pmcr, cnten, inten, ovs, sel, userenr, ccfiltr, ccntr;
	uint64_t evtyper[31], evcntr[31];
	uint64_t bvr[16], bcr[16], wvr[16], wcr[16];
	uint64_t oslk, osdlr, mdccint;
	unsigned writes;
} cpu;

#define PMU(c) (((c).dfr0 >> 8 & 0xf) != 0 && ((c).dfr0 >> 8 & 0xf) != 0xf)
#define BRPS(c) (((c).dfr0 >> 12 & 0xf) + 1)
#define WRPS(c) (((c).dfr0 >> 20 & 0xf) + 1)
#define DOUBLELOCK(c) (((c).dfr0 >> 36 & 0xf) != 0xf)

static uint64_t *pmu_reg(const char *name)
{
	static const struct {
		const char *name;
		size_t off;
	} regs[] = {
		{"pmuserenr_el0", offsetof(struct cpu, userenr)},
		{"pmccfiltr_el0", offsetof(struct cpu, ccfiltr)},
		{"pmccntr_el0", offsetof(struct cpu, ccntr)},
		{"pmselr_el0", offsetof(struct cpu, sel)},
	};

	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		if (!strcmp(name, regs[i].name))
			return (uint64_t *)((char *)&cpu + regs[i].off);
	return NULL;
}

/* dbg[bw][cv]rN_el1: the array and index, or NULL */
static uint64_t *debug_reg(const char *name)
{
	unsigned n;
	char kind[3];
	int len = 0;

	if (sscanf(name, "dbg%2[bwcv]r%u_el1%n", kind, &n, &len) != 2 || name[len] || n > 15)
		return NULL;
	if (!strcmp(kind, "bv") || !strcmp(kind, "bc"))
		assert_true(n < BRPS(cpu)); /* UNDEFINED: no such breakpoint */
	else
		assert_true(n < WRPS(cpu)); /* UNDEFINED: no such watchpoint */
	if (!strcmp(kind, "bv"))
		return &cpu.bvr[n];
	if (!strcmp(kind, "bc"))
		return &cpu.bcr[n];
	if (!strcmp(kind, "wv"))
		return &cpu.wvr[n];
	if (!strcmp(kind, "wc"))
		return &cpu.wcr[n];
	return NULL;
}

uint64_t host_read_sysreg(const char *name)
{
	if (!strcmp(name, "id_aa64dfr0_el1"))
		return cpu.dfr0;
	if (!strncmp(name, "pm", 2)) {
		assert_true(PMU(cpu));
		if (!strcmp(name, "pmcr_el0"))
			return cpu.pmcr | (uint64_t)cpu.n << 11;
		if (pmu_reg(name))
			return *pmu_reg(name);
	}
	fail_msg("read of %s: not modelled", name);
	return 0;
}

void host_write_sysreg(const char *name, uint64_t v)
{
	uint64_t *r;

	cpu.writes++;
	if (!strncmp(name, "pm", 2)) {
		assert_true(PMU(cpu)); /* UNDEFINED without a PMU */
		if (!strcmp(name, "pmcr_el0")) {
			cpu.pmcr = v & ~0x6UL & 0xffUL; /* P and C act, read as 0 */
			if (v & 2)
				memset(cpu.evcntr, 0, sizeof(cpu.evcntr));
			if (v & 4)
				cpu.ccntr = 0;
		} else if (!strcmp(name, "pmcntenclr_el0")) {
			cpu.cnten &= ~v;
		} else if (!strcmp(name, "pmintenclr_el1")) {
			cpu.inten &= ~v;
		} else if (!strcmp(name, "pmovsclr_el0")) {
			cpu.ovs &= ~v;
		} else if (!strcmp(name, "pmxevtyper_el0")) {
			if (cpu.sel == 31)
				cpu.ccfiltr = v;
			else if (cpu.sel < cpu.n)
				cpu.evtyper[cpu.sel] = v;
			else
				fail_msg("PMXEVTYPER_EL0 with PMSELR_EL0 %lu, N = %u",
					 (unsigned long)cpu.sel, cpu.n);
		} else if ((r = pmu_reg(name))) {
			*r = v;
		} else {
			fail_msg("write of %s: not modelled", name);
		}
		return;
	}
	if ((r = debug_reg(name))) {
		*r = v;
	} else if (!strcmp(name, "osdlr_el1")) {
		assert_true(DOUBLELOCK(cpu)); /* UNDEFINED without FEAT_DoubleLock */
		cpu.osdlr = v & 1;
	} else if (!strcmp(name, "oslar_el1")) {
		assert_int_equal(cpu.osdlr, 0); /* the double lock is open first */
		cpu.oslk = v & 1;
	} else if (!strcmp(name, "mdccint_el1")) {
		cpu.mdccint = v;
	} else {
		fail_msg("write of %s: not modelled", name);
	}
}

/* What a previous instance can leave: everything set. */
static void leftovers(void)
{
	cpu.pmcr = 0x79; /* E, D, X, DP, LC */
	cpu.cnten = cpu.inten = cpu.ovs = 0x8000003fUL;
	cpu.sel = 5;
	cpu.userenr = 0xf;         /* EL0 may read and write the counters */
	cpu.ccfiltr = 1UL << 27;   /* the cycle counter counts at EL2 too */
	cpu.ccntr = 0x123456789UL; /* how long the last instance ran */
	for (unsigned i = 0; i < 31; i++) {
		cpu.evtyper[i] = 1UL << 27 | 0x11; /* CPU cycles, at EL2 too */
		cpu.evcntr[i] = 0xdead0000 + i;
	}
	for (unsigned i = 0; i < 16; i++) {
		cpu.bvr[i] = cpu.wvr[i] = 0xffff000010080000UL + i * 8;
		cpu.bcr[i] = 0x1e7; /* enabled, EL1 and EL0 */
		cpu.wcr[i] = 0xff7;
	}
	cpu.oslk = 0;
	cpu.mdccint = 3UL << 29;
}

/* A board's CPU with n counters, brps breakpoints and wrps watchpoints, the
 * PMU version and the double lock as asked, as a previous instance left it. */
static void board(unsigned n, unsigned brps, unsigned wrps, int pmuver, int doublelock)
{
	memset(&cpu, 0, sizeof(cpu));
	cpu.dfr0 = 0x6 | (uint64_t)pmuver << 8 | (uint64_t)(brps - 1) << 12 |
		   (uint64_t)(wrps - 1) << 20 | (uint64_t)(doublelock ? 0 : 0xf) << 36;
	cpu.n = n;
	leftovers();
}

static void assert_powered_on(void)
{
	if (PMU(cpu)) {
		assert_int_equal(cpu.pmcr & 1, 0); /* nothing counts */
		assert_int_equal(cpu.pmcr & ~0x40UL, 0);
		assert_int_equal(cpu.cnten, 0);
		assert_int_equal(cpu.inten, 0);
		assert_int_equal(cpu.ovs, 0);
		assert_int_equal(cpu.userenr, 0);
		assert_int_equal(cpu.ccfiltr, 0);
		assert_int_equal(cpu.ccntr, 0);
		assert_int_equal(cpu.sel, 0);
		for (unsigned i = 0; i < cpu.n; i++) {
			assert_int_equal(cpu.evtyper[i], 0);
			assert_int_equal(cpu.evcntr[i], 0);
		}
	}
	for (unsigned i = 0; i < BRPS(cpu); i++) {
		assert_int_equal(cpu.bcr[i], 0);
		assert_int_equal(cpu.bvr[i], 0);
	}
	for (unsigned i = 0; i < WRPS(cpu); i++) {
		assert_int_equal(cpu.wcr[i], 0);
		assert_int_equal(cpu.wvr[i], 0);
	}
	assert_int_equal(cpu.oslk, 1); /* as at power-on */
	assert_int_equal(cpu.osdlr, 0);
	assert_int_equal(cpu.mdccint, 0);
}

/* The start of a vCPU on that CPU, and what it finds. */
static void reset_and_check(void)
{
	debug_pmu_reset();
	assert_powered_on();
}

/* QEMU's cortex-a57: 6 counters, 6 breakpoints, 4 watchpoints. */
static void test_cortex_a57_leftovers_go(void **state)
{
	(void)state;
	board(6, 6, 4, 1, 1);
	reset_and_check();
	/* what the CPU does not have is neither touched nor invented */
	assert_int_equal(cpu.evtyper[6], 1UL << 27 | 0x11);
	assert_int_equal(cpu.bcr[6], 0x1e7);
	assert_int_equal(cpu.wcr[4], 0xff7);
}

static void test_largest_cpu(void **state)
{
	(void)state;
	board(31, 16, 16, 6, 1); /* PMUv3p8, every counter and debug register */
	reset_and_check();
}

static void test_smallest_cpu(void **state)
{
	(void)state;
	board(0, 2, 2, 1, 1); /* PMU without event counters (cycle counter only) */
	reset_and_check();
}

/* No PMUv3 (none, or an implementation defined one): not a PMU register is
 * touched (the model fails the test on one); the debug ones still reset.
 * No double lock: OSDLR_EL1 left alone. */
static void test_no_pmu_no_double_lock(void **state)
{
	(void)state;
	board(6, 6, 4, 0, 0);
	reset_and_check();
	assert_int_equal(cpu.userenr, 0xf); /* there is no such register */
	board(6, 6, 4, 0xf, 1);
	reset_and_check();
}

/* A double lock left set is opened before the OS lock is written. */
static void test_double_lock_left_set(void **state)
{
	(void)state;
	board(6, 6, 4, 1, 1);
	cpu.osdlr = 1;
	reset_and_check();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cortex_a57_leftovers_go),
		cmocka_unit_test(test_largest_cpu),
		cmocka_unit_test(test_smallest_cpu),
		cmocka_unit_test(test_no_pmu_no_double_lock),
		cmocka_unit_test(test_double_lock_left_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
