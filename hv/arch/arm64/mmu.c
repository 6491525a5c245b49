/* The hypervisor's own stage-1 translation at EL2: an identity map in
 * 1 GiB blocks, device memory below RAM, RAM normal write-back. */
#include "arch/arm64/arch.h"
#include "platform/board.h"
#include "arch/arm64/sysreg.h"

#define MAIR_DEVICE_IDX 0
#define MAIR_NORMAL_IDX 1
#define BLK_VALID BIT(0)
#define BLK_AF BIT(10)
#define BLK_SH_INNER (3UL << 8)
#define BLK_XN BIT(54)
#define GIB (1UL << 30)
#define TCR_T0SZ 25 /* 39-bit VA: the table starts at level 1 */

static uint64_t l1_table[512] __attribute__((aligned(4096)));

void mmu_build_el2_tables(uint64_t ram_base, uint64_t ram_size)
{
	for (uint64_t gb = 0; gb < 512; gb++) {
		uint64_t addr = gb * GIB;
		if (addr < PLAT_DEVICE_LIMIT)
			l1_table[gb] = addr | BLK_VALID | BLK_AF | BLK_XN | (MAIR_DEVICE_IDX << 2);
		else if (addr + GIB > ram_base && addr < ram_base + ram_size)
			l1_table[gb] =
				addr | BLK_VALID | BLK_AF | BLK_SH_INNER | (MAIR_NORMAL_IDX << 2);
	}
}

void mmu_enable_el2(void)
{
	uint64_t parange = read_sysreg(id_aa64mmfr0_el1) & 0xf;
	uint64_t tcr = TCR_T0SZ | (1UL << 8) | (1UL << 10) | (3UL << 12) |
		       ((parange > 5 ? 5 : parange) << 16) | BIT(23) | BIT(31);

	write_sysreg(mair_el2,
		     (0xffUL << (8 * MAIR_NORMAL_IDX)) | (0x04UL << (8 * MAIR_DEVICE_IDX)));
	write_sysreg(tcr_el2, tcr);
	write_sysreg(ttbr0_el2, (uint64_t)l1_table);
	dsb(sy);
	__asm__ volatile("tlbi alle2" ::: "memory");
	dsb(sy);
	isb();
	/* RES1 bits, M (MMU), C (data cache), SA (stack alignment), I (icache) */
	write_sysreg(sctlr_el2, 0x30c50830UL | BIT(0) | BIT(2) | BIT(3) | BIT(12));
	isb();
}
