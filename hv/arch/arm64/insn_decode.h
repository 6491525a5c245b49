/* Decoding of the A64 integer load/store instructions a guest may aim at
 * an emulated device without a syndrome (ESR ISV = 0): write-back forms,
 * pairs, register offsets. Pure code: unit-tested on the host. */
#ifndef INSN_DECODE_H
#define INSN_DECODE_H
#include "core/mmio.h"
#include "lib/types.h"

#define INSN_REG_SP_OR_ZR 31

/* One decoded LDR/STR/LDRB/LDRH/LDRSB/LDRSH/LDRSW (immediate, pre/post
 * index, register offset, unscaled, unprivileged) or LDP/STP/LDPSW/LDNP/STNP. */
struct mem_insn {
	uint8_t size;  /* bytes per element: 1, 2, 4 or 8 */
	uint8_t count; /* elements: 1, or 2 for a pair */
	bool load;
	bool sign_extend; /* loads: sign-extend each element */
	bool reg64;       /* loads: X destination (else W, upper half zeroed) */
	uint8_t rt, rt2;  /* data registers: 31 = XZR */
	uint8_t rn;       /* base register: 31 = SP */
	bool reg_offset;  /* address = Rn + extend(Rm) << shift */
	uint8_t rm;       /* 31 = XZR */
	uint8_t extend;   /* option: 2 UXTW, 3 LSL/UXTX, 6 SXTW, 7 SXTX */
	uint8_t shift;
	int64_t imm;     /* byte offset for immediate forms */
	bool writeback;  /* Rn is updated */
	bool post_index; /* access at Rn, then Rn += imm (else at Rn + imm) */
};

/* Decodes `insn`; false for anything else (SIMD/FP, atomics, exclusives,
 * literal loads, prefetches, unallocated encodings) and for the encodings
 * the Arm ARM leaves CONSTRAINED UNPREDICTABLE (write-back onto a data
 * register, a pair loaded twice into one register). */
bool insn_decode_mem(uint32_t insn, struct mem_insn *mi);

/* The virtual address the instruction accesses first and, for write-back,
 * the base register's new value. `base` is Rn (SP if Rn = 31), `index` is
 * Rm (0 for XZR). */
uint64_t mem_insn_address(const struct mem_insn *mi, uint64_t base, uint64_t index,
			  uint64_t *new_base);

/* The one or two MMIO accesses that emulate an instruction that faulted on
 * IPA `fault_ipa` at virtual address `far`, with the guest's registers
 * `regs` (regs[31] = the SP of its mode). */
struct mmio_plan {
	unsigned n;
	struct mmio_access acc[2];
	bool writeback;
	uint64_t new_base;
};

/* Fills `plan`; false if the instruction does not explain the fault (it was
 * changed under us, or FAR is not within the access) or the access does not
 * lie in the faulting IPA page. Store values are taken from regs here. */
bool mmio_plan_insn(const struct mem_insn *mi, const uint64_t regs[32], uint64_t far,
		    ipa_t fault_ipa, struct mmio_plan *plan);

/* After the accesses: loaded values into their registers (31 = XZR, the
 * value is dropped) and the written-back base (31 = regs[31], the SP). */
void mmio_plan_apply(const struct mem_insn *mi, const struct mmio_plan *plan, uint64_t regs[32]);
#endif
