/* GICv2 driver with virtualization extensions: distributor, memory-mapped
 * CPU interface (EOImode=1), and the GICH virtual interface control. */
#include "drivers/gic_ops.h"
#include "drivers/gic_regs.h"
#include "core/percpu.h"
#include "arch/arm64/sysreg.h"

#define PRIO 0xa0
#define LR_HW BIT(31)
#define LR_GRP1 BIT(30)
#define LR_STATE_SHIFT 28
#define LR_PRIO_SHIFT 23 /* 5 bits: priority >> 3 */
#define LR_PID_SHIFT 10
#define LR_EOI BIT(19)    /* without HW: maintenance interrupt on EOI */
#define LR_CPUID_SHIFT 10 /* without HW: an SGI's source CPU (GICV_IAR 12:10) */

static volatile uint8_t *gicd, *gicc, *gich;
static uint8_t cpu_mask[MAX_PCPUS]; /* GICD_ITARGETSR bit of each CPU */
/* IAR values of acked SGIs: EOI/DIR must repeat the source CPU field. */
static uint32_t sgi_iar[MAX_PCPUS][16];

static inline void w32(volatile uint8_t *b, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(b + off) = v;
}
static inline uint32_t r32(volatile uint8_t *b, unsigned off)
{
	return *(volatile uint32_t *)(b + off);
}

static void v2_init(void)
{
	gicd = (volatile uint8_t *)gic.gicd;
	gicc = (volatile uint8_t *)gic.gicc;
	gich = (volatile uint8_t *)gic.gich;
	w32(gicd, GICD_CTLR, 0);
	gic.nr_irqs = MIN(32 * ((r32(gicd, GICD_TYPER) & 0x1f) + 1), 1020u);
	gicd_init_common(gicd, gic.nr_irqs, 0);
	w32(gicd, GICD_CTLR, 1);
}

static void v2_cpu_init(void)
{
	struct pcpu *cpu = this_cpu();

	/* ITARGETSR0..7 read back this CPU's own interface bit */
	cpu_mask[cpu->id] = (uint8_t)r32(gicd, GICD_ITARGETSR);
	w32(gicd, GICD_IGROUPR, 0);
	w32(gicd, GICD_ICENABLER, ~0u);
	w32(gicd, GICD_ICACTIVER, ~0u);
	for (unsigned i = 0; i < 32; i += 4)
		w32(gicd, GICD_IPRIORITYR + i, PRIO * 0x01010101u);
	w32(gicd, GICD_ISENABLER,
	    0xffffu | BIT(PPI_MAINT) | BIT(PPI_HYP_TIMER) | BIT(PPI_VTIMER) | BIT(PPI_PTIMER));
	w32(gicc, GICC_PMR, 0xff);
	w32(gicc, GICC_BPR, 0);
	w32(gicc, GICC_CTLR, 1u | BIT(9) | BIT(10)); /* enable, EOImode split */
	gic.nr_lrs = (r32(gich, GICH_VTR) & 0x3f) + 1;
	w32(gich, GICH_VMCR, 0);
	w32(gich, GICH_HCR, ICH_HCR_EN);
}

static uint32_t v2_ack(void)
{
	uint32_t iar = r32(gicc, GICC_IAR);
	uint32_t intid = iar & 0x3ff;

	if (intid < 16)
		sgi_iar[this_cpu()->id][intid] = iar;
	return intid;
}

static uint32_t raw_of(uint32_t intid)
{
	return intid < 16 ? sgi_iar[this_cpu()->id][intid] : intid;
}

static void v2_eoi(uint32_t intid)
{
	w32(gicc, GICC_EOIR, raw_of(intid));
}

static void v2_deactivate(uint32_t intid)
{
	w32(gicc, GICC_DIR, raw_of(intid));
}

static void v2_send_sgi(unsigned pcpu, unsigned sgi)
{
	dsb(ish);
	w32(gicd, GICD_SGIR, (uint32_t)cpu_mask[pcpu] << 16 | (sgi & 0xf));
}

static void v2_enable(uint32_t intid, bool on)
{
	gicd_set_bit(gicd, on ? GICD_ISENABLER : GICD_ICENABLER, intid);
}

static void v2_route(uint32_t intid, unsigned pcpu)
{
	if (intid >= 32 && intid < gic.nr_irqs)
		*(volatile uint8_t *)(gicd + GICD_ITARGETSR + intid) = cpu_mask[pcpu];
}

static void v2_set_level(uint32_t intid, bool level)
{
	if (intid >= 32)
		gicd_set_cfg(gicd, intid, level);
}

static void v2_write_lr(unsigned idx, const struct gic_lr *lr)
{
	uint32_t v = (lr->vintid & 0x3ff) | (uint32_t)(lr->priority >> 3) << LR_PRIO_SHIFT |
		     (uint32_t)(lr->state & 3) << LR_STATE_SHIFT | (lr->group1 ? LR_GRP1 : 0);

	if (lr->hw)
		v |= LR_HW | (lr->pintid & 0x3ff) << LR_PID_SHIFT;
	else
		v |= (uint32_t)(lr->source & 7) << LR_CPUID_SHIFT | (lr->eoi ? LR_EOI : 0);
	w32(gich, GICH_LR0 + 4 * idx, v);
}

static void v2_read_lr(unsigned idx, struct gic_lr *lr)
{
	uint32_t v = r32(gich, GICH_LR0 + 4 * idx);

	lr->vintid = v & 0x3ff;
	lr->hw = v & LR_HW;
	lr->pintid = lr->hw ? (v >> LR_PID_SHIFT) & 0x3ff : 0;
	lr->priority = (uint8_t)(((v >> LR_PRIO_SHIFT) & 0x1f) << 3);
	lr->state = (v >> LR_STATE_SHIFT) & 3;
	lr->group1 = v & LR_GRP1;
	lr->source = lr->hw ? 0 : (uint8_t)((v >> LR_CPUID_SHIFT) & 7);
	lr->eoi = !lr->hw && (v & LR_EOI);
}

static uint64_t v2_elrsr(void)
{
	return r32(gich, GICH_ELRSR0) | (uint64_t)r32(gich, GICH_ELRSR0 + 4) << 32;
}

static void v2_set_underflow(bool on)
{
	uint32_t h = r32(gich, GICH_HCR);
	w32(gich, GICH_HCR, on ? h | ICH_HCR_UIE : h & ~ICH_HCR_UIE);
}

static uint32_t v2_misr(void)
{
	return r32(gich, GICH_MISR);
}

static void v2_save(struct gich_state *s)
{
	s->vmcr = r32(gich, GICH_VMCR);
	s->hcr = r32(gich, GICH_HCR);
	s->apr[0] = r32(gich, GICH_APR);
}

static void v2_restore(const struct gich_state *s)
{
	w32(gich, GICH_VMCR, (uint32_t)s->vmcr);
	w32(gich, GICH_HCR, (uint32_t)s->hcr | ICH_HCR_EN);
	w32(gich, GICH_APR, s->apr[0]);
}

static void v2_reset_cpu_if(void)
{
	w32(gich, GICH_VMCR, 0);
	w32(gich, GICH_APR, 0);
}

const struct gic_ops gicv2_ops = {
	.init = v2_init,
	.cpu_init = v2_cpu_init,
	.ack = v2_ack,
	.eoi = v2_eoi,
	.deactivate = v2_deactivate,
	.send_sgi = v2_send_sgi,
	.enable = v2_enable,
	.route = v2_route,
	.set_level = v2_set_level,
	.write_lr = v2_write_lr,
	.read_lr = v2_read_lr,
	.elrsr = v2_elrsr,
	.set_underflow = v2_set_underflow,
	.misr = v2_misr,
	.save = v2_save,
	.restore = v2_restore,
	.reset_cpu_if = v2_reset_cpu_if,
};
