/* Physical interrupts at EL2: the hypervisor's own (IPIs, its timer, the
 * maintenance interrupt, the UART) and those it forwards to guests. */
#include "core/irq.h"

#include "arch/arm64/arch.h"
#include "console/console.h"
#include "drivers/gic.h"
#include "blk/mediated.h"
#include "net/virtio_net.h"
#include "platform/board.h"
#include "core/print.h"
#include "drivers/uart.h"
#include "core/vm.h"

static struct vm *irq_owner[GIC_MAX_INTID];

void irq_set_owner(uint32_t intid, struct vm *vm)
{
	if (intid < GIC_MAX_INTID)
		irq_owner[intid] = vm;
}

static void console_rx(void)
{
	int c;

	while ((c = uart_getc()) >= 0)
		console_input((char)c);
}

/* Hypervisor-owned interrupts; false if `intid` is not one. */
static bool handle_own(struct vcpu *vcpu, uint32_t intid)
{
	if (intid == IPI_WORK) {
		mediated_work();
		return true;
	}
	if (intid == IPI_NET) { /* not IPI_WORK: the MVM's work stays on the MVM's CPU */
		virtio_net_work();
		return true;
	}
	if (intid < 16) /* other IPIs: their work happens on the way back to the guest */
		return true;
	switch (intid) {
	case PPI_MAINT: /* also without a vCPU: its condition must be cleared */
		vgic_maintenance(vcpu);
		return true;
	case PPI_HYP_TIMER:
		hv_timer_irq();
		mediated_tick();
		virtio_net_tick();
		vm_life_tick();
		return true;
	case PLAT_UART_IRQ:
		console_rx();
		return true;
	default:
		return false;
	}
}

/* Forwards to the running vCPU, linked so its deactivation reaches the GIC.
 * Both EL1 timers (virtual and physical) belong to the vCPU. */
static bool forward(struct vcpu *vcpu, uint32_t intid)
{
	if (!vcpu)
		return false;
	if (intid != PPI_VTIMER && intid != PPI_PTIMER &&
	    (intid < 32 || irq_owner[intid] != vcpu->vm))
		return false;
	vgic_inject_hw(vcpu, intid);
	return true;
}

void irq_dispatch(struct vcpu *vcpu)
{
	for (;;) {
		uint32_t intid = gic_ack();
		if (intid >= GIC_MAX_INTID)
			return;
		gic_eoi(intid);
		if (handle_own(vcpu, intid)) {
			gic_deactivate(intid);
		} else if (!forward(vcpu, intid)) {
			/* nobody to take it (its vCPU is off): drop, don't storm */
			gic_deactivate(intid);
			if (intid >= 32)
				gic_enable(intid, false);
		}
	}
}
