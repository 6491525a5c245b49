/* libFuzzer harness: arbitrary bytes become a guest's memory holding the
 * descriptor table, avail ring and indirect tables; the walker must never
 * touch memory outside it, never loop, and every buffer it returns must lie
 * inside the guest region. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/virtq.h"

#define MEM_IPA 0x40000000UL
#define MEM_SIZE 0x1000UL /* small, so short inputs reach every ring */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *mem;
	struct guest_region region;
	struct guest_mem gm = {&region, 1};
	struct virtq vq = {0};
	struct virtq_chain chain;

	if (size < 4)
		return 0;
	if (!mem)
		mem = malloc(MEM_SIZE);
	memset(mem, 0, MEM_SIZE);
	memcpy(mem, data + 4, size - 4 < MEM_SIZE ? size - 4 : MEM_SIZE);
	region = (struct guest_region){MEM_IPA, MEM_SIZE, mem};
	vq.num = 1u << (data[0] % 5); /* 1..16 */
	vq.indirect = data[1] & 1;
	vq.event_idx = data[1] & 2;
	vq.desc_ipa = MEM_IPA;
	vq.avail_ipa = MEM_IPA + 0x100 + (data[2] & 0x7e);
	vq.used_ipa = MEM_IPA + 0x200 + (data[3] & 0x3c) * 4;
	if (virtq_enable(&vq, &gm) != VQ_OK)
		return 0;
	for (int i = 0; i < 300; i++) {
		int r = virtq_pop(&vq, &gm, &chain);
		if (r != VQ_OK)
			break;
		for (unsigned b = 0; b < chain.nbufs; b++) {
			const struct virtq_buf *buf = &chain.bufs[b];
			if (buf->hva < mem || buf->hva + buf->len > mem + MEM_SIZE)
				abort();
		}
		virtq_push(&vq, chain.head, (uint32_t)chain.writable_len);
		virtq_needs_interrupt(&vq);
	}
	return 0;
}
