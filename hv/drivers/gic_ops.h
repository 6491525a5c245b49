/* What a GIC version's driver provides to drivers/gic.c. */
#ifndef GIC_OPS_H
#define GIC_OPS_H
#include "drivers/gic.h"

struct gic_ops {
	void (*init)(void);
	void (*cpu_init)(void);
	uint32_t (*ack)(void);
	void (*eoi)(uint32_t intid);
	void (*deactivate)(uint32_t intid);
	void (*send_sgi)(unsigned pcpu, unsigned sgi);
	void (*enable)(uint32_t intid, bool on);
	void (*route)(uint32_t intid, unsigned pcpu);
	void (*set_level)(uint32_t intid, bool level);
	void (*write_lr)(unsigned idx, const struct gic_lr *lr);
	void (*read_lr)(unsigned idx, struct gic_lr *lr);
	uint64_t (*elrsr)(void);
	void (*set_underflow)(bool on);
	uint32_t (*misr)(void);
	void (*save)(struct gich_state *s);
	void (*restore)(const struct gich_state *s);
	void (*reset_cpu_if)(void);
};

extern const struct gic_ops gicv2_ops, gicv3_ops;

/* Distributor helpers shared by both versions (same register layout). */
void gicd_init_common(volatile uint8_t *gicd, unsigned nr_irqs, uint32_t group);
void gicd_set_bit(volatile uint8_t *base, unsigned reg, uint32_t intid);
void gicd_set_cfg(volatile uint8_t *base, uint32_t intid, bool level);
#endif
