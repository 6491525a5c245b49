/* The GVMs' virtual power buttons (see vpwrbtn.h): one emulated PL061 per
 * GVM at the board's guest GPIO address, its line PWRBTN_LINE pressed by
 * HC_VM_STOP(HC_STOP_REQUEST) and released by the VM's CPU's tick. */
#include "core/vpwrbtn.h"

#include "arch/arm64/spinlock.h"
#include "core/vgic.h"
#include "core/vm.h"
#include "platform/board.h"

struct vpwrbtn {
	struct vm *vm;
	spinlock_t lock;
	struct pl061 regs;
	bool present;
};

static struct vpwrbtn btns[CFG_MAX_VMS];

static bool mmio(struct vcpu *vcpu, struct mmio_access *acc, void *dev)
{
	struct vpwrbtn *b = dev;
	uint32_t off = (uint32_t)(acc->addr & 0xfff); /* the region is one 4 KiB page */
	bool raise = false;

	(void)vcpu;
	/* 32-bit registers; Linux's gpio-pl061 reads and writes their low byte
	 * (readb/writeb), the AMBA bus reads the IDs with readl */
	if ((acc->width != 4 && acc->width != 1) || (off & 3))
		return false;
	spin_lock(&b->lock);
	if (acc->write)
		raise = pl061_write(&b->regs, off, (uint32_t)acc->value);
	else
		acc->value = pl061_read(&b->regs, off);
	spin_unlock(&b->lock);
	if (raise)
		vgic_inject(b->vm, NULL, PLAT_GUEST_GPIO_IRQ);
	return true;
}

int vpwrbtn_create(struct vm *vm)
{
	struct vpwrbtn *b = &btns[vm->id];

	b->vm = vm;
	pl061_reset(&b->regs);
	b->present = true;
	return vm_register_mmio(vm, PLAT_GUEST_GPIO_IPA, 0x1000, mmio, b);
}

void vpwrbtn_set(struct vm *vm, bool pressed)
{
	struct vpwrbtn *b = &btns[vm->id];
	bool raise;

	if (!b->present)
		return;
	spin_lock(&b->lock);
	raise = pl061_set_input(&b->regs, PWRBTN_LINE, pressed);
	spin_unlock(&b->lock);
	if (raise)
		vgic_inject(vm, NULL, PLAT_GUEST_GPIO_IRQ);
}

void vpwrbtn_reset(struct vm *vm)
{
	struct vpwrbtn *b = &btns[vm->id];

	spin_lock(&b->lock);
	pl061_reset(&b->regs);
	spin_unlock(&b->lock);
}
