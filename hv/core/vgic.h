/* The virtual GIC: an emulated distributor (and, for GICv3, per-vCPU
 * redistributors) and list-register management, for GICv2 and GICv3 guests.
 * Only the functions below are used by the rest of the hypervisor. */
#ifndef VGIC_H
#define VGIC_H
#include "drivers/gic.h"
#include "core/mmio.h"
#include "arch/arm64/spinlock.h"
#include "lib/types.h"

struct vm;
struct vcpu;

#define VGIC_NR_IRQS 256 /* INTIDs a guest can use: 32 private + 224 SPIs */

/* Per-interrupt virtual state (SPIs: in the distributor; SGIs/PPIs: per
 * vCPU). Guarded by the VM's vgic lock. */
struct virq {
	uint8_t priority;
	uint8_t enabled : 1, pending : 1, active : 1, edge : 1, hw : 1, in_lr : 1, group1 : 1;
	uint8_t lr_state : 2, lr_source : 3; /* in_lr: its list register when last read */
	uint8_t target;                      /* SPIs: the vCPU the guest routed it to */
};

#define VGIC_BITMAP_WORDS (VGIC_NR_IRQS / 64)

struct vgic_dist {
	spinlock_t lock; /* all virtual interrupt state of the VM */
	uint32_t ctlr;
	struct virq spi[VGIC_NR_IRQS - GIC_NR_PRIV];
	uint64_t irouter[VGIC_NR_IRQS - GIC_NR_PRIV]; /* v3: as written by the guest */
	uint8_t itargets[VGIC_NR_IRQS - GIC_NR_PRIV]; /* v2: as written by the guest */
	uint64_t hw_owned[VGIC_BITMAP_WORDS];         /* SPIs that are passthrough */
	bool warned;                                  /* one log line for odd accesses */
};

struct vgic_cpu {
	struct virq priv[GIC_NR_PRIV];
	uint64_t pending[VGIC_BITMAP_WORDS]; /* INTIDs waiting for a list register */
	uint8_t sgi_sources[16]; /* GICv2: senders (a bit per vCPU) of each pending SGI */
	uint32_t lr_used;        /* list registers holding our entries */
	uint32_t redist_waker;
	bool discard_lrs;     /* the VM was reset: its list registers hand nothing back */
	struct gich_state hw; /* saved virtual interface state while descheduled */
};

/* Per-VM set-up: registers the GICD (and GICR) emulation regions and, for
 * v2, maps the physical GICV page at the guest's GICC address. */
int vgic_init_vm(struct vm *vm);
/* Per-vCPU set-up, on the vCPU's physical CPU before its first entry. */
void vgic_init_vcpu(struct vcpu *vcpu);
/* The VM stopped (every vCPU parked): its distributor as at creation, no
 * SPI pending, active or waiting; each vCPU's list registers are emptied
 * by vgic_init_vcpu at its next start, without handing anything back. */
void vgic_reset_vm(struct vm *vm);
/* A physical SPI that belongs to `vm` (passthrough). */
void vgic_assign_hw_irq(struct vm *vm, uint32_t intid);
/* Makes virtual `intid` pending for `vcpu` (SPIs: for the vCPU the guest
 * routes it to; vcpu may be any of the VM's). Callable from any CPU; kicks the
 * target CPU when it is not the caller's. */
void vgic_inject(struct vm *vm, struct vcpu *vcpu, uint32_t intid);
/* A physical interrupt the hypervisor acked (EOImode=1) and forwards to the
 * vCPU running on this CPU, linked (HW=1) so the guest's deactivation
 * deactivates the physical interrupt. */
void vgic_inject_hw(struct vcpu *vcpu, uint32_t intid);
/* Before returning to the guest on the vCPU's own CPU: move pending virtual
 * interrupts into list registers, reap finished ones, arm underflow. */
void vgic_sync(struct vcpu *vcpu);
/* The maintenance interrupt fired on this CPU. */
void vgic_maintenance(struct vcpu *vcpu);
/* GICv3: the guest wrote ICC_SGI1R_EL1 (trapped). */
void vgic_sgi1r_write(struct vcpu *vcpu, uint64_t value);
#endif
