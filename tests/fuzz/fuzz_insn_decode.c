/* libFuzzer harness: any instruction word, register file, FAR and fault
 * IPA (all the guest's to choose) go through the decoder, the MMIO plan
 * and its application. A plan must stay on the faulting IPA page with one
 * or two accesses of a legal width, and applying it may change only the
 * registers the instruction names. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arm64/insn_decode.h"

struct input {
	uint32_t insn;
	uint32_t steer;
	uint64_t far, ipa;
	uint64_t regs[32];
	uint64_t loaded[2];
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {0};
	struct mem_insn mi;
	struct mmio_plan plan;
	uint64_t regs[32];

	memcpy(&in, data, size < sizeof(in) ? size : sizeof(in));
	if (!insn_decode_mem(in.insn, &mi))
		return 0;
	if (mi.rt > 31 || mi.rt2 > 31 || mi.rn > 31 || mi.rm > 31 || mi.count < 1 || mi.count > 2)
		abort();
	if (in.steer & 1) { /* mostly a FAR the instruction explains, to reach the plan */
		uint64_t nb, index = mi.rm == 31 ? 0 : in.regs[mi.rm];
		uint64_t va = mem_insn_address(&mi, in.regs[mi.rn], index, &nb);
		in.far = va + in.far % ((uint64_t)mi.size * mi.count);
		in.ipa = (in.ipa & ~0xfffUL) | (in.far & 0xfff);
	}
	if (!mmio_plan_insn(&mi, in.regs, in.far, in.ipa, &plan))
		return 0;
	if (plan.n != mi.count)
		abort();
	for (unsigned i = 0; i < plan.n; i++) {
		const struct mmio_access *a = &plan.acc[i];
		if (a->width != 1 && a->width != 2 && a->width != 4 && a->width != 8)
			abort();
		if (a->addr >> 12 != in.ipa >> 12 || (a->addr + a->width - 1) >> 12 != in.ipa >> 12)
			abort();
		if (a->write && a->width < 8 && a->value >> (a->width * 8))
			abort();
		plan.acc[i].value = in.loaded[i];
	}
	memcpy(regs, in.regs, sizeof(regs));
	mmio_plan_apply(&mi, &plan, regs);
	for (unsigned r = 0; r < 32; r++) {
		bool named =
			(mi.load && (r == mi.rt || (mi.count == 2 && r == mi.rt2)) && r != 31) ||
			(mi.writeback && r == mi.rn);
		if (!named && regs[r] != in.regs[r])
			abort();
	}
	return 0;
}
