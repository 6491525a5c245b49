/* Distributor programming common to GICv2 and GICv3 (same SPI registers). */
#include "drivers/gic_ops.h"
#include "drivers/gic_regs.h"

#define DEFAULT_PRIO 0xa0

static inline void w32(volatile uint8_t *base, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(base + off) = v;
}

static inline uint32_t r32(volatile uint8_t *base, unsigned off)
{
	return *(volatile uint32_t *)(base + off);
}

/* All SPIs: disabled, inactive, not pending, `group`, default priority. */
void gicd_init_common(volatile uint8_t *gicd, unsigned nr_irqs, uint32_t group)
{
	for (unsigned i = 32; i < nr_irqs; i += 32) {
		w32(gicd, GICD_ICENABLER + i / 8, ~0u);
		w32(gicd, GICD_ICPENDR + i / 8, ~0u);
		w32(gicd, GICD_ICACTIVER + i / 8, ~0u);
		w32(gicd, GICD_IGROUPR + i / 8, group);
	}
	for (unsigned i = 32; i < nr_irqs; i += 4)
		w32(gicd, GICD_IPRIORITYR + i, DEFAULT_PRIO * 0x01010101u);
}

/* One bit of a set/clear register bank (ISENABLER etc.). */
void gicd_set_bit(volatile uint8_t *base, unsigned reg, uint32_t intid)
{
	w32(base, reg + (intid / 32) * 4, 1u << (intid % 32));
}

void gicd_set_cfg(volatile uint8_t *base, uint32_t intid, bool level)
{
	unsigned off = GICD_ICFGR + (intid / 16) * 4;
	uint32_t shift = (intid % 16) * 2 + 1;
	uint32_t v = r32(base, off);

	v = level ? v & ~(1u << shift) : v | (1u << shift);
	w32(base, off, v);
}
