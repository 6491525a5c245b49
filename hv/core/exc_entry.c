/* Exception entry to AArch64 EL1, computed without touching the CPU (Arm
 * ARM D1.10 "Exception entry"; the peers' inject_abt64 do the same). */
#include "arch/arm64/exc_inject.h"

static uint64_t vector_offset(uint64_t pstate)
{
	if (pstate & PSR_AARCH32)
		return VEC_LOWER_A32;
	switch (pstate & PSR_MODE_MASK) {
	case PSR_MODE_EL1T:
		return VEC_CUR_SP0;
	case PSR_MODE_EL1H:
		return VEC_CUR_SPX;
	default: /* EL0t */
		return VEC_LOWER_A64;
	}
}

static bool from_el1(uint64_t pstate)
{
	uint64_t m = pstate & PSR_MODE_MASK;

	return !(pstate & PSR_AARCH32) && (m == PSR_MODE_EL1T || m == PSR_MODE_EL1H);
}

static uint64_t syndrome(const struct exc_entry_in *in)
{
	bool same = from_el1(in->pstate);

	switch (in->kind) {
	case EXC_DABT:
		return (uint64_t)(same ? ESR_EC_DABT_SAME : ESR_EC_DABT_LOWER) << ESR_EC_SHIFT |
		       ESR_IL | (in->write ? ESR_DABT_WNR : 0) | ESR_FSC_SEA;
	case EXC_IABT:
		return (uint64_t)(same ? ESR_EC_IABT_SAME : ESR_EC_IABT_LOWER) << ESR_EC_SHIFT |
		       ESR_IL | ESR_FSC_SEA;
	default:
		return (uint64_t)ESR_EC_UNKNOWN << ESR_EC_SHIFT | ESR_IL;
	}
}

/* PSTATE after entry: EL1h, DAIF masked, NZCV and DIT kept, PAN set when
 * SCTLR_EL1.SPAN is 0 (else kept), SSBS from SCTLR_EL1.DSSBS, and SS, IL,
 * UAO, BTYPE cleared. */
static uint64_t entry_pstate(uint64_t old, uint64_t sctlr)
{
	uint64_t p = PSR_MODE_EL1H | PSR_D | PSR_A | PSR_I | PSR_F;

	/* NZCV, PAN and DIT sit at the same bits in an AArch32 SPSR_ELx */
	p |= old & (PSR_NZCV | PSR_PAN | PSR_DIT);
	if (!(sctlr & SCTLR_SPAN))
		p |= PSR_PAN;
	if (sctlr & SCTLR_DSSBS)
		p |= PSR_SSBS;
	return p;
}

void exc_entry_compute(const struct exc_entry_in *in, struct exc_entry_out *out)
{
	out->esr = syndrome(in);
	out->set_far = in->kind != EXC_UNDEF;
	out->far = out->set_far ? in->far : 0;
	out->elr = in->pc;
	out->spsr = in->pstate;
	out->pc = (in->vbar & ~0x7ffUL) + vector_offset(in->pstate);
	out->pstate = entry_pstate(in->pstate, in->sctlr);
}

#define PSR_IT_LO_SHIFT 25 /* ITSTATE[1:0] */
#define PSR_IT_HI_SHIFT 10 /* ITSTATE[7:2] */
#define PSR_IT_MASK (3UL << PSR_IT_LO_SHIFT | 0x3fUL << PSR_IT_HI_SHIFT)

static uint64_t it_advance(uint64_t pstate)
{
	unsigned it = ((pstate >> PSR_IT_LO_SHIFT) & 3) | ((pstate >> PSR_IT_HI_SHIFT) & 0x3f) << 2;

	if (!(it & 7))
		it = 0; /* the block ends */
	else
		it = (it & 0xe0) | ((it << 1) & 0x1f);
	pstate &= ~PSR_IT_MASK;
	return pstate | (uint64_t)(it & 3) << PSR_IT_LO_SHIFT |
	       (uint64_t)(it >> 2) << PSR_IT_HI_SHIFT;
}

uint64_t guest_skip_insn(uint64_t *pc, uint64_t pstate, bool il32)
{
	if (!(pstate & PSR_AARCH32)) {
		*pc += 4;
		return pstate;
	}
	*pc = (uint32_t)(*pc + (il32 ? 4 : 2)); /* an AArch32 PC is 32 bits */
	return it_advance(pstate);
}

#define ISS_FNV BIT(10)  /* FAR not valid */
#define ISS_S1PTW BIT(7) /* stage-2 fault on the guest's stage-1 table walk */
#define ISS_FSC(esr) ((esr)&0x3f)
#define FSC_ADDR_SIZE_L0 0x00   /* ..0x03 */
#define FSC_TRANSLATION_L0 0x04 /* ..0x07 */
#define FSC_ACCESS_FLAG_L0 0x08 /* ..0x0b */
#define FSC_PERMISSION_L0 0x0c  /* ..0x0f */

static bool fsc_in(uint64_t esr, unsigned level0)
{
	return ISS_FSC(esr) - level0 < 4;
}

bool s2_abort_hpfar_valid(uint64_t esr)
{
	return (esr & ISS_S1PTW) || fsc_in(esr, FSC_ADDR_SIZE_L0) ||
	       fsc_in(esr, FSC_TRANSLATION_L0) || fsc_in(esr, FSC_ACCESS_FLAG_L0);
}

bool s2_abort_is_translation(uint64_t esr)
{
	return fsc_in(esr, FSC_TRANSLATION_L0);
}

bool s2_abort_is_permission(uint64_t esr)
{
	return fsc_in(esr, FSC_PERMISSION_L0);
}

bool s2_abort_far_valid(uint64_t esr)
{
	return !(esr & ISS_FNV);
}

const char *s2_iabt_reason(uint64_t esr)
{
	if (esr & ISS_S1PTW)
		return "stage-2 fault on the guest's table walk for an instruction fetch";
	if (s2_abort_is_translation(esr))
		return "instruction fetch from unmapped IPA";
	if (s2_abort_is_permission(esr))
		return "instruction fetch from a page not executable (permission fault)";
	return "stage-2 fault on instruction fetch";
}
