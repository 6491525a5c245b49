/* Exception entry to a guest's EL1 (injected aborts, undefined
 * instructions): vector offset by source mode, ESR fields, ELR/SPSR/FAR,
 * and the PSTATE the guest resumes with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "arch/arm64/exc_inject.h"

#define VBAR 0xffff800010010800UL
#define SCTLR_RESET 0x30d00800UL /* SPAN (bit 23) set: PAN untouched */

static struct exc_entry_out entry(enum exc_kind kind, bool write, uint64_t pstate, uint64_t sctlr)
{
	struct exc_entry_in in = {.kind = kind,
				  .write = write,
				  .pc = 0x40081234,
				  .pstate = pstate,
				  .far = 0x0a000ff8,
				  .vbar = VBAR,
				  .sctlr = sctlr};
	struct exc_entry_out out;

	exc_entry_compute(&in, &out);
	return out;
}

static void test_vector_by_source_mode(void **state)
{
	(void)state;
	assert_int_equal(entry(EXC_DABT, false, PSR_MODE_EL1T, SCTLR_RESET).pc, VBAR + 0x000);
	assert_int_equal(entry(EXC_DABT, false, PSR_MODE_EL1H, SCTLR_RESET).pc, VBAR + 0x200);
	assert_int_equal(entry(EXC_DABT, false, PSR_MODE_EL0T, SCTLR_RESET).pc, VBAR + 0x400);
	assert_int_equal(entry(EXC_DABT, false, PSR_AARCH32 | 0x10, SCTLR_RESET).pc, VBAR + 0x600);
	/* VBAR_EL1 bits [10:0] are RES0: a guest's junk there is ignored */
	struct exc_entry_in in = {.kind = EXC_IABT, .pstate = PSR_MODE_EL1H, .vbar = VBAR | 0x7ff};
	struct exc_entry_out out;
	exc_entry_compute(&in, &out);
	assert_int_equal(out.pc, VBAR + 0x200);
}

static void test_data_abort_syndrome(void **state)
{
	(void)state;
	/* from EL1: EC 0x25, IL, DFSC 0x10, WnR from the access */
	struct exc_entry_out o = entry(EXC_DABT, true, PSR_MODE_EL1H, SCTLR_RESET);
	assert_int_equal(o.esr, (0x25UL << 26) | (1UL << 25) | (1UL << 6) | 0x10);
	o = entry(EXC_DABT, false, PSR_MODE_EL1T, SCTLR_RESET);
	assert_int_equal(o.esr, (0x25UL << 26) | (1UL << 25) | 0x10);
	/* from EL0 (AArch64 or AArch32): EC 0x24 */
	o = entry(EXC_DABT, true, PSR_MODE_EL0T, SCTLR_RESET);
	assert_int_equal(o.esr, (0x24UL << 26) | (1UL << 25) | (1UL << 6) | 0x10);
	o = entry(EXC_DABT, false, PSR_AARCH32 | 0x10, SCTLR_RESET);
	assert_int_equal(o.esr >> 26, 0x24);
	assert_true(o.set_far);
	assert_int_equal(o.far, 0x0a000ff8);
}

static void test_instruction_abort_and_undef(void **state)
{
	(void)state;
	struct exc_entry_out o = entry(EXC_IABT, true, PSR_MODE_EL1H, SCTLR_RESET);
	assert_int_equal(o.esr, (0x21UL << 26) | (1UL << 25) | 0x10); /* no WnR in an IABT */
	o = entry(EXC_IABT, false, PSR_MODE_EL0T, SCTLR_RESET);
	assert_int_equal(o.esr, (0x20UL << 26) | (1UL << 25) | 0x10);
	assert_true(o.set_far);
	o = entry(EXC_UNDEF, false, PSR_MODE_EL0T, SCTLR_RESET);
	assert_int_equal(o.esr, 1UL << 25);
	assert_false(o.set_far);
	assert_int_equal(o.pc, VBAR + 0x400);
}

static void test_return_state_saved(void **state)
{
	(void)state;
	uint64_t old = PSR_MODE_EL0T | (0xaUL << 28) | PSR_SS | PSR_IL | PSR_BTYPE;
	struct exc_entry_out o = entry(EXC_DABT, false, old, SCTLR_RESET);
	assert_int_equal(o.elr, 0x40081234); /* the faulting instruction, not the next */
	assert_int_equal(o.spsr, old);       /* the whole old PSTATE */
}

static void test_entry_pstate(void **state)
{
	(void)state;
	/* EL1h with D, A, I, F masked, whatever the guest had */
	struct exc_entry_out o = entry(EXC_DABT, false, PSR_MODE_EL0T, SCTLR_RESET);
	assert_int_equal(o.pstate, PSR_MODE_EL1H | PSR_D | PSR_A | PSR_I | PSR_F);
	/* flags and DIT kept; SS, IL, BTYPE, UAO, SSBS cleared */
	uint64_t old = PSR_MODE_EL1T | PSR_NZCV | PSR_DIT | PSR_SS | PSR_IL | PSR_BTYPE | PSR_UAO |
		       PSR_SSBS;
	o = entry(EXC_DABT, false, old, SCTLR_RESET);
	assert_int_equal(o.pstate,
			 PSR_MODE_EL1H | PSR_D | PSR_A | PSR_I | PSR_F | PSR_NZCV | PSR_DIT);
	/* PAN: kept when SCTLR_EL1.SPAN = 1, set when SPAN = 0 */
	o = entry(EXC_DABT, false, PSR_MODE_EL1H | PSR_PAN, SCTLR_RESET);
	assert_true(o.pstate & PSR_PAN);
	o = entry(EXC_DABT, false, PSR_MODE_EL1H, SCTLR_RESET);
	assert_false(o.pstate & PSR_PAN);
	o = entry(EXC_DABT, false, PSR_MODE_EL0T, SCTLR_RESET & ~SCTLR_SPAN);
	assert_true(o.pstate & PSR_PAN);
	/* SSBS from SCTLR_EL1.DSSBS */
	o = entry(EXC_DABT, false, PSR_MODE_EL0T, SCTLR_RESET | SCTLR_DSSBS);
	assert_true(o.pstate & PSR_SSBS);
}

/* Skipping a trapped instruction: 4 bytes in AArch64; in a 32-bit EL0, 4
 * or 2 by ESR.IL, the PC kept to 32 bits, and an IT block advanced. */
static void test_skip_insn(void **state)
{
	uint64_t pc, p;
	(void)state;
	pc = 0x40001000;
	p = guest_skip_insn(&pc, PSR_MODE_EL1H | PSR_NZCV, true);
	assert_int_equal(pc, 0x40001004);
	assert_int_equal(p, PSR_MODE_EL1H | PSR_NZCV);
	pc = 0x8000;
	guest_skip_insn(&pc, PSR_AARCH32 | 0x10, false); /* T16 */
	assert_int_equal(pc, 0x8002);
	pc = 0xfffffffe;
	guest_skip_insn(&pc, PSR_AARCH32 | 0x10, true); /* wraps in 32 bits */
	assert_int_equal(pc, 2);
	/* ITSTATE = 0b0001_1010 (ITE EQ: two more instructions): [1:0] in
	 * bits 26:25, [7:2] in bits 15:10 */
	uint64_t it = 0x1a;
	p = PSR_AARCH32 | 0x30 | (it & 3) << 25 | (it >> 2) << 10;
	pc = 0x8000;
	p = guest_skip_insn(&pc, p, false);
	it = ((p >> 25) & 3) | ((p >> 10) & 0x3f) << 2;
	assert_int_equal(it, 0x14); /* [4:0] shifted left: 0b0001_0100 */
	p = guest_skip_insn(&pc, p, false);
	it = ((p >> 25) & 3) | ((p >> 10) & 0x3f) << 2;
	assert_int_equal(it, 0x08);
	p = guest_skip_insn(&pc, p, false);
	it = ((p >> 25) & 3) | ((p >> 10) & 0x3f) << 2;
	assert_int_equal(it, 0); /* [2:0] was 0: the block is over */
	assert_int_equal(p & ~(3UL << 25 | 0x3fUL << 10), PSR_AARCH32 | 0x30);
	assert_int_equal(pc, 0x8006);
}

/* ESR_EL2 of a stage-2 abort: EC, IL, then ISS bits. */
#define S2_DABT(iss) ((uint64_t)ESR_EC_DABT_LOWER << ESR_EC_SHIFT | ESR_IL | (iss))
#define S2_IABT(iss) ((uint64_t)ESR_EC_IABT_LOWER << ESR_EC_SHIFT | ESR_IL | (iss))
#define FNV BIT(10)
#define S1PTW BIT(7)

/* HPFAR is trusted for address size, translation and access flag faults
 * and table walks, never for a permission fault (a write to a read page). */
static void test_hpfar_valid_only_where_the_arm_arm_says(void **state)
{
	(void)state;
	for (unsigned fsc = 0x00; fsc <= 0x0b; fsc++)
		assert_true(s2_abort_hpfar_valid(S2_DABT(fsc)));
	for (unsigned fsc = 0x0c; fsc <= 0x0f; fsc++) {
		assert_false(s2_abort_hpfar_valid(S2_DABT(fsc | ESR_DABT_WNR)));
		assert_false(s2_abort_hpfar_valid(S2_IABT(fsc)));
		assert_true(s2_abort_hpfar_valid(S2_DABT(fsc | S1PTW)));
	}
	assert_false(s2_abort_hpfar_valid(S2_DABT(ESR_FSC_SEA)));
	assert_false(s2_abort_hpfar_valid(S2_DABT(0x3f)));
	assert_true(s2_abort_far_valid(S2_DABT(0x0f)));
	assert_false(s2_abort_far_valid(S2_DABT(ESR_FSC_SEA | FNV)));
}

/* An instruction fetch from a read page (mapped, not executable) is not
 * logged as a fetch from an unmapped IPA. */
static void test_iabt_reason_by_fault(void **state)
{
	(void)state;
	assert_string_equal(s2_iabt_reason(S2_IABT(0x07)), "instruction fetch from unmapped IPA");
	assert_string_equal(s2_iabt_reason(S2_IABT(0x0f)),
			    "instruction fetch from a page not executable (permission fault)");
	assert_string_equal(s2_iabt_reason(S2_IABT(0x0d | S1PTW)),
			    "stage-2 fault on the guest's table walk for an instruction fetch");
	assert_string_equal(s2_iabt_reason(S2_IABT(0x09)), "stage-2 fault on instruction fetch");
	assert_string_equal(s2_iabt_reason(S2_IABT(0x00)), "stage-2 fault on instruction fetch");
}

/* The data abort handler emulates a translation fault, or a permission
 * fault on a read page: each kind at every level, and nothing else. */
static void test_fault_kinds(void **state)
{
	(void)state;
	for (unsigned fsc = 0; fsc < 0x40; fsc++) {
		assert_int_equal(s2_abort_is_translation(S2_DABT(fsc)), fsc >= 0x04 && fsc <= 0x07);
		assert_int_equal(s2_abort_is_permission(S2_DABT(fsc | ESR_DABT_WNR)),
				 fsc >= 0x0c && fsc <= 0x0f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector_by_source_mode),
		cmocka_unit_test(test_data_abort_syndrome),
		cmocka_unit_test(test_instruction_abort_and_undef),
		cmocka_unit_test(test_return_state_saved),
		cmocka_unit_test(test_entry_pstate),
		cmocka_unit_test(test_skip_insn),
		cmocka_unit_test(test_hpfar_valid_only_where_the_arm_arm_says),
		cmocka_unit_test(test_iabt_reason_by_fault),
		cmocka_unit_test(test_fault_kinds),
	};
	return cmocka_run_group_tests_name("exc_entry", tests, NULL, NULL);
}
