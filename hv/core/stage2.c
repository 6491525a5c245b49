/* Stage-2 table building (see stage2.h). Pure logic over palloc(): the
 * host unit tests run it with the tables in ordinary memory. */
#include "core/stage2.h"

#include "core/page_alloc.h"

#define DESC_VALID BIT(0)
#define DESC_TABLE BIT(1) /* at levels 0-2; at level 3 it marks a page */
#define DESC_AF BIT(10)
#define DESC_SH_INNER (3UL << 8)
#define DESC_S2AP_RW (3UL << 6)
#define DESC_S2AP_RO (1UL << 6)
#define DESC_MEMATTR_NORMAL (0xfUL << 2) /* outer+inner write-back */
#define DESC_MEMATTR_DEVICE (0x1UL << 2) /* Device-nGnRE */
#define DESC_XN (2UL << 53)              /* stage-2 XN[1:0] = 0b10 */
#define DESC_ADDR_MASK 0x0000fffffffff000UL

static const unsigned parange_bits[] = {32, 36, 40, 42, 44, 48, 52};

unsigned s2_ipa_bits_from_parange(unsigned parange)
{
	unsigned bits = parange < ARRAY_SIZE(parange_bits) ? parange_bits[parange] : 48;

	return bits > 48 ? 48 : bits; /* 52-bit needs LPA2 descriptors: not used */
}

static unsigned level_shift(unsigned level)
{
	return 12 + 9 * (3 - level);
}

int s2_init(struct s2_table *t, unsigned ipa_bits)
{
	if (ipa_bits < 32 || ipa_bits > 48)
		return -1;
	t->ipa_bits = ipa_bits;
	t->start_level = ipa_bits > 39 ? 0 : 1;
	t->root = palloc(1);
	return t->root ? 0 : -1;
}

static uint64_t leaf_attrs(enum s2_mem type)
{
	uint64_t a = DESC_VALID | DESC_AF;

	if (type == S2_DEVICE)
		return a | DESC_S2AP_RW | DESC_MEMATTR_DEVICE | DESC_XN;
	if (type == S2_READ_ONLY)
		return a | DESC_S2AP_RO | DESC_MEMATTR_NORMAL | DESC_SH_INNER | DESC_XN;
	return a | DESC_S2AP_RW | DESC_MEMATTR_NORMAL | DESC_SH_INNER;
}

static unsigned index_at(ipa_t ipa, unsigned level)
{
	return (ipa >> level_shift(level)) & 511;
}

/* The next-level table under `entry`, created if absent; NULL if the entry
 * is a block (already mapped) or memory ran out. */
static uint64_t *next_table(uint64_t *entry)
{
	if (*entry & DESC_VALID) {
		if (!(*entry & DESC_TABLE))
			return NULL;
		return (uint64_t *)(uintptr_t)(*entry & DESC_ADDR_MASK);
	}
	uint64_t *table = palloc(1);
	if (!table)
		return NULL;
	*entry = ((uint64_t)(uintptr_t)table & DESC_ADDR_MASK) | DESC_VALID | DESC_TABLE;
	return table;
}

static int map_one(struct s2_table *t, ipa_t ipa, paddr_t pa, unsigned leaf_level, uint64_t attrs)
{
	uint64_t *table = t->root;

	for (unsigned level = t->start_level; level < leaf_level; level++) {
		table = next_table(&table[index_at(ipa, level)]);
		if (!table)
			return -1;
	}
	uint64_t *entry = &table[index_at(ipa, leaf_level)];
	if (*entry & DESC_VALID)
		return -1;
	*entry = (pa & DESC_ADDR_MASK) | attrs | (leaf_level == 3 ? DESC_TABLE : 0);
	return 0;
}

int s2_map(struct s2_table *t, ipa_t ipa, paddr_t pa, uint64_t size, enum s2_mem type)
{
	uint64_t attrs = leaf_attrs(type);

	if (!IS_ALIGNED(ipa | pa | size, PAGE_SIZE) || size == 0)
		return -1;
	if (ipa + size < ipa || pa + size < pa || ((ipa + size - 1) >> t->ipa_bits) != 0)
		return -1;
	if (((pa + size - 1) >> 48) != 0)
		return -1;
	while (size) {
		bool block = IS_ALIGNED(ipa | pa, SZ_2M) && size >= SZ_2M;
		uint64_t step = block ? SZ_2M : PAGE_SIZE;
		if (map_one(t, ipa, pa, block ? 2 : 3, attrs))
			return -1;
		ipa += step;
		pa += step;
		size -= step;
	}
	return 0;
}

int s2_translate(const struct s2_table *t, ipa_t ipa, paddr_t *pa)
{
	const uint64_t *table = t->root;

	if ((ipa >> t->ipa_bits) != 0)
		return -1;
	for (unsigned level = t->start_level; level <= 3; level++) {
		uint64_t e = table[index_at(ipa, level)];
		if (!(e & DESC_VALID))
			return -1;
		bool is_table = (e & DESC_TABLE) && level < 3;
		if (!is_table) {
			uint64_t off_mask = (1UL << level_shift(level)) - 1;
			*pa = (e & DESC_ADDR_MASK & ~off_mask) | (ipa & off_mask);
			return 0;
		}
		table = (const uint64_t *)(uintptr_t)(e & DESC_ADDR_MASK);
	}
	return -1;
}

uint64_t s2_vtcr(const struct s2_table *t, unsigned parange)
{
	uint64_t sl0 = t->start_level == 0 ? 2 : 1;

	return (64 - t->ipa_bits) | (sl0 << 6) | (1UL << 8)               /* IRGN0 WBWA */
	       | (1UL << 10)                                              /* ORGN0 WBWA */
	       | (3UL << 12)                                              /* inner shareable */
	       | ((uint64_t)(parange > 5 ? 5 : parange) << 16) | BIT(31); /* RES1 */
}
