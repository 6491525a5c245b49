/* Stage-2 translation tables (4 KiB granule): guest IPA -> host PA. */
#ifndef STAGE2_H
#define STAGE2_H
#include "lib/types.h"

struct s2_table {
	uint64_t *root;
	unsigned ipa_bits;    /* input size, from the CPU's PARange */
	unsigned start_level; /* 0 or 1 */
};

/* S2_READ_ONLY: normal memory the guest may read but not write or execute
 * (a write is a stage-2 permission fault): a virtio-mmio read page. */
enum s2_mem { S2_NORMAL, S2_DEVICE, S2_READ_ONLY };

/* IPA bits the CPU supports for a given ID_AA64MMFR0_EL1.PARange. */
unsigned s2_ipa_bits_from_parange(unsigned parange);
int s2_init(struct s2_table *t, unsigned ipa_bits);
/* Maps [ipa, ipa+size) -> [pa, pa+size), all 4 KiB aligned; uses 2 MiB
 * blocks where alignment allows. -1 on misalignment, overflow, an input
 * outside ipa_bits, an already-mapped range, or no memory. */
int s2_map(struct s2_table *t, ipa_t ipa, paddr_t pa, uint64_t size, enum s2_mem type);
/* Walks the tables: 0 and *pa if ipa is mapped, -1 otherwise. */
int s2_translate(const struct s2_table *t, ipa_t ipa, paddr_t *pa);
/* VTCR_EL2 value for these tables. */
uint64_t s2_vtcr(const struct s2_table *t, unsigned parange);
#endif
