/* The lifecycle's stubbed machine (see life_machine.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "life_machine.h"

#include "arch/arm64/cache.h"
#include "blk/blk_hv_backend.h"
#include "console/console.h"
#include "core/vcpu.h"
#include "core/vpwrbtn.h"
#include "drivers/gic.h"
#include "syshyper/hypercall.h"

struct life_machine lm;
const struct sys_config sys_config = {.hv_base = 0x1000, .hv_size = 0x1000};

static void impossible(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "life_machine: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void lm_reset(void)
{
	memset(&lm, 0, sizeof(lm));
	lm.button = -1;
	lm.now = 1000;
}

void lm_setup_vm(unsigned id, enum vm_role role, ipa_t ipa, uint8_t *ram, uint64_t size,
		 unsigned ncpus, unsigned cpu0, uint64_t kernel_off, uint64_t dtb_off)
{
	struct cfg_vm *c = &lm.cfgs[id];
	struct vm *vm = &vms[id];

	*c = (struct cfg_vm){.role = role, .ncpus = ncpus, .nmem = 1};
	snprintf(c->name, sizeof(c->name), "vm%u", id);
	c->mem[0] = (struct cfg_mem){.ipa = ipa, .pa = 0x100000000UL * (id + 1), .size = size};
	c->kernel.pa = c->mem[0].pa + kernel_off;
	c->dtb.pa = c->mem[0].pa + dtb_off;
	memset(vm, 0, sizeof(*vm));
	vm->cfg = c;
	vm->id = id;
	vm->name = c->name;
	vm->ncpus = ncpus;
	lm.regions[id] = (struct guest_region){ipa, size, ram};
	vm->mem = (struct guest_mem){&lm.regions[id], 1};
	for (unsigned i = 0; i < ncpus; i++) {
		vm->vcpus[i] = (struct vcpu){.vm = vm, .id = i, .pcpu = cpu0 + i};
		lm.cpus[cpu0 + i] = (struct pcpu){.id = cpu0 + i, .vcpu = &vm->vcpus[i]};
	}
}

static void run_hook(void (**hook)(void))
{
	void (*h)(void) = *hook;

	*hook = NULL;
	if (h)
		h();
}

/* ---------------------------------------------------------------- stubs */

struct pcpu *this_cpu(void)
{
	return &lm.cpus[lm.cur_cpu];
}
uint64_t timer_now(void)
{
	run_hook(&lm.timer_hook);
	return lm.now;
}
uint64_t timer_ticks_to_us(uint64_t ticks)
{
	return ticks;
}
void local_irq_enable(void)
{
}
void local_irq_disable(void)
{
}
void gic_send_sgi(unsigned pcpu, unsigned sgi)
{
	if (pcpu >= LM_NCPU || sgi >= 4)
		impossible("SGI %u to CPU %u", sgi, pcpu);
	lm.sgis[pcpu][sgi]++;
}
void vgic_inject(struct vm *vm, struct vcpu *vcpu, uint32_t intid)
{
	(void)vcpu;
	if (vm != &vms[0] || intid != HC_VM_EVENT_INTID)
		impossible("interrupt %u into %s", intid, vm->name);
	lm.events++;
}
/* As vpsci.c's: the run flag drops and pending starts are withdrawn; a
 * running vCPU parks later, when the harness says so. */
void vm_power_off(struct vm *vm)
{
	vm->state = VM_STOPPED;
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (vm->vcpus[i].state == VCPU_PENDING_ON)
			vm->vcpus[i].state = VCPU_OFF;
	lm.power_offs++;
}
void vpwrbtn_set(struct vm *vm, bool pressed)
{
	(void)vm;
	lm.button = pressed;
}
void vpwrbtn_reset(struct vm *vm)
{
	(void)vm;
}
/* The clean-up's steps: only with every vCPU parked. */
static void check_parked(const struct vm *vm)
{
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (vm->vcpus[i].state != VCPU_OFF)
			impossible("%s cleaned up with vCPU %u in state %d", vm->name, i,
				   vm->vcpus[i].state);
	if (vm->state != VM_STOPPED)
		impossible("%s cleaned up while it may run", vm->name);
}
void vm_reset_devices(struct vm *vm)
{
	check_parked(vm);
	lm.resets++;
}
void vgic_reset_vm(struct vm *vm)
{
	check_parked(vm);
	lm.vgic_resets++;
}
void console_end_lines(int vm_id)
{
	(void)vm_id;
	lm.lines_ended++;
}
void mem_zero_poc(void *p, uint64_t len)
{
	memset(p, 0, len);
	lm.cleaned++;
}
void dcache_clean_poc(void *p, uint64_t len)
{
	(void)p, (void)len;
	lm.dcache_cleans++;
}
void icache_inval_all(void)
{
	run_hook(&lm.icache_hook);
}
void blk_hv_backend_reap(void)
{
	lm.reaps++;
	if (lm.reap_hook)
		lm.reap_hook();
}
int64_t mediated_hypercall(struct vcpu *vcpu, uint64_t fid, uint64_t a1, uint64_t a2)
{
	(void)vcpu, (void)fid, (void)a1, (void)a2;
	return HC_OK;
}
void *vm_ipa_to_hva(const struct vm *vm, ipa_t ipa, uint64_t len)
{
	return guest_ptr(&vm->mem, ipa, len);
}
