/* The fuzzer's bytes (see fuzz_input.h). */
#include "fuzz_input.h"

#include <string.h>

uint64_t fin_le(struct fuzz_in *in, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes && i < 8; i++)
		v |= (uint64_t)fin_u8(in) << (8 * i);
	return v;
}

uint8_t fin_u8(struct fuzz_in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

uint16_t fin_u16(struct fuzz_in *in)
{
	return (uint16_t)(fin_u8(in) | fin_u8(in) << 8);
}

uint32_t fin_u32(struct fuzz_in *in)
{
	uint32_t lo = fin_u16(in);
	return lo | (uint32_t)fin_u16(in) << 16;
}

uint64_t fin_u64(struct fuzz_in *in)
{
	uint64_t lo = fin_u32(in);
	return lo | (uint64_t)fin_u32(in) << 32;
}

size_t fin_bytes(struct fuzz_in *in, void *dst, size_t len)
{
	size_t n = len < in->n ? len : in->n;

	memcpy(dst, in->p, n);
	in->p += n;
	in->n -= n;
	return n;
}
