/* GICv3 driver: distributor, per-CPU redistributor, system-register CPU
 * interface (EOImode=1), and the ICH_* virtual interface. */
#include "drivers/gic_ops.h"
#include "drivers/gic_regs.h"
#include "core/percpu.h"
#include "core/print.h"
#include "arch/arm64/sysreg.h"

#define PRIO 0xa0
static volatile uint8_t *gicd;
static volatile uint8_t *rd_sgi[MAX_PCPUS]; /* each CPU's SGI frame */

static inline void w32(volatile uint8_t *b, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(b + off) = v;
}
static inline uint32_t r32(volatile uint8_t *b, unsigned off)
{
	return *(volatile uint32_t *)(b + off);
}
static inline void w64(volatile uint8_t *b, unsigned off, uint64_t v)
{
	*(volatile uint64_t *)(b + off) = v;
}
static inline uint64_t r64(volatile uint8_t *b, unsigned off)
{
	return *(volatile uint64_t *)(b + off);
}

static void wait_rwp(void)
{
	while (r32(gicd, GICD_CTLR) & GICD_CTLR_RWP)
		;
}

/* MPIDR affinity in the GICD_IROUTER / GICR_TYPER layout. */
static uint64_t irouter_aff(uint64_t mpidr)
{
	return mpidr & MPIDR_AFF_MASK;
}

static uint32_t typer_aff(uint64_t mpidr)
{
	return (uint32_t)(((mpidr >> 32) & 0xff) << 24 | (mpidr & 0xffffff));
}

static void v3_init(void)
{
	gicd = (volatile uint8_t *)gic.gicd;
	w32(gicd, GICD_CTLR, 0);
	wait_rwp();
	gic.nr_irqs = MIN(32 * ((r32(gicd, GICD_TYPER) & 0x1f) + 1), 1020u);
	gicd_init_common(gicd, gic.nr_irqs, ~0u);
	for (unsigned i = 32; i < gic.nr_irqs; i++)
		w64(gicd, GICD_IROUTER + 8 * i, irouter_aff(pcpu_mpidr(0)));
	w32(gicd, GICD_CTLR, (1u << 4) | (1u << 1) | 1u); /* ARE, EnableGrp1, EnableGrp0 */
	wait_rwp();
}

static volatile uint8_t *find_redist(uint64_t mpidr)
{
	volatile uint8_t *rd = (volatile uint8_t *)gic.gicr;
	volatile uint8_t *end = rd + gic.gicr_size;

	while (rd < end) {
		uint64_t typer = r64(rd, GICR_TYPER);
		if ((uint32_t)(typer >> 32) == typer_aff(mpidr))
			return rd;
		if (typer & GICR_TYPER_LAST)
			break;
		rd += (typer & GICR_TYPER_VLPIS) ? 2 * GICR_FRAME : GICR_FRAME;
	}
	return NULL;
}

static void v3_cpu_init(void)
{
	struct pcpu *cpu = this_cpu();
	volatile uint8_t *rd = find_redist(cpu->mpidr);

	if (!rd)
		panic("CPU %u: no GICv3 redistributor for MPIDR 0x%lx\n", cpu->id,
		      (unsigned long)cpu->mpidr);
	w32(rd, GICR_WAKER, r32(rd, GICR_WAKER) & ~GICR_WAKER_SLEEP);
	while (r32(rd, GICR_WAKER) & GICR_WAKER_ASLEEP)
		;
	volatile uint8_t *sgi = rd + GICR_SGI_BASE;
	rd_sgi[cpu->id] = sgi;
	w32(sgi, GICD_IGROUPR, ~0u);
	w32(sgi, GICD_ICENABLER, ~0u);
	w32(sgi, GICD_ICACTIVER, ~0u);
	for (unsigned i = 0; i < 32; i += 4)
		w32(sgi, GICD_IPRIORITYR + i, PRIO * 0x01010101u);
	/* IPIs, maintenance, hypervisor timer, guests' EL1 timers */
	w32(sgi, GICD_ISENABLER,
	    0xffffu | BIT(PPI_MAINT) | BIT(PPI_HYP_TIMER) | BIT(PPI_VTIMER) | BIT(PPI_PTIMER));

	write_sysreg(ICC_SRE_EL2, 0xf); /* SRE, DFB, DIB, Enable (EL1 may use SRE) */
	isb();
	write_sysreg(ICC_PMR_EL1, 0xff);
	write_sysreg(ICC_BPR1_EL1, 0);
	write_sysreg(ICC_CTLR_EL1, BIT(1)); /* EOImode: drop and deactivate apart */
	write_sysreg(ICC_IGRPEN1_EL1, 1);
	gic.nr_lrs = (read_sysreg(ICH_VTR_EL2) & 0x1f) + 1;
	write_sysreg(ICH_VMCR_EL2, 0);
	write_sysreg(ICH_HCR_EL2, ICH_HCR_EN);
	isb();
}

static uint32_t v3_ack(void)
{
	uint32_t v = (uint32_t)read_sysreg(ICC_IAR1_EL1) & 0xffffff;
	dsb(sy);
	return v;
}

static void v3_eoi(uint32_t intid)
{
	write_sysreg(ICC_EOIR1_EL1, intid);
	isb();
}

static void v3_deactivate(uint32_t intid)
{
	write_sysreg(ICC_DIR_EL1, intid);
	isb();
}

static void v3_send_sgi(unsigned pcpu, unsigned sgi)
{
	uint64_t m = pcpu_mpidr(pcpu);
	uint64_t v = ((m >> 32) & 0xff) << 48 | ((m >> 16) & 0xff) << 32 | ((m >> 8) & 0xff) << 16 |
		     (uint64_t)(sgi & 0xf) << 24 | (1u << (m & 0xf));

	dsb(ish);
	write_sysreg(ICC_SGI1R_EL1, v);
	isb();
}

static void v3_enable(uint32_t intid, bool on)
{
	if (intid < 32) {
		volatile uint8_t *sgi = rd_sgi[this_cpu()->id];
		w32(sgi, on ? GICD_ISENABLER : GICD_ICENABLER, 1u << intid);
	} else {
		gicd_set_bit(gicd, on ? GICD_ISENABLER : GICD_ICENABLER, intid);
		wait_rwp();
	}
}

static void v3_route(uint32_t intid, unsigned pcpu)
{
	if (intid >= 32 && intid < gic.nr_irqs)
		w64(gicd, GICD_IROUTER + 8 * intid, irouter_aff(pcpu_mpidr(pcpu)));
}

static void v3_set_level(uint32_t intid, bool level)
{
	if (intid >= 32)
		gicd_set_cfg(gicd, intid, level);
}

#define LR_ENC(n) S3_4_C12_C12_##n
#define LR_ENC_HI(n) S3_4_C12_C13_##n

static uint64_t lr_read_raw(unsigned i)
{
	switch (i) {
	case 0:
		return read_sysreg(LR_ENC(0));
	case 1:
		return read_sysreg(LR_ENC(1));
	case 2:
		return read_sysreg(LR_ENC(2));
	case 3:
		return read_sysreg(LR_ENC(3));
	case 4:
		return read_sysreg(LR_ENC(4));
	case 5:
		return read_sysreg(LR_ENC(5));
	case 6:
		return read_sysreg(LR_ENC(6));
	case 7:
		return read_sysreg(LR_ENC(7));
	case 8:
		return read_sysreg(LR_ENC_HI(0));
	case 9:
		return read_sysreg(LR_ENC_HI(1));
	case 10:
		return read_sysreg(LR_ENC_HI(2));
	case 11:
		return read_sysreg(LR_ENC_HI(3));
	case 12:
		return read_sysreg(LR_ENC_HI(4));
	case 13:
		return read_sysreg(LR_ENC_HI(5));
	case 14:
		return read_sysreg(LR_ENC_HI(6));
	default:
		return read_sysreg(LR_ENC_HI(7));
	}
}

static void lr_write_raw(unsigned i, uint64_t v)
{
	switch (i) {
	case 0:
		write_sysreg(LR_ENC(0), v);
		break;
	case 1:
		write_sysreg(LR_ENC(1), v);
		break;
	case 2:
		write_sysreg(LR_ENC(2), v);
		break;
	case 3:
		write_sysreg(LR_ENC(3), v);
		break;
	case 4:
		write_sysreg(LR_ENC(4), v);
		break;
	case 5:
		write_sysreg(LR_ENC(5), v);
		break;
	case 6:
		write_sysreg(LR_ENC(6), v);
		break;
	case 7:
		write_sysreg(LR_ENC(7), v);
		break;
	case 8:
		write_sysreg(LR_ENC_HI(0), v);
		break;
	case 9:
		write_sysreg(LR_ENC_HI(1), v);
		break;
	case 10:
		write_sysreg(LR_ENC_HI(2), v);
		break;
	case 11:
		write_sysreg(LR_ENC_HI(3), v);
		break;
	case 12:
		write_sysreg(LR_ENC_HI(4), v);
		break;
	case 13:
		write_sysreg(LR_ENC_HI(5), v);
		break;
	case 14:
		write_sysreg(LR_ENC_HI(6), v);
		break;
	default:
		write_sysreg(LR_ENC_HI(7), v);
		break;
	}
}

static void v3_write_lr(unsigned idx, const struct gic_lr *lr)
{
	uint64_t v = lr->vintid | (uint64_t)lr->priority << 48 | (uint64_t)(lr->state & 3) << 62 |
		     (lr->group1 ? BIT(60) : 0);

	if (lr->hw)
		v |= BIT(61) | (uint64_t)(lr->pintid & 0x1fff) << 32;
	else if (lr->eoi)
		v |= BIT(41); /* maintenance interrupt on EOI */
	lr_write_raw(idx, v);
}

static void v3_read_lr(unsigned idx, struct gic_lr *lr)
{
	uint64_t v = lr_read_raw(idx);

	lr->vintid = (uint32_t)v;
	lr->pintid = (uint32_t)(v >> 32) & 0x1fff;
	lr->priority = (uint8_t)(v >> 48);
	lr->state = (uint8_t)(v >> 62);
	lr->hw = v & BIT(61);
	lr->group1 = v & BIT(60);
	lr->source = 0;
	lr->eoi = !lr->hw && (v & BIT(41));
}

static uint64_t v3_elrsr(void)
{
	return read_sysreg(ICH_ELRSR_EL2);
}

static void v3_set_underflow(bool on)
{
	uint64_t h = read_sysreg(ICH_HCR_EL2);
	write_sysreg(ICH_HCR_EL2, on ? h | ICH_HCR_UIE : h & ~(uint64_t)ICH_HCR_UIE);
	isb();
}

static uint32_t v3_misr(void)
{
	return (uint32_t)read_sysreg(ICH_MISR_EL2);
}

static void v3_save(struct gich_state *s)
{
	s->vmcr = read_sysreg(ICH_VMCR_EL2);
	s->hcr = read_sysreg(ICH_HCR_EL2);
	s->apr[0] = (uint32_t)read_sysreg(ICH_AP1R0_EL2);
}

static void v3_restore(const struct gich_state *s)
{
	write_sysreg(ICH_VMCR_EL2, s->vmcr);
	write_sysreg(ICH_HCR_EL2, s->hcr | ICH_HCR_EN);
	write_sysreg(ICH_AP1R0_EL2, s->apr[0]);
	isb();
}

/* ICH_VTR_EL2.PREbits (preemption bits - 1) says how many of the four
 * ICH_AP0R<n>/AP1R<n> exist: 5 bits one, 6 two, 7 four. */
static void v3_reset_cpu_if(void)
{
	unsigned pre = (unsigned)((read_sysreg(ICH_VTR_EL2) >> 26) & 7) + 1;

	write_sysreg(ICH_VMCR_EL2, 0);
	write_sysreg(ICH_AP0R0_EL2, 0);
	write_sysreg(ICH_AP1R0_EL2, 0);
	if (pre >= 6) {
		write_sysreg(ICH_AP0R1_EL2, 0);
		write_sysreg(ICH_AP1R1_EL2, 0);
	}
	if (pre >= 7) {
		write_sysreg(ICH_AP0R2_EL2, 0);
		write_sysreg(ICH_AP0R3_EL2, 0);
		write_sysreg(ICH_AP1R2_EL2, 0);
		write_sysreg(ICH_AP1R3_EL2, 0);
	}
	isb();
}

const struct gic_ops gicv3_ops = {
	.init = v3_init,
	.cpu_init = v3_cpu_init,
	.ack = v3_ack,
	.eoi = v3_eoi,
	.deactivate = v3_deactivate,
	.send_sgi = v3_send_sgi,
	.enable = v3_enable,
	.route = v3_route,
	.set_level = v3_set_level,
	.write_lr = v3_write_lr,
	.read_lr = v3_read_lr,
	.elrsr = v3_elrsr,
	.set_underflow = v3_set_underflow,
	.misr = v3_misr,
	.save = v3_save,
	.restore = v3_restore,
	.reset_cpu_if = v3_reset_cpu_if,
};
