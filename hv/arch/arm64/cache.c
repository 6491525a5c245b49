/* Cache maintenance by VA (see cache.h). */
#include "arch/arm64/cache.h"

#include "arch/arm64/sysreg.h"

static uint64_t dline(void)
{
	return 4UL << ((read_sysreg(ctr_el0) >> 16) & 0xf); /* CTR_EL0.DminLine, words */
}

void dcache_clean_poc(void *p, uint64_t len)
{
	uint64_t line = dline(), a = ALIGN_DOWN((uint64_t)(uintptr_t)p, line);
	uint64_t end = (uint64_t)(uintptr_t)p + len;

	for (; a < end; a += line)
		__asm__ volatile("dc cvac, %0" ::"r"(a) : "memory");
	__asm__ volatile("dsb ish" ::: "memory");
}

/* DC ZVA zeroes a whole block per instruction where it is allowed. */
static uint64_t zva_block(void)
{
	uint64_t dczid = read_sysreg(dczid_el0);

	return dczid & BIT(4) ? 0 : 4UL << (dczid & 0xf);
}

static void zero_bytes(uint8_t *p, uint64_t n)
{
	while (n--)
		*(volatile uint8_t *)p++ = 0;
}

void mem_zero_poc(void *p, uint64_t len)
{
	uint8_t *a = p, *end = a + len;
	uint64_t blk = zva_block();
	uint8_t *first = blk ? (uint8_t *)ALIGN_UP((uintptr_t)a, blk) : end;
	uint8_t *last = blk ? (uint8_t *)ALIGN_DOWN((uintptr_t)end, blk) : end;

	if (first < last) {
		zero_bytes(a, (uint64_t)(first - a));
		for (uint8_t *b = first; b < last; b += blk)
			__asm__ volatile("dc zva, %0" ::"r"(b) : "memory");
		zero_bytes(last, (uint64_t)(end - last));
	} else {
		zero_bytes(a, len);
	}
	dcache_clean_poc(p, len);
}

void icache_inval_all(void)
{
	__asm__ volatile("dsb ish\n ic ialluis\n dsb ish\n isb" ::: "memory");
}
