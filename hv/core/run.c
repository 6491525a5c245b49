/* Running vCPUs on their physical CPU: start, resume after a trap, halt,
 * and the idle loop of a CPU without a running vCPU. */
#include "arch/arm64/arch.h"
#include "core/vcpu.h"
#include "core/percpu.h"
#include "core/print.h"
#include "arch/arm64/sysreg.h"
#include "core/vm.h"

/* WFI is not trapped (no HCR_TWI): each vCPU owns its physical CPU, and a
 * guest's WFI at EL1 wakes on the physical interrupts routed to EL2 and on
 * a virtual interrupt in a list register alike, so a trap would only add
 * an exit and an entry to every idle period (one per request at QD1). */
#define GUEST_HCR (HCR_VM | HCR_RW | HCR_IMO | HCR_FMO | HCR_AMO | HCR_TSC | HCR_FB | HCR_BSU_IS)

struct vcpu *current_vcpu(void)
{
	return this_cpu()->vcpu;
}

static void load_vm_context(struct vcpu *vcpu)
{
	write_sysreg(vttbr_el2, vcpu->vm->vttbr);
	write_sysreg(vtcr_el2, vm_vtcr());
	write_sysreg(hcr_el2, GUEST_HCR);
	write_sysreg(vmpidr_el2, vcpu->vmpidr | BIT(31));
	write_sysreg(vpidr_el2, read_sysreg(midr_el1));
	isb();
	/* a VM restarted on this CPU must not hit its previous life's TLB entries */
	__asm__ volatile("tlbi vmalls12e1\n dsb nsh" ::: "memory");
	isb();
}

void vcpu_resume(struct vcpu *vcpu)
{
	vgic_sync(vcpu);
	vcpu->stats.entered_at = timer_now();
	guest_enter(vcpu);
}

void vcpu_start(struct vcpu *vcpu)
{
	vcpu_reset(vcpu, vcpu->on_entry, vcpu->on_ctx);
	timer_guest_stop(); /* the physical timer starts off; the virtual one is restored */
	debug_pmu_reset();  /* not context-switched: a previous instance's values go */
	vcpu_restore_el1(&vcpu->el1);
	fp_restore(&vcpu->fp);
	load_vm_context(vcpu);
	vgic_init_vcpu(vcpu);
	/* a guest can switch vCPUs off and on in a loop: rate-limited */
	vm_log(vcpu->vm, LOG_PSCI, "vCPU %u starts on CPU %u at 0x%lx\n", vcpu->id, vcpu->pcpu,
	       (unsigned long)vcpu->regs.elr);
	vm_life_entered(vcpu);
	vcpu_resume(vcpu);
}

void vcpu_halt(struct vcpu *vcpu)
{
	/* the guest's last stores are seen before OFF (the clean-up on vCPU
	 * 0's CPU zeroes RAM once all are OFF), and OFF before our read of
	 * the lifecycle state in vm_life_parked (a kick not lost) */
	dsb(ish);
	__atomic_store_n(&vcpu->state, VCPU_OFF, __ATOMIC_SEQ_CST);
	timer_guest_stop(); /* no timer of a stopped vCPU may fire */
	write_sysreg(hcr_el2, HCR_RW | HCR_IMO | HCR_FMO | HCR_AMO);
	isb();
	vm_life_parked(vcpu);
	pcpu_idle();
}

void pcpu_idle(void)
{
	struct pcpu *cpu = this_cpu();

	for (;;) {
		local_irq_disable();
		struct vcpu *v = cpu->vcpu;
		vm_life_idle(v);              /* a stopped VM is cleaned up on its own CPU */
		if (v && vcpu_claim_start(v)) /* RUNNING now, unless the VM stopped */
			vcpu_start(v);
		wfi(); /* wakes on a pending interrupt even while masked */
		local_irq_enable();
	}
}
