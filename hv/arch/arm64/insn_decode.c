/* A64 integer load/store decoding (Arm ARM C4.1.4 "Loads and Stores",
 * encoding tables for "Load/store register (...)" and "Load/store register
 * pair (...)"). */
#include "arch/arm64/insn_decode.h"

#define FIELD(insn, lo, bits) (((insn) >> (lo)) & ((1u << (bits)) - 1))

static int64_t sign_extend(uint64_t v, unsigned bits)
{
	uint64_t m = 1UL << (bits - 1);

	v &= (1UL << bits) - 1;
	return (int64_t)((v ^ m) - m);
}

/* size:opc of a single-register access: what is loaded or stored. */
static bool single_kind(unsigned size, unsigned opc, struct mem_insn *mi)
{
	mi->size = 1u << size;
	mi->count = 1;
	switch (opc) {
	case 0: /* STR* */
		mi->load = false;
		mi->reg64 = size == 3;
		return true;
	case 1: /* LDR* (zero-extending) */
		mi->load = true;
		mi->reg64 = size == 3;
		return true;
	case 2: /* LDRS* into X; size 3 is PRFM, size 2 is LDRSW */
		if (size == 3)
			return false;
		mi->load = mi->sign_extend = mi->reg64 = true;
		return true;
	default: /* LDRS* into W; sizes 2 and 3 unallocated */
		if (size >= 2)
			return false;
		mi->load = mi->sign_extend = true;
		return true;
	}
}

/* Write-back onto a register the instruction also transfers. */
static bool wback_overlaps(const struct mem_insn *mi)
{
	if (!mi->writeback || mi->rn == INSN_REG_SP_OR_ZR)
		return false;
	return mi->rn == mi->rt || (mi->count == 2 && mi->rn == mi->rt2);
}

/* size 111 V=0 01 opc imm12 Rn Rt */
static bool decode_unsigned_imm(uint32_t insn, struct mem_insn *mi)
{
	if (!single_kind(FIELD(insn, 30, 2), FIELD(insn, 22, 2), mi))
		return false;
	mi->imm = (int64_t)FIELD(insn, 10, 12) * mi->size;
	return true;
}

/* size 111 V=0 00 opc 0 imm9 idx Rn Rt: idx 0 unscaled, 1 post-index,
 * 2 unprivileged, 3 pre-index */
static bool decode_imm9(uint32_t insn, struct mem_insn *mi)
{
	unsigned idx = FIELD(insn, 10, 2);

	if (!single_kind(FIELD(insn, 30, 2), FIELD(insn, 22, 2), mi))
		return false;
	mi->imm = sign_extend(FIELD(insn, 12, 9), 9);
	mi->writeback = idx == 1 || idx == 3;
	mi->post_index = idx == 1;
	return true;
}

/* size 111 V=0 00 opc 1 Rm option S 10 Rn Rt */
static bool decode_reg_offset(uint32_t insn, struct mem_insn *mi)
{
	unsigned option = FIELD(insn, 13, 3);

	if (!(option & 2)) /* 000, 001, 100, 101: unallocated */
		return false;
	if (!single_kind(FIELD(insn, 30, 2), FIELD(insn, 22, 2), mi))
		return false;
	mi->reg_offset = true;
	mi->rm = FIELD(insn, 16, 5);
	mi->extend = option;
	mi->shift = FIELD(insn, 12, 1) ? FIELD(insn, 30, 2) : 0;
	return true;
}

/* opc 101 V=0 mode L imm7 Rt2 Rn Rt: mode 0 no-allocate, 1 post-index,
 * 2 signed offset, 3 pre-index */
static bool decode_pair(uint32_t insn, struct mem_insn *mi)
{
	unsigned opc = FIELD(insn, 30, 2), mode = FIELD(insn, 23, 3);
	bool load = FIELD(insn, 22, 1);

	if (mode > 3 || opc == 3)
		return false;
	if (opc == 1 && (!load || mode == 0)) /* STGP (MTE); LDNP has no SW form */
		return false;
	mi->count = 2;
	mi->load = load;
	mi->size = opc == 2 ? 8 : 4;
	mi->reg64 = opc != 0;
	mi->sign_extend = opc == 1;
	mi->rt2 = FIELD(insn, 10, 5);
	mi->imm = sign_extend(FIELD(insn, 15, 7), 7) * mi->size;
	mi->writeback = mode == 1 || mode == 3;
	mi->post_index = mode == 1;
	return !(load && mi->rt == mi->rt2); /* CONSTRAINED UNPREDICTABLE */
}

bool insn_decode_mem(uint32_t insn, struct mem_insn *mi)
{
	bool ok;

	*mi = (struct mem_insn){0};
	mi->rt = FIELD(insn, 0, 5);
	mi->rn = FIELD(insn, 5, 5);
	if ((insn & 0x3f000000u) == 0x39000000u)
		ok = decode_unsigned_imm(insn, mi);
	else if ((insn & 0x3f200000u) == 0x38000000u)
		ok = decode_imm9(insn, mi);
	else if ((insn & 0x3f200c00u) == 0x38200800u)
		ok = decode_reg_offset(insn, mi);
	else if ((insn & 0x3c000000u) == 0x28000000u)
		ok = decode_pair(insn, mi);
	else
		ok = false;
	return ok && !wback_overlaps(mi);
}

static uint64_t extend_index(uint64_t v, unsigned option, unsigned shift)
{
	switch (option) {
	case 2: /* UXTW */
		v = (uint32_t)v;
		break;
	case 6: /* SXTW */
		v = (uint64_t)(int64_t)(int32_t)(uint32_t)v;
		break;
	default: /* LSL/UXTX, SXTX: all 64 bits */
		break;
	}
	return v << shift;
}

uint64_t mem_insn_address(const struct mem_insn *mi, uint64_t base, uint64_t index,
			  uint64_t *new_base)
{
	uint64_t off =
		mi->reg_offset ? extend_index(index, mi->extend, mi->shift) : (uint64_t)mi->imm;
	uint64_t next = base + off;

	*new_base = mi->writeback ? next : base;
	return mi->post_index ? base : next;
}

#define VA_BITS_COMPARED 0x00ffffffffffffffUL /* FAR's top byte may hold a tag */

bool mmio_plan_insn(const struct mem_insn *mi, const uint64_t regs[32], uint64_t far,
		    ipa_t fault_ipa, struct mmio_plan *plan)
{
	uint64_t index = mi->rm == INSN_REG_SP_OR_ZR ? 0 : regs[mi->rm];
	uint64_t va = mem_insn_address(mi, regs[mi->rn], index, &plan->new_base);
	uint64_t total = (uint64_t)mi->size * mi->count;
	uint64_t delta = (far - va) & VA_BITS_COMPARED;

	if (mi->count < 1 || mi->count > 2 || delta >= total)
		return false;
	ipa_t first = fault_ipa - delta;
	if (first > fault_ipa || first >> 12 != fault_ipa >> 12 ||
	    (first + total - 1) >> 12 != fault_ipa >> 12)
		return false;
	plan->n = mi->count;
	plan->writeback = mi->writeback;
	for (unsigned i = 0; i < mi->count; i++) {
		struct mmio_access *a = &plan->acc[i];
		unsigned reg = i ? mi->rt2 : mi->rt;
		a->addr = first + (uint64_t)i * mi->size;
		a->width = mi->size;
		a->write = !mi->load;
		a->sign_extend = mi->sign_extend;
		a->reg64 = mi->reg64;
		a->reg = reg;
		a->value = 0;
		if (a->write && reg != INSN_REG_SP_OR_ZR)
			a->value = mi->size == 8 ? regs[reg]
						 : regs[reg] & ((1UL << (mi->size * 8)) - 1);
	}
	return true;
}

void mmio_plan_apply(const struct mem_insn *mi, const struct mmio_plan *plan, uint64_t regs[32])
{
	for (unsigned i = 0; i < plan->n && i < 2; i++) {
		const struct mmio_access *a = &plan->acc[i];
		if (!a->write && a->reg != INSN_REG_SP_OR_ZR)
			regs[a->reg] = mmio_load_result(a, a->value);
	}
	if (plan->writeback)
		regs[mi->rn] = plan->new_base;
}
