/* The physical GIC (v2 or v3, probed from the board DTB): the
 * hypervisor's own interrupt handling and the virtualization interface
 * (list registers) the vGIC programs. */
#ifndef GIC_H
#define GIC_H
#include "lib/types.h"

#define GIC_SPURIOUS 1023
#define GIC_MAX_INTID 1020
#define GIC_NR_PRIV 32 /* SGIs + PPIs */

/* PPIs used by the hypervisor (QEMU virt / architectural defaults). */
#define PPI_MAINT 25     /* virtual interface maintenance */
#define PPI_HYP_TIMER 26 /* CNTHP, the hypervisor's timer */
#define PPI_VTIMER 27    /* CNTV, the guests' virtual timer */
#define PPI_PTIMER 30    /* CNTP */

/* Physical SGIs the hypervisor sends between its CPUs. */
enum hv_ipi {
	IPI_KICK = 0,    /* re-evaluate the vCPU's pending virtual interrupts */
	IPI_VCPU_ON = 1, /* a vCPU was given to this CPU (PSCI CPU_ON) */
	IPI_WORK = 2,    /* per-CPU work queue (mediated I/O etc.) */
	IPI_STOP = 3,    /* stop the vCPU running here */
	IPI_NET = 4,     /* a VM's own CPU takes its virtio-net TX queue */
};

struct gic_info {
	int version; /* 2 or 3 */
	paddr_t gicd, gicr, gicc, gich, gicv;
	uint64_t gicd_size, gicr_size, gicc_size, gich_size, gicv_size;
	unsigned nr_irqs; /* from GICD_TYPER */
	unsigned nr_lrs;
};

extern struct gic_info gic;

int gic_probe(const void *fdt); /* fills `gic` from the DTB; -1 if no GIC */
void gic_init(void);            /* distributor: once, boot CPU, all SPIs off */
void gic_cpu_init(void);        /* CPU interface/redistributor + EL2 virtual iface */
uint32_t gic_ack(void);         /* INTID of the highest pending, GIC_SPURIOUS if none */
void gic_eoi(uint32_t intid);   /* priority drop (EOImode=1) */
void gic_deactivate(uint32_t intid);
void gic_send_sgi(unsigned pcpu, unsigned sgi);
void gic_enable(uint32_t intid, bool on);
void gic_route_spi(uint32_t intid, unsigned pcpu);
void gic_set_level(uint32_t intid, bool level); /* trigger: level or edge */

/* A list-register entry in version-independent form. */
struct gic_lr {
	uint32_t vintid;
	uint32_t pintid; /* with hw: deactivation of vintid deactivates pintid */
	uint8_t priority;
	uint8_t state; /* LR_STATE_* */
	bool hw;
	bool group1;
	uint8_t source; /* GICv2 SGIs without hw: the sending CPU, shown in GICV_IAR */
	bool eoi;       /* without hw: maintenance interrupt when the guest EOIs it */
};
#define LR_STATE_INVALID 0
#define LR_STATE_PENDING 1
#define LR_STATE_ACTIVE 2
#define LR_STATE_PENDING_ACTIVE 3

void gich_write_lr(unsigned idx, const struct gic_lr *lr);
void gich_read_lr(unsigned idx, struct gic_lr *lr);
uint64_t gich_elrsr(void);            /* bitmap of empty LRs */
void gich_set_underflow_irq(bool on); /* maintenance IRQ when LRs (nearly) empty */
uint32_t gich_misr(void);
/* Saved/restored virtual CPU interface state (VMCR, APRs, HCR). */
struct gich_state {
	uint64_t vmcr, hcr;
	uint32_t apr[4];
};
void gich_save(struct gich_state *s);
void gich_restore(const struct gich_state *s);
/* This CPU's virtual CPU interface as after a reset: no active priorities
 * (ICH_AP0R/AP1R, GICH_APR) and VMCR 0, so a vCPU that starts here does not
 * inherit the previous one's (an interrupt it acknowledged and never
 * EOI'd would keep masking its priority). */
void gich_reset_cpu_if(void);
uint64_t pcpu_mpidr(unsigned pcpu); /* provided by the core: MPIDR of a physical CPU */
#endif
