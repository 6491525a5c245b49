/* The fuzzer's bytes, consumed front to back (zeros once exhausted), for
 * every libFuzzer harness. */
#ifndef FUZZ_INPUT_H
#define FUZZ_INPUT_H
#include <stddef.h>
#include <stdint.h>

struct fuzz_in {
	const uint8_t *p;
	size_t n;
};
/* The next `bytes` (0-8) bytes as a little-endian number. */
uint64_t fin_le(struct fuzz_in *in, unsigned bytes);
uint8_t fin_u8(struct fuzz_in *in);
uint16_t fin_u16(struct fuzz_in *in);
uint32_t fin_u32(struct fuzz_in *in);
uint64_t fin_u64(struct fuzz_in *in);
/* Copies up to `len` bytes (fewer if the input ends); returns how many. */
size_t fin_bytes(struct fuzz_in *in, void *dst, size_t len);
#endif
