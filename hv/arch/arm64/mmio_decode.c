/* Data-abort syndrome decoding for MMIO emulation (Arm ARM, ESR_ELx ISS
 * for data aborts: ISV, SAS, SSE, SRT, SF, WnR). */
#include "core/mmio.h"

#define ISS_ISV BIT(24)
#define ISS_SAS(iss) (((iss) >> 22) & 3)
#define ISS_SSE BIT(21)
#define ISS_SRT(iss) (((iss) >> 16) & 31)
#define ISS_SF BIT(15)
#define ISS_WNR BIT(6)

bool mmio_decode(uint64_t esr, uint64_t far_ipa, struct mmio_access *acc)
{
	uint64_t iss = esr & 0x1ffffff;

	if (!(iss & ISS_ISV))
		return false;
	acc->addr = far_ipa;
	acc->width = 1u << ISS_SAS(iss);
	acc->write = iss & ISS_WNR;
	acc->sign_extend = !acc->write && (iss & ISS_SSE);
	acc->reg64 = iss & ISS_SF;
	acc->reg = ISS_SRT(iss);
	acc->value = 0;
	return true;
}

uint64_t mmio_load_result(const struct mmio_access *acc, uint64_t raw)
{
	unsigned bits = acc->width * 8;
	uint64_t v = bits == 64 ? raw : raw & ((1UL << bits) - 1);

	if (acc->sign_extend && bits < 64 && (v & (1UL << (bits - 1))))
		v |= ~0UL << bits;
	if (!acc->reg64)
		v &= 0xffffffffUL;
	return v;
}
