/* Statistics on the hypervisor console (Ctrl-] s) and the VM list (Ctrl-] l). */
#include "core/vdevs.h"
#include "arch/arm64/arch.h"
#include "blk/mediated.h"
#include "core/page_alloc.h"
#include "core/print.h"
#include "core/stats.h"
#include "core/vm.h"

const char *const trap_cause_names[TRAP_NR] = {"dabt",   "hvc", "smc",  "wfx",
					       "sysreg", "irq", "other"};

static void print_vcpu(const struct vm *vm, const struct vcpu *v)
{
	const struct vcpu_stats *s = &v->stats;

	printk("%s/%u cpu%u dabt %lu hvc %lu smc %lu wfx %lu sysreg %lu irq %lu other %lu | "
	       "mmio r %lu w %lu decoded %lu hcalls %lu injected %lu aborts %lu undefs %lu "
	       "guest %lu ms\n",
	       vm->name, v->id, v->pcpu, (unsigned long)s->traps[TRAP_DABT],
	       (unsigned long)s->traps[TRAP_HVC], (unsigned long)s->traps[TRAP_SMC],
	       (unsigned long)s->traps[TRAP_WFI], (unsigned long)s->traps[TRAP_SYSREG],
	       (unsigned long)s->traps[TRAP_IRQ], (unsigned long)s->traps[TRAP_OTHER],
	       (unsigned long)s->mmio_reads, (unsigned long)s->mmio_writes,
	       (unsigned long)s->mmio_decoded, (unsigned long)s->hypercalls,
	       (unsigned long)s->irqs_injected, (unsigned long)s->aborts_injected,
	       (unsigned long)s->undefs_injected,
	       (unsigned long)(timer_ticks_to_us(s->guest_ticks) / 1000));
}

void stats_print_all(void)
{
	printk("statistics (per vCPU): traps by cause, MMIO, hypercalls, IRQs and exceptions "
	       "injected, time in guest (idle WFI included)\n");
	for (unsigned i = 0; i < nvms; i++)
		for (unsigned c = 0; c < vms[i].ncpus; c++)
			print_vcpu(&vms[i], &vms[i].vcpus[c]);
	/* a resource counter that must come back to its value after VMs stop */
	printk("hypervisor: free pages %lu, mediated slots in flight %u\n",
	       (unsigned long)palloc_free_pages(), mediated_slots_in_flight());
	vdevs_print_stats();
}

void vm_list_print(void)
{
	for (unsigned i = 0; i < nvms; i++) {
		struct hc_vm_info info = {0};
		vm_life_fill_info(&vms[i], &info);
		printk("vm %u: %s %s, %u vCPU(s), up %lu s, %lu restart(s)%s%s\n", i, vms[i].name,
		       vm_life_state_name(&vms[i]), vms[i].ncpus,
		       (unsigned long)(info.uptime_ms / 1000), (unsigned long)info.restarts,
		       info.reason[0] ? ": " : "", info.reason);
	}
}
