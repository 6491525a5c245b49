/* The physical GIC: probing, and dispatch to the v2 or v3 driver. */
#include "drivers/gic.h"

#include "drivers/dt.h"
#include "drivers/gic_ops.h"
#include "core/print.h"

struct gic_info gic;
static const struct gic_ops *ops;

static int probe_v3(const void *fdt, int node)
{
	gic.version = 3;
	if (dt_get_reg(fdt, node, 0, &gic.gicd, &gic.gicd_size) ||
	    dt_get_reg(fdt, node, 1, &gic.gicr, &gic.gicr_size))
		return -1;
	ops = &gicv3_ops;
	return 0;
}

static int probe_v2(const void *fdt, int node)
{
	gic.version = 2;
	if (dt_get_reg(fdt, node, 0, &gic.gicd, &gic.gicd_size) ||
	    dt_get_reg(fdt, node, 1, &gic.gicc, &gic.gicc_size) ||
	    dt_get_reg(fdt, node, 2, &gic.gich, &gic.gich_size) ||
	    dt_get_reg(fdt, node, 3, &gic.gicv, &gic.gicv_size)) {
		printk("GICv2 without virtualization extensions (GICH/GICV) is not supported\n");
		return -1;
	}
	ops = &gicv2_ops;
	return 0;
}

int gic_probe(const void *fdt)
{
	int node = dt_find_compatible(fdt, -1, "arm,gic-v3");

	if (node >= 0)
		return probe_v3(fdt, node);
	node = dt_find_compatible(fdt, -1, "arm,cortex-a15-gic");
	if (node < 0)
		node = dt_find_compatible(fdt, -1, "arm,gic-400");
	if (node >= 0)
		return probe_v2(fdt, node);
	return -1;
}

void gic_init(void)
{
	ops->init();
}

void gic_cpu_init(void)
{
	ops->cpu_init();
}

uint32_t gic_ack(void)
{
	return ops->ack();
}

void gic_eoi(uint32_t intid)
{
	ops->eoi(intid);
}

void gic_deactivate(uint32_t intid)
{
	ops->deactivate(intid);
}

void gic_send_sgi(unsigned pcpu, unsigned sgi)
{
	ops->send_sgi(pcpu, sgi);
}

void gic_enable(uint32_t intid, bool on)
{
	ops->enable(intid, on);
}

void gic_route_spi(uint32_t intid, unsigned pcpu)
{
	ops->route(intid, pcpu);
}

void gic_set_level(uint32_t intid, bool level)
{
	ops->set_level(intid, level);
}

void gich_write_lr(unsigned idx, const struct gic_lr *lr)
{
	ops->write_lr(idx, lr);
}

void gich_read_lr(unsigned idx, struct gic_lr *lr)
{
	ops->read_lr(idx, lr);
}

uint64_t gich_elrsr(void)
{
	return ops->elrsr();
}

void gich_set_underflow_irq(bool on)
{
	ops->set_underflow(on);
}

uint32_t gich_misr(void)
{
	return ops->misr();
}

void gich_save(struct gich_state *s)
{
	ops->save(s);
}

void gich_restore(const struct gich_state *s)
{
	ops->restore(s);
}

void gich_reset_cpu_if(void)
{
	ops->reset_cpu_if();
}
